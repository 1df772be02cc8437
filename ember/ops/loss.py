"""Loss functions (the ``F.*_loss`` forms).

Cross entropy is one fused Op (log_softmax and the negative log likelihood in one forward,
one backward); NLL, binary cross entropy and CTC are primitives too. The cheap losses compose
existing ops and get their gradients (and double backward) from them.

Reductions follow PyTorch: ``reduction`` is 'none' | 'mean' | 'sum'; the legacy
``size_average`` / ``reduce`` arguments map onto it with PyTorch's deprecation warning.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as D
from .._autocast import policy as _amp
from .._dispatch import Op, apply
from .._errors import fmt_shape
from ..autograd.grad_mode import no_grad
from . import elementwise as _ew
from ._names import named
from .activation import logsigmoid

__all__ = [
    "l1_loss", "mse_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "smooth_l1_loss", "huber_loss", "kl_div",
    "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss",
    "triplet_margin_loss", "triplet_margin_with_distance_loss", "hinge_embedding_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss",
    "soft_margin_loss", "ctc_loss",
]


# -- reductions ----------------------------------------------------------------------------------

def _legacy_reduction(size_average, reduce) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce pair onto ``reduction``."""
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{_legacy_string(size_average, reduce)}' instead.",
                  UserWarning, stacklevel=3)
    return _legacy_string(size_average, reduce)


def _legacy_string(size_average, reduce) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        return "mean"
    return "sum" if reduce else "none"


def _reduction(size_average, reduce, reduction) -> str:
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    _check_reduction(reduction)
    return reduction


def _check_reduction(reduction):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({_size(target)}) that is different to the input size "
            f"({_size(input)}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.", UserWarning, stacklevel=3)


def _size(t) -> str:
    return f"torch.Size({list(t.shape)})"


def _weighted(loss, weight, input, reduction, mean_by_weight=True):
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum() if mean_by_weight else loss.mean()
    return _reduce(loss, reduction)


# -- regression losses -----------------------------------------------------------------------

@_amp("fp32")
def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
            weight=None):
    """Mean (or sum) absolute error |input - target|.

    Args:
        input, target: tensors of the same shape (broadcasting warns, as in PyTorch).
        reduction: 'none' | 'mean' | 'sum'.
        weight: optional per-element weights of the input's shape; 'mean' then divides by
            their sum.

    Returns:
        A scalar, or the elementwise loss for reduction='none'.

    Example:
        >>> import ember
        >>> ember.nn.functional.l1_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 0.0]))
        tensor(1.5000)
    """
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = _ew.abs(input - target)
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


@_amp("fp32")
def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
             weight=None):
    """Mean (or sum) squared error (input - target) ** 2."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    diff = input - target
    loss = diff * diff
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return named(_reduce(loss, reduction), "MseLossBackward0", input, target)


@_amp("fp32")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0):
    """0.5 * d**2 / beta where |d| < beta, else |d| - 0.5 * beta (d = input - target)."""
    _size_warning(input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    diff = input - target
    ad = _ew.abs(diff)
    if beta == 0:
        return _reduce(ad, reduction)
    loss = _ew.where(ad < beta, 0.5 * diff * diff / beta, ad - 0.5 * beta)
    return named(_reduce(loss, reduction), "SmoothL1LossBackward0", input, target)


@_amp("fp32")
def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5 * d**2 where |d| < delta, else delta * (|d| - 0.5 * delta)."""
    _size_warning(input, target)
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got "
                           f"{delta}.")
    diff = input - target
    ad = _ew.abs(diff)
    loss = _ew.where(ad < delta, 0.5 * diff * diff, delta * (ad - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, weight, input, reduction, mean_by_weight=False)
    return named(_reduce(loss, reduction), "HuberLossBackward0", input, target)


# -- cross entropy and NLL ---------------------------------------------------------------------

def _class_dim(input) -> int:
    return 0 if input.ndim == 1 else 1


def _check_nll_shapes(input, target, weight, name="nll_loss"):
    if input.ndim == 0:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype is D.bool:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{target.dtype.name.capitalize()}")
    if input.ndim == 1:
        if target.ndim != 0 and not (target.ndim == 1 and target.shape[0] == 1):
            raise RuntimeError(f"{name}: 0D or 1D target tensor expected, multi-target not "
                               f"supported (input {fmt_shape(input.shape)}, target "
                               f"{fmt_shape(target.shape)})")
    else:
        if target.ndim == 0 or input.shape[0] != target.shape[0]:
            got = target.shape[0] if target.ndim else 1
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({got}).")
        want = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != want:
            raise RuntimeError(f"Expected target size {list(want)}, got {list(target.shape)}")
    n_classes = input.shape[_class_dim(input)]
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes "
                           f"or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")


