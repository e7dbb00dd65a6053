"""Money in and out: customer receipts, supplier payments, refunds (contact payments, allocated to
invoices or credit notes, or oldest first over the contact's open items), other receipts and payments
without an invoice (lines to ledger accounts), each with an optional receipt attached; the payments list
and credit note allocations.

The checks and the Sage calls are in :mod:`sage_mcp.tools._payments` and :mod:`sage_mcp.tools._banking`.
"""

from __future__ import annotations

from typing import Any

from sage_mcp.tools._attachments import attach_to_new, attachment_arg
from sage_mcp.tools._banking import positive_money, record_other
from sage_mcp.tools._base import ToolContext, ToolError
from sage_mcp.tools._payments import (
    CONTACT_SIDES,
    PAYMENT_TYPES,
    PAYMENTS,
    allocate_credit,
    oldest_first,
    record_contact_payment,
)
from sage_mcp.tools._resource import list_records, query_from_args

OTHER_TYPES = {"other_receipt": "OTHER_RECEIPT", "other_payment": "OTHER_PAYMENT"}


def _refuse(args: dict[str, Any], names: tuple[str, ...], kind: str, why: str) -> None:
    used = [n for n in names if args.get(n) not in (None, "", [])]
    if used:
        raise ToolError(f"{used[0]}: not for type {kind} ({why}). Nothing was sent to Sage.")


async def record_payment(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kind = args["type"]
    if kind in OTHER_TYPES:
        _refuse(args, ("allocations", "allocate", "total_amount"), kind, "its lines say where the money goes")
        if not args.get("lines"):
            raise ToolError(f"lines: required for {kind} (ledger account and gross amount per line).")
        file = await attachment_arg(ctx, args, "other_payment")
        out = await record_other(ctx, args, OTHER_TYPES[kind])
        return await attach_to_new(ctx, out, "other_payment", file)
    side = CONTACT_SIDES[kind]
    _refuse(args, ("lines",), kind, "lines are for other_receipt and other_payment")
    if not args.get("contact_id"):
        raise ToolError(f"contact_id: required for {kind} (the {side.party}; list_contacts shows them).")
    if args.get("allocate") and args.get("allocations"):
        raise ToolError('allocate: give either allocations or allocate "oldest_first", not both.')
    file = await attachment_arg(ctx, args, "contact_payment")
    if args.get("allocate") == "oldest_first":
        if args.get("total_amount") is None:
            raise ToolError('total_amount: required with allocate "oldest_first" (the money to spread).')
        amount = positive_money(args["total_amount"], "total_amount")
        args = {**args, "allocations": await oldest_first(ctx, side, args["contact_id"], amount)}
    out = await record_contact_payment(ctx, args, side)
    return await attach_to_new(ctx, out, "contact_payment", file)


async def list_payments(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = {"sort": "date:desc", **query_from_args(args, {k: k for k in ("contact_id", "bank_account_id")})}
    query.update(query_from_args(args, {"from_date": "from_date", "to_date": "to_date"}))
    if args.get("type"):
        query["transaction_type_id"] = PAYMENT_TYPES[args["type"]]
    return await list_records(ctx, args, PAYMENTS, query)


async def allocate_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await allocate_credit(ctx, args)


HANDLERS = {f.__name__: f for f in (record_payment, list_payments, allocate_credit_note)}
