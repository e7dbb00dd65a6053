"""Bounded input: bad ids, huge values and exotic amounts come back as isError naming the field, quoting
at most ~80 characters; fuzzy matching runs off the event loop, so one call never stalls another."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client

from sage_mcp.excerpt import excerpt
from sage_mcp.money import MoneyError, to_decimal
from sage_mcp.tools import _base, contacts
from tests.test_tools import a_customer, err, ok, text_of

pytestmark = pytest.mark.anyio
HUGE = "x" * 65_536
BAD_IDS = ["", "..", "../contacts", "a/b", "%2e%2e", HUGE, "ABCDEF" * 6]
#: Longest message a refusal of one bad argument may take: the value is quoted to ~80 characters.
SHORT = 600


def refuses(message: str, field: str) -> None:
    assert field in message, message
    assert "internal error" not in message
    assert len(message) < SHORT, f"{len(message)} characters: {message[:200]}"


@pytest.mark.parametrize("bad", BAD_IDS, ids=["empty", "dotdot", "dotdot-path", "slash", "encoded", "64KB", "upper"])
async def test_bad_ids_are_refused_naming_the_field(client: Client, bad: str) -> None:
    refuses(await err(client, "get_contact", {"contact_id": bad}), "contact_id")
    refuses(await err(client, "list_invoices", {"id": bad}), "id")
    if bad:  # an empty business_id is the default business
        refuses(await err(client, "list_contacts", {"business_id": bad}), "business_id")
    refuses(await err(client, "get_bank_account", {"bank_account_id": bad}), "bank_account_id")
    customer = await a_customer(client)
    line = {"description": "Widget", "unit_price": "1.00", "tax_rate_id": bad}
    message = await err(client, "create_invoice", {"contact_id": customer["id"], "lines": [line]})
    refuses(message, "lines[0].tax_rate_id")


async def test_a_64kb_value_is_quoted_short_with_its_length(client: Client) -> None:
    message = await err(client, "get_contact", {"contact_id": HUGE})
    assert "65,536 characters" in message and "x" * 81 not in message
    message = await err(client, "list_contacts", {"search": HUGE})
    assert message.startswith(
        "Invalid arguments for list_contacts: search: 65,536 characters is too long (at most 200)"
    )


async def test_valid_ids_and_keys_still_pass(client: Client) -> None:
    customer = await a_customer(client)
    assert (await ok(client, "get_contact", {"contact_id": customer["id"]}))["id"] == customer["id"]
    line = {"description": "Bounded widget", "unit_price": "9999999.999999", "tax_rate_id": "GB_STANDARD"}
    invoice = await ok(client, "create_invoice", {"contact_id": customer["id"], "lines": [line], "status": "DRAFT"})
    assert invoice["id"]
    assert (await ok(client, "find_ledger_account", {"query": "4000"}))["items"][0]["nominal_code"] == 4000


@pytest.mark.parametrize("amount", ["1e28", "NaN", "Infinity", "-Infinity", "1e999", "1" * 14, "0x10", "1.2345678"])
async def test_huge_or_exotic_amounts_are_refused_naming_the_field(client: Client, amount: str) -> None:
    customer = await a_customer(client)
    line = {"description": "Widget", "unit_price": amount}
    message = await err(client, "create_invoice", {"contact_id": customer["id"], "lines": [line]})
    refuses(message, "lines[0].unit_price")
    assert "not a decimal string" in message
    journal = {"date": "2031-01-31", "reference": "BIG", "lines": [{"ledger_account_id": "7600", "debit": amount}] * 2}
    refuses(await err(client, "create_journal", journal), "lines[0].debit")


async def test_numbers_where_strings_belong_and_oversized_lists_are_refused(client: Client) -> None:
    customer = await a_customer(client)
    line = {"description": "Widget", "unit_price": 1e28}
    refuses(
        await err(client, "create_invoice", {"contact_id": customer["id"], "lines": [line]}),
        "lines[0].unit_price",
    )
    lines = [{"description": "Widget", "unit_price": "1.00"}] * 201
    message = await err(client, "create_invoice", {"contact_id": customer["id"], "lines": lines})
    refuses(message, "lines: 201 items given, at most 200 allowed")
    refuses(await err(client, "list_contacts", {"page": 10**30}), "page")


async def test_many_problems_are_listed_up_to_ten(client: Client) -> None:
    customer = await a_customer(client)
    lines = [{"description": "Widget", "unit_price": "lots"}] * 50
    message = await err(client, "create_invoice", {"contact_id": customer["id"], "lines": lines})
    assert "lines[9].unit_price" in message and "lines[10].unit_price" not in message
    assert "and 40 more" in message


def test_money_refuses_what_is_not_a_sane_amount() -> None:
    for value in ("NaN", "Infinity", "1e999", "1e28", "", " ", "1_000", "0x10", "1.", HUGE, None, True, [1], {"a": 1}):
        with pytest.raises(MoneyError, match=r"^lines\[2\]\.unit_price: "):
            to_decimal(value, field="lines[2].unit_price")
    for value in (float("nan"), float("inf"), 10**28, 10**5000, Decimal("1e15"), Decimal("NaN"), "9" * 16):
        with pytest.raises(MoneyError) as caught:
            to_decimal(value, field="amount")
        assert len(str(caught.value)) < 200
    assert to_decimal("999999999999999.99") == Decimal("999999999999999.99")
    assert to_decimal(" -12.50 ") == Decimal("-12.50") and to_decimal(7) == 7 and to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("١٢.٥") == Decimal("12.5"), "digits the schema pattern accepts are read"


def test_excerpt_cuts_long_values_and_names_their_length() -> None:
    assert excerpt("short") == "'short'"
    cut = excerpt("y" * 1000)
    assert cut.startswith("'yyy") and cut.endswith("… (1,000 characters)") and len(cut) < 110
    assert excerpt(list(range(500))).endswith("(500 items)")
    assert excerpt(10**5000) == "a number of more than 4,300 digits"


def test_fuzzy_matching_work_per_row_is_bounded() -> None:
    name = "Bright Water Co " * 100_000
    assert len(_base.words(name)) == _base.MAX_WORDS
    assert _base.similarity("Bright Water", name) > 0.5


async def test_a_1mb_query_is_refused_while_a_concurrent_call_completes(client: Client) -> None:
    results: dict[str, Any] = {}

    async def call(key: str, name: str, args: dict[str, Any]) -> None:
        results[key] = await client.call_tool(name, args)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "huge", "find_contact", {"query": "q" * 1_000_000})
        tg.start_soon(call, "huge_account", "find_ledger_account", {"query": "q" * 1_000_000})
        tg.start_soon(call, "other", "find_contact", {"query": "brightwater"})
    for key in ("huge", "huge_account"):
        assert results[key].is_error
        refuses(text_of(results[key]), "query: 1,000,000 characters is too long (at most 200)")
    assert not results["other"].is_error
    assert results["other"].structured_content["items"][0]["name"] == "Brightwater Consulting Ltd"


async def test_fuzzy_matching_never_blocks_another_call(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first similarity() of a find_contact holds until another call has completed. Were matching on the
    event loop, that call could never run; the hold gives up after a while and the order shows it."""
    started, release = threading.Event(), threading.Event()
    real = _base.similarity
    order: list[str] = []

    def held(query: str, text: str) -> float:
        if not started.is_set():
            started.set()
            release.wait(timeout=20)
            order.append("matching resumed" if release.is_set() else "matching gave up")
        return real(query, text)

    monkeypatch.setattr(contacts, "similarity", held)
    long_query = " ".join(["nonexistent"] * 16)  # valid (191 characters), matches nobody: every row is scored
    results: dict[str, Any] = {}

    async def find() -> None:
        results["find"] = await client.call_tool("find_contact", {"query": long_query})
        order.append("find done")

    async with anyio.create_task_group() as tg:
        tg.start_soon(find)
        assert await anyio.to_thread.run_sync(started.wait, 20), "find_contact never scored a row"
        other = await client.call_tool("list_businesses", {})
        order.append("other call done")
        release.set()
    assert not other.is_error
    assert order == ["other call done", "matching resumed", "find done"]
    assert not results["find"].is_error and results["find"].structured_content["items"] == []
