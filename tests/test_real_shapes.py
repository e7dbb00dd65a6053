"""The client and every tool against answers shaped as real Sage sends them (``reference/sage-real-responses.md``),
fed through an httpx ``MockTransport``:

* every read-only tool is called twice with the same arguments - once against the sandbox as it answers, once
  through a transport that reshapes each answer to the rawest real shapes (one-decimal money and ``"0"`` for
  zero, ``""`` for every unset date, ``null`` for every false flag, error bodies without ``$source``, 429s
  without ``Retry-After``) - and must give the same figures, the same fields and no crash;
* recorded real objects (a bank account with ``links``, financial settings with an empty MTD date, a product
  whose ``active`` is ``null``) go through the projections that show them;
* Sage's error bodies for bad references (``RecordInvalid`` "Couldn't find Supplier.", ``RecordNotFound``
  "Couldn't find record.", both with an empty ``$source``) still come back naming the argument the caller gave,
  and a 429 without ``Retry-After`` is retried after a backoff of the client's own.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sage.client import SageClient
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxServer
from sage_mcp.server import create_server

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx2.Request], Awaitable[httpx2.Response]]
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
#: Flags whose ``false`` means something Sage would not leave unset (switched off, deleted ...).
_MEANINGFUL_FLAGS = frozenset({"active", "is_active", "deleted", "deletable", "editable", "is_main_address"})


def rawest(value: Any, key: str = "") -> Any:
    """An answer in the rawest shapes real Sage uses (see the module docstring)."""
    if isinstance(value, dict):
        return {k: rawest(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [rawest(v, key) for v in value]
    if value is None and (key.endswith("date") or key.endswith("_at")) and key not in ("deleted_at",):
        return ""
    if value is False and key not in _MEANINGFUL_FLAGS:
        return None
    if isinstance(value, str) and _DECIMAL.match(value) and key not in ("reference", "displayed_as", "name"):
        number = Decimal(value)
        return "0" if number == 0 else value
    return value


def reshaping(sandbox: SandboxServer) -> tuple[Handler, list[str]]:
    """A handler that forwards to ``sandbox`` and reshapes what comes back; and the log of reshaped paths."""
    seen: list[str] = []

    async def handle(request: httpx2.Request) -> httpx2.Response:
        async with httpx2.AsyncClient() as http:
            answer = await http.request(
                request.method, str(request.url), headers=dict(request.headers), content=request.content
            )
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "retry-after")}
        headers.pop("content-encoding", None)
        if not answer.headers.get("content-type", "").startswith("application/json") or "/v3.1/" not in str(
            request.url
        ):
            return httpx2.Response(answer.status_code, headers=headers, content=answer.content)
        body = answer.json()
        if answer.status_code >= 400 and isinstance(body, list):
            body = [{**item, "$source": ""} for item in body]
        else:
            body = rawest(body)
            seen.append(request.url.path)
        return httpx2.Response(answer.status_code, headers=headers, content=json.dumps(body).encode())

    return handle, seen


def comparable(value: Any) -> Any:
    """A tool result with money as numbers and unset values (``None``, ``False``, ``""``) left out."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if v not in (None, False, "", [], {})}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str) and _DECIMAL.match(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern is a decimal
            return value
    return value


@pytest.fixture
def shaped_settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    return sandbox_settings(sandbox, tmp_path, toolsets="all")


@contextlib.asynccontextmanager
async def connect(settings: Settings, handler: Handler | None) -> AsyncIterator[Client]:
    """An MCP client of a server whose Sage client talks through ``handler`` (``None``: straight to the sandbox)."""
    transport = httpx2.MockTransport(handler) if handler is not None else None
    async with SageClient(settings, transport=transport) as sage, Client(create_server(settings, sage=sage)) as client:
        yield client


async def call(client: Client, tool: str, args: dict[str, Any]) -> tuple[bool, Any]:
    result = await client.call_tool(tool, args)
    return bool(result.is_error), (result.content[0].text if result.is_error else result.structured_content)


