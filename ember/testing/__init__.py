"""ember.testing: assert_close and make_tensor, as in torch.testing."""

from __future__ import annotations

import numpy as np

__all__ = ["assert_close", "make_tensor"]

# PyTorch's default (rtol, atol) per dtype.
_DEFAULT_TOL = {
    "float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7),
}


def _to_numpy(x):
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        a = x.detach().cpu()._data
        if a.dtype.kind == "V":
            a = a.astype(np.float32)
        return a
    return np.asarray(x)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that actual and expected are close: |a - e| <= atol + rtol * |e| elementwise.

    Sequences and mappings are compared item by item. Tensors must also agree in shape and,
    by default, dtype and device. Raises AssertionError naming the mismatches.
    """
    from .._tensor import Tensor
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != "
                                 f"{len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(actual)} != "
                                 f"{sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        if actual.shape != expected.shape:
            raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                 f"{actual.shape} != {expected.shape}.")
        if check_dtype and actual.dtype is not expected.dtype:
            raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                 f"{actual.dtype} != {expected.dtype}.")
        if check_device and actual.device != expected.device:
            raise AssertionError(msg or f"The values for attribute 'device' do not match: "
                                 f"{actual.device} != {expected.device}.")
        name = expected.dtype.name
    elif isinstance(actual, Tensor) or isinstance(expected, Tensor):
        raise TypeError(f"assert_close: cannot compare {type(actual).__name__} with "
                        f"{type(expected).__name__}")
    else:
        if isinstance(actual, (bool, int)) and isinstance(expected, (bool, int)) and \
                not isinstance(actual, float):
            if actual != expected:
                raise AssertionError(msg or f"Scalars are not equal!\n\nExpected {expected} "
                                     f"but got {actual}.")
            return
        name = "float64" if not isinstance(expected, complex) else "complex128"
    if rtol is None:
        rtol, atol = _DEFAULT_TOL.get(name, (0.0, 0.0))
    a, e = _to_numpy(actual), _to_numpy(expected)
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        bad = a != e
    else:
        a64 = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
        e64 = e.astype(np.complex128 if e.dtype.kind == "c" else np.float64)
        with np.errstate(invalid="ignore"):
            diff = np.abs(a64 - e64)
            bad = ~(diff <= atol + rtol * np.abs(e64))
        both_inf = np.isinf(a64) & np.isinf(e64) & (a64 == e64)
        bad &= ~both_inf
        if equal_nan:
            bad &= ~(np.isnan(a64) & np.isnan(e64))
    n_bad = int(np.count_nonzero(bad))
    if n_bad:
        if msg is not None:
            raise AssertionError(msg)
        total = max(a.size, 1)
        detail = ""
        if a.dtype.kind not in "biu":
            with np.errstate(invalid="ignore"):
                d = np.where(bad, np.abs(a64 - e64), 0)
                idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(d)), a.shape)) \
                    if a.ndim else ()
                rel = d / np.where(np.abs(e64) == 0, np.inf, np.abs(e64))
            detail = (f"\nGreatest absolute difference: {float(np.max(d))} at index {idx} "
                      f"(up to {atol} allowed)\nGreatest relative difference: "
                      f"{float(np.max(rel))} (up to {rtol} allowed)")
        kind = "Tensor-likes" if a.ndim else "Scalars"
        raise AssertionError(f"{kind} are not close!\n\nMismatched elements: {n_bad} / {total} "
                             f"({100.0 * n_bad / total:.1f}%){detail}")


def make_tensor(*shape, dtype, device="cpu", low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A random tensor for tests: uniform in [low, high) (integers: [low, high))."""
    from .. import _dtype as D
    from ..ops.creation import tensor
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    dt = D.to_dtype(dtype)
    rng = np.random.default_rng()
    if dt is D.bool:
        arr = rng.random(shape) > 0.5
    elif dt.is_floating_point or dt.is_complex:
        lo = -9.0 if low is None else low
        hi = 9.0 if high is None else high
        arr = rng.uniform(lo, hi, size=shape)
        if dt.is_complex:
            arr = arr + 1j * rng.uniform(lo, hi, size=shape)
        if exclude_zero:
            arr[arr == 0] = np.finfo(np.float32).eps
    else:
        lo = (0 if dt is D.uint8 else -9) if low is None else int(low)
        hi = 10 if high is None else int(high)
        arr = rng.integers(lo, hi, size=shape)
        if exclude_zero:
            arr[arr == 0] = 1
    t = tensor(arr, dtype=dt, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t
