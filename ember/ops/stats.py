"""Statistics: cov, corrcoef, quantile, histogram, trapezoid, gradient, renorm, dist."""

from __future__ import annotations

__all__ = []
