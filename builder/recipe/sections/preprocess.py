"""The ``preprocess:`` section: normalisation, resampling and patch sampling."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from builder.recipe.fields import Section, field


class Normalize(Section):
    """How pixel values are scaled before the network sees them."""

    method: Literal["percentile", "minmax", "zscore", "fixed", "none"] = field(
        "percentile",
        help="'percentile' maps the low/high percentiles to 0/1 (the field's convention), 'minmax', "
        "'zscore' (mean 0, std 1), 'fixed' (fixed_min..fixed_max to 0..1) or 'none'.",
        common=True,
    )
    low: float = field(1.0, help="Lower percentile for 'percentile' normalisation.", ge=0.0, le=100.0, unit="%")
    high: float = field(99.8, help="Upper percentile for 'percentile' normalisation.", ge=0.0, le=100.0, unit="%")
    per: Literal["image", "dataset"] = field(
        "image", help="Compute the statistics for each image or once over the whole training set."
    )
    per_channel: bool = field(True, help="Normalise each channel on its own.")
    fixed_min: float = field(0.0, help="Value mapped to 0 when method is 'fixed'.", ge=-1e12, le=1e12)
    fixed_max: float = field(65535.0, help="Value mapped to 1 when method is 'fixed'.", ge=-1e12, le=1e12)
    clip: bool = field(False, help="Clip normalised values to [0, 1].")

    @model_validator(mode="after")
    def _order(self) -> Normalize:
        if self.method == "percentile" and self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high}); 1 and 99.8 are usual")
        if self.method == "fixed" and self.fixed_min >= self.fixed_max:
            raise ValueError(f"fixed_min ({self.fixed_min}) must be below fixed_max ({self.fixed_max})")
        return self


class Patches(Section):
    """How training patches are cut from the images."""

    size: int = field(
        128, help="Side of the square training patches.", ge=8, le=4096, unit="px", common=True,
        suggested=[64, 128, 256, 512], label="Patch size",
    )
    per_image: int = field(8, help="Patches drawn from each training image per epoch.", ge=1, le=10000)
    foreground_fraction: float = field(
        0.5, help="Share of patches forced to contain foreground (segmentation); 0 means purely random.",
        ge=0.0, le=1.0,
    )
    balance: Literal["pixels", "objects"] = field(
        "pixels", help="How the foreground patches are centred: on a random foreground pixel ('pixels': large "
        "objects are seen most), or on a random object ('objects': small objects, such as cells cut by the image "
        "edge or just divided, are seen as often as large ones).",
    )


class Tiling(Section):
    """How whole images are cut into overlapping tiles for prediction."""

    size: int = field(256, help="Side of the square tiles used for prediction (when an image does not fit in "
                      "memory in one piece).", ge=16, le=8192, unit="px")
    overlap: int = field(32, help="Least overlap between neighbouring tiles (blended smoothly); widened to the "
                         "network's receptive field, so tiles give the same result as the whole image.",
                         ge=0, le=4096, unit="px")
    whole_image: bool = field(True, help="Predict an image in one network call when it fits in memory (faster; "
                              "tiles are used only for larger images).")


class PreprocessSection(Section):
    """Normalisation, resampling and patch sampling."""

    normalize: Normalize = field(default_factory=Normalize, help="How pixel values are scaled.")
    target_normalize: Normalize | None = field(
        None, help="Normalisation of target images (image-to-image); same as 'normalize' when left out."
    )
    resample_to: float | None = field(
        None, help="Resample every image to this pixel size before training and prediction.", gt=0.0, le=10000.0,
        unit="µm",
    )
    object_diameter: Annotated[float, Field(ge=1.0, le=4096.0)] | Literal["auto"] | None = field(
        None, help="Typical diameter of the objects (cells, nuclei) in the training images, in pixels, or 'auto' to "
        "measure it from the training masks (median). Images are rescaled so objects are target_diameter pixels "
        "across before the network sees them; no pixel size in µm is needed. Predict rescales new images the same "
        "way (or by their own diameter: cellwright predict --diameter).", common=True, unit="px",
    )
    target_diameter: float = field(
        30.0, help="Object diameter the network works at (with object_diameter); 30 px suits the receptive field "
        "of a depth-3 U-Net (about 100 px).", ge=4.0, le=512.0, unit="px",
    )
    image_size: int | None = field(
        None, help="Resize whole images to this square size (classification of cell crops).", ge=8, le=4096, unit="px"
    )
    patch: Patches = field(default_factory=Patches, help="Training patches cut from the images.")
    tile: Tiling = field(default_factory=Tiling, help="Tiles used to predict whole images of any size.")

    @model_validator(mode="after")
    def _one_scale(self) -> PreprocessSection:
        if self.resample_to is not None and self.object_diameter is not None:
            raise ValueError("set either resample_to (a pixel size in µm) or object_diameter (objects in pixels), "
                             "not both")
        return self
