"""``ember.compile``: a function or module traced on its first call, optimised, and run as
lowered plans (ember/jit/plan.py) for its forward AND its backward.

Note [How ember.compile works]
    Capture. The first call with a new guard key (below) traces the call with
    ``ember.jit.trace_graph``. When grad mode is on and an input or parameter requires grad,
    the traced function is the *joint* one, ``g(inputs, grad_outputs) = (outputs,
    autograd.grad(outputs, inputs + params, grad_outputs))``: the engine runs each op's
    backward formula through ``apply``, so the tracer records the backward as ops too
    (grad_outputs are extra graph inputs).
    Partition. Nodes that depend on a grad_output are the backward; the rest the forward. The
    forward graph returns the outputs plus the values the backward reads ("saved"); the
    backward graph takes grad_outputs + saved and returns the gradients. Each part is
    optimised (ember.jit.passes.optimize: simplify, fold, CSE, DCE, fusion) and lowered.
    Run. An ``autograd.Function`` whose inputs are the call's tensors and the parameters
    that require grad: forward runs the forward plan and keeps the saved arrays, backward runs
    the backward plan. Gradients reach ``param.grad`` through the normal engine, so any
    optimizer works. Without grad (no_grad, or nothing requires grad) one forward-only plan.
    The capture itself changes nothing: buffers (BatchNorm's running statistics) and the RNG
    state are restored after it and the first call then runs the compiled code like later
    calls do.

Note [Backward formulas that read forward internals]
    A backward formula is traceable when every tensor it reads is a recorded value: an input
    or output of its forward (``saved_tensors``), the incoming gradients, or something
    computed from them with ops. Some formulas also read arrays their forward kept on ``ctx``
    (LayerNorm's mean and inverse std, cross_entropy's target weights, LSTM's gates) and turn
    them into tensors outside ``apply``; the tracer would bake those arrays, from the traced
    call, into the graph as constants. While capturing, every autograd node's ``op`` is
    swapped for a probe that watches this: a formula whose run made the tracer create a new
    constant, recorded an op with an array attribute, or returned a tensor the tracer never
    saw (computed on arrays: SDPA's no-grad backward) is undone in the graph and recorded
    as ONE ``_OpaqueBackward`` node instead, whose input is the forward's ``ctx`` (the forward
    node is swapped for an ``_Exposing`` op that returns its ctx as an extra output, in a 0-d
    object array so plans carry it like any value). At run time that node calls the op's own
    ``backward`` on the ctx the forward plan filled (eagerly, with Tensors, under no_grad):
    correct for any op, a little slower. The cost is the forward ctx kept alive until
    backward, as eager mode keeps it.

Note [Guards]
    A compiled entry is valid for: the structure of the arguments, each tensor's shape, dtype,
    device and requires_grad, the values of non-tensor arguments, grad mode, autocast state,
    every submodule's ``training`` flag and the parameters' identity and requires_grad. A
    new key traces again; past ``cache_size_limit`` (8, as torch._dynamo.config) new keys
    run eagerly with one warning. ``dynamic=True`` is accepted but not symbolic yet: a new
    batch size is a new entry (a retrace), as with ``dynamic=False``.

Differences from torch.compile: no bytecode analysis, so a graph break (data-dependent Python
control flow: ``.item()``, ``bool(tensor)``, ... seen as a TracerWarning; a function under
``ember.compiler.disable``; ``backward()`` inside the compiled code) makes the whole entry run
eagerly (one warning per compiled object), rather than splitting the graph. Non-tensor
outputs are constants of the entry. Functions (not modules) get the parameters and buffers of
the modules they reach through their closure and globals (and a method's object); other
captured leaf tensors that require grad become graph params too. Double backward through
compiled code is not supported (torch's AOT autograd says the same).
"""

from __future__ import annotations

import contextlib
import threading
import types
import warnings
import weakref

import numpy as np

from .. import _autocast, _dispatch
from .._dispatch import Op
from ..autograd.grad_mode import state as _grad_state
from ..nn.modules.module import Module
from ..ops.random import fork_rng
from ..utils._pytree import tree_flatten, tree_unflatten
from . import _tracer
from .ir import Graph, Node, Value

__all__ = ["compile", "OptimizedModule", "CompiledFunction", "cache_size_limit", "reset"]

cache_size_limit = 8
_local = threading.local()
_BACKENDS = ("inductor", "eager", "aot_eager", "ember")
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class _Unsupported(Exception):
    """Why a call cannot be captured (the entry then runs eagerly)."""


