"""Workflows: jobs a bookkeeper repeats, one call each and safe to repeat without a key.

* ``sync_sales_order``: a web-shop order becomes one sales invoice, keyed by the order number (the
  invoice's reference) for its customer; the customer is found by e-mail, then reference, then name,
  or created. Pushing the same order again returns the invoice it made, marked ``existing``.
* ``reconcile_payout``: a payout of a card or direct-debit provider, booked through the provider's
  clearing bank account (created on first use): receipts and refunds there, fees out of it, and one
  transfer of the net payout to the real bank. Keyed by the payout id.
* ``write_off_bad_debt``: a sales credit note to the bad-debt ledger account for what is outstanding
  (with VAT relief where the rules allow), allocated so the invoice closes.

Nothing is posted until every check has passed. Each Sage write carries an ``idempotency_id`` derived
from the natural key (business, order/payout/invoice, step), so a repeat within Sage's 7-day window is
replayed by Sage even if the look-up for an earlier attempt missed it; outside it, the look-ups (an
invoice with the order's reference, postings with the payout's reference, a write-off credit note)
find what was done. Two calls for the same order, payout or invoice at once are serialised by a lock
held in this process, per business and key. Separate processes (replicas of a hosted server, two local
clients) do not share these locks: there the step ids stand in, as two simultaneous attempts send Sage
the same ``idempotency_id`` for the same customer, invoice or posting, and Sage answers the second with
the first's record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money, to_decimal, total
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._artefacts import (
    SALES_SIDE,
    BuiltLines,
    LineIn,
    artefact_projection,
    build_lines,
    checked_total,
    parse_lines,
)
from sage_mcp.tools._bad_debts import CreditLine, ReliefRefused, relief_from, split_outstanding, vat_treatment
from sage_mcp.tools._banking import (
    account_name,
    bank_account_or_default,
    bank_accounts,
    positive_money,
    record_other,
    today,
)
from sage_mcp.tools._base import ToolContext, ToolError, compact, link_id, link_name
from sage_mcp.tools._duplicates import check_contact, contacts_like, invoices_with_reference, same_text
from sage_mcp.tools._orders import shipping_shares
from sage_mcp.tools._payments import SALES, record_contact_payment
from sage_mcp.tools._payouts import PayoutFigures, clearing_account_name
from sage_mcp.tools._resource import ALL_PAGES_CAP

OPEN = ("UNPAID", "PART_PAID")
_HEX32 = re.compile(r"[0-9a-f]{32}")
project_invoice = artefact_projection("invoice_lines", "invoice_number", "due_date")
project_credit_note = artefact_projection("credit_note_lines", "credit_note_number")

# -- per-key locks and step keys --------------------------------------------------------------------------

_LOCKS: weakref.WeakValueDictionary[tuple[str, ...], asyncio.Lock] = weakref.WeakValueDictionary()


def _lock(*key: str) -> asyncio.Lock:
    """The lock of one business's order, payout, invoice or customer (kept while anyone holds it)."""
    lock = _LOCKS.get(key)
    if lock is None:
        lock = _LOCKS[key] = asyncio.Lock()
    return lock


def step_key(ctx: ToolContext, *parts: str) -> str:
    """The ``idempotency_id`` of one step of a workflow: the same business, tool and natural key always give
    the same id, so Sage replays a step an earlier attempt already made."""
    scope = ctx.scope.id if ctx.scope else ""
    return hashlib.sha256(":".join((scope, ctx.tool_name, *parts)).encode()).hexdigest()[:32]


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


# -- sync_sales_order -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    record: dict[str, Any]
    matched_by: str  # email / reference / name / created

    def describe(self) -> dict[str, Any]:
        return compact(
            {
                "id": self.record.get("id"),
                "name": self.record.get("name") or self.record.get("displayed_as"),
                "matched_by": self.matched_by,
            }
        )


async def _match_customer(ctx: ToolContext, given: Mapping[str, Any]) -> Customer | None:
    """The customer by e-mail, then reference, then name (each exact, ignoring case); ``None`` if none."""
    biz = ctx.business
    email, reference, name = (str(given.get(k) or "").strip() for k in ("email", "reference", "name"))
    if email:
        found = await contacts_like(biz, email=email, contact_type="CUSTOMER")
        if found:
            named = [c for c in found if same_text(c.get("name"), name)]
            return Customer((named or found)[0], "email")
    if reference:
        found, _ = await fetch_pages(
            biz,
            "/contacts",
            {"search": reference, "contact_type_id": "CUSTOMER", "attributes": "name,reference,email,contact_types"},
            max_items=ALL_PAGES_CAP,
        )
        same = [c for c in found if same_text(c.get("reference"), reference)]
        if same:
            return Customer(same[0], "reference")
    found = await contacts_like(biz, name=name, contact_type="CUSTOMER")
    if found:
        # a namesake with another e-mail is another customer
        fits = [c for c in found if not email or not c.get("email") or same_text(c.get("email"), email)]
        if fits:
            return Customer(fits[0], "name")
    return None


