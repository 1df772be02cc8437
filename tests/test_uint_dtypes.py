"""uint16, uint32 and uint64: PyTorch's "limited" unsigned dtypes (2.3+).

They promote only with themselves and with floating dtypes; ember computes them with NumPy, so
ops that PyTorch leaves unimplemented for them (add, max, arange, ...) work here (a superset,
checked against NumPy). Where PyTorch works, values, dtypes and errors must match it."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest

import ember
from ember.utils import safetensors as est
from tests.oracle import needs_torch, torch

LIMITED = ["uint16", "uint32", "uint64"]
OTHERS = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]
PROMOTION_ERROR = "Promotion for uint16, uint32, uint64 types is not supported"


def _outcome(call):
    """A comparable summary of a call on either library: dtype and values of a tensor, the
    exception class and message, or the plain result's repr."""
    try:
        r = call()
    except Exception as e:      # noqa: BLE001  (the outcome is the exception itself)
        return ("raises", type(e).__name__, str(e).split("\n")[0][:120])
    if hasattr(r, "dtype") and hasattr(r, "tolist") and not isinstance(r, np.ndarray):
        return ("tensor", repr(r.dtype), r.tolist())
    return ("value", repr(r))


@pytest.mark.parametrize("name", LIMITED)
def test_uint_dtype_attributes(name):
    d = getattr(ember, name)
    bits = int(name[4:])
    assert repr(d) == f"torch.{name}" and str(d) == f"torch.{name}"
    assert (d.is_signed, d.is_floating_point, d.is_complex) == (False, False, False)
    assert d.itemsize == bits // 8
    assert ember.iinfo(d).max == 2 ** bits - 1 and ember.iinfo(d).min == 0
    assert pickle.loads(pickle.dumps(d)) is d
    assert ember._dtype.to_dtype(np.dtype(name)) is d and ember._dtype.to_dtype(name) is d


def test_uint_dtypes_have_no_legacy_tensor_classes():
    assert not any(hasattr(ember, f"UInt{b}Tensor") for b in (16, 32, 64))
    assert not any(hasattr(ember, f"UInt{b}Storage") for b in (16, 32, 64))
    t = ember.tensor([1, 2], dtype=ember.uint32)
    assert t.type() == "torch.UInt32Tensor"
    assert ember.tensor([3]).type("torch.UInt64Tensor").dtype is ember.uint64


@needs_torch
@pytest.mark.parametrize("name", LIMITED)
def test_uint_dtype_attributes_match_torch(name):
    ours, theirs = getattr(ember, name), getattr(torch, name)
    for field in ("is_signed", "itemsize", "is_floating_point", "is_complex"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)
    assert repr(ember.iinfo(ours)) == repr(torch.iinfo(theirs))
    assert ember.tensor([1], dtype=ours).type() == torch.tensor([1], dtype=theirs).type()


@pytest.mark.parametrize("name", LIMITED)
def test_uint_promote_types_table(name):
    d = getattr(ember, name)
    assert ember.promote_types(d, d) is d
    for other in OTHERS + LIMITED:
        o = getattr(ember, other)
        if o is d:
            continue
        for a, b in ((d, o), (o, d)):
            if o.is_floating_point:
                assert ember.promote_types(a, b) is o
            else:
                with pytest.raises(RuntimeError, match=PROMOTION_ERROR):
                    ember.promote_types(a, b)
    legacy = "UInt" + name[4:]
    with pytest.raises(RuntimeError, match=f"attempted to promote {legacy} and Long$"):
        ember.promote_types(d, ember.int64)


@needs_torch
@pytest.mark.parametrize("name", LIMITED)
def test_uint_promote_types_match_torch(name):
    for other in OTHERS + LIMITED:
        for x, y in ((name, other), (other, name)):
            ours = _outcome(lambda x=x, y=y: ember.promote_types(getattr(ember, x),
                                                                getattr(ember, y)))
            theirs = _outcome(lambda x=x, y=y: torch.promote_types(getattr(torch, x),
                                                                  getattr(torch, y)))
            assert ours == theirs, (x, y)


