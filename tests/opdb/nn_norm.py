"""nn.functional normalization, dropout, embedding and distance ops."""

from __future__ import annotations

import numpy as np

from .spec import OpSpec, Sample, draw

F = "nn.functional."
FLOATS = ("float32", "float64")
ALL_FLOATS = ("float32", "float64", "float16", "bfloat16")


def _bn_samples(training):
    def samples(rng, dtype):
        out = []
        for shape in ((4, 3), (4, 3, 5), (2, 3, 2, 3)):
            c = shape[1]
            rm = draw(rng, (c,), dtype, -0.5, 0.5)
            rv = draw(rng, (c,), dtype, 0.5, 2.0)
            out.append(Sample((draw(rng, shape, dtype), rm, rv, draw(rng, (c,), dtype),
                               draw(rng, (c,), dtype)), {"training": training},
                              grad=(0, 3, 4)))
        out.append(Sample((draw(rng, (3, 2, 4), dtype), None, None, None, None),
                          {"training": True, "eps": 1e-3}, grad=(0,)))
        return out
    return samples


def _bn_ref(training):
    def ref(x, rm, rv, w=None, b=None, training=training, momentum=0.1, eps=1e-5):
        xf = x.astype(np.float64)
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        if training:
            mean, var = xf.mean(axes, keepdims=True), xf.var(axes, keepdims=True)
        else:
            mean, var = rm.astype(np.float64).reshape(shape), rv.astype(np.float64).reshape(shape)
        y = (xf - mean) / np.sqrt(var + eps)
        if w is not None:
            y = y * w.astype(np.float64).reshape(shape) + b.astype(np.float64).reshape(shape)
        return y
    return ref


def _ln_samples(rng, dtype):
    return [Sample((draw(rng, (3, 5), dtype), (5,), draw(rng, (5,), dtype),
                    draw(rng, (5,), dtype))),
            Sample((draw(rng, (2, 3, 4), dtype), (3, 4), draw(rng, (3, 4), dtype),
                    draw(rng, (3, 4), dtype)), {"eps": 1e-3}),
            Sample((draw(rng, (2, 3, 4), dtype), [4]))]


def _ln_ref(x, shape, w=None, b=None, eps=1e-5):
    shape = tuple(shape)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    xf = x.astype(np.float64)
    y = (xf - xf.mean(axes, keepdims=True)) / np.sqrt(xf.var(axes, keepdims=True) + eps)
    if w is not None:
        y = y * w.astype(np.float64)
    if b is not None:
        y = y + b.astype(np.float64)
    return y


def _gn_samples(rng, dtype):
    return [Sample((draw(rng, (2, 6, 3), dtype), 3, draw(rng, (6,), dtype),
                    draw(rng, (6,), dtype))),
            Sample((draw(rng, (2, 4, 2, 2), dtype), 1)),
            Sample((draw(rng, (3, 4), dtype), 4, draw(rng, (4,), dtype), None),
                   {"eps": 1e-2})]


def _in_samples(rng, dtype):
    c = 3
    return [Sample((draw(rng, (2, c, 4), dtype),)),
            Sample((draw(rng, (2, c, 2, 3), dtype), draw(rng, (c,), dtype),
                    draw(rng, (c,), dtype, 0.5, 2), draw(rng, (c,), dtype),
                    draw(rng, (c,), dtype)), grad=(0, 3, 4)),
            Sample((draw(rng, (2, c, 4), dtype), draw(rng, (c,), dtype),
                    draw(rng, (c,), dtype, 0.5, 2), draw(rng, (c,), dtype),
                    draw(rng, (c,), dtype)), {"use_input_stats": False}, grad=(0, 3, 4))]


def _rms_samples(rng, dtype):
    return [Sample((draw(rng, (3, 4), dtype), (4,), draw(rng, (4,), dtype))),
            Sample((draw(rng, (2, 3, 4), dtype), [3, 4], None), {"eps": 1e-3}),
            Sample((draw(rng, (2, 5), dtype), (5,)))]


def _lrn_samples(rng, dtype):
    return [Sample((draw(rng, (2, 5, 3), dtype), 3)),
            Sample((draw(rng, (2, 4, 3, 2), dtype), 2), {"alpha": 0.1, "beta": 0.5, "k": 2.0}),
            Sample((draw(rng, (1, 3, 2, 2, 2), dtype), 4))]


