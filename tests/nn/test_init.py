"""ember.nn.init against torch.nn.init: same seed, same draws, same numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, to_numpy, torch

init = ember.nn.init

CASES = [
    ("uniform_", (3, 4), (-1.0, 2.0), {}),
    ("normal_", (3, 40), (1.0, 2.0), {}),
    ("constant_", (2, 3), (0.25,), {}),
    ("ones_", (2, 3), (), {}),
    ("zeros_", (2, 3), (), {}),
    ("eye_", (3, 5), (), {}),
    ("dirac_", (4, 2, 3, 3), (2,), {}),
    ("dirac_", (4, 3, 3), (), {}),
    ("dirac_", (2, 2, 3, 3, 3), (), {}),
    ("xavier_uniform_", (5, 4, 3), (), {"gain": 2.0}),
    ("xavier_normal_", (5, 4), (), {}),
    ("kaiming_uniform_", (6, 4, 3), (), {"a": math.sqrt(5)}),
    ("kaiming_uniform_", (6, 4), (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", (6, 4, 2, 2), (), {"nonlinearity": "tanh"}),
    ("kaiming_normal_", (6, 4), (), {"a": 0.2, "mode": "fan_out"}),
    ("trunc_normal_", (30, 7), (0.0, 1.0, -1.0, 1.5), {}),
    ("trunc_normal_", (30, 7), (0.0, 0.02, -0.04, 0.04), {}),
    ("trunc_normal_", (30, 7), (0.5, 1.0, 1.2, 1.6), {}),
    ("sparse_", (10, 4), (0.3,), {}),
]


@needs_torch
@pytest.mark.parametrize("name,shape,args,kwargs", CASES,
                         ids=[f"{c[0]}{c[1]}{i}" for i, c in enumerate(CASES)])
def test_init_matches_torch_under_seed(name, shape, args, kwargs):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = ember.empty(*shape), torch.empty(*shape)
    out = getattr(init, name)(e, *args, **kwargs)
    getattr(torch.nn.init, name)(t, *args, **kwargs)
    assert out is e
    np.testing.assert_array_equal(to_numpy(e), to_numpy(t))


@needs_torch
@pytest.mark.parametrize("shape", [(3, 8), (8, 3), (4, 2, 3)])
def test_orthogonal_matches_torch(shape):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = ember.empty(*shape), torch.empty(*shape)
    init.orthogonal_(e, gain=2.0)
    torch.nn.init.orthogonal_(t, gain=2.0)
    np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=1e-5, atol=1e-6)
    flat = to_numpy(e).reshape(shape[0], -1) / 2
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


@needs_torch
def test_generator_argument():
    e, t = ember.empty(4, 5), torch.empty(4, 5)
    init.kaiming_normal_(e, generator=ember.Generator().manual_seed(3))
    torch.nn.init.kaiming_normal_(t, generator=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(to_numpy(e), to_numpy(t))
    e2 = ember.empty(4, 5)
    init.kaiming_normal_(e2, generator=ember.Generator().manual_seed(4))
    assert not np.array_equal(to_numpy(e), to_numpy(e2))


def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv_transpose2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(ember.empty(6, 4, 3, 2)) == (24, 36)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(ember.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


def test_init_errors_and_warnings():
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ember.empty(2, 2, 2))
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        init.dirac_(ember.empty(2, 2))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        init.dirac_(ember.empty(3, 2, 3), groups=2)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(ember.empty(3))
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        init.kaiming_uniform_(ember.empty(0, 3))
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        init.trunc_normal_(ember.empty(3), mean=10.0, std=1.0, a=-1.0, b=1.0)
    with pytest.warns(FutureWarning, match="deprecated in favor of `nn.init.normal_`"):
        init.normal(ember.empty(2))


def test_init_on_parameter_keeps_identity_and_grad():
    p = ember.nn.Parameter(ember.empty(3, 4))
    out = init.xavier_uniform_(p)
    assert out is p and p.requires_grad and p.grad_fn is None
    assert np.abs(to_numpy(p)).max() <= math.sqrt(6 / 7) + 1e-6


def test_trunc_normal_bounds_and_moments():
    ember.manual_seed(1)
    t = init.trunc_normal_(ember.empty(20000), mean=0.5, std=2.0, a=-1.0, b=3.0)
    a = to_numpy(t)
    assert a.min() >= -1.0 and a.max() <= 3.0
    # Truncated-normal mean: mu + sigma * (pdf(alpha) - pdf(beta)) / (cdf(beta) - cdf(alpha)).
    alpha, beta = (-1.0 - 0.5) / 2.0, (3.0 - 0.5) / 2.0

    def pdf(z):
        return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    def cdf(z):
        return (1 + math.erf(z / math.sqrt(2))) / 2
    want = 0.5 + 2.0 * (pdf(alpha) - pdf(beta)) / (cdf(beta) - cdf(alpha))
    assert abs(a.mean() - want) < 0.03
