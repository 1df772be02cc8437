"""Normalization layers against PyTorch: outputs, gradients, running statistics, state
dicts, reprs."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, to_numpy, torch


def _x(*shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _pair(name, *args, **kwargs):
    return getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def _assert_buffers(e, t, rtol=1e-5, atol=1e-6):
    eb = dict(e.named_buffers())
    tb = dict(t.named_buffers())
    assert sorted(eb) == sorted(tb)
    for k, v in tb.items():
        np.testing.assert_allclose(to_numpy(eb[k]), to_numpy(v), rtol=rtol, atol=atol,
                                   err_msg=k)


BN_CASES = [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (2, 3, 4, 4)),
            ("BatchNorm3d", (2, 3, 2, 3, 2))]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,shape", BN_CASES)
def test_batchnorm_train_parity_and_running_stats(name, shape, dtype):
    e, t = _pair(name, 3)
    e.to(getattr(ember, dtype))
    t.to(getattr(torch, dtype))
    with torch.no_grad():
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-1, 1)
    assert_module_parity(e, t, _x(*shape, dtype=dtype), dtype=dtype, train=True)
    _assert_buffers(e, t)
    assert e.num_batches_tracked.item() == 1
    assert_module_parity(e, t, _x(*shape, dtype=dtype, seed=1), dtype=dtype, train=False)


@needs_torch
def test_batchnorm_cumulative_average_momentum_none():
    e, t = _pair("BatchNorm1d", 3, momentum=None)
    for seed in range(4):
        x = _x(6, 3, seed=seed) * (seed + 1) + seed
        e(ember.tensor(x))
        t(torch.tensor(x))
    _assert_buffers(e, t)
    assert e.num_batches_tracked.item() == 4


@needs_torch
@pytest.mark.parametrize("kwargs", [{"affine": False}, {"track_running_stats": False},
                                    {"bias": False}, {"momentum": 0.5, "eps": 1e-3}])
def test_batchnorm_options(kwargs):
    e, t = _pair("BatchNorm2d", 3, **kwargs)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    assert_module_parity(e, t, _x(2, 3, 3, 3), train=True)
    _assert_buffers(e, t)
    assert_module_parity(e, t, _x(2, 3, 3, 3, seed=2), train=False)


@needs_torch
def test_batchnorm_eval_without_running_stats_uses_batch_stats():
    e, t = _pair("BatchNorm1d", 3, track_running_stats=False)
    assert_module_parity(e, t, _x(5, 3), train=False)


def test_batchnorm_input_dim_errors():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        ember.nn.BatchNorm2d(3)(ember.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        ember.nn.BatchNorm1d(3)(ember.zeros(1, 3))


def test_batchnorm_old_checkpoint_without_num_batches_tracked():
    bn = ember.nn.BatchNorm1d(2)
    sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    sd["running_mean"] = ember.tensor([1.0, 2.0])
    bn.load_state_dict(sd)
    assert bn.running_mean.tolist() == [1.0, 2.0]
    assert bn.num_batches_tracked.item() == 0


def test_batchnorm_running_stats_updated_in_place_with_cumulative_mean():
    bn = ember.nn.BatchNorm1d(1, momentum=None)
    mean_before = bn.running_mean
    bn(ember.tensor([[1.0], [3.0]]))
    bn(ember.tensor([[5.0], [7.0]]))
    assert bn.running_mean is mean_before
    assert bn.running_mean.tolist() == [4.0]          # (2 + 6) / 2
    assert bn.running_var.tolist() == [2.0]           # unbiased 2 each


@needs_torch
def test_batchnorm_half_input_float_params():
    e, t = _pair("BatchNorm1d", 3)
    x = _x(4, 3, 2, dtype="float16")
    ey = e(ember.tensor(x))
    ty = t(torch.tensor(x))
    assert ey.dtype == ember.float16
    np.testing.assert_allclose(to_numpy(ey), to_numpy(ty), rtol=1e-3, atol=1e-3)
    _assert_buffers(e, t, rtol=1e-3, atol=1e-4)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,normalized", [((3, 5), 5), ((2, 3, 4), (3, 4))])
def test_layernorm_parity(shape, normalized, dtype):
    e, t = _pair("LayerNorm", normalized)
    e.to(getattr(ember, dtype))
    t.to(getattr(torch, dtype))
    with torch.no_grad():
        t.weight.normal_()
        t.bias.normal_()
    assert_module_parity(e, t, _x(*shape, dtype=dtype), dtype=dtype)


@needs_torch
@pytest.mark.parametrize("kwargs", [{"elementwise_affine": False}, {"bias": False}])
def test_layernorm_options(kwargs):
    e, t = _pair("LayerNorm", [4], **kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_module_parity(e, t, _x(3, 4))


@needs_torch
def test_layernorm_bfloat16():
    x = _x(4, 8)
    e = F.layer_norm(ember.tensor(x).bfloat16(), (8,))
    t = torch.nn.functional.layer_norm(torch.tensor(x).bfloat16(), (8,))
    assert e.dtype == ember.bfloat16
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-2, atol=1e-2)


@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"bias": False}])
def test_groupnorm_parity(kwargs):
    e, t = _pair("GroupNorm", 2, 6, **kwargs)
    if t.weight is not None:
        with torch.no_grad():
            t.weight.normal_()
    assert repr(e) == repr(t)
    assert_module_parity(e, t, _x(3, 6, 2, 2))


def test_groupnorm_channels_not_divisible():
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        ember.nn.GroupNorm(4, 6)


@needs_torch
@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (2, 3, 5)),
                                        ("InstanceNorm1d", (3, 5)),
                                        ("InstanceNorm2d", (2, 3, 3, 4)),
                                        ("InstanceNorm3d", (2, 3, 2, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, {"affine": True, "track_running_stats": True}])
def test_instancenorm_parity(name, shape, kwargs):
    e, t = _pair(name, 3, **kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    if t.weight is not None:
        with torch.no_grad():
            t.weight.normal_()
            t.bias.normal_()
    assert_module_parity(e, t, _x(*shape), train=True)
    _assert_buffers(e, t)
    assert_module_parity(e, t, _x(*shape, seed=3), train=False)


def test_instancenorm_affine_channel_mismatch():
    with pytest.raises(ValueError, match="to match num_features"):
        ember.nn.InstanceNorm1d(4, affine=True)(ember.zeros(2, 3, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        ember.nn.InstanceNorm1d(4)(ember.randn(2, 3, 5))


@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"eps": 1e-4}, {"elementwise_affine": False}])
def test_rmsnorm_parity(kwargs):
    e, t = _pair("RMSNorm", [3, 4], **kwargs)
    if t.weight is not None:
        with torch.no_grad():
            t.weight.normal_()
    assert repr(e) == repr(t)
    assert_module_parity(e, t, _x(2, 3, 4))


@needs_torch
@pytest.mark.parametrize("shape", [(2, 6, 3), (2, 5, 3, 3), (1, 4, 2, 2, 2)])
def test_local_response_norm_parity(shape):
    e, t = _pair("LocalResponseNorm", 3, alpha=0.5, beta=0.6, k=1.5)
    assert repr(e) == repr(t)
    assert_module_parity(e, t, _x(*shape))


@needs_torch
@pytest.mark.parametrize("name,args", [("BatchNorm1d", (4,)), ("LayerNorm", ((2, 3),)),
                                       ("GroupNorm", (2, 4)), ("InstanceNorm2d", (3,)),
                                       ("RMSNorm", (5,)), ("LocalResponseNorm", (3,))])
def test_norm_reprs_and_state_dict_shapes(name, args):
    e, t = _pair(name, *args)
    assert repr(e) == repr(t)
    es, ts = e.state_dict(), t.state_dict()
    assert list(es) == list(ts)
    for k in ts:
        assert tuple(es[k].shape) == tuple(ts[k].shape), k
        assert str(es[k].dtype).split(".")[-1] == str(ts[k].dtype).split(".")[-1], k


@needs_torch
def test_batch_norm_double_backward_matches_torch():
    x = _x(4, 3, 2, dtype="float64")
    w = np.array([0.5, 1.5, -1.0])
    res = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.batch_norm(xt, None, None, wt, None, training=True)
        gx, = lib.autograd.grad((y * y * y).sum(), xt, create_graph=True)
        res.append([to_numpy(g) for g in lib.autograd.grad((gx * gx).sum(), (xt, wt))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_layer_norm_backward_paths_agree():
    """The fused backward (create_graph off) equals the composite one (create_graph on)."""
    x = ember.tensor(_x(3, 4, dtype="float64"), requires_grad=True)
    w = ember.tensor(_x(4, dtype="float64", seed=1), requires_grad=True)
    b = ember.tensor(_x(4, dtype="float64", seed=2), requires_grad=True)
    g = ember.tensor(_x(3, 4, dtype="float64", seed=3))
    fast = ember.autograd.grad(F.layer_norm(x, (4,), w, b), (x, w, b), g)
    slow = ember.autograd.grad(F.layer_norm(x, (4,), w, b), (x, w, b), g, create_graph=True)
    assert slow[0].requires_grad and slow[1].requires_grad
    assert not any(a.requires_grad for a in fast)
    for a, c in zip(fast, slow):
        np.testing.assert_allclose(a.numpy(), c.detach().numpy(), rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("name,shape", [("LazyBatchNorm1d", (4, 3)),
                                        ("LazyBatchNorm2d", (2, 3, 2, 2)),
                                        ("LazyBatchNorm3d", (2, 3, 2, 1, 2)),
                                        ("LazyInstanceNorm1d", (2, 3, 4)),
                                        ("LazyInstanceNorm2d", (2, 3, 2, 2))])
def test_lazy_norms_infer_features_then_become_eager(name, shape):
    kwargs = {"affine": True, "track_running_stats": True} if "Instance" in name else {}
    e, t = _pair(name, **kwargs)
    assert repr(e) == repr(t)
    x = _x(*shape)
    e(ember.tensor(x))
    t(torch.tensor(x))
    assert type(e).__name__ == type(t).__name__ == name.replace("Lazy", "")
    assert repr(e) == repr(t)
    assert e.weight.shape == (3,)
    _assert_buffers(e, t)
    assert_module_parity(e, t, _x(*shape, seed=1), train=True)


def test_lazy_instance_norm_without_parameters_reads_num_features():
    m = ember.nn.LazyInstanceNorm2d()
    m(ember.randn(2, 3, 2, 2))          # no "does not match num_features" warning
    assert type(m) is ember.nn.InstanceNorm2d and m.num_features == 3


@pytest.mark.gpu
@pytest.mark.parametrize("make,shape,train", [
    (lambda: ember.nn.BatchNorm2d(3), (4, 3, 5, 5), True),
    (lambda: ember.nn.BatchNorm1d(3), (6, 3), False),
    (lambda: ember.nn.LayerNorm((3, 5)), (4, 3, 5), True),
    (lambda: ember.nn.GroupNorm(3, 6), (2, 6, 4), True),
    (lambda: ember.nn.InstanceNorm1d(3, affine=True, track_running_stats=True), (2, 3, 7),
     True),
    (lambda: ember.nn.RMSNorm(5), (3, 5), True),
    (lambda: ember.nn.LocalResponseNorm(3), (2, 5, 4), True)])
def test_norm_layers_cuda_match_cpu(make, shape, train):
    import copy
    cpu = make().train(train)
    with ember.no_grad():
        for p in cpu.parameters():
            p.normal_()
    gpu = copy.deepcopy(cpu).to("cuda")
    x = _x(*shape, dtype="float32")
    xc = ember.tensor(x, requires_grad=True)
    xg = ember.tensor(x, device="cuda", requires_grad=True)
    g = _x(*shape, seed=5)
    yc, yg = cpu(xc), gpu(xg)
    assert yg.device.type == "cuda"
    np.testing.assert_allclose(yg.cpu().detach().numpy(), yc.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    yc.backward(ember.tensor(g))
    yg.backward(ember.tensor(g, device="cuda"))
    np.testing.assert_allclose(xg.grad.cpu().numpy(), xc.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, pc), pg in zip(cpu.named_parameters(), gpu.parameters()):
        np.testing.assert_allclose(pg.grad.cpu().numpy(), pc.grad.numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=name)
    for (name, bc), bg in zip(cpu.named_buffers(), gpu.buffers()):
        np.testing.assert_allclose(bg.cpu().numpy(), bc.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.gpu
def test_batch_norm_double_backward_cuda():
    x = ember.randn(4, 3, 2, dtype=ember.float64, device="cuda", requires_grad=True)
    w = ember.randn(3, dtype=ember.float64, device="cuda", requires_grad=True)

    def f(x, w):
        return F.batch_norm(x, None, None, w, None, training=True)
    assert ember.autograd.gradgradcheck(f, (x, w))
