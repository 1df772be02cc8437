"""The Tensor surface against PyTorch: operators, Python protocols, metadata, conversions."""

from __future__ import annotations

import copy
import operator
import pickle

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, to_numpy, torch


def _close(e, t):
    """ember result vs torch result: same type of thing, dtype, shape and values."""
    if torch is not None and isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"expected a Tensor, got {type(e).__name__}"
        assert str(e.dtype) == str(t.dtype), f"dtype {e.dtype} != torch's {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-6)
    else:
        assert type(e) is type(t), f"{type(e).__name__} != torch's {type(t).__name__}"
        assert e == t


def _pair(values, dtype=None):
    e = ember.tensor(values, dtype=None if dtype is None else getattr(ember, dtype))
    t = torch.tensor(values, dtype=None if dtype is None else getattr(torch, dtype))
    return e, t


# -- Python operators ---------------------------------------------------------------------------

ARITH = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow"]
BITS = ["and_", "or_", "xor", "lshift", "rshift"]
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"]

A = [[1.5, -2.0, 3.0], [0.5, 4.0, -1.25]]
B = [[2.0, 0.5, -3.0], [1.5, 2.0, 4.0]]
INTS_A = [[5, 12, 7], [1, 9, 3]]
INTS_B = [[1, 2, 3], [2, 1, 1]]


@needs_torch
@pytest.mark.parametrize("name", ARITH + COMPARE)
def test_operator_tensor_tensor_matches_torch(name):
    f = getattr(operator, name)
    ea, ta = _pair(A)
    eb, tb = _pair(B)
    _close(f(ea, eb), f(ta, tb))


@needs_torch
@pytest.mark.parametrize("name", ARITH + COMPARE)
@pytest.mark.parametrize("scalar", [2, 2.5, np.float64(2.5), np.float32(1.5), np.int64(3)],
                         ids=["int", "float", "np.float64", "np.float32", "np.int64"])
def test_operator_with_scalars_and_reflected(name, scalar):
    f = getattr(operator, name)
    ea, ta = _pair([[1.5, 2.0, 3.0], [0.5, 4.0, 1.25]])
    _close(f(ea, scalar), f(ta, scalar))
    _close(f(scalar, ea), f(scalar, ta))


@needs_torch
@pytest.mark.parametrize("name", ARITH)
def test_operator_int_tensor_with_float_scalar_promotes(name):
    f = getattr(operator, name)
    ea, ta = _pair(INTS_A)
    _close(f(ea, 2.5), f(ta, 2.5))
    _close(f(ea, 2), f(ta, 2))
    _close(f(3, ea), f(3, ta))


@needs_torch
@pytest.mark.parametrize("name", ARITH + COMPARE)
def test_operator_with_zero_dim_tensor(name):
    f = getattr(operator, name)
    ea, ta = _pair(INTS_A, "int32")
    e0, t0 = _pair(2.0, "float64")          # 0-d float64: int32 tensor -> default float32
    _close(f(ea, e0), f(ta, t0))
    _close(f(e0, ea), f(t0, ta))
    e1, t1 = _pair([1.5, 2.5, 0.5], "float32")
    e2, t2 = _pair(3, "int64")               # 0-d int64 keeps the float32 of the other
    _close(f(e1, e2), f(t1, t2))


@needs_torch
@pytest.mark.parametrize("name", BITS)
def test_bitwise_operators(name):
    f = getattr(operator, name)
    ea, ta = _pair(INTS_A)
    eb, tb = _pair(INTS_B)
    _close(f(ea, eb), f(ta, tb))
    _close(f(ea, 1), f(ta, 1))
    _close(f(3, eb), f(3, tb))


@needs_torch
@pytest.mark.parametrize("name", ["and_", "or_", "xor"])
def test_bool_operators(name):
    f = getattr(operator, name)
    ea, ta = _pair([True, False, True])
    eb, tb = _pair([True, True, False])
    _close(f(ea, eb), f(ta, tb))
    _close(f(ea, True), f(ta, True))


@needs_torch
def test_unary_operators():
    ea, ta = _pair(A)
    _close(-ea, -ta)
    _close(+ea, +ta)
    _close(abs(ea), abs(ta))
    ei, ti = _pair(INTS_A)
    _close(~ei, ~ti)
    eb, tb = _pair([True, False])
    _close(~eb, ~tb)


