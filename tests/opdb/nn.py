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


def _f_softmax(mod, name):
    # F's positional order (input, dim, _stacklevel, dtype), with a dtype that upcasts.
    def fn(x, dim):
        return getattr(mod.nn.functional, name)(x, dim, 3, mod.float64)
    return fn


def _f_variants():
    import ember
    import tests.oracle as oracle
    out = []
    for name in ("softmax", "log_softmax"):
        out.append(OpSpec("nn.functional." + name, variant="f_dtype", samples=_samples,
                          fn=_f_softmax(ember, name), dtypes=("float32",),
                          torch_fn=_f_softmax(oracle.torch, name) if oracle.torch else None))
    return out


SPECS += _f_variants()
