"""The ``model:`` section: a template with parameters, or an explicit graph of blocks.

(Placeholder shape; the block registry validates ``params`` per block/template.)
"""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from builder.recipe.fields import Section, field


class Node(Section):
    """One block in an explicit model graph."""

    id: str = field(..., help="Unique name of this node; becomes the Keras layer name.")
    block: str = field(..., help="Block type, e.g. conv2d, conv_block, backbone (see `cellwright blocks`).")
    params: dict[str, Any] = field(default_factory=dict, help="Parameters of the block.")
    inputs: list[str] = field(default_factory=list, help="Ids of the nodes feeding this one, in order.")


class ModelSection(Section):
    """The network: a template with parameters, or an explicit graph of nodes."""

    template: str | None = field("unet", help="Architecture template (see `cellwright templates`).", common=True)
    params: dict[str, Any] = field(default_factory=dict, help="Parameters of the template.")
    graph: list[Node] | None = field(None, help="Explicit graph of nodes; used instead of a template.")

    @model_validator(mode="after")
    def _template_or_graph(self) -> ModelSection:
        if self.graph is not None and "template" in self.model_fields_set and self.template:
            raise ValueError("give either 'template' or 'graph', not both")
        if self.graph is not None:
            self.__dict__["template"] = None
        return self

    def downsampling_factor(self) -> int:
        """Factor by which the network shrinks its input; patch sizes must be multiples of it."""
        return 1
