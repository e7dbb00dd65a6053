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


def token_answers(sandbox: SandboxServer) -> int:
    return sum(n for (method, path, _status), n in sandbox.status_counters.items() if path == "/token")


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

    return str(_run(issue()))


def _run(coro: Any) -> Any:
    import threading

    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(asyncio.run(coro)))
    thread.start()
    thread.join()
    return out[0]


def metric_total(replicas: list[Replica], prefix: str) -> float:
    """The sum over both replicas' /metrics of the samples whose line starts with ``prefix``."""
    total = 0.0
    for replica in replicas:
        for line in httpx2.get(replica.url + "/metrics", timeout=10).text.splitlines():
            if line.startswith(prefix):
                total += float(line.split()[-1])
    return total


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
        wanted = {"business_id": LEAD_BUSINESS_ID, "contact_id": created["id"]}
        again = structured(await client.call_tool("get_contact", wanted))
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


async def test_two_users_never_see_each_other(
    replicas: list[Replica], user_a: dict[str, Any], hosted_sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    token_b = seed_other_user(hosted_sandbox, redis_server.url, replicas[0].url)
    async with (
        mcp_client(replicas[0].url + "/mcp", user_a["access_token"]) as a,
        mcp_client(replicas[1].url + "/mcp", token_b) as b,
    ):
        a_ids = {x["id"] for x in structured(await a.call_tool("list_businesses", {}))["items"]}
        b_ids = {x["id"] for x in structured(await b.call_tool("list_businesses", {}))["items"]}
        assert FOREIGN_BUSINESS_ID not in a_ids and LEAD_BUSINESS_ID in a_ids
        assert b_ids == {FOREIGN_BUSINESS_ID}
        refused = await b.call_tool("list_contacts", {"business_id": LEAD_BUSINESS_ID})
        assert refused.is_error and "not one of the businesses" in refused.content[0].text
        a_contacts = structured(await a.call_tool("list_contacts", {"business_id": LEAD_BUSINESS_ID}))
        b_contacts = structured(await b.call_tool("list_contacts", {"business_id": FOREIGN_BUSINESS_ID}))
        assert {c["id"] for c in a_contacts["items"]}.isdisjoint({c["id"] for c in b_contacts["items"]})
    # Each user's login is a record of its own.
    assert len(list(redis_server.client().scan_iter("sage-mcp:login:*"))) == 2


async def test_fifty_forced_expiries_refresh_once_each(
    replicas: list[Replica], user_a: dict[str, Any], hosted_sandbox: SandboxServer, clock: MovableClock
) -> None:
    """Sage's clock jumps past the access token's life 50 times; calls land on both replicas at once."""
    async with (
        mcp_client(replicas[0].url + "/mcp", user_a["access_token"]) as one,
        mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as two,
    ):
        structured(await one.call_tool("list_businesses", {}))
        structured(await two.call_tool("list_businesses", {}))
        refused_before = token_refusals(hosted_sandbox)
        for _ in range(50):
            before = token_posts(hosted_sandbox)
            clock.advance(301)  # every access token Sage issued so far has expired
            results = await asyncio.gather(
                *(c.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}) for c in (one, two, one, two))
            )
            for result in results:
                structured(result)
            assert token_posts(hosted_sandbox) - before == 1, "exactly one refresh across both replicas"
        assert token_refusals(hosted_sandbox) == refused_before, "no invalid_grant"
    refreshes = {
        outcome: metric_total(replicas, f'sage_mcp_token_refreshes_total{{outcome="{outcome}"}}')
        for outcome in ("ok", "invalid_grant")
    }
    assert refreshes["ok"] >= 50 and refreshes["invalid_grant"] == 0


