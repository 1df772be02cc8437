"""Recurrent ops: fused RNN/LSTM/GRU steps, the cell functions and whole-sequence runs.

The sequence functions (``lstm``, ``gru``, ``rnn_tanh``, ``rnn_relu``) follow the
signatures of ``torch.lstm`` and friends, padded and packed overloads included; the
``nn.RNN``/``LSTM``/``GRU`` modules are thin wrappers over them.

Note [RNN speed]
    Per layer and direction, the input projections of the whole sequence are ONE matmul
    (``x @ w_ih.T + b``); the time loop, inside one Op per layer and direction (Note [Layer
    op]), does only the hidden matmul and the gates on arrays, and its backward computes
    the hidden weights' gradient as one matmul over all steps. For packed batches the active
    batch shrinks with ``batch_sizes`` (sequences are sorted by length, so the active rows
    are always a prefix): no work is spent on padding. The cells use one fused Op per step.

Note [Fused step backward]
    A fused step's backward needs the gate activations. Without create_graph (grad mode is
    off inside backward) nothing it computes is recorded, so it runs on the arrays saved in
    forward directly with ctx.xp (no dispatch per elementwise op: the time loop is the hot
    path). With create_graph it runs in Tensor ops on activations recomputed from the saved
    inputs, so the result is differentiable again (double backward works).
"""

from __future__ import annotations

from .._autocast import policy as _amp
from .._dispatch import Op, apply
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad_state
from ._names import named

__all__ = ["rnn_tanh", "rnn_relu", "lstm", "gru", "rnn_tanh_cell", "rnn_relu_cell",
           "lstm_cell", "gru_cell"]

TENSOR_METHODS: dict = {}


def _sigmoid_array(xp, a):
    # 0.5 * (1 + tanh(a / 2)): stable for large |a| (no overflow in exp) and one kernel.
    return 0.5 + 0.5 * xp.tanh(0.5 * a)


