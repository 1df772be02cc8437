"""Graph passes (ember/jit/passes): each pass keeps the outputs and removes what it should."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.jit import passes, run_graph, trace_graph
from ember.jit.ir import Graph
from ember.jit.passes import cse, dce, fold, fusion, simplify
from ember.jit.passes._util import clone, is_random
from ember.ops import elementwise as ew
from ember.ops import random as er
from tests.jit._models import MLP, GPTBlock


def _kinds(g):
    return [n.kind for n in g.nodes]


def _run(g, inputs, params=None):
    out = run_graph(g, [ember.tensor(a) if isinstance(a, np.ndarray) else a for a in inputs],
                    params)
    return out


def _same(a, b, exact=True):
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    assert len(a) == len(b)
    for x, y in zip(a, b):
        x, y = x.detach().numpy(), y.detach().numpy()
        assert x.shape == y.shape and x.dtype == y.dtype
        if exact:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def _check_pass(fn, inputs, pass_fn, exact=True):
    """Trace fn, run pass_fn on a copy; both graphs give fn's eager outputs. Returns both."""
    g = trace_graph(fn, tuple(inputs))
    g2 = pass_fn(clone(g))
    with ember.no_grad():
        expect = fn(*[t.clone() for t in inputs])
    _same(run_graph(g2, [t.clone() for t in inputs]), expect, exact)
    return g, g2


# -- dce --------------------------------------------------------------------------------------

def _meta(shape=(3,)):
    return [dict(shape=shape, dtype=ember.float32)]


def test_dce_removes_unused_nodes():
    # (the tracer already drops what traced code computed without using: build by hand)
    g = Graph()
    x = g.add_input("x", shape=(3,), dtype=ember.float32)
    g.add_node(ew.Exp, [x], {}, 1, _meta())
    y = g.add_node(ew.Sin, [x], {}, 1, _meta()).outputs[0]
    g.add_node(ew.Cos, [y], {}, 1, _meta())
    out = g.add_node(ew.Mul, [y, 2], {}, 1, _meta()).outputs[0]
    g.outputs = [out]
    a = ember.randn(3)
    expect = run_graph(g, [a])
    dce.run(g)
    assert _kinds(g) == ["sin", "mul"]
    _same(run_graph(g, [a]), expect)


def test_dce_keeps_inplace_on_input():
    def fn(x):
        x.add_(1.0)                              # result unused, but the caller sees it
        return x.sin()
    x = ember.randn(4)
    g = trace_graph(fn, (x.clone(),))
    g2 = dce.run(clone(g))
    assert "add" in _kinds(g2)
    y = ember.randn(4)
    expect = fn(y.clone())
    z = y.clone()
    _same(run_graph(g2, [z]), expect)
    _same(z, y + 1.0)


def test_dce_inplace_on_intermediate_kept_only_while_read_through_alias():
    def fn(x):
        t = x * 2
        v = t.view(2, 2)
        t.add_(1.0)                              # v sees it: must stay
        return v * 3
    g, g2 = _check_pass(fn, [ember.randn(4)], dce.run)
    assert "add" in _kinds(g2)

    def fn2(x):
        t = x * 2
        t.add_(1.0)                              # nobody reads t afterwards: dead
        return x * 3
    g, g2 = _check_pass(fn2, [ember.randn(4)], dce.run)
    assert _kinds(g2) == ["mul"]


def test_dce_drops_unused_random_op():
    g = Graph()
    x = g.add_input("x", shape=(3,), dtype=ember.float32)
    c = g.add_constant(np.zeros(3, np.float32), shape=(3,), dtype=ember.float32)
    n = g.add_node(ew.Exp, [x], {}, 1, _meta())
    # a random op (dropout-like) whose output nobody reads
    r = g.add_node(ew.Mul, [c, 2.0], {"generator": None}, 1,
                   [dict(shape=(3,), dtype=ember.float32)])
    assert is_random(r) and not is_random(n)
    g.outputs = [n.outputs[0]]
    dce.run(g)
    assert _kinds(g) == ["exp"] and not g.constants


def test_is_random_samplers():
    g = Graph()
    x = g.add_input("x", shape=(3,), dtype=ember.float32)
    node = g.add_node(er.Bernoulli, [x], {"p": 0.5}, 1, inplace=True)
    assert is_random(node)


# -- constant folding ---------------------------------------------------------------------------

