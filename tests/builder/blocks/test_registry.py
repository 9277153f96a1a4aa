"""The block registry: every block the issue asks for, complete declarations, no TensorFlow on import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from builder.blocks.registry import Block, all_blocks, get_block, register_block
from builder.errors import GraphError
from builder.recipe.fields import Section

REQUIRED = [
    "input", "conv2d", "separable_conv2d", "conv2d_transpose", "upsampling2d", "max_pooling2d",
    "average_pooling2d", "batch_normalization", "group_normalization", "layer_normalization", "dropout",
    "spatial_dropout2d", "activation", "add", "concatenate", "multiply", "dense", "global_average_pooling2d",
    "flatten", "reshape", "resizing", "conv_block", "residual_block", "squeeze_excite", "attention_gate",
    "down_block", "up_block", "backbone", "classification_head", "segmentation_head", "instance_head",
    "regression_head",
]


def test_every_required_block_is_registered():
    missing = [name for name in REQUIRED if name not in all_blocks()]
    assert not missing


@pytest.mark.parametrize("name", sorted(all_blocks()))
def test_declaration_is_complete(name):
    cls = all_blocks()[name]
    assert cls.name == name and cls.summary() and cls.category
    assert issubclass(cls.Params, Section)
    info = cls.describe()
    assert info["outputs"] and info["params_schema"]["type"] == "object"
    for key, prop in info["params_schema"].get("properties", {}).items():
        assert prop.get("description"), f"{name}.{key} has no help text"


def test_unknown_block_lists_valid_names():
    pattern = r"Unknown block 'conv3d'\. Did you mean 'conv2d'\? Valid blocks: .*max_pooling2d"
    with pytest.raises(GraphError, match=pattern):
        get_block("conv3d")


def test_register_rejects_duplicates_and_incomplete_blocks():
    with pytest.raises(ValueError, match="registered twice"):
        @register_block("conv2d")
        class Other(Block):
            """Doc."""

            category = "Convolution"

            def build(self, tensors):
                return tensors[0]

    with pytest.raises(ValueError, match="docstring"):
        @register_block("no_doc_block")
        class NoDoc(Block):
            category = "Convolution"

            def build(self, tensors):
                return tensors[0]


def test_registry_schema_and_templates_do_not_import_tensorflow():
    code = (
        "import sys; import builder.recipe; from builder.blocks import all_blocks; all_blocks(); "
        "from builder.templates import all_templates; all_templates(); "
        "from builder.recipe.schema import Recipe; Recipe.model_json_schema(); "
        "import builder.cli.commands.build, builder.cli.commands.expand; "
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); assert not bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
