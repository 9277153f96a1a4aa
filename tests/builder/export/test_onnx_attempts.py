"""write_onnx converts again when a conversion does not reproduce the Keras output (tf2onnx is not deterministic)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from builder.errors import ExportError
from builder.export.onnx import CONVERSION_ATTEMPTS, write_onnx


def _model_with_wrong_exports(wrong: int) -> Any:
    """A real two-convolution network whose first ``wrong`` ONNX exports are of the network with doubled output
    (what a faulty conversion looks like to the check); later exports are right."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, 1))
    hidden = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(inputs)
    outputs = keras.layers.Conv2D(1, 3, padding="same")(hidden)

    class WrongExports(keras.Model):
        exports = 0

        def export(self, filepath: str, **kwargs: Any) -> Any:
            WrongExports.exports += 1
            if WrongExports.exports <= wrong:
                doubled = keras.Model(self.inputs, keras.layers.Rescaling(2.0)(self.outputs[0]))
                return doubled.export(filepath, **kwargs)
            return super().export(filepath, **kwargs)

    return WrongExports(inputs, outputs)


def test_a_wrong_conversion_is_converted_again(tmp_path):
    model = _model_with_wrong_exports(wrong=1)
    x = np.random.default_rng(1).normal(size=(1, 16, 16, 1)).astype(np.float32)
    check = write_onnx(model, tmp_path / "model.onnx", test_input=x)
    # the first export was wrong and the file still matches Keras; the real converter itself is sometimes wrong
    # too (the reason for the attempts), so it may have taken more than one more
    assert 2 <= type(model).exports <= CONVERSION_ATTEMPTS
    assert check.max_abs_diff <= 1e-4 and (tmp_path / "model.onnx").is_file()


def test_conversions_that_stay_wrong_are_reported_and_leave_no_file(tmp_path):
    model = _model_with_wrong_exports(wrong=CONVERSION_ATTEMPTS)
    x = np.random.default_rng(1).normal(size=(1, 16, 16, 1)).astype(np.float32)
    with pytest.raises(ExportError) as caught:
        write_onnx(model, tmp_path / "model.onnx", test_input=x)
    assert type(model).exports == CONVERSION_ATTEMPTS
    assert str(tmp_path / "model.onnx") in caught.value.format()
    assert not list(tmp_path.iterdir())
