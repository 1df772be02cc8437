"""Reductions, scans and sorting: sum, mean, prod, max, var, norm, logsumexp, cumsum, sort,
topk, median, mode, unique, bincount, histc, searchsorted, ...

Every reduction takes ``dim`` (an int, a tuple, or None for all dims) and ``keepdim`` where
PyTorch does. Ops that return values and indices return a namedtuple (``.values``,
``.indices``) like ``torch.return_types``. Indices are int64.
"""

from __future__ import annotations

import builtins
import collections
import math

import numpy as np

from .. import _dtype as D
from .._autocast import policy as _amp
from .._dispatch import Op, apply, apply_inplace
from .._errors import fmt_shape, wrap_dim
from ..backends.numpy_backend import errstate
from ._names import named

__all__ = ["sum", "nansum", "mean", "nanmean", "prod", "max", "min", "amax", "amin", "aminmax",
           "argmax", "argmin", "var", "std", "var_mean", "std_mean", "norm", "logsumexp",
           "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "all", "any",
           "count_nonzero", "topk", "kthvalue", "sort", "argsort", "msort", "median",
           "nanmedian", "mode", "unique", "unique_consecutive", "bincount", "histc", "diff",
           "searchsorted", "bucketize"]

_HALF = (np.dtype(np.float16), D.bfloat16.np)
_F32 = np.dtype(np.float32)


# -- return types ------------------------------------------------------------------------------

def _return_type(name: str, fields=("values", "indices")):
    """A namedtuple like torch.return_types.<name>: a tuple with named fields."""
    cls = collections.namedtuple(name, fields)

    def __repr__(self):
        inner = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"ember.return_types.{name}(\n{inner})"

    cls.__repr__ = __repr__
    cls.__module__ = "ember.return_types"
    return cls


_RT = {n: _return_type(n) for n in ("max", "min", "sort", "topk", "kthvalue", "median",
                                    "nanmedian", "mode", "cummax", "cummin")}
_RT["aminmax"] = _return_type("aminmax", ("min", "max"))


# -- dims and shapes ---------------------------------------------------------------------------

def _dims(op: str, dim, ndim: int):
    """Normalised tuple of dims, or None for all."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            return None
        dims = tuple(wrap_dim(op, d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            dup = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"{op}: dim {dup} appears multiple times in the list of dims")
        return dims
    return (wrap_dim(op, dim, ndim),)


def _kept_shape(shape, dims):
    return tuple(1 if dims is None or i in dims else s for i, s in enumerate(shape))


def _kept(t, shape, dims, keepdim):
    """A reduced tensor reshaped to keepdim form (size 1 in the reduced dims)."""
    if keepdim and t._data.ndim == len(shape):
        return t
    return t.reshape(_kept_shape(shape, dims))


def _expand_back(grad, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape (a view, no copy)."""
    return _kept(grad, shape, dims, keepdim).expand(shape)


def _count(shape, dims) -> int:
    n = 1
    for i, s in enumerate(shape):
        if dims is None or i in dims:
            n *= s
    return n


def _axis(dims, ndim):
    """NumPy axis for dims (None: all); a 0-d input reduces over nothing."""
    if ndim == 0:
        return None
    return dims


def _float_name(np_dtype) -> str:
    return D.from_numpy_dtype(np_dtype).name.capitalize()


_legacy = D.legacy_name


def _is_float(x) -> bool:
    return x.dtype.kind in "fcV"


_errstate = errstate


def _upcast(x):
    """float16/bfloat16 arrays computed in float32 (PyTorch accumulates them in float)."""
    return x.astype(_F32) if x.dtype in _HALF else x


def _check_nonempty(op: str, x, dims):
    if x.size:
        return
    if dims is None:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0. Specify the reduction dim with the 'dim' argument.")
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


# -- private index helpers (ops/index.py is extended elsewhere) ---------------------------------

def _full_index(xp, idx, dim):
    """An advanced index that addresses idx's positions, with idx itself along dim."""
    grids = []
    for i, n in enumerate(idx.shape):
        if i == dim:
            grids.append(idx)
            continue
        shape = [1] * idx.ndim
        shape[i] = n
        grids.append(xp.arange(n).reshape(shape))
    return tuple(grids)


