"""ember.profiler and ember.autograd.profiler: tables, traces, schedules, hooks."""

from __future__ import annotations

import gzip
import json
import os
import re
import threading
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember._dispatch import Op
from ember.profiler import (
    ProfilerAction,
    ProfilerActivity,
    _recorder,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)
from tests.oracle import needs_torch, torch


def _op_methods():
    """{(class, attribute): the object in the class __dict__} for every Op subclass."""
    out = {}
    todo = [Op]
    seen = set()
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            todo.append(sub)
            for attr in ("forward", "forward_inplace", "backward"):
                if attr in sub.__dict__:
                    out[(sub, attr)] = sub.__dict__[attr]
    return out


def _find(events, name):
    return [e for e in events if e.name == name]


def _avg(prof, key, **kw):
    rows = [e for e in prof.key_averages(**kw) if e.key == key]
    assert len(rows) == 1, f"{key}: {[e.key for e in prof.key_averages(**kw)]}"
    return rows[0]


def _header(table):
    """Column names of a profiler table (the line between the first two separators)."""
    line = table.splitlines()[1]
    return re.split(r"\s{2,}", line.strip())


def _mlp_step(lib, x, w):
    y = None
    for _ in range(3):
        y = (x @ w).relu().sum()
    y.backward()
    return y


# -- table -------------------------------------------------------------------------------------

def test_profiler_table_counts_calls():
    x = ember.randn(8, 16, requires_grad=True)
    w = ember.randn(16, 4, requires_grad=True)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _mlp_step(ember, x, w)
    # 3 forward matmuls, 2 in MmBackward0.
    assert _avg(prof, "aten::matmul").count == 5
    assert _avg(prof, "aten::relu").count == 3
    assert _avg(prof, "MmBackward0").count == 1
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=50)
    row = next(line for line in table.splitlines() if line.strip().startswith("aten::relu"))
    assert row.split()[-1] == "3"                       # "# of Calls"
    assert "Self CPU time total:" in table.splitlines()[-1]
    # Every line of the table is as wide as the separator.
    sep = table.splitlines()[0]
    assert all(len(line) == len(sep) for line in table.splitlines()[:-1])


def test_profiler_row_limit_and_sort():
    x = ember.randn(32, 32)
    with profile() as prof:
        for _ in range(4):
            x @ x
        ember.ones(3) + 1
    avgs = prof.key_averages()
    table = avgs.table(sort_by="count", row_limit=1)
    body = table.splitlines()[3:-2]
    assert len(body) == 1 and body[0].strip().startswith("aten::matmul")
    assert avgs.table(row_limit=0).count("aten::") == 0


@needs_torch
@pytest.mark.parametrize("opts,kw", [
    ({}, {}),
    ({"profile_memory": True}, {}),
    ({"record_shapes": True}, {"group_by_input_shape": True}),
    ({"with_flops": True}, {}),
    ({"with_stack": True}, {"group_by_stack_n": 2}),
])
def test_profiler_table_columns_match_torch(opts, kw):
    def run(lib, prof_mod):
        x = lib.ones(8, 16)
        w = lib.ones(16, 4)
        with prof_mod.profile(activities=[prof_mod.ProfilerActivity.CPU], **opts) as p:
            with prof_mod.record_function("model"):
                for _ in range(3):
                    x @ w
        return p.key_averages(**kw).table(sort_by="cpu_time_total", row_limit=5)

    ours = _header(run(ember, ember.profiler))
    theirs = _header(run(torch, torch.profiler))
    if "with_stack" in opts:
        # PyTorch 2's Kineto leaves FunctionEvent.stack empty (it records python_function
        # events instead); ember fills it, so its table adds the older "Source Location".
        assert ours.pop() == "Source Location"
    assert ours == theirs


@needs_torch
def test_profiler_flops_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((4, 3, 3, 3)).astype(np.float32)
    a = np.ones((8, 16), np.float32)
    b = np.ones((16, 4), np.float32)
    with profile(with_flops=True) as prof:
        ember.tensor(a) @ ember.tensor(b)
        F.conv2d(ember.tensor(x), ember.tensor(w), padding=1)
        F.linear(ember.tensor(a), ember.tensor(b.T.copy()))
    with torch.profiler.profile(with_flops=True) as tprof:
        torch.tensor(a) @ torch.tensor(b)
        torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    theirs = {e.name: e.flops for e in tprof.events() if e.flops}
    ours = {e.name: e.flops for e in prof.events() if e.flops}
    assert ours["aten::matmul"] == theirs["aten::mm"] == 2 * 8 * 16 * 4
    assert ours["aten::convolution"] == theirs["aten::conv2d"]
    assert ours["aten::linear"] == 2 * 8 * 16 * 4
    assert "Total KFLOPs" in _header(prof.key_averages().table())


