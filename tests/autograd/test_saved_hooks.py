"""autograd.graph: saved_tensors_hooks (pack/unpack of what backward saves), save_on_cpu,
disable_saved_tensors_hooks, Node and get_gradient_edge — compared with PyTorch."""

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch


def _graph(lib, x):
    return ((x * x).exp() * lib.tensor([1.0, 2.0, 3.0])).sin().sum()


@needs_torch
def test_pack_sees_what_torch_saves_and_unpack_feeds_backward():
    seen = {}
    for lib in (ember, torch):
        x = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        packed = []

        def pack(t, packed=packed):
            packed.append(tuple(t.shape))
            return t.detach().numpy().copy() * 2      # any object: here a scaled copy

        def unpack(a, lib=lib):
            return lib.tensor(a / 2)

        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = _graph(lib, x)
        y.backward()
        seen[lib.__name__] = (len(packed), x.grad.numpy())
    assert seen["ember"][0] > 0
    np.testing.assert_allclose(seen["ember"][1], seen["torch"][1], rtol=1e-6)


def test_hooks_apply_to_custom_functions_and_nest():
    calls = []

    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return 2 * a * g

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    outer = ember.autograd.graph.saved_tensors_hooks(lambda t: calls.append("outer") or t,
                                                     lambda t: t)
    inner = ember.autograd.graph.saved_tensors_hooks(lambda t: calls.append("inner") or t,
                                                     lambda t: t * 0 + 10)
    with outer, inner:
        y = Square.apply(x)
    y.sum().backward()
    assert calls == ["inner"] and x.grad.tolist() == [20.0, 20.0]   # innermost wins
    z = Square.apply(x)                       # outside: no hook
    z.sum().backward()
    assert calls == ["inner"]


def test_unpack_must_return_a_tensor_and_disable():
    x = ember.ones(2, requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = (x * x).exp()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.sum().backward()
    with ember.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        pass                                  # allowed again after the block


def test_save_on_cpu_and_upcast_inputs():
    x = ember.tensor([0.5, 1.5], dtype=ember.float16, requires_grad=True)
    with ember.autograd.graph.save_on_cpu():
        y = x.exp()                  # float16 exp runs on a float32 copy (upcast)
    y.float().sum().backward()
    assert x.grad.dtype is ember.float16
    np.testing.assert_allclose(x.grad.float().numpy(), np.exp([0.5, 1.5]), rtol=1e-3)


def test_node_type_and_gradient_edge():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    Node = ember.autograd.graph.Node
    assert isinstance(y.grad_fn, Node)
    edge = ember.autograd.graph.get_gradient_edge(x)
    assert isinstance(edge.node, Node) and edge.output_nr == 0
    assert ember.autograd.graph.get_gradient_edge(y).node is y.grad_fn
    with pytest.raises(RuntimeError, match="does not require gradients"):
        ember.autograd.graph.get_gradient_edge(ember.ones(1))


@needs_torch
def test_double_backward_through_packed_values_matches_torch():
    res = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
            y = (x.exp() * x).sum()
        g, = lib.autograd.grad(y, x, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), x)
        res.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)
