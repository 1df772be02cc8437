"""Utilities: hooks, data loading, checkpoints."""

from . import checkpoint  # noqa: F401
