"""The float8 dtypes: float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz and
float8_e8m0fnu (ml_dtypes arrays on cpu).

As in PyTorch they are floating dtypes that promote only with themselves: a float8 tensor with a
tensor of any other dtype raises PyTorch's error. Python numbers and zero-dim tensors are weak,
so `x * 2` keeps the float8 dtype; PyTorch then raises NotImplementedError (no float8 kernels on
cpu) while ember computes with ml_dtypes (a superset, checked against ml_dtypes). Conversions
follow PyTorch bit for bit (Note [float8 conversion] in ember/_dtype.py)."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile

import ml_dtypes
import numpy as np
import pytest

import ember
from ember import _dtype as D
from ember.utils import safetensors as est
from tests.oracle import needs_torch, torch

FLOAT8 = ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz",
          "float8_e8m0fnu"]
OTHERS = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128", "uint16", "uint32", "uint64"]
PROMOTION_ERROR = "Promotion for Float8 Types is not supported"
LEGACY = {"float8_e4m3fn": "Float8_e4m3fn", "float8_e5m2": "Float8_e5m2",
          "float8_e4m3fnuz": "Float8_e4m3fnuz", "float8_e5m2fnuz": "Float8_e5m2fnuz",
          "float8_e8m0fnu": "Float8_e8m0fnu"}


def _outcome(call):
    """dtype and values of a tensor, the exception class and message, or the result's repr."""
    try:
        r = call()
    except Exception as e:      # noqa: BLE001  (the outcome is the exception itself)
        return ("raises", type(e).__name__, str(e).split("\n")[0][:120])
    if hasattr(r, "dtype") and hasattr(r, "tolist") and not isinstance(r, np.ndarray):
        return ("tensor", repr(r.dtype), np.asarray(r.float().tolist()).tolist())
    return ("value", repr(r))


def _bits(t):
    """The raw bytes of a float8 tensor (ember or torch) as a uint8 NumPy array."""
    if isinstance(t, ember.Tensor):
        return t.numpy().view(np.uint8)
    return t.view(torch.uint8).numpy()


def _torch_f8(arr):
    """A torch float8 tensor holding the ml_dtypes array's bytes."""
    name = arr.dtype.name
    return torch.from_numpy(arr.view(np.uint8).copy()).view(getattr(torch, name))


def _sweep(name):
    """Values around every float8 value of `name`: the values, midpoints (ties), their
    neighbours, out-of-range values, zeros, infinities, NaN, random magnitudes."""
    all_values = np.arange(256, dtype=np.uint8).view(getattr(ml_dtypes, name)).astype(np.float32)
    finite = np.sort(all_values[np.isfinite(all_values)])
    mids = ((finite[1:] + finite[:-1]) / 2).astype(np.float32)
    rng = np.random.default_rng(0)
    rand = rng.standard_normal(2000) * 10.0 ** rng.integers(-45, 39, 2000)
    extra = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 1e6, -1e6, 449, 464, 480,
                      57344, 61440, 65536, 1e-45])
    with np.errstate(over="ignore"):
        out = np.concatenate([all_values, mids, -mids, np.nextafter(mids, np.float32(np.inf)),
                              np.nextafter(mids, np.float32(0)), rand, extra]).astype(np.float32)
    return out


