"""``python -m ember demo``: train a small CNN end to end with ember's PyTorch-style API.

The training code below is ordinary PyTorch code with ``import ember as torch``: a dataset
and transforms (``ember.vision``), a ``DataLoader``, an ``nn.Module``, Adam, a learning-rate
schedule, a checkpoint (``ember.save``), a TensorBoard log and an ONNX export checked in
onnxruntime (when onnx/onnxruntime are installed). It trains on MNIST when MNIST
is on disk (or can be downloaded), else on the 8x8 digits bundled with ember, which reach
about 99% test accuracy in about ten seconds on two CPU cores.

Example:
    $ python -m ember demo --epochs 10 --data digits --out runs/demo
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import urllib.request
from typing import Any

import ember as torch
from ember import nn
from ember.nn import functional as F
from ember.utils.data import DataLoader, Subset
from ember.vision import datasets, transforms

__all__ = ["DemoNet", "add_arguments", "main", "run"]

# Per-dataset settings: default epochs and the training pixels' mean and std (after ToTensor).
_SETTINGS = {
    "mnist": {"epochs": 3, "mean": 0.1307, "std": 0.3081, "size": 28, "threads": None},
    "digits": {"epochs": 10, "mean": 0.3059, "std": 0.3762, "size": 8, "threads": 1},
}
_DEFAULT_ROOTS = (os.path.join("~", ".ember", "data"), "data")


class DemoNet(nn.Module):
    """Two 3x3 convolutions and a two-layer classifier for 1-channel square images.

    Args:
        image_size: the side of the input images (8 for digits, 28 for MNIST).
        num_classes: the number of classes.

    Shape:
        Input (N, 1, image_size, image_size); output (N, num_classes) logits.
    """

    def __init__(self, image_size: int, num_classes: int = 10) -> None:
        super().__init__()
        pools = 2 if image_size >= 16 else 1             # 28 -> 7, 8 -> 4
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2) if pools == 2 else nn.Identity(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = image_size // 2 ** pools
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.25),
            nn.Linear(32 * side * side, 64), nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


# -- data -----------------------------------------------------------------------------------------

def _mnist_on_disk(roots: list[str]) -> str | None:
    for root in roots:
        try:
            datasets.MNIST(root, train=False)
        except (RuntimeError, OSError):
            continue
        return root
    return None


def _mnist_reachable(timeout: float = 3.0) -> str | None:
    """None when the first MNIST mirror answers, else why not."""
    url = datasets.MNIST.mirrors[0] + datasets.MNIST.resources[-1][0]
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "ember-demo"})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return None
    except OSError as error:                             # URLError, timeouts, refused
        return str(getattr(error, "reason", error))


def _choose_data(args, log) -> tuple[str, str | None]:
    """("mnist", root) or ("digits", None), following --data and what is available."""
    roots = [args.root] if args.root else [os.path.expanduser(r) for r in _DEFAULT_ROOTS]
    if args.data == "digits":
        return "digits", None
    found = _mnist_on_disk(roots)
    if found is not None:
        return "mnist", found
    if args.data == "mnist":
        return "mnist", roots[0]                         # MNIST(download=True) fetches it
    why = _mnist_reachable()
    if why is None:
        return "mnist", roots[0]
    log(f"MNIST is not under {' or '.join(roots)} and cannot be downloaded ({why}): "
        "using the bundled 8x8 digits")
    return "digits", None


def _datasets(name: str, root: str | None):
    settings = _SETTINGS[name]
    size = settings["size"]
    normalize = transforms.Normalize((settings["mean"],), (settings["std"],))
    # ToTensor first: the crop then works on tensors, with or without Pillow installed.
    train_tf = transforms.Compose([
        transforms.ToTensor(),
        transforms.RandomCrop(size, padding=1),          # a little shift augmentation
        normalize,
    ])
    test_tf = transforms.Compose([transforms.ToTensor(), normalize])
    if name == "mnist":
        train = datasets.MNIST(root, train=True, transform=train_tf, download=True)
        test = datasets.MNIST(root, train=False, transform=test_tf, download=True)
    else:
        train = datasets.Digits(train=True, transform=train_tf)
        test = datasets.Digits(train=False, transform=test_tf)
    return train, test


# -- training -------------------------------------------------------------------------------------

def _progress(loader, desc: str, enabled: bool):
    if not enabled:
        return loader
    try:
        from tqdm import tqdm
    except ImportError:
        return loader
    return tqdm(loader, desc=desc, leave=False, unit="batch", dynamic_ncols=True)


def _evaluate(model, loader, device) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += int((model(images).argmax(dim=1) == labels).sum())
            total += len(labels)
    return correct / max(total, 1)


def _blas_threads(threads: int | None):
    """Limit NumPy's BLAS threads while the demo runs (threadpoolctl, when installed).

    The digits model's matrices are tiny: one BLAS thread is 2-3x faster there than two
    threads spinning against each other, and far faster on a busy machine.
    """
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _export_onnx(model, loader, out: str, device):
    """Export the trained model to ONNX (batch axis dynamic) and, when onnxruntime is
    installed, check that it gives ember's outputs on a test batch. Returns (path or None,
    a one-line note)."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return None, "export skipped (pip install onnx onnxruntime)"
    model.eval()
    images, _ = next(iter(loader))
    images = images.to(device)
    path = os.path.join(out, "model.onnx")
    torch.onnx.export(model, (images[:1],), path, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"},
                                                             "logits": {0: "batch"}})
    try:
        import onnxruntime
    except ImportError:
        return path, f"{path} (onnxruntime not installed: not run)"
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    with torch.no_grad():
        want = model(images).cpu().numpy()
    got = session.run(None, {"image": images.cpu().numpy()})[0]
    diff = float(abs(got - want).max())
    return path, (f"{path} (onnxruntime on {len(images)} test images: max |difference| "
                  f"{diff:.1e})")


