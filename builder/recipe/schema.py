"""The recipe: one YAML file that states a whole experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import PrivateAttr

from builder.recipe.fields import Section, field
from builder.recipe.sections.augment import AugmentSection
from builder.recipe.sections.data import DataSection
from builder.recipe.sections.evaluate import EvaluateSection, ExportSection, ReportSection
from builder.recipe.sections.model import ModelSection
from builder.recipe.sections.preprocess import PreprocessSection
from builder.recipe.sections.pretrain import PretrainSection
from builder.recipe.sections.train import TrainSection
from builder.tasks import task_names

#: The recipe format version written by this Cellwright.
CURRENT_VERSION = 1

#: Every registered task (``builder/tasks/<task>.py``); the recipe's ``task:`` enum.
TASKS: tuple[str, ...] = tuple(task_names())
Task = Literal[TASKS]  # type: ignore[valid-type]


class Recipe(Section):
    """A whole experiment: data, preprocessing, augmentation, model, training, evaluation, report, export."""

    cellwright: Literal[1] = field(
        1, help="Recipe format version. Older versions are upgraded automatically when loaded."
    )
    name: str = field(
        ..., help="Short name of the experiment; used for the run folder.", common=True, min_length=1, max_length=80
    )
    description: str = field("", help="What this experiment is for, in a sentence or two.", common=True)
    task: Task = field(
        ...,
        help="What the model learns: classification, segmentation, instance_segmentation, image_to_image "
        "or tracking.",
        common=True,
    )
    data: DataSection = field(default_factory=DataSection, help="Where the images are and how they are split.")
    preprocess: PreprocessSection = field(
        default_factory=PreprocessSection, help="Normalisation, resampling and patches."
    )
    augment: AugmentSection = field(default_factory=AugmentSection, help="Random changes for training.")
    model: ModelSection = field(default_factory=ModelSection, help="The network architecture.")
    pretrain: PretrainSection | None = field(
        None, help="Self-supervised pre-training on unlabelled images, run by `cellwright train` first when its "
        "encoder file is missing or outdated; the model starts from it with backbone: {from: <pretrain.out>}.")
    train: TrainSection = field(default_factory=TrainSection, help="How the model learns.")
    evaluate: EvaluateSection = field(default_factory=EvaluateSection, help="How the model is scored.")
    report: ReportSection = field(default_factory=ReportSection, help="The report written after training.")
    export: ExportSection = field(default_factory=ExportSection, help="Formats the trained model is shared in.")

    _source_path: Path | None = PrivateAttr(default=None)
    _raw: dict[str, Any] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Two recipes are equal when they say the same thing (where they were loaded from does not count)."""
        if not isinstance(other, Recipe):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def source_path(self) -> Path | None:
        """The file this recipe was loaded from (``None`` when built in memory)."""
        return self._source_path

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the recipe (e.g. ``data.root``) are resolved against."""
        return self._source_path.parent if self._source_path else Path.cwd()
