"""Restoration networks exported so that other tools get restored images at the target's brightness.

Cellwright's ``predict`` maps an image-to-image output back to intensities with
:func:`builder.data.normalize.output_stats`. A bioimage.io package must say the same with what the spec offers:

- **Fixed statistics** (the targets' dataset statistics, ``target_normalize``, or a fixed input map): the
  inverse is one ``scale_linear`` postprocessing step (gain = scale, offset = offset, per channel). Exact.
- **Per-image statistics** (percentile / min-max / z-score per image, the default of the restoration examples):
  the output's intensities follow from *this image's* input statistics and the training pairs' brightness
  relation (``target_from_input``, :func:`builder.data.normalize.relate_stats`). No spec operation multiplies an
  output by statistics of the input (``scale_range`` and ``scale_mean_variance`` with a reference tensor only
  normalise *towards* them, by other statistics), so the exported network does it itself:
  :func:`raw_scale_model` wraps it as raw image -> per-image statistics -> normalised -> network -> intensities,
  and the package declares no normalising pre- or postprocessing. Exact for a whole image given in one piece;
  a consumer that cuts the image into tiles normalises each tile on its own statistics (the model card says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from builder.data.normalize import stats_from_dict
from builder.export.metadata import ExportMetadata, Normalization

#: Per-image methods the wrapped network computes itself (the others are fixed maps or none).
PER_IMAGE_METHODS = ("percentile", "minmax", "zscore")


def fixed_output_stats(metadata: ExportMetadata, n_in: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(offset, scale)`` per output channel that return a restoration output to intensities when they do not
    depend on the image: ``target_normalize``, or a fixed input map (dataset statistics), with the training
    pairs' brightness relation applied to it when there is one (as :func:`output_stats` does); else None."""
    from builder.data.normalize import NormStats, relate_stats
    from builder.export.bioimageio_descr import fixed_linear

    target = stats_from_dict(metadata.output_intensity.get("target_normalize"))
    if target is not None:
        return np.asarray(target.offset, np.float64), np.asarray(target.scale, np.float64)
    if in_graph_normalization(metadata):
        return None
    linear = fixed_linear(metadata.normalization, n_in)
    if linear is None:
        return None
    gain, offset = linear
    used = NormStats(-offset / gain, 1.0 / gain)
    relation = metadata.output_intensity.get("target_from_input")
    stored = metadata.normalization.min or metadata.normalization.mean or [0.0]  # how many statistics training kept
    if relation and len(relation.get("scale") or []) in (1, len(stored)):
        used = relate_stats(used, relation)
    return np.asarray(used.offset, np.float64), np.asarray(used.scale, np.float64)


def in_graph_normalization(metadata: ExportMetadata) -> bool:
    """Whether an image-to-image package must normalise inside its network (per-image input statistics and no
    dataset statistics for the targets)."""
    from builder.tasks import get_task

    norm = metadata.normalization
    return (get_task(metadata.task).image_target and norm.per == "image" and norm.method in PER_IMAGE_METHODS
            and not metadata.output_intensity.get("target_normalize"))