def _sigmoid_inplace(xp, a):
    """a <- sigmoid(a), as _sigmoid_array (same rounding), without temporaries."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


# -- fused steps ------------------------------------------------------------------------------

class _RNNStep(Op):
    """h' = act(gx + h @ w_hh.T) with act tanh or relu; gx holds x @ w_ih.T + biases."""
    name = "rnn_step"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, gx, h, w_hh, *, nonlinearity):
        xp = ctx.xp
        a = gx + h @ w_hh.T
        out = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
        ctx.nonlinearity = nonlinearity
        ctx.save(h, w_hh, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        h, w_hh, out = ctx.saved_tensors
        need = ctx.needs_input_grad
        if not _grad_state.enabled:      # Note [Fused step backward]: constants, on arrays
            y = out._data
            da = grad._data * (1 - y * y) if ctx.nonlinearity == "tanh" else \
                grad._data * (y > 0)
            wrap = Tensor._make
            return (wrap(da) if need[0] else None,
                    wrap(da @ w_hh._data) if need[1] else None,
                    wrap(da.T @ h._data) if need[2] else None)
        if ctx.nonlinearity == "tanh":
            da = grad * (1 - out * out)
        else:
            da = grad * (out > 0).to(grad.dtype)
        return (da if need[0] else None,
                da @ w_hh if need[1] else None,
                da.t() @ h if need[2] else None)


class _LSTMStep(Op):
    """One LSTM step without projection: returns (o * tanh(c'), c') where
    gates = gx + h @ w_hh.T (chunks i, f, g, o) and c' = f * c + i * g."""
    name = "lstm_step"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, gx, h, c, w_hh):
        xp = ctx.xp
        a = gx + h @ w_hh.T
        n = c.shape[-1]
        ifo = _sigmoid_array(xp, a)
        i, f, o = ifo[:, :n], ifo[:, n:2 * n], ifo[:, 3 * n:]
        g = xp.tanh(a[:, 2 * n:3 * n])
        c_new = f * c + i * g
        tc = xp.tanh(c_new)
        h_new = o * tc
        ctx.save(gx, h, c, w_hh, i, f, g, o, tc)
        return h_new, c_new

    @staticmethod
    def backward(ctx, gh, gc):
        gx, h, c, w_hh, i, f, g, o, tc = ctx.saved_tensors
        need = ctx.needs_input_grad
        if not _grad_state.enabled:      # Note [Fused step backward]: constants, on arrays
            return _lstm_step_grads_arrays(ctx.xp, need, gh._data, gc._data, h._data, c._data,
                                           w_hh._data, i._data, f._data, g._data, o._data,
                                           tc._data)
        a = gx + h @ w_hh.t()
        n = c.shape[-1]
        i, f, g, o = a.split(n, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        tc = (f * c + i * g).tanh()
        dc_total = gc + gh * o * (1 - tc * tc)
        da_i = dc_total * g * i * (1 - i)
        da_f = dc_total * c * f * (1 - f)
        da_g = dc_total * i * (1 - g * g)
        da_o = gh * tc * o * (1 - o)
        from .shape import cat
        da = cat([da_i, da_f, da_g, da_o], 1)
        return (da if need[0] else None,
                da @ w_hh if need[1] else None,
                dc_total * f if need[2] else None,
                da.t() @ h if need[3] else None)


def _lstm_step_grads_arrays(xp, need, gh, gc, h, c, w_hh, i, f, g, o, tc):
    """_LSTMStep's backward on arrays (no graph is recorded: create_graph is off)."""
    dc_total = gc + gh * o * (1 - tc * tc)
    da = xp.concatenate([dc_total * g * i * (1 - i), dc_total * c * f * (1 - f),
                         dc_total * i * (1 - g * g), gh * tc * o * (1 - o)], axis=1)
    wrap = Tensor._make
    return (wrap(da) if need[0] else None,
            wrap(da @ w_hh) if need[1] else None,
            wrap(dc_total * f) if need[2] else None,
            wrap(da.T @ h) if need[3] else None)


class _GRUStep(Op):
    """One GRU step: gx = x @ w_ih.T + b_ih (chunks r, z, n); gh = h @ w_hh.T + b_hh;
    r, z = sigmoid(gx + gh); n = tanh(gx_n + r * gh_n); h' = n + z * (h - n)."""
    name = "gru_step"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, gx, h, w_hh, b_hh=None):
        xp = ctx.xp
        gh = h @ w_hh.T
        if b_hh is not None:
            gh = gh + b_hh
        n_ = h.shape[-1]
        rz = _sigmoid_array(xp, gx[:, :2 * n_] + gh[:, :2 * n_])
        r, z = rz[:, :n_], rz[:, n_:]
        ghn = gh[:, 2 * n_:]
        n = xp.tanh(gx[:, 2 * n_:] + r * ghn)
        out = n + z * (h - n)
        ctx.save(gx, h, w_hh, b_hh, r, z, n, ghn)
        return out

    @staticmethod
    def backward(ctx, grad):
        gx, h, w_hh, b_hh, r, z, n, ghn = ctx.saved_tensors
        need = ctx.needs_input_grad
        n_ = h.shape[-1]
        if not _grad_state.enabled:      # Note [Fused step backward]: constants, on arrays
            xp = ctx.xp
            gd, hd, r, z, n, ghn = grad._data, h._data, r._data, z._data, n._data, ghn._data
            da_n = gd * (1 - z) * (1 - n * n)
            da_z = gd * (hd - n) * z * (1 - z)
            da_r = da_n * ghn * r * (1 - r)
            dgx = xp.concatenate([da_r, da_z, da_n], axis=1)
            dgh = xp.concatenate([da_r, da_z, da_n * r], axis=1)
            wrap = Tensor._make
            return (wrap(dgx) if need[0] else None,
                    wrap(gd * z + dgh @ w_hh._data) if need[1] else None,
                    wrap(dgh.T @ hd) if need[2] else None,
                    wrap(dgh.sum(0)) if len(need) > 3 and need[3] else None)
        gh = h @ w_hh.t()
        if b_hh is not None:
            gh = gh + b_hh
        gx_r, gx_z, gx_n = gx.split(n_, 1)
        gh_r, gh_z, ghn = gh.split(n_, 1)
        r = (gx_r + gh_r).sigmoid()
        z = (gx_z + gh_z).sigmoid()
        n = (gx_n + r * ghn).tanh()
        da_n = grad * (1 - z) * (1 - n * n)
        da_z = grad * (h - n) * z * (1 - z)
        da_r = da_n * ghn * r * (1 - r)
        from .shape import cat
        dgx = cat([da_r, da_z, da_n], 1)
        dgh = cat([da_r, da_z, da_n * r], 1)
        return (dgx if need[0] else None,
                grad * z + dgh @ w_hh if need[1] else None,
                dgh.t() @ h if need[2] else None,
                dgh.sum(0) if len(need) > 3 and need[3] else None)


# -- cells ------------------------------------------------------------------------------------

