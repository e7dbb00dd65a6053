"""UK VAT return preparation: boxes 1-9 for a period, by the business's VAT scheme, with per-box
drill-down and box 5 reconciled to the VAT control accounts.

Sources: sales and purchase invoices and credit notes, other receipts and payments (bank entries
with VAT), and journal lines marked ``include_on_tax_return``. Drafts and voided documents never
count (Sage takes a voided document's values out of the accounts). Lines at "No VAT" (outside the
scope of VAT) stay out of boxes 6 and 7.

Schemes (``financial_settings.tax_scheme``):

* standard (invoice basis): documents by their date;
* cash accounting: payments and allocations dated in the period, each bringing in the VAT of the
  share of the document it settled (``amount / total``, half-up to the penny);
* flat rate (invoice or cash based): box 1 = the flat-rate percentage of the VAT-inclusive turnover
  (box 6); box 4 only capital purchases (not identifiable from the API: 0, said in a note).

Box 3 = 1 + 2, box 5 = |3 - 4|; boxes 2, 8 and 9 (EU movements of goods, Northern Ireland only
since 2021) are 0. Sage's API has no VAT return submission: the return is submitted to HMRC (MTD)
in Sage itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sage_mcp.money import HUNDRED, ZERO, money, round_money, to_decimal
from sage_mcp.reports.aged import (
    BEGINNING,
    amount_of,
    as_date,
    find_control,
    ledger_balances,
    link_id,
    link_name,
)
from sage_mcp.reports.fetch import Fetcher

BOXES = ("1", "2", "3", "4", "5", "6", "7", "8", "9")
BOX_LABELS = {
    "1": "VAT due on sales and other outputs",
    "2": "VAT due on acquisitions from the EU (Northern Ireland goods)",
    "3": "Total VAT due (1 + 2)",
    "4": "VAT reclaimed on purchases and other inputs",
    "5": "Net VAT to pay or reclaim |3 - 4|",
    "6": "Total value of sales and other outputs excluding VAT",
    "7": "Total value of purchases and other inputs excluding VAT",
    "8": "Total value of goods supplied to the EU (Northern Ireland)",
    "9": "Total value of goods acquired from the EU (Northern Ireland)",
}
SUBMISSION_NOTE = (
    "This prepares the VAT return; it does not submit it. Submit to HMRC (Making Tax Digital) in Sage "
    "itself: Sage's API has no VAT return submission."
)
SCHEMES = ("standard", "cash", "flat_rate_invoice", "flat_rate_cash")
_ART = (
    "date,status,contact,contact_name,invoice_number,credit_note_number,displayed_as,"
    "net_amount,tax_amount,total_amount,tax_analysis"
)


def scheme_of(settings: Mapping[str, Any]) -> str | None:
    """Our scheme name from Sage's ``tax_scheme`` (id or name); ``None`` when not VAT registered."""
    raw = settings.get("tax_scheme")
    text = f"{link_id(raw) or ''} {link_name(raw) or ''} {raw if isinstance(raw, str) else ''}".upper()
    if "NOT_REGISTERED" in text or "NOT REGISTERED" in text:
        return None
    flat = "FLAT" in text
    cash = "CASH" in text
    if flat:
        return "flat_rate_cash" if cash else "flat_rate_invoice"
    return "cash" if cash else "standard"


# -- contributions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One document's (or payment's, or journal line's) part of one box."""

    box: str
    kind: str
    id: str
    number: str
    date: str
    amount: Decimal


