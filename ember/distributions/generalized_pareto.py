"""Generalized Pareto distribution."""

from __future__ import annotations

import math
from numbers import Number

import ember
from ember._tensor import Size

from . import constraints
from .distribution import Distribution, _expand_params
from .utils import broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    """Generalized Pareto with ``loc`` (mu), ``scale`` (sigma) and ``concentration`` (xi):
    survival ``(1 + xi z) ** (-1 / xi)`` for ``z = (x - mu) / sigma`` (``exp(-z)`` at xi=0).

    Sampled by inverting the CDF at a uniform draw (torch's stream).

    Args:
        loc: location.
        scale: scale, > 0.
        concentration: shape xi (any real; xi < 0 bounds the support above).
        validate_args: see :class:`Distribution`.

    Example:
        >>> import ember
        >>> d = ember.distributions.GeneralizedPareto(0.0, 1.0, 0.0)  # Exponential(1)
        >>> d.log_prob(ember.tensor(2.0))
        tensor(-2.)
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, Number) for v in (loc, scale, concentration)):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, GeneralizedPareto, batch_shape, _instance,
                              ("loc", "scale", "concentration"))

    def _safe_concentration(self):
        """(xi == 0 mask, xi with zeros replaced by 1): the xi = 0 branch is exponential."""
        xi = self.concentration
        is_zero = ember.isclose(xi, ember.zeros_like(xi))
        return is_zero, ember.where(is_zero, ember.ones_like(xi), xi)

    def _z(self, x):
        return (x - self.loc) / self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = ember.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        is_zero, xi = self._safe_concentration()
        power = 1 / xi + ember.ones_like(z)
        # power == 0 (xi = -1, the uniform case): the density is flat, even where z hits 1
        nonzero = ember.where(power == 0, power, power * ember.log1p(xi * z))
        return -self.scale.log() - ember.where(is_zero, z, nonzero)

    def log_survival_function(self, value):
        """log P(X > value)."""
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        is_zero, xi = self._safe_concentration()
        return ember.where(is_zero, -z, -ember.log1p(xi * z) / xi)

    def log_cdf(self, value):
        """log P(X <= value)."""
        return ember.log1p(-ember.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return ember.exp(self.log_cdf(value))

    def icdf(self, value):
        is_zero, xi = self._safe_concentration()
        log_u = ember.log1p(-value)
        nonzero = self.loc + self.scale / xi * ember.expm1(-xi * log_u)
        return ember.where(is_zero, self.loc - self.scale * log_u, nonzero)

    @property
    def mean(self):
        valid = self.concentration < 1
        xi = ember.where(valid, self.concentration, 0.5)
        return ember.where(valid, self.loc + self.scale / (1 - xi), math.nan)

    @property
    def variance(self):
        valid = self.concentration < 0.5
        xi = ember.where(valid, self.concentration, 0.25)
        result = self.scale**2 / ((1 - xi) ** 2 * (1 - 2 * xi))
        return ember.where(valid, result, math.nan)

    @property
    def mode(self):
        return self.loc

    def entropy(self):
        return ember.broadcast_to(ember.log(self.scale) + self.concentration + 1,
                                  self._batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = ember.where(self.concentration < 0, lower - self.scale / self.concentration,
                            math.inf)
        return constraints.interval(lower, upper)
