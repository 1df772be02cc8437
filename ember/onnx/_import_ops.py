"""The ONNX import op table: ONNX op type -> a function ``fn(ctx, inputs, attrs)`` that
computes the node's outputs with ember ops.

``inputs`` is the node's input list (Tensors, ``None`` for an omitted optional input),
``attrs`` its attributes (ints, floats, strings, lists, NumPy arrays for tensors, compiled
graphs for subgraphs), ``ctx.opset`` the model's ``ai.onnx`` opset and ``ctx.n_outputs`` the
number of outputs the node declares. A function returns one Tensor or a tuple.

Everything is written with public ember ops, so gradients flow through an imported model.
Integer "shape" inputs (Reshape's shape, Slice's starts, ...) are read to Python ints: they
are data the graph computes, but they decide shapes, as in any eager program.
"""

from __future__ import annotations

import functools
import math

import numpy as np

import ember
import ember.nn.functional as F

from .importer import onnx_dtype

__all__ = ["OPS"]

OPS: dict = {}


def _op(*names):
    def register(fn):
        for name in names:
            OPS[name] = fn
        return fn
    return register


# -- helpers -----------------------------------------------------------------------------

def _ints(t) -> list[int] | None:
    if t is None:
        return None
    return [int(v) for v in np.asarray(t.detach().cpu().numpy()).reshape(-1)]


def _opt(inputs, i):
    return inputs[i] if len(inputs) > i else None


def _prod(values) -> int:
    return int(math.prod(values))


def _fix_negative(index, size):
    """ONNX indices may be negative (counted from the end)."""
    return ember.where(index < 0, index + size, index)


def _torch_pad(begins, ends) -> list[int]:
    """ONNX [b1, b2, ..., e1, e2, ...] over the trailing dims -> F.pad's (last dim first)."""
    pad = []
    for b, e in zip(reversed(begins), reversed(ends)):
        pad += [int(b), int(e)]
    return pad


def _const(value, like):
    return ember.tensor(value, dtype=like.dtype, device=like.device)


def _is_float(t) -> bool:
    return t.is_floating_point()


# -- elementwise -------------------------------------------------------------------------

def _unary(fn):
    def run(ctx, inputs, attrs):
        return fn(inputs[0])
    return run


_UNARY = {
    "Abs": ember.abs, "Neg": ember.neg, "Exp": ember.exp, "Log": ember.log,
    "Sqrt": ember.sqrt, "Reciprocal": ember.reciprocal, "Sin": ember.sin, "Cos": ember.cos,
    "Tan": ember.tan, "Asin": ember.asin, "Acos": ember.acos, "Atan": ember.atan,
    "Sinh": ember.sinh, "Cosh": ember.cosh, "Asinh": ember.asinh, "Acosh": ember.acosh,
    "Atanh": ember.atanh, "Tanh": ember.tanh, "Sigmoid": ember.sigmoid, "Erf": ember.erf,
    "Floor": ember.floor, "Ceil": ember.ceil, "Round": ember.round, "Sign": ember.sign,
    "Relu": ember.relu, "Not": ember.logical_not, "IsNaN": ember.isnan,
    "Softsign": F.softsign, "BitwiseNot": ember.bitwise_not, "Identity": lambda x: x,
    "Softplus": F.softplus,
}
for _name, _fn in _UNARY.items():
    OPS[_name] = _unary(_fn)


def _binary(fn):
    def run(ctx, inputs, attrs):
        return fn(inputs[0], inputs[1])
    return run


_BINARY = {
    "Add": ember.add, "Sub": ember.sub, "Mul": ember.mul,
    "Equal": ember.eq, "Greater": ember.gt, "Less": ember.lt, "GreaterOrEqual": ember.ge,
    "LessOrEqual": ember.le, "And": ember.logical_and, "Or": ember.logical_or,
    "Xor": ember.logical_xor, "BitwiseAnd": ember.bitwise_and, "BitwiseOr": ember.bitwise_or,
    "BitwiseXor": ember.bitwise_xor,
}
for _name, _fn in _BINARY.items():
    OPS[_name] = _binary(_fn)


@_op("Div")
def _div(ctx, inputs, attrs):
    a, b = inputs
    if _is_float(a):
        return ember.div(a, b)
    return ember.div(a, b, rounding_mode="trunc")     # C-style integer division


@_op("Pow")
def _pow(ctx, inputs, attrs):
    base, exponent = inputs
    # ONNX allows a different exponent type; the result keeps the base's type.
    return ember.pow(base, exponent).to(base.dtype)


@_op("Mod")
def _mod(ctx, inputs, attrs):
    a, b = inputs
    if attrs.get("fmod", 0):
        return ember.fmod(a, b)
    return ember.remainder(a, b)


@_op("BitShift")
def _bitshift(ctx, inputs, attrs):
    a, b = inputs
    if attrs["direction"] == "LEFT":
        return ember.bitwise_left_shift(a, b)
    return ember.bitwise_right_shift(a, b)


def _variadic(fn):
    def run(ctx, inputs, attrs):
        return functools.reduce(fn, inputs)
    return run


OPS["Max"] = _variadic(ember.maximum)
OPS["Min"] = _variadic(ember.minimum)
OPS["Sum"] = _variadic(ember.add)


@_op("Mean")
def _mean(ctx, inputs, attrs):
    return functools.reduce(ember.add, inputs) / len(inputs)


@_op("IsInf")
def _isinf(ctx, inputs, attrs):
    x = inputs[0]
    pos, neg = attrs.get("detect_positive", 1), attrs.get("detect_negative", 1)
    if pos and neg:
        return ember.isinf(x)
    if pos:
        return ember.isposinf(x)
    if neg:
        return ember.isneginf(x)
    return ember.zeros_like(x, dtype=ember.bool)


@_op("Where")
def _where(ctx, inputs, attrs):
    return ember.where(*inputs)


@_op("Clip")
def _clip(ctx, inputs, attrs):
    x = inputs[0]
    if ctx.opset < 11:
        lo, hi = attrs.get("min"), attrs.get("max")
    else:
        lo, hi = _opt(inputs, 1), _opt(inputs, 2)
        lo = None if lo is None else lo.item()
        hi = None if hi is None else hi.item()
    if lo is None and hi is None:
        return x
    return ember.clamp(x, lo, hi)


# -- activations -------------------------------------------------------------------------

@_op("LeakyRelu")
def _leaky_relu(ctx, inputs, attrs):
    return F.leaky_relu(inputs[0], attrs.get("alpha", 0.01))


@_op("Elu")
def _elu(ctx, inputs, attrs):
    return F.elu(inputs[0], attrs.get("alpha", 1.0))


@_op("Selu")
def _selu(ctx, inputs, attrs):
    x = inputs[0]
    alpha = attrs.get("alpha", 1.67326319217681884765625)
    gamma = attrs.get("gamma", 1.05070102214813232421875)
    return gamma * ember.where(x > 0, x, alpha * (ember.exp(x) - 1))


@_op("Celu")
def _celu(ctx, inputs, attrs):
    return F.celu(inputs[0], attrs.get("alpha", 1.0))


@_op("ThresholdedRelu")
def _thresholded_relu(ctx, inputs, attrs):
    x = inputs[0]
    return ember.where(x > attrs.get("alpha", 1.0), x, ember.zeros_like(x))


@_op("HardSigmoid")
def _hard_sigmoid(ctx, inputs, attrs):
    x = inputs[0]
    return ember.clamp(attrs.get("alpha", 0.2) * x + attrs.get("beta", 0.5), 0, 1)


@_op("HardSwish")
def _hard_swish(ctx, inputs, attrs):
    x = inputs[0]
    return x * ember.clamp(x / 6 + 0.5, 0, 1)


@_op("Mish")
def _mish(ctx, inputs, attrs):
    return F.mish(inputs[0])


@_op("Gelu")
def _gelu(ctx, inputs, attrs):
    return F.gelu(inputs[0], approximate=attrs.get("approximate", "none"))


@_op("Swish")
def _swish(ctx, inputs, attrs):
    x = inputs[0]
    return x * ember.sigmoid(attrs.get("alpha", 1.0) * x)


@_op("PRelu")
def _prelu(ctx, inputs, attrs):
    x, slope = inputs
    return ember.where(x < 0, slope * x, x)


@_op("Shrink")
def _shrink(ctx, inputs, attrs):
    x = inputs[0]
    bias, lambd = attrs.get("bias", 0.0), attrs.get("lambd", 0.5)
    zero = ember.zeros_like(x)
    return ember.where(x < -lambd, x + bias, ember.where(x > lambd, x - bias, zero))


def _softmax_family(fn):
    # Before opset 13 the input is coerced to 2-D around `axis` (default 1).
    def run(ctx, inputs, attrs):
        x = inputs[0]
        if ctx.opset < 13:
            axis = attrs.get("axis", 1) % max(x.ndim, 1)
            flat = x.reshape(_prod(x.shape[:axis]), _prod(x.shape[axis:]))
            return fn(flat, 1).reshape(x.shape)
        return fn(x, attrs.get("axis", -1))
    return run


def _hardmax(x, dim):
    index = x.argmax(dim, keepdim=True)
    return ember.zeros_like(x).scatter(dim, index, ember.ones_like(index, dtype=x.dtype))


OPS["Softmax"] = _softmax_family(lambda x, dim: ember.softmax(x, dim))
OPS["LogSoftmax"] = _softmax_family(lambda x, dim: ember.log_softmax(x, dim))
OPS["Hardmax"] = _softmax_family(_hardmax)


# -- linear algebra ----------------------------------------------------------------------

@_op("MatMul")
def _matmul(ctx, inputs, attrs):
    return ember.matmul(inputs[0], inputs[1])


@_op("Gemm")
def _gemm(ctx, inputs, attrs):
    a, b, c = inputs[0], inputs[1], _opt(inputs, 2)
    if attrs.get("transA", 0):
        a = a.t()
    if attrs.get("transB", 0):
        b = b.t()
    y = ember.matmul(a, b)
    alpha, beta = attrs.get("alpha", 1.0), attrs.get("beta", 1.0)
    if alpha != 1.0:
        y = alpha * y
    if c is not None:
        y = y + (c if beta == 1.0 else beta * c)
    return y


@_op("Einsum")
def _einsum(ctx, inputs, attrs):
    return ember.einsum(attrs["equation"].replace(" ", ""), *inputs)


@_op("Det")
def _det(ctx, inputs, attrs):
    return ember.linalg.det(inputs[0])


# -- convolution and pooling -------------------------------------------------------------

def _window_pads(attrs, in_sizes, kernel, strides, dilations):
    """(begins, ends) pads of a sliding-window op, from auto_pad or pads."""
    n = len(kernel)
    auto = attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            begin = total // 2 if auto == "SAME_UPPER" else total - total // 2
            begins.append(begin)
            ends.append(total - begin)
        return begins, ends
    if auto == "VALID":
        return [0] * n, [0] * n
    pads = list(attrs.get("pads", [0] * (2 * n)))
    return pads[:n], pads[n:]