def _project(x, w_ih, b_ih, b_hh=None):
    """x @ w_ih.T (+ biases), over any leading dims, as one matmul."""
    lead = x.shape[:-1]
    y = x.reshape(-1, x.shape[-1]) @ w_ih.t() if x.ndim != 2 else x @ w_ih.t()
    if b_ih is not None:
        y = y + (b_ih if b_hh is None else b_ih + b_hh)
    elif b_hh is not None:
        y = y + b_hh
    return y.reshape(*lead, y.shape[-1]) if x.ndim != 2 else y


def _check_cell(name, input, hx, w_ih, w_hh):
    if input.ndim not in (1, 2):
        raise RuntimeError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
    if input.shape[-1] != w_ih.shape[1]:
        raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} "
                           f"expected {w_ih.shape[1]}")
    for k, h in enumerate(hx):
        if h.shape[-1] != w_hh.shape[1] and k == 0:
            raise RuntimeError(f"{name}: hidden{k} has inconsistent hidden_size: got "
                               f"{h.shape[-1]}, expected {w_hh.shape[1]}")
        if h.shape[:-1] != input.shape[:-1]:
            raise RuntimeError(f"{name}: Input batch size {input.shape[0]} doesn't match "
                               f"hidden{k} batch size {h.shape[0]}")


def _unbatched(input, hx):
    if input.ndim == 1:
        return input.unsqueeze(0), [h.unsqueeze(0) for h in hx], True
    return input, list(hx), False


def _rnn_cell(name, nonlinearity, input, hx, w_ih, w_hh, b_ih, b_hh):
    _check_cell(name, input, [hx], w_ih, w_hh)
    x, (h,), squeeze = _unbatched(input, [hx])
    out = apply(_RNNStep, _project(x, w_ih, b_ih, b_hh), h, w_hh, nonlinearity=nonlinearity)
    # PyTorch's cells are compositions: their last op names the node (here tanh or relu)
    return out.squeeze(0) if squeeze else named(out, nonlinearity.capitalize() + "Backward0")


@_amp("lower")
def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step: tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh).

    Args:
        input: (N, input_size) or (input_size,).
        hx: (N, hidden_size) or (hidden_size,).
        w_ih, w_hh, b_ih, b_hh: weights (hidden_size, input_size), (hidden_size,
            hidden_size) and biases (hidden_size,) or None.

    Returns:
        The next hidden state, shaped like hx.

    Example:
        >>> import ember
        >>> from ember.ops.rnn import rnn_tanh_cell
        >>> rnn_tanh_cell(ember.zeros(1, 2), ember.zeros(1, 3), ember.ones(3, 2),
        ...               ember.ones(3, 3)).shape
        torch.Size([1, 3])
    """
    return _rnn_cell("rnn_tanh_cell", "tanh", input, hx, w_ih, w_hh, b_ih, b_hh)


@_amp("lower")
def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step with relu: relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh).

    Args and Returns as ``rnn_tanh_cell``.

    Example:
        >>> import ember
        >>> from ember.ops.rnn import rnn_relu_cell
        >>> rnn_relu_cell(ember.ones(2), ember.zeros(3), ember.ones(3, 2),
        ...               ember.ones(3, 3)).tolist()
        [2.0, 2.0, 2.0]
    """
    return _rnn_cell("rnn_relu_cell", "relu", input, hx, w_ih, w_hh, b_ih, b_hh)


@_amp("lower")
def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None):
    """One LSTM step.

    Args:
        input: (N, input_size) or (input_size,).
        hx: (h, c), each (N, hidden_size) or (hidden_size,).
        w_ih, w_hh: (4 * hidden_size, input_size), (4 * hidden_size, hidden_size), gate
            chunks in PyTorch's order i, f, g, o.
        b_ih, b_hh: (4 * hidden_size,) or None.

    Returns:
        (h', c').

    Example:
        >>> import ember
        >>> from ember.ops.rnn import lstm_cell
        >>> h, c = lstm_cell(ember.zeros(2), (ember.zeros(3), ember.zeros(3)),
        ...                  ember.zeros(12, 2), ember.zeros(12, 3))
        >>> h.shape, c.tolist()
        (torch.Size([3]), [0.0, 0.0, 0.0])
    """
    if len(hx) != 2:
        raise RuntimeError(f"lstm_cell: expected hx to contain 2 tensors (h, c), got {len(hx)}")
    _check_cell("lstm_cell", input, hx, w_ih, w_hh)
    x, (h, c), squeeze = _unbatched(input, hx)
    h, c = apply(_LSTMStep, _project(x, w_ih, b_ih, b_hh), h, c, w_hh)
    # one node for h' and c'; PyTorch's h' ends in a mul (and c' in an add, not named here)
    return (h.squeeze(0), c.squeeze(0)) if squeeze else (named(h, "MulBackward0"), c)


@_amp("lower")
def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
             b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One GRU step (gate chunks r, z, n, as PyTorch).

    Args:
        input: (N, input_size) or (input_size,).
        hx: (N, hidden_size) or (hidden_size,).
        w_ih, w_hh: (3 * hidden_size, input_size), (3 * hidden_size, hidden_size).
        b_ih, b_hh: (3 * hidden_size,) or None.

    Returns:
        The next hidden state, shaped like hx.

    Example:
        >>> import ember
        >>> from ember.ops.rnn import gru_cell
        >>> gru_cell(ember.zeros(2), ember.ones(3), ember.zeros(9, 2),
        ...          ember.zeros(9, 3)).tolist()
        [0.5, 0.5, 0.5]
    """
    _check_cell("gru_cell", input, [hx], w_ih, w_hh)
    x, (h,), squeeze = _unbatched(input, [hx])
    args = (_project(x, w_ih, b_ih), h, w_hh) + ((b_hh,) if b_hh is not None else ())
    out = apply(_GRUStep, *args)
    return out.squeeze(0) if squeeze else named(out, "AddBackward0")


# -- whole sequences --------------------------------------------------------------------------

def _dropout(x, p):
    """Inverted dropout drawing its mask like PyTorch's CPU kernel (bernoulli_(1 - p))."""
    if p >= 1:
        return x * 0
    from .creation import empty_like
    mask = empty_like(x).bernoulli_(1 - p).div_(1 - p)
    return x * mask


def _run_direction(mode, steps, sizes, h0, c0, weights, reverse):
    """Run one direction of one layer over the projected inputs ``steps`` (a list of
    (sizes[t], gates) tensors in time order). Returns (outputs in time order, h_n, c_n)."""
    w_hh, b_hh, w_hr = weights
    T = len(steps)
    outs = [None] * T
    full = sizes[0]

    def step(t, h, c):
        gx = steps[t]
        if mode == "LSTM":
            h, c = apply(_LSTMStep, gx, h, c, w_hh)
            if w_hr is not None:
                h = h @ w_hr.t()
            return h, c
        if mode == "GRU":
            if b_hh is None:
                return apply(_GRUStep, gx, h, w_hh), None
            return apply(_GRUStep, gx, h, w_hh, b_hh), None
        return apply(_RNNStep, gx, h, w_hh, nonlinearity=mode), None

    h, c = h0, c0
    if not reverse:
        done_h, done_c = [], []
        for t in range(T):
            bs = sizes[t]
            if bs < h.shape[0]:      # sequences that ended: their final states are set
                done_h.append(h[bs:])
                h = h[:bs]
                if c is not None:
                    done_c.append(c[bs:])
                    c = c[:bs]
            h, c = step(t, h, c)
            outs[t] = h
        if done_h:
            from .shape import cat
            h = cat([h] + done_h[::-1], 0)
            if c is not None:
                c = cat([c] + done_c[::-1], 0)
        return outs, h, c
    from .shape import cat
    last = sizes[T - 1]
    if last < full:
        h = h[:last]
        c = c[:last] if c is not None else None
    for t in range(T - 1, -1, -1):
        bs = sizes[t]
        have = h.shape[0]
        if bs > have:                # sequences that start (in reverse time) here
            h = cat([h, h0[have:bs]], 0)
            if c is not None:
                c = cat([c, c0[have:bs]], 0)
        h, c = step(t, h, c)
        outs[t] = h
    return outs, h, c


# -- whole layers ------------------------------------------------------------------------------

# Note [Layer op]
#     One Op per layer and direction runs the whole time loop on arrays: the step needs no
#     dispatch, and backward computes the weight gradient as ONE matmul over all steps
#     (dA^T @ H_prev) instead of one per step. Steps work on a full-batch state S: step t
#     reads and writes its active rows S[:batch_sizes[t]] (a prefix, sequences being sorted by
#     length). Rows past the prefix keep their last value, so after the loop S is h_n in
#     both directions: going forward, ended sequences keep their final state; going
#     backward, sequences that have not started yet still hold h0. Backward runs the same
#     loop in the opposite order on dS (ending as dh0). Inputs and outputs use the packed
#     layout (N, features); a padded batch (T, B, .) is the same with every size equal to B.
#     With create_graph, backward recomputes the layer with the per-step ops (Note [Fused
#     step backward]) and differentiates that with create_graph, so double backward works.