def _index_target(xp, target, ignore_index, n_classes, cdim, input_ndim):
    """(safe target with ignored entries set to 0, valid mask), both with the class dim
    inserted as size 1 so they line up with the input."""
    t = target.reshape(()) if input_ndim == 1 else target
    t = xp.expand_dims(t.astype(np.int64, copy=False), cdim)
    valid = t != ignore_index
    if xp is np:
        bad = (t < 0) | (t >= n_classes)
        bad &= valid
        if bad.any():
            raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    return xp.where(valid, t, 0), valid


def _class_weights(xp, weight, dtype, cdim, ndim):
    if weight is None:
        return None
    shape = [1] * ndim
    shape[cdim] = weight.shape[0]
    return weight.astype(dtype, copy=False).reshape(shape)


def _nll_parts(xp, logp, t, valid, w, cdim):
    """Per-element (unreduced) NLL with the class dim kept, and the per-element weights."""
    picked = xp.take_along_axis(logp, t, axis=cdim)
    wt = valid.astype(logp.dtype)
    if w is not None:
        wt = wt * xp.take_along_axis(xp.broadcast_to(w, logp.shape), t, axis=cdim)
    return -picked * wt, wt


def _reduce_arrays(xp, loss, wt, reduction, cdim):
    if reduction == "none":
        return xp.squeeze(loss, axis=cdim), None
    total = loss.sum()
    if reduction == "sum":
        return total, None
    denom = wt.sum()
    return total / denom, denom


def _scatter_classes(xp, shape, dtype, t, values, cdim):
    """An array of ``shape`` holding ``values`` at class ``t`` along cdim, 0 elsewhere (a
    one-hot comparison rather than put_along_axis, which CuPy lacks)."""
    classes = [1] * len(shape)
    classes[cdim] = shape[cdim]
    hit = xp.arange(shape[cdim]).reshape(classes) == t
    return (hit * values).astype(dtype, copy=False)


def _target_dist(xp, shape, dtype, t, wt, w, valid, smoothing, n_classes, cdim):
    """The weighted target distribution q: loss = -sum(q * logp) per element."""
    q = _scatter_classes(xp, shape, dtype, t, (1 - smoothing) * wt, cdim)
    if smoothing:
        spread = (smoothing / n_classes) * valid.astype(dtype)
        q = (q + spread * (w if w is not None else 1)).astype(dtype, copy=False)
    return q


class NllLoss(Op):
    """-weight[target] * input[target] per element, reduced; input holds log-probabilities."""
    name = "nll_loss"

    @staticmethod
    def forward(ctx, logp, target, weight=None, *, ignore_index, reduction):
        xp = ctx.xp
        cdim = 0 if logp.ndim == 1 else 1
        n_classes = logp.shape[cdim]
        t, valid = _index_target(xp, target, ignore_index, n_classes, cdim, logp.ndim)
        w = _class_weights(xp, weight, logp.dtype, cdim, logp.ndim)
        loss, wt = _nll_parts(xp, logp, t, valid, w, cdim)
        out, denom = _reduce_arrays(xp, loss, wt, reduction, cdim)
        ctx.cdim, ctx.reduction, ctx.denom = cdim, reduction, denom
        ctx.t, ctx.wt, ctx.shape, ctx.dtype = t, wt, logp.shape, logp.dtype
        return xp.asarray(out, dtype=logp.dtype)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None, None, None
        from .._tensor import Tensor
        xp = ctx.xp
        q = _scatter_classes(xp, ctx.shape, ctx.dtype, ctx.t, -ctx.wt, ctx.cdim)
        g = _expand_grad(grad, ctx.reduction, ctx.denom, ctx.cdim)
        return g * Tensor._make(q), None, None


def _expand_grad(grad, reduction, denom, cdim):
    if reduction == "none":
        return grad.unsqueeze(cdim)
    if reduction == "mean":
        return grad / _denom(denom)
    return grad


def _denom(denom):
    # A backend scalar stays on its device (float() would sync a GPU); ints pass as they are.
    if isinstance(denom, (int, float)):
        return denom
    from .._tensor import Tensor
    return Tensor._make(np.asarray(denom) if isinstance(denom, np.generic) else denom)


