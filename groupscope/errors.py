"""Errors shared by every stage of groupscope."""

from __future__ import annotations


class StopRun(RuntimeError):
    """The run must stop; str(e) is the one-line reason (the CLI prints it and exits 2)."""


def first_line(e: BaseException) -> str:
    """An exception's first line of text, or its type's name when it has none: what a one-line message quotes."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
