"""Constant folding: a node whose tensor inputs are all constants is computed once, now, and
its outputs become constants.

Contract: ``run(graph)`` rewrites ``graph`` in place and returns it. Folded nodes are removed;
later nodes read the new constants (so chains of constant work fold in one pass).

Not folded: random ops (their value must differ per call), in-place nodes, nodes whose outputs
an in-place node later writes (the constant would be written), nodes without tensor inputs,
and results larger than ``max_bytes`` (64 MiB by default: folding must not turn a cheap
broadcast into a huge stored array). The op runs through ``ember._dispatch.apply`` under
``no_grad``, so it computes exactly what eager mode computes, promotion included.
"""

from __future__ import annotations

from ..ir import Graph, Value
from ._util import drop_unused_constants, has_effects, is_random, mutated_values, substitute

MAX_BYTES = 64 << 20


def run(graph: Graph, *, max_bytes: int = MAX_BYTES) -> Graph:
    from ..._dispatch import apply
    from ..._tensor import Tensor
    from ...autograd.grad_mode import no_grad

    written = mutated_values(graph)
    mapping: dict[int, Value] = {}
    kept = []
    for node in graph.nodes:
        inputs = [mapping.get(v.id, v) if isinstance(v, Value) else v for v in node.inputs]
        node.inputs = inputs
        tensors = [v for v in inputs if isinstance(v, Value)]
        if (not tensors or has_effects(node) or is_random(node)
                or any(v.kind != "const" or v.id not in graph.constants for v in tensors)
                or any(o.id in written for o in node.outputs)):
            kept.append(node)
            continue
        args = [Tensor._make(graph.constants[v.id]) if isinstance(v, Value) else v
                for v in inputs]
        with no_grad():
            out = apply(node.op, *args, **node.attrs)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        if len(outs) != len(node.outputs) or \
                sum(getattr(o._data, "nbytes", 0) for o in outs) > max_bytes:
            kept.append(node)
            continue
        for value, t in zip(node.outputs, outs):
            mapping[value.id] = graph.add_constant(
                t._data, shape=t._data.shape, dtype=value.dtype, device=value.device)
    graph.nodes = kept
    substitute(graph, mapping)
    drop_unused_constants(graph)
    return graph
