"""DataLoader: batches from a dataset, in the main process or in worker processes.

Note [DataLoader worker protocol]
    With num_workers > 0 the iterator starts the workers (daemon processes), gives each its
    own index queue and shares one result queue. Tasks ``(send_idx, indices)`` are dealt
    round-robin to the active workers, prefetch_factor * num_workers of them in flight; each
    received batch frees a slot for the next task. Results come back as
    ``(send_idx, batch)``; with in_order=True a batch that arrives early waits in
    ``_task_info`` until its turn, with in_order=False it is returned at once (and tasks go
    to the workers with fewer outstanding ones). A worker's exception arrives as an
    ExceptionWrapper and is re-raised with the worker's traceback. The main process waits on
    the result queue together with the workers' process sentinels, so a worker that dies
    (killed, segfault) is reported at once with its pid instead of hanging. See Note
    [Worker seeding] and Note [Worker shutdown] in _utils/worker.py.

Note [Start method]
    Workers start with ember.multiprocessing's (else the standard library's) default start
    method, or with multiprocessing_context when given. A forked child of a process that has
    used CUDA cannot use CUDA (and the driver may misbehave), so once CuPy has been
    initialised in the parent the default becomes 'spawn'. With 'spawn' (and 'forkserver')
    the dataset, collate_fn and worker_init_fn are pickled: define them at module level.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing as python_multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import ember

from . import _utils
from ._utils import ExceptionWrapper
from ._utils.shared_batch import _PackedBatch
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

_T_co = TypeVar("_T_co", covariant=True)

default_collate = _utils.collate.default_collate
default_convert = _utils.collate.default_convert
get_worker_info = _utils.worker.get_worker_info


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        if kind == _DatasetKind.Map:
            return _utils.fetch._MapDatasetFetcher(dataset, auto_collation, collate_fn,
                                                   drop_last)
        return _utils.fetch._IterableDatasetFetcher(dataset, auto_collation, collate_fn,
                                                    drop_last)


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: the dataset decides when to stop."""

    def __iter__(self):
        while True:
            yield None


def _mp_module():
    """ember.multiprocessing when it exists (its import registers the shared-memory tensor
    reductions), else the standard library's multiprocessing."""
    try:
        import ember.multiprocessing as mp
        return mp
    except ImportError:
        return python_multiprocessing


def _default_context():
    """The context workers start with when the loader names none (see Note [Start method])."""
    mp = _mp_module()
    if ember.cuda.is_initialized() and mp.get_start_method(allow_none=False) == "fork":
        return mp.get_context("spawn")
    return mp.get_context()


def _cpu_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