def _emb_samples(rng, dtype):
    idx = np.array([[0, 2, 4, 2], [5, 1, 2, 0]], dtype=np.int64)
    return [Sample((idx, draw(rng, (6, 3), dtype))),
            Sample((idx[0].astype(np.int32), draw(rng, (6, 3), dtype))),
            Sample((np.array(3, dtype=np.int64), draw(rng, (6, 2), dtype)))]


def _emb_grad_rule_samples(rng, dtype):
    # padding_idx and scale_grad_by_freq change the gradient on purpose (it is no longer the
    # derivative of the output): parity with torch only, no gradcheck (tests/nn has the grads).
    idx = np.array([[0, 2, 4, 2], [5, 1, 2, 0]], dtype=np.int64)
    return [Sample((idx, draw(rng, (6, 3), dtype)), {"padding_idx": 2}),
            Sample((idx[0], draw(rng, (6, 3), dtype)), {"padding_idx": -1,
                                                        "scale_grad_by_freq": True})]


def _bag_samples(rng, dtype):
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 0], dtype=np.int64)
    off = np.array([0, 3, 3, 5], dtype=np.int64)
    out = []
    for mode in ("sum", "mean", "max"):
        out.append(Sample((idx, draw(rng, (6, 3), dtype), off), {"mode": mode}, grad=(1,)))
    out.append(Sample((idx.reshape(2, 4), draw(rng, (6, 3), dtype)),
                      {"mode": "mean", "padding_idx": 4}, grad=(1,)))
    out.append(Sample((idx, draw(rng, (6, 2), dtype), np.append(off, 8), None, 2, False,
                       "sum", False, draw(rng, (8,), dtype)),
                      {"include_last_offset": True}, grad=(1, 8)))
    out.append(Sample((idx, draw(rng, (6, 2), dtype), off),
                      {"mode": "sum", "padding_idx": 2}, grad=(1,)))
    return out


def _one_hot_samples(rng, dtype):
    return [Sample((np.array([0, 3, 1, 2], dtype=np.int64),)),
            Sample((np.array([[0, 1], [2, 1]], dtype=np.int64), 5)),
            Sample((np.zeros((0,), dtype=np.int64), 3))]


def _normalize_samples(rng, dtype):
    return [Sample((draw(rng, (3, 4), dtype),)),
            Sample((draw(rng, (2, 3, 4), dtype),), {"p": 1.0, "dim": -1}),
            Sample((draw(rng, (4, 3), dtype),), {"p": 3.0, "dim": 0})]


def _cos_samples(rng, dtype):
    return [Sample((draw(rng, (3, 4), dtype), draw(rng, (3, 4), dtype))),
            Sample((draw(rng, (2, 3, 4), dtype), draw(rng, (3, 4), dtype)), {"dim": -1}),
            Sample((draw(rng, (5,), dtype), draw(rng, (5,), dtype)), {"dim": 0})]


def _pair_samples(rng, dtype):
    return [Sample((draw(rng, (3, 4), dtype), draw(rng, (3, 4), dtype))),
            Sample((draw(rng, (2, 3, 4), dtype), draw(rng, (4,), dtype)), {"p": 1.0}),
            Sample((draw(rng, (3, 4), dtype), draw(rng, (3, 4), dtype)),
                   {"p": 3.0, "keepdim": True})]


def _pdist_samples(rng, dtype):
    return [Sample((draw(rng, (4, 3), dtype),)),
            Sample((draw(rng, (5, 2), dtype),), {"p": 1.0}),
            Sample((draw(rng, (3, 4), dtype),), {"p": 3.0})]


def _seeded(module, name, **fixed):
    """fn(*args, **kw) that seeds the generator first: ember and torch then draw the same
    dropout mask, and gradcheck sees the same mask on every call."""
    def fn(*args, **kw):
        module.manual_seed(7)
        mod = module.nn.functional
        return getattr(mod, name)(*args, **{**fixed, **kw})
    return fn


def _dropout_spec(name, shape, variant="", **kw):
    import ember
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None

    def samples(rng, dtype):
        return [Sample((draw(rng, shape, dtype),), dict(kw))]
    return OpSpec(F + name, variant=variant, fn=_seeded(ember, name),
                  torch_fn=_seeded(torch, name) if torch is not None else None,
                  samples=samples, dtypes=FLOATS)


