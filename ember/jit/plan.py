"""The lowered plan: a Graph turned into a flat list of steps that call each op's ``forward``
directly on backend arrays. No Tensor per intermediate, no autograd recording, no observers:
an inference (no-grad) executor, the fast path of graph mode.

What ``lower`` decides once, so that calls do not:
- each node's compute dtype and input casts, following the promotion ``apply`` performs
  (PyTorch's rules, from the recorded dtypes), and each output's dtype (the recorded one);
- where every value lives (a slot in a flat list), parameters and constants bound once
  (parameters are read from their tensors at each call, so an optimizer's in-place updates
  are seen);
- when each intermediate is last read: its slot is cleared right after (memory is returned as
  early as possible);
- memory planning: steps that can write into a given buffer (fused nodes and single
  elementwise ops, see passes/fusion.py) take a dead intermediate's buffer of the same shape
  and dtype instead of allocating (Note [Buffer reuse in a plan]).

Example:
    >>> import ember
    >>> from ember.jit import passes, plan
    >>> g = passes.optimize(ember.jit.trace_graph(lambda x: (x * 2).relu() + 1, (ember.ones(3),)))
    >>> p = plan.lower(g)
    >>> p(ember.tensor([-1.0, 0.5, 2.0]))
    tensor([1., 2., 5.])
"""

from __future__ import annotations

import sys

import numpy as np

from .. import _dtype as D
from .._dispatch import Node as _Ctx
from .ir import Graph, Value
from .passes import fusion

__all__ = ["Plan", "lower"]

_new = object.__new__
_HALF = (np.dtype(np.float16), D.bfloat16.np)
_F32 = np.dtype(np.float32)
_BF16 = D.bfloat16.np
_getrefcount = sys.getrefcount

# Note [Buffer reuse in a plan]
#     When a value's last reader has run, the plan drops its slot. If nobody else holds the
#     array (no view of it, no other slot: the reference count says so, since a NumPy or CuPy
#     view keeps its base alive) and it owns its memory, it goes to a pool keyed by shape and
#     dtype; the next step that writes into a given buffer (``out=``) and produces that shape
#     and dtype takes it. Graph outputs, inputs, parameters and constants never enter the pool,
#     and the pool lives for one call (nothing is kept between calls).


def _np_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, np.dtype):
        return dtype
    return D.to_dtype(dtype).np


def _promotion(node):
    """(compute dtype or None, casts [(arg index, dtype)], bfloat16 numbers [arg index]) for a
    node, as ``_dispatch._unwrap`` decides it at run time."""
    op = node.op
    if op.promote is None:
        return None, (), ()
    tensors = [(i, v) for i, v in enumerate(node.inputs) if isinstance(v, Value)]
    numbers = [(i, v) for i, v in enumerate(node.inputs)
               if not isinstance(v, Value) and v is not None]
    dts = [_np_dtype(v.dtype) for _, v in tensors]
    if not dts or any(d is None for d in dts):
        return None, (), ()
    same = not numbers and all(d == dts[0] for d in dts)
    if same:
        want = dts[0]
        if op.promote == "float" and want.kind in "biu":
            want = D.get_default_dtype().np
    else:
        items = [(D.from_numpy_dtype(d), 2 if len(v.shape) else 1)
                 for d, (_, v) in zip(dts, tensors)]
        items += [(D.scalar_dtype(n), 0) for _, n in numbers]
        res = D.result_type_of(items)
        if op.promote == "float" and not (res.is_floating_point or res.is_complex):
            res = D.get_default_dtype()
        want = res.np
    upcast = op.upcast or (bool(numbers) and op.scalar_opmath)
    compute = _F32 if (upcast and want in _HALF) else want
    casts = tuple((i, compute) for (i, _), d in zip(tensors, dts) if d != compute)
    bf16 = tuple(i for i, n in numbers if isinstance(n, (int, float))) if compute == _BF16 \
        else ()
    return compute, casts, bf16


