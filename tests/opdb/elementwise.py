"""Elementwise ops: one OpSpec per op (or variant).

Samples keep inputs away from kinks and poles (abs at 0, floor at integers, remainder where
a / b is an integer, ties of maximum) unless a spec tests the kink on purpose; those specs run
parity (values and grads vs torch) in float32 only, so no finite differences cross the kink.
"""

from __future__ import annotations

import numpy as np

import ember

from .spec import OpSpec, Sample, draw

BINARY_SHAPES = [((3, 4), (3, 4)), ((2, 3, 1), (4,)), ((), (5,)), ((4,), ())]
SMALL_BINARY = [((2, 3), (2, 3)), ((2, 1), (3,)), ((), (3,))]
UNARY_SHAPES = [((2, 3),), ((),)]
FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "uint8", "bool")
# Integer/bool inputs to float functions give the default float: checked in parity.
FLOAT_FN_DTYPES = FLOATS + ("int64", "bool")


def _away_from_integers(rng, shape, dtype, lo=-3.0, hi=3.0):
    x = rng.uniform(lo, hi, size=shape)
    x = np.floor(x) + rng.uniform(0.1, 0.9, size=shape)
    return x.astype(dtype)


def _nonzero(rng, shape, dtype, lo=0.5, hi=2.0):
    mag = rng.uniform(lo, hi, size=shape)
    sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return (mag * sign).astype(dtype)


def _ints(rng, shape, dtype, lo=-20, hi=20):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype == "uint8":
        lo = 0
    return rng.integers(lo, hi, size=shape).astype(dtype)


def _fref(fn):
    """A NumPy reference run like PyTorch: integer/bool inputs as float32, no warnings for
    inf/nan results."""
    def ref(*args, **kwargs):
        args = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind in "biu"
                else a for a in args]
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    return ref


def _unary(name, domain=(-2.0, 2.0), ref=None, dtypes=FLOAT_FN_DTYPES, **kw):
    return OpSpec(name, ref=_fref(ref) if ref is not None else None, shapes=UNARY_SHAPES,
                  domain=domain, dtypes=dtypes, **kw)


# -- sample functions ------------------------------------------------------------------------

def _pow_samples(rng, dtype):
    if dtype in ("int64", "int32"):
        a = rng.integers(-4, 5, size=(2, 3)).astype(dtype)
        b = rng.integers(0, 4, size=(2, 3)).astype(dtype)
        neg = rng.integers(-3, 0, size=(3,)).astype(dtype)
        base = np.array([1, -1, 2], dtype=dtype)
        return [Sample((a, b)), Sample((a, 3)), Sample((2, b)), Sample((base, neg))]
    base = draw(rng, (2, 3), dtype, 0.5, 2.0)
    return [Sample((base, draw(rng, (2, 3), dtype, -2, 2))),
            Sample((base, 3)), Sample((base, 2.5)), Sample((base, -1.5)),
            Sample((2.0, draw(rng, (2, 3), dtype))), Sample((base, draw(rng, (3,), dtype)))]


def _remainder_samples(rng, dtype):
    if dtype in ("int64", "int32"):
        a = rng.integers(-20, 20, size=(2, 3)).astype(dtype)
        b = np.where(rng.random((2, 3)) < 0.5, -1, 1) * rng.integers(1, 7, size=(2, 3))
        return [Sample((a, b.astype(dtype))), Sample((a, 3)), Sample((a, -4))]
    a = draw(rng, (2, 3), dtype, -5, 5)
    b = _nonzero(rng, (2, 3), dtype, 0.7, 2.0)
    return [Sample((a, b)), Sample((a, 1.5)), Sample((a, -0.75)),
            Sample((draw(rng, (2, 1), dtype, -5, 5), _nonzero(rng, (3,), dtype)))]


def _lerp_samples(rng, dtype):
    a, b = draw(rng, (2, 3), dtype), draw(rng, (2, 3), dtype)
    return [Sample((a, b, 0.3)), Sample((a, b, 0.8)),
            Sample((a, b, draw(rng, (2, 3), dtype, -0.5, 1.5))),
            Sample((a, draw(rng, (3,), dtype), draw(rng, (2, 1), dtype, 0, 1)))]


def _addc_samples(rng, dtype, div=False):
    x, t1 = draw(rng, (2, 3), dtype), draw(rng, (2, 3), dtype)
    t2 = _nonzero(rng, (2, 3), dtype) if div else draw(rng, (2, 3), dtype)
    return [Sample((x, t1, t2)), Sample((x, t1, t2), {"value": 0.5}),
            Sample((draw(rng, (3,), dtype), t1, t2[:1] if not div else t2), {"value": -2})]


def _clamp_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype, -3, 3)
    lo, hi = draw(rng, (3, 4), dtype, -2, -0.2), draw(rng, (4,), dtype, 0.2, 2)
    return [Sample((x,), {"min": -1.0, "max": 1.0}), Sample((x,), {"min": -0.5}),
            Sample((x,), {"max": 0.5}), Sample((x, lo, hi)), Sample((x, None, hi))]


