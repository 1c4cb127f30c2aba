"""Errors shared by every stage of groupscope."""

from __future__ import annotations


class StopRun(RuntimeError):
    """The run must stop; str(e) is the one-line reason (the CLI prints it and exits 2)."""