class DataLoader(Generic[_T_co]):
    """Iterate over a dataset in batches, optionally shuffled and loaded by worker processes.

    Args:
        dataset: a map-style Dataset (``__getitem__``/``__len__``) or an IterableDataset.
        batch_size: samples per batch (default 1); None turns automatic batching off (each
            sample goes through ``default_convert``).
        shuffle: reshuffle at every epoch (map-style only; default False).
        sampler: the keys to load (a Sampler or an iterable); excludes shuffle.
        batch_sampler: yields lists of keys; excludes batch_size, shuffle, sampler, drop_last.
        num_workers: worker processes (0: load in the main process).
        collate_fn: list of samples -> batch (default ``default_collate``, or
            ``default_convert`` without automatic batching).
        pin_memory: put batches in pinned host memory (needs a CUDA device; otherwise a
            warning and no effect, like PyTorch without an accelerator).
        drop_last: drop the last, short batch.
        timeout: seconds to wait for a batch from the workers (0: wait forever).
        worker_init_fn: called as ``fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name or a multiprocessing context.
        generator: draws the base seed of the workers and, with shuffle, the order.
        prefetch_factor: batches loaded in advance per worker (default 2 with workers).
        persistent_workers: keep the workers alive between epochs.
        pin_memory_device: deprecated in PyTorch; warned about and ignored.
        in_order: return batches in sampler order (False: as soon as they are ready).

    Raises:
        ValueError: PyTorch's messages for contradictory or invalid options.

    Example:
        >>> import ember
        >>> from ember.utils.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(ember.arange(5.0), ember.tensor([0, 1, 0, 1, 0]))
        >>> [(x.tolist(), y.tolist()) for x, y in DataLoader(ds, batch_size=2)]
        [([0.0, 1.0], [0, 1]), ([2.0, 3.0], [0, 1]), ([4.0], [0])]
    """

    __initialized = False

    def __init__(self, dataset: Dataset[_T_co], batch_size: int | None = 1,
                 shuffle: bool | None = None, sampler: Sampler | Iterable | None = None,
                 batch_sampler: Sampler | Iterable | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable | None = None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self.__initialized = True
        # len(dataset) as reported when len(loader) was taken, for the warning when an
        # IterableDataset yields more than it said.
        self._IterableDataset_len_called = None
        self._iterator = None
        self.check_worker_number_rationality()

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    @property
    def multiprocessing_context(self):
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, multiprocessing_context) -> None:
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid = _mp_module().get_all_start_methods()
                    if multiprocessing_context not in valid:
                        raise ValueError("multiprocessing_context option should specify a valid "
                                         f"start method in {valid!r}, but got "
                                         f"multiprocessing_context={multiprocessing_context!r}")
                    multiprocessing_context = _mp_module().get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context,
                                  python_multiprocessing.context.BaseContext):
                    raise TypeError("multiprocessing_context option should be a valid context "
                                    "object or a string specifying the start method, but got "
                                    f"multiprocessing_context={multiprocessing_context}")
            else:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr, val) -> None:
        if self.__initialized and attr in ("batch_size", "batch_sampler", "sampler",
                                           "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self):
        # With persistent workers one iterator (and its processes) serves every epoch.
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            # Only as good as the dataset's __len__; with workers each worker's copy must be
            # sharded or every sample comes num_workers times (warned about when it happens).
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn (PyTorch's text) when num_workers exceeds the cpus this process may use."""
        if not self.num_workers:
            return
        suggest = _cpu_count()
        if suggest is not None and self.num_workers <= suggest:
            return
        checked = hasattr(os, "sched_getaffinity")
        if suggest is None:
            limit = ("DataLoader is not able to compute a suggested max number of worker in "
                     "current system.")
        else:
            limit = (f"Our suggested max number of worker in current system is {suggest}"
                     f"{'' if checked else ' (`cpuset` is not taken into account)'}, which is "
                     "smaller than what this DataLoader is going to create.")
        warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                      f"total. {limit} Please be aware that excessive worker creation might get "
                      "DataLoader running slow or even freeze, lower the worker number to avoid "
                      "potential slowness/freeze if necessary.", stacklevel=2)


class _BaseDataLoaderIter:
    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be "
                          f"used as the device,ignore pin_memory_device="
                          f"'{loader.pin_memory_device}'.", stacklevel=3)
        has_accelerator = ember.accelerator.is_available()
        if loader.pin_memory and not has_accelerator:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._pin_memory = loader.pin_memory and has_accelerator
        self._pin_memory_device = "cuda" if self._pin_memory else None
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # One draw per iterator (before the sampler's own draws): PyTorch's order.
        self._base_seed = int(ember.empty((), dtype=ember.int64)
                              .random_(generator=loader.generator).item())
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly "
                        "configuring the IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data."
                        "IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)

    def _next_data(self):
        index = self._next_index()                   # may raise StopIteration
        data = self._dataset_fetcher.fetch(index)    # may raise StopIteration
        if self._pin_memory:
            data = _utils.pin_memory.pin_memory(data, self._pin_memory_device)
        return data


class _WorkerPool:
    """What shutting the workers down needs. The iterator's weakref.finalize holds it, not
    the iterator, so the queues stay usable while the iterator is being collected (a queue
    collected in the same garbage cycle would already have stopped its feeder thread, and
    the workers would never read their None)."""

    __slots__ = ("workers", "index_queues", "result_queue", "done_event", "pin_thread",
                 "pin_done", "owner_pid")

    def __init__(self, result_queue, done_event):
        self.workers = []
        self.index_queues = []
        self.result_queue = result_queue
        self.done_event = done_event
        self.pin_thread = None
        self.pin_done = None
        self.owner_pid = os.getpid()


def _put_quietly(q, item) -> None:
    # A closed queue means nobody is left to read the item.
    with contextlib.suppress(ValueError, OSError, AssertionError):
        q.put(item)


