"""Big books: a large, consistent business in a sandbox database file (``sage-mcp sandbox seed``).

:func:`build_big_books` writes the normal demo data (:func:`~.seed.seed_sandbox`) and then grows the
lead business ("Hartley & Finch Ltd") to the requested number of contacts and sales invoices.  Every
record is made by the same code as the API and the demo seed - :class:`~.resources.contacts.Contacts`,
the ``sales_invoices`` collection (totals, numbering, postings), voids through its ``DELETE`` and
customer receipts through ``contact_payments`` (or, where that resource is not there, the receipt
helper of the sales invoices) - so shapes, totals and the double entry are the same, and the trial
balance stays zero.

What makes it fast is :class:`BulkStore`: a :class:`~.store.Store` that keeps new and changed
records, ledger entries and counters in memory and writes them with ``executemany`` in batches, all
inside one transaction.  Any other SQL first writes out what is pending, so reads always see
everything.

The generated part (deterministic for ``seed`` and ``today``):

* contacts: about 85% customers; company names from word lists; unique references (``ABC0001``);
  addresses, people and e-mails like the demo's; created over the two years before ``today``;
* invoices: dated over the 730 days before ``today``, each with 1-4 lines from the demo catalogue;
  about 1% void, drafts among the last 20 days, the rest paid, part paid or unpaid depending on how
  overdue they are (like the demo seed), with a receipt for every payment.

The file is marked as seeded, so ``running_sandbox(SandboxConfig(db_path=PATH))`` and
``sage-mcp sandbox serve --db PATH`` serve it as it is.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sage_mcp.money import round_money, to_decimal

from .config import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SandboxConfig
from .context import Context
from .ledger import BANK_CURRENT, account_by_nominal
from .resources import Collection, build_registry
from .resources.contacts import Contacts, contact_displayed_as
from .seed import seed_sandbox
from .seed_data import FIRST_NAMES, LAST_NAMES, LEAD_CATALOGUE, STREETS, TOWNS, VOID_REASONS
from .store import Store

SPAN_DAYS = 730
FLUSH_EVERY = 2000
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_LEDGER_INSERT = "INSERT INTO LEDGER_ENTRIES"

#: Words the generated company names are made of.
NAME_WORDS = (
    "Abbey", "Alder", "Amber", "Anchor", "Apex", "Arden", "Ash", "Aspen", "Atlas", "Aurora", "Avon", "Beacon",
    "Birch", "Bramble", "Bridge", "Briar", "Broad", "Brook", "Burnside", "Cedar", "Chalk", "Chapel", "Cherry",
    "Clover", "Coast", "Cobalt", "Copper", "Corner", "Cotton", "Crown", "Dale", "Delta", "Dove", "Eagle", "East",
    "Elder", "Elm", "Falcon", "Fern", "Field", "Flint", "Forge", "Fox", "Garnet", "Glen", "Golden", "Granite",
    "Green", "Harbour", "Hazel", "Heath", "Heron", "High", "Hill", "Holly", "Iron", "Ivy", "Juniper", "Kestrel",
    "King", "Lake", "Lark", "Laurel", "Linden", "Lion", "Maple", "Marsh", "Meadow", "Mill", "Moor", "North",
    "Oak", "Orchard", "Otter", "Park", "Pine", "Quarry", "Raven", "Red", "Ridge", "River", "Rose", "Rowan",
    "Saffron", "Silver", "Slate", "South", "Spring", "Stone", "Summit", "Swan", "Thistle", "Tower", "Vale",
    "Valley", "West", "Willow", "Wren", "Yew",
)  # fmt: skip
TRADES = (
    "Architects", "Bakery", "Builders", "Carpentry", "Catering", "Cleaning", "Consulting", "Dental", "Design",
    "Electrical", "Engineering", "Estates", "Events", "Fitness", "Florists", "Foods", "Garages", "Gardens",
    "Haulage", "Hotels", "Interiors", "Joinery", "Legal", "Logistics", "Marketing", "Media", "Motors",
    "Nurseries", "Opticians", "Plumbing", "Print", "Properties", "Recruitment", "Roofing", "Software",
    "Surveyors", "Tiling", "Training", "Travel", "Veterinary",
)  # fmt: skip
FORMS = ("Ltd", "Ltd", "Ltd", "LLP", "& Co", "Group", "Partners", "")


@dataclass(frozen=True)
class BigBooksReport:
    """What :func:`build_big_books` wrote."""

    path: str
    contacts: int
    invoices: int
    statuses: dict[str, int]
    receipts: int
    seconds: float
    today: dt.date
    seed: int
    added: dict[str, int] = field(default_factory=dict)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class BulkStore(Store):
    """A :class:`Store` that batches record, ledger-entry and counter writes (see the module docstring).

    Call :meth:`flush` before the outermost transaction commits.
    """

    def __init__(self, db_path: str | None, id_seed: object) -> None:
        super().__init__(db_path, id_seed)
        self._pending: dict[tuple[str, str, str], str] = {}
        self._updates: dict[tuple[str, str, str], str] = {}
        self._many: list[tuple[str, list[tuple[Any, ...]]]] = []
        self._counters: dict[tuple[str, str], int] = {}
        self._dirty: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ writing out

    def flush(self) -> None:
        """Write everything pending (in creation order) to the database."""
        with self.lock:
            if self._pending:
                rows = [(*key, data) for key, data in self._pending.items()]
                self._pending = {}
                self._conn.executemany(
                    "INSERT INTO records (business_id, resource, id, data) VALUES (?, ?, ?, ?)", rows
                )
            if self._updates:
                updates = [(data, *key) for key, data in self._updates.items()]
                self._updates = {}
                self._conn.executemany(
                    "UPDATE records SET data = ? WHERE business_id = ? AND resource = ? AND id = ?", updates
                )
            many, self._many = self._many, []
            for sql, batch in many:
                self._conn.executemany(sql, batch)
            if self._dirty:
                counters = [(b, n, self._counters[(b, n)]) for b, n in sorted(self._dirty)]
                self._dirty = set()
                self._conn.executemany(
                    "INSERT OR REPLACE INTO sequences (business_id, name, value) VALUES (?, ?, ?)", counters
                )

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        self.flush()
        return super().execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if sql.lstrip().upper().startswith(_LEDGER_INSERT):
            if self._many and self._many[-1][0] == sql:
                self._many[-1][1].extend(rows)
            else:
                self._many.append((sql, list(rows)))
            return
        self.flush()
        super().executemany(sql, rows)

    # ------------------------------------------------------------------ counters and ids

    def next_value(self, business_id: str, name: str) -> int:
        key = (business_id, name)
        with self.lock:
            if key not in self._counters:
                row = self._conn.execute(
                    "SELECT value FROM sequences WHERE business_id = ? AND name = ?", key
                ).fetchone()
                self._counters[key] = int(row["value"]) if row else 0
            self._counters[key] += 1
            self._dirty.add(key)
            return self._counters[key]

    def peek_value(self, business_id: str, name: str) -> int:
        key = (business_id, name)
        with self.lock:
            if key in self._counters:
                return self._counters[key]
        return super().peek_value(business_id, name)

    # ------------------------------------------------------------------ records

    def insert(self, business_id: str, resource: str, obj: dict[str, Any]) -> None:
        key = (business_id, resource, str(obj["id"]))
        with self.lock:
            if key in self._pending:
                raise KeyError(f"{resource}/{obj['id']} already exists")
            self._pending[key] = _dumps(obj)

    def insert_many(self, business_id: str, resource: str, objs: list[dict[str, Any]]) -> None:
        for obj in objs:
            self.insert(business_id, resource, obj)

    def replace(self, business_id: str, resource: str, obj: dict[str, Any]) -> None:
        key = (business_id, resource, str(obj["id"]))
        with self.lock:
            if key in self._pending:
                self._pending[key] = _dumps(obj)
                return
            if key in self._updates:
                self._updates[key] = _dumps(obj)
                return
            row = self._conn.execute(
                "SELECT 1 FROM records WHERE business_id = ? AND resource = ? AND id = ?", key
            ).fetchone()
            if row is None:
                raise KeyError(f"{resource}/{obj['id']} does not exist")
            self._updates[key] = _dumps(obj)

    def get(self, business_id: str, resource: str, record_id: str) -> dict[str, Any] | None:
        key = (business_id, resource, record_id)
        with self.lock:
            data = self._pending.get(key) or self._updates.get(key)
            if data is not None:
                return dict(json.loads(data))
            row = self._conn.execute(
                "SELECT data FROM records WHERE business_id = ? AND resource = ? AND id = ?", key
            ).fetchone()
            return None if row is None else dict(json.loads(row["data"]))

    def delete(self, business_id: str, resource: str, record_id: str) -> bool:
        key = (business_id, resource, record_id)
        with self.lock:
            if self._pending.pop(key, None) is not None:
                return True
            self._updates.pop(key, None)
        return super().delete(business_id, resource, record_id)


# --------------------------------------------------------------------------------------------- building


def _epoch(day: dt.date, hour: int = 9, minute: int = 0) -> float:
    return float(calendar.timegm((day.year, day.month, day.day, hour, minute, 0)))


def _slug(name: str) -> str:
    words = [re.sub(r"[^a-z0-9]", "", w.lower()) for w in name.split()]
    words = [w for w in words if w and w not in ("ltd", "llp", "co", "group", "partners")]
    return "".join(words[:3]) or "contact"


def _company_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct company names (a number is appended once the word combinations run out)."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        base = f"{rng.choice(NAME_WORDS)} {rng.choice(NAME_WORDS)} {rng.choice(TRADES)}"
        name = f"{base} {rng.choice(FORMS)}".strip()
        if name in seen:
            name = f"{base} {len(names) + 1} Ltd"
        seen.add(name)
        names.append(name)
    return names


def _add_contacts(ctx: Context, rng: random.Random, count: int) -> None:
    contacts = Contacts()
    existing = {str(c.get("reference") or "").upper() for c in ctx.by_id("contacts").values()}
    prefixes: Counter[str] = Counter()
    first_day = ctx.today - dt.timedelta(days=SPAN_DAYS + 30)
    for index, name in enumerate(_company_names(rng, count)):
        type_id = "CUSTOMER" if rng.random() < 0.85 else "VENDOR"
        letters = re.sub(r"[^A-Z]", "", name.upper())[:3].ljust(3, "X")
        reference = ""
        while not reference or reference in existing:
            prefixes[letters] += 1
            reference = f"{letters}{prefixes[letters]:04d}"
        existing.add(reference)
        city, region, district = rng.choice(TOWNS)
        postcode = f"{district} {rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        ctx.now = _epoch(first_day + dt.timedelta(days=index * SPAN_DAYS // max(count, 1)), 10, index % 60)
        payload: dict[str, Any] = {
            "name": name,
            "contact_type_ids": [type_id],
            "credit_days": rng.choice((14, 30, 30, 30, 60)),
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
                "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                "email": f"accounts@{_slug(name)}.co.uk",
                "telephone": f"0{rng.randint(1130, 1999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "contact_person_type_ids": ["ACCOUNTS"],
            },
        }
        if type_id == "CUSTOMER" and rng.random() < 0.4:
            payload["tax_number"] = f"GB{rng.randint(100000000, 999999999)}"
        # The reference is set here rather than through the payload: Contacts checks uniqueness by
        # scanning every contact, which is quadratic over thousands; these are unique by construction.
        record = contacts.create(ctx, payload)
        record["reference"] = reference
        record["displayed_as"] = contact_displayed_as(record["name"], reference)
        ctx.put("contacts", record)


def _receipt_writer(
    ctx: Context, registry: dict[str, Collection]
) -> Callable[[dict[str, Any], Decimal, dt.date], None]:
    """How a customer's payment of an invoice is recorded: a ``contact_payments`` receipt allocated to
    it, or (without that resource) the sales invoices' receipt helper."""
    payments = registry.get("contact_payments")
    if payments is not None and "create" in payments.operations:
        current = account_by_nominal(ctx, BANK_CURRENT)
        banks = ctx.store.all(ctx.business_id, "bank_accounts")
        matching = [b for b in banks if (b.get("ledger_account") or {}).get("id") == current["id"]]
        bank_id = str((matching or banks or [current])[0]["id"])

        def by_payment(invoice: dict[str, Any], amount: Decimal, day: dt.date) -> None:
            payments.create(
                ctx,
                {
                    "transaction_type_id": "CUSTOMER_RECEIPT",
                    "contact_id": invoice["contact"]["id"],
                    "bank_account_id": bank_id,
                    "date": day.isoformat(),
                    "total_amount": amount,
                    "reference": f"BACS {invoice['invoice_number']}",
                    "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": amount}],
                },
            )

        return by_payment
    from .resources import sales_invoices

    apply_receipt: Callable[..., None] = sales_invoices.apply_receipt  # type: ignore[attr-defined,unused-ignore]
    bank = str(account_by_nominal(ctx, BANK_CURRENT)["id"])

    def by_helper(invoice: dict[str, Any], amount: Decimal, day: dt.date) -> None:
        apply_receipt(ctx, invoice, amount, day, bank)
        invoice["updated_at"] = ctx.now_iso
        ctx.put("sales_invoices", invoice)

    return by_helper


