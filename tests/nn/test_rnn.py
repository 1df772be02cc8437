"""nn.RNN/LSTM/GRU, the cells and nn.utils.rnn against PyTorch: outputs, final states and
the gradients of inputs, states and every weight; packed vs padded; state dicts both ways;
an LSTM classifier over variable-length packed sequences that learns."""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
import pytest

import ember
from ember.nn.utils import rnn as ER
from tests.oracle import TOL, needs_torch, to_numpy, torch

if torch is not None:
    from torch.nn.utils import rnn as TR

def _pair(cls, *args, seed=0, dtype="float64", **kwargs):
    """The same module built by torch and by ember after the same manual_seed."""
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t = getattr(torch.nn, cls)(*args, **kwargs)
    ember.manual_seed(seed)
    e = getattr(ember.nn, cls)(*args, **kwargs)
    if dtype == "float64":
        t, e = t.double(), e.double()
    return e, t


def _leaf(a, lib):
    return (ember.tensor(a, requires_grad=True) if lib == "ember"
            else torch.tensor(a, requires_grad=True))


def _flatten(out):
    if isinstance(out, (ER.PackedSequence, TR.PackedSequence)):
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flatten(o)]
    return [out]


def _check(e_mod, t_mod, x, states=(), dtype="float64", packer=None):
    """Run both modules on x (and the initial states), compare every output, then
    backpropagate one random cotangent and compare the grads of x, the states and all
    weights."""
    rtol, atol = TOL[dtype]
    e_x, t_x = _leaf(x, "ember"), _leaf(x, "torch")
    e_s = [_leaf(s, "ember") for s in states]
    t_s = [_leaf(s, "torch") for s in states]
    e_in, t_in = (e_x, t_x) if packer is None else (packer(e_x, ER), packer(t_x, TR))
    e_args, t_args = [e_in], [t_in]
    if states:
        e_args.append(tuple(e_s) if len(states) == 2 else e_s[0])
        t_args.append(tuple(t_s) if len(states) == 2 else t_s[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)     # torch: proj_size and oneDNN
        e_out, t_out = _flatten(e_mod(*e_args)), _flatten(t_mod(*t_args))
    assert len(e_out) == len(t_out)
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=rtol, atol=atol,
                                   err_msg=f"output {k}")
    gen = np.random.default_rng(1)
    cots = [gen.standard_normal(tuple(t.shape)).astype(to_numpy(t).dtype) for t in t_out]
    ember.autograd.backward(e_out, [ember.tensor(c) for c in cots])
    torch.autograd.backward(t_out, [torch.tensor(c) for c in cots])
    for name, e, t in [("x", e_x, t_x)] + [(f"state{i}", a, b)
                                           for i, (a, b) in enumerate(zip(e_s, t_s))]:
        np.testing.assert_allclose(to_numpy(e.grad), to_numpy(t.grad), rtol=rtol, atol=atol,
                                   err_msg=f"grad of {name}")
    e_params = dict(e_mod.named_parameters())
    assert list(e_params) == [n for n, _ in t_mod.named_parameters()]
    for name, tp in t_mod.named_parameters():
        np.testing.assert_allclose(to_numpy(e_params[name].grad), to_numpy(tp.grad),
                                   rtol=rtol, atol=atol, err_msg=f"grad of {name}")


# -- every mode combination ---------------------------------------------------------------------

COMBOS = list(itertools.product(["RNN_TANH", "RNN_RELU", "LSTM", "GRU"], [1, 2], [False, True],
                                [False, True], [True, False], [False, True]))


def _mode_kwargs(mode):
    if mode.startswith("RNN"):
        return "RNN", {"nonlinearity": mode[4:].lower()}
    return mode, {}


@needs_torch
@pytest.mark.parametrize("mode,layers,bidir,batch_first,bias,with_h0", COMBOS,
                         ids=["-".join(map(str, c)) for c in COMBOS])
def test_rnn_modes_match_torch(mode, layers, bidir, batch_first, bias, with_h0):
    cls, kw = _mode_kwargs(mode)
    e, t = _pair(cls, 3, 4, num_layers=layers, bidirectional=bidir, batch_first=batch_first,
                 bias=bias, **kw)
    rng = np.random.default_rng(2)
    T, B = 4, 2
    x = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    D = 2 if bidir else 1
    states = []
    if with_h0:
        states = [rng.standard_normal((layers * D, B, 4)) for _ in range(2 if cls == "LSTM"
                                                                        else 1)]
    _check(e, t, x, states)


