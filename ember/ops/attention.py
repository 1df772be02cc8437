"""Attention: scaled_dot_product_attention (one fused Op) and multi_head_attention_forward.

The fused Op computes scores, mask, softmax, dropout and the weighted sum in one forward on
backend arrays. Its backward is written in Tensor ops, so double backward works; a backward
that records no graph (the usual create_graph=False) runs the same formulas on arrays, in
place, with flash attention's row-dot trick (_sdpa_backward_arrays). It returns
the softmax probabilities as a second (hidden) output: backward reuses them without
recomputation, and because they come back as a real output of the node, a second derivative
flows through them too (Note [Probabilities as an output]).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _dtype as D
from .._autocast import policy as _amp
from .._dispatch import Op, apply
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad_state
from ..backends import cuda as _sdp_flags
from ._broadcast import sum_to

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

TENSOR_METHODS: dict = {}

# PyTorch's C++ names of dtypes, used in its attention error messages.
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def _cpp(dtype) -> str:
    return _CPP_NAMES.get(dtype.name if hasattr(dtype, "name") else str(dtype), str(dtype))


# Note [Probabilities as an output]
# ScaledDotProductAttention.forward returns (out, probs). The public function hands back out
# only. Saving probs as an *output* (not a constant) means saved_tensors gives a Tensor whose
# grad_fn is this very node: a create_graph backward that uses probs is itself differentiated
# through this node's backward, which then receives a gradient for probs (g_probs) and adds
# the softmax backward of it. materialize_grads=False keeps g_probs None in a first backward.

class ScaledDotProductAttention(Op):
    """softmax(q k^T * scale + mask) (dropped out) @ v, fused; float16/bfloat16 in float32.

    Inputs: query (..., L, E), key (..., S, E), value (..., S, Ev), then optionally an
    additive float mask broadcastable to (..., L, S) and a dropout multiplier of the
    scores' shape (0 or 1/(1-p)). Outputs: (attention output (..., L, Ev), probabilities).
    """

    name = "scaled_dot_product_attention"
    backward_name = "ScaledDotProductAttentionBackward0"
    promote = "same"
    upcast = True
    materialize_grads = False

    @staticmethod
    def forward(ctx, q, k, v, *extra, has_mask, has_drop, scale, is_causal, groups):
        xp = ctx.xp
        mask = extra[0] if has_mask else None
        drop = extra[-1] if has_drop else None
        ctx.scale, ctx.groups, ctx.has_mask, ctx.has_drop = scale, groups, has_mask, has_drop
        kk, vv = k, v
        if groups > 1:          # grouped-query attention: kv head j serves q heads j*g..j*g+g-1
            kk = xp.repeat(k, groups, axis=-3)
            vv = xp.repeat(v, groups, axis=-3)
        # Scaling q (L x E) is cheaper than scaling the scores (L x S); s is a fresh array,
        # updated in place from here on.
        s = xp.matmul(q * q.dtype.type(scale), xp.swapaxes(kk, -1, -2))
        L, S = s.shape[-2], s.shape[-1]
        if is_causal:
            s += xp.where(xp.tri(L, S, dtype=bool), s.dtype.type(0), s.dtype.type(-np.inf))
        if mask is not None:
            if np.broadcast_shapes(s.shape, mask.shape) == s.shape:
                s += mask
            else:
                s = s + mask
        p = s
        if S:
            m = s.max(axis=-1, keepdims=True)
            # A row masked everywhere gives zeros (PyTorch's "safe softmax"), not NaN. where()
            # rather than a masked write, which would sync a GPU.
            m = xp.where(xp.isfinite(m), m, m.dtype.type(0))
            p -= m
            xp.exp(p, out=p)
            denom = p.sum(axis=-1, keepdims=True)
            denom = xp.where(denom == 0, denom.dtype.type(1), denom)
            p /= denom
        pd = p * drop if drop is not None else p
        out = xp.matmul(pd, vv)
        ctx.save(q, k, v, p, out, *extra)
        return out, p

    @staticmethod
    def backward(ctx, g_out, g_p):
        if not _grad_state.enabled:
            return _sdpa_backward_arrays(ctx, g_out, g_p)
        q, k, v, p, _, *extra = ctx.saved_tensors
        needs = ctx.needs_input_grad
        scale, groups = ctx.scale, ctx.groups
        drop = extra[-1] if ctx.has_drop else None
        kk, vv = k, v
        if groups > 1:
            kk = k.repeat_interleave(groups, dim=-3)
            vv = v.repeat_interleave(groups, dim=-3)
        grads = [None] * len(needs)
        dp = None
        if g_out is not None:
            if needs[2]:
                pd = p * drop if drop is not None else p
                grads[2] = _reduce_kv(pd.mT.matmul(g_out), groups, ctx.in_shapes[2])
            dp = g_out.matmul(vv.mT)
            if drop is not None:
                dp = dp * drop
        if g_p is not None:
            dp = g_p if dp is None else dp + g_p
        if dp is None or not (needs[0] or needs[1] or (ctx.has_mask and needs[3])):
            return tuple(grads)
        ds = p * (dp - (dp * p).sum(-1, keepdim=True))      # softmax backward: d(scores)
        if ctx.has_mask and needs[3]:
            grads[3] = sum_to(ds, ctx.in_shapes[3])
        if needs[0]:
            grads[0] = sum_to(ds.matmul(kk) * scale, ctx.in_shapes[0])
        if needs[1]:
            grads[1] = _reduce_kv(ds.mT.matmul(q) * scale, groups, ctx.in_shapes[1])
        return tuple(grads)


def _sdpa_backward_arrays(ctx, g_out, g_p):
    """The backward above on arrays, updating temporaries in place: the common case of a
    backward that records no graph (create_graph=False)."""
    xp = ctx.xp
    q, k, v, p, out, *extra = [t._data for t in ctx.saved_tensors]
    needs = ctx.needs_input_grad
    scale, groups = ctx.scale, ctx.groups
    drop = extra[-1] if ctx.has_drop else None
    kk, vv = k, v
    if groups > 1:
        kk = xp.repeat(k, groups, axis=-3)
        vv = xp.repeat(v, groups, axis=-3)
    grads = [None] * len(needs)
    dp = None
    rowdot = None
    if g_out is not None:
        g = g_out._data
        # sum_j dp_ij p_ij = g_i . out_i (out = (p * drop) @ v): an (L, Ev) product instead of
        # an (L, S) one, as flash attention's backward does. Not for float16/bfloat16, whose
        # saved output was rounded.
        if out.dtype.itemsize >= 4:
            rowdot = (g * out).sum(axis=-1, keepdims=True)
        if needs[2]:
            pd = p * drop if drop is not None else p
            dv = _wrap(xp.matmul(xp.swapaxes(pd, -1, -2), g))
            grads[2] = _reduce_kv(dv, groups, ctx.in_shapes[2])
        dp = xp.matmul(g, xp.swapaxes(vv, -1, -2))
        if drop is not None:
            dp *= drop
        if rowdot is None:
            rowdot = (dp * p).sum(axis=-1, keepdims=True)
    if g_p is not None:
        gp = g_p._data
        dp = gp.copy() if dp is None else dp + gp
        extra_dot = (gp * p).sum(axis=-1, keepdims=True)
        rowdot = extra_dot if rowdot is None else rowdot + extra_dot
    if dp is None or not (needs[0] or needs[1] or (ctx.has_mask and needs[3])):
        return tuple(grads)
    ds = dp
    ds -= rowdot
    ds *= p
    if ctx.has_mask and needs[3]:
        grads[3] = sum_to(_wrap(ds), ctx.in_shapes[3])
    scale = ds.dtype.type(scale)
    if needs[0]:
        dq = xp.matmul(ds, kk)
        dq *= scale
        grads[0] = sum_to(_wrap(dq), ctx.in_shapes[0])
    if needs[1]:
        dk = xp.matmul(xp.swapaxes(ds, -1, -2), q)
        dk *= scale
        grads[1] = _reduce_kv(_wrap(dk), groups, ctx.in_shapes[1])
    return tuple(grads)


def _wrap(arr):
    return Tensor._make(arr)


def _reduce_kv(grad, groups: int, shape):
    """Gradient of a repeated (GQA) and broadcast key/value back to its own shape."""
    if groups > 1:
        gs = grad.shape
        grad = grad.reshape(gs[:-3] + (gs[-3] // groups, groups) + gs[-2:]).sum(-3)
    return sum_to(grad, tuple(shape))


def _sdpa_checks(query, key, value, attn_mask, dropout_p, is_causal):
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: Expected query, key, and value to all be  at least 2 "
            f"dimensional, but got query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: "
            f"{value.ndim} instead.")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(
            "scaled_dot_product_attention: Expected query, key, and value to have the same "
            f"dtype, but got query.dtype: {_cpp(query.dtype)} key.dtype: {_cpp(key.dtype)} and "
            f"value.dtype: {_cpp(value.dtype)} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"scaled_dot_product_attention: expected scalar type Float but found "
                           f"{D.to_dtype(query.dtype).name.capitalize()} (query must be a "
                           "floating point tensor)")
    if query.device != key.device or query.device != value.device:
        raise RuntimeError(
            "scaled_dot_product_attention: Expected query, key, and value to have the same "
            f"device type, but got query.device: {query.device} key.device: {key.device} and "
            f"value.device: {value.device} instead.")
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError("scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        if attn_mask.dtype not in (D.bool, D.float32, query.dtype):
            raise RuntimeError(
                "scaled_dot_product_attention: Expected attn_mask dtype to be bool or float or "
                f"to match query dtype, but got attn_mask.dtype: {_cpp(attn_mask.dtype)} and  "
                f"query.dtype: {_cpp(query.dtype)} instead.")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query (..., L, E) {tuple(query.shape)} and key "
            f"(..., S, E) {tuple(key.shape)} must have the same embedding size E "
            f"({query.shape[-1]} != {key.shape[-1]})")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: key (..., S, E) {tuple(key.shape)} and value "
            f"(..., S, Ev) {tuple(value.shape)} must have the same sequence length S "
            f"({key.shape[-2]} != {value.shape[-2]})")


def _gqa_groups(query, key, value, enable_gqa: bool) -> int:
    if not enable_gqa or query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
        return 1
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk == hq and hv == hq:
        return 1
    if hk != hv or hk == 0 or hq % hk:
        raise RuntimeError(
            "scaled_dot_product_attention: Number of heads in key and value must divide the "
            f"number of heads in query (query heads {hq}, key heads {hk}, value heads {hv})")
    return hq // hk


def _dropout_multiplier(shape, p: float, like):
    """0 or 1/(1-p) per score, drawn as PyTorch's dropout draws it (bernoulli_(1 - p))."""
    from .creation import empty, zeros
    if p == 1.0:
        return zeros(shape, dtype=like.dtype, device=like.device)
    keep = empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1.0 - p)
    return keep.div_(1.0 - p)