def _add_invoices(
    ctx: Context,
    rng: random.Random,
    count: int,
    store: BulkStore,
    progress: Callable[[str], None] | None,
) -> int:
    """``count`` more sales invoices of the lead business; returns the number of receipts."""
    registry = build_registry()
    invoices = registry["sales_invoices"]
    pay = _receipt_writer(ctx, registry)
    today = ctx.today
    customers = [c for c in ctx.by_id("contacts").values() if c["contact_types"][0]["id"] == "CUSTOMER"]
    customers.sort(key=lambda c: str(c["id"]))
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    ctx.by_id("tax_rates")
    dates = sorted(today - dt.timedelta(days=rng.randint(1, SPAN_DAYS)) for _ in range(count))
    receipts = 0
    for index, date in enumerate(dates):
        customer = rng.choice(customers)
        lines = []
        for description, nominal, rate_id, (low, high), prices in rng.sample(LEAD_CATALOGUE, rng.randint(1, 4)):
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
            "reference": f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.6 else None,
            "invoice_lines": lines,
        }
        roll = rng.random()
        draft = (today - date).days <= 20 and roll < 0.08
        if draft:
            payload["status_id"] = "DRAFT"
        ctx.now = _epoch(date, 9, index % 60)
        invoice = invoices.create(ctx, payload)
        if not draft and roll > 0.99:
            ctx.now = _epoch(min(today, date + dt.timedelta(days=2)), 11)
            invoices.delete(ctx, invoice, {"void_reason": rng.choice(VOID_REASONS)})
        elif not draft:
            receipts += _maybe_pay(ctx, rng, invoice, date, pay)
        if (index + 1) % FLUSH_EVERY == 0:
            store.flush()
            ctx.forget("sales_invoices")
            ctx.forget("transactions")
        if progress is not None and (index + 1) % 10_000 == 0:
            progress(f"{index + 1} of {count} invoices")
    return receipts


