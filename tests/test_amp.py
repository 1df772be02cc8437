"""ember.amp: autocast's cast policies (dtypes against PyTorch's CPU autocast), gradients
through autocast regions, the region rules (nesting, threads, decorators, warnings),
custom_fwd/custom_bwd and GradScaler's state machine against PyTorch's."""

import threading
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import needs_torch, torch


def _ops(lib, F):
    x = lib.linspace(-2, 2, 24).reshape(4, 6)
    w = lib.linspace(-1, 1, 18).reshape(3, 6)
    y = lib.tensor([0, 1, 2, 1])
    img = lib.linspace(-1, 1, 32).reshape(1, 2, 4, 4)
    k = lib.linspace(-1, 1, 36).reshape(2, 2, 3, 3)
    return {
        "linear": lambda: F.linear(x, w),
        "matmul": lambda: x @ w.t(),
        "mm": lambda: lib.mm(x, w.t()),
        "bmm": lambda: lib.bmm(x[None], w.t()[None]),
        "addmm": lambda: lib.addmm(lib.zeros(3), x, w.t()),
        "baddbmm": lambda: lib.baddbmm(lib.zeros(1, 4, 3), x[None], w.t()[None]),
        "einsum": lambda: lib.einsum("ij,kj->ik", x, w),
        "conv2d": lambda: F.conv2d(img, k),
        "conv_transpose2d": lambda: F.conv_transpose2d(img, k),
        "sdpa": lambda: F.scaled_dot_product_attention(x[None], x[None], x[None]),
        "prelu": lambda: F.prelu(x, lib.ones(1)),
        "softmax": lambda: F.softmax(F.linear(x, w), -1),
        "layer_norm": lambda: F.layer_norm(F.linear(x, w), (3,)),
        "cross_entropy": lambda: F.cross_entropy(F.linear(x, w), y[:4] % 3),
        "mse_loss": lambda: F.mse_loss(F.linear(x, w), lib.zeros(4, 3)),
        "bce_logits": lambda: F.binary_cross_entropy_with_logits(F.linear(x, w),
                                                                 lib.ones(4, 3)),
        "prod": lambda: F.linear(x, w).prod(),
        "cdist": lambda: lib.cdist(F.linear(x, w), F.linear(x, w)),
        "exp": lambda: F.linear(x, w).exp(),
        "sum": lambda: F.linear(x, w).sum(),
        "add_fp32": lambda: F.linear(x, w) + lib.ones(3),
        "float64": lambda: x.double() @ w.double().t(),
        "int": lambda: y + 1,
    }


@needs_torch
def test_cpu_autocast_dtypes_match_torch():
    ours, theirs = _ops(ember, EF), _ops(torch, torch.nn.functional)
    for name in ours:
        with ember.autocast("cpu"):
            a = ours[name]()
        with torch.autocast("cpu"):
            b = theirs[name]()
        assert str(a.dtype) == str(b.dtype), name
        np.testing.assert_allclose(a.float().detach().numpy(), b.float().detach().numpy(),
                                   rtol=2e-2, atol=2e-2, err_msg=name)


@needs_torch
def test_recurrent_layers_follow_torch_dtypes():
    x = np.random.default_rng(0).standard_normal((5, 2, 4)).astype(np.float32)
    # (torch's own bfloat16 LSTM layer fails on CPU builds without oneDNN support for it; the
    # cells compose the same casts)
    for name in ("LSTMCell", "GRUCell", "RNNCell"):
        dts = []
        for lib in (ember, torch):
            m = getattr(lib.nn, name)(4, 3)
            inp = lib.tensor(x[0] if name.endswith("Cell") else x)
            with lib.autocast("cpu"):
                out = m(inp)
            out = out[0] if isinstance(out, tuple) else out
            dts.append(str(out.dtype))
        assert dts[0] == dts[1], name
    for name in ("LSTM", "GRU", "RNN"):
        with ember.autocast("cpu"):
            out = getattr(ember.nn, name)(4, 3)(ember.tensor(x))[0]
        assert out.dtype is ember.bfloat16, name


@needs_torch
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_linear_and_einsum_gradients(dtype):
    rng = np.random.default_rng(2)
    xs, ws = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
        w = lib.tensor(ws, dtype=getattr(lib, dtype), requires_grad=True)
        (lib.nn.functional.linear(x, w).float().sum()
         + lib.einsum("ij,kj->ik", x, w).float().sum()).backward()
        assert str(x.grad.dtype).endswith(dtype) and str(w.grad.dtype).endswith(dtype)
        grads.append((x.grad.float().numpy(), w.grad.float().numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-2, atol=1e-2)


@needs_torch
def test_float16_region_and_modules():
    torch.manual_seed(0)
    ember.manual_seed(0)
    lin_t, lin_e = torch.nn.Linear(6, 4), ember.nn.Linear(6, 4)
    lin_e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in lin_t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.float16):
        b = lin_t(torch.tensor(x))
    with ember.autocast("cpu", dtype=ember.float16):
        a = lin_e(ember.tensor(x))
    assert a.dtype is ember.float16 and str(b.dtype) == "torch.float16"
    np.testing.assert_allclose(a.float().detach().numpy(), b.float().detach().numpy(),
                               rtol=2e-3, atol=2e-3)