@needs_torch
def test_matmul_operator_and_reflected_numpy():
    ea, ta = _pair(A)
    eb, tb = _pair(B)
    _close(ea @ eb.T, ta @ tb.T)
    c, tc = ea.clone(), ta.clone()
    c @= eb.T                       # torch rebinds to the (2, 2) product: not in place
    tc @= tb.T
    _close(c, tc)
    sq, tsq = _pair([[1.0, 2.0], [3.0, 4.0]])
    d, td = sq.clone(), tsq.clone()
    d @= sq
    td @= tsq
    _close(d, td)


@needs_torch
@pytest.mark.parametrize("name", ["iadd", "isub", "imul", "itruediv", "ifloordiv", "imod",
                                  "ipow"])
def test_inplace_operators_keep_identity(name):
    f = getattr(operator, name)
    ea, ta = _pair([[1.5, 2.0, 3.0], [0.5, 4.0, 1.25]])
    eb, tb = _pair([[2.0, 0.5, 3.0], [1.5, 2.0, 4.0]])
    before = ea
    ea = f(ea, eb)
    ta = f(ta, tb)
    assert ea is before
    _close(ea, ta)
    ea = f(ea, 2)
    ta = f(ta, 2)
    assert ea is before
    _close(ea, ta)


@needs_torch
@pytest.mark.parametrize("name", ["iand", "ior", "ixor", "ilshift", "irshift"])
def test_inplace_bitwise_operators(name):
    f = getattr(operator, name)
    ea, ta = _pair(INTS_A)
    before = ea
    ea = f(ea, 1)
    ta = f(ta, 1)
    assert ea is before
    _close(ea, ta)


def test_inplace_int_tensor_float_result_errors():
    x = ember.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x += 1.5


@needs_torch
@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept:DeprecationWarning")  # torch's
def test_tensor_with_numpy_array_operand():
    # An ndarray on the right works (torch lets NumPy compute, then wraps: float64 here).
    _close(ember.ones(2) + np.array([1.0, 2.0]), torch.ones(2) + np.array([1.0, 2.0]))


@needs_torch
def test_operator_with_unsupported_type_raises_typeerror():
    for lib in (torch, ember):
        x = lib.ones(2)
        with pytest.raises(TypeError):
            x + "a"
    x = ember.ones(2)
    for other in (None, "a", object(), [1, 2], (1, 2)):
        assert (x == other) is (torch.ones(2) == other) is False
        assert (x != other) is True


def test_comparisons_return_bool_tensors():
    x = ember.tensor([1.0, 2.0, 3.0])
    for r in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, 2 < x, 2.0 == x):
        assert r.dtype is ember.bool
        assert r.shape == (3,)
    assert (x > 1.5).tolist() == [False, True, True]
    assert (1.5 > x).tolist() == [True, False, False]


# -- Python protocols ---------------------------------------------------------------------------

def test_bool_of_one_element_only():
    assert bool(ember.tensor([3.0])) is True
    assert bool(ember.tensor(0)) is False
    assert bool(ember.tensor([[True]])) is True
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(ember.ones(2))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(ember.ones(0))


def test_bool_of_empty_tensor_message_matches_torch():
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(ember.ones(0))