async def _create_customer(ctx: ToolContext, given: Mapping[str, Any]) -> Customer:
    name = " ".join(str(given["name"]).split())
    email = str(given.get("email") or "").strip()
    await check_contact(ctx.business, name, email)  # e.g. a supplier with this name and e-mail
    contact: dict[str, Any] = {
        "name": name,
        "contact_type_ids": ["CUSTOMER"],
        "idempotency_id": step_key(ctx, "customer", (email or given.get("reference") or name).casefold()),
    }
    if given.get("reference"):
        contact["reference"] = str(given["reference"]).strip()
    address = {k: v for k, v in (given.get("address") or {}).items() if v}
    if address:
        contact["main_address"] = {"address_type_id": "ACCOUNTS", "is_main_address": True, **address}
    if email:
        contact["main_contact_person"] = {
            "name": name[:50],
            "email": email,
            "is_main_contact": True,
            "contact_person_type_ids": ["ACCOUNTS"],
        }
    created: dict[str, Any] = (await ctx.business.post("/contacts", {"contact": contact})).body
    return Customer(created, "created")


async def _customer(ctx: ToolContext, given: Mapping[str, Any]) -> Customer:
    """The matched customer, or a new one; one at a time per customer key, so two orders of a new
    customer pushed at once create one customer."""
    key = str(given.get("email") or given.get("reference") or given.get("name") or "").strip().casefold()
    async with _lock(ctx.scope.id if ctx.scope else "", "customer", key):
        found = await _match_customer(ctx, given)
        return found or await _create_customer(ctx, given)


async def _paid_into(ctx: ToolContext, given: str) -> dict[str, Any]:
    """The bank account ``paid_into`` names (its id, or its name ignoring case)."""
    accounts = await bank_accounts(ctx)
    for account in accounts:
        if account.get("id") == given or same_text(account_name(account), given):
            return account
    listing = "; ".join(f"{account_name(a)} ({a.get('id')})" for a in accounts) or "none"
    raise ToolError(f"paid_into: no bank account is named or has the id {given!r}. Bank accounts: {listing}.")


async def _shipping_account(ctx: ToolContext) -> str | None:
    """A sales ledger account for delivery charges (carriage, shipping, delivery, postage), if the chart has one."""
    found, _ = await fetch_pages(
        ctx.business,
        "/ledger_accounts",
        {"visible_in": "sales", "attributes": "name,nominal_code"},
        max_items=ALL_PAGES_CAP,
    )
    for word in ("shipping", "carriage", "delivery", "postage"):
        for account in found:
            if word in str(account.get("name") or "").casefold():
                return str(account["id"])
    return None


async def _order_lines(
    ctx: ToolContext, goods: list[LineIn], shipping: Decimal, contact: Mapping[str, Any] | None
) -> BuiltLines:
    built = await build_lines(ctx.business, SALES_SIDE, goods, contact)
    shares = shipping_shares([(str(x["tax_rate_id"]), x["net_amount"]) for x in built.lines], shipping)
    if not shares:
        return built
    account = await _shipping_account(ctx)
    extra = [LineIn("Shipping", Decimal(1), share, ZERO, account, rate) for rate, share in shares]
    more = await build_lines(ctx.business, SALES_SIDE, extra, contact)
    return BuiltLines(built.lines + more.lines, built.total + more.total)


async def _existing_invoice(ctx: ToolContext, order: str, contact_id: str) -> dict[str, Any] | None:
    """The customer's invoice for this order: a live one first, else a voided one."""
    found = await invoices_with_reference(ctx.business, order, contact_id)
    live = [i for i in found if link_id(i.get("status")) != "VOID"]
    if not found:
        return None
    chosen = (live or found)[0]
    full: dict[str, Any] = await ctx.business.get(f"/sales_invoices/{path_segment(str(chosen['id']))}")
    return full


async def _order_receipt(
    ctx: ToolContext, invoice: Mapping[str, Any], bank: Mapping[str, Any], order: str, date: str
) -> dict[str, Any] | None:
    """A customer receipt of what is outstanding on the order's invoice (nothing if nothing is)."""
    outstanding = to_decimal(invoice.get("outstanding_amount") or 0)
    if link_id(invoice.get("status")) not in OPEN or outstanding <= ZERO:
        return None
    keep = ctx.idempotency_used
    try:
        paid = await record_contact_payment(
            ctx,
            {
                "contact_id": link_id(invoice.get("contact")),
                "allocations": [{"invoice_id": str(invoice["id"]), "amount": money(outstanding)}],
                "bank_account_id": str(bank["id"]),
                "date": date,
                "reference": order,
                "idempotency_key": step_key(ctx, "receipt", str(invoice["id"])),
            },
            SALES,
        )
    finally:
        ctx.idempotency_used = keep
    return compact({"id": paid.get("id"), "total": paid.get("total"), "bank_account": account_name(bank)})


