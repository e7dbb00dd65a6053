"""Every tool call has a deadline (SAGE_MCP_CALL_TIMEOUT): a slow Sage gives an isError that says whether
anything may have been written, the server keeps serving, and a Retry-After longer than the time left is
reported instead of slept through."""

from __future__ import annotations

import email.utils
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.dispatch import Dispatcher
from sage_mcp.registry import Registry
from sage_mcp.sage.client import CallBudget, SageClient, _retry_after_seconds, call_budget
from sage_mcp.sage.errors import SageRateLimitError, SageRetryLaterError
from sage_mcp.sage.tokens import FileTokenStore, StoredLogin, TokenSet
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio

#: Hang guard only: a test that waits this long has slept through a deadline it should have kept.
GUARD = 30


@pytest.fixture(scope="module")
def slow() -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig()) as server:
        yield server


@pytest.fixture
def short(slow: SandboxServer, tmp_path: Path) -> Settings:
    slow.faults.clear()
    return sandbox_settings(slow, tmp_path, toolsets="all", call_timeout=1.0, max_retries=3)


@pytest.fixture
async def tools(short: Settings, slow: SandboxServer) -> AsyncIterator[Client]:
    async with Client(create_server(short)) as client:
        await ok(client, "list_businesses")  # the business list is cached: later calls go straight to the record
        yield client
    slow.faults.clear()


async def settled(sandbox: SandboxServer) -> None:
    """Wait until the sandbox has finished every request it was holding."""
    with anyio.fail_after(GUARD):
        while sandbox.faults.in_flight:
            await anyio.sleep(0.01)


def contact_body(name: str) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/contacts",
        "body": {"contact": {"name": name, "contact_type_ids": ["CUSTOMER"]}},
    }


async def contacts_named(client: Client, name: str) -> list[dict[str, Any]]:
    found = await ok(client, "list_contacts", {"search": name, "items_per_page": 50})
    return [c for c in found["items"] if c.get("name") == name]


async def test_a_read_past_the_deadline_is_an_error_and_other_calls_carry_on(
    tools: Client, slow: SandboxServer
) -> None:
    slow.faults.configure(latency=2.0)  # twice the call's deadline
    results: dict[str, Any] = {}

    async def slow_read() -> None:
        results["slow"] = await tools.call_tool("list_contacts", {"items_per_page": 2})

    async def local_call() -> None:  # needs nothing from Sage: answered while the other one waits
        while not slow.faults.in_flight:
            await anyio.sleep(0.005)
        results["local"] = await tools.call_tool("find_sage_endpoint", {"query": "stock items"})
        results["slow still waiting"] = "slow" not in results

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(slow_read)
            tg.start_soon(local_call)
    assert not results["local"].is_error and results["local"].structured_content["total"] > 0
    assert results["slow still waiting"] is True
    assert results["slow"].is_error
    message = results["slow"].content[0].text
    assert "Sage is slow" in message and "within 1 s" in message and "SAGE_MCP_CALL_TIMEOUT" in message
    assert "Nothing was changed in Sage" in message

    slow.faults.configure(latency=0.0)
    again = await ok(tools, "list_contacts", {"items_per_page": 2})
    assert again["items"], "the server keeps serving after a call ran out of time"
    await settled(slow)


async def test_a_write_past_the_deadline_gives_its_key_and_repeating_with_it_never_doubles(
    tools: Client, slow: SandboxServer, short: Settings
) -> None:
    name = f"Deadline {secrets.token_hex(4)}"
    slow.faults.pause()
    try:
        with anyio.fail_after(GUARD):
            message = await err(tools, "sage_api_write", contact_body(name))
    finally:
        slow.faults.resume()
    assert "Sage is slow" in message and "may or may not have been recorded" in message
    key = message.split("idempotency_key '")[1].split("'")[0]
    await settled(slow)  # the held request now reaches the sandbox, as a slow Sage would carry it out late
    again = await ok(tools, "sage_api_write", {**contact_body(name), "idempotency_key": key})
    assert again["idempotency_id"] == key
    assert len(await contacts_named(tools, name)) == 1, "the repeat with the key did not record a second contact"
    audit = [json.loads(line) for line in short.audit_log_path.read_text().splitlines()]
    assert [(e["tool"], e["outcome"], e["idempotency_id"]) for e in audit] == [
        ("sage_api_write", "timeout", key),
        ("sage_api_write", "ok", key),
    ]


