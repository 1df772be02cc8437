"""Each spec's bad inputs: the exception class PyTorch raises and words of the message."""

from __future__ import annotations

import pytest

from tests.opdb import ALL_SPECS
from tests.ops.runner import ember_args

CASES = [(spec, i) for spec in ALL_SPECS for i in range(len(spec.errors))]


@pytest.mark.parametrize("spec,i", CASES, ids=[f"{s.id}-{i}" for s, i in CASES])
def test_errors(spec, i):
    sample, exc, fragment = spec.errors[i]
    args, kw = ember_args(sample, requires_grad=False)
    with pytest.raises(exc, match=fragment):
        spec.ember_fn()(*args, **kw)
