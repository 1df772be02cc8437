"""Multinomial distribution: category counts of ``total_count`` categorical draws."""

from __future__ import annotations

import ember
from ember._tensor import Size

from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Multinomial distribution over count vectors of length K summing to ``total_count``.

    ``sample`` needs ``total_count``; ``log_prob`` works for any counts (it ignores
    ``total_count``, like torch).

    Args:
        total_count: number of trials (a Python int).
        probs: event probabilities ``(*batch, K)`` (give this or ``logits``).
        logits: event log-odds ``(*batch, K)``.
        validate_args: see :class:`Distribution`.

    Example:
        >>> import ember
        >>> d = ember.distributions.Multinomial(4, probs=ember.tensor([0.5, 0.5]))
        >>> d.log_prob(ember.tensor([2.0, 2.0])).exp()
        tensor(0.3750)
    """

    arg_constraints = {"probs": constraints.simplex,
                       "logits": constraints.independent(constraints.real, 1)}
    total_count: int

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    def sample(self, sample_shape=()):
        sample_shape = Size(sample_shape)
        samples = self._categorical.sample(Size((self.total_count,)) + sample_shape)
        # trials lead; move them last so one scatter_add counts each category
        samples = samples.permute(*range(1, samples.dim()), 0)
        counts = ember.zeros(self._extended_shape(sample_shape), dtype=samples.dtype,
                             device=samples.device)
        counts.scatter_add_(-1, samples, ember.ones_like(samples))
        return counts.type_as(self.probs)

    def entropy(self):
        # an integer n makes lgamma(n + 1) use the default float dtype, as torch does
        n = ember.tensor(self.total_count, device=self.probs.device)
        term1 = n * self._categorical.entropy() - ember.lgamma(n + 1)
        support = Binomial(self.total_count, probs=self.probs).enumerate_support(
            expand=False)[1:]
        binomial = Binomial(self.total_count, probs=self.probs, validate_args=False)
        binomial_probs = ember.exp(binomial.log_prob(support))
        weights = ember.lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum([0, -1])

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = ember.lgamma(value.sum(-1) + 1)
        log_factorial_xs = ember.lgamma(value + 1).sum(-1)
        # 0 * log(0) is 0 here: a zero count of an impossible category costs nothing
        logits = ember.where((value == 0) & (logits == -float("inf")), 0.0, logits)
        log_powers = (logits * value).sum(-1)
        return log_factorial_n - log_factorial_xs + log_powers
