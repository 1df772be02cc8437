"""Tensor repr/str exactly like PyTorch's: ``tensor([[1., 2.]], requires_grad=True)``.

The layout rules follow PyTorch's printer: one formatter per tensor decides between integer
mode (``1.``), fixed point with ``precision`` digits and scientific notation (when the largest
and smallest non-zero finite magnitudes are more than 1000 apart, the largest exceeds 1e8, or
the smallest is below 1e-4); every element is right-aligned to the widest one; rows wrap at
``linewidth`` with continuation lines indented under the first element; tensors with more
than ``threshold`` elements show ``edgeitems`` items at each end of every dimension around
``...``. The dtype is shown unless it is the default float dtype (or its complex twin), int64
or bool; empty tensors always show a non-default dtype and, unless 1-D, their size.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

from . import _dtype as D

__all__ = ["set_printoptions", "get_printoptions", "printoptions"]


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Set how tensors print (the same options and profiles as ``torch.set_printoptions``).

    Args:
        precision: digits after the decimal point (default 4).
        threshold: more elements than this are summarised with ``...`` (default 1000).
        edgeitems: items kept at each end of a summarised dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: 'default', 'short' or 'full' (no summarising); other arguments override it.
        sci_mode: True/False forces scientific/fixed notation; None decides per tensor.

    Example:
        >>> import ember
        >>> ember.set_printoptions(precision=2)
        >>> ember.tensor([1.2345])
        tensor([1.23])
        >>> ember.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r} (expected "
                             "'default', 'short' or 'full')")
        for k, v in _PROFILES[profile].items():
            setattr(PRINT_OPTS, k, v)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options as a dict (keys as set_printoptions' arguments)."""
    return dict(precision=PRINT_OPTS.precision, threshold=PRINT_OPTS.threshold,
                edgeitems=PRINT_OPTS.edgeitems, linewidth=PRINT_OPTS.linewidth,
                sci_mode=PRINT_OPTS.sci_mode)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change print options: ``with printoptions(precision=2): ...``."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# -- formatting ----------------------------------------------------------------------------------

class _Formatter:
    """Chooses a notation and width from the values it will print (PyTorch's rules)."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        prec = PRINT_OPTS.precision
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
        else:
            vals = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
            if vals.size:
                mags = np.abs(vals)
                lo, hi = float(mags.min()), float(mags.max())
                self.int_mode = bool(np.all(vals == np.ceil(vals)))
                self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or \
                    (not self.int_mode and lo < 1.0e-4)
                if PRINT_OPTS.sci_mode is not None:
                    self.sci_mode = PRINT_OPTS.sci_mode
                if self.sci_mode:
                    self.max_width = max(len(f"{v:.{prec}e}") for v in vals.tolist())
                elif self.int_mode:
                    self.max_width = max(len(f"{v:.0f}") + 1 for v in vals.tolist())
                else:
                    self.max_width = max(len(f"{v:.{prec}f}") for v in vals.tolist())
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        prec = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{prec}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{prec}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _complex_str(val, f_real, f_imag) -> str:
    real = f_real.format(val.real)
    imag = (f_imag.format(val.imag) + "j").lstrip()
    if imag[0] in "+-":
        return real + imag
    return real + "+" + imag


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (PyTorch's get_summarized_data)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    rows = list(range(e)) + list(range(a.shape[0] - e, a.shape[0])) \
        if a.shape[0] > 2 * e else range(a.shape[0])
    return np.stack([_summarized(a[i]) for i in rows])


def _vector_str(a, indent, summarize, f1, f2=None) -> str:
    element_length = f1.width() + 2
    if f2 is not None:
        element_length += f2.width() + 1
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))

    def fmt(v):
        return _complex_str(v, f1, f2) if f2 is not None else f1.format(v)

    e = PRINT_OPTS.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = [fmt(v) for v in a[:e].tolist()] + [" ..."] + \
            [fmt(v) for v in a[-e:].tolist()]
    else:
        data = [fmt(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _str_with_formatter(a, indent, summarize, f1, f2=None) -> str:
    if a.ndim == 0:
        v = a.item()
        return _complex_str(v, f1, f2) if f2 is not None else f1.format(v)
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, f1, f2)
    e = PRINT_OPTS.edgeitems
    n = a.shape[0]
    if summarize and n > 2 * e:
        slices = [_str_with_formatter(a[i], indent + 1, summarize, f1, f2) for i in range(e)]
        slices += ["..."]
        slices += [_str_with_formatter(a[i], indent + 1, summarize, f1, f2)
                   for i in range(n - e, n)]
    else:
        slices = [_str_with_formatter(a[i], indent + 1, summarize, f1, f2) for i in range(n)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    if a.dtype.kind == "c":
        re, im = a.real, a.imag
        f_re = _Formatter(_summarized(re) if summarize else re)
        f_im = _Formatter(_summarized(im) if summarize else im)
        return _str_with_formatter(a, indent, summarize, f_re, f_im)
    f = _Formatter(_summarized(a) if summarize else a)
    return _str_with_formatter(a, indent, summarize, f)


def _add_suffixes(tensor_str, suffixes, indent) -> str:
    parts = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


_FLOAT8_NP = tuple(d.np for d in D.FLOAT8_DTYPES)


def _host(t) -> np.ndarray:
    a = t._data if type(t._data) is np.ndarray else t._data.get()
    if a.dtype == D.bfloat16.np or a.dtype == np.float16 or a.dtype in _FLOAT8_NP:
        a = a.astype(np.float32)
    return a


def _show_device(t) -> bool:
    from ._device import get_default_device
    dev = t.device
    default = get_default_device()
    if dev.type != default.type:
        return True
    if dev.type == "cuda":
        from .backends import cupy_backend
        return dev.index != cupy_backend.current_device()
    return False


def tensor_repr(t, tensor_contents=None) -> str:
    """repr(t) and str(t), character for character like PyTorch's."""
    name = type(t).__name__
    prefix = "tensor(" if name in ("Tensor", "Parameter") else f"{name}("
    indent = len(prefix)
    suffixes = []
    if _show_device(t):
        suffixes.append(f"device='{t.device}'")
    dt = t.dtype
    default = D.get_default_dtype()
    has_default_dtype = dt in (default, default.to_complex(), D.int64, D.bool)
    numel = int(t._data.size)
    if numel == 0:
        if t._data.ndim != 1:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if dt is not default:
            suffixes.append(f"dtype={dt}")
        body = "[]" if tensor_contents is None else tensor_contents
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(t._data.shape)}")
        if not has_default_dtype:
            suffixes.append(f"dtype={dt}")
        body = _tensor_str(_host(t), indent) if tensor_contents is None else tensor_contents
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
