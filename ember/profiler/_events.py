"""Profiler results: FunctionEvent (one timed range), FunctionEventAvg (events grouped by
key), EventList (a list of either, with PyTorch's table and Chrome trace export)."""

from __future__ import annotations

import math
import os

__all__ = ["Interval", "FunctionEvent", "FunctionEventAvg", "EventList"]

_COLUMN_WIDTH = 12
_SPACING = 2


class Interval:
    """A time range in microseconds."""

    __slots__ = ("start", "end")

    def __init__(self, start: float, end: float):
        self.start = start
        self.end = end

    def elapsed_us(self) -> float:
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start:.3f}, end={self.end:.3f})"


def _format_time(time_us: float) -> str:
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_in(time_us: float, unit) -> str:
    if unit == "s":
        return f"{time_us / 1e6:.3f}s"
    if unit == "ms":
        return f"{time_us / 1e3:.3f}ms"
    if unit == "us":
        return f"{time_us:.3f}us"
    return _format_time(time_us)


def _format_share(time_us: float, total_us: float) -> str:
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


def _format_memory(nbytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


class _TimeStrings:
    """``*_str`` views of the time attributes, formatted like PyTorch's table."""

    @property
    def cpu_time_str(self) -> str:
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self) -> str:
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self) -> str:
        return _format_time(self.self_cpu_time_total)

    @property
    def device_time_str(self) -> str:
        return _format_time(self.device_time)

    @property
    def device_time_total_str(self) -> str:
        return _format_time(self.device_time_total)

    @property
    def self_device_time_total_str(self) -> str:
        return _format_time(self.self_device_time_total)

    # PyTorch's older names for the device columns.
    @property
    def cuda_time(self) -> float:
        return self.device_time

    @property
    def cuda_time_total(self) -> float:
        return self.device_time_total

    @property
    def self_cuda_time_total(self) -> float:
        return self.self_device_time_total

    @property
    def cuda_memory_usage(self) -> int:
        return self.device_memory_usage

    @property
    def self_cuda_memory_usage(self) -> int:
        return self.self_device_memory_usage


