"""Documents generated from code: `python -m groupscope.docs` rewrites them, a test keeps them in sync."""

from __future__ import annotations

from pathlib import Path

from groupscope.config import defaults_yaml
from groupscope.contract import contract_markdown
from groupscope.reporting.dictionary import reporting_markdown

GENERATED = {
    "docs/contract.md": contract_markdown,
    "docs/groupscope.example.yaml": defaults_yaml,
    "docs/reporting.md": reporting_markdown,
}


def write_all(root: Path) -> list[Path]:
    out = []
    for rel, fn in GENERATED.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(fn(), encoding="utf-8")
        out.append(p)
    return out


if __name__ == "__main__":
    for p in write_all(Path.cwd()):
        print(f"wrote {p}")
