"""The op table: one OpSpec per op drives parity, reference, gradcheck and error tests.

Each area has its own module (elementwise, reduce, shape, index, linalg, creation) with a
list ``SPECS``; ``ALL_SPECS`` joins them. Adding an entry gives an op every check.
"""

from __future__ import annotations

import importlib

from .spec import OpSpec, Sample  # noqa: F401

_AREAS = ("elementwise", "reduce", "shape", "index", "linalg", "creation", "nn", "stats",
          "nn_conv", "nn_norm", "nn_activation", "nn_loss", "nn_rnn", "nn_attention")


def _load():
    specs = []
    for area in _AREAS:
        try:
            module = importlib.import_module(f"{__name__}.{area}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{area}":
                continue
            raise
        specs.extend(module.SPECS)
    names = [s.id for s in specs]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"opdb: duplicate spec ids {sorted(dup)}")
    return specs


ALL_SPECS = _load()
