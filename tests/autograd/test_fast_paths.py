"""The dispatch and engine fast paths give what the general paths (and PyTorch) give.

``apply2`` (Tensor's + - * / operators) takes a straight path for cpu float32/float64 operands;
the engine sums gradients of one tensor without dispatch. These tests compare each shortcut
against the general path it replaces, over the cases where the two could part.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import _dispatch
from ember.ops.elementwise import Add, Div, Mul, Sub
from tests.oracle import needs_torch, torch

OPS = {"add": Add, "sub": Sub, "mul": Mul, "div": Div}


def _operands():
    rng = np.random.default_rng(0)
    f32 = rng.standard_normal((2, 3)).astype(np.float32) + 3
    return {
        "f32": lambda: ember.tensor(f32),
        "f32_row": lambda: ember.tensor(f32[0]),
        "f32_0d": lambda: ember.tensor(np.float32(1.5)),
        "f64": lambda: ember.tensor(f32.astype(np.float64)),
        "f16": lambda: ember.tensor(f32.astype(np.float16)),
        "i64": lambda: ember.tensor(f32.astype(np.int64)),
        "bool": lambda: ember.tensor(f32 > 3),
        "int": lambda: 2,
        "float": lambda: 0.5,
        "bool_py": lambda: True,
    }


def _outcome(fn):
    try:
        r = fn()
    except Exception as e:  # the error class and message must agree too
        return ("error", type(e), str(e))
    return ("ok", r.dtype, tuple(r.shape), r._data.tobytes(), type(r._data))


@pytest.mark.parametrize("op", sorted(OPS))
def test_apply2_matches_apply_for_every_operand_kind(op):
    kinds = _operands()
    for ka, make_a in kinds.items():
        for kb, make_b in kinds.items():
            a, b = make_a(), make_b()
            if not isinstance(a, ember.Tensor) and not isinstance(b, ember.Tensor):
                continue
            fast = _outcome(lambda: _dispatch.apply2(OPS[op], a, b))
            general = _outcome(lambda: _dispatch.apply(OPS[op], a, b))
            assert fast == general, (op, ka, kb)


def test_apply2_0d_result_is_an_ndarray_tensor():
    a = ember.tensor(1.5)
    r = a * a
    assert type(r._data) is np.ndarray and r.shape == () and r.item() == 2.25
    x = ember.tensor(2.0, requires_grad=True)
    y = x * x + x
    y.backward()
    assert type(x.grad._data) is np.ndarray and x.grad.item() == 5.0


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_operator_chain_grads_match_torch(dtype):
    rng = np.random.default_rng(1)
    va = rng.standard_normal((3, 4)).astype(dtype)
    vb = rng.standard_normal((4,)).astype(dtype) + 3

    def run(mod):
        a = mod.tensor(va, requires_grad=True)
        b = mod.tensor(vb, requires_grad=True)
        y = (a + b) * a - b / (a * a + 1.5) + 2.0 * b - 1 / b + a
        y = y * 0.5 + a
        g = mod.tensor(np.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4))
        y.backward(g)
        return y, a.grad, b.grad

    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-5)


@needs_torch
def test_operator_on_second_output_of_multi_output_op_routes_grad_like_torch():
    v = np.arange(12, dtype=np.float32).reshape(3, 4) / 7

    def run(mod):
        x = mod.tensor(v, requires_grad=True)
        vals, _ = mod.max(x, dim=1)
        first, second = x.split(2, dim=1)
        y = (second * 3.0 + first).sum() + (vals * vals).sum()
        y.backward()
        return x.grad

    np.testing.assert_allclose(run(ember).numpy(), run(torch).numpy(), rtol=1e-6)


@needs_torch
def test_operator_on_view_after_base_changed_in_place_like_torch():
    def run(mod):
        w = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
        base = w * 1.0
        view = base[:2]
        base.mul_(w)                         # the view's history now runs through mul_
        y = (view * view + 1.0).sum()
        y.backward()
        return w.grad

    np.testing.assert_allclose(run(ember).numpy(), run(torch).numpy())


def test_engine_sums_many_gradients_of_one_leaf_without_touching_them():
    b = ember.tensor([0.5, 0.25], requires_grad=True)
    g0 = ember.tensor([1.0, 1.0])
    c = ember.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(50):
        c = c + b
    c.backward(g0)
    np.testing.assert_array_equal(b.grad.numpy(), [50.0, 50.0])
    np.testing.assert_array_equal(g0.numpy(), [1.0, 1.0])   # the cotangent was not written


@needs_torch
def test_engine_create_graph_sums_keep_the_graph_like_torch():
    def run(mod):
        x = mod.tensor([0.5, -1.5, 2.0], requires_grad=True)
        y = (x * x * x + x * x + x).sum()
        (g,) = mod.autograd.grad(y, x, create_graph=True)
        (gg,) = mod.autograd.grad(g.sum(), x)
        return g, gg

    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6)


def test_engine_fast_node_returning_too_few_grads_raises():
    class Half(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return (g,)

    a = ember.tensor([1.0], requires_grad=True)
    b = ember.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Half.apply(a, b).sum().backward()

    class BadOp(_dispatch.Op):          # a plain op node takes the engine's fast path
        name = "bad"

        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return (grad,)

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        _dispatch.apply(BadOp, a, b).sum().backward()


def test_engine_sum_of_mixed_dtype_grads_follows_promotion():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.double() * 3 + x).sum()
    y.backward()
    assert x.grad.dtype == ember.float32
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0])


@pytest.mark.gpu
def test_cuda_operator_chain_and_grad_sums_match_cpu():
    def run(device):
        b = ember.tensor([0.5, 0.25], device=device, requires_grad=True)
        s = ember.tensor(1.5, device=device, requires_grad=True)
        c = ember.tensor([1.0, 2.0], device=device, requires_grad=True)
        for _ in range(20):
            c = c * 0.5 + b - s / 4.0
        c.sum().backward()
        return c.detach().cpu().numpy(), b.grad.cpu().numpy(), s.grad.cpu().numpy()

    for g, h in zip(run("cuda"), run("cpu")):
        np.testing.assert_allclose(g, h, rtol=1e-6)
