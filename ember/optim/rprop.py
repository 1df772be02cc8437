"""Rprop: resilient backpropagation."""

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
    _zeros_like,
)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: per-coordinate step sizes that grow while the gradient keeps its sign and
    shrink when it flips; only the sign of the gradient is used.

    Args:
        params: tensors or param groups to optimize.
        lr: initial step size (default 1e-2).
        etas: (decrease, increase) factors (default (0.5, 1.2)).
        step_sizes: (minimal, maximal) step size (default (1e-6, 50)).
        capturable, foreach, maximize, differentiable: as for :class:`Adam`.

    Example:
        >>> import ember
        >>> w = ember.nn.Parameter(ember.tensor([1.0]))
        >>> opt = ember.optim.Rprop([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> round(w.item(), 4)
        0.9
    """

    def __init__(self, params, lr: float = 1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["prev"] = _zeros_like(p)
                    lr = _scalar(group["lr"])
                    # the imaginary part is a separate real number with its own step size
                    value = complex(lr, lr) if p.is_complex() else lr
                    state["step_size"] = _full_like(p, value)
                xp = _xp(p)
                param, grad = _real(p._data), _real(p._grad._data)
                if group["maximize"]:
                    grad = -grad
                _inc(_state_step(state))
                prev = _real(state["prev"]._data)
                step_size = _real(state["step_size"]._data)
                t = param.dtype.type  # the real dtype (complex params are viewed as real)
                sign = xp.sign(grad * prev)
                flipped = sign < 0
                factor = xp.where(sign > 0, t(etaplus), xp.where(flipped, t(etaminus), t(1)))
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                # after a sign flip the step is skipped and the gradient forgotten
                grad = xp.where(flipped, t(0), grad)
                param += -1.0 * xp.sign(grad) * step_size
                _bump(p)
                prev[...] = grad
        return loss
