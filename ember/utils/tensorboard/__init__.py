"""TensorBoard logging: ``SummaryWriter`` writes event files that TensorBoard reads.

Needs the ``tensorboard`` package (``pip install ember[tensorboard]``); importing this
module without it raises ImportError, as ``torch.utils.tensorboard`` does.
"""

from __future__ import annotations


def _check_tensorboard() -> None:
    try:
        import tensorboard
    except ImportError as e:
        raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above "
                          "(pip install tensorboard)") from e
    version = getattr(tensorboard, "__version__", "0")
    numbers = []
    for part in version.split(".")[:2]:
        digits = "".join(c for c in part if c.isdigit())
        numbers.append(int(digits) if digits else 0)
    if tuple(numbers) < (1, 15):
        raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above "
                          f"(found {version})")


_check_tensorboard()

from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
