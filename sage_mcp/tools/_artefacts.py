"""The artefact machinery shared by the sales and purchase tools.

One line builder (ledger account and tax rate defaults and checks, half-up rounding, totals compared
with Sage's), one projection, and generic list/get/create/update steps driven by an :class:`Artefact`
for invoices, credit notes, quotes and estimates on either side of the books.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, format_amount, format_decimal, round_money, tax_on, to_decimal
from sage_mcp.sage.client import BusinessClient, path_segment
from sage_mcp.sage.pagination import MAX_ITEMS_PER_PAGE, Page
from sage_mcp.tools._base import (
    ToolContext,
    ToolError,
    amount,
    compact,
    idempotency_id,
    link_id,
    link_name,
)
from sage_mcp.tools._resource import Projection, Resource, list_records, query_from_args

# -- the two sides of the books ----------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """What differs between sales and purchase artefacts when building lines."""

    contact_type: str  # Sage's contact type id: CUSTOMER or VENDOR
    party: str  # customer or supplier
    visible_in: str  # /ledger_accounts?visible_in=
    usage: str  # /tax_rates?usage=
    account_default: str  # the contact's default ledger account link
    rate_default: str | None  # the contact's default tax rate link (sales only)
    #: ledger account types the default account is chosen from (lowest nominal code), when the contact has none
    default_account_types: tuple[str, ...]
    discounts: bool  # lines take discount_amount


SALES_SIDE = Side(
    "CUSTOMER",
    "customer",
    "sales",
    "sales",
    "default_sales_ledger_account",
    "default_sales_tax_rate",
    ("SALES",),
    True,
)
PURCHASE_SIDE = Side(
    "VENDOR",
    "supplier",
    "expenses",
    "purchase",
    "default_purchase_ledger_account",
    None,
    ("DIRECT_EXPENSES", "EXPENSES", "OVERHEADS"),
    False,
)


async def get_party(biz: BusinessClient, contact_id: str, side: Side) -> dict[str, Any]:
    """The contact, refused (naming ``contact_id``) unless it is a customer/supplier as ``side`` needs."""
    contact: dict[str, Any] = await biz.get(f"/contacts/{path_segment(contact_id)}")
    if not any(link_id(t) == side.contact_type for t in contact.get("contact_types") or []):
        raise ToolError(
            f"contact_id {contact_id!r} ({contact.get('name')}) is not a {side.party}; "
            f"this needs a {side.party}. Use list_contacts with contact_type '{side.party}'."
        )
    return contact


# -- lines ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineIn:
    """One line as asked for, amounts parsed (before anything is sent to Sage)."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    ledger_account_id: str | None
    tax_rate_id: str | None


def parse_lines(lines_in: Iterable[Mapping[str, Any]] | None) -> list[LineIn]:
    """Tool lines with their decimal strings checked; a bad amount is refused naming ``lines[i].field``."""
    out = []
    for i, line in enumerate(lines_in or []):
        where = f"lines[{i}]"
        out.append(
            LineIn(
                description=str(line.get("description") or ""),
                quantity=to_decimal(line.get("quantity", "1"), field=f"{where}.quantity"),
                unit_price=to_decimal(line.get("unit_price"), field=f"{where}.unit_price"),
                discount=to_decimal(line.get("discount_amount", "0"), field=f"{where}.discount_amount"),
                ledger_account_id=line.get("ledger_account_id") or None,
                tax_rate_id=line.get("tax_rate_id") or None,
            )
        )
    return out


def lines_from(raw_lines: Iterable[Any]) -> list[LineIn]:
    """Lines copied from a Sage artefact's lines (a quote being invoiced, an invoice being credited)."""
    return [
        LineIn(
            description=str(raw.get("description") or raw.get("displayed_as") or "-"),
            quantity=to_decimal(raw.get("quantity") or 1),
            unit_price=to_decimal(raw.get("unit_price") or 0),
            discount=to_decimal(raw.get("discount_amount") or 0),
            ledger_account_id=link_id(raw.get("ledger_account")),
            tax_rate_id=link_id(raw.get("tax_rate")),
        )
        for raw in raw_lines
        if isinstance(raw, dict)
    ]


