"""Utilities: hooks, data loading, checkpoints."""
