"""Devices: ``ember.device('cpu')``, ``'cuda'``, ``'cuda:1'``; each picks an array backend."""

from __future__ import annotations

import numpy as np

__all__ = ["device"]


class device:
    """Where a tensor lives: ``device('cpu')``, ``device('cuda', 0)`` or ``device('cuda:0')``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or int, got {type!r}")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda", "meta"):
            raise RuntimeError(
                f"Expected one of cpu, cuda, meta device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # Like PyTorch, a device never equals a string: device("cpu") == "cpu" is False
        # (compare t.device.type == "cpu", or with device("cpu")).
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        _DEFAULT_STACK.append(_DEFAULT[0])
        _DEFAULT[0] = self
        return self

    def __exit__(self, *exc):
        _DEFAULT[0] = _DEFAULT_STACK.pop()


CPU = device("cpu")
# The device factories use when no device= is given (set_default_device, `with device(...)`).
_DEFAULT: list = [None]
_DEFAULT_STACK: list = []


def get_default_device() -> device:
    """The device factory functions use when none is given (cpu unless changed)."""
    return to_device(_DEFAULT[0]) if _DEFAULT[0] is not None else CPU


def set_default_device(d) -> None:
    """Make factory functions create tensors on ``d`` by default (None resets to cpu)."""
    _DEFAULT[0] = None if d is None else device(d)


_CUDA_DEVICES: dict[int, device] = {}


def to_device(d) -> device:
    """Normalise a device argument; 'cuda' means the current CUDA device."""
    if type(d) is device:
        dev = d
    elif d is None:
        return CPU
    else:
        dev = device(d)
    if dev.type == "cuda" and dev.index is None:
        from .backends import cupy_backend
        return cuda_device(cupy_backend.current_device())
    return dev


def cuda_device(index: int) -> device:
    dev = _CUDA_DEVICES.get(index)
    if dev is None:
        dev = _CUDA_DEVICES[index] = device("cuda", index)
    return dev


def device_of(array) -> device:
    """The device an array lives on."""
    if type(array) is np.ndarray:
        return CPU
    return cuda_device(array.device.id)


def xp_of(array):
    """The array module (numpy or cupy) that owns an array."""
    if type(array) is np.ndarray:
        return np
    from .backends import cupy_backend
    return cupy_backend.cp
