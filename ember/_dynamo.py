"""``torch._dynamo``'s few names that user code calls: ``reset``, ``config``,
``is_compiling``, ``disable``, ``mark_dynamic`` (ember.compile is a tracer, not a bytecode
compiler: ember/jit/compile.py)."""

from __future__ import annotations

import types

from .compiler import disable, is_compiling, reset

__all__ = ["config", "disable", "is_compiling", "mark_dynamic", "reset"]


class _Config(types.SimpleNamespace):
    """``cache_size_limit`` is read by ember.compile; the rest are accepted."""

    @property
    def cache_size_limit(self) -> int:
        from .jit import compile as _c
        return _c.cache_size_limit

    @cache_size_limit.setter
    def cache_size_limit(self, value: int) -> None:
        from .jit import compile as _c
        _c.cache_size_limit = int(value)


config = _Config(suppress_errors=False, verbose=False)


def mark_dynamic(t, index, *, min=None, max=None) -> None:  # noqa: A002  (torch's names)
    """Accepted for torch compatibility; ember retraces per shape (not symbolic yet)."""
