"""Activation functions (the ``F.*`` forms): pointwise nonlinearities, PReLU, RReLU, GLU.

Each nonlinearity that is cheaper or more stable as one kernel is a primitive ``Op`` (forward
on backend arrays through ``ctx.xp``, backward in ember Tensor ops so double backward works);
the rest compose existing ops. ``inplace=True`` goes through ``apply_inplace``.
"""

from __future__ import annotations

import math

import numpy as np

from .._autocast import policy as _amp
from .._dispatch import Op, apply, apply_inplace
from .._errors import wrap_dim
from ..backends import numpy_backend
from . import elementwise as _ew
from ._names import named, named_inplace
from .elementwise import _kernel_error, _special_kernel

__all__ = [
    "relu", "relu_", "relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_", "leaky_relu",
    "leaky_relu_", "prelu", "rrelu", "rrelu_", "glu", "gelu", "silu", "mish", "hardtanh",
    "hardtanh_", "threshold", "threshold_", "softplus", "softsign", "softshrink", "hardshrink",
    "tanhshrink", "hardsigmoid", "hardswish", "sigmoid", "tanh", "logsigmoid", "softmin",
    "gumbel_softmax",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _check_float(kernel, a):
    if a.dtype.kind in "biuc":
        raise _kernel_error(kernel, a.dtype)


def _pointwise(cls_name, name, kernel, forward, derivative, doc):
    """A float-only pointwise Op: forward(xp, x, **attrs) -> array; derivative(x, grad,
    **attrs) -> Tensor grad (written in Tensor ops). Saves the input."""

    def fwd(ctx, x, **attrs):
        _check_float(kernel, x)
        ctx.attrs = attrs
        ctx.save(x)
        return forward(ctx.xp, x, **attrs).astype(x.dtype, copy=False)

    def bwd(ctx, grad):
        (x,) = ctx.saved_tensors
        return derivative(x, grad, **ctx.attrs)

    return type(cls_name, (Op,), {"name": name, "promote": "same", "upcast": True,
                                  "forward": staticmethod(fwd), "backward": staticmethod(bwd),
                                  "__doc__": doc})


# -- forward kernels (arrays) and derivatives (Tensors) ----------------------------------------

def _elu_fwd(xp, x, alpha, scale, input_scale):
    neg = (xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale)).astype(x.dtype)
    return xp.where(x > 0, x * scale, neg)


def _elu_grad(x, grad, alpha, scale, input_scale):
    neg = _ew.exp(x * input_scale) * (alpha * scale * input_scale)
    return grad * _ew.where(x > 0, scale, neg)


def _leaky_fwd(xp, x, negative_slope):
    return xp.where(x > 0, x, x * negative_slope)


def _leaky_grad(x, grad, negative_slope):
    return _ew.where(x > 0, grad, grad * negative_slope)


def _hardtanh_fwd(xp, x, min_val, max_val):
    return xp.minimum(xp.maximum(x, min_val), max_val)


def _hardtanh_grad(x, grad, min_val, max_val):
    return grad * ((x > min_val) & (x < max_val))


def _threshold_fwd(xp, x, threshold, value):
    return xp.where(x > threshold, x, xp.asarray(value, dtype=x.dtype))


def _threshold_grad(x, grad, threshold, value):
    return grad * (x > threshold)


def _softplus_fwd(xp, x, beta, threshold):
    bx = x * beta
    # log1p(exp(bx)) overflows past the threshold, where it equals bx to working precision.
    soft = xp.log1p(xp.exp(xp.minimum(bx, threshold))) / beta
    return xp.where(bx > threshold, x, soft)


def _softplus_grad(x, grad, beta, threshold):
    bx = x * beta
    return _ew.where(bx > threshold, grad, grad * _ew.sigmoid(bx))


# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, about one float32 ulp of erf's range, in a
# third of the array passes of the rational forms (GELU's cost is dominated by these passes).
_AS_P = 0.3275911
_AS_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)


