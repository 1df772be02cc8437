"""``ember.autocast`` / ``ember.amp.autocast``: mixed-precision regions (see ember/_autocast.py
for the cast policies)."""

from __future__ import annotations

import functools
import warnings

from .. import _autocast
from .. import _dtype as D

__all__ = ["autocast", "is_autocast_available", "custom_fwd", "custom_bwd",
           "is_autocast_enabled", "get_autocast_dtype", "set_autocast_enabled",
           "set_autocast_dtype"]

_DEFAULT = {"cpu": D.bfloat16, "cuda": D.float16}
_SUPPORTED = {"cpu": (D.bfloat16, D.float16), "cuda": (D.float16, D.bfloat16, D.float32)}


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type`` ('cpu' and 'cuda' here)."""
    return device_type in _DEFAULT


def get_autocast_dtype(device_type: str):
    """The dtype a region on ``device_type`` uses when none is given."""
    _check_device(device_type)
    return _DEFAULT[device_type]


def set_autocast_dtype(device_type: str, dtype) -> None:
    _check_device(device_type)
    _DEFAULT[device_type] = D.to_dtype(dtype)


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """True inside an enabled region for ``device_type`` in this thread."""
    return device_type in _autocast.state.dtypes


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Low-level switch (prefer ``with autocast(...)``)."""
    _check_device(device_type)
    dtypes = dict(_autocast.state.dtypes)
    was = device_type in dtypes
    if enabled and not was:
        dtypes[device_type] = _DEFAULT[device_type]
        _autocast.active[0] += 1
    elif was and not enabled:
        del dtypes[device_type]
        _autocast.active[0] -= 1
    _autocast.state.dtypes = dtypes


def _check_device(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEFAULT:
        raise RuntimeError(f"User specified an unsupported autocast device_type "
                           f"'{device_type}'")


class autocast:
    """Run the ops of a region in lower precision where that is safe, like
    ``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``.

    Usable as a context manager and as a decorator; regions nest (an inner
    ``enabled=False`` region turns autocast off). State is per thread.

    Example:
        >>> import ember
        >>> a, w = ember.randn(2, 3), ember.randn(4, 3)
        >>> with ember.autocast("cpu"):
        ...     ember.nn.functional.linear(a, w).dtype
        torch.bfloat16
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled=None):
        _check_device(device_type)
        self.device = device_type
        self.fast_dtype = _DEFAULT[device_type] if dtype is None else D.to_dtype(dtype)
        self._enabled = bool(enabled)
        if self._enabled and device_type == "cuda":
            from .. import cuda
            if not cuda.is_available():
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", UserWarning, stacklevel=2)
                self._enabled = False
        if self._enabled and self.fast_dtype not in _SUPPORTED[device_type]:
            if device_type == "cpu":
                warnings.warn("In CPU autocast, but the target dtype is not supported. "
                              "Disabling autocast.\nCPU Autocast only supports dtypes of "
                              "torch.bfloat16, torch.float16 currently.", UserWarning,
                              stacklevel=2)
            else:
                warnings.warn("In CUDA autocast, but the target dtype is not supported. "
                              "Disabling autocast.\nCUDA Autocast only supports dtypes of "
                              "torch.float16, torch.bfloat16 and torch.float32 currently.",
                              UserWarning, stacklevel=2)
            self._enabled = False
        self._saved = []

    def __enter__(self):
        st = _autocast.state
        self._saved.append(st.dtypes)
        dtypes = dict(st.dtypes)
        if self._enabled:
            dtypes[self.device] = self.fast_dtype
        else:
            dtypes.pop(self.device, None)
        st.dtypes = dtypes
        _autocast.active[0] += len(dtypes) - len(self._saved[-1])
        return self

    def __exit__(self, *exc):
        st = _autocast.state
        before = self._saved.pop()
        _autocast.active[0] += len(before) - len(st.dtypes)
        st.dtypes = before
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return func(*args, **kwargs)
        return wrapper


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorate a custom ``Function.forward``: it runs under the caller's autocast state, or,
    with ``cast_inputs``, with its floating inputs cast to that dtype and autocast off."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    _check_device(device_type)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._fwd_used_autocast = is_autocast_enabled(device_type)
        ctx._autocast_dtype = _autocast.state.dtypes.get(device_type)
        if cast_inputs is None or not ctx._fwd_used_autocast:
            return fwd(*args, **kwargs)
        to = D.to_dtype(cast_inputs)
        with autocast(device_type, enabled=False):
            args = tuple(_autocast._cast_all(a, to, device_type) for a in args)
            kwargs = {k: _autocast._cast_all(v, to, device_type) for k, v in kwargs.items()}
            return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorate a custom ``Function.backward``: it runs with the autocast state its forward
    ran with."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    _check_device(device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        dtype = getattr(ctx, "_autocast_dtype", None)
        with autocast(device_type, dtype=dtype, enabled=bool(getattr(
                ctx, "_fwd_used_autocast", False))):
            return bwd(*args, **kwargs)
    return decorate_bwd
