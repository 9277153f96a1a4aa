"""The napari plugin: manifest, run-folder reader and the predict dock widget (real ``cellwright predict`` workers).

Skipped when napari is not installed (``pip install -e '.[napari]'``). Where napari cannot draw (offscreen Qt
without an X display, so no OpenGL) the reader and widget run on a canvas-less ``ViewerModel``; under
``xvfb-run`` they run in a real viewer from napari's ``make_napari_viewer`` fixture.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib

napari = pytest.importorskip("napari")
pytest.importorskip("npe2")

from gui.napari_plugin._reader import get_reader  # noqa: E402
from gui.napari_plugin._widget import PredictWidget  # noqa: E402
from tests.builder.workflow.predict_helpers import (  # noqa: E402
    brightness_classifier,
    disk_image,
    disk_labels,
    make_recipe,
    samples_of_test_folder,
    threshold_model,
    write_run,
    write_tiff,
)

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "gui" / "napari_plugin" / "napari.yaml"
OTHER_DISKS = [(20, 20, 9), (40, 44, 5)]

_PROBE = "import numpy, napari; v = napari.Viewer(show=False); v.add_image(numpy.zeros((4, 4))); v.close()"


def _napari_can_draw() -> bool:
    """Whether a napari canvas works here (it needs OpenGL: an X display, e.g. from xvfb-run)."""
    probe = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, timeout=120, env=os.environ.copy())
    return probe.returncode == 0


CAN_DRAW = _napari_can_draw()


def _napari_fixtures(config: pytest.Config) -> None:
    """Load napari's pytest plugin (``make_napari_viewer``), which pyproject's ``-p no:napari`` keeps out of the
    other tests: it imports napari and its Qt parts for every test of a session."""
    from napari.utils import _testsupport

    if not config.pluginmanager.is_registered(_testsupport):
        config.pluginmanager.register(_testsupport, "napari-testsupport")


@pytest.fixture
def viewer(request, npe2pm, qtbot):
    """A napari viewer with only this plugin registered (from ``napari.yaml``)."""
    with npe2pm.tmp_plugin(manifest=str(MANIFEST)):
        if CAN_DRAW:
            _napari_fixtures(request.config)
            yield request.getfixturevalue("make_napari_viewer")()
        else:
            from napari.components import ViewerModel

            yield ViewerModel()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A real Cellwright bundle: a 1-channel threshold model (bright pixels -> class "cell")."""
    from builder.export.bundle import write_bundle
    from builder.export.metadata import ExportMetadata

    recipe = make_recipe("segmentation", classes=["background", "cell"])
    metadata = ExportMetadata(
        name="tiny threshold", task="segmentation", channel_names=["DAPI"], class_names=["background", "cell"],
        test_input=np.random.default_rng(0).random((1, 32, 32, 1)).astype(np.float32),
        recipe=recipe.model_dump(mode="json"))
    path = tmp_path_factory.mktemp("bundle") / "tiny.zip"
    write_bundle(threshold_model(2), metadata, path)
    return path