def _check_backend_allowed(query):
    """ember.nn.attention.sdpa_kernel may rule kernels out: on cpu, as in PyTorch, only the
    MATH and FLASH_ATTENTION backends exist (see ember/nn/attention)."""
    flags = _sdp_flags._sdp
    if query.device.type == "cpu":
        ok = flags["math"] or flags["flash"]
    else:
        ok = any(flags.values())
    if not ok:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This "
                           "is likely due to turning off both the math kernel and the fused "
                           "kernels.")


@_amp("lower")
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, *, scale: float | None = None,
                                 enable_gqa: bool = False):
    """softmax(query @ key^T * scale + mask) @ value, in one fused op.

    Args:
        query: (..., L, E). key: (..., S, E). value: (..., S, Ev); leading dims broadcast.
        attn_mask: bool (True = may attend) or float (added to the scores), broadcastable
            to (..., L, S); float32 or query's dtype.
        dropout_p: dropout on the attention probabilities (always applied when > 0, as in
            PyTorch; pass 0.0 in eval).
        is_causal: top-left aligned causal mask; excludes attn_mask.
        scale: defaults to 1 / sqrt(E).
        enable_gqa: key/value may have fewer heads (dim -3) than query, dividing them.

    Returns:
        (..., L, Ev). Rows masked everywhere give zeros, as PyTorch's math kernel does.

    Example:
        >>> import ember
        >>> import ember.nn.functional as F
        >>> q = ember.ones(1, 2, 4)
        >>> F.scaled_dot_product_attention(q, q, q).shape
        torch.Size([1, 2, 4])
    """
    _sdpa_checks(query, key, value, attn_mask, dropout_p, is_causal)
    _check_backend_allowed(query)
    groups = _gqa_groups(query, key, value, enable_gqa)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    extra = []
    if attn_mask is not None:
        if attn_mask.dtype == D.bool:
            from .elementwise import where
            attn_mask = where(attn_mask, 0.0, float("-inf"))
        if attn_mask.dtype != query.dtype:          # a float32 mask serves any query dtype
            attn_mask = attn_mask.to(query.dtype)
        extra.append(attn_mask)
    if dropout_p > 0.0:
        kshape = tuple(key.shape[:-3]) + (key.shape[-3] * groups,) if groups > 1 \
            else tuple(key.shape[:-2])
        batch = np.broadcast_shapes(tuple(query.shape[:-2]), kshape)
        if attn_mask is not None:
            batch = np.broadcast_shapes(batch, tuple(attn_mask.shape[:-2]))
        shape = tuple(batch) + (query.shape[-2], key.shape[-2])
        extra.append(_dropout_multiplier(shape, float(dropout_p), query))
    out, _ = apply(ScaledDotProductAttention, query, key, value, *extra,
                   has_mask=attn_mask is not None, has_drop=dropout_p > 0.0, scale=float(scale),
                   is_causal=bool(is_causal), groups=groups)
    return out