def _erf_float32(x):
    a = np.abs(x)
    t = np.multiply(a, _AS_P, dtype=np.float32)
    np.add(t, 1.0, out=t)
    np.reciprocal(t, out=t)
    poly = np.full_like(x, _AS_A[0])
    for c in _AS_A[1:]:
        np.multiply(poly, t, out=poly)
        np.add(poly, c, out=poly)
    np.multiply(poly, t, out=poly)
    np.multiply(a, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    np.multiply(poly, a, out=poly)
    np.subtract(1.0, poly, out=poly)
    return np.copysign(poly, x, out=poly)


def _erf(xp, x):
    """erf on arrays: A&S 7.1.26 for float32 (GELU's accuracy needs), else the backend's."""
    if xp is not np:
        return _special_kernel("erf")(xp, x)
    if x.ndim == 0:
        return _erf(xp, x.reshape(1)).reshape(())
    if x.dtype == np.float32:
        return _erf_float32(x)
    return numpy_backend.erf(x)


# The GELU kernels below work in place on their own temporaries: on large activations the
# cost is memory traffic and fresh allocations, not arithmetic.

def _gelu_fwd(xp, x, approximate):
    if x.ndim == 0:                 # NumPy turns 0-d results into scalars, which out= refuses
        return _gelu_fwd(xp, x.reshape(1), approximate).reshape(())
    if approximate == "tanh":
        inner = x * x
        xp.multiply(inner, _GELU_C, out=inner)
        xp.add(inner, 1.0, out=inner)
        xp.multiply(inner, x, out=inner)
        xp.multiply(inner, _GELU_K, out=inner)
        out = xp.tanh(inner, out=inner)
    else:
        out = _erf(xp, x * _SQRT1_2)
    xp.add(out, 1.0, out=out)
    xp.multiply(out, x, out=out)
    return xp.multiply(out, 0.5, out=out)


def _gelu_derivative_arr(xp, x, approximate):
    if x.ndim == 0:
        return _gelu_derivative_arr(xp, x.reshape(1), approximate).reshape(())
    if approximate == "tanh":
        x2 = x * x
        t = x2 * _GELU_C
        xp.add(t, 1.0, out=t)
        xp.multiply(t, x, out=t)
        xp.multiply(t, _GELU_K, out=t)
        xp.tanh(t, out=t)                                   # t = tanh(k (x + c x^3))
        du = xp.multiply(x2, 3 * _GELU_C * _GELU_K, out=x2)
        xp.add(du, _GELU_K, out=du)                         # du = k (1 + 3 c x^2)
        sech2 = t * t
        xp.subtract(1.0, sech2, out=sech2)
        xp.multiply(sech2, du, out=sech2)
        xp.multiply(sech2, x, out=sech2)                    # x (1 - t^2) du
        xp.add(t, 1.0, out=t)
        xp.add(t, sech2, out=t)
        return xp.multiply(t, 0.5, out=t)
    cdf = _erf(xp, x * _SQRT1_2)
    xp.add(cdf, 1.0, out=cdf)
    xp.multiply(cdf, 0.5, out=cdf)
    pdf = x * x
    xp.multiply(pdf, -0.5, out=pdf)
    xp.exp(pdf, out=pdf)
    xp.multiply(pdf, x, out=pdf)
    xp.multiply(pdf, _INV_SQRT_2PI, out=pdf)
    return xp.add(cdf, pdf, out=cdf)


def _gelu_second_derivative(x, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = _ew.tanh(_GELU_K * (x + _GELU_C * x2 * x))
        du = _GELU_K * (1 + 3 * _GELU_C * x2)
        return (1 - t * t) * (du - x * t * du * du + 3 * _GELU_K * _GELU_C * x2)
    pdf = _ew.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return pdf * (2 - x * x)


class GeluBackward(Op):
    """grad * gelu'(x) as one kernel: GELU's backward. Its own backward (for double
    backward) is written in Tensor ops."""
    name = "gelu_backward"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, grad, x, *, approximate):
        ctx.approximate = approximate
        ctx.save(grad, x)
        d = _gelu_derivative_arr(ctx.xp, x, approximate)
        return ctx.xp.multiply(d, grad, out=d) if d.shape == grad.shape else d * grad

    @staticmethod
    def backward(ctx, gg):
        grad, x = ctx.saved_tensors
        g_grad = apply(GeluBackward, gg, x, approximate=ctx.approximate) \
            if ctx.needs_input_grad[0] else None
        g_x = gg * grad * _gelu_second_derivative(x, ctx.approximate) \
            if ctx.needs_input_grad[1] else None
        return g_grad, g_x


def _gelu_grad(x, grad, approximate):
    return apply(GeluBackward, grad, x, approximate=approximate)


def _sigmoid_arr(xp, x):
    return _ew._sigmoid_kernel(xp, x)


def _silu_fwd(xp, x):
    return x * _sigmoid_arr(xp, x)


def _silu_grad(x, grad):
    s = _ew.sigmoid(x)
    return grad * (s * (1 + x * (1 - s)))


def _softplus_arr(xp, x):
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _mish_fwd(xp, x):
    return x * xp.tanh(_softplus_arr(xp, x))


def _mish_grad(x, grad):
    t = _ew.tanh(softplus(x))
    return grad * (t + x * _ew.sigmoid(x) * (1 - t * t))


def _logsigmoid_fwd(xp, x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _logsigmoid_grad(x, grad):
    return grad * _ew.sigmoid(-x)


def _hardsigmoid_fwd(xp, x):
    return xp.minimum(xp.maximum(x / 6 + 0.5, 0), 1)


def _hardsigmoid_grad(x, grad):
    return grad * ((x > -3) & (x < 3)) / 6


def _hardswish_fwd(xp, x):
    return x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6


def _hardswish_grad(x, grad):
    mid = grad * (x / 3 + 0.5)
    return _ew.where(x < -3, 0.0, _ew.where(x <= 3, mid, grad))


def _softshrink_fwd(xp, x, lambd):
    return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0)).astype(x.dtype)


