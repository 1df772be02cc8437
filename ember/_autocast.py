"""Autocast's state and cast policies (the public API is ``ember.amp``).

An op that autocast affects is decorated with its policy where it is defined:

- ``lower``: matmul-like ops (linear, matmul, conv, attention, RNN cells and layers) run in
  the region's dtype (float16/bfloat16): their floating inputs are cast to it;
- ``fp32``: ops that need range or accuracy (losses, softmax and norms on CUDA, ...) run in
  float32: their float16/bfloat16 inputs are cast up;
- ``promote``: mixed floating inputs are cast to the widest of them.

As in PyTorch, only floating tensors on the region's device type are cast, float64 is left
alone, and the casts are ordinary differentiable ``to`` calls, so backward runs each op in the
dtype its forward used. Backward itself runs with autocast off (the engine clears ``state.dtypes``).
Outside any region, a decorated op costs one list read. Unlike PyTorch, casts of weights are
not cached within a region (each use casts again).
"""

from __future__ import annotations

import functools
import threading

from . import _dtype as D

# Number of autocast regions enabled in any thread: the cheap "is anything on?" test.
active = [0]


class _State(threading.local):
    # device type -> the dtype of the enabled region in this thread (absent: disabled)
    def __init__(self):
        self.dtypes = {}


state = _State()

# Ops whose policy applies on CUDA only (PyTorch's CPU and CUDA lists differ: under CPU
# autocast softmax, layer_norm, ... keep their input's dtype, the fused LSTM and GRU cells run
# in float32, and mixed inputs to dot are an error).
_CUDA_ONLY = frozenset({"softmax", "log_softmax", "layer_norm", "group_norm", "cumsum",
                        "cumprod", "cosine_similarity", "lstm_cell", "gru_cell"})


def _device_type(args, kwargs):
    from ._tensor import Tensor
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor):
            return a.device.type
        if isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor):
                    return b.device.type
    return None


def _cast_all(value, to, device_type, only_half=False):
    from ._tensor import Tensor
    if isinstance(value, Tensor):
        d = value.dtype
        if (d.is_floating_point and d is not D.float64 and d is not to
                and value.device.type == device_type
                and (not only_half or d in (D.float16, D.bfloat16))):
            return value.to(to)
        return value
    if type(value) in (list, tuple) and value and any(isinstance(v, Tensor) for v in value):
        return type(value)(_cast_all(v, to, device_type, only_half) for v in value)
    return value


def _widest(args, kwargs, device_type):
    from ._tensor import Tensor
    widest = None
    for a in (*args, *kwargs.values()):
        for t in (a if isinstance(a, (list, tuple)) else (a,)):
            if isinstance(t, Tensor) and t.dtype.is_floating_point \
                    and t.device.type == device_type:
                widest = t.dtype if widest is None else D.promote_types(widest, t.dtype)
    return widest


def policy(kind: str, name: str | None = None):
    """Decorate an op with its autocast policy: 'lower', 'fp32' or 'promote'."""
    def decorate(fn):
        op_name = name or fn.__name__
        cuda_only = kind == "promote" or op_name in _CUDA_ONLY

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if active[0]:
                dtypes = state.dtypes
                if dtypes:
                    dev = _device_type(args, kwargs)
                    region = dtypes.get(dev)
                    if region is not None and not (cuda_only and dev != "cuda"):
                        if kind == "lower":
                            to, only_half = region, False
                        elif kind == "fp32":
                            to, only_half = D.float32, True
                        else:
                            to, only_half = _widest(args, kwargs, dev), False
                        if to is not None:
                            args = tuple(_cast_all(a, to, dev, only_half) for a in args)
                            kwargs = {k: _cast_all(v, to, dev, only_half)
                                      for k, v in kwargs.items()}
            return fn(*args, **kwargs)

        wrapper.__wrapped__ = fn
        return wrapper
    return decorate
