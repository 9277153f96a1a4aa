"""The table of built-in demo data kinds (no NumPy: the CLI lists them in --help without loading it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoKind:
    """What a demo kind is, its task, its default size and the folders it writes."""

    name: str
    task: str
    summary: str
    n_images: int
    size: int
    pixel_size_um: float
    folders: tuple[str, ...]
    count_means: str = "images"


DEMO_KINDS: dict[str, DemoKind] = {
    k.name: k
    for k in (
        DemoKind("nuclei", "instance_segmentation",
                 "fluorescent nuclei (uint16) with instance masks: touching and overlapping nuclei",
                 24, 128, 0.65, ("images", "masks")),
        DemoKind("cells", "classification",
                 "single-cell crops of 3 classes (round, elongated, granular), one folder per class",
                 40, 64, 0.5, ("round", "elongated", "granular"), "crops per class"),
        DemoKind("denoise", "image_to_image",
                 "noisy low-light fluorescence of filaments and vesicles (images/) with clean targets (targets/)",
                 16, 128, 0.1, ("images", "targets")),
        DemoKind("label_free", "image_to_image",
                 "phase-contrast-like transmitted-light images (images/) with nuclear-stain fluorescence (targets/)",
                 16, 128, 0.65, ("images", "targets")),
        DemoKind("timelapse", "tracking",
                 "time-lapse of moving, dividing, entering, leaving and dying nuclei, Cell Tracking Challenge layout",
                 20, 128, 0.65, ("01", "01_GT"), "frames"),
    )
}
