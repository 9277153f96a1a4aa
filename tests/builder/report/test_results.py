"""What the report derives from the run files: training time, data folder, pixel size, result tables,
post-processing in words, the classical baseline and outline-only overlays."""

from __future__ import annotations

import json

import numpy as np
import pytest

from builder.report import figures
from builder.report.facts import data_folder, pixel_size, postprocess_sentence, total_training_seconds
from builder.report.results import baseline_sentence, headline_table, per_class_table, threshold_table
from builder.report.run_data import load_run
from builder.report.sections import data_section, results_section, training_section
from builder.report.summary import summary_section
from tests.builder.report.fixtures import IMAGE_PIXEL_SIZE, TRAINING_SECONDS, write_run


def _texts(section) -> str:
    return "\n".join([b.text + " " + b.caption for b in section.blocks] + [i for b in section.blocks for i in b.items]
                     + [" | ".join(r) for b in section.blocks for r in b.rows])


def test_training_time_from_events_then_from_the_history(tmp_path):
    run = load_run(write_run(tmp_path / "a", "segmentation", epochs=12))
    assert total_training_seconds(run) == TRAINING_SECONDS
    text = _texts(training_section(run))
    assert "Total training time: 1 min 40 s (2.1 s per epoch on average, 2.0-2.2 s)" in text
    run = load_run(write_run(tmp_path / "b", "segmentation", epochs=12, skip=("events.jsonl",)))
    assert total_training_seconds(run) == pytest.approx(12 * 2.1)  # sum of the history's time_s column
    assert "Total training time: 25 s" in _texts(training_section(run))
    assert "time s" not in [k.replace("_", " ") for k in figures.metric_pairs(run.history)]


def test_data_folder_and_layout_come_from_split_json(tmp_path):
    path = write_run(tmp_path, "instance_segmentation")
    run = load_run(path)
    folder, layout = data_folder(run)
    assert folder == str(tmp_path / "instance_segmentation-data") and layout == "folders"
    assert f"Data folder: {folder} (layout: folders)" in _texts(data_section(run))
    split = json.loads((path / "split.json").read_text())
    del split["root"], split["layout"]
    (path / "split.json").write_text(json.dumps(split))
    (path / "origin.json").write_text(json.dumps({"base_dir": str(tmp_path / "recipes")}))
    assert data_folder(load_run(path))[0] == str(tmp_path / "recipes" / "data")  # recipe's data.root made absolute


def test_pixel_size_read_from_the_first_image_when_the_recipe_has_none(tmp_path):
    path = write_run(tmp_path, "instance_segmentation")
    run = load_run(path)
    assert pixel_size(run) == (pytest.approx(IMAGE_PIXEL_SIZE), "metadata of train_00.tif")
    assert "Pixel size: 0.5 µm (read from the metadata of train_00.tif)" in _texts(data_section(run))
    assert pixel_size(load_run(write_run(tmp_path / "s", "segmentation")))[0] == 0.32  # the recipe wins
    (tmp_path / "instance_segmentation-data" / "images" / "train_00.tif").unlink()
    assert pixel_size(load_run(path)) == (None, "")  # data moved: no crash


def test_instance_results_headline_and_threshold_tables_with_baseline(tmp_path):
    run = load_run(write_run(tmp_path, "instance_segmentation"))
    header, rows, caption = headline_table(run)
    assert header == ["metric", "model", "classical baseline", "what it means"]
    assert [r[0] for r in rows][:2] == ["AP@0.5", "F1@0.5"] and rows[0][1:3] == ["0.62", "0.31"]
    assert dict((r[0], r[1:3]) for r in rows)["Predicted objects"] == ["13", "21"]
    assert all(len(r[3]) > 20 for r in rows) and "Otsu threshold + watershed" in caption
    header, rows, _ = threshold_table(run)
    assert header[:6] == ["IoU threshold", "precision", "recall", "F1", "AP", "PQ"]
    assert [r[0] for r in rows] == ["0.5", "0.6", "0.7", "0.8", "0.9"] and rows[2][4] == "0.37"
    section = results_section(run)
    tables = [b for b in section.blocks if b.kind == "table" and not b.caption.startswith("Per-condition")]
    assert len(tables) == 2  # no long flat list of every metric
    assert not [r[0] for b in section.blocks if b.kind == "table" for r in b.rows if "@0.6" in r[0]]


