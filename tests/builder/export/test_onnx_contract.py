"""An ONNX file says how to use it: named axes, normalisation, size multiple, post-processing, class names."""

from __future__ import annotations

import json

import numpy as np


def _pooling_net():
    """Downsamples by 4 and concatenates the skip path: sizes that are not multiples of 4 cannot run."""
    import keras

    keras.utils.set_random_seed(4)
    inp = keras.Input((None, None, 1))
    skip = keras.layers.Conv2D(2, 3, padding="same")(inp)
    x = keras.layers.MaxPooling2D(4)(skip)
    x = keras.layers.UpSampling2D(4)(x)
    out = keras.layers.Conv2D(2, 1, activation="softmax")(keras.layers.Concatenate()([x, skip]))
    return keras.Model(inp, out)


def test_onnx_carries_its_contract_and_runs_alone_at_three_sizes(tmp_path, seg_metadata):
    import onnx
    import onnxruntime

    from builder.export.onnx import write_onnx

    model = _pooling_net()
    seg_metadata.channel_names, seg_metadata.class_names = ["DAPI"], ["background", "nucleus"]
    seg_metadata.size_multiple, seg_metadata.postprocess = 4, {"threshold": 0.42}
    x = np.random.default_rng(0).random((1, 16, 16, 1)).astype(np.float32)
    write_onnx(model, tmp_path / "m.onnx", test_input=x, input_name="raw", output_name="prediction",
               metadata=seg_metadata)
    graph = onnx.load(str(tmp_path / "m.onnx"))
    dims = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "y", "x", 1]
    assert [d.dim_param for d in graph.graph.output[0].type.tensor_type.shape.dim][:3] == ["batch", "y", "x"]
    props = {p.key: p.value for p in graph.metadata_props}
    assert props["cellwright.size_multiple"] == "4"
    assert json.loads(props["cellwright.normalization"])["method"] == "percentile"
    assert json.loads(props["cellwright.postprocess"]) == {"threshold": 0.42}
    assert json.loads(props["cellwright.class_names"]) == ["background", "nucleus"]

    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for shape in ((1, 16, 16, 1), (2, 24, 40, 1), (1, 100, 36, 1)):  # three sizes, two non-square
        image = np.random.default_rng(1).random(shape).astype(np.float32)
        (out,) = session.run(None, {"raw": image})
        assert np.abs(out - np.asarray(model(image))).max() < 1e-4
