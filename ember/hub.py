"""``torch.hub``'s download helpers: fetch a checkpoint by URL into the hub cache (the same
folder PyTorch uses, so weights it downloaded are found) and load it with ``ember.load``.

``hub.load`` / ``hub.list`` (running a GitHub repository's hubconf.py) are not provided.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import warnings
import zipfile

__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url",
           "HASH_REGEX"]

# The hash prefix PyTorch's checkpoint names carry: resnet18-f37072fd.pth
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
READ_DATA_CHUNK = 128 * 1024
_hub_dir = None


def get_dir() -> str:
    """The hub cache: ``set_dir``'s folder, else $TORCH_HOME/hub, else
    $XDG_CACHE_HOME/torch/hub (default ~/.cache/torch/hub)."""
    if _hub_dir is not None:
        return _hub_dir
    home = os.environ.get("TORCH_HOME")
    if home is None:
        cache = os.environ.get("XDG_CACHE_HOME", os.path.join("~", ".cache"))
        home = os.path.join(cache, "torch")
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d) -> None:
    """Use folder ``d`` as the hub cache."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Download ``url`` to ``dst`` (through a temporary file in the same folder, moved into
    place only when complete), checking that its SHA-256 starts with ``hash_prefix``."""
    import urllib.request   # (imported on use: it costs ~15 ms at `import ember`)
    dst = os.path.expanduser(os.fspath(dst))
    folder = os.path.dirname(os.path.abspath(dst))
    req = urllib.request.Request(url, headers={"User-Agent": "ember.hub"})
    with urllib.request.urlopen(req) as u:
        meta = u.info()
        length = meta.get("Content-Length") if hasattr(meta, "get") else None
        total = int(length) if length is not None else None
        tmp = tempfile.NamedTemporaryFile(delete=False, dir=folder,  # noqa: SIM115 (closed below)
                                          prefix=os.path.basename(dst) + ".", suffix=".partial")
        sha = hashlib.sha256() if hash_prefix is not None else None
        bar = _progress(total, progress)
        try:
            with tmp:
                while True:
                    chunk = u.read(READ_DATA_CHUNK)
                    if not chunk:
                        break
                    tmp.write(chunk)
                    if sha is not None:
                        sha.update(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            if sha is not None:
                digest = sha.hexdigest()
                if digest[:len(hash_prefix)] != hash_prefix:
                    raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                                       f'"{digest}")')
            shutil.move(tmp.name, dst)
        finally:
            if bar is not None:
                bar.close()
            if os.path.exists(tmp.name):
                os.remove(tmp.name)


def _progress(total, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, disable=not enabled, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr)


def _legacy_zip(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        names = z.infolist()
        # PyTorch's own checkpoints are zips too (a folder of records): a legacy hub zip holds
        # exactly one file, the checkpoint.
        return len(names) == 1 and not names[0].is_dir()


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None, weights_only: bool = False):
    """Download the checkpoint at ``url`` into ``model_dir`` (default ``get_dir()/checkpoints``)
    unless it is already there, then ``ember.load`` it.

    Args:
        check_hash: verify the SHA-256 prefix in the file name (``name-<sha256 prefix>.ext``).
        file_name: the name to store it under (default: the URL's last path part).
        weights_only: passed to ``ember.load`` (PyTorch's default here is False).
    """
    if os.environ.get("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead",
                      stacklevel=2)
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    import urllib.parse
    filename = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    cached = os.path.join(model_dir, filename)
    if not os.path.exists(cached):
        sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        hash_prefix = None
        if check_hash:
            m = HASH_REGEX.search(filename)
            hash_prefix = m.group(1) if m else None
        download_url_to_file(url, cached, hash_prefix, progress=progress)
    from .serialization import load
    if _legacy_zip(cached):
        with zipfile.ZipFile(cached) as z:
            member = z.infolist()[0].filename
            z.extractall(model_dir)
        cached = os.path.join(model_dir, member)
    return load(cached, map_location=map_location, weights_only=weights_only)
