"""``torch.special``: the special functions under their SciPy-style names.

Most are ember's own ops under another name (``expit`` is ``sigmoid``, ``gammaln`` is
``lgamma``, ``psi`` is ``digamma``, ``gammainc`` is ``igamma``, ...); ``xlog1py``, ``entr``,
``ndtr``, ``log_ndtr`` and ``ndtri`` are composed from ops, so gradients flow. Not provided:
the Bessel, Airy and orthogonal-polynomial families, ``erfcx``, ``i0e``, ``i1``, ``i1e`` and
``zeta``.
"""

from __future__ import annotations

import math

from . import _dtype
from .nn.functional import log_softmax as _log_softmax
from .nn.functional import softmax as _softmax
from .ops import elementwise as _ew
from .ops import reduce as _reduce
from .ops.elementwise import _out

__all__ = ["digamma", "psi", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln",
           "gammainc", "gammaincc", "i0", "log1p", "log_softmax", "softmax", "logit",
           "logsumexp", "multigammaln", "polygamma", "round", "sinc", "xlogy", "xlog1py",
           "entr", "ndtr", "log_ndtr", "ndtri"]

digamma = psi = _ew.digamma
erf = _ew.erf
erfc = _ew.erfc
erfinv = _ew.erfinv
exp2 = _ew.exp2
expit = _ew.sigmoid
expm1 = _ew.expm1
gammaln = _ew.lgamma
gammainc = _ew.igamma
gammaincc = _ew.igammac
i0 = _ew.i0
log1p = _ew.log1p
logit = _ew.logit
multigammaln = _ew.mvlgamma
polygamma = _ew.polygamma
round = _ew.round  # noqa: A001  (torch.special.round)
sinc = _ew.sinc
xlogy = _ew.xlogy
logsumexp = _reduce.logsumexp


def softmax(input, dim, *, dtype=None):
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return _log_softmax(input, dim, dtype=dtype)


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input is 0 (even where log1p(other) is inf or nan... but
    nan where other is nan, as PyTorch)."""
    value = input * _ew.log1p(other)
    res = _ew.where(input == 0, _ew.where(_ew.isnan(other), value, 0.0), value)
    return _out(res, out)


def entr(input, *, out=None):
    """-x * log(x) elementwise; 0 at 0 and -inf for negative x."""
    res = _ew.where(input > 0, -input * _ew.log(input),
                    _ew.where(input == 0, 0.0, _ew.where(input < 0, -math.inf, input)))
    return _out(res, out)


def ndtr(input, *, out=None):
    """The standard normal CDF, (1 + erf(x / sqrt(2))) / 2, computed so (as PyTorch does:
    the lower tail rounds to 0 below about -8.3; log_ndtr keeps it)."""
    return _out((_ew.erf(input * math.sqrt(0.5)) + 1) * 0.5, out)


def log_ndtr(input, *, out=None):
    """log of the standard normal CDF, accurate in both tails: erfc keeps the lower tail's
    digits, log1p the upper's, and far out (below -10 in float32, where erfc underflows;
    -30 in float64) the asymptotic series -x^2/2 - log(-x) - log(2 pi)/2 + log(1 - 1/x^2 +
    3/x^4 - 15/x^6 + 105/x^8) takes over (its next term is below the dtype's precision)."""
    limit = -30.0 if input.dtype == _dtype.float64 else -10.0
    x = _ew.where(input < limit, input, limit)          # (each branch on safe values)
    inv2 = 1 / (x * x)
    series = inv2 * (-1 + inv2 * (3 + inv2 * (-15 + inv2 * 105)))
    far = x * x * -0.5 - _ew.log(-x) - 0.5 * math.log(2 * math.pi) + _ew.log1p(series)
    low = _ew.log(_ew.erfc(input * -math.sqrt(0.5)) * 0.5)
    high = _ew.log1p(_ew.erfc(input * math.sqrt(0.5)) * -0.5)
    return _out(_ew.where(input < limit, far, _ew.where(input < 0, low, high)), out)


def ndtri(input, *, out=None):
    """The inverse of ndtr: sqrt(2) * erfinv(2p - 1)."""
    return _out(_ew.erfinv(input * 2 - 1) * math.sqrt(2.0), out)
