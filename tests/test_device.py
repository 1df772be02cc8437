"""ember.device, default devices and ember.cuda without (or with) a GPU."""

from __future__ import annotations

import copy
import pickle

import pytest

import ember
from ember.backends import cupy_backend
from tests.oracle import needs_torch, torch

HAS_GPU = ember.cuda.is_available()
no_gpu = pytest.mark.skipif(HAS_GPU, reason="checks the behaviour without a CUDA device")


# -- ember.device -------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:0",), ("cuda:3",), ("cuda", 1),
                                  ("cpu", 0), ("meta",)])
def test_device_parsing_matches_torch(args):
    e, t = ember.device(*args), torch.device(*args)
    assert e.type == t.type and e.index == t.index
    assert repr(e) == repr(t)
    assert str(e) == str(t)


@needs_torch
@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cuda:-1", "cuda:0:1", "cpu:"])
def test_device_parsing_errors_match_torch(bad):
    with pytest.raises(RuntimeError) as want:
        torch.device(bad)
    with pytest.raises(RuntimeError) as got:
        ember.device(bad)
    if "Invalid device string" in str(want.value):
        assert "Invalid device string" in str(got.value)


def test_device_negative_index_and_bad_type():
    with pytest.raises(RuntimeError, match="Device index must not be negative"):
        ember.device("cuda", -1)
    with pytest.raises(RuntimeError, match="must not include an index"):
        ember.device("cuda:0", 1)
    with pytest.raises(TypeError):
        ember.device(1.5)


def test_device_keywords_and_copy_construction():
    assert ember.device(type="cuda", index=2) == ember.device("cuda:2")
    d = ember.device("cuda:1")
    assert ember.device(d) == d


@needs_torch
def test_device_equality_and_strings_like_torch():
    for name in ("cpu", "cuda:0", "cuda"):
        assert (ember.device(name) == name) == (torch.device(name) == name)
        assert (ember.device(name) != name) == (torch.device(name) != name)
    assert ember.device("cpu") == ember.device("cpu")
    assert ember.device("cuda:0") != ember.device("cuda")
    assert ember.device("cuda:0") != ember.device("cuda:1")
    assert ember.device("cpu").type == "cpu"


def test_device_hash_pickle_and_copy():
    d = ember.device("cuda", 1)
    assert {d: 1}[ember.device("cuda:1")] == 1
    assert len({ember.device("cpu"), ember.device("cpu"), ember.device("cuda:0")}) == 2
    for obj in (ember.device("cpu"), d, ember.device("cuda")):
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert copy.deepcopy(obj) == obj


def test_tensor_device_and_flags_on_cpu():
    x = ember.ones(2)
    assert x.device == ember.device("cpu") and x.device.type == "cpu"
    assert x.is_cpu and not x.is_cuda
    assert x.get_device() == -1


# -- default device ---------------------------------------------------------------------------

def test_with_device_sets_factory_default():
    assert ember.get_default_device() == ember.device("cpu")
    with ember.device("cpu") as d:
        assert d == ember.device("cpu")
        assert ember.zeros(2).device.type == "cpu"
    assert ember.get_default_device().type == "cpu"


@pytest.mark.skipif(not HAS_GPU, reason="needs cuda")
def test_with_cuda_device_and_nested():
    with ember.device("cuda"):
        assert ember.zeros(2).is_cuda
        assert ember.tensor([1.0]).is_cuda
        with ember.device("cpu"):
            assert ember.ones(1).is_cpu
        assert ember.ones(1).is_cuda
    assert ember.ones(1).is_cpu


def test_set_default_device_and_reset():
    try:
        ember.set_default_device("cpu")
        assert ember.get_default_device() == ember.device("cpu")
        ember.set_default_device(ember.device("meta"))
        assert ember.get_default_device().type == "meta"
    finally:
        ember.set_default_device(None)
    assert ember.get_default_device() == ember.device("cpu")
    assert ember.ones(1).is_cpu


def test_with_device_restores_after_exception():
    with pytest.raises(ValueError), ember.device("meta"):
        raise ValueError
    assert ember.get_default_device() == ember.device("cpu")


# -- cuda without a GPU -------------------------------------------------------------------------

def test_cuda_queries_never_raise():
    assert isinstance(ember.cuda.is_available(), bool)
    assert isinstance(ember.cuda.device_count(), int)
    assert isinstance(ember.cuda.is_bf16_supported(), bool)
    ember.cuda.manual_seed(0)
    ember.cuda.manual_seed_all(0)
    ember.cuda.synchronize()
    ember.cuda.empty_cache()
    assert isinstance(ember.cuda.is_initialized(), bool)


@no_gpu
def test_cuda_unavailable_here():
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0


@no_gpu
def test_cuda_tensor_raises_clear_error_without_gpu():
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|NVIDIA"):
        ember.ones(2).cuda()
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|NVIDIA"):
        ember.zeros(2, device="cuda")
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|NVIDIA"):
        ember.ones(2).to("cuda:0")
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|NVIDIA"):
        ember.cuda.current_device()


@no_gpu
def test_cuda_error_without_cupy_is_torchs():
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            ember.tensor([1.0], device="cuda")
    else:
        pytest.skip("CuPy is installed here")


@no_gpu
def test_no_bfloat16_on_cuda_without_gpu():
    assert ember.cuda.is_bf16_supported() is False


def test_check_dtype_names_unsupported_dtypes():
    if not ember.cuda.is_bf16_supported():
        with pytest.raises(TypeError, match="bfloat16 is not supported on cuda"):
            cupy_backend.check_dtype(ember.bfloat16.np)
    import ml_dtypes
    with pytest.raises(TypeError, match="float8_e4m3fn is not supported on cuda"):
        cupy_backend.check_dtype(ml_dtypes.float8_e4m3fn)
    for d in (ember.float16, ember.float32, ember.int64, ember.bool, ember.complex64):
        cupy_backend.check_dtype(d.np)


def test_cuda_device_context_requires_cuda_device():
    with pytest.raises(ValueError, match="Expected a cuda device"):
        ember.cuda.device("cpu")