def _clamp_edge_samples(rng, dtype):
    # Boundary hits (x == min, x == max) and min > max: gradients must follow torch.
    x = np.array([-1.0, 0.0, 1.0, 2.0, -2.0, 0.5], dtype=dtype)
    lo = np.array([-1.0, 0.5, -3.0, 3.0, -1.0, 0.5], dtype=dtype)
    hi = np.array([1.0, 0.0, 1.0, 1.0, -1.0, 0.5], dtype=dtype)
    return [Sample((x,), {"min": -1.0, "max": 1.0}), Sample((x,), {"min": 1.0, "max": -1.0}),
            Sample((x, lo, hi))]


def _minmax_tie_samples(rng, dtype):
    a = np.array([1.0, 2.0, -1.0, 0.5], dtype=dtype)
    b = np.array([1.0, 3.0, -1.0, 0.0], dtype=dtype)
    return [Sample((a, b)), Sample((a, np.array(1.0, dtype=dtype)))]


def _nan_minmax_samples(rng, dtype):
    a = np.array([1.0, np.nan, np.nan, 0.5, 2.0], dtype=dtype)
    b = np.array([np.nan, 2.0, np.nan, 0.5, 1.0], dtype=dtype)
    return [Sample((a, b))]


def _xlogy_samples(rng, dtype):
    x = draw(rng, (2, 3), dtype)
    y = draw(rng, (2, 3), dtype, 0.2, 3.0)
    return [Sample((x, y)), Sample((x, 2.5)), Sample((1.5, y))]


def _xlogy_zero_samples(rng, dtype):
    x = np.array([0.0, 0.0, 1.0, 0.0], dtype=dtype)
    y = np.array([0.0, 2.0, 3.0, np.nan], dtype=dtype)
    return [Sample((x, y))]


def _lgamma_samples(rng, dtype):
    return [Sample((draw(rng, (2, 3), dtype, 0.1, 6.0),)),
            Sample((_away_from_integers(rng, (2, 3), dtype, -4.0, 0.0),))]


def _special_values(values):
    def samples(rng, dtype):
        return [Sample((np.array(values, dtype=dtype),))]
    return samples


def _nan_to_num_samples(rng, dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0], dtype=dtype)
    return [Sample((x,)), Sample((x,), {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}),
            Sample((draw(rng, (2, 3), dtype),))]


def _round_samples(rng, dtype):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1.2345, -2.675, 123.456], dtype=dtype)
    return [Sample((x,), grad=()), Sample((x,), {"decimals": 2}, grad=()),
            Sample((x,), {"decimals": -1}, grad=()),
            Sample((_away_from_integers(rng, (2, 3), dtype),), {"decimals": 0})]


def _rounding_samples(rng, dtype):
    if dtype in ("int64", "int32"):
        return [Sample((rng.integers(-9, 9, size=(2, 3)).astype(dtype),))]
    return [Sample((_away_from_integers(rng, (2, 3), dtype),)),
            Sample((np.array([-2.0, -0.0, 0.0, 3.0, -1.5, 2.5], dtype=dtype),), grad=())]


def _int_binary(rng, dtype):
    a, b = _ints(rng, (2, 3), dtype), _ints(rng, (2, 3), dtype)
    return [Sample((a, b)), Sample((_ints(rng, (2, 1), dtype), _ints(rng, (3,), dtype)))]


def _shift_samples(rng, dtype):
    a = _ints(rng, (2, 3), dtype, -50, 50)
    s = rng.integers(0, 6, size=(2, 3)).astype(dtype)
    return [Sample((a, s)), Sample((a, 2))]


def _compare_samples(rng, dtype):
    if dtype in ("float32", "float64"):
        a = np.round(draw(rng, (3, 4), dtype), 0)
        b = np.round(draw(rng, (3, 4), dtype), 0)
        return [Sample((a, b)), Sample((a, 0.0)), Sample((a, b[0])),
                Sample((np.array([np.nan, 1.0], dtype=dtype), np.array([np.nan, 1.0],
                                                                       dtype=dtype)))]
    a, b = _ints(rng, (3, 4), dtype, 0, 4), _ints(rng, (3, 4), dtype, 0, 4)
    return [Sample((a, b)), Sample((a, 2)), Sample((a, 1.5))]


def _predicate_samples(rng, dtype):
    if dtype in ("float32", "float64", "float16"):
        return [Sample((np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.5], dtype=dtype),))]
    if dtype.startswith("complex"):
        return [Sample((np.array([1 + 0j, 1j, np.nan, np.inf], dtype=dtype),))]
    return [Sample((_ints(rng, (2, 3), dtype),))]


