"""Views taken before their base gains history by an in-place op (Note [Views of a base that
gains history] in _dispatch.py) take part in autograd afterwards, as in PyTorch."""

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch


def _run(T):
    w = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = T.zeros(3)
    early = base[:2]
    base.add_(w * 2)                   # base gains history (it needed no grad before)
    other = T.zeros(2, 3)
    row = other[1]
    other[0] = w                       # a view target: its base gains history
    out = (early * 3.0).sum() + (row + 1).sum() + other.sum()
    out.backward()
    return w.grad


@needs_torch
def test_views_taken_before_base_gains_history_match_torch():
    np.testing.assert_allclose(_run(ember).numpy(), _run(torch).numpy())


@pytest.mark.parametrize("op", [lambda v: v * 2.0, lambda v: v + v, lambda v: v.exp()])
def test_stale_view_requires_grad_after_use(op):
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    base = ember.zeros(2)
    view = base[:1]
    base.mul_(0).add_(w)
    y = op(view)
    assert y.requires_grad
    y.sum().backward()
    assert w.grad is not None and w.grad[0].item() != 0 and w.grad[1].item() == 0


def test_stale_view_reports_requires_grad_before_use():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    base = ember.zeros(2)
    view = base[1:]
    base.add_(w)
    assert view.requires_grad
