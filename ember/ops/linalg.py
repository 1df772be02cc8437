"""Linear algebra: matmul and friends (BLAS through the backend), einsum, ember.linalg.*.

Functions exported at the top level (``ember.mm``, ``ember.det``, ...) are listed in
``__all__``; the ``ember.linalg`` namespace (ember/linalg.py) picks the torch.linalg names
from ``LINALG_NAMES``. Decompositions run the backend's LAPACK (numpy.linalg or
cupy.linalg); their backward formulas are the standard matrix-calculus results, written
with ember ops so that second derivatives work.
"""

from __future__ import annotations

import builtins
import functools
import math
import string
import warnings
from collections import namedtuple

import numpy as _np

from .. import _dtype as D
from .._autocast import policy as _amp
from .._dispatch import Op, _legacy_name, apply
from .._errors import fmt_shape, wrap_dim
from ._broadcast import sum_to
from ._names import named

__all__ = ["matmul", "mm", "bmm", "mv", "addmm", "addbmm", "baddbmm", "addmv", "addr",
           "einsum", "tensordot", "outer", "ger", "dot", "vdot", "inner", "cross", "kron",
           "trace", "chain_matmul", "cdist", "det", "logdet", "slogdet", "inverse", "cholesky",
           "cholesky_solve", "cholesky_inverse", "svd", "qr", "pinverse", "matrix_power",
           "matrix_exp"]

# ember.linalg's name -> this module's function (torch.linalg's svd, qr, slogdet and cross differ
# from the top-level ones).
LINALG_NAMES = {n: n for n in (
    "LinAlgError", "matmul", "norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "solve",
    "solve_ex", "lstsq", "det", "cholesky_ex", "svdvals", "eigh", "eigvalsh",
    "pinv", "matrix_power", "matrix_rank", "multi_dot", "vecdot", "diagonal",
    "solve_triangular", "cond", "vander", "tensorinv", "tensorsolve", "matrix_exp", "eig",
    "eigvals")}
LINALG_NAMES.update(cholesky="linalg_cholesky", svd="linalg_svd", qr="linalg_qr",
                    slogdet="linalg_slogdet", cross="linalg_cross")


class LinAlgError(RuntimeError):
    """A matrix the algorithm cannot handle (singular, not positive-definite); torch's
    ``torch.linalg.LinAlgError`` is a RuntimeError subclass too."""


_builtin_max = builtins.max

# torch.return_types look-alikes: plain namedtuples with torch's field names.
_T_linalg_slogdet = namedtuple("linalg_slogdet", ["sign", "logabsdet"])
_T_slogdet = namedtuple("slogdet", ["sign", "logabsdet"])
_T_linalg_inv_ex = namedtuple("linalg_inv_ex", ["inverse", "info"])
_T_linalg_solve_ex = namedtuple("linalg_solve_ex", ["result", "info"])
_T_linalg_cholesky_ex = namedtuple("linalg_cholesky_ex", ["L", "info"])
_T_linalg_lstsq = namedtuple("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_T_linalg_qr = namedtuple("linalg_qr", ["Q", "R"])
_T_qr = namedtuple("qr", ["Q", "R"])
_T_linalg_svd = namedtuple("linalg_svd", ["U", "S", "Vh"])
_T_svd = namedtuple("svd", ["U", "S", "V"])
_T_linalg_eigh = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])
_T_linalg_eig = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])


# -- small helpers -----------------------------------------------------------------------------

def _const(arr):
    """A constant (no-grad) tensor around a backend array (NumPy scalars become 0-d)."""
    from .._tensor import Tensor
    if isinstance(arr, _np.generic):
        arr = _np.asarray(arr)
    return Tensor._make(arr)


def _zero_linked(t):
    """Zeros shaped like t that keep t in the graph (its gradient is zero), without
    propagating its nan or inf values: torch's outputs stay connected to such inputs."""
    from .elementwise import where
    return where(_const(_xp(t).zeros((), dtype=bool)), t, 0)


def _xp(t):
    from .._device import xp_of
    return xp_of(t._data)


def _mT(t):
    return t.transpose(-2, -1)


def _c(t):
    return t.conj() if t.is_complex() else t


def _mH(t):
    return _c(t.transpose(-2, -1))


def _eye(n, like):
    """Identity (n, n) with like's dtype and device, as a constant tensor."""
    return _const(_xp(like).eye(n, dtype=like._data.dtype))


def _type_name(dtype) -> str:
    return _legacy_name(D.from_numpy_dtype(dtype))


def _is_half(np_dtype) -> bool:
    return np_dtype == D.float16.np or np_dtype == D.bfloat16.np


def _check_float(op: str, a) -> None:
    """Decompositions need float32/float64/complex inputs, like torch's LAPACK kernels."""
    dt = a.dtype
    if _is_half(dt):
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {_type_name(dt)}")
    if dt.kind not in "fc":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(dt)}")


def _check_square(op: str, a, name: str = "A") -> None:
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _check_matrix(op: str, a, name: str = "A") -> None:
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")


def _batch_note(xp, bad, batch_shape) -> str:
    """'(Batch element k): ' naming the first failing matrix of a batch, like torch."""
    if not batch_shape:
        return ""
    flat = xp.asarray(bad).reshape(-1)
    idx = int(xp.argmax(flat)) if bool(flat.any()) else 0
    return f"(Batch element {idx}): "


def _tensor_dtype_check(op: str, a, b, fmt: str) -> None:
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        raise RuntimeError(fmt.format(op=op, a=_type_name(da), b=_type_name(db),
                                      la=str(D.from_numpy_dtype(da)).replace("torch.", ""),
                                      lb=str(D.from_numpy_dtype(db)).replace("torch.", "")))


def _expand_reduced(t, dims, keepdim, ndim):
    """Insert the reduced dims of a (keepdim=False) result back as size-1 dims."""
    if keepdim:
        return t
    if dims is None:
        return t.reshape((1,) * ndim)
    for d in sorted(dims):
        t = t.unsqueeze(d)
    return t


# -- matmul family ---------------------------------------------------------------------------

def _matmul_name(a_ndim, b_ndim) -> str:
    """PyTorch's node for matmul: dot, mv, mm, a squeezed mm for (n,) @ (n, m); batched
    products are folded into mm or bmm and viewed back (a copy for 2-D @ batched)."""
    if a_ndim <= 2 and b_ndim <= 2:
        return _MATMUL_NAMES[a_ndim, b_ndim]
    return "CloneBackward0" if a_ndim == 2 else "UnsafeViewBackward0"


_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
                 (2, 2): "MmBackward0"}


class Matmul(Op):
    """a @ b with NumPy's rules: 1-D operands are promoted and the added dim removed; batch
    dims broadcast. float16/bfloat16 multiply in float32 and round once, like torch."""
    name = "matmul"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                               f"{a.ndim}D and {b.ndim}D")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            sa = a.shape if a.ndim > 1 else (1,) + a.shape
            sb = b.shape if b.ndim > 1 else b.shape + (1,)
            raise RuntimeError(f"matmul: shapes {fmt_shape(sa)} and {fmt_shape(sb)} cannot be "
                               f"multiplied ({ka} != {kb}): mat1 and mat2 shapes cannot be "
                               f"multiplied ({sa[-2]}x{sa[-1]} and {sb[-2]}x{sb[-1]})")
        if a.dtype == bool:
            raise NotImplementedError('"addmm_impl_cpu_" not implemented for \'Bool\' '
                                      "(matmul of bool tensors)")
        ctx.backward_name = _matmul_name(a.ndim, b.ndim)
        try:
            return ctx.xp.matmul(a, b)
        except ValueError as e:
            raise RuntimeError(f"matmul: shapes {fmt_shape(a.shape)} and {fmt_shape(b.shape)} "
                               f"cannot be broadcast ({e})") from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        sa, sb = ctx.in_shapes
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:
            return (grad * _c(b) if need[0] else None, grad * _c(a) if need[1] else None)
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b.ndim == 1:
            g2 = g2.unsqueeze(-1)
        if need[0]:
            # apply, not matmul(): with float16/bfloat16 the saved inputs come back upcast.
            ga = apply(Matmul, g2, _c(b2).transpose(-1, -2))
            if a.ndim == 1:
                ga = ga.squeeze(-2)
            ga = sum_to(ga, sa)
        if need[1]:
            gb = apply(Matmul, _c(a2).transpose(-1, -2), g2)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
            gb = sum_to(gb, sb)
        return ga, gb


_MM_DTYPE = "expected m1 and m2 to have the same dtype, but got: {la} != {lb}"


@_amp("lower")
def matmul(input, other, *, out=None):
    """Matrix product with batch broadcasting (``@``); both operands must share a dtype.

    Example:
        >>> import ember
        >>> ember.matmul(ember.ones(2, 3), ember.ones(3)).tolist()
        [3.0, 3.0]
    """
    from .elementwise import _out
    if hasattr(input, "_data") and hasattr(other, "_data"):
        _tensor_dtype_check("matmul", input, other, _MM_DTYPE)
    return _out(apply(Matmul, input, other), out)


@_amp("lower")
def mm(input, mat2, *, out=None):
    """Product of two matrices (2-D only, no broadcasting)."""
    if input.ndim != 2:
        raise RuntimeError(f"mm: self must be a matrix, got shape {fmt_shape(input.shape)}")
    if mat2.ndim != 2:
        raise RuntimeError(f"mm: mat2 must be a matrix, got shape {fmt_shape(mat2.shape)}")
    return matmul(input, mat2, out=out)