@needs_torch
@pytest.mark.parametrize("layers,bidir,with_h0", [(1, False, True), (2, True, False),
                                                  (2, True, True)])
def test_lstm_proj_size_matches_torch(layers, bidir, with_h0):
    e, t = _pair("LSTM", 3, 5, num_layers=layers, bidirectional=bidir, proj_size=2)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 3))
    D = 2 if bidir else 1
    states = [rng.standard_normal((layers * D, 3, 2)),
              rng.standard_normal((layers * D, 3, 5))] if with_h0 else []
    _check(e, t, x, states)


@needs_torch
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_rnn_float32_matches_torch(cls):
    e, t = _pair(cls, 5, 6, num_layers=2, bidirectional=True, dtype="float32")
    x = np.random.default_rng(4).standard_normal((7, 3, 5)).astype(np.float32)
    _check(e, t, x, dtype="float32")


@needs_torch
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_rnn_half_precision_matches_torch(cls, dtype):
    """float16/bfloat16 weights and inputs: computed in float32, rounded once per output."""
    e, t = _pair(cls, 3, 4, num_layers=2, dtype="float32")
    e, t = e.to(getattr(ember, dtype)), t.to(getattr(torch, dtype))
    x = np.random.default_rng(18).standard_normal((5, 2, 3)).astype(np.float32)
    ex = ember.tensor(x).to(getattr(ember, dtype)).requires_grad_()
    tx = torch.tensor(x).to(getattr(torch, dtype)).requires_grad_()
    eo, to = e(ex)[0], t(tx)[0]
    assert eo.dtype is getattr(ember, dtype)
    tol = 2e-2 if dtype == "bfloat16" else 4e-3
    np.testing.assert_allclose(to_numpy(eo), to_numpy(to), atol=tol)
    eo.float().sum().backward()
    to.float().sum().backward()
    assert ex.grad.dtype is getattr(ember, dtype)
    np.testing.assert_allclose(to_numpy(ex.grad), to_numpy(tx.grad), atol=2 * tol)


@needs_torch
@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn_unbatched_input_matches_torch(cls, with_h0):
    e, t = _pair(cls, 3, 4, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3))
    states = [rng.standard_normal((4, 4)) for _ in range(2 if cls == "LSTM" else 1)] \
        if with_h0 else []
    _check(e, t, x, states)


# -- packed sequences ---------------------------------------------------------------------------

def _packer(lengths, enforce_sorted=False, batch_first=False):
    def pack(x, lib):
        return lib.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                        enforce_sorted=enforce_sorted)
    return pack


@needs_torch
@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("layers,bidir", [(1, False), (2, True)])
@pytest.mark.parametrize("with_h0", [False, True])
def test_rnn_packed_matches_torch(mode, layers, bidir, with_h0):
    cls, kw = _mode_kwargs(mode)
    e, t = _pair(cls, 3, 4, num_layers=layers, bidirectional=bidir, **kw)
    rng = np.random.default_rng(6)
    lengths = [3, 5, 1, 4]
    x = rng.standard_normal((5, 4, 3))
    D = 2 if bidir else 1
    states = [rng.standard_normal((layers * D, 4, 4)) for _ in range(2 if cls == "LSTM"
                                                                     else 1)] if with_h0 else []
    _check(e, t, x, states, packer=_packer(lengths))


@needs_torch
def test_lstm_packed_batch_first_sorted_proj_matches_torch():
    e, t = _pair("LSTM", 3, 4, num_layers=2, bidirectional=True, proj_size=2,
                 batch_first=True)
    x = np.random.default_rng(7).standard_normal((3, 4, 3))
    _check(e, t, x, packer=_packer([4, 4, 2], enforce_sorted=True, batch_first=True))


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_rnn_packed_equals_each_sequence_alone(cls):
    """A packed batch gives every sequence the output and final state it gets alone."""
    ember.manual_seed(0)
    m = getattr(ember.nn, cls)(3, 4, num_layers=2, bidirectional=True).double()
    rng = np.random.default_rng(8)
    seqs = [ember.tensor(rng.standard_normal((n, 3))) for n in (2, 5, 3)]
    out, state = m(ER.pack_sequence(seqs, enforce_sorted=False))
    h_n = state[0] if cls == "LSTM" else state
    padded, lengths = ER.pad_packed_sequence(out, batch_first=True)
    assert lengths.tolist() == [2, 5, 3]
    for i, s in enumerate(seqs):
        alone, st = m(s)
        h_alone = st[0] if cls == "LSTM" else st
        n = s.shape[0]
        np.testing.assert_allclose(padded[i, :n].detach().numpy(), alone.detach().numpy(),
                                   rtol=1e-12, atol=1e-12)
        assert not np.any(padded[i, n:].detach().numpy())
        np.testing.assert_allclose(h_n[:, i].detach().numpy(), h_alone.detach().numpy(),
                                   rtol=1e-12, atol=1e-12)


