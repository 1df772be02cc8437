"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (thread-local)."""

from __future__ import annotations

import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    # Class attributes are each thread's initial values.
    enabled = True
    inference = False
    saved_hooks = ()            # stack of (pack, unpack) from autograd.graph.saved_tensors_hooks
    hooks_disabled = None       # message of an active disable_saved_tensors_hooks
    partial_backward = False    # the running backward has inputs= (autograd.grad): a
                                # reentrant checkpoint cannot serve it


state = _State()


class _Global:
    """Process-wide switches: PyTorch's anomaly mode is global, not per thread (and a plain
    attribute is much cheaper to read on every recorded op than a thread-local one)."""

    __slots__ = ("anomaly", "anomaly_check_nan", "saved_hooks")

    def __init__(self):
        self.anomaly = False
        self.anomaly_check_nan = True
        self.saved_hooks = 0    # saved_tensors_hooks regions open in any thread


flags = _Global()


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
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(self._fresh, func)

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


def _wrap_generator(make_ctx, func):
    """A generator function whose body runs under the mode at every resume (the caller's mode
    is back in force between items), as PyTorch does for decorated generators."""

    @functools.wraps(func)
    def generator(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with make_ctx():
                item = next(gen)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    with make_ctx():
                        gen.close()
                    raise
                except BaseException as exc:
                    with make_ctx():
                        item = gen.throw(exc)
                else:
                    with make_ctx():
                        item = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return generator


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

    def __call__(self, func):
        # Used as a decorator: the mode applies inside the function only.
        state.enabled = self._prev
        return super().__call__(func)

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
