"""Two CPU worker processes on localhost train with MultiWorkerMirroredStrategy (TF_CONFIG) and agree."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HELPERS = Path(__file__).with_name("training_helpers.py")


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("localhost", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.mark.slow
def test_two_workers_finish_and_agree_on_weights(tmp_path: Path) -> None:
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    procs = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
                   CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="2")
        out = tmp_path / f"w{index}"
        out.mkdir()
        procs.append(subprocess.Popen([sys.executable, str(HELPERS), "worker", str(out)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    logs = []
    try:
        for proc in procs:
            logs.append(proc.communicate(timeout=240)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, log in zip(procs, logs, strict=True):
        assert proc.returncode == 0, log[-3000:]
    results = [np.load(tmp_path / f"w{i}" / f"weights-{i}.npz") for i in range(2)]
    assert [str(r["strategy"]) for r in results] == ["multi_worker", "multi_worker"]
    assert [int(r["replicas"]) for r in results] == [2, 2]
    assert [bool(r["chief"]) for r in results] == [True, False]
    assert int(results[0]["steps"]) == int(results[1]["steps"]) > 0
    names = sorted(k for k in results[0].files if k.startswith("arr_"))
    assert names
    for name in names:
        np.testing.assert_allclose(results[0][name], results[1][name], rtol=0, atol=1e-6)
    chief_runs = list((tmp_path / "w0").glob("worker0-*"))
    assert len(chief_runs) == 1 and (chief_runs[0] / "checkpoints" / "last.keras").is_file()
    other_runs = list((tmp_path / "w1").glob("worker1-*"))
    assert not list(other_runs[0].glob("checkpoints/*.keras"))  # only the chief writes checkpoints
