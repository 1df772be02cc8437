"""Scatters into views, copies of views, and small shape utilities.

``diagonal_scatter``, ``select_scatter``, ``slice_scatter``, ``as_strided_scatter`` return a
copy of ``input`` with ``src`` written into one view of it; the ``*_copy`` functions return
the result of a view op in memory of their own; and a few helpers of the torch namespace
(``view_as_real``, ``block_diag``, ``isin``, ``combinations``, ...).
"""

from __future__ import annotations

import builtins
import itertools

import numpy as np

from .._dispatch import Op, apply
from .._errors import fmt_shape, wrap_dim
from . import shape as S
from ._names import named, named_inplace

__all__ = ["diagonal_scatter", "select_scatter", "slice_scatter", "as_strided_scatter",
           "view_copy", "permute_copy", "transpose_copy", "t_copy", "expand_copy",
           "squeeze_copy", "unsqueeze_copy", "diagonal_copy", "select_copy", "slice_copy",
           "split_copy", "split_with_sizes_copy", "unbind_copy", "unfold_copy",
           "as_strided_copy", "alias_copy", "detach_copy", "unsafe_chunk", "unsafe_split",
           "unsafe_split_with_sizes", "view_as_real", "view_as_complex", "unravel_index",
           "cartesian_prod", "combinations", "block_diag", "isin", "nonzero_static"]


# -- regions: the part of a tensor a view op selects -------------------------------------------
# A region is a hashable description: ("index", index) for ints and slices, ("diag", offset,
# dim1, dim2), or ("strided", in_geom, out_geom) for as_strided: (shape, strides, offset) of
# input and of the view, in elements of input's storage (PyTorch's meaning of the arguments).

def _strided_buffer(xp, region, dtype):
    _, in_geom, out_geom = region
    in_pos, out_pos, lo, span = S._geoms(xp, in_geom, out_geom)
    return xp.zeros(span, dtype=dtype), in_pos - lo, out_pos - lo


def _region_view(xp, arr, region):
    """A writable view of arr for an "index" or "diag" region."""
    if region[0] == "index":
        return arr[region[1] + (Ellipsis,)]
    _, offset, d1, d2 = region
    return S._diag_view(xp, arr, offset, d1, d2)


def _read(xp, arr, region):
    if region[0] == "strided":
        buf, in_pos, out_pos = _strided_buffer(xp, region, arr.dtype)
        buf[in_pos] = arr
        return buf[out_pos]
    return _region_view(xp, arr, region).copy()


def _write(xp, arr, region, src):
    """A copy of arr with src written into region."""
    if region[0] == "strided":
        buf, in_pos, out_pos = _strided_buffer(xp, region, arr.dtype)
        buf[in_pos] = arr
        buf[out_pos] = src
        return buf[in_pos]
    out = arr.copy()
    _region_view(xp, out, region)[...] = src
    return out


class RegionScatter(Op):
    """input with src written into a region of it (a copy): the *_scatter ops."""
    name = "slice_scatter"

    @staticmethod
    def forward(ctx, x, src, *, region):
        ctx.region = region
        return _write(ctx.xp, x, region, src)

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad
        g_in = apply(RegionScatter, grad, 0, region=ctx.region) if need[0] else None
        g_src = apply(RegionGet, grad, region=ctx.region) if need[1] else None
        return g_in, g_src


class RegionGet(Op):
    """A copy of one region of x (the src gradient of the *_scatter ops)."""
    name = "slice_scatter_backward"

    @staticmethod
    def forward(ctx, x, *, region):
        ctx.region = region
        return _read(ctx.xp, x, region)

    @staticmethod
    def backward(ctx, grad):
        return apply(RegionEmbed, grad, shape=ctx.in_shapes[0], region=ctx.region)


class RegionEmbed(Op):
    """zeros(shape) with x written into a region: the adjoint of RegionGet."""
    name = "slice_scatter_backward"

    @staticmethod
    def forward(ctx, x, *, shape, region):
        ctx.region = region
        return _write(ctx.xp, ctx.xp.zeros(shape, dtype=x.dtype), region, x)

    @staticmethod
    def backward(ctx, grad):
        return apply(RegionGet, grad, region=ctx.region)


