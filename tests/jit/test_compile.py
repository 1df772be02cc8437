"""ember.compile: compiled forward and backward equal eager mode's; guards, fallback, API."""

import copy
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.jit.compile import CompiledFunction, OptimizedModule
from tests.jit._models import MLP, GPTBlock


def _entries(compiled):
    c = compiled._compiled if isinstance(compiled, OptimizedModule) else compiled
    return list(c._cache.values())


def _close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a.detach().numpy()), np.asarray(b.detach().numpy()),
                               rtol=rtol, atol=atol)


def _grads_match(eager, compiled_mod, rtol=1e-5, atol=1e-6):
    n = 0
    for (name, p), q in zip(eager.named_parameters(), compiled_mod.parameters()):
        assert (p.grad is None) == (q.grad is None), name
        if p.grad is not None:
            _close(p.grad, q.grad, rtol, atol)
            n += 1
    assert n > 0


def _pair(model):
    ember.manual_seed(0)
    other = copy.deepcopy(model)
    return model, other, ember.compile(other)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        return self.fc(x.flatten(1))


def test_compile_mlp_forward_and_grads_equal_eager():
    ember.manual_seed(0)
    eager, other, compiled = _pair(MLP())
    x = ember.randn(6, 16)
    for _ in range(2):                      # the first call traces, the second reuses
        for m in (eager, other):
            m.zero_grad()
        ye, yc = eager(x), compiled(x)
        _close(ye, yc)
        g = ember.randn(*ye.shape)
        ye.backward(g)
        yc.backward(g)
        _grads_match(eager, other)
    (entry,) = _entries(compiled)
    assert entry.kind == "joint"
    assert yc.grad_fn is not None and yc.requires_grad


def test_compile_input_grad_reaches_input():
    ember.manual_seed(0)
    eager, other, compiled = _pair(MLP())
    x1 = ember.randn(3, 16, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    eager(x1).sum().backward()
    compiled(x2).sum().backward()
    _close(x1.grad, x2.grad)
    _grads_match(eager, other)


def test_compile_gpt_block_grads_equal_eager():
    ember.manual_seed(1)
    eager, other, compiled = _pair(GPTBlock(d_model=16, n_head=2))
    x = ember.randn(2, 5, 16)
    ye, yc = eager(x), compiled(x)
    _close(ye, yc, 1e-5, 1e-5)
    g = ember.randn(*ye.shape)
    ye.backward(g)
    yc.backward(g)
    _grads_match(eager, other, 1e-4, 1e-5)


def test_compile_sdpa_layernorm_backward_runs_on_each_calls_values():
    # LayerNorm and attention backward read arrays their forward kept on ctx (Note [Backward
    # formulas that read forward internals]): new inputs must give new gradients.
    ember.manual_seed(2)

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = nn.LayerNorm(8)
            self.qkv = nn.Linear(8, 24)

        def forward(self, x):
            q, k, v = self.qkv(self.ln(x)).unflatten(-1, (3, 2, 4)).unbind(-3)
            out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                                 v.transpose(1, 2), is_causal=True)
            return out.transpose(1, 2).flatten(-2)

    eager, other, compiled = _pair(Attn())
    for seed in (3, 4, 5):
        ember.manual_seed(seed)
        x = ember.randn(2, 6, 8)
        for m in (eager, other):
            m.zero_grad()
        g = ember.randn(2, 6, 8)
        eager(x).backward(g)
        compiled(x).backward(g)
        _grads_match(eager, other, 1e-4, 1e-6)
    assert len(_entries(compiled)) == 1


@pytest.mark.parametrize("train", [True, False])
def test_compile_cnn_batchnorm_train_and_eval(train):
    ember.manual_seed(0)
    eager, other, compiled = _pair(CNN())
    eager.train(train)
    compiled.train(train)
    for step in range(3):
        ember.manual_seed(10 + step)
        x = ember.randn(4, 3, 8, 8)
        for m in (eager, other):
            m.zero_grad()
        ye, yc = eager(x), compiled(x)
        _close(ye, yc, 1e-5, 1e-5)
        ye.sum().backward()
        yc.sum().backward()
        _grads_match(eager, other, 1e-4, 1e-5)
        # Running statistics: updated once per call (the capture itself changes nothing).
        _close(eager.bn.running_mean, other.bn.running_mean)
        _close(eager.bn.running_var, other.bn.running_var)
        assert int(eager.bn.num_batches_tracked) == int(other.bn.num_batches_tracked)
    assert int(other.bn.num_batches_tracked) == (3 if train else 0)
    assert compiled.training is train and other.training is train