def _window_attrs(attrs, x, kernel):
    n = len(kernel)
    strides = list(attrs.get("strides", [1] * n))
    dilations = list(attrs.get("dilations", [1] * n))
    begins, ends = _window_pads(attrs, x.shape[2:], kernel, strides, dilations)
    return strides, dilations, begins, ends


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


@_op("Conv")
def _conv(ctx, inputs, attrs):
    x, w, b = inputs[0], inputs[1], _opt(inputs, 2)
    n = w.ndim - 2
    kernel = list(attrs.get("kernel_shape", w.shape[2:]))
    strides, dilations, begins, ends = _window_attrs(attrs, x, kernel)
    padding = begins
    if begins != ends:
        x = F.pad(x, _torch_pad(begins, ends))
        padding = [0] * n
    return _CONV[n](x, w, b, strides, padding, dilations, attrs.get("group", 1))


@_op("ConvTranspose")
def _conv_transpose(ctx, inputs, attrs):
    x, w, b = inputs[0], inputs[1], _opt(inputs, 2)
    n = w.ndim - 2
    kernel = list(attrs.get("kernel_shape", w.shape[2:]))
    strides = list(attrs.get("strides", [1] * n))
    dilations = list(attrs.get("dilations", [1] * n))
    out_pad = list(attrs.get("output_padding", [0] * n))
    group = attrs.get("group", 1)
    auto = attrs.get("auto_pad", "NOTSET")
    # The full (unpadded) transposed convolution; pads then crop it, output_padding and a
    # larger output_shape extend it with zeros (no input position reaches those).
    full = [(size - 1) * s + (k - 1) * d + 1
            for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations)]
    if "output_shape" in attrs or auto in ("SAME_UPPER", "SAME_LOWER"):
        if "output_shape" in attrs:
            target = list(attrs["output_shape"])[-n:]
        else:
            target = [size * s for size, s in zip(x.shape[2:], strides)]
        total = [f + p - t for f, p, t in zip(full, out_pad, target)]
        if auto == "SAME_UPPER":
            begins = [t // 2 for t in total]
        else:
            begins = [t - t // 2 for t in total]
        ends = [t - bg for t, bg in zip(total, begins)]
    else:
        pads = list(attrs.get("pads", [0] * (2 * n)))
        begins, ends = pads[:n], pads[n:]
    y = _CONV_T[n](x, w, None, strides, 0, 0, group, dilations)
    crop = []
    for bg, e, p in zip(reversed(begins), reversed(ends), reversed(out_pad)):
        crop += [-bg, p - e]
    if any(crop):
        y = F.pad(y, crop)
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * n)
    return y


_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _lowest(x):
    if x.dtype == ember.bool:
        return False
    if _is_float(x):
        return -math.inf
    return ember.iinfo(x.dtype).min


def _torch_pool_padding(begins, ends, kernel, dilations):
    """The symmetric padding a torch pool takes, or None when the pads need F.pad."""
    if begins != ends:
        return None
    for p, k, d in zip(begins, kernel, dilations):
        if p > ((k - 1) * d + 1) // 2:
            return None
    return begins


@_op("MaxPool")
def _max_pool(ctx, inputs, attrs):
    x = inputs[0]
    kernel = list(attrs["kernel_shape"])
    n = len(kernel)
    strides, dilations, begins, ends = _window_attrs(attrs, x, kernel)
    padding = _torch_pool_padding(begins, ends, kernel, dilations)
    padded = x
    if padding is None:
        padded = F.pad(x, _torch_pad(begins, ends), value=_lowest(x))
        padding = [0] * n
    want_indices = ctx.n_outputs > 1
    out = _MAX_POOL[n](padded, kernel, strides, padding, dilations,
                       ceil_mode=bool(attrs.get("ceil_mode", 0)), return_indices=want_indices)
    if not want_indices:
        return out
    y, index = out
    return y, _onnx_pool_indices(index, x.shape, padded.shape, begins if padded is not x
                                 else [0] * n, attrs.get("storage_order", 0))


def _onnx_pool_indices(index, in_shape, padded_shape, begins, storage_order):
    """torch's per-plane indices (in the padded input) -> ONNX's indices into the whole
    input tensor (row-major, or column-major within each plane for storage_order=1)."""
    spatial, padded = in_shape[2:], padded_shape[2:]
    coords = []
    rest = index
    for size in reversed(padded):
        coords.append(rest % size)
        rest = rest // size
    coords = [c - bg for c, bg in zip(reversed(coords), begins)]
    order = range(len(spatial)) if not storage_order else reversed(range(len(spatial)))
    flat = ember.zeros_like(index)
    for i in order:
        flat = flat * spatial[i] + coords[i]
    plane = _prod(spatial)
    batch, channels = in_shape[0], in_shape[1]
    offset = ember.arange(batch * channels, device=index.device) * plane
    offset = offset.reshape((batch, channels) + (1,) * len(spatial))
    return flat + offset


def _window_sum(x, kernel, strides, dilations, begins, ends, ceil_mode):
    """Sums over dilated pooling windows (a depthwise convolution with a ones kernel), and
    the same sums over a mask that is 1 on the input and the explicit pads: the ceil_mode
    extension is padding that counts for nothing."""
    n = len(kernel)
    extra = []
    for size, k, s, d, b, e in zip(x.shape[2:], kernel, strides, dilations, begins, ends):
        span = (k - 1) * d + 1
        if ceil_mode:
            out = -(-(size + b + e - span) // s) + 1
            if (out - 1) * s >= size + b:       # a last window starting in the end pad
                out -= 1
        else:
            out = (size + b + e - span) // s + 1
        extra.append(max(0, (out - 1) * s + span - (size + b + e)))
    channels = x.shape[1]
    ones = ember.ones((channels, 1, *kernel), dtype=x.dtype, device=x.device)
    padded = F.pad(x, _torch_pad(begins, [e + k for e, k in zip(ends, extra)]))
    sums = _CONV[n](padded, ones, None, strides, 0, dilations, channels)
    inside = F.pad(ember.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device),
                   _torch_pad(begins, ends), value=1.0)
    inside = F.pad(inside, _torch_pad([0] * n, extra))
    real = F.pad(ember.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device),
                 _torch_pad(begins, [e + k for e, k in zip(ends, extra)]))
    one = ones[:1]
    return (sums, _CONV[n](inside, one, None, strides, 0, dilations),
            _CONV[n](real, one, None, strides, 0, dilations))


@_op("AveragePool")
def _average_pool(ctx, inputs, attrs):
    x = inputs[0]
    kernel = list(attrs["kernel_shape"])
    n = len(kernel)
    strides, dilations, begins, ends = _window_attrs(attrs, x, kernel)
    ceil_mode = bool(attrs.get("ceil_mode", 0))
    include_pad = bool(attrs.get("count_include_pad", 0))
    padding = _torch_pool_padding(begins, ends, kernel, dilations)
    if padding is not None and all(d == 1 for d in dilations):
        return _AVG_POOL[n](x, kernel, strides, padding, ceil_mode=ceil_mode,
                            count_include_pad=include_pad)
    sums, with_pads, real = _window_sum(x, kernel, strides, dilations, begins, ends,
                                        ceil_mode)
    return sums / (with_pads if include_pad else real)


@_op("LpPool")
def _lp_pool(ctx, inputs, attrs):
    x = inputs[0]
    kernel = list(attrs["kernel_shape"])
    p = attrs.get("p", 2)
    strides, dilations, begins, ends = _window_attrs(attrs, x, kernel)
    sums, _, _ = _window_sum(ember.abs(x) ** p, kernel, strides, dilations, begins, ends,
                             bool(attrs.get("ceil_mode", 0)))
    return sums ** (1.0 / p)


@_op("GlobalAveragePool")
def _global_average_pool(ctx, inputs, attrs):
    x = inputs[0]
    return x.mean(dim=tuple(range(2, x.ndim)), keepdim=True)


@_op("GlobalMaxPool")
def _global_max_pool(ctx, inputs, attrs):
    x = inputs[0]
    return ember.amax(x, dim=tuple(range(2, x.ndim)), keepdim=True)


@_op("GlobalLpPool")
def _global_lp_pool(ctx, inputs, attrs):
    x, p = inputs[0], attrs.get("p", 2)
    return (ember.abs(x) ** p).sum(dim=tuple(range(2, x.ndim)), keepdim=True) ** (1.0 / p)


# -- normalization -----------------------------------------------------------------------

def _channel_shape(x):
    return (1, -1) + (1,) * (x.ndim - 2)


@_op("BatchNormalization")
def _batch_norm(ctx, inputs, attrs):
    x, scale, bias, mean, var = inputs[:5]
    eps = attrs.get("epsilon", 1e-5)
    shape = _channel_shape(x)
    if not attrs.get("training_mode", 0):
        inv = ember.rsqrt(var.reshape(shape) + eps)
        return (x - mean.reshape(shape)) * inv * scale.reshape(shape) + bias.reshape(shape)
    momentum = attrs.get("momentum", 0.9)
    dims = (0,) + tuple(range(2, x.ndim))
    batch_mean = x.mean(dim=dims)
    batch_var = x.var(dim=dims, correction=0)
    y = ((x - batch_mean.reshape(shape)) * ember.rsqrt(batch_var.reshape(shape) + eps)
         * scale.reshape(shape) + bias.reshape(shape))
    running_mean = mean * momentum + batch_mean * (1 - momentum)
    running_var = var * momentum + batch_var * (1 - momentum)
    return y, running_mean, running_var


@_op("InstanceNormalization")
def _instance_norm(ctx, inputs, attrs):
    x, scale, bias = inputs
    dims = tuple(range(2, x.ndim))
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, correction=0)
    shape = _channel_shape(x)
    return ((x - mean) * ember.rsqrt(var + attrs.get("epsilon", 1e-5))
            * scale.reshape(shape) + bias.reshape(shape))


@_op("LayerNormalization")
def _layer_norm(ctx, inputs, attrs):
    x, scale, bias = inputs[0], inputs[1], _opt(inputs, 2)
    axis = attrs.get("axis", -1) % x.ndim
    dims = tuple(range(axis, x.ndim))
    stash = onnx_dtype(attrs.get("stash_type", 1))
    xs = x.to(stash)
    mean = xs.mean(dim=dims, keepdim=True)
    inv_std = ember.rsqrt(xs.var(dim=dims, keepdim=True, correction=0)
                          + attrs.get("epsilon", 1e-5))
    y = ((xs - mean) * inv_std).to(x.dtype) * scale
    if bias is not None:
        y = y + bias
    return y, mean, inv_std