@pytest.fixture(scope="module")
def segmentation_run(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A run folder with two evaluated test images; returns it and the true masks, stacked."""
    from builder.workflow.evaluate_job import evaluate_model

    root = tmp_path_factory.mktemp("seg-run")
    truths = []
    for name, disks in (("a", None), ("b", OTHER_DISKS)):
        labels = disk_labels() if disks is None else disk_labels(disks=disks)
        write_tiff(root / "test" / "images" / f"{name}.tif", disk_image(labels))
        write_tiff(root / "test" / "masks" / f"{name}.tif", (labels > 0).astype(np.uint8))
        truths.append((labels > 0).astype(np.int32))
    recipe = make_recipe("segmentation", root, classes=["background", "cell"])
    model = threshold_model(2)
    run = write_run(root / "run-1", model, recipe)
    evaluate_model(model, recipe, samples_of_test_folder(recipe, root), out_dir=run)
    return run, np.stack(truths)


@pytest.fixture(scope="module")
def classification_run(tmp_path_factory) -> Path:
    from builder.workflow.evaluate_job import evaluate_model

    root = tmp_path_factory.mktemp("cls-run")
    bright, dim = np.full((20, 20), 900, np.uint16), np.full((20, 20), 100, np.uint16)
    bright[:3], dim[:3] = 100, 900  # a stripe of the other level, so that min-max normalising keeps them apart
    for name, image, cls in (("b1", bright, "bright"), ("d1", dim, "dim"), ("wrong", bright, "dim")):
        write_tiff(root / "test" / cls / f"{name}.tif", image)
    recipe = make_recipe("classification", root, classes=["dim", "bright"])
    model = brightness_classifier(16)
    run = write_run(root / "run-cls", model, recipe)
    evaluate_model(model, recipe, samples_of_test_folder(recipe, root), out_dir=run)
    return run


def test_manifest_validates_and_is_registered_in_pyproject():
    npe2 = Path(sys.executable).with_name("npe2")
    checked = subprocess.run([str(npe2), "validate", str(MANIFEST)], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and "valid" in checked.stdout, checked.stdout + checked.stderr
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["napari.manifest"] == {"cellwright": "gui.napari_plugin:napari.yaml"}
    assert any(dep.startswith("napari") for dep in project["optional-dependencies"]["napari"])


def test_reader_opens_a_run_folder_as_image_truth_and_prediction_layers(viewer, segmentation_run):
    run, truths = segmentation_run
    layers = viewer.open(run, plugin="cellwright")
    by_name = {layer.name: layer for layer in layers}
    assert set(by_name) == {f"{run.name}: image", f"{run.name}: ground truth", f"{run.name}: prediction"}
    image = by_name[f"{run.name}: image"]
    assert isinstance(image, napari.layers.Image) and image.data.shape == (2, 48, 56)
    for kind in ("ground truth", "prediction"):
        layer = by_name[f"{run.name}: {kind}"]
        assert isinstance(layer, napari.layers.Labels)
        np.testing.assert_array_equal(layer.data, truths)  # the threshold model finds exactly the bright disks


def test_reader_writes_true_and_predicted_class_on_classification_images(viewer, classification_run):
    layers = viewer.open(classification_run, plugin="cellwright")
    points = next(layer for layer in layers if isinstance(layer, napari.layers.Points))
    table = points.features.set_index("sample")
    assert (table.loc["wrong", "truth"], table.loc["wrong", "prediction"]) == ("dim", "bright")
    assert (table.loc["b1", "truth"], table.loc["b1", "prediction"]) == ("bright", "bright")
    assert "true: dim  predicted: bright" in list(points.text.values)


def test_reader_and_widget_load_without_tensorflow(segmentation_run):
    run, _ = segmentation_run
    code = ("import sys; from gui.napari_plugin._widget import PredictWidget; "
            "from gui.napari_plugin._reader import read_run_folder; layers = read_run_folder(sys.argv[1]); "
            "print(len(layers), sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code, str(run)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stdout.split("\n")[-2] == "3 []", done.stdout + done.stderr


def test_reader_declines_what_is_not_a_run_folder(tmp_path, segmentation_run):
    run, _ = segmentation_run
    assert get_reader(str(run)) is not None
    assert get_reader(str(tmp_path)) is None  # an empty folder
    assert get_reader(str(run / "recipe.yaml")) is None  # a file


def _predict(qtbot, viewer, model: Path, layer) -> PredictWidget:
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.model_edit.setText(str(model))
    widget.layer_box.setCurrentText(layer.name)
    assert widget.start(), widget.message.text()
    return widget


@pytest.mark.slow
def test_widget_runs_a_bundle_on_the_image_layer_and_adds_labels(qtbot, viewer, bundle):
    labels = disk_labels()
    viewer.add_image(disk_image(labels), name="cells")
    widget = _predict(qtbot, viewer, bundle, viewer.layers["cells"])
    steps = []
    widget.worker.event.connect(lambda e: steps.append(e.get("event")))
    qtbot.waitUntil(lambda: not widget.running(), timeout=240_000)
    assert "cells mask" in [layer.name for layer in viewer.layers], widget.message.text()
    mask = viewer.layers["cells mask"]
    assert isinstance(mask, napari.layers.Labels)
    np.testing.assert_array_equal(mask.data, (labels > 0).astype(np.int32))
    assert steps[0] == "start" and "batch" in steps and steps[-1] == "done"
    assert (widget.progress.value(), widget.progress.maximum()) == (1, 1)
    assert not viewer.layers["cells prob [1]"].visible


@pytest.mark.slow
def test_a_worker_error_is_a_message_not_a_traceback(qtbot, viewer, bundle):
    rgb = np.stack([disk_image(disk_labels())] * 3, axis=-1)
    viewer.add_image(rgb, name="colour", rgb=True)
    widget = _predict(qtbot, viewer, bundle, viewer.layers["colour"])
    qtbot.waitUntil(lambda: not widget.running(), timeout=240_000)
    text = widget.message.text()
    assert text.startswith("colour is an RGB colour image (3 channels) but the model takes 1 channel."), text
    assert "Fix: Pick the stained channel in 'Channels to use'" in text and "Traceback" not in text
    assert [layer.name for layer in viewer.layers] == ["colour"]


@pytest.mark.slow
def test_the_channel_box_picks_one_channel_of_a_colour_layer(qtbot, viewer, bundle):
    labels = disk_labels()
    rgb = np.stack([disk_image(labels) // 10, disk_image(labels), disk_image(labels) // 10], axis=-1)
    viewer.add_image(rgb, name="colour", rgb=True)
    widget = PredictWidget(viewer)
    qtbot.addWidget(widget)
    widget.model_edit.setText(str(bundle))
    widget.channels_edit.setText("green")
    assert widget.start(), widget.message.text()
    qtbot.waitUntil(lambda: not widget.running(), timeout=240_000)
    np.testing.assert_array_equal(viewer.layers["colour mask"].data, (labels > 0).astype(np.int32))


@pytest.mark.slow
def test_cancel_kills_the_worker_process(qtbot, viewer, bundle):
    import psutil

    viewer.add_image(disk_image(disk_labels()), name="cells")
    widget = _predict(qtbot, viewer, bundle, viewer.layers["cells"])
    qtbot.waitUntil(lambda: widget.worker.process.processId() > 0, timeout=30_000)
    pid = widget.worker.process.processId()
    assert psutil.pid_exists(pid)
    widget.cancel()
    qtbot.waitUntil(lambda: widget.run_button.isEnabled(), timeout=30_000)
    assert not widget.running() and widget.message.text() == "Cancelled."
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert [layer.name for layer in viewer.layers] == ["cells"]


@pytest.mark.skipif(not CAN_DRAW, reason="napari cannot draw here (no OpenGL); run under xvfb-run")
def test_the_dock_widget_opens_in_the_napari_window(viewer):
    viewer.add_image(disk_image(disk_labels()), name="cells")
    _dock, widget = viewer.window.add_plugin_dock_widget("cellwright", "Run a Cellwright model")
    assert isinstance(widget, PredictWidget) and widget.layer_box.currentText() == "cells"
