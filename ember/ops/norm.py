"""nn ops: norm (forward on arrays, backward in Tensor ops); F wrappers in __all__."""

from __future__ import annotations

__all__: list[str] = []

TENSOR_METHODS: dict = {}
