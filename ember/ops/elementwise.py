"""Elementwise ops: arithmetic, unary math, comparisons, where."""

from __future__ import annotations

import builtins

from .._dispatch import Op, apply, apply_inplace
from .._errors import broadcast_error
from ._broadcast import sum_to

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
           "negative", "pow", "exp", "log", "sqrt", "abs", "absolute", "tanh", "sigmoid",
           "relu", "eq", "ne", "lt", "le", "gt", "ge", "where", "maximum", "minimum", "clamp",
           "clip", "square", "reciprocal", "rsqrt", "sin", "cos", "bitwise_not", "logical_not"]


def _broadcast_fail(ctx, a, b):
    raise broadcast_error(ctx.op.name, getattr(a, "shape", ()), getattr(b, "shape", ()))


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
    def backward(ctx, grad):
        sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        return (sum_to(grad, sa) if need[0] else None,
                sum_to(grad, sb) if need[1] else None)


class Sub(Op):
    """a - b, broadcasting."""
    name = "sub"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        if ctx.xp.asarray(a).dtype == bool and ctx.xp.asarray(b).dtype == bool:
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                               "supported. Use the `^` or `logical_xor()` operator instead.")
        try:
            return a - b
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        return (sum_to(grad, sa) if need[0] else None,
                sum_to(-grad, sb) if need[1] else None)


class Mul(Op):
    """a * b, broadcasting."""
    name = "mul"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        try:
            return a * b
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        return (sum_to(grad * _conj(b), sa) if need[0] else None,
                sum_to(grad * _conj(a), sb) if need[1] else None)


class Div(Op):
    """a / b (true division: integers give the default float dtype)."""
    name = "div"
    promote = "float"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        xp = ctx.xp
        try:
            with _errstate(xp):
                return xp.true_divide(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.in_shapes
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            ga = sum_to(grad / _conj(b), sa)
        if need[1]:
            gb = sum_to(-grad * _conj(a) / _conj(b * b), sb)
        return ga, gb


class DivRounded(Op):
    """a / b rounded toward zero ("trunc") or down ("floor"); the gradient is zero."""
    name = "div"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b, mode):
        xp = ctx.xp
        a_arr, b_arr = xp.asarray(a), xp.asarray(b)
        integral = a_arr.dtype.kind in "iub" and b_arr.dtype.kind in "iub"
        if integral and bool((b_arr == 0).any()):
            raise RuntimeError("ZeroDivisionError")
        try:
            with _errstate(xp):
                if mode == "floor":
                    return xp.floor_divide(a, b)
                if integral:
                    q = xp.floor_divide(a, b)
                    fix = (q < 0) & (xp.remainder(a, b) != 0)
                    return q + fix
                return xp.trunc(xp.true_divide(a, b))
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.in_shapes
        return sum_to(grad * 0, sa), sum_to(grad * 0, sb)


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
    """a ** b; integer tensors raised to negative integer powers raise, like PyTorch."""
    name = "pow"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        xp = ctx.xp
        a_arr = xp.asarray(a)
        if a_arr.dtype.kind in "iu" and xp.asarray(b).dtype.kind in "iu" and \
                bool((xp.asarray(b) < 0).any()):
            raise RuntimeError("pow: Integers to negative integer powers are not allowed.")
        try:
            with _errstate(xp):
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
            # b * a^(b-1), with the b == 0 case giving 0 (not nan) at a == 0.
            ga = sum_to(where(b == 0, 0.0, grad * b * pow(a, b - 1)), sa)
        if need[1]:
            out = pow(a, b)
            ga_log = where((a == 0) & (b >= 0), 0.0, grad * out * log(a))
            gb = sum_to(ga_log, sb)
        return ga, gb


# -- unary math --------------------------------------------------------------------------------

class Exp(Op):
    name = "exp"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        with _errstate(ctx.xp):
            out = ctx.xp.exp(a)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * _conj(out)


class Log(Op):
    name = "log"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        with _errstate(ctx.xp):
            return ctx.xp.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / _conj(a)


