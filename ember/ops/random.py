"""Random numbers: Generator, manual_seed, rand, randn, ... (reproducible per seed)."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "default_generator", "rand",
           "randn"]


class Generator:
    """A random number generator (NumPy's PCG64 underneath); pass it as ``generator=``."""

    def __init__(self, device="cpu"):
        from .._device import to_device
        self.device = to_device(device) if device != "cpu" else to_device("cpu")
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & 0xFFFFFFFFFFFFFFFF))
        return self

    def seed(self) -> int:
        import secrets
        s = secrets.randbits(63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        import pickle
        state = pickle.dumps((self._seed, self._rng.bit_generator.state))
        return Tensor._make(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        import pickle
        seed, st = pickle.loads(new_state.numpy().tobytes())
        self._seed = seed
        self._rng.bit_generator.state = st
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and the current CUDA generator when CuPy is loaded)."""
    default_generator.manual_seed(seed)
    from ..backends import cupy_backend
    if cupy_backend._cp is not None:
        cupy_backend._cp.random.seed(int(seed) & 0xFFFFFFFF)
    return default_generator


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _rng(generator):
    return (generator or default_generator)._rng


def _sample(draw, size, dtype, device, requires_grad, generator):
    from .creation import _place, _resolve_device, _size_arg
    size = _size_arg(size)
    dt = D.to_dtype(dtype) if dtype is not None else D.get_default_dtype()
    arr = draw(_rng(generator), size).astype(dt.np, copy=False)
    t = Tensor._make(_place(arr, _resolve_device(device)))
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples in [0, 1)."""
    return _sample(lambda r, s: r.random(s, dtype=np.float64), size, dtype, device,
                   requires_grad, generator)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    return _sample(lambda r, s: r.standard_normal(s), size, dtype, device, requires_grad,
                   generator)


TENSOR_METHODS = {}
