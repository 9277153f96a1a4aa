"""Property-based: random damage to valid recipes never crashes validation; errors are located and readable."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import recipes
from builder.recipe import validate_text

BASES = [yaml.safe_load(p.read_text()) for p in sorted(recipes.EXAMPLES.glob("*.yaml"))]

junk_values = st.one_of(
    st.integers(min_value=-10**6, max_value=10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


def _parent(data, path):
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def damaged_recipes(draw):
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    paths = list(_paths(data))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        action = draw(st.sampled_from(["replace", "delete", "unknown_key"]))
        try:
            if action == "replace":
                parent[path[-1]] = draw(junk_values)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=8)) + "_x"] = draw(junk_values)
        except (KeyError, IndexError, TypeError):
            pass
        paths = list(_paths(data))
        if not paths:
            break
    text = yaml.safe_dump(data, sort_keys=False)
    if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:  # sometimes break the YAML syntax itself
        cut = draw(st.integers(0, max(0, len(text) - 1)))
        text = text[:cut] + draw(st.sampled_from([": :", "\t", "[", "{a: ", "- - :", "\"", "!!python/name:os"])) \
            + text[cut:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_recipes())
def test_validation_never_crashes_and_errors_are_located(text):
    recipe, problems = validate_text(text, source="fuzz.yaml")
    errors = [p for p in problems if p.severity == "error"]
    if recipe is None:
        assert errors, "an invalid recipe must come with at least one error"
    for problem in errors:
        assert problem.where.startswith("fuzz.yaml"), problem.where
        assert problem.what and problem.what[0].isupper() or problem.what[0] in "`'", problem.what
        assert "Traceback" not in problem.what
        if text.strip() and isinstance(yaml.safe_load(text) if _parses(text) else None, dict):
            assert problem.line is not None or problem.key in ("", "cellwright"), problem.format()


def _parses(text):
    try:
        yaml.safe_load(text)
        return True
    except yaml.YAMLError:
        return False
