"""Sage commits a write but answers only after the client has given up (the sandbox's ``commit_then_late``
fault: the answer leaves ``late_answer_delay`` seconds after the commit, longer than the client's timeout).

The tools' retries carry the same ``idempotency_id``, so Sage replays the record it already made instead of
making a second; when every answer comes too late, the error gives the key to repeat the call safely with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server

pytestmark = pytest.mark.anyio

#: The client gives up on a request after this many seconds ...
CLIENT_TIMEOUT = 0.5
#: ... and Sage answers a committed write this much later.
LATE_BY = 2.0


@pytest.fixture(scope="module")
def late() -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig(late_answer_delay=LATE_BY)) as server:
        yield server


@pytest.fixture
async def tools(late: SandboxServer, tmp_path: Path) -> AsyncIterator[Client]:
    late.faults.clear()
    settings = sandbox_settings(late, tmp_path, timeout=CLIENT_TIMEOUT, max_retries=2, call_timeout=30.0)
    async with Client(create_server(settings)) as client:
        yield client
    late.faults.clear()


async def a_customer(client: Client) -> str:
    result = await client.call_tool("list_contacts", {"contact_type": "customer", "items_per_page": 1})
    return str(result.structured_content["items"][0]["id"])


def invoice_args(contact_id: str, reference: str) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "reference": reference,
        "lines": [
            {"description": "Oak shelving", "quantity": "2", "unit_price": "45.00", "tax_rate_id": "GB_STANDARD"}
        ],
    }


async def invoices_with_reference(client: Client, reference: str) -> list[dict[str, Any]]:
    found = await client.call_tool("list_invoices", {"search": reference, "items_per_page": 200})
    return [i for i in found.structured_content["items"] if i.get("reference") == reference]


async def test_a_late_answer_is_replaced_by_the_retry_and_one_invoice_is_made(
    tools: Client, late: SandboxServer
) -> None:
    contact = await a_customer(tools)
    before = late.counters[("POST", "/v3.1/sales_invoices")]
    late.faults.script("commit_then_late", "POST", "/sales_invoices", count=1)
    result = await tools.call_tool("create_invoice", invoice_args(contact, "LATE-ONE"))
    assert not result.is_error, result.content
    assert result.structured_content["total"] == "108.00"
    assert late.counters[("POST", "/v3.1/sales_invoices")] - before == 2, "the first answer was given up on"
    made = await invoices_with_reference(tools, "LATE-ONE")
    assert [i["id"] for i in made] == [result.structured_content["id"]], "the retry replayed the committed invoice"


async def test_when_every_answer_is_late_the_error_gives_the_key_and_repeating_with_it_never_doubles(
    tools: Client, late: SandboxServer
) -> None:
    contact = await a_customer(tools)
    late.faults.script("commit_then_late", "POST", "/sales_invoices", count=10)  # outlasts every retry
    failed = await tools.call_tool("create_invoice", invoice_args(contact, "LATE-ALL"))
    assert failed.is_error
    message = failed.content[0].text
    assert "did not answer" in message and "may or may not have been recorded" in message, message
    key = message.split("idempotency_key '")[1].split("'")[0]
    late.faults.clear()
    again = await tools.call_tool("create_invoice", {**invoice_args(contact, "LATE-ALL"), "idempotency_key": key})
    assert not again.is_error, again.content
    assert again.structured_content["idempotency_id"] == key
    made = await invoices_with_reference(tools, "LATE-ALL")
    assert len(made) == 1 and made[0]["id"] == again.structured_content["id"], "the committed invoice, once"
