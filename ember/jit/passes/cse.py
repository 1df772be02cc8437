"""Common-subexpression elimination: nodes with the same op, attributes and inputs are
computed once.

Contract: ``run(graph)`` rewrites ``graph`` in place and returns it. The later duplicate's
outputs are replaced by the earlier node's; the duplicate is removed.

Never merged: random ops (two draws are two different values) and in-place nodes. An in-place
node is also a barrier: nodes before it are not merged with nodes after it, since the memory
they read may have changed in between (Note [In-place nodes in passes], dce.py). A node whose
outputs an in-place node writes is not merged either (the write would reach the other node's
users). Attributes are compared by value with their types (``x + 0.0`` and ``x + -0.0``
differ); unhashable attributes (arrays, generators) only by identity.
"""

from __future__ import annotations

from ..ir import Graph, Value
from ._util import freeze, has_effects, is_random, mutated_values, substitute


def run(graph: Graph) -> Graph:
    written = mutated_values(graph)
    mapping: dict[int, Value] = {}
    seen: dict[tuple, object] = {}
    kept = []
    for node in graph.nodes:
        node.inputs = [mapping.get(v.id, v) if isinstance(v, Value) else v for v in node.inputs]
        if has_effects(node):
            seen.clear()
            kept.append(node)
            continue
        if is_random(node) or any(o.id in written for o in node.outputs):
            kept.append(node)
            continue
        key = (node.op, tuple(freeze(v) for v in node.inputs), freeze(node.attrs))
        first = seen.get(key)
        if first is None or len(first.outputs) != len(node.outputs):
            seen[key] = node
            kept.append(node)
            continue
        for dup, orig in zip(node.outputs, first.outputs):
            mapping[dup.id] = orig
    graph.nodes = kept
    substitute(graph, mapping)
    return graph
