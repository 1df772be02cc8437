"""scaled_dot_product_attention and multi_head_attention_forward."""

from __future__ import annotations

import numpy as np

import ember
from tests.oracle import torch

from .spec import OpSpec, Sample, draw


def _sdpa_ref(q, k, v, attn_mask=None, is_causal=False, scale=None):
    wide = np.float64
    s = q.astype(wide) @ np.swapaxes(k.astype(wide), -1, -2)
    s *= 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    if is_causal:
        s = np.where(np.tri(s.shape[-2], s.shape[-1], dtype=bool), s, -np.inf)
    if attn_mask is not None:
        s = s + (np.where(attn_mask, 0, -np.inf) if attn_mask.dtype == bool else attn_mask)
    m = s.max(-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0))
    d = e.sum(-1, keepdims=True)
    return (e / np.where(d == 0, 1, d)) @ v.astype(wide)


def _samples(rng, dtype):
    def d(*shape):
        return draw(rng, shape, dtype)
    mask = rng.random((3, 5)) > 0.3
    mask[1] = False                          # a row that attends nowhere gives zeros
    return [
        Sample((d(2, 3, 4), d(2, 5, 4), d(2, 5, 6))),
        Sample((d(3, 4), d(5, 4), d(5, 2))),
        Sample((d(2, 2, 3, 4), d(2, 2, 3, 4), d(2, 2, 3, 4)), {"is_causal": True}),
        Sample((d(2, 3, 4), d(2, 5, 4), d(2, 5, 3)), {"is_causal": True, "scale": 0.7}),
        Sample((d(2, 3, 4), d(2, 5, 4), d(2, 5, 3), mask)),
        Sample((d(2, 3, 4), d(1, 5, 4), d(1, 5, 3), d(2, 3, 5))),   # float mask, broadcasting
    ]


def _gqa_samples(rng, dtype):
    return [Sample((draw(rng, (2, 4, 3, 4), dtype), draw(rng, (2, 2, 5, 4), dtype),
                    draw(rng, (2, 2, 5, 3), dtype)), {"enable_gqa": True})]


def _seeded(fn_of_lib):
    """Call with the default generator reseeded, so dropout draws the same mask in ember,
    in torch (bit-identical streams) and across gradcheck's repeated calls."""
    def call(lib):
        def f(*args, **kwargs):
            lib.manual_seed(7)
            return fn_of_lib(lib)(*args, **kwargs)
        return f
    return call


def _sdpa_of(lib):
    return lib.nn.functional.scaled_dot_product_attention


_dropout = _seeded(_sdpa_of)


def _dropout_samples(rng, dtype):
    return [Sample((draw(rng, (2, 3, 4), dtype), draw(rng, (2, 5, 4), dtype),
                    draw(rng, (2, 5, 6), dtype)), {"dropout_p": 0.4}),
            Sample((draw(rng, (2, 2, 3, 4), dtype), draw(rng, (2, 2, 3, 4), dtype),
                    draw(rng, (2, 2, 3, 4), dtype)), {"dropout_p": 0.3, "is_causal": True})]


