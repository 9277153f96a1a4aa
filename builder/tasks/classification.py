"""Classification: one label per image; softmax (or 2-class sigmoid) heads; class weights for imbalance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from builder.errors import DataError

if TYPE_CHECKING:
    from builder.recipe import Recipe


def class_index_target(label: int) -> np.ndarray:
    """A class index as the ``(1,)`` float32 training target (the losses accept sparse indices)."""
    if int(label) != label or label < 0:
        raise DataError("classification target", f"Class index must be an integer >= 0. Received: label={label!r}",
                        "Check the class folders or the label column of the manifest.")
    return np.asarray([label], dtype=np.float32)


def predict_classes(probabilities: Any, *, threshold: float = 0.5) -> np.ndarray:
    """Class indices from probabilities.

    Parameters
    ----------
    probabilities : (N, K) array, or (N,) / (N, 1) for a 2-class sigmoid head (probability of class 1)
    threshold : float
        Decision threshold for the sigmoid head.

    Returns
    -------
    (N,) ndarray of int64
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        return (p.reshape(-1) > threshold).astype(np.int64)
    if p.ndim != 2:
        raise DataError("classification", f"Expected (N, n_classes) probabilities; received shape {p.shape}.",
                        "Pass the model output for a batch of images.")
    return p.argmax(axis=-1).astype(np.int64)


