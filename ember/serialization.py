"""Checkpoints in PyTorch's file format: ``ember.save`` and ``ember.load``.

``torch.load`` reads what ``ember.save`` writes and ``ember.load`` reads what ``torch.save``
writes (the zip format of PyTorch >= 1.6 and, on load, the legacy pickle stream), without
importing torch. Loading is safe by default: ``weights_only=True`` rebuilds tensors,
containers and numbers only and never runs other code (see Note [Weights-only loading]).

# Note [Checkpoint format]
#     A zip archive, every record stored uncompressed with its data 64-byte aligned (a
#     "FB" extra field pads the local header), all under one folder ("archive/"):
#       data.pkl               the object, pickled (protocol 2 by default); each tensor is the
#                              call torch._utils._rebuild_tensor_v2(storage, storage_offset,
#                              size, stride, requires_grad, backward_hooks) and each storage
#                              the persistent id ('storage', torch.FloatStorage, key,
#                              location, numel); uint16/32/64 and float8 tensors use
#                              _rebuild_tensor_v3 and an untyped storage (see Note [Limited
#                              dtypes in checkpoints])
#       .format_version "1", .storage_alignment "64", byteorder "little"
#       data/<key>             the raw bytes of storage <key> (numel * itemsize)
#       version "3\n", .data/serialization_id
#     Tensors that view one memory block share one storage record, so they share memory
#     again after loading. The legacy format (torch.save(..., _use_new_zipfile_serialization=
#     False)) is a stream of pickles: magic number, protocol version, sys info, the object
#     (persistent ids carry a sixth field, a view description or None), the list of storage
#     keys, then per key an int64 element count and the bytes.
"""

from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
import pickletools
import struct
import sys
import warnings
import zipfile
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from . import _dtype as D
from ._device import device as _Device
from ._tensor import Size, Tensor

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals", "get_unsafe_globals_in_checkpoint", "set_default_mmap_options",
           "get_default_mmap_options", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2
_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL_VERSION = 1001
_ALIGNMENT = 64
_TRUE_VALUES = ("1", "y", "yes", "true")

# PyTorch's typed storage class names; the file names the storage by its element type.
_STORAGE_DTYPES = {
    "DoubleStorage": D.float64, "FloatStorage": D.float32, "HalfStorage": D.float16,
    "BFloat16Storage": D.bfloat16, "LongStorage": D.int64, "IntStorage": D.int32,
    "ShortStorage": D.int16, "CharStorage": D.int8, "ByteStorage": D.uint8,
    "BoolStorage": D.bool, "ComplexDoubleStorage": D.complex128,
    "ComplexFloatStorage": D.complex64,
}


# -- saving ----------------------------------------------------------------------------------

class _TorchGlobal:
    """A name written into the pickle as PyTorch's global ``module.name`` (torch is never
    imported: the pickler writes the GLOBAL opcode itself)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args, **kwargs):
        # Callable only so that pickle accepts it as the function of a reduce tuple.
        raise TypeError(f"{self!r} is a name written into checkpoints, not a function")


_T_REBUILD_TENSOR = _TorchGlobal("torch._utils", "_rebuild_tensor_v2")
# uint16/32/64 and the float8 dtypes have no typed storage class: PyTorch writes them as an
# untyped (byte) storage plus the dtype, through _rebuild_tensor_v3 (see Note [Limited dtypes in
# checkpoints]). PyTorch 2.13 cannot read its own legacy (non-zip) files of these dtypes.
_T_REBUILD_TENSOR_V3 = _TorchGlobal("torch._utils", "_rebuild_tensor_v3")
_T_UNTYPED_STORAGE = _TorchGlobal("torch.storage", "UntypedStorage")
_T_REBUILD_PARAMETER = _TorchGlobal("torch._utils", "_rebuild_parameter")
_T_REBUILD_PARAMETER_STATE = _TorchGlobal("torch._utils", "_rebuild_parameter_with_state")
_T_REBUILD_FROM_TYPE = _TorchGlobal("torch._tensor", "_rebuild_from_type_v2")
_T_TENSOR = _TorchGlobal("torch", "Tensor")
_T_SIZE = _TorchGlobal("torch", "Size")
_T_DEVICE = _TorchGlobal("torch", "device")
_T_STORAGES = {dt: _TorchGlobal("torch", name) for name, dt in _STORAGE_DTYPES.items()}


class _StorageRecord:
    """One memory block being saved: the tensors that view it become views of one storage."""

    __slots__ = ("key", "dtype", "location", "numel", "owner", "start")

    def __init__(self, key, dtype, location, numel, owner, start):
        self.key, self.dtype, self.location, self.numel = key, dtype, location, numel
        self.owner = owner          # the array (cpu) or allocation (cuda) holding the bytes
        self.start = start          # byte offset of the storage within owner

    def host_bytes(self):
        """The storage's bytes as a 1-D uint8 NumPy array (copied off the GPU for cuda)."""
        nbytes = self.numel * self.dtype.itemsize
        if isinstance(self.owner, np.ndarray):
            return _flat_bytes(self.owner)[self.start:self.start + nbytes]
        from .backends import cupy_backend
        cp = cupy_backend.load()
        with cp.cuda.Device(self.owner.device_id):
            mem = cp.ndarray((nbytes,), cp.uint8,
                             memptr=cp.cuda.MemoryPointer(self.owner, self.start))
            return mem.get()


def _flat_bytes(array):
    """A contiguous (C or F order) NumPy array's memory as 1-D uint8, without copying."""
    flat = array.reshape(-1) if array.flags.c_contiguous else array.T.reshape(-1)
    return flat.view(np.uint8)


def _address(array) -> int:
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr


def _contiguous_strides(shape) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


