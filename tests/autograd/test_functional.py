"""ember.autograd.functional against torch.autograd.functional (values, structure, errors)."""

import numpy as np
import pytest

import ember
from ember.autograd import functional as F
from tests.oracle import assert_close, needs_torch, torch

X = np.array([0.5, -1.0, 2.0])
Y = np.array([[1.0, 2.0], [0.3, -0.7]])


def _fns(lib):
    """The same test functions written for a library (ember or torch)."""
    return {
        "f1": lambda a: a.sin() * a,
        "f2": lambda a, b: ((a[:2] * b).tanh(), (a ** 3).sum() * b.exp()),
        "s1": lambda a: (a ** 3).sum() + a[0] * a[1],
        "s2": lambda a, b: (a[:2].reshape(2, 1) * b).sin().sum() + (a ** 2).sum(),
    }


def _args(lib, *arrays):
    return tuple(lib.tensor(a, dtype=lib.float64) for a in arrays)


def _assert_same_structure(e, t):
    if isinstance(t, tuple):
        assert isinstance(e, tuple) and len(e) == len(t), (type(e), type(t))
        for a, b in zip(e, t):
            _assert_same_structure(a, b)
    else:
        assert isinstance(e, ember.Tensor), type(e)
        assert tuple(e.shape) == tuple(t.shape)
        assert e.requires_grad == t.requires_grad
        assert_close(e, t)


CASES = [
    # (name, function key, inputs, v (as arrays or None), tuple inputs?, tuple v?, kwargs)
    ("vjp", "f1", (X,), (X,), False, False, {}),
    ("vjp", "f2", (X, Y), (Y, Y), True, True, {}),
    ("vjp", "f2", (X, Y), (Y, Y), True, True, {"create_graph": True}),
    ("vjp", "s1", (X,), None, False, False, {}),
    ("jvp", "f1", (X,), (X,), False, False, {}),
    ("jvp", "f2", (X, Y), (X, Y), True, True, {}),
    ("jacobian", "f1", (X,), None, False, False, {}),
    ("jacobian", "f2", (X, Y), None, True, False, {}),
    ("jacobian", "f2", (X, Y), None, True, False, {"vectorize": True}),
    ("jacobian", "f1", (X,), None, False, False, {"create_graph": True}),
    ("hessian", "s1", (X,), None, False, False, {}),
    ("hessian", "s2", (X, Y), None, True, False, {}),
    ("hessian", "s2", (X, Y), None, True, False, {"create_graph": True}),
    ("hvp", "s1", (X,), (X,), False, False, {}),
    ("hvp", "s2", (X, Y), (X, Y), True, True, {}),
    ("vhp", "s1", (X,), (X,), False, False, {}),
    ("vhp", "s2", (X, Y), (X, Y), True, True, {"create_graph": True}),
]


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_functional_matches_torch(case):
    name, key, inputs, v, tuple_in, tuple_v, kwargs = case
    results = []
    for lib, mod in ((ember, F), (torch, torch.autograd.functional)):
        fn = _fns(lib)[key]
        ins = _args(lib, *inputs)
        ins = ins if tuple_in else ins[0]
        args = (fn, ins)
        if name in ("vjp", "jvp", "hvp", "vhp"):
            vs = None if v is None else _args(lib, *v)
            args += (None if vs is None else vs if tuple_v else vs[0],)
        results.append(getattr(mod, name)(*args, **kwargs))
    _assert_same_structure(*results)


def test_jacobian_single_output_tuple_input_structure():
    x = ember.tensor(X, dtype=ember.float64)
    jac = F.jacobian(lambda a, b: a * b, (x, x))
    assert isinstance(jac, tuple) and len(jac) == 2
    np.testing.assert_allclose(jac[0].numpy(), np.diag(X))
    jac = F.jacobian(lambda a: (a.sum(), a * 2), x)
    assert isinstance(jac, tuple) and tuple(jac[0].shape) == (3,) and tuple(jac[1].shape) == (3, 3)
    np.testing.assert_allclose(jac[1].numpy(), 2 * np.eye(3))


