"""Neural-network primitives that also live in the torch namespace: softmax, log_softmax."""

from __future__ import annotations

import warnings

from .. import _dtype as D
from .._autocast import policy as _amp
from .._dispatch import Op, apply
from .._errors import wrap_dim

__all__ = ["softmax", "log_softmax"]


class Softmax(Op):
    """exp(x - max) / sum(exp(x - max)) along dim; float16/bfloat16 computed in float32."""
    name = "softmax"
    promote = "float"
    upcast = True

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = dim
        xp = ctx.xp
        if x.ndim == 0:
            out = xp.ones_like(x)
        else:
            e = xp.exp(x - x.max(axis=dim, keepdims=True))
            out = e / e.sum(axis=dim, keepdims=True)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        gy = grad * y
        return gy - y * gy.sum(ctx.dim, keepdim=True)


class LogSoftmax(Op):
    """x - logsumexp(x) along dim, computed stably."""
    name = "log_softmax"
    promote = "float"
    upcast = True

    @staticmethod
    def forward(ctx, x, *, dim):
        ctx.dim = dim
        xp = ctx.xp
        if x.ndim == 0:
            out = xp.zeros_like(x)
        else:
            shifted = x - x.max(axis=dim, keepdims=True)
            out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad - y.exp() * grad.sum(ctx.dim, keepdim=True)


def _softmax_dim(name: str, ndim: int, dim):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      "call to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(name, dim, ndim)


def _float_input(input, dtype):
    if dtype is not None:
        return input.to(D.to_dtype(dtype))
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f'"softmax_lastdim_kernel_impl" not implemented for '
                           f"'{input.dtype.name.capitalize()}'")
    return input


def _stack_or_dtype(_stacklevel, dtype):
    # torch.softmax(x, dim, dtype) and F.softmax(x, dim, _stacklevel, dtype) share this
    # function: a third positional argument that is not an int is torch.softmax's dtype.
    if _stacklevel is not None and not isinstance(_stacklevel, int):
        return _stacklevel
    return dtype


@_amp("fp32")
def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """softmax along dim: non-negative values summing to 1.

    Accepts both ``torch.softmax(input, dim, dtype)`` and ``F.softmax(input, dim,
    _stacklevel, dtype)``; ``dim=None`` picks PyTorch's legacy implicit dim and warns.

    Example:
        >>> import ember
        >>> ember.softmax(ember.tensor([0.0, 0.0]), dim=0)
        tensor([0.5000, 0.5000])
    """
    dtype = _stack_or_dtype(_stacklevel, dtype)
    dim = _softmax_dim("softmax", input.ndim, dim)
    return apply(Softmax, _float_input(input, dtype), dim=dim)


@_amp("fp32")
def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input)) along dim, without the loss of precision of composing them."""
    dtype = _stack_or_dtype(_stacklevel, dtype)
    dim = _softmax_dim("log_softmax", input.ndim, dim)
    return apply(LogSoftmax, _float_input(input, dtype), dim=dim)


def _softmax_method(self, dim=None, dtype=None):
    return softmax(self, dim, dtype)


def _log_softmax_method(self, dim=None, dtype=None):
    return log_softmax(self, dim, dtype)


TENSOR_METHODS = {"softmax": _softmax_method, "log_softmax": _log_softmax_method}
