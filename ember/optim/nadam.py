"""NAdam: Adam with Nesterov momentum (and momentum decay)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from .optimizer import (
    Optimizer,
    _begin,
    _bump,
    _check,
    _check_betas,
    _lerp_,
    _real,
    _scalar,
    _step_tensor,
    _use_grad,
    _weight_decay,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum schedule
    ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))``.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate (default 2e-3).
        betas: decay rates (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0): L2 unless ``decoupled_weight_decay``.
        momentum_decay: the momentum schedule's decay (default 4e-3).
        decoupled_weight_decay: AdamW-style weight decay (NAdamW).
        foreach, maximize, capturable, differentiable: as for :class:`Adam`.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.tensor([1.0]))
        >>> opt = ember.optim.NAdam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 4)
        0.8944
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check(lr, eps, weight_decay)
        _check_betas(betas)
        if not momentum_decay >= 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
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
            momentum_decay = group["momentum_decay"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                xp, param, grad, step = _begin(state, p, group, ("exp_avg", "exp_avg_sq"),
                                               mu_product=1.0)
                bias_correction2 = 1 - beta2 ** step
                grad = _weight_decay(param, grad, lr, weight_decay,
                                     group["decoupled_weight_decay"])
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # mu_product is a float32 tensor in PyTorch: the product rounds each step.
                mu_product_t = state["mu_product"]
                if not isinstance(mu_product_t, Tensor):
                    mu_product_t = state["mu_product"] = _step_tensor(float(mu_product_t))
                mu_product_t._data *= np.float32(mu)
                mu_product = float(mu_product_t._data)
                exp_avg = _real(state["exp_avg"]._data)
                exp_avg_sq = _real(state["exp_avg_sq"]._data)
                _lerp_(xp, exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                denom = xp.sqrt(exp_avg_sq / bias_correction2)
                denom += eps
                mu_product_next = mu_product * mu_next
                param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * grad / denom
                param += ((-lr * mu_next) / (1.0 - mu_product_next)) * exp_avg / denom
                _bump(p)
        return loss
