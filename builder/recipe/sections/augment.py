"""The ``augment:`` section: random changes applied to training images (and, identically, to masks)."""

from __future__ import annotations

from builder.recipe.fields import MAX_SEED, Section, field


class AugmentSection(Section):
    """Random changes applied identically to image and mask during training."""

    enabled: bool = field(True, help="Switch all augmentation on or off.", common=True)
    flip: bool = field(True, help="Random horizontal and vertical flips.", common=True)
    rotate90: bool = field(True, help="Random rotations by multiples of 90 degrees.", common=True)
    rotate: float = field(0.0, help="Random rotation up to this many degrees (0 = off).", ge=0.0, le=180.0, unit="°")
    scale: float = field(
        0.0, help="Random zoom in/out by up to this fraction, e.g. 0.2 for 0.8-1.2x (0 = off).", ge=0.0, lt=1.0
    )
    elastic: float = field(
        0.0, help="Strength of the elastic deformation in pixels (0 = off).", ge=0.0, le=50.0, unit="px"
    )
    elastic_sigma: float = field(10.0, help="Smoothness of the elastic deformation field.", gt=0.0, le=100.0, unit="px")
    brightness: float = field(0.1, help="Random brightness shift of up to this amount (0 = off).", ge=0.0, le=1.0)
    contrast: float = field(0.1, help="Random contrast change of up to this fraction (0 = off).", ge=0.0, le=1.0)
    gamma: float = field(0.0, help="Random gamma change of up to this fraction (0 = off).", ge=0.0, lt=1.0)
    gaussian_noise: float = field(0.0, help="Standard deviation of added Gaussian noise (0 = off).", ge=0.0, le=1.0)
    poisson_noise: float = field(
        0.0, help="Strength of added Poisson (shot) noise, 0-1 (0 = off).", ge=0.0, le=1.0
    )
    blur: float = field(0.0, help="Largest Gaussian blur sigma (0 = off).", ge=0.0, le=10.0, unit="px")
    channel_shuffle: bool = field(False, help="Randomly reorder channels (only when channels are interchangeable).")
    channel_drop: float = field(0.0, help="Probability of zeroing one channel (multi-channel images).", ge=0.0, le=1.0)
    probability: float = field(
        0.5, help="Probability that each intensity/geometry change is applied to a sample.", ge=0.0, le=1.0
    )
    seed: int | None = field(None, help="Seed for augmentation; by default the training seed is used.",
                             ge=0, le=MAX_SEED)
