"""nn losses (F.*_loss): one OpSpec per loss or variant, every reduction.

Inputs stay away from the hinges of the margin losses (the clamp at 0) and from 0 and 1 for
binary cross entropy, so finite differences never cross a kink.
"""

from __future__ import annotations

import numpy as np

import ember

from .spec import OpSpec, Sample, draw

F = "nn.functional."
FLOATS = ("float32", "float64")
REDUCTIONS = ("mean", "sum", "none")


def _pair(rng, dtype, shape=(3, 4)):
    return draw(rng, shape, dtype), draw(rng, shape, dtype)


def _regression(extra=({},)):
    def make(rng, dtype):
        out = []
        for red in REDUCTIONS:
            for kw in extra:
                out.append(Sample(_pair(rng, dtype), {"reduction": red, **kw}))
        return out
    return make


def _weighted_regression(rng, dtype):
    x, y = _pair(rng, dtype)
    w = draw(rng, (3, 4), dtype, 0.5, 2.0)
    return [Sample((x, y), {"reduction": r, "weight": w}, grad=(0, 1)) for r in REDUCTIONS]


def _classes(rng, n, c, shape=None):
    return rng.integers(0, c, size=shape if shape is not None else (n,)).astype(np.int64)


def _ce_samples(rng, dtype):
    c = 5
    x = draw(rng, (4, c), dtype, -3, 3)
    t = _classes(rng, 4, c)
    t[1] = 2
    w = draw(rng, (c,), dtype, 0.5, 2.0)
    x4 = draw(rng, (2, c, 3, 2), dtype, -3, 3)
    t4 = _classes(rng, 2, c, (2, 3, 2))
    out = [Sample((x, t), {"reduction": r}) for r in REDUCTIONS]
    out += [Sample((x, t), {"weight": w, "ignore_index": 2}),
            Sample((x, t), {"weight": w, "reduction": "none"}),
            Sample((x, t), {"weight": w, "reduction": "sum", "label_smoothing": 0.2}),
            Sample((x, t), {"label_smoothing": 0.3, "ignore_index": 2}),
            Sample((x, t), {"weight": w, "label_smoothing": 0.1, "ignore_index": 2,
                            "reduction": "none"}),
            Sample((x4, t4), {"weight": w}),
            Sample((x4, t4), {"reduction": "none", "label_smoothing": 0.1}),
            Sample((x[0], np.array(3, dtype=np.int64)), {}),
            Sample((x[0], np.array(3, dtype=np.int64)), {"reduction": "none"})]
    return out


def _ce_prob_samples(rng, dtype):
    c = 5
    x = draw(rng, (4, c), dtype, -3, 3)
    p = draw(rng, (4, c), dtype, 0.1, 1.0)
    p = (p / p.sum(1, keepdims=True)).astype(dtype)
    w = draw(rng, (c,), dtype, 0.5, 2.0)
    x4 = draw(rng, (2, c, 3), dtype, -3, 3)
    p4 = draw(rng, (2, c, 3), dtype, 0.0, 1.0)
    return [Sample((x, p), {"reduction": r}) for r in REDUCTIONS] + [
        Sample((x, p), {"weight": w, "label_smoothing": 0.2}, grad=(0, 1)),
        Sample((x4, p4), {"reduction": "none"}),
        Sample((x[0], p[0]), {})]


def _nll_samples(rng, dtype):
    c = 5
    x = draw(rng, (4, c), dtype, -3, 0)
    t = _classes(rng, 4, c)
    t[0] = 1
    w = draw(rng, (c,), dtype, 0.5, 2.0)
    return [Sample((x, t), {"reduction": r}) for r in REDUCTIONS] + [
        Sample((x, t), {"weight": w, "ignore_index": 1}),
        Sample((x, t), {"weight": w, "reduction": "none"}),
        Sample((draw(rng, (2, c, 3), dtype), _classes(rng, 2, c, (2, 3))), {"weight": w}),
        Sample((x[0], np.array(2, dtype=np.int64)), {})]


