"""Blocks: the building parts of model graphs (see :mod:`builder.blocks.registry`)."""

from builder.blocks.registry import Block, Port, all_blocks, get_block, register_block

__all__ = ["Block", "Port", "all_blocks", "get_block", "register_block"]
