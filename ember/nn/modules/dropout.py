"""Dropout layers: Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout."""

from __future__ import annotations

from ...ops import norm as _F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each element with probability p in training and scales the rest by
    1 / (1 - p); the identity in eval mode. Same mask as PyTorch for the same seed.

    Args:
        p: drop probability.
        inplace: write into the input.

    Shape:
        Input any shape; output the same.

    Example:
        >>> import ember
        >>> ember.nn.Dropout(0.2)
        Dropout(p=0.2, inplace=False)
    """

    def forward(self, input):
        return _F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of (N, C, L) or (C, L) inputs.

    Shape:
        Input (N, C, L) or (C, L); output the same.

    Example:
        >>> import ember
        >>> ember.nn.Dropout1d().eval()(ember.ones(2, 3)).sum().item()
        6.0
    """

    def forward(self, input):
        return _F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of (N, C, H, W) inputs.

    Shape:
        Input (N, C, H, W); output the same.

    Example:
        >>> import ember
        >>> ember.nn.Dropout2d().eval()(ember.ones(1, 2, 2, 2)).sum().item()
        8.0
    """

    def forward(self, input):
        return _F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) inputs.

    Shape:
        Input (N, C, D, H, W) or (C, D, H, W); output the same.

    Example:
        >>> import ember
        >>> ember.nn.Dropout3d(0.1)
        Dropout3d(p=0.1, inplace=False)
    """

    def forward(self, input):
        return _F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps zero mean and unit variance.

    Shape:
        Input any shape; output the same.

    Example:
        >>> import ember
        >>> ember.nn.AlphaDropout(0.2)
        AlphaDropout(p=0.2, inplace=False)
    """

    def forward(self, input):
        return _F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels.

    Shape:
        Input (N, C, *); output the same.

    Example:
        >>> import ember
        >>> ember.nn.FeatureAlphaDropout(0.2)
        FeatureAlphaDropout(p=0.2, inplace=False)
    """

    def forward(self, input):
        return _F.feature_alpha_dropout(input, self.p, self.training)
