"""The machinery under both profilers: timing wrappers on every Op, per-thread nesting of
events, user ranges (``record_function``) and recording sessions.

Note [Profiler hooks]
    Eager mode pays nothing for the profiler: no check sits in ``apply`` or in the engine.
    When the first recording session starts, the ``forward``, ``forward_inplace`` and
    ``backward`` of every ``Op`` subclass (found by walking ``Op.__subclasses__()``) are
    replaced, in the class ``__dict__``, by timing wrappers; when the last session stops, the
    very objects that were there are put back. Only classes that define a method themselves
    are wrapped (subclasses inherit the wrapper), and a wrapper names its event after
    ``ctx.op``, the class ``apply`` ran. Op subclasses defined while a session is active are
    not wrapped: their calls are missed. Install and restore hold one lock; the wrappers
    themselves take none (a thread that is inside a wrapper when the hooks are removed
    finishes with the original it already holds).

Note [Event nesting]
    Every thread keeps a stack of its open records. A record's parent is the record on top of
    its thread's stack when it began; self time is total time minus the children's totals.
    Records are appended to every session active when they begin; a session that stops
    keeps only records that ended, and links each one to its nearest ancestor in the session.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types

import numpy as np

_perf_ns = time.perf_counter_ns
_ndarray = np.ndarray

_lock = threading.RLock()
_active: tuple = ()             # sessions recording now; replaced, never mutated
_flags = None                   # _Flags: the union of what the active sessions record
_originals: dict = {}           # Op subclass -> {attribute: the object its __dict__ held}
_tls = threading.local()

BACKWARD_PREFIX = "autograd::engine::evaluate_function: "

# PyTorch's names for the scalar types of its ops' inputs (the trace's "Input type").
_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
               "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
               "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
               "bool": "bool", "complex64": "c10::complex<float>",
               "complex128": "c10::complex<double>"}


class _Flags:
    """What the active sessions want recorded, combined (one attribute lookup per event)."""

    __slots__ = ("shapes", "memory", "stack", "flops", "cuda")

    def __init__(self, sessions):
        self.shapes = any(s.record_shapes for s in sessions)
        self.memory = any(s.profile_memory for s in sessions)
        self.stack = any(s.with_stack for s in sessions)
        self.flops = any(s.with_flops for s in sessions)
        self.cuda = any(s.use_cuda for s in sessions)


class Record:
    """One timed range on one thread: an op's forward, a backward node or a user range."""

    __slots__ = ("name", "cat", "start", "end", "tid", "parent", "shapes", "dtypes", "mem",
                 "device_mem", "flops", "stack", "cuda", "bwd_of", "args")

    def __init__(self, name, cat, parent, tid):
        self.name = name
        self.cat = cat
        self.parent = parent
        self.tid = tid
        self.end = None
        self.shapes = None
        self.dtypes = None
        self.mem = 0
        self.device_mem = 0
        self.flops = 0
        self.stack = None
        self.cuda = None            # (device id, start event, end event) of a cuda op
        self.bwd_of = None          # id() of the node whose backward this record times
        self.args = None            # record_function's args string


class Session:
    """The records of one recording window (a profiler between start and stop)."""

    def __init__(self, *, record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, use_cuda=False):
        self.record_shapes = record_shapes or with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.use_cuda = use_cuda
        self.records: list = []
        self.start_ns = 0
        # time.time_ns() - perf_counter_ns() at start: the trace's "baseTimeNanoseconds".
        self.base_time_ns = 0
        self.gpu_refs: dict = {}    # device id -> (cupy event, perf_counter_ns when it ran)

    def gpu_ref(self, device, cp):
        """A cuda event that ran at a known host time, to place GPU ranges on the timeline."""
        ref = self.gpu_refs.get(device)
        if ref is None:
            with _lock:
                ref = self.gpu_refs.get(device)
                if ref is None:
                    ev = cp.cuda.Event()
                    ev.record()
                    ev.synchronize()
                    ref = self.gpu_refs[device] = (ev, _perf_ns())
        return ref


def start_session(session: Session) -> None:
    """Begin recording into session; the first active session installs the hooks."""
    global _active, _flags
    with _lock:
        if session in _active:
            raise RuntimeError("profiler: this session is already recording")
        session.base_time_ns = time.time_ns() - _perf_ns()
        session.start_ns = _perf_ns()
        if not _active:
            _install()
        _flags = _Flags(_active + (session,))
        _active = _active + (session,)


def stop_session(session: Session) -> None:
    """Stop recording into session; the last active session restores the originals."""
    global _active, _flags
    with _lock:
        if session not in _active:
            return
        _active = tuple(s for s in _active if s is not session)
        _flags = _Flags(_active) if _active else None
        if not _active:
            _uninstall()


def is_active() -> bool:
    return bool(_active)


# -- hooks -------------------------------------------------------------------------------------

def _op_classes():
    from .._dispatch import Op
    seen = []
    found = set()
    todo = [Op]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                seen.append(sub)
                todo.append(sub)
    return seen


