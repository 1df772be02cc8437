"""Indexing: __getitem__/__setitem__ (basic and advanced), gather/scatter, index_*, masked_*,
take, put, nonzero.

# Note [Indexing like PyTorch]
NumPy's rules decide most of ``x[index]``; where PyTorch differs we split the index in two:
integers (and 0-d integer tensors) select first, as a view (PyTorch treats them as basic
indices even next to tensors), then the remaining advanced indices (integer arrays and bool
masks) are applied by NumPy's rules on that view. So ``x[0, :, [1, 2]]`` has shape
``(3, 2)`` for a ``(2, 3, 4)`` tensor, as in PyTorch (NumPy would give ``(2, 3)``).
"""

from __future__ import annotations

import builtins
import warnings

import numpy as np

from .. import _dtype as D
from .._dispatch import Op, apply, apply_inplace
from .._errors import broadcast_error, fmt_shape, wrap_dim
from .._tensor import Tensor
from ._broadcast import sum_to
from ._names import named, named_inplace

__all__ = ["getitem", "setitem", "gather", "scatter", "scatter_add", "scatter_reduce",
           "index_select", "index_add", "index_copy", "index_fill", "index_put", "index_put_",
           "index_reduce", "masked_fill", "masked_scatter", "masked_select", "take",
           "take_along_dim", "put", "nonzero", "argwhere"]

_INDEX_ERROR = ("tensors used as indices must be long, int, byte or bool tensors")


# -- index normalisation -----------------------------------------------------------------------

def _xp(t):
    if type(t._data) is np.ndarray:
        return np
    from .._device import xp_of
    return xp_of(t._data)


def _to_backend(arr, xp, device_name):
    """An index array on the backend of the indexed tensor (cpu indices may index cuda)."""
    if xp is np:
        if type(arr) is not np.ndarray:
            raise RuntimeError("indices should be either on cpu or on the same device as the "
                               f"indexed tensor ({device_name})")
        return arr
    return xp.asarray(arr)


def _sequence_as_tuple(index) -> bool:
    # PyTorch (deprecated, still honoured) reads x[[0, [1, 2]]] as x[0, [1, 2]].
    if len(index) >= 32:
        return False
    return builtins.any(isinstance(i, (Tensor, list, tuple, slice, np.ndarray)) or i is None or
                        i is Ellipsis for i in index)


def _convert_item(item, xp, device_name):
    """(kind, value): kind is int | slice | none | ellipsis | array | mask | bool."""
    if isinstance(item, Tensor):
        arr = item._data
        kind = arr.dtype.kind
        if kind == "b" or arr.dtype == np.uint8:
            if arr.dtype == np.uint8:
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a "
                              "dtype torch.bool instead.", UserWarning, stacklevel=4)
                arr = arr.astype(bool)
            if arr.ndim == 0:
                return "bool", builtins.bool(arr)
            return "mask", _to_backend(arr, xp, device_name)
        if kind not in "iu":
            raise IndexError(f"{_INDEX_ERROR} (got {item.dtype})")
        if arr.ndim == 0:
            return "int", int(arr)
        return "array", _to_backend(arr, xp, device_name).astype(np.int64, copy=False)
    if isinstance(item, (builtins.bool, np.bool_)):
        return "bool", builtins.bool(item)
    if item is None:
        return "none", None
    if item is Ellipsis:
        return "ellipsis", None
    if isinstance(item, slice):
        parts = [_slice_part(v) for v in (item.start, item.stop, item.step)]
        if parts[2] is not None and parts[2] <= 0:
            raise ValueError("step must be greater than zero")
        return "slice", slice(*parts)
    if isinstance(item, (list, tuple, np.ndarray)):
        if isinstance(item, np.ndarray):
            arr = item
        else:
            arr = np.asarray([int(v) if isinstance(v, Tensor) else v for v in item])
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        if arr.dtype.kind == "b":
            if arr.ndim == 0:
                return "bool", builtins.bool(arr)
            return "mask", xp.asarray(arr)
        if arr.dtype.kind not in "iu":
            raise IndexError(f"{_INDEX_ERROR} (got {arr.dtype})")
        return "array", xp.asarray(arr.astype(np.int64, copy=False))
    if hasattr(item, "__cuda_array_interface__"):
        return _convert_item(Tensor._make(item), xp, device_name)
    if hasattr(item, "__index__"):
        return "int", int(item.__index__())
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                     f"Variables are valid indices (got {type(item).__name__})")


def _slice_part(v):
    if v is None:
        return None
    if isinstance(v, Tensor):
        return int(v.item())
    return int(v.__index__())


def _consumed(kind, value) -> int:
    if kind in ("int", "slice", "array"):
        return 1
    if kind == "mask":
        return value.ndim
    return 0


def _plan(input, index):
    """Split ``index`` (see Note [Indexing like PyTorch]) into (basic, advanced): basic is an
    index tuple for a view of input; advanced is None or an index tuple for that view."""
    shape = input._data.shape
    ndim = len(shape)
    xp = _xp(input)
    if isinstance(index, list) and _sequence_as_tuple(index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; "
                      "use x[tuple(seq)] instead of x[seq]", UserWarning, stacklevel=3)
        index = tuple(index)
    if not isinstance(index, tuple):
        index = (index,)
    dev = str(input.device)
    items = [_convert_item(i, xp, dev) for i in index]
    used = builtins.sum(_consumed(k, v) for k, v in items)
    n_ell = builtins.sum(1 for k, _ in items if k == "ellipsis")
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > ndim:
        if ndim == 0 and items and items[0][0] == "int":
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    # Spell the ellipsis out as slices, so every item knows the dims it indexes.
    expanded = []
    for k, v in items:
        if k == "ellipsis":
            expanded.extend([("slice", slice(None))] * (ndim - used))
        else:
            expanded.append((k, v))
    has_int = builtins.any(k == "int" for k, _ in expanded)
    has_adv = builtins.any(k in ("array", "mask", "bool") for k, _ in expanded)
    dim = 0
    for k, v in expanded:
        if k == "int":
            size = shape[dim]
            if not -size <= v < size:
                raise IndexError(f"index {v} is out of bounds for dimension {dim} with size "
                                 f"{size}")
        elif k == "mask":
            msize = shape[dim:dim + v.ndim]
            for j, (a, b) in enumerate(zip(v.shape, msize)):
                if a != b:
                    raise IndexError(
                        f"The shape of the mask {list(v.shape)} at index {j} does not match the "
                        f"shape of the indexed tensor {list(shape)} at index {dim + j}")
        dim += _consumed(k, v)
    if not has_adv:
        return tuple(v if k != "none" else None for k, v in expanded), None
    if has_int:
        basic, rest = [], []
        for k, v in expanded:
            if k == "int":
                basic.append(v)
            elif k in ("none", "slice"):
                basic.append(v)
                rest.append(slice(None))
            elif k in ("array", "mask"):
                basic.extend([slice(None)] * _consumed(k, v))
                rest.append(v)
            else:
                rest.append(v)
        basic = tuple(basic)
        adv = tuple(rest)
    else:
        basic = ()
        adv = tuple(v if k != "none" else None for k, v in expanded)
    return basic, adv


