"""Shape and view ops: view, reshape, permute, transpose, expand, squeeze, ..."""

from __future__ import annotations

import builtins

import numpy as np

from .._dispatch import Op, apply, apply_inplace
from .._errors import fmt_shape, wrap_dim
from ._names import named

__all__ = ["reshape", "permute", "transpose", "swapaxes", "swapdims", "t", "expand",
           "broadcast_to", "squeeze", "unsqueeze", "flatten", "contiguous", "unflatten", "ravel",
           "narrow", "narrow_copy", "select", "split", "split_with_sizes", "chunk",
           "tensor_split", "hsplit", "vsplit", "dsplit", "unbind", "cat", "concat",
           "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack", "column_stack",
           "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "meshgrid", "flip", "fliplr", "flipud", "roll", "rot90", "movedim", "moveaxis",
           "tile", "repeat_interleave", "tril", "triu", "diagonal", "diag_embed", "diag",
           "diagflat", "as_strided", "adjoint"]


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
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value and "
                               "is ambiguous")
        if numel % known:
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
    backward_name = "UnsafeViewBackward0"   # PyTorch: clone, then _unsafe_view

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
    """The same memory read as another dtype; the last dim scales with the element sizes."""
    from .. import _dtype as D
    from .._dispatch import _legacy_name
    dt = D.to_dtype(dtype)
    src = input._data.dtype
    if dt.np == src:
        return apply(View, input, shape=input._data.shape)
    a, b = src.itemsize, dt.np.itemsize
    if a != b:
        names = f"{_legacy_name(input.dtype)} as {_legacy_name(dt)} (different element sizes)"
        if input._data.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 to view {names}")
        if input.stride(-1) != 1 and input._data.shape[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 to view {names}, but got "
                               f"{input.stride(-1)}")
        if b > a and input._data.shape[-1] % (b // a):
            raise RuntimeError(f"self.size(-1) must be divisible by {b // a} to view {names}, "
                               f"but got {input._data.shape[-1]}")
        if b > a and input.storage_offset() % (b // a):
            raise RuntimeError(f"self.storage_offset() must be divisible by {b // a} to view "
                               f"{names}, but got {input.storage_offset()}")
    try:
        return apply(ViewDtype, input, dtype=dt.np)
    except ValueError as e:
        raise RuntimeError(f"view: cannot view {fmt_shape(input._data.shape)} "
                           f"{input.dtype} as {dt} with these strides ({e})") from None


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
    return named(_transpose(input, dim0, dim1), "TransposeBackward0")


def _transpose(input, dim0, dim1):
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
        return named(apply(View, input, shape=input._data.shape), "TBackward0")
    return named(_transpose(input, 0, 1), "TBackward0")


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
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to "
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
        return named(apply(View, input, shape=shape), "ExpandBackward0")
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
    # PyTorch's overloads: squeeze() 0, squeeze(int) 1, squeeze(dims) 2
    number = 0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1
    return named(apply(View, input, shape=new), f"SqueezeBackward{number}")


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim``."""
    shape = input._data.shape
    d = wrap_dim("unsqueeze", dim, len(shape) + 1)
    return named(apply(View, input, shape=shape[:d] + (1,) + shape[d:]), "UnsqueezeBackward0")


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
    backward_name = "CloneBackward0"

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


# -- helpers -----------------------------------------------------------------------------------

def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _as_int(v) -> int:
    return int(v.__index__()) if not isinstance(v, int) else v


def _tensor_list(op: str, tensors, arg="tensors"):
    """The list of tensors given to cat/stack/...; TypeError like PyTorch's otherwise."""
    from .._tensor import Tensor
    if not isinstance(tensors, (list, tuple)) or isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


def _strided(xp, x, shape, strides_elems):
    """A view of x's memory with shape and strides given in elements."""
    item = x.dtype.itemsize
    return xp.lib.stride_tricks.as_strided(x, tuple(shape), tuple(s * item for s in strides_elems))


def _shifted(xp, x, delta: int):
    """A one-element view starting delta elements after (or before) x's first element."""
    if delta == 0:
        return x
    step = x.dtype.itemsize if delta > 0 else -x.dtype.itemsize
    return xp.lib.stride_tricks.as_strided(x, (abs(delta) + 1,), (step,))[abs(delta):]


def _elem_strides(arr):
    item = arr.dtype.itemsize
    return tuple(s // item for s in arr.strides)


def _contiguous_strides(shape):
    strides = []
    acc = 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def _fix_multi_view_chains(input, outs, indices):
    """A multi-output view op (split, unbind) records one chain entry per output that
    rebuilds just that output, so the view machinery can replay it on its own."""
    chain = input._view_chain
    for o, idx in zip(outs, indices):
        o._view_chain = chain + ((Slice, {"index": idx}),)


# -- slicing views: narrow, select, split, chunk, unbind ---------------------------------------

class Slice(Op):
    """x[index] for an index of ints and slices: a view."""
    name = "slice"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.index = index
        return x[index + (Ellipsis,)]       # Ellipsis: a 0-d view, never a NumPy scalar

    @staticmethod
    def backward(ctx, grad):
        return apply(SliceBackward, grad, shape=ctx.in_shapes[0], index=ctx.index)


class SliceBackward(Op):
    """zeros(shape) with grad written at index: the adjoint of Slice."""
    name = "slice_backward"

    @staticmethod
    def forward(ctx, grad, *, shape, index):
        ctx.index = index
        out = ctx.xp.zeros(shape, dtype=grad.dtype)
        out[index + (Ellipsis,)] = grad
        return out

    @staticmethod
    def backward(ctx, grad):
        return apply(Slice, grad, index=ctx.index)


def narrow(input, dim, start, length):
    """The view input[..., start:start + length, ...] along dim.

    Args:
        input: the tensor.
        dim: the dim to narrow.
        start: first index (may be negative, or a 0-d integer tensor).
        length: number of elements kept.

    Returns:
        A view sharing memory (and version counter) with ``input``.

    Example:
        >>> import ember
        >>> ember.narrow(ember.arange(6).reshape(2, 3), 1, 1, 2).tolist()
        [[1, 2], [4, 5]]
    """
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim("narrow", dim, ndim)
    size = input._data.shape[d]
    start, length = _as_int(start), _as_int(length)
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative, got {length}")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    index = (slice(None),) * d + (slice(start, start + length),)
    return apply(Slice, input, index=index)


def narrow_copy(input, dim, start, length):
    """Like narrow, but a copy with its own memory."""
    from .creation import clone
    return named(clone(narrow(input, dim, start, length)), "NarrowCopyBackward0")


def select(input, dim, index):
    """The view input[..., index, ...] along dim (that dim removed).

    Example:
        >>> import ember
        >>> ember.arange(6).reshape(2, 3).select(1, -1).tolist()
        [2, 5]
    """
    ndim = input._data.ndim
    if ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim("select", dim, ndim)
    size = input._data.shape[d]
    index = _as_int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input._data.shape)} at dimension {d}")
    return named(apply(Slice, input, index=(slice(None),) * d + (index % size,)),
                 "SelectBackward0")


class Split(Op):
    """Pieces x[bounds[i][0]:bounds[i][1]] along dim: views."""
    name = "split"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, dim, bounds):
        ctx.dim, ctx.bounds = dim, bounds
        lead = (slice(None),) * dim
        return tuple(x[lead + (slice(a, b),)] for a, b in bounds)

    @staticmethod
    def backward(ctx, *grads):
        shape = ctx.in_shapes[0]
        bounds = ctx.bounds
        tiled = bounds[0][0] == 0 and bounds[-1][1] == shape[ctx.dim] and all(
            bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1))
        if tiled:
            return cat(list(grads), ctx.dim)
        lead = (slice(None),) * ctx.dim
        total = None
        for (a, b), g in zip(bounds, grads):
            part = apply(SliceBackward, g, shape=shape, index=lead + (slice(a, b),))
            total = part if total is None else total + part
        return total