class CrossEntropy(Op):
    """log_softmax over the class dim and the (label-smoothed, weighted) NLL in one op.

    Outputs (loss, log_softmax): the second output is saved for backward, so a second
    derivative flows through it (Note [Fused cross entropy])."""
    name = "cross_entropy"
    materialize_grads = False

    @staticmethod
    def forward(ctx, x, target, weight=None, *, ignore_index, reduction, label_smoothing,
                probs):
        xp = ctx.xp
        cdim = 0 if x.ndim == 1 else 1
        n_classes = x.shape[cdim]
        out_dtype = x.dtype
        if x.dtype.itemsize < 4:                 # float16/bfloat16: compute in float32
            x = x.astype(np.float32)
        shifted = x - x.max(axis=cdim, keepdims=True)
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=cdim, keepdims=True))
        w = _class_weights(xp, weight, x.dtype, cdim, x.ndim)
        ctx.cdim, ctx.reduction, ctx.smoothing = cdim, reduction, label_smoothing
        ctx.probs = probs
        if probs:
            target = target.astype(x.dtype, copy=False)
            q = target if not label_smoothing else \
                target * (1 - label_smoothing) + label_smoothing / n_classes
            if w is not None:
                q = q * w
            loss = -(logp * q).sum(axis=cdim)
            ctx.w, ctx.denom = w, x.size // n_classes
            if reduction == "sum":
                loss = loss.sum()
            elif reduction == "mean":
                loss = loss.sum() / ctx.denom
            logp = logp.astype(out_dtype, copy=False)
            ctx.save(logp, target)
            return xp.asarray(loss, dtype=out_dtype), logp
        t, valid = _index_target(xp, target, ignore_index, n_classes, cdim, x.ndim)
        loss, wt = _nll_parts(xp, logp, t, valid, w, cdim)
        loss = (1 - label_smoothing) * loss
        if label_smoothing:
            wl = logp * w if w is not None else logp
            smooth = -wl.sum(axis=cdim, keepdims=True) * valid
            loss = loss + (label_smoothing / n_classes) * smooth
        out, denom = _reduce_arrays(xp, loss, wt, reduction, cdim)
        ctx.denom = denom
        ctx.t, ctx.wt, ctx.w, ctx.valid = t, wt, w, valid
        logp = logp.astype(out_dtype, copy=False)
        ctx.save(logp)
        return xp.asarray(out, dtype=out_dtype), logp

    @staticmethod
    def backward(ctx, grad, grad_logp):
        # Note [Fused cross entropy]: with q the weighted target distribution (sum s per
        # element), d loss / d x = (softmax * s - q) * grad. logp is this op's second output,
        # so terms built on it are differentiable again; q is a constant.
        from .._tensor import Tensor
        xp, cdim = ctx.xp, ctx.cdim
        saved = ctx.saved_tensors
        logp = saved[0]
        gx = gt = None
        if grad is not None and not ctx.probs:
            # Class indices (the common case): one kernel, see _CrossEntropyBackward.
            q = _target_dist(xp, logp.shape, logp._data.dtype, ctx.t, ctx.wt, ctx.w,
                             ctx.valid, ctx.smoothing, logp.shape[cdim], cdim)
            gx = apply(_CrossEntropyBackward, grad, logp, q=q, reduction=ctx.reduction,
                       denom=ctx.denom, cdim=cdim)
            if grad_logp is None:
                return gx, None, None
        p = logp.exp()
        if grad is not None and ctx.probs:
            g = _expand_grad(grad, ctx.reduction, ctx.denom, cdim)
            target = saved[1]
            q = target * (1 - ctx.smoothing) + ctx.smoothing / logp.shape[cdim] \
                if ctx.smoothing else target
            w = Tensor._make(ctx.w.astype(logp._data.dtype)) if ctx.w is not None else None
            if w is not None:
                q = q * w
            if ctx.needs_input_grad[0]:
                gx = g * (p * q.sum(cdim, keepdim=True) - q)
            if ctx.needs_input_grad[1]:
                scale = -(1 - ctx.smoothing)
                wl = logp * w if w is not None else logp
                gt = g * wl * scale
        if grad_logp is not None:
            glog = grad_logp - p * grad_logp.sum(cdim, keepdim=True)
            gx = glog if gx is None else gx + glog
        return gx, gt, None