class _TakeAlong(Op):
    """x gathered along dim at idx (idx has x's ndim): like take_along_dim."""
    name = "take_along_dim"

    @staticmethod
    def forward(ctx, x, idx, *, dim):
        ctx.dim = dim
        ctx.save(idx)
        return ctx.xp.take_along_axis(x, idx, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        return _put_along(grad, idx, ctx.dim, ctx.in_shapes[0], unique=False), None


class _PutAlong(Op):
    """zeros(shape) with g added at idx along dim (repeated indices accumulate)."""
    name = "scatter_add"

    @staticmethod
    def forward(ctx, g, idx, *, dim, shape, unique):
        xp = ctx.xp
        ctx.dim = dim
        ctx.save(idx)
        out = xp.zeros(shape, dtype=g.dtype)
        if unique:
            out[_full_index(xp, idx, dim)] = g
        else:
            xp.add.at(out, _full_index(xp, idx, dim), g)
        return out

    @staticmethod
    def backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        return apply(_TakeAlong, grad, idx, dim=ctx.dim), None


def _put_along(g, idx, dim, shape, unique):
    return apply(_PutAlong, g, idx, dim=dim, shape=tuple(shape), unique=unique)


def _flip(t, dim):
    from .shape import flip
    return flip(t, (dim,))


def _accumulate(xp, ufunc_name, x, axis):
    """ufunc.accumulate along axis; on CuPy a Hillis-Steele scan (log2(n) vectorised steps)."""
    if xp is np:
        return getattr(np, ufunc_name).accumulate(x, axis=axis)
    fn = getattr(xp, ufunc_name)
    out = xp.moveaxis(x, axis, -1).copy()
    n = out.shape[-1]
    shift = 1
    while shift < n:
        nxt = out.copy()
        nxt[..., shift:] = fn(out[..., shift:], out[..., :-shift])
        out = nxt
        shift *= 2
    return xp.moveaxis(out, -1, axis)


def _argsort(xp, x, axis, descending):
    """Stable argsort; descending keeps equal elements in their original order, NaN first."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable") if xp is np else xp.argsort(x, axis=axis)
    n = x.shape[axis]
    rev = xp.flip(x, axis=axis)
    order = xp.argsort(rev, axis=axis, kind="stable") if xp is np else xp.argsort(rev, axis=axis)
    return (n - 1) - xp.flip(order, axis=axis)


def _slice_along(ndim, dim, sl):
    return (slice(None),) * dim + (sl,) + (slice(None),) * (ndim - dim - 1)


# -- sum, mean, prod -----------------------------------------------------------------------------

class Sum(Op):
    """Sum over dims; integers and bools sum to int64, float16/bfloat16 accumulate in float32."""
    name = "sum"

    @staticmethod
    def forward(ctx, x, *, dims, keepdim, dtype):
        ctx.dims, ctx.keepdim, ctx.in_dtype = dims, keepdim, x.dtype
        if dtype is None:
            dtype = D.int64.np if x.dtype.kind in "biu" else x.dtype
        if x.ndim == 0:
            return x.astype(dtype, copy=True)
        acc = _F32 if dtype in _HALF else dtype
        out = ctx.xp.sum(x, axis=dims, keepdims=keepdim, dtype=acc)
        return out.astype(dtype, copy=False) if acc is not dtype else out

    @staticmethod
    def backward(ctx, grad):
        if grad._data.dtype != ctx.in_dtype and ctx.in_dtype.kind in "fcV":
            grad = grad.to(D.from_numpy_dtype(ctx.in_dtype))
        return _expand_back(grad, ctx.in_shapes[0], ctx.dims, ctx.keepdim)


class Mean(Op):
    """Mean over dims; needs a floating or complex input (or dtype=)."""
    name = "mean"

    @staticmethod
    def forward(ctx, x, *, dims, keepdim, dtype):
        ctx.dims, ctx.keepdim, ctx.in_dtype = dims, keepdim, x.dtype
        if dtype is not None and dtype.kind not in "fcV":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Optional dtype must be either a floating "
                f"point or complex dtype. Got: {_legacy(dtype)}")
        if dtype is None and not _is_float(x):
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {_legacy(x.dtype)}")
        dtype = dtype or x.dtype
        if x.ndim == 0:
            return x.astype(dtype, copy=True)
        acc = _F32 if dtype in _HALF else dtype
        # sum / count, not xp.mean: NumPy warns on empty slices, PyTorch returns nan quietly.
        with _errstate(ctx.xp):
            out = ctx.xp.sum(x, axis=dims, keepdims=keepdim, dtype=acc) / _count(x.shape, dims)
        return ctx.xp.asarray(out).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        shape = ctx.in_shapes[0]
        if grad._data.dtype != ctx.in_dtype:
            grad = grad.to(D.from_numpy_dtype(ctx.in_dtype))
        return _expand_back(grad / _count(shape, ctx.dims), shape, ctx.dims, ctx.keepdim)


class Prod(Op):
    """Product over dims; the gradient is exact with zeros in the input."""
    name = "prod"

    @staticmethod
    def forward(ctx, x, *, dims, keepdim, dtype):
        ctx.dims, ctx.keepdim, ctx.in_dtype = dims, keepdim, x.dtype
        if dtype is None:
            dtype = D.int64.np if x.dtype.kind in "biu" else x.dtype
        if x.ndim == 0:
            out = x.astype(dtype, copy=True)
        else:
            acc = _F32 if dtype in _HALF else dtype
            with _errstate(ctx.xp):
                out = ctx.xp.prod(x, axis=dims, keepdims=keepdim, dtype=acc)
            out = out.astype(dtype, copy=False)
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import where
        x, out = ctx.saved_tensors
        shape, dims = ctx.in_shapes[0], ctx.dims
        g = _kept(grad, shape, dims, ctx.keepdim)
        if g.dtype != x.dtype:
            g = g.to(x.dtype)
        if x.ndim == 0:
            return g
        is_zero = x == 0
        # Product of all the others: out / x where no zero is in the slice; at the only zero of
        # a slice, the product of the non-zero elements; 0 everywhere else.
        safe = where(is_zero, 1.0, x)
        zeros = is_zero.sum(dims, keepdim=True)
        nonzero_prod = apply(Prod, safe, dims=dims, keepdim=True, dtype=None)
        others = where(is_zero, where(zeros == 1, nonzero_prod, 0.0),
                       where(zeros == 0, nonzero_prod / safe, 0.0))
        return g * others


def _reduce(op, input, dim, keepdim, dtype, name=None):
    dims = _dims(name or op.name, dim, input._data.ndim)
    npd = D.to_dtype(dtype).np if dtype is not None else None
    out = apply(op, input, dims=dims, keepdim=keepdim, dtype=npd)
    if dim is not None or keepdim:      # PyTorch's overload 1: sum(dim), mean(dim), prod(dim)
        named(out, op.__name__ + "Backward1")
    return out


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements over dim (all when None).

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None (all dims).
        keepdim: keep reduced dims with size 1.
        dtype: the output (and accumulation) dtype; integers and bools default to int64.

    Returns:
        The reduced tensor.

    Example:
        >>> import ember
        >>> ember.sum(ember.tensor([[1, 2], [3, 4]]), dim=0).tolist()
        [4, 6]
    """
    from .elementwise import _out
    return _out(_reduce(Sum, input, dim, keepdim, dtype), out)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero.

    Example:
        >>> import ember
        >>> ember.nansum(ember.tensor([1.0, float("nan"), 2.0])).item()
        3.0
    """
    from .elementwise import _out, where
    x = input
    if input.is_floating_point() or input.is_complex():
        x = where(input != input, 0.0, input)
    return _out(named(sum(x, dim, keepdim, dtype=dtype), "NansumBackward0", input), out)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean over dim (all when None); needs a floating or complex input (or dtype=).

    Example:
        >>> import ember
        >>> ember.mean(ember.tensor([1.0, 2.0, 6.0])).item()
        3.0
    """
    from .elementwise import _out
    return _out(_reduce(Mean, input, dim, keepdim, dtype), out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (NaN where a slice has none).

    Example:
        >>> import ember
        >>> ember.nanmean(ember.tensor([1.0, float("nan"), 2.0])).item()
        1.5
    """
    from .elementwise import _out
    if dtype is None and not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {_legacy(input._data.dtype)}")
    if dtype is not None:
        input = input.to(dtype)
    valid = input == input
    total = nansum(input, dim, keepdim)
    count = sum(valid, dim, keepdim)
    return _out(total / count.to(total.dtype), out)


@_amp("fp32")
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of elements over dim (all when None); integers and bools give int64.

    Example:
        >>> import ember
        >>> ember.prod(ember.tensor([[1.0, 2.0], [3.0, 4.0]]), 1).tolist()
        [2.0, 12.0]
    """
    from .elementwise import _out
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    return _out(_reduce(Prod, input, dim, keepdim, dtype), out)


# -- max, min, amax, amin, argmax ----------------------------------------------------------------

class Amax(Op):
    """Largest element over dims; the gradient is split evenly among ties."""
    name = "amax"
    largest = True

    @staticmethod
    def forward(ctx, x, *, dims, keepdim):
        op = ctx.op
        _check_nonempty(op.name, x, dims)
        ctx.dims, ctx.keepdim = dims, keepdim
        fn = ctx.xp.amax if op.largest else ctx.xp.amin
        out = x.copy() if x.ndim == 0 else fn(x, axis=dims, keepdims=keepdim)
        if x.dtype in _HALF and out.dtype != x.dtype:
            out = out.astype(x.dtype)
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _evenly(grad, x, out, ctx.in_shapes[0], ctx.dims, ctx.keepdim)


class Amin(Amax):
    """Smallest element over dims; the gradient is split evenly among ties."""
    name = "amin"
    largest = False


class _MaxAll(Amax):
    name = "max"
    backward_name = "MaxBackward1"      # PyTorch's names: max() is overload 1, max(dim) 0


class _MinAll(Amax):
    name = "min"
    backward_name = "MinBackward1"
    largest = False


def _and(a, b):
    from .elementwise import where
    return where(a, b, False)


def _or(a, b):
    from .elementwise import where
    return where(a, True, b)


def _evenly(grad, x, out, shape, dims, keepdim):
    """grad shared evenly among the elements equal to the result (NaN matches NaN)."""
    out_k = _kept(out, shape, dims, keepdim)
    g = _kept(grad, shape, dims, keepdim)
    mask = _or(x == out_k, _and(x != x, out_k != out_k))
    count = mask.sum(dims, keepdim=True)
    return g * mask / count.to(g.dtype)


class MaxDim(Op):
    """(values, indices) of the largest element along one dim; indices of the first maximum."""
    name = "max"
    backward_name = "MaxBackward0"
    largest = True

    @staticmethod
    def forward(ctx, x, *, dim, keepdim):
        xp = ctx.xp
        ctx.dim, ctx.keepdim = dim, keepdim
        if x.ndim == 0:
            ctx.save(xp.zeros((), dtype=np.int64))
            return x.copy(), xp.zeros((), dtype=np.int64)
        _check_nonempty(ctx.op.name, x, (dim,))
        fn = xp.argmax if ctx.op.largest else xp.argmin
        idx = fn(x, axis=dim, keepdims=True).astype(np.int64, copy=False)
        values = xp.take_along_axis(x, idx, axis=dim)
        ctx.save(idx)
        if not keepdim:
            return values.squeeze(dim), idx.squeeze(dim)
        return values, idx.view()

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (idx,) = ctx.saved_tensors
        return _index_backward(ctx, grad, idx)


def _index_backward(ctx, grad, idx):
    """Gradient of values picked at idx (keepdim form) along ctx.dim."""
    shape = ctx.in_shapes[0]
    if len(shape) == 0:
        return grad.reshape(())
    if not ctx.keepdim and grad.ndim != len(shape):
        grad = grad.unsqueeze(ctx.dim)
    return _put_along(grad, idx, ctx.dim, shape, unique=True)


class MinDim(MaxDim):
    """(values, indices) of the smallest element along one dim; indices of the first minimum."""
    name = "min"
    backward_name = "MinBackward0"
    largest = False


def _is_tensor(x) -> bool:
    from .._tensor import Tensor
    return isinstance(x, Tensor)


def _out_pair(result, out):
    if out is None:
        return result
    for dst, src in zip(out, result):
        if dst._data.shape != src._data.shape:
            dst.resize_(src.shape)
        dst.copy_(src)
    return type(result)(*out)


def _max_min(name, all_op, dim_op, binary, input, dim, keepdim, other, out):
    from .elementwise import _out
    if _is_tensor(dim):
        other, dim = dim, None
    if other is not None:
        return binary(input, other, out=out)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}() received an invalid combination of arguments: keepdim "
                            "needs dim")
        return _out(apply(all_op, input, dims=None, keepdim=False), out)
    d = wrap_dim(name, dim, input._data.ndim)
    values, indices = apply(dim_op, input, dim=d, keepdim=keepdim)
    return _out_pair(_RT[name](values, indices), out)


