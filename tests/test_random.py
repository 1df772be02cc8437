"""Random numbers: ember's cpu streams equal PyTorch's for the same seed; generators,
states, isolation; distributions of the samplers that do not match PyTorch bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.oracle import needs_torch, to_numpy, torch

SEEDS = (0, 1, 12345, 2**40 + 7)
SIZES = (1, 3, 15, 16, 17, 33, 1000, 4099)
FLOATS = ("float32", "float64", "float16", "bfloat16")


def _same(expr, seeds=SEEDS):
    """expr(module) right after manual_seed(s) gives identical arrays on ember and torch."""
    for s in seeds:
        ember.manual_seed(s)
        torch.manual_seed(s)
        e, t = to_numpy(expr(ember)), to_numpy(expr(torch))
        assert e.shape == t.shape, f"seed {s}: shape {e.shape} vs torch {t.shape}"
        mismatch = np.flatnonzero(~((e == t) | (np.isnan(e) & np.isnan(t))).reshape(-1))
        assert mismatch.size == 0, (f"seed {s}: {mismatch.size}/{e.size} values differ, first "
                                    f"at {mismatch[:5]}: {e.reshape(-1)[mismatch[:3]]} vs "
                                    f"{t.reshape(-1)[mismatch[:3]]}")


@needs_torch
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_rand_stream_matches_torch(n, dtype):
    _same(lambda m: m.rand(n, dtype=getattr(m, dtype)))


@needs_torch
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_randn_stream_matches_torch(n, dtype):
    _same(lambda m: m.randn(n, dtype=getattr(m, dtype)))


@needs_torch
def test_randn_large_float32_matches_torch():
    _same(lambda m: m.randn(3, 7, 1001), seeds=(0, 7))


@needs_torch
def test_randn_scalar_path_caches_across_calls():
    # PyTorch keeps the second normal of a Box-Muller pair in the generator.
    _same(lambda m: m.stack([m.randn(1), m.rand(1), m.randn(1), m.randn(3)[:1]]))
    _same(lambda m: m.cat([m.randn(5, dtype=m.float64), m.randn(7, dtype=m.float64)]))


@needs_torch
@pytest.mark.parametrize("dtype", ("float32", "float64", "float16"))
@pytest.mark.parametrize("bounds", ((-3.0, 5.0), (2.0, 2.5), (0.0, 1.0)))
def test_uniform_range_matches_torch(bounds, dtype):
    _same(lambda m: m.empty(100, dtype=getattr(m, dtype)).uniform_(*bounds))


@needs_torch
@pytest.mark.parametrize("dtype", ("float32", "float64"))
@pytest.mark.parametrize("n", (5, 100))
def test_normal_mean_std_matches_torch(n, dtype):
    _same(lambda m: m.empty(n, dtype=getattr(m, dtype)).normal_(2.0, 3.0))


@needs_torch
def test_noncontiguous_fill_order_matches_torch():
    _same(lambda m: m.empty(7, 5).t().normal_())
    _same(lambda m: m.empty(4, 3, 5).permute(2, 0, 1).normal_())
    _same(lambda m: m.empty(7, 5).t().uniform_())
    _same(lambda m: m.empty(6, 4)[:, ::2].bernoulli_(0.5))


@needs_torch
@pytest.mark.parametrize("dtype", ("int64", "int32", "int16", "int8", "uint8", "float32",
                                   "float64", "float16", "bfloat16"))
def test_random_and_randint_match_torch(dtype):
    lo = 0 if dtype == "uint8" else -5
    _same(lambda m: m.randint(lo, 100, (50,), dtype=getattr(m, dtype)))
    _same(lambda m: m.empty(50, dtype=getattr(m, dtype)).random_())
    _same(lambda m: m.empty(50, dtype=getattr(m, dtype)).random_(10))
    _same(lambda m: m.empty(50, dtype=getattr(m, dtype)).random_(3, None))


@needs_torch
def test_randint_forms_match_torch():
    _same(lambda m: m.randint(10, (3, 4)))
    _same(lambda m: m.randint(0, 2**40, (20,)))          # 64-bit words for ranges >= 2**32
    _same(lambda m: m.randint(-(2**62), 2**62, (9,)))
    _same(lambda m: m.randint_like(m.zeros(3, 2), 7))
    _same(lambda m: m.randint_like(m.zeros(6, dtype=m.int32), 2, 9))
    _same(lambda m: m.empty(5, dtype=m.bool).random_())


@needs_torch
@pytest.mark.parametrize("n", (0, 1, 2, 10, 1000, 5000))
def test_randperm_matches_torch(n):
    _same(lambda m: m.randperm(n))


@needs_torch
def test_bernoulli_matches_torch():
    _same(lambda m: m.empty(100).bernoulli_(0.3))
    _same(lambda m: m.bernoulli(m.arange(100.) / 99))
    _same(lambda m: m.bernoulli(m.arange(100, dtype=m.float64) / 99))
    _same(lambda m: m.empty(4, 5).bernoulli_(m.arange(5.) / 4))
    _same(lambda m: m.bernoulli(m.ones(30), p=0.5))
    _same(lambda m: m.ones(30, dtype=m.int64).bernoulli_(0.7))


@needs_torch
def test_normal_overloads_match_torch():
    _same(lambda m: m.normal(m.arange(20.), m.arange(20.) / 10 + 1))
    _same(lambda m: m.normal(m.arange(20.), 2.0))
    _same(lambda m: m.normal(3.0, m.arange(20.) / 10 + 1))
    _same(lambda m: m.normal(3.0, 2.0, (5, 7)))
    _same(lambda m: m.normal(m.zeros(5, 1), m.ones(4)))


@needs_torch
def test_other_samplers_match_torch():
    _same(lambda m: m.empty(100).exponential_(2.0))
    _same(lambda m: m.empty(10, dtype=m.float64).exponential_())
    _same(lambda m: m.empty(100).geometric_(0.3))
    _same(lambda m: m.empty(100).log_normal_(0.5, 0.7))
    _same(lambda m: m.empty(100).cauchy_(1.0, 2.0))
    _same(lambda m: m.rand_like(m.zeros(3, 4, dtype=m.float64)))
    _same(lambda m: m.randn_like(m.zeros(20)))


@needs_torch
def test_multinomial_matches_torch():
    p = [0.1, 0.2, 0.0, 0.7]
    _same(lambda m: m.multinomial(m.tensor(p), 20, True))
    _same(lambda m: m.multinomial(m.tensor([p, [1.0, 1, 1, 1]]), 20, replacement=True))
    _same(lambda m: m.multinomial(m.tensor([0.1, 0.2, 0.0, 0.7, 0.4]), 3))
    _same(lambda m: m.tensor([[0.1, 0.2, 0.0, 0.7, 0.4]] * 3).multinomial(1))
    # one draw with replacement takes the without-replacement method in PyTorch
    _same(lambda m: m.tensor([[0.1, 0.2, 0.0, 0.7, 0.4]] * 3).multinomial(1, True))


def test_multinomial_without_replacement_is_a_sample_of_distinct_categories():
    idx = ember.multinomial(ember.tensor([[1.0, 1, 0, 1, 1]] * 200), 4).numpy()
    assert all(sorted(row) == [0, 1, 3, 4] for row in idx.tolist())
    counts = np.bincount(ember.multinomial(ember.tensor([1.0, 3.0]), 4000, True).numpy())
    assert abs(counts[1] / 4000 - 0.75) < 0.03


@needs_torch
def test_generator_argument_matches_torch_and_leaves_default_alone():
    g, tg = ember.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    ember.manual_seed(0)
    before = ember.get_rng_state()
    a = ember.rand(5, generator=g)
    b = ember.randn(20, generator=g)
    c = ember.randperm(7, generator=g)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(torch.rand(5, generator=tg)))
    np.testing.assert_array_equal(to_numpy(b), to_numpy(torch.randn(20, generator=tg)))
    np.testing.assert_array_equal(to_numpy(c), to_numpy(torch.randperm(7, generator=tg)))
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), before.numpy())


def test_same_seed_same_values_and_generators_are_isolated():
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    x = ember.randn(50, generator=g1)
    ember.randn(10)                                   # the default generator moves on
    np.testing.assert_array_equal(x.numpy(), ember.randn(50, generator=g2).numpy())
    ember.manual_seed(11)
    y = ember.rand(30)
    ember.manual_seed(11)
    np.testing.assert_array_equal(y.numpy(), ember.rand(30).numpy())
    assert not np.array_equal(y.numpy(), ember.rand(30).numpy())


def test_seeds_and_initial_seed():
    assert ember.manual_seed(42).initial_seed() == 42
    assert ember.initial_seed() == 42
    ember.manual_seed(-1)
    assert ember.initial_seed() == 2**64 - 1
    assert ember.Generator().initial_seed() == 67280421310721
    s = ember.seed()
    assert ember.initial_seed() == s
    with pytest.raises(RuntimeError, match="Overflow"):
        ember.manual_seed(2**64)


def test_state_round_trip_restores_the_stream_and_the_normal_cache():
    ember.manual_seed(9)
    ember.randn(3, dtype=ember.float64)               # leaves a cached normal behind
    state = ember.get_rng_state()
    assert state.dtype is ember.uint8 and tuple(state.shape) == (5056,)
    a = ember.randn(5, dtype=ember.float64)
    ember.set_rng_state(state)
    np.testing.assert_array_equal(a.numpy(), ember.randn(5, dtype=ember.float64).numpy())
    g = ember.Generator()
    g.set_state(state)
    np.testing.assert_array_equal(a.numpy(), ember.randn(5, generator=g,
                                                           dtype=ember.float64).numpy())
    with pytest.raises(RuntimeError, match="5056"):
        ember.set_rng_state(ember.zeros(10, dtype=ember.uint8))


@needs_torch
def test_state_is_interchangeable_with_torch():
    ember.manual_seed(5)
    ember.randn(1, dtype=ember.float64)
    ember.rand(700)
    torch.set_rng_state(torch.from_numpy(ember.get_rng_state().numpy().copy()))
    np.testing.assert_array_equal(ember.randn(9, dtype=ember.float64).numpy(),
                                  torch.randn(9, dtype=torch.float64).numpy())
    torch.manual_seed(8)
    torch.randn(3, dtype=torch.float64)
    ember.set_rng_state(ember.tensor(torch.get_rng_state().numpy()))
    np.testing.assert_array_equal(ember.randn(20).numpy(), torch.randn(20).numpy())
    torch.manual_seed(8)
    ember.manual_seed(8)
    np.testing.assert_array_equal(ember.get_rng_state().numpy(), torch.get_rng_state().numpy())


def test_fork_rng_restores_the_state():
    from ember.ops.random import fork_rng
    ember.manual_seed(1)
    with fork_rng():
        ember.rand(100)
    a = ember.rand(3)
    ember.manual_seed(1)
    np.testing.assert_array_equal(a.numpy(), ember.rand(3).numpy())


def test_factories_dtype_device_and_requires_grad():
    x = ember.rand(2, 3, dtype=ember.float64, requires_grad=True)
    assert x.dtype is ember.float64 and x.requires_grad and x.is_leaf
    assert ember.randn((4,)).shape == (4,) and ember.rand(ember.Size([2, 2])).shape == (2, 2)
    assert ember.randint(5, (3,)).dtype is ember.int64
    assert ember.randperm(4, dtype=ember.float32).dtype is ember.float32
    ember.set_default_dtype(ember.float64)
    assert ember.rand(2).dtype is ember.float64 and ember.randn(2).dtype is ember.float64
    out = ember.empty(6)
    assert ember.rand(6, out=out) is out
    assert 0 <= float(out.min()) and float(out.max()) < 1


def test_inplace_samplers_return_self_and_bump_the_version():
    x = ember.zeros(10)
    v = x._version
    for call in (lambda t: t.uniform_(), lambda t: t.normal_(), lambda t: t.bernoulli_(0.5),
                 lambda t: t.random_(0, 5), lambda t: t.exponential_(),
                 lambda t: t.geometric_(0.5), lambda t: t.log_normal_(), lambda t: t.cauchy_()):
        assert call(x) is x
    assert x._version > v


def test_inplace_sampler_on_leaf_that_requires_grad_raises():
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.normal_()
    with ember.no_grad():
        w.normal_()                                  # nn.init's way


def test_sampler_gradient_is_zero_like_torch():
    x = ember.ones(4, requires_grad=True)
    y = (x * 2).uniform_()
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4, np.float32))
    mean = ember.zeros(3, requires_grad=True)
    ember.normal(mean, 1.0).sum().backward()
    np.testing.assert_array_equal(mean.grad.numpy(), np.zeros(3, np.float32))


@pytest.mark.parametrize("call,exc,text", [
    (lambda: ember.rand(3, dtype=ember.int64), NotImplementedError, "not implemented for 'Long'"),
    (lambda: ember.randint(5, 3, (2,)), RuntimeError, "expects 'from' to be less than 'to'"),
    (lambda: ember.empty(3).normal_(0, -1), RuntimeError, "normal expects std >= 0.0"),
    (lambda: ember.normal(ember.zeros(2), -1.0), RuntimeError, "std >= 0.0"),
    (lambda: ember.normal(ember.zeros(2), -ember.ones(2)), RuntimeError, "std >= 0.0"),
    (lambda: ember.empty(3).bernoulli_(1.5), RuntimeError, "expects p to be in [0, 1]"),
    (lambda: ember.bernoulli(ember.tensor([0.5, 2.0])), RuntimeError, "p_in <= 1"),
    (lambda: ember.randperm(-1), RuntimeError, "negative dimension"),
    (lambda: ember.empty(3).uniform_(2, 1), RuntimeError, "from=2 > to=1"),
    (lambda: ember.empty(3).exponential_(0), RuntimeError, "lambda > 0"),
    (lambda: ember.empty(3).geometric_(1.5), RuntimeError, "p to be in (0, 1)"),
    (lambda: ember.multinomial(ember.tensor([0.5, -1.0]), 1), RuntimeError, "element < 0"),
    (lambda: ember.multinomial(ember.tensor([0.5, 0.5]), 3), RuntimeError,
     "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
    (lambda: ember.multinomial(ember.ones(2, 2, 2), 1), RuntimeError, "1 or 2 dim"),
    (lambda: ember.rand(2, generator=object()), TypeError, "Generator"),
    (lambda: ember.randint(3), TypeError, "size"),
])
def test_errors(call, exc, text):
    import re
    with pytest.raises(exc, match=re.escape(text)):
        call()


def test_distributions_of_samplers():
    ember.manual_seed(0)
    n = 200_000
    u = ember.empty(n, dtype=ember.float64).uniform_(-1, 3).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.01
    z = ember.normal(2.0, 3.0, (n,)).numpy()
    assert abs(z.mean() - 2) < 0.03 and abs(z.std() - 3) < 0.03
    e = ember.empty(n).exponential_(4.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.005
    g = ember.empty(n).geometric_(0.25).numpy()
    assert g.min() >= 1 and abs(g.mean() - 4) < 0.05
    p = ember.poisson(ember.full((n,), 3.5)).numpy()
    assert p.dtype == np.float32 and abs(p.mean() - 3.5) < 0.03 and abs(p.var() - 3.5) < 0.06
    c = ember.empty(n).cauchy_(1.0, 2.0).numpy()
    assert abs(np.median(c) - 1) < 0.05
    ln = ember.empty(n).log_normal_(0.0, 0.5).numpy()
    assert abs(np.log(ln).std() - 0.5) < 0.01
    r = ember.randint(-3, 4, (n,)).numpy()
    assert set(np.unique(r).tolist()) == set(range(-3, 4))
    assert sorted(ember.randperm(1000).tolist()) == list(range(1000))


def test_poisson_reproducible_with_generator():
    rates = ember.tensor([0.5, 4.0, 30.0])
    a = ember.poisson(rates, generator=ember.Generator().manual_seed(1))
    b = ember.poisson(rates, generator=ember.Generator().manual_seed(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.gpu
def test_cuda_samplers_follow_their_distributions():
    ember.manual_seed(0)
    x = ember.rand(100_000, device="cuda")
    assert x.is_cuda and 0 <= float(x.min()) and float(x.max()) < 1
    z = ember.randn(100_000, device="cuda", dtype=ember.float64).cpu().numpy()
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02
    ember.manual_seed(3)
    a = ember.randn(10, device="cuda").cpu().numpy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(a, ember.randn(10, device="cuda").cpu().numpy())
    g = ember.Generator(device="cuda").manual_seed(1)
    b = ember.rand(5, device="cuda", generator=g)
    assert b.is_cuda
    p = ember.randperm(50, device="cuda").cpu().numpy()
    assert sorted(p.tolist()) == list(range(50))
    r = ember.randint(0, 10, (1000,), device="cuda").cpu().numpy()
    assert r.min() >= 0 and r.max() < 10
    m = ember.zeros(1000, device="cuda").bernoulli_(0.25).cpu().numpy()
    assert abs(m.mean() - 0.25) < 0.05


@pytest.mark.gpu
def test_fork_rng_restores_cuda_streams():
    from ember.ops.random import fork_rng
    ember.manual_seed(2)
    ember.rand(1, device="cuda")
    with fork_rng():
        ember.rand(100, device="cuda")
        ember.rand(100)
    a = ember.rand(5, device="cuda").cpu().numpy()
    ember.manual_seed(2)
    ember.rand(1, device="cuda")
    np.testing.assert_array_equal(a, ember.rand(5, device="cuda").cpu().numpy())


def test_poisson_of_a_0d_rate_and_sigmoid_tails():
    x = ember.poisson(ember.tensor(3.0))
    assert x.shape == () and x.dtype is ember.float32 and float(x) >= 0
    # sigmoid keeps relative precision far into the negative tail (as PyTorch's)
    s = ember.sigmoid(ember.tensor([-20.0, -15.0], dtype=ember.float64))
    np.testing.assert_allclose(s.numpy(), 1 / (1 + np.exp([20.0, 15.0])), rtol=1e-12)
