"""Linear layers, convolution, pooling, padding, resampling: ops and F wrappers.

Convolution is three mutually-differentiating primitives on backend arrays:

- ``_Conv``          y = conv(x, w) (+ b)            im2col through strided windows + matmul
- ``_ConvInputGrad`` x-shaped = conv^T(g, w)         matmul + col2im (a loop over kernel offsets)
- ``_ConvWeightGrad`` w-shaped = corr(x, g)          im2col + matmul

Each one's backward is written with the other two, so gradients of any order exist (see Note
[Conv bilinearity]). conv_transpose is ``_ConvInputGrad``; avg_pool is a depthwise ``_Conv``
with a ones kernel; fold/unfold are col2im/im2col.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .._autocast import policy as _amp
from .._dispatch import Op, apply
from .._errors import fmt_shape
from ._names import named

__all__ = [
    "linear", "bilinear",
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "unfold", "fold",
    "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d",
    "max_unpool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "lp_pool1d",
    "lp_pool2d", "lp_pool3d",
    "pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample",
    "affine_grid", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle",
]

TENSOR_METHODS: dict = {}


# -- small helpers ------------------------------------------------------------------------------

def _tuple(v, n: int, what: str = "argument") -> tuple:
    if isinstance(v, numbers.Integral):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1 and n > 1:
        return v * n
    if len(v) != n:
        raise RuntimeError(f"expected {what} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got {what}="
                           f"{list(v)}")
    return v


def _strided(xp, a, shape, strides):
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


def _pad_array(xp, x, pads, value=0.0):
    """Pad the trailing len(pads) dims of x by (lo, hi) pairs (non-negative)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    lead = x.ndim - len(pads)
    out_shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], pads))
    out = xp.full(out_shape, value, dtype=x.dtype)
    sl = (slice(None),) * lead + tuple(slice(lo, lo + s) for s, (lo, _) in
                                       zip(x.shape[lead:], pads))
    out[sl] = x
    return out


def _windows(xp, xpad, out_sp, kernel, stride, dilation):
    """View (N, C, *out_sp, *kernel) of strided windows over padded xpad (N, C, *S)."""
    st = xpad.strides
    d = len(kernel)
    shape = xpad.shape[:2] + tuple(out_sp) + tuple(kernel)
    strides = st[:2] + tuple(st[2 + i] * stride[i] for i in range(d)) + \
        tuple(st[2 + i] * dilation[i] for i in range(d))
    return _strided(xp, xpad, shape, strides)


def _out_size(size, lo, hi, k, s, dil):
    return (size + lo + hi - dil * (k - 1) - 1) // s + 1


def _prod(shape) -> int:
    p = 1
    for s in shape:
        p *= int(s)
    return p


# -- linear -------------------------------------------------------------------------------------

# PyTorch's node for linear by input dims and bias: addmm or mm on 2-D input; other inputs go
# through matmul's folding (a view of an mm), 1-D input without bias through a squeeze.
_LINEAR_NAMES = {(1, True): "ViewBackward0", (1, False): "SqueezeBackward4",
                 (2, True): "AddmmBackward0", (2, False): "MmBackward0",
                 (3, True): "ViewBackward0", (3, False): "UnsafeViewBackward0"}


class Linear(Op):
    """y = x @ w.T + b in one call; backward is two matmuls and a sum."""
    name = "linear"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save(x, w)
        ctx.backward_name = _LINEAR_NAMES[min(x.ndim, 3), b is not None]
        y = x @ w.T
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        if grad.dtype != w.dtype:       # half inputs: forward ran on float32 copies (upcast)
            grad = grad.to(w.dtype)
        need = ctx.needs_input_grad
        gx = grad.matmul(w) if need[0] else None
        gw = gb = None
        if need[1]:
            if x.ndim == 1:
                gw = grad.unsqueeze(-1) * x if grad.ndim else grad * x
            else:
                gw = grad.reshape(-1, w.shape[0]).t().matmul(x.reshape(-1, w.shape[1]))
        if len(need) > 2 and need[2]:
            gb = grad.reshape(-1, w.shape[0]).sum(0) if grad.ndim > 1 else grad
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)


def _check_same_dtype(op, *tensors):
    dts = [t.dtype for t in tensors if t is not None]
    for t in tensors:
        if t is not None and not t.is_floating_point():
            raise RuntimeError(f"{op}: \"{op}\" not implemented for '{t.dtype}'; expected "
                               f"floating-point tensors")
    if any(d != dts[0] for d in dts):
        names = ", ".join(str(d) for d in dts)
        raise RuntimeError(f"{op}: expected all tensors to have the same dtype (mat1 and mat2 "
                           f"must have the same dtype), but got {names}")


@_amp("lower")
def linear(input, weight, bias=None):
    """y = input @ weight.T + bias.

    Args:
        input: (*, in_features).
        weight: (out_features, in_features) or (in_features,).
        bias: (out_features,) or None.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.linear(ember.ones(1, 2), ember.ones(3, 2)).shape
        torch.Size([1, 3])
    """
    _check_same_dtype("linear", input, weight, bias)
    in_f = weight.shape[-1]
    if input.ndim == 0 or input.shape[-1] != in_f:
        raise RuntimeError(f"linear: mat1 and mat2 shapes cannot be multiplied "
                           f"({_mat_shape(input)} and {in_f}x{_out_f(weight)}): input "
                           f"{fmt_shape(input.shape)} has {input.shape[-1] if input.ndim else 0} "
                           f"features, weight {fmt_shape(weight.shape)} expects {in_f}")
    if weight.ndim != 2:
        out = input.matmul(weight.t() if weight.ndim == 2 else weight)
        return out if bias is None else out + bias
    if bias is None:
        return apply(Linear, input, weight)
    return apply(Linear, input, weight, bias)


def _mat_shape(t) -> str:
    if t.ndim == 0:
        return "1x1"
    return f"{_prod(t.shape[:-1])}x{t.shape[-1]}"


def _out_f(w) -> int:
    return w.shape[0] if w.ndim == 2 else 1


