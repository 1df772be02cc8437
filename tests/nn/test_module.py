"""nn.Module against PyTorch: registration, traversal, state dicts, hooks, conversions, repr,
copying. Most tests run the same code on both libraries (``both``) and compare what it saw."""

from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, to_numpy, torch

pytestmark = needs_torch


def both(fn):
    """fn(lib) for lib in (ember, torch), each after manual_seed(0): the two results."""
    ember.manual_seed(0)
    e = fn(ember)
    torch.manual_seed(0)
    return e, fn(torch)


def outcome(fn, lib):
    """('ok', value) or (exception class name, message) of fn(lib), after manual_seed(0)."""
    lib.manual_seed(0)
    try:
        return ("ok", fn(lib))
    except Exception as e:  # noqa: BLE001 - the point is to compare any exception
        # Class paths differ only by package name (ember.nn... vs torch.nn...).
        return (type(e).__name__, str(e).replace("ember.", "torch."))


def same_outcome(fn):
    e, t = outcome(fn, ember), outcome(fn, torch)
    assert e == t, f"ember: {e}\ntorch: {t}"
    return e


def make_lin(lib, n_in=3, n_out=2, bias=True):
    """A Linear-like module written with Parameter + ops (layers are built elsewhere)."""

    class Lin(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = lib.nn.Parameter(lib.randn(n_out, n_in))
            if bias:
                self.bias = lib.nn.Parameter(lib.randn(n_out))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.T
            return y + self.bias if self.bias is not None else y

        def extra_repr(self):
            return f"in_features={n_in}, out_features={n_out}, bias={bias}"

    return Lin()


def make_net(lib):
    """Two layers, a shared layer, a persistent and a non-persistent buffer, a None child."""

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = make_lin(lib, 3, 4)
            self.fc2 = make_lin(lib, 4, 2)
            self.shared = self.fc1
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.nothing = None
            self.register_module("empty", None)
            self.scale = lib.nn.Parameter(lib.tensor(2.0))

        def forward(self, x):
            return self.fc2(self.shared(x).tanh()) * self.scale

    return Net()


def test_module_registration_names_and_order():
    def run(lib):
        net = make_net(lib)
        return (
            [n for n, _ in net.named_parameters()],
            [n for n, _ in net.named_parameters(remove_duplicate=False)],
            [n for n, _ in net.named_parameters(recurse=False)],
            [n for n, _ in net.named_parameters(prefix="m")],
            [n for n, _ in net.named_buffers()],
            [n for n, _ in net.named_modules()],
            [n for n, _ in net.named_modules(remove_duplicate=False)],
            [n for n, _ in net.named_children()],
            len(list(net.parameters())), len(list(net.modules())), len(list(net.children())),
        )
    e, t = both(run)
    assert e == t


@pytest.mark.parametrize("case", range(14))
def test_module_registration_errors_match_torch(case):
    def run(lib):
        m = lib.nn.Module()
        m.attr = 1
        p = lib.nn.Parameter(lib.zeros(2))
        actions = [
            lambda: m.register_parameter("a.b", p),
            lambda: m.register_parameter("", p),
            lambda: m.register_parameter("attr", p),
            lambda: m.register_parameter("w", lib.zeros(2)),
            lambda: m.register_parameter("w", lib.zeros(2, requires_grad=True) * 2),
            lambda: m.register_buffer("a.b", lib.zeros(2)),
            lambda: m.register_buffer("attr", lib.zeros(2)),
            lambda: m.register_buffer("b", 3),
            lambda: m.add_module("a.b", lib.nn.Module()),
            lambda: m.add_module("", lib.nn.Module()),
            lambda: m.add_module("x", 3),
            lambda: (m.register_parameter("w", p), setattr(m, "w", lib.zeros(2))),
            lambda: (m.add_module("c", lib.nn.Module()), setattr(m, "c", 3)),
            lambda: (m.register_buffer("b", lib.zeros(1)), setattr(m, "b", 3)),
        ]
        actions[case]()
        return "done"
    e, t = outcome(run, ember), outcome(run, torch)
    assert e[0] == t[0]
    # Messages match except where torch names tensor types (torch.FloatTensor).
    if "Tensor" not in t[1]:
        assert e[1] == t[1]


def test_module_setattr_moves_between_kinds():
    def run(lib):
        m = lib.nn.Module()
        m.register_buffer("x", lib.zeros(1))
        m.x = lib.nn.Parameter(lib.ones(1))          # buffer -> parameter
        r1 = (list(m._parameters), list(m._buffers))
        del m.x
        m.x = lib.nn.Module()
        r2 = (list(m._parameters), list(m._modules))
        m.y = lib.nn.Buffer(lib.ones(2), persistent=False)
        m.y = lib.zeros(3)                            # stays a non-persistent buffer
        r3 = (list(m._buffers), list(m.state_dict()))
        m.x = None                                    # modules may be set to None
        del m.y
        return r1, r2, r3, list(m._modules.items())[0][1] is None, "y" in m._buffers
    e, t = both(run)
    assert e == t


def test_module_getattr_error_and_init_errors():
    same_outcome(lambda lib: lib.nn.Module().missing)
    same_outcome(lambda lib: lib.nn.Module(3))
    same_outcome(lambda lib: lib.nn.Module(a=3))
    same_outcome(lambda lib: lib.nn.Module()(lib.zeros(1)))


def test_module_dir_lists_members():
    net = make_net(ember)
    names = dir(net)
    for name in ("fc1", "steps", "scale", "forward", "state_dict"):
        assert name in names
    assert names == sorted(names)


def test_module_get_submodule_parameter_buffer():
    for path in ["fc1", "fc1.weight", "fc1.nope", "nope.x", "steps.x", ""]:
        same_outcome(lambda lib, p=path: type(make_net(lib).get_submodule(p)).__name__)
    for path in ["fc1.weight", "scale", "fc1.nope", "steps", "fc1"]:
        same_outcome(lambda lib, p=path: tuple(make_net(lib).get_parameter(p).shape))
    for path in ["steps", "scratch", "scale", "fc1.nope"]:
        same_outcome(lambda lib, p=path: tuple(make_net(lib).get_buffer(p).shape))


def test_module_set_submodule():
    def run(lib, target, strict):
        net = make_net(lib)
        net.set_submodule(target, make_lin(lib, 1, 1), strict=strict)
        return [n for n, _ in net.named_modules()]
    for target, strict in [("fc1", True), ("fc2.new", False), ("fc2.new", True), ("", False),
                           ("fc1.weight", False)]:
        same_outcome(lambda lib, a=target, s=strict: run(lib, a, s))
    same_outcome(lambda lib: make_net(lib).set_submodule("fc1", 3))


def test_module_state_dict_keys_metadata_and_keep_vars():
    def run(lib):
        net = make_net(lib)
        sd = net.state_dict()
        kv = net.state_dict(keep_vars=True)
        return (list(sd), dict(sd._metadata), type(sd).__name__,
                [v.requires_grad for v in sd.values()], [v.requires_grad for v in kv.values()],
                list(net.state_dict(prefix="p.")))
    e, t = both(run)
    assert e == t


def test_module_state_dict_moves_between_libraries():
    torch.manual_seed(0)
    t_net = make_net(torch)
    e_net = make_net(ember)
    e_net.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_net.state_dict().items()})
    back = make_net(torch)
    back.load_state_dict({k: torch.tensor(to_numpy(v)) for k, v in e_net.state_dict().items()})
    for (k1, v1), (k2, v2) in zip(t_net.state_dict().items(), back.state_dict().items()):
        assert k1 == k2
        assert torch.equal(v1, v2)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_module_parity(e_net, t_net, x)


