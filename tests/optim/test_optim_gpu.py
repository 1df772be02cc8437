"""Optimizers, LBFGS and AveragedModel on a CUDA device (CuPy) match the CPU trajectory."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.optim._problem import grad_of, make_problem

pytestmark = pytest.mark.gpu

CASES = [("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
         ("Adam", {"lr": 0.01, "amsgrad": True}), ("AdamW", {"lr": 0.01}),
         ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
         ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}), ("Adadelta", {}),
         ("Adamax", {"lr": 0.02}), ("NAdam", {"lr": 0.02}), ("RAdam", {"lr": 0.02}),
         ("ASGD", {"lr": 0.05, "t0": 3}), ("Rprop", {"lr": 0.01})]


def _run(device, name, kwargs, steps=15):
    init, noise = make_problem(steps)
    params = [ember.nn.Parameter(ember.tensor(a.copy()).to(device)) for a in init]
    opt = getattr(ember.optim, name)(params, **kwargs)
    for t in range(steps):
        for p, n in zip(params, noise[t]):
            x = np.asarray(p.detach().cpu())
            p.grad = ember.tensor(grad_of(x, n)).to(device)
        opt.step()
    return [np.asarray(p.detach().cpu()) for p in params], params


@pytest.mark.parametrize("name,kwargs", CASES, ids=[c[0] for c in CASES])
def test_optimizer_on_cuda_matches_cpu(name, kwargs):
    cpu, _ = _run("cpu", name, kwargs)
    gpu, params = _run("cuda", name, kwargs)
    assert all(p.is_cuda for p in params)
    for a, b in zip(gpu, cpu):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_on_cuda_matches_cpu(line_search_fn):
    results = []
    for device in ("cpu", "cuda"):
        w = ember.nn.Parameter(ember.tensor([-1.2, 1.0, 0.5]).to(device))
        opt = ember.optim.LBFGS([w], max_iter=10, line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = ((w - 1) ** 4).sum() + (w * w).sum()
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append(np.asarray(w.detach().cpu()))
    np.testing.assert_allclose(results[1], results[0], rtol=1e-4, atol=1e-5)


def test_averaged_model_on_cuda():
    net = ember.nn.Linear(3, 2).to("cuda")
    avg = ember.optim.swa_utils.AveragedModel(
        net, multi_avg_fn=ember.optim.swa_utils.get_ema_multi_avg_fn(0.5))
    first = np.asarray(net.weight.detach().cpu())
    avg.update_parameters(net)
    with ember.no_grad():
        net.weight.add_(1.0)
    avg.update_parameters(net)
    np.testing.assert_allclose(np.asarray(avg.module.weight.detach().cpu()), first + 0.5,
                               rtol=1e-6)