def test_postprocess_written_as_a_sentence(tmp_path):
    path = write_run(tmp_path, "instance_segmentation")
    run = load_run(path)
    assert postprocess_sentence(run) == ("Thresholds tuned on 2 validation images: foreground 0.45, seed 0.6; "
                                         "objects smaller than 10 pixels removed. Validation score (mean AP) "
                                         "0.41 vs 0.33 with the defaults.")
    assert "{" not in _texts(results_section(run))
    metrics = json.loads((path / "metrics.json").read_text())  # evaluated again: tuning only in postprocess.json
    tuning = metrics["postprocess"].pop("tuning")
    (path / "metrics.json").write_text(json.dumps(metrics))
    (path / "postprocess.json").write_text(json.dumps({**metrics["postprocess"], **tuning}))
    assert postprocess_sentence(load_run(path)).startswith("Thresholds tuned on 2 validation images")
    (path / "postprocess.json").unlink()
    assert postprocess_sentence(load_run(path)).startswith("Fixed thresholds (not tuned): foreground 0.45")
    metrics["postprocess"].update(shift_y=-0.45, shift_x=0.0)  # a tracking run registered its output
    (path / "metrics.json").write_text(json.dumps(metrics))
    assert "output shifted by -0.45 px down, 0 px right" in postprocess_sentence(load_run(path))


def test_summary_says_whether_the_model_beats_the_classical_method(tmp_path):
    path = write_run(tmp_path, "instance_segmentation")
    assert "the model is better (AP@0.5 0.62 vs 0.31)" in baseline_sentence(load_run(path))
    metrics = json.loads((path / "metrics.json").read_text())
    metrics["baseline"]["metrics"]["ap@0.5"] = 0.61
    (path / "metrics.json").write_text(json.dumps(metrics))
    run = load_run(path)
    assert "about the same (AP@0.5 0.62 vs 0.61)" in _texts(summary_section(run))
    metrics["baseline"]["metrics"]["ap@0.5"] = 0.8
    (path / "metrics.json").write_text(json.dumps(metrics))
    assert "the model is worse" in baseline_sentence(load_run(path))


def test_other_tasks_get_headline_and_detail_tables(tmp_path):
    cls = load_run(write_run(tmp_path / "c", "classification"))
    assert [r[0] for r in headline_table(cls)[1]] == ["Accuracy", "Balanced accuracy", "Macro F1", "ROC AUC"]
    header, rows, _ = per_class_table(cls)
    assert header == ["class", "precision", "recall", "F1", "ROC AUC", "test images"] and len(rows) == 3
    seg = load_run(write_run(tmp_path / "s", "segmentation"))
    assert headline_table(seg)[1][0][0] == "Mean IoU"
    assert per_class_table(seg)[0] == ["class", "IoU", "Dice", "pixels"]
    i2i = load_run(write_run(tmp_path / "i", "image_to_image"))
    header, rows, _ = headline_table(i2i)
    assert header == ["metric", "model", "input (no model)", "gain", "what it means"]
    psnr = rows[0]
    assert psnr[0] == "PSNR (dB)" and psnr[3] == "+8 (better)"
    assert dict((r[0], r[3]) for r in rows)["NRMSE"] == "-0.28 (better)"  # lower is better
    assert "8.0 dB closer" in _texts(summary_section(i2i))  # the headline finds the input score by its key


def test_instance_overlay_draws_outlines_only_in_the_legend_colours():
    truth = np.zeros((32, 32), np.int32)
    truth[4:14, 4:14] = 1  # found
    truth[18:28, 4:14] = 2  # missed
    pred = np.zeros_like(truth)
    pred[4:14, 4:14] = 5
    pred[18:28, 18:28] = 6  # false positive
    image = np.random.default_rng(0).random((32, 32, 1)).astype(np.float32)
    rgb = figures.instance_overlay(image, truth, pred)
    k = figures.upscale_factor(truth.shape)
    assert k >= 2 and rgb.shape == (32 * k, 32 * k, 3)

    def colours(y0, y1, x0, x1):
        block = rgb[y0 * k:y1 * k, x0 * k:x1 * k].reshape(-1, 3)
        return {tuple(np.round(c, 2)) for c in block}

    for (y0, x0), colour in (((4, 4), figures.GREEN), ((18, 4), figures.YELLOW), ((18, 18), figures.RED)):
        assert tuple(np.round(colour, 2)) in colours(y0, y0 + 1, x0, x0 + 10)  # the top edge is outlined
        inside = rgb[(y0 + 3) * k:(y0 + 7) * k, (x0 + 3) * k:(x0 + 7) * k]
        assert np.allclose(inside[..., 0], inside[..., 1]) and np.allclose(inside[..., 1], inside[..., 2])  # grey
        edge = rgb[(y0 + 5) * k, x0 * k:(x0 + 5) * k]  # a row across the left edge: line is 1-2 px wide
        assert 1 <= int(np.sum(np.all(np.isclose(edge, colour), axis=-1))) <= 2
