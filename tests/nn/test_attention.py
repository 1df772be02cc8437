"""MultiheadAttention and scaled_dot_product_attention against PyTorch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from tests.nn.util import copy_state
from tests.oracle import TOL, needs_torch, to_numpy, torch


def _convert(lib, v, requires_grad):
    if isinstance(v, np.ndarray):
        t = ember.tensor(v) if lib is ember else torch.tensor(v)
        if requires_grad and v.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    return v


def module_parity(e_mod, t_mod, args, kwargs=None, dtype="float32", copy=True, train=None,
                  seed=None, grad=True, rtol=None, atol=None):
    """Run both modules on the same NumPy inputs (positional float arrays require grad; keyword
    arrays, e.g. masks, do not), compare every tensor output, then backpropagate one random
    cotangent per output and compare input and parameter gradients. ``seed`` reseeds both
    libraries right before the call (dropout then draws the same masks)."""
    kwargs = kwargs or {}
    r, a = TOL[dtype]
    rtol, atol = (r if rtol is None else rtol), (a if atol is None else atol)
    if copy:
        copy_state(e_mod, t_mod)
    if train is not None:
        e_mod.train(train)
        t_mod.train(train)
    e_args = [_convert(ember, x, grad) for x in args]
    t_args = [_convert(torch, x, grad) for x in args]
    e_kw = {k: _convert(ember, v, False) for k, v in kwargs.items()}
    t_kw = {k: _convert(torch, v, False) for k, v in kwargs.items()}
    if seed is not None:
        ember.manual_seed(seed)
    e_out = e_mod(*e_args, **e_kw)
    if seed is not None:
        torch.manual_seed(seed)
    t_out = t_mod(*t_args, **t_kw)
    e_list = list(e_out) if isinstance(e_out, (tuple, list)) else [e_out]
    t_list = list(t_out) if isinstance(t_out, (tuple, list)) else [t_out]
    assert len(e_list) == len(t_list)
    for i, (e, t) in enumerate(zip(e_list, t_list)):
        if t is None:
            assert e is None, f"output {i} should be None"
            continue
        assert tuple(e.shape) == tuple(t.shape), f"output {i}: {e.shape} vs {t.shape}"
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=rtol, atol=atol,
                                   err_msg=f"output {i}")
    if not grad:
        return e_out, t_out
    pairs = [(e, t) for e, t in zip(e_list, t_list) if t is not None and t.requires_grad]
    gen = np.random.default_rng(3)
    cots = [gen.standard_normal(tuple(t.shape)).astype(to_numpy(t).dtype) for _, t in pairs]
    ember.autograd.backward([e for e, _ in pairs], [ember.tensor(c) for c in cots])
    torch.autograd.backward([t for _, t in pairs], [torch.tensor(c) for c in cots])
    for i, (e, t) in enumerate(zip(e_args, t_args)):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            np.testing.assert_allclose(to_numpy(e.grad), to_numpy(t.grad), rtol=rtol,
                                       atol=atol, err_msg=f"grad of input {i}")
    e_params = dict(e_mod.named_parameters())
    for name, tp in t_mod.named_parameters():
        ep = e_params[name]
        if tp.grad is None:
            assert ep.grad is None or not np.any(to_numpy(ep.grad)), name
            continue
        np.testing.assert_allclose(to_numpy(ep.grad), to_numpy(tp.grad), rtol=rtol, atol=atol,
                                   err_msg=f"grad of parameter {name}")
    return e_out, t_out


def assert_same_init(e_mod, t_mod):
    """Equal state_dict keys (in order), shapes and values."""
    e_sd, t_sd = e_mod.state_dict(), t_mod.state_dict()
    assert list(e_sd) == list(t_sd)
    for k in t_sd:
        assert tuple(e_sd[k].shape) == tuple(t_sd[k].shape), k
        np.testing.assert_array_equal(to_numpy(e_sd[k]), to_numpy(t_sd[k]), err_msg=k)


def _rand(rng, *shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


MHA_CONFIGS = [
    {},
    {"kdim": 5, "vdim": 3},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"bias": False},
    {"add_bias_kv": True, "add_zero_attn": True, "kdim": 6},
]


# -- construction ------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("cfg", MHA_CONFIGS, ids=str)
def test_mha_init_matches_torch(cfg):
    torch.manual_seed(11)
    t = torch.nn.MultiheadAttention(8, 2, **cfg)
    ember.manual_seed(11)
    e = ember.nn.MultiheadAttention(8, 2, **cfg)
    assert_same_init(e, t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]


@needs_torch
def test_mha_repr_matches_torch():
    for cfg in ({}, {"bias": False}, {"kdim": 3}):
        assert repr(ember.nn.MultiheadAttention(6, 3, **cfg)) == \
            repr(torch.nn.MultiheadAttention(6, 3, **cfg))


def test_mha_importable_under_torch_paths():
    from ember.nn.modules.activation import MultiheadAttention as from_activation
    from ember.nn.modules.attention import MultiheadAttention
    assert ember.nn.MultiheadAttention is MultiheadAttention
    assert from_activation is MultiheadAttention


def test_mha_constructor_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        ember.nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        ember.nn.MultiheadAttention(8, 0)


def test_mha_deepcopy_and_pickle_keep_values():
    m = ember.nn.MultiheadAttention(4, 2, add_bias_kv=True)
    x = ember.randn(3, 2, 4)
    want = m(x, x, x)[0]
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        np.testing.assert_array_equal(clone(x, x, x)[0].detach().numpy(),
                                      want.detach().numpy())


# -- forward/backward parity ----------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cfg", MHA_CONFIGS, ids=str)
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_parity_cross_attention(cfg, need_weights, dtype):
    rng = np.random.default_rng(0)
    e = ember.nn.MultiheadAttention(8, 2, dtype=dtype, **cfg)
    t = torch.nn.MultiheadAttention(8, 2, dtype=getattr(torch, dtype), **cfg)
    q = _rand(rng, 3, 2, 8, dtype=dtype)
    k = _rand(rng, 5, 2, cfg.get("kdim", 8), dtype=dtype)
    v = _rand(rng, 5, 2, cfg.get("vdim", 8), dtype=dtype)
    module_parity(e, t, (q, k, v), {"need_weights": need_weights}, dtype=dtype)


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_mha_parity_self_attention_masks(batch_first, average):
    rng = np.random.default_rng(1)
    e = ember.nn.MultiheadAttention(8, 4, batch_first=batch_first)
    t = torch.nn.MultiheadAttention(8, 4, batch_first=batch_first)
    x = _rand(rng, 2, 4, 8) if batch_first else _rand(rng, 4, 2, 8)
    kpm = np.array([[False, False, True, True], [False, False, False, False]])
    causal_bool = np.triu(np.ones((4, 4), bool), 1)
    float_3d = _rand(rng, 8, 4, 4)
    for kw in ({"key_padding_mask": kpm},
               {"attn_mask": causal_bool},
               {"attn_mask": float_3d, "key_padding_mask": np.where(kpm, -np.inf, 0)
                .astype(np.float32)},
               {"attn_mask": causal_bool, "key_padding_mask": kpm},
               {"attn_mask": causal_bool, "is_causal": True, "need_weights": False},
               {"attn_mask": causal_bool, "is_causal": True, "key_padding_mask": kpm,
                "need_weights": False}):
        for need in (True, False):
            kwargs = {"need_weights": need, "average_attn_weights": average, **kw}
            module_parity(e, t, (x, x, x), kwargs)
            e.zero_grad()
            t.zero_grad()


@needs_torch
def test_mha_parity_unbatched_and_3d_mask():
    rng = np.random.default_rng(2)
    e, t = ember.nn.MultiheadAttention(6, 2), torch.nn.MultiheadAttention(6, 2)
    q, k = _rand(rng, 3, 6), _rand(rng, 4, 6)
    module_parity(e, t, (q, k, k), {"attn_mask": _rand(rng, 2, 3, 4),
                                    "key_padding_mask": np.array([0, -np.inf, 0, 0], np.float32)})


@needs_torch
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_train_dropout_draws_like_torch(need_weights):
    """ember's CPU random streams follow torch's: with the same seed the same dropout masks."""
    rng = np.random.default_rng(3)
    e, t = ember.nn.MultiheadAttention(8, 2, dropout=0.4), \
        torch.nn.MultiheadAttention(8, 2, dropout=0.4)
    x, m = _rand(rng, 4, 3, 8), _rand(rng, 6, 3, 8)
    module_parity(e, t, (x, m, m), {"need_weights": need_weights}, train=True, seed=5)


@needs_torch
def test_mha_eval_disables_dropout():
    rng = np.random.default_rng(4)
    e = ember.nn.MultiheadAttention(8, 2, dropout=0.9).eval()
    x = ember.tensor(_rand(rng, 4, 3, 8))
    a, b = e(x, x, x)[0], e(x, x, x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_mha_fully_masked_row_with_weights_is_nan_like_torch():
    # The need_weights path is an unfused softmax, as in PyTorch: a query whose keys are all
    # padding gets NaN; the fused path (need_weights=False) gives zeros instead.
    m = ember.nn.MultiheadAttention(4, 1)
    x = ember.randn(2, 1, 4)
    kpm = ember.tensor([[True, True]])
    out_w, w = m(x, x, x, key_padding_mask=kpm)
    assert bool(ember.isnan(w).all())
    out_f, _ = m(x, x, x, key_padding_mask=kpm, need_weights=False)
    np.testing.assert_allclose(out_f.detach().numpy(),
                               np.broadcast_to(m.out_proj.bias.detach().numpy(), (2, 1, 4)))


# -- errors and warnings ------------------------------------------------------------------------

def test_mha_mask_errors():
    m = ember.nn.MultiheadAttention(4, 2)
    x = ember.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        m(x, x, x, attn_mask=ember.zeros(3, 5))
    with pytest.raises(RuntimeError, match="The shape of the 3D attn_mask is"):
        m(x, x, x, attn_mask=ember.zeros(3, 3, 3))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        m(x, x, x, attn_mask=ember.zeros(3, 3, dtype=ember.int64))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, x[0], x[0])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4"):
        y = ember.randn(3, 2, 6)
        m(y, y, y)


def test_mha_mismatched_mask_types_warn():
    m = ember.nn.MultiheadAttention(4, 2)
    x = ember.randn(3, 2, 4)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask"):
        m(x, x, x, attn_mask=ember.zeros(3, 3), key_padding_mask=ember.zeros(2, 3, dtype=bool))


# -- scaled_dot_product_attention extras ------------------------------------------------------

@needs_torch
def test_sdpa_double_backward_matches_torch():
    rng = np.random.default_rng(5)
    arrs = [_rand(rng, 2, 3, 4, dtype="float64"), _rand(rng, 2, 5, 4, dtype="float64"),
            _rand(rng, 2, 5, 3, dtype="float64")]
    mask = _rand(rng, 3, 5, dtype="float64")
    res = []
    for lib in (ember, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrs)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, lib.tensor(mask))
        gq, gk = lib.autograd.grad((out ** 2).sum(), (q, k), create_graph=True)
        second = lib.autograd.grad((gq * gk[:, :3]).sum(), (q, k, v))
        res.append([to_numpy(g) for g in (gq, gk, *second)])
    for e, t in zip(*res):
        np.testing.assert_allclose(e, t, rtol=1e-7, atol=1e-9)


def test_sdpa_fully_masked_rows_are_zero_with_zero_grad():
    q = ember.randn(1, 2, 4, requires_grad=True)
    k = ember.randn(1, 3, 4, requires_grad=True)
    mask = ember.tensor([[True, False, True], [False, False, False]])
    out = F.scaled_dot_product_attention(q, k, k, attn_mask=mask)
    assert not bool(out[0, 1].abs().sum())
    out.sum().backward()
    assert not bool(q.grad[0, 1].abs().sum())
    assert bool(ember.isfinite(k.grad).all())


def test_sdpa_dropout_one_gives_zeros():
    q = ember.randn(2, 3, 4)
    out = F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    assert not bool(out.abs().sum())


def test_sdpa_half_inputs_keep_dtype_and_grads():
    q = ember.randn(2, 3, 4).to(ember.float16).requires_grad_()
    out = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert out.dtype is ember.float16
    q32 = q.detach().float().requires_grad_()
    ref = F.scaled_dot_product_attention(q32, q32, q32, is_causal=True)
    np.testing.assert_allclose(out.float().detach().numpy(), ref.detach().numpy(), rtol=2e-3,
                               atol=2e-3)
    out.sum().backward()
    ref.sum().backward()
    assert q.grad.dtype is ember.float16
    np.testing.assert_allclose(q.grad.float().numpy(), q32.grad.numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.gpu
def test_sdpa_and_mha_on_gpu_match_cpu():
    rng = np.random.default_rng(6)
    arrs = [_rand(rng, 2, 2, 3, 4), _rand(rng, 2, 2, 5, 4), _rand(rng, 2, 2, 5, 4)]
    mask = rng.random((3, 5)) > 0.3
    cpu = [ember.tensor(a, requires_grad=True) for a in arrs]
    gpu = [ember.tensor(a, device="cuda", requires_grad=True) for a in arrs]
    for ts, dev in ((cpu, "cpu"), (gpu, "cuda")):
        out = F.scaled_dot_product_attention(*ts, ember.tensor(mask, device=dev))
        (out * out).sum().backward()
    for c, g in zip(cpu, gpu):
        np.testing.assert_allclose(g.grad.cpu().numpy(), c.grad.numpy(), rtol=1e-4, atol=1e-5)
    m = ember.nn.MultiheadAttention(4, 2)
    x = ember.tensor(arrs[0][0].transpose(1, 0, 2))
    want = m(x, x, x)[0]
    m_gpu = copy.deepcopy(m).cuda()
    got = m_gpu(x.cuda(), x.cuda(), x.cuda())[0]
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=1e-4,
                               atol=1e-5)


@needs_torch
def test_sdpa_float32_mask_serves_float64_query_and_edge_sizes():
    rng = np.random.default_rng(7)
    q = _rand(rng, 2, 3, 4, dtype="float64")
    mask = _rand(rng, 3, 3)
    got = F.scaled_dot_product_attention(*(ember.tensor(q),) * 3, ember.tensor(mask))
    want = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(q),) * 3,
                                                            torch.tensor(mask))
    assert got.dtype is ember.float64
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=1e-7, atol=1e-9)
    for shapes in (((2, 3, 0), (2, 5, 0), (2, 5, 3)), ((2, 3, 4), (2, 0, 4), (2, 0, 3))):
        arrs = [_rand(rng, *s) for s in shapes]
        got = F.scaled_dot_product_attention(*(ember.tensor(a) for a in arrs))
        want = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a)
                                                                  for a in arrs))
        np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=1e-6, atol=1e-6)


def test_sdpa_scale_is_keyword_only():
    q = ember.randn(1, 2, 4)
    with pytest.raises(TypeError):
        F.scaled_dot_product_attention(q, q, q, None, 0.0, False, 0.5)


@needs_torch
def test_sdpa_kernel_backend_selection_matches_torch_on_cpu():
    from torch.nn.attention import SDPBackend as TB
    from torch.nn.attention import sdpa_kernel as t_kernel

    from ember.nn.attention import SDPBackend, sdpa_kernel
    q = np.random.default_rng(0).standard_normal((1, 2, 4, 8)).astype(np.float32)
    for names in (["MATH"], ["FLASH_ATTENTION"], ["EFFICIENT_ATTENTION"],
                  ["CUDNN_ATTENTION", "EFFICIENT_ATTENTION"], ["MATH", "FLASH_ATTENTION"]):
        outcome = []
        for lib, kernel, enum in ((ember, sdpa_kernel, SDPBackend), (torch, t_kernel, TB)):
            x = lib.tensor(q)
            with kernel([getattr(enum, n) for n in names]):
                try:
                    outcome.append(lib.nn.functional.scaled_dot_product_attention(x, x, x)
                                   .shape == (1, 2, 4, 8))
                except RuntimeError as e:
                    outcome.append(str(e))
        assert outcome[0] == outcome[1], names
    assert ember.backends.cuda.math_sdp_enabled()          # restored after the blocks
    assert repr(SDPBackend.MATH) == repr(TB.MATH) and int(SDPBackend.ERROR) == -1
    with pytest.warns(FutureWarning, match="sdp_kernel\\(\\)` is deprecated"):
        with ember.backends.cuda.sdp_kernel(enable_math=False):
            assert not ember.backends.cuda.math_sdp_enabled()


def test_nn_attention_is_the_sdpa_selection_module():
    import ember.nn.attention as attention_module
    assert attention_module is ember.nn.attention
    assert ember.nn.attention.SDPBackend.MATH == 0 and callable(ember.nn.attention.sdpa_kernel)
