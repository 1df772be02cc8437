"""ember.jit: the tracer (trace_graph), the reference executor (run_graph) and jit.trace."""

import copy
import math
import warnings

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.jit import TracerWarning, run_graph, trace_graph
from tests.oracle import needs_torch, torch


def _state(m):
    out = dict(m.named_parameters())
    out.update(m.named_buffers())
    return out


def _close(a, b, tol=1e-6):
    np.testing.assert_allclose(np.asarray(a.detach()), np.asarray(b.detach()), rtol=tol,
                               atol=tol)


class GPTBlock(nn.Module):
    """A GPT-like block: pre-norm causal self-attention written out, GELU MLP, residuals."""

    def __init__(self, d=8, heads=2):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)
        self.register_buffer("mask", ember.tril(ember.ones(6, 6)).view(1, 1, 6, 6))

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q = q.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        k = k.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        v = v.view(b, t, self.heads, c // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


def _models():
    ember.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    cnn = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(), nn.Linear(64, 3))
    enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    lstm = nn.LSTM(4, 6, num_layers=2, batch_first=True)
    return [("mlp", mlp, (ember.randn(4, 5),)),
            ("cnn", cnn, (ember.randn(2, 3, 8, 8),)),
            ("transformer", enc, (ember.randn(2, 5, 8),)),
            ("lstm", lstm, (ember.randn(2, 5, 4),)),
            ("gpt", GPTBlock(), (ember.randn(2, 6, 8),))]


@pytest.mark.parametrize("name", ["mlp", "cnn", "transformer", "lstm", "gpt"])
def test_run_graph_values_and_grads_match_eager(name):
    _, model, args = next(m for m in _models() if m[0] == name)
    model.eval()
    x = args[0].clone().requires_grad_()
    graph = trace_graph(model, (x,))
    traced_out = run_graph(graph, [x], _state(model))
    eager_out = model(x)
    t_leaves = ember.utils._pytree.tree_leaves(traced_out)
    e_leaves = ember.utils._pytree.tree_leaves(eager_out)
    assert len(t_leaves) == len(e_leaves)
    for a, b in zip(t_leaves, e_leaves):
        assert a.shape == b.shape and a.dtype == b.dtype
        _close(a, b)
    # Gradients through the replay: a random cotangent on every output.
    rng = np.random.default_rng(1)
    cots = [ember.tensor(rng.standard_normal(tuple(t.shape)).astype(np.float32))
            for t in e_leaves]
    params = list(model.parameters())

    def grads(outs):
        loss = sum((o * c).sum() for o, c in zip(outs, cots))
        return ember.autograd.grad(loss, [x] + params)

    for ge, gt in zip(grads(e_leaves), grads(t_leaves)):
        _close(gt, ge, 1e-5)


def test_trace_graph_records_inputs_params_scopes_and_metadata():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    g = trace_graph(model, (ember.randn(5, 3),))
    assert [v.name for v in g.inputs] == ["input"]
    assert list(g.params) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n.kind for n in g.nodes] == ["linear", "relu", "linear"]
    assert [n.scope for n in g.nodes] == ["0", "1", "2"]
    out = g.outputs[0]
    assert out.shape == (5, 2) and out.dtype == ember.float32 and out.requires_grad
    assert g.params["0.weight"].requires_grad and g.params["0.weight"].shape == (4, 3)
    assert g.nodes[0].inputs[1] is g.params["0.weight"]
    text = str(g)
    assert text.startswith("graph(%input : Float(5, 3), %0.weight : Float(4, 3)")
    assert "= linear(%input, %0.weight, %0.bias)  # 0" in text
    assert text.splitlines()[-1].startswith("  return (%")


def test_trace_graph_nested_scopes_and_kwargs():
    class Inner(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x)

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Inner()

        def forward(self, x, *, scale):
            return self.block(x) * scale["s"]

    m = Outer()
    x, s = ember.randn(3, 2), ember.tensor(2.0)
    g = trace_graph(m, (x,), kwargs={"scale": {"s": s}})
    assert [v.name for v in g.inputs] == ["x", "scale"]
    assert g.nodes[0].scope == "block.lin"
    assert "block.lin.weight" in g.params
    _close(run_graph(g, [x, s], _state(m)), m(x, scale={"s": s}))


