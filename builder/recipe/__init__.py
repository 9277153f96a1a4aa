"""Recipes: the YAML files that state a whole experiment. Importing this never imports TensorFlow."""

from builder.recipe.load import dump_recipe, load_recipe, recipe_from_dict, save_recipe, validate_file, validate_text
from builder.recipe.schema import CURRENT_VERSION, TASKS, Recipe

__all__ = [
    "CURRENT_VERSION",
    "TASKS",
    "Recipe",
    "dump_recipe",
    "load_recipe",
    "recipe_from_dict",
    "save_recipe",
    "validate_file",
    "validate_text",
]
