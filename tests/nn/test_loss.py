"""Loss modules and what the op table cannot cover: module parity, repr and buffers, legacy
size_average/reduce, warnings, double backward of the fused cross entropy, CTC against
torch (gradients included), GPU."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, to_numpy, torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5))
Y = RNG.standard_normal((4, 5))
P = RNG.uniform(0.05, 0.95, (4, 5))
T01 = RNG.uniform(0, 1, (4, 5))
CLS = np.array([0, 3, 1, 4])
W = RNG.uniform(0.5, 2, 5)
# Sign targets are integers: float ones would require grad in assert_module_parity, and
# PyTorch refuses (soft_margin_loss) or returns no gradient for them.
SIGN = np.where(RNG.random(4) < 0.5, -1, 1)
ML = np.array([[3, 0, -1, 1, 2], [0, 1, 2, 3, 4], [-1, 1, 2, 0, 0], [4, 4, -1, 0, 0]])


def _cases():
    return [
        ("L1Loss", {}, (X, Y)), ("MSELoss", {"reduction": "sum"}, (X, Y)),
        ("CrossEntropyLoss", {}, (X, CLS)),
        ("CrossEntropyLoss", {"weight": W, "ignore_index": 3, "label_smoothing": 0.1},
         (X, CLS)),
        ("CrossEntropyLoss", {"reduction": "none"}, (X, T01)),
        ("NLLLoss", {"weight": W}, (X, CLS)),
        ("BCELoss", {"weight": W}, (P, T01)),
        ("BCEWithLogitsLoss", {"pos_weight": W}, (X, T01)),
        ("SmoothL1Loss", {"beta": 0.5}, (X, Y)), ("HuberLoss", {"delta": 0.7}, (X, Y)),
        ("KLDivLoss", {"reduction": "batchmean"}, (X, T01)),
        ("KLDivLoss", {"reduction": "sum", "log_target": True}, (X, Y)),
        ("PoissonNLLLoss", {"full": True}, (X, T01 * 4)),
        ("GaussianNLLLoss", {"full": True}, (X, Y, P)),
        ("HingeEmbeddingLoss", {"margin": 0.5}, (X, np.where(Y > 0, 1, -1))),
        ("MultiLabelMarginLoss", {}, (X, ML)),
        ("SoftMarginLoss", {}, (X, np.where(Y > 0, 1, -1))),
        ("MultiLabelSoftMarginLoss", {"weight": W}, (X, (T01 > 0.5) * 1.0)),
        ("CosineEmbeddingLoss", {"margin": 0.1}, (X, Y, SIGN)),
        ("MarginRankingLoss", {"margin": 0.2}, (X[:, 0], Y[:, 0], SIGN)),
        ("MultiMarginLoss", {"p": 2, "weight": W}, (X, CLS)),
        ("TripletMarginLoss", {"swap": True}, (X, Y, P)),
        ("TripletMarginWithDistanceLoss", {"margin": 2.0}, (X, Y, P)),
    ]


def _tensors(kwargs, lib):
    return {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


CASES = _cases()


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kwargs,inputs", CASES, ids=[c[0] + str(i)
                                                           for i, c in enumerate(CASES)])
def test_loss_module_parity(name, kwargs, inputs, dtype):
    ekw, tkw = _tensors(kwargs, ember), _tensors(kwargs, torch)
    ekw = {k: v.to(getattr(ember, dtype)) if isinstance(v, ember.Tensor) else v
           for k, v in ekw.items()}
    tkw = {k: v.to(getattr(torch, dtype)) if isinstance(v, torch.Tensor) else v
           for k, v in tkw.items()}
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs]
    assert_module_parity(getattr(enn, name)(**ekw), getattr(torch.nn, name)(**tkw), *arrays,
                         dtype=dtype)


@needs_torch
@pytest.mark.parametrize("name", ["L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
                                  "BCEWithLogitsLoss", "CTCLoss", "HuberLoss", "KLDivLoss",
                                  "MultiMarginLoss", "TripletMarginLoss", "GaussianNLLLoss",
                                  "TripletMarginWithDistanceLoss"])
def test_loss_module_repr(name):
    assert repr(getattr(enn, name)()) == repr(getattr(torch.nn, name)())


@needs_torch
def test_loss_buffers_in_state_dict():
    e = enn.CrossEntropyLoss(weight=ember.ones(3))
    t = torch.nn.CrossEntropyLoss(weight=torch.ones(3))
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight"]
    e = enn.BCEWithLogitsLoss(pos_weight=ember.ones(3))
    t = torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(3))
    assert list(e.state_dict()) == list(t.state_dict()) == ["pos_weight"]
    assert list(enn.NLLLoss().state_dict()) == []


@pytest.mark.parametrize("size_average,reduce,expected", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")])
def test_legacy_size_average_reduce(size_average, reduce, expected):
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        m = enn.MSELoss(size_average=size_average, reduce=reduce)
    assert m.reduction == expected
    x, y = ember.tensor(X), ember.tensor(Y)
    with pytest.warns(UserWarning, match="size_average and reduce args"):
        got = EF.mse_loss(x, y, size_average=size_average, reduce=reduce)
    want = EF.mse_loss(x, y, reduction=expected)
    np.testing.assert_allclose(got.numpy(), want.numpy())


def test_target_size_mismatch_warns():
    with pytest.warns(UserWarning, match="Using a target size .* different to the input size"):
        EF.l1_loss(ember.tensor(X), ember.tensor(Y[:, :1]))


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        EF.kl_div(ember.tensor(X), ember.tensor(T01))


def test_invalid_reduction_raises():
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        EF.l1_loss(ember.tensor(X), ember.tensor(Y), reduction="foo")


def test_cross_entropy_all_ignored_is_nan():
    x = ember.tensor(X)
    loss = EF.cross_entropy(x, ember.tensor(np.full(4, -100)))
    assert np.isnan(loss.item())


@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"weight": W, "label_smoothing": 0.2,
                                         "ignore_index": 3}, {"reduction": "none"}])
def test_cross_entropy_double_backward(kwargs):
    v = RNG.standard_normal((4, 5))
    res = []
    for lib in (ember, torch):
        x = lib.tensor(X, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(CLS), **_tensors(kwargs, lib))
        (g,) = lib.autograd.grad(loss.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(v)).sum(), x)
        res.append(to_numpy(h))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-9, atol=1e-12)


@needs_torch
def test_cross_entropy_probs_target_grad():
    res = []
    for lib in (ember, torch):
        x = lib.tensor(X, requires_grad=True)
        t = lib.tensor(T01, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, t, weight=lib.tensor(W), label_smoothing=0.1)
        res.append([to_numpy(g) for g in lib.autograd.grad(loss, (x, t))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_matches_torch(dtype, reduction, zero_infinity):
    T, N, C = 8, 3, 5
    x = RNG.standard_normal((T, N, C)).astype(dtype)
    targets = np.array([[1, 2, 2, 4], [3, 1, 0, 0], [4, 4, 4, 0]])
    il, tl = [8, 6, 2], [4, 2, 3]          # sample 2 cannot be aligned: infinite loss
    res = []
    for lib in (ember, torch):
        lp = lib.tensor(x, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(lp, lib.tensor(targets), il, tl,
                                          reduction=reduction, zero_infinity=zero_infinity)
        cot = np.linspace(0.5, 1.5, int(np.prod(loss.shape))).reshape(tuple(loss.shape))
        (g,) = lib.autograd.grad(loss, lp, lib.tensor(cot.astype(dtype)))
        res.append((to_numpy(loss), to_numpy(g)))
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=tol)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=tol, atol=tol, equal_nan=True)
    assert np.isnan(res[0][1][:2, 2]).all() != zero_infinity    # nan like PyTorch's


@needs_torch
def test_ctc_module_with_lengths_tensors():
    x = np.log(RNG.dirichlet(np.ones(4), (6, 2)))
    targets = np.array([1, 2, 3, 3])
    args = (targets, np.array([6, 5]), np.array([2, 2]))
    e = enn.CTCLoss(blank=0)(ember.tensor(x), *[ember.tensor(a) for a in args])
    t = torch.nn.CTCLoss(blank=0)(torch.tensor(x), *[torch.tensor(a) for a in args])
    np.testing.assert_allclose(e.item(), t.item(), rtol=1e-10)


def test_ctc_second_derivative_not_implemented():
    x = ember.tensor(RNG.standard_normal((5, 1, 3)), requires_grad=True)
    loss = EF.ctc_loss(x.log_softmax(2), ember.tensor([[1, 2]]), [5], [2])
    (g,) = ember.autograd.grad(loss, x, create_graph=True)
    with pytest.raises(RuntimeError, match="_ctc_loss_backward is not implemented"):
        ember.autograd.grad(g.sum(), x)


def test_gaussian_nll_clamps_var_but_keeps_its_gradient():
    x = ember.tensor([0.0, 1.0], dtype=ember.float64)
    var = ember.tensor([1e-9, 2.0], dtype=ember.float64, requires_grad=True)
    loss = EF.gaussian_nll_loss(x, ember.zeros(2, dtype=ember.float64), var, eps=1e-6,
                                reduction="sum")
    loss.backward()
    assert np.isfinite(var.grad.numpy()).all()
    np.testing.assert_allclose(loss.item(), 0.5 * (np.log(1e-6) + np.log(2.0) + 0.5))


def test_losses_no_host_loop_large_batch():
    # cross entropy over a large batch runs as whole-array work (a per-sample loop would
    # take seconds here).
    import time
    x = ember.randn(20000, 50, requires_grad=True)
    t = ember.randint(0, 50, (20000,))
    start = time.perf_counter()
    EF.cross_entropy(x, t).backward()
    assert time.perf_counter() - start < 2.0


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "mse_loss",
                                  "binary_cross_entropy_with_logits", "multi_margin_loss"])
def test_loss_gpu_matches_cpu(name):
    x = ember.tensor(X, requires_grad=True)
    target = ember.tensor(CLS if name in ("cross_entropy", "nll_loss", "multi_margin_loss")
                          else T01)
    xc = x.detach().cuda().requires_grad_(True)
    out = getattr(EF, name)(x, target)
    outc = getattr(EF, name)(xc, target.cuda())
    np.testing.assert_allclose(outc.cpu().detach().numpy(), out.detach().numpy(), rtol=1e-6)
    out.backward()
    outc.backward()
    np.testing.assert_allclose(xc.grad.cpu().numpy(), x.grad.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.gpu
def test_ctc_loss_gpu_matches_cpu():
    x = ember.tensor(RNG.standard_normal((6, 2, 4)), requires_grad=True)
    xc = x.detach().cuda().requires_grad_(True)
    targets = ember.tensor([[1, 2], [3, 3]])
    out = EF.ctc_loss(x.log_softmax(2), targets, [6, 5], [2, 2])
    outc = EF.ctc_loss(xc.log_softmax(2), targets.cuda(), [6, 5], [2, 2])
    np.testing.assert_allclose(outc.item(), out.item(), rtol=1e-10)
    out.backward()
    outc.backward()
    np.testing.assert_allclose(xc.grad.cpu().numpy(), x.grad.numpy(), rtol=1e-8, atol=1e-12)