def _split_bounds(input, dim, bounds):
    outs = apply(Split, input, dim=dim, bounds=tuple(bounds))
    lead = (slice(None),) * dim
    _fix_multi_view_chains(input, outs, [lead + (slice(a, b),) for a, b in bounds])
    return outs


def _bounds_from_sizes(sizes):
    bounds, start = [], 0
    for s in sizes:
        bounds.append((start, start + s))
        start += s
    return bounds


def split(tensor, split_size_or_sections, dim=0):
    """Views of tensor in pieces of split_size (the last may be smaller) or of given sizes.

    Args:
        tensor: the tensor to split.
        split_size_or_sections: an int (size of each piece) or a list of sizes summing to
            ``tensor.size(dim)``.
        dim: the dim to split.

    Returns:
        A tuple of views sharing memory with ``tensor``.

    Example:
        >>> import ember
        >>> [t.tolist() for t in ember.split(ember.arange(5), 2)]
        [[0, 1], [2, 3], [4]]
    """
    ndim = tensor._data.ndim
    if ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim("split", dim, ndim)
    n = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [_as_int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    else:
        size = _as_int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        count = builtins.max((n + size - 1) // size, 1) if size else 1
        sizes = [size] * (count - 1) + [n - size * (count - 1)]
        return _split_bounds(tensor, d, _bounds_from_sizes(sizes))
    return named(_split_bounds(tensor, d, _bounds_from_sizes(sizes)), "SplitWithSizesBackward0")


def split_with_sizes(input, split_sizes, dim=0):
    """split with a list of sizes."""
    return split(input, list(split_sizes), dim)


def chunk(input, chunks, dim=0):
    """Up to ``chunks`` views of (nearly) equal size along dim.

    Args:
        input: a tensor with at least 1 dim.
        chunks: the number of pieces asked for; each has ``ceil(size / chunks)`` elements
            along dim, the last fewer, so fewer pieces may come back (PyTorch's rule).
        dim: the dim to split.

    Returns:
        A tuple of views.

    Example:
        >>> import ember
        >>> [t.tolist() for t in ember.arange(5).chunk(3)]
        [[0, 1], [2, 3], [4]]
    """
    chunks = _as_int(chunks)
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim("chunk", dim, input._data.ndim)
    n = input._data.shape[d]
    if n == 0:
        return _split_bounds(input, d, [(0, 0)] * chunks)
    return split(input, (n + chunks - 1) // chunks, d)


def tensor_split(input, indices_or_sections, dim=0):
    """Views split at indices, or into ``sections`` pieces whose sizes differ by at most 1.

    Args:
        input: a tensor with at least 1 dim.
        indices_or_sections: an int (number of pieces), a list of indices (Python slice
            rules: negative indices count from the end, out-of-order ones give empty pieces),
            or an integer tensor holding either.
        dim: the dim to split.

    Returns:
        A tuple of views.

    Example:
        >>> import ember
        >>> [t.tolist() for t in ember.tensor_split(ember.arange(7), 3)]
        [[0, 1, 2], [3, 4], [5, 6]]
    """
    from .._tensor import Tensor
    ndim = input._data.ndim
    if ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = wrap_dim("tensor_split", dim, ndim)
    n = input._data.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg._data.dtype.kind not in "iu":
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have "
                               f"integer dtype, but got {arg.dtype}")
        if arg._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {arg._data.ndim} dims")
        arg = arg.item() if arg._data.ndim == 0 else [int(v) for v in arg.tolist()]
    if isinstance(arg, (list, tuple)):
        cuts = [0] + [_as_int(i) for i in arg]
        bounds = []
        for k, a in enumerate(cuts):
            b = cuts[k + 1] if k + 1 < len(cuts) else None
            lo, hi, _ = slice(a, b).indices(n)
            bounds.append((lo, builtins.max(lo, hi)))
    else:
        sections = _as_int(arg)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(n, sections)
        bounds = _bounds_from_sizes([base + 1] * extra + [base] * (sections - extra))
    # PyTorch slices each piece (one SliceBackward0 node per piece; ember has one node)
    return named(_split_bounds(input, d, bounds), "SliceBackward0")


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for 1-D tensors)."""
    return _split_along(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, "hsplit")


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor with at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError(f"torch.vsplit requires a tensor with at least 2 dimension, but got "
                           f"a tensor with {input._data.ndim} dimensions!")
    return _split_along(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor with at least 3 dims."""
    if input._data.ndim < 3:
        raise RuntimeError(f"torch.dsplit requires a tensor with at least 3 dimension, but got "
                           f"a tensor with {input._data.ndim} dimensions!")
    return _split_along(input, indices_or_sections, 2, "dsplit")


def _split_along(input, arg, dim, op):
    if isinstance(arg, int) and input._data.ndim and input._data.shape[dim] % arg:
        raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the size "
                           f"of the dimension {input._data.shape[dim]} is not divisible by the "
                           f"split_size {arg}!")
    return tensor_split(input, arg, dim)