@needs_torch
def test_pack_padded_sequence_matches_torch():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 5, 2))           # batch_first (B=3, T=5)
    for lengths, sort in [([5, 3, 1], True), ([2, 5, 2], False),
                          (torch.tensor([1, 4, 3]), False)]:
        e_len = ember.tensor(lengths.numpy()) if isinstance(lengths, torch.Tensor) else lengths
        tp = TR.pack_padded_sequence(torch.tensor(x), lengths, batch_first=True,
                                     enforce_sorted=sort)
        ep = ER.pack_padded_sequence(ember.tensor(x), e_len, batch_first=True,
                                     enforce_sorted=sort)
        assert isinstance(ep, tuple) and ep._fields == tp._fields
        np.testing.assert_array_equal(ep.data.numpy(), tp.data.numpy())
        assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist()
        assert str(ep.batch_sizes.dtype) == "torch.int64" and ep.batch_sizes.is_cpu
        for a, b in [(ep.sorted_indices, tp.sorted_indices),
                     (ep.unsorted_indices, tp.unsorted_indices)]:
            assert (a is None) == (b is None)
            if a is not None:
                assert a.tolist() == b.tolist()


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_sequence_matches_torch_with_grad(batch_first, total_length):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((6, 4, 2))
    lengths = [2, 6, 1, 4]
    ex, tx = _leaf(x, "ember"), _leaf(x, "torch")
    ep = ER.pack_padded_sequence(ex, lengths, enforce_sorted=False)
    tp = TR.pack_padded_sequence(tx, lengths, enforce_sorted=False)
    eo, el = ER.pad_packed_sequence(ep, batch_first=batch_first, padding_value=-3.0,
                                    total_length=total_length)
    to, tl = TR.pad_packed_sequence(tp, batch_first=batch_first, padding_value=-3.0,
                                    total_length=total_length)
    np.testing.assert_array_equal(to_numpy(eo), to_numpy(to))
    assert el.tolist() == tl.tolist() and str(el.dtype) == "torch.int64"
    cot = rng.standard_normal(tuple(to.shape))
    eo.backward(ember.tensor(cot))
    to.backward(torch.tensor(cot))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal((n, 2, 3)) for n in (3, 1, 4)]
    es = [_leaf(a, "ember") for a in arrays]
    ts = [_leaf(a, "torch") for a in arrays]
    eo = ER.pad_sequence(es, batch_first=batch_first, padding_value=1.5, padding_side=side)
    to = TR.pad_sequence(ts, batch_first=batch_first, padding_value=1.5, padding_side=side)
    np.testing.assert_array_equal(to_numpy(eo), to_numpy(to))
    cot = rng.standard_normal(tuple(to.shape))
    eo.backward(ember.tensor(cot))
    to.backward(torch.tensor(cot))
    for e, t in zip(es, ts):
        np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


@needs_torch
def test_pack_sequence_unpack_and_unpad_round_trip():
    rng = np.random.default_rng(12)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 4, 3)]
    seqs = [ember.tensor(a) for a in arrays]
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        ER.pack_sequence(seqs)
    packed = ER.pack_sequence(seqs, enforce_sorted=False)
    tpacked = TR.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.numpy(), tpacked.data.numpy())
    for a, s in zip(arrays, ER.unpack_sequence(packed)):
        np.testing.assert_array_equal(s.numpy(), a)
    padded = ER.pad_sequence(seqs)
    for a, s in zip(arrays, ER.unpad_sequence(padded, ember.tensor([2, 4, 3]))):
        np.testing.assert_array_equal(s.numpy(), a)