def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """The largest element; with dim, (values, indices) along it; max(a, b) is maximum.

    Args:
        input: the tensor.
        dim: None (reduce everything), an int, or a tensor (then this is ``maximum``).
        keepdim: keep the reduced dim with size 1.

    Returns:
        A tensor, or a namedtuple ``(values, indices)`` when dim is given.

    Example:
        >>> import ember
        >>> ember.max(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), 1).indices.tolist()
        [1, 0]
    """
    from .elementwise import maximum
    return _max_min("max", _MaxAll, MaxDim, maximum, input, dim, keepdim, other, out)


def min(input, dim=None, keepdim=False, *, other=None, out=None):
    """The smallest element; with dim, (values, indices) along it; min(a, b) is minimum.

    Example:
        >>> import ember
        >>> ember.min(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), 0).values.tolist()
        [1.0, 2.0]
    """
    from .elementwise import minimum
    return _max_min("min", _MinAll, MinDim, minimum, input, dim, keepdim, other, out)


def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest elements over dim (all when empty); gradients split evenly among ties.

    Example:
        >>> import ember
        >>> ember.amax(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=0).tolist()
        [7.0, 5.0]
    """
    from .elementwise import _out
    dims = _dims("amax", dim, input._data.ndim)
    return _out(apply(Amax, input, dims=dims, keepdim=keepdim), out)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest elements over dim (all when empty); gradients split evenly among ties.

    Example:
        >>> import ember
        >>> ember.amin(ember.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).tolist()
        [1.0, 2.0]
    """
    from .elementwise import _out
    dims = _dims("amin", dim, input._data.ndim)
    return _out(apply(Amin, input, dims=dims, keepdim=keepdim), out)


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over dim (all when None), as a namedtuple.

    Example:
        >>> import ember
        >>> ember.aminmax(ember.tensor([3.0, 1.0, 2.0])).max.item()
        3.0
    """
    dims = None if dim is None else (wrap_dim("aminmax", dim, input._data.ndim),)
    # PyTorch has one AminmaxBackward0 node for both; ember two nodes of that name
    lo = named(apply(Amin, input, dims=dims, keepdim=keepdim), "AminmaxBackward0")
    hi = named(apply(Amax, input, dims=dims, keepdim=keepdim), "AminmaxBackward0")
    return _out_pair(_RT["aminmax"](lo, hi), out)


class Argmax(Op):
    """Index of the first largest element (flattened when dim is None)."""
    name = "argmax"
    differentiable = False
    largest = True

    @staticmethod
    def forward(ctx, x, *, dim, keepdim):
        xp = ctx.xp
        fn = xp.argmax if ctx.op.largest else xp.argmin
        if dim is None:
            _check_nonempty(ctx.op.name, x, None)
            out = xp.asarray(fn(x.reshape(-1))).astype(np.int64)
            return out.reshape((1,) * x.ndim) if keepdim else out
        if x.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        _check_nonempty(ctx.op.name, x, (dim,))
        return fn(x, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)


class Argmin(Argmax):
    """Index of the first smallest element (flattened when dim is None)."""
    name = "argmin"
    largest = False


def _int_dim(op, dim, ndim):
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    return wrap_dim(op, dim, ndim)


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Indices of the first maxima along dim (of the flattened tensor when None).

    Example:
        >>> import ember
        >>> ember.argmax(ember.tensor([1.0, 3.0, 3.0])).item()
        1
    """
    from .elementwise import _out
    d = _int_dim("argmax", dim, input._data.ndim)
    return _out(apply(Argmax, input, dim=d, keepdim=keepdim), out)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Indices of the first minima along dim (of the flattened tensor when None).

    Example:
        >>> import ember
        >>> ember.argmin(ember.tensor([2.0, 1.0, 1.0])).item()
        1
    """
    from .elementwise import _out
    d = _int_dim("argmin", dim, input._data.ndim)
    return _out(apply(Argmin, input, dim=d, keepdim=keepdim), out)


# -- var, std, norm, logsumexp -------------------------------------------------------------------

class Var(Op):
    """Variance over dims with ``correction`` (Bessel's correction when 1)."""
    name = "var"

    @staticmethod
    def forward(ctx, x, *, dims, correction, keepdim):
        xp = ctx.xp
        if not _is_float(x):
            raise RuntimeError("std and var only support floating point and complex dtypes")
        ctx.dims, ctx.keepdim, ctx.correction = dims, keepdim, correction
        ctx.save(x)
        axis = _axis(dims, x.ndim)
        xf = _upcast(x)
        with _errstate(xp):
            n = _count(x.shape, dims)
            centered = xf - xf.sum(axis=axis, keepdims=True) / n
            sq = (centered * centered.conj()).real if xf.dtype.kind == "c" else centered ** 2
            out = sq.sum(axis=axis, keepdims=keepdim) / builtins.max(n - correction, 0)
        real = x.real.dtype if x.dtype.kind == "c" else x.dtype
        return xp.asarray(out).astype(real, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shape, dims = ctx.in_shapes[0], ctx.dims
        g = _kept(grad, shape, dims, ctx.keepdim)
        n = _count(shape, dims)
        centered = x - mean(x, dims, keepdim=True)
        denom = builtins.max(n - ctx.correction, 0)
        return g * centered * (2.0 / denom if denom else math.inf)


def _correction(op, unbiased, correction):
    if correction is not None and unbiased is not None:
        raise RuntimeError(f"{op}: can't specify both unbiased and correction")
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _var_args(op, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    dims = _dims(op, dim, input._data.ndim)
    return dims, _correction(op, unbiased, correction), keepdim


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over dim with ``correction`` (default 1; ``unbiased=False`` means 0).

    Example:
        >>> import ember
        >>> ember.var(ember.tensor([1.0, 2.0, 3.0])).item()
        1.0
    """
    from .elementwise import _out
    dims, corr, keepdim = _var_args("var", input, dim, unbiased, keepdim, correction)
    return _out(apply(Var, input, dims=dims, correction=corr, keepdim=keepdim), out)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation: the square root of var (same arguments).

    Example:
        >>> import ember
        >>> round(ember.std(ember.tensor([1.0, 3.0])).item() ** 2, 4)
        2.0
    """
    from .elementwise import _out, sqrt
    dims, corr, keepdim = _var_args("std", input, dim, unbiased, keepdim, correction)
    return _out(named(sqrt(apply(Var, input, dims=dims, correction=corr, keepdim=keepdim)),
                      "StdBackward0"), out)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(var, mean) over dim, in one call.

    Example:
        >>> import ember
        >>> [t.item() for t in ember.var_mean(ember.tensor([1.0, 3.0]))]
        [2.0, 2.0]
    """
    dims, corr, keepdim = _var_args("var_mean", input, dim, unbiased, keepdim, correction)
    v = apply(Var, input, dims=dims, correction=corr, keepdim=keepdim)
    m = apply(Mean, input, dims=dims, keepdim=keepdim, dtype=None)
    # PyTorch has one VarMeanBackward0 node for both outputs; ember two nodes of that name
    return named(v, "VarMeanBackward0"), named(m, "VarMeanBackward0")


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """(std, mean) over dim, in one call.

    Example:
        >>> import ember
        >>> [round(t.item(), 4) for t in ember.std_mean(ember.tensor([1.0, 3.0]))]
        [1.4142, 2.0]
    """
    from .elementwise import sqrt
    dims, corr, keepdim = _var_args("std_mean", input, dim, unbiased, keepdim, correction)
    v = apply(Var, input, dims=dims, correction=corr, keepdim=keepdim)
    m = apply(Mean, input, dims=dims, keepdim=keepdim, dtype=None)
    return named(sqrt(v), "StdMeanBackward0"), named(m, "StdMeanBackward0")


class Norm(Op):
    """Vector p-norm over dims: p = 2, 1, inf, -inf, 0 or any other real p."""
    name = "norm"
    backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, *, p, dims, keepdim):
        xp = ctx.xp
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        axis = _axis(dims, x.ndim)
        a = xp.abs(_upcast(x))
        with _errstate(xp):
            if p == 2:
                out = xp.sqrt((a * a).sum(axis=axis, keepdims=keepdim))
            elif p == 1:
                out = a.sum(axis=axis, keepdims=keepdim)
            elif p == math.inf or p == -math.inf:
                _check_nonempty("linalg.vector_norm", x, dims)
                fn = xp.amax if p > 0 else xp.amin
                out = fn(a, axis=axis, keepdims=keepdim)
            elif p == 0:
                out = (a != 0).sum(axis=axis, keepdims=keepdim).astype(a.dtype)
            else:
                out = (a ** p).sum(axis=axis, keepdims=keepdim) ** (1.0 / p)
        real = x.real.dtype if x.dtype.kind == "c" else x.dtype
        out = xp.asarray(out).astype(real, copy=False)
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import abs, pow, sign, where
        x, out = ctx.saved_tensors
        p, shape, dims = ctx.p, ctx.in_shapes[0], ctx.dims
        g = _kept(grad, shape, dims, ctx.keepdim)
        n = _kept(out, shape, dims, ctx.keepdim)
        if p == 0:
            return x * 0
        if p == 1:
            return g * sign(x)
        if p == math.inf or p == -math.inf:
            return sign(x) * _evenly(grad, abs(x), out, shape, dims, ctx.keepdim)
        zero = n == 0
        safe_n = where(zero, 1.0, n)
        if p == 2:
            return where(zero, 0.0, g * x / safe_n)
        # d||x||_p / dx = sign(x) |x|^(p-1) / ||x||_p^(p-1); 0 where x or the norm is 0.
        at_zero = x == 0
        ax = where(at_zero, 1.0, abs(x))
        scale = pow(ax / safe_n, p - 1)
        return where(_or(zero, at_zero), 0.0, g * sign(x) * scale)


def _norm_p(p, dims):
    if isinstance(p, str):
        if p == "fro":
            if dims is not None and len(dims) > 2:
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                                   f"{' '.join(str(d) for d in dims)}")
            return 2.0
        if p == "nuc":
            raise NotImplementedError("norm: p='nuc' (nuclear norm) is not supported by ember "
                                      "yet; use the sum of ember.linalg.svdvals if available")
        raise RuntimeError(f"norm: unknown p {p!r}; expected a number, 'fro' or 'nuc'")
    return float(p)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """The p-norm of input over dim (all when None): 'fro' (= 2), 1, inf, -inf, 0, other p.

    Args:
        input: a floating point or complex tensor.
        p: the order of the norm; 'fro' is the 2-norm of the flattened dims.
        dim: an int, a tuple of ints, or None.
        keepdim: keep reduced dims with size 1.
        dtype: cast input to this dtype first.

    Example:
        >>> import ember
        >>> ember.norm(ember.tensor([3.0, 4.0])).item()
        5.0
    """
    from .elementwise import _out
    if dtype is not None:
        input = input.to(dtype)
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_legacy(input._data.dtype)}")
    dims = _dims("norm", dim, input._data.ndim)
    pv = _norm_p(p, dims)
    return _out(apply(Norm, input, p=pv, dims=dims, keepdim=keepdim), out)


class LogSumExp(Op):
    """log(sum(exp(x))) over dims, computed stably (shifted by the max)."""
    name = "logsumexp"
    backward_name = "LogsumexpBackward0"
    promote = "float"

    @staticmethod
    def forward(ctx, x, *, dims, keepdim):
        xp = ctx.xp
        ctx.dims, ctx.keepdim = dims, keepdim
        axis = _axis(dims, x.ndim)
        xf = _upcast(x)
        with _errstate(xp):
            if x.size:
                m = xp.amax(xf, axis=axis, keepdims=True)
            else:
                m = xp.zeros(_kept_shape(x.shape, dims), dtype=xf.dtype)
            m = xp.where(xp.isfinite(m), m, 0)
            s = xp.exp(xf - m).sum(axis=axis, keepdims=True)
            out = xp.log(s) + m
        if not keepdim:
            out = out.reshape(tuple(s for i, s in enumerate(x.shape)
                                    if not (dims is None or i in dims)))
        out = out.astype(x.dtype, copy=False)
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import exp
        x, out = ctx.saved_tensors
        shape, dims = ctx.in_shapes[0], ctx.dims
        g = _kept(grad, shape, dims, ctx.keepdim)
        return g * exp(x - _kept(out, shape, dims, ctx.keepdim))


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input), dim)), without overflow; integers give the default float dtype.

    Example:
        >>> import ember
        >>> round(ember.logsumexp(ember.tensor([1000.0, 1000.0]), 0).item(), 2)
        1000.69
    """
    from .elementwise import _out
    dims = _dims("logsumexp", dim, input._data.ndim)
    return _out(apply(LogSumExp, input, dims=dims, keepdim=keepdim), out)


# -- scans ---------------------------------------------------------------------------------------

def _scan_dtype(x, dtype):
    if dtype is None:
        return D.int64.np if x.dtype.kind in "biu" else x.dtype
    return dtype


class CumSum(Op):
    """Running sum along dim; integers and bools give int64."""
    name = "cumsum"
    backward_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, *, dim, dtype):
        ctx.dim, ctx.in_dtype = dim, x.dtype
        dtype = _scan_dtype(x, dtype)
        if x.ndim == 0:
            return x.astype(dtype, copy=True)
        acc = _F32 if dtype in _HALF else dtype
        return ctx.xp.cumsum(x, axis=dim, dtype=acc).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        if grad._data.dtype != ctx.in_dtype:
            grad = grad.to(D.from_numpy_dtype(ctx.in_dtype))
        if grad.ndim == 0:
            return grad
        return _reverse_cumsum(grad, ctx.dim)


def _reverse_cumsum(t, dim):
    return _flip(cumsum(_flip(t, dim), dim), dim)


class CumProd(Op):
    """Running product along dim; the gradient is exact with zeros in the input."""
    name = "cumprod"
    backward_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, *, dim, dtype):
        ctx.dim = dim
        dtype = _scan_dtype(x, dtype)
        if x.ndim == 0:
            out = x.astype(dtype, copy=True)
        else:
            acc = _F32 if dtype in _HALF else dtype
            with _errstate(ctx.xp):
                out = ctx.xp.cumprod(x, axis=dim, dtype=acc).astype(dtype, copy=False)
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import where
        x, out = ctx.saved_tensors
        if x.ndim == 0:
            return grad
        dim = ctx.dim
        if grad.dtype != x.dtype:
            grad = grad.to(x.dtype)
        if not bool((x._data == 0).any()):
            return _reverse_cumsum(grad * out, dim) / x
        # Before the first zero of a slice: sum_{j>=i} g_j out_j / x_i. At the first zero z:
        # out_{z-1} * sum_{j>=z} g_j prod_{z<k<=j} x_k. After it: 0.
        is_zero = x == 0
        zeros_so_far = cumsum(is_zero, dim)
        before = zeros_so_far == 0
        first_zero = _and(is_zero, zeros_so_far == 1)
        safe = where(before, x, 1.0)
        grad_before = where(before, _reverse_cumsum(grad * out, dim) / safe, 0.0)
        after = where(_or(before, first_zero), 1.0, x)
        tail = _reverse_cumsum(where(before, 0.0, grad * cumprod(after, dim)), dim)
        head = cumprod(safe, dim)
        return grad_before + where(first_zero, head * tail, 0.0)


def _scan_dim(op, input, dim):
    return wrap_dim(op, dim, input._data.ndim)


@_amp("fp32")
def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along dim.

    Example:
        >>> import ember
        >>> ember.cumsum(ember.tensor([1, 2, 3]), 0).tolist()
        [1, 3, 6]
    """
    from .elementwise import _out
    npd = D.to_dtype(dtype).np if dtype is not None else None
    return _out(apply(CumSum, input, dim=_scan_dim("cumsum", input, dim), dtype=npd), out)


@_amp("fp32")
def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along dim.

    Example:
        >>> import ember
        >>> ember.cumprod(ember.tensor([1, 2, 3]), 0).tolist()
        [1, 2, 6]
    """
    from .elementwise import _out
    npd = D.to_dtype(dtype).np if dtype is not None else None
    return _out(apply(CumProd, input, dim=_scan_dim("cumprod", input, dim), dtype=npd), out)


class CumMax(Op):
    """(values, indices) of the running max along dim; ties move the index forward."""
    name = "cummax"
    backward_name = "CummaxBackward0"
    largest = True

    @staticmethod
    def forward(ctx, x, *, dim):
        xp = ctx.xp
        ctx.dim, ctx.keepdim = dim, True
        if x.ndim == 0:
            idx = xp.zeros((), dtype=np.int64)
            ctx.save(idx)
            return x.copy(), idx
        largest = ctx.op.largest
        if x.dtype == np.bool_:
            values = _accumulate(xp, "logical_or" if largest else "logical_and", x, dim)
        else:
            values = _accumulate(xp, "maximum" if largest else "minimum", x, dim)
        hit = x == values
        if x.dtype.kind in "fcV":
            hit |= x != x
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        pos = xp.arange(x.shape[dim], dtype=np.int64).reshape(shape)
        idx = _accumulate(xp, "maximum", xp.where(hit, pos, 0), dim)
        ctx.save(idx)
        return values, idx.view()

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (idx,) = ctx.saved_tensors
        if grad.ndim == 0:
            return grad
        return _put_along(grad, idx, ctx.dim, ctx.in_shapes[0], unique=False)


class CumMin(CumMax):
    """(values, indices) of the running min along dim; ties move the index forward."""
    name = "cummin"
    backward_name = "CumminBackward0"
    largest = False


def cummax(input, dim, *, out=None):
    """Running maximum along dim, with the index where each was reached.

    Example:
        >>> import ember
        >>> ember.cummax(ember.tensor([1.0, 3.0, 2.0]), 0).values.tolist()
        [1.0, 3.0, 3.0]
    """
    values, indices = apply(CumMax, input, dim=_scan_dim("cummax", input, dim))
    return _out_pair(_RT["cummax"](values, indices), out)


def cummin(input, dim, *, out=None):
    """Running minimum along dim, with the index where each was reached.

    Example:
        >>> import ember
        >>> ember.cummin(ember.tensor([2.0, 1.0, 3.0]), 0).indices.tolist()
        [0, 1, 1]
    """
    values, indices = apply(CumMin, input, dim=_scan_dim("cummin", input, dim))
    return _out_pair(_RT["cummin"](values, indices), out)


class LogCumSumExp(Op):
    """log(cumsum(exp(x))) along dim, computed stably."""
    name = "logcumsumexp"
    backward_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, x, *, dim):
        xp = ctx.xp
        if not _is_float(x):
            raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for '
                                      f"'{_legacy(x.dtype)}'")
        ctx.dim = dim
        if x.ndim == 0:
            out = x.copy()
        else:
            with _errstate(xp):
                out = _accumulate(xp, "logaddexp", _upcast(x), dim).astype(x.dtype, copy=False)
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import exp, log, where
        x, out = ctx.saved_tensors
        if x.ndim == 0:
            return grad
        dim = ctx.dim
        # grad_i = sum_{j>=i} g_j exp(x_i - out_j), summed in log space for the positive and
        # the negative parts of g separately, so that nothing overflows.
        # log(0) is replaced by a huge finite negative number: exp() of it is exactly 0, and
        # second derivatives see no inf - inf.
        dt = grad._data.dtype
        floor = -1e4 if dt.itemsize <= 2 else float(np.finfo(dt).min) / 4

        def part(g):
            positive = g > 0
            log_g = where(positive, log(where(positive, g, 1.0)), floor)
            rev = _flip(logcumsumexp(_flip(log_g - out, dim), dim), dim)
            return exp(x + rev)
        return part(grad) - part(-grad)


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along dim, without overflow.

    Example:
        >>> import ember
        >>> round(ember.logcumsumexp(ember.tensor([0.0, 0.0]), 0)[1].item(), 4)
        0.6931
    """
    from .elementwise import _out
    return _out(apply(LogCumSumExp, input, dim=_scan_dim("logcumsumexp", input, dim)), out)


def cumsum_(self, dim, *, dtype=None):
    npd = D.to_dtype(dtype).np if dtype is not None else None
    return apply_inplace(CumSum, self, dim=_scan_dim("cumsum_", self, dim), dtype=npd)


def cumprod_(self, dim, *, dtype=None):
    npd = D.to_dtype(dtype).np if dtype is not None else None
    return apply_inplace(CumProd, self, dim=_scan_dim("cumprod_", self, dim), dtype=npd)


# -- all, any, count_nonzero ---------------------------------------------------------------------

class All(Op):
    """True where every element over dims is non-zero (uint8 in, uint8 out)."""
    name = "all"
    differentiable = False
    any_ = False

    @staticmethod
    def forward(ctx, x, *, dims, keepdim):
        xp = ctx.xp
        fn = xp.any if ctx.op.any_ else xp.all
        out = xp.asarray(fn(x, axis=_axis(dims, x.ndim), keepdims=keepdim))
        return out.astype(np.uint8) if x.dtype == np.uint8 else out


class Any(All):
    """True where some element over dims is non-zero (uint8 in, uint8 out)."""
    name = "any"
    any_ = True


def all(input, dim=None, keepdim=False, *, out=None):
    """Whether all elements (over dim) are non-zero.

    Example:
        >>> import ember
        >>> ember.all(ember.tensor([[True, False], [True, True]]), dim=1).tolist()
        [False, True]
    """
    from .elementwise import _out
    dims = _dims("all", dim, input._data.ndim)
    return _out(apply(All, input, dims=dims, keepdim=keepdim), out)


def any(input, dim=None, keepdim=False, *, out=None):
    """Whether any element (over dim) is non-zero.

    Example:
        >>> import ember
        >>> ember.any(ember.tensor([0.0, 0.0, 1.0])).item()
        True
    """
    from .elementwise import _out
    dims = _dims("any", dim, input._data.ndim)
    return _out(apply(Any, input, dims=dims, keepdim=keepdim), out)


class CountNonzero(Op):
    name = "count_nonzero"
    differentiable = False

    @staticmethod
    def forward(ctx, x, *, dims):
        return ctx.xp.asarray((x != 0).sum(axis=_axis(dims, x.ndim), dtype=np.int64))


def count_nonzero(input, dim=None):
    """Number of non-zero elements over dim (all when None), as int64.

    Example:
        >>> import ember
        >>> ember.count_nonzero(ember.tensor([[0, 1], [2, 3]]), dim=0).tolist()
        [1, 2]
    """
    return apply(CountNonzero, input, dims=_dims("count_nonzero", dim, input._data.ndim))


# -- sorting and selection -----------------------------------------------------------------------

class Sort(Op):
    """(values, indices) sorted along dim; stable (equal elements keep their order)."""
    name = "sort"

    @staticmethod
    def forward(ctx, x, *, dim, descending):
        xp = ctx.xp
        ctx.dim, ctx.keepdim = dim, True
        if x.ndim == 0:
            idx = xp.zeros((), dtype=np.int64)
            ctx.save(idx)
            return x.copy(), idx
        idx = _argsort(xp, x, dim, descending).astype(np.int64, copy=False)
        ctx.save(idx)
        return xp.take_along_axis(x, idx, axis=dim), idx.view()

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (idx,) = ctx.saved_tensors
        return _index_backward(ctx, grad, idx)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sort along dim; returns (values, indices). Always stable (NaN sorts as largest).

    Example:
        >>> import ember
        >>> ember.sort(ember.tensor([3.0, 1.0, 2.0])).indices.tolist()
        [1, 2, 0]
    """
    d = wrap_dim("sort", dim, input._data.ndim)
    values, indices = apply(Sort, input, dim=d, descending=descending)
    return _out_pair(_RT["sort"](values, indices), out)


