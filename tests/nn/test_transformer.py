"""Transformer, TransformerEncoder/Decoder and their layers against PyTorch, plus training."""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np
import pytest

import ember
from tests.nn.test_attention import assert_same_init
from tests.nn.test_attention import module_parity as _module_parity
from tests.oracle import needs_torch, to_numpy, torch


def module_parity(*args, dtype="float32", **kwargs):
    # Stacked layers accumulate float32 rounding differently from torch's kernels: gradients
    # of size ~20 differ in the 6th digit. float64 keeps the strict default.
    if dtype == "float32":
        kwargs.setdefault("rtol", 1e-4)
        kwargs.setdefault("atol", 2e-5)
    return _module_parity(*args, dtype=dtype, **kwargs)


def _both(name, *args, seed=0, **kwargs):
    """The same module built in ember and torch after the same seed (torch's nested-tensor
    fast-path warning, which ember has no reason to give, is silenced)."""
    ember.manual_seed(seed)
    e = getattr(ember.nn, name)(*args, **kwargs)
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t = getattr(torch.nn, name)(*_torchify(args), **kwargs)
    return e, t


_TWINS: dict = {}      # id(ember module) -> the torch module built beside it


def _torchify(args):
    return [_TWINS[id(a)] if isinstance(a, ember.nn.Module) else a for a in args]


def _layer_pair(name, *args, seed=0, **kwargs):
    e, t = _both(name, *args, seed=seed, **kwargs)
    _TWINS[id(e)] = t
    return e


def _norm_pair(d):
    e = ember.nn.LayerNorm(d)
    _TWINS[id(e)] = torch.nn.LayerNorm(d)
    return e


def _rand(rng, *shape, dtype="float32"):
    return rng.standard_normal(shape).astype(dtype)


def _kpm(n, s):
    m = np.zeros((n, s), bool)
    m[0, s - 2:] = True
    return m


# -- construction -----------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name,args,kwargs", [
    ("TransformerEncoderLayer", (8, 2, 16), {}),
    ("TransformerEncoderLayer", (8, 2, 16), {"bias": False, "norm_first": True}),
    ("TransformerDecoderLayer", (8, 2, 16), {}),
    ("Transformer", (8, 2, 2, 1, 16), {}),
    ("Transformer", (8, 2, 1, 2, 16), {"bias": False, "batch_first": True}),
])
def test_init_and_state_dict_keys_match_torch(name, args, kwargs):
    e, t = _both(name, *args, seed=3, **kwargs)
    assert_same_init(e, t)


@needs_torch
def test_encoder_stack_init_matches_torch():
    layer = _layer_pair("TransformerEncoderLayer", 8, 2, 16, seed=4)
    norm = _norm_pair(8)
    e, t = _both("TransformerEncoder", layer, 3, norm)
    assert_same_init(e, t)
    assert e.num_layers == 3 and len(e.layers) == 3
    # Layers are deep copies: independent parameters with equal values.
    assert e.layers[0].linear1.weight is not e.layers[1].linear1.weight


@needs_torch
def test_repr_matches_torch():
    for name, args, kwargs in (("TransformerEncoderLayer", (8, 2, 16), {}),
                               ("TransformerDecoderLayer", (8, 2, 16), {"bias": False}),
                               ("Transformer", (8, 2, 1, 1, 16), {})):
        e, t = _both(name, *args, **kwargs)
        assert repr(e) == repr(t)


@needs_torch
def test_generate_square_subsequent_mask_matches_torch():
    for sz in (1, 4):
        e = ember.nn.Transformer.generate_square_subsequent_mask(sz)
        t = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        np.testing.assert_array_equal(to_numpy(e), to_numpy(t))
        assert str(e.dtype) == str(t.dtype)
    assert ember.nn.Transformer.generate_square_subsequent_mask(
        3, dtype=ember.float64).dtype is ember.float64


def test_activation_strings_and_errors():
    layer = ember.nn.TransformerEncoderLayer(8, 2, 16, activation="gelu")
    assert layer.activation is ember.nn.functional.gelu
    assert layer.activation_relu_or_gelu == 2
    assert ember.nn.TransformerEncoderLayer(8, 2, 16).activation_relu_or_gelu == 1
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        ember.nn.TransformerEncoderLayer(8, 2, 16, activation="tanh")


