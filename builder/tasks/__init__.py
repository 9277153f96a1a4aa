"""Tasks: one module per recipe ``task:`` (see :mod:`builder.tasks.base`), plus their numpy helpers.

Importing this package is cheap (no TensorFlow/keras): use :func:`get_task` to reach a task.
"""

from builder.tasks.base import Task, register_task
from builder.tasks.registry import DEFAULT_TASK, all_tasks, get_task, task_for_layout, task_names

__all__ = ["DEFAULT_TASK", "Task", "all_tasks", "get_task", "register_task", "task_for_layout", "task_names"]
