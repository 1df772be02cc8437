"""One table of distribution cases shared by the parity tests (ember vs torch).

Each case builds the same distribution in both libraries from NumPy parameters and
names the methods/properties to compare, an in-support value to score and which
parameters receive gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

R = np.random.default_rng(1234)


def _randn(*shape):
    return R.standard_normal(shape)


def _pos(*shape, low=0.5, high=2.0):
    return R.uniform(low, high, shape)


def _unif(*shape):
    return R.uniform(0.05, 0.95, shape)


def _simplex(*shape):
    p = R.uniform(0.1, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _spd(n, batch=()):
    a = R.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _tril(n, batch=()):
    a = np.tril(R.standard_normal(batch + (n, n)), -1)
    return a + np.eye(n) * R.uniform(0.5, 1.5, batch + (n,))[..., None]


@dataclass
class Case:
    name: str
    make: object                      # make(D, P): distribution from the module D and params P
    params: dict                      # name -> NumPy array
    value: np.ndarray | None = None   # an in-support value for log_prob / cdf
    methods: tuple = ("log_prob", "entropy", "mean", "variance")
    grad: tuple = ()                  # params that receive log_prob gradients
    icdf: np.ndarray | None = None    # probabilities for icdf
    int_params: tuple = ()            # params passed as integer dtype (none float)
    value_int: bool = False           # value is an integer (index) tensor
    dtypes: tuple = ("float32", "float64")


_LOW, _WIDTH = _randn(3), _pos(3)


def _corr_cholesky(n, batch=()):
    a = R.standard_normal(batch + (n, n + 1))
    c = a @ np.swapaxes(a, -1, -2)
    d = 1 / np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
    return np.linalg.cholesky(c * d[..., :, None] * d[..., None, :])

CASES = [
    Case("Normal", lambda D, P: D.Normal(P["loc"], P["scale"]),
         dict(loc=_randn(2, 3), scale=_pos(2, 3)), value=_randn(4, 2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "stddev", "mode", "cdf"),
         grad=("loc", "scale"), icdf=_unif(2, 3)),
    Case("Normal_broadcast", lambda D, P: D.Normal(P["loc"], P["scale"]),
         dict(loc=_randn(3), scale=_pos(2, 1)), value=_randn(2, 3),
         grad=("loc", "scale")),
    Case("Categorical_probs", lambda D, P: D.Categorical(probs=P["probs"]),
         dict(probs=_simplex(2, 4)), value=np.array([[0, 3], [2, 1], [1, 1]]), value_int=True,
         methods=("log_prob", "entropy", "mode"), grad=("probs",)),
    Case("Categorical_logits", lambda D, P: D.Categorical(logits=P["logits"]),
         dict(logits=_randn(3, 5)), value=np.array([0, 4, 2]), value_int=True,
         methods=("log_prob", "entropy", "probs", "logits", "mode"), grad=("logits",)),
    Case("Bernoulli_probs", lambda D, P: D.Bernoulli(probs=P["probs"]),
         dict(probs=_unif(2, 3)), value=(R.uniform(size=(2, 3)) > 0.5).astype(float),
         methods=("log_prob", "entropy", "mean", "variance", "logits", "mode"),
         grad=("probs",)),
    Case("Bernoulli_logits", lambda D, P: D.Bernoulli(logits=P["logits"]),
         dict(logits=_randn(4)), value=np.array([1.0, 0.0, 0.0, 1.0]),
         methods=("log_prob", "entropy", "mean", "variance", "probs"), grad=("logits",)),
    Case("Uniform", lambda D, P: D.Uniform(P["low"], P["low"] + P["width"]),
         dict(low=_LOW, width=_WIDTH), value=_LOW + _WIDTH * _unif(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "stddev", "cdf"),
         grad=("low", "width"),
         icdf=_unif(2, 3)),
    Case("OneHotCategorical", lambda D, P: D.OneHotCategorical(probs=P["probs"]),
         dict(probs=_simplex(2, 3)), value=np.eye(3)[[[0, 2], [1, 1]]],
         methods=("log_prob", "entropy", "mean", "variance", "mode"), grad=("probs",)),
    Case("MultivariateNormal_cov",
         lambda D, P: D.MultivariateNormal(P["loc"], covariance_matrix=P["cov"]),
         dict(loc=_randn(2, 3), cov=_spd(3)), value=_randn(4, 2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "scale_tril",
                  "precision_matrix"), grad=("loc", "cov")),
    Case("MultivariateNormal_tril",
         lambda D, P: D.MultivariateNormal(P["loc"], scale_tril=P["tril"]),
         dict(loc=_randn(3), tril=_tril(3, (2,))), value=_randn(2, 3),
         methods=("log_prob", "entropy", "variance", "covariance_matrix"),
         grad=("loc", "tril")),
    Case("MultivariateNormal_precision",
         lambda D, P: D.MultivariateNormal(P["loc"], precision_matrix=P["prec"]),
         dict(loc=_randn(3), prec=_spd(3)), value=_randn(5, 3),
         methods=("log_prob", "entropy", "covariance_matrix", "scale_tril"),
         grad=("loc", "prec")),
    Case("Independent", lambda D, P: D.Independent(D.Normal(P["loc"], P["scale"]), 1),
         dict(loc=_randn(2, 3), scale=_pos(2, 3)), value=_randn(2, 3),
         methods=("log_prob", "entropy", "mean", "variance"), grad=("loc", "scale")),
    Case("Beta", lambda D, P: D.Beta(P["a"], P["b"]),
         dict(a=_pos(3, low=0.6), b=_pos(3, low=0.6)), value=_unif(2, 3),
         methods=("log_prob", "entropy", "mean", "variance"), grad=("a", "b")),
    Case("Gamma", lambda D, P: D.Gamma(P["c"], P["r"]),
         dict(c=_pos(3), r=_pos(3)), value=_pos(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "mode", "cdf"),
         grad=("c", "r")),
    Case("Chi2", lambda D, P: D.Chi2(P["df"]),
         dict(df=_pos(3, low=1.0, high=4.0)), value=_pos(3),
         methods=("log_prob", "entropy", "mean", "variance"), grad=("df",)),
    Case("Dirichlet", lambda D, P: D.Dirichlet(P["c"]),
         dict(c=_pos(2, 3)), value=_simplex(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "mode"), grad=("c",)),
    Case("Exponential", lambda D, P: D.Exponential(P["rate"]),
         dict(rate=_pos(3)), value=_pos(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "cdf"), grad=("rate",),
         icdf=_unif(3)),
    Case("Laplace", lambda D, P: D.Laplace(P["loc"], P["scale"]),
         dict(loc=_randn(3), scale=_pos(3)), value=_randn(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "stddev", "cdf"),
         grad=("loc", "scale"), icdf=_unif(3)),
    Case("LogNormal", lambda D, P: D.LogNormal(P["loc"], P["scale"]),
         dict(loc=_randn(3), scale=_pos(3)), value=_pos(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "mode", "cdf"),
         grad=("loc", "scale"), icdf=_unif(3)),
    Case("Poisson", lambda D, P: D.Poisson(P["rate"]),
         dict(rate=_pos(3, high=5.0)), value=np.array([[0.0, 2.0, 5.0], [1.0, 1.0, 7.0]]),
         methods=("log_prob", "mean", "variance", "mode"), grad=("rate",)),
    Case("Binomial", lambda D, P: D.Binomial(P["n"], probs=P["p"]),
         dict(n=np.array([5.0, 5.0, 5.0]), p=_unif(3)),
         value=np.array([[0.0, 2.0, 5.0], [1.0, 3.0, 4.0]]),
         methods=("log_prob", "entropy", "mean", "variance", "mode"), grad=("p",)),
    Case("Binomial_logits", lambda D, P: D.Binomial(P["n"], logits=P["logits"]),
         dict(n=np.array([3.0, 8.0]), logits=_randn(2)), value=np.array([1.0, 6.0]),
         methods=("log_prob", "mean", "variance"), grad=("logits",)),
    Case("Multinomial", lambda D, P: D.Multinomial(4, probs=P["p"]),
         dict(p=_simplex(2, 3)), value=np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 4.0]]),
         methods=("log_prob", "entropy", "mean", "variance"), grad=("p",)),
    Case("Cauchy", lambda D, P: D.Cauchy(P["loc"], P["scale"]),
         dict(loc=_randn(3), scale=_pos(3)), value=_randn(2, 3),
         methods=("log_prob", "entropy", "mode", "cdf"), grad=("loc", "scale"),
         icdf=_unif(3)),
    Case("Gumbel", lambda D, P: D.Gumbel(P["loc"], P["scale"]),
         dict(loc=_randn(3), scale=_pos(3)), value=_randn(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "stddev", "cdf"),
         grad=("loc", "scale"), icdf=_unif(3)),
    Case("StudentT", lambda D, P: D.StudentT(P["df"], P["loc"], P["scale"]),
         dict(df=np.array([0.8, 1.5, 3.0]), loc=_randn(3), scale=_pos(3)), value=_randn(2, 3),
         methods=("log_prob", "entropy", "mean", "variance"), grad=("df", "loc", "scale")),
    Case("RelaxedBernoulli", lambda D, P: D.RelaxedBernoulli(P["t"], probs=P["p"]),
         dict(t=np.array(0.7), p=_unif(3)), value=_unif(2, 3),
         methods=("log_prob",), grad=("t", "p")),
    Case("RelaxedOneHotCategorical",
         lambda D, P: D.RelaxedOneHotCategorical(P["t"], logits=P["logits"]),
         dict(t=np.array(0.7), logits=_randn(2, 3)), value=_simplex(2, 3),
         methods=("log_prob",), grad=("t", "logits")),
    Case("LowRankMultivariateNormal",
         lambda D, P: D.LowRankMultivariateNormal(P["loc"], P["W"], P["d"]),
         dict(loc=_randn(2, 3), W=_randn(3, 2), d=_pos(3)), value=_randn(4, 2, 3),
         methods=("log_prob", "entropy", "variance", "covariance_matrix", "scale_tril",
                  "precision_matrix"), grad=("loc", "W", "d")),
    Case("MixtureSameFamily",
         lambda D, P: D.MixtureSameFamily(D.Categorical(logits=P["mix"]),
                                          D.Normal(P["loc"], P["scale"])),
         dict(mix=_randn(2, 3), loc=_randn(2, 3), scale=_pos(2, 3)), value=_randn(4, 2),
         methods=("log_prob", "mean", "variance", "cdf"), grad=("mix", "loc", "scale")),
    Case("MixtureSameFamily_mvn",
         lambda D, P: D.MixtureSameFamily(
             D.Categorical(logits=P["mix"]),
             D.Independent(D.Normal(P["loc"], P["scale"]), 1)),
         dict(mix=_randn(3), loc=_randn(3, 2), scale=_pos(3, 2)), value=_randn(4, 2),
         methods=("log_prob", "mean", "variance"), grad=("mix", "loc", "scale")),
    Case("TransformedDistribution",
         lambda D, P: D.TransformedDistribution(
             D.Normal(P["loc"], P["scale"]),
             [D.AffineTransform(P["shift"], 2.0), D.SigmoidTransform()]),
         dict(loc=_randn(3), scale=_pos(3), shift=_randn(3)), value=_unif(2, 3),
         methods=("log_prob", "cdf"), grad=("loc", "scale", "shift"), icdf=_unif(3)),
    Case("TransformedDistribution_tanh_decreasing",
         lambda D, P: D.TransformedDistribution(
             D.Normal(P["loc"], P["scale"]),
             [D.AffineTransform(0.0, -1.5), D.TanhTransform()]),
         dict(loc=_randn(3), scale=_pos(3)), value=R.uniform(-0.9, 0.9, (2, 3)),
         methods=("log_prob", "cdf"), grad=("loc", "scale"), icdf=_unif(3)),
    Case("HalfNormal", lambda D, P: D.HalfNormal(P["scale"]),
         dict(scale=_pos(3)), value=_pos(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "mode", "cdf"),
         grad=("scale",), icdf=_unif(3)),
    Case("HalfCauchy", lambda D, P: D.HalfCauchy(P["scale"]),
         dict(scale=_pos(3)), value=_pos(2, 3),
         methods=("log_prob", "entropy", "mean", "mode", "cdf"), grad=("scale",),
         icdf=_unif(3)),
    Case("Geometric", lambda D, P: D.Geometric(probs=P["p"]),
         dict(p=_unif(3)), value=np.array([[0.0, 3.0, 1.0], [5.0, 0.0, 2.0]]),
         methods=("log_prob", "entropy", "mean", "variance", "mode"), grad=("p",)),
    Case("Pareto", lambda D, P: D.Pareto(P["scale"], P["alpha"]),
         dict(scale=_pos(3, low=0.5, high=1.0), alpha=np.array([0.8, 1.5, 3.0])),
         value=_pos(2, 3, low=1.0, high=3.0),
         methods=("log_prob", "entropy", "mean", "variance", "mode", "cdf"),
         grad=("scale", "alpha"), icdf=_unif(3)),
    Case("Weibull", lambda D, P: D.Weibull(P["scale"], P["c"]),
         dict(scale=_pos(3), c=_pos(3, low=0.7, high=3.0)), value=_pos(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "mode"), grad=("scale", "c")),
    Case("NegativeBinomial", lambda D, P: D.NegativeBinomial(P["n"], logits=P["logits"]),
         dict(n=_pos(3, low=0.5, high=5.0), logits=_randn(3)),
         value=np.array([[0.0, 3.0, 1.0], [5.0, 0.0, 2.0]]),
         methods=("log_prob", "mean", "variance", "mode", "probs"), grad=("n", "logits")),
    Case("FisherSnedecor", lambda D, P: D.FisherSnedecor(P["d1"], P["d2"]),
         dict(d1=np.array([1.5, 3.0, 6.0]), d2=np.array([1.5, 4.5, 9.0])), value=_pos(2, 3),
         methods=("log_prob", "mean", "variance", "mode"), grad=("d1", "d2")),
    Case("InverseGamma", lambda D, P: D.InverseGamma(P["c"], P["r"]),
         dict(c=np.array([0.8, 1.5, 3.0]), r=_pos(3)), value=_pos(2, 3),
         methods=("log_prob", "entropy", "mean", "variance", "mode"), grad=("c", "r")),
    Case("LogisticNormal", lambda D, P: D.LogisticNormal(P["loc"], P["scale"]),
         dict(loc=_randn(2, 2), scale=_pos(2, 2)), value=_simplex(2, 3),
         methods=("log_prob",), grad=("loc", "scale")),
    Case("Kumaraswamy", lambda D, P: D.Kumaraswamy(P["a"], P["b"]),
         dict(a=_pos(3, low=0.7, high=3.0), b=_pos(3, low=0.7, high=3.0)), value=_unif(2, 3),
         methods=("log_prob", "entropy", "mean", "variance"), grad=("a", "b")),
    Case("VonMises", lambda D, P: D.VonMises(P["loc"], P["k"]),
         dict(loc=_randn(3), k=np.array([0.3, 2.0, 8.0])), value=_randn(2, 3) * 3,
         methods=("log_prob", "mean", "variance", "mode"), grad=("loc", "k")),
    Case("ContinuousBernoulli", lambda D, P: D.ContinuousBernoulli(probs=P["p"]),
         dict(p=np.array([0.1, 0.4995, 0.5003, 0.8])), value=_unif(2, 4),
         methods=("log_prob", "entropy", "mean", "variance", "stddev", "cdf"), grad=("p",),
         icdf=_unif(4)),
    Case("ContinuousBernoulli_logits", lambda D, P: D.ContinuousBernoulli(logits=P["l"]),
         dict(l=_randn(3)), value=_unif(2, 3),
         methods=("log_prob", "entropy", "mean", "variance"), grad=("l",)),
    Case("GeneralizedPareto", lambda D, P: D.GeneralizedPareto(P["loc"], P["scale"], P["k"]),
         dict(loc=np.zeros(4), scale=_pos(4), k=np.array([0.0, 0.3, -0.2, 0.7])),
         value=_pos(2, 4, low=0.1, high=1.0),
         methods=("log_prob", "entropy", "mean", "variance", "cdf", "mode"),
         grad=("scale", "k"), icdf=_unif(4),
         # torch 2.13 compares a float64 concentration with a float32 zero and fails
         dtypes=("float32",)),
    Case("LKJCholesky", lambda D, P: D.LKJCholesky(3, P["eta"]),
         dict(eta=np.array([0.5, 1.0, 2.5])), value=_corr_cholesky(3, (4, 3)),
         methods=("log_prob",), grad=("eta",)),
    Case("Wishart_cov", lambda D, P: D.Wishart(P["df"], covariance_matrix=P["cov"]),
         dict(df=np.array([3.5, 6.0]), cov=_spd(3)), value=_spd(3, (4, 2)),
         methods=("log_prob", "entropy", "mean", "variance", "mode"), grad=("df", "cov")),
    Case("Wishart_tril", lambda D, P: D.Wishart(P["df"], scale_tril=P["tril"]),
         dict(df=np.array(4.0), tril=_tril(2, (3,))), value=_spd(2, (3,)),
         methods=("log_prob", "entropy", "precision_matrix"), grad=("df", "tril")),
    Case("Wishart_precision", lambda D, P: D.Wishart(P["df"], precision_matrix=P["prec"]),
         dict(df=np.array(5.0), prec=_spd(2)), value=_spd(2, (3,)),
         methods=("log_prob", "entropy", "covariance_matrix"), grad=("df", "prec")),
]