def _check_adv(shape, adv):
    """Bounds of integer arrays in an advanced index; the dim PyTorch names counts from the
    first advanced index."""
    dim = 0
    first = None
    for v in adv:
        if v is None or isinstance(v, builtins.bool):
            continue
        if isinstance(v, slice):
            dim += 1
            continue
        if first is None:
            first = dim
        if v.dtype == bool:
            dim += v.ndim
            continue
        if v.size:
            size = shape[dim]
            lo, hi = int(v.min()), int(v.max())
            if hi >= size or lo < -size:
                bad = hi if hi >= size else lo
                raise IndexError(f"index {bad} is out of bounds for dimension {dim - first} "
                                 f"with size {size}")
        dim += 1


def _adv_broadcast_error(adv):
    shapes = []
    for v in adv:
        if hasattr(v, "dtype"):
            if v.dtype == bool:
                shapes.append([int(v.sum())])
            else:
                shapes.append(list(v.shape))
    return IndexError("shape mismatch: indexing tensors could not be broadcast together with "
                      "shapes " + ", ".join(str(s) for s in shapes))


class GetItemView(Op):
    """x[index] with basic indexing (ints, slices, None, ...): a view."""
    name = "getitem"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.index = index
        # A trailing ellipsis makes NumPy return a 0-d view, not a scalar copy, for x[0].
        return x[index if Ellipsis in index else index + (Ellipsis,)]

    @staticmethod
    def backward(ctx, grad):
        return apply(IndexGrad, grad, shape=ctx.in_shapes[0], index=ctx.index, accumulate=False)


class GetItem(Op):
    """x[index] with advanced indexing (integer or bool arrays): a copy."""
    name = "index"
    backward_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.index = index
        try:
            out = x[index]
        except IndexError:
            raise _adv_broadcast_error(index) from None
        if not hasattr(out, "shape") or out.base is x:
            out = ctx.xp.array(out)
        return out

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
    _ufunc_at(xp, "add", out, index, values)


def _basic_index_name(index, shape) -> str:
    """PyTorch's node for x[index] without advanced indexing: that of the last view it applies
    (select, slice, unsqueeze; a slice over a whole dim inside a tuple is skipped)."""
    if not isinstance(index, tuple):
        if index is None:
            return "UnsqueezeBackward0"
        if index is Ellipsis:
            return "AliasBackward0"
        return "SliceBackward0" if isinstance(index, slice) else "SelectBackward0"
    used = builtins.sum(1 for i in index if i is not None and i is not Ellipsis)
    name, dim = "AliasBackward0", 0
    for item in index:
        if item is None:
            name = "UnsqueezeBackward0"
        elif item is Ellipsis:
            dim += len(shape) - used
        elif isinstance(item, slice):
            size = shape[dim]
            parts = slice(*[_slice_part(v) for v in (item.start, item.stop, item.step)])
            if parts.indices(size) != (0, size, 1):
                name = "SliceBackward0"
            dim += 1
        else:
            name = "SelectBackward0"
            dim += 1
    return name


def getitem(input, index):
    """input[index] with PyTorch's indexing rules (see Note [Indexing like PyTorch])."""
    # Fast path for the commonest index, t[i] (a Dataset's __getitem__): a view, no planning.
    if type(index) is int and input._data.ndim and -input._data.shape[0] <= index \
            < input._data.shape[0]:
        return named(apply(GetItemView, input, index=(index,)), "SelectBackward0")
    basic, adv = _plan(input, index)
    x = input
    if basic or adv is None:
        x = apply(GetItemView, input, index=basic)
    if adv is None:
        return named(x, _basic_index_name(index, input._data.shape))
    _check_adv(x._data.shape, adv)
    return apply(GetItem, x, index=adv)


class IndexPut(Op):
    """x[index] = values (values broadcast to the indexed shape), or += with accumulate."""
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
        need = ctx.needs_input_grad
        gx = gv = None
        if need[0]:
            gx = grad if ctx.accumulate else apply(IndexPut, grad, 0.0, index=ctx.index)
        if need[1]:
            gv = _reduce_to(apply(GetItem, grad, index=ctx.index), ctx.in_shapes[1])
        return gx, gv


def _reduce_to(grad, shape):
    """sum_to, also for values that carried extra leading size-1 dims."""
    shape = tuple(shape)
    extra = len(shape) - grad._data.ndim
    if extra > 0:
        from .shape import reshape
        grad = reshape(grad, (1,) * extra + tuple(grad._data.shape))
    return sum_to(grad, shape)


def _strip_leading_ones(values, ndim):
    while values.ndim > ndim and values.shape[0] == 1:
        values = values[0]
    return values


def _put(xp, out, index, values, accumulate):
    if hasattr(values, "dtype") and values.dtype != out.dtype:
        values = values.astype(out.dtype)
    try:
        if accumulate:
            if hasattr(values, "ndim"):
                values = _strip_leading_ones(values, out[index].ndim)
            _add_at(xp, out, index, values)
        else:
            out[index] = values
    except (ValueError, IndexError):
        try:
            target = out[index].shape
        except IndexError:
            raise _adv_broadcast_error(index) from None
        raise RuntimeError(f"index_put: shape mismatch: value tensor of shape "
                           f"{fmt_shape(getattr(values, 'shape', ()))} cannot be broadcast to "
                           f"indexing result of shape {fmt_shape(target)}") from None


def _value_tensor(input, value):
    if isinstance(value, Tensor):
        if type(value._data) is not type(input._data) or (
                input.is_cuda and value.device != input.device):
            if value._data.ndim == 0:
                return value.to(input.device)
            raise RuntimeError(f"setitem: value on {value.device} but tensor on {input.device}; "
                               "move one with .to(device)")
        return value
    if isinstance(value, np.ndarray):
        from .creation import tensor
        return tensor(value, device=input.device)
    if isinstance(value, (list, tuple)):
        raise TypeError(f"can't assign a {type(value).__name__} to a {input.type()}")
    return value


def setitem(input, index, value):
    """input[index] = value, in place (recorded for autograd)."""
    basic, adv = _plan(input, index)
    value = _value_tensor(input, value)
    if adv is None:
        from .creation import copy_
        if builtins.all(isinstance(i, slice) and i == slice(None) for i in basic):
            target = input
        else:
            target = apply(GetItemView, input, index=basic)
        copy_(target, value)
        return
    target = apply(GetItemView, input, index=basic) if basic else input
    _check_adv(target._data.shape, adv)
    if isinstance(value, Tensor) and value._data.dtype != input._data.dtype:
        if value._data.ndim == 0 and isinstance(index, Tensor) and index.dtype is D.bool:
            # PyTorch takes masked_fill's path here, which casts the value.
            value = value.to(input.dtype)
        else:
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{_legacy(input.dtype)} for the destination and {_legacy(value.dtype)} for "
                "the source.")
    apply_inplace(IndexPut, target, value, index=adv)


def _legacy(dtype) -> str:
    from .._dispatch import _legacy_name
    return _legacy_name(dtype)


