"""ember.utils.tensorboard: event files read back by TensorBoard, and compared event by event
(wall times aside) with what torch.utils.tensorboard writes for the same calls."""

from __future__ import annotations

import difflib
import io
import os
import re
import socket
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402, I001
    EventAccumulator,
)
from tensorboard.backend.event_processing.event_file_loader import (  # noqa: E402
    RawEventFileLoader,
)
from tensorboard.compat.proto.event_pb2 import Event  # noqa: E402

import ember  # noqa: E402
from ember.utils.tensorboard import SummaryWriter  # noqa: E402
from tests.oracle import needs_torch, torch  # noqa: E402

ALL = {k: 0 for k in ("scalars", "histograms", "images", "tensors", "audio",
                      "compressedHistograms")}


def _accumulator(logdir):
    acc = EventAccumulator(str(logdir), size_guidance=ALL)
    acc.Reload()
    return acc


def _events(logdir):
    """{sub-run path: [Event, ...]} of every event file under logdir, wall times zeroed."""
    runs = {}
    for root, _, files in os.walk(logdir):
        for name in sorted(files):
            if ".tfevents." not in name:
                continue
            events = []
            for raw in RawEventFileLoader(os.path.join(root, name)).Load():
                ev = Event.FromString(raw)
                ev.wall_time = 0
                events.append(ev)
            runs.setdefault(os.path.relpath(root, logdir), []).extend(events)
    return runs


def _same_as_torch(tmp_path, write):
    """Run write(writer, lib, to_tensor) with ember's writer and with torch's; compare."""
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    ours, theirs = tmp_path / "ember", tmp_path / "torch"
    with SummaryWriter(str(ours)) as w:
        write(w, ember, ember.tensor)
    with TorchWriter(str(theirs)) as w:
        write(w, torch, torch.tensor)
    got, want = _events(ours), _events(theirs)
    assert sorted(got) == sorted(want)
    for run in want:
        assert len(got[run]) == len(want[run]), run
        for g, e in zip(got[run], want[run]):
            if g != e:
                diff = difflib.unified_diff(str(e).splitlines(), str(g).splitlines(),
                                            "torch", "ember", lineterm="", n=1)
                pytest.fail(f"run {run}: events differ\n" + "\n".join(list(diff)[:30]))
    return ours, theirs


def _decode_png(data: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)))


# -- writer, files, directories ---------------------------------------------------------------

def test_summarywriter_default_logdir_and_file_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1", filename_suffix=".v2") as w:
        w.add_scalar("x", 1.0, 0)
        logdir = w.get_logdir()
    host = re.escape(socket.gethostname())
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_" + host + r"_lr0\.1", logdir)
    names = os.listdir(tmp_path / logdir)
    assert len(names) == 1
    assert re.fullmatch(r"events\.out\.tfevents\.\d{10}\." + host + r"\.\d+\.\d+\.v2", names[0])


def test_summarywriter_close_then_log_opens_a_new_file(tmp_path):
    w = SummaryWriter(str(tmp_path))
    w.add_scalar("a", 1.0, 0)
    w.close()
    w.add_scalar("a", 2.0, 1)
    w.flush()
    w.close()
    files = [f for f in os.listdir(tmp_path) if ".tfevents." in f]
    assert len(files) == 2
    assert [e.value for e in _accumulator(tmp_path).Scalars("a")] == [1.0, 2.0]