def _maybe_pay(
    ctx: Context,
    rng: random.Random,
    invoice: dict[str, Any],
    date: dt.date,
    pay: Callable[[dict[str, Any], Decimal, dt.date], None],
) -> int:
    """Pay the invoice in full or in part, or not at all, the more likely the more overdue it is."""
    today = ctx.today
    due = dt.date.fromisoformat(invoice["due_date"])
    roll = rng.random()
    if due < today - dt.timedelta(days=30):
        outcome = "PAID" if roll < 0.9 else "PART_PAID" if roll < 0.95 else "UNPAID"
    elif due < today:
        outcome = "PAID" if roll < 0.5 else "PART_PAID" if roll < 0.65 else "UNPAID"
    else:
        outcome = "PAID" if roll < 0.3 else "PART_PAID" if roll < 0.4 else "UNPAID"
    if outcome == "UNPAID":
        return 0
    paid_on = date + dt.timedelta(days=min((today - date).days, rng.randint(5, 50)))
    total_amount = to_decimal(invoice["total_amount"])
    amount = total_amount
    if outcome == "PART_PAID":
        amount = round_money(total_amount * Decimal(rng.choice(("0.25", "0.4", "0.5", "0.6", "0.75"))))
    if not Decimal(0) < amount <= total_amount:
        return 0
    ctx.now = _epoch(paid_on, 14, rng.randint(0, 59))
    pay(invoice, amount, paid_on)
    return 1


