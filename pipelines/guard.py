"""The work directory's guards: one run at a time, and a full disk as one clear line.

`work_lock` holds an advisory lock on WORK/.lock for as long as a run (or a day's staging) uses the
work directory. A month's run takes it exclusively; the staging of single days (Airflow tasks that run
side by side on different partitions) takes it shared, so they exclude a month's run but not each
other. A second run finds the lock taken and stops at once with `WorkDirBusy`, before it touches any
file. The lock is released by the operating system when the process ends, also after kill -9.

`is_disk_full` tells a write that failed for want of space (ENOSPC, EDQUOT, and DuckDB's own
messages for them) from a damaged input file, so that it is never reported as a bad source.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".lock"
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
DISK_FULL_TEXT = ("no space left on device", "disk quota exceeded", "async write failed", "file too large",
                  "could not write all bytes", "disk is full")


class WorkDirBusy(RuntimeError):
    """Another process is running on this work directory."""


class DiskFull(RuntimeError):
    """A write under the work directory failed for want of space."""


def is_disk_full(e: BaseException) -> bool:
    if isinstance(e, OSError) and e.errno in DISK_FULL_ERRNOS:
        return True
    text = str(e).lower()
    return any(t in text for t in DISK_FULL_TEXT)


_held: dict[str, tuple[int, bool]] = {}  # lock path -> (depth, exclusive) held by this process
_held_guard = threading.Lock()


@contextmanager
def work_lock(work: Path, shared: bool = False) -> Iterator[None]:
    """Hold the work directory's lock (re-entrant within the process)."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    path = str(work.resolve() / LOCK_FILE)
    with _held_guard:
        if path in _held:
            depth, exclusive = _held[path]
            _held[path] = (depth + 1, exclusive)
            fd = None
        else:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = _holder(path)
                raise WorkDirBusy(
                    f"another run of this work directory is in progress ({work}{holder}); "
                    "wait for it to finish or use another work_dir"
                ) from None
            if not shared:
                os.ftruncate(fd, 0)
                os.write(fd, str(os.getpid()).encode())
            _held[path] = (1, not shared)
    try:
        yield
    finally:
        with _held_guard:
            depth, exclusive = _held[path]
            if depth > 1:
                _held[path] = (depth - 1, exclusive)
            else:
                del _held[path]
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)


def _holder(path: str) -> str:
    try:
        pid = int(Path(path).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return ""
    return f", process {pid}"


@contextmanager
def disk_errors(work: Path) -> Iterator[None]:
    """Turn a failed write for want of space into DiskFull with one line naming the work directory."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as e:
        if not is_disk_full(e):
            raise
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        first = first.split(': {"exception_type"')[0][:160]  # DuckDB appends its error as JSON
        raise DiskFull(f"no space left under the work directory {work} ({first}); free space and run again") from None
