"""Tensor creation and conversion: tensor, zeros, ones, full, arange, linspace, eye, to, clone,
copy_."""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import _dtype as D
from .._device import CPU, get_default_device, to_device
from .._dispatch import Op, apply
from .._tensor import Tensor
from .._tensor_str import set_printoptions
from ..backends.interop import to_dlpack  # noqa: F401  (torch.to_dlpack)
from ._names import named_inplace

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "linspace",
           "logspace", "eye", "empty_strided", "tril_indices", "triu_indices", "clone",
           "set_printoptions"]


# -- placing arrays ----------------------------------------------------------------------------

def _xp_for(dev):
    if dev.type == "cpu":
        return np
    from ..backends import cupy_backend
    return cupy_backend.load()


def _resolve_device(device):
    if device is None:
        return get_default_device()
    return to_device(device)


def _place(arr, dev):
    """Move a NumPy array onto ``dev`` (no copy on cpu)."""
    if dev.type == "cpu":
        return arr
    from ..backends import cupy_backend
    cupy_backend.check_dtype(arr.dtype)
    return cupy_backend.to_gpu(arr, dev.index)


def _dtype_arg(d):
    """A dtype argument: Python ``float``/``complex`` mean float64/complex128 here, as in
    PyTorch (not the default dtype)."""
    if d is float:
        return D.float64
    if d is complex:
        return D.complex128
    return D.to_dtype(d)


def _new(arr, requires_grad=False):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _factory(fill, size, dtype, device, requires_grad, default=None, out=None, op="empty"):
    """Build a tensor with ``fill(xp, shape, np_dtype)`` on the right device (or into out)."""
    size = _size_arg(size, op)
    if out is not None:
        dt = _dtype_arg(dtype) if dtype is not None else out.dtype
        dev = out.device
    else:
        dt = _dtype_arg(dtype) if dtype is not None else (default or D.get_default_dtype())
        dev = _resolve_device(device)
    xp = _xp_for(dev)
    if dev.type == "cuda":
        from ..backends import cupy_backend
        cupy_backend.check_dtype(dt.np, op)
        with xp.cuda.Device(dev.index):
            arr = fill(xp, size, dt.np)
    else:
        arr = fill(xp, size, dt.np)
    if out is not None:
        return _into_out(out, _new(arr), op)
    return _new(arr, requires_grad)


def _into_out(out, t, op):
    """Write a result into ``out=``, resizing out like PyTorch when the shape differs."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out.dtype is not t.dtype:
        raise RuntimeError(f"{op}: Expected out tensor to have dtype {t.dtype}, but got "
                           f"{out.dtype} instead")
    if tuple(out.shape) != tuple(t.shape):
        resize = getattr(out, "resize_", None)
        if resize is None:
            raise RuntimeError(f"{op}: out= has shape {tuple(out.shape)}, expected "
                               f"{tuple(t.shape)}")
        resize(tuple(t.shape))
    from ..autograd.grad_mode import no_grad
    with no_grad():
        copy_(out, t)
    return out


def _require_size(size, op):
    if not size:
        raise TypeError(f'{op}() missing 1 required positional arguments: "size" (pass () for '
                        "a 0-d tensor)")


def _size_arg(size, op="empty"):
    """Sizes given as varargs, one tuple/list/Size, or 0-d integer tensors."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor) and s._data.ndim == 0 and s._data.dtype.kind in "iu":
            s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, (bool, np.bool_)):
            raise TypeError(f"{op}(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__} ({size!r})")
        if s < 0:
            raise RuntimeError(f"{op}: Trying to create tensor with negative dimension {s}: "
                               f"{[int(x) for x in size]}")
        out.append(int(s))
    return tuple(out)


# -- from data ---------------------------------------------------------------------------------

_PY_SCALARS = {builtins.bool, int, float, complex}


def _scalar_dtype(x):
    """dtype of one non-sequence element of tensor()'s data."""
    t = type(x)
    if t is builtins.bool:
        return D.bool
    if t is int:
        return D.int64
    if t is float:
        return D.get_default_dtype()
    if t is complex:
        return D.get_default_dtype().to_complex()
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic)):
        return D.from_numpy_dtype(x.dtype)
    if isinstance(x, (str, bytes)):
        raise TypeError(f"tensor(): invalid data type '{t.__name__}' (new(): invalid data "
                        f"type '{t.__name__}')")
    if isinstance(x, builtins.bool | int | float | complex):     # subclasses (IntEnum, ...)
        return _scalar_dtype(t.__mro__[[c in _PY_SCALARS for c in t.__mro__].index(True)]())
    raise RuntimeError(f"Could not infer dtype of {t.__name__}")


def _is_seq(x) -> bool:
    return isinstance(x, (list, tuple, builtins.range))


