"""default_collate and default_convert: samples -> batches, as torch.utils.data does.

``default_collate`` turns a list of samples into a batch: tensors are stacked (inside a
worker process straight into shared memory, so the batch crosses to the main process as a
file descriptor instead of a pickled copy), NumPy arrays and numbers become tensors (a Python
float becomes float64, an int int64, a bool bool), strings and bytes stay lists, and
mappings, namedtuples, tuples and lists are collated element by element (a tuple comes back
as a list, as in PyTorch). ``collate`` with a ``collate_fn_map`` lets users add types.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable

import numpy as np

import ember

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map",
           "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
           "collate_float_fn", "collate_int_fn", "collate_str_fn",
           "default_collate_err_msg_format", "np_str_obj_array_pattern"]

# NumPy dtype strings of bytes, str, unicode and object arrays: those cannot become tensors.
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, "
                                  "numbers, dicts or lists; found {}")


def _rebuild_like(data, elem_type, items: dict | list, kind: str):
    """A container of data's type holding ``items``; a plain dict/list when it cannot be built."""
    try:
        if kind == "map":
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(items)
                return clone
            return elem_type(items)
        if isinstance(data, collections.abc.MutableSequence):
            clone = copy.copy(data)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return elem_type(items)
    except TypeError:
        # The type cannot be copied or built from one argument (PyTorch's fallback too).
        return dict(items) if kind == "map" else list(items)


def default_convert(data):
    """Convert NumPy arrays and scalars inside ``data`` to tensors, leaving the structure.

    The DataLoader's collate_fn when automatic batching is off (``batch_size=None``).

    Args:
        data: a sample: tensors, NumPy arrays or scalars, and mappings, namedtuples, tuples
            and sequences of them. Tuples come back as lists (as in PyTorch); anything else
            is returned unchanged.

    Returns:
        The same structure with NumPy data turned into tensors (sharing memory).

    Example:
        >>> import numpy as np
        >>> from ember.utils.data import default_convert
        >>> default_convert({"x": np.arange(3), "name": "a"})
        {'x': tensor([0, 1, 2]), 'name': 'a'}
    """
    elem_type = type(data)
    if isinstance(data, ember.Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if (elem_type.__name__ == "ndarray"
                and np_str_obj_array_pattern.search(data.dtype.str) is not None):
            return data
        return ember.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_like(data, elem_type, {k: default_convert(data[k]) for k in data}, "map")
    if isinstance(data, tuple) and hasattr(data, "_fields"):   # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_like(data, elem_type, [default_convert(d) for d in data], "seq")
    return data


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate a list of samples, looking element types up in ``collate_fn_map``.

    Args:
        batch: a list of samples of one structure.
        collate_fn_map: ``{type or tuple of types: fn(batch, *, collate_fn_map)}``; an exact
            type match wins, then the first ``isinstance`` match in insertion order.

    Returns:
        The batch: containers are rebuilt recursively, leaves go through the map.

    Raises:
        TypeError: a leaf type the map does not handle.
        RuntimeError: sequences of unequal length in one position of the samples.

    Example:
        >>> import ember
        >>> from ember.utils.data._utils.collate import collate, default_collate_fn_map
        >>> collate([(1, "a"), (2, "b")], collate_fn_map=default_collate_fn_map)
        [tensor([1, 2]), ('a', 'b')]
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        items = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                 for key in elem}
        return _rebuild_like(elem, elem_type, items, "map")
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):   # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        items = [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        if isinstance(elem, tuple):
            return items            # PyTorch returns a list for tuples (backward compatibility)
        return _rebuild_like(elem, elem_type, items, "seq")
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map: dict | None = None):
    """Stack tensors along a new first dim; in a worker process, a large result is stacked
    straight into shared memory (see Note [Batches through shared memory])."""
    from .shared_batch import share_out
    from .worker import get_worker_info
    elem = batch[0]
    if (get_worker_info() is not None and elem.device.type == "cpu"
            and not any(t.requires_grad for t in batch)):
        dtype = elem.dtype
        for t in batch:
            if t.dtype is not dtype:
                dtype = ember.promote_types(dtype, t.dtype)
        out = share_out((len(batch), *elem.shape), dtype)
        if out is not None:
            return ember.stack(batch, 0, out=out)
    return ember.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map: dict | None = None):
    """NumPy arrays -> tensors, then stacked; string and object arrays are refused."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([ember.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map: dict | None = None):
    """NumPy scalars -> a 1-D tensor of their dtype."""
    return ember.as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map: dict | None = None):
    """Python floats -> a float64 tensor (not the default dtype, as in PyTorch)."""
    return ember.tensor(batch, dtype=ember.float64)


def collate_int_fn(batch, *, collate_fn_map: dict | None = None):
    """Python ints -> int64; bools -> bool."""
    return ember.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map: dict | None = None):
    """Strings and bytes stay a list."""
    return batch


default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    ember.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Turn a list of samples into a batch (the DataLoader's default collate_fn).

    Args:
        batch: a list of samples of one structure.

    Returns:
        Tensors stacked along a new first dim; NumPy arrays and numbers as tensors (float ->
        float64, int -> int64, bool -> bool); strings and bytes as lists; dicts, namedtuples
        and lists rebuilt with their types; tuples as lists. Inside a DataLoader worker the
        stacked tensors live in shared memory.

    Raises:
        TypeError: "default_collate: batch must contain tensors, numpy arrays, numbers, dicts
            or lists; found <type>".
        RuntimeError: "each element in list of batch should be of equal size".

    Example:
        >>> import ember
        >>> from ember.utils.data import default_collate
        >>> default_collate([{"x": ember.tensor([1.0, 2.0]), "y": 0},
        ...                  {"x": ember.tensor([3.0, 4.0]), "y": 1}])
        {'x': tensor([[1., 2.],
                [3., 4.]]), 'y': tensor([0, 1])}
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
