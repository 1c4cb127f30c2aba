"""Imports point down (docs/architecture.md): dags -> pipelines -> transforms / expectations -> groupscope.
Read from the source with ast, so an import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAG_MODULES = {"dags"} | {p.stem for p in (ROOT / "dags").glob("*.py")}
# package -> the top-level modules it must not import
FORBIDDEN = {
    "groupscope": {"pipelines", "transforms", "expectations"} | DAG_MODULES,
    "transforms": {"pipelines"} | DAG_MODULES,
    "expectations": {"pipelines"} | DAG_MODULES,
    "pipelines": DAG_MODULES,
}


def _imported(source: str) -> set[str]:
    """The top-level modules a source imports (absolute imports; relative ones stay in their package)."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_every_import_points_down():
    assert _imported("def f():\n    from pipelines.run import x\n    import dags.y\n") == {"pipelines", "dags"}
    upward = []
    for package, forbidden in FORBIDDEN.items():
        files = sorted((ROOT / package).rglob("*.py"))
        assert files, f"no sources under {package}/"
        for f in files:
            bad = _imported(f.read_text(encoding="utf-8")) & forbidden
            upward += [f"{f.relative_to(ROOT)} imports {m}" for m in sorted(bad)]
    assert not upward, "upward imports:\n" + "\n".join(upward)
