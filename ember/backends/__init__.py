"""Array backends: NumPy for cpu, CuPy for cuda (imported lazily, on first cuda use).

``interop`` holds DLPack import/export (``from_dlpack``, ``to_dlpack``); ``cuda``, ``cudnn`` and
``mps`` hold the flags of ``torch.backends.*`` that training scripts set.
"""

from . import cuda, cudnn, mps  # noqa: E402,F401  (torch.backends.* flags)
