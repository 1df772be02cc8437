"""nn ops: normalization, dropout, embedding and distances.

batch_norm, layer_norm and group_norm are fused primitives (one op each, see Note [Fused
normalization backward]); instance_norm is batch_norm on a (1, N*C, *) view; embedding and
embedding_bag are primitives; rms_norm, local_response_norm, dropout and the distances are
compositions of existing ops. Every name
in ``__all__`` is an ``ember.nn.functional`` function.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import _dtype as D
from .._autocast import policy as _amp
from .._dispatch import Op, apply
from .._errors import fmt_shape, wrap_dim
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad_state
from ._names import named

__all__ = [
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
    "local_response_norm",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
    "embedding", "embedding_bag", "one_hot",
    "normalize", "cosine_similarity", "pairwise_distance", "pdist",
]

_HALF = (np.dtype(np.float16), D.bfloat16.np)


def _compute_dtype(dt):
    """float16/bfloat16 statistics are computed in float32 (as PyTorch's CPU kernels do)."""
    return np.dtype(np.float32) if dt in _HALF else dt


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


# Note [Fused normalization backward]
# batch_norm, layer_norm and group_norm normalise x over some axes (the "stat" axes; for
# group_norm, axes of an (N, G, -1) view), then scale and shift with weight/bias broadcast
# over the other axes. Forward is one op on arrays that keeps only
# the per-group mean and 1/std. Backward has two forms that give the same numbers:
#   - create_graph off (the usual training step): one fused array op, _NormGrad, that
#     recomputes x_hat from the saved input and returns dx, dweight, dbias in a few passes;
#   - create_graph on: the same formulas in ember Tensor ops with the statistics recomputed
#     from x, so the result is differentiable again (double backward, gradgradcheck).
# With batch statistics dx = invstd * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)),
# g_hat = grad * weight, means over the stat axes; with running statistics (eval) the
# statistics are constants and dx = invstd * g_hat.

def _c(a, ct):
    return a.astype(ct, copy=False)


def _bn_view(x):
    """(N, C, *) as (N, C, S): per-channel sums become one einsum over n and s."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _bn_forward_arrays(xp, x, w, b, mean, invstd, batch_stats, eps):
    """y (compute dtype), mean, invstd, biased var; batch statistics when mean is None."""
    ct = _compute_dtype(x.dtype)
    x3 = _bn_view(_c(x, ct))
    var = None
    if batch_stats:
        n = x3.shape[0] * x3.shape[2]
        mean = xp.einsum("ncs->c", x3) / n
        xc = x3 - mean[:, None]
        var = xp.einsum("ncs,ncs->c", xc, xc) / n
        invstd = 1.0 / xp.sqrt(var + eps)
        scale = invstd if w is None else invstd * _c(w, ct)
        xc *= scale[:, None]
        if b is not None:
            xc += _c(b, ct)[:, None]
    else:
        scale = invstd if w is None else invstd * _c(w, ct)
        shift = -mean * scale if b is None else _c(b, ct) - mean * scale
        xc = x3 * scale[:, None]
        xc += shift[:, None]
    return xc.reshape(x.shape), mean, invstd, var


def _bn_backward_arrays(xp, g, x, w, mean, invstd, batch_stats, needs):
    ct = _compute_dtype(x.dtype)
    g3 = _bn_view(_c(g, ct))
    xc = _bn_view(_c(x, ct)) - mean[:, None]
    sum_g = xp.einsum("ncs->c", g3)
    dotp = xp.einsum("ncs,ncs->c", g3, xc)
    outs = []
    if needs[0]:
        a = invstd if w is None else invstd * _c(w, ct)
        if batch_stats:
            n = g3.shape[0] * g3.shape[2]
            # dx = a * (g - mean(g) - x_hat * mean(g * x_hat)), as g*a + xc*k + c per channel
            xc *= (-a * invstd * invstd * dotp / n)[:, None]
            xc -= (a * sum_g / n)[:, None]
            xc += g3 * a[:, None]
            dx = xc
        else:
            dx = g3 * a[:, None]
        outs.append(dx.reshape(x.shape).astype(x.dtype, copy=False))
    if needs[1]:
        outs.append((dotp * invstd).astype(w.dtype, copy=False))
    if needs[2]:
        outs.append(sum_g.reshape(needs[2]).astype(needs[3], copy=False))
    return outs


def _ln_forward_arrays(xp, x, w, b, k, eps):
    ct = _compute_dtype(x.dtype)
    lead = x.shape[:x.ndim - k]
    x2 = _c(x, ct).reshape(-1, math.prod(x.shape[x.ndim - k:]))
    size = x2.shape[1]
    mean = xp.einsum("mk->m", x2) / size
    xc = x2 - mean[:, None]
    var = xp.einsum("mk,mk->m", xc, xc) / size
    invstd = 1.0 / xp.sqrt(var + eps)
    xc *= invstd[:, None]
    if w is not None:
        xc *= _c(w, ct).reshape(-1)
    if b is not None:
        xc += _c(b, ct).reshape(-1)
    return xc.reshape(x.shape), mean.reshape(lead), invstd.reshape(lead)


def _ln_backward_arrays(xp, g, x, w, mean, invstd, needs):
    ct = _compute_dtype(x.dtype)
    size = math.prod(x.shape[mean.ndim:])
    g2 = _c(g, ct).reshape(-1, size)
    mean, invstd = mean.reshape(-1, 1), invstd.reshape(-1, 1)
    xhat = _c(x, ct).reshape(-1, size) - mean
    xhat *= invstd
    dw = xp.einsum("mk,mk->k", g2, xhat) if needs[1] else None
    outs = []
    if needs[0]:
        gh = g2 * (1 if w is None else _c(w, ct).reshape(-1))     # a fresh array: dx lives here
        m1 = xp.einsum("mk->m", gh) / size
        m2 = xp.einsum("mk,mk->m", gh, xhat) / size
        gh -= m1[:, None]
        xhat *= m2[:, None]                                          # xhat is not needed again
        gh -= xhat
        gh *= invstd
        outs.append(gh.reshape(x.shape).astype(x.dtype, copy=False))
    if needs[1]:
        outs.append(dw.reshape(w.shape).astype(w.dtype, copy=False))
    if needs[2]:
        outs.append(xp.einsum("mk->k", g2).reshape(needs[2]).astype(needs[3], copy=False))
    return outs


def _gn_forward_arrays(xp, x, w, b, groups, eps):
    ct = _compute_dtype(x.dtype)
    n, c = x.shape[0], x.shape[1]
    x2 = _c(x, ct).reshape(n * groups, -1)
    size = x2.shape[1]
    mean = xp.einsum("mk->m", x2) / size
    xc = x2 - mean[:, None]
    var = xp.einsum("mk,mk->m", xc, xc) / size
    invstd = 1.0 / xp.sqrt(var + eps)
    xc *= invstd[:, None]
    y3 = xc.reshape(n, c, -1)
    if w is not None:
        y3 *= _c(w, ct)[:, None]
    if b is not None:
        y3 += _c(b, ct)[:, None]
    return y3.reshape(x.shape), mean, invstd


def _gn_backward_arrays(xp, g, x, w, mean, invstd, needs):
    ct = _compute_dtype(x.dtype)
    n, c = x.shape[0], x.shape[1]
    rows = mean.shape[0]
    xhat = _c(x, ct).reshape(rows, -1) - mean[:, None]
    xhat *= invstd[:, None]
    size = xhat.shape[1]
    g3 = _c(g, ct).reshape(n, c, -1)
    x3 = xhat.reshape(n, c, -1)
    dw = xp.einsum("ncs,ncs->c", g3, x3) if needs[1] else None
    outs = []
    if needs[0]:
        gh = g3 * (1 if w is None else _c(w, ct)[:, None])
        gh = gh.reshape(rows, size)
        m1 = xp.einsum("mk->m", gh) / size
        m2 = xp.einsum("mk,mk->m", gh, xhat) / size
        gh -= m1[:, None]
        xhat *= m2[:, None]
        gh -= xhat
        gh *= invstd[:, None]
        outs.append(gh.reshape(x.shape).astype(x.dtype, copy=False))
    if needs[1]:
        outs.append(dw.astype(w.dtype, copy=False))
    if needs[2]:
        outs.append(xp.einsum("ncs->c", g3).reshape(needs[2]).astype(needs[3], copy=False))
    return outs


class _NormGrad(Op):
    """dx, dweight, dbias of a fused normalization (arrays; runs only without create_graph)."""
    name = "norm_backward"
    differentiable = False

    @staticmethod
    def forward(ctx, g, x, w=None, *, kind, mean, invstd, batch_stats, needs):
        if kind == "batch_norm":
            outs = _bn_backward_arrays(ctx.xp, g, x, w, mean, invstd, batch_stats, needs)
        elif kind == "group_norm":
            outs = _gn_backward_arrays(ctx.xp, g, x, w, mean, invstd, needs)
        else:
            outs = _ln_backward_arrays(ctx.xp, g, x, w, mean, invstd, needs)
        return tuple(outs) if len(outs) != 1 else outs[0]


def _norm_backward(ctx, grad):
    """Shared backward of BatchNorm and LayerNorm (Note [Fused normalization backward])."""
    x, w = ctx.saved_tensors
    needs = ctx.needs_input_grad
    need_x, need_w, need_b = needs[0], needs[1], needs[2]
    if not _grad_state.enabled:
        res = apply(_NormGrad, grad, x, w, kind=ctx.op.name, mean=ctx.mean,
                    invstd=ctx.invstd, batch_stats=ctx.batch_stats,
                    needs=(need_x, need_w, ctx.b_shape if need_b else None,
                           ctx.b_dtype if need_b else None))
        res = list(res) if isinstance(res, tuple) else [res]
        return tuple([res.pop(0) if n else None for n in (need_x, need_w, need_b)])
    return _norm_backward_composite(ctx, grad, x, w, need_x, need_w, need_b)


def _norm_backward_composite(ctx, grad, x, w, need_x, need_w, need_b):
    half = x.dtype in (D.float16, D.bfloat16)
    xf = x.float() if half else x
    g = grad.float() if half else grad
    axes, bshape = ctx.stat_axes, ctx.stat_shape
    view = getattr(ctx, "stat_view", None) or tuple(x.shape)   # group_norm: (N, G, -1)
    xv = xf.reshape(view)
    if ctx.batch_stats:
        mean = xv.mean(axes, keepdim=True)
        xc = xv - mean
        invstd = ((xc * xc).mean(axes, keepdim=True) + ctx.eps).rsqrt()
    else:
        mean = Tensor._make(ctx.mean.reshape(bshape))
        invstd = Tensor._make(ctx.invstd.reshape(bshape))
        xc = xv - mean
    xhat_v = xc * invstd
    xhat = xhat_v.reshape(x.shape)
    dx = dw = db = None
    if need_x:
        gh = g if w is None else g * w.to(g.dtype).reshape(ctx.w_shape)
        gh = gh.reshape(view)
        if ctx.batch_stats:
            dx = (gh - gh.mean(axes, keepdim=True)
                  - xhat_v * (gh * xhat_v).mean(axes, keepdim=True)) * invstd
        else:
            dx = gh * invstd
        dx = dx.reshape(x.shape).to(x.dtype)
    if need_w:
        dw = (g * xhat).sum(ctx.w_axes).reshape(w.shape).to(w.dtype)
    if need_b:
        db = g.sum(ctx.w_axes).reshape(ctx.b_shape).to(D.from_numpy_dtype(ctx.b_dtype))
    return dx, dw, db


def _remember(ctx, x, b, mean, invstd, stat_axes, w_axes, w_shape, batch_stats, eps):
    ctx.mean, ctx.invstd, ctx.eps = mean, invstd, eps
    ctx.stat_axes, ctx.w_axes, ctx.w_shape = stat_axes, w_axes, w_shape
    ctx.stat_shape = tuple(1 if i in stat_axes else n for i, n in enumerate(x.shape))
    ctx.batch_stats = batch_stats
    ctx.b_shape, ctx.b_dtype = (b.shape, b.dtype) if b is not None else (None, None)


class BatchNorm(Op):
    """Batch normalization over every axis but 1 (channels); updates running statistics in
    place when training with them. Inputs: x, weight (or None), bias (or None)."""
    name = "batch_norm"
    backward_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, w=None, b=None, *, running_mean, running_var, training, momentum,
                eps):
        xp = ctx.xp
        if training:
            y, mean, invstd, var = _bn_forward_arrays(xp, x, w, b, None, None, True, eps)
            n = x.size // x.shape[1]
            m = momentum
            if running_mean is not None:
                new = (1 - m) * running_mean + m * mean
                running_mean[...] = new.astype(running_mean.dtype, copy=False)
            if running_var is not None:
                new = (1 - m) * running_var + m * (var * (n / max(n - 1, 1)))
                running_var[...] = new.astype(running_var.dtype, copy=False)
        else:
            ct = _compute_dtype(x.dtype)
            mean = _c(running_mean, ct)
            invstd = 1.0 / xp.sqrt(_c(running_var, ct) + eps)
            y = _bn_forward_arrays(xp, x, w, b, mean, invstd, False, eps)[0]
        ctx.save(x, w)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        _remember(ctx, x, b, mean, invstd, axes, axes, shape, training, eps)
        return y.astype(x.dtype, copy=False)

    backward = staticmethod(_norm_backward)


class LayerNorm(Op):
    """Layer normalization over the last ``k`` axes; weight/bias have those axes' shape."""
    name = "layer_norm"
    backward_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, w=None, b=None, *, k, eps):
        y, mean, invstd = _ln_forward_arrays(ctx.xp, x, w, b, k, eps)
        ctx.save(x, w)
        lead = x.ndim - k
        _remember(ctx, x, b, mean, invstd, tuple(range(lead, x.ndim)), tuple(range(lead)),
                  x.shape[lead:], True, eps)
        return y.astype(x.dtype, copy=False)

    backward = staticmethod(_norm_backward)