async def test_concurrency_never_exceeds_the_configured_limit(
    replicas: list[Replica], user_a: dict[str, Any], hosted_sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    """300 calls at once, from two users across both replicas; the sandbox refuses any request beyond the
    configured limit (429 ``concurrency_limit``), so none may appear."""
    token_b = seed_other_user(hosted_sandbox, redis_server.url, replicas[0].url)
    hosted_sandbox.app.faults.configure(latency=0.02)
    events_before = len(hosted_sandbox.app.faults.events)
    try:
        async with (
            mcp_client(replicas[0].url + "/mcp", user_a["access_token"]) as a0,
            mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as a1,
            mcp_client(replicas[0].url + "/mcp", token_b) as b0,
            mcp_client(replicas[1].url + "/mcp", token_b) as b1,
        ):
            calls = []
            for i in range(300):
                client, business = [
                    (a0, LEAD_BUSINESS_ID),
                    (b1, FOREIGN_BUSINESS_ID),
                    (a1, LEAD_BUSINESS_ID),
                    (b0, FOREIGN_BUSINESS_ID),
                ][i % 4]
                calls.append(client.call_tool("get_business", {"business_id": business}))
            results = await asyncio.gather(*calls)
    finally:
        hosted_sandbox.app.faults.configure(latency=0.0)
    errors = [r.content[0].text for r in results if r.is_error]
    assert errors == []
    refusals = [e for e in hosted_sandbox.app.faults.events[events_before:] if e.kind == "concurrency_limit"]
    assert refusals == [], f"the sandbox saw more than {SAGE_CONCURRENCY} requests in flight"
    assert metric_total(replicas, "sage_mcp_limit_waits_total") > 0, "calls queued for a slot instead"


async def test_one_users_bulk_work_does_not_starve_another(
    replicas: list[Replica], user_a: dict[str, Any], hosted_sandbox: SandboxServer, redis_server: RedisServer
) -> None:
    """User A keeps 60 calls going at once; user B's one call is answered while A's are still queued,
    because A may hold only its share of Sage's limit and the rest stays free for others."""
    token_b = seed_other_user(hosted_sandbox, redis_server.url, replicas[0].url)
    hosted_sandbox.app.faults.configure(latency=0.05)
    done_a = 0
    try:
        async with (
            mcp_client(replicas[0].url + "/mcp", user_a["access_token"]) as a0,
            mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as a1,
            mcp_client(replicas[1].url + "/mcp", token_b) as b,
        ):
            structured(await b.call_tool("get_business", {"business_id": FOREIGN_BUSINESS_ID}))

            async def one_of_a(client: Any) -> None:
                nonlocal done_a
                structured(await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}))
                done_a += 1

            user_waits = 'sage_mcp_limit_waits_total{limit="user"}'
            waits_before = metric_total(replicas, user_waits)
            bulk = asyncio.gather(*(one_of_a((a0, a1)[i % 2]) for i in range(60)))
            deadline = time.monotonic() + 30
            while metric_total(replicas, user_waits) == waits_before:
                assert time.monotonic() < deadline, "A's calls never reached its share of the limit"
                await asyncio.sleep(0.02)  # A is at its share: its calls queue
            structured(await b.call_tool("get_business", {"business_id": FOREIGN_BUSINESS_ID}))
            answered_b_with_a_done = done_a
            await bulk
    finally:
        hosted_sandbox.app.faults.configure(latency=0.0)
    assert answered_b_with_a_done < 60, "B was answered while A's calls were still queued"


async def test_daily_quota_exhausted_is_a_clear_error(
    replicas: list[Replica], user_a: dict[str, Any], redis_server: RedisServer
) -> None:
    import datetime

    key = "sage-mcp:quota:" + datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    r = redis_server.client()
    used = r.get(key)
    r.set(key, 1_296_000)
    try:
        async with mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as client:
            result = await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID})
    finally:
        r.set(key, used or 0)
    assert result.is_error
    assert "daily request quota" in result.content[0].text and "nothing was sent to Sage" in result.content[0].text


