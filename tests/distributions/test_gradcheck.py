"""Finite-difference checks (first and second order) of log_prob, entropy and kl in
float64, plus a GPU smoke test run with the gpu batch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.distributions as ED
from ember.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(3)


def _t(a):
    return ember.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


CHECKS = [
    ("Normal", lambda loc, scale: ED.Normal(loc, scale).log_prob(ember.tensor([0.3, -1.0],
                                                                              dtype=ember.float64)),
     [[0.1, 0.5], [1.2, 0.7]]),
    ("MultivariateNormal", lambda loc, tril: ED.MultivariateNormal(
        loc, scale_tril=tril.tril() + ember.eye(2, dtype=ember.float64)).log_prob(
            ember.tensor([[0.3, -1.0], [1.0, 2.0]], dtype=ember.float64)),
     [[0.1, 0.5], [[0.2, 0.0], [0.3, 0.4]]]),
    ("Categorical", lambda logits: ED.Categorical(logits=logits).log_prob(
        ember.tensor([0, 2])), [R.standard_normal((2, 3))]),
    ("Gamma", lambda c, r: ED.Gamma(c, r).log_prob(ember.tensor([0.5, 2.0],
                                                                dtype=ember.float64)),
     [[0.8, 2.0], [1.5, 0.6]]),
    ("Dirichlet", lambda c: ED.Dirichlet(c).entropy(), [[0.8, 2.0, 1.3]]),
    ("Beta_kl", lambda a, b: ED.kl_divergence(ED.Beta(a, b), ED.Beta(b, a)),
     [[0.8, 2.0], [1.5, 0.6]]),
    ("StudentT", lambda df, loc: ED.StudentT(df, loc, 1.5).log_prob(
        ember.tensor([0.3, 4.0], dtype=ember.float64)), [[2.5, 7.0], [0.1, -0.2]]),
    ("Binomial", lambda logits: ED.Binomial(5, logits=logits).log_prob(
        ember.tensor([2.0, 5.0], dtype=ember.float64)), [[0.3, -1.2]]),
    ("LowRankMVN", lambda W, d: ED.LowRankMultivariateNormal(
        ember.zeros(2, dtype=ember.float64), W, d).log_prob(
            ember.tensor([0.3, -1.0], dtype=ember.float64)), [[[0.5], [1.0]], [0.7, 1.2]]),
]


@pytest.mark.parametrize("name,fn,inputs", CHECKS, ids=[c[0] for c in CHECKS])
def test_distribution_gradcheck_and_gradgradcheck(name, fn, inputs):
    args = [_t(a) for a in inputs]
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


def test_gamma_rsample_gradient_by_finite_differences():
    # The sample at fixed uniforms is x(alpha) with P(alpha, x) = u; moving alpha by +-h with
    # u held fixed must move x by +-h * dx/dalpha. Solve P(alpha, x) = u by bisection.
    alpha = ember.tensor([0.4, 1.0, 3.0], dtype=ember.float64, requires_grad=True)
    ember.manual_seed(2)
    x = ED.Gamma(alpha, 1.0).rsample()
    (g,) = ember.autograd.grad(x.sum(), [alpha])
    a = alpha.detach()
    u = ember.igamma(a, x.detach())

    def solve(a_new):
        lo, hi = ember.zeros_like(a_new), ember.full_like(a_new, 100.0)
        for _ in range(200):
            mid = (lo + hi) / 2
            below = ember.igamma(a_new, mid) < u
            lo, hi = ember.where(below, mid, lo), ember.where(below, hi, mid)
        return (lo + hi) / 2

    h = 1e-5
    numeric = (solve(a + h) - solve(a - h)) / (2 * h)
    np.testing.assert_allclose(g.numpy(), numeric.numpy(), rtol=1e-4)


@pytest.mark.gpu
def test_distributions_on_cuda_match_cpu():
    loc = ember.tensor([0.0, 1.0], device="cuda")
    scale = ember.tensor([1.0, 2.0], device="cuda")
    d = ED.Normal(loc, scale)
    x = d.sample((3,))
    assert x.device.type == "cuda"
    cpu = ED.Normal(loc.cpu(), scale.cpu()).log_prob(x.cpu())
    np.testing.assert_allclose(d.log_prob(x).cpu().numpy(), cpu.numpy(), rtol=1e-6)
    g = ED.Gamma(ember.tensor([0.5, 3.0], device="cuda"), 1.0).sample((1000,))
    assert g.device.type == "cuda" and bool((g > 0).all())
    b = ED.Binomial(ember.tensor([10.0], device="cuda"), probs=ember.tensor([0.3],
                                                                         device="cuda"))
    assert b.sample((5,)).device.type == "cuda"
    c = ED.Categorical(logits=ember.zeros(2, 3, device="cuda")).sample((4,))
    assert c.shape == (4, 2) and c.device.type == "cuda"
    mvn = ED.MultivariateNormal(ember.zeros(2, device="cuda"), ember.eye(2, device="cuda"))
    assert mvn.log_prob(mvn.sample((2,))).device.type == "cuda"
