"""Dead-code elimination: remove nodes none of whose outputs is used.

Contract: ``run(graph)`` rewrites ``graph`` in place and returns it.

What stays even when its outputs are unused:
- an in-place node whose written memory is visible after it: the target (or a view of it, or
  the base it is a view of) is a graph input, a parameter or buffer, a constant, a graph
  output, or is read by a node that stays and runs later (Note [In-place nodes in passes]);
- a node with ``param_attrs`` (it may update a buffer in place, like batch_norm's running
  statistics when training).

What goes:
- a random op whose output is unused. Its draw is skipped, so random ops that run after it
  consume the generator from an earlier point than in eager mode (their numbers differ from
  an eager run with the same seed, their distribution does not). TorchScript's DCE does the
  same for ``aten::dropout``-style ops, which have no side effects in its schema.

Constants no node reads any more are dropped from ``graph.constants``; inputs and parameters
are the graph's interface and stay.
"""

from __future__ import annotations

from ..ir import Graph, Value
from ._util import alias_classes, drop_unused_constants

# Note [In-place nodes in passes]
#     An in-place node writes its first input's memory; ``outputs[0]`` is the new version of
#     that tensor and later readers of the new version name it. Readers of *another* Value that
#     shares the memory (a view taken before the write, or the base of a written view) see the
#     write without naming outputs[0]. So an in-place node is only as dead as every Value that
#     may alias its target: passes group such Values with ``alias_classes`` and never drop,
#     merge or reorder an in-place node across readers of its alias class.


def run(graph: Graph) -> Graph:
    classes = alias_classes(graph)
    members: dict[int, list[int]] = {}
    for vid, root in classes.items():
        members.setdefault(root, []).append(vid)
    external = {v.id for v in graph.inputs} | {v.id for v in graph.params.values()}
    external.update(v.id for n in graph.nodes for v in n.inputs
                    if isinstance(v, Value) and v.kind == "const")
    external.update(v.id for v in graph.outputs)
    escaping = {classes[vid] for vid in external if vid in classes}

    live = {v.id for v in graph.outputs}
    kept = []
    for node in reversed(graph.nodes):
        needed = any(o.id in live for o in node.outputs)
        if not needed and node.inplace and node.inputs and isinstance(node.inputs[0], Value):
            root = classes[node.inputs[0].id]
            needed = root in escaping or any(vid in live for vid in members.get(root, ()))
        if not needed and getattr(node, "param_attrs", None):
            needed = True               # writes a parameter's or buffer's memory
        if needed:
            kept.append(node)
            live.update(v.id for v in node.inputs if isinstance(v, Value))
    kept.reverse()
    graph.nodes = kept
    drop_unused_constants(graph)
    return graph
