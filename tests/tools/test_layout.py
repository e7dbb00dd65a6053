"""Each toolset module holds only its own tools: machinery two toolsets share lives in ``tools/_*.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import sage_mcp.tools

TOOLS = Path(sage_mcp.tools.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "sage_mcp.tools":
                names.update(f"sage_mcp.tools.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_toolset_module_imports_another_toolset_module() -> None:
    toolsets = {p.stem for p in TOOLS.glob("*.py") if not p.stem.startswith("_")}
    offenders = []
    for path in sorted(TOOLS.glob("*.py")):
        if path.stem == "__init__":
            continue  # the registry of every toolset's handlers
        for module in _imported_modules(path):
            prefix, _, last = module.rpartition(".")
            if prefix == "sage_mcp.tools" and last in toolsets and last != path.stem:
                offenders.append(f"{path.name} imports {module}")
    assert offenders == []