# -- dtype objects ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", FLOAT8)
def test_float8_dtype_attributes(name):
    d = getattr(ember, name)
    assert repr(d) == f"torch.{name}" and str(d) == f"torch.{name}"
    assert d.is_floating_point and not d.is_complex and d.itemsize == 1
    assert d.is_signed == (name != "float8_e8m0fnu")
    assert d.np == np.dtype(getattr(ml_dtypes, name))
    assert pickle.loads(pickle.dumps(d)) is d
    assert D.to_dtype(name) is d and D.to_dtype(f"torch.{name}") is d
    assert D.from_numpy_dtype(np.dtype(getattr(ml_dtypes, name))) is d
    assert D.legacy_name(d) == LEGACY[name]
    assert not hasattr(ember, LEGACY[name] + "Tensor")
    assert ember.tensor([1.0], dtype=d).type() == f"torch.{LEGACY[name]}Tensor"


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_dtype_attributes_match_torch(name):
    ours, theirs = getattr(ember, name), getattr(torch, name)
    for field in ("is_signed", "itemsize", "is_floating_point", "is_complex"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)
    fo, ft = ember.finfo(ours), torch.finfo(theirs)
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(fo, field) == getattr(ft, field), field
    assert repr(fo) == repr(ft)


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_can_cast_matches_torch(name):
    for other in OTHERS + FLOAT8:
        for a, b in ((name, other), (other, name)):
            assert ember.can_cast(getattr(ember, a), getattr(ember, b)) == \
                torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


# -- promotion --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FLOAT8)
def test_float8_promote_types_table(name):
    d = getattr(ember, name)
    assert ember.promote_types(d, d) is d
    for other in OTHERS + FLOAT8:
        if other == name:
            continue
        o = getattr(ember, other)
        for a, b in ((d, o), (o, d)):
            with pytest.raises(RuntimeError, match=PROMOTION_ERROR):
                ember.promote_types(a, b)
    with pytest.raises(RuntimeError, match=f"attempted to promote {LEGACY[name]} and Float$"):
        ember.promote_types(d, ember.float32)


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_promote_types_match_torch(name):
    for other in OTHERS + FLOAT8:
        for x, y in ((name, other), (other, name)):
            ours = _outcome(lambda x=x, y=y: ember.promote_types(getattr(ember, x),
                                                                getattr(ember, y)))
            theirs = _outcome(lambda x=x, y=y: torch.promote_types(getattr(torch, x),
                                                                  getattr(torch, y)))
            assert ours == theirs, (x, y)


# Operands of result_type: (kind, dtype name) with kind "t" a 1-D tensor, "z" a zero-dim one,
# "s" a Python scalar of that type.
_OPERANDS = [("t", "float32"), ("t", "int64"), ("t", "bool"), ("t", "uint16"),
             ("t", "float8_e5m2"), ("z", "float32"), ("z", "int64"), ("z", "float8_e4m3fn"),
             ("s", "float"), ("s", "int"), ("s", "bool"), ("s", "complex")]


def _operand(lib, kind, dtype):
    if kind == "s":
        return {"float": 2.5, "int": 3, "bool": True, "complex": 1j}[dtype]
    value = [1.0, 2.0] if kind == "t" else 1.0
    return lib.tensor(value, dtype=getattr(lib, dtype))


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("zero_dim", [False, True])
def test_float8_result_type_matches_torch(name, zero_dim):
    value = 1.0 if zero_dim else [1.0, 2.0]
    for kind, other in _OPERANDS:
        for swap in (False, True):
            def call(lib, kind=kind, other=other, swap=swap):
                x = lib.tensor(value, dtype=getattr(lib, name))
                y = _operand(lib, kind, other)
                return lib.result_type(y, x) if swap else lib.result_type(x, y)
            assert _outcome(lambda: call(ember)) == _outcome(lambda: call(torch)), \
                (kind, other, swap)


def test_float8_promotion_errors_through_dispatch():
    x = ember.tensor([1.0, 2.0], dtype=ember.float8_e4m3fn)
    with pytest.raises(RuntimeError, match=f"{PROMOTION_ERROR}, attempted to promote "
                                           "Float8_e4m3fn and Float$"):
        x + ember.ones(2)
    with pytest.raises(RuntimeError, match="attempted to promote Long and Float8_e4m3fn"):
        ember.tensor([1, 2]) * x
    with pytest.raises(RuntimeError, match="attempted to promote Float8_e4m3fn and Float8_e5m2"):
        ember.cat([x, x.to(ember.float8_e5m2)])
    with pytest.raises(RuntimeError, match="attempted to promote Float8_e5m2 and Float8_e4m3fn"):
        ember.maximum(x.to(ember.float8_e5m2), x)


