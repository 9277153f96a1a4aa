"""One registry of block types: the compiler, the recipe schema, ``cellwright blocks`` and the GUI palette read it.

A block is one small declaration (a :class:`Block` subclass) decorated with :func:`register_block`.
Importing this module never imports TensorFlow or Keras; ``Block.build`` imports Keras when it runs.

Shapes used by the static checks leave out the batch axis: ``(H, W, C)`` for images and ``(F,)`` for
vectors; any entry may be ``None`` (unknown until the model runs).
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from builder.errors import GraphError
from builder.fields import Section

if TYPE_CHECKING:  # pragma: no cover
    from builder.blocks.context import ModelContext

Shape = tuple  # (H, W, C) for images, (F,) for vectors; entries are int or None

#: Modules holding block declarations; imported the first time the registry is read.
BLOCK_MODULES = (
    "builder.blocks.io",
    "builder.blocks.convolution",
    "builder.blocks.pooling",
    "builder.blocks.normalization",
    "builder.blocks.merging",
    "builder.blocks.dense",
    "builder.blocks.composite",
    "builder.blocks.heads",
    "builder.blocks.backbone",
)

CATEGORIES = (
    "Input", "Convolution", "Pooling", "Resampling", "Normalization", "Regularization", "Activation", "Merge",
    "Dense", "Reshape", "Composite", "Backbone", "Head",
)

_BLOCKS: dict[str, type[Block[Any]]] = {}
#: A block class (what :func:`register_block` decorates and returns unchanged).
BlockClass = TypeVar("BlockClass", bound="type[Block[Any]]")
_LOADED = False


@dataclass(frozen=True)
class Port:
    """One input or output of a block: ``kind`` is "image" (B,H,W,C), "vector" (B,F) or "any"."""

    name: str
    kind: str = "image"


class NoParams(Section):
    """This block has no parameters."""


#: The parameter model of a block (its ``Params``); ``self.p`` has this type.
P = TypeVar("P", bound=Section)


class Block(Generic[P]):
    """Base of every block declaration.

    Subclasses set ``name``, ``category``, a docstring (first line = palette tooltip), ``Params``,
    ``inputs``/``outputs`` and implement :meth:`infer` (static shapes) and :meth:`build` (Keras).
    """

    name: ClassVar[str] = ""
    category: ClassVar[str] = ""
    Params: ClassVar[type[Section]] = NoParams
    inputs: ClassVar[tuple[Port, ...]] = (Port("input", "image"),)
    outputs: ClassVar[tuple[Port, ...]] = (Port("output", "image"),)
    #: ``True``: the single input port accepts two or more tensors (Add, Concatenate, Multiply).
    variadic: ClassVar[bool] = False
    #: Fewest inputs when trailing input ports are optional (``None``: all ports are required).
    min_inputs: ClassVar[int | None] = None
    #: Output port used when an input names only the node (multi-output blocks such as backbones).
    default_output: ClassVar[str | None] = None
    #: Downsampling factor of the whole graph; the graph checker sets it before :meth:`infer`.
    graph_factor: int = 0

    def __init__(self, node_id: str, params: P, ctx: ModelContext, input_ids: list[str] | None = None) -> None:
        self.id = node_id
        self.p: P = params
        self.ctx = ctx
        self.input_ids = list(input_ids or [])

    # -- static part (no TensorFlow) -------------------------------------------------------------
    def infer(self, shapes: list[Shape]) -> Shape | dict[str, Shape]:
        """Output shape(s) from input shapes; raise :class:`GraphError` via :meth:`fail` when they do not fit."""
        return shapes[0]

    def scale(self) -> Fraction | dict[str, Fraction]:
        """How much this block shrinks the image (2 for a 2x2 pooling, 1/2 for a 2x up-sampling)."""
        return Fraction(1)

    def needs_fixed_size(self) -> bool:
        """``True`` when the model can only run at one input size (Flatten, Reshape of images)."""
        return False

    # -- Keras part ------------------------------------------------------------------------------
    def build(self, tensors: list[Any]) -> Any:
        """Create the Keras layer(s) named after the node and apply them; return the output tensor(s)."""
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------------
    def fail(self, what: str, fix: str) -> GraphError:
        """A :class:`GraphError` located at this node (the checker adds the port or parameter it knows)."""
        return GraphError(what=what, fix=fix, node=self.id, block=self.name)

    @classmethod
    def summary(cls) -> str:
        """First line of the docstring: the palette tooltip."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Everything the GUI palette and ``cellwright blocks --json`` need about this block."""
        return {
            "name": cls.name,
            "category": cls.category,
            "summary": cls.summary(),
            "doc": (cls.__doc__ or "").strip(),
            "inputs": [{"name": p.name, "kind": p.kind} for p in cls.inputs],
            "outputs": [{"name": p.name, "kind": p.kind} for p in cls.outputs],
            "variadic": cls.variadic,
            "params_schema": cls.Params.model_json_schema(),
        }


def register_block(name: str):
    """Class decorator adding a block declaration to the registry (checked when the module is imported)."""

    def decorate(cls: BlockClass) -> BlockClass:
        if name in _BLOCKS and _BLOCKS[name] is not cls:
            raise ValueError(
                f"Block name '{name}' is registered twice ({_BLOCKS[name].__qualname__}, {cls.__qualname__})."
            )
        if not cls.__doc__ or not cls.__doc__.strip():
            raise ValueError(f"Block '{name}' needs a docstring: its first line is the palette tooltip.")
        if cls.category not in CATEGORIES:
            raise ValueError(f"Block '{name}' has category {cls.category!r}; expected one of {CATEGORIES}.")
        if not (isinstance(cls.Params, type) and issubclass(cls.Params, Section)):
            raise ValueError(f"Block '{name}' needs a Params class derived from builder.fields.Section.")
        if cls.build is Block.build:
            raise ValueError(f"Block '{name}' must implement build().")
        cls.name = name
        _BLOCKS[name] = cls
        return cls

    return decorate


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for module in BLOCK_MODULES:
        importlib.import_module(module)


def all_blocks() -> dict[str, type[Block[Any]]]:
    """All registered blocks by name, in declaration order."""
    _load()
    return dict(_BLOCKS)


def get_block(name: str) -> type[Block[Any]]:
    """The block class called ``name``; raises :class:`GraphError` listing the valid names otherwise."""
    blocks = all_blocks()
    if name in blocks:
        return blocks[name]
    raise GraphError(f"block '{name}'", unknown_name_message("block", name, blocks), "see `cellwright blocks`")


def unknown_name_message(kind: str, name: str, valid: Any) -> str:
    """``Unknown block 'conv3d'; did you mean 'conv2d'? Valid blocks: ...``."""
    names = sorted(valid)
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"Unknown {kind} '{name}'.{hint} Valid {kind}s: {', '.join(names)}."


def shape_text(shape: Shape | None) -> str:
    """Human form of a static shape, with the batch axis: ``(B, 64, 64, 16)``."""
    if shape is None:
        return "(unknown)"
    return "(B, " + ", ".join("?" if s is None else str(s) for s in shape) + ")"


def kind_of(shape: Shape) -> str:
    return "image" if len(shape) == 3 else "vector" if len(shape) == 1 else f"{len(shape) + 1}-D tensor"
