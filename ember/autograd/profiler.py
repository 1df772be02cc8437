"""The autograd profiler (``torch.autograd.profiler``): ``profile`` and ``record_function``.

The classes live in ember.profiler (one machinery for both APIs, see Note [Profiler hooks]
in ember/profiler/_recorder.py); this module is where PyTorch's older API finds them.

Example:
    >>> import ember
    >>> with ember.autograd.profiler.profile(record_shapes=True) as prof:
    ...     with ember.autograd.profiler.record_function("step"):
    ...         y = ember.ones(2, 3).sum()
    >>> [e.name for e in prof.function_events]
    ['step', 'aten::sum']
"""

from __future__ import annotations

from ..profiler._events import EventList, FunctionEvent, FunctionEventAvg, Interval
from ..profiler._legacy import profile, record_function

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "FunctionEventAvg",
           "Interval"]
