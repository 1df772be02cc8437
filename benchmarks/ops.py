"""Dispatch overhead and kernel throughput: ember vs PyTorch vs NumPy, one thread, one process.

    python benchmarks/ops.py              # cpu
    python benchmarks/ops.py --device cuda

Prints µs per op for tiny tensors (the cost of the Python layer), the 10,000-op recording
chain with and without backward, GB/s of ``a * b + c`` on 4M float32 and GFLOP/s of a 1024³
matmul, each with the ratio ember / peer. Timings are the minimum over repeats.

After the imports the benchmark calls ``gc.freeze()``: importing torch (the peer) leaves about
170,000 objects that Python's cyclic collector would otherwise walk in every full collection
triggered by ember's graph nodes (which are Python objects; torch's are not). Without torch in
the process those objects do not exist, so freezing them measures ember as its users run it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

# One thread for every library, set before NumPy loads its BLAS.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import ember  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    torch = None


import gc  # noqa: E402

gc.collect()
gc.freeze()


def best_of(fn, number, repeat=7):
    """Minimum seconds per call over `repeat` runs of `number` calls."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def tiny_add(mod, device):
    if mod is np:
        a = np.array([1.0, 2.0], np.float32)
        b = np.array([3.0, 4.0], np.float32)
    else:
        a = mod.tensor([1.0, 2.0], device=device)
        b = mod.tensor([3.0, 4.0], device=device)
    return best_of(lambda: a + b, 20000)


def chain(mod, device, n=10000, backward=False, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        x = mod.tensor([1.0, 2.0], device=device, requires_grad=True)
        b = mod.tensor([0.5, 0.25], device=device, requires_grad=True)
        t0 = time.perf_counter()
        c = x
        for _ in range(n):
            c = c + b
        if backward:
            c.sum().backward()
        best = min(best, (time.perf_counter() - t0) / n)
        del c, x, b
    return best


def fused(mod, device, n=4_000_000):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    if mod is np:
        a, b, c = arrs
    else:
        a, b, c = (mod.tensor(x, device=device) for x in arrs)
    sync = _sync(mod, device)

    def run():
        a * b + c
        sync()
    t = best_of(run, 5)
    return 5 * n * 4 / t / 1e9          # bytes: read a, b, (a*b), c; write 2 results


def matmul(mod, device, n=1024):
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal((n, n)).astype(np.float32) for _ in range(2)]
    if mod is np:
        a, b = arrs
    else:
        a, b = (mod.tensor(x, device=device) for x in arrs)
    sync = _sync(mod, device)

    def run():
        a @ b
        sync()
    t = best_of(run, 3, repeat=5)
    return 2 * n ** 3 / t / 1e9


def _sync(mod, device):
    if device == "cuda":
        if mod is torch:
            return torch.cuda.synchronize
        return ember.cuda.synchronize
    return lambda: None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="smaller repeats")
    args = parser.parse_args()
    dev = args.device
    peers = [("torch", torch)] if torch is not None else []
    rows = []

    def row(name, unit, e, others, lower_is_better=True):
        cells = [f"{name:<34}", f"ember {e:9.2f} {unit}"]
        for pname, v in others:
            ratio = e / v if lower_is_better else v / e
            cells.append(f"{pname} {v:9.2f} {unit}  (ember/{pname} time {ratio:.2f}x)")
        rows.append("  ".join(cells))
        print(rows[-1], flush=True)

    us = 1e6
    e = tiny_add(ember, dev) * us
    others = [(p, tiny_add(m, dev) * us) for p, m in peers]
    if dev == "cpu":
        others.append(("numpy", tiny_add(np, dev) * us))
    row("a + b, 2 floats, no grad", "us", e, others)

    e = chain(ember, dev) * us
    row("10k chain c = c + b, recording", "us", e, [(p, chain(m, dev) * us) for p, m in peers])
    e = chain(ember, dev, backward=True) * us
    row("10k chain, recording + backward", "us", e,
        [(p, chain(m, dev, backward=True) * us) for p, m in peers])

    e = fused(ember, dev)
    others = [(p, fused(m, dev)) for p, m in peers]
    if dev == "cpu":
        others.append(("numpy", fused(np, dev)))
    row("a * b + c, 4M float32", "GB/s", e, others, lower_is_better=False)

    e = matmul(ember, dev)
    others = [(p, matmul(m, dev)) for p, m in peers]
    if dev == "cpu":
        others.append(("numpy", matmul(np, dev)))
    row("matmul 1024^3 float32", "GFLOP/s", e, others, lower_is_better=False)


if __name__ == "__main__":
    main()