def test_float8_python_numbers_are_weak_and_computed():
    # PyTorch: "mul_cpu_reduced_float" not implemented for 'Float8_e4m3fn'. ember computes with
    # ml_dtypes and keeps the float8 dtype, as torch's promotion says.
    x = ember.tensor([1.0, 2.0, 3.5], dtype=ember.float8_e4m3fn)
    want = (np.array([1.0, 2.0, 3.5], np.float32) * 2.5).astype(ml_dtypes.float8_e4m3fn)
    y = x * 2.5
    assert y.dtype is ember.float8_e4m3fn
    np.testing.assert_array_equal(y.numpy().view(np.uint8), want.view(np.uint8))
    assert (x + 1).dtype is ember.float8_e4m3fn and (x + 1).float().tolist() == [2.0, 3.0, 4.5]
    assert (x + ember.tensor(1.0)).dtype is ember.float8_e4m3fn
    assert (x > 1.5).tolist() == [False, True, True]


@pytest.mark.parametrize("name", ["float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                                  "float8_e5m2fnuz"])
def test_float8_ops_torch_leaves_unimplemented_match_ml_dtypes(name):
    f8 = getattr(ml_dtypes, name)
    a = np.array([1.5, -2.0, 0.25], f8)
    b = np.array([2.0, 0.5, -3.0], f8)
    x, y = ember.from_numpy(a.copy()), ember.from_numpy(b.copy())
    for ours, ref in [(x + y, a + b), (x * y, a * b), (x - y, a - b), (-x, -a),
                      (x.abs(), np.abs(a)), (x.max(), a.max()), (x.flip(0), a[::-1]),
                      (ember.maximum(x, y), np.maximum(a, b))]:
        assert ours.dtype is getattr(ember, name)
        np.testing.assert_array_equal(ours.numpy().view(np.uint8),
                                      np.asarray(ref, f8).view(np.uint8))


# -- conversions ------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("target", ["float32", "float64", "float16", "bfloat16", "int64",
                                    "int8", "uint8", "bool"])
def test_float8_to_other_dtypes_matches_torch_for_every_value(name, target):
    every = np.arange(256, dtype=np.uint8).view(getattr(ml_dtypes, name))
    ours = ember.from_numpy(every.copy()).to(getattr(ember, target))
    theirs = _torch_f8(every).to(getattr(torch, target))
    assert ours.dtype is getattr(ember, target)
    got = ours.float().numpy()
    want = theirs.float().numpy()
    finite = np.isfinite(every.astype(np.float32))
    if target in ("int64", "int8", "uint8"):      # NaN/inf to int: unspecified in both
        got, want = got[finite], want[finite]
    np.testing.assert_array_equal(got, want)


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("source", ["float32", "float64", "float16", "bfloat16", "int64",
                                    "float8_e4m3fnuz", "float8_e8m0fnu"])
def test_float8_cast_matches_torch_bit_for_bit(name, source):
    # D.cast is what .to() must call for float8 targets (Note [float8 conversion]).
    values = _sweep(name)
    src = getattr(ember, source)
    with np.errstate(all="ignore"):
        arr = values.astype(src.np) if src.is_floating_point else \
            np.clip(np.nan_to_num(values), -2.0 ** 62, 2.0 ** 62).astype(src.np)
    if src.itemsize == 1:
        theirs = _torch_f8(arr)
    elif source == "bfloat16":
        theirs = torch.from_numpy(arr.view(np.int16).copy()).view(torch.bfloat16)
    else:
        theirs = torch.from_numpy(arr)
    want = _bits(theirs.to(getattr(torch, name)))
    got = D.cast(np, arr, getattr(ember, name).np).view(np.uint8)
    bad = np.nonzero(got != want)[0]
    assert not bad.size, [(arr[i], got[i], want[i]) for i in bad[:5]]


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_to_in_range_values_matches_torch(name):
    values = [0.0, 1.0, -2.0, 0.3, 3.0, 0.001, 100.0, -0.75, 7.5]
    ours = ember.tensor(values).to(getattr(ember, name))
    theirs = torch.tensor(values).to(getattr(torch, name))
    assert ours.dtype is getattr(ember, name)
    if name == "float8_e8m0fnu":      # no zero and no sign: compare the rest
        np.testing.assert_array_equal(_bits(ours)[[1, 3, 4, 5, 6, 8]],
                                      _bits(theirs)[[1, 3, 4, 5, 6, 8]])
    else:
        np.testing.assert_array_equal(_bits(ours), _bits(theirs))
    assert ours.float().tolist() == theirs.float().tolist() or name == "float8_e8m0fnu"