def _shutdown_pool(pool: _WorkerPool) -> None:
    """Stop the workers (see Note [Worker shutdown]): done event, None to each worker, join
    with a timeout, then terminate what is still alive. Runs once, from the iterator's
    finalizer: at exhaustion, on a fatal error, when the iterator is collected, or at
    interpreter exit (weakref.finalize's atexit hook, before multiprocessing's own)."""
    if os.getpid() != pool.owner_pid:
        return                          # a forked child's copy of the iterator
    interval = _utils.MP_STATUS_CHECK_INTERVAL
    try:
        if pool.pin_thread is not None:
            pool.pin_done.set()
            _put_quietly(pool.result_queue, (None, None))     # wake the pin-memory thread
            # The finalizer can run in the pin-memory thread itself (a garbage collection
            # there collects the iterator): it must not join itself.
            if pool.pin_thread is not threading.current_thread():
                pool.pin_thread.join(timeout=interval)
            pool.result_queue.cancel_join_thread()
            pool.result_queue.close()
        pool.done_event.set()
        for w, q in zip(pool.workers, pool.index_queues):
            if w.is_alive():
                _put_quietly(q, None)
        for w in pool.workers:
            w.join(timeout=interval)
        for q in pool.index_queues:
            q.cancel_join_thread()
            q.close()
    finally:
        for w in pool.workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=interval)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Loads batches in worker processes (see Note [DataLoader worker protocol])."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            # prefetch_factor=0 passes PyTorch's checks and then fails here, as there.
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        ctx = loader.multiprocessing_context or _default_context()
        self._worker_init_fn = loader.worker_init_fn
        self._worker_result_queue = ctx.Queue()
        self._workers_done_event = ctx.Event()
        pool = _WorkerPool(self._worker_result_queue, self._workers_done_event)
        self._workers = pool.workers
        self._index_queues = pool.index_queues
        try:
            for i in range(self._num_workers):
                index_queue = ctx.Queue()
                # Nothing the main process still has to send matters once it shuts down.
                index_queue.cancel_join_thread()
                w = ctx.Process(
                    target=_utils.worker._worker_loop,
                    args=(self._dataset_kind, self._dataset, index_queue,
                          self._worker_result_queue, self._workers_done_event,
                          self._auto_collation, self._collate_fn, self._drop_last,
                          self._base_seed, self._worker_init_fn, i, self._num_workers,
                          self._persistent_workers, None))
                w.daemon = True
                try:
                    w.start()
                except (TypeError, AttributeError, pickle.PicklingError):
                    warnings.warn("Got pickle error when attempting to start a worker Process. "
                                  "This might be because the worker Process arguments are not "
                                  "picklable: with the 'spawn' and 'forkserver' start methods "
                                  "the dataset, collate_fn and worker_init_fn must be "
                                  "picklable (defined at module level, no lambdas).",
                                  stacklevel=3)
                    raise
                self._index_queues.append(index_queue)
                self._workers.append(w)
        except BaseException:
            _shutdown_pool(pool)
            raise

        if self._pin_memory:
            self._pin_memory_thread_done_event = threading.Event()
            self._data_queue = queue.Queue()
            device_id = ember.accelerator.current_device_index()
            self._pin_memory_thread = threading.Thread(
                target=_utils.pin_memory._pin_memory_loop,
                args=(self._worker_result_queue, self._data_queue, device_id,
                      self._pin_memory_thread_done_event, self._pin_memory_device),
                daemon=True)
            self._pin_memory_thread.start()
            pool.pin_thread = self._pin_memory_thread
            pool.pin_done = self._pin_memory_thread_done_event
        else:
            self._data_queue = self._worker_result_queue
        self._finalizer = weakref.finalize(self, _shutdown_pool, pool)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0              # index of the next task to send
        self._rcvd_idx = 0              # index of the next task to return
        # send_idx -> (worker_id,) while outstanding, (worker_id, data) when it came early
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # Persistent workers: rebuild their fetchers (a fresh IterableDataset iterator)
            # and wait until every worker has acknowledged, so no stale batch is mixed in.
            for idx in range(self._num_workers):
                self._index_queues[idx].put(_utils.worker._ResumeIteration(None))
            pending = self._num_workers
            while pending > 0:
                return_idx, return_data = self._get_data()
                if isinstance(return_idx, _utils.worker._ResumeIteration):
                    pending -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _dead_workers(self) -> list:
        return [(wid, w) for wid, w in enumerate(self._workers)
                if self._workers_status[wid] and not w.is_alive()]

    def _raise_dead_workers(self, dead, cause=None):
        pids = ", ".join(str(w.pid) for _, w in dead)
        details = "; ".join(_utils.signal_handling._describe_exit(w.pid, w.exitcode)
                            for _, w in dead)
        for wid, _ in dead:
            self._workers_status[wid] = False
        # The batches those workers owned are lost: the iterator cannot go on.
        self._shutdown_workers()
        raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly: "
                           f"{details}") from cause

    def _try_get_data(self, timeout: float = _utils.MP_STATUS_CHECK_INTERVAL):
        """(True, item) from the result queue, or (False, None) after ``timeout`` seconds;
        RuntimeError naming the pids when a worker died meanwhile."""
        reader = getattr(self._data_queue, "_reader", None)
        deadline = time.monotonic() + timeout
        if reader is None:
            # queue.Queue fed by the pin-memory thread: poll, checking the workers between.
            while True:
                try:
                    wait = min(max(0.0, deadline - time.monotonic()), 0.5)
                    return True, self._data_queue.get(timeout=wait)
                except queue.Empty as e:
                    dead = self._dead_workers()
                    if dead:
                        self._raise_dead_workers(dead, e)
                    if time.monotonic() >= deadline:
                        return False, None
        while True:
            sentinels = {w.sentinel: (wid, w) for wid, w in enumerate(self._workers)
                         if self._workers_status[wid]}
            ready = multiprocessing.connection.wait([reader, *sentinels],
                                                    max(0.0, deadline - time.monotonic()))
            if reader in ready:
                # A message is (being) written: get() returns once it is complete.
                try:
                    return True, self._data_queue.get(timeout=max(timeout, 1.0))
                except queue.Empty:
                    pass
            exited = [sentinels[s] for s in ready if s in sentinels]
            if exited:
                # A ready sentinel means the process is gone; join reaps it so that its
                # exit code (the signal) is known.
                for _, w in exited:
                    w.join(timeout=1.0)
                self._raise_dead_workers(exited)
            if time.monotonic() >= deadline:
                return False, None

    def _get_data(self):
        if self._timeout > 0:
            success, data = self._try_get_data(self._timeout)
            if success:
                return data
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        if self._pin_memory:
            while self._pin_memory_thread.is_alive():
                success, data = self._try_get_data()
                if success:
                    return data
            raise RuntimeError("Pin memory thread exited unexpectedly")
        while True:
            success, data = self._try_get_data()
            if success:
                return data

    def _next_data(self):
        while True:
            # Skip tasks of workers that stopped (an exhausted IterableDataset replica) and
            # have nothing buffered.
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx, None)
                if info:
                    worker_id = info[0]
                    if len(info) == 2 or self._workers_status[worker_id]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._dataset_kind == _DatasetKind.Iterable and \
                    isinstance(data, _utils.worker._IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue

            if idx != self._rcvd_idx:
                if not self._in_order:
                    worker_id = self._task_info.pop(idx)[0]
                    return self._process_data(data, worker_id)
                self._task_info[idx] += (data,)          # early: keep until its turn
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):            # the next active worker, if any
            worker_queue_idx = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_queue_idx]:
                if self._in_order:
                    break
                if self._workers_num_tasks[worker_queue_idx] < \
                        max_tasks // sum(self._workers_status):
                    break
        else:
            return
        self._index_queues[worker_queue_idx].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_queue_idx,)
        self._workers_num_tasks[worker_queue_idx] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_idx):
        self._workers_num_tasks[worker_idx] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        if isinstance(data, _PackedBatch):
            data = data.unpack()
        return data

    def _mark_worker_as_unavailable(self, worker_id: int) -> None:
        # The worker reads None and leaves its loop (Note [Worker shutdown]).
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        """Stop the workers now (idempotent); see _shutdown_pool."""
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()