@_amp("lower")
def bmm(input, mat2, *, out=None):
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    if input.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor, got shape {fmt_shape(input.shape)}")
    if mat2.ndim != 3:
        raise RuntimeError(f"bmm: batch2 must be a 3D tensor, got shape {fmt_shape(mat2.shape)}")
    want = [input.shape[0], input.shape[2]]
    if list(mat2.shape[:2]) != want:
        raise RuntimeError(f"bmm: Expected size for first two dimensions of batch2 tensor to be: "
                           f"{want} but got: {list(mat2.shape[:2])}.")
    return named(matmul(input, mat2, out=out), "BmmBackward0")


@_amp("lower")
def mv(input, vec, *, out=None):
    """Matrix-vector product: (n, m) @ (m,) -> (n,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: vector + matrix @ vector expected, got 1, {input.ndim}, "
                           f"{vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: size mismatch, got input ({input.shape[0]}), mat "
                           f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    return matmul(input, vec, out=out)


def _scaled_add(input, prod, beta, alpha):
    """beta * input + alpha * prod; beta == 0 ignores input's values (nan and inf do not
    propagate) but input still broadcasts and gets a zero gradient, like torch."""
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod + _zero_linked(input)
    if beta != 1:
        input = input * beta
    return input + prod


@_amp("lower")
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape."""
    from .elementwise import _out
    return _out(named(_scaled_add(input, mm(mat1, mat2), beta, alpha), "AddmmBackward0"), out)


@_amp("lower")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b(batch1[b] @ batch2[b])."""
    from .elementwise import _out
    res = _scaled_add(input, bmm(batch1, batch2).sum(0), beta, alpha)
    return _out(named(res, "AddbmmBackward0"), out)


@_amp("lower")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (batch1 @ batch2), batched."""
    from .elementwise import _out
    res = _scaled_add(input, bmm(batch1, batch2), beta, alpha)
    return _out(named(res, "BaddbmmBackward0"), out)


@_amp("lower")
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    from .elementwise import _out
    return _out(named(_scaled_add(input, mv(mat, vec), beta, alpha), "AddmvBackward0"), out)


@_amp("lower")
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    from .elementwise import _out
    return _out(named(_scaled_add(input, outer(vec1, vec2), beta, alpha), "AddrBackward0"), out)


def _inplace(fn):
    def method(self, *args, **kwargs):
        from .creation import copy_
        return copy_(self, fn(self, *args, **kwargs))
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place {fn.__name__}."
    return method


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors: (n,) x (m,) -> (n, m)."""
    from .elementwise import _out
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1D tensors, but got {input.ndim}D and "
                           f"{vec2.ndim}D tensors")
    return _out(input.unsqueeze(1) * vec2, out)


ger = outer


@_amp("promote")
def dot(input, other, *, out=None):
    """Inner product of two 1-D tensors of the same dtype and length."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    _tensor_dtype_check("dot", input, other,
                        "{op} : expected both vectors to have same dtype, but found {a} and {b}")
    n, m = input.shape[0], other.shape[0]
    if n != m:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensor [{n}] and src [{m}] "
                           f"to have the same number of elements, but got {n} and {m} elements "
                           "respectively")
    return matmul(input, other, out=out)


def vdot(input, other, *, out=None):
    """dot(conj(input), other): the complex inner product (equals dot for real tensors)."""
    return named(dot(_c(input), other, out=out), "VdotBackward0", input, other)


def inner(input, other, *, out=None):
    """Sum of products over the last dims: shape input.shape[:-1] + other.shape[:-1]."""
    from .elementwise import _out
    if input.ndim == 0 or other.ndim == 0:
        return _out(input * other, out)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner: inner() the last dimension must match on both input tensors "
                           f"but got shapes {list(input.shape)} and {list(other.shape)}")
    return _out(tensordot(input, other, dims=([-1], [-1])), out)


def tensordot(a, b, dims=2, out=None):
    """Contract dims of a with dims of b (one BLAS matmul after a permute and reshape).

    Args:
        dims: an int n (the last n dims of a with the first n of b) or a pair of dim lists.

    Returns:
        The free dims of a followed by the free dims of b.

    Example:
        >>> import ember
        >>> ember.tensordot(ember.ones(2, 3), ember.ones(3, 4), dims=1).shape
        torch.Size([2, 4])
    """
    from .elementwise import _out
    if hasattr(dims, "tolist"):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"tensordot: both dimension lists should have same length, got "
                               f"{len(da)} and {len(db)}")
    da = [wrap_dim("tensordot", d, a.ndim) for d in da]
    db = [wrap_dim("tensordot", d, b.ndim) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has "
                               f"size {a.shape[x]} in dim {x} and second has size {b.shape[y]} "
                               f"in dim {y}")
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    sa = [a.shape[d] for d in free_a]
    sb = [b.shape[d] for d in free_b]
    a2 = a.permute(*(free_a + da)).reshape(math.prod(sa), k)
    b2 = b.permute(*(db + free_b)).reshape(k, math.prod(sb))
    return _out(matmul(a2, b2).reshape(sa + sb), out)


def kron(input, other, *, out=None):
    """Kronecker product; the shorter shape is padded with leading 1s."""
    from .elementwise import _out
    nd = _builtin_max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    ia, ib = [], []
    for x, y in zip(sa, sb):
        ia += [x, 1]
        ib += [1, y]
    prod = input.reshape(ia) * other.reshape(ib)
    return _out(named(prod.reshape([x * y for x, y in zip(sa, sb)]), "UnsafeViewBackward0"),
                out)


# -- diagonal / trace ----------------------------------------------------------------------------

