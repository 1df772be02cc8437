"""Training-step time and peak memory: ember against PyTorch, one thread each, one script.

    python benchmarks/train.py                 # all three models
    python benchmarks/train.py --model mlp     # one of: mlp, lenet, gpt

Models (issue 3): (a) MLP 784-512-512-10, batch 128, SGD momentum 0.9; (b) LeNet-5 on 28x28,
batch 64, Adam; (c) a GPT with 2 layers, 4 heads, d_model 128, context 64, vocab 65, batch 16,
AdamW. The same model code runs on both frameworks (`import ember as torch` style). Step times
are medians over timed steps after warm-up; peak memory (--memory) is the peak resident set
size of a child process that imports one framework alone and runs the same steps.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def framework(name):
    if name == "torch":
        import torch
        torch.set_num_threads(1)
        return torch
    import ember
    return ember


def make_mlp(T):
    nn = T.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    opt = T.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = T.randn(128, 784)
    y = T.randint(0, 10, (128,))
    return model, opt, lambda: nn.functional.cross_entropy(model(x), y)


def make_lenet(T):
    nn = T.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
    opt = T.optim.Adam(model.parameters(), lr=1e-3)
    x = T.randn(64, 1, 28, 28)
    y = T.randint(0, 10, (64,))
    return model, opt, lambda: nn.functional.cross_entropy(model(x), y)


def make_gpt(T, n_layer=2, n_head=4, d=128, ctx=64, vocab=65, batch=16):
    nn, F = T.nn, T.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, n_head, d // n_head).transpose(1, 2) for z in (q, k, v))
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
            self.blocks = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(T.arange(idx.shape[1]))
            for blk in self.blocks:
                x = blk(x)
            return self.head(self.ln(x))

    model = GPT()
    opt = T.optim.AdamW(model.parameters(), lr=3e-4)
    idx = T.randint(0, vocab, (batch, ctx))
    tgt = T.randint(0, vocab, (batch, ctx))
    return model, opt, lambda: F.cross_entropy(model(idx).view(-1, vocab), tgt.view(-1))


MODELS = {"mlp": make_mlp, "lenet": make_lenet, "gpt": make_gpt}


def step_times(fw: str, model: str, steps: int, warmup: int = 3):
    T = framework(fw)
    T.manual_seed(0)
    net, opt, loss_fn = MODELS[model](T)
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], float(loss.item())


def peak_rss_mb(fw: str, model: str, steps: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--child", fw, "--model", model,
                          "--steps", str(steps)], capture_output=True, text=True, timeout=900)
    for line in out.stdout.splitlines():
        if line.startswith("peak_rss_mb"):
            return float(line.split()[1])
    return math.nan


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=sorted(MODELS), action="append")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--memory", action="store_true", help="also measure peak memory")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    models = args.model or ["mlp", "lenet", "gpt"]
    if args.child:
        step_times(args.child, models[0], args.steps)
        # VmHWM: this process image's peak (getrusage's ru_maxrss would carry the parent's
        # peak over the fork and exec).
        with open("/proc/self/status") as f:
            hwm = next(line for line in f if line.startswith("VmHWM"))
        print("peak_rss_mb", int(hwm.split()[1]) / 1024)
        return
    for m in models:
        e, _ = step_times("ember", m, args.steps)
        t, _ = step_times("torch", m, args.steps)
        line = (f"{m:<6} step: ember {e * 1e3:8.2f} ms  torch {t * 1e3:8.2f} ms  "
                f"(ember/torch time {e / t:.2f}x)")
        if args.memory:
            me, mt = peak_rss_mb("ember", m, args.steps), peak_rss_mb("torch", m, args.steps)
            line += f"  peak RSS: ember {me:.0f} MB  torch {mt:.0f} MB"
        print(line, flush=True)


if __name__ == "__main__":
    main()
