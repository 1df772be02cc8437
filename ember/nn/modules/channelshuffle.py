"""nn modules: ChannelShuffle."""

from __future__ import annotations

from ...ops import conv as _F
from .module import Module

__all__ = ["ChannelShuffle"]


class ChannelShuffle(Module):
    """Regroup channels: (N, g*c, *) viewed as (N, g, c, *) -> (N, c, g, *) -> (N, g*c, *).

    Example:
        >>> import ember
        >>> ember.nn.ChannelShuffle(2)(ember.arange(4.).reshape(1, 4, 1)).flatten().tolist()
        [0.0, 2.0, 1.0, 3.0]
    """

    __constants__ = ["groups"]

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return _F.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
