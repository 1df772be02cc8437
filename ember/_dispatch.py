"""apply(op, ...): the one path every op takes.

It unwraps tensors, applies PyTorch's type promotion, checks devices, runs the op's
``forward`` on backend arrays, wraps the outputs, records a graph node when grad mode is
on and an input requires grad, and tells any observer (tracer, profiler). In-place ops
take ``apply_inplace``, which reuses the same pieces.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import _dtype as D
from ._device import device_of
from ._errors import fmt_shape
from .autograd.grad_mode import flags as _anomaly_flags
from .autograd.grad_mode import state as _grad_state

__all__ = ["Op", "Node", "apply", "apply_inplace", "observers"]

_ndarray = np.ndarray
_new = object.__new__
_Tensor = None                  # bound by _tensor.py once Tensor exists
_TENSOR_TYPES = set()           # Tensor and its subclasses (Parameter adds itself)
_HALF = (np.dtype(np.float16), D.bfloat16.np)
_F32 = np.dtype(np.float32)
_BF16 = D.bfloat16.np
_F64 = np.dtype(np.float64)
_KEEPS_DTYPE = (None, "compare")     # promote values whose output is not cast

# PyTorch computes inf/nan silently; NumPy warns. Silence NumPy's floating-point warnings
# raised from ember's own kernels only (np.errstate per op would cost ~2 us a call).
warnings.filterwarnings(
    "ignore", message=r"(invalid value|divide by zero|overflow|underflow) encountered",
    category=RuntimeWarning, module=r"ember(\.|$)")

# Callables told about every op: fn(op, inputs, attrs, outputs). Tracers and profilers.
observers: list = []


class Op:
    """Base class of every op: subclasses define ``forward`` and ``backward`` as staticmethods.

    Class attributes:
        name: public name, used in errors, traces, ONNX and benchmarks.
        forward_inplace: optional ``(ctx, target_array, *arrays, **attrs)`` that writes the
            result into target_array; used by in-place calls that record no graph.
        promote: how inputs are typed. None: passed as they are. "same": cast to the promoted
            dtype, which the output has too. "float": like "same", but integer and bool results
            become the default float dtype. "compare": inputs cast to the promoted dtype,
            output not checked (bool).
        upcast: compute float16/bfloat16 in float32, then round the output once.
        scalar_opmath: with float16/bfloat16 and a Python number, compute in float32 with the
            number's float32 value (PyTorch's mul and div); otherwise NumPy rounds the number
            to the tensor's dtype first (PyTorch's add and sub).
        is_view: the output shares memory with input 0 (shares its version counter).
        differentiable: False for ops whose outputs never require grad (argmax, comparisons).
        materialize_grads: multi-output ops get zeros (not None) for outputs that received no
            gradient; set False to see None and skip that work.
    """

    name = "op"
    forward_inplace = None
    promote = None
    upcast = False
    is_view = False
    differentiable = True
    materialize_grads = True
    scalar_opmath = False

    @staticmethod
    def forward(ctx, *arrays, **attrs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError(f"{ctx.op.name}: derivative not implemented")


class _Version:
    """A version counter shared by a tensor and its views; bumped by in-place ops."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def version_counter(t):
    vc = t._vc
    if vc is None:
        vc = t._vc = _Version()
    return vc


