"""Graph mode inference: eager ember vs the lowered plan (ember/jit/plan.py), one thread.

For an MLP and a GPT-2 block (tests/jit/_models.py) at a tiny size (dispatch overhead
dominates) and a medium size (kernels dominate), times the forward under ``no_grad`` in eager
mode, through the plan of the traced graph as recorded, and through the plan of the optimized
graph (simplify, fold, cse, dce, fusion). Prints microseconds per call and the eager/plan
ratio (higher is better for the plan). Also compares the CPU fusion engines (NumPy ``out=``
chain vs numexpr) on an elementwise chain.
Run: ``python benchmarks/plan.py [--repeat 200]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import ember  # noqa: E402
from ember.jit import passes, plan  # noqa: E402
from tests.jit._models import MLP, GPTBlock  # noqa: E402


def _time(fns, repeat: int) -> list:
    """Best time per call of each function, in microseconds, measured in interleaved rounds (so
    that load from other processes on a shared machine hits all of them alike)."""
    for fn in fns:
        for _ in range(max(2, repeat // 10)):
            fn()
    best = [float("inf")] * len(fns)
    for _ in range(7):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(repeat):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / repeat)
    return [b * 1e6 for b in best]


def _case(name, model, x, repeat):
    model.eval()
    params = dict(model.state_dict())
    graph = ember.jit.trace_graph(model, (x,))
    raw = plan.lower(graph, params)
    optimized = passes.optimize(passes.clone(graph))
    fast = plan.lower(optimized, params)
    with ember.no_grad():
        ref = model(x).numpy()
        got = fast(x).numpy()
    assert np.allclose(ref, got, rtol=1e-5, atol=1e-6), f"{name}: plan differs from eager"

    def eager():
        with ember.no_grad():
            model(x)

    t_eager, t_raw, t_fast = _time([eager, lambda: raw(x), lambda: fast(x)], repeat)
    print(f"{name:<30} nodes {len(graph.nodes):>3} -> {len(optimized.nodes):>3}  "
          f"eager {t_eager:9.1f} us  plan {t_raw:9.1f} us ({t_eager / t_raw:4.2f}x)  "
          f"optimized plan {t_fast:9.1f} us ({t_eager / t_fast:4.2f}x)")


def _engines(repeat):
    from ember.jit.passes import fusion
    x = ember.randn(256, 1024)
    y = ember.randn(256, 1024)
    graph = ember.jit.trace_graph(lambda a, b: (a * 0.5 + b).tanh() * b - a.sigmoid(), (x, y))
    optimized = passes.optimize(graph)
    p = plan.lower(optimized)
    def eager():
        with ember.no_grad():
            (x * 0.5 + y).tanh() * y - x.sigmoid()

    t_eager, t_np = _time([eager, lambda: p(x, y)], repeat)
    line = (f"{'fused chain (256, 1024) f32':<30} eager {t_eager:9.1f} us  "
            f"numpy out= chain {t_np:9.1f} us ({t_eager / t_np:4.2f}x)")
    try:
        fusion.set_cpu_engine("numexpr")
        (t_ne,) = _time([lambda: p(x, y)], repeat)
        line += f"  numexpr {t_ne:9.1f} us ({t_eager / t_ne:4.2f}x)"
    except ImportError:
        line += "  numexpr not installed"
    finally:
        fusion.set_cpu_engine("numpy")
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    ember.manual_seed(0)
    r = args.repeat
    _case("MLP tiny (8, 16)", MLP(16, 32, 8), ember.randn(8, 16), r)
    _case("MLP medium (256, 512)", MLP(512, 1024, 512), ember.randn(256, 512), max(5, r // 20))
    _case("GPT block tiny (2, 8, 32)", GPTBlock(32, 4), ember.randn(2, 8, 32), r)
    _case("GPT block medium (8, 64, 128)", GPTBlock(128, 4), ember.randn(8, 64, 128),
          max(5, r // 10))
    _engines(max(5, r // 10))


if __name__ == "__main__":
    main()