class Sqrt(Op):
    name = "sqrt"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        with _errstate(ctx.xp):
            out = ctx.xp.sqrt(a)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * _conj(out))


class Rsqrt(Op):
    name = "rsqrt"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        with _errstate(ctx.xp):
            out = 1 / ctx.xp.sqrt(a)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * -0.5 * out * out * out


class Abs(Op):
    name = "abs"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return ctx.xp.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        if a.is_complex():
            return grad * sgn(a)
        return grad * sign(a)


class Sign(Op):
    name = "sign"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        if a.dtype == bool:
            return a.copy()
        return ctx.xp.sign(a)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Sgn(Op):
    name = "sgn"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        if a.dtype.kind != "c":
            return xp.sign(a)
        mag = xp.abs(a)
        with _errstate(xp):
            return xp.where(mag == 0, 0, a / xp.where(mag == 0, 1, mag)).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


class Tanh(Op):
    name = "tanh"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.tanh(a)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Sigmoid(Op):
    name = "sigmoid"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        # 0.5 * (1 + tanh(a / 2)) never overflows, unlike 1 / (1 + exp(-a)).
        out = (xp.tanh(a * 0.5) + 1) * 0.5
        out = out.astype(a.dtype, copy=False)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out * (1 - out))


class Relu(Op):
    name = "relu"
    promote = "same"

    @staticmethod
    def forward(ctx, a):
        if a.dtype == bool:
            raise RuntimeError('"clamp_min_cpu" not implemented for \'Bool\'')
        out = ctx.xp.maximum(a, 0).astype(a.dtype, copy=False)
        ctx.save(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


class Sin(Op):
    name = "sin"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return ctx.xp.sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * _conj(cos(a))


class Cos(Op):
    name = "cos"
    promote = "float"

    @staticmethod
    def forward(ctx, a):
        ctx.save(a)
        return ctx.xp.cos(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * -_conj(sin(a))


# -- comparisons and selection -----------------------------------------------------------------

def _compare_op(op_name, ufunc_name):
    def forward(ctx, a, b):
        try:
            return getattr(ctx.xp, ufunc_name)(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    cls = type(op_name.capitalize(), (Op,), {
        "name": op_name, "promote": "compare", "differentiable": False,
        "forward": staticmethod(forward),
        "__doc__": f"Elementwise {op_name} comparison; returns a bool tensor."})
    return cls


Eq = _compare_op("eq", "equal")
Ne = _compare_op("ne", "not_equal")
Lt = _compare_op("lt", "less")
Le = _compare_op("le", "less_equal")
Gt = _compare_op("gt", "greater")
Ge = _compare_op("ge", "greater_equal")


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
        if hasattr(x, "dtype") and not isinstance(x, (int, float, complex)):
            dt = D.from_numpy_dtype(x.dtype)
            items.append((dt, 2 if x.ndim else 1))
        else:
            items.append((D.scalar_dtype(x), 0))
    return D.result_type_of(items).np


class Maximum(Op):
    name = "maximum"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        try:
            return ctx.xp.maximum(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _minmax_backward(ctx, grad, a > b, a == b)


class Minimum(Op):
    name = "minimum"
    promote = "same"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        try:
            return ctx.xp.minimum(a, b)
        except ValueError:
            _broadcast_fail(ctx, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _minmax_backward(ctx, grad, a < b, a == b)


def _minmax_backward(ctx, grad, a_wins, tie):
    # Ties split the gradient evenly, as PyTorch does.
    sa, sb = ctx.in_shapes
    need = ctx.needs_input_grad
    share_a = where(a_wins, 1.0, where(tie, 0.5, 0.0)).to(grad.dtype)
    return (sum_to(grad * share_a, sa) if need[0] else None,
            sum_to(grad * (1 - share_a), sb) if need[1] else None)


class Clamp(Op):
    """clamp(x, min, max) with scalar or tensor bounds (None: unbounded)."""
    name = "clamp"
    promote = "same"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        ctx.save(x, lo, hi)
        out = x
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        if out is x:
            out = x.copy()
        return out

    @staticmethod
    def backward(ctx, grad):
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
                below = below & (lo <= hi)
            glo = sum_to(grad * below, slo)
        if need[2] and hi is not None:
            ghi = sum_to(grad * (x > hi), shi)
        return gx, glo, ghi


class BitwiseNot(Op):
    name = "bitwise_not"
    promote = "same"
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind not in "biu":
            raise TypeError("bitwise_not: only integral and boolean tensors are supported, got "
                            f"{a.dtype}")
        return ctx.xp.invert(a)


class LogicalNot(Op):
    name = "logical_not"
    differentiable = False

    @staticmethod
    def forward(ctx, a):
        return ctx.xp.logical_not(a)


# -- helpers -----------------------------------------------------------------------------------

class _errstate:
    """numpy.errstate(all='ignore') on cpu; PyTorch never warns on inf/nan results."""

    __slots__ = ("xp", "prev")

    def __init__(self, xp):
        self.xp = xp

    def __enter__(self):
        import numpy as np
        if self.xp is np:
            self.prev = np.seterr(all="ignore")

    def __exit__(self, *exc):
        import numpy as np
        if self.xp is np:
            np.seterr(**self.prev)


def _conj(t):
    """Conjugate of a complex tensor; real tensors and Python numbers pass through."""
    if type(t) in (int, float, bool):
        return t
    if type(t) is complex:
        return t.conjugate()
    return t.conj() if t._data.dtype.kind == "c" else t


# -- public functions --------------------------------------------------------------------------

def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    r = apply(Add, input, other)
    return _out(r, out)


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    if alpha != 1:
        other = mul(other, alpha)
    return _out(apply(Sub, input, other), out)


def mul(input, other, *, out=None):
    """input * other."""
    return _out(apply(Mul, input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    """input / other; rounding_mode 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is None:
        r = apply(Div, input, other)
    elif rounding_mode == "trunc":
        r = _div_rounded(input, other, "trunc")
    elif rounding_mode == "floor":
        r = _div_rounded(input, other, "floor")
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    return _out(r, out)


def _div_rounded(input, other, mode):
    return apply(DivRounded, input, other, mode=mode)


def neg(input, *, out=None):
    return _out(apply(Neg, input), out)


def pow(input, exponent, *, out=None):
    """input ** exponent (either may be a number)."""
    return _out(apply(Pow, input, exponent), out)


def exp(input, *, out=None):
    return _out(apply(Exp, input), out)


def log(input, *, out=None):
    return _out(apply(Log, input), out)


def sqrt(input, *, out=None):
    return _out(apply(Sqrt, input), out)


def rsqrt(input, *, out=None):
    return _out(apply(Rsqrt, input), out)


def abs(input, *, out=None):
    return _out(apply(Abs, input), out)


def sign(input, *, out=None):
    return _out(apply(Sign, input), out)


def sgn(input, *, out=None):
    return _out(apply(Sgn, input), out)


def tanh(input, *, out=None):
    return _out(apply(Tanh, input), out)


def sigmoid(input, *, out=None):
    return _out(apply(Sigmoid, input), out)


def relu(input):
    return apply(Relu, input)


def sin(input, *, out=None):
    return _out(apply(Sin, input), out)


def cos(input, *, out=None):
    return _out(apply(Cos, input), out)


def square(input, *, out=None):
    return _out(apply(Mul, input, input) if input.dtype.name != "bool" else
                apply(Pow, input, 2), out)


def reciprocal(input, *, out=None):
    return _out(apply(Div, 1, input if input.is_floating_point() or input.is_complex()
                      else input.to(_default_float())), out)


def _default_float():
    from .._dtype import get_default_dtype
    return get_default_dtype()


def eq(input, other, *, out=None):
    return _out(apply(Eq, input, other), out)


def ne(input, other, *, out=None):
    return _out(apply(Ne, input, other), out)


def lt(input, other, *, out=None):
    return _out(apply(Lt, input, other), out)


def le(input, other, *, out=None):
    return _out(apply(Le, input, other), out)


def gt(input, other, *, out=None):
    return _out(apply(Gt, input, other), out)


def ge(input, other, *, out=None):
    return _out(apply(Ge, input, other), out)


def where(condition, input=None, other=None, *, out=None):
    """Elements of input where condition holds, else of other; where(cond) is nonzero()."""
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    return _out(apply(Where, condition, input, other), out)


def maximum(input, other, *, out=None):
    return _out(apply(Maximum, input, other), out)


def minimum(input, other, *, out=None):
    return _out(apply(Minimum, input, other), out)


def clamp(input, min=None, max=None, *, out=None):
    """Limit input to [min, max]; either bound may be None, a number or a tensor."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    return _out(apply(Clamp, input, min, max), out)


clip = clamp


def bitwise_not(input, *, out=None):
    return _out(apply(BitwiseNot, input), out)


def logical_not(input, *, out=None):
    return _out(apply(LogicalNot, input), out)


subtract = sub
multiply = mul
divide = div
negative = neg
absolute = abs


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


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


# -- in-place methods --------------------------------------------------------------------------

def add_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return apply_inplace(Add, self, other)


def sub_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return apply_inplace(Sub, self, other)


def mul_(self, other):
    return apply_inplace(Mul, self, other)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is not None:
        return self.copy_(div(self, other, rounding_mode=rounding_mode))
    return apply_inplace(Div, self, other)


def pow_(self, exponent):
    return apply_inplace(Pow, self, exponent)


def neg_(self):
    return apply_inplace(Neg, self)


def exp_(self):
    return apply_inplace(Exp, self)


def log_(self):
    return apply_inplace(Log, self)


def sqrt_(self):
    return apply_inplace(Sqrt, self)


def rsqrt_(self):
    return apply_inplace(Rsqrt, self)


def abs_(self):
    return apply_inplace(Abs, self)


def tanh_(self):
    return apply_inplace(Tanh, self)


def sigmoid_(self):
    return apply_inplace(Sigmoid, self)


def relu_(self):
    return apply_inplace(Relu, self)


def sin_(self):
    return apply_inplace(Sin, self)


def cos_(self):
    return apply_inplace(Cos, self)


def clamp_(self, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("clamp_: At least one of 'min' or 'max' must not be None")
    return apply_inplace(Clamp, self, min, max)


def square_(self):
    return apply_inplace(Mul, self, self.clone() if self._rg else self)


def reciprocal_(self):
    return apply_inplace(Div, self.new_ones(()), self) if False else self.copy_(reciprocal(self))


def sign_(self):
    return apply_inplace(Sign, self)


def eq_(self, other):
    return apply_inplace(Eq, self, other)


def ne_(self, other):
    return apply_inplace(Ne, self, other)


def lt_(self, other):
    return apply_inplace(Lt, self, other)


def le_(self, other):
    return apply_inplace(Le, self, other)


def gt_(self, other):
    return apply_inplace(Gt, self, other)


def ge_(self, other):
    return apply_inplace(Ge, self, other)


def bitwise_not_(self):
    return apply_inplace(BitwiseNot, self)


def logical_not_(self):
    return apply_inplace(LogicalNot, self)


def _method_table():
    names = [n for n in __all__ if not n.startswith("_")]
    table = {n: globals()[n] for n in names if n not in ("where",)}
    table["where"] = lambda self, condition, other: where(condition, self, other)
    for n, fn in list(globals().items()):
        if n.endswith("_") and not n.startswith("_") and callable(fn):
            table[n] = fn
    table["clamp_min"] = lambda self, min: clamp(self, min=min)
    table["clamp_max"] = lambda self, max: clamp(self, max=max)
    table["clamp_min_"] = lambda self, min: clamp_(self, min=min)
    table["clamp_max_"] = lambda self, max: clamp_(self, max=max)
    table["clip_"] = clamp_
    return table


TENSOR_METHODS = _method_table()
_builtins = builtins