class Node:
    """A recorded op call: the ``ctx`` its forward and backward receive, and the graph node
    that ``grad_fn`` points to."""

    __slots__ = ("op", "xp", "next_nodes", "next_nrs", "_n_out", "in_shapes", "__dict__",
                 "__weakref__")
    # Set on some nodes only (they then live in the instance __dict__).
    _saved = None
    _saved_resolved = None
    _freed = False
    _special = False            # has hooks, casts, retained grads or several outputs
    _casts = None
    _pre_hooks = None
    _hooks = None
    _retained = None
    _out_meta = None

    @property
    def metadata(self) -> dict:
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self.__dict__["_metadata"] = {}
        return md

    def __init__(self, op=None, xp=np):
        self.op = op
        self.xp = xp

    # -- forward-side helpers ------------------------------------------------------------

    def save(self, *arrays):
        """Save arrays for backward; they come back as Tensors from ``saved_tensors``."""
        self._saved = arrays

    # -- backward-side helpers -----------------------------------------------------------

    @property
    def saved_tensors(self):
        resolved = self._saved_resolved
        if resolved is None:
            if not self._freed:
                return ()
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or "
                "if you need to access saved tensors after calling backward."
                f" (in {self.name()})")
        return tuple([_unpack_saved(self, entry) for entry in resolved])

    def release(self):
        """Free saved tensors (after a backward without retain_graph)."""
        if self._saved_resolved is not None:
            self._saved_resolved = None
            self._freed = True

    def name(self) -> str:
        # A forward may name its node per call (``ctx.backward_name = "TBackward0"`` when one
        # Op serves several PyTorch functions); otherwise the Op's name.
        return self.__dict__.get("backward_name") or _backward_name(self.op)

    @property
    def next_functions(self):
        """((node, output_nr), ...) per input, (None, 0) where no gradient flows."""
        return tuple(zip(self.next_nodes, self.next_nrs))

    @property
    def needs_input_grad(self):
        """One bool per input: does that input need a gradient?"""
        return tuple([n is not None for n in self.next_nodes])

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) -> None or new grad_inputs; runs after backward."""
        from .utils.hooks import RemovableHandle
        if self._hooks is None:
            self._hooks = {}
        self._special = True
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = fn
        return handle

    def register_prehook(self, fn):
        """fn(grad_outputs) -> None or new grad_outputs; runs before backward."""
        from .utils.hooks import RemovableHandle
        if self._pre_hooks is None:
            self._pre_hooks = {}
        self._special = True
        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = fn
        return handle

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def __call__(self, *grads):
        out = self.op.backward(self, *grads)
        return out


def _backward_name(op) -> str:
    return getattr(op, "backward_name", None) or getattr(op, "__name__", "Op") + "Backward0"


def _new_node(op, xp):
    node = Node.__new__(Node)
    node.op = op
    node.xp = xp
    return node


class AccumulateGrad:
    """The graph node of a leaf that requires grad: adds arriving gradients to ``.grad``."""

    __slots__ = ("variable", "_pre_hooks", "_hooks", "_retained", "metadata", "__weakref__")
    next_nodes = ()
    next_nrs = ()
    next_functions = ()
    _n_out = 1
    _casts = None
    op = None

    def __init__(self, variable):
        self.variable = variable
        self._pre_hooks = None
        self._hooks = None
        self._retained = None
        self.metadata = {}

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"   # PyTorch's name()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"

    def release(self):
        pass


def grad_edge(t):
    """(node, output_nr) through which gradient reaches tensor t."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._out_nr)
    ref = t._accum_ref
    acc = ref() if ref is not None else None
    if acc is None:
        import weakref
        acc = AccumulateGrad(t)
        t._accum_ref = weakref.ref(acc)
    return (acc, 0)


# -- saved tensors -----------------------------------------------------------------------------

def _resolve_saved(node, in_tensors, in_arrays, outs, raw_out):
    """Turn the arrays forward saved into references that survive the call:
    ("in", tensor, version counter, version, dtype) | ("out", nr, array, counter, version) |
    ("const", array) | ("scalar", value)."""
    raws = raw_out if type(raw_out) in (tuple, list) else (raw_out,)
    resolved = []
    for arr in node._saved:
        if arr is None or not hasattr(arr, "dtype"):
            resolved.append(("scalar", arr))      # None, or a Python number given to forward
            continue
        for i, a in enumerate(in_arrays):
            if arr is a and in_tensors[i] is not None:
                t = in_tensors[i]
                vc = version_counter(t)
                resolved.append(("in", t, vc, vc.value, arr.dtype))
                break
        else:
            for j, o in enumerate(outs):
                if arr is o._data or arr is raws[j]:
                    vc = version_counter(o)
                    resolved.append(("out", j, o._data, vc, vc.value))
                    break
            else:
                resolved.append(("const", arr if not isinstance(arr, np.generic)
                                 else np.asarray(arr)))
    if _anomaly_flags.saved_hooks and _grad_state.saved_hooks:
        resolved = _pack_saved(resolved, outs)
    node._saved_resolved = resolved
    node._saved = None