class _RecurrentLayer(Op):
    """One layer and direction of an RNN/LSTM/GRU over a whole (packed) sequence.

    Inputs: proj (x @ w_ih.T + biases, (T, B, G) or (N, G)), h0 (B, P), then c0 (LSTM),
    w_hh, then b_hh (GRU with bias) and w_hr (LSTM with proj_size). Outputs: the layer
    output (like proj, with P features), h_n and (LSTM) c_n."""
    name = "recurrent_layer"
    promote = "same"
    upcast = True

    @staticmethod
    def forward(ctx, proj, h0, *rest, mode, sizes, reverse, has_b, has_r):
        xp = ctx.xp
        c0 = rest[0] if mode == "LSTM" else None
        k = 1 if mode == "LSTM" else 0
        w_hh = rest[k]
        b_hh = rest[k + 1] if has_b else None
        w_hr = rest[-1] if has_r else None
        G = proj.shape[-1]
        x = proj.reshape(-1, G)
        N = x.shape[0]
        B, P = h0.shape
        dt = proj.dtype
        offsets = [0]
        for n in sizes:
            offsets.append(offsets[-1] + n)
        order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
        S = h0.copy()
        out = xp.empty((N, P), dtype=dt)
        h_prev = xp.empty((N, P), dtype=dt)
        wt = w_hh.T
        if mode == "LSTM":
            Hc = c0.shape[1]
            C = c0.copy()
            acts = xp.empty((N, 4 * Hc), dtype=dt)
            c_prev = xp.empty((N, Hc), dtype=dt)
            tcs = xp.empty((N, Hc), dtype=dt)
            hrs = xp.empty((N, Hc), dtype=dt) if w_hr is not None else None
            for t in order:
                lo, hi = offsets[t], offsets[t + 1]
                n = hi - lo
                hp = S[:n]
                h_prev[lo:hi] = hp
                act = acts[lo:hi]           # the gates, computed in place (few temporaries)
                xp.matmul(hp, wt, out=act)
                act += x[lo:hi]
                g = xp.tanh(act[:, 2 * Hc:3 * Hc])
                _sigmoid_inplace(xp, act)
                act[:, 2 * Hc:3 * Hc] = g
                cp = C[:n]
                c_prev[lo:hi] = cp
                c_new = act[:, Hc:2 * Hc] * cp
                c_new += act[:, :Hc] * g
                tc = xp.tanh(c_new, out=tcs[lo:hi])
                C[:n] = c_new
                if w_hr is not None:
                    hr = xp.multiply(act[:, 3 * Hc:], tc, out=hrs[lo:hi])
                    h = xp.matmul(hr, w_hr.T, out=out[lo:hi])
                else:
                    h = xp.multiply(act[:, 3 * Hc:], tc, out=out[lo:hi])
                S[:n] = h
            arrays = (h_prev, acts, c_prev, tcs, hrs)
        elif mode == "GRU":
            Hs = P
            acts = xp.empty((N, 3 * Hs), dtype=dt)
            ghns = xp.empty((N, Hs), dtype=dt)
            for t in order:
                lo, hi = offsets[t], offsets[t + 1]
                n = hi - lo
                hp = S[:n]
                h_prev[lo:hi] = hp
                gh = hp @ wt
                if b_hh is not None:
                    gh += b_hh
                xt = x[lo:hi]
                act = acts[lo:hi]
                rz = xp.add(xt[:, :2 * Hs], gh[:, :2 * Hs], out=act[:, :2 * Hs])
                _sigmoid_inplace(xp, rz)
                ghn = gh[:, 2 * Hs:]
                ghns[lo:hi] = ghn
                nn = xp.multiply(act[:, :Hs], ghn, out=act[:, 2 * Hs:])
                nn += xt[:, 2 * Hs:]
                xp.tanh(nn, out=nn)
                h = xp.subtract(hp, nn, out=out[lo:hi])
                h *= act[:, Hs:2 * Hs]
                h += nn
                S[:n] = h
            arrays = (h_prev, acts, ghns)
        else:
            for t in order:
                lo, hi = offsets[t], offsets[t + 1]
                n = hi - lo
                hp = S[:n]
                h_prev[lo:hi] = hp
                a = x[lo:hi] + hp @ wt
                h = xp.tanh(a) if mode == "tanh" else xp.maximum(a, 0)
                S[:n] = h
                out[lo:hi] = h
            arrays = (h_prev,)
        ctx.mode, ctx.sizes, ctx.reverse, ctx.has_b, ctx.has_r = mode, sizes, reverse, has_b, \
            has_r
        ctx.offsets = offsets
        out = out.reshape(proj.shape[:-1] + (P,))
        # The work arrays are saved as constants so that backward frees them like any saved
        # tensor (and a second backward without retain_graph raises PyTorch's error).
        ctx.n_inputs = 2 + len(rest)
        ctx.save(proj, h0, *rest, out, *arrays)
        if mode == "LSTM":
            return out, S, C
        return out, S

    @staticmethod
    def backward(ctx, g_out, g_h, g_c=None):
        saved = ctx.saved_tensors
        if _grad_state.enabled:          # Note [Layer op]: create_graph
            return _layer_backward_composite(ctx, saved[:ctx.n_inputs], g_out, g_h, g_c)
        xp = ctx.xp
        mode = ctx.mode
        proj, h0 = saved[0]._data, saved[1]._data
        n_in = ctx.n_inputs
        rest = [t._data for t in saved[2:n_in]]
        arrays = [t._data if t is not None else None for t in saved[n_in + 1:]]
        k = 1 if mode == "LSTM" else 0
        w_hh = rest[k]
        w_hr = rest[-1] if ctx.has_r else None
        out = saved[n_in]._data
        G = proj.shape[-1]
        N = proj.size // G if G else 0
        P = h0.shape[1]
        go = g_out._data.reshape(N, P)
        dS = g_h._data.copy()
        offsets = ctx.offsets
        order = range(len(ctx.sizes)) if ctx.reverse else range(len(ctx.sizes) - 1, -1, -1)
        dx = xp.empty((N, G), dtype=proj.dtype)
        h_prev = arrays[0]
        # Factors that do not depend on the recurrence are computed for all steps at once
        # (few large array ops); the loop keeps only what carries dh and dc across steps.
        if mode == "LSTM":
            _, acts, c_prev, tcs, hrs = arrays
            Hc = c_prev.shape[1]
            i, f, g, o = (acts[:, :Hc], acts[:, Hc:2 * Hc], acts[:, 2 * Hc:3 * Hc],
                          acts[:, 3 * Hc:])
            k_c = o * (1 - tcs * tcs)                     # dc from dh
            k_o = tcs * o * (1 - o)                       # da_o from dh
            k_ifg = xp.concatenate([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g)],
                                   axis=1).reshape(N, 3, Hc)
            dx3 = dx.reshape(N, 4, Hc)
            dC = g_c._data.copy()
            dh_all = xp.empty((N, P), dtype=proj.dtype) if w_hr is not None else None
            for t in order:
                lo, hi = offsets[t], offsets[t + 1]
                n = hi - lo
                dh = dS[:n] + go[lo:hi]
                if w_hr is not None:
                    dh_all[lo:hi] = dh
                    dh = dh @ w_hr
                dct = dC[:n] + dh * k_c[lo:hi]
                xp.multiply(dct[:, None, :], k_ifg[lo:hi], out=dx3[lo:hi, :3])
                xp.multiply(dh, k_o[lo:hi], out=dx3[lo:hi, 3])
                xp.matmul(dx[lo:hi], w_hh, out=dS[:n])
                xp.multiply(dct, f[lo:hi], out=dC[:n])
            dw_hh = dx.T @ h_prev
            grads = [dx, dS, dC, dw_hh]
            if w_hr is not None:
                grads.append(dh_all.T @ hrs)
        elif mode == "GRU":
            _, acts, ghns = arrays
            Hs = P
            r, z, nn = acts[:, :Hs], acts[:, Hs:2 * Hs], acts[:, 2 * Hs:]
            k_n = (1 - z) * (1 - nn * nn)
            k_z = (h_prev - nn) * z * (1 - z)
            k_r = ghns * r * (1 - r)
            dgh = xp.empty((N, G), dtype=proj.dtype)
            for t in order:
                lo, hi = offsets[t], offsets[t + 1]
                n = hi - lo
                dh = dS[:n] + go[lo:hi]
                d = dx[lo:hi]
                e = dgh[lo:hi]
                da_n = xp.multiply(dh, k_n[lo:hi], out=d[:, 2 * Hs:])
                xp.multiply(dh, k_z[lo:hi], out=d[:, Hs:2 * Hs])
                xp.multiply(da_n, k_r[lo:hi], out=d[:, :Hs])
                e[:, :2 * Hs] = d[:, :2 * Hs]
                xp.multiply(da_n, r[lo:hi], out=e[:, 2 * Hs:])
                dS[:n] = dh * z[lo:hi] + e @ w_hh
            grads = [dx, dS, dgh.T @ h_prev]
            if ctx.has_b:
                grads.append(dgh.sum(0))
        else:
            y = out.reshape(N, P)
            k = 1 - y * y if mode == "tanh" else (y > 0).astype(y.dtype)
            for t in order:
                lo, hi = offsets[t], offsets[t + 1]
                n = hi - lo
                da = xp.multiply(dS[:n] + go[lo:hi], k[lo:hi], out=dx[lo:hi])
                xp.matmul(da, w_hh, out=dS[:n])
            grads = [dx, dS, dx.T @ h_prev]
        grads[0] = grads[0].reshape(proj.shape)
        need = ctx.needs_input_grad
        wrap = Tensor._make
        return tuple(wrap(g) if nd else None for g, nd in zip(grads, need))


