"""Denoise real fluorescence images with synthetic microscope noise, at a training-time budget, and compare.

Clean images: the DSB2018 nuclei image (``dsb2018_one_image/img2d.tif``) and frames of the Cell Tracking
Challenge Fluo-N2DH-SIM+ sequence (``ctc_Fluo-N2DH-SIM+_01/01/``) from ``../shared/realdata``. Each is turned
into expected photon counts (the 0.5th percentile -> ``--background`` photons, the 99.9th -> ``--peak`` photons
above it) and several noisy draws are made with Poisson shot noise plus Gaussian camera read noise
(``--read-noise``, electrons rms): :func:`poisson_gaussian`. The clean target is the expected photon image, so
the mean of many draws approaches it.

Every image is split by position into column bands (:func:`region_windows`): left 60 % training, next 15 %
validation, right 25 % test; no pixel is in two bands. Training sees several draws of the training bands;
settings of the classical baselines are chosen on the validation bands; the test bands are scored once.

Trained through the normal ``cellwright train`` path (subprocesses) with recipes written from the shipped
examples (``recipes/examples/denoise.yaml`` supervised noisy->clean, ``denoise_n2v.yaml`` self-supervised from
the noisy images only, which never see a clean image), ``train.time_budget`` from ``--budget``. Scored with
``cellwright evaluate`` and again with ``skimage.metrics`` on ``cellwright predict``'s restored TIFFs (PSNR/SSIM on
the photon scale, data range = each clean test image's max - min, the convention ``evaluate`` states for float
images). The validation bands are also scored with the same weights without and with test-time augmentation
(``evaluate.postprocess.tta``), which isolates its effect from training noise. Baselines on the same test
images: the noisy input, a Gaussian filter and non-local means
(``skimage.restoration.denoise_nl_means``, sigma estimated from the noisy image), each tuned on the validation bands.
Run by hand (not collected by pytest), under ``nice`` on a shared machine:

    PYTHONPATH=. nice -n 10 .venv/bin/python tests/benchmarks/realdata_denoising.py [--budget 10m] [--quick]
        [--methods supervised self_supervised] [--set train.loss=mse] [--out /tmp/cellwright-denoise]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
import yaml

REPO = Path(__file__).resolve().parents[2]
REALDATA = REPO.parent / "shared" / "realdata"
DSB = REALDATA / "dsb2018_one_image" / "img2d.tif"
CTC = REALDATA / "ctc_Fluo-N2DH-SIM+_01" / "01"
#: Fractions of each image's width for training, validation and test (left to right).
FRACTIONS = (0.6, 0.15, 0.25)
#: Noisy draws per clean image, per split (full run, --quick).
DRAWS = {"train": 4, "validation": 2, "test": 2}
QUICK_DRAWS = {"train": 2, "validation": 1, "test": 1}
GAUSSIAN_SIGMAS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)
NLM_H_FACTORS = (0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0)


# -- noise model and regions (tested in tests/benchmarks_checks/test_realdata_denoising.py) ---------------------
def expected_photons(image: Any, *, peak: float, background: float) -> np.ndarray:
    """Clean image -> expected photon counts per pixel, float32.

    The 0.5th percentile maps to ``background`` photons and the 99.9th to ``background + peak``; values below the
    0.5th percentile are clipped to ``background`` (a camera offset is not light).
    """
    x = np.asarray(image, np.float64)
    lo, hi = np.percentile(x, (0.5, 99.9))
    if hi <= lo:
        raise ValueError(f"`image` is constant (0.5th and 99.9th percentiles are both {lo}).")
    return (background + peak * np.clip((x - lo) / (hi - lo), 0.0, None)).astype(np.float32)


def poisson_gaussian(expected: Any, read_noise: float, rng: np.random.Generator) -> np.ndarray:
    """One noisy recording of ``expected`` photons: Poisson shot noise plus Gaussian read noise (rms, photons).

    Its mean over draws is ``expected``; its variance is ``expected + read_noise**2``.
    """
    lam = np.asarray(expected, np.float64)
    if np.any(lam < 0):
        raise ValueError("`expected` photon counts must be >= 0.")
    noisy = rng.poisson(lam) + rng.normal(0.0, read_noise, size=lam.shape)
    return noisy.astype(np.float32)


def region_windows(width: int, fractions: tuple[float, float, float] = FRACTIONS, multiple: int = 8
                   ) -> dict[str, slice]:
    """Column bands ``{"train", "validation", "test"}`` covering ``[0, width)`` left to right, without overlap.

    Band edges are rounded to ``multiple`` pixels; every band is at least ``multiple`` wide.
    """
    if len(fractions) != 3 or min(fractions) <= 0:
        raise ValueError(f"`fractions` must be three positive numbers. Received: fractions={fractions}")
    total = sum(fractions)
    a = max(multiple, int(round(width * fractions[0] / total / multiple)) * multiple)
    b = max(a + multiple, int(round(width * (fractions[0] + fractions[1]) / total / multiple)) * multiple)
    if b + multiple > width:
        raise ValueError(f"`width` {width} is too small for three bands of at least {multiple} px.")
    return {"train": slice(0, a), "validation": slice(a, b), "test": slice(b, width)}


def clean_images(quick: bool) -> dict[str, np.ndarray]:
    """The clean real images by name: the DSB image and every 16th Fluo-N2DH-SIM+ frame (one with --quick)."""
    images = {"dsb": tifffile.imread(DSB)}
    frames = sorted(CTC.glob("t*.tif"))[::16]
    for path in frames[:1] if quick else frames:
        images[f"sim_{path.stem}"] = tifffile.imread(path)
    return images


def write_data(out: Path, *, peak: float, read_noise: float, background: float, quick: bool, seed: int = 0
               ) -> dict[str, Any]:
    """Write ``out/paired/{train,validation,test}/{images,targets}`` and ``out/noisy/{...}/images``.

    File names are ``<image>_d<draw>.tif``; a target is the expected photon image of its band (float32). The
    ``noisy`` tree holds the same noisy files without any target (for self-supervised training).
    """
    draws = QUICK_DRAWS if quick else DRAWS
    rng = np.random.default_rng(seed)
    for tree in ("paired", "noisy"):
        shutil.rmtree(out / tree, ignore_errors=True)
    counts = {k: 0 for k in draws}
    for name, image in clean_images(quick).items():
        clean = expected_photons(image, peak=peak, background=background)
        for split, window in region_windows(clean.shape[1]).items():
            band = clean[:, window]
            for d in range(draws[split]):
                noisy = poisson_gaussian(band, read_noise, rng)
                for folder in (out / "paired" / split / "images", out / "paired" / split / "targets",
                               out / "noisy" / split / "images"):
                    folder.mkdir(parents=True, exist_ok=True)
                tifffile.imwrite(out / "paired" / split / "images" / f"{name}_d{d}.tif", noisy)
                tifffile.imwrite(out / "paired" / split / "targets" / f"{name}_d{d}.tif", band)
                tifffile.imwrite(out / "noisy" / split / "images" / f"{name}_d{d}.tif", noisy)
                counts[split] += 1
    return counts


def pairs(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(name, noisy, clean)`` for every image of ``folder/images`` with its ``folder/targets`` file."""
    return [(p.stem, tifffile.imread(p), tifffile.imread(folder / "targets" / p.name))
            for p in sorted((folder / "images").glob("*.tif"))]


