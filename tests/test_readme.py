"""The README's tool table is generated from tool_schemas/ and must not go stale."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sage_mcp.registry import catalogue_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- BEGIN TOOLS -->\n)(.*?)(<!-- END TOOLS -->)", re.S)


def test_readme_tool_table_is_current() -> None:
    text = README.read_text()
    expected = catalogue_markdown() + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        text = BLOCK.sub(lambda m: m.group(1) + expected + m.group(3), text)
        README.write_text(text)
    match = BLOCK.search(text)
    assert match, "README.md lost its <!-- BEGIN TOOLS --> / <!-- END TOOLS --> markers"
    assert match.group(2) == expected, "README tool table is stale: run UPDATE_SNAPSHOTS=1 pytest tests/test_readme.py"


def test_quickstart_starts_with_the_two_commands() -> None:
    text = README.read_text()
    quick = text.split("## Quickstart", 1)[1]
    first_block = quick.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]
