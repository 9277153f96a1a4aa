"""What an export needs besides the Keras model: names, normalisation, credits and a test input.

:class:`ExportMetadata` is the one object every exporter takes (bundle, bioimage.io, ONNX, SavedModel).
:func:`metadata_from_recipe` fills it from a resolved recipe (a dict, as read from ``recipe.yaml``).
No TensorFlow here: this module is imported by the CLI.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, field_validator

from builder.errors import ExportError
from builder.recipe.fields import Section, field
from builder.recipe.sections.evaluate import Author
from builder.tasks import DEFAULT_TASK, get_task

#: Axes of the model input; only batch, Y, X, channel for now.
SUPPORTED_AXES = ("byxc",)


class Normalization(Section):
    """How raw pixel values were scaled before the network saw them (mirrors ``preprocess.normalize``)."""

    method: Literal["percentile", "minmax", "zscore", "fixed", "none"] = field(
        "percentile", help="Normalisation method used in training."
    )
    low: float = field(1.0, help="Lower percentile ('percentile').", ge=0.0, le=100.0, unit="%")
    high: float = field(99.8, help="Upper percentile ('percentile').", ge=0.0, le=100.0, unit="%")
    per: Literal["image", "dataset"] = field("image", help="Statistics per image or over the training set.")
    per_channel: bool = field(True, help="Each channel normalised on its own.")
    min: list[float] | None = field(
        None, help="Value(s) mapped to 0 ('fixed', or dataset statistics), one per channel or one for all."
    )
    max: list[float] | None = field(None, help="Value(s) mapped to 1 ('fixed', or dataset statistics).")
    mean: list[float] | None = field(None, help="Dataset mean(s) for 'zscore' with per: dataset.")
    std: list[float] | None = field(None, help="Dataset standard deviation(s) for 'zscore' with per: dataset.")
    clip: bool = field(False, help="Normalised values clipped to [0, 1].")


class Citation(Section):
    """A reference for the model or its method."""

    text: str = field(..., help="Citation text, e.g. 'Doe et al. (2025) Nuclei in tissue. Nat Methods.'")
    doi: str | None = field(None, help="DOI without the https://doi.org/ prefix, e.g. 10.1038/s41592-020-01018-x.")
    url: str | None = field(None, help="Web address of the publication.")


class ExportMetadata(Section):
    """Everything an export writes next to the network weights."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, arbitrary_types_allowed=True)

    name: str = field(..., help="Model name (letters, digits, spaces, - _ ( )).", min_length=1, max_length=128)
    description: str = field("", help="One or two sentences on what the model does.")
    task: str = field(..., help="What the model predicts (a trainable task, see `cellwright new --help`).")
    axes: str = field("byxc", help="Axes of the input tensor: batch, Y, X, channel.")
    channel_names: list[str] = field(default_factory=list, help="Names of the input channels, in model order.")
    class_names: list[str] = field(default_factory=list, help="Names of the output classes (or output channels).")
    pixel_size: float | None = field(None, help="Pixel size the model was trained at.", gt=0.0, unit="µm")
    object_diameter: float | None = field(
        None, help="Object diameter in the training images (preprocess.object_diameter, measured when 'auto').",
        gt=0.0, unit="px")
    target_diameter: float | None = field(
        None, help="Object diameter the network works at: new images are rescaled by target / their diameter.",
        gt=0.0, unit="px")
    normalization: Normalization = field(default_factory=Normalization, help="Input normalisation.")
    postprocess: dict[str, Any] = field(
        default_factory=dict, help="Post-processing parameters (thresholds, min_size, ...)."
    )
    output_intensity: dict[str, Any] = field(
        default_factory=dict, help="How an image-to-image output returns to intensities, from training: the "
        "targets' dataset statistics ('target_normalize') or the training pairs' input-to-target brightness "
        "relation ('target_from_input'); empty: the input image's own statistics.")
    authors: list[Author] = field(default_factory=list, help="People credited for the model.")
    license: str = field("CC-BY-4.0", help="SPDX licence identifier.")
    citations: list[Citation] = field(default_factory=list, help="How to cite the model.")
    documentation: str = field("", help="Markdown text describing the model, its data and its limits.")
    cover: Any = field(None, help="Cover image, array Y,X or Y,X,3 (uint8 or float in 0..1); made if missing.")
    test_input: Any = field(None, help="Test input, array B,Y,X,C float32, already normalised.")
    raw_test_input: Any = field(None, help="Test input before normalisation (B,Y,X,C), as the microscope gives "
                                "it; packages store it and declare the normalisation as preprocessing.")
    recipe: dict[str, Any] = field(default_factory=dict, help="The resolved recipe the model was trained with.")
    size_multiple: int = field(1, help="Input Y and X must be a multiple of this (the network's downsampling).", ge=1)
    min_size: int | None = field(None, help="Smallest input Y/X the network accepts; test input size if unset.", ge=1)
    tags: list[str] = field(default_factory=list, help="Keywords for model zoos (e.g. nuclei, fluorescence).")

    @field_validator("task")
    @classmethod
    def _trainable_task(cls, value: str) -> str:
        get_task(value).check_trainable()
        return value

    @field_validator("axes")
    @classmethod
    def _axes(cls, value: str) -> str:
        if value not in SUPPORTED_AXES:
            raise ValueError(f"Expected axes 'byxc'. Received: axes={value!r}")
        return value

    @field_validator("test_input", "raw_test_input")
    @classmethod
    def _test_input(cls, value: Any) -> Any:
        if value is None:
            return None
        array = np.asarray(value)
        if array.ndim != 4:
            raise ValueError(f"Expected a test input with axes B,Y,X,C (4 dimensions). Received: shape={array.shape}")
        return np.ascontiguousarray(array, dtype=np.float32)

    @field_validator("cover")
    @classmethod
    def _cover(cls, value: Any) -> Any:
        if value is None:
            return None
        array = np.asarray(value)
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
            raise ValueError(f"Expected a cover image Y,X or Y,X,3. Received: shape={array.shape}")
        return array

    def public_dict(self) -> dict[str, Any]:
        """Metadata without arrays or recipe, as written to ``metadata.json``."""
        return self.model_dump(mode="json", exclude={"cover", "test_input", "raw_test_input", "recipe"})


