"""The PyTorch oracle: import torch if installed, else tests that need it skip cleanly."""

from __future__ import annotations

import numpy as np
import pytest

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

import ember

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the oracle) is not installed")

# Tolerances per dtype, in one place: (rtol, atol).
TOL = {
    "float64": (1e-7, 1e-9),
    "float32": (1e-5, 1e-6),
    "float16": (1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2),
    "complex64": (1e-5, 1e-6),
    "complex128": (1e-7, 1e-9),
}


def to_numpy(x):
    """ember or torch tensor (or anything array-like) -> NumPy, bfloat16/float16 widened."""
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach().cpu().resolve_conj().resolve_neg()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    if isinstance(x, ember.Tensor):
        a = np.asarray(x.detach().cpu())
        if a.dtype.kind == "V" or a.dtype == np.float16:
            a = a.astype(np.float32)
        return a
    return np.asarray(x)


def to_torch(x, requires_grad=False):
    """ember tensor -> torch tensor with the same dtype and values."""
    a = np.asarray(x.detach().cpu())
    if x.dtype is ember.bfloat16:
        t = torch.from_numpy(a.astype(np.float32).copy()).to(torch.bfloat16)
    else:
        t = torch.from_numpy(a.copy())
    return t.requires_grad_(requires_grad)


def dtype_name(x) -> str:
    return str(x.dtype).replace("torch.", "")


def assert_close(actual, expected, dtype=None, rtol=None, atol=None, msg=""):
    name = dtype or dtype_name(expected) if hasattr(expected, "dtype") else "float64"
    r, a = TOL.get(name, (0, 0))
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected),
                               rtol=r if rtol is None else rtol,
                               atol=a if atol is None else atol, err_msg=msg, equal_nan=True)