class _Diagonal(Op):
    """The diagonal (offset) over dims dim1, dim2, moved to the end (a copy)."""
    name = "diagonal"
    backward_name = "DiagonalBackward0"

    @staticmethod
    def forward(ctx, x, *, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        return ctx.xp.diagonal(x, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, grad):
        return apply(_DiagonalBackward, grad, shape=ctx.in_shapes[0], offset=ctx.offset,
                     dim1=ctx.dim1, dim2=ctx.dim2)


class _DiagonalBackward(Op):
    """Zeros of `shape` with grad written on the (offset) diagonal over dim1, dim2."""
    name = "diagonal_backward"

    @staticmethod
    def forward(ctx, g, *, shape, offset, dim1, dim2):
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        xp = ctx.xp
        out = xp.zeros(shape, dtype=g.dtype)
        view = xp.moveaxis(out, (dim1, dim2), (-2, -1))
        k = g.shape[-1]
        rows = xp.arange(k) + _builtin_max(-offset, 0)
        cols = xp.arange(k) + _builtin_max(offset, 0)
        view[..., rows, cols] = g
        return out

    @staticmethod
    def backward(ctx, grad):
        return apply(_Diagonal, grad, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """linalg.diagonal: the diagonals of a batch of matrices (a copy here, a view in torch)."""
    d1 = wrap_dim("linalg.diagonal", dim1, A.ndim)
    d2 = wrap_dim("linalg.diagonal", dim2, A.ndim)
    if d1 == d2:
        raise RuntimeError(f"linalg.diagonal: diagonal dimensions cannot be identical {dim1}, "
                           f"{dim2}")
    return apply(_Diagonal, A, offset=offset, dim1=d1, dim2=d2)


def _diag(A):
    return apply(_Diagonal, A, offset=0, dim1=A.ndim - 2, dim2=A.ndim - 1)


def _diag_embed(v):
    n = v.shape[-1]
    nd = v.ndim + 1
    return apply(_DiagonalBackward, v, shape=tuple(v.shape[:-1]) + (n, n), offset=0,
                 dim1=nd - 2, dim2=nd - 1)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor (integers sum to int64)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return named(_diag(input).sum(), "TraceBackward0")


# -- einsum ----------------------------------------------------------------------------------

_LETTERS = string.ascii_uppercase + string.ascii_lowercase
_EINSUM_PATHS: dict = {}


@functools.lru_cache(maxsize=512)
def _einsum_parse(equation, shapes):
    """Normalise an equation to explicit form with ellipses spelled out as letters; check
    operand ranks and sizes. Returns (input letter lists, output letters, sizes)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    for pos, ch in enumerate(eq):
        if not (ch in _LETTERS or ch in ".,->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {pos} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
    used = set(ch for ch in eq if ch in _LETTERS)
    ell_nd = 0
    for i, (t, s) in enumerate(zip(terms, shapes)):
        n = len(t.replace("...", ""))
        if "..." in t:
            if n > len(s):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) "
                                   f"is more than the number of dimensions ({len(s)}) for "
                                   f"operand {i}")
            ell_nd = _builtin_max(ell_nd, len(s) - n)
        elif n != len(s):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({n}) does "
                               f"not match the number of dimensions ({len(s)}) for operand {i} "
                               "and no ellipsis was given")
    free = [ch for ch in _LETTERS if ch not in used]
    ell = free[:ell_nd]
    ins = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            head, _, tail = t.partition("...")
            k = len(s) - len(head) - len(tail)
            ins.append(list(head) + ell[ell_nd - k:] + list(tail))
        else:
            ins.append(list(t))
    sizes = {}
    for i, (letters, s) in enumerate(zip(ins, shapes)):
        seen = {}
        for ch, n in zip(letters, s):
            if ch in seen and seen[ch] != n:
                raise RuntimeError(f"einsum(): subscript {ch} is repeated for operand {i} but "
                                   f"the sizes don't match, {n} != {seen[ch]}")
            seen[ch] = n
            prev = sizes.get(ch, 1)
            if n != 1 and prev != 1 and n != prev:
                raise RuntimeError(f"einsum(): subscript {ch} has size {n} for operand {i} "
                                   f"which does not broadcast with previously seen size {prev}")
            sizes[ch] = _builtin_max(prev, n)
    if arrow:
        out = list(rhs.replace("...", "".join(ell))) if "..." in rhs else list(rhs)
        seen_out = set()
        for ch in out:
            if ch in seen_out and ch not in ell:
                raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in "
                                   "the output")
            if ch not in sizes:
                raise RuntimeError(f"einsum(): output subscript {ch} does not appear in the "
                                   "equation for any input operand")
            seen_out.add(ch)
    else:
        counts = {}
        for letters in ins:
            for ch in letters:
                counts[ch] = counts.get(ch, 0) + 1
        out = ell + sorted(ch for ch, c in counts.items() if c == 1 and ch not in ell)
    return tuple(tuple(t) for t in ins), tuple(out), sizes


class Einsum(Op):
    """Einstein summation over any number of operands (explicit-form equation)."""
    name = "einsum"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, *arrays, ins, out, sizes):
        ctx.ins, ctx.out, ctx.sizes = ins, out, sizes
        ctx.save(*arrays)
        xp = ctx.xp
        ops = []
        for a, letters in zip(arrays, ins):
            want = tuple(sizes[ch] for ch in letters)
            ops.append(a if a.shape == want else xp.broadcast_to(a, want))
        eq = ",".join("".join(t) for t in ins) + "->" + "".join(out)
        if arrays[0].dtype == bool:
            res = xp.einsum(eq, *[o.astype(xp.int64) for o in ops]) != 0
            return res
        # One operand, or little work (the product of every letter's size, the cost of the
        # naive loop): the C loop, no contraction-path search.
        if len(ops) == 1 or math.prod(sizes.values()) <= 32768:
            return xp.einsum(eq, *ops)
        if xp is _np:
            # Finding the contraction path costs more than a small einsum: cache it.
            key = (eq, tuple(o.shape for o in ops))
            path = _EINSUM_PATHS.get(key)
            if path is None:
                path = _np.einsum_path(eq, *ops, optimize="greedy")[0]
                if len(_EINSUM_PATHS) > 512:
                    _EINSUM_PATHS.clear()
                _EINSUM_PATHS[key] = path
            return _np.einsum(eq, *ops, optimize=path)
        return xp.einsum(eq, *ops, optimize=True)

    @staticmethod
    def backward(ctx, grad):
        arrays = ctx.saved_tensors
        if grad.dtype != arrays[0].dtype and grad.dtype is not D.bool:
            grad = grad.to(arrays[0].dtype)     # half inputs ran on float32 copies (upcast)
        need = ctx.needs_input_grad
        grads = []
        for i, letters in enumerate(ctx.ins):
            if not need[i]:
                grads.append(None)
                continue
            # d out / d operand i: contract grad with every other operand (conjugated: torch's
            # convention for complex gradients); the operand's own
            # repeated letters become identity factors, letters summed only inside it become
            # ones factors.
            operands, terms = [grad], [list(ctx.out)]
            for j, lj in enumerate(ctx.ins):
                if j != i:
                    operands.append(_c(arrays[j]))
                    terms.append(lj)
            present = set(ch for t in terms for ch in t)
            used = set(ch for t in ctx.ins for ch in t) | set(ctx.out)
            fresh = iter(ch for ch in _LETTERS if ch not in used)
            target, seen = [], set()
            ref = grad
            for ch in letters:
                n = ctx.sizes[ch]
                if ch in seen:
                    new = next(fresh)
                    operands.append(_eye(n, ref))
                    terms.append([ch, new])
                    target.append(new)
                    continue
                seen.add(ch)
                target.append(ch)
                if ch not in present:
                    operands.append(_const(_xp(ref).ones((n,), dtype=ref._data.dtype)))
                    terms.append([ch])
                    present.add(ch)
            eq = ",".join("".join(t) for t in terms) + "->" + "".join(target)
            g = einsum(eq, *operands)
            grads.append(sum_to(g, ctx.in_shapes[i]))
        return tuple(grads)


def _sublist_equation(args):
    """einsum(op1, sub1, op2, sub2, ..., [out]) -> (equation, operands)."""
    operands, terms = [], []
    args = list(args)
    out = None
    if len(args) % 2 == 1:
        out = args.pop()

    def letters(sub):
        s = ""
        for x in sub:
            if x is Ellipsis:
                s += "..."
            else:
                if not 0 <= int(x) < 52:
                    raise ValueError(f"einsum(): subscript in subscript list is not within the "
                                     f"valid range [0, 52), got {x}")
                s += _LETTERS[26 + int(x)] if int(x) < 26 else _LETTERS[int(x) - 26]
        return s
    for k in range(0, len(args), 2):
        operands.append(args[k])
        terms.append(letters(args[k + 1]))
    eq = ",".join(terms) + ("->" + letters(out) if out is not None else "")
    return eq, operands


@_amp("lower")
def einsum(*args):
    """Einstein summation: ``einsum("ij,jk->ik", a, b)``; ellipses, implicit output (letters
    that appear once, sorted), operands as a list, and the sublist form are all accepted.

    Example:
        >>> import ember
        >>> ember.einsum("ii", ember.ones(3, 3)).item()
        3.0
    """
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    first = operands[0]._data.dtype
    for k, o in enumerate(operands[1:], 1):
        if o._data.dtype != first:
            raise RuntimeError(f"einsum(): expected scalar type {_type_name(first)} but found "
                               f"{_type_name(o._data.dtype)} (operand {k})")
    ins, out, sizes = _einsum_parse(equation, tuple(tuple(o.shape) for o in operands))
    sizes = dict(sizes)
    return apply(Einsum, *operands, ins=ins, out=out, sizes=sizes)


# -- cross -------------------------------------------------------------------------------------

class Cross(Op):
    """Cross product of 3-vectors along dim, broadcasting."""
    name = "linalg.cross"
    backward_name = "LinalgCrossBackward0"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b, *, dim):
        ctx.save(a, b)
        ctx.dim = dim
        return ctx.xp.cross(a, b, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        ga = sum_to(apply(Cross, b, grad, dim=ctx.dim), sa) if need[0] else None
        gb = sum_to(apply(Cross, grad, a, dim=ctx.dim), sb) if need[1] else None
        return ga, gb


def _cross(op, input, other, dim):
    from .._errors import broadcast_error
    try:
        shape = _broadcast_shape(input.shape, other.shape)
    except ValueError:
        raise broadcast_error(op, input.shape, other.shape) from None
    if input.ndim != other.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions.")
    d = wrap_dim(op, dim, len(shape))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    d = d - len(shape)
    return apply(Cross, input, other, dim=d)


def _broadcast_shape(a, b):
    return _np.broadcast_shapes(tuple(a), tuple(b))


def cross(input, other, dim=None, *, out=None):
    """Cross product along dim; dim=None (deprecated in torch) takes the first dim of size 3."""
    from .elementwise import _out
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross."
                      "\nThe default value of dim will change to agree with that of "
                      "linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = _broadcast_shape(input.shape, other.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), -1)
    return _out(_cross("cross", input, other, dim), out)


def linalg_cross(input, other, *, dim=-1, out=None):
    """linalg.cross: cross product of 3-vectors along dim (default -1), broadcasting."""
    from .elementwise import _out
    return _out(_cross("linalg.cross", input, other, dim), out)


# -- multi_dot / chain_matmul / matrix_power ---------------------------------------------------

@_amp("lower")
def multi_dot(tensors, *, out=None):
    """Product of several matrices in the cheapest order; the first may be 1-D (a row) and
    the last 1-D (a column)."""
    from .elementwise import _out
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_1d, last_1d = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = list(tensors)
    if first_1d:
        mats[0] = mats[0].unsqueeze(0)
    if last_1d:
        mats[-1] = mats[-1].unsqueeze(1)
    for i, m in enumerate(mats):
        if m.ndim != 2:
            which = "first" if i == 0 else "last" if i == len(mats) - 1 else None
            if which:
                raise RuntimeError(f"multi_dot(): {which} tensor must be 1D or 2D but got "
                                   f"{tensors[i].ndim}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {m.ndim}D")
        if m._data.dtype != mats[0]._data.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor "
                               f"0 is {mats[0].dtype} and tensor {i} {m.dtype}")
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            a, b = mats[i].shape, mats[i + 1].shape
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{a[0]}x{a[1]} and {b[0]}x{b[1]} cannot be multiplied")
    res = _chain(mats)
    if first_1d:
        res = res.squeeze(0)
    if last_1d:
        res = res.squeeze(-1)
    return _out(named(res, "ViewBackward0"), out)      # PyTorch views its mm chain back


def _chain(mats):
    """Multiply matrices in the order of least scalar multiplications (the classic DP)."""
    n = len(mats)
    if n <= 2:
        return matmul(mats[0], mats[1]) if n == 2 else mats[0]
    p = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def build(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return matmul(build(i, k), build(k + 1, j))
    return build(0, n - 1)


@_amp("lower")
def chain_matmul(*matrices, out=None):
    """Product of 2-D matrices (deprecated in torch for linalg.multi_dot)."""
    from .elementwise import _out
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        if matrices[0].ndim != 2:
            raise RuntimeError(f"chain_matmul(): Tensor dimension is {matrices[0].ndim}, "
                               "expected 2 instead.")
        return _out(matrices[0].clone(), out)
    for m in matrices:
        if m.ndim != 2:
            raise RuntimeError(f"chain_matmul(): Tensor dimension is {m.ndim}, expected 2 "
                               "instead.")
    return multi_dot(matrices, out=out)


def matrix_power(A, n, *, out=None):
    """A to the integer power n by repeated squaring; n < 0 uses inv(A), n == 0 the identity.

    Example:
        >>> import ember
        >>> ember.linalg.matrix_power(ember.tensor([[1.0, 1.0], [0.0, 1.0]]), 3).tolist()
        [[1.0, 3.0], [0.0, 1.0]]
    """
    from .elementwise import _out
    _check_square("linalg.matrix_power", A._data)
    if not isinstance(n, int):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        eye = _eye(A.shape[-1], A)
        return _out(eye + _zero_linked(A), out)
    given = A
    if n < 0:
        A = inv(A)
        n = -n
    result = None
    base = A
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    if result is given:
        result = result.clone()
    return _out(result, out)


# -- norms ---------------------------------------------------------------------------------------

class VectorNorm(Op):
    """sum(|x|^ord)^(1/ord) over dims (ord 2, 1, inf, -inf, 0 or any other real)."""
    name = "linalg.vector_norm"
    backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, *, ord, dims, keepdim, out_dtype):
        ctx.ord, ctx.dims, ctx.keepdim = ord, dims, keepdim
        xp = ctx.xp
        a = x.astype(D.float32.np) if _is_half(x.dtype) else x
        a = xp.abs(a)
        axis = dims
        if x.ndim == 0:
            axis = None
        if ord == 2:
            r = xp.sqrt(xp.sum(a * a, axis=axis, keepdims=keepdim))
        elif ord == math.inf:
            r = _reduce_or(xp, xp.max, a, axis, keepdim, "inf")
        elif ord == -math.inf:
            r = _reduce_or(xp, xp.min, a, axis, keepdim, "-inf")
        elif ord == 0:
            r = xp.sum(a != 0, axis=axis, keepdims=keepdim).astype(a.dtype)
        elif ord == 1:
            r = xp.sum(a, axis=axis, keepdims=keepdim)
        else:
            with _errstate(xp):
                r = xp.sum(a ** ord, axis=axis, keepdims=keepdim) ** (1.0 / ord)
        r = xp.asarray(r).astype(out_dtype, copy=False)
        ctx.save(x, r)
        return r

    @staticmethod
    def backward(ctx, grad):
        from .elementwise import sign, where
        x, r = ctx.saved_tensors
        ord_ = ctx.ord
        nd = len(ctx.in_shapes[0])
        dims = ctx.dims if nd else None
        if ord_ == 0:
            return x * 0
        g = _expand_reduced(grad, dims, ctx.keepdim, nd)
        r = _expand_reduced(r, dims, ctx.keepdim, nd)
        if x.is_complex():
            from .elementwise import sgn as sign  # x / |x|: torch's complex gradient
        if ord_ == 2:
            return where(r == 0, 0.0, g / r) * x
        if ord_ == 1:
            return g * sign(x)
        if ord_ in (math.inf, -math.inf):
            # torch splits the gradient evenly among the entries that attain the norm.
            mask = (x.abs() == r).to(x.dtype)
            count = mask.sum(dims, keepdim=True) if dims is not None else mask.sum()
            return g * sign(x) * mask / count
        scale = where(r == 0, 0.0, g / r.pow(ord_ - 1))
        return scale * sign(x) * x.abs().pow(ord_ - 1)


def _reduce_or(xp, fn, a, axis, keepdim, what):
    if a.size == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {what} norm on an empty "
                           "tensor because the operation does not have an identity")
    return fn(a, axis=axis, keepdims=keepdim)


class _errstate:
    def __init__(self, xp):
        self.xp = xp

    def __enter__(self):
        if self.xp.__name__ == "numpy":
            self.prev = self.xp.seterr(all="ignore")

    def __exit__(self, *exc):
        if self.xp.__name__ == "numpy":
            self.xp.seterr(**self.prev)


def _norm_dims(op, dim, ndim):
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        dims = tuple(wrap_dim(op, d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{op}: dim {tuple(dim)} appears multiple times in the list of "
                               "dims")
        return dims
    return (wrap_dim(op, dim, ndim),)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The vector ord-norm of x over dim (all elements when dim is None).

    Example:
        >>> import ember
        >>> ember.linalg.vector_norm(ember.tensor([3.0, 4.0])).item()
        5.0
    """
    from .elementwise import _out
    op = "linalg.vector_norm"
    dt = x._data.dtype
    if dt.kind not in "fcV":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(dt)}")
    if dtype is not None:
        x = x.to(dtype)
        dt = x._data.dtype
    ord = float(ord)
    dims = _norm_dims(op, dim, x.ndim)
    if dims is not None and len(dims) == 0:
        dims = None
    if x.numel() == 0 and ord < 0:
        raise RuntimeError(f"{op}: Expected a non-empty tensor for ord={ord}")
    out_dt = D.float32.np if dt == D.complex64.np else D.float64.np if dt.kind == "c" else dt
    return _out(apply(VectorNorm, x, ord=ord, dims=dims, keepdim=keepdim, out_dtype=out_dt),
                out)


def _move_to_end(A, d0, d1):
    """Permute dims d0, d1 (normalised) to the last two positions."""
    rest = [d for d in range(A.ndim) if d not in (d0, d1)]
    return A.permute(*(rest + [d0, d1]))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm over the two dims ``dim``.

    Args:
        A: float or complex tensor with at least 2 dims.
        ord: 'fro' (default), 'nuc' (sum of singular values), 2 / -2 (largest / smallest
            singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (rows).
        dim: the two matrix dims; keepdim keeps them as size 1; dtype casts A first.

    Returns:
        The norms, real-valued.

    Example:
        >>> import ember
        >>> ember.linalg.matrix_norm(ember.tensor([[3.0, 0.0], [0.0, 4.0]])).item()
        5.0
    """
    from .elementwise import _out
    op = "linalg.matrix_norm"
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    dt = A._data.dtype
    if dt.kind not in "fcV":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(dt)}")
    if len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = wrap_dim(op, dim[0], A.ndim), wrap_dim(op, dim[1], A.ndim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"{op}: Order {ord} not supported.")
    elif ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"{op}: Order {ord} not supported.")
    if ord == "fro":
        return _out(vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord in ("nuc", 2, -2):
        S = svdvals(_move_to_end(A, d0, d1))
        if ord == "nuc" or S.shape[-1] == 0:
            r = S.sum(-1)
        elif ord == 2:
            r = S[..., 0]
        else:
            r = S[..., -1]
    else:
        A_abs = A.abs()
        if ord in (1, -1):
            sums = A_abs.sum(d0, keepdim=True)
        else:
            sums = A_abs.sum(d1, keepdim=True)
        # |A| sums are >= 0: their max / min is the inf / -inf vector norm.
        r = vector_norm(sums, math.inf if ord > 0 else -math.inf, (d0, d1))
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return _out(named(r, _matrix_norm_name(ord, keepdim), A), out)


def _matrix_norm_name(ord, keepdim) -> str:
    """PyTorch's last node for matrix_norm: amax/amin of the row or column sums, or of the
    singular values (permuted back with keepdim); the nuclear norm sums them."""
    if ord == "nuc" or ord in (2, -2):
        if keepdim:
            return "PermuteBackward0"
        if ord == "nuc":
            return "SumBackward1"
    return "AmaxBackward0" if ord > 0 else "AminBackward0"


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.norm: a vector norm (dim an int, or ord None on any input) or a matrix norm
    (dim a 2-tuple, a str ord, or a 2-D input with dim None)."""
    op = "linalg.norm"
    if dim is not None and not isinstance(dim, (tuple, list)):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and isinstance(ord, str)):
        if dim is None and A.ndim != 2:
            raise RuntimeError(f"{op}: If dim is not specified but ord is, the input must be 1D "
                               f"or 2D. Got {A.ndim}D.")
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim,
                           dtype=dtype, out=out)
    if ord is None:
        return vector_norm(A, 2, dim, keepdim, dtype=dtype, out=out)
    if dim is None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
        if A.ndim != 1:
            raise RuntimeError(f"{op}: If dim is not specified but ord is, the input must be 1D "
                               f"or 2D. Got {A.ndim}D.")
    if isinstance(ord, str):
        raise RuntimeError(f"{op}: Order {ord} not supported for a vector norm.")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype, out=out)


