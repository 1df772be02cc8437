"""Creation and conversion: tensor()'s dtype inference, memory sharing, factories, casts,
copy_/fill_/zero_, the default dtype, and errors, each against torch where it is installed."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, to_numpy, torch


def _build(expr, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return eval(expr, {"m": m, "np": np})


def _same_tensor(e, t, what=""):
    assert str(e.dtype) == str(t.dtype), f"{what}: dtype {e.dtype} vs torch {t.dtype}"
    assert tuple(e.shape) == tuple(t.shape), f"{what}: shape {tuple(e.shape)} vs {tuple(t.shape)}"
    assert e.requires_grad == t.requires_grad, what
    assert str(e.device) == str(t.device), what
    np.testing.assert_array_equal(to_numpy(e), to_numpy(t), err_msg=what)


TENSOR_CASES = [
    "m.tensor([1, 2.0])", "m.tensor([True, 1])", "m.tensor([True, False])", "m.tensor([1, 2j])",
    "m.tensor(3)", "m.tensor(3.5)", "m.tensor(True)", "m.tensor([])", "m.tensor([[]])",
    "m.tensor([np.float64(1.0), 2])", "m.tensor([np.float32(1.0), 2])",
    "m.tensor([np.float32(1.0)])", "m.tensor(np.float64(1.0))", "m.tensor(np.int32(3))",
    "m.tensor([np.int32(3), 4])", "m.tensor([np.int32(3)])",
    "m.tensor(np.array([1, 2], dtype=np.int32))", "m.tensor(np.array([1., 2.]))",
    "m.tensor(np.array(1.5))", "m.tensor([np.array([1, 2]), np.array([3, 4])])",
    "m.tensor([m.tensor(1.), m.tensor(2.)])", "m.tensor([m.tensor(1, dtype=m.int32), 2])",
    "m.tensor([m.tensor(1, dtype=m.int32)])", "m.tensor([m.tensor(1.0, dtype=m.float64), 2])",
    "m.tensor([m.tensor(1., dtype=m.float16), 2.])", "m.tensor([m.tensor([1.])])",
    "m.tensor([[m.tensor(1.), 2], [3, 4]])", "m.tensor([1.5, 2.5], dtype=m.bfloat16)",
    "m.tensor([0.1, 1e-3], dtype=m.bfloat16)", "m.tensor([1, 2], dtype=m.float16)",
    "m.tensor([1.7, -2.7], dtype=m.int64)", "m.tensor([1., 2], requires_grad=True)",
    "m.tensor(((1, 2), (3, 4)))", "m.tensor([[1, 2], (3, 4)])", "m.tensor(range(4))",
    "m.tensor([[1, 2], [3, 4]], dtype=m.float64)", "m.tensor(2**40)", "m.tensor([2**40, 1.5])",
    "m.tensor([1+1j], dtype=m.complex128)", "m.tensor(m.ones(2, dtype=m.int32))",
    "m.tensor(m.ones(2), dtype=m.float64)",
    "m.as_tensor([1, 2])", "m.as_tensor(np.arange(3), dtype=m.float32)",
    "m.asarray([1, 2.5])", "m.asarray(np.arange(3.))", "m.asarray(3)",
    "m.from_numpy(np.arange(3))", "m.from_numpy(np.ones((2, 3), dtype=np.float16))",
]


@needs_torch
@pytest.mark.parametrize("expr", TENSOR_CASES)
def test_tensor_from_data_matches_torch(expr):
    _same_tensor(_build(expr, ember), _build(expr, torch), expr)


FACTORY_CASES = [
    "m.zeros(2, 3)", "m.zeros((2, 3))", "m.zeros([2, 3])", "m.zeros(m.Size([2, 3]))",
    "m.zeros(())", "m.zeros(2, 3, dtype=m.bfloat16)", "m.zeros(2, 3, dtype=m.int32)",
    "m.zeros(2, requires_grad=True)", "m.ones(3, dtype=m.bool)", "m.ones(2, 2, requires_grad=True)",
    "m.ones(0, 4)", "m.full((2, 3), 7)", "m.full((2, 3), 7.)", "m.full((2, 3), True)",
    "m.full((2, 3), 1+2j)", "m.full((2,), 7, dtype=m.float32)", "m.full([], 2.)",
    "m.full((2,), m.tensor(3.))", "m.full((2,), 2.5, dtype=m.int64)",
    "m.zeros_like(m.ones(2, 3, dtype=m.int32))", "m.ones_like(m.ones(2, 3), dtype=m.float64)",
    "m.full_like(m.ones(2, 3), 5)", "m.full_like(m.ones(2, 3, dtype=m.int64), 2.7)",
    "m.zeros_like(m.ones(2), requires_grad=True)", "m.ones_like(m.ones(2, requires_grad=True))",
    "m.arange(5)", "m.arange(5.)", "m.arange(1, 5, 2)", "m.arange(0, 1, 0.1)",
    "m.arange(0, 1, 0.3)", "m.arange(1, 2.5, 0.5)", "m.arange(-1, -10, -3)",
    "m.arange(0.5, 5, dtype=m.int64)", "m.arange(m.tensor(5))", "m.arange(1e-3, 1, 0.1)",
    "m.arange(0, 1, 1/3)", "m.arange(0., 10, requires_grad=True)", "m.arange(4, dtype=m.float64)",
    "m.linspace(0, 1, 5)", "m.linspace(0, 1, 1)", "m.linspace(0, 1, 0)",
    "m.linspace(0, 10, 4, dtype=m.int64)", "m.linspace(m.tensor(0.), m.tensor(1.), 5)",
    "m.linspace(0, 1j, 3)", "m.linspace(0, 1, 3, requires_grad=True)",
    "m.logspace(0, 2, 3)", "m.logspace(0, 2, 3, base=2)", "m.logspace(0, 3, 4, dtype=m.int64)",
    "m.eye(3)", "m.eye(2, 4)", "m.eye(3, dtype=m.bool)", "m.eye(0)",
    "m.eye(3, requires_grad=True)", "m.tril_indices(4, 3, 1)", "m.triu_indices(3, 4, -1)",
    "m.triu_indices(3, 5, 2, dtype=m.int32)", "m.tril_indices(0, 0)",
    "m.zeros(2, dtype=float)", "m.ones(2, dtype=int)", "m.zeros(2, dtype=bool)",
    "m.zeros(2, dtype=complex)",
]


@needs_torch
@pytest.mark.parametrize("expr", FACTORY_CASES)
def test_factories_match_torch(expr):
    e, t = _build(expr, ember), _build(expr, torch)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape), expr
    assert e.requires_grad == t.requires_grad, expr
    np.testing.assert_allclose(to_numpy(e).astype(complex), to_numpy(t).astype(complex),
                               rtol=1e-6, atol=1e-7, err_msg=expr)


CAST_CASES = [
    "m.ones(2, dtype=m.int8).to(m.float64, copy=True)", "m.zeros(2).to(m.zeros(3, dtype=m.int32))",
    "m.ones(2).to('cpu', m.float64)", "m.ones(2).to(device='cpu', dtype=m.float64)",
    "m.ones(2).to(m.float64, False, True)", "m.ones(2).to(m.device('cpu'))", "m.ones(2).to(int)",
    "m.ones(2).to(float)", "m.ones(2).to(bool)", "m.ones(2).to(complex)",
    "m.ones(2).type(m.float64)", "m.ones(2).type('torch.DoubleTensor')",
    "m.ones(2).type('torch.IntTensor')", "m.tensor([1.7, -2.7]).long()",
    "m.tensor([1.7, -2.7]).int()", "m.tensor([1.7, -2.7]).short()", "m.tensor([1.7, -2.7]).char()",
    "m.tensor([1.7, 2.7, 200.]).byte()", "m.tensor([1.7, 0.0]).bool()", "m.tensor([1, 2]).float()",
    "m.tensor([1, 2]).double()", "m.tensor([1, 2]).half()", "m.tensor([1.1, 2]).bfloat16()",
    "m.tensor([1, 2]).cfloat()", "m.tensor([1+2j]).cdouble()", "m.tensor([1.5, 2]).to(m.complex64)",
    "m.ones(2, requires_grad=True).to(m.float64)", "m.ones(2, requires_grad=True).float()",
    "m.ones(2, dtype=m.float64).type_as(m.ones(1, dtype=m.int16))",
    "m.ones(2).new_zeros(3)", "m.ones(2).new_zeros((2, 3))", "m.ones(2, dtype=m.int32).new_ones(2)",
    "m.ones(2).new_full((2,), 3)", "m.ones(2, dtype=m.float64).new_tensor([1, 2])",
    "m.ones(2).new_tensor([1, 2], dtype=m.int64)",
    "m.ones(2, dtype=m.float64).new_zeros(2, dtype=m.int32)",
    "m.ones(2).new_ones(2, requires_grad=True)",
]


@needs_torch
@pytest.mark.parametrize("expr", CAST_CASES)
def test_casts_match_torch(expr):
    _same_tensor(_build(expr, ember), _build(expr, torch), expr)


@needs_torch
def test_type_strings_match_torch():
    for expr in ("m.ones(2).type()", "m.ones(2, dtype=m.int32).type()",
                 "m.ones(2, dtype=m.bool).type()", "m.ones(2, dtype=m.float64).type()"):
        assert _build(expr, ember) == _build(expr, torch), expr


def test_from_numpy_shares_memory_both_ways():
    a = np.zeros(3, dtype=np.float32)
    t = ember.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5
    t.add_(1)
    np.testing.assert_array_equal(a, [6, 1, 1])
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    with pytest.raises(ValueError, match="negative"):
        ember.from_numpy(np.arange(3.0)[::-1])
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ember.from_numpy([1, 2])


def test_as_tensor_and_asarray_share_and_copy():
    a = np.arange(4.0)
    assert np.shares_memory(ember.as_tensor(a).numpy(), a)
    assert np.shares_memory(ember.asarray(a).numpy(), a)
    assert not np.shares_memory(ember.asarray(a, copy=True).numpy(), a)
    assert not np.shares_memory(ember.tensor(a).numpy(), a)
    assert not np.shares_memory(ember.as_tensor(a, dtype=ember.float32).numpy(), a)
    t = ember.ones(3)
    assert ember.as_tensor(t) is t and ember.asarray(t) is t
    assert ember.asarray(t, copy=True) is not t
    with pytest.raises(ValueError, match="copy"):
        ember.asarray(a, dtype=ember.float32, copy=False)
    r = ember.asarray(t, requires_grad=True)
    assert r.requires_grad and not t.requires_grad


def test_tensor_of_tensor_warns_and_copies():
    src = ember.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="sourceTensor.detach"):
        t = ember.tensor(src)
    assert not t.requires_grad and t.is_leaf
    t.add_(1)
    assert src[0].item() == 1


def test_default_dtype_drives_inference_and_factories():
    ember.set_default_dtype(ember.float64)
    assert ember.tensor([1.0]).dtype is ember.float64
    assert ember.arange(0.0, 1.0).dtype is ember.float64
    assert ember.arange(3).dtype is ember.int64
    assert ember.zeros(2).dtype is ember.float64
    assert ember.full((2,), 1.5).dtype is ember.float64
    assert ember.linspace(0, 1, 3).dtype is ember.float64
    assert ember.tensor([1j]).dtype is ember.complex128
    assert ember.zeros(2, dtype=float).dtype is ember.float64
    ember.set_default_dtype(ember.float32)
    assert ember.tensor([1.0]).dtype is ember.float32
    assert ember.tensor([1j]).dtype is ember.complex64


def test_to_returns_self_when_nothing_changes():
    x = ember.ones(3)
    assert x.to(ember.float32) is x and x.to("cpu") is x and x.to(x) is x and x.float() is x
    y = x.to(ember.float32, copy=True)
    assert y is not x and not np.shares_memory(y.numpy(), x.numpy())


def test_to_is_differentiable():
    x = ember.tensor([1.5, -2.0], requires_grad=True)
    (x.to(ember.float64) * ember.tensor([2.0, 3.0], dtype=ember.float64)).sum().backward()
    assert x.grad.dtype is ember.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])


def test_copy_returns_self_broadcasts_casts_and_routes_grad():
    dst = ember.zeros(2, 3, dtype=ember.int64)
    assert dst.copy_(ember.tensor([1.7, 2.0, 3.0])) is dst
    np.testing.assert_array_equal(dst.numpy(), [[1, 2, 3], [1, 2, 3]])
    v = dst._version
    dst.copy_(ember.tensor(5))
    assert dst._version == v + 1 and (dst.numpy() == 5).all()
    src = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = ember.zeros(2, 3).copy_(src)
    out.backward(ember.ones(2, 3))
    np.testing.assert_array_equal(src.grad.numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match=re.escape("must match the size of tensor b (2)")):
        ember.zeros(2, 3).copy_(ember.ones(2))
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        ember.zeros(2).copy_(ember.tensor([1 + 2j, 3j]))


def test_copy_into_leaf_that_requires_grad_raises():
    w = ember.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.copy_(ember.ones(2))
    with ember.no_grad():
        w.copy_(ember.ones(2))
    assert w.requires_grad and w[0].item() == 1


def test_fill_and_zero():
    x = ember.zeros(3, dtype=ember.int32)
    assert x.fill_(2.7) is x
    np.testing.assert_array_equal(x.numpy(), [2, 2, 2])
    assert x.zero_() is x and not x.numpy().any()
    b = ember.zeros(2, dtype=ember.bool).fill_(3)
    assert b.numpy().all()
    x = ember.zeros(2).fill_(ember.tensor(4.0))
    np.testing.assert_array_equal(x.numpy(), [4.0, 4.0])
    with pytest.raises(RuntimeError, match="0-dimension value tensor"):
        ember.zeros(3).fill_(ember.tensor([4.0, 5.0]))
    v = ember.tensor(2.0, requires_grad=True)
    ember.zeros(3).fill_(v).sum().backward()
    assert v.grad.item() == 3.0


def test_empty_strided_and_tri_indices():
    t = ember.empty_strided((2, 3), (1, 2))
    assert t.stride() == (1, 2) and tuple(t.shape) == (2, 3) and not t.is_contiguous()
    t.fill_(1.0)
    assert ember.empty_strided((0, 3), (3, 1)).numel() == 0
    r, c = np.tril_indices(4, 1, 5)
    np.testing.assert_array_equal(ember.tril_indices(4, 5, 1).numpy(), np.stack([r, c]))
    r, c = np.triu_indices(3, -1, 2)
    np.testing.assert_array_equal(ember.triu_indices(3, 2, -1).numpy(), np.stack([r, c]))


def test_bfloat16_creation_and_values():
    t = ember.tensor([1.5, 0.1], dtype=ember.bfloat16)
    assert t.dtype is ember.bfloat16 and t.element_size() == 2
    np.testing.assert_array_equal(t.float().numpy(), np.array([1.5, 0.10009765625], np.float32))
    z = ember.zeros(2, 3, dtype=ember.bfloat16)
    assert z.dtype is ember.bfloat16 and not z.float().numpy().any()


def test_arange_length_rule():
    # ceil((end - start) / step) elements, computed from the float values.
    for args in ((0, 1, 0.1), (0, 1, 0.3), (1, 2.5, 0.5), (-1.0, 1.0, 0.25), (0, 0.9, 0.3)):
        n = int(np.ceil((args[1] - args[0]) / args[2]))
        assert ember.arange(*args).numel() == n, args


@pytest.mark.parametrize("call,exc,text", [
    (lambda: ember.tensor([[1, 2], [3]]), ValueError, "expected sequence of length 2 at dim 1"),
    (lambda: ember.tensor([[1, 2], 3]), TypeError, "not a sequence"),
    (lambda: ember.tensor([1, [2]]), TypeError, "cannot be interpreted"),
    (lambda: ember.tensor("abc"), TypeError, "invalid data type 'str'"),
    (lambda: ember.tensor([1, None]), RuntimeError, "Could not infer dtype of NoneType"),
    (lambda: ember.tensor(object()), RuntimeError, "Could not infer dtype of object"),
    (lambda: ember.tensor([ember.ones(2), ember.ones(2)]), ValueError,
     "only one element tensors can be converted to Python scalars"),
    (lambda: ember.tensor([1, 2], requires_grad=True), RuntimeError,
     "floating point and complex dtype can require gradients"),
    (lambda: ember.zeros(-1), RuntimeError, "negative dimension -1"),
    (lambda: ember.zeros(2.5), TypeError, "must be tuple of ints"),
    (lambda: ember.zeros(), TypeError, "size"),
    (lambda: ember.full(2, 3.0), TypeError, "must be tuple of ints"),
    (lambda: ember.arange(0, 10, 0), RuntimeError, "step must be nonzero"),
    (lambda: ember.arange(10, 0), RuntimeError, "upper bound and lower bound inconsistent"),
    (lambda: ember.linspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    (lambda: ember.eye(-1), RuntimeError, "n must be greater or equal to 0"),
    (lambda: ember.tril_indices(-1, 3), RuntimeError, "row must be non-negative"),
    (lambda: ember.from_numpy(np.array([1], dtype=object)), TypeError, "can't convert"),
    (lambda: ember.ones(2).to("cpu", "nonsense"), TypeError, "invalid combination of arguments"),
    (lambda: ember.empty_strided((2, 3), (1,)), RuntimeError, "mismatch in length"),
])
def test_errors(call, exc, text):
    with pytest.raises(exc, match=re.escape(text)):
        call()


@needs_torch
def test_error_classes_match_torch():
    for expr in ("m.tensor([[1, 2], [3]])", "m.tensor([[1, 2], 3])", "m.tensor('abc')",
                 "m.tensor([1, None])", "m.zeros(-1)", "m.arange(0, 10, 0)", "m.eye(-1)",
                 "m.full(2, 3.0)", "m.zeros()"):
        classes = []
        for m in (ember, torch):
            try:
                _build(expr, m)
                classes.append(None)
            except Exception as e:  # noqa: BLE001 - comparing the class torch raises
                classes.append(type(e))
        assert classes[0] is classes[1], f"{expr}: {classes[0]} vs torch's {classes[1]}"


@pytest.mark.gpu
def test_creation_on_cuda():
    x = ember.zeros(2, 3, device="cuda")
    assert x.is_cuda and x.device.type == "cuda"
    assert ember.tensor([1, 2], device="cuda").dtype is ember.int64
    assert ember.arange(5, device="cuda").cpu().tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(ember.linspace(0, 1, 5, device="cuda").cpu().numpy(),
                               [0, 0.25, 0.5, 0.75, 1])
    assert ember.eye(3, device="cuda").cpu().numpy().trace() == 3
    assert ember.full((2,), 7, device="cuda").cpu().tolist() == [7, 7]
    y = ember.ones(3).to("cuda", ember.float64)
    assert y.is_cuda and y.dtype is ember.float64
    assert y.cpu().to(ember.float32).device.type == "cpu"
    z = ember.zeros(3, device="cuda").copy_(ember.tensor([1.0, 2.0, 3.0]))
    assert z.is_cuda and z.cpu().tolist() == [1.0, 2.0, 3.0]
    assert ember.zeros_like(z).is_cuda and ember.tril_indices(3, 3, device="cuda").is_cuda
    e = ember.empty_strided((2, 3), (1, 2), device="cuda")
    assert e.is_cuda and e.stride() == (1, 2)


# -- torch-namespace gaps: frombuffer, scalar_tensor, empty_permuted, range, vander, ... -----

def test_frombuffer_shares_memory_and_offsets():
    buf = bytearray(16)
    t = ember.frombuffer(buf, dtype=ember.int32, count=2, offset=4)
    t[0] = 7
    assert buf[4] == 7 and t.tolist() == [7, 0] and t.dtype is ember.int32
    assert ember.frombuffer(bytearray(8), dtype=ember.float32).shape == (2,)


@pytest.mark.parametrize("kwargs,fragment", [
    ({"buffer": bytearray(), "dtype": "float32"}, "must not be 0"),
    ({"buffer": bytearray(8), "dtype": "float32", "offset": 8}, "no greater than buffer length"),
    ({"buffer": bytearray(8), "dtype": "float32", "count": 3}, "must not be greater than"),
])
def test_frombuffer_errors(kwargs, fragment):
    kwargs["dtype"] = getattr(ember, kwargs["dtype"])
    with pytest.raises(ValueError, match=fragment):
        ember.frombuffer(**kwargs)


def test_frombuffer_readonly_warns_like_torch():
    with pytest.warns(UserWarning, match="not writable"):
        t = ember.frombuffer(b"abcd", dtype=ember.uint8)
    assert t.tolist() == [97, 98, 99, 100]


@needs_torch
def test_scalar_tensor_and_empty_permuted_match_torch():
    for s, kw in [(3, {}), (True, {}), (2.5, {"dtype": "float64"}), (4, {"dtype": "int64"})]:
        e = ember.scalar_tensor(s, **{k: getattr(ember, v) for k, v in kw.items()})
        t = torch.scalar_tensor(s, **{k: getattr(torch, v) for k, v in kw.items()})
        _same_tensor(e, t, f"scalar_tensor({s})")
        assert e.item() == t.item()
    for size, layout in [((2, 3, 4), (0, 2, 1)), ((2, 3, 4, 5), (0, 2, 3, 1)), ((3,), (0,))]:
        e, t = ember.empty_permuted(size, layout), torch.empty_permuted(size, layout)
        assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    with pytest.raises(RuntimeError, match="does not match the length of the physical_layout"):
        ember.empty_permuted((2, 3), (0,))


@needs_torch
@pytest.mark.parametrize("args,kw", [((1, 4), {}), ((0, 1, 0.3), {}), ((1, 4), {"dtype": "int64"}),
                                     ((5, 1, -1.5), {}), ((2, 2), {})])
def test_range_is_inclusive_and_deprecated(args, kw):
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        e = ember.range(*args, **{k: getattr(ember, v) for k, v in kw.items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t = torch.range(*args, **{k: getattr(torch, v) for k, v in kw.items()})
    _same_tensor(e, t, f"range{args}")
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("data,N,increasing", [([1, 2, 3], None, False), ([1.5, -2.0], 4, True),
                                               ([True, False], None, False), ([2.0], 0, False),
                                               ([], 3, False), ([0.5, 2.0, -1.0], 1, True)])
def test_vander_matches_torch(data, N, increasing):
    e = ember.vander(ember.tensor(data), N=N, increasing=increasing)
    t = torch.vander(torch.tensor(data), N=N, increasing=increasing)
    _same_tensor(e, t, "vander")
    np.testing.assert_allclose(to_numpy(e), to_numpy(t))


def test_vander_grad_and_errors():
    # d/dx sum_k x**k for k < 4 = 1 + 2x + 3x**2 (torch's own vander backward is broken)
    x = ember.tensor([0.0, 2.0, 3.0], dtype=ember.float64, requires_grad=True)
    ember.vander(x, 4).sum().backward()
    assert x.grad.tolist() == [1.0, 17.0, 34.0]
    assert ember.autograd.gradcheck(lambda v: ember.vander(v, 3), (x,))
    with pytest.raises(RuntimeError, match="one-dimensional"):
        ember.vander(ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="N must be non-negative"):
        ember.vander(ember.ones(2), N=-1)


def test_view_as_real_complex_copy_do_not_share():
    z = ember.tensor([1 + 2j, 3 - 1j])
    r = ember.view_as_real_copy(z)
    r[0, 0] = 10.0
    assert z.tolist()[0] == 1 + 2j and r.tolist() == [[10.0, 2.0], [3.0, -1.0]]
    c = ember.view_as_complex_copy(ember.tensor([[1.0, 2.0]]))
    assert c.tolist() == [1 + 2j]


@needs_torch
def test_torch_level_method_functions():
    t = ember.tensor([[1.0, 2.0]], requires_grad=True)
    assert not ember.detach(t).requires_grad and ember.get_device(t) == -1
    assert ember.fill(t, 3.0).tolist() == [[3.0, 3.0]] and t.tolist() == [[1.0, 2.0]]
    z = ember.ones(3)
    assert ember.zero_(z) is z and z.tolist() == [0.0, 0.0, 0.0]
    assert ember.fill_(z, 2).tolist() == [2.0, 2.0, 2.0]
    a = ember.zeros(2, 3)
    assert tuple(ember.resize_as_(ember.zeros(6), a).shape) == (2, 3)
    v = ember.arange(6.0)
    assert ember.as_strided_(v, (2, 2), (1, 2)).tolist() == [[0.0, 2.0], [1.0, 3.0]]
    y = ember.ones(2)
    ember.addmv_(y, ember.ones(2, 3), ember.ones(3))
    assert y.tolist() == [4.0, 4.0]
    cap = ember.to_dlpack(ember.arange(3))
    assert torch.utils.dlpack.from_dlpack(cap).tolist() == [0, 1, 2]