def _install():
    from .. import _dispatch
    codes = _CallerCodes
    codes.apply = _dispatch.apply.__code__
    codes.apply_inplace = _dispatch.apply_inplace.__code__
    codes.elide = _dispatch.elide.__code__
    for cls in _op_classes():
        own = cls.__dict__
        saved = {}
        for attr in ("forward", "forward_inplace", "backward"):
            obj = own.get(attr)
            if obj is None:
                continue
            if isinstance(obj, staticmethod):
                fn = obj.__func__
            elif isinstance(obj, types.FunctionType):
                fn = obj
            else:
                continue                    # classmethods and the like: leave them alone
            if attr == "backward":
                wrapper = _wrap_backward(cls, fn)
            else:
                wrapper = _wrap_forward(cls, fn, attr == "forward_inplace")
            saved[attr] = obj
            setattr(cls, attr, staticmethod(wrapper) if isinstance(obj, staticmethod)
                    else wrapper)
        if saved:
            _originals[cls] = saved
    # Custom autograd Functions run their forward outside Op: time Function.apply, named
    # after the Function subclass as PyTorch does ("Square" around Square's ops).
    from ..autograd.function import Function
    obj = Function.__dict__.get("apply")
    if isinstance(obj, classmethod):
        _originals[Function] = {"apply": obj}
        Function.apply = classmethod(_wrap_function_apply(obj.__func__))


def _wrap_function_apply(fn):
    def apply(cls, *args, **kwargs):
        sessions = _active
        flags = _flags
        if not sessions or flags is None:
            return fn(cls, *args, **kwargs)
        rec = begin(cls.__name__, "cpu_op", sessions, sys._getframe(1) if flags.stack else None)
        if flags.shapes:
            rec.shapes, rec.dtypes = _shapes_and_types(
                [getattr(a, "_data", a if isinstance(a, (int, float)) else None)
                 for a in args])
        try:
            return fn(cls, *args, **kwargs)
        finally:
            end(rec)

    apply.__wrapped__ = fn
    return apply


def _uninstall():
    for cls, saved in _originals.items():
        for attr, obj in saved.items():
            setattr(cls, attr, obj)
    _originals.clear()


class _CallerCodes:
    """Code objects of the _dispatch functions that call forward (to name in-place calls)."""

    apply = apply_inplace = elide = None


def _thread_state():
    stack = getattr(_tls, "stack", None)
    if stack is None:
        stack = _tls.stack = []
        _tls.tid = threading.get_native_id()
    return stack


def begin(name, cat, sessions, stack_frame=None):
    """Open a record on this thread and add it to sessions (see Note [Event nesting])."""
    stack = _thread_state()
    rec = Record(name, cat, stack[-1] if stack else None, _tls.tid)
    stack.append(rec)
    for s in sessions:
        s.records.append(rec)
    flags = _flags
    if flags is not None and flags.stack and stack_frame is not None:
        rec.stack = user_stack(stack_frame)
    rec.start = _perf_ns()
    return rec


def end(rec):
    rec.end = _perf_ns()
    stack = _thread_state()
    if stack and stack[-1] is rec:
        stack.pop()
    elif rec in stack:                  # an inner range left open: close the pair
        del stack[stack.index(rec):]


_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_stack(frame) -> list:
    """The Python stack above frame, innermost first, as PyTorch prints it:
    ``"file.py(12): fn"``; frames inside ember itself are left out."""
    out = []
    f = frame
    while f is not None:
        code = f.f_code
        fname = code.co_filename
        if not fname.startswith(_EMBER_DIR):
            out.append(f"{fname}({f.f_lineno}): {code.co_name}")
        f = f.f_back
    return out


def _shapes_and_types(arrays):
    shapes = []
    dtypes = []
    for a in arrays:
        shape = getattr(a, "shape", None)
        if shape is None or isinstance(a, np.generic):
            shapes.append([])
            dtypes.append("Scalar" if a is not None else "")
        else:
            shapes.append(list(shape))
            name = str(a.dtype)
            dtypes.append(_TYPE_NAMES.get(name, name))
    return shapes, dtypes


def _root(a):
    base = getattr(a, "base", None)
    while base is not None:
        a = base
        base = getattr(a, "base", None)
    return a


def _allocated(op, arrays, out):
    """Bytes of the results an op's forward allocated (views of its inputs are free)."""
    if op.is_view:
        return 0
    outs = out if type(out) in (tuple, list) else (out,)
    roots = None
    total = 0
    for o in outs:
        nbytes = getattr(o, "nbytes", None)
        if nbytes is None:
            continue
        r = _root(o)
        if roots is None:
            roots = [_root(a) for a in arrays if hasattr(a, "nbytes")]
        if any(r is x for x in roots):
            continue
        total += getattr(r, "nbytes", nbytes)
    return total