class _GraphBreak(_Unsupported):
    pass


def is_compiling() -> bool:
    return bool(getattr(_local, "depth", 0))


# -- the ops a compiled graph adds ------------------------------------------------------------

class _Needed:
    """A non-None ``next_nodes`` entry: the input needs a gradient (``needs_input_grad``)."""


_NEEDED = _Needed()


class _OpaqueBackward(Op):
    """One op's backward formula run on the ctx its forward filled in the forward plan (Note
    [Backward formulas that read forward internals]); inputs: the ctx box, then the incoming
    gradients; outputs: the gradients at ``positions``."""

    name = "opaque_backward"
    differentiable = False

    @staticmethod
    def forward(ctx, box, *grads, op, in_shapes, needs, n_out, positions):
        from ..autograd.grad_mode import no_grad
        T = _dispatch._Tensor
        fctx = box[()]
        saved = fctx.__dict__.get("_saved")
        if saved is not None:
            fctx._saved_resolved = [
                ("scalar", a) if a is None or not hasattr(a, "dtype") else
                ("const", np.asarray(a) if isinstance(a, np.generic) else a) for a in saved]
        fctx.in_shapes = in_shapes
        fctx.next_nodes = tuple(_NEEDED if n else None for n in needs)
        fctx.next_nrs = (0,) * len(needs)
        fctx._n_out = n_out
        with no_grad():
            out = op.backward(fctx, *[T._make(g) if g is not None else None for g in grads])
        if type(out) is not tuple and type(out) is not list:
            out = (out,)
        return tuple(out[i]._data for i in positions)


_EXPOSING: dict = {}
_PROBES: dict = {}


def _exposing(op):
    """``op`` whose forward also returns its ctx (in a 0-d object array)."""
    cls = _EXPOSING.get(op)
    if cls is None:
        base_forward = op.forward

        def forward(ctx, *arrays, **attrs):
            out = base_forward(ctx, *arrays, **attrs)
            box = np.empty((), dtype=object)
            box[()] = ctx
            if type(out) is tuple or type(out) is list:
                return (*out, box)
            return (out, box)

        cls = _EXPOSING[op] = type(op.__name__, (op,), {
            "forward": staticmethod(forward), "__module__": __name__,
            "__qualname__": f"_Exposing.{op.__qualname__}", "exposes": op})
    return cls


def _probe_op(op):
    """``op`` whose backward goes through the active capture's probe."""
    cls = _PROBES.get(op)
    if cls is None:
        def backward(ctx, *grads):
            return _local.probe.run(op, ctx, grads)

        cls = _PROBES[op] = type(op.__name__, (op,), {
            "backward": staticmethod(backward), "__module__": __name__,
            "__qualname__": f"_Probe.{op.__qualname__}", "probes": op})
    return cls


class _Probe:
    """Watches each backward formula while the joint trace runs (Note [Backward formulas that
    read forward internals])."""

    def __init__(self, tracer):
        self.tracer = tracer
        self.swapped = []
        self.ctx_values: dict[int, Value] = {}

    def install(self, roots, inputs) -> None:
        # The history the inputs brought (eager code before the compiled call) is not ours.
        seen = {id(t.grad_fn) for t in inputs if t.grad_fn is not None}
        stack = [t.grad_fn for t in roots if t.grad_fn is not None]
        while stack:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            op = getattr(node, "op", None)
            if isinstance(node, _dispatch.Node) and isinstance(op, type) and \
                    issubclass(op, Op) and op is not _dispatch._CopySlices:
                self.swapped.append((node, op))
                node.op = _probe_op(op)
            stack.extend(n for n in getattr(node, "next_nodes", ()) if n is not None)

    def uninstall(self) -> None:
        for node, op in self.swapped:
            node.op = op
        self.swapped = []

    def forward_node(self, ctx):
        for nr in range(max(1, ctx._n_out or 1)):
            v = self.tracer.by_grad_fn.get((id(ctx), nr))
            if v is not None:
                return v.node
        return None

    def run(self, op, ctx, grads):
        graph = self.tracer.graph
        n_nodes, n_consts = len(graph.nodes), len(graph.constants)
        out = op.backward(ctx, *grads)
        outs = out if type(out) is tuple or type(out) is list else (out,)
        known = self.tracer.values
        if len(graph.constants) == n_consts and \
                all(o is None or id(o) in known for o in outs) and \
                not any(_has_array(a) for n in graph.nodes[n_nodes:] for a in n.attrs.values()):
            return out
        fwd = self.forward_node(ctx)
        if fwd is None or fwd.inplace or fwd.op is _tracer.PythonFunction:
            raise _Unsupported(f"the backward of {op.name} reads values its forward kept "
                               "outside the recorded ops")
        del graph.nodes[n_nodes:]
        dropped = set(list(graph.constants)[n_consts:])
        for vid in dropped:
            del graph.constants[vid]
        values = self.tracer.values
        for key in [k for k, entry in values.items() if entry[0].id in dropped]:
            del values[key]
        box = self.ctx_values.get(id(fwd))
        if box is None:
            fwd.op = _exposing(fwd.op)
            box = Value("node", node=fwd, index=len(fwd.outputs), shape=(), dtype=None,
                        device=fwd.outputs[0].device if fwd.outputs else None)
            fwd.outputs.append(box)
            self.ctx_values[id(fwd)] = box
        positions = tuple(i for i, o in enumerate(outs) if o is not None)
        ins = [box] + [self.tracer.value_of(g) if g is not None else None for g in grads]
        attrs = {"op": op, "in_shapes": tuple(ctx.in_shapes), "n_out": ctx._n_out,
                 "needs": tuple(n is not None for n in ctx.next_nodes), "positions": positions}
        node = graph.add_node(_OpaqueBackward, ins, attrs, len(positions),
                              [_tracer._meta(outs[i]) for i in positions])
        node.no_grad = True
        for i, v in zip(positions, node.outputs):
            self.tracer.bind(outs[i], v)
        return out


