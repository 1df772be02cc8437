"""ember.hub: download into the cache (file:// URLs stand in for the network), SHA-256 prefix
checks, reuse of cached files, and loading what PyTorch wrote."""

import hashlib
import os
import pathlib

import pytest

import ember
from tests.oracle import needs_torch, torch


def _ckpt(tmp_path, name="weights.pt"):
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    ember.save({"w": ember.arange(3.0)}, path)
    return path


def test_load_state_dict_from_url_downloads_once(tmp_path):
    src = _ckpt(tmp_path)
    sd = ember.hub.load_state_dict_from_url(src.as_uri(), model_dir=tmp_path / "cache",
                                            progress=False)
    assert sd["w"].tolist() == [0.0, 1.0, 2.0]
    cached = tmp_path / "cache" / "weights.pt"
    assert cached.exists()
    os.remove(src)                         # the cached copy is used from now on
    again = ember.hub.load_state_dict_from_url(src.as_uri(), model_dir=tmp_path / "cache",
                                               progress=False)
    assert again["w"].tolist() == [0.0, 1.0, 2.0]


def test_hash_prefix_is_checked(tmp_path):
    src = _ckpt(tmp_path)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    good = src.with_name(f"weights-{digest[:8]}.pt")
    bad = src.with_name("weights-deadbeef.pt")
    src.rename(good)
    good.with_name(bad.name).write_bytes(good.read_bytes())
    sd = ember.hub.load_state_dict_from_url(good.as_uri(), model_dir=tmp_path / "c",
                                            check_hash=True, progress=False)
    assert sd["w"].shape == (3,)
    with pytest.raises(RuntimeError, match="invalid hash value"):
        ember.hub.load_state_dict_from_url(bad.as_uri(), model_dir=tmp_path / "c",
                                           check_hash=True, progress=False)
    assert not (tmp_path / "c" / bad.name).exists()          # nothing half-written stays
    assert not [p for p in (tmp_path / "c").iterdir() if p.name.endswith(".partial")]


def test_get_and_set_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(ember.hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert ember.hub.get_dir() == str(tmp_path / "th" / "hub")
    ember.hub.set_dir(tmp_path / "mine")
    assert ember.hub.get_dir() == str(tmp_path / "mine")
    src = _ckpt(tmp_path)
    ember.hub.load_state_dict_from_url(src.as_uri(), progress=False)
    assert (pathlib.Path(ember.hub.get_dir()) / "checkpoints" / "weights.pt").exists()


@needs_torch
def test_loads_torch_checkpoints(tmp_path):
    src = tmp_path / "t.pth"
    torch.save({"w": torch.ones(2, 2)}, src)
    sd = ember.hub.load_state_dict_from_url(src.as_uri(), model_dir=tmp_path / "c",
                                            progress=False, weights_only=True)
    assert sd["w"].tolist() == [[1.0, 1.0], [1.0, 1.0]]
