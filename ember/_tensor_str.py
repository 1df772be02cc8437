"""Tensor repr like PyTorch's: ``tensor([[1., 2.]], requires_grad=True)``."""

from __future__ import annotations

import numpy as np

from . import _dtype as D


def _host(t):
    a = t._data if type(t._data) is np.ndarray else t._data.get()
    if a.dtype == D.bfloat16.np or a.dtype == np.float16:
        a = a.astype(np.float32)
    return a


def tensor_repr(t) -> str:
    a = _host(t)
    if a.dtype.kind == "f":
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4,
                               floatmode="maxprec_equal" if False else "maxprec")
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(")
    extras = []
    dt = t.dtype
    if dt not in (D.int64, D.bool) and dt is not D.get_default_dtype():
        extras.append(f"dtype={dt}")
    if a.size == 0 and a.ndim != 1:
        extras.insert(0, f"size={tuple(a.shape)}")
    if t.is_cuda:
        extras.insert(0, f"device='{t.device}'")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
