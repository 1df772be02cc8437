"""``torch.cuda.amp``: the deprecated spellings of ``ember.amp`` for CUDA (they warn, as in
PyTorch, and then behave as ``ember.amp.autocast("cuda", ...)`` / ``GradScaler("cuda", ...)``)."""

from __future__ import annotations

import functools

from .. import _dtype as D
from .. import amp as _amp
from ..amp._deprecated import device_aliases

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]

autocast, GradScaler = device_aliases("cuda", D.float16, __name__)


def custom_fwd(fwd=None, *, cast_inputs=None):
    if fwd is None:
        return functools.partial(custom_fwd, cast_inputs=cast_inputs)
    return _amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    return _amp.custom_bwd(bwd, device_type="cuda")