def vecdot(x, y, *, dim=-1, out=None):
    """linalg.vecdot: sum(conj(x) * y) over dim, broadcasting."""
    from .elementwise import _out
    return _out((_c(x) * y).sum(dim), out)


@_amp("fp32")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, "
                           f"X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_type_name(x._data.dtype)}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    out = vector_norm(diff, p, -1)
    # PyTorch's euclidean distance through matrix products (a view of them) for more than 25
    # rows, or when asked; its cdist kernel otherwise
    mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == "use_mm_for_euclid_dist_if_necessary" and
        (x1.shape[-2] > 25 or x2.shape[-2] > 25)))
    return named(out, "ViewBackward0" if mm else "CdistBackward0")


# -- inverse, determinants, solve ----------------------------------------------------------------

class Inv(Op):
    """Inverse of a batch of square matrices."""
    name = "linalg.inv"
    backward_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, A, *, check):
        xp = ctx.xp
        try:
            X = xp.linalg.inv(A)
        except Exception as e:
            if type(e).__name__ != "LinAlgError":
                raise
            singular = xp.linalg.det(A) == 0
            if check:
                raise LinAlgError(
                    f"linalg.inv: {_batch_note(xp, singular, A.shape[:-2])}The inversion could "
                    "not be completed because the input matrix is singular (shape "
                    f"{fmt_shape(A.shape)}).") from None
            # Only inv_ex gets here: the singular matrices' results are nan (LAPACK's
            # partial results differ), the rest are exact.
            safe = xp.where(singular[..., None, None], xp.eye(A.shape[-1], dtype=A.dtype), A)
            X = xp.linalg.inv(safe)
            X[singular] = xp.nan
        ctx.save(X)
        return X

    @staticmethod
    def backward(ctx, grad):
        (X,) = ctx.saved_tensors
        Xh = _mH(X)
        return -matmul(matmul(Xh, grad), Xh)


