"""``predict`` on many images: images of one shape share network calls, and every label image equals the one
predicted alone (a real convolutional network, real TIFF files, a broken file and a differently sized image
among them)."""

from __future__ import annotations

import numpy as np
import tifffile

from builder.workflow.predict_job import predict_paths
from tests.builder.workflow.predict_helpers import (
    conv_net,
    disk_image,
    disk_labels,
    make_recipe,
    write_run,
    write_tiff,
)


def _images(folder, rng):
    """Five 48 x 56 images with random disks and noise, one 40 x 64 image in the middle, one broken file."""
    paths = []
    for i in range(6):
        shape = (40, 64) if i == 3 else (48, 56)
        disks = [(int(rng.integers(8, shape[0] - 8)), int(rng.integers(8, shape[1] - 8)), int(rng.integers(4, 8)))
                 for _ in range(3)]
        image = disk_image(disk_labels(shape, disks)).astype(np.float32) + rng.normal(0, 60, shape)
        paths.append(write_tiff(folder / f"img{i}.tif", np.clip(image, 0, 4000).astype(np.uint16)))
    broken = folder / "img9_broken.tif"
    broken.write_bytes(paths[0].read_bytes()[:200])
    return [*paths[:2], broken, *paths[2:]]


def test_batched_labels_equal_one_at_a_time(tmp_path):
    run = write_run(tmp_path / "run", conv_net(n_out=3, seed=1), make_recipe("instance_segmentation"),
                    postprocess={"threshold": 0.5, "seed_threshold": 0.45, "min_size": 3})
    paths = _images(tmp_path / "in", np.random.default_rng(0))
    together = predict_paths(run, paths, tmp_path / "together")
    assert together["n_images"] == 6 and [s["file"] for s in together["skipped"]] == [str(paths[2])]
    # one call per run of readable images of one shape: img0 img1 (broken) img2 | img3 (40 x 64) | img4 img5
    shapes = [tifffile.imread(p).shape for p in paths if p != paths[2]]
    runs = 1 + sum(a != b for a, b in zip(shapes, shapes[1:], strict=False))
    assert runs == 3 and together["network_calls"] == runs
    assert [r["file"] for r in together["images"]] == [str(p) for p in paths if p != paths[2]]
    alone_calls = 0
    for path in paths:
        if path == paths[2]:
            continue
        alone = predict_paths(run, [path], tmp_path / f"alone_{path.stem}")
        alone_calls += alone["network_calls"]
        a = tifffile.imread(tmp_path / f"alone_{path.stem}" / f"{path.stem}_labels.tif")
        b = tifffile.imread(tmp_path / "together" / f"{path.stem}_labels.tif")
        assert a.max() > 0 and np.array_equal(a, b), path.name
    assert alone_calls == 6
