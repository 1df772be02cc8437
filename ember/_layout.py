"""``torch.layout`` and ``torch.memory_format``: named singletons, printed as PyTorch prints
them. ember tensors are always strided. ``contiguous(memory_format=channels_last)`` lays data
out channels-last; the other ops that take ``memory_format=`` accept it and keep their layout
(values are the same either way)."""

from __future__ import annotations

__all__ = ["layout", "memory_format", "strided", "sparse_coo", "sparse_csr", "sparse_csc",
           "sparse_bsr", "sparse_bsc", "jagged", "contiguous_format", "channels_last",
           "channels_last_3d", "preserve_format"]


class _Named:
    __slots__ = ("name",)
    _registry: dict

    def __init__(self, name: str):
        self.name = name
        self._registry[name] = self

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):   # singletons survive pickling
        return (type(self)._by_name, (self.name,))

    @classmethod
    def _by_name(cls, name):
        return cls._registry[name]


class layout(_Named):
    __slots__ = ()
    _registry: dict = {}


class memory_format(_Named):
    __slots__ = ()
    _registry: dict = {}


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
jagged = layout("jagged")

contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
