"""Typed contents of the run files whose shape is fixed (the open-ended ones stay plain JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class NormalizationRecord:
    """``normalization.json``: the dataset statistics training normalised with (None: per-image).

    Attributes
    ----------
    normalize : dict or None
        Input statistics (``offset``/``scale``, ``min``/``max`` or ``mean``/``std`` lists per channel).
    target_normalize : dict or None
        The same for image-to-image targets.
    target_from_input : dict or None
        With per-image target normalisation: how a target's statistics follow from its input's, learned on the
        training pairs (``offset``/``scale`` lists; see ``builder.data.normalize.target_relation``).
    scale : dict or None
        With ``preprocess.object_diameter``: the objects' diameter in the training images (``object_diameter``,
        px; measured from the training masks when the recipe says ``auto``), ``target_diameter``, ``factor``
        (images were rescaled by it) and ``measured_from`` (see ``builder.data.object_scale.scale_record``).
    """

    normalize: dict[str, Any] | None = None
    target_normalize: dict[str, Any] | None = None
    target_from_input: dict[str, Any] | None = None
    scale: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormalizationRecord:
        return cls(normalize=data.get("normalize") or None, target_normalize=data.get("target_normalize") or None,
                   target_from_input=data.get("target_from_input") or None, scale=data.get("scale") or None)

    def to_dict(self) -> dict[str, Any]:
        out = {"normalize": self.normalize, "target_normalize": self.target_normalize,
               "target_from_input": self.target_from_input}
        if self.scale is not None:
            out["scale"] = self.scale
        return out


@dataclass(frozen=True)
class OriginRecord:
    """``origin.json``: the folder of the recipe a run was started from (relative data paths start there)."""

    base_dir: Path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OriginRecord | None:
        base = data.get("base_dir")
        return cls(Path(base)) if base else None

    def to_dict(self) -> dict[str, Any]:
        return {"base_dir": str(self.base_dir)}


@dataclass(frozen=True)
class DataInfo:
    """``data_info.json``: dataset facts training recorded (class names in output order, patch counts, seed)."""

    values: dict[str, Any]

    @property
    def classes(self) -> list[str] | None:
        classes = self.values.get("classes")
        return [str(c) for c in classes] if classes else None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.values)
