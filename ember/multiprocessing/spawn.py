"""spawn / start_processes: run fn(i, *args) in nprocs processes and report the first failure."""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import tempfile
import time
import traceback
import warnings

__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessException",
           "ProcessRaisedException", "ProcessExitedException"]


class ProcessException(Exception):
    """A process started by ``spawn`` failed; ``error_index`` and ``error_pid`` say which."""

    def __init__(self, msg: str, error_index: int, error_pid: int):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised an exception; the message holds the child's traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process died from a signal or exited with a non-zero code."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int,
                 signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code,
                            self.signal_name)


def _run_child(fn, i, args, error_file):
    # Note [spawn error files]
    #     A child reports an exception by writing its formatted traceback to a file the parent
    #     named, then exits with code 1. A file (not a pipe or queue) can never block the
    #     child however long the traceback, and it is one-shot, so the parent reads it only
    #     after the child is gone. No file means the child died some other way (signal, exit).
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass            # the parent is shutting everything down
    except Exception:
        with open(error_file, "w", encoding="utf-8") as fh:
            fh.write(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes started by ``spawn(..., join=False)``; ``join()`` waits for them."""

    def __init__(self, processes, error_files, error_dir=None):
        self.processes = processes
        self.error_files = error_files
        self._error_dir = error_dir
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list:
        """The process ids, in index order."""
        return [int(p.pid) for p in self.processes]

    def join(self, timeout: float | None = None, grace_period: float | None = None) -> bool:
        """Wait for the processes; True when all have exited successfully, False when some
        still run after ``timeout`` seconds.

        When one fails, the others are terminated (after ``grace_period`` seconds, if given)
        and the failure is raised: ``ProcessRaisedException`` with the child's traceback, or
        ``ProcessExitedException`` for a signal or a non-zero exit code.
        """
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            process = self.processes[index]
            process.join()
            if process.exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        self._stop_all(grace_period)
        self._raise(failed)

    def _stop_all(self, grace_period):
        if grace_period is not None:
            self._wait_all(grace_period)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        # SIGTERM may go unhandled while a child's main thread is stuck in C code: then kill.
        self._wait_all(30 if grace_period is None else grace_period)
        for p in self.processes:
            if p.is_alive():
                p.kill()
            p.join()
        self.sentinels.clear()

    def _wait_all(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            alive = [p.sentinel for p in self.processes if p.is_alive()]
            left = deadline - time.monotonic()
            if not alive or left <= 0:
                return
            multiprocessing.connection.wait(alive, timeout=left)

    def _raise(self, index):
        process = self.processes[index]
        path = self.error_files[index]
        if not os.path.exists(path):
            code = process.exitcode
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f"<Unknown signal {-code}>"
                raise ProcessExitedException(f"process {index} terminated with signal {name}",
                                             index, process.pid, code, name)
            raise ProcessExitedException(f"process {index} terminated with exit code {code}",
                                         index, process.pid, code)
        with open(path, encoding="utf-8") as fh:
            trace = fh.read()
        raise ProcessRaisedException(
            f"\n\n-- Process {index} terminated with the following error:\n{trace}",
            index, process.pid)

    def __del__(self):
        for path in getattr(self, "error_files", ()):
            with contextlib.suppress(OSError):
                os.unlink(path)
        if getattr(self, "_error_dir", None) is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self._error_dir)


def start_processes(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn"):
    """Start ``nprocs`` processes running ``fn(i, *args)`` with any start method.

    Returns:
        None after all processes succeeded (``join=True``), else a ``ProcessContext``.
    """
    ctx = multiprocessing.get_context(start_method)
    error_dir = tempfile.mkdtemp(prefix="ember-spawn-")
    error_files = [os.path.join(error_dir, f"error-{i}.txt") for i in range(nprocs)]
    processes = []
    for i in range(nprocs):
        p = ctx.Process(target=_run_child, args=(fn, i, args, error_files[i]), daemon=daemon)
        p.start()
        processes.append(p)
    context = ProcessContext(processes, error_files, error_dir)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn, args=(), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn"):
    """Spawn ``nprocs`` processes that run ``fn(i, *args)``, ``i`` being the process index.

    If a process fails, the others are terminated and the parent raises
    ``ProcessRaisedException`` (the child raised; its traceback is in the message) or
    ``ProcessExitedException`` (killed by a signal, or a non-zero exit code).

    Args:
        fn: a function defined at the top level of a module (it is pickled).
        args: extra positional arguments for ``fn``.
        nprocs: the number of processes.
        join: wait for all processes (else return a ``ProcessContext``).
        daemon: the processes' daemon flag.
        start_method: kept for PyTorch compatibility; always 'spawn' (use
            ``start_processes`` for another start method).

    Returns:
        None when ``join`` is True, else a ``ProcessContext``.
    """
    if start_method != "spawn":
        warnings.warn(f"This method only supports start_method=spawn (got: {start_method}).\n"
                      "To use a different start_method use:\n\t\t "
                      "torch.multiprocessing.start_processes(...)", FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
