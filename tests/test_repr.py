"""repr/str of tensors: character for character like PyTorch's (grad_fn names aside)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch


@pytest.fixture(autouse=True)
def _default_printoptions():
    ember.set_printoptions(profile="default")
    if torch is not None:
        torch.set_printoptions(profile="default")
    yield
    ember.set_printoptions(profile="default")
    if torch is not None:
        torch.set_printoptions(profile="default")


# Each case is an expression over ``m`` (ember or torch) that builds a tensor.
CASES = [
    "m.tensor([1., 2.])", "m.tensor([1.5, 2.])", "m.tensor([1, 2])", "m.tensor([True, False])",
    "m.tensor(3.)", "m.tensor(3.25)", "m.tensor(3)", "m.tensor(True)", "m.tensor(-0.)",
    "m.tensor(float('nan'))", "m.tensor([-0.5])",
    # scientific notation switch
    "m.tensor([1e-5, 1e5])", "m.tensor([1e-5, 1.])", "m.tensor([1e10, 1.])", "m.tensor([1e10])",
    "m.tensor([123456789.])", "m.tensor([1., 1e3])", "m.tensor([1., 1001.])",
    "m.tensor([0.1, 100.5])", "m.tensor([0.00011, 0.1])", "m.tensor([-1.5, 2.25, 1000.125])",
    "m.tensor([1.23456789e-8, 1.])", "m.tensor([-1e-5, 1e5])", "m.tensor([12345.678])",
    "m.tensor([0.1, 0.25, 123456.5])", "m.tensor([1.0, 2.0, 3.5]) * 1e9", "m.arange(60.) * 1e6",
    "m.tensor([1e20, -1e-20])", "m.tensor([1.5e300, 1.0], dtype=m.float64)",
    "m.tensor([[1e-5, 1e5], [1., 2.]])",
    # nan / inf / zeros
    "m.tensor([float('nan'), 1., float('inf'), -float('inf')])",
    "m.tensor([float('nan'), 1.5])", "m.tensor([float('nan')])", "m.tensor([float('inf'), 0.])",
    "m.tensor([0., 0.])", "m.tensor([0., -0.])",
    # dtypes
    "m.tensor([1e-5, 1e5], dtype=m.float64)", "m.tensor([1, 2], dtype=m.int32)",
    "m.tensor([1, 2], dtype=m.uint8)", "m.tensor([1, 2], dtype=m.int16)",
    "m.tensor([1., 2.], dtype=m.float64)", "m.tensor([1., 2.], dtype=m.float16)",
    "m.tensor([1.1, 2.], dtype=m.bfloat16)", "m.tensor([0.1], dtype=m.float16) * 3",
    "m.tensor([65504.], dtype=m.float16)", "m.ones(2, 3, dtype=m.bfloat16)",
    "m.tensor([[True, False], [False, True]])", "m.arange(50) - 25",
    # complex
    "m.tensor([1+2j, 3-4.5j])", "m.tensor([1+2j, 3-4j])", "m.tensor([1e-5+2j, 3-4j])",
    "m.tensor([1+2j], dtype=m.complex128)", "m.tensor(1+2j)",
    "m.tensor([1+2j, float('nan')+0j])",
    # layout, wrapping, summarisation
    "m.tensor([[1., 2.], [3., 4.]])", "m.tensor([[[1., 2.], [3., 4.]], [[5., 6.], [7., 8.]]])",
    "m.arange(24.).reshape(2, 3, 4)", "m.arange(30.) / 7", "m.arange(40).reshape(2, 20) * 1.5",
    "m.arange(100.).reshape(10, 10) / 3", "m.arange(100) * 1000", "m.arange(2000)",
    "m.arange(2000.)", "m.arange(1001.) / 7", "m.arange(4000.).reshape(40, 100)",
    "m.arange(4000.).reshape(4, 10, 100)", "m.arange(3000).reshape(10, 3, 100)",
    "m.ones(2, 1000)", "m.ones(1001, 2)", "m.ones(3, 3, 3, 40)",
    # empty tensors
    "m.empty(0)", "m.empty(0, 3)", "m.empty(0, dtype=m.int64)", "m.empty(2, 0, dtype=m.int32)",
    "m.empty(0, dtype=m.float64)", "m.zeros(0, requires_grad=True)",
    # autograd suffixes
    "m.zeros(3, requires_grad=True)", "m.zeros(3, requires_grad=True) * 2",
    "m.zeros(3, dtype=m.float64, requires_grad=True) + 1",
    "m.tensor([1e-5, 1e5], requires_grad=True)",
    "m.arange(100.).reshape(10, 10).requires_grad_()", "m.arange(10.).requires_grad_() * 2",
    "m.tensor([1., 2.], dtype=m.float64, requires_grad=True)",
    "m.tensor([123456.7, 2.], dtype=m.float64, requires_grad=True) * 1e-9",
]

# (print options, expression)
OPTION_CASES = [
    (dict(precision=2), "m.tensor([1.2345, 2.])"),
    (dict(precision=6), "m.tensor([1.2345, 2.])"),
    (dict(sci_mode=True), "m.tensor([1.5, 2.])"),
    (dict(sci_mode=True), "m.tensor([1., 2.])"),
    (dict(sci_mode=False), "m.tensor([1e-5, 1e5])"),
    (dict(sci_mode=True), "m.tensor([1, 2])"),
    (dict(linewidth=40), "m.arange(30.) / 7"),
    (dict(linewidth=200), "m.arange(60.) / 7"),
    (dict(linewidth=30), "m.zeros(4, requires_grad=True, dtype=m.float64) * 1.5"),
    (dict(threshold=5), "m.arange(10.)"),
    (dict(threshold=5, edgeitems=1), "m.arange(24.).reshape(2, 3, 4)"),
    (dict(threshold=5, edgeitems=0), "m.arange(10.)"),
    (dict(profile="short"), "m.arange(2000.) / 3"),
    (dict(profile="full"), "m.arange(1200)"),
]


def _normalise(s: str) -> str:
    return re.sub(r"grad_fn=<\w+>", "grad_fn=<...>", s)


def _build(expr, m):
    return eval(expr, {"m": m, "math": math, "np": np})


@needs_torch
@pytest.mark.parametrize("expr", CASES)
def test_repr_matches_torch(expr):
    e, t = _build(expr, ember), _build(expr, torch)
    assert _normalise(repr(e)) == _normalise(repr(t))
    assert _normalise(str(e)) == _normalise(str(t))


@needs_torch
@pytest.mark.parametrize("options,expr", OPTION_CASES)
def test_repr_with_printoptions_matches_torch(options, expr):
    ember.set_printoptions(**options)
    torch.set_printoptions(**options)
    assert _normalise(repr(_build(expr, ember))) == _normalise(repr(_build(expr, torch)))


@needs_torch
def test_repr_follows_the_default_dtype():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for expr in ("m.tensor([1.5, 2.])", "m.tensor([1.5], dtype=m.float32)",
                     "m.tensor([1j])", "m.tensor([1j], dtype=m.complex64)", "m.empty(0)",
                     "m.empty(0, dtype=m.float32)"):
            assert repr(_build(expr, ember)) == repr(_build(expr, torch)), expr
    finally:
        torch.set_default_dtype(torch.float32)


def test_repr_without_torch_known_strings():
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([1e-5, 1e5])) == "tensor([1.0000e-05, 1.0000e+05])"
    assert repr(ember.empty(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(ember.tensor([1, 2], dtype=ember.int32)) == "tensor([1, 2], dtype=torch.int32)"
    assert repr(ember.tensor(2.5)) == "tensor(2.5000)"
    assert repr(ember.zeros(2, requires_grad=True)) == "tensor([0., 0.], requires_grad=True)"
    grad_fn = repr(ember.ones(2, requires_grad=True) * 2)
    assert grad_fn.startswith("tensor([2., 2.], grad_fn=<") and grad_fn.endswith(">)")
    assert repr(ember.arange(2000)).startswith("tensor([   0,    1,    2,  ..., 1997, 1998, 1999")
    assert repr(ember.tensor([True])) == "tensor([True])"
    assert repr(ember.tensor([float("nan"), 1.0])) == "tensor([nan, 1.])"
    assert repr(ember.tensor([1 + 2j])) == "tensor([1.+2.j])"


def test_repr_wraps_at_linewidth_with_indent():
    lines = repr(ember.arange(30.) / 7).split("\n")
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines)
    assert all(line.startswith(" " * 8) for line in lines[1:])


def test_set_printoptions_rejects_unknown_profile_and_restores():
    with pytest.raises(ValueError, match="profile"):
        ember.set_printoptions(profile="tiny")
    from ember._tensor_str import get_printoptions, printoptions
    with printoptions(precision=1):
        assert repr(ember.tensor([1.25])) == "tensor([1.2])"
    assert get_printoptions()["precision"] == 4


def test_repr_of_a_subclass_uses_its_name():
    class MyTensor(ember.Tensor):
        pass
    t = MyTensor([1.0, 2.0])
    assert repr(t) == "MyTensor([1., 2.])"


@pytest.mark.gpu
def test_repr_shows_the_cuda_device():
    assert repr(ember.tensor([1.0, 2.0], device="cuda")) == "tensor([1., 2.], device='cuda:0')"
    assert repr(ember.empty(0, device="cuda", dtype=ember.int64)) == \
        "tensor([], device='cuda:0', dtype=torch.int64)"