class Plan:
    """A lowered graph: call it with the graph's inputs (Tensors or arrays); returns Tensors in
    the traced output structure. Runs without autograd (an inference executor)."""

    def __init__(self, graph, steps, n_slots, template, input_slots, param_slots,
                 written_consts, output_slots, descriptions):
        self.graph = graph
        self.steps = steps
        self._n_slots = n_slots
        self._template = template
        self._input_slots = input_slots
        self._param_slots = param_slots
        self._written = written_consts
        self._output_slots = output_slots
        self._descriptions = descriptions

    def __repr__(self) -> str:
        lines = [f"Plan({len(self.steps)} steps, {len(self._input_slots)} inputs):"]
        lines += [f"  {d}" for d in self._descriptions]
        return "\n".join(lines)

    def __call__(self, *inputs):
        from .._dispatch import _Tensor as T
        if len(inputs) != len(self._input_slots):
            raise RuntimeError(f"Plan: the graph takes {len(self._input_slots)} input tensors, "
                               f"got {len(inputs)}")
        env = list(self._template)
        xp = np
        for slot, a in zip(self._input_slots, inputs):
            arr = a._data if isinstance(a, T) else a
            if not hasattr(arr, "dtype"):
                raise TypeError(f"Plan: inputs must be Tensors or arrays, not {type(a).__name__}")
            if type(arr) is not np.ndarray:
                from .._device import xp_of
                xp = xp_of(arr)
            env[slot] = arr
        for slot, p in self._param_slots:
            env[slot] = p._data if isinstance(p, T) else p
        for slot in self._written:
            env[slot] = env[slot].copy()
        pool: dict = {}
        for step in self.steps:
            step(env, xp, pool)
        outs = [T._make(env[s]) for s in self._output_slots]
        if self.graph.output_spec is None:
            return outs
        from ..utils._pytree import tree_unflatten
        return tree_unflatten(outs, self.graph.output_spec)


def _release(env, kills, pool, xp):
    for slot, key in kills:
        arr = env[slot]
        env[slot] = None
        # 2 references: ``arr`` here and getrefcount's argument (Note [Buffer reuse in a plan]).
        if key is not None and type(arr) is xp.ndarray and arr.base is None and \
                _getrefcount(arr) == 2:
            pool.setdefault(key, []).append(arr)


def _fix(out, want, xp):
    if type(out) is not np.ndarray and xp is np:
        out = np.asarray(out)
    if want is not None and out.dtype != want:
        out = out.astype(want)
    return out


def _generic_step(node, slots, attrs, kills):
    op = node.op
    forward = op.forward
    spec = tuple((slots[v.id], None) if isinstance(v, Value) else (None, v) for v in node.inputs)
    compute, casts, bf16 = _promotion(node)
    wants = tuple(_np_dtype(o.dtype) for o in node.outputs)
    outs = tuple(slots[o.id] for o in node.outputs)
    multi = len(outs) != 1
    target = spec[0][0] if node.inplace else None
    ndarray = np.ndarray

    def step(env, xp, pool):
        args = [env[s] if s is not None else c for s, c in spec]
        for i, dt in casts:
            args[i] = args[i].astype(dt)
        for i in bf16:
            args[i] = xp.asarray(args[i], dtype=compute)
        ctx = _new(_Ctx)
        ctx.op = op
        ctx.xp = xp
        out = forward(ctx, *args, **attrs)
        if target is not None:
            dst = env[target]
            if out is not dst:
                dst[...] = out
            env[outs[0]] = dst
        elif multi or type(out) is tuple or type(out) is list:
            for s, o, w in zip(outs, out, wants):
                env[s] = _fix(o, w, xp)
        elif type(out) is ndarray and out.dtype == wants[0]:
            env[outs[0]] = out
        else:
            env[outs[0]] = _fix(out, wants[0], xp)
        if kills:
            args = ctx = out = None         # (their references would block buffer reuse)
            _release(env, kills, pool, xp)
    return step


def _fused_step(program, in_slots, out_slot, key, kills):
    evaluate = fusion.evaluate

    def step(env, xp, pool):
        bufs = pool.get(key)
        out = bufs.pop() if bufs else None
        env[out_slot] = evaluate(xp, program, [env[s] for s in in_slots], out)
        if kills:
            _release(env, kills, pool, xp)
    return step


