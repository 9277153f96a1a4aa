"""The fitting step of ``cellwright train``: recipe + data -> datasets, model, loss -> :func:`training.engine.fit`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from builder.events import EventSink, make_event
from builder.recipe import Recipe
from builder.run_folder import NormalizationRecord, RunFolder

#: Fewest steps in an epoch when the recipe leaves ``train.steps_per_epoch`` unset. A small data set (e.g. 80
#: crops in batches of 32) would otherwise give 3 steps per epoch: too few for batch-normalisation statistics to
#: settle between validations, so early stopping would judge the model on meaningless scores.
MIN_STEPS_PER_EPOCH = 10


@dataclass
class Fitted:
    """The trained model (best checkpoint) and what prediction needs to treat new images the same way."""

    model: Any
    info: dict[str, Any]
    normalization: dict[str, Any] | None
    epochs_completed: int
    n_classes: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def _target_fn(recipe: Recipe, variant: str | None) -> Any:
    from builder.tasks import get_task

    return get_task(recipe.task).target_fn(variant)


def _n2v(ds: Any, batch_size: int, seed: int, blind_spot: Any, *, validation: bool, start_sample: int = 0) -> Any:
    """Blind-spot masking on unbatched noisy patches (input changed, target = original + mask).

    ``blind_spot`` is the recipe's ``train.blind_spot`` (replacement, fraction, radius).

    Each patch's mask is drawn from ``(seed, position)``; ``start_sample`` is the position of the first patch
    (a resumed run), so masks continue exactly and validation masks are the same every epoch.
    """
    import tensorflow as tf

    from builder.tasks.image_to_image import make_n2v_map_fn

    masker = make_n2v_map_fn(seed=seed + (1 if validation else 0), fraction=blind_spot.fraction,
                             radius=blind_spot.radius, replacement=blind_spot.replacement)
    ds = ds.unbatch().enumerate(start=0 if validation else start_sample)
    ds = ds.map(lambda i, xy: masker(xy[0], i), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _class_weight_dict(recipe: Recipe, labels: list[int], n_classes: int) -> dict[int, float] | None:
    setting = recipe.train.class_weights
    if setting == "none":
        return None
    if isinstance(setting, list):
        return {i: float(w) for i, w in enumerate(setting)}
    from builder.tasks.classification import class_weights_from_labels

    weights = class_weights_from_labels(np.asarray(labels), n_classes)
    return {i: float(w) for i, w in enumerate(weights)}


def _freeze_callbacks(recipe: Recipe) -> list[Any]:
    policy = _find_freeze_policy(recipe.model.model_dump())
    if policy is None:
        return []
    from builder.backbones.freeze import make_freeze_callback

    return [make_freeze_callback(policy)]


def _find_freeze_policy(model_section: dict[str, Any]) -> Any:
    backbone = _find_backbone(model_section)
    return backbone.get("freeze") if backbone else None


def fit_recipe(recipe: Recipe, dataset: Any, run: Any, *, events: EventSink | None = None,
               resume: bool = False, init_from: Any = None) -> Fitted:
    """Build datasets and model for ``recipe`` and train into ``run`` (continuing it when ``resume``).

    ``init_from``: a ``.keras`` model whose weights the new model starts from (fine-tuning), when not resuming.
    With a trained segmenter (``model.from``, task tracking) nothing is trained: see
    :func:`builder.workflow.segmenter.adopt_segmenter`.
    """
    if recipe.model.from_:
        from builder.workflow.segmenter import adopt_segmenter

        model, info, normalization = adopt_segmenter(recipe, run, events=events)
        return Fitted(model=model, info=info, normalization=normalization, epochs_completed=0)
    from builder.compile import compile_recipe_model
    from builder.data.object_scale import resolve_for_training
    from builder.data.pipeline import make_training_datasets
    from builder.model_files.safe_import import load_keras_safely
    from builder.tasks import get_task
    from builder.training.engine import fit
    from builder.training.strategy import setup_runtime

    recipe, scale = resolve_for_training(recipe, dataset.splits["train"])  # 'auto': measured on the train masks
    if scale is not None:
        _emit_scale(events, scale)
    settings = recipe.train
    runtime = setup_runtime(settings)
    task = get_task(recipe.task)
    variant = task.variant(recipe)
    state = run.read_state() if resume else {}
    start_epoch = int(state.get("epoch", 0))

    batch_size = settings.batch_size if isinstance(settings.batch_size, int) else 8
    batch_size = int(state.get("batch_size") or batch_size)  # a resumed 'auto' run keeps the size it chose
    start_sample = start_epoch * int(state.get("steps_per_epoch") or 0) * batch_size

    def datasets(size: int) -> tuple[Any, Any, dict[str, Any]]:
        return make_training_datasets(recipe, dataset, target_fn=_target_fn(recipe, variant), batch_size=size,
                                      start_sample=start_sample)

    train_ds, val_ds, info = datasets(batch_size)
    n_classes, n_outputs = task.model_outputs(recipe, dataset, info)
    input_shape = tuple(info["input_shape"])

    freeze_policy = _find_freeze_policy(recipe.model.model_dump())

    def model_factory() -> Any:
        model = compile_recipe_model(recipe, input_shape, n_classes=n_classes, n_outputs=n_outputs)
        if resume and state.get("checkpoint"):
            from builder.workflow.init_weights import checkpoint_architecture

            model = checkpoint_architecture(model, run.checkpoints_dir / state["checkpoint"])
        elif init_from is not None:
            from builder.recipe.init_from import same_model_section
            from builder.workflow.init_weights import copy_weights

            model = copy_weights(init_from, model, same_model_section=same_model_section(recipe))
        if freeze_policy is not None:
            from builder.backbones.freeze import apply_freeze

            apply_freeze(model, freeze_policy, start_epoch)
        return model

    loss = task.make_loss(settings.loss, variant=variant, n_classes=n_classes,
                          label_smoothing=settings.label_smoothing,
                          class_weights=None if task.uses_labels else _pixel_class_weights(recipe))
    if settings.batch_size == "auto" and not state.get("batch_size"):
        batch_size = _auto_batch_size(model_factory, train_ds, loss, info, events)
        train_ds, val_ds, info = datasets(batch_size)
    if settings.self_supervised:
        spots = settings.blind_spot
        train_ds = _n2v(train_ds, batch_size, info["seed"], spots, validation=False, start_sample=start_sample)
        val_ds = _n2v(val_ds, batch_size, info["seed"], spots, validation=True) if val_ds is not None else None

    metrics = task.training_metrics()
    class_weight = None
    if task.uses_labels:
        labels = [info["classes"].index(s.label) for s in dataset.splits["train"] if s.label in info["classes"]]
        class_weight = _class_weight_dict(recipe, labels, n_classes or 2)
    normalization = {"normalize": info.get("normalize"), "target_normalize": info.get("target_normalize"),
                     "target_from_input": info.get("target_from_input"), "scale": scale}
    run.write_normalization(NormalizationRecord.from_dict(normalization))
    run.write_origin(recipe.base_dir)
    run.write_data_info({k: v for k, v in info.items() if k != "split"})
    _write_model_summary(recipe, input_shape, n_classes, n_outputs, run)
    _write_test_input(val_ds, run)  # before fit: a run whose training finished has every file it needs
    _write_raw_test_input(recipe, dataset, input_shape, run)

    from builder.workflow.validation_score import validation_score

    scorer = validation_score(recipe, dataset, info, normalization) if val_ds is not None else None
    result = fit(model_factory, train_ds, val_ds, settings=settings, run=run, loss=loss, metrics=metrics,
                 events=events, resume=resume, extra_callbacks=_freeze_callbacks(recipe), runtime=runtime,
                 steps_per_epoch=settings.steps_per_epoch or max(MIN_STEPS_PER_EPOCH, info["steps_per_epoch"]),
                 validation_steps=info["validation_steps"] or None, class_weight=class_weight,
                 batch_size=batch_size, patch_size=input_shape[:2], validation_score=scorer,
                 validation_score_key=scorer.log_key if scorer is not None else None)
    best = run.best_checkpoint if run.best_checkpoint.exists() else run.last_checkpoint
    model = load_keras_safely(best) if best.exists() else result.model
    if events is not None:
        events(make_event("log", message=f"Best checkpoint: {best.name} (epoch {result.best_epoch}, "
                          f"{result.monitor} {_number(result.best_value)})"))
    return Fitted(model=model, info=info, normalization=normalization, epochs_completed=result.epochs_completed,
                  n_classes=n_classes, history=result.history)


def _emit_scale(events: EventSink | None, scale: dict[str, Any]) -> None:
    if events is not None:
        events(make_event("log", message=f"Object diameter {scale['object_diameter']:g} px "
                          f"({scale['measured_from']}): images are rescaled by {scale['factor']:.3g} so objects are "
                          f"{scale['target_diameter']:g} px across for the network."))


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def load_fitted(recipe: Recipe, run: Any, state: dict[str, Any]) -> Fitted:
    """The :class:`Fitted` of a run whose training finished (to resume its evaluation, report or export)."""
    from builder.model_files.safe_import import load_keras_safely

    best = run.best_checkpoint if run.best_checkpoint.is_file() else run.last_checkpoint
    data_info, record = run.read_data_info(), run.read_normalization()
    info = data_info.to_dict() if data_info is not None else {}
    normalization = record.to_dict() if record is not None else None
    classes = info.get("classes") or None
    from builder.tasks import get_task

    n_classes = len(classes) if get_task(recipe.task).uses_labels and classes else None
    return Fitted(model=load_keras_safely(best), info=info, normalization=normalization,
                  epochs_completed=int(state.get("epoch", 0)), n_classes=n_classes, history=run.read_history())


def _pixel_class_weights(recipe: Recipe) -> list[float] | None:
    weights = recipe.train.class_weights
    return [float(w) for w in weights] if isinstance(weights, list) else None


def _auto_batch_size(model_factory: Any, train_ds: Any, loss: Any, info: dict[str, Any],
                     events: EventSink | None) -> int:
    from builder.training.batch_size import find_batch_size

    x_spec, y_spec = train_ds.element_spec[:2]
    size = find_batch_size(model_factory, tuple(x_spec.shape[1:]), tuple(y_spec.shape[1:]), loss=loss,
                           n_train=max(1, info["steps_per_epoch"] * info["batch_size"]), events=events,
                           y_dtype=y_spec.dtype.name)
    if events is not None:
        events(make_event("log", message=f"batch_size: auto chose {size}"))
    return size


def _write_model_summary(recipe: Recipe, input_shape: tuple[int, ...], n_classes: int | None,
                         n_outputs: int | None, run: RunFolder) -> None:
    """Per-node output shapes and parameter counts (the model summary) and the graph diagram."""
    from builder.compile import build_checked, check_graph, expand_model, model_context
    from builder.graph_diagram import draw_graph

    ctx = model_context(recipe, input_shape, n_classes=n_classes, n_outputs=n_outputs)
    report = check_graph(expand_model(recipe, ctx), ctx)
    model = build_checked(report, ctx, name="model")
    per_node = params_per_node(model, list(report.order))
    nodes, params = [], {}
    for node_id in report.order:
        node = report.nodes[node_id]
        count = per_node[node_id]
        params[node_id] = count
        shape = node.shapes.get(node.default_port())
        nodes.append({"id": node_id, "block": node.block.name, "output_shape": list(shape) if shape else None,
                      "params": count})
    trainable = int(sum(np.prod(v.shape) for v in model.trainable_weights))
    backbone = _find_backbone(recipe.model.model_dump())
    run.write_model_summary({
        "nodes": nodes, "total_params": int(model.count_params()), "trainable_params": trainable,
        "frozen_layers": sum(1 for layer in model.layers if not layer.trainable and layer.weights),
        "backbone": backbone, "template": recipe.model.template,
        "backbone_pretraining": _pretraining_record(recipe, backbone),
        "downsampling_factor": int(report.factor),
    })
    # The diagram is an illustration: a drawing problem must not stop training.
    with contextlib.suppress(Exception):
        draw_graph(report, run.model_png_path, title=recipe.name, params=params)


def params_per_node(model: Any, node_ids: list[str]) -> dict[str, int]:
    """Parameters of each graph node: a block builds one layer named after its node, or several named
    ``<node>_<part>`` (e.g. the star head's feature convolution and outputs); each layer counts for the longest node
    id that is its name or its name's prefix."""
    counts = dict.fromkeys(node_ids, 0)
    by_length = sorted(node_ids, key=len, reverse=True)
    for layer in model.layers:
        owner = next((n for n in by_length if layer.name == n or layer.name.startswith(f"{n}_")), None)
        if owner is not None:
            counts[owner] += int(layer.count_params())
    return counts


def _pretraining_record(recipe: Recipe, backbone: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``cellwright pretrain`` record of a ``backbone: {from: FILE}`` encoder (None for other backbones)."""
    source = (backbone or {}).get("from") or (backbone or {}).get("from_")
    if not source:
        return None
    from builder.backbones.shared import resolve_shared_path
    from builder.workflow.pretrain_job import read_record

    try:
        return read_record(resolve_shared_path(str(source), recipe.base_dir))
    except Exception:  # the report's note is a courtesy: never stop training over it
        return None


def _find_backbone(model_section: dict[str, Any]) -> dict[str, Any] | None:
    """The backbone settings of a model section: a template's ``backbone:`` or a graph's backbone node."""
    params = model_section.get("params") or {}
    if isinstance(params.get("backbone"), dict):
        return params["backbone"]
    for node in model_section.get("graph") or []:
        if isinstance(node, dict) and node.get("block") == "backbone":
            return node.get("params") or {}
    return None


def _write_raw_test_input(recipe: Recipe, dataset: Any, input_shape: tuple[int, ...], run: RunFolder) -> None:
    """One raw validation (else training) image: the test input of exported packages.

    Whole-image models (classification) take the training input size; the others any multiple of the
    network's down-sampling.
    """
    from builder.tasks import get_task
    from builder.workflow.raw_test_image import raw_test_image

    try:
        multiple = int(recipe.model.downsampling_factor())
    except Exception:  # a graph whose factor cannot be read: crop to any size
        multiple = 1
    samples = list(dataset.splits.get("validation") or []) + list(dataset.splits.get("train") or [])
    fixed = get_task(recipe.task).whole_image_input
    model_input = (input_shape[0], input_shape[1]) if fixed else (None, None)
    raw = raw_test_image(recipe, samples[:5], model_input, multiple)
    if raw is not None:
        run.write_raw_test_input(raw)


def _write_test_input(val_ds: Any, run: RunFolder) -> None:
    """One normalised validation patch, used to check exports against the Keras model."""
    if val_ds is None:
        return
    for batch in val_ds.take(1):
        x = np.asarray(batch[0][:1], dtype=np.float32)
        run.write_test_input(x)
