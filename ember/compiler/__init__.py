"""``torch.compiler``'s public names: ``disable``, ``is_compiling``, ``reset`` and friends for
ember's graph compiler (ember/jit/compile.py)."""

from __future__ import annotations

import functools

__all__ = ["disable", "is_compiling", "is_dynamo_compiling", "reset", "allow_in_graph",
           "assume_constant_result"]


def is_compiling() -> bool:
    """True while ``ember.compile`` captures a call (in this thread), as torch.compiler's.

    Example:
        >>> import ember
        >>> ember.compiler.is_compiling()
        False
    """
    from ..jit.compile import is_compiling as _is
    return _is()


is_dynamo_compiling = is_compiling


def disable(fn=None, recursive: bool = True, *, reason: str | None = None):
    """Run ``fn`` eagerly, outside compilation. Called while ``ember.compile`` captures, it is
    a graph break: ember then runs that whole compiled call eagerly (with one warning; torch
    would split the graph around it). Usable as ``@disable`` or ``@disable()``.

    Args:
        fn: the function (or a compiled function or module, whose original is returned).
        recursive: accepted for torch compatibility.
        reason: a note shown in the fallback warning.

    Returns:
        The wrapped function.

    Example:
        >>> import ember
        >>> @ember.compiler.disable
        ... def log(x):
        ...     return x
        >>> log(ember.ones(1))
        tensor([1.])
    """
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    from ..jit.compile import CompiledFunction, OptimizedModule, _GraphBreak
    from ..jit.compile import is_compiling as _is
    if isinstance(fn, OptimizedModule):
        return fn._orig_mod
    if isinstance(fn, CompiledFunction):
        return fn.__wrapped__
    why = reason or f"{getattr(fn, '__qualname__', fn)} is marked ember.compiler.disable"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _is():
            raise _GraphBreak(why)
        return fn(*args, **kwargs)

    wrapper._ember_compile_disabled = True
    return wrapper


def reset() -> None:
    """Forget every compiled entry of every compiled object (they trace again on their next
    call), as ``torch.compiler.reset``."""
    from ..jit.compile import reset as _reset
    _reset()


def allow_in_graph(fn):
    """Accepted for torch compatibility: ember traces through every function already."""
    return fn


def assume_constant_result(fn):
    """Accepted for torch compatibility: a traced call's Python results are constants of the
    graph already (guards cover its tensor inputs)."""
    return fn
