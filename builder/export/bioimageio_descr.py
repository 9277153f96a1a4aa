"""Typed BioImage Model Zoo (spec 0.5) pieces built from :class:`ExportMetadata`: axes, tensors, processing.

Cellwright's normalisation is written with the spec's own operations so any consumer can reproduce it:

=============================  ==============================================================
Cellwright ``normalize``       bioimage.io preprocessing
=============================  ==============================================================
percentile (per image)         ``scale_range`` (min/max percentile, over Y,X [and C])
minmax (per image)             ``scale_range`` with percentiles 0 and 100
zscore (per image)             ``zero_mean_unit_variance``
fixed, or dataset statistics   ``scale_linear`` / ``fixed_zero_mean_unit_variance`` (per channel)
clip                           ``clip`` to [0, 1]
=============================  ==============================================================

The test input of :class:`ExportMetadata` is already normalised; :func:`raw_test_input` turns it back
into raw values where the normalisation is fixed (so re-applying the preprocessing is exact), and keeps
it as is for per-image normalisations (re-applying those to normalised data changes it by ~1e-6).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from builder.errors import ExportError
from builder.export.metadata import ExportMetadata, Normalization

INPUT_ID = "raw"
OUTPUT_ID = "prediction"


def safe_identifier(name: str, fallback: str) -> str:
    """Turn a channel/class name into a spec identifier (letters, digits, underscore; not starting with a digit)."""
    text = re.sub(r"\W+", "_", name.strip()).strip("_")
    if not text:
        return fallback
    return f"c_{text}" if text[0].isdigit() else text


def _per_channel(values: list[float] | None, n_channels: int, what: str) -> list[float]:
    if not values:
        raise ExportError(f"normalization.{what}", f"Normalisation needs '{what}' values but none were given.",
                          "Pass the dataset statistics stored by training, or use a per-image method.")
    if len(values) == 1:
        return [float(values[0])] * n_channels
    if len(values) != n_channels:
        raise ExportError(f"normalization.{what}", f"Expected 1 or {n_channels} values (one per channel). "
                          f"Received: {what}={values}", "Give one value per input channel.")
    return [float(v) for v in values]


def fixed_linear(norm: Normalization, n_channels: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Return per-channel ``(gain, offset)`` if the normalisation is a fixed linear map, else ``None``."""
    if norm.method == "fixed" or (norm.per == "dataset" and norm.method in ("percentile", "minmax")):
        lo = np.array(_per_channel(norm.min, n_channels, "min"))
        hi = np.array(_per_channel(norm.max, n_channels, "max"))
        return 1.0 / (hi - lo), -lo / (hi - lo)
    if norm.method == "zscore" and norm.per == "dataset":
        mean = np.array(_per_channel(norm.mean, n_channels, "mean"))
        std = np.array(_per_channel(norm.std, n_channels, "std"))
        return 1.0 / std, -mean / std
    return None


def raw_test_input(metadata: ExportMetadata, x: np.ndarray) -> np.ndarray:
    """Undo a fixed linear normalisation on the (normalised) test input; identity otherwise."""
    linear = fixed_linear(metadata.normalization, x.shape[-1])
    if linear is None:
        return x
    gain, offset = linear
    return ((x - offset) / gain).astype(np.float32)


def preprocessing(metadata: ExportMetadata, n_channels: int) -> list[Any]:
    """The spec 0.5 preprocessing steps equivalent to Cellwright's normalisation."""
    from bioimageio.spec.model import v0_5 as s

    norm = metadata.normalization
    axes = [s.AxisId("y"), s.AxisId("x")] + ([] if norm.per_channel else [s.AxisId("channel")])
    steps: list[Any] = [s.EnsureDtypeDescr(kwargs=s.EnsureDtypeKwargs(dtype="float32"))]
    linear = fixed_linear(metadata.normalization, n_channels)
    if linear is not None:
        gain, offset = linear
        if norm.method == "zscore":
            steps.append(s.FixedZeroMeanUnitVarianceDescr(kwargs=s.FixedZeroMeanUnitVarianceAlongAxisKwargs(
                mean=[float(v) for v in -offset / gain], std=[float(v) for v in 1.0 / gain],
                axis=s.AxisId("channel"))))
        else:
            steps.append(s.ScaleLinearDescr(kwargs=s.ScaleLinearAlongAxisKwargs(
                gain=[float(v) for v in gain], offset=[float(v) for v in offset], axis=s.AxisId("channel"))))
    elif norm.method == "percentile":
        steps.append(s.ScaleRangeDescr(kwargs=s.ScaleRangeKwargs(
            axes=axes, min_percentile=norm.low, max_percentile=norm.high)))
    elif norm.method == "minmax":
        steps.append(s.ScaleRangeDescr(kwargs=s.ScaleRangeKwargs(axes=axes, min_percentile=0.0, max_percentile=100.0)))
    elif norm.method == "zscore":
        steps.append(s.ZeroMeanUnitVarianceDescr(kwargs=s.ZeroMeanUnitVarianceKwargs(axes=axes)))
    if norm.clip and norm.method != "none":
        steps.append(s.ClipDescr(kwargs=s.ClipKwargs(min=0.0, max=1.0)))
    return steps


def _space_unit(metadata: ExportMetadata) -> dict[str, Any]:
    if metadata.pixel_size is None:
        return {}
    return {"unit": "micrometer", "scale": float(metadata.pixel_size)}