def inv(A, *, out=None):
    """Inverse of a square matrix (or batch); raises LinAlgError when singular.

    Example:
        >>> import ember
        >>> ember.linalg.inv(ember.tensor([[2.0, 0.0], [0.0, 4.0]])).tolist()
        [[0.5, 0.0], [0.0, 0.25]]
    """
    from .elementwise import _out
    _check_square("linalg.inv", A._data)
    _check_float("linalg.inv", A._data)
    return _out(apply(Inv, A, check=True), out)


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info): info (int32, one per matrix) is nonzero where A is singular; those
    inverses are nan (torch leaves LAPACK's partial result there)."""
    _check_square("linalg.inv_ex", A._data)
    _check_float("linalg.inv_ex", A._data)
    X = apply(Inv, A, check=check_errors)
    xp = _xp(A)
    info = _const(xp.isnan(X._data).any(axis=(-2, -1)).astype(xp.int32))
    return _T_linalg_inv_ex(X, info)


def inverse(input, *, out=None):
    """Alias of linalg.inv."""
    return inv(input, out=out)


class Det(Op):
    """Determinant of a batch of square matrices."""
    name = "linalg.det"
    backward_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, A):
        d = ctx.xp.linalg.det(A)
        ctx.save(A, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        # d det / dA = det * A^-T. Like torch, an exactly singular matrix gets a zero
        # gradient (its inverse is nan here and masked out).
        from .elementwise import where
        A, d = ctx.saved_tensors
        g = (grad * _c(d)).unsqueeze(-1).unsqueeze(-1)
        gA = g * _mH(apply(Inv, A, check=False))
        return where((d == 0).unsqueeze(-1).unsqueeze(-1), 0.0, gA)


def det(A, *, out=None):
    """Determinant of square matrices (linalg.det, torch.det).

    Args:
        A: (*, n, n) float or complex matrices.

    Returns:
        A tensor of shape (*). Exactly singular matrices get a zero gradient, like torch.

    Example:
        >>> import ember
        >>> ember.linalg.det(ember.tensor([[1.0, 2.0], [3.0, 4.0]])).item()
        -2.0
    """
    from .elementwise import _out
    _check_square("linalg.det", A._data)
    _check_float("linalg.det", A._data)
    return _out(apply(Det, A), out)


class Slogdet(Op):
    """(sign, log|det|) of a batch of square matrices; the sign has no gradient."""
    name = "linalg.slogdet"
    backward_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        sign, logabs = ctx.xp.linalg.slogdet(A)
        ctx.save(A)
        return sign, logabs

    @staticmethod
    def backward(ctx, gsign, glogabs):
        (A,) = ctx.saved_tensors
        if glogabs is None:
            return A * 0
        return glogabs.unsqueeze(-1).unsqueeze(-1) * _mH(inv(A))


def linalg_slogdet(A, *, out=None):
    """(sign, logabsdet) with det = sign * exp(logabsdet); stable for large matrices."""
    _check_square("linalg.slogdet", A._data)
    _check_float("linalg.slogdet", A._data)
    sign, logabs = apply(Slogdet, A)
    return _T_linalg_slogdet(sign, logabs)


def slogdet(input):
    """torch.slogdet: (sign, logabsdet) of a square matrix (or batch)."""
    sign, logabs = linalg_slogdet(input)
    return _T_slogdet(sign, logabs)


def logdet(input):
    """log(det(input)): nan for a negative determinant, -inf for a zero one."""
    from .elementwise import log
    sign, logabs = linalg_slogdet(input)
    return named(logabs + log(sign.detach()), "WhereBackward0")  # PyTorch: where(sign < 0, nan,)


def _is_vector_rhs(A, B) -> bool:
    """torch.linalg.solve's rule: B is a batch of vectors when it is 1-D, or has one dim less
    than A and matches A's batch shape."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


class Solve(Op):
    """X with A X = B (B a batch of matrices; batch dims broadcast)."""
    name = "linalg.solve"
    promote = "same"

    @staticmethod
    def forward(ctx, A, B, *, check):
        xp = ctx.xp
        batch = _broadcast_shape(A.shape[:-2], B.shape[:-2])
        Ab = xp.broadcast_to(A, batch + A.shape[-2:])
        Bb = xp.broadcast_to(B, batch + B.shape[-2:])
        try:
            X = xp.linalg.solve(Ab, Bb)
        except Exception as e:
            if type(e).__name__ != "LinAlgError":
                raise
            singular = xp.linalg.det(Ab) == 0
            if check:
                raise LinAlgError(f"torch.linalg.solve: {_batch_note(xp, singular, batch)}The "
                                  "solver failed because the input matrix is singular.") from None
            safe = xp.where(singular[..., None, None], xp.eye(A.shape[-1], dtype=A.dtype), Ab)
            X = xp.linalg.solve(safe, Bb)
            X[singular] = xp.nan
        ctx.save(A, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        gB = apply(Solve, _mH(A), grad, check=True)
        gA = -matmul(gB, _mH(X)) if ctx.needs_input_grad[0] else None
        return (sum_to(gA, sa) if gA is not None else None,
                sum_to(gB, sb) if ctx.needs_input_grad[1] else None)


def _solve(op, A, B, left, check):
    _check_square(op, A._data)
    _check_float(op, A._data)
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{_type_name(A._data.dtype)} and B of type "
                           f"{_type_name(B._data.dtype)} instead.")
    if not left:
        return _mT(_solve(op, _mT(A), _mT(B), True, check))
    vec = _is_vector_rhs(A, B)
    B2 = B.unsqueeze(-1) if vec else B
    if B2.ndim < 2 or B2.shape[-2] != A.shape[-1]:
        bs = tuple(B2.shape[-2:]) if B2.ndim >= 2 else (B2.shape[-1], 1)
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and {bs[0]}x{bs[1]})")
    X = apply(Solve, A, B2, check=check)
    return named(X.squeeze(-1) if vec else X, "LinalgSolveExBackward0")


def solve(A, B, *, left=True, out=None):
    """Solve the square system A X = B (left=True) or X A = B (left=False).

    Args:
        A: (*, n, n) float or complex matrices; batch dims broadcast with B's.
        B: (*, n, k) matrices, or (*, n) vectors (B is a vector when it is 1-D or has one dim
            less than A with A's batch shape, torch's rule).
        left: solve A X = B (True) or X A = B (False).

    Returns:
        X, shaped like the broadcast B. Raises LinAlgError when A is singular.

    Example:
        >>> import ember
        >>> A = ember.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> ember.linalg.solve(A, ember.tensor([2.0, 2.0])).tolist()
        [1.0, 0.5]
    """
    from .elementwise import _out
    return _out(named(_solve("linalg.solve", A, B, left, True), "LinalgSolveExBackward0"), out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info) of solve; info (int32) is nonzero where A is singular (result nan)."""
    X = _solve("linalg.solve_ex", A, B, left, check_errors)
    xp = _xp(A)
    bad = xp.isnan(X._data)
    bad = bad.any(axis=-1) if _is_vector_rhs(A, B) else bad.any(axis=(-2, -1))
    return _T_linalg_solve_ex(X, _const(bad.astype(xp.int32)))


# -- cholesky ------------------------------------------------------------------------------------

class Cholesky(Op):
    """Lower Cholesky factor L with A = L L^H of a batch of (Hermitian) positive-definite A."""
    name = "linalg.cholesky"

    @staticmethod
    def forward(ctx, A, *, check):
        xp = ctx.xp
        try:
            L = xp.linalg.cholesky(A)
        except Exception as e:
            if type(e).__name__ != "LinAlgError":
                raise
            if check:
                bad = ~_is_pd(xp, A)
                raise LinAlgError(
                    f"linalg.cholesky: {_batch_note(xp, bad, A.shape[:-2])}The factorization "
                    "could not be completed because the input is not positive-definite (the "
                    f"leading minor of order {_bad_minor(xp, A, bad)} is not positive-definite; "
                    f"shape {fmt_shape(A.shape)}).") from None
            bad = ~_is_pd(xp, A)
            safe = xp.where(bad[..., None, None], xp.eye(A.shape[-1], dtype=A.dtype), A)
            L = xp.linalg.cholesky(safe)
            L[bad] = xp.nan
        ctx.save(L)
        return L

    @staticmethod
    def backward(ctx, gL):
        # A = L L^H; gA = L^-H Phi(L^H gL) L^-1, symmetrised (Phi: lower triangle, diagonal
        # halved), the standard result (Murray 2016).
        (L,) = ctx.saved_tensors
        n = L.shape[-1]
        P = _phi(matmul(_mH(L), gL), n)
        Linv = inv(L)
        gA = matmul(matmul(_mH(Linv), P), Linv)
        return (gA + _mH(gA)) * 0.5


def _bad_minor(xp, A, bad):
    """Order of the first leading minor that is not positive-definite, in the first failing
    matrix of the batch (LAPACK's info; the error path only)."""
    M = A.reshape((-1,) + A.shape[-2:])[int(xp.argmax(xp.asarray(bad).reshape(-1)))]
    for k in range(1, M.shape[-1] + 1):
        try:
            xp.linalg.cholesky(M[:k, :k])
        except Exception:
            return k
    return M.shape[-1]


def _is_pd(xp, A):
    """Which matrices of a batch are positive-definite (their eigenvalues)."""
    herm = (A + xp.conj(xp.swapaxes(A, -1, -2))) / 2
    return xp.linalg.eigvalsh(herm).min(axis=-1) > 0


def _phi(X, n):
    """Lower triangle of X with the diagonal halved."""
    xp = _xp(X)
    mask = xp.tril(xp.ones((n, n), dtype=X._data.dtype), -1) + 0.5 * xp.eye(n, dtype=X._data.dtype)
    return X * _const(mask)


def _tril(X, k=0):
    xp = _xp(X)
    n, m = X.shape[-2], X.shape[-1]
    return X * _const(xp.tril(xp.ones((n, m), dtype=X._data.dtype), k))


def _triu(X, k=0):
    xp = _xp(X)
    n, m = X.shape[-2], X.shape[-1]
    return X * _const(xp.triu(xp.ones((n, m), dtype=X._data.dtype), k))


def linalg_cholesky(A, *, upper=False, out=None):
    """Cholesky factor of (Hermitian) positive-definite matrices (linalg.cholesky).

    Args:
        A: (*, n, n) matrices; only the lower triangle is read.
        upper: return U = L^H with A = U^H U instead of L with A = L L^H.

    Returns:
        The triangular factor. Raises LinAlgError when A is not positive-definite.

    Example:
        >>> import ember
        >>> ember.linalg.cholesky(ember.tensor([[4.0, 2.0], [2.0, 2.0]])).tolist()
        [[2.0, 0.0], [1.0, 1.0]]
    """
    from .elementwise import _out
    _check_square("linalg.cholesky", A._data)
    _check_float("linalg.cholesky", A._data)
    L = apply(Cholesky, A, check=True)
    return _out(named(_mH(L) if upper else L, "LinalgCholeskyExBackward0"), out)


def cholesky(input, upper=False, *, out=None):
    """torch.cholesky (deprecated in torch for linalg.cholesky; warns like it)."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                  "removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be "
                  "replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, "
                  "upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
                  "transform will produce equivalent results for all valid (symmetric positive "
                  "definite) inputs.", UserWarning, stacklevel=2)
    return named(linalg_cholesky(input, upper=upper, out=out), "CholeskyBackward0")


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info): info (int32) is nonzero where A is not positive-definite (L is nan there;
    torch leaves LAPACK's partial factor)."""
    _check_square("linalg.cholesky_ex", A._data)
    _check_float("linalg.cholesky_ex", A._data)
    L = apply(Cholesky, A, check=check_errors)
    xp = _xp(A)
    info = _const(xp.isnan(L._data).any(axis=(-2, -1)).astype(xp.int32))
    return _T_linalg_cholesky_ex(_mH(L) if upper else L, info)


def cholesky_solve(B, L, upper=False, *, out=None):
    """X with A X = B where A = L L^H (or U^H U when upper=True) is given by its factor."""
    from .elementwise import _out
    if upper:
        L = _mH(L)
    Y = solve(L, B)
    return _out(named(solve(_mH(L), Y), "CholeskySolveBackward0"), out)


def cholesky_inverse(L, upper=False, *, out=None):
    """inv(A) where A = L L^H (or U^H U when upper=True) is given by its factor."""
    from .elementwise import _out
    Linv = inv(_mH(L) if upper else L)
    return _out(named(matmul(_mH(Linv), Linv), "CholeskyInverseBackward0"), out)


# -- qr ------------------------------------------------------------------------------------------

class QR(Op):
    """Householder QR: A = Q R, Q with orthonormal columns, R upper triangular."""
    name = "linalg.qr"
    backward_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, *, mode):
        ctx.mode = mode
        xp = ctx.xp
        if mode == "r":
            R = xp.linalg.qr(A, mode="r")
            Q = xp.zeros((0,), dtype=A.dtype)
        else:
            Q, R = xp.linalg.qr(A, mode=mode)
        ctx.save(A, Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        A, Q, R = ctx.saved_tensors
        m, n = ctx.in_shapes[0][-2:]
        if ctx.mode == "r":
            raise RuntimeError("linalg.qr_backward: The derivative of linalg.qr depends on Q, "
                               "which is not computed when mode='r'. Please use linalg.qr(A, "
                               "mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr_backward: The QR decomposition is not differentiable "
                               "when mode='complete' and nrows > ncols.")
        if gQ is None:
            gQ = Q * 0
        if gR is None:
            gR = R * 0
        if m >= n:
            return _qr_backward_tall(Q, R, gQ, gR)
        # Wide A = Q [X | Y]: X = Q R1 is square, Y = Q R2 with R2 = Q^H Y.
        R1 = R[..., :, :m]
        gR1, gR2 = gR[..., :, :m], gR[..., :, m:]
        Y = A[..., :, m:]
        gX = _qr_backward_tall(Q, R1, gQ + matmul(Y, _mH(gR2)), gR1)
        gY = matmul(Q, gR2)
        return apply(_CatLast, gX, gY)


class _CatLast(Op):
    """Concatenate two tensors along the last dim (the wide-QR gradient)."""
    name = "cat"

    @staticmethod
    def forward(ctx, a, b):
        ctx.split = a.shape[-1]
        return ctx.xp.concatenate([a, b], axis=-1)

    @staticmethod
    def backward(ctx, grad):
        k = ctx.split
        return grad[..., :k], grad[..., k:]


def _qr_backward_tall(Q, R, gQ, gR):
    """gA for A = Q R with m >= n (reduced): [gQ + Q(W - Q^H gQ)] R^-H, where
    W = gR R^H + tril(M - M^H, -1), M = Q^H gQ - gR R^H (derived from Q^H dQ antisymmetric and
    dR R^-1 upper triangular)."""
    QhgQ = matmul(_mH(Q), gQ)
    gRRh = matmul(gR, _mH(R))
    M = QhgQ - gRRh
    W = gRRh + _tril(M - _mH(M), -1)
    B = gQ + matmul(Q, W - QhgQ)
    return matmul(B, _mH(inv(R)))


def linalg_qr(A, mode="reduced", *, out=None):
    """QR decomposition A = Q R (linalg.qr), Householder reflections as in LAPACK.

    Args:
        A: (*, m, n) float or complex matrices.
        mode: 'reduced' (Q is m x k, k = min(m, n)), 'complete' (Q is m x m) or 'r' (Q is an
            empty tensor, R only; not differentiable).

    Returns:
        A namedtuple ``linalg_qr(Q, R)``.

    Example:
        >>> import ember
        >>> Q, R = ember.linalg.qr(ember.tensor([[3.0, 1.0], [4.0, 2.0]]))
        >>> round(abs(R[0, 0].item()), 6)
        5.0
    """
    _check_matrix("linalg.qr", A._data)
    _check_float("linalg.qr", A._data)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    Q, R = apply(QR, A, mode=mode)
    return _T_linalg_qr(Q, R)


def qr(input, some=True, *, out=None):
    """torch.qr (deprecated in torch for linalg.qr; warns like it): some=True is
    mode='reduced', some=False is mode='complete'."""
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a "
                  "future PyTorch release.\nThe boolean parameter 'some' has been replaced with "
                  "a string parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced "
                  "with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')",
                  UserWarning, stacklevel=2)
    Q, R = linalg_qr(input, "reduced" if some else "complete")
    return _T_qr(Q, R)


