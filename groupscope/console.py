"""What groupscope prints while it works: logging set-up, progress bars, and silence for libraries' noise.

- `setup_logging(verbosity, json_lines)` is called once by the command line: by default and with `-q` only
  warnings and errors are logged (the command prints its result on stdout; `-q` also hides the progress bars),
  `-v` adds one line per stage and per table, check and load (`-vv` also the libraries' own debug lines).
  With `--log-json` (or GROUPSCOPE_LOG_FORMAT=json) every record is one JSON object on stderr, with the
  record's `extra` fields (stage, period, rows...) as keys, for log collectors.
- Under Airflow nothing is set up here: records go through the `groupscope.*` loggers to Airflow's own
  (structured) task logging; `batch_mode()` (called by the DAG wiring) turns progress bars off.
- `progress(total, label)` draws a bar on stderr only when stderr is a terminal, neither `--quiet` nor batch
  mode is on, and GROUPSCOPE_PROGRESS is not 0; otherwise it does nothing at all.
- Libraries' noise is cut at import of groupscope (see `quiet_libraries`).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
import time
import warnings

_state = {"progress": True, "batch": False}

# Loggers of libraries that speak at INFO about their own internals. Great Expectations logs one
# "Skipping registering function ..." line per decorated function at import (7,062 lines in one month's
# Airflow task log); its progress bars and usage statistics are off as well.
NOISY = {
    "great_expectations": logging.WARNING,
    "great_expectations._docs_decorators": logging.ERROR,
    "alembic": logging.WARNING,
    "alembic.runtime.migration": logging.WARNING,
    "matplotlib": logging.WARNING,
    "numexpr": logging.WARNING,
    "urllib3": logging.WARNING,
}


# Warnings known to be harmless here (the same list as pytest's filterwarnings in pyproject.toml):
# pandas under GX's regex metric warns on any pattern with a group (the suites' anchors have groups);
# DuckDB 2.0 notes the copy of Arrow output from execute().
QUIET_WARNINGS = [
    "This pattern is interpreted as a regular expression",
    "Arrow output on a DB-API result makes an extra copy",
]


def quiet_libraries() -> None:
    """Raise the threshold of noisy library loggers; must run before those libraries are imported."""
    for name, level in NOISY.items():
        logging.getLogger(name).setLevel(level)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    # PySpark 4.3 warns at import that pandas 3 is not fully supported; the Spark engine keeps its side on
    # Spark DataFrames and Arrow (pipelines/engine.py), and Great Expectations imports PySpark when present
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any `extra` fields."""

    _std = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out |= {k: v for k, v in vars(record).items() if k not in self._std and not k.startswith("_")}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            text = f"{record.levelname.lower()}: {text}"
        return text


def setup_logging(verbosity: int = 0, json_lines: bool | None = None, stream=None) -> None:
    """Configure the `groupscope` loggers for the command line. verbosity: -1 quiet, 0 normal, 1 verbose,
    2 verbose including libraries' debug output."""
    if json_lines is None:
        json_lines = os.environ.get("GROUPSCOPE_LOG_FORMAT", "").lower() == "json"
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else _TextFormatter())
    # Default: warnings only (a bar shows progress on a terminal, the command prints its result; an error is its
    # one line); JSON lines for a collector carry the stage records too. -v: stages and detail.
    level = {-1: logging.WARNING, 0: logging.INFO if json_lines else logging.WARNING}.get(verbosity, logging.DEBUG)
    handler._groupscope = True  # replaced, not duplicated, when set up again in one process
    gs = logging.getLogger("groupscope")
    gs.setLevel(level)
    gs.propagate = False
    root = logging.getLogger()
    for lg in (gs, root):
        lg.handlers[:] = [h for h in lg.handlers if not getattr(h, "_groupscope", False)] + [handler]
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    if verbosity < 2:
        quiet_libraries()
        for message in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
    if verbosity < 1:  # libraries' notes to their own developers, not to a user of groupscope
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category)
        warnings.filterwarnings("ignore", module=r"(great_expectations|pandas|pyarrow|duckdb|sqlalchemy|alembic)\b")
    _state["progress"] = verbosity >= 0 and not json_lines


def get_logger(name: str) -> logging.Logger:
    """A logger under `groupscope.` (module names of pipelines/ and transforms/ are put beneath it)."""
    return logging.getLogger(name if name.startswith("groupscope") else f"groupscope.{name}")


def batch_mode() -> None:
    """For scheduler tasks (Airflow): no progress bars, and no leak report of DuckDB's bindings at exit.

    DuckDB's Python module (nanobind) prints `nanobind: leaked N instances!` and a line per object at
    interpreter teardown when objects are still referenced then (Great Expectations and the DuckDB
    SQLAlchemy driver keep some); nothing is lost, every connection is closed by then. At exit, after the
    logs are flushed, stderr is pointed at /dev/null so that teardown stays silent."""
    _state["batch"] = True
    if not _state.get("exit_hook"):
        _state["exit_hook"] = True
        atexit.register(silence_teardown)


def silence_teardown() -> None:
    """Flush every log handler and standard stream, then send stderr (fd 2) to /dev/null."""
    for s in [*logging.getLogger().handlers, *logging.getLogger("groupscope").handlers, sys.stdout, sys.stderr]:
        try:
            s.flush()
        except (OSError, ValueError):  # a stream closed already
            pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    except OSError:
        pass


def progress_enabled(stream=None) -> bool:
    stream = stream or sys.stderr
    if not _state["progress"] or _state["batch"] or os.environ.get("GROUPSCOPE_PROGRESS", "") == "0":
        return False
    if os.environ.get("AIRFLOW_CTX_DAG_ID"):  # a task of an Airflow DAG
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """A one-line bar `label  [#####.....]  12/31  3.4 s` on a terminal; silent elsewhere. Thread-safe."""

    def __init__(self, total: int, label: str, stream=None, enabled: bool | None = None, width: int = 28):
        self.total, self.label, self.width = max(int(total), 0), label, width
        self.stream = stream or sys.stderr
        self.enabled = progress_enabled(self.stream) if enabled is None else enabled
        self.done = 0
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._lock = threading.Lock()

    def advance(self, n: int = 1) -> None:
        with self._lock:
            self.done = min(self.done + n, self.total) if self.total else self.done + n
            now = time.perf_counter()
            if self.enabled and (now - self._last >= 0.1 or self.done == self.total):
                self._last = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        if self.total:
            filled = int(self.width * self.done / self.total)
            bar = "#" * filled + "." * (self.width - filled)
            text = f"\r{self.label:<22} [{bar}] {self.done:>5}/{self.total:<5} {now - self.t0:6.1f} s"
        else:
            text = f"\r{self.label:<22} {self.done:>7} {now - self.t0:6.1f} s"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * (self.width + 60) + "\r")
            self.stream.flush()

    def __enter__(self) -> Progress:
        _active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        if _active and _active[-1] is self:
            _active.pop()
        self.close()


_active: list[Progress] = []


def progress(total: int, label: str) -> Progress:
    """`with progress(n, "ingest") as bar: ... bar.advance()`; code below may call `advance()` instead."""
    return Progress(total, label)


def advance(n: int = 1) -> None:
    """Advance the innermost open bar, if any (for code that does not hold the bar itself)."""
    if _active:
        _active[-1].advance(n)