async def test_a_write_stopped_before_it_sent_anything_says_nothing_changed(tools: Client, slow: SandboxServer) -> None:
    contact = (await ok(tools, "list_contacts", {"contact_type": "customer", "items_per_page": 1}))["items"][0]
    reference = f"DL-{secrets.token_hex(3)}"
    args = {
        "contact_id": contact["id"],
        "reference": reference,
        "lines": [{"description": "Widgets", "quantity": "1", "unit_price": "10.00", "tax_rate_id": "GB_STANDARD"}],
    }
    slow.faults.pause()  # the contact lookup that comes before the invoice is held
    try:
        with anyio.fail_after(GUARD):
            message = await err(tools, "create_invoice", args)
    finally:
        slow.faults.resume()
    assert "Sage is slow" in message and "Nothing was changed in Sage" in message
    assert "idempotency_key" not in message
    await settled(slow)
    found = await ok(tools, "list_invoices", {"search": reference})
    assert [i for i in found["items"] if i.get("reference") == reference] == []


async def test_a_retry_after_longer_than_the_time_left_is_reported_not_slept_through(
    slow: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(slow, tmp_path, toolsets="all", call_timeout=10.0, max_retries=3)
    async with Client(create_server(settings)) as client:
        await ok(client, "list_businesses")
        before = slow.counters[("GET", "/v3.1/contacts")]
        slow.faults.script("429", "GET", "/contacts", count=1, retry_after=120)
        with anyio.fail_after(GUARD):
            message = await err(client, "list_contacts", {"items_per_page": 2})
        assert "Sage asks to retry after 120 s" in message and "HTTP 429" in message
        assert "did not retry" in message and "Nothing was changed" in message
        assert slow.counters[("GET", "/v3.1/contacts")] - before == 1, "asked once, not retried"

        # Within Sage's 60 s but past this call's deadline: a write is refused untouched, with its key.
        name = f"Later {secrets.token_hex(4)}"
        slow.faults.script("429", "POST", "/contacts", count=1, retry_after=30)
        short = settings.model_copy(update={"call_timeout": 5.0})
    async with Client(create_server(short)) as client:
        with anyio.fail_after(GUARD):
            message = await err(client, "sage_api_write", contact_body(name))
        assert "Sage asks to retry after 30 s" in message and "did nothing" in message
        key = message.split("idempotency_key '")[1].split("'")[0]
        assert await contacts_named(client, name) == []
        created = await ok(client, "sage_api_write", {**contact_body(name), "idempotency_key": key})
        assert created["idempotency_id"] == key and len(await contacts_named(client, name)) == 1
    slow.faults.clear()


async def test_a_short_retry_after_is_still_waited_out(tools: Client, slow: SandboxServer) -> None:
    slow.faults.script("429", "GET", "/contacts", count=1, retry_after=0)
    slow.faults.script("503", "GET", "/contacts", count=1, retry_after=0)
    assert (await ok(tools, "list_contacts", {"items_per_page": 1}))["items"]


# -- the client on its own: 429 without Retry-After, and the deadline's effect on backoff --------------------------


def mock_client(tmp_path: Path, answers: list[httpx2.Response], seen: list[str]) -> SageClient:
    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        return answers.pop(0)

    settings = Settings(data_dir=tmp_path, client_id="c", api_base_url="https://sage.invalid/v3.1", max_retries=3)
    FileTokenStore(settings.token_store_path).save(
        StoredLogin(TokenSet("a", "r", time.time() + 300, None, "full_access"))
    )
    return SageClient(settings, transport=httpx2.MockTransport(handler))


def too_many(**headers: str) -> httpx2.Response:
    body = [{"$severity": "error", "$dataCode": "TooManyRequests", "$message": "slow down", "$source": ""}]
    return httpx2.Response(429, json=body, headers=headers)


async def test_a_429_without_retry_after_backs_off_and_retries(tmp_path: Path) -> None:
    seen: list[str] = []
    ok_page = httpx2.Response(200, json={"$items": [{"id": "1"}], "$total": 1})
    async with mock_client(tmp_path, [too_many(), ok_page], seen) as sage:
        reset = call_budget.set(CallBudget(deadline=time.monotonic() + 60))
        try:
            body = await sage.for_business(LEAD_BUSINESS_ID).get("/contacts")
        finally:
            call_budget.reset(reset)
    assert body["$total"] == 1 and len(seen) == 2


async def test_no_retry_is_started_that_the_deadline_would_cut_short(tmp_path: Path) -> None:
    seen: list[str] = []
    async with mock_client(tmp_path, [too_many(), too_many()], seen) as sage:
        reset = call_budget.set(CallBudget(deadline=time.monotonic() + 0.05))  # less than the first backoff
        try:
            with pytest.raises(SageRateLimitError):
                await sage.for_business(LEAD_BUSINESS_ID).get("/contacts")
        finally:
            call_budget.reset(reset)
    assert len(seen) == 1


async def test_a_retry_after_past_sages_sixty_seconds_is_reported_even_without_a_deadline(tmp_path: Path) -> None:
    seen: list[str] = []
    async with mock_client(tmp_path, [too_many(**{"Retry-After": "3600"})], seen) as sage:
        with pytest.raises(SageRetryLaterError) as caught:
            await sage.for_business(LEAD_BUSINESS_ID).get("/contacts")
    assert caught.value.retry_after == 3600 and caught.value.status == 429 and len(seen) == 1
    assert str(caught.value).startswith("Sage asks to retry after 3600 s (HTTP 429 on GET /contacts)")


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert _retry_after_seconds("120") == 120
    assert _retry_after_seconds("0") == 0
    assert _retry_after_seconds("-5") == 0
    in_an_hour = email.utils.formatdate(time.time() + 3600, usegmt=True)
    seconds = _retry_after_seconds(in_an_hour)
    assert seconds is not None and 3500 < seconds <= 3600
    for unreadable in (None, "", "soon", "nan", "inf", "Mon, 99 Foo 2026"):
        assert _retry_after_seconds(unreadable) is None, unreadable


async def test_a_long_retry_after_on_a_page_fetched_alongside_others_is_reported_too(tmp_path: Path) -> None:
    """Pages after the first are fetched concurrently; Sage refusing one of them is still a plain answer."""
    business = {"id": LEAD_BUSINESS_ID, "name": "Mock Books"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/businesses"):
            return httpx2.Response(200, json={"$items": [business], "$total": 1, "$next": None})
        page = int(request.url.params.get("page", "1"))
        if page == 1:
            items = [{"id": f"{n:032x}", "name": f"Contact {n}", "displayed_as": f"Contact {n}"} for n in range(200)]
            return httpx2.Response(200, json={"$items": items, "$total": 450, "$next": "/contacts?page=2"})
        if page == 2:
            return too_many(**{"Retry-After": "3600"})
        return httpx2.Response(200, json={"$items": [], "$total": 450, "$next": None})

    settings = Settings(
        data_dir=tmp_path, client_id="c", api_base_url="https://sage.invalid/v3.1", business_id=LEAD_BUSINESS_ID
    )
    FileTokenStore(settings.token_store_path).save(
        StoredLogin(TokenSet("a", "r", time.time() + 300, None, "full_access"))
    )
    dispatcher = Dispatcher(Registry.build("all"), settings)
    async with SageClient(settings, transport=httpx2.MockTransport(handler)) as sage:
        with anyio.fail_after(GUARD):
            result = await dispatcher.call(sage, "list_contacts", {"all_pages": True})
    assert result.is_error
    message = result.content[0].text
    assert message.startswith("Sage asks to retry after 3600 s (HTTP 429 on GET /contacts)"), message
    assert "internal error" not in message
