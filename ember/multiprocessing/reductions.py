"""Shared-memory storages and the pickling rules that send tensors between processes.

Importing this module (``import ember`` does) registers reducers with
``multiprocessing.reduction.ForkingPickler``, so every ``multiprocessing`` Queue, Pipe, Pool
or Process argument moves CPU tensors through shared memory instead of copying them.
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import os
import sys
import tempfile
import weakref
from multiprocessing import reduction as _mp_reduction
from multiprocessing import util as _mp_util

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["init_reductions", "empty_shared", "share_memory_", "is_shared",
           "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"]

# Note [Shared memory storages]
#     A shared tensor's ndarray is a view of one `_SharedStorage`: NumPy's `.base` chain of the
#     array ends at that object (through a uint8 root array built from its
#     `__array_interface__`), so `is_shared()` is a two-step walk and re-sending a shared tensor
#     reuses its storage instead of copying again. The storage owns
#     - 'file_descriptor' (the default): an anonymous `memfd_create` file (fallback: a /dev/shm
#       or temporary file unlinked right after opening). The fd stays open so the storage can
#       be sent again; it travels as `multiprocessing.reduction.DupFd` (the resource sharer for
#       queues, the spawning Popen for Process arguments). Each storage keeps one fd open in
#       every process that maps it; with thousands of live shared tensors (ulimit -n) switch
#       to 'file_system'.
#     - 'file_system': a named file under /dev/shm; no fd stays open (see _Mapping). The
#       process that created the file unlinks it when its storage is freed or when that
#       process exits: a receiver keeps its mapping after that, but the tensor can then no
#       longer be sent to a new process (PyTorch keeps the name alive through its
#       torch_shm_manager daemon; ember has none).
#     With either strategy the SENDER must stay alive until the receiver has unpickled the
#     tensor (the fd is handed over by the sender's resource sharer thread), as in PyTorch.
#     The memory itself is released by the kernel when the last mapping in any process goes,
#     i.e. when the last tensor viewing the storage is garbage collected everywhere; nothing is
#     left in /dev/shm. The strategy in force when a storage is created decides its kind.
#     Receivers cache storages by identity (the fd's inode, or the file name), so one storage
#     sent twice, or sent back to its creator, maps once and is the very same memory.

# Note [share_memory_ and views]
#     PyTorch moves a whole storage into shared memory, so every tensor viewing it follows. An
#     ember tensor holds its own ndarray and tensors keep no list of their views, so
#     `t.share_memory_()` re-points exactly two tensors at the new shared memory: `t` and, when
#     `t` is a view, its base (`t._base`), keeping the view's offset and strides inside the
#     base. Every OTHER tensor that shared t's memory before the call -- other views of the
#     same base, `t.detach()` / `t.data` results, the tensor a Parameter was built from --
#     keeps pointing at the old private memory and no longer sees t's writes. So share a
#     tensor (or call `model.share_memory()`) right after creating it, before taking views,
#     as PyTorch's Hogwild examples do. Views taken afterwards are views of shared memory.

_STRATEGIES = ("file_descriptor", "file_system") if os.name == "posix" else ("file_system",)
_strategy = [_STRATEGIES[0]]
_SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_counter = itertools.count()
_live: weakref.WeakValueDictionary = weakref.WeakValueDictionary()   # key -> _SharedStorage


def get_all_sharing_strategies() -> set:
    """The sharing strategies this system supports: ``{'file_descriptor', 'file_system'}``."""
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    """The strategy new shared storages use ('file_descriptor' by default on Linux)."""
    return _strategy[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Choose how storages created from now on are shared: 'file_descriptor' (an open fd per
    storage, passed between processes) or 'file_system' (a named file in /dev/shm)."""
    if new_strategy not in _STRATEGIES:
        # PyTorch asserts here; the class is kept, the message says what is allowed.
        raise AssertionError(f"set_sharing_strategy: invalid sharing strategy "
                             f"{new_strategy!r}, expected one of {sorted(_STRATEGIES)}")
    _strategy[0] = new_strategy


