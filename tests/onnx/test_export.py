"""ember.onnx.export: every export passes onnx.checker and runs in onnxruntime with ember's
outputs (float32, within 1e-5)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.utils._pytree import tree_leaves

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.onnx

ATOL = 1e-5


def _session(proto):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(proto.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def _export_and_run(model, args, run_args=None, atol=ATOL, **kw):
    """Export model(*args), run the ONNX model on run_args (default args) in onnxruntime and
    compare with ember's outputs. Returns the ModelProto."""
    args = args if isinstance(args, tuple) else (args,)
    buf = io.BytesIO()
    proto = ember.onnx.export(model, args, buf, **kw)
    assert buf.getvalue() == proto.SerializeToString()
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    run_args = args if run_args is None else run_args
    if isinstance(model, nn.Module):
        model.eval()
    with ember.no_grad():
        want = tree_leaves(model(*run_args))
    sess = _session(proto)
    feeds = {i.name: np.asarray(a.numpy()) for i, a in zip(sess.get_inputs(), run_args)}
    got = sess.run(None, feeds)
    assert len(got) == len(want)
    for w, g in zip(want, got):
        assert tuple(w.shape) == g.shape
        assert w.numpy().dtype == g.dtype
        np.testing.assert_allclose(g, w.numpy(), rtol=0, atol=atol)
    return proto


def _op_types(proto):
    return [n.op_type for n in proto.graph.node]


# -- models ----------------------------------------------------------------------------------

def test_export_mlp_gemm_and_names(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(-1))
    proto = _export_and_run(model, ember.randn(2, 4), input_names=["x"], output_names=["probs"])
    assert _op_types(proto) == ["Gemm", "Relu", "Gemm", "Softmax"]
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["probs"]
    assert sorted(t.name for t in proto.graph.initializer) == \
        ["0.bias", "0.weight", "2.bias", "2.weight"]
    path = tmp_path / "mlp.onnx"
    ember.onnx.export(model, (ember.randn(2, 4),), str(path))
    assert onnx.load(str(path)).graph.node[0].op_type == "Gemm"


def test_export_mlp_3d_input_matmul():
    model = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 2, bias=False), nn.Tanh())
    proto = _export_and_run(model, ember.randn(2, 3, 4))
    assert "MatMul" in _op_types(proto)


class _CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout(0.5)
        self.conv2 = nn.Conv2d(6, 8, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.avg = nn.AvgPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv1(x))))
        x = self.drop(x)
        x = self.avg(F.relu(self.bn2(self.conv2(x))))
        x = self.gap(x)
        return self.fc(x.view(x.size(0), -1))


def _trained_bn(model, x):
    model.train()
    with ember.no_grad():
        model(x)            # running statistics away from their initial 0 and 1
    model.eval()
    return model


def test_export_cnn_batchnorm_pool_dropout_eval():
    x = ember.randn(2, 3, 8, 8)
    model = _trained_bn(_CNN(), x)
    proto = _export_and_run(model, x)
    ops = _op_types(proto)
    assert "BatchNormalization" in ops and "MaxPool" in ops and "Conv" in ops
    assert "Dropout" not in ops and "RandomUniformLike" not in ops
    names = {t.name for t in proto.graph.initializer}
    assert {"bn.running_mean", "bn.running_var", "conv1.weight"} <= names
    assert model.training is False


def test_export_keeps_training_flag_restored():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.2))
    model.train()
    model[1].eval()
    _ = ember.onnx.export(model, (ember.randn(1, 3),))
    assert model.training is True and model[0].training is True
    assert model[1].training is False


@pytest.mark.parametrize("batch_first", [True, False])
def test_export_lstm_bidirectional_multilayer(batch_first):
    model = nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = ember.randn(2, 3, 4)
    proto = _export_and_run(model, x)
    lstm = [n for n in proto.graph.node if n.op_type == "LSTM"]
    assert len(lstm) == 2          # one per layer, both directions stacked
    assert all(onnx.helper.get_attribute_value(a) == b"bidirectional"
               for n in lstm for a in n.attribute if a.name == "direction")


