"""Report sentences about learning from unlabelled images: a pre-trained encoder and pseudo-labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.report.run_data import RunData
from builder.run_folder import files


def _backbone(run: RunData) -> dict[str, Any]:
    params: dict[str, Any] = run.get("model.params", {}) or {}
    backbone = params.get("backbone") or (run.model_summary or {}).get("backbone") or {}
    return backbone if isinstance(backbone, dict) else {}


def encoder_phrase(run: RunData) -> str | None:
    """'whose encoder was pre-trained ...' for a ``backbone: {from: FILE}`` model; None for other models."""
    source = _backbone(run).get("from") or _backbone(run).get("from_")
    if not source:
        return None
    record = (run.model_summary or {}).get("backbone_pretraining")
    name = Path(str(source)).name
    if not record:
        return f"whose encoder, with its trained weights, was taken from the shared model {name}"
    return (f"whose encoder ({name}) was pre-trained without labels by {record.get('objective', 'reconstruction')} "
            f"on {record.get('n_images', '?')} unlabelled images ({record.get('n_inputs', '?')} inputs of "
            f"{record.get('input_size', '?')} px, {record.get('settings', {}).get('epochs', '?')} epochs, final "
            f"loss {float(record.get('final_loss', float('nan'))):.4f})")


def read_pseudo_labels(run: RunData) -> dict[str, Any] | None:
    """The run's ``pseudo_labels.json`` (see :mod:`builder.workflow.pseudo_labels`), or None."""
    from builder.run_folder import RunFolder, files

    record, _note = RunFolder(Path(run.path)).read_json_or_note(files.PSEUDO_LABELS)
    return record


def init_from_name(run: RunData) -> str | None:
    """The model a fine-tuned run started from (``train.init_from``), as a reader knows it: the run's name with
    its checkpoint file (``cells-20261127 (best.keras)``) or the file / bundle name; None for a random start."""
    value = run.get("train.init_from")
    if not value:
        return None
    path = Path(str(value))
    if path.parent.name == files.CHECKPOINTS.name:
        return f"{path.parent.parent.name} ({path.name})"
    return path.name


def start_phrase(run: RunData) -> str:
    """How the weights started: ``from a random start`` or ``fine-tuned from NAME``."""
    name = init_from_name(run)
    return f"fine-tuned from {name}" if name else "from a random start"


def pseudo_label_sentence(run: RunData) -> str | None:
    """One sentence on the pseudo-labels the final model was trained with; None when none were asked for."""
    record = read_pseudo_labels(run)
    if record is None:
        return None
    counts = ", ".join(f"{n} {name}" for name, n in (record.get("per_class") or {}).items())
    if not record.get("n_used"):
        return (f"Pseudo-labelling was asked for, but none of the {record.get('n_unlabelled', '?')} unlabelled images "
                f"reached a class probability of {record.get('threshold')}, so the first model was kept.")
    return (f"After a first round of training, that model classified {record.get('n_unlabelled', '?')} unlabelled "
            f"images; the {record['n_used']} whose top class probability was at least {record.get('threshold')} "
            f"({counts}) joined the {record.get('n_labelled_train', '?')} labelled training images with that class "
            f"as label (pseudo-labels), and the final model was trained again {start_phrase(run)} on both.")