class _CrossEntropyBackward(Op):
    """Cross entropy's input gradient for class-index targets in one kernel:
    g * (exp(logp) * s - q), with q the constant weighted target distribution and s its sum
    over classes. Its own backward (double backward) is in Tensor ops."""
    name = "cross_entropy_backward"

    @staticmethod
    def forward(ctx, grad, logp, *, q, reduction, denom, cdim):
        xp = ctx.xp
        ctx.q, ctx.reduction, ctx.denom, ctx.cdim = q, reduction, denom, cdim
        s = q.sum(axis=cdim, keepdims=True)
        ctx.s = s
        g = xp.expand_dims(grad, cdim) if reduction == "none" else grad
        if reduction == "mean":
            g = g / denom
        ctx.save(grad, logp)
        lp = logp.astype(np.float32) if logp.dtype.itemsize < 4 else logp   # half: in float32
        return (g * (xp.exp(lp) * s - q)).astype(logp.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        from .._tensor import Tensor
        grad, logp = ctx.saved_tensors
        p = logp.exp()
        s = Tensor._make(ctx.s)
        g_grad = g_logp = None
        if ctx.needs_input_grad[0]:
            per = gg * (p * s - Tensor._make(ctx.q))
            if ctx.reduction == "none":
                g_grad = per.sum(ctx.cdim)
            else:
                g_grad = per.sum() / _denom(ctx.denom) if ctx.reduction == "mean" \
                    else per.sum()
        if ctx.needs_input_grad[1]:
            g = _expand_grad(grad, ctx.reduction, ctx.denom, ctx.cdim)
            g_logp = gg * g * s * p
        return g_grad, g_logp


@_amp("fp32")
def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean"):
    """Negative log likelihood of class indices under log-probabilities ``input``.

    Args:
        input: (N, C), (C,) or (N, C, d1, ...) log-probabilities.
        target: class indices (N,), () or (N, d1, ...); ``ignore_index`` entries count 0.
        weight: optional (C,) class weights; 'mean' divides by the weights of the targets.

    Example:
        >>> import ember
        >>> logp = ember.tensor([[-0.5, -1.0]])
        >>> ember.nn.functional.nll_loss(logp, ember.tensor([1]))
        tensor(1.)
    """
    reduction = _reduction(size_average, reduce, reduction)
    _check_nll_shapes(input, target, weight)
    args = (input, target) if weight is None else (input, target, weight)
    return named(apply(NllLoss, *args, ignore_index=int(ignore_index), reduction=reduction),
                 _nll_name(input.ndim, reduction))


@_amp("fp32")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross entropy between softmax(input) over dim 1 and class indices or probabilities.

    Args:
        input: (N, C), (C,) or (N, C, d1, ...) unnormalised scores.
        target: class indices (integer; shape of input without the class dim) or class
            probabilities (float; the input's shape).
        weight: optional (C,) class weights.
        ignore_index: class index that contributes nothing (indices only).
        label_smoothing: in [0, 1]; mixes the target with the uniform distribution.

    Returns:
        A scalar for 'mean'/'sum', the per-element loss for 'none'.

    Example:
        >>> import ember
        >>> x = ember.tensor([[0.0, 0.0]])
        >>> ember.nn.functional.cross_entropy(x, ember.tensor([0]))
        tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    probs = target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape)
    if probs:
        n_classes = input.shape[_class_dim(input)] if input.ndim else 1
        if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
            raise RuntimeError(f"weight tensor should be defined either for all {n_classes} "
                               f"classes or no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
    else:
        _check_nll_shapes(input, target, weight, "cross_entropy")
        if not (input.dtype.is_floating_point or input.dtype.is_complex):
            raise RuntimeError(f'"log_softmax_lastdim_kernel_impl" not implemented for '
                               f"'{input.dtype.name.capitalize()}'")
    args = (input, target) if weight is None else (input, target, weight)
    loss, _ = apply(CrossEntropy, *args, ignore_index=int(ignore_index), reduction=reduction,
                    label_smoothing=float(label_smoothing), probs=bool(probs))
    # PyTorch's last node: nll_loss after log_softmax; with probabilities or label smoothing,
    # the last op of its decomposition
    if probs:
        name = "DivBackward1" if reduction == "mean" else "NegBackward0"
    elif label_smoothing > 0:
        name = "AddBackward0"
    else:
        name = _nll_name(input.ndim, reduction)
    return named(loss, name)


def _nll_name(ndim, reduction) -> str:
    """PyTorch's node for nll_loss: nll_loss2d for 4-D input, and for 3-D or >= 5-D input
    reshaped to 4-D (then viewed back when reduction='none')."""
    if ndim <= 2:
        return "NllLossBackward0"
    if ndim != 4 and reduction == "none":
        return "ViewBackward0"
    return "NllLoss2DBackward0"


# -- binary cross entropy --------------------------------------------------------------------------

class BinaryCrossEntropy(Op):
    """-(t * log(x) + (1 - t) * log(1 - x)), the logs clamped at -100 like PyTorch's."""
    name = "binary_cross_entropy"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, x, t):
        xp = ctx.xp
        if xp is np and ((x < 0) | (x > 1)).any():
            raise RuntimeError("all elements of input should be between 0 and 1")
        log_x = xp.maximum(xp.log(x), -100)
        log_1mx = xp.maximum(xp.log(1 - x), -100)
        ctx.save(x, t)
        return -(t * log_x + (1 - t) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:
            # PyTorch's formula: eps keeps the denominator away from 0 at x in {0, 1}.
            gx = grad * (x - t) / _ew.clamp_min((1 - x) * x, 1e-12)
        if ctx.needs_input_grad[1]:
            gt = grad * (_ew.clamp_min(_ew.log(1 - x), -100) - _ew.clamp_min(_ew.log(x), -100))
        return gx, gt


@_amp("fp32")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """Binary cross entropy between probabilities ``input`` and ``target`` (same shape).

    Example:
        >>> import ember
        >>> p = ember.tensor([0.5])
        >>> ember.nn.functional.binary_cross_entropy(p, ember.tensor([1.0]))
        tensor(0.6931)
    """
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({_size(target)}) that is different to the "
                         f"input size ({_size(input)}) is deprecated. Please ensure they have "
                         "the same size.")
    loss = apply(BinaryCrossEntropy, input, target)
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0", input, target)


@_amp("fp32")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean", pos_weight=None):
    """Binary cross entropy of sigmoid(input), computed stably from the logits.

    Args:
        pos_weight: weight of the positive class, broadcast along the last dim.
    """
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size(target)}) must be the same as input size "
                         f"({_size(input)})")
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        loss = (1 - target) * input - ((pos_weight - 1) * target + 1) * log_sig
    else:
        loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0", input, target)