def _has_array(a) -> bool:
    if type(a) is tuple or type(a) is list:
        return any(_has_array(x) for x in a)
    return hasattr(a, "dtype") and hasattr(a, "shape") and not isinstance(a, np.generic)


# Note [GELU keeps its CDF for backward]
#     Exact GELU's forward computes Phi(x) = (1 + erf(x / sqrt 2)) / 2 and its backward needs
#     Phi(x) again (gelu'(x) = Phi(x) + x phi(x)); erf is most of either's cost on CPU. In a
#     joint graph the forward returns Phi too and the backward reads it instead of computing
#     erf again (the same float operations in the same order as eager mode's kernels, so the
#     values are the same), at the memory of one more saved activation. Inductor makes this
#     kind of save-vs-recompute choice too.

class _GeluWithCdf(Op):
    """(gelu(x), Phi(x)) for exact GELU (Note [GELU keeps its CDF for backward])."""

    name = "gelu_with_cdf"
    promote = "same"
    upcast = True
    differentiable = False

    @staticmethod
    def forward(ctx, x):
        from ..ops.activation import _SQRT1_2, _erf
        xp = ctx.xp
        cdf = _erf(xp, x * _SQRT1_2)
        xp.add(cdf, 1.0, out=cdf)
        xp.multiply(cdf, 0.5, out=cdf)
        return x * cdf, cdf


class _GeluBackwardFromCdf(Op):
    """grad * (Phi(x) + x phi(x)) with Phi from the forward."""

    name = "gelu_backward_from_cdf"
    promote = "same"
    upcast = True
    differentiable = False

    @staticmethod
    def forward(ctx, grad, x, cdf):
        from ..ops.activation import _INV_SQRT_2PI
        xp = ctx.xp
        pdf = x * x
        xp.multiply(pdf, -0.5, out=pdf)
        xp.exp(pdf, out=pdf)
        xp.multiply(pdf, x, out=pdf)
        xp.multiply(pdf, _INV_SQRT_2PI, out=pdf)
        xp.add(cdf, pdf, out=pdf)
        return xp.multiply(pdf, grad, out=pdf) if pdf.shape == grad.shape else pdf * grad


def _gelu_saves_cdf(graph: Graph, backward_ids: set) -> None:
    """Rewrite exact-GELU forward/backward pairs (Note [GELU keeps its CDF for backward])."""
    from ..ops.activation import Gelu, GeluBackward
    floats = ("float32", "float64")
    pairs = {}
    for node in graph.nodes:
        if node.op is Gelu and node.attrs.get("approximate", "none") == "none" and \
                not node.inplace and isinstance(node.inputs[0], Value) and \
                node.inputs[0].shape and str(node.inputs[0].dtype).split(".")[-1] in floats:
            pairs[node.inputs[0].id] = node
    for node in graph.nodes:
        if node.op is not GeluBackward or node.attrs.get("approximate", "none") != "none":
            continue
        grad, x = node.inputs
        fwd = pairs.get(getattr(x, "id", None))
        if fwd is None or not isinstance(grad, Value) or grad.id not in backward_ids or \
                tuple(grad.shape) != tuple(x.shape) or grad.dtype != x.dtype:
            continue
        if len(fwd.outputs) == 1:
            fwd.op = _GeluWithCdf
            fwd.attrs = {}
            fwd.outputs.append(Value("node", node=fwd, index=1, shape=x.shape, dtype=x.dtype,
                                     device=x.device))
        node.op = _GeluBackwardFromCdf
        node.attrs = {}
        node.inputs = [grad, x, fwd.outputs[1]]


