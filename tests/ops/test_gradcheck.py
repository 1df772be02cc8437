"""float64 finite differences against each op's backward: first and second order."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.opdb import ALL_SPECS
from tests.ops.runner import ember_args, flat_outputs, grad_positions

GRAD = [s for s in ALL_SPECS if s.grad and "float64" in s.dtypes]
GRADGRAD = [s for s in GRAD if s.gradgrad]


def _check(spec, second):
    rng = np.random.default_rng(0)
    for sample in spec.make_samples(rng, "float64"):
        if not grad_positions(sample):
            continue
        args, kw = ember_args(sample, requires_grad=True)
        fn = spec.ember_fn()
        pos = [i for i, a in enumerate(args) if isinstance(a, ember.Tensor) and a.requires_grad]

        def f(*diff):
            full = list(args)
            for p, d in zip(pos, diff):
                full[p] = d
            outs = [o for o in flat_outputs(fn(*full, **kw))
                    if isinstance(o, ember.Tensor) and o.is_floating_point()]
            return tuple(outs)

        inputs = tuple(args[p] for p in pos)
        check = ember.autograd.gradgradcheck if second else ember.autograd.gradcheck
        assert check(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3), f"{spec.id}{sample}"


@pytest.mark.parametrize("spec", GRAD, ids=[s.id for s in GRAD])
def test_gradcheck(spec):
    _check(spec, second=False)


@pytest.mark.parametrize("spec", GRADGRAD, ids=[s.id for s in GRADGRAD])
def test_gradgradcheck(spec):
    _check(spec, second=True)
