"""Fetchers: turn the sampler's (batch of) index into a collated batch, in the main process
or in a worker."""

from __future__ import annotations

import numpy as np

import ember

from . import collate as _collate
from .shared_batch import share_out


class _BaseDatasetFetcher:
    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        raise NotImplementedError


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    """Draws batch_size samples from the dataset's iterator per fetch."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _MapDatasetFetcher(_BaseDatasetFetcher):
    """dataset[i] per index (or dataset.__getitems__(indices) when defined), then collate.

    Note [TensorDataset fast path]
        With the default collate_fn, a TensorDataset whose __getitem__ is the stock one
        (and no tensor that requires grad), or a stock Subset of one (random_split's
        result), possibly nested, is fetched with one gather per tensor, ``t[indices]``,
        instead of len(indices) ``t[i]`` calls and a stack. The result is the same batch
        default_collate builds from the samples (a list of tensors, same dtypes, shapes and
        values); only the per-sample Python work is gone. In a worker a large gather writes
        into shared memory, like collate_tensor_fn. PyTorch's TensorDataset has no
        __getitems__, and custom collate_fns still receive the list of samples.
    """

    def __init__(self, dataset, auto_collation, collate_fn, drop_last) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self._gather = None
        if auto_collation and collate_fn is _collate.default_collate:
            self._gather = _gather_plan(dataset)

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if self._gather is not None:
                tensors, subsets = self._gather
                batch = _gather_tensor_dataset(tensors, subsets, possibly_batched_index)
                if batch is not None:
                    return batch
            if hasattr(self.dataset, "__getitems__") and self.dataset.__getitems__:
                data = self.dataset.__getitems__(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


def _gather_plan(dataset):
    """(tensors, [index lists of the Subsets on the way, outermost first]) when ``dataset``
    is a stock TensorDataset or stock Subsets of one; None otherwise."""
    from ..dataset import Subset, TensorDataset
    subsets = []
    while (isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__
           and type(dataset).__getitems__ is Subset.__getitems__):
        subsets.append(dataset.indices)
        dataset = dataset.dataset
    if (isinstance(dataset, TensorDataset)
            and type(dataset).__getitem__ is TensorDataset.__getitem__
            and getattr(dataset, "__getitems__", None) is None):
        return dataset.tensors, subsets
    return None


def _gather_tensor_dataset(tensors, subsets, indices):
    """default_collate([ds[i] for i in indices]) of a TensorDataset (seen through Subsets) in
    one gather per tensor; None when the indices or tensors need the general path (see Note
    [TensorDataset fast path])."""
    if any(t.requires_grad for t in tensors):
        return None
    for subset_indices in subsets:
        # Python indexing, exactly what Subset.__getitem__ does (IndexError included).
        indices = [subset_indices[i] for i in indices]
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or idx.size == 0:
        return None
    n = tensors[0].shape[0]
    if idx.min() < -n or idx.max() >= n:
        return None                      # the per-sample path raises the IndexError
    idx = np.where(idx < 0, idx + n, idx)
    out = []
    for t in tensors:
        index = ember.as_tensor(idx.astype(np.int64, copy=False), device=t.device)
        buf = share_out((idx.size, *t.shape[1:]), t.dtype) if t.device.type == "cpu" else None
        out.append(ember.index_select(t, 0, index, out=buf) if buf is not None else t[index])
    return out
