"""Values of every op that has a NumPy reference (always runs, torch or not)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.opdb import ALL_SPECS
from tests.ops.runner import assert_values, ember_args, flat_outputs

CASES = [(spec, dt) for spec in ALL_SPECS if spec.ref is not None for dt in spec.dtypes]


@pytest.mark.parametrize("spec,dtype", CASES, ids=[f"{s.id}-{d}" for s, d in CASES])
def test_reference(spec, dtype):
    rng = np.random.default_rng(0)
    for sample in spec.make_samples(rng, dtype):
        e_args, e_kw = ember_args(sample, requires_grad=False)
        got = flat_outputs(spec.ember_fn()(*e_args, **e_kw))
        want = spec.ref(*sample.args, **sample.kwargs)
        want = list(want) if isinstance(want, (tuple, list)) else [want]
        for i, (g, w) in enumerate(zip(got, want)):
            assert_values(spec, dtype, g, np.asarray(w), f"{sample} output {i} vs NumPy")
