"""Tape-based autograd: backward, grad, grad modes, Function, gradcheck, functional."""

from __future__ import annotations

from . import profiler  # noqa: F401  (autograd.profiler)
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "gradcheck", "gradgradcheck",
           "GradcheckError", "Function", "FunctionCtx", "once_differentiable", "function",
           "functional", "graph", "profiler"]


# function.py, functional.py and graph.py build on _dispatch, which imports this package while
# it loads: they are imported on first use (PEP 562).
_LAZY = {"Function": "function", "FunctionCtx": "function", "once_differentiable": "function"}


def __getattr__(name):
    import importlib
    if name in ("function", "functional", "graph"):
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _is_checkpoint_valid() -> bool:
    """False inside a backward that was given ``inputs`` (``autograd.grad`` or
    ``backward(inputs=...)``), where a reentrant checkpoint cannot run (PyTorch's
    ``torch.autograd._is_checkpoint_valid``)."""
    from .grad_mode import state
    return not state.partial_backward


def _as_list(x):
    if x is None:
        return None
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def _make_grads(outputs, grad_outputs, is_grads_batched=False):
    from .._tensor import Tensor
    from ..ops.creation import ones_like
    result = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if out._rg:
                if out._data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs "
                                       f"(output {i} has shape {tuple(out.shape)}); pass "
                                       "gradient= with the output's shape")
                if not (out.is_floating_point() or out.is_complex()):
                    raise RuntimeError("grad can be implicitly created only for real scalar "
                                       f"outputs but got {out.dtype}")
                g = ones_like(out)
        elif isinstance(g, Tensor):
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {out.shape}.")
        else:
            from ..ops.creation import full_like
            g = full_like(out, g)
        result.append(g)
    return result


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of ``tensors`` w.r.t. graph leaves into their ``.grad``.

    Args:
        tensors: tensor(s) to differentiate.
        grad_tensors: the vector in the vector-Jacobian product (None for scalars).
        retain_graph: keep saved tensors for another backward (defaults to create_graph).
        create_graph: record the backward pass, for higher-order derivatives.
        inputs: accumulate into these tensors only.
    """
    from .engine import run_backward
    tensors = _as_list(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grad_tensors = _as_list(grad_tensors) or [None] * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_list(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = _make_grads(tensors, grad_tensors)
    run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` w.r.t. ``inputs``, returned instead of accumulated.

    Returns:
        A tuple with one gradient per input (None for unused inputs when allow_unused).
    """
    from .._tensor import Tensor
    from .engine import run_backward
    single_input = isinstance(inputs, Tensor)
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    grad_outputs = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_outputs has {len(grad_outputs)} tensors but outputs has "
                           f"{len(outputs)}")
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not t._rg:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    pairs = [(o, g) for o, g in zip(outputs, _make_grads(outputs, grad_outputs)) if o._rg]
    if not pairs:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    result = run_backward([p[0] for p in pairs], [p[1] for p in pairs], retain_graph,
                          create_graph, inputs=inputs, accumulate=False)
    for i, r in enumerate(result):
        if r is None:
            if materialize_grads:
                from ..ops.creation import zeros_like
                result[i] = zeros_like(inputs[i])
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            result[i] = r.detach()
    del single_input
    return tuple(result)
