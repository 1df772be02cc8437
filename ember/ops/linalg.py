"""Linear algebra: matmul and friends (BLAS through the backend), ember.linalg.*."""

from __future__ import annotations

from .. import _dtype as D
from .._dispatch import Op, apply
from .._errors import fmt_shape
from ._broadcast import sum_to

__all__ = ["matmul"]


class Matmul(Op):
    """a @ b with NumPy's rules: 1-D operands are promoted and the added dim removed; batch
    dims broadcast."""
    name = "matmul"
    promote = "same"

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
        if a.dtype.kind in "biu":
            if a.dtype == bool:
                raise RuntimeError('"addmm_impl_cpu_" not implemented for \'Bool\'')
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
            ga = matmul(g2, _c(b2).transpose(-1, -2))
            if a.ndim == 1:
                ga = ga.squeeze(-2)
            ga = sum_to(ga, sa)
        if need[1]:
            gb = matmul(_c(a2).transpose(-1, -2), g2)
            if b.ndim == 1:
                gb = gb.squeeze(-1)
            gb = sum_to(gb, sb)
        return ga, gb


def _c(t):
    return t.conj() if t.is_complex() else t


def matmul(input, other, *, out=None):
    """Matrix product with batch broadcasting (``@``)."""
    from .elementwise import _out
    return _out(apply(Matmul, input, other), out)


TENSOR_METHODS = {"matmul": matmul}
_D = D
