"""Linear algebra behaviour the op table does not cover: namespaces, return types, the _ex
variants, warnings, low-precision matmul, backward limits and Tensor methods."""

from __future__ import annotations

import math
import warnings

import ml_dtypes
import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, to_torch, torch


def _t(a, rg=False):
    return ember.tensor(np.asarray(a), requires_grad=rg)


def _wellcond(rng, n, batch=()):
    return rng.uniform(-1, 1, batch + (n, n)) + n * np.eye(n)


# -- namespace and types ---------------------------------------------------------------------

@needs_torch
def test_linalg_namespace_exports_only_torch_linalg_names():
    ours = {n for n in dir(ember.linalg) if not n.startswith("_") and n != "annotations"}
    theirs = {n for n in dir(torch.linalg) if not n.startswith("_")}
    assert ours <= theirs, sorted(ours - theirs)
    for name in ("norm", "vector_norm", "matrix_norm", "inv", "solve", "lstsq", "det", "qr",
                 "svd", "eigh", "pinv", "matrix_rank", "multi_dot", "cross", "LinAlgError"):
        assert name in ours


def test_linalg_error_is_runtime_error_and_raised_for_singular():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    with pytest.raises(ember.linalg.LinAlgError, match="singular"):
        ember.linalg.inv(ember.zeros(3, 3))
    batch = np.stack([np.eye(2), np.zeros((2, 2))])
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\)"):
        ember.linalg.inv(_t(batch))
    with pytest.raises(ember.linalg.LinAlgError, match="not positive-definite"):
        ember.linalg.cholesky(_t(-np.eye(2)))


def test_inv_ex_and_cholesky_ex_report_failures_in_info():
    batch = np.stack([2 * np.eye(2), np.zeros((2, 2))])
    inverse, info = ember.linalg.inv_ex(_t(batch))
    assert info.dtype is ember.int32 and info.tolist() == [0, 1]
    np.testing.assert_allclose(inverse[0].numpy(), 0.5 * np.eye(2))
    L, info = ember.linalg.cholesky_ex(_t(np.stack([4 * np.eye(2), -np.eye(2)])))
    assert info.tolist() == [0, 1]
    np.testing.assert_allclose(L[0].numpy(), 2 * np.eye(2))
    res, info = ember.linalg.solve_ex(_t(batch), _t(np.ones((2, 2))))
    assert info.tolist() == [0, 1]
    np.testing.assert_allclose(res[0].numpy(), 0.5 * np.ones(2))
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.inv_ex(_t(batch), check_errors=True)


def test_return_types_have_torch_field_names():
    a = _t(np.array([[4.0, 1.0], [1.0, 3.0]]))
    assert ember.linalg.slogdet(a)._fields == ("sign", "logabsdet")
    assert ember.slogdet(a)._fields == ("sign", "logabsdet")
    assert ember.linalg.qr(a)._fields == ("Q", "R")
    assert ember.linalg.svd(a)._fields == ("U", "S", "Vh")
    assert ember.svd(a)._fields == ("U", "S", "V")
    assert ember.linalg.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert ember.linalg.lstsq(a, a)._fields == ("solution", "residuals", "rank",
                                                 "singular_values")
    assert ember.linalg.inv_ex(a)._fields == ("inverse", "info")
    assert type(ember.linalg.svd(a)).__name__ == "linalg_svd"


# -- matmul ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_matmul_low_precision_computes_in_float32_and_rounds_once(dtype):
    rng = np.random.default_rng(0)
    np_dt = np.float16 if dtype == "float16" else ml_dtypes.bfloat16
    a = rng.standard_normal((8, 64)).astype(np_dt)
    b = rng.standard_normal((64, 5)).astype(np_dt)
    got = ember.matmul(_t(a), _t(b))
    assert got.dtype is getattr(ember, dtype)
    want = (a.astype(np.float32) @ b.astype(np.float32)).astype(np_dt)
    np.testing.assert_array_equal(np.asarray(got).astype(np.float32), want.astype(np.float32))


