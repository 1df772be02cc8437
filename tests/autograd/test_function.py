"""Custom autograd functions (ember.autograd.Function) against PyTorch's behaviour."""

import numpy as np
import pytest

import ember
from ember.autograd import Function
from ember.autograd.function import FunctionCtx, once_differentiable
from tests.oracle import assert_close, needs_torch, to_torch, torch


def _pair(fn_ember, fn_torch, *arrays):
    """Run the same computation on ember and torch leaves made from arrays."""
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    return fn_ember(*e), fn_torch(*t), e, t


# -- Functions used by several tests (ember and torch versions share one body) --------------

def _make_cube(F):
    class Cube(F):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return 3 * x * x * grad
    return Cube


def _make_scale(F):
    class Scale(F):
        """Non-tensor argument, two tensor inputs, two outputs."""

        @staticmethod
        def forward(ctx, x, k, y):
            ctx.save_for_backward(x, y)
            ctx.k = k
            return x * y * k, x + k

        @staticmethod
        def backward(ctx, g1, g2):
            x, y = ctx.saved_tensors
            return g1 * y * ctx.k + g2, None, g1 * x * ctx.k
    return Scale


Cube = _make_cube(Function)
Scale = _make_scale(Function)


@needs_torch
def test_function_values_and_grads_match_torch(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    TScale = _make_scale(torch.autograd.Function)
    e_out, t_out, e, t = _pair(lambda x, y: Scale.apply(x, 2.5, y),
                               lambda x, y: TScale.apply(x, 2.5, y), a, b)
    for eo, to in zip(e_out, t_out):
        assert_close(eo, to)
    cot = [rng.standard_normal((2, 3)) for _ in range(2)]
    ember.autograd.backward(e_out, [ember.tensor(c) for c in cot])
    torch.autograd.backward(t_out, [torch.tensor(c) for c in cot])
    assert_close(e[0].grad, t[0].grad)
    assert_close(e[1].grad, t[1].grad)


def test_function_grad_fn_name_and_next_functions():
    x = ember.ones(3, requires_grad=True)
    y = ember.ones(3)
    out, plus = Scale.apply(x, 2.0, y)
    assert out.grad_fn.name() == "ScaleBackward"
    assert type(out.grad_fn).__name__ == "ScaleBackward"
    assert "ScaleBackward" in repr(out.grad_fn)
    assert plus.grad_fn is out.grad_fn
    assert (out.output_nr, plus.output_nr) == (0, 1)
    # One entry per tensor input: the number k has no edge; y does not require grad.
    nf = out.grad_fn.next_functions
    assert len(nf) == 2
    assert nf[0][0].name() == "torch::autograd::AccumulateGrad" and nf[0][0].variable is x
    assert nf[1] == (None, 0)
    assert isinstance(out.grad_fn, FunctionCtx)


def test_function_needs_input_grad_and_grad_mode_in_forward():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x, k, y):
            seen["needs"] = ctx.needs_input_grad
            seen["grad_enabled"] = ember.is_grad_enabled()
            return x * y

        @staticmethod
        def backward(ctx, g):
            seen["needs_bw"] = ctx.needs_input_grad
            return g, None, None

    x = ember.ones(2, requires_grad=True)
    Probe.apply(x, 3, ember.ones(2)).sum().backward()
    assert seen == {"needs": (True, False, False), "grad_enabled": False,
                    "needs_bw": (True, False, False)}
    with ember.no_grad():
        out = Probe.apply(x, 3, ember.ones(2))
    assert seen["needs"] == (False, False, False)
    assert not out.requires_grad and out.grad_fn is None


def test_function_no_input_requires_grad_records_nothing():
    out = Cube.apply(ember.ones(2))
    assert not out.requires_grad and out.grad_fn is None


def test_function_wrong_number_of_grads_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadBackward returned an incorrect number of "
                                           r"gradients \(expected 2, got 1\)"):
        Bad.apply(x, x).sum().backward()


def test_function_extra_trailing_none_grads_are_allowed():
    class Extra(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None

    x = ember.ones(3, requires_grad=True)
    Extra.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


def test_function_grad_for_non_tensor_input_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="different than None at position 2, but the "
                                           "corresponding forward input was not a Variable"):
        Bad.apply(x, 3).sum().backward()


def test_function_grad_of_wrong_shape_raises_and_broadcast_grad_is_reduced():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:2]

    class Wide(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.reshape(1, 3).expand(4, 3) * 2   # broadcastable: summed back to (3,)

    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"invalid gradient at index 0 - got \[2\] but "
                                           r"expected shape compatible with \[3\]"):
        Bad.apply(x).sum().backward()
    Wide.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8, 8, 8])