# Calls written once and run against both libraries (`t` is ember or torch): creation,
# conversion, promotion of mixed operands, comparisons, bitwise ops, reductions, indexing.
CALLS = [
    lambda t: t.tensor([1, 2, 3], dtype=t.uint16),
    lambda t: t.tensor([[1, 2 ** 32 - 1]], dtype=t.uint32),
    lambda t: t.tensor([2 ** 64 - 1, 2 ** 63, 0], dtype=t.uint64),
    lambda t: t.tensor(5, dtype=t.uint32),
    lambda t: t.tensor(np.uint32(5)),
    lambda t: t.tensor([np.uint16(5)]),
    lambda t: t.tensor(np.array([7], dtype=np.uint64)),
    lambda t: t.from_numpy(np.array([1, 65535], dtype=np.uint16)),
    lambda t: t.asarray(np.array([1, 2], np.uint64)),
    lambda t: t.zeros(2, 3, dtype=t.uint16),
    lambda t: t.ones(2, dtype=t.uint64),
    lambda t: t.full((2,), 7, dtype=t.uint64),
    lambda t: t.empty(2, dtype=t.uint32).dtype,
    lambda t: t.zeros_like(t.tensor([1, 2], dtype=t.uint32)),
    lambda t: t.ones_like(t.tensor([1, 2], dtype=t.uint16)),
    lambda t: t.full_like(t.tensor([1, 2], dtype=t.uint64), 9),
    lambda t: t.empty_like(t.tensor([1, 2], dtype=t.uint16)).dtype,
    lambda t: t.tensor([1, 2], dtype=t.uint32).new_zeros(3),
    lambda t: t.tensor([1, 2], dtype=t.uint32).new_tensor([4]),
    # conversions
    lambda t: t.tensor([1, 2], dtype=t.uint32).to(t.float32),
    lambda t: t.tensor([1, 2], dtype=t.uint32).to(t.bfloat16),
    lambda t: t.tensor([1, 2], dtype=t.uint32).to(t.complex64),
    lambda t: t.tensor([0, 2], dtype=t.uint32).bool(),
    lambda t: t.tensor([1, 2], dtype=t.uint16).to(t.uint64),
    lambda t: t.tensor([1, 2], dtype=t.uint16).long(),
    lambda t: t.tensor([1, 2], dtype=t.uint16).half(),
    lambda t: t.tensor([1.5, 2.7]).to(t.uint16),
    lambda t: t.tensor([1.5, -1.0]).to(t.uint32),
    lambda t: t.tensor([70000]).to(t.uint16),
    lambda t: t.tensor([-1]).to(t.uint64),
    lambda t: t.tensor([2 ** 64 - 1], dtype=t.uint64).to(t.int64),
    lambda t: t.tensor([2 ** 64 - 1], dtype=t.uint64).to(t.float32),
    lambda t: t.tensor([-1], dtype=t.int32).view(t.uint32),
    lambda t: t.tensor([1, 2], dtype=t.uint32).view(t.int32),
    lambda t: t.tensor([1, 2], dtype=t.uint16).type(t.int32),
    lambda t: t.tensor([1, 2], dtype=t.uint16).numpy().dtype.name,
    lambda t: t.tensor([2 ** 64 - 1], dtype=t.uint64).tolist(),
    lambda t: t.tensor([2 ** 64 - 1], dtype=t.uint64).item(),
    lambda t: type(t.tensor(3, dtype=t.uint32).item()).__name__,
    lambda t: int(t.tensor(3, dtype=t.uint32)),
    lambda t: float(t.tensor([3], dtype=t.uint64)),
    lambda t: t.tensor([1, 2], dtype=t.uint16).element_size(),
    # promotion with scalars and tensors of other dtypes
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), 5),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), 5.0),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), True),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), 1j),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), t.tensor(5)),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), t.tensor(5.0)),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), t.tensor(True)),
    lambda t: t.result_type(t.tensor([5]), t.tensor(5, dtype=t.uint32)),
    lambda t: t.result_type(t.tensor(5, dtype=t.uint32), t.tensor(5)),
    lambda t: t.result_type(t.tensor([True]), t.tensor(5, dtype=t.uint32)),
    lambda t: t.result_type(t.tensor([1.0]), t.tensor(5, dtype=t.uint16)),
    lambda t: t.result_type(t.tensor(5, dtype=t.uint32), 2.5),
    lambda t: t.result_type(t.tensor([1j]), t.tensor([1], dtype=t.uint64)),
    lambda t: t.result_type(t.tensor(5, dtype=t.uint32), t.tensor(5, dtype=t.uint16)),
    lambda t: t.result_type(t.tensor([1], dtype=t.uint32), t.tensor(1j)),
    lambda t: t.result_type(t.tensor(5, dtype=t.uint32), t.tensor([1j])),
    lambda t: t.result_type(t.tensor(5, dtype=t.uint32), t.tensor([2], dtype=t.int8)),
    lambda t: t.result_type(t.tensor([5], dtype=t.uint32), t.tensor(2, dtype=t.float64)),
    lambda t: t.result_type(t.tensor([5], dtype=t.uint64), t.tensor(2, dtype=t.bool)),
    lambda t: t.result_type(t.tensor(5, dtype=t.uint64), True),
    lambda t: t.tensor([1, 2], dtype=t.uint16) * t.tensor([1.0, 2.0], dtype=t.bfloat16),
    lambda t: t.tensor([1, 2], dtype=t.uint32).to(t.float16) + t.tensor([1, 2], dtype=t.uint32),
    lambda t: t.tensor([1, 2], dtype=t.uint16) * t.tensor([1j, 2j]),
    lambda t: t.can_cast(t.uint32, t.int64),
    lambda t: t.can_cast(t.uint32, t.bool),
    lambda t: t.can_cast(t.float32, t.uint32),
    lambda t: t.can_cast(t.int64, t.uint32),
    # ops torch implements for these dtypes
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) * 2.5,
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) / 2,
    lambda t: t.tensor([1, 2], dtype=t.uint32).float() + t.tensor([1, 2], dtype=t.uint32),
    lambda t: t.tensor(2.0) * t.tensor([1, 2], dtype=t.uint64),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) * t.tensor(2),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) + t.tensor([1, 2, 3]),
    lambda t: t.tensor([1, 2], dtype=t.uint16) + t.tensor([1, 2], dtype=t.uint8),
    lambda t: t.tensor([1, 2], dtype=t.uint16) * t.tensor([True, False]),
    lambda t: t.tensor([1, 2], dtype=t.uint16) + t.tensor([1, 2], dtype=t.uint32),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) == t.tensor([1, 0, 3], dtype=t.uint32),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) == 2.0,
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) == t.tensor([1, 2, 3]),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32) | t.tensor([1, 1, 1], dtype=t.uint32),
    lambda t: t.tensor([5, 6], dtype=t.uint64) ^ t.tensor([5, 1], dtype=t.uint64),
    lambda t: t.bitwise_and(t.tensor([1, 2, 3], dtype=t.uint32), 1),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint8).sum(),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint16).sum(),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint64).sum(),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32).sum(dtype=t.float32),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32).prod(),
    lambda t: t.tensor([1, 2, 3], dtype=t.uint32).cumsum(0),
    lambda t: t.tensor([3, 1, 2], dtype=t.uint32).sort()[0],
    lambda t: t.tensor([3, 1, 2], dtype=t.uint32)[t.tensor([0, 2])],
    lambda t: t.tensor([3, 1, 2], dtype=t.uint32)[1:],
    lambda t: t.tensor([[3, 1], [2, 4]], dtype=t.uint64).T.contiguous(),
    lambda t: t.tensor([3, 1, 2], dtype=t.uint16).clone(),
    lambda t: t.cat([t.tensor([1], dtype=t.uint32), t.tensor([2, 3], dtype=t.uint32)]),
    lambda t: t.cat([t.tensor([1], dtype=t.uint32), t.tensor([2], dtype=t.uint16)]),
    lambda t: t.cat([t.tensor([1], dtype=t.uint32), t.tensor([2])]),
    lambda t: t.stack([t.tensor([1], dtype=t.uint16), t.tensor([2], dtype=t.uint16)]),
    lambda t: t.where(t.tensor([True, False]), t.tensor([1, 2], dtype=t.uint32),
                      t.tensor([3, 4], dtype=t.uint32)),
    # printing
    lambda t: repr(t.tensor([1, 2, 3], dtype=t.uint16)),
    lambda t: repr(t.tensor([], dtype=t.uint32)),
    lambda t: repr(t.tensor(5, dtype=t.uint64)),
    lambda t: repr(t.tensor([2 ** 64 - 1, 5], dtype=t.uint64)),
    lambda t: str(t.tensor([[1, 2 ** 40], [3, 4]], dtype=t.uint64)),
    lambda t: str(t.arange(2000).to(t.uint16)),
]