def test_trace_graph_python_numbers_inline_constants_copied():
    c = ember.tensor([1.0, 2.0])

    def f(x):
        return x * 3 + c

    g = trace_graph(f, (ember.ones(2),))
    assert g.nodes[0].inputs[1] == 3
    const = g.nodes[1].inputs[1]
    assert const.kind == "const"
    c.add_(100)                                   # the graph holds a copy
    np.testing.assert_array_equal(run_graph(g, [ember.ones(2)]).numpy(), [4.0, 5.0])


def test_trace_graph_output_structure_and_multi_output_ops():
    def f(x):
        values, idx = x.max(dim=1)
        a, b = x.split(1, dim=1)
        return {"max": values, "idx": idx, "parts": (a, b)}

    x = ember.randn(3, 2)
    g = trace_graph(f, (x,))
    out = run_graph(g, [x * 2])
    ref = f(x * 2)
    assert set(out) == {"max", "idx", "parts"} and isinstance(out["parts"], tuple)
    _close(out["max"], ref["max"])
    assert out["idx"].dtype == ember.int64
    np.testing.assert_array_equal(out["idx"].numpy(), ref["idx"].numpy())
    _close(out["parts"][1], ref["parts"][1])


def test_trace_graph_index_ops_with_array_attributes():
    idx = ember.tensor([2, 0])

    def f(x):
        return x[idx] + x[x[:, 0] > 100].sum() + x[..., None, 1:].sum()

    x = ember.randn(3, 4)
    g = trace_graph(f, (x,))
    y = ember.randn(3, 4)
    _close(run_graph(g, [y]), y[idx] + y[..., None, 1:].sum())


def test_trace_graph_inplace_without_grad_replays_in_place():
    def f(x):
        y = x * 2
        y.add_(1)
        y[0] = 0.0
        z = ember.zeros(3)                       # a constant the trace writes into
        z[1:] = y[1, :2]
        return y, z

    x = ember.randn(2, 3)
    g = trace_graph(f, (x,))
    assert sum(n.inplace for n in g.nodes) >= 3
    for inp in (x, ember.randn(2, 3)):
        for got, ref in zip(run_graph(g, [inp]), f(inp)):
            _close(got, ref)
    const = next(iter(g.constants.values()))
    np.testing.assert_array_equal(const, np.zeros(3, np.float32))   # never written to


def test_trace_graph_inplace_with_grad_values_and_grads():
    ember.manual_seed(0)
    lin = nn.Linear(3, 3)

    def f(x):
        h = lin(x)
        h.relu_()
        h.mul_(2)
        z = ember.zeros(4, 3)
        z[:, 0] = h[:, 1]
        return h + z

    x = ember.randn(4, 3, requires_grad=True)
    g = trace_graph(f, (x,))
    kinds = [(n.kind, n.inplace) for n in g.nodes]
    assert ("relu", True) in kinds and ("mul", True) in kinds
    got = run_graph(g, [x])
    ref = f(x)
    _close(got, ref)
    (gx_t,) = ember.autograd.grad(got.sum(), [x])
    (gx_e,) = ember.autograd.grad(ref.sum(), [x])
    _close(gx_t, gx_e)


def test_trace_graph_inplace_on_input_changes_caller_tensor():
    def f(x):
        x.mul_(2)
        return x + 1

    g = trace_graph(f, (ember.ones(2),))
    x = ember.tensor([1.0, 3.0])
    out = run_graph(g, [x])
    np.testing.assert_array_equal(x.numpy(), [2.0, 6.0])
    np.testing.assert_array_equal(out.numpy(), [3.0, 7.0])


def test_trace_graph_records_ops_under_no_grad():
    def f(x):
        with ember.no_grad():
            m = x.abs().max()
        return x / m

    g = trace_graph(f, (ember.randn(4),))
    assert [(n.kind, n.no_grad) for n in g.nodes] == [("abs", True), ("max", True),
                                                     ("div", False)]
    x = ember.tensor([1.0, -4.0, 2.0, 0.5], requires_grad=True)
    out = run_graph(g, [x])
    _close(out, x / 4.0)
    (gx,) = ember.autograd.grad(out.sum(), [x])
    np.testing.assert_allclose(gx.numpy(), np.full(4, 0.25))   # m is a constant, as eagerly
    with ember.no_grad():                         # a trace taken under no_grad stays trainable
        g2 = trace_graph(f, (ember.randn(4),))
    assert not any(n.no_grad for n in g2.nodes[2:])