def _layer_backward_composite(ctx, inputs, g_out, g_h, g_c):
    """Note [Layer op]: recompute with the per-step ops, then differentiate with
    create_graph (used only for double backward)."""
    from ..autograd import grad as _grad
    from .shape import cat, stack
    mode, sizes = ctx.mode, ctx.sizes
    proj, h0 = inputs[0], inputs[1]
    rest = list(inputs[2:])
    c0 = rest.pop(0) if mode == "LSTM" else None
    w_hh = rest[0]
    b_hh = rest[1] if ctx.has_b else None
    w_hr = rest[-1] if ctx.has_r else None
    steps = proj.unbind(0) if proj.ndim == 3 else proj.split(list(sizes), 0)
    outs, h, c = _run_direction(mode, steps, list(sizes), h0, c0, (w_hh, b_hh, w_hr),
                                ctx.reverse)
    out = stack(outs, 0) if proj.ndim == 3 else cat(outs, 0)
    results = [out, h] + ([c] if c is not None else [])
    cots = [g_out, g_h] + ([g_c] if c is not None else [])
    need = ctx.needs_input_grad
    wrt = [t for t, nd in zip(inputs, need) if nd]
    got = iter(_grad(results, wrt, cots, create_graph=True, allow_unused=True))
    return tuple(next(got) if nd else None for nd in need)

