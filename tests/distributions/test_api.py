"""Shapes, expand, validation errors, repr, kl_divergence, transforms and constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.distributions as ED
from ember.distributions import constraints
from tests.oracle import needs_torch, torch

from .cases import CASES

BY_NAME = {c.name: c for c in CASES}


def _both(case_name, dtype=None):
    case = BY_NAME[case_name]
    dtype = dtype or case.dtypes[-1]
    out = []
    for lib, D in ((ember, ED), (torch, torch.distributions)):
        params = {k: lib.tensor(np.array(v), dtype=getattr(lib, dtype))
                  for k, v in case.params.items()}
        out.append(case.make(D, params))
    return out


def _np(t):
    return np.asarray(t.detach().numpy())


# ---------------------------------------------------------------- shapes and expand

@needs_torch
@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_distribution_expand_and_sample_shapes_match_torch(name):
    de, dt = _both(name)
    new_batch = (5,) + tuple(dt.batch_shape)
    ee, te = de.expand(new_batch), dt.expand(new_batch)
    assert type(ee) is type(de)
    assert tuple(ee.batch_shape) == tuple(te.batch_shape)
    assert tuple(ee.event_shape) == tuple(te.event_shape)
    ember.manual_seed(0)
    torch.manual_seed(0)
    assert tuple(ee.sample((2,)).shape) == tuple(te.sample((2,)).shape)
    case = BY_NAME[name]
    if case.value is not None and "log_prob" in case.methods:
        # one event per batch element, without the case's leading sample dims
        nd = len(dt.batch_shape) + len(dt.event_shape)
        value = case.value[(0,) * max(case.value.ndim - nd, 0)]
        dtype = case.dtypes[-1]
        lp_e = ee.log_prob(ember.tensor(value, dtype=ember.int64 if case.value_int
                                        else getattr(ember, dtype)))
        lp_t = te.log_prob(torch.tensor(value, dtype=torch.int64 if case.value_int
                                        else getattr(torch, dtype)))
        assert tuple(lp_e.shape) == tuple(lp_t.shape)
        rtol = 1e-9 if dtype == "float64" else 2e-5
        np.testing.assert_allclose(_np(lp_e), _np(lp_t), rtol=rtol, atol=rtol / 10)


def test_normal_shapes_sample_batch_event():
    d = ED.Normal(ember.zeros(2, 3), 1.0)
    assert d.batch_shape == (2, 3) and d.event_shape == ()
    assert d.sample().shape == (2, 3)
    assert d.sample((4, 5)).shape == (4, 5, 2, 3)
    assert d.rsample(ember.Size([7])).shape == (7, 2, 3)
    assert d.log_prob(ember.zeros(9, 1, 3)).shape == (9, 2, 3)
    assert ED.Normal(0.0, 1.0).batch_shape == ()
    assert ED.Normal(0.0, 1.0).sample().shape == ()


SCALAR_FAMILIES = [
    lambda: ED.Poisson(2.0), lambda: ED.Binomial(5, probs=ember.tensor(0.3)),
    lambda: ED.Gamma(2.0, 1.0), lambda: ED.Beta(2.0, 3.0), lambda: ED.StudentT(3.0),
    lambda: ED.NegativeBinomial(3.0, probs=ember.tensor(0.4)), lambda: ED.Dirichlet(
        ember.ones(3)), lambda: ED.Geometric(0.3), lambda: ED.FisherSnedecor(3.0, 5.0),
    lambda: ED.Chi2(2.0), lambda: ED.Weibull(1.0, 2.0), lambda: ED.Pareto(1.0, 2.0),
]


@pytest.mark.parametrize("make", SCALAR_FAMILIES)
def test_scalar_parameter_families_sample_shapes(make):
    d = make()
    event = tuple(d.event_shape)
    assert tuple(d.sample().shape) == event
    assert tuple(d.sample((3,)).shape) == (3,) + event
    assert d.log_prob(d.sample()).shape == ()


def test_mvn_and_independent_event_shapes():
    mvn = ED.MultivariateNormal(ember.zeros(4, 3), ember.eye(3))
    assert mvn.batch_shape == (4,) and mvn.event_shape == (3,)
    assert mvn.sample((2,)).shape == (2, 4, 3)
    assert mvn.log_prob(ember.zeros(2, 4, 3)).shape == (2, 4)
    ind = ED.Independent(ED.Normal(ember.zeros(4, 3), 1.0), 2)
    assert ind.batch_shape == () and ind.event_shape == (4, 3)
    assert ind.log_prob(ember.zeros(4, 3)).shape == ()


def test_expand_does_not_copy_parameters():
    loc = ember.zeros(3)
    d = ED.Normal(loc, 1.0).expand((2, 3))
    assert d.loc.shape == (2, 3)
    assert d.loc.data_ptr() == loc.data_ptr()


@needs_torch
@pytest.mark.parametrize("name", ["Categorical_probs", "Bernoulli_probs", "Binomial",
                                  "OneHotCategorical"])
def test_enumerate_support_matches_torch(name):
    de, dt = _both(name)
    for expand in (True, False):
        a, b = de.enumerate_support(expand), dt.enumerate_support(expand)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype)
        np.testing.assert_array_equal(_np(a), _np(b))


# ---------------------------------------------------------------- validation and errors

ERROR_CASES = [
    ("normal_scale", lambda D, T: D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, -1.0]))),
    ("normal_nan_value", lambda D, T: D.Normal(0.0, 1.0).log_prob(T.tensor([math.nan]))),
    ("categorical_range", lambda D, T: D.Categorical(probs=T.tensor([0.2, 0.8])).log_prob(
        T.tensor(3))),
    ("categorical_0d", lambda D, T: D.Categorical(probs=T.tensor(0.2))),
    ("probs_and_logits", lambda D, T: D.Bernoulli(probs=0.3, logits=1.0)),
    ("bernoulli_value", lambda D, T: D.Bernoulli(probs=T.tensor([0.3])).log_prob(
        T.tensor([0.5]))),
    ("broadcast", lambda D, T: D.Normal(T.zeros(2), 1.0).log_prob(T.zeros(3))),
    ("event_shape", lambda D, T: D.MultivariateNormal(T.zeros(3), T.eye(3)).log_prob(
        T.zeros(2))),
    ("beta_negative", lambda D, T: D.Beta(T.tensor([-1.0]), T.tensor([1.0]))),
    ("mvn_not_pd", lambda D, T: D.MultivariateNormal(T.zeros(2),
                                                     T.tensor([[1.0, 2.0], [2.0, 1.0]]))),
    ("mvn_two_matrices", lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2),
                                                           scale_tril=T.eye(2))),
    ("mvn_0d_loc", lambda D, T: D.MultivariateNormal(T.tensor(0.0), T.eye(2))),
    ("uniform_value", lambda D, T: D.Uniform(0.0, 1.0).log_prob(T.tensor(2.0))),
    ("dirichlet_value", lambda D, T: D.Dirichlet(T.ones(3)).log_prob(
        T.tensor([0.5, 0.6, 0.1]))),
    ("independent_ndims", lambda D, T: D.Independent(D.Normal(T.zeros(3), 1.0), 2)),
    ("poisson_value", lambda D, T: D.Poisson(T.tensor([1.0])).log_prob(T.tensor([1.5]))),
    ("kl_unregistered", lambda D, T: D.kl_divergence(D.Normal(0.0, 1.0),
                                                     D.Categorical(T.ones(2)))),
    ("mixture_components", lambda D, T: D.MixtureSameFamily(
        D.Categorical(T.ones(3)), D.Normal(T.zeros(2), 1.0))),
    ("uniform_low_high", lambda D, T: D.Uniform(1.0, 0.0)),
    ("geometric_zero", lambda D, T: D.Geometric(T.tensor([0.0, 0.5]))),
    ("halfnormal_value", lambda D, T: D.HalfNormal(T.tensor([1.0])).log_prob(T.tensor([-1.0]))),
    ("transforms_type", lambda D, T: D.TransformedDistribution(D.Normal(0.0, 1.0), 3)),
]


@needs_torch
@pytest.mark.parametrize("name,fn", ERROR_CASES, ids=[n for n, _ in ERROR_CASES])
def test_distribution_errors_match_torch(name, fn):
    with pytest.raises(Exception) as te:
        fn(torch.distributions, torch)
    with pytest.raises(type(te.value)) as ee:
        fn(ED, ember)
    assert str(ee.value) == str(te.value)


def test_validate_args_can_be_turned_off():
    d = ED.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)
    assert math.isnan(float(d.log_prob(ember.tensor([0.0]))[0]))
    ED.Distribution.set_default_validate_args(False)
    try:
        ED.Normal(0.0, -1.0)
        lp = ED.Bernoulli(probs=ember.tensor([0.5])).log_prob(ember.tensor([0.5]))
    finally:
        ED.Distribution.set_default_validate_args(True)
    np.testing.assert_allclose(lp.numpy(), [math.log(0.5)], rtol=1e-6)
    with pytest.raises(ValueError, match="GreaterThan"):
        ED.Normal(0.0, -1.0)


@needs_torch
def test_repr_matches_torch():
    for build in (lambda D, T: D.Normal(T.zeros(2), 1.0),
                  lambda D, T: D.Normal(0.5, 2.0),
                  lambda D, T: D.Categorical(logits=T.zeros(2, 3)),
                  lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2)),
                  lambda D, T: D.Independent(D.Normal(T.zeros(2), 1.0), 1),
                  lambda D, T: D.Beta(1.0, 2.0),
                  lambda D, T: D.Gamma(T.ones(5), 1.0),
                  lambda D, T: D.Bernoulli(probs=T.tensor([0.25]))):
        assert repr(build(ED, ember)) == repr(build(torch.distributions, torch))


def test_base_distribution_defaults():
    d = ED.Normal(ember.zeros(2), ember.full((2,), 2.0))
    np.testing.assert_allclose(d.stddev.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(d.perplexity().numpy(), np.exp(d.entropy().numpy()))
    with pytest.raises(NotImplementedError):
        ED.Poisson(ember.tensor([1.0])).cdf(ember.tensor([1.0]))
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        ED.Distribution(validate_args=False).mode  # noqa: B018


# ---------------------------------------------------------------- kl_divergence

KL_PAIRS = [
    ("Normal", lambda D, T: (D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, 2.0])),
                             D.Normal(T.tensor([0.5, -1.0]), T.tensor([0.7, 1.5])))),
    ("Categorical", lambda D, T: (D.Categorical(probs=T.tensor([[0.2, 0.8, 0.0], [0.1, 0.1,
                                                                                   0.8]])),
                                  D.Categorical(logits=T.tensor([[0.0, 1.0, -1.0]])))),
    ("OneHotCategorical", lambda D, T: (D.OneHotCategorical(T.tensor([0.3, 0.7])),
                                        D.OneHotCategorical(T.tensor([0.6, 0.4])))),
    ("Bernoulli", lambda D, T: (D.Bernoulli(T.tensor([0.0, 0.3, 1.0, 0.5])),
                                D.Bernoulli(T.tensor([0.2, 0.6, 0.9, 0.0])))),
    ("MVN", lambda D, T: (D.MultivariateNormal(T.tensor([[0.0, 1.0], [1.0, 0.0]]),
                                               T.tensor([[2.0, 0.3], [0.3, 1.0]])),
                          D.MultivariateNormal(T.tensor([1.0, -1.0]),
                                               scale_tril=T.tensor([[1.5, 0.0],
                                                                    [0.4, 0.8]])))),
    ("LowRankMVN_MVN", lambda D, T: (
        D.LowRankMultivariateNormal(T.tensor([0.0, 1.0]), T.tensor([[1.0], [0.5]]),
                                    T.tensor([0.5, 1.0])),
        D.MultivariateNormal(T.tensor([1.0, -1.0]), T.tensor([[2.0, 0.3], [0.3, 1.0]])))),
    ("Beta", lambda D, T: (D.Beta(T.tensor([0.5, 2.0]), T.tensor([1.5, 3.0])),
                           D.Beta(T.tensor([1.0, 1.0]), T.tensor([2.0, 0.7])))),
    ("Gamma", lambda D, T: (D.Gamma(T.tensor([0.5, 2.0]), T.tensor([1.5, 3.0])),
                            D.Gamma(T.tensor([1.0, 1.0]), T.tensor([2.0, 0.7])))),
    ("Dirichlet", lambda D, T: (D.Dirichlet(T.tensor([[0.5, 2.0, 1.0]])),
                                D.Dirichlet(T.tensor([[1.0, 1.0, 3.0], [0.2, 0.3, 0.4]])))),
    ("Uniform", lambda D, T: (D.Uniform(T.tensor([0.0, 0.0]), T.tensor([1.0, 2.0])),
                              D.Uniform(T.tensor([-1.0, 0.5]), T.tensor([2.0, 3.0])))),
    ("Uniform_Normal", lambda D, T: (D.Uniform(T.tensor([0.0]), T.tensor([2.0])),
                                     D.Normal(T.tensor([0.5]), T.tensor([1.5])))),
    ("Exponential", lambda D, T: (D.Exponential(T.tensor([0.5, 2.0])),
                                  D.Exponential(T.tensor([1.0, 1.0])))),
    ("Laplace", lambda D, T: (D.Laplace(T.tensor([0.0, 1.0]), T.tensor([1.0, 2.0])),
                              D.Laplace(T.tensor([0.5, -1.0]), T.tensor([0.7, 1.5])))),
    ("Poisson", lambda D, T: (D.Poisson(T.tensor([0.5, 2.0])), D.Poisson(T.tensor([1.0, 3.0])))),
    ("Cauchy", lambda D, T: (D.Cauchy(T.tensor([0.0]), T.tensor([1.0])),
                             D.Cauchy(T.tensor([1.0]), T.tensor([3.0])))),
    ("Gumbel", lambda D, T: (D.Gumbel(T.tensor([0.0]), T.tensor([1.0])),
                             D.Gumbel(T.tensor([1.0]), T.tensor([3.0])))),
    ("Independent", lambda D, T: (D.Independent(D.Normal(T.zeros(2, 3), 1.0), 1),
                                  D.Independent(D.Normal(T.ones(2, 3), 2.0), 1))),
    ("LogNormal", lambda D, T: (D.LogNormal(T.tensor([0.0, 1.0]), T.tensor([1.0, 2.0])),
                                D.LogNormal(T.tensor([0.5, -1.0]), T.tensor([0.7, 1.5])))),
    ("Geometric", lambda D, T: (D.Geometric(T.tensor([0.2, 0.7])),
                                D.Geometric(T.tensor([0.5, 0.1])))),
    ("HalfNormal", lambda D, T: (D.HalfNormal(T.tensor([0.5, 2.0])),
                                 D.HalfNormal(T.tensor([1.0, 1.0])))),
    ("Pareto", lambda D, T: (D.Pareto(T.tensor([1.0, 0.5]), T.tensor([2.0, 3.0])),
                             D.Pareto(T.tensor([0.7, 1.0]), T.tensor([1.0, 2.0])))),
    ("Normal_Gamma_inf", lambda D, T: (D.Normal(T.tensor([0.0]), T.tensor([1.0])),
                                       D.Gamma(T.tensor([1.0]), T.tensor([1.0])))),
]


@needs_torch
@pytest.mark.parametrize("name,build", KL_PAIRS, ids=[n for n, _ in KL_PAIRS])
def test_kl_divergence_matches_torch(name, build):
    pe, qe = build(ED, ember)
    pt, qt = build(torch.distributions, torch)
    ke, kt = ED.kl_divergence(pe, qe), torch.distributions.kl_divergence(pt, qt)
    assert tuple(ke.shape) == tuple(kt.shape)
    np.testing.assert_allclose(_np(ke), _np(kt), rtol=1e-5, atol=1e-6)


def test_kl_divergence_gradient_flows():
    loc = ember.tensor([0.3], requires_grad=True)
    kl = ED.kl_divergence(ED.Normal(loc, 1.0), ED.Normal(0.0, 1.0))
    (g,) = ember.autograd.grad(kl.sum(), [loc])
    np.testing.assert_allclose(g.numpy(), [0.3], rtol=1e-6)


EXP_FAMILIES = [
    lambda: ED.Normal(ember.tensor([0.3, -1.0]), ember.tensor([0.5, 2.0])),
    lambda: ED.Exponential(ember.tensor([0.5, 2.0])),
    lambda: ED.Gamma(ember.tensor([0.7, 3.0]), ember.tensor([1.5, 0.4])),
    lambda: ED.Beta(ember.tensor([0.7, 3.0]), ember.tensor([1.5, 0.4])),
    lambda: ED.Dirichlet(ember.tensor([[0.7, 3.0, 1.0], [1.5, 0.4, 2.0]])),
    lambda: ED.Bernoulli(ember.tensor([0.2, 0.9])),
]


@pytest.mark.parametrize("make", EXP_FAMILIES)
def test_exponential_family_generic_entropy_and_bregman_kl(make):
    p = make()
    assert isinstance(p, ED.ExponentialFamily)
    if not isinstance(p, (ED.Beta, ED.Dirichlet)):  # no carrier measure, as in torch
        np.testing.assert_allclose(ED.ExponentialFamily.entropy(p).detach().numpy(),
                                   p.entropy().numpy(), rtol=1e-5, atol=1e-6)
    q = p.expand(p.batch_shape)
    for name in ("loc", "scale", "rate", "concentration", "probs", "logits"):
        if name in q.__dict__:
            setattr(q, name, q.__dict__[name].flip(0))
    if isinstance(p, ED.Beta):
        q._dirichlet.concentration = q._dirichlet.concentration.flip(-1)
    from ember.distributions.kl import _kl_expfamily_expfamily
    np.testing.assert_allclose(_kl_expfamily_expfamily(p, q).detach().numpy(),
                               ED.kl_divergence(p, q).numpy(), rtol=1e-4, atol=1e-5)


def test_bregman_kl_refuses_different_families():
    with pytest.raises(NotImplementedError, match="different exponential families"):
        ED.kl_divergence(ED.Normal(0.0, 1.0), ED.Poisson(1.0))


def test_register_kl_most_specific_wins():
    class MyNormal(ED.Normal):
        pass

    @ED.register_kl(MyNormal, ED.Normal)
    def _kl(p, q):
        return ember.full(p.batch_shape, 42.0)

    try:
        assert float(ED.kl_divergence(MyNormal(0.0, 1.0), ED.Normal(0.0, 1.0))) == 42.0
        assert float(ED.kl_divergence(ED.Normal(0.0, 1.0), ED.Normal(0.0, 1.0))) == 0.0
    finally:
        from ember.distributions import kl
        del kl._KL_REGISTRY[MyNormal, ED.Normal]
        kl._KL_MEMOIZE.clear()
    with pytest.raises(TypeError, match="Distribution subclass"):
        ED.register_kl(int, ED.Normal)


# ---------------------------------------------------------------- transforms

TRANSFORMS = [
    ("Exp", lambda T, M: T.ExpTransform(), (-2.0, 2.0)),
    ("Affine", lambda T, M: T.AffineTransform(M.tensor([0.5, -1.0, 2.0]), -1.5), (-2.0, 2.0)),
    ("Sigmoid", lambda T, M: T.SigmoidTransform(), (-4.0, 4.0)),
    ("Tanh", lambda T, M: T.TanhTransform(), (-3.0, 3.0)),
    ("Softplus", lambda T, M: T.SoftplusTransform(), (-3.0, 3.0)),
    ("Power", lambda T, M: T.PowerTransform(M.tensor(2.5, dtype=M.float64)), (0.2, 3.0)),
    ("Compose", lambda T, M: T.ComposeTransform([T.AffineTransform(1.0, 2.0),
                                                 T.ExpTransform()]), (-1.0, 1.0)),
    ("ExpInv", lambda T, M: T.ExpTransform().inv, (0.2, 3.0)),
    ("StickBreaking", lambda T, M: T.StickBreakingTransform(), (-1.0, 1.0)),
    ("Independent", lambda T, M: T.IndependentTransform(T.ExpTransform(), 1), (-1.0, 1.0)),
    ("CorrCholesky", lambda T, M: T.CorrCholeskyTransform(), (-2.0, 2.0)),
]


@needs_torch
@pytest.mark.parametrize("name,build,interval", TRANSFORMS, ids=[n for n, _, _ in TRANSFORMS])
def test_transform_matches_torch(name, build, interval):
    x = np.random.default_rng(0).uniform(*interval, size=(2, 3))
    te, tt = build(ED.transforms, ember), build(torch.distributions.transforms, torch)
    xe, xt = ember.tensor(x), torch.tensor(x)
    ye, yt = te(xe), tt(xt)
    np.testing.assert_allclose(_np(ye), _np(yt), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(te.inv(ye)), _np(tt.inv(yt)), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(_np(te.inv(ye)), x, rtol=1e-8, atol=1e-10)
    ladj_e, ladj_t = te.log_abs_det_jacobian(xe, ye), tt.log_abs_det_jacobian(xt, yt)
    assert tuple(ladj_e.shape) == tuple(ladj_t.shape)
    np.testing.assert_allclose(_np(ladj_e), _np(ladj_t), rtol=1e-9, atol=1e-10)
    assert te.domain.event_dim == tt.domain.event_dim
    assert te.codomain.event_dim == tt.codomain.event_dim
    assert te.bijective == tt.bijective
    assert tuple(te.forward_shape((2, 3))) == tuple(tt.forward_shape((2, 3)))


MATRIX_TRANSFORMS = [
    ("LowerCholesky", lambda T, M: T.LowerCholeskyTransform()),
    ("PositiveDefinite", lambda T, M: T.PositiveDefiniteTransform()),
    ("Cat", lambda T, M: T.CatTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)],
                                        dim=-1, lengths=[1, 2])),
    ("Stack", lambda T, M: T.StackTransform([T.ExpTransform(), T.SigmoidTransform(),
                                             T.TanhTransform()], dim=1)),
    ("CDF", lambda T, M: T.CumulativeDistributionTransform(
        M.distributions.Normal(M.tensor(0.5, dtype=M.float64),
                               M.tensor(2.0, dtype=M.float64)))),
]


@needs_torch
@pytest.mark.parametrize("name,build", MATRIX_TRANSFORMS, ids=[n for n, _ in MATRIX_TRANSFORMS])
def test_matrix_and_composite_transforms_match_torch(name, build):
    x = np.random.default_rng(0).uniform(-1.0, 1.0, size=(2, 3, 3))
    te, tt = build(ED.transforms, ember), build(torch.distributions.transforms, torch)
    ye, yt = te(ember.tensor(x)), tt(torch.tensor(x))
    np.testing.assert_allclose(_np(ye), _np(yt), rtol=1e-10, atol=1e-12)
    # the Cholesky transforms forget the upper triangle: compare inverses with torch's
    np.testing.assert_allclose(_np(te.inv(ye)), _np(tt.inv(yt)), rtol=1e-7, atol=1e-9)
    if name in ("Cat", "Stack", "CDF"):
        np.testing.assert_allclose(_np(te.inv(ye)), x, rtol=1e-7, atol=1e-9)
        ladj_e = te.log_abs_det_jacobian(ember.tensor(x), ye)
        ladj_t = tt.log_abs_det_jacobian(torch.tensor(x), yt)
        assert tuple(ladj_e.shape) == tuple(ladj_t.shape)
        np.testing.assert_allclose(_np(ladj_e), _np(ladj_t), rtol=1e-9, atol=1e-12)
    assert bool(te.codomain.check(ye).all())


def test_kumaraswamy_mode_is_the_density_peak():
    a, b = ember.tensor([2.0, 3.0, 0.5]), ember.tensor([3.0, 1.5, 2.0])
    mode = ED.Kumaraswamy(a, b).mode
    expected = ((a[:2] - 1) / (a[:2] * b[:2] - 1)) ** (1 / a[:2])
    np.testing.assert_allclose(mode[:2].numpy(), expected.numpy(), rtol=1e-6)
    assert math.isnan(float(mode[2]))  # a < 1: density unbounded at 0


@needs_torch
def test_softmax_transform_matches_torch():
    x = np.random.default_rng(1).standard_normal((2, 4))
    te, tt = ED.SoftmaxTransform(), torch.distributions.SoftmaxTransform()
    np.testing.assert_allclose(_np(te(ember.tensor(x))), _np(tt(torch.tensor(x))), rtol=1e-12)
    assert not te.bijective


def test_transform_inverse_and_cache():
    t = ED.ExpTransform()
    assert t.inv.inv is t
    assert t == ED.ExpTransform() and t.inv == ED.ExpTransform().inv
    assert t != ED.SigmoidTransform()
    cached = ED.AbsTransform(cache_size=1)
    x = ember.tensor([-2.0, 3.0])
    y = cached(x)
    assert cached.inv(y) is x  # not bijective: only the cache recovers the sign
    with pytest.raises(ValueError, match="cache_size"):
        ED.ExpTransform(cache_size=2)


def test_transformed_distribution_rsample_grad_and_support():
    loc = ember.tensor([0.0, 1.0], requires_grad=True)
    d = ED.TransformedDistribution(ED.Normal(loc, 1.0), [ED.ExpTransform()])
    assert d.has_rsample
    assert isinstance(d.support, type(constraints.positive))
    x = d.rsample((3,))
    assert bool((x > 0).all())
    (g,) = ember.autograd.grad(x.sum(), [loc])
    np.testing.assert_allclose(g.numpy(), x.detach().sum(0).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="support"):
        d.log_prob(ember.tensor([-1.0, 1.0]))


def test_lognormal_is_exp_of_normal():
    d = ED.LogNormal(ember.tensor([0.3]), ember.tensor([0.8]))
    x = ember.tensor([1.7])
    expected = ED.Normal(0.3, 0.8).log_prob(x.log()) - x.log()
    np.testing.assert_allclose(d.log_prob(x).numpy(), expected.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- constraints

@needs_torch
def test_constraints_check_and_repr_match_torch():
    TC = torch.distributions.constraints
    values = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, np.nan]])
    for name in ("real", "positive", "nonnegative", "unit_interval", "boolean",
                 "nonnegative_integer", "positive_integer", "simplex", "real_vector",
                 "one_hot"):
        ce, ct = getattr(constraints, name), getattr(TC, name)
        assert repr(ce) == repr(ct)
        assert ce.event_dim == ct.event_dim and ce.is_discrete == ct.is_discrete
        np.testing.assert_array_equal(_np(ce.check(ember.tensor(values))),
                                      _np(ct.check(torch.tensor(values))), err_msg=name)
    for make in (lambda C: C.interval(0.0, 1.0), lambda C: C.half_open_interval(0.0, 1.0),
                 lambda C: C.greater_than(0.5), lambda C: C.greater_than_eq(0.5),
                 lambda C: C.less_than(0.5), lambda C: C.integer_interval(0, 2),
                 lambda C: C.independent(C.positive, 1)):
        ce, ct = make(constraints), make(TC)
        assert repr(ce) == repr(ct)
        np.testing.assert_array_equal(_np(ce.check(ember.tensor(values))),
                                      _np(ct.check(torch.tensor(values))))
    mats = np.array([[[2.0, 0.5], [0.5, 1.0]], [[1.0, 2.0], [2.0, 1.0]], [[1.0, 0.0],
                                                                             [3.0, 2.0]]])
    for name in ("positive_definite", "lower_cholesky", "lower_triangular", "symmetric",
                 "positive_semidefinite", "square"):
        ce, ct = getattr(constraints, name), getattr(TC, name)
        np.testing.assert_array_equal(_np(ce.check(ember.tensor(mats))),
                                      _np(ct.check(torch.tensor(mats))), err_msg=name)


def test_dependent_constraints():
    assert constraints.is_dependent(constraints.dependent)
    assert constraints.is_dependent(ED.Uniform.support)
    assert not constraints.is_dependent(constraints.real)
    with pytest.raises(ValueError, match="dependent"):
        constraints.dependent.check(ember.zeros(1))
    support = ED.Uniform(ember.tensor([0.0]), ember.tensor([2.0])).support
    assert bool(support.check(ember.tensor([1.5]))[0])
    assert not bool(support.check(ember.tensor([2.5]))[0])


def test_generalized_pareto_float64_special_cases():
    # xi = 0 is Exponential(1 / scale); xi = -1 is Uniform(loc, loc + scale)
    x = ember.tensor([0.2, 1.5], dtype=ember.float64)
    gp = ED.GeneralizedPareto(0.0, 2.0, ember.zeros(2, dtype=ember.float64))
    np.testing.assert_allclose(gp.log_prob(x).numpy(),
                               ED.Exponential(ember.tensor(0.5, dtype=ember.float64))
                               .log_prob(x).numpy(), rtol=1e-12)
    gp = ED.GeneralizedPareto(1.0, 2.0, ember.full((2,), -1.0, dtype=ember.float64))
    np.testing.assert_allclose(gp.log_prob(x + 1).numpy(), [-math.log(2.0)] * 2, rtol=1e-12)
    np.testing.assert_allclose(gp.cdf(x + 1).numpy(), (x / 2).numpy(), rtol=1e-12)


@needs_torch
def test_extreme_logits_keep_relative_precision():
    # logits far below 0 give tiny but nonzero probabilities (torch's sigmoid does too)
    logits = np.array([-30.0, -15.0, -3.0, 0.0, 12.0, 40.0], dtype=np.float32)
    pe = ED.Bernoulli(logits=ember.tensor(logits)).probs
    pt = torch.distributions.Bernoulli(logits=torch.tensor(logits)).probs
    np.testing.assert_allclose(_np(pe), _np(pt), rtol=1e-6)
    te = ED.SigmoidTransform()(ember.tensor(logits))
    tt = torch.distributions.SigmoidTransform()(torch.tensor(logits))
    np.testing.assert_allclose(_np(te), _np(tt), rtol=1e-6)