@needs_torch
def test_float8_to_saturates_like_torch():
    values = [1000.0, -1e6, float("inf"), 0.0, -3.0]
    for name in ("float8_e4m3fn", "float8_e8m0fnu"):
        ours = ember.tensor(values).to(getattr(ember, name))
        theirs = torch.tensor(values).to(getattr(torch, name))
        np.testing.assert_array_equal(_bits(ours), _bits(theirs))


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_float_and_tolist_match_torch(name):
    values = np.array([0.5, 2.0, 4.0, 0.25], getattr(ml_dtypes, name))
    ours, theirs = ember.from_numpy(values.copy()), _torch_f8(values)
    assert ours.float().dtype is ember.float32
    assert ours.float().tolist() == theirs.float().tolist()
    assert ours.tolist() == theirs.tolist()
    assert ours[1].item() == theirs[1].item() and isinstance(ours[1].item(), float)
    assert ours.double().tolist() == theirs.double().tolist()


def test_float8_from_numpy_shares_memory():
    a = np.array([1.0, 2.0, 3.0], ml_dtypes.float8_e5m2)
    t = ember.from_numpy(a)
    assert t.dtype is ember.float8_e5m2
    t[0] = 4.0
    assert float(a[0]) == 4.0 and t.numpy().dtype == a.dtype


# Calls written once and run against both libraries (`t` is ember or torch); each takes the
# dtype name. Values stay in range and away from e8m0's missing zero.
CALLS = [
    lambda t, n: t.zeros(2, 3, dtype=getattr(t, n)),
    lambda t, n: t.ones(2, dtype=getattr(t, n)),
    lambda t, n: t.full((2,), 4.0, dtype=getattr(t, n)),
    lambda t, n: t.empty(3, dtype=getattr(t, n)).shape,
    lambda t, n: t.empty(3, dtype=getattr(t, n)).dtype,
    lambda t, n: t.tensor([1.0, 0.5, 8.0], dtype=getattr(t, n)),
    lambda t, n: t.tensor(2.0, dtype=getattr(t, n)),
    lambda t, n: t.zeros_like(t.ones(2, dtype=getattr(t, n))),
    lambda t, n: t.ones(2, dtype=getattr(t, n)).new_ones(3),
    lambda t, n: t.cat([t.ones(2, dtype=getattr(t, n)), t.full((1,), 2.0, dtype=getattr(t, n))]),
    lambda t, n: t.stack([t.ones(2, dtype=getattr(t, n))] * 2),
    lambda t, n: t.tensor([1.0, 2.0, 4.0], dtype=getattr(t, n))[1:],
    lambda t, n: t.tensor([1.0, 2.0, 4.0], dtype=getattr(t, n))[t.tensor([True, False, True])],
    lambda t, n: t.tensor([1.0, 2.0, 4.0], dtype=getattr(t, n))[t.tensor([2, 0])],
    lambda t, n: t.tensor([[1.0, 2.0], [4.0, 8.0]], dtype=getattr(t, n)).t().contiguous(),
    lambda t, n: t.tensor([1.0, 2.0, 4.0], dtype=getattr(t, n)).reshape(3, 1),
    lambda t, n: t.tensor([1.0, 2.0, 4.0], dtype=getattr(t, n)).clone(),
    lambda t, n: t.tensor([1.0, 2.0, 4.0], dtype=getattr(t, n)) == 2.0,
    lambda t, n: t.tensor([1.0, 2.0, 4.0], dtype=getattr(t, n)).view(t.uint8),
    lambda t, n: t.tensor([1, 2, 3], dtype=t.uint8).view(getattr(t, n)),
    lambda t, n: t.tensor([1.0, 2.0], dtype=getattr(t, n)).element_size(),
    lambda t, n: t.tensor([1.0, 2.0], dtype=getattr(t, n)).is_signed(),
    lambda t, n: t.tensor([1.0, 2.0], dtype=getattr(t, n)).to(t.float8_e4m3fnuz),
    lambda t, n: t.tensor([1.0, 2.0], dtype=getattr(t, n)).type(t.float16),
    lambda t, n: t.tensor([1.0, 2.0], dtype=getattr(t, n)) + t.ones(2),
    lambda t, n: t.ones(2, dtype=t.int32) * t.tensor([1.0, 2.0], dtype=getattr(t, n)),
]


