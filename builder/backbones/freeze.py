"""Freeze policies for pretrained backbones: ``all``, ``none``, ``{until_epoch: N}``, ``{up_to: LAYER}``.

A frozen layer has ``trainable = False``. In Keras 3 a BatchNormalization layer that is not trainable always
runs in inference mode (it uses and keeps its moving statistics even when the model trains), which is what
fine-tuning needs. Backbones are found through their ``BackboneInput`` adapter layer, whose config names the
nested backbone model, so this also works on a model loaded from a ``.keras`` file.

Changing ``trainable`` after ``compile`` only takes effect once the train function is rebuilt, and the
optimizer only updates variables it was built with: ``make_freeze_callback`` builds the optimizer with every
backbone variable up front and rebuilds the train function when the policy unfreezes layers.
"""

from __future__ import annotations

import difflib
from typing import Any

from builder.errors import GraphError

FreezePolicy = Any  # "all" | "none" | {"until_epoch": N} | {"up_to": LAYER} | a FreezeUntil/FreezeUpTo Section


def normalize_policy(policy: FreezePolicy) -> tuple[str, Any]:
    """``("all"|"none", None)``, ``("until_epoch", N)`` or ``("up_to", LAYER)`` from any accepted spelling."""
    if hasattr(policy, "model_dump"):
        policy = policy.model_dump()
    if policy is None or policy is False:
        return "none", None
    if policy is True:
        return "all", None
    if isinstance(policy, str) and policy in ("all", "none"):
        return policy, None
    if isinstance(policy, dict) and len(policy) == 1:
        ((key, value),) = policy.items()
        if key == "until_epoch" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return key, value
        if key == "up_to" and isinstance(value, str) and value:
            return key, value
    raise GraphError("freeze", f"Expected 'all', 'none', {{until_epoch: N}} or {{up_to: LAYER}}. "
                     f"Received: freeze={policy!r}", "Write e.g. `freeze: {until_epoch: 5}`.")


def find_backbones(model: Any) -> list[Any]:
    """The nested backbone models of ``model`` (those fed by a ``BackboneInput`` layer), in layer order."""
    from builder.backbones.layers import BackboneInput

    found, stack = [], [model]
    while stack:
        current = stack.pop(0)
        for layer in getattr(current, "layers", []):
            if isinstance(layer, BackboneInput) and layer.backbone:
                found.append(current.get_layer(layer.backbone))
            elif getattr(layer, "layers", None):
                stack.append(layer)
    return found


def _set(backbone: Any, policy: tuple[str, Any], epoch: int) -> list[str]:
    kind, value = policy
    if kind == "all" or (kind == "until_epoch" and epoch < value):
        backbone.trainable = False
        return [layer.name for layer in backbone.layers if layer.weights]
    backbone.trainable = True  # also sets every sub-layer
    if kind != "up_to":
        return []
    names = [layer.name for layer in backbone.layers]
    if value not in names:
        close = difflib.get_close_matches(value, names, n=3, cutoff=0.6)
        hint = f"Did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        raise GraphError(f"freeze.up_to ({backbone.name})",
                         f"The backbone has no layer {value!r}. Received: up_to={value!r}",
                         f"{hint}Run `cellwright build RECIPE` to list the backbone's layers.")
    frozen = []
    for layer in backbone.layers[: names.index(value) + 1]:
        layer.trainable = False
        if layer.weights:
            frozen.append(layer.name)
    return frozen


def apply_freeze(model: Any, policy: FreezePolicy, epoch: int = 0) -> list[str]:
    """Set ``trainable`` on every backbone of ``model`` as ``policy`` asks at ``epoch`` (0-based).

    Returns
    -------
    list of str
        ``"backbone/layer"`` names of the frozen layers that hold weights (empty when nothing is frozen).

    Raises
    ------
    GraphError
        If the policy is malformed or ``up_to`` names a layer the backbone does not have.
    """
    parsed = normalize_policy(policy)
    frozen = []
    for backbone in find_backbones(model):
        frozen += [f"{backbone.name}/{name}" for name in _set(backbone, parsed, epoch)]
    return frozen


def prepare_optimizer(model: Any) -> None:
    """Build ``model.optimizer`` with the trainable variables plus every backbone variable (call after compile).

    A Keras optimizer refuses variables it was not built with, so layers unfrozen later would fail the first
    update. Built with all of them, the optimizer updates only those that get gradients.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built:
        return
    variables, seen = [], set()
    for variable in list(model.trainable_variables) + [
        v for backbone in find_backbones(model) for layer in backbone.layers
        for v in layer.weights if _was_trainable(layer, v)
    ]:
        if id(variable) not in seen:
            seen.add(id(variable))
            variables.append(variable)
    optimizer.build(variables)


def _was_trainable(layer: Any, variable: Any) -> bool:
    """True for variables a layer trains when unfrozen (e.g. BN gamma/beta, not its moving statistics)."""
    keep = layer.trainable
    try:
        layer.trainable = True
        return any(variable is v for v in layer.trainable_weights)
    finally:
        layer.trainable = keep


def make_freeze_callback(policy: FreezePolicy) -> Any:
    """A ``keras.callbacks.Callback`` applying ``policy`` at the start of every epoch.

    At ``on_train_begin`` it applies the policy for the first epoch and builds the optimizer for all backbone
    variables; when an epoch changes what is frozen (``until_epoch``), it rebuilds the train function so the
    change takes effect. Add it to ``model.fit(callbacks=...)`` after ``model.compile``.
    """
    import keras

    parsed = normalize_policy(policy)

    class FreezeCallback(keras.callbacks.Callback):
        """Applies a Cellwright freeze policy each epoch (see ``builder.backbones.freeze``)."""

        def __init__(self) -> None:
            super().__init__()
            self.policy = parsed
            self.frozen: list[str] | None = None

        def _apply(self, epoch: int) -> None:
            frozen = apply_freeze(self.model, dict([self.policy]) if self.policy[1] is not None
                                  else self.policy[0], epoch)
            if self.frozen is not None and frozen != self.frozen:
                self.model.make_train_function(force=True)
            self.frozen = frozen

        def on_train_begin(self, logs: dict | None = None) -> None:
            initial = getattr(self.model, "_initial_epoch", None) or 0
            self._apply(int(initial))
            prepare_optimizer(self.model)
            self.model.make_train_function(force=True)

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self._apply(epoch)

    return FreezeCallback()