def _summary_writer(logdir: str, log):
    try:
        from ember.utils.tensorboard import SummaryWriter
    except ImportError as error:
        log(f"TensorBoard log skipped: {error}")
        return None
    return SummaryWriter(log_dir=logdir)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate as ``args`` say (see :func:`add_arguments`); returns the summary.

    Returns:
        dict with ``data``, ``epochs``, ``accuracy`` (test, last epoch), ``losses`` (mean
        training loss per epoch), ``seconds``, ``checkpoint`` and ``logdir`` (None when
        TensorBoard is not installed).
    """
    start = time.perf_counter()
    name, root = _choose_data(args, _logger(args))
    threads = args.threads if args.threads is not None else _SETTINGS[name]["threads"]
    with _blas_threads(threads):
        return _train(args, name, root, start)


def _logger(args):
    def log(message: str) -> None:
        if not args.quiet:
            print(message, flush=True)
    return log


def _train(args, name: str, root: str | None, start: float) -> dict[str, Any]:
    """The training run proper (see :func:`run`)."""
    log = _logger(args)
    torch.manual_seed(args.seed)
    epochs = args.epochs if args.epochs is not None else _SETTINGS[name]["epochs"]
    train_set, test_set = _datasets(name, root)
    if args.subset is not None:
        train_set = Subset(train_set, range(min(args.subset, len(train_set))))
        test_set = Subset(test_set, range(min(args.subset, len(test_set))))
    log(f"ember demo: {name}, {len(train_set)} training and {len(test_set)} test images, "
        f"{epochs} epochs, {args.workers} workers, {args.device}")

    loader_generator = torch.Generator().manual_seed(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                              num_workers=args.workers, generator=loader_generator)
    test_loader = DataLoader(test_set, batch_size=256, num_workers=args.workers)

    device = torch.device(args.device)
    model = DemoNet(_SETTINGS[name]["size"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=epochs, steps_per_epoch=len(train_loader))

    os.makedirs(args.out, exist_ok=True)
    logdir = os.path.join(args.out, "tensorboard")
    writer = _summary_writer(logdir, log)
    losses, accuracy, step = [], 0.0, 0
    for epoch in range(1, epochs + 1):
        model.train()
        epoch_start, total_loss, batches = time.perf_counter(), 0.0, 0
        for images, labels in _progress(train_loader, f"epoch {epoch}/{epochs}",
                                        args.progress and not args.quiet):
            images, labels = images.to(device), labels.to(device)
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            value = loss.item()
            total_loss, batches, step = total_loss + value, batches + 1, step + 1
            if writer is not None:
                writer.add_scalar("train/loss", value, step)
        losses.append(total_loss / max(batches, 1))
        accuracy = _evaluate(model, test_loader, device)
        if writer is not None:
            writer.add_scalar("test/accuracy", accuracy, epoch)
            writer.add_scalar("train/epoch_loss", losses[-1], epoch)
        log(f"epoch {epoch:>2}/{epochs}  loss {losses[-1]:.4f}  test accuracy "
            f"{100 * accuracy:.2f}%  ({time.perf_counter() - epoch_start:.1f} s)")

    checkpoint = os.path.join(args.out, "checkpoint.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": epochs, "test_accuracy": accuracy, "data": name}, checkpoint)
    if writer is not None:
        writer.close()
    onnx_path, onnx_note = _export_onnx(model, test_loader, args.out, device)
    seconds = time.perf_counter() - start

    log("")
    log(f"checkpoint: {checkpoint}  (load with ember.load or torch.load)")
    if writer is not None:
        log(f"TensorBoard: tensorboard --logdir {logdir}")
    log(f"ONNX: {onnx_note}")
    log(f"summary: {name}, test accuracy {100 * accuracy:.2f}% after {epochs} epochs in "
        f"{seconds:.1f} s; checkpoint {checkpoint}; log dir "
        f"{logdir if writer is not None else '(none)'}")
    return {"data": name, "epochs": epochs, "accuracy": accuracy, "losses": losses,
            "seconds": seconds, "checkpoint": checkpoint,
            "logdir": logdir if writer is not None else None, "onnx": onnx_path}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's command-line options."""
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: 10 on digits, 3 on MNIST)")
    parser.add_argument("--data", choices=("auto", "mnist", "digits"), default="auto",
                        help="auto: MNIST if on disk or downloadable, else the bundled digits")
    parser.add_argument("--root", default=None,
                        help="where MNIST lives or goes (default: ~/.ember/data, then ./data)")
    parser.add_argument("--out", default=os.path.join("runs", "ember-demo"),
                        help="folder for the checkpoint and the TensorBoard log")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: 1 on digits, the BLAS default on MNIST)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subset", type=int, default=None,
                        help="use only the first N training and N test images (smoke tests)")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no tqdm progress bars")
    parser.add_argument("--quiet", action="store_true", help="print nothing")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse ``argv`` (the demo's options only) and run the demo."""
    parser = argparse.ArgumentParser(prog="python -m ember demo", description=__doc__.split(
        "\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