class FunctionEvent(_TimeStrings):
    """One timed range: an op's forward (``aten::<name>``), a backward node
    (``autograd::engine::evaluate_function: MulBackward0`` around ``MulBackward0``) or a user
    range from ``record_function``.

    Times are microseconds from the start of the profile (``time_range``); the totals include
    children (ranges opened inside this one on the same thread), the ``self_*`` values do not.
    Memory is the bytes of the results the op allocated (ember does not see frees).
    """

    def __init__(self, id, name, thread, start_us, end_us, *, input_shapes=None,
                 input_dtypes=None, stack=None, memory=0, device_memory=0, flops=0,
                 device_time=0.0, device_start_us=None, device_index=-1, category="cpu_op",
                 use_device=None, args=None, scope=0):
        self.id = id
        self.node_id = -1
        self.name = name
        self.key = name
        self.trace_name = name
        self.overload_name = ""
        self.thread = thread
        self.fwd_thread = None
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.input_dtypes = input_dtypes if input_dtypes is not None else []
        self.stack = stack if stack is not None else []
        self.category = category
        self.is_user_annotation = category == "user_annotation"
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.count = 1
        self.cpu_children: list = []
        self.cpu_parent = None
        self.kernels: list = []
        self.use_device = use_device
        self.device_index = device_index
        self.device_type = "cpu"
        self.sequence_nr = -1
        self.scope = scope          # PyTorch's RecordScope: 0 forward, 1 backward, 7 user
        self.args = args
        self.flops = flops
        self.self_cpu_memory_usage = memory
        self.self_device_memory_usage = device_memory
        self.self_device_time_total = device_time
        self.device_start_us = device_start_us
        # Filled by _finish() once the children are known.
        self.cpu_memory_usage = memory
        self.device_memory_usage = device_memory
        self.device_time_total = device_time
        self.self_cpu_time_total = end_us - start_us

    def _finish(self):
        """Totals over the children (they are finished first: see EventList._link)."""
        child_time = 0.0
        for c in self.cpu_children:
            child_time += c.cpu_time_total
            self.cpu_memory_usage += c.cpu_memory_usage
            self.device_memory_usage += c.device_memory_usage
            self.device_time_total += c.device_time_total
        self.self_cpu_time_total = self.cpu_time_total - child_time

    def append_cpu_child(self, child: FunctionEvent) -> None:
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent: FunctionEvent) -> None:
        self.cpu_parent = parent

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count

    @property
    def device_time(self) -> float:
        return self.device_time_total / self.count

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
                f"cpu_time={self.cpu_time_str} start_us={self.time_range.start:.3f} "
                f"end_us={self.time_range.end:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_TimeStrings):
    """The sum of several FunctionEvents that share a key (name, and shapes or stack when
    grouped by them); ``cpu_time`` and ``device_time`` are averages per call."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.use_device = None
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.device_time_total = 0.0
        self.self_device_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_device_memory_usage = 0
        self.input_shapes = None
        self.overload_name = None
        self.stack = None
        self.scope = None
        self.cpu_parent = None
        self.cpu_children = None
        self.device_type = "cpu"
        self.is_user_annotation = False
        self.flops = 0

    def add(self, other) -> FunctionEventAvg:
        if self.key is None:
            self.key = other.key
            self.node_id = other.node_id
            self.is_async = other.is_async
            self.is_remote = other.is_remote
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.input_shapes = other.input_shapes
            self.overload_name = other.overload_name
            self.stack = other.stack
            self.scope = other.scope
            self.device_type = other.device_type
            self.is_user_annotation = other.is_user_annotation
            self.use_device = other.use_device
        elif other.key != self.key:
            raise AssertionError(f"FunctionEventAvg.add: keys differ ({self.key!r} and "
                                 f"{other.key!r})")
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.device_time_total += other.device_time_total
        self.self_device_time_total += other.self_device_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.device_memory_usage += other.device_memory_usage
        self.self_device_memory_usage += other.self_device_memory_usage
        self.count += other.count
        self.flops += other.flops
        return self

    def __iadd__(self, other) -> FunctionEventAvg:
        return self.add(other)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def device_time(self) -> float:
        return self.device_time_total / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} self_cuda_time={self.self_device_time_total_str} "
                f"cuda_time={self.device_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage} "
                f"cuda_memory_usage={self.device_memory_usage}>")


class EventList(list):
    """A list of FunctionEvents (or FunctionEventAvgs) with PyTorch's summaries.

    Example:
        >>> import ember
        >>> from ember.profiler import profile
        >>> with profile() as prof:
        ...     y = ember.ones(2, 3) @ ember.ones(3, 4)
        >>> [e.key for e in prof.key_averages() if e.key == "aten::matmul"]
        ['aten::matmul']
    """

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False,
                 trace_meta=None):
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops
        self._trace_meta = trace_meta or {}

    def _like(self, items) -> EventList:
        return EventList(items, use_device=self._use_device,
                         profile_memory=self._profile_memory, with_flops=self._with_flops,
                         trace_meta=self._trace_meta)

    @property
    def self_cpu_time_total(self) -> float:
        """Sum of the self CPU time of every event (the table's footer)."""
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None) -> str:
        """PyTorch's profiler table.

        Args:
            sort_by: an attribute to sort by, largest first (``"cpu_time_total"``,
                ``"self_cpu_time_total"``, ``"cuda_time_total"``, ``"cpu_memory_usage"``,
                ``"count"``, ...); None keeps the order of first appearance.
            row_limit: at most this many rows.
            header: a line printed above the table.
            top_level_events_only: only events without a parent.
            time_unit: ``"s"``, ``"ms"`` or ``"us"`` for every time; None picks per value.

        Returns:
            The table as a string.
        """
        return _build_table(self, sort_by, row_limit, max_src_column_width,
                            max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only, time_unit, self._use_device,
                            self._profile_memory, self._with_flops)

    def __str__(self) -> str:
        return self.table()

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False) -> EventList:
        """One FunctionEventAvg per key: the event name, plus the input shapes and the top
        ``group_by_stack_n`` stack frames when asked. ``ProfilerStep#N`` ranges group as
        ``ProfilerStep*``."""
        groups: dict = {}
        for evt in self:
            key = evt.key
            if key.startswith("ProfilerStep#"):
                key = "ProfilerStep*"
            gk = [key, evt.node_id]
            if group_by_input_shapes:
                gk.append(str(evt.input_shapes))
            if group_by_stack_n > 0:
                gk.append(tuple(evt.stack[:group_by_stack_n]))
            if group_by_overload_name:
                gk.append(evt.overload_name)
            gk = tuple(gk)
            avg = groups.get(gk)
            if avg is None:
                avg = groups[gk] = FunctionEventAvg()
            avg.add(_Keyed(evt, key))
        for avg in groups.values():
            # Only what was grouped by is shown: other events of the group may differ.
            avg.stack = list(avg.stack[:group_by_stack_n]) if avg.stack else []
            if not group_by_input_shapes:
                avg.input_shapes = ""
        return self._like(groups.values())

    def total_average(self) -> FunctionEventAvg:
        """Everything added into one FunctionEventAvg keyed "Total"."""
        total = FunctionEventAvg()
        total.key = "Total"
        for evt in self:
            total.add(_Keyed(evt, "Total"))
        total.key = "Total"
        return total

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """Write ``frame;frame;... value`` lines (outermost frame first, as flamegraph.pl and
        speedscope read them) for events recorded with ``with_stack=True``."""
        metric = metric.replace("cuda", "device")
        with open(path, "w") as f:
            for evt in self:
                if not evt.stack:
                    continue
                value = int(getattr(evt, metric))
                if value > 0:
                    f.write(";".join(reversed(evt.stack)) + f" {value}\n")

    def export_chrome_trace(self, path: str) -> None:
        """Write the events as Chrome trace JSON (chrome://tracing, Perfetto, TensorBoard's
        profiler plugin): ``"X"`` events with ``ts``/``dur`` in microseconds, one pid per
        process and one tid per thread; cuda ranges on ``pid`` = the device index."""
        import gzip
        import json
        data = _chrome_trace(self, path)
        text = json.dumps(data)
        tmp = f"{path}.{os.getpid()}.tmp"
        opener = gzip.open if path.endswith(".gz") else open
        with opener(tmp, "wt") as f:
            f.write(text)
        os.replace(tmp, path)


