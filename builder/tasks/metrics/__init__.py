"""Numpy metrics for every task (no TensorFlow)."""

from builder.tasks.metrics.classification import classification_metrics, confusion_matrix, roc_auc_one_vs_rest
from builder.tasks.metrics.image import image_metrics, nrmse, pearson, psnr, ssim
from builder.tasks.metrics.instances import DEFAULT_IOU_THRESHOLDS, instance_metrics, match_image
from builder.tasks.metrics.semantic import semantic_metrics

__all__ = [
    "DEFAULT_IOU_THRESHOLDS",
    "classification_metrics",
    "confusion_matrix",
    "image_metrics",
    "instance_metrics",
    "match_image",
    "nrmse",
    "pearson",
    "psnr",
    "roc_auc_one_vs_rest",
    "semantic_metrics",
    "ssim",
]