def test_functional_unused_input_gives_zeros_or_strict_error():
    x = ember.tensor(X, dtype=ember.float64)
    out, grads = F.vjp(lambda a, b: a * 2, (x, x), ember.ones(3, dtype=ember.float64))
    np.testing.assert_array_equal(grads[1].numpy(), np.zeros(3))
    with pytest.raises(RuntimeError, match="independent of input 1. This is not allowed in "
                                           "strict mode"):
        F.vjp(lambda a, b: a * 2, (x, x), ember.ones(3, dtype=ember.float64), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not "
                                           "require gradients"):
        F.vjp(lambda a: x * 2, x, ember.ones(3, dtype=ember.float64), strict=True)
    with pytest.raises(RuntimeError, match="the jacobian of the user-provided function with "
                                           "respect to input 0 is independent of the input"):
        F.hessian(lambda a: a.sum(), x, strict=True)


def test_functional_argument_errors():
    x = ember.tensor(X, dtype=ember.float64)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        F.vjp(lambda a: a * 2, [x], x)
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be torch.Size\(\[3\]\)"):
        F.vjp(lambda a: a * 2, x, ember.ones(2))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but "
                                           "got 1"):
        F.vjp(lambda a: (a * 2, a), (x,), (ember.ones(3),))
    with pytest.raises(RuntimeError, match="v can only be None if the user-provided function "
                                           "returns a single Tensor with a single element"):
        F.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v can only be None if the input to the "
                                           "user-provided function is a single Tensor"):
        F.jvp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="should contain a single element"):
        F.hessian(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="given to vhp should contain a single element"):
        F.vhp(lambda a: a * 2, x, x)
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True` are not "
                                           "supported together"):
        F.jacobian(lambda a: a * 2, x, strict=True, vectorize=True)
    with pytest.raises(ValueError, match="Expected strategy to be either"):
        F.jacobian(lambda a: a * 2, x, strategy="sideways")
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        F.jacobian(lambda a: a * 2, x, strategy="forward-mode")


def test_functional_create_graph_differentiable_wrt_caller_tensor():
    x = ember.tensor(X, dtype=ember.float64, requires_grad=True)
    h = F.hessian(lambda a: (a ** 3).sum(), x, create_graph=True)
    assert h.requires_grad
    g, = ember.autograd.grad(h.sum(), x)
    np.testing.assert_allclose(g.numpy(), np.full(3, 6.0))     # d/dx sum(diag(6x)) = 6
    h2 = F.hessian(lambda a: (a ** 3).sum(), x)
    assert not h2.requires_grad


def test_functional_results_are_detached_without_create_graph():
    x = ember.tensor(X, dtype=ember.float64, requires_grad=True)
    out, v = F.vjp(lambda a: a.exp(), x, ember.ones(3, dtype=ember.float64))
    assert not out.requires_grad and not v.requires_grad
    assert x.grad is None                   # nothing accumulated into the caller's leaf
    np.testing.assert_allclose(v.numpy(), np.exp(X))


def test_jvp_equals_jacobian_times_v_and_hvp_equals_vhp():
    x = ember.tensor(X, dtype=ember.float64)
    v = ember.tensor([0.1, 0.2, -0.3], dtype=ember.float64)
    f = _fns(ember)["f1"]
    jac = F.jacobian(f, x).numpy()
    np.testing.assert_allclose(F.jvp(f, x, v)[1].numpy(), jac @ v.numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.vjp(f, x, v)[1].numpy(), v.numpy() @ jac, rtol=1e-12)
    s = _fns(ember)["s1"]
    np.testing.assert_allclose(F.hvp(s, x, v)[1].numpy(), F.vhp(s, x, v)[1].numpy())
    np.testing.assert_allclose(F.hvp(s, x, v)[1].numpy(),
                               F.hessian(s, x).numpy() @ v.numpy(), rtol=1e-12)
