"""The reference executor: a Graph replayed op by op through ``ember._dispatch.apply``.

Every node runs as it ran when traced, through the same ``apply`` (so autograd records the
replay and ``backward`` reaches the inputs and parameters, and observers such as the profiler
see it). In-place nodes run in place through ``apply_inplace`` (Note [In-place ops in a
trace] in _tracer.py): a view and its base alias in the replay as they did when traced, and an
in-place op on a graph input changes the caller's tensor, as eager code would. Constants that
an in-place node (or one on a view of them) writes to are copied per run, so the graph's own
constants never change. Calls the traced code made under ``no_grad`` (``Node.no_grad``) run
under no_grad again.
"""

from __future__ import annotations

from .. import _dispatch
from ..autograd.grad_mode import state as _grad_state
from ..utils._pytree import tree_unflatten
from ._tracer import PythonFunction
from .ir import Graph, Value

__all__ = ["run_graph"]


def _written_constants(graph: Graph) -> set:
    """Ids of constants that an in-place node writes to, directly or through a view."""
    root = {}
    for node in graph.nodes:
        first = node.inputs[0] if node.inputs else None
        if not isinstance(first, Value):
            continue
        base = root.get(first.id, first)
        if node.op.is_view:
            for o in node.outputs:
                root[o.id] = base
        if node.inplace:
            root[node.outputs[0].id] = base
    written = set()
    for node in graph.nodes:
        if node.inplace and node.inputs and isinstance(node.inputs[0], Value):
            base = root.get(node.inputs[0].id, node.inputs[0])
            if base.kind == "const":
                written.add(base.id)
    return written


def _bound_attrs(node, params):
    attrs = node.attrs
    if not node.param_attrs:
        return attrs
    attrs = dict(attrs)
    for key, name in node.param_attrs.items():
        p = params.get(name) if params is not None else None
        if p is None:
            continue
        arr = attrs[key]
        data = p._data
        if arr is data or getattr(arr, "base", None) is data:
            continue
        attrs[key] = data.reshape(arr.shape)
    return attrs


def run_graph(graph: Graph, inputs, params=None):
    """Run ``graph`` on ``inputs`` with ``params``; returns the outputs in the traced structure.

    Args:
        graph: a Graph (from ``ember.jit.trace_graph``, ``jit.load``, or built by hand).
        inputs: the graph inputs, a sequence of Tensors in ``graph.inputs`` order (NumPy arrays
            are taken as tensors).
        params: dotted name -> Tensor for ``graph.params`` (a module's ``named_parameters`` and
            ``named_buffers``, or ``state_dict()``).

    Returns:
        The outputs rebuilt with ``graph.output_spec`` (a flat list when it is None).

    Example:
        >>> import ember
        >>> g = ember.jit.trace_graph(lambda x: x * 2 + 1, (ember.ones(2),))
        >>> ember.jit.run_graph(g, [ember.tensor([1.0, 2.0])])
        tensor([3., 5.])
    """
    T = _dispatch._Tensor
    apply = _dispatch.apply
    apply_inplace = _dispatch.apply_inplace
    inputs = list(inputs)
    if len(inputs) != len(graph.inputs):
        raise RuntimeError(f"run_graph: the graph takes {len(graph.inputs)} input tensors, "
                           f"got {len(inputs)}")
    env = {}
    for v, t in zip(graph.inputs, inputs):
        if not isinstance(t, T):
            t = T._make(t) if hasattr(t, "dtype") and hasattr(t, "shape") else t
        if not isinstance(t, T):
            raise TypeError(f"run_graph: input {v!r} must be a Tensor, not {type(t).__name__}")
        env[v.id] = t
    for name, v in graph.params.items():
        p = params.get(name) if params is not None else None
        if p is None:
            raise RuntimeError(f"run_graph: no tensor given for parameter {name!r}")
        env[v.id] = p
    written = _written_constants(graph) if graph.constants else ()
    for vid, arr in graph.constants.items():
        env[vid] = T._make(arr.copy() if vid in written else arr)

    state = _grad_state
    for node in graph.nodes:
        args = [env[a.id] if isinstance(a, Value) else a for a in node.inputs]
        attrs = _bound_attrs(node, params)
        if node.no_grad:
            prev, state.enabled = state.enabled, False
        try:
            if node.op is PythonFunction:
                res = attrs["function"].apply(*args, **attrs["kwargs"])
                outs = res if type(res) is tuple else (res,)
            elif node.inplace:
                outs = (apply_inplace(node.op, *args, **attrs),)
            else:
                res = apply(node.op, *args, **attrs)
                outs = res if type(res) is tuple or type(res) is list else (res,)
        finally:
            if node.no_grad:
                state.enabled = prev
        for v, t in zip(node.outputs, outs):
            env[v.id] = t
    flat = [env[v.id] for v in graph.outputs]
    if graph.output_spec is None:
        return flat
    return tree_unflatten(flat, graph.output_spec)
