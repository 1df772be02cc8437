"""ember.utils.checkpoint: gradients, RNG replay, freed activations, errors and warnings."""

from __future__ import annotations

import contextlib
import gc
import warnings
import weakref

import numpy as np
import pytest

import ember
from ember import nn
from ember.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential
from tests.oracle import needs_torch, torch

MODES = [True, False]


def _model():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Dropout(0.5), nn.Linear(6, 3))


def _grads(model, x):
    return [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in model.parameters()]


def _clear(model, x):
    model.zero_grad()
    x.grad = None


def _run(model, x, fn, seed=3):
    """Gradients of sum(fn(x) * w) for a fixed cotangent w, from RNG seed `seed`."""
    _clear(model, x)
    ember.manual_seed(seed)
    out = fn(x)
    w = ember.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape).astype(np.float32))
    (out * w).sum().backward()
    return out.detach().numpy().copy(), _grads(model, x)


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_grads_match_plain_with_dropout(reentrant):
    model = _model()
    x = ember.randn(4, 5, requires_grad=True)
    ref_out, ref = _run(model, x, model)
    out, got = _run(model, x, lambda t: checkpoint(model, t, use_reentrant=reentrant))
    np.testing.assert_array_equal(out, ref_out)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_without_rng_preservation_changes_dropout(reentrant):
    model = _model()
    x = ember.randn(4, 5, requires_grad=True)
    _, ref = _run(model, x, model)
    _, got = _run(model, x, lambda t: checkpoint(model, t, use_reentrant=reentrant,
                                                  preserve_rng_state=False))
    assert not np.allclose(got[0], ref[0])


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_frees_intermediate_activations(reentrant):
    refs = []

    def fn(x):
        h = x.exp()
        refs.append(weakref.ref(h))
        return (h * h).sin()

    x = ember.randn(8, requires_grad=True)
    y_plain = fn(x)                 # mul and sin keep h alive for backward
    gc.collect()
    assert refs[0]() is not None
    y = checkpoint(fn, x, use_reentrant=reentrant)
    gc.collect()
    assert refs[1]() is None
    y.sum().backward()
    g = x.grad.numpy().copy()
    x.grad = None
    y_plain.sum().backward()
    np.testing.assert_allclose(g, x.grad.numpy(), rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_graph_structure_matches_torch(reentrant):
    # reentrant: one node for the whole region; non-reentrant: fn's own graph.
    names = []
    for lib in (ember, torch):
        x = lib.randn(3, requires_grad=True)
        y = lib.utils.checkpoint.checkpoint(lambda t: t.sin().cos().exp(), x,
                                            use_reentrant=reentrant)
        nxt = [e[0] for e in y.grad_fn.next_functions if e[0] is not None]
        names.append((y.grad_fn.name(), [n.name() for n in nxt]))
    assert names[0] == names[1]


def test_checkpoint_use_reentrant_none_warns_and_is_reentrant():
    x = ember.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        y = checkpoint(ember.sin, x)
    assert type(y.grad_fn).__name__ == "CheckpointFunctionBackward"
    with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter"):
        checkpoint_sequential([ember.sin, ember.cos], 2, x)


@needs_torch
def test_checkpoint_warning_texts_match_torch():
    from torch.utils.checkpoint import checkpoint as tcheckpoint
    tx = torch.randn(3, requires_grad=True)
    x = ember.randn(3, requires_grad=True)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        tcheckpoint(torch.sin, tx)
        tcheckpoint(torch.sin, tx.detach(), use_reentrant=True)
    with warnings.catch_warnings(record=True) as ew:
        warnings.simplefilter("always")
        checkpoint(ember.sin, x)
        checkpoint(ember.sin, x.detach(), use_reentrant=True)
    assert [str(w.message) for w in ew] == [str(w.message) for w in tw]


def test_checkpoint_reentrant_no_input_requires_grad_warns():
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. "
                                         "Gradients will be None"):
        y = checkpoint(ember.sin, ember.randn(3), use_reentrant=True)
    assert not y.requires_grad


