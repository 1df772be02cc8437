"""PyTorch's profiler (``torch.profiler``) for ember: per-op CPU time (and CUDA time on GPU),
input shapes, memory, FLOPs and stacks; summary tables, Chrome traces, TensorBoard traces.

Nothing is installed while no profiler runs: see Note [Profiler hooks] in _recorder.py.

Example:
    >>> import ember
    >>> from ember.profiler import profile, record_function, ProfilerActivity
    >>> with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    ...     with record_function("model_inference"):
    ...         y = (ember.ones(8, 16) @ ember.ones(16, 4)).relu()
    >>> "aten::matmul" in prof.key_averages().table(sort_by="cpu_time_total")
    True
"""

from __future__ import annotations

from ._events import EventList, FunctionEvent, FunctionEventAvg
from ._legacy import record_function
from .profiler import (
    ProfilerAction,
    ProfilerActivity,
    profile,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)

__all__ = ["profile", "record_function", "schedule", "ProfilerAction", "ProfilerActivity",
           "supported_activities", "tensorboard_trace_handler", "EventList", "FunctionEvent",
           "FunctionEventAvg"]
