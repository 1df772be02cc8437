"""torch-style user code (RL policy gradient, VAE, GMM) running unchanged on ember, and
biject_to / transform_to."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch


def _policy_gradient_step(lib, weight_init):
    # A REINFORCE step written once, run with torch or ember as ``lib``.
    lib.manual_seed(0)
    weight = lib.tensor(weight_init, requires_grad=True)
    states = lib.randn(6, 4)
    logits = states @ weight
    dist = lib.distributions.Categorical(logits=logits)
    actions = dist.sample()
    rewards = (actions == 1).float() - 0.5
    loss = -(dist.log_prob(actions) * rewards).mean() - 0.01 * dist.entropy().mean()
    loss.backward()
    return actions, loss, weight.grad


def _vae_step(lib, w_init):
    lib.manual_seed(1)
    w = lib.tensor(w_init, requires_grad=True)
    x = lib.rand(5, 3)
    h = x @ w
    mu, log_var = h[:, :2], h[:, 2:]
    q = lib.distributions.Normal(mu, (0.5 * log_var).exp())
    z = q.rsample()
    prior = lib.distributions.Normal(lib.zeros_like(mu), lib.ones_like(mu))
    kl = lib.distributions.kl_divergence(q, prior).sum(-1)
    recon = lib.distributions.Independent(lib.distributions.Bernoulli(logits=z.sum(-1,
                                          keepdim=True).expand(5, 3)), 1).log_prob(
        (x > 0.5).float())
    loss = (kl - recon).mean()
    loss.backward()
    return z, loss, w.grad


@needs_torch
@pytest.mark.parametrize("step,shape", [(_policy_gradient_step, (4, 3)), (_vae_step, (3, 4))])
def test_user_training_step_matches_torch(step, shape):
    init = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 0.5
    out_e = step(ember, init)
    out_t = step(torch, init)
    for e, t in zip(out_e, out_t):
        np.testing.assert_allclose(np.asarray(e.detach().numpy()), t.detach().numpy(),
                                   rtol=1e-5, atol=1e-6)


@needs_torch
def test_gaussian_mixture_fit_step_matches_torch():
    init = np.random.default_rng(2).standard_normal((3,)).astype(np.float64)
    data = np.random.default_rng(3).standard_normal((20,))
    results = []
    for lib in (ember, torch):
        D = lib.distributions
        means = lib.tensor(init, requires_grad=True)
        mix = D.Categorical(logits=lib.zeros(3, dtype=lib.float64))
        gmm = D.MixtureSameFamily(mix, D.Normal(means, lib.ones(3, dtype=lib.float64)))
        nll = -gmm.log_prob(lib.tensor(data)).mean()
        nll.backward()
        results.append((nll.detach().numpy(), means.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@needs_torch
def test_biject_to_and_transform_to_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    TC = torch.distributions.constraints
    EC = ember.distributions.constraints
    for make in (lambda C: C.real, lambda C: C.positive, lambda C: C.greater_than(1.5),
                 lambda C: C.less_than(-1.0), lambda C: C.unit_interval,
                 lambda C: C.interval(-2.0, 3.0), lambda C: C.simplex,
                 lambda C: C.independent(C.positive, 1), lambda C: C.lower_cholesky,
                 lambda C: C.positive_definite,
                 lambda C: C.cat([C.positive, C.real], dim=-1, lengths=[1, 2]),
                 lambda C: C.stack([C.positive, C.unit_interval, C.real], dim=-1)):
        for name in ("biject_to", "transform_to"):
            try:
                tt = getattr(torch.distributions, name)(make(TC))
            except NotImplementedError:  # e.g. biject_to(lower_cholesky): not a bijection
                with pytest.raises(NotImplementedError):
                    getattr(ember.distributions, name)(make(EC))
                continue
            te = getattr(ember.distributions, name)(make(EC))
            ye, yt = te(ember.tensor(x)), tt(torch.tensor(x))
            np.testing.assert_allclose(ye.numpy(), yt.numpy(), rtol=1e-10, err_msg=name)
            assert bool(make(EC).check(ye).all())
            if te.bijective:
                np.testing.assert_allclose(te.log_abs_det_jacobian(ember.tensor(x), ye).numpy(),
                                           tt.log_abs_det_jacobian(torch.tensor(x), yt).numpy(),
                                           rtol=1e-9, atol=1e-12)
                np.testing.assert_allclose(te.inv(ye).numpy(), x, rtol=1e-6, atol=1e-8)


def test_biject_to_unknown_constraint_raises():
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean"):
        ember.distributions.biject_to(ember.distributions.constraints.boolean)


def test_torch_style_import_paths():
    import ember.distributions.constraints as C
    from ember.distributions.normal import Normal
    assert ember.distributions.Normal is Normal
    assert C.positive is ember.distributions.constraints.positive
    assert isinstance(ember.distributions.transforms.ExpTransform(),
                      ember.distributions.Transform)
