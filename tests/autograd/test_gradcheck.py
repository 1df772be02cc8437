"""gradcheck / gradgradcheck themselves: they pass on right gradients and fail on wrong ones."""

import pytest

import ember
from ember.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def _x(*values):
    return ember.tensor(list(values), dtype=ember.float64, requires_grad=True)


def _make_mul(scale_a=1.0, scale_b=1.0):
    """a * b with a backward whose input grads are scaled (1.0: correct)."""

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b, a + b

        @staticmethod
        def backward(ctx, g_prod, g_sum):
            a, b = ctx.saved_tensors
            return (g_prod * b * scale_a + g_sum), (g_prod * a * scale_b + g_sum)

    return Mul


def test_gradcheck_passes_on_builtin_composites():
    a, b = _x(0.3, -0.8, 1.5), _x(1.1, 0.4, -0.6)
    assert gradcheck(lambda p, q: (p.sin() * q.exp() / (q * q + 1)).tanh(), (a, b))
    assert gradgradcheck(lambda p, q: (p.sin() * q.exp() / (q * q + 1)).tanh(), (a, b))


def test_gradcheck_multiple_outputs_and_a_non_tensor_input():
    Mul = _make_mul()
    a, b = _x(0.3, -0.8), _x(1.1, 0.4)
    assert gradcheck(lambda p, k, q: Mul.apply(p * k, q), (a, 2.0, b))


@pytest.mark.parametrize("scale_a, scale_b", [(1.5, 1.0), (1.0, -1.0)])
def test_gradcheck_fails_when_one_input_grad_is_wrong(scale_a, scale_b):
    Mul = _make_mul(scale_a, scale_b)
    a, b = _x(0.3, -0.8), _x(1.1, 0.4)
    which = 0 if scale_a != 1.0 else 1
    with pytest.raises(GradcheckError, match=f"with respect to input {which}"):
        gradcheck(Mul.apply, (a, b))
    assert gradcheck(Mul.apply, (a, b), raise_exception=False) is False


def test_gradcheck_fails_when_grad_ignores_an_output():
    class DropSecond(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2                       # forgets g2 * 3

    with pytest.raises(GradcheckError):
        gradcheck(DropSecond.apply, (_x(0.5, 1.0),))


def test_gradgradcheck_fails_on_wrong_second_derivative():
    class Square(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * a * 2 + (a * a - a.detach() * a.detach())   # right value, wrong slope

    x = _x(0.5, -1.5)
    assert gradcheck(Square.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(Square.apply, (x,))
    assert gradgradcheck(Square.apply, (x,), raise_exception=False) is False


def test_gradcheck_warns_for_single_precision_inputs():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision floating point"):
        gradcheck(lambda t: t * 2, (x,), eps=1e-3, atol=1e-2, rtol=1e-2)


def test_gradcheck_tolerances_decide():
    class SlightlyOff(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2.01

    x = _x(0.5, 1.0)
    assert not gradcheck(SlightlyOff.apply, (x,), raise_exception=False)
    assert gradcheck(SlightlyOff.apply, (x,), atol=1e-2, rtol=1e-2)


def test_gradcheck_fails_when_a_varying_output_does_not_require_grad():
    class Hidden(Function):
        @staticmethod
        def forward(ctx, a):
            out = a * 2
            ctx.mark_non_differentiable(out)    # wrong: out depends on a
            return out

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be "
                                             "zero"):
        gradcheck(Hidden.apply, (_x(0.5, 1.0),))


def test_gradcheck_non_contiguous_input_and_view_outputs():
    base = ember.tensor([[0.3, -0.8, 1.5], [1.1, 0.4, -0.6]], dtype=ember.float64)
    x = base.permute(1, 0).detach().requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda t: t.sin() * t[:, :1], (x,))
    assert gradcheck(lambda t: t.permute(1, 0), (x,))      # output is a view of the input
