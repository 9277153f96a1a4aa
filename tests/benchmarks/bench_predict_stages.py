"""CPU milliseconds of every prediction stage around the network, per 1024 x 1344 nuclei image (run by hand).

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python tests/benchmarks/bench_predict_stages.py [--full-resolution]

No TensorFlow: the network's output is the target of the real DSB2018 mask for the example's
``train.instance_target`` (``nuclei_output`` of ``bench_predict_speed.py``: the image and mask mirrored to
1024 x 1344, about 660 nuclei) on the network's grid: star-convex rays computed on the shrunk mask, or the
three-class target brought to the grid. The stages are the functions ``cellwright predict`` runs for one image
(:mod:`builder.workflow.batch_predict`): read the TIFF, prepare (shrink to the object scale of the nuclei example
with ``object_diameter: 23.7`` and ``target_diameter: 15``, anti-aliased, then percentile normalisation), bring the
output to full size (a star output stays on the grid), post-process (polygon suppression and drawing, or seeded
watershed), measure the objects, write the label TIFF and the per-image table, and this image's share of the summary
``objects.csv``. ``--full-resolution`` leaves ``object_diameter`` unset (no resizing). Each stage is the median of 7
runs in CPU time (``time.process_time``), which a busy machine disturbs less than wall-clock time;
say how busy the machine was (``uptime``) when you quote them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from tests.benchmarks import bench_predict_speed as speed


def _median_cpu_ms(fn: Any, repeats: int = 7) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.process_time()
        out = fn()
        times.append(time.process_time() - start)
    return sorted(times)[repeats // 2] * 1000, out


def stages(full_resolution: bool) -> tuple[dict[str, float], tuple[int, ...], int]:
    """CPU ms per stage, the network grid and the number of objects."""
    from builder.data.preprocess import resize_yx
    from builder.data.writers import label_dtype, write_rows_csv, write_tiff
    from builder.recipe import recipe_from_dict
    from builder.tasks.measure import measure_objects, write_objects_csv
    from builder.workflow.inference import interpret_output, postprocess_settings, prepare_image, to_image_grid
    from builder.workflow.predict_job import _read_for_model

    root = Path(tempfile.mkdtemp(prefix="cw-bench-stages-"))
    path = speed.write_images(root / "images", 1)[0]
    example = Path(__file__).resolve().parents[2] / "recipes" / "examples" / "nuclei_instances.yaml"
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    data["data"] = {"layout": "folders", "root": ".", "masks": "masks"}
    if not full_resolution:
        data["preprocess"]["object_diameter"], data["preprocess"]["target_diameter"] = 23.7, 15
    recipe = recipe_from_dict(data)
    model = SimpleNamespace(inputs=[SimpleNamespace(shape=(None, None, None, 1))])  # one input channel
    source = SimpleNamespace(recipe=recipe, model=model, normalization=None)
    ms: dict[str, float] = {}
    ms["read"], image = _median_cpu_ms(lambda: _read_for_model(path, source, channels=None, project=None))
    ms["prepare"], (raw, x, _) = _median_cpu_ms(lambda: prepare_image(model, image.array, recipe))
    target = recipe.train.instance_target
    if target == "star_convex":  # the star target of the mask shrunk to the network's grid (what a perfect net gives)
        output = speed.nuclei_output(x.shape[:2], target)
    else:
        output = resize_yx(speed.nuclei_output(raw.shape[:2]), x.shape[:2], order=1)
    ms["to_full_size"], full = _median_cpu_ms(lambda: to_image_grid(output, raw.shape[:2], x.shape[:2], recipe))
    params = postprocess_settings(recipe)
    ms["postprocess"], result = _median_cpu_ms(lambda: interpret_output(full, recipe, params))
    labels = result["labels"]
    ms["measure"], objects = _median_cpu_ms(lambda: measure_objects(labels, image.array, shape=False))
    ms["write_labels"], _ = _median_cpu_ms(lambda: write_tiff(root / "labels.tif", labels.astype(label_dtype(labels)),
                                                               None))
    ms["write_table"], _ = _median_cpu_ms(lambda: write_objects_csv(objects, root / "objects_one.csv"))
    rows = [{"file": path.name, **o} for o in objects]
    ms["summary_share"], _ = _median_cpu_ms(lambda: write_rows_csv(root / "objects.csv", rows))
    return ms, tuple(x.shape[:2]), int(labels.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-resolution", action="store_true", help="no object_diameter (no resizing)")
    args = parser.parse_args()
    ms, grid, n = stages(args.full_resolution)
    print(f"network grid {grid[0]}x{grid[1]}, {n} objects; CPU ms per stage: "
          + ", ".join(f"{k} {v:.1f}" for k, v in ms.items()) + f"; total {sum(ms.values()):.1f}")


if __name__ == "__main__":
    main()
