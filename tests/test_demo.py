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

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _printed_config(output: str) -> tuple[str, dict[str, str]]:
    """The URL and headers of the JSON client config the demo printed, checked against its Claude Code line."""
    block = output.split("Or any client that takes a JSON config:\n", 1)[1].split("\n\n", 1)[0]
    server = json.loads(block)["mcpServers"]["sage-demo"]
    line = next(line for line in output.splitlines() if line.strip().startswith("claude mcp add"))
    words = shlex.split(line)
    assert words[words.index("--transport") + 1] == "http" and server["url"] in words
    assert words[words.index("--header") + 1] == "Authorization: " + server["headers"]["Authorization"]
    return server["url"], server["headers"]


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
        output = (tmp_path / "demo.log").read_text()
        assert f"http://127.0.0.1:{port}/mcp" in output and "mcpServers" in output
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
