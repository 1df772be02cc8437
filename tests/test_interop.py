"""Other array libraries read ember tensors without copies, and ember reads theirs:
__array__, __array_interface__, DLPack (both ways, incl. capsules), from_numpy, pickle."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import ember
from ember.backends.interop import from_dlpack, to_dlpack
from tests.oracle import needs_torch, torch

DLPACK_DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
                 "bool", "complex64", "complex128"]


def test_from_dlpack_is_exported():
    assert ember.from_dlpack is from_dlpack


@pytest.mark.parametrize("dtype", DLPACK_DTYPES)
def test_from_dlpack_numpy_shares_memory(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = from_dlpack(a)
    assert isinstance(t, ember.Tensor) and t.dtype is getattr(ember, dtype)
    assert t.shape == (2, 3) and not t.requires_grad
    assert np.shares_memory(np.asarray(t), a)
    if dtype != "bool":
        a[0, 0] = 5
        assert t[0, 0].item() == 5
        t.fill_(1)
        assert a[1, 2] == 1


def test_from_dlpack_of_strided_numpy_view():
    a = np.arange(12.0).reshape(3, 4)[:, 1::2]
    t = from_dlpack(a)
    assert t.tolist() == a.tolist()
    assert t.stride() == (4, 2)
    assert np.shares_memory(np.asarray(t), a)


@pytest.mark.parametrize("dtype", DLPACK_DTYPES)
def test_numpy_from_dlpack_of_tensor_shares_memory(dtype):
    t = ember.arange(6).reshape(2, 3).to(getattr(ember, dtype))
    a = np.from_dlpack(t)
    assert a.dtype == t.dtype.np and a.shape == (2, 3)
    assert np.shares_memory(a, t.numpy())


def test_numpy_from_dlpack_of_tensor_is_writable_like_torchs():
    # A versioned (DLPack 1.0) capsule carries the writable flag; a legacy one makes NumPy
    # give a read-only array. torch hands NumPy versioned capsules: so must ember.
    t = ember.zeros(3)
    a = np.from_dlpack(t)
    assert a.flags.writeable
    a[0] = 1
    assert t[0].item() == 1


def test_tensor_dlpack_roundtrip_through_capsule():
    t = ember.arange(4.0)
    cap = to_dlpack(t)
    u = from_dlpack(cap)
    u.mul_(2)
    assert t.tolist() == [0.0, 2.0, 4.0, 6.0]
    with pytest.raises(RuntimeError, match="consumed only once"):
        from_dlpack(cap)


def test_from_dlpack_of_tensor_shares_memory():
    t = ember.zeros(3)
    u = from_dlpack(t)
    assert u is not t
    u.add_(2)
    assert t.tolist() == [2.0, 2.0, 2.0]


def test_dlpack_device_of_cpu_tensor():
    assert tuple(ember.ones(1).__dlpack_device__()) == (1, 0)


def test_from_dlpack_rejects_non_producers():
    with pytest.raises(TypeError, match="from_dlpack"):
        from_dlpack([1, 2, 3])


def test_dlpack_export_refuses_requires_grad_like_torch():
    x = ember.ones(2, requires_grad=True)
    with pytest.raises((BufferError, RuntimeError), match="require gradient"):
        x.__dlpack__()
    assert np.from_dlpack(x.detach()).tolist() == [1.0, 1.0]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool", "complex64"])
def test_dlpack_with_torch_both_ways(dtype):
    tt = torch.arange(6).reshape(2, 3).to(getattr(torch, dtype))
    e = from_dlpack(tt)
    assert str(e.dtype) == str(tt.dtype) and e.shape == (2, 3)
    assert e.data_ptr() == tt.data_ptr()
    back = torch.from_dlpack(e)
    assert back.data_ptr() == e.data_ptr() and back.dtype == tt.dtype
    assert torch.equal(back, tt)
    if dtype not in ("bool",):
        e.fill_(3)
        assert tt[0, 0].item() == 3


@needs_torch
def test_dlpack_with_torch_capsules():
    tt = torch.arange(3.0)
    e = from_dlpack(torch.utils.dlpack.to_dlpack(tt))
    assert e.data_ptr() == tt.data_ptr()
    back = torch.utils.dlpack.from_dlpack(to_dlpack(ember.arange(3.0)))
    assert back.tolist() == [0.0, 1.0, 2.0]


@needs_torch
def test_dlpack_of_noncontiguous_torch_view():
    tt = torch.arange(12.0).reshape(3, 4).t()
    e = from_dlpack(tt)
    assert e.stride() == tt.stride() and e.tolist() == tt.tolist()


# -- NumPy protocols ---------------------------------------------------------------------------

def test_asarray_keeps_bfloat16():
    t = ember.tensor([1.5, -2.0], dtype=ember.bfloat16)
    a = np.asarray(t)
    assert a.dtype == ember.bfloat16.np
    assert a.astype(np.float32).tolist() == [1.5, -2.0]


def test_asarray_shares_memory_and_casts_on_request():
    t = ember.arange(4.0)
    a = np.asarray(t)
    a[0] = 9
    assert t[0].item() == 9
    b = np.asarray(t, dtype=np.int32)
    assert b.dtype == np.int32 and b.tolist() == [9, 1, 2, 3]
    assert np.array(t, copy=True) is not t.numpy()


def test_array_interface_describes_the_memory():
    t = ember.arange(10, dtype=ember.int16).reshape(2, 5)[:, 1:4]
    ai = t.__array_interface__
    assert ai["shape"] == (2, 3)
    assert ai["typestr"] == "<i2"
    assert ai["strides"] in (None, (10, 2))
    assert ai["data"][0] == t.data_ptr()


def test_numpy_ufuncs_accept_tensors():
    t = ember.tensor([1.0, 4.0, 9.0])
    assert np.sqrt(t).tolist() == [1.0, 2.0, 3.0]
    assert float(np.dot(np.asarray(t), np.ones(3))) == 14.0


def test_from_numpy_shares_memory_both_ways():
    a = np.zeros((2, 2), dtype=np.float32)
    t = ember.from_numpy(a)
    t.add_(1)
    assert a.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    a[0, 0] = 7
    assert t[0, 0].item() == 7


# -- pickling ----------------------------------------------------------------------------------

def test_pickle_protocols_and_nested_containers():
    x = ember.arange(6.0).reshape(2, 3)
    for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
        y = pickle.loads(pickle.dumps({"w": x, "b": [x[0]]}, protocol=proto))
        assert y["w"].tolist() == x.tolist()
        assert y["b"][0].tolist() == [0.0, 1.0, 2.0]


@needs_torch
def test_pickled_tensor_values_match_torch():
    x = ember.tensor([[1.5, -2.0]], dtype=ember.float64, requires_grad=True)
    t = torch.tensor([[1.5, -2.0]], dtype=torch.float64, requires_grad=True)
    ex, tx = pickle.loads(pickle.dumps(x)), pickle.loads(pickle.dumps(t))
    assert ex.tolist() == tx.tolist()
    assert ex.requires_grad == tx.requires_grad
    assert str(ex.dtype) == str(tx.dtype)
