"""The Methods paragraph states the time budget actually used and how the kept checkpoint was chosen."""

from __future__ import annotations

import json

from builder.report.methods import methods_text
from builder.report.run_data import RunData


def _run(tmp_path, state):
    recipe = {"task": "classification", "data": {"split": {"mode": "random", "seed": 7}},
              "train": {"epochs": 80, "time_budget": "20m", "batch_size": 32}}
    history = [{"epoch": e, "loss": 1.0 / e} for e in range(1, 58)]
    return RunData(tmp_path, recipe=recipe, state=state, history=history)


def test_time_budget_and_headline_checkpoint_are_stated(tmp_path):
    state = {"monitor": "val_balanced_accuracy", "mode": "max",
             "time_budget": {"budget_s": 1200.0, "used_s": 19 * 60 + 40.3, "planned_epochs": 57}}
    text, _ = methods_text(_run(tmp_path, state))
    assert "trained for 19 min 40 s (57 epochs in a time budget of 20 min;" in text
    assert "balanced accuracy on the validation images was computed after every epoch" in text
    assert "lowest validation loss" not in text


def test_epochs_and_loss_checkpoint_without_a_budget(tmp_path):
    text, _ = methods_text(_run(tmp_path, {"monitor": "val_loss", "mode": "min"}))
    assert "trained for 57 epochs, in batches of 32," in text
    assert "the checkpoint with the lowest validation loss was kept" in text


def test_training_section_names_the_kept_epoch_by_the_runs_monitor_not_the_lowest_loss(tmp_path):
    """The report said "best validation loss at epoch 27" for a run that kept epoch 20 by its validation AP."""
    from builder.report.sections import training_section

    recipe = {"task": "instance_segmentation", "train": {"epochs": 30}}
    history = [{"epoch": e, "loss": 1.0 / e, "val_loss": 1.0 / e, "val_ap@0.5": min(e, 20) / 25, "time_s": 1.0}
               for e in range(1, 29)]  # the loss falls to the end; the AP stops rising at epoch 20
    state = {"monitor": "val_ap@0.5", "best_epoch": 20, "best": 0.8}
    section = training_section(RunData(tmp_path, recipe=recipe, state=state, history=history))
    text = json.dumps([b.__dict__ for b in section.blocks], default=str)
    assert "kept the checkpoint of epoch 20 (highest validation AP@0.5, 0.8)" in text
    assert "epoch 28" not in text

    loss_run = RunData(tmp_path, recipe=recipe, state={"monitor": "val_loss", "best_epoch": 28, "best": 0.036},
                       history=history)
    assert "kept the checkpoint of epoch 28 (lowest validation loss, 0.036)" in json.dumps(
        [b.__dict__ for b in training_section(loss_run).blocks], default=str)


def test_a_grid_unet_is_described_as_running_at_half_resolution(tmp_path):
    """The Methods said only "a U-Net of depth 3" for a network that ran at half resolution (``grid: 2``)."""

    def methods(params):
        recipe = {"task": "instance_segmentation", "train": {"epochs": 10, "instance_target": "star_convex"},
                  "model": {"template": "unet", "params": params}, "augment": {"enabled": False, "flip": True}}
        return methods_text(RunData(tmp_path, recipe=recipe, state={}, history=[]))

    text, references = methods({"depth": 3, "base_filters": 16, "grid": 2})
    assert "16 filters in the first level for instance segmentation" in text
    assert ("After one block of convolutions at full resolution, the U-Net ran at 1/2 of the image resolution and "
            "its output was repeated 2x2 to full size, as in StarDist (Schmidt et al., 2018).") in text
    assert "stardist" in references
    assert "and not augmented." in text and "augmented with none" not in text  # augmentation switched off
    plain, _ = methods({"depth": 3, "base_filters": 16})
    assert "full resolution" not in plain and "StarDist" not in plain
