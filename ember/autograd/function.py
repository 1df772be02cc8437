"""Custom autograd functions: ``Function``, its ``ctx`` and ``once_differentiable``.

A ``Function`` subclass defines ``forward`` and ``backward`` as staticmethods. ``MyFn.apply``
runs ``forward`` with grad mode off and, when an input requires grad, records one graph node
of class ``MyFnBackward``. That node is also the ``ctx`` that ``forward`` and ``backward``
receive, and it is an ordinary ``Node`` of the engine (next_nodes, next_nrs, _n_out, saved
tensors, hooks), so retain_graph, hooks, anomaly mode and double backward behave as they do for
built-in ops.

Note [Custom function outputs]
    Tensors returned by forward get the node as grad_fn, numbered by their position in the
    returned tuple (non-tensor outputs keep their number and always receive None). An input
    returned unchanged comes back as a new tensor that aliases it (shares memory and version
    counter), as PyTorch's ``view_as`` does, so the input's own history is untouched. An input
    marked dirty is returned as the same object, and its history is rebased onto the node.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from .. import _dispatch
from .._device import xp_of
from .._dispatch import Node, _rebase_history, _refresh_view, grad_edge, version_counter
from .._dispatch import Op as _Op
from .grad_mode import flags as _anomaly_flags
from .grad_mode import state as _grad_state

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


class FunctionCtx:
    """What ``forward`` (or ``setup_context``) uses to pass information to ``backward``."""

    def save_for_backward(self, *tensors) -> None:
        """Save tensors (or None) for backward; read them back with ``ctx.saved_tensors``.

        Saved tensors are version-checked: modifying one in place before backward is an error.
        """
        Tensor = _dispatch._Tensor
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Saved for forward-mode AD (jvp), which ember does not implement; kept for API parity."""
        self.saved_for_forward = tensors

    def mark_dirty(self, *args) -> None:
        """Mark inputs that forward modified in place; they must be returned as outputs."""
        self.dirty_tensors = args

    def mark_non_differentiable(self, *args) -> None:
        """Mark outputs that get no gradient (backward still receives a zero grad for them)."""
        self.non_differentiable = args

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (instead of zeros) for outputs not used."""
        self.materialize_grads = bool(value)

    def mark_shared_storage(self, *pairs) -> None:
        raise RuntimeError("mark_shared_storage is deprecated. Tensors with shared storages are "
                           "automatically tracked.")


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of one ``Function.apply`` call; it is the ``ctx`` of that call."""

    __slots__ = ()
    _forward_cls = None
    # ctx defaults (per call, they land in the instance __dict__ when set).
    to_save = ()
    dirty_tensors = ()
    non_differentiable = ()
    materialize_grads = True

    def name(self) -> str:
        return type(self).__name__

    @property
    def needs_input_grad(self) -> tuple:
        """One bool per positional argument of apply: does it need a gradient?"""
        return self._needs_input_grad

    def apply(self, *grads):
        """Run this node's backward on gradients of its outputs."""
        return _FunctionOp.backward(self, *grads)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{self.name()} object at {hex(id(self))}>"


class _FunctionOp(_Op):
    """The ``op`` of every custom-function node: wraps the user's backward with PyTorch's
    checks (number, shape, dtype and device of the returned gradients)."""

    name = "custom_function"

    @staticmethod
    def backward(ctx, *grads):
        cls = ctx._forward_cls
        if ctx.materialize_grads:
            grads = _materialize(ctx, grads)
        backward_fn = cls.backward
        vjp_fn = cls.vjp
        base_backward = Function.__dict__["backward"].__func__
        base_vjp = Function.__dict__["vjp"].__func__
        if backward_fn is not base_backward and vjp_fn is not base_vjp \
                and backward_fn is not vjp_fn:
            raise RuntimeError("Implementing both 'backward' and 'vjp' for a custom Function is "
                               "not allowed. You should only implement one of them.")
        user_fn = vjp_fn if vjp_fn is not base_vjp else backward_fn
        result = user_fn(ctx, *grads)
        return _check_grads(ctx, result)


def _materialize(ctx, grads):
    Tensor = _dispatch._Tensor
    grads = list(grads)
    for i, meta in enumerate(ctx._output_meta):
        if grads[i] is None and meta is not None:
            shape, dtype, xp = meta
            grads[i] = Tensor._make(xp.zeros(shape, dtype=dtype))
    return grads