@needs_torch
@pytest.mark.parametrize("index", range(len(CALLS)))
def test_uint_call_matches_torch(index):
    call = CALLS[index]
    assert _outcome(lambda: call(ember)) == _outcome(lambda: call(torch))


def test_uint_promotion_errors_through_dispatch():
    u = ember.tensor([1, 2, 3], dtype=ember.uint32)
    with pytest.raises(RuntimeError, match=f"{PROMOTION_ERROR}, attempted to promote UInt32 "
                                           "and Long"):
        u + ember.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="attempted to promote Long and UInt32"):
        ember.tensor([1, 2, 3]) * u
    with pytest.raises(RuntimeError, match="attempted to promote UInt16 and UInt32"):
        ember.maximum(u.to(ember.uint16), u)
    # Python ints are weak: the tensor's dtype stays; Python floats give the default dtype.
    assert (u + 1).dtype is ember.uint32 and (u + 1).tolist() == [2, 3, 4]
    assert (u * 0.5).dtype is ember.float32
    ember.set_default_dtype(ember.float64)
    try:
        assert (u * 0.5).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("name", LIMITED)
def test_uint_ops_torch_leaves_unimplemented_match_numpy(name):
    # PyTorch raises NotImplementedError for these kernels; ember's NumPy ones just work.
    a = np.array([7, 1, 2 ** (int(name[4:]) - 1) + 3], dtype=name)
    b = np.array([2, 5, 1], dtype=name)
    x, y = ember.from_numpy(a), ember.from_numpy(b)
    for ours, ref in [(x + y, a + b), (x * y, a * b), (x // y, a // b), (x % y, a % b),
                      (x.max(), a.max()), (x.min(), a.min()), (x > y, a > b), (~x, ~a),
                      (x << 1, a << 1), (x >> 1, a >> 1), (x.abs(), a),
                      (ember.arange(5, dtype=x.dtype), np.arange(5, dtype=name)),
                      (ember.maximum(x, y), np.maximum(a, b))]:
        assert ours.dtype is ember._dtype.from_numpy_dtype(ref.dtype)
        np.testing.assert_array_equal(ours.numpy(), ref)


def test_uint_numpy_round_trip_shares_memory():
    a = np.array([1, 2, 3], dtype=np.uint64)
    t = ember.from_numpy(a)
    assert t.dtype is ember.uint64
    t[0] = 2 ** 64 - 1
    assert a[0] == 2 ** 64 - 1 and t.numpy() is not None and t.numpy().dtype == np.uint64


# -- checkpoints --------------------------------------------------------------------------

def _uint_state():
    x = ember.tensor([[1, 2 ** 31 + 5, 3], [4, 5, 6]], dtype=ember.uint32)
    return {"x": x, "view": x[:, 1:], "u64": ember.tensor([2 ** 64 - 1, 0], dtype=ember.uint64),
            "u16": ember.tensor(7, dtype=ember.uint16), "f": ember.ones(2),
            "p": ember.nn.Parameter(ember.tensor([3, 4], dtype=ember.uint16),
                                    requires_grad=False)}


def _check_uint_state(loaded, lib):
    assert loaded["x"].dtype is lib.uint32 and loaded["view"].dtype is lib.uint32
    assert loaded["x"].tolist() == [[1, 2 ** 31 + 5, 3], [4, 5, 6]]
    assert loaded["view"].tolist() == [[2 ** 31 + 5, 3], [5, 6]]
    assert loaded["u64"].dtype is lib.uint64 and loaded["u64"].tolist() == [2 ** 64 - 1, 0]
    assert loaded["u16"].dtype is lib.uint16 and loaded["u16"].shape == () and \
        loaded["u16"].item() == 7
    assert loaded["f"].dtype is lib.float32
    assert isinstance(loaded["p"], lib.nn.Parameter) and loaded["p"].dtype is lib.uint16
    loaded["view"][0, 0] = 9          # the view still shares its base's storage
    assert loaded["x"][0, 1].item() == 9


def test_uint_checkpoint_writes_untyped_storage_and_v3():
    buf = io.BytesIO()
    ember.save(_uint_state(), buf)
    pkl = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("archive/data.pkl")
    assert b"_rebuild_tensor_v3" in pkl and b"UntypedStorage" in pkl and b"uint32" in pkl
    assert b"UInt32Storage" not in pkl and b"FloatStorage" in pkl
    buf.seek(0)
    _check_uint_state(ember.load(buf), ember)


def test_uint_checkpoint_legacy_format_round_trip():
    buf = io.BytesIO()
    ember.save(_uint_state(), buf, _use_new_zipfile_serialization=False)
    buf.seek(0)
    _check_uint_state(ember.load(buf), ember)


@needs_torch
def test_uint_checkpoint_torch_loads_ours():
    buf = io.BytesIO()
    ember.save(_uint_state(), buf)
    buf.seek(0)
    _check_uint_state(torch.load(buf), torch)
    buf.seek(0)
    _check_uint_state(torch.load(buf, weights_only=False), torch)


@needs_torch
@pytest.mark.parametrize("zipped", [True, False])
def test_uint_checkpoint_we_load_torchs(zipped):
    x = torch.tensor([[1, 2 ** 31 + 5, 3], [4, 5, 6]], dtype=torch.uint32)
    state = {"x": x, "view": x[:, 1:], "u64": torch.tensor([2 ** 64 - 1, 0], dtype=torch.uint64),
             "u16": torch.tensor(7, dtype=torch.uint16), "f": torch.ones(2),
             "p": torch.nn.Parameter(torch.tensor([3, 4], dtype=torch.uint16),
                                     requires_grad=False)}
    buf = io.BytesIO()
    # torch's own legacy loader cannot read this legacy file (its UntypedStorage has no
    # dtype); ember can.
    torch.save(state, buf, _use_new_zipfile_serialization=zipped)
    buf.seek(0)
    _check_uint_state(ember.load(buf), ember)


@needs_torch
def test_uint_checkpoint_pickle_matches_torchs():
    x = torch.tensor([1, 2, 3], dtype=torch.uint32)
    theirs = io.BytesIO()
    torch.save({"a": x, "b": x[1:]}, theirs)
    t = ember.tensor([1, 2, 3], dtype=ember.uint32)
    ours = io.BytesIO()
    ember.save({"a": t, "b": t[1:]}, ours)
    read = [zipfile.ZipFile(io.BytesIO(b.getvalue())).read("archive/data.pkl")
            for b in (ours, theirs)]
    assert read[0] == read[1]


# -- safetensors, DLPack, ONNX ----------------------------------------------------------------

def _uint_tensors():
    return {"a": ember.tensor([1, 2 ** 15 + 3], dtype=ember.uint16),
            "b": ember.tensor([[2 ** 32 - 1]], dtype=ember.uint32),
            "c": ember.tensor([2 ** 64 - 1, 0], dtype=ember.uint64), "f": ember.ones(3)}


def test_uint_safetensors_codes_and_numpy_package(tmp_path):
    path = tmp_path / "u.safetensors"
    est.save_file(_uint_tensors(), str(path))
    header = est.safe_open(str(path), "np")
    codes = {k: header.get_slice(k).get_dtype() for k in header.keys()}
    assert codes == {"a": "U16", "b": "U32", "c": "U64", "f": "F32"}
    back = est.load_file(str(path))
    for k, v in _uint_tensors().items():
        assert back[k].dtype is v.dtype and back[k].tolist() == v.tolist()
    sn = pytest.importorskip("safetensors.numpy")
    theirs = sn.load_file(str(path))
    assert theirs["c"].dtype == np.uint64 and theirs["c"].tolist() == [2 ** 64 - 1, 0]
    assert theirs["b"].dtype == np.uint32 and theirs["a"].dtype == np.uint16


@needs_torch
def test_uint_safetensors_torch_package_byte_identical(tmp_path):
    st = pytest.importorskip("safetensors.torch")
    ours = tmp_path / "ours.safetensors"
    theirs = tmp_path / "theirs.safetensors"
    est.save_file(_uint_tensors(), str(ours))
    loaded = st.load_file(str(ours))
    assert loaded["b"].dtype is torch.uint32 and loaded["c"].tolist() == [2 ** 64 - 1, 0]
    st.save_file(loaded, str(theirs))
    assert ours.read_bytes() == theirs.read_bytes()
    back = est.load_file(str(theirs))
    assert back["a"].dtype is ember.uint16 and back["a"].tolist() == [1, 2 ** 15 + 3]


@needs_torch
def test_uint_dlpack_both_ways():
    t = torch.tensor([1, 2 ** 32 - 1], dtype=torch.uint32)
    e = ember.from_dlpack(t)
    assert e.dtype is ember.uint32 and e.tolist() == [1, 2 ** 32 - 1]
    back = torch.from_dlpack(ember.tensor([5, 2 ** 64 - 1], dtype=ember.uint64))
    assert back.dtype is torch.uint64 and back.tolist() == [5, 2 ** 64 - 1]


@pytest.mark.onnx
@pytest.mark.parametrize("name", LIMITED)
def test_uint_onnx_import_cast_initializer_and_bitwise(name):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    code = getattr(TensorProto, name.upper())
    mask = np.array([6, 3, np.iinfo(name).max], dtype=name)
    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["xc"], to=code),
         helper.make_node("BitwiseAnd", ["xc", "mask"], ["y"]),
         helper.make_node("Cast", ["y"], ["z"], to=TensorProto.FLOAT)],
        "g", [helper.make_tensor_value_info("x", TensorProto.INT64, [3])],
        [helper.make_tensor_value_info("y", code, [3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [3])],
        [numpy_helper.from_array(mask, "mask")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    onnx.checker.check_model(model)
    m = ember.onnx.load(model)
    x = np.array([5, 7, 12], dtype=np.int64)
    y, z = m(ember.from_numpy(x))
    want = x.astype(name) & mask
    assert y.dtype is getattr(ember, name)
    np.testing.assert_array_equal(y.numpy(), want)
    assert z.dtype is ember.float32 and z.tolist() == want.astype(np.float32).tolist()


@pytest.mark.gpu
@pytest.mark.parametrize("name", LIMITED)
def test_uint_cuda_ops_and_promotion(name):
    d = getattr(ember, name)
    x = ember.tensor([1, 2, 3], dtype=d, device="cuda")
    assert x.dtype is d and x.is_cuda
    assert (x + 1).dtype is d and (x + 1).cpu().tolist() == [2, 3, 4]
    assert (x * 0.5).dtype is ember.float32 and (x & 1).cpu().tolist() == [1, 0, 1]
    assert x.sum().item() == 6 and x.cpu().dtype is d
    with pytest.raises(RuntimeError, match=PROMOTION_ERROR):
        x + ember.tensor([1, 2, 3], device="cuda")
    buf = io.BytesIO()
    ember.save({"x": x}, buf)
    buf.seek(0)
    back = ember.load(buf)["x"]
    assert back.is_cuda and back.dtype is d and back.cpu().tolist() == [1, 2, 3]