def _mha_samples(rng, dtype):
    """(L=3, N=2, E=4, heads=2) self- and cross-attention, with and without weights."""
    def d(*shape):
        return draw(rng, shape, dtype, -1, 1)
    e, h = 4, 2
    x, mem = d(3, 2, e), d(5, 2, e)
    w_in, b_in, w_out, b_out = d(3 * e, e), d(3 * e), d(e, e), d(e)
    kpm = np.array([[False, False, False, True, True], [False] * 5])
    causal = np.triu(np.full((3, 3), -np.inf), 1).astype(x.dtype)
    base = (e, h, w_in, b_in, None, None, False, 0.0, w_out, b_out)
    return [
        Sample((x, x, x) + base, {"training": False}),
        Sample((x, mem, mem) + base, {"key_padding_mask": kpm, "average_attn_weights": False}),
        Sample((x, x, x) + base, {"attn_mask": causal, "need_weights": False}),
        Sample((x, mem, mem) + base, {"key_padding_mask": kpm, "need_weights": False}),
        Sample((x[:, 0], mem[:, 0], mem[:, 0]) + base, {}),                     # unbatched
        Sample((x, mem, mem, e, h, w_in, b_in, d(1, 1, e), d(1, 1, e), True, 0.0, w_out,
                b_out), {"key_padding_mask": kpm}),                    # bias_kv, zero attn
        Sample((x, mem, mem) + base, {"static_k": d(2 * h, 5, e // h),
                                      "static_v": d(2 * h, 5, e // h)}),
        Sample((x, mem[..., :3], mem, e, h, None, b_in, None, None, False, 0.0, w_out, b_out),
               {"use_separate_proj_weight": True, "q_proj_weight": d(e, e),
                "k_proj_weight": d(e, 3), "v_proj_weight": d(e, e), "need_weights": False}),
    ]


def _mha(lib):
    """multi_head_attention_forward without its None weights (the runner compares tensors)."""
    def f(*args, **kwargs):
        out = lib.nn.functional.multi_head_attention_forward(*args, **kwargs)
        return tuple(o for o in out if o is not None)
    return f


def _mha_small_samples(rng, dtype):
    """A small self-attention (L=2, N=1, E=2, one head) for second derivatives."""
    def d(*shape):
        return draw(rng, shape, dtype, -1, 1)
    x = d(2, 1, 2)
    return [Sample((x, x, x, 2, 1, d(6, 2), d(6), None, None, False, 0.0, d(2, 2), d(2)),
                   {"need_weights": False})]


def _mha_errors():
    e = np.zeros
    base = (4, 2, e((12, 4)), e(12), None, None, False, 0.0, e((4, 4)), e(4))
    return [
        (Sample((e((3, 2, 4)), e((3, 2, 4)), e((3, 2, 4))) + base, {"attn_mask": e((3, 4))}),
         RuntimeError, "The shape of the 2D attn_mask"),
        (Sample((e((3, 2, 4, 1)), e((3, 2, 4)), e((3, 2, 4))) + base), AssertionError,
         "query should be unbatched 2D or batched 3D"),
        (Sample((e((3, 2, 4)), e((3, 2, 4)), e((3, 2, 4))) + base, {"is_causal": True}),
         RuntimeError, "Need attn_mask if specifying the is_causal hint"),
    ]


def _errors():
    f32, f64 = np.zeros((2, 3, 4), np.float32), np.zeros((2, 3, 4), np.float64)
    return [
        (Sample((f32, f64, f32)), RuntimeError, "to have the same dtype"),
        (Sample((f32, f32, f32, np.ones((3, 3), bool)), {"is_causal": True}), RuntimeError,
         "should not be set when is_causal=True"),
        (Sample((f32, f32, f32, np.zeros((3, 3), np.int64))), RuntimeError,
         "Expected attn_mask dtype to be bool or float"),
        (Sample((f32, f32, f32), {"dropout_p": 1.5}), RuntimeError,
         "dropout probability has to be between 0 and 1"),
        (Sample((np.zeros(4), np.zeros(4), np.zeros(4))), RuntimeError, "at least 2"),
        (Sample((np.zeros((2, 6, 3, 4)), np.zeros((2, 4, 3, 4)), np.zeros((2, 4, 3, 4))),
                {"enable_gqa": True}), RuntimeError, "must divide the number of heads"),
        (Sample((f32, np.zeros((2, 3, 5), np.float32), f32)), RuntimeError,
         "same embedding size"),
    ]


SPECS = [
    OpSpec("nn.functional.scaled_dot_product_attention", samples=_samples, ref=_sdpa_ref,
           dtypes=("float32", "float64", "bfloat16"), errors=_errors()),
    OpSpec("nn.functional.scaled_dot_product_attention", variant="gqa", samples=_gqa_samples,
           dtypes=("float32", "float64")),
    OpSpec("nn.functional.scaled_dot_product_attention", variant="dropout",
           fn=_dropout(ember), torch_fn=_dropout(torch) if torch is not None else None,
           samples=_dropout_samples, dtypes=("float32", "float64")),
    OpSpec("nn.functional.multi_head_attention_forward", samples=_mha_samples,
           fn=_mha(ember), torch_fn=_mha(torch) if torch is not None else None,
           dtypes=("float32", "float64"), gradgrad=False, errors=_mha_errors()),
    OpSpec("nn.functional.multi_head_attention_forward", variant="gradgrad",
           samples=_mha_small_samples, fn=_mha(ember),
           torch_fn=_mha(torch) if torch is not None else None, dtypes=("float64",)),
]
