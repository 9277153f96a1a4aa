"""Open a trained model for evaluation or prediction: a run folder, a ``.keras`` file next to a recipe, or a bundle.

Every source gives the same :class:`ModelSource`: the Keras model, the recipe it was trained with, the
normalisation statistics and tuned post-processing training wrote, and the class names.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.errors import CellwrightError
from builder.run_folder import RunFolder, files, is_run_folder
from builder.workflow.onnx_network import ENGINE_KERAS, ENGINE_ONNX, ENGINES

if TYPE_CHECKING:
    from builder.recipe import Recipe

_BUNDLE_MARKERS = ("MANIFEST.sha256", "rdf.yaml", "bioimageio.yaml")


@dataclass
class ModelSource:
    """A trained model with everything needed to treat new images the way training did.

    Attributes
    ----------
    model : keras.Model
    recipe : Recipe
    normalization : dict or None
        ``{"normalize": {offset, scale} | None, "target_normalize": ... }`` (per-image normalisation when None).
    postprocess : dict or None
        Tuned ``threshold`` / ``seed_threshold`` / ``min_size`` (``postprocess.json``), else None.
    class_names : list of str or None
    kind : str
        ``"run"``, ``"keras"`` or ``"bundle"``.
    path : Path
        What was opened.
    run_dir : Path or None
        The run folder, when the model belongs to one.
    companions : dict
        Models saved with the network that evaluation and prediction need (the task's ``companion_files``, e.g.
        a learned link scorer), loaded, by file name.
    engine : str
        What runs the network: ``"keras"`` or ``"onnx"`` (the run's ONNX copy, see
        :mod:`builder.workflow.onnx_cache`; ``model`` is then an :class:`~builder.workflow.onnx_network.OnnxNetwork`).
    engine_reason : str
        Why that engine, in words (for the log).
    onnx_copy : str or None
        The state of the run's ONNX copy when it was looked at (``missing``, ``stale``, ...; None when not).
    """

    model: Any
    recipe: Recipe
    normalization: dict[str, Any] | None = None
    postprocess: dict[str, Any] | None = None
    class_names: list[str] | None = None
    kind: str = "run"
    path: Path = field(default_factory=Path)
    run_dir: Path | None = None
    companions: dict[str, Any] = field(default_factory=dict)
    engine: str = "keras"
    engine_reason: str = ""
    onnx_copy: str | None = None


def _class_names(recipe: Recipe, run: RunFolder | None) -> list[str] | None:
    if recipe.data.classes:
        return list(recipe.data.classes)
    info = run.read_data_info() if run is not None else None
    return info.classes if info is not None else None


def _open_run(run_dir: Path, model_path: Path | None = None, engine: str = "keras") -> ModelSource:
    run = RunFolder(run_dir)
    model_path = model_path or run.require_model_checkpoint()
    recipe = run.read_recipe()
    normalization = run.read_normalization()
    model, chosen, reason, state = _run_network(run, model_path, recipe, engine)
    return ModelSource(
        model=model, recipe=recipe,
        normalization=normalization.to_dict() if normalization is not None else None,
        postprocess=run.read_postprocess(), class_names=_class_names(recipe, run),
        kind="run", path=model_path, run_dir=run_dir,
        companions=run_companions(run_dir, recipe) if chosen == ENGINE_KERAS else {},
        engine=chosen, engine_reason=reason, onnx_copy=state,
    )


def _run_network(run: RunFolder, model_path: Path, recipe: Recipe, engine: str) -> tuple[Any, str, str, str | None]:
    """``(network, engine, why, state of the ONNX copy)``: the run's fresh ONNX copy unless ``engine`` is keras,
    else the Keras checkpoint (``--engine onnx`` without a fresh copy is a CellwrightError saying how to make one)."""
    from builder.model_files.safe_import import load_keras_safely
    from builder.workflow.onnx_cache import FRESH, IMPOSSIBLE, UNSUPPORTED, open_copy

    if engine == ENGINE_KERAS:
        return load_keras_safely(model_path), ENGINE_KERAS, "asked for (--engine keras)", None
    state = open_copy(run.path, model_path, recipe)
    if state.status == FRESH and state.network is not None:
        return state.network, ENGINE_ONNX, state.reason, state.status
    if engine == ENGINE_ONNX:
        fix = (f"Make one with 'cellwright export {run.path} --format onnx' (any export writes it), or predict once "
               "with --engine auto (it writes one after predicting with Keras); or use --engine auto, which uses "
               "the copy when there is a fresh one.")
        if state.status in (IMPOSSIBLE, UNSUPPORTED):
            fix = "Use --engine auto or --engine keras: this model runs with Keras."
        raise CellwrightError(str(run.file(files.ONNX_COPY)), f"--engine onnx needs an ONNX copy of the checkpoint "
                              f"{model_path.name}, but {state.reason}.", fix)
    return load_keras_safely(model_path), ENGINE_KERAS, state.reason, state.status


def check_engine(engine: str) -> str:
    """``engine`` when it is one of :data:`~builder.workflow.onnx_network.ENGINES`; else a CellwrightError."""
    if engine not in ENGINES:
        raise CellwrightError("--engine", f"Expected one of {', '.join(ENGINES)}. Received: engine={engine!r}",
                              "Use --engine auto (ONNX when the run has a fresh copy, else Keras), onnx or keras.")
    return engine


def run_companions(run_dir: Path, recipe: Recipe) -> dict[str, Any]:
    """The companion models (``Task.companion_files``) a run folder holds, loaded; missing ones are left out
    (the task says what it needs when it uses them)."""
    from builder.model_files.safe_import import load_keras_safely
    from builder.tasks import get_task

    names = get_task(recipe.task).companion_files(recipe)
    return {name: load_keras_safely(Path(run_dir) / name) for name in names if (Path(run_dir) / name).is_file()}


def _stats_from_metadata(norm: dict[str, Any] | None) -> dict[str, Any] | None:
    """Bundle ``normalization`` (min/max or mean/std lists) as ``{offset, scale}``; None for per-image."""
    if not norm:
        return None
    if norm.get("min") is not None and norm.get("max") is not None:
        lo, hi = list(norm["min"]), list(norm["max"])
        return {"offset": lo, "scale": [max(h - x, 1e-6) for x, h in zip(lo, hi, strict=False)]}
    if norm.get("mean") is not None and norm.get("std") is not None:
        return {"offset": list(norm["mean"]), "scale": [max(s, 1e-6) for s in norm["std"]]}
    return None


def _output_intensity(meta: dict[str, Any]) -> dict[str, Any]:
    """``target_normalize`` / ``target_from_input`` of a bundle's ``output_intensity`` (None when absent: older
    bundles and other packages map outputs back with the input's own statistics)."""
    from builder.data.normalize import OUTPUT_INTENSITY_KEYS

    stored = meta.get("output_intensity") or {}
    return {key: stored.get(key) for key in OUTPUT_INTENSITY_KEYS}


