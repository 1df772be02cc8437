"""nn activations (F.*): one OpSpec per function or variant.

Inputs are drawn away from each function's kinks (0 for relu-likes, +-lambd for shrinks,
+-3 for hardsigmoid/hardswish, the hardtanh bounds) so finite differences never straddle one.
"""

from __future__ import annotations

import math

import numpy as np

import ember

from .spec import OpSpec, Sample, draw

F = "nn.functional."
FLOATS = ("float32", "float64")
HALVES = FLOATS + ("float16", "bfloat16")


def _away(rng, shape, dtype, kinks, lo=-4.0, hi=4.0):
    """Uniform in [lo, hi), nudged at least 0.05 away from every kink."""
    x = rng.uniform(lo, hi, size=shape)
    for k in kinks:
        near = np.abs(x - k) < 0.05
        x = np.where(near, k + 0.1 * np.sign(x - k + 1e-9), x)
    if dtype == "bfloat16":
        import ml_dtypes
        return x.astype(ml_dtypes.bfloat16)
    return x.astype(dtype)


def _samples(kinks=(0.0,), lo=-4.0, hi=4.0, kwargs=({},)):
    def make(rng, dtype):
        out = []
        for kw in kwargs:
            out.append(Sample((_away(rng, (3, 4), dtype, kinks, lo, hi),), dict(kw)))
        out.append(Sample((_away(rng, (), dtype, kinks, lo, hi),), dict(kwargs[0])))
        return out
    return make


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _f64(fn):
    def ref(x, **kw):
        return fn(np.asarray(x, dtype=np.float64), **kw)
    return ref


