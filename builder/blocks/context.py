"""What a graph needs to know about the recipe: task, input shape and number of outputs."""

from __future__ import annotations

from dataclasses import dataclass

from builder.tasks.registry import DEFAULT_TASK


@dataclass(frozen=True)
class ModelContext:
    """Facts from the recipe that blocks and templates read (no TensorFlow involved).

    Attributes
    ----------
    task : str
        Recipe task (a registered task name, see ``builder.tasks``).
    input_shape : tuple
        ``(H, W, C)`` used for the static shape checks (the patch or image size).
    n_classes : int
        Classes for classification and semantic segmentation.
    n_outputs : int
        Output channels of image-to-image models.
    instance_target : str
        ``three_class`` or ``distance`` (instance segmentation).
    fixed_size : bool
        Build the Keras model for exactly ``input_shape`` instead of ``(None, None, C)``.
    base_dir : str, optional
        Folder of the recipe; relative paths (e.g. backbone weight files) are taken from it.
    """

    task: str = DEFAULT_TASK
    input_shape: tuple = (64, 64, 1)
    n_classes: int = 2
    n_outputs: int = 1
    instance_target: str = "three_class"
    fixed_size: bool = False
    base_dir: str | None = None