def _scatter(op, input, src, region, view):
    """Check src against the view's shape and cast it to input's dtype, like PyTorch."""
    from .._tensor import Tensor
    if not isinstance(src, Tensor):
        raise TypeError(f"{op}(): argument 'src' (position 2) must be Tensor, not "
                        f"{type(src).__name__}")
    if tuple(src._data.shape) != tuple(view.shape):
        raise RuntimeError(f"{op}: expected src to have a size equal to the slice of self. src "
                           f"size = {list(src._data.shape)}, slice size = {list(view.shape)}")
    if src.dtype != input.dtype:
        src = src.to(input.dtype)
    name = "".join(w.capitalize() for w in op.split("_")) + "Backward0"   # DiagonalScatter...
    return named(apply(RegionScatter, input, src, region=region), name)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with src written on its diagonal (offset, dim1, dim2).

    Args:
        input: a tensor with at least 2 dims.
        src: a tensor shaped like ``input.diagonal(offset, dim1, dim2)``.
        offset, dim1, dim2: the diagonal, as in :func:`ember.diagonal`.

    Returns:
        A new tensor; ``src`` is cast to ``input``'s dtype.

    Example:
        >>> import ember
        >>> ember.diagonal_scatter(ember.zeros(2, 2), ember.ones(2)).tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    view = S.diagonal(input.detach(), offset, dim1, dim2)
    ndim = input._data.ndim
    d1, d2 = wrap_dim("diagonal_scatter", dim1, ndim), wrap_dim("diagonal_scatter", dim2, ndim)
    return _scatter("diagonal_scatter", input, src, ("diag", S._as_int(offset), d1, d2), view)


def select_scatter(input, src, dim, index):
    """A copy of input with src written at ``input.select(dim, index)``.

    Example:
        >>> import ember
        >>> ember.select_scatter(ember.zeros(2, 2), ember.ones(2), 0, 1).tolist()
        [[0.0, 0.0], [1.0, 1.0]]
    """
    view = S.select(input.detach(), dim, index)
    d = wrap_dim("select_scatter", dim, input._data.ndim)
    i = S._as_int(index) % input._data.shape[d]
    return _scatter("select_scatter", input, src, ("index", (slice(None),) * d + (i,)), view)


def _slice_index(op, input, dim, start, end, step):
    ndim = input._data.ndim
    if ndim == 0:
        raise IndexError(f"{op}(): cannot be applied to a 0-dim tensor.")
    d = wrap_dim(op, dim, ndim)
    step = S._as_int(step)
    if step <= 0:
        raise RuntimeError(f"{op}: slice step must be positive, got {step}")
    n = input._data.shape[d]
    start = 0 if start is None else S._as_int(start)
    end = n if end is None else S._as_int(end)
    lo, hi, _ = slice(start, end, step).indices(n)
    return (slice(None),) * d + (slice(lo, builtins.max(lo, hi), step),)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of input with src written at ``input[..., start:end:step, ...]`` (along dim).

    Example:
        >>> import ember
        >>> ember.slice_scatter(ember.zeros(4), ember.ones(2), 0, 0, None, 2).tolist()
        [1.0, 0.0, 1.0, 0.0]
    """
    index = _slice_index("slice_scatter", input, dim, start, end, step)
    view = apply(S.Slice, input.detach(), index=index)
    return _scatter("slice_scatter", input, src, ("index", index), view)


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of input with src written at ``copy.as_strided(size, stride, storage_offset)``.

    Sizes, strides and the offset (default: ``input.storage_offset()``) are in elements of
    input's storage, as in :func:`ember.as_strided`; the view's elements that are elements of
    input get src.

    Example:
        >>> import ember
        >>> ember.as_strided_scatter(ember.zeros(4), ember.ones(2), (2,), (2,), 1).tolist()
        [0.0, 1.0, 0.0, 1.0]
    """
    size = tuple(S._as_int(s) for s in size)
    stride = tuple(S._as_int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} sizes and "
                           f"{len(stride)} strides")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided_scatter: negative sizes or strides are not supported, "
                           f"got sizes {list(size)} and strides {list(stride)}")
    offset = input.storage_offset() if storage_offset is None else S._as_int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    S._check_storage_bounds(input, size, stride, offset)
    in_geom = (tuple(input._data.shape), tuple(input.stride()), input.storage_offset())
    view = np.empty(size, dtype=np.int8)
    return _scatter("as_strided_scatter", input, src,
                    ("strided", in_geom, (size, stride, offset)), view)