@pytest.mark.parametrize("bidirectional", [False, True])
def test_export_lstm_with_initial_state(bidirectional):
    D = 2 if bidirectional else 1
    model = nn.LSTM(3, 4, num_layers=2, bidirectional=bidirectional)
    x, h0, c0 = ember.randn(5, 2, 3), ember.randn(2 * D, 2, 4), ember.randn(2 * D, 2, 4)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = model

        def forward(self, x, h0, c0):
            return self.lstm(x, (h0, c0))

    _export_and_run(Wrap(), (x, h0, c0))


def test_export_gru_bidirectional_multilayer():
    model = nn.GRU(4, 5, num_layers=2, bidirectional=True)
    proto = _export_and_run(model, ember.randn(3, 2, 4))
    assert _op_types(proto).count("GRU") == 2


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_export_rnn(nonlinearity):
    model = nn.RNN(3, 4, num_layers=2, nonlinearity=nonlinearity, batch_first=True,
                   bidirectional=nonlinearity == "relu")
    proto = _export_and_run(model, ember.randn(2, 5, 3))
    assert _op_types(proto).count("RNN") == 2


# The layers check in Python whether the mask is causal (a TracerWarning, as in torch).
@pytest.mark.filterwarnings("ignore::ember.jit.TracerWarning")
def test_export_transformer_encoder_with_masks():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    x = ember.randn(2, 5, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    pad = ember.tensor([[False] * 5, [False] * 3 + [True] * 2])

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = model

        def forward(self, x, mask, pad):
            return self.enc(x, mask=mask, src_key_padding_mask=pad)

    pad_f = ember.zeros(2, 5).masked_fill(pad, float("-inf"))
    _export_and_run(Wrap(), (x, mask, pad_f))


# The layers check in Python whether the mask is causal (a TracerWarning, as in torch).
@pytest.mark.filterwarnings("ignore::ember.jit.TracerWarning")
def test_export_transformer_decoder_with_masks():
    layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True, norm_first=True)
    model = nn.TransformerDecoder(layer, 2)
    tgt, memory = ember.randn(2, 4, 8), ember.randn(2, 6, 8)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.dec = model

        def forward(self, tgt, memory, tgt_mask):
            return self.dec(tgt, memory, tgt_mask=tgt_mask)

    _export_and_run(Wrap(), (tgt, memory, tgt_mask))


def test_export_sdpa_causal_and_masked():
    q, k, v = ember.randn(2, 2, 4, 8), ember.randn(2, 2, 4, 8), ember.randn(2, 2, 4, 8)
    bool_mask = ember.tensor([[True, True, False, True]] * 4)

    def fn(q, k, v, m):
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        b = F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.3)
        return a, b

    _export_and_run(fn, (q, k, v, bool_mask))


class _TinyLM(nn.Module):
    def __init__(self, vocab=11, dim=8, seq=6):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(seq, dim)
        self.ln1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 16), nn.GELU(approximate="tanh"),
                                 nn.Linear(16, dim))
        self.ln_f = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)
        self.register_buffer("positions", ember.arange(seq))

    def forward(self, idx):
        T = idx.shape[1]
        h = self.tok(idx) + self.pos(self.positions[:T])
        a = self.ln1(h)
        mask = ember.ones(T, T, dtype=ember.bool).triu(1)
        h = h + self.attn(a, a, a, attn_mask=mask, need_weights=False)[0]
        h = h + self.mlp(self.ln2(h))
        return F.log_softmax(self.head(self.ln_f(h)), dim=-1)


@pytest.mark.parametrize("opset", [13, 17, 18])
def test_export_embedding_layernorm_language_model(opset):
    model = _TinyLM()
    idx = ember.randint(0, 11, (2, 6))
    proto = _export_and_run(model, idx, opset_version=opset)
    ops = _op_types(proto)
    assert "Gather" in ops
    assert ("LayerNormalization" in ops) == (opset >= 17)
    assert proto.opset_import[0].version == opset


