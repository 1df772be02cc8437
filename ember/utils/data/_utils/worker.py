"""The DataLoader worker process: seeding, get_worker_info, and the fetch loop.

Note [Worker seeding]
    The main process draws ``base_seed`` (one int64 ``random_()`` from the loader's generator,
    or the global one) per iterator. Worker ``i`` then seeds, exactly as PyTorch does:
    ``random.seed(base_seed + i)``, ``ember.manual_seed(base_seed + i)`` and NumPy's legacy
    global generator with four 32-bit words that PyTorch's ``_generate_state`` computes from
    ``[i, base_seed & 0xffffffff, base_seed >> 32, 0]``. That function is NumPy's
    ``SeedSequence`` algorithm (pool size 4), so ``SeedSequence([...]).generate_state(4)``
    gives the same words. Hence with the same seed, ``random``, ``numpy.random`` and ember
    draws inside ember's workers equal those inside PyTorch's.

Note [Worker shutdown]
    A worker leaves its loop when it reads ``None`` from its index queue (the main process
    sends it on exhaustion, on ``del`` of the iterator, on a fatal error and at interpreter
    exit), or when its parent died (``os.getppid()`` changed; checked every
    MP_STATUS_CHECK_INTERVAL seconds while idle). Once the done event is set it stops
    fetching and drops what is left in its queues, so the main process can join it quickly;
    the main process terminates any worker still alive after a join timeout.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import random
import sys
from dataclasses import dataclass

from . import HAS_NUMPY, MP_STATUS_CHECK_INTERVAL, ExceptionWrapper, signal_handling
from .shared_batch import pack

__all__ = ["WorkerInfo", "get_worker_info"]


class ManagerWatchdog:
    """Tells a worker whether the process that started it is still alive."""

    def __init__(self) -> None:
        # The pid multiprocessing recorded when it started this process: os.getppid() here
        # could already be the reaper's if the parent died while this worker was starting.
        parent = multiprocessing.parent_process()
        self.manager_pid = parent.pid if parent is not None else os.getppid()
        self.manager_dead = False

    def is_alive(self) -> bool:
        if not self.manager_dead:
            # A process whose parent died is re-parented (to init or a subreaper).
            self.manager_dead = os.getppid() != self.manager_pid
        return not self.manager_dead


_worker_info: WorkerInfo | None = None
_SWITCH_INTERVAL = 0.0002


@dataclass(frozen=True, slots=True)
class WorkerInfo:
    """What a DataLoader worker process knows about itself (see get_worker_info)."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object | None = None
    worker_method: str | None = "multiprocessing"


def get_worker_info() -> WorkerInfo | None:
    """Information about the current DataLoader worker process; None in the main process.

    Returns:
        A WorkerInfo with ``id`` (0 .. num_workers - 1), ``num_workers``, ``seed`` (the seed
        ember's generator got in this worker) and ``dataset`` (this worker's copy). Use it in
        ``worker_init_fn`` or an IterableDataset's ``__iter__`` to shard the data.

    Example:
        >>> from ember.utils.data import get_worker_info
        >>> get_worker_info() is None
        True
    """
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's IterableDataset iterator is exhausted."""
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch: rebuild the fetcher."""
    seed: int | None = None


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words PyTorch seeds NumPy with in worker ``worker_id`` (see Note
    [Worker seeding])."""
    import numpy as np
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(entropy).generate_state(4).tolist()


def _seed_worker(seed: int, base_seed: int, worker_id: int) -> None:
    import ember
    random.seed(seed)
    ember.manual_seed(seed)
    if HAS_NUMPY:
        import numpy as np
        np.random.seed(_generate_state(base_seed, worker_id))


def _limit_threads() -> None:
    # One BLAS thread per worker (PyTorch's torch.set_num_threads(1)): N workers times the
    # BLAS's own pool would oversubscribe the cores. Without threadpoolctl nothing is limited.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1)


def _worker_loop(dataset_kind, dataset, index_queue, data_queue, done_event, auto_collation,
                 collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers,
                 persistent_workers, shared_seed=None) -> None:
    """Body of a DataLoader worker: read ``(idx, index)`` tasks, put ``(idx, batch)``."""
    try:
        signal_handling._set_worker_signal_handlers()
        # Tensors put on data_queue travel through shared memory once ember.multiprocessing's
        # reductions are registered with ForkingPickler (importing it does that).
        with contextlib.suppress(ImportError):
            import ember.multiprocessing  # noqa: F401
        _limit_threads()
        # The main process receives each batch's shared-memory descriptor from this
        # process's resource-sharer thread; with the default 5 ms switch interval that thread
        # waits for the GIL while this loop builds the next batch (see Note [Batches
        # through shared memory]).
        sys.setswitchinterval(_SWITCH_INTERVAL)
        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)

        global _worker_info
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)

        from ..dataloader import _DatasetKind

        init_exception = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                  collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        # With an IterableDataset, iteration_end marks that this worker's iterator is
        # exhausted: later tasks are dropped until a _ResumeIteration (persistent workers) or
        # the final None arrives.
        iteration_end = False
        watchdog = ManagerWatchdog()
        while watchdog.is_alive():
            try:
                r = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                      collate_fn, drop_last)
                continue
            if r is None:
                break                                  # see Note [Worker shutdown]
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = pack(fetcher.fetch(index))
                except Exception as e:
                    if isinstance(e, StopIteration) and dataset_kind == _DatasetKind.Iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data, idx, index, r            # drop the batch before blocking again
    except KeyboardInterrupt:
        # The main process handles Ctrl-C; the worker just leaves quietly.
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
