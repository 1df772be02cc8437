"""``torch.cpu``: the host as a device (always available, one device)."""

from __future__ import annotations

from . import amp

__all__ = ["is_available", "device_count", "current_device", "synchronize", "is_initialized",
           "amp"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """Nothing to wait for: cpu ops finish before they return."""


def is_initialized() -> bool:
    return True
