"""Linear, convolution, pooling, padding and resampling functionals (ember.nn.functional)."""

from __future__ import annotations

import numpy as np

from .spec import OpSpec, Sample, draw


def _s(rng, dtype, shapes, lo=-2.0, hi=2.0, **kwargs):
    """A Sample of arrays of the given shapes (None passes through) and keyword args."""
    args = tuple(s if not isinstance(s, tuple) else draw(rng, s, dtype, lo, hi) for s in shapes)
    return Sample(args, kwargs)


def _linear(rng, dt):
    return [_s(rng, dt, [(3, 4), (5, 4), (5,)]), _s(rng, dt, [(2, 3, 4), (5, 4)]),
            _s(rng, dt, [(4,), (2, 4), (2,)])]


def _bilinear(rng, dt):
    return [_s(rng, dt, [(3, 2), (3, 3), (4, 2, 3), (4,)]),
            _s(rng, dt, [(2, 2, 2), (2, 2, 3), (2, 2, 3)])]


def _conv1d(rng, dt):
    return [_s(rng, dt, [(2, 3, 7), (4, 3, 3), (4,)], stride=2, padding=1),
            _s(rng, dt, [(2, 4, 6), (4, 2, 2)], dilation=2, groups=2, padding="same"),
            _s(rng, dt, [(3, 5), (2, 3, 2), (2,)], padding="valid")]


def _conv2d(rng, dt):
    return [_s(rng, dt, [(1, 3, 4, 4), (2, 3, 3, 3), (2,)], padding=1),
            _s(rng, dt, [(1, 4, 5, 6), (4, 2, 3, 2), (4,)], stride=(2, 1), padding=(1, 2),
               dilation=(1, 2), groups=2),
            _s(rng, dt, [(1, 3, 5, 5), (6, 1, 3, 3)], stride=2, padding=1, groups=3),
            _s(rng, dt, [(2, 3, 3, 4), (2, 3, 1, 1), (2,)]),
            _s(rng, dt, [(2, 4, 4), (2, 2, 2, 3)], padding="same", dilation=(2, 1))]


def _conv3d(rng, dt):
    return [_s(rng, dt, [(1, 2, 3, 4, 3), (2, 2, 2, 2, 2), (2,)], padding=(1, 0, 1),
               stride=(1, 2, 1))]


def _conv_t1d(rng, dt):
    return [_s(rng, dt, [(2, 3, 4), (3, 2, 3), (2,)], stride=2, padding=1, output_padding=1),
            _s(rng, dt, [(3, 5), (3, 2, 2)], dilation=2)]


def _conv_t2d(rng, dt):
    return [_s(rng, dt, [(1, 4, 3, 4), (4, 3, 3, 2), (6,)], stride=(2, 3), padding=(1, 0),
               output_padding=(1, 2), groups=2),
            _s(rng, dt, [(2, 2, 3, 3), (2, 2, 2, 2)], stride=2, dilation=2, output_padding=1),
            _s(rng, dt, [(1, 3, 3, 3), (3, 1, 3, 3), (3,)], padding=1, groups=3)]


