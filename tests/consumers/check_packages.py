"""Run the outside consumers on Cellwright's packages, in an environment WITHOUT Cellwright.

- ``bioimageio.core.test_model`` on every BioImage Model Zoo package, once per weights format it holds (it runs the
  package's raw test input through the declared preprocessing and compares with the test output, then tries
  larger inputs along the declared size steps);
- ``onnxruntime`` alone on every ONNX file, at three sizes (one square, two non-square) that follow the size
  multiple the file declares in its ``metadata_props``.

Usage: python check_packages.py OUT_DIR   (OUT_DIR/packages.json from make_packages.py)
Prints one line per package x weights format and exits 1 if any check did not pass.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WEIGHTS = ("keras_hdf5", "tensorflow_saved_model_bundle", "onnx")


def check_zoo(path: str) -> dict[str, str]:
    """``{weights format: status}`` from bioimageio.core for one package."""
    from bioimageio.core import test_model
    from bioimageio.spec import load_model_description

    present = load_model_description(path, perform_io_checks=False).weights
    statuses = {}
    for weights in WEIGHTS:
        if getattr(present, weights, None) is None:
            statuses[weights] = "not in package"
            continue
        summary = test_model(path, weight_format=weights)
        statuses[weights] = str(summary.status)
        if summary.status != "passed":
            print(summary.format(), file=sys.stderr)
    return statuses


def check_onnx(path: str) -> dict[str, str]:
    """``{size: "ok" | error}`` from onnxruntime at three sizes built from the declared size multiple."""
    import numpy as np
    import onnx
    import onnxruntime

    graph = onnx.load(path)
    props = {p.key: p.value for p in graph.metadata_props}
    step = int(props.get("cellwright.size_multiple", "1"))
    dims = graph.graph.input[0].type.tensor_type.shape.dim
    fixed = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    base = step * max(1, -(-16 // step))  # the smallest multiple of the step that is at least 16
    sizes = [(base * 2, base * 2), (base * 2, base * 3), (base * 5, base)]
    if fixed[1] is not None:  # a fixed-size input (classifier): that size only, three batch sizes
        sizes = [(fixed[1], fixed[2])] * 3
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    results = {}
    for batch, (y, x) in enumerate(sizes, start=1):
        image = np.random.default_rng(batch).random((batch, y, x, fixed[3])).astype(np.float32)
        try:
            (out,) = session.run(None, {name: image})
            ok = out.shape[0] == batch and bool(np.isfinite(out).all())
            results[f"{batch}x{y}x{x}"] = "ok" if ok else f"bad output {out.shape}"
        except Exception as exc:  # any runtime failure is a failed check
            results[f"{batch}x{y}x{x}"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return results


def main(out: Path) -> int:
    import importlib.util

    if importlib.util.find_spec("builder") is not None:
        print("Cellwright is importable here: run this check in an environment without it.", file=sys.stderr)
        return 2
    packages = json.loads((out / "packages.json").read_text())
    for entry in packages:  # absolute, before moving to a scratch folder
        entry["path"] = str(Path(entry["path"]).resolve())
    # bioimageio.core unpacks SavedModel weights into the working folder: keep that out of the checkout.
    import os
    import tempfile

    os.chdir(tempfile.mkdtemp(prefix="cellwright-consumer-"))
    failed = 0
    for entry in packages:
        if entry["format"] == "bioimageio":
            statuses = check_zoo(entry["path"])
            failed += sum(s not in ("passed", "not in package") for s in statuses.values())
            print(f"bioimageio.core  {entry['case']:<22} " + "  ".join(f"{k}: {v}" for k, v in statuses.items()))
        elif entry["format"] == "onnx":
            results = check_onnx(entry["path"])
            failed += sum(r != "ok" for r in results.values())
            print(f"onnxruntime      {entry['case']:<22} " + "  ".join(f"{k}: {v}" for k, v in results.items()))
    print("ALL PASSED" if not failed else f"{failed} CHECK(S) FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
