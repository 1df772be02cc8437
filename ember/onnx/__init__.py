"""ONNX interchange: ``ember.onnx.export`` writes a model as ONNX, ``ember.onnx.load`` runs
an ONNX model with ember ops.

The ``onnx`` package is imported lazily (on first use), so ``import ember`` and
``import ember.onnx`` work without it.
"""

from __future__ import annotations

from .exporter import TrainingMode, UnsupportedOperatorError, export  # noqa: F401
from .importer import OnnxModule, load, supported_ops

__all__ = ["export", "load", "OnnxModule", "supported_ops"]
