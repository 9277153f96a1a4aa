"""BioImage Model Zoo package (spec 0.5), built with typed ``bioimageio.spec.model.v0_5`` classes.

Weights: ``keras_hdf5`` (parent entry), ``tensorflow_saved_model_bundle`` (serving signature returns
``{"prediction": tensor}``) and ``onnx``. Each weights file is re-run on the test input and compared with
the Keras output before packaging; the zip is then validated by ``bioimageio.spec`` with I/O checks on and
no network access (no fields that need a look-up: no URLs, no GitHub user names, citations by DOI only).
Image-to-image packages return intensities as Cellwright's ``predict`` does (:mod:`builder.export.raw_scale`): a
``scale_linear`` postprocessing step, or a network that normalises each raw image itself.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from builder.errors import ExportError
from builder.export._files import atomic_path, scratch_dir
from builder.export.bioimageio_descr import (
    INPUT_ID,
    OUTPUT_ID,
    credits,
    input_descr,
    output_descr,
    raw_test_input,
)
from builder.export.metadata import ExportMetadata, require_test_input
from builder.export.onnx import DEFAULT_OPSET, write_onnx
from builder.export.savedmodel import write_savedmodel
from builder.model_files.verify import DEFAULT_TOLERANCE, Check, compare, keras_reference, run_keras_file, single_output
from builder.model_files.zoo_preprocessing import apply_preprocessing

#: Which consumer is expected to run which weights format of a Cellwright package.
CONSUMERS: dict[str, dict[str, str]] = {
    "bioimageio.core (Python)": {
        "keras_hdf5": "yes (Keras adapter)", "tensorflow_saved_model_bundle": "yes (TensorFlow 2 adapter)",
        "onnx": "yes (onnxruntime)"},
    "deepImageJ (Fiji)": {
        "keras_hdf5": "no", "tensorflow_saved_model_bundle": "yes if its JDLL engine list has this TF 2 version",
        "onnx": "yes (JDLL ONNX engine)"},
    "ilastik": {"keras_hdf5": "no", "tensorflow_saved_model_bundle": "no", "onnx": "yes"},
    "QuPath (bioimageio extension)": {
        "keras_hdf5": "no", "tensorflow_saved_model_bundle": "yes (Deep Java Library, TF engine)",
        "onnx": "yes (Deep Java Library, ONNX Runtime engine)"},
}


@dataclass
class ZooExport:
    """What :func:`write_bioimageio` produced: the package, the per-weights checks and the validation result."""

    path: Path
    checks: list[Check] = field(default_factory=list)
    status: str = ""
    warnings: list[str] = field(default_factory=list)

    def consumers_table(self) -> str:
        return consumers_table()


def consumers_table() -> str:
    """Plain-text table: which consumer can run which weights format."""
    formats = ("keras_hdf5", "tensorflow_saved_model_bundle", "onnx")
    lines = ["Consumers and the weights they can run:"]
    for consumer, support in CONSUMERS.items():
        lines.append(f"  {consumer}: " + "; ".join(f"{f}: {support[f]}" for f in formats))
    return "\n".join(lines)


def _cover(metadata: ExportMetadata, x: np.ndarray, y: np.ndarray, path: Path) -> Path:
    """Write the cover: the given image, or test input | output side by side (2:1)."""
    import imageio.v3 as iio

    def to_uint8(a: np.ndarray) -> np.ndarray:
        a = a.astype(np.float64)
        lo, hi = np.percentile(a, 1), np.percentile(a, 99.5)
        return (np.clip((a - lo) / (hi - lo + 1e-12), 0, 1) * 255).astype(np.uint8)

    if metadata.cover is not None:
        image = metadata.cover if metadata.cover.dtype == np.uint8 else to_uint8(metadata.cover)
    else:
        left = to_uint8(x[0, ..., 0])
        right = to_uint8(y[0, ..., -1]) if y.ndim == 4 else np.full_like(left, 0)
        image = np.concatenate([left, right], axis=1)
        repeat = max(1, 256 // image.shape[0])
        image = np.repeat(np.repeat(image, repeat, axis=0), repeat, axis=1)
    iio.imwrite(path, np.squeeze(image))
    return path


def _output_note(metadata: ExportMetadata) -> str:
    """A line on what the output channels mean and how Cellwright turns them into results ('' if nothing to add)."""
    from builder.tasks import get_task

    note = get_task(metadata.task).output_note(metadata.recipe)
    return f"- Output: {note}\n" if note else ""


def _postprocess_text(metadata: ExportMetadata) -> str:
    """The post-processing settings Cellwright applies to this model's output, for the model card: for
    image-to-image models only test-time augmentation (thresholds and sizes are for masks and objects)."""
    from builder.tasks import get_task

    settings = dict(metadata.postprocess)
    if get_task(metadata.task).image_target:
        return f"test-time augmentation {'on' if settings.get('tta') else 'off'}"
    return ", ".join(f"{key} {value}" for key, value in settings.items()) or "none"


def _documentation(metadata: ExportMetadata, checks: list[Check], notes: list[str] | None = None,
                   intensity: str = "") -> str:
    """The model card: the user's documentation (or one made from the metadata), ``intensity`` (what the output's
    values are) and the weights checks."""
    validation = "\n## Validation\n\nRight after export each weights format was run on the test input and " \
        "compared with the Keras model (max absolute difference):\n\n" + "".join(
            f"- {c.format}: {c.max_abs_diff:.3g}\n" for c in checks) + "".join(f"\n{n}\n" for n in notes or [])
    if metadata.documentation.strip():
        text = metadata.documentation
        text = text.rstrip() + "\n\n" + intensity if intensity else text
        return text if "# validation" in text.lower() else text.rstrip() + "\n" + validation
    norm = metadata.normalization
    return (
        f"# {metadata.name}\n\n{metadata.description or 'A model trained with Cellwright.'}\n\n"
        f"- Task: {metadata.task}\n- Input axes: {metadata.axes}; "
        f"channels: {', '.join(metadata.channel_names) or '?'}\n"
        f"- Pixel size: {f'{metadata.pixel_size} µm' if metadata.pixel_size else 'not recorded'}\n"
        f"{_scale_line(metadata)}"
        f"- Normalisation: {norm.method} ({norm.low}-{norm.high} percentiles, per {norm.per})\n"
        f"- Classes/outputs: {', '.join(metadata.class_names) or 'see outputs'}\n"
        f"- Post-processing (Cellwright): {_postprocess_text(metadata)}\n"
        f"{_output_note(metadata)}{intensity}\n"
        "Exported by Cellwright; open with `cellwright import` or any bioimage.io consumer.\n"
    ) + validation


def _scale_line(metadata: ExportMetadata) -> str:
    """The object-scale line of the documentation (empty without ``preprocess.object_diameter``)."""
    if not metadata.object_diameter or not metadata.target_diameter:
        return ""
    factor = metadata.target_diameter / metadata.object_diameter
    return (f"- Object scale: trained on objects {metadata.object_diameter:g} px across, rescaled by {factor:.4g} "
            f"to {metadata.target_diameter:g} px. Rescale new images by {metadata.target_diameter:g} / (their "
            "object diameter in px) before the network, and the output back (Cellwright's predict does this; "
            "other consumers must do it themselves).\n")


def _zip_dir(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                archive.write(p, p.relative_to(folder).as_posix())


def _instance_target(metadata: Any) -> dict[str, str]:
    """``{"instance_target": ...}`` for a model trained with one (star-convex outputs need their own
    post-processing when ``cellwright predict`` runs the package), else nothing."""
    target = ((metadata.recipe or {}).get("train") or {}).get("instance_target")
    return {"instance_target": str(target)} if target else {}


def cellwright_layers(model: Any) -> list[str]:
    """Names of the layer classes of ``model`` (nested models included) that only Cellwright defines."""
    found, stack = set(), list(model.layers)
    while stack:
        layer = stack.pop()
        if type(layer).__module__.startswith(("builder.", "gui.")):
            found.add(type(layer).__name__)
        stack.extend(getattr(layer, "layers", []) or [])
    return sorted(found)


def _keras_hdf5(model: Any, folder: Path, x: np.ndarray, reference: np.ndarray,
                tolerance: float) -> tuple[Check | None, str]:
    """Write and re-run ``weights.h5``; ``(None, why)`` when other tools could not load it."""
    own = cellwright_layers(model)
    if own:
        return None, (f"Keras weights left out: the model uses Cellwright's own layer(s) {', '.join(own)}, which "
                      "other tools cannot load; the SavedModel and ONNX weights hold the same network.")
    h5 = folder / "weights.h5"
    try:
        model.save(h5)
        return compare("keras_hdf5", h5, reference, run_keras_file(h5, x), tolerance), ""
    except ExportError as exc:
        h5.unlink(missing_ok=True)
        return None, (f"Keras HDF5 weights left out: the model does not reload from HDF5 ({exc.what[:200]}); the "
                      "SavedModel and ONNX weights hold the same network.")


def _write_weights(model: Any, folder: Path, x: np.ndarray, tolerance: float,
                   metadata: ExportMetadata) -> tuple[Any, list[Check], list[str]]:
    """Write the weights formats; returns the weights description, their checks and notes on left-out ones."""
    import keras
    import tensorflow as tf
    from bioimageio.spec.model import v0_5 as s

    reference = keras_reference(model, x)
    h5_check, note_h5 = _keras_hdf5(model, folder, x, reference, tolerance)
    checks = [h5_check] if h5_check is not None else []
    checks.append(write_savedmodel(model, folder / "saved_model", test_input=x, input_name=INPUT_ID,
                                   output_name=OUTPUT_ID, tolerance=tolerance))
    _zip_dir(folder / "saved_model", folder / "tf_saved_model.zip")
    checks.append(write_onnx(model, folder / "weights.onnx", test_input=x, input_name=INPUT_ID,
                             output_name=OUTPUT_ID, tolerance=tolerance, metadata=metadata))
    tf_version = s.Version(tf.__version__)
    note = f"Converted by Cellwright from the Keras {keras.__version__} model."
    root: Literal["keras_hdf5"] | None = "keras_hdf5" if h5_check is not None else None
    onnx_parent: Literal["keras_hdf5", "tensorflow_saved_model_bundle"] = root or "tensorflow_saved_model_bundle"
    weights = s.WeightsDescr(
        keras_hdf5=None if root is None else s.KerasHdf5WeightsDescr(
            source=folder / "weights.h5", tensorflow_version=tf_version,
            comment=f"Keras {keras.__version__} (TensorFlow backend) HDF5 file."),
        tensorflow_saved_model_bundle=s.TensorflowSavedModelBundleWeightsDescr(
            source=folder / "tf_saved_model.zip", tensorflow_version=tf_version, parent=root,
            comment=note + f" Signature 'serving_default': {INPUT_ID} -> {{'{OUTPUT_ID}': tensor}}."),
        onnx=s.OnnxWeightsDescr(source=folder / "weights.onnx", opset_version=DEFAULT_OPSET,
                                parent=onnx_parent, comment=note + " tf2onnx."),
    )
    return weights, checks, [note_h5] if note_h5 else []


def build_descr(model: Any, metadata: ExportMetadata, folder: Path,
                tolerance: float) -> tuple[Any, list[Check], list[str]]:
    """Write all files into ``folder``; return the typed ``ModelDescr``, the weights checks and notes on
    weights formats left out."""
    import tifffile
    from bioimageio.spec.model import v0_5 as s
    from pydantic import ValidationError

    from builder.export.raw_scale import intensity_plan

    raw = _raw_test_input(metadata)
    plan = intensity_plan(model, metadata, raw)
    wrapped, shipped = plan.model is not model, plan.metadata or metadata
    model = plan.model
    x = apply_preprocessing(plan.preprocessing, raw)  # what a consumer feeds the network
    y = apply_preprocessing(plan.postprocessing, keras_reference(model, x))  # what a consumer gets
    out_tolerance = tolerance * plan.factor  # outputs compared in intensities, not normalised units
    np.save(folder / "test_input.npy", raw, allow_pickle=False)
    np.save(folder / "test_output.npy", y, allow_pickle=False)
    for name, array in (("sample_input.tif", raw[0]), ("sample_output.tif", y[0])):
        sample = array if array.ndim >= 2 else array[None]
        tifffile.imwrite(folder / name, sample, photometric="minisblack" if sample.ndim == 3 else None)
    weights, checks, notes = _write_weights(model, folder, x, out_tolerance if wrapped else tolerance, shipped)
    (folder / "README.md").write_text(_documentation(metadata, checks, notes, plan.card), encoding="utf-8")
    in_shape, out_shape = tuple(model.inputs[0].shape), tuple(model.outputs[0].shape)
    try:
        descr = s.ModelDescr(
            name=metadata.name if len(metadata.name) >= 5 else f"{metadata.name} model",  # the zoo needs >= 5
            description=metadata.description or f"Cellwright {metadata.task.replace('_', ' ')} model.",
            covers=[s.FileDescr(source=_cover(metadata, x, y, folder / "cover.png"))],
            documentation=s.FileDescr(source=folder / "README.md"),
            license=s.LicenseId(metadata.license),
            tags=sorted({"cellwright", metadata.task.replace("_", "-"), *metadata.tags}),
            inputs=[input_descr(metadata, in_shape, folder / "test_input.npy", folder / "sample_input.tif",
                                plan.preprocessing, plan.input_text)],
            outputs=[output_descr(metadata, out_shape, in_shape, folder / "test_output.npy",
                                  folder / "sample_output.tif", plan.postprocessing, plan.output_note)],
            weights=weights,
            config=s.Config(  # type: ignore[call-arg]  # Config keeps extra keys such as ours
                bioimageio=s.BioimageioConfig(reproducibility_tolerance=[
                    s.ReproducibilityTolerance(absolute_tolerance=max(out_tolerance, 1e-5), relative_tolerance=1e-3)]),
                cellwright={"task": metadata.task, "postprocess": metadata.postprocess,
                            "class_names": metadata.class_names, "normalization": metadata.normalization.model_dump(),
                            "pixel_size_um": metadata.pixel_size,
                            "object_diameter_px": metadata.object_diameter,
                            "target_diameter_px": metadata.target_diameter,
                            "size_multiple": metadata.size_multiple, **plan.config,
                            **_instance_target(metadata),
                            **({"output_scale": plan.factor} if plan.factor != 1.0 else {})},
            ),
            **credits(metadata),
        )
    except ValidationError as exc:
        raise ExportError(
            "bioimageio export", f"The model description is not valid for bioimage.io:\n{exc}",
            "Check export.license (an SPDX id such as CC-BY-4.0), author ORCIDs and citation DOIs.",
        ) from exc
    checks.append(_consumer_check(model, descr, folder, out_tolerance))
    return descr, checks, notes


def _raw_test_input(metadata: ExportMetadata) -> np.ndarray:
    """The raw test input the package stores: given raw, or the normalised one with a fixed map undone.

    Cropped to a multiple of the network's size step so the declared input sizes hold for it.
    """
    from builder.export.test_tensors import crop_to_multiple

    if metadata.raw_test_input is not None:
        raw = np.asarray(metadata.raw_test_input, np.float32)
    else:
        raw = raw_test_input(metadata, require_test_input(metadata, "bioimageio export"))
    return np.stack([crop_to_multiple(r, metadata.size_multiple) for r in raw])


def _consumer_check(model: Any, descr: Any, folder: Path, tolerance: float) -> Check:
    """Re-run the package the way a consumer does: its stored raw test input, its declared pre- and
    postprocessing."""
    from builder.model_files.safe_import import load_array

    raw = load_array(folder / "test_input.npy")
    expected = load_array(folder / "test_output.npy")
    got = apply_preprocessing(list(descr.outputs[0].postprocessing),
                              keras_reference(model, apply_preprocessing(list(descr.inputs[0].preprocessing), raw)))
    diff = float(np.max(np.abs(got - expected))) if expected.size else 0.0
    if diff > max(tolerance, 1e-5):
        raise ExportError(
            "bioimageio export: test_input",
            f"Running the package's test input through its declared processing and the model changes the "
            f"output by up to {diff:.3g}.", "Report this with the run folder attached.")
    return Check("test_input + declared preprocessing + keras", str(folder / "test_input.npy"), diff,
                 max(tolerance, 1e-5))


def validate_package(path: Path) -> tuple[str, list[str]]:
    """Validate a package zip with ``bioimageio.spec`` (I/O checks on: files present, SHA-256 match).

    Returns
    -------
    status, warnings
        ``status`` is the validation summary status (e.g. ``"valid-format"`` or ``"passed"``).

    Raises
    ------
    ExportError
        If the package is invalid.
    """
    from bioimageio.spec import InvalidDescr, load_description

    descr = load_description(Path(path), perform_io_checks=True)
    summary = descr.validation_summary
    if isinstance(descr, InvalidDescr) or summary.status == "failed":
        raise ExportError(str(path), f"bioimage.io validation failed:\n{summary.format()}",
                          "Report this with the package attached.")
    warnings = [f"{d.loc}: {d.msg}" for detail in summary.details for d in detail.warnings]
    return str(summary.status), warnings


def write_bioimageio(
    model: Any, metadata: ExportMetadata, out_path: Path, *, tolerance: float = DEFAULT_TOLERANCE
) -> ZooExport:
    """Write a validated BioImage Model Zoo package (``.zip``) for ``model``.

    Parameters
    ----------
    model : keras.Model
        Single-input, single-output model with input axes B,Y,X,C.
    metadata : ExportMetadata
        Names, normalisation, credits and the (normalised) test input.
    out_path : Path
        Target ``.zip``, replaced atomically once it validates.
    tolerance : float
        Largest allowed max absolute difference per weights format.
    """
    from bioimageio.spec import save_bioimageio_package

    out_path = Path(out_path)
    single_output(model, str(out_path))
    with scratch_dir() as folder:
        descr, checks, notes = build_descr(model, metadata, folder, tolerance)
        with atomic_path(out_path) as tmp:
            try:
                save_bioimageio_package(descr, output_path=tmp)
            except ValueError as exc:
                raise ExportError(str(out_path), f"bioimage.io packaging failed: {exc}",
                                  "Report this with the recipe attached.") from exc
            status, warnings = validate_package(tmp)
    return ZooExport(path=out_path, checks=checks, status=status, warnings=notes + warnings)