@_op("GroupNormalization")
def _group_norm(ctx, inputs, attrs):
    x, scale, bias = inputs
    groups = attrs["num_groups"]
    n, c = x.shape[0], x.shape[1]
    grouped = x.reshape(n, groups, -1)
    mean = grouped.mean(dim=2, keepdim=True)
    var = grouped.var(dim=2, keepdim=True, correction=0)
    y = ((grouped - mean) * ember.rsqrt(var + attrs.get("epsilon", 1e-5))).reshape(x.shape)
    if ctx.opset < 21:          # opset 18: one scale and bias per group
        scale = scale.repeat_interleave(c // groups)
        bias = bias.repeat_interleave(c // groups)
    shape = _channel_shape(x)
    return y * scale.reshape(shape) + bias.reshape(shape)


@_op("LpNormalization")
def _lp_normalization(ctx, inputs, attrs):
    x = inputs[0]
    p, axis = attrs.get("p", 2), attrs.get("axis", -1)
    if p == 1:
        norm = ember.abs(x).sum(dim=axis, keepdim=True)
    else:
        norm = ember.sqrt((x * x).sum(dim=axis, keepdim=True))
    return ember.where(norm == 0, ember.zeros_like(x), x / norm)


@_op("MeanVarianceNormalization")
def _mean_variance_normalization(ctx, inputs, attrs):
    x = inputs[0]
    dims = tuple(attrs.get("axes", [0, 2, 3]))
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, correction=0)
    return (x - mean) / (ember.sqrt(var) + 1e-9)


@_op("LRN")
def _lrn(ctx, inputs, attrs):
    return F.local_response_norm(inputs[0], attrs["size"], alpha=attrs.get("alpha", 1e-4),
                                 beta=attrs.get("beta", 0.75), k=attrs.get("bias", 1.0))


# -- shape and layout --------------------------------------------------------------------

@_op("Reshape")
def _reshape(ctx, inputs, attrs):
    x = inputs[0]
    shape = _ints(inputs[1]) if ctx.opset >= 5 else list(attrs["shape"])
    if not attrs.get("allowzero", 0):
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


@_op("Flatten")
def _flatten(ctx, inputs, attrs):
    x = inputs[0]
    axis = attrs.get("axis", 1)
    if axis < 0:
        axis += x.ndim
    return x.reshape(_prod(x.shape[:axis]), _prod(x.shape[axis:]))


@_op("Transpose")
def _transpose(ctx, inputs, attrs):
    x = inputs[0]
    perm = attrs.get("perm", list(reversed(range(x.ndim))))
    return x.permute(*perm)


def _axes(ctx, inputs, attrs, since):
    if ctx.opset >= since:
        return _ints(_opt(inputs, 1))
    axes = attrs.get("axes")
    return None if axes is None else list(axes)


@_op("Squeeze")
def _squeeze(ctx, inputs, attrs):
    x = inputs[0]
    axes = _axes(ctx, inputs, attrs, 13)
    if axes is None:
        axes = [i for i, s in enumerate(x.shape) if s == 1]
    drop = {a % x.ndim for a in axes}
    return x.reshape([s for i, s in enumerate(x.shape) if i not in drop])


@_op("Unsqueeze")
def _unsqueeze(ctx, inputs, attrs):
    x = inputs[0]
    axes = _axes(ctx, inputs, attrs, 13)
    rank = x.ndim + len(axes)
    new = {a % rank for a in axes}
    sizes = iter(x.shape)
    return x.reshape([1 if i in new else next(sizes) for i in range(rank)])


@_op("Concat")
def _concat(ctx, inputs, attrs):
    return ember.cat([t for t in inputs if t is not None], dim=attrs.get("axis", 1))


@_op("Split")
def _split(ctx, inputs, attrs):
    x = inputs[0]
    axis = attrs.get("axis", 0)
    split = _ints(_opt(inputs, 1)) if ctx.opset >= 13 else attrs.get("split")
    if not split:
        parts = attrs.get("num_outputs", ctx.n_outputs)
        size = x.shape[axis]
        chunk = -(-size // parts)
        split = [chunk] * (parts - 1) + [size - chunk * (parts - 1)]
    return tuple(ember.split(x, list(split), dim=axis))


def _slice_axis(x, axis, start, end, step):
    size = x.shape[axis]
    if start < 0:
        start += size
    if end < 0:
        end += size
    if step > 0:
        start, end = min(max(start, 0), size), min(max(end, 0), size)
        index = [slice(None)] * axis + [slice(start, end, step)]
        return x[tuple(index)]
    start, end = min(max(start, 0), size - 1), min(max(end, -1), size - 1)
    picks = ember.arange(start, end, step, device=x.device)
    return x.index_select(axis, picks)


@_op("Slice")
def _slice(ctx, inputs, attrs):
    x = inputs[0]
    if ctx.opset < 10:
        starts, ends, axes = attrs["starts"], attrs["ends"], attrs.get("axes")
        steps = None
    else:
        starts, ends = _ints(inputs[1]), _ints(inputs[2])
        axes, steps = _ints(_opt(inputs, 3)), _ints(_opt(inputs, 4))
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    for start, end, axis, step in zip(starts, ends, axes, steps):
        x = _slice_axis(x, axis % x.ndim, start, end, step)
    return x


@_op("Expand")
def _expand(ctx, inputs, attrs):
    x = inputs[0]
    return ember.broadcast_to(x, ember.broadcast_shapes(x.shape, tuple(_ints(inputs[1]))))


@_op("Tile")
def _tile(ctx, inputs, attrs):
    return inputs[0].repeat(*_ints(inputs[1]))


def _pad_indices(size, before, after, mode):
    positions = np.arange(-before, size + after)
    if mode == "edge":
        return np.clip(positions, 0, size - 1)
    if mode == "wrap":
        return positions % size
    period = 2 * (size - 1)                       # reflect, without repeating the edge
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)


@_op("Pad")
def _pad(ctx, inputs, attrs):
    x = inputs[0]
    mode = attrs.get("mode", "constant")
    if ctx.opset < 11:
        pads, value = list(attrs["pads"]), attrs.get("value", 0.0)
        axes = None
    else:
        pads = _ints(inputs[1])
        value = _opt(inputs, 2)
        value = 0 if value is None else value.item()
        axes = _ints(_opt(inputs, 3))
    axes = list(range(x.ndim)) if axes is None else [a % x.ndim for a in axes]
    k = len(axes)
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for i, axis in enumerate(axes):
        begins[axis], ends[axis] = pads[i], pads[k + i]
    if mode == "constant":
        return F.pad(x, _torch_pad(begins, ends), value=value)
    for axis in range(x.ndim):
        if begins[axis] or ends[axis]:
            index = _pad_indices(x.shape[axis], begins[axis], ends[axis], mode)
            x = x.index_select(axis, ember.tensor(index, device=x.device))
    return x


@_op("Shape")
def _shape(ctx, inputs, attrs):
    shape = list(inputs[0].shape)
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return ember.tensor(shape[start:end], dtype=ember.int64, device=inputs[0].device)


@_op("Size")
def _size(ctx, inputs, attrs):
    return ember.tensor(inputs[0].numel(), dtype=ember.int64, device=inputs[0].device)


@_op("DepthToSpace")
def _depth_to_space(ctx, inputs, attrs):
    x, b = inputs[0], attrs["blocksize"]
    n, c, h, w = x.shape
    if attrs.get("mode", "DCR") == "DCR":
        y = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(n, c // (b * b), b, b, h, w).permute(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (b * b), h * b, w * b)


@_op("SpaceToDepth")
def _space_to_depth(ctx, inputs, attrs):
    x, b = inputs[0], attrs["blocksize"]
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b)
    if attrs.get("mode", "DCR") == "DCR":
        y = y.permute(0, 3, 5, 1, 2, 4)
    else:
        y = y.permute(0, 1, 3, 5, 2, 4)
    return y.reshape(n, c * b * b, h // b, w // b)


@_op("Trilu")
def _trilu(ctx, inputs, attrs):
    x, k = inputs[0], _opt(inputs, 1)
    k = 0 if k is None else int(k.item())
    return ember.triu(x, k) if attrs.get("upper", 1) else ember.tril(x, k)


# -- creation and casting ----------------------------------------------------------------

@_op("Constant")
def _constant(ctx, inputs, attrs):
    if "value" in attrs:
        return ember.from_numpy(np.array(attrs["value"])).to(ctx.device)
    if "value_float" in attrs:
        return ember.tensor(attrs["value_float"], dtype=ember.float32, device=ctx.device)
    if "value_floats" in attrs:
        return ember.tensor(list(attrs["value_floats"]), dtype=ember.float32,
                            device=ctx.device)
    if "value_int" in attrs:
        return ember.tensor(attrs["value_int"], dtype=ember.int64, device=ctx.device)
    if "value_ints" in attrs:
        return ember.tensor(list(attrs["value_ints"]), dtype=ember.int64, device=ctx.device)
    raise NotImplementedError(f"onnx.load: Constant with {sorted(attrs)} is not imported "
                              "(ember tensors hold numbers only)")


@_op("ConstantOfShape")
def _constant_of_shape(ctx, inputs, attrs):
    value = attrs.get("value")
    value = np.zeros(1, np.float32) if value is None else value
    shape = _ints(inputs[0])
    fill = ember.from_numpy(np.array(value).reshape(()))
    return ember.full(shape, fill.item(), dtype=fill.dtype, device=ctx.device)


@_op("EyeLike")
def _eye_like(ctx, inputs, attrs):
    x = inputs[0]
    dtype = onnx_dtype(attrs["dtype"]) if "dtype" in attrs else x.dtype
    rows, cols = x.shape
    k = attrs.get("k", 0)
    index = ember.arange(rows, device=x.device).reshape(-1, 1) + k
    return (index == ember.arange(cols, device=x.device)).to(dtype)


@_op("Range")
def _range(ctx, inputs, attrs):
    start, limit, delta = (t.item() for t in inputs)
    return ember.arange(start, limit, delta, dtype=inputs[0].dtype, device=inputs[0].device)


def _e8m0_bits(x, saturate, round_mode):
    """ONNX's float -> float8_e8m0fnu: the float32 exponent field (the sign is dropped), rounded
    up/nearest/down by the mantissa; NaN and inf become 0xFF (NaN), saturate stops at 2**127."""
    bits = x.astype(np.float32).view(np.uint32)
    exponent = ((bits >> 23) & 0xFF).astype(np.uint16)
    special = exponent == 0xFF
    if round_mode == "up":
        bump = (bits & 0x7FFFFF) > 0
    elif round_mode == "nearest":
        guard = (bits & 0x400000) > 0
        rest = (bits & 0x3FFFFF) > 0
        bump = guard & (rest | (exponent > 0))
    elif round_mode == "down":
        bump = np.zeros(bits.shape, dtype=bool)
    else:
        raise ValueError(f"Cast: round_mode must be 'up', 'nearest' or 'down', got {round_mode!r}")
    if saturate:
        bump &= exponent != 0xFE
    exponent = exponent + bump
    return np.where(special, 0xFF, exponent).astype(np.uint8)


def _onnx_cast(x, dtype, saturate=1, round_mode="up"):
    """ONNX's Cast: to a float8 dtype with saturate=1 (the default) finite and infinite values
    clip to the type's range (NaN stays NaN); saturate=0 rounds with overflow to NaN/inf as the
    format allows (ml_dtypes' conversion). Other casts are .to() (PyTorch's rules)."""
    if dtype not in ember._dtype.FLOAT8_DTYPES or x.dtype is dtype:
        return x.to(dtype)
    arr = x.detach().cpu().numpy()
    if arr.dtype.kind != "f" or arr.dtype.itemsize < 4:
        arr = arr.astype(np.float32)          # ints, bool, half, bfloat16, float8
    with np.errstate(all="ignore"):
        if dtype is ember.float8_e8m0fnu:
            out = _e8m0_bits(arr, saturate, round_mode).view(dtype.np)
        elif saturate:
            info = ember.finfo(dtype)
            out = np.clip(arr, info.min, info.max).astype(dtype.np)
        else:
            out = arr.astype(dtype.np)
    return ember.from_numpy(out).to(x.device)


@_op("Cast")
def _cast(ctx, inputs, attrs):
    return _onnx_cast(inputs[0], onnx_dtype(attrs["to"]), attrs.get("saturate", 1),
                      attrs.get("round_mode", "up"))


@_op("CastLike")
def _cast_like(ctx, inputs, attrs):
    return _onnx_cast(inputs[0], inputs[1].dtype, attrs.get("saturate", 1),
                      attrs.get("round_mode", "up"))


@_op("Dropout")
def _dropout(ctx, inputs, attrs):
    x = inputs[0]
    training = _opt(inputs, 2)
    ratio = _opt(inputs, 1)
    ratio = attrs.get("ratio", 0.5) if ratio is None else ratio.item()
    if training is not None and bool(training.item()) and ratio > 0:
        mask = ember.rand_like(x) >= ratio
        return x * mask / (1 - ratio), mask
    return x, ember.ones_like(x, dtype=ember.bool)


@_op("OneHot")
def _one_hot(ctx, inputs, attrs):
    indices, depth, values = inputs
    depth = int(depth.item())
    indices = _fix_negative(indices.to(ember.int64), depth)
    axis = attrs.get("axis", -1) % (indices.ndim + 1)
    classes = ember.arange(depth, device=indices.device)
    classes = classes.reshape([depth if i == axis else 1 for i in range(indices.ndim + 1)])
    hot = indices.unsqueeze(axis) == classes
    return ember.where(hot, values[1], values[0])


@_op("NonZero")
def _nonzero(ctx, inputs, attrs):
    return ember.nonzero(inputs[0]).t()


# -- indexing ----------------------------------------------------------------------------

@_op("Gather")
def _gather(ctx, inputs, attrs):
    x, index = inputs
    axis = attrs.get("axis", 0) % x.ndim
    index = _fix_negative(index.to(ember.int64), x.shape[axis])
    picked = x.index_select(axis, index.reshape(-1))
    return picked.reshape(x.shape[:axis] + tuple(index.shape) + x.shape[axis + 1:])


@_op("GatherElements")
def _gather_elements(ctx, inputs, attrs):
    x, index = inputs
    axis = attrs.get("axis", 0) % x.ndim
    return ember.gather(x, axis, _fix_negative(index.to(ember.int64), x.shape[axis]))


@_op("GatherND")
def _gather_nd(ctx, inputs, attrs):
    x, index = inputs[0], inputs[1].to(ember.int64)
    b = attrs.get("batch_dims", 0)
    batch = x.shape[:b]
    nb = _prod(batch)
    x = x.reshape((nb,) + x.shape[b:])
    index = index.reshape((nb,) + index.shape[b:])
    k = index.shape[-1]
    rows = ember.arange(nb, device=x.device).reshape((nb,) + (1,) * (index.ndim - 2))
    parts = [_fix_negative(index[..., i], x.shape[1 + i]) for i in range(k)]
    out = x[(rows, *parts)]
    return out.reshape(batch + out.shape[1:])


_SCATTER_REDUCE = {"add": "sum", "mul": "prod", "max": "amax", "min": "amin"}


def _scatter(x, axis, index, updates, reduction):
    if reduction == "none":
        return ember.scatter(x, axis, index, updates)
    return ember.scatter_reduce(x, axis, index, updates, _SCATTER_REDUCE[reduction])


@_op("ScatterElements", "Scatter")
def _scatter_elements(ctx, inputs, attrs):
    x, index, updates = inputs
    axis = attrs.get("axis", 0) % x.ndim
    index = _fix_negative(index.to(ember.int64), x.shape[axis])
    return _scatter(x, axis, index, updates, attrs.get("reduction", "none"))


@_op("ScatterND")
def _scatter_nd(ctx, inputs, attrs):
    # Rows of the first k dims are addressed by one linear index, then scattered along dim 0.
    x, index, updates = inputs[0], inputs[1].to(ember.int64), inputs[2]
    k = index.shape[-1]
    linear = ember.zeros(index.shape[:-1], dtype=ember.int64, device=x.device)
    for i in range(k):
        linear = linear * x.shape[i] + _fix_negative(index[..., i], x.shape[i])
    rest = x.shape[k:]
    rows = x.reshape((_prod(x.shape[:k]), _prod(rest)))
    values = updates.reshape((-1, _prod(rest)))
    where = linear.reshape(-1, 1).expand(-1, _prod(rest))
    return _scatter(rows, 0, where, values, attrs.get("reduction", "none")).reshape(x.shape)


@_op("Compress")
def _compress(ctx, inputs, attrs):
    x, condition = inputs
    axis = attrs.get("axis")
    if axis is None:
        x, axis = x.reshape(-1), 0
    picks = ember.nonzero(condition.to(ember.bool)).reshape(-1)
    picks = picks[picks < x.shape[axis]]
    return x.index_select(axis % x.ndim, picks)


# -- reductions --------------------------------------------------------------------------

def _reduce(fn, axes_input_since, empty=None):
    def run(ctx, inputs, attrs):
        x = inputs[0]
        keep = bool(attrs.get("keepdims", 1))
        axes = _axes(ctx, inputs, attrs, axes_input_since)
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.ndim))
        if x.ndim == 0:
            return fn(x.reshape(1), (0,), False)
        dims = tuple(sorted({a % x.ndim for a in axes}))
        if empty is not None and any(x.shape[d] == 0 for d in dims):
            shape = [1 if i in dims else s for i, s in enumerate(x.shape) if keep or i not in dims]
            return ember.full(shape, empty(x), dtype=x.dtype, device=x.device)
        return fn(x, dims, keep)
    return run


