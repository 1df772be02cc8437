"""dtypes, torch's type promotion rules and the default dtype."""

from __future__ import annotations

import builtins
import math

import ml_dtypes
import numpy as np

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
    "float32", "float64", "complex64", "complex128", "uint16", "uint32", "uint64",
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
    "promote_types", "result_type", "get_default_dtype", "set_default_dtype", "can_cast",
    "finfo", "iinfo",
]

# Category ranks: bool < integer < floating < complex.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, like ``torch.float32``."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "_category", "_aliases", "__weakref__")

    def __init__(self, name: str, np_dtype, category: int, aliases=()):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self._category = category
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = not (name == "bool" or name.startswith("uint") or name.endswith("fnu"))
        self._aliases = aliases

    def __repr__(self) -> str:
        # Printed as PyTorch prints it: user code is written against `import ember as torch`.
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self) -> dtype:
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self) -> dtype:
        if self in FLOAT8_DTYPES:
            raise RuntimeError(f"Unknown Complex ScalarType for {legacy_name(self)}")
        return {float64: complex128, complex128: complex128}.get(self, complex64)


bool = dtype("bool", np.bool_, _BOOL)
uint8 = dtype("uint8", np.uint8, _INT)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT, ("short",))
int32 = dtype("int32", np.int32, _INT, ("int",))
int64 = dtype("int64", np.int64, _INT, ("long",))
float16 = dtype("float16", np.float16, _FLOAT, ("half",))
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT)
float32 = dtype("float32", np.float32, _FLOAT, ("float",))
float64 = dtype("float64", np.float64, _FLOAT, ("double",))
complex64 = dtype("complex64", np.complex64, _COMPLEX, ("cfloat",))
complex128 = dtype("complex128", np.complex128, _COMPLEX, ("cdouble",))

# PyTorch's "limited" unsigned dtypes (2.3+): real dtypes that promote only with themselves and
# with floating dtypes, and have no legacy tensor classes (no torch.UInt32Tensor).
uint16 = dtype("uint16", np.uint16, _INT)
uint32 = dtype("uint32", np.uint32, _INT)
uint64 = dtype("uint64", np.uint64, _INT)

# PyTorch's 8-bit floats (ml_dtypes arrays): floating dtypes that promote only with themselves
# (not even with Python floats' default dtype: a float8 tensor and a float32 tensor raise), have
# no legacy tensor classes and are stored untyped in checkpoints. float8_e8m0fnu (a power of two,
# unsigned, no zero) is the MX scale type.
float8_e4m3fn = dtype("float8_e4m3fn", ml_dtypes.float8_e4m3fn, _FLOAT)
float8_e5m2 = dtype("float8_e5m2", ml_dtypes.float8_e5m2, _FLOAT)
float8_e4m3fnuz = dtype("float8_e4m3fnuz", ml_dtypes.float8_e4m3fnuz, _FLOAT)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", ml_dtypes.float8_e5m2fnuz, _FLOAT)
float8_e8m0fnu = dtype("float8_e8m0fnu", ml_dtypes.float8_e8m0fnu, _FLOAT)

