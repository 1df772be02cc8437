"""ember.multiprocessing: shared-memory tensors through queues, pipes and pools; spawn()."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from multiprocessing.reduction import ForkingPickler
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.multiprocessing as mp
from ember.multiprocessing import reductions
from ember.multiprocessing.reductions import empty_shared

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 20          # seconds: every wait in this file is bounded

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="fd passing tested on Linux")


def _shm_names():
    # Only this process's files: other test sessions may share the machine's /dev/shm.
    prefix = f"ember_{os.getpid()}_"
    return {n for n in os.listdir("/dev/shm") if n.startswith(prefix)} \
        if os.path.isdir("/dev/shm") else set()


@pytest.fixture(scope="module", autouse=True)
def _no_dev_shm_leak():
    before = _shm_names()
    yield
    import gc
    gc.collect()
    leaked = _shm_names() - before
    assert not leaked, f"shared memory files left in /dev/shm: {sorted(leaked)}"


@pytest.fixture
def strategy():
    old = mp.get_sharing_strategy()
    yield
    mp.set_sharing_strategy(old)


def _roundtrip(t):
    """Pickle and unpickle as a Queue does, in this process."""
    return ForkingPickler.loads(ForkingPickler.dumps(t))


# -- child process bodies (module level: spawn pickles them by name) ---------------------------

def _child_double_and_reply(inq, outq, done, arg=None):
    if arg is not None:
        arg[1] = -arg[1]            # a tensor passed as a Process argument is shared too
    t = inq.get(timeout=TIMEOUT)
    t.mul_(2)
    outq.put(t[1:])                 # a view goes back: same memory, offset 1
    if not done.wait(TIMEOUT):      # stay alive until the parent received the reply
        return
    outq.put(float(t[0]))           # the parent wrote t[0] = 42 meanwhile


def _child_send_and_exit(outq):
    outq.put(ember.ones(3))


def _child_grad_step(model, q, done):
    x = ember.ones(2, 3)
    loss = model(x).sum()
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    with ember.no_grad():
        for p in model.parameters():
            p -= 0.5 * p.grad
    q.put(grads)
    done.wait(TIMEOUT)


def _fill_index(i, t):
    t[i] = i + 1


def _raise_in_one(i, marker):
    if i == 1:
        raise ValueError(f"child {i} failed on purpose {marker}")
    time.sleep(TIMEOUT)             # terminated by the parent once process 1 fails


def _kill_self(i):
    if i == 0:
        os.kill(os.getpid(), signal.SIGKILL)


def _exit_code(i):
    sys.exit(3)


def _pool_make(i):
    return ember.full((2, 3), float(i))


# -- shared storages ----------------------------------------------------------------------------

def test_empty_shared_contract():
    t = empty_shared((2, 3), ember.float64)
    assert t.shape == (2, 3) and t.dtype == ember.float64 and t.is_shared()
    assert not t.requires_grad and t.is_contiguous()
    np.testing.assert_array_equal(t.numpy(), np.zeros((2, 3)))
    assert empty_shared(4).dtype == ember.get_default_dtype()
    assert empty_shared((0, 5), ember.int64).shape == (0, 5)
    out = ember.stack([ember.ones(3), ember.zeros(3)], out=empty_shared((2, 3), ember.float32))
    assert out.is_shared()
    np.testing.assert_array_equal(_roundtrip(out).numpy(), [[1, 1, 1], [0, 0, 0]])


def test_share_memory_moves_in_place():
    t = ember.arange(6.0).reshape(2, 3).contiguous()
    assert not t.is_shared()
    ptr = t.data_ptr()
    assert t.share_memory_() is t
    assert t.is_shared() and t.data_ptr() != ptr
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3))
    ptr = t.data_ptr()
    t.share_memory_()                       # already shared: nothing moves
    assert t.data_ptr() == ptr
    t.add_(1)                               # in-place ops write into the shared memory
    assert t.is_shared() and float(t[1, 2]) == 6.0


def test_share_memory_of_view_moves_its_base():
    base = ember.zeros(4, 5)
    v = base[1:3, ::2]
    v.share_memory_()
    assert v.is_shared() and base.is_shared()
    assert v.stride() == (5, 2) and v.storage_offset() == 5
    v[0, 1] = 7.0
    assert float(base[1, 2]) == 7.0
    base[2, 4] = 3.0
    assert float(v[1, 2]) == 3.0


def test_share_memory_of_orphaned_view_leaves_shared_base_alone():
    # Note [share_memory_ and views]: a view taken before its base moved keeps the old memory.
    base = ember.zeros(2, 3)
    row = base[1]
    base.share_memory_()
    ptr = base.data_ptr()
    row[0] = 1.0
    assert not row.is_shared() and float(base[1, 0]) == 0.0
    row.share_memory_()
    assert row.is_shared() and base.data_ptr() == ptr


def test_is_shared_of_views_of_shared():
    t = empty_shared((3, 4))
    assert t[1:].is_shared() and t.t().is_shared() and t.view(-1).is_shared()
    assert not t.clone().is_shared()


# -- pickling -------------------------------------------------------------------------------------

def test_pickle_moves_sender_to_shared_memory_same_process():
    t = ember.tensor([1.0, 2.0, 3.0])
    u = _roundtrip(t)
    assert t.is_shared() and u.is_shared()
    assert u.data_ptr() == t.data_ptr()     # same storage, mapped once in this process
    u[0] = 9.0
    assert float(t[0]) == 9.0


@pytest.mark.parametrize("make", [
    lambda b: b[1:, 2:],
    lambda b: b.t(),
    lambda b: b[:, ::2],
    lambda b: b.flip(1),
    lambda b: b[2],
    lambda b: b.view(-1)[5:],
], ids=["offset", "transpose", "step", "flip", "row", "flat"])
def test_views_keep_offset_and_strides(make):
    base = ember.arange(20.0).reshape(4, 5).contiguous()
    v = make(base)
    expected = v.numpy().copy()
    u = _roundtrip(v)
    assert u.shape == v.shape and u.stride() == v.stride()
    np.testing.assert_array_equal(u.numpy(), expected)
    idx = (0,) * u.ndim
    u[idx] = -1.0
    assert float(v[idx]) == -1.0


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "complex64",
                                   "complex128", "int8", "int16", "int32", "int64", "uint8",
                                   "bool"])
def test_every_dtype(dtype):
    dt = getattr(ember, dtype)
    t = (ember.arange(6) % 2).to(dt).reshape(2, 3)
    expected = t.clone()
    u = _roundtrip(t)
    assert u.dtype == dt and u.is_shared() and u.shape == (2, 3)
    assert bool((u == expected).all())


def test_parameter_and_requires_grad_kept():
    p = ember.nn.Parameter(ember.randn(3))
    q = _roundtrip(p)
    assert type(q) is ember.nn.Parameter and q.requires_grad and q.is_leaf
    leaf = ember.randn(2, requires_grad=True)
    assert _roundtrip(leaf).requires_grad
    frozen = ember.nn.Parameter(ember.randn(2), requires_grad=False)
    assert not _roundtrip(frozen).requires_grad
    assert not _roundtrip(ember.randn(2)).requires_grad


def test_non_leaf_requiring_grad_refused():
    x = ember.randn(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="Cowardly refusing to serialize non-leaf tensor"):
        ForkingPickler.dumps(y)
    assert _roundtrip(y.detach()).is_shared()


def test_plain_multiprocessing_registered_by_import_ember():
    code = ("import sys, ember, multiprocessing.reduction as r\n"
            "assert 'ember.multiprocessing' in sys.modules\n"
            "t = ember.ones(3)\n"
            "u = r.ForkingPickler.loads(r.ForkingPickler.dumps(t))\n"
            "assert t.is_shared() and u.data_ptr() == t.data_ptr()\n"
            "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


# -- across processes ------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_queue_writes_visible_both_ways(method):
    ctx = mp.get_context(method)
    inq, outq, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    arg = ember.tensor([1.0, 2.0])
    if method == "fork":
        arg.share_memory_()     # fork does not pickle Process arguments: private memory is copied
    p = ctx.Process(target=_child_double_and_reply, args=(inq, outq, done, arg))
    p.start()
    try:
        t = ember.tensor([1.0, 2.0, 3.0, 4.0])
        inq.put(t)
        back = outq.get(timeout=TIMEOUT)
        assert t.is_shared()
        np.testing.assert_array_equal(t.numpy(), [2, 4, 6, 8])     # the child's mul_
        np.testing.assert_array_equal(back.numpy(), [4, 6, 8])
        assert back.data_ptr() == t.data_ptr() + 4                  # same memory, offset 1
        t[0] = 42.0                                                 # seen by the child
        done.set()
        assert outq.get(timeout=TIMEOUT) == 42.0
        np.testing.assert_array_equal(arg.numpy(), [1, -2])
    finally:
        done.set()
        p.join(TIMEOUT)
        if p.is_alive():
            p.kill()
    assert p.exitcode == 0


def test_pipe_between_processes():
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe()
    t = ember.zeros(3)

    p = ctx.Process(target=_pipe_child, args=(b,))
    p.start()
    a.send(t)
    assert a.poll(TIMEOUT) and a.recv() == "written"
    p.join(TIMEOUT)
    np.testing.assert_array_equal(t.numpy(), [5, 0, 0])


def _pipe_child(conn):
    t = conn.recv()
    t[0] = 5.0
    conn.send("written")


def test_sender_exit_before_receive_is_a_clear_error():
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_send_and_exit, args=(q,))
    p.start()
    p.join(TIMEOUT)
    with pytest.raises(RuntimeError, match="sending process exited"):
        q.get(timeout=TIMEOUT)


def test_pool_map_returns_shared_tensors():
    with mp.get_context("fork").Pool(2) as pool:
        out = pool.map(_pool_make, range(3))
    for i, t in enumerate(out):
        assert t.is_shared() and t.shape == (2, 3)
        np.testing.assert_array_equal(t.numpy(), np.full((2, 3), float(i)))


def test_module_share_memory_grads_per_process():
    model = ember.nn.Linear(3, 2)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    before = [p.detach().clone() for p in model.parameters()]
    ctx = mp.get_context("fork")
    q, done = ctx.Queue(), ctx.Event()
    p = ctx.Process(target=_child_grad_step, args=(model, q, done))
    p.start()
    try:
        grads = q.get(timeout=TIMEOUT)
    finally:
        done.set()
        p.join(TIMEOUT)
    assert p.exitcode == 0
    assert all(prm.grad is None for prm in model.parameters())     # grads stay in the child
    np.testing.assert_allclose(grads[0].numpy(), np.full((2, 3), 2.0))
    for prm, old, g in zip(model.parameters(), before, grads):
        np.testing.assert_allclose(prm.detach().numpy(), (old - 0.5 * g).numpy(), rtol=1e-6)


# -- spawn() ------------------------------------------------------------------------------------

def test_start_processes_runs_fn_with_index_and_args():
    t = empty_shared(3)
    assert mp.start_processes(_fill_index, args=(t,), nprocs=3, start_method="fork") is None
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])


def test_spawn_reraises_child_exception():
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(_raise_in_one, args=("xyzzy",), nprocs=2)
    err = info.value
    assert err.error_index == 1
    assert "Process 1 terminated with the following error" in str(err)
    assert "ValueError: child 1 failed on purpose xyzzy" in str(err)
    assert "Traceback" in str(err)


def test_spawn_child_killed_by_signal():
    ctx = mp.start_processes(_kill_self, nprocs=2, join=False, start_method="fork")
    assert isinstance(ctx, mp.ProcessContext)
    assert len(ctx.processes) == 2 and ctx.pids() == [p.pid for p in ctx.processes]
    with pytest.raises(mp.ProcessExitedException, match="terminated with signal SIGKILL") as e:
        deadline = time.monotonic() + TIMEOUT
        while not ctx.join(timeout=1):
            assert time.monotonic() < deadline
    assert e.value.error_index == 0 and e.value.signal_name == "SIGKILL"
    assert e.value.exit_code == -signal.SIGKILL


def test_spawn_exit_code():
    with pytest.raises(mp.ProcessExitedException, match="terminated with exit code 3"):
        mp.start_processes(_exit_code, nprocs=1, start_method="fork")


def test_spawn_other_start_method_warns():
    with pytest.warns(FutureWarning, match="only supports start_method=spawn"):
        assert mp.spawn(_exit_code, nprocs=0, start_method="fork") is None


def test_process_exceptions_pickle():
    import pickle
    e = pickle.loads(pickle.dumps(mp.ProcessExitedException("m", 1, 2, -9, "SIGKILL")))
    assert (e.msg, e.error_index, e.pid, e.exit_code, e.signal_name) == ("m", 1, 2, -9,
                                                                         "SIGKILL")


# -- API and strategies ---------------------------------------------------------------------------

def test_reexports_standard_multiprocessing():
    import multiprocessing
    for name in ("get_context", "get_start_method", "set_start_method", "Process", "Queue",
                 "SimpleQueue", "Pool", "Pipe", "Event", "Lock", "Manager", "cpu_count",
                 "current_process"):
        assert getattr(mp, name) is getattr(multiprocessing, name), name
    assert mp.cpu_count() >= 1


def test_sharing_strategies(strategy):
    assert mp.get_sharing_strategy() == "file_descriptor"
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
    with pytest.raises(AssertionError, match="invalid sharing strategy 'carrier_pigeon'"):
        mp.set_sharing_strategy("carrier_pigeon")
    mp.set_sharing_strategy("file_system")
    assert mp.get_sharing_strategy() == "file_system"


def test_file_system_strategy_across_processes(strategy):
    mp.set_sharing_strategy("file_system")
    before = _shm_names()
    ctx = mp.get_context("fork")
    inq, outq, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    p = ctx.Process(target=_child_double_and_reply, args=(inq, outq, done))
    p.start()
    t = ember.tensor([1.0, 2.0, 3.0])
    try:
        inq.put(t)
        back = outq.get(timeout=TIMEOUT)
        assert len(_shm_names() - before) == 1          # one named file while in use
        np.testing.assert_array_equal(t.numpy(), [2, 4, 6])
        np.testing.assert_array_equal(back.numpy(), [4, 6])
    finally:
        done.set()
        p.join(TIMEOUT)
    del t, back
    import gc
    gc.collect()
    assert _shm_names() == before                       # unlinked when freed


def test_file_system_storage_freed_before_receive_is_clear(strategy):
    mp.set_sharing_strategy("file_system")
    payload = ForkingPickler.dumps(ember.ones(2))       # the sender's tensor dies here
    with pytest.raises(RuntimeError, match="no longer exists"):
        ForkingPickler.loads(payload)


def _open_fds():
    return len(os.listdir("/proc/self/fd"))


def _mappings(word):
    with open("/proc/self/maps") as fh:
        return sum(word in line for line in fh)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_storages_hold_one_fd_and_release_everything(strategy):
    import gc
    base_fds, base_maps = _open_fds(), _mappings("ember_shared")
    ts = [empty_shared(100) for _ in range(10)]
    assert _open_fds() - base_fds == 10                 # one fd per 'file_descriptor' storage
    assert _mappings("ember_shared") - base_maps == 10
    del ts
    gc.collect()
    assert _open_fds() == base_fds and _mappings("ember_shared") == base_maps
    mp.set_sharing_strategy("file_system")
    ts = [empty_shared(100) for _ in range(10)]
    assert _open_fds() == base_fds                      # 'file_system' keeps no fd open
    assert len(_shm_names()) == 10
    del ts
    gc.collect()
    assert not _shm_names()


def test_fallback_without_memfd_leaves_no_file(monkeypatch):
    def no_memfd(*args):
        raise OSError("memfd_create unavailable")
    monkeypatch.setattr(os, "memfd_create", no_memfd, raising=False)
    t = ember.arange(4.0)
    u = _roundtrip(t)                       # an unlinked /dev/shm file carries it
    assert t.is_shared() and u.data_ptr() == t.data_ptr()
    assert not _shm_names()


def test_cached_storage_maps_once():
    t = ember.ones(4)
    a, b = _roundtrip(t), _roundtrip(t)
    assert reductions._storage_of(a._data) is reductions._storage_of(b._data)
    assert a.data_ptr() == b.data_ptr() == t.data_ptr()


# -- the Hogwild example ---------------------------------------------------------------------------

def test_hogwild_example_learns_in_shared_model():
    spec = importlib.util.spec_from_file_location("_hogwild_example",
                                                  ROOT / "examples" / "hogwild.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--num-processes", "2", "--epochs", "1", "--samples", "512",
                          "--start-method", "fork"])
    # Only the children train: the parent's loss can fall only through shared memory.
    assert result["start_loss"] > 1.0
    assert result["loss"] < 0.25 * result["start_loss"]
    assert result["accuracy"] > 0.9


@pytest.mark.gpu
def test_cuda_tensor_share_and_send():
    t = ember.ones(3, device="cuda")
    assert t.is_shared() and t.share_memory_() is t
    with pytest.raises(RuntimeError, match="sharing CUDA tensors between processes"):
        ForkingPickler.dumps(t)