# -- capture --------------------------------------------------------------------------------

def _modules_reached(fn) -> list:
    """Modules a plain function reads through its closure or globals (their parameters and
    buffers become graph params, not constants)."""
    found = []
    code = getattr(fn, "__code__", None)
    cells = getattr(fn, "__closure__", None) or ()
    candidates = [c.cell_contents for c in cells if _cell_filled(c)]
    if code is not None:
        g = getattr(fn, "__globals__", {})
        candidates += [g[n] for n in code.co_names if n in g]
    owner = getattr(fn, "__self__", None)
    if owner is not None and not isinstance(owner, Module):
        candidates += list(getattr(owner, "__dict__", {}).values())  # a method of a trainer
    for obj in candidates:
        if isinstance(obj, Module) and all(obj is not m for m in found):
            found.append(obj)
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, Module) and all(owner is not m for m in found):
            found.append(owner)
    return found


def _cell_filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


class _Holder(Module):
    """The modules a plain function reaches, as one module (for their state's names)."""

    def __init__(self, modules):
        super().__init__()
        for i, m in enumerate(modules):
            self.add_module(f"m{i}", m)


class _Entry:
    """What one guard key runs: ``kind`` "plan" (forward-only), "joint" or "eager"."""

    __slots__ = ("kind", "fwd", "bwd", "n_out", "out_spec", "out_consts", "diff", "nondiff",
                 "wrt_inputs", "wrt_params", "grad_slots", "reason")

    def __init__(self, kind):
        self.kind = kind
        self.reason = None


def _snapshot(owner) -> list:
    """Copies of the buffers a capture may write (restored after it, Note [How ember.compile
    works]); the RNG streams are kept by ``fork_rng`` around the capture."""
    return [(b, b._data.copy()) for b in owner.buffers()] if owner is not None else []


def _restore(snap) -> None:
    for b, arr in snap:
        b._data[...] = arr


def _lift_captured(tracer, lifted: list) -> None:
    """Captured leaf tensors that require grad become params ``_captured.<k>`` (so gradients
    reach them) instead of constants."""
    value_of = tracer.value_of

    def lifting(t):
        if id(t) not in tracer.values and t._rg and t.grad_fn is None and \
                id(t) not in tracer.params:
            name = f"_captured.{len(lifted)}"
            lifted.append((name, t))
            v = tracer.graph.add_param(name, **_tracer._meta(t))
            tracer.bind(t, v)
            return v
        return value_of(t)

    tracer.value_of = lifting


