"""``cellwright export`` on a run folder and ``cellwright import`` of the result, through the real CLI."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import yaml

from builder.cli.main import main

RECIPE = {
    "name": "cli-run", "task": "segmentation",
    "data": {"channels": ["DAPI", "GFP"], "classes": ["background", "fg", "edge"], "pixel_size": 0.5},
    "preprocess": {"normalize": {"method": "percentile", "low": 1.0, "high": 99.8}},
    "export": {"formats": ["bundle"], "license": "MIT", "authors": [{"name": "Grace Hopper"}]},
}


def test_export_run_folder_then_import(tmp_path, seg_model, capsys):
    run = tmp_path / "runs" / "cli-run-20250101-000000"
    (run / "checkpoints").mkdir(parents=True)
    seg_model.save(run / "checkpoints" / "best.keras")
    (run / "recipe.yaml").write_text(yaml.safe_dump(RECIPE))
    np.save(tmp_path / "x.npy", np.random.default_rng(1).random((32, 32, 2)).astype(np.float32))
    code = main(["export", str(run), "--format", "bundle", "--format", "onnx", "--test-input",
                 str(tmp_path / "x.npy"), "--json"])
    assert code == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["format"] for r in results] == ["bundle", "onnx"]
    bundle = run / "exports" / "cli-run.cellwright.zip"
    assert bundle.is_file() and (run / "exports" / "cli-run.onnx").is_file()
    with zipfile.ZipFile(bundle) as archive:
        meta = json.loads(archive.read("metadata.json"))
    assert meta["license"] == "MIT" and meta["channel_names"] == ["DAPI", "GFP"] and meta["pixel_size"] == 0.5

    assert main(["import", str(bundle), "--to", str(tmp_path / "lib" / "m")]) == 0
    assert (tmp_path / "lib" / "m" / "model.keras").is_file()
    assert "unpacked to" in capsys.readouterr().out


def test_import_of_tampered_bundle_exits_with_user_error(tmp_path, seg_bundle, capsys):
    with zipfile.ZipFile(seg_bundle) as zin, zipfile.ZipFile(tmp_path / "t.zip", "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, data.replace(b"shared", b"sharez") if info.filename == "recipe.yaml" else data)
    assert main(["import", str(tmp_path / "t.zip"), "--check-only"]) == 2
    assert "Checksum mismatch: recipe.yaml" in capsys.readouterr().err