# -- dynamic axes ----------------------------------------------------------------------------

def test_export_dynamic_batch_mlp():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    x = ember.randn(2, 3, 4)
    proto = _export_and_run(model, x, run_args=(ember.randn(5, 3, 4),), input_names=["x"],
                            output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": [0]})
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param


def test_export_dynamic_batch_cnn():
    x = ember.randn(2, 3, 8, 8)
    model = _trained_bn(_CNN(), x)
    for n in (1, 7):
        _export_and_run(model, x, run_args=(ember.randn(n, 3, 8, 8),), input_names=["img"],
                        dynamic_axes={"img": [0]})


def test_export_dynamic_batch_lstm_and_lm():
    lstm = nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True)
    _export_and_run(lstm, ember.randn(2, 3, 4), run_args=(ember.randn(4, 3, 4),),
                    input_names=["x"], dynamic_axes={"x": [0]})
    model = _TinyLM()
    _export_and_run(model, ember.randint(0, 11, (2, 6)),
                    run_args=(ember.randint(0, 11, (3, 6)),), input_names=["idx"],
                    dynamic_axes={"idx": [0]})


@pytest.mark.filterwarnings("ignore::ember.jit.TracerWarning")
def test_export_dynamic_batch_transformer_encoder():
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def pad_mask(rows):            # bool: the layer turns it into an additive mask inside
        return ember.tensor(rows)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = model

        def forward(self, x, mask, pad):
            return self.enc(x, mask=mask, src_key_padding_mask=pad)

    mask = ember.randn(5, 5) > 1.0          # bool like the padding mask (no mixed types)
    mask.fill_diagonal_(False)
    x = ember.randn(2, 5, 8)
    pad = pad_mask([[False] * 5, [False] * 3 + [True] * 2])
    x3 = ember.randn(3, 5, 8)
    pad3 = pad_mask([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])
    _export_and_run(Wrap(), (x, mask, pad), run_args=(x3, mask, pad3),
                    input_names=["x", "mask", "pad"], dynamic_axes={"x": [0], "pad": [0]})


def test_export_dynamic_batch_and_sequence_gru():
    model = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    proto = _export_and_run(model, ember.randn(5, 2, 3), run_args=(ember.randn(7, 3, 3),),
                            input_names=["x"], dynamic_axes={"x": {0: "time", 1: "batch"}})
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims[:2]] == ["time", "batch"]
    assert "MatMul" not in _op_types(proto)    # the input projection is inside each GRU op


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_export_rnn_projection_fallback(monkeypatch, mode):
    # Without ember's projection pattern the ONNX op gets the projection and a permutation W.
    from ember.onnx import _export_ops
    monkeypatch.setattr(_export_ops, "_rnn_projections", lambda graph: {})
    model = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True)
    proto = _export_and_run(model, ember.randn(5, 2, 3))
    assert "MatMul" in _op_types(proto) and _op_types(proto).count(mode) == 4
    assert any(t.name.startswith("rnn_W") for t in proto.graph.initializer)


def test_export_without_dynamic_axes_bakes_shapes():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    proto = ember.onnx.export(model, (ember.randn(2, 3, 4),))
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [2, 3, 4]
    with pytest.raises(Exception, match="(?i)shape|dimension|reshape"):
        _session(proto).run(None, {proto.graph.input[0].name:
                                   np.zeros((5, 3, 4), np.float32)})


def test_export_dynamic_uniform_constant_follows_shape():
    def fn(x):
        return x.new_ones(x.shape[0], 3) * 2 + x[:, :3]
    proto = _export_and_run(fn, (ember.randn(2, 4),), run_args=(ember.randn(6, 4),),
                            input_names=["x"], dynamic_axes={"x": [0]})
    assert "ConstantOfShape" in _op_types(proto)


def test_export_dynamic_axis_the_model_fixes_raises():
    model = nn.Linear(4, 2)
    with pytest.raises(RuntimeError, match="one longer"):
        ember.onnx.export(model, (ember.randn(2, 4),), input_names=["x"],
                          dynamic_axes={"x": [1]})


