"""Optimizer base class: param groups, zero_grad, hooks, state_dict layout and errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch


def _params(lib, n=3):
    return [lib.nn.Parameter(lib.ones(i + 1)) for i in range(n)]


def test_optimizer_param_groups_take_defaults_and_own_options():
    a, b, c = _params(ember)
    opt = ember.optim.SGD([{"params": [a, b]}, {"params": c, "lr": 0.5}], lr=0.1,
                          momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["params"] == [c] and opt.param_groups[1]["momentum"] == 0.9
    d = ember.nn.Parameter(ember.zeros(2))
    opt.add_param_group({"params": [d], "lr": 0.01})
    assert opt.param_groups[2]["params"][0] is d
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter"):
        opt.add_param_group({"params": [a]})


def test_optimizer_param_errors():
    a, b, _ = _params(ember)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        ember.optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        ember.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="ordering of tensors in sets will change"):
        ember.optim.SGD([{"params": {a, b}}], lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        ember.optim.SGD([a, 3.0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        ember.optim.SGD([a * 2], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ember.optim.SGD([a, a], lr=0.1)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        ember.optim.Adam([a], differentiable=True)


def test_optimizer_required_option_must_be_given():
    from ember.optim.optimizer import Optimizer, required

    class Plain(Optimizer):
        def __init__(self, params, lr=required):
            super().__init__(params, {"lr": lr})

    a, b, _ = _params(ember)
    with pytest.raises(ValueError, match="didn't specify a value of required optimization "
                                         "parameter lr"):
        Plain([a])
    assert Plain([{"params": [b], "lr": 1.0}]).param_groups[0]["lr"] == 1.0
    assert repr(required) == "<required parameter>"


def test_optimizer_zero_grad_set_to_none_and_zeros():
    a, b, _ = _params(ember)
    opt = ember.optim.SGD([a, b], lr=0.1)
    (a.sum() + 2 * b.sum()).backward()
    grad = b.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and b.grad is grad and b.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_step_hooks_order_and_removal():
    a, _, _ = _params(ember)
    opt = ember.optim.SGD([a], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", a.item())))
    g = ember.optim.optimizer.register_optimizer_step_pre_hook(
        lambda o, args, kwargs: calls.append(("global", None)))
    a.grad = ember.ones(1)
    opt.step()
    assert calls == [("global", None), ("pre", True), ("post", pytest.approx(0.9))]
    for h in (h1, h2, g):
        h.remove()
    opt.step()
    assert len(calls) == 3


def test_optimizer_pre_hook_can_replace_arguments():
    a, _, _ = _params(ember)
    opt = ember.optim.SGD([a], lr=0.1)
    seen = []

    def closure():
        seen.append(True)
        return ember.tensor(1.0)

    opt.register_step_pre_hook(lambda o, args, kwargs: ((), {"closure": closure}))
    assert opt.step().item() == 1.0 and seen == [True]


def test_optimizer_state_dict_hooks():
    a, _, _ = _params(ember)
    opt = ember.optim.Adam([a])
    events = []
    opt.register_state_dict_pre_hook(lambda o: events.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    opt.register_load_state_dict_pre_hook(
        lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
    opt.register_load_state_dict_post_hook(lambda o: events.append("loaded"))
    sd = opt.state_dict()
    assert sd["extra"] == 1 and events == ["pre"]
    opt.load_state_dict(sd)
    assert events == ["pre", "loaded"]


@needs_torch
def test_optimizer_state_dict_layout_matches_torch():
    results = []
    for lib in (ember, torch):
        a, b, c = _params(lib)
        opt = lib.optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], amsgrad=True)
        b.grad = lib.ones(2)
        c.grad = lib.ones(3)
        opt.step()
        sd = opt.state_dict()
        results.append((sorted(sd["state"]), {k: sorted(v) for k, v in sd["state"].items()},
                        sd["param_groups"]))
    assert results[0] == results[1]


@needs_torch
def test_optimizer_named_parameters_are_recorded_like_torch():
    groups = []
    for lib in (ember, torch):
        model = lib.nn.Linear(2, 3)
        opt = lib.optim.SGD(model.named_parameters(), lr=0.1)
        groups.append((opt.state_dict()["param_groups"], repr(opt)))
    assert groups[0] == groups[1]
    assert groups[0][0][0]["param_names"] == ["weight", "bias"]


def test_optimizer_load_state_dict_errors():
    a, b, c = _params(ember)
    opt = ember.optim.SGD([a, b], lr=0.1)
    other = ember.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    third = ember.optim.SGD([a, b, c], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(third.state_dict())


def test_optimizer_load_state_dict_casts_state_to_param_dtype():
    p = ember.nn.Parameter(ember.ones(2, dtype=ember.float64))
    opt = ember.optim.Adam([p])
    sd = {"state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.ones(2),
                        "exp_avg_sq": ember.ones(2)}},
          "param_groups": opt.state_dict()["param_groups"]}
    opt.load_state_dict(sd)
    state = opt.state[p]
    assert state["exp_avg"].dtype == ember.float64
    assert state["step"].dtype == ember.float32


def test_optimizer_deepcopy_and_pickle_round_trip():
    a, _, _ = _params(ember)
    opt = ember.optim.Adam([a], lr=0.1)
    a.grad = ember.ones(1)
    opt.step()
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.param_groups[0]["lr"] == 0.1
    assert len(clone.state) == 1
    twin = copy.deepcopy(opt)
    np.testing.assert_array_equal(
        np.asarray(next(iter(twin.state.values()))["exp_avg"]),
        np.asarray(opt.state[a]["exp_avg"]))


@needs_torch
def test_optimizer_trains_linear_model_like_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 1)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        model = lib.nn.Linear(4, 1)
        opt = lib.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(30):
            opt.zero_grad()
            loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
        results.append(loss.item())
    assert results[0] == pytest.approx(results[1], rel=1e-4)


def test_optimizer_subclass_calling_super_step_runs_hooks_once():
    class Clipped(ember.optim.SGD):
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.clamp_(-1.0, 1.0)
            return super().step(closure)

    a = ember.nn.Parameter(ember.tensor([0.0]))
    opt = Clipped([a], lr=0.5)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    a.grad = ember.tensor([10.0])
    opt.step()
    assert calls == ["pre", "post"]
    assert a.item() == -0.5
