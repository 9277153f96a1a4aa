"""The task's headline metric on the validation images, scored after every epoch of training.

Early stopping and the choice of the best checkpoint watch this score (``train.early_stopping.monitor: auto``)
instead of the noisy validation loss. The score is the one ``cellwright evaluate`` reports, computed the same way
(:func:`builder.workflow.evaluate_job.evaluate_model`'s steps: images at their own resolution, network output,
post-processing, the task's own metric), with three differences that keep it cheap: the post-processing
thresholds are the recipe's, not tuned (instance segmentation tunes them once, after training), at most
:data:`MAX_PIXEL_IMAGES` images of a pixel task are scored, and the network output is the plain one, without
``evaluate.postprocess.tta`` (eight passes per image would eat a time budget; it lifts every epoch alike).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from builder.recipe import Recipe
from builder.tasks import get_task

#: Most validation images of a pixel task (segmentation, restoration) scored each epoch.
MAX_PIXEL_IMAGES = 50
#: Images per network call when the whole image is the input (classification).
BATCH = 64


class ValidationScore:
    """Callable ``score(model) -> float | None``: the headline metric of ``recipe.task`` on ``samples``.

    Parameters
    ----------
    recipe : Recipe
    samples : list of Sample
        The validation split.
    norm_stats : dict, optional
        Training's normalisation (``normalization.json`` contents).
    classes : list of str, optional
        Class names in model output order (classification).
    """

    def __init__(self, recipe: Recipe, samples: Sequence[Any], *, norm_stats: Any = None,
                 classes: Sequence[str] | None = None) -> None:
        self.recipe = without_tta(recipe)
        self.task = get_task(recipe.task)
        label, self.key = self.task.headline
        self.label = label
        self.log_key = f"val_{self.key}"
        samples = list(samples)
        if self.task.pixel_output:
            samples = samples[:MAX_PIXEL_IMAGES]
        self.samples = samples
        self.norm_stats = norm_stats
        self.classes = list(classes or recipe.data.classes or [])
        self._loaded: Any = None
        self._xs: list[np.ndarray] | None = None

    def _load(self) -> Any:
        from builder.data.pipeline import load_split
        from builder.workflow.evaluate_job import original_grid

        if self._loaded is None:  # as evaluate loads them: pixel tasks at their own resolution
            self._loaded = load_split(self.samples, self.recipe.data, original_grid(self.recipe), classes=self.classes)
        return self._loaded

    def _outputs(self, model: Any, in_stats: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
        from builder.workflow.evaluate_job import _outputs
        from builder.workflow.inference import prepare

        loaded = self._load()
        if self.task.pixel_output:  # exactly evaluate's path: rescaled for the network, scored at full size
            xs, pixel_outs, _ = _outputs(model, self.recipe, loaded, in_stats, None, "validate",
                                         norm_record=self.norm_stats)
            return xs, pixel_outs
        if self._xs is None:
            self._xs = [prepare(image, self.recipe, model=model, stats=in_stats, resized=True)[0]
                        for image in loaded.images]
        outs: list[np.ndarray] = []
        for start in range(0, len(self._xs), BATCH):  # whole-image inputs: batched, not one call per image
            batch = np.stack(self._xs[start:start + BATCH]).astype(np.float32)
            out = model.predict_on_batch(batch)
            out = out[0] if isinstance(out, (list, tuple)) else out
            outs.extend(np.asarray(out, np.float32).reshape(len(batch), -1))
        return self._xs, outs

    def __call__(self, model: Any) -> float | None:
        """The headline metric of ``model`` on the validation images (None when it cannot be computed)."""
        from builder.workflow.evaluate_job import ScoringContext
        from builder.workflow.inference import interpret_output, postprocess_settings, resolve_norm_stats

        if not self.samples:
            return None
        in_stats, target_stats = resolve_norm_stats(self.norm_stats)
        xs, outs = self._outputs(model, in_stats)
        params = postprocess_settings(self.recipe)
        results = [interpret_output(o, self.recipe, params) for o in outs]
        context = ScoringContext(self.recipe, self.classes, target_stats, self.norm_stats)
        metrics, *_ = self.task.score(self._loaded, xs, outs, results, context)
        value = self.task.flat_metrics(metrics).get(self.key)
        if value is None:
            return None
        value = float(value)
        return value if math.isfinite(value) else None


def without_tta(recipe: Recipe) -> Recipe:
    """``recipe`` with ``evaluate.postprocess.tta`` off (the same object when it is already off)."""
    post = recipe.evaluate.postprocess
    if not post.tta:
        return recipe
    evaluate = recipe.evaluate.model_copy(update={"postprocess": post.model_copy(update={"tta": False})})
    return recipe.model_copy(update={"evaluate": evaluate})


def validation_score(recipe: Recipe, dataset: Any, info: dict[str, Any], normalization: dict[str, Any] | None
                     ) -> ValidationScore | None:
    """The per-epoch scorer a recipe asks for (``early_stopping.monitor: auto``), or None.

    None when the monitor is set to a logged quantity (e.g. ``val_loss``), when there are no validation images,
    or for tasks without an image-level headline metric (tracking).
    """
    if recipe.train.early_stopping.monitor != "auto":
        return None
    samples = list(dataset.splits.get("validation") or [])
    task = get_task(recipe.task)
    if not samples or not task.headline[1] or task.time_lapse or recipe.train.self_supervised:
        return None
    return ValidationScore(recipe, samples, norm_stats=normalization, classes=info.get("classes") or None)
