"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (thread-local)."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    # Class attributes are each thread's initial values.
    enabled = True
    inference = False
    anomaly = False
    anomaly_check_nan = True


state = _State()


def is_grad_enabled() -> bool:
    """True when ops record a graph for autograd."""
    return state.enabled


def is_inference_mode_enabled() -> bool:
    return state.inference


class _DecoratorContextManager:
    """Usable as ``with no_grad():``, ``@no_grad()`` and ``@no_grad``."""

    def __call__(self, func):
        if isinstance(func, type) or not callable(func):
            raise TypeError(f"{type(self).__name__} can only decorate functions")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper

    def _fresh(self):
        return type(self)()

    def __new__(cls, func=None, *args, **kwargs):
        self = super().__new__(cls)
        if callable(func) and not isinstance(func, bool):   # bare @no_grad
            self.__init__()
            return self(func)
        return self

    def clone(self):
        return self._fresh()


class no_grad(_DecoratorContextManager):
    """Context manager and decorator that turns off graph recording."""

    def __init__(self):
        self._prev = None

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = False

    def __exit__(self, *exc):
        state.enabled = self._prev


class enable_grad(_DecoratorContextManager):
    """Context manager and decorator that turns graph recording on (inside no_grad)."""

    def __init__(self):
        self._prev = None

    def __enter__(self):
        self._prev = state.enabled
        state.enabled = True

    def __exit__(self, *exc):
        state.enabled = self._prev


class set_grad_enabled(_DecoratorContextManager):
    """Set grad mode on or off; takes effect at once, and as a context manager restores it."""

    def __new__(cls, mode=True):
        return object.__new__(cls)

    def __init__(self, mode: bool = True):
        self._prev = state.enabled
        self.mode = bool(mode)
        state.enabled = self.mode

    def _fresh(self):
        return set_grad_enabled(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.enabled = self._prev


class inference_mode(_DecoratorContextManager):
    """Like no_grad (ember keeps no separate inference tensors); ``mode=False`` is a no-op."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            self = object.__new__(cls)
            self.__init__()
            return self(mode)
        return object.__new__(cls)

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self._prev = None

    def _fresh(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self._prev = (state.enabled, state.inference)
        if self.mode:
            state.enabled = False
            state.inference = True

    def __exit__(self, *exc):
        state.enabled, state.inference = self._prev