def _keep_dtype(fn):
    # torch sums small integers into int64; ONNX keeps the input type.
    def run(x, dims, keep):
        return fn(x, dims, keep).to(x.dtype)
    return run


def _highest(x):
    if x.dtype == ember.bool:
        return True
    return math.inf if _is_float(x) else ember.iinfo(x.dtype).max


OPS["ReduceSum"] = _reduce(_keep_dtype(lambda x, d, k: x.sum(dim=d, keepdim=k)), 13)
OPS["ReduceMean"] = _reduce(lambda x, d, k: x.mean(dim=d, keepdim=k), 18)
OPS["ReduceMax"] = _reduce(lambda x, d, k: ember.amax(x, dim=d, keepdim=k), 18, _lowest)
OPS["ReduceMin"] = _reduce(lambda x, d, k: ember.amin(x, dim=d, keepdim=k), 18, _highest)
OPS["ReduceProd"] = _reduce(_keep_dtype(lambda x, d, k: _prod_dims(x, d, k)), 18)
OPS["ReduceL1"] = _reduce(_keep_dtype(lambda x, d, k: ember.abs(x).sum(dim=d, keepdim=k)), 18)
OPS["ReduceL2"] = _reduce(_keep_dtype(
    lambda x, d, k: ember.sqrt((x * x).sum(dim=d, keepdim=k).to(ember.float64))), 18)
OPS["ReduceLogSum"] = _reduce(lambda x, d, k: ember.log(x.sum(dim=d, keepdim=k)), 18)
OPS["ReduceLogSumExp"] = _reduce(lambda x, d, k: ember.logsumexp(x, dim=d, keepdim=k), 18)
OPS["ReduceSumSquare"] = _reduce(_keep_dtype(lambda x, d, k: (x * x).sum(dim=d, keepdim=k)),
                                 18)


def _prod_dims(x, dims, keep):
    for d in reversed(dims):
        x = x.prod(d, keepdim=keep)
    return x


def _arg_reduce(fn):
    def run(ctx, inputs, attrs):
        x = inputs[0]
        axis = attrs.get("axis", 0) % max(x.ndim, 1)
        keep = bool(attrs.get("keepdims", 1))
        if attrs.get("select_last_index", 0):
            flipped = fn(x.flip(axis), axis, keep)
            return x.shape[axis] - 1 - flipped
        return fn(x, axis, keep)
    return run


OPS["ArgMax"] = _arg_reduce(lambda x, d, k: x.argmax(d, keepdim=k))
OPS["ArgMin"] = _arg_reduce(lambda x, d, k: x.argmin(d, keepdim=k))


@_op("TopK")
def _topk(ctx, inputs, attrs):
    x = inputs[0]
    k = int(inputs[1].reshape(-1)[0].item()) if ctx.opset >= 10 else attrs["k"]
    values, indices = ember.topk(x, k, dim=attrs.get("axis", -1),
                                 largest=bool(attrs.get("largest", 1)), sorted=True)
    return values, indices


@_op("CumSum")
def _cumsum(ctx, inputs, attrs):
    x = inputs[0]
    axis = int(inputs[1].item()) % x.ndim
    reverse = attrs.get("reverse", 0)
    if reverse:
        x = x.flip(axis)
    y = ember.cumsum(x, axis).to(x.dtype)
    if attrs.get("exclusive", 0):
        # Shift by one (a zero first) instead of subtracting: exact for floats.
        pad = [0, 0] * (x.ndim - 1 - axis) + [1, 0]
        y = F.pad(y, pad).narrow(axis, 0, x.shape[axis])
    return y.flip(axis) if reverse else y


# -- losses ------------------------------------------------------------------------------

def _nll(log_prob, target, weight, attrs):
    reduction = attrs.get("reduction", "mean")
    ignore = attrs.get("ignore_index")
    kwargs = {"reduction": reduction}
    if ignore is not None:
        kwargs["ignore_index"] = ignore
    return F.nll_loss(log_prob, target.to(ember.int64), weight=weight, **kwargs)


@_op("NegativeLogLikelihoodLoss")
def _negative_log_likelihood_loss(ctx, inputs, attrs):
    return _nll(inputs[0], inputs[1], _opt(inputs, 2), attrs)


@_op("SoftmaxCrossEntropyLoss")
def _softmax_cross_entropy_loss(ctx, inputs, attrs):
    scores, labels, weight = inputs[0], inputs[1], _opt(inputs, 2)
    log_prob = ember.log_softmax(scores, 1)
    loss = _nll(log_prob, labels, weight, attrs)
    return (loss, log_prob) if ctx.n_outputs > 1 else loss


# -- control flow ------------------------------------------------------------------------

@_op("If")
def _if(ctx, inputs, attrs):
    branch = attrs["then_branch"] if bool(inputs[0].item()) else attrs["else_branch"]
    return tuple(branch(ctx))


@_op("Loop")
def _loop(ctx, inputs, attrs):
    trips, cond = _opt(inputs, 0), _opt(inputs, 1)
    carried = list(inputs[2:])
    body = attrs["body"]
    limit = math.inf if trips is None else int(trips.item())
    keep = True if cond is None else bool(cond.item())
    scans = []
    i = 0
    while i < limit and keep:
        outs = body(ctx, ember.tensor(i, dtype=ember.int64, device=ctx.device),
                    ember.tensor(keep, device=ctx.device), *carried)
        keep = bool(outs[0].item())
        carried = list(outs[1:1 + len(carried)])
        scans.append(outs[1 + len(carried):])
        i += 1
    n_scan = len(body.output_names) - 1 - len(carried)
    stacked = [ember.stack([s[j] for s in scans]) for j in range(n_scan)] if scans else []
    return tuple(carried + stacked)


