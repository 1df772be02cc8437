"""Samplers: behaviour, errors, and the same random indices as PyTorch's samplers."""

from __future__ import annotations

import pytest

import ember
from ember.utils.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ember.utils.data.distributed import DistributedSampler
from tests.oracle import needs_torch, torch

tud = None if torch is None else torch.utils.data


def _both_seeded(seed):
    ember.manual_seed(seed)
    torch.manual_seed(seed)


def test_sampler_base_iter_raises():
    with pytest.raises(NotImplementedError):
        iter(Sampler())


def test_sequential_sampler():
    s = SequentialSampler("abcd")
    assert list(s) == [0, 1, 2, 3] and len(s) == 4


def test_random_sampler_is_a_permutation_and_reshuffles():
    s = RandomSampler(range(20))
    first, second = list(s), list(s)
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert first != second


def test_random_sampler_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples=2.5"):
        RandomSampler(range(3), num_samples=2.5)


@needs_torch
@pytest.mark.parametrize("kwargs", [{}, {"num_samples": 23}, {"num_samples": 4},
                                    {"replacement": True},
                                    {"replacement": True, "num_samples": 70}])
def test_random_sampler_matches_torch_with_generator(kwargs):
    ours = RandomSampler(range(10), generator=ember.Generator().manual_seed(5), **kwargs)
    theirs = tud.RandomSampler(range(10), generator=torch.Generator().manual_seed(5), **kwargs)
    assert len(ours) == len(theirs)
    assert list(ours) == list(theirs)
    assert list(ours) == list(theirs)        # the generator's stream goes on alike


@needs_torch
@pytest.mark.parametrize("replacement", [False, True])
def test_random_sampler_matches_torch_with_global_seed(replacement):
    _both_seeded(11)
    ours = RandomSampler(range(37), replacement=replacement, num_samples=50)
    theirs = tud.RandomSampler(range(37), replacement=replacement, num_samples=50)
    for _ in range(2):                       # each epoch draws a fresh seed from the global rng
        assert list(ours) == list(theirs)
    assert ember.rand(3).tolist() == pytest.approx(torch.rand(3).tolist())


@needs_torch
def test_subset_random_sampler_matches_torch():
    indices = [3, 8, 13, 21, 34, 55]
    ours = SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(2))
    theirs = tud.SubsetRandomSampler(indices, generator=torch.Generator().manual_seed(2))
    assert list(ours) == list(theirs) and len(ours) == 6
    _both_seeded(4)
    assert list(SubsetRandomSampler(indices)) == list(tud.SubsetRandomSampler(indices))


@needs_torch
@pytest.mark.parametrize("replacement, num_samples", [
    (True, 12), (False, 5), (False, 1), (True, 2), (True, 1)])
def test_weighted_random_sampler_matches_torch(replacement, num_samples):
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]
    ours = WeightedRandomSampler(weights, num_samples, replacement,
                                 generator=ember.Generator().manual_seed(9))
    theirs = tud.WeightedRandomSampler(weights, num_samples, replacement,
                                       generator=torch.Generator().manual_seed(9))
    assert list(ours) == list(theirs) and len(ours) == num_samples
    _both_seeded(1)
    assert list(WeightedRandomSampler(weights, num_samples, replacement)) == \
        list(tud.WeightedRandomSampler(weights, num_samples, replacement))


def test_weighted_random_sampler_weights_and_errors():
    s = WeightedRandomSampler([0.0, 1.0, 0.0], 5)
    assert list(s) == [1] * 5
    assert s.weights.dtype is ember.float64
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0], True)
    with pytest.raises(ValueError, match="replacement should be a boolean value"):
        WeightedRandomSampler([1.0], 1, replacement=None)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights "
                                         r"have shape \(2, 1\)"):
        WeightedRandomSampler([[1.0], [2.0]], 1)


def test_batch_sampler():
    base = SequentialSampler(range(10))
    assert list(BatchSampler(base, 3, False)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert list(BatchSampler(base, 3, True)) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    assert len(BatchSampler(base, 3, False)) == 4 and len(BatchSampler(base, 3, True)) == 3
    assert list(BatchSampler([5, 6, 7], 2, False)) == [[5, 6], [7]]   # any iterable
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
            BatchSampler(base, bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(base, 2, 0)


def test_distributed_sampler_partitions_without_shuffle():
    parts = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False))
             for r in range(3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]          # padded from the start
    dropped = [list(DistributedSampler(range(10), 3, r, shuffle=False, drop_last=True))
               for r in range(3)]
    assert dropped == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert len(DistributedSampler(range(10), 3, 0, drop_last=True)) == 3


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval "
                                         r"\[0, 2\]"):
        DistributedSampler(range(5), num_replicas=3, rank=3)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(5), num_replicas=3, rank=-1)
    with pytest.raises((RuntimeError, ValueError),
                       match="distributed package|process group has not been initialized"):
        DistributedSampler(range(5))


@needs_torch
@pytest.mark.parametrize("n, replicas, shuffle, drop_last",
                         [(10, 3, True, False), (10, 3, True, True), (2, 5, True, False),
                          (7, 2, False, False), (9, 4, True, True), (12, 4, True, False)])
def test_distributed_sampler_matches_torch(n, replicas, shuffle, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=shuffle, seed=3,
                                  drop_last=drop_last)
        theirs = tud.distributed.DistributedSampler(range(n), replicas, rank, shuffle=shuffle,
                                                    seed=3, drop_last=drop_last)
        assert len(ours) == len(theirs)
        for epoch in (0, 1):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (rank, epoch)


def test_distributed_sampler_set_epoch_reshuffles():
    s = DistributedSampler(range(50), num_replicas=2, rank=0, seed=1)
    first = list(s)
    assert list(s) == first                  # same epoch, same order
    s.set_epoch(1)
    assert list(s) != first and s.epoch == 1