@dataclass(frozen=True)
class BuiltLines:
    """Sage line bodies, and the total they add up to (net + tax, each line rounded half-up)."""

    lines: list[dict[str, Any]]
    total: Decimal


def _nominal(account: Mapping[str, Any]) -> int:
    try:
        return int(account.get("nominal_code") or 99999)
    except (TypeError, ValueError):
        return 99999


async def _ledger_accounts(biz: BusinessClient, side: Side) -> list[dict[str, Any]]:
    page = await biz.get(
        "/ledger_accounts",
        {
            "visible_in": side.visible_in,
            "attributes": "nominal_code,name,tax_rate,ledger_account_type",
            "items_per_page": MAX_ITEMS_PER_PAGE,
        },
    )
    return sorted(Page.from_envelope(page).items, key=_nominal)


async def _tax_rates(biz: BusinessClient, side: Side) -> dict[str, dict[str, Any]]:
    page = await biz.get(
        "/tax_rates",
        {"usage": side.usage, "attributes": "name,percentage", "items_per_page": MAX_ITEMS_PER_PAGE},
    )
    return {str(r["id"]): r for r in Page.from_envelope(page).items}


def _default_account(accounts: list[dict[str, Any]], side: Side, contact: Mapping[str, Any] | None) -> str | None:
    chosen = link_id((contact or {}).get(side.account_default))
    if chosen is not None:
        return chosen
    preferred = [a for a in accounts if link_id(a.get("ledger_account_type")) in side.default_account_types]
    candidates = preferred or accounts
    return str(candidates[0]["id"]) if candidates else None


async def build_lines(
    biz: BusinessClient, side: Side, lines_in: list[LineIn], contact: Mapping[str, Any] | None
) -> BuiltLines:
    """Sage lines, with the amounts Sage will compute.

    Ledger account: the line's (id or nominal code), else the contact's default, else the first
    account (lowest nominal code) of the side's default types. Tax rate: the line's, else the
    account's, else (sales) the contact's default; it must be one of the side's rates.
    ``net = round(quantity x unit_price - discount)``, ``tax = round(net x rate%)``, half-up to the penny.
    """
    accounts = await _ledger_accounts(biz, side)
    by_code = {str(a.get("nominal_code")): a for a in accounts}
    by_id = {str(a.get("id")): a for a in accounts}
    default_account = _default_account(accounts, side, contact)
    rates = await _tax_rates(biz, side)

    sage_lines: list[dict[str, Any]] = []
    expected_total = ZERO
    for i, line in enumerate(lines_in):
        where = f"lines[{i}]"
        account_ref = str(line.ledger_account_id or default_account or "")
        account = by_id.get(account_ref) or by_code.get(account_ref)
        if account is None:
            known = ", ".join(f"{a.get('nominal_code')} {a.get('name')}" for a in accounts[:15])
            raise ToolError(
                f"{where}.ledger_account_id {account_ref!r} is not a {side.usage} ledger account of this business. "
                f"Give a ledger account id or nominal code, e.g. {known}."
            )
        rate_id = line.tax_rate_id or link_id(account.get("tax_rate"))
        if not rate_id and side.rate_default:
            rate_id = link_id((contact or {}).get(side.rate_default))
        if not rate_id or rate_id not in rates:
            valid = ", ".join(f"{r} ({format_decimal(v.get('percentage'))}%)" for r, v in rates.items())
            raise ToolError(
                f"{where}.tax_rate_id {rate_id!r} is not a {side.usage} tax rate of this business. Valid: {valid}."
            )
        net = round_money(line.quantity * line.unit_price - line.discount)
        tax = tax_on(net, to_decimal(rates[rate_id].get("percentage") or 0))
        expected_total += net + tax
        sage_line: dict[str, Any] = {
            "description": line.description,
            "ledger_account_id": str(account["id"]),
            "tax_rate_id": rate_id,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "net_amount": net,
            "tax_amount": tax,
            "total_amount": net + tax,
        }
        if line.discount and side.discounts:
            sage_line["discount_amount"] = line.discount
        sage_lines.append(sage_line)
    return BuiltLines(sage_lines, expected_total)