def _shrink_grad(x, grad, lambd):
    return grad * ((x > lambd) | (x < -lambd))


def _hardshrink_fwd(xp, x, lambd):
    return xp.where((x >= -lambd) & (x <= lambd), 0, x).astype(x.dtype)


Elu = _pointwise("Elu", "elu", "elu_cpu", _elu_fwd, _elu_grad,
                 "scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)): ELU, SELU, CELU.")
LeakyRelu = _pointwise("LeakyRelu", "leaky_relu", "leaky_relu_cpu", _leaky_fwd, _leaky_grad,
                       "x if x > 0 else negative_slope * x.")
Hardtanh = _pointwise("Hardtanh", "hardtanh", "hardtanh_cpu", _hardtanh_fwd, _hardtanh_grad,
                      "clamp(x, min_val, max_val); gradient 0 at and beyond the bounds.")
Threshold = _pointwise("Threshold", "threshold", "threshold_cpu", _threshold_fwd,
                       _threshold_grad, "x if x > threshold else value.")
Softplus = _pointwise("Softplus", "softplus", "softplus_cpu", _softplus_fwd, _softplus_grad,
                      "log(1 + exp(beta * x)) / beta; linear above threshold.")
Gelu = _pointwise("Gelu", "gelu", "GeluKernelImpl", _gelu_fwd, _gelu_grad,
                  "x * Phi(x) (exact, with erf) or its tanh approximation; fused.")
Silu = _pointwise("Silu", "silu", "silu_cpu", _silu_fwd, _silu_grad, "x * sigmoid(x).")
Mish = _pointwise("Mish", "mish", "mish_cpu", _mish_fwd, _mish_grad,
                  "x * tanh(softplus(x)).")
LogSigmoid = _pointwise("LogSigmoid", "log_sigmoid", "log_sigmoid_cpu", _logsigmoid_fwd,
                        _logsigmoid_grad, "log(sigmoid(x)), stable for large |x|.")
Hardsigmoid = _pointwise("Hardsigmoid", "hardsigmoid", "hardsigmoid_cpu", _hardsigmoid_fwd,
                         _hardsigmoid_grad, "clamp(x / 6 + 1/2, 0, 1).")
Hardswish = _pointwise("Hardswish", "hardswish", "hardswish_cpu", _hardswish_fwd,
                       _hardswish_grad, "x * hardsigmoid(x).")
Softshrink = _pointwise("Softshrink", "softshrink", "softshrink_check", _softshrink_fwd,
                        _shrink_grad, "x - lambd, x + lambd or 0 (soft thresholding).")
Hardshrink = _pointwise("Hardshrink", "hardshrink", "hardshrink_cpu", _hardshrink_fwd,
                        _shrink_grad, "x where |x| > lambd, else 0.")