def input_descr(metadata: ExportMetadata, input_shape: tuple[Any, ...], test_tensor: Any, sample_tensor: Any,
                steps: list[Any] | None = None, description: str = "") -> Any:
    """Input tensor (batch, y, x, channel) with sizes from the model or the test input and size multiple.

    ``steps``: its preprocessing (default :func:`preprocessing`); ``description``: what the network expects.
    """
    from bioimageio.spec.model import v0_5 as s

    _, model_y, model_x, n_channels = input_shape
    test_shape = np.load(test_tensor, allow_pickle=False).shape
    step = metadata.size_multiple
    axes: list[Any] = [s.BatchAxis()]
    for axis_id, fixed, actual in (("y", model_y, test_shape[1]), ("x", model_x, test_shape[2])):
        if fixed is not None:
            size: Any = int(fixed)
        else:
            if actual % step:
                raise ExportError(f"test_input axis {axis_id}", f"The test input is {actual} px along {axis_id}; "
                                  f"the network needs a multiple of {step}.",
                                  f"Crop the test input to a multiple of {step}.")
            minimum = metadata.min_size or min(actual, step * max(1, -(-16 // step)))
            if (actual - minimum) % step:
                minimum = actual
            size = s.ParameterizedSize(min=minimum, step=step)
        axes.append(s.SpaceInputAxis(id=s.AxisId(axis_id), size=size, **_space_unit(metadata)))
    names = metadata.channel_names or [f"channel{i}" for i in range(n_channels)]
    if len(names) != n_channels:
        raise ExportError("channel_names", f"Expected {n_channels} channel names (the model has {n_channels} input "
                          f"channels). Received: {names}", "Give one name per input channel.")
    axes.append(s.ChannelAxis(channel_names=[s.Identifier(safe_identifier(n, f"channel{i}"))
                                             for i, n in enumerate(names)]))
    return s.InputTensorDescr(
        id=s.TensorId(INPUT_ID),
        description=description or "Raw image; normalised by the preprocessing steps.",
        axes=axes,
        test_tensor=s.FileDescr(source=test_tensor),
        sample_tensor=s.FileDescr(source=sample_tensor),
        data=s.IntervalOrRatioDataDescr(type="float32"),
        preprocessing=preprocessing(metadata, n_channels) if steps is None else steps,
    )


def output_descr(metadata: ExportMetadata, output_shape: tuple[Any, ...], input_shape: tuple[Any, ...],
                 test_tensor: Any, sample_tensor: Any, steps: list[Any] | None = None, note: str = "") -> Any:
    """Output tensor: (batch, channel) for classification, else (batch, y, x, channel) sized like the input.

    ``steps``: its postprocessing (none by default); ``note``: added to its description.
    """
    from bioimageio.spec.model import v0_5 as s

    n_out = int(output_shape[-1])
    names = metadata.class_names if len(metadata.class_names) == n_out else [f"output{i}" for i in range(n_out)]
    channel = s.ChannelAxis(channel_names=[s.Identifier(safe_identifier(n, f"output{i}"))
                                           for i, n in enumerate(names)])
    axes: list[Any] = [s.BatchAxis()]
    if len(output_shape) == 4:
        for index, axis_id in ((1, "y"), (2, "x")):
            if output_shape[index] is not None and input_shape[index] is not None:
                size: Any = int(output_shape[index])
            elif output_shape[index] is None and input_shape[index] is None:
                size = s.SizeReference(tensor_id=s.TensorId(INPUT_ID), axis_id=s.AxisId(axis_id))
            else:
                raise ExportError("model output", f"Output {axis_id} size {output_shape[index]} does not follow "
                                  f"the input size {input_shape[index]}.", "Export models whose output has the "
                                  "input's size (segmentation, image-to-image) or no spatial axes.")
            axes.append(s.SpaceOutputAxis(id=s.AxisId(axis_id), size=size, **_space_unit(metadata)))
    elif len(output_shape) != 2:
        raise ExportError("model output", f"Expected an output B,C or B,Y,X,C. Received: shape={output_shape}",
                          "Export Cellwright models only.")
    axes.append(channel)
    from builder.tasks import get_task

    kind = get_task(metadata.task).output_description
    return s.OutputTensorDescr(id=s.TensorId(OUTPUT_ID), description=f"{kind} {note}".strip(), axes=axes,
                               test_tensor=s.FileDescr(source=test_tensor),
                               sample_tensor=s.FileDescr(source=sample_tensor), postprocessing=list(steps or []))


def output_postprocessing(offset: np.ndarray, scale: np.ndarray) -> list[Any]:
    """The ``scale_linear`` step ``output * scale + offset`` (one value, or one per output channel)."""
    from bioimageio.spec.model import v0_5 as s

    offset, scale = np.broadcast_arrays(np.ravel(offset), np.ravel(scale))
    if offset.size == 1:
        kwargs: Any = s.ScaleLinearKwargs(gain=float(scale[0]), offset=float(offset[0]))
    else:
        kwargs = s.ScaleLinearAlongAxisKwargs(gain=[float(v) for v in scale], offset=[float(v) for v in offset],
                                              axis=s.AxisId("channel"))
    return [s.ScaleLinearDescr(kwargs=kwargs)]


def credits(metadata: ExportMetadata) -> dict[str, Any]:
    """Authors and citations as spec objects; citations without a DOI are left out (a URL needs a network check)."""
    from bioimageio.spec.model import v0_5 as s

    authors = [s.Author(name=a.name, affiliation=a.affiliation, orcid=s.OrcidId(a.orcid) if a.orcid else None)
               for a in metadata.authors]
    cite = [s.CiteEntry(text=c.text, doi=s.Doi(c.doi)) for c in metadata.citations if c.doi]
    return {"authors": authors, "cite": cite}