def test_matmul_int_and_bool():
    a = _t(np.arange(6).reshape(2, 3))
    assert (a @ a.t()).tolist() == [[5, 14], [14, 50]]
    assert (a @ a.t()).dtype is ember.int64
    with pytest.raises(NotImplementedError, match="Bool"):
        ember.matmul(_t(np.ones((2, 2), bool)), _t(np.ones((2, 2), bool)))


@needs_torch
def test_matmul_grad_low_precision_matches_torch():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 4)).astype(np.float16)
    b = rng.standard_normal((4, 2)).astype(np.float16)
    ea, eb = _t(a, True), _t(b, True)
    (ea @ eb).sum().backward()
    ta, tb = to_torch(ea, True), to_torch(eb, True)
    (ta @ tb).sum().backward()
    assert ea.grad.dtype is ember.float16
    np.testing.assert_allclose(np.asarray(ea.grad, np.float32), ta.grad.float().numpy(),
                               rtol=1e-3, atol=1e-3)


def test_inplace_add_family_methods():
    x = ember.ones(2, 2)
    out = x.addmm_(ember.ones(2, 3), ember.ones(3, 2), beta=2, alpha=0.5)
    assert out is x and x.tolist() == [[3.5, 3.5], [3.5, 3.5]]
    v = ember.zeros(2)
    v.addmv_(ember.ones(2, 3), ember.ones(3))
    assert v.tolist() == [3.0, 3.0]


@needs_torch
def test_tensor_methods_match_torch():
    rng = np.random.default_rng(2)
    a = _wellcond(rng, 3)
    b = rng.standard_normal((3, 3))
    v = rng.standard_normal(3)
    ea, eb, ev = _t(a), _t(b), _t(v)
    ta, tb, tv = torch.tensor(a), torch.tensor(b), torch.tensor(v)
    pairs = [(ea.mm(eb), ta.mm(tb)), (ea.mv(ev), ta.mv(tv)), (ev.dot(ev), tv.dot(tv)),
             (ev.outer(ev), tv.outer(tv)), (ea.det(), ta.det()), (ea.inverse(), ta.inverse()),
             (ea.trace(), ta.trace()), (ea.matrix_power(2), ta.matrix_power(2)),
             (ea.kron(eb), ta.kron(tb)), (ea.inner(eb), ta.inner(tb)),
             (ea.cross(eb, dim=0), ta.cross(tb, dim=0)), (ea.logdet(), ta.logdet()),
             (ea.pinverse(), ta.pinverse())]
    for k, (e, t) in enumerate(pairs):
        np.testing.assert_allclose(np.asarray(e), t.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=str(k))


# -- einsum ----------------------------------------------------------------------------------

@needs_torch
def test_einsum_operand_list_and_optimized_paths_match_torch():
    rng = np.random.default_rng(3)
    ops = [rng.standard_normal(s) for s in [(4, 5), (5, 6), (6, 3), (3, 2)]]
    got = ember.einsum("ab,bc,cd,de->ae", [_t(o) for o in ops])
    want = torch.einsum("ab,bc,cd,de->ae", [torch.tensor(o) for o in ops])
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-10)
    x = _t(rng.standard_normal((2, 3, 3)), True)
    y = ember.einsum("bii->b", x)                       # batched trace
    y.backward(ember.tensor([1.0, 2.0]))
    want = np.stack([np.eye(3), 2 * np.eye(3)])
    np.testing.assert_allclose(x.grad.numpy(), want)


