"""Pooling, padding, resampling and channel-rearranging modules against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, to_numpy, torch

nn = ember.nn


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


PARITY_CASES = [
    ("MaxPool1d(3, stride=2, padding=1, ceil_mode=True)", (2, 3, 9)),
    ("MaxPool2d(2)", (2, 3, 6, 6)),
    ("MaxPool2d((3, 2), stride=(2, 1), padding=1, dilation=(1, 2))", (2, 2, 7, 7)),
    ("MaxPool3d(2, ceil_mode=True)", (1, 2, 5, 4, 3)),
    ("AvgPool1d(3, stride=2, padding=1, count_include_pad=False)", (2, 3, 8)),
    ("AvgPool2d(3, stride=2, padding=1, ceil_mode=True)", (2, 3, 6, 7)),
    ("AvgPool2d(2, divisor_override=3)", (2, 3, 6, 6)),
    ("AvgPool3d(2, stride=1, padding=1, count_include_pad=False)", (1, 2, 3, 4, 3)),
    ("AdaptiveAvgPool1d(4)", (2, 3, 9)),
    ("AdaptiveAvgPool2d((3, None))", (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d(1)", (2, 3, 7, 5)),
    ("AdaptiveAvgPool3d((2, 3, 2))", (1, 2, 5, 4, 3)),
    ("AdaptiveMaxPool1d(4)", (2, 3, 9)),
    ("AdaptiveMaxPool2d((3, 4))", (2, 3, 7, 5)),
    ("AdaptiveMaxPool3d(2)", (1, 2, 5, 4, 3)),
    ("ZeroPad2d((1, 2, 0, 3))", (2, 3, 4, 4)),
    ("ConstantPad1d(2, 3.5)", (2, 3, 4)),
    ("ConstantPad3d((1, 0, 2, 1, 0, 1), -1.0)", (1, 2, 3, 3, 3)),
    ("ReflectionPad1d((2, 1))", (2, 3, 5)),
    ("ReflectionPad2d(2)", (2, 3, 4, 5)),
    ("ReflectionPad3d(1)", (1, 2, 3, 3, 3)),
    ("ReplicationPad1d(3)", (2, 3, 4)),
    ("ReplicationPad2d((1, 0, 2, 3))", (3, 4, 4)),
    ("ReplicationPad3d(1)", (1, 2, 3, 3, 3)),
    ("CircularPad1d(2)", (2, 3, 4)),
    ("CircularPad2d((1, 2, 2, 0))", (2, 3, 4, 4)),
    ("CircularPad3d(1)", (1, 2, 3, 3, 3)),
    ("Upsample(scale_factor=2)", (2, 3, 4, 3)),
    ("Upsample(size=(5, 7), mode='bilinear')", (2, 3, 4, 3)),
    ("Upsample(scale_factor=1.5, mode='bicubic', align_corners=True)", (1, 2, 4, 4)),
    ("Upsample(size=7, mode='linear')", (2, 3, 4)),
    ("Upsample(scale_factor=(1, 2, 1.5), mode='trilinear')", (1, 2, 2, 3, 4)),
    ("Upsample(scale_factor=2.5, mode='nearest-exact')", (1, 2, 3, 4)),
    ("UpsamplingNearest2d(size=(5, 4))", (1, 2, 3, 3)),
    ("UpsamplingBilinear2d(scale_factor=2)", (1, 2, 3, 3)),
    ("PixelShuffle(2)", (2, 8, 3, 3)),
    ("PixelUnshuffle(3)", (1, 2, 6, 3)),
    ("ChannelShuffle(3)", (2, 6, 2, 2)),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("expr,shape", PARITY_CASES, ids=[c[0] for c in PARITY_CASES])
def test_module_parity(expr, shape, dtype):
    em, tm = eval("nn." + expr), eval("torch.nn." + expr)
    assert repr(em) == repr(tm)
    assert_module_parity(em, tm, _x(*shape).astype(dtype), dtype=dtype)


@needs_torch
@pytest.mark.parametrize("expr", ["LPPool1d(2, 3, stride=2)", "LPPool2d(3.0, 2, ceil_mode=True)",
                                  "LPPool2d(1, (2, 3))"])
def test_lp_pool_parity(expr):
    shape = (2, 3, 7) if "1d" in expr else (2, 2, 5, 6)
    x = np.abs(_x(*shape)) + 0.1
    em, tm = eval("nn." + expr), eval("torch.nn." + expr)
    assert repr(em) == repr(tm)
    assert_module_parity(em, tm, x, dtype="float64")


@needs_torch
@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_pool_indices_and_unpool_match_torch(d):
    shape = {1: (2, 3, 8), 2: (2, 3, 6, 4), 3: (1, 2, 4, 4, 2)}[d]
    x = _x(*shape).astype(np.float32)
    ep = getattr(nn, f"MaxPool{d}d")(2, return_indices=True)
    tp = getattr(torch.nn, f"MaxPool{d}d")(2, return_indices=True)
    ev, ei = ep(ember.tensor(x))
    tv, ti = tp(torch.tensor(x))
    np.testing.assert_array_equal(to_numpy(ev), to_numpy(tv))
    np.testing.assert_array_equal(to_numpy(ei), to_numpy(ti))
    assert ei.dtype == ember.int64
    eu = getattr(nn, f"MaxUnpool{d}d")(2)
    tu = getattr(torch.nn, f"MaxUnpool{d}d")(2)
    assert repr(eu) == repr(tu)
    out_size = tuple(s + 1 for s in shape[2:])
    e = eu(ev, ei, output_size=out_size)
    t = tu(tv, ti, output_size=out_size)
    np.testing.assert_array_equal(to_numpy(e), to_numpy(t))


@needs_torch
def test_adaptive_max_pool_indices_match_torch():
    x = _x(2, 3, 7, 5).astype(np.float32)
    ev, ei = nn.AdaptiveMaxPool2d((3, 4), return_indices=True)(ember.tensor(x))
    tv, ti = torch.nn.AdaptiveMaxPool2d((3, 4), return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(to_numpy(ei), to_numpy(ti))
    np.testing.assert_array_equal(to_numpy(ev), to_numpy(tv))


@needs_torch
def test_max_pool_propagates_nan_like_torch():
    x = _x(1, 1, 4, 4).astype(np.float32)
    x[0, 0, 1, 2] = np.nan
    e = nn.functional.max_pool2d(ember.tensor(x), 2)
    t = torch.nn.functional.max_pool2d(torch.tensor(x), 2)
    np.testing.assert_array_equal(np.isnan(to_numpy(e)), np.isnan(to_numpy(t)))


@needs_torch
def test_unbatched_inputs():
    x = _x(3, 6, 6).astype(np.float32)
    for name, args in [("max_pool2d", (2,)), ("avg_pool2d", (3, 1, 1)),
                       ("adaptive_avg_pool2d", (2,)), ("adaptive_max_pool2d", (4,))]:
        e = getattr(nn.functional, name)(ember.tensor(x), *args)
        t = getattr(torch.nn.functional, name)(torch.tensor(x), *args)
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-6, err_msg=name)


def test_pool_and_pad_errors():
    F = nn.functional
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(ember.ones(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D"):
        F.max_pool2d(ember.ones(2, 2), 2)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(ember.ones(1, 1, 4, 4), 2, divisor_override=0)
    with pytest.raises(NotImplementedError, match="Only 2D, 3D, 4D, 5D padding"):
        F.pad(ember.ones(4), (1, 1), mode="reflect")
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.CircularPad1d(1)(ember.ones(1, 1, 2, 3))
    with pytest.raises(RuntimeError, match="Found an invalid max index"):
        F.max_unpool2d(ember.ones(1, 1, 2, 2), ember.full((1, 1, 2, 2), 99, dtype=ember.int64), 2)


@needs_torch
def test_grid_sample_nearest_and_affine_grid_round_trip():
    theta = np.array([[[0.9, 0.2, 0.1], [-0.1, 1.1, -0.2]]], dtype=np.float32)
    x = _x(1, 2, 5, 6).astype(np.float32)
    outs = []
    for lib in (ember, torch):
        grid = lib.nn.functional.affine_grid(lib.tensor(theta), (1, 2, 4, 3), align_corners=False)
        for mode in ("nearest", "bilinear"):
            for pm in ("zeros", "border", "reflection"):
                outs.append(to_numpy(lib.nn.functional.grid_sample(
                    lib.tensor(x), grid, mode=mode, padding_mode=pm, align_corners=False)))
    half = len(outs) // 2
    for e, t in zip(outs[:half], outs[half:]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


@needs_torch
def test_interpolate_nearest_index_rounding_matches_torch():
    # float32 scale arithmetic decides the source pixel for awkward ratios.
    for size_in, size_out in [(3, 5), (7, 3), (10, 13), (33, 100), (100, 33)]:
        x = np.arange(size_in, dtype=np.float32).reshape(1, 1, size_in)
        for mode in ("nearest", "nearest-exact"):
            e = nn.functional.interpolate(ember.tensor(x), size=size_out, mode=mode)
            t = torch.nn.functional.interpolate(torch.tensor(x), size=size_out, mode=mode)
            np.testing.assert_array_equal(to_numpy(e), to_numpy(t), err_msg=f"{mode} {size_in}")
            e = nn.functional.interpolate(ember.tensor(x), scale_factor=size_out / size_in,
                                          mode=mode)
            t = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=size_out / size_in,
                                                mode=mode)
            np.testing.assert_array_equal(to_numpy(e), to_numpy(t), err_msg=f"{mode} sf")


def test_upsample_deprecated_warns():
    with pytest.warns(UserWarning, match="deprecated"):
        nn.functional.upsample(ember.ones(1, 1, 2), scale_factor=2)


def test_pooling_module_paths():
    from ember.nn.modules.padding import ReflectionPad2d
    from ember.nn.modules.pooling import MaxPool2d
    from ember.nn.modules.upsampling import Upsample
    assert MaxPool2d is nn.MaxPool2d and ReflectionPad2d is nn.ReflectionPad2d
    assert Upsample is nn.Upsample


_GPU_CASES = [
    ("conv2d", lambda F, x, w: F.conv2d(x, w, padding=1, stride=2)),
    ("conv2d_depthwise", lambda F, x, w: F.conv2d(x, w[:, :1], padding=1, groups=4)),
    ("conv_transpose2d", lambda F, x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1)),
    ("max_pool2d", lambda F, x, w: F.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("avg_pool2d", lambda F, x, w: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    ("adaptive_max_pool2d", lambda F, x, w: F.adaptive_max_pool2d(x, (3, 2))),
    ("adaptive_avg_pool2d", lambda F, x, w: F.adaptive_avg_pool2d(x, (3, 2))),
    ("pad_reflect", lambda F, x, w: F.pad(x, (1, 2, 2, 1), mode="reflect")),
    ("pad_circular", lambda F, x, w: F.pad(x, (1, 2, 2, 1), mode="circular")),
    ("interpolate_bicubic", lambda F, x, w: F.interpolate(x, scale_factor=1.5, mode="bicubic")),
    ("unfold", lambda F, x, w: F.unfold(x, 2, padding=1)),
    ("grid_sample", lambda F, x, w: F.grid_sample(
        x, F.affine_grid(x.new_tensor([[[0.9, 0.1, 0.0], [0.2, 1.1, 0.1]]]).expand(2, 2, 3),
                         (2, 4, 3, 4), align_corners=False),
        padding_mode="reflection", align_corners=False)),
]


@pytest.mark.gpu
@pytest.mark.parametrize("name,fn", _GPU_CASES, ids=[c[0] for c in _GPU_CASES])
def test_conv_pool_gpu_matches_cpu(name, fn):
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 4, 7, 6)).astype(np.float32), requires_grad=True)
    w = ember.tensor(rng.standard_normal((4, 4, 3, 3)).astype(np.float32), requires_grad=True)
    xc = x.detach().cuda().requires_grad_(True)
    wc = w.detach().cuda().requires_grad_(True)
    out, outc = fn(nn.functional, x, w), fn(nn.functional, xc, wc)
    np.testing.assert_allclose(outc.detach().cpu().numpy(), out.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    cot = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(ember.tensor(cot))
    outc.backward(ember.tensor(cot).cuda())
    np.testing.assert_allclose(xc.grad.cpu().numpy(), x.grad.numpy(), rtol=1e-4, atol=1e-5)
    if w.grad is not None:
        np.testing.assert_allclose(wc.grad.cpu().numpy(), w.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_grid_sample_bicubic_is_2d_only():
    x, g = ember.zeros(1, 1, 2, 2, 2), ember.zeros(1, 1, 1, 1, 3)
    with pytest.raises(RuntimeError, match="bicubic interpolation only supports 4D input"):
        ember.nn.functional.grid_sample(x, g, mode="bicubic", align_corners=False)
