"""RemovableHandle: what register_*hook returns."""

from __future__ import annotations

import itertools

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """Removes a hook from the dict it was registered in; usable as a context manager."""

    _ids = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._ids)
        if isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dicts = tuple(extra_dict or ())

    def remove(self) -> None:
        for d in (self.hooks_dict,) + self.extra_dicts:
            if d is not None and self.id in d:
                del d[self.id]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