def test_einsum_double_backward_through_bilinear_form():
    rng = np.random.default_rng(4)
    A = _t(rng.standard_normal((3, 3)), True)
    x = _t(rng.standard_normal(3), True)
    f = ember.einsum("i,ij,j->", x, A, x)
    (gx,) = ember.autograd.grad(f, x, create_graph=True)
    (gA,) = ember.autograd.grad(gx.sum(), A)
    # d/dA of sum((A + A^T) x) = 1 x^T + x 1^T
    xs = x.detach().numpy()
    np.testing.assert_allclose(gA.numpy(), np.outer(np.ones(3), xs) + np.outer(xs, np.ones(3)),
                               rtol=1e-12)


# -- warnings and legacy forms -----------------------------------------------------------------

def test_deprecated_forms_warn_like_torch():
    a = _t(np.eye(3) * 2)
    with pytest.warns(UserWarning, match="chain_matmul is deprecated"):
        ember.chain_matmul(a, a, a)
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        ember.qr(a)
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        ember.cholesky(a)
    with pytest.warns(UserWarning, match="without specifying the dim"):
        out = ember.cross(_t(np.ones((2, 3))), _t(np.ones((2, 3))))
    assert out.shape == (2, 3)


def test_torch_svd_legacy_some_and_compute_uv():
    rng = np.random.default_rng(5)
    a = _t(rng.standard_normal((4, 3)))
    U, S, V = ember.svd(a)
    assert U.shape == (4, 3) and V.shape == (3, 3)
    np.testing.assert_allclose(((U * S) @ V.mT).numpy(), a.numpy(), atol=1e-12)
    U, S, V = ember.svd(a, some=False)
    assert U.shape == (4, 4)
    U, S, V = ember.svd(a, compute_uv=False)
    assert U.shape == (4, 4) and V.shape == (3, 3) and not U.numpy().any()


# -- backward limits ---------------------------------------------------------------------------

def test_qr_backward_limits_raise():
    A = _t(np.random.default_rng(6).standard_normal((4, 3)), True)
    Q, R = ember.linalg.qr(A, mode="r")
    assert Q.shape == (0,)
    with pytest.raises(RuntimeError, match="mode='r'"):
        R.sum().backward()
    Q, R = ember.linalg.qr(A, mode="complete")
    with pytest.raises(RuntimeError, match="complete"):
        Q.sum().backward()


def test_svd_full_matrices_backward_needs_square():
    A = _t(np.random.default_rng(7).standard_normal((4, 3)), True)
    U, S, Vh = ember.linalg.svd(A)
    (S.sum()).backward()                    # singular values alone are fine
    assert A.grad is not None
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        ember.linalg.svd(A).U.sum().backward()


# -- numbers -----------------------------------------------------------------------------------

@needs_torch
def test_lstsq_rank_deficient_gives_minimum_norm_solution():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 3))
    B = rng.standard_normal((5, 2))
    got = ember.linalg.lstsq(_t(A), _t(B), driver="gelsd")
    want = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver="gelsd")
    np.testing.assert_allclose(got.solution.numpy(), want.solution.numpy(), atol=1e-10)
    assert got.rank.item() == want.rank.item() == 2
    assert got.residuals.shape == want.residuals.shape == (0,)


@needs_torch
def test_matrix_rank_tolerances_match_torch():
    A = np.diag([1.0, 1e-3, 1e-9])
    for kw in ({}, {"atol": 1e-2}, {"rtol": 1e-4}, {"hermitian": True}):
        got = ember.linalg.matrix_rank(_t(A), **kw).item()
        want = torch.linalg.matrix_rank(torch.tensor(A), **kw).item()
        assert got == want, kw


@needs_torch
def test_pinv_tolerances_match_torch():
    A = np.array([[1.0, 0.0, 0.0], [0.0, 1e-3, 0.0]])
    for kw in ({}, {"atol": 1e-2}, {"rtol": 1e-2}, {"hermitian": False}):
        np.testing.assert_allclose(ember.linalg.pinv(_t(A), **kw).numpy(),
                                   torch.linalg.pinv(torch.tensor(A), **kw).numpy(), rtol=1e-12)