class _SharedStorage:
    """One block of shared memory, mapped in this process; see Note [Shared memory storages]."""

    __slots__ = ("kind", "fd", "name", "nbytes", "key", "_mapping", "__array_interface__",
                 "__weakref__")

    def __init__(self, kind, fd, name, nbytes, key, owner_pid=None):
        self.kind, self.fd, self.name, self.nbytes, self.key = kind, fd, name, nbytes, key
        self._mapping = None
        # mmap cannot map 0 bytes: an empty tensor still gets one page, which it never reads.
        source = fd if fd is not None else os.open(name, os.O_RDWR)
        try:
            self._mapping = _Mapping(source, max(nbytes, 1))
        finally:
            if fd is None:
                os.close(source)
        self.__array_interface__ = {"data": (self._mapping.address, False),
                                    "shape": (nbytes,), "typestr": "|u1", "version": 3}
        _live[key] = self
        if owner_pid is not None:
            # Unlinked when freed, and at the latest when this process exits (multiprocessing
            # runs finalizers with an exitpriority in children too, before os._exit).
            _mp_util.Finalize(self, _unlink_owned, args=(name, owner_pid), exitpriority=0)

    @property
    def address(self) -> int:
        return self.__array_interface__["data"][0]

    def __del__(self):
        # Runs once no array views the storage (their .base chains hold it).
        try:  # noqa: SIM105  (no module globals needed: __del__ may run at shutdown)
            if self._mapping is not None:
                self._mapping.close()
            if self.fd is not None:
                os.close(self.fd)
        except (OSError, TypeError, AttributeError):
            pass            # already closed, or interpreter shutdown


class _Mapping:
    """A shared read-write mapping of an fd that keeps no fd of its own.

    Python's mmap.mmap keeps a dup of the fd until CPython 3.13 (``trackfd=False``); libc's
    mmap through ctypes does not, so a 'file_system' storage holds no fd at all and a
    'file_descriptor' storage exactly one, as in PyTorch.
    """

    __slots__ = ("address", "size", "_mmap")

    def __init__(self, fd, size):
        self.size = size
        self._mmap = None
        libc = _libc()
        if libc is None:
            kwargs = {"trackfd": False} if sys.version_info >= (3, 13) else {}
            self._mmap = mmap.mmap(fd, size, **kwargs)
            import ctypes
            self.address = ctypes.addressof(ctypes.c_char.from_buffer(self._mmap))
            return
        address = libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED,
                            fd, 0)
        if address is None or address == _MAP_FAILED:
            import ctypes
            err = ctypes.get_errno()
            raise OSError(err, f"ember.multiprocessing: mmap of {size} bytes failed: "
                               f"{os.strerror(err)}")
        self.address = address

    def close(self):
        if self._mmap is None and self.address:
            _libc().munmap(self.address, self.size)
            self.address = 0


_LIBC = []
_MAP_FAILED = (1 << 64) - 1


def _libc():
    """libc with mmap/munmap typed for ctypes, or None where that is unavailable."""
    if not _LIBC:
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.mmap.restype = ctypes.c_void_p
            libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_int, ctypes.c_long]
            libc.munmap.restype = ctypes.c_int
            libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
            global _MAP_FAILED
            _MAP_FAILED = ctypes.c_void_p(-1).value
        except (OSError, AttributeError, ImportError):
            libc = None
        _LIBC.append(libc)
    return _LIBC[0]


