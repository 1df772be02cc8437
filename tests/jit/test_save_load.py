"""ember.jit.save / ember.jit.load: graph + weights in one file, no Python class needed."""

import collections
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.jit.ir import Graph


def _roundtrip(traced, **load_kwargs):
    buf = io.BytesIO()
    ember.jit.save(traced, buf)
    buf.seek(0)
    return ember.jit.load(buf, **load_kwargs)


def _close(a, b, tol=1e-6):
    np.testing.assert_allclose(np.asarray(a.detach()), np.asarray(b.detach()), rtol=tol,
                               atol=tol)


class Net(nn.Module):
    """Conv, batch norm (eval), pooling, dropout (eval), a namedtuple output."""

    Out = collections.namedtuple("Out", ["logits", "features"])

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        feats = self.drop(h).flatten(1)
        return self.Out(self.head(feats), feats)


def test_save_load_roundtrip_values_names_and_parameters():
    ember.manual_seed(0)
    net = Net().eval()
    x = ember.randn(2, 3, 8, 8)
    traced = ember.jit.trace(net, x)
    loaded = _roundtrip(traced)
    assert isinstance(loaded, ember.jit.TracedModule) and not loaded.training
    assert list(loaded.state_dict()) == list(net.state_dict())
    assert all(isinstance(p, nn.Parameter) for p in loaded.parameters())
    assert loaded.bn.running_mean is not net.bn.running_mean          # its own tensors
    y = ember.randn(2, 3, 8, 8)
    got, ref = loaded(y), net(y)
    assert type(got).__name__ == "Out" and got._fields == ("logits", "features")
    _close(got.logits, ref.logits)
    _close(got.features, ref.features)
    assert str(loaded.graph).count("\n") == str(traced.graph).count("\n")
    assert loaded.code == traced.code
    assert "Conv2d" in repr(loaded)


def test_save_load_to_path_and_extra_files(tmp_path):
    m = nn.Linear(3, 2)
    traced = ember.jit.trace(m, ember.ones(1, 3))
    path = tmp_path / "model.pt"
    traced.save(str(path), _extra_files={"meta.txt": "hello"})
    extra = {"meta.txt": ""}
    loaded = ember.jit.load(path, map_location="cpu", _extra_files=extra)
    assert extra["meta.txt"] == b"hello"
    _close(loaded(ember.ones(4, 3)), m(ember.ones(4, 3)))
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]              # no temporary left


def test_loaded_module_fine_tunes():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    loaded = _roundtrip(ember.jit.trace(model, ember.randn(5, 4)))
    import copy
    eager = copy.deepcopy(model)
    opt_l = ember.optim.Adam(loaded.parameters(), lr=0.01)
    opt_e = ember.optim.Adam(eager.parameters(), lr=0.01)
    for _ in range(3):
        x, y = ember.randn(5, 4), ember.randn(5, 1)
        for net, opt in ((loaded, opt_l), (eager, opt_e)):
            opt.zero_grad()
            F.mse_loss(net(x), y).backward()
            opt.step()
    for a, b in zip(loaded.parameters(), eager.parameters()):
        assert a.grad is not None
        _close(a, b, 1e-6)
    x = ember.randn(5, 4)
    _close(loaded(x), eager(x), 1e-6)


def test_save_load_batchnorm_training_updates_loaded_buffers():
    ember.manual_seed(0)
    bn = nn.BatchNorm1d(3)
    loaded = _roundtrip(ember.jit.trace(bn, ember.randn(6, 3), check_trace=False))
    assert loaded.training
    before = loaded.running_mean.clone()
    saved_original = bn.running_mean.clone()
    loaded(ember.randn(6, 3) + 3)
    assert not ember.equal(loaded.running_mean, before)
    assert ember.equal(bn.running_mean, saved_original)               # not the original's


def test_save_load_attribute_encodings():
    idx = ember.tensor([2, 0])

    def f(x):
        a = x[..., None, 1:]                               # Ellipsis, None, slice
        b = x[idx].to(ember.float64)                       # array index, dtype
        c = x.clamp(min=float("-inf"), max=0.5)            # inf
        d = x.to("cpu").sum(dim=(0, 1), keepdim=True)      # device, tuples
        return a.sum() + b.sum() + c.sum() + d.sum(), {"idx": x.argmax(dim=1)}

    x = ember.randn(3, 4)
    traced = ember.jit.trace(f, x, strict=False)
    loaded = _roundtrip(traced)
    y = ember.randn(3, 4)
    got, ref = loaded(y), f(y)
    _close(got[0], ref[0])
    assert got[0].dtype == ember.float64
    np.testing.assert_array_equal(got[1]["idx"].numpy(), ref[1]["idx"].numpy())


@pytest.mark.parametrize("kind", ["lstm", "transformer"])
def test_save_load_recurrent_and_attention(kind):
    ember.manual_seed(0)
    if kind == "lstm":
        m, x = nn.LSTM(3, 4, batch_first=True), ember.randn(2, 5, 3)
    else:
        m = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        x = ember.randn(2, 4, 8)
    m.eval()
    loaded = _roundtrip(ember.jit.trace(m, x, strict=False))
    for a, b in zip(ember.utils._pytree.tree_leaves(loaded(x)),
                    ember.utils._pytree.tree_leaves(m(x))):
        _close(a, b, 1e-5)


