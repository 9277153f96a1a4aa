"""The BioImage Model Zoo package (deepImageJ, ilastik, QuPath, bioimageio.core)."""

from __future__ import annotations

from builder.export_registry import ExportRequest, FormatResult, register_format


@register_format("bioimageio", label="BioImage Model Zoo package (deepImageJ, ilastik, QuPath…)",
                 suffix=".bioimageio.zip", needs=("bioimageio.spec", "tensorflow", "tf2onnx", "onnxruntime"),
                 order=20)
def write(request: ExportRequest) -> FormatResult:
    """Write the package with Keras, SavedModel and ONNX weights; each is re-run, then the package validated."""
    from builder.export.bioimageio import CONSUMERS, write_bioimageio

    zoo = write_bioimageio(request.model, request.metadata, request.path, tolerance=request.tolerance)
    return FormatResult(zoo.checks, {"status": zoo.status, "warnings": zoo.warnings, "consumers": CONSUMERS})
