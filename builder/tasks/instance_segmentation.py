"""Instance segmentation: every cell found and outlined separately.

Three targets (``train.instance_target``): three-class or distance maps + seeded watershed, or star-convex
polygons + non-maximum suppression. The numpy parts are in :mod:`builder.tasks.instances` (targets, watershed,
tuning), :mod:`builder.tasks.star_convex` (star-convex target) and :mod:`builder.tasks.star_nms` (polygons to
labels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from builder.tasks.base import (
    CLASS_LOSSES,
    MEASURE_SHAPE,
    WRITE_PROBABILITIES,
    Task,
    flat_numbers,
    lazy,
    register_task,
    require_targets,
)

if TYPE_CHECKING:
    from builder.recipe import Recipe

_I = "builder.tasks.instances"
_S = "builder.tasks.star_convex"

#: Name of the classical method the instance models are compared with (``metrics.json`` ``baseline.name``).
BASELINE_NAME = "Otsu threshold + watershed (scikit-image)"


def instance_flat(m: Mapping[str, Any]) -> dict[str, float]:
    """Flat instance metrics: the summary numbers plus ``ap@0.5``, ``f1@0.7``... for every IoU threshold."""
    flat = flat_numbers(m, ("n_images", "tp", "fp", "fn"))
    for t, s in m["by_threshold"].items():
        for key in ("ap", "f1", "precision", "recall", "mean_matched_iou", "panoptic_quality"):
            flat[f"{key}@{t}"] = float(s[key])
    return flat


def classical_baseline(images: Sequence[np.ndarray], truths: Sequence[np.ndarray],
                       iou_thresholds: Sequence[float]) -> dict[str, Any]:
    """Score the classical method (Otsu + watershed on the raw first channel) on the same test images.

    Parameters
    ----------
    images : list of (Y, X, C) arrays
        The raw (resampled, not normalised) test images.
    truths : list of (Y, X) int arrays
        Their true instance labels.
    iou_thresholds : sequence of float
        The IoU thresholds of ``evaluate.iou_thresholds``.

    Returns
    -------
    dict
        ``{"name": BASELINE_NAME, "metrics": {flat metrics like the model's}}``.
    """
    from builder.tasks.classical import classical_instances
    from builder.tasks.metrics import instance_metrics

    preds = [classical_instances(np.asarray(image)[..., 0]) for image in images]
    m = instance_metrics(list(truths), preds, iou_thresholds)
    return {"name": BASELINE_NAME, "metrics": instance_flat(m)}


#: Result key: the probability TIFF holds only the output's channel 0 (star-convex: the object probability).
PROBABILITY_ONLY = "probability_only"


def probability_map(result: Mapping[str, Any]) -> np.ndarray:
    """The float32 array of ``<stem>_prob.tif``: the network output at the image's size, or only its channel 0
    (``Y, X``) when the result says :data:`PROBABILITY_ONLY` (a star output's 32 ray channels at full size would
    be 130 MB for a 1024 x 1344 image; a grid output interpolates that one channel alone)."""
    from builder.tasks.zoomed_output import ZoomedOutput, full_size

    output = result["output"]
    if not result.get(PROBABILITY_ONLY):
        return full_size(output).astype(np.float32)
    if isinstance(output, ZoomedOutput):
        return output.channel(0)
    return np.asarray(output, np.float32)[..., 0]


@register_task
class InstanceSegmentation(Task):
    """Each nucleus or cell gets its own label."""

    name = "instance_segmentation"
    proposes_annotations = True
    title = "Instance segmentation"
    description = "instance segmentation (every cell found and outlined separately)"
    card = ("Separate every cell", "Each nucleus or cell gets its own label, even when touching.")
    output = "instance_maps"
    head_block = "instance_head"
    layouts: ClassVar[tuple[str, ...]] = ("folders", "manifest", "demo")
    learns_from = "masks"
    headline = ("AP@0.5", "ap@0.5")
    default_variant = "three_class"
    losses = {"three_class": ("cross_entropy+dice", CLASS_LOSSES), "distance": ("mse", ("mse", "mae")),
              "star_convex": ("star", ("star",))}
    targets = {"three_class": lazy(_I, "three_class_training_target"), "distance": lazy(_I, "distance_targets"),
               "star_convex": lazy(_S, "star_convex_target")}
    postprocess = {"three_class": lazy(_I, "instances_from_three_class"),
                   "distance": lazy(_I, "instances_from_distance"),
                   "star_convex": lazy("builder.tasks.star_nms", "instances_from_star")}
    output_description = "Per-pixel maps; instances follow from Cellwright's post-processing."
    predict_files: ClassVar[tuple[str, ...]] = ("{stem}_prob.tif", "{stem}_labels.tif", "{stem}_objects.csv")
    predict_summary_files: ClassVar[tuple[str, ...]] = ("objects.csv",)
    overlay_caption = ("Outlines: green = predicted object matched to a true object (IoU >= 0.5), red = "
                       "false positive, yellow = true object that was missed.")
    examples_caption = "Example test images with their ground truth (each object tinted, outlined in cyan)."
    figure_style = "instance_outlines"
    shows_threshold_table = True
    has_tuned_postprocess = True
    report_metrics: ClassVar[tuple[tuple[str, tuple[str, ...], str, bool], ...]] = (
        ("AP@0.5", ("ap@0.5",), "Matched objects / (matched + false + missed), an object counting as matched "
         "when it overlaps a true one by IoU >= 0.5; 1 is perfect.", True),
        ("F1@0.5", ("f1@0.5",), "Balance of precision (predicted objects that are real) and recall (real objects "
         "that are found) at IoU 0.5.", True),
        ("Mean AP, IoU 0.5-0.9", ("ap_mean",), "AP averaged over the stricter thresholds too: rewards exact "
         "outlines.", True),
        ("Mean matched IoU", ("mean_matched_iou",), "How closely the outlines of found objects follow the true "
         "ones (1 = identical).", True),
        ("Panoptic quality", ("panoptic_quality", "pq"), "Detection (F1) times outline quality (matched IoU) at "
         "IoU 0.5.", True),
        ("Merges", ("merges",), "Predicted objects that swallow two or more true objects (lower is better).", False),
        ("Splits", ("splits",), "True objects cut into two or more predicted objects (lower is better).", False),
        ("True objects", ("n_true",), "Objects drawn in the ground truth of the test images.", True),
        ("Predicted objects", ("n_pred",), "Objects the method found in the same images.", True),
    )

    def variant_for(self, *, instance_target: str = "three_class", **_: Any) -> str | None:
        return instance_target

    def output_channels(self, ctx: Any) -> int | None:
        from builder.tasks.star_convex import N_RAYS

        return {"three_class": 3, "star_convex": 1 + N_RAYS}.get(
            self.variant_for(instance_target=ctx.instance_target) or "", 2)

    def postprocess_settings(self, recipe: Recipe) -> dict[str, Any]:
        return {**super().postprocess_settings(recipe),
                "nms_threshold": float(recipe.evaluate.postprocess.nms_threshold)}

    def interpret(self, output: np.ndarray, recipe: Recipe, params: Mapping[str, Any]) -> dict[str, Any]:
        from builder.tasks.instances import postprocess_instances

        labels = postprocess_instances(output, recipe.train.instance_target, **params)
        result: dict[str, Any] = {"labels": labels, "prediction": labels}
        if recipe.train.instance_target == "star_convex":
            result[PROBABILITY_ONLY] = True  # the ray channels are no probability map
        return result

    def postprocesses_on_grid(self, recipe: Recipe) -> bool:
        """Star-convex polygons are suppressed on the network's grid and drawn at the image's size
        (:mod:`builder.tasks.star_nms`)."""
        return recipe.train.instance_target == "star_convex"

    def orientation_free_output(self, recipe: Recipe) -> bool:
        """Star-convex rays point in fixed directions: a flipped image's rays are other rays."""
        return recipe.train.instance_target != "star_convex"

    def output_at_zoom(self, output: np.ndarray, recipe: Recipe, zoom: float) -> np.ndarray:
        if recipe.train.instance_target != "star_convex":
            return output
        out = np.array(output, np.float32)
        out[..., 1:] *= zoom  # ray distances were measured in pixels of the network's grid
        return out

    def output_note(self, recipe: Mapping[str, Any]) -> str:
        from builder.tasks.star_convex import N_RAYS

        target = (recipe.get("train") or {}).get("instance_target", "three_class")
        if target == "star_convex":
            return (f"star-convex polygons: channel 0 is the probability of lying near an object's centre, channels "
                    f"1-{N_RAYS} the distances (pixels) to the object's edge along {N_RAYS} rays at angles 2*pi*k/"
                    f"{N_RAYS} from the +X axis towards +Y. Pixels above `threshold` propose polygons, kept from "
                    "the most central unless more than `nms_threshold` of their area is already taken (non-maximum "
                    "suppression); objects smaller than `min_size` pixels are removed.")
        if target == "distance":
            return ("channel 0 inner distance (1 at object centres), channel 1 outer distance; seeded watershed: "
                    "seeds above `seed_threshold` on channel 0, objects where channel 1 exceeds `threshold`.")
        return ("background, boundary and interior probabilities; seeded watershed: seeds where the interior "
                "exceeds `seed_threshold`, objects where boundary + interior exceed `threshold`.")

    def tunes_postprocess(self, recipe: Recipe) -> bool:
        return bool(recipe.evaluate.postprocess.tune)

    def tune_postprocess(self, outputs: list[np.ndarray], truths: list[np.ndarray], recipe: Recipe,
                         start: Mapping[str, Any], progress: Callable[[int, int], None] | None = None,
                         loaded: Any = None) -> dict[str, Any]:
        from builder.tasks.instances import POSTPROCESS_PARAMS, tune_postprocess

        target = recipe.train.instance_target
        tuned = tune_postprocess(outputs, truths, target=target, start=dict(start),
                                 min_size=start["min_size"], iou_thresholds=recipe.evaluate.iou_thresholds,
                                 progress=progress)
        return {**{k: tuned[k] for k in POSTPROCESS_PARAMS[target]}, "tuned_on": len(outputs),
                "score": tuned["score"], "start_score": tuned["start_score"], "score_name": "ap_mean (validation)"}

    def score(self, loaded: Any, xs: list, outs: list, results: list, ctx: Any) -> tuple[dict, list, list, list]:
        from builder.tasks.metrics import instance_metrics

        require_targets(loaded, "test images")
        truths = [t[..., 0].astype(np.int32) for t in loaded.targets]
        preds = [r["prediction"] for r in results]
        m = instance_metrics(truths, preds, ctx.recipe.evaluate.iou_thresholds)
        rows = [{"score": r["ap"], **r} for r in m["per_image"]]
        return m, truths, preds, rows

    def flat_metrics(self, m: Mapping[str, Any]) -> dict[str, float]:
        return instance_flat(m)

    def extra_results(self, m: Mapping[str, Any]) -> dict[str, Any]:
        return {"by_threshold": m["by_threshold"]}

    def baseline(self, recipe: Recipe, images: Sequence[np.ndarray], truths: Sequence[Any]) -> dict[str, Any] | None:
        try:
            return classical_baseline(images, truths, recipe.evaluate.iou_thresholds)
        except Exception as error:  # the comparison is a bonus: never lose the model's scores for it
            return {"name": BASELINE_NAME, "metrics": {}, "error": f"{error.__class__.__name__}: {error}"}

    def write_prediction(self, result: Any, image: Any, stem: str, out_dir: Any, *, pixel_size: Any,
                         class_names: Any) -> tuple[dict, list, list]:
        from builder.data.writers import label_dtype, write_tiff
        from builder.tasks.measure import measure_objects, write_objects_csv

        labels = result["labels"]
        written = [write_tiff(out_dir / f"{stem}_prob.tif", probability_map(result), pixel_size)] \
            if result.get(WRITE_PROBABILITIES, True) else []
        written.append(write_tiff(out_dir / f"{stem}_labels.tif", labels.astype(label_dtype(labels)), pixel_size))
        objects = measure_objects(labels, image.array, channel_names=image.channel_names or None,
                                  pixel_size=pixel_size, shape=bool(result.get(MEASURE_SHAPE, True)))
        written.append(write_objects_csv(objects, out_dir / f"{stem}_objects.csv"))
        return {"objects": len(objects)}, written, objects

    def write_summary(self, out_dir: Any, rows: list, objects: list, recipe: Any = None,
                      companions: Any = None) -> list:
        from builder.data.writers import write_rows_csv

        return [write_rows_csv(out_dir / "objects.csv", objects)]

    def methods_task(self, run: Any) -> str:
        return "instance segmentation of cells"

    def methods_extra(self, run: Any, cite: Any) -> str | None:
        target = run.get("train.instance_target", "three_class")
        if target == "three_class":
            return (f"The network predicted background, cell boundary and cell interior; instances were "
                    f"obtained by seeded watershed {cite('watershed')} on the interior probability, with "
                    f"thresholds tuned on the validation images.")
        if target == "star_convex":
            from builder.tasks.star_convex import N_RAYS

            return (f"Objects were described as star-convex polygons {cite('stardist')}: for every pixel the "
                    f"network predicted the probability of lying near an object's centre and the distances to "
                    f"that object's edge along {N_RAYS} evenly spaced rays (loss: binary cross-entropy on the "
                    f"probability plus the probability-weighted mean absolute error of the distances). Pixels "
                    f"above the probability threshold proposed polygons, which were kept from the most central "
                    f"down unless more than the overlap (NMS) threshold of their area already belonged to kept "
                    f"objects; both thresholds were tuned on the validation images.")
        return f"The network predicted distance maps; instances were obtained by seeded watershed {cite('watershed')}."
