"""``ember.profiler.profile``: PyTorch's profiler API (activities, schedules, trace handlers)
over the op hooks of Note [Profiler hooks] in _recorder.py."""

from __future__ import annotations

import enum
import os
import time
import warnings
from collections.abc import Callable, Iterable

from ._events import EventList
from ._legacy import profile as _autograd_profile
from ._legacy import record_function

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "schedule",
           "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """What to profile: ``CPU`` (ops, backward nodes, user ranges) and ``CUDA`` (device time
    of ops on cuda tensors, measured with CUDA events)."""

    CPU = 0
    CUDA = 3

    def __str__(self) -> str:
        return f"ProfilerActivity.{self.name}"


class ProfilerAction(enum.Enum):
    """What the profiler does at a step: the values a ``schedule`` returns."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities() -> set:
    """The activities this installation can profile: CPU, and CUDA when a GPU is usable."""
    from .. import cuda
    acts = {ProfilerActivity.CPU}
    if cuda.is_available():
        acts.add(ProfilerActivity.CUDA)
    return acts


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """A profiler schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps (the last one RECORD_AND_SAVE), ``repeat``
    times (0: until the profiler stops). ``skip_first_wait`` drops the first cycle's wait.

    Args:
        wait, warmup, active, repeat, skip_first, skip_first_wait: as above (steps).

    Returns:
        A function of the step number (from 0) to a ProfilerAction.

    Example:
        >>> from ember.profiler import schedule
        >>> fn = schedule(wait=1, warmup=1, active=2)
        >>> [fn(i).name for i in range(4)]
        ['NONE', 'WARMUP', 'RECORD', 'RECORD_AND_SAVE']
    """
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
            f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait                # the first cycle starts at its warmup
        if repeat > 0 and step >= repeat * cycle:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def _default_schedule(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False, use_python_export: bool = False):
    """An ``on_trace_ready`` handler that writes ``<worker>.<time_ns>.pt.trace.json`` (or
    ``.json.gz``) into dir_name, where TensorBoard's profiler plugin finds it.

    Args:
        dir_name: the log directory (created if missing).
        worker_name: defaults to ``<hostname>_<pid>``.
        use_gzip: write gzip-compressed JSON.
        use_python_export: accepted for PyTorch compatibility (ember always exports in Python).

    Returns:
        A function of the profiler.
    """

    def handler_fn(prof) -> None:
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            import socket
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler_fn