@_op("Scan")
def _scan(ctx, inputs, attrs):
    body = attrs["body"]
    n_scan = attrs["num_scan_inputs"]
    if ctx.opset < 9:
        raise NotImplementedError("onnx.load: Scan before opset 9 (with sequence_lens) is "
                                  "not imported")
    states = list(inputs[:len(inputs) - n_scan])
    xs = inputs[len(inputs) - n_scan:]
    in_axes = attrs.get("scan_input_axes", [0] * n_scan)
    in_dirs = attrs.get("scan_input_directions", [0] * n_scan)
    xs = [x.movedim(a % x.ndim, 0) for x, a in zip(xs, in_axes)]
    xs = [x.flip(0) if d else x for x, d in zip(xs, in_dirs)]
    steps = xs[0].shape[0]
    collected = []
    for t in range(steps):
        outs = body(ctx, *states, *(x[t] for x in xs))
        states = list(outs[:len(states)])
        collected.append(outs[len(states):])
    n_out = len(body.output_names) - len(states)
    out_axes = attrs.get("scan_output_axes", [0] * n_out)
    out_dirs = attrs.get("scan_output_directions", [0] * n_out)
    results = []
    for j in range(n_out):
        y = ember.stack([c[j] for c in collected])
        if out_dirs[j]:
            y = y.flip(0)
        results.append(y.movedim(0, out_axes[j] % y.ndim))
    return tuple(states + results)


# -- attention and newer fused ops -------------------------------------------------------

