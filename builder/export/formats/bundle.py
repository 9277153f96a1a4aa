"""The Cellwright bundle: model, recipe, test data, report and checksums in one ``.cellwright.zip``."""

from __future__ import annotations

from builder.export_registry import ExportRequest, FormatResult, register_format


@register_format("bundle", label="Cellwright bundle (model + recipe + report; opens in Cellwright)",
                 suffix=".cellwright.zip", needs=("keras",), order=10)
def write(request: ExportRequest) -> FormatResult:
    """Write the bundle and re-open its model to compare it with the Keras model."""
    from builder.export.bundle import write_bundle

    check = write_bundle(request.model, request.metadata, request.path, report=request.report,
                         tolerance=request.tolerance, companions=request.companions, onnx_copy=request.onnx_copy)
    return FormatResult([check])
