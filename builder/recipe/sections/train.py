"""The ``train:`` section: how long, how fast and with which loss the model learns."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from builder.recipe.duration import EXAMPLES, parse_duration, readable_duration
from builder.recipe.fields import MAX_SEED, Section, field

#: Most epochs (and epoch counts such as patience) a recipe may ask for.
MAX_EPOCHS = 100_000
#: Most epochs when a recipe sets ``time_budget`` but no ``epochs``: the budget, not the epochs, ends training.
BUDGET_EPOCHS = 1000
#: Largest batch size; larger batches do not fit any accelerator.
MAX_BATCH_SIZE = 4096


class Optimizer(Section):
    """The optimiser and its step size."""

    name: Literal["adam", "adamw", "sgd", "rmsprop"] = field("adam", help="Optimisation algorithm.", common=True)
    learning_rate: float = field(
        1e-3, help="Initial step size; lower it (e.g. 1e-4) when fine-tuning a pretrained model.", gt=0.0, le=10.0,
        common=True, suggested=[1e-2, 1e-3, 3e-4, 1e-4],
    )
    weight_decay: float = field(0.0, help="Weight decay (adamw, sgd).", ge=0.0, le=1.0)
    momentum: float = field(0.9, help="Momentum (sgd).", ge=0.0, lt=1.0)
    clipnorm: float | None = field(None, help="Clip each gradient to this norm (stabilises training).",
                                   gt=0.0, le=1000.0)


class Schedule(Section):
    """How the learning rate changes over the epochs."""

    name: Literal["constant", "cosine", "step", "plateau"] = field(
        "cosine", help="Learning-rate schedule over epochs.", common=True
    )
    warmup_epochs: int = field(0, help="Epochs of linear warm-up from a small learning rate.",
                               ge=0, le=MAX_EPOCHS, unit="epochs")
    step_epochs: int = field(10, help="Epochs between drops for the 'step' schedule.",
                             ge=1, le=MAX_EPOCHS, unit="epochs")
    factor: float = field(0.5, help="Multiply the learning rate by this at each drop (step, plateau).", gt=0.0, lt=1.0)
    patience: int = field(5, help="Epochs without improvement before a drop (plateau).",
                          ge=1, le=MAX_EPOCHS, unit="epochs")
    min_learning_rate: float = field(1e-6, help="Lowest learning rate the schedule goes to.", ge=0.0, le=10.0)


class BlindSpot(Section):
    """Noise2Void's blind spots (``self_supervised: true``): which pixels are hidden and what replaces them."""

    replacement: Literal["median", "neighbour"] = field(
        "neighbour", help="Value put in a hidden pixel: 'median' of its neighbours without itself (N2V2; fewer "
        "checkerboard artefacts; needs model.params.residual: false) or the value of one random 'neighbour' (the "
        "original Noise2Void).", common=True)
    fraction: float = field(0.03, help="Fraction of each patch's pixels hidden and scored (more hidden pixels "
                            "teach more per step; 3 % beat 1 % on real data).",
                            gt=0.0, le=0.1)
    radius: int = field(2, help="Neighbours within this many pixels give the replacement value.", ge=1, le=10,
                        unit="px")


class EarlyStopping(Section):
    """Stop when the validation score stops improving."""

    enabled: bool = field(True, help="Stop early when the validation score no longer improves.", common=True)
    patience: int = field(
        20, help="Epochs without improvement before stopping. With a time budget, at most a third of the epochs "
        "that fit in it (and at least 5), and those epochs must also last a fifth of the budget.",
        ge=1, le=MAX_EPOCHS, unit="epochs")
    monitor: str = field(
        "auto", help="Quantity watched to keep the best checkpoint and to stop early: 'auto' is the task's "
        "headline metric on the validation images (balanced accuracy, mean IoU, AP@0.5, PSNR), scored after every "
        "epoch; 'val_loss' watches the validation loss; or any logged quantity such as 'val_accuracy'.")


class PseudoLabels(Section):
    """Confident predictions on unlabelled images join training (self-training, classification)."""

    images: str = field(..., widget="path", common=True,
                        help="Folder of unlabelled images (relative to the recipe's folder; sub-folders included).")
    threshold: float = field(0.9, gt=0.0, lt=1.0, common=True, suggested=[0.8, 0.9, 0.95],
                             help="Only images whose top class probability is at least this join training.")


Loss = Literal[
    "auto", "cross_entropy", "dice", "focal", "cross_entropy+dice", "focal+dice", "mae", "mse", "ssim+mae", "star"
]