@needs_torch
def test_vector_norm_dtypes_and_empty_dim():
    x = np.array([3.0, -4.0], np.float16)
    got = ember.linalg.vector_norm(_t(x))
    assert got.dtype is ember.float16 and got.item() == 5.0
    got = ember.linalg.vector_norm(_t(np.array([1.0, 2.0], np.float32)), dtype=ember.float64)
    assert got.dtype is ember.float64
    y = np.arange(6.0).reshape(2, 3)
    assert ember.linalg.norm(_t(y), math.inf).item() == torch.linalg.norm(
        torch.tensor(y), math.inf).item()


def test_vector_norm_inf_splits_gradient_among_ties():
    x = _t(np.array([3.0, -3.0, 1.0]), True)
    ember.linalg.vector_norm(x, math.inf).backward()
    assert x.grad.tolist() == [0.5, -0.5, 0.0]


def test_norm_gradient_is_zero_at_zero():
    x = _t(np.zeros(3), True)
    ember.linalg.vector_norm(x).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    x1, x2 = _t(np.ones((2, 3)), True), _t(np.ones((2, 3)), True)
    ember.cdist(x1, x2).sum().backward()
    assert not np.isnan(x1.grad.numpy()).any()


def test_no_warnings_from_linalg_paths():
    rng = np.random.default_rng(9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A = _t(_wellcond(rng, 3), True)
        out = (ember.linalg.det(A) + ember.linalg.slogdet(A).logabsdet
               + ember.linalg.matrix_norm(A, "nuc") + ember.linalg.inv(A).sum())
        out.backward()
        assert np.isfinite(A.grad.numpy()).all()


def test_cholesky_error_names_the_leading_minor():
    A = np.array([[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])   # order-2 minor is 0
    with pytest.raises(ember.linalg.LinAlgError, match="leading minor of order 2"):
        ember.linalg.cholesky(_t(A))
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\).*order 1"):
        ember.linalg.cholesky(_t(np.stack([np.eye(3), -np.eye(3)])))


def test_solve_triangular_reads_only_its_triangle():
    rng = np.random.default_rng(10)
    A = _wellcond(rng, 3)
    B = rng.standard_normal((3, 2))
    junk = A + np.tril(np.full((3, 3), 100.0), -1)      # garbage below the diagonal
    got = ember.linalg.solve_triangular(_t(junk, True), _t(B), upper=True)
    np.testing.assert_allclose(np.triu(A) @ got.detach().numpy(), B, atol=1e-12)
    x = _t(junk, True)
    ember.linalg.solve_triangular(x, _t(B), upper=True).sum().backward()
    assert not np.tril(x.grad.numpy(), -1).any()        # no gradient below the diagonal


@needs_torch
def test_matrix_exp_matches_torch_on_large_norms():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((2, 4, 4)) * 20
    got = ember.linalg.matrix_exp(_t(A)).numpy()
    want = torch.linalg.matrix_exp(torch.tensor(A)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())


def test_det_of_batch_and_empty_batch():
    rng = np.random.default_rng(12)
    A = rng.standard_normal((2, 3, 3, 3))
    np.testing.assert_allclose(ember.linalg.det(_t(A)).numpy(), np.linalg.det(A), rtol=1e-12)
    assert ember.linalg.det(ember.zeros(0, 2, 2)).shape == (0,)


def test_einsum_contraction_path_cache_keeps_shapes_apart():
    rng = np.random.default_rng(13)
    for n in (40, 41, 40):                         # big enough for the BLAS path, cached
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, 3))
        got = ember.einsum("ij,jk->ik", _t(a), _t(b)).numpy()
        np.testing.assert_allclose(got, a @ b, rtol=1e-12, atol=1e-12)


def test_solve_rejects_mixed_dtypes_like_torch():
    with pytest.raises(RuntimeError, match="Expected A and B to have the same dtype"):
        ember.linalg.solve(ember.eye(2), ember.ones(2, dtype=ember.float64))
