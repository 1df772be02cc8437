"""AveragedModel (SWA and EMA), SWALR and update_bn against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch


def _net(lib):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2))


def _averaged(lib, kind):
    su = lib.optim.swa_utils
    if kind == "swa":
        return {}
    if kind == "ema":
        return {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9)}
    if kind == "ema_avg_fn":
        return {"avg_fn": su.get_ema_avg_fn(0.8)}
    if kind == "swa_avg_fn":
        return {"avg_fn": su.get_swa_avg_fn()}
    return {"multi_avg_fn": su.get_ema_multi_avg_fn(0.9), "use_buffers": True}


@needs_torch
@pytest.mark.parametrize("kind", ["swa", "ema", "ema_avg_fn", "swa_avg_fn", "ema_buffers"])
def test_averaged_model_matches_torch(kind):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    outs = []
    for lib in (ember, torch):
        net = _net(lib)
        avg = lib.optim.swa_utils.AveragedModel(net, **_averaged(lib, kind))
        opt = lib.optim.SGD(net.parameters(), lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            net(lib.tensor(x)).pow(2).mean().backward()
            opt.step()
            avg.update_parameters(net)
        outs.append(({k: np.asarray(v.detach()) for k, v in avg.state_dict().items()},
                     int(avg.n_averaged)))
    (ours, n1), (theirs, n2) = outs
    assert n1 == n2 == 5
    assert sorted(ours) == sorted(theirs)
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_averaged_model_is_mean_of_weights():
    net = ember.nn.Linear(2, 1)
    avg = ember.optim.swa_utils.AveragedModel(net)
    seen = []
    for v in (1.0, 2.0, 6.0):
        with ember.no_grad():
            net.weight.fill_(v)
        seen.append(v)
        avg.update_parameters(net)
    np.testing.assert_allclose(np.asarray(avg.module.weight.detach()), np.mean(seen))
    out = avg(ember.ones(1, 2))
    assert out.shape == (1, 1)


def test_averaged_model_rejects_two_average_functions():
    su = ember.optim.swa_utils
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        su.AveragedModel(ember.nn.Linear(1, 1), avg_fn=su.get_swa_avg_fn(),
                         multi_avg_fn=su.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="Invalid decay value"):
        su.get_ema_multi_avg_fn(1.5)


@needs_torch
def test_update_bn_matches_torch():
    rng = np.random.default_rng(2)
    batches = [rng.standard_normal((6, 3)).astype(np.float32) for _ in range(4)]
    stats = []
    for lib in (ember, torch):
        net = _net(lib)
        net.eval()
        loader = [(lib.tensor(b), 0) for b in batches]
        lib.optim.swa_utils.update_bn(loader, net)
        bn = net[1]
        assert not net.training and bn.momentum == 0.1
        stats.append((np.asarray(bn.running_mean.detach()), np.asarray(bn.running_var.detach()),
                      int(bn.num_batches_tracked)))
    np.testing.assert_allclose(stats[0][0], stats[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats[0][1], stats[1][1], rtol=1e-5, atol=1e-6)
    assert stats[0][2] == stats[1][2] == 4


def test_swalr_errors():
    opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        ember.optim.swa_utils.SWALR(opt, 0.05, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        ember.optim.swa_utils.SWALR(opt, 0.05, anneal_epochs=-1)
