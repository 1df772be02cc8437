"""Reductions, scans and sorting."""

from __future__ import annotations

import math

import numpy as np

import ember

from .spec import OpSpec, Sample, draw

FLOATS = ("float32", "float64")


def _axis(dim):
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def _np_reduce(fn):
    """A NumPy reference for fn(x, axis, keepdims) called as op(x, dim, keepdim)."""
    def ref(x, dim=None, keepdim=False, **kw):
        return fn(x, axis=_axis(dim), keepdims=keepdim)
    return ref


def _cases(*cases, low=-2.0, high=2.0):
    """samples(rng, dtype) from (shape, kwargs) pairs."""
    def samples(rng, dtype):
        return [Sample((np.asarray(draw(rng, shape, dtype, low, high)),), dict(kw))
                for shape, kw in cases]
    return samples


def _distinct(*cases):
    """Float samples without ties (a shuffled range, scaled), for ops that pick elements."""
    def samples(rng, dtype):
        out = []
        for shape, kw in cases:
            n = int(np.prod(shape)) if shape else 1
            vals = (rng.permutation(n) - n / 2) / 4 + rng.uniform(-0.05, 0.05, n)
            out.append(Sample((vals.reshape(shape).astype(dtype),), dict(kw)))
        return out
    return samples


def _with_nan(*cases):
    def samples(rng, dtype):
        out = []
        for shape, kw in cases:
            x = draw(rng, shape, dtype)
            flat = x.reshape(-1)
            flat[rng.choice(flat.size, size=max(1, flat.size // 4), replace=False)] = np.nan
            out.append(Sample((x,), dict(kw)))
        return out
    return samples


def _with_zeros(dim_kwargs):
    """Rows with no zero, one zero and two zeros (prod and cumprod gradients)."""
    def samples(rng, dtype):
        x = draw(rng, (3, 4), dtype, 0.5, 1.5) * np.where(rng.random((3, 4)) > 0.5, 1, -1)
        x = x.astype(dtype)
        x[1, 2] = 0
        x[2, 0] = 0
        x[2, 3] = 0
        return [Sample((x,), dict(kw)) for kw in dim_kwargs]
    return samples


def _ties(rng, dtype):
    x = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, -1.0, 2.0]], dtype=dtype)
    return [Sample((x,), {})]


def _ties_dim(rng, dtype):
    x = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, -1.0, 2.0]], dtype=dtype)
    return [Sample((x,), {"dim": 1}), Sample((x,), {"dim": (0, 1), "keepdim": True})]


def _binary(rng, dtype):
    return [Sample((draw(rng, (3, 4), dtype), draw(rng, (4,), dtype) + 0.01)),
            Sample((draw(rng, (2, 1), dtype), draw(rng, (3,), dtype) + 0.01))]


def _ref_var(x, dim=None, keepdim=False, correction=1, unbiased=None):
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return np.var(x.astype(np.float64), axis=_axis(dim), ddof=correction, keepdims=keepdim)


def _ref_logsumexp(x, dim, keepdim=False):
    x = x.astype(np.float64)
    m = np.max(x, axis=_axis(dim), keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=_axis(dim), keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=_axis(dim))


def _ref_norm(x, p="fro", dim=None, keepdim=False):
    a = np.abs(x.astype(np.float64))
    ax = _axis(dim)
    if p in ("fro", 2):
        return np.sqrt((a * a).sum(axis=ax, keepdims=keepdim))
    if p == math.inf:
        return a.max(axis=ax, keepdims=keepdim)
    if p == -math.inf:
        return a.min(axis=ax, keepdims=keepdim)
    if p == 0:
        return (a != 0).sum(axis=ax, keepdims=keepdim).astype(np.float64)
    return (a ** p).sum(axis=ax, keepdims=keepdim) ** (1 / p)


def _ref_sorted(x, dim=-1, descending=False):
    s = np.sort(x, axis=dim, kind="stable")
    return np.flip(s, axis=dim) if descending else s


