"""Module parity with PyTorch: same weights in, compare outputs and gradients."""

from __future__ import annotations

import numpy as np

import ember
from tests.oracle import TOL, to_numpy, torch


def copy_state(ember_module, torch_module):
    """Load torch_module's state_dict into ember_module (keys must match PyTorch's)."""
    sd = {k: ember.tensor(to_numpy(v).copy() if v.dtype != torch.bfloat16 else
                          to_numpy(v).astype(np.float32), dtype=str(v.dtype).split(".")[1])
          for k, v in torch_module.state_dict().items()}
    ember_module.load_state_dict(sd)
    return ember_module


def assert_module_parity(ember_module, torch_module, *inputs, dtype="float32", rtol=None,
                         atol=None, grad=True, train=None, seed=1, check_params=True):
    """Copy weights, run both modules on the same inputs (NumPy arrays; float ones require
    grad), compare outputs, then backpropagate the same random cotangent and compare the
    input and parameter gradients. Returns (ember outputs, torch outputs)."""
    r, a = TOL[dtype]
    rtol = r if rtol is None else rtol
    atol = a if atol is None else atol
    copy_state(ember_module, torch_module)
    if train is not None:
        ember_module.train(train)
        torch_module.train(train)
    e_in, t_in = [], []
    for x in inputs:
        if isinstance(x, np.ndarray):
            needs = grad and x.dtype.kind == "f"
            e_in.append(ember.tensor(x, requires_grad=needs))
            t_in.append(torch.tensor(x, requires_grad=needs))
        else:
            e_in.append(x)
            t_in.append(x)
    e_out, t_out = ember_module(*e_in), torch_module(*t_in)
    e_list = list(e_out) if isinstance(e_out, (tuple, list)) else [e_out]
    t_list = list(t_out) if isinstance(t_out, (tuple, list)) else [t_out]
    for i, (e, t) in enumerate(zip(e_list, t_list)):
        if isinstance(t, torch.Tensor):
            np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=rtol, atol=atol,
                                       err_msg=f"output {i}")
    if not grad:
        return e_out, t_out
    pairs = [(e, t) for e, t in zip(e_list, t_list)
             if isinstance(t, torch.Tensor) and t.requires_grad]
    gen = np.random.default_rng(seed)
    cots = [gen.standard_normal(tuple(t.shape)).astype(to_numpy(t).dtype) for _, t in pairs]
    ember.autograd.backward([e for e, _ in pairs], [ember.tensor(c) for c in cots])
    torch.autograd.backward([t for _, t in pairs], [torch.tensor(c) for c in cots])
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            np.testing.assert_allclose(to_numpy(e.grad), to_numpy(t.grad), rtol=rtol,
                                       atol=atol, err_msg=f"grad of input {i}")
    if check_params:
        e_params = dict(ember_module.named_parameters())
        for name, tp in torch_module.named_parameters():
            ep = e_params[name]
            if tp.grad is None:
                assert ep.grad is None or not np.any(to_numpy(ep.grad)), name
                continue
            np.testing.assert_allclose(to_numpy(ep.grad), to_numpy(tp.grad), rtol=rtol,
                                       atol=atol, err_msg=f"grad of parameter {name}")
    return e_out, t_out