# The classic dtypes (each with a legacy tensor class); LIMITED_DTYPES and FLOAT8_DTYPES are
# the others. Both kinds are written as untyped storages in checkpoints (UNTYPED_DTYPES).
ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128)
LIMITED_DTYPES = (uint16, uint32, uint64)
FLOAT8_DTYPES = (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu)
UNTYPED_DTYPES = LIMITED_DTYPES + FLOAT8_DTYPES
EVERY_DTYPE = ALL_DTYPES + LIMITED_DTYPES + FLOAT8_DTYPES
_BY_NAME = {d.name: d for d in EVERY_DTYPE}
_BY_NAME.update({a: d for d in EVERY_DTYPE for a in d._aliases})
# numpy dtype -> ember dtype; keyed by np.dtype (hash/eq by value) and by scalar type.
_FROM_NP = {d.np: d for d in EVERY_DTYPE}
_FROM_NP.update({d.np.type: d for d in EVERY_DTYPE})


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype of a NumPy/CuPy array dtype; TypeError for unsupported ones."""
    d = _FROM_NP.get(np_dtype)
    if d is None:
        try:
            d = _FROM_NP.get(np.dtype(np_dtype))
        except TypeError:
            d = None
        if d is None:
            raise TypeError(
                f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
                "float64, float32, float16, bfloat16, complex64, complex128, int64, int32, "
                "int16, int8, uint64, uint32, uint16, uint8, bool, float8_e4m3fn, float8_e5m2, "
                "float8_e4m3fnuz, float8_e5m2fnuz and float8_e8m0fnu."
            )
    return d


def to_dtype(d) -> dtype:
    """Accepts an ember dtype, a NumPy dtype, a Python type (float, int, bool, complex) or a
    name."""
    if type(d) is dtype:
        return d
    # Python types as dtypes mean their 64-bit kinds (torch.zeros(2, dtype=float) is float64).
    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if d is builtins.complex:
        return complex128
    if isinstance(d, str):
        name = d[6:] if d.startswith("torch.") else d
        if name in _BY_NAME:
            return _BY_NAME[name]
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"{d!r} is not a dtype") from None


# -- promotion -------------------------------------------------------------------------------

def _promote_pair(a: dtype, b: dtype) -> dtype | None:
    if a is b:
        return a
    if a in FLOAT8_DTYPES or b in FLOAT8_DTYPES:
        return None                           # as PyTorch: a float8 dtype promotes with itself
    if a in LIMITED_DTYPES or b in LIMITED_DTYPES:
        # As PyTorch: a limited dtype promotes with a floating dtype only (None: unsupported).
        if a.is_floating_point or b.is_floating_point:
            return a if a.is_floating_point else b
        return None
    if a._category != b._category:
        hi, lo = (a, b) if a._category > b._category else (b, a)
        if hi.is_complex and lo in (float64,):
            return complex128
        return hi
    if a.is_floating_point:
        if {a, b} == {float16, bfloat16}:
            return float32
        order = (float16, bfloat16, float32, float64)
        return max(a, b, key=order.index)
    return from_numpy_dtype(np.promote_types(a.np, b.np))


# Unsupported pairs (a limited dtype with another non-floating one, a float8 dtype with any
# other) are absent: a KeyError on read, turned into PyTorch's error by _promotion_error, costs
# the hot path nothing.
_PROMOTE = {(a, b): r for a in EVERY_DTYPE for b in EVERY_DTYPE
            if (r := _promote_pair(a, b)) is not None}


def _promotion_error(a: dtype, b: dtype) -> RuntimeError:
    kinds = "Float8 Types" if a in FLOAT8_DTYPES or b in FLOAT8_DTYPES else \
        "uint16, uint32, uint64 types"
    return RuntimeError(f"Promotion for {kinds} is not supported, "
                        f"attempted to promote {legacy_name(a)} and {legacy_name(b)}")


def _promote(a: dtype, b: dtype) -> dtype:
    try:
        return _PROMOTE[a, b]
    except KeyError:
        raise _promotion_error(a, b) from None


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both can be cast to (PyTorch's table, e.g. uint8+int8 -> int16).

    uint16, uint32 and uint64 promote only with themselves and floating dtypes, float8 dtypes
    only with themselves; other pairs raise RuntimeError, as in PyTorch."""
    return _promote(to_dtype(type1), to_dtype(type2))


def _combine_categories(higher, lower):
    # PyTorch's rule: a lower-priority participant (zero-dim tensor, Python scalar) only
    # changes the result when it is of a higher category (bool < int < float < complex).
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return _promote(higher, lower)
    return higher


def scalar_dtype(value) -> dtype:
    """dtype a Python scalar takes as a weakly-typed participant."""
    t = type(value)
    if t is builtins.bool or t is np.bool_:
        return bool
    if t is builtins.int:
        return int64
    if t is builtins.float:
        return _default[0]
    if t is builtins.complex:
        return _default[0].to_complex()
    # NumPy scalars are weak too (np.float64 is a Python float in PyTorch's eyes).
    if isinstance(value, np.bool_):
        return bool
    if isinstance(value, np.integer):
        return int64
    if isinstance(value, np.floating):
        return _default[0]
    if isinstance(value, np.complexfloating):
        return _default[0].to_complex()
    raise TypeError(f"unsupported scalar type {t.__name__}")


def result_type_of(items) -> dtype:
    """items: iterable of (dtype, priority) with priority 2 = dimensioned tensor,
    1 = zero-dim tensor, 0 = Python scalar."""
    res = [None, None, None]
    for d, prio in items:
        cur = res[prio]
        if cur is None:
            res[prio] = d
        else:
            try:
                res[prio] = _PROMOTE[cur, d]
            except KeyError:
                raise _promotion_error(cur, d) from None
    return _combine_categories(res[2], _combine_categories(res[1], res[0]))


def result_type(tensor1, tensor2) -> dtype:
    """The dtype an op on these two operands computes in (tensors or Python scalars)."""
    from ._tensor import Tensor

    items = []
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            items.append((x.dtype, 2 if x.ndim else 1))
        else:
            items.append((scalar_dtype(x), 0))
    return result_type_of(items)


# PyTorch's legacy type names (torch.FloatTensor, "result type Float can't be cast ...").
LEGACY_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
                "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64",
                "float8_e4m3fn": "Float8_e4m3fn", "float8_e5m2": "Float8_e5m2",
                "float8_e4m3fnuz": "Float8_e4m3fnuz", "float8_e5m2fnuz": "Float8_e5m2fnuz",
                "float8_e8m0fnu": "Float8_e8m0fnu"}


