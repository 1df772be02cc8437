"""ember.utils.safetensors: the format written and read directly, checked against the package."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import ember
from ember.utils import safetensors as st
from tests.oracle import needs_torch, torch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64"]


def _values(name, shape=(2, 3)):
    base = np.arange(np.prod(shape)).reshape(shape) - 2
    if name == "bool":
        return base > 0
    if name == "uint8":
        return np.abs(base).astype(np.uint8)
    if name == "complex64":
        return (base + 0.5j).astype(np.complex64)
    if name == "bfloat16":
        return (base * 0.5).astype(np.float32)
    return (base * (0.5 if name.startswith("float") else 1)).astype(name)


def _tensors():
    return {f"t_{d}": ember.tensor(_values(d), dtype=getattr(ember, d)) for d in DTYPES}


def _np(t):
    a = t._data if isinstance(t, ember.Tensor) else t
    return a.astype(np.float32) if a.dtype == ember.bfloat16.np else a


def _check(loaded):
    assert sorted(loaded) == sorted(f"t_{d}" for d in DTYPES)
    for d in DTYPES:
        t = loaded[f"t_{d}"]
        assert t.dtype == getattr(ember, d) and tuple(t.shape) == (2, 3), d
        np.testing.assert_array_equal(_np(t), _values(d))


def test_safetensors_roundtrip_bytes_and_file(tmp_path):
    _check(st.load(st.save(_tensors())))
    path = tmp_path / "m.safetensors"
    st.save_file(_tensors(), path, metadata={"format": "pt"})
    _check(st.load_file(path))
    _check(ember.load(path))                          # torch.load reads .safetensors too
    empty = st.save({})
    assert empty == b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " and st.load(empty) == {}


def test_safetensors_header_layout():
    data = st.save({"small": ember.ones(3, dtype=ember.uint8), "big": ember.zeros(2),
                    "mid": ember.zeros(1, dtype=ember.float16), "a": ember.zeros(1)},
                   metadata={"k": "v"})
    (n,) = struct.unpack("<Q", data[:8])
    assert (8 + n) % 8 == 0
    header = json.loads(data[8:8 + n])
    assert list(header) == ["__metadata__", "a", "big", "mid", "small"]   # widest type first
    assert header["big"] == {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}
    assert len(data) == 8 + n + 4 + 8 + 2 + 3


def test_safetensors_numpy_package_reads_ours(tmp_path):
    sn = pytest.importorskip("safetensors.numpy", exc_type=ImportError)
    path = tmp_path / "m.safetensors"
    tensors = {k: v for k, v in _tensors().items() if "bfloat16" not in k}
    st.save_file(tensors, path, metadata={"who": "ember"})
    got = sn.load_file(str(path))
    for k, v in tensors.items():
        assert got[k].dtype == v._data.dtype
        np.testing.assert_array_equal(got[k], v._data)
    ours = st.load(sn.save({k: v._data for k, v in tensors.items()}))
    for k, v in tensors.items():
        np.testing.assert_array_equal(ours[k]._data, v._data)


@needs_torch
def test_safetensors_torch_package_both_ways(tmp_path):
    stt = pytest.importorskip("safetensors.torch", exc_type=ImportError)
    path = tmp_path / "e.safetensors"
    st.save_file(_tensors(), path)
    got = stt.load_file(str(path))
    for d in DTYPES:
        t = got[f"t_{d}"]
        assert t.dtype == getattr(torch, d)
        np.testing.assert_array_equal(t.float().numpy() if d == "bfloat16" else t.numpy(),
                                      _values(d))
    tt = {f"t_{d}": torch.tensor(_values(d), dtype=getattr(torch, d)) for d in DTYPES}
    path = tmp_path / "t.safetensors"
    stt.save_file(tt, str(path), metadata={"k": "v"})
    _check(st.load_file(path))
    with st.safe_open(path, framework="pt") as f:
        assert f.metadata() == {"k": "v"}
    # The same tensors and metadata give the same bytes as the package.
    assert st.save(_tensors(), metadata={"k": "v"}) == stt.save(tt, metadata={"k": "v"})


def test_safetensors_rejects_shared_and_non_contiguous():
    x = ember.zeros(4, 4)
    with pytest.raises(RuntimeError, match="Some tensors share memory"):
        st.save({"a": x, "b": x[1:]})
    with pytest.raises(ValueError, match="non contiguous tensor: `a`"):
        st.save({"a": x.t()})
    with pytest.raises(ValueError, match="complex128"):
        st.save({"a": ember.zeros(2, dtype=ember.complex128)})
    with pytest.raises(ValueError, match="expected ember.Tensor"):
        st.save({"a": np.zeros(2)})
    with pytest.raises(ValueError, match="metadata"):
        st.save({"a": ember.zeros(2)}, metadata={"k": 1})
    assert st.load(st.save({"a": x[1:].clone(), "b": x}))["a"].shape == (3, 4)


def test_safetensors_safe_open_lazy_slices(tmp_path):
    path = tmp_path / "m.safetensors"
    w = ember.arange(24, dtype=ember.float32).reshape(4, 6)
    st.save_file({"w": w, "b": ember.ones(2, dtype=ember.bfloat16)}, path)
    with st.safe_open(path, framework="pt", device="cpu") as f:
        assert f.keys() == ["b", "w"] and f.metadata() is None
        sl = f.get_slice("w")
        assert sl.get_shape() == [4, 6] and sl.get_dtype() == "F32"
        part = sl[1:3, ::2]
        assert isinstance(part, ember.Tensor)
        assert part.tolist() == w[1:3, ::2].tolist()
        assert f.get_tensor("b").dtype == ember.bfloat16
        with pytest.raises(st.SafetensorError, match="does not contain tensor zz"):
            f.get_tensor("zz")
    with st.safe_open(path, framework="np") as f:
        assert isinstance(f.get_tensor("w"), np.ndarray)
    with pytest.raises(st.SafetensorError, match="framework tf2 is invalid"):
        st.safe_open(path, framework="tf2")
    with pytest.raises(FileNotFoundError):
        st.safe_open(tmp_path / "missing.safetensors")


def test_safetensors_loaded_tensors_are_copies(tmp_path):
    path = tmp_path / "m.safetensors"
    st.save_file({"w": ember.zeros(3)}, path)
    t = st.load_file(path)["w"]
    t[0] = 5.0                                         # writable, and the file is unchanged
    assert st.load_file(path)["w"].tolist() == [0.0, 0.0, 0.0]


def _file(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_safetensors_malformed_files():
    with pytest.raises(st.SafetensorError, match="HeaderTooSmall"):
        st.load(b"\x01\x02")
    with pytest.raises(st.SafetensorError, match="HeaderTooLarge"):
        st.load(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(st.SafetensorError, match="invalid header length"):
        st.load(struct.pack("<Q", 64) + b"{}")
    with pytest.raises(st.SafetensorError, match="InvalidHeaderDeserialization"):
        st.load(struct.pack("<Q", 4) + b"{no}")
    entry = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    with pytest.raises(st.SafetensorError, match="not fully covered"):
        st.load(_file({"a": entry}, b"\x00" * 12))
    with pytest.raises(st.SafetensorError, match="TensorInvalidInfo"):
        st.load(_file({"a": {**entry, "shape": [3]}}, b"\x00" * 8))
    gap = {"a": entry, "b": {**entry, "data_offsets": [12, 20]}}
    with pytest.raises(st.SafetensorError, match="InvalidOffset"):
        st.load(_file(gap, b"\x00" * 20))
    overlap = {"a": entry, "b": {**entry, "data_offsets": [4, 12]}}
    with pytest.raises(st.SafetensorError, match="InvalidOffset"):
        st.load(_file(overlap, b"\x00" * 12))
    with pytest.raises(st.SafetensorError, match="F4"):     # float4: no ember dtype
        st.load(_file({"a": {**entry, "dtype": "F4", "data_offsets": [0, 1]}}, b"\x00"))


@pytest.mark.gpu
def test_safetensors_cuda(tmp_path):
    path = tmp_path / "g.safetensors"
    st.save_file({"w": ember.arange(4, dtype=ember.float32, device="cuda")}, path)
    t = st.load_file(path, device="cuda:0")
    assert t["w"].is_cuda and t["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    with st.safe_open(path, framework="pt", device="cuda") as f:
        assert f.get_slice("w")[1:3].is_cuda
