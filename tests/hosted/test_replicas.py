"""Hosted mode end to end: two replicas (real processes) sharing one real Redis, users signing in through
the sandbox's Sage sign-in, tools called over streamable HTTP in both protocol eras."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx2
import pytest
from cryptography.fernet import Fernet

from sage_mcp.sandbox import FOREIGN_BUSINESS_ID, LEAD_BUSINESS_ID, SandboxServer
from sage_mcp.sandbox.seed import FOREIGN_USER_ID
from tests.hosted.conftest import SAGE_CONCURRENCY, MovableClock
from tests.hosted.harness import (
    ENCRYPTION_KEY,
    Alternating,
    RedisServer,
    Replica,
    mcp_client,
    sign_in,
    structured,
)

pytestmark = pytest.mark.anyio


def token_posts(sandbox: SandboxServer) -> int:
    return sandbox.counters[("POST", "/token")]


def token_refusals(sandbox: SandboxServer) -> int:
    return sum(n for (method, path, status), n in sandbox.status_counters.items() if path == "/token" and status >= 400)


def seed_other_user(sandbox: SandboxServer, redis_url: str, public_url: str) -> str:
    """A second Sage user, signed in as if through the flow: their login in Redis, an MCP token of ours."""
    from sage_mcp.config import Settings
    from sage_mcp.http.hosted.ops import Metrics
    from sage_mcp.http.hosted.provider import SageAuthProvider
    from sage_mcp.http.hosted.settings import HostedSettings
    from sage_mcp.sage.tokens import StoredLogin, TokenSet
    from sage_mcp.stores.redis import RedisState, RedisTokenStore, make_cipher

    state = RedisState(redis_url, make_cipher([ENCRYPTION_KEY]))
    tokens = TokenSet.from_response(sandbox.sandbox.oauth.mint(user_id=FOREIGN_USER_ID), time.time())
    RedisTokenStore(state, FOREIGN_USER_ID).save(StoredLogin(tokens=tokens, saved_at=time.time()))
    hosted = HostedSettings(public_url=public_url, redis_url=redis_url, encryption_key=ENCRYPTION_KEY)
    provider = SageAuthProvider(Settings(), hosted, state, None, Metrics())  # type: ignore[arg-type]

    async def issue() -> str:
        try:
            return (await provider._issue("test-client", ["full_access"], FOREIGN_USER_ID)).access_token
        finally:
            await state.aclose()

    return asyncio.run(issue()) if False else _run(issue())


def _run(coro: Any) -> Any:
    import threading

    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return out[0]


@pytest.fixture(scope="module")
def user_a(replicas: list[Replica]) -> dict[str, Any]:
    return sign_in(replicas[0].url)


async def test_unauthenticated_requests_learn_where_to_sign_in(replicas: list[Replica]) -> None:
    base = replicas[1].url
    async with httpx2.AsyncClient(timeout=10) as http:
        resp = await http.post(base + "/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert resp.status_code == 401
        challenge = resp.headers["www-authenticate"]
        assert "resource_metadata=" in challenge
        prm = (await http.get(base + "/.well-known/oauth-protected-resource/mcp")).json()
        assert prm["resource"] == replicas[0].url + "/mcp"
        assert prm["authorization_servers"] == [replicas[0].url]
        meta = (await http.get(base + "/.well-known/oauth-authorization-server")).json()
        assert meta["client_id_metadata_document_supported"] is True
        assert meta["registration_endpoint"] == replicas[0].url + "/register"
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert (await http.get(base + "/healthz")).status_code == 200
        assert (await http.get(base + "/readyz")).json() == {"status": "ready", "redis": "ok"}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_one_client_alternating_between_replicas(
    replicas: list[Replica], user_a: dict[str, Any], redis_server: RedisServer, mode: str
) -> None:
    transport = Alternating([r.port for r in replicas])
    async with mcp_client(replicas[0].url + "/mcp", user_a["access_token"], mode=mode, transport=transport) as client:
        tools = await client.list_tools()
        assert "list_businesses" in {t.name for t in tools.tools}
        listed = structured(await client.call_tool("list_businesses", {}))
        ids = {b["id"] for b in listed["items"]}
        assert LEAD_BUSINESS_ID in ids and FOREIGN_BUSINESS_ID not in ids
        contacts = structured(await client.call_tool("list_contacts", {"business_id": LEAD_BUSINESS_ID}))
        assert contacts["total"] > 0
        name = f"Hosted Test {mode} {time.time_ns()}"
        created = structured(
            await client.call_tool(
                "create_contact", {"business_id": LEAD_BUSINESS_ID, "name": name, "contact_type": "customer"}
            )
        )
        again = structured(await client.call_tool("get_contact", {"business_id": LEAD_BUSINESS_ID, "contact_id": created["id"]}))
        assert again["name"] == name
    assert set(transport.sent) == {r.port for r in replicas}, "both replicas served the session"
    # The write is in the user's audit stream; the Sage login at rest is ciphertext.
    r = redis_server.client()
    audit_keys = [k.decode() for k in r.scan_iter("sage-mcp:audit:*")]
    assert audit_keys, "an audit stream exists"
    entries = [fields for key in audit_keys for _id, fields in r.xrange(key)]
    assert any(e[b"tool"] == b"create_contact" and e[b"outcome"] == b"ok" for e in entries)
    for key in r.scan_iter("sage-mcp:login:*"):
        blob = r.hget(key, "blob")
        assert blob is not None and b"access_token" not in blob and b"sbx_" not in blob
        assert "access_token" in Fernet(ENCRYPTION_KEY).decrypt(blob).decode()
