"""python -m ember demo: the command line, a short seeded run, the MNIST path, and (slow) the
full run's accuracy."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import demo
from ember.vision import datasets
from tests.oracle import needs_torch, torch
from tests.test_vision import make_mnist

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(tmp_path, *extra):
    return demo.main(["--data", "digits", "--out", str(tmp_path), "--no-progress", *extra])


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "ember", "--help"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "demo" in out.stdout and "info" in out.stdout
    out = subprocess.run([sys.executable, "-m", "ember", "demo", "--help"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0 and "--epochs" in out.stdout and "--workers" in out.stdout
    out = subprocess.run([sys.executable, "-m", "ember", "info"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0 and "numpy " in out.stdout and "cuda available" in out.stdout


def test_demo_smoke_digits(tmp_path, capsys):
    result = _run(tmp_path, "--epochs", "3", "--subset", "256")
    out = capsys.readouterr().out
    assert result["data"] == "digits" and result["epochs"] == 3
    assert np.isfinite(result["losses"]).all()
    assert result["accuracy"] > 0.3                       # chance is 0.1
    assert "epoch  3/3" in out and "summary: digits, test accuracy" in out
    assert "ONNX: " in out
    if result["onnx"] is not None:                    # onnx installed: exported and checked
        import onnx
        onnx.checker.check_model(result["onnx"])
    state = ember.load(result["checkpoint"])
    model = demo.DemoNet(8)
    model.load_state_dict(state["model"])
    assert state["epoch"] == 3 and state["data"] == "digits"
    assert state["test_accuracy"] == pytest.approx(result["accuracy"])
    if result["logdir"] is not None:
        assert any(name.startswith("events.out.tfevents") for name in os.listdir(result["logdir"]))
        assert f"tensorboard --logdir {result['logdir']}" in out


def test_demo_is_seeded(tmp_path):
    first = _run(tmp_path / "a", "--epochs", "1", "--subset", "128", "--quiet")
    second = _run(tmp_path / "b", "--epochs", "1", "--subset", "128", "--quiet")
    assert first["losses"] == second["losses"] and first["accuracy"] == second["accuracy"]
    third = _run(tmp_path / "c", "--epochs", "1", "--subset", "128", "--quiet", "--seed", "1")
    assert third["losses"] != first["losses"]


def test_demo_without_tqdm_prints_plain_lines(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)         # import tqdm -> ImportError
    _run(tmp_path, "--epochs", "1", "--subset", "64")
    out = capsys.readouterr().out
    assert "epoch  1/1  loss" in out


def test_demo_without_tensorboard_notice(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ember.utils.tensorboard", None)
    result = _run(tmp_path, "--epochs", "1", "--subset", "64")
    out = capsys.readouterr().out
    assert result["logdir"] is None and out.count("TensorBoard log skipped") == 1
    assert "tensorboard --logdir" not in out and os.path.isfile(result["checkpoint"])


def test_demo_auto_prefers_mnist_on_disk(tmp_path, capsys):
    make_mnist(tmp_path / "data", n_train=48, n_test=16)
    result = demo.main(["--data", "auto", "--root", str(tmp_path / "data"), "--out",
                        str(tmp_path / "out"), "--epochs", "1", "--no-progress"])
    assert result["data"] == "mnist"
    assert "mnist, 48 training and 16 test images" in capsys.readouterr().out
    state = ember.load(result["checkpoint"])
    demo.DemoNet(28).load_state_dict(state["model"])


def test_demo_auto_falls_back_to_digits(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "_mnist_reachable", lambda timeout=3.0: "offline")
    result = demo.main(["--data", "auto", "--root", str(tmp_path / "empty"), "--out",
                        str(tmp_path / "out"), "--epochs", "1", "--subset", "64",
                        "--no-progress"])
    assert result["data"] == "digits"
    assert "cannot be downloaded (offline): using the bundled 8x8 digits" in (
        capsys.readouterr().out)


@pytest.mark.slow
def test_demo_full_run_reaches_97_percent(tmp_path):
    result = _run(tmp_path, "--quiet")
    assert result["accuracy"] >= 0.97, result
    assert result["seconds"] < 60, result


def test_demo_with_worker_processes(tmp_path):
    import multiprocessing
    first = _run(tmp_path / "a", "--epochs", "2", "--subset", "256", "--workers", "2", "--quiet")
    second = _run(tmp_path / "b", "--epochs", "2", "--subset", "256", "--workers", "2", "--quiet")
    assert first["losses"] == second["losses"]            # workers are seeded from the loader
    assert np.isfinite(first["losses"]).all() and first["accuracy"] > 0.2
    assert not multiprocessing.active_children()


@needs_torch
def test_demo_checkpoint_loads_in_pytorch(tmp_path):
    """torch.load reads the checkpoint, and the same network in PyTorch predicts the same."""
    result = _run(tmp_path, "--epochs", "2", "--subset", "256", "--quiet")
    state = torch.load(result["checkpoint"], weights_only=True)
    nn = torch.nn
    model = nn.Module()
    model.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Identity(),
                                   nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
    model.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25), nn.Linear(512, 64),
                                     nn.ReLU(), nn.Linear(64, 10))
    model.load_state_dict(state["model"])
    model.eval()
    test = datasets.Digits(train=False)
    images = torch.from_numpy(test.data.numpy()[:256]).float().div(255).unsqueeze(1)
    images = (images - 0.3059) / 0.3762
    with torch.no_grad():
        features = model.features(images)
        predictions = model.classifier(features).argmax(dim=1).numpy()
    accuracy = (predictions == test.targets.numpy()[:256]).mean()
    assert accuracy == pytest.approx(result["accuracy"], abs=1 / 256)


@pytest.mark.gpu
def test_demo_on_cuda(tmp_path):
    result = _run(tmp_path, "--epochs", "3", "--subset", "256", "--device", "cuda", "--quiet")
    assert np.isfinite(result["losses"]).all() and result["accuracy"] > 0.3
    state = ember.load(result["checkpoint"], map_location="cpu")
    assert state["model"]["features.0.weight"].device.type == "cpu"
