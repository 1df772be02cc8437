"""Helpers shared by the distribution families (broadcasting, probs <-> logits)."""

from __future__ import annotations

import functools
import math
from numbers import Number

import ember
from ember._tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits", "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def broadcast_all(*values):
    """Broadcasts tensors and Python numbers to one shape.

    Numbers become tensors of the first tensor argument's dtype and device (or the
    default dtype), as ``torch.distributions.utils.broadcast_all`` does.

    Returns:
        tuple of Tensors, all of the broadcast shape.
    """
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype, device = ember.get_default_dtype(), None
        for v in values:
            if isinstance(v, Tensor):
                dtype, device = v.dtype, v.device
                break
        values = [v if isinstance(v, Tensor) else ember.tensor(v, dtype=dtype, device=device)
                  for v in values]
    return ember.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    return ember.empty(shape, dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim: int):
    """Sums the rightmost ``dim`` dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(value.shape[: value.dim() - dim] + (-1,)).sum(-1)


def _sigmoid(x):
    """sigmoid(x) with full relative precision for negative x as well.

    ember.sigmoid computes 0.5 * (1 + tanh(x / 2)), which cancels for x << 0 (float32:
    sigmoid(-15) is 2.6% off, sigmoid(-20) is 0). exp(-|x|) never overflows and keeps
    both tails exact; written with Tensor ops, so gradients flow.
    """
    e = ember.exp(-ember.abs(x))
    return ember.where(x >= 0, 1 / (1 + e), e / (1 + e))


def logits_to_probs(logits, is_binary: bool = False):
    """Probabilities from logits: sigmoid for binary, softmax over the last dim otherwise."""
    if is_binary:
        return _sigmoid(logits)
    return ember.softmax(logits, dim=-1)


def clamp_probs(probs):
    """Clamps probabilities into the open interval (0, 1) by the dtype's eps."""
    eps = ember.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary: bool = False):
    """Logits from probabilities (log-odds for binary, log-probabilities otherwise)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ember.log(ps_clamped) - ember.log1p(-ps_clamped)
    return ember.log(ps_clamped)


class lazy_property:
    """A property computed once on first access and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with ember.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n: int, diag: int, device):
    rows = ember.arange(n, device=device).view(-1, 1)
    cols = ember.arange(n, device=device)
    return cols <= rows + diag


def tril_matrix_to_vec(mat, diag: int = 0):
    """The lower triangle (diagonal offset ``diag``) of the last two dims, row by row."""
    n = mat.shape[-1]
    if not -n <= diag < n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec, diag: int = 0):
    """Inverse of :func:`tril_matrix_to_vec`: a lower-triangular matrix (zeros elsewhere).

    Built by gathering from ``[0, *vec]``, so it is differentiable and never writes in place.
    """
    m = vec.shape[-1]
    # the n x n triangle with offset diag holds m entries: solve n^2 + (1 + 2 diag) n
    # - |diag| (diag + 1) - 2 m = 0 for its positive root
    b = 1 + 2 * diag
    n_real = (-b + math.sqrt(b * b + 8 * m + 4 * abs(diag) * (diag + 1))) / 2
    n = round(n_real)
    if abs(n - n_real) > ember.finfo(vec.dtype).eps:
        raise ValueError(f"The size of last dimension is {m} which cannot be expressed as "
                         "the lower triangular part of a square D x D matrix.")
    mask = _tril_mask(n, diag, vec.device).reshape(-1)
    # position k + 1 of the k-th triangle entry in [0, *vec]; 0 (the zero) elsewhere
    index = ember.where(mask, ember.cumsum(mask.long(), 0), 0)
    padded = ember.cat([vec.new_zeros(vec.shape[:-1] + (1,)), vec], -1)
    return padded.index_select(-1, index).reshape(vec.shape[:-1] + (n, n))
