"""Message helpers, so shapes and dtypes read the same in every error."""

from __future__ import annotations


def fmt_shape(shape) -> str:
    """(2, 3) for a 2-D shape, (4,) for 1-D, () for a scalar."""
    shape = tuple(shape)
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def broadcast_error(op: str, a, b) -> RuntimeError:
    """RuntimeError for two shapes that do not broadcast, naming the first bad dim."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(
                f"{op}: shapes {fmt_shape(a)} and {fmt_shape(b)} are not broadcastable "
                f"(dim {i - n}: {pa[i]} vs {pb[i]}): The size of tensor a ({pa[i]}) must match "
                f"the size of tensor b ({pb[i]}) at non-singleton dimension {i}")
    return RuntimeError(f"{op}: shapes {fmt_shape(a)} and {fmt_shape(b)} are not broadcastable")


def wrap_dim(op: str, dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim; IndexError like PyTorch's when out of range."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        try:
            dim = int(dim.__index__())
        except AttributeError:
            raise TypeError(f"{op}(): dim must be an int, got {type(dim).__name__}") from None
    if dim < lo or dim > hi:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{lo}, {hi}], but got {dim})")
    return dim % ndim if ndim else 0