# -- shared checks -----------------------------------------------------------------------------

def _require_tensor(op, name, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(t).__name__}")


def _index_dtype(op, index, allowed=("int64",), message=None):
    _require_tensor(op, "index", index)
    if index.dtype.name not in allowed:
        raise RuntimeError(message or f"{op}(): Expected dtype int64 for index, got "
                           f"{index.dtype.name}")


def _same_device(op, input, index):
    if type(index._data) is not type(input._data) or (
            input.is_cuda and index.device != input.device):
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at "
                           f"least two devices, {input.device} and {index.device}")


def _bounds(op, index_arr, size, dim, negative=False, exc=RuntimeError, prefix=""):
    if index_arr.size == 0:
        return
    lo, hi = int(index_arr.min()), int(index_arr.max())
    low = -size if negative else 0
    if hi >= size or lo < low:
        bad = hi if hi >= size else lo
        raise exc(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")


def _check_gather_like(op, input, dim, index, src=None):
    """PyTorch's gather/scatter shape rules: same ndim, index no larger than input apart from
    dim (and no larger than src anywhere). Returns the wrapped dim."""
    nd = input._data.ndim
    dim = wrap_dim(op, dim, nd)
    ishape, xshape = index._data.shape, input._data.shape
    if builtins.max(index._data.ndim, 1) != builtins.max(nd, 1):
        what = "input" if src is None else "self"
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"{what} tensor ({fmt_shape(ishape)} vs {fmt_shape(xshape)})")
    if src is not None and isinstance(src, Tensor) and \
            builtins.max(src._data.ndim, 1) != builtins.max(index._data.ndim, 1):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"src tensor ({fmt_shape(ishape)} vs {fmt_shape(src._data.shape)})")
    if nd and index._data.ndim:
        for d in range(nd):
            too_big = d != dim and ishape[d] > xshape[d]
            too_big_src = (isinstance(src, Tensor) and src._data.ndim and
                           ishape[d] > src._data.shape[d])
            if src is None and too_big:
                raise RuntimeError(
                    f"{op}(): Size does not match at dimension {d} expected index "
                    f"{list(ishape)} to be no larger than self {list(xshape)} apart from "
                    f"dimension {dim}")
            if src is not None and (too_big or too_big_src):
                src_shape = list(src._data.shape) if isinstance(src, Tensor) else []
                raise RuntimeError(
                    f"{op}(): Expected index {list(ishape)} to be no larger than self "
                    f"{list(xshape)} apart from dimension {dim} and to be no larger size than "
                    f"src {src_shape}")
    size = xshape[dim] if nd else 1
    _bounds(op, index._data, size, dim)
    return dim


def _check_src_dtype(op, input, src):
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got "
                           f"{input.dtype.name} and {src.dtype.name})")


# -- gather / scatter ----------------------------------------------------------------------------

def _coords(xp, index, dim):
    """An index tuple that reaches out[i0, .., index[i], .., in] for every position i of index
    (open-mesh aranges elsewhere: no copies of the index)."""
    nd = index.ndim
    out = []
    for d, s in enumerate(index.shape):
        if d == dim:
            out.append(index)
        else:
            shape = [1] * nd
            shape[d] = s
            out.append(xp.arange(s).reshape(shape))
    return tuple(out)


def _as_1d(a):
    return a.reshape(1) if a.ndim == 0 else a


def _slice_to(a, shape):
    if a.shape == tuple(shape):
        return a
    return a[tuple(slice(0, s) for s in shape)]


def _ufunc_at(xp, kind, out, idx, vals):
    """out[idx] = kind(out[idx], vals), repeated indices combined (NumPy's ufunc.at)."""
    if xp is np:
        getattr(np, kind).at(out, idx, vals)
        return
    # CuPy has add/maximum/minimum.at for the float dtypes (cupyx.scatter_* are deprecated);
    # other ufuncs and dtypes go through rounds of distinct targets.
    if kind in ("add", "maximum", "minimum") and out.dtype.kind == "f":
        try:
            getattr(xp, kind).at(out, idx, vals)
            return
        except (TypeError, NotImplementedError):
            pass
    _ufunc_at_rounds(xp, getattr(xp, kind), out, idx, vals)


def _ufunc_at_rounds(xp, ufunc, out, index, vals):
    """ufunc.at without ufunc.at: sort the flat targets, then apply the k-th occurrence of
    every target in round k (each round has distinct targets). Rounds = the largest repeat
    count, not the number of elements. Any index form works: the targets are read off an
    arange of out's positions."""
    targets = xp.arange(out.size).reshape(out.shape)[index]
    n = targets.size
    if n == 0:
        return
    vals = xp.asarray(vals)
    vals = _strip_leading_ones(vals, targets.ndim)
    vals = xp.broadcast_to(vals, targets.shape).ravel()
    flat = targets.ravel()
    order = xp.argsort(flat)
    sf = flat[order]
    start = xp.concatenate([xp.ones(1, dtype=bool), sf[1:] != sf[:-1]])
    group = xp.cumsum(start) - 1
    pos = xp.arange(n)
    rank = pos - pos[start][group]
    work = out if out.flags.c_contiguous else out.copy()
    view = work.reshape(-1)
    for r in range(int(rank.max()) + 1):
        sel = order[rank == r]
        t = flat[sel]
        view[t] = ufunc(view[t], vals[sel])
    if work is not out:
        out[...] = work


class Gather(Op):
    """out[i][j] = x[index[i][j]][j] (for dim 0): values picked along dim."""
    name = "gather"

    @staticmethod
    def forward(ctx, x, index, *, dim):
        ctx.dim = dim
        ctx.save(index)
        idx = _as_1d(index)
        out = _as_1d(x)[_coords(ctx.xp, idx, dim)]
        return out.reshape(index.shape)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        zeros = grad.new_zeros(ctx.in_shapes[0])
        return apply(ScatterAdd, zeros, index, grad, dim=ctx.dim), None


class ScatterAdd(Op):
    """out = x.clone(); out[index[i][j]][j] += src[i][j] (for dim 0)."""
    name = "scatter_add"

    @staticmethod
    def forward(ctx, x, index, src, *, dim):
        ctx.dim = dim
        ctx.save(index)
        out = x.copy()
        idx = _as_1d(index)
        if idx.size:
            vals = _slice_to(_as_1d(src), idx.shape)
            _ufunc_at(ctx.xp, "add", _as_1d(out), _coords(ctx.xp, idx, dim), vals)
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gsrc = None
        if need[2]:
            gsrc = _pad_to(apply(Gather, grad, index, dim=ctx.dim), ctx.in_shapes[2])
        return grad if need[0] else None, None, gsrc


def _pad_to(grad, shape):
    """grad placed at the start of zeros(shape): the grad of src elements that index did
    not reach is zero."""
    shape = tuple(shape)
    if tuple(grad._data.shape) == shape:
        return grad
    if not shape:
        from .shape import reshape
        return reshape(grad, ())
    zeros = grad.new_zeros(shape)
    region = tuple(slice(0, s) for s in grad._data.shape)
    return apply(IndexPut, zeros, grad, index=region)


