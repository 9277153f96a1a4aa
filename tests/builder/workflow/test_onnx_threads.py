"""ONNX Runtime leaves one core to the threads that read and post-process beside the network.

A real ONNX file (one 3x3 convolution with the prediction record, written with ``onnx.helper``) is opened in a
real subprocess whose CPU affinity is set to one or two cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from builder.workflow.onnx_network import RECORD_KEY, RECORD_VERSION

ROOT = Path(__file__).resolve().parents[3]


def write_conv_onnx(path: Path) -> None:
    """A (B, Y, X, 1) -> (B, Y, X, 2) network: transpose, a 3x3 convolution, transpose back; with its record."""
    import onnx
    from onnx import TensorProto, helper

    weights = np.random.default_rng(0).normal(size=(2, 1, 3, 3)).astype(np.float32)
    nodes = [helper.make_node("Transpose", ["input"], ["nchw"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["nchw", "w"], ["conv"], pads=[1, 1, 1, 1]),
             helper.make_node("Transpose", ["conv"], ["output"], perm=[0, 2, 3, 1])]
    graph = helper.make_graph(
        nodes, "conv",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", "y", "x", 1])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "y", "x", 2])],
        [onnx.numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    record = {"version": RECORD_VERSION, "checkpoint": "best.keras", "input_shape": [None, None, None, 1],
              "output_shape": [None, None, None, 2], "reach": {"field": 3, "local": True, "bytes_per_pixel": 64.0}}
    entry = model.metadata_props.add()
    entry.key, entry.value = RECORD_KEY, json.dumps(record)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


CHILD = """
import os, sys
import numpy as np
os.sched_setaffinity(0, {cores})
from builder.workflow.onnx_network import open_onnx_network
network = open_onnx_network(sys.argv[1])
out = network.predict_on_batch(np.ones((1, 8, 8, 1), np.float32))
print(network.session.get_session_options().intra_op_num_threads, out.shape)
"""


def threads_on(cores: list[int], path: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", CHILD.format(cores=set(cores)), str(path)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs a CPU affinity mask (Linux)")
def test_the_network_runs_on_all_cores_but_one(tmp_path):
    path = tmp_path / "model.onnx"
    write_conv_onnx(path)
    allowed = sorted(os.sched_getaffinity(0))
    assert threads_on(allowed[:1], path) == "1 (1, 8, 8, 2)"  # one core: the network still runs
    if len(allowed) >= 2:
        assert threads_on(allowed[:2], path) == "1 (1, 8, 8, 2)"
    if len(allowed) >= 4:
        assert threads_on(allowed[:4], path) == "3 (1, 8, 8, 2)"
