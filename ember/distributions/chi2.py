"""Chi-squared distribution: Gamma(df / 2, 1 / 2)."""

from __future__ import annotations

from ember._tensor import Size

from . import constraints
from .gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    """Chi-squared distribution with ``df`` degrees of freedom.

    Args:
        df: degrees of freedom, > 0.
        validate_args: see :class:`Distribution`.

    Example:
        >>> import ember
        >>> ember.distributions.Chi2(ember.tensor(3.0)).variance
        tensor(6.)
    """

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(Size(batch_shape), new)

    @property
    def df(self):
        return self.concentration * 2
