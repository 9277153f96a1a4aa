"""Evaluation: metrics.json schema, evaluation/*.npz, threshold tuning, --data, every task against hand counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from builder.cli.main import main
from builder.workflow.evaluate_job import evaluate_model, evaluate_run
from tests.builder.workflow.predict_helpers import (
    brightness_classifier,
    disk_image,
    disk_labels,
    identity_model,
    make_recipe,
    samples_of_test_folder,
    threshold_model,
    write_instance_dataset,
    write_run,
    write_tiff,
)

SCHEMA_KEYS = {"task", "split", "headline", "metrics", "per_class", "class_names", "per_image", "postprocess",
               "n_images"}


def _check_schema(m: dict) -> None:
    assert set(m) >= SCHEMA_KEYS
    assert set(m["headline"]) >= {"name", "value", "higher_is_better"}
    assert all(isinstance(v, float) for v in m["metrics"].values())
    assert len(m["per_image"]) == m["n_images"]
    assert all({"name", "score"} <= set(row) for row in m["per_image"])
    json.dumps(m, allow_nan=False)  # strict JSON: no NaN / inf


def test_instance_run_tunes_on_validation_and_writes_the_contract(tmp_path):
    data = tmp_path / "data"
    truths = write_instance_dataset(data, splits={"train": 1, "validation": 2, "test": 3})
    recipe = make_recipe("instance_segmentation", data)
    run = write_run(tmp_path / "run", threshold_model(3), recipe)

    m = evaluate_run(run)
    _check_schema(m)
    on_disk = json.loads((run / "metrics.json").read_text())
    assert on_disk == m
    assert m["task"] == "instance_segmentation" and m["split"] == "test" and m["n_images"] == 3
    assert m["headline"]["name"] == "AP@0.5" and m["headline"]["value"] == pytest.approx(1.0)
    assert m["metrics"]["ap@0.9"] == pytest.approx(1.0) and m["metrics"]["merges"] == 0
    assert "tuning" in m["postprocess"] and m["postprocess"]["tuning"]["tuned_on"] == 2
    tuned = json.loads((run / "postprocess.json").read_text())
    assert tuned["threshold"] == m["postprocess"]["threshold"]
    assert [r["name"] for r in m["per_image"]] == ["img0", "img1", "img2"]
    z = np.load(run / "evaluation" / "img1.npz")
    assert set(z.files) == {"image", "truth", "prediction", "score"}
    assert z["image"].dtype == np.float32 and z["image"].shape == (48, 56, 1)
    np.testing.assert_array_equal(z["truth"], truths["test"][1])
    assert z["prediction"].max() == truths["test"][1].max() and float(z["score"]) == pytest.approx(1.0)


def test_evaluate_cli_on_another_folder_keeps_the_run_metrics(tmp_path, capsys):
    run = write_run(tmp_path / "run", threshold_model(3), make_recipe("instance_segmentation", tmp_path / "none"),
                    postprocess={"threshold": 0.5, "seed_threshold": 0.5, "min_size": 5})
    other = tmp_path / "other"
    labels = disk_labels()  # 3 objects, all seen by the model
    write_tiff(other / "images" / "a.tif", disk_image(labels))
    write_tiff(other / "masks" / "a.tif", labels.astype(np.uint16))
    truth_b = labels.copy()
    truth_b[40:46, 44:52] = 9  # an object the image does not show: one false negative
    write_tiff(other / "images" / "b.tif", disk_image(labels))
    write_tiff(other / "masks" / "b.tif", truth_b.astype(np.uint16))

    assert main(["evaluate", str(run), "--data", str(other), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    _check_schema(m)
    assert m["split"] == "external" and m["n_images"] == 2
    assert m["metrics"]["ap@0.5"] == pytest.approx(6 / 7)  # tp 6, fn 1, fp 0
    assert m["metrics"]["recall@0.5"] == pytest.approx(6 / 7) and m["metrics"]["precision@0.5"] == 1.0
    assert (run / "evaluations" / "other" / "metrics.json").is_file()
    assert not (run / "metrics.json").exists()
    assert m["postprocess"]["min_size"] == 5 and "tuning" not in m["postprocess"]
    assert main(["evaluate", str(run), "--data", str(other)]) == 0
    text = capsys.readouterr().out
    assert "AP@0.5 = 0.8571" in text and "panoptic_quality" in text


def test_segmentation_iou_by_hand(tmp_path):
    labels = disk_labels()
    truth = (labels > 0).astype(np.uint8)
    truth[0:4, 40:50] = 1  # 40 foreground pixels the model cannot see
    write_tiff(tmp_path / "test" / "images" / "x.tif", disk_image(labels))
    write_tiff(tmp_path / "test" / "masks" / "x.tif", truth)
    recipe = make_recipe("segmentation", tmp_path, classes=["background", "cell"])
    samples = samples_of_test_folder(recipe, tmp_path)
    m = evaluate_model(threshold_model(2), recipe, samples, out_dir=tmp_path / "ev")
    _check_schema(m)
    fg = int((labels > 0).sum())
    bg_true, bg_pred = truth.size - fg - 40, truth.size - fg
    assert m["per_class"]["cell"]["iou"] == pytest.approx(fg / (fg + 40))
    assert m["per_class"]["background"]["iou"] == pytest.approx(bg_true / bg_pred)
    assert m["metrics"]["mean_iou"] == pytest.approx((fg / (fg + 40) + bg_true / bg_pred) / 2)
    assert m["class_names"] == ["background", "cell"] and m["confusion_matrix"][1][0] == 40
    assert m["headline"]["key"] == "mean_iou"
    z = np.load(tmp_path / "ev" / "evaluation" / "x.npz")
    assert z["truth"].shape == z["prediction"].shape == (48, 56)


def test_classification_confusion_and_probabilities(tmp_path):
    bright = np.full((20, 20), 900, np.uint16)
    bright[:3] = 100
    dim = np.full((20, 20), 100, np.uint16)
    dim[:3] = 900
    for name, image, cls in (("b1", bright, "bright"), ("b2", bright, "bright"), ("d1", dim, "dim"),
                             ("wrong", bright, "dim")):
        write_tiff(tmp_path / "test" / cls / f"{name}.tif", image)
    recipe = make_recipe("classification", tmp_path, classes=["dim", "bright"])
    samples = samples_of_test_folder(recipe, tmp_path)
    m = evaluate_model(brightness_classifier(16), recipe, samples, out_dir=tmp_path / "ev")
    _check_schema(m)
    assert m["confusion_matrix"] == [[1, 1], [0, 2]]  # rows: true dim, true bright
    assert m["metrics"]["accuracy"] == pytest.approx(0.75)
    assert m["metrics"]["balanced_accuracy"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["headline"]["value"] == m["metrics"]["balanced_accuracy"]
    wrong = next(r for r in m["per_image"] if r["name"] == "wrong")
    assert wrong["score"] == 0.0 and wrong["truth"] == "dim" and wrong["prediction"] == "bright"
    z = np.load(tmp_path / "ev" / "evaluation" / "wrong.npz")
    assert int(z["truth"]) == 0 and int(z["prediction"]) == 1
    assert z["probabilities"].shape == (2,) and z["probabilities"].sum() == pytest.approx(1.0, abs=1e-5)


def test_image_to_image_scores_the_input_too(tmp_path):
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[:40, :48]
    clean = (1000 + 800 * np.sin(yy / 5.0) * np.cos(xx / 7.0)).astype(np.float32)
    for i in range(2):
        noisy = clean + rng.normal(0, 150 + 100 * i, clean.shape).astype(np.float32)
        write_tiff(tmp_path / "test" / "images" / f"n{i}.tif", noisy)
        write_tiff(tmp_path / "test" / "targets" / f"n{i}.tif", clean)
    recipe = make_recipe("image_to_image", tmp_path)
    samples = samples_of_test_folder(recipe, tmp_path)
    m = evaluate_model(identity_model(), recipe, samples, out_dir=tmp_path / "ev")
    _check_schema(m)
    base = m["input_baseline"]
    assert set(base) == {"psnr", "ssim", "pearson", "nrmse"}
    # the identity model returns its input, so it gains nothing over it
    for key in base:
        assert m["metrics"][key] == pytest.approx(base[key], rel=1e-4)
    assert m["metrics"]["gain_psnr"] == pytest.approx(0.0, abs=1e-3)
    assert 5 < m["metrics"]["psnr"] < 40
    per = {r["name"]: r["score"] for r in m["per_image"]}
    assert per["n0"] > per["n1"]  # less noise scores higher
    z = np.load(tmp_path / "ev" / "evaluation" / "n0.npz")
    assert z["truth"].shape == z["prediction"].shape == (40, 48, 1) and z["truth"].dtype == np.float32


def test_groups_shared_by_several_images_become_conditions(tmp_path):
    from dataclasses import replace

    labels = disk_labels()
    for name in ("a1", "a2", "b1"):
        write_tiff(tmp_path / "test" / "images" / f"{name}.tif", disk_image(labels))
        write_tiff(tmp_path / "test" / "masks" / f"{name}.tif", (labels > 0).astype(np.uint8))
    recipe = make_recipe("segmentation", tmp_path, classes=["background", "cell"])
    samples = samples_of_test_folder(recipe, tmp_path)
    m = evaluate_model(threshold_model(2), recipe, samples)
    assert all("group" not in row for row in m["per_image"])  # each image its own group: no conditions
    conditions = [replace(s, group="treated" if s.image_path.stem.startswith("a") else "control") for s in samples]
    m = evaluate_model(threshold_model(2), recipe, conditions)
    by_name = {row["name"]: row.get("group") for row in m["per_image"]}
    assert by_name == {"a1": "treated", "a2": "treated", "b1": None}


def test_image_to_image_is_scored_on_the_8bit_scale_like_scikit_image(tmp_path):
    from skimage.metrics import peak_signal_noise_ratio

    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:40, :48]
    clean = (120 + 90 * np.sin(yy / 5.0) * np.cos(xx / 7.0)).astype(np.uint8)
    noisy = []
    for i in range(2):
        noisy.append(np.clip(clean + rng.normal(0, 12 + 8 * i, clean.shape), 0, 255).astype(np.uint8))
        write_tiff(tmp_path / "test" / "images" / f"n{i}.tif", noisy[-1])
        write_tiff(tmp_path / "test" / "targets" / f"n{i}.tif", clean)
    recipe = make_recipe("image_to_image", tmp_path)
    samples = samples_of_test_folder(recipe, tmp_path)
    m = evaluate_model(identity_model(), recipe, samples, out_dir=tmp_path / "ev")
    expected = np.mean([peak_signal_noise_ratio(clean, n, data_range=255) for n in noisy])
    assert m["metrics"]["psnr"] == pytest.approx(expected, abs=1e-4)  # the identity model returns the noisy input
    assert m["data_range"] == "255 (8-bit images)"
    # No linear fit: a model that halves the brightness is scored as wrong, not fitted back.
    half = evaluate_model(identity_model(scale=0.5), recipe, samples,
                          norm_stats={"normalize": {"offset": [0.0], "scale": [255.0]}, "target_normalize": None})
    assert half["metrics"]["psnr"] < expected - 5


def test_noisy_only_run_is_scored_against_clean_targets_of_another_folder(tmp_path, capsys):
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from builder.recipe import recipe_from_dict

    recipe = recipe_from_dict({
        "name": "n2v", "task": "image_to_image",
        "data": {"layout": "noisy_only", "root": str(tmp_path / "none"), "split": {"mode": "folders"}},
        "preprocess": {"normalize": {"method": "minmax"}, "tile": {"size": 32, "overlap": 12}, "patch": {"size": 32}},
        "model": {"template": "restoration", "params": {"depth": 2, "base_filters": 4}},
        "train": {"self_supervised": True},
    })
    run = write_run(tmp_path / "run", identity_model(), recipe)
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:40, :48]
    clean = (20 + 15 * np.sin(yy / 5.0) * np.cos(xx / 7.0)).astype(np.float32)
    noisy = (rng.poisson(clean) + rng.normal(0, 2.0, clean.shape)).astype(np.float32)
    write_tiff(tmp_path / "other" / "images" / "a.tif", noisy)
    write_tiff(tmp_path / "other" / "targets" / "a.tif", clean)

    assert main(["evaluate", str(run), "--data", str(tmp_path / "other"), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    data_range = float(clean.max() - clean.min())
    # the identity model returns the noisy image: scored against the clean target, not against itself
    assert m["metrics"]["psnr"] == pytest.approx(peak_signal_noise_ratio(clean, noisy, data_range=data_range),
                                                 abs=1e-4)
    assert m["metrics"]["ssim"] == pytest.approx(structural_similarity(clean, noisy, data_range=data_range),
                                                 abs=1e-5)
    assert "note" not in m

    write_tiff(tmp_path / "noisy" / "images" / "a.tif", noisy)  # no targets/: scored against the noisy input
    assert main(["evaluate", str(run), "--data", str(tmp_path / "noisy"), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["note"].startswith("No clean target images")