async def sample_ids(client: Client) -> dict[str, Any]:
    """Ids of the demo's records, for the arguments tools require."""

    async def first(path: str, **query: Any) -> str:
        _, data = await call(client, "sage_api_get", {"path": path, "query": {"items_per_page": 1, **query}})
        return str(data["data"]["$items"][0]["id"])

    sales_invoice = await first("/sales_invoices")
    return {
        "contact_id": await first("/contacts", contact_type_id="CUSTOMER"),
        "bank_account_id": await first("/bank_accounts"),
        "product_id": await first("/products"),
        "sales_invoice": sales_invoice,
        "purchase_invoice": await first("/purchase_invoices"),
        "sales_credit_note": await first("/sales_credit_notes"),
        "purchase_credit_note": await first("/purchase_credit_notes"),
        "quote_id": await first("/sales_quotes"),
        "attach_to": {"type": "sales_invoice", "id": sales_invoice},
        "query": "oak",
        "path": "/contacts",
    }


def arguments(tool: Any, ids: dict[str, Any]) -> dict[str, Any] | None:
    """Arguments for the tool's required inputs, or ``None`` when this test does not know how to fill one."""
    args: dict[str, Any] = {}
    purchase = "purchase" in tool.name
    for name in tool.input_schema.get("required", []):
        if name == "invoice_id":
            args[name] = ids["purchase_invoice" if purchase else "sales_invoice"]
        elif name == "credit_note_id":
            args[name] = ids["purchase_credit_note" if purchase else "sales_credit_note"]
        elif name in ids:
            args[name] = ids[name]
        else:
            return None
    return args


async def test_every_read_tool_gives_the_same_answer_on_real_shaped_data(
    sandbox: SandboxServer, shaped_settings: Settings
) -> None:
    handler, reshaped = reshaping(sandbox)
    async with connect(shaped_settings, None) as plain, connect(shaped_settings, handler) as shaped:
        tools = [t for t in (await plain.list_tools()).tools if t.annotations and t.annotations.read_only_hint]
        ids = await sample_ids(plain)
        covered = []
        for tool in tools:
            args = arguments(tool, ids)
            if args is None:
                continue
            expected = await call(plain, tool.name, args)
            got = await call(shaped, tool.name, args)
            assert got[0] == expected[0], (tool.name, got, expected)
            if not expected[0]:
                assert comparable(got[1]) == comparable(expected[1]), tool.name
            covered.append(tool.name)
        assert len(covered) >= len(tools) - 2, sorted({t.name for t in tools} - set(covered))
        assert len(set(reshaped)) > 20, "the answers really went through the reshaping"


# -- recorded objects ------------------------------------------------------------------------------------------

