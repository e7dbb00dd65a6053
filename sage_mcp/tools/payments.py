"""Contact payments (customer receipts, supplier payments), their list, and credit note allocations.

The checks and the Sage calls are in :mod:`sage_mcp.tools._payments`.
"""

from __future__ import annotations

from typing import Any

from sage_mcp.tools._base import ToolContext
from sage_mcp.tools._payments import (
    PAYMENT_TYPES,
    PAYMENTS,
    PURCHASES,
    SALES,
    allocate_credit,
    record_contact_payment,
)
from sage_mcp.tools._resource import list_records, query_from_args


async def list_payments(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = {"sort": "date:desc", **query_from_args(args, {k: k for k in ("contact_id", "bank_account_id")})}
    query.update(query_from_args(args, {"from_date": "from_date", "to_date": "to_date"}))
    if args.get("type"):
        query["transaction_type_id"] = PAYMENT_TYPES[args["type"]]
    return await list_records(ctx, args, PAYMENTS, query)


async def record_customer_receipt(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await record_contact_payment(ctx, args, SALES)


async def record_supplier_payment(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await record_contact_payment(ctx, args, PURCHASES)


async def allocate_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await allocate_credit(ctx, args)


HANDLERS = {
    f.__name__: f for f in (record_customer_receipt, record_supplier_payment, list_payments, allocate_credit_note)
}
