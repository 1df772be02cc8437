"""Hogwild! training: several processes update one model in shared memory, without locks.

PyTorch's mnist_hogwild pattern on synthetic data (four Gaussian clusters in 20 dimensions):
the parent builds the model and calls ``model.share_memory()``; each process makes its own
optimizer over the shared parameters and runs ``loss.backward(); optimizer.step()`` on its
own shuffling of the data (gradients are per process, the parameters are the same memory).
The parent then evaluates the shared model. Prints the start and final loss and accuracy;
exits non-zero if the model did not learn.

    python examples/hogwild.py --num-processes 4 --epochs 3
"""

from __future__ import annotations

import argparse
import sys

import ember as torch
import ember.multiprocessing as mp
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim


class Net(nn.Module):
    def __init__(self, features: int = 20, hidden: int = 32, classes: int = 4):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def make_data(n: int, features: int = 20, classes: int = 4, seed: int = 0):
    """n samples around `classes` fixed centres; returns (inputs, targets)."""
    g = torch.Generator().manual_seed(seed)
    centres = 2.0 * torch.randn(classes, features, generator=g)
    targets = torch.randint(0, classes, (n,), generator=g)
    inputs = centres[targets] + torch.randn(n, features, generator=g)
    return inputs, targets


def train(rank: int, args, model: Net, inputs, targets) -> None:
    """One Hogwild worker: its own optimizer and shuffling, the shared parameters."""
    torch.manual_seed(args.seed + rank)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    n = inputs.shape[0]
    for _ in range(args.epochs):
        order = torch.randperm(n)
        for start in range(0, n, args.batch_size):
            idx = order[start:start + args.batch_size]
            optimizer.zero_grad()
            loss = F.nll_loss(model(inputs[idx]), targets[idx])
            loss.backward()
            optimizer.step()


def evaluate(model: Net, inputs, targets):
    """(mean loss, accuracy) of the model on the data."""
    with torch.no_grad():
        out = model(inputs)
        loss = F.nll_loss(out, targets).item()
        accuracy = (out.argmax(dim=1) == targets).float().mean().item()
    return loss, accuracy


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description="Hogwild! training with ember")
    parser.add_argument("--num-processes", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start-method", default=None,
                        help="fork, spawn or forkserver (default: the platform's)")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    inputs, targets = make_data(args.samples, seed=args.seed)
    model = Net()
    model.share_memory()     # the parameters now live in shared memory
    start_loss, start_acc = evaluate(model, inputs, targets)
    print(f"start loss {start_loss:.4f}  accuracy {start_acc:.3f}")

    ctx = mp.get_context(args.start_method)
    processes = []
    for rank in range(args.num_processes):
        p = ctx.Process(target=train, args=(rank, args, model, inputs, targets))
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
    failed = [p.exitcode for p in processes if p.exitcode != 0]
    if failed:
        raise RuntimeError(f"hogwild: {len(failed)} worker(s) failed, exit codes {failed}")

    loss, accuracy = evaluate(model, inputs, targets)
    print(f"final loss {loss:.4f}  accuracy {accuracy:.3f}")
    return {"start_loss": start_loss, "loss": loss, "accuracy": accuracy}


if __name__ == "__main__":
    result = main()
    sys.exit(0 if result["accuracy"] > 0.9 and result["loss"] < 0.5 * result["start_loss"]
             else 1)