def build_big_books(
    path: str | os.PathLike[str],
    *,
    contacts: int,
    invoices: int,
    seed: int = 7,
    today: dt.date | None = None,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BigBooksReport:
    """Write big books into the sqlite file ``path`` (see the module docstring).

    ``contacts`` and ``invoices`` are the totals of the lead business, demo records included, so
    they must be at least the demo's (50 and 200).  An existing file is refused unless ``replace``.
    """
    started = time.perf_counter()
    target = Path(path)
    if target.exists():
        if not replace:
            raise FileExistsError(f"{target} exists (use replace=True / --force to overwrite it)")
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
    config = SandboxConfig(db_path=str(target), seed=seed, today=today)
    day = config.current_date()
    config.today = day
    store = BulkStore(str(target), seed)
    try:
        store.execute("PRAGMA synchronous=OFF")
        store.execute("PRAGMA cache_size=-200000")
        with store.transaction():
            seed_sandbox(store, config)
            store.flush()
            have_contacts = store.count(LEAD_BUSINESS_ID, "contacts")
            have_invoices = store.count(LEAD_BUSINESS_ID, "sales_invoices")
            if contacts < have_contacts or invoices < have_invoices:
                raise ValueError(
                    f"the demo books already have {have_contacts} contacts and {have_invoices} invoices: "
                    "ask for at least that many"
                )
            business = store.get_business(LEAD_BUSINESS_ID)
            assert business is not None
            ctx = Context(store, config, business, SANDBOX_USER_ID, now=_epoch(day), today=day)
            rng = random.Random(f"sage-sandbox:big-books:{seed}:{day.isoformat()}")
            _add_contacts(ctx, rng, contacts - have_contacts)
            if progress is not None:
                progress(f"{contacts} contacts")
            receipts = _add_invoices(ctx, rng, invoices - have_invoices, store, progress)
            store.flush()
            statuses = Counter(
                str(status) for (status,) in store.fields(LEAD_BUSINESS_ID, "sales_invoices", "$.status.id")
            )
            store.set_meta("seeded", json.dumps({"seed": seed, "today": day.isoformat()}))
            added = {"contacts": contacts - have_contacts, "invoices": invoices - have_invoices}
            store.set_meta("big_books", json.dumps({**added, "receipts": receipts}))
            store.flush()
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    return BigBooksReport(
        path=str(target),
        contacts=contacts,
        invoices=invoices,
        statuses=dict(sorted(statuses.items())),
        receipts=receipts,
        seconds=time.perf_counter() - started,
        today=day,
        seed=seed,
        added=added,
    )
