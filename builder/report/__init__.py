"""Training reports (HTML and PDF) generated from a run folder, and side-by-side comparison of runs.

Importing this package is cheap: matplotlib, Jinja2 and TensorFlow are imported only when a report is built.
"""

from builder.report.build import build_report
from builder.report.compare import compare_runs

__all__ = ["build_report", "compare_runs"]