def test_trace_bound_method_keeps_parameters():
    class Enc(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def encode(self, x):
            return self.lin(x).tanh()

    m = Enc()
    g = trace_graph(m.encode, (ember.ones(1, 3),))
    assert list(g.params) == ["lin.weight", "lin.bias"] and g.nodes[0].scope == "lin"
    traced = ember.jit.trace(m.encode, ember.ones(1, 3))
    assert isinstance(traced, ember.jit.TracedModule) and traced.lin.weight is m.lin.weight
    x = ember.randn(4, 3)
    _close(traced(x), m.encode(x))


def test_trace_graph_dropout_train_draws_fresh_randomness():
    d = nn.Dropout(0.5)
    x = ember.ones(200)
    g = trace_graph(d, (x,))
    assert any(n.kind == "bernoulli" for n in g.nodes)
    a, b = run_graph(g, [x]), run_graph(g, [x])
    assert not ember.equal(a, b)
    assert set(np.unique(a.numpy())) <= {0.0, 2.0}
    ember.manual_seed(3)
    eager = d(x)
    ember.manual_seed(3)
    np.testing.assert_array_equal(run_graph(g, [x]).numpy(), eager.numpy())


def test_trace_graph_batchnorm_train_updates_running_stats():
    ember.manual_seed(0)
    bn = nn.BatchNorm1d(3)
    x = ember.randn(8, 3)
    g = trace_graph(bn, (x,))
    ref = copy.deepcopy(bn)
    before = bn.running_mean.clone()
    node = next(n for n in g.nodes if n.kind == "batch_norm")
    assert node.param_attrs == {"running_mean": "running_mean", "running_var": "running_var"}
    y = ember.randn(8, 3) + 5
    _close(run_graph(g, [y], _state(bn)), ref(y))
    assert not ember.equal(bn.running_mean, before)
    # Another module's buffers (the copy) are the ones updated when passed as params.
    other = copy.deepcopy(ref)
    run_graph(g, [y], _state(other))
    ref(y)
    _close(other.running_mean, ref.running_mean)


def test_trace_graph_tied_weights_named_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 3)
            self.head = nn.Linear(3, 5, bias=False)
            self.head.weight = self.emb.weight

        def forward(self, idx):
            return self.head(self.emb(idx))

    m = Tied()
    idx = ember.tensor([[0, 4, 2]])
    g = trace_graph(m, (idx,))
    assert list(g.params) == ["emb.weight"]
    assert g.inputs[0].dtype == ember.int64
    _close(run_graph(g, [idx], _state(m)), m(idx))


def test_trace_graph_refuses_non_tensor_outputs():
    with pytest.raises(RuntimeError, match="Only tensors, lists, tuples of tensors"):
        trace_graph(lambda x: (x * 2, 3), (ember.ones(2),))


def test_run_graph_checks_inputs_and_params():
    m = nn.Linear(2, 2)
    g = trace_graph(m, (ember.ones(1, 2),))
    with pytest.raises(RuntimeError, match="takes 1 input tensors, got 2"):
        run_graph(g, [ember.ones(1, 2), ember.ones(1, 2)], _state(m))
    with pytest.raises(RuntimeError, match="no tensor given for parameter 'weight'"):
        run_graph(g, [ember.ones(1, 2)], {})


# -- jit.trace -----------------------------------------------------------------------------

def test_trace_module_shares_parameters_and_prints():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    traced = ember.jit.trace(m, ember.randn(5, 3))
    assert isinstance(traced, nn.Module) and isinstance(traced, ember.jit.ScriptModule)
    assert [n for n, _ in traced.named_parameters()] == [n for n, _ in m.named_parameters()]
    for (_, a), (_, b) in zip(traced.named_parameters(), m.named_parameters()):
        assert a is b and isinstance(a, nn.Parameter)
    assert traced.graph.nodes[0].kind == "linear"
    code = traced.code
    assert code.startswith("def forward(self, input: Tensor):")
    assert "_0 = linear(input, self.0.weight, self.0.bias)  # 0" in code
    assert code.rstrip().endswith("return _2")
    assert "Linear" in repr(traced)
    x = ember.randn(7, 3)
    _close(traced(x), m(x))
    assert traced.state_dict().keys() == m.state_dict().keys()


