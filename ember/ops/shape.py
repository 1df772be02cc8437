"""Shape and view ops: view, reshape, permute, transpose, expand, squeeze, ..."""

from __future__ import annotations

import builtins

from .._dispatch import Op, apply
from .._errors import fmt_shape, wrap_dim

__all__ = ["reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "expand",
           "broadcast_to", "squeeze", "unsqueeze", "flatten", "contiguous"]


def _infer_shape(op: str, shape, numel: int):
    shape = tuple(int(s) for s in shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got {fmt_shape(shape)}")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"{op}: invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_arg(shape):
    """Accept f(2, 3), f((2, 3)) and f([2, 3]) (and Size)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


class View(Op):
    """A view with a new shape over the same memory (no copy)."""
    name = "view"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, shape):
        strides = _view_strides(x.shape, x.strides, shape)
        return ctx.xp.lib.stride_tricks.as_strided(x, shape, strides) if strides is not None \
            and not x.flags.c_contiguous else x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shapes[0])


class ReshapeCopy(Op):
    """reshape of a tensor whose layout does not allow a view: copies."""
    name = "reshape"

    @staticmethod
    def forward(ctx, x, *, shape):
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shapes[0])


def _view_strides(old_shape, old_strides, new_shape):
    """Byte strides that present (old_shape, old_strides) memory as new_shape, or None when no
    view can (PyTorch's computeStride)."""
    if len(old_shape) == 0:
        return tuple(0 for _ in new_shape)
    numel = 1
    for s in old_shape:
        numel *= s
    if numel == 0:
        return tuple(0 for _ in new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def _can_view(arr, shape) -> bool:
    if arr.flags.c_contiguous:
        return True
    return _view_strides(arr.shape, arr.strides, shape) is not None


def view(input, *shape):
    """Same data with a new shape; RuntimeError when the strides do not allow it."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and \
            not hasattr(shape[0], "__index__"):
        return view_dtype(input, shape[0])
    shape = _infer_shape("view", _shape_arg(shape), input._data.size)
    if not _can_view(input._data, shape):
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (at least one "
            f"dimension spans across two contiguous subspaces) for input {fmt_shape(input.shape)}"
            f" -> {fmt_shape(shape)}. Use .reshape(...) instead.")
    return apply(View, input, shape=shape)


def view_dtype(input, dtype):
    from .. import _dtype as D
    dt = D.to_dtype(dtype)
    if dt.np == input._data.dtype:
        return apply(View, input, shape=input._data.shape)
    return apply(ViewDtype, input, dtype=dt.np)


class ViewDtype(Op):
    name = "view"
    is_view = True
    differentiable = False

    @staticmethod
    def forward(ctx, x, *, dtype):
        return x.view(dtype)


def reshape(input, *shape):
    """Same data with a new shape: a view when possible, else a copy."""
    shape = _infer_shape("reshape", _shape_arg(shape), input._data.size)
    if shape == input._data.shape:
        return apply(View, input, shape=shape)
    if _can_view(input._data, shape):
        return apply(View, input, shape=shape)
    return apply(ReshapeCopy, input, shape=shape)


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


class Permute(Op):
    name = "permute"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return grad.permute(tuple(inv))


def permute(input, *dims):
    """Reorder dims (a view)."""
    dims = _shape_arg(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim("permute", d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {dims}")
    return apply(Permute, input, dims=dims)


def transpose(input, dim0, dim1):
    """Swap two dims (a view)."""
    ndim = input._data.ndim
    if ndim == 0:
        return apply(View, input, shape=())
    d0, d1 = wrap_dim("transpose", dim0, ndim), wrap_dim("transpose", dim1, ndim)
    dims = list(range(ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return apply(Permute, input, dims=tuple(dims))


swapaxes = transpose
swapdims = transpose


def t(input):
    """Transpose of a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    if input._data.ndim < 2:
        return apply(View, input, shape=input._data.shape)
    return transpose(input, 0, 1)


class Expand(Op):
    """Broadcast to a larger shape without copying (a view with zero strides)."""
    name = "expand"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, shape):
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        from ._broadcast import sum_to
        return sum_to(grad, ctx.in_shapes[0])


def expand(input, *sizes):
    """Broadcast singleton dims to ``sizes`` (-1 keeps a dim); a view."""
    sizes = tuple(int(s) for s in _shape_arg(sizes))
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the "
                           "number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    out = list(sizes)
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing "
                                   f"dimension {i}")
            continue
        cur = shape[i - lead]
        if s == -1:
            out[i] = cur
        elif cur != s and cur != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}")
    out = tuple(out)
    if out == shape:
        return apply(View, input, shape=shape)
    return apply(Expand, input, shape=out)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, size):
    return expand(input, tuple(size))


def squeeze(input, dim=None):
    """Drop size-1 dims (all of them, or those in dim)."""
    shape = input._data.shape
    ndim = len(shape)
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        dims = {wrap_dim("squeeze", d, ndim) for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return apply(View, input, shape=new)


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim``."""
    shape = input._data.shape
    d = wrap_dim("unsqueeze", dim, len(shape) + 1)
    return apply(View, input, shape=shape[:d] + (1,) + shape[d:])


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one."""
    shape = input._data.shape
    if len(shape) == 0:
        return reshape(input, (1,))
    s = wrap_dim("flatten", start_dim, len(shape))
    e = wrap_dim("flatten", end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for x in shape[s:e + 1]:
        n *= x
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


class Contiguous(Op):
    name = "contiguous"

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def contiguous(input, memory_format=None):
    """The tensor itself when already C-contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return apply(Contiguous, input)


def _view_method(self, *shape):
    return view(self, *shape)


def _reshape_method(self, *shape):
    return reshape(self, *shape)


def _expand_method(self, *sizes):
    return expand(self, *sizes)


def _permute_method(self, *dims):
    return permute(self, *dims)


TENSOR_METHODS = {
    "view": _view_method, "reshape": _reshape_method, "expand": _expand_method,
    "permute": _permute_method, "view_as": view_as, "reshape_as": reshape_as,
    "transpose": transpose, "swapaxes": swapaxes, "swapdims": swapdims, "t": t,
    "expand_as": expand_as, "broadcast_to": broadcast_to, "squeeze": squeeze,
    "unsqueeze": unsqueeze, "flatten": flatten, "contiguous": contiguous,
    "T": property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1)))),
    "mT": property(lambda self: transpose(self, -2, -1)),
}
_builtins = builtins