def test_compile_lstm_equals_eager():
    ember.manual_seed(0)
    eager, other, compiled = _pair(nn.LSTM(4, 5, batch_first=True))
    x = ember.randn(2, 3, 4)
    (oe, (he, ce)), (oc, (hc, cc)) = eager(x), compiled(x)
    _close(oe, oc)
    _close(he, hc)
    _close(ce, cc)
    (oe.sum() + ce.sum()).backward()
    (oc.sum() + cc.sum()).backward()
    _grads_match(eager, other, 1e-4, 1e-6)


@pytest.mark.parametrize("opt_name", ["SGD", "AdamW"])
def test_compile_five_optimizer_steps_equal_eager(opt_name):
    ember.manual_seed(0)
    eager, other, compiled = _pair(MLP())
    make = {"SGD": lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9),
            "AdamW": lambda p: ember.optim.AdamW(p, lr=1e-2)}[opt_name]
    opts = [make(eager.parameters()), make(other.parameters())]
    x = ember.randn(8, 16)
    y = ember.rand(8, 8)
    for _ in range(5):
        for model, opt in zip((eager, compiled), opts):
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()
    for p, q in zip(eager.parameters(), other.parameters()):
        _close(p, q, 1e-5, 1e-6)
    assert not np.allclose(p.detach().numpy(), copy.deepcopy(MLP()).fc3.bias.detach().numpy())


def test_compile_guards_retrace_on_batch_dtype_and_eval():
    ember.manual_seed(0)
    eager, other, compiled = _pair(MLP())
    compiled(ember.randn(4, 16))
    compiled(ember.randn(4, 16))
    assert len(_entries(compiled)) == 1
    x = ember.randn(7, 16)
    _close(compiled(x), eager(x))                           # new batch size
    assert len(_entries(compiled)) == 2
    eager.double()
    other.double()
    xd = ember.randn(3, 16, dtype=ember.float64)
    yc = compiled(xd)
    assert yc.dtype == ember.float64
    _close(yc, eager(xd))
    assert len(_entries(compiled)) == 3                     # dtype
    compiled.eval()
    compiled(xd)
    assert len(_entries(compiled)) == 4                     # train/eval
    with ember.no_grad():
        compiled(xd)
    assert len(_entries(compiled)) == 5                     # grad mode


def test_compile_no_grad_inference_path():
    ember.manual_seed(0)
    eager, other, compiled = _pair(MLP())
    x = ember.randn(5, 16)
    with ember.no_grad():
        y = compiled(x)
    assert not y.requires_grad and y.grad_fn is None
    _close(y, eager(x))
    (entry,) = _entries(compiled)
    assert entry.kind == "plan"