class Argsort(Op):
    name = "argsort"
    differentiable = False

    @staticmethod
    def forward(ctx, x, *, dim, descending):
        xp = ctx.xp
        if x.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        return _argsort(xp, x, dim, descending).astype(np.int64, copy=False)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort input along dim (stable).

    Example:
        >>> import ember
        >>> ember.argsort(ember.tensor([3, 1, 2]), descending=True).tolist()
        [0, 2, 1]
    """
    d = wrap_dim("argsort", dim, input._data.ndim)
    return apply(Argsort, input, dim=d, descending=descending)


def msort(input, *, out=None):
    """input sorted along dim 0 (values only).

    Example:
        >>> import ember
        >>> ember.msort(ember.tensor([[2.0, 1.0], [1.0, 3.0]])).tolist()
        [[1.0, 1.0], [2.0, 3.0]]
    """
    from .elementwise import _out
    return _out(sort(input, 0).values, out)


class TopK(Op):
    """The k largest (or smallest) elements along dim, sorted, with their indices."""
    name = "topk"
    backward_name = "TopkBackward0"

    @staticmethod
    def forward(ctx, x, *, k, dim, largest):
        xp = ctx.xp
        ctx.dim, ctx.keepdim = dim, True
        n = x.shape[dim] if x.ndim else 1
        if k < 0 or k > n:
            raise RuntimeError(f"topk: selected index k out of range (k = {k}, size of dim "
                               f"{dim} = {n}, input shape {fmt_shape(x.shape)})")
        if x.ndim == 0:
            idx = xp.zeros((), dtype=np.int64)
            ctx.save(idx)
            return x.copy(), idx
        if k > 0 and k * 8 <= n:
            # Partition first (O(n)), then sort only the k picked. The picked indices are put
            # in order before the stable sort, so ties keep their original order.
            kth = n - k if largest else k - 1
            part = xp.argpartition(x, kth, axis=dim)
            picked = part[_slice_along(x.ndim, dim, slice(n - k, None) if largest
                                       else slice(0, k))]
            picked = xp.sort(picked, axis=dim)
            order = _argsort(xp, xp.take_along_axis(x, picked, axis=dim), dim, largest)
            idx = xp.take_along_axis(picked, order, axis=dim).astype(np.int64)
        else:
            order = _argsort(xp, x, dim, descending=largest)
            idx = order[_slice_along(x.ndim, dim, slice(0, k))].astype(np.int64)
        ctx.save(idx)
        return xp.take_along_axis(x, idx, axis=dim), idx.view()

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (idx,) = ctx.saved_tensors
        return _index_backward(ctx, grad, idx)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The k largest (smallest when largest=False) elements along dim: (values, indices).

    Example:
        >>> import ember
        >>> ember.topk(ember.tensor([1.0, 5.0, 3.0]), 2).values.tolist()
        [5.0, 3.0]
    """
    d = wrap_dim("topk", dim, input._data.ndim)
    values, indices = apply(TopK, input, k=int(k), dim=d, largest=largest)
    return _out_pair(_RT["topk"](values, indices), out)


