"""The report's "Annotations and model versions" part of the Data section: what the model learnt from, the
guard decision and the annotations-vs-score curve across model versions (``annotations.json``,
``model_version.json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from builder.report import figures
from builder.report.content import Section, fmt
from builder.report.run_data import RunData
from builder.run_folder import RunFolder
from builder.run_folder import files as run_files

#: Image names listed in the report (the count and checksum cover them all).
SHOWN_NAMES = 12


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out else None


def versions_curve(versions: Sequence[dict[str, Any]]) -> bytes | None:
    """Guard score against the number of annotations, one point per model version (rejected ones hollow)."""
    points = [(_number(v.get("n_annotations")), _number(v.get("guard_score")), v.get("accepted") == "yes",
               str(v.get("version", ""))) for v in versions]
    points = [p for p in points if p[0] is not None and p[1] is not None]
    if len(points) < 2:
        return None
    fig = figures.new_figure(5.0, 3.0)
    ax = fig.add_subplot(1, 1, 1)
    accepted = [p for p in points if p[2]]
    ax.plot([p[0] for p in accepted], [p[1] for p in accepted], "-o", color=figures.BLUE, label="accepted")
    rejected = [p for p in points if not p[2]]
    if rejected:
        ax.plot([p[0] for p in rejected], [p[1] for p in rejected], "o", mfc="none", color=figures.RED,
                label="refused by the guard")
    for n, score, _, version in points:
        ax.annotate(f"v{version}", (n, score), textcoords="offset points", xytext=(4, 4), fontsize=8)
    metric = next((v.get("guard_metric") for v in versions if v.get("guard_metric")), "score")
    ax.set_xlabel("annotations trained on")
    ax.set_ylabel(f"{metric} (guard set)")
    ax.legend(fontsize=8)
    return figures.to_png(fig)


def add_annotations(section: Section, run: RunData) -> Section:
    """Add "Annotations and model versions" to ``section`` (the Data section); nothing for a run without
    ``annotations.json`` (runs from before it existed)."""
    folder = RunFolder(run.path)
    record = folder.read_json_or_note(run_files.ANNOTATIONS)[0]
    if not isinstance(record, dict):
        return section
    section.add("subheading", text="Annotations and model versions")
    names = list(record.get("images") or [])
    shown = ", ".join(names[:SHOWN_NAMES]) + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES
                                              else "")
    section.add("bullets", items=[
        f"Trained on {fmt(record.get('n_annotations'))} annotated images (training and validation splits), "
        f"{fmt(record.get('n_checked', 0))} of them model proposals a person checked and corrected.",
        f"Left out: {fmt(record.get('n_proposed_left_out', 0))} proposed annotations nobody checked yet; "
        f"{fmt(record.get('n_guard', 0))} guard images (only used to judge models).",
        f"Annotation checksum (SHA-256 over every image with its label or mask file): {record.get('sha256')}.",
        f"Images: {shown or 'none'}.",
    ])
    version = folder.read_json_or_note(run_files.MODEL_VERSION)[0]
    if isinstance(version, dict):
        decision = version.get("decision") or {}
        winner = "the retrained model (this run)" if decision.get("winner") == "new" else "the current model"
        section.add("bullets", items=[
            f"Fine-tuned from {version.get('parent')}.",
            f"Guard set: {fmt(decision.get('n_images'))} images. {decision.get('metric')}: this run "
            f"{fmt(decision.get('new'))}, the current model {fmt(decision.get('current'))} (difference "
            f"{fmt(decision.get('difference'))}). Winner: {winner}.",
            f"Model to use now: {version.get('current')}.",
        ])
        rows = list(version.get("versions") or [])
        if rows:
            section.add("table", header=["version", "annotations", "guard score", "accepted", "current", "run"],
                        rows=[[r.get("version"), r.get("n_annotations"), r.get("guard_score"), r.get("accepted"),
                               r.get("current"), str(r.get("run", "")).rsplit("/", 1)[-1]] for r in rows],
                        caption="Model versions of this data folder (model_versions.csv).")
        png = versions_curve(rows)
        if png:
            section.add("figure", png=png, caption="Annotations vs score: the guard-set score of each model "
                        "version against the number of annotations it was trained on.")
    return section