def _check_version(node, vc, expected, t):
    if vc.value != expected:
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{t.type()} {list(t.shape)}]"
            f"{', which is output 0 of ' + t.grad_fn.name() if t.grad_fn is not None else ''}, "
            f"is at version {vc.value}; expected version {expected} instead. (needed by "
            f"{node.name()}) Hint: replace the in-place op with its out-of-place form, or "
            "clone() the tensor before modifying it.")


def _pack_saved(resolved, outs):
    """Give each saved tensor to the innermost ``saved_tensors_hooks`` pack hook; the node keeps
    what it returns and where the tensor sat in the graph (its gradient edge), not the tensor.
    Backward gets the unpack hook's data, re-attached at that place (so a create_graph backward
    still differentiates through saved values, as in PyTorch) and cast back to the dtype
    forward computed in."""
    pack, unpack = _grad_state.saved_hooks[-1]
    Tensor = _Tensor
    packed = []
    for entry in resolved:
        kind = entry[0]
        if kind == "scalar":
            packed.append(entry)
        elif kind == "in":
            t = entry[1]
            edge = grad_edge(t) if t._rg else None
            packed.append(("packed", pack(t), unpack, entry[4], edge))
        elif kind == "out":
            packed.append(("packed", pack(outs[entry[1]]), unpack, None, entry[1]))
        else:
            packed.append(("packed", pack(Tensor._make(entry[1])), unpack, None, None))
    return packed