def _unlink_owned(name, owner_pid):
    if os.getpid() == owner_pid:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _new_storage(nbytes: int) -> _SharedStorage:
    size = max(nbytes, 1)
    if _strategy[0] == "file_system":
        name = os.path.join(_SHM_DIR, f"ember_{os.getpid()}_{next(_counter)}_"
                                      f"{os.urandom(4).hex()}")
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size)
        except OSError:
            os.close(fd)
            os.unlink(name)
            raise
        os.close(fd)
        return _SharedStorage("file_system", None, name, nbytes, name, owner_pid=os.getpid())
    fd = _anonymous_fd()
    try:
        os.ftruncate(fd, size)
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    return _SharedStorage("file_descriptor", fd, None, nbytes, (st.st_dev, st.st_ino))


def _anonymous_fd() -> int:
    """An fd of a file with no name (memfd; else a file unlinked right after opening)."""
    if hasattr(os, "memfd_create"):
        try:
            return os.memfd_create("ember_shared", os.MFD_CLOEXEC)
        except OSError:
            pass
    name = os.path.join(_SHM_DIR, f"ember_{os.getpid()}_{next(_counter)}_{os.urandom(4).hex()}")
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.unlink(name)
    return fd


def _storage_of(array):
    """The _SharedStorage an ndarray views, or None."""
    obj = array.base
    while type(obj) is np.ndarray:
        obj = obj.base
    return obj if type(obj) is _SharedStorage else None


def _root(storage: _SharedStorage) -> np.ndarray:
    return np.asarray(storage)


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _extent(array: np.ndarray):
    """[low, high) byte addresses of the elements of an array."""
    lo = hi = _address(array)
    if array.size == 0:
        return lo, lo
    for n, s in zip(array.shape, array.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + array.dtype.itemsize


class _RawBytes:
    """Read-only uint8 access to [low, high) of memory owned by ``keep``."""

    def __init__(self, low, high, keep):
        self._keep = keep
        self.__array_interface__ = {"data": (low, True), "shape": (high - low,),
                                    "typestr": "|u1", "version": 3}


def empty_shared(shape, dtype=None) -> Tensor:
    """A CPU tensor whose memory is already shared (zero-filled), to send through a Queue
    without a copy: e.g. ``ember.stack(batch, out=empty_shared(shape, dtype))``.

    Private helper for DataLoader workers (PyTorch builds such buffers from a shared
    ``UntypedStorage``).
    """
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"empty_shared: negative dimension in shape {list(shape)}")
    dt = D.get_default_dtype() if dtype is None else D.to_dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    storage = _new_storage(nbytes)
    return Tensor._make(np.ndarray(shape, dtype=dt.np, buffer=_root(storage)))


def is_shared(tensor: Tensor) -> bool:
    """Whether the tensor's memory is shared between processes (always True on CUDA)."""
    data = tensor._data
    if type(data) is not np.ndarray:
        return True
    return _storage_of(data) is not None


def share_memory_(tensor: Tensor) -> Tensor:
    """Move the tensor's data into shared memory in place; returns the tensor.

    A no-op for CUDA tensors and tensors already shared. See Note [share_memory_ and views]
    for what happens to other tensors that shared its memory.
    """
    data = tensor._data
    if type(data) is not np.ndarray or _storage_of(data) is not None:
        return tensor
    base = tensor._base
    # A view whose base is already shared was orphaned by an earlier base.share_memory_():
    # moving the base again would cut it off from the processes that share it.
    moved = [tensor] if (base is None or type(base._data) is not np.ndarray
                         or _storage_of(base._data) is not None) else [base, tensor]
    spans = [_extent(t._data) for t in moved]
    low = min(s[0] for s in spans)
    high = max(s[1] for s in spans)
    storage = _new_storage(high - low)
    root = _root(storage)
    if high > low:
        root[...] = np.asarray(_RawBytes(low, high, [t._data for t in moved]))
    for t in moved:
        old = t._data
        new = np.ndarray(old.shape, dtype=old.dtype, buffer=root,
                         offset=_address(old) - low, strides=old.strides)
        if not old.flags.writeable:
            new.flags.writeable = False
        t._data = new
    return tensor


# -- pickling ---------------------------------------------------------------------------------