def test_profiler_memory_columns():
    a = ember.ones(256)                                   # float32: 1 KiB per result
    with profile(profile_memory=True) as prof:
        b = a * 2.0
        a.view(16, 16)
    del b
    assert _avg(prof, "aten::mul").self_cpu_memory_usage == 1024
    assert _avg(prof, "aten::view").self_cpu_memory_usage == 0
    row = next(line for line in prof.key_averages().table().splitlines()
               if "aten::mul" in line)
    assert "1.00 KB" in row


def test_profiler_group_by_input_shape():
    with profile(record_shapes=True) as prof:
        ember.ones(2, 3) + ember.ones(2, 3)
        ember.ones(4) + ember.ones(4)
        ember.ones(4) + ember.ones(4)
    rows = [e for e in prof.key_averages(group_by_input_shape=True) if e.key == "aten::add"]
    assert sorted((str(e.input_shapes), e.count) for e in rows) == \
        [("[[2, 3], [2, 3]]", 1), ("[[4], [4]]", 2)]
    assert _avg(prof, "aten::add").count == 3
    assert "Input Shapes" in _header(prof.key_averages(group_by_input_shape=True).table())
    add = _find(prof.events(), "aten::add")[0]
    assert add.input_dtypes == ["float", "float"]


# -- nesting and times ----------------------------------------------------------------------------

def test_profiler_self_and_total_times_nest():
    x = ember.randn(64, 64)
    with profile() as prof:
        with record_function("outer"):
            x @ x
            with record_function("inner"):
                for _ in range(3):
                    x @ x
    events = prof.events()
    outer, inner = _find(events, "outer")[0], _find(events, "inner")[0]
    mms = _find(events, "aten::matmul")
    assert inner.cpu_parent is outer
    assert [m.cpu_parent for m in mms] == [outer, inner, inner, inner]
    for e in events:
        assert e.cpu_time_total >= e.self_cpu_time_total >= 0
        for c in e.cpu_children:
            assert e.time_range.start <= c.time_range.start <= c.time_range.end \
                <= e.time_range.end
    assert outer.cpu_time_total >= inner.cpu_time_total + mms[0].cpu_time_total
    assert inner.cpu_time_total >= sum(m.cpu_time_total for m in mms[1:])
    assert inner.self_cpu_time_total == pytest.approx(
        inner.cpu_time_total - sum(m.cpu_time_total for m in mms[1:]))
    avg = prof.key_averages()
    assert avg.self_cpu_time_total == pytest.approx(outer.cpu_time_total)


def test_profiler_backward_events():
    a = ember.randn(4, 5, requires_grad=True)
    b = ember.randn(4, 5, requires_grad=True)
    with profile() as prof:
        (a * b).sum().backward()
    events = prof.events()
    outer = _find(events, "autograd::engine::evaluate_function: MulBackward0")
    inner = _find(events, "MulBackward0")
    assert len(outer) == 1 and len(inner) == 1
    assert inner[0].cpu_parent is outer[0]
    assert inner[0].scope == outer[0].scope == 1 and _find(events, "aten::mul")[0].scope == 0
    # MulBackward0 computes grad * b and grad * a with ember ops: they nest inside it.
    assert [c.name for c in inner[0].cpu_children].count("aten::mul") == 2
    assert _find(events, "autograd::engine::evaluate_function: SumBackward0")


def test_profiler_inplace_op_names(monkeypatch):
    import ember._tensor as tensor_mod
    elided = []
    real_elide = tensor_mod._elide

    def spy(op, t, other):
        out = real_elide(op, t, other)
        elided.append(out is not None)
        return out

    monkeypatch.setattr(tensor_mod, "_elide", spy)
    x = ember.zeros(1 << 16)        # large enough for Note [Temporary elision]
    with ember.no_grad(), profile() as prof:
        x.add_(1.0)
        y = (x * 2.0) + 1.0          # the add reuses the temporary's memory: still "add"
        del y
    assert elided == [True]
    names = [e.name for e in prof.events()]
    assert names == ["aten::add_", "aten::mul", "aten::add"]


