"""``torch._foreach_*``: one op applied over lists of tensors (what hand-written optimizers
use). Each is a loop over the per-tensor op, so gradients, dtypes and errors are those of the
per-tensor op. ``_foreach_x`` returns a tuple; ``_foreach_x_`` updates the tensors in place and
returns the list it was given, as PyTorch does."""

from __future__ import annotations

import builtins

from .._tensor import Tensor

_UNARY = ["abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
          "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc"]
_BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "clamp_min", "clamp_max"]
_NO_METHOD_INPLACE = {"maximum", "minimum"}   # no Tensor.maximum_: copy the result back

__all__ = ([f"_foreach_{n}" for n in _UNARY] + [f"_foreach_{n}_" for n in _UNARY]
           + [f"_foreach_{n}" for n in _BINARY] + [f"_foreach_{n}_" for n in _BINARY]
           + ["_foreach_addcmul", "_foreach_addcmul_", "_foreach_addcdiv", "_foreach_addcdiv_",
              "_foreach_lerp", "_foreach_lerp_", "_foreach_norm", "_foreach_zero_",
              "_foreach_copy_", "_foreach_clone"])


def _check_list(tensors):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("Tensor list must have at least one tensor.")
    return tensors


def _per_tensor(tensors, other, *, what="scalar"):
    """``other`` spread over ``tensors``: a scalar (or 0-d tensor) repeats; a list pairs up."""
    n = len(tensors)
    if isinstance(other, Tensor):
        if other.ndim != 0:
            raise RuntimeError(f"scalar tensor expected to be 0 dim but it has {other.ndim} "
                               f"dimensions and {other.numel()} elements.")
        return [other] * n
    if isinstance(other, (list, tuple)):
        if len(other) != n:
            if other and isinstance(other[0], Tensor):
                raise RuntimeError(f"Tensor lists must have the same number of tensors, got "
                                   f"{n} and {len(other)}")
            raise RuntimeError(f"Tensor list must have same number of elements as {what} "
                               f"list.")
        return list(other)
    return [other] * n


def _unary(name):
    def out_of_place(self):
        return tuple(getattr(t, name)() for t in _check_list(self))

    def in_place(self):
        for t in _check_list(self):
            getattr(t, name + "_")()
        return self

    return out_of_place, in_place


def _binary(name):
    def out_of_place(self, other, **kw):
        self = _check_list(self)
        return tuple(getattr(t, name)(o, **kw) for t, o in zip(self, _per_tensor(self, other)))

    def in_place(self, other, **kw):
        tensors = _check_list(self)
        for t, o in zip(tensors, _per_tensor(tensors, other)):
            if name in _NO_METHOD_INPLACE:
                t.copy_(getattr(t, name)(o))
            else:
                getattr(t, name + "_")(o, **kw)
        return self

    return out_of_place, in_place


def _pow(self, exponent):
    if isinstance(self, (builtins.int, builtins.float, builtins.complex)):   # scalar ** list
        from .elementwise import pow as _pow_fn
        return tuple(_pow_fn(self, e) for e in _check_list(exponent))
    return _binary_pow(self, exponent)


for _n in _UNARY:
    globals()[f"_foreach_{_n}"], globals()[f"_foreach_{_n}_"] = _unary(_n)
for _n in _BINARY:
    globals()[f"_foreach_{_n}"], globals()[f"_foreach_{_n}_"] = _binary(_n)
_binary_pow, _foreach_pow = _foreach_pow, _pow  # noqa: F821  (defined by the loop above)


def _values(value):
    """addcmul/addcdiv's ``value``: a scalar, a list of scalars or a 1-D tensor of them."""
    return value.tolist() if isinstance(value, Tensor) else value


def _addc(name):
    def out_of_place(self, tensor1, tensor2, value=1):
        self = _check_list(self)
        pairs = zip(self, _per_tensor(self, tensor1), _per_tensor(self, tensor2),
                    _per_tensor(self, _values(value)))
        return tuple(getattr(t, name)(a, b, value=v) for t, a, b, v in pairs)

    def in_place(self, tensor1, tensor2, value=1):
        tensors = _check_list(self)
        pairs = zip(tensors, _per_tensor(tensors, tensor1), _per_tensor(tensors, tensor2),
                    _per_tensor(tensors, _values(value)))
        for t, a, b, v in pairs:
            getattr(t, name + "_")(a, b, value=v)
        return self

    return out_of_place, in_place


_foreach_addcmul, _foreach_addcmul_ = _addc("addcmul")
_foreach_addcdiv, _foreach_addcdiv_ = _addc("addcdiv")


def _foreach_lerp(self, tensors1, weight):
    self = _check_list(self)
    return tuple(t.lerp(e, w) for t, e, w in zip(self, _per_tensor(self, tensors1),
                                                 _per_tensor(self, weight)))


def _foreach_lerp_(self, tensors1, weight):
    tensors = _check_list(self)
    for t, e, w in zip(tensors, _per_tensor(tensors, tensors1), _per_tensor(tensors, weight)):
        t.lerp_(e, w)
    return self


def _foreach_norm(self, ord=2, dtype=None):
    from ..linalg import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in _check_list(self))


def _foreach_zero_(self):
    for t in _check_list(self):
        t.zero_()
    return self


def _foreach_copy_(self, src, non_blocking=False):
    tensors = _check_list(self)
    for t, s in zip(tensors, _per_tensor(tensors, src)):
        t.copy_(s)
    return self


def _foreach_clone(self):
    return tuple(t.clone() for t in _check_list(self))