def class_weights_from_counts(counts: Sequence[int] | np.ndarray, *, max_weight: float = 20.0) -> list[float]:
    """Inverse-frequency class weights ``N / (K * n_k)`` (scikit-learn's "balanced"), capped at ``max_weight``.

    A class with no examples gets weight 1.

    Examples
    --------
    >>> class_weights_from_counts([30, 10])
    [0.6666666666666666, 2.0]
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0 or (c < 0).any():
        raise DataError("train.class_weights", f"Expected one non-negative count per class. Received: {list(counts)}",
                        "Count the examples (or pixels) of each class.")
    total, k = c.sum(), c.size
    w = np.ones(k)
    nz = c > 0
    w[nz] = total / (k * c[nz])
    return [float(v) for v in np.minimum(w, max_weight)]


def class_weights_from_labels(labels: Any, n_classes: int, *, max_weight: float = 20.0) -> list[float]:
    """Inverse-frequency class weights from class indices (image labels or pixel masks, any shape)."""
    lab = np.asarray(labels).astype(np.int64).ravel()
    return class_weights_from_counts(np.bincount(lab, minlength=n_classes)[:n_classes], max_weight=max_weight)


# -- the task ---------------------------------------------------------------------------------------------------
from builder.tasks.base import Task, lazy, register_task  # noqa: E402  (the numpy helpers above come first)


@register_task
class Classification(Task):
    """One class per image (or cell crop)."""

    name = "classification"
    proposes_annotations = True
    title = "Image classification"
    description = "image classification (one class per image)"
    card = ("Classify cells", "One label per image or cell crop (e.g. mitotic / not mitotic).")
    output = "class_vector"
    head_block = "classification_head"
    layouts = ("class_folders", "manifest", "demo")
    learns_from = "labels"
    headline = ("Balanced accuracy", "balanced_accuracy")
    losses = {"default": ("cross_entropy", ("cross_entropy", "focal"))}
    targets = {"default": lazy(__name__, "class_index_target")}
    postprocess = {"default": lazy(__name__, "predict_classes")}
    output_description = "Class probabilities."
    default_template = "classifier"
    whole_image_input = True
    min_train_images = 50
    predict_summary_files = ("predictions.csv",)
    per_class_columns = (("precision", "precision"), ("recall", "recall"), ("F1", "f1"), ("ROC AUC", "roc_auc"),
                         ("test images", "support"))
    overlay_caption = "Titles in red mark wrongly classified images."
    examples_caption = "Example test images with their class."
    figure_style = "thumbnails"
    shows_confusion_matrix = True
    report_metrics = (
        ("Accuracy", ("accuracy",), "Fraction of test images given the right class.", True),
        ("Balanced accuracy", ("balanced_accuracy",), "Accuracy averaged over classes: rare classes count as much "
         "as common ones.", True),
        ("Macro F1", ("macro_f1",), "Precision/recall balance averaged over classes.", True),
        ("ROC AUC", ("roc_auc",), "Chance that a random image of a class is ranked above one of another class "
         "(0.5 = guessing, 1 = perfect).", True),
    )

    def target_fn(self, variant: str | None = None) -> None:
        """Class indices are the targets as they are."""
        self.check_trainable()
        return None

    def new_recipe_data(self, root: str) -> dict[str, Any]:
        return {"layout": "class_folders", "root": root}

    def fixed_input_size(self, recipe: Recipe) -> int | None:
        return recipe.preprocess.image_size or None

    def count_classes(self, recipe: Recipe, dataset: Any) -> int | None:
        return len(dataset.classes or []) or None

    def model_outputs(self, recipe: Recipe, dataset: Any, info: Any) -> tuple[int | None, int | None]:
        return len(info["classes"]), None

    def input_size(self, recipe: Recipe) -> int:
        """The side of the square each image is resized to."""
        return int(recipe.preprocess.image_size or recipe.preprocess.patch.size)

    def output_channels(self, ctx: Any) -> int | None:
        return ctx.n_classes

    def training_metrics(self) -> list[str]:
        return ["accuracy"]

    def interpret(self, output: np.ndarray, recipe: Recipe, params: Any) -> dict[str, Any]:
        p = np.asarray(output, np.float32).reshape(-1)
        index = int(predict_classes(p[None], threshold=0.5)[0])
        probs = np.array([1.0 - p[0], p[0]], np.float32) if p.size == 1 else p
        return {"class_index": index, "probabilities": probs, "prediction": index}

    def score(self, loaded: Any, xs: list, outs: list, results: list, ctx: Any) -> tuple[dict, list, list, list]:
        from builder.tasks.metrics import classification_metrics

        preds = [r["prediction"] for r in results]
        probs = np.stack([r["probabilities"] for r in results])
        k = probs.shape[1]
        names = (list(ctx.classes) + [str(i) for i in range(len(ctx.classes), k)])[:k]
        truths = list(loaded.labels)
        m = classification_metrics(np.asarray(truths), np.asarray(preds), probs, n_classes=k, class_names=names)
        rows = [{"score": float(t == p), "truth": names[t], "prediction": names[p],
                 "confidence": float(r["probabilities"][p])} for t, p, r in zip(truths, preds, results, strict=True)]
        return m, truths, preds, rows

    def saved_arrays(self, output: np.ndarray) -> dict[str, np.ndarray]:
        return {"probabilities": np.asarray(output, np.float32)}

    def write_prediction(self, result: Any, image: Any, stem: str, out_dir: Any, *, pixel_size: Any,
                         class_names: Sequence[str]) -> tuple[dict, list, list]:
        probs = result["probabilities"]
        names = (list(class_names) + [str(i) for i in range(len(class_names), probs.size)])[:probs.size]
        row = {"class": names[result["class_index"]], "probability": float(probs[result["class_index"]])}
        row.update({f"p_{n}": float(p) for n, p in zip(names, probs, strict=True)})
        return row, [], []

    def write_summary(self, out_dir: Any, rows: list, objects: list, recipe: Any = None,
                      companions: Any = None) -> list:
        from builder.data.writers import write_rows_csv

        return [write_rows_csv(out_dir / "predictions.csv", rows)]

    def methods_task(self, run: Any) -> str:
        classes = run.class_names()
        return f"image classification into {len(classes) or 'several'} classes ({', '.join(classes)})"

    def methods_preprocess(self, run: Any) -> str | None:
        size = run.get("preprocess.image_size")
        return f"resized to {size} px" if size else None