def _fast_dtype(data):
    """dtype of nested lists of Python numbers, one C-level type scan per innermost list;
    None when anything else (tensors, arrays, mixed nesting) is inside."""
    types: set = set()
    stack = [data]
    while stack:
        x = stack.pop()
        ts = set(map(type, x))
        if ts & _SEQ_TYPES:
            if not ts <= _SEQ_TYPES:
                return None
            stack.extend(x)
        else:
            types |= ts
    if not types or not types <= _PY_SCALARS:
        return None
    if complex in types:
        return D.get_default_dtype().to_complex()
    if float in types:
        return D.get_default_dtype()
    if int in types:
        return D.int64
    return D.bool


_SEQ_TYPES = {list, tuple, range}


def _walk(data):
    """Shape and promoted dtype of nested data, with PyTorch's errors for ragged input."""
    shape: list = []
    dtype = [None]
    leaf_depth = [None]

    def leaf(x, depth):
        if leaf_depth[0] is None:
            leaf_depth[0] = depth
            if depth < len(shape):
                raise TypeError(f"tensor(): expected a sequence at dim {depth}, got "
                                f"{type(x).__name__} (not a sequence)")
        elif depth != leaf_depth[0]:
            if depth < leaf_depth[0]:
                raise TypeError(f"tensor(): expected a sequence at dim {depth}, got "
                                f"{type(x).__name__} (not a sequence)")
            raise TypeError(f"tensor(): expected a number at dim {leaf_depth[0]}, got a "
                            "sequence ('list' object cannot be interpreted as a number)")
        d = _scalar_dtype(x)
        dtype[0] = d if dtype[0] is None else D.promote_types(dtype[0], d)

    def visit(x, depth):
        if isinstance(x, (Tensor, np.ndarray)) and x.ndim == 0 or not (
                _is_seq(x) or isinstance(x, (np.ndarray, Tensor))):
            leaf(x, depth)
            return
        if isinstance(x, Tensor):
            if x._data.size != 1:
                raise ValueError("only one element tensors can be converted to Python scalars "
                                 f"(tensor(): got a tensor of shape {tuple(x.shape)} inside a "
                                 "sequence; stack tensors with ember.stack)")
            leaf(x, depth)
            return
        sub = tuple(x.shape) if isinstance(x, np.ndarray) else (len(x),)
        for k, n in enumerate(sub):
            dim = depth + k
            if dim == len(shape):
                if leaf_depth[0] is not None and dim >= leaf_depth[0]:
                    raise TypeError("tensor(): expected a number, got a sequence ('list' "
                                    "object cannot be interpreted as an integer)")
                shape.append(n)
            elif shape[dim] != n:
                raise ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                                 f"(got {n})")
        if isinstance(x, np.ndarray):
            if x.size == 0 and leaf_depth[0] is None:
                leaf_depth[0] = depth + x.ndim
            if x.ndim:
                leaf(x.flat[0] if x.size else x.dtype.type(0), depth + x.ndim)
                d = D.from_numpy_dtype(x.dtype)
                dtype[0] = D.promote_types(dtype[0], d)
            return
        for item in x:
            visit(item, depth + 1)

    visit(data, 0)
    return tuple(shape), dtype[0]


def _to_plain(data):
    """Nested data with tensors and arrays replaced by Python numbers and lists."""
    if isinstance(data, Tensor):
        return data.item()
    if isinstance(data, np.ndarray):
        return data.tolist() if data.dtype != D.bfloat16.np else data.astype(float).tolist()
    if _is_seq(data):
        return [_to_plain(x) for x in data]
    return data


