"""The lowered plan (ember/jit/plan.py): same outputs as eager, promotion, in-place semantics,
buffer reuse."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.jit import passes, plan, trace_graph
from ember.jit.passes import fusion
from tests.jit._models import MLP, GPTBlock


def _same(got, expect):
    got = got if isinstance(got, (list, tuple)) else [got]
    expect = expect if isinstance(expect, (list, tuple)) else [expect]
    assert len(got) == len(expect)
    for a, b in zip(got, expect):
        assert isinstance(a, ember.Tensor)
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())


@pytest.mark.parametrize("optimize", [False, True])
@pytest.mark.parametrize("model,shape", [(MLP, (4, 16)), (GPTBlock, (2, 8, 32))])
def test_plan_models_match_eager(model, shape, optimize):
    m = model().eval()
    x = ember.randn(*shape)
    g = trace_graph(m, (x,))
    if optimize:
        g = passes.optimize(g)
    p = plan.lower(g, dict(m.state_dict()))
    for _ in range(2):                          # a second call reuses nothing stale
        x = ember.randn(*shape)
        with ember.no_grad():
            expect = m(x)
        out = p(x)
        assert not out.requires_grad and out.grad_fn is None
        _same(out, expect)


def test_plan_sees_parameter_updates():
    m = MLP().eval()
    x = ember.randn(2, 16)
    p = plan.lower(passes.optimize(trace_graph(m, (x,))), dict(m.state_dict()))
    with ember.no_grad():
        m.fc1.weight.mul_(0.5)
        expect = m(x)
    _same(p(x), expect)


def test_plan_output_structure_and_arrays():
    def fn(x, y):
        return {"s": x + y, "p": (x * y, x - y)}
    x, y = ember.randn(3), ember.randn(3)
    p = plan.lower(trace_graph(fn, (x, y)))
    out = p(x.numpy(), y.numpy())               # arrays are accepted too
    expect = fn(x, y)
    _same(out["s"], expect["s"])
    _same(list(out["p"]), list(expect["p"]))


def test_plan_promotion_like_apply():
    def fn(a, i, d, h, big):
        return (a + i, i * 0.5, a * d, i / 2, (h * 2.5).exp(), h + a, i > 1, (i + 1) // 2,
                big + a)                        # int64 -> float32 first, as apply casts
    a = ember.randn(3)
    i = ember.tensor([1, 2, 3])
    d = ember.randn(3, dtype=ember.float64)
    h = ember.randn(3).half()
    big = ember.tensor([16777217, 16777219, 7])
    half = ember.full((3,), 0.5)
    expect = fn(half, i, d, h, big)
    assert expect[-1].numpy()[0] == 16777216    # (NumPy alone would give 16777218)
    g = trace_graph(fn, (a, i, d, h, big))
    for graph in (g, passes.optimize(passes.clone(g))):
        _same(plan.lower(graph)(half, i, d, h, big), expect)


def test_plan_zero_dim_and_scalar_outputs():
    def fn(x):
        s = x.sum()
        return s * 2 + 1, (s.exp() - 1).neg()
    x = ember.randn(4)
    g = passes.optimize(trace_graph(fn, (x,)))
    _same(plan.lower(g)(x), fn(x))


def test_plan_inplace_on_input_like_eager():
    def fn(x):
        x.mul_(2.0)
        return x + 1
    x = ember.randn(3)
    p = plan.lower(trace_graph(fn, (x.clone(),)))
    a = ember.randn(3)
    b = a.clone()
    _same(p(a), fn(b))
    _same(a, b)                                 # the input changed as in eager mode


def test_plan_inplace_on_view_reaches_base():
    def fn(x):
        t = x * 1.5
        t[0].add_(10.0)
        return t.transpose(0, 1).contiguous()
    x = ember.randn(2, 3)
    g = trace_graph(fn, (x,))
    for graph in (g, passes.optimize(passes.clone(g))):
        _same(plan.lower(graph)(x), fn(x))


def test_plan_batchnorm_training_updates_buffers():
    bn = ember.nn.BatchNorm1d(4)
    ref = ember.nn.BatchNorm1d(4)
    ref.load_state_dict(bn.state_dict())
    x = ember.randn(8, 4)
    g = trace_graph(bn, (x,))
    bn.load_state_dict(ref.state_dict())        # undo the traced call's update
    p = plan.lower(g, dict(bn.state_dict()))
    with ember.no_grad():
        _same(p(x), ref(x))
    _same(bn.running_mean, ref.running_mean)
    _same(bn.running_var, ref.running_var)


def test_plan_constants_not_modified():
    c = ember.ones(3)

    def fn(x):
        c.add_(x)                               # an in-place op on a captured tensor
        return c * 2
    x = ember.randn(3)
    g = trace_graph(fn, (x,))
    p = plan.lower(g)
    expect = ember.jit.run_graph(g, [x])        # (the reference executor)
    _same(p(x), expect)
    _same(p(x), expect)                         # the plan writes a copy, once per call


def test_plan_reuses_dead_buffers(monkeypatch):
    calls = []
    original = fusion.evaluate

    def spy(xp, program, arrays, out=None):
        res = original(xp, program, arrays, out)
        calls.append((out is not None, res is out))
        return res
    monkeypatch.setattr(fusion, "evaluate", spy)

    w = ember.randn(8, 8)

    def fn(x):
        a = (x.exp() + 1).sin()                 # fused, dead after the matmul
        b = a @ w
        return (b.tanh() * 2).cos()             # same shape and dtype: a's buffer
    x = ember.randn(8, 8)
    g = passes.optimize(trace_graph(fn, (x,)))
    p = plan.lower(g)
    out = p(x)
    _same(out, fn(x))
    assert calls == [(False, False), (True, True)]
    calls.clear()
    out2 = p(x)                                 # outputs are never handed to a later call
    assert not np.shares_memory(out.numpy(), out2.numpy())
    calls.clear()
    plan.lower(g, reuse_buffers=False)(x)
    assert calls == [(False, False), (False, False)]


def test_plan_no_reuse_while_a_view_is_alive():
    w = ember.randn(8, 8)

    def fn(x):
        a = (x.exp() + 1).sin()
        v = a.t()                               # a view of a, alive after a's last reader
        b = a @ w
        return (b.tanh() * 2).cos() + v
    x = ember.randn(8, 8)
    g = passes.optimize(trace_graph(fn, (x,)))
    _same(plan.lower(g)(x), fn(x))


def test_plan_single_elementwise_steps_bit_identical():
    def fn(x, y):
        return (x @ y).relu(), (x @ y).sigmoid() - x
    x, y = ember.randn(5, 5), ember.randn(5, 5)
    _same(plan.lower(trace_graph(fn, (x, y)))(x, y), fn(x, y))


def test_plan_errors():
    g = trace_graph(lambda x: x * 2, (ember.ones(2),))
    p = plan.lower(g)
    with pytest.raises(RuntimeError, match="takes 1 input"):
        p(ember.ones(2), ember.ones(2))
    m = MLP()
    gm = trace_graph(m, (ember.randn(1, 16),))
    with pytest.raises(RuntimeError, match="no tensor given for parameter"):
        plan.lower(gm, {})


@pytest.mark.gpu
def test_plan_cuda_matches_eager():
    m = GPTBlock().eval().to("cuda")
    x = ember.randn(2, 8, 32, device="cuda")
    g = passes.optimize(trace_graph(m, (x,)))
    p = plan.lower(g, dict(m.state_dict()))
    with ember.no_grad():
        expect = m(x)
    np.testing.assert_allclose(p(x).cpu().numpy(), expect.cpu().numpy(), rtol=1e-5, atol=1e-5)
