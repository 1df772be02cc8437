"""ember.special against torch.special: values (float32 and float64) and gradients."""

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch

X = [-6.0, -2.5, -0.3, 0.0, 0.4, 1.7, 5.0]
POS = [0.05, 0.3, 1.0, 2.5, 7.0]
PROB = [0.001, 0.2, 0.5, 0.8, 0.999]
UNARY = {"digamma": POS, "psi": POS, "erf": X, "erfc": X, "erfinv": [-0.9, 0.0, 0.5, 0.99],
         "exp2": X, "expit": X, "expm1": X, "gammaln": POS, "i0": X, "log1p": POS,
         "logit": PROB, "round": X, "sinc": X, "entr": [-1.0, 0.0, 0.2, 1.0, 3.0],
         "ndtr": X, "log_ndtr": X + [-45.0, -30.0, -12.0, -9.5, 30.0], "ndtri": PROB}


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, dtype):
    a = np.array(UNARY[name], dtype=dtype)
    ours = getattr(ember.special, name)(ember.tensor(a))
    theirs = getattr(torch.special, name)(torch.tensor(a))
    assert str(ours.dtype) == str(theirs.dtype)
    rtol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=rtol * 1e-2)


@needs_torch
def test_binary_and_reductions_match_torch():
    a = np.array([0.0, 0.0, 1.0, 2.0, -1.5])
    b = np.array([np.nan, np.inf, -0.5, 3.0, 0.25])
    for name in ("xlog1py", "xlogy"):
        np.testing.assert_allclose(getattr(ember.special, name)(ember.tensor(a),
                                                                ember.tensor(b)).numpy(),
                                   getattr(torch.special, name)(torch.tensor(a),
                                                                torch.tensor(b)).numpy())
    s, x = np.array([0.5, 1.0, 3.0]), np.array([0.2, 1.0, 4.0])
    for name in ("gammainc", "gammaincc"):
        np.testing.assert_allclose(getattr(ember.special, name)(ember.tensor(s),
                                                                ember.tensor(x)).numpy(),
                                   getattr(torch.special, name)(torch.tensor(s),
                                                                torch.tensor(x)).numpy(),
                                   rtol=1e-10)
    m = np.arange(6.0).reshape(2, 3)
    for name in ("softmax", "log_softmax"):
        np.testing.assert_allclose(getattr(ember.special, name)(ember.tensor(m), 1).numpy(),
                                   getattr(torch.special, name)(torch.tensor(m), 1).numpy())
    np.testing.assert_allclose(ember.special.logsumexp(ember.tensor(m), 1).numpy(),
                               torch.special.logsumexp(torch.tensor(m), 1).numpy())
    np.testing.assert_allclose(ember.special.polygamma(1, ember.tensor(s)).numpy(),
                               torch.special.polygamma(1, torch.tensor(s)).numpy(), rtol=1e-8)
    np.testing.assert_allclose(ember.special.multigammaln(ember.tensor(x + 2), 2).numpy(),
                               torch.special.multigammaln(torch.tensor(x + 2), 2).numpy())


@pytest.mark.parametrize("name", ["ndtr", "log_ndtr", "ndtri", "entr", "xlog1py"])
def test_composites_gradcheck(name):
    a = ember.tensor([0.15, 0.4, 0.7], dtype=ember.float64, requires_grad=True)
    if name == "xlog1py":
        b = ember.tensor([0.5, 1.5, 2.0], dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradcheck(ember.special.xlog1py, (a, b))
    else:
        assert ember.autograd.gradcheck(getattr(ember.special, name), (a,))
