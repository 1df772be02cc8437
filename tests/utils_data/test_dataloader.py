"""DataLoader in the main process: options, errors, len, batching, shuffling vs PyTorch."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pytest

import ember
from ember.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from tests.oracle import needs_torch, torch

from ._datasets import Squares, Stream


def _plain(batch):
    """A batch as nested Python lists (tensors via tolist)."""
    if isinstance(batch, (list, tuple)):
        return [_plain(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    return batch.tolist() if hasattr(batch, "tolist") else batch


@pytest.mark.parametrize("kwargs, message", [
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified in "
                             "multiprocessing"),
    ({"num_workers": 1, "prefetch_factor": -1}, "prefetch_factor option should be "
                                                "non-negative"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"sampler": [0, 1], "shuffle": True}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive "
                                                "with batch_size, shuffle, sampler, and "
                                                "drop_last"),
    ({"batch_sampler": [[0]], "shuffle": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "sampler": [0]}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching "
                                              "and is mutually exclusive with drop_last"),
    ({"multiprocessing_context": "fork"}, "multiprocessing_context can only be used with "
                                          "multi-process loading"),
    ({"num_workers": 1, "multiprocessing_context": "nope"}, "multiprocessing_context option "
                                                            "should specify a valid start "
                                                            "method in"),
])
def test_dataloader_option_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataLoader(Squares(), **kwargs)


def test_dataloader_multiprocessing_context_type_error():
    with pytest.raises(TypeError, match="should be a valid context object or a string"):
        DataLoader(Squares(), num_workers=1, multiprocessing_context=42)
    dl = DataLoader(Squares(), num_workers=1, multiprocessing_context="fork")
    assert dl.multiprocessing_context.get_start_method() == "fork"
    ctx = multiprocessing.get_context("spawn")
    assert DataLoader(Squares(), num_workers=1, multiprocessing_context=ctx) \
        .multiprocessing_context is ctx


@pytest.mark.parametrize("kwargs, which", [({"shuffle": True}, "shuffle"),
                                           ({"sampler": [0]}, "sampler"),
                                           ({"batch_sampler": [[0]]}, "batch_sampler")])
def test_dataloader_iterable_dataset_option_errors(kwargs, which):
    with pytest.raises(ValueError, match=f"DataLoader with IterableDataset: expected "
                                         f"unspecified {which} option"):
        DataLoader(Stream(), **kwargs)


def test_dataloader_attributes_frozen_after_init():
    dl = DataLoader(Squares(), batch_size=2)
    for attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                 "persistent_workers"):
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after "
                                             f"DataLoader is initialized"):
            setattr(dl, attr, None)
    dl.num_workers = 0                                     # other attributes may change


def test_dataloader_batches_and_len():
    dl = DataLoader(Squares(n=5), batch_size=2)
    batches = [_plain(b) for b in dl]
    assert len(dl) == 3 == len(batches)
    assert batches[0] == [[[0.0] * 3, [1.0] * 3], [0, 1]]
    assert batches[2] == [[[4.0] * 3], [16]]
    dl = DataLoader(Squares(n=5), batch_size=2, drop_last=True)
    assert len(dl) == 2 and len(list(dl)) == 2
    assert len(DataLoader(Squares(n=5))) == 5


def test_dataloader_batch_size_none_uses_default_convert():
    class NumpySamples(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.full(2, i, dtype=np.int32), i

    dl = DataLoader(NumpySamples(), batch_size=None)
    out = list(dl)
    assert len(dl) == 2 and out[1][0].dtype is ember.int32 and out[1][1] == 1
    assert isinstance(out[0], list)                  # tuple -> list, as default_convert does
    assert dl.collate_fn is not default_collate


def test_dataloader_sampler_and_batch_sampler():
    dl = DataLoader(Squares(n=6), sampler=[5, 0, 3], batch_size=2)
    assert [b[1].tolist() for b in dl] == [[25, 0], [9]]
    bs = BatchSampler(SequentialSampler(range(6)), 4, drop_last=False)
    dl = DataLoader(Squares(n=6), batch_sampler=bs)
    assert dl.batch_size is None and len(dl) == 2
    assert [b[1].tolist() for b in dl] == [[0, 1, 4, 9], [16, 25]]


def test_dataloader_custom_collate_and_getitems():
    class WithGetitems(Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, indices):
            self.calls.append(indices)
            return [i * 10 for i in indices]

    ds = WithGetitems()
    out = list(DataLoader(ds, batch_size=3, collate_fn=lambda b: b))
    assert out == [[0, 10, 20], [30, 40]] and ds.calls == [[0, 1, 2], [3, 4]]


def test_tensor_dataset_fast_path_matches_per_sample_path():
    x = ember.arange(24.0).view(6, 2, 2)
    y = ember.tensor([5, 4, 3, 2, 1, 0])
    ds = TensorDataset(x, y)
    sampler = [5, -1, 0, 2, 3, -6]
    fast = list(DataLoader(ds, batch_size=4, sampler=sampler))
    slow = list(DataLoader(ds, batch_size=4, sampler=sampler,
                           collate_fn=lambda b: default_collate(b)))
    assert _plain(fast) == _plain(slow)
    assert [(t.dtype, tuple(t.shape)) for t in fast[0]] == \
        [(s.dtype, tuple(s.shape)) for s in slow[0]]
    assert isinstance(fast[0], list)
    with pytest.raises(IndexError):
        list(DataLoader(ds, batch_size=2, sampler=[0, 6]))
    # requires_grad: the per-sample path, with a graph back to the dataset's tensor
    w = ember.ones(3, 2, requires_grad=True)
    batch = next(iter(DataLoader(TensorDataset(w), batch_size=2)))[0]
    batch.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]


def test_tensor_dataset_fast_path_through_subsets():
    ds = TensorDataset(ember.arange(20.0).view(10, 2), ember.arange(10))
    sub = Subset(Subset(ds, [9, 8, 7, 6, 5, 4]), [0, 2, -1, 3])
    fast = [_plain(b) for b in DataLoader(sub, batch_size=3)]
    slow = [_plain(b) for b in DataLoader(sub, batch_size=3,
                                          collate_fn=lambda b: default_collate(b))]
    assert fast == slow == [[[[18.0, 19.0], [14.0, 15.0], [8.0, 9.0]], [9, 7, 4]],
                            [[[12.0, 13.0]], [6]]]
    train, _ = random_split(ds, [0.7, 0.3], generator=ember.Generator().manual_seed(0))
    got = [i for b in DataLoader(train, batch_size=4) for i in b[1].tolist()]
    assert got == list(train.indices)
    with pytest.raises(IndexError):
        list(DataLoader(Subset(ds, [0, 1]), sampler=[0, 2], batch_size=2))


def test_tensor_dataset_subclass_getitem_is_respected():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return tuple(2 * t[i] for t in self.tensors)

    out = next(iter(DataLoader(Doubled(ember.arange(4)), batch_size=4)))
    assert out[0].tolist() == [0, 2, 4, 6]


@needs_torch
@pytest.mark.parametrize("use_generator", [False, True])
def test_dataloader_shuffle_matches_torch(use_generator):
    data = np.arange(40, dtype=np.float32).reshape(20, 2)
    ours_ds = TensorDataset(ember.from_numpy(data))
    theirs_ds = torch.utils.data.TensorDataset(torch.from_numpy(data.copy()))
    ember.manual_seed(21)
    torch.manual_seed(21)
    kw_e = {"generator": ember.Generator().manual_seed(8)} if use_generator else {}
    kw_t = {"generator": torch.Generator().manual_seed(8)} if use_generator else {}
    ours = DataLoader(ours_ds, batch_size=6, shuffle=True, **kw_e)
    theirs = torch.utils.data.DataLoader(theirs_ds, batch_size=6, shuffle=True, **kw_t)
    for _ in range(2):                                   # two epochs: the streams go on alike
        assert [b[0].tolist() for b in ours] == [b[0].tolist() for b in theirs]
    assert ember.rand(2).tolist() == pytest.approx(torch.rand(2).tolist())


def test_dataloader_iterable_dataset_batches_drop_last_and_len():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5],
                                                                         [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == \
        [[0, 1, 2], [3, 4, 5]]
    assert [int(b) for b in DataLoader(Stream(3), batch_size=None)] == [0, 1, 2]
    assert len(DataLoader(Stream(7, length=7), batch_size=3)) == 3
    assert len(DataLoader(Stream(7, length=7), batch_size=3, drop_last=True)) == 2
    assert len(DataLoader(Stream(7, length=7), batch_size=None)) == 7
    with pytest.raises(TypeError):
        len(DataLoader(Stream(7), batch_size=3))


def test_dataloader_iterable_dataset_longer_than_len_warns():
    dl = DataLoader(Stream(5, length=3), batch_size=None)
    assert len(dl) == 3
    with pytest.warns(UserWarning, match=r"Length of IterableDataset .* was reported to be "
                                         r"3\(when accessing len\(dataloader\)\), but [45] "
                                         r"samples have been fetched") as record:
        out = list(dl)
    assert out == [0, 1, 2, 3, 4]
    assert len(record) == 2 and "but 5 samples" in str(record[1].message)


def test_dataloader_pin_memory_without_accelerator_warns():
    if ember.accelerator.is_available():
        pytest.skip("an accelerator is present: pin_memory pins")
    dl = DataLoader(Squares(n=2), batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no "
                                         "accelerator is found"):
        out = list(dl)
    assert out[0][1].tolist() == [0, 1]


def test_dataloader_warns_when_workers_exceed_cpus():
    n = len(os.sched_getaffinity(0)) + 1 if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() + 1
    with pytest.warns(UserWarning, match=f"This DataLoader will create {n} worker processes in "
                                         f"total"):
        DataLoader(Squares(), num_workers=n)


def test_dataloader_iterator_not_picklable():
    import pickle
    with pytest.raises(NotImplementedError, match="cannot be pickled"):
        pickle.dumps(iter(DataLoader(Squares())))


def test_torch_style_names_exported():
    import ember.utils.data as data
    for name in ("DataLoader", "Dataset", "IterableDataset", "TensorDataset", "ConcatDataset",
                 "ChainDataset", "Subset", "StackDataset", "random_split", "Sampler",
                 "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                 "WeightedRandomSampler", "BatchSampler", "DistributedSampler",
                 "get_worker_info", "default_collate", "default_convert"):
        assert hasattr(data, name), name
    assert ember.utils.data is data
    assert data.get_worker_info() is None
    assert isinstance(Stream(), IterableDataset)