class _StorageTable:
    """Assigns storage records to the arrays of the tensors being saved.

    A tensor's storage is the memory block its array views: on cpu the root of the NumPy
    ``.base`` chain (when that root is one contiguous block), on cuda the CuPy allocation.
    Arrays the format cannot describe as a view (negative or unaligned strides, a
    non-contiguous root) are saved as a copy of their own.
    """

    def __init__(self):
        self.records: list[_StorageRecord] = []
        self._by_block: dict[int, _StorageRecord] = {}

    def _new(self, dtype, location, numel, owner, start) -> _StorageRecord:
        rec = _StorageRecord(str(len(self.records)), dtype, location, numel, owner, start)
        self.records.append(rec)
        return rec

    def locate(self, array):
        """(record, storage_offset, stride), offset and strides in elements."""
        dtype = D.from_numpy_dtype(array.dtype)
        item = array.dtype.itemsize
        cpu = isinstance(array, np.ndarray)
        location = "cpu" if cpu else f"cuda:{array.device.id}"
        if array.size and all(s >= 0 and s % item == 0 for s in array.strides):
            block = _memory_block(array) if cpu else _cuda_block(array)
            if block is not None:
                owner, base_addr, nbytes = block
                delta = _address(array) - base_addr
                extent = delta + item + sum((n - 1) * s for n, s in zip(array.shape,
                                                                         array.strides))
                if delta % item == 0 and nbytes % item == 0 and extent <= nbytes:
                    rec = self._by_block.get(id(owner))
                    if rec is None:
                        rec = self._new(dtype, location, nbytes // item, owner, 0)
                        self._by_block[id(owner)] = rec
                    elif rec.dtype is not dtype:
                        raise RuntimeError(
                            "save: Cannot save multiple tensors or storages that view the same "
                            f"data as different types ({rec.dtype} and {dtype}); save a copy "
                            "(.clone()) of one of them")
                    return rec, delta // item, tuple(s // item for s in array.strides)
        copy = array.copy(order="C")
        owner = copy if cpu else copy.data.mem
        start = 0 if cpu else copy.data.ptr - copy.data.mem.ptr
        rec = self._new(dtype, location, copy.size, owner, start)
        return rec, 0, _contiguous_strides(array.shape)


def _memory_block(array):
    """(root array, its address, its nbytes) for a NumPy array, or None when the root of its
    ``.base`` chain is not one contiguous block."""
    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    return root, _address(root), root.nbytes


def _cuda_block(array):
    mem = array.data.mem
    return mem, mem.ptr, mem.size


class _Pickler(pickle._Pickler):
    """The standard pickler, writing ember tensors, dtypes, devices and sizes under PyTorch's
    names. The pure-Python pickler is used because it lets a global be written by name; the
    C pickler insists on importing it (torch) to check."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, storages: _StorageTable, legacy: bool = False):
        super().__init__(file, protocol)
        self._storages = storages
        self._legacy = legacy

    def persistent_id(self, obj):
        if type(obj) is _StorageRecord:
            # Note [Limited dtypes in checkpoints]
            #     A uint16/32/64 or float8 storage is untyped: its pid names UntypedStorage and
            #     counts bytes, and the tensor's rebuild call (_rebuild_tensor_v3) carries the
            #     dtype.
            #     Offsets and strides stay in elements. PyTorch 2.3+ writes and reads this.
            if obj.dtype in D.UNTYPED_DTYPES:
                pid = ("storage", _T_UNTYPED_STORAGE, obj.key, obj.location,
                       obj.numel * obj.dtype.itemsize)
            else:
                pid = ("storage", _T_STORAGES[obj.dtype], obj.key, obj.location, obj.numel)
            return pid + (None,) if self._legacy else pid
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        t = type(obj)
        if t is Size:
            return (_T_SIZE, (tuple(obj),))
        if t is _Device:
            return (_T_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index))
        return NotImplemented

    def _reduce_tensor(self, t):
        from .nn.parameter import Parameter
        state = {k: v for k, v in t.__dict__.items() if not k.startswith("_")}
        if type(t) is Parameter:
            inner = Tensor._make(t._data)
            if state:
                return (_T_REBUILD_PARAMETER_STATE, (inner, t._rg, OrderedDict(), state))
            return (_T_REBUILD_PARAMETER, (inner, t._rg, OrderedDict()))
        record, offset, stride = self._storages.locate(t._data)
        args = (record, offset, tuple(t._data.shape), stride, t._rg, OrderedDict())
        rebuild = _T_REBUILD_TENSOR
        if record.dtype in D.UNTYPED_DTYPES:
            args += (record.dtype,)
            rebuild = _T_REBUILD_TENSOR_V3
        if type(t) is Tensor and not state:
            return (rebuild, args)
        cls = _T_TENSOR if type(t) is Tensor else type(t)
        return (_T_REBUILD_FROM_TYPE, (rebuild, cls, args, state))

    def _write_global(self, module: str, name: str):
        if self.proto >= 4:
            self.save(module)
            self.save(name)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())

    def _save_torch_global(self, obj):
        self._write_global(obj.module, obj.name)
        self.memoize(obj)

    def _save_dtype(self, obj):
        self._write_global("torch", obj.name)
        self.memoize(obj)

    dispatch[_TorchGlobal] = _save_torch_global
    dispatch[D.dtype] = _save_dtype


class _ZipWriter:
    """Writes stored (uncompressed) zip records whose data start 64-byte aligned."""

    def __init__(self, fileobj, folder: str = "archive"):
        self._zip = zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED, allowZip64=True)
        self._folder = folder

    def write(self, name: str, data) -> None:
        info = zipfile.ZipInfo(f"{self._folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        size = len(data) if isinstance(data, bytes) else memoryview(data).nbytes
        info.file_size = size
        zip64 = size * 1.05 > zipfile.ZIP64_LIMIT
        header = 30 + len(info.filename.encode("utf-8")) + 4 + (20 if zip64 else 0)
        pad = -(self._zip.start_dir + header) % _ALIGNMENT
        info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        with self._zip.open(info, "w", force_zip64=zip64) as out:
            out.write(data)

    def close(self) -> None:
        self._zip.close()


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def save(obj: Any, f, pickle_module: Any = pickle, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True,
         _disable_byteorder_record: bool = False) -> None:
    """Save an object (a state dict, tensors, containers, a whole module) to a file in
    PyTorch's checkpoint format, which ``torch.load`` reads.

    Args:
        obj: what to save. Tensors that share memory stay shared when loaded.
        f: a path (str or os.PathLike) or a writable binary file object (io.BytesIO). A path
            is written atomically: to a temporary file in the same folder, flushed, fsynced
            and renamed over the target, so an interrupted save leaves the previous file.
        pickle_module: must be :mod:`pickle` (ember writes PyTorch's names with its own
            pickler).
        pickle_protocol: the pickle protocol of the object record (PyTorch's default is 2).
        _use_new_zipfile_serialization: False writes the legacy (pre-1.6) stream format.

    Example:
        >>> import io, ember
        >>> buf = io.BytesIO()
        >>> ember.save({"w": ember.ones(2)}, buf)
        >>> _ = buf.seek(0)
        >>> ember.load(buf)["w"]
        tensor([1., 1.])
    """
    if pickle_module is not pickle:
        raise ValueError("save: only the standard pickle module is supported as pickle_module "
                         f"(got {getattr(pickle_module, '__name__', pickle_module)!r})")
    if _is_path(f):
        with _AtomicFile(os.fspath(f)) as out:
            _save_to(obj, out, pickle_protocol, _use_new_zipfile_serialization,
                     not _disable_byteorder_record)
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"save: expected 'f' to be string, path, or a file-like object "
                             f"with a 'write' attribute, got {type(f).__name__}")
    seekable = getattr(f, "seekable", lambda: False)()
    if seekable or not _use_new_zipfile_serialization:
        _save_to(obj, f, pickle_protocol, _use_new_zipfile_serialization,
                 not _disable_byteorder_record)
        return
    buf = io.BytesIO()                 # the zip writer needs to seek back over headers
    _save_to(obj, buf, pickle_protocol, True, not _disable_byteorder_record)
    f.write(buf.getbuffer())


def _save_to(obj, out, protocol, zip_format: bool, byteorder_record: bool) -> None:
    storages = _StorageTable()
    if not zip_format:
        _save_legacy(obj, out, protocol, storages)
        return
    data = io.BytesIO()
    _Pickler(data, protocol, storages).dump(obj)
    writer = _ZipWriter(out)
    writer.write("data.pkl", data.getbuffer())
    writer.write(".format_version", b"1")
    writer.write(".storage_alignment", str(_ALIGNMENT).encode())
    if byteorder_record:
        writer.write("byteorder", sys.byteorder.encode())
    for rec in storages.records:
        writer.write(f"data/{rec.key}", rec.host_bytes())
    writer.write("version", b"3\n")
    serialization_id = f"{int.from_bytes(os.urandom(16), 'little'):040d}"[:40]
    writer.write(".data/serialization_id", serialization_id.encode())
    writer.close()


def _save_legacy(obj, out, protocol, storages: _StorageTable) -> None:
    sys_info = {"protocol_version": _LEGACY_PROTOCOL_VERSION,
                "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    pickle.dump(_MAGIC_NUMBER, out, protocol=protocol)
    pickle.dump(_LEGACY_PROTOCOL_VERSION, out, protocol=protocol)
    pickle.dump(sys_info, out, protocol=protocol)
    _Pickler(out, protocol, storages, legacy=True).dump(obj)
    pickle.dump([rec.key for rec in storages.records], out, protocol=protocol)
    for rec in storages.records:
        untyped = rec.dtype in D.UNTYPED_DTYPES      # counted in bytes, as its pid says
        out.write(struct.pack("=q", rec.numel * rec.dtype.itemsize if untyped else rec.numel))
        out.write(rec.host_bytes())


class _AtomicFile:
    """A file written under a temporary name beside ``path`` and renamed over it on success.

    # Note [Atomic checkpoint save]
    #     A crash, a kill or a full disk in the middle of a save must not destroy the previous
    #     checkpoint: the data goes to ``.<name>.<random>.tmp`` in the same folder (a rename is
    #     atomic only within one file system), is flushed and fsynced, and ``os.replace`` then
    #     swaps it in. A failed save removes its temporary file; a killed one leaves it beside
    #     the untouched target. Targets that are not regular files (/dev/null, a FIFO) are
    #     written directly, and a symlink is followed so the link itself survives.
    """

    def __init__(self, path: str):
        self.path = os.path.realpath(path)
        self.tmp = None
        self.file = None

    def __enter__(self):
        if os.path.exists(self.path) and not os.path.isfile(self.path):
            self.file = open(self.path, "wb")       # a device or FIFO: cannot be replaced
            return self.file
        folder, name = os.path.split(self.path)
        if not os.path.isdir(folder):
            raise RuntimeError(f"Parent directory {folder} does not exist.")
        for _ in range(100):
            tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
            try:
                # 0o666 through the umask: the checkpoint gets the permissions open() gives.
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            self.tmp = tmp
            self.file = os.fdopen(fd, "wb")
            return self.file
        raise FileExistsError(f"save: could not create a temporary file beside {self.path}")

    def __exit__(self, exc_type, exc, tb):
        if self.tmp is None:
            self.file.close()
            return
        try:
            if exc_type is None:
                self.file.flush()
                os.fsync(self.file.fileno())
            self.file.close()
            if exc_type is None:
                os.replace(self.tmp, self.path)
                self.tmp = None
                _fsync_folder(os.path.dirname(self.path))
        finally:
            if self.tmp is not None:
                os.unlink(self.tmp)


def _fsync_folder(folder: str) -> None:
    # Makes the rename itself durable; best effort (not every file system allows it).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the safe-load allowlist -------------------------------------------------------------------

# Note [Weights-only loading]
#     With weights_only=True (the default) the unpickler's find_class, the only door through
#     which a pickle reaches code (GLOBAL, STACK_GLOBAL, INST, OBJ and EXT all pass it), returns
#     only allowlisted objects: ember's rebuild functions under PyTorch's names, dtypes,
#     devices, Size, Parameter, storage types, a few harmless builtins and containers, and
#     what the user added with add_safe_globals. Everything else raises UnpicklingError before
#     it is imported. Modules that run commands (os, sys, posix, nt) stay blocked even when
#     allowlisted, as in PyTorch.

_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_user_safe_globals: list = []


class _StorageType:
    """What the global ``torch.FloatStorage`` (etc.) unpickles to: the element type."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"torch.{self.name}"


_TORCH_NAMES: dict = {}


def _torch_names() -> dict:
    """PyTorch's global names -> the ember objects they load as."""
    if not _TORCH_NAMES:
        from .nn.parameter import Parameter
        names = {
            "torch._utils._rebuild_tensor": _rebuild_tensor,
            "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
            "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
            "torch._utils._rebuild_parameter": _rebuild_parameter,
            "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
            "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
            "torch.Tensor": Tensor,
            "torch.Size": Size,
            "torch.device": _Device,
            "torch.nn.parameter.Parameter": Parameter,
            "torch.UntypedStorage": _StorageType("UntypedStorage", D.uint8),
            "torch.storage.UntypedStorage": _StorageType("UntypedStorage", D.uint8),
        }
        for name, dt in _STORAGE_DTYPES.items():
            names[f"torch.{name}"] = _StorageType(name, dt)
        for dt in D.EVERY_DTYPE:
            names[f"torch.{dt.name}"] = dt
        _TORCH_NAMES.update(names)
    return _TORCH_NAMES


def _encode(obj, encoding="latin1", errors="strict"):
    # Protocol-2 pickles write bytes as _codecs.encode(str, 'latin1'): only str -> bytes here.
    if not isinstance(obj, str) or not isinstance(encoding, str):
        raise pickle.UnpicklingError("_codecs.encode: expected a str and an encoding name")
    import codecs
    return codecs.encode(obj, encoding, errors)


_SAFE_BUILTINS = {
    "collections.OrderedDict": OrderedDict,
    "collections.Counter": Counter,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.bytearray": bytearray,
    "builtins.complex": complex,
    "builtins.slice": slice,
    "_codecs.encode": _encode,
}


def _global_name(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _user_allowed() -> dict:
    allowed = {}
    for entry in _user_safe_globals:
        if isinstance(entry, tuple):
            allowed[entry[1]] = entry[0]
        else:
            allowed[_global_name(entry)] = entry
    return allowed


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions in ``ember.load(..., weights_only=True)`` checkpoints.

    Args:
        safe_globals: objects (matched by ``module.qualname``) or ``(object, "module.name")``
            pairs, to load a name under which the object was saved (say, a PyTorch class name).

    Example:
        >>> import ember, fractions
        >>> ember.serialization.add_safe_globals([fractions.Fraction])
        >>> fractions.Fraction in ember.serialization.get_safe_globals()
        True
        >>> ember.serialization.clear_safe_globals()
    """
    if not isinstance(safe_globals, (list, tuple, set)):
        raise TypeError(f"add_safe_globals: expected a list, got {type(safe_globals).__name__}")
    for entry in safe_globals:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise TypeError(f"add_safe_globals: expected (object, 'module.name'), got "
                                f"{entry!r}")
        elif not hasattr(entry, "__module__") or not hasattr(entry, "__qualname__"):
            raise TypeError(f"add_safe_globals: {entry!r} has no __module__/__qualname__; pass "
                            "(object, 'module.name')")
        if entry not in _user_safe_globals:
            _user_safe_globals.append(entry)


def get_safe_globals() -> list:
    """The objects added with :func:`add_safe_globals`."""
    return list(_user_safe_globals)


def clear_safe_globals() -> None:
    """Forget every object added with :func:`add_safe_globals`."""
    _user_safe_globals.clear()


class safe_globals:
    """Context manager: allow ``safe_globals`` in weights-only loads inside the block.

    Example:
        >>> import ember, fractions
        >>> with ember.serialization.safe_globals([fractions.Fraction]):
        ...     len(ember.serialization.get_safe_globals())
        1
    """

    def __init__(self, safe_globals: list):
        self.safe_globals = safe_globals
        self._saved = None

    def __enter__(self):
        self._saved = list(_user_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _user_safe_globals[:] = self._saved


class _WeightsOnlyError(pickle.UnpicklingError):
    """A global refused by the weights-only allowlist."""


_UNSAFE_MESSAGE = (
    "Like torch.load since PyTorch 2.6, `ember.load` defaults to `weights_only=True`. "
    "Re-running `ember.load` with `weights_only` set to `False` will likely succeed, but it can "
    "result in arbitrary code execution. Do it only if you got the file from a trusted source.")


def _weights_only_message(message: str) -> str:
    if "was not an allowed global" in message:
        return ("Weights only load failed. This file can still be loaded, to do so you have two "
                "options, do those steps only if you trust the source of the checkpoint. "
                f"\n\t(1) {_UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with "
                "`weights_only=True` please check the recommended steps in the following error "
                "message.\n\tWeightsUnpickler error: " + message)
    return f"Weights only load failed. {_UNSAFE_MESSAGE}\n\n{message}"


def _normalize_global(module: str, name: str) -> tuple[str, str]:
    # Protocol-2 pickles name Python 3 builtins by their Python 2 modules (__builtin__).
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def _find_class(module: str, name: str, weights_only: bool, fallback):
    module, name = _normalize_global(module, name)
    full = f"{module}.{name}"
    obj = _torch_names().get(full)
    if obj is None and module == "torch" and (name.endswith("Storage") or name.startswith(
            ("uint", "int", "float", "bfloat", "complex", "qint", "quint", "bits"))):
        raise pickle.UnpicklingError(
            f"load: the checkpoint holds {full}, an element type ember does not support "
            f"(ember has {', '.join(d.name for d in D.EVERY_DTYPE)})")
    if not weights_only:
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            raise pickle.UnpicklingError(
                f"load: the checkpoint needs {full}, a PyTorch object that ember cannot "
                "rebuild; ember loads tensors, parameters, storages, dtypes, devices, sizes and "
                "plain Python objects (save a state_dict instead of a whole torch module)")
        return fallback(module, name)
    if module.split(".")[0] in _BLOCKED_MODULES:
        raise _WeightsOnlyError(
            f"Trying to load unsupported GLOBAL {full} whose module {module} is blocked.")
    if obj is not None:
        return obj
    user = _user_allowed()
    if full in user:
        return user[full]
    if full in _SAFE_BUILTINS:
        return _SAFE_BUILTINS[full]
    shown = name if module == "builtins" else full
    raise _WeightsOnlyError(
        f"Unsupported global: GLOBAL {shown} was not an allowed global by default. Please use "
        f"`ember.serialization.add_safe_globals([{shown}])` or the "
        f"`ember.serialization.safe_globals([{shown}])` context manager to allowlist this "
        "global if you trust this class/function.")


def _make_unpickler(base, file, weights_only: bool, persistent_load, **kwargs):
    class _Unpickler(base):
        def find_class(self, module, name):
            return _find_class(module, name, weights_only, super().find_class)

    unpickler = _Unpickler(file, **kwargs)
    unpickler.persistent_load = persistent_load
    return unpickler


# -- loading -----------------------------------------------------------------------------------

class _LoadedStorage:
    """The bytes of one storage record and their element type, on cpu or a cuda device.

    This is what a callable ``map_location(storage, location)`` receives; it may return it
    unchanged, ``storage.cpu()``, ``storage.cuda(index)`` or ``storage.to(device)``.
    """

    __slots__ = ("_raw", "dtype")

    def __init__(self, raw, dtype):
        self._raw = raw             # 1-D uint8 array (NumPy or CuPy)
        self.dtype = dtype

    @property
    def device(self) -> _Device:
        from ._device import device_of
        return device_of(self._raw)

    @property
    def is_cuda(self) -> bool:
        return not isinstance(self._raw, np.ndarray)

    def nbytes(self) -> int:
        return int(self._raw.size)

    def element_size(self) -> int:
        return self.dtype.itemsize

    def size(self) -> int:
        return int(self._raw.size) // self.dtype.itemsize

    __len__ = size

    def cpu(self) -> _LoadedStorage:
        if isinstance(self._raw, np.ndarray):
            return self
        return _LoadedStorage(self._raw.get(), self.dtype)

    def cuda(self, device=None, non_blocking: bool = False) -> _LoadedStorage:
        from ._device import to_device
        from .backends import cupy_backend
        index = to_device("cuda" if device is None else
                          device if not isinstance(device, int) else f"cuda:{device}").index
        cupy_backend.check_dtype(self.dtype.np, "load")
        return _LoadedStorage(cupy_backend.to_gpu(self._raw, index), self.dtype)

    def to(self, device) -> _LoadedStorage:
        return _to_location(self, str(device))

    def __repr__(self) -> str:
        return f"<storage of {self.size()} {self.dtype} on {self.device}>"


def _validate_cuda_device(location: str) -> int:
    from . import cuda
    from ._device import device as make_device
    if not cuda.is_available():
        raise RuntimeError(
            "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
            "False. If you are running on a CPU-only machine, please use torch.load with "
            "map_location=torch.device('cpu') to map your storages to the CPU.")
    index = make_device(location).index
    if index is None:
        index = cuda.current_device()
    count = cuda.device_count()
    if index >= count:
        raise RuntimeError(
            f"Attempting to deserialize object on CUDA device {index} but "
            f"torch.cuda.device_count() is {count}. Please use torch.load with map_location to "
            "map your storages to an existing device.")
    return index


def _to_location(storage: _LoadedStorage, location: str) -> _LoadedStorage:
    if location == "cpu" or location.startswith("cpu:"):
        return storage.cpu()
    if location == "cuda" or location.startswith("cuda:"):
        return storage.cuda(_validate_cuda_device(location))
    raise RuntimeError(f"don't know how to restore data location of {storage!r} (tagged with "
                       f"{location})")


def _restore(storage: _LoadedStorage, location: str, map_location) -> _LoadedStorage:
    if map_location is None:
        return _to_location(storage, location)
    if isinstance(map_location, dict):
        return _to_location(storage, str(map_location.get(location, location)))
    if isinstance(map_location, (str, _Device)):
        return _to_location(storage, str(map_location))
    if callable(map_location):
        result = map_location(storage, location)
        if result is None:
            return _to_location(storage, location)
        if not isinstance(result, _LoadedStorage):
            raise TypeError(f"load: map_location must return the storage it was given (or "
                            f"storage.cpu()/.cuda()), got {type(result).__name__}")
        return result
    raise TypeError(f"load: map_location should be a str, an ember.device, a dict or a "
                    f"callable, got {type(map_location).__name__}")


def _view(storage: _LoadedStorage, offset, size, stride):
    """The array for a tensor of the given geometry over ``storage`` (sharing its memory)."""
    dtype = storage.dtype.np
    item = dtype.itemsize
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = int(offset)
    numel = storage.size()
    if len(size) != len(stride) or offset < 0 or any(s < 0 for s in size + stride):
        raise RuntimeError(f"load: invalid tensor geometry in checkpoint: size {list(size)}, "
                           f"stride {list(stride)}, storage offset {offset}")
    raw = storage._raw
    cpu = isinstance(raw, np.ndarray)
    if any(n == 0 for n in size):
        if cpu:
            return np.empty(size, dtype)
        with raw.device:
            return type(raw)(size, dtype)
    need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if need > numel:
        raise RuntimeError(
            f"load: setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
            f"{offset}, and itemsize {item} requiring a storage size of {need * item} are out of "
            f"bounds for storage of size {numel * item} (corrupt checkpoint?)")
    strides = tuple(s * item for s in stride)
    if cpu:
        return np.ndarray(size, dtype, buffer=raw, offset=offset * item, strides=strides)
    return type(raw)(size, dtype, memptr=raw.data + offset * item, strides=strides)


def _rebuild_tensor(storage, storage_offset, size, stride):
    if not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError(f"load: expected a storage, got {type(storage).__name__}")
    return Tensor._make(_view(storage, storage_offset, size, stride))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    # v3 names the element type itself; its storage is untyped (bytes).
    if not isinstance(dtype, D.dtype) or not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError(f"load: malformed tensor record (dtype {dtype!r})")
    typed = _LoadedStorage(storage._raw, dtype)
    return _rebuild_tensor_v2(typed, storage_offset, size, stride, requires_grad)


def _set_state(obj, state):
    if not state:
        return obj
    if isinstance(state, tuple) and len(state) == 2:
        merged = dict(state[0] or {})
        merged.update(state[1] or {})
        state = merged
    if not isinstance(state, dict):
        raise pickle.UnpicklingError(f"load: tensor state must be a dict, got "
                                     f"{type(state).__name__}")
    for key, value in state.items():
        setattr(obj, key, value)
    return obj


def _rebuild_parameter(data, requires_grad, backward_hooks=None):
    from .nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"load: Parameter data must be a tensor, got "
                                     f"{type(data).__name__}")
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_rebuild_parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    ret = func(*args)
    if (isinstance(new_type, type) and issubclass(new_type, Tensor)
            and type(ret) is not new_type):
        obj = object.__new__(new_type)
        obj._data, obj._rg, obj.grad_fn = ret._data, ret._rg, None
        ret = obj
    return _set_state(ret, state)


class _ZipReader:
    """Reads the records of a checkpoint zip; stored records are read straight from the
    file (or mapped with mmap) at their data offset."""

    def __init__(self, fileobj):
        self.file = fileobj
        try:
            self.zip = zipfile.ZipFile(fileobj)
        except zipfile.BadZipFile as e:
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {e} "
                               "(truncated or corrupt checkpoint?)") from None
        names = self.zip.namelist()
        if not names:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: empty archive")
        self.names = set(names)
        self.folder = names[0].split("/")[0]

    def has(self, name: str) -> bool:
        return f"{self.folder}/{name}" in self.names

    def read(self, name: str) -> bytes:
        if not self.has(name):
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not "
                               "found")
        return self.zip.read(f"{self.folder}/{name}")

    def data_offset(self, name: str):
        """(offset, size) of a stored record's bytes in the file, or None if compressed."""
        info = self.zip.getinfo(f"{self.folder}/{name}")
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        self.file.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", self.file.read(4))
        return info.header_offset + 30 + name_len + extra_len, info.file_size

    def raw(self, name: str, nbytes: int, mapped=None):
        """A 1-D uint8 array with the record's first nbytes bytes."""
        if not self.has(name):
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not "
                               "found")
        where = self.data_offset(name)
        if where is not None and where[1] < nbytes or where is None and \
                self.zip.getinfo(f"{self.folder}/{name}").file_size < nbytes:
            raise RuntimeError(f"load: record {name} is shorter than its storage "
                               f"({nbytes} bytes); truncated checkpoint?")
        if where is None:
            if mapped is not None:
                raise RuntimeError(f"load: mmap=True needs stored (uncompressed) records, but "
                                   f"{name} is compressed")
            return np.frombuffer(bytearray(self.read(name)[:nbytes]), np.uint8)
        offset = where[0]
        if mapped is not None:
            return np.frombuffer(mapped, np.uint8, count=nbytes, offset=offset)
        raw = np.empty(nbytes, np.uint8)
        self.file.seek(offset)
        if _read_into(self.file, raw) != nbytes:
            raise RuntimeError(f"load: record {name} ends early; truncated checkpoint?")
        return raw


def _read_into(f, array) -> int:
    view = memoryview(array).cast("B")
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def _byteswap(raw, dtype) -> None:
    width = dtype.itemsize // 2 if dtype.is_complex else dtype.itemsize
    if width > 1:
        raw.view(f"u{width}").byteswap(inplace=True)


class _open_for_read:
    def __init__(self, f):
        self.f = f
        self.owned = None

    def __enter__(self):
        if _is_path(self.f):
            self.owned = open(os.fspath(self.f), "rb")
            return self.owned
        if not hasattr(self.f, "read"):
            raise AttributeError(f"load: expected 'f' to be string, path, or a file-like object "
                                 f"with a 'read' attribute, got {type(self.f).__name__}")
        if not getattr(self.f, "seekable", lambda: False)():
            return io.BytesIO(self.f.read())
        return self.f

    def __exit__(self, *exc):
        if self.owned is not None:
            self.owned.close()


def _is_zip(f) -> bool:
    start = f.tell()
    head = f.read(4)
    f.seek(start)
    return head == b"PK\x03\x04"


def _resolve_weights_only(weights_only, pickle_module) -> bool:
    not_set = weights_only is None
    if not_set:
        weights_only = pickle_module is None
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_VALUES
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_VALUES
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were "
                           "set.")
    if force:
        return True
    if force_no and not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the "
                      "`weights_only` argument was not explicitly passed to `ember.load`, "
                      "forcing weights_only=False.", UserWarning, stacklevel=3)
        return False
    return bool(weights_only)


_MMAP_FLAGS: list = [None]


def get_default_mmap_options() -> int | None:
    """The mmap flags ``load(..., mmap=True)`` uses (None means mmap.MAP_PRIVATE)."""
    return _MMAP_FLAGS[0]


class set_default_mmap_options:
    """Set the flags of ``load(..., mmap=True)``: ``mmap.MAP_PRIVATE`` (the default: writes to
    loaded tensors stay in memory) or ``mmap.MAP_SHARED`` (writes go to the file). Works as a
    call or as a context manager that restores the previous flags."""

    def __init__(self, flags: int):
        import mmap
        if flags not in (mmap.MAP_PRIVATE, mmap.MAP_SHARED):
            raise ValueError("Invalid argument in function set_default_mmap_options, expected "
                             f"mmap.MAP_PRIVATE or mmap.MAP_SHARED, but got {flags}")
        self.prev = _MMAP_FLAGS[0]
        _MMAP_FLAGS[0] = flags

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _MMAP_FLAGS[0] = self.prev


def _map_file(path: str):
    import mmap
    shared = _MMAP_FLAGS[0] == mmap.MAP_SHARED
    with open(path, "r+b" if shared else "rb") as fh:
        return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_WRITE if shared
                         else mmap.ACCESS_COPY)


def load(f, map_location=None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args) -> Any:
    """Load an object saved by ``ember.save`` or ``torch.save``.

    Args:
        f: a path (str or os.PathLike) or a readable binary file object. A path ending in
            ``.safetensors`` is read with :mod:`ember.utils.safetensors`.
        map_location: where storages go: None (where they were saved), a device or string
            ("cpu", "cuda:1"), a dict from saved location to location ({"cuda:0": "cpu"}), or
            a callable ``(storage, location) -> storage`` (returning None means the default).
        pickle_module: an Unpickler provider for ``weights_only=False`` loads.
        weights_only: True (the default) rebuilds only tensors, containers, numbers,
            strings, dtypes, devices and objects allowed with ``add_safe_globals``, and never
            runs other code; False unpickles anything (only for trusted files). The
            environment variables TORCH_FORCE_WEIGHTS_ONLY_LOAD=1 (always safe) and
            TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (unsafe unless weights_only is passed) apply
            as in PyTorch.
        mmap: map the file into memory instead of reading it; loaded cpu tensors are views of
            the file's pages (zip format and a path only).
        pickle_load_args: passed to the unpickler (``encoding``, default "utf-8").

    Returns:
        The saved object, with ember tensors.

    Example:
        >>> import io, ember
        >>> buf = io.BytesIO()
        >>> ember.save([ember.arange(3), "x"], buf)
        >>> _ = buf.seek(0)
        >>> ember.load(buf, map_location="cpu")
        [tensor([0, 1, 2]), 'x']
    """
    weights_only = _resolve_weights_only(weights_only, pickle_module)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    unpickler_base = pickle.Unpickler if pickle_module is None else pickle_module.Unpickler
    if weights_only and set(pickle_load_args) - {"encoding"}:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", UserWarning,
                      stacklevel=2)
        pickle_load_args = {k: v for k, v in pickle_load_args.items() if k == "encoding"}
    pickle_load_args.setdefault("encoding", "utf-8")
    if _is_path(f) and os.fspath(f).endswith(".safetensors"):
        return _load_safetensors(f, map_location)
    with _open_for_read(f) as fh:
        try:
            if _is_zip(fh):
                mapped = None
                if mmap:
                    if not _is_path(f):
                        raise ValueError("f must be a file path in order to use the mmap "
                                         "argument")
                    mapped = _map_file(os.fspath(f))
                return _load_zip(fh, map_location, weights_only, unpickler_base, mapped,
                                 pickle_load_args)
            if mmap:
                name = f"{os.fspath(f)}, " if _is_path(f) else ""
                raise RuntimeError("mmap can only be used with files saved with "
                                   f"`torch.save({name}_use_new_zipfile_serialization=True), "
                                   "please torch.save your checkpoint with this option in order "
                                   "to use mmap.")
            return _load_legacy(fh, f, map_location, weights_only, unpickler_base,
                                pickle_load_args)
        except _WeightsOnlyError as e:
            raise pickle.UnpicklingError(_weights_only_message(str(e))) from None


def _load_safetensors(f, map_location):
    from .utils import safetensors
    if map_location is None or isinstance(map_location, (str, _Device)):
        return safetensors.load_file(f, device=str(map_location or "cpu"))
    raise RuntimeError("Loading safetensors file with dict or callable map_location is not "
                       "supported. Use a device string or ember.device instead.")


def _load_zip(fh, map_location, weights_only, base, mapped, load_args):
    reader = _ZipReader(fh)
    if reader.has("constants.pkl") or any("/code/" in n for n in reader.names):
        raise RuntimeError("load: this is a TorchScript archive (torch.jit.save); ember cannot "
                           "load TorchScript code. Save model.state_dict() with torch.save "
                           "instead.")
    swap = reader.has("byteorder") and reader.read("byteorder").decode() != sys.byteorder
    data = reader.read("data.pkl")
    loaded: dict = {}

    def persistent_load(pid):
        kind, storage_type, key, location, numel = _check_storage_pid(pid, 5)
        if key not in loaded:
            dtype = storage_type.dtype
            raw = reader.raw(f"data/{key}", numel * dtype.itemsize, mapped)
            if swap:
                raw = raw.copy()
                _byteswap(raw, dtype)
            loaded[key] = _restore(_LoadedStorage(raw, dtype), location, map_location)
        storage = loaded[key]
        if storage.dtype is not storage_type.dtype:
            # One record viewed under two element types (PyTorch allows this for untyped
            # storages): reinterpret the same bytes.
            storage = _LoadedStorage(storage._raw, storage_type.dtype)
        return storage

    unpickler = _make_unpickler(base, io.BytesIO(data), weights_only, persistent_load,
                                **load_args)
    return unpickler.load()