def _unpack_hooked(node, entry):
    _, value, unpack, np_dtype, edge = entry
    t = unpack(value)
    if not isinstance(t, _Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {type(t).__name__}")
    if edge is not None:
        r = _new(_Tensor)
        r._data, r._rg, r.grad_fn = t._data, True, None
        if type(edge) is int:                   # an output of this node
            r.grad_fn = node
            if edge:
                r._out_nr = edge
        elif type(edge[0]) is AccumulateGrad:   # a leaf: gradients reach it through its node
            import weakref
            r._accum_ref = weakref.ref(edge[0])
        else:
            r.grad_fn = edge[0]
            if edge[1]:
                r._out_nr = edge[1]
        t = r
    if np_dtype is not None and t._data.dtype != np_dtype:
        return t.to(D.from_numpy_dtype(np_dtype))
    return t


def _unpack_saved(node, entry):
    Tensor = _Tensor
    kind = entry[0]
    if kind == "scalar":
        return entry[1]
    if kind == "packed":
        return _unpack_hooked(node, entry)
    if kind == "in":
        _, t, vc, expected, np_dtype = entry
        _check_version(node, vc, expected, t)
        if t._data.dtype != np_dtype:           # forward ran on a promoted copy
            return t.to(D.from_numpy_dtype(np_dtype))
        return t
    if kind == "out":
        _, nr, arr, vc, expected = entry
        out = Tensor._make(arr)
        out._vc = vc
        if node.op is not None:
            # Rebuilt per use, so the node does not keep its own output alive (no cycle).
            out._rg = True
            out.grad_fn = node
            if nr:
                out._out_nr = nr
        if vc.value != expected:
            _check_version(node, vc, expected, out)
        return out
    return Tensor._make(entry[1])


# -- apply -------------------------------------------------------------------------------------

def _promote_dtype(op, args):
    """The numpy dtype an op computes in, following PyTorch's promotion rules."""
    Tensor = _Tensor
    items = []
    for a in args:
        if isinstance(a, Tensor):
            items.append((D.from_numpy_dtype(a._data.dtype), 2 if a._data.ndim else 1))
        elif a is not None:
            items.append((D.scalar_dtype(a), 0))
    res = D.result_type_of(items)
    if op.promote == "float" and not (res.is_floating_point or res.is_complex):
        res = D.get_default_dtype()
    return res.np


def _unwrap(op, args):
    """Arrays (and Python scalars) for forward, the tensors, the xp module and the compute
    dtype. Casts inputs where promotion asks for it."""
    Tensor = _Tensor
    if any(type(a) is _ndarray for a in args):     # torch takes an ndarray as a tensor
        args = tuple(Tensor._make(a) if type(a) is _ndarray else a for a in args)
    arrays = list(args)
    tensors = [None] * len(args)
    numbers = False
    first = None
    same = True
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            tensors[i] = a
            arrays[i] = a._data
            if first is None or (type(first) is _ndarray and type(a._data) is not _ndarray):
                if first is not None:       # a cuda tensor after cpu ones: cuda decides
                    same = False
                first = a._data
            elif type(a._data) is not type(first) or a._data.dtype is not first.dtype:
                same = False
        elif a is not None:
            same = False
            numbers = True
            if not isinstance(a, (int, float, complex, np.generic)):
                raise TypeError(f"{op.name}(): argument {i} must be a Tensor or a number, "
                                f"not {type(a).__name__}")
    if first is None:
        raise TypeError(f"{op.name}(): expected at least one Tensor argument")
    if type(first) is _ndarray:
        xp = np
    else:
        xp = _xp_of_gpu(op, arrays, first)
    casts = None
    if op.promote is not None:
        want = first.dtype if same else _promote_dtype(op, args)
        if op.promote == "float" and same and want.kind in "biu":
            want = D.get_default_dtype().np
        # float16/bfloat16 ops with upcast run in float32 and round once (PyTorch's opmath);
        # ops with scalar_opmath (mul, div) also keep a Python number's float32 value rather
        # than rounding it to half first, as PyTorch's kernels do.
        upcast = op.upcast or (numbers and op.scalar_opmath)
        compute = _F32 if (upcast and want in _HALF) else want
        if numbers and compute == _BF16:
            # ml_dtypes' bfloat16 does not take Python numbers weakly: round them to bfloat16
            # first (what PyTorch does for add and sub), then compute in bfloat16.
            for i, a in enumerate(arrays):
                if tensors[i] is None and isinstance(a, (int, float)):
                    arrays[i] = xp.asarray(a, dtype=compute)
        for i, arr in enumerate(arrays):
            if tensors[i] is not None and arr.dtype != compute:
                arrays[i] = arr.astype(compute)
                if casts is None:
                    casts = {}
                casts[i] = tensors[i]._data.dtype
    else:
        want = None
    return arrays, tensors, xp, want, casts


def _xp_of_gpu(op, arrays, first):
    dev = first.device.id
    for i, a in enumerate(arrays):
        if type(a) is _ndarray:
            if a.ndim == 0:                     # a cpu scalar tensor may join cuda ones
                from .backends import cupy_backend
                arrays[i] = cupy_backend.to_gpu(a, dev)
                continue
            _device_error_arrays(op, arrays)
        elif hasattr(a, "device") and a.device.id != dev:
            _device_error_arrays(op, arrays)
    from .backends import cupy_backend
    return cupy_backend.cp


def _device_error_arrays(op, arrays):
    devs = sorted({str(device_of(a)) for a in arrays if hasattr(a, "dtype") and
                   not isinstance(a, np.generic)})
    raise RuntimeError(
        f"{op.name}: Expected all tensors to be on the same device, but found at least two "
        f"devices, {' and '.join(devs)}; move one with .to(device)")


def _fix_output(out, want, xp):
    if type(out) is not _ndarray and xp is np and not hasattr(out, "__cuda_array_interface__"):
        out = np.asarray(out)
    if want is not None and out.dtype is not want and out.dtype != want:
        out = out.astype(want)
    return out


def apply(op, *args, **attrs):
    """Run ``op`` on tensors (and Python scalars) ``args``; attributes are keyword-only."""
    # Fast path: cpu tensors of one dtype, maybe with Python numbers that promotion keeps at
    # that dtype (NumPy's weak scalars then agree with PyTorch). Anything else: _unwrap.
    arrays = []
    dt = None
    rg = False
    scalars = False
    T = _Tensor
    for a in args:
        ta = type(a)
        if ta is T or ta in _TENSOR_TYPES:
            d = a._data
            if type(d) is not _ndarray:
                break
            if dt is None:
                dt = d.dtype
            elif d.dtype is not dt:
                break
            arrays.append(d)
            if a._rg:
                rg = True
        elif ta is float or ta is int:
            scalars = True
            arrays.append(a)
        else:
            break
    else:
        if dt is None or (dt is not _F32 and dt is not _F64 and (
                (scalars and (dt.kind not in "fc" or dt in _HALF)) or (op.upcast and dt in _HALF)
                or (op.promote == "float" and dt.kind not in "fcV"))):
            arrays = None
    if arrays is None or len(arrays) != len(args):
        arrays, tensors, xp, want, casts = _unwrap(op, args)
        for t in tensors:
            if t is not None and t._rg:
                rg = True
                break
        if not rg and _stale_views[0]:
            rg = _catch_up_views(args)
    else:
        if not rg and _stale_views[0]:
            rg = _catch_up_views(args)
        xp = np
        want = dt
        casts = None
    ctx = _new(Node)
    ctx.op = op
    ctx.xp = xp
    out = op.forward(ctx, *arrays, **attrs)

    if type(out) is _ndarray:
        if want is not None and out.dtype is not want and op.promote not in _KEEPS_DTYPE \
                and out.dtype != want:
            out = out.astype(want)
        res = _new(_Tensor)
        res._data = out
        res._rg = False
        res.grad_fn = None
        outs = (res,)
    else:
        res, outs = _wrap_outputs(out, want if op.promote not in _KEEPS_DTYPE else None, xp)

    if op.is_view:
        _share_version(op, args[0], outs, attrs)
    if rg and _grad_state.enabled and op.differentiable:
        _record(ctx, args, arrays, outs, casts, out)
    if observers:
        for fn in observers:
            fn(op, args, attrs, outs)
    return res


def apply2(op, a, b):
    """``apply(op, a, b)`` for a binary op without attributes (Tensor's arithmetic operators).

    The common case, a cpu float32/float64 tensor with another of its dtype or with a Python
    number, takes a straight path: no argument lists and no promotion (the dtype is already
    the result's), and the graph node's two edges are written directly. The result is the same
    as apply's; anything else goes to apply."""
    T = _Tensor
    ta = type(a)
    if ta is T or ta in _TENSOR_TYPES:
        x = a._data
        if type(x) is not _ndarray:
            return apply(op, a, b)
        dt = x.dtype
        rg = a._rg
    elif ta is float or ta is int:
        x = a
        dt = None
        rg = False
    else:
        return apply(op, a, b)
    tb = type(b)
    if tb is T or tb in _TENSOR_TYPES:
        y = b._data
        if type(y) is not _ndarray:
            return apply(op, a, b)
        if dt is None:
            dt = y.dtype
        elif y.dtype is not dt:
            return apply(op, a, b)
        if b._rg:
            rg = True
    elif (tb is float or tb is int) and dt is not None:
        y = b
    else:
        return apply(op, a, b)
    if dt is not _F32 and dt is not _F64 or (not rg and _stale_views[0]):
        return apply(op, a, b)

    ctx = _new(Node)
    ctx.op = op
    ctx.xp = np
    out = op.forward(ctx, x, y)
    if type(out) is _ndarray:
        if out.dtype is not dt and op.promote not in _KEEPS_DTYPE and out.dtype != dt:
            out = out.astype(dt)
        res = _new(T)
        res._data = out
        res._rg = False
        res.grad_fn = None
        outs = None
    else:
        res, outs = _wrap_outputs(out, dt if op.promote not in _KEEPS_DTYPE else None, np)
    if op.is_view:
        _share_version(op, a, outs or (res,), {})

    if rg and _grad_state.enabled and op.differentiable:
        if outs is not None:
            _record(ctx, (a, b), (x, y), outs, None, out)
        else:
            # _record's steps, written out for two operands (each a tensor or a number).
            na = nb = None
            nra = nrb = 0
            if x is not a:
                if a._base is not None and a._view_version != a._vc.value:
                    _refresh_view(a)
                if a._rg:
                    na = a.grad_fn
                    if na is None:
                        ref = a._accum_ref
                        na = ref() if ref is not None else None
                        if na is None:
                            na = grad_edge(a)[0]
                    elif na._n_out != 1:
                        nra = a._out_nr
                sa = x.shape
            else:
                sa = ()
            if y is not b:
                if b._base is not None and b._view_version != b._vc.value:
                    _refresh_view(b)
                if b._rg:
                    nb = b.grad_fn
                    if nb is None:
                        ref = b._accum_ref
                        nb = ref() if ref is not None else None
                        if nb is None:
                            nb = grad_edge(b)[0]
                    elif nb._n_out != 1:
                        nrb = b._out_nr
                sb = y.shape
                if sb == sa:
                    sb = sa             # one shape object kept alive, not two
            else:
                sb = ()
            ctx.next_nodes = (na, nb)
            ctx.next_nrs = _ZEROS[2] if not (nra or nrb) else (nra, nrb)
            ctx.in_shapes = (sa, sb)
            ctx._n_out = 1
            if out.dtype is dt or out.dtype.kind in "fcV":
                res._rg = True
                res.grad_fn = ctx
            if _anomaly_flags.anomaly:
                from .autograd.anomaly import record_forward_trace
                record_forward_trace(ctx)
            if ctx._saved is not None:
                _resolve_saved(ctx, [a if x is not a else None, b if y is not b else None],
                               [x, y], (res,), out)
    if observers:
        for fn in observers:
            fn(op, (a, b), {}, outs or (res,))
    return res


def _wrap(arr):
    t = _new(_Tensor)
    t._data = arr
    t._rg = False
    t.grad_fn = None
    return t


def _wrap_outputs(out, want, xp):
    """(result, outputs) for what forward returned other than one ndarray: a tuple or list of
    outputs, a NumPy scalar (NumPy's math on 0-d arrays), a CuPy array."""
    if type(out) is tuple or type(out) is list:
        outs = tuple(_wrap(_fix_output(o, want, xp)) for o in out)
        return outs, outs
    res = _wrap(_fix_output(out, want, xp))
    return res, (res,)


def _share_version(op, base, outs, attrs):
    """Outputs of a view op share the base's version counter and remember how to rebuild."""
    vc = base._vc
    if vc is None:
        vc = base._vc = _Version()
    root = base._base if base._base is not None else base
    chain = base._view_chain + ((op, attrs),)
    for o in outs:
        o._vc = vc
        o._base = root
        o._view_version = vc.value
        o._view_chain = chain


def _record(ctx, args, arrays, outs, casts, raw_out):
    """Make ctx the graph node of this call: edges to the inputs' nodes, output metadata."""
    nodes = []
    nrs = None
    i = 0
    shape0 = outs[0]._data.shape
    same_shape = True
    T = _Tensor
    for t in args:
        if type(t) is T or isinstance(t, T):
            if same_shape and t._data.shape != shape0:
                same_shape = False
            if t._base is not None and t._view_version != t._vc.value:
                _refresh_view(t)
            if t._rg:
                fn = t.grad_fn
                if fn is None:                   # a leaf: its AccumulateGrad node
                    ref = t._accum_ref
                    fn = ref() if ref is not None else None
                    if fn is None:
                        fn = grad_edge(t)[0]
                elif fn._n_out != 1 and t._out_nr:   # (one output: its number is 0)
                    if nrs is None:
                        nrs = [0] * len(args)
                    nrs[i] = t._out_nr
                nodes.append(fn)
            else:
                nodes.append(None)
        else:
            nodes.append(None)
            same_shape = False
        i += 1
    ctx.next_nodes = tuple(nodes)
    # Output numbers are almost always 0: share one tuple of zeros per arity.
    ctx.next_nrs = (_ZEROS[i] if i < 64 else (0,) * i) if nrs is None else tuple(nrs)
    # Input shapes: one shared shape when all inputs have the output's (the common case): it
    # keeps the number of objects the cyclic GC tracks per recorded op low.
    ctx.in_shapes = (shape0,) * i if same_shape else \
        tuple([getattr(a, "shape", ()) for a in arrays])
    if casts is not None:
        ctx._casts = casts
        ctx._special = True
    if _anomaly_flags.anomaly:
        from .autograd.anomaly import record_forward_trace
        record_forward_trace(ctx)
    if len(outs) == 1:
        o = outs[0]
        ctx._n_out = 1
        if o._data.dtype.kind in "fcV":   # V: bfloat16; integer/bool outputs carry no grad
            o._rg = True
            o.grad_fn = ctx
    else:
        nr = 0
        for o in outs:
            if o._data.dtype.kind in "fcV":
                o._rg = True
                o.grad_fn = ctx
                if nr:
                    o._out_nr = nr
            nr += 1
        ctx._n_out = nr
        ctx._special = True
        ctx._out_meta = [(o._data.shape, o._data.dtype, o.grad_fn is ctx) for o in outs]
    if ctx._saved is not None:
        _resolve_saved(ctx, [a if type(a) in _TENSOR_TYPES or isinstance(a, _Tensor) else None
                             for a in args], arrays, outs, raw_out)


_ZEROS = [(0,) * n for n in range(64)]


# Note [Views of a base that gains history]
#     A view taken while its base needed no grad does not require grad. When an in-place op
#     later gives the base (or one of its views) a history, the earlier views must require
#     grad too, as in PyTorch. Views keep no list of each other, so the first such event sets
#     this flag and from then on `apply` looks at views among inputs that do not require grad
#     (a cost only programs that do this pay).
_stale_views = [False]


def _catch_up_views(args) -> bool:
    """Refresh inputs that are views whose base gained history; True if one now needs grad."""
    needs = False
    for t in args:
        if isinstance(t, _Tensor) and t._base is not None and t._base._rg and \
                t._view_version != t._vc.value:
            _refresh_view(t)
            needs = needs or t._rg
    return needs


def _refresh_view(t):
    """A view whose base was modified in place after the view was taken: its history is
    rebuilt from the base's current history by replaying the view ops."""
    from .autograd.grad_mode import state
    base = t._base
    t._view_version = t._vc.value
    if not base._rg:
        return
    x = base
    prev = state.enabled
    state.enabled = True
    try:
        for op, attrs in t._view_chain:
            x = apply(op, x, **attrs)
    finally:
        state.enabled = prev
    t.grad_fn = x.grad_fn
    t._out_nr = x._out_nr
    t._rg = x._rg
    t._view_version = t._vc.value


def elide(op, t, other):
    """Compute ``op(t, other)`` into t's own memory when t is a temporary (Note [Temporary
    elision] in _tensor.py); None when the result cannot live there."""
    if t._vc is not None or t._base is not None or (t._rg and _grad_state.enabled):
        return None
    arr = t._data
    if arr.base is not None or not getattr(arr.flags, "writeable", True) or \
            op.forward_inplace is None:             # CuPy's flags have no .writeable
        return None
    if type(other) in _TENSOR_TYPES:
        o = other._data
        if type(o) is not type(arr) or o.dtype is not arr.dtype or \
                (other._rg and _grad_state.enabled) or o.ndim > arr.ndim:
            return None
        if o.shape != arr.shape:
            try:
                if np.broadcast_shapes(o.shape, arr.shape) != arr.shape:
                    return None
            except ValueError:
                return None
    elif type(other) is float or type(other) is int:
        o = other
        if arr.dtype.kind != "f":
            return None
    else:
        return None
    if op.promote == "float" and arr.dtype.kind != "f":
        return None
    if type(arr) is not _ndarray:
        from ._device import xp_of
        xp = xp_of(arr)
        if type(o) is not float and type(o) is not int and o.device != arr.device:
            return None
    else:
        xp = np
    ctx = _new_node(op, xp)
    op.forward_inplace(ctx, arr, o)
    if observers:
        for fn in observers:
            fn(op, (t, other), {}, (t,))
    return t


# -- in-place ----------------------------------------------------------------------------------

def _check_inplace_allowed(op, target):
    if target._rg and _grad_state.enabled:
        if target.grad_fn is None and target._base is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation. "
                f"({op.name}_ on a tensor of shape {fmt_shape(target.shape)}; wrap it in "
                "ember.no_grad() or use the out-of-place form)")
        base = target._base
        if base is not None and base._rg and base.grad_fn is None:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place "
                f"operation. ({op.name}_ on a view of shape {fmt_shape(target.shape)})")