def _from_data(data, dtype):
    """A NumPy array for tensor(data, dtype=dtype) and the dtype it gets."""
    if isinstance(data, Tensor):
        arr = data._data if type(data._data) is np.ndarray else data._data.get()
        dt = _dtype_arg(dtype) if dtype is not None else data.dtype
        return arr, dt
    if isinstance(data, (np.ndarray, np.generic)):
        dt = _dtype_arg(dtype) if dtype is not None else D.from_numpy_dtype(data.dtype)
        return np.asarray(data), dt
    if not _is_seq(data) and hasattr(data, "__array__"):          # array-likes (pandas, ...)
        arr = np.asarray(data)
        if arr.dtype != object:
            return arr, _dtype_arg(dtype) if dtype is not None else D.from_numpy_dtype(arr.dtype)
    if not _is_seq(data):
        dt = _dtype_arg(dtype) if dtype is not None else _scalar_dtype(data)
        return np.asarray(data.item() if hasattr(data, "item") and not isinstance(
            data, (int, float, complex)) else data), dt
    inferred = _fast_dtype(data)
    plain = data
    if inferred is not None:
        dt = _dtype_arg(dtype) if dtype is not None else inferred
        try:
            if dt.is_complex or not inferred.is_complex:
                return np.array(data, dtype=dt.np if dt is not D.bfloat16 else np.float64), dt
        except ValueError:
            inferred = None                      # ragged: _walk names the bad dim
    if inferred is None:
        shape, inferred = _walk(data)
        if inferred is None:                     # only empty sequences
            inferred = D.get_default_dtype()
        plain = _to_plain(data)
    dt = _dtype_arg(dtype) if dtype is not None else inferred
    if dt.is_complex or not inferred.is_complex:
        arr = np.array(plain, dtype=dt.np if dt is not D.bfloat16 else np.float64)
    else:
        arr = np.array(plain, dtype=np.complex128).real
    return arr, dt


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Args:
        data: a number, nested lists/tuples of numbers (or of one-element tensors), a NumPy
            array or a tensor. The dtype is inferred like PyTorch: bool < int64 < the default
            float dtype < complex, NumPy and tensor elements keep theirs, mixtures promote.
        dtype, device, requires_grad: of the result.

    Returns:
        A leaf tensor that owns its memory.

    Example:
        >>> import ember
        >>> ember.tensor([[1, 2.5]])
        tensor([[1.0000, 2.5000]])
        >>> ember.tensor([True, 2]).dtype
        torch.int64
    """
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        if data.is_cuda and device is None:
            device = data.device
    if data is None:
        raise RuntimeError("Could not infer dtype of NoneType")
    if not isinstance(data, Tensor) and hasattr(data, "__cuda_array_interface__"):
        from ..backends import cupy_backend
        arr = cupy_backend.load().array(data, copy=True)          # a CuPy (or Numba) array
        dt = _dtype_arg(dtype) if dtype is not None else D.from_numpy_dtype(arr.dtype)
        dev = _resolve_device(device) if device is not None else _array_device(arr)
        if dev.type == "cpu":
            return _new(np.array(arr.get(), dtype=dt.np), requires_grad)
        return _new(cupy_backend.to_gpu(arr.astype(dt.np), dev.index), requires_grad)
    if isinstance(data, Tensor) and data.is_cuda and _resolve_device(device).type == "cuda":
        dt = _dtype_arg(dtype) if dtype is not None else data.dtype
        return _new(data._data.astype(dt.np, copy=True), requires_grad)
    arr, dt = _from_data(data, dtype)
    if arr.dtype.kind == "c" and dt.np.kind != "c":
        arr = arr.real
    arr = D.cast(np, arr, dt.np) if arr.dtype != dt.np else np.array(arr, copy=True)
    return _new(_place(arr, _resolve_device(device)), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares memory with ``data`` (a tensor or NumPy array) when dtype and
    device allow; no copy warning for tensors.

    Example:
        >>> import ember, numpy as np
        >>> a = np.arange(3)
        >>> t = ember.as_tensor(a); t[0] = 7; int(a[0])
        7
    """
    if isinstance(data, Tensor):
        if (dtype is None or _dtype_arg(dtype) is data.dtype) and \
                (device is None or to_device(device) == data.device):
            return data
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray) and (device is None or to_device(device).type == "cpu"):
        arr = data if dtype is None else data.astype(_dtype_arg(dtype).np, copy=False)
        D.from_numpy_dtype(arr.dtype)
        return _new(arr)
    if hasattr(data, "__cuda_array_interface__") and device is None and dtype is None:
        from ..backends import cupy_backend
        return _new(cupy_backend.load().asarray(data))
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """Convert obj (tensor, NumPy array, buffer, scalar or sequence) to a tensor, sharing
    memory unless ``copy=True`` or dtype/device force a copy (``copy=False`` then raises).

    Example:
        >>> import ember
        >>> ember.asarray([1, 2.5])
        tensor([1.0000, 2.5000])
    """
    if copy:
        import warnings
        base = obj.detach() if isinstance(obj, Tensor) else obj
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            t = tensor(base, dtype=dtype, device=device)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
        shares = t is obj or (isinstance(obj, np.ndarray) and t._data is obj)
        if copy is False and isinstance(obj, (Tensor, np.ndarray)) and not shares:
            raise ValueError(f"asarray: can't avoid a copy (dtype {dtype}, device {device}) "
                             "with copy=False")
    if requires_grad:
        if t is obj:
            t = t.detach()
        t.requires_grad_(True)
    return t


