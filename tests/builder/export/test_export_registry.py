"""The export registry: one tiny format registered here shows up everywhere formats are listed or used.

This is the proof that a new format is one module (its ``@register_format`` writer) plus its test: the
format below is declared only in this file, yet the CLI, the recipe schema, the export job and the
run-folder export all offer and write it.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from builder.errors import ExportError
from builder.export_registry import (
    ExportRequest,
    FormatResult,
    all_formats,
    format_names,
    get_format,
    register_format,
    unregister_format,
)
from builder.run_folder import RunFolder

RECIPE = {"name": "reg-run", "task": "segmentation",
          "data": {"root": "data", "images": "images", "masks": "masks", "channels": ["DAPI", "GFP"],
                   "classes": ["background", "fg", "edge"]}}


@pytest.fixture()
def npy_format():
    """A format that saves the model's output on the test input as ``.npy`` and re-checks it from the file."""

    def write(request: ExportRequest) -> FormatResult:
        from builder.model_files.verify import compare, keras_reference

        reference = keras_reference(request.model, request.test_input)
        request.path.parent.mkdir(parents=True, exist_ok=True)
        np.save(request.path, reference, allow_pickle=False)
        reloaded = np.load(request.path, allow_pickle=False)
        return FormatResult([compare("npy_output", request.path, reference, reloaded, request.tolerance)],
                            {"note": "outputs only"})

    register_format("npy_output", label="Model outputs as NumPy (test only)", suffix=".out.npy", order=99)(write)
    yield "npy_output"
    unregister_format("npy_output")


def test_builtin_formats_in_display_order():
    assert format_names()[:4] == ["bundle", "bioimageio", "onnx", "savedmodel"]
    assert get_format("onnx").suffix == ".onnx" and "tf2onnx" in get_format("onnx").needs


def test_new_format_appears_in_cli_choices_schema_and_recipe(npy_format):
    from builder.cli.main import build_parser
    from builder.recipe import recipe_from_dict
    from builder.recipe.json_schema import recipe_json_schema

    export_parser = build_parser()._subparsers._group_actions[0].choices["export"]
    action = next(a for a in export_parser._actions if a.dest == "formats")
    assert npy_format in list(action.choices) and npy_format in export_parser.format_help()
    schema = recipe_json_schema()
    assert npy_format in schema["$defs"]["ExportSection"]["properties"]["formats"]["items"]["enum"]
    recipe = recipe_from_dict({**RECIPE, "export": {"formats": ["bundle", npy_format]}})
    assert recipe.export.formats == ["bundle", npy_format]


def test_new_format_is_written_by_the_run_export_job(npy_format, tmp_path, seg_model):
    from builder.workflow.export_job import export_run

    run = RunFolder(tmp_path / "reg-run-20250101-000000")
    run.checkpoints_dir.mkdir(parents=True)
    seg_model.save(run.best_checkpoint)
    run.recipe_path.write_text(yaml.safe_dump(RECIPE), encoding="utf-8")
    run.write_test_input(np.random.default_rng(0).random((1, 16, 16, 2)).astype(np.float32))
    results = export_run(run.path, formats=[npy_format])
    assert [r["format"] for r in results] == [npy_format] and results[0]["note"] == "outputs only"
    written = run.exports_dir / "reg-run.out.npy"
    assert results[0]["path"] == str(written) and np.load(written).shape == (1, 16, 16, 3)
    assert results[0]["checks"][0]["max_abs_diff"] == 0.0
    assert results[0]["checks"][0]["tolerance"] == 1e-4  # the one default, from the recipe schema


def test_unknown_duplicate_and_unchecked_formats_are_refused(npy_format, tmp_path, seg_model):
    from builder.export.api import export_model
    from builder.export.metadata import metadata_from_recipe
    from builder.recipe import recipe_from_dict

    with pytest.raises(ExportError) as caught:
        get_format("onxx")
    assert "Expected one of bundle, bioimageio, onnx, savedmodel, npy_output" in caught.value.what
    assert "did you mean 'onnx'?" in caught.value.what
    with pytest.raises(ValueError, match="registered twice"):
        register_format(npy_format, label="again", suffix=".x")(lambda request: FormatResult([]))
    with pytest.raises(ValueError, match="Expected lower-case letters"):
        register_format("Bad Name", label="x", suffix=".x")
    with pytest.raises(Exception, match="did you mean 'bundle'"):
        recipe_from_dict({**RECIPE, "export": {"formats": ["bundel"]}})

    register_format("unchecked", label="Writes without re-running", suffix=".txt")(
        lambda request: FormatResult([]))
    register_format("needs_missing", label="Needs a package that is absent", suffix=".txt",
                    needs=("cellwright_no_such_package",))(lambda request: FormatResult([]))
    try:
        metadata = metadata_from_recipe(RECIPE, test_input=np.zeros((1, 8, 8, 2), np.float32))
        with pytest.raises(ExportError, match="returned no check"):
            export_model(seg_model, metadata, tmp_path / "out", ["unchecked"])
        with pytest.raises(ExportError, match="cellwright_no_such_package") as missing:
            export_model(seg_model, metadata, tmp_path / "out2", ["needs_missing"])
        assert not (tmp_path / "out2").exists()  # refused before anything was written
        assert missing.value.where == "--format needs_missing"
    finally:
        unregister_format("unchecked")
        unregister_format("needs_missing")
    assert "unchecked" not in all_formats()
