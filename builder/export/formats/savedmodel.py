"""TensorFlow SavedModel folder with a ``serving_default`` signature."""

from __future__ import annotations

from builder.export_registry import ExportRequest, FormatResult, register_format


@register_format("savedmodel", label="TensorFlow SavedModel", suffix="_savedmodel", needs=("tensorflow",),
                 order=40)
def write(request: ExportRequest) -> FormatResult:
    """Write the SavedModel and reload it to call its serving signature."""
    from builder.export.bioimageio_descr import INPUT_ID, OUTPUT_ID
    from builder.export.savedmodel import write_savedmodel

    check = write_savedmodel(request.model, request.path, test_input=request.test_input, input_name=INPUT_ID,
                             output_name=OUTPUT_ID, tolerance=request.tolerance)
    return FormatResult([check])