def from_numpy(ndarray) -> Tensor:
    """A cpu tensor sharing memory with a NumPy array (writes show through both ways).

    Example:
        >>> import ember, numpy as np
        >>> a = np.zeros(2)
        >>> ember.from_numpy(a).add_(1); a
        tensor([1., 1.], dtype=torch.float64)
        array([1., 1.])
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    if not ndarray.dtype.isnative:
        raise TypeError(f"from_numpy: can't convert a byte-swapped array ({ndarray.dtype}); "
                        "use array.astype(array.dtype.newbyteorder('='))")
    return _new(ndarray)


# -- factories ---------------------------------------------------------------------------------

def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False) -> Tensor:
    """A tensor of zeros; size as varargs, a tuple/list or a Size.

    Example:
        >>> import ember
        >>> ember.zeros(2, 3, dtype=ember.int32).shape
        torch.Size([2, 3])
    """
    _require_size(size, "zeros")
    return _factory(lambda xp, s, d: xp.zeros(s, dtype=d), size, dtype, device, requires_grad,
                    out=out, op="zeros")


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False) -> Tensor:
    """A tensor of ones.

    Example:
        >>> import ember
        >>> ember.ones(2)
        tensor([1., 1.])
    """
    _require_size(size, "ones")
    return _factory(lambda xp, s, d: xp.ones(s, dtype=d), size, dtype, device, requires_grad,
                    out=out, op="ones")


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None) -> Tensor:
    """An uninitialised tensor.

    Example:
        >>> import ember
        >>> ember.empty(2, 3).shape
        torch.Size([2, 3])
    """
    _require_size(size, "empty")
    return _factory(lambda xp, s, d: xp.empty(s, dtype=d), size, dtype, device, requires_grad,
                    out=out, op="empty")


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value``; without dtype, a bool value gives bool, an int
    int64, a float the default dtype, a complex the default complex dtype.

    Example:
        >>> import ember
        >>> ember.full((2,), 7)
        tensor([7, 7])
    """
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    if isinstance(fill_value, Tensor):
        if fill_value._data.size != 1:
            raise RuntimeError(f"full: fill_value must be a number or a one-element tensor, "
                               f"got shape {tuple(fill_value.shape)}")
        fill_value = fill_value.item()
    default = D.scalar_dtype(fill_value) if dtype is None else None
    return _factory(lambda xp, s, d: xp.full(s, fill_value, dtype=d), (size,), dtype, device,
                    requires_grad, default=default, out=out, op="full")


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype,
            device if device is not None else input.device)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """zeros with input's shape, dtype and device (each overridable)."""
    dt, dev = _like(input, dtype, device)
    return zeros(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """ones with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return ones(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    """empty with input's shape, dtype and device."""
    dt, dev = _like(input, dtype, device)
    return empty(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    """full with input's shape, dtype (the value is cast to it) and device."""
    dt, dev = _like(input, dtype, device)
    return full(tuple(input.shape), fill_value, dtype=dt, device=dev,
                requires_grad=requires_grad)


def _number(v, op):
    if isinstance(v, Tensor):
        if v._data.size != 1:
            raise RuntimeError(f"{op}: expected a number or a one-element tensor, got shape "
                               f"{tuple(v.shape)}")
        return v.item(), v.dtype
    if isinstance(v, np.generic):
        return v.item(), None
    if not isinstance(v, (int, float, complex)):
        raise TypeError(f"{op}(): expected a number, got {type(v).__name__}")
    return v, None


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start to end (exclusive) by step: ``ceil((end - start) / step)`` of them.

    int64 unless a bound or the step is a float (then the default dtype).

    Example:
        >>> import ember
        >>> ember.arange(1, 2.5, 0.5)
        tensor([1.0000, 1.5000, 2.0000])
    """
    if end is None:
        start, end = 0, start
    vals = [_number(v, "arange") for v in (start, end, step)]
    start, end, step = (v for v, _ in vals)
    if builtins.any(isinstance(v, complex) for v in (start, end, step)):
        raise RuntimeError("arange: complex start, end or step is not supported")
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not all(math.isfinite(v) for v in (start, end)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_float = builtins.any(isinstance(v, float) or (d is not None and d.is_floating_point)
                                for v, d in vals)
        dt = D.get_default_dtype() if is_float else D.int64
    else:
        dt = _dtype_arg(dtype)
    n = builtins.max(0, math.ceil((end - start) / step))
    int_math = dt.np.kind in "iu" and all(isinstance(v, int) for v in (start, end, step))

    def fill(xp, size, d):
        # start + i * step in float64 (int64 for integer bounds), then cast, like PyTorch.
        if int_math:
            return (start + xp.arange(n, dtype=np.int64) * step).astype(d)
        return (start + xp.arange(n, dtype=np.float64) * step).astype(d)

    return _factory(fill, (n,), dt, device, requires_grad, out=out, op="arange")


def _range_dtype(dtype, *values):
    if dtype is not None:
        return _dtype_arg(dtype)
    if builtins.any(isinstance(v, complex) for v in values):
        return D.get_default_dtype().to_complex()
    return D.get_default_dtype()


def _linspace_values(xp, start, end, steps, work):
    """PyTorch's two-sided linspace: the first half counts up from start, the second half
    down from end, so both ends are exact."""
    if steps == 1:
        return xp.asarray([start], dtype=work)
    i = xp.arange(steps, dtype=work)
    step = (work(end) - work(start)) / (steps - 1) if isinstance(work, type) else \
        (end - start) / (steps - 1)
    half = steps // 2
    up = work(start) + step * i
    down = work(end) - step * (steps - 1 - i)
    return xp.where(xp.arange(steps) < half, up, down)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` values evenly spaced from start to end (both included).

    Example:
        >>> import ember
        >>> ember.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    start, _ = _number(start, "linspace")
    end, _ = _number(end, "linspace")
    steps = _steps(steps, "linspace")
    dt = _range_dtype(dtype, start, end)
    work = np.complex128 if dt.is_complex else np.float64
    if dt.is_floating_point and dt.np == np.float32:
        work = np.float32

    def fill(xp, size, d):
        if steps == 0:
            return xp.zeros(0, dtype=d)
        return _linspace_values(xp, start, end, steps, work).astype(d)

    return _factory(fill, (steps,), dt, device, requires_grad, out=out, op="linspace")


def _steps(steps, op):
    if isinstance(steps, Tensor):
        steps = int(steps.item())
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative, got {steps}")
    return int(steps)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """``steps`` values from base**start to base**end, evenly spaced in the exponent.

    Example:
        >>> import ember
        >>> ember.logspace(0, 2, 3)
        tensor([  1.,  10., 100.])
    """
    start, _ = _number(start, "logspace")
    end, _ = _number(end, "logspace")
    steps = _steps(steps, "logspace")
    dt = _range_dtype(dtype, start, end)
    work = np.complex128 if dt.is_complex else np.float64

    def fill(xp, size, d):
        if steps == 0:
            return xp.zeros(0, dtype=d)
        return xp.power(work(base), _linspace_values(xp, start, end, steps, work)).astype(d)

    return _factory(fill, (steps,), dt, device, requires_grad, out=out, op="logspace")


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None,
        requires_grad=False) -> Tensor:
    """An n x m matrix (m defaults to n) with ones on the diagonal.

    Example:
        >>> import ember
        >>> ember.eye(2, 3, dtype=ember.int64)
        tensor([[1, 0, 0],
                [0, 1, 0]])
    """
    n = int(n)
    m = n if m is None else int(m)
    if n < 0:
        raise RuntimeError(f"eye: n must be greater or equal to 0, got {n}")
    if m < 0:
        raise RuntimeError(f"eye: m must be greater or equal to 0, got {m}")
    return _factory(lambda xp, s, d: xp.eye(n, m, dtype=d), (n, m), dtype, device,
                    requires_grad, out=out, op="eye")


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """An uninitialised tensor with the given strides (in elements).

    Example:
        >>> import ember
        >>> ember.empty_strided((2, 3), (1, 2)).stride()
        (1, 2)
    """
    size = _size_arg((size,), "empty_strided")
    stride = tuple(int(s) for s in stride)
    if len(stride) != len(size):
        raise RuntimeError(f"empty_strided: mismatch in length of strides and shape (size "
                           f"{list(size)}, stride {list(stride)})")
    if builtins.any(s < 0 for s in stride):
        raise RuntimeError(f"empty_strided: strides must be non-negative, got {list(stride)}")
    numel = 0 if 0 in size else 1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))
    dt = _dtype_arg(dtype) if dtype is not None else D.get_default_dtype()
    dev = _resolve_device(device)
    xp = _xp_for(dev)
    if dev.type == "cuda":
        from ..backends import cupy_backend
        cupy_backend.check_dtype(dt.np, "empty_strided")
        with xp.cuda.Device(dev.index):
            buf = xp.empty(numel, dtype=dt.np)
    else:
        buf = np.empty(numel, dtype=dt.np)
    item = dt.itemsize
    if dev.type == "cuda":
        arr = xp.lib.stride_tricks.as_strided(buf, size, tuple(s * item for s in stride))
    else:
        arr = np.lib.stride_tricks.as_strided(buf, size, tuple(s * item for s in stride),
                                              writeable=True)
    return _new(arr, requires_grad)


def _tri_indices(op, row, col, offset, dtype, device, lower):
    row, col, offset = int(row), int(col), int(offset)
    if row < 0:
        raise RuntimeError(f"{op}: row must be non-negative, got {row}")
    if col < 0:
        raise RuntimeError(f"{op}: col must be non-negative, got {col}")
    dt = _dtype_arg(dtype) if dtype is not None else D.int64
    if dt.np.kind not in "iu":
        raise RuntimeError(f"{op}: \"{op}\" not implemented for '{dt}' (dtype must be an "
                           "integer type)")
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    arr = np.stack([r, c]).astype(dt.np).reshape(2, -1)
    return _new(_place(np.ascontiguousarray(arr), _resolve_device(device)))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """(2, N) row/column indices of the lower triangle of a row x col matrix, row-major.

    Example:
        >>> import ember
        >>> ember.tril_indices(3, 3)
        tensor([[0, 1, 1, 2, 2, 2],
                [0, 0, 1, 0, 1, 2]])
    """
    return _tri_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """(2, N) row/column indices of the upper triangle of a row x col matrix, row-major.

    Example:
        >>> import ember
        >>> ember.triu_indices(2, 3)
        tensor([[0, 0, 0, 1, 1],
                [0, 1, 2, 1, 2]])
    """
    return _tri_indices("triu_indices", row, col, offset, dtype, device, False)


# -- conversion ops ----------------------------------------------------------------------------

class ToCopy(Op):
    """Cast and/or move: the op behind .to(), .float(), .cuda(), ..."""
    name = "to"

    @staticmethod
    def forward(ctx, x, *, dtype, device):
        ctx.src_dtype = x.dtype
        ctx.src_device = _array_device(x)
        out = x
        if device is not None and device != ctx.src_device:
            if device.type == "cpu":
                out = out.get()
            elif ctx.src_device.type == "cpu":
                from ..backends import cupy_backend
                out = cupy_backend.to_gpu(out, device.index)
            else:
                from ..backends import cupy_backend
                out = cupy_backend.to_gpu(out, device.index)
        if dtype is not None and out.dtype != dtype:
            if out.dtype.kind == "c" and np.dtype(dtype).kind != "c":
                out = out.real
            out = D.cast(ctx.xp, out, dtype)        # (float8 targets: PyTorch's saturation)
        if out is x:
            out = x.copy()
        return out

    @staticmethod
    def backward(ctx, grad):
        g = grad
        if grad._data.dtype.kind == "c" and ctx.src_dtype.kind != "c":
            g = g.real
        return apply(ToCopy, g, dtype=ctx.src_dtype, device=ctx.src_device)


def _array_device(arr):
    from .._device import device_of
    return device_of(arr)


def _is_dtype_arg(a) -> bool:
    return isinstance(a, D.dtype) or a is float or a is int or a is builtins.bool or \
        a is complex


def _parse_to(args, kwargs):
    """to(dtype), to(device, dtype), to(tensor), each with optional non_blocking and copy
    (positional or keyword)."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: unexpected "
                        f"keyword arguments {list(kwargs)}")
    flags = []
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif _is_dtype_arg(a):
            dtype = a
        elif isinstance(a, builtins.bool):
            flags.append(a)                    # non_blocking, then copy
        elif a is None:
            continue
        elif (isinstance(a, (str, int)) or hasattr(a, "type") and hasattr(a, "index")) \
                and device is None and dtype is None:
            device = a
        else:
            raise TypeError(f"to() received an invalid combination of arguments: got "
                            f"{tuple(type(x).__name__ for x in args)}; expected (device, dtype), "
                            "(dtype) or (tensor), each with optional non_blocking and copy")
    if len(flags) > 1:
        copy = copy or flags[1]
    return (_dtype_arg(dtype) if dtype is not None else None,
            to_device(device) if device is not None else None, copy)


def to(input, *args, **kwargs):
    """Cast to a dtype and/or move to a device; returns self when nothing changes."""
    dtype, device, copy = _parse_to(args, dict(kwargs))
    same_dtype = dtype is None or dtype.np == input._data.dtype
    same_device = device is None or device == input.device
    if same_dtype and same_device and not copy:
        return input
    return apply(ToCopy, input, dtype=None if dtype is None else dtype.np,
                 device=None if same_device else device)


class Clone(Op):
    name = "clone"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input, *, memory_format=None):
    """A copy with its own memory, differentiable."""
    return apply(Clone, input)


