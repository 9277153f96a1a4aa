"""Per-task pieces: training targets, Keras losses, post-processing and numpy metrics.

Importing this package is cheap (no TensorFlow/keras): use :func:`get_task` to reach a task's functions.
"""

from builder.tasks.registry import TaskSpec, all_tasks, get_task

__all__ = ["TaskSpec", "all_tasks", "get_task"]