@_amp("promote")
def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o].

    Args:
        input1: (*, in1_features). input2: (*, in2_features).
        weight: (out_features, in1_features, in2_features). bias: (out_features,) or None.
    """
    _check_same_dtype("bilinear", input1, input2, weight, bias)
    o, i1, i2 = weight.shape
    if input1.shape[-1] != i1 or input2.shape[-1] != i2:
        raise RuntimeError(f"bilinear: input1 {fmt_shape(input1.shape)} and input2 "
                           f"{fmt_shape(input2.shape)} do not match weight "
                           f"{fmt_shape(weight.shape)}: expected last dims {i1} and {i2}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 {fmt_shape(input1.shape)} and input2 "
                           f"{fmt_shape(input2.shape)} must have the same batch dims")
    u = input1.matmul(weight.permute(1, 0, 2).reshape(i1, o * i2))
    u = u.reshape(*input1.shape[:-1], o, i2)
    y = (u * input2.unsqueeze(-2)).sum(-1)
    # PyTorch's _trilinear ends in a view; the bias is added after it
    return named(y, "ViewBackward0") if bias is None else y + bias


# -- convolution primitives on arrays -----------------------------------------------------------

# Note [2-D BLAS only]
# NumPy's stacked matmul (3-D operands, or a broadcast 2-D one) does not reach BLAS here and
# runs ~40x slower than one 2-D product. Every product below is therefore a single 2-D
# matmul in Caffe's layout: columns (C*prod(K), N*P) whose innermost axis is the output
# position, so the im2col copy and the col2im adds read memory in order (an (N*P, C*K)
# layout copies ~10x slower). Python loops run over groups and kernel offsets only.

def _im2cols(xp, win, O, K):
    """(C*prod(K), N*P) columns (a copy) from windows (N, C, *O, *K)."""
    d = len(O)
    N, C = win.shape[:2]
    perm = (1,) + tuple(range(2 + d, 2 + 2 * d)) + (0,) + tuple(range(2, 2 + d))
    return xp.ascontiguousarray(win.transpose(perm)).reshape(C * _prod(K), N * _prod(O))


def _channels_first(xp, g):
    """(N, C, *O) -> (C, N*P) (a copy)."""
    return xp.ascontiguousarray(xp.swapaxes(g, 0, 1)).reshape(g.shape[1], -1)


def _batch_first(xp, y, N, O):
    """(C, N*P) -> contiguous (N, C, *O)."""
    return xp.ascontiguousarray(xp.swapaxes(y.reshape((y.shape[0], N) + tuple(O)), 0, 1))


def _grouped(xp, a, b, groups, transpose_a=False, transpose_b=False):
    """Per group: a(group rows) @ b(group rows), stacked by rows."""
    if groups == 1:
        return (a.T if transpose_a else a) @ (b.T if transpose_b else b)
    ra, rb = a.shape[0] // groups, b.shape[0] // groups
    parts = []
    for g in range(groups):
        ag = a[g * ra:(g + 1) * ra]
        bg = b[g * rb:(g + 1) * rb]
        parts.append((ag.T if transpose_a else ag) @ (bg.T if transpose_b else bg))
    return xp.concatenate(parts, axis=0)


def _is_pointwise(K, stride, pads, groups):
    return all(k == 1 for k in K) and groups == 1 and all(s == 1 for s in stride) and \
        not any(lo or hi for lo, hi in pads)


def _offset_loop(Cg, G, Co) -> bool:
    """Depthwise convs (and avg-pool's single-channel one) loop over kernel offsets with
    elementwise multiply-adds; everything else is one im2col GEMM."""
    return Cg == 1 and (G > 1 or Co == 1)


def _conv_fwd(xp, x, w, stride, pads, dilation, groups):
    N, C = x.shape[:2]
    sp = x.shape[2:]
    Co, Cg = w.shape[:2]
    K = w.shape[2:]
    G = groups
    Og = Co // G
    d = len(sp)
    O = tuple(_out_size(sp[i], pads[i][0], pads[i][1], K[i], stride[i], dilation[i])
              for i in range(d))
    if _is_pointwise(K, stride, pads, G):
        y = xp.tensordot(w.reshape(Co, C), x.reshape(N, C, _prod(O)), axes=([1], [1]))
        return xp.ascontiguousarray(y.transpose(1, 0, 2)).reshape((N, Co) + O)
    xpad = _pad_array(xp, x, pads)
    win = _windows(xp, xpad, O, K, stride, dilation)
    if _offset_loop(Cg, G, Co):
        # Depthwise (and avg-pool): one multiply-add per kernel offset, no im2col copy.
        m = Og
        y = xp.zeros((N, G, m) + O, dtype=x.dtype)
        tmp = xp.empty_like(y)
        wk = w.reshape((G, m, _prod(K)) + (1,) * d)
        for k, idx in enumerate(np.ndindex(*K)):
            xs = win[(slice(None), slice(None)) + (slice(None),) * d + idx]
            xp.multiply(xs.reshape((N, G, 1) + O), wk[:, :, k], out=tmp)
            y += tmp
        return y.reshape((N, Co) + O)
    cols = _im2cols(xp, win, O, K)                                   # (C*K, N*P)
    y = _grouped(xp, w.reshape(Co, Cg * _prod(K)), cols, G)          # (Co, N*P)
    return _batch_first(xp, y, N, O)


def _col2im(xp, col, x_shape, K, O, stride, pads, dilation, dtype):
    """Sum columns (N, C, *K, *O) back into an (N, C, *S) array: the adjoint of im2col."""
    N, C = x_shape[:2]
    sp = x_shape[2:]
    d = len(sp)
    padded = (N, C) + tuple(sp[i] + pads[i][0] + pads[i][1] for i in range(d))
    out = xp.zeros(padded, dtype=dtype)
    for idx in np.ndindex(*K):
        sl = tuple(slice(idx[i] * dilation[i], idx[i] * dilation[i] + stride[i] * (O[i] - 1) + 1,
                         stride[i]) for i in range(d))
        out[(slice(None), slice(None)) + sl] += col[(slice(None), slice(None)) + idx]
    if any(lo or hi for lo, hi in pads):
        out = out[(slice(None), slice(None)) + tuple(
            slice(pads[i][0], pads[i][0] + sp[i]) for i in range(d))]
    return out


def _col2im_cols(xp, cols, x_shape, K, O, stride, pads, dilation):
    """col2im from (C*prod(K), N*P) columns: sums into a (C, N, *S) buffer (adds read and
    write in memory order), then one transpose to (N, C, *S)."""
    N, C = x_shape[:2]
    sp = x_shape[2:]
    d = len(sp)
    c = cols.reshape((C, _prod(K), N) + tuple(O))
    out = xp.zeros((C, N) + tuple(sp[i] + pads[i][0] + pads[i][1] for i in range(d)),
                   dtype=cols.dtype)
    for k, idx in enumerate(np.ndindex(*K)):
        sl = tuple(slice(idx[i] * dilation[i], idx[i] * dilation[i] + stride[i] * (O[i] - 1) + 1,
                         stride[i]) for i in range(d))
        out[(slice(None), slice(None)) + sl] += c[:, k]
    out = out[(slice(None), slice(None)) + tuple(slice(pads[i][0], pads[i][0] + sp[i])
                                                 for i in range(d))]
    return xp.ascontiguousarray(xp.swapaxes(out, 0, 1))


def _conv_input_grad(xp, g, w, x_shape, stride, pads, dilation, groups):
    N, Co = g.shape[:2]
    O = tuple(g.shape[2:])
    Cg = w.shape[1]
    K = tuple(w.shape[2:])
    G = groups
    Og = Co // G
    d = len(O)
    C = Cg * G
    if _is_pointwise(K, stride, pads, G) and tuple(x_shape[2:]) == O:
        gx = xp.tensordot(w.reshape(Co, C), g.reshape(N, Co, _prod(O)), axes=([0], [1]))
        return xp.ascontiguousarray(gx.transpose(1, 0, 2)).reshape(x_shape)
    if _offset_loop(Cg, G, Co):
        # Depthwise: each kernel offset adds g * w[k] into a strided slice of the input grad.
        m = Og
        gg = g.reshape((N, G, m) + O)
        wk = w.reshape((G, m, _prod(K)) + (1,) * d)
        sp = x_shape[2:]
        out = xp.zeros((N, C) + tuple(sp[i] + pads[i][0] + pads[i][1] for i in range(d)),
                       dtype=g.dtype)
        tmp = xp.empty((N, G) + O, dtype=g.dtype)
        for k, idx in enumerate(np.ndindex(*K)):
            sl = tuple(slice(idx[i] * dilation[i],
                             idx[i] * dilation[i] + stride[i] * (O[i] - 1) + 1, stride[i])
                       for i in range(d))
            if m == 1:
                xp.multiply(gg[:, :, 0], wk[:, 0, k], out=tmp)
                out[(slice(None), slice(None)) + sl] += tmp
            else:
                out[(slice(None), slice(None)) + sl] += (gg * wk[:, :, k]).sum(axis=2)
        return out[(slice(None), slice(None)) + tuple(slice(pads[i][0], pads[i][0] + sp[i])
                                                      for i in range(d))]
    gc = _channels_first(xp, g)                                      # (Co, N*P)
    cols = _grouped(xp, w.reshape(Co, Cg * _prod(K)), gc, G, transpose_a=True)   # (C*K, N*P)
    return _col2im_cols(xp, cols, x_shape, K, O, stride, pads, dilation)


def _conv_weight_grad(xp, x, g, w_shape, stride, pads, dilation, groups):
    N, C = x.shape[:2]
    Co = g.shape[1]
    O = tuple(g.shape[2:])
    Cg = w_shape[1]
    K = tuple(w_shape[2:])
    G = groups
    Og = Co // G
    d = len(O)
    P = _prod(O)
    if _is_pointwise(K, stride, pads, G) and tuple(x.shape[2:]) == O:
        gw = xp.tensordot(g.reshape(N, Co, P), x.reshape(N, C, P), axes=([0, 2], [0, 2]))
        return gw.reshape(w_shape)
    xpad = _pad_array(xp, x, pads)
    win = _windows(xp, xpad, O, K, stride, dilation)
    if _offset_loop(Cg, G, Co):
        m = Og
        gg = g.reshape((N, G, m) + O)
        gw = xp.empty((G, m) + K, dtype=g.dtype)
        sp = "xyz"[:d]
        spec = f"ngm{sp},ng{sp}->gm"
        for idx in np.ndindex(*K):
            xs = win[(slice(None), slice(None)) + (slice(None),) * d + idx]
            gw[(slice(None), slice(None)) + idx] = xp.einsum(spec, gg, xs)
        return gw.reshape(w_shape)
    cols = _im2cols(xp, win, O, K)                                   # (C*K, N*P)
    gc = _channels_first(xp, g)                                      # (Co, N*P)
    return _grouped(xp, gc, cols, G, transpose_b=True).reshape(w_shape)


# Note [Conv bilinearity]
# conv(x, w) is linear in x and in w. With ci = _ConvInputGrad and cw = _ConvWeightGrad:
#   <conv(x, w), g> = <x, ci(g, w)> = <w, cw(x, g)>
# so d conv = (ci(g, w), cw(x, g)); d ci(g, w) = (conv(h, w), cw(h, g));
# d cw(x, g) = (ci(g, h), conv(x, h)). Every derivative is one of the three ops again.

def _bias_sum(g):
    return g.sum((0,) + tuple(range(2, g.ndim)))


class _Conv(Op):
    """N-d cross-correlation of x (N, C, *S) with w (Co, C/groups, *K), plus bias."""
    name = "convolution"
    backward_name = "ConvolutionBackward0"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, pads, dilation, groups):
        ctx.attrs = (stride, pads, dilation, groups)
        ctx.save(x, w)
        y = _conv_fwd(ctx.xp, x, w, stride, pads, dilation, groups)
        if b is not None:
            y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
        return y

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.attrs
        need = ctx.needs_input_grad
        kw = dict(stride=stride, pads=pads, dilation=dilation, groups=groups)
        gx = apply(_ConvInputGrad, grad, w, x_shape=tuple(x.shape), **kw) if need[0] else None
        gw = apply(_ConvWeightGrad, x, grad, w_shape=tuple(w.shape), **kw) if need[1] else None
        if len(need) > 2:
            return gx, gw, (_bias_sum(grad) if need[2] else None)
        return gx, gw


class _ConvInputGrad(Op):
    """conv^T: the gradient of conv with respect to its input (and conv_transpose)."""
    name = "conv_transpose"
    backward_name = "ConvolutionBackward0"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, g, w, b=None, *, x_shape, stride, pads, dilation, groups):
        ctx.attrs = (stride, pads, dilation, groups)
        ctx.save(g, w)
        y = _conv_input_grad(ctx.xp, g, w, x_shape, stride, pads, dilation, groups)
        if b is not None:
            y += b.reshape((1, -1) + (1,) * (y.ndim - 2))
        return y

    @staticmethod
    def backward(ctx, h):
        g, w = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.attrs
        need = ctx.needs_input_grad
        kw = dict(stride=stride, pads=pads, dilation=dilation, groups=groups)
        dg = dw = None
        if need[0]:
            dg = apply(_Conv, h, w, **kw)
            if tuple(dg.shape) != tuple(g.shape):     # output_padding: trailing rows unused
                dg = dg[(slice(None), slice(None)) + tuple(slice(0, s) for s in g.shape[2:])]
        if need[1]:
            dw = apply(_ConvWeightGrad, h, g, w_shape=tuple(w.shape), **kw)
        if len(need) > 2:
            return dg, dw, (_bias_sum(h) if need[2] else None)
        return dg, dw


class _ConvWeightGrad(Op):
    """The gradient of conv with respect to its weight: correlation of x with g."""
    name = "convolution_weight_grad"
    backward_name = "ConvolutionBackward0"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, x, g, *, w_shape, stride, pads, dilation, groups):
        ctx.attrs = (stride, pads, dilation, groups)
        ctx.save(x, g)
        return _conv_weight_grad(ctx.xp, x, g, w_shape, stride, pads, dilation, groups)

    @staticmethod
    def backward(ctx, h):
        x, g = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.attrs
        need = ctx.needs_input_grad
        kw = dict(stride=stride, pads=pads, dilation=dilation, groups=groups)
        dx = apply(_ConvInputGrad, g, h, x_shape=tuple(x.shape), **kw) if need[0] else None
        dg = None
        if need[1]:
            dg = apply(_Conv, x, h, **kw)
            if tuple(dg.shape) != tuple(g.shape):
                dg = dg[(slice(None), slice(None)) + tuple(slice(0, s) for s in g.shape[2:])]
        return dx, dg


# -- conv wrappers ------------------------------------------------------------------------------

_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def _batchify(op, input, d):
    """Add a batch dim to an unbatched input; error on a wrong rank."""
    if input.ndim == d + 2:
        return input, False
    if input.ndim == d + 1:
        return input.unsqueeze(0), True
    unb = "(C, " + _LAYOUT[d][4:]
    raise RuntimeError(f"{op}: Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to "
                       f"{op}, but got input of size: {list(input.shape)} (expected a "
                       f"{unb} or {_LAYOUT[d]} input, got {fmt_shape(input.shape)})")


def _same_pads(op, K, stride, dilation):
    if any(s != 1 for s in stride):
        raise RuntimeError(f"{op}: padding='same' is not supported for strided convolutions")
    pads = []
    for k, dl in zip(K, dilation):
        total = dl * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _conv_pads(op, padding, K, stride, dilation):
    d = len(K)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding == "same":
            return _same_pads(op, K, stride, dilation)
        raise ValueError(f"{op}: Invalid padding string '{padding}', should be one of "
                         "['valid', 'same']")
    p = _tuple(padding, d, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported, got padding={list(p)}")
    return tuple((v, v) for v in p)


def _convnd(op, d, input, weight, bias, stride, padding, dilation, groups):
    _check_same_dtype(op, input, weight, bias)
    x, unbatched = _batchify(op, input, d)
    if weight.ndim != d + 2:
        raise RuntimeError(f"{op}: Expected {d + 2}-dimensional weight for {d + 2}-dimensional "
                           f"input {list(x.shape)}, but got {weight.ndim}-dimensional weight of "
                           f"size {list(weight.shape)}")
    stride = _tuple(stride, d, "stride")
    dilation = _tuple(dilation, d, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: non-positive stride is not supported, got {list(stride)}")
    if groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got {groups}")
    K = tuple(weight.shape[2:])
    pads = _conv_pads(op, padding, K, stride, dilation)
    C = x.shape[1]
    if weight.shape[0] % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if weight.shape[1] * groups != C:
        raise RuntimeError(f"{op}: Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {weight.shape[1] * groups} "
                           f"channels, but got {C} channels instead")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"{op}: Given weight of size {list(weight.shape)}, expected bias to "
                           f"be 1-dimensional with {weight.shape[0]} elements, but got bias of "
                           f"size {list(bias.shape)} instead")
    for i in range(d):
        eff = dilation[i] * (K[i] - 1) + 1
        size = x.shape[2 + i] + pads[i][0] + pads[i][1]
        if size < eff:
            raise RuntimeError(
                f"{op}: Calculated padded input size per channel: "
                f"({' x '.join(str(x.shape[2 + j] + sum(pads[j])) for j in range(d))}). Kernel "
                f"size: ({' x '.join(str(dilation[j] * (K[j] - 1) + 1) for j in range(d))}). "
                "Kernel size can't be greater than actual input size")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = apply(_Conv, *args, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return y.squeeze(0) if unbatched else y


@_amp("lower")
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over (N, C, L) or (C, L).

    Args:
        input: (N, C_in, L). weight: (C_out, C_in/groups, kL). bias: (C_out,) or None.
        stride, padding (int, tuple, 'same' or 'valid'), dilation, groups: as in PyTorch.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.conv1d(ember.ones(1, 1, 4), ember.ones(1, 1, 2)).tolist()
        [[[2.0, 2.0, 2.0]]]
    """
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@_amp("lower")
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C, H, W) or (C, H, W).

    Args:
        input: (N, C_in, H, W). weight: (C_out, C_in/groups, kH, kW). bias: (C_out,) or None.
        stride, padding (int, tuple, 'same' or 'valid'), dilation, groups: as in PyTorch.
    """
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@_amp("lower")
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution (cross-correlation) over (N, C, D, H, W) or (C, D, H, W)."""
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, d, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    _check_same_dtype(op, input, weight, bias)
    x, unbatched = _batchify(op, input, d)
    if weight.ndim != d + 2:
        raise RuntimeError(f"{op}: Expected {d + 2}-dimensional weight for {d + 2}-dimensional "
                           f"input {list(x.shape)}, but got {weight.ndim}-dimensional weight of "
                           f"size {list(weight.shape)}")
    stride = _tuple(stride, d, "stride")
    dilation = _tuple(dilation, d, "dilation")
    if isinstance(padding, str):
        raise RuntimeError(f"{op}: padding='{padding}' is not supported for conv_transpose; "
                           "pass integers")
    pad = _tuple(padding, d, "padding")
    out_pad = _tuple(output_padding, d, "output_padding")
    for i in range(d):
        if out_pad[i] >= stride[i] and out_pad[i] >= dilation[i]:
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={list(out_pad)}, stride="
                               f"{list(stride)}, dilation={list(dilation)}")
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"{op}: Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {weight.shape[0]} channels, "
                           f"but got {x.shape[1]} channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    K = weight.shape[2:]
    c_out = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (c_out,):
        raise RuntimeError(f"{op}: Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected bias to be 1-dimensional with {c_out} elements, but got "
                           f"bias of size {list(bias.shape)} instead")
    out_sp = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * pad[i] + dilation[i] * (K[i] - 1)
                   + out_pad[i] + 1 for i in range(d))
    if any(s <= 0 for s in out_sp):
        raise RuntimeError(f"{op}: Given input size per channel: {list(x.shape[2:])}. "
                           f"Calculated output size per channel: {list(out_sp)}. Output size "
                           "is too small")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = apply(_ConvInputGrad, *args, x_shape=(x.shape[0], c_out) + out_sp, stride=stride,
              pads=tuple((p, p) for p in pad), dilation=dilation, groups=groups)
    return y.squeeze(0) if unbatched else y


