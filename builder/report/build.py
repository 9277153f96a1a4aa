"""``build_report``: the report of one run folder, as a self-contained HTML file and/or a PDF."""

from __future__ import annotations

import datetime as _dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from builder.errors import CellwrightError
from builder.report.annotations import add_annotations
from builder.report.content import Section
from builder.report.html import render_html
from builder.report.methods import methods_section
from builder.report.run_data import RunData, load_run
from builder.report.sections import (
    data_section,
    model_section,
    reproducibility_section,
    results_section,
    training_section,
)
from builder.report.summary import summary_section
from builder.run_folder import RunFolder

FORMATS = ("html", "pdf")


def build_sections(run: RunData, *, augment_samples: bool | None = None) -> list[Section]:
    """Every section of the report, in order: summary, data, model, training, results, reproducibility, methods.

    Parameters
    ----------
    run : RunData
        The run folder's contents (:func:`builder.report.run_data.load_run`).
    augment_samples : bool, optional
        Draw a few augmented samples (needs TensorFlow). ``None``: only when TensorFlow is already imported,
        e.g. at the end of training, so ``cellwright report`` stays fast.
    """
    if augment_samples is None:
        augment_samples = "tensorflow" in sys.modules
    worst = int(run.get("report.worst_cases", 4))
    examples = int(run.get("report.examples", 4))
    return [
        summary_section(run),
        add_annotations(data_section(run, examples=examples, augment_samples=augment_samples), run),
        model_section(run),
        training_section(run),
        results_section(run, worst_cases=worst, examples=examples),
        reproducibility_section(run),
        methods_section(run),
    ]


def _titles(run: RunData) -> tuple[str, str]:
    title = f"Training report: {run.get('name', run.name)}"
    subtitle = f"Run folder {run.name} · task {run.task}"
    return title, subtitle


def _version() -> str:
    from builder.environment import package_version

    return package_version("cellwright") or "(development)"


def build_report(run_dir: str | os.PathLike[str], *, formats: Sequence[str] = ("html",),
                 out_dir: str | os.PathLike[str] | None = None, augment_samples: bool | None = None) -> list[Path]:
    """Write the report of the run in ``run_dir`` and return the files written.

    Parameters
    ----------
    run_dir : str or PathLike
        A run folder (``runs/<name>-<stamp>/``). Missing optional files leave their part out with a note.
    formats : sequence of {"html", "pdf"}
        ``report.html`` (self-contained, opens offline) and/or ``report.pdf`` (A4, same content).
    out_dir : str or PathLike, optional
        Where the files go; the run folder by default.
    augment_samples : bool, optional
        See :func:`build_sections`.

    Returns
    -------
    list of Path
        ``report.html`` and/or ``report.pdf``, in the order of ``formats``.

    Raises
    ------
    CellwrightError
        When ``run_dir`` is not a folder or a format is unknown.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise CellwrightError("report formats", f"Expected one or more of: {', '.join(FORMATS)}. "
                              f"Received: formats={list(formats)}", "Use --format html pdf.")
    run = load_run(Path(run_dir))
    target = Path(out_dir) if out_dir is not None else run.path
    target.mkdir(parents=True, exist_ok=True)
    sections = build_sections(run, augment_samples=augment_samples)
    title, subtitle = _titles(run)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    written = []
    from builder.io_utils import atomic_write_text, atomic_write_with

    for fmt in dict.fromkeys(formats):
        if fmt == "html":
            html = render_html("report.html.j2", title=title, subtitle=subtitle, sections=sections,
                               version=_version(), generated=stamp, run_dir=run.path.name)
            written.append(atomic_write_text(RunFolder(target).report_path("html"), html))
        else:
            from builder.report.pdf import render_pdf

            footer = f"{title} · Cellwright {_version()} · {stamp}"

            def write_pdf(tmp: Path, footer: str = footer) -> None:
                render_pdf(sections, tmp, title=title, subtitle=subtitle, footer=footer)

            written.append(atomic_write_with(RunFolder(target).report_path("pdf"), write_pdf, suffix=".pdf"))
    return [Path(p) for p in written]