class Scatter(Op):
    """out = x.clone(); out[index[i][j]][j] = src[i][j] (for dim 0); src may be a number."""
    name = "scatter"

    @staticmethod
    def forward(ctx, x, index, src, *, dim, reduce=None):
        ctx.dim, ctx.reduce = dim, reduce
        ctx.save(index)
        xp = ctx.xp
        out = x.copy()
        idx = _as_1d(index)
        if not idx.size:
            return out
        coords = _coords(xp, idx, dim)
        vals = _slice_to(_as_1d(src), idx.shape) if hasattr(src, "shape") else src
        target = _as_1d(out)
        if reduce is None:
            target[coords] = vals
        else:
            if not hasattr(vals, "shape"):
                vals = xp.asarray(vals).astype(out.dtype)
            _ufunc_at(xp, "add" if reduce == "add" else "multiply", target, coords, vals)
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.reduce is not None:
            raise RuntimeError(f"derivative for aten::scatter is not implemented (scatter with "
                               f"reduce='{ctx.reduce}'; use scatter_reduce)")
        (index,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gsrc = None
        if need[0]:
            gx = apply(Scatter, grad, index, 0.0, dim=ctx.dim)
        if len(need) > 2 and need[2]:
            gsrc = _pad_to(apply(Gather, grad, index, dim=ctx.dim), ctx.in_shapes[2])
        return gx, None, gsrc


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _identity(xp, reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind in "fV" or dtype == D.bfloat16.np:
        return -np.inf if reduce == "amax" else np.inf
    if dtype.kind == "b":
        return reduce != "amax"
    info = np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Op):
    """out = x.clone(), then src reduced into out along dim (sum, prod, mean, amax, amin)."""
    name = "scatter_reduce"

    @staticmethod
    def forward(ctx, x, index, src, *, dim, reduce, include_self=True):
        ctx.dim, ctx.reduce, ctx.include_self = dim, reduce, include_self
        xp = ctx.xp
        out = x.copy()
        idx = _as_1d(index)
        coords = _coords(xp, idx, dim)
        vals = _slice_to(_as_1d(src), idx.shape)
        target = _as_1d(out)
        if not include_self:
            target[coords] = _identity(xp, reduce, out.dtype)
        kind = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
                "amin": "minimum"}[reduce]
        if idx.size:
            _ufunc_at(xp, kind, target, coords, vals)
        saved = [x, index, src, out]
        if reduce == "mean":
            count = xp.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
            if idx.size:
                _ufunc_at(xp, "add", _as_1d(count), coords, xp.ones(idx.shape, dtype=x.dtype))
            count = xp.maximum(count, 1)
            if out.dtype.kind in "iub":
                out = xp.floor_divide(out, count)
            else:
                out = out / count
            saved[3] = out
            saved.append(count)
        elif reduce in ("amax", "amin"):
            # Ties share the gradient evenly, as in PyTorch. Like PyTorch, an excluded self
            # (include_self=False) equal to the result still counts as a tie member: it
            # gets no gradient but halves its partner's.
            self_hit = x == out
            count = self_hit.astype(x.dtype)
            if not include_self:
                touched = xp.zeros(x.shape, dtype=bool)
                _as_1d(touched)[coords] = True
                self_hit &= ~touched
            src_hit = vals == _as_1d(out)[coords]
            if idx.size:
                _ufunc_at(xp, "add", _as_1d(count), coords, src_hit.astype(x.dtype))
            saved += [self_hit, src_hit.reshape(index.shape), count]
        elif reduce == "prod":
            zeros = (x == 0).astype(x.dtype) if include_self else xp.zeros_like(x)
            if not include_self and idx.size:
                _as_1d(zeros)[coords] = 0
            if idx.size:
                _ufunc_at(xp, "add", _as_1d(zeros), coords, (vals == 0).astype(x.dtype))
            saved.append(zeros)
        ctx.save(*saved)
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import where
        saved = ctx.saved_tensors
        x, index, src, out = saved[:4]
        dim, reduce, include_self = ctx.dim, ctx.reduce, ctx.include_self
        need = ctx.needs_input_grad
        src_shape = ctx.in_shapes[2]
        gx = gsrc = None

        def gather(t):
            return apply(Gather, t, index, dim=dim)

        def drop_touched(t):
            return t if include_self else apply(Scatter, t, index, 0.0, dim=dim)

        if reduce == "sum":
            gx = drop_touched(grad)
            gsrc = _pad_to(gather(grad), src_shape) if need[2] else None
        elif reduce == "mean":
            scaled = grad / saved[4]
            gx = drop_touched(scaled)
            gsrc = _pad_to(gather(scaled), src_shape) if need[2] else None
        elif reduce in ("amax", "amin"):
            self_hit, src_hit, count = saved[4:]
            share = grad / count
            gx = where(self_hit, share, 0.0)
            if need[2]:
                gsrc = _pad_to(where(src_hit, gather(share), 0.0), src_shape)
        else:
            zeros = saved[4]
            one_zero = zeros == 1
            masked_x = where(x == 0, 1.0, x)
            src_part = src if tuple(src_shape) == tuple(index.shape) else \
                apply(GetItemView, src, index=tuple(slice(0, s) for s in index.shape))
            masked_src = where(src_part == 0, 1.0, src_part)
            masked_out = apply(ScatterReduce, masked_x, index, masked_src, dim=dim,
                               reduce="prod", include_self=include_self)
            gx = grad * where(x == 0, where(one_zero, masked_out, 0.0), out / masked_x)
            gx = drop_touched(gx)
            if need[2]:
                g_out = grad * out
                g_masked = grad * where(one_zero, masked_out, 0.0)
                gs = where(src_part == 0, gather(g_masked), gather(g_out) / masked_src)
                gsrc = _pad_to(gs, src_shape)
        return (gx if need[0] else None), None, gsrc


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of input picked along dim by index: ``out[i][j] = input[index[i][j]][j]``.

    Args:
        input: the source tensor.
        dim: the dim to index along.
        index: int64 (or int32) tensor with input's number of dims, no larger than input in
            the other dims.
    Returns:
        A tensor shaped like index.
    Example:
        >>> import ember
        >>> ember.gather(ember.tensor([[1, 2], [3, 4]]), 1, ember.tensor([[0, 0], [1, 0]]))
        tensor([[1, 1],
                [4, 3]])
    """
    from .elementwise import _out
    _index_dtype("gather", index, ("int64", "int32"),
                 "gather(): Expected dtype int32/int64 for index")
    _same_device("gather", input, index)
    dim = _check_gather_like("gather", input, dim, index)
    return _out(apply(Gather, input, index, dim=dim), out)


def _scatter_args(op, input, dim, index, src, value):
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{op}() missing 1 required positional argument: 'src' (or 'value')")
    _index_dtype(op, index, ("int64",), f"{op}(): Expected dtype int64 for index")
    _same_device(op, input, index)
    if isinstance(src, Tensor):
        _same_device(op, input, src)
    dim = _check_gather_like(op, input, dim, index, src)
    _check_src_dtype(op, input, src)
    return dim, src


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    """Copy of input with src (a tensor or a number) written at index along dim.

    Args:
        input, dim, index: as in gather; index is int64.
        src: tensor (no smaller than index) or a number; ``value=`` is the number form.
        reduce: None, 'add' or 'multiply' (combine instead of overwrite; not differentiable,
            as in PyTorch).
    Returns:
        A tensor shaped like input.
    Example:
        >>> import ember
        >>> ember.zeros(2, 3).scatter(1, ember.tensor([[2], [0]]), 1.0)
        tensor([[0., 0., 1.],
                [1., 0., 0.]])
    """
    from .elementwise import _out
    dim, src = _scatter_args("scatter", input, dim, index, src, value)
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    res = apply(Scatter, input, index, src, dim=dim, reduce=reduce)
    if not isinstance(src, Tensor):
        named(res, "ScatterBackward1")      # PyTorch's scatter.value overload
    return _out(res, out)


def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    """In-place scatter; returns self."""
    dim, src = _scatter_args("scatter_", self, dim, index, src, value)
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    if not isinstance(src, Tensor):
        return named_inplace(Scatter, self, "ScatterBackward1", index, src, dim=dim,
                             reduce=reduce)
    return apply_inplace(Scatter, self, index, src, dim=dim, reduce=reduce)


def scatter_add(input, dim, index, src, *, out=None):
    """Copy of input with src added at index along dim (repeated indices accumulate).

    Example:
        >>> import ember
        >>> ember.zeros(3).scatter_add(0, ember.tensor([0, 0, 2]), ember.ones(3))
        tensor([2., 0., 1.])
    """
    from .elementwise import _out
    _require_tensor("scatter_add", "src", src)
    dim, src = _scatter_args("scatter_add", input, dim, index, src, None)
    return _out(apply(ScatterAdd, input, index, src, dim=dim), out)


def scatter_add_(self, dim, index, src):
    """In-place scatter_add; returns self."""
    _require_tensor("scatter_add_", "src", src)
    dim, src = _scatter_args("scatter_add_", self, dim, index, src, None)
    return apply_inplace(ScatterAdd, self, index, src, dim=dim)


def _reduce_arg(op, reduce):
    if reduce not in _REDUCES:
        raise RuntimeError(f"{op}(): reduce argument must be either sum, prod, mean, amax or "
                           f"amin, got {reduce}")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """Copy of input with src reduced into it at index along dim.

    Args:
        reduce: 'sum', 'prod', 'mean', 'amax' or 'amin'.
        include_self: whether input's values take part in the reduction (else positions that
            index reaches start from src alone).
    Example:
        >>> import ember
        >>> x = ember.tensor([1., 2., 3.])
        >>> x.scatter_reduce(0, ember.tensor([0, 0]), ember.tensor([5., 4.]), "amax")
        tensor([5., 2., 3.])
    """
    from .elementwise import _out
    _require_tensor("scatter_reduce", "src", src)
    dim, src = _scatter_args("scatter_reduce", input, dim, index, src, None)
    _reduce_arg("scatter_reduce", reduce)
    return _out(apply(ScatterReduce, input, index, src, dim=dim, reduce=reduce,
                      include_self=include_self), out)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place scatter_reduce; returns self."""
    _require_tensor("scatter_reduce_", "src", src)
    dim, src = _scatter_args("scatter_reduce_", self, dim, index, src, None)
    _reduce_arg("scatter_reduce_", reduce)
    return apply_inplace(ScatterReduce, self, index, src, dim=dim, reduce=reduce,
                         include_self=include_self)


