"""OpSpec and Sample: how an op is described to the table-driven tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Sample:
    """One call: positional args (NumPy arrays become tensors; other values pass as they are)
    and keyword args. ``grad`` lists the positions that are differentiated (default: every
    floating-point array)."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    grad: tuple | None = None

    def __repr__(self) -> str:
        def short(a):
            if isinstance(a, np.ndarray):
                return f"array{a.shape}:{a.dtype}"
            return repr(a)
        inner = ", ".join(short(a) for a in self.args)
        kw = ", ".join(f"{k}={short(v)}" for k, v in self.kwargs.items())
        return f"({inner}{', ' + kw if kw else ''})"


@dataclass
class OpSpec:
    """An op under test.

    Args:
        name: the ember function's name (also the test id unless ``variant`` is set).
        fn: callable(*args, **kwargs) on ember tensors; default ``getattr(ember, name)``.
        torch_fn: the same on torch tensors; default ``getattr(torch, torch_name or name)``.
        ref: NumPy reference over arrays (optional), compared in every dtype.
        shapes: shortcut for samples: a list of tuples of input shapes.
        samples: callable(rng, dtype) -> list of Sample; overrides ``shapes``.
        domain: (low, high) of uniformly drawn float inputs (default (-2, 2)).
        dtypes: dtype names run by parity/reference.
        grad: differentiable (parity of grads + gradcheck).
        gradgrad: second derivatives checked too.
        errors: list of (Sample, exception class, message fragment).
        rtol/atol: overrides of the per-dtype tolerance.
        check_dtype: compare the output dtype with torch's.
    """

    name: str
    fn: Callable | None = None
    torch_fn: Callable | None = None
    torch_name: str | None = None
    ref: Callable | None = None
    shapes: list | None = None
    samples: Callable | None = None
    domain: tuple = (-2.0, 2.0)
    dtypes: tuple = ("float32", "float64")
    grad: bool = True
    gradgrad: bool = True
    errors: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    rtol: float | None = None
    atol: float | None = None
    check_dtype: bool = True
    variant: str = ""
    skip_parity: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.name + ("_" + self.variant if self.variant else "")

    def ember_fn(self):
        import ember
        if self.fn is not None:
            return self.fn
        obj = ember
        for part in self.name.split("."):
            obj = getattr(obj, part)
        return obj

    def get_torch_fn(self, torch):
        if self.torch_fn is not None:
            return self.torch_fn
        obj = torch
        for part in (self.torch_name or self.name).split("."):
            obj = getattr(obj, part)
        return obj

    def make_samples(self, rng, dtype: str):
        if self.samples is not None:
            return self.samples(rng, dtype)
        lo, hi = self.domain
        out = []
        for shapes in self.shapes or [((3, 4),)]:
            args = tuple(_draw(rng, s, dtype, lo, hi) for s in shapes)
            out.append(Sample(args, dict(self.kwargs)))
        return out


def _draw(rng, shape, dtype, lo, hi):
    if shape is None or isinstance(shape, (int, float, complex, bool)):
        return shape
    if dtype in ("bool",):
        return np.asarray(rng.random(shape) > 0.5)  # a 0-d array, not a NumPy scalar
    if dtype.startswith("int") or dtype == "uint8":
        return rng.integers(max(int(lo), 0 if dtype == "uint8" else -100), max(int(hi), 1) + 1,
                            size=shape).astype(dtype)
    if dtype.startswith("complex"):
        real = rng.uniform(lo, hi, size=shape) + 1j * rng.uniform(lo, hi, size=shape)
        return np.asarray(real).astype(dtype)
    arr = rng.uniform(lo, hi, size=shape)
    if dtype == "bfloat16":
        import ml_dtypes
        return arr.astype(ml_dtypes.bfloat16)
    return arr.astype(dtype)


def draw(rng, shape, dtype="float64", low=-2.0, high=2.0):
    """A random array (uniform in [low, high)) for hand-written samples."""
    return _draw(rng, shape, dtype, low, high)
