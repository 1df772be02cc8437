"""Optimizer: the base class every ember optimizer builds on (param groups, state, hooks).

The layout of ``state_dict()`` is PyTorch's: ``{'state': {index: {...}}, 'param_groups':
[{..., 'params': [index, ...]}]}`` with parameters numbered in group order, so optimizer
checkpoints move between ember and PyTorch.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from .._dispatch import version_counter
from .._tensor import Tensor
from ..autograd import no_grad
from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


class _RequiredParameter:
    """Marks an option with no default (the caller must give it)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's step.

    Args:
        hook: returns None or a new ``(args, kwargs)``.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    handle = RemovableHandle(_global_step_pre_hooks)
    _global_step_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's step.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    handle = RemovableHandle(_global_step_post_hooks)
    _global_step_post_hooks[handle.id] = hook
    return handle


def _hooked_step(step):
    """Wrap a subclass's ``step`` with the global and per-instance pre/post hooks."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_in_step", False):
            # a subclass's step calling super().step(): the hooks already ran
            return step(self, *args, **kwargs)
        self._in_step = True
        try:
            return _run_hooked(self, step, args, kwargs)
        finally:
            self._in_step = False

    wrapper._ember_hooked = True
    return wrapper


def _run_hooked(self, step, args, kwargs):
    """Run the pre-hooks (which may replace the arguments), step, then the post-hooks."""
    for hook in chain(_global_step_pre_hooks.values(),
                      self._optimizer_step_pre_hooks.values()):
        result = hook(self, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(
                    f"{hook} must return None or a tuple of (new_args, new_kwargs), but "
                    f"got {result}.")
            args, kwargs = result
    out = step(self, *args, **kwargs)
    self._optimizer_step_code()
    for hook in chain(self._optimizer_step_post_hooks.values(),
                      _global_step_post_hooks.values()):
        hook(self, args, kwargs)
    return out


# -- helpers the optimizers share (arrays in, arrays updated in place) ----------------------

def _scalar(value) -> float:
    """A Python float from a float or a one-element tensor (lr may be a Tensor)."""
    return float(value.item()) if isinstance(value, Tensor) else value


def _bump(t: Tensor) -> None:
    """Count an in-place write to ``t``'s memory (autograd's saved-tensor check reads it)."""
    version_counter(t).value += 1


def _opmath(arr):
    """NumPy scalar type scalars are rounded to before use: the parameter's own precision,
    float32 for the narrow floats (PyTorch computes float16/bfloat16 math in float32)."""
    return np.float64 if arr.dtype == np.float64 else np.float32


# Note [Rounding against PyTorch]: scalars are rounded to the parameter's precision before
# use and every update follows the order of operations of PyTorch's single-tensor
# (for-loop) implementation. PyTorch's CPU kernels fuse ``a + alpha * b`` (add with alpha,
# addcmul, lerp) into one FMA where NumPy rounds the product first, so single values may
# differ by one float32 ulp; emulating the FMA through float64 costs ~5x per update, which
# the training benchmarks cannot afford.


def _lerp_(xp, start, end, weight: float) -> None:
    """start.lerp_(end, weight) with PyTorch's two-branch formula (exact at weight 0 and 1)."""
    t = _opmath(start)
    w = t(weight)
    if abs(w) < 0.5:
        start += float(w) * (end - start)
    else:
        start[...] = end - (end - start) * float(t(1) - w)


def _real(arr):
    """A complex array as interleaved real numbers (PyTorch's view_as_real), so each
    component is optimized as an independent real number; other arrays unchanged."""
    if arr.dtype.kind != "c":
        return arr
    if arr.ndim == 0:
        arr = arr[None]           # a 0-d array cannot change its itemsize in a view
    return arr.view(arr.real.dtype)


def _step_tensor(value: float = 0.0) -> Tensor:
    """A float32 0-dim step counter on the CPU, as PyTorch keeps ``state['step']``."""
    return Tensor._make(np.array(value, dtype=np.float32))


def _inc(step: Tensor) -> float:
    """step += 1 in float32; returns the new value as a Python float."""
    step._data += np.float32(1)
    return float(step._data)


def _zeros_like(p: Tensor) -> Tensor:
    return Tensor._make(_xp(p).zeros_like(p._data))


def _full_like(p: Tensor, value: float) -> Tensor:
    xp = _xp(p)
    return Tensor._make(xp.full_like(p._data, value))


