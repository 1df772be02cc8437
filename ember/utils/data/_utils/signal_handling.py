"""Worker crash reporting: fatal-signal handlers in workers, exit descriptions in the parent.

PyTorch installs C-level SIGSEGV/SIGBUS/SIGFPE handlers in workers and a SIGCHLD handler in
the main process that raises from whatever code is running when a worker dies. ember does
neither in C: workers enable ``faulthandler`` (a crash prints the worker's Python traceback
to stderr), and the main process notices a dead worker as soon as it happens because it
waits on the workers' process sentinels together with the result queue (see
``_MultiProcessingDataLoaderIter._try_get_data``), then describes the exit here.
"""

from __future__ import annotations

import contextlib
import faulthandler
import signal

# PyTorch's hints for the signals a worker most often dies of.
_HINTS = {
    "SIGBUS": " This might be caused by insufficient shared memory (shm).",
    "SIGSEGV": "",
    "SIGKILL": " It may have run out of memory (the kernel's OOM killer sends SIGKILL).",
}


def _set_worker_signal_handlers() -> None:
    """In a worker: print the Python traceback on SIGSEGV, SIGBUS, SIGFPE, SIGABRT."""
    # Without a usable stderr (closed, or an object without a file descriptor) there is
    # nowhere to print to.
    with contextlib.suppress(OSError, ValueError, AttributeError, RuntimeError):
        faulthandler.enable()


def _describe_exit(pid: int, exitcode: int | None) -> str:
    """``pid 123 was killed by signal: Killed (SIGKILL)`` or ``... exited with exit code 1``."""
    if exitcode is None:
        return f"pid {pid} is still running"
    if exitcode < 0:
        try:
            sig = signal.Signals(-exitcode)
            name, text = sig.name, signal.strsignal(sig) or sig.name
        except ValueError:
            name, text = f"signal {-exitcode}", f"signal {-exitcode}"
        return f"pid {pid} was killed by signal: {text} ({name}).{_HINTS.get(name, '')}"
    return (f"pid {pid} exited with exit code {exitcode}. Details are lost due to "
            f"multiprocessing. Rerunning with num_workers=0 may give better error trace.")
