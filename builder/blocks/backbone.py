"""The Backbone block: a pretrained ``keras.applications`` encoder with skip taps at strides 2..32.

Other nodes use one feature level by naming the port after the node id: ``inputs: [encoder.s8]``
(``encoder`` alone means the deepest level, ``s32``). The catalogue, weights and freeze policies belong to
:mod:`builder.backbones`; this block only wires ``build_encoder`` into graphs. With ``from:`` the encoder is
cut from a shared model (:mod:`builder.backbones.shared`); it offers only the strides that model has, and
``encoder`` alone means its deepest one.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from builder.backbones.params import BackboneParams
from builder.blocks.registry import Block, Port, Shape, register_block, shape_text

STRIDES = (2, 4, 8, 16, 32)


@register_block("backbone")
class Backbone(Block[BackboneParams]):
    """Pretrained encoder (MobileNet, ResNet, EfficientNet, ...) giving feature maps at strides 2 to 32."""

    category = "Backbone"
    Params = BackboneParams
    outputs = tuple(Port(f"s{s}", "image") for s in STRIDES)

    @property
    def default_output(self) -> str:  # type: ignore[override]
        return f"s{max(self._shared().strides)}" if self.p.from_ else "s32"

    def _name(self) -> str:
        """The catalogue name; the params allow it to be empty only together with ``from``."""
        if not self.p.name:
            raise self.fail("Expected a backbone name (params.name) or a shared model (params.from). Received: "
                            "neither.", "set params.name, e.g. mobilenet_v2, or params.from")
        return self.p.name

    def _info(self) -> Any:
        from builder.backbones.catalog import get_backbone

        return get_backbone(self._name(), where=f"node '{self.id}' params.name")

    def _shared_path(self) -> Any:
        from builder.backbones.shared import resolve_shared_path

        if not self.p.from_:
            raise self.fail("Expected a shared model file (params.from). Received: none.", "set params.from")
        return resolve_shared_path(self.p.from_, self.ctx.base_dir, where=f"node '{self.id}' params.from")

    def _shared(self) -> Any:
        from builder.backbones.shared import shared_facts

        return shared_facts(self._shared_path(), where=f"node '{self.id}' params.from")

    def _infer_shared(self, shape: Shape) -> dict[str, Shape]:
        from builder.backbones.shared import channel_error

        facts = self._shared()
        h, w, c = shape
        if c is not None and c != facts.in_channels and self.p.channel_mode == "match":
            raise channel_error(self.id, c, facts.in_channels)
        deepest = max(facts.strides)
        for n, fixed in zip((h, w), facts.input_size, strict=True):
            if fixed is not None and n is not None and n != fixed:
                raise self.fail(f"the shared model {facts.path.name} only takes {facts.input_size[0]}x"
                                f"{facts.input_size[1]} px images; input '{self.input_ids[0]}' gives "
                                f"{shape_text(shape)}.", f"use images (patches) of {fixed} px")
            if n is not None and n % deepest:
                raise self.fail(f"the encoder of {facts.path.name} needs an input size that is a multiple of "
                                f"{deepest}; input '{self.input_ids[0]}' gives {shape_text(shape)}.",
                                f"use a patch/tile size such as {-(-n // deepest) * deepest}")
        return {f"s{s}": (None if h is None else h // s, None if w is None else w // s, None) for s in facts.strides}

    def infer(self, shapes: list[Shape]) -> dict[str, Shape]:
        if self.p.from_:
            return self._infer_shared(shapes[0])
        info = self._info()
        h, w, _ = shapes[0]
        deepest = max(info.strides)
        for n in (h, w):
            if n is not None and (n % deepest or n < info.min_size):
                raise self.fail(
                    f"backbone '{info.name}' needs an input size that is a multiple of {deepest} and at least "
                    f"{info.min_size}; input '{self.input_ids[0]}' gives {shape_text(shapes[0])}.",
                    f"use a patch/tile size such as {max(info.min_size, -(-n // deepest) * deepest)}",
                )
        return {f"s{s}": (None if h is None else h // s, None if w is None else w // s, None) for s in info.strides}

    def scale(self) -> dict[str, Fraction]:
        return {f"s{s}": Fraction(s) for s in STRIDES}

    def build(self, tensors: list[Any]) -> dict[str, Any]:
        from pathlib import Path

        from builder.backbones.build import build_encoder

        p = self.p
        if p.from_:
            from builder.backbones.shared import build_shared_encoder

            features = build_shared_encoder(self._shared_path(), tensors[0], channel_mode=p.channel_mode,
                                            name_prefix=self.id)
            return {f"s{s}": tensor for s, tensor in features.items()}
        base_dir = Path(self.ctx.base_dir) if self.ctx.base_dir else None
        features = build_encoder(
            self._name(), tensors[0], weights=p.weights, channel_mode=p.channel_mode, name_prefix=self.id,
            base_dir=base_dir,
        )
        return {f"s{s}": tensor for s, tensor in features.items()}