class Copy(Op):
    """dst.copy_(src): src broadcast and cast to dst's shape and dtype."""
    name = "copy"

    @staticmethod
    def forward(ctx, dst, src):
        ctx.src_dtype = getattr(src, "dtype", None)
        xp = ctx.xp
        if type(src) is not type(dst) and not isinstance(src, (int, float, complex)):
            src = src.get() if type(dst) is np.ndarray else xp.asarray(src)
        try:
            if dst.dtype.kind != "c" and getattr(src, "dtype", np.dtype("f")).kind == "c":
                src = xp.asarray(src).real
            out = xp.broadcast_to(D.cast(xp, xp.asarray(src), dst.dtype), dst.shape)
        except ValueError:
            from .._errors import broadcast_error
            raise broadcast_error("copy_", dst.shape, getattr(src, "shape", ())) from None
        return out.copy()

    @staticmethod
    def backward(ctx, grad):
        from ._broadcast import sum_to
        need = ctx.needs_input_grad
        # The old values of dst are overwritten: their gradient is zero (PyTorch's rule).
        g_dst = zeros_like(grad) if need[0] else None
        g_src = None
        if len(need) > 1 and need[1]:
            g_src = sum_to(grad, ctx.in_shapes[1])
            if ctx.src_dtype is not None and g_src._data.dtype != ctx.src_dtype:
                if g_src._data.dtype.kind == "c" and ctx.src_dtype.kind != "c":
                    g_src = g_src.real
                g_src = apply(ToCopy, g_src, dtype=ctx.src_dtype, device=None)
        return g_dst, g_src


