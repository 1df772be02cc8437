"""nn modules: constant, zero, reflection, replication and circular padding (1-D to 3-D)."""

from __future__ import annotations

from ...ops import conv as _F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]


def _pad_tuple(padding, d):
    if isinstance(padding, (list, tuple)):
        if len(padding) != 2 * d:
            raise ValueError(f"padding must be an int or a {2 * d}-tuple, got {padding}")
        return tuple(padding)
    return (padding,) * (2 * d)


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]
    _dims = 1

    def __init__(self, padding, value: float) -> None:
        super().__init__()
        self.padding = _pad_tuple(padding, self._dims)
        self.value = value

    def forward(self, input):
        return _F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant: padding int or (left, right)."""
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with a constant: padding int or (left, right, top, bottom).

    Example:
        >>> import ember
        >>> ember.nn.ConstantPad2d(1, 3.5)(ember.zeros(1, 2, 2)).shape
        torch.Size([1, 4, 4])
    """
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with a constant: padding int or a 6-tuple."""
    _dims = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""
    _dims = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros: padding int or (left, right, top, bottom)."""
    _dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros."""
    _dims = 3


class _ModePadNd(Module):
    __constants__ = ["padding"]
    _dims = 1
    _mode = "reflect"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _pad_tuple(padding, self._dims)

    def forward(self, input):
        d = self._dims
        if self._mode == "circular" and input.ndim not in (d + 1, d + 2):
            raise ValueError(f"expected {d + 1}D or {d + 2}D input (got {input.ndim}D input)")
        return _F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pad the last dim with its reflection (edge not repeated)."""
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_ModePadNd):
    """Pad the last 2 dims with their reflection (edge not repeated)."""
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_ModePadNd):
    """Pad the last 3 dims with their reflection."""
    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_ModePadNd):
    """Pad the last dim by repeating the edge value."""
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_ModePadNd):
    """Pad the last 2 dims by repeating the edge values."""
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_ModePadNd):
    """Pad the last 3 dims by repeating the edge values."""
    _dims, _mode = 3, "replicate"


class CircularPad1d(_ModePadNd):
    """Pad the last dim by wrapping around."""
    _dims, _mode = 1, "circular"


class CircularPad2d(_ModePadNd):
    """Pad the last 2 dims by wrapping around."""
    _dims, _mode = 2, "circular"


class CircularPad3d(_ModePadNd):
    """Pad the last 3 dims by wrapping around."""
    _dims, _mode = 3, "circular"
