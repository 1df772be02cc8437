"""Tensor creation and conversion: tensor, zeros, ones, full, arange, to, clone, copy_."""

from __future__ import annotations

import builtins

import numpy as np

from .. import _dtype as D
from .._device import CPU, get_default_device, to_device
from .._dispatch import Op, apply, apply_inplace
from .._tensor import Tensor

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like", "arange", "clone"]


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
    return cupy_backend.to_gpu(arr, dev.index)


def _new(arr, requires_grad=False):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _factory(fill, size, dtype, device, requires_grad, default=None):
    size = _size_arg(size)
    dt = D.to_dtype(dtype) if dtype is not None else (default or D.get_default_dtype())
    dev = _resolve_device(device)
    xp = _xp_for(dev)
    if dev.type == "cuda":
        with xp.cuda.Device(dev.index):
            arr = fill(xp, size, dt.np)
    else:
        arr = fill(xp, size, dt.np)
    return _new(arr, requires_grad)


def _size_arg(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"expected a sequence of integers as the size, got {size!r}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


# -- from data ---------------------------------------------------------------------------------

def _infer_dtype(data):
    """PyTorch's dtype for nested Python data: bool < int64 < default float < complex."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.ndarray):
        return D.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        return D.from_numpy_dtype(data.dtype)
    if isinstance(data, builtins.bool):
        return D.bool
    if isinstance(data, int):
        return D.int64
    if isinstance(data, float):
        return D.get_default_dtype()
    if isinstance(data, complex):
        return D.get_default_dtype().to_complex()
    if isinstance(data, (list, tuple)):
        best = None
        for x in data:
            d = _infer_dtype(x)
            if best is None or d._category > best._category or \
                    (isinstance(x, (Tensor, np.ndarray)) and d._category == best._category and
                     d is not best):
                best = d if best is None or d._category >= best._category else best
        return best or D.get_default_dtype()
    if hasattr(data, "__array__") or hasattr(data, "__array_interface__"):
        return D.from_numpy_dtype(np.asarray(data).dtype)
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _to_numpy(data, dt):
    if isinstance(data, Tensor):
        return data._data if type(data._data) is np.ndarray else data._data.get()
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, Tensor) for x in _flat_items(data)):
            data = _tensors_to_lists(data)
        try:
            return np.array(data, dtype=dt.np)
        except ValueError as e:
            raise ValueError(f"tensor(): nested sequences of different lengths ({e})") from None
    return np.asarray(data)


def _flat_items(data):
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        else:
            yield x


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        if data._data.size != 1 and data._data.ndim != 0:
            return data.tolist()
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors).

    Example:
        >>> import ember
        >>> ember.tensor([[1.0, 2.0]])
        tensor([[1., 2.]])
    """
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    dt = D.to_dtype(dtype) if dtype is not None else _infer_dtype(data)
    if dtype is None and isinstance(data, Tensor):
        dev = data.device if device is None else _resolve_device(device)
    else:
        dev = _resolve_device(device)
    if isinstance(data, Tensor) and data.is_cuda and dev.type == "cuda":
        arr = data._data.astype(dt.np, copy=True)
    else:
        arr = np.array(_to_numpy(data, dt), dtype=dt.np, copy=True)
        arr = _place(arr, dev)
    return _new(arr, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with ``data`` when dtype and device allow."""
    if isinstance(data, Tensor):
        if (dtype is None or D.to_dtype(dtype) is data.dtype) and \
                (device is None or to_device(device) == data.device):
            return data
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray) and (device is None or to_device(device).type == "cpu"):
        arr = data if dtype is None else data.astype(D.to_dtype(dtype).np, copy=False)
        D.from_numpy_dtype(arr.dtype)
        return _new(arr)
    if hasattr(data, "__cuda_array_interface__") and device is None and dtype is None:
        from ..backends import cupy_backend
        return _new(cupy_backend.load().asarray(data))
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    if copy:
        t = tensor(obj.detach() if isinstance(obj, Tensor) else obj, dtype=dtype, device=device)
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray) -> Tensor:
    """A cpu tensor sharing memory with a NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array  with array.copy().) ")
    return _new(ndarray)


# -- factories ---------------------------------------------------------------------------------

def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """A tensor of zeros."""
    return _factory(lambda xp, s, d: xp.zeros(s, dtype=d), size, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """A tensor of ones."""
    return _factory(lambda xp, s, d: xp.ones(s, dtype=d), size, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    """An uninitialised tensor."""
    return _factory(lambda xp, s, d: xp.empty(s, dtype=d), size, dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False):
    """A tensor filled with ``fill_value`` (its dtype follows the value when not given)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    default = D.scalar_dtype(fill_value) if dtype is None else None
    return _factory(lambda xp, s, d: xp.full(s, fill_value, dtype=d), (size,), dtype, device,
                    requires_grad, default=default)


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype,
            device if device is not None else input.device)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dt, dev = _like(input, dtype, device)
    return zeros(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dt, dev = _like(input, dtype, device)
    return ones(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dt, dev = _like(input, dtype, device)
    return empty(input.shape, dtype=dt, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dt, dev = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values from start to end (exclusive) by step; int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    if dtype is None:
        is_float = builtins.any(isinstance(v, float) or isinstance(v, np.floating) for v in vals)
        dt = D.get_default_dtype() if is_float else D.int64
    else:
        dt = D.to_dtype(dtype)
    import math
    n = builtins.max(0, math.ceil((end - start) / step))

    def fill(xp, size, d):
        # Computed in float64/int64 then cast, like PyTorch (start + i * step).
        base = xp.arange(n, dtype=np.float64 if dt.is_floating_point or
                         builtins.any(isinstance(v, float) for v in vals) else np.int64)
        return (start + base * step).astype(d)

    return _factory(fill, (n,), dt, device, requires_grad)


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
            out = out.astype(dtype)
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


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, D.dtype) or a in (float, int, builtins.bool) or isinstance(a, str) and a.startswith("torch.") and a[6:] in D._BY_NAME:
            dtype = a
        elif a is None or isinstance(a, builtins.bool):
            continue
        else:
            device = a
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {list(kwargs)}")
    return (D.to_dtype(dtype) if dtype is not None else None,
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
            out = xp.broadcast_to(xp.asarray(src, dtype=dst.dtype)
                                  if not (dst.dtype.kind != "c" and
                                          getattr(src, "dtype", np.dtype("f")).kind == "c")
                                  else xp.asarray(src).real.astype(dst.dtype), dst.shape)
        except ValueError:
            from .._errors import broadcast_error
            raise broadcast_error("copy_", dst.shape, getattr(src, "shape", ())) from None
        return out.copy()

    @staticmethod
    def backward(ctx, grad):
        from ._broadcast import sum_to
        g_src = sum_to(grad, ctx.in_shapes[1])
        if ctx.src_dtype is not None and g_src._data.dtype != ctx.src_dtype:
            g_src = apply(ToCopy, g_src, dtype=ctx.src_dtype, device=None)
        return None, g_src


def copy_(self, src, non_blocking=False):
    """Copy src (broadcast, cast, moved across devices) into self; returns self."""
    if not isinstance(src, Tensor):
        src = tensor(src, dtype=self.dtype, device=self.device)
    elif src.device != self.device:
        src = src.to(self.device)
    return apply_inplace(Copy, self, src)


def fill_(self, value):
    """Fill with a number (or a one-element tensor); returns self."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value._data.ndim} dimensions.")
    return apply_inplace(Copy, self, value)


def zero_(self):
    return apply_inplace(Copy, self, 0)


# -- methods -----------------------------------------------------------------------------------

def _cast(dtype):
    def method(self, memory_format=None):
        return to(self, dtype)
    return method


def _type(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return f"torch.{'cuda.' if self.is_cuda else ''}{_LEGACY[self.dtype.name]}Tensor"
    if isinstance(dtype, str):
        name = dtype.rsplit(".", 1)[-1].replace("Tensor", "")
        inv = {v: k for k, v in _LEGACY.items()}
        if name not in inv:
            raise ValueError(f"invalid type: '{dtype}'")
        t = to(self, D.to_dtype(inv[name]))
        return t.cuda() if ".cuda." in dtype else t
    return to(self, dtype)


_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
           "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _cpu(self, memory_format=None):
    return to(self, CPU)


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to(self, device)


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
    "cpu": _cpu, "cuda": _cuda, "type": _type,
    "float": _cast(D.float32), "double": _cast(D.float64), "half": _cast(D.float16),
    "bfloat16": _cast(D.bfloat16), "int": _cast(D.int32), "long": _cast(D.int64),
    "short": _cast(D.int16), "char": _cast(D.int8), "byte": _cast(D.uint8),
    "bool": _cast(D.bool), "cfloat": _cast(D.complex64), "cdouble": _cast(D.complex128),
    "new_tensor": _new_tensor, "new_zeros": _new_factory(zeros), "new_ones": _new_factory(ones),
    "new_empty": _new_factory(empty), "new_full": _new_full,
    "type_as": lambda self, other: to(self, other.dtype),
}