def copy_(self, src, non_blocking=False):
    """Copy src (broadcast, cast, moved across devices) into self; returns self."""
    if not isinstance(src, Tensor):
        src = tensor(src, dtype=self.dtype, device=self.device)
    elif src.device != self.device:
        src = src.to(self.device)
    if src.is_complex() and not self.is_complex():
        import warnings
        warnings.warn("Casting complex values to real discards the imaginary part",
                      UserWarning, stacklevel=2)
    return named_inplace(Copy, self, "torch::autograd::CopyBackwards", src)


def fill_(self, value):
    """Fill with a number (or a one-element tensor); returns self."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value._data.ndim} dimensions.")
    # PyTorch's overloads: fill_.Scalar is FillBackward2, fill_.Tensor FillBackward3
    return named_inplace(Copy, self, "FillBackward3" if isinstance(value, Tensor) else
                         "FillBackward2", value)


def zero_(self):
    return named_inplace(Copy, self, "ZeroBackward0", 0)


# -- methods -----------------------------------------------------------------------------------

def _cast(dtype):
    def method(self, memory_format=None):
        return to(self, dtype)
    return method


def _type(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return f"torch.{'cuda.' if self.is_cuda else ''}{_LEGACY[self.dtype.name]}Tensor"
    from .._tensortype import tensortype
    if isinstance(dtype, tensortype):
        dtype = f"{dtype.__module__}.{dtype.__name__}"
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1].replace("Tensor", "")
        inv = {v: k for k, v in _LEGACY.items()}
        if name not in inv:
            raise ValueError(f"invalid type: '{dtype}'")
        t = to(self, _dtype_arg(inv[name]))
        return t.cuda() if ".cuda." in dtype else t
    return to(self, dtype)


_LEGACY = D.LEGACY_NAMES


def _cpu(self, memory_format=None):
    return to(self, CPU)


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to(self, device)


def _pinned_root(arr):
    """The pinned host allocation an array views, or None."""
    while isinstance(arr, np.ndarray):
        arr = arr.base
    return arr if type(arr).__name__ == "PinnedMemoryPointer" else None


def is_pinned(self, device=None) -> bool:
    """Whether the data is in page-locked host memory (from ``pin_memory()``)."""
    from ..backends import cupy_backend
    return (type(self._data) is np.ndarray and cupy_backend.initialized()
            and _pinned_root(self._data) is not None)


def pin_memory(self, device=None):
    """A copy in page-locked host memory (CuPy's pinned allocator), so ``.to('cuda',
    non_blocking=True)`` can overlap with compute; self when already pinned. Needs CUDA."""
    from ..backends import cupy_backend
    if type(self._data) is not np.ndarray:
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    if not cupy_backend.available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if is_pinned(self):
        return self
    if self._rg:
        raise RuntimeError("pin_memory: ember pins tensors that do not require grad (pin the "
                           "data, e.g. x.detach().pin_memory())")
    import cupyx
    cupy_backend.load()
    pinned = cupyx.empty_pinned(self._data.shape, dtype=self._data.dtype)
    pinned[...] = self._data
    return Tensor._make(pinned)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    return tensor(data.detach() if isinstance(data, Tensor) else data,
                  dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def _new_factory(fn):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                requires_grad=requires_grad)


TENSOR_METHODS = {
    "to": to, "clone": clone, "copy_": copy_, "fill_": fill_, "zero_": zero_,
    "cpu": _cpu, "cuda": _cuda, "type": _type, "pin_memory": pin_memory,
    "is_pinned": is_pinned,
    "float": _cast(D.float32), "double": _cast(D.float64), "half": _cast(D.float16),
    "bfloat16": _cast(D.bfloat16), "int": _cast(D.int32), "long": _cast(D.int64),
    "short": _cast(D.int16), "char": _cast(D.int8), "byte": _cast(D.uint8),
    "bool": _cast(D.bool), "cfloat": _cast(D.complex64), "cdouble": _cast(D.complex128),
    "new_tensor": _new_tensor, "new_zeros": _new_factory(zeros), "new_ones": _new_factory(ones),
    "new_empty": _new_factory(empty), "new_full": _new_full,
    "type_as": lambda self, other: to(self, other.dtype),
}


# -- more factories: frombuffer, scalar_tensor, empty_permuted, range, vander -------------------

def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False) -> Tensor:
    """A 1-D tensor over an object that exposes the buffer protocol, sharing its memory.

    Args:
        buffer: bytes, bytearray, memoryview, array.array, mmap, ...
        dtype: the element type (required).
        count: number of elements to read (-1: up to the end).
        offset: bytes to skip at the start.

    Returns:
        A cpu tensor; writes to it change the buffer. A read-only buffer gives a warning like
        PyTorch's and a tensor that cannot be written.

    Example:
        >>> import ember
        >>> buf = bytearray(8)
        >>> t = ember.frombuffer(buf, dtype=ember.int32)
        >>> t[0] = 7
        >>> buf[0]
        7
    """
    import warnings
    dt = _dtype_arg(dtype)
    length = memoryview(buffer).nbytes
    itemsize = dt.np.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if offset < 0 or offset >= length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % itemsize != 0:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({itemsize})")
        count = (length - offset) // itemsize
    elif offset + count * itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    arr = np.frombuffer(buffer, dtype=dt.np, count=count, offset=offset)
    if not arr.flags.writeable:
        warnings.warn("The given buffer is not writable, and PyTorch does not support "
                      "non-writable tensors. This means you can write to the underlying "
                      "(supposedly non-writable) buffer using the tensor. You may want to copy "
                      "the buffer to protect its data or make it writable before converting it "
                      "to a tensor.", UserWarning, stacklevel=2)
    return _new(arr, requires_grad)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False) -> Tensor:
    """A 0-d tensor holding the number s (default dtype unless dtype is given).

    Example:
        >>> import ember
        >>> ember.scalar_tensor(3)
        tensor(3.)
    """
    if isinstance(s, Tensor):
        s = s.item()
    return full((), s, dtype=dtype if dtype is not None else D.get_default_dtype(),
                device=device, requires_grad=requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False) -> Tensor:
    """An uninitialised tensor of logical shape ``size`` whose memory runs in the order of
    ``physical_layout`` (outermost dim first): ``empty_permuted((N, C, H, W), (0, 2, 3, 1))``
    is channels-last.

    Example:
        >>> import ember
        >>> ember.empty_permuted((2, 3, 4), (0, 2, 1)).stride()
        (12, 1, 3)
    """
    size = _size_arg((size,), "empty_permuted")
    layout_dims = tuple(int(d) for d in physical_layout)
    if len(size) != len(layout_dims):
        raise RuntimeError("Number of dimensions in size does not match the length of the "
                           f"physical_layout; i.e. len(size) = {len(size)} is not equal to "
                           f"len(physical_layout) = {len(layout_dims)}")
    if sorted(layout_dims) != list(builtins.range(len(size))):
        raise RuntimeError(f"empty_permuted: physical_layout {layout_dims} is not a "
                           f"permutation of the dims 0..{len(size) - 1}")
    physical = empty(tuple(size[d] for d in layout_dims), dtype=dtype, device=device)
    inverse = [0] * len(layout_dims)
    for i, d in enumerate(layout_dims):
        inverse[d] = i
    out = physical.permute(*inverse) if inverse else physical
    if requires_grad:
        out = out.detach().requires_grad_(True)
    return out


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False) -> Tensor:
    """Deprecated: values from start to end inclusive by step (``floor((end - start) / step)
    + 1`` of them), in the default float dtype. Use ``arange`` (end excluded).

    Example:
        >>> import warnings, ember
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     ember.range(1, 4)
        tensor([1., 2., 3., 4.])
    """
    import warnings
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    vals = [_number(v, "range") for v in (start, end, step)]
    start, end, step = (v for v, _ in vals)
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    if not all(math.isfinite(v) for v in (start, end)):
        raise RuntimeError(f"range: unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dt = _dtype_arg(dtype) if dtype is not None else D.get_default_dtype()
    n = int(math.floor((end - start) / step)) + 1

    def fill(xp, size, d):
        return (start + xp.arange(n, dtype=np.float64) * step).astype(d)

    return _factory(fill, (n,), dt, device, requires_grad, out=out, op="range")


def vander(x, N=None, increasing=False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor: columns x**(N-1), ..., x**0 (reversed when
    ``increasing``). Integer and bool inputs give int64, like PyTorch.

    Example:
        >>> import ember
        >>> ember.vander(ember.tensor([1, 2, 3]), N=3).tolist()
        [[1, 1, 1], [4, 2, 1], [9, 3, 1]]
    """
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x.dtype.np.kind in "biu":
        x = x.to(D.int64)
    if n == 0:
        return x.new_empty((x.shape[0], 0))
    # products of repeated x (a cumulative product) keep the gradient exact at x = 0
    ones = x.new_ones((x.shape[0], 1))
    if n == 1:
        result = ones
    else:
        from .reduce import cumprod
        from .shape import cat
        powers = cumprod(x.unsqueeze(1).expand(x.shape[0], n - 1), 1)
        result = cat([ones, powers], 1)
    return result if increasing else result.flip(1)


