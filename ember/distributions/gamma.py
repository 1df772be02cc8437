"""Gamma distribution, and the standard-gamma sampler Beta, Dirichlet and StudentT share."""

from __future__ import annotations

from numbers import Number

import ember
from ember._dispatch import Op, apply
from ember._tensor import Size

from . import constraints
from .distribution import _expand_params
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma"]


def _standard_gamma_grad(alpha, x):
    """d sample / d alpha of a Gamma(alpha, 1) sample ``x`` by implicit differentiation.

    A reparameterised sample satisfies ``P(alpha, x) = u`` for the regularised incomplete
    gamma P, so ``dx/dalpha = -(dP/dalpha) / pdf(x)``. dP/dalpha is a central difference in
    float64; the upper tail Q = 1 - P is differenced where x > alpha to keep precision.
    """
    a = alpha.double()
    x = x.double().clamp(min=ember.finfo(ember.float64).tiny)
    h = 1e-5 * a
    # each element evaluates only the tail it needs (igamma costs microseconds an element)
    lower = x < a
    upper = ~lower
    dP = ember.empty_like(a)
    al, xl, hl = a[lower], x[lower], h[lower]
    dP[lower] = (ember.igamma(al + hl, xl) - ember.igamma(al - hl, xl)) / (2 * hl)
    au, xu, hu = a[upper], x[upper], h[upper]
    dP[upper] = -(ember.igammac(au + hu, xu) - ember.igammac(au - hu, xu)) / (2 * hu)
    log_pdf = (a - 1) * x.log() - x - ember.lgamma(a)
    return (-dP * ember.exp(-log_pdf)).to(alpha.dtype)


class _GammaReparam(Op):
    """Identity on the sample ``x`` whose backward routes the implicit gradient to alpha."""

    name = "_standard_gamma"

    @staticmethod
    def forward(ctx, alpha, x):
        ctx.save(alpha, x)
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        with ember.no_grad():
            dx_dalpha = _standard_gamma_grad(alpha, x)
        return grad * dx_dalpha, None


def _standard_gamma(concentration):
    """Samples Gamma(concentration, 1), reparameterised (gradients reach ``concentration``).

    Marsaglia and Tsang's (2000) squeeze method, vectorised: every round proposes for all
    elements and keeps the first accepted proposal of each (acceptance is >95% per round).
    concentration < 1 samples concentration + 1 and scales by U ** (1 / concentration).
    Draws come from ember's generator, so they follow ``ember.manual_seed``; they are not
    torch's stream (torch's sampler is a different algorithm).
    """
    with ember.no_grad():
        alpha = concentration.detach().double()
        boost = alpha < 1
        a = ember.where(boost, alpha + 1, alpha)
        d = a - 1.0 / 3.0
        c = (9.0 * d).rsqrt()
        invalid = ~(ember.isfinite(a) & (alpha > 0))
        out = ember.full(alpha.shape, float("nan"), dtype=ember.float64, device=alpha.device)
        done = invalid
        while not bool(done.all()):
            x = ember.randn(alpha.shape, dtype=ember.float64, device=alpha.device)
            u = ember.rand(alpha.shape, dtype=ember.float64, device=alpha.device)
            v = (1 + c * x) ** 3
            log_v = v.clamp(min=1e-300).log()
            accept = (v > 0) & (u.log() < 0.5 * x * x + d - d * v + d * log_v) & ~done
            out = ember.where(accept, d * v, out)
            done = done | accept
        if bool(boost.any()):
            u = ember.rand(alpha.shape, dtype=ember.float64, device=alpha.device)
            out = ember.where(boost, out * u.pow(1.0 / alpha), out)
        tiny = ember.finfo(concentration.dtype).tiny
        sample = out.clamp(min=tiny).to(concentration.dtype)
    if concentration.requires_grad and ember.is_grad_enabled():
        return apply(_GammaReparam, concentration, sample)
    return sample


class Gamma(ExponentialFamily):
    """Gamma distribution with ``concentration`` (shape) and ``rate`` (1 / scale).

    ``rsample`` is reparameterised (implicit gradients). Samples are not bit-identical to
    torch's: torch's gamma sampler is not available to ember (see :func:`_standard_gamma`).

    Args:
        concentration: shape parameter, > 0.
        rate: rate parameter, > 0.
        validate_args: see :class:`Distribution`.

    Example:
        >>> import ember
        >>> ember.distributions.Gamma(ember.tensor(2.0), ember.tensor(4.0)).mean
        tensor(0.5000)
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, Number) and isinstance(rate, Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expand_params(self, Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=ember.finfo(value.dtype).tiny)

    def log_prob(self, value):
        value = ember.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (ember.xlogy(self.concentration, self.rate)
                + ember.xlogy(self.concentration - 1, value)
                - self.rate * value - ember.lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - ember.log(self.rate) + ember.lgamma(self.concentration)
                + (1.0 - self.concentration) * ember.digamma(self.concentration))

    _mean_carrier_measure = 0

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return ember.lgamma(x + 1) + (x + 1) * ember.log(-y.reciprocal())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return ember.igamma(self.concentration, self.rate * value)
