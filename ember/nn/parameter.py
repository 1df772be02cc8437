"""Parameter and Buffer: tensors that a Module registers when assigned as attributes."""

from __future__ import annotations

from .. import _dispatch
from .._tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer",
           "is_lazy"]


class Parameter(Tensor):
    """A tensor that is a module parameter: it requires grad by default and is listed by
    ``Module.parameters()`` when assigned as a module attribute. It shares memory with the
    tensor it wraps.

    Example:
        >>> import ember
        >>> p = ember.nn.Parameter(ember.zeros(2))
        >>> p.requires_grad
        True
    """

    _is_param = True

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        p._data = data._data
        p._rg = False
        p.grad_fn = None
        if data._vc is not None:
            p._vc = data._vc
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __init__(self, data=None, requires_grad: bool = True):
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (Tensor._make(self._data).__reduce_ex__(protocol),
                                     self._rg))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy()), self._rg)
        memo[id(self)] = result
        return result


def _rebuild_parameter(reduced, requires_grad):
    fn, args = reduced
    return Parameter(fn(*args), requires_grad)


_dispatch._TENSOR_TYPES.add(Parameter)


class _BufferMeta(type):
    # As in PyTorch, Buffer(...) returns a plain Tensor marked ``_is_buffer``; isinstance
    # recognises it by that mark.
    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and instance.__dict__.get("_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor as a module buffer when assigned (``self.x = nn.Buffer(t)``).

    Returns a plain tensor sharing memory with ``data`` (detached, same requires_grad) that
    ``isinstance(t, nn.Buffer)`` recognises; the module stores that tensor itself.
    ``persistent=False`` keeps it out of ``state_dict``.

    Example:
        >>> import ember
        >>> m = ember.nn.Module()
        >>> m.steps = ember.nn.Buffer(ember.zeros(()), persistent=False)
        >>> list(m.buffers()), list(m.state_dict())
        ([tensor(0.)], [])
    """

    def __new__(cls, data=None, *, persistent: bool = True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        t = data.detach()
        if data.requires_grad:
            t.requires_grad_(True)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (lazy modules materialize it on first use)."""

    def __new__(cls, requires_grad: bool = True, device=None, dtype=None):
        from ..ops.creation import empty
        p = Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)
        p._lazy_dtype, p._lazy_device = dtype, device
        return p

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Give the parameter a shape (uninitialised values) and turn it into a Parameter."""
        from ..ops.creation import empty
        t = empty(*shape, device=device or self._lazy_device, dtype=dtype or self._lazy_dtype)
        self._data = t._data
        self.__class__ = Parameter

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet."""

    def __new__(cls, requires_grad: bool = False, device=None, dtype=None):
        from ..ops.creation import empty
        t = empty(0, device=device, dtype=dtype)
        b = object.__new__(cls)
        b._data, b._rg, b.grad_fn = t._data, False, None
        return b

    def materialize(self, shape, device=None, dtype=None):
        from ..ops.creation import empty
        self._data = empty(*shape, device=device, dtype=dtype)._data
        self.__class__ = Tensor


_dispatch._TENSOR_TYPES.add(UninitializedParameter)


def is_lazy(param) -> bool:
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