def test_transformer_input_errors():
    model = ember.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ember.randn(5, 2, 8), ember.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        model(ember.randn(5, 2, 6), ember.randn(4, 2, 6))


# -- parity -----------------------------------------------------------------------------------

ACTIVATIONS = ["relu", "gelu", "callable"]


def _activation(which, lib):
    if which == "callable":
        return lib.nn.functional.silu
    return which


@needs_torch
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_encoder_layer_parity(norm_first, batch_first, act):
    rng = np.random.default_rng(0)
    kw = {"norm_first": norm_first, "batch_first": batch_first}
    ember.manual_seed(0)
    e = ember.nn.TransformerEncoderLayer(8, 2, 16, activation=_activation(act, ember), **kw)
    t = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=_activation(act, torch), **kw)
    x = _rand(rng, 3, 5, 8) if batch_first else _rand(rng, 5, 3, 8)
    mask = np.triu(np.full((5, 5), -np.inf, np.float32), 1)
    module_parity(e, t, (x,), train=False)
    module_parity(e, t, (x,), {"src_mask": mask, "is_causal": True}, train=False)
    module_parity(e, t, (x,), {"src_key_padding_mask": _kpm(3, 5)}, train=False)
    # train mode: deterministic with dropout 0 ...
    for m in (e, t):
        for mod in m.modules():
            if hasattr(mod, "p"):
                mod.p = 0.0
        m.self_attn.dropout = 0.0
    module_parity(e, t, (x,), {"src_mask": np.triu(np.ones((5, 5), bool), 1)}, train=True)


@needs_torch
@pytest.mark.parametrize("norm_first", [False, True])
def test_layers_train_with_dropout_draw_like_torch(norm_first):
    """With the same seed, ember draws the same dropout masks in the same order as torch."""
    rng = np.random.default_rng(1)
    e, t = _both("TransformerEncoderLayer", 8, 2, 16, dropout=0.3, norm_first=norm_first)
    x = _rand(rng, 5, 3, 8)
    module_parity(e, t, (x,), {"src_key_padding_mask": _kpm(3, 5)}, train=True, seed=9)
    e, t = _both("TransformerDecoderLayer", 8, 2, 16, dropout=0.3, norm_first=norm_first)
    mem = _rand(rng, 6, 3, 8)
    module_parity(e, t, (x, mem), {"tgt_mask": np.triu(np.ones((5, 5), bool), 1)},
                  train=True, seed=9)


@needs_torch
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_decoder_layer_parity_with_all_masks(norm_first, dtype):
    rng = np.random.default_rng(2)
    ember.manual_seed(0)
    e = ember.nn.TransformerDecoderLayer(8, 2, 16, norm_first=norm_first, dtype=dtype)
    t = torch.nn.TransformerDecoderLayer(8, 2, 16, norm_first=norm_first,
                                         dtype=getattr(torch, dtype))
    tgt, mem = _rand(rng, 4, 3, 8, dtype=dtype), _rand(rng, 6, 3, 8, dtype=dtype)
    tgt_mask = np.triu(np.full((4, 4), -np.inf), 1).astype(dtype)
    kwargs = {"tgt_mask": tgt_mask, "memory_mask": _rand(rng, 4, 6, dtype=dtype),
              "tgt_key_padding_mask": np.where(_kpm(3, 4), -np.inf, 0).astype(dtype),
              "memory_key_padding_mask": np.where(_kpm(3, 6), -np.inf, 0).astype(dtype),
              "tgt_is_causal": True}
    module_parity(e, t, (tgt, mem), kwargs, dtype=dtype, train=False)
    module_parity(e, t, (tgt[:, 0], mem[:, 0]), dtype=dtype, train=False)     # unbatched


@needs_torch
def test_encoder_stack_parity_detects_causal_mask():
    rng = np.random.default_rng(3)
    layer = _layer_pair("TransformerEncoderLayer", 8, 2, 16, batch_first=True)
    norm = _norm_pair(8)
    e, t = _both("TransformerEncoder", layer, 2, norm)
    x = _rand(rng, 3, 5, 8)
    causal = to_numpy(ember.nn.Transformer.generate_square_subsequent_mask(5))
    module_parity(e, t, (x,), {"mask": causal}, train=False)
    module_parity(e, t, (x,), {"mask": causal, "src_key_padding_mask": (_kpm(3, 5) * -1e9).astype(np.float32)},
                  train=False)


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_parity_with_masks(batch_first):
    rng = np.random.default_rng(4)
    e, t = _both("Transformer", 8, 2, 2, 2, 16, batch_first=batch_first)
    n, s, tl = 3, 6, 4
    src = _rand(rng, n, s, 8) if batch_first else _rand(rng, s, n, 8)
    tgt = _rand(rng, n, tl, 8) if batch_first else _rand(rng, tl, n, 8)
    kwargs = {"tgt_mask": to_numpy(ember.nn.Transformer.generate_square_subsequent_mask(tl)),
              "src_key_padding_mask": _kpm(n, s), "memory_key_padding_mask": _kpm(n, s),
              "tgt_key_padding_mask": np.where(_kpm(n, tl), -np.inf, 0).astype(np.float32)}
    module_parity(e, t, (src, tgt), kwargs, train=False)


@needs_torch
def test_decoder_stack_parity():
    rng = np.random.default_rng(5)
    layer = _layer_pair("TransformerDecoderLayer", 8, 2, 16, activation="gelu")
    e, t = _both("TransformerDecoder", layer, 2)
    tgt, mem = _rand(rng, 4, 2, 8), _rand(rng, 5, 2, 8)
    module_parity(e, t, (tgt, mem), {"memory_mask": np.zeros((4, 5), bool)}, train=False)


def test_transformer_deepcopy_and_state_dict_round_trip():
    model = ember.nn.Transformer(8, 2, 1, 1, 16).eval()
    src, tgt = ember.randn(5, 2, 8), ember.randn(3, 2, 8)
    want = model(src, tgt)
    other = ember.nn.Transformer(8, 2, 1, 1, 16).eval()
    other.load_state_dict(copy.deepcopy(model).state_dict())
    np.testing.assert_array_equal(other(src, tgt).detach().numpy(), want.detach().numpy())


# -- integration: a tiny encoder classifier ----------------------------------------------------

class _Classifier(ember.nn.Module):
    def __init__(self, vocab, d_model, classes, length):
        super().__init__()
        self.embed = ember.nn.Embedding(vocab, d_model)
        self.pos = ember.nn.Parameter(ember.randn(1, length, d_model) * 0.1)
        layer = ember.nn.TransformerEncoderLayer(d_model, 2, 32, dropout=0.0, batch_first=True)
        self.encoder = ember.nn.TransformerEncoder(layer, 1)
        self.head = ember.nn.Linear(d_model, classes)

    def forward(self, tokens):
        h = self.encoder(self.embed(tokens) + self.pos)
        return self.head(h.mean(1))


def test_encoder_classifier_learns_which_token_comes_first():
    """Label: does token 1 appear before token 2 in the sequence? Order matters, so a bag of
    tokens cannot solve it; attention with positions can. Stated bar: >= 95% held-out
    accuracy within 20 s."""
    rng = np.random.default_rng(0)
    ember.manual_seed(0)
    length, vocab = 8, 6

    def batch(n):
        x = rng.integers(3, vocab, size=(n, length))
        pos = np.array([rng.choice(length, 2, replace=False) for _ in range(n)])
        x[np.arange(n), pos[:, 0]] = 1
        x[np.arange(n), pos[:, 1]] = 2
        return ember.tensor(x), ember.tensor((pos[:, 0] < pos[:, 1]).astype(np.int64))

    model = _Classifier(vocab, 16, 2, length)
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    for _ in range(150):
        x, y = batch(64)
        loss = ember.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if time.perf_counter() - start > 20:
            break
    model.eval()
    with ember.no_grad():
        x, y = batch(1000)
        acc = float((model(x).argmax(-1) == y).float().mean())
    assert acc >= 0.95, f"accuracy {acc:.3f} after {time.perf_counter() - start:.1f} s"
