"""Containers (Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict) and Flatten,
Unflatten, Identity against PyTorch."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.nn.test_module import both, make_lin, same_outcome
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, torch

pytestmark = needs_torch


def seq_of(lib, n=3):
    return lib.nn.Sequential(*[make_lin(lib, 2, 2) for _ in range(n)])


def names(module):
    return [n for n, _ in module.named_parameters()]


def test_sequential_forward_and_parity():
    torch.manual_seed(0)
    t_seq = torch.nn.Sequential(make_lin(torch, 3, 4), torch.nn.Flatten(0),
                                torch.nn.Unflatten(0, (2, 4)), make_lin(torch, 4, 2))
    e_seq = ember.nn.Sequential(make_lin(ember, 3, 4), ember.nn.Flatten(0),
                                ember.nn.Unflatten(0, (2, 4)), make_lin(ember, 4, 2))
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    assert_module_parity(e_seq, t_seq, x)
    e_seq.zero_grad()
    t_seq.zero_grad()
    assert_module_parity(e_seq.double(), t_seq.double(), x.astype(np.float64), dtype="float64")


@pytest.mark.parametrize("op", [
    "idx", "neg_idx", "slice", "setitem", "del", "del_slice", "append", "insert", "insert_neg",
    "extend", "pop", "add", "iadd", "mul", "rmul", "imul", "len", "ordered", "ordered_del",
    "bad_idx", "bad_insert", "bad_add", "bad_mul", "zero_mul", "insert_type", "dir"])
def test_sequential_operations_match_torch(op):
    def run(lib):
        s = seq_of(lib)
        other = seq_of(lib, 2)
        if op == "idx":
            return type(s[1]).__name__, s[1] is list(s)[1]
        if op == "neg_idx":
            return s[-1] is list(s)[2]
        if op == "slice":
            sub = s[1:]
            return type(sub).__name__, names(sub), sub[0] is s[1]
        if op == "setitem":
            s[0] = lib.nn.Flatten()
            return repr(s)[:40], names(s)
        if op == "del":
            del s[1]
            return list(s._modules), names(s)
        if op == "del_slice":
            del s[::2]
            return list(s._modules), names(s)
        if op == "append":
            return s.append(lib.nn.Flatten()) is s, list(s._modules)
        if op == "insert":
            s.insert(1, lib.nn.Flatten())
            return [type(m).__name__ for m in s], list(s._modules)
        if op == "insert_neg":
            s.insert(-1, lib.nn.Flatten())
            return [type(m).__name__ for m in s]
        if op == "extend":
            s.extend(other)
            return list(s._modules), len(s)
        if op == "pop":
            m = s.pop(0)
            return type(m).__name__, list(s._modules)
        if op == "add":
            r = s + other
            return type(r).__name__, list(r._modules), r is not s
        if op == "iadd":
            s += other
            return list(s._modules)
        if op == "mul":
            r = s * 2
            return list(r._modules), r[0] is r[3]
        if op == "rmul":
            return list((2 * s)._modules)
        if op == "imul":
            s *= 3
            return list(s._modules), s[0] is s[6]
        if op == "len":
            return len(s), len(lib.nn.Sequential())
        if op == "ordered":
            od = lib.nn.Sequential(OrderedDict([("a", lib.nn.Flatten()), ("b", make_lin(lib))]))
            return list(od._modules), names(od), list(od.state_dict()), repr(od)
        if op == "ordered_del":
            od = lib.nn.Sequential(OrderedDict([("a", lib.nn.Flatten()), ("b", lib.nn.Identity()),
                                                ("c", lib.nn.Flatten())]))
            del od[0]
            return list(od._modules)
        if op == "bad_idx":
            return s[3]
        if op == "bad_insert":
            return s.insert(5, lib.nn.Flatten())
        if op == "bad_add":
            return s + 3
        if op == "bad_mul":
            return s * 1.5
        if op == "zero_mul":
            return s * 0
        if op == "insert_type":
            return s.insert(0, 3)
        if op == "dir":
            return [k for k in dir(s) if k.isdigit()]
    out = same_outcome(run)
    assert out[0] == "ok" or op.startswith("bad") or op in ("zero_mul", "insert_type")


def test_modulelist_operations_and_repr():
    def run(lib):
        ml = lib.nn.ModuleList([make_lin(lib, 2, 2) for _ in range(3)])
        ml.append(lib.nn.Flatten())
        ml.extend([lib.nn.Identity(), lib.nn.Identity()])
        ml.insert(1, lib.nn.Flatten(0))
        r1 = repr(ml)
        sub = ml[2:5]
        del ml[0]
        popped = ml.pop(-1)
        ml[0] = lib.nn.Identity()
        ml += [lib.nn.Flatten()]
        combined = ml + lib.nn.ModuleList([lib.nn.Identity()])
        return (r1, type(sub).__name__, len(sub), list(ml._modules), type(popped).__name__,
                repr(ml), list(combined._modules), repr(lib.nn.ModuleList()), names(ml),
                [k for k in dir(ml) if k.isdigit()])
    e, t = both(run)
    assert e == t
    same_outcome(lambda lib: lib.nn.ModuleList().extend(3))
    same_outcome(lambda lib: lib.nn.ModuleList([lib.nn.Identity()])[1])
    same_outcome(lambda lib: lib.nn.ModuleList([lib.nn.Identity()])(1))


def test_modulelist_repr_groups_identical_runs():
    def run(lib):
        ml = lib.nn.ModuleList([lib.nn.Flatten(), lib.nn.Flatten(), lib.nn.Identity(),
                                lib.nn.Flatten(), lib.nn.Flatten(), lib.nn.Flatten()])
        outer = lib.nn.Module()
        outer.layers = ml
        return repr(outer)
    e, t = both(run)
    assert e == t


def test_moduledict_operations():
    def run(lib):
        md = lib.nn.ModuleDict({"b": lib.nn.Flatten(), "a": make_lin(lib)})
        md.update([("c", lib.nn.Identity())])
        md.update(OrderedDict(d=lib.nn.Flatten(0)))
        md["e"] = lib.nn.Identity()
        popped = md.pop("b")
        del md["c"]
        out = (list(md), list(md.keys()), [type(v).__name__ for v in md.values()],
               [k for k, _ in md.items()], "a" in md, "b" in md, len(md),
               type(popped).__name__, repr(md), names(md), list(md.state_dict()))
        md.clear()
        return out, len(md)
    e, t = both(run)
    assert e == t
    same_outcome(lambda lib: lib.nn.ModuleDict().update(3))
    same_outcome(lambda lib: lib.nn.ModuleDict().update([3]))
    same_outcome(lambda lib: lib.nn.ModuleDict().update([("a", lib.nn.Identity(), 1)]))
    same_outcome(lambda lib: lib.nn.ModuleDict()["missing"])
    same_outcome(lambda lib: lib.nn.ModuleDict({"a.b": lib.nn.Identity()}))


def test_parameterlist_operations_and_repr():
    def run(lib):
        pl = lib.nn.ParameterList([lib.zeros(2, 3), lib.nn.Parameter(lib.ones(1)), "text"])
        pl.append(lib.zeros(4, dtype=lib.float64))
        pl.extend([lib.ones(2)])
        pl[0] = lib.full((1,), 2.0)
        sub = pl[1:4]
        return (repr(pl), [type(p).__name__ for p in pl], names(pl), len(pl), type(sub).__name__,
                len(sub), sub[0] is pl[1], list(pl.state_dict()), pl[-1].shape == (2,),
                [k for k in dir(pl) if k.isdigit()])
    e, t = both(run)
    assert e[:2] == t[:2]
    assert e[2:] == t[2:]
    same_outcome(lambda lib: lib.nn.ParameterList().extend(lib.zeros(2)))
    same_outcome(lambda lib: lib.nn.ParameterList([lib.zeros(1)])[2])
    same_outcome(lambda lib: lib.nn.ParameterList()(1))


def test_parameterdict_operations_and_repr():
    def run(lib):
        pd = lib.nn.ParameterDict({"b": lib.zeros(2), "a": lib.ones(3)})   # sorted
        pd.update(OrderedDict([("z", lib.zeros(1)), ("c", lib.zeros(1))]))  # kept in order
        pd.update([("y", lib.nn.Parameter(lib.ones(1), requires_grad=False))])
        pd["obj"] = 3
        first = (list(pd), repr(pd), names(pd), list(pd.state_dict()))
        d = pd.setdefault("new", lib.ones(2))
        k, v = pd.popitem()
        popped = pd.pop("z")
        got = pd.get("missing", "default")
        cp = pd.copy()
        merged = pd | lib.nn.ParameterDict({"m": lib.zeros(1)})
        pd |= {"n": lib.zeros(1)}
        del pd["b"]
        out = (first, type(d).__name__, k, type(v).__name__, tuple(popped.shape), got,
               list(cp), cp["a"] is pd["a"], list(merged), list(pd), list(reversed(pd)),
               "a" in pd, len(pd), [k for k, _ in pd.items()], len(list(pd.values())),
               list(pd.fromkeys(["p", "q"])))
        pd.clear()
        return out, len(pd), names(pd)
    e, t = both(run)
    assert e == t
    same_outcome(lambda lib: lib.nn.ParameterDict({1: lib.zeros(1)}))
    same_outcome(lambda lib: lib.nn.ParameterDict().update(3))
    same_outcome(lambda lib: lib.nn.ParameterDict().update([(1, 2, 3)]))
    same_outcome(lambda lib: lib.nn.ParameterDict()(1))


def test_containers_in_a_model_state_dict_and_grads():
    def build(lib):
        m = lib.nn.Module()
        m.blocks = lib.nn.ModuleList([make_lin(lib, 3, 3) for _ in range(2)])
        m.heads = lib.nn.ModuleDict({"out": make_lin(lib, 3, 1)})
        m.scales = lib.nn.ParameterList([lib.ones(3), lib.ones(3) * 2])
        m.extra = lib.nn.ParameterDict({"bias": lib.zeros(1)})
        return m

    def forward(m, x):
        for block, scale in zip(m.blocks, m.scales):
            x = block(x).tanh() * scale
        return m.heads["out"](x) + m.extra["bias"]

    torch.manual_seed(0)
    t_m = build(torch)
    e_m = build(ember)
    assert list(e_m.state_dict()) == list(t_m.state_dict())
    e_m.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_m.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    forward(e_m, ember.tensor(x)).sum().backward()
    forward(t_m, torch.tensor(x)).sum().backward()
    e_grads = {n: p.grad.numpy() for n, p in e_m.named_parameters()}
    for n, p in t_m.named_parameters():
        np.testing.assert_allclose(e_grads[n], p.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args", [(), (0,), (1, 2), (-3, -2), (0, -1)])
def test_flatten_parity_and_repr(args):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    assert_module_parity(ember.nn.Flatten(*args), torch.nn.Flatten(*args), x)
    assert repr(ember.nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))


@pytest.mark.parametrize("dim, size", [(1, (2, 6)), (-1, (5, 1)), (1, [3, -1]),
                                       (0, (1, 2))])
def test_unflatten_parity_and_repr(dim, size):
    x = np.random.default_rng(0).standard_normal((2, 12, 5)).astype(np.float32)
    assert_module_parity(ember.nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size), x)
    assert repr(ember.nn.Unflatten(dim, size)) == repr(torch.nn.Unflatten(dim, size))


def test_unflatten_errors():
    same_outcome(lambda lib: lib.nn.Unflatten(1, 4))
    same_outcome(lambda lib: lib.nn.Unflatten(1, (2, 2.0)))
    with pytest.raises(RuntimeError):
        ember.nn.Unflatten(1, (5, 5))(ember.zeros(2, 12))


def test_identity_ignores_arguments():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert_module_parity(ember.nn.Identity(3, a=1), torch.nn.Identity(3, a=1), x)
    assert repr(ember.nn.Identity(5)) == repr(torch.nn.Identity(5)) == "Identity()"
    t = ember.ones(2)
    assert ember.nn.Identity()(t) is t
