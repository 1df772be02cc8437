"""ember.onnx.load: models from torch.onnx.export and onnx.helper graphs run like onnxruntime,
and imported models train."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

pytestmark = pytest.mark.onnx

FLOAT = TensorProto.FLOAT


def _ort_run(model, *inputs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))


def _ember_run(model, *inputs):
    out = ember.onnx.load(model)(*[ember.from_numpy(x.copy()) for x in inputs])
    out = out if isinstance(out, tuple) else (out,)
    return [o.detach().numpy() for o in out]


def _assert_matches_ort(model, *inputs, atol=1e-5):
    want = _ort_run(model, *inputs)
    got = _ember_run(model, *inputs)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=atol)


def _export(module, *args):
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, f, dynamo=False)
    return onnx.load_from_string(f.getvalue())


def _model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", opset)])
    model.ir_version = 8
    return model


def _vi(name, shape, elem=FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def _mlp_model(rng):
    w1 = numpy_helper.from_array(rng.standard_normal((4, 8)).astype(np.float32), "fc1.weight")
    b1 = numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "fc1.bias")
    w2 = numpy_helper.from_array(rng.standard_normal((8, 3)).astype(np.float32), "fc2.weight")
    nodes = [helper.make_node("MatMul", ["x", "fc1.weight"], ["h0"]),
             helper.make_node("Add", ["h0", "fc1.bias"], ["h1"]),
             helper.make_node("Relu", ["h1"], ["h2"]),
             helper.make_node("MatMul", ["h2", "fc2.weight"], ["y"])]
    return _model(nodes, [_vi("x", [None, 4])], [_vi("y", [None, 3])], [w1, b1, w2])


def test_onnx_load_helper_mlp_matches_onnxruntime(rng):
    model = _mlp_model(rng)
    _assert_matches_ort(model, rng.standard_normal((5, 4)).astype(np.float32))


def test_onnx_load_initializers_become_named_parameters(rng):
    model = _mlp_model(rng)
    shape = numpy_helper.from_array(np.array([0, -1], np.int64), "shape")
    model.graph.initializer.append(shape)
    m = ember.onnx.load(model)
    names = dict(m.named_parameters())
    assert set(names) == {"fc1.weight", "fc1.bias", "fc2.weight"}
    assert all(p.requires_grad for p in names.values())
    assert m.onnx_names["fc1.weight"] == "fc1.weight"
    buffers = dict(m.named_buffers())
    assert list(buffers) == ["shape"] and buffers["shape"].dtype == ember.int64
    np.testing.assert_array_equal(names["fc1.bias"].detach().numpy(),
                                  numpy_helper.to_array(model.graph.initializer[1]))


def test_onnx_load_sanitizes_names():
    init = numpy_helper.from_array(np.ones(2, np.float32), "onnx::Add_7")
    node = helper.make_node("Add", ["x", "onnx::Add_7"], ["y"])
    m = ember.onnx.load(_model([node], [_vi("x", [2])], [_vi("y", [2])], [init]))
    assert m.onnx_names == {"onnx::Add_7": "onnx__Add_7"}
    np.testing.assert_array_equal(m(ember.zeros(2)).detach().numpy(), [1.0, 1.0])


def test_onnx_load_accepts_path_and_bytes(tmp_path, rng):
    model = _mlp_model(rng)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    path = tmp_path / "mlp.onnx"
    onnx.save(model, str(path))
    want = _ember_run(model, x)[0]
    for source in (str(path), path.read_bytes()):
        got = ember.onnx.load(source)(ember.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_onnx_load_unsupported_op_names_type_domain_opset():
    node = helper.make_node("DeformConv", ["x", "w", "o"], ["y"])
    model = _model([node], [_vi("x", [1, 1, 3, 3]), _vi("w", [1, 1, 1, 1]),
                            _vi("o", [1, 2, 3, 3])], [_vi("y", [1, 1, 3, 3])], opset=19)
    with pytest.raises(NotImplementedError, match=r"DeformConv.*ai\.onnx.*opset 19"):
        ember.onnx.load(model)
    custom = helper.make_node("Relu", ["x"], ["y"], domain="com.example")
    model = _model([custom], [_vi("x", [2])], [_vi("y", [2])])
    with pytest.raises(NotImplementedError, match="com.example"):
        ember.onnx.load(model)


def test_onnx_load_wrong_input_count_raises():
    m = ember.onnx.load(_model([helper.make_node("Relu", ["x"], ["y"])],
                               [_vi("x", [2])], [_vi("y", [2])]))
    with pytest.raises(TypeError, match="takes 1 inputs"):
        m(ember.zeros(2), ember.zeros(2))


@pytest.mark.parametrize("opset", [7, 11, 13])
def test_onnx_load_opset_attribute_vs_input_forms(opset, rng):
    # Squeeze/Unsqueeze axes, Split sizes, Slice bounds, Clip bounds: attributes in old
    # opsets, inputs since 10/11/13.
    inits, nodes = [], []

    def ints(name, values):
        inits.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    if opset >= 13:
        nodes.append(helper.make_node("Unsqueeze", ["x", ints("ua", [0])], ["u"]))
        nodes.append(helper.make_node("Squeeze", ["u", ints("sa", [0])], ["s"]))
        nodes.append(helper.make_node("Split", ["s", ints("sp", [1, 3])], ["p0", "p1"],
                                      axis=1))
    else:
        nodes.append(helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0]))
        nodes.append(helper.make_node("Squeeze", ["u"], ["s"], axes=[0]))
        nodes.append(helper.make_node("Split", ["s"], ["p0", "p1"], axis=1, split=[1, 3]))
    if opset >= 10:
        nodes.append(helper.make_node("Slice", ["p1", ints("st", [2, 0]), ints("en", [0, 9]),
                                                ints("ax", [0, 1]), ints("sx", [-1, 2])],
                                      ["sl"]))
    else:
        nodes.append(helper.make_node("Slice", ["p1"], ["sl"], starts=[1], ends=[3],
                                      axes=[0]))
    if opset >= 11:
        inits.append(numpy_helper.from_array(np.array(-0.5, np.float32), "lo"))
        inits.append(numpy_helper.from_array(np.array(0.5, np.float32), "hi"))
        nodes.append(helper.make_node("Clip", ["sl", "lo", "hi"], ["y"]))
    else:
        nodes.append(helper.make_node("Clip", ["sl"], ["y"], min=-0.5, max=0.5))
    model = _model(nodes, [_vi("x", [3, 4])], [_vi("y", None), _vi("p0", None)], inits,
                   opset=opset)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    _assert_matches_ort(model, x)


def test_onnx_load_reshape_allowzero_and_infer(rng):
    shape = numpy_helper.from_array(np.array([0, -1, 2], np.int64), "shape")
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    model = _model([node], [_vi("x", [2, 3, 4])], [_vi("y", None)], [shape], opset=14)
    _assert_matches_ort(model, rng.standard_normal((2, 3, 4)).astype(np.float32))


def test_onnx_load_if_and_loop_subgraphs(rng):
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"])], "then", [],
                               [_vi("t", [3])])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [],
                               [_vi("e", [3])])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "x"], ["acc_out"]),
         helper.make_node("Mul", ["acc_out", "x"], ["scan_out"])],
        "body", [_vi("i", [], TensorProto.INT64), _vi("cond_in", [], TensorProto.BOOL),
                 _vi("acc_in", [3])],
        [_vi("cond_out", [], TensorProto.BOOL), _vi("acc_out", [3]), _vi("scan_out", [3])])
    trips = numpy_helper.from_array(np.array(4, np.int64), "trips")
    nodes = [helper.make_node("If", ["c"], ["r"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Loop", ["trips", "", "r"], ["acc", "scans"], body=body)]
    model = _model(nodes, [_vi("c", [], TensorProto.BOOL), _vi("x", [3])],
                   [_vi("acc", [3]), _vi("scans", [4, 3])], [trips])
    x = rng.standard_normal(3).astype(np.float32)
    for c in (True, False):
        _assert_matches_ort(model, np.array(c), x)


# -- models exported by torch ------------------------------------------------------------

if torch is not None:
    class _Cnn(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(8)
            self.conv2 = torch.nn.Conv2d(8, 8, 3, stride=2, groups=2)
            self.fc = torch.nn.Linear(8 * 3 * 3, 5)

        def forward(self, x):
            x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv1(x))), 2)
            x = torch.nn.functional.avg_pool2d(torch.nn.functional.gelu(self.conv2(x)), 1)
            return torch.log_softmax(self.fc(x.flatten(1)), dim=-1)

    class _EncoderLayer(torch.nn.Module):
        """A pre-norm Transformer encoder layer written out (torch 2.13's legacy exporter
        cannot trace nn.TransformerEncoderLayer: its is_causal argument becomes a tensor)."""

        def __init__(self, d=16, heads=2, ff=32):
            super().__init__()
            self.heads = heads
            self.qkv = torch.nn.Linear(d, 3 * d)
            self.proj = torch.nn.Linear(d, d)
            self.norm1 = torch.nn.LayerNorm(d)
            self.norm2 = torch.nn.LayerNorm(d)
            self.ff1 = torch.nn.Linear(d, ff)
            self.ff2 = torch.nn.Linear(ff, d)

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
            q, k, v = (z.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)
                       for z in (q, k, v))
            att = torch.softmax(q @ k.transpose(-2, -1) / (d // self.heads) ** 0.5, dim=-1)
            y = (att @ v).transpose(1, 2).reshape(b, t, d)
            x = x + self.proj(y)
            return x + self.ff2(torch.nn.functional.gelu(self.ff1(self.norm2(x))))


def _torch_models():
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    cnn = _Cnn()
    with torch.no_grad():            # non-trivial running statistics
        cnn.bn.running_mean.uniform_(-0.5, 0.5)
        cnn.bn.running_var.uniform_(0.5, 2.0)
    return {"mlp": (mlp, (6, 4)), "cnn": (cnn.eval(), (2, 3, 14, 14)),
            "encoder": (_EncoderLayer().eval(), (2, 5, 16))}


@needs_torch
@pytest.mark.parametrize("name", ["mlp", "cnn", "encoder"])
def test_onnx_load_torch_export_matches_onnxruntime_and_torch(name):
    module, shape = _torch_models()[name]
    x = torch.randn(*shape)
    model = _export(module, x)
    _assert_matches_ort(model, x.numpy())
    got = _ember_run(model, x.numpy())[0]
    np.testing.assert_allclose(got, module(x).detach().numpy(), rtol=1e-5, atol=1e-5)


@needs_torch
def test_onnx_load_torch_export_keeps_state_dict_names():
    module, shape = _torch_models()["mlp"]
    m = ember.onnx.load(_export(module, torch.randn(*shape)))
    assert set(m.state_dict()) == set(module.state_dict())
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(m.state_dict()[key].numpy(), value.numpy())


@needs_torch
def test_onnx_load_fine_tune_step_matches_torch():
    module, shape = _torch_models()["mlp"]
    x, target = torch.randn(*shape), torch.randn(shape[0], 3)
    m = ember.onnx.load(_export(module, x))
    ex, et = ember.from_numpy(x.numpy().copy()), ember.from_numpy(target.numpy().copy())

    opt_t = torch.optim.SGD(module.parameters(), lr=0.1)
    opt_e = ember.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(2):
        loss_t = torch.nn.functional.mse_loss(module(x), target)
        opt_t.zero_grad()
        loss_t.backward()
        opt_t.step()
        loss_e = ember.nn.functional.mse_loss(m(ex), et)
        opt_e.zero_grad()
        loss_e.backward()
        for key, p in m.named_parameters():
            assert p.grad is not None, key
        opt_e.step()
        np.testing.assert_allclose(loss_e.item(), loss_t.item(), rtol=1e-5)
    after = m(ex).detach().numpy()
    np.testing.assert_allclose(after, module(x).detach().numpy(), rtol=1e-5, atol=1e-6)


@needs_torch
def test_onnx_load_encoder_parameters_get_gradients():
    module, shape = _torch_models()["encoder"]
    x = torch.randn(*shape)
    m = ember.onnx.load(_export(module, x))
    before = m(ember.from_numpy(x.numpy().copy()))
    before.square().mean().backward()
    grads = {k: p.grad for k, p in m.named_parameters()}
    assert grads and all(g is not None and float(g.abs().sum()) > 0 for g in grads.values())
    opt = ember.optim.SGD(m.parameters(), lr=0.05)
    opt.step()
    after = m(ember.from_numpy(x.numpy().copy()))
    assert float((after - before.detach()).abs().max()) > 1e-4


if torch is not None:
    class _Recurrent(torch.nn.Module):
        def __init__(self, kind):
            super().__init__()
            cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
            self.rnn = cls(5, 6, num_layers=2, bidirectional=True, batch_first=True)

        def forward(self, x):
            y, _ = self.rnn(x)
            return y

    class _Upsampler(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.up = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1,
                                               output_padding=1)

        def forward(self, x):
            x = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
            x = torch.nn.functional.interpolate(x, size=(9, 7), mode="bilinear",
                                                align_corners=False)
            x = torch.nn.functional.pad(x, (1, 2, 0, 1), mode="reflect")
            return self.up(x)


@needs_torch
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_onnx_load_torch_recurrent_matches_onnxruntime(kind):
    torch.manual_seed(0)
    module = _Recurrent(kind).eval()
    x = torch.randn(3, 4, 5)
    model = _export(module, x)
    assert kind.upper() in {n.op_type for n in model.graph.node}
    _assert_matches_ort(model, x.numpy())
    np.testing.assert_allclose(_ember_run(model, x.numpy())[0], module(x).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@needs_torch
def test_onnx_load_torch_resize_pad_conv_transpose_matches_onnxruntime():
    torch.manual_seed(0)
    module = _Upsampler().eval()
    x = torch.randn(2, 3, 4, 3)
    model = _export(module, x)
    assert {"Resize", "Pad", "ConvTranspose"} <= {n.op_type for n in model.graph.node}
    _assert_matches_ort(model, x.numpy())


def test_onnx_import_works_without_onnx_installed():
    import subprocess
    import sys
    code = ("import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
            "import ember, ember.onnx\n"
            "assert 'Conv' in ember.onnx.supported_ops()\n"
            "try:\n    ember.onnx.load(b'')\nexcept ImportError as e:\n"
            "    assert 'pip install onnx' in str(e)\nelse:\n    raise SystemExit(1)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.gpu
def test_onnx_load_runs_on_cuda(rng):
    # Shape, ConstantOfShape and Range make tensors inside the graph: they must land on
    # the inputs' device.
    model = _mlp_model(rng)
    extra = [helper.make_node("Shape", ["y"], ["s"]),
             helper.make_node("ConstantOfShape", ["s"], ["ones"],
                              value=numpy_helper.from_array(np.ones(1, np.float32))),
             helper.make_node("Add", ["y", "ones"], ["z"])]
    model.graph.node.extend(extra)
    model.graph.output[0].CopyFrom(_vi("z", [None, 3]))
    x = rng.standard_normal((5, 4)).astype(np.float32)
    m = ember.onnx.load(model)
    want = m(ember.from_numpy(x)).detach().numpy()
    m = m.to("cuda")
    got = m(ember.from_numpy(x).to("cuda"))
    assert got.device.type == "cuda"
    np.testing.assert_allclose(got.cpu().detach().numpy(), want, rtol=1e-5, atol=1e-6)
    got.sum().backward()
    assert m.fc1.weight.grad.device.type == "cuda"


def test_onnx_load_op_error_keeps_class_and_names_the_node():
    import sys
    node = helper.make_node("MatMul", ["a", "b"], ["y"], name="mm1")
    m = ember.onnx.load(_model([node], [_vi("a", [2, 3]), _vi("b", [4, 5])],
                               [_vi("y", None)]))
    with pytest.raises(RuntimeError, match="cannot be multiplied") as info:
        m(ember.zeros(2, 3), ember.zeros(4, 5))
    if sys.version_info >= (3, 11):
        assert any("'mm1' (MatMul" in note for note in info.value.__notes__)


@needs_torch
def test_onnx_load_dynamic_batch_shape_subgraph():
    # dynamic_axes makes the exporter compute shapes in the graph (Shape, Gather, Concat,
    # Reshape); the imported model then runs at other batch sizes and sequence lengths.
    module, shape = _torch_models()["encoder"]
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(*shape),), f, dynamo=False,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch", 1: "time"}})
    model = onnx.load_from_string(f.getvalue())
    assert "Shape" in {n.op_type for n in model.graph.node}
    for b, t in [(1, 3), (4, 7)]:
        x = torch.randn(b, t, shape[2])
        _assert_matches_ort(model, x.numpy())