_GATES = {"LSTM": 4, "GRU": 3, "tanh": 1, "relu": 1}
_NAMES = {"LSTM": "lstm", "GRU": "gru", "tanh": "rnn_tanh", "relu": "rnn_relu"}


def _run(mode, input, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
         bidirectional, batch_first):
    """The shared body of lstm/gru/rnn_*: input is (T, B, I) padded (batch_first already
    undone) or packed data (N, I) with batch_sizes (a list of ints)."""
    from .shape import cat, stack
    name = _NAMES[mode]
    D = 2 if bidirectional else 1
    per = len(params) // (num_layers * D) if params else 0
    want = (4 if has_biases else 2)
    if per not in (want, want + 1) or (per == want + 1 and mode != "LSTM") or \
            per * num_layers * D != len(params):
        raise RuntimeError(f"{name}: got {len(params)} parameters for num_layers={num_layers},"
                           f" bidirectional={bidirectional}, has_biases={has_biases}")
    packed = batch_sizes is not None
    sizes = batch_sizes if packed else [input.shape[1]] * input.shape[0]
    if mode == "LSTM":
        h0_all, c0_all = hx
    else:
        h0_all, c0_all = hx, None
    layer_input = input
    h_n, c_n = [], []
    for layer in range(num_layers):
        dir_outs = []
        for d in range(D):
            ws = params[(layer * D + d) * per:(layer * D + d + 1) * per]
            w_ih, w_hh = ws[0], ws[1]
            b_ih, b_hh = (ws[2], ws[3]) if has_biases else (None, None)
            w_hr = ws[-1] if per == want + 1 else None
            if mode == "GRU":
                proj = _project(layer_input, w_ih, b_ih)
            else:
                proj = _project(layer_input, w_ih, b_ih, b_hh)
                b_hh = None
            k = layer * D + d
            ins = [proj, h0_all[k]]
            if mode == "LSTM":
                ins.append(c0_all[k])
            ins.append(w_hh)
            if b_hh is not None:
                ins.append(b_hh)
            if w_hr is not None:
                ins.append(w_hr)
            res = apply(_RecurrentLayer, *ins, mode=mode, sizes=tuple(sizes), reverse=d == 1,
                        has_b=b_hh is not None, has_r=w_hr is not None)
            dir_outs.append(res[0])
            h_n.append(res[1])
            if mode == "LSTM":
                c_n.append(res[2])
        layer_input = dir_outs[0] if D == 1 else cat(dir_outs, -1)
        if dropout > 0 and train and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout)
    h_n = stack(h_n, 0)
    c_n = stack(c_n, 0) if c_n else None
    return layer_input, h_n, c_n


