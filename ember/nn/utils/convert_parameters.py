"""parameters_to_vector and vector_to_parameters."""

from __future__ import annotations

from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param, old_device: int) -> int:
    device = param.get_device() if param.is_cuda else -1
    if old_device is None:
        return device
    if device != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return old_device


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable).

    Example:
        >>> import ember
        >>> ps = [ember.zeros(2, 2), ember.ones(3)]
        >>> ember.nn.utils.parameters_to_vector(ps).tolist()
        [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    """
    from ...ops.shape import cat
    device = None
    parts = []
    for param in parameters:
        device = _check_param_device(param, device)
        parts.append(param.reshape(-1))
    return cat(parts)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Make each parameter's data a view of its slice of ``vec`` (in parameters' order).

    Args:
        vec: a 1-D tensor with as many elements as all parameters together.
        parameters: an iterable of tensors; their identity is kept, their data replaced.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
