"""Activation modules: thin wrappers over ember.nn.functional, repr like PyTorch's."""

from __future__ import annotations

from ...ops import activation as F_act
from ...ops import nn as F_nn
from ..parameter import Parameter
from .module import Module

__all__ = [
    "Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid", "Tanh",
    "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU", "Hardshrink",
    "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink", "PReLU", "Softsign", "Tanhshrink",
    "Softmin", "Softmax", "Softmax2d", "LogSoftmax", "MultiheadAttention",
]


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class Threshold(Module):
    """y = x if x > threshold else value.

    Args:
        threshold: the value to threshold at.
        value: the value that replaces inputs at or below the threshold.
        inplace: modify the input in place.

    Shape:
        Input: any shape. Output: the input's shape.

    Example:
        >>> import ember
        >>> ember.nn.Threshold(0.1, 20.0)(ember.tensor([0.0, 1.0]))
        tensor([20.,  1.])
    """

    __constants__ = ["threshold", "value", "inplace"]

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F_act.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace_str}"


class ReLU(Module):
    """y = max(x, 0).

    Shape:
        Input: any shape. Output: the input's shape.

    Example:
        >>> import ember
        >>> ember.nn.ReLU()(ember.tensor([-1.0, 1.0]))
        tensor([0., 1.])
    """

    __constants__ = ["inplace"]

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F_act.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class RReLU(Module):
    """Randomized leaky ReLU: negative slopes drawn from uniform(lower, upper) in training,
    (lower + upper) / 2 in eval."""

    __constants__ = ["lower", "upper", "inplace"]

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
                 inplace: bool = False) -> None:
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F_act.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"lower={self.lower}, upper={self.upper}{inplace_str}"


class Hardtanh(Module):
    """y = clamp(x, min_val, max_val). ``min_value``/``max_value`` are PyTorch's deprecated
    spellings."""

    __constants__ = ["min_val", "max_val", "inplace"]

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            import warnings
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            import warnings
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        if max_val <= min_val:
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return F_act.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace_str}"


class ReLU6(Hardtanh):
    """y = min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class _Stateless(Module):
    """An activation without arguments: forward calls ``fn``."""

    fn = None

    def forward(self, input):
        return type(self).fn(input)


class Sigmoid(_Stateless):
    """y = 1 / (1 + exp(-x))."""

    fn = staticmethod(F_act.sigmoid)


class Tanh(_Stateless):
    """y = tanh(x)."""

    fn = staticmethod(F_act.tanh)


class LogSigmoid(_Stateless):
    """y = log(sigmoid(x)), stable for large |x|."""

    fn = staticmethod(F_act.logsigmoid)


class Softsign(_Stateless):
    """y = x / (1 + |x|)."""

    fn = staticmethod(F_act.softsign)


class Tanhshrink(_Stateless):
    """y = x - tanh(x)."""

    fn = staticmethod(F_act.tanhshrink)


class _InplaceActivation(Module):
    """An activation whose only argument is ``inplace``."""

    __constants__ = ["inplace"]
    fn = None
    show_inplace = True

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace) if self.show_inplace else ""


class SiLU(_InplaceActivation):
    """y = x * sigmoid(x)."""

    fn = staticmethod(F_act.silu)


class Mish(_InplaceActivation):
    """y = x * tanh(softplus(x))."""

    fn = staticmethod(F_act.mish)


class Hardsigmoid(_InplaceActivation):
    """Piecewise-linear sigmoid: clamp(x / 6 + 1/2, 0, 1)."""

    fn = staticmethod(F_act.hardsigmoid)
    show_inplace = False        # PyTorch's repr omits it


class Hardswish(_InplaceActivation):
    """y = x * hardsigmoid(x)."""

    fn = staticmethod(F_act.hardswish)
    show_inplace = False


class SELU(_InplaceActivation):
    """Scaled ELU with the self-normalising constants."""

    fn = staticmethod(F_act.selu)


class ELU(Module):
    """y = x if x > 0 else alpha * (exp(x) - 1).

    Example:
        >>> import ember
        >>> ember.nn.ELU(alpha=0.5)
        ELU(alpha=0.5)
    """

    __constants__ = ["alpha", "inplace"]
    _fn = staticmethod(F_act.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace_str}"


class CELU(ELU):
    """y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    _fn = staticmethod(F_act.celu)


class GLU(Module):
    """Gated linear unit over ``dim``: a * sigmoid(b) for the two halves a, b.

    Shape:
        Input: (*, 2N, *). Output: (*, N, *).
    """

    __constants__ = ["dim"]

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F_act.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GELU(Module):
    """y = x * Phi(x); ``approximate='tanh'`` uses the tanh approximation.

    Example:
        >>> import ember
        >>> ember.nn.GELU(approximate="tanh")
        GELU(approximate='tanh')
    """

    __constants__ = ["approximate"]

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F_act.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class _Shrink(Module):
    __constants__ = ["lambd"]
    fn = None

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self).fn(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Hardshrink(_Shrink):
    """y = x if |x| > lambd else 0."""

    fn = staticmethod(F_act.hardshrink)


class Softshrink(_Shrink):
    """y = x - lambd, x + lambd or 0 (soft thresholding)."""

    fn = staticmethod(F_act.softshrink)


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x.

    Example:
        >>> import ember
        >>> ember.nn.LeakyReLU(0.2)
        LeakyReLU(negative_slope=0.2)
    """

    __constants__ = ["inplace", "negative_slope"]

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F_act.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace_str}"


class Softplus(Module):
    """y = log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."""

    __constants__ = ["beta", "threshold"]

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F_act.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class PReLU(Module):
    """y = x if x > 0 else a * x with a learnt slope ``a`` (one, or one per channel).

    Args:
        num_parameters: 1 or the number of channels (dim 1 of the input).
        init: initial value of every slope (a constant: no random draw, as in PyTorch).

    Shape:
        Input: (N, C, *) or any shape when num_parameters is 1.
    """

    __constants__ = ["num_parameters"]

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=None) -> None:
        from ...ops.creation import empty
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        from ...autograd.grad_mode import no_grad
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        return F_act.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _SoftmaxBase(Module):
    __constants__ = ["dim"]
    fn = None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self).fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """softmax over ``dim``: non-negative outputs summing to 1.

    Example:
        >>> import ember
        >>> ember.nn.Softmax(dim=0)(ember.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """

    fn = staticmethod(F_nn.softmax)


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) over ``dim``, computed stably."""

    fn = staticmethod(F_nn.log_softmax)


class Softmin(_SoftmaxBase):
    """softmax(-x) over ``dim``."""

    fn = staticmethod(F_act.softmin)


class Softmax2d(Module):
    """softmax over the channels of each spatial position.

    Shape:
        Input: (N, C, H, W) or (C, H, W). Output: the input's shape.
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             "instead")
        return F_nn.softmax(input, -3, _stacklevel=5)


# PyTorch's path nn.modules.activation.MultiheadAttention; the class lives in attention.py.
from .attention import MultiheadAttention  # noqa: E402,F401
