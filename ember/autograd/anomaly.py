"""Anomaly detection: name the forward op whose backward produced NaN."""

from __future__ import annotations

import traceback
import warnings

from .grad_mode import _DecoratorContextManager
from .grad_mode import flags as _flags

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def is_anomaly_enabled() -> bool:
    return _flags.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return _flags.anomaly_check_nan


class detect_anomaly(_DecoratorContextManager):
    """Record forward tracebacks and raise when a backward op returns NaN."""

    def __new__(cls, check_nan=True):
        return object.__new__(cls)

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._prev = None
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def _fresh(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return detect_anomaly(self.check_nan)

    def __enter__(self):
        self._prev = (_flags.anomaly, _flags.anomaly_check_nan)
        _flags.anomaly = True
        _flags.anomaly_check_nan = self.check_nan

    def __exit__(self, *exc):
        _flags.anomaly, _flags.anomaly_check_nan = self._prev


class set_detect_anomaly(_DecoratorContextManager):
    """Turn anomaly detection on or off; as a context manager, restore it afterwards."""

    def __new__(cls, mode=True, check_nan=True):
        return object.__new__(cls)

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (_flags.anomaly, _flags.anomaly_check_nan)
        self.mode = mode
        _flags.anomaly = bool(mode)
        _flags.anomaly_check_nan = check_nan

    def _fresh(self):
        return set_detect_anomaly(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _flags.anomaly, _flags.anomaly_check_nan = self._prev


def record_forward_trace(node) -> None:
    node.metadata["traceback_"] = traceback.format_stack()[:-3]


def report_forward_trace(node) -> None:
    stack = node.metadata.get("traceback_") if hasattr(node, "metadata") else None
    if stack:
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused "
                      f"the error:\n{''.join(stack)}", UserWarning, stacklevel=3)


def check_nan(node, grads) -> None:
    if not _flags.anomaly_check_nan:
        return
    for i, g in enumerate(grads):
        if g is None:
            continue
        xp = node.xp
        if g._data.dtype.kind in "fc" and bool(xp.isnan(g._data).any()):
            report_forward_trace(node)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")