def test_function_grad_dtype_cast_to_input_dtype():
    class ToDouble(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.double()

    x = ember.ones(3, requires_grad=True)
    ToDouble.apply(x).sum().backward()
    assert x.grad.dtype is ember.float32


def test_function_saved_tensors_version_checked():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(x, y, None)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y, none = ctx.saved_tensors
            assert none is None
            return g * y

    x = ember.ones(3, requires_grad=True)
    y = Exp.apply(x)
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, np.e), rtol=1e-6)
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version 1; "
                                           "expected version 0"):
        y.sum().backward()


def test_function_backward_twice_through_freed_graph_raises():
    x = ember.ones(3, requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_function_retain_graph_allows_second_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])


@needs_torch
def test_function_double_and_triple_backward_match_torch():
    TCube = _make_cube(torch.autograd.Function)
    x = ember.tensor([1.0, -2.0, 0.5], dtype=ember.float64, requires_grad=True)
    tx = to_torch(x, requires_grad=True)
    g1, = ember.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    g2, = ember.autograd.grad(g1.sum(), x, create_graph=True)
    g3, = ember.autograd.grad(g2.sum(), x)
    t1, = torch.autograd.grad(TCube.apply(tx).sum(), tx, create_graph=True)
    t2, = torch.autograd.grad(t1.sum(), tx, create_graph=True)
    t3, = torch.autograd.grad(t2.sum(), tx)
    for e, t in ((g1, t1), (g2, t2), (g3, t3)):
        assert_close(e, t)


def test_function_saved_output_supports_double_backward():
    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    x = ember.tensor([0.0, 1.0], dtype=ember.float64, requires_grad=True)
    g1, = ember.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    g2, = ember.autograd.grad(g1.sum(), x)
    np.testing.assert_allclose(g2.numpy(), np.exp([0.0, 1.0]))


def test_function_gradcheck_and_gradgradcheck_pass_on_correct_backward():
    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(Cube.apply, (x,))
    assert ember.autograd.gradgradcheck(Cube.apply, (x,))