class _Keyed:
    """An event seen under another key (for grouping) without changing the event itself."""

    def __init__(self, evt, key):
        self._evt = evt
        self.key = key

    def __getattr__(self, name):
        return getattr(self._evt, name)


# -- the table -----------------------------------------------------------------------------------

def _flops_scale(min_flops):
    names = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]
    level = int(max(0.0, min(math.log10(min_flops) / 3, len(names) - 1.0)))
    return 10.0 ** (-3 * level), names[level]


def _trim_path(path, width):
    if len(path) > width:
        path = "..." + path[len(path) - width + 3:]
    return path


def _build_table(events, sort_by, row_limit, max_src_width, max_name_width, max_shapes_width,
                 header, top_level_only, time_unit, use_device, profile_memory, with_flops):
    if len(events) == 0:
        return ""
    events = list(events)
    if sort_by is not None:
        attr = sort_by.replace("cuda", "device")
        events.sort(key=lambda e: getattr(e, attr), reverse=True)
    has_device_time = any(e.self_device_time_total > 0 for e in events)
    has_device_mem = any(e.self_device_memory_usage > 0 for e in events)
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]
    device = (use_device or "cuda").upper()

    name_width = max(len(e.key) for e in events) + 4
    if max_name_width is not None:
        name_width = min(name_width, max_name_width)
    shapes_width = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_width is not None:
        shapes_width = min(shapes_width, max_shapes_width)

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if has_device_time:
        headers += [f"Self {device}", f"Self {device} %", f"{device} total",
                    f"{device} time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
        if has_device_mem:
            headers += [f"{device} Mem", f"Self {device} Mem"]
    headers.append("# of Calls")
    widths = [name_width] + [_COLUMN_WIDTH] * (len(headers) - 1)
    aligns = [">"] * len(headers)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_width)
        aligns.append(">")
    src_width = 0
    if stacks:
        src_width = max(len(entry) for s in stacks for entry in s) + 4
        if max_src_width is not None:
            src_width = min(src_width, max_src_width)
        headers.append("Source Location")
        widths.append(src_width)
        aligns.append("<")
    flops_scale = 1.0
    if with_flops:
        positive = [e.flops for e in events if e.flops > 0]
        if positive:
            flops_scale, flops_name = _flops_scale(min(positive))
            headers.append(f"Total {flops_name}")
            widths.append(_COLUMN_WIDTH)
            aligns.append(">")
        else:
            with_flops = False

    def row(values):
        return "".join(f"{str(v):{a}{w}}" + " " * _SPACING
                       for v, w, a in zip(values, widths, aligns))

    sep = "".join("-" * w + " " * _SPACING for w in widths)
    line_length = sum(widths) + _SPACING * (len(widths) - 1)
    total_self_cpu = sum(e.self_cpu_time_total for e in events)
    total_self_device = sum(e.self_device_time_total for e in events)

    out = []
    if header is not None:
        out += ["=" * line_length, header]
    if top_level_only:
        out += ["=" * line_length, "This report only display top-level ops statistics"]
    out += [sep, row(headers), sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_width is not None and len(name) >= max_name_width - 3:
            name = name[:max_name_width - 3] + "..."
        values = [name,
                  _format_share(e.self_cpu_time_total, total_self_cpu),
                  _format_time_in(e.self_cpu_time_total, time_unit),
                  _format_share(e.cpu_time_total, total_self_cpu),
                  _format_time_in(e.cpu_time_total, time_unit),
                  _format_time_in(e.cpu_time, time_unit)]
        if has_device_time:
            values += [_format_time_in(e.self_device_time_total, time_unit),
                       _format_share(e.self_device_time_total, total_self_device),
                       _format_time_in(e.device_time_total, time_unit),
                       _format_time_in(e.device_time, time_unit)]
        if profile_memory:
            values += [_format_memory(e.cpu_memory_usage),
                       _format_memory(e.self_cpu_memory_usage)]
            if has_device_mem:
                values += [_format_memory(e.device_memory_usage),
                           _format_memory(e.self_device_memory_usage)]
        values.append(e.count)
        if has_shapes:
            values.append(str(e.input_shapes)[:shapes_width])
        if stacks:
            values.append(_trim_path(e.stack[0], src_width) if e.stack else "")
        if with_flops:
            values.append(f"{e.flops * flops_scale:8.3f}" if e.flops > 0 else "--")
        out.append(row(values))
        if stacks:
            # The other frames of the stack go on lines of their own, under Source Location.
            src = headers.index("Source Location")
            for entry in (e.stack or [])[1:]:
                blank = [""] * len(headers)
                blank[src] = _trim_path(entry, src_width)
                out.append(row(blank))
            out.append(row([""] * len(headers)))
    out.append(sep)
    out.append(f"Self CPU time total: {_format_time_in(total_self_cpu, time_unit)}")
    if has_device_time:
        out.append(f"Self {device} time total: "
                   f"{_format_time_in(total_self_device, time_unit)}")
    return "\n".join(out) + "\n"


# -- the Chrome trace ----------------------------------------------------------------------------

def _chrome_trace(events, path):
    import socket
    meta = events._trace_meta
    pid = meta.get("pid", os.getpid())
    base_us = meta.get("base_us", 0.0)
    trace = []
    threads = set()
    for i, e in enumerate(events):
        if not isinstance(e, FunctionEvent):
            raise TypeError("export_chrome_trace: needs the profile's events (FunctionEvent), "
                            f"got {type(e).__name__}; call it on profile.events()")
        threads.add(e.thread)
        args = {"External id": i + 1, "Record function id": 0, "Ev Idx": i}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
            args["Input type"] = e.input_dtypes
        if e.self_cpu_memory_usage:
            args["Bytes"] = e.self_cpu_memory_usage
        if e.flops:
            args["flops"] = e.flops
        if e.stack:
            args["Call stack"] = ";".join(e.stack)
        if e.args is not None:
            args["Record function args"] = e.args
        trace.append({"ph": "X", "cat": e.category, "name": e.trace_name, "pid": pid,
                      "tid": e.thread, "ts": round(base_us + e.time_range.start, 3),
                      "dur": round(e.time_range.elapsed_us(), 3), "args": args})
        if e.device_start_us is not None:
            trace.append({"ph": "X", "cat": "kernel", "name": e.name, "pid": e.device_index,
                          "tid": 0, "ts": round(base_us + e.device_start_us, 3),
                          "dur": round(e.self_device_time_total, 3),
                          "args": {"External id": i + 1, "device": e.device_index,
                                   "stream": 0}})
    head = [{"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "ts": 0,
             "args": {"name": "python"}}]
    for tid in sorted(threads):
        head.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "ts": 0,
                     "args": {"name": f"thread {tid}"}})
    for dev in sorted({e.device_index for e in events if e.device_start_us is not None}):
        head.append({"ph": "M", "name": "process_name", "pid": dev, "tid": 0, "ts": 0,
                     "args": {"name": f"GPU {dev}"}})
    data = {"schemaVersion": 1, "deviceProperties": meta.get("device_properties", [])}
    for flag in ("with_stack", "profile_memory", "record_shapes", "with_flops"):
        if meta.get(flag):
            data[flag] = 1
    data.update({"host_name": socket.gethostname(), "displayTimeUnit": "ms",
                 "baseTimeNanoseconds": meta.get("base_time_ns", 0)})
    data.update(meta.get("extra", {}))
    data["traceEvents"] = head + trace
    data["traceName"] = path
    return data


