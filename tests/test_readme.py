"""The README's tool table is generated from tool_schemas/ and must not go stale; its client configs have the
shape each client reads."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from sage_mcp.registry import catalogue_markdown
from tests.client_shapes import PLACEHOLDER, problems, shapes

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


def _json_under(heading: str) -> list[Any]:
    """The JSON blocks of the README section that starts with ``heading``."""
    section = README.read_text().split("\n" + heading + "\n", 1)[1].split("\n#", 1)[0]
    return [json.loads(block.split("```", 1)[0]) for block in section.split("```json\n")[1:]]


@pytest.mark.parametrize(
    ("heading", "client"),
    [
        ("### Claude Desktop", "claude_desktop"),
        ("### VS Code", "vscode"),
        ("### Cursor", "cursor"),
        ("### Any streamable-HTTP client", "http"),
    ],
)
def test_readme_client_configs_have_their_clients_shape(heading: str, client: str) -> None:
    (config,) = _json_under(heading)
    assert not (errors := problems(config, shapes(PLACEHOLDER)[client])), errors
    entry = next(iter(next(iter(config.values())).values()))
    if "command" in entry:  # stdio: the published package, run by uvx, with the two Sage credentials
        assert (entry["command"], entry["args"]) == ("uvx", ["sage-accounting-mcp", "serve"])
        assert set(entry["env"]) == {"SAGE_CLIENT_ID", "SAGE_CLIENT_SECRET"}


def test_readme_names_the_published_package_everywhere_it_installs() -> None:
    text = README.read_text()
    assert "uvx sage-accounting-mcp demo" in text
    assert "uvx sage-mcp" not in text and "pipx install sage-mcp" not in text and "pip install sage-mcp" not in text