def _check_grads(ctx, result):
    """One gradient per positional input of apply, shaped and typed like that input."""
    from ..ops._broadcast import sum_to
    Tensor = _dispatch._Tensor
    if not isinstance(result, tuple):
        result = (result,)
    n = len(ctx._input_meta)
    if len(result) != n:
        if len(result) > n and all(g is None for g in result[n:]):
            result = result[:n]
        else:
            raise RuntimeError(f"function {ctx.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(result)})")
    out = []
    for i, g in enumerate(result):
        meta = ctx._input_meta[i]
        if g is None:
            out.append(None)
            continue
        if meta is None:
            raise RuntimeError(f"function {ctx.name()} returned a gradient different than None "
                               f"at position {i + 1}, but the corresponding forward input was "
                               "not a Variable")
        if not isinstance(g, Tensor):
            raise TypeError(f"function {ctx.name()} returned a gradient of type "
                            f"{type(g).__name__} at position {i + 1}; expected a Tensor or None")
        if not ctx._needs_input_grad[i]:
            out.append(None)
            continue
        shape, dtype, device = meta
        if g.device != device:
            raise RuntimeError(f"Function {ctx.name()} returned an invalid gradient at index {i} "
                               f"- expected device {device} but got {g.device}")
        gshape = g._data.shape
        if gshape != shape:
            try:
                ok = np.broadcast_shapes(shape, gshape) == gshape
            except ValueError:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {ctx.name()} returned an invalid gradient at index "
                                   f"{i} - got {list(gshape)} but expected shape compatible "
                                   f"with {list(shape)}")
            g = sum_to(g, shape)
        if g._data.dtype != dtype:
            from .._dtype import from_numpy_dtype
            g = g.to(from_numpy_dtype(dtype))
        out.append(g)
    # The engine pairs gradients with next_nodes, which has tensor inputs only.
    return tuple(g for g, meta in zip(out, ctx._input_meta) if meta is not None)


class _FunctionMeta(type):
    """Gives every Function subclass its node class ``<Name>Backward``."""

    def __init__(cls, name, bases, attrs):
        backward_cls = type(name + "Backward", (BackwardCFunction,),
                            {"__slots__": (), "_forward_cls": cls,
                             "__module__": __name__})
        cls._backward_cls = backward_cls
        super().__init__(name, bases, attrs)


class Function(metaclass=_FunctionMeta):
    """Base class of custom autograd functions.

    Subclass it with static ``forward(ctx, *args, **kwargs)`` and ``backward(ctx, *grads)``
    (or ``forward(*args, **kwargs)`` plus ``setup_context(ctx, inputs, output)``) and call
    ``MyFn.apply(*args)``. ``forward`` runs with grad mode off on the tensors given; ``backward``
    gets one gradient per output and returns one per positional input (None where there is
    none). Write ``backward`` with ember ops and it can itself be differentiated.

    Example:
        >>> import ember
        >>> class Square(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         x, = ctx.saved_tensors
        ...         return 2 * x * grad
        >>> x = ember.tensor([3.0], requires_grad=True)
        >>> Square.apply(x).backward()
        >>> x.grad
        tensor([6.])
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(f"{type(self)} should not be instantiated. Methods on autograd functions "
                      "are all static, so you should invoke them on the class itself. "
                      "Instantiating an autograd function will raise an error in a future "
                      "version of PyTorch.", DeprecationWarning, stacklevel=2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is "
                           "deprecated. Please use new-style autograd function with static "
                           "forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @staticmethod
    def forward(*args, **kwargs):
        """Compute the outputs (on tensors, with grad mode off)."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: save what backward needs when forward does not take ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Gradients of the inputs from gradients of the outputs."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on args and record the call in the autograd graph."""
        return _apply_function(cls, args, kwargs)


def _has_setup_context(cls) -> bool:
    return cls.setup_context is not Function.__dict__["setup_context"].__func__


def _apply_function(cls, args, kwargs):
    Tensor = _dispatch._Tensor
    setup = _has_setup_context(cls)
    if setup:
        sig = cls.__dict__.get("_forward_signature")
        if sig is None:
            sig = inspect.signature(cls.forward)
            cls._forward_signature = sig
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        args, kwargs = bound.args, bound.kwargs

    node = _new_node(cls._backward_cls)
    n_in = len(args)
    tensors = [a if isinstance(a, Tensor) else None for a in args]
    record = _grad_state.enabled and any(t is not None and t._rg for t in tensors)
    first = next((t for t in tensors if t is not None), None)
    node.xp = xp_of(first._data) if first is not None else np
    if record:
        _connect_inputs(node, tensors)
        node._needs_input_grad = tuple(t is not None and t._rg for t in tensors)
    else:
        n_tensors = sum(t is not None for t in tensors)
        node.next_nodes = (None,) * n_tensors
        node.next_nrs = (0,) * n_tensors
        node._needs_input_grad = (False,) * n_in
    node.in_shapes = tuple(t._data.shape if t is not None else () for t in tensors)

    prev = _grad_state.enabled
    _grad_state.enabled = False
    try:
        if setup:
            output = cls.forward(*args, **kwargs)
            cls.setup_context(node, args, output)
        else:
            output = cls.forward(node, *args, **kwargs)
    finally:
        _grad_state.enabled = prev
    return _wrap_outputs(node, tensors, output, record)


def _new_node(backward_cls):
    node = Node.__new__(backward_cls)
    node.op = _FunctionOp
    return node


def _connect_inputs(node, tensors):
    """next_nodes/next_nrs: the grad edges of the tensor inputs (non-tensor arguments have no
    edge, as in PyTorch's next_functions), found as _record does."""
    nodes = []
    nrs = []
    for t in tensors:
        if t is None:
            continue
        if not t._rg:
            nodes.append(None)
            nrs.append(0)
            continue
        if t._base is not None and t._view_version != version_counter(t).value:
            _refresh_view(t)
        fn, nr = grad_edge(t)
        nodes.append(fn)
        nrs.append(nr)
    node.next_nodes = tuple(nodes)
    node.next_nrs = tuple(nrs)


def _wrap_outputs(node, tensors, output, record):
    Tensor = _dispatch._Tensor
    is_tuple = isinstance(output, tuple)
    raw = output if is_tuple else (output,)
    dirty = {id(t) for t in node.dirty_tensors}
    returned = {id(o) for o in raw}
    if any(d not in returned for d in dirty):
        raise RuntimeError("Some elements marked as dirty during the forward method were not "
                           "returned as output. The inputs that are modified inplace must all be "
                           "outputs of the Function.")
    if record:
        for t in node.dirty_tensors:
            if t._rg and t.grad_fn is None and t._base is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   f"in-place operation. ({node.name()} marked an input of shape "
                                   f"{tuple(t.shape)} dirty; pass a clone, or call it under "
                                   "ember.no_grad())")
            base = t._base
            if base is not None and base._rg and base.grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used "
                                   f"in an in-place operation. ({node.name()} marked a view of "
                                   f"shape {tuple(t.shape)} dirty)")
    non_diff = {id(t) for t in node.non_differentiable}
    input_ids = {id(t): t for t in tensors if t is not None}
    results = []
    meta = []
    for i, o in enumerate(raw):
        if not isinstance(o, Tensor):
            results.append(o)
            meta.append(None)
            continue
        meta.append((o._data.shape, o._data.dtype, xp_of(o._data)))
        is_dirty = id(o) in dirty
        res = o
        if not is_dirty and id(o) in input_ids:
            res = _alias(o)
        diff = record and id(o) not in non_diff and o._data.dtype.kind in "fcV"
        if is_dirty:
            version_counter(o).value += 1       # PyTorch counts the marking as a write too
        if diff:
            if is_dirty:
                edge = Tensor._make(o._data)
                edge.grad_fn = node
                edge._rg = True
                edge._out_nr = i
                _rebase_history(o, edge)
            else:
                res._rg = True
                res.grad_fn = node
                res._out_nr = i
        results.append(res)
    node._output_meta = meta
    node._input_meta = [None if t is None else (t._data.shape, t._data.dtype, t.device)
                        for t in tensors]
    if record:
        node._n_out = len(raw)
        _resolve_saved(node, results)
        if _anomaly_flags.anomaly:
            from .anomaly import record_forward_trace
            record_forward_trace(node)
    return tuple(results) if is_tuple else results[0]