@pytest.mark.parametrize("edit", ["missing", "unexpected", "shape", "both", "type", "child"])
@pytest.mark.parametrize("strict", [True, False])
def test_module_load_state_dict_errors_match_torch(edit, strict):
    def run(lib):
        net = make_net(lib)
        sd = OrderedDict(net.state_dict())
        if edit in ("missing", "both"):
            del sd["fc1.bias"]
        if edit in ("unexpected", "both"):
            sd["fc9.weight"] = lib.zeros(1)
            sd["extra"] = lib.zeros(1)
        if edit == "shape":
            sd["fc2.weight"] = lib.zeros(5, 5)
        if edit == "type":
            sd["scale"] = 3.0
        if edit == "child":
            sd["fc1.weight.extra"] = lib.zeros(1)
        result = net.load_state_dict(sd, strict=strict)
        return repr(result), result.missing_keys, result.unexpected_keys
    same_outcome(run)


def test_module_load_state_dict_copies_values_and_keeps_identity():
    net = make_net(ember)
    src = make_net(ember)
    w = net.fc1.weight
    result = net.load_state_dict(src.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert net.fc1.weight is w
    np.testing.assert_array_equal(w.detach().numpy(), src.fc1.weight.detach().numpy())
    assert w.requires_grad and w.grad_fn is None
    # a 0-d parameter accepts a (1,)-shaped value (old checkpoints)
    sd = src.state_dict()
    sd["scale"] = ember.tensor([5.0])
    net.load_state_dict(sd)
    assert net.scale.shape == () and net.scale.item() == 5.0
    # float64 values are cast into the float32 parameter
    sd["scale"] = ember.tensor(3.0, dtype=ember.float64)
    net.load_state_dict(sd)
    assert net.scale.dtype == ember.float32 and net.scale.item() == 3.0


def test_module_load_state_dict_assign():
    def run(lib):
        net = make_net(lib)
        src = {k: v.clone() for k, v in make_net(lib).state_dict().items()}
        src["fc1.weight"] = lib.nn.Parameter(src["fc1.weight"], requires_grad=False)
        old = net.fc2.weight
        net.load_state_dict(src, assign=True)
        return (net.fc2.weight is old, type(net.fc2.weight).__name__,
                net.fc2.weight.requires_grad, net.fc1.weight.requires_grad,
                net.steps is src["steps"], net.fc2.weight.data_ptr() == src["fc2.weight"]
                .data_ptr(), [n for n, _ in net.named_parameters()])
    e, t = both(run)
    assert e == t


def test_module_load_state_dict_not_a_mapping():
    same_outcome(lambda lib: make_net(lib).load_state_dict([1, 2]))


def test_module_state_dict_hooks():
    def run(lib):
        log = []
        net = make_net(lib)
        net.fc1.register_state_dict_pre_hook(lambda m, prefix, kv: log.append(("pre", prefix)))

        def post(m, sd, prefix, meta):
            log.append(("post", prefix, len(sd)))
            sd[prefix + "note"] = lib.zeros(1)
        net.fc2.register_state_dict_post_hook(post)
        keys = list(net.state_dict())

        def load_pre(m, sd, prefix, meta, strict, missing, unexpected, errors):
            log.append(("load_pre", type(m).__name__, prefix, meta))
            sd.pop(prefix + "note", None)
        net.fc2.register_load_state_dict_pre_hook(load_pre)

        def load_post(m, keys):
            log.append(("load_post", list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.missing_keys.clear()
        net.register_load_state_dict_post_hook(load_post)
        sd = net.state_dict()
        del sd["fc1.bias"]
        result = net.load_state_dict(sd)
        return log, keys, repr(result)
    e, t = both(run)
    assert e == t


def test_module_state_dict_post_hook_must_return_none():
    def run(lib):
        net = make_net(lib)
        net.register_state_dict_post_hook(lambda *a: {})
        return list(net.state_dict())
    same_outcome(run)


def test_module_extra_state_round_trip():
    def run(lib):
        class WithState(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.value = 1

            def get_extra_state(self):
                return {"value": self.value}

            def set_extra_state(self, state):
                self.value = state["value"]
        a, b = WithState(), WithState()
        a.value = 7
        sd = a.state_dict()
        b.load_state_dict(sd)
        missing = b.load_state_dict({}, strict=False)
        return list(sd), b.value, missing.missing_keys
    e, t = both(run)
    assert e == t


def test_module_train_eval_recursive_and_overridable():
    def run(lib):
        class Frozen(lib.nn.Module):
            def train(self, mode=True):
                return super().train(False)
        net = make_net(lib)
        net.frozen = Frozen()
        net.eval()
        a = [m.training for m in net.modules()]
        net.train()
        b = [m.training for m in net.modules()]
        return a, b
    e, t = both(run)
    assert e == t
    same_outcome(lambda lib: make_net(lib).train(1))


def test_module_requires_grad_and_zero_grad():
    for set_to_none in (True, False):
        def run(lib, s=set_to_none):
            torch.manual_seed(0)
            net = make_net(lib)
            net(lib.ones(2, 3)).sum().backward()
            g = net.fc1.weight.grad
            net.zero_grad(set_to_none=s)
            grads = [None if p.grad is None else p.grad.abs().sum().item()
                     for p in net.parameters()]
            same = net.fc1.weight.grad is g
            net.requires_grad_(False)
            return grads, same, [p.requires_grad for p in net.parameters()]
        e, t = both(run)
        assert e == t


def test_module_apply_order():
    def run(lib):
        names = []
        net = make_net(lib)
        net.apply(lambda m: names.append(type(m).__name__))
        return names
    e, t = both(run)
    assert e == t


@pytest.mark.parametrize("method", ["double", "float", "half", "bfloat16", "to64", "to_tensor"])
def test_module_conversion_keeps_identity(method):
    def run(lib):
        net = make_net(lib)
        net(lib.ones(1, 3)).sum().backward()
        params = list(net.parameters())
        grads = [p.grad for p in params]
        if method == "to64":
            out = net.to(lib.float64)
        elif method == "to_tensor":
            out = net.to(lib.zeros(1, dtype=lib.float64))
        else:
            out = getattr(net, method)()
        return (out is net, all(a is b for a, b in zip(params, net.parameters())),
                all(p.grad is g for p, g in zip(net.parameters(), grads)),
                [str(p.dtype) for p in net.parameters()], [str(b.dtype) for b in net.buffers()],
                [str(p.grad.dtype) for p in net.parameters()],
                [p.requires_grad and p.is_leaf for p in net.parameters()])
    e, t = both(run)
    assert e == t


def test_module_to_rejects_integer_dtype_and_cpu_is_noop():
    same_outcome(lambda lib: make_net(lib).to(lib.int32))
    net = make_net(ember)
    w = net.fc1.weight
    data = w._data
    assert net.cpu() is net and net.to("cpu") is net
    assert net.fc1.weight is w and w._data is data


def test_module_to_empty_keeps_shapes():
    net = make_net(ember)
    shapes = [p.shape for p in net.parameters()]
    net.to_empty(device="cpu")
    assert [p.shape for p in net.parameters()] == shapes


def test_module_forward_pre_and_post_hooks():
    def run(lib):
        log = []
        net = make_lin(lib)
        h1 = net.register_forward_pre_hook(lambda m, a: log.append("pre1") or (a[0] * 2,))
        net.register_forward_pre_hook(lambda m, a: log.append("pre0"), prepend=True)
        net.register_forward_pre_hook(
            lambda m, a, k: log.append(("prek", sorted(k))) or (a, {}), with_kwargs=True)
        net.register_forward_hook(lambda m, a, out: log.append("post1") or out + 1)
        net.register_forward_hook(
            lambda m, a, k, out: log.append(("postk", sorted(k))) or out * 10,
            with_kwargs=True, prepend=True)
        x = lib.ones(1, 3)
        net.forward = lambda x, flag=None: x @ net.weight.T
        y1 = net(x, flag=1).tolist()
        h1.remove()
        y2 = net(x).tolist()
        return log, y1, y2
    e, t = both(run)
    assert e[0] == t[0]
    np.testing.assert_allclose(e[1], t[1], rtol=1e-6)
    np.testing.assert_allclose(e[2], t[2], rtol=1e-6)
    same_outcome(lambda lib: _bad_pre_hook(lib))


def _bad_pre_hook(lib):
    net = make_lin(lib)
    net.register_forward_pre_hook(lambda m, a, k: 3, with_kwargs=True)
    return net(lib.ones(1, 3))


def test_module_forward_hook_values():
    torch.manual_seed(0)
    t_net = make_lin(torch)
    e_net = make_lin(ember)
    e_net.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_net.state_dict().items()})
    for net, lib in ((e_net, ember), (t_net, torch)):
        net.register_forward_pre_hook(lambda m, a: (a[0] * 2,))
        net.register_forward_hook(lambda m, a, out: out + a[0].sum())
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(to_numpy(e_net(ember.tensor(x))),
                               to_numpy(t_net(torch.tensor(x))), rtol=1e-6)


def test_module_forward_hook_always_call():
    def run(lib):
        log = []

        class Boom(lib.nn.Module):
            def forward(self, x, **kwargs):
                raise ValueError("boom")
        m = Boom()
        m.register_forward_hook(lambda mod, a, out: log.append(("always", out)),
                                always_call=True)
        m.register_forward_hook(lambda mod, a, k, out: log.append(("always_kw", k, out)),
                                always_call=True, with_kwargs=True)
        m.register_forward_hook(lambda mod, a, out: log.append("normal"))
        try:
            m(1, k=2)
        except ValueError as e:
            log.append(str(e))
        return log
    e, t = both(run)
    assert e == t


def test_module_global_hooks():
    def run(lib):
        log = []
        mod = lib.nn.modules.module
        h1 = mod.register_module_forward_pre_hook(lambda m, a: log.append("gpre"))
        h2 = mod.register_module_forward_hook(lambda m, a, out: log.append("gpost"))
        net = make_lin(lib)
        net.register_forward_pre_hook(lambda m, a: log.append("pre"))
        net.register_forward_hook(lambda m, a, out: log.append("post"))
        try:
            net(lib.ones(1, 3))
        finally:
            h1.remove()
            h2.remove()
        net(lib.ones(1, 3))
        return log
    e, t = both(run)
    assert e == t


def _backward_hook_run(lib, pre_returns, full_returns):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = lib.nn.Parameter(lib.tensor([1.0, 2.0, 3.0]))

        def forward(self, x, y, k=2):
            return x * self.w * k, y + 1, 5

    m = M()
    log = []

    def fmt(gs):
        return [None if g is None else g.tolist() for g in gs]

    def pre(mod, go):
        log.append(("pre", fmt(go)))
        return (go[0] * 10, go[1], go[2]) if pre_returns else None

    def full(mod, gi, go):
        log.append(("full", fmt(gi), fmt(go)))
        return (gi[0] * 2, gi[1]) if full_returns else None

    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(full)
    x = lib.tensor([1.0, 1.0, 1.0], requires_grad=True)
    y = lib.tensor([0.5, 0.5], requires_grad=True)
    a, b, _ = m(x, y)
    (a.sum() + (b * 3).sum()).backward()
    log.append(("grads", x.grad.tolist(), y.grad.tolist(), m.w.grad.tolist()))
    return log


@pytest.mark.parametrize("pre_returns", [False, True])
@pytest.mark.parametrize("full_returns", [False, True])
def test_module_full_backward_hooks_match_torch(pre_returns, full_returns):
    e, t = both(lambda lib: _backward_hook_run(lib, pre_returns, full_returns))
    assert e == t


def test_module_full_backward_hook_nested_modules_and_removal():
    def run(lib):
        log = []
        torch.manual_seed(0)
        net = make_net(lib)
        for name, m in net.named_modules():
            m.register_full_backward_hook(
                lambda mod, gi, go, n=name: log.append((n, [None if g is None else
                                                            round(g.sum().item(), 4)
                                                            for g in gi])))
        x = lib.ones(2, 3, requires_grad=True)
        net(x).sum().backward()
        return log
    e, t = both(run)
    assert [n for n, _ in e] == [n for n, _ in t]
    for (_, a), (_, b) in zip(e, t):
        assert len(a) == len(b)


def test_module_full_backward_hook_without_input_grad_warns():
    def run(lib):
        log = []
        net = make_lin(lib)
        net.register_full_backward_hook(lambda m, gi, go: log.append((gi, go[0].shape)))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            net(lib.ones(2, 3)).sum().backward()
        return log, [str(x.message)[:40] for x in w]
    e, t = both(run)
    assert e[0][0][0] == t[0][0][0] == (None,)
    assert tuple(e[0][0][1]) == tuple(t[0][0][1])
    assert e[1] == t[1]


def test_module_full_backward_hook_wrong_length():
    def run(lib):
        net = make_lin(lib)
        net.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        net(lib.ones(2, 3, requires_grad=True)).sum().backward()
    same_outcome(run)


def test_module_repr_matches_torch():
    def run(lib):
        net = make_net(lib)
        inner = lib.nn.Module()
        inner.deep = make_lin(lib, 5, 6)
        net.inner = inner
        return repr(net), repr(lib.nn.Module())
    e, t = both(run)
    assert e == t


class PickleLin(ember.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = ember.nn.Parameter(ember.randn(n_out, n_in))
        self.bias = ember.nn.Parameter(ember.randn(n_out))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class PickleNet(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = PickleLin(3, 4)
        self.fc2 = PickleLin(4, 2)
        self.shared = self.fc1
        self.register_buffer("steps", ember.zeros((), dtype=ember.int64))
        self.register_buffer("scratch", ember.ones(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.shared(x).tanh())


def test_module_deepcopy_and_pickle():
    net = PickleNet()
    net.fc1.weight.grad = ember.ones(4, 3)
    clone = copy.deepcopy(net)
    assert clone.shared is clone.fc1 and clone.fc1 is not net.fc1
    assert isinstance(clone.fc1.weight, ember.nn.Parameter)
    np.testing.assert_array_equal(clone.fc1.weight.detach().numpy(),
                                  net.fc1.weight.detach().numpy())
    clone.fc1.weight.data.fill_(0.0)
    assert net.fc1.weight.abs().sum().item() > 0
    restored = pickle.loads(pickle.dumps(net))
    assert [n for n, _ in restored.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert restored.shared is restored.fc1
    assert "scratch" in restored._non_persistent_buffers_set
    x = ember.ones(2, 3)
    np.testing.assert_allclose(restored(x).detach().numpy(), net(x).detach().numpy())
    assert restored.fc1.weight.requires_grad


def test_module_deepcopy_keeps_load_pre_hook_bound_to_copy():
    net = make_net(ember)
    seen = []
    net.register_load_state_dict_pre_hook(lambda m, *a: seen.append(m))
    clone = copy.deepcopy(net)
    clone.load_state_dict(clone.state_dict())
    assert seen == [clone]


def test_module_registration_hooks():
    def run(lib):
        mod = lib.nn.modules.module
        log = []
        hs = [mod.register_module_parameter_registration_hook(
                  lambda m, n, v: log.append(("p", n))),
              mod.register_module_buffer_registration_hook(lambda m, n, v: log.append(("b", n))),
              mod.register_module_module_registration_hook(lambda m, n, v: log.append(("m", n)))]
        try:
            make_net(lib)
        finally:
            for h in hs:
                h.remove()
        return log
    e, t = both(run)
    assert e == t


def test_parameter_and_buffer_behaviour_matches_torch():
    def run(lib):
        t = lib.ones(2)
        p = lib.nn.Parameter(t)
        q = lib.nn.Parameter(lib.ones(2), requires_grad=False)
        b = lib.nn.Buffer(t, persistent=False)
        m = lib.nn.Module()
        m.b = b
        m.p = p
        p.data[0] = 3.0
        return (repr(p), repr(q), repr(lib.nn.Parameter()), type(copy.deepcopy(q)).__name__,
                copy.deepcopy(q).requires_grad, type(pickle.loads(pickle.dumps(p))).__name__,
                pickle.loads(pickle.dumps(p)).requires_grad, lib.nn.Parameter(p) is p,
                type(b).__name__, isinstance(b, lib.nn.Buffer), isinstance(t, lib.nn.Buffer),
                isinstance(p, lib.Tensor), m.b is b, b.persistent, list(m.state_dict()),
                t.tolist(), type(p * 2).__name__, type(p.detach()).__name__)
    e, t = both(run)
    assert e == t
    with pytest.raises(RuntimeError, match="floating point and complex dtype can require"):
        ember.nn.Parameter(ember.ones(2, dtype=ember.int64))


@pytest.mark.gpu
def test_module_cuda_round_trip_keeps_identity():
    net = PickleNet()
    net(ember.ones(2, 3)).sum().backward()
    params = list(net.parameters())
    assert net.cuda() is net
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert all(p.is_cuda and p.grad.is_cuda for p in net.parameters())
    assert all(b.is_cuda for b in net.buffers())
    y = net(ember.ones(2, 3, device="cuda"))
    seen = []
    net.fc2.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0].device.type))
    net(ember.ones(2, 3, device="cuda", requires_grad=True)).sum().backward()
    assert seen == ["cuda"]
    net.to("cpu", ember.float64)
    assert all(p.dtype == ember.float64 and not p.is_cuda for p in net.parameters())
    assert y.is_cuda


def test_module_full_backward_hook_mixed_inputs_identity_and_no_grad():
    def run(lib):
        log = []

        class M(lib.nn.Module):
            def forward(self, x, y):
                return x * y, y

        def fmt(gs):
            return [None if g is None else g.tolist() for g in gs]
        m = M()
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("M", fmt(gi), fmt(go))))
        ident = lib.nn.Identity()
        ident.register_full_backward_hook(lambda mod, gi, go: log.append(("I", fmt(gi),
                                                                          fmt(go))))
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0])
        a, _ = m(ident(x), y)
        (a * 2).sum().backward()
        log.append(x.grad.tolist())
        with lib.no_grad():
            m(x, y)
        return log
    e, t = both(run)
    assert e == t