def _heads_first(x, heads):
    """(B, S, heads * H) -> (B, heads, S, H)."""
    b, s, hidden = x.shape
    return x.reshape(b, s, heads, hidden // heads).transpose(1, 2)


def _additive(mask, like):
    """A boolean mask (True = attend) as 0 / -inf; a float mask as is."""
    if mask.dtype == ember.bool:
        zero = ember.zeros((), dtype=like.dtype, device=like.device)
        return ember.where(mask, zero, zero - math.inf)
    return mask.to(like.dtype)


def _window_bias(q_len, kv_len, offset, like, left=-1, right=-1, causal=False):
    """0 / -inf bias of shape (q, kv) or (B, 1, q, kv) for a per-batch offset: query i sits
    at position i + offset; causal keeps keys j <= i + offset, windows bound |i + offset - j|."""
    i = ember.arange(q_len, device=like.device).reshape(q_len, 1)
    j = ember.arange(kv_len, device=like.device).reshape(1, kv_len)
    if isinstance(offset, ember.Tensor):
        diff = (i + offset.to(ember.int64).reshape(-1, 1, 1, 1)) - j
    else:
        diff = i + offset - j
    allowed = ember.ones_like(diff, dtype=ember.bool)
    if causal:
        allowed = allowed & (diff >= 0)
    if left >= 0:
        allowed = allowed & (diff <= left)
    if right >= 0:
        allowed = allowed & (-diff <= right)
    return _additive(allowed, like)


@_op("Attention")
def _attention(ctx, inputs, attrs):
    q, k, v = inputs[:3]
    mask, past_k, past_v, nonpad = (_opt(inputs, i) for i in (3, 4, 5, 6))
    rank3 = q.ndim == 3
    if rank3:
        q = _heads_first(q, attrs["q_num_heads"])
        k = _heads_first(k, attrs["kv_num_heads"])
        v = _heads_first(v, attrs["kv_num_heads"])
    scale = attrs.get("scale", 1.0 / math.sqrt(q.shape[3]))
    present_k = k if past_k is None else ember.cat([past_k, k], dim=2)
    present_v = v if past_v is None else ember.cat([past_v, v], dim=2)
    k, v = present_k, present_v
    q_len, kv_len = q.shape[2], k.shape[2]
    bias = ember.zeros((q_len, kv_len), dtype=q.dtype, device=q.device)
    if mask is not None:
        short = kv_len - mask.shape[-1]      # a shorter mask is padded with "masked"
        mask = _additive(mask, q)
        if short > 0:
            mask = F.pad(mask, [0, short], value=-math.inf)
        bias = bias + mask
    if past_k is not None:
        offset = past_k.shape[2]
    elif nonpad is not None:
        offset = nonpad - q_len
    else:
        offset = 0
    left, right = attrs.get("left_window_size", -1), attrs.get("right_window_size", -1)
    causal = bool(attrs.get("is_causal", 0))
    if causal or left >= 0 or right >= 0:
        bias = bias + _window_bias(q_len, kv_len, offset, q, left, right, causal)
    if nonpad is not None:
        keep = ember.arange(kv_len, device=q.device) < nonpad.to(ember.int64).reshape(-1, 1)
        bias = bias + _additive(keep, q).reshape(q.shape[0], 1, 1, kv_len)
    if q.shape[1] != k.shape[1]:                 # grouped-query attention
        reps = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(reps, dim=1), v.repeat_interleave(reps, dim=1)
    root = math.sqrt(scale)
    scores = ember.matmul(q * root, (k * root).transpose(-2, -1))
    softcap = attrs.get("softcap", 0.0)
    if softcap > 0:
        scores = softcap * ember.tanh(scores / softcap)
    mode = attrs.get("qk_matmul_output_mode", 0)
    qk_out = scores
    scores = scores + bias
    if mode == 2:
        qk_out = scores
    if "softmax_precision" in attrs:
        scores = scores.to(onnx_dtype(attrs["softmax_precision"]))
    # Rows whose bias masks every key attend to nothing: zero probabilities, not NaN.
    dead = ember.isneginf(ember.amax(bias, dim=-1, keepdim=True))
    safe = ember.where(dead, ember.zeros_like(scores), scores)
    probs = ember.where(dead, ember.zeros_like(scores), ember.softmax(safe, -1)).to(q.dtype)
    if mode == 3:
        qk_out = probs
    y = ember.matmul(probs, v)
    if rank3:
        y = y.transpose(1, 2).reshape(y.shape[0], q_len, -1)
    return y, present_k, present_v, qk_out.to(q.dtype)


@_op("RMSNormalization")
def _rms_normalization(ctx, inputs, attrs):
    x, scale = inputs
    axis = attrs.get("axis", -1) % x.ndim
    dims = tuple(range(axis, x.ndim))
    xs = x.to(onnx_dtype(attrs.get("stash_type", 1)))
    inv = ember.rsqrt((xs * xs).mean(dim=dims, keepdim=True) + attrs.get("epsilon", 1e-5))
    return (xs * inv).to(x.dtype) * scale


@_op("CumProd")
def _cumprod(ctx, inputs, attrs):
    x = inputs[0]
    axis = int(inputs[1].item()) % x.ndim
    reverse = attrs.get("reverse", 0)
    if reverse:
        x = x.flip(axis)
    y = ember.cumprod(x, axis).to(x.dtype)
    if attrs.get("exclusive", 0):
        pad = [0, 0] * (x.ndim - 1 - axis) + [1, 0]
        y = F.pad(y, pad, value=1).narrow(axis, 0, x.shape[axis])
    return y.flip(axis) if reverse else y


@_op("SwiGLU")
def _swiglu(ctx, inputs, attrs):
    a, b = inputs
    return a * ember.sigmoid(attrs.get("alpha", 1.0) * a) * b


@_op("ReverseSequence")
def _reverse_sequence(ctx, inputs, attrs):
    x, lengths = inputs
    batch_axis, time_axis = attrs.get("batch_axis", 1), attrs.get("time_axis", 0)
    steps = x.shape[time_axis]
    t = ember.arange(steps, device=x.device).reshape(1, steps)
    lengths = lengths.to(ember.int64).reshape(-1, 1)
    source = ember.where(t < lengths, lengths - 1 - t, t)        # (batch, time)
    if batch_axis > time_axis:
        source = source.t()
    shape = [1] * x.ndim
    shape[batch_axis], shape[time_axis] = x.shape[batch_axis], steps
    index = ember.broadcast_to(source.reshape(shape), x.shape)
    return ember.gather(x, time_axis, index)


# -- recurrent layers (RNN, GRU, LSTM) ---------------------------------------------------

_NO_PARAMS = {
    "Relu": ember.relu, "Tanh": ember.tanh, "Sigmoid": ember.sigmoid,
    "Softsign": F.softsign, "Softplus": F.softplus,
}


def _activations(attrs, defaults, directions):
    """The activation functions of each direction, consuming activation_alpha/beta in
    order for the functions that take them."""
    names = list(attrs.get("activations", defaults * directions))
    alphas = list(attrs.get("activation_alpha", []))
    betas = list(attrs.get("activation_beta", []))
    fns = []
    for name in names:
        if name in _NO_PARAMS:
            fns.append(_NO_PARAMS[name])
            continue
        a = alphas.pop(0) if alphas else None
        if name == "LeakyRelu":
            fns.append(functools.partial(F.leaky_relu, negative_slope=0.01 if a is None else a))
        elif name == "ThresholdedRelu":
            fns.append(lambda x, a=1.0 if a is None else a: x * (x > a))
        elif name == "Elu":
            fns.append(functools.partial(F.elu, alpha=1.0 if a is None else a))
        else:
            b = betas.pop(0) if betas else None
            if name == "Affine":
                fns.append(lambda x, a=a, b=b: a * x + b)
            elif name == "ScaledTanh":
                fns.append(lambda x, a=a, b=b: a * ember.tanh(b * x))
            elif name == "HardSigmoid":
                fns.append(lambda x, a=0.2 if a is None else a, b=0.5 if b is None else b:
                           ember.clamp(a * x + b, 0, 1))
            else:
                raise NotImplementedError(f"onnx.load: RNN activation {name!r} is not "
                                          "imported")
    per = len(names) // directions
    return [fns[d * per:(d + 1) * per] for d in range(directions)]


def _recurrent(cell, gates, defaults):
    def run(ctx, inputs, attrs):
        x, w, r = inputs[:3]
        b, lens, h0 = _opt(inputs, 3), _opt(inputs, 4), _opt(inputs, 5)
        c0, peep = _opt(inputs, 6), _opt(inputs, 7)
        layout = attrs.get("layout", 0)
        if layout:
            x = x.transpose(0, 1)
            h0 = None if h0 is None else h0.transpose(0, 1)
            c0 = None if c0 is None else c0.transpose(0, 1)
        steps, batch = x.shape[0], x.shape[1]
        hidden = attrs.get("hidden_size", r.shape[-1])
        direction = attrs.get("direction", "forward")
        dirs = 2 if direction == "bidirectional" else 1
        acts = _activations(attrs, defaults, dirs)
        clip = attrs.get("clip")
        if lens is not None:
            lens = lens.to(ember.int64).reshape(1, batch, 1)
        ys, hs, cs = [], [], []
        for d in range(dirs):
            reverse = direction == "reverse" or d == 1
            zeros = ember.zeros((batch, hidden), dtype=x.dtype, device=x.device)
            state = {"h": zeros if h0 is None else h0[d],
                     "c": zeros if c0 is None else c0[d]}
            bw = bb = None
            if b is not None:
                bw, bb = b[d, :gates * hidden], b[d, gates * hidden:]
            xw = ember.matmul(x, w[d].t())            # every step's input projection at once
            if bw is not None:
                xw = xw + bw
            out = [None] * steps
            order = range(steps - 1, -1, -1) if reverse else range(steps)
            for t in order:
                new = cell(xw[t], state, r[d], bb, acts[d], clip, attrs,
                           None if peep is None else peep[d], hidden)
                if lens is not None:          # past a sequence's end: keep the state
                    live = t < lens[0]
                    new = {k: ember.where(live, v, state[k]) for k, v in new.items()}
                    out[t] = ember.where(live, new["h"], ember.zeros_like(new["h"]))
                else:
                    out[t] = new["h"]
                state = new
            ys.append(ember.stack(out))
            hs.append(state["h"])
            cs.append(state["c"])
        y = ember.stack(ys, dim=1)                    # (steps, dirs, batch, hidden)
        h, c = ember.stack(hs), ember.stack(cs)
        if layout:
            y, h, c = y.permute(2, 0, 1, 3), h.transpose(0, 1), c.transpose(0, 1)
        return (y, h, c)[:max(ctx.n_outputs, 1)]
    return run


def _clipped(z, clip):
    return z if clip is None else ember.clamp(z, -clip, clip)


def _rnn_cell(xw, state, r, rb, acts, clip, attrs, peep, hidden):
    z = xw + ember.matmul(state["h"], r.t())
    if rb is not None:
        z = z + rb
    return {"h": acts[0](_clipped(z, clip)), "c": state["c"]}


def _gru_cell(xw, state, r, rb, acts, clip, attrs, peep, hidden):
    f, g = acts
    h = state["h"]
    rz, rr, rh = r[:hidden], r[hidden:2 * hidden], r[2 * hidden:]
    xz, xr, xh = xw[:, :hidden], xw[:, hidden:2 * hidden], xw[:, 2 * hidden:]
    bz = br = bh = 0
    if rb is not None:
        bz, br, bh = rb[:hidden], rb[hidden:2 * hidden], rb[2 * hidden:]
    z = f(_clipped(xz + ember.matmul(h, rz.t()) + bz, clip))
    reset = f(_clipped(xr + ember.matmul(h, rr.t()) + br, clip))
    if attrs.get("linear_before_reset", 0):
        cand = xh + reset * (ember.matmul(h, rh.t()) + bh)
    else:
        cand = xh + ember.matmul(reset * h, rh.t()) + bh
    cand = g(_clipped(cand, clip))
    return {"h": (1 - z) * cand + z * h, "c": state["c"]}


def _lstm_cell(xw, state, r, rb, acts, clip, attrs, peep, hidden):
    f, g, h_act = acts
    h, c = state["h"], state["c"]
    z = xw + ember.matmul(h, r.t())
    if rb is not None:
        z = z + rb
    zi, zo, zf, zc = (z[:, k * hidden:(k + 1) * hidden] for k in range(4))
    if peep is not None:
        zi = zi + peep[:hidden] * c
        zf = zf + peep[2 * hidden:] * c
    i = f(_clipped(zi, clip))
    forget = 1 - i if attrs.get("input_forget", 0) else f(_clipped(zf, clip))
    c_new = forget * c + i * g(_clipped(zc, clip))
    if peep is not None:
        zo = zo + peep[hidden:2 * hidden] * c_new
    o = f(_clipped(zo, clip))
    return {"h": o * h_act(c_new), "c": c_new}


OPS["RNN"] = _recurrent(_rnn_cell, 1, ["Tanh"])
OPS["GRU"] = _recurrent(_gru_cell, 3, ["Sigmoid", "Tanh"])
OPS["LSTM"] = _recurrent(_lstm_cell, 4, ["Sigmoid", "Tanh", "Tanh"])


# -- Resize / Upsample -------------------------------------------------------------------

def _source_coords(pos, in_len, out_len, scale, mode, roi):
    """Output positions -> source coordinates along one axis (ONNX's
    coordinate_transformation_mode). Like onnx's reference, the "resized length" in the
    formulas is in_len * scale (a float), not the rounded output length."""
    width = in_len * scale
    if mode == "half_pixel":
        return (pos + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        adjust = out_len / width
        center = in_len / 2
        return center * (1 - adjust) + (pos + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (pos + 0.5) / scale - 0.5 if width > 1 else np.zeros_like(pos)
    if mode == "align_corners":
        if width == 1:
            return np.zeros_like(pos)
        return pos * (in_len - 1) / (width - 1)
    if mode == "asymmetric":
        return pos / scale
    if mode == "tf_crop_and_resize":
        start, end = roi
        if width > 1:
            return start * (in_len - 1) + pos * (end - start) * (in_len - 1) / (width - 1)
        return np.full_like(pos, 0.5 * (start + end) * (in_len - 1))
    raise NotImplementedError(f"onnx.load: Resize coordinate_transformation_mode {mode!r}")


def _nearest(src, rounding):
    if rounding == "floor":
        return np.floor(src)
    if rounding == "ceil":
        return np.ceil(src)
    frac = src - np.floor(src)
    if rounding == "round_prefer_ceil":
        return np.where(frac == 0.5, np.ceil(src), np.round(src))
    return np.where(frac == 0.5, np.floor(src), np.round(src))     # round_prefer_floor


def _cubic_kernel(d, a):
    d = np.abs(d)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, np.where(d < 2, far, 0.0))


def _interpolation_taps(src, mode, scale, attrs):
    """Input taps (offsets from floor(src)) and their weights for linear or cubic
    interpolation. With antialias, a downsampling kernel is stretched by 1 / scale, so
    every output averages all the inputs it covers."""
    base = np.floor(src)
    t = src - base
    s = min(scale, 1.0) if attrs.get("antialias", 0) else 1.0
    if mode == "linear":
        start = int(np.floor(-1 / s) + 1)
        offsets = range(start, 2 - start)
        weights = [np.clip(1 - np.abs((k - t) * s), 0, 1) for k in offsets]
    elif mode == "cubic":
        start = int(np.floor(-2 / s) + 1)
        offsets = range(start, 2 - start)
        a = attrs.get("cubic_coeff_a", -0.75)
        weights = [_cubic_kernel((k - t) * s, a) for k in offsets]
    else:
        raise NotImplementedError(f"onnx.load: Resize mode {mode!r} is not imported")
    total = sum(weights)
    return [base + k for k in offsets], [w / total for w in weights]


def _resize_axis(x, axis, out_len, scale, attrs, roi, coord_mode, rounding):
    in_len = x.shape[axis]
    mode = attrs.get("mode", "nearest")
    src = _source_coords(np.arange(out_len, dtype=np.float64), in_len, out_len, scale,
                         coord_mode, roi)
    if mode == "nearest":
        taps, weights = [_nearest(src, rounding)], [np.ones_like(src)]
    else:
        taps, weights = _interpolation_taps(src, mode, scale, attrs)
    if attrs.get("exclude_outside", 0) and mode != "nearest":
        weights = [np.where((k >= 0) & (k < in_len), w, 0.0) for k, w in zip(taps, weights)]
        total = sum(weights)
        weights = [w / total for w in weights]
    shape = [1] * x.ndim
    shape[axis] = out_len
    y = None
    for k, w in zip(taps, weights):
        index = ember.tensor(np.clip(k, 0, in_len - 1).astype(np.int64), device=x.device)
        picked = x.index_select(axis, index)
        if mode != "nearest":
            picked = picked * ember.tensor(w, dtype=x.dtype, device=x.device).reshape(shape)
        y = picked if y is None else y + picked
    if coord_mode == "tf_crop_and_resize":
        outside = (src < 0) | (src > in_len - 1)
        if outside.any():
            mask = ember.tensor(outside, device=x.device).reshape(shape)
            y = ember.where(mask, _const(attrs.get("extrapolation_value", 0.0), y), y)
    return y


def _resize(x, scales, sizes, roi, attrs, coord_mode, rounding):
    axes = attrs.get("axes")
    axes = list(range(x.ndim)) if axes is None else [a % x.ndim for a in axes]
    in_sizes = [x.shape[a] for a in axes]
    if sizes is not None:
        policy = attrs.get("keep_aspect_ratio_policy", "stretch")
        if policy == "stretch":
            scales = [o / i for o, i in zip(sizes, in_sizes)]
        else:
            pick = min if policy == "not_larger" else max
            common = pick(o / i for o, i in zip(sizes, in_sizes))
            scales = [common] * len(axes)
            sizes = [int(math.floor(common * i + 0.5)) for i in in_sizes]
    else:
        sizes = [int(math.floor(i * s)) for i, s in zip(in_sizes, scales)]
    if roi is None or len(roi) == 0:
        roi = [0.0] * len(axes) + [1.0] * len(axes)
    elif len(roi) == 2 * x.ndim and len(axes) != x.ndim:
        roi = [roi[a] for a in axes] + [roi[x.ndim + a] for a in axes]
    n = len(axes)
    for i, axis in enumerate(axes):
        if sizes[i] != x.shape[axis] or scales[i] != 1 or coord_mode == "tf_crop_and_resize":
            x = _resize_axis(x, axis, sizes[i], scales[i], attrs, (roi[i], roi[n + i]),
                             coord_mode, rounding)
    return x


def _floats(t):
    if t is None or t.numel() == 0:
        return None
    return [float(v) for v in np.asarray(t.detach().cpu().numpy(), np.float64).reshape(-1)]


@_op("Resize")
def _resize_op(ctx, inputs, attrs):
    x = inputs[0]
    if ctx.opset < 11:          # opset 10: (X, scales), asymmetric coordinates, floor
        return _resize(x, _floats(inputs[1]), None, None, attrs, "asymmetric", "floor")
    roi, scales, sizes = _floats(_opt(inputs, 1)), _floats(_opt(inputs, 2)), _opt(inputs, 3)
    sizes = None if sizes is None or sizes.numel() == 0 else _ints(sizes)
    coord = attrs.get("coordinate_transformation_mode", "half_pixel")
    return _resize(x, scales, sizes, roi, attrs, coord,
                   attrs.get("nearest_mode", "round_prefer_floor"))


@_op("Upsample")
def _upsample(ctx, inputs, attrs):
    x = inputs[0]
    scales = attrs.get("scales") if ctx.opset < 9 else _floats(inputs[1])
    return _resize(x, list(scales), None, None, attrs, "asymmetric", "floor")


@_op("RotaryEmbedding")
def _rotary_embedding(ctx, inputs, attrs):
    x, cos, sin, positions = inputs[0], inputs[1], inputs[2], _opt(inputs, 3)
    shape = x.shape
    if x.ndim == 4:                              # (B, heads, S, H) -> (B, S, heads, H)
        x = x.transpose(1, 2)
    else:
        heads = attrs["num_heads"]
        x = x.reshape(shape[0], shape[1], heads, shape[2] // heads)
    dim = attrs.get("rotary_embedding_dim", 0) or x.shape[3]
    rotate, keep = x[..., :dim], x[..., dim:]
    if positions is not None:
        cos, sin = cos[positions.to(ember.int64)], sin[positions.to(ember.int64)]
    cos, sin = cos.unsqueeze(2), sin.unsqueeze(2)
    if attrs.get("interleaved", 0):
        x1, x2 = rotate[..., 0::2], rotate[..., 1::2]
    else:
        x1, x2 = rotate[..., :dim // 2], rotate[..., dim // 2:]
    real, imag = cos * x1 - sin * x2, sin * x1 + cos * x2
    if attrs.get("interleaved", 0):
        rotated = ember.stack([real, imag], dim=-1).reshape(rotate.shape)
    else:
        rotated = ember.cat([real, imag], dim=-1)
    y = ember.cat([rotated, keep], dim=-1)
    return y.reshape(shape) if len(shape) == 3 else y.transpose(1, 2)


# -- sampling, cropping, unpooling -------------------------------------------------------

@_op("GridSample")
def _grid_sample(ctx, inputs, attrs):
    x, grid = inputs
    mode = {"linear": "bilinear", "cubic": "bicubic"}.get(attrs.get("mode", "linear"),
                                                          attrs.get("mode", "linear"))
    return F.grid_sample(x, grid, mode=mode, padding_mode=attrs.get("padding_mode", "zeros"),
                         align_corners=bool(attrs.get("align_corners", 0)))


@_op("AffineGrid")
def _affine_grid(ctx, inputs, attrs):
    theta, size = inputs
    return F.affine_grid(theta, _ints(size), align_corners=bool(attrs.get("align_corners", 0)))


@_op("CenterCropPad")
def _center_crop_pad(ctx, inputs, attrs):
    x, shape = inputs[0], _ints(inputs[1])
    axes = attrs.get("axes")
    axes = list(range(x.ndim)) if axes is None else [a % x.ndim for a in axes]
    begins, ends = [0] * x.ndim, [0] * x.ndim
    for axis, size in zip(axes, shape):
        grow = size - x.shape[axis]          # < 0: crop; the odd element goes to the end
        sign = 1 if grow >= 0 else -1
        begins[axis] = sign * (abs(grow) // 2)
        ends[axis] = sign * (abs(grow) - abs(grow) // 2)
    return F.pad(x, _torch_pad(begins, ends))


@_op("Col2Im")
def _col2im(ctx, inputs, attrs):
    # Each column entry (block offset b, block position o) adds into padded-image position
    # o * stride + b * dilation: one index_add with targets computed from the shapes only.
    x, image, block = inputs[0], _ints(inputs[1]), _ints(inputs[2])
    n = len(image)
    strides = list(attrs.get("strides", [1] * n))
    dilations = list(attrs.get("dilations", [1] * n))
    pads = list(attrs.get("pads", [0] * (2 * n)))
    padded = [size + b + e for size, b, e in zip(image, pads[:n], pads[n:])]
    counts = [(p - ((k - 1) * d + 1)) // s + 1
              for p, k, d, s in zip(padded, block, dilations, strides)]
    offsets = np.stack(np.meshgrid(*[np.arange(k) for k in block], indexing="ij"), -1)
    places = np.stack(np.meshgrid(*[np.arange(c) for c in counts], indexing="ij"), -1)
    coords = (offsets.reshape(-1, 1, n) * dilations
              + places.reshape(1, -1, n) * strides)            # (blocks, positions, n)
    target = np.ravel_multi_index(tuple(np.moveaxis(coords, -1, 0)), padded).reshape(-1)
    batch, channels = x.shape[0], x.shape[1] // _prod(block)
    cols = x.reshape(batch, channels, -1)
    out = ember.zeros((batch, channels, _prod(padded)), dtype=x.dtype, device=x.device)
    out = out.index_add(2, ember.tensor(target, device=x.device), cols)
    out = out.reshape((batch, channels, *padded))
    return F.pad(out, _torch_pad([-b for b in pads[:n]], [-e for e in pads[n:]]))


@_op("MaxUnpool")
def _max_unpool(ctx, inputs, attrs):
    x, index, shape = inputs[0], inputs[1], _opt(inputs, 2)
    n = x.ndim - 2
    kernel = list(attrs["kernel_shape"])
    strides = list(attrs.get("strides", [1] * n))
    pads = list(attrs.get("pads", [0] * (2 * n)))
    spatial = [(size - 1) * s - b - e + k for size, s, b, e, k
               in zip(x.shape[2:], strides, pads[:n], pads[n:], kernel)]
    # ONNX indices run over the whole default-size output; scatter them into one flat
    # tensor, then pad (or crop) at the end to an explicit output_shape.
    out = ember.zeros(x.shape[0] * x.shape[1] * _prod(spatial), dtype=x.dtype,
                      device=x.device)
    out = out.scatter(0, index.to(ember.int64).reshape(-1), x.reshape(-1))
    out = out.reshape(tuple(x.shape[:2]) + tuple(spatial))
    if shape is not None:
        target = _ints(shape)[2:]
        out = F.pad(out, _torch_pad([0] * n, [t - s for t, s in zip(target, spatial)]))
    return out


@_op("TensorScatter")
def _tensor_scatter(ctx, inputs, attrs):
    cache, update, where = inputs[0], inputs[1], _opt(inputs, 2)
    axis = attrs.get("axis", -2) % cache.ndim
    batch = cache.shape[0]
    if where is None:
        where = ember.zeros(batch, dtype=ember.int64, device=cache.device)
    steps = update.shape[axis]
    shape = [1] * cache.ndim
    shape[0] = batch
    position = where.to(ember.int64).reshape(shape)
    shape[0], shape[axis] = 1, steps
    position = position + ember.arange(steps, device=cache.device).reshape(shape)
    if attrs.get("mode", "linear") == "circular":
        position = position % cache.shape[axis]
    return ember.scatter(cache, axis, ember.broadcast_to(position, update.shape), update)


@_op("Unique")
def _unique(ctx, inputs, attrs):
    x = inputs[0]
    axis = attrs.get("axis")
    flat = x.reshape(-1) if axis is None else x
    dim = 0 if axis is None else axis % x.ndim
    values, inverse, counts = ember.unique(flat, sorted=True, return_inverse=True,
                                           return_counts=True, dim=None if axis is None
                                           else dim)
    n = values.shape[dim]
    positions = ember.arange(inverse.shape[0], device=x.device)
    first = ember.full((n,), inverse.shape[0], dtype=ember.int64, device=x.device)
    first = first.scatter_reduce(0, inverse, positions, "amin")
    if not attrs.get("sorted", 1):       # order of first occurrence
        order = ember.argsort(first)
        rank = ember.argsort(order)
        values, first, counts = values.index_select(dim, order), first[order], counts[order]
        inverse = rank[inverse]
    return values, first, inverse, counts


# -- windows -----------------------------------------------------------------------------

def _window(make):
    def run(ctx, inputs, attrs):
        size = int(inputs[0].item())
        dtype = onnx_dtype(attrs.get("output_datatype", 1))
        return make(size, periodic=bool(attrs.get("periodic", 1))).to(ctx.device, dtype)
    return run


OPS["HannWindow"] = _window(lambda n, periodic: ember.hann_window(
    n, periodic=periodic, dtype=ember.float64))
OPS["HammingWindow"] = _window(lambda n, periodic: ember.hamming_window(
    n, periodic=periodic, alpha=25 / 46, beta=21 / 46, dtype=ember.float64))
OPS["BlackmanWindow"] = _window(lambda n, periodic: ember.blackman_window(
    n, periodic=periodic, dtype=ember.float64))


# -- quantization ------------------------------------------------------------------------

def _per_axis(param, x, attrs):
    """A scale or zero point: scalar, per-axis (1-D along `axis`) or blocked."""
    if param.ndim == 0 or param.numel() == 1 and x.ndim == 0:
        return param
    axis = attrs.get("axis", 1) % x.ndim
    block = attrs.get("block_size", 0)
    if block:
        return param.repeat_interleave(block, dim=axis).narrow(axis, 0, x.shape[axis])
    shape = [1] * x.ndim
    shape[axis] = -1
    return param.reshape(shape)


def _saturate(y, dtype, saturate=1):
    if dtype.is_floating_point:               # float8 outputs: ONNX's saturating cast
        return _onnx_cast(y, dtype, saturate)
    info = ember.iinfo(dtype)
    return ember.clamp(y, info.min, info.max).to(dtype)


@_op("DequantizeLinear")
def _dequantize_linear(ctx, inputs, attrs):
    x, scale, zero = inputs[0], inputs[1], _opt(inputs, 2)
    out = x.to(scale.dtype)
    if zero is not None:
        out = out - _per_axis(zero, x, attrs).to(scale.dtype)
    return out * _per_axis(scale, x, attrs)


@_op("QuantizeLinear")
def _quantize_linear(ctx, inputs, attrs):
    x, scale, zero = inputs[0], inputs[1], _opt(inputs, 2)
    if zero is not None:
        dtype = zero.dtype
    elif "output_dtype" in attrs and attrs["output_dtype"]:
        dtype = onnx_dtype(attrs["output_dtype"])
    else:
        dtype = ember.uint8
    y = x / _per_axis(scale, x, attrs).to(x.dtype)
    if not dtype.is_floating_point:           # float8 outputs are not rounded to integers
        y = ember.round(y)                    # half to even
    if zero is not None:
        y = y + _per_axis(zero, x, attrs).to(y.dtype)
    return _saturate(y, dtype, attrs.get("saturate", 1))


@_op("DynamicQuantizeLinear")
def _dynamic_quantize_linear(ctx, inputs, attrs):
    x = inputs[0]
    lo = ember.clamp(ember.amin(x), max=0.0)
    hi = ember.clamp(ember.amax(x), min=0.0)
    scale = (hi - lo) / 255
    zero = _saturate(ember.round(-lo / scale), ember.uint8)
    y = _saturate(ember.round(x / scale) + zero.to(x.dtype), ember.uint8)
    return y, scale, zero


def _centered(t, zero):
    t = t.to(ember.int32)
    return t if zero is None else t - zero.to(ember.int32)


@_op("MatMulInteger")
def _matmul_integer(ctx, inputs, attrs):
    a, b = inputs[0], inputs[1]
    a_zero, b_zero = _opt(inputs, 2), _opt(inputs, 3)
    if a_zero is not None and a_zero.ndim == 1 and a.ndim >= 2:
        a_zero = a_zero.reshape(-1, 1)           # per-row zero points of A
    # int64 products: the int32 result ONNX wants cannot overflow on the way.
    return ember.matmul(_centered(a, a_zero).to(ember.int64),
                        _centered(b, b_zero).to(ember.int64)).to(ember.int32)


@_op("ConvInteger")
def _conv_integer(ctx, inputs, attrs):
    x, w = inputs[0], inputs[1]
    x_zero, w_zero = _opt(inputs, 2), _opt(inputs, 3)
    xf = _centered(x, x_zero).to(ember.float64)
    if w_zero is not None and w_zero.ndim == 1:
        w_zero = w_zero.reshape((-1,) + (1,) * (w.ndim - 1))
    wf = _centered(w, w_zero).to(ember.float64)
    # float64 holds every int32 sum exactly; torch-style conv kernels are float-only.
    return ember.round(_conv(ctx, [xf, wf], attrs)).to(ember.int32)


@_op("QLinearMatMul")
def _qlinear_matmul(ctx, inputs, attrs):
    a, a_scale, a_zero, b, b_scale, b_zero, y_scale, y_zero = inputs
    af = (a.to(ember.float64) - a_zero.to(ember.float64)) * a_scale.to(ember.float64)
    bf = (b.to(ember.float64) - b_zero.to(ember.float64)) * b_scale.to(ember.float64)
    y = ember.round(ember.matmul(af, bf) / y_scale.to(ember.float64)) + y_zero
    return _saturate(y, y_zero.dtype)


@_op("QLinearConv")
def _qlinear_conv(ctx, inputs, attrs):
    x, x_scale, x_zero, w, w_scale, w_zero, y_scale, y_zero = inputs[:8]
    bias = _opt(inputs, 8)
    xf = (x.to(ember.float64) - x_zero.to(ember.float64)) * x_scale.to(ember.float64)
    shape = (-1,) + (1,) * (w.ndim - 1)
    wf = ((w.to(ember.float64) - w_zero.to(ember.float64).reshape(shape))
          * w_scale.to(ember.float64).reshape(shape))
    b = None
    if bias is not None:
        b = bias.to(ember.float64) * (x_scale.to(ember.float64)
                                      * w_scale.to(ember.float64).reshape(-1))
    y = ember.round(_conv(ctx, [xf, wf, b], attrs) / y_scale.to(ember.float64)) + y_zero
    return _saturate(y, y_zero.dtype)


# -- sequences and optionals (Python lists and None) -------------------------------------

@_op("SequenceConstruct")
def _sequence_construct(ctx, inputs, attrs):
    return list(inputs)


@_op("SequenceEmpty")
def _sequence_empty(ctx, inputs, attrs):
    return []


def _position(t, length, insert=False):
    if t is None:
        return length if insert else length - 1
    p = int(t.item())
    return p + length if p < 0 else p


@_op("SequenceAt")
def _sequence_at(ctx, inputs, attrs):
    seq = inputs[0]
    return seq[_position(inputs[1], len(seq))]


@_op("SequenceInsert")
def _sequence_insert(ctx, inputs, attrs):
    seq = list(inputs[0])
    seq.insert(_position(_opt(inputs, 2), len(seq), insert=True), inputs[1])
    return seq


@_op("SequenceErase")
def _sequence_erase(ctx, inputs, attrs):
    seq = list(inputs[0])
    del seq[_position(_opt(inputs, 1), len(seq))]
    return seq


@_op("SequenceLength")
def _sequence_length(ctx, inputs, attrs):
    return ember.tensor(len(inputs[0]), dtype=ember.int64, device=ctx.device)


@_op("SplitToSequence")
def _split_to_sequence(ctx, inputs, attrs):
    x, split = inputs[0], _opt(inputs, 1)
    axis = attrs.get("axis", 0) % x.ndim
    if split is None:
        parts = list(ember.split(x, 1, dim=axis))
        if attrs.get("keepdims", 1) == 0:
            parts = [p.squeeze(axis) for p in parts]
        return parts
    sizes = _ints(split)
    if split.ndim == 0:
        return list(ember.split(x, sizes[0], dim=axis))
    return list(ember.split(x, sizes, dim=axis))


@_op("ConcatFromSequence")
def _concat_from_sequence(ctx, inputs, attrs):
    seq = inputs[0]
    axis = attrs["axis"]
    if attrs.get("new_axis", 0):
        return ember.stack(seq, dim=axis)
    return ember.cat(seq, dim=axis)


@_op("SequenceMap")
def _sequence_map(ctx, inputs, attrs):
    body = attrs["body"]
    seq = inputs[0]
    extra = inputs[1:]
    outs = []
    for i in range(len(seq)):
        args = [seq[i]] + [e[i] if isinstance(e, list) else e for e in extra]
        outs.append(body(ctx, *args))
    return tuple([o[j] for o in outs] for j in range(len(body.output_names)))


@_op("Optional")
def _optional(ctx, inputs, attrs):
    return inputs[0] if inputs else None


@_op("OptionalHasElement")
def _optional_has_element(ctx, inputs, attrs):
    return ember.tensor(bool(inputs) and inputs[0] is not None, device=ctx.device)


@_op("OptionalGetElement")
def _optional_get_element(ctx, inputs, attrs):
    if inputs[0] is None:
        raise RuntimeError("onnx.load: OptionalGetElement of an empty optional")
    return inputs[0]


# -- spectral ----------------------------------------------------------------------------

def _as_complex(x):
    """(..., 1) real or (..., 2) real/imaginary -> a complex tensor without the last dim."""
    if x.shape[-1] == 1:
        x = ember.cat([x, ember.zeros_like(x)], dim=-1)
    if x.dtype not in (ember.float32, ember.float64):
        x = x.to(ember.float32)
    return ember.view_as_complex(x.contiguous())


@_op("DFT")
def _dft(ctx, inputs, attrs):
    x, length = inputs[0], _opt(inputs, 1)
    if ctx.opset >= 20:
        axis = _opt(inputs, 2)
        axis = -2 if axis is None else int(axis.item())
    else:
        axis = attrs.get("axis", 1)
    axis = axis % x.ndim
    n = None if length is None else int(length.item())
    signal = _as_complex(x)
    onesided = attrs.get("onesided", 0)
    if attrs.get("inverse", 0):
        if onesided:
            return ember.fft.irfft(signal, n=n, dim=axis).unsqueeze(-1).to(x.dtype)
        y = ember.fft.ifft(signal, n=n, dim=axis)
    else:
        y = ember.fft.fft(signal, n=n, dim=axis)
        if onesided:
            y = y.narrow(axis, 0, y.shape[axis] // 2 + 1)
    return ember.view_as_real(y).to(x.dtype)


@_op("STFT")
def _stft(ctx, inputs, attrs):
    x, step = inputs[0], int(inputs[1].item())
    window, length = _opt(inputs, 2), _opt(inputs, 3)
    length = window.shape[0] if length is None else int(length.item())
    frames = x.unfold(1, length, step)                # (B, frames, 1|2, length)
    frames = frames.transpose(-1, -2)                 # (B, frames, length, 1|2)
    signal = _as_complex(frames)
    if window is not None:
        signal = signal * window.to(signal.real.dtype)
    y = ember.fft.fft(signal, dim=-1)
    if attrs.get("onesided", 1):
        y = y.narrow(-1, 0, length // 2 + 1)
    return ember.view_as_real(y).to(x.dtype)


# -- detection ---------------------------------------------------------------------------

def _corners(boxes, center_point_box):
    """(..., 4) boxes -> (y1, x1, y2, x2) with y1 <= y2 and x1 <= x2 (NumPy)."""
    if center_point_box:
        xc, yc, w, h = np.moveaxis(boxes, -1, 0)
        return np.stack([yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2], -1)
    y1, x1, y2, x2 = np.moveaxis(boxes, -1, 0)
    return np.stack([np.minimum(y1, y2), np.minimum(x1, x2),
                     np.maximum(y1, y2), np.maximum(x1, x2)], -1)


def _iou_matrix(c):
    area = (c[:, 2] - c[:, 0]) * (c[:, 3] - c[:, 1])
    top = np.maximum(c[:, None, 0], c[None, :, 0])
    left = np.maximum(c[:, None, 1], c[None, :, 1])
    bottom = np.minimum(c[:, None, 2], c[None, :, 2])
    right = np.minimum(c[:, None, 3], c[None, :, 3])
    inter = np.clip(bottom - top, 0, None) * np.clip(right - left, 0, None)
    union = area[:, None] + area[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where((inter > 0) & (union > 0), inter / union, 0.0)
    return iou


@_op("NonMaxSuppression")
def _non_max_suppression(ctx, inputs, attrs):
    # The output is indices whose count depends on the data, so the boxes come to the host;
    # the greedy pass is sequential by definition (each pick depends on the earlier ones),
    # over an IoU matrix computed at once per (batch, class).
    boxes = np.asarray(inputs[0].detach().cpu().numpy(), np.float64)
    scores = np.asarray(inputs[1].detach().cpu().numpy(), np.float64)
    limit = _opt(inputs, 2)
    limit = 0 if limit is None or limit.numel() == 0 else int(limit.item())
    iou_limit = _opt(inputs, 3)
    iou_limit = 0.0 if iou_limit is None or iou_limit.numel() == 0 else iou_limit.item()
    floor = _opt(inputs, 4)
    floor = None if floor is None or floor.numel() == 0 else floor.item()
    picked = []
    for b in range(boxes.shape[0]):
        iou = _iou_matrix(_corners(boxes[b], attrs.get("center_point_box", 0)))
        for c in range(scores.shape[1]):
            s = scores[b, c]
            order = np.argsort(-s, kind="stable")
            if floor is not None:
                order = order[s[order] > floor]
            chosen = []
            for i in order:
                if len(chosen) >= limit:
                    break
                if all(iou[i, j] <= iou_limit for j in chosen):
                    chosen.append(i)
            picked += [(b, c, int(i)) for i in chosen]
    out = np.array(picked, np.int64).reshape(-1, 3)
    return ember.tensor(out, device=inputs[0].device)


# -- random ------------------------------------------------------------------------------

def _random_dtype(attrs, like=None):
    if "dtype" in attrs:
        return onnx_dtype(attrs["dtype"])
    return like.dtype if like is not None else ember.float32


def _random(ctx, attrs, shape, dtype, device, normal):
    gen = None
    if "seed" in attrs:
        gen = ember.Generator().manual_seed(int(attrs["seed"]))
    if normal:
        y = ember.randn(shape, generator=gen, dtype=ember.float64, device=device)
        y = y * attrs.get("scale", 1.0) + attrs.get("mean", 0.0)
    else:
        y = ember.rand(shape, generator=gen, dtype=ember.float64, device=device)
        low, high = attrs.get("low", 0.0), attrs.get("high", 1.0)
        y = y * (high - low) + low
    return y.to(dtype)


@_op("RandomUniform")
def _random_uniform(ctx, inputs, attrs):
    return _random(ctx, attrs, list(attrs["shape"]), _random_dtype(attrs), ctx.device, False)


@_op("RandomNormal")
def _random_normal(ctx, inputs, attrs):
    return _random(ctx, attrs, list(attrs["shape"]), _random_dtype(attrs), ctx.device, True)


@_op("RandomUniformLike")
def _random_uniform_like(ctx, inputs, attrs):
    x = inputs[0]
    return _random(ctx, attrs, x.shape, _random_dtype(attrs, x), x.device, False)


@_op("RandomNormalLike")
def _random_normal_like(ctx, inputs, attrs):
    x = inputs[0]
    return _random(ctx, attrs, x.shape, _random_dtype(attrs, x), x.device, True)


@_op("Bernoulli")
def _bernoulli(ctx, inputs, attrs):
    p = inputs[0]
    draw = _random(ctx, {k: v for k, v in attrs.items() if k == "seed"}, p.shape,
                   ember.float64, p.device, False)
    return (draw < p).to(_random_dtype(attrs, p))
