"""Binomial distribution."""

from __future__ import annotations

import numpy as np

import ember
from ember._tensor import Size, Tensor

from . import constraints
from .distribution import Distribution, _expand_params
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Binomial"]


def _clamp_by_zero(x):
    # max(x, 0) whose gradient at 0 is 1/2, so log_prob's gradient is symmetric there
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


def _binomial_sample(count, prob):
    """Binomial(count, prob) draws: the backend's sampler, seeded from ember's generator.

    Like ``ember.poisson``: follows ``ember.manual_seed`` but is not torch's stream.
    """
    from ember.ops.random import _cuda_rs, _cupy, _gen, _words64

    shape = prob.shape
    n = count.detach().reshape(-1)._data  # 1-d: NumPy returns 0-d draws as Python ints
    p = prob.detach().reshape(-1)._data
    if type(p) is np.ndarray:
        seed = int(_words64(_gen(None, np), 1)[0])
        rng = np.random.Generator(np.random.PCG64(seed))
        draws = rng.binomial(n.astype(np.int64), p.astype(np.float64))
    else:
        draws = _cuda_rs(_gen(None, _cupy()), p).binomial(n.astype(np.int64),
                                                          p.astype(np.float64))
    return Tensor._make(draws.astype(p.dtype)).reshape(shape)


class Binomial(Distribution):
    """Binomial distribution: successes in ``total_count`` trials of probability ``probs``.

    Args:
        total_count: number of trials (non-negative integers, float or int tensor).
        probs: success probability (give this or ``logits``).
        logits: success log-odds.
        validate_args: see :class:`Distribution`.

    Example:
        >>> import ember
        >>> ember.distributions.Binomial(10, probs=ember.tensor(0.3)).mean
        tensor(3.)
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = _expand_params(self, Binomial, batch_shape, _instance,
                             ("total_count", "probs", "logits"))
        new._param = new.__dict__.get("probs", new.__dict__.get("logits"))
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with ember.no_grad():
            return _binomial_sample(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = ember.lgamma(self.total_count + 1)
        log_factorial_k = ember.lgamma(value + 1)
        log_factorial_nmk = ember.lgamma(self.total_count - value + 1)
        # log(1 + exp(logits)) written so that large |logits| neither overflows nor cancels
        normalize_term = (self.total_count * _clamp_by_zero(self.logits)
                          + self.total_count * ember.log1p(ember.exp(-ember.abs(self.logits)))
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def _homogeneous_count(self, what: str) -> int:
        total_count = int(self.total_count.max())
        if not bool((self.total_count == total_count).all()):
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total_count

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(ember.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True):
        """Values ``0..total_count`` along a new leading dim (needs one shared count)."""
        total_count = self._homogeneous_count("enumerate_support")
        values = ember.arange(1 + total_count, dtype=self._param.dtype,
                              device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
