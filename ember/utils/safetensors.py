"""safetensors files, read and written by ember directly: the pickle-free checkpoint format.

The API is that of ``safetensors.torch`` (``save_file``, ``load_file``, ``save``, ``load``,
``safe_open``); the ``safetensors`` package is not needed.

# Note [safetensors layout]
#     8 bytes: N, the header length (unsigned little-endian); N bytes: a JSON object mapping
#     each tensor name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (byte
#     offsets into the data area) plus an optional "__metadata__" {str: str}, padded with
#     spaces so the data area starts 8-byte aligned; then the data area: the tensors' bytes,
#     little-endian, C order, back to back, covering it exactly. Writers order the tensors by
#     element type, widest first (so each starts aligned), then by name; readers check that
#     the offsets tile the data area with no gap or overlap.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["save", "save_file", "load", "load_file", "safe_open", "SafetensorError"]

_MAX_HEADER = 100_000_000

# safetensors names, in the order of its Dtype enum (writers sort widest-first by this rank).
_RANK = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ",
         "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
_TO_NAME = {D.bool: "BOOL", D.uint8: "U8", D.int8: "I8", D.float8_e5m2: "F8_E5M2",
            D.float8_e4m3fn: "F8_E4M3", D.float8_e8m0fnu: "F8_E8M0",
            D.float8_e4m3fnuz: "F8_E4M3FNUZ", D.float8_e5m2fnuz: "F8_E5M2FNUZ",
            D.int16: "I16", D.uint16: "U16", D.float16: "F16", D.bfloat16: "BF16",
            D.int32: "I32", D.uint32: "U32", D.float32: "F32", D.complex64: "C64",
            D.float64: "F64", D.int64: "I64", D.uint64: "U64"}
_FROM_NAME = {name: dt for dt, name in _TO_NAME.items()}


class SafetensorError(Exception):
    """A malformed safetensors file or a failed lookup (the safetensors package's class)."""


# -- writing -----------------------------------------------------------------------------------

def _block_key(array):
    """Identity of the memory block an array views (to find tensors sharing memory)."""
    if isinstance(array, np.ndarray):
        root = array
        while isinstance(root.base, np.ndarray):
            root = root.base
        return ("cpu", id(root))
    return ("cuda", id(array.data.mem))


def _check_tensors(tensors: dict) -> None:
    if not isinstance(tensors, dict):
        raise ValueError(f"safetensors: expected a dict of name -> tensor, got "
                         f"{type(tensors).__name__}")
    blocks: dict = {}
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise ValueError(f"safetensors: tensor names must be str, got {name!r}")
        if not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected ember.Tensor but received "
                             f"{type(t)}")
        if t.dtype not in _TO_NAME:
            raise ValueError(f"safetensors: `{name}` has dtype {t.dtype}, which safetensors "
                             f"cannot store (supported: {', '.join(d.name for d in _TO_NAME)})")
        if t.numel():
            blocks.setdefault(_block_key(t._data), set()).add(name)
    shared = [names for names in blocks.values() if len(names) > 1]
    if shared:
        raise RuntimeError(
            "Some tensors share memory, this will lead to duplicate memory on disk and potential "
            f"differences when loading them again: {shared}.\nA potential way to correctly save "
            "your model is to save clones (t.clone()) of all but one of them, or save the full "
            "tensor once and reslice at load time.\nMore information at "
            "https://huggingface.co/docs/safetensors/torch_shared_tensors")
    for name, t in tensors.items():
        if not t.is_contiguous():
            raise ValueError(
                f"You are trying to save a non contiguous tensor: `{name}` which is not "
                "allowed. It either means you are trying to save tensors which are reference of "
                "each other in which case it's recommended to save only the full tensors, and "
                "reslice at load time, or simply call `.contiguous()` on your tensor to pack it "
                "before saving.")


def _prepare(tensors: dict, metadata) -> tuple[bytes, list]:
    """(the 8-byte length plus padded header, [host uint8 arrays in data order])."""
    _check_tensors(tensors)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise ValueError("safetensors: metadata must be a dict of str -> str")
    order = sorted(tensors, key=lambda n: (-_RANK.index(_TO_NAME[tensors[n].dtype]), n))
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    chunks = []
    offset = 0
    for name in order:
        t = tensors[name]
        data = t._data if isinstance(t._data, np.ndarray) else t._data.get()
        data = data.reshape(-1).view(np.uint8)
        header[name] = {"dtype": _TO_NAME[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + data.size]}
        offset += data.size
        chunks.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text, chunks


def save(tensors: dict, metadata: dict | None = None) -> bytes:
    """The safetensors file for ``tensors`` as bytes.

    Args:
        tensors: name -> contiguous tensor; no two may share memory.
        metadata: optional str -> str pairs stored in the header.

    Returns:
        bytes.

    Example:
        >>> import ember
        >>> from ember.utils import safetensors
        >>> safetensors.load(safetensors.save({"w": ember.ones(2)}))["w"]
        tensor([1., 1.])
    """
    head, chunks = _prepare(tensors, metadata)
    return head + b"".join(c.tobytes() for c in chunks)


def save_file(tensors: dict, filename, metadata: dict | None = None) -> None:
    """Write ``tensors`` to a safetensors file (see :func:`save`)."""
    head, chunks = _prepare(tensors, metadata)
    with open(os.fspath(filename), "wb") as f:
        f.write(head)
        for c in chunks:
            f.write(memoryview(c))


# -- reading -----------------------------------------------------------------------------------

