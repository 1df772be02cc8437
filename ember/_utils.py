"""Small top-level helpers of the torch namespace: is_tensor, numel, ..."""

from __future__ import annotations

__all__ = ["is_tensor", "is_floating_point", "is_complex", "numel", "is_nonzero", "typename",
           "is_storage"]


def is_tensor(obj) -> bool:
    """True for ember tensors (and Parameters)."""
    from ._tensor import Tensor
    return isinstance(obj, Tensor)


def is_storage(obj) -> bool:
    return False


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def is_complex(input) -> bool:
    return input.is_complex()


def numel(input) -> int:
    return input.numel()


def is_nonzero(input) -> bool:
    """The truth value of a one-element tensor; RuntimeError otherwise."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def typename(obj) -> str:
    from ._tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(type(obj), "__module__", "") or ""
    return (module + "." if module and module != "builtins" else "") + type(obj).__qualname__
