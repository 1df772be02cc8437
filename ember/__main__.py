"""``python -m ember COMMAND``: ember's command line.

Commands:
    demo   train a small CNN (MNIST or the bundled digits) with checkpoint and TensorBoard log
    info   versions of ember, Python and NumPy, and which optional packages are installed
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys


def _info(args: argparse.Namespace) -> int:
    import numpy

    import ember

    print(f"ember {getattr(ember, '__version__', 'unknown')}")
    print(f"python {platform.python_version()} ({sys.executable})")
    print(f"numpy {numpy.__version__}")
    for package in ("cupy", "tqdm", "tensorboard", "safetensors", "PIL", "onnx", "mpi4py"):
        found = importlib.util.find_spec(package) is not None
        print(f"{package}: {'installed' if found else 'not installed'}")
    print(f"cuda available: {ember.cuda.is_available()}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ember import demo

    demo.run(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m ember",
        description="ember: PyTorch's programming model over NumPy and CuPy.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo_parser = commands.add_parser(
        "demo", help="train a small CNN end to end (MNIST or the bundled digits)",
        description="Train a small CNN with ember: DataLoader, Adam, checkpoint, TensorBoard.")
    from ember.demo import add_arguments
    add_arguments(demo_parser)
    demo_parser.set_defaults(func=_demo)
    info_parser = commands.add_parser("info", help="versions and optional packages")
    info_parser.set_defaults(func=_info)

    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:                  # output piped into `head` and closed: not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
