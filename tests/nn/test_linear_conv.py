"""Linear, Bilinear, LazyLinear, Conv*/ConvTranspose*, Fold/Unfold modules against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, to_numpy, torch

nn = ember.nn

INIT_CASES = [
    "Linear(5, 3)", "Linear(4, 2, bias=False)", "Bilinear(3, 2, 4)",
    "Conv1d(4, 6, 3, groups=2)", "Conv2d(3, 8, (3, 2), stride=2, padding=1)",
    "Conv2d(4, 4, 3, groups=4, bias=False)", "Conv3d(2, 3, 2)",
    "ConvTranspose1d(4, 2, 3)", "ConvTranspose2d(6, 4, 3, stride=2, groups=2)",
    "ConvTranspose3d(2, 2, (1, 2, 2))",
]


@needs_torch
@pytest.mark.parametrize("expr", INIT_CASES)
def test_default_init_matches_torch_under_seed(expr):
    ember.manual_seed(0)
    torch.manual_seed(0)
    em, tm = eval("nn." + expr), eval("torch.nn." + expr)
    es, ts = em.state_dict(), tm.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        assert tuple(es[k].shape) == tuple(ts[k].shape), k
        np.testing.assert_array_equal(to_numpy(es[k]), to_numpy(ts[k]), err_msg=k)


REPR_CASES = INIT_CASES + [
    "Conv2d(3, 4, 3, stride=2, padding=1, bias=False, padding_mode='reflect')",
    "Conv1d(2, 4, 3, padding='same', dilation=2, groups=2)",
    "ConvTranspose1d(2, 4, 3, stride=2, output_padding=1, padding=(1,))",
    "Identity()", "Identity(3, unused=True)", "LazyLinear(3)", "Fold(3, 2)",
    "Unfold((2, 3), dilation=2, padding=1, stride=(1, 2))",
]


@needs_torch
@pytest.mark.parametrize("expr", REPR_CASES)
def test_repr_matches_torch(expr):
    assert repr(eval("nn." + expr)) == repr(eval("torch.nn." + expr))


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


PARITY_CASES = [
    ("Linear(5, 3)", [(2, 4, 5)]),
    ("Linear(5, 3, bias=False)", [(5,)]),
    ("Bilinear(3, 2, 4)", [(6, 3), (6, 2)]),
    ("Conv1d(4, 6, 3, stride=2, padding=2, groups=2)", [(2, 4, 9)]),
    ("Conv1d(2, 3, 3, padding='same', padding_mode='circular')", [(2, 2, 7)]),
    ("Conv2d(3, 5, 3, padding=1)", [(2, 3, 6, 5)]),
    ("Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(2, 1), padding_mode='reflect')",
     [(2, 3, 6, 5)]),
    ("Conv2d(3, 4, 3, padding=1, padding_mode='replicate', dilation=2)", [(2, 3, 6, 6)]),
    ("Conv2d(3, 4, 3, padding='same', padding_mode='circular', bias=False)", [(3, 6, 5)]),
    ("Conv2d(4, 8, 3, stride=2, padding=1, groups=4)", [(2, 4, 7, 7)]),
    ("Conv2d(6, 4, 1)", [(2, 6, 4, 4)]),
    ("Conv3d(2, 3, 2, stride=(1, 2, 1), padding=1)", [(1, 2, 4, 5, 4)]),
    ("ConvTranspose1d(4, 2, 3, stride=2, padding=1, output_padding=1)", [(2, 4, 5)]),
    ("ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2, dilation=1)", [(2, 4, 4, 3)]),
    ("ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), dilation=2)", [(3, 4, 3)]),
    ("ConvTranspose3d(2, 2, 2, stride=2)", [(1, 2, 2, 3, 2)]),
    ("Unfold(2, padding=1, stride=2)", [(2, 3, 5, 4)]),
    ("Fold((4, 5), 2)", [(2, 12, 12)]),
    ("Identity()", [(3, 2)]),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("expr,shapes", PARITY_CASES, ids=[c[0] for c in PARITY_CASES])
def test_module_parity(expr, shapes, dtype):
    em = eval("nn." + expr).to(getattr(ember, dtype))
    tm = eval("torch.nn." + expr).to(getattr(torch, dtype))
    inputs = [_x(*s, seed=i).astype(dtype) for i, s in enumerate(shapes)]
    assert_module_parity(em, tm, *inputs, dtype=dtype, rtol=1e-4 if dtype == "float32" else None,
                         atol=1e-5 if dtype == "float32" else None)


@needs_torch
def test_conv_transpose_output_size():
    em, tm = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), \
        torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    x = _x(1, 3, 4, 4).astype(np.float32)
    from tests.nn.util import copy_state
    copy_state(em, tm)
    e = em(ember.tensor(x), output_size=[8, 8])
    t = tm(torch.tensor(x), output_size=[8, 8])
    assert tuple(e.shape) == (1, 2, 8, 8)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="valid sizes range from 7 to 8"):
        em(ember.tensor(x), output_size=[9, 9])


def test_conv_module_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


@needs_torch
def test_lazy_linear_materializes_like_torch():
    ember.manual_seed(0)
    torch.manual_seed(0)
    em, tm = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert [type(p).__name__ for p in em.parameters()] == ["UninitializedParameter"] * 2
    x = _x(2, 5).astype(np.float32)
    e, t = em(ember.tensor(x)), tm(torch.tensor(x))
    assert type(em) is nn.Linear and em.in_features == 5
    np.testing.assert_array_equal(to_numpy(em.weight), to_numpy(tm.weight))
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-6)
    assert repr(em) == repr(tm)


@needs_torch
def test_lazy_linear_loads_state_dict():
    tm = torch.nn.Linear(4, 2)
    em = nn.LazyLinear(2)
    em.load_state_dict({k: ember.tensor(to_numpy(v)) for k, v in tm.state_dict().items()})
    assert type(em) is nn.Linear and tuple(em.weight.shape) == (2, 4)
    np.testing.assert_array_equal(to_numpy(em.bias), to_numpy(tm.bias))


def test_linear_module_paths_match_torch():
    from ember.nn.modules.conv import Conv2d
    from ember.nn.modules.linear import Identity, Linear
    assert Linear is nn.Linear and Identity is nn.Identity and Conv2d is nn.Conv2d


def test_conv2d_double_backward_through_weight():
    # d/dw of (grad_x . v): needs _ConvInputGrad's derivative w.r.t. the weight.
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda a, b: ember.nn.functional.conv2d(a, b, stride=2, padding=1), (x, w))


@needs_torch
def test_conv2d_double_backward_matches_torch():
    rng = np.random.default_rng(4)
    xs, ws = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((4, 2, 3, 3))
    out = []
    for lib in (ember, torch):
        x = lib.tensor(xs, requires_grad=True)
        w = lib.tensor(ws, requires_grad=True)
        y = lib.nn.functional.conv2d(x, w, padding=1, groups=2)
        (gx,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        (gw,) = lib.autograd.grad(gx.pow(2).sum(), w)
        out.append(to_numpy(gw))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-9, atol=1e-9)


@needs_torch
def test_conv_float32_large_batch_values():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    e = ember.nn.functional.conv2d(ember.tensor(x), ember.tensor(w), stride=2, padding=1)
    t = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), stride=2, padding=1)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-4, atol=1e-4)
    assert e.is_contiguous()


@needs_torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv_same_even_kernel_pads_right_like_torch(mode):
    import warnings
    x = _x(2, 3, 5, 6).astype(np.float32)
    ember.manual_seed(0)
    torch.manual_seed(0)
    em = nn.Conv2d(3, 4, (2, 4), padding="same", padding_mode=mode)
    tm = torch.nn.Conv2d(3, 4, (2, 4), padding="same", padding_mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # torch warns about the padded copy
        t = tm(torch.tensor(x))
    e = em(ember.tensor(x))
    assert tuple(e.shape) == (2, 4, 5, 6)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-5, atol=1e-6)


def test_conv_empty_batch_and_pool_backward():
    x = ember.zeros(0, 3, 6, 6, requires_grad=True)
    y = nn.functional.max_pool2d(nn.functional.conv2d(x, ember.ones(4, 3, 3, 3), padding=1), 2)
    assert tuple(y.shape) == (0, 4, 3, 3)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 6, 6)