# -- copies of views ---------------------------------------------------------------------------

def _copy(t, input, name=None):
    """t (a view of input) in memory of its own; its node is PyTorch's ``<view node>_copy``."""
    from .creation import clone
    fn = t.grad_fn
    if name is None and fn is not None and fn is not input.grad_fn:
        name = fn.name() + "_copy"
    out = clone(t).contiguous()
    return named(out, name, input) if name is not None else out


def view_copy(input, size):
    """``input.view(size)`` (a shape or a dtype) in memory of its own."""
    from .. import _dtype
    if isinstance(size, _dtype.dtype):
        return _copy(S.view_dtype(input, size), input)
    return _copy(S.view(input, size), input)


def permute_copy(input, dims):
    """``input.permute(dims)`` in memory of its own."""
    return _copy(S.permute(input, dims), input)


def transpose_copy(input, dim0, dim1):
    """``input.transpose(dim0, dim1)`` in memory of its own."""
    return _copy(S.transpose(input, dim0, dim1), input)


def t_copy(input):
    """``input.t()`` in memory of its own."""
    return _copy(S.t(input), input)


def expand_copy(input, size, *, implicit=False):
    """``input.expand(size)`` in memory of its own (every element stored)."""
    return _copy(S.expand(input, size), input)


def squeeze_copy(input, dim=None):
    """``input.squeeze(dim)`` in memory of its own."""
    return _copy(S.squeeze(input, dim), input)


def unsqueeze_copy(input, dim):
    """``input.unsqueeze(dim)`` in memory of its own."""
    return _copy(S.unsqueeze(input, dim), input)


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    """``input.diagonal(offset, dim1, dim2)`` in memory of its own."""
    return _copy(S.diagonal(input, offset, dim1, dim2), input)


def select_copy(input, dim, index):
    """``input.select(dim, index)`` in memory of its own."""
    return _copy(S.select(input, dim, index), input)


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """``input[..., start:end:step, ...]`` (along dim) in memory of its own."""
    index = _slice_index("slice_copy", input, dim, start, end, step)
    return _copy(apply(S.Slice, input, index=index), input)


def split_copy(input, split_size, dim=0):
    """``input.split(split_size, dim)``, each piece in memory of its own."""
    return tuple(_copy(p, input) for p in S.split(input, split_size, dim))


def split_with_sizes_copy(input, split_sizes, dim=0):
    """``input.split_with_sizes(split_sizes, dim)``, each piece in memory of its own."""
    return tuple(_copy(p, input) for p in S.split_with_sizes(input, split_sizes, dim))


def unbind_copy(input, dim=0):
    """``input.unbind(dim)``, each slice in memory of its own."""
    return tuple(_copy(p, input) for p in S.unbind(input, dim))


def unfold_copy(input, dimension, size, step):
    """``input.unfold(dimension, size, step)`` in memory of its own."""
    return _copy(S.unfold(input, dimension, size, step), input)


def as_strided_copy(input, size, stride, storage_offset=None):
    """``input.as_strided(size, stride, storage_offset)`` in memory of its own."""
    return _copy(S.as_strided(input, size, stride, storage_offset), input)


def alias_copy(input):
    """A copy of input (the alias op's non-view form)."""
    return _copy(input, input, "AliasBackward0_copy")


def detach_copy(input):
    """``input.detach()`` in memory of its own."""
    return _copy(input.detach(), input)


def unsafe_chunk(input, chunks, dim=0):
    """chunk(); PyTorch's version skips view tracking, ember's pieces are ordinary views."""
    return named(S.chunk(input, chunks, dim), "UnsafeSplitBackward0")


def unsafe_split(input, split_size, dim=0):
    """split(); PyTorch's version skips view tracking, ember's pieces are ordinary views."""
    return named(S.split(input, split_size, dim), "UnsafeSplitBackward0")


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """split_with_sizes() (see unsafe_split)."""
    return named(S.split_with_sizes(input, split_sizes, dim), "UnsafeSplitWithSizesBackward0")


# -- complex views -----------------------------------------------------------------------------