def test_packed_sequence_to_and_fields():
    p = ER.pack_sequence([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0, 5.0])],
                         enforce_sorted=False)
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert sorted_indices.tolist() == [1, 0] and unsorted_indices.tolist() == [1, 0]
    q = p.to(ember.float64)
    assert q.data.dtype is ember.float64 and q.batch_sizes is p.batch_sizes
    assert p.double().data.dtype is ember.float64 and p.to("cpu") is p
    assert ER.PackedSequence(data, batch_sizes, sorted_indices).unsorted_indices.tolist() == \
        [1, 0]


@pytest.mark.parametrize("fn,args,exc,match", [
    ("pack_padded_sequence", (np.ones((3, 2, 1)), [1, 2]), RuntimeError,
     "sorted in decreasing order"),
    ("pack_padded_sequence", (np.ones((3, 2, 1)), [2, 0]), RuntimeError,
     "has to be greater than 0"),
    ("pack_padded_sequence", (np.ones((3, 2, 1)), [2, 2, 1]), RuntimeError,
     r"Expected `len\(lengths\)` to be equal to batch_size, but got 3 \(batch_size=2\)"),
])
@needs_torch
def test_rnn_utils_errors(fn, args, exc, match):
    with pytest.raises(exc, match=match):
        getattr(ER, fn)(ember.tensor(args[0]), *args[1:])
    with pytest.raises(exc, match=match):                   # the same class as torch's
        getattr(TR, fn)(torch.tensor(args[0]), *args[1:])


def test_pad_packed_and_pad_sequence_errors():
    p = ER.pack_padded_sequence(ember.ones(3, 2, 1), [3, 2])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        ER.pad_packed_sequence(p, total_length=2)
    with pytest.raises(RuntimeError, match="one of left or right, but got up"):
        ER.pad_sequence([ember.ones(2)], padding_side="up")


# -- cells --------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kw", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                    ("LSTMCell", {}), ("GRUCell", {}),
                                    ("LSTMCell", {"bias": False}), ("GRUCell", {"bias": False})])
@needs_torch
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_h0", [True, False])
def test_cells_match_torch(cls, kw, batched, with_h0):
    e, t = _pair(cls, 3, 4, **kw)
    rng = np.random.default_rng(13)
    lead = (2,) if batched else ()
    x = rng.standard_normal(lead + (3,))
    states = [rng.standard_normal(lead + (4,)) for _ in range(2 if cls == "LSTMCell" else 1)] \
        if with_h0 else []
    _check(e, t, x, states)


def test_cell_errors():
    cell = ember.nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        cell(ember.ones(2, 2, 3))
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 5 expected 3"):
        cell(ember.ones(2, 5))
    with pytest.raises(RuntimeError, match="doesn't match hidden0 batch size 3"):
        ember.nn.GRUCell(3, 4)(ember.ones(2, 3), ember.ones(3, 4))
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sig'"):
        ember.nn.RNN(3, 4, nonlinearity="sig")


# -- construction, init, state dicts, repr ------------------------------------------------------

@pytest.mark.parametrize("cls,args,kw", [
    ("RNN", (3, 4), {"num_layers": 2, "nonlinearity": "relu", "bias": False}),
    ("LSTM", (3, 5), {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("GRU", (2, 3), {"batch_first": True, "bidirectional": True}),
    ("RNNCell", (3, 4), {}), ("LSTMCell", (3, 4), {"bias": False}), ("GRUCell", (3, 4), {}),
])
@needs_torch
def test_rnn_init_state_dict_and_repr_match_torch(cls, args, kw):
    e, t = _pair(cls, *args, dtype="float32", **kw)
    e_sd, t_sd = e.state_dict(), t.state_dict()
    assert list(e_sd) == list(t_sd)
    for k in t_sd:                                  # same draws in the same order
        np.testing.assert_array_equal(e_sd[k].numpy(), t_sd[k].numpy(), err_msg=k)
    assert repr(e) == repr(t)
    # torch -> ember and ember -> torch
    torch.manual_seed(123)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        t2 = getattr(torch.nn, cls)(*args, **kw)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t2.state_dict().items()})
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e.state_dict().items()})
    for k, v in t2.state_dict().items():
        np.testing.assert_array_equal(e.state_dict()[k].numpy(), v.numpy())
        np.testing.assert_array_equal(t.state_dict()[k].numpy(), v.numpy())


