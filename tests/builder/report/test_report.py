"""Reports of a tiny run of each task: every section, valid embedded PNGs, no external resources, PDF pages."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from builder.recipe import validate_file
from builder.report import build_report
from builder.report.build import build_sections
from builder.report.content import SECTION_TITLES
from builder.report.pdf import layout
from builder.report.run_data import load_run
from tests.builder.report.fixtures import TASKS, write_run

EXTRA = {
    "classification": ["Confusion matrix", "Per-class metrics", "Worst cases"],
    "segmentation": ["Worst cases", "true positives", "mobilenet_v2", "Sandler et al., 2018", "Milletari"],
    "instance_segmentation": ["Worst cases", "IoU &gt;= 0.5", "Beucher and Meyer", "classical baseline",
                              "thresholds tuned on 2 validation images: foreground 0.45, seed 0.6"],
    "image_to_image": ["Before / after", "input (no model)", "Krull et al., 2019", "Weigert et al., 2018"],
}


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[Path, str, Path]]:
    out = {}
    for task in TASKS:
        run = write_run(tmp_path_factory.mktemp(task), task)
        html_path, pdf_path = build_report(run, formats=("html", "pdf"), augment_samples=False)
        out[task] = (run, html_path.read_text(encoding="utf-8"), pdf_path)
    return out


@pytest.mark.parametrize("task", TASKS)
def test_fixture_recipe_validates(reports, task):
    run, _, _ = reports[task]
    recipe, problems = validate_file(run / "recipe.yaml")
    assert recipe is not None, [p.format() for p in problems]
    assert recipe.task == task


@pytest.mark.parametrize("task", TASKS)
def test_html_has_every_section_and_task_parts(reports, task):
    _, html, _ = reports[task]
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == list(SECTION_TITLES)
    for text in EXTRA[task]:
        assert text in html, text
    assert "Over-fitting" in html and "Data check" in html  # the fixture's curves and data_check.json


@pytest.mark.parametrize("task", TASKS)
def test_embedded_images_are_valid_pngs(reports, task):
    _, html, _ = reports[task]
    images = _images(html)
    assert len(images) >= 4  # examples, curves, learning rate/time, worst cases (+ confusion/typical)
    for data in images:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.size[0] > 50 and image.size[1] > 50
            assert np.asarray(image).std() > 0  # not blank


@pytest.mark.parametrize("task", TASKS)
def test_html_loads_nothing_from_outside(reports, task):
    _, html, _ = reports[task]
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"@import|url\(", html)
    sources = re.findall(r'\ssrc="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    for href in re.findall(r'\shref="([^"]*)"', html):  # in-page anchors or plain citation links
        assert href.startswith("#") or (href.startswith("https://") and "References" in html), href
    assert "<style>" in html and "@media print" in html


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
@pytest.mark.parametrize("task", TASKS)
def test_pdf_has_the_expected_pages(reports, task, tmp_path):
    run, _, pdf = reports[task]
    expected = len(layout(build_sections(load_run(run), augment_samples=False)))
    assert expected >= len(SECTION_TITLES)  # every section starts a page
    subprocess.run(["pdftoppm", "-r", "20", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == expected
    with Image.open(pages[0]) as first:
        assert np.asarray(first.convert("L")).min() < 128  # something is drawn
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        for title in SECTION_TITLES:
            assert title in text


def test_missing_optional_files_leave_notes_not_crashes(tmp_path):
    run = write_run(tmp_path, "segmentation", skip=("metrics.json", "evaluation", "history.json", "history.csv",
                                                    "model_summary.json", "environment.json", "data_check.json"))
    (html_path,) = build_report(run)
    html = html_path.read_text(encoding="utf-8")
    assert re.findall(r"<h2>(.*?)</h2>", html) == list(SECTION_TITLES)
    for name in ("metrics.json is missing", "evaluation is missing", "history.json is missing",
                 "model_summary.json is missing", "environment.json is missing"):
        assert name in html, name
    assert "No headline metric" in html


def test_empty_and_broken_run_folder(tmp_path):
    run = tmp_path / "broken"
    (run / "evaluation").mkdir(parents=True)
    (run / "metrics.json").write_text("{not json")
    (run / "history.json").write_text('{"a": 1}')
    (run / "evaluation" / "x.npz").write_bytes(b"garbage")
    html, pdf = build_report(run, formats=("html", "pdf"), out_dir=tmp_path / "out")
    text = html.read_text(encoding="utf-8")
    assert "metrics.json could not be read" in text and "could not be read: x.npz" in text
    assert pdf.stat().st_size > 1000 and pdf.parent == tmp_path / "out"


def test_unknown_format_and_missing_folder_are_user_errors(tmp_path):
    from builder.errors import CellwrightError

    with pytest.raises(CellwrightError, match="Received: formats"):
        build_report(tmp_path, formats=("docx",))
    with pytest.raises(CellwrightError, match="does not exist"):
        build_report(tmp_path / "nope")
