"""The Redis token store on its own: encryption at rest, the fenced lock, key rotation."""

from __future__ import annotations

import time

import pytest
from cryptography.fernet import Fernet

from sage_mcp.sage.tokens import StoredLogin, TokenSet
from sage_mcp.stores.redis import LoginConflict, RedisState, RedisTokenStore, make_cipher
from tests.hosted.harness import RedisServer

pytestmark = pytest.mark.anyio


def login(access: str, pin: str | None = None) -> StoredLogin:
    tokens = TokenSet(access_token=access, refresh_token="rt-" + access, expires_at=time.time() + 300)
    return StoredLogin(tokens=tokens, business_id=pin, saved_at=time.time())


async def test_a_lapsed_lock_holder_cannot_overwrite_a_later_login(redis_server: RedisServer) -> None:
    key = Fernet.generate_key().decode()
    one = RedisState(redis_server.url, make_cipher([key]), lock_ttl=0.3)
    two = RedisState(redis_server.url, make_cipher([key]), lock_ttl=0.3)
    slow, fast = RedisTokenStore(one, "user-1"), RedisTokenStore(two, "user-1")
    try:
        async with slow.alock():
            slow_held = slow._held
            # The slow holder stalls past its lock (its watchdog stopped, as in a paused process).
            await one.aio.delete(one.key("lock", "user-1"))
            async with fast.alock():
                fast.save(login("fresh", pin="B1"))
            slow._held = slow_held
            with pytest.raises(LoginConflict):
                slow.save(login("stale"))
        stored = fast.load()
        assert stored is not None and stored.tokens.access_token == "fresh" and stored.business_id == "B1"
        assert slow.refused_saves == 1
    finally:
        await one.aclose()
        await two.aclose()


async def test_logins_are_encrypted_and_survive_key_rotation(redis_server: RedisServer) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = RedisState(redis_server.url, make_cipher([old]))
    after = RedisState(redis_server.url, make_cipher([new, old]))
    try:
        RedisTokenStore(before, "user-2").save(login("secret-access-token"))
        raw = before.sync.hget(before.key("login", "user-2"), "blob")
        assert raw is not None and b"secret-access-token" not in raw
        loaded = RedisTokenStore(after, "user-2").load()
        assert loaded is not None and loaded.tokens.access_token == "secret-access-token"
    finally:
        await before.aclose()
        await after.aclose()


def test_a_bad_key_is_refused_with_how_to_make_one() -> None:
    with pytest.raises(ValueError, match=r"Fernet\.generate_key"):
        make_cipher(["not-a-key"])


@pytest.mark.parametrize(
    ("env", "argv", "says"),
    [
        ({}, ["--transport", "http"], "SAGE_MCP_PUBLIC_URL"),
        ({"SAGE_MCP_PUBLIC_URL": "https://mcp.example.com/mcp"}, ["--transport", "http"], "no path"),
        ({"SAGE_MCP_PUBLIC_URL": "https://mcp.example.com"}, ["--transport", "http"], "SAGE_MCP_ENCRYPTION_KEY"),
        ({}, [], "--hosted needs --transport http"),
    ],
)
def test_hosted_mode_refuses_to_start_without_what_it_needs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], argv: list[str], says: str
) -> None:
    from sage_mcp.cli import main

    for name in ("SAGE_MCP_PUBLIC_URL", "SAGE_MCP_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--hosted", *argv]) == 2
    assert says in capsys.readouterr().err


async def test_metrics_can_require_a_token(redis_server: RedisServer) -> None:
    import httpx2

    from sage_mcp.config import Settings
    from sage_mcp.http.hosted.app import build_hosted_app, plan_hosted
    from sage_mcp.http.hosted.settings import HostedSettings

    settings = Settings(client_id="id", client_secret="secret")  # type: ignore[arg-type]
    hosted = HostedSettings(
        public_url="http://127.0.0.1:9",
        redis_url=redis_server.url,
        encryption_key=Fernet.generate_key().decode(),  # type: ignore[arg-type]
        metrics_token="metrics-secret-123",  # type: ignore[arg-type]
    )
    app = build_hosted_app(settings, hosted, plan_hosted(settings, hosted, "127.0.0.1"))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:9") as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        shown = await http.get("/metrics", headers={"Authorization": "Bearer metrics-secret-123"})
        assert shown.status_code == 200 and "sage_mcp_http_requests_total" in shown.text
        assert (await http.get("/healthz")).status_code == 200