def test_fold_constant_subgraph():
    c = ember.arange(4.0)

    def fn(x):
        return x + (c.exp() * 2).sin()
    g, g2 = _check_pass(fn, [ember.randn(4)], fold.run)
    assert _kinds(g) == ["exp", "mul", "sin", "add"]
    assert _kinds(g2) == ["add"]
    (const,) = [v for v in g2.nodes[0].inputs if v.kind == "const"]
    np.testing.assert_array_equal(g2.constants[const.id], np.sin(np.exp(np.arange(4.0,
                                  dtype=np.float32)) * 2))


def test_fold_keeps_random_and_written_constants():
    c = ember.ones(3)

    def fn(x):
        t = c * 2                           # written below: not folded into a constant
        t.add_(x)
        return t
    g, g2 = _check_pass(fn, [ember.randn(3)], fold.run)
    assert _kinds(g2) == _kinds(g)
    g = Graph()
    k = g.add_constant(np.ones(3, np.float32), shape=(3,), dtype=ember.float32)
    r = g.add_node(ew.Mul, [k, 2.0], {"generator": None}, 1,
                   [dict(shape=(3,), dtype=ember.float32)])
    g.outputs = [r.outputs[0]]
    fold.run(g)
    assert _kinds(g) == ["mul"]


def test_fold_respects_promotion():
    c = ember.arange(3)                     # int64 constant

    def fn(x):
        return x * (c * 0.5)                # int64 * float -> float32
    g, g2 = _check_pass(fn, [ember.randn(3)], fold.run)
    (const,) = [v for v in g2.nodes[0].inputs if getattr(v, "kind", "") == "const"]
    assert g2.constants[const.id].dtype == np.float32


# -- cse ----------------------------------------------------------------------------------------

def test_cse_merges_identical_nodes():
    def fn(x):
        return x.exp() * 2 + x.exp() * 2 + x.exp() * 3
    g, g2 = _check_pass(fn, [ember.randn(5)], lambda g: dce.run(cse.run(g)))
    assert _kinds(g).count("exp") == 3
    assert _kinds(g2).count("exp") == 1 and _kinds(g2).count("mul") == 2


def test_cse_distinguishes_attrs_and_signed_zero():
    def fn(x):
        return x.sum(0) + x.sum(1) + (x + 0.0) * (x + -0.0)
    g, g2 = _check_pass(fn, [ember.randn(3, 3)], cse.run)
    assert _kinds(g2) == _kinds(g)


def test_cse_not_across_inplace_or_written():
    def fn(x):
        a = x * 2
        b = x * 2
        b.add_(1.0)                          # b is written: not merged with a
        return a, b
    g, g2 = _check_pass(fn, [ember.randn(3)], cse.run)
    assert _kinds(g2).count("mul") == 2


# -- simplify -----------------------------------------------------------------------------------

def _simplify_dce(g):
    return dce.run(simplify.run(g))


def test_simplify_transpose_of_transpose():
    def fn(x):
        return x.transpose(0, 1).transpose(0, 1).exp()
    g, g2 = _check_pass(fn, [ember.randn(2, 3)], _simplify_dce)
    assert _kinds(g2) == ["exp"]


def test_simplify_permute_chain_composes():
    def fn(x):
        return x.permute(2, 0, 1).permute(0, 2, 1).exp()
    g, g2 = _check_pass(fn, [ember.randn(2, 3, 4)], _simplify_dce)
    assert _kinds(g2) == ["permute", "exp"]
    assert g2.nodes[0].attrs["dims"] == (2, 1, 0)


def test_simplify_view_chain():
    def fn(x):
        return x.view(6, 4).reshape(2, 12).view(4, 6).sin()
    g, g2 = _check_pass(fn, [ember.randn(2, 3, 4)], _simplify_dce)
    assert _kinds(g2) == ["view", "sin"]

    def fn2(x):                              # a view back to the input's shape: gone
        return x.view(6, 4).view(2, 3, 4).sin()
    g, g2 = _check_pass(fn2, [ember.randn(2, 3, 4)], _simplify_dce)
    assert _kinds(g2) == ["sin"]


def test_simplify_reshape_of_transposed_keeps_values():
    def fn(x):
        return x.t().reshape(6).view(3, 2).cos()
    _check_pass(fn, [ember.randn(2, 3)], _simplify_dce)


