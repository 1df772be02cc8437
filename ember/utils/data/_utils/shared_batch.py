"""How a worker's batch crosses to the main process: through shared memory, one block per batch.

Note [Batches through shared memory]
    Importing ember.multiprocessing registers pickling rules that move a cpu tensor put on a
    Queue into shared memory and send its file descriptor (PyTorch's 'file_descriptor'
    strategy). Receiving each descriptor costs a round trip to the sender's resource-sharer
    thread with an authentication handshake, about 0.7 ms here, far more than copying a
    small tensor. So a worker sends a batch as ONE shared block:

    - collate (``default_collate``, and the TensorDataset gather in fetch.py) stacks a tensor
      of at least SHARE_DIRECT_BYTES straight into its own shared buffer (``share_out``):
      for large tensors a copy costs more than a handshake, and they travel as they are;
    - ``pack`` then pickles the batch with every other plain cpu tensor replaced by a
      reference, copies those tensors into one ``empty_shared`` uint8 block, and sends
      (block, references, pickled structure): one descriptor for the whole batch;
    - ``_PackedBatch.unpack`` in the main process rebuilds the batch exactly as pickle would,
      the tensors being views of the block (so they stay in shared memory, writable).

    The descriptor is handed over by a thread of the worker, which needs the GIL: workers
    run with a 0.2 ms switch interval (instead of 5 ms) so that thread answers while the
    worker's main thread builds the next batch; that alone doubles throughput here.

    Tensors that require grad, subclasses, tensors with user attributes and cuda tensors
    travel through the normal pickling rules. Two tensors of one batch that shared memory in
    the worker arrive as separate tensors. Without ember.multiprocessing nothing is packed
    and batches are pickled copies.
"""

from __future__ import annotations

import io
import pickle
from multiprocessing.reduction import ForkingPickler

import numpy as np

SHARE_DIRECT_BYTES = 1 << 22        # 4 MiB: at this size a copy costs about one handshake
_ALIGN = 64                         # every packed tensor starts on a cache line


def _empty_shared():
    try:
        from ember.multiprocessing.reductions import empty_shared
    except ImportError:
        return None
    return empty_shared


def share_out(shape, dtype):
    """In a worker, a shared output buffer for a tensor of at least SHARE_DIRECT_BYTES that
    collate is about to build; None otherwise (build it normally, ``pack`` moves it)."""
    from .worker import get_worker_info
    if get_worker_info() is None:
        return None
    numel = 1
    for s in shape:
        numel *= s
    if numel * dtype.itemsize < SHARE_DIRECT_BYTES:
        return None
    empty_shared = _empty_shared()
    return None if empty_shared is None else empty_shared(shape, dtype)


def _packable(obj) -> bool:
    from ember._tensor import Tensor
    if type(obj) is not Tensor or type(obj._data) is not np.ndarray or obj._rg:
        return False
    if any(not k.startswith("_") for k in obj.__dict__):
        return False
    return not obj.is_shared()


class _Pickler(ForkingPickler):
    def __init__(self, file, tensors: list):
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self._tensors = tensors
        self._ids: dict[int, int] = {}

    def persistent_id(self, obj):
        if not _packable(obj):
            return None
        key = self._ids.get(id(obj))
        if key is None:
            key = self._ids[id(obj)] = len(self._tensors)
            self._tensors.append(obj)
        return key


class _PackedBatch:
    """A batch whose small tensors live in one shared block (see the Note above)."""

    __slots__ = ("block", "metas", "payload")

    def __init__(self, block, metas, payload):
        self.block = block            # uint8 Tensor in shared memory
        self.metas = metas            # [(offset, shape, strides, numpy dtype)]
        self.payload = payload        # the pickled batch, tensors as persistent ids

    def unpack(self):
        from ember._tensor import Tensor
        root = self.block._data
        metas = self.metas
        loaded: dict[int, Tensor] = {}

        def load(key):
            # One tensor per key: a tensor that appears twice in the batch comes back as one
            # object, as with plain pickling.
            t = loaded.get(key)
            if t is None:
                offset, shape, strides, dtype = metas[key]
                t = loaded[key] = Tensor._make(np.ndarray(shape, dtype=dtype, buffer=root,
                                                          offset=offset, strides=strides))
            return t

        unpickler = pickle.Unpickler(io.BytesIO(self.payload))
        unpickler.persistent_load = load
        return unpickler.load()


def pack(data):
    """``data`` ready for the result queue: a _PackedBatch when it holds small plain cpu
    tensors and shared memory is available, else ``data`` itself."""
    empty_shared = _empty_shared()
    if empty_shared is None:
        return data
    tensors: list = []
    buf = io.BytesIO()
    _Pickler(buf, tensors).dump(data)
    if not tensors:
        return data
    import ember
    layout, total = [], 0
    for t in tensors:
        total = -(-total // _ALIGN) * _ALIGN
        layout.append(total)
        total += t._data.nbytes
    block = empty_shared((total,), ember.uint8)
    root = block._data
    metas = []
    for t, offset in zip(tensors, layout):
        src = t._data
        # Packed tensors are made contiguous; the strides are recorded for the rebuild.
        dst = np.ndarray(src.shape, dtype=src.dtype, buffer=root, offset=offset)
        np.copyto(dst, src)
        metas.append((offset, src.shape, dst.strides, src.dtype))
    return _PackedBatch(block, metas, buf.getvalue())