def view_as_real_copy(input, *, out=None) -> Tensor:
    """A copy of ``view_as_real(input)`` (shares no memory).

    Example:
        >>> import ember
        >>> ember.view_as_real_copy(ember.tensor([1 + 2j])).tolist()
        [[1.0, 2.0]]
    """
    from .scatter_views import view_as_real
    result = clone(view_as_real(input))
    return result if out is None else _into_out(out, result, "view_as_real_copy")


def view_as_complex_copy(input, *, out=None) -> Tensor:
    """A copy of ``view_as_complex(input)`` (shares no memory).

    Example:
        >>> import ember
        >>> ember.view_as_complex_copy(ember.tensor([[1.0, 2.0]])).tolist()
        [(1+2j)]
    """
    from .scatter_views import view_as_complex
    result = clone(view_as_complex(input))
    return result if out is None else _into_out(out, result, "view_as_complex_copy")


# torch.<name> functions that are the Tensor methods of other modules (torch.detach(t) is
# t.detach()); they dispatch through the method so each stays defined once.
def _method_call(method_name):
    def fn(input, *args, **kwargs):
        return getattr(input, method_name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = method_name
    fn.__doc__ = f"torch.{method_name}(input, ...) is input.{method_name}(...)."
    return fn


detach = _method_call("detach")
detach_ = _method_call("detach_")
get_device = _method_call("get_device")
resize_as_ = _method_call("resize_as_")
as_strided_ = _method_call("as_strided_")
addmv_ = _method_call("addmv_")


def fill(input, value) -> Tensor:
    """A new tensor of input's shape and dtype filled with value (out-of-place fill_).

    Example:
        >>> import ember
        >>> ember.fill(ember.zeros(2), 3.0)
        tensor([3., 3.])
    """
    return fill_(clone(input), value)


__all__ += ["frombuffer", "scalar_tensor", "empty_permuted", "range", "vander",
            "view_as_real_copy", "view_as_complex_copy", "to_dlpack", "fill", "fill_", "zero_",
            "detach", "detach_", "get_device", "resize_as_", "as_strided_", "addmv_"]
