"""Sales tools through a real MCP client (both protocol eras) against the sandbox: invoices (draft, update,
release), credit notes, quotes and estimates (create, update, convert)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from mcp import Client

from tests.test_tools import a_customer, err, ok

pytestmark = pytest.mark.anyio
BOGUS = "0" * 32


def tag(prefix: str) -> str:
    """A reference no other test (or protocol era) uses."""
    return f"{prefix}-{secrets.token_hex(4).upper()}"


async def count(client: Client, tool: str, search: str, **extra: Any) -> int:
    return int((await ok(client, tool, {"search": search, **extra}))["total"])


# -- sales invoices: draft, update, release ------------------------------------------------------------


async def test_draft_invoice_is_updated_released_and_voided(client: Client) -> None:
    customer = await a_customer(client)
    ref = tag("DRAFT")
    args = {
        "contact_id": customer["id"],
        "date": "2026-11-03",
        "reference": ref,
        "status": "DRAFT",
        "idempotency_key": f"draft-{ref}",
        "lines": [
            {"description": "Sample", "unit_price": "0.125", "tax_rate_id": "GB_STANDARD"},
            {
                "description": "Widgets",
                "quantity": "2",
                "unit_price": "10.00",
                "discount_amount": "0.50",
                "tax_rate_id": "GB_STANDARD",
            },
        ],
    }
    draft = await ok(client, "create_invoice", args)
    # 0.125 -> 0.13 and its VAT 0.026 -> 0.03 (half up, not to even); 2 x 10.00 - 0.50 = 19.50, VAT 3.90.
    assert (draft["status"], draft["net"], draft["tax"], draft["total"]) == ("DRAFT", "19.63", "3.93", "23.56")
    assert [line["net"] for line in draft["lines"]] == ["0.13", "19.50"] and draft["lines"][1]["discount"] == "0.50"
    again = await ok(client, "create_invoice", args)
    assert again["id"] == draft["id"] and again["idempotency_id"] == draft["idempotency_id"]
    assert await count(client, "list_invoices", ref) == 1, "a repeated key records nothing new"

    changed = await ok(
        client,
        "update_invoice",
        {
            "id": draft["id"],
            "due_date": "2026-12-31",
            "notes": "Thank you",
            "lines": [{"description": "Consulting", "quantity": "3", "unit_price": "3.335"}],
        },
    )
    # 3 x 3.335 = 10.005 -> 10.01; the default account 4000 carries GB_STANDARD: 2.002 -> 2.00.
    assert (changed["net"], changed["tax"], changed["total"]) == ("10.01", "2.00", "12.01")
    assert len(changed["lines"]) == 1 and changed["lines"][0]["tax_rate_id"] == "GB_STANDARD"
    assert changed["due_date"] == "2026-12-31" and changed["notes"] == "Thank you"
    assert changed["reference"] == ref and changed["status"] == "DRAFT" and "warning" not in changed

    refused = await err(client, "update_invoice", {"id": draft["id"], "due_date": "2026-11-01"})
    assert "422" in refused and "due_date" in refused
    assert "nothing to update" in await err(client, "update_invoice", {"id": draft["id"]})

    released = await ok(client, "update_invoice", {"release": True, "id": draft["id"]})
    assert released["status"] == "UNPAID" and released["outstanding"] == "12.01" and released["number"]
    twice = await err(client, "update_invoice", {"release": True, "id": draft["id"]})
    assert "422" in twice and "draft" in twice
    keyed = await ok(
        client, "update_invoice", {"release": True, "id": draft["id"], "idempotency_key": released["idempotency_id"]}
    )
    assert keyed["status"] == "UNPAID" and "nothing changed" in keyed["note"]

    await ok(client, "void_invoice", {"id": draft["id"], "reason": "Test"})
    void = await err(client, "update_invoice", {"id": draft["id"], "reference": "X"})
    assert "422" in void and "void" in void


async def test_update_and_release_refuse_bad_arguments_and_unknown_ids(client: Client) -> None:
    assert "id: required" in await err(client, "update_invoice", {"reference": "x"})
    bad_money = await err(client, "update_invoice", {"id": BOGUS, "lines": [{"description": "x", "unit_price": "1,5"}]})
    assert "lines[0].unit_price" in bad_money and "decimal" in bad_money
    assert "list_invoices" in await err(client, "update_invoice", {"id": BOGUS, "notes": "x"})
    assert "id: required" in await err(client, "update_invoice", {"release": True})
    assert "list_invoices" in await err(client, "update_invoice", {"release": True, "id": BOGUS})
    status = await err(
        client,
        "create_invoice",
        {"contact_id": BOGUS, "status": "PAID", "lines": [{"description": "x", "unit_price": "1"}]},
    )
    assert "status" in status and "DRAFT" in status
    customer = await a_customer(client)
    late = await err(
        client,
        "create_invoice",
        {
            "contact_id": customer["id"],
            "date": "2026-11-10",
            "due_date": "2026-11-01",
            "status": "DRAFT",
            "lines": [{"description": "x", "unit_price": "1"}],
        },
    )
    assert "422" in late and "due_date" in late


# -- sales credit notes ------------------------------------------------------------------------------------


async def test_credit_note_for_a_whole_invoice_and_from_lines(client: Client) -> None:
    customer = await a_customer(client)
    invoice = await ok(
        client,
        "create_invoice",
        {
            "contact_id": customer["id"],
            "date": "2026-11-04",
            "reference": tag("CRD"),
            "lines": [
                {"description": "Boxes", "quantity": "4", "unit_price": "2.5", "tax_rate_id": "GB_STANDARD"},
                {"description": "Books", "unit_price": "12.00", "tax_rate_id": "GB_ZERO"},
            ],
        },
    )
    key = tag("cn")
    whole = await ok(
        client, "create_invoice", {"type": "sales_credit_note", "invoice_id": invoice["id"], "idempotency_key": key}
    )
    assert (whole["net"], whole["tax"], whole["total"]) == (invoice["net"], invoice["tax"], invoice["total"])
    assert whole["contact_id"] == customer["id"] and whole["reference"] == invoice["number"]
    assert whole["original_invoice_date"] == "2026-11-04" and whole["status"] == "UNPAID"
    assert [line["description"] for line in whole["lines"]] == ["Boxes", "Books"]
    repeat = await ok(
        client, "create_invoice", {"type": "sales_credit_note", "invoice_id": invoice["id"], "idempotency_key": key}
    )
    assert repeat["id"] == whole["id"]
    assert await count(client, "list_invoices", invoice["number"], type="sales_credit_note") == 1

    ref = tag("GOODWILL")
    partial = await ok(
        client,
        "create_invoice",
        {
            "type": "sales_credit_note",
            "contact_id": customer["id"],
            "reference": ref,
            "lines": [{"description": "Goodwill", "unit_price": "8.335", "tax_rate_id": "GB_STANDARD"}],
        },
    )
    assert (partial["net"], partial["tax"], partial["total"]) == ("8.34", "1.67", "10.01")

    listed = await ok(
        client, "list_invoices", {"type": "sales_credit_note", "contact_id": customer["id"], "search": ref}
    )
    assert [c["id"] for c in listed["items"]] == [partial["id"]] and listed["items"][0]["outstanding"] == "10.01"
    got = (await ok(client, "list_invoices", {"type": "sales_credit_note", "id": partial["id"]}))["items"][0]
    assert got["number"] == partial["number"] and got["lines"][0]["net"] == "8.34"
    full = (await ok(client, "sage_api_get", {"path": f"/sales_credit_notes/{partial['id']}"}))["data"]
    assert full["credit_note_lines"][0]["unit_price"] in ("8.335", 8.335)

    voided = await ok(
        client, "void_invoice", {"type": "sales_credit_note", "id": partial["id"], "reason": "Issued twice"}
    )
    assert voided["status"] == "VOID" and voided["void_reason"] == "Issued twice"


async def test_credit_note_refusals(client: Client) -> None:
    customer = await a_customer(client)
    paid = (await ok(client, "list_invoices", {"type": "sales_credit_note", "statuses": ["PAID"]}))["items"]
    assert paid and all(c["status"] == "PAID" and c["outstanding"] == "0.00" for c in paid)
    refused = await err(client, "void_invoice", {"type": "sales_credit_note", "id": paid[0]["id"], "reason": "x"})
    assert "422" in refused and "paid" in refused

    assert "statuses" in await err(client, "list_invoices", {"type": "sales_credit_note", "statuses": ["OPEN"]})
    assert "list_invoices" in await err(client, "list_invoices", {"type": "sales_credit_note", "id": BOGUS})
    assert "reason" in await err(client, "void_invoice", {"type": "sales_credit_note", "id": BOGUS})
    assert "list_invoices" in await err(
        client, "void_invoice", {"type": "sales_credit_note", "id": BOGUS, "reason": "x"}
    )
    assert "contact_id" in await err(
        client, "create_invoice", {"type": "sales_credit_note", "lines": [{"description": "x", "unit_price": "1"}]}
    )
    assert "list_invoices" in await err(client, "create_invoice", {"type": "sales_credit_note", "invoice_id": BOGUS})
    assert "invoice_id" in await err(client, "create_invoice", {"type": "sales_credit_note", "invoice_id": 42})
    too_much = await err(
        client,
        "create_invoice",
        {
            "type": "sales_credit_note",
            "contact_id": customer["id"],
            "lines": [{"description": "x", "unit_price": "5.00", "discount_amount": "6.00", "tax_rate_id": "GB_ZERO"}],
        },
    )
    assert "422" in too_much and "lines[].discount_amount" in too_much


# -- sales quotes and estimates ------------------------------------------------------------------------------


async def test_quotes_and_estimates_are_listed_created_updated_and_read(client: Client) -> None:
    customer = await a_customer(client)
    quotes = await ok(client, "list_invoices", {"type": "sales_quote", "items_per_page": 50})
    estimates = await ok(client, "list_invoices", {"type": "sales_estimate", "all_pages": True})
    assert estimates["total"] == len(estimates["items"])
    assert quotes["items"] and all(q["number"].startswith("SQ-") for q in quotes["items"])
    assert estimates["items"] and all(e["number"].startswith("SE-") for e in estimates["items"])
    pending = await ok(client, "list_invoices", {"type": "sales_quote", "statuses": ["PENDING"]})
    assert all(q["status"] == "PENDING" and q["expiry_date"] for q in pending["items"])

    ref = tag("EST")
    args = {
        "type": "sales_estimate",
        "contact_id": customer["id"],
        "date": "2026-11-05",
        "reference": ref,
        "idempotency_key": ref,
        "lines": [{"description": "Survey", "quantity": "1.5", "unit_price": "33.33", "tax_rate_id": "GB_STANDARD"}],
    }
    estimate = await ok(client, "create_invoice", args)
    # 1.5 x 33.33 = 49.995 -> 50.00; VAT 10.00.
    assert (estimate["net"], estimate["tax"], estimate["total"]) == ("50.00", "10.00", "60.00")
    assert estimate["number"].startswith("SE-") and estimate["status"] == "PENDING"
    assert estimate["expiry_date"] == "2026-12-05"
    assert (await ok(client, "create_invoice", args))["id"] == estimate["id"]
    assert await count(client, "list_invoices", ref, type="sales_estimate") == 1

    got = (await ok(client, "list_invoices", {"type": "sales_estimate", "id": estimate["id"]}))["items"][0]
    assert got["number"] == estimate["number"] and got["lines"][0]["net"] == "50.00"
    accepted = await ok(
        client,
        "update_invoice",
        {
            "type": "sales_estimate",
            "id": estimate["id"],
            "status": "ACCEPTED",
            "lines": [{"description": "Survey and report", "quantity": "2", "unit_price": "40.00"}],
        },
    )
    assert accepted["status"] == "ACCEPTED" and (accepted["net"], accepted["total"]) == ("80.00", "96.00")
    assert accepted["reference"] == ref and len(accepted["lines"]) == 1

    late = await err(
        client, "update_invoice", {"type": "sales_estimate", "id": estimate["id"], "due_date": "2026-10-01"}
    )
    assert "422" in late and "expiry_date" in late
    early = await err(client, "create_invoice", {**args, "due_date": "2026-11-01", "idempotency_key": tag("k")})
    assert "422" in early and "expiry_date" in early


async def test_quote_refusals(client: Client) -> None:
    assert "type" in await err(client, "list_invoices", {"type": "sales_proposal"})
    assert "list_invoices" in await err(client, "list_invoices", {"type": "sales_quote", "id": BOGUS})
    assert "contact_id" in await err(
        client, "create_invoice", {"type": "sales_quote", "lines": [{"description": "x", "unit_price": "1"}]}
    )
    assert "list_contacts" in await err(
        client,
        "create_invoice",
        {"type": "sales_quote", "contact_id": BOGUS, "lines": [{"description": "x", "unit_price": "1"}]},
    )
    assert "status" in await err(client, "update_invoice", {"type": "sales_quote", "id": BOGUS, "status": "INVOICED"})
    assert "list_invoices" in await err(client, "update_invoice", {"type": "sales_quote", "id": BOGUS, "notes": "x"})
    assert "contact_id" in await err(client, "create_invoice", {"date": "2026-11-01"})
    assert "not for type sales_quote" in await err(client, "create_invoice", {"type": "sales_quote", "quote_id": BOGUS})
    assert "release" in await err(client, "update_invoice", {"type": "sales_quote", "id": BOGUS, "release": True})
    assert "list_invoices" in await err(client, "create_invoice", {"quote_id": BOGUS})


async def test_convert_quote_to_invoice_links_both(client: Client) -> None:
    customer = await a_customer(client)
    quote = await ok(
        client,
        "create_invoice",
        {
            "type": "sales_quote",
            "contact_id": customer["id"],
            "reference": tag("Q"),
            "lines": [
                {"description": "Design", "quantity": "3", "unit_price": "3.335", "tax_rate_id": "GB_STANDARD"},
                {"description": "Print", "unit_price": "20.00", "discount_amount": "2.50", "tax_rate_id": "GB_ZERO"},
            ],
        },
    )
    assert quote["number"].startswith("SQ-") and quote["total"] == "29.51"
    late = await err(
        client, "create_invoice", {"quote_id": quote["id"], "date": "2026-11-10", "due_date": "2026-11-01"}
    )
    assert "422" in late and "due_date" in late

    key = tag("conv")
    invoice = await ok(client, "create_invoice", {"quote_id": quote["id"], "idempotency_key": key})
    assert invoice["quote_id"] == quote["id"] and invoice["status"] == "UNPAID"
    assert (invoice["net"], invoice["tax"], invoice["total"]) == (quote["net"], quote["tax"], quote["total"])
    assert invoice["reference"] == quote["reference"] and invoice["date"] == dt.date.today().isoformat()
    assert [line["discount"] for line in invoice["lines"] if "discount" in line] == ["2.50"]
    repeat = await ok(client, "create_invoice", {"quote_id": quote["id"], "idempotency_key": key})
    assert repeat["id"] == invoice["id"]
    assert await count(client, "list_invoices", quote["reference"]) == 1

    invoiced = (await ok(client, "list_invoices", {"type": "sales_quote", "id": quote["id"]}))["items"][0]
    assert invoiced["status"] == "INVOICED" and invoiced["invoice_id"] == invoice["id"]
    full = (await ok(client, "sage_api_get", {"path": f"/sales_invoices/{invoice['id']}"}))["data"]
    assert full["original_quote_estimate"]["id"] == quote["id"]

    again = await err(client, "create_invoice", {"quote_id": quote["id"]})
    assert "INVOICED" in again and invoice["id"] in again
    other_key = await err(client, "create_invoice", {"quote_id": quote["id"], "idempotency_key": tag("k")})
    assert "INVOICED" in other_key, "a new key still cannot invoice it twice"
    locked = await err(client, "update_invoice", {"type": "sales_quote", "id": quote["id"], "status": "DECLINED"})
    assert "422" in locked and "invoiced" in locked
