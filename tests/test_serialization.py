"""ember.save / ember.load: PyTorch's checkpoint format both ways, safe loading, atomic saves."""

from __future__ import annotations

import builtins
import fractions
import io
import mmap
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import serialization
from tests.oracle import needs_torch, torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


def _values(name):
    """Deterministic (2, 3) values of a dtype, as a NumPy array (float32 for bfloat16)."""
    base = np.array([[0, 1, -2], [3, -4, 5]])
    if name == "bool":
        return base > 0
    if name == "uint8":
        return np.abs(base).astype(np.uint8)
    if name.startswith("complex"):
        return (base + 0.5j * base[::-1]).astype(name)
    if name == "bfloat16":
        return (base * 0.25).astype(np.float32)
    return (base * (0.25 if name.startswith("float") else 1)).astype(name)


def _ember_state():
    sd = OrderedDict((d, ember.tensor(_values(d), dtype=getattr(ember, d))) for d in DTYPES)
    sd._metadata = OrderedDict([("", {"version": 1})])
    return sd


def _torch_state():
    sd = OrderedDict((d, torch.tensor(_values(d), dtype=getattr(torch, d))) for d in DTYPES)
    sd._metadata = OrderedDict([("", {"version": 1})])
    return sd


def _as_np(t):
    """Values of an ember or torch tensor as NumPy (bfloat16 widened to float32)."""
    if isinstance(t, ember.Tensor):
        a = t.detach().cpu()._data
        return a.astype(np.float32) if a.dtype == ember.bfloat16.np else a
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.detach().numpy()


def _check_state(loaded, dtype_of):
    assert list(loaded) == DTYPES
    assert loaded._metadata == {"": {"version": 1}}
    for d in DTYPES:
        assert loaded[d].dtype == dtype_of(d), d
        np.testing.assert_array_equal(_as_np(loaded[d]), _values(d))


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    return ember.load(buf, **load_kwargs)


# -- round trips -------------------------------------------------------------------------------

def test_serialization_every_dtype_roundtrip(tmp_path):
    path = tmp_path / "sd.pt"
    ember.save(_ember_state(), path)
    _check_state(ember.load(path), lambda d: getattr(ember, d))
    assert type(ember.load(str(path))) is OrderedDict


