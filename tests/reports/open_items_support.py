"""Helpers for the open-item report tests: a private sandbox, raw Sage calls to post a small book,
and the report tools called through the MCP client with their outputSchema checked."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server
from tests.helpers import with_line_tax

D = Decimal
_names = itertools.count(1)


@dataclass
class Book:
    """Raw access to one sandbox business, with the ids a small book needs."""

    server: SandboxServer
    api: httpx2.Client
    data_dir: Path
    accounts: dict[int, str]  # nominal code -> ledger account id
    bank: str

    def post(self, path: str, root: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.api.post(path, json=with_line_tax({root: body}))
        assert r.status_code in (200, 201), r.text
        out: dict[str, Any] = r.json()
        return out

    def put(self, path: str, root: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.api.put(path, json=with_line_tax({root: body}))
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    def contact(self, kind: str = "CUSTOMER") -> str:
        name = f"Report Test {kind.title()} {next(_names)}"
        return str(self.post("/contacts", "contact", {"name": name, "contact_type_ids": [kind]})["id"])

    def invoice(
        self,
        contact: str,
        date: dt.date,
        lines: list[tuple[str, str]],
        *,
        due: dt.date | None = None,
        sales: bool = True,
    ) -> dict[str, Any]:
        """lines: (net, tax rate id)."""
        account = self.accounts[4000 if sales else 7500]
        body: dict[str, Any] = {
            "contact_id": contact,
            "date": date.isoformat(),
            "due_date": (due or date + dt.timedelta(days=30)).isoformat(),
            "invoice_lines": [
                {
                    "description": "x",
                    "quantity": 1,
                    "unit_price": net,
                    "ledger_account_id": account,
                    "tax_rate_id": rate,
                }
                for net, rate in lines
            ],
        }
        if sales:
            return self.post("/sales_invoices", "sales_invoice", body)
        return self.post("/purchase_invoices", "purchase_invoice", body)

    def credit_note(self, contact: str, date: dt.date, net: str, rate: str, *, sales: bool = True) -> dict[str, Any]:
        body = {
            "contact_id": contact,
            "date": date.isoformat(),
            "credit_note_lines": [
                {
                    "description": "x",
                    "quantity": 1,
                    "unit_price": net,
                    "ledger_account_id": self.accounts[4000 if sales else 7500],
                    "tax_rate_id": rate,
                }
            ],
        }
        coll = "sales_credit_notes" if sales else "purchase_credit_notes"
        return self.post(f"/{coll}", coll[:-1], body)

    def pay(
        self,
        contact: str,
        date: dt.date,
        total: str,
        allocations: list[tuple[str, str]],
        *,
        kind: str = "CUSTOMER_RECEIPT",
    ) -> dict[str, Any]:
        body = {
            "transaction_type_id": kind,
            "contact_id": contact,
            "bank_account_id": self.bank,
            "date": date.isoformat(),
            "total_amount": total,
            "allocated_artefacts": [{"artefact_id": a, "amount": amt} for a, amt in allocations],
        }
        return self.post("/contact_payments", "contact_payment", body)

    def settings(self, **fields: Any) -> dict[str, Any]:
        return self.put("/financial_settings", "financial_settings", fields)


def open_book(config: SandboxConfig, tmp: Path) -> Iterator[Book]:
    with running_sandbox(config) as server:
        token = server.mint_tokens()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-Business": LEAD_BUSINESS_ID}
        with httpx2.Client(base_url=server.api_url, headers=headers, timeout=60) as api:
            accounts = api.get("/ledger_accounts", params={"attributes": "nominal_code", "items_per_page": 200})
            codes = {int(a["nominal_code"]): str(a["id"]) for a in accounts.json()["$items"]}
            banks = api.get("/bank_accounts", params={"attributes": "nominal_code"}).json()["$items"]
            bank = next(str(b["id"]) for b in banks if int(b.get("nominal_code") or 0) == 1200)
            yield Book(server, api, tmp, codes, bank)


async def call(book: Book, tmp: Path, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Call a tool through the MCP client; its structuredContent must satisfy the tool's outputSchema."""
    settings = sandbox_settings(book.server, tmp, toolsets="all")
    async with Client(create_server(settings)) as client:
        return await call_with(client, name, args)


async def call_with(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    data = result.structured_content
    assert isinstance(data, dict)
    jsonschema.validate(data, tools[name].output_schema or {})
    return data
