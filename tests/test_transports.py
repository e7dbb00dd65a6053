"""Real transports: a stdio subprocess, streamable HTTP under uvicorn, and the MCP Inspector CLI."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from sage_mcp.config import Settings
from sage_mcp.http import plan_http
from sage_mcp.server import create_server, http_app
from tests.helpers import server_env

REPO = Path(__file__).resolve().parent.parent
INSPECTOR = REPO / ".tools" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.anyio


async def test_stdio_subprocess_lists_and_calls_tools(settings: Settings) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "sage_mcp", "serve", "--transport", "stdio"], env=server_env(settings)
    )
    for mode in ("legacy", "auto"):
        async with Client(params, mode=mode) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"list_contacts", "create_invoice", "void_invoice"} <= names
            result = await client.call_tool("list_contacts", {"items_per_page": 3})
            assert not result.is_error, result.content
            assert len(result.structured_content["items"]) == 3
            bad = await client.call_tool("list_contacts", {"items_per_page": "three"})
            assert bad.is_error and "items_per_page" in bad.content[0].text
            again = await client.call_tool("list_businesses", {})
            assert not again.is_error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(settings: Settings) -> Iterator[tuple[str, str]]:
    """The server under uvicorn on a free loopback port, guarded as `serve --transport http` is: (url, token)."""
    port = _free_port()
    security = plan_http(settings, "127.0.0.1")
    assert security.token is not None
    config = uvicorn.Config(
        http_app(create_server(settings), security), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "HTTP server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/mcp", security.token.value
    server.should_exit = True
    thread.join(timeout=10)


async def test_streamable_http_both_eras(http_server: tuple[str, str]) -> None:
    url, token = http_server
    for mode in ("auto", "legacy"):
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            tools = (await client.list_tools()).tools
            assert any(t.name == "list_invoices" for t in tools)
            result = await client.call_tool("list_invoices", {"statuses": ["PAID"], "items_per_page": 5})
            assert not result.is_error, result.content
            assert all(i["status"] == "PAID" for i in result.structured_content["items"])


def _inspector(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    assert INSPECTOR.exists(), "the MCP Inspector CLI is not installed; `make test` installs it into .tools/inspector"
    env_args: list[str] = []
    for key, value in server_env(settings).items():
        if key.startswith("SAGE_"):
            env_args += ["-e", f"{key}={value}"]
    sage_mcp = str(Path(sys.executable).parent / "sage-mcp")
    cmd = [str(INSPECTOR), "--cli", *env_args, sage_mcp, "serve", "--format", "json", "-q", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)


def test_inspector_cli_strict_tools_list_and_call(settings: Settings) -> None:
    listed = _inspector(settings, "--method", "tools/list", "--strict")
    assert listed.returncode == 0, listed.stderr
    tools = json.loads(listed.stdout)["result"]["tools"]
    assert {t["name"] for t in tools} >= {"list_businesses", "create_invoice"}
    called = _inspector(
        settings, "--method", "tools/call", "--tool-name", "list_contacts", "--tool-args-json", '{"items_per_page": 2}'
    )
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)["result"]
    assert result.get("isError") in (None, False)
    assert len(result["structuredContent"]["items"]) == 2
    refused = _inspector(
        settings, "--method", "tools/call", "--tool-name", "update_contact", "--tool-args-json", '{"contact_id": 5}'
    )
    assert refused.returncode == 5, "an isError result makes the Inspector exit 5"
    assert "tool_is_error" in refused.stderr
    assert "contact_id: expected string" in refused.stdout