SPECS = [
    OpSpec(F + "batch_norm", variant="train", samples=_bn_samples(True), ref=_bn_ref(True),
           dtypes=ALL_FLOATS,
           errors=[(Sample((np.ones((1, 3)), None, None), {"training": True}), ValueError,
                    "Expected more than 1 value per channel when training"),
                   (Sample((np.ones((2, 3)), np.zeros(4), np.ones(4)), {}), RuntimeError,
                    "running_mean should contain 3 elements not 4")]),
    OpSpec(F + "batch_norm", variant="eval", samples=_bn_samples(False), ref=_bn_ref(False),
           dtypes=ALL_FLOATS),
    OpSpec(F + "layer_norm", samples=_ln_samples, ref=_ln_ref, dtypes=ALL_FLOATS,
           errors=[(Sample((np.ones((2, 3)), (4,))), RuntimeError,
                    r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]")]),
    OpSpec(F + "group_norm", samples=_gn_samples, dtypes=ALL_FLOATS,
           errors=[(Sample((np.ones((2, 6, 4)), 4)), RuntimeError,
                    "Expected number of channels in input to be divisible by num_groups")]),
    OpSpec(F + "instance_norm", samples=_in_samples, dtypes=FLOATS,
           errors=[(Sample((np.ones((2, 3, 1)),)), ValueError,
                    "Expected more than 1 spatial element when training")]),
    OpSpec(F + "rms_norm", samples=_rms_samples, dtypes=ALL_FLOATS),
    OpSpec(F + "local_response_norm", samples=_lrn_samples, dtypes=FLOATS,
           errors=[(Sample((np.ones((2, 3)), 2)), ValueError,
                    "Expected 3D or higher dimensionality input")]),
    OpSpec(F + "embedding", samples=_emb_samples, dtypes=ALL_FLOATS,
           errors=[(Sample((np.array([0, 6]), np.ones((6, 2)))), IndexError,
                    "index out of range in self"),
                   (Sample((np.array([0.0, 1.0]), np.ones((6, 2)))), RuntimeError,
                    "to have one of the following scalar types: Long, Int")]),
    OpSpec(F + "embedding", variant="grad_rules", samples=_emb_grad_rule_samples,
           dtypes=FLOATS, grad=False),
    OpSpec(F + "embedding_bag", samples=_bag_samples, dtypes=FLOATS,
           errors=[(Sample((np.array([0, 1]), np.ones((6, 2)))), ValueError,
                    "offsets has to be a 1D Tensor but got None"),
                   (Sample((np.array([0, 1]), np.ones((6, 2)), np.array([0])),
                           {"mode": "min"}), ValueError, "mode has to be one of sum, mean")]),
    OpSpec(F + "one_hot", samples=_one_hot_samples, dtypes=("int64",), grad=False,
           errors=[(Sample((np.array([0, 3]), 3)), RuntimeError,
                    "Class values must be smaller than num_classes"),
                   (Sample((np.array([-1, 0]), 3)), RuntimeError,
                    "Class values must be non-negative"),
                   (Sample((np.zeros(0, dtype=np.int64),)), RuntimeError,
                    "Can not infer total number of classes from empty tensor")]),
    OpSpec(F + "normalize", samples=_normalize_samples, dtypes=FLOATS),
    OpSpec(F + "cosine_similarity", samples=_cos_samples, dtypes=FLOATS),
    OpSpec(F + "pairwise_distance", samples=_pair_samples, dtypes=FLOATS),
    OpSpec(F + "pdist", samples=_pdist_samples, dtypes=FLOATS,
           errors=[(Sample((np.ones((2, 3, 4)),)), RuntimeError,
                    "pdist only supports 2D tensors, got: 3D")]),
    _dropout_spec("dropout", (4, 5), p=0.3),
    _dropout_spec("dropout", (3, 4), variant="p0", p=0.0),
    _dropout_spec("dropout1d", (2, 3, 4), p=0.5),
    _dropout_spec("dropout2d", (2, 3, 2, 2), p=0.4),
    _dropout_spec("dropout3d", (3, 2, 2, 2), p=0.4),
    _dropout_spec("alpha_dropout", (4, 5), p=0.2, training=True),
    _dropout_spec("feature_alpha_dropout", (3, 4, 2), p=0.3, training=True),
    OpSpec(F + "dropout", variant="errors", dtypes=(),
           errors=[(Sample((np.ones(3), 1.5)), ValueError,
                    "dropout probability has to be between 0 and 1, but got 1.5")]),
]