def test_save_load_traced_function():
    f = ember.jit.trace(lambda x: (x * 2).relu() + ember.ones(3), ember.ones(3))
    loaded = _roundtrip(f)
    x = ember.tensor([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(loaded(x).numpy(), [1.0, 2.0, 5.0])


def _tamper(traced, edit):
    buf = io.BytesIO()
    ember.jit.save(traced, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    doc = json.loads(src.read("graph.json"))
    edit(doc)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name in src.namelist():
            data = json.dumps(doc) if name == "graph.json" else src.read(name)
            z.writestr(name, data)
    out.seek(0)
    return out


class _Foreign(ember._dispatch.Op):
    """An Op subclass outside ember: a saved graph may not name it."""

    name = "foreign"

    @staticmethod
    def forward(ctx, x):
        return x


@pytest.mark.parametrize("ref", ["os.system", "builtins.eval", "ember.ops.elementwise.Nope",
                                 f"{__name__}._Foreign"])
def test_load_refuses_non_ember_ops(ref):
    traced = ember.jit.trace(nn.Linear(2, 2), ember.ones(1, 2))

    def edit(doc):
        doc["nodes"][0]["op"] = ref

    with pytest.raises(ValueError, match="ember"):
        ember.jit.load(_tamper(traced, edit))


def test_load_refuses_foreign_attribute_ops():
    traced = ember.jit.trace(lambda x: x * 2, ember.ones(2))

    def edit(doc):
        doc["nodes"][0]["attrs"]["evil"] = {"op": "subprocess.Popen"}

    with pytest.raises(ValueError, match="ember's own ops only"):
        ember.jit.load(_tamper(traced, edit))


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(RuntimeError, match="not a zip archive"):
        ember.jit.load(io.BytesIO(b"not a zip"))
    path = tmp_path / "ckpt.pt"
    ember.save({"w": ember.ones(2)}, str(path))
    with pytest.raises(RuntimeError, match="not an ember.jit file"):
        ember.jit.load(str(path))


def test_save_refuses_unsaveable_attributes():
    gen = ember.Generator().manual_seed(1)

    def f(x):
        return x + ember.rand(x.shape, generator=gen)

    traced = ember.jit.trace(f, ember.ones(2), check_trace=False)
    with pytest.raises(TypeError, match="cannot save attribute 'generator'"):
        ember.jit.save(traced, io.BytesIO())


def test_file_holds_json_graph_and_no_pickled_code():
    traced = ember.jit.trace(nn.Linear(2, 2), ember.ones(1, 2))
    buf = io.BytesIO()
    ember.jit.save(traced, buf)
    z = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert set(z.namelist()) == {"graph.json", "data.pt"}
    doc = json.loads(z.read("graph.json"))
    assert doc["nodes"][0]["op"] == "ember.ops.conv.Linear"
    assert [p["name"] for p in doc["params"]] == ["weight", "bias"]
    assert isinstance(Graph(), Graph)


def test_load_in_fresh_process_without_the_class(tmp_path):
    class Secret(nn.Module):                    # defined here only: the child never sees it
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.LayerNorm(6))
            self.out = nn.Linear(6, 2)

        def forward(self, x):
            return self.out(self.body(x)).softmax(dim=-1)

    ember.manual_seed(0)
    m = Secret()
    x = ember.randn(3, 4)
    path = tmp_path / "secret.pt"
    ember.jit.save(ember.jit.trace(m, x), str(path))
    np.save(tmp_path / "x.npy", x.numpy())
    script = textwrap.dedent(f"""
        import sys, numpy as np, ember
        m = ember.jit.load({str(path)!r})
        assert "tests" not in sys.modules
        x = ember.tensor(np.load({str(tmp_path / "x.npy")!r}))
        y = m(x)
        y.sum().backward()
        assert m.out.weight.grad is not None
        np.save({str(tmp_path / "y.npy")!r}, y.detach().numpy())
        print(type(m).__name__, m.original_name)
    """)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=str(tmp_path), env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["TracedModule", "Secret"]
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), m(x).detach().numpy(), rtol=1e-6,
                               atol=1e-7)


def test_save_load_low_precision_constants():
    c = ember.tensor([1.5, -2.0]).to(ember.bfloat16)
    traced = ember.jit.trace(lambda x: x * c, ember.ones(2, dtype=ember.bfloat16))
    loaded = _roundtrip(traced)
    x = ember.tensor([2.0, 3.0]).to(ember.bfloat16)
    out = loaded(x)
    assert out.dtype == ember.bfloat16
    np.testing.assert_array_equal(out.float().numpy(), [3.0, -6.0])


@pytest.mark.gpu
def test_save_on_cuda_load_on_cpu():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 3), nn.Tanh()).cuda()
    x = ember.randn(2, 4, device="cuda")
    buf = io.BytesIO()
    ember.jit.save(ember.jit.trace(m, x), buf)
    buf.seek(0)
    loaded = ember.jit.load(buf, map_location="cpu")
    assert next(loaded.parameters()).device.type == "cpu"
    _close(loaded(x.cpu()), m(x).cpu(), 1e-5)
    buf.seek(0)
    on_gpu = ember.jit.load(buf)
    assert next(on_gpu.parameters()).device.type == "cuda"
    _close(on_gpu(x).cpu(), m(x).cpu(), 1e-5)