def _logical_samples(rng, dtype):
    if dtype in ("float32", "float64"):
        a = np.where(rng.random((2, 3)) < 0.5, 0.0, draw(rng, (2, 3), dtype)).astype(dtype)
        b = np.where(rng.random((2, 3)) < 0.5, 0.0, draw(rng, (2, 3), dtype)).astype(dtype)
        return [Sample((a, b)), Sample((a, b[:1]))]
    return _int_binary(rng, dtype)


def _logit_samples(rng, dtype):
    x = draw(rng, (2, 3), dtype, 0.05, 0.95)
    return [Sample((x,)), Sample((x, 0.2)), Sample((np.array([0.0, 1.0], dtype=dtype), 0.1))]


def _complex_unary(rng, dtype):
    return [Sample((draw(rng, (2, 3), dtype),))]


def _complex_pair(rng, dtype):
    return [Sample((draw(rng, (2, 3), dtype), draw(rng, (2, 3), dtype))),
            Sample((draw(rng, (2, 1), dtype), draw(rng, (3,), dtype)))]


def _polar_samples(rng, dtype):
    return [Sample((draw(rng, (2, 3), dtype, 0.2, 2.0), draw(rng, (2, 3), dtype, -3, 3)))]


def _heaviside_samples(rng, dtype):
    x = np.array([-1.5, 0.0, 2.0, 0.0], dtype=dtype)
    return [Sample((x, np.array([0.5, 0.25, 0.5, 0.75], dtype=dtype))),
            Sample((x, np.array(0.5, dtype=dtype)))]


def _float_power_samples(rng, dtype):
    base = draw(rng, (2, 3), dtype, 0.5, 2.0)
    return [Sample((base, 2)), Sample((base, draw(rng, (2, 3), dtype))), Sample((2, base))]


def _polygamma_samples(n):
    def samples(rng, dtype):
        return [Sample((n, draw(rng, (2, 3), dtype, 0.3, 5.0))),
                Sample((n, _away_from_integers(rng, (3,), dtype, -3.0, 0.0)))]
    return samples


def _copysign_samples(rng, dtype):
    a = _nonzero(rng, (2, 3), dtype)
    return [Sample((a, _nonzero(rng, (2, 3), dtype))), Sample((a, -1.0)),
            Sample((a, np.array([0.0, -0.0, 1.0], dtype=dtype)), grad=(0,))]


def _error_samples(*arrays):
    return Sample(tuple(arrays))


_F = np.ones((2, 3), dtype=np.float32)
_I = np.ones((2, 3), dtype=np.int64)
_B = np.ones((2, 3), dtype=bool)



def _isclose_samples(rng, dtype):
    if dtype == "int64":
        a = rng.integers(-5, 5, size=(2, 3)).astype(dtype)
        b = a + rng.integers(0, 2, size=(2, 3)).astype(dtype)
        return [Sample((a, b)), Sample((a, b), {"atol": 1.0}), Sample((a, b[:1]))]
    a = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 3.0, 0.0, 1e-9], dtype=dtype)
    b = np.array([1.0, 2.00001, np.nan, np.inf, np.inf, 3.1, 1e-9, 0.0], dtype=dtype)
    return [Sample((a, b)), Sample((a, b), {"equal_nan": True}),
            Sample((a, b), {"rtol": 0.05, "atol": 0.0}), Sample((a, b), {"rtol": 0, "atol": 0}),
            Sample((a, np.array(1.0, dtype=dtype)))]


def _mvlgamma_samples(rng, dtype):
    return [Sample((draw(rng, (2, 3), dtype, 2.0, 5.0),), {"p": 1}),
            Sample((draw(rng, (2, 3), dtype, 2.0, 5.0),), {"p": 3}),
            Sample((draw(rng, (), dtype, 3.0, 5.0),), {"p": 4})]


def _igamma_samples(rng, dtype):
    a = draw(rng, (2, 3), dtype, 0.5, 6.0)
    x = draw(rng, (2, 3), dtype, 0.1, 9.0)
    big_a = np.array([30.0, 50.0, 0.7], dtype=dtype)
    big_x = np.array([25.0, 60.0, 4.0], dtype=dtype)
    return [Sample((a, x), grad=(1,)), Sample((a[:1], x), grad=(1,)),
            Sample((big_a, big_x), grad=(1,))]


def _igamma_edge_samples(rng, dtype):
    a = np.array([0.0, 0.0, 1.0, -1.0, 1.0, np.inf, 2.0, 1e-3, 3.0, np.nan], dtype=dtype)
    x = np.array([1.0, 0.0, 0.0, 1.0, np.inf, 3.0, -1.0, 2.0, 1e-5, 1.0], dtype=dtype)
    return [Sample((a, x))]