def test_simplify_arithmetic_identities():
    def fn(x):
        return ((-(-(x * 1) / 1 - 0)) ** 1).exp()
    g, g2 = _check_pass(fn, [ember.randn(4)], _simplify_dce)
    assert len(g.nodes) == 7 and _kinds(g2) == ["exp"]
    assert g2.nodes[0].inputs[0] is g2.inputs[0]


def test_simplify_never_returns_an_input_itself():
    def fn(x):
        return -(-(x * 1))
    g, g2 = _check_pass(fn, [ember.randn(4)], _simplify_dce)
    assert g2.outputs[0] is not g2.inputs[0] and len(g2.nodes) >= 1


def test_simplify_keeps_non_identities():
    def fn(x, i):
        # x + 0 flips -0.0; i * 1.0 promotes int64 to float; x * 1 with a broadcast shape
        return x + 0, i * 1.0, x.view(1, 3) * ember.ones(2, 1) * 1
    x = ember.tensor([-0.0, 1.0, 2.0])
    g, g2 = _check_pass(fn, [x, ember.arange(3)], _simplify_dce)
    assert _kinds(g2).count("add") == 1
    assert _kinds(g2).count("mul") >= 2
    out = run_graph(g2, [x, ember.arange(3)])
    assert np.signbit(out[0].numpy()[0]) == np.signbit(np.float32(-0.0) + 0)


def test_simplify_leaves_mutated_views():
    def fn(x):
        t = x * 1.5
        v = t.transpose(0, 1).transpose(0, 1)
        v.add_(1.0)                          # writes t through the view
        return t
    _check_pass(fn, [ember.randn(2, 3)], _simplify_dce)


# -- fusion -------------------------------------------------------------------------------------

def test_fusion_chain_becomes_one_node_bit_identical():
    def fn(x, y):
        return ((x * 0.5 + y).tanh() * y - x.sigmoid()).relu()
    g, g2 = _check_pass(fn, [ember.randn(4, 5), ember.randn(4, 5)], fusion.run)
    assert _kinds(g2) == ["fused_elementwise"]
    assert len(g2.nodes[0].inputs) == 2


def test_fusion_respects_other_users_and_outputs():
    def fn(x):
        a = x.exp()
        b = a * 2                            # b also returned: the root of its own group
        return b.sin() + 1, b, a.cos()       # a has two users outside one group
    g, g2 = _check_pass(fn, [ember.randn(6)], fusion.run)
    for node in g2.nodes:
        if node.kind == "fused_elementwise":
            assert node.outputs[0] in g2.outputs
    assert "exp" in _kinds(g2) or any(
        n.kind == "fused_elementwise" and n.attrs["program"][0][0] == "exp" for n in g2.nodes)


def test_fusion_broadcast_and_scalars():
    def fn(x, b):
        return ((x + b) * 3.0).exp().neg().abs().sqrt()
    g, g2 = _check_pass(fn, [ember.randn(4, 5), ember.randn(5)], fusion.run)
    assert _kinds(g2) == ["fused_elementwise"]


def test_fusion_skips_mixed_dtypes_and_non_float():
    def fn(x, y, i):
        return (x * y).exp(), (i + 1) * 2
    g, g2 = _check_pass(fn, [ember.randn(3), ember.randn(3, dtype=ember.float64),
                             ember.arange(3)], fusion.run)
    assert "fused_elementwise" not in _kinds(g2)


def test_fusion_activations_bit_identical():
    import ember.nn.functional as F

    def fn(x):
        a = F.gelu(x * 2, approximate="tanh") + F.silu(x)
        b = F.leaky_relu(a, 0.1) * F.gelu(x) - ember.maximum(x, a).rsqrt().log1p()
        return ember.minimum(b, x.abs().pow(2.0)).expm1()
    g, g2 = _check_pass(fn, [ember.randn(3, 7, dtype=ember.float64)], fusion.run)
    assert _kinds(g2) == ["fused_elementwise"]


def test_fusion_backward_matches_eager():
    def fn(x, y):
        return ((x * y).tanh() + y.sigmoid() * x).exp()
    x, y = ember.randn(3, 4, requires_grad=True), ember.randn(4, requires_grad=True)
    g = fusion.run(trace_graph(fn, (x, y)))
    assert _kinds(g) == ["fused_elementwise"]
    cot = ember.randn(3, 4)
    gx, gy = ember.autograd.grad(run_graph(g, [x, y]), [x, y], cot)
    ex, ey = ember.autograd.grad(fn(x, y), [x, y], cot)
    np.testing.assert_allclose(gx.numpy(), ex.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gy.numpy(), ey.numpy(), rtol=1e-6)


