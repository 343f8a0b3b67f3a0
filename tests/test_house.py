"""House rules from STYLE.md, enforced: module sizes and the layering between packages."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("core", "gui", "bench") for p in (ROOT / d).rglob("*.py")) + [ROOT / "main.py"]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_under_800_lines(path):
    assert len(path.read_text().splitlines()) <= 800


@pytest.mark.parametrize("path", [p for p in SOURCES if p.is_relative_to(ROOT / "core")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_core_is_free_of_qt_and_imports_only_downwards(path):
    names = imports(path)
    roots = {n.split(".")[0] for n in names}
    assert not roots & {"PySide6", "pyqtgraph", "gui"}, "no Qt below core/"
    if "cupy" in roots:
        assert path.name == "cupy_device.py", "cupy is imported only by the CUDA device"
    package = path.relative_to(ROOT / "core").parts[0]
    allowed = {"graph": set(), "devices": set(), "compiler": {"graph", "devices"},
               "training": {"graph", "devices", "compiler"},
               "export": {"graph", "devices", "compiler", "training"}}.get(package)
    if allowed is None:
        return
    used = {n.split(".")[1] for n in names if n.startswith("core.") and n.count(".") >= 1}
    assert used <= allowed | {package}, f"core.{package} may import {sorted(allowed)}, imports {sorted(used)}"
