"""Elementwise ops: arithmetic, unary math, special functions, comparisons, bitwise and
logical ops, complex helpers, where.

Each op is an ``Op`` class (forward on backend arrays through ``ctx.xp``, backward with
ember Tensor ops so that double backward works) plus a thin public function. In-place
variants and Tensor methods are built at the end of the file (``TENSOR_METHODS``).
"""

from __future__ import annotations

import builtins
import math
from collections import namedtuple

import ml_dtypes as _ml_dtypes
import numpy as np

from .._dispatch import Op, apply, apply_inplace
from .._errors import broadcast_error
from ..backends import numpy_backend
from ..backends.numpy_backend import errstate
from ._broadcast import sum_to
from ._names import named, named_inplace

__all__ = [
    # arithmetic
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "fmod", "neg", "negative", "positive", "pow", "float_power",
    "reciprocal", "square", "addcmul", "addcdiv", "lerp",
    # exponentials, logarithms, powers
    "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "logaddexp",
    "logaddexp2", "xlogy", "ldexp",
    # trigonometric and hyperbolic
    "sin", "cos", "tan", "asin", "acos", "atan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2",
    "hypot", "sinc", "deg2rad", "rad2deg",
    # activations and special functions
    "sigmoid", "logit", "relu", "relu_", "erf", "erfc", "erfinv", "lgamma", "digamma",
    "polygamma",
    # rounding and sign
    "floor", "ceil", "round", "trunc", "fix", "frac", "sign", "sgn", "signbit", "abs",
    "absolute", "copysign", "heaviside",
    # selection and clamping
    "where", "maximum", "minimum", "fmax", "fmin", "clamp", "clip", "clamp_min", "clamp_max",
    "nan_to_num",
    # comparisons and predicates
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal",
    "not_equal", "equal", "isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal",
    # logical and bitwise
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "gcd", "lcm",
    # complex numbers
    "conj", "conj_physical", "resolve_conj", "resolve_neg", "real", "imag", "angle", "polar",
    "complex",
    # closeness, decomposition, special functions added with the torch-namespace gaps
    "isclose", "allclose", "frexp", "nextafter", "i0", "mvlgamma", "igamma", "igammac",
]


def _broadcast_fail(ctx, a, b):
    raise broadcast_error(ctx.op.name, getattr(a, "shape", ()), getattr(b, "shape", ()))


def _legacy(np_dtype) -> str:
    """PyTorch's legacy scalar-type name ('Float', 'Long', ...) of a backend dtype."""
    from .. import _dtype as D
    from .._dispatch import _legacy_name
    return _legacy_name(D.from_numpy_dtype(np_dtype))


def _kernel_error(kernel, np_dtype) -> NotImplementedError:
    # PyTorch's wording for a dtype a kernel lacks; people search for it verbatim.
    return NotImplementedError(f'"{kernel}" not implemented for \'{_legacy(np_dtype)}\'')


def _reject(kernel, *arrays, kinds):
    """NotImplementedError when any array's dtype kind is in ``kinds`` ('b', 'iu', 'c', ...)."""
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is not None and dt.kind in kinds:
            raise _kernel_error(kernel, dt)


def _int_zero_division(ctx, b):
    # Integer division by zero raises on cpu like PyTorch; on cuda we do not sync to check.
    xp = ctx.xp
    if xp is np and getattr(b, "dtype", np.dtype(float)).kind in "biu" and bool((b == 0).any()):
        raise RuntimeError("ZeroDivisionError")
    if type(b) is int and b == 0:
        raise RuntimeError("ZeroDivisionError")


def _num(a) -> bool:
    """A Python number (or None) among forward's inputs, not an array: PyTorch names such
    calls after its Scalar overloads (see Note [grad_fn names])."""
    return a is None or isinstance(a, (int, float, builtins.complex, np.generic))


def _is_int(a) -> bool:
    """True for integer/bool arrays and Python ints/bools."""
    dt = getattr(a, "dtype", None)
    if dt is None:
        return isinstance(a, (int, np.integer, np.bool_))
    return dt.kind in "biu"


def _zero_grad(grad, shape):
    """A zero gradient of ``shape`` (ops whose derivative is zero almost everywhere)."""
    return grad.new_zeros(tuple(shape))


def _need(ctx, i) -> bool:
    return ctx.needs_input_grad[i]


# -- arithmetic --------------------------------------------------------------------------------