def test_fusion_gradcheck_and_gradgradcheck():
    def fn(x, y):
        return (x * y + 1.0).tanh() * x.sin()
    x = ember.randn(2, 3, dtype=ember.float64, requires_grad=True)
    y = ember.randn(3, dtype=ember.float64, requires_grad=True)
    g = fusion.run(trace_graph(fn, (x, y)))
    assert _kinds(g) == ["fused_elementwise"]

    def f(a, b):
        return run_graph(g, [a, b])
    assert ember.autograd.gradcheck(f, (x, y))
    assert ember.autograd.gradgradcheck(f, (x, y))


def test_fusion_numexpr_engine_matches_numpy():
    pytest.importorskip("numexpr")

    def fn(x, y):
        return ((x * 0.5 + y).tanh() * y - x.sigmoid()).relu() + ember.maximum(x, y)
    x, y = ember.randn(64, 33), ember.randn(33)
    g = fusion.run(trace_graph(fn, (x, y)))
    expect = fn(x, y)
    fusion.set_cpu_engine("numexpr")
    try:
        got = run_graph(g, [x, y])
    finally:
        fusion.set_cpu_engine("numpy")
    assert got.dtype == ember.float32
    np.testing.assert_allclose(got.numpy(), expect.numpy(), rtol=1e-5, atol=1e-6)


def test_fusion_engine_name_checked():
    with pytest.raises(ValueError, match="unknown cpu engine"):
        fusion.set_cpu_engine("fortran")


@pytest.mark.gpu
def test_fusion_cuda_kernel_matches_eager():
    import ember.nn.functional as F

    def fn(x, y):
        return (F.gelu(x * 0.5 + y) * y - x.sigmoid()).relu() + ember.maximum(x, y)
    x, y = ember.randn(64, 33, device="cuda"), ember.randn(33, device="cuda")
    g = fusion.run(trace_graph(fn, (x, y)))
    assert _kinds(g) == ["fused_elementwise"]
    np.testing.assert_allclose(run_graph(g, [x, y]).cpu().numpy(), fn(x, y).cpu().numpy(),
                               rtol=1e-5, atol=1e-6)


# -- the pipeline on traced models ----------------------------------------------------------

@pytest.mark.parametrize("model,shape", [(MLP, (4, 16)), (GPTBlock, (2, 8, 32))])
def test_optimize_models_same_outputs_fewer_nodes(model, shape):
    m = model().eval()
    x = ember.randn(*shape)
    params = dict(m.state_dict())
    g = trace_graph(m, (x,))
    g2 = passes.optimize(clone(g))
    assert len(g2.nodes) < len(g.nodes)
    with ember.no_grad():
        _same(run_graph(g2, [x], params), m(x))
    if model is MLP:
        assert "fused_elementwise" in _kinds(g2)
    else:
        assert "tril" not in _kinds(g2) and "eq" not in _kinds(g2)    # the mask folded


def test_optimize_without_fusion():
    g = passes.optimize(trace_graph(lambda x: (x * 1).exp() + 1, (ember.ones(2),)), fuse=False)
    assert _kinds(g) == ["exp", "add"]


def test_optimized_graph_trains_like_eager():
    m = MLP()
    x = ember.randn(4, 16)
    params = dict(m.named_parameters())
    g = passes.optimize(trace_graph(m, (x,)))
    loss = run_graph(g, [x], params).sum()
    grads = ember.autograd.grad(loss, list(params.values()))
    expect = ember.autograd.grad(m(x).sum(), list(params.values()))
    for a, b in zip(grads, expect):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_fusion_leaves_non_finite_numbers_and_describes_programs():
    def fn(x):
        return (x * float("inf")).exp(), ((x + 1.0).relu() * 2).sin()
    g, g2 = _check_pass(fn, [ember.randn(3)], fusion.run)
    fused = [n for n in g2.nodes if n.kind == "fused_elementwise"]
    assert len(fused) == 1 and "mul" in _kinds(g2)
    assert fusion.describe(fused[0].attrs["program"]) == "sin(mul(relu(add(in0, 1.0)), 2))"