def _parse(buffer) -> tuple[dict, dict | None, int]:
    """(name -> (dtype, shape, begin, end), metadata, start of the data area)."""
    size = len(buffer)
    if size < 8:
        raise SafetensorError("Error while deserializing header: HeaderTooSmall (file shorter "
                              "than the 8-byte header length)")
    (n,) = struct.unpack("<Q", buffer[:8])
    if n > _MAX_HEADER:
        raise SafetensorError(f"Error while deserializing header: HeaderTooLarge ({n} bytes)")
    if 8 + n > size:
        raise SafetensorError(f"Error while deserializing header: invalid header length {n} "
                              f"for a file of {size} bytes")
    try:
        header = json.loads(bytes(buffer[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorError(f"Error while deserializing header: InvalidHeaderDeserialization "
                              f"({e})") from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing header: the header is not a JSON "
                              "object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise SafetensorError("Error while deserializing header: __metadata__ must map str to "
                              "str")
    entries = {}
    for name, info in header.items():
        try:
            dtype = _FROM_NAME.get(info["dtype"])
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorError(f"Error while deserializing header: malformed entry for "
                                  f"`{name}`: {info!r}") from None
        if dtype is None:
            raise SafetensorError(f"safetensors: tensor `{name}` has dtype {info['dtype']}, "
                                  "which ember does not support")
        numel = 1
        for s in shape:
            if s < 0:
                raise SafetensorError(f"Error while deserializing header: negative size in "
                                      f"`{name}`")
            numel *= s
        if end - begin != numel * dtype.itemsize or begin < 0:
            raise SafetensorError(f"Error while deserializing header: TensorInvalidInfo (`{name}`"
                                  f" has shape {list(shape)} and dtype {info['dtype']} but "
                                  f"offsets [{begin}, {end}])")
        entries[name] = (dtype, shape, begin, end)
    cursor = 0
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda e: (e[1][2], e[1][3])):
        if begin != cursor:
            raise SafetensorError(f"Error while deserializing header: InvalidOffset(`{name}` "
                                  f"starts at {begin}, expected {cursor})")
        cursor = end
    if 8 + n + cursor != size:
        raise SafetensorError("Error while deserializing header: MetadataIncompleteBuffer "
                              "(incomplete metadata, file not fully covered)")
    return entries, metadata, 8 + n


def _array(buffer, entry, start: int):
    dtype, shape, begin, end = entry
    raw = np.frombuffer(buffer, np.uint8, count=end - begin, offset=start + begin)
    return raw.view(dtype.np).reshape(shape)


def _place(array, device, framework: str = "pt"):
    """A fresh copy of a file's array, as a tensor on ``device`` (or a NumPy array)."""
    from .._device import to_device
    if framework in ("np", "numpy"):
        return np.array(array)
    dev = to_device(f"cuda:{device}" if isinstance(device, int) else device)
    if dev.type == "cpu":
        return Tensor._make(np.array(array))
    from ..backends import cupy_backend
    return Tensor._make(cupy_backend.to_gpu(np.ascontiguousarray(array), dev.index))


def load(data: bytes) -> dict:
    """Tensors (on cpu) from the bytes of a safetensors file."""
    buffer = memoryview(data)
    entries, _, start = _parse(buffer)
    return {name: _place(_array(buffer, e, start), "cpu") for name, e in entries.items()}


def load_file(filename, device="cpu") -> dict:
    """Tensors from a safetensors file, on ``device`` ("cpu", "cuda:0", an index, ...)."""
    with safe_open(filename, framework="pt", device=device) as f:
        return f.get_tensors()


class _Slice:
    """A tensor of the file read lazily: index it (``[1:3, ::2]``) to read just that part."""

    def __init__(self, owner: safe_open, name: str):
        self._owner = owner
        self._name = name

    def get_shape(self) -> list:
        return list(self._owner._entries[self._name][1])

    def get_dtype(self) -> str:
        return _TO_NAME[self._owner._entries[self._name][0]]

    def __getitem__(self, index):
        view = self._owner._view(self._name)[index]
        return _place(view, self._owner._device, self._owner._framework)


class safe_open:
    """A safetensors file opened lazily with mmap: only the tensors asked for are read.

    Args:
        filename: the path.
        framework: "pt" (ember tensors; "torch" and "ember" also accepted) or "np".
        device: where ``get_tensor`` puts tensors.

    Example:
        >>> import ember, os, tempfile
        >>> from ember.utils import safetensors
        >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
        >>> safetensors.save_file({"w": ember.arange(6).reshape(2, 3)}, path)
        >>> with safetensors.safe_open(path, framework="pt") as f:
        ...     f.get_slice("w")[:, 1]
        tensor([1, 4])
    """

    def __init__(self, filename, framework: str = "pt", device="cpu"):
        if framework not in ("pt", "torch", "ember", "np", "numpy"):
            raise SafetensorError(f"framework {framework} is invalid")
        self._framework = framework
        self._device = device
        path = os.fspath(filename)
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file or directory: {path}")
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._entries, self._metadata, self._start = _parse(memoryview(self._map))

    def __enter__(self) -> safe_open:
        return self

    def __exit__(self, *exc):
        return None

    def keys(self) -> list:
        return sorted(self._entries)

    def offset_keys(self) -> list:
        return sorted(self._entries, key=lambda n: self._entries[n][2])

    def metadata(self) -> dict | None:
        return self._metadata

    def _view(self, name: str):
        if name not in self._entries:
            raise SafetensorError(f"File does not contain tensor {name}")
        return _array(self._map, self._entries[name], self._start)

    def get_tensor(self, name: str):
        return _place(self._view(name), self._device, self._framework)

    def get_slice(self, name: str) -> _Slice:
        if name not in self._entries:
            raise SafetensorError(f"File does not contain tensor {name}")
        return _Slice(self, name)

    def get_tensors(self) -> dict:
        return {name: self.get_tensor(name) for name in self.keys()}
