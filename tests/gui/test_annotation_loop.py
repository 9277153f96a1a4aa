"""The data page's model buttons with real ``cellwright`` worker processes on a tiny trained model:
propose -> the proposal loads as an editable mask -> mark checked -> annotate next -> retrain from checked."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.slow

WORKER_TIMEOUT_MS = 300_000  # a worker imports TensorFlow first: slow on a busy machine, never a timed assert


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny instance-segmentation run, and its recipe with two more images (``new_*.tif``) without a mask."""
    from builder.data.demo import make_demo
    from builder.workflow.train_job import train_recipe
    from tests.builder.workflow.train_fixtures import tiny_recipe

    tmp = tmp_path_factory.mktemp("loop")
    recipe = tiny_recipe(tmp, "instance_segmentation", epochs=1)
    run = train_recipe(recipe, runs_dir=tmp / "runs").run_dir
    extra = make_demo("nuclei", tmp / "extra", n_images=2, size=48, seed=11)  # other pixels than the data's
    for source, name in zip(sorted((extra / "images").iterdir()), ("new_a.tif", "new_b.tif"), strict=True):
        shutil.copy2(source, tmp / "data" / "images" / name)  # after training: its data check refuses them
    return recipe, run


def _page(qtbot, recipe: Path):
    from gui.document import RecipeDocument
    from gui.pages.data import DataPage

    doc = RecipeDocument()
    doc.load(recipe)
    page = DataPage(doc)
    qtbot.addWidget(page)
    page.annotate.every_strokes, page.annotate.every_seconds = 100, 0
    page.resize(1100, 750)
    page.show()
    qtbot.waitExposed(page)
    page.load_from_recipe()
    page.annotate.toggle.setChecked(True)
    return page


def _status(root: Path) -> dict[str, str]:
    with (root / "annotation_status.csv").open() as handle:
        return {row["image"]: row["status"] for row in csv.DictReader(handle)}


def _wait(qtbot, loop) -> None:
    qtbot.waitUntil(lambda: not loop.busy() and loop.result is not None or "failed" in loop.status.text(),
                    timeout=WORKER_TIMEOUT_MS)
    assert "failed" not in loop.status.text(), loop.status.text() + loop.worker.stderr_text[-2000:]


def test_propose_check_and_annotate_next_with_real_workers(qtbot, trained):
    recipe, run = trained
    root = recipe.parent / "data"
    page = _page(qtbot, recipe)
    loop = page.annotate.loop
    assert loop.isVisible() and loop.propose.text() == "Propose masks with model…"
    names = [page.files.item(i).text() for i in range(page.files.count())]
    assert "unlabelled: images/new_a.tif" in names

    loop.ask_run = lambda: run
    loop.propose.click()
    _wait(qtbot, loop)
    mask = root / "masks" / "new_a.tif"
    assert mask.is_file() and _status(root) == {"new_a.tif": "proposed", "new_b.tif": "proposed"}
    current = page.files.currentItem()
    assert current.text() == "proposed: images/new_a.tif" and current.toolTip().startswith("proposed")
    session = page.annotate.session
    assert session is not None and session.path == mask  # the proposal is the mask being edited
    np.testing.assert_array_equal(session.labels, tifffile.imread(mask))

    loop.check.click()
    assert _status(root)["new_a.tif"] == "checked"
    assert page.files.currentItem().toolTip().startswith("checked")

    loop.next.click()  # the model chosen for proposing is used: no question asked
    _wait(qtbot, loop)
    ranked = [Path(row["image"]).resolve() for row in loop.result["ranking"]]
    assert ranked == [(root / "images" / "new_b.tif").resolve()]  # the checked one is not ranked again
    first = page.files.item(0)
    assert page.listed_path(first.text()).resolve() == ranked[0] and page.files.currentRow() == 0
    assert first.toolTip().startswith("annotate next #1")

    loop.check.click()  # new_b checked too: nothing is left to rank, and the worker's reason is shown
    loop.next.click()
    qtbot.waitUntil(lambda: not loop.busy() and "failed" in loop.status.text(), timeout=WORKER_TIMEOUT_MS)
    assert "No images to rank" in loop.status.text() and "oneDNN" not in loop.status.text()


def test_retrain_from_checked_says_which_model_won_on_the_guard_set(qtbot, trained):
    recipe, run = trained
    page = _page(qtbot, recipe)
    loop = page.annotate.loop
    loop.set_run(run)
    loop.retrain.click()
    _wait(qtbot, loop)
    decision = loop.result["decision"]
    assert decision["winner"] in ("new", "current") and decision["n_images"] > 0
    text = loop.status.text()
    assert f"{decision['new']:.3f} (new) vs {decision['current']:.3f} (current)" in text
    assert ("The new model won" if decision["winner"] == "new" else "The current model won") in text
    assert loop.run_dir == Path(loop.result["current"])