class _PickSorted(Op):
    """(values, indices): the element at a sorted position along dim (kthvalue, median)."""
    name = "kthvalue"
    backward_name = "KthvalueBackward0"

    @staticmethod
    def forward(ctx, x, *, dim, keepdim, k, mode):
        xp = ctx.xp
        ctx.dim, ctx.keepdim = dim, keepdim
        if x.ndim == 0:
            if mode == "kth" and k != 1:
                raise RuntimeError("kthvalue(): selected number k out of range for dimension 0")
            idx = xp.zeros((), dtype=np.int64)
            ctx.save(idx)
            return x.copy(), idx
        n = x.shape[dim]
        if mode == "kth" and not 1 <= k <= n:
            raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
        if n == 0:
            raise IndexError(f"{ctx.op.name}(): Expected reduction dim {dim} to have non-zero "
                             "size.")
        order = _argsort(xp, x, dim, descending=False)
        if mode == "kth":
            pos = xp.full(_kept_shape(x.shape, (dim,)), k - 1, dtype=np.int64)
        else:
            nans = (x != x).sum(axis=dim, keepdims=True, dtype=np.int64)
            if mode == "median":
                # A slice with NaN has NaN as its median: the first NaN (NaN sorts last).
                pos = xp.where(nans > 0, n - nans, (n - 1) // 2)
            else:
                pos = xp.maximum((n - nans - 1) // 2, 0)
        idx = xp.take_along_axis(order, pos, axis=dim).astype(np.int64, copy=False)
        values = xp.take_along_axis(x, idx, axis=dim)
        ctx.save(idx)
        if not keepdim:
            return values.squeeze(dim), idx.squeeze(dim)
        return values, idx.view()

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (idx,) = ctx.saved_tensors
        return _index_backward(ctx, grad, idx)


class _Median(_PickSorted):
    name = "median"
    backward_name = "MedianBackward1"


class _NanMedian(_PickSorted):
    name = "nanmedian"
    backward_name = "NanmedianBackward1"


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The k-th smallest element along dim (k from 1): (values, indices).

    Example:
        >>> import ember
        >>> ember.kthvalue(ember.tensor([3.0, 1.0, 2.0]), 2).values.item()
        2.0
    """
    d = wrap_dim("kthvalue", dim, input._data.ndim)
    values, indices = apply(_PickSorted, input, dim=d, keepdim=keepdim, k=int(k), mode="kth")
    return _out_pair(_RT["kthvalue"](values, indices), out)


class MedianAll(Op):
    """Lower median of all elements; the gradient is split evenly among ties."""
    name = "median"
    backward_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x, *, ignore_nan):
        xp = ctx.xp
        flat = x.reshape(-1)
        n = flat.size
        if n == 0:
            out = xp.full((), np.nan, dtype=x.dtype)
        else:
            srt = xp.sort(flat)
            nans = int((flat != flat).sum()) if _is_float(x) else 0
            if ignore_nan:
                pos = builtins.max((n - nans - 1) // 2, 0)
            else:
                pos = n - nans if nans else (n - 1) // 2
            out = srt[pos].reshape(())
        ctx.save(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        return _evenly(grad, x, out, ctx.in_shapes[0], None, False)


def median(input, dim=None, keepdim=False, *, out=None):
    """Lower median of all elements, or (values, indices) along dim; NaN propagates.

    Example:
        >>> import ember
        >>> ember.median(ember.tensor([4.0, 1.0, 3.0, 2.0])).item()
        2.0
    """
    from .elementwise import _out
    if dim is None:
        return _out(apply(MedianAll, input, ignore_nan=False), out)
    d = wrap_dim("median", dim, input._data.ndim)
    values, indices = apply(_Median, input, dim=d, keepdim=keepdim, k=0, mode="median")
    return _out_pair(_RT["median"](values, indices), out)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """Like median, ignoring NaN (NaN only where a slice is all NaN).

    Example:
        >>> import ember
        >>> ember.nanmedian(ember.tensor([1.0, float("nan"), 3.0, 2.0])).item()
        2.0
    """
    from .elementwise import _out
    if dim is None:
        return _out(named(apply(MedianAll, input, ignore_nan=True), "NanmedianBackward0"), out)
    d = wrap_dim("nanmedian", dim, input._data.ndim)
    values, indices = apply(_NanMedian, input, dim=d, keepdim=keepdim, k=0, mode="nanmedian")
    return _out_pair(_RT["nanmedian"](values, indices), out)


class Mode(Op):
    """(values, indices): the most frequent value along dim (the smallest on ties) and its
    last index."""
    name = "mode"

    @staticmethod
    def forward(ctx, x, *, dim, keepdim):
        xp = ctx.xp
        ctx.dim, ctx.keepdim = dim, keepdim
        if x.ndim == 0:
            idx = xp.zeros((), dtype=np.int64)
            ctx.save(idx)
            return x.copy(), idx
        n = x.shape[dim]
        if n == 0:
            raise IndexError(f"mode(): Expected reduction dim {dim} to have non-zero size.")
        order = _argsort(xp, x, dim, descending=False)
        srt = xp.take_along_axis(x, order, axis=dim)
        shape = [1] * x.ndim
        shape[dim] = n
        pos = xp.arange(n, dtype=np.int64).reshape(shape)
        first = pos[_slice_along(x.ndim, dim, slice(0, 1))] == 0
        change = srt[_slice_along(x.ndim, dim, slice(1, None))] != \
            srt[_slice_along(x.ndim, dim, slice(None, -1))]
        starts = xp.concatenate([xp.broadcast_to(first, _kept_shape(x.shape, (dim,))), change],
                                axis=dim)
        run_start = _accumulate(xp, "maximum", xp.where(starts, pos, 0), dim)
        run_len = pos - run_start + 1
        # The first position reaching the longest run ends the smallest value's run; within a
        # run the stable sort keeps original order, so that position holds the last index.
        best = xp.argmax(run_len, axis=dim, keepdims=True)
        idx = xp.take_along_axis(order, best, axis=dim).astype(np.int64, copy=False)
        values = xp.take_along_axis(x, idx, axis=dim)
        ctx.save(idx)
        if not keepdim:
            return values.squeeze(dim), idx.squeeze(dim)
        return values, idx.view()

    @staticmethod
    def backward(ctx, grad, _grad_indices=None):
        (idx,) = ctx.saved_tensors
        return _index_backward(ctx, grad, idx)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """Most frequent value along dim (smallest on ties) and its last index.

    Example:
        >>> import ember
        >>> ember.mode(ember.tensor([3, 1, 3, 1, 2]), 0).values.item()
        1
    """
    d = wrap_dim("mode", dim, input._data.ndim)
    values, indices = apply(Mode, input, dim=d, keepdim=keepdim)
    return _out_pair(_RT["mode"](values, indices), out)


# -- unique, bincount, histc, diff, searchsorted -------------------------------------------------

class Unique(Op):
    """Sorted unique elements (or slices along dim), inverse indices and counts."""
    name = "unique"
    differentiable = False

    @staticmethod
    def forward(ctx, x, *, dim, consecutive):
        xp = ctx.xp
        if consecutive:
            return _unique_consecutive(xp, x, dim)
        if dim is None:
            flat = x.reshape(-1)
            values, inverse, counts = xp.unique(flat, return_inverse=True, return_counts=True)
            return values, inverse.reshape(x.shape).astype(np.int64), counts.astype(np.int64)
        moved = xp.moveaxis(x, dim, 0)
        rows = moved.reshape(moved.shape[0], -1)
        if rows.shape[0] == 0:
            empty = xp.zeros((0,), dtype=np.int64)
            return x.copy(), empty, empty
        # Sort the slices lexicographically (stable), then mark where one differs from the next.
        order = xp.lexsort(rows.T[::-1]) if rows.shape[1] else xp.arange(rows.shape[0])
        srt = rows[order]
        change = (srt[1:] != srt[:-1]).any(axis=1) if rows.shape[1] else \
            xp.zeros(rows.shape[0] - 1, dtype=bool)
        starts = xp.concatenate([xp.ones(1, dtype=bool), change])
        group = xp.cumsum(starts) - 1
        inverse = xp.empty(rows.shape[0], dtype=np.int64)
        inverse[order] = group
        counts = xp.bincount(group).astype(np.int64)
        values = srt[starts].reshape((-1,) + moved.shape[1:])
        return xp.moveaxis(values, 0, dim), inverse, counts


def _unique_consecutive(xp, x, dim):
    if dim is None:
        flat = x.reshape(-1)
        change = flat[1:] != flat[:-1]
        shape = x.shape
    else:
        moved = xp.moveaxis(x, dim, 0)
        flat = moved.reshape(moved.shape[0], -1)
        change = (flat[1:] != flat[:-1]).any(axis=1) if flat.shape[1] else \
            xp.zeros(builtins.max(flat.shape[0] - 1, 0), dtype=bool)
        shape = (flat.shape[0],)
    if flat.shape[0] == 0:
        empty = xp.zeros((0,), dtype=np.int64)
        return x.copy() if dim is not None else flat.copy(), empty.reshape(shape), empty
    starts = xp.concatenate([xp.ones(1, dtype=bool), change])
    inverse = (xp.cumsum(starts) - 1).astype(np.int64)
    begin = xp.nonzero(starts)[0]
    counts = xp.diff(xp.concatenate([begin, xp.asarray([flat.shape[0]])])).astype(np.int64)
    if dim is None:
        return flat[starts], inverse.reshape(shape), counts
    values = moved[starts]
    return xp.moveaxis(values, 0, dim), inverse, counts


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    if not return_inverse and not return_counts:
        return values
    res = [values]
    if return_inverse:
        res.append(inverse)
    if return_counts:
        res.append(counts)
    return tuple(res)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Unique elements (slices along dim when given), sorted; optionally the inverse indices
    (input's shape, or size of dim) and the counts. sorted=False also returns them sorted.

    Example:
        >>> import ember
        >>> ember.unique(ember.tensor([3, 1, 3, 2])).tolist()
        [1, 2, 3]
    """
    d = None if dim is None else wrap_dim("unique", dim, input._data.ndim)
    values, inverse, counts = apply(Unique, input, dim=d, consecutive=False)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (slices along dim when given).

    Example:
        >>> import ember
        >>> ember.unique_consecutive(ember.tensor([1, 1, 2, 1])).tolist()
        [1, 2, 1]
    """
    d = None if dim is None else wrap_dim("unique_consecutive", dim, input._data.ndim)
    values, inverse, counts = apply(Unique, input, dim=d, consecutive=True)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


class Bincount(Op):
    """Counts of each non-negative integer (or sums of weights) in a 1-d tensor."""
    name = "bincount"
    differentiable = False

    @staticmethod
    def forward(ctx, x, weights, *, minlength):
        xp = ctx.xp
        if x.ndim != 1 or x.dtype.kind not in "iu" or (x.size and int(x.min()) < 0):
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        if minlength < 0:
            raise RuntimeError("bincount: minlength should be >= 0")
        if weights is None:
            return xp.bincount(x, minlength=minlength).astype(np.int64)
        if weights.shape != x.shape:
            raise RuntimeError(f"bincount: weights should be 1-d and have the same length as "
                               f"input, got {fmt_shape(weights.shape)} and {fmt_shape(x.shape)}")
        dtype = weights.dtype if weights.dtype.kind == "f" or weights.dtype in _HALF \
            else np.dtype(np.float64)
        out = xp.bincount(x, weights=weights.astype(np.float64), minlength=minlength)
        return out.astype(dtype)


def bincount(input, weights=None, minlength=0):
    """Number of occurrences of each value in a 1-d non-negative integer tensor (or the sum
    of weights per value); at least minlength bins.

    Example:
        >>> import ember
        >>> ember.bincount(ember.tensor([1, 2, 2])).tolist()
        [0, 1, 2]
    """
    return apply(Bincount, input, weights, minlength=int(minlength))


class Histc(Op):
    """Histogram with equal-width bins over [min, max] (the data range when min == max)."""
    name = "histc"
    differentiable = False

    @staticmethod
    def forward(ctx, x, *, bins, lo, hi):
        xp = ctx.xp
        if not _is_float(x):
            raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                      f"'{_legacy(x.dtype)}'")
        if bins <= 0:
            raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for bins")
        if lo > hi:
            raise RuntimeError("torch.histc: max must be larger than min")
        if lo == hi and x.size:
            lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        xf = _upcast(x).reshape(-1)
        inside = (xf >= lo) & (xf <= hi)
        with _errstate(xp):
            pos = ((xf - xf.dtype.type(lo)) / (xf.dtype.type(hi) - xf.dtype.type(lo))
                   * bins)
        pos = xp.where(inside, pos, 0).astype(np.int64)
        pos = xp.minimum(pos, bins - 1)
        counts = xp.bincount(pos[inside], minlength=bins)
        return counts[:bins].astype(x.dtype)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of input's values in ``bins`` equal bins over [min, max]; values outside are
    ignored; min == max uses the data's range.

    Example:
        >>> import ember
        >>> ember.histc(ember.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3).tolist()
        [0.0, 2.0, 1.0, 0.0]
    """
    from .elementwise import _out
    return _out(apply(Histc, input, bins=int(bins), lo=float(min), hi=float(max)), out)


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """n-th forward difference along dim, after joining prepend and append (bool: xor).

    Example:
        >>> import ember
        >>> ember.diff(ember.tensor([1, 4, 9])).tolist()
        [3, 5]
    """
    from .elementwise import _out
    from .index import getitem
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim("diff", dim, ndim)
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = [t for t in (prepend, input, append) if t is not None]
    for t in parts:
        if t.ndim != ndim:
            raise RuntimeError(f"diff expects prepend or append to be the same dimension as "
                               f"input, got {t.ndim} and {ndim}")
    if len(parts) > 1:
        from .shape import cat
        x = cat(parts, d)
    else:
        x = input
    for _ in range(n):
        hi = getitem(x, _slice_along(ndim, d, slice(1, None)))
        lo = getitem(x, _slice_along(ndim, d, slice(None, -1)))
        x = hi != lo if x._data.dtype == np.bool_ else hi - lo
    return _out(x, out)


class SearchSorted(Op):
    """Insertion positions of values in the innermost dim of a sorted sequence."""
    name = "searchsorted"
    differentiable = False

    @staticmethod
    def forward(ctx, seq, values, *, right, out_int32):
        xp = ctx.xp
        dtype = np.int32 if out_int32 else np.int64
        side = "right" if right else "left"
        values = xp.asarray(values)
        if seq.ndim == 1:
            return xp.searchsorted(seq, values, side=side).astype(dtype)
        if seq.shape[:-1] != values.shape[:-1]:
            raise RuntimeError(
                f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                f"dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {list(seq.shape)} and input value tensor "
                f"{list(values.shape)}")
        # Batched: sort each row of [values, seq] together (stable); a value's answer is the
        # number of boundaries sorted before it. Values go first for side='left' so that equal
        # boundaries come after them, last for 'right'.
        m = values.shape[-1]
        dt = np.result_type(seq.dtype, values.dtype)
        both = (seq.astype(dt), values.astype(dt)) if right else (values.astype(dt),
                                                                  seq.astype(dt))
        joined = xp.concatenate(both, axis=-1)
        order = xp.argsort(joined, axis=-1, kind="stable") if xp is np else \
            xp.argsort(joined, axis=-1)
        is_value = (order >= seq.shape[-1]) if right else (order < m)
        seq_before = xp.cumsum(~is_value, axis=-1)
        value_pos = (order - seq.shape[-1]) if right else order
        out = xp.empty(values.shape, dtype=dtype)
        rows = xp.nonzero(is_value)
        out[rows[:-1] + (value_pos[rows],)] = seq_before[rows]
        return out


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where input's values would be inserted into the innermost dim of
    sorted_sequence to keep it sorted ('left': first such index, 'right': last).

    Example:
        >>> import ember
        >>> ember.searchsorted(ember.tensor([1, 3, 5]), ember.tensor([3, 4])).tolist()
        [1, 2]
    """
    from .elementwise import _out
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    if sorter is not None:
        sorted_sequence = apply(_TakeAlong, sorted_sequence, sorter,
                                dim=sorted_sequence._data.ndim - 1)
    scalar = not _is_tensor(input)
    if scalar:
        input = sorted_sequence.new_tensor(input)
    r = apply(SearchSorted, sorted_sequence, input, right=right, out_int32=out_int32)
    return _out(r, out)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """Index of the bucket (between 1-d boundaries) of each element of input.

    Example:
        >>> import ember
        >>> ember.bucketize(ember.tensor([1, 3, 5]), ember.tensor([3, 4])).tolist()
        [0, 0, 2]
    """
    from .elementwise import _out
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries._data.ndim})")
    if not _is_tensor(input):
        input = boundaries.new_tensor(input)
    return _out(apply(SearchSorted, boundaries, input, right=right, out_int32=out_int32), out)


# -- Tensor methods ------------------------------------------------------------------------------

def _max_method(self, dim=None, keepdim=False, *, out=None):
    return max(self, dim, keepdim, out=out)


def _min_method(self, dim=None, keepdim=False, *, out=None):
    return min(self, dim, keepdim, out=out)


TENSOR_METHODS = {
    "sum": sum, "nansum": nansum, "mean": mean, "nanmean": nanmean, "prod": prod,
    "max": _max_method, "min": _min_method, "amax": amax, "amin": amin, "aminmax": aminmax,
    "argmax": argmax, "argmin": argmin, "var": var, "std": std, "norm": norm,
    "logsumexp": logsumexp, "cumsum": cumsum, "cumprod": cumprod, "cummax": cummax,
    "cummin": cummin, "logcumsumexp": logcumsumexp, "cumsum_": cumsum_, "cumprod_": cumprod_,
    "all": all, "any": any, "count_nonzero": count_nonzero, "topk": topk,
    "kthvalue": kthvalue, "sort": sort, "argsort": argsort, "msort": msort, "median": median,
    "nanmedian": nanmedian, "mode": mode, "unique": unique,
    "unique_consecutive": unique_consecutive, "bincount": bincount, "histc": histc,
    "diff": diff,
}
_builtins = builtins
