"""ember.accelerator: the current accelerator (cuda through CuPy), as torch.accelerator."""

from __future__ import annotations

from ._device import device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "synchronize"]


def is_available() -> bool:
    """True when a CUDA device is reachable through CuPy."""
    from . import cuda
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """device('cuda') when one is available, else None."""
    if is_available():
        return device("cuda")
    return None


def device_count() -> int:
    from . import cuda
    return cuda.device_count()


def current_device_index() -> int:
    from . import cuda
    return cuda.current_device() if is_available() else -1


def synchronize(device=None) -> None:
    from . import cuda
    cuda.synchronize(device)
