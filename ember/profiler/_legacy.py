"""The autograd profiler (``ember.autograd.profiler``): ``profile`` and ``record_function``.

``ember.profiler.profile`` drives one of these per recording cycle; both share the hooks of
Note [Profiler hooks] in _recorder.py.
"""

from __future__ import annotations

import functools
import sys
import warnings

from . import _recorder
from ._events import EventList, events_from_session

__all__ = ["profile", "record_function"]


class profile:
    """Record every ember op run while the context is open (the older autograd API).

    Args:
        enabled: False makes the context do nothing.
        use_cuda: deprecated; same as ``use_device="cuda"``.
        use_device: ``"cuda"`` to time ops on cuda tensors with CUDA events.
        record_shapes: keep the input shapes (and dtypes) of every op.
        with_flops: estimate FLOPs of matmul, linear, convolution, add and mul (implies
            record_shapes).
        profile_memory: bytes of the results each op allocates ("CPU Mem" columns).
        with_stack: the user's Python stack for every op (innermost frame first).
        with_modules: accepted; like PyTorch in eager mode, it records nothing more.
        acc_events: keep events across several start/stop cycles.

    Differences from PyTorch: op events are named ``"aten::" + <ember op name>`` (ember's op
    names, which are not always aten's: ``aten::matmul`` where PyTorch would show
    ``aten::mm`` under it); ember sees allocations but not frees.

    Example:
        >>> import ember
        >>> with ember.autograd.profiler.profile() as prof:
        ...     y = ember.ones(3) * 2
        >>> [e.name for e in prof.function_events]
        ['aten::mul']
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        self.enabled = enabled
        if not enabled:
            return
        if experimental_config is not None:
            raise NotImplementedError("profile: experimental_config is not supported by ember")
        self.use_cuda = use_cuda
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        if use_device is not None:
            if use_device != "cuda":
                warnings.warn(f"The {use_device} is not a valid device option.", stacklevel=2)
                use_device = None
            else:
                from .. import cuda
                if not cuda.is_available():
                    warnings.warn("CUDA is not available, disabling CUDA profiling",
                                  stacklevel=2)
                    self.use_cuda = False
                    use_device = None
        self.use_device = use_device
        self.record_shapes = record_shapes or with_flops
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.entered = False
        self.trace_id = ""
        self._session = None
        self._function_events = None
        self._t0 = (0, 0)             # (perf_counter_ns, base time) of the events' time zero
        self._trace_extra: dict = {}
        if not use_cpu and use_device is None:
            raise AssertionError("No activities specified for the profiler")

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._prepare_trace()
        self._start_trace()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return False
        self._stop_trace()
        return False

    def _prepare_trace(self):
        import uuid
        self.entered = True
        self.trace_id = (self.custom_trace_id_callback() if self.custom_trace_id_callback
                         else f"{uuid.uuid4().int:032X}")
        self._session = _recorder.Session(
            record_shapes=self.record_shapes, profile_memory=self.profile_memory,
            with_stack=self.with_stack, with_flops=self.with_flops,
            use_cuda=self.use_device == "cuda")

    def _start_trace(self):
        if self._session is None:
            self._prepare_trace()
        _recorder.start_session(self._session)

    def _stop_trace(self):
        session = self._session
        if session is None:
            return
        self._session = None
        _recorder.stop_session(session)
        accumulate = self.acc_events and self._function_events is not None
        if not accumulate:
            self._t0 = (session.start_ns, session.base_time_ns)
        events = events_from_session(
            session, self.use_device, t0_ns=self._t0[0],
            first_id=len(self._function_events) + 1 if accumulate else 1)
        if accumulate:
            events = list(self._function_events) + events
        meta = {"base_time_ns": self._t0[1], "record_shapes": self.record_shapes,
                "profile_memory": self.profile_memory, "with_stack": self.with_stack,
                "with_flops": self.with_flops, "base_us": self._t0[0] / 1e3,
                "extra": self._trace_extra, "trace_id": self.trace_id,
                "device_properties": _device_properties() if self.use_device else []}
        self._trace_extra["trace_id"] = self.trace_id
        self._function_events = EventList(events, use_device=self.use_device,
                                          profile_memory=self.profile_memory,
                                          with_flops=self.with_flops, trace_meta=meta)

    # -- results -------------------------------------------------------------------------------

    def _check_finish(self):
        if self._function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    @property
    def function_events(self) -> EventList:
        self._check_finish()
        return self._function_events

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None) -> str:
        """The summary table of ``key_averages`` (see EventList.table)."""
        self._check_finish()
        return self._function_events.table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as Chrome trace JSON (see EventList.export_chrome_trace)."""
        self._check_finish()
        self._function_events.export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write stacks for flame graphs (needs ``with_stack=True``)."""
        self._check_finish()
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        self._function_events.export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False) -> EventList:
        """Events grouped by name (and input shapes, stack when asked)."""
        self._check_finish()
        return self._function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                  group_by_overload_name)

    def total_average(self):
        self._check_finish()
        return self._function_events.total_average()

    @property
    def self_cpu_time_total(self) -> float:
        """Total self CPU time of all events, in microseconds."""
        self._check_finish()
        return self._function_events.self_cpu_time_total

    def __repr__(self) -> str:
        if self._function_events is None:
            return "<unfinished ember.autograd.profile>"
        return repr(self._function_events)

    def __str__(self) -> str:
        if self._function_events is None:
            return "<unfinished ember.autograd.profile>"
        return str(self._function_events)


def _device_properties() -> list:
    from ..backends import cupy_backend
    if not cupy_backend.initialized():
        return []
    cp = cupy_backend.load()
    props = []
    for i in range(cp.cuda.runtime.getDeviceCount()):
        try:
            p = cp.cuda.runtime.getDeviceProperties(i)
        except Exception:           # trace metadata only: a failure must not lose the trace
            break
        name = p.get("name", b"")
        props.append({"id": i, "name": name.decode() if isinstance(name, bytes) else name,
                      "totalGlobalMem": p.get("totalGlobalMem"),
                      "computeMajor": p.get("major"), "computeMinor": p.get("minor"),
                      "numSms": p.get("multiProcessorCount")})
    return props


class record_function:
    """A named range that shows in the profiler's table and trace; a context manager and a
    decorator. Ranges nest: a range's total time includes the ops and ranges inside it.

    Args:
        name: the row name in the table and the event name in the trace.
        args: an optional string stored with the event (the trace's "Record function args").

    Example:
        >>> import ember
        >>> from ember.profiler import profile, record_function
        >>> with profile() as prof:
        ...     with record_function("model_inference"):
        ...         y = ember.ones(2, 2) + 1
        >>> [e.name for e in prof.events()]
        ['model_inference', 'aten::add']
    """

    def __init__(self, name: str, args: str | None = None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self._handle = None

    def __enter__(self):
        self._handle = _recorder.RangeHandle(self.name, args=self.args,
                                             frame=sys._getframe(1))
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self.run_callbacks_on_exit and self._handle is not None:
            self._handle.close()
        self._handle = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped
