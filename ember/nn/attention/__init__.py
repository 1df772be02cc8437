"""``torch.nn.attention``: choose which scaled_dot_product_attention kernels may run.

ember has one SDPA implementation per device. Like PyTorch's CPU build, the cpu device offers
the MATH and FLASH_ATTENTION backends (a call with neither allowed raises PyTorch's error); on
cuda every backend name is served by ember's kernel.
"""

from __future__ import annotations

import contextlib
import enum

from ...backends import cuda as _cuda_flags

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __repr__(self) -> str:
        return f"<SDPBackend.{self.name}: {self.value}>"

    def __str__(self) -> str:
        return f"SDPBackend.{self.name}"


_FLAG = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
         SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.CUDNN_ATTENTION: "cudnn"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority: bool = False):
    """Within the block, only ``backends`` (one SDPBackend or a list) may run
    scaled_dot_product_attention.

    Example:
        >>> import ember
        >>> from ember.nn.attention import SDPBackend, sdpa_kernel
        >>> q = ember.randn(1, 2, 4, 8)
        >>> with sdpa_kernel(SDPBackend.MATH):
        ...     ember.nn.functional.scaled_dot_product_attention(q, q, q).shape
        torch.Size([1, 2, 4, 8])
    """
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(backends)
    for b in backends:
        if not isinstance(b, SDPBackend):
            raise AssertionError("Backend must be an instance of SDPBackend")
    saved = dict(_cuda_flags._sdp)
    _cuda_flags._sdp.update({flag: b in backends for b, flag in _FLAG.items()})
    try:
        yield
    finally:
        _cuda_flags._sdp.update(saved)
