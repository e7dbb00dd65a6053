"""Nothing lost, nothing posted twice: the tools against a sandbox that throttles, fails and drops connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def faulty() -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig()) as server:
        yield server


@pytest.fixture
async def tools(faulty: SandboxServer, tmp_path: Path) -> AsyncIterator[Client]:
    faulty.faults.clear()
    settings: Settings = sandbox_settings(faulty, tmp_path, max_retries=3)
    async with Client(create_server(settings)) as client:
        yield client
    faulty.faults.clear()


async def customer_id(client: Client) -> str:
    result = await client.call_tool("list_contacts", {"contact_type": "customer", "items_per_page": 1})
    return str(result.structured_content["items"][0]["id"])


def invoice_args(contact_id: str, reference: str) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "reference": reference,
        "lines": [{"description": "Widgets", "quantity": "4", "unit_price": "12.50", "tax_rate_id": "GB_STANDARD"}],
    }


async def invoices_with_reference(client: Client, reference: str) -> list[dict[str, Any]]:
    found = await client.call_tool("list_invoices", {"search": reference, "items_per_page": 200})
    return [i for i in found.structured_content["items"] if i.get("reference") == reference]


async def test_reads_ride_out_429_and_503(tools: Client, faulty: SandboxServer) -> None:
    faulty.faults.script("429", "GET", "/contacts", count=1, retry_after=0)
    faulty.faults.script("503", "GET", "/contacts", count=1, retry_after=0)
    result = await tools.call_tool("list_contacts", {"items_per_page": 2})
    assert not result.is_error, result.content
    assert faulty.counters[("GET", "/v3.1/contacts")] >= 3


async def test_commit_then_500_creates_exactly_one_invoice(tools: Client, faulty: SandboxServer) -> None:
    contact = await customer_id(tools)
    faulty.faults.script("commit_then_500", "POST", "/sales_invoices", count=1)
    result = await tools.call_tool("create_invoice", invoice_args(contact, "RELY-500"))
    assert not result.is_error, result.content
    assert result.structured_content["total"] == "60.00"
    assert len(await invoices_with_reference(tools, "RELY-500")) == 1, "the retry replayed, it did not post twice"


async def test_dropped_connection_after_commit_creates_exactly_one_invoice(
    tools: Client, faulty: SandboxServer
) -> None:
    contact = await customer_id(tools)
    faulty.faults.script("commit_then_drop", "POST", "/sales_invoices", count=1)
    result = await tools.call_tool("create_invoice", invoice_args(contact, "RELY-DROP"))
    assert not result.is_error, result.content
    assert len(await invoices_with_reference(tools, "RELY-DROP")) == 1


async def test_lost_answer_then_repeat_with_the_returned_key_never_doubles(
    tools: Client, faulty: SandboxServer, tmp_path: Path
) -> None:
    contact = await customer_id(tools)
    faulty.faults.script("commit_then_500", "POST", "/sales_invoices", count=5)  # outlasts every retry
    failed = await tools.call_tool("create_invoice", invoice_args(contact, "RELY-KEY"))
    assert failed.is_error
    message = failed.content[0].text
    assert "idempotency_key" in message
    key = message.split("idempotency_key '")[1].split("'")[0]
    faulty.faults.clear()
    again = await tools.call_tool("create_invoice", {**invoice_args(contact, "RELY-KEY"), "idempotency_key": key})
    assert not again.is_error, again.content
    assert again.structured_content["idempotency_id"] == key
    assert len(await invoices_with_reference(tools, "RELY-KEY")) == 1


async def test_an_unkeyed_delete_is_not_retried_blindly(tools: Client, faulty: SandboxServer) -> None:
    contact = await customer_id(tools)
    created = await tools.call_tool("create_invoice", invoice_args(contact, "RELY-VOID"))
    invoice_id = created.structured_content["id"]
    faulty.faults.script("drop", "DELETE", "/sales_invoices", count=1)
    before = faulty.counters[("DELETE", f"/v3.1/sales_invoices/{invoice_id}")]
    result = await tools.call_tool("void_invoice", {"id": invoice_id, "reason": "test"})
    assert result.is_error
    assert "may or may not have been applied" in result.content[0].text
    assert faulty.counters[("DELETE", f"/v3.1/sales_invoices/{invoice_id}")] - before == 1
