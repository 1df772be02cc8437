"""Module.__call__ with hooks: forward pre-hooks, forward hooks, full backward hooks.

Note [Full backward hooks]
    A module is a whole subgraph, not one autograd node, so its backward hooks cannot hang on
    a single node. As PyTorch does, the tensor inputs of forward pass through an identity
    autograd Function (``BackwardHookFunction``) before forward runs, and the tensor outputs
    through another one after. In backward, the output identity node sees grad_output first:
    it runs the backward pre-hooks (which may replace grad_output) and remembers grad_output.
    The input identity node then sees grad_input (the gradient with respect to the module's
    inputs) and calls the full backward hooks with (module, grad_input, grad_output); what
    they return replaces grad_input. Non-tensor arguments appear as None in both tuples.
"""

from __future__ import annotations

import warnings

from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import state as _grad_state


class BackwardHookFunction(Function):
    """Identity on its tensor arguments; gives a graph node to attach module hooks to."""

    @staticmethod
    def forward(ctx, *args):
        ctx.mark_non_differentiable(*[a for a in args
                                      if isinstance(a, Tensor) and not a.requires_grad])
        return args

    @staticmethod
    def backward(ctx, *grads):
        return grads


class BackwardHook:
    """Links the input and output identity nodes of one module call (see Note above)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None
        self._input_meta = None

    @staticmethod
    def _pack_with_none(indices, values, size):
        res = [None] * size
        for i, v in zip(indices, values):
            res[i] = v
        return tuple(res)

    def _apply_on_tensors(self, attach, args):
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in index]
        if not (_grad_state.enabled and any(t.requires_grad for t in tensors)):
            return args, None, None
        meta = [(t.shape, t.dtype, t.device) for t in tensors]
        new = BackwardHookFunction.apply(*tensors)
        if not isinstance(new, tuple):
            new = (new,)
        grad_fns = [t.grad_fn for t in new
                    if t.grad_fn is not None and isinstance(t.grad_fn, _BackwardNode)]
        attach(grad_fns[0])
        out = list(args)
        for i, t in zip(index, new):
            out[i] = t
        return (tuple(out) if type(args) is tuple else type(args)(*out)), index, meta

    def setup_input_hook(self, args):
        def attach(grad_fn):
            grad_fn.register_hook(self._input_hook)

        res, index, self._input_meta = self._apply_on_tensors(attach, args)
        self.n_inputs = len(args)
        self.input_tensors_index = index
        return res

    def _input_hook(self, grad_input, _grad_output):
        if self.grad_outputs is None:
            # The gradient reached the inputs without passing through the outputs (for
            # example in double backward): there is no grad_output to report.
            return None
        # Like PyTorch, inputs that need no gradient still get one (zeros), not None.
        from ...ops.creation import zeros
        grad_input = [zeros(shape, dtype=dtype, device=device) if g is None else g
                      for g, (shape, dtype, device) in zip(grad_input, self._input_meta)]
        res = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_tensors_index)

    def setup_output_hook(self, result):
        def attach(grad_fn):
            grad_fn.register_prehook(self._output_hook)

        is_tuple = isinstance(result, tuple)
        args = result if is_tuple else (result,)
        res, index, _ = self._apply_on_tensors(attach, args)
        self.n_outputs = len(args)
        self.output_tensors_index = index
        return res if is_tuple else res[0]

    def _output_hook(self, grad_output):
        self.grad_outputs = self._pack_with_none(self.output_tensors_index, grad_output,
                                                 self.n_outputs)
        if self.user_pre_hooks:
            expected = len(self.grad_outputs)
            for hook in self.user_pre_hooks:
                out = hook(self.module, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != expected:
                    raise RuntimeError("Backward pre hook returned an invalid number of "
                                       f"grad_output, got {len(out)}, but expected {expected}")
                self.grad_outputs = tuple(out)
        local = self.grad_outputs
        if self.input_tensors_index is None:
            # No input requires grad: the input node does not exist, so the full hooks run
            # here, with grad_input all None.
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple)
                                            and all(g is None for g in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_tensors_index)


_BackwardNode = BackwardHookFunction._backward_cls


def call_with_hooks(module, args, kwargs):
    from . import module as M
    pre_hooks = [*M._global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
    full_hooks, legacy_hooks = module._get_backward_hooks()
    result = None
    called_always = set()
    try:
        for hook_id, hook in (*M._global_forward_pre_hooks.items(),
                              *module._forward_pre_hooks.items()):
            if hook_id in module._forward_pre_hooks_with_kwargs:
                out = hook(module, args, kwargs)
                if out is not None:
                    if not (isinstance(out, tuple) and len(out) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {out}.")
                    args, kwargs = out
            else:
                out = hook(module, args)
                if out is not None:
                    args = out if isinstance(out, tuple) else (out,)
        bw_hook = None
        if full_hooks or pre_hooks:
            bw_hook = BackwardHook(module, full_hooks, pre_hooks)
            args = bw_hook.setup_input_hook(args)
        result = module.forward(*args, **kwargs)
        for hook_id, hook in (*M._global_forward_hooks.items(),
                              *module._forward_hooks.items()):
            if hook_id in M._global_forward_hooks_always_called or \
                    hook_id in module._forward_hooks_always_called:
                called_always.add(hook_id)
            if hook_id in module._forward_hooks_with_kwargs or \
                    hook_id in M._global_forward_hooks_with_kwargs:
                out = hook(module, args, kwargs, result)
            else:
                out = hook(module, args, result)
            if out is not None:
                result = out
        if bw_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a "
                              f"Tensor or a tuple of Tensors but received {type(result)}",
                              stacklevel=3)
            result = bw_hook.setup_output_hook(result)
        if legacy_hooks:
            _attach_legacy_hooks(module, legacy_hooks, args, result)
        return result
    except Exception:
        for hook_id, hook in (*M._global_forward_hooks.items(),
                              *module._forward_hooks.items()):
            always = hook_id in M._global_forward_hooks_always_called or \
                hook_id in module._forward_hooks_always_called
            if not always or hook_id in called_always:
                continue
            try:
                if hook_id in module._forward_hooks_with_kwargs or \
                        hook_id in M._global_forward_hooks_with_kwargs:
                    out = hook(module, args, kwargs, result)
                else:
                    out = hook(module, args, result)
                if out is not None:
                    result = out
            except Exception as e:
                warnings.warn("forward hook with ``always_call=True`` raised an exception that "
                              f"was silenced as another error was raised in forward: {e}",
                              stacklevel=3)
        raise


def _attach_legacy_hooks(module, hooks, args, result) -> None:
    """Deprecated non-full hooks: they hang on the grad_fn of the first tensor output."""
    from .module import _WrappedHook
    var = result
    while not isinstance(var, Tensor):
        if isinstance(var, dict):
            var = next(v for v in var.values() if isinstance(v, Tensor))
        else:
            var = var[0]
    grad_fn = var.grad_fn
    if grad_fn is None:
        return
    for hook in hooks:
        grad_fn.register_hook(_WrappedHook(hook, module))
    _warn_legacy_hook(args, result, grad_fn)


def _warn_legacy_hook(inputs, result, grad_fn) -> None:
    # The cases where a hook on one node cannot see the module's whole grad_input/output.
    tail = "Please use register_full_backward_hook to get the documented behavior."
    if isinstance(result, Tensor):
        result = (result,)
    elif not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
        warnings.warn("Using non-full backward hooks on a Module that does not return a single "
                      "Tensor or a tuple of Tensors is deprecated and will be removed in future "
                      "versions. This hook will be missing some of the grad_output. " + tail,
                      FutureWarning, stacklevel=4)
        return
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    elif not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
        warnings.warn("Using non-full backward hooks on a Module that does not take as input a "
                      "single Tensor or a tuple of Tensors is deprecated and will be removed in "
                      "future versions. This hook will be missing some of the grad_input. "
                      + tail, FutureWarning, stacklevel=4)
        return
    out_fns = {r.grad_fn for r in result if r.grad_fn is not None}
    if not out_fns or (len(out_fns) == 1 and grad_fn not in out_fns):
        warnings.warn("Using a non-full backward hook when outputs are nested in python data "
                      "structure is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_output.", FutureWarning, stacklevel=4)
    elif len(out_fns) > 1:
        warnings.warn("Using a non-full backward hook when outputs are generated by different "
                      "autograd Nodes is deprecated and will be removed in future versions. This "
                      "hook will be missing some grad_output. " + tail, FutureWarning,
                      stacklevel=4)
    else:
        in_fns = {i.grad_fn for i in inputs if i.grad_fn is not None}
        if in_fns != {n[0] for n in grad_fn.next_functions}:
            warnings.warn("Using a non-full backward hook when the forward contains multiple "
                          "autograd Nodes is deprecated and will be removed in future versions. "
                          "This hook will be missing some grad_input. " + tail, FutureWarning,
                          stacklevel=4)