# -- multi-head attention ---------------------------------------------------------------------

def _none_or_dtype(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return x.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True):
    """A bool mask (True = masked out) becomes an additive float mask (-inf where True)."""
    if mask is None:
        return None
    if mask.dtype != D.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", UserWarning, stacklevel=3)
    if mask.dtype == D.bool:
        from .creation import zeros
        return zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill_(
            mask, float("-inf"))
    return mask


def _linear(x, weight, bias):
    from .conv import linear
    return linear(x, weight, bias)


def _dropout(x, p: float):
    from .norm import dropout
    return dropout(x, p, True)


def _pad_last(t):
    """Append one zero column along the last dim (PyTorch pads masks with F.pad(m, (0, 1)))."""
    from .creation import zeros
    from .shape import cat
    return cat([t, zeros(tuple(t.shape[:-1]) + (1,), dtype=t.dtype, device=t.device)], -1)


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.ndim}-D tensor instead")
            if attn_mask.ndim == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                         f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _in_projection_packed(q, k, v, w, b):
    if q is k and k is v:
        # One matmul for all three projections (self-attention).
        proj = _linear(q, w, b)
        return proj.chunk(3, dim=-1)
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = b.chunk(3) if b is not None else (None, None, None)
    if k is v:
        kv = _linear(k, w[w_q.shape[0]:], b[b_q.shape[0]:] if b is not None else None)
        kp, vp = kv.chunk(2, dim=-1)
        return _linear(q, w_q, b_q), kp, vp
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q, b_k, b_v):
    eq, ek, ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, w, want in (("query", w_q, (eq, eq)), ("key", w_k, (eq, ek)),
                          ("value", w_v, (eq, ev))):
        if tuple(w.shape) != want:
            raise AssertionError(f"expecting {name} weights shape of {want}, but got "
                                 f"{tuple(w.shape)}")
    for name, b in (("query", b_q), ("key", b_k), ("value", b_v)):
        if b is not None and tuple(b.shape) != (eq,):
            raise AssertionError(f"expecting {name} bias shape of {(eq,)}, but got "
                                 f"{tuple(b.shape)}")
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v,
                                 add_zero_attn: bool, dropout_p: float, out_proj_weight,
                                 out_proj_bias, training: bool = True, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None,
                                 use_separate_proj_weight: bool = False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """The computation of nn.MultiheadAttention, on explicit weights.

    Args:
        query: (L, N, E) or unbatched (L, E). key, value: (S, N, Ek/Ev) or (S, Ek/Ev).
        key_padding_mask: (N, S), True (or -inf) where a key is padding.
        attn_mask: (L, S) or (N * num_heads, L, S); bool True = not allowed, or additive.
        need_weights: also return the attention weights (then the scores are computed
            unfused, as PyTorch does); otherwise the fused scaled_dot_product_attention runs.
        average_attn_weights: average the returned weights over heads.
        is_causal: a hint that attn_mask is causal (attn_mask is still required).

    Returns:
        (attn_output (L, N, E), attn_weights (N, L, S) averaged or (N, H, L, S), or None).
    """
    from .linalg import baddbmm, bmm
    from .nn import softmax
    from .shape import cat

    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        # The fused kernel builds the causal mask itself.
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                             f"{tuple(value.shape)}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                                 "k_proj_weight or v_proj_weight is None")
        b_q, b_k, b_v = in_proj_bias.chunk(3) if in_proj_bias is not None else (None,) * 3
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight,
                                 v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is "
                                   f"torch.Size({list(attn_mask.shape)}), but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is "
                                   f"torch.Size({list(attn_mask.shape)}), but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key/value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must be both given or both None")

    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_k.shape[0] != bsz * num_heads or static_k.shape[2] != head_dim:
            raise AssertionError(f"expecting static_k of shape ({bsz * num_heads}, S, "
                                 f"{head_dim}), but got {tuple(static_k.shape)}")
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if static_v.shape[0] != bsz * num_heads or static_v.shape[2] != head_dim:
            raise AssertionError(f"expecting static_v of shape ({bsz * num_heads}, S, "
                                 f"{head_dim}), but got {tuple(static_v.shape)}")
        v = static_v

    if add_zero_attn:
        from .creation import zeros
        zshape = (bsz * num_heads, 1, head_dim)
        k = cat([k, zeros(zshape, dtype=k.dtype, device=k.device)], dim=1)
        v = cat([v, zeros(zshape, dtype=v.dtype, device=v.device)], dim=1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)

    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but "
                                 f"got {tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        if attn_mask is not None:
            weights = baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = bmm(q_scaled, k.transpose(-2, -1))
        weights = softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = _dropout(weights, dropout_p)
        out = bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = _linear(out, out_proj_weight, out_proj_bias)
        out = out.reshape(tgt_len, bsz, out.shape[1])
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias)
    out = out.reshape(tgt_len, bsz, out.shape[1])
    if not is_batched:
        out = out.squeeze(1)
    return out, None
