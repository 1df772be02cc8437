"""Datasets and random_split, against torch.utils.data where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.utils.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from tests.oracle import needs_torch, torch


class Items(Dataset):
    def __init__(self, items):
        self.items = list(items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class Batched(Items):
    """Records __getitems__ calls."""

    def __init__(self, items):
        super().__init__(items)
        self.calls = []

    def __getitems__(self, indices):
        self.calls.append(list(indices))
        return [self.items[i] for i in indices]


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_dataset_base_getitem_raises():
    with pytest.raises(NotImplementedError, match="should implement __getitem__"):
        Dataset()[0]


def test_tensor_dataset_rows_and_len():
    x = ember.arange(12.0).view(4, 3)
    y = ember.tensor([0, 1, 2, 3])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    a, b = ds[2]
    assert a.tolist() == [6.0, 7.0, 8.0] and b.item() == 2
    rows, labels = ds[[0, 3]]
    assert rows.tolist() == [[0.0, 1.0, 2.0], [9.0, 10.0, 11.0]] and labels.tolist() == [0, 3]
    assert ds.tensors[0] is x


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(ember.zeros(3, 2), ember.zeros(4))


def test_concat_dataset_indexing_and_add():
    ds = Items([1, 2]) + Items([3, 4, 5])
    assert isinstance(ds, ConcatDataset)
    assert len(ds) == 5 and ds.cumulative_sizes == [2, 5]
    assert [ds[i] for i in range(5)] == [1, 2, 3, 4, 5]
    assert ds[-1] == 5 and ds[-5] == 1
    with pytest.raises(ValueError, match="absolute value of index should not exceed"):
        ds[-6]
    with pytest.warns(FutureWarning, match="renamed to `cumulative_sizes`"):
        assert ds.cummulative_sizes == [2, 5]


def test_concat_dataset_errors():
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Items([1]), Count(2)])


def test_chain_dataset_and_iterable_add():
    chained = Count(2) + Count(3)
    assert isinstance(chained, ChainDataset)
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(ChainDataset([Items([1])]))
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        len(ChainDataset([Count(1), Items([1])]))


def test_subset_getitem_getitems_and_len():
    base = Batched("abcdef")
    s = Subset(base, [5, 0, 2])
    assert len(s) == 3 and s[0] == "f" and s[-1] == "c"
    assert s.__getitems__([0, 2]) == ["f", "c"]
    assert base.calls == [[5, 2]]              # forwarded to the dataset's __getitems__
    plain = Subset(Items("abc"), [2, 1])
    assert plain.__getitems__([0, 1]) == ["c", "b"]
    tensors = Subset(TensorDataset(ember.arange(5)), [4, 1])
    assert tensors[[0, 1]][0].tolist() == [4, 1]   # a list index goes to the dataset at once


def test_subset_subclass_must_override_getitems():
    class Doubled(Subset):
        def __getitem__(self, idx):
            return 2 * super().__getitem__(idx)

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Doubled(Items([1, 2]), [0])

    class Fine(Doubled):
        def __getitems__(self, indices):
            return [self[i] for i in indices]

    assert Fine(Items([1, 2]), [1]).__getitems__([0]) == [4]


def test_stack_dataset_tuple_and_dict():
    t = StackDataset(Items("ab"), Batched([10, 20]))
    assert t[1] == ("b", 20) and len(t) == 2
    assert t.__getitems__([1, 0]) == [("b", 20), ("a", 10)]
    d = StackDataset(x=Items("ab"), y=Items([1, 2]))
    assert d[0] == {"x": "a", "y": 1}
    assert d.__getitems__([1]) == [{"x": "b", "y": 2}]


def test_stack_dataset_errors():
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(Items("a"), y=Items("a"))
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Items("a"), Items("ab"))
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(x=Items("a"), y=Items("ab"))
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()

    class Short(Items):
        def __getitems__(self, indices):
            return []

    with pytest.raises(ValueError, match="Nested dataset's output size mismatch. Expected 2"):
        StackDataset(Short("ab")).__getitems__([0, 1])


def test_random_split_lengths_cover_dataset():
    parts = random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))


@pytest.mark.parametrize("n, fracs", [(10, [0.33, 0.33, 0.34]), (11, [0.5, 0.5]),
                                      (7, [0.1, 0.2, 0.7]), (5, [0.25, 0.25, 0.25, 0.25])])
def test_random_split_fractions_distribute_remainder(n, fracs):
    parts = random_split(range(n), fracs, generator=ember.Generator().manual_seed(0))
    lengths = [len(p) for p in parts]
    assert sum(lengths) == n
    floors = [int(np.floor(n * f)) for f in fracs]
    remainder = n - sum(floors)
    expected = [f + (1 if i < remainder else 0) for i, f in enumerate(floors)]
    assert lengths == expected


def test_random_split_errors_and_empty_warning():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(5), [2, 2])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(range(5), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index") as record:
        parts = random_split(range(2), [0.9, 0.05, 0.05])
    assert [str(w.message)[:28] for w in record] == ["Length of split at index 1 i",
                                                     "Length of split at index 2 i"]
    assert [len(p) for p in parts] == [2, 0, 0]


@needs_torch
@pytest.mark.parametrize("lengths", [[3, 4, 3], [0.5, 0.3, 0.2], [0.34, 0.33, 0.33]])
def test_random_split_matches_torch(lengths):
    ours = random_split(range(10), lengths, generator=ember.Generator().manual_seed(7))
    theirs = torch.utils.data.random_split(range(10), lengths,
                                           generator=torch.Generator().manual_seed(7))
    assert [list(p.indices) for p in ours] == [list(p.indices) for p in theirs]


@needs_torch
def test_random_split_default_generator_matches_torch():
    ember.manual_seed(3)
    torch.manual_seed(3)
    ours = random_split(range(20), [5, 15])
    theirs = torch.utils.data.random_split(range(20), [5, 15])
    assert [list(p.indices) for p in ours] == [list(p.indices) for p in theirs]


def test_dataset_generic_subscript():
    # class MyData(Dataset[int]) must work, as in PyTorch's typing.
    class Ints(Dataset[int]):
        def __getitem__(self, i):
            return i

    assert Ints()[3] == 3
