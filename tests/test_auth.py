"""Sign-in and tokens against the sandbox with strict refresh-token rotation."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sage.client import SageClient
from sage_mcp.sage.errors import AuthError, BusinessMismatchError
from sage_mcp.sage.oauth import code_from_callback, start_login
from sage_mcp.sage.tokens import FileTokenStore, StoredLogin, TokenSet
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server
from tests.helpers import server_env

pytestmark = pytest.mark.anyio


class ShiftableClock:
    """The sandbox's clock: real time plus an offset a test can advance (expiring every token at once)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def clock() -> ShiftableClock:
    return ShiftableClock()


@pytest.fixture(scope="module")
def strict_sandbox(clock: ShiftableClock) -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig(clock=clock)) as server:
        yield server


def token_requests(sandbox: SandboxServer) -> int:
    return sandbox.counters[("POST", "/token")]


def expire_access_token(settings: Settings) -> None:
    store = FileTokenStore(settings.token_store_path)
    login = store.load()
    assert login is not None
    store.save(dataclasses.replace(login, tokens=dataclasses.replace(login.tokens, expires_at=time.time() - 1)))


# -- the browser flow, driven programmatically ---------------------------------------------------------


async def login_through_sandbox(settings: Settings) -> tuple[dict[str, Any], str]:
    """Run `auth login`'s steps against the sandbox's authorize endpoint; return tokens and the code."""
    req = start_login(settings, scope="full_access", country="gb")
    with httpx2.Client() as http:
        redirect = http.get(req.url, follow_redirects=False)
    assert redirect.status_code in (302, 303), redirect.text
    code = code_from_callback(redirect.headers["location"], req.state)
    async with SageClient(settings) as sage:
        return await sage.exchange_code(code, req.redirect_uri, req.code_verifier), code