def test_len_and_iteration():
    x = ember.arange(6).reshape(3, 2)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3
    assert all(isinstance(r, ember.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    assert [v.item() for v in ember.tensor([4, 5])] == [4, 5]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ember.tensor(1.0))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(ember.tensor(1.0))


def test_iteration_rows_are_views():
    x = ember.zeros(2, 3)
    for row in x:
        row.add_(1)
    assert x.tolist() == [[1.0] * 3] * 2


def test_contains():
    x = ember.tensor([[1, 2], [3, 4]])
    assert 3 in x
    assert 7 not in x
    assert 2.0 in x
    assert ember.tensor(4) in x
    assert ember.tensor([1, 2]) in x
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
        "a" in x


def test_hash_is_identity_and_tensors_are_dict_keys():
    a, b = ember.ones(2), ember.ones(2)
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"
    assert hash(a) != hash(b)
    assert a in {a} and b not in {a}


def test_int_float_complex_of_one_element():
    assert int(ember.tensor([2.7])) == 2
    assert int(ember.tensor(-2.7)) == -2
    assert float(ember.tensor([[3]])) == 3.0
    assert isinstance(float(ember.tensor(3)), float)
    assert complex(ember.tensor(1.5)) == 1.5 + 0j


def test_int_of_many_elements_raises_like_torch():
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        int(ember.ones(2))
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        float(ember.ones(2))


def test_index_protocol():
    items = ["a", "b", "c"]
    assert items[ember.tensor(1)] == "b"
    assert items[ember.tensor([2])] == "c"
    assert "abc"[ember.tensor(0, dtype=ember.int32)] == "a"
    assert list(range(10))[ember.tensor(2):ember.tensor(5)] == [2, 3, 4]
    assert np.arange(5)[ember.tensor(3)] == 3
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        items[ember.tensor(1.0)]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        items[ember.tensor([0, 1])]


@needs_torch
@pytest.mark.parametrize("spec", [".3f", "8.2f", ".2e", ">10"])
def test_format_zero_dim(spec):
    assert format(ember.tensor(3.14159), spec) == format(torch.tensor(3.14159), spec)


@needs_torch
def test_format_zero_dim_empty_spec_is_the_number():
    assert f"{ember.tensor(3)}" == f"{torch.tensor(3)}" == "3"
    assert f"{ember.tensor(2.5)}" == f"{torch.tensor(2.5)}" == "2.5"


@needs_torch
def test_format_int_zero_dim_and_errors():
    assert f"{ember.tensor(7):4d}" == f"{torch.tensor(7):4d}"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{ember.tensor([1.0]):.3f}"
    assert f"{ember.tensor([1.0, 2.0])}" == repr(ember.tensor([1.0, 2.0]))


# -- metadata ---------------------------------------------------------------------------------

def test_size_shape_and_size_type():
    x = ember.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.shape == (2, 3, 4)
    assert isinstance(x.size(), ember.Size) and isinstance(x.shape, tuple)
    assert x.size(1) == 3 and x.size(-1) == 4
    assert repr(x.shape) == "torch.Size([2, 3, 4])"
    assert repr(ember.tensor(1.0).shape) == "torch.Size([])"
    assert x.shape.numel() == 24 and ember.Size([]).numel() == 1
    assert isinstance(x.shape[1:], ember.Size) and x.shape[1:] == (3, 4)
    assert isinstance(x.shape + (5,), ember.Size)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)
    assert pickle.loads(pickle.dumps(x.shape)) == (2, 3, 4)


def test_size_reflected_add_is_size():
    assert isinstance((1,) + ember.Size([2, 3]), ember.Size)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "bool", "float16",
                                   "bfloat16", "complex64", "uint8"])
def test_dims_and_sizes_in_bytes(dtype):
    e = ember.zeros(3, 5, dtype=getattr(ember, dtype))
    t = torch.zeros(3, 5, dtype=getattr(torch, dtype))
    for name in ("dim", "numel", "nelement", "element_size", "ndimension"):
        assert getattr(e, name)() == getattr(t, name)(), name
    for name in ("ndim", "itemsize", "nbytes"):
        assert getattr(e, name) == getattr(t, name), name
    assert e.is_floating_point() == t.is_floating_point()
    assert e.is_complex() == t.is_complex()
    assert e.is_signed() == t.is_signed()


@needs_torch
def test_strides_contiguity_and_storage_offset_of_views():
    e = ember.arange(24).reshape(2, 3, 4)
    t = torch.arange(24).reshape(2, 3, 4)
    views = [lambda x: x, lambda x: x.transpose(0, 2), lambda x: x[1], lambda x: x[:, 1:, ::2],
             lambda x: x[1, 2], lambda x: x.permute(1, 0, 2)[1:]]
    for v in views:
        ev, tv = v(e), v(t)
        assert ev.stride() == tv.stride()
        assert ev.is_contiguous() == tv.is_contiguous()
        assert ev.storage_offset() == tv.storage_offset()
        assert ev.data_ptr() - e.data_ptr() == (tv.data_ptr() - t.data_ptr())
        for d in range(ev.dim()):
            assert ev.stride(d) == tv.stride(d)
            assert ev.stride(-1 - d) == tv.stride(-1 - d)


def test_data_ptr_is_numpy_address():
    x = ember.zeros(3)
    assert x.data_ptr() == np.asarray(x).__array_interface__["data"][0]
    assert x[1:].data_ptr() == x.data_ptr() + 4


