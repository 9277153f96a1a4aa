"""What the class assignment panel walks through: whole images (class folders or a manifest) or cell crops."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builder.annotation.classes import (
    class_of,
    crop_classes,
    crop_name,
    manifest_labels,
    move_to_class,
    object_boxes,
    save_crop,
    set_manifest_label,
)
from builder.annotation.classes import (
    manifest_paths as read_manifest_paths,
)
from builder.data.layouts import list_images


@dataclass
class ImageItem:
    """One image whose class is its folder (``class_folders``) or its manifest row (``manifest``)."""

    path: Path
    root: Path
    manifest: Path | None = None
    label: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def pixels(self) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
        """(pixels, outline labels or None, channel names)."""
        from gui.pages.data import read_array

        array, names = read_array(self.path)
        return array, None, names

    def assign(self, name: str) -> None:
        """Write the class: move the file into its class folder, or set its manifest row."""
        if self.manifest is not None:
            set_manifest_label(self.manifest, self.path.relative_to(self.root).as_posix(), name)
        else:
            self.path = move_to_class(self.path, self.root, name)
        self.label = name


@dataclass
class CropItem:
    """One cell of an image with an instance mask, shown as its crop; saved as ``root/<class>/<crop>.tif``."""

    image: np.ndarray
    labels: np.ndarray
    object_id: int
    box: tuple[int, int, int, int]
    root: Path
    file_name: str
    label: str | None = None
    channel_names: list[str] | None = None

    @property
    def name(self) -> str:
        return f"cell {self.object_id}"

    def pixels(self) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
        r0, r1, c0, c1 = self.box
        mine = np.where(self.labels[r0:r1, c0:c1] == self.object_id, self.object_id, 0)
        return self.image[r0:r1, c0:c1], mine, self.channel_names

    def assign(self, name: str) -> None:
        save_crop(self.image, self.box, self.root, name, self.file_name)
        self.label = name


def folder_items(root: Path, classes: list[str]) -> list[ImageItem]:
    """Images of a ``class_folders`` dataset: unsorted ones (at ``root``) first, then each class folder."""
    root = Path(root)
    folders = [*classes, *sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in classes
                                 and not p.name.startswith("."))]
    items = [ImageItem(p, root) for p in list_images(root)]
    for folder in folders:
        items += [ImageItem(p, root, label=class_of(p, root)) for p in list_images(root / folder)]
    return items


def manifest_items(root: Path, manifest: Path) -> list[ImageItem]:
    """The images of a manifest dataset with their labels: the manifest's rows, plus the other images in the
    folders those rows point to (new images, not listed yet); every image under ``root`` when it has no rows."""
    root = Path(root)
    known = manifest_labels(manifest) if Path(manifest).is_file() else {}
    listed = [root / name for name in read_manifest_paths(manifest)]
    folders = sorted({p.parent for p in listed}) or [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    images = list(dict.fromkeys([*listed, *(p for folder in folders for p in list_images(folder))]))
    return [ImageItem(p, root, Path(manifest), known.get(p.relative_to(root).as_posix())) for p in images
            if p.is_file()]


def crop_items(image_path: Path, image: np.ndarray, labels: np.ndarray, root: Path, pad: int = 6,
               channel_names: list[str] | None = None) -> list[CropItem]:
    """One item per object of ``labels``, with the class of a crop already saved under ``root``."""
    known = crop_classes(root, image_path)
    return [CropItem(image, labels, object_id, box, Path(root), crop_name(image_path, object_id),
                     known.get(object_id), channel_names) for object_id, box in object_boxes(labels, pad).items()]
