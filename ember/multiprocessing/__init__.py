"""ember.multiprocessing: the standard ``multiprocessing`` API, with tensors that move
through shared memory.

Everything from ``multiprocessing`` is re-exported (Process, Queue, Pool, get_context, ...).
Once ember is imported, a CPU tensor sent through any Queue, Pipe, Pool or as a Process
argument is moved to shared memory (in place, in the sender) and arrives as a tensor viewing
the same memory: writes on either side are seen by the other. ``spawn`` runs a function in
several processes and re-raises the first child failure in the parent.

Example:
    >>> import ember
    >>> import ember.multiprocessing as mp
    >>> t = ember.zeros(3)
    >>> q = mp.get_context("fork").SimpleQueue()
    >>> q.put(t)
    >>> t.is_shared()
    True
    >>> u = q.get()
    >>> u[0] = 5.0
    >>> t
    tensor([5., 0., 0.])
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from .reductions import (
    get_all_sharing_strategies,
    get_sharing_strategy,
    init_reductions,
    set_sharing_strategy,
)
from .spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

__all__ = list(multiprocessing.__all__) + [
    "get_all_sharing_strategies", "get_sharing_strategy", "set_sharing_strategy",
    "init_reductions", "spawn", "start_processes", "ProcessContext", "ProcessException",
    "ProcessRaisedException", "ProcessExitedException"]

init_reductions()
