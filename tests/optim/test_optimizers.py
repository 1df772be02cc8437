"""Every optimizer and option: 50-step trajectories equal PyTorch's (float32 rounding)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ember
from tests.optim._problem import make_problem, run, run_resumed, set_grads, to_np
from tests.oracle import needs_torch, torch

CASES = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    ("Adam", {"lr": 0.01, "foreach": False, "fused": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.3}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1,
                 "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "eps": 1e-6, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adadelta", {"maximize": True, "eps": 1e-4}),
    ("Adamax", {"lr": 0.02}),
    ("Adamax", {"lr": 0.02, "weight_decay": 0.1, "betas": (0.8, 0.95)}),
    ("Adamax", {"lr": 0.02, "maximize": True}),
    ("NAdam", {"lr": 0.02}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.02, "momentum_decay": 0.01, "maximize": True}),
    ("RAdam", {"lr": 0.02}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.02, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.02, "betas": (0.9, 0.9), "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 10, "lambd": 1e-3, "alpha": 0.5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 5, "maximize": True}),
    ("Rprop", {"lr": 0.01}),
    ("Rprop", {"lr": 0.01, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.05)}),
    ("Rprop", {"lr": 0.01, "maximize": True}),
]


def _ids(case):
    name, kwargs = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def assert_traj_equal(ours, theirs, rtol=2e-5, atol=1e-6):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol,
                                       err_msg=f"step {step}, param {i}")


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_optimizer_trajectory_matches_torch(case):
    name, kwargs = case
    ours, _, opt = run(ember, name, kwargs)
    theirs, _, topt = run(torch, name, kwargs)
    assert_traj_equal(ours, theirs)
    # the state has PyTorch's keys and values
    for (k, s), (tk, ts) in zip(opt.state_dict()["state"].items(),
                                topt.state_dict()["state"].items()):
        assert k == tk and list(s) == list(ts)
        for key in s:
            if isinstance(ts[key], torch.Tensor):
                assert str(s[key].dtype) == str(ts[key].dtype), key
                np.testing.assert_allclose(to_np(s[key]), to_np(ts[key]), rtol=2e-5,
                                           atol=1e-6, err_msg=key)
            else:
                assert s[key] == ts[key], key


@needs_torch
@pytest.mark.parametrize("name,kwargs", [("SGD", {"lr": 0.05, "momentum": 0.9}),
                                         ("Adam", {"lr": 0.01}), ("NAdam", {"lr": 0.02}),
                                         ("RAdam", {"lr": 0.02}), ("Adagrad", {"lr": 0.1})])
def test_optimizer_trajectory_float64(name, kwargs):
    ours, _, _ = run(ember, name, kwargs, steps=20, dtype=np.float64)
    theirs, _, _ = run(torch, name, kwargs, steps=20, dtype=np.float64)
    assert_traj_equal(ours, theirs, rtol=1e-12, atol=1e-14)


@needs_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_optimizer_param_groups_match_torch(name):
    kwargs = {"lr": 0.01, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.01}
    groups = [{"params": [0, 2]}, {"params": [1], "lr": 0.1, "weight_decay": 0.05}]
    ours, _, opt = run(ember, name, kwargs, steps=20, groups=groups)
    theirs, _, topt = run(torch, name, kwargs, steps=20, groups=groups)
    assert_traj_equal(ours, theirs)
    assert repr(opt) == repr(topt)


@needs_torch
@pytest.mark.parametrize("case", [c for c in CASES if not c[1].get("maximize")][::3],
                         ids=[_ids(c) for c in CASES if not c[1].get("maximize")][::3])
def test_optimizer_state_dict_resume_gives_same_trajectory(case):
    name, kwargs = case
    straight, _, _ = run(ember, name, kwargs)
    resumed = run_resumed(ember, name, kwargs)
    assert_traj_equal(resumed, straight, rtol=0, atol=0)


def _to_ember(value):
    if isinstance(value, torch.Tensor):
        return ember.tensor(value.numpy().copy())
    if isinstance(value, dict):
        return {k: _to_ember(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_ember(v) for v in value]
    return value


@needs_torch
@pytest.mark.parametrize("name,kwargs", [("Adam", {"lr": 0.01, "amsgrad": True}),
                                         ("NAdam", {"lr": 0.02}), ("ASGD", {"t0": 5}),
                                         ("Rprop", {}), ("SGD", {"momentum": 0.9})])
def test_optimizer_loads_torch_state_dict_and_continues(name, kwargs):
    steps, split = 30, 12
    init, noise = make_problem(steps)
    tparams = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    for t in range(split):
        set_grads(torch, tparams, noise[t])
        topt.step()
    eparams = [ember.nn.Parameter(ember.tensor(to_np(p))) for p in tparams]
    eopt = getattr(ember.optim, name)(eparams, **kwargs)
    eopt.load_state_dict(_to_ember(copy.deepcopy(topt.state_dict())))
    for t in range(split, steps):
        set_grads(torch, tparams, noise[t])
        topt.step()
        set_grads(ember, eparams, noise[t])
        eopt.step()
    for e, t in zip(eparams, tparams):
        np.testing.assert_allclose(to_np(e), to_np(t), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_optimizer_updates_in_place_and_bumps_version(name):
    p = ember.nn.Parameter(ember.tensor([1.0, -2.0, 3.0]))
    data, version = p._data, p._version
    opt = getattr(ember.optim, name)([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p._data is data
    assert p._version > version
    assert not np.allclose(to_np(p), [1.0, -2.0, 3.0])
    # a parameter without a gradient is left alone
    q = ember.nn.Parameter(ember.tensor([5.0]))
    opt.add_param_group({"params": [q]})
    opt.step()
    assert q.tolist() == [5.0]


def test_optimizer_step_runs_under_no_grad_and_closure_with_grad():
    p = ember.nn.Parameter(ember.tensor([2.0]))
    opt = ember.optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        assert ember.is_grad_enabled()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0
    assert p.item() == 1.0
    assert p.grad_fn is None


@needs_torch
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("history_size", [100, 3])
def test_lbfgs_matches_torch(line_search_fn, history_size):
    init, _ = make_problem(1, seed=3)
    target = [np.full(a.shape, 0.5, np.float32) for a in init]

    def closure_for(lib, params, opt):
        def closure():
            opt.zero_grad()
            loss = 0.0
            for p, c in zip(params, target):
                x = to_np(p)
                d = x - c
                # a Rosenbrock-like coupling makes the curvature matter
                loss += float(np.sum(d * d * d * d) + np.sum(d * d))
                p.grad = lib.tensor((np.float32(4) * d * d * d + np.float32(2) * d)
                                    .astype(np.float32))
            return lib.tensor(loss)
        return closure

    results = []
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.tensor(a.copy())) for a in init]
        opt = lib.optim.LBFGS(params, lr=0.8, max_iter=6, history_size=history_size,
                              line_search_fn=line_search_fn)
        closure = closure_for(lib, params, opt)
        losses = [float(opt.step(closure)) for _ in range(4)]
        state = opt.state[params[0]]
        results.append((losses, [to_np(p) for p in params], state["func_evals"],
                        state["n_iter"]))
    (e_losses, e_params, e_evals, e_iters), (t_losses, t_params, t_evals, t_iters) = results
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-5)
    for a, b in zip(e_params, t_params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert (e_evals, e_iters) == (t_evals, t_iters)


def test_lbfgs_converges_with_autograd_closure():
    w = ember.nn.Parameter(ember.tensor([-1.5, 2.0]))
    opt = ember.optim.LBFGS([w], max_iter=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        x, y = w[0], w[1]
        loss = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(w.tolist(), [1.0, 1.0], atol=1e-3)


def test_lbfgs_state_dict_resume():
    def make():
        w = ember.nn.Parameter(ember.tensor([3.0, -1.0, 0.5]))
        opt = ember.optim.LBFGS([w], max_iter=3, history_size=4)

        def closure():
            opt.zero_grad()
            loss = ((w - 1) ** 4).sum() + (w * w).sum()
            loss.backward()
            return loss
        return w, opt, closure

    w1, opt1, c1 = make()
    for _ in range(4):
        opt1.step(c1)
    w2, opt2, c2 = make()
    for _ in range(2):
        opt2.step(c2)
    saved = copy.deepcopy(opt2.state_dict())
    opt3 = ember.optim.LBFGS([w2], max_iter=3, history_size=4)
    opt3.load_state_dict(saved)
    for _ in range(2):
        opt3.step(c2)
    np.testing.assert_array_equal(to_np(w1), to_np(w2))


def test_lbfgs_rejects_param_groups_and_bad_line_search():
    a, b = ember.nn.Parameter(ember.ones(1)), ember.nn.Parameter(ember.ones(1))
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        ember.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    opt = ember.optim.LBFGS([a], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_sparse_adam_refuses_dense_gradients():
    p = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SparseAdam([p])
    (p * p).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        opt.step()
    with pytest.raises(ValueError, match="Invalid learning rate"):
        ember.optim.SparseAdam([p], lr=0.0)


@needs_torch
def test_sparse_adam_row_update_matches_torch():
    from ember.optim.sparse_adam import _sparse_adam_update

    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 3)).astype(np.float32)
    tp = torch.nn.Parameter(torch.tensor(weight.copy()))
    topt = torch.optim.SparseAdam([tp], lr=0.05)
    ours = weight.copy()
    exp_avg, exp_avg_sq = np.zeros_like(ours), np.zeros_like(ours)
    for step in range(1, 8):
        rows = np.unique(rng.integers(0, 6, size=3))
        values = rng.standard_normal((len(rows), 3)).astype(np.float32)
        tp.grad = torch.sparse_coo_tensor(torch.tensor(rows[None]), torch.tensor(values),
                                          (6, 3), check_invariants=True)
        topt.step()
        _sparse_adam_update(np, ours, exp_avg, exp_avg_sq, rows[None], values, step,
                            lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8)
        np.testing.assert_allclose(ours, tp.detach().numpy(), rtol=1e-6, atol=1e-7)


@needs_torch
@pytest.mark.parametrize("name,kwargs,message", [
    ("SGD", {"lr": -1.0}, "Invalid learning rate"),
    ("SGD", {"lr": 0.1, "momentum": -0.5}, "Invalid momentum value"),
    ("SGD", {"lr": 0.1, "nesterov": True}, "Nesterov momentum requires"),
    ("Adam", {"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0"),
    ("Adam", {"betas": (0.9, 1.5)}, "Invalid beta parameter at index 1"),
    ("Adam", {"eps": -1.0}, "Invalid epsilon value"),
    ("AdamW", {"weight_decay": -1.0}, "Invalid weight_decay value"),
    ("RMSprop", {"alpha": -1.0}, "Invalid alpha value"),
    ("Adagrad", {"lr_decay": -1.0}, "Invalid lr_decay value"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "Invalid initial_accumulator_value"),
    ("Adadelta", {"rho": 1.5}, "Invalid rho value"),
    ("NAdam", {"momentum_decay": -1.0}, "Invalid momentum_decay value"),
    ("Rprop", {"etas": (1.5, 1.2)}, "Invalid eta values"),
])
def test_optimizer_invalid_options_raise_like_torch(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(1))], **kwargs)
    with pytest.raises(ValueError, match=message):
        getattr(ember.optim, name)([ember.nn.Parameter(ember.ones(1))], **kwargs)


@needs_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "SparseAdam",
                                  "LBFGS"])
def test_optimizer_defaults_and_repr_match_torch(name):
    kwargs = {"lr": 0.1} if name == "SGD" else {}
    ours = getattr(ember.optim, name)([ember.nn.Parameter(ember.ones(1))], **kwargs)
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(1))], **kwargs)
    assert ours.defaults == theirs.defaults
    assert repr(ours) == repr(theirs)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


@needs_torch
@pytest.mark.parametrize("name,kwargs", [
    ("SGD", {"lr": 0.05, "momentum": 0.9}), ("Adam", {"lr": 0.02, "amsgrad": True}),
    ("AdamW", {"lr": 0.02}), ("RMSprop", {"lr": 0.01, "centered": True}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}), ("Adadelta", {}),
    ("Adamax", {"lr": 0.02}), ("NAdam", {"lr": 0.02}), ("RAdam", {"lr": 0.02}),
    ("ASGD", {"lr": 0.05, "t0": 3}), ("Rprop", {"lr": 0.01})])
def test_optimizer_complex_params_match_torch(name, kwargs):
    """Complex parameters are optimized as pairs of independent reals (view_as_real)."""
    rng = np.random.default_rng(5)
    init = [(rng.standard_normal(s) + 1j * rng.standard_normal(s)).astype(np.complex64)
            for s in [(2, 3), ()]]
    noise = [[(0.1 * (rng.standard_normal(a.shape) + 1j * rng.standard_normal(a.shape)))
              .astype(np.complex64) for a in init] for _ in range(20)]
    results = []
    for lib in (ember, torch):
        params = [lib.nn.Parameter(lib.tensor(a.copy())) for a in init]
        opt = getattr(lib.optim, name)(params, **kwargs)
        for t in range(20):
            for p, n in zip(params, noise[t]):
                p.grad = lib.tensor((np.complex64(0.5) * to_np(p) + n).astype(np.complex64))
            opt.step()
        results.append([to_np(p) for p in params])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "NAdam", "RAdam", "ASGD", "Rprop"])
def test_optimizer_narrow_float_params_follow_torch(name, dtype):
    """float16/bfloat16: state keeps the parameter dtype (step counters float32, as in
    PyTorch); values agree to a few units of the narrow type's precision."""
    init = np.random.default_rng(0).standard_normal(64).astype(np.float32)
    results = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.tensor(init, dtype=getattr(lib, dtype)))
        kwargs = {"momentum": 0.9} if name == "SGD" else {}
        opt = getattr(lib.optim, name)([p], lr=0.01, **kwargs)
        for _ in range(10):
            p.grad = (p.detach() * 2 + 0.1).clone()
            opt.step()
        assert str(p.dtype).endswith(dtype)
        results.append((to_np(p.float()),
                        {k: str(v.dtype) for k, v in opt.state[p].items()
                         if hasattr(v, "dtype")}))
    (ours, our_dtypes), (theirs, their_dtypes) = results
    assert our_dtypes == their_dtypes
    np.testing.assert_allclose(ours, theirs, rtol=2e-2, atol=2e-2, equal_nan=True)
