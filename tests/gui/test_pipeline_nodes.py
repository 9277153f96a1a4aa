"""The pipeline stages are nodes on the canvas; the Model node opens into its blocks and folds back."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt

from gui.graph_editor.pipeline import ModelFrameItem, StageItem, TemplateItem


def _point(editor, target):
    """Viewport point over ``target`` (an item, or a scene rectangle), scrolled into view."""
    rect = target if isinstance(target, QRectF) else target.sceneBoundingRect()
    editor.view.centerOn(rect.center())
    return editor.view.mapFromScene(rect.center())


def _double_click(qtbot, editor, target) -> None:
    """What a real double-click does (sent to the view, as the mouse does)."""
    qtbot.mouseDClick(editor.view.viewport(), Qt.MouseButton.LeftButton, pos=_point(editor, target))


def _click(qtbot, editor, target) -> None:
    qtbot.mouseClick(editor.view.viewport(), Qt.MouseButton.LeftButton, pos=_point(editor, target))


def _title_bar(frame: ModelFrameItem) -> QRectF:
    """Left part of the open model frame's title bar (clear of the "fold" text)."""
    header = frame.header()
    return QRectF(header.left() + 20, header.top() + 5, 60, header.height() - 10)


def test_stages_are_connected_nodes_in_pipeline_order(editor, qtbot):
    editor.show()
    qtbot.waitExposed(editor)
    scene = editor.scene
    scene.set_model_open(False)
    stages = scene.pipeline.stages
    assert list(stages) == ["data", "preprocess", "augment", "model", "evaluate", "outputs"]
    assert all(isinstance(item, StageItem) for item in stages.values())
    xs = [item.scenePos().x() for item in stages.values()]
    assert xs == sorted(xs) and len(set(xs)) == 6
    arrows = [item for item in scene.pipeline.items if not isinstance(item, (StageItem, ModelFrameItem))]
    assert len(arrows) == 5  # one between each pair of neighbouring stages
    assert scene.nodes == {}  # folded: no model blocks on the canvas
    assert "unet" in stages["model"].summary

    # clicking a stage shows its recipe section in the inspector (the same forms as the section bar)
    _click(qtbot, editor, stages["preprocess"])
    assert editor.inspector.current == ("section", "preprocess")
    assert editor.stage_buttons.checkedButton().text() == "Preprocess"
    _click(qtbot, editor, scene.pipeline.stages["outputs"])
    assert editor.inspector.current == ("section", "outputs")
    # the section bar selects the matching node on the canvas
    editor.show_stage("augment")
    assert scene.selected_stage() == "augment"
    editor.show_stage("train")  # not a canvas stage: nothing selected, the form still shows
    assert scene.selected_stage() == "" and editor.inspector.current == ("section", "train")

    # a form edit updates the stage node's summary
    editor.doc.set_value(("preprocess", "patch", "size"), 48)
    assert scene.pipeline.stages["preprocess"].summary == "patches 48 px"
    editor.doc.undo_stack.undo()
    assert "48" not in scene.pipeline.stages["preprocess"].summary

    # double-clicking the Model node opens it: a frame holding the model, the stages arranged around it
    _double_click(qtbot, editor, scene.pipeline.stages["model"])
    assert scene.model_open and isinstance(scene.pipeline.frame, ModelFrameItem)
    frame = scene.pipeline.frame.rect
    stages = scene.pipeline.stages
    assert stages["augment"].sceneBoundingRect().right() < frame.left() < frame.right()
    assert frame.right() < stages["evaluate"].sceneBoundingRect().left()
    assert editor.actions_by_name["model"].text() == "Fold model"
    editor.actions_by_name["model"].trigger()
    assert not scene.model_open and isinstance(scene.pipeline.stages["model"], StageItem)


def test_open_model_frames_the_blocks_and_folds_back(editor, qtbot):
    editor.show()
    qtbot.waitExposed(editor)
    scene = editor.scene
    editor.expand_template()
    assert scene.nodes and scene.pipeline.frame is not None
    frame = scene.pipeline.frame
    for item in scene.nodes.values():
        assert frame.rect.contains(item.sceneBoundingRect())
    assert "expanded unet template" in frame.title
    # selecting a block shows the block; the frame's title bar is the Model stage
    scene.nodes["enc0"].setSelected(True)
    assert editor.inspector.current == ("node", "enc0")
    scene.clearSelection()
    _click(qtbot, editor, _title_bar(frame))
    assert editor.inspector.current == ("section", "model")
    # double-click on the title bar folds the model into one node; adding a block opens it again
    _double_click(qtbot, editor, _title_bar(frame))
    assert not scene.model_open and scene.nodes == {}
    assert f"{len(editor.doc.graph)} blocks" in scene.pipeline.stages["model"].summary
    new_id = scene.add_block("dropout", (0.0, 600.0))
    assert scene.model_open and new_id in scene.nodes


def test_template_node_stands_for_the_whole_model(editor, qtbot):
    scene = editor.scene
    assert scene.model_open and editor.doc.graph is None
    item = scene.pipeline.template
    assert isinstance(item, TemplateItem) and item.name == "unet"
    assert "depth 3" in item.params_text  # a common parameter, shown with its default
    editor.doc.set_value(("model", "params", "depth"), 2)
    assert "depth 2" in scene.pipeline.template.params_text
    scene.pipeline.template.setSelected(True)
    assert editor.inspector.current == ("section", "model")


def test_outputs_stage_edits_report_and_export(editor):
    editor.show_stage("outputs")
    assert editor.scene.selected_stage() == "outputs"
    boxes = editor.inspector.form.editors["formats"].boxes  # the export form: one check box per format
    assert list(boxes) == ["bundle", "bioimageio", "onnx", "savedmodel"]
    boxes["onnx"].setChecked(True)
    boxes["bundle"].setChecked(True)
    assert editor.doc.data["export"]["formats"] == ["bundle", "onnx"]
    assert "onnx" in editor.scene.pipeline.stages["outputs"].summary
    editor.doc.undo_stack.undo()  # edits of one field merge into one undo step
    assert "formats" not in (editor.doc.data.get("export") or {})
    assert not editor.inspector.form.editors["formats"].boxes["onnx"].isChecked()