# -- index_* along one dim -----------------------------------------------------------------------

def _index_vector(op, index, allowed=("int64", "int32")):
    _require_tensor(op, "index", index)
    if index._data.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape "
                         f"{fmt_shape(index.shape)}")
    if index.dtype.name not in allowed:
        names = " or ".join(sorted(allowed))
        raise RuntimeError(f"{op}(): Expected dtype {names} for index, got {index.dtype.name}")


def _dim_index(input, dim, index):
    """The index tuple (:, .., :, index) that selects along dim; index as a 1-D array."""
    arr = index._data.reshape(-1)
    if arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    return (slice(None),) * dim + (arr,)


def index_select(input, dim, index, *, out=None):
    """Entries of input at index (a vector) along dim.

    Example:
        >>> import ember
        >>> ember.index_select(ember.tensor([[1, 2], [3, 4]]), 1, ember.tensor([1, 1]))
        tensor([[2, 2],
                [4, 4]])
    """
    from .elementwise import _out
    _index_vector("index_select", index)
    _same_device("index_select", input, index)
    nd = input._data.ndim
    dim = wrap_dim("index_select", dim, nd)
    size = input._data.shape[dim] if nd else 1
    arr = index._data
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= size):
        bad = int(arr.max()) if int(arr.max()) >= size else int(arr.min())
        raise IndexError(f"index_select(): index out of range in self: index {bad} for "
                         f"dimension {dim} with size {size}")
    if nd == 0:
        from .shape import reshape
        res = apply(GetItem, reshape(input, (1,)), index=_dim_index(input, 0, index))
        res = reshape(res, ()) if arr.size == 1 else res
        return _out(named(res, "IndexSelectBackward0", input), out)
    return _out(named(apply(GetItem, input, index=_dim_index(input, dim, index)),
                      "IndexSelectBackward0"), out)


def _check_index_source(op, input, dim, index, source, allowed=("int64", "int32")):
    _index_vector(op, index, allowed)
    _same_device(op, input, index)
    nd = input._data.ndim
    dim = wrap_dim(op, dim, nd)
    if isinstance(source, Tensor):
        if source.dtype is not input.dtype:
            raise RuntimeError(f"{op}(): self ({_legacy(input.dtype)}) and source "
                               f"({_legacy(source.dtype)}) must have the same scalar type")
        sshape, xshape = source._data.shape, input._data.shape
        n = index._data.size
        ssize = sshape[dim] if source._data.ndim else 1
        if n != ssize:
            raise RuntimeError(f"{op}(): Number of indices ({n}) should be equal to "
                               f"source.size(dim): ({ssize}), for dim: {dim}")
        if (nd == 0 and source._data.ndim) or source._data.ndim and nd and (
                len(sshape) != nd or builtins.any(
                a != b for d, (a, b) in enumerate(zip(sshape, xshape)) if d != dim)):
            raise RuntimeError(
                f"{op}(): source tensor shape must match self tensor shape, excluding the "
                f"specified dimension. Got self.shape = {list(xshape)} source.shape = "
                f"{list(sshape)}")
    return dim


def _index_target(op, input, dim, index, negative=False, exc=RuntimeError, prefix=""):
    nd = input._data.ndim
    size = input._data.shape[dim] if nd else 1
    _bounds(op, index._data, size, dim, negative=negative, exc=exc, prefix=prefix)
    return _dim_index(input, dim, index)


def _index_source(input, index, source):
    if isinstance(source, Tensor) and source._data.ndim == 0:
        from .shape import reshape
        return reshape(source, (1,) * input._data.ndim)
    return source