class GroupNorm(Op):
    """Group normalization: (N, C, *) normalised per sample over groups of C // groups
    channels, then a per-channel affine transform. Inputs: x, weight, bias (or None)."""
    name = "group_norm"
    backward_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, w=None, b=None, *, groups, eps):
        y, mean, invstd = _gn_forward_arrays(ctx.xp, x, w, b, groups, eps)
        ctx.save(x, w)
        axes = (0,) + tuple(range(2, x.ndim))
        _remember(ctx, x, b, mean, invstd, (2,), axes, (1, x.shape[1]) + (1,) * (x.ndim - 2),
                  True, eps)
        ctx.stat_view = (x.shape[0], groups, -1)
        return y.astype(x.dtype, copy=False)

    backward = staticmethod(_norm_backward)


def _check_float(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f'{op}: "{op}" not implemented for \'{_legacy(input.dtype)}\' '
                           "(expected a floating-point input)")


def _legacy(dtype) -> str:
    from .._dispatch import _legacy_name
    return _legacy_name(dtype)


def _check_channel_param(op, name, t, c):
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{op}: {name} should contain {c} elements not {t.numel()}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization: normalise each channel (dim 1) by batch statistics when training,
    by the running statistics otherwise; running statistics update in place when training.

    Args:
        input: (N, C, *) tensor.
        running_mean, running_var: (C,) tensors or None.
        weight, bias: (C,) affine parameters or None.
        training: use batch statistics (and update the running ones).
        momentum: running = (1 - momentum) * running + momentum * batch.
        eps: added to the variance.

    Returns:
        A tensor of input's shape and dtype.

    Example:
        >>> import ember
        >>> x = ember.tensor([[1.0], [3.0]])
        >>> ember.nn.functional.batch_norm(x, None, None, training=True).round(decimals=3)
        tensor([[-1.],
                [ 1.]])
    """
    _check_float("batch_norm", input)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least a 2-D (N, C) input, got "
                         f"{fmt_shape(input.shape)}")
    if training:
        size = list(input.shape)
        if math.prod([size[0]] + size[2:]) == 1:
            raise ValueError("Expected more than 1 value per channel when training, got input "
                             f"size {input.shape}")
        if eps <= 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_channel_param("batch_norm", name, t, c)
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                           "evaluation mode (training=False)")
    rm = running_mean._data if running_mean is not None and training else \
        (running_mean._data.reshape(-1) if running_mean is not None else None)
    rv = running_var._data if running_var is not None and training else \
        (running_var._data.reshape(-1) if running_var is not None else None)
    out = apply(BatchNorm, input, weight, bias, running_mean=rm, running_var=rv,
                training=bool(training), momentum=0.0 if momentum is None else momentum,
                eps=eps)
    if training:
        for t in (running_mean, running_var):
            if t is not None:
                _bump(t)
    return out


def _bump(t):
    from .._dispatch import version_counter
    version_counter(t).value += 1


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(op, input, shape, weight, bias):
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(
            f"{op}: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in shape)}], but got input of size"
            f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"{op}: Expected {name} to be of same shape as "
                               f"normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(shape)}")


@_amp("fp32")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the last ``len(normalized_shape)`` dimensions.

    Args:
        input: (*, *normalized_shape) tensor.
        normalized_shape: int or tuple: the trailing shape normalised over.
        weight, bias: tensors of normalized_shape, or None.
        eps: added to the variance.

    Returns:
        A tensor of input's shape and dtype.

    Example:
        >>> import ember
        >>> ember.nn.functional.layer_norm(ember.tensor([[1.0, 3.0]]), (2,), eps=0.0)
        tensor([[-1.,  1.]])
    """
    _check_float("layer_norm", input)
    shape = _normalized_shape(normalized_shape)
    _check_normalized("layer_norm", input, shape, weight, bias)
    return apply(LayerNorm, input, weight, bias, k=len(shape), eps=eps)


