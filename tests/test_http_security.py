"""HTTP is guarded on every bind: a bearer token on every request, Host and Origin allow-lists, and no
way to start without authentication except on loopback with a flag that says it is unsafe.

Real uvicorn servers on free 127.0.0.1 / 127.0.0.2 ports (127.0.0.2 stands in for a network
interface: Linux routes all of 127/8 to lo), started and stopped by the tests.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sage_mcp.config import Settings
from sage_mcp.http import AllowList, HttpSecurity, HttpSetupError, load_or_create_token, plan_http
from sage_mcp.server import create_server, http_app
from tests.helpers import server_env

REPO = Path(__file__).resolve().parent.parent
INSPECTOR = REPO / ".tools" / "inspector" / "node_modules" / ".bin" / "mcp-inspector"
SAGE_MCP = str(Path(sys.executable).parent / "sage-mcp")
ENV_TOKEN = "env-token-0123456789abcdef"

pytestmark = pytest.mark.anyio


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Settings, security: HttpSecurity) -> Iterator[str]:
    """The MCP server behind ``security`` under uvicorn on a free port of its host; yields the /mcp URL."""
    port = _free_port(security.host)
    config = uvicorn.Config(
        http_app(create_server(settings), security), host=security.host, port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "HTTP server did not start"
        time.sleep(0.02)
    try:
        yield f"http://{security.host}:{port}/mcp"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def mcp_client(url: str, token: str | None, mode: str = "auto") -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def post(url: str, headers: dict[str, str] | None = None, body: Any = None) -> httpx2.Response:
    """One raw MCP POST (an initialize unless ``body`` says otherwise)."""
    base = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    with httpx2.Client(timeout=10) as http:
        return http.post(url, headers={**base, **(headers or {})}, content=json.dumps(body or INITIALIZE))


def bearer(security: HttpSecurity) -> dict[str, str]:
    assert security.token is not None
    return {"Authorization": f"Bearer {security.token.value}"}


# -- the bearer token ----------------------------------------------------------------------------


async def test_no_credential_or_a_wrong_one_gets_401_and_nothing_runs(settings: Settings) -> None:
    security = plan_http(settings, "127.0.0.1")
    assert security.token is not None
    with serving(settings, security) as url:
        missing = post(url)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer ")
        assert "error=" not in missing.headers["www-authenticate"]  # RFC 6750: no credential, no error code
        for credential in (
            "Bearer wrong-token-wrong-token-wrong",
            "Bearer " + security.token.value[:-1],
            "Bearer " + security.token.value + "x",
            "Basic " + security.token.value,
            security.token.value,
            "Bearer",
        ):
            refused = post(url, {"Authorization": credential})
            assert refused.status_code == 401, credential
            assert refused.headers["www-authenticate"].startswith("Bearer "), credential
        wrong = post(url, {"Authorization": "Bearer wrong-token-wrong-token-wrong"})
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        # The static token advertises no authorization server (there is none).
        assert "resource_metadata" not in wrong.headers["www-authenticate"]
        metadata = url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
        assert post(metadata, bearer(security)).status_code == 404

        # A write with a wrong token does not happen: a 2026-era single POST of tools/call.
        name = "Wrong Token Trading Ltd"
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {
                "name": "create_contact",
                "arguments": {"name": name, "contact_type": "CUSTOMER"},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        }
        era = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "create_contact"}
        assert post(url, {**era, "Authorization": "Bearer wrong-token-wrong-token-wrong"}, call).status_code == 401
        assert post(url, era, call).status_code == 401
        async with mcp_client(url, security.token.value) as client:
            found = await client.call_tool("list_contacts", {"search": "Wrong Token Trading"})
            assert not found.is_error, found.content
            names = [c["name"] for c in found.structured_content["items"]]
            assert "Wrong Token Trading" not in names, "nothing was created without the right token"


async def test_the_right_token_lists_and_calls_tools_in_both_eras(settings: Settings) -> None:
    security = plan_http(settings, "127.0.0.1")
    assert security.token is not None
    with serving(settings, security) as url:
        for mode in ("auto", "legacy"):
            async with mcp_client(url, security.token.value, mode) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert {"list_contacts", "create_invoice"} <= names
                result = await client.call_tool("list_contacts", {"items_per_page": 2})
                assert not result.is_error, result.content
                assert len(result.structured_content["items"]) == 2
        accepted = post(url, {"Authorization": "bearer " + security.token.value})  # the scheme is case-insensitive
        assert accepted.status_code == 200


def test_inspector_cli_lists_tools_with_the_header_and_fails_without(settings: Settings) -> None:
    assert INSPECTOR.exists(), "the MCP Inspector CLI is not installed; `make test` installs it into .tools/inspector"
    security = plan_http(settings, "127.0.0.1")
    assert security.token is not None
    with serving(settings, security) as url:
        base = [str(INSPECTOR), "--cli", url, "--format", "json", "-q", "--method", "tools/list"]
        listed = subprocess.run(
            [*base[:3], "--header", security.token.header, *base[3:]],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert listed.returncode == 0, listed.stderr
        tools = json.loads(listed.stdout)["result"]["tools"]
        assert {"list_businesses", "create_invoice"} <= {t["name"] for t in tools}
        refused = subprocess.run(base, capture_output=True, text=True, timeout=120, cwd=REPO)
        assert refused.returncode != 0
        assert "tools" not in refused.stdout


# -- Host and Origin, on loopback and on another address ------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"])
async def test_foreign_origin_403_and_foreign_host_421_whatever_the_bind(settings: Settings, host: str) -> None:
    security = plan_http(settings, host)
    assert security.loopback is (host == "127.0.0.1")
    with serving(settings, security) as url:
        port = url.split(":")[2].split("/")[0]
        auth = bearer(security)
        for origin in ("http://evil.example", f"http://evil.example:{port}", "null", "https://127.0.0.1.evil.example"):
            refused = post(url, {**auth, "Origin": origin})
            assert refused.status_code == 403, origin
            assert "Origin" in refused.text
        # Turned away before the credential is even looked at.
        assert post(url, {"Origin": "http://evil.example"}).status_code == 403
        for bad_host in ("evil.example", f"evil.example:{port}", f"127.0.0.3:{port}", f"{host}.evil.example:{port}"):
            refused = post(url, {**auth, "Host": bad_host})
            assert refused.status_code == 421, bad_host
        assert post(url, {"Host": "evil.example"}).status_code == 421
        # The loopback names and the bound address are allowed, as Host and as Origin.
        for good in (f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"):
            assert post(url, {**auth, "Host": good, "Origin": f"http://{good}"}).status_code == 200, good
        async with mcp_client(url, auth["Authorization"].split(" ", 1)[1]) as client:
            assert any(t.name == "list_contacts" for t in (await client.list_tools()).tools)


async def test_allow_lists_from_flags_and_env_replace_the_defaults(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    security = plan_http(
        settings, "127.0.0.2", allowed_hosts="books.lan, 127.0.0.2:*", allowed_origins="https://app.example.com"
    )
    with serving(settings, security) as url:
        port = url.split(":")[2].split("/")[0]
        auth = bearer(security)
        assert post(url, {**auth, "Host": f"books.lan:{port}"}).status_code == 200
        assert post(url, {**auth, "Host": "BOOKS.LAN"}).status_code == 200
        assert post(url, {**auth, "Host": f"localhost:{port}"}).status_code == 421  # replaced, not added to
        assert post(url, {**auth, "Origin": "https://app.example.com"}).status_code == 200
        assert post(url, {**auth, "Origin": "http://app.example.com"}).status_code == 403
        assert post(url, {**auth, "Origin": f"http://127.0.0.2:{port}"}).status_code == 403
    monkeypatch.setenv("SAGE_MCP_ALLOWED_HOSTS", "books.lan:8443")
    monkeypatch.setenv("SAGE_MCP_ALLOWED_ORIGINS", "https://app.example.com:*")
    from_env = plan_http(Settings(data_dir=settings.data_dir), "0.0.0.0")
    assert from_env.hosts.allows("books.lan:8443") and not from_env.hosts.allows("books.lan:8444")
    assert from_env.origins.allows("https://app.example.com:9000")
    flagged = plan_http(Settings(data_dir=settings.data_dir), "0.0.0.0", allowed_hosts="other.lan")
    assert flagged.hosts.allows("other.lan:1") and not flagged.hosts.allows("books.lan:8443")
    with pytest.raises(HttpSetupError, match="not a host allow-list entry"):
        plan_http(settings, "127.0.0.1", allowed_hosts="http://books.lan")
    with pytest.raises(HttpSetupError, match="not an origin allow-list entry"):
        plan_http(settings, "127.0.0.1", allowed_origins="books.lan")


def test_allow_list_matching() -> None:
    hosts = AllowList.hosts(["127.0.0.1", "[::1]", "books.lan:8000", "api.lan:*"])
    assert hosts.allows("127.0.0.1:8000") and hosts.allows("127.0.0.1") and hosts.allows("[::1]:9")
    assert hosts.allows("books.lan:8000") and not hosts.allows("books.lan:8001") and not hosts.allows("books.lan")
    assert hosts.allows("api.lan:1") and not hosts.allows("api.lan.evil:1") and not hosts.allows("evil.api.lan:1")
    for bad in (None, "", "127.0.0.1:*", "127.0.0.1:80:80", "[::1", "127.0.0.1:abc", "127.0.0.10:8000"):
        assert not hosts.allows(bad), bad
    origins = AllowList.origins(["http://localhost", "https://app.example.com:8443"])
    assert origins.allows("http://localhost:3000") and origins.allows("http://localhost")
    assert not origins.allows("https://localhost:3000")  # the scheme counts
    assert origins.allows("https://app.example.com:8443") and not origins.allows("https://app.example.com")
    for bad in ("null", "http://localhost.evil", "http://localhost:3000/path", "file://", "localhost"):
        assert not origins.allows(bad), bad


# -- no authentication: loopback only, with the unsafe flag ----------------------------------------


async def test_unsafe_no_auth_only_on_loopback_and_still_checks_origin(settings: Settings) -> None:
    security = plan_http(settings, "127.0.0.1", unsafe_no_auth=True)
    assert security.token is None
    assert not settings.http_token_path.exists()
    assert any("--unsafe-no-auth" in w and "no authentication" in w for w in security.warnings(8000))
    with serving(settings, security) as url:
        async with mcp_client(url, None) as client:
            assert (await client.list_tools()).tools
        assert post(url, {"Origin": "http://evil.example"}).status_code == 403
        assert post(url, {"Host": "evil.example"}).status_code == 421
    for host in ("127.0.0.2", "0.0.0.0", "::", "192.168.1.10", "example.com"):
        with pytest.raises(HttpSetupError, match="--unsafe-no-auth is refused"):
            plan_http(settings, host, unsafe_no_auth=True)


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--transport", "http", "--host", "127.0.0.2"],
        ["serve", "--transport", "http", "--host", "0.0.0.0"],
        ["demo", "--host", "0.0.0.0"],
    ],
)
def test_a_non_loopback_bind_without_auth_refuses_to_start(settings: Settings, command: list[str]) -> None:
    port = _free_port("127.0.0.1")
    done = subprocess.run(
        [SAGE_MCP, *command, "--port", str(port), "--unsafe-no-auth"],
        env=server_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "--unsafe-no-auth is refused" in done.stderr and "127.0.0.1, localhost or ::1" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""  # the demo did not start either
    assert not settings.http_token_path.exists()  # refused before anything else happened


# -- the token file and SAGE_MCP_HTTP_TOKEN --------------------------------------------------------


def test_token_file_is_created_0600_reused_and_tightened(tmp_path: Path) -> None:
    path = tmp_path / "data" / "http_token"
    token = load_or_create_token(path)
    assert len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_token(path) == token
    assert load_or_create_token(tmp_path / "other" / "http_token") != token
    os.chmod(path, 0o644)
    assert load_or_create_token(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("")  # an empty file (a crash while writing it) gets a fresh token
    fresh = load_or_create_token(path)
    assert fresh and fresh != token and path.read_text().strip() == fresh


def test_env_token_overrides_the_file_and_must_be_a_usable_token(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = plan_http(settings, "127.0.0.1").token
    assert from_file is not None and from_file.path == settings.http_token_path
    monkeypatch.setenv("SAGE_MCP_HTTP_TOKEN", ENV_TOKEN)
    from_env = plan_http(Settings(data_dir=settings.data_dir), "127.0.0.1").token
    assert from_env is not None and from_env.value == ENV_TOKEN and from_env.path is None
    assert ENV_TOKEN not in repr(from_env)
    for bad in ("short", "has a space in it 0123456789", 'quote"0123456789abcdef'):
        monkeypatch.setenv("SAGE_MCP_HTTP_TOKEN", bad)
        with pytest.raises(HttpSetupError, match="SAGE_MCP_HTTP_TOKEN"):
            plan_http(Settings(data_dir=settings.data_dir), "127.0.0.1")


@contextmanager
def sage_mcp_serve(settings: Settings, log: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``sage-mcp serve --transport http`` as a subprocess; yields its URL once it listens."""
    host = args[args.index("--host") + 1] if "--host" in args else "127.0.0.1"
    port = _free_port(host)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [SAGE_MCP, "serve", "--transport", "http", "--port", str(port), *args],
            env={**server_env(settings), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, log.read_text()
                try:
                    socket.create_connection((host, port), timeout=0.2).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "sage-mcp serve did not start listening"
                    time.sleep(0.1)
            yield f"http://{host}:{port}/mcp"
        finally:
            proc.terminate()
            proc.wait(timeout=20)


async def test_serve_command_generates_the_token_once_and_env_overrides_it(settings: Settings, tmp_path: Path) -> None:
    path = settings.http_token_path
    assert not path.exists()
    log = tmp_path / "serve.log"
    with sage_mcp_serve(settings, log) as url:
        token = path.read_text().strip()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert post(url).status_code == 401
        async with mcp_client(url, token) as client:
            assert any(t.name == "list_contacts" for t in (await client.list_tools()).tools)
    output = log.read_text()
    assert str(path) in output and "Authorization: Bearer" in output and "--header" in output
    assert token not in output  # serve says where the token is, not what it is
    assert "WARNING" not in output

    with sage_mcp_serve(settings, log) as url:  # the next start reuses the token
        assert path.read_text().strip() == token
        assert post(url, {"Authorization": f"Bearer {token}"}).status_code == 200

    with sage_mcp_serve(settings, log, "--host", "127.0.0.2", env={"SAGE_MCP_HTTP_TOKEN": ENV_TOKEN}) as url:
        assert post(url, {"Authorization": f"Bearer {token}"}).status_code == 401
        assert post(url, {"Authorization": f"Bearer {ENV_TOKEN}"}).status_code == 200
    output = log.read_text()
    assert "SAGE_MCP_HTTP_TOKEN" in output and ENV_TOKEN not in output
    assert "WARNING: listening on 127.0.0.2" in output
    assert "--allowed-hosts" in output and "--allowed-origins" in output and "127.0.0.2" in output
