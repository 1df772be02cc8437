"""ONNX export rules: one function per ember op (keyed by ``op_ref``) that writes ONNX nodes.

A rule is ``rule(ctx, node)``: ``node`` is an ``ember.jit.ir.Node``; ``ctx`` (an
``ExportContext``, in exporter.py) gives ONNX names for its inputs (``ctx.x``), the names its
outputs must take (``ctx.out``), emits nodes (``ctx.op``) and constants (``ctx.const``,
``ctx.ints``) and knows the opset (``ctx.opset``, 13 to 18). Rules that can take attributes
traced from a dynamic axis size are listed in ``DYNAMIC_OK`` (Note [Dynamic axes by a second
trace] in exporter.py).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype as D
from .exporter import _np_dtype, _onnx_type, _to_host

RULES: dict = {}
DYNAMIC_OK: set = set()
_INT64_MAX = np.iinfo(np.int64).max


def rule(*refs, dynamic=False):
    def deco(fn):
        for ref in refs:
            RULES[ref] = fn
            if dynamic:
                DYNAMIC_OK.add(ref)
        return fn
    return deco


# -- helpers that emit common patterns --------------------------------------------------------

def _axes_op(ctx, op_type, x, axes, keepdims=None, outputs=None, axes_as_input_from=13):
    """Reduce*/Squeeze/Unsqueeze: axes are an input from the given opset, else an attribute."""
    kw = {} if keepdims is None else {"keepdims": int(keepdims)}
    if axes is None:
        return ctx.op(op_type, [x], outputs=outputs, **kw)
    if ctx.opset >= axes_as_input_from:
        return ctx.op(op_type, [x, ctx.ints(axes)], outputs=outputs, **kw)
    return ctx.op(op_type, [x], outputs=outputs, axes=list(axes), **kw)


def _reduce(ctx, op_type, x, axes, keepdims, outputs=None):
    since = 13 if op_type == "ReduceSum" else 18
    return _axes_op(ctx, op_type, x, axes, keepdims, outputs, since)


def _unsqueeze(ctx, x, axes, outputs=None):
    return _axes_op(ctx, "Unsqueeze", x, list(axes), outputs=outputs)


def _squeeze(ctx, x, axes, outputs=None):
    return _axes_op(ctx, "Squeeze", x, list(axes), outputs=outputs)


def _transpose(ctx, x, perm, outputs=None):
    return ctx.op("Transpose", [x], outputs=outputs, perm=list(perm))


def _swap_last(ndim):
    perm = list(range(ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return perm


# -- elementwise ------------------------------------------------------------------------------

def _binary(op_type):
    def fn(ctx, node):
        dt = ctx.out_dtype(node)
        a, b = node.inputs[:2]
        ctx.op(op_type, [ctx.x(a, dt), ctx.x(b, dt)], outputs=[ctx.out(node)])
    return fn


_E = "ember.ops.elementwise."
_A = "ember.ops.activation."
for _name, _onnx in [("Add", "Add"), ("Sub", "Sub"), ("Mul", "Mul"), ("Div", "Div"),
                     ("Maximum", "Max"), ("Minimum", "Min"), ("Fmax", "Max"),
                     ("Fmin", "Min")]:
    rule(_E + _name)(_binary(_onnx))


@rule(_E + "Pow")
def _pow(ctx, node):
    dt = ctx.out_dtype(node)
    a, b = node.inputs
    if not isinstance(b, (int, float)) or b not in (2, 2.0):
        ctx.op("Pow", [ctx.x(a, dt), ctx.x(b, dt)], outputs=[ctx.out(node)])
    else:           # x * x: exact, where Pow(x, 2) may go through exp/log
        xa = ctx.x(a, dt)
        ctx.op("Mul", [xa, xa], outputs=[ctx.out(node)])


def _unary(op_type, float_only=True):
    def fn(ctx, node):
        dt = ctx.out_dtype(node)
        x = node.inputs[0]
        if float_only and dt.kind not in "fV" or op_type is None:
            ctx.alias(node, ctx.x(x, dt))       # floor/ceil/round of integers: themselves
            return
        ctx.op(op_type, [ctx.x(x, dt)], outputs=[ctx.out(node)])
    return fn


for _name, _onnx in [("Exp", "Exp"), ("Log", "Log"), ("Sqrt", "Sqrt"), ("Tanh", "Tanh"),
                     ("Sigmoid", "Sigmoid"), ("Erf", "Erf"), ("Sin", "Sin"), ("Cos", "Cos"),
                     ("Tan", "Tan"), ("Asin", "Asin"), ("Acos", "Acos"), ("Atan", "Atan"),
                     ("Sinh", "Sinh"), ("Cosh", "Cosh"), ("Asinh", "Asinh"),
                     ("Acosh", "Acosh"), ("Atanh", "Atanh"), ("Floor", "Floor"),
                     ("Ceil", "Ceil"), ("Round", "Round")]:
    rule(_E + _name)(_unary(_onnx))
for _name, _onnx in [("Neg", "Neg"), ("Abs", "Abs"), ("Relu", "Relu"), ("Sign", "Sign")]:
    rule(_E + _name)(_unary(_onnx, float_only=False))


@rule(_E + "Rsqrt")
def _rsqrt(ctx, node):
    dt = ctx.out_dtype(node)
    s = ctx.op("Sqrt", [ctx.x(node.inputs[0], dt)])
    ctx.op("Reciprocal", [s], outputs=[ctx.out(node)])


@rule(_E + "Expm1", _E + "Log1p", _E + "Log2", _E + "Log10", _E + "Exp2", _E + "Erfc")
def _unary_composite(ctx, node):
    dt = ctx.out_dtype(node)
    x = ctx.x(node.inputs[0], dt)
    one = ctx.x(1.0, dt)
    out = [ctx.out(node)]
    name = node.op.name
    if name == "expm1":
        ctx.op("Sub", [ctx.op("Exp", [x]), one], outputs=out)
    elif name == "log1p":
        ctx.op("Log", [ctx.op("Add", [x, one])], outputs=out)
    elif name in ("log2", "log10"):
        ln = math.log(2.0) if name == "log2" else math.log(10.0)
        ctx.op("Div", [ctx.op("Log", [x]), ctx.x(ln, dt)], outputs=out)
    elif name == "exp2":
        ctx.op("Pow", [ctx.x(2.0, dt), x], outputs=out)
    else:
        ctx.op("Sub", [one, ctx.op("Erf", [x])], outputs=out)


@rule(_E + "Clamp")
def _clamp(ctx, node):
    dt = ctx.out_dtype(node)
    x, lo, hi = node.inputs
    from ..jit.ir import Value
    if isinstance(lo, Value) or isinstance(hi, Value):
        y = ctx.x(x, dt)
        if lo is not None:
            y = ctx.op("Max", [y, ctx.x(lo, dt)])
        if hi is not None:
            y = ctx.op("Min", [y, ctx.x(hi, dt)])
        ctx.alias(node, y)
        return
    if lo is not None and hi is not None and lo > hi:
        lo = hi                                 # PyTorch: every element becomes max
    ctx.op("Clip", [ctx.x(x, dt), ctx.x(lo, dt), ctx.x(hi, dt)], outputs=[ctx.out(node)])


@rule(_E + "Where")
def _where(ctx, node):
    dt = ctx.out_dtype(node)
    c, a, b = node.inputs
    ctx.op("Where", [ctx.x(c, np.bool_), ctx.x(a, dt), ctx.x(b, dt)], outputs=[ctx.out(node)])


@rule("ember.ops.index.MaskedFill")
def _masked_fill(ctx, node):
    dt = ctx.out_dtype(node)
    x, mask, value = node.inputs
    ctx.op("Where", [ctx.x(mask, np.bool_), ctx.x(value, dt), ctx.x(x, dt)],
           outputs=[ctx.out(node)])


def _compare(op_type, negate=False):
    def fn(ctx, node):
        a, b = node.inputs
        dt = ctx.promoted([a, b])
        xa, xb = ctx.x(a, dt), ctx.x(b, dt)
        if negate:
            ctx.op("Not", [ctx.op(op_type, [xa, xb])], outputs=[ctx.out(node)])
        else:
            ctx.op(op_type, [xa, xb], outputs=[ctx.out(node)])
    return fn


for _name, _onnx in [("Eq", "Equal"), ("Lt", "Less"), ("Le", "LessOrEqual"),
                     ("Gt", "Greater"), ("Ge", "GreaterOrEqual")]:
    rule(_E + _name)(_compare(_onnx))
rule(_E + "Ne")(_compare("Equal", negate=True))


def _logical(op_type):
    def fn(ctx, node):
        a, b = node.inputs
        dt = ctx.out_dtype(node)
        if dt != np.bool_:
            if op_type == "Xor" or ctx.opset < 18:
                raise ctx.unsupported(node, "bitwise ops on integers need opset 18")
            ctx.op("Bitwise" + op_type, [ctx.x(a, dt), ctx.x(b, dt)], outputs=[ctx.out(node)])
            return
        ctx.op(op_type, [ctx.x(a, np.bool_), ctx.x(b, np.bool_)], outputs=[ctx.out(node)])
    return fn


for _name, _onnx in [("LogicalAnd", "And"), ("LogicalOr", "Or"), ("LogicalXor", "Xor"),
                     ("BitwiseAnd", "And"), ("BitwiseOr", "Or"), ("BitwiseXor", "Xor")]:
    rule(_E + _name)(_logical(_onnx))


@rule(_E + "LogicalNot", _E + "BitwiseNot")
def _not(ctx, node):
    x = node.inputs[0]
    dt = ctx.out_dtype(node)
    if dt == np.bool_:
        ctx.op("Not", [ctx.x(x, np.bool_)], outputs=[ctx.out(node)])
    elif ctx.opset >= 18:
        ctx.op("BitwiseNot", [ctx.x(x, dt)], outputs=[ctx.out(node)])
    else:
        raise ctx.unsupported(node, "bitwise_not on integers needs opset 18")


@rule(_E + "Isnan", _E + "Isinf")
def _isnan(ctx, node):
    x = node.inputs[0]
    op_type = "IsNaN" if node.op.name == "isnan" else "IsInf"
    if ctx.dtype(x).kind not in "fV":         # integers are never nan or inf
        from onnx import numpy_helper
        ctx.op("ConstantOfShape", [ctx.op("Shape", [ctx.x(x)])], outputs=[ctx.out(node)],
               value=numpy_helper.from_array(np.zeros(1, np.bool_)))
        return
    ctx.op(op_type, [ctx.x(x)], outputs=[ctx.out(node)])


# -- activations ------------------------------------------------------------------------------

@rule(_A + "Gelu")
def _gelu(ctx, node):
    dt = ctx.out_dtype(node)
    x = ctx.x(node.inputs[0], dt)
    approx = node.attrs.get("approximate", "none")
    out = [ctx.out(node)]
    half = ctx.x(0.5, dt)
    one = ctx.x(1.0, dt)
    if approx == "tanh":
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = ctx.op("Mul", [ctx.op("Mul", [x, x]), x])
        inner = ctx.op("Add", [x, ctx.op("Mul", [x3, ctx.x(0.044715, dt)])])
        t = ctx.op("Tanh", [ctx.op("Mul", [inner, ctx.x(math.sqrt(2.0 / math.pi), dt)])])
    else:
        t = ctx.op("Erf", [ctx.op("Div", [x, ctx.x(math.sqrt(2.0), dt)])])
    ctx.op("Mul", [ctx.op("Mul", [x, half]), ctx.op("Add", [t, one])], outputs=out)


@rule(_A + "Silu")
def _silu(ctx, node):
    x = ctx.x(node.inputs[0])
    ctx.op("Mul", [x, ctx.op("Sigmoid", [x])], outputs=[ctx.out(node)])


@rule(_A + "LeakyRelu")
def _leaky(ctx, node):
    ctx.op("LeakyRelu", [ctx.x(node.inputs[0])], outputs=[ctx.out(node)],
           alpha=float(node.attrs["negative_slope"]))


@rule(_A + "Elu")
def _elu(ctx, node):
    x = ctx.x(node.inputs[0])
    a = node.attrs
    alpha, scale, in_scale = float(a["alpha"]), float(a["scale"]), float(a["input_scale"])
    out = [ctx.out(node)]
    if scale == 1.0 and in_scale == 1.0:
        ctx.op("Elu", [x], outputs=out, alpha=alpha)
    elif in_scale == 1.0:
        ctx.op("Selu", [x], outputs=out, alpha=alpha, gamma=scale)
    else:                                       # celu: alpha * elu(x / alpha)
        dt = ctx.dtype(node.inputs[0])
        e = ctx.op("Elu", [ctx.op("Mul", [x, ctx.x(in_scale, dt)])], alpha=1.0)
        if alpha * scale != 1.0:
            ctx.op("Mul", [e, ctx.x(alpha * scale, dt)], outputs=out)
        else:
            ctx.alias(node, e)


@rule(_A + "Hardtanh")
def _hardtanh(ctx, node):
    dt = ctx.out_dtype(node)
    a = node.attrs
    ctx.op("Clip", [ctx.x(node.inputs[0]), ctx.x(a["min_val"], dt), ctx.x(a["max_val"], dt)],
           outputs=[ctx.out(node)])


@rule(_A + "Softplus")
def _softplus(ctx, node):
    dt = ctx.out_dtype(node)
    x = ctx.x(node.inputs[0])
    beta, threshold = float(node.attrs["beta"]), float(node.attrs["threshold"])
    bx = ctx.op("Mul", [x, ctx.x(beta, dt)]) if beta != 1.0 else x
    sp = ctx.op("Softplus", [bx])
    if beta != 1.0:
        sp = ctx.op("Div", [sp, ctx.x(beta, dt)])
    # Above the threshold PyTorch returns x itself.
    ctx.op("Where", [ctx.op("Greater", [bx, ctx.x(threshold, dt)]), x, sp],
           outputs=[ctx.out(node)])


@rule(_A + "Hardsigmoid")
def _hardsigmoid(ctx, node):
    ctx.op("HardSigmoid", [ctx.x(node.inputs[0])], outputs=[ctx.out(node)], alpha=1.0 / 6,
           beta=0.5)


@rule(_A + "Hardswish")
def _hardswish(ctx, node):
    x = ctx.x(node.inputs[0])
    if ctx.opset >= 14:
        ctx.op("HardSwish", [x], outputs=[ctx.out(node)])
    else:
        hs = ctx.op("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)
        ctx.op("Mul", [x, hs], outputs=[ctx.out(node)])


@rule(_A + "Mish")
def _mish(ctx, node):
    x = ctx.x(node.inputs[0])
    if ctx.opset >= 18:
        ctx.op("Mish", [x], outputs=[ctx.out(node)])
    else:
        t = ctx.op("Tanh", [ctx.op("Softplus", [x])])
        ctx.op("Mul", [x, t], outputs=[ctx.out(node)])


@rule(_A + "LogSigmoid")
def _logsigmoid(ctx, node):
    x = ctx.x(node.inputs[0])
    sp = ctx.op("Softplus", [ctx.op("Neg", [x])])
    ctx.op("Neg", [sp], outputs=[ctx.out(node)])


@rule("ember.ops.nn.Softmax", "ember.ops.nn.LogSoftmax")
def _softmax(ctx, node):
    dt = ctx.out_dtype(node)
    op_type = "Softmax" if node.op.name == "softmax" else "LogSoftmax"
    ctx.op(op_type, [ctx.x(node.inputs[0], dt)], outputs=[ctx.out(node)],
           axis=int(node.attrs["dim"]))


# -- linear algebra, convolution, pooling -----------------------------------------------------

@rule("ember.ops.conv.Linear")
def _linear(ctx, node):
    dt = ctx.out_dtype(node)
    x, w = node.inputs[0], node.inputs[1]
    b = node.inputs[2] if len(node.inputs) > 2 else None
    out = [ctx.out(node)]
    if len(x.shape) == 2:
        ctx.op("Gemm", [ctx.x(x, dt), ctx.x(w, dt), ctx.x(b, dt)], outputs=out, transB=1)
        return
    wt = _transpose(ctx, ctx.x(w, dt), [1, 0])
    if b is None:
        ctx.op("MatMul", [ctx.x(x, dt), wt], outputs=out)
    else:
        ctx.op("Add", [ctx.op("MatMul", [ctx.x(x, dt), wt]), ctx.x(b, dt)], outputs=out)


@rule("ember.ops.linalg.Matmul")
def _matmul(ctx, node):
    dt = ctx.out_dtype(node)
    a, b = node.inputs
    ctx.op("MatMul", [ctx.x(a, dt), ctx.x(b, dt)], outputs=[ctx.out(node)])


def _flat_pads(pads):
    return [int(p[0]) for p in pads] + [int(p[1]) for p in pads]


@rule("ember.ops.conv._Conv")
def _conv(ctx, node):
    dt = ctx.out_dtype(node)
    a = node.attrs
    x, w = node.inputs[0], node.inputs[1]
    b = node.inputs[2] if len(node.inputs) > 2 else None
    ctx.op("Conv", [ctx.x(x, dt), ctx.x(w, dt), ctx.x(b, dt)], outputs=[ctx.out(node)],
           kernel_shape=list(w.shape[2:]), strides=list(a["stride"]),
           pads=_flat_pads(a["pads"]), dilations=list(a["dilation"]), group=int(a["groups"]))


@rule("ember.ops.conv._ConvInputGrad")
def _conv_transpose(ctx, node):
    dt = ctx.out_dtype(node)
    a = node.attrs
    x, w = node.inputs[0], node.inputs[1]
    b = node.inputs[2] if len(node.inputs) > 2 else None
    K = w.shape[2:]
    target = a["x_shape"][2:]
    pads = a["pads"]
    out_pad = []
    for i, k in enumerate(K):
        full = (x.shape[2 + i] - 1) * a["stride"][i] - pads[i][0] - pads[i][1] + \
            a["dilation"][i] * (k - 1) + 1
        out_pad.append(int(target[i] - full))
    ctx.op("ConvTranspose", [ctx.x(x, dt), ctx.x(w, dt), ctx.x(b, dt)], outputs=[ctx.out(node)],
           kernel_shape=list(K), strides=list(a["stride"]), pads=_flat_pads(pads),
           dilations=list(a["dilation"]), group=int(a["groups"]),
           output_padding=out_pad if any(out_pad) else None)


@rule("ember.ops.conv._MaxPool")
def _max_pool(ctx, node):
    a = node.attrs
    uses = ctx.graph.uses()
    if uses.get(node.outputs[1].id) or node.outputs[1] in ctx.graph.outputs:
        raise ctx.unsupported(node, "max pooling indices (return_indices=True) have no ONNX "
                                    "equivalent (ONNX counts them over the whole tensor)")
    ctx.op("MaxPool", [ctx.x(node.inputs[0])], outputs=[ctx.out(node)],
           kernel_shape=list(a["kernel"]), strides=list(a["stride"]),
           pads=_flat_pads(a["pads"]), dilations=list(a["dilation"]))


@rule("ember.ops.conv._ConstantPad")
def _constant_pad(ctx, node):
    x = node.inputs[0]
    dt = ctx.out_dtype(node)
    pads = node.attrs["pads"]
    rank = len(x.shape)
    lead = rank - len(pads)
    lo = [0] * lead + [int(p[0]) for p in pads]
    hi = [0] * lead + [int(p[1]) for p in pads]
    ctx.op("Pad", [ctx.x(x, dt), ctx.ints(lo + hi), ctx.x(node.attrs["value"], dt)],
           outputs=[ctx.out(node)], mode="constant")


# -- normalization, embedding, attention ------------------------------------------------------

@rule("ember.ops.norm.BatchNorm")
def _batch_norm(ctx, node):
    a = node.attrs
    if a["running_mean"] is None:
        _batch_stats_norm(ctx, node)
        return
    if a["training"]:
        raise ctx.unsupported(node, "batch_norm in training mode updates its running "
                                    "statistics; export the model in eval mode")
    dt = ctx.out_dtype(node)
    x = node.inputs[0]
    w = node.inputs[1] if len(node.inputs) > 1 else None
    b = node.inputs[2] if len(node.inputs) > 2 else None
    C = x.shape[1]
    scale = ctx.x(w, dt) if w is not None else ctx.const(np.ones(C, dt))
    bias = ctx.x(b, dt) if b is not None else ctx.const(np.zeros(C, dt))
    names = getattr(node, "param_attrs", None) or {}
    mean = ctx.array(a["running_mean"], "running_mean", names.get("running_mean"))
    var = ctx.array(a["running_var"], "running_var", names.get("running_var"))
    stat_dt = _stat_dtype(a["running_mean"])
    if stat_dt is not None and stat_dt != dt:
        mean = ctx.op("Cast", [mean], to=_onnx_type(dt))
        var = ctx.op("Cast", [var], to=_onnx_type(dt))
    ctx.op("BatchNormalization", [ctx.x(x, dt), scale, bias, mean, var],
           outputs=[ctx.out(node)], epsilon=float(a["eps"]), momentum=1.0 - float(a["momentum"]))


def _stat_dtype(arr):
    if arr is None:
        return None
    if hasattr(arr, "kind") and hasattr(arr, "dtype") and hasattr(arr, "id"):   # ir.Value
        return _np_dtype(arr.dtype)
    return np.dtype(arr.dtype) if not isinstance(arr.dtype, D.dtype) else _np_dtype(arr.dtype)


@rule("ember.ops.norm.LayerNorm")
def _layer_norm(ctx, node):
    dt = ctx.out_dtype(node)
    k = int(node.attrs["k"])
    eps = float(node.attrs["eps"])
    x = node.inputs[0]
    w = node.inputs[1] if len(node.inputs) > 1 else None
    b = node.inputs[2] if len(node.inputs) > 2 else None
    rank = len(x.shape)
    xs = ctx.x(x, dt)
    out = [ctx.out(node)]
    if ctx.opset >= 17:
        scale = ctx.x(w, dt) if w is not None else \
            ctx.const(np.ones(ctx.static_shape(x, "layer_norm without weight")[rank - k:], dt))
        ctx.op("LayerNormalization", [xs, scale, ctx.x(b, dt)], outputs=out, axis=-k,
               epsilon=eps)
        return
    axes = list(range(rank - k, rank))
    mean = _reduce(ctx, "ReduceMean", xs, axes, True)
    d = ctx.op("Sub", [xs, mean])
    var = _reduce(ctx, "ReduceMean", ctx.op("Mul", [d, d]), axes, True)
    y = ctx.op("Div", [d, ctx.op("Sqrt", [ctx.op("Add", [var, ctx.x(eps, dt)])])])
    if w is not None:
        y = ctx.op("Mul", [y, ctx.x(w, dt)])
    if b is not None:
        y = ctx.op("Add", [y, ctx.x(b, dt)])
    ctx.alias(node, y)


@rule("ember.ops.norm.Embedding")
def _embedding(ctx, node):
    weight, indices = node.inputs
    ctx.op("Gather", [ctx.x(weight), ctx.x(indices)], outputs=[ctx.out(node)], axis=0)


@rule("ember.ops.attention.ScaledDotProductAttention", dynamic=True)
def _sdpa(ctx, node):
    a = node.attrs
    if a["has_drop"]:
        raise ctx.unsupported(node, "attention dropout is random; export in eval mode "
                                    "(dropout_p=0)")
    dt = ctx.out_dtype(node)
    q, k, v = node.inputs[:3]
    mask = node.inputs[3] if a["has_mask"] else None
    xq, xk, xv = ctx.x(q, dt), ctx.x(k, dt), ctx.x(v, dt)
    groups = int(a["groups"])
    if groups > 1:
        xk = _repeat_heads(ctx, xk, k, groups)
        xv = _repeat_heads(ctx, xv, v, groups)
    s = ctx.op("MatMul", [ctx.op("Mul", [xq, ctx.x(float(a["scale"]), dt)]),
                          _transpose(ctx, xk, _swap_last(len(k.shape)))])
    if a["is_causal"]:
        s = ctx.op("Add", [s, _causal_mask(ctx, q, k, xq, xk, dt)])
    if mask is not None:
        if ctx.dtype(mask) == np.bool_:
            m = ctx.op("Where", [ctx.x(mask), ctx.x(0.0, dt), ctx.x(-np.inf, dt)])
        else:
            m = ctx.x(mask, dt)
        s = ctx.op("Add", [s, m])
    used_p = ctx.graph.uses().get(node.outputs[1].id) or node.outputs[1] in ctx.graph.outputs
    p = ctx.op("Softmax", [s], axis=-1)
    if mask is not None:
        # A row masked everywhere gives zeros in ember ("safe softmax"), NaN in Softmax.
        p = ctx.op("Where", [ctx.op("IsNaN", [p]), ctx.x(0.0, dt), p])
    if used_p:
        p = ctx.op("Identity", [p], outputs=[ctx.out(node, 1)])
    ctx.op("MatMul", [p, xv], outputs=[ctx.out(node, 0)])


def _causal_mask(ctx, q, k, xq, xk, dt):
    """(L, S): 0 on and below the diagonal, -inf above; computed from the run-time sizes
    when L or S follows a dynamic axis."""
    if not (ctx.is_dynamic(q, -2) or ctx.is_dynamic(k, -2)):
        L, S = q.shape[-2], k.shape[-2]
        return ctx.const(np.where(np.tri(L, S, dtype=bool), 0.0, -np.inf).astype(dt),
                         "causal_mask")
    sizes = [ctx.op("Gather", [ctx.op("Shape", [name]), ctx.const(np.asarray(-2, np.int64))],
                    axis=0) for name in (xq, xk)]
    zero, one = ctx.const(np.asarray(0, np.int64)), ctx.const(np.asarray(1, np.int64))
    rows = _unsqueeze(ctx, ctx.op("Range", [zero, sizes[0], one]), [1])     # (L, 1)
    cols = _unsqueeze(ctx, ctx.op("Range", [zero, sizes[1], one]), [0])     # (1, S)
    return ctx.op("Where", [ctx.op("Greater", [cols, rows]), ctx.x(-np.inf, dt),
                            ctx.x(0.0, dt)])


def _repeat_heads(ctx, name, v, groups):
    """(..., H, S, E) -> (..., H * groups, S, E), each head repeated groups times."""
    rank = len(v.shape)
    e = _unsqueeze(ctx, name, [rank - 2])           # (..., H, 1, S, E)
    shape = [1] * (rank + 1)
    shape[rank - 2] = groups
    e = ctx.op("Expand", [e, ctx.ints(shape)])
    target = [0] * (rank - 3) + [-1, v.shape[-2], v.shape[-1]]
    return ctx.op("Reshape", [e, ctx.ints(target)])


# -- shapes -----------------------------------------------------------------------------------

_S = "ember.ops.shape."


@rule(_S + "View", _S + "ReshapeCopy", dynamic=True)
def _reshape(ctx, node):
    x = node.inputs[0]
    shape = list(node.attrs["shape"])
    alt = ctx.alt_attrs.get(id(node))
    if alt is not None:
        alt_shape = list(alt["shape"])
        diff = [i for i, (s1, s2) in enumerate(zip(shape, alt_shape)) if s1 != s2]
        in_alt = ctx.alt_shapes.get(x.id, x.shape)
        rest = []
        for i in diff:
            # ONNX's 0 copies the input's dimension at the same position.
            if i < len(x.shape) and x.shape[i] == shape[i] and in_alt[i] == alt_shape[i]:
                shape[i] = 0
            else:
                rest.append(i)
        if rest:
            shape[rest[-1]] = -1
        for i in rest[:-1]:
            dim = ctx.dynamic_dim(node.attrs["shape"][i], alt_shape[i])
            if dim is None:
                raise RuntimeError(
                    f"onnx export: 'ember::{node.op.name}' to {tuple(node.attrs['shape'])} has "
                    "several dimensions that follow dynamic axes and ember finds no tensor of "
                    "that size to read them from; export with fewer dynamic axes")
            shape[i] = dim
    ctx.op("Reshape", [ctx.x(x), ctx.shape_tensor(shape)], outputs=[ctx.out(node)])


@rule(_S + "Permute")
def _permute(ctx, node):
    _transpose(ctx, ctx.x(node.inputs[0]), [int(d) for d in node.attrs["dims"]],
               outputs=[ctx.out(node)])


@rule(_S + "Expand", dynamic=True)
def _expand(ctx, node):
    x = node.inputs[0]
    shape = list(node.attrs["shape"])
    alt = ctx.alt_attrs.get(id(node))
    if alt is not None:
        in_alt = ctx.alt_shapes.get(x.id, x.shape)
        lead = len(shape) - len(x.shape)
        for i, (s1, s2) in enumerate(zip(shape, alt["shape"])):
            if s1 == s2:
                continue
            j = i - lead
            if j >= 0 and x.shape[j] == s1 and in_alt[j] == s2:
                shape[i] = 1            # Expand broadcasts: the input's own size is kept
                continue
            shape[i] = ctx.dynamic_dim(s1, s2)
            if shape[i] is None:
                raise RuntimeError(
                    f"onnx export: 'ember::expand' to {tuple(node.attrs['shape'])} follows a "
                    "dynamic axis the input does not have; ember cannot export it dynamically")
    ctx.op("Expand", [ctx.x(x), ctx.shape_tensor(shape)], outputs=[ctx.out(node)])


@rule(_S + "Contiguous", "ember.ops.creation.Clone")
def _identity(ctx, node):
    ctx.alias(node, ctx.x(node.inputs[0]))


@rule("ember.ops.creation.ToCopy")
def _to(ctx, node):
    x = node.inputs[0]
    want = ctx.out_dtype(node)
    if ctx.dtype(x) == want:
        ctx.alias(node, ctx.x(x))
    else:
        ctx.op("Cast", [ctx.x(x)], outputs=[ctx.out(node)], to=_onnx_type(want))


@rule("ember.ops.index.GetItemView", _S + "Slice")
def _getitem_view(ctx, node):
    x = node.inputs[0]
    index = node.attrs["index"]
    if not isinstance(index, tuple):
        index = (index,)
    rank = len(x.shape)
    consumed = sum(1 for it in index if it is not None and it is not Ellipsis)
    items = []
    for it in index:
        if it is Ellipsis:
            items.extend([slice(None)] * (rank - consumed))
        else:
            items.append(it)
    items.extend([slice(None)] * (rank - sum(1 for it in items if it is not None)))
    name = ctx.x(x)
    starts, ends, axes, steps, picks, news = [], [], [], [], [], []
    axis = out_pos = 0
    for it in items:
        if it is None:
            news.append(out_pos)
            out_pos += 1
        elif isinstance(it, slice):
            if it != slice(None):
                step = 1 if it.step is None else int(it.step)
                lo = it.start if it.start is not None else (0 if step > 0 else -1)
                hi = it.stop if it.stop is not None else (_INT64_MAX if step > 0
                                                          else -_INT64_MAX)
                starts.append(int(lo))
                ends.append(int(hi))
                axes.append(axis)
                steps.append(step)
            axis += 1
            out_pos += 1
        elif isinstance(it, (bool, np.bool_)):
            raise ctx.unsupported(node, "indexing with True/False is not exported")
        else:
            picks.append((axis, int(it)))
            axis += 1
    if axes:
        name = ctx.op("Slice", [name, ctx.ints(starts), ctx.ints(ends), ctx.ints(axes),
                                ctx.ints(steps)])
    for ax, i in sorted(picks, reverse=True):
        name = ctx.op("Gather", [name, ctx.const(np.asarray(i, np.int64))], axis=ax)
    if news:
        name = _unsqueeze(ctx, name, news)
    ctx.alias(node, name)


@rule("ember.ops.index.GetItem")
def _getitem(ctx, node):
    from ..jit.ir import Value
    x = node.inputs[0]
    index = node.attrs["index"]
    if not isinstance(index, tuple):
        index = (index,)
    arrays = [i for i, it in enumerate(index) if isinstance(it, Value) or
              (hasattr(it, "dtype") and hasattr(it, "shape"))]
    plain = all(it == slice(None) for i, it in enumerate(index)
                if i not in arrays and isinstance(it, slice))
    others = [it for i, it in enumerate(index) if i not in arrays and
              not isinstance(it, slice)]
    if len(arrays) != 1 or not plain or others:
        raise ctx.unsupported(node, "ember exports advanced indexing with one integer index "
                                    "tensor among full slices (x[:, idx]) only")
    it = index[arrays[0]]
    if isinstance(it, Value):
        if ctx.dtype(it) == np.bool_:
            raise ctx.unsupported(node, "boolean mask indexing has a data-dependent shape")
        idx = ctx.x(it)
    else:
        arr = _to_host(it._data if hasattr(it, "_data") else it)
        if np.asarray(arr).dtype == np.bool_:
            raise ctx.unsupported(node, "boolean mask indexing has a data-dependent shape")
        idx = ctx.const(np.asarray(arr, dtype=np.int64), "index")
    ctx.op("Gather", [ctx.x(x), idx], outputs=[ctx.out(node)], axis=arrays[0])


@rule(_S + "Split")
def _split(ctx, node):
    x = node.inputs[0]
    dim = int(node.attrs["dim"]) % len(x.shape)
    bounds = node.attrs["bounds"]
    size = x.shape[dim]
    contiguous = bounds and bounds[0][0] == 0 and bounds[-1][1] == size and \
        all(b[1] == c[0] for b, c in zip(bounds, bounds[1:]))
    outs = [ctx.out(node, i) for i in range(len(node.outputs))]
    if contiguous and len(bounds) > 1:
        sizes = [int(hi - lo) for lo, hi in bounds]
        ctx.op("Split", [ctx.x(x), ctx.ints(sizes)], outputs=outs, axis=dim)
        return
    for (lo, hi), out in zip(bounds, outs):
        ctx.op("Slice", [ctx.x(x), ctx.ints([lo]), ctx.ints([hi]), ctx.ints([dim])],
               outputs=[out])


@rule(_S + "Unbind")
def _unbind(ctx, node):
    x = node.inputs[0]
    dim = int(node.attrs["dim"]) % len(x.shape)
    n = len(node.outputs)
    parts = ctx.op("Split", [ctx.x(x), ctx.ints([1] * n)], n=n, axis=dim) if n > 1 \
        else [ctx.x(x)]
    for i, p in enumerate(parts if isinstance(parts, list) else [parts]):
        _squeeze(ctx, p, [dim], outputs=[ctx.out(node, i)])


@rule(_S + "Cat")
def _cat(ctx, node):
    dt = ctx.out_dtype(node)
    xs = [v for v in node.inputs if not (len(v.shape) == 1 and v.shape[0] == 0)]
    rank = len(node.outputs[0].shape)
    dim = int(node.attrs["dim"]) % rank
    ctx.op("Concat", [ctx.x(v, dt) for v in xs], outputs=[ctx.out(node)], axis=dim)


@rule(_S + "Stack")
def _stack(ctx, node):
    dt = ctx.out_dtype(node)
    rank = len(node.outputs[0].shape)
    dim = int(node.attrs["dim"]) % rank
    parts = [_unsqueeze(ctx, ctx.x(v, dt), [dim]) for v in node.inputs]
    ctx.op("Concat", parts, outputs=[ctx.out(node)], axis=dim)


@rule(_S + "Tril", _S + "Triu")
def _trilu(ctx, node):
    x = node.inputs[0]
    k = int(node.attrs["diagonal"])
    upper = node.op.name == "triu"
    if ctx.opset >= 14:
        ctx.op("Trilu", [ctx.x(x), ctx.const(np.asarray(k, np.int64))],
               outputs=[ctx.out(node)], upper=int(upper))
        return
    R, C = ctx.static_shape(x, node.op.name)[-2:]
    keep = np.triu(np.ones((R, C), bool), k) if upper else np.tril(np.ones((R, C), bool), k)
    dt = ctx.dtype(x)
    ctx.op("Where", [ctx.const(keep), ctx.x(x), ctx.x(0, dt)], outputs=[ctx.out(node)])


@rule(_S + "Flip")
def _flip(ctx, node):
    x = node.inputs[0]
    dims = [int(d) % len(x.shape) for d in node.attrs["dims"]]
    n = len(dims)
    ctx.op("Slice", [ctx.x(x), ctx.ints([-1] * n), ctx.ints([-_INT64_MAX] * n), ctx.ints(dims),
                     ctx.ints([-1] * n)], outputs=[ctx.out(node)])


@rule(_S + "Repeat")
def _repeat(ctx, node):
    x = node.inputs[0]
    reps = [int(r) for r in node.attrs["repeats"]]
    name = ctx.x(x)
    extra = len(reps) - len(x.shape)
    if extra > 0:
        name = _unsqueeze(ctx, name, range(extra))
    ctx.op("Tile", [name, ctx.ints(reps)], outputs=[ctx.out(node)])


# -- reductions -------------------------------------------------------------------------------

_R = "ember.ops.reduce."


def _dims(dims, rank):
    if dims is None:
        return None
    if isinstance(dims, int):
        dims = (dims,)
    return [int(d) % rank if rank else 0 for d in dims]


@rule(_R + "Sum", _R + "Mean", _R + "Prod")
def _sum(ctx, node):
    x = node.inputs[0]
    dt = ctx.out_dtype(node)
    rank = len(x.shape)
    axes = _dims(node.attrs["dims"], rank)
    op_type = {"sum": "ReduceSum", "mean": "ReduceMean", "prod": "ReduceProd"}[node.op.name]
    if rank == 0:
        ctx.alias(node, ctx.x(x, dt))
        return
    _reduce(ctx, op_type, ctx.x(x, dt), axes, node.attrs["keepdim"], outputs=[ctx.out(node)])


@rule(_R + "Amax", _R + "Amin", _R + "_MaxAll", _R + "_MinAll")
def _amax(ctx, node):
    x = node.inputs[0]
    rank = len(x.shape)
    op_type = "ReduceMax" if node.op.name in ("amax", "max") else "ReduceMin"
    if rank == 0:
        ctx.alias(node, ctx.x(x))
        return
    axes = _dims(node.attrs["dims"], rank)
    keep = node.attrs["keepdim"]
    if ctx.dtype(x) != np.bool_:
        _reduce(ctx, op_type, ctx.x(x), axes, keep, outputs=[ctx.out(node)])
        return
    r = _reduce(ctx, op_type, ctx.x(x, np.int32), axes, keep)    # no bool Reduce* in ONNX
    ctx.op("Cast", [r], outputs=[ctx.out(node)], to=_onnx_type(np.bool_))


@rule(_R + "MaxDim", _R + "MinDim")
def _max_dim(ctx, node):
    x = node.inputs[0]
    rank = len(x.shape)
    dim = int(node.attrs["dim"]) % max(rank, 1)
    keep = int(node.attrs["keepdim"])
    is_max = node.op.name == "max"
    _reduce(ctx, "ReduceMax" if is_max else "ReduceMin", ctx.x(x), [dim], keep,
            outputs=[ctx.out(node, 0)])
    ctx.op("ArgMax" if is_max else "ArgMin", [ctx.x(x)], outputs=[ctx.out(node, 1)], axis=dim,
           keepdims=keep)


@rule(_R + "Argmax", _R + "Argmin")
def _argmax(ctx, node):
    x = node.inputs[0]
    op_type = "ArgMax" if node.op.name == "argmax" else "ArgMin"
    dim = node.attrs["dim"]
    keep = int(node.attrs["keepdim"])
    if dim is None:
        flat = ctx.op("Reshape", [ctx.x(x), ctx.ints([-1])])
        r = ctx.op(op_type, [flat], axis=0, keepdims=0)
        if keep:
            r = ctx.op("Reshape", [r, ctx.ints([1] * len(x.shape))])
        ctx.alias(node, r)
        return
    ctx.op(op_type, [ctx.x(x)], outputs=[ctx.out(node)], axis=int(dim) % max(len(x.shape), 1),
           keepdims=keep)


@rule(_R + "All", _R + "Any")
def _all(ctx, node):
    x = node.inputs[0]
    rank = len(x.shape)
    as_int = ctx.op("Cast", [ctx.x(x)], to=_onnx_type(np.int32))
    if rank == 0:
        r = as_int
    else:
        op_type = "ReduceMin" if node.op.name == "all" else "ReduceMax"
        r = _reduce(ctx, op_type, ctx.op("Abs", [as_int]) if ctx.dtype(x) != np.bool_
                    else as_int, _dims(node.attrs["dims"], rank), node.attrs["keepdim"])
    ctx.op("Cast", [r], outputs=[ctx.out(node)], to=_onnx_type(np.bool_))


@rule(_R + "Var")
def _var(ctx, node):
    x = node.inputs[0]
    dt = ctx.out_dtype(node)
    rank = len(x.shape)
    axes = _dims(node.attrs["dims"], rank) or list(range(rank))
    shape = ctx.static_shape(x, "var")
    n = int(np.prod([shape[a] for a in axes])) if axes else 1
    xs = ctx.x(x, dt)
    mean = _reduce(ctx, "ReduceMean", xs, axes, True)
    d = ctx.op("Sub", [xs, mean])
    ss = _reduce(ctx, "ReduceSum", ctx.op("Mul", [d, d]), axes, node.attrs["keepdim"])
    denom = max(n - float(node.attrs["correction"]), 0.0)
    ctx.op("Div", [ss, ctx.x(denom, dt)], outputs=[ctx.out(node)])


@rule(_R + "LogSumExp")
def _logsumexp(ctx, node):
    x = node.inputs[0]
    dt = ctx.out_dtype(node)
    rank = len(x.shape)
    _reduce(ctx, "ReduceLogSumExp", ctx.x(x, dt), _dims(node.attrs["dims"], rank),
            node.attrs["keepdim"], outputs=[ctx.out(node)])


@rule(_R + "CumSum")
def _cumsum(ctx, node):
    x = node.inputs[0]
    dt = ctx.out_dtype(node)
    dim = int(node.attrs["dim"]) % max(len(x.shape), 1)
    ctx.op("CumSum", [ctx.x(x, dt), ctx.const(np.asarray(dim, np.int64))],
           outputs=[ctx.out(node)])


# -- recurrent layers -------------------------------------------------------------------------

# ONNX gate order from PyTorch's chunks: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h.
_GATES = {"LSTM": (4, [0, 3, 1, 2]), "GRU": (3, [1, 0, 2]), "tanh": (1, [0]), "relu": (1, [0])}


@rule("ember.ops.rnn._RecurrentLayer", dynamic=True)
def _recurrent_layer(ctx, node):
    """One layer and direction -> one ONNX LSTM/GRU/RNN; the two directions of a
    bidirectional layer -> one ONNX op with direction="bidirectional" (Note [RNN export])."""
    pair = ctx.rnn_pairs.get(id(node))
    if pair == "deferred":
        return                          # its reverse partner emits both directions
    nodes = [pair, node] if pair is not None else [node]
    parts = [_direction_inputs(ctx, n) for n in nodes]
    mode = node.attrs["mode"]
    dt = ctx.out_dtype(node)
    H = node.inputs[1].shape[-1]
    if len(parts) == 1:
        X, W, R, B, h, c = parts[0]
        direction = "reverse" if node.attrs["reverse"] else "forward"
    else:
        X = parts[0][0]
        W, R, B, h, c = (_stack_dirs(ctx, [p[i] for p in parts], dt) for i in range(1, 6))
        direction = "bidirectional"
    kw = {"hidden_size": int(H), "direction": direction}
    inputs = [X, W, R, B, "", h]
    if mode == "LSTM":
        inputs.append(c)
        op_type, n_out = "LSTM", 3
    elif mode == "GRU":
        op_type, n_out = "GRU", 2
        kw["linear_before_reset"] = 1
    else:
        op_type, n_out = "RNN", 2
        kw["activations"] = ["Tanh" if mode == "tanh" else "Relu"] * len(nodes)
    outs = ctx.op(op_type, inputs, n=n_out, **kw)
    for d, n in enumerate(nodes):
        # Y (T, D, B, H) -> (T, B, H); Y_h, Y_c (D, B, H) -> (B, H)
        index = ctx.const(np.asarray(d, np.int64))
        ctx.op("Gather", [outs[0], index], outputs=[ctx.out(n, 0)], axis=1)
        for i in range(1, n_out):
            ctx.op("Gather", [outs[i], index], outputs=[ctx.out(n, i)], axis=0)


def _direction_inputs(ctx, node):
    """(X, W, R, B, initial_h, initial_c) of one direction; W, R, B and the states with a
    leading direction axis of 1 ("" where omitted)."""
    a = node.attrs
    mode = a["mode"]
    if a["has_r"]:
        raise ctx.unsupported(node, "LSTM with proj_size has no ONNX equivalent")
    ins = list(node.inputs)
    proj, h0 = ins[0], ins[1]
    c0 = ins[2] if mode == "LSTM" else None
    k = 3 if mode == "LSTM" else 2
    w_hh = ins[k]
    b_hh = ins[k + 1] if a["has_b"] else None
    if len(proj.shape) != 3:
        raise ctx.unsupported(node, "packed sequences (PackedSequence) are not exported; pad "
                                    "the batch instead")
    dt = ctx.out_dtype(node)
    G = proj.shape[-1]
    H = h0.shape[-1]
    order = _GATES[mode][1]
    rows = np.concatenate([np.arange(g * H, (g + 1) * H) for g in order]).astype(np.int64)
    # Note [RNN export]
    #     ember's layer op takes the input projection x @ w_ih.T + biases already computed
    #     (one matmul for the whole sequence). When that projection is ember's own pattern
    #     (_rnn_projections), the ONNX op takes x, w_ih and the summed biases itself and the
    #     projection nodes are dead code; the two directions of a bidirectional layer then
    #     read the same x and become one ONNX op with stacked weights. Otherwise the op gets
    #     the projection as X with W a permutation matrix that reorders the gates (exact: a
    #     product with ones and zeros; G x G floats more in the file). Gates go from
    #     PyTorch's order to ONNX's by a Gather of the weight rows; GRU's recurrent bias stays
    #     separate (linear_before_reset=1 is PyTorch's GRU).
    order_rows = ctx.const(rows, "gate_order")

    def reordered(v):
        return ctx.op("Gather", [ctx.x(v, dt), order_rows], axis=0)

    src = ctx.rnn_inputs.get(id(node), (None,))[0]
    if src is not None:
        X = ctx.x(src["x"], dt)
        W = _unsqueeze(ctx, reordered(src["w_ih"]), [0])
        wb = reordered(src["bias"]) if src["bias"] is not None else None
    else:
        X = ctx.x(proj, dt)
        W = ctx.const(np.eye(G, dtype=dt)[rows][None], "rnn_W")
        wb = None
    R = _unsqueeze(ctx, reordered(w_hh), [0])
    B = ""
    if b_hh is not None or wb is not None:
        rb = reordered(b_hh) if b_hh is not None else ctx.const(np.zeros(G, dt))
        wb = wb if wb is not None else ctx.const(np.zeros(G, dt))
        B = _unsqueeze(ctx, ctx.op("Concat", [wb, rb], axis=0), [0])
    init_h = _initial_state(ctx, h0, dt)
    init_c = _initial_state(ctx, c0, dt) if c0 is not None else ""
    return X, W, R, B, init_h, init_c


def _stack_dirs(ctx, names, dt):
    if all(n == "" for n in names):
        return ""
    if any(n == "" for n in names):
        raise RuntimeError("onnx export: internal error: directions of one RNN layer differ")
    return ctx.op("Concat", names, axis=0)


def _rnn_pairs(graph, projections) -> dict:
    """id(node) -> its forward partner (for a reverse node) or "deferred" (for the forward
    node) for the two directions of one bidirectional layer: same mode, same input x, both
    initial states zero or both given, and nothing between them reads the forward outputs."""
    from ..jit.ir import op_ref
    pairs = {}
    nodes = graph.nodes
    index = {id(n): i for i, n in enumerate(nodes)}
    last_fwd = None
    for node in nodes:
        if op_ref(node.op) != "ember.ops.rnn._RecurrentLayer" or id(node) not in projections:
            continue
        if not node.attrs["reverse"]:
            last_fwd = node
            continue
        fwd, last_fwd = last_fwd, None
        if fwd is None or fwd.attrs["mode"] != node.attrs["mode"] or \
                fwd.attrs["has_b"] != node.attrs["has_b"] or \
                projections[id(fwd)][0]["x"] is not projections[id(node)][0]["x"]:
            continue
        outs = {v.id for v in fwd.outputs}
        between = nodes[index[id(fwd)] + 1:index[id(node)]]
        if any(getattr(v, "id", None) in outs for n in between for v in n.inputs):
            continue
        pairs[id(fwd)] = "deferred"
        pairs[id(node)] = fwd
    return pairs


def _rnn_projections(graph) -> dict:
    """id(recurrent layer node) -> ({x, w_ih, bias}, node.inputs) where the layer's input is
    ember's projection ``(x.reshape(-1, I) @ w_ih.t() + bias).reshape(T, B, G)`` of a padded
    sequence x (T, B, I): the ONNX op then takes x and w_ih itself (Note [RNN export])."""
    from ..jit.ir import op_ref
    found = {}

    def made_by(v, *names):
        node = getattr(v, "node", None) if getattr(v, "kind", None) == "node" else None
        return node if node is not None and op_ref(node.op).rsplit(".", 1)[-1] in names \
            else None

    for node in graph.nodes:
        if op_ref(node.op) != "ember.ops.rnn._RecurrentLayer" or len(node.inputs[0].shape) != 3:
            continue
        unflat = made_by(node.inputs[0], "View", "ReshapeCopy")
        if unflat is None:
            continue
        y = unflat.inputs[0]
        bias = None
        add = made_by(y, "Add")
        if add is not None:
            if len(add.inputs) != 2 or not all(hasattr(v, "shape") for v in add.inputs):
                continue
            y, bias = add.inputs
            if len(bias.shape) != 1:
                continue
        mm = made_by(y, "Matmul")
        if mm is None:
            continue
        flat, wt = mm.inputs
        perm = made_by(wt, "Permute")
        flat_node = made_by(flat, "View", "ReshapeCopy")
        if perm is None or tuple(perm.attrs["dims"]) != (1, 0) or flat_node is None:
            continue
        x = flat_node.inputs[0]
        if len(x.shape) != 3 or tuple(x.shape[:2]) != tuple(node.inputs[0].shape[:2]):
            continue
        found[id(node)] = ({"x": x, "w_ih": perm.inputs[0], "bias": bias}, node.inputs)
    return found


def _initial_state(ctx, v, dt):
    arr = ctx.const_value(v)
    if arr is not None and not _to_host(arr).any():
        return ""                               # zeros: ONNX's default (and batch-free)
    return _unsqueeze(ctx, ctx.x(v, dt), [0])


# -- more normalization, padding, pooling, arithmetic -----------------------------------------

def _channel_affine(ctx, y, w, b, rank, dt):
    """y * w + b with w, b of shape (C,) applied along dim 1 of a rank-`rank` tensor."""
    shape = [1, -1] + [1] * (rank - 2)
    if w is not None:
        y = ctx.op("Mul", [y, ctx.op("Reshape", [ctx.x(w, dt), ctx.ints(shape)])])
    if b is not None:
        y = ctx.op("Add", [y, ctx.op("Reshape", [ctx.x(b, dt), ctx.ints(shape)])])
    return y


def _normalize(ctx, xs, axes, eps, dt):
    """(x - mean) / sqrt(biased var + eps) over axes."""
    mean = _reduce(ctx, "ReduceMean", xs, axes, True)
    d = ctx.op("Sub", [xs, mean])
    var = _reduce(ctx, "ReduceMean", ctx.op("Mul", [d, d]), axes, True)
    return ctx.op("Div", [d, ctx.op("Sqrt", [ctx.op("Add", [var, ctx.x(eps, dt)])])])


def _batch_stats_norm(ctx, node):
    """batch_norm with batch statistics and no running statistics to update (instance norm,
    track_running_stats=False): a pure function of its input."""
    dt = ctx.out_dtype(node)
    x = node.inputs[0]
    w = node.inputs[1] if len(node.inputs) > 1 else None
    b = node.inputs[2] if len(node.inputs) > 2 else None
    rank = len(x.shape)
    axes = [0] + list(range(2, rank))
    y = _normalize(ctx, ctx.x(x, dt), axes, float(node.attrs["eps"]), dt)
    ctx.alias(node, _channel_affine(ctx, y, w, b, rank, dt))


@rule("ember.ops.norm.GroupNorm")
def _group_norm(ctx, node):
    dt = ctx.out_dtype(node)
    x = node.inputs[0]
    w = node.inputs[1] if len(node.inputs) > 1 else None
    b = node.inputs[2] if len(node.inputs) > 2 else None
    rank = len(x.shape)
    xs = ctx.x(x, dt)
    grouped = ctx.op("Reshape", [xs, ctx.ints([0, int(node.attrs["groups"]), -1])])
    y = _normalize(ctx, grouped, [2], float(node.attrs["eps"]), dt)
    y = ctx.op("Reshape", [y, ctx.op("Shape", [xs])])
    ctx.alias(node, _channel_affine(ctx, y, w, b, rank, dt))


@rule("ember.ops.conv._ModePad")
def _mode_pad(ctx, node):
    x = node.inputs[0]
    mode = node.attrs["mode"]
    onnx_mode = {"reflect": "reflect", "replicate": "edge"}.get(mode)
    if onnx_mode is None:
        raise ctx.unsupported(node, f"pad mode '{mode}' needs ONNX opset 19 (wrap)")
    pads = node.attrs["pads"]
    lead = len(x.shape) - len(pads)
    lo = [0] * lead + [int(p[0]) for p in pads]
    hi = [0] * lead + [int(p[1]) for p in pads]
    ctx.op("Pad", [ctx.x(x), ctx.ints(lo + hi)], outputs=[ctx.out(node)], mode=onnx_mode)


@rule("ember.ops.conv._AdaptiveMaxPool")
def _adaptive_max_pool(ctx, node):
    uses = ctx.graph.uses()
    if any(s != 1 for s in node.attrs["out_sp"]) or uses.get(node.outputs[1].id) or \
            node.outputs[1] in ctx.graph.outputs:
        raise ctx.unsupported(node, "only adaptive max pooling to size 1 without indices "
                                    "(GlobalMaxPool) is exported")
    ctx.op("GlobalMaxPool", [ctx.x(node.inputs[0])], outputs=[ctx.out(node)])


@rule(_E + "FloorDivide", _E + "DivRounded", _E + "Remainder", _E + "Fmod")
def _div_rounded(ctx, node):
    dt = ctx.out_dtype(node)
    a, b = node.inputs[:2]
    xa, xb = ctx.x(a, dt), ctx.x(b, dt)
    out = [ctx.out(node)]
    name = node.op.name
    mode = node.attrs.get("rounding_mode", node.attrs.get("mode", "floor"))
    integral = dt.kind in "iu"
    if name == "fmod":
        ctx.op("Mod", [xa, xb], outputs=out, fmod=1)
    elif name == "remainder":
        if integral:
            ctx.op("Mod", [xa, xb], outputs=out, fmod=0)
        else:                                   # a - b * floor(a / b)
            fl = ctx.op("Floor", [ctx.op("Div", [xa, xb])])
            ctx.op("Sub", [xa, ctx.op("Mul", [xb, fl])], outputs=out)
    elif mode == "trunc":
        if integral:
            ctx.op("Div", [xa, xb], outputs=out)    # ONNX integer Div truncates
        else:
            q = ctx.op("Div", [xa, xb])
            ctx.op("Where", [ctx.op("Less", [q, ctx.x(0.0, dt)]), ctx.op("Ceil", [q]),
                             ctx.op("Floor", [q])], outputs=out)
    elif integral:                              # (a - python_mod(a, b)) / b is exact
        r = ctx.op("Mod", [xa, xb], fmod=0)
        ctx.op("Div", [ctx.op("Sub", [xa, r]), xb], outputs=out)
    else:
        ctx.op("Floor", [ctx.op("Div", [xa, xb])], outputs=out)


@rule(_R + "TopK")
def _topk(ctx, node):
    x = node.inputs[0]
    a = node.attrs
    dim = int(a["dim"]) % max(len(x.shape), 1)
    ctx.op("TopK", [ctx.x(x), ctx.ints([int(a["k"])])],
           outputs=[ctx.out(node, 0), ctx.out(node, 1)], axis=dim, largest=int(a["largest"]),
           sorted=1)


@rule("ember.ops.linalg.Einsum", dynamic=True)
def _einsum(ctx, node):
    dt = ctx.out_dtype(node)
    ins, out = node.attrs["ins"], node.attrs["out"]
    letters = [ch for term in list(ins) + [out] for ch in term]
    if not all(len(ch) == 1 and ch.isascii() and ch.isalpha() for ch in letters):
        raise ctx.unsupported(node, "einsum subscripts must be letters")
    eq = ",".join("".join(t) for t in ins) + "->" + "".join(out)
    ctx.op("Einsum", [ctx.x(v, dt) for v in node.inputs], outputs=[ctx.out(node)], equation=eq)


@rule("ember.ops.linalg.VectorNorm")
def _vector_norm(ctx, node):
    x = node.inputs[0]
    a = node.attrs
    dt = ctx.out_dtype(node)
    rank = len(x.shape)
    axes = _dims(a["dims"], rank) if rank else None
    keep = a["keepdim"]
    xs = ctx.x(x, dt)
    out = [ctx.out(node)]
    p = float(a["ord"])
    if rank == 0:
        ctx.op("Abs", [xs], outputs=out)
    elif p == 2.0:
        _reduce(ctx, "ReduceL2", xs, axes, keep, outputs=out)
    elif p == 1.0:
        _reduce(ctx, "ReduceL1", xs, axes, keep, outputs=out)
    elif p == math.inf:
        _reduce(ctx, "ReduceMax", ctx.op("Abs", [xs]), axes, keep, outputs=out)
    elif p == -math.inf:
        _reduce(ctx, "ReduceMin", ctx.op("Abs", [xs]), axes, keep, outputs=out)
    elif p == 0.0:
        nz = ctx.op("Cast", [ctx.op("Not", [ctx.op("Equal", [xs, ctx.x(0.0, dt)])])],
                    to=_onnx_type(dt))
        _reduce(ctx, "ReduceSum", nz, axes, keep, outputs=out)
    else:
        s = _reduce(ctx, "ReduceSum", ctx.op("Pow", [ctx.op("Abs", [xs]), ctx.x(p, dt)]),
                    axes, keep)
        ctx.op("Pow", [s, ctx.x(1.0 / p, dt)], outputs=out)


@rule("ember.ops.conv._AxisTake")
def _axis_take(ctx, node):
    """Resampling (upsample/interpolate) gathers along one axis with a fixed index."""
    index = np.asarray(_to_host(node.attrs["index"]), dtype=np.int64)
    ctx.op("Gather", [ctx.x(node.inputs[0]), ctx.const(index, "index")],
           outputs=[ctx.out(node)], axis=int(node.attrs["axis"]))


@rule("ember.jit._tracer._Detach")
def _detach(ctx, node):
    ctx.alias(node, ctx.x(node.inputs[0]))
