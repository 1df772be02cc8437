"""Utilities: hooks, data loading, checkpoints."""

from . import checkpoint, data  # noqa: F401
