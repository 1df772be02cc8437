"""backward / autograd.grad, higher derivatives, leaves, hooks and graph structure, compared
with PyTorch where it runs."""

import numpy as np
import pytest

import ember
from tests.oracle import assert_close, needs_torch, torch

A = np.array([[0.5, -1.2, 2.0], [0.3, 0.9, -0.4]])
B = np.array([[1.5, 0.2, -0.7], [0.1, -2.0, 0.6]])


def _leaves(lib, *arrays, dtype="float64"):
    return [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]


# -- backward() arguments -------------------------------------------------------------------

@needs_torch
def test_backward_gradient_argument_matches_torch():
    cot = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    grads = []
    for lib in (ember, torch):
        a, b = _leaves(lib, A, B)
        y = (a * b).tanh() + a.exp()
        y.backward(gradient=lib.tensor(cot, dtype=lib.float64))
        grads.append((a.grad, b.grad))
    assert_close(grads[0][0], grads[1][0])
    assert_close(grads[0][1], grads[1][1])


def test_backward_non_scalar_without_gradient_raises():
    a, = _leaves(ember, A)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar "
                                           "outputs"):
        (a * 2).backward()


def test_backward_accumulates_across_calls_and_retain_graph():
    a, = _leaves(ember, A)
    y = (a * a).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), 4 * A)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_backward_twice_through_freed_graph_names_phrase_and_fix():
    a, = _leaves(ember, A)
    y = a.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Specify retain_graph=True"):
        y.backward()


def test_backward_inputs_accumulates_only_listed_leaves():
    a, b = _leaves(ember, A, B)
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_allclose(a.grad.numpy(), B)
    assert b.grad is None
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (a * b).sum().backward(inputs=[])


@needs_torch
def test_backward_create_graph_then_grad_of_grad_matches_torch():
    results = []
    for lib in (ember, torch):
        a, = _leaves(lib, A)
        (a ** 3).sum().backward(create_graph=True)
        g = a.grad
        assert g.requires_grad
        g2, = lib.autograd.grad(g.sum(), a)
        results.append(g2)
    assert_close(results[0], results[1])


# -- autograd.grad ----------------------------------------------------------------------------

@needs_torch
def test_grad_grad_outputs_and_tuple_results_match_torch():
    cot = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    res = []
    for lib in (ember, torch):
        a, b = _leaves(lib, A, B)
        y = (a / (b * b + 1)).sin()
        res.append(lib.autograd.grad(y, (a, b), grad_outputs=lib.tensor(cot, dtype=lib.float64)))
        assert a.grad is None and b.grad is None          # grad() never accumulates
    assert isinstance(res[0], tuple) and len(res[0]) == 2
    assert_close(res[0][0], res[1][0])
    assert_close(res[0][1], res[1][1])


def test_grad_wrt_non_leaf_does_not_run_its_node():
    # Only nodes between the outputs and the inputs run: h's own node keeps what it saved,
    # so a later backward through h works (as in PyTorch).
    x = ember.randn(3, requires_grad=True)
    h = x.exp()
    g = h * 2
    gg, gh = ember.autograd.grad((g * g).sum(), (g, h))
    np.testing.assert_allclose(gg.numpy(), 2 * g.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gh.numpy(), 4 * g.detach().numpy(), rtol=1e-6)
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.detach().numpy()), rtol=1e-6)


def test_grad_allow_unused():
    a, b = _leaves(ember, A, B)
    y = (a * 2).sum()
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph. Set "
                                           "allow_unused=True"):
        ember.autograd.grad(y, (a, b), retain_graph=True)
    ga, gb = ember.autograd.grad(y, (a, b), allow_unused=True, retain_graph=True)
    assert gb is None
    np.testing.assert_allclose(ga.numpy(), np.full(A.shape, 2.0))
    ga, gb = ember.autograd.grad(y, (a, b), materialize_grads=True)
    np.testing.assert_array_equal(gb.numpy(), np.zeros(B.shape))


def test_grad_results_detached_unless_create_graph():
    a, = _leaves(ember, A)
    g, = ember.autograd.grad((a ** 2).sum(), a)
    assert not g.requires_grad
    g, = ember.autograd.grad((a ** 2).sum(), a, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None


def test_grad_of_input_not_requiring_grad_raises():
    a, = _leaves(ember, A)
    c = ember.tensor(B)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.autograd.grad((a * c).sum(), c)


def test_grad_output_not_requiring_grad_raises():
    c = ember.tensor(B)
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does "
                                           "not have a grad_fn"):
        (c * 2).sum().backward()