def _wrap_forward(cls, fn, inplace):
    codes = _CallerCodes

    def forward(ctx, *arrays, **attrs):
        sessions = _active
        flags = _flags
        if not sessions or flags is None:
            return fn(ctx, *arrays, **attrs)
        op = getattr(ctx, "op", None)
        if not (isinstance(op, type) and issubclass(op, cls)):
            op = cls                # an op body calling another op's forward directly
        caller = sys._getframe(1)
        if caller.f_code is codes.apply:
            caller = caller.f_back
        code = caller.f_code if caller is not None else None
        if (inplace and code is not codes.elide) or code is codes.apply_inplace:
            name = "aten::" + op.name + "_"
        else:
            name = "aten::" + op.name
        rec = begin(name, "cpu_op", sessions, caller if flags.stack else None)
        if flags.shapes:
            rec.shapes, rec.dtypes = _shapes_and_types(arrays)
        xp = getattr(ctx, "xp", np)
        timing = None
        if flags.cuda and xp is not np:
            timing = _cuda_begin(xp, sessions)
        try:
            out = fn(ctx, *arrays, **attrs)
        finally:
            if timing is not None:
                timing[2].record()
                rec.cuda = timing
            end(rec)
        if flags.memory:
            nbytes = _allocated(op, arrays, out)
            if xp is np:
                rec.mem = nbytes
            else:
                rec.device_mem = nbytes
        if flags.flops:
            count = _FLOPS.get(op.name)
            if count is not None:
                rec.flops = int(count(arrays, out, attrs))
        return out

    forward.__wrapped__ = fn
    forward.__name__ = fn.__name__
    forward.__qualname__ = fn.__qualname__
    return forward


def _cuda_begin(cp, sessions):
    device = cp.cuda.Device().id
    for s in sessions:
        if s.use_cuda:
            s.gpu_ref(device, cp)
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    start.record()
    return (device, start, stop)


def _wrap_backward(cls, fn):
    from .._dispatch import _backward_name

    def backward(ctx, *grads):
        sessions = _active
        flags = _flags
        if not sessions or flags is None:
            return fn(ctx, *grads)
        stack = _thread_state()
        if stack and stack[-1].bwd_of == id(ctx):   # a backward delegating to another's
            return fn(ctx, *grads)
        try:
            name = ctx.name()
        except Exception:
            name = _backward_name(cls)
        outer = begin(BACKWARD_PREFIX + name, "cpu_op", sessions,
                      sys._getframe(1) if flags.stack else None)
        inner = begin(name, "cpu_op", sessions)
        inner.bwd_of = outer.bwd_of = id(ctx)
        if flags.shapes:
            arrays = [getattr(g, "_data", None) for g in grads]
            inner.shapes, inner.dtypes = _shapes_and_types(arrays)
            outer.shapes, outer.dtypes = inner.shapes, inner.dtypes
        try:
            return fn(ctx, *grads)
        finally:
            end(inner)
            end(outer)

    backward.__wrapped__ = fn
    backward.__name__ = fn.__name__
    backward.__qualname__ = fn.__qualname__
    return backward


# -- FLOPs ---------------------------------------------------------------------------------------
# Multiply-adds count 2 (PyTorch's formulas); elementwise add and mul count one per element.

def _size(a):
    return int(getattr(a, "size", 1))


def _matmul_flops(arrays, out, attrs):
    a = arrays[0]
    return 2 * _size(out) * (a.shape[-1] if getattr(a, "ndim", 0) else 1)


def _conv_flops(arrays, out, attrs):
    w = arrays[1]
    return 2 * _size(out) * (_size(w) // max(w.shape[0], 1))


def _conv_transpose_flops(arrays, out, attrs):
    g, w = arrays[0], arrays[1]
    return 2 * _size(g) * (_size(w) // max(w.shape[0], 1))


def _conv_weight_flops(arrays, out, attrs):
    g = arrays[1]
    w_shape = attrs["w_shape"]
    per = 1
    for n in w_shape[1:]:
        per *= int(n)
    return 2 * _size(g) * per


def _elementwise_flops(arrays, out, attrs):
    return _size(out if not isinstance(out, (tuple, list)) else out[0])


_FLOPS = {
    "matmul": _matmul_flops,
    "linear": _matmul_flops,
    "convolution": _conv_flops,
    "conv_transpose": _conv_transpose_flops,
    "convolution_weight_grad": _conv_weight_flops,
    "add": _elementwise_flops,
    "mul": _elementwise_flops,
}


# -- user ranges ---------------------------------------------------------------------------------

class RangeHandle:
    """An open user range (``record_function``); closing it twice is harmless."""

    __slots__ = ("rec",)

    def __init__(self, name, cat="user_annotation", args=None, frame=None):
        sessions = _active
        if sessions:
            self.rec = begin(name, cat, sessions, frame)
            self.rec.args = args
        else:
            self.rec = None

    def close(self):
        rec = self.rec
        if rec is not None:
            self.rec = None
            end(rec)
