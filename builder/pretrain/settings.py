"""``PretrainSettings``: what a ``cellwright pretrain`` job does (checked before any image is read)."""

from __future__ import annotations

from typing import Literal

from builder.fields import MAX_SEED, Section, field


class PretrainSettings(Section):
    """Self-supervised pre-training by masked-image reconstruction on unlabelled images."""

    images: str = field(..., widget="path", help="Folder of unlabelled images (sub-folders are searched too).")
    out: str = field("pretrained_encoder.keras", widget="path",
                     help="Where the encoder is saved (.keras); use it with `backbone: {from: FILE}` in a recipe.")
    size: int = field(64, ge=16, le=1024, unit="px",
                      help="Side of the square inputs: whole images are resized to it (fit: resize) or cut into "
                      "crops of it (fit: crop). Use the recipe's image size for a classifier.")
    fit: Literal["auto", "resize", "crop"] = field(
        "auto", help="'resize' whole images (cell crops), 'crop' random squares (large images); 'auto' resizes for "
        "a classification recipe and crops otherwise.")
    crops_per_image: int = field(8, ge=1, le=1000, help="Random crops taken from each image (fit: crop).")
    epochs: int = field(30, ge=1, le=10_000, unit="epochs", help="Passes over the unlabelled images.")
    batch_size: int = field(32, ge=1, le=4096, help="Images per step.")
    learning_rate: float = field(1e-3, gt=0.0, le=1.0, help="Adam step size.")
    depth: int = field(3, ge=1, le=6, help="Levels of the encoder (each halves the image), as the classifier's "
                       "small CNN.")
    base_filters: int = field(16, ge=1, le=512, help="Channels of the first encoder level; doubled per level.")
    mask_ratio: float = field(0.5, gt=0.0, lt=1.0, help="Fraction of the image hidden in each step.")
    mask_patch: int = field(8, ge=1, le=256, unit="px", help="Side of one hidden square.")
    seed: int = field(0, ge=0, le=MAX_SEED, help="Random seed (masks, crops, weights).")