def test_traced_module_fine_tuning_matches_eager_training():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    eager = copy.deepcopy(model)
    traced = ember.jit.trace(model, ember.randn(6, 4))
    opt_t = ember.optim.SGD(traced.parameters(), lr=0.1, momentum=0.9)
    opt_e = ember.optim.SGD(eager.parameters(), lr=0.1, momentum=0.9)
    data = [(ember.randn(6, 4), ember.randn(6, 1)) for _ in range(4)]
    for x, y in data:
        for net, opt in ((traced, opt_t), (eager, opt_e)):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
    for a, b in zip(traced.parameters(), eager.parameters()):
        _close(a, b, 1e-6)
    for a, b in zip(model.parameters(), traced.parameters()):   # shared with the original
        assert a is b
    x = ember.randn(6, 4)
    _close(traced(x), eager(x), 1e-6)


def test_trace_function_returns_traced_function():
    f = ember.jit.trace(lambda x, y: (x * y).sum(dim=0), (ember.ones(2, 3), ember.ones(2, 3)))
    assert isinstance(f, ember.jit.TracedFunction)
    a, b = ember.randn(2, 3), ember.randn(2, 3)
    _close(f(a, b), (a * b).sum(dim=0))
    assert f.code.startswith("def <lambda>(x: Tensor, y: Tensor):")
    with pytest.raises(RuntimeError, match="takes 2 input tensors"):
        f(a)


def test_trace_check_trace_warns_on_mismatch():
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    with pytest.warns(TracerWarning, match=r"Output nr 1\. of the traced function does not "
                                           r"match the corresponding output"):
        ember.jit.trace(m, ember.randn(20, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.jit.trace(m, ember.randn(20, 3), check_trace=False)
        ember.jit.trace(m.eval(), ember.randn(20, 3))


def test_trace_check_inputs_catch_control_flow():
    def f(x):
        if x.sum() > 0:
            return x * 2
        return x

    with pytest.warns(TracerWarning) as record:
        traced = ember.jit.trace(f, ember.ones(2), check_inputs=[(-ember.ones(2),)])
    messages = [str(w.message) for w in record]
    assert any("Python boolean" in m for m in messages)
    assert any("Output nr 1." in m for m in messages)
    np.testing.assert_array_equal(traced(-ember.ones(2)).numpy(), [-2.0, -2.0])   # baked


def test_trace_strict_containers():
    with pytest.raises(RuntimeError, match="Encountering a dict at the output of the tracer"):
        ember.jit.trace(lambda x: {"a": x * 2}, ember.ones(2))
    with pytest.warns(TracerWarning, match="Encountering a list at the output"):
        ember.jit.trace(lambda x: [x * 2], ember.ones(2), check_trace=False)
    f = ember.jit.trace(lambda x: {"a": x * 2}, ember.ones(2), strict=False)
    np.testing.assert_array_equal(f(ember.ones(2))["a"].numpy(), [2.0, 2.0])


@pytest.mark.parametrize("use, phrase", [
    (lambda x: x * x.sum().item(), "Python number"),
    (lambda x: x * len(x.tolist()), "Python list"),
    (lambda x: x * int(x.sum()), "Python integer"),
    (lambda x: x * float(x.sum()), "Python float"),
    (lambda x: x if bool(x.sum() > 0) else -x, "Python boolean"),
    (lambda x: sum(r for r in x), "Iterating over a tensor"),
    (lambda x: x * len(x), "Using len to get tensor shape"),
    (lambda x: x * x.detach().numpy().sum(), "NumPy array"),
])
def test_tracer_warning_on_python_values(use, phrase):
    with pytest.warns(TracerWarning, match=phrase):
        trace_graph(use, (ember.ones(3),))


def test_tracer_warning_only_while_tracing_and_methods_restored():
    item = ember.Tensor.item
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.ones(1).item()
        const = ember.ones(1)
        trace_graph(lambda x: x * const.item(), (ember.ones(2),))   # a constant: no warning
    assert ember.Tensor.item is item
    assert issubclass(TracerWarning, Warning)


def test_is_tracing_and_is_scripting():
    seen = []

    def f(x):
        seen.append(ember.jit.is_tracing())
        return x + 1

    assert not ember.jit.is_tracing()
    trace_graph(f, (ember.ones(1),))
    assert seen == [True] and not ember.jit.is_tracing()
    assert ember.jit.is_scripting() is False


def test_script_and_decorators_run_eagerly():
    m = nn.Linear(2, 2)
    assert ember.jit.script(m) is m

    @ember.jit.script
    def f(x):
        return x + 1

    @ember.jit.ignore
    def g(x):
        return x * 2

    @ember.jit.ignore(drop=True)
    def h(x):
        return x * 3

    @ember.jit.unused
    def k(x):
        return x - 1

    x = ember.ones(2)
    assert f(x).tolist() == [2.0, 2.0] and g(x).tolist() == [2.0, 2.0]
    assert h(x).tolist() == [3.0, 3.0] and k(x).tolist() == [0.0, 0.0]
    assert ember.jit.export(f) is f and ember.jit.annotate(list, [1]) == [1]
    import typing
    assert ember.jit.Final is typing.Final
    with pytest.raises(TypeError, match="trace the model first"):
        ember.jit.save(m, "unused.pt")


def test_trace_of_traced_module_warns_and_returns_it():
    traced = ember.jit.trace(nn.Linear(2, 2), ember.ones(1, 2))
    with pytest.warns(UserWarning, match="already a ScriptModule"):
        assert ember.jit.trace(traced, ember.ones(1, 2)) is traced


def test_trace_module_forward_only():
    m = nn.Linear(2, 3)
    traced = ember.jit.trace_module(m, {"forward": ember.ones(1, 2)})
    _close(traced(ember.ones(4, 2)), m(ember.ones(4, 2)))
    with pytest.raises(NotImplementedError, match="forward only"):
        ember.jit.trace_module(m, {"forward": ember.ones(1, 2), "other": ember.ones(1)})


def test_freeze_makes_parameters_constants():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3)).eval()
    traced = ember.jit.trace(m, ember.randn(4, 3))
    with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
        ember.jit.freeze(copy.deepcopy(traced).train())
    frozen = ember.jit.freeze(traced)
    assert list(frozen.parameters()) == [] and frozen.graph.params == {}
    x = ember.randn(4, 3)
    expected = m(x)
    with ember.no_grad():
        m[0].weight.add_(1.0)                         # later training does not reach it
    _close(frozen(x), expected)
    assert not traced.graph.params == {}              # the traced module is unchanged