_CALL_PARAMS = [(i, n) for i in range(len(CALLS)) for n in FLOAT8]


@needs_torch
@pytest.mark.parametrize(("index", "name"), _CALL_PARAMS)
def test_float8_call_matches_torch(index, name):
    call = CALLS[index]
    assert _outcome(lambda: call(ember, name)) == _outcome(lambda: call(torch, name))


@needs_torch
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_repr_matches_torch(name):
    for values in ([1.0, 2.0], [0.001, 128.0, 4.0], [[0.5, 2.0, 0.25]], 0.5, [],
                   [2.0] * 1001, [[1.0] * 3] * 2):
        ours = ember.from_numpy(np.asarray(values, getattr(ml_dtypes, name)))
        theirs = _torch_f8(np.asarray(values, getattr(ml_dtypes, name)))
        assert repr(ours) == repr(theirs), values
        assert str(ours) == str(theirs)


@needs_torch
def test_float8_tensor_is_floating_point():
    for name in FLOAT8:
        assert ember.ones(1, dtype=getattr(ember, name)).is_floating_point(), name


# -- checkpoints ------------------------------------------------------------------------------

def _f8_state():
    x = ember.from_numpy(np.array([[0.5, 2.0, -3.0], [448.0, 0.015625, -0.0]],
                                  ml_dtypes.float8_e4m3fn))
    state = {"x": x, "view": x[:, 1:],
             "p": ember.nn.Parameter(ember.ones(2, dtype=ember.float8_e5m2), requires_grad=False),
             "f": ember.ones(2)}
    for name in FLOAT8[1:]:
        state[name] = ember.from_numpy(np.array([0.25, 8.0], getattr(ml_dtypes, name)))
    return state


def _check_f8_state(loaded, lib):
    assert loaded["x"].dtype is lib.float8_e4m3fn and loaded["view"].dtype is lib.float8_e4m3fn
    assert loaded["x"].float().tolist() == [[0.5, 2.0, -3.0], [448.0, 0.015625, -0.0]]
    assert loaded["view"].float().tolist() == [[2.0, -3.0], [0.015625, -0.0]]
    assert isinstance(loaded["p"], lib.nn.Parameter) and loaded["p"].dtype is lib.float8_e5m2
    assert loaded["f"].dtype is lib.float32
    for name in FLOAT8[1:]:
        assert loaded[name].dtype is getattr(lib, name)
        assert loaded[name].float().tolist() == [0.25, 8.0]


