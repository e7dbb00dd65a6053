"""Big books: a large, consistent business in a sandbox database file (``sage-mcp sandbox seed``).

:func:`build_big_books` writes the normal demo data (:func:`~.seed.seed_sandbox`) and then grows the
lead business ("Hartley & Finch Ltd") to the requested number of contacts and sales invoices.  Every
record is made by the same code as the API and the demo seed - :class:`~.resources.contacts.Contacts`,
the ``sales_invoices`` collection (totals, numbering, postings), voids through its ``DELETE`` and
customer receipts through ``contact_payments``, with the demo seed's helpers (:mod:`.seed`) - so
shapes, totals and the double entry are the same, and the trial balance stays zero.

What makes it fast is :class:`BulkStore`: a :class:`~.store.Store` that keeps new and changed
records (with their ``record_index`` rows), ledger entries and counters in memory and writes them
with ``executemany`` in batches, all inside one transaction.  Any other SQL first writes out what is
pending, so reads always see everything.

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

import dataclasses
import datetime as dt
import json
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SandboxConfig
from .context import Context, epoch
from .resources.contacts import Contacts, contact_displayed_as
from .resources.payments import default_bank_account
from .resources.sales_invoices import SalesInvoices
from .seed import (
    add_tax_number,
    catalogue_lines,
    contact_payload,
    credit_limit,
    pay_invoice,
    postcode,
    seed_sandbox,
    slug,
    street,
    telephone,
)
from .seed_data import FIRST_NAMES, LAST_NAMES, LEAD_CATALOGUE, TOWNS, VOID_REASONS
from .store import INSERT_INDEX, INSERT_RECORD, UPDATE_INDEX, UPDATE_RECORD, Store, dumps

SPAN_DAYS = 730
FLUSH_EVERY = 2000
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


#: A pending record: its JSON and its ``record_index`` parameters.
_Pending = tuple[str, tuple[Any, ...]]


class BulkStore(Store):
    """A :class:`Store` that batches record, ledger-entry and counter writes (see the module docstring).

    Call :meth:`flush` before the outermost transaction commits.
    """

    def __init__(self, db_path: str | None, id_seed: object) -> None:
        super().__init__(db_path, id_seed)
        self._pending: dict[tuple[str, str, str], _Pending] = {}
        self._updates: dict[tuple[str, str, str], _Pending] = {}
        self._many: list[tuple[str, list[tuple[Any, ...]]]] = []
        self._counters: dict[tuple[str, str], int] = {}
        self._dirty: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ writing out

    def flush(self) -> None:
        """Write everything pending (in creation order) to the database."""
        with self.lock:
            if self._pending:
                pending, self._pending = self._pending, {}
                self._conn.executemany(INSERT_RECORD, [(*key, data) for key, (data, _) in pending.items()])
                self._conn.executemany(INSERT_INDEX, [index for _, index in pending.values()])
            if self._updates:
                updates, self._updates = self._updates, {}
                self._conn.executemany(UPDATE_RECORD, [(data, *key) for key, (data, _) in updates.items()])
                self._conn.executemany(UPDATE_INDEX, [index for _, index in updates.values()])
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
            self._pending[key] = (dumps(obj), self.index_params(business_id, resource, obj))

    def insert_many(self, business_id: str, resource: str, objs: list[dict[str, Any]]) -> None:
        for obj in objs:
            self.insert(business_id, resource, obj)

    def replace(self, business_id: str, resource: str, obj: dict[str, Any]) -> None:
        key = (business_id, resource, str(obj["id"]))
        entry = (dumps(obj), self.index_params(business_id, resource, obj))
        with self.lock:
            if key in self._pending:
                self._pending[key] = entry
                return
            if key not in self._updates:
                row = self._conn.execute(
                    "SELECT 1 FROM records WHERE business_id = ? AND resource = ? AND id = ?", key
                ).fetchone()
                if row is None:
                    raise KeyError(f"{resource}/{obj['id']} does not exist")
            self._updates[key] = entry

    def get(self, business_id: str, resource: str, record_id: str) -> dict[str, Any] | None:
        key = (business_id, resource, record_id)
        with self.lock:
            entry = self._pending.get(key) or self._updates.get(key)
            if entry is not None:
                return dict(json.loads(entry[0]))
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
            self.flush()
        return super().delete(business_id, resource, record_id)


# --------------------------------------------------------------------------------------------- building


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
        town = rng.choice(TOWNS)
        code = postcode(rng, town[2])
        ctx.now = epoch(first_day + dt.timedelta(days=index * SPAN_DAYS // max(count, 1)), 10, index % 60)
        days = rng.choice((14, 30, 30, 30, 60))
        limit = credit_limit(rng, type_id)
        line_1 = street(rng)
        person = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        payload = contact_payload(
            name,
            type_id,
            credit_days=days,
            limit=limit,
            address=(line_1, town, code),
            person=person,
            email=f"accounts@{slug(name, ('ltd', 'llp', 'co', 'group', 'partners'), 3)}.co.uk",
            phone=telephone(rng),
        )
        add_tax_number(rng, payload, type_id)
        # The reference is set here rather than through the payload: Contacts checks uniqueness by
        # scanning every contact, which is quadratic over thousands; these are unique by construction.
        record = contacts.create(ctx, payload)
        record["reference"] = reference
        record["displayed_as"] = contact_displayed_as(record["name"], reference)
        ctx.put("contacts", record)


def _add_invoices(
    ctx: Context,
    rng: random.Random,
    count: int,
    store: BulkStore,
    progress: Callable[[str], None] | None,
) -> int:
    """``count`` more sales invoices of the lead business; returns the number of receipts."""
    invoices = SalesInvoices()
    bank = str(default_bank_account(ctx)["id"])
    today = ctx.today
    customers = [c for c in ctx.by_id("contacts").values() if c["contact_types"][0]["id"] == "CUSTOMER"]
    customers.sort(key=lambda c: str(c["id"]))
    accounts = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    ctx.by_id("tax_rates")
    dates = sorted(today - dt.timedelta(days=rng.randint(1, SPAN_DAYS)) for _ in range(count))
    receipts = 0
    for index, date in enumerate(dates):
        customer = rng.choice(customers)
        lines = catalogue_lines(rng, LEAD_CATALOGUE, rng.randint(1, 4), accounts)
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
        ctx.now = epoch(date, 9, index % 60)
        invoice = invoices.create(ctx, payload)
        if not draft and roll > 0.99:
            ctx.now = epoch(min(today, date + dt.timedelta(days=2)), 11)
            invoices.delete(ctx, invoice, {"void_reason": rng.choice(VOID_REASONS)})
        elif not draft:
            paid = pay_invoice(ctx, rng, invoice, date, bank, overdue_odds=(0.9, 0.95), part_below_total=False)
            receipts += int(paid)
        if (index + 1) % FLUSH_EVERY == 0:
            store.flush()
            ctx.forget("sales_invoices")
            ctx.forget("transactions")
        if progress is not None and (index + 1) % 10_000 == 0:
            progress(f"{index + 1} of {count} invoices")
    return receipts


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
    they must be at least the demo's (50 and 205).  An existing file is refused unless ``replace``.
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
            ctx = Context(
                store, dataclasses.replace(config, strict=False), business, SANDBOX_USER_ID, now=epoch(day), today=day
            )
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
            store.analyze()
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