class TrainSection(Section):
    """How the model learns: epochs, batch size, optimiser, schedule, loss, precision and devices."""

    epochs: int = field(50, help=f"Passes over the training data; with a time budget, the most epochs "
                        f"({BUDGET_EPOCHS} when only the budget is given).",
                        ge=1, le=MAX_EPOCHS, unit="epochs", common=True)
    time_budget: str | None = field(
        None, help=f"Training time, e.g. {EXAMPLES}: the step time is measured during the first epoch and the "
        "number of epochs (and the learning-rate schedule) is set so that training, validation included, ends "
        "within it; 'epochs' stays the upper limit. Empty: train for 'epochs'.", common=True,
        suggested=["10m", "20m", "1h"])
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH_SIZE)] | Literal["auto"] = field(
        8, help=f"Images per step (1 to {MAX_BATCH_SIZE}); 'auto' finds the largest batch that fits in memory.",
        common=True,
        suggested=["auto", 4, 8, 16, 32],
    )
    steps_per_epoch: int | None = field(
        None, help="Steps per epoch; by default the training set is seen once per epoch.", ge=1, le=1_000_000
    )
    optimizer: Optimizer = field(default_factory=Optimizer, help="Optimiser and learning rate.")
    schedule: Schedule = field(default_factory=Schedule, help="Learning-rate schedule.")
    loss: Loss = field(
        "auto",
        help="Loss function; 'auto' picks the usual one for the task (cross-entropy+Dice for segmentation, "
        "MAE for image-to-image, 'star' for the star_convex instance target).",
        common=True,
    )
    class_weights: Literal["auto", "none"] | list[Annotated[float, Field(ge=0.0, le=1000.0)]] = field(
        "auto", help="Weight rare classes more: 'auto' (inverse frequency), 'none', or one weight per class "
        "(0 to 1000)."
    )
    label_smoothing: float = field(0.0, help="Label smoothing for classification.", ge=0.0, lt=1.0)
    instance_target: Literal["three_class", "distance", "star_convex"] = field(
        "three_class",
        help="Training target for instance segmentation: background/boundary/interior classes, "
        "distance-transform maps (DeepCell-style), or star_convex: object probability and distances to the edge "
        "along 32 rays, made into polygons (StarDist-style; keeps touching round nuclei apart).",
    )
    self_supervised: bool = field(
        False, help="Noise2Void-style blind-spot training from noisy images only (image-to-image)."
    )
    blind_spot: BlindSpot = field(default_factory=BlindSpot,
                                  help="How blind spots are made when self_supervised is true.")
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping, help="Stop when validation stops improving.")
    init_from: str | None = field(
        None, widget="path", common=True,
        help="Fine-tune: start from the weights of a trained model (a run folder, its .keras file or a bundle "
        ".zip) instead of random ones. It must have this recipe's model, task and channels. Empty: random start.")
    pseudo_labels: PseudoLabels | None = field(
        None, help="Self-training (classification): after training, the model labels these unlabelled images; "
        "those above the threshold join the training set and the model trains a second round.")
    precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = field(
        "auto", help="'auto' uses mixed precision on a GPU and float32 on a CPU."
    )
    xla: Literal["auto", "on", "off"] = field("auto", help="XLA compilation; 'auto' turns it on for GPUs only.")
    distribute: Literal["auto", "none", "mirrored", "multi_worker"] = field(
        "auto",
        help="'auto' uses all local GPUs (MirroredStrategy); 'multi_worker' trains across machines set in TF_CONFIG.",
    )
    seed: int = field(42, help="Random seed; the same seed gives the same run on a CPU.", ge=0, le=MAX_SEED)
    checkpoint_every: int = field(1, help="Save a checkpoint every N epochs (best and last are kept).",
                                  ge=1, le=MAX_EPOCHS)

    @model_validator(mode="before")
    @classmethod
    def _budget_sets_the_length(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("time_budget") not in (None, "") and "epochs" not in data:
            return {**data, "epochs": BUDGET_EPOCHS}
        return data

    @field_validator("time_budget", mode="before")
    @classmethod
    def _readable_budget(cls, value: object) -> str | None:
        return readable_duration(value)

    def budget_seconds(self) -> float | None:
        """``time_budget`` in seconds (None: no budget)."""
        return parse_duration(self.time_budget) if self.time_budget else None

    @model_validator(mode="after")
    def _warmup_within_epochs(self) -> TrainSection:
        if self.schedule.warmup_epochs >= self.epochs:
            raise ValueError(
                f"schedule.warmup_epochs ({self.schedule.warmup_epochs}) must be below epochs ({self.epochs}); "
                "warm up for a few epochs only"
            )
        return self
