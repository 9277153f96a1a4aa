"""Write the packages the outside-consumer check runs (with Cellwright's own environment).

For each of the four task examples and a U-Net on a MobileNetV3 backbone: tiny demo data, one short epoch of
training (a packaging check needs a real run folder, not a good model), then ``bioimageio`` and ``onnx``
exports of the run exactly as ``cellwright export RUN`` writes them. The backbone is built without its ImageNet
weights so the check runs offline: the layers, and so the conversion, are those of the pretrained network.

Usage: python -m tests.consumers.make_packages OUT_DIR [CASE ...]   (all cases when none is named)
Writes OUT_DIR/<name>/*.bioimageio.zip and *.onnx, and OUT_DIR/packages.json listing them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

#: name -> (task, template override or None); tasks are named as the tests' fixtures name them.
CASES = {
    "classification": ("classification", None),
    "segmentation": ("segmentation", None),
    "instance_segmentation": ("instance_segmentation", None),
    "denoising": ("image_to_image", None),  # per-image percentiles: the network normalises itself
    "denoising_dataset_stats": ("image_to_image", None),  # targets' dataset statistics: scale_linear after it
    "unet_backbone": ("segmentation", {"template": "unet", "params": {
        "depth": 2, "base_filters": 4,
        "backbone": {"name": "mobilenet_v3_small", "weights": "none", "freeze": "none"}}}),
}
#: name -> preprocess settings merged into the case's recipe.
PREPROCESS = {"denoising_dataset_stats": {"target_normalize": {"method": "percentile", "per": "dataset"}}}


def make(out: Path, cases: list[str] | None = None) -> list[dict]:
    """Train and export every case (or ``cases``) into ``out``; return one entry per written file."""
    from builder.workflow.export_job import export_run
    from builder.workflow.train_job import train_recipe
    from tests.builder.workflow.train_fixtures import tiny_recipe

    written = []
    for name, (task, model) in CASES.items():
        if cases and name not in cases:
            continue
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        recipe_path = tiny_recipe(folder, task)
        recipe = yaml.safe_load(recipe_path.read_text())
        recipe["name"] = f"consumer-{name}"
        if model is not None:
            recipe["model"] = model
        recipe["preprocess"] = {**recipe.get("preprocess", {}), **PREPROCESS.get(name, {})}
        recipe_path.write_text(yaml.safe_dump(recipe, sort_keys=False))
        outcome = train_recipe(recipe_path, runs_dir=folder / "runs")
        for result in export_run(outcome.run_dir, formats=["bioimageio", "onnx"], out_dir=folder):
            written.append({"case": name, "task": task, "format": result["format"], "path": result["path"]})
        print(f"{name}: trained and exported in {time.monotonic() - start:.0f} s", flush=True)
    (out / "packages.json").write_text(json.dumps(written, indent=2))
    return written


if __name__ == "__main__":
    make(Path(sys.argv[1]), sys.argv[2:])
