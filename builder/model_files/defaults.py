"""Defaults shared by the exporters, the readers and the recipe schema (no imports: anything may use them)."""

#: Largest allowed absolute difference between an exported (or re-opened) model's outputs and the Keras model's.
#: The recipe's ``export.tolerance`` defaults to it, and every export and re-check falls back to it.
DEFAULT_TOLERANCE = 1e-4
