"""Module.__call__ with hooks: forward pre-hooks, forward hooks (global ones first)."""

from __future__ import annotations


def call_with_hooks(module, args, kwargs):
    from .module import _global_forward_hooks, _global_forward_pre_hooks
    if module._backward_hooks or module._backward_pre_hooks:
        raise NotImplementedError("full backward hooks on modules are not implemented yet")
    for hook_id, hook in (*_global_forward_pre_hooks.items(),
                          *module._forward_pre_hooks.items()):
        if hook_id in module._forward_pre_hooks_with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError("forward pre-hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    try:
        output = module.forward(*args, **kwargs)
    except Exception:
        for hook_id, hook in module._forward_hooks.items():
            if hook_id in module._forward_hooks_always_called:
                hook(module, args, None)
        raise
    for hook_id, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
        if hook_id in module._forward_hooks_with_kwargs:
            result = hook(module, args, kwargs, output)
        else:
            result = hook(module, args, output)
        if result is not None:
            output = result
    return output
