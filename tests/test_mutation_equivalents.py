"""``tests/mutation-equivalents.md`` is read by ``make mutation`` (``bench/mutation.py``) to tell listed
survivors from open ones: every entry must parse, and name a function that exists in its file."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _mutation_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_mutation", REPO / "bench" / "mutation.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_list_is_read_as_written_ranges_and_continuations_included() -> None:
    mutation = _mutation_module()
    text = (
        "## sage_mcp/x.py\n\n| mutant | mutation | why |\n|---|---|---|\n"
        "| `x_f__mutmut_3`, `_5`, `_7` … `_9`; `xǁCǁm__mutmut_1` | … | the reason |\n"
    )
    assert mutation.listed_equivalents(text) == {
        "sage_mcp/x.py": {
            "x_f__mutmut_3", "x_f__mutmut_5", "x_f__mutmut_7", "x_f__mutmut_8", "x_f__mutmut_9",
            "xǁCǁm__mutmut_1",
        }
    }  # fmt: skip


def test_every_listed_mutant_names_a_function_of_its_file() -> None:
    mutation = _mutation_module()
    listed = mutation.listed_equivalents((REPO / "tests" / "mutation-equivalents.md").read_text(encoding="utf-8"))
    mutated = {f for m in mutation.MODULES for f in m.files}
    assert listed and set(listed) <= mutated
    for path, names in listed.items():
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        methods = {
            f"{c.name}ǁ{n.name}"
            for c in tree.body
            if isinstance(c, ast.ClassDef)
            for n in c.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for name in names:
            target = name.rsplit("__mutmut_", 1)[0]
            if target.startswith("xǁ"):
                assert target[2:] in methods, f"{path}: {name} names no method"
            else:
                assert target[2:] in functions, f"{path}: {name} names no function"
