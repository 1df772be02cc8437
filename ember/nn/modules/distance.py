"""Distance layers: PairwiseDistance, CosineSimilarity."""

from __future__ import annotations

from ...ops import norm as _F
from .module import Module

__all__ = ["PairwiseDistance", "CosineSimilarity"]


class PairwiseDistance(Module):
    """p-norm of x1 - x2 + eps along the last dimension.

    Args:
        p: the norm's order.
        eps: added to the difference (avoids a zero norm).
        keepdim: keep the reduced dimension.

    Shape:
        Inputs (N, D) or (D,), broadcastable; output (N,) or ().

    Example:
        >>> import ember
        >>> ember.nn.PairwiseDistance(eps=0.0)(ember.zeros(1, 2), ember.tensor([[3.0, 4.0]]))
        tensor([5.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return _F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine similarity of x1 and x2 along dim.

    Args:
        dim: the dimension compared.
        eps: lower bound of each norm.

    Shape:
        Inputs (*, D, *) broadcastable; output without dim.

    Example:
        >>> import ember
        >>> ember.nn.CosineSimilarity(dim=0)(ember.tensor([1.0, 0.0]), ember.tensor([2.0, 0.0]))
        tensor(1.)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return _F.cosine_similarity(x1, x2, self.dim, self.eps)