def _call(op, input, inplace, names=None, **attrs):
    """op on input, in place or not; ``names`` are PyTorch's node names for the two forms
    (``elu`` is EluBackward0, ``elu_`` EluBackward1)."""
    if inplace:
        if names is not None:
            return named_inplace(op, input, names[1], **attrs)
        return apply_inplace(op, input, **attrs)
    out = apply(op, input, **attrs)
    return named(out, names[0]) if names is not None else out


_ELU_NAMES = ("EluBackward0", "EluBackward1")


# -- public functions ----------------------------------------------------------------------------

def relu(input, inplace: bool = False):
    """max(x, 0) elementwise.

    Args:
        input: any real tensor.
        inplace: write the result into ``input``.

    Returns:
        A tensor of the input's shape and dtype.

    Example:
        >>> import ember
        >>> ember.nn.functional.relu(ember.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    return _ew.relu_(input) if inplace else _ew.relu(input)


def relu_(input):
    """In-place relu."""
    return _ew.relu_(input)


def relu6(input, inplace: bool = False):
    """min(max(x, 0), 6) elementwise (hardtanh with bounds 0 and 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    """x if x > 0 else alpha * (exp(x) - 1).

    Example:
        >>> import ember
        >>> ember.nn.functional.elu(ember.tensor([1.0, 0.0]))
        tensor([1., 0.])
    """
    return _call(Elu, input, inplace, _ELU_NAMES, alpha=float(alpha), scale=1.0,
                 input_scale=1.0)


def elu_(input, alpha: float = 1.0):
    """In-place elu."""
    return elu(input, alpha, True)


def selu(input, inplace: bool = False):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return _call(Elu, input, inplace, _ELU_NAMES, alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                 input_scale=1.0)


def selu_(input):
    """In-place selu."""
    return selu(input, True)


def celu(input, alpha: float = 1.0, inplace: bool = False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _call(Elu, input, inplace, ("CeluBackward0", "CeluBackward1"), alpha=float(alpha),
                 scale=1.0, input_scale=1.0 / float(alpha))


def celu_(input, alpha: float = 1.0):
    """In-place celu."""
    return celu(input, alpha, True)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    """x if x > 0 else negative_slope * x."""
    return _call(LeakyRelu, input, inplace, ("LeakyReluBackward0", "LeakyReluBackward1"),
                 negative_slope=float(negative_slope))


def leaky_relu_(input, negative_slope: float = 0.01):
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, True)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """clamp(x, min_val, max_val)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _call(Hardtanh, input, inplace, min_val=float(min_val), max_val=float(max_val))


def hardtanh_(input, min_val: float = -1.0, max_val: float = 1.0):
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, True)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """x if x > threshold else value."""
    if input.dtype.is_complex:
        raise NotImplementedError('"threshold_cpu" not implemented for \'ComplexFloat\'')
    return _call(Threshold, input, inplace, _THRESHOLD_NAMES, threshold=threshold, value=value)


_THRESHOLD_NAMES = ("ThresholdBackward0", "ThresholdBackward1")


def threshold_(input, threshold: float, value: float):
    """In-place threshold."""
    return _call(Threshold, input, True, _THRESHOLD_NAMES, threshold=threshold, value=value)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    return apply(Softplus, input, beta=float(beta), threshold=float(threshold))


def gelu(input, approximate: str = "none"):
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula.

    Example:
        >>> import ember
        >>> ember.nn.functional.gelu(ember.tensor([0.0]))
        tensor([0.])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, "
                           f"got {approximate!r}.")
    return apply(Gelu, input, approximate=approximate)


def silu(input, inplace: bool = False):
    """x * sigmoid(x) (swish)."""
    return _call(Silu, input, inplace)


def mish(input, inplace: bool = False):
    """x * tanh(softplus(x))."""
    return _call(Mish, input, inplace)


def logsigmoid(input):
    """log(1 / (1 + exp(-x))), computed without overflow."""
    return apply(LogSigmoid, input)


def hardsigmoid(input, inplace: bool = False):
    """Piecewise-linear sigmoid: 0 below -3, 1 above 3, x / 6 + 1/2 between."""
    return _call(Hardsigmoid, input, inplace)


def hardswish(input, inplace: bool = False):
    """x * hardsigmoid(x) (MobileNetV3)."""
    return _call(Hardswish, input, inplace)


def _check_lambd(lambd):
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be in range [0, inf), but found {lambd}")


def softshrink(input, lambd: float = 0.5):
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    _check_lambd(lambd)
    return apply(Softshrink, input, lambd=float(lambd))


def hardshrink(input, lambd: float = 0.5):
    """x if |x| > lambd else 0."""
    return apply(Hardshrink, input, lambd=float(lambd))


def tanhshrink(input):
    """x - tanh(x)."""
    return input - _ew.tanh(input)


def softsign(input):
    """x / (1 + |x|)."""
    return input / (_ew.abs(input) + 1)


def sigmoid(input):
    """1 / (1 + exp(-x))."""
    return _ew.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent."""
    return _ew.tanh(input)


def glu(input, dim: int = -1):
    """Gated linear unit: a * sigmoid(b), where a and b are the halves of ``input`` on dim.

    Example:
        >>> import ember
        >>> ember.nn.functional.glu(ember.tensor([1.0, 0.0]))
        tensor([0.5000])
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim("glu", dim, input.ndim)
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a, b = input.chunk(2, d)
    return named(a * _ew.sigmoid(b), "GluBackward0")


@_amp("lower")
def prelu(input, weight):
    """x if x > 0 else weight * x, with one weight per channel (dim 1) or a single weight.

    Args:
        input: (N, C, ...) or any shape when ``weight`` has one element.
        weight: 1-D with 1 or C elements.
    """
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    n = weight.numel()
    if n != 1:
        channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim else 1)
        if input.ndim == 0 or channels != n:
            raise RuntimeError(
                f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {n} and channel size = {channels}.")
        if input.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return named(_ew.where(input > 0, input, weight * input), "PreluKernelBackward0")


def _rrelu_train(input, lower, upper):
    # PyTorch's CPU kernel draws one uniform(lower, upper) double per non-positive element,
    # in memory order; drawing that many from the same stream gives the same slopes.
    from .._dtype import float64
    from .creation import empty
    neg = input.detach() <= 0
    count = int(neg.sum().item())
    noise = _ew.where(neg, 0.0, 1.0).to(input.dtype)
    if count:
        draws = empty(count, dtype=float64, device=input.device).uniform_(lower, upper)
        draws = draws.to(input.dtype)
        noise[neg] = draws
    return noise


def rrelu(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False):
    """Randomized leaky ReLU: in training, each negative input gets a slope drawn from
    uniform(lower, upper); in eval, the slope is (lower + upper) / 2."""
    if lower > upper:
        raise RuntimeError(f"Lower bound should be less than or equal to the upper bound, got "
                           f"lower={lower} and upper={upper}")
    name = "RreluWithNoiseBackward1" if inplace else "RreluWithNoiseBackward0"
    if not training:
        if inplace:
            return named_inplace(LeakyRelu, input, name, negative_slope=(lower + upper) / 2)
        return named(leaky_relu(input, (lower + upper) / 2), name)
    _check_float("rrelu_with_noise_out_cpu", input._data)
    noise = _rrelu_train(input, float(lower), float(upper))
    if inplace:
        return named_inplace(_ew.Mul, input, name, noise)
    return named(input * noise, name)


def rrelu_(input, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False):
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, True)


def softmin(input, dim=None, _stacklevel: int = 3, dtype=None):
    """softmax(-input) along dim: small inputs get large weights.

    Example:
        >>> import ember
        >>> ember.nn.functional.softmin(ember.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    from .nn import _softmax_dim, softmax
    dim = _softmax_dim("softmin", input.ndim, dim)
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1):
    """A sample from the Gumbel-softmax distribution over ``dim``; ``hard=True`` returns a
    one-hot sample whose gradient is that of the soft sample (straight-through).

    The Gumbel noise is -log(Exponential(1)) drawn like PyTorch's (``exponential_`` on a
    tensor of the logits' shape), so the same seed gives the same sample. ``eps`` is unused,
    as in PyTorch.
    """
    from .creation import empty_like, zeros_like
    from .nn import softmax
    gumbels = -empty_like(logits).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


TENSOR_METHODS = {"hardshrink": _method(hardshrink), "prelu": _method(prelu)}
