"""Plain-language summary pieces: over-fitting from the curves, class imbalance, headline wording, methods."""

from __future__ import annotations

from builder.report.content import detect_overfitting, interpret_headline, warnings
from builder.report.methods import CITATIONS, methods_text
from builder.report.run_data import load_run
from tests.builder.report.fixtures import _history, write_run


def test_overfitting_detected_only_when_val_rises_and_train_falls():
    assert "epoch 6" in detect_overfitting(_history(12, overfit=True))
    assert detect_overfitting(_history(12, overfit=False)) is None
    rising_both = [{"loss": 1 + e, "val_loss": 1 + e} for e in range(8)]
    assert detect_overfitting(rising_both) is None
    assert detect_overfitting(_history(3, overfit=True)) is None


def test_class_imbalance_warning_for_classification(tmp_path):
    run = load_run(write_run(tmp_path, "classification"))
    assert not any("imbalance" in w for w in warnings(run))
    run.metrics["per_class"] = {"a": {"support": 40}, "b": {"support": 3}}
    assert any("Class imbalance: 'b' has 3" in w for w in warnings(run))


def test_headline_interpretation():
    assert "6 in 10" in interpret_headline("AP@0.5", 0.62)
    assert interpret_headline("mean_iou", 0.95).startswith("Excellent")
    assert "8.0 dB closer" in interpret_headline("PSNR", 28.0, baseline=20.0)
    assert "worse than the input" in interpret_headline("PSNR", 18.0, baseline=20.0)


def test_methods_cites_what_was_used_and_only_that(tmp_path):
    seg = load_run(write_run(tmp_path / "a", "segmentation"))
    text, used = methods_text(seg)
    assert {"unet", "mobilenet_v2", "imagenet", "dice", "adam", "cosine", "keras", "tensorflow"} <= set(used)
    assert "n2v" not in used and "adamw" not in used and "watershed" not in used
    assert "(Ronneberger et al., 2015)" in text and "12 training" in text
    denoise = load_run(write_run(tmp_path / "b", "image_to_image"))
    text, used = methods_text(denoise)
    assert "n2v" in used and "care" in used and "Noise2Void" in text
    assert all(key in CITATIONS for key in used)


def test_augmented_samples_are_drawn_with_the_recipe_settings(tmp_path):
    from builder.report.sections import data_section

    run = load_run(write_run(tmp_path, "segmentation"))
    captions = [b.caption for b in data_section(run, augment_samples=True).blocks if b.kind == "figure" and b.png]
    assert any("augmented" in c for c in captions)
