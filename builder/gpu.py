"""Ask TensorFlow which GPUs it sees, and explain in plain words when it sees none (imports TensorFlow)."""

from __future__ import annotations

import platform
import shutil
from typing import Any

from builder.environment import basic_environment, explain_missing_gpu


def gpu_report() -> dict[str, Any]:
    """Import TensorFlow and say which GPUs it sees; when none, explain the most likely reason."""
    info: dict[str, Any] = {"gpus": [], "gpu_visible": False, "reason": ""}
    try:
        import tensorflow as tf
    except Exception as error:  # pragma: no cover - depends on the installation
        info["reason"] = f"TensorFlow could not be imported ({error}). Reinstall with `pip install cellwright`."
        return info
    gpus = tf.config.list_physical_devices("GPU")
    info["gpus"] = [gpu.name for gpu in gpus]
    info["gpu_visible"] = bool(gpus)
    info["built_with_cuda"] = bool(tf.test.is_built_with_cuda())
    if gpus:
        details = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
        info["gpu_names"] = details
        return info
    info["reason"] = explain_missing_gpu(
        built_with_cuda=info["built_with_cuda"],
        tensorflow_package=basic_environment().get("tensorflow_package"),
        nvidia_smi=shutil.which("nvidia-smi") is not None,
        system=platform.system(),
    )
    return info
