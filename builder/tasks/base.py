"""The shape of a task: everything Cellwright knows about one recipe ``task:`` lives in one :class:`Task` subclass.

A task module (``builder/tasks/<task>.py``) declares one subclass and registers it with :func:`register_task`.
The recipe checks, data layer, compiler, training, evaluation, prediction, report, export and GUI ask the task
object; none of them compares task names. Importing a task module must stay cheap (NumPy at most): anything
heavy is imported inside the method that needs it.

Adding a task is one module (plus its tests and a template recipe):

>>> @register_task                                        # doctest: +SKIP
... class Counting(Task):
...     name = "counting"
...     title = "Cell counting"
...     ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from builder.errors import CellwrightError, Problem

if TYPE_CHECKING:
    from builder.recipe import Recipe

#: What a network for the task outputs; templates declare which kinds their head can make.
OUTPUT_KINDS = ("class_vector", "pixel_classes", "instance_maps", "image", "tracks")
#: Losses for class outputs (one softmax per pixel or per image).
CLASS_LOSSES = ("cross_entropy", "dice", "focal", "cross_entropy+dice", "focal+dice")
#: Losses for image outputs (restoration, distance maps).
IMAGE_LOSSES = ("mae", "mse", "ssim+mae")


def lazy(module: str, attr: str, **bound: Any) -> Callable[..., Any]:
    """A function that imports ``module.attr`` on first call (keeps task modules cheap to import)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        fn = getattr(importlib.import_module(module), attr)
        return (partial(fn, **bound) if bound else fn)(*args, **kwargs)

    call.__name__ = attr
    call.__qualname__ = f"{module}.{attr}"
    call.__doc__ = f"Calls :func:`{module}.{attr}` (imported on first use)."
    return call


#: Result keys for ``predict``'s opt-in outputs: probability-map TIFFs, and outline shape descriptors.
WRITE_PROBABILITIES = "write_probabilities"
MEASURE_SHAPE = "measure_shape"


