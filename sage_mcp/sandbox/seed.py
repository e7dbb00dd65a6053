"""Deterministic demo data: the same ``(seed, today)`` always gives the same businesses, ids,
contacts, invoices, payments and ledger postings.

* Lead business ``LEAD_BUSINESS_ID``: "Hartley & Finch Ltd", a UK VAT-registered limited company
  (commercial interiors and joinery, Leeds).  35 customers, 15 suppliers, 200 sales invoices over
  the 12 months before ``today``: mostly paid, some unpaid (several overdue), some part paid, four
  void, three drafts.
* Second business ``SECOND_BUSINESS_ID``: "Fern Studio", a sole trader designer in York, not VAT
  registered: 6 customers, 2 suppliers, 15 invoices at ``GB_NO_TAX``.
* ``FOREIGN_BUSINESS_ID``: "Oakridge Holdings Ltd", which belongs to another user; the sandbox
  user cannot use it.

Invoices are created through :class:`~.resources.sales_invoices.SalesInvoices` exactly as a
``POST`` would, so totals, numbering and postings come from the same code.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re
from decimal import Decimal
from typing import Any

from sage_mcp.money import round_money, to_decimal

from .config import (
    FOREIGN_BUSINESS_ID,
    LEAD_BUSINESS_ID,
    SANDBOX_USER_ID,
    SECOND_BUSINESS_ID,
    SandboxConfig,
)
from .context import Context, iso_utc
from .core import build_business
from .ledger import BANK_CURRENT, account_by_nominal
from .reference_data import CHART_OF_ACCOUNTS, UK_TAX_RATES
from .resources.contacts import Contacts
from .resources.ledger_accounts import build_ledger_account, build_tax_rate
from .resources.sales_invoices import SalesInvoices, apply_receipt
from .seed_data import (
    FIRST_NAMES,
    FOREIGN_CUSTOMERS,
    FOREIGN_SUPPLIERS,
    LAST_NAMES,
    LEAD_CATALOGUE,
    LEAD_CUSTOMERS,
    LEAD_SUPPLIERS,
    SECOND_CATALOGUE,
    SECOND_CUSTOMERS,
    SECOND_SUPPLIERS,
    STREETS,
    TOWNS,
    VOID_REASONS,
)
from .store import Store

FOREIGN_USER_ID = "2b4d6f8a0c1e3a5b7c9d1e3f5a7b9c0d"
LEAD_INVOICE_COUNT = 200
SECOND_INVOICE_COUNT = 15
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

Catalogue = tuple[tuple[str, int, str, tuple[int, int], tuple[str, ...]], ...]


def _epoch(day: dt.date, hour: int = 9, minute: int = 0) -> float:
    return float(calendar.timegm((day.year, day.month, day.day, hour, minute, 0)))


def seed_sandbox(store: Store, config: SandboxConfig) -> None:
    """Fill an empty store.  Call inside ``store.transaction()``."""
    today = config.current_date()
    opened = today - dt.timedelta(days=420)
    stamp = iso_utc(_epoch(opened, 8))
    store.put_user(
        {
            "id": SANDBOX_USER_ID,
            "displayed_as": "Sam Hartley",
            "$path": "/user",
            "created_at": stamp,
            "updated_at": stamp,
            "first_name": "Sam",
            "last_name": "Hartley",
            "initials": "SH",
            "email": "sam@hartleyfinch.co.uk",
            "locale": "en-GB",
        }
    )
    store.put_user(
        {
            "id": FOREIGN_USER_ID,
            "displayed_as": "Priya Shah",
            "$path": "/user",
            "created_at": stamp,
            "updated_at": stamp,
            "first_name": "Priya",
            "last_name": "Shah",
            "initials": "PS",
            "email": "priya@oakridgeholdings.co.uk",
            "locale": "en-GB",
        }
    )
    businesses = [
        (
            build_business(
                LEAD_BUSINESS_ID,
                name="Hartley & Finch Ltd",
                address=("Unit 4, Riverside Court", "Wharf Street", "Leeds", "West Yorkshire", "LS2 7EQ"),
                telephone="0113 496 0274",
                website="https://www.hartleyfinch.co.uk",
                subscription=("ACCOUNTING", "Accounting Plus"),
                created_at=stamp,
                vat_registered=True,
                vat_number="GB284619357",
            ),
            SANDBOX_USER_ID,
        ),
        (
            build_business(
                SECOND_BUSINESS_ID,
                name="Fern Studio",
                address=("12 Gillygate", None, "York", "North Yorkshire", "YO31 7EQ"),
                telephone="01904 555 018",
                website="https://fernstudio.co.uk",
                subscription=("START", "Accounting Start"),
                created_at=iso_utc(_epoch(opened + dt.timedelta(days=10), 8)),
                vat_registered=False,
            ),
            SANDBOX_USER_ID,
        ),
        (
            build_business(
                FOREIGN_BUSINESS_ID,
                name="Oakridge Holdings Ltd",
                address=("1 Granary Wharf", None, "Leeds", "West Yorkshire", "LS11 5PY"),
                telephone=None,
                website=None,
                subscription=("ACCOUNTING", "Accounting Plus"),
                created_at=stamp,
                vat_registered=True,
                vat_number="GB193847562",
            ),
            FOREIGN_USER_ID,
        ),
    ]
    for position, (business, owner) in enumerate(businesses):
        store.put_business(business, position, owner)
        store.grant_business(business["id"], owner, lead=position in (0, 2))
    plans: list[tuple[dict[str, Any], tuple[str, ...], tuple[str, ...], Catalogue, int]] = [
        (businesses[0][0], LEAD_CUSTOMERS, LEAD_SUPPLIERS, LEAD_CATALOGUE, LEAD_INVOICE_COUNT),
        (businesses[1][0], SECOND_CUSTOMERS, SECOND_SUPPLIERS, SECOND_CATALOGUE, SECOND_INVOICE_COUNT),
        (businesses[2][0], FOREIGN_CUSTOMERS, FOREIGN_SUPPLIERS, (), 0),
    ]
    for business, customers, suppliers, catalogue, invoice_count in plans:
        owner = SANDBOX_USER_ID if business["id"] != FOREIGN_BUSINESS_ID else FOREIGN_USER_ID
        ctx = Context(store, config, business, owner, now=_epoch(opened, 8), today=today)
        rng = random.Random(f"sage-sandbox:{config.seed}:{business['id']}")
        _seed_reference_data(ctx)
        _seed_contacts(ctx, rng, customers, suppliers, opened)
        if invoice_count:
            _seed_invoices(ctx, rng, catalogue, invoice_count)


def _seed_reference_data(ctx: Context) -> None:
    rates = [build_tax_rate(ctx, spec) for spec in UK_TAX_RATES]
    ctx.store.insert_many(ctx.business_id, "tax_rates", rates)
    ctx.forget("tax_rates")
    ctx.by_id("tax_rates")
    vat_registered = bool(ctx.business.get("_vat_registered"))
    accounts = [build_ledger_account(ctx, spec, vat_registered=vat_registered) for spec in CHART_OF_ACCOUNTS]
    ctx.store.insert_many(ctx.business_id, "ledger_accounts", accounts)
    ctx.forget("ledger_accounts")
    ctx.by_id("ledger_accounts")


def _slug(name: str) -> str:
    words = [re.sub(r"[^a-z0-9]", "", w.lower()) for w in name.split()]
    words = [w for w in words if w and w not in ("ltd", "llp", "co", "the")]
    return "".join(words[:2]) or "contact"


def _seed_contacts(
    ctx: Context, rng: random.Random, customers: tuple[str, ...], suppliers: tuple[str, ...], opened: dt.date
) -> None:
    contacts = Contacts()
    prefixes: dict[str, int] = {}
    entries = [(n, "CUSTOMER") for n in customers] + [(n, "VENDOR") for n in suppliers]
    for index, (name, type_id) in enumerate(entries):
        letters = re.sub(r"[^A-Z]", "", name.upper())[:3].ljust(3, "X")
        prefixes[letters] = prefixes.get(letters, 0) + 1
        reference = f"{letters}{prefixes[letters]:03d}"
        city, region, district = rng.choice(TOWNS)
        postcode = f"{district} {rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        person = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        domain = _slug(name) + ".co.uk"
        ctx.now = _epoch(opened + dt.timedelta(days=index // 4), 10, index % 60)
        payload: dict[str, Any] = {
            "name": name,
            "contact_type_ids": [type_id],
            "reference": reference,
            "credit_days": 30,
            "credit_limit": Decimal(rng.choice(("0", "2500", "5000", "10000"))) if type_id == "CUSTOMER" else 0,
            "main_address": {
                "address_line_1": f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                "city": city,
                "region": region,
                "postal_code": postcode,
                "country_id": "GB",
                "address_type_id": "ACCOUNTS",
            },
            "main_contact_person": {
                "name": person,
                "email": f"accounts@{domain}",
                "telephone": f"0{rng.randint(1130, 1999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "contact_person_type_ids": ["ACCOUNTS"],
            },
        }
        if type_id == "CUSTOMER" and rng.random() < 0.4:
            payload["tax_number"] = f"GB{rng.randint(100000000, 999999999)}"
        contacts.create(ctx, payload)
    ctx.forget("contacts")
    ctx.by_id("contacts")


def _seed_invoices(ctx: Context, rng: random.Random, catalogue: Catalogue, count: int) -> None:
    today = ctx.today
    invoices = SalesInvoices()
    customers = [c for c in ctx.by_id("contacts").values() if c["contact_types"][0]["id"] == "CUSTOMER"]
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    bank = account_by_nominal(ctx, BANK_CURRENT)["id"]
    dates = sorted(today - dt.timedelta(days=rng.randint(1, 365)) for _ in range(count))
    recent = list(range(max(0, count - 15), count))
    drafts = set(rng.sample(recent, min(3, len(recent)))) if count >= 20 else set()
    voids = set(rng.sample([i for i in range(count) if i not in drafts], 4)) if count >= 20 else set()
    for index, date in enumerate(dates):
        customer = rng.choice(customers)
        lines = []
        for item in rng.sample(catalogue, rng.randint(1, min(4, len(catalogue)))):
            description, nominal, rate_id, (low, high), prices = item
            lines.append(
                {
                    "description": description,
                    "ledger_account_id": accounts[nominal],
                    "quantity": str(rng.randint(low, high)),
                    "unit_price": rng.choice(prices),
                    "tax_rate_id": rate_id,
                }
            )
        payload: dict[str, Any] = {
            "contact_id": customer["id"],
            "date": date.isoformat(),
            "reference": f"PO-{rng.randint(1000, 9999)}" if rng.random() < 0.6 else None,
            "invoice_lines": lines,
        }
        if index in drafts:
            payload["status_id"] = "DRAFT"
        ctx.now = _epoch(date, 9, index % 60)
        invoice = invoices.create(ctx, payload)
        if index in drafts:
            continue
        if index in voids:
            ctx.now = _epoch(min(today, date + dt.timedelta(days=2)), 11)
            invoices.delete(ctx, invoice, {"void_reason": rng.choice(VOID_REASONS)})
            continue
        _seed_payment(ctx, rng, invoice, date, bank)


def _seed_payment(ctx: Context, rng: random.Random, invoice: dict[str, Any], date: dt.date, bank: str) -> None:
    today = ctx.today
    due = dt.date.fromisoformat(invoice["due_date"])
    roll = rng.random()
    if due < today - dt.timedelta(days=30):
        outcome = "PAID" if roll < 0.85 else "PART_PAID" if roll < 0.92 else "UNPAID"
    elif due < today:
        outcome = "PAID" if roll < 0.5 else "PART_PAID" if roll < 0.65 else "UNPAID"
    else:
        outcome = "PAID" if roll < 0.3 else "PART_PAID" if roll < 0.4 else "UNPAID"
    if outcome == "UNPAID":
        return
    latest = (today - date).days
    paid_on = date + dt.timedelta(days=min(latest, rng.randint(5, 50)))
    total_amount = to_decimal(invoice["total_amount"])
    if outcome == "PAID":
        amount = total_amount
    else:
        amount = round_money(total_amount * Decimal(rng.choice(("0.25", "0.4", "0.5", "0.6", "0.75"))))
        if not Decimal(0) < amount < total_amount:
            return
    ctx.now = _epoch(paid_on, 14, rng.randint(0, 59))
    apply_receipt(ctx, invoice, amount, paid_on, bank)
    invoice["updated_at"] = ctx.now_iso
    ctx.put("sales_invoices", invoice)