def _bundle_with(path: Path, engine: str) -> ModelSource:
    """A shared model: a Cellwright bundle's ONNX copy (``model.onnx``, checked on the bundle's test input) unless
    ``engine`` is keras, else its Keras model (``--engine onnx`` without a usable copy is a CellwrightError)."""
    reason = "asked for (--engine keras)"
    if engine != ENGINE_KERAS:
        source, reason = _open_bundle_onnx(path)
        if source is not None:
            return source
        if engine == ENGINE_ONNX:
            raise CellwrightError(str(path), f"--engine onnx needs the bundle's ONNX copy, but {reason}.",
                                  "Use --engine auto or keras for this model, or export the run again with "
                                  "'cellwright export RUN' (bundles then carry the copy).")
    source = _open_bundle(path)
    source.engine_reason = reason
    return source


def _open_bundle_onnx(path: Path) -> tuple[ModelSource | None, str]:
    """``(source, why)``: a Cellwright bundle opened with its ONNX copy, when it carries one that reproduces the
    bundle's test output; else ``(None, why not)``. Never imports TensorFlow."""
    from builder.errors import ExportError
    from builder.model_files.bundle_reader import BUNDLE, read_bundle_parts
    from builder.model_files.safe_import import safe_extract
    from builder.model_files.shared import detect_kind
    from builder.model_files.verify import DEFAULT_TOLERANCE, compare
    from builder.workflow.onnx_network import open_onnx_network

    with tempfile.TemporaryDirectory(prefix="cellwright-predict-") as tmp:
        try:
            folder = path if path.is_dir() else safe_extract(path, Path(tmp) / "model")
            if detect_kind(folder) != "bundle":
                return None, "bioimage.io packages run with Keras"
            folder, meta, recipe_data, x, y = read_bundle_parts(folder, folder)
        except ExportError as error:  # said again, in full, when the Keras path opens it
            return None, f"the bundle could not be read ({error.what})"
        copy = folder / BUNDLE.onnx
        if not copy.is_file() or meta.get("companions"):
            return None, f"this bundle carries no ONNX copy ({BUNDLE.onnx})"
        try:
            network = open_onnx_network(str(copy))
            compare("bundle (.onnx)", path, y.astype("float32"), network.predict_on_batch(x), DEFAULT_TOLERANCE)
        except Exception as error:  # onnxruntime raises several types; any of them means "use Keras"
            first = (str(error).strip().splitlines() or [""])[0][:200]
            return None, f"the bundle's {BUNDLE.onnx} could not be used ({type(error).__name__}: {first})"
    source = _bundle_source(network, meta, recipe_data, {}, path)
    source.engine, source.engine_reason = ENGINE_ONNX, f"{BUNDLE.onnx} of the bundle"
    return source, source.engine_reason


def _open_bundle(path: Path) -> ModelSource:
    from builder.model_files.shared import open_shared

    with tempfile.TemporaryDirectory(prefix="cellwright-predict-") as tmp:
        shared = open_shared(path, Path(tmp) / "model", run_test=True)
    return _bundle_source(shared.model, shared.metadata or {}, shared.recipe or {}, dict(shared.companions), path)


