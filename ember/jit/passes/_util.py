"""Helpers the graph passes share: rewiring uses, aliasing, randomness, hashable attributes and
copying a graph."""

from __future__ import annotations

import math

from ..ir import Graph, Node, Value

# Ops whose result may be the input's own memory (a view, or the input itself when no work is
# needed), beyond those that say ``is_view``.
_MAY_ALIAS = frozenset({"contiguous", "reshape", "to", "detach", "alias", "expand_as"})

# Ops that draw from a random generator. Besides these names, any subclass of
# ember.ops.random._Sampler (the in-place samplers) and any node with a ``generator``
# attribute count as random.
_RANDOM_NAMES = frozenset({"dropout", "bernoulli", "multinomial", "rrelu", "normal", "uniform",
                           "log_normal", "exponential", "geometric", "cauchy", "random",
                           "randperm", "rand", "randn", "randint", "poisson"})


def is_random(node: Node) -> bool:
    """True when the node draws random numbers (its result differs between calls)."""
    op = node.op
    if getattr(op, "random", False) or op.name in _RANDOM_NAMES or "generator" in node.attrs:
        return True
    from ...ops import random as _random
    return isinstance(op, type) and issubclass(op, _random._Sampler)


def has_effects(node: Node) -> bool:
    """True for nodes that write memory other than their outputs: in-place nodes, and nodes
    whose attributes are a parameter's or buffer's memory (batch_norm's running statistics,
    updated in place when training; see ``Node.param_attrs``)."""
    return bool(node.inplace or getattr(node, "param_attrs", None))


def may_alias(node: Node) -> bool:
    """True when the node's outputs may share memory with its first input."""
    return bool(node.inplace or getattr(node.op, "is_view", False) or node.op.name in _MAY_ALIAS)


def alias_classes(graph: Graph) -> dict[int, int]:
    """Value.id -> a representative id: values that may share memory (through view ops or
    in-place writes) get the same representative."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        root = i
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(i, i) != root:             # path compression
            parent[i], i = root, parent[i]
        return root

    for node in graph.nodes:
        if not node.inputs or not isinstance(node.inputs[0], Value) or not may_alias(node):
            continue
        base = find(node.inputs[0].id)
        for out in node.outputs:
            r = find(out.id)
            if r != base:
                parent[r] = base
    classes = {}
    for v in all_values(graph):
        classes[v.id] = find(v.id)
    return classes


def mutated_values(graph: Graph) -> set[int]:
    """Ids of values whose memory an in-place node writes, directly or through an alias (a view
    of them, or a base they are a view of). Rewrites that change aliasing leave these alone."""
    classes = alias_classes(graph)
    hit = {classes[n.inputs[0].id] for n in graph.nodes
           if n.inplace and n.inputs and isinstance(n.inputs[0], Value)}
    return {vid for vid, root in classes.items() if root in hit}


def all_values(graph: Graph):
    """Every Value the graph mentions: inputs, params, node inputs and outputs, outputs."""
    seen = set()
    for v in [*graph.inputs, *graph.params.values()]:
        if v.id not in seen:
            seen.add(v.id)
            yield v
    for node in graph.nodes:
        for v in [*node.inputs, *node.outputs]:
            if isinstance(v, Value) and v.id not in seen:
                seen.add(v.id)
                yield v
    for v in graph.outputs:
        if v.id not in seen:
            seen.add(v.id)
            yield v


def substitute(graph: Graph, mapping: dict[int, Value]) -> None:
    """Replace every use of value ``id`` by ``mapping[id]`` (chains a -> b -> c followed)."""
    if not mapping:
        return

    def resolve(v):
        if not isinstance(v, Value):
            return v
        while v.id in mapping:
            v = mapping[v.id]
        return v

    for node in graph.nodes:
        node.inputs = [resolve(v) for v in node.inputs]
    graph.outputs = [resolve(v) for v in graph.outputs]


def drop_unused_constants(graph: Graph) -> None:
    used = {v.id for n in graph.nodes for v in n.inputs if isinstance(v, Value)}
    used.update(v.id for v in graph.outputs)
    for vid in [k for k in graph.constants if k not in used]:
        del graph.constants[vid]


def freeze(obj):
    """A hashable key for an attribute or inline number: numbers keep their type and sign of
    zero (x + 0.0 and x + -0.0 differ), containers are frozen element by element, anything
    unhashable (arrays, generators) is compared by identity."""
    t = type(obj)
    if t is float:
        return ("float", repr(obj)) if not math.isnan(obj) else ("float", "nan")
    if t in (int, bool, str, type(None), complex):
        return (t.__name__, obj)
    if t in (tuple, list):
        return (t.__name__, tuple(freeze(o) for o in obj))
    if t is dict:
        return ("dict", tuple(sorted((k, freeze(v)) for k, v in obj.items())))
    if isinstance(obj, Value):
        return ("value", obj.id)
    try:
        hash(obj)
    except TypeError:
        return ("id", id(obj))
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):     # a NumPy scalar or a 0-d array
        return ("id", id(obj))
    return (t.__name__, obj)


def clone(graph: Graph) -> Graph:
    """A copy of the graph's structure (new Values and Nodes; constant arrays are shared, they
    are never written). Passes rewrite in place: clone first to keep the original."""
    g = Graph()
    vmap: dict[int, Value] = {}

    def copy_value(v: Value, node=None) -> Value:
        nv = Value(v.kind, node=node, index=v.index, name=v.name, shape=v.shape, dtype=v.dtype,
                   device=v.device, requires_grad=v.requires_grad)
        vmap[v.id] = nv
        return nv

    g.inputs = [copy_value(v) for v in graph.inputs]
    g.params = {name: copy_value(v) for name, v in graph.params.items()}

    def get(v):
        if not isinstance(v, Value):
            return v
        nv = vmap.get(v.id)
        if nv is None:                              # a constant
            nv = copy_value(v)
            if v.id in graph.constants:
                g.constants[nv.id] = graph.constants[v.id]
        return nv

    for node in graph.nodes:
        new = Node(node.op, [get(v) for v in node.inputs], dict(node.attrs), [],
                   inplace=node.inplace, scope=node.scope,
                   param_attrs=getattr(node, "param_attrs", None))
        new.outputs = [copy_value(o, new) for o in node.outputs]
        g.nodes.append(new)
    g.outputs = [get(v) for v in graph.outputs]
    g.output_spec = graph.output_spec
    return g