@_amp("fp32")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization: channels (dim 1) split into ``num_groups`` groups, each sample's
    group normalised, then a per-channel affine transform.

    Args:
        input: (N, C, *) tensor, C divisible by num_groups.
        num_groups: number of groups.
        weight, bias: (C,) tensors or None.
        eps: added to the variance.

    Returns:
        A tensor of input's shape.

    Example:
        >>> import ember
        >>> x = ember.tensor([[1.0, 3.0]])
        >>> ember.nn.functional.group_norm(x, 1, eps=0.0)
        tensor([[-1.,  1.]])
    """
    _check_float("group_norm", input)
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but "
                           f"received {input.ndim}")
    c = input.shape[1]
    if c % num_groups != 0:
        raise RuntimeError(f"group_norm: Expected number of channels in input to be divisible "
                           f"by num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            raise RuntimeError(f"group_norm: Expected {name} to be a vector of size equal to "
                               f"the number of channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    if input.numel() == 0:
        return input.clone()
    return apply(GroupNorm, input, weight, bias, groups=num_groups, eps=eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization: each (sample, channel) normalised over its spatial positions;
    running statistics (averaged over the batch) update when given and use_input_stats.

    Args:
        input: (N, C, *) tensor.
        running_mean, running_var: (C,) tensors or None.
        weight, bias: (C,) tensors or None.
        use_input_stats: normalise by the instance statistics (else the running ones).
        momentum, eps: as in batch_norm.

    Returns:
        A tensor of input's shape.

    Example:
        >>> import ember
        >>> x = ember.tensor([[[1.0, 3.0]]])
        >>> ember.nn.functional.instance_norm(x, eps=0.0)
        tensor([[[-1.,  1.]]])
    """
    _check_float("instance_norm", input)
    if use_input_stats:
        size = list(input.shape)
        if math.prod(size[2:]) == 1:
            raise ValueError("Expected more than 1 spatial element when training, got input "
                             f"size {input.shape}")
    if not use_input_stats:         # PyTorch reshapes around batch_norm either way
        return named(batch_norm(input, running_mean, running_var, weight, bias, False,
                                momentum, eps), "ViewBackward0", input)
    n, c = input.shape[0], input.shape[1]
    shape = (1, n * c) + tuple(input.shape[2:])
    w = weight.repeat(n) if weight is not None else None
    b = bias.repeat(n) if bias is not None else None
    rm = running_mean.detach().repeat(n) if running_mean is not None else None
    rv = running_var.detach().repeat(n) if running_var is not None else None
    out = apply(BatchNorm, input.reshape(shape), w, b,
                running_mean=None if rm is None else rm._data,
                running_var=None if rv is None else rv._data, training=True,
                momentum=0.1 if momentum is None else momentum, eps=eps)
    with _no_grad():
        if running_mean is not None:
            running_mean.copy_(rm.view(n, c).mean(0))
        if running_var is not None:
            running_var.copy_(rv.view(n, c).mean(0))
    return out.reshape(input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the trailing normalized_shape:
    ``x / sqrt(mean(x**2) + eps) * weight``; float16/bfloat16 computed in float32.

    Args:
        input: (*, *normalized_shape) tensor.
        normalized_shape: int or tuple.
        weight: tensor of normalized_shape or None.
        eps: added to the mean square; default: machine epsilon of the compute dtype.

    Returns:
        A tensor of input's shape and dtype.

    Example:
        >>> import ember
        >>> ember.nn.functional.rms_norm(ember.tensor([[3.0, 4.0]]), (2,), eps=0.0)
        tensor([[0.8485, 1.1314]])
    """
    _check_float("rms_norm", input)
    shape = _normalized_shape(normalized_shape)
    _check_normalized("rms_norm", input, shape, weight, None)
    half = input.dtype in (D.float16, D.bfloat16)
    x = input.float() if half else input
    if eps is None:
        eps = float(np.finfo(x.dtype.np if hasattr(x.dtype, "np") else np.float32).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = (x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()).to(input.dtype)
    if weight is not None:
        out = out * weight
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels (dim 1):
    ``x / (k + alpha * mean of x**2 over a window of `size` channels) ** beta``, the window
    zero-padded (size // 2 before, (size - 1) // 2 after) and always divided by size.

    Args:
        input: (N, C, *) tensor with at least 3 dimensions.
        size: channels in the window.
        alpha, beta, k: the formula's constants.

    Returns:
        A tensor of input's shape.

    Example:
        >>> import ember
        >>> x = ember.ones(1, 2, 1)
        >>> ember.nn.functional.local_response_norm(x, 1, alpha=1.0, beta=1.0, k=1.0)
        tensor([[[0.5000],
                 [0.5000]]])
    """
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    from .shape import cat
    sq = input * input
    c = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    parts = []
    if before:
        parts.append(sq.new_zeros((input.shape[0], before) + tuple(input.shape[2:])))
    parts.append(sq)
    if after:
        parts.append(sq.new_zeros((input.shape[0], after) + tuple(input.shape[2:])))
    padded = cat(parts, 1) if len(parts) > 1 else sq
    # A sum of `size` shifted slices: a loop over the window, not over elements.
    total = padded.narrow(1, 0, c)
    for i in range(1, size):
        total = total + padded.narrow(1, i, c)
    div = (total * (alpha / size) + k).pow(beta)
    return input / div


# -- dropout -----------------------------------------------------------------------------------
# Note [Dropout draws like PyTorch]
# PyTorch's CPU dropout fills a tensor of the input's shape (or (N, C, 1, ...) for feature
# dropout) with bernoulli_(1 - p), scales it, and multiplies. Doing the same draws in the same
# order from ember's generator (bit-identical to PyTorch's after manual_seed) drops the same
# elements as PyTorch does for the same seed.

_ALPHA = 1.7580993408473766     # -SELU's lambda * alpha: the value a dropped unit maps to


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_impl(input, p, training, inplace, feature, alpha):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        zero = input.new_zeros(())
        return input.mul_(zero) if inplace else input * zero
    if feature:
        if input.ndim < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        noise_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    else:
        noise_shape = tuple(input.shape)
    noise = input.new_empty(noise_shape)
    noise.bernoulli_(1 - p)
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
        noise.mul_(a)
        if inplace:
            return input.mul_(noise).add_(b)
        return input * noise + b
    if noise.dtype in (D.float16, D.bfloat16):
        # PyTorch divides in float32 and rounds once; ember's half div_ by a Python float
        # rounds the divisor to half first. The reciprocal rounds to the same 0/scale values.
        noise.mul_(1.0 / (1 - p))
    else:
        noise.div_(1 - p)
    return input.mul_(noise) if inplace else input * noise


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training).

    Args:
        input: any tensor.
        p: drop probability in [0, 1].
        training: apply dropout only when True.
        inplace: write into input.

    Returns:
        A tensor of input's shape (input itself when inplace or not training).

    Example:
        >>> import ember
        >>> ember.nn.functional.dropout(ember.ones(3), 0.5, training=False)
        tensor([1., 1., 1.])
    """
    return _dropout_impl(input, p, training, inplace, False, False)


def _feature_dropout(name, input, p, training, inplace, dims, batched_dim, warn_other):
    _check_p(p)
    ndim = input.ndim
    if ndim not in dims:
        if not warn_other:
            raise RuntimeError(
                f"{name}: Expected {dims[0]}D or {dims[1]}D input, but received a {ndim}D "
                f"input. Note that {name} exists to provide channel-wise dropout on inputs "
                "with 1 spatial dimension, a channel dimension, and an optional batch "
                "dimension (i.e. 2D or 3D inputs).")
        warnings.warn(
            f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will result "
            f"in an error in a future release. To retain the behavior and silence this warning, "
            f"please use dropout instead. Note that {name} exists to provide channel-wise "
            f"dropout on inputs with {dims[0] - 1} spatial dimensions, a channel dimension, "
            f"and an optional batch dimension (i.e. {dims[0]}D or {dims[1]}D inputs).",
            stacklevel=3)
    batched = ndim == batched_dim if batched_dim is not None else True
    if not batched:
        input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = _dropout_impl(input, p, training, inplace, True, False)
    if not batched:
        out = out.squeeze_(0) if inplace else out.squeeze(0)
    return out


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout on (N, C, L) or (C, L) inputs: whole channels are zeroed.

    Example:
        >>> import ember
        >>> ember.nn.functional.dropout1d(ember.ones(2, 3), training=False).shape
        torch.Size([2, 3])
    """
    return _feature_dropout("dropout1d", input, p, training, inplace, (2, 3), 3, False)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout on (N, C, H, W) inputs (a 3-D input is taken as (N, C, L), as in
    PyTorch, with its warning).

    Example:
        >>> import ember
        >>> ember.nn.functional.dropout2d(ember.ones(1, 2, 2, 2), training=False).shape
        torch.Size([1, 2, 2, 2])
    """
    _check_p(p)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _feature_dropout("dropout2d", input, p, training, inplace, (3, 4), None, True)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout on (N, C, D, H, W) or (C, D, H, W) inputs.

    Example:
        >>> import ember
        >>> ember.nn.functional.dropout3d(ember.ones(2, 1, 1, 1), training=False).shape
        torch.Size([2, 1, 1, 1])
    """
    return _feature_dropout("dropout3d", input, p, training, inplace, (4, 5), 5, True)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps a SELU network's mean and variance: dropped units become
    -lambda*alpha, then an affine map restores the statistics.

    Example:
        >>> import ember
        >>> ember.nn.functional.alpha_dropout(ember.ones(2)).tolist()
        [1.0, 1.0]
    """
    return _dropout_impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (dim 1).

    Example:
        >>> import ember
        >>> ember.nn.functional.feature_alpha_dropout(ember.ones(1, 2)).tolist()
        [[1.0, 1.0]]
    """
    return _dropout_impl(input, p, training, inplace, True, True)


