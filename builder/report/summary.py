"""The report's first section: task, data, the headline metric with a one-line interpretation, and warnings.

It reads the result tables' helpers (:mod:`builder.report.results`) and the shared blocks and wording
(:mod:`builder.report.content`); neither of those imports this module, so there is no import circle.
"""

from __future__ import annotations

from builder.report.content import Section, fmt, interpret_headline, split_counts, task_of, warnings
from builder.report.results import baseline_sentence, lookup
from builder.report.run_data import RunData


def summary_section(run: RunData) -> Section:
    """Plain-language summary: task, data, headline with interpretation, warnings, what is missing."""
    section = Section("summary", "Summary")
    task = run.task
    name = run.get("name", run.name)
    description = run.get("description", "")
    section.add("text", text=f"Run {run.name}: {name}{' - ' + description if description else ''}".rstrip(".") + ".")
    counts = split_counts(run)
    data = (f"{counts.get('train', '?')} training, {counts.get('validation', '?')} validation and "
            f"{counts.get('test', '?')} test images") if counts else "the data split was not recorded"
    classes = run.class_names()
    section.add("text", text=f"Task: {task_of(run).description or task}. Data: {data}"
                             f"{' in classes ' + ', '.join(classes) if classes else ''}.")
    headline = (run.metrics or {}).get("headline") or {}
    if isinstance(headline.get("value"), int | float):
        value = float(headline["value"])
        baseline = lookup((run.metrics or {}).get("input_baseline"),
                          tuple(str(k) for k in (headline.get("key"), headline.get("name")) if k))
        sentence = interpret_headline(str(headline.get("name", "score")), value,
                                      bool(headline.get("higher_is_better", True)),
                                      float(baseline) if isinstance(baseline, int | float) else None)
        section.add("headline", text=f"{headline.get('name', 'score')} = {fmt(value)}", caption=sentence)
        versus = baseline_sentence(run)
        if versus:
            section.add("text", text=versus)
    else:
        section.add("note", text="No headline metric: the run has no evaluation (metrics.json) yet.")
    found = warnings(run)
    if found:
        section.add("warnings", items=found)
    else:
        section.add("text", text="No warnings: the data check, the curves and the class balance look fine.")
    if run.notes:
        section.add("note", text="Parts left out: " + " ".join(run.notes.values()))
    return section
