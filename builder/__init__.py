"""Cellwright engine: recipes, blocks, compiler, data, training, evaluation, reports and export.

Importing :mod:`builder` never imports TensorFlow; heavy imports happen inside the functions that need them.
"""

__version__ = "0.1.0"