def _alias(t):
    """A new tensor sharing t's memory and version counter (PyTorch's ``t.view_as(t)``)."""
    Tensor = _dispatch._Tensor
    res = Tensor._make(t._data)
    res._vc = version_counter(t)
    root = t._base if t._base is not None else t
    res._base = root
    res._view_chain = t._view_chain
    res._view_version = res._vc.value
    return res


def _resolve_saved(node, outputs):
    """Saved tensors as engine entries: outputs are rebuilt with this node as grad_fn (so a
    double backward reaches it); anything else comes back as the tensor itself. Both are
    version-checked when unpacked."""
    Tensor = _dispatch._Tensor
    resolved = []
    for t in node.to_save:
        if t is None:
            resolved.append(("scalar", None))
            continue
        for nr, o in enumerate(outputs):
            if o is t and isinstance(o, Tensor) and o.grad_fn is node:
                vc = version_counter(o)
                resolved.append(("out", nr, o._data, vc, vc.value))
                break
        else:
            vc = version_counter(t)
            resolved.append(("in", t, vc, vc.value, t._data.dtype))
    if _anomaly_flags.saved_hooks and _grad_state.saved_hooks:
        resolved = _dispatch._pack_saved(resolved, outputs)
    node._saved_resolved = resolved
    node.__dict__.pop("to_save", None)


def once_differentiable(fn):
    """Decorate a custom Function's backward that is not itself differentiable.

    The backward runs with grad mode off; if a double backward is requested, the gradients it
    returns carry a node that raises when reached.
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        Tensor = _dispatch._Tensor
        prev = _grad_state.enabled
        _grad_state.enabled = False
        try:
            outputs = fn(ctx, *args)
        finally:
            _grad_state.enabled = prev
        if not prev:
            return outputs
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        wrapped = tuple(_delayed_error(o) if isinstance(o, Tensor) and
                        o._data.dtype.kind in "fcV" else o for o in outs)
        return wrapped[0] if single else wrapped

    return wrapper


def _delayed_error(t):
    """t (computed without a graph) as the output of a node that raises when reached."""
    Tensor = _dispatch._Tensor
    node = _dispatch._new_node(_DelayedError, xp_of(t._data))
    node.next_nodes = ()
    node.next_nrs = ()
    node._n_out = 1
    out = Tensor._make(t._data, True)
    out.grad_fn = node
    return out


class _DelayedError(_Op):
    """Marks gradients that must not be differentiated: its backward raises."""

    name = "delayed_error"

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")