class Unbind(Op):
    """Every slice along dim, as views with that dim removed."""
    name = "unbind"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.dim)


def unbind(input, dim=0):
    """Tuple of views input.select(dim, i) for every i.

    Example:
        >>> import ember
        >>> [t.tolist() for t in ember.tensor([[1, 2], [3, 4]]).unbind(1)]
        [[1, 3], [2, 4]]
    """
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim("unbind", dim, input._data.ndim)
    if input._data.shape[d] == 0:
        return ()
    outs = apply(Unbind, input, dim=d)
    lead = (slice(None),) * d
    _fix_multi_view_chains(input, outs, [lead + (i,) for i in range(len(outs))])
    return outs


# -- joining: cat, stack and friends -----------------------------------------------------------

class Cat(Op):
    """Concatenation along dim; inputs are promoted to one dtype."""
    name = "cat"
    promote = "same"

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        keep = [x for x in xs if not _legacy_empty(x)]
        if not keep:
            return xs[0].copy()
        if len(keep) == 1:
            return keep[0].copy()
        return ctx.xp.concatenate(keep, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        grads = []
        start = 0
        for shape, nd in zip(ctx.in_shapes, need):
            if shape == (0,) and grad._data.ndim != 1:
                grads.append(reshape(narrow(grad, ctx.dim, 0, 0), (0,)) if nd else None)
                continue
            size = shape[ctx.dim]
            grads.append(narrow(grad, ctx.dim, start, size) if nd else None)
            start += size
        return tuple(grads)


def _legacy_empty(x) -> bool:
    # PyTorch still accepts (and skips) 1-D empty tensors of any other shape in cat.
    return x.ndim == 1 and x.shape[0] == 0


def cat(tensors, dim=0, *, out=None):
    """Concatenate tensors along an existing dim (dtypes promoted like add).

    Args:
        tensors: a sequence of tensors with equal shapes except in ``dim``; 1-D empty tensors
            are skipped (PyTorch's legacy rule) but still take part in dtype promotion.
        dim: the dim to join along.
        out: optional output tensor, resized when its shape differs.

    Returns:
        A new tensor (a copy).

    Example:
        >>> import ember
        >>> ember.cat([ember.tensor([[1, 2]]), ember.tensor([[3.5, 4.0]])]).tolist()
        [[1.0, 2.0], [3.5, 4.0]]
    """
    from .elementwise import _out
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    ref_i = next((i for i, t in enumerate(tensors) if not _legacy_empty(t._data)), 0)
    ref = tensors[ref_i]._data.shape
    d = wrap_dim("cat", dim, len(ref))
    for i, t in enumerate(tensors):
        shape = t._data.shape
        if _legacy_empty(t._data):
            continue
        if len(shape) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} "
                               f"and {len(shape)}")
        for k, (a, b) in enumerate(zip(ref, shape)):
            if k != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} "
                    f"but got size {b} for tensor number {i} in the list.")
    return _out(apply(Cat, *tensors, dim=d), out)


concat = cat


def concatenate(tensors, axis=0, out=None, *, dim=None):
    """Alias of cat (NumPy's argument name)."""
    return cat(tensors, axis if dim is None else dim, out=out)


def stack(tensors, dim=0, *, out=None):
    """Join equally shaped tensors along a new dim.

    Args:
        tensors: a sequence of tensors of one shape (dtypes are promoted like cat).
        dim: where the new dim goes, in ``[-ndim - 1, ndim]``.
        out: optional output tensor.

    Returns:
        A new tensor with one more dim than the inputs.

    Example:
        >>> import ember
        >>> ember.stack([ember.tensor([1, 2]), ember.tensor([3, 4])], dim=1).tolist()
        [[1, 3], [2, 4]]
    """
    from .elementwise import _out
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(t._data.shape)} at entry {i}")
    d = wrap_dim("stack", dim, len(first) + 1)
    return _out(apply(Stack, *tensors, dim=d), out)


class Stack(Op):
    """Equally shaped tensors joined along a new dim; inputs are promoted to one dtype."""
    name = "stack"
    promote = "same"

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return ctx.xp.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return unbind(grad, ctx.dim)


