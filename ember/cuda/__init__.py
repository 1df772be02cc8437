"""ember.cuda: device queries over CuPy; every query is safe without a GPU."""

from __future__ import annotations

from ..backends import cupy_backend

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "manual_seed", "manual_seed_all"]


def is_available() -> bool:
    """True when CuPy imports and reaches a CUDA driver with at least one device."""
    return cupy_backend.available()


def device_count() -> int:
    if not is_available():
        return 0
    return cupy_backend.load().cuda.runtime.getDeviceCount()


def current_device() -> int:
    return cupy_backend.current_device()


def set_device(device) -> None:
    from .._device import device as _device
    index = device if isinstance(device, int) else _device(device).index or 0
    cupy_backend.load().cuda.Device(index).use()


def synchronize(device=None) -> None:
    if is_available():
        cupy_backend.load().cuda.runtime.deviceSynchronize()


def manual_seed(seed: int) -> None:
    if is_available():
        cupy_backend.load().random.seed(int(seed) & 0xFFFFFFFF)


manual_seed_all = manual_seed
