"""DataLoader throughput: ember vs PyTorch on the same in-memory dataset, one process.

An MNIST-sized TensorDataset (N float32 28x28 images and int64 labels), batch 64, shuffled,
timed over ``--epochs`` epochs after one warm-up epoch (persistent workers, so process
start-up is not timed), with 0 and with 2 worker processes (fork). Prints samples/s for both
libraries and the ember/PyTorch ratio (higher is better for ember); ``--per-sample`` adds
the same data behind a plain Dataset (no TensorDataset gather: per-sample indexing + stack).
Run: ``python benchmarks/data.py [--samples 20000] [--epochs 2] [--per-sample]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


class _PerSample:
    """The same data behind a plain map-style dataset: every sample is indexed on its own and
    collated with a stack (DataLoader's general path, no TensorDataset gather)."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


def _throughput(loader_cls, dataset, workers: int, epochs: int, batch_size: int) -> float:
    kwargs = dict(batch_size=batch_size, shuffle=True, num_workers=workers)
    if workers:
        kwargs["persistent_workers"] = True       # time loading, not process start-up
    loader = loader_cls(dataset, **kwargs)
    for _ in loader:                              # warm-up epoch (and worker start)
        pass
    n = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for x, _y in loader:
            n += x.shape[0]
    elapsed = time.perf_counter() - start
    del loader
    return n / elapsed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="*", default=[0, 2])
    parser.add_argument("--per-sample", action="store_true",
                        help="also time a plain Dataset that indexes one sample at a time")
    args = parser.parse_args(argv)

    import ember
    from ember.utils.data import DataLoader, TensorDataset
    try:
        import torch
        import torch.utils.data as tud
        torch.set_num_threads(1)
    except ImportError:
        torch = None

    rng = np.random.default_rng(0)
    images = rng.standard_normal((args.samples, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, args.samples).astype(np.int64)
    ember_ds = TensorDataset(ember.from_numpy(images), ember.from_numpy(labels))
    torch_ds = None if torch is None else tud.TensorDataset(torch.from_numpy(images.copy()),
                                                            torch.from_numpy(labels.copy()))

    print(f"DataLoader, {args.samples} samples of 28x28 float32 + int64 label, batch "
          f"{args.batch_size}, shuffle, {args.epochs} epochs timed")
    settings = [("TensorDataset", ember_ds, torch_ds)]
    if args.per_sample:
        settings.append(("per-sample", _PerSample(*ember_ds.tensors),
                         None if torch is None else _PerSample(*torch_ds.tensors)))
    print(f"{'dataset':>14} {'workers':>8} {'ember samples/s':>16} {'torch samples/s':>16} "
          f"{'ember/torch':>12}")
    for name, e_ds, t_ds in settings:
        for workers in args.workers:
            ember.manual_seed(0)
            e = _throughput(DataLoader, e_ds, workers, args.epochs, args.batch_size)
            if torch is not None:
                torch.manual_seed(0)
                t = _throughput(tud.DataLoader, t_ds, workers, args.epochs, args.batch_size)
                print(f"{name:>14} {workers:>8} {e:>16,.0f} {t:>16,.0f} {e / t:>11.2f}x")
            else:
                print(f"{name:>14} {workers:>8} {e:>16,.0f} {'-':>16} {'-':>12}")


if __name__ == "__main__":
    main()
