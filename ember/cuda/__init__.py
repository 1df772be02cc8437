"""ember.cuda: device queries over CuPy.

``is_available``, ``device_count``, ``is_initialized`` and ``is_bf16_supported`` are safe
without a GPU or without CuPy; the others need a CUDA device, like PyTorch's.
"""

from __future__ import annotations

from .._tensortype import CUDA_TYPES
from ..backends import cupy_backend

__all__ = ["is_available", "device_count", "current_device", "set_device", "synchronize",
           "manual_seed", "manual_seed_all", "is_initialized", "init", "is_bf16_supported",
           "get_device_name", "get_device_capability", "get_device_properties",
           "memory_allocated", "memory_reserved", "empty_cache", "mem_get_info", "device"]


def is_available() -> bool:
    """True when CuPy imports and reaches a CUDA driver with at least one device.

    Example:
        >>> import ember
        >>> isinstance(ember.cuda.is_available(), bool)
        True
    """
    return cupy_backend.available()


def is_initialized() -> bool:
    """True once CuPy has been loaded for a cuda tensor (DataLoader then avoids fork)."""
    return cupy_backend.initialized()


def init() -> None:
    """Load CuPy now; raises like PyTorch when CUDA is not usable."""
    cupy_backend.load()


def device_count() -> int:
    """The number of visible CUDA devices (0 without CuPy or a driver)."""
    if not is_available():
        return 0
    return cupy_backend.load().cuda.runtime.getDeviceCount()


def current_device() -> int:
    """Index of the current CUDA device."""
    return cupy_backend.current_device()


def _index(device) -> int:
    if device is None:
        return cupy_backend.current_device()
    if isinstance(device, int):
        return device
    from .._device import device as _device
    d = _device(device)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return cupy_backend.current_device() if d.index is None else d.index


def set_device(device) -> None:
    """Make ``device`` (an int, 'cuda:1' or a device) the current CUDA device."""
    cupy_backend.load().cuda.Device(_index(device)).use()


class device:
    """Context manager that makes a CUDA device current: ``with ember.cuda.device(1):``."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            if self.prev_idx != self.idx:
                set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


def synchronize(device=None) -> None:
    """Wait for all work on a CUDA device (the current one by default) to finish."""
    if not is_available():
        return
    cp = cupy_backend.load()
    with cp.cuda.Device(_index(device)):
        cp.cuda.runtime.deviceSynchronize()


def manual_seed(seed: int) -> None:
    """Seed CuPy's generator (a no-op without CUDA, like PyTorch's)."""
    if is_available():
        cupy_backend.load().random.seed(int(seed) & 0xFFFFFFFF)


manual_seed_all = manual_seed


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """Whether cuda tensors can be bfloat16: False without a GPU or when the installed CuPy
    cannot compute with bfloat16 (then creating one raises TypeError)."""
    return cupy_backend.bfloat16_supported()


def get_device_properties(device=None) -> _CudaDeviceProperties:
    """Name, compute capability, memory and SM count of a CUDA device."""
    idx = _index(device)
    props = cupy_backend.load().cuda.runtime.getDeviceProperties(idx)
    return _CudaDeviceProperties(props)


def get_device_name(device=None) -> str:
    """The device's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    return get_device_properties(device).name


def get_device_capability(device=None) -> tuple[int, int]:
    """(major, minor) compute capability."""
    p = get_device_properties(device)
    return p.major, p.minor


class _CudaDeviceProperties:
    __slots__ = ("name", "major", "minor", "total_memory", "multi_processor_count")

    def __init__(self, props: dict):
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major = int(props["major"])
        self.minor = int(props["minor"])
        self.total_memory = int(props["totalGlobalMem"])
        self.multi_processor_count = int(props["multiProcessorCount"])

    def __repr__(self) -> str:
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2**20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def memory_allocated(device=None) -> int:
    """Bytes held by live cuda arrays (CuPy's memory pool, used blocks) on the device."""
    cp = cupy_backend.load()
    with cp.cuda.Device(_index(device)):
        return int(cp.get_default_memory_pool().used_bytes())


def memory_reserved(device=None) -> int:
    """Bytes CuPy's memory pool holds from the driver on the device (used and cached)."""
    cp = cupy_backend.load()
    with cp.cuda.Device(_index(device)):
        return int(cp.get_default_memory_pool().total_bytes())


def empty_cache() -> None:
    """Return cached, unused blocks of CuPy's memory pools to the driver."""
    if not is_initialized():
        return
    cp = cupy_backend.load()
    cp.get_default_memory_pool().free_all_blocks()
    cp.get_default_pinned_memory_pool().free_all_blocks()


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) bytes of device memory, as the driver reports them."""
    cp = cupy_backend.load()
    with cp.cuda.Device(_index(device)):
        free, total = cp.cuda.runtime.memGetInfo()
    return int(free), int(total)


globals().update(CUDA_TYPES)   # ember.cuda.FloatTensor, ... (legacy constructors)
from . import amp  # noqa: E402,F401  (torch.cuda.amp)
