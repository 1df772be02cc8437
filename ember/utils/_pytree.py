"""Pytrees (``torch.utils._pytree``): nested containers flattened to a list of leaves and a
``TreeSpec`` that rebuilds them.

Containers are tuple, list, dict (insertion order), OrderedDict, defaultdict, deque and
namedtuples, plus whatever ``register_pytree_node`` adds; anything else (tensors, numbers,
None, strings) is a leaf.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ["TreeSpec", "LeafSpec", "register_pytree_node", "tree_flatten", "tree_unflatten",
           "tree_leaves", "tree_structure", "tree_iter", "tree_map", "tree_map_",
           "tree_map_only", "tree_all", "tree_any", "tree_all_only", "tree_any_only",
           "is_namedtuple", "SUPPORTED_NODES"]


@dataclasses.dataclass(frozen=True)
class NodeDef:
    type: type
    flatten_fn: Callable[[Any], tuple[list, Any]]
    unflatten_fn: Callable[[list, Any], Any]


SUPPORTED_NODES: dict[type, NodeDef] = {}


def register_pytree_node(cls: type, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                         to_dumpable_context=None, from_dumpable_context=None,
                         flatten_with_keys_fn=None) -> None:
    """Make ``cls`` a container: ``flatten_fn(obj) -> (children, context)`` and
    ``unflatten_fn(children, context) -> obj``."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn)


def is_namedtuple(obj) -> bool:
    cls = obj if isinstance(obj, type) else type(obj)
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def _node_type(obj):
    if is_namedtuple(obj):
        return "namedtuple"
    t = type(obj)
    return t if t in SUPPORTED_NODES else None


register_pytree_node(tuple, lambda t: (list(t), None), lambda c, _: tuple(c))
register_pytree_node(list, lambda t: (list(t), None), lambda c, _: list(c))
register_pytree_node(dict, lambda d: (list(d.values()), list(d)),
                     lambda c, keys: dict(zip(keys, c)))
register_pytree_node(collections.OrderedDict, lambda d: (list(d.values()), list(d)),
                     lambda c, keys: collections.OrderedDict(zip(keys, c)))
register_pytree_node(collections.defaultdict,
                     lambda d: (list(d.values()), [d.default_factory, list(d)]),
                     lambda c, ctx: collections.defaultdict(ctx[0], zip(ctx[1], c)))
register_pytree_node(collections.deque, lambda d: (list(d), d.maxlen),
                     lambda c, maxlen: collections.deque(c, maxlen=maxlen))
_NAMEDTUPLE = NodeDef(tuple, lambda t: (list(t), type(t)), lambda c, cls: cls(*c))


class TreeSpec:
    """The shape of a pytree: a node type, its context (dict keys, namedtuple class, ...) and
    the specs of its children. ``num_leaves`` counts the leaves below."""

    def __init__(self, type, context, children_specs):  # noqa: A002  (PyTorch's names)
        self.type = type
        self.context = context
        self.children_specs = list(children_specs)
        self.num_children = len(self.children_specs)
        self.num_leaves = sum(c.num_leaves for c in self.children_specs)

    def is_leaf(self) -> bool:
        return False

    def _node(self) -> NodeDef:
        return _NAMEDTUPLE if self.type == "namedtuple" else SUPPORTED_NODES[self.type]

    def unflatten(self, leaves):
        return tree_unflatten(leaves, self)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and not other.is_leaf()
                and self.type == other.type and self.context == other.context
                and self.children_specs == other.children_specs)

    def __hash__(self):
        return hash((str(self.type), self.num_leaves))

    def __repr__(self, indent: int = 0) -> str:
        name = self.type if isinstance(self.type, str) else self.type.__name__
        parts = []
        for i, child in enumerate(self.children_specs):
            text = child.__repr__(indent + 2)
            parts.append(text if i == 0 else "\n" + " " * (indent + 2) + text)
        return f"TreeSpec({name}, {self.context}, [{','.join(parts)}])"


class LeafSpec(TreeSpec):
    def __init__(self):
        super().__init__(None, None, [])
        self.num_leaves = 1

    def is_leaf(self) -> bool:
        return True

    def __eq__(self, other):
        return isinstance(other, LeafSpec)

    def __hash__(self):
        return hash("LeafSpec")

    def __repr__(self, indent: int = 0) -> str:
        return "*"


_LEAF = LeafSpec()


def _is_leaf(tree, is_leaf) -> bool:
    return (is_leaf is not None and is_leaf(tree)) or _node_type(tree) is None


def tree_flatten(tree, is_leaf=None) -> tuple[list, TreeSpec]:
    """(leaves in order, spec) of ``tree``; ``is_leaf(x)`` can stop the descent early."""
    leaves: list = []

    def walk(node):
        if _is_leaf(node, is_leaf):
            leaves.append(node)
            return _LEAF
        kind = _node_type(node)
        nd = _NAMEDTUPLE if kind == "namedtuple" else SUPPORTED_NODES[kind]
        children, context = nd.flatten_fn(node)
        return TreeSpec(kind, context, [walk(c) for c in children])

    spec = walk(tree)
    return leaves, spec


def tree_unflatten(leaves, treespec: TreeSpec):
    """Rebuild a pytree of ``treespec``'s shape from ``leaves``."""
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but "
                         f"the spec refers to a pytree that holds {treespec.num_leaves} items "
                         f"({treespec}).")
    it = iter(leaves)

    def build(spec):
        if spec.is_leaf():
            return next(it)
        return spec._node().unflatten_fn([build(c) for c in spec.children_specs],
                                         spec.context)

    return build(treespec)


def tree_iter(tree, is_leaf=None):
    """The leaves of ``tree``, lazily."""
    if _is_leaf(tree, is_leaf):
        yield tree
        return
    kind = _node_type(tree)
    nd = _NAMEDTUPLE if kind == "namedtuple" else SUPPORTED_NODES[kind]
    for child in nd.flatten_fn(tree)[0]:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree, is_leaf=None) -> list:
    return list(tree_iter(tree, is_leaf))


def tree_structure(tree, is_leaf=None) -> TreeSpec:
    return tree_flatten(tree, is_leaf)[1]


def tree_map(func, tree, *rests, is_leaf=None):
    """``tree`` with each leaf replaced by ``func(leaf, *matching leaves of rests)``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [tree_flatten(r, is_leaf)[0] for r in rests]
    for r, o in zip(rests, others):
        if len(o) != len(leaves):
            raise ValueError(f"tree_map: the trees differ in structure ({tree_structure(r)} "
                             f"vs {spec})")
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def tree_map_(func, tree, *rests, is_leaf=None):
    """Call ``func`` on every leaf (for its side effects); returns ``tree``."""
    leaves = tree_leaves(tree, is_leaf)
    others = [tree_leaves(r, is_leaf) for r in rests]
    for xs in zip(leaves, *others):
        func(*xs)
    return tree


def _type_filter(types, func):
    types = types if isinstance(types, tuple) else (types,)
    return lambda x: func(x) if isinstance(x, types) else x


def tree_map_only(types, func, tree, is_leaf=None):
    """tree_map applied only to leaves of the given type(s); others are kept."""
    return tree_map(_type_filter(types, func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None) -> bool:
    return all(pred(x) for x in tree_iter(tree, is_leaf))


def tree_any(pred, tree, is_leaf=None) -> bool:
    return any(pred(x) for x in tree_iter(tree, is_leaf))


def tree_all_only(types, pred, tree, is_leaf=None) -> bool:
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, types))


def tree_any_only(types, pred, tree, is_leaf=None) -> bool:
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, types))