class Add(Op):
    """a + b, broadcasting."""
    name = "add"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        try:
            return a + b
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def forward_inplace(ctx, target, b):
        _into(ctx, ctx.xp.add, target, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.in_shapes
        nodes = ctx.next_nodes          # (cheaper than needs_input_grad on this hot path)
        shape = grad._data.shape        # sum_to's first test, done here once for both inputs
        return (None if nodes[0] is None else grad if shape == sa else sum_to(grad, sa),
                None if nodes[1] is None else grad if shape == sb else sum_to(grad, sb))


class Sub(Op):
    """a - b, broadcasting.

    Promotion happens here rather than in apply: PyTorch rejects any bool operand, even one
    that promotion would turn into an integer, and apply's casts would hide it."""
    name = "sub"

    @staticmethod
    def forward(ctx, a, b):
        if _num(a):
            ctx.backward_name = "RsubBackward1"      # number - tensor is PyTorch's rsub
        a_bool, b_bool = _is_bool(a), _is_bool(b)
        if a_bool and b_bool:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        if a_bool or b_bool:
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
        if da is None or da != db:
            dt = _result_np_dtype(a, b)
            ctx.in_dtypes = (da, db)
            if da is not None and da != dt:
                a = a.astype(dt)
            if db is not None and db != dt:
                b = b.astype(dt)
            if dt == _BF16:
                # bfloat16 takes no Python number weakly: round it first, as PyTorch does.
                a = a if da is not None else ctx.xp.asarray(a, dtype=dt)
                b = b if db is not None else ctx.xp.asarray(b, dtype=dt)
        try:
            out = a - b
        except ValueError:
            _broadcast_fail(ctx, a, b)
        if da is None or da != db:
            out = ctx.xp.asarray(out).astype(dt, copy=False)
        return out

    @staticmethod
    def forward_inplace(ctx, target, b):
        # Only reached with b of target's dtype (or a Python number): see sub_ for the rest.
        if _is_bool(target) or _is_bool(b):
            Sub.forward(ctx, target, b)                     # raises PyTorch's bool error
        _into(ctx, ctx.xp.subtract, target, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.in_shapes
        nodes = ctx.next_nodes
        dtypes = ctx.__dict__.get("in_dtypes")
        ga = sum_to(grad, sa) if nodes[0] is not None else None
        gb = sum_to(-grad, sb) if nodes[1] is not None else None
        if dtypes is not None:
            ga, gb = _cast_grad(ga, dtypes[0]), _cast_grad(gb, dtypes[1])
        return ga, gb


def _into(ctx, ufunc, target, b):
    """ufunc(target, b) written into target's memory (in-place ops, temporary elision)."""
    try:
        ufunc(target, b, out=target)
    except ValueError:
        from .._errors import fmt_shape
        shape = ctx.xp.broadcast_shapes(target.shape, ctx.xp.shape(b)) \
            if _broadcastable(ctx, target, b) else None
        if shape is None:
            _broadcast_fail(ctx, target, b)
        raise RuntimeError(f"{ctx.op.name}_: output with shape {fmt_shape(target.shape)} "
                           f"doesn't match the broadcast shape {fmt_shape(shape)}") from None


def _broadcastable(ctx, a, b) -> bool:
    try:
        ctx.xp.broadcast_shapes(a.shape, ctx.xp.shape(b))
        return True
    except ValueError:
        return False


def _is_bool(x) -> bool:
    dt = getattr(x, "dtype", None)
    return (dt is not None and dt.kind == "b") or isinstance(x, (bool, np.bool_))


def _cast_grad(grad, np_dtype):
    """A gradient cast back to its input's dtype (ops that promote inside forward)."""
    if grad is None or np_dtype is None or grad._data.dtype == np_dtype:
        return grad
    from .. import _dtype as D
    return grad.to(D.from_numpy_dtype(np_dtype))


class Mul(Op):
    """a * b, broadcasting."""
    name = "mul"
    promote = "same"
    scalar_opmath = True

    @staticmethod
    def forward(ctx, a, b):
        # Each input's gradient needs only the other: a Python number needs no gradient, so
        # the tensor it multiplies is not saved (nor version-checked), as in PyTorch.
        ctx.save(None if _is_number(b) else a, None if _is_number(a) else b)
        try:
            return a * b
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def forward_inplace(ctx, target, b):
        _into(ctx, ctx.xp.multiply, target, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        nodes = ctx.next_nodes
        return (sum_to(grad * _conj(b), sa) if nodes[0] is not None else None,
                sum_to(grad * _conj(a), sb) if nodes[1] is not None else None)


class Div(Op):
    """a / b (true division: integers give the default float dtype)."""
    name = "div"
    promote = "float"
    scalar_opmath = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(None if _is_number(b) else a, b)      # a is needed only for b's gradient
        xp = ctx.xp
        try:
            with _errstate(xp):
                return xp.true_divide(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def forward_inplace(ctx, target, b):
        with _errstate(ctx.xp):
            _into(ctx, ctx.xp.true_divide, target, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        nodes = ctx.next_nodes
        ga = gb = None
        if nodes[0] is not None:
            ga = sum_to(grad / _conj(b), sa)
        if nodes[1] is not None:
            gb = sum_to(-grad * _conj(a) / _conj(b * b), sb)
        return ga, gb


def _div_rounded_forward(ctx, a, b, mode):
    xp = ctx.xp
    _reject("div_floor_cpu" if mode == "floor" else "div_trunc_cpu", a, b, kinds="bc")
    integral = _is_int(a) and _is_int(b)
    if integral:
        _int_zero_division(ctx, b)
    try:
        with _errstate(xp):
            if mode == "floor":
                # NumPy's floor_divide is Python's //: floor of the exact quotient for floats
                # (fmod-based, like PyTorch), floor for integers.
                return xp.floor_divide(a, b)
            if integral:
                q = xp.floor_divide(a, b)
                return q + ((q < 0) & (xp.remainder(a, b) != 0))
            return xp.trunc(xp.true_divide(a, b))
    except ValueError:
        _broadcast_fail(ctx, a, b)


class DivRounded(Op):
    """a / b rounded toward zero ("trunc") or down ("floor"); the gradient is zero."""
    name = "div"
    backward_name = "DivBackward2"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b, mode):
        return _div_rounded_forward(ctx, a, b, mode)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        return (_zero_grad(grad, sa) if need[0] else None,
                _zero_grad(grad, sb) if need[1] else None)


class FloorDivide(Op):
    """a // b (floor of the quotient, like Python); PyTorch defines no derivative."""
    name = "floor_divide"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        return _div_rounded_forward(ctx, a, b, "floor")

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::floor_divide is not implemented "
                           "(use div(..., rounding_mode='floor') for a zero gradient)")


class Remainder(Op):
    """a - floor(a / b) * b: the result has the sign of b (Python's %)."""
    name = "remainder"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        _reject("remainder_cpu", a, b, kinds="bc")
        if _is_int(a) and _is_int(b):
            _int_zero_division(ctx, b)
        if not _num(b):
            ctx.backward_name = "RemainderBackward1"     # the Tensor overload
        ctx.save(a, b)
        try:
            with _errstate(ctx.xp):
                return ctx.xp.remainder(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        ga = sum_to(grad, sa) if _need(ctx, 0) else None
        gb = sum_to(-grad * div(a, b, rounding_mode="floor"), sb) if _need(ctx, 1) else None
        return ga, gb


class Fmod(Op):
    """a - trunc(a / b) * b: the result has the sign of a (C's fmod)."""
    name = "fmod"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        _reject("fmod_cpu", a, b, kinds="bc")
        if _is_int(a) and _is_int(b):
            _int_zero_division(ctx, b)
        if not _num(b):
            ctx.backward_name = "FmodBackward1"     # the Tensor overload
        ctx.save(a, b)
        try:
            with _errstate(ctx.xp):
                return ctx.xp.fmod(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        ga = sum_to(grad, sa) if _need(ctx, 0) else None
        gb = sum_to(-grad * div(a, b, rounding_mode="trunc"), sb) if _need(ctx, 1) else None
        return ga, gb


class Neg(Op):
    name = "neg"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        if a.dtype == bool:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Op):
    """a ** b. Integer tensors to a negative integer *scalar* power raise, like PyTorch; a
    negative integer exponent *tensor* gives the truncated integer result (0, 1 or -1)."""
    name = "pow"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        if _is_bool(a) and _is_bool(b):
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")
        if not _num(b):         # pow(Tensor, Tensor) is overload 1, pow(Scalar, Tensor) 2
            ctx.backward_name = "PowBackward2" if _num(a) else "PowBackward1"
        ctx.save(a, b)
        xp = ctx.xp
        try:
            with _errstate(xp):
                if _is_int(a) and _is_int(b) and not (type(a) is bool or type(b) is bool):
                    return _int_pow(ctx, a, b)
                return xp.power(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            if isinstance(b, (int, float, builtins.complex)):
                # b * a^(b-1); a zero exponent gives 0 (not nan) at a == 0.
                ga = grad * 0 if b == 0 else grad * _conj(b * pow(a, b - 1))
            else:
                ga = sum_to(where(b == 0, 0.0, grad * _conj(b * pow(a, b - 1))), sa)
        if need[1]:
            out = pow(a, b)
            if isinstance(a, (int, float)):
                if a == 0:
                    # out * log(0) is 0 * -inf for b > 0 (masked to 0) and inf * -inf below.
                    gb = where(b >= 0, 0.0, grad * -math.inf)
                else:
                    gb = grad * (out * (math.log(a) if a > 0 else math.nan))
            else:
                gb = where((a == 0) & (b >= 0), 0.0, grad * _conj(out * log(a)))
            gb = sum_to(gb, sb)
        return ga, gb


def _int_pow(ctx, a, b):
    xp = ctx.xp
    if isinstance(b, (int, np.integer)):
        if b < 0:
            raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
        return xp.power(a, b)
    neg_exp = b < 0
    out = xp.power(a, xp.where(neg_exp, 0, b))
    # a ** -k truncates to 0, except for a == 1 (1) and a == -1 (+-1 by parity).
    odd = xp.remainder(b, 2) == 1
    small = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(neg_exp, small, out).astype(out.dtype, copy=False)


class Lerp(Op):
    """start + weight * (end - start), in PyTorch's two-sided form (exact at both ends)."""
    name = "lerp"
    promote = "same"

    @staticmethod
    def forward(ctx, start, end, weight):
        xp = ctx.xp
        if not _num(weight):
            ctx.backward_name = "LerpBackward1"          # the Tensor weight overload
        ctx.save(start, end, weight)
        try:
            diff = end - start
            small = xp.abs(weight) < 0.5
            return xp.where(small, start + weight * diff, end - diff * (1 - weight))
        except ValueError:
            _broadcast_fail(ctx, start, end)

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        s0, s1, s2 = ctx.in_shapes
        ga = sum_to(grad * _conj(1 - weight), s0) if _need(ctx, 0) else None
        gb = sum_to(grad * _conj(weight), s1) if _need(ctx, 1) else None
        gw = sum_to(grad * _conj(end - start), s2) if _need(ctx, 2) else None
        return ga, gb, gw


# -- unary math --------------------------------------------------------------------------------
#
# Most float functions share one shape: integer and bool inputs compute in the default float
# dtype, float16/bfloat16 in float32 (rounded once), and backward multiplies the incoming
# gradient by the conjugate of the derivative, written with ember ops. ``_unary_op`` builds
# such an Op from a kernel and a derivative; ``saves`` says whether the derivative reads the
# input ("input") or the output ("output").

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_SQRT_PI = math.sqrt(math.pi)


def _unary_op(cls_name, name, kernel, derivative=None, saves="input", doc=None,
              promote="float"):
    def forward(ctx, a):
        with _errstate(ctx.xp):
            out = kernel(ctx.xp, a)
        if derivative is not None:
            ctx.save(a if saves == "input" else out)
        return out

    def backward(ctx, grad):
        (saved,) = ctx.saved_tensors
        return grad * _conj(derivative(saved))

    body = {"name": name, "promote": promote, "upcast": True,
            "forward": staticmethod(forward), "__doc__": doc or f"Elementwise {name}."}
    if derivative is not None:
        body["backward"] = staticmethod(backward)
    return type(cls_name, (Op,), body)


Exp = _unary_op("Exp", "exp", lambda xp, a: xp.exp(a), lambda out: out, "output")
Exp2 = _unary_op("Exp2", "exp2", lambda xp, a: xp.exp2(a), lambda out: out * _LN2, "output")
Expm1 = _unary_op("Expm1", "expm1", lambda xp, a: xp.expm1(a), lambda out: out + 1, "output")
Log = _unary_op("Log", "log", lambda xp, a: xp.log(a), lambda a: 1 / a)
Log1p = _unary_op("Log1p", "log1p", lambda xp, a: xp.log1p(a), lambda a: 1 / (a + 1))
Log1p.backward_name = "Log1PBackward0"
Log2 = _unary_op("Log2", "log2", lambda xp, a: xp.log2(a), lambda a: 1 / (a * _LN2))
Log10 = _unary_op("Log10", "log10", lambda xp, a: xp.log10(a), lambda a: 1 / (a * _LN10))
Sqrt = _unary_op("Sqrt", "sqrt", lambda xp, a: xp.sqrt(a), lambda out: 0.5 / out, "output")
Rsqrt = _unary_op("Rsqrt", "rsqrt", lambda xp, a: 1 / xp.sqrt(a),
                  lambda out: -0.5 * out * out * out, "output")
Sin = _unary_op("Sin", "sin", lambda xp, a: xp.sin(a), lambda a: cos(a))
Cos = _unary_op("Cos", "cos", lambda xp, a: xp.cos(a), lambda a: -sin(a))
Tan = _unary_op("Tan", "tan", lambda xp, a: xp.tan(a), lambda out: 1 + out * out, "output")
Asin = _unary_op("Asin", "asin", lambda xp, a: xp.arcsin(a), lambda a: rsqrt(1 - a * a))
Acos = _unary_op("Acos", "acos", lambda xp, a: xp.arccos(a), lambda a: -rsqrt(1 - a * a))
Atan = _unary_op("Atan", "atan", lambda xp, a: xp.arctan(a), lambda a: 1 / (1 + a * a))
Sinh = _unary_op("Sinh", "sinh", lambda xp, a: xp.sinh(a), lambda a: cosh(a))
Cosh = _unary_op("Cosh", "cosh", lambda xp, a: xp.cosh(a), lambda a: sinh(a))
Tanh = _unary_op("Tanh", "tanh", lambda xp, a: xp.tanh(a), lambda out: 1 - out * out, "output")
Asinh = _unary_op("Asinh", "asinh", lambda xp, a: xp.arcsinh(a), lambda a: rsqrt(a * a + 1))
Acosh = _unary_op("Acosh", "acosh", lambda xp, a: xp.arccosh(a),
                  lambda a: rsqrt(a * a - 1) if not a.is_complex() else
                  1 / (sqrt(a - 1) * sqrt(a + 1)))
Atanh = _unary_op("Atanh", "atanh", lambda xp, a: xp.arctanh(a), lambda a: 1 / (1 - a * a))


def _sigmoid_kernel(xp, a):
    # 1 / (1 + exp(-a)): accurate in relative terms everywhere (0.5 * (1 + tanh(a / 2)) loses
    # every digit for very negative a: sigmoid(-20) came out 0), and four passes in one
    # buffer. exp(-a) overflows to inf for a < -88 (float32), giving PyTorch's 0, silently.
    e = xp.negative(a, out=xp.empty_like(a))   # (out=: a 0-d input stays an array)
    with errstate(xp):
        xp.exp(e, out=e)
    e += 1
    xp.reciprocal(e, out=e)
    return e


Sigmoid = _unary_op("Sigmoid", "sigmoid", _sigmoid_kernel, lambda out: out * (1 - out),
                    "output")


def _sinc_kernel(xp, a):
    return xp.sinc(a).astype(a.dtype, copy=False)


def _sinc_derivative(a):
    pa = a * math.pi
    d = (pa * cos(pa) - sin(pa)) / (pa * a)
    return where(a == 0, 0.0, d)


Sinc = _unary_op("Sinc", "sinc", _sinc_kernel, _sinc_derivative)


class Abs(Op):
    """|x|; complex inputs give their real dtype."""
    name = "abs"

    @staticmethod
    def forward(ctx, a):
        _reject("abs_cpu", a, kinds="b")
        ctx.save(a)
        return ctx.xp.abs(a)

    @staticmethod
    def backward(ctx, grad):
        # sign(0) == 0: abs'(0) is 0, as in PyTorch.
        (a,) = ctx.saved_tensors
        if a.is_complex():
            return grad * sgn(a)
        return grad * sign(a)


class Sign(Op):
    name = "sign"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "c":
            raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support "
                                      "complex numbers. Please use torch.sgn instead.")
        if a.dtype == bool:
            return a.copy()
        return ctx.xp.sign(a)

    @staticmethod
    def backward(ctx, grad):
        return _zero_grad(grad, ctx.in_shapes[0])


class Sgn(Op):
    """sign for real tensors; z / |z| (0 at 0) for complex ones."""
    name = "sgn"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        if a.dtype.kind != "c":
            return a.copy() if a.dtype == bool else xp.sign(a)
        mag = xp.abs(a)
        ctx.save(a, mag)
        with _errstate(xp):
            return xp.where(mag == 0, 0, a / xp.where(mag == 0, 1, mag)).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors if ctx._saved_resolved else ()
        if not saved:
            return _zero_grad(grad, ctx.in_shapes[0])
        # d(z/|z|): (grad - Re(grad * conj(sgn)) * sgn) / |z|, zero at z == 0.
        a, mag = saved
        s = sgn(a)
        safe = where(mag == 0, 1.0, mag)
        g = (grad - real(grad * conj(s)) * s) / safe
        return where(mag == 0, 0.0, g)


class Relu(Op):
    name = "relu"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        if a.dtype == bool:
            raise RuntimeError('"clamp_min_cpu" not implemented for \'Bool\'')
        if a.dtype.kind == "c":
            raise NotImplementedError("clamp is not supported for complex types")
        out = ctx.xp.maximum(a, 0).astype(a.dtype, copy=False)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


def _rounding_op(cls_name, name, kernel, doc):
    """floor/ceil/trunc style ops: integers pass through unchanged, bool is rejected, the
    gradient is zero."""
    def forward(ctx, a, **attrs):
        _reject(f"{name}_vml_cpu" if name != "round" else "round_vml_cpu", a, kinds="b")
        if a.dtype.kind in "iu":
            return a.copy()
        if a.dtype.kind == "c":
            if name == "round":
                raise _kernel_error("round_vml_cpu", a.dtype)
            raise NotImplementedError(f"{name} is not supported for complex inputs")
        return kernel(ctx.xp, a, **attrs)

    def backward(ctx, grad):
        return _zero_grad(grad, ctx.in_shapes[0])

    return type(cls_name, (Op,), {"name": name, "promote": "same",
                                  "forward": staticmethod(forward),
                                  "backward": staticmethod(backward), "__doc__": doc})


def _round_kernel(xp, a, decimals=0):
    # Half to even (rint), like PyTorch's nearbyint; with decimals, scaled by a power of ten
    # in the tensor's own dtype, as PyTorch does.
    if decimals == 0:
        return xp.rint(a)
    scale = a.dtype.type(10.0 ** builtins.abs(decimals))
    if decimals > 0:
        return xp.rint(a * scale) / scale
    return xp.rint(a / scale) * scale


Floor = _rounding_op("Floor", "floor", lambda xp, a: xp.floor(a), "Largest integer <= x.")
Ceil = _rounding_op("Ceil", "ceil", lambda xp, a: xp.ceil(a), "Smallest integer >= x.")
Trunc = _rounding_op("Trunc", "trunc", lambda xp, a: xp.trunc(a), "x rounded toward zero.")
Round = _rounding_op("Round", "round", _round_kernel, "x rounded half to even.")


class Frac(Op):
    """x - trunc(x) (keeps the sign of x); the gradient passes through."""
    name = "frac"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        _reject("frac_cpu", a, kinds="biuc")
        return a - ctx.xp.trunc(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


# -- special functions -------------------------------------------------------------------------
#
# Note [Special functions without SciPy]
# NumPy has no erf/lgamma/digamma, and ember must not need SciPy on cpu. erf is Cephes'
# rational form in backends/numpy_backend.py (also used by GELU); the kernels below are
# vectorised float64 approximations (errors measured against mpmath: erf/erfc ~1e-15
# absolute, erfc ~2e-13 relative near x = 2, erfinv ~2e-14, lgamma/digamma/polygamma ~1e-14
# relative away from the poles). float32 and smaller inputs compute in float64 and round
# once. On cuda, cupyx.scipy.special provides the same functions.

def _erf_coefficients(n):
    # erf(x) = 2/sqrt(pi) * x * exp(-x^2) * sum_k c_k x^(2k), c_k = 2^k / (2k+1)!!: positive
    # terms, so no cancellation. 20 terms reach double precision for |x| < 1, 44 for |x| < 2.
    c = [1.0]
    for k in range(1, n):
        c.append(c[-1] * 2 / (2 * k + 1))
    return tuple(reversed(c))


_ERF_SMALL = _erf_coefficients(20)
_ERF_MEDIUM = _erf_coefficients(44)


def _erf_series(x):
    x2 = x * x
    coeffs = _ERF_SMALL if x.size and np.abs(x).max() < 1 else _ERF_MEDIUM
    acc = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        np.multiply(acc, x2, out=acc)
        np.add(acc, c, out=acc)
    return (2 / _SQRT_PI) * x * np.exp(-x2) * acc


def _erfc_fraction(x):
    # erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), x >= 2.
    f = x.copy()
    for k in range(60, 0, -1):
        np.divide(k / 2, f, out=f)
        np.add(f, x, out=f)
    return np.exp(-x * x) / _SQRT_PI / f


def _erf_parts(x, fn_series, fn_fraction):
    """Evaluate |x| < 1, 1 <= |x| < 2 (series) and |x| >= 2 (continued fraction) apart."""
    flat = x.ravel()
    a = np.abs(flat)
    out = np.empty_like(flat)
    for mask in (a < 1, (a >= 1) & (a < 2)):
        out[mask] = fn_series(flat[mask])
    big = ~(a < 2)                      # nan goes here too, and stays nan
    out[big] = fn_fraction(flat[big])
    return out.reshape(x.shape)


def _np_erfc(x):
    def fraction(b):
        c = _erfc_fraction(np.abs(b))
        return np.where(b > 0, c, 2 - c)
    return _erf_parts(x, lambda s: 1 - _erf_series(s), fraction)


_GILES_LOW = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
              -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_HIGH = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _np_erfinv(y):
    # Giles' single-precision approximation, then four refinement steps: Halley's on
    # erf(x) = |y| for |y| < 0.5, Newton's on log(erfc(x)) = log(1 - |y|) in the tails
    # (1 - |y| is exact there, so the tails keep full relative precision).
    a = np.abs(y)
    w = -np.log((1 - a) * (1 + a))
    wl, wh = w - 2.5, np.sqrt(w) - 3
    p = np.full_like(y, _GILES_LOW[0])
    q = np.full_like(y, _GILES_HIGH[0])
    for c_lo, c_hi in zip(_GILES_LOW[1:], _GILES_HIGH[1:]):
        p = c_lo + p * wl
        q = c_hi + q * wh
    x = np.where(w < 5, p, q) * a
    tail = a >= 0.5
    x = np.where(np.isfinite(x), x, 0)
    log_q = np.log(np.where(tail, 1 - a, 1.0))
    for _ in range(4):
        d = (2 / _SQRT_PI) * np.exp(-x * x)
        c = _np_erfc(x)
        r = numpy_backend.erf(x) - a
        x = x + np.where(tail, (np.log(c) - log_q) * c / d, -r / (d + x * r))
    x = np.where(a == 1, np.inf, np.where(a > 1, np.nan, x))
    return np.copysign(x, y)


_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma_positive(x):
    # Lanczos (g = 7, n = 9) for x >= 0.5.
    x = x - 1
    s = np.full_like(x, _LANCZOS[0])
    for i in range(1, 9):
        s = s + _LANCZOS[i] / (x + i)
    t = x + 7.5
    return _HALF_LOG_2PI + (x + 0.5) * np.log(t) - t + np.log(s)


def _sinpi(x):
    # sin(pi x) reduced to [-pi/2, pi/2] first, so it stays accurate near the integers.
    n = np.round(x)
    return (1 - 2 * np.remainder(n, 2)) * np.sin(np.pi * (x - n))


def _cotpi(x):
    r = x - np.round(x)
    return np.cos(np.pi * r) / np.sin(np.pi * r)


def _np_lgamma(x):
    refl = x < 0.5
    g = _lgamma_positive(np.where(refl, 1 - x, x))
    out = np.where(refl, np.log(np.pi / np.abs(_sinpi(x))) - g, g)
    # lgamma(1) = lgamma(2) = 0 exactly (Lanczos leaves ~1e-15); poles (0, -1, -2, ...)
    # and -inf give +inf, like PyTorch.
    out = np.where((x == 1) | (x == 2), 0.0, out)
    return np.where((refl & (x == np.floor(x))) | np.isinf(x), np.inf, out)


_DIGAMMA_B = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _np_digamma(x):
    # Reflection below 0.5, recurrence up to 10, then the asymptotic series.
    refl = x < 0.5
    xr = np.where(refl, 1 - x, x)
    acc = np.zeros_like(x)
    for _ in range(10):
        low = xr < 10
        acc = acc - np.where(low, 1 / xr, 0)
        xr = np.where(low, xr + 1, xr)
    inv2 = 1 / (xr * xr)
    series = np.zeros_like(x)
    for b in reversed(_DIGAMMA_B):
        series = (series + b) * inv2
    out = acc + np.log(xr) - 0.5 / xr - series
    out = np.where(refl, out - np.pi * _cotpi(x), out)
    # PyTorch: -inf at +0, +inf at -0, nan at the negative integers.
    pole = refl & (x == np.floor(x))
    return np.where(pole, np.where(x == 0, -np.copysign(np.inf, x), np.nan), out)


# B_2k / (2k)!, k = 1..10, for the asymptotic series of polygamma.
_POLYGAMMA_B = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
                43867 / 798, -174611 / 330)


def _np_polygamma(n, x):
    if n == 0:
        return _np_digamma(x)
    # psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1): shift every element above
    # 20 + n, then sum the asymptotic series there.
    fact = math.factorial(n)
    target = 20.0 + n
    lowest = float(np.nanmin(x)) if x.size and not np.isnan(x).all() else target
    steps = int(math.ceil(builtins.max(0.0, target - lowest))) if math.isfinite(lowest) else 0
    acc = np.zeros_like(x)
    xs = x.copy()
    for _ in range(steps):
        low = xs < target
        acc = acc + np.where(low, xs ** -(n + 1), 0)
        xs = np.where(low, xs + 1, xs)
    series = math.factorial(n - 1) / xs ** n + fact / (2 * xs ** (n + 1))
    for k, b in enumerate(_POLYGAMMA_B, start=1):
        c = b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
        series = series + c / xs ** (2 * k + n)
    return (1.0 if n % 2 else -1.0) * (series + fact * acc)


_NP_SPECIAL = {"erf": numpy_backend.erf, "erfc": _np_erfc, "erfinv": _np_erfinv,
               "lgamma": _np_lgamma, "digamma": _np_digamma}
_CUPY_SPECIAL = {"erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "lgamma": "gammaln",
                 "digamma": "digamma"}


def _special_kernel(name):
    def kernel(xp, a):
        _reject(f"{name}_vml_cpu", a, kinds="c")
        if xp is not np:
            import cupyx.scipy.special as cs
            return getattr(cs, _CUPY_SPECIAL[name])(a)
        with np.errstate(all="ignore"):
            return _NP_SPECIAL[name](a.astype(np.float64)).astype(a.dtype, copy=False)
    return kernel


Erf = _unary_op("Erf", "erf", _special_kernel("erf"),
                lambda a: (2 / _SQRT_PI) * exp(-a * a), doc="The error function.")
Erfc = _unary_op("Erfc", "erfc", _special_kernel("erfc"),
                 lambda a: (-2 / _SQRT_PI) * exp(-a * a), doc="1 - erf(x), accurate for large x.")
Erfinv = _unary_op("Erfinv", "erfinv", _special_kernel("erfinv"),
                   lambda out: (_SQRT_PI / 2) * exp(out * out), "output",
                   doc="Inverse of erf on (-1, 1); +-inf at +-1.")
Lgamma = _unary_op("Lgamma", "lgamma", _special_kernel("lgamma"), lambda a: digamma(a),
                   doc="log(|gamma(x)|).")
Digamma = _unary_op("Digamma", "digamma", _special_kernel("digamma"),
                    lambda a: polygamma(1, a), doc="d/dx lgamma(x).")


class Polygamma(Op):
    """The n-th derivative of digamma."""
    name = "polygamma"
    promote = "float"
    upcast = True

    @staticmethod
    def forward(ctx, a, n):
        ctx.save(a)
        ctx.n = n
        _reject("polygamma_cpu", a, kinds="c")
        if ctx.xp is not np:
            import cupyx.scipy.special as cs
            # cupyx wants n as an array (it calls cupy.where(n == 0, ...)).
            return cs.polygamma(ctx.xp.asarray(n), a).astype(a.dtype, copy=False)
        with np.errstate(all="ignore"):
            return _np_polygamma(n, a.astype(np.float64)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * polygamma(ctx.n + 1, a)


# -- binary math -------------------------------------------------------------------------------

class Atan2(Op):
    """Angle of the point (other, input) in radians; broadcasts like add."""
    name = "atan2"
    promote = "float"
    upcast = True

    @staticmethod
    def forward(ctx, y, x):
        _reject("atan2_cpu", y, x, kinds="c")
        ctx.save(y, x)
        try:
            return ctx.xp.arctan2(y, x)
        except ValueError:
            _broadcast_fail(ctx, y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        sy, sx = ctx.in_shapes
        scale = grad / (x * x + y * y)
        return (sum_to(scale * x, sy) if _need(ctx, 0) else None,
                sum_to(-scale * y, sx) if _need(ctx, 1) else None)


class Hypot(Op):
    """sqrt(a^2 + b^2) without intermediate overflow."""
    name = "hypot"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, a, b):
        _reject("hypot_cpu", a, b, kinds="biuc")
        try:
            out = ctx.xp.hypot(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)
        ctx.save(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        scale = grad / out
        return (sum_to(scale * a, sa) if _need(ctx, 0) else None,
                sum_to(scale * b, sb) if _need(ctx, 1) else None)


class Copysign(Op):
    """|a| with the sign of b (signed zeros count); the gradient reaches a only."""
    name = "copysign"
    promote = "float"
    upcast = True

    @staticmethod
    def forward(ctx, a, b):
        _reject("copysign_cpu", a, b, kinds="c")
        if _num(b):
            ctx.backward_name = "CopysignBackward1"      # the Scalar overload
        try:
            out = ctx.xp.copysign(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)
        ctx.save(a, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        ga = gb = None
        if _need(ctx, 0):
            ratio = where(a == 0, 0.0, out / where(a == 0, 1.0, a))
            ga = sum_to(grad * ratio, sa)
        if _need(ctx, 1):
            gb = _zero_grad(grad, sb)
        return ga, gb


class Xlogy(Op):
    """x * log(y), with 0 where x == 0 (unless y is nan)."""
    name = "xlogy"
    promote = "float"
    upcast = True

    @staticmethod
    def forward(ctx, x, y):
        _reject("xlogy_cpu", x, y, kinds="c")
        if _num(x) or _num(y):      # xlogy(Scalar, Tensor) is overload 1, (Tensor, Scalar) 2
            ctx.backward_name = "XlogyBackward1" if _num(x) else "XlogyBackward2"
        xp = ctx.xp
        ctx.save(x, y)
        try:
            with _errstate(xp):
                return xp.where((x == 0) & ~xp.isnan(y), 0, x * xp.log(y))
        except ValueError:
            _broadcast_fail(ctx, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        sx, sy = ctx.in_shapes
        gx = gy = None
        if _need(ctx, 0):
            if isinstance(y, (int, float)):
                log_y = math.log(y) if y > 0 else (-math.inf if y == 0 else math.nan)
                gx = grad * log_y if y > 0 else where(x == 0, 0.0, grad * log_y)
            else:
                gx = where((x == 0) & (y <= 0), 0.0, grad * log(y))
            gx = sum_to(gx, sx)
        if _need(ctx, 1):
            gy = sum_to(grad * x / y, sy)
        return gx, gy


class Logaddexp(Op):
    """log(exp(a) + exp(b)) without overflow."""
    name = "logaddexp"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, a, b):
        _reject("logaddexp_cpu", a, b, kinds="biu")
        ctx.save(a, b)
        xp = ctx.xp
        try:
            with _errstate(xp):
                if getattr(a, "dtype", None) is not None and a.dtype.kind == "c":
                    # log(e^a + e^b) = m + log1p(e^(n - m)), m the operand of larger real part
                    m = xp.where(a.real >= b.real, a, b)
                    return m + xp.log1p(xp.exp(a + b - m - m))
                return xp.logaddexp(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        return (sum_to(grad / _conj(1 + exp(b - a)), sa) if _need(ctx, 0) else None,
                sum_to(grad / _conj(1 + exp(a - b)), sb) if _need(ctx, 1) else None)


class Logaddexp2(Op):
    """log2(2**a + 2**b) without overflow."""
    name = "logaddexp2"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, a, b):
        _reject("logaddexp2_cpu", a, b, kinds="biuc")
        ctx.save(a, b)
        try:
            with _errstate(ctx.xp):
                return ctx.xp.logaddexp2(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        return (sum_to(grad / (1 + exp2(b - a)), sa) if _need(ctx, 0) else None,
                sum_to(grad / (1 + exp2(a - b)), sb) if _need(ctx, 1) else None)


class Heaviside(Op):
    """0 where x < 0, 1 where x > 0, values where x == 0. PyTorch defines no derivative."""
    name = "heaviside"

    @staticmethod
    def forward(ctx, x, values):
        if getattr(x, "dtype", None) != getattr(values, "dtype", None):
            raise RuntimeError("heaviside is not yet implemented for tensors with different "
                               "dtypes.")
        if getattr(x, "dtype", None) is not None and x.dtype.kind == "c":
            raise RuntimeError("heaviside is not yet implemented for complex tensors.")
        xp = ctx.xp
        try:
            return xp.where(x == 0, values, x > 0).astype(x.dtype, copy=False)
        except ValueError:
            _broadcast_fail(ctx, x, values)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("the derivative for 'heaviside' is not implemented.")


class Maximum(Op):
    """Elementwise max; nan wins. Ties split the gradient evenly, as in PyTorch."""
    name = "maximum"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        _reject_complex_minmax("maximum", a, b)
        ctx.save(a, b)
        try:
            return ctx.xp.maximum(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _minmax_backward(ctx, grad, a < b, a > b, a == b)


class Minimum(Op):
    """Elementwise min; nan wins. Ties split the gradient evenly, as in PyTorch."""
    name = "minimum"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        _reject_complex_minmax("minimum", a, b)
        ctx.save(a, b)
        try:
            return ctx.xp.minimum(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _minmax_backward(ctx, grad, a > b, a < b, a == b)


class Fmax(Op):
    """Elementwise max that ignores nan (nan only where both are nan). Ties go to input."""
    name = "fmax"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        _reject_complex_minmax("fmax", a, b)
        ctx.save(a, b)
        try:
            return ctx.xp.fmax(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _fminmax_backward(ctx, grad, (a >= b) | isnan(b))


class Fmin(Op):
    """Elementwise min that ignores nan (nan only where both are nan). Ties go to input."""
    name = "fmin"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        _reject_complex_minmax("fmin", a, b)
        ctx.save(a, b)
        try:
            return ctx.xp.fmin(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _fminmax_backward(ctx, grad, (a <= b) | isnan(b))


def _reject_complex_minmax(name, a, b):
    for x in (a, b):
        if getattr(x, "dtype", np.dtype(float)).kind == "c":
            raise RuntimeError(f"{name} not implemented for complex tensors.")


def _minmax_backward(ctx, grad, a_loses, b_loses, tie):
    # PyTorch's rule: ties split the gradient evenly; the losing side gets none; where a
    # comparison is false both ways (nan) both sides get the full gradient.
    sa, sb = ctx.in_shapes
    need = ctx.needs_input_grad
    half = where(tie, 0.5, 1.0).to(grad.dtype)
    return (sum_to(grad * (half * ~a_loses), sa) if need[0] else None,
            sum_to(grad * (half * ~b_loses), sb) if need[1] else None)


def _fminmax_backward(ctx, grad, a_wins):
    sa, sb = ctx.in_shapes
    need = ctx.needs_input_grad
    return (sum_to(grad * a_wins, sa) if need[0] else None,
            sum_to(grad * ~a_wins, sb) if need[1] else None)


class Clamp(Op):
    """clamp(x, min, max) with scalar or tensor bounds (None: unbounded). When min > max
    every element becomes max, like PyTorch."""
    name = "clamp"
    promote = "same"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        if x.dtype == bool:
            raise RuntimeError('"clamp_cpu" not implemented for \'Bool\'')
        if _num(lo) and _num(hi):
            ctx.backward_name = "ClampBackward1"         # the Scalar bounds overload
        ctx.save(x, lo, hi)
        out = x
        try:
            if lo is not None:
                out = xp.maximum(out, lo)
            if hi is not None:
                out = xp.minimum(out, hi)
        except ValueError:
            raise broadcast_error("clamp", x.shape, getattr(lo if lo is not None else hi,
                                                            "shape", ())) from None
        if out is x:
            out = x.copy()
        return out

    @staticmethod
    def backward(ctx, grad):
        # At the boundary (x == min or x == max) the gradient passes to x, as in PyTorch.
        x, lo, hi = ctx.saved_tensors
        sx, slo, shi = ctx.in_shapes
        need = ctx.needs_input_grad
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep & (x <= hi)
        gx = sum_to(grad * keep, sx) if need[0] else None
        glo = ghi = None
        if need[1] and lo is not None:
            below = x < lo
            if hi is not None:
                below = below & (lo < hi)
            glo = sum_to(grad * below, slo)
        if need[2] and hi is not None:
            above = x > hi
            if lo is not None:
                above = above | (hi < lo)
            ghi = sum_to(grad * above, shi)
        return gx, glo, ghi


class NanToNum(Op):
    """nan -> nan, +inf -> posinf, -inf -> neginf (defaults: 0 and the dtype's extremes)."""
    name = "nan_to_num"
    promote = "same"

    @staticmethod
    def forward(ctx, a, nan=0.0, posinf=None, neginf=None):
        xp = ctx.xp
        if a.dtype.kind in "biu":
            return a.copy()
        ctx.save(a)
        real_dt = a.real.dtype if a.dtype.kind == "c" else a.dtype
        info = _finfo(real_dt)
        big = info.max if posinf is None else posinf
        small = info.min if neginf is None else neginf

        def fix(v):
            v = xp.where(xp.isnan(v), nan, v)
            v = xp.where(v == xp.inf, big, v)
            return xp.where(v == -xp.inf, small, v).astype(real_dt, copy=False)

        if a.dtype.kind == "c":
            out = xp.empty_like(a)
            out.real = fix(a.real)
            out.imag = fix(a.imag)
            return out
        return fix(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * isfinite(a)


def _finfo(np_dtype):
    try:
        return np.finfo(np_dtype)
    except ValueError:
        import ml_dtypes
        return ml_dtypes.finfo(np_dtype)


# -- comparisons, predicates, logical and bitwise ops ------------------------------------------

def _compare_op(op_name, ufunc_name):
    ordered = op_name in ("lt", "le", "gt", "ge")

    def forward(ctx, a, b):
        if ordered:
            _reject(f"{op_name}_cpu", a, b, kinds="c")
        try:
            return getattr(ctx.xp, ufunc_name)(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    return type(op_name.capitalize(), (Op,), {
        "name": op_name, "promote": "compare", "differentiable": False,
        "forward": staticmethod(forward),
        "__doc__": f"Elementwise {op_name} comparison; returns a bool tensor."})


Eq = _compare_op("eq", "equal")
Ne = _compare_op("ne", "not_equal")
Lt = _compare_op("lt", "less")
Le = _compare_op("le", "less_equal")
Gt = _compare_op("gt", "greater")
Ge = _compare_op("ge", "greater_equal")


def _predicate_op(cls_name, name, kernel, doc):
    return type(cls_name, (Op,), {"name": name, "differentiable": False,
                                  "forward": staticmethod(lambda ctx, a: kernel(ctx.xp, a)),
                                  "__doc__": doc})


def _isposinf(xp, a):
    if a.dtype.kind == "c":
        raise RuntimeError("isposinf does not support complex inputs.")
    return a == xp.inf if a.dtype.kind in "fV" else xp.zeros(a.shape, dtype=bool)


def _isneginf(xp, a):
    if a.dtype.kind == "c":
        raise RuntimeError("isneginf does not support complex inputs.")
    return a == -xp.inf if a.dtype.kind in "fV" else xp.zeros(a.shape, dtype=bool)


def _isreal(xp, a):
    if a.dtype.kind == "c":
        return a.imag == 0
    return xp.ones(a.shape, dtype=bool)


Isnan = _predicate_op("Isnan", "isnan", lambda xp, a: a != a, "True where x is nan.")
Isinf = _predicate_op("Isinf", "isinf", lambda xp, a: xp.isinf(a), "True where x is +-inf.")
Isposinf = _predicate_op("Isposinf", "isposinf", _isposinf, "True where x is +inf.")
Isneginf = _predicate_op("Isneginf", "isneginf", _isneginf, "True where x is -inf.")
Isfinite = _predicate_op("Isfinite", "isfinite", lambda xp, a: xp.isfinite(a),
                         "True where x is neither inf nor nan.")
Isreal = _predicate_op("Isreal", "isreal", _isreal, "True where the imaginary part is 0.")
Signbit = _predicate_op("Signbit", "signbit",
                        lambda xp, a: _signbit(xp, a), "True where the sign bit is set.")


def _signbit(xp, a):
    _reject("signbit_cpu", a, kinds="c")
    return xp.signbit(a) if a.dtype != bool else xp.zeros(a.shape, dtype=bool)


def _logical_op(op_name, ufunc_name):
    def forward(ctx, a, b):
        try:
            return getattr(ctx.xp, ufunc_name)(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    return type("Logical" + op_name.capitalize(), (Op,), {
        "name": "logical_" + op_name, "differentiable": False,
        "forward": staticmethod(forward),
        "__doc__": f"Elementwise logical {op_name} of truth values; returns bool."})


LogicalAnd = _logical_op("and", "logical_and")
LogicalOr = _logical_op("or", "logical_or")
LogicalXor = _logical_op("xor", "logical_xor")


class LogicalNot(Op):
    name = "logical_not"
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.logical_not(a)


def _bitwise_op(cls_name, name, kernel_name, ufunc_name, kinds="fcV"):
    def forward(ctx, a, b):
        _reject(kernel_name, a, b, kinds=kinds)
        try:
            return getattr(ctx.xp, ufunc_name)(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    return type(cls_name, (Op,), {
        "name": name, "promote": "same", "differentiable": False,
        "forward": staticmethod(forward),
        "__doc__": f"Elementwise {name} of integer or bool tensors."})


BitwiseAnd = _bitwise_op("BitwiseAnd", "bitwise_and", "bitwise_and_cpu", "bitwise_and")
BitwiseOr = _bitwise_op("BitwiseOr", "bitwise_or", "bitwise_or_cpu", "bitwise_or")
BitwiseXor = _bitwise_op("BitwiseXor", "bitwise_xor", "bitwise_xor_cpu", "bitwise_xor")
Gcd = _bitwise_op("Gcd", "gcd", "gcd_cpu", "gcd", kinds="fcVb")
Lcm = _bitwise_op("Lcm", "lcm", "lcm_cpu", "lcm", kinds="fcVb")


class _InvertError(TypeError, NotImplementedError):
    """PyTorch raises NotImplementedError from bitwise_not but TypeError from ``~``; both
    lead here, so the error is both."""


class BitwiseNot(Op):
    name = "bitwise_not"
    promote = "same"
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind not in "biu":
            raise _InvertError(f'"bitwise_not_cpu" not implemented for \'{_legacy(a.dtype)}\': '
                               "~ (operator.invert) is only implemented on integer and "
                               "Boolean-type tensors")
        return ctx.xp.invert(a)


class BitwiseShift(Op):
    """a << b or a >> b. Shifts by a negative amount or by the bit width or more give 0 (left)
    or the sign fill (right), like PyTorch, instead of C's undefined behaviour."""
    name = "bitwise_shift"
    promote = "same"
    differentiable = False

    @staticmethod
    def forward(ctx, a, b, left):
        kernel = "lshift_cpu" if left else "rshift_cpu"
        _reject(kernel, a, b, kinds="fcVb")
        xp = ctx.xp
        try:
            dtype = xp.result_type(a, b)
            bits = dtype.itemsize * 8
            valid = (b >= 0) & (b < bits)
            amount = xp.where(valid, b, 0).astype(dtype, copy=False)
            if left:
                return xp.where(valid, xp.left_shift(a, amount), 0).astype(dtype, copy=False)
            fill = xp.where(a < 0, -1, 0) if dtype.kind == "i" else 0
            return xp.where(valid, xp.right_shift(a, amount), fill).astype(dtype, copy=False)
        except ValueError:
            _broadcast_fail(ctx, a, b)


# -- complex numbers ---------------------------------------------------------------------------

class Conj(Op):
    """Complex conjugate (a copy; ember has no lazy conjugate bit)."""
    name = "conj"

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.conj(a)

    @staticmethod
    def backward(ctx, grad):
        return conj(grad)


class Real(Op):
    """The real part of a complex tensor, as a view."""
    name = "real"
    is_view = True

    @staticmethod
    def forward(ctx, a):
        return a.real

    @staticmethod
    def backward(ctx, grad):
        return complex(grad, grad.new_zeros(()).expand(grad.shape))


class Imag(Op):
    """The imaginary part of a complex tensor, as a view."""
    name = "imag"
    is_view = True

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind != "c":
            raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
        return a.imag

    @staticmethod
    def backward(ctx, grad):
        return complex(grad.new_zeros(()).expand(grad.shape), grad)


class Angle(Op):
    """Argument of a complex number; 0 or pi for real numbers (nan stays nan)."""
    name = "angle"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        ctx.save(a)
        if a.dtype.kind in "biu":
            a = a.astype(_default_float().np)
        if a.dtype.kind == "c":
            return xp.angle(a)
        return xp.where(a < 0, xp.pi, xp.where(a != a, a, 0)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if not a.is_complex():
            return _zero_grad(grad, a.shape)
        # angle = atan2(y, x): d/dx = -y/|z|^2, d/dy = x/|z|^2, packed as one complex grad.
        mag2 = real(a * conj(a))
        safe = where(mag2 == 0, 1.0, mag2)
        g = complex(-imag(a) * grad / safe, real(a) * grad / safe)
        return where(mag2 == 0, 0.0, g)


class Complex(Op):
    """real + i * imag from two float tensors of one dtype."""
    name = "complex"

    @staticmethod
    def forward(ctx, re, im):
        xp = ctx.xp
        for x in (re, im):
            if getattr(x, "dtype", None) is None or x.dtype.kind != "f":
                raise RuntimeError(
                    "Expected both inputs to be Half, Float or Double tensors but got "
                    f"{_legacy(xp.asarray(re).dtype)} and {_legacy(xp.asarray(im).dtype)}")
        if re.dtype != im.dtype:
            raise RuntimeError(f"Expected object of scalar type {_legacy(re.dtype)} but got "
                               f"scalar type {_legacy(im.dtype)} for second argument")
        target = {2: np.complex64, 4: np.complex64, 8: np.complex128}[re.dtype.itemsize]
        try:
            shape = xp.broadcast_shapes(re.shape, im.shape)
        except ValueError:
            _broadcast_fail(ctx, re, im)
        out = xp.empty(shape, dtype=target)
        out.real = re
        out.imag = im
        return out

    @staticmethod
    def backward(ctx, grad):
        sr, si = ctx.in_shapes
        return (sum_to(real(grad), sr).contiguous() if _need(ctx, 0) else None,
                sum_to(imag(grad), si).contiguous() if _need(ctx, 1) else None)


# -- selection ---------------------------------------------------------------------------------

class Where(Op):
    """where(cond, a, b): a where cond is true, else b (cond is not differentiated)."""
    name = "where"

    @staticmethod
    def forward(ctx, cond, a, b):
        from .. import _dtype as D
        xp = ctx.xp
        if xp.asarray(cond).dtype != bool:
            raise RuntimeError(f"where: expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {D.from_numpy_dtype(xp.asarray(cond).dtype)}")
        ctx.save(cond)
        dt = _result_np_dtype(a, b)
        try:
            out = xp.where(cond, a, b)
        except ValueError:
            raise broadcast_error("where", getattr(cond, "shape", ()),
                                  xp.broadcast_shapes(xp.shape(a), xp.shape(b))) from None
        return out.astype(dt, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (cond,) = ctx.saved_tensors
        _, sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        zero = grad.new_zeros(())
        return (None,
                sum_to(where(cond, grad, zero), sa) if need[1] else None,
                sum_to(where(cond, zero, grad), sb) if need[2] else None)


def _result_np_dtype(a, b):
    from .. import _dtype as D
    items = []
    for x in (a, b):
        if hasattr(x, "dtype") and not isinstance(x, (int, float, builtins.complex)):
            dt = D.from_numpy_dtype(x.dtype)
            items.append((dt, 2 if x.ndim else 1))
        else:
            items.append((D.scalar_dtype(x), 0))
    return D.result_type_of(items).np


# -- helpers -----------------------------------------------------------------------------------

_errstate = errstate


_BF16 = np.dtype(_ml_dtypes.bfloat16)


def _is_number(x) -> bool:
    """A Python number given to forward (not an array)."""
    return not hasattr(x, "shape")


def _conj(t):
    """Conjugate of a complex tensor; real tensors and Python numbers pass through."""
    if type(t) in (int, float, bool):
        return t
    if type(t) is builtins.complex:
        return t.conjugate()
    return t.conj() if t._data.dtype.kind == "c" else t


def _default_float():
    from .._dtype import get_default_dtype
    return get_default_dtype()


def _to_float(input):
    """input itself when floating or complex, else cast to the default float dtype."""
    from .._tensor import Tensor
    if isinstance(input, Tensor) and input._data.dtype.kind in "biu":
        return input.to(_default_float())
    return input


def _out(result, out):
    if out is None:
        return result
    from .._tensor import Tensor
    if not isinstance(out, Tensor):
        raise TypeError(f"out= must be a Tensor, got {type(out).__name__}")
    if out._data.shape != result._data.shape:
        out.resize_(result.shape)
    out.copy_(result)
    return out


# -- public functions: arithmetic --------------------------------------------------------------

def _check_alpha(name, input, other, alpha):
    if isinstance(alpha, float) and _is_int(getattr(input, "_data", input)) and \
            _is_int(getattr(other, "_data", other)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    dt = getattr(getattr(input, "_data", None), "dtype", None)
    if isinstance(alpha, bool) and (dt is None or dt.kind != "b"):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and type promotion.

    Example:
        >>> import ember
        >>> ember.add(ember.tensor([1, 2]), ember.tensor([3, 4]), alpha=2)
        tensor([ 7, 10])
    """
    if alpha != 1 or type(alpha) is not int:
        _check_alpha("add", input, other, alpha)
        other = mul(other, alpha)
    return _out(apply(Add, input, other), out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    if alpha != 1 or type(alpha) is not int:
        _check_alpha("sub", input, other, alpha)
        other = mul(other, alpha)
    return _out(apply(Sub, input, other), out)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (sub with the operands swapped)."""
    from .._tensor import Tensor
    return named(sub(other, input, alpha=alpha),
                 "RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1")


def mul(input, other, *, out=None):
    """input * other, with broadcasting and type promotion."""
    return _out(apply(Mul, input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode None (true division: integers give the default float
    dtype), 'trunc' (toward zero) or 'floor' (toward -inf, Python's //).

    Example:
        >>> import ember
        >>> ember.div(ember.tensor([-7, 7]), 2, rounding_mode="trunc")
        tensor([-3,  3])
    """
    if rounding_mode is None:
        r = apply(Div, input, other)
    elif rounding_mode in ("trunc", "floor"):
        r = apply(DivRounded, input, other, mode=rounding_mode)
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return _out(r, out)


def true_divide(input, other, *, out=None):
    """input / other with true division (an alias of div without rounding)."""
    return div(input, other, out=out)


def floor_divide(input, other, *, out=None):
    """floor(input / other), like Python's //; integers stay integers."""
    return _out(apply(FloorDivide, input, other), out)


def remainder(input, other, *, out=None):
    """Python's %: input - floor(input / other) * other (the sign of other)."""
    return _out(apply(Remainder, input, other), out)


def fmod(input, other, *, out=None):
    """C's fmod: input - trunc(input / other) * other (the sign of input)."""
    return _out(apply(Fmod, input, other), out)


def neg(input, *, out=None):
    """-input."""
    return _out(apply(Neg, input), out)


def positive(input):
    """input itself (PyTorch's unary +); bool tensors are rejected."""
    if input.dtype.name == "bool":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def pow(input, exponent, *, out=None):
    """input ** exponent; either may be a Python number.

    Example:
        >>> import ember
        >>> ember.pow(2, ember.tensor([1, 2, 3]))
        tensor([2, 4, 8])
    """
    return _out(apply(Pow, input, exponent), out)


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in double precision (float64, or complex128)."""
    from .._tensor import Tensor
    wide = "complex128" if any(isinstance(x, Tensor) and x.is_complex() or
                               isinstance(x, builtins.complex)
                               for x in (input, exponent)) else "float64"
    from .. import _dtype as D
    dt = D.to_dtype(wide)
    a = input.to(dt) if isinstance(input, Tensor) else input
    b = exponent.to(dt) if isinstance(exponent, Tensor) else exponent
    return _out(apply(Pow, a, b), out)


def reciprocal(input, *, out=None):
    """1 / input; integers give the default float dtype."""
    return _out(named(apply(Div, 1, _to_float(input)), "ReciprocalBackward0"), out)


def square(input, *, out=None):
    """input * input (bool squares to int64, like PyTorch)."""
    if input.dtype.name == "bool":
        return _out(apply(Pow, input, 2), out)
    return _out(named(apply(Mul, input, input), "PowBackward0"), out)   # PyTorch: pow(x, 2)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    prod = mul(tensor1, tensor2)
    if isinstance(value, float) and _is_int(prod._data) and _is_int(input._data):
        value = int(value)              # PyTorch casts value to the integer result type
    if value != 1 or type(value) is not int:
        prod = mul(prod, value)
    return _out(named(add(input, prod), "AddcmulBackward0"), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (integer tensor1 and tensor2 are rejected)."""
    if _is_int(tensor1._data) and _is_int(tensor2._data):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2))"
            ".to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) "
            "for float inputs. The future addcdiv behavior is just the latter implementation: "
            "(input + value * tensor1 / tensor2), for all dtypes.")
    quot = div(tensor1, tensor2)
    if value != 1 or type(value) is not int:
        quot = mul(quot, value)
    return _out(named(add(input, quot), "AddcdivBackward0"), out)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); weight is a number or a tensor.

    Example:
        >>> import ember
        >>> ember.lerp(ember.tensor([0.0, 1.0]), ember.tensor([10.0, 3.0]), 0.5)
        tensor([5., 2.])
    """
    from .._tensor import Tensor
    for what, other in (("end", end), ("weight", weight)):
        if isinstance(other, Tensor) and other.dtype != input.dtype and \
                (what == "end" or other.ndim > 0):
            raise RuntimeError(f"lerp: expected dtype {_torch_type_name(input.dtype)} for "
                               f"`{what}` but got dtype {_torch_type_name(other.dtype)}")
    return _out(apply(Lerp, input, end, weight), out)


def _torch_type_name(dt) -> str:
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int"}.get(dt.name,
                                                                                dt.name)


# -- public functions: unary math --------------------------------------------------------------

def _unary_fn(op, name, summary):
    def fn(input, *, out=None):
        return _out(apply(op, input), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{summary}\n\nArgs:\n    input: a tensor.\n    out: optional output tensor.\n"
    return fn


exp = _unary_fn(Exp, "exp", "e ** input, elementwise.")
exp2 = _unary_fn(Exp2, "exp2", "2 ** input, elementwise.")
expm1 = _unary_fn(Expm1, "expm1", "exp(input) - 1, accurate near 0.")
log = _unary_fn(Log, "log", "Natural logarithm.")
log1p = _unary_fn(Log1p, "log1p", "log(1 + input), accurate near 0.")
log2 = _unary_fn(Log2, "log2", "Base-2 logarithm.")
log10 = _unary_fn(Log10, "log10", "Base-10 logarithm.")
sqrt = _unary_fn(Sqrt, "sqrt", "Square root.")
rsqrt = _unary_fn(Rsqrt, "rsqrt", "1 / sqrt(input).")
sin = _unary_fn(Sin, "sin", "Sine (radians).")
cos = _unary_fn(Cos, "cos", "Cosine (radians).")
tan = _unary_fn(Tan, "tan", "Tangent (radians).")
asin = _unary_fn(Asin, "asin", "Inverse sine.")
acos = _unary_fn(Acos, "acos", "Inverse cosine.")
atan = _unary_fn(Atan, "atan", "Inverse tangent.")
sinh = _unary_fn(Sinh, "sinh", "Hyperbolic sine.")
cosh = _unary_fn(Cosh, "cosh", "Hyperbolic cosine.")
tanh = _unary_fn(Tanh, "tanh", "Hyperbolic tangent.")
asinh = _unary_fn(Asinh, "asinh", "Inverse hyperbolic sine.")
acosh = _unary_fn(Acosh, "acosh", "Inverse hyperbolic cosine.")
atanh = _unary_fn(Atanh, "atanh", "Inverse hyperbolic tangent.")
sigmoid = _unary_fn(Sigmoid, "sigmoid", "1 / (1 + exp(-input)), computed without overflow.")
sinc = _unary_fn(Sinc, "sinc", "sin(pi x) / (pi x), 1 at 0.")
erf = _unary_fn(Erf, "erf", "The error function.")
erfc = _unary_fn(Erfc, "erfc", "The complementary error function 1 - erf(input).")
erfinv = _unary_fn(Erfinv, "erfinv", "Inverse of erf on (-1, 1).")
lgamma = _unary_fn(Lgamma, "lgamma", "log(|gamma(input)|).")
digamma = _unary_fn(Digamma, "digamma", "d/dx lgamma(x): -inf at 0, nan at negative integers.")
abs = _unary_fn(Abs, "abs", "Absolute value (the modulus for complex tensors).")
sign = _unary_fn(Sign, "sign", "-1, 0 or 1 by the sign of input (complex: use sgn).")
sgn = _unary_fn(Sgn, "sgn", "sign for real tensors; z / |z| for complex ones.")
floor = _unary_fn(Floor, "floor", "Largest integer not above input.")
ceil = _unary_fn(Ceil, "ceil", "Smallest integer not below input.")
trunc = _unary_fn(Trunc, "trunc", "input rounded toward zero.")
fix = _unary_fn(Trunc, "fix", "input rounded toward zero (alias of trunc).")
frac = _unary_fn(Frac, "frac", "input - trunc(input).")
signbit = _unary_fn(Signbit, "signbit", "True where the sign bit is set (also for -0.0).")
isnan = _unary_fn(Isnan, "isnan", "True where input is nan.")
isinf = _unary_fn(Isinf, "isinf", "True where input is +inf or -inf.")
isposinf = _unary_fn(Isposinf, "isposinf", "True where input is +inf.")
isneginf = _unary_fn(Isneginf, "isneginf", "True where input is -inf.")
isfinite = _unary_fn(Isfinite, "isfinite", "True where input is neither inf nor nan.")
angle = _unary_fn(Angle, "angle", "Argument of complex input (0 or pi for real input).")
logical_not = _unary_fn(LogicalNot, "logical_not", "Elementwise not of truth values (bool).")
bitwise_not = _unary_fn(BitwiseNot, "bitwise_not", "~input for integer and bool tensors.")


def isreal(input):
    """True where input has no imaginary part (always for real dtypes)."""
    return apply(Isreal, input)


def relu(input):
    """max(input, 0)."""
    return apply(Relu, input)


def relu_(input):
    """max(input, 0) in place."""
    return apply_inplace(Relu, input)


def round(input, *, decimals=0, out=None):
    """Round half to even (like PyTorch); with decimals, to that many decimal places.

    Example:
        >>> import ember
        >>> ember.round(ember.tensor([0.5, 1.5, 2.5, 1.2345]), decimals=0)
        tensor([0., 2., 2., 1.])
    """
    if decimals != 0 and input.dtype.name in ("int8", "int16", "int32", "int64", "uint8"):
        raise NotImplementedError(f'"round_cpu" not implemented for '
                                  f"'{_legacy(input._data.dtype)}'")
    res = apply(Round, input, decimals=decimals)
    return _out(named(res, "RoundBackward1") if decimals else res, out)   # round.decimals


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with eps, p is first clamped to [eps, 1 - eps]."""
    if input.is_complex():
        raise _kernel_error("logit_cpu", input._data.dtype)
    x = _to_float(input)
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return _out(named(log(x / (1 - x)), "LogitBackward0"), out)


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma (n = 0 is digamma)."""
    if not isinstance(n, int) or n < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got {n}")
    return _out(apply(Polygamma, input, n=n), out)


def deg2rad(input, *, out=None):
    """Degrees to radians."""
    if input.is_complex():
        raise RuntimeError("deg2rad is not supported for complex tensors.")
    return _out(named(mul(_to_float(input), math.pi / 180), "Deg2RadBackward0"), out)


def rad2deg(input, *, out=None):
    """Radians to degrees."""
    if input.is_complex():
        raise RuntimeError("rad2deg is not supported for complex tensors.")
    return _out(named(mul(_to_float(input), 180 / math.pi), "Rad2DegBackward0"), out)


# -- public functions: binary math -------------------------------------------------------------

def atan2(input, other, *, out=None):
    """Angle of the point (other, input) in radians, in (-pi, pi]."""
    return _out(apply(Atan2, input, other), out)


def hypot(input, other, *, out=None):
    """sqrt(input**2 + other**2) without overflow."""
    return _out(apply(Hypot, input, other), out)


def copysign(input, other, *, out=None):
    """|input| with the sign of other; integers give the default float dtype."""
    return _out(apply(Copysign, input, other), out)


def heaviside(input, values, *, out=None):
    """Step function: 0 below 0, 1 above, values at 0 (input and values of one dtype)."""
    return _out(apply(Heaviside, input, values), out)


def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input is 0 (unless other is nan)."""
    return _out(apply(Xlogy, input, other), out)


def ldexp(input, other, *, out=None):
    """input * 2 ** other."""
    return _out(named(mul(input, exp2(_to_float(other))), "LdexpBackward0"), out)


def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)), computed without overflow."""
    return _out(apply(Logaddexp, input, other), out)


def logaddexp2(input, other, *, out=None):
    """log2(2**input + 2**other), computed without overflow."""
    return _out(apply(Logaddexp2, input, other), out)


def maximum(input, other, *, out=None):
    """Elementwise max; nan propagates; ties share the gradient equally."""
    return _out(apply(Maximum, input, other), out)


def minimum(input, other, *, out=None):
    """Elementwise min; nan propagates; ties share the gradient equally."""
    return _out(apply(Minimum, input, other), out)


def fmax(input, other, *, out=None):
    """Elementwise max ignoring nan (nan only where both are nan)."""
    return _out(apply(Fmax, input, other), out)


def fmin(input, other, *, out=None):
    """Elementwise min ignoring nan (nan only where both are nan)."""
    return _out(apply(Fmin, input, other), out)


def clamp(input, min=None, max=None, *, out=None):
    """Limit input to [min, max]; either bound may be None, a number or a tensor. When
    min > max, every element becomes max (like PyTorch).

    Example:
        >>> import ember
        >>> ember.clamp(ember.tensor([-2.0, 0.5, 3.0]), min=-1, max=1)
        tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    return _out(apply(Clamp, input, min, max), out)


clip = clamp


def clamp_min(input, min, *, out=None):
    """max(input, min)."""
    from .._tensor import Tensor
    return named(clamp(input, min=min, out=out),
                 "ClampMinBackward1" if isinstance(min, Tensor) else "ClampMinBackward0")


def clamp_max(input, max, *, out=None):
    """min(input, max)."""
    from .._tensor import Tensor
    return named(clamp(input, max=max, out=out),
                 "ClampMaxBackward1" if isinstance(max, Tensor) else "ClampMaxBackward0")


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace nan, +inf and -inf (defaults: 0 and the dtype's largest/lowest finite value)."""
    return _out(apply(NanToNum, input, nan=nan, posinf=posinf, neginf=neginf), out)


def where(condition, input=None, other=None, *, out=None):
    """Elements of input where condition holds, else of other; where(cond) is nonzero()."""
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    return _out(apply(Where, condition, input, other), out)


# -- public functions: comparisons, logical and bitwise ----------------------------------------

def _binary_fn(op, name, summary, **attrs):
    def fn(input, other, *, out=None):
        return _out(apply(op, input, other, **attrs), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{summary}\n\nArgs:\n    input: a tensor.\n    other: a tensor or a "
                  "number (broadcast).\n    out: optional output tensor.\n")
    return fn


eq = _binary_fn(Eq, "eq", "input == other, elementwise (bool).")
ne = _binary_fn(Ne, "ne", "input != other, elementwise (bool).")
lt = _binary_fn(Lt, "lt", "input < other, elementwise (bool).")
le = _binary_fn(Le, "le", "input <= other, elementwise (bool).")
gt = _binary_fn(Gt, "gt", "input > other, elementwise (bool).")
ge = _binary_fn(Ge, "ge", "input >= other, elementwise (bool).")
logical_and = _binary_fn(LogicalAnd, "logical_and", "Elementwise and of truth values (bool).")
logical_or = _binary_fn(LogicalOr, "logical_or", "Elementwise or of truth values (bool).")
logical_xor = _binary_fn(LogicalXor, "logical_xor", "Elementwise xor of truth values (bool).")
bitwise_and = _binary_fn(BitwiseAnd, "bitwise_and", "input & other (integer or bool).")
bitwise_or = _binary_fn(BitwiseOr, "bitwise_or", "input | other (integer or bool).")
bitwise_xor = _binary_fn(BitwiseXor, "bitwise_xor", "input ^ other (integer or bool).")
bitwise_left_shift = _binary_fn(BitwiseShift, "bitwise_left_shift", "input << other.",
                                left=True)
bitwise_right_shift = _binary_fn(BitwiseShift, "bitwise_right_shift",
                                 "input >> other (arithmetic for signed types).", left=False)
gcd = _binary_fn(Gcd, "gcd", "Greatest common divisor of integers.")
lcm = _binary_fn(Lcm, "lcm", "Least common multiple of integers.")


def equal(input, other) -> builtins.bool:
    """True if the two tensors have the same shape and equal elements (a Python bool)."""
    from .._tensor import Tensor
    if not isinstance(other, Tensor):
        raise TypeError(f"equal(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    if tuple(input.shape) != tuple(other.shape):
        return False
    return builtins.bool(apply(Eq, input, other)._data.all())


# -- public functions: complex numbers ---------------------------------------------------------

def conj(input):
    """Complex conjugate; real tensors are returned as they are."""
    if not input.is_complex():
        return input
    return apply(Conj, input)


def conj_physical(input, *, out=None):
    """Complex conjugate materialised (ember's conj always is); real tensors pass through."""
    return _out(conj(input), out)


def resolve_conj(input):
    """input itself: ember never defers a conjugation."""
    return input


def resolve_neg(input):
    """input itself: ember never defers a negation."""
    return input


def real(input):
    """The real part (a view of complex input; real input itself)."""
    if not input.is_complex():
        return input
    return apply(Real, input)


def imag(input):
    """The imaginary part of a complex tensor, as a view."""
    return apply(Imag, input)


def polar(abs, angle, *, out=None):
    """The complex tensor abs * (cos(angle) + i sin(angle))."""
    return _out(named(complex(abs * cos(angle), abs * sin(angle)), "PolarBackward0"), out)


def complex(real, imag, *, out=None):
    """The complex tensor real + i * imag (both float tensors of one dtype)."""
    return _out(apply(Complex, real, imag), out)


# PyTorch's alias names.
subtract = sub
multiply = mul
divide = div
negative = neg
absolute = abs
arcsin = asin
arccos = acos
arctan = atan
arcsinh = asinh
arccosh = acosh
arctanh = atanh
arctan2 = atan2
greater = gt
greater_equal = ge
less = lt
less_equal = le
not_equal = ne


# -- closeness, floating-point decomposition, Bessel and gamma functions -----------------------

class Isclose(Op):
    """|a - b| <= atol + rtol * |b|, elementwise (equal values, infs included, are close)."""
    name = "isclose"
    differentiable = False

    @staticmethod
    def forward(ctx, a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
        xp = ctx.xp
        if a.dtype != b.dtype:
            raise RuntimeError(f"{_legacy(a.dtype)} did not match {_legacy(b.dtype)}")
        try:
            same = a == b
        except ValueError:
            _broadcast_fail(ctx, a, b)
        if equal_nan:
            same = same | ((a != a) & (b != b))
        if a.dtype.kind in "b" or (rtol == 0 and atol == 0):
            return same
        # half types compare in float32 (their own rounding would widen the bound)
        work = a.dtype if a.dtype.kind in "fc" else np.dtype(np.float64)
        if a.dtype.itemsize < 4 and a.dtype.kind in "fV":
            work = np.dtype(np.float32)
        with _errstate(xp):
            diff = xp.abs(a.astype(work, copy=False) - b.astype(work, copy=False))
            bound = atol + rtol * xp.abs(b.astype(work, copy=False))
            close = xp.isfinite(diff) & (diff <= bound)
        return same | close


def _check_close_args(name, input, other, rtol, atol):
    from .._tensor import Tensor
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, "
                        f"not {type(other).__name__}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True where input and other are close: ``|input - other| <= atol + rtol * |other|``.

    Args:
        input, other: tensors of one dtype (broadcast together).
        rtol, atol: relative and absolute tolerances (>= 0).
        equal_nan: count two nans as close.

    Returns:
        A bool tensor.

    Example:
        >>> import ember
        >>> ember.isclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.1])).tolist()
        [True, False]
    """
    _check_close_args("isclose", input, other, rtol, atol)
    return apply(Isclose, input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> builtins.bool:
    """True when every element of ``isclose(input, other, ...)`` is True (a Python bool).

    Example:
        >>> import ember
        >>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-9]))
        True
    """
    _check_close_args("allclose", input, other, rtol, atol)
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


class Frexp(Op):
    """input = mantissa * 2 ** exponent with |mantissa| in [0.5, 1) (exponent int32)."""
    name = "frexp"

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind not in "fV":
            raise RuntimeError("torch.frexp() only supports floating-point dtypes")
        xp = ctx.xp
        work = a if a.dtype.kind == "f" else a.astype(np.float32)
        mantissa, exponent = xp.frexp(work)
        ctx.save(exponent.astype(a.dtype))
        return mantissa.astype(a.dtype, copy=False), exponent.astype(np.int32, copy=False)

    @staticmethod
    def backward(ctx, grad, _grad_exponent):
        (exponent,) = ctx.saved_tensors
        return grad / exp2(exponent)


_FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])     # torch.return_types.frexp


def frexp(input, *, out=None):
    """Decompose input into (mantissa, exponent): input = mantissa * 2 ** exponent.

    Returns:
        A named tuple (mantissa, exponent); exponent is int32.

    Example:
        >>> import ember
        >>> m, e = ember.frexp(ember.tensor([8.0]))
        >>> m.tolist(), e.tolist()
        ([0.5], [4])
    """
    mantissa, exponent = apply(Frexp, input)
    if out is not None:
        out[0].copy_(mantissa)
        out[1].copy_(exponent)
        mantissa, exponent = out
    return _FrexpResult(mantissa, exponent)


class Nextafter(Op):
    """The next representable float after input in the direction of other."""
    name = "nextafter"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        _reject("nextafter_cpu", a, b, kinds="biuc")
        if getattr(a, "dtype", None) is not None and a.dtype.kind == "V":
            raise _kernel_error("nextafter_cpu", a.dtype)
        try:
            return ctx.xp.nextafter(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'nextafter' is not implemented.")


def nextafter(input, other, *, out=None):
    """The next floating-point value after input towards other, elementwise.

    Example:
        >>> import ember
        >>> ember.nextafter(ember.tensor([1.0]), ember.tensor([2.0])).item() > 1.0
        True
    """
    return _out(apply(Nextafter, input, other), out)


# Note [Bessel I0/I1]
# The power series sum_k (x/2)^(2k+nu) / (k! (k+nu)!) has only positive terms (no
# cancellation) and reaches full precision for |x| < 20 in 60 terms; above that, Hankel's
# asymptotic expansion e^x / sqrt(2 pi x) * sum_k c_k / x^k is accurate to rounding within 20
# terms. Both are evaluated on whole arrays (the loops run over terms, not elements).
_BESSEL_SPLIT = 20.0


def _bessel_i(xp, nu, a):
    x = xp.abs(a)
    small = xp.minimum(x, _BESSEL_SPLIT)
    q = (small * 0.5) ** 2
    term = (small * 0.5) ** nu / math.factorial(nu)
    total = term
    for k in range(1, 60):
        term = term * q / (k * (k + nu))
        total = total + term
    large = xp.maximum(x, _BESSEL_SPLIT)
    coef = xp.ones_like(large)
    series = coef
    mu = 4.0 * nu * nu
    for k in range(1, 20):
        coef = coef * (-(mu - (2 * k - 1) ** 2)) / (k * 8.0 * large)
        series = series + coef
    with _errstate(xp):
        asym = xp.exp(large) / xp.sqrt(2 * math.pi * large) * series
    out = xp.where(x < _BESSEL_SPLIT, total, asym)
    if nu % 2 == 1:
        out = xp.where(a < 0, -out, out)
    return out


def _bessel_kernel(nu):
    def kernel(xp, a):
        _reject("i0_cpu" if nu == 0 else "special_i1_cpu", a, kinds="c")
        return _bessel_i(xp, nu, a).astype(a.dtype, copy=False)
    return kernel


def _i1_derivative(a):
    # I1'(x) = I0(x) - I1(x) / x, which tends to 1/2 at x = 0.
    at_zero = a == 0
    safe = where(at_zero, 1.0, a)
    return where(at_zero, 0.5, i0(a) - apply(_I1, safe) / safe)


_I1 = _unary_op("_I1", "special_i1", _bessel_kernel(1), _i1_derivative,
                doc="Modified Bessel function of the first kind, order 1.")
I0 = _unary_op("I0", "i0", _bessel_kernel(0), lambda a: apply(_I1, a),
               doc="Modified Bessel function of the first kind, order 0.")
i0 = _unary_fn(I0, "i0", "Modified Bessel function of the first kind of order 0.")


def mvlgamma(input, p, *, out=None):
    """Multivariate log-gamma of dimension p: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi).

    Example:
        >>> import ember
        >>> ember.mvlgamma(ember.tensor([3.0]), 2)
        tensor([1.5502])
    """
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = _to_float(input)
    shifts = _half_steps(x, p)
    total = lgamma(x.unsqueeze(-1) - shifts).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    return _out(named(total, "MvlgammaBackward0"), out)


def _half_steps(x, p):
    """The offsets 0, 1/2, ..., (p-1)/2 in x's dtype and device."""
    from .creation import arange
    return arange(p, dtype=x.dtype, device=x.device) * 0.5


# Note [Incomplete gamma]
# P(a, x) (igamma) by its power series where x < a + 1 and Q(a, x) = 1 - P by Lentz's continued
# fraction elsewhere, each the rapidly converging side; both are iterated on whole arrays. The
# edge values follow PyTorch: x = 0 -> P = 0, a = 0 < x -> P = 1, a or x < 0 -> nan, x = inf ->
# P = 1, a = inf (finite x) -> P = 0.
_GAMMA_ITERS = 500


def _igamma_pair(xp, a, x, lgamma_fn):
    """(P, Q) regularised incomplete gamma functions on float64 arrays."""
    a, x = xp.broadcast_arrays(a, x)
    finite = xp.isfinite(a) & xp.isfinite(x) & (a > 0) & (x > 0)
    sa = xp.where(finite, a, 1.0)
    sx = xp.where(finite, x, 1.0)
    log_front = sa * xp.log(sx) - sx - lgamma_fn(sa)
    use_series = sx < sa + 1
    # series for P: sum_n x^n / (a (a+1) ... (a+n))
    term = 1.0 / sa
    total = term
    for n in range(1, _GAMMA_ITERS):
        term = term * sx / (sa + n)
        total = total + term
        if n % 25 == 0 and xp is np and bool((xp.abs(term) <= 1e-17 * total)[use_series].all()):
            break
    p_series = total * xp.exp(log_front)
    # continued fraction for Q (modified Lentz)
    tiny = 1e-300
    b = sx + 1.0 - sa
    c = xp.full_like(b, 1.0 / tiny)
    d = 1.0 / b
    h = d
    for n in range(1, _GAMMA_ITERS):
        an = -n * (n - sa)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if n % 25 == 0 and xp is np and bool((xp.abs(delta - 1) <= 1e-16)[~use_series].all()):
            break
    q_fraction = xp.exp(log_front) * h
    p = xp.where(use_series, p_series, 1.0 - q_fraction)
    q = xp.where(use_series, 1.0 - p_series, q_fraction)
    nan = (a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x) | ((a == 0) & (x == 0)) \
        | (xp.isinf(a) & xp.isinf(x))
    p_edge = xp.where(x == 0, 0.0, xp.where((a == 0) | xp.isinf(x), 1.0, 0.0))
    p = xp.where(finite, p, p_edge)
    q = xp.where(finite, q, 1.0 - p_edge)
    return xp.where(nan, xp.nan, p), xp.where(nan, xp.nan, q)


def _lgamma_fn(xp):
    if xp is np:
        return _np_lgamma
    import cupyx.scipy.special as cs
    return cs.gammaln


class Igamma(Op):
    """Regularised lower (or, with upper=True, upper) incomplete gamma function of (a, x)."""
    name = "igamma"

    @staticmethod
    def forward(ctx, a, x, upper=False):
        # promotion here, not in apply: integer inputs are rejected, not cast to float
        kernel = "igammac_cpu" if upper else "igamma_cpu"
        dt = _result_np_dtype(a, x)
        if dt.kind not in "fV":
            raise _kernel_error(kernel, dt)
        xp = ctx.xp
        ctx.x_dtype = getattr(x, "dtype", None)
        ctx.save(a, x)
        ctx.upper = upper
        try:
            with _errstate(xp):
                p, q = _igamma_pair(xp, xp.asarray(a, dtype=np.float64),
                                    xp.asarray(x, dtype=np.float64), _lgamma_fn(xp))
        except ValueError:
            _broadcast_fail(ctx, a, x)
        return (q if upper else p).astype(dt, copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        name = "igammac" if ctx.upper else "igamma"
        if _need(ctx, 0):
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a)
        density = exp((a - 1) * log(x) - x - lgamma(a))
        if ctx.upper:
            density = -density
        return None, _cast_grad(sum_to(grad * density, ctx.in_shapes[1]), ctx.x_dtype)


def igamma(input, other, *, out=None):
    """Regularised lower incomplete gamma function P(input, other).

    Example:
        >>> import ember
        >>> ember.igamma(ember.tensor([1.0]), ember.tensor([1.0]))
        tensor([0.6321])
    """
    return _out(apply(Igamma, input, other), out)


def igammac(input, other, *, out=None):
    """Regularised upper incomplete gamma function Q(input, other) = 1 - P(input, other).

    Example:
        >>> import ember
        >>> ember.igammac(ember.tensor([1.0]), ember.tensor([1.0]))
        tensor([0.3679])
    """
    return _out(named(apply(Igamma, input, other, upper=True), "IgammacBackward0"), out)


# -- in-place variants -------------------------------------------------------------------------
#
# foo_(self, ...) writes foo's result into self through apply_inplace (version counter,
# history rebase, leaf checks, PyTorch's "result type Float can't be cast to the desired output
# type Long" error). Composites that have no Op of their own write with copy_.

def add_(self, other, *, alpha=1):
    if alpha != 1 or type(alpha) is not int:
        _check_alpha("add_", self, other, alpha)
        other = mul(other, alpha)
    return apply_inplace(Add, self, other)


def sub_(self, other, *, alpha=1):
    if alpha != 1 or type(alpha) is not int:
        _check_alpha("sub_", self, other, alpha)
        other = mul(other, alpha)
    # Sub promotes inside forward, so apply_inplace cannot check the result type: do it here.
    from .. import _dtype as D
    res = D.from_numpy_dtype(_result_np_dtype(self._data, getattr(other, "_data", other)))
    if not D.can_cast(res, self.dtype):
        from .._dispatch import _legacy_name
        raise RuntimeError(f"sub_: result type {_legacy_name(res)} can't be cast to the desired "
                           f"output type {_legacy_name(self.dtype)}")
    return apply_inplace(Sub, self, other)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return apply_inplace(Div, self, other)
    if rounding_mode not in ("trunc", "floor"):
        div(self, other, rounding_mode=rounding_mode)          # raises the error
    return apply_inplace(DivRounded, self, other, mode=rounding_mode)


def clamp_(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp_: At least one of 'min' or 'max' must not be None")
    return apply_inplace(Clamp, self, min, max)


def clamp_min_(self, min):
    from .._tensor import Tensor
    if isinstance(min, Tensor):
        return named_inplace(Clamp, self, "ClampMinBackward1", min, None)
    return named_inplace(Clamp, self, "ClampMinBackward0", min, None)


def clamp_max_(self, max):
    from .._tensor import Tensor
    if isinstance(max, Tensor):
        return named_inplace(Clamp, self, "ClampMaxBackward1", None, max)
    return named_inplace(Clamp, self, "ClampMaxBackward0", None, max)


def square_(self):
    return apply_inplace(Mul, self, self.clone() if self._rg else self)


def round_(self, *, decimals=0):
    return apply_inplace(Round, self, decimals=decimals)


def polygamma_(self, n):
    return apply_inplace(Polygamma, self, n=n)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return apply_inplace(NanToNum, self, nan=nan, posinf=posinf, neginf=neginf)


def lerp_(self, end, weight):
    lerp(self, end, weight)                                   # dtype checks
    return apply_inplace(Lerp, self, end, weight)


def float_power_(self, exponent):
    if self.dtype.name not in ("float64", "complex128"):
        raise RuntimeError(f"the base given to float_power_ has dtype {_legacy(self._data.dtype)}"
                           " but the operation's result requires dtype Double")
    return apply_inplace(Pow, self, exponent)


def _copy_into(fn):
    def inplace(self, *args, **kwargs):
        return self.copy_(fn(self, *args, **kwargs))
    inplace.__name__ = fn.__name__ + "_"
    return inplace


_INPLACE_OPS = {
    "mul_": Mul, "true_divide_": Div, "floor_divide_": FloorDivide, "remainder_": Remainder,
    "fmod_": Fmod, "neg_": Neg, "pow_": Pow, "exp_": Exp, "exp2_": Exp2, "expm1_": Expm1,
    "log_": Log, "log1p_": Log1p, "log2_": Log2, "log10_": Log10, "sqrt_": Sqrt,
    "rsqrt_": Rsqrt, "sin_": Sin, "cos_": Cos, "tan_": Tan, "asin_": Asin, "acos_": Acos,
    "atan_": Atan, "sinh_": Sinh, "cosh_": Cosh, "tanh_": Tanh, "asinh_": Asinh,
    "acosh_": Acosh, "atanh_": Atanh, "sigmoid_": Sigmoid, "sinc_": Sinc, "erf_": Erf,
    "erfc_": Erfc, "erfinv_": Erfinv, "lgamma_": Lgamma, "digamma_": Digamma, "abs_": Abs,
    "sign_": Sign, "sgn_": Sgn, "relu_": Relu, "floor_": Floor, "ceil_": Ceil,
    "trunc_": Trunc, "fix_": Trunc, "frac_": Frac, "atan2_": Atan2, "hypot_": Hypot,
    "copysign_": Copysign, "heaviside_": Heaviside, "xlogy_": Xlogy, "eq_": Eq, "ne_": Ne,
    "lt_": Lt, "le_": Le, "gt_": Gt, "ge_": Ge, "logical_and_": LogicalAnd,
    "logical_or_": LogicalOr, "logical_xor_": LogicalXor, "logical_not_": LogicalNot,
    "conj_physical_": Conj, "bitwise_and_": BitwiseAnd, "bitwise_or_": BitwiseOr,
    "bitwise_xor_": BitwiseXor, "bitwise_not_": BitwiseNot, "gcd_": Gcd, "lcm_": Lcm,
    "i0_": I0, "nextafter_": Nextafter,
}
# Composites and functions whose in-place form writes the out-of-place result with copy_.
_INPLACE_COPY = ("reciprocal", "logit", "deg2rad", "rad2deg", "addcmul", "addcdiv", "ldexp",
                 "mvlgamma")
_INPLACE_ALIASES = {
    "subtract_": "sub_", "multiply_": "mul_", "divide_": "div_", "negative_": "neg_",
    "absolute_": "abs_", "arcsin_": "asin_", "arccos_": "acos_", "arctan_": "atan_",
    "arcsinh_": "asinh_", "arccosh_": "acosh_", "arctanh_": "atanh_", "arctan2_": "atan2_",
    "clip_": "clamp_", "greater_": "gt_", "greater_equal_": "ge_", "less_": "lt_",
    "less_equal_": "le_", "not_equal_": "ne_",
}


def _make_inplace(op, name):
    def inplace(self, *args):
        return apply_inplace(op, self, *args)
    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"In-place {name[:-1]}: writes the result into self and returns self."
    return inplace


def _shift_inplace(left):
    def inplace(self, other):
        return apply_inplace(BitwiseShift, self, other, left=left)
    return inplace


def _inplace_table():
    table = {name: _make_inplace(op, name) for name, op in _INPLACE_OPS.items()}
    table.update({
        "add_": add_, "sub_": sub_, "div_": div_, "clamp_": clamp_, "square_": square_,
        "round_": round_, "polygamma_": polygamma_, "nan_to_num_": nan_to_num_,
        "lerp_": lerp_, "float_power_": float_power_,
        "clamp_min_": clamp_min_, "clamp_max_": clamp_max_,
        "bitwise_left_shift_": _shift_inplace(True),
        "bitwise_right_shift_": _shift_inplace(False),
        "igamma_": lambda self, other: apply_inplace(Igamma, self, other),
        "igammac_": lambda self, other: apply_inplace(Igamma, self, other, upper=True),
    })
    for name in _INPLACE_COPY:
        table[name + "_"] = _copy_into(globals()[name])
    for alias, name in _INPLACE_ALIASES.items():
        table[alias] = table[name]
    return table


# -- Tensor methods ----------------------------------------------------------------------------

# Public functions that are not Tensor methods in PyTorch, or whose method differs.
_NOT_METHODS = ("where", "polar", "complex", "relu_", "real", "imag", "polygamma", "rsub")


def _method_table():
    table = {n: globals()[n] for n in __all__ if n not in _NOT_METHODS}
    table.update(_inplace_table())
    table["where"] = lambda self, condition, other: where(condition, self, other)
    table["polygamma"] = lambda self, n: polygamma(n, self)
    table["real"] = property(real, _set_part(real))
    table["imag"] = property(imag, _set_part(imag))
    table["is_conj"] = lambda self: False
    table["is_neg"] = lambda self: False
    return table


def _set_part(getter):
    def setter(self, value):
        getter(self).copy_(value)
    return setter


TENSOR_METHODS = _method_table()


# torch.<name>_ functions are the Tensor methods themselves: torch.exp_(t) is t.exp_().
_TORCH_INPLACE = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_",
    "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "lcm_", "ldexp_", "log10_",
    "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_",
    "square_", "tan_", "tanh_", "trunc_", "xlogy_", "i0_",
)
globals().update({name: TENSOR_METHODS[name] for name in _TORCH_INPLACE})
__all__ += _TORCH_INPLACE