RECORDED_BANK_ACCOUNT = {
    "id": "27d0a4b7c4d54ae5b3b2e7dbd5a5b8b1",
    "displayed_as": "Current (1200)",
    "$path": "/bank_accounts/27d0a4b7c4d54ae5b3b2e7dbd5a5b8b1",
    "links": [
        {
            "href": "https://accounts-extra.sageone.com/banking/bank_accounts/27d0a4b7c4d54ae5b3b2e7dbd5a5b8b1",
            "rel": "alternate",
            "type": "text/html",
        }
    ],
    "bank_account_details": {"account_name": "Current", "account_number": "", "sort_code": "", "bic": None},
    "ledger_account": {"id": "9a1", "displayed_as": "Current (1200)", "$path": "/ledger_accounts/9a1"},
    "bank_account_type": {"id": "CHECKING", "displayed_as": "Current", "$path": "/bank_account_types/CHECKING"},
    "balance": "-430035.84",
    "main_address": {"id": "5c2", "displayed_as": "", "$path": "/addresses/5c2"},
    "main_contact_person": {"id": "8d3", "displayed_as": "", "$path": "/contact_persons/8d3"},
    "nominal_code": 1200,
    "editable": True,
    "deletable": False,
    "created_at": "2019-03-01T10:00:00Z",
    "updated_at": "2019-03-01T10:00:00Z",
}
RECORDED_FINANCIAL_SETTINGS = {
    "year_end_date": "2025-03-31",
    "year_end_lockdown_date": "",
    "accounting_type": "accrual",
    "accounts_start_date": "2019-04-01",
    "base_currency": {"id": "GBP", "displayed_as": "Pound Sterling (GBP)", "$path": "/currencies/GBP"},
    "multi_currency_enabled": None,
    "use_live_exchange_rates": None,
    "mtd_activation_status": "",
    "mtd_connected": None,
    "mtd_authenticated_date": "",
    "tax_return_frequency": {
        "id": "QUARTERLY",
        "displayed_as": "Quarterly",
        "$path": "/tax_return_frequencies/QUARTERLY",
    },
    "tax_number": "",
    "general_tax_number": "",
    "flat_rate_tax_percentage": "0.0",
    "recoverable_percentage": "0.0",
    "sales_tax_calculation": "",
    "purchase_tax_calculation": "",
}
RECORDED_PRODUCT = {
    "id": "6b1f0e2c3d4a5b6c7d8e9f0a1b2c3d4e",
    "displayed_as": "Widget",
    "$path": "/products/6b1f0e2c3d4a5b6c7d8e9f0a1b2c3d4e",
    "links": [{"href": "https://accounts-extra.sageone.com/products/6b1f", "rel": "alternate", "type": "text/html"}],
    "item_code": "WID",
    "description": "Widget",
    "active": None,
    "cost_price": "10.0",
    "sales_ledger_account": {"id": "a1", "displayed_as": "Sales Type A (4000)", "$path": "/ledger_accounts/a1"},
    "sales_tax_rate": {"id": "GB_LOWER", "displayed_as": "Lower Rate 5.00%", "$path": "/tax_rates/GB_LOWER"},
    "sales_prices": [
        {
            "id": "p1",
            "displayed_as": "Selling Price",
            "price_name": "Selling Price",
            "price": "110.0",
            "price_includes_tax": None,
            "product_sales_price_type": {
                "id": "t1",
                "displayed_as": "Selling Price",
                "$path": "/product_sales_price_types/t1",
            },
        }
    ],
    "catalog_item_type": {
        "id": "NON_STOCK_ITEM",
        "displayed_as": "Non-stock",
        "$path": "/catalog_item_types/NON_STOCK_ITEM",
    },
    "created_at": "2019-03-01T10:00:00Z",
    "updated_at": "2019-03-01T10:00:00Z",
}


def recorded(routes: dict[str, Any], sandbox_handler: Handler) -> Handler:
    """Answer ``routes`` (path suffix -> (status, body[, headers])) from recordings, the rest from the sandbox."""

    async def handle(request: httpx2.Request) -> httpx2.Response:
        for suffix, answer in routes.items():
            if request.url.path.endswith(suffix) and request.method == "GET":
                status, body, *extra = answer if isinstance(answer, tuple) else (200, answer)
                headers = {"X-Business": LEAD_BUSINESS_ID, **(extra[0] if extra else {})}
                return httpx2.Response(status, json=body, headers=headers)
        return await sandbox_handler(request)

    return handle


async def test_recorded_objects_are_shown_without_crash_or_mislabel(
    sandbox: SandboxServer, shaped_settings: Settings
) -> None:
    forward, _ = reshaping(sandbox)
    handler = recorded(
        {
            f"/bank_accounts/{RECORDED_BANK_ACCOUNT['id']}": RECORDED_BANK_ACCOUNT,
            "/financial_settings": RECORDED_FINANCIAL_SETTINGS,
            f"/products/{RECORDED_PRODUCT['id']}": RECORDED_PRODUCT,
        },
        forward,
    )
    async with connect(shaped_settings, handler) as client:
        failed, bank = await call(client, "get_bank_account", {"bank_account_id": RECORDED_BANK_ACCOUNT["id"]})
        assert not failed, bank
        assert bank["balance"] == "-430035.84" and bank["type"] == "CHECKING"
        failed, business = await call(client, "get_business", {"settings": ["financial"]})
        assert not failed, business
        settings = business["financial_settings"]
        assert settings.get("year_end_lockdown_date") in (None, "") and settings["accounting_type"] == "accrual"
        failed, product = await call(client, "get_product", {"product_id": RECORDED_PRODUCT["id"]})
        assert not failed, product
        assert product["sales_price"] == "110.00", "one-decimal money shown as an amount"
        assert product.get("active") is not False, "null is not switched off"
        assert product["sales_tax_rate_id"] == "GB_LOWER"