def test_profiler_custom_function_backward_name():
    class Square(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ember.randn(3, requires_grad=True)
    apply_before = ember.autograd.Function.__dict__["apply"]
    with profile(record_shapes=True) as prof:
        Square.apply(x).sum().backward()
    assert ember.autograd.Function.__dict__["apply"] is apply_before
    events = prof.events()
    (fwd,) = _find(events, "Square")               # PyTorch's forward range of a Function
    assert fwd.input_shapes == [[3]]
    assert [c.name for c in fwd.cpu_children] == ["aten::mul"]
    (bwd,) = _find(events, "SquareBackward")
    assert bwd.cpu_parent.name == "autograd::engine::evaluate_function: SquareBackward"
    assert [c.name for c in bwd.cpu_children] == ["aten::mul", "aten::mul"]


def test_profiler_records_other_threads():
    x = ember.randn(16, 16)

    def work():
        for _ in range(2):
            x @ x

    with profile() as prof:
        with record_function("main"):
            t = threading.Thread(target=work)
            t.start()
            t.join(timeout=10)
    assert not t.is_alive()
    main = _find(prof.events(), "main")[0]
    mms = _find(prof.events(), "aten::matmul")
    assert len(mms) == 2
    assert all(m.thread != main.thread and m.cpu_parent is None for m in mms)


# -- record_function ------------------------------------------------------------------------------

def test_record_function_decorator_and_args():
    @record_function("my_fn")
    def fn(t):
        return t + 1

    with profile() as prof:
        fn(ember.ones(2))
        fn(ember.ones(2))
        with record_function("tagged", "some args"):
            pass
    assert _avg(prof, "my_fn").count == 2
    adds = _find(prof.events(), "aten::add")
    assert all(a.cpu_parent.name == "my_fn" for a in adds)
    assert _find(prof.events(), "tagged")[0].args == "some args"
    assert fn(ember.ones(1)).tolist() == [2.0]          # works without a profiler too


def test_record_function_outside_profiler_records_nothing():
    with record_function("lonely"):
        ember.ones(2) + 1
    with profile() as prof:
        ember.ones(2) + 1
    assert [e.name for e in prof.events()] == ["aten::add"]


# -- chrome trace ---------------------------------------------------------------------------------

def test_export_chrome_trace(tmp_path):
    x = ember.randn(8, 8, requires_grad=True)
    with profile(record_shapes=True) as prof:
        with record_function("fwd"):
            y = (x @ x).sum()
        y.backward()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    assert data["schemaVersion"] == 1 and data["displayTimeUnit"] == "ms"
    ops = [e for e in data["traceEvents"] if e["ph"] == "X"]
    by_name = {}
    for e in ops:
        by_name.setdefault(e["name"], e)
    fwd, mm = by_name["fwd"], by_name["aten::matmul"]
    assert fwd["cat"] == "user_annotation" and mm["cat"] == "cpu_op"
    assert mm["args"]["Input Dims"] == [[8, 8], [8, 8]]
    assert "autograd::engine::evaluate_function: MmBackward0" in by_name
    for e in ops:
        assert isinstance(e["ts"], (int, float)) and e["dur"] >= 0
        assert e["pid"] == os.getpid() and isinstance(e["tid"], int)
    # The matmul lies inside the user range on the timeline.
    assert fwd["ts"] <= mm["ts"] and mm["ts"] + mm["dur"] <= fwd["ts"] + fwd["dur"] + 1e-3
    assert len(ops) == len(prof.events())
    names = [e["name"] for e in data["traceEvents"] if e["ph"] == "M"]
    assert "process_name" in names and "thread_name" in names


def test_export_chrome_trace_gzip(tmp_path):
    with profile() as prof:
        ember.ones(3) * 2
    path = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(path))
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    assert [e["name"] for e in data["traceEvents"] if e["ph"] == "X"] == ["aten::mul"]


def test_export_stacks(tmp_path):
    with profile(with_stack=True) as prof:
        ember.ones(64, 64) @ ember.ones(64, 64)
    mm = _find(prof.events(), "aten::matmul")[0]
    assert any("test_profiler.py" in s and "test_export_stacks" in s for s in mm.stack)
    assert not any(os.sep + "ember" + os.sep + "ops" in s for s in mm.stack)
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path), "self_cpu_time_total")
    lines = path.read_text().splitlines()
    assert lines and all(re.fullmatch(r".+ \d+", line) for line in lines)
    assert "test_export_stacks" in lines[0].rsplit(" ", 1)[0].split(";")[-1]


