"""Deterministic demo data: the same ``(seed, today)`` always gives the same businesses, ids,
contacts, invoices, payments and ledger postings.

* Lead business ``LEAD_BUSINESS_ID``: "Hartley & Finch Ltd", a UK VAT-registered limited company
  (commercial interiors and joinery, Leeds).  35 customers, 15 suppliers, 200 sales invoices over
  the 12 months before ``today``: mostly paid, some unpaid (several overdue), some part paid, four
  void, three drafts.  Every payment is a ``contact_payments`` customer receipt into the current
  account (the ``bank_accounts`` record of nominal 1200 when there is one, else ledger account
  1200); two receipts overpay and leave a payment on account (one of them refunded).  Five
  invoices were converted from quotes/estimates; six more quotes and four estimates are open or
  declined.  Six sales credit notes: two allocated to their invoices, one refunded, one void, two
  unallocated.  40 purchase invoices from twelve suppliers (rent, telephone, leasing ...), paid by
  supplier payments when due; the latest invoice of every supplier billing four or more times a
  year stays unpaid (e.g. Greystone Commercial Properties' rent, Lowther Vehicle Leasing), the most
  recent purchase invoice is a draft; two purchase credit notes (Cityline's allocated, Fastnet's not).
  On top of that, open items that make every report interesting (:data:`AGED_SALES`,
  :data:`AGED_PURCHASES`): five unpaid sales invoices SI-201 to SI-205 and five purchase invoices,
  one due in each aged bucket at ``today`` (not yet due, 1-30, 31-60, 61-90 and 90+ days overdue;
  one of each side part paid), with lines at 20 %, 5 % (``GB_LOWER``), zero and exempt rates; and money
  on account: a customer deposit (Larkspur Events Ltd, 600.00, five days ago) and a supplier deposit
  (Jubilee Catering Supplies, 250.00, nine days ago), neither allocated.
  Financial settings: year end 31 March, accrual accounting, VAT ``STANDARD`` scheme, quarterly returns.
* Second business ``SECOND_BUSINESS_ID``: "Fern Studio", a sole trader designer in York on Accounting
  Start, VAT registered on the **cash accounting** scheme (``tax_scheme`` ``CASH``,
  ``sales_tax_calculation``/``purchase_tax_calculation`` ``cash``, quarterly): 6 customers, 2 suppliers,
  15 invoices at ``GB_STANDARD`` (paid by receipts, some not), five purchase invoices at ``GB_STANDARD``.
* Third business ``THIRD_BUSINESS_ID``: "Moorside Cycle Works", a sole trader in Otley on Accounting
  Standard, VAT registered on the **flat rate** scheme (``FLAT_RATE_INVOICE``, ``flat_rate_tax_percentage``
  10.00, quarterly): 5 customers, 2 suppliers, 14 invoices (20 % and zero-rated helmets), six purchase
  invoices.  Its invoices and purchases post VAT to 2200/2201 at the rates on their lines, as under the
  standard scheme: what a flat rate return owes is worked out from them, not posted.
* ``FOREIGN_BUSINESS_ID``: "Oakridge Holdings Ltd", which belongs to another user; the sandbox
  user cannot use it.

Invoices, payments and the other records are created through their collections exactly as a
``POST`` would, so totals, numbering, statuses and postings come from the same code.  The helpers
that draw contacts, invoice lines and receipts (:func:`contact_payload`, :func:`catalogue_lines`,
:func:`pay_invoice` ...) also make the big books (:mod:`.bigbooks`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, round_money, to_decimal

from .config import (
    FOREIGN_BUSINESS_ID,
    LEAD_BUSINESS_ID,
    SANDBOX_USER_ID,
    SECOND_BUSINESS_ID,
    THIRD_BUSINESS_ID,
    SandboxConfig,
)
from .context import Context, epoch, iso_utc
from .core import build_business
from .reference_data import CHART_OF_ACCOUNTS, UK_TAX_RATES
from .resources.artefacts import Artefact
from .resources.contacts import Contacts
from .resources.ledger_accounts import build_ledger_account, build_tax_rate
from .resources.payments import ContactAllocations, ContactPayments, default_bank_account
from .resources.purchases import PurchaseCreditNotes, PurchaseInvoices
from .resources.quotes import SalesEstimates, SalesQuotes
from .resources.sales_credit_notes import SalesCreditNotes
from .resources.sales_invoices import SalesInvoices
from .resources.seed_books import seed_bank_accounts, seed_bookkeeping
from .seed_data import (
    CREDIT_REASONS,
    FIRST_NAMES,
    FOREIGN_CUSTOMERS,
    FOREIGN_SUPPLIERS,
    LAST_NAMES,
    LEAD_CATALOGUE,
    LEAD_CUSTOMERS,
    LEAD_PURCHASES,
    LEAD_SUPPLIERS,
    SECOND_CATALOGUE,
    SECOND_CUSTOMERS,
    SECOND_PURCHASES,
    SECOND_SUPPLIERS,
    STREETS,
    SUPPLIER_CREDIT_REASONS,
    THIRD_CATALOGUE,
    THIRD_CUSTOMERS,
    THIRD_PURCHASES,
    THIRD_SUPPLIERS,
    TOWNS,
    VOID_REASONS,
)
from .seed_history import seed_history, vat_filed_to
from .store import Store

FOREIGN_USER_ID = "2b4d6f8a0c1e3a5b7c9d1e3f5a7b9c0d"
LEAD_INVOICE_COUNT = 200
SECOND_INVOICE_COUNT = 15
THIRD_INVOICE_COUNT = 14
#: Open sales invoices of the lead business, one per aged bucket: (customer, days overdue at ``today``
#: (negative: not yet due), part of it paid, lines as (description, nominal, tax rate, quantity, unit price)).
AGED_SALES: tuple[tuple[str, int, str, tuple[tuple[str, int, str, str, str], ...]], ...] = (
    ("Castlegate Hotels Ltd", -12, "0", (("Bespoke shelving unit", 4001, "GB_STANDARD", "2", "750.00"),)),
    (
        "Kestrel Engineering Ltd",
        9,
        "0",
        (
            ("Energy-saving loft insulation", 4001, "GB_LOWER", "2", "612.50"),
            ("Site survey", 4000, "GB_STANDARD", "1", "175.00"),
        ),
    ),
    ("Meridian Travel Ltd", 44, "0", (("Printed product catalogue", 4002, "GB_ZERO", "150", "3.335"),)),
    (
        "Hawthorn Care Homes Ltd",
        73,
        "0.4",
        (
            ("Joinery labour (per hour)", 4000, "GB_STANDARD", "24", "47.50"),
            ("Health and safety training (per delegate)", 4900, "GB_EXEMPT", "6", "95.00"),
        ),
    ),
    ("Granite Construction Ltd", 128, "0", (("Oak worktop (per metre)", 4001, "GB_STANDARD", "6", "189.99"),)),
)
#: Open purchase invoices of the lead business, one per aged bucket: (supplier, days overdue, part paid,
#: reference, description, nominal, tax rate, net amount).
AGED_PURCHASES: tuple[tuple[str, int, str, str, str, int, str, str], ...] = (
    ("Brightspark Electrical Ltd", -15, "0", "BSE-7101", "Loft insulation materials", 5001, "GB_LOWER", "840.00"),
    ("Northern Paper Supplies Ltd", 18, "0", "NPS-7102", "Printed brochures", 5000, "GB_ZERO", "1250.00"),
    (
        "Evergreen Facilities Management",
        39,
        "0",
        "EFM-7103",
        "Emergency workshop repair",
        7800,
        "GB_STANDARD",
        "480.00",
    ),
    ("Dales Courier Services", 67, "0", "DCS-7104", "Courier deliveries", 7501, "GB_STANDARD", "156.00"),
    ("Clearview Window Cleaning", 104, "0.5", "CWC-7105", "Window cleaning", 7500, "GB_STANDARD", "360.00"),
)
#: Money on account of the lead business: (contact, transaction type, days ago, amount, reference).
ON_ACCOUNT = (
    ("Larkspur Events Ltd", "CUSTOMER_RECEIPT", 5, "600.00", "Deposit for summer refit"),
    ("Jubilee Catering Supplies", "VENDOR_PAYMENT", 9, "250.00", "Deposit on catering order"),
)
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_PART_PAYMENTS = ("0.25", "0.4", "0.5", "0.6", "0.75")

Catalogue = tuple[tuple[str, int, str, tuple[int, int], tuple[str, ...]], ...]
Purchases = tuple[tuple[str, str, int, str, tuple[str, ...], int, str], ...]
_OVERPAYMENT = Decimal("50.00")


# ---------------------------------------------------------------------------------------------- drawing records


def slug(name: str, stop_words: tuple[str, ...], words: int) -> str:
    """The first ``words`` words of a company name, lower-case, without ``stop_words`` (for e-mail domains)."""
    kept = [re.sub(r"[^a-z0-9]", "", w.lower()) for w in name.split()]
    kept = [w for w in kept if w and w not in stop_words]
    return "".join(kept[:words]) or "contact"


def postcode(rng: random.Random, district: str) -> str:
    return f"{district} {rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"


def street(rng: random.Random) -> str:
    return f"{rng.randint(1, 180)} {rng.choice(STREETS)}"


def telephone(rng: random.Random) -> str:
    return f"0{rng.randint(1130, 1999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def credit_limit(rng: random.Random, type_id: str) -> Decimal | int:
    return Decimal(rng.choice(("0", "2500", "5000", "10000"))) if type_id == "CUSTOMER" else 0


def contact_payload(
    name: str,
    type_id: str,
    *,
    credit_days: int,
    limit: Decimal | int,
    address: tuple[str, tuple[str, str, str], str],
    person: str,
    email: str,
    phone: str,
) -> dict[str, Any]:
    """A ``POST /contacts`` body; ``address`` is ``(street, (town, region, district), postcode)``."""
    line_1, (city, region, _), code = address
    return {
        "name": name,
        "contact_type_ids": [type_id],
        "credit_days": credit_days,
        "credit_limit": limit,
        "main_address": {
            "address_line_1": line_1,
            "city": city,
            "region": region,
            "postal_code": code,
            "country_id": "GB",
            "address_type_id": "ACCOUNTS",
        },
        "main_contact_person": {
            "name": person,
            "email": email,
            "telephone": phone,
            "contact_person_type_ids": ["ACCOUNTS"],
        },
    }


def add_tax_number(rng: random.Random, payload: dict[str, Any], type_id: str) -> None:
    """Two customers in five have a VAT number."""
    if type_id == "CUSTOMER" and rng.random() < 0.4:
        payload["tax_number"] = f"GB{rng.randint(100000000, 999999999)}"


def catalogue_lines(
    rng: random.Random, catalogue: Sequence[Any], count: int, accounts: Mapping[int, str]
) -> list[dict[str, Any]]:
    """``count`` different catalogue items as artefact lines (a random quantity and price each)."""
    lines = []
    for description, nominal, rate_id, (low, high), prices in rng.sample(catalogue, count):
        lines.append(
            {
                "description": description,
                "ledger_account_id": accounts[nominal],
                "quantity": str(rng.randint(low, high)),
                "unit_price": rng.choice(prices),
                "tax_rate_id": rate_id,
            }
        )
    return lines


def pay_invoice(
    ctx: Context,
    rng: random.Random,
    invoice: dict[str, Any],
    date: dt.date,
    bank: str,
    *,
    overdue_odds: tuple[float, float],
    extra: Decimal = ZERO,
    part_below_total: bool = True,
) -> bool:
    """Maybe pay a sales invoice by a customer receipt (plus ``extra`` on account), in full or in part,
    the more likely the more overdue it is: ``overdue_odds`` are the chances of "paid" and of "paid or
    part paid" once it is a month overdue.  A part payment that rounds to nothing (or, with
    ``part_below_total``, to the whole) is not made.  Returns whether a receipt was made."""
    today = ctx.today
    due = dt.date.fromisoformat(invoice["due_date"])
    roll = rng.random()
    if due < today - dt.timedelta(days=30):
        paid, part = overdue_odds
    elif due < today:
        paid, part = 0.5, 0.65
    else:
        paid, part = 0.3, 0.4
    if roll >= part:
        return False
    paid_on = date + dt.timedelta(days=min((today - date).days, rng.randint(5, 50)))
    total_amount = to_decimal(invoice["total_amount"])
    amount = total_amount
    if roll >= paid:
        amount = round_money(total_amount * Decimal(rng.choice(_PART_PAYMENTS)))
        if part_below_total and amount == total_amount:
            return False
    if not ZERO < amount <= total_amount:
        return False
    ctx.now = epoch(paid_on, 14, rng.randint(0, 59))
    ContactPayments().create(
        ctx,
        {
            "transaction_type_id": "CUSTOMER_RECEIPT",
            "contact_id": invoice["contact"]["id"],
            "bank_account_id": bank,
            "date": paid_on.isoformat(),
            "total_amount": amount + extra,
            "reference": f"BACS {invoice['invoice_number']}",
            "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": amount}],
        },
    )
    return True


# ---------------------------------------------------------------------------------------------- the demo books


def seed_sandbox(store: Store, config: SandboxConfig) -> None:
    """Fill an empty store.  Call inside ``store.transaction()``."""
    today = config.current_date()
    opened = today - dt.timedelta(days=420)
    stamp = iso_utc(epoch(opened, 8))
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
                created_at=iso_utc(epoch(opened + dt.timedelta(days=10), 8)),
                vat_registered=True,
                vat_number="GB318204756",
                tax_scheme="CASH",
            ),
            SANDBOX_USER_ID,
        ),
        (
            build_business(
                THIRD_BUSINESS_ID,
                name="Moorside Cycle Works",
                address=("3 Kirkgate", None, "Otley", "West Yorkshire", "LS21 3HN"),
                telephone="01943 555 214",
                website=None,
                subscription=("STANDARD", "Accounting Standard"),
                created_at=iso_utc(epoch(opened + dt.timedelta(days=20), 8)),
                vat_registered=True,
                vat_number="GB402715683",
                tax_scheme="FLAT_RATE_INVOICE",
                flat_rate_percentage="10.00",
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
    businesses[0][0]["_vat_filed_to"] = vat_filed_to(today).isoformat()  # its earlier VAT returns are filed
    owners: set[str] = set()
    for position, (business, owner) in enumerate(businesses):
        store.put_business(business, position, owner)
        store.grant_business(business["id"], owner, lead=owner not in owners)  # each owner's first is its lead
        owners.add(owner)
    plans: list[tuple[dict[str, Any], tuple[str, ...], tuple[str, ...], Catalogue, int]] = [
        (businesses[0][0], LEAD_CUSTOMERS, LEAD_SUPPLIERS, LEAD_CATALOGUE, LEAD_INVOICE_COUNT),
        (businesses[1][0], SECOND_CUSTOMERS, SECOND_SUPPLIERS, SECOND_CATALOGUE, SECOND_INVOICE_COUNT),
        (businesses[2][0], THIRD_CUSTOMERS, THIRD_SUPPLIERS, THIRD_CATALOGUE, THIRD_INVOICE_COUNT),
        (businesses[3][0], FOREIGN_CUSTOMERS, FOREIGN_SUPPLIERS, (), 0),
    ]
    kind = dataclasses.replace(config, strict=False)  # the seed writes as Sage's own data, not as a client
    for business, customers, suppliers, catalogue, invoice_count in plans:
        owner = SANDBOX_USER_ID if business["id"] != FOREIGN_BUSINESS_ID else FOREIGN_USER_ID
        ctx = Context(store, kind, business, owner, now=epoch(opened, 8), today=today)
        rng = random.Random(f"sage-sandbox:{config.seed}:{business['id']}")
        _seed_reference_data(ctx)
        seed_bank_accounts(ctx)
        _seed_contacts(ctx, rng, customers, suppliers, opened)
        if invoice_count:
            _seed_invoices(ctx, rng, catalogue, invoice_count)
        _seed_books(ctx, config.seed)
        seed_bookkeeping(ctx, config.seed)
        if business["id"] == LEAD_BUSINESS_ID:
            seed_history(ctx)


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
        town = rng.choice(TOWNS)
        code = postcode(rng, town[2])
        person = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        domain = slug(name, ("ltd", "llp", "co", "the"), 2) + ".co.uk"
        ctx.now = epoch(opened + dt.timedelta(days=index // 4), 10, index % 60)
        limit = credit_limit(rng, type_id)
        line_1 = street(rng)
        payload = contact_payload(
            name,
            type_id,
            credit_days=30,
            limit=limit,
            address=(line_1, town, code),
            person=person,
            email=f"accounts@{domain}",
            phone=telephone(rng),
        )
        payload["reference"] = reference
        add_tax_number(rng, payload, type_id)
        contacts.create(ctx, payload)
    ctx.forget("contacts")
    ctx.by_id("contacts")


def _seed_invoices(ctx: Context, rng: random.Random, catalogue: Catalogue, count: int) -> None:
    today = ctx.today
    invoices = SalesInvoices()
    customers = [c for c in ctx.by_id("contacts").values() if c["contact_types"][0]["id"] == "CUSTOMER"]
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    bank = str(default_bank_account(ctx)["id"])
    dates = sorted(today - dt.timedelta(days=rng.randint(1, 365)) for _ in range(count))
    recent = list(range(max(0, count - 15), count))
    drafts = set(rng.sample(recent, min(3, len(recent)))) if count >= 20 else set()
    voids = set(rng.sample([i for i in range(count) if i not in drafts], 4)) if count >= 20 else set()
    # quotes converted to invoices and overpaid receipts come from their own random stream, so the
    # invoices themselves stay what they were before those existed
    books = random.Random(f"sage-sandbox:{ctx.config.seed}:{ctx.business_id}:quotes")
    convertible = [i for i in range(count // 2, count) if i not in drafts and i not in voids]
    from_quotes: dict[int, Artefact] = {}
    overpaid: set[int] = set()
    if count >= 20:
        kinds: list[Artefact] = [SalesQuotes(), SalesQuotes(), SalesQuotes(), SalesEstimates(), SalesEstimates()]
        from_quotes = dict(zip(books.sample(convertible, len(kinds)), kinds, strict=True))
        overpaid = set(books.sample([i for i in range(count // 2) if i not in voids], 2))
    for index, date in enumerate(dates):
        customer = rng.choice(customers)
        lines = catalogue_lines(rng, catalogue, rng.randint(1, min(4, len(catalogue))), accounts)
        payload: dict[str, Any] = {
            "contact_id": customer["id"],
            "date": date.isoformat(),
            "reference": f"PO-{rng.randint(1000, 9999)}" if rng.random() < 0.6 else None,
            "invoice_lines": lines,
        }
        if index in drafts:
            payload["status_id"] = "DRAFT"
        if index in from_quotes:
            quoted = date - dt.timedelta(days=books.randint(5, 20))
            quote = _seed_quote(ctx, from_quotes[index], customer, lines, quoted, "ACCEPTED", index)
            payload["original_quote_estimate_id"] = quote["id"]
        ctx.now = epoch(date, 9, index % 60)
        invoice = invoices.create(ctx, payload)
        if index in drafts:
            continue
        if index in voids:
            ctx.now = epoch(min(today, date + dt.timedelta(days=2)), 11)
            invoices.delete(ctx, invoice, {"void_reason": rng.choice(VOID_REASONS)})
            continue
        extra = _OVERPAYMENT if index in overpaid else ZERO
        pay_invoice(ctx, rng, invoice, date, bank, overdue_odds=(0.85, 0.92), extra=extra)


def _seed_quote(
    ctx: Context,
    collection: Artefact,
    customer: dict[str, Any],
    lines: list[dict[str, Any]],
    date: dt.date,
    status_id: str,
    salt: int,
) -> dict[str, Any]:
    ctx.now = epoch(date, 11, salt % 60)
    lines_key = collection.lines_key
    return collection.create(
        ctx,
        {
            "contact_id": customer["id"],
            "date": date.isoformat(),
            "expiry_date": (date + dt.timedelta(days=30)).isoformat(),
            "status_id": status_id,
            lines_key: [dict(line, quantity=line.get("quantity", "1")) for line in lines],
        },
    )


def _seed_books(ctx: Context, seed: int) -> None:
    """Quotes, credit notes, refunds and purchases (after the sales invoices and their receipts)."""
    books = random.Random(f"sage-sandbox:{seed}:{ctx.business_id}:books")
    bank = str(default_bank_account(ctx)["id"]) if ctx.by_id("ledger_accounts") else ""
    if ctx.business_id == LEAD_BUSINESS_ID:
        _seed_open_quotes(ctx, books, LEAD_CATALOGUE)
        _seed_credit_notes(ctx, books, bank)
        _seed_purchases(ctx, books, LEAD_PURCHASES, bank)
        _seed_supplier_credits(ctx, books)
        _seed_open_items(ctx, bank)
    elif ctx.business_id == SECOND_BUSINESS_ID:
        _seed_purchases(ctx, books, SECOND_PURCHASES, bank)
    elif ctx.business_id == THIRD_BUSINESS_ID:
        _seed_purchases(ctx, books, THIRD_PURCHASES, bank)


def _seed_open_quotes(ctx: Context, books: random.Random, catalogue: Catalogue) -> None:
    customers = [c for c in ctx.by_id("contacts").values() if c["contact_types"][0]["id"] == "CUSTOMER"]
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    plan: list[tuple[Artefact, str]] = [(SalesQuotes(), s) for s in ("PENDING", "PENDING", "ACCEPTED", "DECLINED")]
    plan += [(SalesQuotes(), "DRAFT"), (SalesQuotes(), "PENDING")]
    plan += [(SalesEstimates(), s) for s in ("PENDING", "ACCEPTED", "DECLINED", "PENDING")]
    for index, (collection, status_id) in enumerate(plan):
        lines = catalogue_lines(books, catalogue, books.randint(1, 3), accounts)
        date = ctx.today - dt.timedelta(days=books.randint(1, 60))
        _seed_quote(ctx, collection, books.choice(customers), lines, date, status_id, index)


def _seed_credit_notes(ctx: Context, books: random.Random, bank: str) -> None:
    """Six credit notes on older invoices: two allocated, one refunded, one void, two left open;
    and the refund of one payment on account."""
    today = ctx.today
    notes, allocations, payments = SalesCreditNotes(), ContactAllocations(), ContactPayments()
    cutoff = (today - dt.timedelta(days=20)).isoformat()
    posted = [
        i
        for i in ctx.store.all(ctx.business_id, "sales_invoices")
        if i["status"]["id"] in ("UNPAID", "PART_PAID", "PAID") and i["date"] <= cutoff
    ]
    open_ones = [i for i in posted if i["status"]["id"] != "PAID"]
    chosen = books.sample(open_ones, 2)
    chosen += books.sample([i for i in posted if i not in chosen], 4)
    for index, invoice in enumerate(chosen):
        line = invoice["invoice_lines"][0]
        fraction = Decimal(books.choice(("0.1", "0.2", "0.25", "0.5")))
        price = max(round_money(to_decimal(line["net_amount"]) * fraction), Decimal("1.00"))
        day = min(today, dt.date.fromisoformat(invoice["date"]) + dt.timedelta(days=books.randint(3, 20)))
        ctx.now = epoch(day, 10, index)
        note = notes.create(
            ctx,
            {
                "contact_id": invoice["contact"]["id"],
                "date": day.isoformat(),
                "reference": invoice["invoice_number"],
                "original_invoice_date": invoice["date"],
                "credit_note_lines": [
                    {
                        "description": books.choice(CREDIT_REASONS),
                        "ledger_account_id": line["ledger_account"]["id"],
                        "quantity": "1",
                        "unit_price": str(price),
                        "tax_rate_id": line["tax_rate"]["id"],
                    }
                ],
            },
        )
        credit = to_decimal(note["total_amount"])
        current = ctx.get("sales_invoices", invoice["id"]) or invoice
        if index < 2 and credit <= to_decimal(current["outstanding_amount"]):
            allocations.create(
                ctx,
                {
                    "transaction_type_id": "CUSTOMER_ALLOCATION",
                    "contact_id": invoice["contact"]["id"],
                    "date": day.isoformat(),
                    "allocated_artefacts": [
                        {"artefact_id": invoice["id"], "amount": credit},
                        {"artefact_id": note["id"], "amount": -credit},
                    ],
                },
            )
        elif index == 2:
            refunded = min(today, day + dt.timedelta(days=7))
            ctx.now = epoch(refunded, 15, index)
            payments.create(
                ctx,
                {
                    "transaction_type_id": "CUSTOMER_REFUND",
                    "contact_id": invoice["contact"]["id"],
                    "bank_account_id": bank,
                    "date": refunded.isoformat(),
                    "total_amount": credit,
                    "reference": f"Refund {note['credit_note_number']}",
                    "allocated_artefacts": [{"artefact_id": note["id"], "amount": credit}],
                },
            )
        elif index == 5:
            notes.delete(ctx, note, {"void_reason": "Raised in error"})
    on_account = ctx.store.all(ctx.business_id, "payments_on_account")
    if on_account:
        poa = on_account[0]
        refunded = min(today, dt.date.fromisoformat(poa["date"]) + dt.timedelta(days=10))
        ctx.now = epoch(refunded, 15, 30)
        payments.create(
            ctx,
            {
                "transaction_type_id": "CUSTOMER_REFUND",
                "contact_id": poa["contact"]["id"],
                "bank_account_id": bank,
                "date": refunded.isoformat(),
                "total_amount": poa["outstanding_amount"],
                "reference": "Refund of overpayment",
                "allocated_artefacts": [{"artefact_id": poa["id"], "amount": poa["outstanding_amount"]}],
            },
        )


def _seed_purchases(ctx: Context, books: random.Random, plan: Purchases, bank: str) -> None:
    """Each supplier bills at regular intervals over the year; due invoices are mostly paid."""
    today = ctx.today
    invoices, payments = PurchaseInvoices(), ContactPayments()
    suppliers = {c["name"]: c for c in ctx.by_id("contacts").values() if c["contact_types"][0]["id"] == "VENDOR"}
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    bills: list[tuple[dt.date, str, int, bool]] = []
    for position, (supplier, _, _, _, _, per_year, _) in enumerate(plan):
        step = 365 // per_year
        offset = books.randint(2, min(step, 40))
        for n in range(per_year):
            latest = n == 0 and per_year >= 4
            bills.append((today - dt.timedelta(days=offset + n * step), supplier, position, latest))
    bills.sort()
    for number, (date, supplier, position, keep_unpaid) in enumerate(bills, 1):
        _, description, nominal, rate_id, prices, _, prefix = plan[position]
        due = date + dt.timedelta(days=30)
        payload: dict[str, Any] = {
            "contact_id": suppliers[supplier]["id"],
            "date": date.isoformat(),
            "due_date": due.isoformat(),
            "vendor_reference": f"{prefix}-{1000 + number}",
            "invoice_lines": [
                {
                    "description": description,
                    "ledger_account_id": accounts[nominal],
                    "quantity": str(books.randint(1, 3) if nominal == 7504 else 1),
                    "unit_price": books.choice(prices),
                    "tax_rate_id": rate_id,
                }
            ],
        }
        draft = number == len(bills) and len(bills) >= 20
        if draft:
            payload["status_id"] = "DRAFT"
        ctx.now = epoch(date, 12, number % 60)
        invoice = invoices.create(ctx, payload)
        roll = books.random()
        if draft or keep_unpaid:
            continue
        if due < today - dt.timedelta(days=14):
            outcome = "PAID" if roll < 0.9 else "PART_PAID"
        elif due < today:
            outcome = "PAID" if roll < 0.4 else "PART_PAID" if roll < 0.6 else "UNPAID"
        else:
            outcome = "PAID" if roll < 0.15 else "UNPAID"
        if outcome == "UNPAID":
            continue
        gross = to_decimal(invoice["total_amount"])
        amount = gross if outcome == "PAID" else round_money(gross / 2)
        paid_on = min(today, max(date, due - dt.timedelta(days=books.randint(0, 10))))
        ctx.now = epoch(paid_on, 16, number % 60)
        payments.create(
            ctx,
            {
                "transaction_type_id": "VENDOR_PAYMENT",
                "contact_id": suppliers[supplier]["id"],
                "bank_account_id": bank,
                "date": paid_on.isoformat(),
                "total_amount": amount,
                "reference": f"BACS {payload['vendor_reference']}",
                "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": amount}],
            },
        )


def _seed_supplier_credits(ctx: Context, books: random.Random) -> None:
    """Cityline's credit for an outage, allocated to its open invoice; Fastnet's return, not allocated."""
    notes, allocations = PurchaseCreditNotes(), ContactAllocations()
    suppliers = {c["name"]: c for c in ctx.by_id("contacts").values() if c["contact_types"][0]["id"] == "VENDOR"}
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    for supplier, nominal, price, allocate in (
        ("Cityline Telecom Ltd", 7502, "15.00", True),
        ("Fastnet IT Hardware Ltd", 30, "129.00", False),
    ):
        contact = suppliers[supplier]
        theirs = [
            i
            for i in ctx.store.all(ctx.business_id, "purchase_invoices")
            if i["contact"]["id"] == contact["id"] and i["status"]["id"] != "DRAFT"
        ]
        latest = max(theirs, key=lambda i: str(i["date"]))
        day = min(ctx.today, dt.date.fromisoformat(latest["date"]) + dt.timedelta(days=books.randint(1, 5)))
        ctx.now = epoch(day, 13, 0)
        note = notes.create(
            ctx,
            {
                "contact_id": contact["id"],
                "date": day.isoformat(),
                "vendor_reference": f"CR-{latest['vendor_reference']}",
                "credit_note_lines": [
                    {
                        "description": books.choice(SUPPLIER_CREDIT_REASONS),
                        "ledger_account_id": accounts[nominal],
                        "quantity": "1",
                        "unit_price": price,
                        "tax_rate_id": "GB_STANDARD",
                    }
                ],
            },
        )
        credit = to_decimal(note["total_amount"])
        if allocate and latest["status"]["id"] in ("UNPAID", "PART_PAID"):
            allocations.create(
                ctx,
                {
                    "transaction_type_id": "VENDOR_ALLOCATION",
                    "contact_id": contact["id"],
                    "date": day.isoformat(),
                    "allocated_artefacts": [
                        {"artefact_id": latest["id"], "amount": credit},
                        {"artefact_id": note["id"], "amount": -credit},
                    ],
                },
            )


def _seed_open_items(ctx: Context, bank: str) -> None:
    """One open sales and one open purchase invoice per aged bucket, and money on account (no randomness)."""
    today = ctx.today
    contacts = {c["name"]: c for c in ctx.by_id("contacts").values()}
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    payments = ContactPayments()
    for index, (customer, overdue, paid_part, lines) in enumerate(AGED_SALES):
        due = today - dt.timedelta(days=overdue)
        date = due - dt.timedelta(days=30)
        ctx.now = epoch(date, 10, index)
        invoice = SalesInvoices().create(
            ctx,
            {
                "contact_id": contacts[customer]["id"],
                "date": date.isoformat(),
                "due_date": due.isoformat(),
                "reference": f"PO-{7201 + index}",
                "invoice_lines": [
                    {
                        "description": description,
                        "ledger_account_id": accounts[nominal],
                        "quantity": quantity,
                        "unit_price": price,
                        "tax_rate_id": rate_id,
                    }
                    for description, nominal, rate_id, quantity, price in lines
                ],
            },
        )
        if paid_part != "0":
            amount = round_money(to_decimal(invoice["total_amount"]) * Decimal(paid_part))
            paid_on = due + dt.timedelta(days=10)
            ctx.now = epoch(paid_on, 14, index)
            payments.create(
                ctx,
                {
                    "transaction_type_id": "CUSTOMER_RECEIPT",
                    "contact_id": contacts[customer]["id"],
                    "bank_account_id": bank,
                    "date": paid_on.isoformat(),
                    "total_amount": amount,
                    "reference": f"BACS part {invoice['invoice_number']}",
                    "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": amount}],
                },
            )
    for index, (supplier, overdue, paid_part, reference, description, nominal, rate_id, net) in enumerate(
        AGED_PURCHASES
    ):
        due = today - dt.timedelta(days=overdue)
        date = due - dt.timedelta(days=30)
        ctx.now = epoch(date, 12, index)
        invoice = PurchaseInvoices().create(
            ctx,
            {
                "contact_id": contacts[supplier]["id"],
                "date": date.isoformat(),
                "due_date": due.isoformat(),
                "vendor_reference": reference,
                "invoice_lines": [
                    {
                        "description": description,
                        "ledger_account_id": accounts[nominal],
                        "quantity": "1",
                        "unit_price": net,
                        "tax_rate_id": rate_id,
                    }
                ],
            },
        )
        if paid_part != "0":
            amount = round_money(to_decimal(invoice["total_amount"]) * Decimal(paid_part))
            paid_on = due + dt.timedelta(days=7)
            ctx.now = epoch(paid_on, 16, index)
            payments.create(
                ctx,
                {
                    "transaction_type_id": "VENDOR_PAYMENT",
                    "contact_id": contacts[supplier]["id"],
                    "bank_account_id": bank,
                    "date": paid_on.isoformat(),
                    "total_amount": amount,
                    "reference": f"BACS part {reference}",
                    "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": amount}],
                },
            )
    for index, (name, type_id, days_ago, deposit, reference) in enumerate(ON_ACCOUNT):
        day = today - dt.timedelta(days=days_ago)
        ctx.now = epoch(day, 11, index)
        payments.create(
            ctx,
            {
                "transaction_type_id": type_id,
                "contact_id": contacts[name]["id"],
                "bank_account_id": bank,
                "date": day.isoformat(),
                "total_amount": deposit,
                "reference": reference,
                "allocated_artefacts": [],
            },
        )