def checked_total(out: dict[str, Any], built: BuiltLines | None) -> dict[str, Any]:
    """``out`` with a warning when Sage's total differs from the one computed from the lines."""
    if built is not None and out.get("total") is not None and to_decimal(out["total"]) != built.total:
        out["warning"] = (
            f"Sage's total {out['total']} differs from the {format_amount(built.total)} computed from the lines; "
            "check it in Sage."
        )
    return out


# -- projection ----------------------------------------------------------------------------------------


def _project_line(raw: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "description": raw.get("description"),
            "quantity": format_decimal(raw.get("quantity")),
            "unit_price": amount(raw, "unit_price"),
            "discount": amount(raw, "discount_amount") if to_decimal(raw.get("discount_amount") or 0) else None,
            "ledger_account_id": link_id(raw.get("ledger_account")),
            "tax_rate_id": link_id(raw.get("tax_rate")),
            "net": amount(raw, "net_amount"),
            "tax": amount(raw, "tax_amount"),
            "total": amount(raw, "total_amount"),
        }
    )


def artefact_projection(
    lines_key: str, number_key: str | None, due_key: str | None = None, extra: tuple[str, ...] = ()
) -> Projection:
    """The compact form of an invoice, credit note, quote or estimate (``full``: with lines)."""

    def project(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
        status = link_id(raw.get("status"))
        outstanding = amount(raw, "outstanding_amount")
        due = raw.get(due_key) if due_key else None
        overdue = None
        days_overdue = None
        if due_key == "due_date" and due and outstanding and status in {"UNPAID", "PART_PAID"}:
            overdue = str(due) < dt.date.today().isoformat() and Decimal(outstanding) > 0
            if overdue:
                days_overdue = (dt.date.today() - dt.date.fromisoformat(str(due)[:10])).days
        out: dict[str, Any] = {
            "id": raw.get("id"),
            "number": (raw.get(number_key) if number_key else None) or raw.get("displayed_as"),
            "contact_id": link_id(raw.get("contact")),
            "contact_name": link_name(raw.get("contact")) or raw.get("contact_name"),
            "date": raw.get("date"),
            due_key or "due_date": due,
            "status": status,
            "overdue": overdue or None,
            "days_overdue": days_overdue,
            "reference": raw.get("reference"),
            **{k: raw.get(k) for k in extra},
            "currency": link_id(raw.get("currency")),
            "net": amount(raw, "net_amount"),
            "tax": amount(raw, "tax_amount"),
            "total": amount(raw, "total_amount"),
            "outstanding": outstanding,
        }
        if full:
            out.update(
                {
                    "void_reason": raw.get("void_reason"),
                    "notes": raw.get("notes"),
                    "lines": [_project_line(x) for x in raw.get(lines_key) or [] if isinstance(x, dict)],
                }
            )
        return compact(out)

    return project


# -- generic steps --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Artefact:
    """One Sage artefact collection as the tools see it."""

    res: Resource
    root: str  # body root key, e.g. "sales_invoice"
    lines_key: str  # e.g. "invoice_lines"
    side: Side
    label: str  # e.g. "sales invoice"
    sortable: bool = True  # Sage's list takes sort=date:desc

    def project(self, raw: dict[str, Any], full: bool = True) -> dict[str, Any]:
        return self.res.project(raw, full)


ARTEFACT_FILTERS = {
    "status": "status_id",
    "contact_id": "contact_id",
    "from_date": "from_date",
    "to_date": "to_date",
    "search": "search",
}
_HEX32 = re.compile(r"[0-9a-f]{32}")


async def list_artefacts(ctx: ToolContext, args: dict[str, Any], kind: Artefact) -> dict[str, Any]:
    query = query_from_args(args, ARTEFACT_FILTERS)
    if kind.sortable:
        query = {"sort": "date:desc", **query}
    return await list_records(ctx, args, kind.res, query)


OUTSTANDING = ("UNPAID", "PART_PAID")


async def list_invoices(ctx: ToolContext, args: dict[str, Any], kind: Artefact, report: str) -> dict[str, Any]:
    """Invoices with the open-item filters: several statuses at once (``statuses``, or ``outstanding``
    for unpaid and part paid) and a due date range (``due_from``/``due_to``). Sage filters one status
    per request and no due dates, so such a query reads each status's list (all pages, up to
    :data:`ALL_PAGES_CAP` each, concurrently), filters the due dates here and pages the result itself.
    A truncated answer says so first and names ``report``, which answers the question from every record."""
    statuses = list(dict.fromkeys([*(args.get("statuses") or []), *(OUTSTANDING if args.get("outstanding") else ())]))
    if args.get("status") and statuses:
        statuses = [x for x in statuses if x == args["status"]]
        if not statuses:
            return {"total": 0, "page": 1, "next_page": None, "items": [], "note": "status is not among statuses"}
    due_from, due_to = args.get("due_from"), args.get("due_to")
    if len(statuses) <= 1 and not due_from and not due_to:
        plain = {k: v for k, v in args.items() if k not in ("statuses", "outstanding")}
        if statuses:
            plain["status"] = statuses[0]
        return _truncation_first(await list_artefacts(ctx, plain, kind), report)
    base = {k: v for k, v in args.items() if k not in ("statuses", "outstanding", "status", "page", "items_per_page")}
    wanted = statuses or [None]
    parts = await asyncio.gather(
        *(list_artefacts(ctx, {**base, "all_pages": True, **({"status": x} if x else {})}, kind) for x in wanted)
    )
    items = [i for part in parts for i in part["items"]]
    if due_from or due_to:
        items = [
            i
            for i in items
            if i.get("due_date")
            and (not due_from or i["due_date"] >= due_from)
            and (not due_to or i["due_date"] <= due_to)
        ]
    items.sort(key=lambda i: (str(i.get("date") or ""), str(i.get("number") or "")), reverse=True)
    cut = [p["truncated"] for p in parts if p.get("truncated")]
    # without a due-date filter Sage's own counts are exact even when the fetch was cut short
    total = len(items) if due_from or due_to else sum(int(p["total"]) for p in parts)
    out: dict[str, Any] = {}
    if cut:
        out["truncated"] = "; ".join(cut)
    if args.get("all_pages"):
        out.update({"total": total, "page": 1, "next_page": None, "items": items})
    else:
        page, size = int(args.get("page", 1)), int(args.get("items_per_page", 20))
        shown = items[(page - 1) * size : page * size]
        out.update(
            {"total": total, "page": page, "next_page": page + 1 if page * size < total else None, "items": shown}
        )
    return _truncation_first(out, report)


def _truncation_first(out: dict[str, Any], report: str) -> dict[str, Any]:
    """A truncated list says so before anything else, and which report answers from every record."""
    if not out.get("truncated"):
        return out
    note = f"{out['truncated']}. For totals and ageing over every record use {report}."
    return {"truncated": note, **{k: v for k, v in out.items() if k != "truncated"}}


async def create_artefact(
    ctx: ToolContext,
    args: dict[str, Any],
    kind: Artefact,
    contact: Mapping[str, Any],
    lines_in: list[LineIn],
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """POST the artefact: ``fields`` (header) plus lines built for ``contact``; Sage's answer, projected."""
    key = idempotency_id(ctx, args.get("idempotency_key"))
    built = await build_lines(ctx.business, kind.side, lines_in, contact)
    body: dict[str, Any] = {
        "contact_id": str(contact["id"]),
        "date": args.get("date") or dt.date.today().isoformat(),
        **{k: v for k, v in fields.items() if v not in (None, "")},
        kind.lines_key: built.lines,
        "idempotency_id": key,
    }
    resp = await ctx.business.post(kind.res.path, {kind.root: body})
    return {**checked_total(kind.project(resp.body), built), "idempotency_id": key}


async def update_artefact(
    ctx: ToolContext,
    args: dict[str, Any],
    kind: Artefact,
    record_id: str,
    fields: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """PUT only what was given; ``lines`` replace every line. Sage refuses what its status forbids.

    A key of the caller's own is tied to the record, so one key used on two records makes two updates.
    """
    lines_in = parse_lines(args.get("lines"))
    given = args.get("idempotency_key")
    key = idempotency_id(ctx, given if not given or _HEX32.fullmatch(given) else f"{record_id}:{given}")
    biz = ctx.business
    body: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    built = None
    if lines_in:
        contact = None
        if any(not x.ledger_account_id or (kind.side.rate_default and not x.tax_rate_id) for x in lines_in):
            current = current or await biz.get(kind.res.item_path(record_id))
            contact_id = link_id(current.get("contact"))
            contact = await biz.get(f"/contacts/{path_segment(contact_id)}") if contact_id else None
        built = await build_lines(biz, kind.side, lines_in, contact)
        body[kind.lines_key] = built.lines
    if not body:
        raise ToolError(f"nothing to update: give at least one field of the {kind.label} to change.")
    body["idempotency_id"] = key
    resp = await biz.put(kind.res.item_path(record_id), {kind.root: body})
    return {**checked_total(kind.project(resp.body), built), "idempotency_id": key}


def header_fields(args: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The header fields given (``date``, ``reference`` …), passed to Sage as they are."""
    return {k: args[k] for k in names if args.get(k) not in (None, "")}


async def credited_invoice(
    ctx: ToolContext, args: Mapping[str, Any], invoices: Resource, side: Side
) -> tuple[dict[str, Any], list[LineIn], dict[str, Any]]:
    """Contact, lines and header fields of a credit note, taken from ``invoice_id`` where not given.

    Without ``invoice_id``, ``contact_id`` and ``lines`` are needed. With it, the contact must be the
    invoice's, ``original_invoice_date`` is the invoice's date, the reference defaults to the
    invoice's number, and missing lines credit the whole invoice.
    """
    biz = ctx.business
    lines = parse_lines(args.get("lines"))
    fields: dict[str, Any] = {}
    invoice: dict[str, Any] | None = None
    if args.get("invoice_id"):
        invoice = await biz.get(invoices.item_path(args["invoice_id"]))
        status = link_id(invoice.get("status"))
        if status in ("DRAFT", "VOID"):
            raise ToolError(
                f"invoice_id {args['invoice_id']!r} is {status}: only a posted invoice can be credited "
                "(a draft can be changed or deleted instead)."
            )
        fields["original_invoice_date"] = invoice.get("date")
        number = invoice.get("invoice_number") or invoice.get("vendor_reference") or invoice.get("reference")
        fields["reference"] = str(number or "")[:25]  # Sage's reference is at most 25 characters
    if not lines and invoice is not None:
        lines = lines_from(invoice.get("invoice_lines") or [])
    if not lines:
        raise ToolError("lines: required field is missing (or give invoice_id to credit a whole invoice).")
    contact_id = args.get("contact_id") or link_id((invoice or {}).get("contact"))
    if not contact_id:
        raise ToolError("contact_id: required field is missing (or give invoice_id to credit an invoice).")
    if invoice is not None and contact_id != link_id(invoice.get("contact")):
        raise ToolError(
            f"contact_id {contact_id!r} is not the contact of invoice_id {args['invoice_id']!r} "
            f"({link_name(invoice.get('contact'))}); leave contact_id out to use the invoice's."
        )
    contact = await get_party(biz, contact_id, side)
    fields.update(header_fields(args, "reference", "vendor_reference", "notes"))
    return contact, lines, fields
