"""The deprecated per-device spellings ``torch.cuda.amp`` / ``torch.cpu.amp``: they warn, as in
PyTorch, then behave as ``ember.amp.autocast(device, ...)`` / ``GradScaler(device, ...)``."""

from __future__ import annotations

import warnings

from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


def device_aliases(device: str, default_dtype, module: str):
    """(autocast, GradScaler) classes for ``ember.<device>.amp``."""

    class autocast(_autocast):
        def __init__(self, enabled: bool = True, dtype=default_dtype,
                     cache_enabled: bool = True):
            warnings.warn(f"`torch.{device}.amp.autocast(args...)` is deprecated. Please use "
                          f"`torch.amp.autocast('{device}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__(device, dtype=dtype, enabled=enabled,
                             cache_enabled=cache_enabled)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                     backoff_factor: float = 0.5, growth_interval: int = 2000,
                     enabled: bool = True):
            warnings.warn(f"`torch.{device}.amp.GradScaler(args...)` is deprecated. Please use "
                          f"`torch.amp.GradScaler('{device}', args...)` instead.",
                          FutureWarning, stacklevel=2)
            super().__init__(device, init_scale, growth_factor, backoff_factor,
                             growth_interval, enabled)

    autocast.__module__ = GradScaler.__module__ = module
    return autocast, GradScaler