def test_data_shares_memory_but_not_version_or_graph():
    x = ember.ones(3, requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None
    v = x._version
    d.add_(1)                                   # allowed: .data leaves autograd out
    assert x.tolist() == [2.0, 2.0, 2.0]
    assert x._version == v
    y = x * 2
    y.data.zero_()
    assert y.tolist() == [0.0, 0.0, 0.0]


def test_data_setter_swaps_storage():
    x = ember.ones(2)
    x.data = ember.zeros(2)
    assert x.tolist() == [0.0, 0.0]


@needs_torch
def test_transpose_properties():
    e, t = _pair(A)
    _close(e.T, t.T)
    _close(e.mT, t.mT)
    e3 = ember.arange(24.0).reshape(2, 3, 4)
    t3 = torch.arange(24.0).reshape(2, 3, 4)
    _close(e3.mT, t3.mT)
    assert np.shares_memory(np.asarray(e.T), np.asarray(e))
    with pytest.raises(RuntimeError, match="only supported on matrices"):
        ember.ones(3).mT


@needs_torch
def test_real_and_imag():
    e, t = _pair([1 + 2j, 3 - 1j])
    _close(e.real, t.real)
    _close(e.imag, t.imag)
    e.real.mul_(2)                              # views: writes reach the complex tensor
    assert e.tolist() == [2 + 2j, 6 - 1j]
    ef, tf = _pair([1.0, 2.0])
    _close(ef.real, tf.real)
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        ef.imag


# -- conversion -------------------------------------------------------------------------------

def test_item_and_tolist():
    assert ember.tensor([[2.5]]).item() == 2.5
    assert isinstance(ember.tensor(3).item(), int)
    assert isinstance(ember.tensor(True).item(), bool)
    assert ember.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert ember.tensor(1.5).tolist() == 1.5
    assert ember.tensor([1.5], dtype=ember.bfloat16).tolist() == [1.5]
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted"):
        ember.ones(2).item()


def test_numpy_shares_memory_and_refuses_requires_grad():
    x = ember.zeros(3)
    a = x.numpy()
    a[0] = 5
    assert x[0].item() == 5
    y = ember.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires"):
        y.numpy()
    assert y.detach().numpy().tolist() == [1.0, 1.0]
    assert y.numpy(force=True).tolist() == [1.0, 1.0]


@needs_torch
@pytest.mark.parametrize("method", ["float", "double", "half", "bfloat16", "int", "long",
                                    "short", "char", "byte", "bool", "cfloat", "cdouble"])
def test_cast_methods(method):
    e, t = _pair([[1.5, -2.0], [0.0, 3.25]])
    _close(getattr(e, method)(), getattr(t, method)())


@needs_torch
def test_type_method():
    e, t = _pair([1.5, 2.0])
    assert e.type() == t.type() == "torch.FloatTensor"
    assert ember.tensor([1]).type() == "torch.LongTensor"
    for arg in ("torch.DoubleTensor", "torch.IntTensor", "torch.BoolTensor"):
        _close(e.type(arg), t.type(arg))
    _close(e.type(ember.int64), t.type(torch.int64))
    with pytest.raises(ValueError, match="invalid type"):
        e.type("foo")


@needs_torch
def test_cast_is_noop_for_same_dtype():
    e = ember.ones(2)
    assert e.float() is e and e.to(ember.float32) is e


def test_array_protocol():
    x = ember.arange(6.0).reshape(2, 3)
    a = np.asarray(x)
    assert a.dtype == np.float32 and a.shape == (2, 3)
    assert np.shares_memory(a, x.numpy())
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert np.array(x).tolist() == x.tolist()
    assert np.add(x, 1).tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_array_interface():
    x = ember.arange(6, dtype=ember.int32)[1:]
    ai = x.__array_interface__
    assert ai["shape"] == (5,) and ai["typestr"] == "<i4"
    assert ai["data"][0] == x.data_ptr()

    class Holder:                       # a consumer that only knows the interface dict
        __array_interface__ = ai
    view = np.asarray(Holder())
    view[0] = 100
    assert x[0].item() == 100


# -- construction and types -------------------------------------------------------------------

@needs_torch
def test_legacy_constructor():
    e = ember.Tensor(2, 3)
    assert e.shape == (2, 3) and e.dtype is ember.float32
    _close(ember.Tensor([1, 2]), torch.Tensor([1, 2]))
    _close(ember.Tensor((1.5, 2)), torch.Tensor((1.5, 2)))
    _close(ember.Tensor(np.arange(3)), torch.Tensor(np.arange(3)))
    assert ember.Tensor(ember.Size([4, 1])).shape == (4, 1)
    src = ember.ones(2)
    assert ember.Tensor(src) is src


@needs_torch
def test_legacy_constructor_without_arguments_is_empty():
    _close(ember.Tensor(), torch.Tensor())


def test_isinstance_and_subclass():
    x = ember.ones(2)
    assert isinstance(x, ember.Tensor)
    assert isinstance(x * 2, ember.Tensor)
    assert isinstance(x.shape, ember.Size)
    assert not isinstance(np.ones(2), ember.Tensor)


def test_deepcopy_copies_data_and_keeps_requires_grad():
    x = ember.ones(3, requires_grad=True)
    x.tag = "keep me"
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.is_leaf and y.tag == "keep me"
    with ember.no_grad():
        y.add_(1)
    assert x.tolist() == [1.0] * 3
    pair = copy.deepcopy([x, x])                 # memo: one copy shared
    assert pair[0] is pair[1]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "bfloat16",
                                   "complex64"])