def _capture(call, owner, leaves, spec, joint: bool):
    """Trace one call; returns (graph, info). ``call(*args, **kwargs)`` runs the user code."""
    from ..autograd import grad as autograd_grad
    T = _dispatch._Tensor
    tensor_pos = [i for i, x in enumerate(leaves) if isinstance(x, T)]
    info = {"lifted": []}

    def run(self, *tensors):
        tracer = _tracer._active()
        _lift_captured(tracer, info["lifted"])
        flat = list(leaves)
        for i, t in zip(tensor_pos, tensors):
            flat[i] = t
        args, kwargs = tree_unflatten(flat, spec)
        out = call(*args, **kwargs)
        out_leaves, out_spec = tree_flatten(out)
        outs = [o for o in out_leaves if isinstance(o, T)]
        info["out_spec"] = out_spec
        info["out_consts"] = [None if isinstance(o, T) else o for o in out_leaves]
        info["n_out"] = len(outs)
        if not joint:
            return outs
        info["diff"] = diff = [k for k, o in enumerate(outs) if o._rg]
        info["nondiff"] = [k for k, o in enumerate(outs) if not o._rg]
        # Each tensor once (a tensor passed twice, or also a parameter, would get its
        # gradient twice from the Function).
        taken = set()
        wrt_inputs = []
        for k, t in enumerate(tensors):
            if t._rg and id(t) not in taken:
                taken.add(id(t))
                wrt_inputs.append(k)
        state = [(name, p) for name, p in _tracer._module_state(owner).items()
                 if p._rg] if owner is not None else []
        state += [(n, p) for n, p in info["lifted"]]
        state = [(n, p) for n, p in state if id(p) not in taken]
        info["wrt_inputs"] = wrt_inputs
        info["wrt_params"] = state
        info["gouts"] = []
        if not diff:
            return outs
        gouts = []
        for k in diff:
            o = outs[k]
            g = T._make(_ones_like(o._data))
            v = tracer.graph.add_input(f"grad_output_{k}", **_tracer._meta(g))
            tracer.bind(g, v)
            gouts.append(g)
            info["gouts"].append(v)
        wrt = [tensors[k] for k in wrt_inputs] + [p for _, p in state]
        probe = _Probe(tracer)
        probe.install([outs[k] for k in diff], tensors)
        prev = getattr(_local, "probe", None)
        _local.probe = probe
        try:
            grads = autograd_grad([outs[k] for k in diff], wrt, gouts, allow_unused=True)
        finally:
            _local.probe = prev
            probe.uninstall()
        info["grad_slots"] = [j for j, g in enumerate(grads) if g is not None]
        return outs + [g for g in grads if g is not None]

    fn = types.MethodType(run, owner) if owner is not None else types.MethodType(run, object())
    example = tuple(leaves[i] for i in tensor_pos)
    from ..autograd import engine
    run_backward = engine.run_backward

    def guarded(*a, **k):
        # backward()/autograd.grad inside the compiled code (a whole training step compiled)
        # would change .grad and, after it, the optimizer's state during the capture.
        if is_compiling() and getattr(_local, "probe", None) is None:
            raise _GraphBreak("the compiled code runs backward() or autograd.grad itself; "
                              "compile the model (or the forward and loss) instead")
        return run_backward(*a, **k)

    engine.run_backward = guarded
    try:
        graph = _tracer.trace_graph(fn, example)
    finally:
        engine.run_backward = run_backward
    return graph, info


def _ones_like(arr):
    from .._device import xp_of
    return xp_of(arr).ones(arr.shape, dtype=arr.dtype)


# -- partition ------------------------------------------------------------------------------

def _subgraph(src: Graph, inputs, nodes, outputs) -> Graph:
    """A new graph of ``nodes`` (fresh Values and Nodes) taking ``inputs`` (Values of src)."""
    g = Graph()
    new: dict[int, Value] = {}

    def meta(v):
        return {"shape": v.shape, "dtype": v.dtype, "device": v.device,
                "requires_grad": v.requires_grad}

    for v in inputs:
        new[v.id] = g.add_input(v.name, **meta(v))

    def get(v):
        if not isinstance(v, Value):
            return v
        c = new.get(v.id)
        if c is None:
            if v.kind == "param":
                c = g.add_param(v.name, **meta(v))
            elif v.kind == "const":
                c = g.add_constant(src.constants[v.id], **meta(v))
            else:
                raise _Unsupported(f"jit.compile: value {v!r} crosses the forward/backward split")
            new[v.id] = c
        return c

    for node in nodes:
        n = Node(node.op, [get(a) for a in node.inputs], node.attrs, [], inplace=node.inplace,
                 scope=node.scope, param_attrs=node.param_attrs, no_grad=node.no_grad)
        n.outputs = [Value("node", node=n, index=o.index, name=o.name, **meta(o))
                     for o in node.outputs]
        for o, c in zip(node.outputs, n.outputs):
            new[o.id] = c
        g.nodes.append(n)
    g.outputs = [get(v) for v in outputs]
    return g


def _backward_ids(graph: Graph, gouts) -> set:
    """Ids of the grad_output inputs and of every node output that depends on one."""
    ids = {v.id for v in gouts}
    for node in graph.nodes:
        if any(isinstance(a, Value) and a.id in ids for a in node.inputs):
            ids.update(o.id for o in node.outputs)
    return ids


