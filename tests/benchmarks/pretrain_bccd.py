"""Benchmark (not a test): self-supervised pre-training vs from scratch vs an ImageNet backbone at 10 % labels.

BCCD (../shared/realdata/bccd, 364 blood-smear images with VOC boxes) is cut into cell crops, one per box, in 3
classes (RBC, WBC, Platelets; red cells capped at ``--max-rbc`` to keep CPU time small). A fixed stratified 30 %
of the crops is the test set. For each seed, 10 % of the other crops are labelled (a quarter of those for
validation); the rest are unlabelled. Arms, all the same recipe apart from the model:

* ``scratch``: the classifier template's small CNN, random start.
* ``pretrained``: the same CNN whose encoder comes from ``cellwright pretrain`` on every non-test crop (labels
  ignored), via ``backbone: {from: encoder.keras}``.
* ``pretrained_frozen`` / ``pretrained_warmup`` (extra arms, ``--arms``): the same encoder kept frozen
  (``freeze: all``: only the head learns) or frozen for the first 5 epochs (``freeze: {until_epoch: 5}``).
* ``imagenet``: ``mobilenet_v2`` with ``weights: imagenet``. This machine is offline: unless the real file is in
  ``~/.keras/models``, a RANDOM-INIT file is written under the exact Keras cache name in a private
  ``$KERAS_HOME`` only to exercise the loading path; its score is then NOT an ImageNet result.

Prints balanced accuracy on the test crops per arm and seed, and writes ``results.json``. Run by hand:

    nice -n 10 .venv/bin/python tests/benchmarks/pretrain_bccd.py --seeds 5 --out /tmp/pretrain_bccd
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
BCCD = REPO.parent / "shared" / "realdata" / "bccd" / "BCCD"
CLASSES = ("Platelets", "RBC", "WBC")
MOBILENET_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
#: Pre-trained arms and the encoder's freeze policy in each (the recipe default is "none").
FREEZE: dict[str, object] = {"pretrained": "none", "pretrained_frozen": "all",
                             "pretrained_warmup": {"until_epoch": 5}}


def write_crops(out: Path, max_rbc: int, seed: int = 0) -> dict[str, list[Path]]:
    """One PNG per VOC box under ``out/all/<class>/``; returns the crop files per class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    crops: dict[str, list[Path]] = {c: [] for c in CLASSES}
    boxes = []
    for xml in sorted((BCCD / "Annotations").glob("*.xml")):
        root = ET.parse(xml).getroot()
        for obj in root.iter("object"):
            name = obj.findtext("name", "").strip()
            box = obj.find("bndbox")
            if name in CLASSES and box is not None:
                coords = [int(float(box.findtext(k, "0"))) for k in ("xmin", "ymin", "xmax", "ymax")]
                boxes.append((root.findtext("filename"), name, coords))
    rbc = [i for i, b in enumerate(boxes) if b[1] == "RBC"]
    drop = set(rng.permutation(rbc)[max_rbc:].tolist()) if len(rbc) > max_rbc else set()
    images: dict[str, Image.Image] = {}
    for i, (filename, name, (x0, y0, x1, y1)) in enumerate(boxes):
        if i in drop:
            continue
        image = images.setdefault(filename, Image.open(BCCD / "JPEGImages" / filename).convert("RGB"))
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(image.width, x1), min(image.height, y1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            continue
        path = out / "all" / name / f"{Path(filename).stem}_{i:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            image.crop((x0, y0, x1, y1)).save(path)
        crops[name].append(path)
    return crops


def stratified(crops: dict[str, list[Path]], fraction: float, seed: int) -> tuple[dict, dict]:
    """(taken, rest): ``fraction`` of each class (at least 1) drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    taken, rest = {}, {}
    for name, paths in crops.items():
        order = rng.permutation(len(paths))
        n = max(1, round(fraction * len(paths)))
        taken[name] = [paths[i] for i in order[:n]]
        rest[name] = [paths[i] for i in order[n:]]
    return taken, rest


def link_split(root: Path, split: str, crops: dict[str, list[Path]]) -> None:
    for name, paths in crops.items():
        folder = root / split / name
        folder.mkdir(parents=True, exist_ok=True)
        for path in paths:
            target = folder / path.name
            if not target.exists():
                os.link(path, target)


def recipe(root: Path, arm: str, encoder: Path, epochs: int, size: int, seed: int) -> Path:
    import yaml

    model: dict = {"template": "classifier", "params": {"depth": 3, "base_filters": 16}}
    if arm.startswith("pretrained"):
        model["params"]["backbone"] = {"from": str(encoder), "freeze": FREEZE[arm]}
    elif arm == "imagenet":
        model = {"template": "classifier", "params": {"backbone": {"name": "mobilenet_v2", "weights": "imagenet"}}}
    text = {
        "cellwright": 1, "name": f"bccd-{arm}-s{seed}", "task": "classification",
        "data": {"layout": "class_folders", "root": str(root), "split": {"mode": "folders"}},
        "preprocess": {"image_size": size},
        "augment": {"flip": True, "rotate90": True},
        "model": model,
        "train": {"epochs": epochs, "batch_size": 32, "seed": seed, "early_stopping": {"patience": 10},
                  "optimizer": {"learning_rate": 1e-3}},
        "report": {"enabled": False}, "export": {"formats": []},
    }
    path = root / f"{arm}.yaml"
    path.write_text(yaml.safe_dump(text, sort_keys=False))
    return path


def cellwright(*args: str, env: dict | None = None) -> None:
    subprocess.run([sys.executable, "-m", "builder.cli.main", *args], check=True, cwd=REPO,
                   env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, stdout=subprocess.DEVNULL)


def balanced_accuracy(run_dir: Path) -> float:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    flat = metrics.get("metrics", {})
    for key in ("balanced_accuracy", "test_balanced_accuracy"):
        if key in flat:
            return float(flat[key])
    raise KeyError(f"no balanced_accuracy in {run_dir / 'metrics.json'}: {sorted(flat)}")


def imagenet_home(out: Path) -> tuple[Path, bool]:
    """A Keras home for the ImageNet arm: the real cache when it holds the file, else a random-init stand-in."""
    real = Path("~/.keras/models").expanduser() / MOBILENET_FILE
    if real.is_file():
        return real.parent.parent, True
    home = out / "keras_home"
    path = home / "models" / MOBILENET_FILE
    if not path.is_file():
        import h5py
        import keras

        path.parent.mkdir(parents=True, exist_ok=True)
        model = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(224, 224, 3))
        with h5py.File(path, "w") as f:  # the legacy layout keras.applications publishes
            f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
            for layer in model.layers:
                group = f.create_group(layer.name)
                weights = layer.trainable_weights + layer.non_trainable_weights
                group.attrs["weight_names"] = [f"w{i}".encode() for i in range(len(weights))]
                for i, weight in enumerate(weights):
                    group.create_dataset(f"w{i}", data=weight.numpy())
    return home, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("/tmp/pretrain_bccd"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="Start at this seed (to add seeds to a run).")
    parser.add_argument("--labels", type=float, default=0.10)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--pretrain-epochs", type=int, default=30)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--max-rbc", type=int, default=800)
    parser.add_argument("--arms", default="scratch,pretrained,imagenet")
    parser.add_argument("--imagenet-seeds", type=int, default=None,
                        help="Seeds for the ImageNet arm (default: --seeds; 1 is enough with a stand-in file).")
    args = parser.parse_args()
    out = args.out.resolve()
    crops = write_crops(out, args.max_rbc)
    test, pool = stratified(crops, 0.30, seed=1000)
    print("crops per class:", {c: len(p) for c, p in crops.items()}, "test:", sum(map(len, test.values())))
    unlabelled = out / "unlabelled"
    link_split(unlabelled, "crops", pool)
    encoder = out / "encoder.keras"
    if "pretrained" in args.arms and not encoder.is_file():  # any pre-trained arm
        cellwright("pretrain", str(unlabelled), "--out", str(encoder), "--size", str(args.size), "--fit", "resize",
                   "--epochs", str(args.pretrain_epochs))
        print("pretrain record:", (out / "encoder.pretrain.json").read_text())
    home, real = imagenet_home(out) if "imagenet" in args.arms else (None, False)
    results: dict[str, list[float]] = {arm: [] for arm in args.arms.split(",")}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        labelled, _ = stratified(pool, args.labels, seed=seed)
        validation, train = stratified(labelled, 0.25, seed=seed)
        root = out / f"seed{seed}"
        if root.exists():
            shutil.rmtree(root)
        link_split(root, "train", train)
        link_split(root, "validation", validation)
        link_split(root, "test", test)
        for arm in results:
            if arm == "imagenet" and args.imagenet_seeds is not None and seed >= args.first_seed + args.imagenet_seeds:
                continue
            env = {"KERAS_HOME": str(home)} if arm == "imagenet" else None
            runs = root / "runs" / arm
            cellwright("train", str(recipe(root, arm, encoder, args.epochs, args.size, seed)), "--runs", str(runs),
                       "--no-report", "--no-export", env=env)
            score = balanced_accuracy(next(runs.iterdir()))
            results[arm].append(score)
            print(f"seed {seed} {arm:10s} balanced accuracy {score:.3f}  (train {sum(map(len, train.values()))}, "
                  f"validation {sum(map(len, validation.values()))} labelled crops)", flush=True)
    summary = {arm: {"mean": float(np.mean(v)), "std": float(np.std(v)), "scores": v} for arm, v in results.items()}
    summary["imagenet_weights"] = "real ImageNet file" if real else "RANDOM-INIT stand-in (offline): not ImageNet"
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    for arm, row in summary.items():
        print(arm, row)


if __name__ == "__main__":
    main()
