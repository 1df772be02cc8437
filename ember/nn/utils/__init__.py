"""ember.nn.utils: gradient clipping, parameter/vector conversion, parametrizations, weight and
spectral normalization, and (``ember.nn.utils.rnn``) packed sequences."""

from __future__ import annotations

import importlib

from . import parametrizations, parametrize
from .clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grads_with_norm_", "clip_grad_value_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "parametrizations",
           "parametrize", "remove_spectral_norm", "remove_weight_norm", "rnn", "spectral_norm",
           "weight_norm"]


def __getattr__(name: str):
    # rnn.py is imported on first use (``ember.nn.utils.rnn.pad_sequence``), so that it may
    # import nn modules that import this package.
    if name == "rnn":
        return importlib.import_module(".rnn", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