def apply_inplace(op, target, *args, **attrs):
    """Run ``op(target, *args)`` and write the result into ``target``; returns ``target``."""
    Tensor = _Tensor
    _check_inplace_allowed(op, target)
    if not getattr(target._data.flags, "writeable", True):
        arr = target._data
        if any(st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape)):
            raise RuntimeError(
                f"{op.name}_: unsupported operation: more than one element of the written-to "
                "tensor refers to a single memory location. Please clone() the tensor before "
                "performing the operation.")
        raise RuntimeError(f"{op.name}_: the tensor's memory is read-only (it shares a "
                           "read-only NumPy buffer); clone() it before writing")
    recording = _grad_state.enabled and (
        target._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    if not recording:
        arrays, tensors, xp, want, _ = _unwrap(op, (target,) + args)
        ctx = _new_node(op, xp)
        fwd_ = op.forward_inplace
        if fwd_ is not None and arrays[0] is target._data:
            # The op writes into target's memory itself (no temporary, no copy back).
            fwd_(ctx, *arrays, **attrs)
            vc = target._vc
            if vc is None:
                vc = target._vc = _Version()
            vc.value += 1
        else:
            out = op.forward(ctx, *arrays, **attrs)
            _write(op, target, out, want if op.promote != "compare" else None)
        if observers:
            for fn in observers:
                fn(op, (target,) + args, attrs, [target])
        return target

    result = apply(op, target, *args, **attrs)
    node = result.grad_fn
    if node is not None and node._saved_resolved:
        # Saved the value being overwritten: keep a copy that carries its history.
        for k, entry in enumerate(node._saved_resolved):
            if entry is not None and entry[0] == "in" and entry[1] is target:
                from .ops.creation import Clone
                old = apply(Clone, target)
                vc = version_counter(old)
                node._saved_resolved[k] = ("in", old, vc, vc.value, entry[4])
    _write(op, target, result._data, None)
    _rebase_history(target, result)
    return target


def _write(op, target, out, want):
    dst = target._data
    if type(out) is not type(dst) and not isinstance(out, np.generic):
        _device_error_arrays(op, [dst, out])
    if want is not None and want != dst.dtype:
        src_dt = D.from_numpy_dtype(want)
        dst_dt = D.from_numpy_dtype(dst.dtype)
        if not D.can_cast(src_dt, dst_dt):
            raise RuntimeError(f"{op.name}_: result type {_legacy_name(src_dt)} can't be cast to "
                               f"the desired output type {_legacy_name(dst_dt)}")
    if getattr(out, "shape", ()) != dst.shape:
        try:
            np.broadcast_shapes(out.shape, dst.shape)
            ok = np.broadcast_shapes(out.shape, dst.shape) == dst.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"{op.name}_: output with shape {fmt_shape(dst.shape)} doesn't match the "
                f"broadcast shape {fmt_shape(np.broadcast_shapes(out.shape, dst.shape))}")
    if dst.ndim == 0 and type(dst) is _ndarray:
        dst[()] = out
    else:
        dst[...] = out
    vc = target._vc
    if vc is None:
        vc = target._vc = _Version()
    vc.value += 1