# -- error paths -----------------------------------------------------------------------------------------------


def _error(message: str, code: str) -> list[dict[str, str]]:
    return [{"$severity": "error", "$dataCode": code, "$message": message, "$source": ""}]


async def test_a_reference_sage_cannot_find_is_named_by_the_argument_given(client: Client) -> None:
    """The sandbox answers Sage's ``RecordInvalid`` "Couldn't find Customer." without ``$source``."""
    line = {"description": "x", "ledger_account_id": "0" * 32, "unit_price": 10, "tax_rate_id": "GB_ZERO"}
    body = {"sales_invoice": {"contact_id": "f" * 32, "date": "2025-06-01", "invoice_lines": [line]}}
    result = await client.call_tool("sage_api_write", {"method": "POST", "path": "/sales_invoices", "body": body})
    assert result.is_error
    text = result.content[0].text
    assert "contact_id: Couldn't find Customer" in text and "f" * 32 in text, text
    assert "lines[0].ledger_account_id: Couldn't find LedgerAccount" in text, text


async def test_sage_error_bodies_without_source_name_the_argument(
    sandbox: SandboxServer, shaped_settings: Settings
) -> None:
    forward, _ = reshaping(sandbox)
    sent: list[dict[str, Any]] = []
    supplier_id = "1" * 32

    async def handle(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/bank_transfers"):
            sent.append(json.loads(request.content))
            return httpx2.Response(422, json=_error("Couldn't find BankAccount.", "RecordInvalid"))
        if request.method == "GET" and path.endswith(f"/bank_accounts/{'2' * 32}"):
            return httpx2.Response(404, json=_error("Couldn't find record.", "RecordNotFound"))
        if request.method == "GET" and path.endswith(f"/bank_accounts/{'3' * 32}"):
            return httpx2.Response(200, json={"id": "3" * 32}, headers={"X-Business": LEAD_BUSINESS_ID})
        if request.method == "GET" and path.endswith(f"/sales_invoices/{supplier_id}"):
            return httpx2.Response(404, json=_error("Couldn't find record.", "RecordNotFound"))
        return await forward(request)

    async with connect(shaped_settings, handle) as client:
        failed, text = await call(
            client,
            "create_bank_transfer",
            {"from_bank_account_id": "3" * 32, "to_bank_account_id": "2" * 32, "amount": "10.00"},
        )
        assert failed and sent, text
        assert "to_bank_account_id" in text and "from_bank_account_id" not in text, text
        assert "Couldn't find BankAccount" in text and "2" * 32 in text, text
        failed, text = await call(client, "list_invoices", {"id": supplier_id})
        assert failed and "is not a sales_invoice" in text and "list_invoices" in text, text


async def test_a_429_without_retry_after_is_retried_after_a_backoff(
    sandbox: SandboxServer, shaped_settings: Settings
) -> None:
    forward, _ = reshaping(sandbox)
    calls: list[str] = []

    async def handle(request: httpx2.Request) -> httpx2.Response:
        if not request.url.path.endswith("/contacts"):
            return await forward(request)
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx2.Response(429, json=_error("Too many requests", "TooManyRequests"))  # no Retry-After
        return httpx2.Response(
            200,
            json={"$total": 0, "$page": 1, "$next": None, "$back": None, "$itemsPerPage": 20, "$items": []},
            headers={"X-Business": LEAD_BUSINESS_ID},
        )

    async with connect(shaped_settings, handle) as client:
        failed, data = await call(client, "list_contacts", {})
        assert not failed and data["total"] == 0, data
        assert len(calls) == 2, "one refusal, one retry"