async def test_redis_restart_mid_session(
    replicas: list[Replica], user_a: dict[str, Any], redis_server: RedisServer
) -> None:
    async with mcp_client(replicas[0].url + "/mcp", user_a["access_token"]) as client:
        structured(await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}))
        redis_server.stop()
        try:
            down = await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID})
            assert down.is_error
            assert "Redis" in down.content[0].text and "unreachable" in down.content[0].text
            assert httpx2.get(replicas[1].url + "/readyz").status_code == 503
        finally:
            redis_server.start()
        back = await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID})
        structured(back)
    assert httpx2.get(replicas[1].url + "/readyz").status_code == 200


async def kill_replica_during_refresh(
    replica: Replica, token: str, sandbox: SandboxServer, clock: MovableClock, *, after_sage_answered: Any = None
) -> None:
    """Start a call on ``replica`` that must refresh (Sage's clock moved), and SIGKILL the replica while
    its refresh is at Sage - or, with ``after_sage_answered`` (``hold`` run once the refresh reached Sage,
    ``cut`` once Sage answered it), only after Sage has answered it."""
    faults = sandbox.app.faults
    clock.advance(301)
    faults.configure(latency_on_token=True, latency=1.0)
    posts, answered = token_posts(sandbox), sandbox.status_counters[("POST", "/token", 200)]
    reached_sage = False
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "get_business",
            "arguments": {"business_id": LEAD_BUSINESS_ID},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    }
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": "get_business",
    }
    try:
        async with httpx2.AsyncClient(timeout=60) as http:
            # One raw 2026-07-28 request: its connection dies with the replica.
            task = asyncio.create_task(http.post(replica.url + "/mcp", json=call, headers=headers))
            deadline = time.monotonic() + 20
            while token_posts(sandbox) == posts and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            reached_sage = token_posts(sandbox) > posts
            if after_sage_answered is not None:
                hold, cut = after_sage_answered
                hold()
                while sandbox.status_counters[("POST", "/token", 200)] == answered and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.2)  # the replica has the new pair and is trying to store it
                cut()
            replica.kill()
            with pytest.raises(httpx2.HTTPError):
                await task
    finally:
        faults.configure(latency_on_token=False, latency=0.0)
    assert reached_sage, "the dead replica's refresh reached Sage"


async def test_replica_killed_while_its_refresh_is_at_sage(
    replicas: list[Replica], user_a: dict[str, Any], hosted_sandbox: SandboxServer, clock: MovableClock
) -> None:
    """The other replica waits for the dead one's lock to lapse and carries on. Whether Sage completed the
    dead replica's refresh depends on how far it got when its caller vanished (the sandbox usually drops
    it): if not, the other replica refreshes once itself and nothing is lost; if it did, the token it
    rotated to died with the replica, and the other replica says so once - the user signs in again."""
    ok_key = ("POST", "/token", 200)
    try:
        async with mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as survivor:
            structured(await survivor.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}))
            answered, finished = hosted_sandbox.status_counters[ok_key], token_answers(hosted_sandbox)
            await kill_replica_during_refresh(replicas[0], user_a["access_token"], hosted_sandbox, clock)
            deadline = time.monotonic() + 10
            while token_answers(hosted_sandbox) == finished and time.monotonic() < deadline:
                await asyncio.sleep(0.02)  # Sage finishes with the dead replica's request, one way or the other
            rotated = hosted_sandbox.status_counters[ok_key] > answered
            refused = token_refusals(hosted_sandbox)
            result = await survivor.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID})
            if rotated:
                assert result.is_error and "Sign in with Sage again" in result.content[0].text
                assert token_refusals(hosted_sandbox) == refused + 1, "one attempt with the spent token"
            else:
                structured(result)
                assert hosted_sandbox.status_counters[ok_key] == answered + 1, "one refresh, by the survivor"
    finally:
        replicas[0].ensure_running()
    if rotated:
        user_a.update(await asyncio.to_thread(sign_in, replicas[0].url))


