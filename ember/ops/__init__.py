"""Every op, defined once. Importing this package attaches the Tensor methods.

Each module lists its Tensor methods in ``TENSOR_METHODS``: a dict of method name to
function (the function's first argument is the tensor).
"""

from __future__ import annotations

from .._tensor import Tensor
from . import (  # noqa: F401
    activation,
    attention,
    conv,
    creation,
    elementwise,
    foreach,
    index,
    linalg,
    loss,
    nn,
    norm,
    random,
    reduce,
    rnn,
    scatter_views,
    shape,
    signal,
    stats,
)

_MODULES = (creation, elementwise, index, linalg, nn, random, reduce, shape, scatter_views,
            stats, activation, attention, conv, loss, norm, rnn, signal)


def _install() -> None:
    for module in _MODULES:
        for name, fn in getattr(module, "TENSOR_METHODS", {}).items():
            setattr(Tensor, name, fn)


_install()