def test_compile_fallback_warns_once_and_matches_eager():
    calls = []

    def f(x):
        calls.append(1)
        if x.sum() > 0:                     # data-dependent control flow
            return x * 2
        return x - 1

    cf = ember.compile(f)
    with pytest.warns(UserWarning, match="falling back to eager"):
        a = cf(ember.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = cf(-ember.ones(3))
        c = cf(ember.ones(3))
    _close(a, ember.full((3,), 2.0))
    _close(b, ember.full((3,), -2.0))
    _close(c, ember.full((3,), 2.0))


def test_compile_fullgraph_raises():
    cf = ember.compile(lambda x: x * 2 if x.max().item() > 0 else x, fullgraph=True)
    with pytest.raises(RuntimeError, match="fullgraph=True"):
        cf(ember.ones(2))


def test_compile_disable_is_a_graph_break():
    @ember.compiler.disable
    def log(x):
        assert not ember.compiler.is_compiling()
        return x

    seen = []

    def f(x):
        seen.append(ember.compiler.is_compiling())
        return log(x) + 1

    cf = ember.compile(f)
    with pytest.warns(UserWarning, match="ember.compiler.disable"):
        _close(cf(ember.ones(2)), ember.full((2,), 2.0))
    assert seen[0] is True and seen[-1] is False
    with pytest.raises(RuntimeError, match="fullgraph"):
        ember.compile(f, fullgraph=True)(ember.ones(2))


def test_compile_function_with_captured_module_trains():
    ember.manual_seed(0)
    model = MLP()
    ref = copy.deepcopy(model)

    @ember.compile
    def loss_fn(x, y):
        return F.mse_loss(model(x), y)

    x, y = ember.randn(4, 16), ember.rand(4, 8)
    loss_fn(x, y).backward()
    F.mse_loss(ref(x), y).backward()
    _grads_match(ref, model)
    # The parameters are graph params, read live: an update is seen by the next call.
    with ember.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
        for p in ref.parameters():
            p.mul_(0.5)
    _close(loss_fn(x, y), F.mse_loss(ref(x), y))


def test_compile_captured_leaf_tensor_gets_grad():
    w = ember.randn(3, requires_grad=True)
    w2 = w.detach().clone().requires_grad_()
    x = ember.randn(4, 3)
    ember.compile(lambda x: (x * w).sum())(x).backward()
    (x * w2).sum().backward()
    _close(w.grad, w2.grad)


def test_compile_dropout_matches_eager_with_same_seed():
    model = nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5), nn.Linear(6, 2))
    eager, other, compiled = _pair(model)
    x = ember.randn(5, 6)
    for seed in (1, 2):
        ember.manual_seed(seed)
        ye = eager(x)
        ember.manual_seed(seed)
        yc = compiled(x)
        _close(ye, yc)
        ye.sum().backward()
        yc.sum().backward()
    _grads_match(eager, other)


def test_compile_outputs_structure_and_non_tensor_leaves():
    @ember.compile
    def f(x, scale=2.0):
        return {"y": x * scale, "n": 3, "pair": (x + 1, x.argmax())}

    x = ember.tensor([1.0, 5.0, 2.0], requires_grad=True)
    out = f(x, scale=3.0)
    assert out["n"] == 3 and int(out["pair"][1]) == 1
    assert not out["pair"][1].requires_grad
    _close(out["y"], ember.tensor([3.0, 15.0, 6.0]))
    out["y"].sum().backward()
    _close(x.grad, ember.full((3,), 3.0))
    f(x, scale=4.0)                     # a different Python argument: another entry
    assert len(_entries(f)) == 2


def test_compile_cache_size_limit_falls_back(monkeypatch):
    from ember.jit import compile as jc
    monkeypatch.setattr(jc, "cache_size_limit", 2)
    cf = ember.compile(lambda x: x + 1)
    cf(ember.ones(1))
    cf(ember.ones(2))
    with pytest.warns(UserWarning, match="cache_size_limit"):
        _close(cf(ember.ones(3)), ember.full((3,), 2.0))
    assert len(_entries(cf)) == 2


