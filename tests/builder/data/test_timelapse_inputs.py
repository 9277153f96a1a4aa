"""Time-lapse training data as one OME-TIFF / OME-Zarr file per sequence (T axis), with a label time-lapse or a
CTC ground-truth folder."""

from __future__ import annotations

import numpy as np
import pytest

from builder.data.layouts import Sample, discover
from builder.data.pipeline import load_split
from builder.data.timelapse import sequence_truth
from builder.tasks.tracking import _reference
from builder.tracking.lineage import TrackRow
from builder.tracking.reference import write_reference
from tests.builder.data.data_helpers import make_recipe
from tests.builder.tracking.timelapse_files import moving_cells, write_ome_tiff, write_ome_zarr

SPLIT = {"layout": "ctc", "split": {"validation": 0.2, "test": 0.34}}


def test_ome_tiff_time_lapse_with_a_label_time_lapse_gives_one_sample_per_frame(tmp_path):
    frames, labels = moving_cells()
    write_ome_tiff(tmp_path / "movie.ome.tif", frames)
    write_ome_tiff(tmp_path / "movie_labels.ome.tif", labels.astype(np.uint16))
    recipe = make_recipe("tracking", data=SPLIT)
    ds = discover(recipe, tmp_path)
    order = {k: [s.frame for s in v] for k, v in ds.splits.items()}
    assert order == {"train": [0, 1, 2], "validation": [3], "test": [4, 5]}  # split by time
    assert {s.group for _, s in ds.samples()} == {"movie"}
    loaded = load_split(ds.splits["train"] + ds.splits["test"], recipe.data, recipe.preprocess)
    for k, t in enumerate([0, 1, 2, 4, 5]):
        np.testing.assert_array_equal(loaded.images[k][..., 0], frames[t])
        np.testing.assert_array_equal(loaded.targets[k][..., 0], labels[t])
    truth = sequence_truth(ds.splits["test"][0])
    assert truth.tracks == [TrackRow(1, 0, 5, 0), TrackRow(2, 0, 5, 0)]
    rows, seg, first = _reference(ds.splits["test"])
    assert first == 4 and rows == [TrackRow(1, 0, 1, 0), TrackRow(2, 0, 1, 0)] and sorted(seg) == [0, 1]
    np.testing.assert_array_equal(truth.raw(5), frames[5].astype(np.float32))


def test_ome_zarr_time_lapse_with_a_ctc_ground_truth_folder(tmp_path):
    pytest.importorskip("zarr")
    frames, labels = moving_cells()
    write_ome_zarr(tmp_path / "01.ome.zarr", frames)
    tracks = [TrackRow(1, 0, 5, 0), TrackRow(2, 0, 5, 0)]
    write_reference(tmp_path / "01_GT", labels, tracks, seg={0: labels[0], 2: labels[2]})
    recipe = make_recipe("tracking", data=SPLIT)
    ds = discover(recipe, tmp_path)
    masks = {s.frame: s.mask_path.name for _, s in ds.samples()}
    assert masks == {0: "man_seg000.tif", 1: "man_track001.tif", 2: "man_seg002.tif", 3: "man_track003.tif",
                     4: "man_track004.tif", 5: "man_track005.tif"}
    assert ds.splits["train"][0].markers_path.name == "man_track000.tif"  # SEG frames know their markers
    loaded = load_split(ds.splits["train"], recipe.data, recipe.preprocess)
    assert [im.shape for im in loaded.images] == [(48, 48, 1)] * 3
    np.testing.assert_array_equal(loaded.images[2][..., 0], frames[2])
    np.testing.assert_array_equal(loaded.targets[1][..., 0], labels[1])
    assert Sample.from_dict(ds.splits["train"][1].to_dict()) == ds.splits["train"][1]  # split.json round trip
    assert sequence_truth(ds.splits["test"][0]).tracks == tracks


def test_a_time_lapse_without_ground_truth_is_a_located_error(tmp_path):
    frames, _ = moving_cells()
    write_ome_tiff(tmp_path / "movie.ome.tif", frames)
    ds = discover(make_recipe("tracking", data=SPLIT), tmp_path)
    assert all(s.mask_path is None for _, s in ds.samples())
    from builder.errors import DataError

    with pytest.raises(DataError, match="no tracking ground truth") as info:
        sequence_truth(ds.splits["test"][0])
    assert "movie_GT" in info.value.where and "label time-lapse" in info.value.fix