def test_tensorboard_import_error_without_package(monkeypatch):
    for name in list(sys.modules):
        if name == "tensorboard" or name.startswith("tensorboard."):
            monkeypatch.delitem(sys.modules, name)
        if name.startswith("ember.utils.tensorboard"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    import importlib
    with pytest.raises(ImportError, match="TensorBoard logging requires TensorBoard version "
                                          "1.15 or above"):
        importlib.import_module("ember.utils.tensorboard")


# -- scalars ----------------------------------------------------------------------------------

def test_add_scalar_values_steps_walltimes(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("loss", ember.tensor(0.25), 1, walltime=100.0)
        w.add_scalar("loss", np.float32(0.5), 2, walltime=101.5)
        w.add_scalar("loss", 3, 5, walltime=102.0)
        w.add_scalar("loss", ember.tensor([0.75]), 7, walltime=103.0)
        w.add_scalar("new", 1.5, 0, walltime=1.0, new_style=True)
        w.add_scalar("dbl", 1 / 3, 0, walltime=2.0, new_style=True, double_precision=True)
    acc = _accumulator(tmp_path)
    got = [(e.wall_time, e.step, e.value) for e in acc.Scalars("loss")]
    assert got == [(100.0, 1, 0.25), (101.5, 2, 0.5), (102.0, 5, 3.0), (103.0, 7, 0.75)]
    new = acc.Tensors("new")[0]
    assert new.tensor_proto.dtype == 1 and list(new.tensor_proto.float_val) == [1.5]
    dbl = acc.Tensors("dbl")[0].tensor_proto
    assert list(dbl.double_val) == [1 / 3]
    assert acc.SummaryMetadata("new").plugin_data.plugin_name == "scalars"
    with pytest.raises(AssertionError, match="Tensor should contain one element"):
        SummaryWriter(str(tmp_path)).add_scalar("bad", ember.ones(2))


@needs_torch
def test_add_scalar_and_scalars_match_torch(tmp_path):
    def write(w, lib, T):
        w.add_scalar("loss", T(0.25), 1)
        w.add_scalar("loss", 0.5, 2, walltime=3.0)
        w.add_scalar("n", 1.5, 0, new_style=True)
        w.add_scalar("d", 1 / 3, 0, new_style=True, double_precision=True)
        w.add_scalars("run/a", {"train": 1.0, "test": T(2.0)}, 0)
        w.add_scalars("run/a", {"train": 3.0, "test": 4.0}, 1)

    ours, _ = _same_as_torch(tmp_path, write)
    assert sorted(f for f in os.listdir(ours) if ".tfevents." not in f) == \
        ["run_a_test", "run_a_train"]
    sub = _accumulator(ours / "run_a_train")
    assert [(e.step, e.value) for e in sub.Scalars("run/a")] == [(0, 1.0), (1, 3.0)]


@needs_torch
def test_purge_step_matches_torch(tmp_path):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    with SummaryWriter(str(tmp_path / "e"), purge_step=5) as w:
        w.add_scalar("a", 1.0, 5)
    with TorchWriter(str(tmp_path / "t"), purge_step=5) as w:
        w.add_scalar("a", 1.0, 5)
    assert _events(tmp_path / "e") == _events(tmp_path / "t")


# -- histograms -------------------------------------------------------------------------------

@needs_torch
def test_add_histogram_matches_torch(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(500).astype(np.float32)

    def write(w, lib, T):
        w.add_histogram("default", T(values), 0)
        w.add_histogram("auto", T(values), 1, bins="auto")
        w.add_histogram("ten", values, 2, bins=10)
        w.add_histogram("edges", T(values), 3, bins=[-3.0, -1.0, 0.0, 0.5, 4.0])
        w.add_histogram("maxbins", T(values), 4, bins=100, max_bins=7)
        w.add_histogram("ints", T(np.arange(20)), 5)
        w.add_histogram("const", T(np.full(5, 2.0)), 6, bins=4)

    ours, _ = _same_as_torch(tmp_path, write)
    acc = _accumulator(ours)
    h = acc.Histograms("default")[0].histogram_value
    assert h.num == 500 and h.min == values.min() and h.max == values.max()
    np.testing.assert_allclose(h.sum, values.astype(float).sum())
    assert sum(h.bucket) == 500
    # 100 bins merged 14 at a time: 8 buckets, and the empty one kept on the left.
    assert len(acc.Histograms("maxbins")[0].histogram_value.bucket) == 9


def test_add_histogram_raw_and_errors(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_histogram_raw("raw", 0.0, 3.0, 6, 9.0, 21.0, [1.0, 2.0, 3.0], [1, 2, 3], 4)
        with pytest.raises(ValueError, match="len\\(bucket_limits\\) != len\\(bucket_counts\\)"):
            w.add_histogram_raw("bad", 0, 1, 1, 1, 1, [1.0], [1, 2])
        with pytest.raises(ValueError, match="The input has no element"):
            w.add_histogram("empty", ember.zeros(0))
    h = _accumulator(tmp_path).Histograms("raw")[0]
    assert h.step == 4
    v = h.histogram_value
    assert (v.min, v.max, v.num, v.sum, v.sum_squares) == (0.0, 3.0, 6, 9.0, 21.0)
    assert list(v.bucket_limit) == [1.0, 2.0, 3.0] and list(v.bucket) == [1, 2, 3]


@needs_torch
def test_add_histogram_raw_matches_torch(tmp_path):
    def write(w, lib, T):
        w.add_histogram_raw("raw", 0.0, 3.0, 6, 9.0, 21.0, [1.0, 2.0, 3.0], [1, 2, 3], 4)
    _same_as_torch(tmp_path, write)


# -- images -----------------------------------------------------------------------------------

def test_add_image_formats_decode_to_pixels(tmp_path):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(0)
    chw = rng.random((3, 4, 5)).astype(np.float32)
    hwc8 = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    hw = rng.random((4, 5))
    with SummaryWriter(str(tmp_path)) as w:
        w.add_image("chw", ember.tensor(chw), 0)
        w.add_image("hwc", ember.tensor(hwc8), 0, dataformats="HWC")
        w.add_image("hw", hw, 0, dataformats="HW")
    acc = _accumulator(tmp_path)
    img = acc.Images("chw")[0]
    assert (img.height, img.width) == (4, 5)
    want = (chw.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_decode_png(img.encoded_image_string), want)
    np.testing.assert_array_equal(_decode_png(acc.Images("hwc")[0].encoded_image_string), hwc8)
    gray = (hw * 255).astype(np.float32).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(_decode_png(acc.Images("hw")[0].encoded_image_string),
                                  np.stack([gray] * 3, 2))


def test_add_images_grid_layout(tmp_path):
    pytest.importorskip("PIL")
    # 10 single-channel 2x3 images, each filled with its index: 8 per row, 2 rows.
    batch = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 1, 2, 3), np.uint8)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_images("grid", ember.tensor(batch), 0)
        w.add_images("nhwc", ember.tensor(batch.transpose(0, 2, 3, 1)), 0, dataformats="NHWC")
    acc = _accumulator(tmp_path)
    for tag in ("grid", "nhwc"):
        pixels = _decode_png(acc.Images(tag)[0].encoded_image_string)
        assert pixels.shape == (4, 24, 3)
        for i in range(16):
            cell = pixels[(i // 8) * 2:(i // 8) * 2 + 2, (i % 8) * 3:(i % 8) * 3 + 3]
            assert (cell == (i if i < 10 else 0)).all(), (tag, i)


def test_png_fallback_encoder_round_trips():
    pytest.importorskip("PIL")
    from ember.utils.tensorboard._utils import _encode_png_zlib
    rng = np.random.default_rng(1)
    for shape in [(3, 4), (3, 4, 1), (5, 2, 3), (2, 6, 4), (2, 2, 2)]:
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        got = _decode_png(_encode_png_zlib(img))
        np.testing.assert_array_equal(got, img.reshape(got.shape))


def test_add_image_without_pil_uses_zlib_encoder(tmp_path, monkeypatch):
    pytest.importorskip("PIL")
    img = np.random.default_rng(6).integers(0, 256, (3, 4, 5), dtype=np.uint8)
    monkeypatch.setitem(sys.modules, "PIL", None)       # `from PIL import ...` now fails
    with SummaryWriter(str(tmp_path)) as w:
        w.add_image("img", img, 0)
    monkeypatch.delitem(sys.modules, "PIL")
    data = _accumulator(tmp_path).Images("img")[0].encoded_image_string
    np.testing.assert_array_equal(_decode_png(data), img.transpose(1, 2, 0))


def test_tensorboard_and_checkpoint_do_not_import_torch():
    import subprocess
    code = ("import sys, ember.utils.tensorboard, ember.utils.checkpoint; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


@needs_torch
def test_add_image_and_images_match_torch(tmp_path):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(2)
    chw = rng.random((3, 6, 5)).astype(np.float32)
    batch = rng.random((5, 3, 4, 4)).astype(np.float32)
    gray = rng.integers(0, 256, (3, 1, 4, 4), dtype=np.uint8)

    def write(w, lib, T):
        w.add_image("chw", T(chw), 0)
        w.add_image("hwc", T(chw.transpose(1, 2, 0)), 1, dataformats="HWC")
        w.add_image("hw", T(chw[0]), 2, dataformats="HW")
        w.add_image("over", T(chw * 3 - 1), 3)
        w.add_images("batch", T(batch), 4)
        w.add_images("nhwc", T(batch.transpose(0, 2, 3, 1)), 5, dataformats="NHWC")
        w.add_images("gray", T(gray), 6)

    _same_as_torch(tmp_path, write)


@needs_torch
def test_add_image_with_boxes_matches_torch(tmp_path):
    pytest.importorskip("PIL")
    img = np.random.default_rng(7).random((3, 40, 50)).astype(np.float32)
    boxes = np.array([[2, 3, 20, 30], [10, 5, 45, 38]], dtype=np.float32)

    def write(w, lib, T):
        w.add_image_with_boxes("plain", T(img), T(boxes), 0)
        w.add_image_with_boxes("labelled", T(img), T(boxes), 1, labels=["cat", "dog"])
        w.add_image_with_boxes("hwc", T(img.transpose(1, 2, 0)), T(boxes[:1]), 2,
                               dataformats="HWC", labels="one", rescale=2)

    ours, _ = _same_as_torch(tmp_path, write)
    pixels = _decode_png(_accumulator(ours).Images("plain")[0].encoded_image_string)
    np.testing.assert_array_equal(pixels[10, 2], [255, 0, 0])       # on the left edge
    want = (img.transpose(1, 2, 0)[20, 6] * 255).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(pixels[20, 6], want)              # inside: untouched


@needs_torch
def test_add_figure_matches_torch(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def fig():
        f = plt.figure(figsize=(2, 1.5), dpi=40)
        plt.plot([0, 1, 2], [1, 0, 2])
        return f

    figs = []

    def write(w, lib, T):
        one = fig()
        figs.append(one)
        w.add_figure("one", one, 0)
        w.add_figure("many", [fig(), fig()], 1)

    ours, _ = _same_as_torch(tmp_path, write)
    assert not plt.fignum_exists(figs[0].number)      # closed by default
    img = _accumulator(ours).Images("many")[0]
    assert (img.height, img.width) == (60, 160)


# -- text, hparams, pr curves, custom scalars, tensors, audio, mesh ----------------------------

def test_add_text_reads_back(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_text("note", "**hello** ünïcode", 3)
    acc = _accumulator(tmp_path)
    ev = acc.Tensors("note/text_summary")[0]
    assert ev.step == 3
    assert ev.tensor_proto.string_val[0].decode() == "**hello** ünïcode"
    assert acc.SummaryMetadata("note/text_summary").plugin_data.plugin_name == "text"


def test_add_hparams_plugin_data(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2
    with SummaryWriter(str(tmp_path)) as w:
        w.add_hparams({"lr": 0.1, "opt": "adam", "bs": 32, "skip": None, "t": ember.tensor(2.0)},
                      {"hparam/acc": 0.9}, run_name="trial")
    acc = _accumulator(tmp_path / "trial")
    meta = acc.SummaryMetadata("_hparams_/session_start_info")
    data = plugin_data_pb2.HParamsPluginData.FromString(meta.plugin_data.content)
    hp = data.session_start_info.hparams
    assert hp["lr"].number_value == 0.1 and hp["opt"].string_value == "adam"
    assert hp["bs"].number_value == 32 and hp["t"].number_value == 2.0 and "skip" not in hp
    exp = plugin_data_pb2.HParamsPluginData.FromString(
        acc.SummaryMetadata("_hparams_/experiment").plugin_data.content).experiment
    assert [m.name.tag for m in exp.metric_infos] == ["hparam/acc"]
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("hparam/acc")] == [(0, 0.9)]
    with pytest.raises(TypeError, match="should be dictionary"):
        SummaryWriter(str(tmp_path)).add_hparams([("lr", 1)], {})


@needs_torch
def test_add_hparams_text_pr_custom_match_torch(tmp_path):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 50)
    preds = rng.random(50)

    def write(w, lib, T):
        w.add_hparams({"lr": 0.01, "opt": "sgd", "flag": True, "n": 3},
                      {"m/acc": 0.5, "m/loss": T(1.25)}, run_name="run1", global_step=2)
        w.add_hparams({"lr": 0.5, "opt": "sgd"}, {"m/acc": 0.7}, run_name="run2",
                      hparam_domain_discrete={"opt": ["sgd", "adam"]})
        w.add_text("t", "some *markdown*", 1)
        w.add_pr_curve("pr", T(labels), T(preds), 0)
        w.add_pr_curve("pr_w", labels, preds, 1, num_thresholds=200,
                       weights=np.linspace(0.5, 1, 50))
        t = np.arange(5, dtype=np.float64)
        w.add_pr_curve_raw("raw", t, t, t, t, t / 5, t / 5, 2, num_thresholds=5)
        w.add_custom_scalars({"cat": {"loss": ["Multiline", ["loss/train", "loss/test"]],
                                      "band": ["Margin", ["m", "lo", "hi"]]}})
        w.add_custom_scalars_multilinechart(["a", "b"], title="ab")
        w.add_custom_scalars_marginchart(["x", "y", "z"], category="c2")

    _same_as_torch(tmp_path, write)


@needs_torch
def test_add_tensor_audio_mesh_match_torch(tmp_path):
    rng = np.random.default_rng(4)
    snd = (rng.random(100) * 2 - 1).astype(np.float32)
    verts = rng.random((1, 4, 3)).astype(np.float32)
    faces = np.array([[[0, 1, 2], [1, 2, 3]]], dtype=np.int32)
    colors = rng.integers(0, 255, (1, 4, 3)).astype(np.uint8)

    def write(w, lib, T):
        w.add_tensor("f32", T(np.arange(6, dtype=np.float32).reshape(2, 3)), 0)
        w.add_tensor("i64", T(np.arange(4)), 1)
        w.add_tensor("f16", T(np.array([0.5, 1.5], np.float16)), 2)
        w.add_tensor("b", T(np.array([True, False])), 3)
        w.add_audio("snd", T(snd), 0, sample_rate=8000)
        w.add_mesh("mesh", T(verts), colors=T(colors), faces=T(faces), global_step=0)

    _same_as_torch(tmp_path, write)


def test_add_pr_curve_values(tmp_path):
    labels = np.array([1, 1, 0, 0])
    preds = np.array([0.9, 0.4, 0.6, 0.1])
    with SummaryWriter(str(tmp_path)) as w:
        w.add_pr_curve("pr", ember.tensor(labels), ember.tensor(preds), 0, num_thresholds=3)
    data = _accumulator(tmp_path).Tensors("pr")[0].tensor_proto
    table = np.array(data.float_val).reshape(6, 3)
    # thresholds 0, 0.5, 1: tp, fp, tn, fn, precision, recall.
    np.testing.assert_allclose(table[:4], [[2, 1, 0], [2, 1, 0], [0, 1, 2], [0, 1, 2]])
    np.testing.assert_allclose(table[4, :2], [0.5, 0.5])
    np.testing.assert_allclose(table[5], [1.0, 0.5, 0.0])


# -- graph ------------------------------------------------------------------------------------

class _Net(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ember.nn.Linear(3, 4)
        self.act = ember.nn.ReLU()
        self.seq = ember.nn.Sequential(ember.nn.Linear(4, 2))

    def forward(self, x):
        return self.seq(self.act(self.fc(x))).sum()


def test_add_graph_scoped_node_names(tmp_path):
    net = _Net()
    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(net, ember.randn(2, 3))
    assert net.training                         # recorded in eval mode, then restored
    acc = _accumulator(tmp_path)
    graph = acc.Graph()
    nodes = {n.name: n for n in graph.node}
    assert "input/x" in nodes and "output/output.1" in nodes
    assert {"_Net/Linear[fc]/weight", "_Net/Linear[fc]/bias",
            "_Net/Sequential[seq]/Linear[0]/weight"} <= set(nodes)
    fc = nodes["_Net/Linear[fc]/linear"]
    assert list(fc.input) == ["input/x", "_Net/Linear[fc]/weight", "_Net/Linear[fc]/bias"]
    assert nodes["_Net/ReLU[act]/relu"].input == ["_Net/Linear[fc]/linear"]
    seq = nodes["_Net/Sequential[seq]/Linear[0]/linear"]
    assert seq.input[0] == "_Net/ReLU[act]/relu"
    assert [d.size for d in seq.attr["_output_shapes"].list.shape[0].dim] == [2, 2]
    out = nodes["output/output.1"]
    assert len(out.input) == 1 and out.input[0].startswith("_Net/sum")
    assert "step1" in acc.Tags()["run_metadata"]


# -- embeddings -------------------------------------------------------------------------------

def _files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            if ".tfevents." not in n:
                with open(os.path.join(dirpath, n), "rb") as f:
                    out[os.path.relpath(os.path.join(dirpath, n), root)] = f.read()
    return out


def test_add_embedding_projector_files(tmp_path):
    mat = np.arange(6, dtype=np.float32).reshape(3, 2) / 4
    with SummaryWriter(str(tmp_path)) as w:
        w.add_embedding(ember.tensor(mat), metadata=["a", "b", "c"], tag="emb/x")
    files = _files(tmp_path)
    assert files["00000/emb%2fx/tensors.tsv"] == b"0.0\t0.25\n0.5\t0.75\n1.0\t1.25\n"
    assert files["00000/emb%2fx/metadata.tsv"] == b"a\nb\nc\n"
    config = files["projector_config.pbtxt"].decode()
    assert 'tensor_name: "emb/x:00000"' in config
    assert 'tensor_path: "00000/emb%2fx/tensors.tsv"' in config
    assert 'metadata_path: "00000/emb%2fx/metadata.tsv"' in config


@needs_torch
def test_add_embedding_matches_torch(tmp_path):
    pytest.importorskip("PIL")
    rng = np.random.default_rng(5)
    mat = rng.standard_normal((5, 3)).astype(np.float32)
    imgs = rng.random((5, 3, 4, 4)).astype(np.float32)

    def write(w, lib, T):
        w.add_embedding(T(mat), metadata=list(range(5)), label_img=T(imgs), global_step=1)
        w.add_embedding(T(mat), metadata=[[i, str(i * 2)] for i in range(5)],
                        metadata_header=["i", "twice"], tag="two", global_step=2)

    ours, theirs = _same_as_torch(tmp_path, write)
    got, want = _files(ours), _files(theirs)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name] == want[name], name
    sprite = _decode_png(got["00001/default/sprite.png"])
    assert sprite.shape == (12, 12, 3)


def test_add_graph_tuple_inputs_and_shared_module(tmp_path):
    class Pair(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = ember.nn.Linear(2, 2)
            self.drop = ember.nn.Dropout(0.5)

        def forward(self, a, b):
            return self.drop(self.lin(a)), self.lin(b) * 2

    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(Pair(), (ember.randn(1, 2), ember.randn(3, 2)))
    nodes = {n.name: n for n in _accumulator(tmp_path).Graph().node}
    assert nodes["Pair/Linear[lin]/linear"].input[0] == "input/a"
    assert nodes["Pair/Linear[lin]/linear.1"].input[0] == "input/b"
    # eval mode: dropout is the identity, so the first output comes straight from linear.
    assert nodes["output/output.1"].input == ["Pair/Linear[lin]/linear"]
    assert not any("Dropout[drop]" in name for name in nodes)
    assert nodes["output/output.2"].input == ["Pair/mul"]
    shape = nodes["Pair/Linear[lin]/linear.1"].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [3, 2]