def _elu_ref(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


def _gelu_ref(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def _softplus_ref(x, beta=1.0, threshold=20.0):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


def _inplace(name, **kw):
    """F.<name>(x.clone(), inplace=True): the in-place path, differentiable through clone."""
    def run(mod):
        fn = getattr(mod.nn.functional, name)
        return lambda x, **k: fn(x.clone(), inplace=True, **{**kw, **k})
    import tests.oracle as oracle
    return dict(fn=run(ember), torch_fn=run(oracle.torch) if oracle.torch is not None else None)


def _prelu_samples(rng, dtype):
    x = _away(rng, (2, 3, 4), dtype, (0.0,))
    return [Sample((x, draw(rng, (3,), dtype, 0.05, 0.5))),
            Sample((x, draw(rng, (1,), dtype, 0.05, 0.5))),
            Sample((_away(rng, (5,), dtype, (0.0,)), draw(rng, (1,), dtype, 0.05, 0.5)))]


def _glu_samples(rng, dtype):
    return [Sample((draw(rng, (3, 4), dtype),), {}), Sample((draw(rng, (4, 2, 3), dtype),),
                                                             {"dim": 0})]


def _softmin_samples(rng, dtype):
    return [Sample((draw(rng, (3, 5), dtype, -3, 3),), {"dim": 1}),
            Sample((draw(rng, (2, 3, 4), dtype, -3, 3),), {"dim": 0})]


SPECS = [
    OpSpec(F + "relu", samples=_samples(), ref=lambda x: np.maximum(x, 0), dtypes=HALVES),
    OpSpec(F + "relu", variant="inplace", samples=_samples(), **_inplace("relu")),
    OpSpec(F + "relu6", samples=_samples((0.0, 6.0), -2, 8),
           ref=lambda x: np.clip(x, 0, 6)),
    OpSpec(F + "elu", samples=_samples(kwargs=({}, {"alpha": 0.7})), ref=_f64(_elu_ref),
           dtypes=HALVES),
    OpSpec(F + "elu", variant="inplace", samples=_samples(), **_inplace("elu")),
    OpSpec(F + "selu", samples=_samples(),
           ref=_f64(lambda x: 1.0507009873554805 * _elu_ref(x, 1.6732632423543772))),
    OpSpec(F + "celu", samples=_samples(kwargs=({"alpha": 1.5},)),
           ref=_f64(lambda x, alpha=1.0: np.maximum(x, 0) +
                    np.minimum(0, alpha * np.expm1(x / alpha)))),
    OpSpec(F + "leaky_relu", samples=_samples(kwargs=({}, {"negative_slope": 0.2})),
           ref=lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope)),
    OpSpec(F + "leaky_relu", variant="inplace", samples=_samples(),
           **_inplace("leaky_relu", negative_slope=0.3)),
    OpSpec(F + "hardtanh", samples=_samples((-1.0, 1.0, -0.5, 2.0),
                                            kwargs=({}, {"min_val": -0.5, "max_val": 2.0}))),
    OpSpec(F + "threshold", samples=_samples((0.3,), kwargs=({"threshold": 0.3,
                                                               "value": -1.5},)),
           ref=lambda x, threshold, value: np.where(x > threshold, x, value)),
    OpSpec(F + "softplus", samples=_samples(kwargs=({}, {"beta": 2.0, "threshold": 3.0})),
           ref=_f64(_softplus_ref), dtypes=HALVES),
    OpSpec(F + "gelu", samples=_samples(kwargs=({}, {"approximate": "tanh"})),
           ref=_f64(_gelu_ref), dtypes=HALVES),
    OpSpec(F + "silu", samples=_samples(), ref=_f64(lambda x: x * _np_sigmoid(x)),
           dtypes=HALVES),
    OpSpec(F + "mish", samples=_samples(),
           ref=_f64(lambda x: x * np.tanh(np.log1p(np.exp(x))))),
    OpSpec(F + "logsigmoid", samples=_samples(lo=-30, hi=30),
           ref=_f64(lambda x: -np.logaddexp(0, -x))),
    OpSpec(F + "hardsigmoid", samples=_samples((-3.0, 3.0), -5, 5),
           ref=lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    OpSpec(F + "hardswish", samples=_samples((-3.0, 3.0), -5, 5),
           ref=_f64(lambda x: x * np.clip(x + 3, 0, 6) / 6)),
    OpSpec(F + "hardswish", variant="inplace", samples=_samples((-3.0, 3.0), -5, 5),
           **_inplace("hardswish")),
    OpSpec(F + "softshrink", samples=_samples((-0.5, 0.5, -1.0, 1.0),
                                              kwargs=({}, {"lambd": 1.0}))),
    OpSpec(F + "hardshrink", samples=_samples((-0.5, 0.5, -1.0, 1.0),
                                              kwargs=({}, {"lambd": 1.0})),
           ref=lambda x, lambd=0.5: np.where(np.abs(x) > lambd, x, 0)),
    OpSpec(F + "tanhshrink", samples=_samples(), ref=_f64(lambda x: x - np.tanh(x))),
    OpSpec(F + "softsign", samples=_samples(), ref=lambda x: x / (1 + np.abs(x))),
    OpSpec(F + "sigmoid", samples=_samples()),
    OpSpec(F + "tanh", samples=_samples()),
    OpSpec(F + "glu", samples=_glu_samples),
    OpSpec(F + "prelu", samples=_prelu_samples),
    OpSpec(F + "rrelu", variant="eval", samples=_samples(kwargs=({}, {"lower": 0.2,
                                                                     "upper": 0.4}))),
    OpSpec(F + "softmin", samples=_softmin_samples),
    OpSpec(F + "silu", variant="inplace", samples=_samples(), **_inplace("silu")),
    OpSpec(F + "gelu", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3),), {"approximate": "exact"}), RuntimeError,
         "approximate argument must be either none or tanh"),
        (Sample((np.ones(3, dtype=np.int64),)), NotImplementedError,
         "\"GeluKernelImpl\" not implemented for 'Long'")]),
    OpSpec(F + "glu", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((2, 3)),)), RuntimeError,
         "Halving dimension must be even, but dimension 1 is size 3"),
        (Sample((np.ones(()),)), RuntimeError, "glu does not support scalars")]),
    OpSpec(F + "prelu", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((2, 3)), np.ones(2))), RuntimeError,
         "Mismatch of parameter numbers and input channel size. Found parameter numbers = 2 "
         "and channel size = 3"),
        (Sample((np.ones((2, 3)), np.ones((1, 1)))), RuntimeError,
         "Expected `weight` to be a scalar or 1D tensor")]),
    OpSpec(F + "hardtanh", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3), 2.0, 1.0)), ValueError, "min_val cannot be greater than max_val")]),
    OpSpec(F + "celu", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3),), {"alpha": 0.0}), RuntimeError, "alpha cannot be 0 for CELU")]),
    OpSpec(F + "rrelu", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3), 0.5, 0.1, True)), RuntimeError,
         "Lower bound should be less than or equal to the upper bound")]),
    OpSpec(F + "softshrink", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3), -1.0)), RuntimeError, "lambda must be in range")]),
]