def drop_redis_connections(replica: Replica, redis_server: RedisServer) -> None:
    """Close ``replica``'s Redis connections from the Redis side, discarding what they sent but Redis
    held back (writes are paused): the replica's store of its new token pair never lands."""
    import psutil

    assert replica.proc is not None
    admin = redis_server.client()
    for conn in psutil.Process(replica.proc.pid).net_connections(kind="tcp"):
        if conn.raddr and conn.raddr.port == redis_server.port:
            admin.execute_command("CLIENT", "KILL", "ADDR", f"{conn.laddr.ip}:{conn.laddr.port}")


async def test_replica_killed_after_sage_rotated(
    replicas: list[Replica],
    user_a: dict[str, Any],
    hosted_sandbox: SandboxServer,
    clock: MovableClock,
    redis_server: RedisServer,
) -> None:
    """The worst moment: Sage rotated the token and the replica dies before storing the new pair (Redis
    holds writes back meanwhile, and the replica's connections are cut). The old refresh token is spent and the
    new one died with the replica; the other replica tries once and says plainly that the user must
    sign in again. Then all is well."""
    admin = redis_server.client()
    try:
        async with mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as survivor:
            structured(await survivor.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}))
            try:
                await kill_replica_during_refresh(
                    replicas[0],
                    user_a["access_token"],
                    hosted_sandbox,
                    clock,
                    after_sage_answered=(
                        lambda: admin.execute_command("CLIENT", "PAUSE", "10000", "WRITE"),
                        lambda: drop_redis_connections(replicas[0], redis_server),
                    ),
                )
            finally:
                admin.execute_command("CLIENT", "UNPAUSE")
            refused = token_refusals(hosted_sandbox)
            result = await survivor.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID})
            assert result.is_error and "Sign in with Sage again" in result.content[0].text
            assert token_refusals(hosted_sandbox) == refused + 1, "one attempt with the spent token, no retry storm"
    finally:
        replicas[0].ensure_running()
    fresh = await asyncio.to_thread(sign_in, replicas[0].url)
    user_a.update(fresh)
    async with mcp_client(replicas[1].url + "/mcp", fresh["access_token"]) as client:
        structured(await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}))


async def test_the_sdk_oauth_client_signs_in_end_to_end(replicas: list[Replica]) -> None:
    """The SDK's own OAuth client: discovery (RFC 9728, RFC 8414), dynamic registration, PKCE, Sage's
    sign-in in the "browser", the code exchange, then tool calls with the token it got."""
    from urllib.parse import parse_qs, urlsplit

    from mcp import Client
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
    from pydantic import AnyUrl

    from tests.hosted.harness import CLIENT_REDIRECT

    class Memory:
        def __init__(self) -> None:
            self.tokens: OAuthToken | None = None
            self.client: OAuthClientInformationFull | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens: OAuthToken) -> None:
            self.tokens = tokens

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return self.client

        async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
            self.client = client_info

    landed: list[str] = []

    async def browser(url: str) -> None:
        async with httpx2.AsyncClient(timeout=30) as http:
            for _ in range(5):
                url = (await http.get(url)).headers["location"]
                if url.startswith(CLIENT_REDIRECT):
                    landed.append(url)
                    return

    async def callback() -> AuthorizationCodeResult:
        query = parse_qs(urlsplit(landed[-1]).query)
        return AuthorizationCodeResult(code=query["code"][0], state=query.get("state", [None])[0])

    storage = Memory()
    url = replicas[0].url + "/mcp"
    auth = OAuthClientProvider(
        url,
        OAuthClientMetadata(redirect_uris=[AnyUrl(CLIENT_REDIRECT)], client_name="sdk client"),
        storage,
        redirect_handler=browser,
        callback_handler=callback,
    )
    async with (
        httpx2.AsyncClient(auth=auth, timeout=60) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        result = structured(await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}))
        assert result["business"]["id"] == LEAD_BUSINESS_ID
    assert landed and storage.tokens is not None and storage.client is not None
    assert storage.tokens.expires_in is not None and storage.tokens.expires_in <= 600