def _bce_samples(rng, dtype):
    p = draw(rng, (3, 4), dtype, 0.05, 0.95)
    t = draw(rng, (3, 4), dtype, 0.0, 1.0)
    w = draw(rng, (4,), dtype, 0.5, 2.0)
    return [Sample((p, t), {"reduction": r}) for r in REDUCTIONS] + [
        Sample((p, t), {"weight": w}, grad=(0, 1))]


def _bce_logits_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype, -4, 4)
    t = draw(rng, (3, 4), dtype, 0.0, 1.0)
    w = draw(rng, (4,), dtype, 0.5, 2.0)
    pw = draw(rng, (4,), dtype, 0.5, 3.0)
    return [Sample((x, t), {"reduction": r}) for r in REDUCTIONS] + [
        Sample((x, t), {"weight": w, "pos_weight": pw}, grad=(0, 1))]


def _kl_samples(rng, dtype):
    x = np.log(draw(rng, (3, 4), dtype, 0.1, 1.0)).astype(dtype)
    t = draw(rng, (3, 4), dtype, 0.1, 1.0)
    return [Sample((x, t), {"reduction": r}) for r in ("batchmean", "sum", "none")] + [
        Sample((x, np.log(t).astype(dtype)), {"reduction": "batchmean", "log_target": True})]


def _poisson_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype, -1, 1)
    t = rng.integers(0, 5, (3, 4)).astype(dtype)
    rate = draw(rng, (3, 4), dtype, 0.5, 3.0)
    return [Sample((x, t), {"reduction": r}, grad=(0,)) for r in REDUCTIONS] + [
        Sample((x, t), {"full": True}, grad=(0,)),
        Sample((rate, t), {"log_input": False}, grad=(0,))]


def _gaussian_samples(rng, dtype):
    x, y = _pair(rng, dtype)
    var = draw(rng, (3, 4), dtype, 0.2, 2.0)
    return [Sample((x, y, var), {"reduction": r}) for r in REDUCTIONS] + [
        Sample((x, y, var[:, 0]), {"full": True}),
        Sample((x, y, var[:, :1]), {"reduction": "sum"})]


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _cosine_samples(rng, dtype):
    a, b = _pair(rng, dtype)
    y = _signs(rng, (3,)).astype(dtype)
    return [Sample((a, b, y), {"reduction": r, "margin": -0.5}, grad=(0, 1))
            for r in REDUCTIONS] + [
        Sample((a[0], b[0], np.array(1.0, dtype=dtype)), {}, grad=(0, 1))]


def _ranking_samples(rng, dtype):
    a = draw(rng, (6,), dtype)
    b = a + _signs(rng, (6,)).astype(dtype) * draw(rng, (6,), dtype, 0.3, 1.0)
    y = _signs(rng, (6,)).astype(dtype)
    return [Sample((a, b, y), {"reduction": r, "margin": 0.1}, grad=(0, 1)) for r in REDUCTIONS]


def _hinge_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype, -3, 3)
    x = np.where(np.abs(x - 1.0) < 0.1, x + 0.3, x).astype(dtype)
    y = _signs(rng, (3, 4)).astype(dtype)
    return [Sample((x, y), {"reduction": r}, grad=(0,)) for r in REDUCTIONS]


def _soft_margin_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype, -3, 3)
    return [Sample((x, _signs(rng, (3, 4)).astype(dtype)), {"reduction": r}, grad=(0,))
            for r in REDUCTIONS]


def _triplet_samples(rng, dtype):
    a, p = _pair(rng, dtype, (4, 3))
    n = draw(rng, (4, 3), dtype)
    return [Sample((a, p, n), {"reduction": r, "margin": 3.0}) for r in REDUCTIONS] + [
        Sample((a, p, n), {"margin": 3.0, "swap": True}),
        Sample((a, p, n), {"margin": 3.0, "p": 1.0}),
        Sample((a[0], p[0], n[0]), {"margin": 3.0})]


def _triplet_distance_samples(rng, dtype):
    a, p = _pair(rng, dtype, (4, 3))
    n = draw(rng, (4, 3), dtype)
    return [Sample((a, p, n), {"reduction": r, "margin": 3.0}) for r in REDUCTIONS] + [
        Sample((a, p, n), {"margin": 3.0, "swap": True})]