def _conv_t3d(rng, dt):
    return [_s(rng, dt, [(1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (2,)], stride=2)]


def _unfold(rng, dt):
    return [Sample((draw(rng, (2, 2, 5, 4), dt), (2, 3)), dict(dilation=(1, 2), padding=1,
                                                              stride=(2, 1))),
            Sample((draw(rng, (2, 4, 4), dt), 2), {})]


def _fold(rng, dt):
    return [Sample((draw(rng, (2, 8, 12), dt), (4, 5), (2, 2)), {}),
            Sample((draw(rng, (4, 9), dt), (5, 5), 2), dict(stride=2, padding=1))]


def _pool(shape, kernel, **kw):
    def samples(rng, dt):
        return [Sample((draw(rng, shape, dt), kernel), dict(kw))]
    return samples


def _max_pool2d(rng, dt):
    return [Sample((draw(rng, (1, 2, 5, 6), dt), 3), dict(stride=2, padding=1, ceil_mode=True)),
            Sample((draw(rng, (1, 2, 5, 6), dt), (2, 3)), dict(stride=(1, 2), dilation=2)),
            Sample((draw(rng, (2, 5, 4), dt), 2), dict(return_indices=True))]


def _max_unpool2d(rng, dt):
    x = draw(rng, (2, 3, 2, 3), dt)
    di, dj = rng.integers(0, 2, size=(2, 2, 3, 2, 3))
    rows = np.arange(2)[:, None] * 2 + di
    cols = np.arange(3)[None, :] * 2 + dj
    idx = (rows * 6 + cols).astype(np.int64)
    return [Sample((x, idx, 2), {}), Sample((x, idx, 2), dict(output_size=(5, 7)))]


def _avg_pool2d(rng, dt):
    return [Sample((draw(rng, (1, 2, 5, 4), dt), 3), dict(stride=2, padding=1, ceil_mode=True)),
            Sample((draw(rng, (1, 2, 5, 4), dt), 3), dict(stride=2, padding=1, ceil_mode=True,
                                                          count_include_pad=False)),
            Sample((draw(rng, (2, 5, 4), dt), (2, 1)), dict(divisor_override=3))]


def _adaptive(shape, out):
    def samples(rng, dt):
        return [Sample((draw(rng, shape, dt), out), {})]
    return samples


def _lp_pool(shape, p, kernel, **kw):
    def samples(rng, dt):
        return [Sample((draw(rng, shape, dt, 0.2, 2.0), p, kernel), dict(kw))]
    return samples


def _pad(rng, dt):
    out = []
    for mode in ("constant", "reflect", "replicate", "circular"):
        out.append(Sample((draw(rng, (1, 2, 3, 4), dt), (1, 2, 2, 1)), dict(mode=mode)))
    out.append(Sample((draw(rng, (2, 3, 4), dt), (2, 1)), dict(mode="reflect")))
    out.append(Sample((draw(rng, (1, 2, 3, 3, 4), dt), (1, 0, 2, 1, 1, 1)),
                      dict(mode="replicate")))
    out.append(Sample((draw(rng, (2, 3, 4), dt), (-1, 2, 1, -1, 0, 1)), dict(value=1.5)))
    return out


def _interp(rng, dt):
    out = []
    for mode, shape in (("nearest", (1, 2, 4, 3)), ("nearest-exact", (1, 2, 3)),
                        ("area", (1, 2, 5, 4))):
        out.append(Sample((draw(rng, shape, dt),), dict(scale_factor=1.7, mode=mode)))
        out.append(Sample((draw(rng, shape, dt),), dict(size=tuple(s - 1 for s in shape[2:]),
                                                         mode=mode)))
    for mode, shape in (("linear", (1, 2, 4)), ("bilinear", (1, 2, 3, 4)),
                        ("bicubic", (1, 1, 4, 3)), ("trilinear", (1, 1, 2, 3, 2))):
        for ac in (False, True):
            if ac:
                out.append(Sample((draw(rng, shape, dt),), dict(scale_factor=1.5, mode=mode,
                                                                 align_corners=ac)))
            out.append(Sample((draw(rng, shape, dt),),
                              dict(size=tuple(2 * s - 1 for s in shape[2:]), mode=mode,
                                   align_corners=ac)))
    out.append(Sample((draw(rng, (1, 1, 5, 6), dt),),
                      dict(scale_factor=0.6, mode="bilinear", recompute_scale_factor=True)))
    return out


def _grid_sample(rng, dt):
    out = []
    for pm in ("zeros", "border", "reflection"):
        for ac in (False, True):
            out.append(Sample((draw(rng, (1, 2, 3, 3), dt), draw(rng, (1, 2, 2, 2), dt, -1.3,
                                                                  1.3)),
                              dict(padding_mode=pm, align_corners=ac)))
    out.append(Sample((draw(rng, (1, 1, 2, 3, 2), dt), draw(rng, (1, 2, 1, 1, 3), dt, -1.2,
                                                             1.2)), dict(align_corners=False)))
    out.append(Sample((draw(rng, (2, 2, 3, 4), dt), draw(rng, (2, 3, 2, 2), dt, -1.3, 1.3)),
                      dict(mode="nearest", align_corners=False), grad=(0,)))
    return out


def _grid_sample_bicubic(rng, dt):
    return [Sample((draw(rng, (1, 2, 4, 5), dt), draw(rng, (1, 2, 3, 2), dt, -1.3, 1.3)),
                   dict(mode="bicubic", padding_mode=pm, align_corners=ac))
            for pm in ("zeros", "border", "reflection") for ac in (False, True)]


def _affine_grid(rng, dt):
    return [Sample((draw(rng, (2, 2, 3), dt), (2, 3, 4, 5)), dict(align_corners=False)),
            Sample((draw(rng, (1, 3, 4), dt), (1, 1, 2, 3, 2)), dict(align_corners=True))]


def _pixel(rng, dt):
    return [Sample((draw(rng, (2, 8, 2, 3), dt), 2), {}), Sample((draw(rng, (9, 2, 1), dt), 3), {})]


def _unpixel(rng, dt):
    return [Sample((draw(rng, (2, 2, 4, 6), dt), 2), {})]


def _channel_shuffle(rng, dt):
    return [Sample((draw(rng, (2, 6, 3), dt), 3), {}), Sample((draw(rng, (1, 4, 2, 2), dt), 2), {})]


def _F(name, samples, **kw):
    return OpSpec("nn.functional." + name, samples=samples, **kw)


_ONES = np.ones
SPECS = [
    _F("linear", _linear, dtypes=("float32", "float64", "bfloat16")),
    _F("bilinear", _bilinear),
    _F("conv1d", _conv1d),
    _F("conv2d", _conv2d, dtypes=("float32", "float64", "bfloat16")),
    _F("conv3d", _conv3d),
    _F("conv_transpose1d", _conv_t1d),
    _F("conv_transpose2d", _conv_t2d),
    _F("conv_transpose3d", _conv_t3d),
    _F("unfold", _unfold),
    _F("fold", _fold),
    _F("max_pool1d", _pool((2, 3, 9), 3, stride=2, padding=1, ceil_mode=True)),
    _F("max_pool2d", _max_pool2d),
    _F("max_pool3d", _pool((1, 2, 4, 3, 5), 2, ceil_mode=True, return_indices=True)),
    _F("max_unpool2d", _max_unpool2d),
    _F("avg_pool1d", _pool((2, 3, 9), 3, stride=2, padding=1, count_include_pad=False)),
    _F("avg_pool2d", _avg_pool2d),
    _F("avg_pool3d", _pool((1, 2, 4, 3, 5), 2, padding=1, ceil_mode=True)),
    _F("adaptive_avg_pool1d", _adaptive((2, 3, 7), 4)),
    _F("adaptive_avg_pool2d", _adaptive((2, 2, 7, 5), (3, None))),
    _F("adaptive_avg_pool3d", _adaptive((1, 2, 5, 3, 4), (2, 2, 3))),
    _F("adaptive_max_pool1d", _adaptive((2, 3, 7), 4)),
    _F("adaptive_max_pool2d", _adaptive((2, 2, 7, 5), (3, 2))),
    _F("adaptive_max_pool2d_with_indices", _adaptive((2, 2, 5, 6), 4)),
    _F("lp_pool1d", _lp_pool((2, 3, 7), 2.0, 3, stride=2)),
    _F("lp_pool2d", _lp_pool((2, 2, 4, 5), 3.0, 2, ceil_mode=True)),
    _F("pad", _pad),
    _F("interpolate", _interp),
    _F("grid_sample", _grid_sample),
    # 16 taps summed in another order than PyTorch's: float32 grid gradients differ ~2e-5.
    _F("grid_sample", _grid_sample_bicubic, variant="bicubic", rtol=5e-5, atol=1e-5),
    _F("affine_grid", _affine_grid),
    _F("pixel_shuffle", _pixel),
    _F("pixel_unshuffle", _unpixel),
    _F("channel_shuffle", _channel_shuffle),
    _F("conv2d", None, variant="errors", dtypes=(), errors=[
        (Sample((_ONES((1, 3, 5, 5)), _ONES((4, 2, 3, 3)))), RuntimeError,
         "expected input.* to have 2 channels, but got 3"),
        (Sample((_ONES((1, 3, 2, 2)), _ONES((4, 3, 3, 3)))), RuntimeError,
         "Kernel size can't be greater than actual input size"),
        (Sample((_ONES((3, 5)), _ONES((4, 3, 3, 3)))), RuntimeError, "Expected 3D"),
        (Sample((_ONES((1, 3, 5, 5)), _ONES((4, 3, 3, 3))), dict(padding="same", stride=2)),
         RuntimeError, "padding='same' is not supported for strided convolutions"),
        (Sample((_ONES((1, 4, 5, 5)), _ONES((3, 2, 3, 3))), dict(groups=2)), RuntimeError,
         "expected weight to be divisible by 2"),
    ]),
    _F("linear", None, variant="errors", dtypes=(), errors=[
        (Sample((_ONES((2, 3)), _ONES((4, 5)))), RuntimeError,
         "mat1 and mat2 shapes cannot be multiplied"),
    ]),
    _F("pad", None, variant="errors", dtypes=(), errors=[
        (Sample((_ONES((1, 2, 3)), (3, 3)), dict(mode="reflect")), RuntimeError,
         "Padding size should be less than the corresponding input dimension"),
        (Sample((_ONES((1, 2, 3)), (1, 2, 3))), RuntimeError, "Padding length must be divisible"),
        (Sample((_ONES((1, 2, 3)), (1, 1)), dict(mode="reflect", value=2.0)), ValueError,
         "doesn't take in value argument"),
    ]),
    _F("max_pool2d", None, variant="errors", dtypes=(), errors=[
        (Sample((_ONES((1, 1, 4, 4)), 2), dict(padding=2)), RuntimeError,
         "pad should be at most half of effective kernel size"),
    ]),
    _F("interpolate", None, variant="errors", dtypes=(), errors=[
        (Sample((_ONES((1, 1, 4)),), dict(size=3, mode="nearest", align_corners=True)),
         ValueError, "align_corners option can only be set"),
        (Sample((_ONES((1, 1, 4)),), dict(size=3, scale_factor=2.0)), ValueError,
         "only one of size or scale_factor"),
    ]),
    _F("pixel_shuffle", None, variant="errors", dtypes=(), errors=[
        (Sample((_ONES((1, 5, 2, 2)), 2)), RuntimeError,
         "divisible by the square of upscale_factor"),
    ]),
    _F("affine_grid", None, variant="errors", dtypes=(), errors=[
        (Sample((_ONES((1, 2, 2)), (1, 1, 2, 2))), ValueError,
         "Expected a batch of 2D affine matrices of shape Nx2x3"),
    ]),
]