def _sequence(mode, args):
    """Parse torch's two overloads:
    (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)."""
    packed = isinstance(args[1], Tensor) and not args[1].is_floating_point()
    name = _NAMES[mode]
    if packed:
        if len(args) != 9:
            raise TypeError(f"{name}(): the packed overload takes 9 arguments, got {len(args)}")
        data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidir = args
        out, h, c = _run(mode, data, [int(s) for s in batch_sizes.tolist()], hx,
                         list(params), has_biases, num_layers, dropout, train, bidir, False)
    else:
        if len(args) != 9:
            raise TypeError(f"{name}(): takes 9 arguments, got {len(args)}")
        input, hx, params, has_biases, num_layers, dropout, train, bidir, batch_first = args
        if input.ndim != 3:
            raise RuntimeError(f"{name}: expected a 3-D input (seq_len, batch, input_size), "
                               f"got {input.ndim}-D")
        x = input.transpose(0, 1) if batch_first else input
        out, h, c = _run(mode, x, None, hx, list(params), has_biases, num_layers, dropout,
                         train, bidir, batch_first)
        if batch_first:
            out = out.transpose(0, 1)
    return (out, h, c) if mode == "LSTM" else (out, h)


@_amp("lower")
def lstm(*args):
    """A multi-layer LSTM over a whole sequence, like ``torch.lstm``.

    Args:
        Either (input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
        batch_first) with input (T, B, I) (or (B, T, I) when batch_first) or the packed
        form (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train,
        bidirectional). hx is (h0, c0); params is the flat list [w_ih, w_hh, b_ih, b_hh,
        (w_hr)] per layer and direction.

    Returns:
        (output, h_n, c_n).

    Example:
        >>> import ember
        >>> from ember.ops.rnn import lstm
        >>> ps = [ember.zeros(8, 3), ember.zeros(8, 2)]
        >>> out, h, c = lstm(ember.ones(5, 1, 3), (ember.zeros(1, 1, 2), ember.zeros(1, 1, 2)),
        ...                  ps, False, 1, 0.0, False, False, False)
        >>> out.shape, h.shape
        (torch.Size([5, 1, 2]), torch.Size([1, 1, 2]))
    """
    return _sequence("LSTM", args)


@_amp("lower")
def gru(*args):
    """A multi-layer GRU over a whole sequence, like ``torch.gru`` (same overloads as
    ``lstm``, with hx a single tensor).

    Returns:
        (output, h_n).

    Example:
        >>> import ember
        >>> from ember.ops.rnn import gru
        >>> out, h = gru(ember.ones(4, 2, 3), ember.zeros(1, 2, 5),
        ...              [ember.zeros(15, 3), ember.zeros(15, 5)], False, 1, 0.0, False,
        ...              False, False)
        >>> out.shape
        torch.Size([4, 2, 5])
    """
    return _sequence("GRU", args)


@_amp("lower")
def rnn_tanh(*args):
    """A multi-layer Elman RNN (tanh) over a whole sequence, like ``torch.rnn_tanh``.

    Returns:
        (output, h_n).

    Example:
        >>> import ember
        >>> from ember.ops.rnn import rnn_tanh
        >>> out, h = rnn_tanh(ember.ones(4, 2, 3), ember.zeros(1, 2, 5),
        ...                   [ember.zeros(5, 3), ember.zeros(5, 5)], False, 1, 0.0, False,
        ...                   False, False)
        >>> h.shape
        torch.Size([1, 2, 5])
    """
    return _sequence("tanh", args)


@_amp("lower")
def rnn_relu(*args):
    """A multi-layer Elman RNN (relu) over a whole sequence, like ``torch.rnn_relu``.

    Returns:
        (output, h_n).

    Example:
        >>> import ember
        >>> from ember.ops.rnn import rnn_relu
        >>> out, h = rnn_relu(ember.ones(4, 2, 3), ember.zeros(1, 2, 5),
        ...                   [ember.ones(5, 3), ember.zeros(5, 5)], False, 1, 0.0, False,
        ...                   False, False)
        >>> out[-1, 0, 0].item()
        3.0
    """
    return _sequence("relu", args)