def _multi_margin_samples(rng, dtype):
    c = 4
    x = draw(rng, (3, c), dtype)
    t = _classes(rng, 3, c)
    w = draw(rng, (c,), dtype, 0.5, 2.0)
    return [Sample((x, t), {"reduction": r, "margin": 3.0}) for r in REDUCTIONS] + [
        Sample((x, t), {"p": 2, "margin": 3.0, "weight": w}, grad=(0,)),
        Sample((x[0], np.array(1, dtype=np.int64)), {"margin": 3.0, "reduction": "none"})]


def _multilabel_margin_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype, -0.4, 0.4)
    t = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [2, -1, 0, 0]], dtype=np.int64)
    return [Sample((x, t), {"reduction": r}) for r in REDUCTIONS] + [
        Sample((x[0], t[0]), {"reduction": "none"})]


def _multilabel_soft_samples(rng, dtype):
    x = draw(rng, (3, 4), dtype, -3, 3)
    t = (rng.random((3, 4)) < 0.5).astype(dtype)
    w = draw(rng, (4,), dtype, 0.5, 2.0)
    return [Sample((x, t), {"reduction": r}, grad=(0,)) for r in REDUCTIONS] + [
        Sample((x, t), {"weight": w}, grad=(0,))]


def _ctc_samples(rng, dtype):
    T, N, C = 6, 3, 4
    x = draw(rng, (T, N, C), dtype, -2, 2)
    targets = np.array([[1, 2, 2], [3, 1, 0], [2, 0, 0]], dtype=np.int64)
    il, tl = [6, 5, 4], [3, 2, 1]
    flat = np.array([1, 2, 2, 3, 1, 2], dtype=np.int64)
    return [Sample((x, targets, il, tl), {"reduction": r}) for r in REDUCTIONS] + [
        Sample((x, flat, np.array(il), np.array(tl)), {"blank": 0}),
        Sample((x, targets, [2, 5, 4], tl), {"reduction": "sum", "zero_infinity": True}),
        Sample((x[:, 0], targets[0], [6], [3]), {})]


def _ctc(mod):
    # The gradient of ctc_loss assumes log_softmax inputs (PyTorch's convention), so the
    # table feeds it log_softmax(x): then gradcheck's finite differences agree with it.
    def fn(x, targets, il, tl, **kw):
        return mod.nn.functional.ctc_loss(x.log_softmax(-1), targets, il, tl, **kw)
    return fn


def _torch_ctc():
    import tests.oracle as oracle
    return _ctc(oracle.torch) if oracle.torch is not None else None