# -- divergences and likelihoods --------------------------------------------------------------

@_amp("fp32")
def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False):
    """Kullback-Leibler divergence: target * (log(target) - input), input in log space.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematical KL);
    'mean' divides by every element and warns, as PyTorch does.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = _ew.exp(target) * (target - input)
    else:
        loss = _ew.xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


@_amp("fp32")
def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean"):
    """Negative log likelihood of ``target`` under Poisson(rate); rate = exp(input) when
    ``log_input`` else input. ``full`` adds the Stirling term for targets > 1."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = _ew.exp(input) - target * input
    else:
        loss = input - target * _ew.log(input + eps)
    if full:
        stirling = target * _ew.log(target) - target + 0.5 * _ew.log(2 * math.pi * target)
        loss = loss + _ew.where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean"):
    """Negative log likelihood of ``target`` under N(input, var).

    ``var`` has the input's shape, or lacks its last dim, or has 1 there (one variance per
    sample), or is a float. Values below ``eps`` are clamped (without stopping gradients).
    """
    from .creation import full_like
    if not hasattr(var, "shape"):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = full_like(input, float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    diff = input - target
    loss = 0.5 * (_ew.log(var) + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- margin and embedding losses -----------------------------------------------------------------

@_amp("fp32")
def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None,
                          reduce=None, reduction: str = "mean"):
    """1 - cos(x1, x2) where target is 1; max(0, cos(x1, x2) - margin) where it is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.ndim == 1 and (input1.ndim != 2 or input2.ndim != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    if target.ndim == 0 and (input1.ndim != 1 or input2.ndim != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    dim = input1.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / _ew.sqrt(mag1 * mag2)
    pos = _ew.where(target == 1, 1 - cos, 0.0)
    neg = _ew.where(target == -1, _ew.clamp_min(cos - margin, 0), 0.0)
    return _reduce(pos + neg, reduction)


@_amp("fp32")
def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None,
                        reduce=None, reduction: str = "mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {_size(input1)}, input2: {_size(input2)}, target: {_size(target)} ")
    loss = _ew.clamp_min(-target * (input1 - input2) + margin, 0)
    return _reduce(loss, reduction)


@_amp("fp32")
def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):
    """x where target is 1, max(0, margin - x) where target is -1."""
    reduction = _reduction(size_average, reduce, reduction)
    margin_part = _ew.where(target != 1, _ew.clamp_min(margin - input, 0), 0.0)
    self_part = _ew.where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


@_amp("fp32")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """log(1 + exp(-target * input)), the two-class logistic loss."""
    reduction = _reduction(size_average, reduce, reduction)
    return named(_reduce(_ew.log1p(_ew.exp(-input * target)), reduction),
                 "SoftMarginLossBackward0", input, target)


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6):
    # F.pairwise_distance lives in ops/norm.py (another area); the loss needs only this form.
    dim = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p, dim)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not (a == p == n):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


@_amp("fp32")
def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the p-norm distance."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_triplet_dims(anchor, positive, negative)
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _ew.minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return _reduce(_ew.clamp_min(margin + d_pos - d_neg, 0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean"):
    """triplet_margin_loss with any distance function (default: pairwise_distance)."""
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    _check_reduction(reduction)
    _check_triplet_dims(anchor, positive, negative)
    dist = distance_function if distance_function is not None else _pairwise_distance
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = _ew.minimum(d_neg, dist(positive, negative))
    return _reduce(_ew.clamp_min(margin + d_pos - d_neg, 0), reduction)


def _class_input(name, input, target):
    """input as (N, C) and target as (N,) for the multi-class margin losses."""
    if input.ndim > 2:
        raise RuntimeError(f"{name}: Expected non-empty vector or matrix with optional 0-dim "
                           f"batch size, but got: {list(input.shape)}")
    return input


@_amp("fp32")
def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean"):
    """Multi-class hinge loss: sum over j != y of max(0, margin - x[y] + x[j]) ** p / C."""
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _class_input("multi_margin_loss", input, target)
    x = input.reshape(1, -1) if input.ndim <= 1 else input
    y = target.reshape(-1)
    n, c = x.shape
    if y.shape[0] != n:
        raise RuntimeError(f"multi_margin_loss: inconsistent target size: {list(target.shape)} "
                           f"for input of size: {list(input.shape)}")
    if y._data.dtype.kind not in "iu":
        raise RuntimeError(f"multi_margin_loss: expected target dtype to be Long, got "
                           f"{target.dtype}")
    yd = y._data
    if isinstance(yd, np.ndarray) and ((yd < 0) | (yd >= c)).any():
        raise RuntimeError(f"multi_margin_loss: target out of range: classes must be in "
                           f"[0, {c})")
    col = y.reshape(n, 1)
    z = _ew.clamp_min(margin - x.gather(1, col) + x, 0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[y].reshape(n, 1)
    from .creation import arange
    not_target = arange(c, device=x.device).reshape(1, c) != col
    loss = (z * not_target).sum(1) / c
    if input.ndim <= 1 and reduction == "none":
        loss = loss.reshape(())
    return named(_reduce(loss, reduction), "MultiMarginLossBackward0", input)


@_amp("fp32")
def multilabel_margin_loss(input, target, size_average=None, reduce=None,
                           reduction: str = "mean"):
    """Multi-label hinge loss. Each row of ``target`` lists class indices up to the first -1;
    loss = sum over targets j and non-targets k of max(0, 1 - (x[j] - x[k])) / C."""
    reduction = _reduction(size_average, reduce, reduction)
    _class_input("multilabel_margin_loss", input, target)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                           f"{list(target.shape)} for input of size: {list(input.shape)}")
    x = input.reshape(1, -1) if input.ndim <= 1 else input
    t = target.reshape(x.shape)._data
    xp = _xp(t)
    n, c = x.shape
    # Entries count until the first -1 in each row; is_target marks every listed class.
    listed = xp.cumprod(t != -1, axis=1).astype(bool)
    safe = xp.where(listed, t, 0).astype(np.int64)
    if xp is np and ((safe < 0) | (safe >= c)).any():
        raise IndexError("multilabel_margin_loss: target index out of range")
    is_target = xp.zeros((n, c), dtype=bool)
    rows = xp.broadcast_to(xp.arange(n)[:, None], (n, c))
    is_target[rows[listed], safe[listed]] = True
    from .._tensor import Tensor
    x_listed = x.gather(1, Tensor._make(safe))
    pair_mask = listed[:, :, None] & ~is_target[:, None, :]
    margins = _ew.clamp_min(1 - x_listed.unsqueeze(2) + x.unsqueeze(1), 0)
    loss = (margins * Tensor._make(pair_mask.astype(x._data.dtype))).sum((1, 2)) / c
    if input.ndim <= 1 and reduction == "none":
        loss = loss.reshape(())
    return named(_reduce(loss, reduction), "MultilabelMarginLossBackward0", input)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):
    """Per-class logistic loss averaged over classes: -(t log sig(x) + (1-t) log sig(-x))."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def _xp(arr):
    if isinstance(arr, np.ndarray):
        return np
    from .._device import xp_of
    return xp_of(arr)


# -- CTC ------------------------------------------------------------------------------------------

def _logsumexp3(xp, a, b, c):
    m = xp.maximum(xp.maximum(a, b), c)
    safe = xp.where(xp.isfinite(m), m, 0)
    return safe + xp.log(xp.exp(a - safe) + xp.exp(b - safe) + xp.exp(c - safe))


class CtcLoss(Op):
    """Per-sample CTC negative log likelihood by the forward-backward algorithm in log space,
    vectorised over the batch and the extended label positions (the loop runs over time)."""
    name = "ctc_loss"
    upcast = True

    @staticmethod
    def forward(ctx, lp, *, targets, input_lengths, target_lengths, blank, zero_infinity):
        xp = ctx.xp
        T, N, C = lp.shape
        S = 2 * (int(target_lengths.max()) if N else 0) + 1
        # Extended labels: blank, l1, blank, l2, ..., blank (padded with blank).
        ext = xp.full((N, S), blank, dtype=np.int64)
        ext[:, 1::2] = targets[:, :(S - 1) // 2]
        s_len = 2 * target_lengths + 1
        pos = xp.arange(S)
        in_label = pos[None, :] < s_len[:, None]
        # The skip transition s-2 -> s is allowed onto a non-blank that differs from s-2.
        skip = xp.zeros((N, S), dtype=bool)
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        neg_inf = -xp.inf
        emit = xp.take_along_axis(lp, xp.broadcast_to(ext[None], (T, N, S)), axis=2)
        alpha = xp.full((T, N, S), neg_inf, dtype=lp.dtype)
        alpha[0, :, 0] = emit[0, :, 0]
        alpha[0, :, 1:2] = xp.where(s_len[:, None] > 1, emit[0, :, 1:2], neg_inf)
        for t in range(1, T):
            prev = alpha[t - 1]
            a1 = xp.concatenate([xp.full((N, 1), neg_inf, lp.dtype), prev[:, :-1]], axis=1)
            a2 = xp.concatenate([xp.full((N, 2), neg_inf, lp.dtype), prev[:, :-2]], axis=1)
            a2 = xp.where(skip, a2, neg_inf)
            alpha[t] = xp.where(in_label, emit[t] + _logsumexp3(xp, prev, a1, a2), neg_inf)
        last = xp.clip(input_lengths - 1, 0, None)
        n_idx = xp.arange(N)
        a_end = alpha[last, n_idx]
        end1 = xp.take_along_axis(a_end, (s_len - 1)[:, None], axis=1)[:, 0]
        end2 = xp.take_along_axis(a_end, xp.clip(s_len - 2, 0, None)[:, None], axis=1)[:, 0]
        end2 = xp.where(s_len > 1, end2, neg_inf)
        m = xp.maximum(end1, end2)
        safe = xp.where(xp.isfinite(m), m, 0)
        nll = -(safe + xp.log(xp.exp(end1 - safe) + xp.exp(end2 - safe)))
        ctx.parts = (ext, s_len, in_label, skip, emit, alpha, nll)
        ctx.lengths = input_lengths
        ctx.zero_infinity = zero_infinity
        ctx.save(lp)
        if zero_infinity:
            nll = xp.where(xp.isinf(nll), 0, nll)
        return nll.astype(lp.dtype)

    @staticmethod
    def backward(ctx, grad):
        from .._tensor import Tensor
        xp = ctx.xp
        (lp_t,) = ctx.saved_tensors
        lp = lp_t._data
        if lp.dtype != ctx.parts[4].dtype:
            lp = lp.astype(ctx.parts[4].dtype)
        G = _ctc_grad(xp, lp, ctx.lengths, ctx.parts, ctx.zero_infinity)
        # lp is an input of the backward op so that, as in PyTorch, differentiating this
        # gradient again with respect to log_probs raises instead of silently giving 0.
        return apply(_CtcLossBackward, grad, Tensor._make(G.astype(lp_t._data.dtype)), lp_t),


def _ctc_grad(xp, lp, input_lengths, parts, zero_infinity):
    """PyTorch's CTC gradient: exp(lp) - exp(log(sum of alpha * beta over the positions that
    emit c) + nll - lp), zero past each input's length. It assumes ``lp`` is a log_softmax
    output (the exp(lp) term vanishes through log_softmax's backward)."""
    ext, s_len, in_label, skip, emit, alpha, nll = parts
    T, N, C = lp.shape
    S = ext.shape[1]
    neg_inf = -xp.inf
    beta = xp.full((T, N, S), neg_inf, dtype=lp.dtype)
    skip_next = xp.zeros((N, S), dtype=bool)
    skip_next[:, :-2] = skip[:, 2:]
    pos = xp.arange(S)
    is_end = (pos[None, :] == (s_len - 1)[:, None]) | (pos[None, :] == (s_len - 2)[:, None])
    for t in range(T - 1, -1, -1):
        start = (input_lengths - 1 == t)[:, None]
        init = xp.where(is_end & in_label, emit[t], neg_inf)
        if t + 1 < T:
            nxt = beta[t + 1]
            b1 = xp.concatenate([nxt[:, 1:], xp.full((N, 1), neg_inf, lp.dtype)], axis=1)
            b2 = xp.concatenate([nxt[:, 2:], xp.full((N, 2), neg_inf, lp.dtype)], axis=1)
            b2 = xp.where(skip_next, b2, neg_inf)
            rec = xp.where(in_label, emit[t] + _logsumexp3(xp, nxt, b1, b2), neg_inf)
        else:
            rec = xp.full((N, S), neg_inf, lp.dtype)
        active = (t < input_lengths)[:, None]
        beta[t] = xp.where(start, init, xp.where(active, rec, neg_inf))
    ab = alpha + beta                                       # (T, N, S)
    m = ab.max(axis=2, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    onehot = (ext[:, :, None] == xp.arange(C)[None, None, :]).astype(lp.dtype)   # (N, S, C)
    summed = xp.einsum("tns,nsc->tnc", xp.exp(ab - m), onehot)
    lcab = xp.log(summed) + m
    grad = xp.exp(lp) - xp.exp(lcab + nll[None, :, None] - lp)
    valid = (xp.arange(T)[:, None] < input_lengths[None, :])[:, :, None]
    grad = xp.where(valid, grad, 0)
    if zero_infinity:
        grad = xp.where(xp.isinf(nll)[None, :, None], 0, grad)
    return grad


class _CtcLossBackward(Op):
    """grad (N,) times the per-sample gradient table (T, N, C); like PyTorch, not twice
    differentiable."""
    name = "ctc_loss_backward"

    @staticmethod
    def forward(ctx, grad, table, log_probs):
        return grad[None, :, None] * table

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")


def _lengths(xp, value, name, n):
    if hasattr(value, "_data"):
        arr = value._data
    else:
        arr = np.asarray(value)
    arr = xp.asarray(arr).astype(np.int64).reshape(-1)
    if arr.shape[0] != n:
        raise RuntimeError(f"ctc_loss: {name} must be of size batch_size ({n}), got "
                           f"{arr.shape[0]}")
    return arr


@_amp("fp32")
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False):
    """Connectionist Temporal Classification loss.

    Args:
        log_probs: (T, N, C) or (T, C) log-probabilities (log_softmax outputs).
        targets: (N, S) padded class indices, or 1-D concatenated targets.
        input_lengths, target_lengths: (N,) tensors or sequences of ints.
        blank: the blank class.
        reduction: 'mean' divides each loss by its target length, then averages.
        zero_infinity: replace infinite losses (impossible alignments) and their gradients
            by zero.

    Like PyTorch's, the gradient assumes ``log_probs`` comes from log_softmax.
    """
    _check_reduction(reduction)
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs of 2 or 3 dims (T, N, C), got "
                           f"{fmt_shape(log_probs.shape)}")
    T, N, C = lp.shape
    xp = _xp(lp._data)
    tl = _lengths(xp, target_lengths, "target_lengths", N)
    il = _lengths(xp, input_lengths, "input_lengths", N)
    tgt = targets._data if hasattr(targets, "_data") else np.asarray(targets)
    tgt = xp.asarray(tgt).astype(np.int64)
    if unbatched and tgt.ndim == 1 and tl.shape[0] == 1 and tgt.shape[0] != int(tl[0]):
        tgt = tgt[: int(tl[0])]
    max_len = int(tl.max()) if N else 0
    if tgt.ndim == 2 and not unbatched or (unbatched and tgt.ndim == 2):
        padded = tgt.reshape(N, -1) if tgt.size else xp.zeros((N, 0), np.int64)
        if padded.shape[1] < max_len:
            raise RuntimeError(f"Expected tensor to have size at least {max_len} at dimension "
                               f"1, but got size {padded.shape[1]} for argument #2 'targets'")
    else:
        flat = tgt.reshape(-1)
        if flat.shape[0] != int(tl.sum()):
            raise RuntimeError(f"ctc_loss: expected targets of total length "
                               f"{int(tl.sum())} (the sum of target_lengths), got "
                               f"{flat.shape[0]}")
        offsets = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(tl)[:-1]])
        cols = xp.arange(max(max_len, 1))
        idx = xp.minimum(offsets[:, None] + cols[None, :], max(flat.shape[0] - 1, 0))
        padded = flat[idx] if flat.shape[0] else xp.zeros((N, max_len), np.int64)
        padded = xp.where(cols[None, :] < tl[:, None], padded, blank)
    if xp is np and (il > T).any():
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value "
                           f"{int(il.max())}")
    padded = xp.ascontiguousarray(padded[:, :max(max_len, 1)])
    loss = apply(CtcLoss, lp, targets=padded, input_lengths=il, target_lengths=tl,
                 blank=int(blank), zero_infinity=bool(zero_infinity))
    if unbatched:
        loss = loss.reshape(())
    if reduction == "mean":
        from .._tensor import Tensor
        denom = Tensor._make(xp.maximum(tl, 1).astype(loss._data.dtype))
        return (loss / (denom.reshape(()) if unbatched else denom)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss
