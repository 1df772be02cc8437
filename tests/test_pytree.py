"""ember.utils._pytree against torch.utils._pytree: leaves, specs (and their repr),
round trips, tree_map and friends, registration."""

import collections

import pytest

from ember.utils import _pytree as ep
from tests.oracle import needs_torch

Point = collections.namedtuple("Point", "x y")

TREES = [
    1,
    None,
    [1, (2, 3)],
    {"a": [1, (2, 3)], "b": None, "c": collections.OrderedDict(x=4)},
    (Point(1, [2, 3]), collections.deque([4, 5], maxlen=3)),
    collections.defaultdict(list, {"k": [1, 2]}),
    {"z": 1, "a": 2},               # insertion order, not sorted
    [[], (), {}],
]


@needs_torch
@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_flatten_matches_torch(tree):
    import torch.utils._pytree as tp
    leaves, spec = ep.tree_flatten(tree)
    t_leaves, t_spec = tp.tree_flatten(tree)
    assert leaves == t_leaves
    assert repr(spec) == repr(t_spec)
    assert spec.num_leaves == t_spec.num_leaves
    rebuilt = ep.tree_unflatten(leaves, spec)
    assert rebuilt == tree and type(rebuilt) is type(tree)


def test_map_and_predicates():
    tree = {"a": [1, 2.5], "b": (3, "s")}
    assert ep.tree_map(lambda x: x * 2, tree) == {"a": [2, 5.0], "b": (6, "ss")}
    assert ep.tree_map(lambda a, b: a + b, [1, (2,)], [10, (20,)]) == [11, (22,)]
    assert ep.tree_map_only(int, lambda x: -x, tree) == {"a": [-1, 2.5], "b": (-3, "s")}
    assert ep.tree_all(lambda x: x is not None, tree)
    assert ep.tree_any_only(str, lambda s: s == "s", tree)
    seen = []
    assert ep.tree_map_(seen.append, tree) is tree and seen == [1, 2.5, 3, "s"]
    assert ep.tree_leaves([1, [2]], is_leaf=lambda x: x == [2]) == [1, [2]]
    with pytest.raises(ValueError, match="differ in structure"):
        ep.tree_map(lambda a, b: a, [1, 2], [1])
    with pytest.raises(ValueError, match="has length 1"):
        ep.tree_unflatten([1], ep.tree_structure([1, 2]))


def test_register_pytree_node():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    ep.register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda c, _: Pair(*c))
    try:
        leaves, spec = ep.tree_flatten([Pair(1, (2, 3))])
        assert leaves == [1, 2, 3]
        back = ep.tree_unflatten([4, 5, 6], spec)
        assert back[0].a == 4 and back[0].b == (5, 6)
        with pytest.raises(ValueError, match="already registered"):
            ep.register_pytree_node(Pair, lambda p: ([], None), lambda c, _: Pair(0, 0))
    finally:
        del ep.SUPPORTED_NODES[Pair]


def test_specs_compare():
    assert ep.tree_structure([1, {"a": 2}]) == ep.tree_structure([5, {"a": 6}])
    assert ep.tree_structure([1, {"a": 2}]) != ep.tree_structure([1, {"b": 2}])
    assert ep.tree_structure(3) == ep.LeafSpec()