@dataclass
class Return:
    scheme: str
    from_date: dt.date
    to_date: dt.date
    entries: list[Entry] = field(default_factory=list)
    #: VAT charged / reclaimable on the documents dated in the period (what the ledger holds)
    posted_output: Decimal = ZERO
    posted_input: Decimal = ZERO
    #: journal lines on the VAT accounts not on the return (they move the ledger, not the return)
    excluded_journal_vat: Decimal = ZERO
    flat_rate: Decimal | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, box: str, kind: str, raw: Mapping[str, Any], amount: Decimal, number: str | None = None) -> None:
        if amount == ZERO:
            return
        self.entries.append(
            Entry(
                box,
                kind,
                str(raw.get("id") or ""),
                str(
                    number
                    or raw.get("invoice_number")
                    or raw.get("credit_note_number")
                    or raw.get("reference")
                    or raw.get("displayed_as")
                    or raw.get("id")
                    or ""
                ),
                str(raw.get("date") or "")[:10],
                amount,
            )
        )

    def box(self, box: str) -> Decimal:
        return sum((e.amount for e in self.entries if e.box == box), ZERO)

    def boxes(self) -> dict[str, Decimal]:
        b = {k: self.box(k) for k in ("1", "2", "4", "6", "7", "8", "9")}
        b["3"] = b["1"] + b["2"]
        b["5"] = abs(b["3"] - b["4"])
        return b


def _status(raw: Mapping[str, Any]) -> str:
    return str(link_id(raw.get("status")) or raw.get("status") or "").upper()


def _counts(raw: Mapping[str, Any]) -> bool:
    return _status(raw) not in ("DRAFT", "VOID", "VOIDED") and not raw.get("deleted_at")


def _outside_scope(rate: Any) -> bool:
    rid = (link_id(rate) or "").upper()
    name = (link_name(rate) or "").casefold()
    return "NO_TAX" in rid or rid.endswith("_NOTAX") or name.startswith("no vat")


def _split(raw: Mapping[str, Any], lines_key: str | None = None) -> tuple[Decimal, Decimal, Decimal]:
    """(net in scope, tax, gross in scope) of a document; "No VAT" lines left out of net and gross."""
    tax = amount_of(raw, "tax_amount")
    net = amount_of(raw, "net_amount")
    gross = amount_of(raw, "total_amount")
    parts = raw.get("tax_analysis")
    if not isinstance(parts, list) and lines_key:
        parts = raw.get(lines_key)
    if isinstance(parts, list):
        for p in parts:
            if isinstance(p, Mapping) and _outside_scope(p.get("tax_rate")):
                net -= amount_of(p, "net_amount")
                gross -= amount_of(p, "total_amount")
    return net, tax, gross


def _in(raw: Mapping[str, Any], start: dt.date, end: dt.date, key: str = "date") -> bool:
    d = as_date(raw.get(key))
    return d is not None and start <= d <= end


@dataclass(frozen=True)
class DocSet:
    kind: str  # sales_invoice …
    sign: int  # +1 invoice, -1 credit note
    sales: bool


def add_documents(ret: Return, docs: Iterable[Mapping[str, Any]], ds: DocSet) -> None:
    """Documents into the boxes by the scheme: by date (invoice basis) or by what was paid in the period."""
    start, end = ret.from_date, ret.to_date
    vat_box, value_box = ("1", "6") if ds.sales else ("4", "7")
    flat = ret.flat_rate is not None
    cash = ret.scheme in ("cash", "flat_rate_cash")
    for raw in docs:
        if not _counts(raw):
            continue
        net, tax, gross = _split(raw)
        if _in(raw, start, end):
            if ds.sales:
                ret.posted_output += ds.sign * tax
            else:
                ret.posted_input += ds.sign * tax
        if not cash:
            if not _in(raw, start, end):
                continue
            shares = [(raw, Decimal(1))]
        else:
            total = amount_of(raw, "total_amount")
            shares = []
            for alloc in raw.get("payments_allocations") or []:
                if isinstance(alloc, Mapping) and _in(alloc, start, end) and total != ZERO:
                    shares.append(
                        (
                            {**alloc, "id": raw.get("id"), "number": _number(raw)},
                            abs(amount_of(alloc, "amount")) / total,
                        )
                    )
        for source, share in shares:
            number = _number(raw)
            if flat and ds.sales:
                ret.add(value_box, ds.kind, source, ds.sign * round_money(gross * share), number)
            elif flat:
                ret.add(value_box, ds.kind, source, ds.sign * round_money(net * share), number)
            else:
                ret.add(vat_box, ds.kind, source, ds.sign * round_money(tax * share), number)
                ret.add(value_box, ds.kind, source, ds.sign * round_money(net * share), number)