# -- svd, eigh -----------------------------------------------------------------------------------

class SVD(Op):
    """A = U diag(S) Vh with S descending."""
    name = "linalg.svd"
    backward_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, *, full_matrices):
        ctx.full = full_matrices
        U, S, Vh = ctx.xp.linalg.svd(A, full_matrices=full_matrices)
        ctx.save(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n = ctx.in_shapes[0][-2:]
        k = S.shape[-1]
        if ctx.full and m != n:
            # The engine hands zeros for unused outputs: only S may carry a gradient here
            # (checked on the host: this path raises otherwise).
            xp = ctx.xp
            if not (bool(xp.any(gU._data)) or bool(xp.any(gVh._data))):
                return matmul(U[..., :, :k] * gS.unsqueeze(-2), Vh[..., :k, :])
            raise NotImplementedError("linalg.svd: the derivative is not implemented when "
                                      "full_matrices=True and the matrix is not square; use "
                                      "full_matrices=False")
        return _svd_backward(U, S, Vh, gU, gS, gVh)


def _svd_backward(U, S, Vh, gU, gS, gVh):
    """Real SVD backward (Townsend 2016): distinct singular values, reduced factors."""
    V = _mT(Vh)
    m, n = U.shape[-2], V.shape[-2]
    k = S.shape[-1]
    S2 = S * S
    Fden = S2.unsqueeze(-2) - S2.unsqueeze(-1)           # s_j^2 - s_i^2
    off = _const(1 - _xp(S).eye(k, dtype=S._data.dtype))
    F = off / (Fden + (1 - off))
    Sm = S.unsqueeze(-2)                                  # S as a row: X * Sm scales columns
    inner = 0
    if gS is not None:
        inner = _diag_embed(gS)
    if gU is not None:
        UtgU = matmul(_mT(U), gU)
        inner = inner + (F * (UtgU - _mT(UtgU))) * Sm
    gV = _mT(gVh) if gVh is not None else None
    if gV is not None:
        VtgV = matmul(_mT(V), gV)
        inner = inner + _mT(Sm) * (F * (VtgV - _mT(VtgV)))
    gA = matmul(matmul(U, inner), Vh) if not isinstance(inner, int) else 0
    if gU is not None and m > k:
        proj = gU - matmul(U, matmul(_mT(U), gU))
        gA = gA + matmul(proj / Sm, Vh)
    if gV is not None and n > k:
        proj = gV - matmul(V, matmul(Vh, gV))
        gA = gA + matmul(U / Sm, _mT(proj))
    return gA


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """Singular value decomposition A = U diag(S) Vh (linalg.svd), S descending.

    Args:
        A: (*, m, n) float or complex matrices.
        full_matrices: U (m x m) and Vh (n x n) when True, else (m x k) and (k x n). The
            backward needs full_matrices=False unless A is square or only S is used.

    Returns:
        A namedtuple ``linalg_svd(U, S, Vh)``. The gradient assumes distinct singular values.

    Example:
        >>> import ember
        >>> ember.linalg.svd(ember.tensor([[3.0, 0.0], [0.0, -4.0]])).S.tolist()
        [4.0, 3.0]
    """
    _check_matrix("linalg.svd", A._data)
    _check_float("linalg.svd", A._data)
    U, S, Vh = apply(SVD, A, full_matrices=full_matrices)
    return _T_linalg_svd(U, S, Vh)


def svdvals(A, *, driver=None, out=None):
    """Singular values, descending."""
    from .elementwise import _out
    return _out(linalg_svd(A, full_matrices=False).S, out)


def svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd: (U, S, V) with V (not Vh); compute_uv=False gives zero U and V."""
    if not compute_uv:
        S = svdvals(input)
        xp = _xp(input)
        m, n = input.shape[-2:]
        bs = tuple(input.shape[:-2])
        return _T_svd(_const(xp.zeros(bs + (m, m), dtype=input._data.dtype)), S,
                        _const(xp.zeros(bs + (n, n), dtype=input._data.dtype)))
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    return _T_svd(U, S, _mH(Vh))


class Eigh(Op):
    """Eigen-decomposition of a batch of symmetric (Hermitian) matrices, ascending values;
    only the UPLO triangle is read."""
    name = "linalg.eigh"
    backward_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, *, UPLO):
        L, V = ctx.xp.linalg.eigh(A, UPLO=UPLO)
        ctx.save(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        # gA = V (diag(gL) + F o (V^H gV)) V^H with F_ij = 1 / (l_j - l_i), i != j.
        L, V = ctx.saved_tensors
        k = L.shape[-1]
        inner = 0
        if gV is not None:
            off = _const(1 - _xp(L).eye(k, dtype=L._data.dtype))
            E = L.unsqueeze(-2) - L.unsqueeze(-1)
            F = off / (E + (1 - off))
            inner = F * matmul(_mH(V), gV)
        if gL is not None:
            inner = inner + _diag_embed(gL)
        gA = matmul(matmul(V, inner), _mH(V))
        return (gA + _mH(gA)) * 0.5             # torch returns the symmetric part


def eigh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric / Hermitian matrices.

    Args:
        A: (*, n, n) matrices; only the lower (UPLO='L') or upper ('U') triangle is read.

    Returns:
        A namedtuple ``linalg_eigh(eigenvalues, eigenvectors)``. The gradient is the
        symmetric one torch returns and assumes distinct eigenvalues.

    Example:
        >>> import ember
        >>> ember.linalg.eigh(ember.tensor([[2.0, 0.0], [0.0, 1.0]])).eigenvalues.tolist()
        [1.0, 2.0]
    """
    _check_square("linalg.eigh", A._data)
    _check_float("linalg.eigh", A._data)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"linalg.eigh: Expected UPLO argument to be 'L' or 'U', but got "
                           f"{UPLO}")
    L, V = apply(Eigh, A, UPLO=UPLO)
    return _T_linalg_eigh(L, V)


