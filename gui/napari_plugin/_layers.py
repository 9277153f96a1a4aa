"""Arrays to napari layer-data tuples ``(data, kwargs, layer_type)``; no Qt and no napari import here.

Whole-number arrays (masks, instance labels) become ``labels`` layers, other arrays ``image`` layers;
a per-image class (classification) becomes a ``points`` layer whose text names the true and predicted class.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LayerData = tuple[Any, dict[str, Any], str]


def array_layer(array: np.ndarray, name: str, *, visible: bool = True) -> LayerData:
    """One layer for ``array``: ``labels`` for whole numbers, ``image`` otherwise.

    Parameters
    ----------
    array : (..., Y, X[, C]) ndarray
        Integer or boolean arrays are label images; float images with ``C > 1`` channels (last axis) are
        split into one layer per channel.
    name : str
        Layer name.
    visible : bool
        Whether the layer is shown when added.
    """
    array = np.asarray(array)
    if array.dtype.kind in "biu":
        return array.astype(np.int32, copy=False), {"name": name, "visible": visible}, "labels"
    meta: dict[str, Any] = {"name": name, "visible": visible, "rgb": False}
    if array.ndim >= 3 and array.shape[-1] == 1:
        array = array[..., 0]
    elif array.ndim >= 3 and array.shape[-1] <= 8:
        meta.update(channel_axis=array.ndim - 1, name=[f"{name} [{c}]" for c in range(array.shape[-1])])
        meta.pop("rgb")
    return array, meta, "image"


def class_text_layer(truths: Sequence[int], predictions: Sequence[int], class_names: Sequence[str],
                     names: Sequence[str], ndim: int) -> LayerData:
    """A points layer with one point per image (its top-left corner) whose text is ``true: A  predicted: B``.

    Parameters
    ----------
    truths, predictions : sequence of int
        Class index per image (``-1`` or out of range shows the number itself).
    class_names : sequence of str
        Name per class index.
    names : sequence of str
        Image (sample) names, kept as a feature.
    ndim : int
        3 for a stack of images (one point per slice), 2 for a single image.
    """
    def label(index: int) -> str:
        return str(class_names[index]) if 0 <= index < len(class_names) else str(index)

    n = len(truths)
    coords = np.array([[i, 2.0, 2.0] if ndim == 3 else [2.0, 2.0] for i in range(n)], float).reshape(n, ndim)
    features = {
        "sample": list(names),
        "truth": [label(int(t)) for t in truths],
        "prediction": [label(int(p)) for p in predictions],
        "correct": [int(t) == int(p) for t, p in zip(truths, predictions, strict=True)],
    }
    text = {"string": "true: {truth}  predicted: {prediction}", "anchor": "upper_left", "size": 10,
            "color": "yellow"}
    meta = {"name": "classes", "features": features, "text": text, "size": 1, "face_color": "transparent",
            "border_color": "transparent"}
    return coords, meta, "points"


def evaluation_layers(samples: Sequence[tuple[str, dict[str, np.ndarray]]], class_names: Sequence[str]
                      ) -> list[LayerData]:
    """Layers for a run's saved test predictions: image, ground truth and prediction.

    Samples of one size are stacked (a slider steps through them); other sizes get their own layers.

    Parameters
    ----------
    samples : sequence of (name, arrays)
        ``arrays`` holds ``image`` (Y, X, C) and, when saved, ``truth`` and ``prediction`` (arrays of the image
        size, or one class index per image).
    class_names : sequence of str
        Names of the classes, for classification text.
    """
    groups: dict[tuple[int, ...], list[tuple[str, dict[str, np.ndarray]]]] = {}
    for name, arrays in samples:
        groups.setdefault(tuple(np.shape(arrays["image"])), []).append((name, arrays))
    layers: list[LayerData] = []
    for number, group in enumerate(groups.values()):
        suffix = "" if len(groups) == 1 else f" {number + 1}"
        names = [name for name, _ in group]
        stack = len(group) > 1
        layers.append(array_layer(_stacked([a["image"] for _, a in group], stack), f"image{suffix}"))
        for key, title in (("truth", "ground truth"), ("prediction", "prediction")):
            values = [a[key] for _, a in group if key in a]
            if len(values) != len(group) or np.ndim(values[0]) == 0:
                continue
            layers.append(array_layer(_stacked(values, stack), f"{title}{suffix}", visible=key == "prediction"))
        if all("truth" in a and "prediction" in a and np.ndim(a["prediction"]) == 0 for _, a in group):
            layers.append(class_text_layer([int(a["truth"]) for _, a in group],
                                           [int(a["prediction"]) for _, a in group], class_names, names,
                                           3 if stack else 2))
    return layers


def _stacked(arrays: Sequence[np.ndarray], stack: bool) -> np.ndarray:
    return np.stack([np.asarray(a) for a in arrays]) if stack else np.asarray(arrays[0])


def prediction_layers(files: Sequence[str | Path], source_name: str) -> list[LayerData]:
    """Layers for the TIFFs that ``cellwright predict`` wrote: masks/labels shown, probabilities hidden.

    Parameters
    ----------
    files : sequence of str or Path
        Written files; those that are not TIFFs (tables) are skipped.
    source_name : str
        Name of the image layer predicted, the start of each new layer's name.
    """
    import tifffile

    layers = []
    for file in files:
        path = Path(file)
        if path.suffix.lower() not in (".tif", ".tiff"):
            continue
        with tifffile.TiffFile(path) as tif:
            array, axes = tif.series[0].asarray(), tif.series[0].axes
        if "C" in axes and array.ndim == len(axes):  # probability maps are saved channel-first (ImageJ)
            array = np.moveaxis(array, axes.index("C"), -1)
        kind = path.stem.rsplit("_", 1)[-1]
        layers.append(array_layer(array, f"{source_name} {kind}", visible=kind != "prob"))
    return layers
