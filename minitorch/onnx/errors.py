"""minitorch.onnx.errors: the exporter's exception types, as torch.onnx.errors."""
from ._trace import OnnxExporterError, UnsupportedOperatorError  # noqa: F401

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]
