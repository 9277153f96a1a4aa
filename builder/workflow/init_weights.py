"""Start a new model from a trained one's weights (fine-tuning a model version on more annotations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.errors import WeightsError


def copy_weights(source: str | Path, model: Any) -> Any:
    """Set ``model``'s weights to those of the ``.keras`` file ``source`` (same architecture) and return it.

    Raises
    ------
    WeightsError
        ``source`` is missing or its weights do not fit ``model`` (the first differing weight is named).
    """
    from builder.model_files.safe_import import load_keras_safely

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
        raise WeightsError(str(path), f"Its weights do not fit the recipe's model. Expected the same architecture. "
                           f"Received: {detail}.", "Retrain with the recipe the model was trained with (do not "
                           "change model:, data.channels or the patch size between versions).")
    model.set_weights(trained.get_weights())
    return model
