"""Shared fixtures: small generated operators, built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from groupscope.synth.generate import generate
from groupscope.synth.params import SynthParams

SMALL = dict(months=("2026-09", "2026-10"), subscribers=2500, seed=11)


@pytest.fixture(scope="session")
def small_operator(tmp_path_factory) -> tuple[Path, Path]:
    """A clean two-month landing zone and its truth folder."""
    root = tmp_path_factory.mktemp("op")
    generate(SynthParams(**SMALL), root / "landing")
    return root / "landing", root / "landing_truth"


@pytest.fixture(scope="session")
def faulty_operator(tmp_path_factory) -> tuple[Path, Path]:
    """The same operator as small_operator, with every kind of fault injected."""
    root = tmp_path_factory.mktemp("opf")
    generate(SynthParams(**SMALL, faults=True), root / "landing")
    return root / "landing", root / "landing_truth"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