def _split(graph: Graph, n_user: int, gouts: list, n_out: int):
    """(forward graph, backward graph, number of saved values) of a joint graph."""
    bwd_ids = _backward_ids(graph, gouts)
    _gelu_saves_cdf(graph, bwd_ids)
    fwd_nodes, bwd_nodes = [], []
    for node in graph.nodes:
        if node.outputs and node.outputs[0].id in bwd_ids:
            bwd_nodes.append(node)
        else:
            fwd_nodes.append(node)
    saved, seen = [], set()

    def need(v):
        if isinstance(v, Value) and v.id not in bwd_ids and v.kind in ("node", "input") \
                and v.id not in seen:
            seen.add(v.id)
            saved.append(v)

    for node in bwd_nodes:
        for a in node.inputs:
            need(a)
    for v in graph.outputs[n_out:]:
        need(v)
    user_inputs = graph.inputs[:n_user]
    fwd = _subgraph(graph, user_inputs, fwd_nodes, graph.outputs[:n_out] + saved)
    bwd = _subgraph(graph, list(gouts) + saved, bwd_nodes, graph.outputs[n_out:])
    return fwd, bwd, len(saved)


def _lower(graph: Graph, params: dict):
    from . import passes, plan
    graph = passes.optimize(graph)
    return plan.lower(graph, params)


# -- running --------------------------------------------------------------------------------

def _make_function():
    from ..autograd.function import Function

    class CompiledStep(Function):
        """Forward and backward plans of one compiled entry, as one autograd node."""

        @staticmethod
        def forward(ctx, entry, n_user, *tensors):
            outs = entry.fwd(*tensors[:n_user])
            ctx.entry = entry
            ctx.saved = [t._data for t in outs[entry.n_out:]]
            ctx.n_in = len(tensors)
            res = outs[:entry.n_out]
            if entry.nondiff:
                ctx.mark_non_differentiable(*[res[k] for k in entry.nondiff])
            return tuple(res)

        @staticmethod
        def backward(ctx, *grads):
            entry = ctx.entry
            if ctx.saved is None:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). (in ember.compile's "
                    "CompiledFunctionBackward)")
            res = entry.bwd(*[grads[k] for k in entry.diff], *ctx.saved)
            out = [None] * ctx.n_in
            for slot, g in zip(entry.grad_slots, res):
                out[slot] = g
            if _grad_state.enabled:         # create_graph=True: these grads have no history
                anchor = next((g for g in grads if g is not None and g.requires_grad), None)
                if anchor is not None:
                    out = [NoDoubleBackward.apply(anchor, g) if g is not None else None
                           for g in out]
            return (None, None, *out)

    class NoDoubleBackward(Function):
        """A compiled backward's gradient under create_graph: differentiating it raises."""

        @staticmethod
        def forward(ctx, anchor, g):
            return g.detach().clone()

        @staticmethod
        def backward(ctx, grad):
            raise RuntimeError("ember.compile: double backward through compiled code is not "
                               "supported (torch.compile with aot_autograd does not currently "
                               "support double backward); call the model eagerly for "
                               "higher-order gradients")

    return CompiledStep


_STEP = []


def _step_function():
    if not _STEP:
        _STEP.append(_make_function())
    return _STEP[0]