# -- schedule -------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("args", [
    dict(wait=1, warmup=1, active=2),
    dict(wait=0, warmup=0, active=1),
    dict(wait=2, warmup=1, active=3, repeat=2),
    dict(wait=1, warmup=2, active=1, repeat=1, skip_first=3),
    dict(wait=3, warmup=1, active=2, repeat=2, skip_first=2, skip_first_wait=1),
])
def test_schedule_matches_torch(args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")               # warmup=0 warns in both
        ours = schedule(**args)
        theirs = torch.profiler.schedule(**args)
    assert [ours(i).name for i in range(40)] == [theirs(i).name for i in range(40)]


def test_schedule_errors_and_warning():
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        schedule(wait=0, warmup=0, active=0)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        schedule(wait=1, warmup=0, active=1)
    with pytest.raises(AssertionError, match="non-negative"):
        schedule(wait=1, warmup=1, active=1)(-1)


def _scheduled_run(lib, prof_mod, sched_args, steps, acc=False):
    x = lib.ones(4, 4)
    ready = []
    with prof_mod.profile(activities=[prof_mod.ProfilerActivity.CPU],
                          schedule=prof_mod.schedule(**sched_args),
                          on_trace_ready=lambda p: ready.append(p.step_num),
                          acc_events=acc) as p:
        for _ in range(steps):
            x @ x
            p.step()
    keys = {e.key: e.count for e in p.key_averages()}
    mm = keys.get("aten::matmul", keys.get("aten::mm", 0))
    return ready, keys.get("ProfilerStep*", 0), mm


@needs_torch
@pytest.mark.parametrize("args,steps,acc", [
    (dict(wait=1, warmup=1, active=2, repeat=1), 6, False),
    (dict(wait=1, warmup=1, active=2), 9, False),
    (dict(wait=0, warmup=1, active=2, repeat=2), 7, True),
])
def test_profile_schedule_steps_match_torch(args, steps, acc):
    ours = _scheduled_run(ember, ember.profiler, args, steps, acc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _scheduled_run(torch, torch.profiler, args, steps, acc)
    assert ours == theirs


def test_profile_start_stop_and_step_without_schedule():
    prof = profile()
    assert prof.current_action is ProfilerAction.RECORD
    prof.start()
    ember.ones(2) + 1
    prof.step()
    ember.ones(2) + 1
    prof.stop()
    assert [e.name for e in prof.events()] == ["aten::add", "aten::add"]   # no ProfilerStep
    assert prof.step_num == 1


def test_profile_nothing_recorded_raises():
    prof = profile(schedule=schedule(wait=5, warmup=1, active=1))
    with prof:
        ember.ones(2) + 1
    with pytest.raises(AssertionError, match="nothing was recorded"):
        prof.key_averages()


def test_tensorboard_trace_handler(tmp_path):
    logdir = tmp_path / "tb"
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
                 on_trace_ready=tensorboard_trace_handler(str(logdir), "worker0")) as p:
        for _ in range(4):
            ember.ones(3) + 1
            p.step()
    files = sorted(os.listdir(logdir))
    assert len(files) == 2
    assert all(re.fullmatch(r"worker0\.\d+\.pt\.trace\.json", f) for f in files)
    data = json.loads((logdir / files[0]).read_text())
    names = [e["name"] for e in data["traceEvents"] if e["ph"] == "X"]
    assert names == ["ProfilerStep#1", "aten::add"]
    handler = tensorboard_trace_handler(str(logdir / "gz"), use_gzip=True)
    with profile(on_trace_ready=handler):
        ember.ones(1) + 1
    (gz,) = os.listdir(logdir / "gz")
    assert gz.endswith(".pt.trace.json.gz")
    with gzip.open(logdir / "gz" / gz, "rt") as f:
        assert json.load(f)["traceEvents"]


def test_profile_activities_and_metadata(tmp_path):
    with pytest.raises(AssertionError, match="No valid profiler activities"):
        profile(activities=[])
    with pytest.raises(TypeError, match="ProfilerActivity"):
        profile(activities=["cpu"])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        prof.add_metadata("run", "r1")
        ember.ones(1) + 1
    path = tmp_path / "t.json"
    prof.export_chrome_trace(str(path))
    assert json.loads(path.read_text())["run"] == "r1"


@pytest.mark.skipif(ember.cuda.is_available(), reason="needs a machine without CUDA")
def test_profile_cuda_activity_without_cuda_warns():
    with pytest.warns(UserWarning, match="CUDA is not available"), \
            profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        ember.ones(2) + 1
    assert [e.name for e in prof.events()] == ["aten::add"]
    with pytest.raises(AssertionError, match="No activities"), \
            pytest.warns(UserWarning, match="CUDA is not available"), \
            profile(activities=[ProfilerActivity.CUDA]):
        pass


# -- hooks ----------------------------------------------------------------------------------------

def test_profiler_hooks_restored_exactly():
    from ember.ops.elementwise import Mul
    before = _op_methods()
    mul_forward = Mul.forward
    with profile():
        assert Mul.__dict__["forward"] is not before[(Mul, "forward")]
        assert Mul.forward.__wrapped__ is mul_forward
        with profile():                         # nested: the inner exit keeps the hooks
            pass
        assert Mul.__dict__["forward"] is not before[(Mul, "forward")]
    after = _op_methods()
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    assert Mul.forward is mul_forward and not hasattr(Mul.forward, "__wrapped__")
    assert _recorder._active == () and _recorder._flags is None


def test_profiler_exception_restores_hooks():
    before = _op_methods()
    with pytest.raises(ValueError, match="boom"), profile():
        ember.ones(2) * 3
        raise ValueError("boom")
    after = _op_methods()
    assert all(after[k] is before[k] for k in before)
    assert not _recorder.is_active()


def test_profiler_handler_error_restores_hooks():
    def bad_handler(prof):
        raise OSError("disk full")

    before = _op_methods()
    with pytest.raises(OSError, match="disk full"), profile(on_trace_ready=bad_handler):
        ember.ones(2) * 3
    assert all(_op_methods()[k] is before[k] for k in before)


def test_profiler_nested_profiles_both_record():
    with profile() as outer:
        ember.ones(2) + 1
        with profile() as inner:
            ember.ones(2) * 2
    assert [e.name for e in outer.events()] == ["aten::add", "aten::mul"]
    assert [e.name for e in inner.events()] == ["aten::mul"]


# -- the older API --------------------------------------------------------------------------------

def test_autograd_profiler_legacy_api():
    from ember.autograd import profiler as aprof
    x = ember.randn(4, 4, requires_grad=True)
    with aprof.profile(record_shapes=True) as prof:
        with aprof.record_function("step"):
            (x * x).sum().backward()
        with pytest.raises(RuntimeError, match="didn't finish running"):
            prof.function_events
    names = [e.name for e in prof.function_events]
    assert names[:3] == ["step", "aten::mul", "aten::sum"]
    assert str(prof) == prof.function_events.table()
    assert "aten::mul" in prof.table(sort_by="self_cpu_time_total")
    assert prof.self_cpu_time_total == pytest.approx(
        sum(e.self_cpu_time_total for e in prof.function_events))
    assert prof.total_average().count == len(prof.function_events)
    with pytest.raises(RuntimeError, match="not reentrant"), prof:
        pass


def test_autograd_profiler_disabled_records_nothing():
    from ember.autograd import profiler as aprof
    before = _op_methods()
    with aprof.profile(enabled=False) as prof:
        assert all(_op_methods()[k] is before[k] for k in before)
        ember.ones(2) + 1
    assert not prof.enabled


def test_autograd_profiler_use_cuda_is_deprecated():
    from ember.autograd import profiler as aprof
    with pytest.warns(FutureWarning, match="use_cuda"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # "CUDA is not available" on cpu
        aprof.profile(use_cuda=True)


# -- gpu ------------------------------------------------------------------------------------------

@pytest.mark.gpu
def test_profiler_cuda_times(tmp_path):
    x = ember.randn(512, 512, device="cuda")
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                 profile_memory=True) as prof:
        with record_function("gpu_work"):
            for _ in range(3):
                y = x @ x
    del y
    mm = _avg(prof, "aten::matmul")
    assert mm.count == 3 and mm.self_device_time_total > 0
    assert mm.self_device_memory_usage == 3 * 512 * 512 * 4
    work = _avg(prof, "gpu_work")
    assert work.device_time_total >= mm.device_time_total * 0.999
    header = _header(prof.key_averages().table())
    assert header[6:10] == ["Self CUDA", "Self CUDA %", "CUDA total", "CUDA time avg"]
    assert "CUDA Mem" in header
    path = tmp_path / "gpu.json"
    prof.export_chrome_trace(str(path))
    kernels = [e for e in json.loads(path.read_text())["traceEvents"]
               if e.get("cat") == "kernel"]
    assert len(kernels) == 3 and all(k["dur"] > 0 for k in kernels)


@needs_torch
def test_profiler_number_formats_match_torch():
    pu = pytest.importorskip("torch.autograd.profiler_util")
    from ember.profiler import _events
    for us in [0.0, 0.4, 999.9994, 1000.0, 1234.5678, 999999.0, 1e6, 3.2e7]:
        assert _events._format_time(us) == pu._format_time(us)
    for n in [0, 12, -652, 1023, 1024, 1536, -2048, 1 << 20, 5 << 30]:
        assert _events._format_memory(n) == pu._format_memory(n)
    for t, total in [(1.0, 3.0), (0.0, 0.0), (2.5, 2.5)]:
        assert _events._format_share(t, total) == pu._format_time_share(t, total)
