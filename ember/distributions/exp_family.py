"""ExponentialFamily: distributions with density ``exp(<t(x), theta> - F(theta) + k(x))``."""

from __future__ import annotations

import ember

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base class of exponential-family distributions.

    Subclasses define ``_natural_params`` (the tuple theta), ``_log_normalizer(*theta)``
    (F) and ``_mean_carrier_measure`` (E[k(x)]). This gives a generic entropy and the
    Bregman-divergence KL between two members of the same family.
    """

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """Entropy from the log normaliser: ``F(theta) - <theta, grad F(theta)> - E[k(x)]``."""
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*nparams)
        gradients = ember.autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for nparam, grad in zip(nparams, gradients):
            term = nparam * grad
            result = result - term.reshape(self._batch_shape + (-1,)).sum(-1)
        return result