async def sync_sales_order(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    biz = ctx.business
    order = " ".join(args["order_number"].split())
    if not order:
        raise ToolError("order_number: must not be blank")
    given = args["customer"]
    if not str(given.get("name") or "").strip():
        raise ToolError("customer.name: must not be blank")
    goods = parse_lines(args["lines"])
    if not goods:
        raise ToolError("lines: an order needs at least one line")
    shipping = positive_money(args["shipping"], "shipping", allow_zero=True) if args.get("shipping") else ZERO
    shop_total = to_decimal(args["total"], field="total") if args.get("total") else None
    date = args.get("date") or today()

    async with _lock(ctx.scope.id if ctx.scope else "", "order", order.casefold()):
        bank = await _paid_into(ctx, args["paid_into"]) if args.get("paid_into") else None
        customer = await _match_customer(ctx, given)
        existing = await _existing_invoice(ctx, order, str(customer.record["id"])) if customer else None
        if customer is not None and existing is not None:
            key = step_key(ctx, "invoice", order.casefold(), str(customer.record["id"]))
            ctx.idempotency_used = key
            out: dict[str, Any] = {**project_invoice(existing, False), "existing": True}
            notes = [f"Order {order} was already invoiced ({out.get('number')}); nothing new was created."]
            if link_id(existing.get("status")) == "VOID":
                notes.append("That invoice is VOID; to invoice the order again, raise a new invoice.")
            if shop_total is not None and out.get("total") is not None and to_decimal(out["total"]) != shop_total:
                notes.append(
                    f"The shop's total {money(shop_total)} differs from the invoice's {out['total']}; "
                    "the invoice was not changed."
                )
            if bank is not None:
                receipt = await _order_receipt(ctx, existing, bank, order, date)
                if receipt:
                    out["receipt"] = receipt
                    notes.append(f"The receipt of {receipt.get('total')} was recorded now.")
                    existing = await biz.get(f"/sales_invoices/{path_segment(str(existing['id']))}")
                    out.update(
                        compact(
                            {
                                k: v
                                for k, v in project_invoice(existing, False).items()
                                if k in ("status", "outstanding")
                            }
                        )
                    )
            out.update({"customer": customer.describe(), "note": " ".join(notes), "idempotency_id": key})
            return out

        built = await _order_lines(ctx, goods, shipping, customer.record if customer else None)
        if shop_total is not None and shop_total != built.total:
            raise ToolError(
                f"total: the shop's total {money(shop_total)} differs from the {money(built.total)} these lines "
                f"come to (net plus VAT per line, half-up{', shipping included' if shipping else ''}): "
                f"{money(abs(shop_total - built.total))} apart. Check the prices, discounts and tax rates. "
                "Nothing was posted."
            )
        if customer is None:
            customer = await _customer(ctx, given)
            if customer.matched_by != "created":  # made by a concurrent push of another order meanwhile
                existing = await _existing_invoice(ctx, order, str(customer.record["id"]))
        contact_id = str(customer.record["id"])
        key = step_key(ctx, "invoice", order.casefold(), contact_id)
        ctx.idempotency_used = key
        if existing is None:
            body = {
                "contact_id": contact_id,
                "date": date,
                "reference": order,
                "invoice_lines": built.lines,
                "idempotency_id": key,
            }
            invoice: dict[str, Any] = (await biz.post("/sales_invoices", {"sales_invoice": body})).body
            out = {**checked_total(project_invoice(invoice, False), built), "existing": False}
        else:
            invoice = existing
            out = {**project_invoice(invoice, False), "existing": True}
        if bank is not None:
            receipt = await _order_receipt(ctx, invoice, bank, order, date)
            if receipt:
                out["receipt"] = receipt
                invoice = await biz.get(f"/sales_invoices/{path_segment(str(invoice['id']))}")
                fresh = project_invoice(invoice, False)
                out.update({k: fresh[k] for k in ("status", "outstanding") if k in fresh})
        out.update({"customer": customer.describe(), "idempotency_id": key})
        return out


# -- reconcile_payout ---------------------------------------------------------------------------------------

#: Postings of an earlier attempt are looked for this many days either side of the payout date.
LOOKBACK_DAYS = 90
REFERENCE_MAX = 25  # Sage's reference on payments and other payments
#: Ledger account names that fit a payment provider's fees, best first ("Legal and Professional Fees" does not).
FEE_WORDS = ("merchant", "card fee", "payment fee", "processing", "transaction fee", "commission", "bank charge")


@dataclass
class Document:
    """One line of ``receipts``: an invoice paid or a credit note refunded."""

    index: int
    given: str
    amount: Decimal
    kind: str = ""  # invoice / credit_note
    record: dict[str, Any] | None = None

    @property
    def where(self) -> str:
        return f"receipts[{self.index}]"

    @property
    def id(self) -> str:
        return str((self.record or {}).get("id"))

    @property
    def number(self) -> str:
        r = self.record or {}
        return str(r.get("invoice_number") or r.get("credit_note_number") or r.get("displayed_as") or self.id)


async def _document(ctx: ToolContext, doc: Document) -> None:
    """Find the sales invoice or credit note a receipt line names, by id or by number."""
    biz = ctx.business
    kinds = (
        ("invoice", "sales_invoices", "invoice_number"),
        ("credit_note", "sales_credit_notes", "credit_note_number"),
    )
    for kind, collection, number_key in kinds:
        record_id: str | None = doc.given
        if not _HEX32.fullmatch(doc.given):
            found, _ = await fetch_pages(
                biz, f"/{collection}", {"search": doc.given, "attributes": number_key}, max_items=ALL_PAGES_CAP
            )
            record_id = next((str(x["id"]) for x in found if same_text(x.get(number_key), doc.given)), None)
        if record_id is None:
            continue
        try:
            doc.record = await biz.get(f"/{collection}/{path_segment(record_id)}")
        except SageNotFoundError:
            continue
        doc.kind = kind
        return
    raise ToolError(
        f"{doc.where}.document: {doc.given!r} is neither a sales invoice nor a sales credit note of this business "
        "(give its number, e.g. SI-12, or its id). Nothing was posted."
    )


@dataclass
class Earlier:
    """What an earlier attempt at this payout posted."""

    transfer: dict[str, Any] | None
    payments: list[dict[str, Any]]
    fees: list[dict[str, Any]]

    def paid_documents(self) -> dict[str, dict[str, Any]]:
        """Document id -> the receipt or refund that settled it."""
        out: dict[str, dict[str, Any]] = {}
        for payment in self.payments:
            for item in payment.get("allocated_artefacts") or []:
                artefact = item.get("artefact") if isinstance(item, Mapping) else None
                if link_id(artefact):
                    out[str(link_id(artefact))] = payment
        return out


async def _earlier(ctx: ToolContext, clearing_id: str | None, payout_id: str, date: str) -> Earlier:
    if clearing_id is None:
        return Earlier(None, [], [])
    day = dt.date.fromisoformat(date)
    window = {
        "from_date": (day - dt.timedelta(days=LOOKBACK_DAYS)).isoformat(),
        "to_date": (day + dt.timedelta(days=LOOKBACK_DAYS)).isoformat(),
    }
    ref = payout_id[:REFERENCE_MAX]
    biz = ctx.business
    transfers, payments, others = await asyncio.gather(
        fetch_pages(
            biz,
            "/bank_transfers",
            {**window, "attributes": "reference,amount,date,from_bank_account,to_bank_account"},
            max_items=ALL_PAGES_CAP,
        ),
        fetch_pages(
            biz,
            "/contact_payments",
            {
                **window,
                "bank_account_id": clearing_id,
                "attributes": "reference,total_amount,allocated_artefacts,contact",
            },
            max_items=ALL_PAGES_CAP,
        ),
        fetch_pages(
            biz,
            "/other_payments",
            {**window, "bank_account_id": clearing_id, "attributes": "reference,total_amount,transaction_type"},
            max_items=ALL_PAGES_CAP,
        ),
    )
    transfer = next(
        (
            t
            for t in transfers[0]
            if t.get("reference") == payout_id and link_id(t.get("from_bank_account")) == clearing_id
        ),
        None,
    )
    return Earlier(
        transfer,
        [p for p in payments[0] if p.get("reference") == ref],
        [o for o in others[0] if o.get("reference") == ref],
    )


async def _fees_account(ctx: ToolContext, given: str | None) -> dict[str, Any]:
    """``fees_account`` (id or nominal code), else the chart's provider-fee account."""
    found, _ = await fetch_pages(
        ctx.business,
        "/ledger_accounts",
        {"visible_in": "other_payments", "attributes": "name,nominal_code,tax_rate"},
        max_items=ALL_PAGES_CAP,
    )
    if given:
        chosen = next((a for a in found if given in (str(a.get("id")), str(a.get("nominal_code")))), None)
        if chosen is None:
            raise ToolError(
                f"fees_account: {given!r} is not a ledger account that other payments may use (give its id or "
                "nominal code, e.g. 7900 for bank charges). Nothing was posted."
            )
        return chosen
    for word in FEE_WORDS:
        for account in found:
            if word in str(account.get("name") or "").casefold():
                return account
    raise ToolError(
        "fees: the chart of accounts has no ledger account for payment fees that other payments may use (a name "
        "with 'merchant', 'card fees', 'commission' or 'bank charges'); give fees_account. Nothing was posted."
    )


async def _fees_rate(ctx: ToolContext, account: Mapping[str, Any], given: str | None) -> str:
    """``fees_tax_rate_id``, else the fee account's own tax rate, else an exempt one (card and PayPal
    processing fees are VAT exempt in the UK; some providers, e.g. GoCardless, charge VAT: say so)."""
    found, _ = await fetch_pages(
        ctx.business, "/tax_rates", {"usage": "purchase", "attributes": "name,percentage"}, max_items=ALL_PAGES_CAP
    )
    if given:
        if given not in {str(r["id"]) for r in found}:
            valid = ", ".join(str(r["id"]) for r in found)
            raise ToolError(f"fees_tax_rate_id: {given!r} is not a purchase tax rate here. Valid: {valid}.")
        return given
    own = link_id(account.get("tax_rate"))
    if own:
        return own
    for rate in found:
        if "exempt" in f"{rate.get('id')} {rate.get('name')}".casefold():
            return str(rate["id"])
    zero = next((r for r in found if to_decimal(r.get("percentage") or 0) == ZERO), None)
    if zero is None:
        raise ToolError("fees: no exempt or zero tax rate found for the fees; nothing was posted.")
    return str(zero["id"])


def _check_documents(docs: list[Document], settled: Mapping[str, Any]) -> list[str]:
    """Why documents cannot take their amounts (ones an earlier attempt settled are skipped)."""
    problems = []
    for doc in docs:
        if doc.id in settled:
            continue
        record = doc.record or {}
        status = link_id(record.get("status"))
        outstanding = to_decimal(record.get("outstanding_amount") or 0)
        if status not in OPEN:
            problems.append(f"{doc.where}: {doc.number} is {status}; only an unpaid or part-paid one can be settled")
        elif doc.amount > outstanding:
            problems.append(
                f"{doc.where}.amount: {money(doc.amount)} is more than the {money(outstanding)} "
                f"outstanding on {doc.number}"
            )
    return problems


async def _clearing_account(ctx: ToolContext, provider: str) -> dict[str, Any] | None:
    name = clearing_account_name(provider)
    return next((a for a in await bank_accounts(ctx) if same_text(account_name(a), name)), None)


async def _create_clearing(ctx: ToolContext, provider: str) -> dict[str, Any]:
    name = clearing_account_name(provider)
    body = {
        "bank_account": {
            "bank_account_type_id": "OTHER",
            "bank_account_details": {"account_name": name},
            "idempotency_id": step_key(ctx, "clearing", name.casefold()),
        }
    }
    created: dict[str, Any] = (await ctx.business.post("/bank_accounts", body)).body
    ctx.cache.pop("bank_accounts", None)
    return created


async def _settle(ctx: ToolContext, doc: Document, clearing_id: str, payout_id: str, date: str) -> dict[str, Any]:
    """A receipt (invoice) or refund (credit note) of the document's amount, in the clearing account."""
    refund = doc.kind == "credit_note"
    payment = {
        "transaction_type_id": "CUSTOMER_REFUND" if refund else "CUSTOMER_RECEIPT",
        "contact_id": link_id((doc.record or {}).get("contact")),
        "bank_account_id": clearing_id,
        "date": date,
        "total_amount": doc.amount,
        "reference": payout_id[:REFERENCE_MAX],
        "allocated_artefacts": [{"artefact_id": doc.id, "amount": doc.amount}],
        "idempotency_id": step_key(ctx, "payout", payout_id, "refund" if refund else "receipt", doc.id),
    }
    body: dict[str, Any] = (await ctx.business.post("/contact_payments", {"contact_payment": payment})).body
    return body


def _settled_row(doc: Document, payment: Mapping[str, Any], existing: bool) -> dict[str, Any]:
    return compact(
        {
            "document": doc.number,
            "document_id": doc.id,
            "type": "refund" if doc.kind == "credit_note" else "receipt",
            "payment_id": payment.get("id"),
            "contact": link_name((doc.record or {}).get("contact")),
            "amount": money(doc.amount),
            "existing": existing or None,
        }
    )


async def reconcile_payout(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    biz = ctx.business
    payout_id = args["payout_id"].strip()
    provider = " ".join(args["provider"].split())
    if not payout_id or not provider:
        raise ToolError("payout_id and provider must not be blank")
    payout = positive_money(args["amount"], "amount")
    fees = positive_money(args["fees"], "fees", allow_zero=True) if args.get("fees") else ZERO
    date = args.get("date") or today()
    docs = [
        Document(i, str(r["document"]).strip(), positive_money(r["amount"], f"receipts[{i}].amount"))
        for i, r in enumerate(args["receipts"])
    ]
    transfer_key = step_key(ctx, "payout", payout_id, "transfer")
    ctx.idempotency_used = transfer_key

    async with _lock(ctx.scope.id if ctx.scope else "", "payout", payout_id):
        clearing = await _clearing_account(ctx, provider)
        clearing_name = clearing_account_name(provider)
        earlier = await _earlier(ctx, str(clearing["id"]) if clearing else None, payout_id, date)
        if earlier.transfer is not None:
            return {
                "id": earlier.transfer.get("id"),
                "existing": True,
                "payout_id": payout_id,
                "amount": money(to_decimal(earlier.transfer.get("amount") or 0)),
                "date": earlier.transfer.get("date"),
                "clearing_account": clearing_name,
                "bank_account": link_name(earlier.transfer.get("to_bank_account")),
                "payments": [
                    compact({"payment_id": p.get("id"), "amount": money(to_decimal(p.get("total_amount") or 0))})
                    for p in earlier.payments
                ],
                "fees_id": next((o.get("id") for o in earlier.fees), None),
                "note": f"Payout {payout_id} was already reconciled; nothing was posted.",
                "idempotency_id": transfer_key,
            }

        # -- every check before anything is posted
        receipts: list[Decimal] = []
        refunds: list[Decimal] = []
        for doc in docs:
            await _document(ctx, doc)
            (refunds if doc.kind == "credit_note" else receipts).append(doc.amount)
        seen: dict[str, int] = {}
        for doc in docs:
            if doc.id in seen:
                raise ToolError(
                    f"{doc.where}.document: {doc.number} is also receipts[{seen[doc.id]}]; give one line per document."
                )
            seen[doc.id] = doc.index
        problem = PayoutFigures.of(receipts, refunds, fees, payout).problem()
        if problem:
            raise ToolError(problem)
        settled = earlier.paid_documents()
        problems = _check_documents(docs, settled)
        if problems:
            raise ToolError("; ".join(problems) + ". Nothing was posted.")
        bank_id = await bank_account_or_default(ctx, args.get("bank_account_id"))
        if clearing is not None and bank_id == clearing.get("id"):
            raise ToolError(
                "bank_account_id: that is the clearing account itself; give the account the payout reached."
            )
        fee_account = await _fees_account(ctx, args.get("fees_account")) if fees > ZERO and not earlier.fees else None
        fee_rate = await _fees_rate(ctx, fee_account, args.get("fees_tax_rate_id")) if fee_account else None

        # -- posting: clearing account, receipts and refunds, fees, then the net transfer
        created = clearing is None
        if clearing is None:
            clearing = await _create_clearing(ctx, provider)
        clearing_id = str(clearing["id"])
        rows = []
        for doc in docs:
            if doc.id in settled:
                rows.append(_settled_row(doc, settled[doc.id], True))
            else:
                rows.append(_settled_row(doc, await _settle(ctx, doc, clearing_id, payout_id, date), False))
        fees_row: dict[str, Any] | None = None
        if earlier.fees:
            fees_row = {"id": earlier.fees[0].get("id"), "amount": money(fees), "existing": True}
        elif fee_account is not None:
            posted = await record_other(
                ctx,
                {
                    "bank_account_id": clearing_id,
                    "date": date,
                    "reference": payout_id[:REFERENCE_MAX],
                    "idempotency_key": step_key(ctx, "payout", payout_id, "fees"),
                    "lines": [
                        {
                            "ledger_account_id": str(fee_account["id"]),
                            "tax_rate_id": fee_rate,
                            "total_amount": money(fees),
                            "details": f"{provider} fees, payout {payout_id}"[:255],
                        }
                    ],
                },
                "OTHER_PAYMENT",
            )
            fees_row = compact(
                {
                    "id": posted.get("id"),
                    "amount": posted.get("total"),
                    "ledger_account": f"{fee_account.get('nominal_code')} {fee_account.get('name')}",
                }
            )
        transfer = {
            "from_bank_account_id": clearing_id,
            "to_bank_account_id": bank_id,
            "date": date,
            "amount": payout,
            "reference": payout_id,
            "description": f"{provider} payout {payout_id}"[:255],
            "idempotency_id": transfer_key,
        }
        ctx.idempotency_used = transfer_key
        moved: dict[str, Any] = (await biz.post("/bank_transfers", {"bank_transfer": transfer})).body
        return compact(
            {
                "id": moved.get("id"),
                "existing": False,
                "payout_id": payout_id,
                "amount": money(payout),
                "date": date,
                "clearing_account": clearing_name,
                "clearing_account_id": clearing_id,
                "clearing_account_created": created or None,
                "bank_account": link_name(moved.get("to_bank_account")),
                "bank_account_id": bank_id,
                "payments": rows,
                "fees": fees_row,
                "note": (
                    f"{money(total(d.amount for d in docs if d.kind == 'invoice'))} received and "
                    f"{money(total(d.amount for d in docs if d.kind == 'credit_note'))} refunded through "
                    f"{clearing_name}, {money(fees)} fees; {money(payout)} transferred to the bank, leaving "
                    f"{clearing_name} as it was."
                ),
                "idempotency_id": transfer_key,
            }
        )


# -- write_off_bad_debt ---------------------------------------------------------------------------------------

WRITE_OFF_PREFIX = "Bad debt "


def write_off_reference(number: str) -> str:
    return (WRITE_OFF_PREFIX + number)[:REFERENCE_MAX]


async def _bad_debt_account(ctx: ToolContext) -> tuple[dict[str, Any], str | None]:
    """The chart's bad-debt account, made available on sales documents if it is not (said in the note)."""
    found, _ = await fetch_pages(
        ctx.business, "/ledger_accounts", {"attributes": "name,nominal_code,visible_in_sales"}, max_items=ALL_PAGES_CAP
    )
    matches = [a for a in found if "bad debt" in " ".join(str(a.get("name") or "").split()).casefold()]
    if not matches:
        raise ToolError(
            "the chart of accounts has no bad-debt ledger account (none is named 'Bad debt…'). Create an overheads "
            "account such as 8100 'Bad Debt Write Off' (in Sage under Settings > Chart of Accounts, or with "
            "create_ledger_account when the ledger tools are enabled), then repeat. Nothing was posted."
        )
    account = matches[0]
    if account.get("visible_in_sales") is True:
        return account, None
    await ctx.business.put(
        f"/ledger_accounts/{path_segment(str(account['id']))}", {"ledger_account": {"visible_in_sales": True}}
    )
    return account, (
        f"Ledger account {account.get('nominal_code')} {account.get('name')} was made available on sales documents "
        "(Sage needs that for a credit note to post to it)."
    )


async def _sales_rates(ctx: ToolContext) -> dict[str, dict[str, Any]]:
    found, _ = await fetch_pages(
        ctx.business, "/tax_rates", {"usage": "sales", "attributes": "name,percentage"}, max_items=ALL_PAGES_CAP
    )
    return {str(r["id"]): r for r in found}


def _no_vat_rate(rates: Mapping[str, Mapping[str, Any]]) -> str:
    """The "No VAT" (outside the scope) rate, else a zero rate."""
    for rid, rate in rates.items():
        text = f"{rid} {rate.get('name')}".casefold().replace("_", " ")
        if "no tax" in text or "no vat" in text:
            return rid
    zero = [rid for rid, r in rates.items() if to_decimal(r.get("percentage") or 0) == ZERO]
    if not zero:
        raise ToolError("no zero or 'No VAT' sales tax rate found; nothing was posted.")
    return zero[0]


async def _write_off_credit_notes(ctx: ToolContext, contact_id: str, reference: str) -> list[dict[str, Any]]:
    found, _ = await fetch_pages(
        ctx.business,
        "/sales_credit_notes",
        {"contact_id": contact_id, "search": reference, "attributes": "all"},
        max_items=ALL_PAGES_CAP,
    )
    return [c for c in found if c.get("reference") == reference and link_id(c.get("status")) != "VOID"]


async def write_off_bad_debt(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    biz = ctx.business
    invoice_id = args["invoice_id"]
    path = f"/sales_invoices/{path_segment(invoice_id)}"
    key = step_key(ctx, "credit_note", invoice_id)
    ctx.idempotency_used = key
    async with _lock(ctx.scope.id if ctx.scope else "", "write_off", invoice_id):
        try:
            invoice: dict[str, Any] = await biz.get(path)
        except SageNotFoundError:
            raise ToolError(f"invoice_id {invoice_id!r} is not a sales invoice of this business.") from None
        number = str(invoice.get("invoice_number") or invoice.get("displayed_as") or invoice_id)
        status = link_id(invoice.get("status"))
        contact_id = str(link_id(invoice.get("contact")))
        reference = write_off_reference(number)
        outstanding = to_decimal(invoice.get("outstanding_amount") or 0)
        earlier = await _write_off_credit_notes(ctx, contact_id, reference)
        if outstanding <= ZERO or status not in OPEN:
            done = [c for c in earlier if link_id(c.get("status")) == "PAID"]
            if done and status == "PAID":
                return {
                    **project_credit_note(done[0], False),
                    "existing": True,
                    "invoice": compact(
                        {"id": invoice_id, "number": number, "status": status, "outstanding": money(outstanding)}
                    ),
                    "note": (
                        f"{number} was already written off by {done[0].get('credit_note_number')}; nothing was posted."
                    ),
                    "idempotency_id": key,
                }
            raise ToolError(
                f"invoice_id: {number} is {status} with {money(outstanding)} outstanding; only an unpaid or part-paid "
                "invoice can be written off. Nothing was posted."
            )
        day = dt.date.fromisoformat(args["date"]) if args.get("date") else dt.date.today()
        invoice_date = _date(invoice.get("date")) or day
        if day < invoice_date:
            raise ToolError(f"date: {day.isoformat()} is before the invoice's date {invoice_date.isoformat()}.")
        settings = await biz.get("/financial_settings")
        scheme = str(link_id(settings.get("tax_scheme")) or "").upper()
        cash = "CASH" in scheme or str(settings.get("sales_tax_calculation") or "").casefold() == "cash"
        try:
            treatment = vat_treatment(
                invoice_tax=to_decimal(invoice.get("tax_amount") or 0),
                cash_accounting=cash,
                eligible_from=relief_from(invoice_date, _date(invoice.get("due_date"))),
                on=day,
                asked=args.get("vat_relief"),
            )
        except ReliefRefused as exc:
            raise ToolError(str(exc)) from None
        account, account_note = await _bad_debt_account(ctx)
        rates = await _sales_rates(ctx)
        no_vat = _no_vat_rate(rates)
        if treatment.with_vat:
            gross: dict[str, Decimal] = {}
            for line in invoice.get("invoice_lines") or []:
                rid = str(link_id(line.get("tax_rate")) or no_vat)
                gross[rid] = gross.get(rid, ZERO) + to_decimal(line.get("total_amount") or 0)
            split = split_outstanding(
                [(rid, to_decimal((rates.get(rid) or {}).get("percentage") or 0), g) for rid, g in gross.items()],
                outstanding,
                no_vat,
            )
        else:
            split = [CreditLine(no_vat, outstanding, ZERO)]

        open_notes = [c for c in earlier if link_id(c.get("status")) in OPEN]
        if open_notes:  # an earlier attempt made the credit note but did not allocate it
            credit_note = open_notes[0]
        else:
            lines = [
                {
                    "description": f"Bad debt written off: {number}",
                    "ledger_account_id": str(account["id"]),
                    "tax_rate_id": x.tax_rate_id,
                    "quantity": Decimal(1),
                    "unit_price": x.net,
                    "net_amount": x.net,
                    "tax_amount": x.tax,
                    "total_amount": x.net + x.tax,
                }
                for x in split
            ]
            body = {
                "contact_id": contact_id,
                "date": day.isoformat(),
                "original_invoice_date": invoice_date.isoformat(),
                "reference": reference,
                "notes": treatment.explanation[:2000],
                "credit_note_lines": lines,
                "idempotency_id": key,
            }
            credit_note = (await biz.post("/sales_credit_notes", {"sales_credit_note": body})).body
        amount = to_decimal(credit_note.get("outstanding_amount") or credit_note.get("total_amount") or 0)
        settle = min(amount, outstanding)
        allocation = {
            "transaction_type_id": "CUSTOMER_ALLOCATION",
            "contact_id": contact_id,
            "date": day.isoformat(),
            "allocated_artefacts": [
                {"artefact_id": invoice_id, "amount": settle},
                {"artefact_id": str(credit_note["id"]), "amount": -settle},
            ],
            "idempotency_id": step_key(ctx, "allocation", invoice_id),
        }
        await biz.post("/contact_allocations", {"contact_allocation": allocation})
        after = await biz.get(path)
        credit_after = await biz.get(f"/sales_credit_notes/{path_segment(str(credit_note['id']))}")
        out = {
            **project_credit_note(credit_after, False),
            "existing": False,
            "vat": treatment.basis,
            "ledger_account": f"{account.get('nominal_code')} {account.get('name')}",
            "invoice": compact(
                {
                    "id": invoice_id,
                    "number": number,
                    "status": link_id(after.get("status")),
                    "outstanding": money(to_decimal(after.get("outstanding_amount") or 0)),
                }
            ),
            "note": " ".join(x for x in (treatment.explanation, account_note) if x),
            "idempotency_id": key,
        }
        return out


HANDLERS = {f.__name__: f for f in (sync_sales_order, reconcile_payout, write_off_bad_debt)}