@needs_torch
def test_serialization_torch_save_ember_load_every_dtype(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save(_torch_state(), path)
    _check_state(ember.load(path), lambda d: getattr(ember, d))


@needs_torch
def test_serialization_ember_save_torch_load_every_dtype(tmp_path):
    path = tmp_path / "sd.pt"
    ember.save(_ember_state(), path)
    _check_state(torch.load(path), lambda d: getattr(torch, d))
    _check_state(torch.load(path, mmap=True), lambda d: getattr(torch, d))


def test_serialization_zip_layout_aligned_records():
    buf = io.BytesIO()
    ember.save({"a": ember.ones(3), "b": ember.zeros(5, dtype=ember.int64)}, buf)
    raw = buf.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        names = z.namelist()
        assert names[0] == "archive/data.pkl"
        assert z.read("archive/byteorder") == sys.byteorder.encode()
        assert z.read("archive/version") == b"3\n"
        for info in z.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            name_len, extra_len = np.frombuffer(raw[info.header_offset + 26:
                                                    info.header_offset + 30], "<u2")
            assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0, info.filename
    assert sorted(n for n in names if "/data/" in n) == ["archive/data/0", "archive/data/1"]


def test_serialization_views_share_one_storage():
    base = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    obj = {"base": base, "view": base[1:, 2:], "t": base.t(), "row": base[2]}
    buf = io.BytesIO()
    ember.save(obj, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        assert [n for n in z.namelist() if "/data/" in n] == ["archive/data/0"]
    buf.seek(0)
    out = ember.load(buf)
    assert out["view"].tolist() == [[6.0, 7.0], [10.0, 11.0]]
    assert out["t"].shape == (4, 3) and out["t"].stride() == (1, 4)
    out["base"][1, 2] = 100.0
    assert out["view"][0, 0].item() == 100.0
    assert out["t"][2, 1].item() == 100.0
    out["row"][0] = -1.0
    assert out["base"][2, 0].item() == -1.0


@needs_torch
def test_serialization_views_shared_across_frameworks():
    base = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    buf = io.BytesIO()
    ember.save([base, base[1:, 2:]], buf)
    buf.seek(0)
    a, b = torch.load(buf)
    assert b.storage_offset() == 6 and b.stride() == (4, 1)
    a[1, 2] = 100.0
    assert b[0, 0].item() == 100.0
    t = torch.arange(12.0).reshape(3, 4)
    buf = io.BytesIO()
    torch.save([t, t[1:, 2:]], buf)
    buf.seek(0)
    a, b = ember.load(buf)
    a[1, 2] = 100.0
    assert b[0, 0].item() == 100.0


def test_serialization_views_of_different_dtypes_rejected():
    x = ember.zeros(4)
    with pytest.raises(RuntimeError, match="view the same data as different types"):
        ember.save([x, x.view(ember.int32)], io.BytesIO())


def test_serialization_negative_stride_view_saved_as_copy():
    x = ember.arange(6, dtype=ember.float32)
    flipped = ember.Tensor._make(x._data[::-1])       # NumPy allows what PyTorch's format cannot
    out = _roundtrip([x, flipped])
    assert out[1].tolist() == [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]


def test_serialization_parameter_and_requires_grad():
    p = ember.nn.Parameter(ember.ones(2, 2))
    q = ember.nn.Parameter(ember.zeros(3), requires_grad=False)
    t = ember.ones(2).requires_grad_()
    out = _roundtrip({"p": p, "q": q, "t": t, "n": ember.ones(2)})
    assert type(out["p"]) is ember.nn.Parameter and out["p"].requires_grad
    assert type(out["q"]) is ember.nn.Parameter and not out["q"].requires_grad
    assert type(out["t"]) is ember.Tensor and out["t"].requires_grad and out["t"].is_leaf
    assert not out["n"].requires_grad


@needs_torch
def test_serialization_parameter_across_frameworks():
    buf = io.BytesIO()
    ember.save({"p": ember.nn.Parameter(ember.ones(2)), "t": ember.ones(1).requires_grad_()},
               buf)
    buf.seek(0)
    out = torch.load(buf)
    assert isinstance(out["p"], torch.nn.Parameter) and out["p"].requires_grad
    assert out["t"].requires_grad
    buf = io.BytesIO()
    torch.save({"p": torch.nn.Parameter(torch.ones(2))}, buf)
    buf.seek(0)
    assert type(ember.load(buf)["p"]) is ember.nn.Parameter


def _nested_ember():
    return {
        "ints": [1, -2, 2 ** 40], "float": 0.5, "complex": 1 + 2j, "str": "héllo", "none": None,
        "bool": True, "bytes": b"\x00\xff", "tuple": (1, ("a", None)), "set": {1, 2},
        "dtypes": [ember.float16, ember.bfloat16, ember.int64, ember.complex128],
        "devices": [ember.device("cpu"), ember.device("cuda", 1)],
        "size": ember.Size([2, 3]), "od": OrderedDict(b=1, a=2),
        "tensor": [ember.tensor(3.5), {"deep": ember.arange(3)}],
    }


def test_serialization_nested_container_roundtrip():
    obj = _nested_ember()
    obj["slice"] = slice(1, None, 2)
    out = _roundtrip(obj)
    for key in ("ints", "float", "complex", "str", "none", "bool", "bytes", "tuple", "set",
                "slice"):
        assert out[key] == obj[key], key
    assert out["dtypes"] == [ember.float16, ember.bfloat16, ember.int64, ember.complex128]
    assert out["devices"] == [ember.device("cpu"), ember.device("cuda", 1)]
    assert type(out["size"]) is ember.Size and out["size"] == (2, 3)
    assert type(out["od"]) is OrderedDict and list(out["od"]) == ["b", "a"]
    assert out["tensor"][0].item() == 3.5 and out["tensor"][1]["deep"].tolist() == [0, 1, 2]


@needs_torch
def test_serialization_nested_container_across_frameworks():
    buf = io.BytesIO()
    ember.save(_nested_ember(), buf)
    buf.seek(0)
    out = torch.load(buf)
    assert out["dtypes"] == [torch.float16, torch.bfloat16, torch.int64, torch.complex128]
    assert out["devices"] == [torch.device("cpu"), torch.device("cuda", 1)]
    assert type(out["size"]) is torch.Size and out["size"] == (2, 3)
    assert out["bytes"] == b"\x00\xff" and out["set"] == {1, 2} and out["complex"] == 1 + 2j
    assert out["tensor"][1]["deep"].tolist() == [0, 1, 2]
    obj = {"dt": [torch.float32, torch.bool], "dev": torch.device("cuda:0"),
           "size": torch.Size([4]), "x": [None, "s", 2.5, (1, 2)], "c": 3j}
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    out = ember.load(buf)
    assert out["dt"] == [ember.float32, ember.bool] and out["dev"] == ember.device("cuda:0")
    assert type(out["size"]) is ember.Size and out["x"] == [None, "s", 2.5, (1, 2)]
    assert out["c"] == 3j


def test_serialization_pickle_protocols():
    for protocol in (2, 3, 4, 5):
        buf = io.BytesIO()
        ember.save({"w": ember.arange(4), "d": ember.float16}, buf, pickle_protocol=protocol)
        buf.seek(0)
        out = ember.load(buf)
        assert out["w"].tolist() == [0, 1, 2, 3] and out["d"] is ember.float16


@needs_torch
def test_serialization_protocol4_torch_load():
    buf = io.BytesIO()
    ember.save({"w": ember.arange(4), "s": ember.Size([1])}, buf, pickle_protocol=4)
    buf.seek(0)
    # torch's weights-only unpickler has no protocol-4 FRAME opcode (its own files fail too).
    out = torch.load(buf, weights_only=False)
    assert out["w"].tolist() == [0, 1, 2, 3] and out["s"] == torch.Size([1])


# -- optimizer state ---------------------------------------------------------------------------

@needs_torch
def test_serialization_adam_state_across_frameworks(tmp_path):
    w0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
    b0 = np.array([0.1, -0.2], np.float32)
    x = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]], np.float32)

    def ember_side():
        m = ember.nn.Linear(3, 2)
        with ember.no_grad():
            m.weight.copy_(ember.tensor(w0))
            m.bias.copy_(ember.tensor(b0))
        return m, ember.optim.Adam(m.parameters(), lr=0.1)

    def torch_side():
        m = torch.nn.Linear(3, 2)
        with torch.no_grad():
            m.weight.copy_(torch.tensor(w0))
            m.bias.copy_(torch.tensor(b0))
        return m, torch.optim.Adam(m.parameters(), lr=0.1)

    def step(lib, m, opt):
        opt.zero_grad()
        (m(lib.tensor(x)) ** 2).sum().backward()
        opt.step()

    em, eo = ember_side()
    tm, to = torch_side()
    for _ in range(2):
        step(ember, em, eo)
        step(torch, tm, to)
    ember.save({"model": em.state_dict(), "optim": eo.state_dict()}, tmp_path / "e.pt")
    torch.save({"model": tm.state_dict(), "optim": to.state_dict()}, tmp_path / "t.pt")
    # Each side resumes from the other side's checkpoint, then both take one more step.
    em2, eo2 = ember_side()
    ck = ember.load(tmp_path / "t.pt")
    em2.load_state_dict(ck["model"])
    eo2.load_state_dict(ck["optim"])
    tm2, to2 = torch_side()
    ck = torch.load(tmp_path / "e.pt")
    tm2.load_state_dict(ck["model"])
    to2.load_state_dict(ck["optim"])
    step(ember, em2, eo2)
    step(torch, tm2, to2)
    step(ember, em, eo)
    for got in (_as_np(em2.weight), _as_np(tm2.weight)):
        np.testing.assert_allclose(got, _as_np(em.weight), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_as_np(tm2.bias), _as_np(em.bias), rtol=1e-5, atol=1e-6)
    assert eo2.state_dict()["state"][0]["step"].item() == 3.0


