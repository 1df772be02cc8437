"""Shared machinery of the table-driven op tests: build tensors from a Sample, run an op on
ember and on torch, compare outputs and gradients."""

from __future__ import annotations

import numpy as np

import ember
from tests.oracle import TOL, to_numpy, torch


def is_float_array(a) -> bool:
    return isinstance(a, np.ndarray) and (a.dtype.kind in "fc" or a.dtype.kind == "V")


def grad_positions(sample):
    if sample.grad is not None:
        return tuple(sample.grad)
    return tuple(i for i, a in enumerate(sample.args) if is_float_array(a))


def _map_args(args, make):
    out = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            out.append(make(i, a))
        elif isinstance(a, (list, tuple)) and a and all(isinstance(x, np.ndarray) for x in a):
            out.append(type(a)(make((i, j), x) for j, x in enumerate(a)))
        else:
            out.append(a)
    return out


def ember_args(sample, requires_grad=True, device="cpu"):
    pos = grad_positions(sample) if requires_grad else ()

    def make(i, a):
        t = ember.tensor(a, device=device)
        idx = i[0] if isinstance(i, tuple) else i
        if idx in pos and is_float_array(a):
            t.requires_grad_(True)
        return t
    return _map_args(sample.args, make), _map_kwargs(sample.kwargs, device)


def _map_kwargs(kwargs, device="cpu", to_torch=False):
    out = {}
    for k, v in kwargs.items():
        if isinstance(v, np.ndarray):
            out[k] = _torch_tensor(v) if to_torch else ember.tensor(v, device=device)
        else:
            out[k] = v
    return out


def _torch_tensor(a):
    if a.dtype.kind == "V" or str(a.dtype) == "bfloat16":
        return torch.from_numpy(a.astype(np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.array(a, copy=True, order="C"))


def torch_args(sample, requires_grad=True):
    pos = grad_positions(sample) if requires_grad else ()

    def make(i, a):
        t = _torch_tensor(a)
        idx = i[0] if isinstance(i, tuple) else i
        if idx in pos and is_float_array(a):
            t.requires_grad_(True)
        return t
    return _map_args(sample.args, make), _map_kwargs(sample.kwargs, to_torch=True)


def flat_outputs(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(flat_outputs(o))
        return res
    if hasattr(out, "values") and hasattr(out, "indices") and not hasattr(out, "shape"):
        return [out.values, out.indices]
    return [out]


def leaves(args):
    res = []
    for a in args:
        if isinstance(a, (list, tuple)):
            res.extend(leaves(a))
        elif hasattr(a, "requires_grad") and a.requires_grad:
            res.append(a)
    return res


def tolerance(spec, dtype):
    rtol, atol = TOL.get(dtype, (1e-6, 1e-6))
    return (spec.rtol if spec.rtol is not None else rtol,
            spec.atol if spec.atol is not None else atol)


def assert_values(spec, dtype, got, want, what):
    g, w = to_numpy(got), to_numpy(want)
    assert g.shape == w.shape, f"{spec.id} {what}: shape {g.shape} != torch's {w.shape}"
    rtol, atol = tolerance(spec, dtype)
    if g.dtype.kind in "biu" and w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w, err_msg=f"{spec.id} {what}")
    else:
        np.testing.assert_allclose(g.astype(np.complex128 if g.dtype.kind == "c" else
                                            np.float64), w, rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=f"{spec.id} {what}")