def _check_storage_pid(pid, length: int):
    if not isinstance(pid, tuple) or len(pid) < length or pid[0] != "storage":
        raise pickle.UnpicklingError(f"load: unsupported persistent id {pid!r} (not a storage)")
    kind, storage_type, key, location, numel = pid[:5]
    if not isinstance(storage_type, _StorageType):
        raise pickle.UnpicklingError(f"load: unknown storage type {storage_type!r}")
    if not isinstance(key, str) or not isinstance(location, str) or \
            not isinstance(numel, int) or numel < 0:
        raise pickle.UnpicklingError(f"load: malformed storage reference {pid!r}")
    return kind, storage_type, key, location, numel


class _Inert:
    """Stands in for every global during the legacy format's first pass, which only learns
    the storages' types and sizes: nothing the pickle names is imported or called."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Inert()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def __setitem__(self, key, value):
        pass


def _legacy_storage_types(fh) -> dict:
    """key -> (storage type, location, numel, view) of the legacy object pickle at fh, read
    without running it."""
    found: dict = {}

    class _Scan(pickle.Unpickler):
        def find_class(self, module, name):
            full = ".".join(_normalize_global(module, name))
            obj = _torch_names().get(full)
            return obj if isinstance(obj, _StorageType) else _Inert

        def persistent_load(self, pid):
            if isinstance(pid, tuple) and pid and pid[0] == "storage":
                _, storage_type, key, location, numel = _check_storage_pid(pid, 6)
                found.setdefault(key, (storage_type, location, numel, pid[5]))
            return _Inert()

    _Scan(fh, encoding="utf-8").load()
    return found


def _load_legacy(fh, f, map_location, weights_only, base, load_args):
    start = fh.tell()
    head = fh.read(2)
    fh.seek(start)
    if len(head) < 2 or head[0] != pickle.PROTO[0]:
        name = os.fspath(f) if _is_path(f) else type(f).__name__
        raise pickle.UnpicklingError(
            f"load: {name} is not a checkpoint: it is neither a zip archive (torch.save, "
            f"ember.save) nor a legacy pickled checkpoint (starts with {head!r})")

    def plain_load():
        return _make_unpickler(pickle.Unpickler, fh, True, _no_persistent,
                               encoding="utf-8").load()

    if plain_load() != _MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    protocol_version = plain_load()
    if protocol_version != _LEGACY_PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {protocol_version}")
    sys_info = plain_load()
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    main = fh.tell()
    types = _legacy_storage_types(fh)
    keys = plain_load()
    if not isinstance(keys, list):
        raise pickle.UnpicklingError("load: malformed legacy checkpoint (storage key list)")
    here = fh.tell()
    file_end = fh.seek(0, os.SEEK_END)
    fh.seek(here)
    raws = {}
    for key in keys:
        if key not in types:
            raise RuntimeError(f"load: legacy checkpoint has data for unknown storage {key}")
        dtype = types[key][0].dtype
        count = fh.read(8)
        if len(count) != 8:
            raise RuntimeError("load: legacy checkpoint ends early; truncated file?")
        numel = struct.unpack("<q" if little else ">q", count)[0]
        if numel < 0 or numel * dtype.itemsize > file_end - fh.tell():
            raise RuntimeError(f"load: legacy checkpoint storage {key} claims {numel} elements, "
                               "more than the file holds; truncated or corrupt file?")
        raw = np.empty(numel * dtype.itemsize, np.uint8)
        if _read_into(fh, raw) != raw.size:
            raise RuntimeError("load: legacy checkpoint ends early; truncated file?")
        if little != (sys.byteorder == "little"):
            _byteswap(raw, dtype)
        raws[key] = raw
    restored: dict = {}

    def storage_for(key):
        if key not in restored:
            storage_type, location, numel, view = types[key]
            raw = raws[key]
            restored[key] = _restore(_LoadedStorage(raw, storage_type.dtype), location,
                                     map_location)
        return restored[key]

    def persistent_load(pid):
        if isinstance(pid, tuple) and pid and pid[0] == "module":
            if len(pid) < 2:
                raise pickle.UnpicklingError(f"load: malformed persistent id {pid!r}")
            return pid[1]
        _, storage_type, root_key, location, numel = _check_storage_pid(pid, 6)
        view = pid[5]
        if root_key not in raws:
            raise RuntimeError(f"load: legacy checkpoint has no data for storage {root_key}")
        storage = storage_for(root_key)
        if view is not None:
            _view_key, offset, view_size = view
            item = storage.dtype.itemsize
            storage = _LoadedStorage(storage._raw[offset * item:(offset + view_size) * item],
                                     storage.dtype)
        return storage

    end = fh.tell()
    fh.seek(main)
    result = _make_unpickler(base, fh, weights_only, persistent_load, **load_args).load()
    fh.seek(end)
    return result


def _no_persistent(pid):
    raise pickle.UnpicklingError(f"load: unexpected persistent id {pid!r}")


# -- checkpoint inspection -----------------------------------------------------------------------

_STRING_OPS = ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
               "BINSTRING", "STRING")


def _globals_in_pickle(data) -> list[str]:
    """Every global a pickle names (GLOBAL, INST and STACK_GLOBAL), without running it."""
    found: list[str] = []
    pushed: list = []           # what each opcode pushed, strings kept (for STACK_GLOBAL)
    memo: dict = {}
    for op, arg, _pos in pickletools.genops(data):
        name = op.name
        if name in ("GLOBAL", "INST"):
            module, _, qual = arg.partition(" ")
            found.append(".".join(_normalize_global(module, qual)))
            pushed.append(None)
        elif name == "STACK_GLOBAL":
            module, qual = (pushed[-2], pushed[-1]) if len(pushed) >= 2 else (None, None)
            if isinstance(module, str) and isinstance(qual, str):
                found.append(".".join(_normalize_global(module, qual)))
            else:
                found.append("<unknown STACK_GLOBAL>")
            pushed.append(None)
        elif name in _STRING_OPS:
            pushed.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(arg))
        elif name not in ("PROTO", "FRAME", "MARK", "STOP"):
            pushed.append(None)
    return list(dict.fromkeys(found))


def get_unsafe_globals_in_checkpoint(f) -> list[str]:
    """The globals a checkpoint names that a weights-only load would refuse, found without
    loading it (add the trusted ones with :func:`add_safe_globals`).

    Args:
        f: a path or a readable binary file object.

    Returns:
        ``"module.name"`` strings, in order of appearance.
    """
    with _open_for_read(f) as fh:
        if _is_zip(fh):
            names = _globals_in_pickle(_ZipReader(fh).read("data.pkl"))
        else:
            # Legacy: magic number, protocol version, sys info, then the object.
            names = []
            for _ in range(4):
                names += _globals_in_pickle(fh)
    allowed = set(_torch_names()) | set(_SAFE_BUILTINS) | set(_user_allowed())
    return [n for n in dict.fromkeys(names) if n not in allowed]
