"""``cellwright predict``: run a trained model on images of any size and write masks, labels, tables or CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "predict"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        NAME, help="Predict new images with a trained model (run folder, .keras file or bundle .zip).",
        description="Writes per image: <name>_mask.tif (segmentation), <name>_labels.tif + "
        "<name>_objects.csv (instance segmentation; all objects also in objects.csv), <name>_restored.tif "
        "(image-to-image), or predictions.csv (classification); <name>_prob.tif with --probabilities. TIFFs keep "
        "the input's pixel size. Images that fit in memory go through the network in one piece, larger ones in "
        "tiles. Files that cannot be predicted are skipped and listed (exit code 1); the tables are written for "
        "the others.",
    )
    parser.add_argument("model", type=Path, help="Run folder, .keras file next to its recipe.yaml, or bundle .zip.")
    parser.add_argument("images", type=Path, nargs="+", help="Image files and/or folders of images.")
    parser.add_argument("--out", type=Path, required=True, help="Output folder.")
    parser.add_argument("--force", action="store_true", help="Overwrite outputs that already exist.")
    parser.add_argument("--channel", action="append", metavar="NAME_OR_NUMBER", dest="channels",
                        help="Channel to feed the model, by name or number (repeat for several, in the model's "
                        "order); overrides the recipe's data.channels. E.g. --channel green for an RGB image.")
    parser.add_argument("--project", choices=("max", "mean"),
                        help="Project z-stacks to one plane (maximum or mean) for models trained on 2D images.")
    parser.add_argument("--diameter", type=float, metavar="PX",
                        help="Typical diameter of the objects in these images, in pixels, for models trained with "
                        "preprocess.object_diameter: the images are rescaled so objects match the training size "
                        "(default: the training images' diameter).")
    parser.add_argument("--probabilities", action="store_true",
                        help="Also write the probability maps (<name>_prob.tif, float32; large files).")
    parser.add_argument("--shape-measurements", action="store_true",
                        help="Also measure each object's perimeter and solidity (slow on large images).")
    parser.add_argument("--engine", choices=("auto", "onnx", "keras"), default="auto",
                        help="What runs the network: auto (default) uses the run's ONNX copy (model.onnx, written "
                        "by train and export) when it was made from the current checkpoint, so TensorFlow is not "
                        "started, else Keras; onnx insists on the copy; keras never uses it.")
    parser.add_argument("--events", action="store_true", help="Print progress as JSON lines (for the GUI).")
    parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from builder.cli.output import emit_json, say
    from builder.events import json_lines_sink
    from builder.workflow.model_source import open_model_source
    from builder.workflow.onnx_cache import refresh_after_keras
    from builder.workflow.predict_inputs import collect_inputs
    from builder.workflow.predict_job import engine_line, predict_paths

    events = json_lines_sink() if args.events else None
    collect_inputs(args.images)  # inputs are checked before the (slow) model load
    source = open_model_source(args.model, engine=args.engine)
    summary = predict_paths(source, args.images, args.out, events=events, force=args.force,
                            channels=args.channels, project=args.project, diameter=args.diameter,
                            probabilities=args.probabilities, shape_measurements=args.shape_measurements,
                            engine=args.engine)
    if args.json:
        emit_json(summary)
    elif not args.events:
        say(f"{summary['task']}: {summary['n_images']} image(s) predicted into {summary['out_dir']}")
        for row in summary["images"]:
            extra = (f" -> {row['class']} ({row['probability']:.2f})" if "class" in row else
                     f" -> {row['objects']} objects" if "objects" in row else "")
            say(f"  {Path(row['file']).name}{extra}")
        for warning in summary["warnings"]:
            say(f"warning: {warning['where']}: {warning['what']}\n    fix: {warning['fix']}")
        skipped = summary["skipped"]
        if skipped:
            say(f"\n{len(skipped)} file(s) skipped:")
            for entry in skipped:
                say(f"  {entry['file']}: {entry['what']}\n    fix: {entry['fix']}")
        say(engine_line(source))
    copy = refresh_after_keras(source, events)  # TensorFlow was loaded: next time, start without it
    if copy is not None and not args.events and not args.json:
        say(f"ONNX copy of the model: {copy.reason}.")
    return 1 if summary["skipped"] else 0
