"""ONNX: runs in many tools without TensorFlow."""

from __future__ import annotations

from builder.export_registry import ExportRequest, FormatResult, register_format


@register_format("onnx", label="ONNX (runs in many tools without TensorFlow)", suffix=".onnx",
                 needs=("tf2onnx", "onnx", "onnxruntime"), order=30)
def write(request: ExportRequest) -> FormatResult:
    """Convert the model and re-run the ``.onnx`` file with onnxruntime."""
    from builder.export.bioimageio_descr import INPUT_ID, OUTPUT_ID
    from builder.export.onnx import write_onnx

    check = write_onnx(request.model, request.path, test_input=request.test_input, input_name=INPUT_ID,
                       output_name=OUTPUT_ID, tolerance=request.tolerance, metadata=request.metadata)
    return FormatResult([check])