class ViewAsReal(Op):
    """A complex tensor's memory seen as floats, (real, imag) pairs in a new last dim."""
    name = "view_as_real"
    is_view = True

    @staticmethod
    def forward(ctx, x):
        real = x.real
        item = real.dtype.itemsize
        return ctx.xp.lib.stride_tricks.as_strided(real, x.shape + (2,), x.strides + (item,))

    @staticmethod
    def backward(ctx, grad):
        return view_as_complex(grad.contiguous())


class ViewAsComplex(Op):
    """Float (..., 2) memory seen as complex numbers."""
    name = "view_as_complex"
    is_view = True

    @staticmethod
    def forward(ctx, x):
        cdt = ctx.xp.complex64 if x.dtype == ctx.xp.float32 else ctx.xp.complex128
        return x.view(cdt)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        return view_as_real(grad.resolve_conj() if hasattr(grad, "resolve_conj") else grad)


def view_as_real(input):
    """A real view of a complex tensor: shape ``input.shape + (2,)``, (real, imag) pairs.

    Example:
        >>> import ember
        >>> ember.view_as_real(ember.tensor([1 + 2j])).tolist()
        [[1.0, 2.0]]
    """
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(ViewAsReal, input)


def view_as_complex(input):
    """A complex view of a float tensor whose last dim holds (real, imag) pairs.

    The last dim must have size 2 and stride 1, other strides must be even. float16
    (complex32) is not supported: NumPy has no such dtype.

    Example:
        >>> import ember
        >>> ember.view_as_complex(ember.tensor([[1.0, 2.0]])).tolist()
        [(1+2j)]
    """
    arr = input._data
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8) or arr.dtype.name == "bfloat16":
        raise RuntimeError(f"view_as_complex is only supported for float and double tensors, "
                           f"but got a tensor of scalar type: {input.dtype}")
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise RuntimeError(f"Tensor must have a last dimension of size 2, got "
                           f"{fmt_shape(arr.shape)}")
    strides = S._elem_strides(arr)
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s, n in zip(strides[:-1], arr.shape[:-1]) if n > 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return apply(ViewAsComplex, input)


# -- Tensor utilities --------------------------------------------------------------------------

def sum_to_size(self, *size):
    """Sum self down to ``size`` (a shape self broadcasts from).

    Example:
        >>> import ember
        >>> ember.ones(3, 4).sum_to_size(1, 4).tolist()
        [[3.0, 3.0, 3.0, 3.0]]
    """
    from ._broadcast import sum_to
    size = tuple(S._as_int(s) for s in S._shape_arg(size))
    shape = tuple(self._data.shape)
    ok = len(size) <= len(shape) and all(
        s == n or s == 1 for s, n in zip(size, shape[len(shape) - len(size):]))
    if not ok:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    # PyTorch sums with keepdim, then views away the leading dims
    return named(sum_to(self, size), "ViewBackward0" if len(size) < len(shape) else
                 "SumBackward1", self)


def is_same_size(self, other) -> bool:
    """Whether self and other have the same shape."""
    return tuple(self._data.shape) == tuple(other._data.shape)


def _diag_positions(xp, shape, wrap):
    """Flat (C order) positions of the main diagonal; wrapped for tall 2-D matrices."""
    ndim = len(shape)
    strides = S._contiguous_strides(shape)
    step = builtins.sum(strides)
    n = builtins.min(shape)
    if wrap and ndim == 2 and shape[0] > shape[1] + 1:
        return xp.arange(0, shape[0] * shape[1], step, dtype=xp.int64)
    return xp.arange(n, dtype=xp.int64) * step


class FillDiagonal(Op):
    """x with fill_value written on its main diagonal."""
    name = "fill_diagonal"

    @staticmethod
    def forward(ctx, x, *, fill_value, wrap):
        ctx.wrap = wrap
        out = ctx.xp.ascontiguousarray(x).copy()
        out.reshape(-1)[_diag_positions(ctx.xp, x.shape, wrap)] = fill_value
        return out

    @staticmethod
    def backward(ctx, grad):
        return apply(FillDiagonal, grad, fill_value=0, wrap=ctx.wrap)


