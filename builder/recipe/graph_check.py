"""Recipe check: an explicit ``model.graph`` goes through the engine's graph checker when the recipe is validated.

Every problem keeps its node, port and parameter, and gets its recipe key (``model.graph[3].params.filters``),
so ``cellwright validate`` prints it at its line and column. Templates are checked when they are built.
"""

from __future__ import annotations

from builder.errors import Problem
from builder.recipe.checks import register_check
from builder.recipe.schema import Recipe


@register_check("graph_is_sound")
def _explicit_graph_is_sound(recipe: Recipe) -> list[Problem]:
    if recipe.model.graph is None:
        return []
    from builder.graph_checks import find_problems
    from builder.model_context import model_context

    return find_problems(recipe.model.graph, model_context(recipe), key_prefix="model.graph").problems
