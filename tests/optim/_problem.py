"""A small deterministic problem run identically on ember and PyTorch.

Gradients are set explicitly from the current parameter values with float32 NumPy
arithmetic (``g = 0.1 * x**3 + x + noise_t``), so both libraries see bit-identical
gradients whenever their parameters agree: any difference in a trajectory comes from the
optimizer's update rule alone.
"""

from __future__ import annotations

import copy

import numpy as np

import ember

SHAPES = [(3, 4), (5,), ()]


def to_np(t):
    if isinstance(t, ember.Tensor):
        return np.asarray(t.detach()).copy()
    return t.detach().numpy().copy()


def make_problem(steps: int, seed: int = 0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    noise = [[(0.1 * rng.standard_normal(s)).astype(dtype) for s in SHAPES]
             for _ in range(steps)]
    return init, noise


def grad_of(x: np.ndarray, noise: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return (x.dtype.type(0.1) * x * x * x + x + noise).astype(x.dtype)


def build(lib, init, name, kwargs, groups=None):
    params = [lib.nn.Parameter(lib.tensor(a.copy())) for a in init]
    if groups is None:
        spec = params
    else:
        spec = [dict(g, params=[params[i] for i in g["params"]]) for g in groups]
    return params, getattr(lib.optim, name)(spec, **kwargs)


def set_grads(lib, params, noise_t, sign=1):
    """Set each grad; sign=-1 gives the gradient of -f, which maximize=True climbs."""
    for p, n in zip(params, noise_t):
        g = grad_of(to_np(p), n)
        p.grad = lib.tensor(-g if sign < 0 else g)


def run(lib, name, kwargs, steps=50, groups=None, seed=0, dtype=np.float32):
    """Trajectory (list over steps of lists of parameter arrays) of ``steps`` updates."""
    init, noise = make_problem(steps, seed, dtype)
    params, opt = build(lib, init, name, kwargs, groups)
    sign = -1 if kwargs.get("maximize") else 1
    traj = []
    for t in range(steps):
        set_grads(lib, params, noise[t], sign)
        opt.step()
        traj.append([to_np(p) for p in params])
    return traj, params, opt


def run_resumed(lib, name, kwargs, steps=50, split=20, seed=0):
    """The same run, but the optimizer is rebuilt from a state_dict after ``split`` steps."""
    init, noise = make_problem(steps, seed)
    params, opt = build(lib, init, name, kwargs)
    traj = []
    for t in range(steps):
        if t == split:
            saved = copy.deepcopy(opt.state_dict())
            opt = getattr(lib.optim, name)(params, **kwargs)
            opt.load_state_dict(saved)
        set_grads(lib, params, noise[t])
        opt.step()
        traj.append([to_np(p) for p in params])
    return traj
