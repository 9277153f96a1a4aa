"""Every file and folder a run folder holds: the only place their names are written down.

Each entry is a :class:`RunFile`: its name on disk, what it holds (shown when it is missing from a report) and,
for JSON files, the type of its top-level value. Old run folders keep opening because these names never change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunFile:
    """One file (or sub-folder) of a run folder.

    Attributes
    ----------
    name : str
        Name on disk, relative to the run folder (``"checkpoints/best.keras"`` for nested files).
    what : str
        What it holds, in words a biologist reads in a report note.
    kind : type or None
        Top-level JSON type (``dict`` or ``list``) for JSON files; None for other files and folders.
    """

    name: str
    what: str
    kind: type | None = None

    @property
    def is_json(self) -> bool:
        return self.kind is not None


RECIPE = RunFile("recipe.yaml", "the resolved recipe")
SPLIT = RunFile("split.json", "the data split", dict)
ENVIRONMENT = RunFile("environment.json", "software versions and device", dict)
EVENTS = RunFile("events.jsonl", "the training events")
HISTORY_JSON = RunFile("history.json", "the training history", list)
HISTORY_CSV = RunFile("history.csv", "the training history (table)")
STATE = RunFile("state.json", "the last finished epoch (for resuming)", dict)
STAGES = RunFile("stages.json", "the stages after training that finished (for resuming)", dict)
METRICS = RunFile("metrics.json", "the test-set evaluation", dict)
NORMALIZATION = RunFile("normalization.json", "the dataset normalisation statistics", dict)
ORIGIN = RunFile("origin.json", "the recipe's folder (for relative data paths)", dict)
DATA_INFO = RunFile("data_info.json", "the dataset facts (classes, patch counts)", dict)
MODEL_SUMMARY = RunFile("model_summary.json", "the model summary", dict)
DATA_CHECK = RunFile("data_check.json", "the data check findings", list)
POSTPROCESS = RunFile("postprocess.json", "the tuned post-processing thresholds", dict)
TEST_INPUT = RunFile("test_input.npy", "a normalised validation patch (checks exports)")
RAW_TEST_INPUT = RunFile("test_input_raw.npy", "a raw validation image, before normalisation (test input of "
                         "exported packages)")
MODEL_PNG = RunFile("model.png", "the model diagram")
CHECKPOINTS = RunFile("checkpoints", "the saved models")
BEST_CHECKPOINT = RunFile("best.keras", "the best model so far (inside checkpoints/)")
LAST_CHECKPOINT = RunFile("last.keras", "the model after the last finished epoch (inside checkpoints/)")
EXPORTS = RunFile("exports", "the exported models")
EVALUATION = RunFile("evaluation", "the saved test predictions")
EVALUATIONS = RunFile("evaluations", "evaluations on other datasets")
PREDICTIONS = RunFile("predictions", "predictions on new images")
REPORT_HTML = RunFile("report.html", "the report (web page)")
REPORT_PDF = RunFile("report.pdf", "the report (PDF)")
ANNOTATIONS = RunFile("annotations.json", "the annotations the model was trained on (count, names, checksum)", dict)
MODEL_VERSION = RunFile("model_version.json", "the model version: its parent and the guard-set comparison", dict)
PSEUDO_LABELS = RunFile("pseudo_labels.json", "the pseudo-labelled images training added", dict)
LINK_SCORER = RunFile("link_scorer.keras", "the small network that scores links between cells of consecutive "
                      "frames (evaluate.tracking.link_scorer: learned)")
ONNX_COPY = RunFile("model.onnx", "an ONNX copy of the checkpoint, so prediction runs without TensorFlow (remade when "
                    "the checkpoint changes)")
ONNX_COPY_NOTE = RunFile("model_onnx.json", "why the checkpoint has no ONNX copy (the conversion failed)", dict)

#: Report files by format, in the order a report is looked for.
REPORTS = {"html": REPORT_HTML, "pdf": REPORT_PDF}

#: Every name above (the source test refuses these names as literals outside this package).
ALL = (RECIPE, SPLIT, ENVIRONMENT, EVENTS, HISTORY_JSON, HISTORY_CSV, STATE, STAGES, METRICS, NORMALIZATION, ORIGIN,
       DATA_INFO, MODEL_SUMMARY, DATA_CHECK, POSTPROCESS, TEST_INPUT, MODEL_PNG, CHECKPOINTS, BEST_CHECKPOINT,
       LAST_CHECKPOINT, EXPORTS, EVALUATION, EVALUATIONS, PREDICTIONS, REPORT_HTML, REPORT_PDF, ANNOTATIONS,
       MODEL_VERSION, PSEUDO_LABELS, LINK_SCORER, ONNX_COPY, ONNX_COPY_NOTE)