@needs_torch
def test_traced_module_matches_torch_trace():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 5), nn.GELU(), nn.Linear(5, 2))
    tm = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.GELU(), torch.nn.Linear(5, 2))
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)     # torch.jit.trace is deprecated
        expected = torch.jit.trace(tm, torch.tensor(x))(torch.tensor(x)).detach().numpy()
    got = ember.jit.trace(m, ember.tensor(x))(ember.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_trace_graph_records_detach():
    def f(x):
        return x * x.detach()

    x = ember.randn(3, requires_grad=True)
    g = trace_graph(f, (x,))
    assert [n.kind for n in g.nodes] == ["detach", "mul"] and not g.constants
    y = ember.randn(3, requires_grad=True)
    out = run_graph(g, [y])
    _close(out, y * y)
    (gy,) = ember.autograd.grad(out.sum(), [y])
    _close(gy, y)                                  # no gradient through the detached factor


def test_trace_graph_cleans_up_after_an_error():
    item = ember.Tensor.item
    n_observers = len(ember._dispatch.observers)

    def f(x):
        raise ValueError("boom")

    with pytest.raises(IndexError, match="Dimension out of range"):
        trace_graph(nn.Sequential(nn.Linear(2, 2), nn.Flatten(5)), (ember.ones(1, 2),))
    with pytest.raises(ValueError, match="boom"):
        trace_graph(f, (ember.ones(1),))
    assert len(ember._dispatch.observers) == n_observers
    assert ember.Tensor.item is item and not ember.jit.is_tracing()


def test_trace_graph_ignores_other_threads():
    import threading
    started, release = threading.Event(), threading.Event()

    def worker():
        started.set()
        release.wait(5)
        for _ in range(20):
            ember.ones(3).exp()

    def f(x):
        release.set()
        t.join(5)
        return x + 1

    t = threading.Thread(target=worker)
    t.start()
    started.wait(5)
    g = trace_graph(f, (ember.ones(3),))
    assert [n.kind for n in g.nodes] == ["add"]


def test_graph_copy_is_independent():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    g = trace_graph(m, (ember.ones(4, 2),))
    c = g.copy()
    assert [n.kind for n in c.nodes] == [n.kind for n in g.nodes]
    assert c.nodes[0] is not g.nodes[0] and c.inputs[0] is not g.inputs[0]
    assert c.nodes[0].inputs[1] is c.params["0.weight"]
    c.nodes.pop()
    c.outputs = [c.nodes[0].outputs[0]]
    x = ember.randn(4, 2)
    _close(run_graph(g, [x], _state(m)), m(x))
    _close(run_graph(c, [x], _state(m)), m[0](x))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_trace_graph_low_and_high_precision(dtype):
    dt = getattr(ember, dtype)
    m = nn.Linear(3, 2).to(dt)
    x = ember.randn(4, 3).to(dt)
    g = trace_graph(m, (x,))
    assert g.outputs[0].dtype == dt
    out = run_graph(g, [x], _state(m))
    assert out.dtype == dt
    np.testing.assert_array_equal(out.float().detach().numpy(), m(x).float().detach().numpy())


@pytest.mark.gpu
def test_trace_and_run_on_cuda():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).cuda()
    x = ember.randn(3, 4, device="cuda")
    traced = ember.jit.trace(m, x)
    assert traced.graph.inputs[0].device.type == "cuda"
    out = traced(x)
    assert out.device.type == "cuda"
    _close(out.cpu(), m(x).cpu(), 1e-5)
    out.sum().backward()
    assert m[0].weight.grad.device.type == "cuda"


