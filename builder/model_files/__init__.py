"""Reading model files safely: shared bundles and bioimage.io packages, ``.keras`` files, checks against their
stored test outputs.

This package sits below the model parts (blocks, backbones) and the exporters, so both can open a shared model
without importing each other. It imports nothing of Cellwright but :mod:`builder.errors` at module level; to
deserialise Cellwright's own Keras layers, :func:`.safe_import.load_keras_safely` imports the block and backbone
modules by name when it is called (a plugin load, not a dependency of this package on them).
"""
