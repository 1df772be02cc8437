"""Every scheduler's lr (and momentum) sequence equals PyTorch's; state dicts round trip."""

from __future__ import annotations

import copy
import math
import warnings

import pytest

import ember
from tests.oracle import needs_torch, torch


def _opt(lib, name="SGD", **kwargs):
    a = lib.nn.Parameter(lib.ones(2))
    b = lib.nn.Parameter(lib.ones(3))
    kwargs.setdefault("lr", 0.1)
    if name == "SGD":
        kwargs.setdefault("momentum", 0.9)
    return getattr(lib.optim, name)([{"params": [a]}, {"params": [b], "lr": 0.05}], **kwargs)


S = "lr_scheduler"
CASES = {
    "LambdaLR": (lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e), {}),
    "LambdaLR-list": (lambda m, o: m.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
                      {}),
    "MultiplicativeLR": (lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9), {}),
    "StepLR": (lambda m, o: m.StepLR(o, step_size=4, gamma=0.5), {}),
    "MultiStepLR": (lambda m, o: m.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.3), {}),
    "ConstantLR": (lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=6), {}),
    "LinearLR": (lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9,
                                         total_iters=8), {}),
    "ExponentialLR": (lambda m, o: m.ExponentialLR(o, gamma=0.8), {}),
    "PolynomialLR": (lambda m, o: m.PolynomialLR(o, total_iters=10, power=2.0), {}),
    "CosineAnnealingLR": (lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.001), {}),
    "CosineAnnealingWarmRestarts": (
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01), {}),
    "CosineAnnealingWarmRestarts-1": (
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=4), {}),
    "CyclicLR": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=4, step_size_down=3),
                 {}),
    "CyclicLR-triangular2": (lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=3,
                                                     mode="triangular2"), {}),
    "CyclicLR-exp_range-adam": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                        mode="exp_range", gamma=0.9),
                                {"name": "Adam"}),
    "CyclicLR-no-momentum": (lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                     cycle_momentum=False), {"name": "Adagrad"}),
    "OneCycleLR": (lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=31), {}),
    "OneCycleLR-linear-3phase": (
        lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=8,
                                  anneal_strategy="linear", three_phase=True), {}),
    "OneCycleLR-adam": (lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=40,
                                                  pct_start=0.25), {"name": "Adam"}),
    "SequentialLR": (lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=4), m.ExponentialLR(o, gamma=0.9)],
        milestones=[5]), {}),
    "SequentialLR-3": (lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=3), m.StepLR(o, 3, 0.5),
            m.CosineAnnealingLR(o, T_max=10)], milestones=[4, 12]), {}),
    "ChainedScheduler": (lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9)]), {}),
    "SWALR": (lambda m, o: _swa(m).SWALR(o, swa_lr=0.02, anneal_epochs=5), {}),
    "SWALR-linear": (lambda m, o: _swa(m).SWALR(o, swa_lr=[0.02, 0.03], anneal_epochs=3,
                                                anneal_strategy="linear"), {}),
}


def _swa(sched_module):
    return ember.optim.swa_utils if sched_module is ember.optim.lr_scheduler else \
        torch.optim.swa_utils


def _momenta(opt):
    return [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]


def _sequence(lib, case, steps=30):
    factory, opt_kwargs = CASES[case]
    opt = _opt(lib, **opt_kwargs)
    sched = factory(getattr(lib.optim, S), opt)
    lrs, momenta = [], []
    for _ in range(steps):
        lrs.append(list(sched.get_last_lr()))
        momenta.append(_momenta(opt))
        opt.step()
        sched.step()
    return lrs, momenta


@needs_torch
@pytest.mark.parametrize("case", list(CASES))
def test_scheduler_lr_sequence_matches_torch(case):
    ours, our_m = _sequence(ember, case)
    theirs, their_m = _sequence(torch, case)
    _assert_close(ours, theirs)
    _assert_close(our_m, their_m)


def _assert_close(ours, theirs):
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            if y is None:
                assert x is None, step
            else:
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15), (step, a, b)


@needs_torch
@pytest.mark.parametrize("case", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "CyclicLR",
                                  "OneCycleLR", "SequentialLR", "ChainedScheduler",
                                  "CosineAnnealingWarmRestarts", "LambdaLR", "SWALR",
                                  "LinearLR"])
def test_scheduler_state_dict_round_trip(case):
    factory, opt_kwargs = CASES[case]
    module = ember.optim.lr_scheduler
    opt = _opt(ember, **opt_kwargs)
    sched = factory(module, opt)
    straight = []
    for i in range(20):
        opt.step()
        sched.step()
        if i == 9:
            opt_state = copy.deepcopy(opt.state_dict())
            sched_state = copy.deepcopy(sched.state_dict())
        straight.append(sched.get_last_lr())
    opt2 = _opt(ember, **opt_kwargs)
    sched2 = factory(module, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    resumed = []
    for _ in range(10):
        opt2.step()
        sched2.step()
        resumed.append(sched2.get_last_lr())
    assert resumed == straight[10:]
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"mode": "max", "threshold_mode": "abs",
                                         "threshold": 0.05},
                                    {"patience": 2, "cooldown": 2, "min_lr": [0.02, 0.001],
                                     "factor": 0.5}])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.94, 0.96, 0.9, 0.91, 0.92, 0.93, 0.93, 0.95, 0.97, 0.8,
               0.8, 0.8, 0.85, 0.9, 0.95, 1.0] * 2
    kwargs = dict(kwargs, patience=kwargs.get("patience", 1))
    seqs = []
    for lib in (ember, torch):
        opt = _opt(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(m)
            seq.append(list(sched.get_last_lr()))
        seqs.append(seq)
        state = sched.state_dict()
    assert seqs[0] == seqs[1]
    assert sorted(state) == sorted(sched.state_dict())


def test_scheduler_warns_when_stepped_before_optimizer():
    opt = _opt(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before "
                                         r"`optimizer.step\(\)`"):
        sched.step()
    opt2 = _opt(ember)
    sched2 = ember.optim.lr_scheduler.StepLR(opt2, 2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_scheduler_epoch_argument_and_get_lr_warn():
    opt = _opt(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
        sched.step(5)
    assert sched.get_last_lr() == pytest.approx([0.1 * 0.25, 0.05 * 0.25])
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


def test_scheduler_errors():
    opt = _opt(ember)
    m = ember.optim.lr_scheduler
    with pytest.raises(TypeError, match="is not an Optimizer"):
        m.StepLR(object(), 2)
    with pytest.raises(KeyError, match="initial_lr"):
        m.StepLR(opt, 2, last_epoch=3)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        m.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="Constant multiplicative factor"):
        m.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="You must define either total_steps"):
        m.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        sched = m.OneCycleLR(opt, max_lr=1.0, total_steps=2)
        for _ in range(3):
            opt.step()
            sched.step()
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        m.CyclicLR(_opt(ember, "Adagrad"), 0.01, 0.1)
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        m.ChainedScheduler([m.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        m.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="Expected positive integer T_0"):
        m.CosineAnnealingWarmRestarts(opt, T_0=0)


def test_scheduler_tensor_lr_is_updated_in_place():
    p = ember.nn.Parameter(ember.ones(2))
    lr = ember.tensor(0.5)
    opt = ember.optim.SGD([p], lr=lr)
    sched = ember.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr
    assert math.isclose(lr.item(), 0.25)
