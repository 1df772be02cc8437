"""Datasets for the worker tests, at module level so 'spawn' workers can unpickle them.

Kept free of pytest and torch imports: a spawned worker imports this module.
"""

from __future__ import annotations

import os
import random
import signal
import time

import numpy as np

import ember
from ember.utils.data import Dataset, IterableDataset, get_worker_info


class Squares(Dataset):
    """Sample i: (a float32 vector filled with i, i * i as a Python int)."""

    def __init__(self, n=10, width=3):
        self.n = n
        self.width = width

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return ember.full((self.width,), float(i)), i * i


class WhoLoads(Dataset):
    """Sample i: (i, worker id, worker seed, pid); -1 ids in the main process."""

    def __init__(self, n=8):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        info = get_worker_info()
        if info is None:
            return i, -1, -1, os.getpid()
        return i, info.id, info.seed, os.getpid()


class RandomDraws(Dataset):
    """Sample i: draws from Python's random, NumPy's global generator and ember's."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {"random": random.random(), "numpy": float(np.random.rand()),
                "ember": ember.rand(2)}


class Failing(Dataset):
    """Raises ValueError at index ``bad``."""

    def __init__(self, bad=3, n=6):
        self.bad = bad
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"bad sample {i}")
        return ember.tensor(float(i))


class MissingKey(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return {}["no such key"]


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class RaisesOddException(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        raise NeedsTwoArgs(1, 2)


class KillsItself(Dataset):
    """SIGKILLs the worker process that loads index ``bad``."""

    def __init__(self, bad=2, n=8):
        self.bad = bad
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad and get_worker_info() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class Slow(Dataset):
    """Sleeps ``delay`` seconds at the indices in ``slow``."""

    def __init__(self, n=8, slow=(0,), delay=1.0):
        self.n = n
        self.slow = set(slow)
        self.delay = delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i in self.slow:
            time.sleep(self.delay)
        return i


class Stream(IterableDataset):
    """range(n), sharded across workers when ``shard`` is true."""

    def __init__(self, n=10, shard=True, length=None):
        self.n = n
        self.shard = shard
        self.length = length

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        if self.length is None:
            raise TypeError("no length")
        return self.length


class InitSets(Dataset):
    """Returns the module-level value that worker_init_fn sets in each worker."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return INIT_VALUE[0]


INIT_VALUE = [-1]


def set_init_value(worker_id):
    INIT_VALUE[0] = 100 + worker_id


def failing_init(worker_id):
    raise RuntimeError(f"init failed in worker {worker_id}")