# -- higher derivatives -----------------------------------------------------------------------

def _nth_derivatives(lib, fn, x, n):
    out = []
    y = fn(x).sum()
    for _ in range(n):
        g, = lib.autograd.grad(y, x, create_graph=True)
        out.append(g)
        y = g.sum()
    return out


@needs_torch
@pytest.mark.parametrize("name", ["tanh", "cube", "sin", "sigmoid", "exp_log", "div"])
def test_second_and_third_derivatives_match_torch(name):
    fns = {
        "tanh": lambda t: t.tanh(),
        "cube": lambda t: t ** 3,
        "sin": lambda t: t.sin() * t.cos(),
        "sigmoid": lambda t: t.sigmoid(),
        "exp_log": lambda t: (t * t + 1).log() * t.exp(),
        "div": lambda t: 1 / (t * t + 2),
    }
    x = np.array([0.3, -1.1, 0.8, 2.0])
    res = [_nth_derivatives(lib, fns[name], lib.tensor(x, dtype=lib.float64,
                                                       requires_grad=True), 3)
           for lib in (ember, torch)]
    for e, t in zip(*res):
        assert_close(e, t, msg=name)


def test_third_derivative_of_cube_is_six():
    x = ember.tensor([0.5, -2.0, 3.0], dtype=ember.float64, requires_grad=True)
    d1, d2, d3 = _nth_derivatives(ember, lambda t: t ** 3, x, 3)
    np.testing.assert_allclose(d1.detach().numpy(), 3 * np.array([0.25, 4.0, 9.0]))
    np.testing.assert_allclose(d2.detach().numpy(), 6 * np.array([0.5, -2.0, 3.0]))
    np.testing.assert_allclose(d3.detach().numpy(), [6.0, 6.0, 6.0])


@needs_torch
def test_double_backward_through_matmul_reshape_permute_index_where_clamp():
    w = np.array([[0.2, -0.5], [1.0, 0.3], [-0.7, 0.8]])

    def fn(lib, a, m):
        h = (a @ m).tanh()                              # (2, 2)
        h = h.reshape(4, 1).permute(1, 0)               # (1, 4)
        h = lib.where(h > 0, h * h, h.clamp(min=-0.5))
        return (h[0, 1:] * h[:, :3].sum()).mean() + a[1].exp().sum()

    res = []
    for lib in (ember, torch):
        a, m = _leaves(lib, A, w)
        ga, gm = lib.autograd.grad(fn(lib, a, m), (a, m), create_graph=True)
        gga, = lib.autograd.grad((ga * ga).sum() + gm.sum(), a)
        res.append((ga, gm, gga))
    for e, t in zip(*res):
        assert_close(e, t)


# -- leaves, requires_grad, detach ------------------------------------------------------------

def test_requires_grad_detach_and_is_leaf():
    x = ember.tensor(A)
    assert not x.requires_grad and x.is_leaf
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.data_ptr() == y.data_ptr()
    d.add_(1)                                   # shares memory and version counter with y
    assert y._version == d._version == 1
    np.testing.assert_allclose(y.detach().numpy(), 2 * A + 1)
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    z = x * 3
    assert z.detach_() is z and z.is_leaf and not z.requires_grad and z.grad_fn is None
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype "
                                           "can require gradients"):
        ember.tensor([1, 2]).requires_grad_()


def test_retain_grad_on_non_leaf():
    x, = _leaves(ember, A)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    z = (y * y).sum()
    z.backward()
    np.testing.assert_allclose(y.grad.numpy(), 4 * A)
    w = x * 3
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert w.grad is None


# -- hooks ------------------------------------------------------------------------------------

def test_tensor_register_hook_modifies_grad_and_handle_removes():
    x, = _leaves(ember, A)
    y = x * 2
    handle = y.register_hook(lambda g: g * 10)
    leaf_seen = []
    h2 = x.register_hook(lambda g: leaf_seen.append(g.detach().numpy().copy()))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(A.shape, 20.0))
    np.testing.assert_allclose(leaf_seen[0], np.full(A.shape, 20.0))
    handle.remove()
    h2.remove()
    x.grad = None
    (x * 2).sum().backward()
    y2 = x * 2
    x.grad = None
    y2.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(A.shape, 2.0))
    assert len(leaf_seen) == 1
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.tensor(A).register_hook(lambda g: g)


def test_hook_on_leaf_changes_accumulated_grad():
    x, = _leaves(ember, A)
    x.register_hook(lambda g: g * 0 + 1)
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones(A.shape))


