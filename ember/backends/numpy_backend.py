"""NumPy-only pieces of the cpu backend."""

from __future__ import annotations

import numpy as np


class errstate:
    """``numpy.errstate(all='ignore')`` on cpu, nothing on cuda: PyTorch never warns on inf or
    nan results. (np.errstate costs ~4 us a use, so the hottest ops (add, sub, mul) rely on
    the module-scoped warnings filter in _dispatch.py instead.)"""

    __slots__ = ("state",)

    def __init__(self, xp):
        self.state = np.errstate(all="ignore") if xp is np else None

    def __enter__(self):
        if self.state is not None:
            self.state.__enter__()

    def __exit__(self, *exc):
        if self.state is not None:
            self.state.__exit__(*exc)