def hstack(tensors, *, out=None):
    """cat along dim 1 (dim 0 when the inputs are 1-D) after atleast_1d."""
    tensors = atleast_1d(*_tensor_list("hstack", tensors))
    tensors = tensors if isinstance(tensors, tuple) else (tensors,)
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """cat along dim 0 after atleast_2d."""
    tensors = atleast_2d(*_tensor_list("vstack", tensors))
    return cat(tensors if isinstance(tensors, tuple) else (tensors,), 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """cat along dim 2 after atleast_3d."""
    tensors = atleast_3d(*_tensor_list("dstack", tensors))
    return cat(tensors if isinstance(tensors, tuple) else (tensors,), 2, out=out)


def column_stack(tensors, *, out=None):
    """Stack 0-D/1-D tensors as columns (and other tensors along dim 1)."""
    tensors = _tensor_list("column_stack", tensors)
    if not tensors:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    cols = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return cat(cols, 1, out=out)


def atleast_1d(*tensors):
    """Tensors with at least 1 dim (0-D become (1,)); a tuple when given several."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Tensors with at least 2 dims: 0-D -> (1, 1), 1-D (n,) -> (1, n)."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Tensors with at least 3 dims: 0-D -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast(tensors, 3)


def _atleast(tensors, n):
    from .._tensor import Tensor
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    outs = []
    for t in tensors:
        shape = t._data.shape
        if len(shape) >= n:
            outs.append(t)
            continue
        if n == 1:
            new = (1,)
        elif n == 2:
            new = (1,) * (2 - len(shape)) + shape
        else:
            new = {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)]
        out = apply(View, t, shape=new)
        outs.append(named(out, "UnsqueezeBackward0") if len(shape) else out)
    return outs[0] if single else tuple(outs)


# -- broadcasting ------------------------------------------------------------------------------

def broadcast_shapes(*shapes):
    """The shape that all of shapes broadcast to (ints count as 1-D shapes).

    Example:
        >>> import ember
        >>> ember.broadcast_shapes((2, 1), (3,))
        torch.Size([2, 3])
    """
    from .._tensor import Size
    norm = [(s,) if isinstance(s, int) else tuple(int(x) for x in s) for s in shapes]
    ndim = builtins.max((len(s) for s in norm), default=0)
    out = [1] * ndim
    for i, s in enumerate(norm):
        for k, v in enumerate(s):
            pos = ndim - len(s) + k
            if v < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {v}: "
                                   f"{list(s)}")
            if out[pos] == 1:
                out[pos] = v
            elif v != 1 and v != out[pos]:
                raise RuntimeError(
                    f"Shape mismatch: objects cannot be broadcast to a single shape. Attempting "
                    f"to broadcast a dimension of length {v} at {pos - ndim}! Mismatching "
                    f"argument at index {i} had {fmt_shape(s)}; but expected shape should be "
                    f"broadcastable to {out}")
    return Size(out)


def broadcast_tensors(*tensors):
    """Views of the tensors expanded to their common broadcast shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensor_list("broadcast_tensors", tensors)
    shape = ()
    for t in tensors:
        try:
            shape = tuple(broadcast_shapes(shape, t._data.shape))
        except RuntimeError:
            a, b = shape, t._data.shape
            n = builtins.max(len(a), len(b))
            pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
            k = next(k for k in range(n - 1, -1, -1)
                     if pa[k] != pb[k] and pa[k] != 1 and pb[k] != 1)
            raise RuntimeError(f"The size of tensor a ({pa[k]}) must match the size of tensor b "
                               f"({pb[k]}) at non-singleton dimension {k}") from None
    # PyTorch hands back a tensor that already has the shape itself, not a view of it
    return tuple(t if tuple(t._data.shape) == shape else expand(t, shape) for t in tensors)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 0-D/1-D tensors.

    Args:
        tensors: 0-D or 1-D tensors of one dtype (or one list of them).
        indexing: "ij" (matrix indexing) or "xy" (Cartesian: the first two grids are
            swapped). Like PyTorch, leaving it out warns and uses "ij".

    Returns:
        A tuple of expanded views, one per input.

    Example:
        >>> import ember
        >>> x, y = ember.meshgrid(ember.tensor([1, 2]), ember.tensor([3, 4, 5]), indexing="xy")
        >>> x.shape, y.tolist()
        (torch.Size([3, 2]), [[3, 3], [4, 4], [5, 5]])
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensor_list("meshgrid", tensors)
    if indexing is None:
        import warnings
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    if not tensors:
        return ()
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a tensor of shape {fmt_shape(t._data.shape)}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have "
                               "the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(t._data.size for t in order)
    grids = []
    for i, t in enumerate(order):
        view_shape = [1] * len(shape)
        view_shape[i] = shape[i]
        grids.append(expand(reshape(t, tuple(view_shape)), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# -- reordering: flip, roll, rot90, movedim ----------------------------------------------------

class Flip(Op):
    """Reverse the order of elements along dims (a copy, like PyTorch)."""
    name = "flip"

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        if not dims:
            return x.copy()
        return ctx.xp.ascontiguousarray(ctx.xp.flip(x, axis=dims))

    @staticmethod
    def backward(ctx, grad):
        return apply(Flip, grad, dims=ctx.dims)


def _dims_arg(op, dims, ndim):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    norm = tuple(wrap_dim(op, d, ndim) for d in dims)
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"dim {norm[0]} appears multiple times in the list of dims")
    return norm


def flip(input, dims):
    """Reverse the order of elements along the given dims."""
    return apply(Flip, input, dims=_dims_arg("flip", dims, input._data.ndim))


def fliplr(input):
    """Flip a tensor of at least 2 dims left-right (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flip a tensor of at least 1 dim up-down (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class Roll(Op):
    """Shift elements cyclically along dims."""
    name = "roll"

    @staticmethod
    def forward(ctx, x, *, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        if dims is None:
            return ctx.xp.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        return ctx.xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        return apply(Roll, grad, shifts=tuple(-s for s in ctx.shifts), dims=ctx.dims)


def roll(input, shifts, dims=None):
    """Roll elements along dims (the flattened tensor when dims is None).

    Args:
        input: the tensor.
        shifts: an int or a tuple of ints, one per dim in ``dims``.
        dims: an int, a tuple of ints, or None.

    Returns:
        A new tensor; elements shifted past the end come back at the start.

    Example:
        >>> import ember
        >>> ember.roll(ember.arange(4), 1).tolist()
        [3, 0, 1, 2]
    """
    shifts = (shifts,) if not isinstance(shifts, (tuple, list)) else tuple(shifts)
    shifts = tuple(_as_int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        return apply(Roll, input, shifts=shifts, dims=None)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    ndim = input._data.ndim
    dims = tuple(wrap_dim("roll", d, ndim) for d in dims)
    return apply(Roll, input, shifts=shifts, dims=dims)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims (from dims[0] towards dims[1])."""
    dims = tuple(dims)
    ndim = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = wrap_dim("rot90", dims[0], ndim), wrap_dim("rot90", dims[1], ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k = k % 4
    if k == 1:
        out = _transpose(flip(input, (d1,)), d0, d1)
    elif k == 2:
        out = flip(input, (d0, d1))
    elif k == 3:
        out = _transpose(flip(input, (d0,)), d0, d1)
    else:
        from .creation import clone
        out = clone(input)
    return named(out, "Rot90Backward0", input)


def movedim(input, source, destination):
    """Move dims at source to destination (a view); the other dims keep their order.

    Example:
        >>> import ember
        >>> ember.zeros(2, 3, 4).movedim(0, -1).shape
        torch.Size([3, 4, 2])
    """
    ndim = input._data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = tuple(wrap_dim("movedim", d, ndim) for d in src)
    dst = tuple(wrap_dim("movedim", d, ndim) for d in dst)
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(src)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(dst)})")
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(ndim) if i not in src)
    order = tuple(o if o is not None else next(rest) for o in order)
    return apply(Permute, input, dims=order)


moveaxis = movedim


# -- repeating ---------------------------------------------------------------------------------

class Repeat(Op):
    """Tile the tensor ``repeats`` times along each dim (leading new dims allowed)."""
    name = "repeat"

    @staticmethod
    def forward(ctx, x, *, repeats):
        ctx.repeats = repeats
        lead = len(repeats) - x.ndim
        return ctx.xp.tile(x.reshape((1,) * lead + x.shape), repeats)

    @staticmethod
    def backward(ctx, grad):
        from .reduce import sum as _sum
        reps = ctx.repeats
        shape = ctx.in_shapes[0]
        padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
        split_shape = []
        for r, s in zip(reps, padded):
            split_shape += [r, s]
        g = reshape(grad, tuple(split_shape))
        g = _sum(g, tuple(range(0, 2 * len(reps), 2)))
        return reshape(g, shape)


