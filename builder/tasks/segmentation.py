"""Semantic segmentation: a class index per pixel; softmax output (B, Y, X, n_classes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from builder.errors import DataError

if TYPE_CHECKING:
    from builder.recipe import Recipe


def class_mask_target(mask: Any, *, binary: bool = False) -> np.ndarray:
    """Class-index target ``(Y, X, 1)`` float32 from a mask.

    Parameters
    ----------
    mask : (Y, X) or (Y, X, 1) array of int
        Class indices (0 background), or any labels when ``binary``.
    binary : bool
        Map every value > 0 to class 1 (foreground).
    """
    m = np.asarray(mask)
    if m.ndim == 2:
        m = m[..., None]
    if m.ndim != 3 or m.shape[-1] != 1:
        raise DataError("segmentation target", f"Mask must be (Y, X) or (Y, X, 1); received shape {m.shape}.",
                        "Use single-channel masks with one class index per pixel.")
    if binary:
        m = m > 0
    return m.astype(np.float32)


def labels_from_probabilities(prob: Any, *, threshold: float | None = None) -> np.ndarray:
    """Class index per pixel from softmax probabilities.

    Parameters
    ----------
    prob : (Y, X, K) array of float
    threshold : float, optional
        For two classes: foreground where P(class 1) > threshold (instead of the arg-max).

    Returns
    -------
    (Y, X) ndarray of int32
    """
    p = np.asarray(prob, dtype=np.float32)
    if p.ndim != 3:
        raise DataError("segmentation", f"Expected (Y, X, n_classes) probabilities; received shape {p.shape}.",
                        "Pass the network output for one image (batch axis removed).")
    if p.shape[-1] == 1:
        return (p[..., 0] > (0.5 if threshold is None else threshold)).astype(np.int32)
    if p.shape[-1] == 2 and threshold is not None:
        return (p[..., 1] > threshold).astype(np.int32)
    return p.argmax(axis=-1).astype(np.int32)


def count_mask_classes(recipe: Recipe, samples: Any) -> int:
    """Number of classes of a semantic segmentation: named classes, binary, or the largest mask value + 1."""
    if recipe.data.classes:
        return len(recipe.data.classes)
    if recipe.data.mask_kind == "binary":
        return 2
    from builder.data.readers import read_image

    top = 1
    for sample in list(samples)[:200]:
        if sample.mask_path is not None:
            top = max(top, int(np.max(read_image(sample.mask_path).array)))
    return top + 1


# -- the task ---------------------------------------------------------------------------------------------------
from builder.tasks.base import CLASS_LOSSES, WRITE_PROBABILITIES, Task, lazy, register_task  # noqa: E402


@register_task
class Segmentation(Task):
    """A class for every pixel."""

    name = "segmentation"
    proposes_annotations = True
    title = "Semantic segmentation"
    description = "semantic segmentation (a class for every pixel)"
    card = ("Segment regions", "A class for every pixel (background, nucleus, cytoplasm…).")
    output = "pixel_classes"
    head_block = "segmentation_head"
    layouts = ("folders", "manifest", "demo")
    learns_from = "masks"
    masks_are_classes = True
    headline = ("Mean IoU", "mean_iou")
    losses = {"default": ("cross_entropy+dice", CLASS_LOSSES)}
    targets = {"default": lazy(__name__, "class_mask_target"),
               "binary": lazy(__name__, "class_mask_target", binary=True)}
    postprocess = {"default": lazy(__name__, "labels_from_probabilities")}
    output_description = "Per-pixel class probabilities."
    predict_files = ("{stem}_prob.tif", "{stem}_mask.tif")
    streams_prediction = True
    per_class_columns = (("IoU", "iou"), ("Dice", "dice"), ("pixels", "pixels"))
    overlay_caption = ("Colours: green = correctly predicted pixels (true positives), red = predicted but wrong "
                       "(false positives), blue = missed (false negatives).")
    examples_caption = "Example test images with their ground truth (each object tinted, outlined in cyan)."
    figure_style = "class_overlay"
    report_metrics = (
        ("Mean IoU", ("mean_iou",), "Overlap of predicted and true regions (intersection / union), averaged over "
         "classes; 1 is perfect.", True),
        ("Mean Dice", ("mean_dice",), "Same overlap measured as 2 x intersection / (sum of sizes); always >= IoU.",
         True),
        ("Mean IoU, foreground", ("mean_iou_foreground",), "Mean IoU without the background class.", True),
        ("Pixel accuracy", ("pixel_accuracy",), "Fraction of pixels given the right class (flattered by a large "
         "background).", True),
    )

    def variant_for(self, *, mask_kind: str | None = None, **_: Any) -> str | None:
        return "binary" if mask_kind == "binary" else None

    def count_classes(self, recipe: Recipe, dataset: Any) -> int | None:
        return count_mask_classes(recipe, dataset.splits["train"])

    def model_outputs(self, recipe: Recipe, dataset: Any, info: Any) -> tuple[int | None, int | None]:
        return count_mask_classes(recipe, dataset.splits["train"]), None

    def output_channels(self, ctx: Any) -> int | None:
        return ctx.n_classes

    def interpret(self, output: np.ndarray, recipe: Recipe, params: Any) -> dict[str, Any]:
        mask = labels_from_probabilities(output, threshold=params["threshold"])
        return {"probabilities": output, "mask": mask, "prediction": mask}

    def score(self, loaded: Any, xs: list, outs: list, results: list, ctx: Any) -> tuple[dict, list, list, list]:
        from builder.tasks.base import require_targets
        from builder.tasks.metrics import semantic_metrics

        require_targets(loaded, "test images")
        truths = [t[..., 0].astype(np.int32) for t in loaded.targets]
        preds = [r["prediction"] for r in results]
        k = max(2, outs[0].shape[-1])
        names = (list(ctx.classes) + [str(i) for i in range(len(ctx.classes), k)])[:k]
        m = semantic_metrics(truths, preds, k, class_names=names)
        rows = [{"score": r["mean_iou"], **r} for r in m["per_image"]]
        return m, truths, preds, rows

    def write_prediction(self, result: Any, image: Any, stem: str, out_dir: Any, *, pixel_size: Any,
                         class_names: Any) -> tuple[dict, list, list]:
        from builder.data.writers import write_tiff

        planes = self.prediction_planes(result)
        written = [write_tiff(out_dir / f"{stem}_{name}.tif", array, pixel_size) for name, array in planes.items()]
        row: dict[str, Any] = {}
        self.prediction_row(planes, row)
        return row, written, []

    def prediction_planes(self, result: Any) -> dict[str, np.ndarray]:
        output = result["output"]
        mask_dtype = np.uint8 if output.shape[-1] <= 256 else np.uint16  # class indices < number of outputs
        planes = {"mask": result["mask"].astype(mask_dtype)}
        if result.get(WRITE_PROBABILITIES, True):
            planes = {"prob": output.astype(np.float32, copy=False), **planes}
        return planes

    def prediction_row(self, planes: Any, row: dict[str, Any]) -> None:
        found = set(row.get("classes_found", [])) | {int(v) for v in np.unique(planes["mask"])}
        row["classes_found"] = sorted(found)

    def methods_task(self, run: Any) -> str:
        classes = run.class_names()
        return f"semantic segmentation ({', '.join(classes)})" if classes else "semantic segmentation"