def test_rnn_repr_and_attributes():
    m = ember.nn.GRU(3, 4, num_layers=2, batch_first=True, dropout=0.5)
    assert repr(m) == "GRU(3, 4, num_layers=2, batch_first=True, dropout=0.5)"
    assert repr(ember.nn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == \
        "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    lstm = ember.nn.LSTM(3, 4, bidirectional=True)
    assert lstm._flat_weights_names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                            "bias_hh_l0", "weight_ih_l0_reverse"]
    assert lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse
    assert lstm.flatten_parameters() is None
    assert ember.nn.modules.rnn.LSTM is ember.nn.LSTM


@pytest.mark.parametrize("kw,exc,match", [
    ({"proj_size": 4}, ValueError, "proj_size has to be smaller than hidden_size"),
    ({"dropout": 2.0}, ValueError, "dropout should be a number in range"),
    ({"proj_size": -1}, ValueError, "proj_size should be a positive integer"),
])
def test_rnn_construction_errors(kw, exc, match):
    with pytest.raises(exc, match=match):
        ember.nn.LSTM(3, 4, **kw)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        ember.nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        ember.nn.LSTM(3, 0)


def test_rnn_dropout_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: m(ember.ones(2, 3, 5)), RuntimeError,
     r"input.size\(-1\) must be equal to input_size. Expected 3, got 5"),
    (lambda m: m(ember.ones(2, 3, 4, 3)), ValueError, "LSTM: Expected input to be 2D or 3D"),
    (lambda m: m(ember.ones(2, 3, 3), (ember.zeros(1, 3, 4), ember.zeros(2, 3, 4))),
     RuntimeError, r"Expected hidden\[1\] size \(1, 3, 4\), got \[2, 3, 4\]"),
    (lambda m: m(ember.ones(2, 3), (ember.zeros(1, 3, 4), ember.zeros(1, 3, 4))),
     RuntimeError, "For unbatched 2-D input"),
])
def test_lstm_forward_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(ember.nn.LSTM(3, 4))


@needs_torch
def test_rnn_input_dtype_mismatch_error_like_torch():
    with pytest.raises(ValueError, match=r"RNN input dtype \(torch.float64\) does not match "
                                         r"weight dtype \(torch.float32\)"):
        ember.nn.LSTM(3, 4)(ember.ones(2, 1, 3, dtype=ember.float64))


def test_gru_hidden_size_error():
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 4\), got \[2, 3, 4\]"):
        ember.nn.GRU(3, 4)(ember.ones(2, 3, 3), ember.zeros(2, 3, 4))


# -- dropout, double backward ------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("packed", [False, True])
def test_rnn_dropout_draws_match_torch(packed):
    e, t = _pair("LSTM", 3, 4, num_layers=3, dropout=0.5, dtype="float32")
    x = np.random.default_rng(14).standard_normal((5, 3, 3)).astype(np.float32)
    e_in, t_in = ember.tensor(x), torch.tensor(x)
    if packed:
        e_in = ER.pack_padded_sequence(e_in, [5, 3, 2])
        t_in = TR.pack_padded_sequence(t_in, [5, 3, 2])
    torch.manual_seed(5)
    ember.manual_seed(5)
    t_out, e_out = t(t_in)[0], e(e_in)[0]
    if packed:
        t_out, e_out = t_out.data, e_out.data
    np.testing.assert_allclose(to_numpy(e_out), to_numpy(t_out), rtol=1e-5, atol=1e-6)
    e.eval()
    a, b = e(e_in)[0], e(e_in)[0]                 # eval: no dropout, deterministic
    a, b = (a.data, b.data) if packed else (a, b)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@needs_torch
@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_rnn_double_backward_matches_torch(cls):
    e, t = _pair(cls, 2, 3)
    x = np.random.default_rng(15).standard_normal((3, 2, 2))
    ex, tx = _leaf(x, "ember"), _leaf(x, "torch")
    (eg,) = ember.autograd.grad(e(ex)[0].pow(2).sum(), [ex], create_graph=True)
    (tg,) = torch.autograd.grad(t(tx)[0].pow(2).sum(), [tx], create_graph=True)
    np.testing.assert_allclose(eg.detach().numpy(), tg.detach().numpy(), rtol=1e-9)
    ew = ember.autograd.grad(eg.pow(2).sum(), [ex, e.weight_hh_l0])
    tw = torch.autograd.grad(tg.pow(2).sum(), [tx, t.weight_hh_l0])
    for a, b in zip(ew, tw):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-10)


