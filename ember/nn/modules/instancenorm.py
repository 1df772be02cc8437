"""Instance normalization layers: InstanceNorm1d/2d/3d."""

from __future__ import annotations

import warnings

from ...ops import norm as _F
from .batchnorm import _LazyNormBase, _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class _InstanceNorm(_NormBase):
    _no_batch_dim = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input_dim(self, input) -> None:
        dims = (self._no_batch_dim, self._no_batch_dim + 1)
        if input.dim() not in dims:
            raise ValueError(f"expected {dims[0]}D or {dims[1]}D input (got {input.dim()}D "
                             "input)")

    def forward(self, input):
        self._check_input_dim(input)
        feature_dim = input.dim() - self._no_batch_dim
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={feature_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{input.size(feature_dim)}.")
            warnings.warn(f"input's size at dim={feature_dim} does not match num_features. "
                          "You can silence this warning by not passing in num_features, which "
                          "is not used because affine=False", stacklevel=2)
        if input.dim() == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)

    def _apply_instance_norm(self, input):
        return _F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                                self.bias, self.training or not self.track_running_stats,
                                self.momentum if self.momentum is not None else 0.0, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) inputs: each channel of each sample
    normalised over L.

    Shape:
        Input (N, C, L) or (C, L); output the same.

    Example:
        >>> import ember
        >>> m = ember.nn.InstanceNorm1d(3)
        >>> m(ember.tensor([[[1.0, 3.0]] * 3]))[0, 0].round(decimals=3)
        tensor([-1.,  1.])
    """

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) inputs.

    Shape:
        Input (N, C, H, W) or (C, H, W); output the same.

    Example:
        >>> import ember
        >>> ember.nn.InstanceNorm2d(2)(ember.randn(1, 2, 3, 3)).shape
        torch.Size([1, 2, 3, 3])
    """

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) inputs.

    Shape:
        Input (N, C, D, H, W) or (C, D, H, W); output the same.

    Example:
        >>> import ember
        >>> ember.nn.InstanceNorm3d(2)(ember.randn(2, 2, 2, 2)).shape
        torch.Size([2, 2, 2, 2])
    """

    _no_batch_dim = 4


class _LazyInstanceNorm(_LazyNormBase, _InstanceNorm):
    def __init__(self, eps: float = 1e-5, momentum: float = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None) -> None:
        _LazyNormBase.__init__(self, eps, momentum, affine, track_running_stats, device, dtype)


class LazyInstanceNorm1d(_LazyInstanceNorm):
    """An InstanceNorm1d whose num_features comes from the first input.

    Example:
        >>> import ember
        >>> m = ember.nn.LazyInstanceNorm1d(affine=True)
        >>> _ = m(ember.randn(2, 3, 4))
        >>> m.weight.shape
        torch.Size([3])
    """

    cls_to_become = InstanceNorm1d
    _no_batch_dim = 2


class LazyInstanceNorm2d(_LazyInstanceNorm):
    """An InstanceNorm2d whose num_features comes from the first input.

    Example:
        >>> import ember
        >>> ember.nn.LazyInstanceNorm2d(affine=True)(ember.randn(2, 3, 2, 2)).shape
        torch.Size([2, 3, 2, 2])
    """

    cls_to_become = InstanceNorm2d
    _no_batch_dim = 3


class LazyInstanceNorm3d(_LazyInstanceNorm):
    """An InstanceNorm3d whose num_features comes from the first input.

    Example:
        >>> import ember
        >>> ember.nn.LazyInstanceNorm3d(affine=True)(ember.randn(1, 2, 2, 2, 2)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    cls_to_become = InstanceNorm3d
    _no_batch_dim = 4
