"""Query semantics every collection shares: deleted_since, updated_or_created_since, from/to dates,
attributes (dotted too), nested_attributes, sort, paging links; and 422 naming a body field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sandbox_support import NOON, TODAY, FakeClock, error_of

from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.sandbox.context import iso_utc
from sage_mcp.sandbox.listing import select_attributes
from sage_mcp.sandbox.resources.base import Collection
from sage_mcp.sandbox.resources.transactions import Transactions


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock(NOON)


@pytest.fixture(scope="module")
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig(today=TODAY, clock=clock, access_token_ttl=10**8)) as server:
        yield server


@pytest.fixture(scope="module")
def qapi(server: SandboxServer) -> Iterator[httpx2.Client]:
    token = server.mint_tokens()["access_token"]
    with httpx2.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=20) as client:
        yield client


def _new_contact(api: httpx2.Client, name: str) -> dict[str, Any]:
    response = api.post("/contacts", json={"contact": {"name": name, "contact_type_ids": ["VENDOR"]}})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["$items"]]


def test_deleted_since_lists_tombstones_not_inclusive(qapi: httpx2.Client, clock: FakeClock) -> None:
    first, second, kept = (_new_contact(qapi, f"Tombstone {n} Ltd") for n in ("One", "Two", "Kept"))
    clock.advance(60)
    first_deleted_at = clock.now
    assert qapi.delete(first["$path"]).status_code == 204
    clock.advance(60)
    assert qapi.delete(second["$path"]).status_code == 204
    clock.advance(60)
    # deleted records are gone from list and get ...
    assert qapi.get(first["$path"]).status_code == 404
    live = qapi.get("/contacts", params={"search": "Tombstone", "items_per_page": 200}).json()
    assert _ids(live) == [kept["id"]]
    # ... and deleted_since finds them, strictly after the given time
    since_first = qapi.get("/contacts", params={"deleted_since": iso_utc(first_deleted_at)}).json()
    assert _ids(since_first) == [second["id"]]
    both = qapi.get(
        "/contacts", params={"deleted_since": iso_utc(first_deleted_at - 1), "attributes": "deleted_at,name"}
    ).json()
    assert {c["id"]: c["deleted_at"] for c in both["$items"]} == {
        first["id"]: iso_utc(first_deleted_at),
        second["id"]: iso_utc(first_deleted_at + 60),
    }
    assert set(both["$items"][0]) == {"id", "displayed_as", "$path", "deleted_at", "name"}
    # other filters still apply to tombstones
    only_two = qapi.get("/contacts", params={"deleted_since": "2000-01-01", "search": "Tombstone Two"}).json()
    assert _ids(only_two) == [second["id"]]
    assert qapi.get("/contacts", params={"deleted_since": iso_utc(clock.now)}).json()["$total"] == 0
    bad = qapi.get("/contacts", params={"deleted_since": "last week"})
    assert bad.status_code == 422 and error_of(bad)["$source"] == "deleted_since"
    # a collection that never deletes answers an empty list
    assert qapi.get("/tax_rates", params={"deleted_since": "2000-01-01"}).json()["$total"] == 0


def test_updated_or_created_since_is_inclusive(qapi: httpx2.Client, clock: FakeClock) -> None:
    clock.advance(3600)
    created_at = clock.now
    contact = _new_contact(qapi, "Fresh Sincerity Ltd")
    at = qapi.get("/contacts", params={"updated_or_created_since": iso_utc(created_at)}).json()
    assert contact["id"] in _ids(at)
    after = qapi.get("/contacts", params={"updated_or_created_since": iso_utc(created_at + 1)}).json()
    assert contact["id"] not in _ids(after)
    clock.advance(10)
    assert qapi.put(contact["$path"], json={"contact": {"notes": "changed"}}).status_code == 200
    since_update = qapi.get("/contacts", params={"updated_or_created_since": iso_utc(created_at + 5)}).json()
    assert _ids(since_update) == [contact["id"]]
    # Sage's offset form YYYY-MM-DDT(+|-)hh:mm is understood too
    day = iso_utc(created_at)[:10]
    assert contact["id"] in _ids(qapi.get("/contacts", params={"updated_or_created_since": f"{day}T+00:00"}).json())


class _DatedTransactions(Transactions):
    """Transactions with only the generic filters (so the base class's from/to_date is what runs)."""

    date_field = "date"

    def filter(self, ctx: Any, items: list[dict[str, Any]], query: Any) -> list[dict[str, Any]]:
        return Collection.filter(self, ctx, items, query)


def test_generic_from_and_to_date(server: SandboxServer, qapi: httpx2.Client) -> None:
    params = {"from_date": "2025-03-01", "to_date": "2025-03-31", "attributes": "date", "items_per_page": 200}
    expected = qapi.get("/transactions", params=params).json()
    original = server.sandbox.collections["transactions"]
    server.sandbox.collections["transactions"] = _DatedTransactions()
    try:
        generic = qapi.get("/transactions", params=params).json()
        assert generic == expected
        assert generic["$total"] > 0
        assert all("2025-03-01" <= t["date"] <= "2025-03-31" for t in generic["$items"])
        one_day = qapi.get("/transactions", params={"from_date": "2025-03-03", "to_date": "2025-03-03T10:00:00Z"})
        assert all(t["id"] for t in one_day.json()["$items"])
        bad = qapi.get("/transactions", params={"to_date": "31/03/2025"})
        assert bad.status_code == 422 and error_of(bad)["$source"] == "to_date"
    finally:
        server.sandbox.collections["transactions"] = original
    # collections without a date field ignore the parameters
    everything = qapi.get("/tax_rates").json()["$total"]
    assert qapi.get("/tax_rates", params={"from_date": "2099-01-01"}).json()["$total"] == everything


def test_dotted_attributes() -> None:
    invoice = {
        "id": "i",
        "displayed_as": "SI-1",
        "$path": "/sales_invoices/i",
        "date": "2025-01-01",
        "contact": {"id": "c", "displayed_as": "C", "$path": "/contacts/c"},
        "main_address": {"id": "a", "displayed_as": "A", "$path": "/addresses/a", "city": "Leeds", "region": "W"},
        "invoice_lines": [{"id": "l1", "displayed_as": "x", "description": "x", "unit_price": "1.0"}],
    }
    picked = select_attributes(invoice, "invoice_lines.description, main_address.city, nothing", default_all=False)
    assert picked == {
        "id": "i",
        "displayed_as": "SI-1",
        "$path": "/sales_invoices/i",
        "invoice_lines": [{"id": "l1", "displayed_as": "x", "description": "x"}],
        "main_address": {"id": "a", "displayed_as": "A", "$path": "/addresses/a", "city": "Leeds"},
    }
    whole = select_attributes(invoice, "main_address,main_address.city", default_all=False)
    assert whole["main_address"] == invoice["main_address"]


def test_dotted_attributes_over_http(qapi: httpx2.Client) -> None:
    body = qapi.get("/sales_invoices", params={"attributes": "invoice_lines.description,date", "items_per_page": 5})
    for item in body.json()["$items"]:
        assert set(item) == {"id", "displayed_as", "$path", "date", "invoice_lines"}
        assert all(set(line) <= {"id", "displayed_as", "description"} for line in item["invoice_lines"])


def test_nested_attributes_expand_links(server: SandboxServer, qapi: httpx2.Client) -> None:
    some = qapi.get("/sales_invoices", params={"status_id": "UNPAID", "items_per_page": 1}).json()["$items"][0]
    plain = qapi.get(some["$path"]).json()
    assert set(plain["contact"]) == {"id", "displayed_as", "$path"}
    contact_only = qapi.get(some["$path"], params={"nested_attributes": "contact"}).json()
    assert contact_only["contact"] == qapi.get(plain["contact"]["$path"]).json()
    assert "contact_types" in contact_only["contact"] and "balance" in contact_only["contact"]
    assert set(contact_only["transaction"]) == {"id", "displayed_as", "$path"}
    everything = qapi.get(some["$path"], params={"nested_attributes": "all"}).json()
    assert everything["contact"] == contact_only["contact"]
    assert everything["transaction"]["transaction_type"]["id"] == "SALES_INVOICE"
    assert "total" in everything["transaction"]
    line = everything["invoice_lines"][0]
    assert "nominal_code" in line["ledger_account"] and "percentage" in line["tax_rate"]
    for key, value in plain.items():  # links to collections the sandbox does not emulate stay links
        is_link = isinstance(value, dict) and set(value) == {"id", "displayed_as", "$path"}
        if is_link and value["$path"].split("/")[1] not in server.sandbox.collections:
            assert everything[key] == value, key
    transactions = server.sandbox.collections.pop("transactions")
    try:
        unknown = qapi.get(some["$path"], params={"nested_attributes": "transaction,contact"}).json()
        assert unknown["transaction"] == plain["transaction"] and "balance" in unknown["contact"]
    finally:
        server.sandbox.collections["transactions"] = transactions
    # one level only: the expanded contact's own links stay links
    assert set(everything["contact"]["contact_types"][0]) == {"id", "displayed_as", "$path"}
    inner = qapi.get(some["$path"], params={"nested_attributes": "invoice_lines.tax_rate"}).json()
    assert "percentage" in inner["invoice_lines"][0]["tax_rate"]
    assert set(inner["invoice_lines"][0]["ledger_account"]) == {"id", "displayed_as", "$path"}
    assert set(inner["contact"]) == {"id", "displayed_as", "$path"}


def test_nested_attributes_on_lists(qapi: httpx2.Client) -> None:
    params = {"attributes": "contact,transaction", "nested_attributes": "contact", "items_per_page": 10}
    body = qapi.get("/sales_invoices", params=params).json()
    assert len(body["$items"]) == 10
    for item in body["$items"]:
        assert "contact_types" in item["contact"]
        assert set(item["transaction"] or {"id": 1}) <= {"id", "displayed_as", "$path"}
    assert body["$next"] is not None and "nested_attributes=contact" in body["$next"]
    slim = qapi.get("/sales_invoices", params={"nested_attributes": "all", "items_per_page": 3}).json()
    assert all(set(i) == {"id", "displayed_as", "$path"} for i in slim["$items"])  # nothing to expand


def test_sort_is_generic_where_declared(qapi: httpx2.Client) -> None:
    dated = qapi.get("/sales_invoices", params={"sort": "date", "attributes": "date", "items_per_page": 200}).json()
    dates = [i["date"] for i in dated["$items"]]
    assert dates == sorted(dates)
    newest = qapi.get("/sales_invoices", params={"sort": "updated_at:DESC", "attributes": "updated_at"}).json()
    stamps = [i["updated_at"] for i in newest["$items"]]
    assert stamps == sorted(stamps, reverse=True)
    for bad in ("total_amount", "date:sideways"):
        response = qapi.get("/sales_invoices", params={"sort": bad})
        assert response.status_code == 422 and error_of(response)["$source"] == "sort"
    # contacts declare no sort fields: sort is ignored and the default order (by name) stays
    default = qapi.get("/contacts", params={"attributes": "name", "items_per_page": 200}).json()
    ignored = qapi.get("/contacts", params={"sort": "date:desc", "attributes": "name", "items_per_page": 200}).json()
    assert _ids(ignored) == _ids(default)


def test_paging_limits_and_links(qapi: httpx2.Client) -> None:
    too_many = qapi.get("/ledger_accounts", params={"items_per_page": 201})
    assert too_many.status_code == 422 and error_of(too_many)["$source"] == "items_per_page"
    query = {"visible_in": "sales", "attributes": "nominal_code", "items_per_page": 2, "page": 2}
    body = qapi.get("/ledger_accounts", params=query).json()
    assert body["$back"] == "/ledger_accounts?visible_in=sales&attributes=nominal_code&page=1&items_per_page=2"
    assert body["$next"] == "/ledger_accounts?visible_in=sales&attributes=nominal_code&page=3&items_per_page=2"
    last = qapi.get("/ledger_accounts", params={**query, "page": 999}).json()
    assert last["$page"] == -(-last["$total"] // 2) and last["$next"] is None
    followed = qapi.get(body["$next"]).json()
    assert followed["$page"] == 3


def test_a_body_failing_the_spec_is_422_naming_the_field(qapi: httpx2.Client) -> None:
    contact = {"name": "Typed Ltd", "contact_type_ids": ["VENDOR"], "main_address": {"city": 5}, "credit_limit": "x"}
    response = qapi.post("/contacts", json={"contact": contact})
    assert response.status_code == 422
    assert {item["$source"] for item in response.json()} == {"main_address.city", "credit_limit"}
    assert all(item["$dataCode"] == "RecordInvalid" for item in response.json())