def _on_1d(fn, input, index, source, *args):
    """Run an index_* op on a 0-d input as on its 1-element view (PyTorch allows 0-d)."""
    from .shape import reshape
    inplace = args[-1]
    if isinstance(source, Tensor):
        source = reshape(source, (-1,))
    res = fn(reshape(input, (1,)), 0, index, source, *args)
    return input if inplace else reshape(res, ())


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """Copy of input with alpha * source added at index along dim (repeats accumulate).

    Example:
        >>> import ember
        >>> ember.zeros(3, 2).index_add(0, ember.tensor([0, 0]), ember.ones(2, 2))
        tensor([[2., 2.],
                [0., 0.],
                [0., 0.]])
    """
    from .elementwise import _out
    return _out(_index_add(input, dim, index, source, alpha, False), out)


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place index_add; returns self."""
    return _index_add(self, dim, index, source, alpha, True)


def _index_add(input, dim, index, source, alpha, inplace):
    op = "index_add_" if inplace else "index_add"
    _require_tensor(op, "source", source)
    dim = _check_index_source(op, input, dim, index, source)
    if input._data.ndim == 0:
        return _on_1d(_index_add, input, index, source, alpha, inplace)
    idx = _index_target(op, input, dim, index)
    if alpha != 1:
        if not (input.is_floating_point() or input.is_complex()):
            alpha = int(alpha)      # PyTorch casts alpha to self's dtype
        source = source * alpha
    source = _index_source(input, index, source)
    if inplace:
        return named_inplace(IndexPut, input, "IndexAddBackward0", source, index=idx,
                             accumulate=True)
    return named(apply(IndexPut, input, source, index=idx, accumulate=True), "IndexAddBackward0")


def index_copy(input, dim, index, source, *, out=None):
    """Copy of input with source's slices written at index along dim.

    Example:
        >>> import ember
        >>> ember.zeros(3).index_copy(0, ember.tensor([2]), ember.tensor([5.]))
        tensor([0., 0., 5.])
    """
    from .elementwise import _out
    return _out(_index_copy(input, dim, index, source, False), out)


def index_copy_(self, dim, index, source):
    """In-place index_copy; returns self."""
    return _index_copy(self, dim, index, source, True)


def _index_copy(input, dim, index, source, inplace):
    op = "index_copy_" if inplace else "index_copy"
    _require_tensor(op, "source", source)
    dim = _check_index_source(op, input, dim, index, source, ("int64",))
    if input._data.ndim == 0:
        return _on_1d(_index_copy, input, index, source, inplace)
    idx = _index_target(op, input, dim, index, exc=IndexError, prefix="index_copy_(): ")
    source = _index_source(input, index, source)
    if inplace:
        return named_inplace(IndexPut, input, "IndexCopyBackward0", source, index=idx)
    return named(apply(IndexPut, input, source, index=idx), "IndexCopyBackward0")


def index_fill(input, dim, index, value):
    """Copy of input with value (a number or 0-d tensor) at index along dim.

    Example:
        >>> import ember
        >>> ember.zeros(2, 3).index_fill(1, ember.tensor([0, 2]), 7.0)
        tensor([[7., 0., 7.],
                [7., 0., 7.]])
    """
    return _index_fill(input, dim, index, value, False)


def index_fill_(self, dim, index, value):
    """In-place index_fill; returns self."""
    return _index_fill(self, dim, index, value, True)


def _fill_value(op, input, value):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value._data.ndim} dimension(s).")
        if type(value._data) is not type(input._data):
            value = value.to(input.device)
        if value.dtype is not input.dtype:
            value = value.to(input.dtype)
    elif not isinstance(value, (int, float, complex, np.generic)):
        raise TypeError(f"{op}(): value must be a number or a 0-d Tensor, got "
                        f"{type(value).__name__}")
    return value


def _index_fill(input, dim, index, value, inplace):
    _index_vector("index_fill_", index, ("int64",))
    _same_device("index_fill_", input, index)
    value = _fill_value("index_fill_", input, value)
    if input._data.ndim == 0:
        from .shape import reshape
        res = _index_fill(reshape(input, (1,)), 0, index, value, inplace)
        return input if inplace else reshape(res, ())
    dim = wrap_dim("index_fill_", dim, input._data.ndim)
    idx = _index_target("index_fill_", input, dim, index, negative=True, exc=IndexError)
    name = "IndexFillBackward1" if isinstance(value, Tensor) else "IndexFillBackward0"
    if inplace:
        return named_inplace(IndexPut, input, name, value, index=idx)
    return named(apply(IndexPut, input, value, index=idx), name)


def _index_put_args(op, input, indices, values):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{op}(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    if builtins.any(i is not None and not isinstance(i, Tensor) for i in indices):
        raise TypeError(f"{op}(): argument 'indices' must be tuple of Tensors")
    basic, adv = _plan(input, tuple(slice(None) if i is None else i for i in indices))
    if adv is None:
        adv = basic
    _check_adv(input._data.shape, adv)
    if not isinstance(values, Tensor):
        raise TypeError(f"{op}(): argument 'values' must be Tensor, not {type(values).__name__}")
    if values.dtype is not input.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{_legacy(input.dtype)} for the destination and {_legacy(values.dtype)} for the "
            "source.")
    return adv


def index_put(input, indices, values, accumulate=False):
    """Copy of input with ``out[indices] = values`` (or ``+=`` with accumulate, which sums
    repeated indices).

    Example:
        >>> import ember
        >>> ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor(1.), accumulate=True)
        tensor([2., 0., 0.])
    """
    idx = _index_put_args("index_put", input, indices, values)
    return apply(IndexPut, input, values, index=idx, accumulate=builtins.bool(accumulate))


def index_put_(input, indices, values, accumulate=False):
    """In-place index_put; returns input."""
    idx = _index_put_args("index_put_", input, indices, values)
    return apply_inplace(IndexPut, input, values, index=idx,
                         accumulate=builtins.bool(accumulate))


def _index_reduce(input, dim, index, source, reduce, include_self, inplace):
    op = "index_reduce_" if inplace else "index_reduce"
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"{op}(): Expected reduce to be one of prod, mean, amax or amin but "
                           f"got {reduce}.")
    _require_tensor(op, "source", source)
    dim = _check_index_source(op, input, dim, index, source)
    if input._data.ndim == 0:
        return _on_1d(_index_reduce, input, index, source, reduce, include_self, inplace)
    _index_target(op, input, dim, index)
    from .shape import expand, reshape
    nd = input._data.ndim
    src = _index_source(input, index, source)
    view = [1] * nd
    view[dim] = index._data.size
    idx = reshape(index.long(), view)
    if tuple(src._data.shape) != tuple(idx._data.shape):
        idx = expand(idx, tuple(src._data.shape))
    if inplace:
        return named_inplace(ScatterReduce, input, "IndexReduceBackward0", idx, src, dim=dim,
                             reduce=reduce, include_self=include_self)
    return named(apply(ScatterReduce, input, idx, src, dim=dim, reduce=reduce,
                       include_self=include_self), "IndexReduceBackward0")


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """Copy of input with source's slices reduced into it at index along dim.

    Args:
        reduce: 'prod', 'mean', 'amax' or 'amin'.
        include_self: whether input's values take part in the reduction.
    Example:
        >>> import ember
        >>> x = ember.ones(3)
        >>> x.index_reduce(0, ember.tensor([0, 0]), ember.tensor([2., 3.]), "prod")
        tensor([6., 1., 1.])
    """
    from .elementwise import _out
    return _out(_index_reduce(input, dim, index, source, reduce, include_self, False), out)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    """In-place index_reduce; returns self."""
    return _index_reduce(self, dim, index, source, reduce, include_self, True)


# -- masks -------------------------------------------------------------------------------------

class MaskedFill(Op):
    """where(mask, value, x), in x's dtype; value is a number or a 0-d tensor."""
    name = "masked_fill"

    @staticmethod
    def forward(ctx, x, mask, value):
        xp = ctx.xp
        ctx.save(mask)
        ctx.value_dtype = getattr(value, "dtype", None)
        if not hasattr(value, "dtype"):
            value = xp.asarray(value).astype(x.dtype)
        try:
            out = xp.where(mask, value, x)
        except ValueError:
            raise broadcast_error("masked_fill", x.shape, mask.shape) from None
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import where
        (mask,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gv = None
        if need[0]:
            gx = sum_to(where(mask, 0.0, grad), ctx.in_shapes[0])
        if len(need) > 2 and need[2]:
            gv = where(mask, grad, 0.0).sum()
            if ctx.value_dtype is not None and gv._data.dtype != ctx.value_dtype:
                gv = gv.to(D.from_numpy_dtype(ctx.value_dtype))
        return gx, None, gv


def _check_mask(op, mask):
    _require_tensor(op, "mask", mask)
    if mask.dtype is not D.bool:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{_np_name(mask)}")


def _np_name(t) -> str:
    return {"uint8": "unsigned char", "int64": "long int", "int32": "int",
            "float32": "float", "float64": "double"}.get(t.dtype.name, t.dtype.name)


def _masked_fill_value(op, input, value):
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got tensor "
                               f"with {value._data.ndim} dimension(s).")
        if type(value._data) is not type(input._data):
            value = value.to(input.device)
    elif not isinstance(value, (int, float, complex, np.generic)):
        raise TypeError(f"{op}(): value must be a number or a 0-d Tensor, got "
                        f"{type(value).__name__}")
    return value


