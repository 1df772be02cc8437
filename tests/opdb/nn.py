"""softmax / log_softmax (the torch-namespace nn primitives)."""

from __future__ import annotations

import numpy as np

from .spec import OpSpec, Sample


def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _samples(rng, dtype):
    from .spec import draw
    return [Sample((draw(rng, (3, 5), dtype, -3, 3),), {"dim": 1}),
            Sample((draw(rng, (2, 3, 4), dtype, -3, 3),), {"dim": 0}),
            Sample((draw(rng, (4,), dtype, -3, 3),), {"dim": -1})]


SPECS = [
    OpSpec("softmax", samples=_samples, ref=_softmax_ref,
           dtypes=("float32", "float64", "float16", "bfloat16")),
    OpSpec("log_softmax", samples=_samples,
           ref=lambda x, dim: np.log(_softmax_ref(x.astype(np.float64), dim)),
           dtypes=("float32", "float64", "float16", "bfloat16")),
    OpSpec("softmax", variant="errors", dtypes=(),
           errors=[(Sample((np.ones((2, 3)),), {"dim": 2}), IndexError,
                    "Dimension out of range")]),
]
