"""ember.nn.utils against PyTorch: gradient clipping, parameters <-> vector, parametrize,
weight_norm / spectral_norm / orthogonal (parametrizations and the legacy hook forms)."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import ember
from tests.nn.test_module import make_lin, same_outcome
from tests.oracle import needs_torch, to_numpy, torch

pytestmark = needs_torch


def compare(fn, rtol=1e-5, atol=1e-6):
    """Run fn(lib) on both libraries after manual_seed(0) and compare the returned lists
    (tensors by value, anything else by equality)."""
    ember.manual_seed(0)
    e = fn(ember)
    torch.manual_seed(0)
    t = fn(torch)
    assert len(e) == len(t)
    for i, (a, b) in enumerate(zip(e, t)):
        if isinstance(b, torch.Tensor):
            assert a is not None, f"item {i}"
            assert tuple(a.shape) == tuple(b.shape), f"item {i}"
            assert str(a.dtype) == str(b.dtype), f"item {i}"
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=rtol, atol=atol,
                                       err_msg=f"item {i}")
        else:
            assert a == b, f"item {i}: {a!r} != {b!r}"
    return e, t


def grads_of(lib):
    ps = [lib.nn.Parameter(lib.randn(3, 4)), lib.nn.Parameter(lib.randn(5)),
          lib.nn.Parameter(lib.randn(2))]
    for p in ps[:2]:
        p.grad = lib.randn(p.shape) * 3
    return ps


@pytest.mark.parametrize("norm_type", [2, 1, float("inf"), 0.5, "2.0"])
@pytest.mark.parametrize("max_norm", [1.0, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    def run(lib):
        ps = grads_of(lib)
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=float(norm_type),
                                            foreach=True)
        return [total, ps[0].grad, ps[1].grad, ps[2].grad]
    compare(run)


def test_clip_grad_norm_single_tensor_generator_and_empty():
    compare(lambda lib: [lib.nn.utils.clip_grad_norm_(grads_of(lib)[0], 0.5)])
    compare(lambda lib: [lib.nn.utils.clip_grad_norm_(iter(grads_of(lib)), 0.5)])
    compare(lambda lib: [lib.nn.utils.clip_grad_norm_([], 0.5)])
    with pytest.warns(UserWarning, match="empty generator"):
        ember.nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_clip_grad_norm_nonfinite():
    def run(lib, error):
        ps = grads_of(lib)
        ps[0].grad[0, 0] = float("nan")
        return lib.nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=error).isnan().item()
    same_outcome(lambda lib: run(lib, True))
    same_outcome(lambda lib: run(lib, False))


def test_clip_grad_norm_deprecated_alias_warns():
    p = ember.nn.Parameter(ember.ones(2))
    p.grad = ember.ones(2)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        ember.nn.utils.clip_grad_norm(p, 1.0)


def test_get_total_norm_and_clip_grads_with_norm():
    def run(lib):
        ps = grads_of(lib)
        grads = [p.grad for p in ps if p.grad is not None]
        total = lib.nn.utils.get_total_norm(grads, 3.0)
        lib.nn.utils.clip_grads_with_norm_(ps, 2.0, total)
        return [total, ps[0].grad, ps[1].grad, lib.nn.utils.get_total_norm([])]
    compare(run)


def test_clip_grad_value_matches_torch():
    def run(lib):
        ps = grads_of(lib)
        lib.nn.utils.clip_grad_value_(ps, 0.7, foreach=False)
        lib.nn.utils.clip_grad_value_(ps[0], 0.5)
        return [ps[0].grad, ps[1].grad, ps[2].grad]
    compare(run)


def test_clip_does_not_record_graph():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.full((3,), 2.0)
    total = ember.nn.utils.clip_grad_norm_([p], 1.0)
    assert total.grad_fn is None and p.grad.grad_fn is None


def test_parameters_to_vector_and_back():
    def run(lib):
        m = make_lin(lib, 3, 2)
        vec = lib.nn.utils.parameters_to_vector(m.parameters())
        (vec * lib.arange(8.0)).sum().backward()
        new = lib.arange(8.0) * 10
        lib.nn.utils.vector_to_parameters(new, m.parameters())
        new[0] = -1.0          # the parameters are views of new
        return [vec, m.weight.grad, m.bias.grad, m.weight, m.bias,
                type(m.weight).__name__, m.weight.requires_grad]
    compare(run)
    same_outcome(lambda lib: lib.nn.utils.vector_to_parameters([1.0], []))


# -- parametrize ---------------------------------------------------------------------------

def symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).mT

        def right_inverse(self, a):
            return a.triu()
    return Symmetric()


def scaled(lib, k):
    class Scale(lib.nn.Module):
        def forward(self, x):
            return x * k

        def right_inverse(self, y):
            return y / k
    return Scale()


def square_lin(lib):
    return make_lin(lib, 3, 3)


def test_parametrize_register_forward_backward_and_keys():
    def run(lib):
        P = lib.nn.utils.parametrize
        m = square_lin(lib)
        P.register_parametrization(m, "weight", symmetric(lib))
        P.register_parametrization(m, "weight", scaled(lib, 2.0))
        x = lib.randn(4, 3)
        y = m(x)
        y.sum().backward()
        orig = m.parametrizations.weight.original
        return [m.weight, y, orig.grad, list(m.state_dict()), repr(m), type(m).__name__,
                P.is_parametrized(m), P.is_parametrized(m, "weight"),
                P.is_parametrized(m, "bias"), P.type_before_parametrizations(m).__name__,
                [n for n, _ in m.named_parameters()]]
    compare(run)


def test_parametrize_assignment_runs_right_inverse():
    def run(lib):
        P = lib.nn.utils.parametrize
        m = square_lin(lib)
        P.register_parametrization(m, "weight", symmetric(lib))
        P.register_parametrization(m, "weight", scaled(lib, 3.0))
        orig = m.parametrizations.weight.original
        target = lib.arange(9.0).reshape(3, 3)
        target = target + target.mT
        m.weight = target
        return [m.weight, orig, m.parametrizations.weight.original is orig]
    compare(run)


def test_parametrize_multiple_originals():
    def run(lib):
        class Split(lib.nn.Module):
            def forward(self, a, b):
                return a * b

            def right_inverse(self, w):
                return w.sign(), w.abs()
        m = square_lin(lib)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", Split())
        m(lib.ones(1, 3)).sum().backward()
        p = m.parametrizations.weight
        return [m.weight, p.original0, p.original1, p.original1.grad,
                list(m.state_dict()), type(p.original0).__name__]
    compare(run)


def test_parametrize_cached_computes_once():
    calls = []

    class Count(ember.nn.Module):
        def forward(self, x):
            calls.append(1)
            return x * 2
    m = square_lin(ember)
    ember.nn.utils.parametrize.register_parametrization(m, "weight", Count())
    calls.clear()
    with ember.nn.utils.parametrize.cached():
        a, b = m.weight, m.weight
        assert a is b
    c = m.weight
    assert len(calls) == 2 and c is not a


@pytest.mark.parametrize("leave", [True, False])
def test_parametrize_remove(leave):
    def run(lib):
        P = lib.nn.utils.parametrize
        m = square_lin(lib)
        w = m.weight
        P.register_parametrization(m, "weight", scaled(lib, 2.0))
        P.register_parametrization(m, "bias", scaled(lib, 5.0))
        P.remove_parametrizations(m, "weight", leave_parametrized=leave)
        mid = (type(m).__name__, list(m.state_dict()))
        P.remove_parametrizations(m, "bias", leave_parametrized=leave)
        return [m.weight, m.bias, m.weight is w, type(m).__name__, mid, list(m.state_dict()),
                hasattr(m, "parametrizations"), repr(m)]
    compare(run)


def test_parametrize_errors_match_torch():
    def shape_change(lib):
        class Bad(lib.nn.Module):
            def forward(self, x):
                return x[0]
        lib.nn.utils.parametrize.register_parametrization(square_lin(lib), "weight", Bad())

    def dtype_change(lib):
        class Bad(lib.nn.Module):
            def forward(self, x):
                return x.double()
        lib.nn.utils.parametrize.register_parametrization(square_lin(lib), "weight", Bad())

    def no_inverse(lib):
        class NoInv(lib.nn.Module):
            def forward(self, x):
                return x * 2
        m = square_lin(lib)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", NoInv())
        m.weight = lib.zeros(3, 3)

    for fn in (shape_change, dtype_change, no_inverse,
               lambda lib: lib.nn.utils.parametrize.register_parametrization(
                   square_lin(lib), "nope", scaled(lib, 1.0)).__class__.__name__,
               lambda lib: lib.nn.utils.parametrize.remove_parametrizations(
                   square_lin(lib), "weight")):
        kind = same_outcome(fn)[0]
        assert kind != "ok"


def test_parametrize_transfer_parametrizations_and_params():
    def run(lib):
        P = lib.nn.utils.parametrize
        src = square_lin(lib)
        P.register_parametrization(src, "weight", symmetric(lib))
        P.register_parametrization(src, "bias", scaled(lib, 2.0))
        dst = lib.nn.Module()
        P.transfer_parametrizations_and_params(src, dst)
        other = square_lin(lib)
        P.transfer_parametrizations_and_params(src, other, "weight")
        return [dst.weight, dst.bias, list(dst.state_dict()), other.weight,
                list(other.state_dict()), type(dst).__name__,
                dst.parametrizations.weight.original is src.parametrizations.weight.original]
    compare(run)


def test_parametrize_deepcopy_works_and_pickle_refuses():
    m = square_lin(ember)
    ember.nn.utils.parametrize.register_parametrization(m, "weight", scaled(ember, 2.0))
    clone = copy.deepcopy(m)
    assert type(clone).__name__ == "ParametrizedLin"
    np.testing.assert_array_equal(clone.weight.detach().numpy(), m.weight.detach().numpy())
    clone.parametrizations.weight.original.data.fill_(0.0)
    assert m.weight.abs().sum().item() > 0
    with pytest.raises(RuntimeError, match="only supported through state_dict"):
        pickle.dumps(m)


# -- weight_norm -----------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_weight_norm_parametrization_matches_torch(dim):
    def run(lib):
        m = make_lin(lib, 4, 3)
        lib.nn.utils.parametrizations.weight_norm(m, dim=dim)
        y = m(lib.randn(2, 4))
        y.sum().backward()
        p = m.parametrizations.weight
        return [y, m.weight, p.original0, p.original0.grad, p.original1.grad,
                list(m.state_dict()), repr(m)]
    compare(run)


@pytest.mark.parametrize("dim", [0, 1, -1, None])
def test_weight_norm_legacy_matches_torch(dim):
    def run(lib):
        m = make_lin(lib, 4, 3)
        with pytest.warns(FutureWarning, match="deprecated"):
            lib.nn.utils.weight_norm(m, dim=dim)
        y = m(lib.randn(2, 4))
        y.sum().backward()
        out = [y, m.weight_g, m.weight_g.grad, m.weight_v.grad, list(m.state_dict())]
        lib.nn.utils.remove_weight_norm(m)
        return out + [m.weight, [n for n, _ in m.named_parameters()]]
    compare(run)
    same_outcome(lambda lib: lib.nn.utils.remove_weight_norm(make_lin(lib), "weight"))


def test_weight_norm_loads_legacy_checkpoint():
    def run(lib):
        old = make_lin(lib, 4, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            lib.nn.utils.weight_norm(old)
        new = make_lin(lib, 4, 3)
        lib.nn.utils.parametrizations.weight_norm(new)
        result = new.load_state_dict(old.state_dict())
        return [new.weight, old.weight, repr(result)]
    compare(run)


# -- spectral_norm ---------------------------------------------------------------------------

@pytest.mark.parametrize("n_iter", [1, 3])
def test_spectral_norm_parametrization_matches_torch(n_iter):
    def run(lib):
        m = make_lin(lib, 4, 3)
        lib.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=n_iter)
        p = m.parametrizations.weight
        u0 = p[0]._u.clone()
        y = m(lib.randn(2, 4))
        y.sum().backward()
        m.eval()
        u1 = p[0]._u.clone()
        y2 = m(lib.randn(2, 4))
        return [u0, u1, p[0]._u, p[0]._v, y, y2, p.original.grad, list(m.state_dict())]
    compare(run)


def test_spectral_norm_parametrization_on_3d_weight_and_dim():
    def run(lib):
        m = lib.nn.Module()
        m.weight = lib.nn.Parameter(lib.randn(2, 3, 4))
        lib.nn.utils.parametrizations.spectral_norm(m, dim=1)
        w = m.weight
        (w * lib.randn(2, 3, 4)).sum().backward()
        return [w, m.parametrizations.weight.original.grad]
    compare(run)
    same_outcome(lambda lib: lib.nn.utils.parametrizations.spectral_norm(make_lin(lib), dim=2))
    same_outcome(lambda lib: lib.nn.utils.parametrizations.spectral_norm(make_lin(lib), "nope"))


def test_spectral_norm_legacy_matches_torch():
    def run(lib):
        m = make_lin(lib, 4, 3)
        lib.nn.utils.spectral_norm(m)
        y = m(lib.randn(2, 4))
        y.sum().backward()
        sd = m.state_dict()
        out = [y, m.weight_u, m.weight_v, m.weight_orig.grad, list(sd), dict(sd._metadata)]
        other = make_lin(lib, 4, 3)
        lib.nn.utils.spectral_norm(other)
        other.load_state_dict(sd)
        lib.nn.utils.remove_spectral_norm(m)
        return out + [other.weight_u, m.weight, [n for n, _ in m.named_parameters()],
                      list(m.state_dict())]
    compare(run)
    same_outcome(lambda lib: lib.nn.utils.spectral_norm(
        lib.nn.utils.spectral_norm(make_lin(lib))))
    same_outcome(lambda lib: lib.nn.utils.spectral_norm(make_lin(lib), n_power_iterations=0))
    same_outcome(lambda lib: lib.nn.utils.remove_spectral_norm(make_lin(lib)))


# -- orthogonal ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
@pytest.mark.parametrize("orth_map, triv", [("matrix_exp", True), ("cayley", True),
                                            ("householder", True), ("householder", False),
                                            (None, True)])
def test_orthogonal_matches_torch(shape, orth_map, triv):
    def run(lib):
        m = make_lin(lib, shape[1], shape[0])
        lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orth_map,
                                                 use_trivialization=triv)
        w = m.weight
        y = m(lib.randn(2, shape[1]))
        y.sum().backward()
        return [w, y, m.parametrizations.weight.original.grad, list(m.state_dict())]
    e, _ = compare(run, rtol=1e-4, atol=1e-5)
    w = e[0].detach().numpy().astype(np.float64)
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


def test_orthogonal_assignment_and_errors():
    def run(lib):
        m = make_lin(lib, 3, 3)
        lib.nn.utils.parametrizations.orthogonal(m)
        q = lib.linalg.qr(lib.randn(3, 3))[0]
        m.weight = q
        return [m.weight, q]
    compare(run, rtol=1e-4, atol=1e-5)
    same_outcome(lambda lib: lib.nn.utils.parametrizations.orthogonal(
        make_lin(lib), orthogonal_map="nope"))
    same_outcome(lambda lib: lib.nn.utils.parametrizations.orthogonal(make_lin(lib), "bias"))

    def assign_no_triv(lib):
        m = make_lin(lib, 3, 3)
        lib.nn.utils.parametrizations.orthogonal(m, "weight", "cayley",
                                                 use_trivialization=False)
        m.weight = lib.eye(3)
    same_outcome(assign_no_triv)


@pytest.mark.gpu
def test_utils_on_cuda():
    ps = [ember.nn.Parameter(ember.randn(3, 4, device="cuda")) for _ in range(2)]
    for p in ps:
        p.grad = ember.randn(3, 4, device="cuda") * 5
    expected = np.sqrt(sum((p.grad.cpu().numpy() ** 2).sum() for p in ps))
    total = ember.nn.utils.clip_grad_norm_(ps, 1.0)
    assert total.is_cuda
    np.testing.assert_allclose(total.item(), expected, rtol=1e-5)
    after = np.sqrt(sum((p.grad.cpu().numpy() ** 2).sum() for p in ps))
    np.testing.assert_allclose(after, 1.0, rtol=1e-4)
    m = make_lin(ember, 4, 3).cuda()
    ember.nn.utils.parametrizations.spectral_norm(m)
    sigma = np.linalg.svd(m.weight.detach().cpu().numpy(), compute_uv=False)[0]
    assert m.weight.is_cuda and abs(sigma - 1.0) < 0.2
    vec = ember.nn.utils.parameters_to_vector(m.parameters())
    assert vec.is_cuda and vec.numel() == 15
    for orth_map in ("matrix_exp", "cayley", "householder"):
        o = make_lin(ember, 5, 3).cuda()
        ember.nn.utils.parametrizations.orthogonal(o, orthogonal_map=orth_map)
        w = o.weight.detach().cpu().numpy().astype(np.float64)
        np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-5)