_NON_LEAF_MSG = (
    "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does "
    "not support crossing process boundaries.  If you just want to transfer the data, call "
    "detach() on the tensor before serializing (e.g., putting it on the queue).")


def _storage_handle(storage: _SharedStorage):
    if storage.kind == "file_system":
        return ("file_system", storage.name, storage.nbytes)
    return ("file_descriptor", _mp_reduction.DupFd(storage.fd), storage.nbytes)


def _open_storage(handle) -> _SharedStorage:
    kind, what, nbytes = handle
    if kind == "file_system":
        storage = _live.get(what)
        if storage is not None:
            return storage
        try:
            return _SharedStorage("file_system", None, what, nbytes, what)
        except FileNotFoundError:
            raise RuntimeError(
                f"ember.multiprocessing: shared memory file {what} no longer exists: the "
                "process that created it ('file_system' strategy) freed the tensor before "
                "this process received it; keep the sender's tensor alive until it is "
                "received") from None
    try:
        fd = what.detach()
    except (EOFError, OSError) as exc:
        raise RuntimeError(
            "ember.multiprocessing: could not receive a shared tensor's file descriptor: the "
            "sending process exited (or closed its side) before this process unpickled the "
            "tensor. Keep the sender alive until the tensor is received, e.g. wait on an "
            f"Event ({type(exc).__name__}: {exc})") from exc
    st = os.fstat(fd)
    key = (st.st_dev, st.st_ino)
    storage = _live.get(key)
    if storage is not None:
        os.close(fd)
        return storage
    try:
        return _SharedStorage("file_descriptor", fd, None, nbytes, key)
    except BaseException:
        os.close(fd)
        raise


def _reduce_tensor(tensor: Tensor):
    if tensor.requires_grad and not tensor.is_leaf:
        raise RuntimeError(_NON_LEAF_MSG + f" (tensor of shape {list(tensor.shape)}, "
                           f"grad_fn={tensor.grad_fn.name()})")
    data = tensor._data
    if type(data) is not np.ndarray:
        raise RuntimeError(
            f"ember.multiprocessing: sharing CUDA tensors between processes is not supported "
            f"(tensor of shape {list(tensor.shape)} on {tensor.device}); send "
            f"tensor.cpu() and move it back with .cuda() in the receiving process")
    storage = _storage_of(data)
    if storage is None:
        share_memory_(tensor)
        data = tensor._data
        storage = _storage_of(data)
    attrs = {k: v for k, v in tensor.__dict__.items() if not k.startswith("_")}
    meta = (_address(data) - storage.address, data.shape, data.strides, tensor.dtype.name,
            bool(data.flags.writeable))
    return (_rebuild_tensor, (type(tensor), _storage_handle(storage), meta,
                              tensor.requires_grad, attrs or None))


def _rebuild_tensor(cls, handle, meta, requires_grad, attrs):
    storage = _open_storage(handle)
    offset, shape, strides, dtype_name, writeable = meta
    array = np.ndarray(shape, dtype=D._dtype_by_name(dtype_name).np, buffer=_root(storage),
                       offset=offset, strides=strides)
    if not writeable:
        array.flags.writeable = False
    data = Tensor._make(array)
    if getattr(cls, "_is_param", False):
        tensor = cls(data, requires_grad)
    else:
        tensor = data
        if cls is not Tensor:
            tensor = object.__new__(cls)
            tensor._data, tensor._rg, tensor.grad_fn = array, False, None
        if requires_grad:
            tensor.requires_grad_(True)
    if attrs:
        tensor.__dict__.update(attrs)
    return tensor


def init_reductions() -> None:
    """Register the tensor reducers with multiprocessing's ForkingPickler (idempotent)."""
    from ..nn.parameter import Parameter
    _mp_reduction.ForkingPickler.register(Tensor, _reduce_tensor)
    _mp_reduction.ForkingPickler.register(Parameter, _reduce_tensor)


init_reductions()
