"""CuPy access, imported lazily so that a CPU-only install never touches CUDA."""

from __future__ import annotations

_cp = None


def available() -> bool:
    """True when CuPy imports and sees at least one CUDA device; never raises."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def load():
    global _cp
    if _cp is None:
        try:
            import cupy
        except ImportError as e:
            raise AssertionError(
                "Torch not compiled with CUDA enabled: ember needs CuPy for cuda tensors "
                "(pip install 'ember[cuda]')") from e
        if not available():
            raise RuntimeError("Found no NVIDIA driver on your system: CuPy sees no CUDA device")
        _cp = cupy
    return _cp


def __getattr__(name):
    if name == "cp":
        return load()
    raise AttributeError(name)


def current_device() -> int:
    return load().cuda.runtime.getDevice()


def to_host(array):
    return array.get()


def to_gpu(array, index: int):
    cp = load()
    with cp.cuda.Device(index):
        return cp.asarray(array)