def test_export_dynamic_axis_that_cannot_follow_raises():
    def fn(x):
        return ember.arange(x.shape[0]).float()[:, None] + x
    with pytest.raises(RuntimeError, match="dynamic"):
        ember.onnx.export(fn, (ember.randn(2, 4),), input_names=["x"],
                          dynamic_axes={"x": [0]})


# -- options and errors ----------------------------------------------------------------------

def test_export_unsupported_op_names_op_and_opset():
    def fn(x):
        return ember.linalg.det(x)
    with pytest.raises(ember.onnx.UnsupportedOperatorError,
                       match=r"Exporting the operator 'ember::linalg.det' to ONNX opset "
                             r"version 15 is not supported"):
        ember.onnx.export(fn, (ember.randn(3, 3),), opset_version=15)


def test_export_max_pool_indices_unsupported():
    def fn(x):
        return F.max_pool2d(x, 2, return_indices=True)[1].float()
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="max_pool"):
        ember.onnx.export(fn, (ember.randn(1, 1, 4, 4),))


def test_export_training_mode_dropout_is_unsupported():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    with pytest.raises(ember.onnx.UnsupportedOperatorError, match="'ember::bernoulli'"):
        ember.onnx.export(model, (ember.randn(2, 3),), training=ember.onnx.TrainingMode.TRAINING)


def test_export_name_collisions_raise():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="input name 'weight'"):
        ember.onnx.export(model, (ember.randn(1, 2),), input_names=["weight"])
    with pytest.raises(ValueError, match="output name 'x'"):
        ember.onnx.export(model, (ember.randn(1, 2),), input_names=["x"], output_names=["x"])


def test_export_isnan_isinf_and_logic():
    def fn(x, i):
        return x.isnan() | x.isinf(), i.isnan(), ~(x > 0) ^ (x < 1), ember.logical_not(x > 0)

    x = ember.tensor([1.0, float("nan"), float("inf"), -2.0])
    _export_and_run(fn, (x, ember.tensor([1, 2, 3, 4])))


def test_export_verbose_prints_both_graphs(capsys):
    ember.onnx.export(nn.Linear(2, 2), (ember.randn(1, 2),), verbose=True)
    out = capsys.readouterr().out
    assert "linear(" in out and "Gemm" in out


def test_export_bad_opset():
    with pytest.raises(ValueError, match="opset"):
        ember.onnx.export(nn.Linear(2, 2), (ember.randn(1, 2),), opset_version=9)


def test_export_params_false_makes_inputs():
    model = nn.Linear(3, 2)
    proto = ember.onnx.export(model, (ember.randn(4, 3),), export_params=False)
    assert not proto.graph.initializer
    assert [i.name for i in proto.graph.input] == ["input_0", "weight", "bias"]
    sess = _session(proto)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    got = sess.run(None, {"input_0": x, "weight": model.weight.detach().numpy(),
                          "bias": model.bias.detach().numpy()})[0]
    np.testing.assert_allclose(got, model(ember.tensor(x)).detach().numpy(), atol=ATOL)


def test_export_constant_folding_and_dead_code():
    w = ember.randn(3, 3)

    def fn(x):
        unused = x.exp()        # dead: not exported
        del unused
        return x @ (w.t() * 2 + 1)

    folded = _export_and_run(fn, (ember.randn(2, 3),))
    assert _op_types(folded) == ["MatMul"]
    plain = _export_and_run(fn, (ember.randn(2, 3),), do_constant_folding=False)
    assert _op_types(plain) == ["Transpose", "Mul", "Add", "MatMul"]