def test_pickle_roundtrip(dtype):
    x = ember.tensor([[1, 0], [3, 1]], dtype=getattr(ember, dtype))
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype is x.dtype and y.shape == x.shape and y.device == x.device
    assert (y == x).all().item()
    assert y.data_ptr() != x.data_ptr()


def test_copy_copy_shares_memory_like_torch():
    x = ember.ones(3)
    y = copy.copy(x)
    assert y is not x and y.data_ptr() == x.data_ptr()


def test_pickle_keeps_requires_grad():
    x = ember.ones(2, 3, requires_grad=True)
    y = pickle.loads(pickle.dumps(x))
    assert y.requires_grad and y.is_leaf and y.tolist() == x.tolist()
    v = pickle.loads(pickle.dumps(ember.arange(12).reshape(3, 4)[:, 1]))
    assert v.tolist() == [1, 5, 9]


def test_pickle_keeps_user_attributes_like_torch():
    x = ember.ones(2)
    x.name = "w"
    assert pickle.loads(pickle.dumps(x)).name == "w"


@needs_torch
def test_pickle_non_leaf_like_torch():
    # torch pickles a non-leaf as a new leaf with the values and requires_grad=True.
    t = torch.ones(2, requires_grad=True) * 2
    tz = pickle.loads(pickle.dumps(t))
    z = pickle.loads(pickle.dumps(ember.ones(2, requires_grad=True) * 2))
    assert z.tolist() == tz.tolist() and z.requires_grad == tz.requires_grad
    assert z.grad_fn is None and tz.grad_fn is None


# -- dtypes -------------------------------------------------------------------------------------

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
          "uint8", "bool", "complex64", "complex128"]


@needs_torch
@pytest.mark.parametrize("name", DTYPES)
def test_dtype_objects_match_torch(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert repr(e) == repr(t) == f"torch.{name}"
    assert str(e) == str(t)
    assert e.is_floating_point == t.is_floating_point
    assert e.is_complex == t.is_complex
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize
    assert pickle.loads(pickle.dumps(e)) is e
    assert copy.deepcopy(e) is e
    assert {e: 1}[e] == 1


@needs_torch
@pytest.mark.parametrize("alias", ["half", "float", "double", "short", "int", "long", "cfloat",
                                   "cdouble"])
def test_dtype_aliases(alias):
    assert repr(getattr(ember, alias)) == repr(getattr(torch, alias))


def test_dtype_of_tensors_is_the_singleton():
    assert ember.ones(2).dtype is ember.float32
    assert ember.tensor([1]).dtype is ember.int64
    assert ember.tensor([True]).dtype is ember.bool
    assert ember.ones(2, dtype=ember.double).dtype is ember.float64


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the no-CUDA error")
def test_pin_memory_needs_an_accelerator():
    x = ember.ones(2)
    assert x.is_pinned() is False
    with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
        x.pin_memory()
