"""Object scale (preprocess.object_diameter) and full-resolution outlines, with real TIFFs and real Keras models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from builder.data.layouts import discover
from builder.data.object_scale import measure_diameter, resolve_for_training, training_diameter
from builder.data.preprocess import resize_yx
from builder.errors import DataError
from builder.recipe import recipe_from_dict
from builder.workflow.evaluate_job import evaluate_model
from builder.workflow.inference import interpret_output, network_output, postprocess_settings, predict_image, prepare
from builder.workflow.predict_job import predict_paths
from tests.builder.workflow.predict_helpers import disk_image, threshold_model, write_run, write_tiff

pytest.importorskip("keras")

#: Large disks (centre y, centre x, radius) in a 120 x 132 image: diameters 25..37 px.
BIG = [(30, 34, 14), (78, 40, 18), (60, 96, 12), (100, 104, 13)]


def _labels(shape, disks):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    out = np.zeros(shape, np.int32)
    for i, (cy, cx, r) in enumerate(disks, start=1):
        out[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = i
    return out


def _recipe(root=".", **pre):
    return recipe_from_dict({
        "name": "scale", "task": "instance_segmentation",
        "data": {"root": str(root), "masks": "masks", "split": {"mode": "folders"}},
        "preprocess": {"normalize": {"method": "minmax"}, "patch": {"size": 32}, **pre},
        "model": {"template": "unet", "params": {"depth": 2, "base_filters": 4}},
    })


def _dataset(root, labels):
    for split in ("train", "test"):
        write_tiff(root / split / "images" / "a.tif", disk_image(labels))
        write_tiff(root / split / "masks" / "a.tif", labels.astype(np.uint16))


def test_auto_diameter_is_the_median_of_the_training_masks(tmp_path):
    labels = _labels((120, 132), BIG)
    _dataset(tmp_path, labels)
    recipe = _recipe(tmp_path, object_diameter="auto", target_diameter=10)
    train = discover(recipe, tmp_path).splits["train"]
    expected = np.median([2 * np.sqrt((labels == i).sum() / np.pi) for i in range(1, 5)])
    assert measure_diameter(train, recipe) == (pytest.approx(expected), False)  # 4 objects: fewer than 5
    resolved, record = resolve_for_training(recipe, train)
    assert resolved.preprocess.object_diameter == pytest.approx(expected)
    assert record["factor"] == pytest.approx(10 / expected, rel=1e-5)
    assert record["measured_from"].startswith("training masks")
    assert training_diameter(recipe.preprocess, {"scale": record}) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(DataError, match="did not record"):
        training_diameter(recipe.preprocess, {"normalize": None})
    (tmp_path / "train" / "masks" / "a.tif").unlink()
    no_masks = discover(_recipe(tmp_path, object_diameter="auto"), tmp_path)
    with pytest.raises(DataError, match="no masks"):
        measure_diameter(no_masks.splits["train"], recipe)


def test_both_pixel_size_and_diameter_are_refused():
    from builder.errors import CellwrightError

    with pytest.raises(CellwrightError, match="not both"):
        _recipe(object_diameter=20, resample_to=0.5)


def test_outlines_are_drawn_at_full_resolution_not_enlarged_from_the_coarse_grid():
    labels = _labels((120, 132), BIG)
    image = disk_image(labels)
    recipe = _recipe(object_diameter=30, target_diameter=10)  # the network works at a third of the size
    model = threshold_model(3)
    params = {"min_size": 2}
    result = predict_image(model, image, recipe, postprocess=params)
    assert result["input"].shape[:2] == (40, 44) and result["labels"].shape == labels.shape

    x, _ = prepare(image, recipe)  # the old way: labels on the coarse grid, enlarged by nearest neighbour
    coarse = interpret_output(network_output(model, x, recipe), recipe, postprocess_settings(recipe, params))
    blocky = resize_yx(coarse["labels"], labels.shape, order=0)

    def wrong_pixels(pred):
        return int(((pred > 0) != (labels > 0)).sum())

    assert result["labels"].max() == blocky.max() == 4
    assert wrong_pixels(result["labels"]) < 0.85 * wrong_pixels(blocky), (wrong_pixels(result["labels"]),
                                                                          wrong_pixels(blocky))


def test_predict_rescales_new_images_by_their_own_diameter(tmp_path):
    small = _labels((120, 132), BIG)
    big = _labels((240, 264), [(2 * y, 2 * x, 2 * r) for y, x, r in BIG])  # the same objects, twice as large
    write_tiff(tmp_path / "in" / "big.tif", disk_image(big))
    recipe = _recipe(object_diameter="auto", target_diameter=10)
    record = {"object_diameter": 30.0, "target_diameter": 10.0, "factor": 1 / 3, "measured_from": "test"}
    run = write_run(tmp_path / "run", threshold_model(3), recipe,
                    normalization={"normalize": None, "target_normalize": None, "scale": record})
    predict_paths(run, [tmp_path / "in"], tmp_path / "out", diameter=60)
    labels = tifffile.imread(tmp_path / "out" / "big_labels.tif")
    assert labels.shape == big.shape and labels.max() == 4
    as_trained = predict_image(threshold_model(3), disk_image(big), recipe,
                               norm_stats={"normalize": None, "scale": record})
    assert as_trained["input"].shape[:2] == (80, 88)  # without --diameter: the training scale (1/3)
    with_diameter = predict_image(threshold_model(3), disk_image(big), recipe, diameter=60,
                                  norm_stats={"normalize": None, "scale": record})
    assert with_diameter["input"].shape[:2] == (40, 44)
    assert predict_image(threshold_model(3), disk_image(small), recipe,
                         norm_stats={"normalize": None, "scale": record})["labels"].max() == 4
    assert json.loads((run / "normalization.json").read_text())["scale"]["object_diameter"] == 30.0


def test_evaluate_scores_at_the_original_resolution(tmp_path):
    labels = _labels((120, 132), BIG)
    _dataset(tmp_path, labels)
    recipe = _recipe(tmp_path, object_diameter=30, target_diameter=10)
    samples = discover(recipe, tmp_path).splits["test"]
    metrics = evaluate_model(threshold_model(3), recipe, samples, postprocess={"threshold": 0.5,
                             "seed_threshold": 0.5, "min_size": 2}, out_dir=tmp_path / "ev")
    saved = np.load(tmp_path / "ev" / "evaluation" / "a.npz")
    assert saved["truth"].shape[:2] == labels.shape and saved["prediction"].shape[:2] == labels.shape
    assert saved["image"].shape[:2] == labels.shape
    assert np.array_equal(np.squeeze(saved["truth"]), labels)
    assert metrics["headline"]["value"] == pytest.approx(1.0)  # every object found, scored at full size


def test_report_and_export_state_the_measured_scale_not_a_pixel_size(tmp_path):
    from builder.export.bioimageio import _documentation
    from builder.export.metadata import metadata_from_recipe
    from builder.report.methods import methods_text
    from builder.report.run_data import load_run
    from builder.run_folder import RunFolder
    from builder.workflow.export_job import _with_measured_diameter

    recipe = _recipe(object_diameter="auto", target_diameter=10)
    record = {"object_diameter": 30.0, "target_diameter": 10.0, "factor": 1 / 3, "measured_from": "test"}
    run = write_run(tmp_path / "run", threshold_model(3), recipe,
                    normalization={"normalize": None, "target_normalize": None, "scale": record})
    text, _ = methods_text(load_run(run))
    assert "rescaled by 0.333 so that objects 30 px across (the median object diameter in the training masks) " \
           "became 10 px across" in text
    assert "µm" not in text
    exported = _with_measured_diameter(RunFolder(run), RunFolder(run).read_recipe_data())
    assert exported["preprocess"]["object_diameter"] == 30.0
    metadata = metadata_from_recipe(exported)
    assert (metadata.object_diameter, metadata.target_diameter, metadata.pixel_size) == (30.0, 10.0, None)
    doc = _documentation(metadata, [])
    assert "Pixel size: not recorded\n" in doc and "trained on objects 30 px across, rescaled by 0.3333" in doc


def test_probability_maps_and_outline_measurements_are_opt_in(tmp_path):
    from builder.cli.main import main

    labels = _labels((120, 132), BIG)
    write_tiff(tmp_path / "in" / "a.tif", disk_image(labels))
    run = write_run(tmp_path / "run", threshold_model(3), _recipe())
    predict_paths(run, [tmp_path / "in"], tmp_path / "plain")
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == ["a_labels.tif", "a_objects.csv", "objects.csv"]
    header = (tmp_path / "plain" / "a_objects.csv").read_text().splitlines()[0].split(",")
    assert "area" in header and "perimeter" not in header and "solidity" not in header
    assert main(["predict", str(run), str(tmp_path / "in"), "--out", str(tmp_path / "all"), "--probabilities",
                 "--shape-measurements"]) == 0
    assert (tmp_path / "all" / "a_prob.tif").is_file()
    header = (tmp_path / "all" / "a_objects.csv").read_text().splitlines()[0].split(",")
    assert "perimeter" in header and "solidity" in header


def test_auto_diameter_leaves_out_objects_cut_by_the_image_edge(tmp_path):
    """Training crops cut nuclei at their edges; measuring those made the DSB nuclei 22.3 px instead of 23.7 px."""
    from builder.data.object_scale import MIN_WHOLE_OBJECTS, WHOLE_OBJECTS

    whole = [(20, 20, 9), (20, 60, 9), (20, 100, 9), (60, 40, 10), (60, 80, 10), (100, 60, 9)]
    cut = [(0, 40, 9), (0, 80, 9), (0, 120, 9), (60, 0, 10), (119, 20, 9), (119, 100, 9), (100, 131, 10),
           (40, 131, 9)]  # centres on the edges: halves, more of them than whole objects
    labels = _labels((120, 132), whole + cut)
    assert len(whole) >= MIN_WHOLE_OBJECTS
    _dataset(tmp_path, labels)
    recipe = _recipe(tmp_path, object_diameter="auto", target_diameter=10)
    train = discover(recipe, tmp_path).splits["train"]
    expected = np.median([2 * np.sqrt((labels == i).sum() / np.pi) for i in range(1, len(whole) + 1)])
    every = np.median([2 * np.sqrt((labels == i).sum() / np.pi) for i in range(1, len(whole + cut) + 1)])
    assert every < expected - 2  # the cut halves pull the median of every object down
    assert measure_diameter(train, recipe) == (pytest.approx(expected), True)
    _, record = resolve_for_training(recipe, train)
    assert record["measured_from"] == WHOLE_OBJECTS and record["object_diameter"] == pytest.approx(expected, 1e-4)

    # fewer whole objects than MIN_WHOLE_OBJECTS: every object is measured rather than a handful
    few = _labels((120, 132), whole[:2] + cut)
    _dataset(tmp_path, few)
    expected_few = np.median([2 * np.sqrt((few == i).sum() / np.pi) for i in range(1, 2 + len(cut) + 1)])
    assert measure_diameter(train, recipe) == (pytest.approx(expected_few), False)
    assert resolve_for_training(recipe, train)[1]["measured_from"] == "training masks (median)"


def test_methods_say_the_diameter_left_out_cut_objects(tmp_path):
    from builder.data.object_scale import WHOLE_OBJECTS
    from builder.report.methods import object_scale_phrase
    from builder.report.run_data import RunData

    def phrase(measured_from):
        scale = {"object_diameter": 22.0, "target_diameter": 15.0, "factor": 15 / 22, "measured_from": measured_from}
        return object_scale_phrase(RunData(tmp_path, recipe={"preprocess": {"object_diameter": "auto"}},
                                           normalization={"scale": scale}))

    assert "objects in the training masks that do not touch the image edge" in phrase(WHOLE_OBJECTS)
    assert "(the median object diameter in the training masks)" in phrase("training masks (median)")
