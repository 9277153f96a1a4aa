"""Classify real blood-cell crops (BCCD: RBC, WBC, Platelets) with the shipped classification settings.

The Pascal VOC boxes of ../shared/realdata/bccd are cut out as crops (square, around each box) into
``train/``, ``validation/`` and ``test/`` folders following the data set's own image lists, so no blood smear
gives crops to two splits. Red cells outnumber the others ten to one; at most ``--max-per-class`` crops of a
class are kept per split (balanced accuracy is the score, class weights are on).

``--settings example`` trains with the model, preprocess and train sections of recipes/examples/cell_classes.yaml
(the shipped defaults); ``--settings old`` with the defaults before time budgets (48 px, 3 blocks x 16 filters,
20 epochs, patience 6, loss-based checkpoint choice). Run by hand (not collected by pytest):

    nice -n 10 .venv/bin/python tests/benchmarks/realdata_bccd_classification.py --settings example --seed 1
"""

from __future__ import annotations

import argparse
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata" / "bccd" / "BCCD"
EXAMPLE = ROOT / "recipes" / "examples" / "cell_classes.yaml"
SPLITS = {"train": "train.txt", "validation": "val.txt", "test": "test.txt"}

OLD = {
    "preprocess": {"image_size": 48},
    "model": {"template": "classifier", "params": {"depth": 3, "base_filters": 16}},
    "train": {"epochs": 20, "batch_size": 32, "early_stopping": {"patience": 6, "monitor": "val_loss"}},
}


def boxes(annotation: Path) -> list[tuple[str, int, int, int, int]]:
    """(class, xmin, ymin, xmax, ymax) of every object in one VOC annotation file."""
    root = ET.parse(annotation).getroot()
    out = []
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        if box is None:
            continue
        values = [int(float(box.findtext(k, "0"))) for k in ("xmin", "ymin", "xmax", "ymax")]
        out.append((obj.findtext("name", "").strip(), *values))
    return out


def write_crops(out: Path, max_per_class: int) -> dict[str, dict[str, int]]:
    """Square crops of every box into ``out/<split>/<class>/``; returns the counts."""
    from PIL import Image

    counts: dict[str, dict[str, int]] = {}
    for split, listing in SPLITS.items():
        names = (REALDATA / "ImageSets" / "Main" / listing).read_text().split()
        counts[split] = {}
        for name in names:
            annotation = REALDATA / "Annotations" / f"{name}.xml"
            if not annotation.is_file():
                continue
            image = None
            for i, (label, x0, y0, x1, y1) in enumerate(boxes(annotation)):
                if label not in ("RBC", "WBC", "Platelets") or x1 - x0 < 4 or y1 - y0 < 4:
                    continue
                if counts[split].get(label, 0) >= max_per_class:
                    continue
                if image is None:
                    image = Image.open(REALDATA / "JPEGImages" / f"{name}.jpg").convert("RGB")
                side = max(x1 - x0, y1 - y0)
                cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
                crop = image.crop((cx - side // 2, cy - side // 2, cx - side // 2 + side, cy - side // 2 + side))
                folder = out / split / label
                folder.mkdir(parents=True, exist_ok=True)
                crop.save(folder / f"{name}_{i}.png")
                counts[split][label] = counts[split].get(label, 0) + 1
    return counts


def recipe(out: Path, settings: str, seed: int, time_budget: str | None) -> Path:
    """A class-folders recipe on the crops with the chosen settings."""
    if settings == "example":
        example = yaml.safe_load(EXAMPLE.read_text())
        sections = {k: example[k] for k in ("preprocess", "augment", "model", "train") if k in example}
    else:
        sections = {**OLD, "augment": {"flip": True, "rotate90": True}}
    train = dict(sections["train"], seed=seed)
    if time_budget is not None:
        train["time_budget"] = time_budget
    text = {
        "cellwright": 1, "name": f"bccd-{settings}", "task": "classification",
        "data": {"layout": "class_folders", "root": str(out), "split": {"mode": "folders"}},
        **sections, "train": train,
        "report": {"enabled": False}, "export": {"formats": []},
    }
    path = out / f"bccd-{settings}.yaml"
    path.write_text(yaml.safe_dump(text, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", choices=["example", "old"], default="example")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--time-budget", default=None, help="Override train.time_budget (e.g. 3m).")
    parser.add_argument("--max-per-class", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("/tmp/cellwright-bccd"))
    args = parser.parse_args()
    if not REALDATA.is_dir():
        raise SystemExit(f"{REALDATA} is not present")
    from builder.workflow.train_job import train_recipe

    counts = write_crops(args.out, args.max_per_class)
    path = recipe(args.out, args.settings, args.seed, args.time_budget)
    start = time.time()
    outcome = train_recipe(path, runs_dir=args.out / "runs", report=False, export=False)
    metrics = outcome.metrics.get("metrics", {})
    history = json.loads((outcome.run_dir / "history.json").read_text())
    state = json.loads((outcome.run_dir / "state.json").read_text())
    print(json.dumps({
        "run": str(outcome.run_dir), "settings": args.settings, "seed": args.seed, "crops": counts,
        "recipe": yaml.safe_load(path.read_text())["train"],
        "seconds": round(time.time() - start, 1), "epochs": outcome.epochs_completed,
        "best_epoch": state.get("best_epoch"), "monitor": state.get("monitor"),
        "test_balanced_accuracy": metrics.get("balanced_accuracy"), "test_accuracy": metrics.get("accuracy"),
        "validation_history_last": history[-1] if history else None,
    }, indent=2, default=float))


if __name__ == "__main__":
    main()
