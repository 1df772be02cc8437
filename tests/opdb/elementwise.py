"""Elementwise ops."""

from __future__ import annotations

import numpy as np

from .spec import OpSpec, Sample

BINARY_SHAPES = [((3, 4), (3, 4)), ((2, 3, 1), (4,)), ((), (5,)), ((4,), ())]

SPECS = [
    OpSpec("add", ref=np.add, shapes=BINARY_SHAPES, dtypes=("float32", "float64", "int64")),
    OpSpec("sub", ref=np.subtract, shapes=BINARY_SHAPES),
    OpSpec("mul", ref=np.multiply, shapes=BINARY_SHAPES),
    OpSpec("div", ref=np.true_divide, shapes=BINARY_SHAPES, domain=(0.5, 2.0)),
    OpSpec("exp", ref=np.exp, shapes=[((3, 4),), ((),)]),
    OpSpec("log", ref=np.log, shapes=[((3, 4),)], domain=(0.1, 3.0)),
    OpSpec("sqrt", ref=np.sqrt, shapes=[((3, 4),)], domain=(0.1, 3.0)),
    OpSpec("tanh", ref=np.tanh, shapes=[((3, 4),)]),
    OpSpec("sigmoid", shapes=[((3, 4),)]),
    OpSpec("add", variant="errors", shapes=[((3, 4), (3, 4))], dtypes=(),
           errors=[(Sample((np.ones((2, 3)), np.ones((4,)))), RuntimeError,
                    "not broadcastable")]),
]