def _topk_samples(rng, dtype):
    base = _distinct(((3, 5), {}))(rng, dtype)[0].args[0]
    return [Sample((base, 2), {}), Sample((base, 3), {"dim": 0, "largest": False}),
            Sample((base, 5), {"dim": 1})]


def _kth_samples(rng, dtype):
    base = _distinct(((3, 5), {}))(rng, dtype)[0].args[0]
    return [Sample((base, 2), {}), Sample((base, 3), {"dim": 0, "keepdim": True})]


def _int_samples(*cases, low=0, high=4):
    def samples(rng, dtype):
        return [Sample((rng.integers(low, high + 1, size=shape).astype(dtype),), dict(kw))
                for shape, kw in cases]
    return samples


def _mode_samples(rng, dtype):
    x = rng.integers(0, 4, size=(4, 7)).astype(dtype)
    return [Sample((x,), {}), Sample((x,), {"dim": 0, "keepdim": True})]


def _bincount_samples(rng, dtype):
    x = rng.integers(0, 6, size=(10,)).astype("int64")
    return [Sample((x,), {}), Sample((x,), {"minlength": 9}),
            Sample((x,), {"weights": draw(rng, (10,), dtype)})]


def _histc_samples(rng, dtype):
    x = draw(rng, (20,), dtype)
    return [Sample((x,), {"bins": 6}), Sample((x,), {"bins": 4, "min": -1, "max": 1})]


def _diff_samples(rng, dtype):
    x = draw(rng, (3, 5), dtype)
    return [Sample((x,), {}), Sample((x,), {"n": 2, "dim": 0}),
            Sample((x, 1, 1, draw(rng, (3, 2), dtype), draw(rng, (3, 1), dtype)), {})]


def _searchsorted_samples(rng, dtype):
    seq = np.sort(draw(rng, (6,), dtype))
    batched = np.sort(draw(rng, (2, 5), dtype), axis=-1)
    vals = draw(rng, (2, 3), dtype)
    vals[0, 0] = seq[2]
    vals[1, 1] = batched[1, 3]
    return [Sample((seq, vals), {}), Sample((seq, vals), {"right": True}),
            Sample((batched, vals), {}), Sample((batched, vals), {"side": "right"})]


def _bucketize_samples(rng, dtype):
    bounds = np.sort(draw(rng, (5,), dtype))
    vals = draw(rng, (3, 4), dtype)
    vals[0, 0] = bounds[1]
    return [Sample((vals, bounds), {}), Sample((vals, bounds), {"right": True})]


def _unique_samples(rng, dtype):
    x = rng.integers(0, 4, size=(3, 4)).astype(dtype)
    rows = np.array([[1, 2], [0, 1], [1, 2], [0, 0]]).astype(dtype)
    return [Sample((x,), {}), Sample((x,), {"return_inverse": True, "return_counts": True}),
            Sample((rows,), {"dim": 0, "return_inverse": True, "return_counts": True})]


def _unique_consecutive_samples(rng, dtype):
    x = np.array([1, 1, 2, 2, 3, 1, 1, 2]).astype(dtype)
    rows = np.array([[1, 2], [1, 2], [0, 1], [1, 2]]).astype(dtype)
    return [Sample((x,), {"return_inverse": True, "return_counts": True}),
            Sample((rows,), {"dim": 0, "return_inverse": True, "return_counts": True})]


REDUCE_CASES = [((3, 4), {}), ((3, 4), {"dim": 1}), ((2, 3, 4), {"dim": (0, 2)}),
                ((3, 4), {"dim": -1, "keepdim": True}), ((), {})]

def _err(kwargs, exc, fragment, x=None):
    return (Sample((np.ones((3, 4)) if x is None else x,), kwargs), exc, fragment)


