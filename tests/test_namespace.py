"""The torch namespace's small pieces: finfo/iinfo, layouts and memory formats, legacy tensor
types, constants, torch.backends flags and torch.version."""

import math
import pickle

import pytest

import ember
from tests.oracle import needs_torch, torch

FLOATS = ["bfloat16", "float16", "float32", "float64", "complex64", "complex128"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@needs_torch
@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    ours, theirs = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


@needs_torch
@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    ours, theirs = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max,
                                                           theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_finfo_default_and_errors():
    assert ember.finfo() == ember.finfo(ember.float32)
    ember.set_default_dtype(ember.float64)
    try:
        assert ember.finfo().dtype == "float64"
    finally:
        ember.set_default_dtype(ember.float32)
    assert ember.finfo(ember.float32).eps == 2.0 ** -23
    with pytest.raises(TypeError, match="requires a floating point input type"):
        ember.finfo(ember.int32)
    with pytest.raises(TypeError, match="requires an integer input type"):
        ember.iinfo(ember.float32)
    with pytest.raises(TypeError, match="torch.bool is not supported by torch.iinfo"):
        ember.iinfo(ember.bool)
    with pytest.raises(TypeError, match="unhashable"):
        hash(ember.finfo())


def test_layout_and_memory_format():
    assert repr(ember.strided) == "torch.strided" and ember.ones(2).layout is ember.strided
    assert isinstance(ember.channels_last, ember.memory_format)
    assert isinstance(ember.sparse_coo, ember.layout)
    for obj in (ember.channels_last, ember.preserve_format, ember.strided):
        assert pickle.loads(pickle.dumps(obj)) is obj
    x = ember.arange(24.0).reshape(1, 2, 3, 4).contiguous(memory_format=ember.channels_last)
    assert x.stride() == (24, 1, 8, 2) and x.is_contiguous(memory_format=ember.channels_last)


def test_constants():
    assert ember.pi == math.pi and ember.e == math.e
    assert ember.inf == math.inf and math.isnan(ember.nan) and ember.newaxis is None


def test_legacy_tensor_types():
    x = ember.LongTensor([1, 2])
    assert x.dtype is ember.int64 and x.tolist() == [1, 2]
    assert ember.FloatTensor(2, 3).shape == (2, 3)
    assert ember.FloatTensor(ember.Size([4])).shape == (4,)
    assert ember.DoubleTensor().shape == (0,) and ember.DoubleTensor().dtype is ember.float64
    assert ember.BoolTensor([1, 0]).tolist() == [True, False]
    f = ember.ones(3)
    alias = ember.FloatTensor(f)
    assert alias.data_ptr() == f.data_ptr()
    assert isinstance(f, ember.FloatTensor) and not isinstance(f, ember.LongTensor)
    assert not isinstance(f, ember.cuda.FloatTensor)
    assert f.type(ember.LongTensor).dtype is ember.int64
    assert repr(ember.FloatTensor) == "<class 'torch.FloatTensor'>"
    assert repr(ember.cuda.HalfTensor) == "<class 'torch.cuda.HalfTensor'>"
    with pytest.raises(TypeError, match="expected torch.LongTensor"):
        ember.LongTensor(f)
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu"):
        ember.FloatTensor(2, device="cuda")


@needs_torch
def test_legacy_type_names_match_torch():
    ours = sorted(n for n in dir(ember) if n.endswith("Tensor") and n != "Tensor")
    theirs = sorted(n for n in dir(torch) if n.endswith("Tensor") and n != "Tensor"
                    and isinstance(getattr(torch, n), type))
    assert ours == theirs


def test_backends_flags():
    assert ember.backends.cudnn.enabled and not ember.backends.cudnn.benchmark
    assert ember.backends.mps.is_available() is False
    try:
        ember.backends.cuda.matmul.allow_tf32 = True
        assert ember.get_float32_matmul_precision() == "high"
        ember.set_float32_matmul_precision("highest")
        assert ember.backends.cuda.matmul.allow_tf32 is False
    finally:
        ember.set_float32_matmul_precision("highest")


def test_version():
    assert ember.version.__version__ == ember.__version__
    assert ember.version.cuda is None or isinstance(ember.version.cuda, str)
