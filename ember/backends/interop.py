"""Interop with other array libraries through DLPack.

``from_dlpack`` takes any DLPack producer (NumPy, CuPy, PyTorch, JAX, an ember tensor) or a
legacy DLPack capsule, and returns an ember tensor sharing its memory; ``to_dlpack`` makes a
capsule (``torch.utils.dlpack``'s pair).
"""

from __future__ import annotations

import ctypes

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]

# DLDeviceType codes (dlpack.h).
_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST, _KDL_CUDA_MANAGED = 1, 2, 3, 13


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing memory with ``ext_tensor``, an object with ``__dlpack__`` or a DLPack
    capsule (from ``to_dlpack``).

    Args:
        ext_tensor: a NumPy or CuPy array, a PyTorch or JAX tensor, an ember tensor, or a
            capsule. cpu data becomes a cpu tensor, CUDA data a cuda tensor (needs CuPy).

    Returns:
        A Tensor that does not require grad; writes through it are seen by the producer.

    Differs from PyTorch: bfloat16 cannot cross (NumPy's DLPack has no bfloat16).

    Example:
        >>> import numpy as np
        >>> from ember.backends.interop import from_dlpack
        >>> a = np.arange(3.0)
        >>> t = from_dlpack(a)
        >>> a[0] = 7.0
        >>> t.tolist()
        [7.0, 1.0, 2.0]
    """
    if hasattr(ext_tensor, "__dlpack__"):
        if hasattr(ext_tensor, "__dlpack_device__"):
            dev_type, dev_id = ext_tensor.__dlpack_device__()
        else:
            dev_type, dev_id = _KDL_CPU, 0
        producer = _Producer(ext_tensor, (dev_type, dev_id))
    elif type(ext_tensor).__name__ == "PyCapsule":
        dev_type, dev_id = _capsule_device(ext_tensor)
        producer = _Producer(None, (dev_type, dev_id), capsule=ext_tensor)
    else:
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, "
                        f"got {type(ext_tensor).__name__}")
    dev_type = int(dev_type)
    if dev_type in (_KDL_CPU, _KDL_CUDA_HOST):
        arr = np.from_dlpack(producer)
        if not arr.flags.writeable and not producer.versioned:
            arr = _writable_alias(arr)
    elif dev_type in (_KDL_CUDA, _KDL_CUDA_MANAGED):
        from . import cupy_backend
        cp = cupy_backend.load()
        with cp.cuda.Device(int(dev_id)):
            arr = cp.from_dlpack(producer)
    else:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {dev_type} (ember "
                           "reads cpu and CUDA memory)")
    D.from_numpy_dtype(arr.dtype)       # TypeError for element types ember has no dtype for
    return Tensor._make(arr)


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor``'s memory (``torch.utils.dlpack.to_dlpack``)."""
    return tensor.__dlpack__()


class _Producer:
    """What NumPy/CuPy's ``from_dlpack`` reads: the producer (or a bare capsule), noting
    whether the capsule it handed out is a versioned one (DLPack >= 1.0)."""

    __slots__ = ("obj", "device", "capsule", "versioned")

    def __init__(self, obj, device, capsule=None):
        self.obj = obj
        self.device = device
        self.capsule = capsule
        self.versioned = False

    def __dlpack__(self, **kwargs):
        cap = self.capsule
        if cap is None:
            cap = self.obj.__dlpack__(**kwargs)     # TypeError: the consumer retries simpler
        self.versioned = _capsule_name(cap) == b"dltensor_versioned"
        return cap

    def __dlpack_device__(self):
        return self.device


class _WritableAlias:
    __slots__ = ("__array_interface__", "owner")


def _writable_alias(arr):
    """A writable view of an array NumPy made read-only only because its capsule was a legacy
    one (which has no read-only flag): PyTorch treats such memory as writable."""
    alias = _WritableAlias()
    info = dict(arr.__array_interface__)
    info["data"] = (info["data"][0], False)
    alias.__array_interface__ = info
    alias.owner = arr                           # keeps the capsule's memory alive
    return np.asarray(alias)


def _capsule_name(capsule):
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    return get_name(capsule)


def _capsule_device(capsule):
    """(device_type, device_id) read from the DLTensor inside a capsule."""
    name = _capsule_name(capsule)
    if name not in (b"dltensor", b"dltensor_versioned"):
        raise RuntimeError(f"from_dlpack: capsule named {name!r} is not an unused DLPack tensor "
                           "(a capsule can be consumed only once)")
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype = ctypes.c_void_p
    get_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]
    ptr = get_ptr(capsule, name)
    # DLManagedTensor starts with its DLTensor; DLManagedTensorVersioned puts it after
    # version (2 x uint32), manager_ctx, deleter and flags (uint64): 40 bytes in.
    dl_tensor = ptr if name == b"dltensor" else ptr + 40
    # DLTensor: void* data, then DLDevice {int32 device_type; int32 device_id}.
    dev = (ctypes.c_int32 * 2).from_address(dl_tensor + ctypes.sizeof(ctypes.c_void_p))
    return int(dev[0]), int(dev[1])
