"""Process-wide settings of the torch namespace: threads, determinism, matmul precision."""

from __future__ import annotations

import builtins
import os
import warnings

from . import _dtype as D

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "get_deterministic_debug_mode", "set_deterministic_debug_mode",
           "set_float32_matmul_precision", "get_float32_matmul_precision",
           "set_default_tensor_type", "set_warn_always", "is_warn_always_enabled",
           "set_flush_denormal"]

_state = {"threads": None, "interop": 1, "deterministic": False, "warn_only": False,
          "matmul_precision": "highest", "warn_always": False}


def set_num_threads(int) -> None:  # noqa: A002  (PyTorch's parameter name)
    """Limit the threads of the BLAS library NumPy uses (through threadpoolctl when it is
    installed; without it the call warns and the BLAS keeps its own setting)."""
    n = builtins.int(int)
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn("ember.set_num_threads needs the threadpoolctl package to limit NumPy's "
                      "BLAS threads; the setting is recorded but has no effect",
                      UserWarning, stacklevel=2)
        _state["threads"] = n
        return
    _state["limiter"] = threadpool_limits(limits=n)
    _state["threads"] = n


def get_num_threads() -> int:
    """Threads used for intra-op parallelism (BLAS)."""
    if _state["threads"] is not None:
        return _state["threads"]
    try:
        from threadpoolctl import threadpool_info
        counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def set_num_interop_threads(int) -> None:  # noqa: A002
    _state["interop"] = builtins.int(int)


def get_num_interop_threads() -> int:
    return _state["interop"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the flag. ember's CPU kernels are deterministic already; on CUDA, scatter-style
    additions use atomics and may differ in the last bits between runs."""
    _state["deterministic"] = bool(mode)
    _state["warn_only"] = bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def get_deterministic_debug_mode() -> int:
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_deterministic_debug_mode(debug_mode) -> None:
    modes = {"default": 0, "warn": 1, "error": 2}
    mode = modes.get(debug_mode, debug_mode)
    if mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected one of 0, 1, 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(mode > 0, warn_only=mode == 1)


def set_float32_matmul_precision(precision: str) -> None:
    """'highest' | 'high' | 'medium'. Recorded; ember's float32 matmuls run in float32 on
    cpu (NumPy's BLAS has no reduced-precision mode)."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid value for precision: {precision}. Expected one of "
                           "'highest', 'high', 'medium'")
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["matmul_precision"]


_LEGACY_TYPES = {"torch.FloatTensor": D.float32, "torch.DoubleTensor": D.float64,
                 "torch.HalfTensor": D.float16, "torch.BFloat16Tensor": D.bfloat16}


def set_default_tensor_type(t) -> None:
    """Legacy: set the default floating dtype from a tensor type name (or dtype)."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    name = name.replace(".cuda.", ".")
    if not name.startswith("torch."):
        name = "torch." + name
    if name not in _LEGACY_TYPES:
        raise TypeError(f"invalid type: '{t}'; only floating-point tensor types are supported")
    D.set_default_dtype(_LEGACY_TYPES[name])


def set_warn_always(b: bool) -> None:
    _state["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _state["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """Flushing denormals is not supported by NumPy: returns False, as PyTorch does on CPUs
    without the feature."""
    return False
