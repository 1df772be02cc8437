"""DataLoader with worker processes: same batches as in-process loading (and as PyTorch),
seeding, errors, crashes, timeouts, persistent workers, shutdown."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, TensorDataset
from ember.utils.data._utils.shared_batch import SHARE_DIRECT_BYTES
from tests.oracle import needs_torch, torch

from . import _datasets as D


@pytest.fixture(autouse=True)
def _no_leftover_workers():
    yield
    gc.collect()
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


def _plain(batch):
    if isinstance(batch, (list, tuple)):
        return [_plain(b) for b in batch]
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    return batch.tolist() if hasattr(batch, "tolist") else batch


def _epoch(ds, seed, **kwargs):
    ember.manual_seed(seed)
    return [_plain(b) for b in DataLoader(ds, **kwargs)]


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_give_the_same_batches_as_the_main_process(context):
    kwargs = dict(batch_size=3, shuffle=True)
    expected = _epoch(D.Squares(n=11), 5, **kwargs)
    got = _epoch(D.Squares(n=11), 5, num_workers=2, multiprocessing_context=context, **kwargs)
    assert got == expected


def test_spawn_with_unpicklable_collate_fn_warns_and_raises():
    dl = DataLoader(D.Squares(n=2), num_workers=1, multiprocessing_context="spawn",
                    collate_fn=lambda b: b)
    with pytest.warns(UserWarning, match="Got pickle error when attempting to start a worker"):
        with pytest.raises((AttributeError, TypeError, pickle.PicklingError)):
            iter(dl)


def test_worker_batches_arrive_in_shared_memory():
    x = ember.arange(40.0).view(10, 4)
    dl = DataLoader(TensorDataset(x, ember.arange(10)), batch_size=4, num_workers=2)
    batches = list(dl)
    assert [b[0].tolist() for b in batches] == [x[i:i + 4].tolist() for i in (0, 4, 8)]
    assert all(t.is_shared() for b in batches for t in b)
    # a batch tensor over SHARE_DIRECT_BYTES is stacked straight into its own shared buffer
    width = SHARE_DIRECT_BYTES // 4
    big = next(iter(DataLoader(D.Squares(n=2, width=width), batch_size=2, num_workers=1)))
    assert big[0].shape == (2, width) and big[0].is_shared()
    assert big[0][1, -1].item() == 1.0 and big[1].tolist() == [0, 1]


@needs_torch
def test_worker_seeds_and_random_streams_match_torch():
    import random

    class TorchWhoLoads(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = torch.utils.data.get_worker_info()
            return i, info.id, info.seed

    def run(lib, loader_cls, ds):
        lib.manual_seed(123)
        out = []
        for b in loader_cls(ds, batch_size=1, num_workers=2):
            out.append([int(v) for v in b[:3]])
        return out

    ours = run(ember, DataLoader, D.WhoLoads(4))
    theirs = run(torch, torch.utils.data.DataLoader, TorchWhoLoads())
    assert ours == theirs
    assert [w for _, w, _ in ours] == [0, 1, 0, 1]
    seeds = {w: s for _, w, s in ours}
    assert seeds[1] == seeds[0] + 1

    class TorchDraws(torch.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return {"random": random.random(), "numpy": float(np.random.rand()),
                    "ember": torch.rand(2)}

    ember.manual_seed(7)
    torch.manual_seed(7)
    ours = [_plain(b) for b in DataLoader(D.RandomDraws(), batch_size=2, num_workers=2)]
    theirs = [_plain(b) for b in torch.utils.data.DataLoader(TorchDraws(), batch_size=2,
                                                             num_workers=2)]
    assert ours == theirs


@needs_torch
def test_worker_batches_match_torch_dataloader_with_shuffle():
    data = np.random.default_rng(0).standard_normal((30, 3)).astype(np.float32)
    labels = np.arange(30)
    ember.manual_seed(3)
    torch.manual_seed(3)
    ours = DataLoader(TensorDataset(ember.from_numpy(data), ember.from_numpy(labels)),
                      batch_size=4, shuffle=True, num_workers=2)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(data), torch.from_numpy(labels)),
        batch_size=4, shuffle=True, num_workers=2)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]


def test_get_worker_info_in_workers_and_main():
    rows = [b for b in DataLoader(D.WhoLoads(6), batch_size=None, num_workers=2)]
    assert [r[1] for r in rows] == [0, 1, 0, 1, 0, 1]          # round-robin dispatch
    assert len({r[3] for r in rows}) == 2 and os.getpid() not in {r[3] for r in rows}
    assert ember.utils.data.get_worker_info() is None


def test_worker_init_fn_runs_in_each_worker():
    out = [int(b) for b in DataLoader(D.InitSets(), batch_size=None, num_workers=2,
                                      worker_init_fn=D.set_init_value)]
    assert out == [100, 101, 100, 101]
    assert D.INIT_VALUE == [-1]                              # the main process is untouched


def test_worker_init_fn_error_is_reraised():
    dl = DataLoader(D.InitSets(), batch_size=None, num_workers=1,
                    worker_init_fn=D.failing_init)
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        list(dl)


def test_worker_exception_reraised_with_traceback():
    it = iter(DataLoader(D.Failing(bad=3), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0.0, 1.0]
    with pytest.raises(ValueError) as info:
        next(it)
    msg = str(info.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 1.")
    assert "Original Traceback (most recent call last):" in msg
    assert 'raise ValueError(f"bad sample {i}")' in msg and "ValueError: bad sample 3" in msg
    assert next(it).tolist() == [4.0, 5.0]                   # the loader goes on, as PyTorch's
    del it


def test_worker_exception_special_classes():
    with pytest.raises(KeyError) as info:
        list(DataLoader(D.MissingKey(), num_workers=1))
    assert "Caught KeyError in DataLoader worker process 0.\nOriginal Traceback" in \
        str(info.value)                                       # readable, not a repr
    with pytest.raises(RuntimeError, match="Caught NeedsTwoArgs in DataLoader worker process"):
        list(DataLoader(D.RaisesOddException(), num_workers=1))


def test_unpicklable_batch_is_reported_not_hung():
    dl = DataLoader(D.Squares(n=2), batch_size=2, num_workers=1,
                    collate_fn=lambda b: (lambda: None))
    with pytest.raises(Exception, match="in DataLoader worker process 0"):
        list(dl)


def test_killed_worker_raises_with_its_pid():
    dl = DataLoader(D.KillsItself(bad=2), batch_size=None, num_workers=2, timeout=30)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           r"unexpectedly.*killed by signal"):
        list(dl)
    assert time.monotonic() - start < 10


def test_timeout_raises():
    dl = DataLoader(D.Slow(slow=(0,), delay=1.5), batch_size=None, num_workers=1, timeout=0.3)
    it = iter(dl)
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.3 seconds"):
        next(it)
    del it


def test_in_order_false_returns_ready_batches_first():
    ds = D.Slow(n=6, slow=(0,), delay=0.8)
    out = [int(b) for b in DataLoader(ds, batch_size=None, num_workers=2, in_order=False)]
    assert sorted(out) == list(range(6)) and out[0] != 0
    out = [int(b) for b in DataLoader(ds, batch_size=None, num_workers=2)]
    assert out == list(range(6))


def test_persistent_workers_across_epochs():
    dl = DataLoader(D.WhoLoads(6), batch_size=2, shuffle=True, num_workers=2,
                    persistent_workers=True)
    epochs = [[_plain(b) for b in dl] for _ in range(2)]
    pids = [{p for b in e for p in b[3]} for e in epochs]
    assert pids[0] == pids[1] and len(pids[0]) == 2            # the same two processes
    orders = [[i for b in e for i in b[0]] for e in epochs]
    assert sorted(orders[0]) == sorted(orders[1]) == list(range(6))
    # a partial epoch, then a full one: no stale batch leaks into the next epoch
    it = iter(dl)
    next(it)
    assert sorted(i for b in dl for i in b[0].tolist()) == list(range(6))
    del dl, it


@needs_torch
def test_persistent_workers_match_torch_over_epochs():
    data = np.arange(10)
    ember.manual_seed(4)
    torch.manual_seed(4)
    ours = DataLoader(TensorDataset(ember.from_numpy(data)), batch_size=3, shuffle=True,
                      num_workers=2, persistent_workers=True)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(data)),
                                         batch_size=3, shuffle=True, num_workers=2,
                                         persistent_workers=True)
    for _ in range(3):        # the base seed is drawn once; each epoch draws a sampler seed
        assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]
    del ours, theirs


def test_iterable_dataset_sharding_and_replicas():
    out = sorted(int(b) for b in DataLoader(D.Stream(9), batch_size=None, num_workers=2))
    assert out == list(range(9))
    batches = [b.tolist() for b in DataLoader(D.Stream(7), batch_size=2, num_workers=2)]
    assert sorted(i for b in batches for i in b) == list(range(7))
    # without sharding each worker yields the whole stream, and len() overflows with a warning
    dl = DataLoader(D.Stream(3, shard=False, length=3), batch_size=None, num_workers=2)
    assert len(dl) == 3
    with pytest.warns(UserWarning, match="configuring the IterableDataset replica"):
        out = sorted(int(b) for b in dl)
    assert out == [0, 0, 1, 1, 2, 2]


def test_iterable_dataset_with_persistent_workers():
    dl = DataLoader(D.Stream(5), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(i for b in dl for i in b.tolist()) == list(range(5))
    del dl


def test_iterator_del_and_exhaustion_stop_workers():
    it = iter(DataLoader(D.Squares(n=20), batch_size=1, num_workers=2))
    next(it)
    workers = list(it._workers)
    assert all(w.is_alive() for w in workers)
    del it
    gc.collect()
    assert not any(w.is_alive() for w in workers)
    it = iter(DataLoader(D.Squares(n=2), batch_size=1, num_workers=2))
    list(it)
    assert not any(w.is_alive() for w in it._workers)


_CHILD = textwrap.dedent("""
    import os, sys, time
    import ember
    from ember.utils.data import DataLoader
    from ember.utils.data._utils import worker
    from tests.utils_data._datasets import Squares
    worker.MP_STATUS_CHECK_INTERVAL = 0.2    # notice a dead parent quickly (fork inherits it)
    dl = DataLoader(Squares(n=50), batch_size=1, num_workers=2, persistent_workers=True)
    it = iter(dl)
    next(it)
    print(" ".join(str(w.pid) for w in it._workers), flush=True)
    if sys.argv[1] == "die":
        os._exit(0)              # no cleanup at all: the workers' watchdog must notice
