"""Batch normalization layers: BatchNorm1d/2d/3d (running statistics as buffers)."""

from __future__ import annotations

from ... import _dtype as D
from ...ops import creation as _c
from ...ops import norm as _F
from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter, is_lazy
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d"]


class _NormBase(Module):
    """Parameters and running-statistics buffers shared by batch and instance norm."""

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(_c.empty(num_features, **kw))
            if bias:
                self.bias = Parameter(_c.empty(num_features, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _c.zeros(num_features, **kw))
            self.register_buffer("running_var", _c.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked",
                                 _c.tensor(0, dtype=D.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            from .module import _no_grad
            with _no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Running statistics reset; weight 1, bias 0."""
        self.reset_running_stats()
        if self.affine:
            from .module import _no_grad
            with _no_grad():
                self.weight.fill_(1)
                if self.bias is not None:
                    self.bias.zero_()

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # Checkpoints older than version 2 have no num_batches_tracked: it starts at 0.
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = self.num_batches_tracked if \
                    self.num_batches_tracked is not None else _c.tensor(0, dtype=D.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            from .module import _no_grad
            with _no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:       # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        if self.training:
            bn_training = True
        else:
            bn_training = self.running_mean is None and self.running_var is None
        use_running = not self.training or self.track_running_stats
        return _F.batch_norm(input, self.running_mean if use_running else None,
                             self.running_var if use_running else None, self.weight,
                             self.bias, bn_training, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a (N, C) or (N, C, L) input.

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: weight of the new batch in the running statistics; None: cumulative mean.
        affine: learnable weight and bias.
        track_running_stats: keep running statistics (used in eval mode).
        bias: learnable bias (with affine).

    Shape:
        Input (N, C) or (N, C, L); output the same.

    Example:
        >>> import ember
        >>> bn = ember.nn.BatchNorm1d(2)
        >>> bn(ember.tensor([[1.0, 2.0], [3.0, 6.0]])).shape
        torch.Size([2, 2])
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalization over a (N, C, H, W) input (per channel C).

    Shape:
        Input (N, C, H, W); output the same.

    Example:
        >>> import ember
        >>> ember.nn.BatchNorm2d(3)
        BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalization over a (N, C, D, H, W) input (per channel C).

    Shape:
        Input (N, C, D, H, W); output the same.

    Example:
        >>> import ember
        >>> ember.nn.BatchNorm3d(3).running_var.tolist()
        [1.0, 1.0, 1.0]
    """

    def _check_input_dim(self, input) -> None:
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class _LazyNormBase(_NormBase):
    """A norm layer whose num_features is read off the first input's dim 1; it then becomes
    ``cls_to_become`` (the matching non-lazy class), as PyTorch's lazy modules do."""

    cls_to_become = None

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter.__new__(UninitializedParameter, True, device,
                                                         dtype)
            self.bias = UninitializedParameter.__new__(UninitializedParameter, True, device,
                                                       dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = _c.tensor(0, dtype=D.int64, device=device)
        self._lazy_kw = {"device": device, "dtype": dtype}
        self._lazy_hook = self.register_forward_pre_hook(_infer_features)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values())
                   if t is not None)

    def initialize_parameters(self, input) -> None:
        """Give every parameter and buffer the size input.shape[1], then initialise them."""
        if self.num_features == 0:
            self.num_features = input.shape[1]
        if self.has_uninitialized_params():
            kw = self._lazy_kw
            for t in (self.weight, self.bias, self.running_mean, self.running_var):
                if t is not None and is_lazy(t):
                    t.materialize((self.num_features,), **kw)
            self.reset_parameters()
        self._lazy_hook.remove()
        del self._lazy_hook
        self.__class__ = self.cls_to_become


def _infer_features(module, args):
    module.initialize_parameters(args[0])


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """A BatchNorm1d whose num_features comes from the first input.

    Example:
        >>> import ember
        >>> m = ember.nn.LazyBatchNorm1d()
        >>> _ = m(ember.randn(4, 3))
        >>> m
        BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    cls_to_become = BatchNorm1d
    _check_input_dim = BatchNorm1d._check_input_dim


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """A BatchNorm2d whose num_features comes from the first input.

    Example:
        >>> import ember
        >>> m = ember.nn.LazyBatchNorm2d()
        >>> m(ember.randn(2, 3, 2, 2)).shape
        torch.Size([2, 3, 2, 2])
    """

    cls_to_become = BatchNorm2d
    _check_input_dim = BatchNorm2d._check_input_dim


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """A BatchNorm3d whose num_features comes from the first input.

    Example:
        >>> import ember
        >>> m = ember.nn.LazyBatchNorm3d()
        >>> m(ember.randn(2, 3, 2, 2, 2)).shape
        torch.Size([2, 3, 2, 2, 2])
    """

    cls_to_become = BatchNorm3d
    _check_input_dim = BatchNorm3d._check_input_dim
