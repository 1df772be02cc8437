"""CuPy access, imported lazily so that a CPU-only install never touches CUDA.

Every cuda code path reaches CuPy through ``load()`` (the module) and the few helpers here, so
that the two CuPy facts that bite are handled once: an array's device is ``arr.device.id``
(not ``arr.device.index``), and bfloat16 works only in CuPy versions that support it.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype

_cp = None
_available = None
_bf16 = None


def available() -> bool:
    """True when CuPy imports and sees at least one CUDA device; never raises.

    The answer is cached: a failed ``import cupy`` rescans sys.path each time, and callers ask
    often (DataLoader pin_memory, test collection).
    """
    global _available
    if _available is None:
        # A warning while importing CuPy (say, about CUDA_PATH) must not turn into an error
        # under `-W error` and so into a wrong "no GPU".
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                import cupy

                _available = cupy.cuda.runtime.getDeviceCount() > 0
            except Exception:
                _available = False
    return _available


def initialized() -> bool:
    """True once a cuda tensor (or any CuPy call through ember) has loaded CuPy."""
    return _cp is not None


def load():
    """The cupy module; AssertionError (PyTorch's class) when CuPy is not installed."""
    global _cp
    if _cp is None:
        try:
            import cupy
        except ImportError as e:
            raise AssertionError(
                "Torch not compiled with CUDA enabled: ember needs CuPy for cuda tensors "
                "(pip install 'ember[cuda]')") from e
        if not available():
            raise RuntimeError("Found no NVIDIA driver on your system: CuPy is installed but "
                               "sees no CUDA device (check nvidia-smi and CUDA_VISIBLE_DEVICES)")
        _cp = cupy
    return _cp


def __getattr__(name):
    if name == "cp":
        return load()
    raise AttributeError(name)


def current_device() -> int:
    return load().cuda.runtime.getDevice()


def bfloat16_supported() -> bool:
    """Whether this CuPy computes with bfloat16 arrays (ml_dtypes' dtype): probed once, on
    arithmetic, exp, a cast, a sum and a matmul. Older CuPy has no bfloat16 at all."""
    global _bf16
    if _bf16 is None:
        _bf16 = False
        if available():
            bf16 = _dtype.bfloat16.np
            x = np.array([[0.5, 1.5], [-2.0, 0.25]], dtype=bf16)
            want = (x * x + x).astype(np.float32)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    g = load().asarray(x)
                    got = [(g * g + g).astype(np.float32).get(),
                           load().exp(g).astype(np.float32).get(),
                           (g @ g).astype(np.float32).get(),
                           g.sum(axis=0).astype(np.float32).get()]
                ref = [want, np.exp(x.astype(np.float32)), x.astype(np.float32) @
                       x.astype(np.float32), x.astype(np.float32).sum(axis=0)]
                _bf16 = all(a.shape == b.shape and np.allclose(a, b, rtol=2e-2, atol=2e-2)
                            for a, b in zip(got, ref))
            except Exception:
                _bf16 = False
    return _bf16


def check_dtype(np_dtype, where: str = "cuda") -> None:
    """TypeError for element types this CuPy cannot compute with (bfloat16 on CuPy without
    bfloat16 support, float8), named plainly.

    Without this, CuPy fails deep inside, or later, with messages about 'V2' dtypes or missing
    kernels.
    """
    dt = np.dtype(np_dtype)
    if dt.kind in "biuc" or (dt.kind == "f" and dt.itemsize > 1):   # (float8_e5m2 is 'f')
        return
    if dt == _dtype.bfloat16.np and bfloat16_supported():
        return
    name = getattr(dt, "name", str(dt))
    raise TypeError(
        f"{where}: dtype {name} is not supported on cuda devices (this CuPy cannot compute "
        f"with {name}); use float16 or float32 on cuda, or keep the tensor on cpu")


def to_gpu(array, index: int):
    """``array`` (NumPy or CuPy) on cuda device ``index``.

    NumPy arrays are copied to the device. A CuPy array already there is returned as it is;
    one on another device is copied (``cupy.asarray`` would return it unmoved).
    """
    cp = load()
    check_dtype(array.dtype, "to")
    if isinstance(array, cp.ndarray):
        if array.device.id == index:
            return array
        with cp.cuda.Device(index):
            return array.copy()
    with cp.cuda.Device(index):
        return cp.asarray(array)
