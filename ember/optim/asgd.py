"""ASGD: averaged stochastic gradient descent."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .optimizer import (
    Optimizer,
    _bump,
    _check,
    _inc,
    _real,
    _scalar,
    _state_step,
    _step_tensor,
    _use_grad,
    _zeros_like,
)

__all__ = ["ASGD"]


def _f32(state: dict, key: str) -> Tensor:
    value = state[key]
    if not isinstance(value, Tensor):
        value = state[key] = _step_tensor(float(value))
    return value


class ASGD(Optimizer):
    """Averaged SGD (Polyak and Juditsky, 1992): SGD with a decaying step size
    ``eta = lr / (1 + lambd * lr * t) ** alpha`` and a running average ``state['ax']`` of
    the iterates, started after ``t0`` steps.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power of the eta update (default 0.75).
        t0: step at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        foreach, maximize, differentiable, capturable: as for :class:`Adam`.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.tensor([1.0]))
        >>> opt = ember.optim.ASGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 4)
        0.8
    """

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check(lr, 0.0, weight_decay)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    @_use_grad
    def step(self, closure=None):
        """Perform one optimization step.

        Args:
            closure: re-evaluates the model and returns the loss (optional).

        Returns:
            The closure's loss, or None.
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha = _scalar(group["lr"]), group["lambd"], group["alpha"]
            t0, weight_decay = group["t0"], group["weight_decay"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["eta"] = _step_tensor(lr)
                    state["mu"] = _step_tensor(1.0)
                    state["ax"] = _zeros_like(p)
                param, grad = _real(p._data), _real(p._grad._data)
                if group["maximize"]:
                    grad = -grad
                step = _inc(_state_step(state))
                eta, mu = _f32(state, "eta"), _f32(state, "mu")
                if weight_decay != 0:
                    grad = grad + weight_decay * param
                eta_value = float(eta._data)
                param *= 1 - lambd * eta_value
                param += -eta_value * grad
                _bump(p)
                ax = _real(state["ax"]._data)
                # mu is a float32 scalar: the Python float holds it exactly
                mu_value = float(mu._data)
                if mu_value != 1:
                    ax += (param - ax) * mu_value
                else:
                    ax[...] = param
                eta._data[...] = np.float32(lr / ((1 + lambd * lr * step) ** alpha))
                mu._data[...] = np.float32(1 / max(1, step - t0))
        return loss