class Task:
    """One recipe ``task:``. Subclasses set the class attributes and override the methods that differ.

    Attributes
    ----------
    name : str
        The recipe's ``task:`` value.
    title : str
        Human-readable name ("Instance segmentation").
    description : str
        The phrase the report uses ("instance segmentation (every cell found and outlined separately)").
    card : (str, str)
        The wizard's card title and one-line explanation.
    trainable : bool
        False while a task is registered but cannot be trained.
    output : str
        One of :data:`OUTPUT_KINDS`: what the network outputs (templates and heads read it).
    head_block : str
        The registry block a template ends with for this task.
    layouts : tuple of str
        ``data.layout`` values the task accepts.
    learns_from : str
        ``"labels"`` (class per image), ``"masks"``, ``"targets"`` (images) or ``"tracks"``.
    headline : (str, str)
        Display name and metrics key of the headline metric; models are ranked and tuned by it.
    losses : dict
        Variant -> (loss ``auto`` stands for, allowed losses). The one table training AND the report read.
    targets, postprocess : dict
        Variant -> numpy function (training target; network output -> result).
    default_template : str
        The template a new recipe starts with.
    min_train_images : int
        Below this many training images the report warns that the scores are optimistic.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    card: ClassVar[tuple[str, str]] = ("", "")
    trainable: ClassVar[bool] = True
    output: ClassVar[str] = "pixel_classes"
    head_block: ClassVar[str] = ""
    layouts: ClassVar[tuple[str, ...]] = ()
    learns_from: ClassVar[str] = "masks"
    headline: ClassVar[tuple[str, str]] = ("", "")
    losses: ClassVar[dict[str, tuple[str, tuple[str, ...]]]] = {}
    targets: ClassVar[dict[str, Callable[..., Any]]] = {}
    postprocess: ClassVar[dict[str, Callable[..., Any]]] = {}
    default_variant: ClassVar[str] = "default"
    default_template: ClassVar[str] = "unet"
    min_train_images: ClassVar[int] = 20
    #: The data are time-lapses (read per sequence, not per image).
    time_lapse: ClassVar[bool] = False
    #: Mask values are class indices (checked against ``data.classes``), not object ids.
    masks_are_classes: ClassVar[bool] = False
    #: The network sees whole images resized to one size (classifiers) instead of patches and tiles.
    whole_image_input: ClassVar[bool] = False
    #: What the exported network's output is (BioImage Model Zoo output description).
    output_description: ClassVar[str] = ""
    #: Per-image output files of ``predict`` (``{stem}`` = image name) and files written once per call.
    predict_files: ClassVar[tuple[str, ...]] = ()
    predict_summary_files: ClassVar[tuple[str, ...]] = ()
    #: ``interpret`` works pixel by pixel, so ``predict`` can stream a large image band by band
    #: (see :meth:`prediction_planes`).
    streams_prediction: ClassVar[bool] = False
    #: Columns of the per-class table in the report: (header, metrics key).
    per_class_columns: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Caption under the report's prediction overlays.
    overlay_caption: ClassVar[str] = ""
    #: Caption of the data examples figure.
    examples_caption: ClassVar[str] = "Example test images."
    #: How report figures draw one evaluated image (see ``builder.report.figures``): "thumbnails" (class
    #: titles), "class_overlay" (coloured pixels), "instance_outlines" or "image_columns" (input, prediction,
    #: target, error).
    figure_style: ClassVar[str] = "image_columns"
    #: Headline table rows of the report: (label, metric keys tried in order, meaning, higher is better).
    report_metrics: ClassVar[tuple[tuple[str, tuple[str, ...], str, bool], ...]] = ()
    #: The report adds a table with one row per IoU threshold.
    shows_threshold_table: ClassVar[bool] = False
    #: Network outputs become results through thresholds that are tuned on validation images (the report
    #: describes them).
    has_tuned_postprocess: ClassVar[bool] = False
    #: The report draws the confusion matrix.
    shows_confusion_matrix: ClassVar[bool] = False
    #: Predictions can be written back as annotations a person corrects (``cellwright propose``).
    proposes_annotations: ClassVar[bool] = False
    #: A recipe may name a trained segmenter (``model.from``) instead of training one.
    accepts_trained_segmenter: ClassVar[bool] = False

    # -- identity ------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<task {self.name}>"

    @property
    def primary_metric(self) -> str:
        """Metrics key used to rank models and tune post-processing (the headline's key)."""
        return self.headline[1]

    def check_trainable(self) -> None:
        """Raise a CellwrightError when the task cannot be trained yet."""
        if not self.trainable:
            raise CellwrightError(f"task: {self.name}", f"{self.title} cannot be trained in this version.",
                                  "Choose another task.")

    # -- recipe ----------------------------------------------------------------------------------------------
    def variant_for(self, *, instance_target: str = "three_class", self_supervised: bool = False,
                    mask_kind: str | None = None) -> str | None:
        """The target/post-processing variant for these settings (``None``: the default)."""
        return None

    def variant(self, recipe: Recipe) -> str | None:
        """The target/post-processing variant a recipe asks for (e.g. three_class vs distance)."""
        return self.variant_for(instance_target=recipe.train.instance_target,
                                self_supervised=recipe.train.self_supervised, mask_kind=recipe.data.mask_kind)

    #: True when ``train.self_supervised`` (Noise2Void) makes sense for the task.
    self_supervised_ok: ClassVar[bool] = False

    def check_recipe(self, recipe: Recipe) -> list[Problem]:
        """Task-specific recipe problems: data layout, mask folder, self-supervision, loss.

        Subclasses extend it (``super().check_recipe(recipe) + [...]``).
        """
        problems = []
        data = recipe.data
        if data.layout not in self.layouts:
            problems.append(problem("data.layout", f"The data layout {data.layout!r} does not fit the task "
                                    f"{self.name}.", f"Use one of: {', '.join(self.layouts)}."))
        if self.mask_target and data.layout == "folders" and not data.masks:
            problems.append(problem(
                "data.masks", f"The task is {self.name}, which learns from masks, but data.masks does not name a "
                "mask folder.", "Add `masks: masks` (the sub-folder with one mask per image, same file names) "
                "under `data`."))
        if recipe.train.self_supervised and not self.self_supervised_ok:
            problems.append(problem(
                "train.self_supervised", "Self-supervised (Noise2Void) training is for image_to_image denoising, "
                f"but the task is {self.name}.", "Remove `self_supervised: true`, or change `task` to "
                "image_to_image."))
        if self.trainable and recipe.train.loss != "auto":
            try:
                self.resolve_loss(recipe.train.loss, self.variant(recipe))
            except CellwrightError as error:
                problems.append(problem("train.loss", error.what, error.fix))
        return problems

    def new_recipe_data(self, root: str) -> dict[str, Any]:
        """The ``data:`` section a new recipe for this task starts with."""
        return {"layout": "folders", "root": root, "masks": "masks"}

    # -- data ------------------------------------------------------------------------------------------------
    @property
    def uses_labels(self) -> bool:
        """True when each image has one class label (stratified splits, class counts)."""
        return self.learns_from == "labels"

    @property
    def pixel_output(self) -> bool:
        """True when the network predicts a map with the image's Y, X axes (tiled prediction)."""
        return self.output != "class_vector"

    def orientation_free_output(self, recipe: Recipe) -> bool:
        """True when each output channel means the same whichever way the image is turned (probabilities,
        distances to the edge, intensities), so outputs of flipped images may be averaged
        (``evaluate.postprocess.tta``): pixel outputs by default."""
        return self.pixel_output

    @property
    def image_target(self) -> bool:
        """True when the training target is an image (normalised like the input)."""
        return self.learns_from == "targets"

    @property
    def mask_target(self) -> bool:
        """True when the training target is a mask (class or instance labels)."""
        return self.learns_from == "masks"

    def fixed_input_size(self, recipe: Recipe) -> int | None:
        """A fixed network input size (classifiers resize whole images), or None for any size."""
        return None

    def output_channels(self, ctx: Any) -> int | None:
        """Channels the model's output must have for a :class:`~builder.blocks.context.ModelContext`."""
        return None

    def count_classes(self, recipe: Recipe, dataset: Any) -> int | None:
        """Number of output classes the data imply when ``data.classes`` names none (None: not a class task)."""
        return None

    def model_outputs(self, recipe: Recipe, dataset: Any, info: Any) -> tuple[int | None, int | None]:
        """(number of classes, number of output channels) the head needs, from the data seen at training."""
        return None, None

    # -- targets, losses, post-processing --------------------------------------------------------------------
    def _pick(self, table: Mapping[str, Any], variant: str | None, what: str) -> Any:
        self.check_trainable()
        key = variant or self.default_variant
        if key not in table:
            raise CellwrightError(f"task: {self.name}", f"No {what} named {key!r} for this task.",
                                  f"Use one of: {', '.join(table) or '(none)'}.")
        return table[key]

    def target_fn(self, variant: str | None = None) -> Callable[..., Any] | None:
        """The numpy target function for ``variant`` (None when the raw mask/label/target is the target)."""
        return self._pick(self.targets, variant, "target")

    def postprocess_fn(self, variant: str | None = None) -> Callable[..., Any]:
        """The post-processing function for ``variant``."""
        return self._pick(self.postprocess, variant, "post-processing")

    def loss_entry(self, variant: str | None = None) -> tuple[str, tuple[str, ...]]:
        """(default loss, allowed losses) for ``variant``."""
        self.check_trainable()
        key = variant or self.default_variant
        return self.losses.get(key) or self.losses[self.default_variant]

    def default_loss(self, variant: str | None = None) -> str:
        """The loss ``train.loss: auto`` stands for."""
        return self.loss_entry(variant)[0]

    def resolve_loss(self, name: str = "auto", variant: str | None = None) -> str:
        """The concrete loss name ("auto" -> the task's default); raises when it does not fit the task."""
        default, allowed = self.loss_entry(variant)
        if name == "auto":
            return default
        if name not in allowed:
            shown = self.name + (f" ({variant})" if variant and variant != self.default_variant else "")
            raise CellwrightError(
                "train.loss", f"The loss {name!r} does not fit the task {shown}. Expected one of: auto, "
                f"{', '.join(allowed)}. Received: loss={name}",
                f"Set train.loss to 'auto' (uses {default}) or one of the listed losses.")
        return name

    def make_loss(self, name: str = "auto", *, variant: str | None = None, **kwargs: Any) -> Any:
        """Build the Keras loss (imports keras)."""
        build_loss = lazy("builder.tasks.losses", "build_loss")  # imports keras: kept out of the import graph
        return build_loss(self.resolve_loss(name, variant), task_output=self.output,
                          masked=variant == "self_supervised", **kwargs)

    def training_metrics(self) -> list[str]:
        """Keras metrics shown during training."""
        return []

    def interpret(self, output: np.ndarray, recipe: Recipe, params: Mapping[str, Any]) -> dict[str, Any]:
        """The task result for one network output (``prediction`` plus task keys)."""
        raise CellwrightError("task", f"Prediction is not available for the {self.name!r} task.", "Use another task.")

    def postprocess_settings(self, recipe: Recipe) -> dict[str, Any]:
        """Post-processing parameters from the recipe (thresholds); tuned values override them."""
        pp = recipe.evaluate.postprocess
        return {"threshold": float(pp.threshold), "seed_threshold": float(pp.seed_threshold),
                "min_size": int(pp.min_size)}

    def tunes_postprocess(self, recipe: Recipe) -> bool:
        """True when post-processing thresholds are tuned on the validation images."""
        return False

    def tune_postprocess(self, outputs: list[np.ndarray], truths: list[np.ndarray], recipe: Recipe,
                         start: Mapping[str, Any], progress: Callable[[int, int], None] | None = None,
                         loaded: Any = None) -> dict[str, Any]:
        """Post-processing parameters that score best on validation outputs (``tuned_on``, ``score``...).

        ``progress(done, total)`` is called after each setting tried (the evaluation's progress bar); ``loaded``:
        the validation split itself (samples, images), for tasks that score more than the masks."""
        raise NotImplementedError

    # -- evaluation --------------------------------------------------------------------------------------------
    def score(self, loaded: Any, xs: list, outs: list, results: list[dict[str, Any]], ctx: Any
              ) -> tuple[dict, list, list, list]:
        """(metrics dict, truths, predictions, per-image rows) on a loaded split; see ``evaluate_job``."""
        raise CellwrightError("task", f"The {self.name!r} task cannot be evaluated yet.", "Use another task.")

    def flat_metrics(self, m: Mapping[str, Any]) -> dict[str, float]:
        """Flat ``{name: number}`` metrics for ``metrics.json``."""
        return flat_numbers(m, ("n_images", "tp", "fp", "fn"))

    def extra_results(self, m: Mapping[str, Any]) -> dict[str, Any]:
        """More ``metrics.json`` keys (e.g. per-threshold tables)."""
        return {}

    def baseline(self, recipe: Recipe, images: Sequence[np.ndarray], truths: Sequence[Any]) -> dict[str, Any] | None:
        """A classical method scored on the same images (shown next to the model), or None."""
        return None

    def saved_arrays(self, output: np.ndarray) -> dict[str, np.ndarray]:
        """Extra arrays kept per evaluated image (beside image, truth, prediction)."""
        return {}

    # -- prediction ------------------------------------------------------------------------------------------
    def write_prediction(self, result: Mapping[str, Any], image: Any, stem: str, out_dir: Path, *,
                         pixel_size: float | None, class_names: Sequence[str]) -> tuple[dict, list[Path], list]:
        """Write one image's prediction files; returns (summary row keys, written paths, object rows).

        ``result`` may carry the opt-in outputs of ``predict`` (:data:`WRITE_PROBABILITIES`,
        :data:`MEASURE_SHAPE`; both default to True when absent)."""
        return {}, [], []

    def prediction_planes(self, result: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The arrays of the per-image TIFFs by file suffix (``"prob"`` -> ``<stem>_prob.tif``), ``Y,X`` or
        ``Y,X,C``, for a whole image or one band of rows (streamed prediction); empty when the task does not stream.
        """
        return {}

    def prediction_row(self, planes: Mapping[str, np.ndarray], row: dict[str, Any]) -> None:
        """Add what one band's :meth:`prediction_planes` tell to a streamed prediction's summary row."""

    def write_summary(self, out_dir: Path, rows: list[dict[str, Any]], objects: list[dict[str, Any]],
                      recipe: Recipe | None = None, companions: Mapping[str, Any] | None = None) -> list[Path]:
        """Write the files written once per ``predict`` call (e.g. a table of every image); ``recipe``: the
        model's recipe (settings such as tracking's ``evaluate.tracking``); ``companions``: the models saved
        with the network (:meth:`companion_files`, loaded)."""
        return []

    def companion_files(self, recipe: Recipe) -> tuple[str, ...]:
        """Files of the run folder, besides the network, that the trained model needs at evaluation and
        prediction (Keras models written by :meth:`fit_companions`); they travel with the model in bundles."""
        return ()

    def fit_companions(self, recipe: Recipe, dataset: Any, run_dir: Path, events: Any = None) -> list[Path]:
        """Fit what the model needs besides the network (:meth:`companion_files`) after training; returns the
        files written. Nothing by default."""
        return []

    def postprocesses_on_grid(self, recipe: Recipe) -> bool:
        """Whether post-processing takes the network output on its own grid and draws the result at the image's
        size itself (then prediction hands it a :class:`~builder.tasks.zoomed_output.ZoomedOutput` instead of
        the output interpolated to the image's size). False by default."""
        return False

    def output_at_zoom(self, output: np.ndarray, recipe: Recipe, zoom: float) -> np.ndarray:
        """A network output interpolated to ``zoom`` times the network's grid, with values measured in pixels
        scaled to match (none by default)."""
        return output

    def output_note(self, recipe: Mapping[str, Any]) -> str:
        """What the exported network's output channels mean for a recipe (a plain dict), for model documentation;
        empty when :attr:`output_description` says it all."""
        return ""

    # -- report ------------------------------------------------------------------------------------------------
    def methods_task(self, run: Any) -> str:
        """The Methods sentence on what the network learns and how results are made."""
        return ""

    def methods_extra(self, run: Any, cite: Any) -> str | None:
        """A Methods sentence on task-specific training or post-processing (``cite(key)`` adds a reference)."""
        return None

    def methods_preprocess(self, run: Any) -> str | None:
        """A Methods phrase on task-specific preprocessing (e.g. resizing), or None."""
        return None

    def report_figures(self, run: Any) -> list[tuple[str, bytes | None, str]]:
        """Task-specific figures of the report's results: (subheading, PNG bytes or None, caption) each."""
        return []



def problem(key: str, what: str, fix: str, severity: str = "error") -> Problem:
    """A recipe problem located at ``key``."""
    return Problem(where=key, what=what, fix=fix, severity=severity, key=key)


def require_targets(loaded: Any, where: str) -> None:
    """Refuse to score images without masks/targets."""
    from builder.errors import DataError

    if len(loaded.targets) != len(loaded.images):
        raise DataError(where, f"{len(loaded.images) - len(loaded.targets)} of {len(loaded.images)} images have no "
                        "mask or target, so they cannot be scored.", "Add the missing masks/targets or remove "
                        "those images from the evaluated folder.")


def flat_numbers(d: Mapping[str, Any], skip: Sequence[str] = ()) -> dict[str, float]:
    """The plain numbers of a metrics dict (booleans and nested values left out)."""
    return {k: float(v) for k, v in d.items() if k not in skip and isinstance(v, (int, float, np.number))
            and not isinstance(v, bool)}


_REGISTRY: dict[str, Task] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: register one instance of a :class:`Task` subclass under its ``name``."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} must set `name`.")
    if cls.name in _REGISTRY and type(_REGISTRY[cls.name]) is not cls:
        raise ValueError(f"A task named {cls.name!r} is already registered ({type(_REGISTRY[cls.name]).__name__}).")
    _REGISTRY[cls.name] = cls()
    return cls