def test_trace_graph_captured_tensor_written_in_place():
    c = ember.ones(3)
    big = 1 << 17

    def f(x):
        c.add_(x)                                   # the constant keeps c's value before
        t = ember.zeros(big) + x.sum()              # a temporary NumPy-style elision would reuse
        return c * 2, t

    x = ember.randn(3)
    g = trace_graph(f, (x,))
    y = ember.randn(3)
    out, t = run_graph(g, [y])
    np.testing.assert_allclose(out.numpy(), ((1 + y) * 2).numpy(), rtol=1e-6)
    np.testing.assert_allclose(t.numpy()[:3], np.full(3, float(y.sum())), rtol=1e-6)
    assert ember._dispatch._check_inplace_allowed.__name__ == "_check_inplace_allowed"


def test_trace_same_tensor_passed_twice():
    f = ember.jit.trace(lambda a, b: a * 2 + b, (ember.ones(2), ember.ones(2)))
    x = ember.ones(2)
    g = trace_graph(lambda a, b: a * 2 + b, (x, x))
    assert len(g.inputs) == 2
    np.testing.assert_array_equal(run_graph(g, [x, x]).numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(f(x, x * 5).numpy(), [7.0, 7.0])


class _StraightThrough(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.clamp(min=0) * scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def test_trace_custom_function_is_one_node_with_its_backward():
    def f(x):
        return _StraightThrough.apply(x * 1, 3.0) + 1

    g = trace_graph(f, (ember.ones(2),))
    assert [n.kind for n in g.nodes] == ["mul", "python_function", "add"]
    x = ember.tensor([-1.0, 2.0], requires_grad=True)
    out = run_graph(g, [x])
    np.testing.assert_array_equal(out.detach().numpy(), [1.0, 7.0])
    (gx,) = ember.autograd.grad(out.sum(), [x])
    np.testing.assert_array_equal(gx.numpy(), [3.0, 3.0])       # the Function's own backward
    node = g.nodes[1]
    arrays = [np.array([-1.0, 2.0], np.float32), 3.0]
    np.testing.assert_array_equal(node.op.forward(None, *arrays, **node.attrs), [0.0, 6.0])
    traced = ember.jit.trace(f, ember.ones(2))
    with pytest.raises(RuntimeError, match="Python autograd.Function _StraightThrough"):
        ember.jit.save(traced, "unused.pt")
