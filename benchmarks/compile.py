"""ember.compile: eager vs compiled ember (and PyTorch eager), one thread, one process.

    python benchmarks/compile.py                  # everything
    python benchmarks/compile.py --only gpt       # one of: gpt, mlp, lenet

Training steps (zero_grad, forward, loss, backward, optimizer step; median of timed steps
after warm-up, the variants measured in interleaved rounds so that load from other processes
on a shared machine hits all alike): the tiny GPT of benchmarks/train.py (2 layers, 4 heads,
d_model 128, context 64, vocab 65, batch 16, AdamW) and the MLP 784-512-512-10 (batch 128,
SGD momentum 0.9). Inference of LeNet-5 (batch 64, no_grad): eager ember, compiled ember and
the model exported with ``ember.onnx.export`` run by onnxruntime (one thread). Compile time:
the first compiled call (trace, passes, lowering, then the run) minus a warm call.
Ratios: eager/compiled > 1 means compiled is faster; torch/compiled > 1 means faster than
PyTorch eager.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from train import make_gpt, make_lenet, make_mlp  # noqa: E402

import ember  # noqa: E402


def _interleaved(fns, steps: int, rounds: int = 3) -> list:
    """Median seconds per call of each function, in interleaved rounds."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            for _ in range(steps):
                t0 = time.perf_counter()
                fn()
                times[i].append(time.perf_counter() - t0)
    return [sorted(t)[len(t) // 2] for t in times]


def _training(make, name: str, steps: int, with_torch: bool) -> None:
    ember.manual_seed(0)
    model, opt, loss_fn = make(ember)
    # The same model and weights, compiled, with its own optimizer.
    ember.manual_seed(0)
    model_c, opt_c, _ = make(ember)
    model_c.load_state_dict(copy.deepcopy(model.state_dict()))
    compiled = ember.compile(model_c)
    # make_* return a loss closure over their model and data: the same closure, reading the
    # compiled model (so both variants see the same inputs).
    loss_c = _rebind(loss_fn, model, compiled)

    def step(m_opt, fn):
        def run():
            m_opt.zero_grad()
            loss = fn()
            loss.backward()
            m_opt.step()
        return run

    eager_step = step(opt, loss_fn)
    compiled_step = step(opt_c, loss_c)
    eager_step()                         # warm-up (and eager reference of the first step)
    t0 = time.perf_counter()
    compiled_step()                      # first call: trace + compile + run
    first = time.perf_counter() - t0
    fns = [eager_step, compiled_step]
    if with_torch:
        torch = _torch()
        torch.manual_seed(0)
        tm, topt, tloss = make(torch)
        torch_step = step(topt, tloss)
        torch_step()
        fns.append(torch_step)
    for fn in fns:
        fn()
    ts = _interleaved(fns, steps)
    compile_s = first - ts[1]
    line = (f"{name:<5} train step: eager {ts[0] * 1e3:7.2f} ms  compiled {ts[1] * 1e3:7.2f} ms"
            f"  eager/compiled {ts[0] / ts[1]:.2f}x")
    if with_torch:
        line += f"  torch {ts[2] * 1e3:7.2f} ms  torch/compiled {ts[2] / ts[1]:.2f}x"
    line += f"  compile time {compile_s:.2f} s"
    print(line, flush=True)


def _rebind(fn, old, new):
    """A copy of closure ``fn`` that reads ``new`` where it read ``old``."""
    import types
    if not any(c.cell_contents is old for c in fn.__closure__ or ()):
        raise RuntimeError("benchmarks/compile.py: the loss closure does not read the model")
    cells = tuple(types.CellType(new if c.cell_contents is old else c.cell_contents)
                  for c in fn.__closure__)
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, cells)


def _torch():
    import torch
    torch.set_num_threads(1)
    return torch


def _lenet_inference(steps: int) -> None:
    ember.manual_seed(0)
    model, _, _ = make_lenet(ember)
    model.eval()
    x = ember.randn(64, 1, 28, 28)
    compiled = ember.compile(model)
    with ember.no_grad():
        ref = model(x).numpy()
        t0 = time.perf_counter()
        got = compiled(x).numpy()
        first = time.perf_counter() - t0
    assert np.allclose(ref, got, rtol=1e-4, atol=1e-5), "lenet: compiled differs from eager"

    def eager():
        with ember.no_grad():
            model(x)

    def comp():
        with ember.no_grad():
            compiled(x)

    fns = [eager, comp]
    ort_line = "  onnxruntime: not installed"
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    if ort is not None:
        buf = io.BytesIO()
        ember.onnx.export(model, (x,), buf, input_names=["x"], output_names=["y"])
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(buf.getvalue(), so, providers=["CPUExecutionProvider"])
        feed = {"x": x.numpy()}
        assert np.allclose(sess.run(None, feed)[0], ref, rtol=1e-4, atol=1e-4)
        fns.append(lambda: sess.run(None, feed))
    ts = _interleaved(fns, steps * 3)
    if ort is not None:
        ort_line = (f"  onnxruntime {ts[2] * 1e3:6.2f} ms  compiled/onnxruntime time "
                    f"{ts[1] / ts[2]:.2f}x")
    print(f"lenet inference: eager {ts[0] * 1e3:6.2f} ms  compiled {ts[1] * 1e3:6.2f} ms  "
          f"eager/compiled {ts[0] / ts[1]:.2f}x{ort_line}  compile time {first - ts[1]:.2f} s",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["gpt", "mlp", "lenet"], action="append")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per round")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()
    which = args.only or ["gpt", "mlp", "lenet"]
    with_torch = not args.no_torch
    if with_torch:
        try:
            _torch()
        except ImportError:
            with_torch = False
    if "gpt" in which:
        _training(make_gpt, "gpt", args.steps, with_torch)
    if "mlp" in which:
        _training(make_mlp, "mlp", args.steps, with_torch)
    if "lenet" in which:
        _lenet_inference(args.steps)


if __name__ == "__main__":
    main()