def repeat(input, *repeats):
    """Tensor.repeat: tile along each dim (like numpy.tile, with len(repeats) >= ndim).

    Example:
        >>> import ember
        >>> ember.tensor([1, 2]).repeat(2, 2).tolist()
        [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    repeats = tuple(_as_int(r) for r in _shape_arg(repeats))
    if len(repeats) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    if any(r < 0 for r in repeats):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeats "
                           f"{list(repeats)}")
    return apply(Repeat, input, repeats=repeats)


def tile(input, dims):
    """Repeat along dims; missing leading repeats count as 1."""
    dims = tuple(_as_int(r) for r in ((dims,) if isinstance(dims, int) else dims))
    lead = input._data.ndim - len(dims)
    if lead > 0:
        dims = (1,) * lead + dims
    return repeat(input, dims)


class RepeatInterleave(Op):
    """Each slice along dim repeated repeats[i] times."""
    name = "repeat_interleave"

    @staticmethod
    def forward(ctx, x, *, repeats, dim):
        ctx.repeats, ctx.dim = repeats, dim
        # repeats is a host array: the output size depends on it (CuPy wants a list).
        reps = repeats if ctx.xp is np else repeats.tolist()
        return ctx.xp.repeat(x, reps, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        return apply(_SegmentSum, grad, repeats=ctx.repeats, dim=ctx.dim)


class _SegmentSum(Op):
    """Sums of consecutive segments of lengths repeats along dim: repeat_interleave's adjoint."""
    name = "repeat_interleave_backward"

    @staticmethod
    def forward(ctx, g, *, repeats, dim):
        ctx.repeats, ctx.dim = repeats, dim
        xp = ctx.xp
        n = repeats.shape[0]
        segment = xp.asarray(np.repeat(np.arange(n), repeats))
        moved = xp.moveaxis(g, dim, 0)
        out = xp.zeros((n,) + moved.shape[1:], dtype=g.dtype)
        _scatter_add(xp, out, segment, moved)
        return xp.ascontiguousarray(xp.moveaxis(out, 0, dim))

    @staticmethod
    def backward(ctx, grad):
        return apply(RepeatInterleave, grad, repeats=ctx.repeats, dim=ctx.dim)


