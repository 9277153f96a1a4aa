"""``cellwright export``: write a trained model as a bundle, a bioimage.io package, ONNX or a SavedModel."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

NAME = "export"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Export a trained model (Cellwright bundle, bioimage.io, ONNX, SavedModel).",
        description="Export a run folder (its best checkpoint and recipe) or a .keras file with --recipe. "
        "Every export is re-run on a test input and compared with the Keras model.",
    )
    parser.add_argument("source", type=Path, help="Run folder or .keras model file.")
    parser.add_argument("--format", dest="formats", action="append", choices=_FormatChoices(),
                        help="Format to write; repeat for several (default: bundle).")
    parser.add_argument("--out", type=Path, default=None, help="Output folder (default: the run's exports folder "
                        "or .).")
    parser.add_argument("--recipe", type=Path, default=None, help="Recipe the model was trained with.")
    parser.add_argument("--test-input", type=Path, default=None,
                        help="Test image as the microscope gives it (.tif or .npy, Y,X[,C] or B,Y,X,C), normalised "
                        "the way the model was trained; a run folder's own validation image is used if missing.")
    parser.add_argument("--size-multiple", type=int, default=None,
                        help="Input Y/X must be a multiple of this (the network's total downsampling; a run "
                        "folder knows it, default 1 for a bare .keras file).")
    parser.add_argument("--tolerance", type=float, default=None, help="Largest allowed output difference.")
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    parser.set_defaults(func=run)


class _FormatChoices:
    """``--format`` choices read from the export registry when argparse first asks (keeps ``--help`` cheap)."""

    def _names(self) -> list[str]:
        from builder.export_registry import format_names

        return format_names()

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())


def run(args: argparse.Namespace) -> int:
    from builder.cli.output import warn
    from builder.export.api import export_model, find_source, recipe_tolerance, synthetic_test_input
    from builder.export.metadata import metadata_from_recipe
    from builder.model_files.safe_import import load_keras_safely

    source = find_source(args.source, args.recipe)
    raw = _read_test_image(args.test_input) if args.test_input is not None else None
    formats = args.formats or list((source.recipe.get("export") or {}).get("formats") or ["bundle"])
    if source.run is not None and source.run.state_path.is_file():
        # a run folder: its own test image, statistics, tuned thresholds and size multiple
        from builder.workflow.export_job import export_run

        results = export_run(args.source, formats=formats, out_dir=args.out, tolerance=args.tolerance,
                             raw_test_input=raw, size_multiple=args.size_multiple)
        return _print(results, args.json)
    model = load_keras_safely(source.model_path)
    metadata = metadata_from_recipe(source.recipe, size_multiple=args.size_multiple or _recipe_factor(source.recipe))
    if raw is not None:
        metadata.raw_test_input = raw
    else:
        warn("No --test-input given: checking the export on a synthetic image (conversion check only).")
        metadata.test_input = synthetic_test_input(model, metadata.normalization, size=64)
    tolerance = recipe_tolerance(source.recipe, args.tolerance)
    out = args.out or (source.run.exports_dir if source.run is not None else Path("."))
    results = export_model(model, metadata, out, formats, tolerance=tolerance, report=source.report)
    return _print(results, args.json)


def _read_test_image(path: Path) -> Any:
    """A raw test image as ``1,Y,X,C`` (or ``B,Y,X,C`` from a 4-D .npy) float32."""
    import numpy as np

    from builder.model_files.safe_import import load_array

    if path.suffix.lower() == ".npy":
        array = load_array(path)
    else:
        from builder.data.readers import read_image

        image = read_image(path)
        array = image.array if image.axes == "YXC" else image.array[0]
    array = np.asarray(array, np.float32)
    if array.ndim == 2:
        array = array[..., None]
    return array[None] if array.ndim == 3 else array


def _recipe_factor(recipe: dict) -> int:
    """The network's down-sampling factor from the recipe (1 when the recipe cannot say)."""
    from builder.errors import CellwrightError
    from builder.recipe import recipe_from_dict

    try:
        return int(recipe_from_dict(recipe).model.downsampling_factor())
    except (CellwrightError, ValueError, KeyError):
        return 1


def _print(results: list, as_json: bool) -> int:
    from builder.cli.output import emit_json, say

    if as_json:
        emit_json(results)
        return 0
    for result in results:
        say(f"{result['format']}: {result['path']}")
        for check in result["checks"]:
            diff, tol = check["max_abs_diff"], check["tolerance"]
            say(f"  {check['format']}: max |difference| = {diff:.3g} (tolerance {tol:g})")
        if "status" in result:
            say(f"  {result['format']} validation: {result['status']} ({len(result.get('warnings') or [])} warnings)")
        for line in result.get("warnings") or []:
            say(f"    warning: {line}")
        if result.get("consumers"):
            from builder.export.bioimageio import consumers_table

            say("  " + consumers_table().replace("\n", "\n  "))
    return 0