async def test_login_flow_with_pkce_and_state(strict_sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    req = start_login(settings)
    assert "code_challenge_method=S256" in req.url and f"state={req.state}" in req.url
    tokens, _ = await login_through_sandbox(settings)
    assert tokens["access_token"] and tokens["refresh_token"] and tokens["expires_in"] == 300


async def test_login_refuses_a_state_mismatch(strict_sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    req = start_login(settings)
    with httpx2.Client() as http:
        location = http.get(req.url, follow_redirects=False).headers["location"]
    with pytest.raises(AuthError, match="state does not match"):
        code_from_callback(location, "a-different-state")


async def test_login_refuses_a_wrong_pkce_verifier(strict_sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    req = start_login(settings)
    with httpx2.Client() as http:
        location = http.get(req.url, follow_redirects=False).headers["location"]
    code = code_from_callback(location, req.state)
    async with SageClient(settings) as sage:
        with pytest.raises(AuthError, match="invalid_grant"):
            await sage.exchange_code(code, req.redirect_uri, "w" * 64)


# -- refresh under concurrency ----------------------------------------------------------------------------


async def test_200_concurrent_calls_with_an_expired_token_make_one_token_request(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(sandbox, tmp_path)
    expire_access_token(settings)
    async with Client(create_server(settings)) as client:
        before = token_requests(sandbox)
        results = await asyncio.gather(*(client.call_tool("list_contacts", {"items_per_page": 1}) for _ in range(200)))
    assert [r for r in results if r.is_error] == []
    assert token_requests(sandbox) - before == 1


async def test_two_server_processes_share_one_store_through_50_rotations(
    strict_sandbox: SandboxServer, clock: ShiftableClock, tmp_path: Path
) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    params = StdioServerParameters(command=sys.executable, args=["-m", "sage_mcp", "serve"], env=server_env(settings))
    async with Client(params) as one, Client(params) as two:
        for client in (one, two):  # warm up: both processes load the same login
            assert not (await client.call_tool("list_contacts", {"items_per_page": 1})).is_error
        before = token_requests(strict_sandbox)
        errors: list[str] = []
        for _ in range(50):
            clock.offset += 400  # every access token is now expired at Sage: both processes get a 401
            results = await asyncio.gather(
                one.call_tool("list_contacts", {"items_per_page": 1}),
                two.call_tool("list_contacts", {"items_per_page": 1}),
            )
            errors += [str(r.content) for r in results if r.is_error]
    assert errors == [], errors[:3]
    assert token_requests(strict_sandbox) - before == 50, "exactly one rotation per expiry, shared by both"


KILLED_CHILD = """
import asyncio, sys
from sage_mcp.config import Settings
from sage_mcp.sage.client import SageClient

async def main():
    async with SageClient(Settings()) as sage:
        token = await sage.tokens.access_token()
        print("ready", flush=True)
        while True:
            token = await sage.tokens.renew_after_rejection(token)

asyncio.run(main())
"""


def test_store_survives_sigkill_at_random_moments_while_persisting(
    strict_sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    store = FileTokenStore(settings.token_store_path)
    rng = random.Random(1234)
    env = {**server_env(settings), "SAGE_TOKEN_REFRESH_LEEWAY": "0"}
    for _ in range(15):
        child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD], env=env, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.15))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        login = store.load()  # never torn: always a whole JSON document
        assert login is not None
        resp = httpx2.get(
            strict_sandbox.api_url + "/user", headers={"Authorization": f"Bearer {login.tokens.access_token}"}
        )
        assert resp.status_code == 200, "the stored access token is usable"
    assert token_requests(strict_sandbox) > 15, "the children really were rotating tokens"


# -- a dead sign-in, and recovery without restart --------------------------------------------------------------


async def test_revoked_sign_in_gives_one_clear_instruction_then_recovers(
    strict_sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    store = FileTokenStore(settings.token_store_path)
    login = store.load()
    assert login is not None
    async with SageClient(settings) as sage:
        await sage.revoke(login.tokens.refresh_token)
    expire_access_token(settings)
    async with Client(create_server(settings)) as client:
        for _ in range(2):
            result = await client.call_tool("list_contacts", {"items_per_page": 1})
            assert result.is_error
            assert "Run `sage-mcp auth login`" in result.content[0].text
        tokens, _ = await login_through_sandbox(settings)  # the user signs in again
        store.save(StoredLogin(TokenSet.from_response(tokens, time.time()), business_id=LEAD_BUSINESS_ID))
        recovered = await client.call_tool("list_contacts", {"items_per_page": 1})
        assert not recovered.is_error, recovered.content


async def test_readonly_scope_makes_the_server_read_only(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(sandbox, tmp_path, scope="readonly")
    async with Client(create_server(settings)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert "list_contacts" in tools and tools
    assert all(t.annotations and t.annotations.read_only_hint for t in tools.values())


# -- nothing secret in the logs ---------------------------------------------------------------------------------


async def test_debug_logs_never_contain_tokens_secret_or_code(
    strict_sandbox: SandboxServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = sandbox_settings(strict_sandbox, tmp_path)
    tokens, code = await login_through_sandbox(settings)
    store = FileTokenStore(settings.token_store_path)
    store.save(StoredLogin(TokenSet.from_response(tokens, time.time()), business_id=LEAD_BUSINESS_ID))
    expire_access_token(settings)
    async with Client(create_server(settings)) as client:
        assert not (await client.call_tool("list_contacts", {"items_per_page": 1})).is_error
        assert (await client.call_tool("get_contact", {"contact_id": "nope"})).is_error
    refreshed = store.load()
    assert refreshed is not None
    secrets = {
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "rotated access token": refreshed.tokens.access_token,
        "rotated refresh token": refreshed.tokens.refresh_token,
        "client secret": settings.client_secret.get_secret_value(),
        "authorization code": code,
    }
    assert "POST" in caplog.text or caplog.records, "DEBUG logging was captured"
    leaked = [name for name, value in secrets.items() if value in caplog.text]
    assert leaked == []


# -- X-Business must match ------------------------------------------------------------------------------------------


async def test_an_answer_for_another_business_is_an_error_not_data(tmp_path: Path) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"$items": [], "$total": 0}, headers={"X-Business": "0" * 32})

    settings = Settings(data_dir=tmp_path, client_id="c", api_base_url="https://sage.invalid/v3.1")
    FileTokenStore(settings.token_store_path).save(
        StoredLogin(TokenSet("a", "r", time.time() + 300, None, "full_access"))
    )
    async with SageClient(settings, transport=httpx2.MockTransport(handler)) as sage:
        with pytest.raises(BusinessMismatchError, match="discarded"):
            await sage.for_business(LEAD_BUSINESS_ID).get("/contacts")


def test_auth_status_shows_expiry_never_a_token(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(sandbox, tmp_path)
    store = FileTokenStore(settings.token_store_path)
    login = store.load()
    assert login is not None
    soon = dataclasses.replace(login.tokens, refresh_expires_at=time.time() + 86400)
    store.save(dataclasses.replace(login, tokens=soon))
    env = server_env(settings)
    out = subprocess.run(
        [sys.executable, "-m", "sage_mcp", "auth", "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "expires within 3 days" in out.stdout and "Hartley & Finch Ltd" in out.stdout
    assert login.tokens.access_token not in out.stdout + out.stderr
    assert login.tokens.refresh_token not in out.stdout + out.stderr
    logout = subprocess.run(
        [sys.executable, "-m", "sage_mcp", "auth", "logout"], env=env, capture_output=True, text=True, timeout=60
    )
    assert logout.returncode == 0 and "revoked at Sage" in logout.stdout, logout.stdout + logout.stderr
    assert store.load() is None


# -- `sage-mcp auth login` as a user runs it ----------------------------------------------------------------------

FAKE_BROWSER = """
import sys, urllib.request
urllib.request.urlopen(sys.argv[1]).read()  # follows Sage's redirect to the loopback callback
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_login_with_loopback_callback_pins_a_business(strict_sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    FileTokenStore(settings.token_store_path).delete()
    browser = tmp_path / "browser.py"
    browser.write_text(FAKE_BROWSER)
    env = {
        **server_env(settings),
        "SAGE_AUTHORIZE_URL": settings.authorize_url,
        "BROWSER": f"{sys.executable} {browser} %s",
    }
    redirect = f"http://127.0.0.1:{_free_port()}/callback"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sage_mcp",
            "auth",
            "login",
            "--redirect-uri",
            redirect,
            "--business",
            LEAD_BUSINESS_ID,
            "--timeout",
            "20",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "Signed in to Sage" in out.stdout and "<- pinned" in out.stdout
    login = FileTokenStore(settings.token_store_path).load()
    assert login is not None and login.business_id == LEAD_BUSINESS_ID
    assert login.tokens.access_token not in out.stdout + out.stderr


def test_cli_login_without_browser_takes_the_pasted_url(strict_sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(strict_sandbox, tmp_path)
    FileTokenStore(settings.token_store_path).delete()
    env = {**server_env(settings), "SAGE_AUTHORIZE_URL": settings.authorize_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sage_mcp", "auth", "login", "--no-browser", "--scope", "readonly"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None and proc.stdin is not None
    url = ""
    while not url.startswith("http"):
        url = proc.stderr.readline().strip()
    location = httpx2.get(url, follow_redirects=False).headers["location"]
    stdout, stderr = proc.communicate(location + "\n", timeout=60)
    assert proc.returncode == 0, stderr
    assert "readonly" in stdout and "Several businesses" in stdout
    login = FileTokenStore(settings.token_store_path).load()
    assert login is not None and login.tokens.read_only