def eigvalsh(A, UPLO="L", *, out=None):
    """Eigenvalues (ascending) of a symmetric matrix."""
    from .elementwise import _out
    return _out(eigh(A, UPLO).eigenvalues, out)


class Eig(Op):
    """Eigen-decomposition of general square matrices (complex eigenvalues, unit-norm
    eigenvectors as columns, LAPACK's geev order)."""
    name = "linalg.eig"

    @staticmethod
    def forward(ctx, A):
        xp = ctx.xp
        if xp is not _np:
            raise NotImplementedError("linalg.eig: CuPy has no general (non-symmetric) "
                                      "eigensolver; move the tensor to the cpu, or use "
                                      "linalg.eigh for symmetric matrices")
        cdt = _np.complex64 if A.dtype in (_np.float32, _np.complex64) else _np.complex128
        L, V = _np.linalg.eig(A)
        L, V = L.astype(cdt, copy=False), V.astype(cdt, copy=False)
        ctx.real_input = A.dtype.kind == "f"
        ctx.save(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        # gA = V^-H (diag(gL) + (V^H gV - V^H V diag(re(diag(V^H gV)))) / conj(E)) V^H with
        # E_ij = l_j - l_i off the diagonal; the re(...) term keeps the eigenvectors' unit
        # norm (the standard result, as in torch). Real A gets the real part.
        from .elementwise import real
        L, V = ctx.saved_tensors
        k = L.shape[-1]
        Vh = _mH(V)
        off = _const(1 - _xp(L).eye(k, dtype=L._data.dtype))
        Lc = _c(L)
        denom = Lc.unsqueeze(-2) - Lc.unsqueeze(-1) + (1 - off)
        VhgV = matmul(Vh, gV)
        norm_fix = matmul(Vh, V * real(_diag(VhgV)).unsqueeze(-2).to(V.dtype))
        inner = (VhgV - norm_fix) / denom * off + _diag_embed(gL)
        gA = solve(Vh, matmul(inner, Vh))
        return real(gA) if ctx.real_input else gA


def eig(A, *, out=None):
    """Eigenvalues and eigenvectors of general square matrices (cpu only: CuPy has none).

    Args:
        A: (*, n, n) float or complex matrices.

    Returns:
        A namedtuple ``linalg_eig(eigenvalues, eigenvectors)``, always complex; eigenvectors
        are unit-norm columns, defined up to a phase (losses should not depend on it).

    Example:
        >>> import ember
        >>> ember.linalg.eig(ember.tensor([[2.0, 0.0], [0.0, 3.0]])).eigenvalues.tolist()
        [(2+0j), (3+0j)]
    """
    _check_square("linalg.eig", A._data)
    _check_float("linalg.eig", A._data)
    L, V = apply(Eig, A)
    return _T_linalg_eig(L, V)


def eigvals(A, *, out=None):
    """Eigenvalues (complex) of general square matrices."""
    from .elementwise import _out
    return _out(eig(A).eigenvalues, out)


# -- pinv, matrix_rank, lstsq --------------------------------------------------------------------

class Pinv(Op):
    """Moore-Penrose pseudo-inverse through the SVD; singular values at or below
    max(atol, rtol * s_max) count as zero."""
    name = "linalg.pinv"
    backward_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, *, atol, rtol, hermitian):
        xp = ctx.xp
        U, S, Vh = xp.linalg.svd(A, full_matrices=False)
        smax = S[..., :1] if S.shape[-1] else xp.zeros(S.shape[:-1] + (1,), dtype=S.dtype)
        cutoff = xp.maximum(atol, rtol * smax)
        keep = cutoff < S
        with _errstate(xp):
            Sinv = xp.where(keep, 1 / xp.where(keep, S, 1), 0).astype(S.dtype)
        X = xp.matmul(xp.conj(xp.swapaxes(Vh, -1, -2)) * Sinv[..., None, :],
                      xp.conj(xp.swapaxes(U, -1, -2)))
        ctx.save(A, X)
        return X.astype(A.dtype, copy=False)

    @staticmethod
    def backward(ctx, G):
        # Golub & Pereyra: for X = A^+ (constant rank),
        # gA = -X^H G X^H + (I - A X) G^H X X^H + X^H X G^H (I - X A)  (real: H = T)
        A, X = ctx.saved_tensors
        Xh, Gh = _mH(X), _mH(G)
        AX = matmul(A, X)
        XA = matmul(X, A)
        t1 = -matmul(matmul(Xh, G), Xh)
        t2 = matmul(Gh - matmul(AX, Gh), matmul(X, Xh))
        t3 = matmul(matmul(Xh, X), Gh - matmul(Gh, XA))
        return t1 + t2 + t3


def _tolerances(A, atol, rtol):
    def as_float(v):
        if v is None:
            return None
        return float(v.item()) if hasattr(v, "item") and v.numel() == 1 else v
    atol, rtol = as_float(atol), as_float(rtol)
    if rtol is None:
        if atol is None or atol == 0:
            dt = A._data.dtype
            eps = float(_xp(A).finfo(dt).eps)
            rtol = eps * _builtin_max(A.shape[-2], A.shape[-1])
        else:
            rtol = 0.0
    return (0.0 if atol is None else atol), rtol


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """Moore-Penrose pseudo-inverse through the SVD (linalg.pinv).

    Args:
        A: (*, m, n) matrices.
        atol, rtol: singular values <= max(atol, rtol * s_max) count as zero; with neither
            given rtol = eps * max(m, n), like torch.
        hermitian: accepted for torch compatibility; the SVD path gives the same result for
            Hermitian A (torch reads only its lower triangle then).

    Returns:
        (*, n, m) pseudo-inverses; differentiable where the rank is locally constant.

    Example:
        >>> import ember
        >>> ember.linalg.pinv(ember.tensor([[2.0, 0.0]])).tolist()
        [[0.5], [0.0]]
    """
    from .elementwise import _out
    _check_matrix("linalg.pinv", A._data)
    _check_float("linalg.pinv", A._data)
    if hasattr(atol, "_data") or hasattr(rtol, "_data"):
        if (hasattr(atol, "_data") and atol.numel() != 1) or \
                (hasattr(rtol, "_data") and rtol.numel() != 1):
            raise NotImplementedError("linalg.pinv: tensor atol/rtol with more than one element "
                                      "is not supported")
    atol, rtol = _tolerances(A, atol, rtol)
    return _out(apply(Pinv, A, atol=atol, rtol=rtol, hermitian=hermitian), out)