# -- from records to events ----------------------------------------------------------------------

def events_from_session(session, use_device=None, t0_ns=None, first_id=1) -> list:
    """FunctionEvents of a stopped session's finished records, linked parent to children
    (Note [Event nesting] in _recorder.py), in order of start time."""
    records = sorted((r for r in session.records if r.end is not None and
                      r.start >= session.start_ns), key=lambda r: r.start)
    t0 = session.start_ns if t0_ns is None else t0_ns
    cuda = _resolve_cuda(session, records, t0)
    by_rec = {}
    events = []
    for i, r in enumerate(records):
        dev_time, dev_start, dev_index = cuda.get(id(r), (0.0, None, -1))
        e = FunctionEvent(first_id + i, r.name, r.tid, (r.start - t0) / 1e3, (r.end - t0) / 1e3,
                          input_shapes=r.shapes, input_dtypes=r.dtypes, stack=r.stack,
                          memory=r.mem, device_memory=r.device_mem, flops=r.flops,
                          device_time=dev_time, device_start_us=dev_start,
                          device_index=dev_index, category=r.cat, use_device=use_device,
                          args=r.args, scope=1 if r.bwd_of is not None else
                          7 if r.cat == "user_annotation" else 0)
        by_rec[id(r)] = e
        events.append(e)
    for r, e in zip(records, events):
        p = r.parent
        while p is not None and id(p) not in by_rec:
            p = p.parent
        if p is not None:
            parent = by_rec[id(p)]
            e.cpu_parent = parent
            parent.cpu_children.append(e)
    for e in reversed(events):          # children start later: they finish first
        e._finish()
    return events


def _resolve_cuda(session, records, t0):
    """{id(record): (device us, device start us from the session start, device)}; waits for
    the last cuda range of the session to finish (once, at stop)."""
    timed = [r for r in records if r.cuda is not None]
    if not timed:
        return {}
    from ..backends import cupy_backend
    cp = cupy_backend.load()
    for r in timed:
        r.cuda[2].synchronize()
    out = {}
    for r in timed:
        dev, start, stop = r.cuda
        ref = session.gpu_refs.get(dev)
        ms = cp.cuda.get_elapsed_time(start, stop)
        begin_us = None
        if ref is not None:
            begin_us = (ref[1] - t0) / 1e3 + \
                cp.cuda.get_elapsed_time(ref[0], start) * 1e3
        out[id(r)] = (ms * 1e3, begin_us, dev)
    return out
