"""sum_to: the one place where broadcasting is undone in backward."""

from __future__ import annotations


def sum_to(grad, shape):
    """Sum ``grad`` down to ``shape`` (the inverse of broadcasting ``shape`` to grad's shape)."""
    gshape = grad._data.shape
    if gshape == shape:
        return grad
    if shape is None:
        return None
    from .reduce import sum as _sum
    lead = len(gshape) - len(shape)
    dims = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and gshape[i + lead] != 1:
            dims.append(i + lead)
    out = _sum(grad, tuple(dims)) if dims else grad
    if out._data.shape != tuple(shape):
        out = out.reshape(shape)
    return out
