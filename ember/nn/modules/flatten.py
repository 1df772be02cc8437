"""Flatten, Unflatten and Identity.

Identity lives here rather than in linear.py (where PyTorch defines it) because linear.py is
written separately; ``ember.nn.Identity`` is the same either way.
"""

from __future__ import annotations

from .module import Module

__all__ = ["Flatten", "Unflatten", "Identity"]


class Identity(Module):
    """Returns its input unchanged; constructor arguments are accepted and ignored.

    Shape:
        Input: any. Output: the same.

    Example:
        >>> import ember
        >>> ember.nn.Identity(54, unused="x")(ember.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flattens dims ``start_dim`` to ``end_dim`` into one (by default all but the batch dim).

    Args:
        start_dim: first dim to flatten (default 1).
        end_dim: last dim to flatten (default -1).

    Shape:
        Input: (*, S_start, ..., S_end, *). Output: (*, S_start * ... * S_end, *).

    Example:
        >>> import ember
        >>> ember.nn.Flatten()(ember.zeros(32, 1, 5, 5)).shape
        torch.Size([32, 25])
    """

    __constants__ = ["start_dim", "end_dim"]

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dim ``dim`` into the shape ``unflattened_size`` (one entry may be -1).

    Args:
        dim: the dim to expand (an int; PyTorch's named-tensor form with a str is not
            supported, ember has no named tensors).
        unflattened_size: a tuple, list or Size of ints.

    Shape:
        Input: (*, S_dim, *). Output: (*, U_1, ..., U_n, *) with prod(U) = S_dim.

    Example:
        >>> import ember
        >>> ember.nn.Unflatten(1, (2, 5, 5))(ember.zeros(2, 50)).shape
        torch.Size([2, 2, 5, 5])
    """

    __constants__ = ["dim", "unflattened_size"]

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten: a str dim names a dimension of a named tensor; ember "
                            "has no named tensors, pass the dim as an int")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("unflattened_size must be a tuple of ints, but found type "
                            f"{type(unflattened_size).__name__}")
        for i, elem in enumerate(unflattened_size):
            if not isinstance(elem, int):
                raise TypeError("unflattened_size must be tuple of ints, but found element of "
                                f"type {type(elem).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