def _bundle_source(model: Any, meta: dict[str, Any], recipe_data: dict[str, Any], companions: dict[str, Any],
                   path: Path) -> ModelSource:
    """The :class:`ModelSource` of a shared model from its network, metadata and recipe."""
    from builder.recipe import recipe_from_dict

    data = dict(recipe_data or {}) or _prediction_recipe(meta, path)
    recipe = recipe_from_dict(data, source=f"{path} (recipe)")
    stats = _stats_from_metadata(meta.get("normalization"))
    if meta.get("size_multiple"):
        from builder.workflow.inference import SIZE_MULTIPLE_ATTR

        setattr(model, SIZE_MULTIPLE_ATTR, int(meta["size_multiple"]))
    return ModelSource(
        model=model, recipe=recipe, normalization={"normalize": stats, **_output_intensity(meta)},
        postprocess=meta.get("postprocess") or None, class_names=list(meta.get("class_names") or []) or
        (list(recipe.data.classes) if recipe.data.classes else None), kind="bundle", path=path,
        companions=companions,
    )


def task_from_tags(tags: list[str]) -> str | None:
    """The Cellwright task a package's tags name (``instance-segmentation`` -> the task of that name), if any."""
    from builder.tasks import all_tasks

    names = {name.replace("_", "-"): name for name in all_tasks()}
    found = [names[str(tag).lower()] for tag in tags if str(tag).lower() in names]
    return max(found, key=len) if found else None  # instance-segmentation wins over segmentation


def _prediction_recipe(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    """A recipe that lets a package without one (a BioImage Model Zoo package) predict: task, data, normalisation.

    Its data section is the one a new recipe for the task starts with (prediction reads no training data).
    """
    from builder.tasks import get_task

    meta = {**meta, "task": meta.get("task") or task_from_tags(list(meta.get("tags") or []))}
    if not meta.get("task"):
        raise CellwrightError(str(path), "This shared model does not say which task it solves (no Cellwright "
                              "settings and no task tag such as 'instance-segmentation').",
                              "Use a Cellwright bundle, or a bioimage.io package exported by Cellwright.")
    task = get_task(meta["task"])
    norm = dict(meta.get("normalization") or {})
    normalize = {k: norm[k] for k in ("method", "low", "high", "per_channel", "clip") if k in norm}
    if norm.get("method") == "fixed":  # the statistics travel as min/max and are applied as such
        normalize["method"] = "percentile"
    data = task.new_recipe_data(".")
    if meta.get("class_names") and task.uses_labels:
        data["classes"] = list(meta["class_names"])
    recipe: dict[str, Any] = {"name": meta.get("name") or "shared-model", "task": task.name, "data": data,
                              "preprocess": {"normalize": normalize}}
    if meta.get("pixel_size_um"):
        recipe["data"]["pixel_size"] = meta["pixel_size_um"]
    if meta.get("instance_target"):  # e.g. star_convex: its outputs are post-processed as polygons
        recipe["train"] = {"instance_target": meta["instance_target"]}
    return recipe


def open_model_source(path: str | Path, engine: str = ENGINE_KERAS) -> ModelSource:
    """Open a run folder, a ``.keras`` file (with the run's recipe beside it or one folder up), or a bundle.

    ``engine``: ``keras`` (the default) loads the Keras checkpoint; ``auto`` uses the run's ONNX copy when it is
    fresh (:mod:`builder.workflow.onnx_cache`: no TensorFlow import), else Keras; ``onnx`` insists on the copy.
    Bundles always load with Keras (``onnx`` is refused for them).

    Raises
    ------
    CellwrightError
        When the path is none of these, or the model/recipe cannot be read.
    """
    path = Path(path)
    check_engine(engine)
    if not path.exists():
        raise CellwrightError(str(path), "Not found.", "Give a run folder, a .keras model file or a bundle .zip.")
    if path.is_dir():
        is_bundle = any((path / m).is_file() for m in _BUNDLE_MARKERS)
        if RunFolder(path).checkpoints_dir.is_dir() or is_run_folder(path) and not is_bundle:
            return _open_run(path, engine=engine)
        if is_bundle:
            return _bundle_with(path, engine)
    elif path.suffix.lower() == ".zip":
        return _bundle_with(path, engine)
    elif path.suffix.lower() in (".keras", ".h5"):
        for folder in (path.parent, path.parent.parent):
            if RunFolder(folder).recipe_path.is_file():
                return _open_run(folder, model_path=path, engine=engine)
        name = files.RECIPE.name
        raise CellwrightError(str(path), f"No {name} found next to this model (or one folder up), so its task "
                              "and normalisation are unknown.", "Put the recipe the model was trained with next to "
                              f"the .keras file as {name}, or pass the run folder.")
    raise CellwrightError(str(path), "This is not a model Cellwright can run.",
                          "Give a run folder (runs/NAME-DATE), a .keras file next to its recipe.yaml, or a bundle "
                          ".zip written by 'cellwright export'.")