SPECS = [
    OpSpec(F + "l1_loss", samples=_regression(),
           ref=lambda x, y, reduction="mean": _np_reduce(np.abs(x - y), reduction)),
    OpSpec(F + "l1_loss", variant="weight", samples=_weighted_regression),
    OpSpec(F + "mse_loss", samples=_regression(),
           ref=lambda x, y, reduction="mean": _np_reduce((x - y) ** 2, reduction)),
    OpSpec(F + "mse_loss", variant="weight", samples=_weighted_regression),
    OpSpec(F + "smooth_l1_loss", samples=_regression(({"beta": 0.5}, {"beta": 0.0}))),
    OpSpec(F + "huber_loss", samples=_regression(({"delta": 0.7},))),
    OpSpec(F + "huber_loss", variant="weight", samples=_weighted_regression),
    OpSpec(F + "cross_entropy", samples=_ce_samples, dtypes=FLOATS + ("bfloat16",)),
    OpSpec(F + "cross_entropy", variant="probs", samples=_ce_prob_samples),
    OpSpec(F + "nll_loss", samples=_nll_samples),
    OpSpec(F + "binary_cross_entropy", samples=_bce_samples),
    OpSpec(F + "binary_cross_entropy_with_logits", samples=_bce_logits_samples),
    OpSpec(F + "kl_div", samples=_kl_samples),
    OpSpec(F + "poisson_nll_loss", samples=_poisson_samples),
    OpSpec(F + "gaussian_nll_loss", samples=_gaussian_samples),
    OpSpec(F + "cosine_embedding_loss", samples=_cosine_samples),
    OpSpec(F + "margin_ranking_loss", samples=_ranking_samples),
    OpSpec(F + "hinge_embedding_loss", samples=_hinge_samples),
    OpSpec(F + "soft_margin_loss", samples=_soft_margin_samples),
    OpSpec(F + "triplet_margin_loss", samples=_triplet_samples),
    OpSpec(F + "triplet_margin_with_distance_loss", samples=_triplet_distance_samples),
    OpSpec(F + "multi_margin_loss", samples=_multi_margin_samples),
    OpSpec(F + "multilabel_margin_loss", samples=_multilabel_margin_samples),
    OpSpec(F + "multilabel_soft_margin_loss", samples=_multilabel_soft_samples),
    OpSpec(F + "ctc_loss", samples=_ctc_samples, gradgrad=False, fn=_ctc(ember),
           torch_fn=_torch_ctc()),
    OpSpec(F + "cross_entropy", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((3, 4)), np.array([0, 1, 2, 3]))), ValueError,
         r"Expected input batch_size \(3\) to match target batch_size \(4\)"),
        (Sample((np.ones((3, 4)), np.array([0, 1, 7]))), IndexError,
         "Target 7 is out of bounds"),
        (Sample((np.ones((3, 4)), np.array([0, 1, 2])), {"weight": np.ones(2)}), RuntimeError,
         "weight tensor should be defined either for all 4 classes or no classes"),
        (Sample((np.ones((3, 4)), np.ones(3))), RuntimeError,
         "expected target dtype to be Long"),
        (Sample((np.ones((3, 4, 5)), np.array([0, 1, 2]))), RuntimeError,
         r"Expected target size \[3, 5\], got \[3\]"),
        (Sample((np.ones((3, 4)), np.array([0, 1, 2])), {"label_smoothing": 1.5}),
         RuntimeError, "label_smoothing must be between 0.0 and 1.0"),
        (Sample((np.ones((3, 4)), np.array([0, 1, 2])), {"reduction": "avg"}), ValueError,
         "avg is not a valid value for reduction")]),
    OpSpec(F + "nll_loss", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((3, 4)), np.array([0, 1]))), ValueError,
         r"Expected input batch_size \(3\) to match target batch_size \(2\)"),
        (Sample((np.ones((3, 4)), np.array([0, -2, 1]))), IndexError,
         "Target -2 is out of bounds")]),
    OpSpec(F + "binary_cross_entropy", variant="errors", dtypes=(), errors=[
        (Sample((np.full(3, 0.5), np.ones((3, 1)))), ValueError,
         "Using a target size .* that is different to the input size"),
        (Sample((np.full(3, 1.5), np.ones(3))), RuntimeError,
         "all elements of input should be between 0 and 1")]),
    OpSpec(F + "binary_cross_entropy_with_logits", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3), np.ones((3, 1)))), ValueError,
         "must be the same as input size")]),
    OpSpec(F + "gaussian_nll_loss", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 3)))), ValueError,
         "var is of incorrect size"),
        (Sample((np.ones((3, 2)), np.ones((3, 2)), -np.ones((3, 2)))), ValueError,
         "var has negative entry")]),
    OpSpec(F + "smooth_l1_loss", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3), np.ones(3)), {"beta": -1.0}), RuntimeError,
         "does not support negative values for beta")]),
    OpSpec(F + "multi_margin_loss", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((2, 3)), np.array([0, 1])), {"p": 3}), ValueError,
         "only p == 1 and p == 2 supported")]),
    OpSpec(F + "margin_ranking_loss", variant="errors", dtypes=(), errors=[
        (Sample((np.ones(3), np.ones(3), np.ones((3, 1)))), RuntimeError,
         "All input tensors should have same dimension")]),
    OpSpec(F + "triplet_margin_loss", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((3, 2)), np.ones((3, 2)), np.ones(2))), RuntimeError,
         "anchor 2D, positive 2D, and negative 1D inputs")]),
    OpSpec(F + "cosine_embedding_loss", variant="errors", dtypes=(), errors=[
        (Sample((np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 1)))), RuntimeError,
         "0D or 1D target tensor expected")]),
]


def _np_reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