def _number(raw: Mapping[str, Any]) -> str:
    return str(
        raw.get("invoice_number")
        or raw.get("credit_note_number")
        or raw.get("reference")
        or raw.get("displayed_as")
        or raw.get("id")
        or ""
    )


def add_other_payments(ret: Return, payments: Iterable[Mapping[str, Any]]) -> None:
    """Other receipts (outputs) and other payments (inputs) dated in the period: cash by nature."""
    for raw in payments:
        if raw.get("deleted_at") or not _in(raw, ret.from_date, ret.to_date):
            continue
        kind = (link_id(raw.get("transaction_type")) or "").upper()
        sales = "RECEIPT" in kind
        sign = -1 if "REFUND" in kind else 1
        net, tax, gross = _split(raw, "payment_lines")
        if sales:
            ret.posted_output += sign * tax
        else:
            ret.posted_input += sign * tax
        label = "other_receipt" if sales else "other_payment"
        if ret.flat_rate is not None:
            ret.add("6" if sales else "7", label, raw, sign * (gross if sales else net))
        else:
            ret.add("1" if sales else "4", label, raw, sign * tax)
            ret.add("6" if sales else "7", label, raw, sign * net)


@dataclass(frozen=True)
class VatAccounts:
    sales_tax: str | None
    purchase_tax: str | None
    types: dict[str, str]  # ledger account id -> type id


def add_journals(ret: Return, journals: Iterable[Mapping[str, Any]], accounts: VatAccounts) -> None:
    """Journal lines: those marked ``include_on_tax_return`` count (on a VAT account in box 1 or 4,
    else their net in box 6 or 7); lines on VAT accounts not marked move the ledger only."""
    income = {"SALES", "OTHER_INCOME"}
    for raw in journals:
        if raw.get("deleted_at") or not _in(raw, ret.from_date, ret.to_date):
            continue
        for line in raw.get("journal_lines") or []:
            if not isinstance(line, Mapping):
                continue
            account = link_id(line.get("ledger_account")) or ""
            credit_minus_debit = amount_of(line, "credit") - amount_of(line, "debit")
            on_return = bool(line.get("include_on_tax_return"))
            source = {**raw, "id": raw.get("id")}
            if account == accounts.sales_tax:
                if on_return:
                    ret.add("1", "journal", source, credit_minus_debit)
                else:
                    ret.excluded_journal_vat += credit_minus_debit
            elif account == accounts.purchase_tax:
                if on_return:
                    ret.add("4", "journal", source, -credit_minus_debit)
                else:
                    ret.excluded_journal_vat += credit_minus_debit
            elif on_return:
                if accounts.types.get(account) in income:
                    ret.add("6", "journal", source, credit_minus_debit)
                else:
                    ret.add("7", "journal", source, -credit_minus_debit)


def apply_flat_rate(ret: Return) -> None:
    """Flat rate: box 1 = the percentage of box 6 (VAT-inclusive turnover); box 4 stays at what
    journals put there (capital purchases)."""
    assert ret.flat_rate is not None
    turnover = ret.box("6")
    ret.entries.append(
        Entry(
            "1",
            "flat_rate",
            "",
            f"{ret.flat_rate}% of turnover {money(turnover)}",
            ret.to_date.isoformat(),
            round_money(turnover * ret.flat_rate / HUNDRED),
        )
    )
    ret.notes.append(
        f"Flat rate scheme at {ret.flat_rate}%: box 1 is {ret.flat_rate}% of the VAT-inclusive turnover in box 6; "
        "box 4 holds only capital purchases of goods costing £2,000 or more including VAT, which the API cannot "
        "identify: add any such purchase in Sage before submitting."
    )


# -- reconciliation ---------------------------------------------------------------------------------------