def test_gradcheck_fails_on_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * x * g        # should be 3 x^2

    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, requires_grad=True)
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Wrong.apply, (x,))
    assert ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_fails_on_wrong_second_derivative():
    class WrongSecond(Function):
        """Correct first derivative 3x^2, but computed from a constant so that its own
        derivative (6x) is lost: gradgradcheck must notice."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x.detach() * x.detach() * g

    x = ember.tensor([0.3, -1.2, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(WrongSecond.apply, (x,))
    with pytest.raises(ember.autograd.GradcheckError):
        ember.autograd.gradgradcheck(WrongSecond.apply, (x,))


@needs_torch
def test_function_mark_dirty_matches_torch():
    def make(F):
        class MulTwo_(F):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2
        return MulTwo_

    E, T = make(Function), make(torch.autograd.Function)
    for F, lib in ((E, ember), (T, torch)):
        leaf = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been "
                                               "used in an in-place operation"):
            F.apply(leaf)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            F.apply(lib.tensor([1.0, 2.0, 3.0], requires_grad=True)[:2])
    e_leaf = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    t_leaf = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    outs = []
    for F, leaf in ((E, e_leaf), (T, t_leaf)):
        z = leaf * 1
        r = F.apply(z)
        assert r is z and z.grad_fn.name() == "MulTwo_Backward"
        outs.append(z._version)
        (r * r).sum().backward()
    assert outs[0] == outs[1]
    assert_close(e_leaf.grad, t_leaf.grad)
    # On a view: the base's gradient flows through the function for the view's region.
    for F, leaf in ((E, e_leaf), (T, t_leaf)):
        leaf.grad = None
        base = leaf * 1
        F.apply(base[:2])
        (base * base).sum().backward()
    assert_close(e_leaf.grad, t_leaf.grad)


def test_function_dirty_input_not_returned_raises():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="marked as dirty during the forward method were not "
                                           "returned"):
        Bad.apply(ember.ones(2, requires_grad=True) * 1)


def test_function_non_differentiable_outputs_and_materialized_grads():
    got = {}

    class Split(Function):
        @staticmethod
        def forward(ctx, x):
            mask = x > 0
            doubled = x * 2
            ctx.mark_non_differentiable(doubled)
            return mask, doubled, x * 3

        @staticmethod
        def backward(ctx, g_mask, g_doubled, g3):
            got["grads"] = (g_mask, g_doubled, g3)
            return g3 * 3

    x = ember.tensor([1.0, -1.0], requires_grad=True)
    mask, doubled, tripled = Split.apply(x)
    assert not mask.requires_grad and not doubled.requires_grad and doubled.grad_fn is None
    assert tripled.output_nr == 2
    tripled.sum().backward()
    g_mask, g_doubled, g3 = got["grads"]
    assert g_mask.dtype is ember.bool and not g_mask.numpy().any()
    np.testing.assert_array_equal(g_doubled.numpy(), [0, 0])
    np.testing.assert_array_equal(g3.numpy(), [1, 1])
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_function_set_materialize_grads_false_passes_none():
    got = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got["g1"] = g1
            return g2 * 3

    x = ember.ones(2, requires_grad=True)
    _, b = Two.apply(x)
    b.sum().backward()
    assert got["g1"] is None
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_function_returning_input_unchanged_gives_new_tensor():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = ember.ones(2, requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and not y.is_leaf and x.is_leaf and x.grad_fn is None
    assert y.data_ptr() == x.data_ptr()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5, 5])
    with ember.no_grad():
        z = Identity.apply(x)
    assert z is not x and not z.requires_grad


def test_function_non_tensor_outputs_pass_through():
    class WithInfo(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, "info", 7

        @staticmethod
        def backward(ctx, g, g_info, g_num):
            assert g_info is None and g_num is None
            return g * 2

    x = ember.ones(2, requires_grad=True)
    y, info, num = WithInfo.apply(x)
    assert (info, num) == ("info", 7)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])


def test_function_setup_context_style_binds_defaults():
    seen = {}

    class Mul(Function):
        @staticmethod
        def forward(x, k=3.0):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            seen["inputs"] = inputs
            x, k = inputs
            ctx.k = k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = ember.ones(2, requires_grad=True)
    Mul.apply(x).sum().backward()
    assert seen["inputs"][1] == 3.0 and seen["inputs"][0] is x
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])
    x.grad = None
    y = Mul.apply(x, k=4.0)
    assert y.grad_fn.name() == "MulBackward"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 4])


def test_function_vjp_alias_and_missing_backward():
    class ViaVjp(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 2

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = ember.ones(2, requires_grad=True)
    ViaVjp.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])
    with pytest.raises(NotImplementedError, match="must implement either the backward or vjp"):
        NoBackward.apply(x).sum().backward()


def test_function_legacy_call_raises():
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        fn = Cube()
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward"):
        fn(ember.ones(2))


def test_once_differentiable_blocks_double_backward():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            assert not ember.is_grad_enabled()
            return 2 * x * g

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    v = ember.ones(2, requires_grad=True)
    g, = ember.autograd.grad(Square.apply(x), x, v, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [2, 4])
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was "
                                           "marked with @once_differentiable"):
        g.sum().backward()
    # First-order use is unaffected.
    Square.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4])


def test_function_hooks_on_custom_node():
    calls = []
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x)
    node = y.grad_fn
    node.register_prehook(lambda grad_outputs: calls.append("pre") or (grad_outputs[0] * 2,))
    node.register_hook(lambda grad_inputs, grad_outputs: calls.append("post"))
    y.register_hook(lambda g: calls.append("tensor"))
    y.sum().backward()
    assert calls == ["tensor", "pre", "post"]          # PyTorch: tensor hooks first
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])


def test_function_anomaly_mode_names_custom_forward():
    class NanGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        guard = ember.autograd.detect_anomaly()
    with guard:
        y = NanGrad.apply(x).sum()
        with pytest.warns(UserWarning, match="Error detected in NanGradBackward"), \
                pytest.raises(RuntimeError, match="Function 'NanGradBackward' returned nan"):
            y.backward()


def test_function_on_float64_mixed_with_builtin_ops_gradcheck():
    def fn(a, b):
        out, plus = Scale.apply(a.sin(), 1.5, b)
        return (out * plus).tanh()

    a = ember.tensor([[0.3, -0.4], [1.1, 0.2]], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([[0.5, 0.6], [-0.7, 0.9]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(fn, (a, b))
    assert ember.autograd.gradgradcheck(fn, (a, b))


@pytest.mark.gpu
def test_function_on_cuda_keeps_grads_on_device_and_checks_device():
    got = {}

    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            got["device"] = g1.device.type          # materialized zeros on the input's device
            return g2 * 3

    class ToCpu(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.cpu()

    x = ember.ones(3, device="cuda", requires_grad=True)
    _, b = Two.apply(x)
    b.sum().backward()
    assert got["device"] == "cuda" and x.grad.device.type == "cuda"
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [3, 3, 3])
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0 - expected "
                                           "device cuda"):
        ToCpu.apply(x).sum().backward()
