"""Contacts toolset: finding contacts fuzzily, updating and deleting them, and their people."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from mcp import Client

from sage_mcp.sandbox import SandboxServer
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio
MISSING = "0" * 32


def unique_reference() -> str:
    return f"T{secrets.token_hex(4).upper()}"


async def new_contact(client: Client, **extra: Any) -> dict[str, Any]:
    args = {"name": f"Tern Test Supplies {secrets.token_hex(3)}", "contact_type": "supplier", **extra}
    return await ok(client, "create_contact", args)


async def brightwater(client: Client) -> dict[str, Any]:
    found = await ok(client, "find_contact", {"query": "BRI001"})
    return found["items"][0]


# -- find_contact -------------------------------------------------------------------------------------


async def test_find_contact_tolerates_typos_case_and_finds_by_email_and_reference(client: Client) -> None:
    typo = await ok(client, "find_contact", {"query": "brightwatr consulting"})
    best = typo["items"][0]
    assert best["name"] == "Brightwater Consulting Ltd" and best["match"] == "name"
    assert 0.85 <= best["score"] < 1 and "ambiguous" not in typo
    assert all(item["score"] < best["score"] for item in typo["items"][1:])

    email = await ok(client, "find_contact", {"query": "ACCOUNTS@BRIGHTWATERCONSULTING.CO.UK"})
    assert email["items"][0]["id"] == best["id"]
    assert (email["items"][0]["score"], email["items"][0]["match"]) == (1.0, "email")

    reference = await ok(client, "find_contact", {"query": "bri001"})
    assert reference["items"][0]["id"] == best["id"] and reference["items"][0]["match"] == "reference"

    exact = await ok(client, "find_contact", {"query": "Brightwater Consulting Ltd", "contact_type": "customer"})
    assert exact["items"][0]["score"] == 1.0 and exact["items"][0]["type"] == "customer"


async def test_find_contact_says_when_ambiguous_or_absent(client: Client) -> None:
    dental = await ok(client, "find_contact", {"query": "dental"})
    names = [item["name"] for item in dental["items"][:2]]
    assert set(names) == {"Harbourside Dental Practice", "Orchard House Dental"}
    assert dental["ambiguous"] is True and "confirm" in dental["note"]

    nothing = await ok(client, "find_contact", {"query": "Zyxwvut Qqq"})
    assert nothing["total"] == 0 and nothing["items"] == [] and "list_contacts" in nothing["note"]
    assert "query" in await err(client, "find_contact", {"query": "!!!"})
    assert "query: required" in await err(client, "find_contact", {})


# -- create, update, delete --------------------------------------------------------------------------


async def test_create_contact_with_a_key_twice_creates_one_and_refuses_a_taken_reference(client: Client) -> None:
    reference = unique_reference()
    args = {"name": "Keyed Kites Ltd", "contact_type": "customer", "reference": reference, "idempotency_key": reference}
    first = await ok(client, "create_contact", args)
    again = await ok(client, "create_contact", args)
    assert again["id"] == first["id"] and again["idempotency_id"] == first["idempotency_id"]
    listed = await ok(client, "list_contacts", {"search": reference})
    assert listed["total"] == 1

    taken = await err(client, "create_contact", {"name": "Copycat", "contact_type": "customer", "reference": "BRI001"})
    assert "422" in taken and "reference: has already been taken" in taken
    nowhere = await err(
        client, "create_contact", {"name": "Nowhere Ltd", "contact_type": "customer", "address": {"country_id": "XX"}}
    )
    assert "HTTP 422" in nowhere and "address.country_id: is not a known country" in nowhere
    assert "contact_type" in await err(client, "create_contact", {"name": "No type"})
    assert "not one of customer" in await err(client, "create_contact", {"name": "Bad", "contact_type": "lender"})


async def test_update_then_delete_a_new_contact(client: Client) -> None:
    created = await new_contact(client, reference=unique_reference())
    changed = await ok(
        client,
        "update_contact",
        {
            "contact_id": created["id"],
            "name": "Tern Test Supplies (renamed)",
            "email": "ledger@tern.example",
            "credit_days": 45,
            "address": {"address_line_1": "9 Quay Road", "city": "Hull", "postal_code": "HU1 1AA"},
        },
    )
    assert changed["id"] == created["id"] and len(changed["idempotency_id"]) == 32
    read = await ok(client, "get_contact", {"contact_id": created["id"]})
    assert read["name"] == "Tern Test Supplies (renamed)" and read["email"] == "ledger@tern.example"
    assert read["credit_days"] == 45 and read["address"] == "9 Quay Road, Hull, HU1 1AA"
    assert read["type"] == "supplier" and read["reference"] == created["reference"]

    second = await ok(client, "update_contact", {"contact_id": created["id"], "telephone": "01482 000000"})
    assert second["telephone"] == "01482 000000" and second["email"] == "ledger@tern.example"

    deleted = await ok(client, "delete_contact", {"contact_id": created["id"]})
    assert deleted == {**deleted, "id": created["id"], "deleted": True, "name": "Tern Test Supplies (renamed)"}
    assert "list_contacts" in await err(client, "get_contact", {"contact_id": created["id"]})
    assert "list_contacts" in await err(client, "delete_contact", {"contact_id": created["id"]})


async def test_update_contact_errors(client: Client) -> None:
    created = await new_contact(client)
    taken = await err(client, "update_contact", {"contact_id": created["id"], "reference": "BRI001"})
    assert "422" in taken and "reference: has already been taken" in taken
    assert "nothing to change" in await err(client, "update_contact", {"contact_id": created["id"]})
    assert "list_contacts" in await err(client, "update_contact", {"contact_id": MISSING, "name": "Ghost"})
    too_long = await err(client, "update_contact", {"contact_id": created["id"], "credit_days": 400})
    assert "credit_days" in too_long and "Nothing was sent" in too_long


async def test_update_contact_with_a_key_applies_once(client: Client) -> None:
    created = await new_contact(client)
    key = unique_reference()
    first = await ok(client, "update_contact", {"contact_id": created["id"], "notes": "first", "idempotency_key": key})
    await ok(client, "update_contact", {"contact_id": created["id"], "notes": "between"})
    replay = await ok(client, "update_contact", {"contact_id": created["id"], "notes": "first", "idempotency_key": key})
    assert replay["idempotency_id"] == first["idempotency_id"] and replay["replayed"] is True
    assert replay["notes"] == "between", "a replay shows the contact as it is now"
    assert (await ok(client, "get_contact", {"contact_id": created["id"]}))["notes"] == "between"
    other = await new_contact(client)
    refused = await err(client, "update_contact", {"contact_id": other["id"], "notes": "first", "idempotency_key": key})
    assert "already used" in refused and other["id"] in refused and created["id"] in refused
    assert (await ok(client, "get_contact", {"contact_id": other["id"]})).get("notes") != "first"


async def test_delete_contact_with_transactions_is_refused_by_sage(client: Client) -> None:
    customer = await brightwater(client)
    message = await err(client, "delete_contact", {"contact_id": customer["id"]})
    assert "HTTP 422" in message and "transactions" in message and "Nothing was deleted" in message
    assert "Brightwater Consulting Ltd" in message
    assert (await ok(client, "get_contact", {"contact_id": customer["id"]}))["name"] == customer["name"]
    assert "contact_id: required" in await err(client, "delete_contact", {})


# -- contact persons ---------------------------------------------------------------------------------


async def test_list_contact_persons(client: Client) -> None:
    customer = await brightwater(client)
    people = await ok(client, "list_contact_persons", {"contact_id": customer["id"]})
    assert people["contact"]["name"] == "Brightwater Consulting Ltd"
    main = next(p for p in people["items"] if p.get("main"))
    assert main["name"] == "Lily Thompson" and main["email"] == "accounts@brightwaterconsulting.co.uk"
    assert main["roles"] == ["accounts"]
    assert "list_contacts" in await err(client, "list_contact_persons", {"contact_id": MISSING})
    assert "contact_id: required" in await err(client, "list_contact_persons", {})


async def test_add_contact_person(client: Client, sandbox: SandboxServer) -> None:
    created = await new_contact(client, address={"address_line_1": "1 Dock St", "city": "Leith"})
    person = await ok(
        client,
        "add_contact_person",
        {
            "contact_id": created["id"],
            "name": "Ada Finch",
            "role": "purchasing",
            "email": "ada@tern.example",
            "job_title": "Buyer",
            "main": True,
            "idempotency_key": f"ada-{created['id']}",
        },
    )
    assert person["name"] == "Ada Finch" and person["roles"] == ["purchasing"] and person["main"] is True
    people = await ok(client, "list_contact_persons", {"contact_id": created["id"]})
    assert [p["name"] for p in people["items"]] == ["Ada Finch"]
    assert (await ok(client, "get_contact", {"contact_id": created["id"]}))["email"] == "ada@tern.example"

    posts = sandbox.counters[("POST", "/v3.1/contact_persons")]
    again = await ok(
        client,
        "add_contact_person",
        {
            "contact_id": created["id"],
            "name": "Ada Finch",
            "role": "purchasing",
            "email": "ada@tern.example",
            "job_title": "Buyer",
            "main": True,
            "idempotency_key": f"ada-{created['id']}",
        },
    )
    assert again["id"] == person["id"] and again["replayed"] is True
    assert sandbox.counters[("POST", "/v3.1/contact_persons")] == posts, "a replay sends nothing"
    other = await err(
        client,
        "add_contact_person",
        {"contact_id": created["id"], "name": "Ada Finch", "idempotency_key": f"ada-{created['id']}"},
    )
    assert "already used" in other and "email: 'ada@tern.example' then, not given now" in other
    assert len((await ok(client, "list_contact_persons", {"contact_id": created["id"]}))["items"]) == 1

    bad_email = await err(client, "add_contact_person", {"contact_id": created["id"], "name": "X", "email": "nope"})
    assert "422" in bad_email and "email: is not a valid email address" in bad_email
    assert "list_contacts" in await err(client, "add_contact_person", {"contact_id": MISSING, "name": "X"})
    assert "not one of accounts" in await err(
        client, "add_contact_person", {"contact_id": created["id"], "name": "X", "role": "boss"}
    )
    homeless = await new_contact(client)
    no_address = await err(client, "add_contact_person", {"contact_id": homeless["id"], "name": "X"})
    assert "has no address" in no_address and "update_contact" in no_address