class profile:
    """Profile ember ops: a context manager with an optional step schedule.

    Args:
        activities: ProfilerActivity values; default: CPU, plus CUDA when available.
        schedule: a function of the step number to a ProfilerAction (see ``schedule``); by
            default every step is recorded.
        on_trace_ready: called with this profiler at the end of each recorded cycle (and at
            stop when recording), e.g. ``tensorboard_trace_handler(dir)``.
        record_shapes: keep input shapes ("Input Shapes" with ``group_by_input_shape``).
        profile_memory: bytes each op allocates ("CPU Mem", "Self CPU Mem" columns).
        with_stack: the user's Python stack per op ("Source Location" with
            ``group_by_stack_n``).
        with_flops: FLOPs of matmul, linear, convolution, add and mul ("Total FLOPs").
        with_modules: accepted; PyTorch records module hierarchy only for TorchScript, and
            ember records nothing more.
        acc_events: keep events of all cycles rather than the last one.

    Differences from PyTorch: ops are named ``"aten::" + <ember op name>``, which is not
    always aten's name (ember has one ``aten::matmul`` where PyTorch also shows
    ``aten::mm``); backward nodes are ``autograd::engine::evaluate_function: MulBackward0``
    around ``MulBackward0`` as in PyTorch. An op's time is its kernel (the Op's ``forward``):
    ember's dispatch around it (promotion, wrapping outputs, recording the graph) counts in
    the self time of the enclosing range. Device time is measured per op with CUDA events
    (no kernel names); ember sees allocations, not frees. ``with_stack`` fills
    ``FunctionEvent.stack`` (a "Source Location" column), where PyTorch 2 records
    python_function events instead. The engine's AccumulateGrad steps are not timed.

    Example:
        >>> import ember
        >>> from ember.profiler import profile, ProfilerActivity
        >>> with profile(activities=[ProfilerActivity.CPU]) as prof:
        ...     for _ in range(3):
        ...         y = ember.ones(4, 4) @ ember.ones(4, 4)
        >>> [(e.key, e.count) for e in prof.key_averages() if e.key == "aten::matmul"]
        [('aten::matmul', 3)]
    """

    def __init__(self, *, activities: Iterable[ProfilerActivity] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False,
                 with_flops: bool = False, with_modules: bool = False,
                 experimental_config=None, execution_trace_observer=None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None):
        if experimental_config is not None:
            raise NotImplementedError("profile: experimental_config is not supported by ember")
        if execution_trace_observer is not None:
            raise NotImplementedError("profile: execution_trace_observer is not supported by "
                                      "ember")
        if activities is None:
            acts = supported_activities()
        else:
            acts = set()
            for item in activities:
                # {activity: [kinds]} selects kinds of device events in PyTorch; ember has
                # one kind per activity, so only the keys count.
                acts.update(item.keys() if isinstance(item, dict) else [item])
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead",
                          FutureWarning, stacklevel=2)
            if use_cuda:
                acts.add(ProfilerActivity.CUDA)
            else:
                acts.discard(ProfilerActivity.CUDA)
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(f"profile: activities must be ProfilerActivity values, got "
                                f"{a!r}")
        if not acts:
            raise AssertionError("No valid profiler activities found")
        self.activities = acts
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.profiler: _autograd_profile | None = None
        self._metadata: dict = {}
        if schedule is not None:
            self.schedule = schedule
            self.record_steps = True        # "ProfilerStep#N" ranges in the table and trace
        else:
            self.schedule = _default_schedule
            self.record_steps = False
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.step_rec_fn: record_function | None = None
        A = ProfilerAction
        prepare, start, stop, ready = (self.prepare_trace, self.start_trace, self.stop_trace,
                                       self._trace_ready)
        # What to do when the action changes from one step to the next (PyTorch's table;
        # None as the next action: the profiler stops).
        self._transitions = {
            (A.NONE, A.WARMUP): [prepare],
            (A.NONE, A.RECORD): [prepare, start],
            (A.NONE, A.RECORD_AND_SAVE): [prepare, start],
            (A.WARMUP, A.NONE): [self._warn_schedule("WARMUP", "NONE"), start, stop],
            (A.WARMUP, A.RECORD): [start],
            (A.WARMUP, A.RECORD_AND_SAVE): [start],
            (A.RECORD, A.NONE): [self._warn_schedule("RECORD", "NONE"), stop],
            (A.RECORD, A.WARMUP): [self._warn_schedule("RECORD", "WARMUP"), stop],
            (A.RECORD_AND_SAVE, A.NONE): [stop, ready],
            (A.RECORD_AND_SAVE, A.WARMUP): [stop, ready, prepare],
            (A.RECORD_AND_SAVE, A.RECORD): [stop, ready, prepare, start],
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): [stop, ready, prepare, start],
            (A.WARMUP, None): [start, stop],
            (A.RECORD, None): [stop, ready],
            (A.RECORD_AND_SAVE, None): [stop, ready],
        }

    @staticmethod
    def _warn_schedule(prev: str, nxt: str):
        def warn():
            warnings.warn(f"Incorrect schedule: {prev} followed by {nxt}", stacklevel=4)
        return warn

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        return False

    def start(self) -> None:
        """Start profiling (what ``with`` does on entry)."""
        self._transit(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def stop(self) -> None:
        """Stop profiling (what ``with`` does on exit); hooks are removed even if the
        trace handler raises."""
        if self.record_steps and self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        try:
            self._transit(self.current_action, None)
        finally:
            if self.profiler is not None and self.profiler._session is not None:
                self.profiler._stop_trace()

    def step(self) -> None:
        """Tell the profiler that the next step (iteration) begins."""
        if self.record_steps and self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _transit(self, prev, nxt) -> None:
        for action in self._transitions.get((prev, nxt), ()):
            action()

    def prepare_trace(self) -> None:
        if self.profiler is None or not self.acc_events:
            use_cuda = ProfilerActivity.CUDA in self.activities
            if use_cuda:
                from .. import cuda
                if not cuda.is_available():
                    warnings.warn("CUDA is not available, disabling CUDA profiling",
                                  stacklevel=3)
                    use_cuda = False
            if not use_cuda and ProfilerActivity.CPU not in self.activities:
                raise AssertionError("No activities specified for the profiler")
            self.profiler = _autograd_profile(
                use_device="cuda" if use_cuda else None, record_shapes=self.record_shapes,
                with_flops=self.with_flops, profile_memory=self.profile_memory,
                with_stack=self.with_stack, with_modules=self.with_modules,
                acc_events=self.acc_events,
                custom_trace_id_callback=self.custom_trace_id_callback)
            self.profiler._trace_extra.update(self._metadata)
        self.profiler._prepare_trace()

    def start_trace(self) -> None:
        if self.profiler is None:
            raise AssertionError("profile: start_trace() before prepare_trace()")
        self.profiler._start_trace()

    def stop_trace(self) -> None:
        if self.profiler is not None:
            self.profiler._stop_trace()

    def _trace_ready(self) -> None:
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # -- results -------------------------------------------------------------------------------

    def _recorded(self) -> _autograd_profile:
        if self.profiler is None:
            raise AssertionError("profile: nothing was recorded (the schedule never reached "
                                 "RECORD)")
        return self.profiler

    def events(self) -> EventList:
        """Every recorded event (FunctionEvent) in order of start time."""
        return self._recorded().function_events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """Events grouped by name (and by input shapes / top stack frames when asked); call
        ``.table()`` on the result for PyTorch's summary table."""
        return self._recorded().key_averages(group_by_input_shape, group_by_stack_n,
                                             group_by_overload_name)

    def export_chrome_trace(self, path: str) -> None:
        """Write a Chrome trace JSON (``.gz``: compressed) that chrome://tracing and Perfetto
        open."""
        self._recorded().export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write ``frame;frame;... value`` lines for flame graphs (needs with_stack=True)."""
        self._recorded().export_stacks(path, metric)

    def add_metadata(self, key: str, value: str) -> None:
        """Add a top-level string entry to the exported trace."""
        self._metadata[key] = value
        if self.profiler is not None:
            self.profiler._trace_extra[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        """Add a top-level entry, given as JSON text, to the exported trace."""
        import json
        self.add_metadata(key, json.loads(value))

    def get_trace_id(self):
        return self.profiler.trace_id if self.profiler is not None else None
