"""RAdam: Adam with a rectified adaptive learning rate."""

from __future__ import annotations

from .optimizer import (
    Optimizer,
    _begin,
    _bump,
    _check,
    _check_betas,
    _lerp_,
    _real,
    _scalar,
    _use_grad,
    _weight_decay,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (Liu et al., 2019): plain momentum SGD until the variance of the adaptive
    learning rate is tractable (``rho_t > 5``), then a rectified Adam step.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0): L2 unless ``decoupled_weight_decay``.
        decoupled_weight_decay: AdamW-style weight decay.
        foreach, maximize, capturable, differentiable: as for :class:`Adam`.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.tensor([1.0]))
        >>> opt = ember.optim.RAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 4)
        0.8
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check(lr, eps, weight_decay)
        _check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
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
            lr, eps, weight_decay = _scalar(group["lr"]), group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                xp, param, grad, step = _begin(state, p, group, ("exp_avg", "exp_avg_sq"))
                grad = _weight_decay(param, grad, lr, weight_decay,
                                     group["decoupled_weight_decay"])
                exp_avg = _real(state["exp_avg"]._data)
                exp_avg_sq = _real(state["exp_avg_sq"]._data)
                _lerp_(xp, exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                corrected = exp_avg / bias_correction1
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    root = xp.sqrt(exp_avg_sq)
                    root += eps
                    adaptive_lr = (bias_correction2 ** 0.5) / root
                    param -= corrected * lr * adaptive_lr * rect
                else:
                    param -= corrected * lr
                _bump(p)
        return loss
