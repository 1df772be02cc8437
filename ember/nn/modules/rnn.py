"""Recurrent layers: RNN, LSTM, GRU and their cells. Thin: parameters, argument checks and a
call of the sequence functions in ember/ops/rnn.py (Note [RNN speed] there)."""

from __future__ import annotations

import math
import numbers
import warnings

from ...ops import rnn as _F
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _empty(*shape, device=None, dtype=None):
    from ...ops.creation import empty
    return empty(*shape, device=device, dtype=dtype)


def _zeros(*shape, device=None, dtype=None):
    from ...ops.creation import zeros
    return zeros(*shape, device=device, dtype=dtype)


def _uniform_all(module, hidden_size):
    # PyTorch draws uniform(-1/sqrt(hidden), 1/sqrt(hidden)) for every parameter in
    # registration order; the same order here gives the same weights after manual_seed.
    from ...autograd.grad_mode import no_grad
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    with no_grad():
        for weight in module.parameters():
            weight.uniform_(-stdv, stdv)


_HX = {1: "hx", 2: "hx and cx"}


def _apply_permutation(t, permutation, dim=1):
    return t.index_select(dim, permutation)


class RNNBase(Module):
    """The shared base of RNN, LSTM and GRU: parameters per layer and direction,
    ``weight_ih_l{k}[_reverse]``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` and
    (LSTM with proj_size) ``weight_hr_l{k}``, named and shaped as PyTorch's.

    Args:
        mode: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU".
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        proj_size: as in PyTorch's RNNBase.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or \
                not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
        if mode not in gates:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = gates[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input)),
                          ("weight_hh_l{}{}", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                names = []
                for fmt, shape in shapes:
                    name = fmt.format(layer, suffix)
                    setattr(self, name, Parameter(_empty(*shape, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_all(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """A no-op: PyTorch packs weights for cuDNN here; ember has no such layout."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, w) for w in weights] for weights in self._all_weights]

    def _expected_hidden_size(self, input, batch_sizes):
        mini_batch = int(batch_sizes[0]) if batch_sizes is not None else \
            input.shape[0 if self.batch_first else 1]
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_input(self, input, batch_sizes) -> None:
        expected = 2 if batch_sizes is not None else 3
        if input.ndim != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.ndim}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    @staticmethod
    def check_hidden_size(hx, expected, msg="Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.shape)))

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self._expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def _prepare(self, input, hx, n_states):
        """Common forward set-up: unpack, unbatched handling, default states. Returns
        (x, batch_sizes, sorted_indices, unsorted_indices, hx list, is_batched)."""
        if isinstance(input, PackedSequence):
            x, batch_sizes, sorted_indices, unsorted_indices = input
            max_batch = int(batch_sizes[0])
            is_batched = True
        else:
            batch_sizes = sorted_indices = unsorted_indices = None
            name = type(self).__name__
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 "instead")
            is_batched = input.ndim == 3
            batch_dim = 0 if self.batch_first else 1
            x = input
            if not is_batched:
                x = input.unsqueeze(batch_dim)
                if hx is not None:
                    for h in hx:
                        if h.ndim != 2:
                            raise RuntimeError(f"For unbatched 2-D input, {_HX[n_states]} "
                                               f"should also be 2-D but got {h.ndim}-D tensor")
                    hx = [h.unsqueeze(1) for h in hx]
            elif hx is not None:
                for h in hx:
                    if h.ndim != 3:
                        raise RuntimeError(f"For batched 3-D input, {_HX[n_states]} should "
                                           f"also be 3-D but got {h.ndim}-D tensor")
            max_batch = x.shape[batch_dim]
        w_dtype = self.weight_ih_l0.dtype
        if x.dtype != w_dtype and x.is_floating_point():
            name = str(w_dtype).replace("torch.", "")
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype "
                             f"({w_dtype}). Convert input: input.to(torch.{name}), or convert "
                             f"model: model.to({x.dtype})")
        num_directions = 2 if self.bidirectional else 1
        if hx is None:
            h_size = self.proj_size if self.proj_size > 0 else self.hidden_size
            sizes = [h_size, self.hidden_size][:n_states]
            hx = [_zeros(self.num_layers * num_directions, max_batch, s, dtype=x.dtype,
                         device=x.device) for s in sizes]
        else:
            hx = [self.permute_hidden(h, sorted_indices) for h in hx]
        return x, batch_sizes, sorted_indices, unsorted_indices, hx, is_batched

    def _params(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def _finish(self, input, out, states, batch_sizes, sorted_indices, unsorted_indices,
                is_batched):
        if isinstance(input, PackedSequence):
            out = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
            states = [self.permute_hidden(s, unsorted_indices) for s in states]
        elif not is_batched:
            out = out.squeeze(0 if self.batch_first else 1)
            states = [s.squeeze(1) for s in states]
        return out, states

    def _run(self, fn, x, batch_sizes, hidden):
        if batch_sizes is None:
            return fn(x, hidden, self._params(), self.bias, self.num_layers, self.dropout,
                      self.training, self.bidirectional, self.batch_first)
        return fn(x, batch_sizes, hidden, self._params(), self.bias, self.num_layers,
                  self.dropout, self.training, self.bidirectional)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """A multi-layer Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or
    relu).

    Args:
        input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
        batch_first=False, dropout=0.0, bidirectional=False: as PyTorch's.

    Shape:
        input (T, B, input_size), (B, T, input_size) when batch_first, (T, input_size)
        unbatched, or a PackedSequence; h_0 (num_layers * D, B, hidden_size).
        Returns (output, h_n): output (T, B, D * hidden_size) (packed if the input was).

    Example:
        >>> import ember
        >>> rnn = ember.nn.RNN(3, 4, num_layers=2)
        >>> out, h = rnn(ember.randn(5, 2, 3))
        >>> out.shape, h.shape
        (torch.Size([5, 2, 4]), torch.Size([2, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, bs, si, ui, hidden, batched = self._prepare(input, None if hx is None else [hx], 1)
        self.check_forward_args(x, hidden[0], bs)
        fn = _F.rnn_tanh if self.mode == "RNN_TANH" else _F.rnn_relu
        out, h = self._run(fn, x, bs, hidden[0])
        out, (h,) = self._finish(input, out, [h], bs, si, ui, batched)
        return out, h


class LSTM(RNNBase):
    """A multi-layer LSTM (gate order i, f, g, o as PyTorch), optionally with projections
    (proj_size: h_t = W_hr (o_t * tanh(c_t))).

    Args:
        input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False, proj_size=0: as PyTorch's.

    Shape:
        input as RNN; hx = (h_0, c_0) with h_0 (num_layers * D, B, proj_size or hidden_size)
        and c_0 (num_layers * D, B, hidden_size). Returns (output, (h_n, c_n)).

    Example:
        >>> import ember
        >>> lstm = ember.nn.LSTM(3, 4, batch_first=True)
        >>> out, (h, c) = lstm(ember.randn(2, 5, 3))
        >>> out.shape, c.shape
        (torch.Size([2, 5, 4]), torch.Size([1, 2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def _expected_cell_size(self, input, batch_sizes):
        size = self._expected_hidden_size(input, batch_sizes)
        return (size[0], size[1], self.hidden_size)

    def forward(self, input, hx=None):
        x, bs, si, ui, hidden, batched = self._prepare(input, hx, 2)
        self.check_input(x, bs)
        self.check_hidden_size(hidden[0], self._expected_hidden_size(x, bs),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self._expected_cell_size(x, bs),
                               "Expected hidden[1] size {}, got {}")
        out, h, c = self._run(_F.lstm, x, bs, tuple(hidden))
        out, (h, c) = self._finish(input, out, [h, c], bs, si, ui, batched)
        return out, (h, c)


class GRU(RNNBase):
    """A multi-layer GRU (gate order r, z, n as PyTorch):
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)), h_t = (1 - z_t) n_t + z_t h_{t-1}.

    Args:
        input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
        bidirectional=False: as PyTorch's.

    Shape:
        as RNN. Returns (output, h_n).

    Example:
        >>> import ember
        >>> gru = ember.nn.GRU(3, 4, bidirectional=True)
        >>> out, h = gru(ember.randn(5, 3))
        >>> out.shape, h.shape
        (torch.Size([5, 8]), torch.Size([2, 4]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)

    def forward(self, input, hx=None):
        x, bs, si, ui, hidden, batched = self._prepare(input, None if hx is None else [hx], 1)
        self.check_forward_args(x, hidden[0], bs)
        out, h = self._run(_F.gru, x, bs, hidden[0])
        out, (h,) = self._finish(input, out, [h], bs, si, ui, batched)
        return out, h


# -- cells ------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """The shared base of the cells: weight_ih (chunks * hidden, input), weight_hh
    (chunks * hidden, hidden), bias_ih, bias_hh."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        g = num_chunks * hidden_size
        self.weight_ih = Parameter(_empty(g, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(_empty(g, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_empty(g, device=device, dtype=dtype))
            self.bias_hh = Parameter(_empty(g, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_all(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def _check(self, input, hx):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             "instead")
        for h in hx:
            if h is not None and h.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {h.ndim}D "
                                 "instead")

    def _zeros_state(self, input):
        shape = (input.shape[0], self.hidden_size) if input.ndim == 2 else (self.hidden_size,)
        return _zeros(*shape, dtype=input.dtype, device=input.device)


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Args:
        input_size, hidden_size, bias=True, nonlinearity="tanh".

    Shape:
        input (B, input_size) or (input_size,); hx like the output (B, hidden_size).

    Example:
        >>> import ember
        >>> ember.nn.RNNCell(3, 4)(ember.randn(2, 3)).shape
        torch.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check(input, [hx])
        if hx is None:
            hx = self._zeros_state(input)
        if self.nonlinearity == "tanh":
            fn = _F.rnn_tanh_cell
        elif self.nonlinearity == "relu":
            fn = _F.rnn_relu_cell
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return fn(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class LSTMCell(RNNCellBase):
    """One LSTM step.

    Args:
        input_size, hidden_size, bias=True.

    Shape:
        input (B, input_size) or (input_size,); hx = (h, c) each (B, hidden_size).
        Returns (h', c').

    Example:
        >>> import ember
        >>> h, c = ember.nn.LSTMCell(3, 4)(ember.randn(2, 3))
        >>> h.shape
        torch.Size([2, 4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        self._check(input, hx if hx is not None else [])
        if hx is None:
            zeros = self._zeros_state(input)
            hx = (zeros, zeros)
        return _F.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                            self.bias_hh)


class GRUCell(RNNCellBase):
    """One GRU step.

    Args:
        input_size, hidden_size, bias=True.

    Shape:
        input (B, input_size) or (input_size,); hx (B, hidden_size).

    Example:
        >>> import ember
        >>> ember.nn.GRUCell(3, 4)(ember.randn(3)).shape
        torch.Size([4])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        self._check(input, [hx])
        if hx is None:
            hx = self._zeros_state(input)
        return _F.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih,
                           self.bias_hh)
