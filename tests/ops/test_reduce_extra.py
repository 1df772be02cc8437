"""Reductions, scans and sorting: behaviour the op table does not cover (return types, ties,
stability, half-precision accumulation, edge cases) and a cuda-vs-cpu check."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import assert_close, needs_torch, to_torch, torch


def _t(data, **kw):
    return ember.tensor(np.asarray(data), **kw)


# -- return types ------------------------------------------------------------------------------

def test_max_dim_returns_named_values_indices():
    x = _t([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    res = ember.max(x, 1)
    values, indices = res
    assert isinstance(res, tuple) and res.values is values and res.indices is indices
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype is ember.int64
    assert "values=" in repr(res) and "indices=" in repr(res)


def test_method_forms_match_functions():
    x = _t([[3.0, 1.0, 2.0], [0.5, 4.0, 4.5]])
    assert x.max(dim=1, keepdim=True).values.shape == (2, 1)
    assert x.min(0).indices.tolist() == [1, 0, 0]
    assert x.sort(descending=True).values.tolist() == [[3.0, 2.0, 1.0], [4.5, 4.0, 0.5]]
    assert x.topk(1).indices.tolist() == [[0], [2]]
    assert x.cumsum(1).tolist() == [[3.0, 4.0, 6.0], [0.5, 4.5, 9.0]]
    assert x.aminmax().min.item() == 0.5 and x.aminmax().max.item() == 4.5


def test_max_of_two_tensors_is_maximum():
    a, b = _t([1.0, 5.0]), _t([3.0, 2.0])
    assert ember.max(a, b).tolist() == [3.0, 5.0]
    assert a.min(b).tolist() == [1.0, 2.0]


def test_max_out_pair_is_filled():
    x = _t([[1.0, 5.0], [7.0, 2.0]])
    vals, idx = ember.empty(2), ember.empty(2, dtype=ember.int64)
    res = ember.max(x, 1, out=(vals, idx))
    assert res.values is vals and vals.tolist() == [5.0, 7.0] and idx.tolist() == [1, 0]


# -- dtypes ------------------------------------------------------------------------------------

def test_sum_int_and_bool_give_int64():
    assert ember.sum(_t([1, 2], dtype=ember.int32)).dtype is ember.int64
    assert ember.sum(_t([True, True, False])).item() == 2
    assert ember.prod(_t([True, True])).dtype is ember.int64
    assert ember.cumsum(_t([True, True]), 0).tolist() == [1, 2]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_sum_accumulates_in_float32(dtype):
    # Accumulating in half precision would stall at 2048 (float16) or 256 (bfloat16).
    x = ember.ones(10000, dtype=getattr(ember, dtype))
    s = x.sum()
    assert s.dtype is getattr(ember, dtype)
    assert abs(float(s) - 10000) <= 16
    assert abs(float(x.mean()) - 1.0) < 1e-2


def test_mean_of_ints_raises_and_dtype_arg_works():
    with pytest.raises(RuntimeError, match="could not infer output dtype"):
        ember.mean(_t([1, 2]))
    assert ember.mean(_t([1, 2]), dtype=ember.float64).item() == 1.5
    with pytest.raises(RuntimeError, match="Optional dtype"):
        ember.mean(_t([1.0, 2.0]), dtype=ember.int64)


def test_all_any_keep_uint8():
    x = _t([1, 2, 0], dtype=ember.uint8)
    assert ember.all(x).dtype is ember.uint8 and ember.all(x).item() == 0
    assert ember.any(x).dtype is ember.uint8 and ember.any(x).item() == 1
    assert ember.all(_t([1.0, 2.0])).dtype is ember.bool


def test_logsumexp_of_ints_gives_default_float():
    assert ember.logsumexp(_t([1, 2]), 0).dtype is ember.float32


# -- gradients -----------------------------------------------------------------------------------

def test_full_max_splits_grad_among_ties_dim_max_picks_index():
    x = _t([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad(ember.max(x), x)
    assert g.tolist() == [0.0, 0.5, 0.5, 0.0]
    (g,) = ember.autograd.grad(ember.max(x, 0).values, x)
    assert g.tolist() == [0.0, 1.0, 0.0, 0.0]
    (g,) = ember.autograd.grad(ember.amax(x, 0), x)
    assert g.tolist() == [0.0, 0.5, 0.5, 0.0]


def test_median_full_grad_is_even_among_ties():
    x = _t([[1.0, 2.0, 2.0, 3.0], [3.0, 3.0, 1.0, 1.0]], requires_grad=True)
    (g,) = ember.autograd.grad(ember.median(x), x)
    assert g.tolist() == [[0.0, 0.5, 0.5, 0.0], [0.0, 0.0, 0.0, 0.0]]


def test_prod_grad_with_zeros_matches_formula():
    x = _t([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]], requires_grad=True)
    (g,) = ember.autograd.grad(ember.prod(x, 1).sum(), x)
    assert g.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]]
    y = _t([0.0, 2.0, 3.0], requires_grad=True)
    (g,) = ember.autograd.grad(ember.prod(y), y)
    assert g.tolist() == [6.0, 0.0, 0.0]


def test_cumprod_grad_with_zeros_matches_finite_differences():
    x = _t([[2.0, 0.0, 3.0, 0.5], [1.5, -1.0, 0.0, 0.0]], dtype=ember.float64,
           requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: ember.cumprod(t, 1), (x,))


def test_norm_grad_is_zero_at_zero():
    z = ember.zeros(3, requires_grad=True)
    (g,) = ember.autograd.grad(ember.norm(z), z)
    assert g.tolist() == [0.0, 0.0, 0.0]


def test_double_backward_through_max_dim_and_logsumexp():
    x = _t([[0.3, -1.2, 2.0], [0.7, 0.1, -0.4]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: ember.max(t, 1).values, (x,))
    assert ember.autograd.gradgradcheck(lambda t: ember.logsumexp(t * t, 1), (x,))


def test_sum_dtype_arg_grad_has_input_dtype():
    x = ember.ones(3, requires_grad=True)
    (g,) = ember.autograd.grad(ember.sum(x, dtype=ember.float64), x)
    assert g.dtype is ember.float32


# -- numerics and edge cases -----------------------------------------------------------------

def test_logsumexp_and_logcumsumexp_are_stable():
    x = _t([1000.0, 1000.0, -1000.0])
    assert math.isclose(ember.logsumexp(x, 0).item(), 1000 + math.log(2), rel_tol=1e-6)
    out = ember.logcumsumexp(x, 0).tolist()
    assert math.isclose(out[1], 1000 + math.log(2), rel_tol=1e-6) and out[2] == out[1]
    assert ember.logsumexp(_t([-math.inf, -math.inf]), 0).item() == -math.inf


def test_var_with_too_large_correction_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.var(_t([1.0, 2.0]), correction=3).item() == math.inf
        assert math.isnan(ember.var(_t([1.0])).item())
        assert math.isnan(ember.mean(ember.zeros(0)).item())


def test_empty_reductions():
    assert ember.sum(ember.zeros(0, 3), 0).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="Expected reduction dim to be specified"):
        ember.max(ember.zeros(0))
    with pytest.raises(IndexError, match="non-zero size"):
        ember.argmax(ember.zeros(0, 2), 0)


def test_argmax_returns_first_of_ties_and_flat_index():
    x = _t([[1, 4, 4], [4, 0, 4]])
    assert ember.argmax(x).item() == 1
    assert ember.argmax(x, 1).tolist() == [1, 0]
    assert ember.argmin(x, 0, keepdim=True).tolist() == [[0, 1, 0]]
    assert ember.argmax(x, keepdim=True).shape == (1, 1)


def test_sort_is_stable_both_directions():
    x = _t([2, 1, 2, 1, 3, 2])
    assert ember.sort(x, stable=True).indices.tolist() == [1, 3, 0, 2, 5, 4]
    assert ember.sort(x, descending=True, stable=True).indices.tolist() == [4, 0, 2, 5, 1, 3]
    f = _t([3.0, math.nan, 1.0])
    assert ember.sort(f, descending=True).indices.tolist() == [1, 0, 2]
    assert ember.sort(f).indices.tolist() == [2, 0, 1]


def test_median_lower_and_nan():
    assert ember.median(_t([4.0, 1.0, 3.0, 2.0])).item() == 2.0
    res = ember.median(_t([1.0, math.nan, 3.0, math.nan]), 0)
    assert math.isnan(res.values.item()) and res.indices.item() == 1
    assert ember.nanmedian(_t([1.0, math.nan, 3.0, 2.0])).item() == 2.0
    res = ember.nanmedian(_t([math.nan, math.nan]), 0)
    assert math.isnan(res.values.item()) and res.indices.item() == 0


def test_mode_smallest_value_last_index():
    res = ember.mode(_t([[3.0, 1.0, 3.0, 1.0, 2.0], [1.0, 2.0, 2.0, 5.0, 1.0]]), 1)
    assert res.values.tolist() == [1.0, 1.0] and res.indices.tolist() == [3, 4]


def test_cummax_ties_move_index_forward():
    res = ember.cummax(_t([1.0, 1.0, 3.0, 3.0, 2.0]), 0)
    assert res.values.tolist() == [1.0, 1.0, 3.0, 3.0, 3.0]
    assert res.indices.tolist() == [0, 1, 2, 3, 3]


def test_cumsum_inplace():
    x = _t([1.0, 2.0, 3.0])
    assert x.cumsum_(0) is x and x.tolist() == [1.0, 3.0, 6.0]


def test_unique_and_consecutive():
    vals, inv, counts = ember.unique(_t([3, 1, 3, 2]), return_inverse=True, return_counts=True)
    assert vals.tolist() == [1, 2, 3] and inv.tolist() == [2, 0, 2, 1]
    assert counts.tolist() == [1, 1, 2]
    vals, inv = ember.unique(_t([[1, 2], [1, 2], [0, 1]]), dim=0, return_inverse=True)
    assert vals.tolist() == [[0, 1], [1, 2]] and inv.tolist() == [1, 1, 0]
    vals, counts = ember.unique_consecutive(_t([1, 1, 2, 2, 3, 1]), return_counts=True)
    assert vals.tolist() == [1, 2, 3, 1] and counts.tolist() == [2, 2, 1, 1]


def test_bincount_histc_searchsorted():
    assert ember.bincount(_t([1, 2, 2]), minlength=5).tolist() == [0, 1, 2, 0, 0]
    w = ember.bincount(_t([1, 2, 2]), weights=_t([1.0, 2.0, 3.0], dtype=ember.float32))
    assert w.dtype is ember.float32 and w.tolist() == [0.0, 1.0, 5.0]
    assert ember.histc(_t([1.0, 2.0, 1.0, 7.0]), bins=4).tolist() == [3.0, 0.0, 0.0, 1.0]
    assert ember.histc(_t([1.0, 1.0]), bins=4).tolist() == [0.0, 0.0, 2.0, 0.0]
    assert ember.searchsorted(_t([1, 3, 5]), 4).item() == 2
    assert ember.searchsorted(_t([1, 3, 5]), _t([3]), side="right").tolist() == [2]
    out = ember.searchsorted(_t([1, 3, 5]), _t([3, 6]), out_int32=True)
    assert out.dtype is ember.int32 and out.tolist() == [1, 3]
    srt = ember.searchsorted(_t([5, 1, 3]), _t([4]), sorter=_t([1, 2, 0]))
    assert srt.tolist() == [2]


def test_diff_bool_and_prepend():
    assert ember.diff(_t([True, False, False])).tolist() == [True, False]
    x = _t([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    out = ember.diff(x, dim=1, prepend=_t([[5.0], [6.0]]))
    assert out.tolist() == [[-4.0, 2.0, 0.0], [-4.0, 0.0, -2.0]]


def test_errors_name_the_op():
    x = ember.ones(3, 4)
    with pytest.raises(RuntimeError, match="k out of range"):
        ember.topk(x, 5)
    with pytest.raises(RuntimeError, match="kthvalue"):
        ember.kthvalue(x, 0)
    with pytest.raises(RuntimeError, match="only support floating point"):
        ember.std(_t([1, 2]))
    with pytest.raises(RuntimeError, match="bincount"):
        ember.bincount(_t([-1, 2]))
    with pytest.raises(NotImplementedError, match="histogram"):
        ember.histc(_t([1, 2]))
    with pytest.raises(TypeError, match="dim"):
        ember.prod(x, (0, 1))


# -- against torch -----------------------------------------------------------------------------

@needs_torch
def test_topk_large_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 1000)).astype(np.float32)
    e = ember.topk(ember.tensor(x), 10, dim=1)
    t = torch.topk(torch.from_numpy(x), 10, dim=1)
    assert_close(e.values, t.values)
    assert e.indices.tolist() == t.indices.tolist()


@needs_torch
@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 3.0, 0.5])
def test_norm_grads_match_torch(p):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    tx = to_torch(x, requires_grad=True)
    e, t = ember.norm(x, p, dim=1), torch.norm(tx, p, dim=1)
    assert_close(e, t)
    (ge,) = ember.autograd.grad(e.sum(), x)
    (gt,) = torch.autograd.grad(t.sum(), tx)
    assert_close(ge, gt)


@needs_torch
def test_var_std_signatures_match_torch():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4))
    x, tx = ember.tensor(a), torch.from_numpy(a)
    assert_close(ember.var(x, 1, False), torch.var(tx, 1, False))
    assert_close(ember.std(x, 0, True, True), torch.std(tx, 0, True, True))
    assert_close(ember.var(x, unbiased=False), torch.var(tx, unbiased=False))
    for e, t in zip(ember.std_mean(x, (0, 1), correction=2), torch.std_mean(tx, (0, 1),
                                                                              correction=2)):
        assert_close(e, t)


# -- cuda --------------------------------------------------------------------------------------

GPU_CASES = [
    ("sum", lambda m, x: m.sum(x, 1)), ("mean", lambda m, x: m.mean(x, (0, 1))),
    ("prod", lambda m, x: m.prod(x, 0)), ("max", lambda m, x: m.max(x, 1)),
    ("amax", lambda m, x: m.amax(x, 0)), ("argmin", lambda m, x: m.argmin(x)),
    ("var", lambda m, x: m.var(x, 1)), ("norm", lambda m, x: m.norm(x, 3, 1)),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1)), ("cumsum", lambda m, x: m.cumsum(x, 1)),
    ("cumprod", lambda m, x: m.cumprod(x, 0)), ("cummax", lambda m, x: m.cummax(x, 1)),
    ("cummin", lambda m, x: m.cummin(x, 0)),
    ("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1)),
    ("sort", lambda m, x: m.sort(x, 1, descending=True)), ("topk", lambda m, x: m.topk(x, 3)),
    ("kthvalue", lambda m, x: m.kthvalue(x, 2, 0)), ("median", lambda m, x: m.median(x, 1)),
    ("mode", lambda m, x: m.mode(m.round(x) if hasattr(m, "round") else x, 1)),
    ("all", lambda m, x: m.all(x > 0, 1)), ("count_nonzero", lambda m, x: m.count_nonzero(x)),
    ("unique", lambda m, x: m.unique(x > 0, return_counts=True)),
    ("histc", lambda m, x: m.histc(x, 5)), ("diff", lambda m, x: m.diff(x, 2)),
    ("searchsorted", lambda m, x: m.searchsorted(m.sort(x, 1).values, x[:, :2])),
]


@pytest.mark.gpu
@pytest.mark.parametrize("name,fn", GPU_CASES, ids=[c[0] for c in GPU_CASES])
def test_cuda_matches_cpu(name, fn):
    from tests.ops.runner import flat_outputs
    rng = np.random.default_rng(3)
    a = rng.standard_normal((5, 7))
    cpu = ember.tensor(a, requires_grad=True)
    gpu = ember.tensor(a, device="cuda", requires_grad=True)
    outs_c, outs_g = flat_outputs(fn(ember, cpu)), flat_outputs(fn(ember, gpu))
    for c, g in zip(outs_c, outs_g):
        assert g.device.type == "cuda"
        np.testing.assert_allclose(np.asarray(g.detach().cpu()), np.asarray(c.detach()),
                                   rtol=1e-9, atol=1e-9, err_msg=name)
    c0, g0 = outs_c[0], outs_g[0]
    if c0.requires_grad:
        cot = rng.standard_normal(tuple(c0.shape))
        (gc,) = ember.autograd.grad(c0, cpu, ember.tensor(cot))
        (gg,) = ember.autograd.grad(g0, gpu, ember.tensor(cot, device="cuda"))
        np.testing.assert_allclose(np.asarray(gg.cpu()), np.asarray(gc), rtol=1e-9,
                                   atol=1e-9, err_msg=f"{name} grad")


# -- statistics (ember/ops/stats.py) -----------------------------------------------------------

def test_cov_warns_when_degrees_of_freedom_run_out():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        c = ember.cov(_t([1.0, 2.0]), correction=2)
    assert math.isinf(c.item())


def test_cov_weights_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6))
    fw = rng.integers(1, 4, size=6)
    aw = rng.uniform(0.5, 2.0, size=6)
    for kw, npkw in [({}, {}), ({"correction": 0}, {"ddof": 0}),
                     ({"fweights": _t(fw)}, {"fweights": fw}),
                     ({"fweights": _t(fw), "aweights": _t(aw)}, {"fweights": fw, "aweights": aw})]:
        np.testing.assert_allclose(ember.cov(_t(x), **kw).numpy(), np.cov(x, **npkw), rtol=1e-12)
    assert ember.cov(_t([1, 2, 4])).dtype == ember.float32


def test_corrcoef_is_clipped_and_symmetric():
    x = _t([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 1.0, 0.0]])
    c = ember.corrcoef(x)
    assert float(c.abs().max()) <= 1.0
    np.testing.assert_allclose(c.numpy(), c.numpy().T)
    np.testing.assert_allclose(c.numpy(), np.corrcoef(x.numpy()), atol=1e-6)


def test_quantile_q_forms_and_shapes():
    x = ember.arange(24.0).reshape(2, 3, 4)
    assert ember.quantile(x, 0.5).shape == ()
    assert ember.quantile(x, ember.tensor(0.5)).shape == ()
    assert ember.quantile(x, ember.tensor([0.1, 0.9]), dim=1).shape == (2, 2, 4)
    assert ember.quantile(x, ember.tensor([0.1, 0.9]), dim=1, keepdim=True).shape == (2, 2, 1, 4)
    assert ember.quantile(x, 0.5, keepdim=True).shape == (1, 1, 1)
    assert x.quantile(0.5, dim=-1).tolist() == [[1.5, 5.5, 9.5], [13.5, 17.5, 21.5]]
    # "nearest" rounds the rank half to even, like PyTorch: rank 1.5 -> 2, rank 2.5 -> 2.
    assert ember.quantile(_t([1.0, 2.0, 3.0, 4.0]), 0.5, interpolation="nearest").item() == 3.0
    assert ember.quantile(_t([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 0.5,
                          interpolation="nearest").item() == 3.0


def test_nanquantile_ignores_nan_and_quantile_propagates_it():
    x = _t([[1.0, float("nan"), 3.0], [float("nan")] * 3])
    assert ember.nanquantile(x, 0.5, dim=1)[0].item() == 2.0
    assert math.isnan(ember.nanquantile(x, 0.5, dim=1)[1].item())
    assert math.isnan(ember.quantile(x, 0.5, dim=1)[0].item())


def test_quantile_gradient_goes_to_the_two_neighbours():
    x = ember.tensor([4.0, 1.0, 3.0, 2.0], requires_grad=True)
    (g,) = ember.autograd.grad(ember.quantile(x, 0.25), x)     # rank 0.75 between 1 and 2
    np.testing.assert_allclose(g.numpy(), [0.0, 0.25, 0.0, 0.75])


def test_histogram_named_fields_and_out_of_range_values():
    h = ember.histogram(_t([-5.0, 0.1, 0.5, 0.9, 5.0]), 2, range=(0.0, 1.0))
    assert h.hist.tolist() == [1.0, 2.0]                 # -5 and 5 are outside the range
    assert h.bin_edges.tolist() == [0.0, 0.5, 1.0]
    d = ember.histogram(_t([0.0, 0.2, 0.9]), 2, density=True).hist
    np.testing.assert_allclose(d.numpy(), [2 / (3 * 0.45), 1 / (3 * 0.45)], rtol=1e-6)
    assert ember.tensor([1.0, 2.0]).histogram(2).hist.tolist() == [1.0, 1.0]


def test_histogramdd_edges_list_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(30, 2))
    edges = [np.array([0.0, 0.3, 1.0]), np.array([0.0, 0.5, 0.7, 1.0])]
    got = ember.histogramdd(_t(x), [_t(e) for e in edges])
    want, _ = np.histogramdd(x, edges)
    np.testing.assert_array_equal(got.hist.numpy(), want)
    assert len(got.bin_edges) == 2


def test_trapezoid_family_matches_numpy():
    rng = np.random.default_rng(2)
    y, x = rng.standard_normal((3, 5)), np.sort(rng.standard_normal(5))
    np.testing.assert_allclose(ember.trapezoid(_t(y), _t(x)).numpy(), np.trapezoid(y, x))
    np.testing.assert_allclose(ember.trapz(_t(y), dx=0.3).numpy(), np.trapezoid(y, dx=0.3))
    cum = ember.cumulative_trapezoid(_t(y), _t(x)).numpy()
    np.testing.assert_allclose(cum[:, -1], np.trapezoid(y, x))
    with pytest.raises(TypeError):
        ember.trapezoid(_t(y), _t(x), dx=1.0)


def test_gradient_matches_numpy():
    rng = np.random.default_rng(3)
    f = rng.standard_normal((4, 6))
    xs = np.cumsum(rng.uniform(0.2, 1.0, size=6))
    for order in (1, 2):
        got = ember.gradient(_t(f), spacing=[2.0, _t(xs)], edge_order=order)
        want = np.gradient(f, 2.0, xs, edge_order=order)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-12)


def test_renorm_caps_every_slice_and_renorm_inplace():
    rng = np.random.default_rng(4)
    x = _t(rng.standard_normal((4, 3)) * 3)
    out = ember.renorm(x, 2, 0, 1.0)
    norms = np.linalg.norm(out.numpy(), axis=1)
    assert np.all(norms <= 1.0 + 1e-6)
    y = x.clone()
    assert y.renorm_(2, 0, 1.0) is y
    np.testing.assert_allclose(y.numpy(), out.numpy())
    w = x.clone().requires_grad_()
    loss = (w.clone().renorm_(1, 1, 0.5) * _t(rng.standard_normal((4, 3)))).sum()
    (g,) = ember.autograd.grad(loss, w)
    assert g.shape == (4, 3) and bool(ember.isfinite(g).all())


def test_dist_orders():
    a, b = _t([1.0, -2.0, 3.0]), _t([0.0, 0.0, 3.0])
    assert ember.dist(a, b).item() == pytest.approx(math.sqrt(5))
    assert a.dist(b, 1).item() == 3.0
    assert ember.dist(a, b, 0).item() == 2.0
    assert ember.dist(a, b, float("inf")).item() == 2.0


@needs_torch
def test_stats_methods_match_torch():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 5))
    e, t = ember.tensor(a), torch.tensor(a)
    assert_close(e.cov(), t.cov())
    assert_close(e.corrcoef(), t.corrcoef())
    assert_close(e.nanquantile(0.3, dim=0), t.nanquantile(0.3, dim=0))
    assert_close(e.renorm(3, 1, 0.7), t.renorm(3, 1, 0.7))


@pytest.mark.gpu
def test_stats_on_cuda_match_cpu():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((4, 6))
    res = {}
    for dev in ("cpu", "cuda"):
        x = ember.tensor(a, device=dev, requires_grad=True)
        outs = [ember.cov(x), ember.corrcoef(x), ember.quantile(x, 0.3, dim=1),
                ember.nanquantile(x, 0.6), ember.trapezoid(x), ember.cumulative_trapezoid(x),
                ember.gradient(x)[1], ember.renorm(x, 2, 0, 1.0), ember.dist(x, x[0]),
                ember.histogram(x.detach(), 5).hist, ember.histogramdd(x.detach()[:, :2], 3).hist]
        (g,) = ember.autograd.grad(sum(o.sum() for o in outs[:9]), x)
        res[dev] = [np.asarray(o.detach().cpu()) for o in outs] + [np.asarray(g.cpu())]
    for c, g in zip(res["cpu"], res["cuda"]):
        np.testing.assert_allclose(g, c, rtol=1e-9, atol=1e-9)