@pytest.mark.skipif(not hasattr(ember.nn, "Linear"), reason="nn.Linear not built yet")
def test_module_with_real_layers_init_repr_and_hooks():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(),
                                 lib.nn.ModuleList([lib.nn.Linear(4, 4)]), lib.nn.Linear(4, 2))

    def run(lib):
        seq = build(lib)
        log = []
        for name, mod in seq.named_modules():
            mod.register_full_backward_hook(lambda m, gi, go, n=name: log.append(n))
        return repr(seq), list(seq.state_dict()), log

    e, t = both(run)
    assert e == t
    ember.manual_seed(0)
    e_seq = build(ember)
    torch.manual_seed(0)
    t_seq = build(torch)
    for (k, a), (_, b) in zip(e_seq.state_dict().items(), t_seq.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


@pytest.mark.parametrize("single", [True, False])
def test_module_legacy_backward_hook_matches_torch(single):
    def run(lib):
        log = []

        class M(lib.nn.Module):
            def forward(self, x):
                return x * 3 if single else (x * 3).exp()
        m = M()
        m.register_backward_hook(lambda mod, gi, go: log.append((
            [None if g is None else np.round(g.tolist(), 3).tolist() for g in gi],
            [g.tolist() for g in go])))
        x0 = lib.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = m(x0 * 1)
        (y * lib.tensor([1.0, 2.0])).sum().backward()
        errors = [outcome(lambda lib: m.register_full_backward_hook(print), lib)]
        return log, [str(w.message) for w in caught], [w.category for w in caught], errors
    e, t = both(run)
    assert e == t


def test_module_global_backward_hook_kinds_are_exclusive():
    def run(lib):
        mod = lib.nn.modules.module
        log = []
        h = mod.register_module_full_backward_hook(lambda m, gi, go: log.append(len(gi)))
        try:
            net = make_lin(lib)
            net(lib.ones(2, 3, requires_grad=True)).sum().backward()
            err = outcome(lambda lib: mod.register_module_backward_hook(print), lib)
        finally:
            h.remove()
            mod._global_is_full_backward_hook = None
        return log, err
    e, t = both(run)
    assert e == t