def test_float8_checkpoint_writes_untyped_storage_and_v3():
    buf = io.BytesIO()
    ember.save(_f8_state(), buf)
    pkl = zipfile.ZipFile(io.BytesIO(buf.getvalue())).read("archive/data.pkl")
    assert b"_rebuild_tensor_v3" in pkl and b"UntypedStorage" in pkl
    assert all(f"torch\n{n}".encode() in pkl or n.encode() in pkl for n in FLOAT8)
    buf.seek(0)
    _check_f8_state(ember.load(buf), ember)


def test_float8_checkpoint_legacy_format_round_trip():
    buf = io.BytesIO()
    ember.save(_f8_state(), buf, _use_new_zipfile_serialization=False)
    buf.seek(0)
    _check_f8_state(ember.load(buf), ember)


@needs_torch
def test_float8_checkpoint_torch_loads_ours():
    buf = io.BytesIO()
    ember.save(_f8_state(), buf)
    buf.seek(0)
    _check_f8_state(torch.load(buf), torch)
    buf.seek(0)
    _check_f8_state(torch.load(buf, weights_only=False), torch)


@needs_torch
@pytest.mark.parametrize("zipped", [True, False])
def test_float8_checkpoint_we_load_torchs(zipped):
    # torch's own legacy loader cannot read its legacy float8 file; ember can.
    x = _torch_f8(np.array([[0.5, 2.0, -3.0], [448.0, 0.015625, -0.0]], ml_dtypes.float8_e4m3fn))
    state = {"x": x, "view": x[:, 1:],
             "p": torch.nn.Parameter(torch.ones(2, dtype=torch.float8_e5m2), requires_grad=False),
             "f": torch.ones(2)}
    for name in FLOAT8[1:]:
        state[name] = _torch_f8(np.array([0.25, 8.0], getattr(ml_dtypes, name)))
    buf = io.BytesIO()
    torch.save(state, buf, _use_new_zipfile_serialization=zipped)
    buf.seek(0)
    _check_f8_state(ember.load(buf), ember)


@needs_torch
def test_float8_checkpoint_pickle_matches_torchs():
    values = np.array([1.0, 2.0, 3.0], ml_dtypes.float8_e8m0fnu)
    x = _torch_f8(values)
    theirs = io.BytesIO()
    torch.save({"a": x, "b": x[1:]}, theirs)
    t = ember.from_numpy(values.copy())
    ours = io.BytesIO()
    ember.save({"a": t, "b": t[1:]}, ours)
    read = [zipfile.ZipFile(io.BytesIO(b.getvalue())).read("archive/data.pkl")
            for b in (ours, theirs)]
    assert read[0] == read[1]


# -- safetensors ------------------------------------------------------------------------------

_CODES = {"float8_e4m3fn": "F8_E4M3", "float8_e5m2": "F8_E5M2",
          "float8_e4m3fnuz": "F8_E4M3FNUZ", "float8_e5m2fnuz": "F8_E5M2FNUZ",
          "float8_e8m0fnu": "F8_E8M0"}


def _f8_tensors(names=FLOAT8):
    out = {n: ember.from_numpy(np.array([[0.5, 2.0, 4.0]], getattr(ml_dtypes, n)))
           for n in names}
    out["i8"] = ember.tensor([1, -2], dtype=ember.int8)
    out["i16"] = ember.tensor([3], dtype=ember.int16)
    return out


def _header(blob: bytes) -> dict:
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n])


def test_float8_safetensors_codes_and_round_trip():
    blob = est.save(_f8_tensors())
    header = _header(blob)
    assert {k: header[k]["dtype"] for k in FLOAT8} == _CODES
    back = est.load(blob)
    for k, v in _f8_tensors().items():
        assert back[k].dtype is v.dtype and back[k].float().tolist() == v.float().tolist()