def fill_diagonal_(self, fill_value, wrap=False):
    """Write fill_value on the main diagonal of self (all dims equal, or 2-D) in place.

    Args:
        fill_value: a number.
        wrap: for tall 2-D matrices, start the diagonal again every ``ncols + 1`` rows.

    Example:
        >>> import ember
        >>> ember.zeros(2, 3).fill_diagonal_(1).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must larger than 1, got "
                           f"{fmt_shape(shape)}")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError(f"fill_diagonal_: all dimensions of input must be of equal length, "
                           f"got {fmt_shape(shape)}")
    from .._tensor import Tensor
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    # PyTorch fills a strided view of self, so its node is the base's CopySlices
    return named_inplace(FillDiagonal, self, "torch::autograd::CopySlices",
                         fill_value=fill_value, wrap=builtins.bool(wrap))


class UnravelIndex(Op):
    """Coordinates of flat indices in a C-ordered shape, one int64 array per dim."""
    name = "unravel_index"
    differentiable = False

    @staticmethod
    def forward(ctx, idx, *, shape):
        xp = ctx.xp
        numel = S._prod(shape)
        # PyTorch's rule: negative indices count from the end (no bounds error is raised).
        rest = idx.astype(xp.int64) % numel if numel else idx.astype(xp.int64)
        outs = []
        for n in reversed(shape):
            outs.append(rest % n if n else rest)
            rest = rest // n if n else rest
        return tuple(reversed(outs))


def unravel_index(indices, shape):
    """Convert flat indices into coordinate tensors of ``shape`` (C order).

    Args:
        indices: an integer tensor of flat indices.
        shape: an int or sequence of non-negative ints.

    Returns:
        A tuple of int64 tensors, one per dim of ``shape``, each shaped like ``indices``.

    Example:
        >>> import ember
        >>> [t.tolist() for t in ember.unravel_index(ember.tensor([1, 4]), (2, 3))]
        [[0, 1], [1, 1]]
    """
    from .._tensor import Tensor
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a tensor, but got {type(indices).__name__}")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(S._as_int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {tuple(shape)}")
    if S._prod(shape) == 0 and indices._data.size:
        raise IndexError(f"unravel_index: index out of bounds for shape {tuple(shape)}")
    return apply(UnravelIndex, indices, shape=shape)


def cartesian_prod(*tensors):
    """All tuples of one element of each 1-D tensor, as rows (a 1-D tensor for one input).

    Example:
        >>> import ember
        >>> ember.cartesian_prod(ember.tensor([1, 2]), ember.tensor([3])).tolist()
        [[1, 3], [2, 3]]
    """
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = S.meshgrid(*tensors, indexing="ij")
    return S.stack([S.reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """All length-r combinations of input's elements (like itertools.combinations).

    Args:
        input: a 1-D tensor.
        r: combination length.
        with_replacement: allow repeated elements (itertools.combinations_with_replacement).

    Returns:
        A (count, r) tensor (1-D for r == 1; empty 1-D for r == 0).

    Example:
        >>> import ember
        >>> ember.combinations(ember.tensor([1, 2, 3])).tolist()
        [[1, 2], [1, 3], [2, 3]]
    """
    from .index import index_select
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    r = S._as_int(r)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    n = input._data.shape[0]
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    # itertools walks the index tuples in C; the gather itself is one vectorised op.
    flat = np.fromiter(itertools.chain.from_iterable(pick(range(n), r)), dtype=np.int64)
    from .._tensor import Tensor
    idx = Tensor._make(flat).to(input.device)
    out = index_select(input, 0, idx)
    return named(S.reshape(out, (-1, r)), "StackBackward0")     # PyTorch stacks the columns


class BlockDiag(Op):
    """Matrices placed corner to corner along the diagonal; zeros elsewhere."""
    name = "block_diag"
    promote = "same"

    @staticmethod
    def forward(ctx, *xs):
        xp = ctx.xp
        rows = builtins.sum(x.shape[0] for x in xs)
        cols = builtins.sum(x.shape[1] for x in xs)
        out = xp.zeros((rows, cols), dtype=xs[0].dtype)
        bounds = []
        r = c = 0
        for x in xs:
            out[r:r + x.shape[0], c:c + x.shape[1]] = x
            bounds.append((r, c, x.shape[0], x.shape[1]))
            r, c = r + x.shape[0], c + x.shape[1]
        ctx.bounds = bounds
        return out

    @staticmethod
    def backward(ctx, grad):
        return tuple(grad[r:r + h, c:c + w] for r, c, h, w in ctx.bounds)


def block_diag(*tensors):
    """A block diagonal matrix of the inputs (0-D -> 1x1, 1-D -> a row, 2-D as is).

    Example:
        >>> import ember
        >>> ember.block_diag(ember.tensor([[1]]), ember.tensor([2, 3])).tolist()
        [[1, 0, 0], [0, 2, 3]]
    """
    from .creation import empty
    mats = []
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        if nd > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {nd} dimensions")
        mats.append(S.reshape(t, (1, -1) if nd else (1, 1)) if nd < 2 else t)
    if not mats:
        return empty((1, 0))
    return apply(BlockDiag, *mats)


class IsIn(Op):
    """Whether each element is among test_elements (promoted to one dtype)."""
    name = "isin"
    promote = "compare"
    differentiable = False

    @staticmethod
    def forward(ctx, x, test, *, assume_unique, invert):
        xp = ctx.xp
        x_arr = xp.asarray(x)
        res = xp.isin(x_arr, xp.asarray(test), assume_unique=assume_unique, invert=invert)
        return xp.asarray(res, dtype=bool).reshape(x_arr.shape)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Boolean tensor shaped like elements: True where an element is in test_elements.

    Args:
        elements: a tensor or a number.
        test_elements: a tensor or a number (not both numbers).
        assume_unique: both inputs hold unique values (a faster path).
        invert: negate the result.

    Example:
        >>> import ember
        >>> ember.isin(ember.tensor([1, 2, 3]), ember.tensor([2, 9])).tolist()
        [False, True, False]
    """
    from .._tensor import Tensor
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__}): "
                        "expected a Tensor for elements or test_elements")
    for t in (elements, test_elements):
        if isinstance(t, Tensor) and t._data.dtype.kind == "c":
            raise RuntimeError(f"isin: Unsupported input type encountered for isin(): "
                               f"{t.dtype}")
    return apply(IsIn, elements, test_elements, assume_unique=builtins.bool(assume_unique),
                 invert=builtins.bool(invert))