def _relation(metadata: ExportMetadata, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, scale)`` of the training pairs' brightness relation; identity when the run recorded none or one
    that does not fit the channels (Cellwright's predict then maps outputs back with the input's own statistics,
    see :func:`builder.data.normalize.output_stats`)."""
    relation = metadata.output_intensity.get("target_from_input") or {}
    if not relation or len(relation.get("scale") or []) not in (1, _stats_size(metadata, n_in)):
        return np.zeros(1, np.float32), np.ones(1, np.float32)
    return np.asarray(relation["offset"], np.float32), np.asarray(relation["scale"], np.float32)


def raw_scale_model(network: Any, metadata: ExportMetadata) -> Any:
    """``network`` (normalised in, normalised out) as a Keras model from raw intensities to restored intensities.

    The input statistics are those of :func:`builder.data.normalize.compute_stats` for one image (per channel
    or over all channels), the output mapping that of :func:`builder.data.normalize.output_stats`.
    """
    import keras
    from keras import ops

    from builder.export.raw_scale_layers import ImageStats

    norm = metadata.normalization
    shape = tuple(network.inputs[0].shape)[1:]
    raw = keras.Input(shape, name="raw")
    offset, scale = ImageStats(method=norm.method, low=norm.low, high=norm.high, per_channel=norm.per_channel,
                               name="image_statistics")(raw)
    x = (raw - offset) / scale
    if norm.clip:
        x = ops.clip(x, 0.0, 1.0)
    y = network(x)
    rel_offset, rel_scale = _relation(metadata, int(shape[-1]))
    out = y * (scale * rel_scale) + (offset + scale * rel_offset)
    return keras.Model(raw, out, name=f"{network.name}_raw_scale")


def output_scale(metadata: ExportMetadata, raw: np.ndarray) -> float:
    """The largest factor from normalised to intensity units for ``raw`` (B,Y,X,C): an export's tolerances,
    set in normalised units, are multiplied by it where outputs are compared in intensities."""
    from builder.data.normalize import compute_stats

    fixed = fixed_output_stats(metadata, raw.shape[-1])
    if fixed is not None:
        return max(1.0, float(np.max(np.abs(fixed[1]))))
    if not in_graph_normalization(metadata):
        return 1.0
    norm = metadata.normalization
    _, rel_scale = _relation(metadata, raw.shape[-1])
    scales = [compute_stats(image, norm.method, low=norm.low, high=norm.high, per_channel=norm.per_channel).scale
              for image in raw]
    return max(1.0, float(np.max(np.abs(rel_scale)) * max(float(np.max(s)) for s in scales)))


def normalization_note(norm: Normalization) -> str:
    """How the wrapped network normalises, for the model card."""
    what = {"percentile": f"{norm.low:g}-{norm.high:g} percentiles", "minmax": "minimum and maximum",
            "zscore": "mean and standard deviation"}[norm.method]
    return (f"its {what} ({'per channel' if norm.per_channel else 'over all channels'}) over the whole image "
            "it is given")


@dataclass
class IntensityPlan:
    """How a bioimage.io package returns outputs at intensity scale (see the module docstring)."""

    model: Any  # the network the package ships (wrapped when it normalises itself)
    preprocessing: list[Any]
    postprocessing: list[Any]
    factor: float  # normalised -> intensity units, for tolerances on outputs compared in intensities
    input_text: str = ""  # the input tensor's description ('' for the default)
    output_note: str = ""  # added to the output tensor's description
    card: str = ""  # the model card's paragraph on output intensities
    config: dict[str, Any] = field(default_factory=dict)  # entries of config.cellwright
    metadata: ExportMetadata | None = None  # the normalisation the shipped network's input needs


def intensity_plan(model: Any, metadata: ExportMetadata, raw: np.ndarray) -> IntensityPlan:
    """The package's network, pre- and postprocessing for ``model`` (``raw``: the raw test input, B,Y,X,C)."""
    from bioimageio.spec.model import v0_5 as s

    from builder.export.bioimageio_descr import output_postprocessing, preprocessing
    from builder.tasks import get_task

    n_in, n_out = raw.shape[-1], int(model.outputs[0].shape[-1])
    factor = output_scale(metadata, raw)
    if in_graph_normalization(metadata) and _stats_size(metadata, n_in) in (1, n_out):
        plain = Normalization(method="none")
        how = normalization_note(metadata.normalization)
        return IntensityPlan(
            raw_scale_model(model, metadata), [s.EnsureDtypeDescr(kwargs=s.EnsureDtypeKwargs(dtype="float32"))],
            [], factor,
            input_text="Raw image as the microscope gives it; the network normalises each image itself.",
            output_note="Intensities at the training targets' brightness (mapped back by the network).",
            card=("- Output intensities: the restored image comes back at the brightness of the training targets. "
                  f"The network normalises its input with {how} and maps its output back with the brightness "
                  "relation learned from the training pairs, so the package declares no pre- or postprocessing "
                  "that normalises. Give it whole images: a tool that cuts an image into tiles normalises each "
                  "tile on its own, which changes the result near the tiles' edges and in tiles with little "
                  "signal.\n"),
            config={"normalization": plain.model_dump(), "network_normalization": metadata.normalization.model_dump(),
                    "output_intensity": {}},
            metadata=metadata.model_copy(update={"normalization": plain}))
    steps = preprocessing(metadata, n_in)
    fixed = fixed_output_stats(metadata, n_in) if get_task(metadata.task).image_target else None
    config = {"output_intensity": dict(metadata.output_intensity)} if metadata.output_intensity else {}
    if fixed is None or max(fixed[0].size, fixed[1].size) not in (1, n_out):
        return IntensityPlan(model, steps, [], 1.0, config=config, metadata=metadata)
    source = ("the training targets' statistics" if metadata.output_intensity.get("target_normalize")
              else "the fixed normalisation of the input")
    return IntensityPlan(
        model, steps, output_postprocessing(*fixed), factor,
        output_note="Intensities: the postprocessing (scale_linear) undoes the output's normalisation.",
        card=(f"- Output intensities: the postprocessing step (scale_linear) maps the network's output back to "
              f"intensities with {source}, as Cellwright's predict does.\n"), config=config, metadata=metadata)


def _stats_size(metadata: ExportMetadata, n_in: int) -> int:
    """How many (offset, scale) pairs the per-image input statistics have."""
    return n_in if metadata.normalization.per_channel else 1