class CompiledFunction:
    """A callable compiled by ``ember.compile`` (a function, or a module's ``__call__``)."""

    def __init__(self, fn, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
                 options=None):
        self._fn = fn
        self._owner = fn if isinstance(fn, Module) else _tracer._owner(fn)
        self._holder = None
        if self._owner is None:
            reached = _modules_reached(fn)
            if reached:
                self._holder = _Holder(reached)
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.backend = backend
        self.mode = mode
        self.options = dict(options or {})
        self._cache: dict = {}
        self._bound: dict = {}
        self._warned = False
        _LIVE.add(self)
        self._modules = None
        self._params = None
        self.__wrapped__ = fn
        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            if hasattr(fn, attr):
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(self, attr, getattr(fn, attr))

    def __repr__(self) -> str:
        return f"CompiledFunction({self._fn!r}, entries={len(self._cache)})"

    def __deepcopy__(self, memo):
        # Compiled entries hold the original's parameters: a copy compiles again, for its own.
        import copy
        return CompiledFunction(copy.deepcopy(self._fn, memo), fullgraph=self.fullgraph,
                                dynamic=self.dynamic, backend=self.backend, mode=self.mode,
                                options=self.options)

    def __reduce__(self):
        return (_rebuild, (self._fn, self.fullgraph, self.dynamic, self.backend, self.mode,
                           self.options))

    def __get__(self, obj, objtype=None):
        # A compiled method: one CompiledFunction per instance, over the bound method (so a
        # module's parameters are graph params).
        if obj is None:
            return self
        bound = self._bound.get(id(obj))
        if bound is None or bound[0]() is not obj:
            c = CompiledFunction(types.MethodType(self._fn, obj), fullgraph=self.fullgraph,
                                 dynamic=self.dynamic, backend=self.backend, mode=self.mode,
                                 options=self.options)
            bound = self._bound[id(obj)] = (weakref.ref(obj), c)
        return bound[1]

    @property
    def _state_owner(self):
        return self._owner if self._owner is not None else self._holder

    def _guard(self, leaves, spec):
        T = _dispatch._Tensor
        parts = []
        for x in leaves:
            if isinstance(x, T):
                d = x._data
                parts.append((d.shape, d.dtype.str, type(d), getattr(d, "device", None),
                              x._rg))
            else:
                try:
                    hash(x)
                    parts.append((type(x), x))
                except TypeError:
                    parts.append(("id", id(x)))
        owner = self._state_owner
        if owner is not None:
            if self._modules is None:
                self._modules = list(owner.modules())
                self._params = [p for _, p in _tracer._module_state(owner).items()]
            mods = tuple(m.training for m in self._modules)
            params = tuple((id(p), p._rg) for p in self._params)
        else:
            mods = params = ()
        amp = tuple(sorted((k, str(v)) for k, v in _autocast.state.dtypes.items())) \
            if _autocast.active[0] else ()
        return (spec, tuple(parts), _grad_state.enabled, mods, params, amp)

    def __call__(self, *args, **kwargs):
        T = _dispatch._Tensor
        leaves, spec = tree_flatten((args, kwargs))
        key = self._guard(leaves, spec)
        entry = self._cache.get(key)
        if entry is None:
            if len(self._cache) >= cache_size_limit:
                self._fallback(f"cache_size_limit ({cache_size_limit}) reached: a new input "
                               "signature (shape, dtype, device, grad mode or train/eval)")
                return self._fn(*args, **kwargs)
            entry = self._compile(leaves, spec)
            self._cache[key] = entry
        if entry.kind == "eager":
            return self._fn(*args, **kwargs)
        tensors = [x for x in leaves if isinstance(x, T)]
        if entry.kind == "plan":
            outs = entry.fwd(*tensors)
        else:
            params = [p for _, p in entry.wrt_params]
            outs = _step_function().apply(entry, len(tensors), *tensors, *params)
            if not isinstance(outs, tuple):
                outs = (outs,)
        it = iter(outs)
        flat = [next(it) if c is None else c for c in entry.out_consts]
        return tree_unflatten(flat, entry.out_spec)

    def _fallback(self, reason: str) -> None:
        if self.fullgraph:
            raise RuntimeError(f"ember.compile(fullgraph=True): cannot capture "
                               f"{getattr(self._fn, '__name__', type(self._fn).__name__)} in "
                               f"one graph: {reason}")
        if not self._warned:
            self._warned = True
            warnings.warn(f"ember.compile: falling back to eager for {self._name()}: {reason}. "
                          "(torch._dynamo would graph-break here; ember runs the whole call "
                          "eagerly.)", UserWarning, stacklevel=3)

    def _name(self) -> str:
        fn = self._fn
        return getattr(fn, "__qualname__", None) or type(fn).__name__

    def _compile(self, leaves, spec) -> _Entry:
        T = _dispatch._Tensor
        owner = self._state_owner
        tensors = [x for x in leaves if isinstance(x, T)]
        needs = _grad_state.enabled and (
            any(t._rg for t in tensors) or
            (owner is not None and any(p._rg for p in owner.parameters())))
        if self._holder is None and self._owner is None and _grad_state.enabled:
            needs = True        # captured tensors may require grad: find out while tracing
        snap = _snapshot(owner)
        if self._fn is owner:
            call = self._fn.__call__
        else:
            call = self._fn
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            with warnings.catch_warnings(record=True) as caught, fork_rng():
                warnings.simplefilter("always")
                graph, info = _capture(call, owner, leaves, spec, joint=needs)
        except _Unsupported as e:
            return self._eager(str(e))
        except Exception as e:          # capture limits look like errors: eager decides
            return self._eager(f"{type(e).__name__}: {e}")
        finally:
            _local.depth -= 1
            _restore(snap)
        tracer_warnings = [w for w in caught if issubclass(w.category, _tracer.TracerWarning)]
        for w in caught:
            if not issubclass(w.category, _tracer.TracerWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if tracer_warnings:
            return self._eager(f"data-dependent Python ({tracer_warnings[0].message})"[:300])
        params = dict(_tracer._module_state(owner)) if owner is not None else {}
        params.update(info.get("lifted", ()))
        try:
            return self._build(graph, info, params, len(tensors), needs)
        except _Unsupported as e:
            return self._eager(str(e))

    def _eager(self, reason: str) -> _Entry:
        self._fallback(reason)
        entry = _Entry("eager")
        entry.reason = reason
        return entry

    def _build(self, graph, info, params, n_user, joint) -> _Entry:
        gouts = info.get("gouts") or []
        n_out = info["n_out"]
        if joint and gouts:
            entry = _Entry("joint")
            fwd, bwd, _ = _split(graph, n_user, gouts, n_out)
            entry.fwd = _lower(fwd, params)
            entry.bwd = _lower(bwd, params)
            entry.diff = info["diff"]
            entry.nondiff = info["nondiff"]
            n_wrt_in = len(info["wrt_inputs"])
            slots = [info["wrt_inputs"][j] if j < n_wrt_in else n_user + (j - n_wrt_in)
                     for j in info["grad_slots"]]
            entry.grad_slots = slots
            entry.wrt_params = info["wrt_params"]
        else:
            entry = _Entry("plan")
            if joint:       # nothing differentiable came out: forward-only
                graph = _subgraph(graph, graph.inputs[:n_user], graph.nodes,
                                  graph.outputs[:n_out])
            entry.fwd = _lower(graph, params)
        entry.n_out = n_out
        entry.out_spec = info["out_spec"]
        entry.out_consts = info["out_consts"]
        return entry

    def reset(self) -> None:
        """Forget every compiled entry (the next call traces again)."""
        self._cache.clear()
        self._warned = False
        self._modules = None
        self._params = None


_LIVE: weakref.WeakSet = weakref.WeakSet()


def _rebuild(fn, fullgraph, dynamic, backend, mode, options):
    return CompiledFunction(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                            mode=mode, options=options)


def reset() -> None:
    """Forget the compiled entries of every compiled object (``torch._dynamo.reset``)."""
    for c in list(_LIVE):
        c.reset()


class OptimizedModule(Module):
    """What ``ember.compile(module)`` returns: a module that runs ``_orig_mod`` compiled.

    Parameters, buffers and submodules are ``_orig_mod``'s (state_dict keys are prefixed
    ``_orig_mod.``, as torch's); other attributes are read from ``_orig_mod``.
    """

    def __init__(self, mod: Module, compiled: CompiledFunction):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled"] = compiled

    def forward(self, *args, **kwargs):
        return self.__dict__["_compiled"](*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            mod = self.__dict__.get("_modules", {}).get("_orig_mod")
            if mod is None:
                raise
            return getattr(mod, name)

    def _get_name(self) -> str:
        return "OptimizedModule"


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor",
            mode=None, options=None, disable: bool = False):
    """Compile a function or module: traced on its first call per input signature, then run
    as optimised lowered plans (forward and backward). See Note [How ember.compile works].

    Args:
        model: a function or an ``nn.Module``; None returns a decorator.
        fullgraph: raise instead of falling back to eager when a call cannot be captured.
        dynamic: accepted as torch's; ember retraces per input shape either way (a batch size
            is not symbolic yet).
        backend: "inductor" (default), "eager", "aot_eager" or "ember": all run ember's plans;
            a callable backend is not supported.
        mode, options: accepted for torch compatibility; no effect.
        disable: return ``model`` unchanged.

    Returns:
        A ``CompiledFunction`` for a function, an ``OptimizedModule`` for a module.

    Example:
        >>> import ember
        >>> f = ember.compile(lambda x: (x * 2).relu() + 1)
        >>> f(ember.tensor([-1.0, 0.5, 2.0]))
        tensor([1., 2., 5.])
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: "
                           f"{', '.join(str(m) for m in _MODES if m)}")
    if callable(backend) or backend not in _BACKENDS:
        raise ValueError(f"ember.compile: backend {backend!r} is not supported; use one of "
                         f"{', '.join(_BACKENDS)}")
    kwargs = {"fullgraph": fullgraph, "dynamic": dynamic, "backend": backend, "mode": mode,
              "options": options}
    if model is None:
        def decorate(fn):
            return compile(fn, disable=disable, **kwargs)
        return decorate
    if not callable(model):
        raise RuntimeError(f"ember.compile: expected a callable, got {type(model).__name__}")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, CompiledFunction(model, **kwargs))
    return CompiledFunction(model, **kwargs)
