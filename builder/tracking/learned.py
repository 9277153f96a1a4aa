"""A learned link scorer: a small Keras network that scores candidate links from ground-truth tracks.

Each candidate link (object i in frame t, object j in frame t+1, within the search radius or overlapping) is
described by four numbers: distance / radius, IoU, |log area ratio| and |log intensity ratio|. Training pairs come
from track-labelled masks (the CTC TRA markers): a candidate is a true link when both objects carry the same track
label, or when j's track is a daughter of i's track and begins in frame t+1. The network (two small dense layers)
outputs the probability that a candidate is a true link; :func:`builder.tracking.linker.link` turns it into the
assignment cost. Keras is imported only when a scorer is trained or used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from builder.tracking.detections import FrameObjects, frame_objects, overlap_matrix
from builder.tracking.linker import LinkScorer, LinkSettings, adaptive_radius

N_FEATURES = 4


def link_features(a: FrameObjects, b: FrameObjects, iou: np.ndarray, scaled_distance: np.ndarray) -> np.ndarray:
    """(N_a, N_b, 4) features of every candidate link between two frames."""
    def change(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.minimum(np.abs(np.log(np.maximum(y[None, :], 1e-6) / np.maximum(x[:, None], 1e-6))), 5.0)

    inten = change(a.intensities, b.intensities) if a.intensities.any() and b.intensities.any() else \
        np.zeros(iou.shape)
    return np.stack([scaled_distance, iou, change(a.areas, b.areas), inten], axis=-1)


def training_pairs(masks: np.ndarray, images: np.ndarray | None, parents: Mapping[int, int],
                   begins: Mapping[int, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """(features, 0/1 labels, radius) of the candidate links of track-labelled ``masks`` (T, Y, X)."""
    objects = [frame_objects(masks[t], None if images is None else images[t]) for t in range(len(masks))]
    ious = [overlap_matrix(masks[t], masks[t + 1], objects[t], objects[t + 1]) for t in range(len(masks) - 1)]
    radius = adaptive_radius(objects, ious, LinkSettings(), masks.shape[1:])
    xs, ys = [], []
    for t in range(len(masks) - 1):
        a, b = objects[t], objects[t + 1]
        if not len(a) or not len(b):
            continue
        d = np.sqrt(((a.centroids[:, None, :] - b.centroids[None, :, :]) ** 2).sum(-1))
        candidate = (d <= 3 * radius) | (ious[t] > 0)  # wide, so that the network also sees wrong links
        true = (a.labels[:, None] == b.labels[None, :]) | (
            (np.array([parents.get(int(j), 0) for j in b.labels])[None, :] == a.labels[:, None])
            & (np.array([begins.get(int(j), -1) for j in b.labels])[None, :] == t + 1))
        xs.append(link_features(a, b, ious[t], d / radius)[candidate])
        ys.append(true[candidate].astype(np.float32))
    if not xs:
        return np.zeros((0, N_FEATURES), np.float32), np.zeros(0, np.float32), radius
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys), radius


def train_link_scorer(features: np.ndarray, labels: np.ndarray, *, epochs: int = 40, seed: int = 0) -> Any:
    """Fit the small network on candidate features (true links weighted up to balance the classes)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((N_FEATURES,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    positive = max(float(labels.mean()), 1e-3)
    weights = np.where(labels > 0, 0.5 / positive, 0.5 / max(1 - positive, 1e-3)).astype(np.float32)
    model.fit(features, labels, sample_weight=weights, epochs=epochs, batch_size=256, verbose=0)
    return model


def keras_scorer(model: Any) -> LinkScorer:
    """The :data:`~builder.tracking.linker.LinkScorer` of a trained network."""
    def score(a: FrameObjects, b: FrameObjects, iou: np.ndarray, scaled_distance: np.ndarray) -> np.ndarray:
        x = link_features(a, b, iou, scaled_distance).reshape(-1, N_FEATURES).astype(np.float32)
        return np.asarray(model.predict(x, verbose=0, batch_size=4096)).reshape(iou.shape)

    return score


def scorer_from_tracks(masks: np.ndarray, images: np.ndarray | None, tracks: Sequence[Any], *, epochs: int = 40
                       ) -> LinkScorer:
    """Train a scorer on track-labelled masks and their lineage (rows with label, begin, parent)."""
    return keras_scorer(scorer_model([(masks, images, tracks)], epochs=epochs))


def scorer_model(sequences: Sequence[tuple[np.ndarray, np.ndarray | None, Sequence[Any]]], *, epochs: int = 40,
                 seed: int = 0) -> Any:
    """The trained network (a Keras model, to save with a run) of several sequences' candidate links.

    Parameters
    ----------
    sequences : list of (masks, images, tracks)
        Track-labelled masks ``(T, Y, X)``, their raw frames ``(T, Y, X)`` or None, and the lineage rows (label,
        begin, parent) of those frames (frame numbers counted from the first of ``masks``).
    """
    xs, ys = [], []
    for masks, images, tracks in sequences:
        parents = {int(r.label): int(r.parent) for r in tracks}
        begins = {int(r.label): int(r.begin) for r in tracks}
        x, y, _ = training_pairs(np.asarray(masks), images, parents, begins)
        xs.append(x)
        ys.append(y)
    x, y = (np.concatenate(xs), np.concatenate(ys)) if xs else (np.zeros((0, N_FEATURES), np.float32),
                                                              np.zeros(0, np.float32))
    if not len(y) or y.min() == y.max():
        raise ValueError(f"`sequences` must hold both true and false candidate links. Received: {len(y)} candidates, "
                         f"{int(y.sum())} true")
    return train_link_scorer(x, y, epochs=epochs, seed=seed)