def test_checkpoint_non_reentrant_parameters_get_grads_without_input_grad():
    model = nn.Linear(4, 2)
    x = ember.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = checkpoint(model, x, use_reentrant=False)
    assert y.requires_grad
    gw, gb = ember.autograd.grad(y.sum(), [model.weight, model.bias])
    pw, pb = ember.autograd.grad(model(x).sum(), [model.weight, model.bias])
    np.testing.assert_allclose(gw.numpy(), pw.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gb.numpy(), pb.numpy(), rtol=1e-6)
    assert model.weight.grad is None


def test_checkpoint_reentrant_rejects_autograd_grad():
    x = ember.randn(3, requires_grad=True)
    y = checkpoint(ember.sin, x, use_reentrant=True)
    with pytest.raises(RuntimeError, match="incompatible with .grad()"):
        ember.autograd.grad(y.sum(), x)
    y = checkpoint(ember.sin, x, use_reentrant=True)
    with pytest.raises(RuntimeError, match="passing an `inputs` parameter"):
        y.sum().backward(inputs=[x])


def test_checkpoint_non_reentrant_autograd_grad_and_inputs():
    x = ember.randn(3, requires_grad=True)
    y = checkpoint(lambda t: t.sin() * t, x, use_reentrant=False)
    g, = ember.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(g.numpy(), (x.cos() * x + x.sin()).detach().numpy(), rtol=1e-6)


def test_checkpoint_kwargs_and_non_tensor_inputs_outputs():
    def fn(x, scale, *, shift, tag):
        return {"y": x * scale + shift, "tag": tag, "pair": (x.sum(), 7)}

    x = ember.randn(3, requires_grad=True)
    shift = ember.ones(3, requires_grad=True)
    out = checkpoint(fn, x, 2.5, shift=shift, tag="t", use_reentrant=False)
    assert out["tag"] == "t" and out["pair"][1] == 7
    (out["y"].sum() + out["pair"][0]).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 3.5), rtol=1e-6)
    np.testing.assert_allclose(shift.grad.numpy(), np.ones(3))
    with pytest.raises(ValueError, match="Unexpected keyword arguments: shift,tag"):
        checkpoint(fn, x, 2.5, shift=shift, tag="t", use_reentrant=True)


def test_checkpoint_reentrant_tuple_with_non_tensor_output():
    x = ember.randn(3, requires_grad=True)
    y, n = checkpoint(lambda t, k: (t * k, k), x, 3, use_reentrant=True)
    assert n == 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 3.0))


def test_checkpoint_reentrant_output_without_grad_errors():
    x = ember.randn(3, requires_grad=True)
    y = checkpoint(lambda t: t.detach() * 2, x, use_reentrant=True)
    assert y.requires_grad          # the Function node makes it require grad
    with pytest.raises(RuntimeError, match="none of output has requires_grad=True"):
        y.sum().backward()


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_input_modified_in_place_is_caught(reentrant):
    x = ember.randn(3, requires_grad=True)
    a = x * 1
    y = checkpoint(ember.exp, a, use_reentrant=reentrant)
    with ember.no_grad():
        a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_checkpoint_option_errors():
    x = ember.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="only supported when use_reentrant=False"):
        checkpoint(ember.sin, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="determinism_check should be one of"):
        checkpoint(ember.sin, x, use_reentrant=False, determinism_check="strict")
    with pytest.raises(ValueError, match="incompatible with non-default context_fn"):
        checkpoint(ember.sin, x, use_reentrant=False, debug=True,
                   context_fn=lambda: (contextlib.nullcontext(), contextlib.nullcontext()))


@pytest.mark.parametrize("debug", [False, True])
def test_checkpoint_determinism_check(debug):
    calls = []

    def fn(x):
        calls.append(1)
        return x[: len(calls) + 1].exp()        # a shorter slice in the forward

    x = ember.randn(4, requires_grad=True)
    y = checkpoint(fn, x, use_reentrant=False, debug=debug)
    with pytest.raises(CheckpointError, match="different metadata than during the forward"):
        y.sum().backward()
    calls.clear()
    y = checkpoint(fn, x, use_reentrant=False, determinism_check="none")
    with pytest.raises(RuntimeError):           # the shapes no longer pair up
        y.sum().backward()