def _scatter_add(xp, out, index, values):
    # CuPy: ufunc.at (cupyx.scatter_add is deprecated).
    from .index import _ufunc_at

    _ufunc_at(xp, "add", out, index, values)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or each slice along dim) repeats times.

    Args:
        input: the tensor (flattened when ``dim`` is None).
        repeats: an int, or an integer tensor with one count per slice along ``dim``.
        dim: the dim to repeat along.
        output_size: the total length along dim, checked against the repeats.

    Returns:
        A new tensor. ``repeat_interleave(repeats)`` with one integer tensor gives
        ``repeat_interleave(arange(len(repeats)), repeats)``.

    Example:
        >>> import ember
        >>> ember.repeat_interleave(ember.tensor([1, 2]), ember.tensor([2, 1])).tolist()
        [1, 1, 2]
    """
    from .._tensor import Tensor
    if repeats is None:
        repeats, input = input, None
        if repeats._data.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        from .creation import arange
        input = arange(repeats._data.shape[0], device=repeats.device)
        dim = 0
    if dim is None:
        input = reshape(input, (-1,))
        dim = 0
    d = wrap_dim("repeat_interleave", dim, input._data.ndim)
    xp = np
    n = input._data.shape[d] if input._data.ndim else 1
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats._data.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave: repeats has to be Long or Int tensor, got "
                               f"{repeats.dtype}")
        reps = np.asarray(repeats.cpu()._data).astype(np.int64).reshape(-1)
        if reps.shape[0] == 1:
            reps = xp.full((n,), int(reps[0]), dtype=xp.int64)
        elif reps.shape[0] != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {reps.shape[0]} and input.size({d}) = {n}")
        if reps.size and bool((reps < 0).any()):
            raise RuntimeError("repeats can not be negative")
    else:
        r = _as_int(repeats)
        if r < 0:
            raise RuntimeError("repeats can not be negative")
        reps = xp.full((n,), r, dtype=xp.int64)
    if output_size is not None and int(reps.sum()) != output_size:
        raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the "
                           f"sum of repeats {int(reps.sum())}")
    # PyTorch expands and reshapes for an int, gathers with index_select for a tensor
    return named(apply(RepeatInterleave, input, repeats=reps, dim=d),
                 "IndexSelectBackward0" if isinstance(repeats, Tensor) else "ViewBackward0")


def _xp_of(t):
    from .._device import xp_of
    return xp_of(t._data)


# -- triangles and diagonals -------------------------------------------------------------------

class Tril(Op):
    """Lower triangle of the last two dims (elements above ``diagonal`` set to 0)."""
    name = "tril"

    @staticmethod
    def forward(ctx, x, *, diagonal):
        ctx.diagonal = diagonal
        return ctx.xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return apply(Tril, grad, diagonal=ctx.diagonal)


class Triu(Op):
    """Upper triangle of the last two dims (elements below ``diagonal`` set to 0)."""
    name = "triu"

    @staticmethod
    def forward(ctx, x, *, diagonal):
        ctx.diagonal = diagonal
        return ctx.xp.triu(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return apply(Triu, grad, diagonal=ctx.diagonal)


def _check_tri(op, input):
    if input._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")


def tril(input, diagonal=0, *, out=None):
    """Lower triangular part of the matrix (or batch of matrices).

    Args:
        input: a tensor with at least 2 dims.
        diagonal: 0 keeps the main diagonal, > 0 also that many above it, < 0 fewer.
        out: optional output tensor.

    Example:
        >>> import ember
        >>> ember.tril(ember.ones(2, 3, dtype=ember.int64), 1).tolist()
        [[1, 1, 0], [1, 1, 1]]
    """
    from .elementwise import _out
    _check_tri("tril", input)
    return _out(apply(Tril, input, diagonal=_as_int(diagonal)), out)


def triu(input, diagonal=0, *, out=None):
    """Upper triangular part of the matrix (or batch of matrices)."""
    from .elementwise import _out
    _check_tri("triu", input)
    return _out(apply(Triu, input, diagonal=_as_int(diagonal)), out)


def tril_(self, diagonal=0):
    _check_tri("tril", self)
    return apply_inplace(Tril, self, diagonal=_as_int(diagonal))


def triu_(self, diagonal=0):
    _check_tri("triu", self)
    return apply_inplace(Triu, self, diagonal=_as_int(diagonal))


def _diag_geometry(shape, strides, offset, d1, d2):
    """(shape, strides, start offset) of the diagonal view, all in elements."""
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = builtins.max(builtins.min(n1, n2 - offset), 0)
        start = offset * strides[d2] if length else 0
    else:
        length = builtins.max(builtins.min(n1 + offset, n2), 0)
        start = -offset * strides[d1] if length else 0
    keep = [i for i in range(len(shape)) if i not in (d1, d2)]
    out_shape = tuple(shape[i] for i in keep) + (length,)
    out_strides = tuple(strides[i] for i in keep) + (strides[d1] + strides[d2],)
    return out_shape, out_strides, start


def _diag_view(xp, x, offset, d1, d2):
    shape, strides, start = _diag_geometry(x.shape, _elem_strides(x), offset, d1, d2)
    return _strided(xp, _shifted(xp, x, start), shape, strides)


class Diagonal(Op):
    """The diagonal of dims (dim1, dim2) as a view, appended as the last dim."""
    name = "diagonal"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        return _diag_view(ctx.xp, x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, grad):
        return apply(DiagonalScatter, grad, shape=ctx.in_shapes[0], offset=ctx.offset,
                     dim1=ctx.dim1, dim2=ctx.dim2)


class DiagonalScatter(Op):
    """zeros(shape) with x written on the diagonal (offset, dim1, dim2): diagonal's adjoint."""
    name = "diag_embed"

    @staticmethod
    def forward(ctx, x, *, shape, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        out = ctx.xp.zeros(shape, dtype=x.dtype)
        _diag_view(ctx.xp, out, offset, dim1, dim2)[...] = x
        return out

    @staticmethod
    def backward(ctx, grad):
        return apply(Diagonal, grad, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """View of the diagonal with ``offset`` of the dims (dim1, dim2), moved to the end.

    Args:
        input: a tensor with at least 2 dims.
        offset: 0 the main diagonal, > 0 above it, < 0 below it.
        dim1, dim2: the two dims the diagonal runs through.

    Returns:
        A view: writing to it writes into ``input``.

    Example:
        >>> import ember
        >>> ember.arange(9).reshape(3, 3).diagonal(1).tolist()
        [1, 5]
    """
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"diagonal: input must have at least 2 dims, got {ndim}")
    d1, d2 = wrap_dim("diagonal", dim1, ndim), wrap_dim("diagonal", dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return apply(Diagonal, input, offset=_as_int(offset), dim1=d1, dim2=d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Tensors whose diagonals (offset, dim1, dim2) are the last dim of input; zeros elsewhere.

    Example:
        >>> import ember
        >>> ember.diag_embed(ember.tensor([[1, 2]])).tolist()
        [[[1, 0], [0, 2]]]
    """
    ndim = input._data.ndim + 1
    d1, d2 = wrap_dim("diag_embed", dim1, ndim), wrap_dim("diag_embed", dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = _as_int(offset)
    shape = list(input._data.shape[:-1]) if input._data.ndim else []
    n = (input._data.shape[-1] if input._data.ndim else 1) + builtins.abs(offset)
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    return named(apply(DiagonalScatter, input, shape=tuple(shape), offset=offset, dim1=d1,
                       dim2=d2), "DiagEmbedBackward0")


def diag(input, diagonal=0, *, out=None):
    """1-D -> the square matrix with input on a diagonal; 2-D -> that diagonal (a copy)."""
    from .creation import clone
    from .elementwise import _out
    ndim = input._data.ndim
    if ndim == 1:
        res = diag_embed(input, diagonal, 0, 1)
    elif ndim == 2:
        res = named(clone(globals()["diagonal"](input, diagonal, 0, 1)),
                    "DiagonalBackward0_copy")
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")
    return _out(res, out)


def diagflat(input, offset=0):
    """The flattened input on a diagonal of a square matrix."""
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


# -- strided views: as_strided, unfold ---------------------------------------------------------

def _positions(xp, shape, strides, offset=0):
    """Storage position (in elements) of every element of a strided geometry."""
    pos = xp.full(tuple(shape), offset, dtype=xp.int64)
    for k, (n, s) in enumerate(zip(shape, strides)):
        view = [1] * len(shape)
        view[k] = n
        pos = pos + (xp.arange(n, dtype=xp.int64) * s).reshape(view)
    return pos


class AsStrided(Op):
    """A view with the given sizes and strides (in elements) over input's memory."""
    name = "as_strided"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, size, stride, delta):
        ctx.in_geom = (x.shape, _elem_strides(x), 0)
        ctx.out_geom = (size, stride, delta)
        return _strided(ctx.xp, _shifted(ctx.xp, x, delta), size, stride)

    @staticmethod
    def backward(ctx, grad):
        return apply(_StridedGather, grad, in_geom=ctx.in_geom, out_geom=ctx.out_geom)


class _StridedGather(Op):
    """Gradient of a strided view: output elements summed onto the input elements that share
    their memory position (input elements must not overlap each other)."""
    name = "as_strided_backward"

    @staticmethod
    def forward(ctx, g, *, in_geom, out_geom):
        ctx.in_geom, ctx.out_geom = in_geom, out_geom
        xp = ctx.xp
        in_pos, out_pos, lo, span = _geoms(xp, in_geom, out_geom)
        buf = xp.zeros(span, dtype=g.dtype)
        _scatter_add(xp, buf, out_pos - lo, g)
        return buf[in_pos - lo]

    @staticmethod
    def backward(ctx, grad):
        return apply(_StridedScatter, grad, in_geom=ctx.in_geom, out_geom=ctx.out_geom)


class _StridedScatter(Op):
    """The adjoint of _StridedGather: input-shaped values read out at the view's positions."""
    name = "as_strided_scatter"

    @staticmethod
    def forward(ctx, x, *, in_geom, out_geom):
        ctx.in_geom, ctx.out_geom = in_geom, out_geom
        xp = ctx.xp
        in_pos, out_pos, lo, span = _geoms(xp, in_geom, out_geom)
        buf = xp.zeros(span, dtype=x.dtype)
        buf[in_pos - lo] = x
        return buf[out_pos - lo]

    @staticmethod
    def backward(ctx, grad):
        return apply(_StridedGather, grad, in_geom=ctx.in_geom, out_geom=ctx.out_geom)


def _geoms(xp, in_geom, out_geom):
    in_pos = _positions(xp, *in_geom)
    out_pos = _positions(xp, *out_geom)
    los = [int(p.min()) for p in (in_pos, out_pos) if p.size]
    his = [int(p.max()) for p in (in_pos, out_pos) if p.size]
    lo = builtins.min(los) if los else 0
    span = (builtins.max(his) - lo + 1) if his else 0
    return in_pos, out_pos, lo, span


def as_strided(input, size, stride, storage_offset=None):
    """A view with sizes and strides in elements, starting at storage_offset of the storage.

    Args:
        input: the tensor whose memory is viewed.
        size: the shape of the view.
        stride: the stride of each dim, in elements (non-negative).
        storage_offset: first element, counted from the start of the storage (default:
            ``input.storage_offset()``).

    Returns:
        A view. Its gradient sums the view's elements onto the input elements that share
        their memory (input elements must not overlap each other).

    Example:
        >>> import ember
        >>> ember.arange(6).as_strided((2, 2), (1, 2)).tolist()
        [[0, 2], [1, 3]]
    """
    size = tuple(_as_int(s) for s in size)
    stride = tuple(_as_int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} sizes and "
                           f"{len(stride)} strides")
    if any(s < 0 for s in size):
        raise RuntimeError(f"as_strided: Negative sizes are not allowed, got {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    own = input.storage_offset()
    delta = 0 if storage_offset is None else _as_int(storage_offset) - own
    if storage_offset is not None and _as_int(storage_offset) < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")
    _check_storage_bounds(input, size, stride, own + delta)
    return apply(AsStrided, input, size=size, stride=stride, delta=delta)


def _check_storage_bounds(input, size, stride, offset):
    """RuntimeError when the view would reach past the tensor's storage (NumPy would not
    stop us: it would read foreign memory)."""
    if any(s == 0 for s in size):
        return
    need = offset + 1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))
    root = input._base if input._base is not None else input
    arr = root._data
    item = arr.dtype.itemsize
    avail = arr.nbytes // item if arr.flags.c_contiguous or arr.flags.f_contiguous else None
    if avail is None:
        avail = input.storage_offset() + 1 + builtins.sum(
            (n - 1) * builtins.abs(s) for n, s in zip(input._data.shape, input.stride()))
    if need > avail:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {item} requiring a storage size of "
                           f"{need * item} are out of bounds for storage of size {avail * item}")