# -- scoring and baselines -----------------------------------------------------------------------------------------
def skimage_scores(clean: np.ndarray, restored: np.ndarray) -> tuple[float, float]:
    """PSNR (dB) and SSIM from ``skimage.metrics``; data range = the clean image's max - min (photons)."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    clean = np.asarray(clean, np.float64).squeeze()
    restored = np.asarray(restored, np.float64).squeeze()
    data_range = float(clean.max() - clean.min())
    return (float(peak_signal_noise_ratio(clean, restored, data_range=data_range)),
            float(structural_similarity(clean, restored, data_range=data_range)))


def mean_scores(items: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Mean PSNR/SSIM over ``(clean, restored)`` pairs."""
    scores = np.asarray([skimage_scores(c, r) for c, r in items])
    return {"psnr": float(scores[:, 0].mean()), "ssim": float(scores[:, 1].mean())}


def gaussian(noisy: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(np.asarray(noisy, np.float32), sigma)


def estimate_sigma(image: np.ndarray) -> float:
    """Gaussian noise sigma from the median absolute diagonal Haar wavelet detail (Donoho's robust estimator).

    What ``skimage.restoration.estimate_sigma`` does with a Daubechies wavelet; written out because that needs
    PyWavelets, which the environment does not have.
    """
    x = np.asarray(image, np.float64)
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    x = x[:h, :w]
    detail = (x[0::2, 0::2] - x[0::2, 1::2] - x[1::2, 0::2] + x[1::2, 1::2]) / 2.0
    return float(np.median(np.abs(detail)) / 0.6745)


def nlm(noisy: np.ndarray, factor: float) -> np.ndarray:
    """Non-local means with ``h = factor * sigma`` (sigma estimated from the image itself)."""
    from skimage.restoration import denoise_nl_means

    x = np.asarray(noisy, np.float32)
    sigma = estimate_sigma(x)
    return denoise_nl_means(x, h=factor * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True)


def tuned_baseline(fn: Any, grid: tuple[float, ...], validation: list, test: list) -> dict[str, Any]:
    """The ``grid`` value with the best mean validation PSNR, and its scores on the test images."""
    by_value = {v: mean_scores([(c, fn(x, v)) for _, x, c in validation])["psnr"] for v in grid}
    best = max(by_value, key=lambda v: by_value[v])
    return {"setting": best, "validation_psnr": by_value[best], **mean_scores([(c, fn(x, best)) for _, x, c in test])}


def baselines(paired: Path) -> dict[str, dict[str, Any]]:
    validation, test = pairs(paired / "validation"), pairs(paired / "test")
    return {
        "noisy input": mean_scores([(c, x) for _, x, c in test]),
        "gaussian filter (sigma px)": tuned_baseline(gaussian, GAUSSIAN_SIGMAS, validation, test),
        "non-local means (h / sigma)": tuned_baseline(nlm, NLM_H_FACTORS, validation, test),
    }


# -- training through the CLI --------------------------------------------------------------------------------------
def set_key(tree: dict[str, Any], dotted: str, value: Any) -> None:
    """``tree["a"]["b"] = value`` for ``dotted = "a.b"`` (creating sections)."""
    *parents, last = dotted.split(".")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[last] = value


def write_recipe(out: Path, method: str, budget: str, overrides: list[str]) -> Path:
    """The shipped example recipe of ``method`` with this benchmark's data, ``train.time_budget`` and overrides."""
    example = "denoise.yaml" if method == "supervised" else "denoise_n2v.yaml"
    recipe = yaml.safe_load((REPO / "recipes" / "examples" / example).read_text())
    recipe["name"] = f"realdata-denoise-{method.replace('_', '-')}"
    if method == "supervised":
        recipe["data"] = {"layout": "folders", "root": str(out / "paired"), "targets": "targets",
                          "split": {"mode": "folders"}}
    else:
        recipe["data"] = {"layout": "noisy_only", "root": str(out / "noisy"), "split": {"mode": "folders"}}
    recipe["train"]["time_budget"] = budget
    for item in overrides:
        key, _, value = item.partition("=")
        set_key(recipe, key, yaml.safe_load(value))
    path = out / f"{method}.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def cellwright(*args: str) -> str:
    """Run ``cellwright ARGS`` with this checkout's code; return stdout, raise with its stderr on failure."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "builder.cli.main", *args], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"cellwright {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout


def train_and_score(out: Path, method: str, budget: str, overrides: list[str]) -> dict[str, Any]:
    """Train with ``cellwright train --no-test``, then score the test bands once: evaluate and skimage."""
    recipe = write_recipe(out, method, budget, overrides)
    runs = out / "runs" / method
    shutil.rmtree(runs, ignore_errors=True)
    start = time.time()
    cellwright("train", str(recipe), "--runs", str(runs), "--no-test", "--no-report", "--no-export")
    train_s = time.time() - start
    run = next(p for p in runs.iterdir() if p.is_dir())
    # self-supervised runs have no targets in their data: evaluate them on the paired test folder
    extra = [] if method == "supervised" else ["--data", str(out / "paired" / "test")]
    metrics = json.loads(cellwright("evaluate", str(run), "--json", *extra))
    # the validation bands, for choosing settings (never the test bands): clean targets for both methods
    validation = json.loads(cellwright("evaluate", str(run), "--json", "--data", str(out / "paired" / "validation")))
    views = validation_by_tta(run, out / "paired" / "validation")
    pred_dir = out / "predictions" / method
    shutil.rmtree(pred_dir, ignore_errors=True)
    cellwright("predict", str(run), str(out / "paired" / "test" / "images"), "--out", str(pred_dir))
    restored = [(c, tifffile.imread(pred_dir / f"{name}_restored.tif"))
                for name, _, c in pairs(out / "paired" / "test")]
    history = json.loads((run / "history.json").read_text()) if (run / "history.json").exists() else []
    state = json.loads((run / "state.json").read_text()) if (run / "state.json").exists() else {}
    m = metrics.get("metrics", metrics)
    val_psnr = [h["val_psnr"] for h in history if isinstance(h.get("val_psnr"), (int, float))]
    return {"run": str(run), "train_wall_s": round(train_s, 1), "epochs": len(history),
            "budget_state": state.get("time_budget"),
            "evaluate": {"psnr": m.get("psnr"), "ssim": m.get("ssim"), "data_range": metrics.get("data_range")},
            "skimage": mean_scores(restored),
            "validation": {k: validation["metrics"].get(k) for k in ("psnr", "ssim")},
            "validation_tta_off_on": views, "steps": state.get("optimizer_step"),
            "val_psnr_per_epoch": [round(v, 3) for v in val_psnr],
            "val_loss_per_epoch": [round(float(h["val_loss"]), 5) for h in history if "val_loss" in h]}


def validation_by_tta(run: Path, folder: Path) -> dict[str, dict[str, float]]:
    """Validation PSNR/SSIM of the same weights without and with ``evaluate.postprocess.tta`` (copies of the run
    folder that differ only in that key), so the difference has no training noise in it."""
    scores = {}
    for tta in (False, True):
        copy = run.with_name(f"{run.name}_tta_{'on' if tta else 'off'}")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(run, copy)
        recipe = yaml.safe_load((copy / "recipe.yaml").read_text())
        recipe.setdefault("evaluate", {}).setdefault("postprocess", {})["tta"] = tta
        (copy / "recipe.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
        metrics = json.loads(cellwright("evaluate", str(copy), "--json", "--data", str(folder)))["metrics"]
        scores["on" if tta else "off"] = {k: metrics.get(k) for k in ("psnr", "ssim")}
    return scores


def table(rows: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'method':44s} {'PSNR dB':>8s} {'SSIM':>7s}  evaluate PSNR/SSIM   note"]
    for name, r in rows.items():
        ev = r.get("evaluate") or {}
        ev_text = f"{ev['psnr']:.3f} / {ev['ssim']:.4f}" if ev.get("psnr") is not None else ""
        lines.append(f"{name:44s} {r['psnr']:8.3f} {r['ssim']:7.4f}  {ev_text:19s}  {r.get('note', '')}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="10m", help="train.time_budget of each training run (default 10m).")
    parser.add_argument("--quick", action="store_true", help="Smoke run: 2 images, fewer draws (use a short budget).")
    parser.add_argument("--methods", nargs="*", default=["supervised", "self_supervised"],
                        choices=["supervised", "self_supervised"])
    parser.add_argument("--peak", type=float, default=30.0, help="Photons at the 99.9th percentile, above background.")
    parser.add_argument("--background", type=float, default=2.0, help="Background photons per pixel.")
    parser.add_argument("--read-noise", type=float, default=2.0, help="Camera read noise, electrons rms.")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="Override a recipe key of both runs, e.g. --set preprocess.patch.size=96.")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/cellwright-denoise"))
    args = parser.parse_args()
    if not DSB.is_file() or not CTC.is_dir():
        raise SystemExit(f"{REALDATA} does not hold the DSB image and the Fluo-N2DH-SIM+ frames")
    args.out.mkdir(parents=True, exist_ok=True)
    counts = write_data(args.out, peak=args.peak, read_noise=args.read_noise, background=args.background,
                        quick=args.quick)
    rows: dict[str, dict[str, Any]] = {}
    if not args.no_baselines:
        for name, r in baselines(args.out / "paired").items():
            note = f"{name.split('(')[1].rstrip(')')} = {r['setting']} (val)" if "setting" in r else ""
            rows[name.split(" (")[0]] = {**r, "note": note}
    details, baseline_rows = {}, dict(rows)
    for method in args.methods:
        r = train_and_score(args.out, method, args.budget, args.set)
        details[method] = r
        rows[f"cellwright {method} ({args.budget})"] = {
            **r["skimage"], "evaluate": r["evaluate"],
            "note": f"{r['epochs']} epochs ({r['steps']} steps), train {r['train_wall_s']:.0f} s wall, "
                    f"validation {r['validation']['psnr']:.2f} dB"}
    print(json.dumps({"noise": {"peak_photons": args.peak, "background_photons": args.background,
                                "read_noise_e": args.read_noise}, "images": counts, "overrides": args.set,
                      "baselines": baseline_rows,
                      "runs": details, "load_average": os.getloadavg()}, indent=2, default=float))
    print("Test bands, skimage PSNR/SSIM on the photon scale (data range = clean image's max - min):")
    print(table(rows))


if __name__ == "__main__":
    main()
