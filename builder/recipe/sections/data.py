"""The ``data:`` section: where the images are and how they are split."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from builder.recipe.fields import MAX_SEED, Section, field

Layout = Literal["folders", "class_folders", "manifest", "paired", "noisy_only", "ctc", "demo"]


class Split(Section):
    """How images are divided into training, validation and test sets."""

    mode: Literal["random", "folders"] = field(
        "random",
        help="'random': a seeded random split by whole image; 'folders': use train/validation/test sub-folders.",
        label="Split mode",
        common=True,
    )
    validation: float = field(
        0.15, help="Fraction of images kept for validation (random split).", ge=0.0, lt=1.0, common=True
    )
    test: float = field(0.15, help="Fraction of images kept for the final test (random split).", ge=0.0, lt=1.0)
    seed: int = field(42, help="Random seed of the split; the same seed gives the same split.", ge=0, le=MAX_SEED)
    stratify: bool = field(True, help="Keep class proportions equal across splits (classification).")
    train_folder: str = field("train", help="Sub-folder with training data when mode is 'folders'.")
    validation_folder: str = field("validation", help="Sub-folder with validation data when mode is 'folders'.")
    test_folder: str = field("test", help="Sub-folder with test data when mode is 'folders'.")

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> Split:
        if self.mode == "random" and self.validation + self.test >= 1.0:
            raise ValueError(
                f"validation ({self.validation}) + test ({self.test}) must be below 1 so that some images "
                "are left for training; lower one of them (0.15 each is usual)"
            )
        return self


class DataSection(Section):
    """Where the images (and masks, labels or targets) are, how they are laid out and split."""

    layout: Layout = field(
        "folders",
        help=(
            "How files are organised: 'folders' (images/ + masks/), 'class_folders' (one folder per class), "
            "'manifest' (a CSV of path,label or image,mask), 'paired' (source/ + target/), "
            "'noisy_only' (noisy images for self-supervised denoising), 'ctc' (Cell Tracking Challenge), "
            "'demo' (built-in synthetic data)."
        ),
        label="Dataset layout",
        common=True,
    )
    root: str = field(
        ".", help="Folder holding the data, relative to the recipe file.", label="Data folder", common=True,
        widget="folder",
    )
    images: str = field("images", help="Sub-folder (under root) with the input images.", widget="folder")
    masks: str | None = field(
        None, help="Sub-folder (under root) with masks named like the images; needed for segmentation.",
        widget="folder",
    )
    targets: str | None = field(
        None, help="Sub-folder (under root) with target images for image-to-image tasks (same names as images).",
        widget="folder",
    )
    manifest: str | None = field(
        None, help="CSV file (under root) listing the files: 'path,label' or 'image,mask' per row.", widget="path"
    )
    demo: str | None = field(
        None,
        help="Built-in demo data set to generate when layout is 'demo' (e.g. 'nuclei', 'cells', 'denoise').",
        suggested=["nuclei", "cells", "denoise", "label_free", "timelapse"],
    )
    pattern: str = field(
        "*", help="File-name pattern of the images to use, e.g. '*.tif'.", label="File pattern"
    )
    channels: list[str] | None = field(
        None,
        help="Names of the image channels in the order the model sees them, e.g. [DAPI, GFP]; "
        "can choose and reorder channels of multi-channel files.",
        common=True,
    )
    file_channels: list[str] | None = field(
        None, help="Names of the channels as stored in the files, when the files do not name them."
    )
    classes: list[str] | None = field(
        None,
        help="Class names: classification labels, or the names of the mask values 0,1,2,... for "
        "semantic segmentation. Found from the folders when left out.",
        common=True,
    )
    mask_kind: Literal["auto", "binary", "classes", "instances"] = field(
        "auto", help="What mask values mean: binary foreground, class indices or instance labels."
    )
    pixel_size: float | None = field(
        None, help="Pixel size in micrometres when the files do not say it.", gt=0.0, le=10000.0, unit="µm"
    )
    split: Split = field(default_factory=Split, help="How the images are divided into training, validation and test.")
    skip_unreadable: bool = field(
        False, help="Skip files that cannot be read (they are listed in the report) instead of stopping."
    )
