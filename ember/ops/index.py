"""Indexing: __getitem__/__setitem__ (basic and advanced), gather, scatter, index_select, ..."""

from __future__ import annotations

import builtins

import numpy as np

from .._dispatch import Op, apply, apply_inplace
from .._tensor import Tensor

__all__ = ["getitem", "setitem"]


# -- index normalisation -----------------------------------------------------------------------

def _convert_index(index, xp):
    """(index for the backend, is_basic). Tensors and lists become backend arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    basic = True
    for item in index:
        if isinstance(item, Tensor):
            arr = item._data
            if arr.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 f"tensors (got {item.dtype})")
            if arr.ndim == 0 and arr.dtype.kind in "iu":
                out.append(int(arr))
                continue
            if type(arr) is not np.ndarray and xp is np:
                raise RuntimeError("indices should be either on cpu or on the same device as "
                                   "the indexed tensor (cpu)")
            out.append(xp.asarray(arr) if xp is not np else arr)
            basic = False
        elif isinstance(item, (list, np.ndarray)) or (
                hasattr(item, "__cuda_array_interface__") and not isinstance(item, slice)):
            arr = np.asarray(item) if isinstance(item, list) else item
            if isinstance(item, list) and any(isinstance(x, Tensor) for x in item):
                arr = np.asarray([int(x) for x in item])
            if arr.dtype.kind == "f" and arr.size == 0:
                arr = arr.astype(np.int64)
            if arr.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 f"tensors (got {arr.dtype})")
            out.append(xp.asarray(arr))
            basic = False
        elif isinstance(item, builtins.bool):
            out.append(xp.asarray(item))
            basic = False
        elif item is None or item is Ellipsis or isinstance(item, slice):
            if isinstance(item, slice):
                item = slice(*(_slice_part(v) for v in (item.start, item.stop, item.step)))
                if item.step is not None and item.step <= 0:
                    raise ValueError("step must be greater than zero")
            out.append(item)
        elif hasattr(item, "__index__"):
            out.append(int(item.__index__()))
        else:
            raise IndexError(f"only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(item).__name__})")
    return tuple(out), basic


def _slice_part(v):
    if v is None:
        return None
    if isinstance(v, Tensor):
        return int(v.item())
    return int(v.__index__())


def _check_bounds(shape, index):
    """IndexError like PyTorch's for integer indices out of range."""
    dim = 0
    n_explicit = builtins.sum(1 for i in index if i is not None and i is not Ellipsis and
                              not (hasattr(i, "dtype") and i.dtype == bool and i.ndim == 0))
    for item in index:
        if item is Ellipsis:
            dim += len(shape) - n_explicit
            continue
        if item is None:
            continue
        if isinstance(item, int):
            if dim >= len(shape):
                raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
            if not -shape[dim] <= item < shape[dim]:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        elif hasattr(item, "dtype") and item.dtype == bool:
            dim += item.ndim
            continue
        elif hasattr(item, "dtype") and item.size and dim < len(shape):
            lo, hi = int(item.min()), int(item.max())
            if hi >= shape[dim] or lo < -shape[dim]:
                bad = hi if hi >= shape[dim] else lo
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]}")
        dim += 1
    if dim > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")


class GetItemView(Op):
    """x[index] with basic indexing (ints, slices, None, ...): a view."""
    name = "getitem"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return apply(IndexGrad, grad, shape=ctx.in_shapes[0], index=ctx.index, accumulate=False)


class GetItem(Op):
    """x[index] with advanced indexing (integer or bool arrays): a copy."""
    name = "index"

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        return apply(IndexGrad, grad, shape=ctx.in_shapes[0], index=ctx.index, accumulate=True)


class IndexGrad(Op):
    """zeros(shape) with grad placed (summed where indices repeat) at index."""
    name = "index_backward"

    @staticmethod
    def forward(ctx, grad, *, shape, index, accumulate):
        ctx.index = index
        xp = ctx.xp
        out = xp.zeros(shape, dtype=grad.dtype)
        if accumulate:
            _add_at(xp, out, index, grad)
        else:
            out[index] = grad
        return out

    @staticmethod
    def backward(ctx, grad):
        return apply(GetItem, grad, index=ctx.index)


def _add_at(xp, out, index, values):
    if xp is np:
        np.add.at(out, index, values)
    else:
        import cupyx
        cupyx.scatter_add(out, index, values)


def getitem(input, index):
    """input[index] with PyTorch's (NumPy's) basic and advanced indexing rules."""
    xp = np if type(input._data) is np.ndarray else _xp(input)
    idx, basic = _convert_index(index, xp)
    _check_bounds(input._data.shape, idx)
    if basic:
        return apply(GetItemView, input, index=idx)
    return apply(GetItem, input, index=idx)


def _xp(t):
    from .._device import xp_of
    return xp_of(t._data)


class IndexPut(Op):
    """x[index] = values (values broadcast to the indexed shape)."""
    name = "index_put"

    @staticmethod
    def forward(ctx, x, values, *, index, accumulate=False):
        ctx.index = index
        ctx.accumulate = accumulate
        out = x.copy()
        _put(ctx.xp, out, index, values, accumulate)
        return out

    @staticmethod
    def forward_inplace(ctx, x, values, *, index, accumulate=False):
        _put(ctx.xp, x, index, values, accumulate)

    @staticmethod
    def backward(ctx, grad):
        from ._broadcast import sum_to
        need = ctx.needs_input_grad
        gx = gv = None
        if need[0]:
            gx = grad if ctx.accumulate else apply(IndexPut, grad, 0.0, index=ctx.index)
        if need[1]:
            gv = sum_to(apply(GetItem, grad, index=ctx.index), ctx.in_shapes[1])
        return gx, gv


def _put(xp, out, index, values, accumulate):
    if hasattr(values, "dtype") and values.dtype != out.dtype:
        values = values.astype(out.dtype)
    try:
        if accumulate:
            _add_at(xp, out, index, values)
        else:
            out[index] = values
    except ValueError as e:
        raise RuntimeError(f"index_put: shape mismatch: value tensor of shape "
                           f"{tuple(getattr(values, 'shape', ()))} cannot be broadcast to the "
                           f"indexed shape ({e})") from None


def setitem(input, index, value):
    """input[index] = value, in place (recorded for autograd)."""
    xp = np if type(input._data) is np.ndarray else _xp(input)
    idx, basic = _convert_index(index, xp)
    _check_bounds(input._data.shape, idx)
    if isinstance(value, Tensor) and type(value._data) is not type(input._data):
        if value._data.ndim == 0:
            value = value.to(input.device)
        else:
            raise RuntimeError(f"setitem: value on {value.device} but tensor on {input.device}")
    if basic:
        from .creation import copy_
        target = apply(GetItemView, input, index=idx)
        if target._data.ndim == input._data.ndim and target._data.shape == input._data.shape \
                and all(isinstance(i, slice) and i == slice(None) for i in idx):
            target = input
        copy_(target, value)
        return
    apply_inplace(IndexPut, input, value, index=idx)


TENSOR_METHODS = {}
