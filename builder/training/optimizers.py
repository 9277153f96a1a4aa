"""Keras optimisers from the recipe's ``train.optimizer`` section (Keras is imported when called)."""

from __future__ import annotations

from typing import Any

from builder.recipe.sections.train import Optimizer


def make_optimizer(settings: Optimizer, *, learning_rate: float | None = None) -> Any:
    """Build the Keras optimiser named in ``settings``.

    Parameters
    ----------
    settings : Optimizer
        ``name`` (adam, adamw, sgd, rmsprop), ``learning_rate``, ``weight_decay`` (decoupled, any optimiser),
        ``momentum`` (sgd, rmsprop) and ``clipnorm`` (per-variable gradient norm clipping).
    learning_rate : float, optional
        Start value overriding ``settings.learning_rate`` (the schedule callback sets it every epoch anyway).

    Returns
    -------
    keras.optimizers.Optimizer
    """
    import keras

    common: dict[str, Any] = {"learning_rate": float(learning_rate or settings.learning_rate)}
    if settings.clipnorm is not None:
        common["clipnorm"] = float(settings.clipnorm)
    decay = float(settings.weight_decay) if settings.weight_decay > 0 else None
    name = settings.name
    if name == "adam":
        return keras.optimizers.Adam(weight_decay=decay, **common)
    if name == "adamw":
        return keras.optimizers.AdamW(weight_decay=decay if decay is not None else 0.0, **common)
    if name == "sgd":
        return keras.optimizers.SGD(momentum=float(settings.momentum), weight_decay=decay, **common)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(momentum=float(settings.momentum) if settings.momentum else 0.0,
                                        weight_decay=decay, **common)
    raise ValueError(
        "Invalid value received for argument `train.optimizer.name`. Expected one of adam, adamw, sgd, rmsprop. "
        f"Received: name={name!r}"
    )
