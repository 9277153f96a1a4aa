"""Start a new model from a trained one's weights (fine-tuning a model version on more annotations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.errors import WeightsError


def open_init_from(value: str | Path, base_dir: Path) -> tuple[Any, str]:
    """The trained model ``train.init_from`` names (run folder, ``.keras`` file or bundle) and its name.

    Raises
    ------
    WeightsError
        Nothing there, or not a model.
    """
    from builder.recipe.init_from import FIX, KEY, init_from_path, is_bundle, model_file

    path = init_from_path(str(value), base_dir)
    found = model_file(path)
    if found is not None:
        return found, path.name
    if is_bundle(path):
        from builder.workflow.model_source import open_model_source

        return open_model_source(path).model, path.name
    raise WeightsError(KEY, f"The model to fine-tune from was not found or is not a model. Expected a run folder, "
                       f".keras file or bundle. Received: {path}.", FIX)


def _weights_mismatch(trained: Any, model: Any) -> str | None:
    """How ``trained``'s weights differ from ``model``'s (the first differing weight), or None when they fit."""
    old, new = trained.weights, model.weights
    mismatch = next(((a.path, tuple(a.shape), b.path, tuple(b.shape)) for a, b in zip(old, new, strict=False)
                     if tuple(a.shape) != tuple(b.shape)), None)
    if mismatch is not None:
        return f"{mismatch[0]} has shape {mismatch[1]}, the new model's {mismatch[2]} {mismatch[3]}"
    return None if len(old) == len(new) else f"{len(old)} weights vs {len(new)}"


def _open_trained(source: Any) -> tuple[Any, Path]:
    from builder.model_files.safe_import import load_keras_safely

    if hasattr(source, "weights"):
        return source, Path(str(getattr(source, "name", "model")))
    path = Path(source)
    if not path.is_file():
        raise WeightsError(str(path), "The model to fine-tune from was not found.",
                           "Pass a run folder that finished training (it has checkpoints/best.keras).")
    return load_keras_safely(path), path


def checkpoint_architecture(model: Any, checkpoint: str | Path) -> Any:
    """The model a resumed run continues: ``model`` (built from the run's recipe) when the ``checkpoint``'s
    weights fit it, else the checkpoint's own model.

    A block default that changed between Cellwright versions (the star-convex head's hidden features, 64 then 32)
    makes the run's unchanged recipe build another architecture than the one its checkpoints hold; the run goes on
    with the architecture it was trained with.
    """
    if not Path(checkpoint).is_file():
        return model  # the resume itself names the missing checkpoint and what to do
    trained, _path = _open_trained(checkpoint)
    return model if _weights_mismatch(trained, model) is None else trained


def copy_weights(source: Any, model: Any, *, same_model_section: bool = False) -> Any:
    """Set ``model``'s weights to those of ``source`` (a ``.keras`` file or a loaded model of the same
    architecture) and return it.

    With ``same_model_section`` (the source's recipe has this recipe's ``model:`` section, checked by
    ``validate``), weights that do not fit mean that a block default changed since the source was trained: the
    source's own model is returned (it holds its weights), so a new version of an earlier model still starts from it.

    Raises
    ------
    WeightsError
        ``source`` is missing or its weights do not fit ``model`` (the first differing weight is named).
    """
    trained, path = _open_trained(source)
    detail = _weights_mismatch(trained, model)
    if detail is not None and same_model_section:
        import keras

        started = keras.models.clone_model(trained)  # the caller's model is new, never a shared loaded one
        started.set_weights(trained.get_weights())
        return started
    if detail is not None:
        raise WeightsError(str(path), f"Its weights (train.init_from) do not fit the recipe's model. Expected the "
                           f"same architecture. "
                           f"Received: {detail}.", "Retrain with the recipe the model was trained with (do not "
                           "change model:, data.channels or the patch size between versions).")
    model.set_weights(trained.get_weights())
    return model