def masked_fill(input, mask, value):
    """Copy of input with value (a number or 0-d tensor) where mask (bool, broadcast) is True.

    Example:
        >>> import ember
        >>> x = ember.tensor([1., 2., 3.])
        >>> x.masked_fill(x > 1, 0.0)
        tensor([1., 0., 0.])
    """
    _check_mask("masked_fill_", mask)
    value = _masked_fill_value("masked_fill_", input, value)
    _same_device("masked_fill", input, mask)
    if isinstance(value, Tensor):
        return named(apply(MaskedFill, input, mask, value), "MaskedFillBackward1")
    return apply(MaskedFill, input, mask, value)


def masked_fill_(self, mask, value):
    """In-place masked_fill (mask broadcasts to self, not the other way); returns self."""
    _check_mask("masked_fill_", mask)
    value = _masked_fill_value("masked_fill_", self, value)
    _same_device("masked_fill_", self, mask)
    if isinstance(value, Tensor):
        return named_inplace(MaskedFill, self, "MaskedFillBackward1", mask, value)
    return apply_inplace(MaskedFill, self, mask, value)


class MaskedScatter(Op):
    """x with source's leading elements written, in order, where mask is True."""
    name = "masked_scatter"

    @staticmethod
    def forward(ctx, x, mask, source):
        xp = ctx.xp
        try:
            shape = np.broadcast_shapes(x.shape, mask.shape)
        except ValueError:
            raise broadcast_error("masked_scatter", x.shape, mask.shape) from None
        ctx.save(mask)
        m = xp.broadcast_to(mask, shape)
        n = int(xp.count_nonzero(m))
        if source.size < n:
            raise RuntimeError(f"masked_scatter: Number of elements of source < number of ones "
                               f"in mask ({source.size} < {n})")
        out = xp.broadcast_to(x, shape).copy()
        out[m] = source.reshape(-1)[:n]
        return out

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import where
        from .shape import reshape
        (mask,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gs = None
        if need[0]:
            gx = sum_to(where(mask, 0.0, grad), ctx.in_shapes[0])
        if need[2]:
            m = mask._data
            if m.shape != grad._data.shape:
                m = ctx.xp.broadcast_to(m, grad._data.shape)
            picked = apply(GetItem, grad, index=(m,))
            numel = int(np.prod(ctx.in_shapes[2]))
            gs = reshape(_pad_to(picked, (numel,)), tuple(ctx.in_shapes[2]))
        return gx, None, gs


def _masked_scatter_args(op, input, mask, source):
    _check_mask(op, mask)
    _require_tensor(op, "source", source)
    _same_device(op, input, mask)
    _same_device(op, input, source)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"{op}: expected self and source to have same dtypes but got "
                           f"{_legacy(input.dtype)} and {_legacy(source.dtype)}")


def masked_scatter(input, mask, source):
    """Copy of input with source's elements, in order, where mask (bool, broadcast) is True.

    Example:
        >>> import ember
        >>> x = ember.zeros(4)
        >>> x.masked_scatter(ember.tensor([True, False, True, False]), ember.tensor([1., 2.]))
        tensor([1., 0., 2., 0.])
    """
    _masked_scatter_args("masked_scatter", input, mask, source)
    return apply(MaskedScatter, input, mask, source)


def masked_scatter_(self, mask, source):
    """In-place masked_scatter; returns self."""
    _masked_scatter_args("masked_scatter_", self, mask, source)
    return apply_inplace(MaskedScatter, self, mask, source)


def masked_select(input, mask, *, out=None):
    """1-D tensor of input's elements where mask (bool, broadcast with input) is True.

    Example:
        >>> import ember
        >>> x = ember.tensor([[1, 2], [3, 4]])
        >>> ember.masked_select(x, x > 2)
        tensor([3, 4])
    """
    from .elementwise import _out
    from .shape import expand
    _require_tensor("masked_select", "mask", mask)
    if mask.dtype is not D.bool:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    _same_device("masked_select", input, mask)
    xs, ms = input._data.shape, mask._data.shape
    try:
        shape = np.broadcast_shapes(xs, ms)
    except ValueError:
        raise broadcast_error("masked_select", xs, ms) from None
    x = input if xs == shape else expand(input, shape)
    m = mask._data if ms == shape else _xp(input).broadcast_to(mask._data, shape)
    if not shape:
        from .shape import reshape
        x, m = reshape(x, (1,)), m.reshape(1)
    return _out(named(apply(GetItem, x, index=(m,)), "MaskedSelectBackward0"), out)


# -- flat indices: take, put --------------------------------------------------------------------

def _flat_bounds(op, index, numel):
    arr = index._data
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi >= numel or lo < -numel:
            bad = hi if hi >= numel else lo
            raise IndexError(f"{op}(): out of range: tried to access index {bad} on a tensor of "
                             f"{numel} elements.")