@pytest.mark.parametrize("opset", [13, 18])
def test_export_elementwise_mix_and_dtypes(opset):
    def fn(x, i):
        y = (x * 2 - 1) / 3 + x.pow(2) - x.abs().sqrt().exp().log() + ember.rsqrt(x * x + 1)
        y = ember.where(x > 0, y, -y).clamp(-2, 2) + i.float() + F.silu(x) + F.leaky_relu(x, 0.1)
        z = ember.cat([y, x.sigmoid()], 1).sum(1, keepdim=True) + x.amax(1, keepdim=True)
        m = x.masked_fill(x < -0.5, 0.0).mean((0, 1)) + x.var(0).sum() + (i > 1).all().float()
        return z, m, x.max(1), x.argmax(-1), (x.long() + i).to(ember.int32)

    _export_and_run(fn, (ember.randn(3, 4), ember.randint(0, 3, (3, 4))), opset_version=opset)


def test_export_shape_ops():
    def fn(x):
        a = x[:, 1:3, ::2].transpose(1, 2).reshape(2, -1)
        b = x[0, :, -1].unsqueeze(0).expand(3, 3)
        c = ember.stack(x.split([1, 3], 2)[1].unbind(1), 0)
        d = x.permute(2, 0, 1)[None, ..., 1].flip(-1).repeat(1, 2, 1)
        e = F.pad(x, (1, 2), value=0.5).cumsum(-1).tril() + x.flatten(1).chunk(2, 1)[0].sum()
        return a, b, c, d, e, x[:, ember.tensor([2, 0])]

    _export_and_run(fn, (ember.randn(2, 3, 4),))


@pytest.mark.parametrize("opset", [13, 14, 18])
def test_export_conv_transpose_and_activations(opset):
    model = nn.Sequential(nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1),
                          nn.ELU(), nn.Identity(),
                          nn.Hardswish(), nn.Softplus(beta=2.0), nn.Mish(), nn.SELU(),
                          nn.Hardsigmoid(), nn.LogSigmoid(), nn.Hardtanh(-0.5, 0.5),
                          nn.CELU(0.7), nn.SiLU(), nn.GELU(), nn.Softsign(), nn.ReLU6())
    _export_and_run(model, ember.randn(1, 2, 4, 4), opset_version=opset)


def test_export_rules_name_real_ops():
    from ember.jit.ir import resolve_op
    from ember.onnx._export_ops import RULES
    for ref in RULES:
        assert resolve_op(ref).__name__ == ref.rsplit(".", 1)[-1]


def test_export_module_import_does_not_need_onnx():
    import subprocess
    import sys
    code = ("import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
            "import ember, ember.onnx\nprint(ember.onnx.export.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "export"


@pytest.mark.gpu
def test_export_cuda_model_runs_on_cpu_runtime():
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))
    model = model.cuda().eval()
    x = ember.randn(1, 2, 4, 4, device="cuda")
    proto = ember.onnx.export(model, (x,))
    got = _session(proto).run(None, {"input_0": x.cpu().numpy()})[0]
    with ember.no_grad():
        want = model(x).cpu().numpy()
    np.testing.assert_allclose(got, want, atol=1e-4)


def _two(m1, m2):
    """A function applying m1 and m2 (built outside it: module init is random, not traced)."""
    return lambda a, b: (m1(a), m2(b))