class NonzeroStatic(Op):
    """Indices of the first ``size`` nonzero elements, padded with fill_value (no sync)."""
    name = "nonzero_static"
    differentiable = False

    @staticmethod
    def forward(ctx, x, *, size, fill_value):
        xp = ctx.xp
        shape = x.shape
        flat = xp.reshape(x != 0, (-1,))
        # A stable sort brings nonzero positions first, in order, without reading the
        # count back to the host (the point of nonzero_static on a GPU).
        order = xp.argsort((~flat).astype(xp.int8), kind="stable")[:size]
        count = flat.sum()
        out = xp.full((size, len(shape)), fill_value, dtype=xp.int64)
        if len(shape) == 0 or size == 0:
            return out
        k = order.shape[0]
        coords = xp.stack(xp.unravel_index(order, shape), axis=1).astype(xp.int64)
        valid = (xp.arange(k) < count)[:, None]
        out[:k] = xp.where(valid, coords, fill_value)
        return out


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero() with a fixed number of rows: truncated, or padded with fill_value.

    Example:
        >>> import ember
        >>> ember.nonzero_static(ember.tensor([0, 3, 4]), size=3).tolist()
        [[1], [2], [-1]]
    """
    size = S._as_int(size)
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    return apply(NonzeroStatic, input, size=size, fill_value=S._as_int(fill_value))


def _unsafe_split_method(self, split_size, dim=0):
    return unsafe_split(self, split_size, dim)


def _sum_to_size_method(self, *size):
    return sum_to_size(self, *size)


TENSOR_METHODS = {
    "diagonal_scatter": diagonal_scatter, "select_scatter": select_scatter,
    "slice_scatter": slice_scatter, "as_strided_scatter": as_strided_scatter,
    "unsafe_chunk": unsafe_chunk, "unsafe_split": _unsafe_split_method,
    "unsafe_split_with_sizes": unsafe_split_with_sizes, "sum_to_size": _sum_to_size_method,
    "is_same_size": is_same_size, "fill_diagonal_": fill_diagonal_,
    "nonzero_static": nonzero_static,
}
