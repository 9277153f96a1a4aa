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


def copy_weights(source: Any, model: Any) -> Any:
    """Set ``model``'s weights to those of ``source`` (a ``.keras`` file or a loaded model of the same
    architecture) and return it.

    Raises
    ------
    WeightsError
        ``source`` is missing or its weights do not fit ``model`` (the first differing weight is named).
    """
    from builder.model_files.safe_import import load_keras_safely

    if hasattr(source, "weights"):
        trained, path = source, Path(str(getattr(source, "name", "model")))
    else:
        path = Path(source)
        if not path.is_file():
            raise WeightsError(str(path), "The model to fine-tune from was not found.",
                               "Pass a run folder that finished training (it has checkpoints/best.keras).")
        trained = load_keras_safely(path)
    old, new = trained.weights, model.weights
    mismatch = next(((a.path, tuple(a.shape), b.path, tuple(b.shape)) for a, b in zip(old, new, strict=False)
                     if tuple(a.shape) != tuple(b.shape)), None)
    if len(old) != len(new) or mismatch is not None:
        detail = (f"{mismatch[0]} has shape {mismatch[1]}, the new model's {mismatch[2]} {mismatch[3]}"
                  if mismatch else f"{len(old)} weights vs {len(new)}")
        raise WeightsError(str(path), f"Its weights (train.init_from) do not fit the recipe's model. Expected the "
                           f"same architecture. "
                           f"Received: {detail}.", "Retrain with the recipe the model was trained with (do not "
                           "change model:, data.channels or the patch size between versions).")
    model.set_weights(trained.get_weights())
    return model