def _xp(t: Tensor):
    return np if type(t._data) is np.ndarray else __import__("cupy")


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param
            groups: ``{'params': [...], <option>: value}``).
        defaults: the options every group gets unless it sets its own.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.ones(2))
        >>> opt = ember.optim.SGD([w], lr=0.5)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w.tolist()
        [0.0, 0.0]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_ember_hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        if defaults.get("differentiable", False):
            raise NotImplementedError(
                f"{type(self).__name__}: differentiable=True (gradients through the update) "
                "is not supported by ember; use differentiable=False")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- pickling and repr ------------------------------------------------------------------

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for group in self.param_groups:
            for name, default in self.defaults.items():
                group.setdefault(name, default)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += "\n"
            text += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- param groups -----------------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a new lr for a layer being
        unfrozen); options it leaves out take the optimizer's defaults.

        Args:
            param_group: ``{'params': tensors, <option>: value, ...}``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        extracted, names = [], []
        for item in param_group["params"]:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                names.append(item[0])
                extracted.append(item[1])
            else:
                extracted.append(item)
        if names and len(names) != len(extracted):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        if names:
            param_group["param_names"] = names
        param_group["params"] = extracted
        for param in extracted:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + type(param).__name__)
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in extracted]
        if len(set(ids)) != len(ids):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in group) != ("param_names" in param_group):
                raise ValueError("all optimizer param groups should be with/without names. "
                                 "cannot add param group with names to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients --------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none: drop ``.grad`` (saves memory; the next backward allocates it afresh)
                instead of filling it with zeros.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad._data[...] = 0
                    _bump(grad)

    def step(self, closure: Callable | None = None):
        """Perform one optimization step (re-evaluating the loss through ``closure`` if
        given). Subclasses implement it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _optimizer_step_code(self) -> None:
        """Runs after every step; the lr schedulers patch nothing here but read the flag."""
        self._opt_called = True

    @staticmethod
    def _closure_loss(closure):
        if closure is None:
            return None
        from ..autograd import enable_grad
        with enable_grad():
            return closure()

    @staticmethod
    def _params_with_grad(group):
        """The params of ``group`` that have a gradient."""
        return [p for p in group["params"] if p._grad is not None]

    # -- hooks --------------------------------------------------------------------------------

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs before ``step``; it may return new
        ``(args, kwargs)``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs after ``step``.

        Returns:
            A handle whose ``remove()`` unregisters the hook.
        """
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def _register(self, hooks, hook, prepend):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer)`` runs before ``state_dict()`` builds its result."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer, state_dict)`` runs on the result; it may return a new one."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer, state_dict)`` runs before loading; it may return a new dict."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False):
        """``hook(optimizer)`` runs after loading."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state dict ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Parameters are numbered in the order of the groups; the state tensors are returned
        by reference (as PyTorch does): ``copy.deepcopy`` the result to snapshot it.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        result = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            new = hook(self, result)
            if new is not None:
                result = new
        return result

    @staticmethod
    def _cast(param: Tensor, value, key=None):
        """Move a loaded state value to the parameter's device (and dtype, for floating
        state other than the step counter), as PyTorch does."""
        if isinstance(value, Tensor):
            if key == "step":
                return value
            if param.is_floating_point() and value.is_floating_point():
                return value.to(dtype=param.dtype, device=param.device)
            return value.to(device=param.device)
        if isinstance(value, dict):
            return {k: Optimizer._cast(param, v, key=k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(Optimizer._cast(param, v, key=key) for v in value)
        return value

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from ``state_dict()`` (of this optimizer, or of PyTorch's same
        optimizer with its tensors converted), so a run resumes exactly.

        Args:
            state_dict: ``{'state': ..., 'param_groups': ...}``.
        """
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            new = hook(self, state_dict)
            if new is not None:
                state_dict = new
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        lens = [len(g["params"]) for g in groups]
        saved_lens = [len(g["params"]) for g in saved_groups]
        if any(a != b for a, b in zip(lens, saved_lens)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = self._cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _use_grad(step):
    """Run an optimizer's update under no_grad (the closure re-enables grad itself)."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        with no_grad():
            return step(self, *args, **kwargs)

    return wrapper



def _state_step(state: dict) -> Tensor:
    """state['step'] as the float32 counter tensor (older checkpoints store a number)."""
    step = state["step"]
    if not isinstance(step, Tensor):
        step = state["step"] = _step_tensor(float(step))
    return step


def _begin(state: dict, p: Tensor, group: dict, buffers=(), **initial):
    """The shared start of a per-parameter step (Adam family, RMSprop, Adadelta).

    On first use the state gets ``step`` 0, then the scalar ``initial`` values (e.g.
    ``mu_product=1.0``), then a zero buffer per name in ``buffers`` (PyTorch's key order).
    Returns ``(xp, param, grad, step)``: real views of the parameter and its gradient (the
    gradient negated under ``maximize``) and the step count after this step.
    """
    if len(state) == 0:
        state["step"] = _step_tensor()
        for name, value in initial.items():
            state[name] = _step_tensor(value)
        for name in buffers:
            state[name] = _zeros_like(p)
    param, grad = _real(p._data), _real(p._grad._data)
    if group["maximize"]:
        grad = -grad
    return _xp(p), param, grad, _inc(_state_step(state))


def _weight_decay(param, grad, lr: float, weight_decay: float, decoupled: bool = False):
    """L2 weight decay added to the gradient, or (decoupled, AdamW-style) applied to the
    parameter in place; returns the gradient to use."""
    if weight_decay == 0:
        return grad
    if decoupled:
        param *= 1 - lr * weight_decay
        return grad
    return grad + weight_decay * param


def _check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check(lr, eps=0.0, weight_decay=0.0) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
