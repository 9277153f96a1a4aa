import csv

import numpy as np
import pytest

from builder.errors import DataError
from builder.tasks.measure import measure_objects, write_objects_csv


def test_rectangle_measurements(tmp_path):
    labels = np.zeros((20, 20), np.int32)
    labels[2:6, 3:9] = 5  # 4 rows x 6 columns
    image = np.zeros((20, 20, 2))
    image[2:6, 3:9, 0] = np.arange(24).reshape(4, 6)  # mean 11.5, min 0, max 23
    image[..., 1] = 2.0
    (row,) = measure_objects(labels, image, channel_names=["dapi", "gfp"], pixel_size=0.5)
    assert row["label"] == 5 and row["area"] == 24
    assert (row["centroid_y"], row["centroid_x"]) == (3.5, 5.5)
    assert (row["bbox_min_y"], row["bbox_min_x"], row["bbox_max_y"], row["bbox_max_x"]) == (2, 3, 6, 9)
    assert row["mean_intensity_dapi"] == pytest.approx(11.5)
    assert (row["min_intensity_dapi"], row["max_intensity_dapi"], row["mean_intensity_gfp"]) == (0, 23, 2)
    assert row["solidity"] == pytest.approx(1.0)
    # axis lengths = 4 * sqrt(variance of the coordinates): columns (6^2 - 1) / 12, rows (4^2 - 1) / 12
    assert row["major_axis_length"] == pytest.approx(4 * np.sqrt(35 / 12))
    assert row["minor_axis_length"] == pytest.approx(4 * np.sqrt(15 / 12))
    assert row["eccentricity"] == pytest.approx(np.sqrt(1 - (15 / 35)))
    assert row["area_um2"] == pytest.approx(6.0)
    path = write_objects_csv([row], tmp_path / "objects.csv")
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["label"] == "5" and float(rows[0]["mean_intensity_gfp"]) == 2.0


def test_shapes_only_and_errors():
    labels = np.zeros((10, 10), np.int32)
    labels[1:3, 1:3], labels[5:9, 5:9] = 1, 2
    rows = measure_objects(labels[..., None])
    assert [r["label"] for r in rows] == [1, 2] and "mean_intensity_ch0" not in rows[0]
    with pytest.raises(DataError, match="differ in size"):
        measure_objects(labels, np.zeros((5, 5)))


def _dict_writer_bytes(rows, empty_header):
    """What the tables were written with before: csv.DictWriter over the keys in first-seen order."""
    import io

    fields = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=fields or [empty_header])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_tables_have_the_bytes_of_dict_writer(tmp_path):
    """Per-object tables and the summary: same bytes as csv.DictWriter (missing keys, None, quotes, floats)."""
    from builder.data.writers import write_rows_csv

    labels = np.zeros((40, 50), np.int32)
    labels[3:9, 4:20], labels[20:35, 30:33], labels[25:27, 5:7] = 1, 2, 7
    intensity = np.random.default_rng(0).normal(100, 30, (40, 50, 2))
    rows = measure_objects(labels, intensity, channel_names=["DAPI", "GFP, 488"], pixel_size=0.325)
    mixed = [{"file": 'a "b", c.tif', **rows[0]}, {"file": "d.tif", "frame": 3, **rows[1]},
             {"extra": None, "note": "ü\nline"}]
    for table, header in ((rows, "label"), (mixed, "file"), ([], "label"), ([], "file")):
        path = write_rows_csv(tmp_path / "t.csv", table, empty_header=header)
        assert path.read_bytes() == _dict_writer_bytes(table, header)
    assert write_objects_csv(rows, tmp_path / "sub" / "o.csv").read_bytes() == _dict_writer_bytes(rows, "label")