def test_compile_api_forms():
    m = nn.Linear(3, 2)
    om = ember.compile(m)
    assert isinstance(om, OptimizedModule) and om._orig_mod is m
    assert list(om.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert om.in_features == 3                   # attributes read through to _orig_mod
    assert ember.compile(m, disable=True) is m
    deco = ember.compile(mode="reduce-overhead")(lambda x: x * 2)
    assert isinstance(deco, CompiledFunction)
    with pytest.raises(RuntimeError, match="Unrecognized mode"):
        ember.compile(m, mode="fast")
    assert ember.compiler.disable(om) is m
    ember._dynamo.reset()


def test_module_compile_in_place():
    ember.manual_seed(0)
    m = MLP()
    ref = copy.deepcopy(m)
    m.compile()
    x = ember.randn(3, 16)
    _close(m(x), ref(x))
    m(x).sum().backward()
    ref(x).sum().backward()
    _grads_match(ref, m)
    assert "fc1.weight" in m.state_dict()
    assert isinstance(m.forward, CompiledFunction)


def test_compile_double_backward_is_refused():
    w = nn.Linear(3, 1)
    cw = ember.compile(w)
    x = ember.randn(2, 3, requires_grad=True)
    y = cw(x).pow(2).sum()
    (g,) = ember.autograd.grad(y, x, create_graph=True)
    (ge,) = ember.autograd.grad(w(x).pow(2).sum(), x)
    _close(g, ge)
    with pytest.raises(RuntimeError, match="double backward"):
        g.sum().backward()


@pytest.mark.gpu
def test_compile_mlp_cuda_grads_equal_eager():
    if not ember.cuda.is_available():
        pytest.skip("gpu: no CUDA device (cupy) here")
    ember.manual_seed(0)
    eager = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.LayerNorm(32), nn.Linear(32, 4))
    eager = eager.cuda()
    other = copy.deepcopy(eager)
    compiled = ember.compile(other)
    x = ember.randn(8, 16, device="cuda")
    for _ in range(2):
        for m in (eager, other):
            m.zero_grad()
        ye, yc = eager(x), compiled(x)
        assert yc.device.type == "cuda"
        _close(ye.cpu(), yc.cpu(), 1e-5, 1e-5)
        ye.sum().backward()
        yc.sum().backward()
        for p, q in zip(eager.parameters(), other.parameters()):
            _close(p.grad.cpu(), q.grad.cpu(), 1e-4, 1e-5)
    with ember.no_grad():
        _close(compiled(x).cpu(), eager(x).cpu(), 1e-5, 1e-5)


def test_compile_whole_training_step_falls_back_without_side_effects():
    ember.manual_seed(0)
    model = MLP()
    ref = copy.deepcopy(model)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    opt_ref = ember.optim.SGD(ref.parameters(), lr=0.1)
    x = ember.randn(4, 16)

    @ember.compile
    def train_step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    with pytest.warns(UserWarning, match="runs backward"):
        train_step(x)
    train_step(x)
    for _ in range(2):
        opt_ref.zero_grad()
        ref(x).sum().backward()
        opt_ref.step()
    for p, q in zip(ref.parameters(), model.parameters()):
        _close(p, q)


def test_compile_deepcopy_and_pickle_compile_again_for_the_copy():
    import pickle
    ember.manual_seed(0)
    om = ember.compile(MLP())
    x = ember.randn(2, 16)
    om(x)
    for twin in (copy.deepcopy(om), pickle.loads(pickle.dumps(om))):
        assert isinstance(twin, OptimizedModule) and not _entries(twin)
        with ember.no_grad():
            twin._orig_mod.fc3.bias.add_(1.0)
        _close(twin(x), twin._orig_mod(x))
        assert not np.allclose(twin(x).detach().numpy(), om(x).detach().numpy())


def test_compile_autocast_is_a_guard():
    ember.manual_seed(0)
    eager, other, compiled = _pair(nn.Linear(4, 3))
    x = ember.randn(2, 4)
    assert compiled(x).dtype == ember.float32
    with ember.autocast("cpu", dtype=ember.bfloat16):
        y = compiled(x)
        ye = eager(x)
    assert y.dtype == ye.dtype == ember.bfloat16
    _close(y.float(), ye.float())
    assert len(_entries(compiled)) == 2


def test_compile_submodule_inside_eager_model_and_repeated_input():
    ember.manual_seed(0)
    pre, post = nn.Linear(5, 16), MLP()
    pre2, post2 = copy.deepcopy(pre), copy.deepcopy(post)
    compiled = ember.compile(post2)
    x = ember.randn(3, 5)
    post(pre(x)).sum().backward()
    compiled(pre2(x)).sum().backward()             # the compiled input has eager history
    _grads_match(pre, pre2)
    _grads_match(post, post2)
    a = ember.randn(4, requires_grad=True)
    b = a.detach().clone().requires_grad_()
    ember.compile(lambda u, v: u * v + u)(a, a).sum().backward()
    (b * b + b).sum().backward()
    _close(a.grad, b.grad)
