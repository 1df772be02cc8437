"""Creation and conversion ops: factories, casts, clone, copy_, fill_, and seeded samplers.

Factories take no tensor inputs: their samples pass sizes and numbers, and the parity runner
compares values and dtypes with torch's. Seeded samplers re-seed both libraries inside the
call, so the table checks that ember's cpu streams equal PyTorch's.
"""

from __future__ import annotations

import re

import numpy as np

import ember

from .spec import OpSpec, Sample, draw

FLOAT = ("float32", "float64")


def fixed(*calls):
    """Samples that ignore the drawn dtype: (args, kwargs) pairs passed as they are."""
    def samples(rng, dtype):
        return [Sample(tuple(args), dict(kwargs), grad=()) for args, kwargs in calls]
    return samples


def with_dtype(*calls):
    """Samples whose kwargs get dtype=<the spec dtype> (as an ember/torch dtype name)."""
    def samples(rng, dtype):
        return [Sample(tuple(args), dict(kwargs, dtype=dtype), grad=()) for args, kwargs in calls]
    return samples


def dtyped(fn_name, module):
    """fn(*args, dtype='float32') -> fn(*args, dtype=module.float32)."""
    def call(*args, dtype=None, **kwargs):
        if dtype is not None:
            kwargs["dtype"] = getattr(module, dtype)
        return getattr(module, fn_name)(*args, **kwargs)
    return call


def both(fn_name):
    """(ember fn, torch fn) pair for a factory taking dtype names."""
    import tests.oracle as oracle
    return dict(fn=dtyped(fn_name, ember),
                torch_fn=dtyped(fn_name, oracle.torch) if oracle.torch is not None else None)


def seeded(expr):
    """expr(module) evaluated right after module.manual_seed(1234)."""
    def run(module):
        def call(*args, **kwargs):
            module.manual_seed(1234)
            return expr(module, *args, **kwargs)
        return call
    import tests.oracle as oracle
    return dict(fn=run(ember), torch_fn=run(oracle.torch) if oracle.torch is not None else None)


def err(args, exc, text, **kwargs):
    return (Sample(tuple(args), kwargs), exc, re.escape(text))


def arrays(*shapes, grad=None, low=-2.0, high=2.0):
    def samples(rng, dtype):
        return [Sample(tuple(draw(rng, s, dtype, low, high) for s in group), grad=grad)
                for group in shapes]
    return samples


def _shape(size):
    return size[0] if len(size) == 1 and isinstance(size[0], tuple) else size


def _copy_into(dst, src):
    return dst.clone().copy_(src)


def _fill(x, value):
    return x.clone().fill_(value)


def _zero(x):
    return x.clone().zero_()


def _copy_clone(dst, src):
    return dst.clone().copy_(src)


