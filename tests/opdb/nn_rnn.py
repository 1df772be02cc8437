"""Recurrent ops: the cell functions and whole-sequence lstm/gru/rnn_* (padded and packed),
against torch.lstm_cell, torch.lstm, ... Sizes are tiny: gradcheck is O(numel)."""

from __future__ import annotations

import warnings

import numpy as np

from ember.ops import rnn as R

from .spec import OpSpec, Sample, draw

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


# -- cells ------------------------------------------------------------------------------------

def _cell_samples(kind):
    def samples(rng, dtype):
        g = _GATES[kind]
        out = []
        for batch, bias in (((3,), True), ((), True), ((2,), False)):
            x = draw(rng, batch + (4,), dtype, -1, 1)
            h = draw(rng, batch + (3,), dtype, -1, 1)
            ws = [draw(rng, (g * 3, 4), dtype, -0.6, 0.6), draw(rng, (g * 3, 3), dtype, -0.6, 0.6)]
            bs = [draw(rng, (g * 3,), dtype, -0.5, 0.5) for _ in range(2)] if bias else []
            states = [h, draw(rng, batch + (3,), dtype, -1, 1)] if kind == "lstm" else [h]
            out.append(Sample(tuple([x] + states + ws + bs)))
        return out
    return samples


def _lstm_cell(mod):
    def fn(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
        return mod.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return fn


def _torch_cell(name):
    # torch's functional cells take 2-D inputs only (the modules unsqueeze): do it here.
    def fn(x, *rest):
        import torch
        n = 2 if name == "lstm_cell" else 1
        states, params = list(rest[:n]), rest[n:]
        squeeze = x.ndim == 1
        if squeeze:
            x = x.unsqueeze(0)
            states = [s.unsqueeze(0) for s in states]
        hx = (tuple(states),) if name == "lstm_cell" else tuple(states)
        out = getattr(torch, name)(x, *hx, *params)
        if squeeze:
            out = tuple(o.squeeze(0) for o in out) if name == "lstm_cell" else out.squeeze(0)
        return out
    return fn


def _relu_cell_samples(rng, dtype):
    # Keep pre-activations away from relu's kink (0).
    out = []
    for s in _cell_samples("rnn_relu")(rng, dtype):
        x, h, w_ih, w_hh, *bs = s.args
        pre = x @ w_ih.T + h @ w_hh.T + sum(bs)
        if np.min(np.abs(pre)) > 0.05:
            out.append(s)
    return out or _cell_samples("rnn_relu")(np.random.default_rng(7), dtype)[:1]


# -- whole sequences --------------------------------------------------------------------------

def _params(rng, dtype, kind, num_layers, bidirectional, bias, proj, in_size, hidden):
    g = _GATES[kind]
    D = 2 if bidirectional else 1
    real = proj or hidden
    ps = []
    for layer in range(num_layers):
        for _ in range(D):
            n_in = in_size if layer == 0 else real * D
            ps.append(draw(rng, (g * hidden, n_in), dtype, -0.6, 0.6))
            ps.append(draw(rng, (g * hidden, real), dtype, -0.6, 0.6))
            if bias:
                ps.append(draw(rng, (g * hidden,), dtype, -0.5, 0.5))
                ps.append(draw(rng, (g * hidden,), dtype, -0.5, 0.5))
            if proj:
                ps.append(draw(rng, (proj, hidden), dtype, -0.6, 0.6))
    return ps


_CONFIGS = [  # (num_layers, bidirectional, bias, batch_first, proj)
    (1, False, True, False, 0),
    (2, True, True, True, 0),
    (1, True, False, False, 0),
]


def _seq_samples(kind, configs, packed=False):
    def samples(rng, dtype):
        out = []
        for num_layers, bidir, bias, batch_first, proj in configs:
            T, B, I, H = 3, 2, 2, 2
            D = 2 if bidir else 1
            if packed:
                lengths = [3, 2, 1][:B + 1]
                B = len(lengths)
                sizes = [sum(n > t for n in lengths) for t in range(max(lengths))]
                x = draw(rng, (sum(sizes), I), dtype, -1, 1)
            else:
                x = draw(rng, (B, T, I) if batch_first else (T, B, I), dtype, -1, 1)
            h0 = draw(rng, (num_layers * D, B, proj or H), dtype, -1, 1)
            states = [h0]
            if kind == "lstm":
                states.append(draw(rng, (num_layers * D, B, H), dtype, -1, 1))
            ps = _params(rng, dtype, kind, num_layers, bidir, bias, proj, I, H)
            kw = {"num_layers": num_layers, "bidirectional": bidir, "has_biases": bias}
            if packed:
                kw["batch_sizes"] = sizes
            else:
                kw["batch_first"] = batch_first
            out.append(Sample(tuple([x] + states + ps), kw))
        return out
    return samples


def _seq_fn(kind, torch_side, packed=False):
    n_states = 2 if kind == "lstm" else 1

    def fn(x, *rest, num_layers, bidirectional, has_biases, batch_first=False,
           batch_sizes=None):
        if torch_side:
            import torch
            f = getattr(torch, kind)
            bs = None if batch_sizes is None else torch.tensor(batch_sizes)
        else:
            import ember
            f = getattr(R, kind)
            bs = None if batch_sizes is None else ember.tensor(batch_sizes)
        states, params = rest[:n_states], list(rest[n_states:])
        hx = tuple(states) if kind == "lstm" else states[0]
        with warnings.catch_warnings():     # torch: "LSTM with projections ... oneDNN"
            warnings.simplefilter("ignore", UserWarning)
            if packed:
                return f(x, bs, hx, params, has_biases, num_layers, 0.0, False, bidirectional)
            return f(x, hx, params, has_biases, num_layers, 0.0, False, bidirectional,
                     batch_first)
    return fn


def _seq_specs(kind):
    specs = [
        OpSpec(kind, fn=_seq_fn(kind, False), torch_fn=_seq_fn(kind, True),
               samples=_seq_samples(kind, _CONFIGS), gradgrad=False),
        OpSpec(kind, variant="packed", fn=_seq_fn(kind, False, True),
               torch_fn=_seq_fn(kind, True, True),
               samples=_seq_samples(kind, _CONFIGS[:2], packed=True), gradgrad=False),
        # Second derivatives through the fused steps (Note [Fused step backward]).
        OpSpec(kind, variant="gradgrad", fn=_seq_fn(kind, False, True),
               torch_fn=_seq_fn(kind, True, True), dtypes=("float64",),
               samples=_seq_samples(kind, [(1, True, True, False, 0)], packed=True)),
    ]
    return specs


def _relu_seq_samples(packed):
    base = _seq_samples("rnn_relu", _CONFIGS[:2], packed=packed)

    def samples(rng, dtype):
        # Positive inputs and biases keep most pre-activations off relu's kink.
        out = []
        for s in base(rng, dtype):
            args = tuple(np.abs(a) if i == 0 or a.ndim == 1 else a
                         for i, a in enumerate(s.args))
            out.append(Sample(args, s.kwargs))
        return out
    return samples


SPECS = [
    OpSpec("lstm_cell", fn=_lstm_cell(R), torch_fn=_torch_cell("lstm_cell"),
           samples=_cell_samples("lstm")),
    OpSpec("gru_cell", fn=R.gru_cell, torch_fn=_torch_cell("gru_cell"),
           samples=_cell_samples("gru")),
    OpSpec("rnn_tanh_cell", fn=R.rnn_tanh_cell, torch_fn=_torch_cell("rnn_tanh_cell"),
           samples=_cell_samples("rnn_tanh")),
    OpSpec("rnn_relu_cell", fn=R.rnn_relu_cell, torch_fn=_torch_cell("rnn_relu_cell"),
           samples=_relu_cell_samples),
    *_seq_specs("lstm"),
    *_seq_specs("gru"),
    *_seq_specs("rnn_tanh"),
    OpSpec("rnn_relu", fn=_seq_fn("rnn_relu", False), torch_fn=_seq_fn("rnn_relu", True),
           samples=_relu_seq_samples(False), gradgrad=False, dtypes=("float64",)),
    OpSpec("lstm", variant="proj", fn=_seq_fn("lstm", False), torch_fn=_seq_fn("lstm", True),
           samples=_seq_samples("lstm", [(2, True, True, False, 1)]), gradgrad=False),
    OpSpec("lstm_cell", variant="errors", fn=_lstm_cell(R), dtypes=(),
           errors=[(Sample((np.ones((2, 5)), np.ones((2, 3)), np.ones((2, 3)),
                            np.ones((12, 4)), np.ones((12, 3)))), RuntimeError,
                    "inconsistent input_size"),
                   (Sample((np.ones((2, 4)), np.ones((3, 3)), np.ones((3, 3)),
                            np.ones((12, 4)), np.ones((12, 3)))), RuntimeError,
                    "doesn't match hidden0 batch size")]),
    OpSpec("gru_cell", variant="errors", fn=R.gru_cell, dtypes=(),
           errors=[(Sample((np.ones((2, 2, 4)), np.ones((2, 3)), np.ones((9, 4)),
                            np.ones((9, 3)))), RuntimeError, "1D or 2D")]),
]
