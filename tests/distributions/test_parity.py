"""ember.distributions against torch.distributions: values, dtypes and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as ED
from tests.oracle import needs_torch, torch

from .cases import CASES, Case

pytestmark = needs_torch

TOL = {"float32": (2e-5, 2e-5), "float64": (1e-9, 1e-10)}
GRAD_TOL = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-10)}


def _lib(which):
    if which == "ember":
        return ember, ED
    return torch, torch.distributions


def _params(case: Case, which: str, dtype: str, requires_grad: bool):
    lib, _ = _lib(which)
    out = {}
    for name, arr in case.params.items():
        t = lib.tensor(np.array(arr), dtype=getattr(lib, dtype))
        if requires_grad and name in case.grad:
            t.requires_grad_(True)
        out[name] = t
    return out


def _value(case: Case, which: str, dtype: str, arr=None):
    lib, _ = _lib(which)
    arr = case.value if arr is None else arr
    if case.value_int and arr is case.value:
        return lib.tensor(arr, dtype=lib.int64)
    return lib.tensor(np.array(arr), dtype=getattr(lib, dtype))


def _np(t):
    if isinstance(t, ember.Tensor):
        return np.asarray(t.detach().numpy())
    return t.detach().numpy()


def _close(a, b, dtype, what, tol=TOL):
    rtol, atol = tol[dtype]
    assert tuple(a.shape) == tuple(b.shape), f"{what}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
    assert str(a.dtype) == str(b.dtype), f"{what}: dtype {a.dtype} vs {b.dtype}"
    np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, err_msg=what,
                               equal_nan=True)


def _evaluate(dist, case, method, which, dtype):
    if method in ("log_prob", "cdf"):
        return getattr(dist, method)(_value(case, which, dtype))
    if method == "icdf":
        return dist.icdf(_value(case, which, dtype, case.icdf))
    if method == "entropy":
        return dist.entropy()
    return getattr(dist, method)


def _methods(case):
    return case.methods + (("icdf",) if case.icdf is not None else ())


@pytest.mark.parametrize("case,dtype", [(c, d) for c in CASES for d in c.dtypes],
                         ids=[f"{c.name}-{d}" for c in CASES for d in c.dtypes])
def test_distribution_values_match_torch(case, dtype):
    de = case.make(ED, _params(case, "ember", dtype, False))
    dt = case.make(torch.distributions, _params(case, "torch", dtype, False))
    assert tuple(de.batch_shape) == tuple(dt.batch_shape), case.name
    assert tuple(de.event_shape) == tuple(dt.event_shape), case.name
    assert de.has_rsample == dt.has_rsample, case.name
    for method in _methods(case):
        _close(_evaluate(de, case, method, "ember", dtype),
               _evaluate(dt, case, method, "torch", dtype), dtype, f"{case.name}.{method}")


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=lambda c: c.name)
def test_distribution_log_prob_grads_match_torch(case):
    dtype = case.dtypes[-1]
    results = {}
    for which in ("ember", "torch"):
        lib, D = _lib(which)
        params = _params(case, which, dtype, True)
        dist = case.make(D, params)
        method = "log_prob" if "log_prob" in case.methods else "entropy"
        out = _evaluate(dist, case, method, which, dtype)
        weights = lib.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)),
                             dtype=getattr(lib, dtype))
        grads = (lib.autograd.grad((out * weights).sum(), [params[n] for n in case.grad]))
        results[which] = grads
    for name, ge, gt in zip(case.grad, results["ember"], results["torch"]):
        _close(ge, gt, dtype, f"{case.name}: d log_prob / d {name}", GRAD_TOL)