""")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                          # a zombie (not reaped yet) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("how", ["exit", "die"])
def test_workers_exit_with_the_parent(how):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, how], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=root)
    pids = []
    try:
        # The workers inherit stdout: read one line, never to EOF.
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert proc.wait(timeout=30) == 0
        assert len(pids) == 2
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in pids)
    finally:
        for p in pids:                  # never leave an orphan behind when the test fails
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()


@pytest.fixture
def fake_accelerator(monkeypatch):
    """Pretend a CUDA device exists and 'pin' by tagging a copy, to run the pin-memory
    thread's code path on a CPU-only machine."""
    from ember.utils.data._utils import pin_memory as pin_module

    def fake_pin(t):
        out = t.clone()
        out.pinned_by_test = True
        return out

    monkeypatch.setattr(ember.accelerator, "is_available", lambda: True)
    monkeypatch.setattr(ember.accelerator, "current_device_index", lambda: -1)
    monkeypatch.setattr(pin_module, "_pin_tensor", fake_pin)


def test_pin_memory_thread_path(fake_accelerator):
    ember.manual_seed(2)
    expected = [_plain(b) for b in DataLoader(D.Squares(n=7), batch_size=2, shuffle=True)]
    ember.manual_seed(2)
    dl = DataLoader(D.Squares(n=7), batch_size=2, shuffle=True, num_workers=2,
                    pin_memory=True)
    batches = list(dl)
    assert [_plain(b) for b in batches] == expected
    assert all(getattr(t, "pinned_by_test", False) for b in batches for t in b)
    single = next(iter(DataLoader(D.Squares(n=2), batch_size=2, pin_memory=True)))
    assert single[0].pinned_by_test
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process"):
        list(DataLoader(D.Failing(bad=1), batch_size=1, num_workers=1, pin_memory=True))
    dl = DataLoader(D.KillsItself(bad=1), batch_size=None, num_workers=1, pin_memory=True)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited"):
        list(dl)
    dl = DataLoader(D.Slow(slow=(0,), delay=1.5), batch_size=None, num_workers=1,
                    pin_memory=True, timeout=0.7)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.7 seconds"):
        next(iter(dl))
    assert time.monotonic() - start >= 0.6


@pytest.mark.gpu
def test_pin_memory_with_cuda_and_spawn_after_cuda_init():
    from ember.utils.data.dataloader import _default_context
    x = ember.arange(12.0).view(6, 2)
    ember.ones(1, device="cuda")                    # initialises CuPy in this process
    assert _default_context().get_start_method() == "spawn"
    batches = list(DataLoader(TensorDataset(x), batch_size=3, pin_memory=True))
    assert batches[0][0].tolist() == x[:3].tolist()
    import cupy
    base = batches[0][0]._data
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    assert "Pinned" in type(base).__name__ or getattr(batches[0][0], "is_pinned", lambda: 0)()
    out = list(DataLoader(TensorDataset(x), batch_size=3, pin_memory=True, num_workers=1))
    assert [b[0].tolist() for b in out] == [x[:3].tolist(), x[3:].tolist()]
    assert cupy.asarray(out[0][0]._data).sum().item() == 15.0