@needs_torch
def test_node_hooks_prehook_and_order_match_torch():
    logs = []
    for lib in (ember, torch):
        calls = []
        x, = _leaves(lib, A)
        y = x * x
        node = y.grad_fn
        node.register_prehook(lambda gout: calls.append("pre") or (gout[0] * 3,))
        h = node.register_hook(lambda gin, gout: calls.append("post") or (gin[0] + 1, gin[1]))
        y.register_hook(lambda g: calls.append("tensor"))
        y.sum().backward()
        logs.append((calls, x.grad.clone()))
        h.remove()
    assert logs[0][0] == logs[1][0]
    assert_close(logs[0][1], logs[1][1])


@needs_torch
def test_retain_grad_sees_tensor_hooks_but_not_node_prehooks_like_torch():
    res = []
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.grad_fn.register_prehook(lambda gout: (gout[0] * 10,))
        y.register_hook(lambda g: g * 3)
        y.sum().backward()
        res.append((y.grad.tolist(), x.grad.tolist()))
    assert res[0] == res[1] == ([3.0, 3.0], [60.0, 60.0])


def test_post_accumulate_grad_hook():
    x, = _leaves(ember, A)
    seen = []
    h = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert len(seen) == 2
    np.testing.assert_allclose(seen[1], np.full(A.shape, 6.0))   # after accumulation
    h.remove()
    (x * 3).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on "
                                           "non-leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_removable_handle_as_context_manager():
    x, = _leaves(ember, A)
    y = x * 2
    with y.register_hook(lambda g: g * 0):
        pass
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(A.shape, 2.0))


# -- graph structure --------------------------------------------------------------------------

@needs_torch
def test_next_functions_structure_matches_torch():
    def shape_of(fn, depth=0):
        if fn is None or depth > 4:
            return None
        name = fn.name().split("::")[-1]
        return (name, tuple((shape_of(n, depth + 1), nr) for n, nr in fn.next_functions))

    shapes = []
    for lib in (ember, torch):
        a, b = _leaves(lib, A, B)
        c = lib.tensor(B, dtype=lib.float64)
        y = (a * b + c).exp() - a
        shapes.append(shape_of(y.grad_fn))
    assert shapes[0] == shapes[1]


def test_accumulate_grad_node_is_shared_per_leaf():
    a, = _leaves(ember, A)
    n1 = (a * 2).grad_fn.next_functions[0][0]
    n2 = (a + 1).grad_fn.next_functions[0][0]
    assert n1 is n2 and n1.variable is a and n1.name() == "torch::autograd::AccumulateGrad"


def test_multi_output_op_output_nr():
    x = ember.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    parts = x.unbind(0) if hasattr(x, "unbind") else None
    if parts is None:
        pytest.skip("unbind not available yet")
    assert [p.output_nr for p in parts] == [0, 1]
    (parts[1] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [2, 2, 2]])


# -- dtypes -----------------------------------------------------------------------------------

@needs_torch
def test_grad_dtype_per_input_in_mixed_dtype_ops():
    res = []
    for lib in (ember, torch):
        a = lib.tensor(A, dtype=lib.float32, requires_grad=True)
        b = lib.tensor(B, dtype=lib.float64, requires_grad=True)
        y = a * b + a.to(lib.float64).exp()
        assert y.dtype == lib.float64
        y.sum().backward()
        res.append((a.grad, b.grad))
    assert res[0][0].dtype is ember.float32 and res[0][1].dtype is ember.float64
    assert_close(res[0][0], res[1][0])
    assert_close(res[0][1], res[1][1])


def test_to_dtype_grad_comes_back_in_source_dtype():
    a = ember.tensor(A, dtype=ember.float32, requires_grad=True)
    y = a.to(ember.float64)
    assert y.grad_fn is not None and y.dtype is ember.float64
    (y * y).sum().backward()
    assert a.grad.dtype is ember.float32
    np.testing.assert_allclose(a.grad.numpy(), 2 * A.astype(np.float32), rtol=1e-6)
    assert a.to(ember.float32) is a                       # no-op .to returns self
    h = a.to(ember.float16)
    h.float().sum().backward()
    assert a.grad.dtype is ember.float32


# -- the engine on a long chain ---------------------------------------------------------------

def test_engine_chain_of_100k_ops_has_no_recursion_error():
    x = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0.5                 # the cheapest op: the test is about depth, not arithmetic
    y = y * 2.0
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])
    np.testing.assert_array_equal(y.detach().numpy(), [100_002.0])