async def test_client_id_metadata_document(replicas: list[Replica]) -> None:
    """A client known by the URL of its metadata document (2025-11-25): no registration step."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from tests.hosted.harness import CLIENT_REDIRECT

    class Doc(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(
                {
                    "client_id": f"http://127.0.0.1:{self.server.server_address[1]}/client.json",
                    "client_name": "metadata document client",
                    "redirect_uris": [CLIENT_REDIRECT],
                    "token_endpoint_auth_method": "none",
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Doc)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client_id = f"http://127.0.0.1:{server.server_address[1]}/client.json"
        tokens = await asyncio.to_thread(
            sign_in, replicas[1].url, client_id=client_id, resource=replicas[0].url + "/mcp"
        )
    finally:
        server.shutdown()
        server.server_close()
    async with mcp_client(replicas[1].url + "/mcp", tokens["access_token"]) as client:
        structured(await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID}))
    # Our refresh tokens rotate: the used one is dead.
    with httpx2.Client(timeout=10) as http:
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
        first = http.post(replicas[0].url + "/token", data=form)
        assert first.status_code == 200 and first.json()["refresh_token"] != tokens["refresh_token"]
        again = http.post(replicas[1].url + "/token", data=form)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_idempotency_fingerprints_are_shared_by_replicas(
    replicas: list[Replica], user_a: dict[str, Any], redis_server: RedisServer
) -> None:
    import secrets

    key = secrets.token_hex(16)
    first = {
        "business_id": LEAD_BUSINESS_ID,
        "name": f"Keyed {key}",
        "contact_type": "customer",
        "idempotency_key": key,
    }
    async with (
        mcp_client(replicas[0].url + "/mcp", user_a["access_token"]) as one,
        mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as two,
    ):
        created = structured(await one.call_tool("create_contact", first))
        repeated = structured(await two.call_tool("create_contact", first))
        assert repeated["id"] == created["id"]
        other = await two.call_tool("create_contact", {**first, "name": f"Other {key}"})
        assert other.is_error and key in other.content[0].text
    assert list(redis_server.client().scan_iter("sage-mcp:fp:*")), "the fingerprints live in Redis"


def test_logs_are_json_lines_without_secrets(replicas: list[Replica], user_a: dict[str, Any]) -> None:
    from tests.hosted.conftest import log_text

    text = "".join(log_text(r) for r in replicas)
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [r for r in records if r["message"] == "request"]
    assert requests and {"path", "status", "ms", "replica"} <= set(requests[0])
    assert any(r["path"] == "/oauth/sage/callback" for r in requests)
    for secret in (user_a["access_token"], user_a["refresh_token"], "sbx_at_", "sbx_rt_", "code=", "code_verifier"):
        assert secret not in text


async def test_a_confirmation_shown_by_one_replica_is_accepted_by_the_other_once(
    replicas: list[Replica], user_a: dict[str, Any]
) -> None:
    async with (
        mcp_client(replicas[0].url + "/mcp", user_a["access_token"]) as one,
        mcp_client(replicas[1].url + "/mcp", user_a["access_token"]) as two,
    ):
        name = f"To delete {time.time_ns()}"
        created = structured(
            await one.call_tool(
                "create_contact", {"business_id": LEAD_BUSINESS_ID, "name": name, "contact_type": "customer"}
            )
        )
        args = {"business_id": LEAD_BUSINESS_ID, "contact_id": created["id"]}
        preview = await one.call_tool("delete_contact", args)
        assert preview.is_error and preview.structured_content is not None
        token = preview.structured_content["confirmation_token"]
        deleted = await two.call_tool("delete_contact", {**args, "confirmation_token": token})
        assert not deleted.is_error, deleted.content[0].text
        again = await one.call_tool("delete_contact", {**args, "confirmation_token": token})
        assert again.is_error and "already used" in again.content[0].text