def test_checkpoint_context_fn_wraps_forward_and_recompute():
    log = []

    @contextlib.contextmanager
    def mark(name):
        log.append(name)
        yield

    x = ember.randn(3, requires_grad=True)
    y = checkpoint(ember.sin, x, use_reentrant=False,
                   context_fn=lambda: (mark("forward"), mark("recompute")))
    assert log == ["forward"]
    y.sum().backward()
    assert log == ["forward", "recompute"]


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_under_no_grad_returns_plain_output(reentrant):
    x = ember.randn(3, requires_grad=True)
    with ember.no_grad():
        y = checkpoint(ember.sin, x, use_reentrant=reentrant)
    assert not y.requires_grad
    np.testing.assert_allclose(y.numpy(), np.sin(x.detach().numpy()), rtol=1e-6)


def test_checkpoint_non_reentrant_double_backward():
    x = ember.randn(4, requires_grad=True)
    y = checkpoint(lambda t: t.sin() * t, x, use_reentrant=False)
    g, = ember.autograd.grad(y.sum(), x, create_graph=True)
    g.sum().backward()
    xs = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xs) - xs * np.sin(xs), rtol=1e-5)


def test_checkpoint_non_reentrant_captured_non_leaf_keeps_outer_graph():
    x = ember.randn(3, requires_grad=True)
    h = x.exp()                                 # outer non-leaf, read by the region
    y = checkpoint(lambda t: t * h, ember.ones(3), use_reentrant=False)
    (y.sum() + h.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(x.detach().numpy()), rtol=1e-6)


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_sequential_matches_plain(reentrant):
    ember.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(3) for m in (nn.Linear(4, 4), nn.Tanh())])
    x = ember.randn(2, 4, requires_grad=True)
    ref_out, ref = _run(model, x, model)
    out, got = _run(model, x,
                    lambda t: checkpoint_sequential(model, 3, t, use_reentrant=reentrant))
    np.testing.assert_allclose(out, ref_out, rtol=1e-6)
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential(model, 2, x, use_reentrant=reentrant, foo=1)


@needs_torch
@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_grads_match_torch(reentrant):
    from torch.utils.checkpoint import checkpoint as tcheckpoint
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    xv = rng.standard_normal((2, 4)).astype(np.float32)
    cot = rng.standard_normal((2, 3)).astype(np.float32)
    results = []
    for lib, ck in ((torch, tcheckpoint), (ember, checkpoint)):
        wt = lib.tensor(w, requires_grad=True)
        xt = lib.tensor(xv, requires_grad=True)
        y = ck(lambda a: (a @ wt).tanh() * a.sum(), xt, use_reentrant=reentrant)
        (y * lib.tensor(cot)).sum().backward()
        results.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_recompute_under_forward_autocast(reentrant):
    if not hasattr(ember, "autocast"):
        pytest.skip("ember.autocast is not available")
    ember.manual_seed(0)
    model = nn.Linear(4, 3)
    x = ember.randn(2, 4, requires_grad=True)
    grads = []
    for use_checkpoint in (False, True):
        _clear(model, x)
        with ember.autocast("cpu"):
            out = checkpoint(model, x, use_reentrant=reentrant) if use_checkpoint else model(x)
        assert out.dtype == ember.bfloat16
        out.float().sum().backward()
        grads.append(_grads(model, x))
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
@pytest.mark.parametrize("reentrant", MODES)
def test_checkpoint_recompute_draws_the_forward_dropout_mask(device, reentrant):
    # d/dx dropout(x) is the mask scaled by 2, which the forward output reveals.
    x = ember.rand(64, device=device, requires_grad=True)
    out = checkpoint(lambda t: ember.nn.functional.dropout(t, 0.5, training=True) * 1.0, x,
                     use_reentrant=reentrant)
    ember.rand(10, device=device)               # the RNG moves on before backward
    out.sum().backward()
    kept = out.detach().cpu().numpy() != 0
    assert 0 < kept.sum() < 64
    np.testing.assert_array_equal(x.grad.cpu().numpy(), kept * 2.0)