@needs_torch
def test_float8_safetensors_torch_package_both_ways():
    st = pytest.importorskip("safetensors.torch")
    names = FLOAT8[:4]          # safetensors.torch 0.8 cannot load F8_E8M0 (it can write it)
    theirs = {k: (_torch_f8(v.numpy()) if k in FLOAT8 else torch.from_numpy(v.numpy()))
              for k, v in _f8_tensors(FLOAT8).items()}
    ours = est.save(_f8_tensors(FLOAT8))
    assert ours == st.save(theirs)                 # byte for byte, e8m0 included
    loaded = st.load(est.save(_f8_tensors(names)))
    for name in names:
        assert loaded[name].dtype is getattr(torch, name)
        assert loaded[name].float().tolist() == [[0.5, 2.0, 4.0]]
    back = est.load(st.save(theirs))
    for name in FLOAT8:
        assert back[name].dtype is getattr(ember, name)
        assert back[name].float().tolist() == [[0.5, 2.0, 4.0]]


# -- ONNX -------------------------------------------------------------------------------------

@pytest.mark.onnx
@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("saturate", [0, 1])
def test_float8_onnx_cast_matches_onnx_reference(name, saturate):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator
    code = {"float8_e4m3fn": TensorProto.FLOAT8E4M3FN, "float8_e5m2": TensorProto.FLOAT8E5M2,
            "float8_e4m3fnuz": TensorProto.FLOAT8E4M3FNUZ,
            "float8_e5m2fnuz": TensorProto.FLOAT8E5M2FNUZ,
            "float8_e8m0fnu": TensorProto.FLOAT8E8M0}[name]
    x = _sweep(name)
    graph = helper.make_graph(
        [helper.make_node("Cast", ["x"], ["y"], to=code, saturate=saturate),
         helper.make_node("Cast", ["y"], ["z"], to=TensorProto.FLOAT)],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [x.size])],
        [helper.make_tensor_value_info("y", code, [x.size]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [x.size])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.checker.check_model(model)
    with np.errstate(all="ignore"):
        want_y, want_z = ReferenceEvaluator(model).run(None, {"x": x})
    y, z = ember.onnx.load(model)(ember.from_numpy(x))
    assert y.dtype is getattr(ember, name)
    got, want = y.numpy().view(np.uint8), want_y.view(np.uint8)
    # NaN bytes may differ (several NaN encodings); values must agree.
    nan = np.isnan(want_y.astype(np.float32))
    assert (np.isnan(y.float().numpy()) == nan).all()
    np.testing.assert_array_equal(got[~nan], want[~nan])
    np.testing.assert_array_equal(z.numpy()[~nan], want_z[~nan])


@pytest.mark.onnx
def test_float8_onnx_quantize_dequantize_with_float8_zero_point():
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator
    x = np.array([0.0, 1.0, 2.5, -7.0, 1000.0, -1e5, 0.01], np.float32)
    zero = np.array(0.0, ml_dtypes.float8_e4m3fn)
    graph = helper.make_graph(
        [helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"]),
         helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["y"])],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [x.size])],
        [helper.make_tensor_value_info("q", TensorProto.FLOAT8E4M3FN, [x.size]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [x.size])],
        [numpy_helper.from_array(np.array(0.5, np.float32), "s"),
         numpy_helper.from_array(zero, "zp")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    onnx.checker.check_model(model)
    want_q, want_y = ReferenceEvaluator(model).run(None, {"x": x})
    q, y = ember.onnx.load(model)(ember.from_numpy(x))
    assert q.dtype is ember.float8_e4m3fn
    np.testing.assert_array_equal(q.numpy().view(np.uint8), want_q.view(np.uint8))
    np.testing.assert_array_equal(y.detach().numpy(), want_y)
    assert y.tolist()[4] == 448 * 0.5           # saturated, not rounded to an integer


# -- cuda -------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("name", FLOAT8)
def test_float8_cuda_refused_with_a_clear_error(name):
    # CuPy has no float8 arrays: moving one to cuda must say so (e5m2 is NumPy kind 'f', so a
    # kind check alone lets it through to CuPy).
    x = ember.ones(2, dtype=getattr(ember, name))
    with pytest.raises(TypeError, match="not supported on cuda"):
        x.cuda()