class Unfold(Op):
    """All windows of ``size`` elements, ``step`` apart, along dim: a view (window dim last)."""
    name = "unfold"
    is_view = True

    @staticmethod
    def forward(ctx, x, *, dimension, size, step):
        shape, strides = _unfold_geometry(x.shape, _elem_strides(x), dimension, size, step)
        ctx.in_geom = (x.shape, _contiguous_strides(x.shape), 0)
        ctx.out_geom = _unfold_geometry(x.shape, _contiguous_strides(x.shape), dimension, size,
                                        step) + (0,)
        return _strided(ctx.xp, x, shape, strides)

    @staticmethod
    def backward(ctx, grad):
        return apply(_StridedGather, grad, in_geom=ctx.in_geom, out_geom=ctx.out_geom)


def _unfold_geometry(shape, strides, dim, size, step):
    if len(shape) == 0:
        return (1, size), (1, 1)
    n = (shape[dim] - size) // step + 1
    new_shape = tuple(shape[:dim]) + (n,) + tuple(shape[dim + 1:]) + (size,)
    new_strides = tuple(strides[:dim]) + (strides[dim] * step,) + tuple(strides[dim + 1:]) + \
        (strides[dim],)
    return new_shape, new_strides


def unfold(input, dimension, size, step):
    """Tensor.unfold: the windows input[..., i*step : i*step+size, ...] as a view.

    Args:
        input: the tensor.
        dimension: the dim the windows slide along; it becomes the window index.
        size: the window length (a new last dim).
        step: the distance between window starts (> 0).

    Returns:
        A view; overlapping windows share memory, and their gradients add up.

    Example:
        >>> import ember
        >>> ember.arange(5).unfold(0, 2, 2).tolist()
        [[0, 1], [2, 3]]
    """
    ndim = input._data.ndim
    d = wrap_dim("unfold", dimension, ndim)
    length = input._data.shape[d] if ndim else 1
    size, step = _as_int(size), _as_int(step)
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if ndim == 0:
        return apply(View, input, shape=(size,))
    return apply(Unfold, input, dimension=d, size=size, step=step)


# -- more views and aliases --------------------------------------------------------------------

def unflatten(input, dim, sizes):
    """Split dim into ``sizes`` (one may be -1)."""
    shape = input._data.shape
    d = wrap_dim("unflatten", dim, len(shape))
    sizes = tuple(_as_int(s) for s in sizes)
    if len(sizes) == 0:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = _prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten: only one dimension can be inferred")
    if -1 in sizes:
        if known == 0 or shape[d] % known:
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                               f"the size of dim {d} ({shape[d]}) in the input tensor")
        sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    elif known != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {d} ({shape[d]}) in the input tensor")
    return view(input, shape[:d] + sizes + shape[d + 1:])


def ravel(input):
    """The flattened tensor: a view when the layout allows, else a contiguous copy."""
    return named(reshape(input, (-1,)), "ViewBackward0", input)   # PyTorch: contiguous().view


def _conj(t):
    from .elementwise import conj
    return conj(t) if t._data.dtype.kind == "c" else t


def adjoint(input):
    """Conjugate transpose of the last two dims."""
    if input._data.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. "
                           f"Got {input._data.ndim}-D tensor.")
    return _conj(transpose(input, -2, -1))


def _T(self):
    ndim = self._data.ndim
    if ndim != 2:
        import warnings
        if ndim == 0:
            warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity "
                          "in these cases.", UserWarning, stacklevel=2)
        else:
            warnings.warn(
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return permute(self, tuple(range(ndim - 1, -1, -1)))


def _H(self):
    ndim = self._data.ndim
    if ndim == 0:
        import warnings
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return _conj(apply(View, self, shape=()))
    if ndim != 2:
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{ndim}-D tensor." + (" For batches of matrices, consider using "
                                                  "tensor.mH" if ndim > 2 else ""))
    return _conj(transpose(self, 0, 1))


def _mT(self):
    if self._data.ndim < 2:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. "
                           f"Got {self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def _mH(self):
    return adjoint(self)


# -- memory layout: resize_, new_empty_strided, channels_last ----------------------------------

_CL_ORDER = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}


