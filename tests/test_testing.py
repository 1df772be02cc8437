"""ember.testing.assert_close and make_tensor, against torch.testing where installed."""

import pytest

import ember
from ember.testing import assert_close, make_tensor
from tests.oracle import needs_torch, torch


def test_assert_close_passes_within_default_float32_tolerance():
    assert_close(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-6]))


def test_assert_close_reports_mismatch():
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):
        assert_close(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.1]))


def test_assert_close_checks_dtype_and_shape():
    with pytest.raises(AssertionError, match="dtype"):
        assert_close(ember.tensor([1.0]), ember.tensor([1.0], dtype=ember.float64))
    with pytest.raises(AssertionError, match="shape"):
        assert_close(ember.tensor([1.0]), ember.tensor([1.0, 1.0]))
    assert_close(ember.tensor([1.0]), ember.tensor([1.0], dtype=ember.float64),
                 check_dtype=False)


def test_assert_close_nan_and_sequences():
    nan = float("nan")
    with pytest.raises(AssertionError):
        assert_close(ember.tensor([nan]), ember.tensor([nan]))
    assert_close(ember.tensor([nan]), ember.tensor([nan]), equal_nan=True)
    assert_close([ember.tensor(1.0), {"a": ember.tensor(2.0)}],
                 [ember.tensor(1.0), {"a": ember.tensor(2.0)}])
    with pytest.raises(ValueError):
        assert_close(ember.tensor(1.0), ember.tensor(1.0), rtol=1e-3)


@needs_torch
@pytest.mark.parametrize("delta", [0.0, 1e-7, 1e-6, 2e-5, 1e-3])
def test_assert_close_agrees_with_torch(delta):
    def outcome(mod, fn):
        try:
            fn(mod.tensor([1.0, 3.0]), mod.tensor([1.0, 3.0 + delta]))
            return True
        except AssertionError:
            return False
    assert outcome(ember, assert_close) == outcome(torch, torch.testing.assert_close)


def test_make_tensor_ranges():
    t = make_tensor(3, 4, dtype=ember.float32, low=-1, high=1)
    assert t.shape == (3, 4) and t.dtype is ember.float32
    assert float(t.abs().max()) <= 1
    i = make_tensor((5,), dtype=ember.int64, low=0, high=3, exclude_zero=True)
    assert i.dtype is ember.int64 and all(1 <= v < 3 for v in i.tolist())
