"""Natural duplicates: records that are the same as one already in Sage, whatever idempotency key was used.

A sales invoice whose reference (an order or PO number) is already on an invoice of that customer, and
a contact with the same name and e-mail as an existing one, are refused naming the existing record,
unless the caller says the duplicate is intended (``allow_duplicate``). Texts compare without regard to
case or repeated spaces. Voided invoices do not count as duplicates (an invoice is often voided to be
raised again); :func:`invoices_with_reference` still returns them for callers that want them.

A call with an ``idempotency_key`` may be the repeat of one whose answer was lost (Sage replays such a
repeat instead of creating a second record). So when a keyed call meets an invoice with its reference
that was made within Sage's 7-day replay window for the same total, :func:`repeated_invoice` answers
with that invoice, marked ``existing``, instead of refusing; nothing is created either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sage_mcp.money import to_decimal
from sage_mcp.sage.client import BusinessClient, path_segment
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._artefacts import SALES_SIDE, LineIn, build_lines
from sage_mcp.tools._base import ToolContext, ToolError, idempotency_id, link_id

#: At most this many candidates are read for one check (Sage's search narrows them first).
CANDIDATES_CAP = 200
INVOICE_ATTRIBUTES = "invoice_number,reference,contact,date,status,total_amount,outstanding_amount"
CONTACT_ATTRIBUTES = "name,reference,email,contact_types"


def same_text(a: Any, b: Any) -> bool:
    """Equal ignoring case and runs of whitespace; two blanks are not "the same" name."""
    x, y = " ".join(str(a or "").split()).casefold(), " ".join(str(b or "").split()).casefold()
    return bool(x) and x == y


async def invoices_with_reference(biz: BusinessClient, reference: str, contact_id: str | None) -> list[dict[str, Any]]:
    """Sales invoices (any status, voided ones too) whose reference is ``reference``, of ``contact_id`` if
    given; oldest first."""
    query: dict[str, Any] = {"search": reference.strip(), "attributes": INVOICE_ATTRIBUTES}
    if contact_id:
        query["contact_id"] = contact_id
    found, _ = await fetch_pages(biz, "/sales_invoices", query, max_items=CANDIDATES_CAP)
    same = [i for i in found if same_text(i.get("reference"), reference)]
    return sorted(same, key=lambda i: (str(i.get("date") or ""), str(i.get("invoice_number") or "")))


#: Sage replays a repeated idempotency id for this long.
REPLAY_WINDOW = dt.timedelta(days=7)


async def _live_with_reference(biz: BusinessClient, contact_id: str, reference: str | None) -> dict[str, Any] | None:
    if not reference or not reference.strip():
        return None
    live = [i for i in await invoices_with_reference(biz, reference, contact_id) if link_id(i.get("status")) != "VOID"]
    return live[0] if live else None


def _refusal(first: Mapping[str, Any], reference: str) -> ToolError:
    return ToolError(
        f"reference: sales invoice {first.get('invoice_number') or first.get('id')} (id {first.get('id')}, "
        f"{link_id(first.get('status'))}, total {first.get('total_amount')}) already has reference "
        f"{reference!r} for this customer. Nothing was created. Use that invoice, or pass "
        "allow_duplicate: true if a second invoice with this reference is intended."
    )


async def check_invoice_reference(biz: BusinessClient, contact_id: str, reference: str | None) -> None:
    """Refuse a new sales invoice whose reference an open or paid invoice of the same customer has."""
    first = await _live_with_reference(biz, contact_id, reference)
    if first is not None:
        raise _refusal(first, str(reference))


async def repeated_invoice(
    ctx: ToolContext,
    args: Mapping[str, Any],
    contact: Mapping[str, Any],
    lines: list[LineIn],
    project: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any] | None:
    """Before a new sales invoice: ``None`` when no invoice of the customer has its reference. Else the
    existing invoice when this keyed call looks like the repeat of the one that made it (made within the
    replay window, same total), or a refusal naming it."""
    reference = args.get("reference")
    first = await _live_with_reference(ctx.business, str(contact["id"]), reference)
    if first is None:
        return None
    if args.get("idempotency_key"):
        existing: dict[str, Any] = await ctx.business.get(f"/sales_invoices/{path_segment(str(first['id']))}")
        made = str(existing.get("created_at") or "")
        try:
            age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(made.replace("Z", "+00:00"))
        except ValueError:
            age = REPLAY_WINDOW
        built = await build_lines(ctx.business, SALES_SIDE, lines, contact)
        if age < REPLAY_WINDOW and to_decimal(existing.get("total_amount") or 0) == built.total:
            return {
                **project(existing),
                "existing": True,
                "note": (
                    f"{existing.get('invoice_number')} already has reference {reference!r} for this customer and the "
                    "same total: taken as the repeat of the call that made it; nothing new was created."
                ),
                "idempotency_id": idempotency_id(ctx, args.get("idempotency_key")),
            }
    raise _refusal(first, str(reference))


async def contacts_like(
    biz: BusinessClient, *, name: str | None = None, email: str | None = None, contact_type: str | None = None
) -> list[dict[str, Any]]:
    """Contacts whose e-mail is ``email`` (when given) and whose name is ``name`` (when given), optionally
    only those of ``contact_type`` (CUSTOMER / VENDOR); in Sage's order (by name)."""
    query: dict[str, Any] = {"attributes": CONTACT_ATTRIBUTES}
    if email:
        query["email"] = email.strip()
    elif name:
        query["search"] = " ".join(name.split())
    else:
        return []
    if contact_type:
        query["contact_type_id"] = contact_type
    found, _ = await fetch_pages(biz, "/contacts", query, max_items=CANDIDATES_CAP)
    return [
        c
        for c in found
        if (not email or same_text(c.get("email"), email))
        and (not name or same_text(c.get("name"), name))
        and (not contact_type or any(link_id(t) == contact_type for t in c.get("contact_types") or []))
    ]


def _types(contact: Mapping[str, Any]) -> str:
    names = {"CUSTOMER": "customer", "VENDOR": "supplier"}
    return "/".join(names.get(str(link_id(t)), str(link_id(t)).lower()) for t in contact.get("contact_types") or [])


async def check_contact(biz: BusinessClient, name: str, email: str | None) -> None:
    """Refuse a new contact with the same name and e-mail as an existing one (without an e-mail there is
    nothing to tell two namesakes apart by, so it is allowed)."""
    if not email or not email.strip():
        return
    same = await contacts_like(biz, name=name, email=email)
    if same:
        first = same[0]
        raise ToolError(
            f"name/email: contact {first.get('name')!r} (id {first.get('id')}, {_types(first) or 'contact'}) "
            f"already has this name and e-mail {email!r}. Nothing was created. Use that contact, or pass "
            "allow_duplicate: true if a second identical contact is intended."
        )
