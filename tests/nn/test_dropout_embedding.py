"""Dropout (same masks as PyTorch for the same seed), embeddings and distance layers."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from tests.nn.util import assert_module_parity
from tests.oracle import needs_torch, to_numpy, torch


def _x(*shape, dtype="float32", seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _pair(name, *args, **kwargs):
    return getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


# -- dropout -----------------------------------------------------------------------------------

DROPOUT_CASES = [("Dropout", (4, 6), 0.3), ("Dropout", (3, 5), 0.9),
                 ("Dropout1d", (3, 4, 5), 0.5), ("Dropout1d", (4, 5), 0.5),
                 ("Dropout2d", (2, 4, 3, 3), 0.4), ("Dropout3d", (2, 3, 2, 2, 2), 0.4),
                 ("Dropout3d", (3, 2, 2, 2), 0.4),
                 ("AlphaDropout", (5, 6), 0.25), ("FeatureAlphaDropout", (3, 4, 2), 0.3)]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,shape,p", DROPOUT_CASES)
def test_dropout_module_same_mask_as_torch(name, shape, p, dtype):
    e, t = _pair(name, p)
    assert repr(e) == repr(t)
    ember.manual_seed(11)
    torch.manual_seed(11)
    e_out, _ = assert_module_parity(e, t, _x(*shape, dtype=dtype), dtype=dtype, train=True)
    if p >= 0.3:
        assert (to_numpy(e_out) == 0).any() or name.startswith(("Alpha", "FeatureAlpha"))


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_dropout_half_same_values_as_torch(dtype):
    x = _x(8, 9)
    ember.manual_seed(5)
    torch.manual_seed(5)
    e = F.dropout(ember.tensor(x).to(getattr(ember, dtype)), 0.3)
    t = torch.nn.functional.dropout(torch.tensor(x).to(getattr(torch, dtype)), 0.3)
    np.testing.assert_array_equal(to_numpy(e), to_numpy(t))


@needs_torch
def test_dropout_consecutive_calls_follow_torch_stream():
    x = _x(10, 10)
    ember.manual_seed(0)
    torch.manual_seed(0)
    for _ in range(3):
        e = F.dropout(ember.tensor(x), 0.5)
        t = torch.nn.functional.dropout(torch.tensor(x), 0.5)
        np.testing.assert_array_equal(to_numpy(e), to_numpy(t))
    assert float(ember.rand(1)) == float(torch.rand(1))


@needs_torch
def test_dropout_inplace_matches_torch_and_returns_input():
    x = _x(6, 7)
    ember.manual_seed(2)
    torch.manual_seed(2)
    e = ember.tensor(x)
    t = torch.tensor(x)
    out = F.dropout(e, 0.4, inplace=True)
    torch.nn.functional.dropout(t, 0.4, inplace=True)
    assert out is e
    np.testing.assert_array_equal(to_numpy(e), to_numpy(t))


def test_dropout_eval_and_p0_return_input():
    x = ember.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    m = ember.nn.Dropout(0.5).eval()
    assert m(x) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    assert float(F.alpha_dropout(x, 1.0, training=True).abs().sum()) == 0.0


def test_dropout_scales_kept_elements():
    x = ember.ones(1000)
    y = F.dropout(x, 0.2)
    kept = y[y != 0]
    assert np.allclose(kept.numpy(), 1.25)
    assert 700 < kept.numel() < 900


def test_dropout_bad_probability():
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        ember.nn.Dropout(-0.1)
    with pytest.raises(ValueError, match="between 0 and 1, but got 2"):
        F.dropout2d(ember.ones(2, 2, 2, 2), 2)


def test_dropout_feature_input_warnings_and_errors():
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(ember.ones(2, 3, 4), 0.5)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        F.dropout3d(ember.ones(2, 3), 0.5)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(ember.ones(2, 3, 4, 5))


def test_dropout2d_zeroes_whole_channels():
    y = F.dropout2d(ember.ones(4, 8, 3, 3), 0.5).numpy()
    per_channel = y.reshape(4, 8, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))


def test_alpha_dropout_keeps_mean_and_variance():
    ember.manual_seed(0)
    x = ember.randn(200000)
    y = F.alpha_dropout(x, 0.3, training=True)
    assert abs(float(y.mean())) < 0.02
    assert abs(float(y.std()) - 1.0) < 0.02


# -- embedding ---------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 3}, {"padding_idx": -2},
                                    {"scale_grad_by_freq": True, "padding_idx": 0}])
def test_embedding_init_and_grads_match_torch(kwargs):
    ember.manual_seed(4)
    torch.manual_seed(4)
    e, t = _pair("Embedding", 7, 3, **kwargs)
    np.testing.assert_array_equal(to_numpy(e.weight), to_numpy(t.weight))
    assert repr(e) == repr(t)
    idx = np.array([[0, 3, 5, 3], [5, 6, 3, 1]])
    assert_module_parity(e, t, idx)


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalizes_rows_like_torch(norm_type):
    w = _x(6, 4) * 3
    idx = np.array([1, 2, 2, 5])
    e, t = _pair("Embedding", 6, 4, max_norm=1.5, norm_type=norm_type)
    assert repr(e) == repr(t)
    e.load_state_dict({"weight": ember.tensor(w)})
    t.load_state_dict({"weight": torch.tensor(w)})
    np.testing.assert_allclose(to_numpy(e(ember.tensor(idx))),
                               to_numpy(t(torch.tensor(idx))), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(to_numpy(e.weight), to_numpy(t.weight), rtol=1e-6, atol=1e-6)
    norms = np.linalg.norm(to_numpy(e.weight), ord=norm_type, axis=1)
    assert np.all(norms[[1, 2, 5]] <= 1.5 + 1e-5)
    assert np.allclose(to_numpy(e.weight)[[0, 3, 4]], w[[0, 3, 4]])


def test_embedding_padding_row_is_zero_and_gets_no_grad():
    emb = ember.nn.Embedding(5, 2, padding_idx=1)
    assert emb.weight[1].tolist() == [0.0, 0.0]
    emb(ember.tensor([1, 2, 1])).sum().backward()
    assert emb.weight.grad[1].tolist() == [0.0, 0.0]
    assert emb.weight.grad[2].tolist() == [1.0, 1.0]


def test_embedding_from_pretrained_freeze():
    table = ember.arange(6.0).reshape(3, 2)
    frozen = ember.nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    assert frozen(ember.tensor([2])).tolist() == [[4.0, 5.0]]
    trainable = ember.nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    with pytest.raises(AssertionError, match="2-dimensional"):
        ember.nn.Embedding.from_pretrained(ember.zeros(3))


def test_embedding_errors():
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        ember.nn.Embedding(3, 2, padding_idx=3)
    emb = ember.nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(ember.tensor([3]))
    with pytest.raises(RuntimeError, match="Long, Int; but got"):
        emb(ember.tensor([1.0]))


def test_embedding_double_backward():
    w = ember.randn(5, 3, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([[0, 2], [2, 4]])

    def f(w):
        return (F.embedding(idx, w) ** 2).sum(-1)
    assert ember.autograd.gradgradcheck(f, (w,))


@needs_torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"include_last_offset": True}])
def test_embedding_bag_module_matches_torch(mode, kwargs):
    ember.manual_seed(9)
    torch.manual_seed(9)
    e, t = _pair("EmbeddingBag", 6, 3, mode=mode, **kwargs)
    assert repr(e) == repr(t)
    np.testing.assert_array_equal(to_numpy(e.weight), to_numpy(t.weight))
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 0])
    offsets = np.array([0, 3, 3, 5, 8] if kwargs.get("include_last_offset") else [0, 3, 3, 5])
    assert_module_parity(e, t, idx, offsets)
    assert_module_parity(e, t, idx.reshape(2, 4))


@needs_torch
def test_embedding_sparse_flag_accepted_with_dense_grad():
    e, t = _pair("Embedding", 4, 2, sparse=True)
    assert repr(e) == repr(t)
    e(ember.tensor([1, 1, 3])).sum().backward()
    assert e.weight.grad.tolist() == [[0.0, 0.0], [2.0, 2.0], [0.0, 0.0], [1.0, 1.0]]


@needs_torch
def test_embedding_bag_per_sample_weights():
    e, t = _pair("EmbeddingBag", 6, 3, mode="sum")
    idx = np.array([1, 2, 2, 5, 2, 3])
    offsets = np.array([0, 2, 4])
    assert_module_parity(e, t, idx, offsets, _x(6))


def test_embedding_bag_scale_grad_by_freq_uses_each_index_frequency():
    # Documented semantics: each index's gradient divided by its frequency in the batch.
    # (PyTorch's CPU kernel divides some rows by a neighbouring index's count instead.)
    w = ember.ones(6, 1, dtype=ember.float64, requires_grad=True)
    idx = ember.tensor([1, 2, 2, 5, 2, 3])
    out = F.embedding_bag(idx, w, ember.arange(6), mode="sum", scale_grad_by_freq=True)
    out.backward(ember.tensor([[10.0 ** b] for b in range(6)], dtype=ember.float64))
    assert np.allclose(w.grad.flatten().numpy(),
                       [0.0, 1.0, (10 + 100 + 10000) / 3, 1e5, 0.0, 1000.0])


def test_embedding_bag_errors():
    bag = ember.nn.EmbeddingBag(4, 2, mode="mean")
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(ember.tensor([0, 1]), ember.tensor([0]), ember.ones(2))
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(ember.tensor([[0, 1]]), ember.tensor([0]))
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        F.embedding_bag(ember.tensor([[0, 1]]), ember.ones(4, 2), mode="max",
                        scale_grad_by_freq=True)


@needs_torch
def test_embedding_bag_from_pretrained():
    table = _x(4, 2)
    e = ember.nn.EmbeddingBag.from_pretrained(ember.tensor(table), mode="max")
    t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="max")
    assert not e.weight.requires_grad
    idx = np.array([[0, 3, 1], [2, 2, 1]])
    np.testing.assert_allclose(to_numpy(e(ember.tensor(idx))), to_numpy(t(torch.tensor(idx))))


# -- one_hot and distances ---------------------------------------------------------------------

def test_one_hot_values_and_dtype():
    out = F.one_hot(ember.tensor([[2, 0], [1, 2]]))
    assert out.dtype == ember.int64
    assert out.shape == (2, 2, 3)
    assert out.tolist() == [[[0, 0, 1], [1, 0, 0]], [[0, 1, 0], [0, 0, 1]]]
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ember.tensor([1.0]))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distance_modules_match_torch(dtype):
    for name, kwargs in (("CosineSimilarity", {}), ("CosineSimilarity", {"dim": 0}),
                         ("PairwiseDistance", {}), ("PairwiseDistance",
                                                    {"p": 1.0, "keepdim": True})):
        e, t = _pair(name, **kwargs)
        assert repr(e) == repr(t)
        assert_module_parity(e, t, _x(4, 5, dtype=dtype), _x(4, 5, dtype=dtype, seed=1),
                             dtype=dtype)


@needs_torch
def test_cosine_similarity_tiny_vectors_clamped_like_torch():
    x1 = np.array([[1e-10, 0.0], [3.0, 4.0]])
    x2 = np.array([[1.0, 1.0], [4.0, 3.0]])
    e1, e2 = ember.tensor(x1, requires_grad=True), ember.tensor(x2, requires_grad=True)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    ey, ty = F.cosine_similarity(e1, e2), torch.nn.functional.cosine_similarity(t1, t2)
    np.testing.assert_allclose(to_numpy(ey), to_numpy(ty), rtol=1e-12)
    ey.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(to_numpy(e1.grad), to_numpy(t1.grad), rtol=1e-9, atol=1e-12)


@needs_torch
def test_normalize_out_and_pdist_match_torch():
    x = _x(5, 3, dtype="float64")
    out = ember.empty(5, 3, dtype=ember.float64)
    res = F.normalize(ember.tensor(x), out=out)
    assert res is out
    np.testing.assert_allclose(out.numpy(), to_numpy(torch.nn.functional.normalize(
        torch.tensor(x))), rtol=1e-12)
    np.testing.assert_allclose(F.pdist(ember.tensor(x), p=1.5).numpy(),
                               torch.nn.functional.pdist(torch.tensor(x), p=1.5).numpy(),
                               rtol=1e-12)


@pytest.mark.gpu
def test_embedding_family_cuda_match_cpu():
    w = _x(7, 3)
    idx = np.array([[0, 3, 5, 3], [5, 6, 3, 1]])
    res = {}
    for dev in ("cpu", "cuda"):
        wt = ember.tensor(w, device=dev, requires_grad=True)
        it = ember.tensor(idx, device=dev)
        out = [F.embedding(it, wt, padding_idx=3, scale_grad_by_freq=True),
               F.embedding_bag(it, wt, mode="mean"),
               F.embedding_bag(it.reshape(-1), wt, ember.tensor([0, 2, 2], device=dev),
                               mode="max"),
               F.one_hot(it, 8).float(),
               F.cosine_similarity(wt[:4], wt[1:5]),
               F.pdist(wt)]
        sum(o.sum() for o in out).backward()
        res[dev] = [o.detach().cpu().numpy() for o in out] + [wt.grad.cpu().numpy()]
    for a, b in zip(res["cuda"], res["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_dropout_cuda_drops_and_scales():
    x = ember.ones(1000, device="cuda")
    y = F.dropout(x, 0.25)
    assert y.device.type == "cuda"
    kept = y.cpu().numpy()
    assert np.allclose(kept[kept != 0], 1 / 0.75)
    assert 650 < int((kept != 0).sum()) < 850
    z = F.dropout2d(ember.ones(4, 8, 2, 2, device="cuda"), 0.5).cpu().numpy()
    per = z.reshape(4, 8, 4)
    assert np.all((per == 0).all(-1) | (per == 2.0).all(-1))