_legacy_name = D.legacy_name


def _rebase_history(target, result):
    """After writing result into target: target's history becomes result's. A view's base
    gets a node that routes the view's region of its gradient to result."""
    base = target._base
    if base is None:
        if not target._rg and result._rg and target._vc is not None:
            _stale_views[0] = True          # views taken earlier now need grad too
        target.grad_fn = result.grad_fn
        target._out_nr = result._out_nr
        target._rg = result._rg
        return
    if not base._rg:
        _stale_views[0] = True
    from ._device import xp_of
    xp = xp_of(base._data)
    node = _new_node(_CopySlices, xp)
    node._view_chain = target._view_chain
    mask = xp.zeros(base._data.shape, dtype=bool)
    m = _wrap(mask)
    for op, attrs in target._view_chain:
        m = apply(op, m, **attrs)
    m._data[...] = True
    node._mask = mask
    node._base_shape = base._data.shape
    base_edge = grad_edge(base) if base._rg else (None, 0)
    res_edge = grad_edge(result)
    node.next_nodes = (base_edge[0], res_edge[0])
    node.next_nrs = (base_edge[1], res_edge[1])
    node._n_out = 1
    base.grad_fn = node
    base._out_nr = 0
    base._rg = True
    target.grad_fn = result.grad_fn
    target._out_nr = result._out_nr
    target._rg = True
    target._view_version = target._vc.value


class _CopySlices(Op):
    """The history of a base after an in-place op on one of its views."""

    name = "copy_slices"
    backward_name = "torch::autograd::CopySlices"

    @staticmethod
    def backward(ctx, grad):
        from .ops.elementwise import where
        mask = _wrap(ctx._mask)
        g_view = grad
        for op, attrs in ctx._view_chain:
            g_view = apply(op, g_view, **attrs)
        return where(mask, 0.0, grad), g_view.contiguous()
