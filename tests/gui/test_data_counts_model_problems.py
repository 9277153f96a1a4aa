"""The data page counts the data even while the model graph has a problem, and a broken data section is named
(seen in the walkthrough screenshots: "Cannot count the data yet: 2 problems found in recipe:" and nothing more)."""

from __future__ import annotations


def _page(qtbot, path):
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    doc = RecipeDocument()
    doc.load(path)
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.load_from_recipe()
    return doc, page


def test_an_unconnected_block_does_not_stop_the_counts(qtbot, tiny_project, tmp_path):
    recipe = tmp_path / "stray.yaml"
    text = (tiny_project / "tiny.yaml").read_text().replace("root: data", f"root: {tiny_project / 'data'}")
    recipe.write_text(text, encoding="utf-8")
    doc, page = _page(qtbot, recipe)
    assert page.update_class_counts() > 0
    counted = page.class_table.item(0, page.class_table.columnCount() - 1).text()
    graph = [{"id": "input", "block": "input", "params": {}, "inputs": []},
             {"id": "stray", "block": "conv2d", "params": {}, "inputs": []}]  # dropped, never wired
    doc.apply(doc.with_graph(graph), "stray block", origin="graph")
    assert any(p.severity == "error" for p in doc.problems)
    assert page.update_class_counts() > 0
    assert page.class_table.item(0, page.class_table.columnCount() - 1).text() == counted
    assert not page.class_note.text().startswith("Cannot count")


def test_a_broken_data_section_is_named_not_just_counted(qtbot, tmp_path):
    (tmp_path / "r.yaml").write_text("cellwright: 1\nname: x\ntask: segmentation\n"
                                     "data: {layout: folders, root: data, masks: masks, bogus: 1}\n")
    _doc, page = _page(qtbot, tmp_path / "r.yaml")
    assert page.update_class_counts() == 0
    note = page.class_note.text()
    assert note.startswith("Cannot count the data yet") and "data.bogus" in note, note