@needs_torch
def test_gradients_through_region_match_torch():
    rng = np.random.default_rng(1)
    xs, ws = rng.standard_normal((5, 8)), rng.standard_normal((4, 8))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(xs, dtype=lib.float32)
        w = lib.tensor(ws, dtype=lib.float32, requires_grad=True)
        with lib.autocast("cpu"):
            loss = lib.nn.functional.cross_entropy(lib.nn.functional.linear(x, w),
                                                   lib.tensor([0, 1, 2, 3, 0]))
        assert str(loss.dtype).endswith("float32")
        loss.backward()
        assert str(w.grad.dtype).endswith("float32")
        res.append((loss.item(), w.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-2)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=3e-2, atol=3e-3)


def test_backward_inside_region_runs_without_autocast():
    w = ember.randn(3, 3, requires_grad=True)
    with ember.autocast("cpu"):
        out = (w @ w).float().sum()
        out.backward()          # the matmuls of backward must not be autocast again
        assert ember.is_autocast_enabled("cpu")
    assert w.grad.dtype is ember.float32


def test_region_rules():
    a, w = ember.randn(2, 3), ember.randn(4, 3)
    assert not ember.is_autocast_enabled("cpu")
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu") and not ember.is_autocast_enabled()
        with ember.autocast("cpu", enabled=False):
            assert EF.linear(a, w).dtype is ember.float32
        assert EF.linear(a, w).dtype is ember.bfloat16
        seen = []
        th = threading.Thread(target=lambda: seen.append(EF.linear(a, w).dtype))
        th.start()
        th.join()
        assert seen == [ember.float32]          # state is per thread
    assert EF.linear(a, w).dtype is ember.float32

    @ember.autocast("cpu")
    def f(x):
        return x @ w.t()
    assert f(a).dtype is ember.bfloat16 and (a @ w.t()).dtype is ember.float32
    assert ember.get_autocast_dtype("cpu") is ember.bfloat16
    assert ember.amp.is_autocast_available("cpu") and not ember.amp.is_autocast_available("xpu")


def test_region_warnings_and_errors():
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        r = ember.autocast("cpu", dtype=ember.float32)
    with r:
        assert not ember.is_autocast_enabled("cpu")
    if not ember.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            ember.autocast("cuda")
        with pytest.warns(FutureWarning, match="torch.cuda.amp.autocast"):
            with pytest.warns(UserWarning):
                ember.cuda.amp.autocast()
    with pytest.warns(FutureWarning, match="torch.cpu.amp.autocast"):
        ember.cpu.amp.autocast()
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        ember.autocast("tpu")


def test_custom_fwd_bwd():
    seen = {}

    class Mul(ember.autograd.Function):
        @staticmethod
        @ember.amp.custom_fwd(device_type="cpu", cast_inputs=ember.float32)
        def forward(ctx, a, b):
            seen["fwd"] = (a.dtype, ember.is_autocast_enabled("cpu"))
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        @ember.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd"] = ember.is_autocast_enabled("cpu")
            a, b = ctx.saved_tensors
            return g * b, g * a

    a = ember.randn(3, dtype=ember.bfloat16, requires_grad=True)
    b = ember.randn(3, requires_grad=True)
    with ember.autocast("cpu"):
        out = Mul.apply(a, b)
    assert seen["fwd"] == (ember.float32, False) and out.dtype is ember.float32
    out.sum().backward()
    assert seen["bwd"] is True and a.grad.dtype is ember.bfloat16


def _scaler_run(lib, grads):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    trace = []
    for g in grads:
        opt.zero_grad()
        scaler.scale((p * lib.tensor(g)).sum()).backward()
        scaler.unscale_(opt)
        trace.append(p.grad.tolist())
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), p.tolist()))
    return trace, scaler.state_dict()


@needs_torch
def test_grad_scaler_matches_torch():
    grads = [[1.0, 2.0], [0.5, 0.5], [float("inf"), 1.0], [1.0, 1.0], [2.0, 0.0], [1.0, 3.0]]
    ours, theirs = _scaler_run(ember, grads), _scaler_run(torch, grads)
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]


def test_grad_scaler_errors_and_state():
    p = ember.nn.Parameter(ember.ones(2))
    opt = ember.optim.SGD([p], lr=0.1)
    s = ember.amp.GradScaler("cpu")
    s.scale(p.sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        s.step(opt)
    s.update()
    with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
        s.update()
    s2 = ember.amp.GradScaler("cpu")
    s2.load_state_dict(s.state_dict())
    assert s2.state_dict() == s.state_dict()
    off = ember.amp.GradScaler("cpu", enabled=False)
    t = ember.ones(1)
    assert off.scale(t) is t and off.state_dict() == {} and off.get_scale() == 1.0
    h = ember.nn.Parameter(ember.ones(2, dtype=ember.float16))
    h.grad = ember.ones(2, dtype=ember.float16)
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        ember.amp.GradScaler("cpu").unscale_(ember.optim.SGD([h], lr=1.0))
    if not ember.cuda.is_available():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert not ember.cuda.amp.GradScaler().is_enabled()
