"""Rounding that must equal PyTorch's bit for bit: half-precision arithmetic with Python
numbers (computed in float32, rounded once) and `number / tensor` (reciprocal, then mul)."""

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, to_numpy, torch

OPS = ["__add__", "__sub__", "__mul__", "__truediv__", "__radd__", "__rsub__", "__rmul__",
       "__rtruediv__"]


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("op", OPS)
def test_tensor_number_arithmetic_rounds_like_torch(op, dtype):
    values = np.random.default_rng(0).uniform(-4, 4, 257)
    e = ember.tensor(values, dtype=getattr(ember, dtype))
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    for number in (0.7, 3, -1.3e-3):
        got, want = getattr(e, op)(number), getattr(t, op)(number)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_array_equal(to_numpy(got), to_numpy(want), err_msg=f"{op} {number}")


@needs_torch
def test_number_divided_by_int_tensor_is_default_float():
    got = 1 / ember.tensor([1, 3, 7])
    want = 1 / torch.tensor([1, 3, 7])
    assert got.dtype is ember.float32
    np.testing.assert_array_equal(to_numpy(got), to_numpy(want))
