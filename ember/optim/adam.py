"""Adam (with AMSGrad and optional decoupled weight decay)."""

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

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam: moving averages of the gradient and its square, bias corrected.

    Args:
        params: tensors or param groups to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates of the two moving averages (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0); decoupled (AdamW) when
            ``decoupled_weight_decay=True``.
        amsgrad: use the running maximum of the second moment (AMSGrad).
        maximize: ascend the objective instead of descending.
        foreach, capturable, differentiable, fused: accepted for compatibility; the numbers
            equal PyTorch's single-tensor implementation.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.tensor([1.0]))
        >>> opt = ember.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 4)
        0.9
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check(lr, eps, weight_decay)
        _check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
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
            lr = _scalar(group["lr"])
            beta1, beta2 = (_scalar(b) for b in group["betas"])
            weight_decay, eps, amsgrad = group["weight_decay"], group["eps"], group["amsgrad"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                buffers = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
                xp, param, grad, step = _begin(state, p, group, buffers)
                exp_avg = _real(state["exp_avg"]._data)
                exp_avg_sq = _real(state["exp_avg_sq"]._data)
                grad = _weight_decay(param, grad, lr, weight_decay,
                                     group["decoupled_weight_decay"])
                _lerp_(xp, exp_avg, grad, 1 - beta1)
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    max_sq = _real(state["max_exp_avg_sq"]._data)
                    xp.maximum(max_sq, exp_avg_sq, out=max_sq)
                    denom = xp.sqrt(max_sq) / bias_correction2_sqrt
                else:
                    denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt
                denom += eps
                param += -step_size * exp_avg / denom
                _bump(p)
        return loss