_MORE = {
    "group_norm": (lambda: nn.GroupNorm(2, 4), lambda: (ember.randn(2, 4, 3, 3),)),
    "instance_norm": (lambda: nn.InstanceNorm2d(4, affine=True),
                      lambda: (ember.randn(2, 4, 3, 3),)),
    "upsample_nearest": (lambda: nn.Upsample(scale_factor=2), lambda: (ember.randn(1, 2, 3, 3),)),
    "upsample_bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
                          lambda: (ember.randn(1, 2, 3, 3),)),
    "reflection_pad": (lambda: nn.ReflectionPad2d((1, 2, 0, 1)),
                       lambda: (ember.randn(1, 2, 4, 4),)),
    "replication_pad": (lambda: nn.ReplicationPad1d(2), lambda: (ember.randn(1, 2, 4),)),
    "global_max_pool": (lambda: nn.AdaptiveMaxPool2d(1), lambda: (ember.randn(2, 3, 4, 4),)),
    "pixel_shuffle_prelu": (lambda: nn.Sequential(nn.PixelShuffle(2), nn.PReLU()),
                            lambda: (ember.randn(1, 4, 3, 3),)),
    "pool_variants": (lambda: nn.Sequential(nn.MaxPool2d(3, 2, ceil_mode=True),
                                            nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
                                            nn.AdaptiveAvgPool2d((2, 3))),
                      lambda: (ember.randn(2, 3, 11, 13),)),
    "conv_1d_3d": (lambda: _two(nn.ConvTranspose1d(4, 2, 3, stride=2),
                                nn.Conv3d(2, 3, 2, stride=(1, 2, 1))),
                   lambda: (ember.randn(2, 4, 6), ember.randn(1, 2, 4, 5, 6))),
    "einsum": (lambda: (lambda a, b: ember.einsum("...ij,...jk->...ik", a, b)),
               lambda: (ember.randn(2, 3, 4), ember.randn(2, 4, 5))),
    "topk_normalize": (lambda: (lambda a: (a.topk(2, -1), F.normalize(a, dim=-1),
                                           ember.linalg.vector_norm(a, 3.0, dim=0))),
                       lambda: (ember.randn(3, 4),)),
    "rounding_division": (lambda: (lambda a, i: (a // 0.7, a % 0.7, ember.fmod(a, 0.7),
                                                 ember.div(a, 0.7, rounding_mode="trunc"),
                                                 i // 3, i % 3, ember.div(i, 3,
                                                                          rounding_mode="trunc"))),
                          lambda: (ember.randn(3, 4) * 3, ember.randint(-9, 9, (3, 4)))),
}


@pytest.mark.parametrize("case", sorted(_MORE))
def test_export_more_ops(case):
    make_model, make_args = _MORE[case]
    _export_and_run(make_model(), make_args())


@pytest.mark.parametrize("opset", [13, 17])
def test_export_dynamic_sequence_causal_attention(opset):
    def fn(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    args = tuple(ember.randn(2, 2, 4, 8) for _ in range(3))
    run = tuple(ember.randn(3, 2, 6, 8) for _ in range(3))
    axes = {0: "batch", 2: "seq"}
    proto = _export_and_run(fn, args, run_args=run, input_names=["q", "k", "v"],
                            dynamic_axes={"q": axes, "k": axes, "v": axes}, opset_version=opset)
    assert "Range" in _op_types(proto)


def test_export_kwargs_and_initializers_as_inputs():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x, *, shift):
            return self.fc(x) + shift

    model = Scale()
    x, shift = ember.randn(2, 3), ember.randn(3)
    proto = ember.onnx.export(model, (x, {"shift": shift}), keep_initializers_as_inputs=True)
    names = [i.name for i in proto.graph.input]
    assert names[:2] == ["input_0", "input_1"] and {"fc.weight", "fc.bias"} <= set(names)
    got = _session(proto).run(None, {"input_0": x.numpy(), "input_1": shift.numpy()})[0]
    with ember.no_grad():
        want = model(x, shift=shift).numpy()
    np.testing.assert_allclose(got, want, atol=ATOL)


@pytest.mark.parametrize("case", ["mlp", "cnn", "gru", "lm"])
def test_export_then_ember_onnx_load_round_trip(case):
    x = ember.randn(2, 3, 8, 8)
    model, args = {
        "mlp": lambda: (nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
                        (ember.randn(2, 4),)),
        "cnn": lambda: (_trained_bn(_CNN(), x), (x,)),
        "gru": lambda: (nn.GRU(4, 5, 2, bidirectional=True), (ember.randn(3, 2, 4),)),
        "lm": lambda: (_TinyLM(), (ember.randint(0, 11, (2, 6)),)),
    }[case]()
    model.eval()
    loaded = ember.onnx.load(ember.onnx.export(model, args))
    with ember.no_grad():
        want, got = tree_leaves(model(*args)), tree_leaves(loaded(*args))
    assert len(want) == len(got)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=0, atol=ATOL)
