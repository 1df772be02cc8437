"""The tracer: one call of a function or module recorded into a ``Graph`` (ember.jit.ir).

Note [How the tracer records]
    Every op call passes through ``ember._dispatch.apply`` / ``apply2`` / ``apply_inplace``,
    which report ``(op, inputs, attrs, outputs)`` to ``_dispatch.observers``. For the length
    of one call the tracer installs an observer there and maps each Tensor it sees (by
    ``id``, kept alive in a list so ids stay unique) to a ``Value``:
    - the example inputs (flattened with ember.utils._pytree) are graph inputs;
    - the module's parameters and buffers are params, named by their state_dict names;
    - op outputs are node values;
    - any other tensor an op reads is a constant (its array copied when first seen).
    A Python number an op takes stays inline in ``node.inputs``; attributes are kept as
    ``apply`` got them (arrays in attributes copied, except views of a parameter or buffer:
    see ``Node.param_attrs``).

Note [In-place ops in a trace]
    An in-place call that records no autograd graph reports its target as its output: the
    node gets ``inplace=True`` and the target's Value becomes the node's output. An in-place
    call that records autograd history runs ``apply`` out of place and copies the result into
    the target; the observer only sees the out-of-place call. The target's version counter
    then moved and its ``grad_fn`` is that call's: when the tracer next meets the target it
    notices the new version, finds the node that produced that ``grad_fn`` and marks it
    in-place (its first input was the target). The executor replays in-place nodes in place,
    so views and their bases alias in the replay exactly as they did when traced.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from .. import _dispatch
from .._dtype import from_numpy_dtype
from ..autograd.grad_mode import state as _grad_state
from ..nn.modules.module import Module
from ..utils._pytree import tree_flatten
from .ir import Graph, Value

__all__ = ["TracerWarning", "TracedModule", "TracedFunction", "trace", "trace_graph",
           "trace_module", "is_tracing", "is_scripting", "script", "ignore", "unused", "export",
           "annotate", "freeze"]


class TracerWarning(Warning):
    """Something during tracing made the trace specific to the example inputs (Python control
    flow on a tensor's value, ``.item()``, ``.tolist()``, ...), as PyTorch's TracerWarning."""


_local = threading.local()


def is_tracing() -> bool:
    """True while ``ember.jit.trace`` (or ``trace_graph``) records a call in this thread."""
    return bool(getattr(_local, "tracers", None))


def _active():
    tracers = getattr(_local, "tracers", None)
    return tracers[-1] if tracers else None


def _meta(t) -> dict:
    arr = t._data
    return {"shape": tuple(arr.shape), "dtype": from_numpy_dtype(arr.dtype),
            "device": t.device, "requires_grad": bool(t._rg)}


def _version(t) -> int:
    vc = t._vc
    return vc.value if vc is not None else 0


def _copy_array(a):
    return a.copy()


class _Tracer:
    """Records op calls into ``self.graph`` (see Note [How the tracer records])."""

    def __init__(self, params: dict):
        self.graph = Graph()
        self.values: dict[int, tuple] = {}      # id(tensor) -> (Value, version seen, tensor)
        self.by_grad_fn: dict[tuple, Value] = {}    # (id(grad_fn), out_nr) -> Value
        self.keep: list = []                        # tensors and nodes whose ids we hold
        self.params = {id(t): name for name, t in params.items()}
        self.param_arrays = {id(t._data): name for name, t in params.items()}
        self.scopes = [""]
        self.thread = threading.get_ident()
        self.suspended = 0
        # A trace taken under no_grad still gives a trainable graph; only the regions the
        # traced code itself runs under no_grad are marked (Node.no_grad).
        self.grad_at_start = _grad_state.enabled

    # -- tensors to values ---------------------------------------------------------------

    def bind(self, t, v: Value) -> None:
        self.values[id(t)] = (v, _version(t), t)
        self.keep.append(t)
        fn = t.grad_fn
        if fn is not None and v.kind == "node":
            self.by_grad_fn[(id(fn), t._out_nr)] = v
            self.keep.append(fn)

    def value_of(self, t) -> Value:
        entry = self.values.get(id(t))
        if entry is not None:
            v, seen, _ = entry
            if _version(t) != seen:
                v = self._after_inplace(t, v)
            return v
        name = self.params.get(id(t))
        rebuilt = self._saved_output(t) if name is None and t.grad_fn is not None else None
        if rebuilt is not None:
            v = rebuilt
        elif name is not None:
            v = self.graph.add_param(name, **_meta(t))
        else:
            v = self.graph.add_constant(_copy_array(t._data), **_meta(t))
        self.bind(t, v)
        return v

    def _saved_output(self, t):
        """The Value of a recorded op output that ``saved_tensors`` rebuilt as a new Tensor
        (same grad_fn, output number and array): a backward formula traced while it reads its
        saved output reads that node's output, not a constant."""
        found = self.by_grad_fn.get((id(t.grad_fn), t._out_nr))
        if found is None:
            return None
        if tuple(t._data.shape) != found.shape or from_numpy_dtype(t._data.dtype) != found.dtype:
            return None
        return found

    def _after_inplace(self, t, old: Value) -> Value:
        """t changed in place since it was last seen (Note [In-place ops in a trace])."""
        v = old
        fn = t.grad_fn
        if fn is not None:
            found = self.by_grad_fn.get((id(fn), t._out_nr))
            if found is not None and found is not old:
                node = found.node
                if node.inputs and node.inputs[0] is old and len(node.outputs) == 1:
                    node.inplace = True
                v = found
        self.values[id(t)] = (v, _version(t), t)
        return v

    def finish(self) -> None:
        """Mark the in-place calls whose targets were not read again (Note [In-place ops in a
        trace])."""
        for v, seen, t in list(self.values.values()):
            if _version(t) != seen:
                self._after_inplace(t, v)

    def is_traced(self, t) -> bool:
        entry = self.values.get(id(t))
        return entry is not None and entry[0].kind in ("input", "node", "param")

    # -- the observer --------------------------------------------------------------------

    def observe(self, op, inputs, attrs, outputs) -> None:
        if threading.get_ident() != self.thread or self.suspended:
            return                      # other threads' ops; ops inside a recorded Function
        T = _dispatch._Tensor
        ins = []
        for a in inputs:
            if isinstance(a, T):
                ins.append(self.value_of(a))
            elif isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__"):
                arr = _copy_array(a)
                ins.append(self.graph.add_constant(
                    arr, shape=arr.shape, dtype=from_numpy_dtype(arr.dtype),
                    device=_dispatch.device_of(arr)))
            else:
                ins.append(a)
        attrs, param_attrs = self._attrs(attrs)
        outputs = list(outputs)
        inplace = len(outputs) == 1 and bool(inputs) and outputs[0] is inputs[0]
        node = self.graph.add_node(op, ins, attrs, len(outputs), [_meta(o) for o in outputs],
                                   inplace=inplace, scope=self.scopes[-1])
        node.param_attrs = param_attrs
        if self.grad_at_start and not _grad_state.enabled:
            node.no_grad = True
        for t, v in zip(outputs, node.outputs):
            self.bind(t, v)

    def _attrs(self, attrs):
        out = {}
        param_attrs = {}
        for k, a in attrs.items():
            if hasattr(a, "dtype") and hasattr(a, "shape") and not isinstance(a, np.generic):
                name = self.param_arrays.get(id(a))
                if name is None and getattr(a, "base", None) is not None:
                    name = self.param_arrays.get(id(a.base))
                if name is not None:
                    param_attrs[k] = name
                    out[k] = a
                    continue
            out[k] = _freeze(a)
        return out, param_attrs


def _freeze(a):
    """An attribute as the graph keeps it: arrays copied (the caller may reuse its own)."""
    if isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__"):
        return a.copy()
    if type(a) is tuple:
        return tuple(_freeze(x) for x in a)
    if type(a) is list:
        return [_freeze(x) for x in a]
    return a


# -- TracerWarning on value-dependent Python -------------------------------------------------

_WARNED = {
    "item": "Converting a tensor to a Python number",
    "tolist": "Converting a tensor to a Python list",
    "numpy": "Converting a tensor to a NumPy array",
    "__bool__": "Converting a tensor to a Python boolean",
    "__int__": "Converting a tensor to a Python integer",
    "__float__": "Converting a tensor to a Python float",
    "__index__": "Converting a tensor to a Python index",
    "__complex__": "Converting a tensor to a Python complex",
    "__iter__": "Iterating over a tensor",
    "__len__": "Using len to get tensor shape",
}


def _wrap_method(name, original):
    what = _WARNED[name]

    def method(self, *args, **kwargs):
        tracer = _active()
        if tracer is None or getattr(_local, "converting", False):
            return original(self, *args, **kwargs)
        if tracer.is_traced(self):
            warnings.warn(f"{what} might cause the trace to be incorrect. We can't record the "
                          "data flow of Python values, so this value will be treated as a "
                          "constant in the future. This means that the trace might not "
                          "generalize to other inputs!", TracerWarning, stacklevel=2)
        _local.converting = True        # int(t) calls t.item(): one warning per conversion
        try:
            return original(self, *args, **kwargs)
        finally:
            _local.converting = False

    method.__name__ = name
    method.__wrapped__ = original
    return method


class _Detach(_dispatch.Op):
    """``Tensor.detach()`` as a graph node: detach reads its input's memory without ``apply``,
    so the tracer records this op in its place (forward returns the same array)."""

    name = "detach"
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        return x


class PythonFunction(_dispatch.Op):
    """A call of a custom ``ember.autograd.Function`` in a trace: one node (attrs ``function``,
    the Function class, and ``kwargs``) instead of the ops its forward runs, so the replay
    calls ``function.apply`` and its own backward (a straight-through estimator stays one).
    Such a graph runs in this process only: ``jit.save`` refuses it (the class is user code).
    """

    name = "python_function"
    differentiable = False              # the executor calls function.apply: autograd is its own

    @staticmethod
    def forward(ctx, *arrays, function, kwargs):
        # Without autograd (plans that call forward on arrays): the Function on tensors.
        from ..autograd.grad_mode import no_grad
        T = _dispatch._Tensor
        args = [T._make(a) if hasattr(a, "dtype") and hasattr(a, "shape") and
                not isinstance(a, np.generic) else a for a in arrays]
        with no_grad():
            out = function.apply(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(o._data if isinstance(o, T) else o for o in out)
        return out._data


def _wrap_function_apply(original):
    def apply_function(cls, args, kwargs):
        tracer = _active()
        if tracer is None or threading.get_ident() != tracer.thread or tracer.suspended:
            return original(cls, args, kwargs)
        T = _dispatch._Tensor
        for a in args:                  # Values for the inputs before forward may write them
            if isinstance(a, T):
                tracer.value_of(a)
        tracer.suspended += 1
        try:
            out = original(cls, args, kwargs)
        finally:
            tracer.suspended -= 1
        outs = out if isinstance(out, tuple) else (out,)
        if not all(isinstance(o, T) for o in outs):
            warnings.warn(f"{cls.__name__}.apply returned non-tensor values; the trace keeps "
                          "the ops its forward ran instead of the Function call",
                          TracerWarning, stacklevel=3)
            return out
        tracer.observe(PythonFunction, tuple(args), {"function": cls, "kwargs": dict(kwargs)},
                       outs)
        return out

    return apply_function


def _wrap_detach(original):
    def detach(self):
        out = original(self)
        tracer = _active()
        if tracer is not None and id(self) in tracer.values:
            tracer.observe(_Detach, (self,), {}, (out,))
        return out

    detach.__name__ = "detach"
    detach.__wrapped__ = original
    return detach


def _wrap_inplace_check(original):
    # Note [Constants written in place]
    #     Observers hear of a call after it ran. A tensor the trace has not seen that an
    #     in-place call writes to (a captured tensor: `c.add_(x)`) would become a constant
    #     holding the value after the write; apply_inplace checks its target first thing, so
    #     the tracer takes its copy there, before the write.
    def check(op, target):
        tracer = _active()
        if tracer is not None and id(target) not in tracer.values and \
                threading.get_ident() == tracer.thread:
            tracer.value_of(target)
        return original(op, target)

    return check


def _wrap_elide(original):
    # Writing a result into a temporary's memory would turn a constant's first sight into the
    # result; while tracing, the temporary is never reused.
    def elide(op, t, other):
        if _active() is not None:
            return None
        return original(op, t, other)

    return elide


class _Patch:
    """Installs the wrappers (TracerWarning, detach, Note [Constants written in place]) while
    at least one trace is active, and restores the originals after."""

    lock = threading.Lock()
    depth = 0
    saved: dict = {}
    saved_hooks: tuple = ()

    @classmethod
    def enter(cls):
        from .. import _tensor
        from ..autograd import function as _function
        with cls.lock:
            if cls.depth == 0:
                T = _dispatch._Tensor
                cls.saved = {n: T.__dict__[n] for n in (*_WARNED, "detach")
                             if n in T.__dict__}
                for n, f in cls.saved.items():
                    setattr(T, n, _wrap_detach(f) if n == "detach" else _wrap_method(n, f))
                cls.saved_hooks = (_dispatch._check_inplace_allowed, _tensor._elide,
                                   _function._apply_function)
                _dispatch._check_inplace_allowed = _wrap_inplace_check(cls.saved_hooks[0])
                _tensor._elide = _wrap_elide(cls.saved_hooks[1])
                _function._apply_function = _wrap_function_apply(cls.saved_hooks[2])
            cls.depth += 1

    @classmethod
    def exit(cls):
        from .. import _tensor
        from ..autograd import function as _function
        with cls.lock:
            cls.depth -= 1
            if cls.depth == 0:
                T = _dispatch._Tensor
                for n, f in cls.saved.items():
                    setattr(T, n, f)
                (_dispatch._check_inplace_allowed, _tensor._elide,
                 _function._apply_function) = cls.saved_hooks
                cls.saved = {}
                cls.saved_hooks = ()


# -- entry point -----------------------------------------------------------------------------

def _as_args(example_inputs) -> tuple:
    T = _dispatch._Tensor
    if example_inputs is None:
        return ()
    if isinstance(example_inputs, T):
        return (example_inputs,)
    if isinstance(example_inputs, list):
        return tuple(example_inputs)
    if isinstance(example_inputs, tuple):
        return example_inputs
    return (example_inputs,)


def _module_state(module) -> dict:
    """name -> tensor for the parameters and buffers of a module (first name of a shared one)."""
    out = {}
    seen = set()
    for name, t in list(module.named_parameters()) + list(module.named_buffers()):
        if t is not None and id(t) not in seen:
            seen.add(id(t))
            out[name] = t
    return out


def _owner(fn):
    """The module whose parameters a traced callable reads: the module itself, or the module
    of a bound method (``model.forward``, ``model.encode``)."""
    if isinstance(fn, Module):
        return fn
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, Module) else None


def _input_names(fn) -> list:
    import inspect
    target = getattr(fn, "forward", fn)
    try:
        names = [p.name for p in inspect.signature(target).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    return names


def _add_input(tracer, t, name, taken) -> None:
    """One graph input per tensor leaf of the arguments: a tensor passed twice gets a second,
    unused input (ops read the first), so callers pass their leaves as they are."""
    if name in taken:
        name = f"input_{len(tracer.graph.inputs)}"
    taken.add(name)
    v = tracer.graph.add_input(name, **_meta(t))
    if id(t) not in tracer.values:
        tracer.bind(t, v)


def trace_graph(fn_or_module, example_inputs, *, kwargs=None) -> Graph:
    """Record one call ``fn_or_module(*example_inputs, **kwargs)`` into a Graph.

    Args:
        fn_or_module: a function or an ``nn.Module``.
        example_inputs: a tuple of positional arguments (a single Tensor means one argument);
            nested tuples, lists and dicts of tensors are flattened (ember.utils._pytree) into
            the graph inputs, in order (positional arguments first, then ``kwargs``).
        kwargs: keyword arguments of the call.

    Returns:
        A ``Graph``: inputs (the tensors among the flattened arguments), params (the module's
        parameters and buffers the call reads, by state_dict name), constants (any other
        tensor read), nodes (every op call, in order, with module scopes) and outputs with
        ``output_spec`` (the returned structure). The call runs as it would eagerly: under the
        current grad mode, in the module's current train/eval mode.

    Example:
        >>> import ember
        >>> g = ember.jit.trace_graph(lambda x: (x * 2).relu(), (ember.ones(2),))
        >>> [n.kind for n in g.nodes]
        ['mul', 'relu']
    """
    T = _dispatch._Tensor
    args = _as_args(example_inputs)
    kwargs = dict(kwargs or {})
    module = _owner(fn_or_module)
    params = _module_state(module) if module is not None else {}
    tracer = _Tracer(params)

    names = _input_names(fn_or_module)
    per_arg = [tree_flatten(a)[0] for a in args]
    taken = set(params)
    for i, arg_leaves in enumerate(per_arg):
        tensors = [t for t in arg_leaves if isinstance(t, T)]
        base = names[i] if i < len(names) else f"input_{i}"
        for j, t in enumerate(tensors):
            name = base if len(tensors) == 1 else f"{base}.{j}"
            _add_input(tracer, t, name, taken)
    for key, value in kwargs.items():
        tensors = [t for t in tree_flatten(value)[0] if isinstance(t, T)]
        for j, t in enumerate(tensors):
            name = str(key) if len(tensors) == 1 else f"{key}.{j}"
            _add_input(tracer, t, name, taken)

    handles = []
    if module is not None:
        for path, sub in module.named_modules():
            if sub is module:
                continue
            handles.append(sub.register_forward_pre_hook(_push(tracer, path)))
            handles.append(sub.register_forward_hook(_pop(tracer)))
    stack = getattr(_local, "tracers", None)
    if stack is None:
        stack = _local.tracers = []
    stack.append(tracer)
    _Patch.enter()
    _dispatch.observers.append(tracer.observe)
    try:
        result = fn_or_module(*args, **kwargs)
    finally:
        _dispatch.observers.remove(tracer.observe)
        _Patch.exit()
        stack.pop()
        for h in handles:
            h.remove()

    tracer.finish()
    out_leaves, spec = tree_flatten(result)
    for leaf in out_leaves:
        if not isinstance(leaf, T):
            raise RuntimeError(
                "Only tensors, lists, tuples of tensors, or dictionary of tensors can be output "
                f"from traced functions (got a {type(leaf).__name__} among the outputs)")
    tracer.graph.outputs = [tracer.value_of(t) for t in out_leaves]
    tracer.graph.output_spec = spec
    _drop_unused(tracer.graph)
    return tracer.graph


def _drop_unused(graph: Graph) -> None:
    """Remove calls whose results nothing reads and that change nothing: the bookkeeping ops
    autograd runs around in-place calls (copies of saved values, view masks) and values the
    traced code computed without using. In-place calls, random samplers (in place too) and
    calls that update a buffer through an attribute (``param_attrs``) stay."""
    used = {v.id for v in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        if not node.inplace and not node.param_attrs and \
                not any(o.id in used for o in node.outputs):
            continue
        kept.append(node)
        for a in node.inputs:
            if isinstance(a, Value):
                used.add(a.id)
    graph.nodes = kept[::-1]
    for vid in [vid for vid in graph.constants if vid not in used]:
        del graph.constants[vid]


def _push(tracer, path):
    def hook(module, args):
        tracer.scopes.append(path)
    return hook


def _pop(tracer):
    def hook(module, args, output):
        if len(tracer.scopes) > 1:
            tracer.scopes.pop()
    return hook


# -- readable listing ------------------------------------------------------------------------

def _short(a) -> str:
    if hasattr(a, "dtype") and hasattr(a, "shape") and not isinstance(a, np.generic):
        return f"array(shape={tuple(a.shape)}, dtype={a.dtype})"
    if type(a) is tuple:
        inner = ", ".join(_short(x) for x in a)
        return f"({inner},)" if len(a) == 1 else f"({inner})"
    if type(a) is list:
        return f"[{', '.join(_short(x) for x in a)}]"
    if isinstance(a, type):
        return a.__name__
    return repr(a)


def graph_code(graph: Graph, name: str = "forward", method: bool = True) -> str:
    """A Python-like listing of a graph: one line per node (``TracedModule.code``)."""
    names = {}
    for v in graph.inputs:
        names[v.id] = v.name or f"input_{v.index}"
    for pname, v in graph.params.items():
        names[v.id] = f"self.{pname}"
    for i, vid in enumerate(graph.constants):
        names[vid] = f"CONSTANTS.c{i}"
    count = 0
    lines = []
    for node in graph.nodes:
        outs = []
        for o in node.outputs:
            names[o.id] = f"_{count}"
            count += 1
            outs.append(names[o.id])
        args = [names.get(a.id, repr(a)) if isinstance(a, Value) else repr(a)
                for a in node.inputs]
        args += [f"{k}=self.{node.param_attrs[k]}" if k in node.param_attrs else
                 f"{k}={_short(v)}" for k, v in node.attrs.items()]
        call = f"{node.kind}{'_' if node.inplace else ''}({', '.join(args)})"
        scope = f"  # {node.scope}" if node.scope else ""
        lines.append(f"  {', '.join(outs)} = {call}{scope}")
    flat = [names.get(v.id, repr(v)) for v in graph.outputs]
    ret = _spec_text(graph.output_spec, iter(flat)) if graph.output_spec is not None else \
        f"[{', '.join(flat)}]"
    heads = (["self"] if method else []) + [f"{names[v.id]}: Tensor" for v in graph.inputs]
    return "\n".join([f"def {name}({', '.join(heads)}):", *lines, f"  return {ret}", ""])


def _spec_text(spec, it) -> str:
    if spec.is_leaf():
        return next(it)
    parts = [_spec_text(c, it) for c in spec.children_specs]
    if spec.type is tuple or spec.type == "namedtuple":
        return f"({parts[0]},)" if len(parts) == 1 else f"({', '.join(parts)})"
    if spec.type is list:
        return f"[{', '.join(parts)}]"
    if spec.type is dict or (isinstance(spec.type, type) and issubclass(spec.type, dict)):
        keys = spec.context[-1] if spec.type.__name__ == "defaultdict" else spec.context
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(keys, parts)) + "}"
    return f"{getattr(spec.type, '__name__', spec.type)}({', '.join(parts)})"


# -- traced modules and functions ------------------------------------------------------------

def _tensor_leaves(args, kwargs) -> list:
    T = _dispatch._Tensor
    return [t for t in tree_flatten((tuple(args), dict(kwargs)))[0] if isinstance(t, T)]


class _TracedBase:
    """What traced modules and functions share: the graph, its listing, save."""

    @property
    def graph(self) -> Graph:
        """The recorded Graph (ember.jit.ir)."""
        return self._graph

    @property
    def inlined_graph(self) -> Graph:
        return self._graph

    @property
    def code(self) -> str:
        """A readable Python-like listing of the graph."""
        is_module = isinstance(self, Module)
        return graph_code(self._graph, "forward" if is_module else self._name, is_module)

    def save(self, f, _extra_files=None) -> None:
        """Write graph and weights to ``f`` (see ``ember.jit.save``)."""
        from ._serialize import save
        save(self, f, _extra_files=_extra_files)

    def _run(self, args, kwargs, params):
        from .executor import run_graph
        leaves = _tensor_leaves(args, kwargs)
        if len(leaves) != len(self._graph.inputs):
            raise RuntimeError(
                f"{self._name}: the traced graph takes {len(self._graph.inputs)} input tensors "
                f"(as in the example inputs), got {len(leaves)}")
        return run_graph(self._graph, leaves, params)


class TracedModule(_TracedBase, Module):
    """A module whose forward runs a traced graph (``ember.jit.trace`` of a module, or
    ``ember.jit.load``).

    Its parameters and buffers sit under the traced module's names (``fc.weight``), in
    child modules that mirror the original's hierarchy; after ``trace`` they are the
    original module's own tensors (shared, as in PyTorch), so training either trains
    both. The graph is fixed: ``train()``/``eval()`` do not change what was traced
    (dropout traced in training mode stays on), and shapes the Python code computed from
    the example inputs (``x.view(x.size(0), -1)``) are baked into the graph.
    """

    def __init__(self, graph: Graph | None = None, *, original_name: str = "Module"):
        super().__init__()
        object.__setattr__(self, "_graph", graph)
        object.__setattr__(self, "original_name", original_name)
        object.__setattr__(self, "_name", original_name)

    def forward(self, *args, **kwargs):
        if self._graph is None:
            raise RuntimeError(f"{self.original_name}: this submodule of a traced module "
                               "has no graph of its own; call the top-level module")
        params = dict(self.named_parameters())
        params.update(self.named_buffers())
        return self._run(args, kwargs, params)

    def _get_name(self) -> str:
        return self.original_name

    def _place(self, dotted: str, tensor, *, persistent: bool = True) -> None:
        """Register ``tensor`` under ``dotted`` (a parameter if it is a Parameter)."""
        from ..nn.parameter import Parameter
        *path, leaf = dotted.split(".")
        mod = self
        for part in path:
            child = mod._modules.get(part)
            if child is None:
                child = TracedModule(original_name="Module")
                mod.add_module(part, child)
            mod = child
        if isinstance(tensor, Parameter):
            mod.register_parameter(leaf, tensor)
        else:
            mod.register_buffer(leaf, tensor, persistent=persistent)


class TracedFunction(_TracedBase):
    """A traced plain function (``ember.jit.trace`` of a function): calling it runs the graph.

    Example:
        >>> import ember
        >>> f = ember.jit.trace(lambda x: x * 2, (ember.ones(2),))
        >>> f(ember.tensor([1.0, 3.0]))
        tensor([2., 6.])
    """

    def __init__(self, graph: Graph, name: str = "fn"):
        self._graph = graph
        self._name = name
        self.__name__ = name

    def __call__(self, *args, **kwargs):
        return self._run(args, kwargs, {})

    def __repr__(self) -> str:
        return f"<ember.jit.TracedFunction {self._name}>"


def _non_persistent(module) -> set:
    out = set()
    for path, sub in module.named_modules():
        for name in getattr(sub, "_non_persistent_buffers_set", ()):
            out.add(f"{path}.{name}" if path else name)
    return out


def wrap_module(graph: Graph, module, original_name: str | None = None):
    """A TracedModule running ``graph`` that holds ``module``'s parameters and buffers."""
    traced = TracedModule(graph, original_name=original_name or type(module).__name__)
    skip = _non_persistent(module)
    for name, t in _module_state(module).items():
        traced._place(name, t, persistent=name not in skip)
    name_modules(traced, {path: type(sub).__name__ for path, sub in module.named_modules()})
    traced.train(module.training)
    return traced


def name_modules(traced, names: dict) -> None:
    """Give the holder modules of a TracedModule their original class names."""
    for path, sub in traced.named_modules():
        if path and path in names:
            object.__setattr__(sub, "original_name", names[path])


def _clone_tree(args, kwargs):
    from ..utils._pytree import tree_map
    T = _dispatch._Tensor

    def clone(x):
        return x.detach().clone() if isinstance(x, T) else x
    return tree_map(clone, tuple(args)), tree_map(clone, dict(kwargs or {}))


def _check_strict(spec) -> None:
    stack = [spec]
    while stack:
        s = stack.pop()
        if s.is_leaf():
            continue
        if s.type is dict or s.type.__class__ is type and s.type is not tuple and \
                issubclass(s.type, dict):
            raise RuntimeError(_container_message("dict"))
        if s.type is list:
            warnings.warn(_container_message("list"), TracerWarning, stacklevel=3)
        stack.extend(s.children_specs)


def _container_message(kind: str) -> str:
    return (f"Encountering a {kind} at the output of the tracer might cause the trace to be "
            "incorrect, this is only valid if the container structure does not change based on "
            "the module's inputs. Consider using a constant container instead (e.g. for `list`, "
            "use a `tuple` instead. for `dict`, use a `NamedTuple` instead). If you absolutely "
            "need this and know the side effects, pass strict=False to trace() to allow this "
            "behavior.")


def _check_outputs(fn, traced, args, kwargs, tolerance) -> None:
    """Run the Python function and the trace on copies of the inputs; warn where they differ."""
    from ..autograd.grad_mode import no_grad
    T = _dispatch._Tensor
    a1, k1 = _clone_tree(args, kwargs)
    a2, k2 = _clone_tree(args, kwargs)
    with no_grad():
        expected = tree_flatten(fn(*a1, **k1))[0]
        got = tree_flatten(traced(*a2, **k2))[0]
    for i, (e, g) in enumerate(zip(expected, got)):
        if not (isinstance(e, T) and isinstance(g, T)):
            continue
        detail = _mismatch(e, g, tolerance)
        if detail:
            warnings.warn(f"Output nr {i + 1}. of the traced function does not match the "
                          f"corresponding output of the Python function. Detailed error:\n"
                          f"{detail}", TracerWarning, stacklevel=3)


def _mismatch(e, g, tolerance) -> str:
    if tuple(e.shape) != tuple(g.shape):
        return f"The values for attribute 'shape' do not match: {e.shape} != {g.shape}."
    if e.dtype != g.dtype:
        return f"The values for attribute 'dtype' do not match: {e.dtype} != {g.dtype}."
    a = np.asarray(e.detach().cpu().numpy(), dtype=np.float64) if e.dtype.is_floating_point \
        else np.asarray(e.detach().cpu().numpy())
    b = np.asarray(g.detach().cpu().numpy(), dtype=a.dtype)
    if a.dtype.kind not in "fc":
        bad = a != b
        return f"{int(bad.sum())} / {a.size} elements differ." if bad.any() else ""
    atol = 1e-5
    close = np.isclose(a, b, rtol=tolerance, atol=atol, equal_nan=True)
    if close.all():
        return ""
    diff = np.abs(a - b)
    diff[np.isnan(diff)] = np.inf
    return (f"Tensor-likes are not close!\nMismatched elements: {int((~close).sum())} / "
            f"{a.size} ({100.0 * (~close).sum() / a.size:.1f}%)\n"
            f"Greatest absolute difference: {diff.max()} (up to {atol} allowed)")


def trace(func, example_inputs=None, optimize=None, check_trace: bool = True,
          check_inputs=None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs: bool = True):
    """Trace a module or function on example inputs (``torch.jit.trace``).

    Args:
        func: an ``nn.Module`` (its ``forward`` is traced), a method of a module (its
            parameters stay parameters) or a function.
        example_inputs: a tuple of positional arguments (a single Tensor is one argument).
        check_trace: run the Python code and the trace again on the example inputs (or each of
            ``check_inputs``) and warn (TracerWarning) where the outputs differ.
        check_inputs: a list of argument tuples for ``check_trace``.
        check_tolerance: relative tolerance of that comparison.
        strict: refuse dict outputs and warn on list outputs (their structure is baked in).
        example_kwarg_inputs: keyword arguments of the example call.

    Returns:
        A ``TracedModule`` (an ``nn.Module`` holding the original's parameters and buffers,
        with ``.graph``, ``.code`` and ``.save``) for a module; a ``TracedFunction`` for a
        function. Python control flow and tensor-to-Python conversions are evaluated once,
        for the example inputs (TracerWarning says where).

    Example:
        >>> import ember
        >>> m = ember.nn.Linear(3, 2)
        >>> traced = ember.jit.trace(m, ember.ones(1, 3))
        >>> bool((traced(ember.ones(4, 3)) == m(ember.ones(4, 3))).all())
        True
    """
    if isinstance(func, _TracedBase):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. "
                      "Returning the object as is.", stacklevel=2)
        return func
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("trace: example_inputs (or example_kwarg_inputs) is required")
    args = _as_args(example_inputs)
    kwargs = dict(example_kwarg_inputs or {})
    graph = trace_graph(func, args, kwargs=kwargs)
    if strict:
        _check_strict(graph.output_spec)
    owner = _owner(func)
    if owner is not None:
        traced = wrap_module(graph, owner)
    else:
        traced = TracedFunction(graph, getattr(func, "__name__", "fn"))
    if check_trace:
        for inputs in (check_inputs or [args]):
            _check_outputs(func, traced, _as_args(inputs), kwargs, check_tolerance)
    return traced


def trace_module(mod, inputs: dict, optimize=None, check_trace: bool = True,
                 check_inputs=None, check_tolerance: float = 1e-5, strict: bool = True,
                 _force_outplace: bool = False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg: bool = False, _store_inputs: bool = True):
    """``torch.jit.trace_module``: ``inputs`` maps method names to example inputs; ember traces
    ``forward`` only (a TracedModule has one graph)."""
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    other = [k for k in inputs if k != "forward"]
    if other:
        raise NotImplementedError(f"trace_module: ember traces forward only, not {other}")
    example = inputs["forward"]
    if example_inputs_is_kwarg:
        return trace(mod, None, check_trace=check_trace, check_inputs=check_inputs,
                     check_tolerance=check_tolerance, strict=strict,
                     example_kwarg_inputs=example)
    return trace(mod, example, check_trace=check_trace, check_inputs=check_inputs,
                 check_tolerance=check_tolerance, strict=strict)


# -- the rest of torch.jit's names -----------------------------------------------------------
#
# ember has no TorchScript compiler. `script` returns its argument unchanged, so scripted code
# runs eagerly (same results; no `.graph`, and `jit.save` asks for a traced module); the
# decorators TorchScript reads (`ignore`, `unused`, `export`) leave functions as they are.

def is_scripting() -> bool:
    """Always False: ember never compiles TorchScript (code under ``if not is_scripting()``
    always runs)."""
    return False


def script(obj, optimize=None, _frames_up: int = 0, _rcb=None, example_inputs=None):
    """``torch.jit.script`` without a compiler: returns ``obj`` (module, function or class)
    unchanged, so it runs eagerly. Use ``ember.jit.trace`` for a graph that saves and loads.

    Example:
        >>> import ember
        >>> @ember.jit.script
        ... def f(x):
        ...     return x + 1
        >>> f(ember.zeros(1))
        tensor([1.])
    """
    return obj


def _decorator(fn=None, **kwargs):
    if fn is None or isinstance(fn, bool):
        return lambda f: f
    return fn


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` (or ``@ignore(drop=True)``): leaves the function as it is."""
    return _decorator(drop if callable(drop) else None)


def unused(fn):
    """``@torch.jit.unused``: leaves the function as it is."""
    return fn


def export(fn):
    """``@torch.jit.export``: leaves the function as it is."""
    return fn


def annotate(the_type, the_value):
    """``torch.jit.annotate``: returns ``the_value`` (a type hint for TorchScript)."""
    return the_value


def freeze(mod, preserved_attrs=None, optimize_numerics: bool = True):
    """A copy of a traced module whose parameters and buffers are constants of its graph.

    Args:
        mod: a TracedModule in eval mode (``ember.jit.trace(model.eval(), ...)``).
        preserved_attrs: names of parameters/buffers to keep as parameters.

    Returns:
        A TracedModule holding only the preserved tensors; the constants are copies, so later
        training of ``mod`` does not change it.
    """
    if not isinstance(mod, TracedModule) or mod.graph is None:
        raise RuntimeError("Freezing expects a traced module (ember.jit.trace); ember has no "
                           "TorchScript compiler, so ember.jit.script returns the eager module")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    keep = set(preserved_attrs or ())
    graph = mod.graph.copy()
    state = dict(mod.named_parameters())
    state.update(mod.named_buffers())
    consts = {}
    for name, v in list(graph.params.items()):
        if name in keep:
            continue
        c = graph.add_constant(state[name]._data.copy(), shape=v.shape, dtype=v.dtype,
                               device=v.device)
        consts[v.id] = c
        del graph.params[name]
    for node in graph.nodes:
        node.inputs = [consts.get(a.id, a) if isinstance(a, Value) else a for a in node.inputs]
        for key, name in list(node.param_attrs.items()):
            if name not in keep:
                node.attrs[key] = node.attrs[key].copy()
                del node.param_attrs[key]
    graph.outputs = [consts.get(v.id, v) for v in graph.outputs]
    frozen = TracedModule(graph, original_name=mod.original_name)
    for name in keep:
        if name in state:
            frozen._place(name, state[name])
    frozen.train(False)
    return frozen
