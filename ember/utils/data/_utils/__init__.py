"""Helpers of the DataLoader: collate, fetch, worker loop, pin memory, signal handling.

Laid out like ``torch.utils.data._utils`` so that imports such as
``from ember.utils.data._utils.collate import default_collate`` work as they do in PyTorch.
"""

from __future__ import annotations

import sys
import traceback

IS_WINDOWS = sys.platform == "win32"

# How long a worker (or the main process) blocks on a queue before it checks that its peer is
# still alive. The main process also wakes up at once when a worker exits (it waits on the
# workers' sentinels), so this only bounds how late a worker notices that its parent died.
MP_STATUS_CHECK_INTERVAL = 5.0

try:
    import numpy  # noqa: F401
    HAS_NUMPY = True
except ModuleNotFoundError:  # pragma: no cover - numpy is a hard dependency of ember
    HAS_NUMPY = False


class KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError shows its traceback readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception and its formatted traceback, picklable across threads and processes.

    Args:
        exc_info: a ``sys.exc_info()`` triple; the exception being handled when omitted.
        where: where it happened, e.g. ``"in DataLoader worker process 0"``.

    ``reraise()`` raises the same exception class with PyTorch's message:
    ``Caught ValueError in DataLoader worker process 0.\\nOriginal Traceback (most recent
    call last): ...``.
    """

    def __init__(self, exc_info=None, where: str = "in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        # Only the type and the text are kept: the traceback object would hold every frame
        # (and the batch) alive, and cannot be pickled anyway.
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception's class with the original traceback in the message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # The class needs other constructor arguments: keep the text, lose the class.
            raise RuntimeError(msg) from None
        raise exception


from . import collate, fetch, pin_memory, signal_handling, worker  # noqa: E402,F401