def legacy_name(d) -> str:
    """'Float' for float32, 'Long' for int64, ... (an ember dtype or a NumPy dtype)."""
    if type(d) is not dtype:
        d = from_numpy_dtype(d)
    return LEGACY_NAMES[d.name]


def can_cast(from_: dtype, to: dtype) -> bool:
    """PyTorch's same-kind rule: no cast to a lower category (float -> int, complex -> float)."""
    if from_._category > to._category:
        return False
    return not (from_ is not bool and to is bool)


# -- default dtype ---------------------------------------------------------------------------

_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype Python floats and float factories use (float32 unless changed)."""
    return _default[0]


def set_default_dtype(d) -> None:
    """Set the default floating dtype (float16, bfloat16, float32 or float64)."""
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


# -- finfo / iinfo -----------------------------------------------------------------------------

class finfo:
    """Machine limits of a floating dtype (``torch.finfo``); complex dtypes give their real
    part's limits, no argument gives the default dtype's."""

    __hash__ = None   # as in PyTorch: comparable, not hashable

    def __init__(self, type=None):  # noqa: A002  (PyTorch's parameter name)
        d = get_default_dtype() if type is None else to_dtype(type)
        if not (d.is_floating_point or d.is_complex):
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        d = d.to_real()
        ml = d is bfloat16 or d in FLOAT8_DTYPES
        info = ml_dtypes.finfo(d.np) if ml else np.finfo(d.np)
        self.bits = builtins.int(info.bits)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        if d is float8_e5m2fnuz:
            # PyTorch's eps for e5m2fnuz is 2**-3 (ml_dtypes says 2**-2: one mantissa bit less).
            self.eps = 0.125
        self.resolution = 10.0 ** -builtins.int(-math.log10(self.eps))  # in double, as torch
        self.dtype = d.name

    def __eq__(self, other):
        return type(other) is finfo and other.dtype == self.dtype

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype (``torch.iinfo``)."""

    __hash__ = None

    def __init__(self, type):  # noqa: A002
        d = to_dtype(type)
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d._category != _INT:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits = builtins.int(info.bits)
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = d.name

    def __eq__(self, other):
        return type(other) is iinfo and other.dtype == self.dtype

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# -- float8 conversion -------------------------------------------------------------------------

# Note [float8 conversion]
#     ml_dtypes and PyTorch agree on rounding (nearest, ties to even) but not on the edges:
#     - float8_e4m3fn has no infinity: PyTorch saturates out-of-range values and +-inf to +-448,
#       ml_dtypes makes them NaN;
#     - float8_e5m2: PyTorch's NaN is 0x7F (0xFF negative), ml_dtypes' 0x7E (same value);
#     - float8_e8m0fnu holds 2**e only: PyTorch converts |x| (the sign is dropped) and maps 0 to
#       2**-127 (byte 0); ml_dtypes makes negatives and 0 NaN.
#     float8_e4m3fnuz and float8_e5m2fnuz agree bit for bit. cast() applies PyTorch's rules;
#     ONNX's Cast has its own (saturate=0 keeps NaN/inf), see ember/onnx/_import_ops.py.

_F8_BY_NP = {d.np: d for d in FLOAT8_DTYPES}


def cast(xp, arr, np_dtype):
    """arr.astype(np_dtype) with PyTorch's conversion rules for float8 targets (Note [float8
    conversion]); other targets are a plain astype. A 0-d input gives a 0-d array."""
    target = _F8_BY_NP.get(np.dtype(np_dtype))
    if target is None or arr.dtype == target.np:
        return arr.astype(np_dtype)
    return xp.asarray(_cast_float8(xp, arr, np_dtype, target))


def _cast_float8(xp, arr, np_dtype, target):
    src = arr
    if src.dtype.kind not in "fd" or src.dtype.itemsize < 4:
        src = src.astype(np.float32)          # ints, bool, half, bfloat16 and float8 sources
    if arr.dtype == float8_e4m3fnuz.np or arr.dtype == float8_e5m2fnuz.np:
        src = xp.where(xp.isnan(src), np.float32(np.nan), src)  # their NaN is positive in torch
    if target is float8_e4m3fn:
        return xp.clip(src, -448.0, 448.0).astype(np_dtype)
    if target is float8_e8m0fnu:
        mag = xp.abs(src)
        mag = xp.where(mag == 0, src.dtype.type(2.0 ** -127), mag)
        return mag.astype(np_dtype)
    out = src.astype(np_dtype)
    if target is float8_e5m2:
        bits = out.view(np.uint8)
        nan = xp.isnan(src)
        bits = xp.where(nan, xp.where(xp.signbit(src), np.uint8(0xFF), np.uint8(0x7F)), bits)
        out = bits.astype(np.uint8).view(np_dtype)
    return out