@_amp("lower")
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution ("deconvolution"): the gradient of conv1d w.r.t. its input.

    Args:
        input: (N, C_in, L). weight: (C_in, C_out/groups, kL). bias: (C_out,) or None.
    """
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


@_amp("lower")
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution: the gradient of conv2d w.r.t. its input.

    Args:
        input: (N, C_in, H, W). weight: (C_in, C_out/groups, kH, kW). bias: (C_out,) or None.
    """
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


@_amp("lower")
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution: the gradient of conv3d w.r.t. its input."""
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# -- unfold / fold (im2col / col2im) ------------------------------------------------------------

class _Unfold(Op):
    """im2col: (N, C, *S) -> (N, C*prod(K), L) sliding blocks."""
    name = "im2col"
    backward_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, *, kernel, stride, pads, dilation):
        ctx.attrs = (kernel, stride, pads, dilation, tuple(x.shape))
        xp = ctx.xp
        N, C = x.shape[:2]
        d = len(kernel)
        O = tuple(_out_size(x.shape[2 + i], pads[i][0], pads[i][1], kernel[i], stride[i],
                            dilation[i]) for i in range(d))
        win = _windows(xp, _pad_array(xp, x, pads), O, kernel, stride, dilation)
        perm = (0, 1) + tuple(range(2 + d, 2 + 2 * d)) + tuple(range(2, 2 + d))
        col = xp.ascontiguousarray(win.transpose(perm))
        return col.reshape(N, C * _prod(kernel), _prod(O))

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, pads, dilation, x_shape = ctx.attrs
        return apply(_Fold, grad, kernel=kernel, stride=stride, pads=pads, dilation=dilation,
                     x_shape=x_shape)


class _Fold(Op):
    """col2im: sums (N, C*prod(K), L) blocks into (N, C, *S)."""
    name = "col2im"
    backward_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, col, *, kernel, stride, pads, dilation, x_shape):
        ctx.attrs = (kernel, stride, pads, dilation, x_shape)
        d = len(kernel)
        O = tuple(_out_size(x_shape[2 + i], pads[i][0], pads[i][1], kernel[i], stride[i],
                            dilation[i]) for i in range(d))
        N, C = x_shape[:2]
        c = col.reshape((N, C) + tuple(kernel) + O)
        return _col2im(ctx.xp, c, x_shape, kernel, O, stride, pads, dilation, col.dtype)

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, pads, dilation, _ = ctx.attrs
        return apply(_Unfold, grad, kernel=kernel, stride=stride, pads=pads, dilation=dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: (N, C, H, W) -> (N, C*kH*kW, L) (im2col).

    Args:
        input: (N, C, H, W) or (C, H, W). kernel_size, dilation, padding, stride: int or pair.
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"unfold: Input Error: Only 3D or 4D input Tensors are supported "
                           f"(got {input.ndim}D) (input {fmt_shape(input.shape)})")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)
    kernel = _tuple(kernel_size, 2, "kernel_size")
    dil = _tuple(dilation, 2, "dilation")
    pad = _tuple(padding, 2, "padding")
    st = _tuple(stride, 2, "stride")
    for i in range(2):
        if _out_size(x.shape[2 + i], pad[i], pad[i], kernel[i], st[i], dil[i]) < 1:
            raise RuntimeError(f"unfold: Given input with spatial size {list(x.shape[2:])}, "
                               f"kernel_size={list(kernel)}, dilation={list(dil)}, padding="
                               f"{list(pad)}, calculated shape of the array of sliding blocks "
                               "is non-positive")
    y = apply(_Unfold, x, kernel=kernel, stride=st, pads=tuple((p, p) for p in pad),
              dilation=dil)
    return named(y.squeeze(0), "Im2ColBackward0") if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding blocks into a tensor, summing overlaps: (N, C*kH*kW, L) -> (N, C, H, W).

    Args:
        input: (N, C*prod(kernel_size), L) or unbatched (C*prod(kernel_size), L).
        output_size: (H, W) of the result.
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(f"fold: Input Error: Only unbatched (2D) or batched (3D) input "
                           f"Tensors are supported (got {input.ndim}D)")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 2 else (input, False)
    out = _tuple(output_size, 2, "output_size")
    kernel = _tuple(kernel_size, 2, "kernel_size")
    dil = _tuple(dilation, 2, "dilation")
    pad = _tuple(padding, 2, "padding")
    st = _tuple(stride, 2, "stride")
    kp = kernel[0] * kernel[1]
    if x.shape[1] % kp:
        raise RuntimeError(f"fold: Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size={tuple(kernel)}")
    blocks = [_out_size(out[i], pad[i], pad[i], kernel[i], st[i], dil[i]) for i in range(2)]
    if blocks[0] * blocks[1] != x.shape[2]:
        raise RuntimeError(f"fold: Given output_size={tuple(out)}, kernel_size={tuple(kernel)}, "
                           f"dilation={tuple(dil)}, padding={tuple(pad)}, stride={tuple(st)}, "
                           f"expected size of input's dimension 2 to match the calculated number "
                           f"of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{blocks[0] * blocks[1]}, but got input.size(2)={x.shape[2]}.")
    y = apply(_Fold, x, kernel=kernel, stride=st, pads=tuple((p, p) for p in pad), dilation=dil,
              x_shape=(x.shape[0], x.shape[1] // kp) + out)
    return named(y.squeeze(0), "Col2ImBackward0") if unbatched else y


# -- max pooling --------------------------------------------------------------------------------

def _window_argmax(xp, win, O, K, positions, in_sp):
    """Max over the trailing kernel dims of win (N, C, *O, *K) and the flat input index of it.

    positions[i] is an (O_i, K_i) array of input coordinates along spatial dim i."""
    lead = win.shape[:2]
    d = len(O)
    flat = win.reshape(lead + tuple(O) + (_prod(K),))
    am = flat.argmax(axis=-1)
    vals = xp.take_along_axis(flat, am[..., None], axis=-1)[..., 0]
    index = xp.zeros(am.shape, dtype=np.int64)
    rem = am
    mult = 1
    for i in range(d - 1, -1, -1):
        k_i = rem % K[i]
        rem = rem // K[i]
        o_i = xp.arange(O[i]).reshape((O[i],) + (1,) * (d - 1 - i))
        index += positions[i][o_i, k_i] * mult
        mult *= in_sp[i]
    return vals, index


def _strided_max(xp, win, O, K, stride, pads, dilation, in_sp, floating):
    """Running max over kernel offsets of windows (N, C, *O, *K), and the flat plane index of
    the winner. PyTorch's rule: a later element wins if it is larger or NaN (so ties keep
    the first, and NaN propagates). No window copy: each offset is a strided view."""
    d = len(O)
    lead = win.shape[:2 + d]
    vals = None
    kidx = xp.zeros(lead, dtype=np.int32)
    for k, idx in enumerate(np.ndindex(*K)):
        s = win[(slice(None),) * (2 + d) + idx]
        if vals is None:
            vals = s.copy()
            continue
        better = s > vals
        if floating:
            better |= s != s
        xp.copyto(vals, s, where=better)
        xp.copyto(kidx, k, where=better)
    # Flat index = start of the window + offset of the winning kernel element.
    base = None
    table = np.zeros(_prod(K), dtype=np.int64)
    mult = 1
    for i in range(d - 1, -1, -1):
        start = (np.arange(O[i]) * stride[i] - pads[i][0]).reshape((O[i],) + (1,) * (d - 1 - i))
        base = start * mult if base is None else base + start * mult
        offs = np.arange(K[i]) * dilation[i] * mult
        table = table + np.broadcast_to(
            offs.reshape((1,) * i + (K[i],) + (1,) * (d - 1 - i)), K).reshape(-1)
        mult *= in_sp[i]
    index = xp.asarray(base) + xp.asarray(table)[kidx]
    if floating and any(lo for lo, _ in pads):
        # A window whose max is -inf: PyTorch reports its first element inside the input.
        first = None
        mult = 1
        for i in range(d - 1, -1, -1):
            start = np.arange(O[i]) * stride[i] - pads[i][0]
            k0 = np.where(start < 0, -(start // dilation[i]), 0)
            pos = (start + k0 * dilation[i]).reshape((O[i],) + (1,) * (d - 1 - i))
            first = pos * mult if first is None else first + pos * mult
            mult *= in_sp[i]
        index = xp.where(vals == -np.inf, xp.asarray(first), index)
    return vals, index


class _MaxPool(Op):
    """Max over strided windows; returns (values, flat indices into each input plane)."""
    name = "max_pool"
    backward_name = "MaxPoolWithIndicesBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, x, *, kernel, stride, pads, dilation):
        xp = ctx.xp
        d = len(kernel)
        in_sp = x.shape[2:]
        O = tuple(_out_size(in_sp[i], pads[i][0], pads[i][1], kernel[i], stride[i],
                            dilation[i]) for i in range(d))
        fill = -np.inf if x.dtype.kind in "fV" else np.iinfo(x.dtype).min
        xpad = _pad_array(xp, x, pads, fill)
        win = _windows(xp, xpad, O, kernel, stride, dilation)
        vals, index = _strided_max(xp, win, O, kernel, stride, pads, dilation, in_sp,
                                   x.dtype.kind in "fV")
        ctx.x_shape = tuple(x.shape)
        # Windows that cannot overlap: every input element has at most one gradient source.
        ctx.unique = all(st >= dl * (k - 1) + 1 for st, dl, k in zip(stride, dilation, kernel))
        ctx.save(index)
        return vals, index

    @staticmethod
    def backward(ctx, grad, _gi=None):
        (index,) = ctx.saved_tensors
        return _scatter_planes(grad, index, ctx.x_shape, ctx.unique)


def _scatter_planes(grad, index, x_shape, unique=False):
    """Sum grad (N, C, *O) into zeros (N, C, *S) at flat plane indices (differentiable)."""
    if grad is None:
        return None
    return apply(_PlaneScatter, grad, index, x_shape=x_shape, unique=unique)


class _PlaneScatter(Op):
    """out[n, c].flat[index[n, c, o]] += g[n, c, o]: the max-pool input gradient.

    ``unique`` (non-overlapping windows) allows a plain assignment instead of np.add.at."""
    name = "max_pool_backward"
    backward_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, g, index, *, x_shape, unique):
        xp = ctx.xp
        ctx.save(index)
        N, C = x_shape[:2]
        plane = _prod(x_shape[2:])
        rows = index.reshape(N * C, _prod(index.shape[2:]))
        flat_idx = (rows + (xp.arange(N * C, dtype=np.int64) * plane)[:, None]).reshape(-1)
        out = xp.zeros(N * C * plane, dtype=g.dtype)
        if unique:
            out[flat_idx] = g.reshape(-1)
        elif xp is np:
            np.add.at(out, flat_idx, g.reshape(-1))
        else:
            import cupyx
            cupyx.scatter_add(out, flat_idx, g.reshape(-1))
        return out.reshape(x_shape)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        N, C = grad.shape[:2]
        vals = grad.reshape(N, C, _prod(grad.shape[2:])).gather(
            2, index.reshape(N, C, _prod(index.shape[2:])))
        return vals.reshape(index.shape), None


def _pool_input(op, input, d, allow_unbatched=True):
    if input.ndim == d + 2:
        return input, False
    if input.ndim == d + 1 and allow_unbatched:
        return input.unsqueeze(0), True
    raise RuntimeError(f"{op}: Expected {d + 1}D or {d + 2}D (batch mode) tensor for input, "
                       f"got {fmt_shape(input.shape)} ({_LAYOUT[d]} or unbatched)")


def _pool_geometry(op, d, in_sp, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _tuple(kernel_size, d, "kernel_size")
    stride = kernel if (stride is None or (not isinstance(stride, int) and len(stride) == 0)) \
        else _tuple(stride, d, "stride")
    pad = _tuple(padding, d, "padding")
    dil = _tuple(dilation, d, "dilation")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got "
                           f"{list(kernel)}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"{op}: stride must be greater than zero, but got {list(stride)}")
    for i in range(d):
        if pad[i] < 0 or pad[i] > kernel[i] // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but "
                               f"got pad={pad[i]}, kernel_size={kernel[i]} and dilation="
                               f"{dil[i]}")
    out, pads = [], []
    for i in range(d):
        eff = dil[i] * (kernel[i] - 1) + 1
        span = in_sp[i] + 2 * pad[i] - eff
        o = (span + (stride[i] - 1 if ceil_mode else 0)) // stride[i] + 1
        if ceil_mode and (o - 1) * stride[i] >= in_sp[i] + pad[i]:
            o -= 1                  # the last window must start inside the input or left pad
        if o < 1:
            raise RuntimeError(f"{op}: Given input size: {list(in_sp)}. Calculated output size: "
                               f"{o}. Output size is too small")
        out.append(o)
        hi = max((o - 1) * stride[i] + eff - in_sp[i] - pad[i], pad[i])
        pads.append((pad[i], hi))
    return kernel, stride, pad, dil, tuple(out), tuple(pads)


def _max_poolnd(op, d, input, kernel_size, stride, padding, dilation, ceil_mode):
    x, unbatched = _pool_input(op, input, d)
    kernel, stride, _, dil, _, pads = _pool_geometry(op, d, x.shape[2:], kernel_size, stride,
                                                     padding, dilation, ceil_mode)
    vals, index = apply(_MaxPool, x, kernel=kernel, stride=stride, pads=pads, dilation=dil)
    if unbatched:
        vals, index = vals.squeeze(0), index.squeeze(0)
    # PyTorch pools 1-D as 2-D and squeezes; 2-D and 3-D have their own kernels (batched or not)
    return named(vals, _POOL_NAMES[d].format(f"MaxPool{d}DWithIndicesBackward0")), index


_POOL_NAMES = {1: "SqueezeBackward1", 2: "{}", 3: "{}"}


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """1-D max pooling returning (values, indices)."""
    return _max_poolnd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """2-D max pooling returning (values, indices)."""
    return _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """3-D max pooling returning (values, indices)."""
    return _max_poolnd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L).

    Args:
        kernel_size, stride (default kernel_size), padding (implicit -inf), dilation,
        ceil_mode, return_indices: as in PyTorch.
    """
    out = _max_poolnd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W).

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.max_pool2d(ember.arange(16.).reshape(1, 1, 4, 4), 2).tolist()
        [[[[5.0, 7.0], [13.0, 15.0]]]]
    """
    out = _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling over (N, C, D, H, W)."""
    out = _max_poolnd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def _max_unpoolnd(op, d, input, indices, kernel_size, stride, padding, output_size):
    from .creation import zeros
    x, unbatched = _pool_input(op, input, d)
    idx = indices.unsqueeze(0) if unbatched else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input "
                           f"tensor ({fmt_shape(x.shape)}) but got indices tensor with shape: "
                           f"{fmt_shape(idx.shape)}")
    kernel = _tuple(kernel_size, d, "kernel_size")
    stride = kernel if stride is None else _tuple(stride, d, "stride")
    pad = _tuple(padding, d, "padding")
    default = tuple((x.shape[2 + i] - 1) * stride[i] - 2 * pad[i] + kernel[i] for i in range(d))
    if output_size is None:
        out_sp = default
    else:
        out_sp = tuple(int(s) for s in output_size)
        if len(out_sp) == d + 2:
            out_sp = out_sp[2:]
        elif len(out_sp) == d + 1:
            out_sp = out_sp[1:]
        if len(out_sp) != d:
            raise ValueError(f"{op}: output_size should be a sequence containing {d} or {d + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for i in range(d):
            lo, hi = default[i] - stride[i], default[i] + stride[i]
            if not lo < out_sp[i] < hi:
                raise ValueError(f"{op}: invalid output_size \"{list(output_size)}\" (dim {i} "
                                 f"must be between {lo} and {hi})")
    N, C = x.shape[:2]
    plane = _prod(out_sp)
    if idx.numel() and (int(idx.max()) >= plane or int(idx.min()) < 0):
        raise RuntimeError(f"{op}: Found an invalid max index: {int(idx.max())} (output volumes "
                           f"are of size {'x'.join(str(s) for s in out_sp)})")
    flat = zeros(N, C, plane, dtype=x.dtype, device=x.device)
    n_in = _prod(x.shape[2:])
    y = flat.scatter(2, idx.reshape(N, C, n_in), x.reshape(N, C, n_in)).reshape((N, C) + out_sp)
    y = y.squeeze(0) if unbatched else y
    return named(y, _POOL_NAMES[d].format(f"MaxUnpool{d}DBackward0"))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: values placed at indices, zeros elsewhere."""
    return _max_unpoolnd("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: values placed at indices, zeros elsewhere."""
    return _max_unpoolnd("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                         output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d: values placed at indices, zeros elsewhere."""
    return _max_unpoolnd("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                         output_size)


# -- average pooling ----------------------------------------------------------------------------

def _avg_divisor(xp, d, in_sp, out_sp, kernel, stride, pad, count_include_pad, dtype):
    """Per-output-position divisor (separable: a product of 1-D counts)."""
    div = None
    for i in range(d):
        start = np.arange(out_sp[i]) * stride[i] - pad[i]
        end = np.minimum(start + kernel[i], in_sp[i] + pad[i])
        if count_include_pad:
            cnt = end - start
        else:
            cnt = np.minimum(end, in_sp[i]) - np.maximum(start, 0)
        cnt = cnt.reshape((out_sp[i],) + (1,) * (d - 1 - i))
        div = cnt if div is None else div * cnt
    return xp.asarray(div.astype(dtype))


def _avg_poolnd(op, d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    from .creation import ones
    x, unbatched = _pool_input(op, input, d)
    if not x.is_floating_point():
        raise RuntimeError(f"{op}: \"{op}\" not implemented for '{x.dtype}'")
    kernel, stride, pad, _, out_sp, pads = _pool_geometry(op, d, x.shape[2:], kernel_size,
                                                          stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    N, C = x.shape[:2]
    w = ones((1, 1) + kernel, dtype=x.dtype, device=x.device)
    s = apply(_Conv, x.reshape((N * C, 1) + tuple(x.shape[2:])), w, stride=stride, pads=pads,
              dilation=(1,) * d, groups=1)
    s = s.reshape((N, C) + out_sp)
    if divisor_override is not None:
        y = s / divisor_override
    else:
        from .._device import xp_of
        div = _avg_divisor(xp_of(x._data), d, x.shape[2:], out_sp, kernel, stride, pad,
                           count_include_pad, x._data.dtype)
        from .._tensor import Tensor
        y = s / Tensor._make(div)
    y = y.squeeze(0) if unbatched else y
    return named(y, _POOL_NAMES[d].format(f"AvgPool{d}DBackward0"))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L)."""
    return _avg_poolnd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling over (N, C, H, W).

    Args:
        kernel_size, stride (default kernel_size), padding (zeros), ceil_mode,
        count_include_pad (padding zeros count in the divisor), divisor_override.
    """
    return _avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling over (N, C, D, H, W)."""
    return _avg_poolnd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


def _lp_pool(op, d, input, norm_type, kernel_size, stride, ceil_mode):
    from .elementwise import relu, sign
    kernel = _tuple(kernel_size, d, "kernel_size")
    avg = _avg_poolnd(op, d, input.pow(norm_type), kernel, stride, 0, ceil_mode, True, None)
    return (sign(avg) * relu(avg.abs())).mul(_prod(kernel)).pow(1.0 / norm_type)


# -- adaptive pooling ---------------------------------------------------------------------------

def _adaptive_bounds(size, out):
    i = np.arange(out)
    start = (i * size) // out
    end = ((i + 1) * size + out - 1) // out
    return start, end


def _adaptive_matrix(xp, size, out, dtype):
    start, end = _adaptive_bounds(size, out)
    cols = np.arange(size)
    m = ((cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])).astype(np.float64)
    m /= (end - start)[:, None]
    return xp.asarray(m.astype(dtype))


def _adaptive_out(op, d, x, output_size):
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * d
    out = tuple(output_size)
    if len(out) == 1 and d > 1:
        out = out * d
    if len(out) != d:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {d} ints, got "
                         f"{output_size}")
    return tuple(x.shape[-d + i] if o is None else int(o) for i, o in enumerate(out))


def _adaptive_avg(op, d, input, output_size):
    from .._device import xp_of
    from .._tensor import Tensor
    x, unbatched = _pool_input(op, input, d)
    if any(s == 0 for s in x.shape[1:]):
        raise RuntimeError(f"{op}: Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(input.shape)} with dimension "
                           "of size 0")
    out = _adaptive_out(op, d, x, output_size)
    xp = xp_of(x._data)
    y = x
    for i in range(d):
        size = x.shape[2 + i]
        if out[i] == size:
            continue
        m = Tensor._make(_adaptive_matrix(xp, size, out[i], x._data.dtype))
        y = y.movedim(2 + i, -1).matmul(m.t()).movedim(-1, 2 + i)
    if y is x:
        y = x.clone()
    y = y.squeeze(0) if unbatched else y
    # PyTorch: a mean over the spatial dims for output size 1, else its adaptive kernel
    name = "MeanBackward1" if d > 1 and all(o == 1 for o in out) else \
        _POOL_NAMES[d].format(f"AdaptiveAvgPool{d}DBackward0")
    return named(y, name)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length (windows floor(i*L/O)..ceil((i+1)*L/O))."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H_out, W_out); None keeps that input size."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D_out, H_out, W_out)."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


class _AdaptiveMaxPool(Op):
    name = "adaptive_max_pool"
    backward_name = "AdaptiveMaxPool2DBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, x, *, out_sp):
        xp = ctx.xp
        d = len(out_sp)
        in_sp = x.shape[2:]
        idx, positions, masks, kmax = [], [], [], []
        for i in range(d):
            start, end = _adaptive_bounds(in_sp[i], out_sp[i])
            k = int((end - start).max())
            pos = start[:, None] + np.arange(k)[None, :]
            valid = pos < end[:, None]
            pos = np.where(valid, pos, start[:, None])   # repeat the first element: max-safe
            positions.append(xp.asarray(pos))
            kmax.append(k)
            shape = [1] * (2 * d)
            shape[i], shape[d + i] = out_sp[i], k
            idx.append(xp.asarray(pos.reshape(shape)))
            masks.append(valid)
        win = x[(slice(None), slice(None)) + tuple(idx)]        # (N, C, *O, *K)
        vals, index = _window_argmax(xp, win, out_sp, tuple(kmax), positions, in_sp)
        ctx.x_shape = tuple(x.shape)
        ctx.save(index)
        return vals, index

    @staticmethod
    def backward(ctx, grad, _gi=None):
        (index,) = ctx.saved_tensors
        return _scatter_planes(grad, index, ctx.x_shape)


def _adaptive_max(op, d, input, output_size):
    x, unbatched = _pool_input(op, input, d)
    if any(s == 0 for s in x.shape[1:]):
        raise RuntimeError(f"{op}: Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(input.shape)} with dimension "
                           "of size 0")
    out = _adaptive_out(op, d, x, output_size)
    vals, index = apply(_AdaptiveMaxPool, x, out_sp=out)
    if unbatched:
        vals, index = vals.squeeze(0), index.squeeze(0)
    return named(vals, _POOL_NAMES[d].format(f"AdaptiveMaxPool{d}DBackward0")), index


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """Adaptive 1-D max pooling returning (values, indices)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """Adaptive 2-D max pooling returning (values, indices)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """Adaptive 3-D max pooling returning (values, indices)."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length."""
    out = _adaptive_max("adaptive_max_pool1d", 1, input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H_out, W_out)."""
    out = _adaptive_max("adaptive_max_pool2d", 2, input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D_out, H_out, W_out)."""
    out = _adaptive_max("adaptive_max_pool3d", 3, input, output_size)
    return out if return_indices else out[0]


# -- padding ------------------------------------------------------------------------------------

class _ConstantPad(Op):
    """Pad (or crop, with negative amounts) trailing dims with a constant."""
    name = "constant_pad_nd"
    backward_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, *, pads, value):
        ctx.pads = pads
        xp = ctx.xp
        lead = x.ndim - len(pads)
        sp = x.shape[lead:]
        out_sp = tuple(s + lo + hi for s, (lo, hi) in zip(sp, pads))
        out = xp.full(x.shape[:lead] + out_sp, value, dtype=x.dtype)
        src = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(sp, pads))
        dst = tuple(slice(max(lo, 0), o - max(hi, 0)) for o, (lo, hi) in zip(out_sp, pads))
        if all(sl.stop > sl.start for sl in src):
            out[(Ellipsis,) + dst] = x[(Ellipsis,) + src]
        return out

    @staticmethod
    def backward(ctx, grad):
        return apply(_ConstantPad, grad, pads=tuple((-lo, -hi) for lo, hi in ctx.pads),
                     value=0)


_PAD_DIMS = {"reflect": "reflection", "replicate": "replication", "circular": "circular"}


def pad(input, pad, mode="constant", value=None):
    """Pad the trailing dims of input: pad = (left_last, right_last, left_prev, right_prev, ...).

    Args:
        mode: 'constant' (any number of dims; negative amounts crop), 'reflect', 'replicate'
            or 'circular' (the last 1-3 dims of a 2-D to 5-D input).
        value: fill value for 'constant' (default 0).

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.pad(ember.ones(2), (1, 2)).tolist()
        [0.0, 1.0, 1.0, 0.0, 0.0]
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"pad: Padding length must be divisible by 2, got {len(pad)} values")
    n = len(pad) // 2
    if n > input.ndim:
        raise RuntimeError(f"pad: Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {input.ndim}")
    pairs = tuple((pad[2 * (n - 1 - i)], pad[2 * (n - 1 - i) + 1]) for i in range(n))
    if mode == "constant":
        sp = input.shape[input.ndim - n:]
        for i, (s, (lo, hi)) in enumerate(zip(sp, pairs)):
            if s + lo + hi < 0:
                raise RuntimeError(f"pad: The input size {s}, plus negative padding {lo} and "
                                   f"{hi} resulted in a negative output size, which is invalid. "
                                   f"Check dimension {input.ndim - n + i} of your input.")
        return apply(_ConstantPad, input, pads=pairs, value=0 if value is None else value)
    if mode not in _PAD_DIMS:
        raise NotImplementedError(f"pad: Unrecognised padding mode {mode}; expected 'constant', "
                                  "'reflect', 'replicate' or 'circular'")
    if value is not None and value != 0:
        raise ValueError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
    if n > 3 or input.ndim < n + 1 or input.ndim > n + 2:
        raise NotImplementedError(
            f"pad: Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now "
            f"(got a {input.ndim}-D input {fmt_shape(input.shape)} with {n}-D {mode} padding; "
            f"expected a {n + 1}-D or {n + 2}-D input)")
    for i, (lo, hi) in enumerate(pairs):
        dim = input.ndim - n + i
        size = input.shape[dim]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"pad: Argument #4: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({lo}, {hi}) "
                               f"at dimension {dim} of input {list(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError(f"pad: Padding value causes wrapping around more than once "
                               f"(padding ({lo}, {hi}) at dimension {dim} of size {size})")
        if mode == "replicate" and size == 0 and (lo or hi):
            raise RuntimeError(f"pad: input tensor must have non-zero size at dimension {dim} "
                               "to pad")
    y = input
    if any(lo < 0 or hi < 0 for lo, hi in pairs):       # crop first, then pad what is left
        y = apply(_ConstantPad, y, pads=tuple((min(lo, 0), min(hi, 0)) for lo, hi in pairs),
                  value=0)
        pairs = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs)
    if not any(lo or hi for lo, hi in pairs):
        return y if y is not input else input.clone()
    return apply(_ModePad, y, pads=pairs, mode=mode)


_NP_PAD = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
# PyTorch's nodes per mode and padded dims; circular padding is a copy into slices there.
_PAD_NAMES = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0",
              "circular": "torch::autograd::CopySlices"}


class _ModePad(Op):
    """reflect / replicate / circular padding of the trailing dims (xp.pad)."""
    name = "pad"
    backward_name = "ReflectionPadBackward0"

    @staticmethod
    def forward(ctx, x, *, pads, mode):
        ctx.attrs = (pads, mode, tuple(x.shape))
        ctx.backward_name = _PAD_NAMES[mode].format(len(pads))
        widths = [(0, 0)] * (x.ndim - len(pads)) + list(pads)
        return ctx.xp.pad(x, widths, mode=_NP_PAD[mode])

    @staticmethod
    def backward(ctx, grad):
        pads, mode, shape = ctx.attrs
        return apply(_ModePadBackward, grad, pads=pads, mode=mode, shape=shape)


class _ModePadBackward(Op):
    """The adjoint of _ModePad: folds the padded borders back onto the input region."""
    name = "pad_backward"
    backward_name = "ReflectionPadBackwardBackward0"

    @staticmethod
    def forward(ctx, g, *, pads, mode, shape):
        ctx.attrs = (pads, mode)
        if mode != "circular":
            ctx.backward_name = _PAD_NAMES[mode].format(len(pads)) + "Backward0"
        xp = ctx.xp
        lead = g.ndim - len(pads)
        out = g
        for i, (lo, hi) in enumerate(pads):
            ax = lead + i
            size = shape[ax]
            take = [slice(None)] * g.ndim

            def part(a, b, ax=ax, take=take):
                t = list(take)
                t[ax] = slice(a, b)
                return tuple(t)
            core = out[part(lo, lo + size)].copy()
            left, right = out[part(0, lo)], out[part(lo + size, lo + size + hi)]
            if mode == "reflect":
                if lo:
                    core[part(1, lo + 1)] += xp.flip(left, axis=ax)
                if hi:
                    core[part(size - 1 - hi, size - 1)] += xp.flip(right, axis=ax)
            elif mode == "replicate":
                if lo:
                    core[part(0, 1)] += left.sum(axis=ax, keepdims=True)
                if hi:
                    core[part(size - 1, size)] += right.sum(axis=ax, keepdims=True)
            else:
                if lo:
                    core[part(size - lo, size)] += left
                if hi:
                    core[part(0, hi)] += right
            out = core
        return out

    @staticmethod
    def backward(ctx, grad):
        pads, mode = ctx.attrs
        return apply(_ModePad, grad, pads=pads, mode=mode)


# -- resampling ---------------------------------------------------------------------------------

class _AxisTake(Op):
    """x.take(index, axis): gathers slices along one axis (index: a NumPy int array)."""
    name = "resample_take"
    backward_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, *, index, axis):
        ctx.attrs = (index, axis, x.shape[axis])
        return ctx.xp.take(x, ctx.xp.asarray(index), axis=axis)

    @staticmethod
    def backward(ctx, grad):
        index, axis, size = ctx.attrs
        return apply(_AxisTakeAdjoint, grad, index=index, axis=axis, size=size)


class _AxisTakeAdjoint(Op):
    """The adjoint of _AxisTake: sums slices of g into their source positions.

    Instead of an unbuffered scatter-add (np.add.at, ~100x slower), destinations are summed
    in rounds: round r adds the r-th slice that maps to each destination, so the work is
    one take per round over the distinct destinations (few rounds for resampling)."""
    name = "resample_take_backward"
    backward_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, g, *, index, axis, size):
        ctx.attrs = (index, axis)
        xp = ctx.xp
        order = np.argsort(index, kind="stable")
        dest, starts, counts = np.unique(index[order], return_index=True, return_counts=True)
        bshape = [1] * g.ndim
        bshape[axis] = len(dest)
        acc = None
        for r in range(int(counts.max()) if len(counts) else 0):
            pick = order[starts + np.minimum(r, counts - 1)]
            part = xp.take(g, xp.asarray(pick), axis=axis)
            if r and (counts <= r).any():
                part = part * xp.asarray((counts > r).astype(g.dtype).reshape(bshape))
            acc = part if acc is None else acc + part
        shape = list(g.shape)
        shape[axis] = size
        out = xp.zeros(shape, dtype=g.dtype)
        if acc is not None:
            sl = [slice(None)] * g.ndim
            sl[axis] = xp.asarray(dest)
            out[tuple(sl)] = acc
        return out

    @staticmethod
    def backward(ctx, grad):
        index, axis = ctx.attrs
        return apply(_AxisTake, grad, index=index, axis=axis)


def _cubic_weights(t):
    """The four cubic-convolution weights (A = -0.75, as PyTorch) of taps -1, 0, 1, 2 at
    fractional offset t (arrays or tensors: interpolate and grid_sample share it)."""
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _interp_taps(mode, in_size, out_size, scale, align_corners, dtype):
    """[(index array, weight array or None), ...] along one dim."""
    dst = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
            np.float32(in_size / out_size)
        off = np.float32(0.5) if mode == "nearest-exact" else np.float32(0.0)
        src = np.floor((dst.astype(np.float32) + off) * s).astype(np.int64)
        return [(np.minimum(src, in_size - 1), None)]
    ct = np.float64 if dtype == np.float64 else np.float32
    if align_corners:
        s = ct((in_size - 1) / (out_size - 1)) if out_size > 1 else ct(0)
        src = s * dst.astype(ct)
    else:
        s = ct(1.0 / scale) if scale is not None and scale > 0 else ct(in_size / out_size)
        src = s * (dst.astype(ct) + ct(0.5)) - ct(0.5)
    if mode == "cubic":
        i0 = np.floor(src)
        t = (src - i0).astype(ct)
        i0 = i0.astype(np.int64)
        ws = _cubic_weights(t)
        return [(np.clip(i0 - 1 + k, 0, in_size - 1), ws[k]) for k in range(4)]
    src = np.maximum(src, ct(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(ct), ct(0), ct(1)).astype(ct)
    i1 = i0 + (i0 < in_size - 1)
    return [(i0, (ct(1) - lam).astype(ct)), (i1, lam)]


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of a 3-D, 4-D or 5-D input.

    Args:
        size: output spatial size (int or tuple); or scale_factor (float or tuple).
        mode: 'nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'.
        align_corners: for the interpolating modes (default False).
        recompute_scale_factor: compute the scale from the output size instead of using
            scale_factor directly.
        antialias: not supported (NotImplementedError).

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> F.interpolate(ember.tensor([[[1.0, 2.0]]]), scale_factor=2).tolist()
        [[[1.0, 1.0, 2.0, 2.0]]]
    """
    from .._device import xp_of
    from .._tensor import Tensor
    d = input.ndim - 2
    if d < 1 or d > 3:
        raise NotImplementedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors "
                                  f"supported (got {input.ndim}D) for the modes: nearest | "
                                  f"linear | bilinear | bicubic | trilinear | area | "
                                  f"nearest-exact (got mode {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif mode in _MODE_DIMS:
        if align_corners is None:
            align_corners = False
        if _MODE_DIMS[mode] != d:
            raise NotImplementedError(f"interpolate: Got {input.ndim}D input, but {mode} mode "
                                      f"needs {_MODE_DIMS[mode] + 2}D input")
    else:
        raise NotImplementedError(f"interpolate: Input Error: unknown mode {mode!r}; expected "
                                  "nearest | linear | bilinear | bicubic | trilinear | area | "
                                  "nearest-exact")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by ember")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    sp = tuple(input.shape[2:])
    if size is not None:
        out = (int(size),) * d if isinstance(size, numbers.Number) else tuple(int(s) for s in size)
        if len(out) != d:
            raise ValueError(f"Input and output must have the same number of spatial dimensions,"
                             f" but got input with spatial dimensions of {list(sp)} and output "
                             f"size of {list(out)}. Please provide input tensor in (N, C, d1, "
                             "d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        scales = (None,) * d
    else:
        sf = (float(scale_factor),) * d if isinstance(scale_factor, numbers.Number) else \
            tuple(float(s) for s in scale_factor)
        if len(sf) != d:
            raise ValueError(f"Input and scale_factor must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of {list(sp)} "
                             f"and scale_factor of shape {list(sf)}.")
        out = tuple(int(math.floor(float(s) * f)) for s, f in zip(sp, sf))
        scales = (None,) * d if recompute_scale_factor else sf
    if any(o <= 0 for o in out):
        raise RuntimeError(f"interpolate: Input and output sizes should be greater than 0, but "
                           f"got input {list(sp)} and output {list(out)}")
    if mode == "area":
        return _adaptive_avg("adaptive_avg_pool", d, input, out)
    kind = {"bicubic": "cubic", "linear": "linear", "bilinear": "linear",
            "trilinear": "linear"}.get(mode, mode)
    xp = xp_of(input._data)
    dt = input._data.dtype
    y = input
    for i in range(d):
        if kind in ("nearest", "nearest-exact") and out[i] == sp[i]:
            continue
        taps = _interp_taps(kind, sp[i], out[i], scales[i], align_corners, dt)
        acc = None
        for idx, w in taps:
            part = apply(_AxisTake, y, index=idx, axis=2 + i)
            if w is not None:
                shape = (out[i],) + (1,) * (d - 1 - i)
                part = part * Tensor._make(xp.asarray(w.astype(dt).reshape(shape)))
            acc = part if acc is None else acc + part
        y = acc
    if y is input:
        y = input.clone()
    exact = "Exact" if mode == "nearest-exact" else ""
    kernel = f"Nearest{exact}{d}D" if kind.startswith("nearest") else \
        mode.capitalize() + f"{d}D"
    return named(y, f"Upsample{kernel}Backward0")       # UpsampleBilinear2DBackward0, ...


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate "
                  "instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='nearest')."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use "
                  "nn.functional.interpolate instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True)."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use "
                  "nn.functional.interpolate instead.", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _reflect_coords(c, twice_low, twice_high):
    from .elementwise import where
    if twice_low == twice_high:
        return c * 0
    lo = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = (c - lo).abs()
    extra = c.fmod(span)
    flips = (c / span).floor()
    return where(flips.remainder(2) == 0, extra + lo, span - extra + lo)


def _unnormalize(c, size, align_corners):
    """Grid coordinates in [-1, 1] to pixel coordinates."""
    if align_corners:
        return (c + 1) / 2 * (size - 1)
    return ((c + 1) * size - 1) / 2


def _pad_coord(c, size, padding_mode, align_corners):
    """Apply the padding mode to pixel coordinates: clamp (border) or reflect (reflection);
    zeros leaves them (samples outside count as 0)."""
    if padding_mode == "border":
        return c.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            c = _reflect_coords(c, 0, 2 * (size - 1))
        else:
            c = _reflect_coords(c, -1, 2 * size - 1)
        return c.clamp(0, size - 1)
    return c


def _grid_coord(c, size, padding_mode, align_corners):
    return _pad_coord(_unnormalize(c, size, align_corners), size, padding_mode, align_corners)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input at the normalised (-1..1) locations of grid.

    Args:
        input: (N, C, H, W) or (N, C, D, H, W).
        grid: (N, H_out, W_out, 2) holding (x, y), or (N, D_out, H_out, W_out, 3) holding
            (x, y, z).
        mode: 'bilinear', 'nearest' or 'bicubic' (4-D input only, as in PyTorch).
        padding_mode: 'zeros', 'border' or 'reflection'. align_corners: default False.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        align_corners = False
    d = input.ndim - 2
    if d not in (2, 3) or grid.ndim != input.ndim or grid.shape[-1] != d or \
            grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sample: expected a 4-D input with a (N, H, W, 2) grid or a 5-D "
                           f"input with a (N, D, H, W, 3) grid and equal batch sizes, got input "
                           f"{fmt_shape(input.shape)} and grid {fmt_shape(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sample: expected input and grid to have same dtype, but input "
                           f"has {input.dtype} and grid has {grid.dtype}")
    if mode == "bicubic" and d != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    from .elementwise import where
    sizes = tuple(input.shape[2:])
    N, C = input.shape[:2]
    out_sp = tuple(grid.shape[1:-1])
    P = _prod(out_sp)
    if mode == "bicubic":
        # Taps at floor(c) - 1 .. floor(c) + 2 of the unpadded coordinate; the padding mode
        # applies to each tap's integer coordinate (PyTorch's order).
        coords = [_unnormalize(grid[..., d - 1 - i], sizes[i], align_corners)
                  for i in range(d)]
    else:
        coords = [_grid_coord(grid[..., d - 1 - i], sizes[i], padding_mode, align_corners)
                  for i in range(d)]
    flat = input.reshape(N, C, _prod(sizes))
    strides = [_prod(sizes[i + 1:]) for i in range(d)]

    def sample(ints, weight):
        valid = None
        lin = None
        for i in range(d):
            ok = (ints[i] >= 0) & (ints[i] <= sizes[i] - 1)
            valid = ok if valid is None else valid & ok
            part = ints[i].clamp(0, sizes[i] - 1).long() * strides[i]
            lin = part if lin is None else lin + part
        vals = flat.gather(2, lin.reshape(N, 1, P).expand(N, C, P))
        w = where(valid, weight, 0.0) if weight is not None else valid.to(input.dtype)
        return vals * w.reshape(N, 1, P)

    if mode == "nearest":
        out = sample([c.detach().round() for c in coords], None)
    elif mode == "bicubic":
        lows = [c.detach().floor() for c in coords]
        weights = [_cubic_weights(c - lo) for c, lo in zip(coords, lows)]
        out = None
        for i in range(4):
            y = _pad_coord(lows[0] + (i - 1), sizes[0], padding_mode, align_corners)
            for j in range(4):
                x = _pad_coord(lows[1] + (j - 1), sizes[1], padding_mode, align_corners)
                part = sample([y, x], weights[0][i] * weights[1][j])
                out = part if out is None else out + part
    else:
        lows = [c.detach().floor() for c in coords]
        fracs = [c - lo for c, lo in zip(coords, lows)]
        out = None
        for corner in range(2 ** d):
            bits = [(corner >> (d - 1 - i)) & 1 for i in range(d)]
            w = None
            for i in range(d):
                wi = fracs[i] if bits[i] else 1 - fracs[i]
                w = wi if w is None else w * wi
            part = sample([lows[i] + bits[i] for i in range(d)], w)
            out = part if out is None else out + part
    return named(out.reshape((N, C) + out_sp), f"GridSampler{d}DBackward0", input, grid)


def _base_coords(xp, steps, align_corners, dtype):
    if steps <= 1:
        return xp.zeros(max(steps, 1), dtype=dtype)
    c = xp.linspace(-1.0, 1.0, steps, dtype=np.float64)
    if not align_corners:
        c = c * (steps - 1) / steps
    return c.astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid for grid_sample from a batch of affine matrices.

    Args:
        theta: (N, 2, 3) for 2-D or (N, 3, 4) for 3-D.
        size: the target (N, C, H, W) or (N, C, D, H, W).
    Returns:
        (N, H, W, 2) or (N, D, H, W, 3).
    """
    from .._device import xp_of
    from .._tensor import Tensor
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if align_corners is None:
        align_corners = False
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[1:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{list(size)}. Got {list(theta.shape)}.")
        spatial = size[2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[1:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{list(size)}. Got {list(theta.shape)}.")
        spatial = size[2:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {list(size)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    xp = xp_of(theta._data)
    dt = theta._data.dtype
    d = len(spatial)
    axes = [_base_coords(xp, s, align_corners, dt) for s in spatial]
    grids = xp.meshgrid(*axes, indexing="ij")             # each spatial-shaped; order D, H, W
    comps = [grids[d - 1 - i] for i in range(d)] + [xp.ones(spatial, dtype=dt)]
    base = Tensor._make(xp.stack(comps, axis=-1).reshape(1, _prod(spatial), d + 1))
    grid = base.matmul(theta.transpose(1, 2))
    return named(grid.reshape((size[0],) + tuple(spatial) + (d,)),
                 "AffineGridGeneratorBackward0", theta)


# -- channel rearrangements ---------------------------------------------------------------------

def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = tuple(input.shape[:-3])
    n = len(lead)
    y = input.reshape(lead + (c // (r * r), r, r, h, w))
    y = y.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return named(y.reshape(lead + (c // (r * r), h * r, w * r)), "PixelShuffleBackward0", input)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} and input.size(-1)={w} "
                           f"are not both divisible by {r}")
    lead = tuple(input.shape[:-3])
    n = len(lead)
    y = input.reshape(lead + (c, h // r, r, w // r, r))
    y = y.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return named(y.reshape(lead + (c * r * r, h // r, w // r)), "PixelUnshuffleBackward0",
                 input)


def channel_shuffle(input, groups):
    """(N, C, *) -> channels regrouped: (N, g, C/g, *) transposed to (N, C/g, g, *)."""
    g = int(groups)
    if input.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with sizes {list(input.shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    c = input.shape[1]
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {g} groups.")
    rest = tuple(input.shape[2:])
    y = input.reshape((input.shape[0], g, c // g) + rest).transpose(1, 2)
    return named(y.reshape((input.shape[0], c) + rest), "ChannelShuffleBackward0", input)


native_channel_shuffle = channel_shuffle
