"""Activation modules and the parts of F.* activations the op table cannot cover: module
parity, repr, PReLU's parameter, RReLU's and gumbel_softmax's random draws, in-place
semantics, warnings, GPU."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, to_numpy, torch

MODULES = [
    ("ReLU", ()), ("ReLU6", ()), ("LeakyReLU", (0.2,)), ("PReLU", ()), ("RReLU", (0.1, 0.3)),
    ("ELU", (0.5,)), ("SELU", ()), ("CELU", (0.7,)), ("GELU", ()), ("GELU", ("tanh",)),
    ("SiLU", ()), ("Mish", ()), ("Softplus", (2.0, 3.0)), ("Softsign", ()),
    ("Softshrink", (0.3,)), ("Hardshrink", (0.3,)), ("Tanhshrink", ()),
    ("Hardtanh", (-0.5, 2.0)), ("Hardsigmoid", ()), ("Hardswish", ()), ("Sigmoid", ()),
    ("Tanh", ()), ("LogSigmoid", ()), ("Threshold", (0.1, 20.0)), ("GLU", ()),
    ("Softmax", (1,)), ("LogSoftmax", (1,)), ("Softmin", (1,)), ("Softmax2d", ()),
]


def _input(dtype="float32", shape=(2, 4, 3, 2)):
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, size=shape)
    x = np.where(np.abs(x) < 0.05, 0.3, x)      # away from the kink at 0
    return x.astype(dtype)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,args", MODULES, ids=[f"{n}{a}" for n, a in MODULES])
def test_activation_module_parity(name, args, dtype):
    e = getattr(enn, name)(*args)
    t = getattr(torch.nn, name)(*args)
    if dtype == "float64":
        e, t = e.double(), t.double()
    e.eval()
    t.eval()
    assert_module_parity(e, t, _input(dtype), dtype=dtype)


@needs_torch
@pytest.mark.parametrize("name,args", MODULES + [("ReLU", (True,)), ("ELU", (1.0, True)),
                                                 ("Hardtanh", (-2, 3, True)),
                                                 ("Threshold", (0.1, 20, True)),
                                                 ("RReLU", (0.1, 0.3, True)),
                                                 ("PReLU", (3, 0.1)), ("Softmax", ()),
                                                 ("Hardswish", (True,)), ("SiLU", (True,))])
def test_activation_module_repr(name, args):
    assert repr(getattr(enn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


@needs_torch
def test_prelu_parameter_matches_torch():
    e, t = enn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1)
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    np.testing.assert_array_equal(to_numpy(e.weight), to_numpy(t.weight))
    assert e.weight.requires_grad
    assert_module_parity(e, t, _input("float32", (2, 3, 4)))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rrelu_training_draws_like_torch(dtype):
    x = _input(dtype, (4, 5))
    ember.manual_seed(7)
    torch.manual_seed(7)
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    eo = EF.rrelu(e, 0.1, 0.4, training=True)
    to = torch.nn.functional.rrelu(t, 0.1, 0.4, training=True)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(to_numpy(eo), to_numpy(to), rtol=rtol)
    eo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(to_numpy(e.grad), to_numpy(t.grad), rtol=rtol)
    slopes = to_numpy(eo)[x < 0] / x[x < 0]
    assert np.all((slopes >= 0.1) & (slopes <= 0.4))
    assert np.unique(slopes).size > 1


def test_rrelu_module_train_vs_eval():
    m = enn.RReLU(0.1, 0.3)
    x = ember.tensor([-1.0, -2.0, 3.0])
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), [-0.2, -0.4, 3.0], rtol=1e-6)
    m.train()
    out = m(x).numpy()
    assert out[2] == 3.0 and -0.3 <= out[0] <= -0.1 and -0.6 <= out[1] <= -0.2


@needs_torch
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_same_draws_as_torch(hard):
    x = _input("float32", (3, 5))
    ember.manual_seed(3)
    torch.manual_seed(3)
    e = ember.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    eo = EF.gumbel_softmax(e, tau=0.5, hard=hard)
    to = torch.nn.functional.gumbel_softmax(t, tau=0.5, hard=hard)
    np.testing.assert_allclose(to_numpy(eo), to_numpy(to), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(to_numpy(e.grad), to_numpy(t.grad), rtol=1e-5, atol=1e-6)
    if hard:
        assert set(np.unique(to_numpy(eo))) <= {0.0, 1.0}


@pytest.mark.parametrize("name", ["relu", "elu", "selu", "celu", "leaky_relu", "hardtanh",
                                  "relu6", "silu", "mish", "hardsigmoid", "hardswish"])
def test_activation_inplace_writes_input(name):
    x = ember.tensor(_input("float32", (3, 4)))
    expected = getattr(EF, name)(x.clone()).numpy()
    out = getattr(EF, name)(x, inplace=True)
    assert out is x
    np.testing.assert_array_equal(x.numpy(), expected)


@pytest.mark.parametrize("name", ["relu_", "elu_", "selu_", "celu_", "leaky_relu_",
                                  "hardtanh_", "rrelu_"])
def test_activation_underscore_variants(name):
    x = ember.tensor(_input("float32", (3, 4)))
    expected = getattr(EF, name[:-1])(x.clone()).numpy()
    assert getattr(EF, name)(x) is x
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)


def test_threshold_inplace_variant():
    x = ember.tensor([-1.0, 0.5, 2.0])
    EF.threshold_(x, 1.0, 9.0)
    np.testing.assert_array_equal(x.numpy(), [9.0, 9.0, 2.0])


def test_inplace_activation_backward_through_clone():
    x = ember.tensor(_input("float64", (3, 4)), requires_grad=True)
    y = EF.elu(x * 1.0, inplace=True)
    y.sum().backward()
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.where(xv > 0, 1.0, np.exp(xv)), rtol=1e-12)


def test_inplace_on_leaf_requiring_grad_raises():
    x = ember.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        EF.relu(x, inplace=True)


def test_softmax_implicit_dim_warns_and_picks_torch_dim():
    x = ember.tensor(_input("float32", (2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = EF.softmax(x)
    np.testing.assert_allclose(out.sum(1).numpy(), [1.0, 1.0], rtol=1e-6)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        EF.softmin(x)
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        enn.LogSoftmax()(x)


def test_softmax_positional_stacklevel_and_dtype():
    x = ember.tensor([[1.0, 2.0]])
    assert EF.softmax(x, 1, 3, ember.float64).dtype is ember.float64
    assert ember.softmax(x, 1, ember.float64).dtype is ember.float64
    assert EF.log_softmax(x, 1, dtype=ember.float64).dtype is ember.float64


def test_softmax2d_rejects_2d_input():
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D"):
        enn.Softmax2d()(ember.ones(2, 3))


def test_softmax2d_normalises_channels():
    out = enn.Softmax2d()(ember.tensor(_input("float64", (2, 3, 4, 5))))
    np.testing.assert_allclose(out.sum(1).numpy(), np.ones((2, 4, 5)), rtol=1e-12)


def test_hardtanh_module_bounds_checked():
    with pytest.raises(AssertionError, match="must be greater than min_val"):
        enn.Hardtanh(2.0, 1.0)


def test_gelu_double_backward_matches_formula():
    x = ember.tensor([-1.5, -0.2, 0.4, 2.0], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(EF.gelu(x).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    xv = x.detach().numpy()
    pdf = np.exp(-xv * xv / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(h.numpy(), 2 * pdf - xv * xv * pdf, rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_activation_half_keeps_dtype(dtype):
    x = ember.tensor(_input("float32", (3, 4))).to(getattr(ember, dtype))
    for fn in (EF.gelu, EF.silu, EF.elu, EF.softplus, EF.hardswish, EF.mish):
        assert fn(x).dtype is getattr(ember, dtype)


def test_tensor_methods_exist():
    x = ember.tensor([-1.0, 0.2, 0.8])
    np.testing.assert_allclose(x.hardshrink(0.5).numpy(), [-1.0, 0.0, 0.8], rtol=1e-6)
    np.testing.assert_allclose(x.prelu(ember.tensor([0.5])).numpy(), [-0.5, 0.2, 0.8])


def test_multihead_attention_path():
    from ember.nn.modules import activation
    if hasattr(enn, "MultiheadAttention"):
        assert activation.MultiheadAttention is enn.MultiheadAttention
    else:
        pytest.skip("MultiheadAttention (attention.py) not written yet")


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["relu", "gelu", "silu", "elu", "softplus", "mish",
                                  "hardswish", "logsigmoid", "softshrink", "hardtanh"])
def test_activation_gpu_matches_cpu(name):
    x = ember.tensor(_input("float32", (3, 4)), requires_grad=True)
    xc = x.detach().cuda().requires_grad_(True)
    out, outc = getattr(EF, name)(x), getattr(EF, name)(xc)
    np.testing.assert_allclose(outc.cpu().detach().numpy(), out.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    out.sum().backward()
    outc.sum().backward()
    np.testing.assert_allclose(xc.grad.cpu().numpy(), x.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_no_warning_from_activation_kernels():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ember.tensor([-1000.0, 0.0, 1000.0])
        for fn in (EF.softplus, EF.logsigmoid, EF.mish, EF.silu, EF.elu, EF.selu, EF.gelu):
            assert np.all(np.isfinite(fn(x).numpy()))


@pytest.mark.parametrize("dtype,tol", [("float64", 5e-16), ("float32", 1e-6)])
def test_gelu_erf_kernel_accuracy(dtype, tol):
    import math

    from ember.ops.activation import _erf
    x = np.concatenate([np.linspace(-7, 7, 20001), [40.0, -40.0, 0.0]]).astype(dtype)
    want = np.array([math.erf(float(v)) for v in x])
    np.testing.assert_allclose(_erf(np, x), want, rtol=0, atol=tol)
    special = _erf(np, np.array([np.inf, -np.inf, np.nan], dtype=dtype))
    assert special[0] == 1 and special[1] == -1 and np.isnan(special[2])
    assert _erf(np, np.array(0.5, dtype=dtype)).shape == ()