def is_channels_last(t) -> bool:
    """Is t laid out channels-last (NHWC for 4-D, NDHWC for 5-D), as PyTorch checks it?"""
    order = _CL_ORDER.get(t._data.ndim)
    if order is None:
        return False
    shape, strides = t._data.shape, t.stride()
    expected = 1
    for d in order:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def resize_(self, *sizes, memory_format=None):
    """Change the shape in place. Elements are kept in (flattened) order when the size
    shrinks or stays; new elements are zero (PyTorch leaves them uninitialised)."""
    shape = tuple(_as_int(s) for s in _shape_arg(sizes))
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")
    if self._rg:
        raise RuntimeError("cannot resize variables that require grad")
    data = self._data
    if shape == data.shape:
        return self
    n = _prod(shape)
    if data.flags.c_contiguous and n <= data.size:
        self._data = data.reshape(-1)[:n].reshape(shape)
    else:
        xp = _xp_of(self)
        new = xp.zeros(shape, dtype=data.dtype)
        k = builtins.min(n, data.size)
        new.reshape(-1)[:k] = data.reshape(-1)[:k]
        self._data = new
    return self


def resize_as_(self, the_template, memory_format=None):
    """resize_ to the shape of the_template."""
    return resize_(self, the_template._data.shape)


def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                      requires_grad=False, pin_memory=False):
    """An uninitialised tensor (zeros here) with the given sizes and strides in elements."""
    size = tuple(_as_int(s) for s in size)
    stride = tuple(_as_int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} sizes and "
                           f"{len(stride)} strides")
    span = 0 if 0 in size else 1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))
    buf = self.new_zeros((span,), dtype=dtype, device=device)
    from .._tensor import Tensor
    out = Tensor._make(_strided(_xp_of(buf), buf._data, size, stride))
    if requires_grad:
        out.requires_grad_(True)
    return out


def _contiguous(self, memory_format=None):
    if memory_format is not None and "channels_last" in str(memory_format):
        if is_channels_last(self):
            return self
        ndim = self._data.ndim
        if ndim not in _CL_ORDER:
            raise RuntimeError(f"required rank {4 if '3d' not in str(memory_format) else 5} "
                               f"tensor to use channels_last format")
        to_last = (0,) + tuple(range(2, ndim)) + (1,)
        back = (0, ndim - 1) + tuple(range(1, ndim - 1))
        return permute(apply(Contiguous, permute(self, to_last)), back)
    return contiguous(self)


# -- in-place view ops: squeeze_, unsqueeze_, t_, transpose_, as_strided_ ----------------------

def _inplace_view(self, view_of_self):
    """Make self the given view of itself (its own memory, new shape and strides), recording
    the view op as self's history like PyTorch's in-place view ops."""
    from .._dispatch import version_counter
    res = view_of_self
    node = res.grad_fn
    self._data = res._data
    if node is not None:
        self.grad_fn = node
        self._out_nr = 0
    if self._base is not None:
        self._view_chain = res._view_chain
    version_counter(self).value += 1
    self._view_version = self._vc.value
    return self


def _check_leaf(self, name):
    from types import SimpleNamespace

    from .._dispatch import _check_inplace_allowed
    _check_inplace_allowed(SimpleNamespace(name=name), self)


def squeeze_(self, dim=None):
    _check_leaf(self, "squeeze")
    return _inplace_view(self, squeeze(self, dim))


def unsqueeze_(self, dim):
    _check_leaf(self, "unsqueeze")
    return _inplace_view(self, unsqueeze(self, dim))


def t_(self):
    _check_leaf(self, "t")
    return _inplace_view(self, t(self))


def transpose_(self, dim0, dim1):
    _check_leaf(self, "transpose")
    return _inplace_view(self, transpose(self, dim0, dim1))


def as_strided_(self, size, stride, storage_offset=None):
    _check_leaf(self, "as_strided")
    return _inplace_view(self, as_strided(self, size, stride, storage_offset))


# -- Tensor methods ----------------------------------------------------------------------------

def _view_method(self, *shape, dtype=None):
    if dtype is not None:
        return view_dtype(self, dtype)
    return view(self, *shape)


def _reshape_method(self, *shape):
    return reshape(self, *shape)


def _expand_method(self, *sizes):
    return expand(self, *sizes)


def _permute_method(self, *dims):
    return permute(self, *dims)


def _repeat_method(self, *repeats):
    return repeat(self, *repeats)


def _resize_method(self, *sizes, memory_format=None):
    return resize_(self, *sizes, memory_format=memory_format)


def _tile_method(self, *dims):
    return tile(self, _shape_arg(dims) if len(dims) != 1 or not isinstance(dims[0], int)
                else dims)


def _split_method(self, split_size, dim=0):
    return split(self, split_size, dim)


TENSOR_METHODS = {
    "view": _view_method, "reshape": _reshape_method, "expand": _expand_method,
    "permute": _permute_method, "view_as": view_as, "reshape_as": reshape_as,
    "transpose": transpose, "swapaxes": swapaxes, "swapdims": swapdims, "t": t,
    "expand_as": expand_as, "broadcast_to": broadcast_to, "squeeze": squeeze,
    "unsqueeze": unsqueeze, "flatten": flatten, "unflatten": unflatten, "ravel": ravel,
    "contiguous": _contiguous, "narrow": narrow, "narrow_copy": narrow_copy, "select": select,
    "split": _split_method, "split_with_sizes": split_with_sizes, "chunk": chunk,
    "tensor_split": tensor_split, "hsplit": hsplit, "vsplit": vsplit, "dsplit": dsplit,
    "unbind": unbind, "flip": lambda self, *dims: flip(self, _shape_arg(dims)),
    "fliplr": fliplr, "flipud": flipud, "roll": roll, "rot90": rot90, "movedim": movedim,
    "moveaxis": moveaxis, "repeat": _repeat_method, "tile": _tile_method,
    "repeat_interleave": repeat_interleave, "tril": tril, "triu": triu, "tril_": tril_,
    "triu_": triu_, "diagonal": diagonal, "diag": diag, "diag_embed": diag_embed,
    "diagflat": diagflat, "as_strided": as_strided, "unfold": unfold, "adjoint": adjoint,
    "resize_": _resize_method, "resize_as_": resize_as_,
    "new_empty_strided": new_empty_strided, "squeeze_": squeeze_, "unsqueeze_": unsqueeze_,
    "t_": t_, "transpose_": transpose_, "swapaxes_": transpose_, "swapdims_": transpose_,
    "as_strided_": as_strided_,
    "T": property(_T), "mT": property(_mT), "H": property(_H), "mH": property(_mH),
}