def lower(graph: Graph, params=None, *, reuse_buffers: bool = True) -> Plan:
    """Lower ``graph`` (optimized or not: run ``ember.jit.passes.optimize`` first for fusion)
    to a Plan.

    Args:
        graph: the graph to run. It is not modified; the plan keeps a reference.
        params: dotted name -> Tensor (or array) for ``graph.params`` (a module's
            ``state_dict()``); read at each call.
        reuse_buffers: let steps that can write into a given buffer reuse dead intermediates'
            memory (Note [Buffer reuse in a plan]).

    Returns:
        A callable Plan.
    """
    from .executor import _bound_attrs, _written_constants
    params = dict(params or {})
    slots: dict[int, int] = {}

    def slot(v: Value) -> int:
        s = slots.get(v.id)
        if s is None:
            s = slots[v.id] = len(slots)
        return s

    input_slots = [slot(v) for v in graph.inputs]
    param_slots = []
    for name, v in graph.params.items():
        if name not in params:
            raise RuntimeError(f"lower: no tensor given for parameter {name!r}")
        param_slots.append((slot(v), params[name]))
    const_slots = {}
    for node in graph.nodes:
        for v in node.inputs:
            if isinstance(v, Value) and v.kind == "const":
                const_slots[v.id] = slot(v)
        for o in node.outputs:
            slot(o)
    for v in graph.outputs:
        if v.kind == "const":
            const_slots[v.id] = slot(v)
        else:
            slot(v)
    template = [None] * len(slots)
    for vid, s in const_slots.items():
        template[s] = graph.constants[vid]
    written = {slots[vid] for vid in _written_constants(graph) if vid in slots}

    # Liveness: the step after which each node value is dead.
    last_use: dict[int, int] = {}
    for i, node in enumerate(graph.nodes):
        for o in node.outputs:
            last_use.setdefault(o.id, i)
        for v in node.inputs:
            if isinstance(v, Value) and v.kind == "node":
                last_use[v.id] = i
    keep = {v.id for v in graph.outputs}

    # Which steps can write into a given buffer, and their (shape, dtype) keys.
    lowered = []
    pooled_keys = set()
    for node in graph.nodes:
        program = None
        if node.op is fusion.FusedElementwise:
            program = node.attrs["program"]
        elif not node.inplace and fusion.match(node) is not None:
            kind, args = fusion.match(node)
            ins = [v for v in node.inputs if isinstance(v, Value)]
            index = {}
            for v in ins:
                index.setdefault(v.id, len(index))
            refs = tuple(("in", index[a.id]) if isinstance(a, Value) else a for a in args)
            program = ((kind, refs, tuple(node.outputs[0].shape)),)
        key = None
        if program is not None:
            o = node.outputs[0]
            key = (tuple(o.shape), _np_dtype(o.dtype).str)
            pooled_keys.add(key)
        lowered.append((node, program, key))

    kills_at: dict[int, list] = {}
    for vid, i in last_use.items():
        if vid not in keep:
            kills_at.setdefault(i, []).append(vid)
    value_of = {o.id: o for n in graph.nodes for o in n.outputs}
    inplace_targets = {n.inputs[0].id for n in graph.nodes
                       if n.inplace and n.inputs and isinstance(n.inputs[0], Value)}

    steps = []
    descriptions = []
    for i, (node, program, key) in enumerate(lowered):
        kills = []
        for vid in kills_at.get(i, ()):
            v = value_of[vid]
            vkey = None
            if reuse_buffers and not v.node.inplace and vid not in inplace_targets:
                k = (tuple(v.shape), _np_dtype(v.dtype).str if v.dtype is not None else None)
                vkey = k if k in pooled_keys else None
            kills.append((slots[vid], vkey))
        kills = tuple(kills)
        attrs = _bound_attrs(node, params) if getattr(node, "param_attrs", None) else node.attrs
        if program is not None:
            if node.op is fusion.FusedElementwise:
                in_slots = [slots[v.id] for v in node.inputs]
            else:
                seen = {}
                for v in node.inputs:
                    if isinstance(v, Value):
                        seen.setdefault(v.id, slots[v.id])
                in_slots = list(seen.values())
            steps.append(_fused_step(program, in_slots, slots[node.outputs[0].id],
                                     key if reuse_buffers else None, kills))
            descriptions.append(f"{node.outputs[0]!r} = {fusion.describe(program)}")
        else:
            steps.append(_generic_step(node, slots, attrs, kills))
            descriptions.append(repr(node))
    output_slots = [slots[v.id] for v in graph.outputs]
    return Plan(graph, steps, len(slots), template, input_slots, param_slots, sorted(written),
                output_slots, descriptions)
