"""`sage-mcp demo` end to end: a client configured from what the demo prints (URL and bearer token) lists
contacts, raises an invoice with the right totals, voids it; without the token it gets 401."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sage_mcp.registry import Registry
from tests.client_shapes import REAL_TOKEN, problems, shapes

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


NEW_CONTACT = '{"name": "Quillfeather Imports Ltd", "contact_type": "customer"}'


def _json_block(output: str, title: str) -> dict[str, Any]:
    """The JSON block printed under the line starting with ``title``."""
    rest = output.split("\n" + title, 1)[1].split("\n", 1)[1]
    return dict(json.loads(rest.split("\n\n", 1)[0]))


#: The heading each config is printed under -> the client whose shape it must have.
TITLES = {
    "VS Code (.vscode/mcp.json):": "vscode",
    "Cursor (~/.cursor/mcp.json):": "cursor",
    "Any streamable-HTTP client": "http",
    "Claude Desktop (claude_desktop_config.json": "claude_desktop",
}


def _printed_configs(output: str) -> dict[str, dict[str, Any]]:
    """Every config the demo printed, each validated against its client's shape."""
    configs = {}
    for title, client in TITLES.items():
        config = _json_block(output, title)
        assert not (errors := problems(config, shapes(REAL_TOKEN)[client])), (title, errors, config)
        configs[title] = config
    return configs


def _printed_config(output: str) -> tuple[str, dict[str, str]]:
    """The URL and headers the demo printed, the same in every HTTP config and its Claude Code line."""
    configs = _printed_configs(output)
    server = configs["Any streamable-HTTP client"]["mcpServers"]["sage-demo"]
    assert configs["VS Code (.vscode/mcp.json):"]["servers"]["sage-demo"] == server
    cursor = configs["Cursor (~/.cursor/mcp.json):"]["mcpServers"]["sage-demo"]
    assert (cursor["url"], cursor["headers"]) == (server["url"], server["headers"])
    desktop = configs["Claude Desktop (claude_desktop_config.json"]["mcpServers"]["sage-demo"]
    assert Path(desktop["command"]).is_absolute() and Path(desktop["command"]).exists()
    assert desktop["args"] == ["demo", "--stdio"]
    line = next(line for line in output.splitlines() if line.strip().startswith("claude mcp add"))
    words = shlex.split(line)
    assert words[words.index("--transport") + 1] == "http" and server["url"] in words
    assert words[words.index("--header") + 1] == "Authorization: " + server["headers"]["Authorization"]
    return server["url"], server["headers"]


def _try_line(output: str) -> list[str]:
    """The command the demo says to try without a client, split as a POSIX shell would."""
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Try it without a client"))
    return shlex.split(lines[at + 1])


async def test_demo_command_serves_a_working_sandbox(tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "demo.log").open("w")
    env = {k: v for k, v in os.environ.items() if k != "SAGE_MCP_HTTP_TOKEN"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "sage-mcp"), "demo", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "demo did not start listening"
                time.sleep(0.1)
        deadline = time.monotonic() + 10
        while "Press Ctrl+C" not in (tmp_path / "demo.log").read_text():
            assert time.monotonic() < deadline, "the demo did not print its client configs"
            time.sleep(0.05)
        url, headers = _printed_config((tmp_path / "demo.log").read_text())
        assert url == f"http://127.0.0.1:{port}/mcp"
        assert re.fullmatch(r"Bearer [A-Za-z0-9_-]{32,}", headers["Authorization"])
        async with httpx2.AsyncClient(timeout=10) as bare:
            refused = await bare.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            contacts = await client.call_tool("list_contacts", {"search": "bright"})
            names = [c["name"] for c in contacts.structured_content["items"]]
            assert "Brightwater Consulting Ltd" in names
            customer = next(c for c in contacts.structured_content["items"] if c["type"] == "customer")
            created = await client.call_tool(
                "create_invoice",
                {
                    "contact_id": customer["id"],
                    "lines": [
                        {"description": "Design work", "quantity": "2.5", "unit_price": "80.00"},
                        {"description": "Print", "quantity": "1", "unit_price": "19.99", "tax_rate_id": "GB_LOWER"},
                    ],
                },
            )
            invoice = created.structured_content
            assert not created.is_error, created.content
            # 2.5 × 80.00 = 200.00 at the account's 20% → 40.00; 19.99 at 5% = 0.9995 → 1.00
            assert (invoice["net"], invoice["tax"], invoice["total"]) == ("219.99", "41.00", "260.99")
            voided = await client.call_tool("void_invoice", {"id": invoice["id"], "reason": "demo"})
            assert voided.structured_content["status"] == "VOID"

            # The printed "try it" command works as printed, and `call --sandbox --db` shares the demo's books.
            words = _try_line((tmp_path / "demo.log").read_text())
            tried = subprocess.run(words, capture_output=True, text=True, timeout=120, env=env)
            assert tried.returncode == 0 and "Brightwater Consulting Ltd" in tried.stdout, tried.stderr
            db = words[words.index("--db") + 1]
            made = subprocess.run(
                [*words[: words.index("call") + 1], "--sandbox", "--db", db, "--json", "create_contact", NEW_CONTACT],
                capture_output=True,
                text=True,
                timeout=120,
                env=env,
            )
            assert made.returncode == 0, made.stderr
            found = await client.call_tool("list_contacts", {"search": "quillfeather"})
            assert [c["id"] for c in found.structured_content["items"]] == [json.loads(made.stdout)["id"]]
        output = (tmp_path / "demo.log").read_text()
        assert f"http://127.0.0.1:{port}/mcp" in output and "mcpServers" in output
        # The default toolsets, as `serve` offers them (not every toolset).
        assert "Tools: " + ", ".join(Registry.build().toolsets) + " (" in output
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