@needs_torch
def test_rnn_backward_twice_with_retain_graph():
    e, _ = _pair("GRU", 3, 4, num_layers=2, bidirectional=True)
    x = ember.tensor(np.random.default_rng(17).standard_normal((4, 2, 3)))
    out, h = e(ER.pack_padded_sequence(x, [4, 2]))
    loss = out.data.pow(2).sum() + h.sum()
    loss.backward(retain_graph=True)
    first = e.weight_hh_l1_reverse.grad.clone()
    loss.backward()
    np.testing.assert_allclose(e.weight_hh_l1_reverse.grad.numpy(), 2 * first.numpy(),
                               rtol=1e-12)


def test_rnn_second_backward_without_retain_graph_raises():
    out, _ = ember.nn.LSTM(3, 4)(ember.randn(4, 2, 3))
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


@needs_torch
def test_rnn_dispatches_per_layer_not_per_step():
    """Note [RNN speed]: the op count of a forward does not grow with the sequence length
    (one projection matmul and one layer op per layer and direction)."""
    from ember import _dispatch
    e, _ = _pair("LSTM", 3, 4, num_layers=2, bidirectional=True)
    counts = []
    for T in (3, 30):
        names = []
        _dispatch.observers.append(lambda op, *rest: names.append(op.name))
        try:
            e(ember.randn(T, 2, 3, dtype=ember.float64))
        finally:
            _dispatch.observers.pop()
        counts.append(len(names))
        assert names.count("matmul") == 4 and names.count("recurrent_layer") == 4
    assert counts[0] == counts[1]


# -- integration --------------------------------------------------------------------------------

class _Classifier(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = ember.nn.LSTM(1, 16, batch_first=True)
        self.head = ember.nn.Parameter(ember.randn(16) * 0.1)
        self.bias = ember.nn.Parameter(ember.zeros(()))

    def forward(self, packed):
        _, (h, _) = self.lstm(packed)
        return h[-1] @ self.head + self.bias


def test_lstm_classifier_learns_sum_sign_over_packed_sequences():
    """Predict whether a variable-length sequence sums to a positive number: >= 90% test
    accuracy within 20 s (plain SGD-with-momentum written here: optim is another area)."""
    ember.manual_seed(0)
    rng = np.random.default_rng(0)

    def batch(n):
        lengths = rng.integers(2, 12, size=n)
        seqs = [rng.standard_normal(int(k)).astype(np.float32) for k in lengths]
        labels = np.array([s.sum() > 0 for s in seqs], dtype=np.float32)
        padded = ER.pad_sequence([ember.tensor(s[:, None]) for s in seqs], batch_first=True)
        return ER.pack_padded_sequence(padded, lengths.tolist(), batch_first=True,
                                       enforce_sorted=False), ember.tensor(labels)

    model = _Classifier()
    params = list(model.parameters())
    velocity = [ember.zeros_like(p) for p in params]
    start = time.perf_counter()
    for _ in range(300):
        x, y = batch(32)
        logits = model(x)
        p = logits.sigmoid()
        loss = -(y * (p + 1e-7).log() + (1 - y) * (1 - p + 1e-7).log()).mean()
        model.zero_grad()
        loss.backward()
        with ember.no_grad():
            for prm, v in zip(params, velocity):
                v.mul_(0.9).add_(prm.grad)
                prm.sub_(0.1 * v)
        if time.perf_counter() - start > 18:
            break
    x, y = batch(500)
    with ember.no_grad():
        acc = ((model(x) > 0).float() == y).float().mean().item()
    assert acc >= 0.9, f"accuracy {acc:.3f}"
    assert time.perf_counter() - start < 25


@needs_torch
@pytest.mark.gpu
def test_lstm_packed_on_cuda_matches_cpu():
    if not ember.cuda.is_available():
        pytest.skip("needs a CUDA device")
    e, _ = _pair("LSTM", 3, 4, num_layers=2, bidirectional=True, dtype="float32")
    x = np.random.default_rng(16).standard_normal((5, 3, 3)).astype(np.float32)
    p = ER.pack_padded_sequence(ember.tensor(x), [5, 2, 3], enforce_sorted=False)
    out, (h, c) = e(p)
    g = e.to("cuda")
    out_g, (h_g, c_g) = g(p.to("cuda"))
    np.testing.assert_allclose(out_g.data.cpu().detach().numpy(), out.data.detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h_g.cpu().detach().numpy(), h.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    out_g.data.sum().backward()
    assert g.weight_hh_l1_reverse.grad.is_cuda