# -- whole objects -------------------------------------------------------------------------------

def test_serialization_whole_model_and_optimizer():
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 1))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = ember.randn(5, 3)
    model(x).sum().backward()
    opt.step()
    buf = io.BytesIO()
    ember.save({"model": model, "opt": opt}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="Sequential"):
        ember.load(buf)
    buf.seek(0)
    ck = ember.load(buf, weights_only=False)
    m2, o2 = ck["model"], ck["opt"]
    np.testing.assert_allclose(_as_np(m2(x)), _as_np(model(x)))
    assert o2.param_groups[0]["params"][0] is m2[0].weight
    for m, o in ((model, opt), (m2, o2)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    np.testing.assert_allclose(_as_np(m2[0].weight), _as_np(model[0].weight), rtol=1e-6)


# -- legacy format -------------------------------------------------------------------------------

@needs_torch
def test_serialization_legacy_torch_file(tmp_path):
    path = tmp_path / "legacy.pt"
    base = torch.arange(12.0).reshape(3, 4)
    sd = _torch_state()
    sd["view"] = base[1:, 2:]
    sd["base"] = base
    sd["param"] = torch.nn.Parameter(torch.ones(2))
    torch.save(sd, path, _use_new_zipfile_serialization=False)
    out = ember.load(path)
    for d in DTYPES:
        assert out[d].dtype == getattr(ember, d)
        np.testing.assert_array_equal(_as_np(out[d]), _values(d))
    assert out._metadata == {"": {"version": 1}}
    assert type(out["param"]) is ember.nn.Parameter and out["param"].requires_grad
    out["base"][1, 2] = 100.0
    assert out["view"][0, 0].item() == 100.0
    assert serialization.get_unsafe_globals_in_checkpoint(path) == []
    with pytest.raises(RuntimeError, match="mmap can only be used"):
        ember.load(path, mmap=True)


@needs_torch
def test_serialization_legacy_ember_file_torch_load():
    buf = io.BytesIO()
    base = ember.arange(6, dtype=ember.float64)
    ember.save({"a": base, "v": base[2:], "bf": ember.ones(2, dtype=ember.bfloat16)}, buf,
               _use_new_zipfile_serialization=False)
    buf.seek(0)
    out = torch.load(buf)
    assert out["v"].tolist() == [2.0, 3.0, 4.0, 5.0] and out["bf"].dtype == torch.bfloat16
    out["a"][3] = -1.0
    assert out["v"][1].item() == -1.0
    buf.seek(0)
    assert ember.load(buf)["v"].tolist() == [2.0, 3.0, 4.0, 5.0]


# -- map_location ---------------------------------------------------------------------------------

def _relocate(data: bytes, location: str) -> bytes:
    """The checkpoint with every storage's saved location rewritten (a cuda checkpoint made
    without a GPU)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            payload = src.read(name)
            if name.endswith("data.pkl"):
                new = location.encode()
                payload = payload.replace(b"X\x03\x00\x00\x00cpu",
                                          b"X" + len(new).to_bytes(4, "little") + new)
            dst.writestr(name, payload)
    return out.getvalue()


def _cuda_checkpoint() -> io.BytesIO:
    buf = io.BytesIO()
    base = ember.arange(4, dtype=ember.float32)
    ember.save({"w": base, "v": base[1:]}, buf)
    return io.BytesIO(_relocate(buf.getvalue(), "cuda:0"))


def test_serialization_map_location_forms():
    seen = []

    def to_cpu(storage, location):
        seen.append((location, storage.dtype, storage.size()))
        return storage

    for ml in ("cpu", ember.device("cpu"), {"cuda:0": "cpu"}, to_cpu,
               lambda storage, location: storage.cpu()):
        out = ember.load(_cuda_checkpoint(), map_location=ml)
        assert out["w"].device == ember.device("cpu"), ml
        assert out["v"].tolist() == [1.0, 2.0, 3.0]
        out["w"][1] = 9.0
        assert out["v"][0].item() == 9.0
    assert seen == [("cuda:0", ember.float32, 4)]
    with pytest.raises(TypeError, match="map_location"):
        ember.load(_cuda_checkpoint(), map_location=3.5)


@pytest.mark.skipif(ember.cuda.is_available(), reason="needs a machine without CUDA")
def test_serialization_cuda_checkpoint_without_gpu():
    with pytest.raises(RuntimeError, match=r"torch\.cuda\.is_available\(\) is False.*"
                                           r"map_location"):
        ember.load(_cuda_checkpoint())
    with pytest.raises(RuntimeError, match="is_available"):
        ember.load(_cuda_checkpoint(), map_location={"cpu": "cpu"})


def test_serialization_cpu_load_never_imports_cupy(tmp_path):
    path = tmp_path / "w.pt"
    ember.save({"w": ember.ones(3), "p": ember.nn.Parameter(ember.zeros(2))}, path)
    code = textwrap.dedent(f"""
        import sys, ember
        out = ember.load({str(path)!r})
        ember.save(out, {str(tmp_path / 'again.pt')!r})
        ember.load({str(tmp_path / 'again.pt')!r}, mmap=True)
        assert out["w"].tolist() == [1.0, 1.0, 1.0]
        assert "cupy" not in sys.modules, "cupy imported"
        print("ok")
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr


# -- mmap -------------------------------------------------------------------------------------------

def test_serialization_mmap_views_of_file(tmp_path):
    path = tmp_path / "m.pt"
    base = ember.arange(8, dtype=ember.float32)
    ember.save({"w": base, "v": base[4:], "b": ember.ones(3, dtype=ember.bfloat16)}, path)
    out = ember.load(path, mmap=True)
    arr = out["w"]._data
    root = arr
    while isinstance(root.base, np.ndarray):
        root = root.base
    owner = root.base.obj if isinstance(root.base, memoryview) else root.base
    assert isinstance(owner, mmap.mmap)               # the tensor is a view of the file's pages
    assert out["v"].tolist() == [4.0, 5.0, 6.0, 7.0] and out["b"].dtype == ember.bfloat16
    out["w"][5] = -1.0                                 # private mapping: memory only
    assert out["v"][1].item() == -1.0
    assert ember.load(path)["w"][5].item() == 5.0
    with serialization.set_default_mmap_options(mmap.MAP_SHARED):
        shared = ember.load(path, mmap=True)
        shared["w"][0] = 42.0
        del shared
    assert serialization.get_default_mmap_options() is None
    assert ember.load(path)["w"][0].item() == 42.0
    with pytest.raises(ValueError, match="file path"):
        ember.load(io.BytesIO(path.read_bytes()), mmap=True)


@needs_torch
def test_serialization_mmap_torch_file(tmp_path):
    path = tmp_path / "t.pt"
    torch.save({"w": torch.arange(5.0), "h": torch.ones(2, dtype=torch.float16)}, path)
    out = ember.load(path, mmap=True)
    assert out["w"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and out["h"].dtype == ember.float16


# -- file objects --------------------------------------------------------------------------------

@needs_torch
def test_serialization_bytesio_both_ways():
    buf = io.BytesIO()
    ember.save({"x": ember.arange(3)}, buf)
    assert torch.load(io.BytesIO(buf.getvalue()))["x"].tolist() == [0, 1, 2]
    buf = io.BytesIO()
    torch.save({"x": torch.arange(3)}, buf)
    assert ember.load(io.BytesIO(buf.getvalue()))["x"].tolist() == [0, 1, 2]


def test_serialization_unseekable_streams():
    class WriteOnly(io.RawIOBase):
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def write(self, b):
            self.chunks.append(bytes(b))
            return len(b)

    out = WriteOnly()
    ember.save({"x": ember.arange(3)}, out)
    data = b"".join(out.chunks)

    class ReadOnly(io.RawIOBase):
        def __init__(self, data):
            self.stream = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            return self.stream.readinto(b)

    assert ember.load(io.BufferedReader(ReadOnly(data)))["x"].tolist() == [0, 1, 2]


# -- safe loading ---------------------------------------------------------------------------------

class _Marker:
    """Pickles as a call that creates the file `path` when it runs."""

    def __init__(self, how, path):
        self.how, self.path = how, str(path)

    def __reduce__(self):
        if self.how == "system":
            return (os.system, (f"touch {self.path}",))
        if self.how == "exec":
            return (builtins.exec, (f"open({self.path!r}, 'w').close()",))
        return (open, (self.path, "w"))


@pytest.mark.parametrize("how", ["system", "exec", "open"])
@pytest.mark.parametrize("legacy", [False, True])
def test_serialization_malicious_pickle_runs_nothing(tmp_path, monkeypatch, how, legacy):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    ember.save({"w": ember.ones(2), "x": _Marker(how, marker)}, path,
               _use_new_zipfile_serialization=not legacy)
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed") as info:
        ember.load(path)
    assert "weights_only" in str(info.value)
    if how == "system":
        assert "is blocked" in str(info.value)
    else:
        assert "Unsupported global" in str(info.value)
        assert "add_safe_globals" in str(info.value)
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ember.load(path, weights_only=False)
    assert not marker.exists()
    unsafe = serialization.get_unsafe_globals_in_checkpoint(path)
    assert len(unsafe) == 1 and unsafe[0].endswith({"system": "system", "exec": "exec",
                                                    "open": "open"}[how])
    if how == "open":                                  # the control: the opt-in does run it
        monkeypatch.delenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD")
        ember.load(path, weights_only=False)["x"].close()
        assert marker.exists()


def test_serialization_plain_pickle_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps(_Marker("open", marker), protocol=2))
    for weights_only in (True, False):
        with pytest.raises((pickle.UnpicklingError, RuntimeError)):
            ember.load(path, weights_only=weights_only)
    assert not marker.exists()


def test_serialization_safe_globals(tmp_path):
    path = tmp_path / "f.pt"
    ember.save({"f": fractions.Fraction(1, 3)}, path)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL fractions.Fraction was not an "
                                                     "allowed global"):
        ember.load(path)
    assert serialization.get_unsafe_globals_in_checkpoint(path) == ["fractions.Fraction"]
    buf = io.BytesIO()
    ember.save([fractions.Fraction(1, 2), ember.ones(1)], buf, pickle_protocol=4)
    buf.seek(0)                                         # STACK_GLOBAL names are found too
    assert serialization.get_unsafe_globals_in_checkpoint(buf) == ["fractions.Fraction"]
    with serialization.safe_globals([fractions.Fraction]):
        assert ember.load(path)["f"] == fractions.Fraction(1, 3)
        assert serialization.get_unsafe_globals_in_checkpoint(path) == []
    assert serialization.get_safe_globals() == []
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path)
    serialization.add_safe_globals([fractions.Fraction])
    try:
        assert serialization.get_safe_globals() == [fractions.Fraction]
        assert ember.load(path)["f"] == fractions.Fraction(1, 3)
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []
    with serialization.safe_globals([os.system]):       # blocked modules stay blocked
        with pytest.raises(pickle.UnpicklingError, match="is blocked"):
            ember.save({"x": _Marker("system", tmp_path / "m")}, tmp_path / "e.pt")
            ember.load(tmp_path / "e.pt")
    assert not (tmp_path / "m").exists()


