"""PyTorch's legacy tensor types: ``torch.FloatTensor``, ``torch.LongTensor``,
``torch.cuda.FloatTensor``, ... Calling one builds a tensor of its dtype and device;
``isinstance(t, torch.LongTensor)`` checks dtype and device; ``t.type(torch.LongTensor)``
converts."""

from __future__ import annotations

from . import _dtype as D


class tensortype(type):
    """The metaclass of the legacy types (``type(torch.FloatTensor)`` in PyTorch)."""

    def __instancecheck__(cls, obj):
        from ._tensor import Tensor
        return (isinstance(obj, Tensor) and obj.dtype is cls.dtype
                and obj.is_cuda == cls.is_cuda)

    def __call__(cls, *args, device=None):
        from ._tensor import Size, Tensor
        from .ops.creation import empty, tensor
        where = "cuda" if cls.is_cuda else "cpu"
        if device is not None and str(device).split(":")[0] != where:
            raise RuntimeError(f"legacy constructor expects device type: {where} but device "
                               f"type: {str(device).split(':')[0]} was passed")
        device = device or where
        if len(args) == 1 and isinstance(args[0], Tensor):
            t = args[0]
            if t.dtype is not cls.dtype or t.is_cuda != cls.is_cuda:
                raise TypeError(f"expected {cls.__module__}.{cls.__name__} (got "
                                f"{t.type()})")
            return t.detach()
        if len(args) == 1 and not isinstance(args[0], (int, Size)):
            return tensor(args[0], dtype=cls.dtype, device=device)
        size = args[0] if len(args) == 1 and isinstance(args[0], Size) else args
        return empty(size or (0,), dtype=cls.dtype, device=device)

    def __repr__(cls) -> str:
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _make(dtype, is_cuda):
    name = D.legacy_name(dtype) + "Tensor"
    return tensortype(name, (), {"dtype": dtype, "is_cuda": is_cuda, "is_sparse": False,
                                 "__module__": "torch.cuda" if is_cuda else "torch"})


_REAL = [d for d in D.ALL_DTYPES if not d.is_complex]   # PyTorch has no complex legacy types
CPU_TYPES = {D.legacy_name(d) + "Tensor": _make(d, False) for d in _REAL}
CUDA_TYPES = {D.legacy_name(d) + "Tensor": _make(d, True) for d in _REAL}
