"""Reductions: sum, mean, ... with ``dim`` (int or tuple) and ``keepdim``."""

from __future__ import annotations

import builtins

from .. import _dtype as D
from .._dispatch import Op, apply
from .._errors import wrap_dim

__all__ = ["sum", "mean"]


def _dims(op: str, dim, ndim: int):
    """Normalised tuple of dims, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        dims = tuple(wrap_dim(op, d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{op}: dim {dims} appears multiple times in the list of dims")
        return dims
    return (wrap_dim(op, dim, ndim),)


def _expand_back(grad, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if not keepdim and dims is not None and grad._data.ndim != len(shape):
        kept = [1 if i in dims else s for i, s in enumerate(shape)]
        grad = grad.reshape(kept)
    elif not keepdim and dims is None:
        grad = grad.reshape((1,) * len(shape))
    return grad.expand(shape)


class Sum(Op):
    name = "sum"

    @staticmethod
    def forward(ctx, x, *, dims, keepdim, dtype):
        ctx.dims, ctx.keepdim = dims, keepdim
        axis = dims
        if dtype is None and x.dtype.kind in "biu":
            dtype = D.int64.np
        if x.ndim == 0:
            out = x.astype(dtype or x.dtype, copy=True)
            return out
        return ctx.xp.sum(x, axis=axis, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shapes[0], ctx.dims, ctx.keepdim)


class Mean(Op):
    name = "mean"

    @staticmethod
    def forward(ctx, x, *, dims, keepdim, dtype):
        ctx.dims, ctx.keepdim = dims, keepdim
        if dtype is None and x.dtype.kind not in "fcV":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {D.from_numpy_dtype(x.dtype).name.capitalize()}")
        if x.ndim == 0:
            return x.astype(dtype or x.dtype, copy=True)
        out = ctx.xp.mean(x, axis=dims, keepdims=keepdim, dtype=dtype)
        return out.astype(dtype or x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.in_shapes[0]
        n = 1
        for i, s in enumerate(shape):
            if ctx.dims is None or i in ctx.dims:
                n *= s
        return _expand_back(grad / n, shape, ctx.dims, ctx.keepdim)


def _reduce(op, input, dim, keepdim, dtype):
    dims = _dims(op.name, dim, input._data.ndim)
    npd = D.to_dtype(dtype).np if dtype is not None else None
    return apply(op, input, dims=dims, keepdim=keepdim, dtype=npd)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements over dim (all when None); integers and bools sum to int64."""
    from .elementwise import _out
    return _out(_reduce(Sum, input, dim, keepdim, dtype), out)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over dim (all when None); needs a floating or complex input (or dtype=)."""
    from .elementwise import _out
    return _out(_reduce(Mean, input, dim, keepdim, dtype), out)


TENSOR_METHODS = {"sum": sum, "mean": mean}
_builtins = builtins
