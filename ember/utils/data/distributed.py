"""DistributedSampler: each of num_replicas processes loads its own slice of the dataset."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TypeVar

import ember

from .sampler import Sampler

__all__ = ["DistributedSampler"]

_T_co = TypeVar("_T_co", covariant=True)


def _process_group_value(what: str) -> int:
    """world size or rank of the default process group (ember.distributed), PyTorch's errors
    when there is none."""
    try:
        from ember import distributed as dist
    except ImportError:
        dist = None
    if dist is None or not getattr(dist, "is_available", lambda: False)():
        raise RuntimeError("Requires distributed package to be available (ember.distributed "
                           "is not available: pass num_replicas= and rank= explicitly)")
    return dist.get_world_size() if what == "world_size" else dist.get_rank()


class DistributedSampler(Sampler[_T_co]):
    """The keys of one replica (process) out of num_replicas, for distributed training.

    Every replica builds the same (optionally shuffled) key list, pads it by repeating keys
    from its start (or, with drop_last, cuts its tail) to a multiple of num_replicas, and
    takes every num_replicas-th key from position rank. The shuffle is ``randperm`` from a
    Generator seeded with ``seed + epoch``: the same on every replica and the same indices as
    PyTorch's. Call ``set_epoch(epoch)`` before each epoch or every epoch repeats one order.

    Args:
        dataset: a map-style dataset (only its length is used).
        num_replicas: the number of processes (default: the default process group's world
            size; needs ember.distributed).
        rank: this process's rank in ``[0, num_replicas - 1]`` (default: from the group).
        shuffle: shuffle the keys (default True).
        seed: the shuffle's seed; must be the same on all replicas (default 0).
        drop_last: drop the tail instead of padding (default False).

    Raises:
        ValueError: rank outside ``[0, num_replicas - 1]``.
        RuntimeError: num_replicas or rank omitted without ember.distributed.

    Example:
        >>> from ember.utils.data.distributed import DistributedSampler
        >>> list(DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False))
        [1, 3, 0]
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _process_group_value("world_size")
        if rank is None:
            rank = _process_group_value("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            # Cut to the nearest multiple below, so no replica gets padding.
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas)
                                         / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[_T_co]:
        if self.shuffle:
            g = ember.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ember.randperm(len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch: with shuffle=True each epoch gets another order (same on all
        replicas)."""
        self.epoch = epoch