# -- embedding ---------------------------------------------------------------------------------

def _scatter_rows(xp, out, rows, values):
    """out[rows[i]] += values[i] for a 2-D out (repeated rows summed)."""
    if rows.size == 0:
        return
    if xp is np:
        # ufunc.at on the flat table is several times faster than on rows (or reduceat).
        dim = out.shape[1]
        flat = (rows.reshape(-1, 1) * dim + np.arange(dim)).reshape(-1)
        np.add.at(out.reshape(-1), flat, values.reshape(-1))
    else:
        xp.add.at(out, rows, values)


def _row_scale(xp, flat, num_weights, padding_idx, scale_grad_by_freq, dtype):
    """Per-index gradient factor: 0 at padding_idx, 1/count with scale_grad_by_freq; None when
    every factor is 1."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    scale = xp.ones(flat.shape, dtype=dtype)
    if scale_grad_by_freq:
        counts = xp.bincount(flat, minlength=num_weights)
        scale = scale / counts[flat].astype(dtype)
    if padding_idx is not None:
        scale = xp.where(flat == padding_idx, xp.zeros((), dtype=dtype), scale)
    return scale


class Embedding(Op):
    """weight[indices]: rows of a (num_embeddings, dim) table. Inputs: weight, indices."""
    name = "embedding"

    @staticmethod
    def forward(ctx, weight, indices, *, padding_idx, scale_grad_by_freq):
        xp = ctx.xp
        if xp is np and indices.size and (int(indices.min()) < 0 or
                                          int(indices.max()) >= weight.shape[0]):
            raise IndexError("embedding: index out of range in self (indices must be in "
                             f"[0, {weight.shape[0]}))")
        ctx.indices = indices
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        ctx.num_weights = weight.shape[0]
        return xp.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        gw = apply(EmbeddingBackward, grad, Tensor._make(ctx.indices),
                   num_weights=ctx.num_weights, padding_idx=ctx.padding_idx,
                   scale_grad_by_freq=ctx.scale)
        return gw, None


class EmbeddingBackward(Op):
    """The weight gradient of embedding: grad rows summed into a zero table by index."""
    name = "embedding_backward"

    @staticmethod
    def forward(ctx, grad, indices, *, num_weights, padding_idx, scale_grad_by_freq):
        xp = ctx.xp
        ct = _compute_dtype(grad.dtype)
        dim = grad.shape[-1] if grad.ndim else 1
        flat = indices.reshape(-1)
        g2 = grad.reshape(-1, dim).astype(ct, copy=False)
        scale = _row_scale(xp, flat, num_weights, padding_idx, scale_grad_by_freq, ct)
        if scale is not None:
            g2 = g2 * scale[:, None]
        out = xp.zeros((num_weights, dim), dtype=ct)
        _scatter_rows(xp, out, flat, g2)
        ctx.indices, ctx.scale, ctx.shape = indices, scale, grad.shape
        return out.astype(grad.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        g = apply(Embedding, gg, Tensor._make(ctx.indices), padding_idx=None,
                  scale_grad_by_freq=False)
        if ctx.scale is not None:
            g = g * Tensor._make(ctx.scale.reshape(ctx.indices.shape + (1,)))
        return g.reshape(ctx.shape), None


class EmbeddingBag(Op):
    """Per-bag sum, mean or max of weight[ids]; ``bag`` (sorted) gives each id's bag.
    Inputs: weight, per_sample_weights (or None; mode 'sum' only)."""
    name = "embedding_bag"

    @staticmethod
    def forward(ctx, weight, psw=None, *, ids, bag, n_bags, mode, scale_grad_by_freq,
                equal_bags=False):
        xp = ctx.xp
        ct = _compute_dtype(weight.dtype)
        dim = weight.shape[1]
        rows = _c(xp.take(weight, ids, axis=0), ct)
        ctx.ids, ctx.bag, ctx.mode = ids, bag, mode
        ctx.num_weights, ctx.scale = weight.shape[0], scale_grad_by_freq
        counts = xp.bincount(bag, minlength=n_bags)
        if mode == "max":
            # Bags padded to the longest with -inf, then one max/argmax over the bag axis.
            starts = xp.cumsum(counts) - counts
            pos = xp.arange(ids.size) - starts[bag]
            longest = int(counts.max()) if n_bags else 0
            padded = xp.full((n_bags, max(longest, 1), dim), -xp.inf, dtype=ct)
            padded[bag, pos] = rows
            arg = padded.argmax(axis=1)
            out = xp.take_along_axis(padded, arg[:, None, :], axis=1)[:, 0]
            empty = (counts == 0)[:, None]
            out = xp.where(empty, xp.zeros((), dtype=ct), out)
            if ids.size:
                picked = ids[xp.minimum(starts[:, None] + arg, ids.size - 1)]
                ctx.max_rows = xp.where(empty, -1, picked)
            else:
                ctx.max_rows = xp.full((n_bags, dim), -1, dtype=ids.dtype)
            return out.astype(weight.dtype, copy=False)
        factor = None
        if mode == "mean":
            factor = (1.0 / xp.maximum(counts, 1)).astype(ct)[bag]
        ctx.inv_count = factor
        if psw is not None:
            factor = _c(psw, ct) if factor is None else factor * _c(psw, ct)
            ctx.save(weight, psw)
        if factor is not None:
            rows *= factor[:, None]
        if equal_bags and ids.size:
            out = rows.reshape(n_bags, -1, dim).sum(axis=1)      # (B, L) input: no scatter
        else:
            out = xp.zeros((n_bags, dim), dtype=ct)
            _scatter_rows(xp, out, bag, rows)
        return out.astype(weight.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        ids = Tensor._make(ctx.ids)
        if ctx.mode == "max":
            gw = apply(_BagMaxBackward, grad, rows=ctx.max_rows, num_weights=ctx.num_weights)
            return gw, None
        g_rows = grad.index_select(0, Tensor._make(ctx.bag))
        if ctx.inv_count is not None:
            g_rows = g_rows * Tensor._make(ctx.inv_count[:, None])
        needs = ctx.needs_input_grad
        saved = ctx.saved_tensors
        psw = saved[1] if saved else None
        gw = gpsw = None
        if needs[0]:
            g_w = g_rows if psw is None else g_rows * psw.unsqueeze(1)
            gw = apply(EmbeddingBackward, g_w, ids, num_weights=ctx.num_weights,
                       padding_idx=None, scale_grad_by_freq=ctx.scale)
        if psw is not None and needs[1]:
            w_rows = apply(Embedding, saved[0], ids, padding_idx=None,
                           scale_grad_by_freq=False)
            gpsw = (g_rows * w_rows).sum(1)
        return gw, gpsw


class _BagMaxBackward(Op):
    """Weight gradient of embedding_bag's max: grad[b, d] goes to (rows[b, d], d)."""
    name = "embedding_bag_max_backward"

    @staticmethod
    def forward(ctx, grad, *, rows, num_weights):
        xp = ctx.xp
        ct = _compute_dtype(grad.dtype)
        dim = grad.shape[1]
        valid = rows >= 0
        flat = xp.where(valid, rows, 0) * dim + xp.arange(dim)
        ctx.flat, ctx.valid, ctx.shape = flat, valid, (num_weights, dim)
        out = xp.zeros((num_weights, dim), dtype=ct)
        vals = xp.where(valid, _c(grad, ct), 0)
        if xp is np:
            np.add.at(out.reshape(-1), flat.reshape(-1), vals.reshape(-1))
        else:
            xp.add.at(out.reshape(-1), flat.reshape(-1), vals.reshape(-1))
        return out.astype(grad.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        picked = gg.reshape(-1)[Tensor._make(ctx.flat)]
        return picked * Tensor._make(ctx.valid.astype(picked._data.dtype))


def _check_indices(op, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'indices' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
            f"{op})")


def _padding_index(padding_idx, num_weights):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num_weights:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num_weights:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num_weights + padding_idx
    return int(padding_idx)


def _embedding_renorm_(weight, input, max_norm, norm_type):
    """Rows of weight used by input whose norm exceeds max_norm are scaled down to it, in
    place and outside autograd (PyTorch's embedding_renorm_)."""
    with _no_grad():
        xp = _xp_of(weight)
        rows = xp.unique(input._data.reshape(-1))
        if rows.size == 0:
            return
        sel = weight._data[rows].astype(_compute_dtype(weight._data.dtype))
        if norm_type == math.inf:
            norms = xp.abs(sel).max(axis=1)
        else:
            norms = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        factor = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight._data[rows] = (sel * factor[:, None]).astype(weight._data.dtype)
        _bump(weight)


def _xp_of(t):
    from .._device import xp_of
    return xp_of(t._data)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of an embedding table: ``weight[input]``.

    Args:
        input: integer tensor of indices, any shape.
        weight: (num_embeddings, embedding_dim) table.
        padding_idx: entries equal to it get no gradient.
        max_norm: rows used are renormalised in place to at most this norm first.
        norm_type: the p of that norm.
        scale_grad_by_freq: divide gradients by the frequency of each index in the batch.
        sparse: accepted; ember's gradient is always dense.

    Returns:
        A tensor of shape (*input.shape, embedding_dim).

    Example:
        >>> import ember
        >>> w = ember.tensor([[0.0, 1.0], [2.0, 3.0]])
        >>> ember.nn.functional.embedding(ember.tensor([1, 0]), w)
        tensor([[2., 3.],
                [0., 1.]])
    """
    _check_indices("embedding", input)
    if weight.ndim != 2:
        raise RuntimeError(f"embedding: 'weight' must be 2-D, got {fmt_shape(weight.shape)}")
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    return apply(Embedding, weight, input, padding_idx=padding_idx,
                 scale_grad_by_freq=bool(scale_grad_by_freq))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materialising the per-bag
    lists: ``input`` (1-D with ``offsets`` or 2-D fixed-length bags) indexes ``weight``.

    Args:
        input: 1-D indices with offsets (bag starts), or 2-D (B, L).
        weight: (num_embeddings, embedding_dim) table.
        offsets: 1-D start of each bag in input (1-D input only).
        mode: 'sum', 'mean' or 'max'.
        per_sample_weights: input-shaped weights multiplying each embedding (mode='sum').
        include_last_offset: offsets has B + 1 entries, the last being the end.
        padding_idx: entries equal to it are left out of their bag (and its size).
        max_norm, norm_type, scale_grad_by_freq, sparse: as in embedding.

    Returns:
        A (B, embedding_dim) tensor; empty bags give zeros.

    Differs from PyTorch: with scale_grad_by_freq every index's gradient is divided by its own
    frequency, as documented; PyTorch's CPU kernel divides some rows by another index's count.

    Example:
        >>> import ember
        >>> w = ember.tensor([[1.0], [2.0], [4.0]])
        >>> ember.nn.functional.embedding_bag(ember.tensor([0, 1, 2]), w,
        ...                                   ember.tensor([0, 2]), mode="sum")
        tensor([[3.],
                [4.]])
    """
    if weight.dtype == D.int64 and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) "
                         f"is not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    _check_indices("embedding_bag", input)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets)}")
        n_bags, length = input.shape
        flat = input.reshape(-1)
        starts = None
        include_last_offset = False
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        flat = input
        starts = offsets._data
        if starts.size and int(starts[0]) != 0:
            raise RuntimeError("embedding_bag: offsets[0] has to be 0, i.e., the first sequence "
                               "in the mini-batch has to start from position 0. However, got "
                               f"{int(starts[0])}")
        n_bags = starts.size - 1 if include_last_offset else starts.size
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        _embedding_renorm_(weight, input, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    xp = _xp_of(weight)
    ids = flat._data
    n = ids.size
    if starts is None:
        bag = xp.arange(n) // max(length, 1)
    else:
        bag = xp.searchsorted(starts[:n_bags] if include_last_offset else starts,
                              xp.arange(n), side="right") - 1
        if include_last_offset and starts.size:
            bag = xp.where(xp.arange(n) >= starts[-1], -1, bag)
    keep = bag >= 0
    if padding_idx is not None:
        keep = keep & (ids != padding_idx)
    equal_bags = starts is None
    if (starts is not None or padding_idx is not None) and not bool(keep.all()):
        equal_bags = False
        sel = xp.flatnonzero(keep)
        ids, bag = ids[sel], bag[sel]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[Tensor._make(sel)]
    if per_sample_weights is not None:
        per_sample_weights = per_sample_weights.to(weight.dtype)
    return apply(EmbeddingBag, weight, per_sample_weights, ids=ids, bag=bag, n_bags=n_bags,
                 mode=mode, scale_grad_by_freq=bool(scale_grad_by_freq), equal_bags=equal_bags)


def one_hot(tensor, num_classes=-1):
    """Index tensor of shape (*) -> int64 tensor (*, num_classes) with a 1 at each index.

    Args:
        tensor: int64 class indices.
        num_classes: number of classes; -1 infers max + 1.

    Returns:
        An int64 tensor.

    Example:
        >>> import ember
        >>> ember.nn.functional.one_hot(ember.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
    """
    if not isinstance(tensor, Tensor) or tensor.dtype != D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = _xp_of(tensor)
    idx = tensor._data
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size:
        if int(idx.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(idx.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)


# -- distances ---------------------------------------------------------------------------------

def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps).

    Example:
        >>> import ember
        >>> ember.nn.functional.normalize(ember.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    from .elementwise import div
    from .linalg import vector_norm
    denom = vector_norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is not None:
        return div(input, denom, out=out)
    return input / denom


def _clamp_value_only(t, eps):
    """t clamped below at eps in value, with the gradient of t itself (PyTorch clamps the norms
    of cosine_similarity in place under no_grad)."""
    td = t.detach()
    return t + (td.clamp_min(eps) - td)


@_amp("fp32")
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along dim (broadcasting); each is divided by its
    norm (clamped at eps) first, which keeps the result in [-1, 1].

    Example:
        >>> import ember
        >>> ember.nn.functional.cosine_similarity(ember.tensor([[1.0, 0.0]]),
        ...                                       ember.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    from .linalg import vector_norm
    from .shape import broadcast_tensors
    if not x1.is_floating_point():
        x1 = x1.to(D.get_default_dtype())
    if not x2.is_floating_point():
        x2 = x2.to(D.get_default_dtype())
    common = D.promote_types(x1.dtype, x2.dtype)
    x1, x2 = broadcast_tensors(x1.to(common), x2.to(common))
    dim = wrap_dim("cosine_similarity", dim, x1.ndim)
    n1 = _clamp_value_only(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = _clamp_value_only(vector_norm(x2, 2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm of x1 - x2 + eps along the last dimension (broadcasting).

    Example:
        >>> import ember
        >>> ember.nn.functional.pairwise_distance(ember.tensor([[0.0, 0.0]]),
        ...                                       ember.tensor([[3.0, 4.0]]), eps=0.0)
        tensor([5.])
    """
    from .linalg import vector_norm
    dim = max(x1.ndim, x2.ndim) - 1
    diff = x1 - x2 + eps
    return named(vector_norm(diff, p, dim if diff.ndim else None, keepdim=keepdim),
                 "NormBackward1")           # PyTorch: norm(diff, p, dim), norm's overload 1


def pdist(input, p=2):
    """p-norm distances between all pairs of rows of a 2-D input: the condensed upper
    triangle, row pairs (0, 1), (0, 2), ..., (n - 2, n - 1).

    Example:
        >>> import ember
        >>> ember.nn.functional.pdist(ember.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.0000, 1.0000, 4.2426])
    """
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    from .linalg import vector_norm
    n = input.shape[0]
    xp = _xp_of(input)
    i, j = xp.triu_indices(n, 1)
    diff = input[Tensor._make(i)] - input[Tensor._make(j)]
    return named(vector_norm(diff, p, 1), "PdistBackward0")


TENSOR_METHODS: dict = {}
