"""Graph passes: rewrite an ``ember.jit.ir.Graph`` so it computes the same outputs with less
work. One module per pass; each ``run(graph) -> graph`` rewrites the graph in place and
returns it (``clone`` it first to keep the original):

- ``simplify``: algebraic identities (permute/view chains, x * 1, neg(neg(x)), ...);
- ``fold``: constant folding (nodes whose inputs are all constants run once, now);
- ``cse``: common-subexpression elimination;
- ``dce``: dead-code elimination;
- ``fusion``: elementwise chains into one ``FusedElementwise`` node.

``optimize(graph)`` runs the default pipeline. Memory planning (buffer reuse) happens when the
graph is lowered to a plan: ember/jit/plan.py.

Example:
    >>> import ember
    >>> from ember.jit import passes
    >>> g = ember.jit.trace_graph(lambda x: (x * 1).relu() * 2 + 1, (ember.ones(3),))
    >>> g = passes.optimize(g)
    >>> [n.kind for n in g.nodes]
    ['fused_elementwise']
"""

from __future__ import annotations

from ..ir import Graph
from . import cse, dce, fold, fusion, simplify
from ._util import clone

__all__ = ["optimize", "clone", "DEFAULT_PIPELINE", "cse", "dce", "fold", "fusion", "simplify"]

DEFAULT_PIPELINE = (simplify.run, fold.run, cse.run, dce.run, fusion.run)


def optimize(graph: Graph, passes=None, *, fuse: bool = True) -> Graph:
    """Run ``passes`` (default: simplify, fold, cse, dce, fusion) on ``graph`` in place.

    Args:
        graph: the graph to rewrite.
        passes: a sequence of ``run(graph) -> graph`` functions; None for the default.
        fuse: False leaves elementwise chains unfused (e.g. for ONNX export).

    Returns:
        The same graph object, rewritten.
    """
    for p in DEFAULT_PIPELINE if passes is None else passes:
        if p is fusion.run and not fuse:
            continue
        graph = p(graph)
    return graph
