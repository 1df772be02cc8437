"""Type promotion: property tests (hypothesis) of result dtypes and shapes against torch, and
the explicit rules people rely on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from ember import _dtype as D
from tests.oracle import needs_torch, torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]
OPS = ["add", "mul", "div", "eq"]
SETTINGS = settings(deadline=None, max_examples=60, derandomize=True)


def _values(dtype, shape):
    """Small values that every dtype holds exactly (1, 2 and 3 cycling; True for bool)."""
    n = int(np.prod(shape))
    base = (np.arange(n) % 3 + 1).reshape(shape)
    if dtype == "bool":
        return base > 0
    if dtype == "bfloat16":
        import ml_dtypes
        return base.astype(np.float32).astype(ml_dtypes.bfloat16)
    return base.astype(dtype)


def _pair(dtype, shape):
    arr = _values(dtype, shape)
    e = ember.tensor(arr)
    if dtype == "bfloat16":
        t = torch.from_numpy(arr.astype(np.float32)).to(torch.bfloat16)
    else:
        t = torch.from_numpy(np.array(arr, copy=True))
    return e, t


def _run(fn_e, fn_t):
    """(dtype name, shape) of both results, or the exception class names when torch raises."""
    try:
        want = fn_t()
    except Exception as e:
        if "ComplexHalf" in str(e):
            return None         # torch's experimental complex32 gaps: ember uses complex64
        with pytest.raises(Exception):  # noqa: B017 - torch refused: ember must refuse too
            fn_e()
        return None
    got = fn_e()
    want_dtype = str(want.dtype)
    if want_dtype == "torch.complex32":
        # ember has no complex32 (ComplexHalf, experimental in torch): complex64 stands in.
        want_dtype = "torch.complex64"
    return (str(got.dtype), tuple(got.shape)), (want_dtype, tuple(want.shape))


@needs_torch
@SETTINGS
@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES), st.sampled_from(OPS),
       mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       st.booleans(), st.booleans())
def test_binary_result_dtype_and_shape_match_torch(d1, d2, op, shapes, zero_dim_1, zero_dim_2):
    s1, s2 = shapes.input_shapes
    s1 = () if zero_dim_1 else s1
    s2 = () if zero_dim_2 else s2
    e1, t1 = _pair(d1, s1)
    e2, t2 = _pair(d2, s2)
    res = _run(lambda: getattr(ember, op)(e1, e2), lambda: getattr(torch, op)(t1, t2))
    if res is not None:
        got, want = res
        assert got == want, f"{op}({d1}{s1}, {d2}{s2})"
    want = str(torch.result_type(t1, t2)).replace("complex32", "complex64")
    assert str(ember.result_type(e1, e2)) == want


SCALARS = st.one_of(st.booleans(), st.integers(-3, 3), st.floats(-3, 3, allow_nan=False),
                    st.complex_numbers(max_magnitude=3, allow_nan=False, allow_infinity=False))


@needs_torch
@SETTINGS
@given(st.sampled_from(DTYPES), SCALARS, st.sampled_from(OPS + ["sub", "pow"]),
       st.sampled_from([(), (2,), (2, 3)]), st.booleans())
def test_tensor_with_python_scalar_matches_torch(dtype, scalar, op, shape, scalar_first):
    e, t = _pair(dtype, shape)
    import operator
    fn = {"add": operator.add, "mul": operator.mul, "div": operator.truediv, "eq": operator.eq,
          "sub": operator.sub, "pow": operator.pow}[op]
    if scalar_first and op == "eq":
        scalar_first = False
    if scalar_first:
        res = _run(lambda: fn(scalar, e), lambda: fn(scalar, t))
    else:
        res = _run(lambda: fn(e, scalar), lambda: fn(t, scalar))
    if res is not None:
        got, want = res
        assert got == want, f"{op}({dtype}{shape}, {scalar!r}, scalar_first={scalar_first})"
    want = str(torch.result_type(t, scalar)).replace("complex32", "complex64")
    assert str(ember.result_type(e, scalar)) == want


@needs_torch
@SETTINGS
@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES))
def test_promote_types_matches_torch(d1, d2):
    got = ember.promote_types(getattr(ember, d1), getattr(ember, d2))
    want = torch.promote_types(getattr(torch, d1), getattr(torch, d2))
    assert str(got) == str(want)
    assert ember.can_cast(getattr(ember, d1), getattr(ember, d2)) == \
        torch.can_cast(getattr(torch, d1), getattr(torch, d2))


@needs_torch
@pytest.mark.parametrize("d1", DTYPES)
def test_promote_types_full_table(d1):
    # The whole 12 x 12 table, so no pair depends on hypothesis drawing it.
    for d2 in DTYPES:
        got = ember.promote_types(getattr(ember, d1), getattr(ember, d2))
        assert str(got) == str(torch.promote_types(getattr(torch, d1), getattr(torch, d2))), d2


# -- the explicit rules ------------------------------------------------------------------------

def test_float_literal_tensor_is_float32():
    assert ember.tensor([1.0]).dtype is ember.float32
    assert ember.tensor(1.5).dtype is ember.float32


def test_arange_of_ints_is_int64():
    assert ember.arange(3).dtype is ember.int64


def test_integer_true_division_gives_default_float():
    a, b = ember.tensor([1, 2]), ember.tensor([2, 2])
    assert (a / b).dtype is ember.float32
    assert ember.div(a, 2).dtype is ember.float32
    assert (ember.tensor([True]) / ember.tensor([True])).dtype is ember.float32
    ember.set_default_dtype(ember.float64)
    assert (a / b).dtype is ember.float64


def test_zero_dim_tensor_does_not_upcast_within_category():
    x = ember.tensor([1, 2], dtype=ember.int8)
    assert (x + ember.tensor(5, dtype=ember.int64)).dtype is ember.int8
    f = ember.tensor([1.0], dtype=ember.float16)
    assert (f * ember.tensor(2.0, dtype=ember.float64)).dtype is ember.float16
    # ... but a higher category wins, with the zero-dim tensor's own dtype.
    assert (x + ember.tensor(1.5, dtype=ember.float64)).dtype is ember.float64
    assert (f.float() + ember.tensor(1j, dtype=ember.complex128)).dtype is ember.complex64
    # Two zero-dim tensors promote normally.
    assert (ember.tensor(1, dtype=ember.int8) + ember.tensor(1, dtype=ember.int64)).dtype \
        is ember.int64


def test_python_scalars_are_weak():
    x = ember.tensor([1, 2], dtype=ember.int16)
    assert (x + 1).dtype is ember.int16
    assert (x + 1.5).dtype is ember.float32
    assert (x + True).dtype is ember.int16
    h = ember.tensor([1.0], dtype=ember.bfloat16)
    assert (h * 3.0).dtype is ember.bfloat16
    assert (h * 1j).dtype is ember.complex64
    assert (ember.tensor([True]) + 1).dtype is ember.int64
    assert (ember.tensor([1.0], dtype=ember.float64) + 1j).dtype is ember.complex128


def test_uint8_plus_int8_is_int16():
    a = ember.tensor([200], dtype=ember.uint8)
    b = ember.tensor([-100], dtype=ember.int8)
    assert ember.promote_types(ember.uint8, ember.int8) is ember.int16
    out = a + b
    assert out.dtype is ember.int16
    assert out.tolist() == [100]


def test_float16_plus_bfloat16_is_float32():
    a = ember.tensor([1.5], dtype=ember.float16)
    b = ember.tensor([2.5], dtype=ember.bfloat16)
    assert ember.promote_types(ember.float16, ember.bfloat16) is ember.float32
    out = a + b
    assert out.dtype is ember.float32
    assert out.tolist() == [4.0]


def test_result_type_of_scalars_and_tensors():
    assert ember.result_type(ember.tensor([1], dtype=ember.int32), 2.0) is ember.float32
    assert ember.result_type(ember.tensor([1.0], dtype=ember.float64), 2) is ember.float64
    assert ember.result_type(2, 3.0) is ember.float32
    assert ember.result_type(True, False) is ember.bool
    assert ember.result_type(1, 2) is ember.int64
    assert D.result_type_of([(ember.int8, 2), (ember.int64, 1)]) is ember.int8


def test_comparisons_give_bool_for_every_dtype():
    for name in DTYPES:
        x = ember.tensor(_values(name, (2,)))
        assert (x == x).dtype is ember.bool
        assert ember.ne(x, 1).dtype is ember.bool