def test_serialization_weights_only_env_vars(tmp_path, monkeypatch):
    path = tmp_path / "f.pt"
    ember.save({"f": fractions.Fraction(2, 3)}, path)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.warns(UserWarning, match="TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"):
        assert ember.load(path)["f"] == fractions.Fraction(2, 3)
    with pytest.raises(pickle.UnpicklingError):          # an explicit weights_only wins
        ember.load(path, weights_only=True)
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "true")
    with pytest.raises(RuntimeError, match="Only one of"):
        ember.load(path)
    monkeypatch.delenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    with pytest.raises(pickle.UnpicklingError):
        ember.load(path, weights_only=False)
    with pytest.raises(RuntimeError, match="pickle_module"):
        ember.load(path, pickle_module=pickle, weights_only=True)


# -- atomic saves ---------------------------------------------------------------------------------

def test_serialization_killed_save_keeps_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(4), "step": 1}, path)
    before = path.read_bytes()
    started = tmp_path / "started"
    code = textwrap.dedent(f"""
        import time, ember

        class Slow:
            def __reduce__(self):
                open({str(started)!r}, "w").close()
                time.sleep(60)
                return (int, (0,))

        ember.save({{"w": ember.zeros(1 << 20), "slow": Slow(), "step": 2}}, {str(path)!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
        assert started.exists(), child.communicate(timeout=10)[1].decode()[-2000:]
        temps = [n for n in os.listdir(tmp_path) if n.startswith(".ckpt.pt.")]
        assert len(temps) == 1                         # the save is writing beside the target
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    out = ember.load(path)
    assert out["step"] == 1 and out["w"].tolist() == [1.0] * 4


def test_serialization_failed_save_leaves_no_temp_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    ember.save({"step": 1}, path)
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ember.save({"step": 2, "f": lambda: 0}, path)
    assert os.listdir(tmp_path) == ["ckpt.pt"]
    assert ember.load(path)["step"] == 1
    ember.save({"step": 3}, path)                    # a good save replaces it
    assert os.listdir(tmp_path) == ["ckpt.pt"] and ember.load(path)["step"] == 3


def test_serialization_save_through_symlink(tmp_path):
    real = tmp_path / "real.pt"
    link = tmp_path / "link.pt"
    ember.save({"step": 1}, real)
    link.symlink_to(real)
    ember.save({"step": 2}, link)
    assert link.is_symlink() and ember.load(real)["step"] == 2


# -- errors ----------------------------------------------------------------------------------------

def test_serialization_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such file or directory"):
        ember.load(tmp_path / "missing.pt")
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a checkpoint")
    with pytest.raises(pickle.UnpicklingError, match="not a checkpoint"):
        ember.load(text)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(pickle.UnpicklingError, match="not a checkpoint"):
        ember.load(empty)
    good = io.BytesIO()
    ember.save({"w": ember.ones(100)}, good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.getvalue()[:300])
    with pytest.raises(RuntimeError, match="zip archive"):
        ember.load(truncated)
    legacy = io.BytesIO()
    ember.save({"w": ember.ones(100)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="truncated"):
        ember.load(io.BytesIO(legacy.getvalue()[:-8]))
    with pytest.raises(ValueError, match="pickle_module"):
        ember.save({}, io.BytesIO(), pickle_module=object())
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        ember.save({}, tmp_path / "no" / "such" / "dir.pt")


@needs_torch
def test_serialization_unsupported_torch_content(tmp_path):
    path = tmp_path / "f4.pt"        # float8 is supported (tests/test_float8_dtypes.py)
    torch.save({"x": torch.empty(2, dtype=torch.float4_e2m1fn_x2)}, path)
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match="element type ember does not support"):
            ember.load(path, weights_only=weights_only)
    path = tmp_path / "model.pt"
    torch.save(torch.nn.Linear(2, 2), path)
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL torch.nn.modules.linear.Linear"):
        ember.load(path)
    with pytest.raises(pickle.UnpicklingError, match="ember cannot rebuild"):
        ember.load(path, weights_only=False)
    path = tmp_path / "script.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(RuntimeError, match="TorchScript"):
        ember.load(path)


def test_serialization_corrupt_geometry_rejected():
    buf = io.BytesIO()
    ember.save(ember.arange(4, dtype=ember.float32), buf)
    data = _relocate_geometry(buf.getvalue())
    with pytest.raises(RuntimeError, match="out of bounds"):
        ember.load(io.BytesIO(data))


def _relocate_geometry(data: bytes) -> bytes:
    """The checkpoint of arange(4) with its size set to 400 (reading past the storage)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            payload = src.read(name)
            if name.endswith("data.pkl"):
                assert b"K\x04\x85" in payload           # BININT1 4, TUPLE1: the size (4,)
                payload = payload.replace(b"K\x04\x85", b"M\x90\x01\x85", 1)
            dst.writestr(name, payload)
    return out.getvalue()


# -- GPU ---------------------------------------------------------------------------------------

@pytest.mark.gpu
def test_serialization_cuda_roundtrip(tmp_path):
    path = tmp_path / "g.pt"
    base = ember.arange(6, dtype=ember.float32, device="cuda")
    ember.save({"w": base, "v": base[2:], "p": ember.nn.Parameter(ember.ones(2, device="cuda"))},
               path)
    with zipfile.ZipFile(path) as z:
        assert b"cuda:0" in z.read("archive/data.pkl")
        assert len([n for n in z.namelist() if "/data/" in n]) == 2
    out = ember.load(path)
    assert out["w"].is_cuda and out["v"].is_cuda and out["p"].is_cuda
    out["w"][3] = -5.0
    assert out["v"][1].item() == -5.0
    cpu = ember.load(path, map_location="cpu")
    assert cpu["v"].device == ember.device("cpu") and cpu["v"].tolist() == [2.0, 3.0, 4.0, 5.0]
    moved = ember.load(_cuda_checkpoint(), map_location=lambda s, loc: s.cuda(0))
    assert moved["w"].is_cuda and moved["v"].tolist() == [1.0, 2.0, 3.0]
    on_gpu = ember.load(io.BytesIO(path.read_bytes()), map_location={"cuda:0": "cuda:0"})
    assert on_gpu["w"].is_cuda
    if torch is not None:
        t = torch.load(path, map_location="cpu")
        assert t["v"].tolist() == [2.0, 3.0, 4.0, 5.0]