def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


class _MatrixRank(Op):
    name = "linalg.matrix_rank"
    differentiable = False

    @staticmethod
    def forward(ctx, A, *, atol, rtol, hermitian):
        xp = ctx.xp
        if hermitian:
            S = xp.abs(xp.linalg.eigvalsh(A))
        else:
            S = xp.linalg.svd(A, compute_uv=False)
        if S.shape[-1] == 0:
            return xp.zeros(S.shape[:-1], dtype=xp.int64)
        smax = S.max(axis=-1, keepdims=True)
        return (xp.maximum(atol, rtol * smax) < S).sum(axis=-1).astype(xp.int64)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """Number of singular values above max(atol, rtol * s_max) (int64)."""
    from .elementwise import _out
    _check_matrix("linalg.matrix_rank", A._data)
    _check_float("linalg.matrix_rank", A._data)
    if tol is not None:
        atol, rtol = tol, 0.0
    atol, rtol = _tolerances(A, atol, rtol)
    return _out(apply(_MatrixRank, A, atol=atol, rtol=rtol, hermitian=hermitian), out)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B: (solution, residuals, rank, singular_values).

    Args:
        A: (*, m, n) matrices; B: (*, m, k) or, one dim less, (*, m) vectors.
        rcond: singular values below rcond * s_max count as zero (default eps * max(m, n)).
        driver: 'gelsy' (default), 'gelsd', 'gelss' or 'gels': which outputs are filled.

    Returns:
        A namedtuple ``linalg_lstsq(solution, residuals, rank, singular_values)``.

    Follows torch's CPU drivers: 'gelsy' (default) fills rank only; 'gelsd'/'gelss' also give
    singular values, and residuals (squared) when m > n and every A has full rank; 'gels'
    gives residuals only. The solution is the minimum-norm one (pseudo-inverse), differentiable
    in A and B.
    """
    op = "linalg.lstsq"
    _check_matrix(op, A._data)
    _check_float(op, A._data)
    if driver is None:
        driver = "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, "
                           f"gelss), but got {driver}")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {A.dtype} and other's dtype {B.dtype}")
    vec = B.ndim == A.ndim - 1
    if not (0 <= A.ndim - B.ndim <= 1):
        raise RuntimeError(f"{op}: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    B2 = B.unsqueeze(-1) if vec else B
    m, n = A.shape[-2:]
    if B2.shape[-2] != m:
        raise RuntimeError(f"{op}: input.size(-2) should match other.size(-{1 + (not vec)})")
    eps = float(_xp(A).finfo(A._data.dtype).eps)
    rc = eps * _builtin_max(m, n) if rcond is None or rcond < 0 else rcond
    X = matmul(pinv(A, rtol=rc), B2)
    xp = _xp(A)
    empty = _const(xp.zeros((0,), dtype=A._data.dtype))
    S = svdvals(A.detach())
    rank = _const((S._data > rc * S._data[..., :1]).sum(axis=-1).astype(xp.int64)) \
        if S.shape[-1] else _const(xp.zeros(S.shape[:-1], dtype=xp.int64))
    residuals = empty
    if driver != "gelsy" and m > n and bool((rank._data == n).all()):
        resid = matmul(A, X) - B2
        residuals = (resid * resid).sum(-2)
    if driver == "gels":
        rank = _const(xp.zeros((0,), dtype=xp.int64))
    sv = S if driver in ("gelsd", "gelss") else empty
    if vec:
        X = X.squeeze(-1)
        if residuals is not empty:
            residuals = residuals.squeeze(-1)
    return _T_linalg_lstsq(named(X, "LinalgLstsqBackward0", A, B), residuals, rank, sv)


# -- triangular solve, cond, vander, tensorinv/tensorsolve, matrix_exp ---------------------------

def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (left=True) or X A = B, reading only A's upper or lower triangle (and
    taking its diagonal as ones when unitriangular). Differs from torch in cost only: the
    triangle is solved as a general matrix (NumPy has no triangular solver)."""
    from .elementwise import _out
    op = "linalg.solve_triangular"
    _check_square(op, A._data)
    _check_float(op, A._data)
    if B.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    T = _triu(A, 1 if unitriangular else 0) if upper else _tril(A, -1 if unitriangular else 0)
    if unitriangular:
        T = T + _eye(A.shape[-1], A)
    if not left:
        T, B = _mT(T), _mT(B)
    if B.shape[-2] != T.shape[-1]:
        raise RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{_type_name(A._data.dtype)} and B of type "
                           f"{_type_name(B._data.dtype)} instead.")
    X = apply(Solve, T, B, check=True)
    return _out(named(X if left else _mT(X), "LinalgSolveTriangularBackward0"), out)


def cond(A, p=None, *, out=None):
    """Condition number of A in the p-norm: s_max / s_min for p None or 2 (s_min / s_max for
    -2), else norm(A, p) * norm(inv(A), p)."""
    from .elementwise import _out
    op = "linalg.cond"
    _check_matrix(op, A._data)
    if p in (None, 2, -2):
        S = svdvals(A)
        r = S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
        return _out(r, out)
    _check_square(op, A._data)
    return _out(matrix_norm(A, p) * matrix_norm(inv(A), p), out)


def vander(x, *, N=None):
    """Vandermonde matrix: columns x**0, x**1, ..., x**(N-1) (N defaults to x.shape[-1])."""
    from .elementwise import pow
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least 1 dimension.")
    n = x.shape[-1] if N is None else N
    if n <= 1 and N is not None and N < 1:
        raise RuntimeError(f"N must be greater than 1. (got {N})")
    xp = _xp(x)
    exps = _const(xp.arange(n, dtype=xp.int64))
    return named(pow(x.unsqueeze(-1), exps), "CatBackward0")     # PyTorch: cat of cumprods


def tensorinv(A, ind=2, *, out=None):
    """Inverse of A viewed as a (prod(shape[:ind]), prod(shape[ind:])) matrix, reshaped to
    shape[ind:] + shape[:ind]."""
    from .elementwise import _out
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    lead, rest = list(A.shape[:ind]), list(A.shape[ind:])
    if math.prod(lead) != math.prod(rest):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {math.prod(rest)} != "
                           f"{math.prod(lead)}")
    M = A.reshape(math.prod(lead), math.prod(rest))
    return _out(inv(M).reshape(rest + lead), out)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B; dims of A are moved to the end first."""
    from .elementwise import _out
    if dims is not None:
        dims = [wrap_dim("linalg.tensorsolve", d, A.ndim) for d in dims]
        keep = [d for d in range(A.ndim) if d not in dims]
        A = A.permute(*(keep + dims))
    rest = list(A.shape[B.ndim:])
    M = A.reshape(B.numel(), math.prod(rest))
    return _out(solve(M, B.reshape(-1)).reshape(rest), out)


# Higham (2005): degree-13 Pade coefficients and the 1-norm bound where it is accurate to
# double precision after scaling.
_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def matrix_exp(A):
    """exp(A) of a square matrix (or batch) by scaling and squaring with a degree-13 Pade
    approximant; differentiable (the approximant's exact derivative)."""
    op = "linalg.matrix_exp"
    _check_square(op, A._data)
    _check_float(op, A._data)
    xp = _xp(A)
    n = A.shape[-1]
    if A.numel() == 0:
        return A.clone()
    # One scaling for the whole batch: read on the host (like scipy's expm).
    norm1 = float(xp.abs(A._data).sum(axis=-2).max())
    s = _builtin_max(0, math.ceil(math.log2(norm1 / _THETA13))) if norm1 > 0 else 0
    X = A / (2.0 ** s) if s else A
    b = _PADE13
    eye = _eye(n, A)
    X2 = matmul(X, X)
    X4 = matmul(X2, X2)
    X6 = matmul(X4, X2)
    U = matmul(X, matmul(X6, b[13] * X6 + b[11] * X4 + b[9] * X2)
               + b[7] * X6 + b[5] * X4 + b[3] * X2 + b[1] * eye)
    V = matmul(X6, b[12] * X6 + b[10] * X4 + b[8] * X2) + b[6] * X6 + b[4] * X4 + \
        b[2] * X2 + b[0] * eye
    R = solve(V - U, V + U)
    for _ in range(s):
        R = matmul(R, R)
    return named(R, "LinalgMatrixExpBackward0")


# -- tensor methods ------------------------------------------------------------------------------

def _method_slogdet(self):
    return slogdet(self)


TENSOR_METHODS = {
    "matmul": matmul, "mm": mm, "bmm": bmm, "mv": mv, "addmm": addmm, "addbmm": addbmm,
    "baddbmm": baddbmm, "addmv": addmv, "addr": addr, "addmm_": _inplace(addmm),
    "addbmm_": _inplace(addbmm), "baddbmm_": _inplace(baddbmm), "addmv_": _inplace(addmv),
    "addr_": _inplace(addr), "outer": outer, "ger": ger, "dot": dot, "vdot": vdot,
    "inner": inner, "cross": cross, "kron": kron, "trace": trace, "det": det,
    "logdet": logdet, "slogdet": _method_slogdet, "inverse": inverse, "cholesky": cholesky,
    "cholesky_solve": cholesky_solve, "cholesky_inverse": cholesky_inverse, "svd": svd,
    "qr": qr, "pinverse": pinverse, "matrix_power": matrix_power, "matrix_exp": matrix_exp,
}
