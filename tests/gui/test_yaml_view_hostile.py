"""Pasting a hostile recipe into the YAML view shows a located problem; the window neither hangs nor crashes."""

from __future__ import annotations

import contextlib
import signal

from tests.builder.recipe.hostile_texts import ALIAS_BOMB

HANG_GUARD_S = 20  # far above the normal time (milliseconds); only a regression reaches it


class _HangError(Exception):
    pass


@contextlib.contextmanager
def _hang_guard():
    """Turn a hang into a test failure instead of blocking the test run."""

    def _stop(signum, frame):
        raise _HangError(f"the YAML view did not come back within {HANG_GUARD_S} s")

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.alarm(HANG_GUARD_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_pasted_alias_bomb_shows_a_located_problem_and_keeps_the_recipe(qtbot, doc):
    from gui.yaml_view import YamlView

    view = YamlView(doc)
    qtbot.addWidget(view)
    before = dict(doc.data)
    with _hang_guard():
        view.editor.setPlainText(ALIAS_BOMB)
        view.commit()
    shown = [view.problems.item(i).text() for i in range(view.problems.count())]
    assert any(text.startswith("✕ untitled.yaml:5:") and "once its aliases (`*name`) are expanded" in text
               for text in shown), shown
    assert doc.data == before  # the text did not become the recipe
    assert view.editor.toPlainText() == ALIAS_BOMB  # the user's text stays, to be fixed


def test_pasted_binary_text_shows_a_located_problem(qtbot, doc):
    from gui.yaml_view import YamlView

    view = YamlView(doc)
    qtbot.addWidget(view)
    with _hang_guard():
        view.editor.setPlainText("name: x\ntask: \x07segmentation\n")
        view.commit()
    shown = [view.problems.item(i).text() for i in range(view.problems.count())]
    assert any(text.startswith("✕ untitled.yaml:2:7: The file holds a character") for text in shown), shown


def test_opening_a_binary_or_endless_file_is_refused_and_keeps_the_recipe(qtbot, doc, tmp_path):
    import pytest

    from builder.errors import CellwrightError, RecipeError

    before = dict(doc.data)
    image = tmp_path / "cells.yaml"
    image.write_bytes(bytes(range(256)) * 16)
    with pytest.raises(CellwrightError, match="cells.yaml: This file is not a text"):
        doc.load(image)
    with _hang_guard(), pytest.raises(RecipeError, match="/dev/zero: The recipe is too large to be read"):
        doc.load("/dev/zero")
    assert doc.data == before and doc.path is None