SPECS = [
    # sum, nansum, mean, nanmean, prod
    OpSpec("sum", ref=_np_reduce(np.sum), samples=_cases(*REDUCE_CASES),
           dtypes=("float32", "float64", "int64", "bool"),
           errors=[_err({"dim": 2}, IndexError, "Dimension out of range"),
                   _err({"dim": (0, 0)}, RuntimeError, "appears multiple times")]),
    OpSpec("sum", variant="half", samples=_cases(((40, 30), {}), ((40, 30), {"dim": 0})),
           dtypes=("float16", "bfloat16"), grad=False, rtol=2e-2, atol=2e-2),
    OpSpec("sum", variant="dtype", samples=_cases(((3, 4), {"dim": 1})), dtypes=("float32",),
           fn=lambda x, dim: ember.sum(x, dim, dtype=ember.float64),
           torch_fn=lambda x, dim: __import__("torch").sum(x, dim, dtype=__import__(
               "torch").float64)),
    OpSpec("nansum", samples=_with_nan(((3, 4), {}), ((3, 4), {"dim": 0})),
           ref=_np_reduce(np.nansum)),
    OpSpec("mean", ref=_np_reduce(np.mean), samples=_cases(*REDUCE_CASES),
           errors=[(Sample((np.ones((3, 4), dtype=np.int64),)), RuntimeError,
                    "could not infer output dtype")]),
    OpSpec("nanmean", samples=_with_nan(((3, 4), {}), ((3, 4), {"dim": 1, "keepdim": True})),
           errors=[(Sample((np.ones((3, 4), dtype=np.int64),)), RuntimeError,
                    "expected input to have floating point")]),
    OpSpec("prod", samples=_cases(((3, 4), {}), ((3, 4), {"dim": 1}),
                                  ((2, 3), {"dim": 0, "keepdim": True}), ((), {}),
                                  low=0.5, high=1.5),
           ref=_np_reduce(np.prod), dtypes=("float32", "float64", "int64")),
    OpSpec("prod", variant="zeros", gradgrad=False,
           samples=_with_zeros([{}, {"dim": 1}, {"dim": 0, "keepdim": True}])),
    # max, min, amax, amin, aminmax, argmax, argmin
    OpSpec("max", samples=_distinct(((3, 4), {}), ((3, 4), {"dim": 1}),
                                    ((2, 3, 4), {"dim": 0, "keepdim": True}), ((), {"dim": 0})),
           dtypes=("float32", "float64", "int64"),
           errors=[(Sample((np.ones((0,)),)), RuntimeError, "Expected reduction dim"),
                   (Sample((np.ones((0, 3)), 0)), IndexError, "to have non-zero size"),
                   _err({"dim": 3}, IndexError, "Dimension out of range")]),
    OpSpec("max", variant="binary", samples=_binary, torch_name="max"),
    OpSpec("max", variant="ties", samples=_ties, dtypes=("float32",)),
    OpSpec("min", samples=_distinct(((3, 4), {}), ((3, 4), {"dim": 0}),
                                    ((2, 3, 4), {"dim": -1, "keepdim": True})),
           dtypes=("float32", "float64", "int64")),
    OpSpec("min", variant="binary", samples=_binary),
    OpSpec("amax", samples=_distinct(((3, 4), {}), ((3, 4), {"dim": 1}),
                                     ((2, 3, 4), {"dim": (0, 2), "keepdim": True})),
           ref=_np_reduce(np.amax),
           errors=[(Sample((np.ones((0, 3)),), {"dim": 0}), IndexError,
                    "to have non-zero size")]),
    OpSpec("amax", variant="ties", samples=_ties_dim, dtypes=("float32",)),
    OpSpec("amin", samples=_distinct(((3, 4), {}), ((2, 3, 4), {"dim": (1, 2)})),
           ref=_np_reduce(np.amin)),
    OpSpec("amin", variant="ties", samples=_ties_dim, dtypes=("float32",)),
    OpSpec("aminmax", samples=_distinct(((3, 4), {}), ((3, 4), {"dim": 1, "keepdim": True}))),
    OpSpec("argmax", samples=_int_samples(((4, 5), {}), ((4, 5), {"dim": 1}),
                                          ((4, 5), {"dim": 0, "keepdim": True}),
                                          ((4, 5), {"keepdim": True})),
           dtypes=("float32", "int64"), grad=False),
    OpSpec("argmin", samples=_int_samples(((4, 5), {}), ((4, 5), {"dim": -1})),
           dtypes=("float32", "int64"), grad=False),
    # var, std, var_mean, std_mean, norm, logsumexp
    OpSpec("var", ref=_ref_var,
           samples=_cases(((3, 4), {}), ((3, 4), {"dim": 1}),
                          ((2, 3, 4), {"dim": (0, 2), "keepdim": True, "correction": 0}),
                          ((3, 4), {"dim": 0, "unbiased": False}),
                          ((3, 5), {"dim": 1, "correction": 2})),
           errors=[(Sample((np.ones((3,), dtype=np.int64),)), RuntimeError,
                    "only support floating point")]),
    OpSpec("std", samples=_cases(((3, 4), {}), ((3, 4), {"dim": 1, "correction": 0}),
                                 ((2, 3, 4), {"dim": (0, 1), "keepdim": True}))),
    OpSpec("var_mean", samples=_cases(((3, 4), {"dim": 1}), ((3, 4), {"unbiased": False}))),
    OpSpec("std_mean", samples=_cases(((3, 4), {"dim": 0, "keepdim": True}))),
    OpSpec("norm", ref=_ref_norm,
           samples=_distinct(((3, 4), {}), ((3, 4), {"p": 1, "dim": 1}),
                             ((3, 4), {"p": math.inf, "dim": 0}),
                             ((3, 4), {"p": -math.inf, "dim": 1, "keepdim": True}),
                             ((3, 4), {"p": 3, "dim": 1}), ((3, 4), {"p": 1.5}),
                             ((2, 3, 4), {"p": "fro", "dim": (1, 2)})),
           errors=[(Sample((np.ones((3,), dtype=np.int64),)), RuntimeError,
                    "Expected a floating point")]),
    OpSpec("norm", variant="p0", samples=_cases(((3, 4), {"p": 0, "dim": 1})), grad=False,
           ref=_ref_norm),
    OpSpec("logsumexp", ref=_ref_logsumexp,
           samples=_cases(((3, 4), {"dim": 1}), ((2, 3, 4), {"dim": (0, 2), "keepdim": True}),
                          ((3, 4), {"dim": -1}), low=-5.0, high=5.0)),
    # scans
    OpSpec("cumsum", samples=_cases(((3, 4), {"dim": 1}), ((2, 3, 4), {"dim": 0}),
                                    ((), {"dim": 0})),
           ref=lambda x, dim: np.cumsum(x, axis=dim) if x.ndim else x,
           dtypes=("float32", "float64", "int64")),
    OpSpec("cumprod", samples=_cases(((3, 4), {"dim": 1}), ((2, 3, 4), {"dim": -1}),
                                     low=0.5, high=1.5),
           ref=lambda x, dim: np.cumprod(x, axis=dim), dtypes=("float32", "float64", "int64")),
    OpSpec("cumprod", variant="zeros", gradgrad=False,
           samples=_with_zeros([{"dim": 1}, {"dim": 0}])),
    OpSpec("cummax", samples=_cases(((3, 5), {"dim": 1}), ((4, 3), {"dim": 0}))),
    OpSpec("cummax", variant="ties", samples=_int_samples(((3, 6), {"dim": 1})),
           dtypes=("float32", "int64")),
    OpSpec("cummin", samples=_cases(((3, 5), {"dim": 1}), ((4, 3), {"dim": 0}))),
    OpSpec("logcumsumexp", samples=_cases(((3, 5), {"dim": 1}), ((4, 3), {"dim": 0}),
                                          low=-5.0, high=5.0),
           ref=lambda x, dim: np.logaddexp.accumulate(x.astype(np.float64), axis=dim)),
    # all, any, count_nonzero
    OpSpec("all", samples=_cases(((3, 4), {}), ((3, 4), {"dim": 1}),
                                 ((3, 4), {"dim": (0, 1), "keepdim": True})),
           dtypes=("bool", "float32", "uint8"), grad=False, ref=_np_reduce(np.all),
           check_dtype=True),
    OpSpec("any", samples=_cases(((3, 4), {}), ((3, 4), {"dim": 0, "keepdim": True})),
           dtypes=("bool", "float32", "int64"), grad=False, ref=_np_reduce(np.any)),
    OpSpec("count_nonzero", samples=_int_samples(((3, 4), {}), ((3, 4), {"dim": 1}),
                                                 ((2, 3, 4), {"dim": (0, 2)})),
           dtypes=("float32", "int64"), grad=False),
    # sorting and selection
    OpSpec("sort", samples=_distinct(((3, 5), {}), ((3, 5), {"dim": 0, "descending": True})),
           ref=lambda x, dim=-1, descending=False: _ref_sorted(x, dim, descending),
           dtypes=("float32", "float64", "int64")),
    OpSpec("sort", variant="stable", dtypes=("int64", "float32"), grad=False,
           samples=_int_samples(((3, 8), {"stable": True}),
                                ((3, 8), {"stable": True, "descending": True}))),
    OpSpec("argsort", samples=_int_samples(((3, 8), {"stable": True}),
                                           ((3, 8), {"dim": 0, "stable": True,
                                                     "descending": True})),
           dtypes=("int64", "float32"), grad=False),
    OpSpec("msort", samples=_distinct(((4, 3), {}))),
    OpSpec("topk", samples=_topk_samples,
           errors=[(Sample((np.ones((3, 4)), 5)), RuntimeError, "k out of range")]),
    OpSpec("kthvalue", samples=_kth_samples,
           errors=[(Sample((np.ones((3, 4)), 5)), RuntimeError, "k out of range")]),
    OpSpec("median", samples=_distinct(((3, 5), {}), ((4, 4), {}), ((3, 5), {"dim": 1}),
                                       ((4, 4), {"dim": 0, "keepdim": True}))),
    OpSpec("median", variant="ties", samples=_ties, dtypes=("float32",)),
    OpSpec("median", variant="nan", samples=_with_nan(((3, 5), {}), ((4, 5), {"dim": 1})),
           grad=False),
    OpSpec("nanmedian", samples=_with_nan(((3, 5), {}), ((4, 6), {"dim": 1})),
           dtypes=("float32",)),
    OpSpec("mode", samples=_mode_samples, dtypes=("float32", "int64")),
    OpSpec("unique", samples=_unique_samples, dtypes=("int64", "float32"), grad=False),
    OpSpec("unique_consecutive", samples=_unique_consecutive_samples,
           dtypes=("int64", "float32"), grad=False),
    OpSpec("bincount", samples=_bincount_samples, dtypes=("float32", "float64"), grad=False,
           errors=[(Sample((np.array([-1, 2]),)), RuntimeError, "non-negative integral"),
                   (Sample((np.ones((2, 2), dtype=np.int64),)), RuntimeError, "1-d")]),
    OpSpec("histc", samples=_histc_samples, grad=False,
           errors=[(Sample((np.ones(3),), {"min": 3, "max": 0}), RuntimeError,
                    "max must be larger than min")]),
    OpSpec("diff", samples=_diff_samples, dtypes=("float32", "float64", "int64", "bool")),
    OpSpec("searchsorted", samples=_searchsorted_samples, dtypes=("float32", "int64"),
           grad=False),
    OpSpec("bucketize", samples=_bucketize_samples, dtypes=("float32", "int64"), grad=False),
]
