"""Copy batches into page-locked (pinned) host memory, so that ``.to('cuda',
non_blocking=True)`` can overlap the copy with compute. Needs CuPy and a CUDA device; the
DataLoader only calls this when one is available."""

from __future__ import annotations

import collections.abc
import copy
import queue

from . import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper
from .shared_batch import _PackedBatch


def _pin_tensor(t):
    """t in pinned host memory (a copy), through Tensor.pin_memory when ember has it, else
    through CuPy's pinned allocator."""
    method = getattr(t, "pin_memory", None)
    if callable(method):
        return method()
    if t.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{t.type()}' only dense CPU tensors can be pinned")
    import cupyx

    from ember._tensor import Tensor
    pinned = cupyx.empty_pinned(t._data.shape, dtype=t._data.dtype)
    pinned[...] = t._data
    return Tensor._make(pinned)


def pin_memory(data, device=None):
    """Pin every tensor inside ``data`` (mappings, namedtuples, tuples, sequences rebuilt
    with their types; objects with a ``pin_memory()`` method call it; others unchanged)."""
    from ember._tensor import Tensor
    if isinstance(data, Tensor):
        return _pin_tensor(data)
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({k: pin_memory(v, device) for k, v in data.items()})
                return clone
            return type(data)({k: pin_memory(v, device) for k, v in data.items()})
        except TypeError:
            return {k: pin_memory(v, device) for k, v in data.items()}
    if isinstance(data, tuple):
        if hasattr(data, "_fields"):                # namedtuple
            return type(data)(*(pin_memory(v, device) for v in data))
        return type(data)(pin_memory(v, device) for v in data)
    if isinstance(data, collections.abc.Sequence):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, item in enumerate(data):
                    clone[i] = pin_memory(item, device)
                return clone
            return type(data)([pin_memory(v, device) for v in data])
        except TypeError:
            return [pin_memory(v, device) for v in data]
    return data


def _pin_memory_loop(in_queue, out_queue, device_id, done_event, device) -> None:
    """Thread body: take (idx, batch) from the workers' queue, pin, hand to the main thread."""
    if device_id is not None and device_id >= 0:
        from ember import cuda
        cuda.set_device(device_id)

    def do_one_step() -> None:
        try:
            r = in_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
        except queue.Empty:
            return
        idx, data = r
        if not done_event.is_set() and not isinstance(data, ExceptionWrapper):
            try:
                if isinstance(data, _PackedBatch):
                    data = data.unpack()
                data = pin_memory(data, device)
            except Exception:
                data = ExceptionWrapper(where=f"in pin memory thread for device {device_id}")
            r = (idx, data)
        while not done_event.is_set():
            try:
                out_queue.put(r, timeout=MP_STATUS_CHECK_INTERVAL)
                break
            except queue.Full:
                continue

    while not done_event.is_set():
        do_one_step()
