"""A caller's idempotency_key stands for one call: through a real MCP client (both protocol eras) against
the sandbox. A reused key with other arguments is refused naming both calls; a true repeat sends nothing
and shows the record as it is now, marked ``replayed``; keys survive a restart; a call that changed
nothing frees its key."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.sandbox import SECOND_BUSINESS_ID, SandboxServer
from sage_mcp.server import create_server
from sage_mcp.stores.fingerprints import Fingerprint, SqliteFingerprintStore
from tests.test_tools import a_customer, err, ok

pytestmark = pytest.mark.anyio


def tag(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4).upper()}"


def invoice_args(customer: dict[str, Any], reference: str, key: str, price: str = "100.00") -> dict[str, Any]:
    return {
        "contact_id": customer["id"],
        "reference": reference,
        "idempotency_key": key,
        "lines": [{"description": "Consulting", "unit_price": price, "tax_rate_id": "GB_ZERO"}],
    }


def posts(sandbox: SandboxServer, collection: str) -> int:
    return sandbox.counters[("POST", f"/v3.1/{collection}")]


async def test_reused_key_with_other_arguments_is_refused_naming_both(client: Client, sandbox: SandboxServer) -> None:
    customer = await a_customer(client)
    key = tag("order")
    first_ref, other_ref = tag("SHOP"), tag("SHOP")
    first = await ok(client, "create_sales_invoice", invoice_args(customer, first_ref, key))
    sent = posts(sandbox, "sales_invoices")

    refused = await err(client, "create_sales_invoice", invoice_args(customer, other_ref, key, "250.00"))
    assert f"idempotency_key '{key}' was already used" in refused
    assert first_ref in refused and other_ref in refused, "both calls are named"
    assert f"reference: '{first_ref}' then, '{other_ref}' now" in refused
    assert "lines[0].unit_price: '100.00' then, '250.00' now" in refused
    assert "Nothing was sent to Sage" in refused
    assert posts(sandbox, "sales_invoices") == sent
    found = await ok(client, "list_sales_invoices", {"search": other_ref})
    assert found["total"] == 0

    elsewhere = await err(
        client, "create_contact", {"name": "Key Reuse Ltd", "contact_type": "customer", "idempotency_key": key}
    )
    assert "this call is create_contact, not create_sales_invoice" in elsewhere
    assert (await ok(client, "get_sales_invoice", {"invoice_id": first["id"]}))["reference"] == first_ref


async def test_replay_is_marked_sends_nothing_and_shows_the_record_as_it_is_now(
    client: Client, sandbox: SandboxServer
) -> None:
    customer = await a_customer(client)
    ref = tag("SHOP")
    args = invoice_args(customer, ref, tag("order"))
    first = await ok(client, "create_sales_invoice", args)
    assert first["status"] == "UNPAID" and first["outstanding"] == "100.00" and "replayed" not in first
    await ok(
        client,
        "record_customer_receipt",
        {"contact_id": customer["id"], "allocations": [{"invoice_id": first["id"], "amount": "40.00"}]},
    )
    sent = posts(sandbox, "sales_invoices")

    again = await ok(client, "create_sales_invoice", args)
    assert again["replayed"] is True
    assert again["id"] == first["id"] and again["idempotency_id"] == first["idempotency_id"]
    assert (again["status"], again["outstanding"]) == ("PART_PAID", "60.00"), "the invoice as it is now"
    assert posts(sandbox, "sales_invoices") == sent, "a replay sends nothing"
    assert (await ok(client, "list_sales_invoices", {"search": ref}))["total"] == 1


async def test_keys_survive_a_restart(settings: Settings, sandbox: SandboxServer) -> None:
    key, name = tag("contact"), f"Restart {tag('Ltd')}"
    async with Client(create_server(settings), mode="legacy") as before:
        made = await ok(before, "create_contact", {"name": name, "contact_type": "customer", "idempotency_key": key})
    assert (settings.data_dir / "fingerprints.sqlite").exists()
    sent = posts(sandbox, "contacts")
    async with Client(create_server(settings)) as after:  # a new server, the same data dir
        again = await ok(after, "create_contact", {"name": name, "contact_type": "customer", "idempotency_key": key})
        assert again["id"] == made["id"] and again["replayed"] is True
        refused = await err(
            after, "create_contact", {"name": name + " 2", "contact_type": "customer", "idempotency_key": key}
        )
        assert "already used" in refused and name in refused
    assert posts(sandbox, "contacts") == sent


async def test_a_call_that_changed_nothing_frees_its_key(client: Client) -> None:
    key = tag("order")
    refused = await err(
        client,
        "create_sales_invoice",
        {"contact_id": "0" * 32, "lines": [{"description": "x", "unit_price": "1.00"}], "idempotency_key": key},
    )
    assert "already used" not in refused
    customer = await a_customer(client)
    made = await ok(client, "create_sales_invoice", invoice_args(customer, tag("SHOP"), key))
    assert "replayed" not in made


async def test_keys_are_per_business(client: Client) -> None:
    key = tag("contact")
    here = await ok(
        client, "create_contact", {"name": "Per Business Ltd", "contact_type": "customer", "idempotency_key": key}
    )
    there = await ok(
        client,
        "create_contact",
        {
            "name": "Per Business Ltd",
            "contact_type": "customer",
            "idempotency_key": key,
            "business_id": SECOND_BUSINESS_ID,
        },
    )
    assert there["business"]["id"] == SECOND_BUSINESS_ID and there["id"] != here["id"]
    assert "replayed" not in there


async def test_sqlite_store_is_shared_between_processes_and_forgets_after_the_window(tmp_path: Path) -> None:
    now = [1_000_000.0]
    one = SqliteFingerprintStore(tmp_path / "f.sqlite", clock=lambda: now[0])
    two = SqliteFingerprintStore(tmp_path / "f.sqlite", clock=lambda: now[0])
    first = Fingerprint(
        "u|b", "k", "d1", "create_contact", "create_contact(name='A')", "{}", now[0], now[0] + 7 * 86400
    )
    assert await one.claim(first) is None
    seen = await two.claim(Fingerprint("u|b", "k", "d2", "create_contact", "s", "{}", now[0], now[0] + 10))
    assert seen is not None and seen.digest == "d1" and not seen.done
    await one.complete("u|b", "k", ["/contacts/abc"])
    done = await two.get("u|b", "k")
    assert done is not None and done.done and done.records == ("/contacts/abc",)
    await two.release("u|b", "k", "d1")  # a finished call's key is kept
    assert await one.get("u|b", "k") is not None
    assert await one.get("other|b", "k") is None
    now[0] += 7 * 86400 + 1
    assert await two.get("u|b", "k") is None
    assert await two.claim(first) is None, "an expired key is free again"
    assert (tmp_path / "f.sqlite").stat().st_mode & 0o777 == 0o600


async def test_replay_of_a_record_deleted_since_says_so(client: Client, sandbox: SandboxServer) -> None:
    args = {"name": f"Gone {tag('Ltd')}", "contact_type": "customer", "idempotency_key": tag("contact")}
    made = await ok(client, "create_contact", args)
    await ok(client, "delete_contact", {"contact_id": made["id"]})
    sent = posts(sandbox, "contacts")
    gone = await err(client, "create_contact", args)
    assert "already used" in gone and f"no longer has /contacts/{made['id']}" in gone and "Nothing was sent" in gone
    assert posts(sandbox, "contacts") == sent


async def test_the_id_a_write_without_a_key_returned_works_as_its_key(client: Client, sandbox: SandboxServer) -> None:
    args = {"name": f"Lost Response {tag('Ltd')}", "contact_type": "customer"}
    made = await ok(client, "create_contact", args)
    sent = posts(sandbox, "contacts")
    again = await ok(client, "create_contact", {**args, "idempotency_key": made["idempotency_id"]})
    assert again["id"] == made["id"] and again["replayed"] is True and posts(sandbox, "contacts") == sent
    other = await err(
        client, "create_contact", {**args, "name": "Someone Else", "idempotency_key": made["idempotency_id"]}
    )
    assert "already used" in other and args["name"] in other and posts(sandbox, "contacts") == sent