def take(input, index):
    """input treated as 1-D, read at index (negative counts from the end); shaped like index.

    Example:
        >>> import ember
        >>> ember.take(ember.tensor([[4, 3], [5, 6]]), ember.tensor([0, 3]))
        tensor([4, 6])
    """
    from .shape import reshape
    _require_tensor("take", "index", index)
    if index.dtype is not D.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_legacy(index.dtype)}")
    _same_device("take", input, index)
    _flat_bounds("take", index, input.numel())
    if input.numel() == 0 and index.numel():
        raise IndexError("take(): tried to take from an empty tensor")
    return named(apply(GetItem, reshape(input, (-1,)), index=(index._data,)), "TakeBackward0")


def take_along_dim(input, indices, dim=None, *, out=None):
    """Values of input at indices along dim, with input and indices broadcast in the other
    dims (dim=None: both flattened).

    Example:
        >>> import ember
        >>> x = ember.tensor([[10., 30., 20.], [60., 40., 50.]])
        >>> ember.take_along_dim(x, ember.tensor([[1], [0]]), dim=1)
        tensor([[30.],
                [60.]])
    """
    from .elementwise import _out
    from .shape import expand, reshape
    _require_tensor("take_along_dim", "indices", indices)
    if indices.dtype is not D.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_legacy(indices.dtype)}")
    _same_device("take_along_dim", input, indices)
    if dim is None:
        flat = reshape(input, (-1,))
        idx = reshape(indices, (-1,))
        _bounds("take_along_dim", idx._data, flat._data.shape[0], 0)
        return _out(apply(Gather, flat, idx, dim=0), out)
    nd = input._data.ndim
    if nd != indices._data.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {nd} dimensions for input, and "
                           f"{indices._data.ndim} dimensions for indices")
    dim = wrap_dim("take_along_dim", dim, nd)
    xs, ishape = list(input._data.shape), list(indices._data.shape)
    if nd:
        xo, io = xs[:], ishape[:]
        xo[dim] = io[dim] = 1
        try:
            common = list(np.broadcast_shapes(tuple(xo), tuple(io)))
        except ValueError:
            raise broadcast_error("take_along_dim", xs, ishape) from None
        xt, it = common[:], common[:]
        xt[dim], it[dim] = xs[dim], ishape[dim]
        x = input if xt == xs else expand(input, tuple(xt))
        idx = indices if it == ishape else expand(indices, tuple(it))
    else:
        x, idx = input, indices
    _bounds("take_along_dim", idx._data, xs[dim] if nd else 1, dim)
    return _out(apply(Gather, x, idx, dim=dim), out)


class Put(Op):
    """x treated as 1-D, with source written (or added) at index."""
    name = "put"

    @staticmethod
    def forward(ctx, x, index, source, *, accumulate=False):
        ctx.accumulate = accumulate
        ctx.save(index)
        out = x.copy()
        flat = out.reshape(-1)
        idx = index.reshape(-1)
        vals = source.reshape(-1) if hasattr(source, "shape") else source
        if accumulate:
            _ufunc_at(ctx.xp, "add", flat, (idx,), vals)
        else:
            flat[idx] = vals
        return out

    @staticmethod
    def backward(ctx, grad):
        from .shape import reshape
        (index,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = gs = None
        if need[0]:
            gx = grad if ctx.accumulate else apply(Put, grad, index, 0.0)
        if len(need) > 2 and need[2]:
            picked = apply(GetItem, reshape(grad, (-1,)), index=(index._data.reshape(-1),))
            gs = reshape(picked, tuple(ctx.in_shapes[2]))
        return gx, None, gs


def _put_args(op, input, index, source):
    _require_tensor(op, "index", index)
    _require_tensor(op, "source", source)
    if index.dtype is not D.int64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got "
                           f"{_legacy(index.dtype)}")
    _same_device(op, input, index)
    _same_device(op, input, source)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"{op}(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_legacy(input.dtype)} and source.dtype = "
                           f"{_legacy(source.dtype)}")
    if source.numel() != index.numel():
        raise IndexError(f"{op}(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, index.numel() "
                         f"= {index.numel()}")
    _flat_bounds(op, index, input.numel())


def put(input, index, source, accumulate=False):
    """Copy of input (treated as 1-D) with source written at index (added with accumulate).

    Example:
        >>> import ember
        >>> ember.put(ember.zeros(2, 2), ember.tensor([3, 0]), ember.tensor([1., 2.]))
        tensor([[2., 0.],
                [0., 1.]])
    """
    _put_args("put", input, index, source)
    return apply(Put, input, index, source, accumulate=builtins.bool(accumulate))


def put_(self, index, source, accumulate=False):
    """In-place put; returns self."""
    _put_args("put_", self, index, source)
    return apply_inplace(Put, self, index, source, accumulate=builtins.bool(accumulate))


# -- nonzero -----------------------------------------------------------------------------------

class Nonzero(Op):
    """(n, ndim) int64 coordinates of the non-zero elements, in row-major order."""
    name = "nonzero"
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.argwhere(x).astype(np.int64, copy=False)


class NonzeroTuple(Op):
    """One int64 vector of coordinates per dim (a 0-d input counts as 1-D)."""
    name = "nonzero"
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        return tuple(i.astype(np.int64, copy=False) for i in ctx.xp.nonzero(_as_1d(x)))


def nonzero(input, *, out=None, as_tuple=False):
    """Coordinates of input's non-zero elements: an (n, ndim) int64 tensor, or with
    as_tuple=True one 1-D tensor per dim (what ``input[...]`` indexing takes).

    Example:
        >>> import ember
        >>> ember.nonzero(ember.tensor([[0, 1], [2, 0]]))
        tensor([[0, 1],
                [1, 0]])
    """
    if as_tuple:
        return apply(NonzeroTuple, input)
    from .elementwise import _out
    return _out(apply(Nonzero, input), out)


def argwhere(input):
    """Coordinates of input's non-zero elements, an (n, ndim) int64 tensor (= nonzero).

    Example:
        >>> import ember
        >>> ember.argwhere(ember.tensor([0., 3., 0., 4.]))
        tensor([[1],
                [3]])
    """
    return apply(Nonzero, input)


TENSOR_METHODS = {
    "gather": gather, "scatter": scatter, "scatter_": scatter_, "scatter_add": scatter_add,
    "scatter_add_": scatter_add_, "scatter_reduce": scatter_reduce,
    "scatter_reduce_": scatter_reduce_, "index_select": index_select, "index_add": index_add,
    "index_add_": index_add_, "index_copy": index_copy, "index_copy_": index_copy_,
    "index_fill": index_fill, "index_fill_": index_fill_, "index_put": index_put,
    "index_put_": index_put_, "index_reduce": index_reduce, "index_reduce_": index_reduce_,
    "masked_fill": masked_fill, "masked_fill_": masked_fill_, "masked_scatter": masked_scatter,
    "masked_scatter_": masked_scatter_, "masked_select": masked_select, "take": take,
    "take_along_dim": take_along_dim, "put": put, "put_": put_, "nonzero": nonzero,
    "argwhere": argwhere,
}
