"""Variable-length sequences: PackedSequence, packing, padding and their inverses.

A packed batch stores sequences sorted by decreasing length, time-major: ``data`` holds the
``batch_sizes[0]`` first steps, then the ``batch_sizes[1]`` second steps, ... Every
conversion here is one gather (``index_select``) computed from the lengths with NumPy, so
it is differentiable and has no Python loop over the batch or time.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


def _index(idx, device=None):
    import ember
    return ember.tensor(np.asarray(idx, dtype=np.int64), device=device)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    import ember
    p = permutation.detach().cpu().numpy()
    inv = np.empty_like(p)
    inv[p] = np.arange(p.shape[0], dtype=p.dtype)
    return ember.tensor(inv, device=permutation.device)


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                     "unsorted_indices"])):
    """A batch of variable-length sequences packed time-major (see the module docstring).

    Build it with ``pack_padded_sequence`` or ``pack_sequence``, not by hand.

    Args:
        data: (sum of lengths, *) the packed steps.
        batch_sizes: int64 CPU tensor, how many sequences are active at each step.
        sorted_indices: how the original batch was sorted by length (None: it was sorted).
        unsorted_indices: the inverse of sorted_indices.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence
        >>> p = pack_sequence([ember.tensor([1., 2., 3.]), ember.tensor([4., 5.])])
        >>> p.data.tolist(), p.batch_sizes.tolist()
        ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:         # PackedSequence(*pack_output) form
            if isinstance(data, (list, tuple)) and len(data) == 2:
                data, batch_sizes = data
            else:
                raise TypeError("PackedSequence: batch_sizes is required")
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence "
                             "should never be created manually. They should be instantiated "
                             "by functions like pack_sequence and pack_padded_sequences in "
                             "nn.utils.rnn. https://pytorch.org/docs/stable/nn.html"
                             "#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data, **kwargs):
        if data is self.data:
            return self
        sorted_indices = self.sorted_indices
        unsorted_indices = self.unsorted_indices
        if sorted_indices is not None:
            sorted_indices = sorted_indices.to(data.device, **kwargs)
            unsorted_indices = unsorted_indices.to(data.device, **kwargs)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """Move/cast ``data`` like ``Tensor.to``; the indices follow data's device,
        batch_sizes stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        rest = {k: v for k, v in kwargs.items() if k not in ("device", "dtype")}
        return self._with_data(data, **rest)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self._with_data(self.data.cuda(*args, **kwargs))

    def cpu(self, *args, **kwargs) -> PackedSequence:
        return self._with_data(self.data.cpu(*args, **kwargs))

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype("float64"))

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype("float32"))

    def half(self) -> PackedSequence:
        return self.to(dtype=_dtype("float16"))

    def bfloat16(self) -> PackedSequence:
        return self.to(dtype=_dtype("bfloat16"))

    def long(self) -> PackedSequence:
        return self.to(dtype=_dtype("int64"))

    def int(self) -> PackedSequence:
        return self.to(dtype=_dtype("int32"))

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _dtype(name):
    import ember
    return getattr(ember, name)


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.is_cuda:
            raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got "
                               "1D cuda:0 Long tensor")
        return lengths.detach().numpy().astype(np.int64).reshape(-1)
    return np.asarray([int(v) for v in lengths], dtype=np.int64)


def _gather_rows(src, rows, extra_row=None):
    """src.index_select(0, rows), optionally with one more row (the padding value) appended
    at index len(src)."""
    if extra_row is not None:
        import ember
        pad = ember.full((1,) + tuple(src.shape[1:]), extra_row, dtype=src.dtype,
                         device=src.device)
        src = ember.cat([src, pad], 0)
    return src.index_select(0, _index(rows, src.device))


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of variable-length sequences.

    Args:
        input: (T, B, *) padded sequences ((B, T, *) when batch_first).
        lengths: the length of each sequence: a list of ints or a 1-D CPU tensor.
        batch_first: the layout of input.
        enforce_sorted: lengths must be decreasing; if False they are sorted here and the
            permutation is kept in the result's sorted_indices.

    Returns:
        A PackedSequence.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_padded_sequence
        >>> x = ember.tensor([[1., 2.], [3., 0.]])       # (T=2, B=2)
        >>> pack_padded_sequence(x, [2, 1]).data.tolist()
        [1.0, 2.0, 3.0]
    """
    lens = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise RuntimeError(f"pack_padded_sequence: expected a padded input with at least 2 "
                           f"dims (T, B, *), got {input.ndim}-D")
    B = input.shape[batch_dim]
    if lens.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lens.shape[0]} (batch_size={B})")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        order = None
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _index(order, input.device)
    if B and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    T = input.shape[1 - batch_dim]
    if B and lens.max() > T:
        raise RuntimeError(f"pack_padded_sequence: a length ({int(lens.max())}) exceeds the "
                           f"padded length {T} of the input")
    steps = int(lens.max()) if B else 0
    # Row (t, b) of the time-major (T, B) grid is packed iff t < lengths[b]; the sorted
    # order makes the active rows of each step a prefix, so row-major order is packed order.
    active = np.arange(steps)[:, None] < lens[None, :]
    batch_sizes = active.sum(1).astype(np.int64)
    t_idx, b_idx = np.nonzero(active)
    if order is not None:
        b_idx = order[b_idx]
    if batch_first:
        rows = b_idx * T + t_idx
        flat = input.reshape(B * T, *input.shape[2:])
    else:
        rows = t_idx * B + b_idx
        flat = input.reshape(T * B, *input.shape[2:])
    data = _gather_rows(flat, rows)
    return PackedSequence(data, _index(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Unpack a PackedSequence into a padded batch (the inverse of pack_padded_sequence).

    Args:
        sequence: the PackedSequence.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of padded positions.
        total_length: pad to this many steps (at least the longest sequence).

    Returns:
        (padded, lengths): lengths is an int64 CPU tensor, in the original batch order.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence, pad_packed_sequence
        >>> p = pack_sequence([ember.tensor([1., 2.]), ember.tensor([3.])])
        >>> x, lengths = pad_packed_sequence(p, batch_first=True)
        >>> x.tolist(), lengths.tolist()
        ([[1.0, 2.0], [3.0, 0.0]], [2, 1])
    """
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    bs = batch_sizes.numpy().astype(np.int64)
    steps = bs.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        T = total_length
    else:
        T = steps
    B = int(bs[0]) if steps else 0
    lens = (bs[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)   # sorted order
    # Output row (t, b) takes packed row offsets[t] + b, or the padding row when b is done.
    offsets = np.concatenate([[0], np.cumsum(bs)])
    N = int(offsets[-1])
    t = np.arange(T)[:, None]
    b = np.arange(B)[None, :]
    valid = t < lens[None, :]
    if unsorted_indices is not None:
        # Original batch position j holds sorted sequence unsorted_indices[j].
        perm = unsorted_indices.detach().cpu().numpy().astype(np.int64)
        b = perm[None, :]
        valid = t < lens[perm][None, :]
        lens = lens[perm]
    rows = np.where(valid, offsets[np.minimum(t, max(steps - 1, 0))] + b, N)
    if batch_first:
        rows = rows.T
    padded = _gather_rows(data, rows.reshape(-1), padding_value)
    shape = (B, T) if batch_first else (T, B)
    return padded.reshape(*shape, *data.shape[1:]), _index(lens)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths into one padded tensor.

    Args:
        sequences: a list (or a tensor, read along dim 0) of tensors (L_i, *).
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of padded positions.
        padding_side: "right" (sequences start at step 0) or "left".

    Returns:
        The padded tensor, T the longest length.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pad_sequence
        >>> pad_sequence([ember.tensor([1., 2.]), ember.tensor([3.])], batch_first=True,
        ...              padding_side="left").tolist()
        [[1.0, 2.0], [0.0, 3.0]]
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    import ember
    lens = np.asarray([s.shape[0] if s.ndim else 1 for s in seqs], dtype=np.int64)
    T = int(lens.max())
    B = len(seqs)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    t = np.arange(T)[:, None]
    if padding_side == "right":
        pos = t - np.zeros_like(lens)[None, :]
    else:
        pos = t - (T - lens)[None, :]
    valid = (pos >= 0) & (pos < lens[None, :])
    N = int(lens.sum())
    rows = np.where(valid, starts[None, :] + pos, N)
    if batch_first:
        rows = rows.T
    flat = ember.cat([s.reshape(-1, *s.shape[1:]) for s in seqs], 0)
    out = _gather_rows(flat, rows.reshape(-1), padding_value)
    shape = (B, T) if batch_first else (T, B)
    return out.reshape(*shape, *seqs[0].shape[1:])


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of sequences (views).

    Args:
        padded_sequences: (T, B, *) or (B, T, *) when batch_first.
        lengths: the length of each sequence (list or tensor).
        batch_first: the layout of padded_sequences.

    Returns:
        A list of B tensors (length_i, *).

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import unpad_sequence
        >>> [s.tolist() for s in unpad_sequence(ember.tensor([[1., 2.], [3., 0.]]), [2, 1])]
        [[1.0, 3.0], [2.0]]
    """
    lens = _lengths_array(lengths)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length sequences (L_i, *).

    Args:
        sequences: the sequences, longest first unless enforce_sorted is False.
        enforce_sorted: as in pack_padded_sequence.

    Returns:
        A PackedSequence.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence
        >>> pack_sequence([ember.tensor([1.]), ember.tensor([2., 3.])],
        ...               enforce_sorted=False).batch_sizes.tolist()
        [2, 1]
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences in a PackedSequence, in their original order.

    Example:
        >>> import ember
        >>> from ember.nn.utils.rnn import pack_sequence, unpack_sequence
        >>> seqs = [ember.tensor([1.]), ember.tensor([2., 3.])]
        >>> [s.tolist() for s in unpack_sequence(pack_sequence(seqs, enforce_sorted=False))]
        [[1.0], [2.0, 3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
