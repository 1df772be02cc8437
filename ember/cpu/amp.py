"""``torch.cpu.amp``: the deprecated spellings of ``ember.amp`` for the CPU."""

from .. import _dtype as D
from ..amp._deprecated import device_aliases

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = device_aliases("cpu", D.bfloat16, __name__)
