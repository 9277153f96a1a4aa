"""Re-export of :mod:`builder.fields` (the field factory lives outside the recipe package so that blocks and
templates can use it without importing the recipe package: no import circle)."""

from builder.fields import MAX_SEED, MAX_TEXT_LENGTH, UI_KEY, Section, field

__all__ = ["MAX_SEED", "MAX_TEXT_LENGTH", "UI_KEY", "Section", "field"]
