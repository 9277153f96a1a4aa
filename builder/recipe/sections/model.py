"""The ``model:`` section: a template with parameters, or an explicit graph of blocks.

``params`` of a template are checked against that template's ``Params``; ``params`` of every graph node
against its block's ``Params`` (error locations are key paths such as ``model.graph.3.params.filters``).
Unknown block or template names are errors that list the valid names. The JSON Schema holds every
template's and block's parameters as unions discriminated by ``template`` / ``block``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, TypeAdapter, ValidationInfo, create_model, field_validator, model_validator

from builder.recipe.fields import Section, field


def _blocks() -> dict[str, Any]:
    from builder.blocks.registry import all_blocks

    return all_blocks()


def _templates() -> dict[str, Any]:
    from builder.templates import all_templates

    return all_templates()


def _unknown(kind: str, name: Any, valid: Any) -> str:
    from builder.blocks.registry import unknown_name_message

    return unknown_name_message(kind, name, valid)


class Node(Section):
    """One block in an explicit model graph."""

    id: str = field(..., help="Unique name of this node; becomes the Keras layer name.", min_length=1)
    block: str = field(..., help="Block type, e.g. conv2d, conv_block, backbone (see `cellwright blocks`).")
    params: dict[str, Any] = field(default_factory=dict, help="Parameters of the block.")
    inputs: list[str] = field(
        default_factory=list,
        help="Ids of the nodes feeding this one, in order; 'node.port' picks an output port (e.g. encoder.s8).",
    )

    @field_validator("block")
    @classmethod
    def _known_block(cls, value: str) -> str:
        if value not in _blocks():
            raise ValueError(_unknown("block", value, _blocks()))
        return value

    @field_validator("params")
    @classmethod
    def _block_params(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        block = info.data.get("block")
        if block is None:  # the block name itself is wrong; reported above
            return value
        return _blocks()[block].Params.model_validate(value).model_dump(exclude_unset=True)


class ModelSection(Section):
    """The network: a template with parameters, or an explicit graph of nodes; or (tracking) a trained segmenter.

    In YAML the trained segmenter is the key ``from`` (``model: {from: runs/nuclei-20260101-1200}``); in Python
    the field is ``from_``.
    """

    model_config = ConfigDict(**Section.model_config, validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    from_: Annotated[str | None, Field(alias="from")] = field(
        None, widget="path", label="Trained segmenter",
        help="Task tracking: an instance-segmentation model trained before (its run folder, or a Cellwright bundle "
             ".zip; relative to the recipe's folder) that segments every frame. Nothing is trained: the run links "
             "the cells and scores the tracks; the model's own preprocessing and post-processing are used.",
    )
    template: str | None = field("unet", help="Architecture template (see `cellwright templates`).", common=True)
    graph: list[Node] | None = field(None, help="Explicit graph of nodes; used instead of a template.")
    params: dict[str, Any] = field(default_factory=dict, help="Parameters of the template.")

    @field_validator("template")
    @classmethod
    def _known_template(cls, value: str | None) -> str | None:
        if value is not None and value not in _templates():
            raise ValueError(_unknown("template", value, _templates()))
        return value

    @field_validator("params")
    @classmethod
    def _template_params(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.data.get("graph") is not None:
            if value:
                raise ValueError("'params' belong to a template; with a 'graph', give params inside each node")
            return value
        template = info.data.get("template")
        if template is None:
            return value
        return _templates()[template].Params.model_validate(value).model_dump(exclude_unset=True)

    @model_validator(mode="after")
    def _template_or_graph(self) -> ModelSection:
        if self.graph is not None and "template" in self.model_fields_set and self.template:
            raise ValueError("give either 'template' or 'graph', not both")
        if self.graph is not None:
            self.__dict__["template"] = None
        if self.graph is None and self.template is None:
            raise ValueError("give a 'template' (e.g. unet) or a 'graph' of nodes")
        return self

    def downsampling_factor(self) -> int:
        """Factor by which the network shrinks its input; patch sizes must be multiples of it."""
        if self.graph is not None:
            from builder.graph_checks import downsampling_factor

            return downsampling_factor(self.graph)
        if self.template is None:
            return 1
        return int(_templates()[self.template].downsampling_factor(self.params))

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler.resolve_ref_schema(handler(core_schema))
        templates, nodes = _schema_types()
        props = schema.setdefault("properties", {})
        props["template"] = {**props.get("template", {}), "anyOf": [{"enum": sorted(_templates())}, {"type": "null"}]}
        props["params"] = {**props.get("params", {}), **handler(TypeAdapter(templates).core_schema)}
        props["params"].pop("type", None)
        graph = handler(TypeAdapter(list[nodes]).core_schema)  # type: ignore[valid-type]  # built at run time
        props["graph"] = {**{k: v for k, v in props.get("graph", {}).items() if k != "anyOf"},
                          "anyOf": [graph, {"type": "null"}]}
        return schema


@lru_cache(maxsize=1)
def _schema_types() -> tuple[Any, Any]:
    """Unions of every template's Params and of one node model per block (for the JSON Schema)."""
    params = tuple(t.Params for _, t in sorted(_templates().items()))
    node_models = []
    for name, block in sorted(_blocks().items()):  # sorted: the schema must not depend on import order
        node_models.append(create_model(
            f"{block.__name__}Node", __base__=Section, __doc__=block.summary(),
            id=(str, Field(..., description="Unique name of this node; becomes the Keras layer name.")),
            # one Literal per registered block, made at run time
            block=(Literal[name], Field(..., description=block.summary())),  # type: ignore[arg-type]
            params=(block.Params, Field(default_factory=block.Params, description="Parameters of the block.")),
            inputs=(list[str], Field(default_factory=list, description="Ids of the nodes feeding this one.")),
        ))
    nodes = Annotated[Union[tuple(node_models)], Field(discriminator="block")]  # type: ignore[valid-type]
    return Union[params], nodes