SPECS = [
    # -- factories ---------------------------------------------------------------------------
    OpSpec("zeros", **both("zeros"), ref=lambda *s, dtype: np.zeros(_shape(s)),
           samples=with_dtype(((2, 3), {}), (((4,),), {}), (((),), {})),
           dtypes=("float32", "float64", "int64", "bool", "bfloat16"), grad=False),
    OpSpec("ones", **both("ones"), ref=lambda *s, dtype: np.ones(_shape(s)),
           samples=with_dtype(((2, 3), {}), (((0, 2),), {})),
           dtypes=("float32", "int32", "uint8", "bool", "complex64"), grad=False),
    OpSpec("full", samples=fixed((((2, 3), 7), {}), (((2,), 1.5), {}), (((3,), True), {}),
                                 (((2,), 1 + 2j), {}), (((), -4), {})),
           dtypes=("float32",), grad=False,
           errors=[err((2, 3.0), TypeError, "must be tuple of ints")]),
    OpSpec("full", variant="dtype", **both("full"),
           samples=with_dtype((((2, 2), 2.7), {}), (((3,), -1), {})),
           dtypes=("float64", "int64", "int8", "float16"), grad=False),
    OpSpec("arange", samples=fixed(((5,), {}), ((5.0,), {}), ((1, 5), {}), ((1, 5, 2), {}),
                                   ((0, 1, 0.1), {}), ((0, 1, 0.3), {}), ((1, 2.5, 0.5), {}),
                                   ((-1, -10, -3), {}), ((0.5, 5), {}), ((0, 5, 1.5), {}),
                                   ((2.5,), {}), ((10, 10), {})),
           dtypes=("float32",), grad=False,
           errors=[err((0, 10, 0), RuntimeError, "step must be nonzero"),
                   err((10, 0), RuntimeError, "upper bound and lower bound inconsistent"),
                   err((0, 10, -1), RuntimeError, "inconsistent with step sign")]),
    OpSpec("arange", variant="dtype", **both("arange"),
           samples=with_dtype(((0, 10, 3), {}), ((-3, 3, 2), {}), ((7,), {}), ((10, -5, -4), {})),
           dtypes=("float32", "float64", "int64", "int32", "float16"), grad=False),
    OpSpec("linspace", samples=fixed(((0, 1, 5), {}), ((0, 1, 1), {}), ((0, 1, 0), {}),
                                     ((-3, 7, 11), {}), ((3, 0, 6), {}), ((0, 1, 100), {}),
                                     ((-2.5, 1e3, 37), {})),
           dtypes=("float32",), grad=False,
           errors=[err((0, 1, -1), RuntimeError, "number of steps must be non-negative")]),
    OpSpec("linspace", variant="dtype", **both("linspace"),
           samples=with_dtype(((0, 10, 5), {}), ((0, 10, 4), {}), ((-1, 1, 7), {})),
           dtypes=("float64", "int64", "float32"), grad=False),
    OpSpec("logspace", samples=fixed(((0, 2, 3), {}), ((0, 2, 3), {"base": 2}),
                                     ((-1, 1, 5), {}), ((1, -1, 4), {"base": 3.5})),
           dtypes=("float32",), grad=False),
    OpSpec("logspace", variant="dtype", **both("logspace"),
           samples=with_dtype(((0, 3, 4), {}), ((-2, 2, 9), {})),
           dtypes=("float64", "int64"), grad=False),
    OpSpec("eye", samples=fixed(((3,), {}), ((2, 4), {}), ((0,), {}), ((4, 1), {})),
           ref=lambda n, m=None: np.eye(n, m, dtype=np.float32), dtypes=("float32",),
           grad=False, errors=[err((-1,), RuntimeError, "n must be greater or equal to 0")]),
    OpSpec("eye", variant="dtype", **both("eye"), samples=with_dtype(((3,), {}), ((2, 3), {})),
           dtypes=("int64", "bool", "float64"), grad=False),
    OpSpec("tril_indices", samples=fixed(((3, 3), {}), ((4, 3, 1), {}), ((3, 4, -1), {}),
                                         ((0, 0), {}), ((5, 2, -3), {})),
           dtypes=("int64",), grad=False,
           errors=[err((-1, 3), RuntimeError, "row must be non-negative")]),
    OpSpec("triu_indices", samples=fixed(((3, 3), {}), ((4, 3, 1), {}), ((3, 4, -1), {}),
                                         ((3, 5, 2), {"dtype": ember.int32}), ((1, 6, 4), {})),
           torch_fn=lambda *a, dtype=None: __import__("torch").triu_indices(
               *a, **({"dtype": __import__("torch").int32} if dtype is not None else {})),
           dtypes=("int64",), grad=False),
    OpSpec("tensor", samples=fixed((([1, 2.0],), {}), (([True, 1],), {}),
                                   (([[1, 2], [3, 4]],), {}), ((3.5,), {}), ((True,), {}),
                                   (([1, 2j],), {}), (([],), {}), (([[]],), {}),
                                   (([np.int32(3), 4],), {}), ((((1, 2), (3, 4)),), {}),
                                   (([1.7, -2.7],), {"dtype": "int64"})),
           fn=lambda data, dtype=None: ember.tensor(data, dtype=getattr(ember, dtype or "",
                                                                         None)),
           torch_fn=lambda data, dtype=None: __import__("torch").tensor(
               data, dtype=getattr(__import__("torch"), dtype or "", None)),
           dtypes=("float32",), grad=False,
           errors=[err(([[1, 2], [3]],), ValueError, "expected sequence of length 2 at dim 1"),
                   err(([[1, 2], 3],), TypeError, "not a sequence"),
                   err(("abc",), TypeError, "invalid data type 'str'"),
                   err(([1, None],), RuntimeError, "Could not infer dtype of NoneType")]),
    # -- conversions -------------------------------------------------------------------------
    OpSpec("clone", ref=np.copy, shapes=[((3, 4),), ((),)],
           dtypes=("float32", "float64", "int64", "bool")),
    OpSpec("clone", variant="complex", ref=np.copy, shapes=[((3, 4),)], dtypes=("complex64",)),
    OpSpec("to", variant="float64", fn=lambda x: x.to(ember.float64, copy=True),
           torch_fn=lambda x: x.to(__import__("torch").float64, copy=True), shapes=[((3, 4),), ((),)],
           dtypes=("float32", "float64", "int32", "bfloat16")),
    OpSpec("to", variant="float32", fn=lambda x: x.float(), torch_fn=lambda x: x.float(),
           shapes=[((3, 4),)], dtypes=("float16", "int64", "bool"), grad=False),
    OpSpec("to", variant="int", fn=lambda x: x.long(), torch_fn=lambda x: x.long(),
           shapes=[((3, 4),)], domain=(-5.0, 5.0), dtypes=("float32", "float64"), grad=False),
    OpSpec("to", variant="complex", fn=lambda x: x.to(ember.complex128),
           torch_fn=lambda x: x.to(__import__("torch").complex128), shapes=[((3,),)],
           dtypes=("float64",), gradgrad=False),
    OpSpec("copy_", fn=_copy_into, torch_fn=_copy_into,
           samples=arrays(((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1,)), grad=(1,)),
           dtypes=FLOAT,
           errors=[(Sample((np.ones((2, 3)), np.ones(2))), RuntimeError,
                    re.escape("must match the size of tensor b (2)"))]),
    OpSpec("copy_", variant="clone_dst", fn=_copy_clone, torch_fn=_copy_clone,
           samples=arrays(((2, 3), (3,))), dtypes=FLOAT),
    OpSpec("fill_", fn=lambda x: _fill(x, 2.5), torch_fn=lambda x: _fill(x, 2.5),
           shapes=[((3, 4),), ((),)], dtypes=("float32", "float64", "int64", "bool")),
    OpSpec("fill_", variant="tensor_value", fn=_fill, torch_fn=_fill,
           samples=arrays(((3, 4), ()), ((2,), ())), dtypes=FLOAT),
    OpSpec("zero_", fn=_zero, torch_fn=_zero, shapes=[((3, 4),)],
           dtypes=("float32", "int64")),
    # -- seeded samplers: ember's cpu stream equals torch's ----------------------------------
    OpSpec("rand", variant="seeded", **seeded(lambda m, n, dtype: m.rand(
        n, dtype=getattr(m, dtype))), samples=with_dtype(((7,), {}), ((100,), {})),
           dtypes=("float32", "float64", "float16", "bfloat16"), grad=False, rtol=0, atol=0),
    OpSpec("randn", variant="seeded", **seeded(lambda m, n, dtype: m.randn(
        n, dtype=getattr(m, dtype))), samples=with_dtype(((5,), {}), ((16,), {}), ((53,), {})),
           dtypes=("float32", "float64", "bfloat16"), grad=False, rtol=0, atol=0),
    OpSpec("randint", variant="seeded", **seeded(lambda m, lo, hi, n: m.randint(lo, hi, (n,))),
           samples=fixed(((0, 10, 20), {}), ((-5, 2**40, 9), {})), dtypes=("int64",),
           grad=False),
    OpSpec("randperm", variant="seeded", **seeded(lambda m, n: m.randperm(n)),
           samples=fixed(((1,), {}), ((10,), {}), ((300,), {})), dtypes=("int64",),
           grad=False),
    OpSpec("bernoulli", variant="seeded", **seeded(lambda m, x: m.bernoulli(x)),
           samples=arrays(((40,),), low=0.0, high=1.0), dtypes=FLOAT, grad=False),
    OpSpec("normal", variant="seeded", **seeded(lambda m, mu, sd: m.normal(mu, sd)),
           samples=arrays(((20,), (20,)), ((5, 4), (4,)), low=0.5), dtypes=FLOAT,
           grad=False),
    # -- torch-namespace gaps ----------------------------------------------------------------
    OpSpec("scalar_tensor", variant="dtype", **both("scalar_tensor"),
           samples=with_dtype(((3,), {}), ((-2.5,), {}), ((True,), {})),
           dtypes=("float32", "float64", "int64"), grad=False),
    OpSpec("vander", samples=lambda rng, dt: [
        Sample((draw(rng, (4,), dt),)), Sample((draw(rng, (3,), dt),), {"N": 5}),
        Sample((draw(rng, (3,), dt),), {"N": 2, "increasing": True})],
           dtypes=FLOAT + ("int64",), grad=False,      # torch's own vander backward fails
           errors=[err((np.ones((2, 2)),), RuntimeError, "x must be a one-dimensional tensor."),
                   err((np.ones(2),), RuntimeError, "N must be non-negative.", N=-1)]),
    OpSpec("view_as_real_copy", samples=lambda rng, dt: [
        Sample((draw(rng, (2, 3), dt),)), Sample((draw(rng, (), dt),))],
           dtypes=("complex64", "complex128"), grad=False),
    # torch's view_as_complex_copy has no autograd formula: values only
    OpSpec("view_as_complex_copy", samples=arrays(((2, 3, 2),), ((2,),)), dtypes=FLOAT,
           grad=False),
]
