"""Stochastic weight averaging and EMA of weights: AveragedModel, SWALR, update_bn."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from .._dispatch import version_counter
from .._tensor import Tensor
from ..autograd import no_grad
from ..nn.modules.module import Module
from .lr_scheduler import LRScheduler, _per_group
from .optimizer import _lerp_, _xp

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _is_float(t: Tensor) -> bool:
    return t._data.dtype.kind in "fcV"


def _write(dst: Tensor, src_array) -> None:
    dst._data[...] = src_array
    version_counter(dst).value += 1


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An in-place exponential moving average over lists of tensors:
    ``ema = lerp(ema, current, 1 - decay)``.

    Args:
        decay: weight of the old average, in [0, 1].

    Returns:
        ``fn(ema_params, current_params, num_averaged)``.
    """
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    def ema_update(ema_param_list, current_param_list, _) -> None:
        with no_grad():
            if _is_float(ema_param_list[0]):
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    _lerp_(_xp(p_ema), p_ema._data, p_model._data, 1 - decay)
                    version_counter(p_ema).value += 1
            else:
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An in-place running mean over lists of tensors (stochastic weight averaging).

    Returns:
        ``fn(averaged_params, current_params, num_averaged)``.
    """

    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        n = float(num_averaged.item()) if isinstance(num_averaged, Tensor) else num_averaged
        with no_grad():
            if _is_float(averaged_param_list[0]):
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    _lerp_(_xp(p_avg), p_avg._data, p_model._data, 1 / (n + 1))
                    version_counter(p_avg).value += 1
            else:
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    diff = p_model - p_avg
                    if isinstance(num_averaged, Tensor):
                        p_avg.copy_(p_avg + diff / (num_averaged + 1))
                    else:
                        p_avg.copy_(p_avg + diff * (1.0 / (n + 1)))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """A per-tensor exponential moving average: returns the new average.

    Args:
        decay: weight of the old average, in [0, 1].

    Returns:
        ``fn(ema_param, current_param, num_averaged) -> Tensor``.
    """
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """A per-tensor running mean: returns the new average.

    Returns:
        ``fn(averaged_param, current_param, num_averaged) -> Tensor``.
    """

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and, with ``use_buffers``, buffers) are an
    average of the weights it is shown by ``update_parameters``: the running mean (SWA) by
    default, or any ``avg_fn``/``multi_avg_fn`` such as :func:`get_ema_multi_avg_fn`.

    Args:
        model: the model to average (deep-copied).
        device: move the copy there (optional).
        avg_fn: ``fn(averaged, current, num_averaged) -> new averaged`` per tensor.
        multi_avg_fn: ``fn(averaged_list, current_list, num_averaged)``, in place.
        use_buffers: average buffers too (else they are copied from ``model``).

    Example:
        >>> import ember
        >>> net = ember.nn.Module()
        >>> net.w = ember.nn.Parameter(ember.zeros(1))
        >>> swa = ember.optim.swa_utils.AveragedModel(net)
        >>> for v in (1.0, 3.0):
        ...     with ember.no_grad():
        ...         _ = net.w.fill_(v)
        ...     swa.update_parameters(net)
        >>> swa.module.w.item()
        2.0
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        from ..ops.creation import tensor
        n_averaged = tensor(0, dtype="int64")
        if device is not None:
            n_averaged = n_averaged.to(device)
        self.register_buffer("n_averaged", n_averaged)
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average."""
        if self.use_buffers:
            self_params = itertools.chain(self.module.parameters(), self.module.buffers())
            model_params = itertools.chain(model.parameters(), model.buffers())
        else:
            self_params, model_params = self.parameters(), model.parameters()
        averaged, current = [], []
        first = int(self.n_averaged.item()) == 0
        with no_grad():
            for p_avg, p_model in zip(self_params, model_params):
                p_model_ = p_model.detach().to(p_avg.device)
                averaged.append(p_avg.detach())
                current.append(p_model_)
                if first:
                    _write(p_avg, p_model_._data)
            if not first:
                if self.avg_fn is None:
                    # group by dtype: the multi-tensor functions treat a list alike
                    groups: dict = {}
                    for a, c in zip(averaged, current):
                        groups.setdefault(a._data.dtype, ([], []))
                        groups[a._data.dtype][0].append(a)
                        groups[a._data.dtype][1].append(c)
                    fn = self.multi_avg_fn or get_swa_multi_avg_fn()
                    for avg_list, cur_list in groups.values():
                        fn(avg_list, cur_list, self.n_averaged)
                else:
                    for p_avg, p_model in zip(averaged, current):
                        new = self.avg_fn(p_avg, p_model, self.n_averaged)
                        _write(p_avg, new._data if isinstance(new, Tensor) else new)
            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    _write(b_swa, b_model.detach().to(b_swa.device)._data)
            self.n_averaged += 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` with one pass over
    ``loader`` (cumulative average, momentum None), e.g. after weight averaging.

    Args:
        loader: iterable of batches (a list/tuple batch uses its first element).
        model: the model.
        device: move each batch there first (optional).
    """
    from ..nn.modules import batchnorm
    bn_class = getattr(batchnorm, "_BatchNorm", None)
    momenta = {}
    for module in model.modules():
        if bn_class is not None and isinstance(module, bn_class):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to a fixed ``swa_lr`` over ``anneal_epochs``, then hold it.

    Args:
        optimizer: the optimizer.
        swa_lr: the target lr (one value or one per group).
        anneal_epochs: epochs of annealing (default 10; 0 jumps at once).
        anneal_strategy: ``'cos'`` or ``'linear'``.
        last_epoch: index of the last epoch (default -1).

    Example:
        >>> import ember
        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))], lr=1.0)
        >>> sched = ember.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=1)
        >>> opt.step(); sched.step()
        >>> [round(v, 6) for v in sched.get_last_lr()]
        [0.1]
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please "
                          "use `get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # recover the lr before annealing from the current one, then anneal to this step
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                    for g in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else \
            self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """The state, without the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()``."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)


