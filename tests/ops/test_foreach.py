"""torch._foreach_*: every function against PyTorch (values, in-place, tuple results, gradients)
and the list-length errors."""

import numpy as np
import pytest

import ember
from ember.ops import foreach as F
from tests.oracle import needs_torch, torch

UNARY = F._UNARY
POSITIVE = {"acos", "asin", "log", "log10", "log1p", "log2", "rsqrt", "sqrt", "lgamma"}


def _pair(shapes=((2, 3), (4,)), positive=False, seed=0):
    rng = np.random.default_rng(seed)
    arrs = [rng.uniform(0.1, 0.9, s) if positive else rng.standard_normal(s) for s in shapes]
    arrs = [a.astype(np.float32) for a in arrs]
    return [ember.tensor(a) for a in arrs], [torch.tensor(a) for a in arrs]


def _close(ours, theirs):
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("name", UNARY)
def test_unary(name):
    e, t = _pair(positive=name in POSITIVE)
    out = getattr(ember, f"_foreach_{name}")(e)
    assert isinstance(out, tuple)
    _close(out, getattr(torch, f"_foreach_{name}")(t))
    assert getattr(ember, f"_foreach_{name}_")(e) is e
    getattr(torch, f"_foreach_{name}_")(t)
    _close(e, t)


@needs_torch
@pytest.mark.parametrize("name,kind", [
    (n, k) for n in F._BINARY for k in ("scalar", "scalarlist", "tensorlist", "tensor")
    if not (k == "tensor" and n.startswith("clamp"))])   # PyTorch has no such overload
def test_binary(name, kind):
    e, t = _pair(positive=name == "pow")
    e2, t2 = _pair(seed=1, positive=name in ("pow", "div"))
    other = {"scalar": (1.5, 1.5), "scalarlist": ([1.5, 0.5], [1.5, 0.5]),
             "tensorlist": (e2, t2), "tensor": (ember.tensor(2.0), torch.tensor(2.0))}[kind]
    _close(getattr(ember, f"_foreach_{name}")(e, other[0]),
           getattr(torch, f"_foreach_{name}")(t, other[1]))
    getattr(ember, f"_foreach_{name}_")(e, other[0])
    getattr(torch, f"_foreach_{name}_")(t, other[1])
    _close(e, t)


@needs_torch
def test_ternary_norm_and_misc():
    e, t = _pair()
    e1, t1 = _pair(seed=1)
    e2, t2 = _pair(seed=2, positive=True)
    for name in ("addcmul", "addcdiv"):
        for ve, vt in [(0.5, 0.5), ([0.5, 2.0], [0.5, 2.0]),
                       (ember.tensor([0.5, 2.0]), torch.tensor([0.5, 2.0]))]:
            _close(getattr(ember, f"_foreach_{name}")(e, e1, e2, ve),
                   getattr(torch, f"_foreach_{name}")(t, t1, t2, vt))
    _close(ember._foreach_lerp(e, e1, 0.3), torch._foreach_lerp(t, t1, 0.3))
    _close(ember._foreach_lerp(e, e1, e2), torch._foreach_lerp(t, t1, t2))
    _close(ember._foreach_add(e, e1, alpha=2), torch._foreach_add(t, t1, alpha=2))
    _close(ember._foreach_pow(2.0, e), torch._foreach_pow(2.0, t))
    for ord in (1, 2, float("inf")):
        _close(ember._foreach_norm(e, ord), torch._foreach_norm(t, ord))
    ember._foreach_addcmul_(e, e1, e2, value=0.5)
    torch._foreach_addcmul_(t, t1, t2, value=0.5)
    ember._foreach_lerp_(e, e1, 0.5)
    torch._foreach_lerp_(t, t1, 0.5)
    _close(e, t)
    ember._foreach_copy_(e, e1)
    _close(e, t1)
    ember._foreach_zero_(e)
    assert all(float(x.abs().sum()) == 0 for x in e)
    clones = ember._foreach_clone(e1)
    assert clones[0].data_ptr() != e1[0].data_ptr()


def test_gradients_flow():
    x = [ember.tensor(2.0, requires_grad=True), ember.tensor([1.0, 3.0], requires_grad=True)]
    y = ember._foreach_mul(ember._foreach_exp(x), 3.0)
    (y[0] + y[1].sum()).backward()
    np.testing.assert_allclose(x[0].grad.numpy(), 3 * np.exp(2.0), rtol=1e-6)
    np.testing.assert_allclose(x[1].grad.numpy(), 3 * np.exp([1.0, 3.0]), rtol=1e-6)


def test_errors():
    a = [ember.ones(2), ember.ones(3)]
    with pytest.raises(RuntimeError, match="Tensor list must have at least one tensor"):
        ember._foreach_add([], 1)
    with pytest.raises(RuntimeError, match="same number of tensors, got 2 and 1"):
        ember._foreach_add(a, [ember.ones(2)])
    with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
        ember._foreach_mul(a, [1.0])
    with pytest.raises(RuntimeError, match="scalar tensor expected to be 0 dim"):
        ember._foreach_mul(a, ember.tensor([2.0, 3.0]))