def require_test_input(metadata: ExportMetadata, where: str) -> np.ndarray:
    """Return the (normalised) test input or raise :class:`ExportError` saying how to provide one.

    A raw test input alone is normalised first by :func:`builder.export.test_tensors.with_test_input`.
    """
    if metadata.test_input is None:
        raise ExportError(
            where,
            "No test input was given; every export is checked by running it on a test input.",
            "Set ExportMetadata.test_input to a normalised B,Y,X,C float32 array (one image is enough).",
        )
    return metadata.test_input


def normalization_from_recipe(normalize: dict[str, Any]) -> Normalization:
    """Translate a recipe's ``preprocess.normalize`` section into :class:`Normalization`."""
    method = normalize.get("method", "percentile")
    values: dict[str, Any] = {
        "method": method,
        "low": normalize.get("low", 1.0),
        "high": normalize.get("high", 99.8),
        "per": normalize.get("per", "image"),
        "per_channel": normalize.get("per_channel", True),
        "clip": normalize.get("clip", False),
    }
    if method == "fixed":
        values["min"] = [float(normalize.get("fixed_min", 0.0))]
        values["max"] = [float(normalize.get("fixed_max", 65535.0))]
    for key in ("min", "max", "mean", "std"):  # dataset statistics stored by training, when present
        if key in normalize and normalize[key] is not None:
            raw = normalize[key]
            values[key] = [float(v) for v in (raw if isinstance(raw, (list, tuple)) else [raw])]
    return Normalization(**values)


def metadata_from_recipe(recipe: dict[str, Any], *, test_input: Any = None, **overrides: Any) -> ExportMetadata:
    """Build :class:`ExportMetadata` from a resolved recipe dictionary.

    Parameters
    ----------
    recipe : dict
        The recipe as read from a run's ``recipe.yaml``.
    test_input : (B, Y, X, C) ndarray, optional
        Normalised test input.
    **overrides
        Any :class:`ExportMetadata` field, taking precedence over the recipe.
    """
    data = recipe.get("data") or {}
    export = recipe.get("export") or {}
    preprocess = recipe.get("preprocess") or {}
    evaluate = recipe.get("evaluate") or {}
    citation = export.get("citation")
    citations = []
    if citation:
        doi = citation.removeprefix("https://doi.org/") if citation.startswith(("10.", "https://doi.org/")) else None
        citations.append(Citation(text=citation, doi=doi))
    values: dict[str, Any] = {
        "name": recipe.get("name", "cellwright-model"),
        "description": recipe.get("description", ""),
        "task": recipe.get("task", DEFAULT_TASK),
        "channel_names": list(data.get("channels") or []),
        "class_names": list(data.get("classes") or []),
        "pixel_size": preprocess.get("resample_to") or data.get("pixel_size"),
        **_object_scale(preprocess),
        "normalization": normalization_from_recipe(preprocess.get("normalize") or {}),
        "postprocess": dict(evaluate.get("postprocess") or {}),
        "authors": [Author(**a) for a in export.get("authors") or []],
        "license": export.get("license", "CC-BY-4.0"),
        "citations": citations,
        "recipe": recipe,
        "test_input": test_input,
    }
    values.update(overrides)
    return ExportMetadata(**values)


def _object_scale(preprocess: dict[str, Any]) -> dict[str, Any]:
    """``object_diameter`` / ``target_diameter`` from a recipe whose diameter is a number (``auto`` is resolved
    from the run's record before export)."""
    diameter = preprocess.get("object_diameter")
    if isinstance(diameter, bool) or not isinstance(diameter, int | float):
        return {}
    return {"object_diameter": float(diameter), "target_diameter": float(preprocess.get("target_diameter", 30.0))}
