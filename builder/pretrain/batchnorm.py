"""Re-estimate an encoder's batch-norm statistics on clean images after masked pre-training.

During pre-training the encoder only ever sees masked images (half of every image blanked), and its weights move
fast, so the moving mean and variance its BatchNormalization layers keep describe neither masked nor clean
images (on BCCD crops the stored variances were 3-6 times the real ones). A recipe that fine-tunes or freezes the
encoder runs it in inference mode on clean images at validation and prediction time, with those statistics.
:func:`recalibrate_batchnorm` replaces them by the exact mean and variance of each layer's input over the clean
images, layer after layer (each layer sees the inputs of the already corrected ones). Keras is imported inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Most images used to measure the statistics (a random subset of the unlabelled images beyond that).
MAX_IMAGES = 1024


def recalibrate_batchnorm(encoder: Any, images: np.ndarray, *, batch_size: int = 64,
                          rng: np.random.Generator | None = None) -> list[str]:
    """Set every BatchNormalization layer's moving statistics of ``encoder`` from ``images``, in layer order.

    Parameters
    ----------
    encoder : keras.Model
        A functional model whose BatchNormalization layers normalise the last axis.
    images : (N, Y, X, C) ndarray
        Clean (unmasked) inputs, normalised as for training.
    batch_size : int
        Images per prediction call.
    rng : numpy.random.Generator, optional
        Picks the subset when there are more than :data:`MAX_IMAGES` images.

    Returns
    -------
    list of str
        Names of the layers whose statistics were replaced.
    """
    import keras

    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"Invalid value received for argument `images`. Expected (N, Y, X, C) with N >= 1. "
                         f"Received: images.shape={images.shape}")
    if len(images) > MAX_IMAGES:
        pick = (rng or np.random.default_rng(0)).choice(len(images), MAX_IMAGES, replace=False)
        images = images[np.sort(pick)]
    done = []
    for layer in encoder.layers:
        if not isinstance(layer, keras.layers.BatchNormalization) or layer.axis not in (-1, len(layer.input.shape) - 1):
            continue
        probe = keras.Model(encoder.inputs, layer.input)
        values = np.asarray(probe.predict(images, batch_size=batch_size, verbose=0), np.float64)
        axes = tuple(range(values.ndim - 1))
        layer.moving_mean.assign(values.mean(axis=axes).astype(np.float32))
        layer.moving_variance.assign(values.var(axis=axes).astype(np.float32))
        done.append(layer.name)
    return done
