"""``backbone: {from: model.h5}``: a whole model saved by Keras in the legacy HDF5 format is a shared encoder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from builder.errors import ExportError
from tests.builder.backbones.test_shared_backbone import _compile, _recipe, _same

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def shared_h5(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny 1-channel U-Net (strides 2 and 4) saved by ``model.save('shared.h5')``."""
    import keras

    from builder.blocks.context import ModelContext
    from builder.compile import compile_graph
    from builder.templates import get_template

    keras.utils.set_random_seed(7)
    ctx = ModelContext(task="segmentation", input_shape=(32, 32, 1), n_classes=2)
    model = compile_graph(get_template("unet").expand({"depth": 2, "base_filters": 4}, ctx), ctx)
    path = tmp_path_factory.mktemp("colleague-h5") / "shared.h5"
    model.save(path)
    return path


def test_h5_static_facts_need_no_tensorflow(shared_h5: Path):
    code = (
        "import sys; from builder.backbones.shared import shared_facts; "
        f"f = shared_facts({str(shared_h5)!r}); "
        "print(f.in_channels, f.strides, f.taps[2][0], f.taps[4][0], 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "(2,", "4)", "enc1", "bottleneck", "False"]


def test_h5_encoder_keeps_the_saved_weights(shared_h5: Path):
    import keras

    model = _compile(_recipe(shared_h5.parent, {"from": "shared.h5"}))
    saved = keras.saving.load_model(shared_h5, compile=False)
    encoder = model.get_layer("encoder")
    for name in ("enc0", "enc1", "bottleneck"):
        assert _same(encoder.get_layer(name).get_weights(), saved.get_layer(name).get_weights()), name
    assert model.output.shape[-1] == 3
    assert not any(np.array_equal(w, 0) for w in encoder.get_layer("enc0").get_weights()[:1])


def test_weights_only_h5_is_refused_with_the_fix(shared_h5: Path, tmp_path: Path):
    import keras

    keras.saving.load_model(shared_h5, compile=False).save_weights(tmp_path / "only.weights.h5")
    (tmp_path / "only.weights.h5").rename(tmp_path / "only.h5")
    with pytest.raises(ExportError, match="holds no model configuration") as caught:
        _compile(_recipe(tmp_path, {"from": "only.h5"}))
    assert "only.h5" in caught.value.where and ".keras" in caught.value.fix
