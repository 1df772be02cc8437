"""Adagrad (with learning-rate decay and an initial accumulator value)."""

from __future__ import annotations

from .optimizer import (
    Optimizer,
    _bump,
    _check,
    _full_like,
    _inc,
    _real,
    _scalar,
    _state_step,
    _step_tensor,
    _use_grad,
    _xp,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: scale each coordinate by the root of its accumulated squared gradients.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate (default 1e-2).
        lr_decay: the step size is ``lr / (1 + (step - 1) * lr_decay)`` (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of the squared-gradient sum (default 0).
        eps: added to the denominator (default 1e-10).
        foreach, maximize, differentiable, fused: as for :class:`Adam`.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.tensor([1.0]))
        >>> opt = ember.optim.Adagrad([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 4)
        0.9
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check(lr)
        if not lr_decay >= 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not initial_accumulator_value >= 0.0:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state eagerly, for every parameter.
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
                init = group["initial_accumulator_value"]
                state["sum"] = _full_like(p, complex(init, init) if p.is_complex() else init)

    def share_memory(self) -> None:
        """Kept for PyTorch compatibility (state lives in ordinary host memory)."""

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
            lr, lr_decay = _scalar(group["lr"]), group["lr_decay"]
            weight_decay, eps = group["weight_decay"], group["eps"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                xp = _xp(p)
                param, grad = _real(p._data), _real(p._grad._data)
                step = _inc(_state_step(state))
                if group["maximize"]:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * param
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = _real(state["sum"]._data)
                state_sum += 1.0 * grad * grad
                std = xp.sqrt(state_sum)
                std += eps
                param += -clr * grad / std
                _bump(p)
        return loss
