"""``torch.version``: ember's version and, where CuPy runs, the CUDA runtime version."""

__version__ = "0.1.0"
hip = None
debug = False


def __getattr__(name):
    if name == "cuda":   # like torch.version.cuda: "12.4", or None without CUDA
        from .backends import cupy_backend
        if not cupy_backend.available():
            return None
        v = cupy_backend.load().cuda.runtime.runtimeGetVersion()
        return f"{v // 1000}.{v % 1000 // 10}"
    raise AttributeError(f"module 'ember.version' has no attribute {name!r}")
