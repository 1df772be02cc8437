"""Values and gradients of every op in the table against PyTorch (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.opdb import ALL_SPECS
from tests.ops.runner import assert_values, ember_args, flat_outputs, leaves, torch_args
from tests.oracle import needs_torch, torch

CASES = [(spec, dt) for spec in ALL_SPECS if spec.skip_parity is None for dt in spec.dtypes]


@needs_torch
@pytest.mark.parametrize("spec,dtype", CASES, ids=[f"{s.id}-{d}" for s, d in CASES])
def test_parity(spec, dtype):
    rng = np.random.default_rng(0)
    fn, tfn = spec.ember_fn(), spec.get_torch_fn(torch)
    for sample in spec.make_samples(rng, dtype):
        grad = spec.grad and dtype in ("float32", "float64", "complex64", "complex128")
        e_args, e_kw = ember_args(sample, requires_grad=grad)
        t_args, t_kw = torch_args(sample, requires_grad=grad)
        e_out = flat_outputs(fn(*e_args, **e_kw))
        t_out = flat_outputs(tfn(*t_args, **t_kw))
        assert len(e_out) == len(t_out), f"{spec.id}{sample}: {len(e_out)} outputs vs torch's"
        for i, (e, t) in enumerate(zip(e_out, t_out)):
            if spec.check_dtype and hasattr(t, "dtype"):
                assert str(e.dtype) == str(t.dtype), \
                    f"{spec.id}{sample} output {i}: dtype {e.dtype} != torch's {t.dtype}"
            assert_values(spec, dtype, e, t, f"{sample} output {i}")
        if not grad:
            continue
        e_leaves, t_leaves = leaves(e_args), leaves(t_args)
        pairs = [(e, t) for e, t in zip(e_out, t_out)
                 if hasattr(t, "requires_grad") and t.requires_grad]
        if not e_leaves or not pairs:
            continue
        gen = np.random.default_rng(1)
        cot = [gen.standard_normal(tuple(t.shape)).astype(str(t.dtype).replace("torch.", ""))
               for _, t in pairs]
        import ember
        e_grads = ember.autograd.grad([e for e, _ in pairs], e_leaves,
                                      [ember.tensor(c) for c in cot], allow_unused=True)
        t_grads = torch.autograd.grad([t for _, t in pairs], t_leaves,
                                      [torch.from_numpy(c) for c in cot], allow_unused=True)
        for k, (eg, tg) in enumerate(zip(e_grads, t_grads)):
            if tg is None:
                assert eg is None or not np.any(eg.numpy()), f"{spec.id}: grad {k} should be 0"
                continue
            assert eg is not None, f"{spec.id}{sample}: no gradient for input {k}"
            assert_values(spec, dtype, eg, tg, f"{sample} grad of input {k}")
