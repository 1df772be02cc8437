"""SparseAdam: a lazy Adam for sparse gradients (e.g. Embedding(sparse=True))."""

from __future__ import annotations

import math

from .._tensor import Tensor
from .optimizer import Optimizer, _bump, _check_betas, _scalar, _use_grad, _xp, _zeros_like

__all__ = ["SparseAdam"]


def _sparse_adam_update(xp, param, exp_avg, exp_avg_sq, indices, values, step: int, *,
                        lr: float, beta1: float, beta2: float, eps: float) -> None:
    """Adam on the rows named by a coalesced COO gradient: ``indices`` (sparse_dim, nnz),
    unique; ``values`` (nnz, *dense_dims). Moments of the other rows are left alone."""
    if values.size == 0:
        return
    where = tuple(indices)
    old_exp_avg = exp_avg[where]
    exp_avg_update = (values - old_exp_avg) * (1 - beta1)
    exp_avg[where] += exp_avg_update
    old_exp_avg_sq = exp_avg_sq[where]
    exp_avg_sq_update = (values ** 2 - old_exp_avg_sq) * (1 - beta2)
    exp_avg_sq[where] += exp_avg_sq_update
    numer = exp_avg_update + old_exp_avg
    denom = xp.sqrt(exp_avg_sq_update + old_exp_avg_sq)
    denom += eps
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr * math.sqrt(bias_correction2) / bias_correction1
    param[where] += -step_size * (numer / denom)


class SparseAdam(Optimizer):
    """Adam for sparse gradients: only the moments and parameter rows present in the
    gradient are updated ("lazy" Adam). Dense gradients are refused, as in PyTorch.

    Args:
        params: dense tensors (or param groups) to optimize.
        lr: learning rate (default 1e-3).
        betas: decay rates (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        maximize: ascend the objective instead of descending.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.ones(3))
        >>> opt = ember.optim.SparseAdam([w])
        >>> opt.defaults["betas"]
        (0.9, 0.999)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not lr > 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps > 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[i, j] for i, group in enumerate(self.param_groups)
                          for j, p in enumerate(group["params"]) if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    @_use_grad
    def step(self, closure=None):
        """Perform one optimization step (sparse gradients only).

        Args:
            closure: re-evaluates the model and returns the loss (optional).

        Returns:
            The closure's loss, or None.
        """
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in self._params_with_grad(group):
                grad = p._grad
                if not getattr(grad, "is_sparse", False):
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                state["step"] += 1
                grad = grad.coalesce()
                values = grad._values()._data
                if group.get("maximize", False):
                    values = -values
                _sparse_adam_update(_xp(p), p._data, state["exp_avg"]._data,
                                    state["exp_avg_sq"]._data, grad._indices()._data, values,
                                    state["step"], lr=_scalar(group["lr"]), beta1=beta1,
                                    beta2=beta2, eps=group["eps"])
                _bump(p)
        return loss