def reconcile(ret: Return, balances: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Box 3 - box 4 against the VAT control accounts' movement in the period, and why they differ."""
    sales = find_control(balances, "SALES_TAX")
    purchase = find_control(balances, "PURCHASE_TAX")
    if sales is None and purchase is None:
        return {"reconciled": False, "note": "no VAT control accounts found"}

    def movement(acc: Mapping[str, Any] | None, sign: int) -> Decimal:
        if acc is None:
            return ZERO
        d = acc.get("balance_details") or {}
        return sign * (amount_of(d, "credits") - amount_of(d, "debits"))

    out_mv = movement(sales, 1)
    in_mv = movement(purchase, -1)
    boxes = ret.boxes()
    on_return = boxes["3"] - boxes["4"]
    ledger = out_mv - in_mv
    diff = on_return - ledger
    out: dict[str, Any] = {
        "sales_tax_account": _label(sales),
        "sales_tax_movement": money(out_mv),
        "purchase_tax_account": _label(purchase),
        "purchase_tax_movement": money(in_mv),
        "ledger_net": money(ledger),
        "return_net": money(on_return),
        "difference": money(diff),
        "reconciled": diff == ZERO,
    }
    if diff != ZERO:
        causes = []
        docs_output = sum((e.amount for e in ret.entries if e.box == "1" and e.kind != "journal"), ZERO)
        docs_input = sum((e.amount for e in ret.entries if e.box == "4" and e.kind != "journal"), ZERO)
        scheme = (docs_output - ret.posted_output) - (docs_input - ret.posted_input)
        if scheme != ZERO:
            why = {
                "cash": "cash accounting: VAT counts when paid, the ledger holds it from the document date",
                "flat_rate_invoice": "flat rate: box 1 is a percentage of turnover, not the VAT charged; "
                "input VAT is not reclaimed",
                "flat_rate_cash": "flat rate (cash based): box 1 is a percentage of takings, not the VAT charged; "
                "input VAT is not reclaimed",
            }.get(ret.scheme, "documents' VAT differs from what the return counts")
            causes.append({"cause": why, "amount": money(scheme)})
        if ret.excluded_journal_vat != ZERO:
            causes.append(
                {
                    "cause": "journals on the VAT accounts not marked include_on_tax_return",
                    "amount": money(-ret.excluded_journal_vat),
                }
            )
        rest = diff - sum((to_decimal(c["amount"]) for c in causes), ZERO)
        if rest != ZERO:
            causes.append(
                {
                    "cause": "other postings to the VAT accounts in the period (e.g. VAT paid to HMRC, corrections)",
                    "amount": money(rest),
                }
            )
        out["causes"] = causes
    return out


def _label(acc: Mapping[str, Any] | None) -> str | None:
    if acc is None:
        return None
    return f"{acc.get('nominal_code') or ''} {acc.get('name') or acc.get('displayed_as') or ''}".strip()


# -- fetch and prepare -------------------------------------------------------------------------------------


async def prepare(
    fetch: Fetcher,
    from_date: dt.date,
    to_date: dt.date,
    settings: Mapping[str, Any],
    *,
    scheme: str | None = None,
) -> tuple[Return, dict[str, Any]]:
    """Fetch what the period needs (concurrently) and compute the return and its reconciliation."""
    chosen = scheme or scheme_of(settings)
    notes = []
    if chosen is None:
        chosen = "standard"
        notes.append("Sage says this business is not VAT registered; figures are shown on the standard scheme.")
    flat = None
    if chosen.startswith("flat_rate"):
        pct = settings.get("flat_rate_tax_percentage")
        if pct in (None, ""):
            raise ValueError(
                "the flat rate scheme needs the flat-rate percentage, which Sage's financial settings do not give"
            )
        flat = to_decimal(pct)
    cash = chosen in ("cash", "flat_rate_cash")
    start, end = from_date.isoformat(), to_date.isoformat()
    doc_params: dict[str, Any] = {"to_date": end, "attributes": _ART}
    if cash:
        doc_params = {**doc_params, "show_payments_allocations": "true", "attributes": _ART + ",payments_allocations"}
    else:
        doc_params["from_date"] = start
    sets = (
        DocSet("sales_invoice", 1, True),
        DocSet("sales_credit_note", -1, True),
        DocSet("purchase_invoice", 1, False),
        DocSet("purchase_credit_note", -1, False),
    )
    period = {"from_date": start, "to_date": end}
    documents, (other, journals, balances) = await asyncio.gather(
        asyncio.gather(*(fetch.all(f"/{d.kind}s", doc_params) for d in sets)),
        _rest(fetch, period, start, end),
    )
    # adding up thousands of documents is CPU work: off the event loop, so no other call waits for it
    return await asyncio.to_thread(
        _compute,
        chosen,
        from_date,
        to_date,
        flat,
        notes,
        list(zip(sets, documents, strict=True)),
        other,
        journals,
        balances,
    )


def _compute(
    chosen: str,
    from_date: dt.date,
    to_date: dt.date,
    flat: Decimal | None,
    notes: list[str],
    documents: list[tuple[DocSet, list[dict[str, Any]]]],
    other: list[dict[str, Any]] | None,
    journals: list[dict[str, Any]] | None,
    balances: list[dict[str, Any]],
) -> tuple[Return, dict[str, Any]]:
    ret = Return(chosen, from_date, to_date, flat_rate=flat, notes=notes)
    for ds, docs in documents:
        add_documents(ret, docs, ds)
    add_other_payments(ret, other or [])
    sales_tax = find_control(balances, "SALES_TAX")
    purchase_tax = find_control(balances, "PURCHASE_TAX")
    accounts = VatAccounts(
        str(sales_tax["id"]) if sales_tax else None,
        str(purchase_tax["id"]) if purchase_tax else None,
        {str(a.get("id")): str(link_id(a.get("ledger_account_type")) or "") for a in balances},
    )
    add_journals(ret, journals or [], accounts)
    if flat is not None:
        apply_flat_rate(ret)
    return ret, reconcile(ret, balances)


Rows = list[dict[str, Any]]


async def _rest(
    fetch: Fetcher, period: Mapping[str, str], start: str, end: str
) -> tuple[Rows | None, Rows | None, Rows]:
    """Other payments and journals of the period, and the ledger accounts' movements in it."""
    other, journals, balances = await asyncio.gather(
        fetch.all_or_none(
            "/other_payments",
            {
                **period,
                "attributes": "transaction_type,date,reference,net_amount,tax_amount,total_amount,payment_lines",
            },
        ),
        fetch.all_or_none("/journals", {**period, "attributes": "date,reference,journal_lines"}),
        ledger_balances(fetch, start, end),
    )
    return other, journals, balances


def report(ret: Return, recon: Mapping[str, Any], *, top: int | None, box: str | None = None) -> dict[str, Any]:
    boxes = ret.boxes()
    direction = boxes["3"] - boxes["4"]
    out: dict[str, Any] = {
        "from_date": ret.from_date.isoformat(),
        "to_date": ret.to_date.isoformat(),
        "scheme": ret.scheme,
        "boxes": {k: money(boxes[k]) for k in BOXES},
        "to_pay": "pay HMRC" if direction > 0 else ("HMRC repays" if direction < 0 else "nothing due"),
        "reconciliation": dict(recon),
        "submission": SUBMISSION_NOTE,
    }
    if ret.flat_rate is not None:
        out["flat_rate_percentage"] = str(ret.flat_rate)
    wanted = [box] if box else ["1", "4", "6", "7"]
    drill: dict[str, Any] = {}
    for b in wanted:
        entries = sorted((e for e in ret.entries if e.box == b), key=lambda e: (-abs(e.amount), e.date, e.number))
        if not entries:
            continue
        shown = entries if top is None else entries[:top]
        part: dict[str, Any] = {
            "count": len(entries),
            "items": [
                {"kind": e.kind, "id": e.id, "number": e.number, "date": e.date, "amount": money(e.amount)}
                for e in shown
            ],
        }
        if len(shown) < len(entries):
            part["more"] = {
                "items": len(entries) - len(shown),
                "total": money(sum((e.amount for e in entries[len(shown) :]), ZERO)),
            }
        drill[b] = part
    out["drill_down"] = drill
    notes = list(ret.notes)
    notes.append("Boxes 6 to 9 are entered in whole pounds on the return.")
    out["notes"] = notes
    return out


__all__ = ["BEGINNING", "BOXES", "BOX_LABELS", "SCHEMES", "prepare", "report", "scheme_of"]