SPECS = [
    # -- arithmetic --------------------------------------------------------------------------
    OpSpec("add", ref=np.add, shapes=BINARY_SHAPES, dtypes=FLOATS + ("int64", "uint8")),
    OpSpec("add", variant="alpha", fn=lambda a, b: ember.add(a, b, alpha=2.5),
           torch_fn=lambda a, b: __import__("torch").add(a, b, alpha=2.5),
           ref=lambda a, b: a + 2.5 * b, shapes=SMALL_BINARY),
    OpSpec("sub", ref=np.subtract, shapes=BINARY_SHAPES, dtypes=FLOATS + ("int64",),
           errors=[(_error_samples(_B, _B), RuntimeError, "Subtraction, the `-` operator")]),
    OpSpec("sub", variant="alpha", fn=lambda a, b: ember.sub(a, b, alpha=-3),
           torch_fn=lambda a, b: __import__("torch").sub(a, b, alpha=-3),
           ref=lambda a, b: a + 3 * b, shapes=SMALL_BINARY, dtypes=FLOATS + ("int64",)),
    OpSpec("add", variant="alpha_errors", fn=lambda a, b: ember.add(a, b, alpha=0.5), dtypes=(),
           errors=[(_error_samples(_I, _I), RuntimeError, "alpha must not be a floating")]),
    OpSpec("rsub", shapes=SMALL_BINARY, ref=lambda a, b: b - a),
    OpSpec("mul", ref=np.multiply, shapes=BINARY_SHAPES, dtypes=FLOATS + ("int64",)),
    OpSpec("mul", variant="bool", ref=np.multiply, shapes=SMALL_BINARY, dtypes=("bool",)),
    OpSpec("div", ref=_fref(np.true_divide), shapes=BINARY_SHAPES, domain=(0.5, 2.0),
           dtypes=FLOATS + ("int64",),
           errors=[(Sample((_F, _F), {"rounding_mode": "round"}), RuntimeError,
                    "rounding_mode to be one of")]),
    OpSpec("div", variant="trunc", fn=lambda a, b: ember.div(a, b, rounding_mode="trunc"),
           torch_fn=lambda a, b: __import__("torch").div(a, b, rounding_mode="trunc"),
           samples=_remainder_samples, dtypes=FLOATS + ("int64",), gradgrad=False,
           errors=[(_error_samples(_I, np.zeros((2, 3), np.int64)), RuntimeError,
                    "ZeroDivisionError")]),
    OpSpec("div", variant="floor", fn=lambda a, b: ember.div(a, b, rounding_mode="floor"),
           torch_fn=lambda a, b: __import__("torch").div(a, b, rounding_mode="floor"),
           samples=_remainder_samples, dtypes=FLOATS + ("int64",), gradgrad=False),
    OpSpec("true_divide", ref=_fref(np.true_divide), shapes=SMALL_BINARY, domain=(0.5, 2.0),
           dtypes=FLOATS + ("int64", "bool")),
    OpSpec("floor_divide", ref=np.floor_divide, samples=_remainder_samples, grad=False,
           dtypes=FLOATS + ("int64", "int32"),
           errors=[(_error_samples(_B, _B), NotImplementedError, "div_floor_cpu")]),
    OpSpec("remainder", ref=np.remainder, samples=_remainder_samples,
           dtypes=FLOATS + ("int64", "int32"),
           errors=[(_error_samples(_I, np.zeros((2, 3), np.int64)), RuntimeError,
                    "ZeroDivisionError"),
                   (_error_samples(_B, _B), NotImplementedError, "remainder_cpu")]),
    OpSpec("fmod", ref=np.fmod, samples=_remainder_samples, dtypes=FLOATS + ("int64", "int32"),
           errors=[(_error_samples(_I, np.zeros((2, 3), np.int64)), RuntimeError,
                    "ZeroDivisionError")]),
    OpSpec("pow", samples=_pow_samples, dtypes=FLOATS + ("int64", "int32"),
           errors=[(Sample((_I, -2)), RuntimeError, "Integers to negative integer powers")]),
    OpSpec("float_power", samples=_float_power_samples, dtypes=FLOATS + ("int64",)),
    OpSpec("neg", ref=np.negative, shapes=UNARY_SHAPES, dtypes=FLOATS + ("int64", "int8"),
           errors=[(_error_samples(_B), RuntimeError, "Negation, the `-` operator")]),
    OpSpec("positive", shapes=UNARY_SHAPES, dtypes=FLOATS + ("int64",),
           errors=[(_error_samples(_B), RuntimeError, "on a bool tensor is not supported")]),
    OpSpec("reciprocal", ref=np.reciprocal, samples=lambda rng, dt: [
        Sample((_nonzero(rng, (2, 3), dt),))], dtypes=FLOATS),
    OpSpec("reciprocal", variant="int", shapes=UNARY_SHAPES, domain=(1, 5),
           dtypes=("int64",), grad=False),
    OpSpec("square", ref=np.square, shapes=UNARY_SHAPES, dtypes=FLOATS + ("int64", "bool")),
    OpSpec("addcmul", samples=_addc_samples, dtypes=FLOATS + ("int64",)),
    OpSpec("addcdiv", samples=lambda rng, dt: _addc_samples(rng, dt, div=True),
           errors=[(_error_samples(_I, _I, _I), RuntimeError, "Integer division with addcdiv")]),
    OpSpec("lerp", samples=_lerp_samples,
           errors=[(_error_samples(_F, _F.astype(np.float64), _F), RuntimeError,
                    "expected dtype float for `end`")]),
    # -- exponentials and logarithms -------------------------------------------------------------
    _unary("exp", ref=np.exp),
    _unary("exp2", ref=np.exp2),
    _unary("expm1", ref=np.expm1),
    _unary("log", domain=(0.1, 3.0), ref=np.log),
    _unary("log1p", domain=(-0.5, 3.0), ref=np.log1p, dtypes=FLOATS),
    _unary("log2", domain=(0.1, 3.0), ref=np.log2),
    _unary("log10", domain=(0.1, 3.0), ref=np.log10),
    _unary("sqrt", domain=(0.1, 3.0), ref=np.sqrt),
    _unary("rsqrt", domain=(0.1, 3.0), ref=lambda a: 1 / np.sqrt(a)),
    OpSpec("logaddexp", ref=np.logaddexp, shapes=SMALL_BINARY, domain=(-3, 3),
           errors=[(_error_samples(_I, _I), NotImplementedError, "logaddexp_cpu")]),
    OpSpec("logaddexp2", ref=np.logaddexp2, shapes=SMALL_BINARY, domain=(-3, 3)),
    OpSpec("xlogy", samples=_xlogy_samples, dtypes=FLOATS),
    OpSpec("xlogy", variant="zeros", samples=_xlogy_zero_samples, dtypes=("float32",)),
    OpSpec("ldexp", samples=lambda rng, dt: [
        # Non-negative exponents: torch's ldexp gradient is 0 for negative integer ones.
        Sample((draw(rng, (2, 3), dt), np.array([[1, 2, 0]]).astype(np.int64)))]),
    # -- trigonometric and hyperbolic ----------------------------------------------------------
    _unary("sin", ref=np.sin), _unary("cos", ref=np.cos),
    _unary("tan", domain=(-1.2, 1.2), ref=np.tan),
    _unary("asin", domain=(-0.9, 0.9), ref=np.arcsin),
    _unary("acos", domain=(-0.9, 0.9), ref=np.arccos),
    _unary("atan", ref=np.arctan), _unary("sinh", ref=np.sinh), _unary("cosh", ref=np.cosh),
    _unary("tanh", ref=np.tanh), _unary("asinh", ref=np.arcsinh),
    _unary("acosh", domain=(1.2, 3.0), ref=np.arccosh, dtypes=FLOATS),
    _unary("atanh", domain=(-0.9, 0.9), ref=np.arctanh, dtypes=FLOATS),
    _unary("arcsin", domain=(-0.9, 0.9), ref=np.arcsin, dtypes=FLOATS),
    _unary("arctanh", domain=(-0.9, 0.9), ref=np.arctanh, dtypes=FLOATS),
    OpSpec("atan2", ref=np.arctan2, shapes=BINARY_SHAPES, dtypes=FLOATS + ("int64",),
           errors=[(_error_samples(np.ones((2, 3)), np.ones((4,))), RuntimeError,
                    "not broadcastable")]),
    OpSpec("arctan2", ref=np.arctan2, shapes=SMALL_BINARY),
    OpSpec("hypot", ref=np.hypot, shapes=SMALL_BINARY,
           errors=[(_error_samples(_I, _I), NotImplementedError, "hypot_cpu")]),
    _unary("sinc", ref=np.sinc, dtypes=FLOATS),
    OpSpec("sinc", variant="zero", samples=_special_values([0.0, 1.0, -2.0, 0.5]),
           dtypes=("float32",)),
    _unary("deg2rad", domain=(-360, 360), ref=np.deg2rad),
    _unary("rad2deg", ref=np.rad2deg),
    # -- activations and special functions -----------------------------------------------------
    _unary("sigmoid", domain=(-6, 6)),
    OpSpec("logit", samples=_logit_samples, dtypes=FLOATS),
    _unary("erf", domain=(-3, 3)),
    _unary("erfc", domain=(-3, 3)),
    _unary("erfinv", domain=(-0.95, 0.95), dtypes=FLOATS + ("bool",)),
    OpSpec("erf", variant="tails", samples=_special_values(
        [-30.0, -5.5, -2.0, -1e-8, 0.0, 1e-5, 1.99, 2.0, 4.0, 6.0, 27.0, np.inf, np.nan]),
           dtypes=FLOATS, grad=False),
    OpSpec("erfc", variant="tails", samples=_special_values(
        [-30.0, -5.5, -2.0, 0.0, 1.0, 1.99, 2.0, 4.0, 10.0, 26.0, 27.5, np.inf]),
           dtypes=FLOATS, grad=False, rtol=1e-12, atol=0),
    OpSpec("erfinv", variant="tails", samples=_special_values(
        [-1.0, -0.999999, -0.5, 0.0, 1e-10, 0.3, 0.5, 0.9999, 1 - 2**-40, 1.0, 1.5]),
           dtypes=FLOATS, grad=False, rtol=1e-11, atol=0),
    OpSpec("lgamma", samples=_lgamma_samples, dtypes=FLOATS),
    OpSpec("lgamma", variant="poles", samples=_special_values(
        [0.0, -1.0, -2.0, 1.0, 2.0, 1e-10, 0.5, -0.5, 3.7, 171.5, 1e5, 1e30, np.inf]),
           dtypes=FLOATS, grad=False, rtol=1e-12, atol=1e-14),
    OpSpec("digamma", samples=_lgamma_samples, dtypes=FLOATS + ("int64",), gradgrad=False),
    OpSpec("digamma", variant="poles", samples=_special_values(
        [0.0, -0.0, -1.0, -3.0, 1.0, 1e-9, 0.5, -0.5, -2.9999, 7.25, 1e6, 1e30]),
           dtypes=("float64",), grad=False, rtol=1e-11, atol=1e-13),
    OpSpec("polygamma", variant="1", samples=_polygamma_samples(1), dtypes=FLOATS,
           gradgrad=False, errors=[(Sample((-1, _F)), RuntimeError, "negative n")]),
    OpSpec("polygamma", variant="2", samples=_polygamma_samples(2), dtypes=FLOATS,
           gradgrad=False),
    OpSpec("polygamma", variant="4", samples=_polygamma_samples(4), dtypes=("float64",),
           grad=False, rtol=1e-10),
    # -- rounding and sign -------------------------------------------------------------------
    OpSpec("floor", ref=np.floor, samples=_rounding_samples, dtypes=FLOATS + ("int64",),
           errors=[(_error_samples(_B), NotImplementedError, "floor_vml_cpu")]),
    OpSpec("ceil", ref=np.ceil, samples=_rounding_samples, dtypes=FLOATS + ("int64",)),
    OpSpec("trunc", ref=np.trunc, samples=_rounding_samples, dtypes=FLOATS + ("int64",)),
    OpSpec("fix", ref=np.trunc, samples=_rounding_samples, dtypes=FLOATS),
    OpSpec("round", samples=_round_samples, dtypes=FLOATS),
    OpSpec("round", variant="int", samples=_rounding_samples, dtypes=("int64",),
           errors=[(Sample((_I,), {"decimals": 1}), NotImplementedError, "round_cpu")]),
    OpSpec("frac", samples=_rounding_samples, dtypes=FLOATS,
           errors=[(_error_samples(_I), NotImplementedError, "frac_cpu")]),
    OpSpec("sign", ref=np.sign, samples=lambda rng, dt: [Sample((_nonzero(rng, (2, 3), dt),))]
           + ([Sample((np.array([0.0, -0.0, 2.0], dtype=dt),), grad=())] if "float" in dt
              else []),
           dtypes=FLOATS + ("int64",),
           errors=[(_error_samples(np.ones(2, np.complex64)), NotImplementedError,
                    "torch.sgn instead")]),
    # torch's real sgn gradient is a ZeroTensor the oracle cannot read: values only there.
    OpSpec("sgn", samples=lambda rng, dt: [Sample((_nonzero(rng, (2, 3), dt),))],
           dtypes=FLOATS + ("int64",), grad=False),
    OpSpec("sgn", variant="complex", samples=_complex_unary, dtypes=("complex64",)),
    OpSpec("abs", ref=np.abs, samples=lambda rng, dt: [Sample((_nonzero(rng, (2, 3), dt),))],
           dtypes=FLOATS + ("int64", "int8", "complex64"),
           errors=[(_error_samples(_B), NotImplementedError, "abs_cpu")]),
    OpSpec("abs", variant="kink", samples=_special_values([0.0, -0.0, 1.0, -2.0]),
           dtypes=("float32",)),
    OpSpec("absolute", ref=np.abs, samples=lambda rng, dt: [
        Sample((_nonzero(rng, (2, 3), dt),))]),
    OpSpec("copysign", samples=_copysign_samples, dtypes=FLOATS + ("int64",)),
    OpSpec("heaviside", samples=_heaviside_samples, dtypes=FLOATS, grad=False,
           errors=[(_error_samples(_F, np.ones(3)), RuntimeError, "different dtypes")]),
    OpSpec("signbit", samples=_predicate_samples, dtypes=FLOATS + ("int64",), grad=False),
    # -- selection and clamping --------------------------------------------------------------
    OpSpec("maximum", ref=np.maximum, samples=lambda rng, dt: [
        Sample((draw(rng, (2, 3), dt), draw(rng, (2, 3), dt))),
        Sample((draw(rng, (2, 1), dt), draw(rng, (3,), dt)))], dtypes=FLOATS + ("int64",),
           errors=[(_error_samples(np.ones(2, np.complex64), np.ones(2, np.complex64)),
                    RuntimeError, "not implemented for complex")]),
    OpSpec("minimum", ref=np.minimum, shapes=SMALL_BINARY, dtypes=FLOATS + ("int64",)),
    OpSpec("maximum", variant="ties", samples=_minmax_tie_samples, dtypes=("float32",)),
    OpSpec("minimum", variant="ties", samples=_minmax_tie_samples, dtypes=("float32",)),
    OpSpec("maximum", variant="nan", samples=_nan_minmax_samples, dtypes=("float32",)),
    OpSpec("fmax", ref=np.fmax, shapes=SMALL_BINARY, dtypes=FLOATS + ("int64",)),
    OpSpec("fmin", ref=np.fmin, shapes=SMALL_BINARY, dtypes=FLOATS),
    OpSpec("fmax", variant="nan", samples=_nan_minmax_samples, dtypes=("float32",)),
    OpSpec("fmin", variant="ties", samples=_minmax_tie_samples, dtypes=("float32",)),
    OpSpec("clamp", samples=_clamp_samples, dtypes=FLOATS,
           errors=[(_error_samples(_F), RuntimeError, "At least one of 'min' or 'max'")]),
    OpSpec("clamp", variant="edges", samples=_clamp_edge_samples, dtypes=("float32",)),
    OpSpec("clamp", variant="int", fn=lambda x: ember.clamp(x, min=1.5, max=8),
           torch_fn=lambda x: __import__("torch").clamp(x, min=1.5, max=8),
           shapes=UNARY_SHAPES, domain=(-10, 10), dtypes=("int64",), grad=False),
    OpSpec("clip", samples=_clamp_samples, dtypes=FLOATS),
    OpSpec("clamp_min", samples=lambda rng, dt: [Sample((draw(rng, (2, 3), dt), 0.3)),
                                                Sample((draw(rng, (2, 3), dt),
                                                        draw(rng, (3,), dt, -1.9, -0.1)))]),
    OpSpec("clamp_max", samples=lambda rng, dt: [Sample((draw(rng, (2, 3), dt), 0.3))]),
    OpSpec("nan_to_num", samples=_nan_to_num_samples, dtypes=FLOATS + ("float16",)),
    OpSpec("where", samples=lambda rng, dt: [
        Sample((rng.random((2, 3)) > 0.5, draw(rng, (2, 3), dt), draw(rng, (3,), dt))),
        Sample((rng.random((3,)) > 0.5, draw(rng, (2, 3), dt), 0.0))],
           errors=[(_error_samples(_F, _F, _F), RuntimeError, "boolean")]),
    # -- comparisons and predicates ------------------------------------------------------------
    *[OpSpec(name, samples=_compare_samples, dtypes=FLOATS + ("int64", "uint8", "bool"),
             grad=False, ref=ref)
      for name, ref in (("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                        ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                        ("greater", np.greater), ("greater_equal", np.greater_equal),
                        ("less", np.less), ("less_equal", np.less_equal),
                        ("not_equal", np.not_equal))],
    OpSpec("equal", samples=lambda rng, dt: [
        Sample((draw(rng, (2, 3), dt), draw(rng, (2, 3), dt))),
        Sample((np.ones((2, 3), dt), np.ones((2, 3), dt))),
        Sample((np.ones((2, 3), dt), np.ones((3,), dt)))], grad=False,
           errors=[(Sample((_F, 1)), TypeError, "must be Tensor")]),
    *[OpSpec(name, samples=_predicate_samples, dtypes=FLOATS + ("int64", "bool"), grad=False,
             ref=ref)
      for name, ref in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite),
                        ("isposinf", np.isposinf), ("isneginf", np.isneginf),
                        ("isreal", np.isreal))],
    OpSpec("isreal", variant="complex", samples=_predicate_samples, dtypes=("complex64",),
           grad=False),
    OpSpec("isposinf", variant="errors", dtypes=(),
           errors=[(_error_samples(np.ones(2, np.complex64)), RuntimeError,
                    "does not support complex")]),
    # -- logical and bitwise -------------------------------------------------------------------
    *[OpSpec(name, samples=_logical_samples, dtypes=FLOATS + ("int64", "bool"), grad=False,
             ref=ref)
      for name, ref in (("logical_and", np.logical_and), ("logical_or", np.logical_or),
                        ("logical_xor", np.logical_xor))],
    OpSpec("logical_not", ref=np.logical_not, samples=_predicate_samples,
           dtypes=FLOATS + ("int64", "bool"), grad=False),
    *[OpSpec(name, samples=_int_binary, dtypes=INTS, grad=False, ref=ref,
             errors=[(_error_samples(_F, _F), NotImplementedError, f"{name}_cpu")])
      for name, ref in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                        ("bitwise_xor", np.bitwise_xor))],
    OpSpec("bitwise_not", ref=np.invert, samples=lambda rng, dt: [Sample((_ints(rng, (2, 3),
                                                                              dt),))],
           dtypes=INTS, grad=False),
    OpSpec("bitwise_left_shift", samples=_shift_samples, dtypes=("int64", "int32", "uint8"),
           grad=False, errors=[(_error_samples(_F, _F), NotImplementedError, "lshift_cpu")]),
    OpSpec("bitwise_right_shift", samples=_shift_samples, dtypes=("int64", "int32", "uint8"),
           grad=False),
    OpSpec("bitwise_right_shift", variant="wide", samples=lambda rng, dt: [
        Sample((np.array([-8, 8, -1, 5], dtype=dt), np.array([70, 64, 3, 63], dtype=dt)))],
           dtypes=("int64",), grad=False),
    OpSpec("bitwise_left_shift", variant="wide", samples=lambda rng, dt: [
        Sample((np.array([1, 3, -1, 5], dtype=dt), np.array([64, 2, 70, 62], dtype=dt)))],
           dtypes=("int64",), grad=False),
    OpSpec("gcd", ref=np.gcd, samples=_int_binary, dtypes=("int64", "int32"), grad=False),
    OpSpec("lcm", ref=np.lcm, samples=_int_binary, dtypes=("int64", "int32"), grad=False),
    # -- complex numbers -----------------------------------------------------------------------
    OpSpec("conj", ref=np.conj, samples=_complex_unary, dtypes=FLOATS + ("complex64",),
           torch_fn=lambda x: x.conj().resolve_conj()),
    OpSpec("conj_physical", ref=np.conj, samples=_complex_unary,
           dtypes=FLOATS + ("complex64",)),
    OpSpec("real", ref=np.real, samples=_complex_unary, dtypes=("complex64", "float32")),
    OpSpec("imag", ref=np.imag, samples=_complex_unary, dtypes=("complex64",),
           errors=[(_error_samples(_F), RuntimeError, "non-complex dtypes")]),
    OpSpec("angle", samples=_complex_unary, dtypes=FLOATS + ("int64", "complex64")),
    OpSpec("angle", variant="nan", samples=_special_values([1.0, -1.0, 0.0, np.nan]),
           dtypes=("float32",)),
    OpSpec("complex", samples=_complex_pair, dtypes=("float32",),
           errors=[(_error_samples(_I, _I), RuntimeError, "Expected both inputs to be Half")]),
    OpSpec("polar", samples=_polar_samples, dtypes=("float32",)),
    # -- closeness, decomposition, Bessel and incomplete gamma ---------------------------------
    OpSpec("isclose", samples=_isclose_samples, dtypes=FLOATS + ("int64",), grad=False,
           errors=[(_error_samples(_F, _I), RuntimeError, "did not match"),
                   (Sample((_F, _F), {"rtol": -1.0}), RuntimeError, "rtol must be greater"),
                   (Sample((_F, 1.0)), TypeError, "must be Tensor")]),
    OpSpec("nextafter", ref=np.nextafter, shapes=SMALL_BINARY, dtypes=FLOATS, grad=False,
           errors=[(_error_samples(_I, _I), NotImplementedError, "nextafter_cpu")]),
    OpSpec("frexp", samples=lambda rng, dt: [
        Sample((np.array([6.0, -3.0, 0.3, 1.7e-3, 700.0], dtype=dt),))],
           ref=lambda x: np.frexp(x), dtypes=FLOATS,
           errors=[(_error_samples(_I), RuntimeError, "only supports floating-point")]),
    # powers of two and zero sit on the exponent's jumps: values only
    OpSpec("frexp", variant="edges", samples=lambda rng, dt: [
        Sample((np.array([8.0, -0.5, 0.0, -0.0, np.inf, np.nan, 1e-30], dtype=dt),))],
           ref=lambda x: np.frexp(x), dtypes=FLOATS, grad=False),
    _unary("i0", domain=(-5.0, 5.0), ref=np.i0),
    OpSpec("i0", variant="large", samples=lambda rng, dt: [
        Sample((np.array([-40.0, -19.5, -12.0, 19.99, 20.0, 25.0, 60.0], dtype=dt),))],
           ref=np.i0, dtypes=("float64",), gradgrad=False),
    OpSpec("mvlgamma", samples=_mvlgamma_samples, dtypes=FLOATS,
           errors=[(Sample((_F,), {"p": 0}), RuntimeError, "p has to be greater")]),
    OpSpec("igamma", samples=_igamma_samples, dtypes=FLOATS,
           errors=[(_error_samples(_I, _I), NotImplementedError, "igamma_cpu")]),
    OpSpec("igammac", samples=_igamma_samples, dtypes=FLOATS),
    OpSpec("igamma", variant="edges", samples=_igamma_edge_samples, dtypes=FLOATS, grad=False),
    OpSpec("igammac", variant="edges", samples=_igamma_edge_samples, dtypes=FLOATS,
           grad=False),
]

