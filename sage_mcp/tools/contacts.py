"""Customers and suppliers (Sage contacts)."""

from __future__ import annotations

from typing import Any

from sage_mcp.tools._base import ToolContext, amount, compact, idempotency_id, link_id
from sage_mcp.tools._resource import Resource, get_record, list_records, query_from_args

CONTACT_TYPES = {"customer": "CUSTOMER", "supplier": "VENDOR"}
SAGE_TYPES = {v: k for k, v in CONTACT_TYPES.items()}
LIST_ATTRIBUTES = "name,reference,contact_types,email,balance"


def _contact_type(raw: dict[str, Any]) -> str | None:
    types = [SAGE_TYPES.get(str(link_id(t))) for t in raw.get("contact_types") or []]
    return next((t for t in types if t), None)


def _address(raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return None
    parts = [raw.get(k) for k in ("address_line_1", "address_line_2", "city", "region", "postal_code")]
    return ", ".join(str(p) for p in parts if p) or None


def project_contact(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "name": raw.get("name") or raw.get("displayed_as"),
        "reference": raw.get("reference"),
        "type": _contact_type(raw),
        "email": raw.get("email"),
        "balance": amount(raw, "balance"),
    }
    if full:
        person = raw.get("main_contact_person") if isinstance(raw.get("main_contact_person"), dict) else {}
        out.update(
            {
                "tax_number": raw.get("tax_number"),
                "credit_days": raw.get("credit_days"),
                "credit_limit": amount(raw, "credit_limit"),
                "currency": link_id(raw.get("currency")),
                "address": _address(raw.get("main_address")),
                "contact_person": (person or {}).get("name"),
                "telephone": (person or {}).get("telephone"),
                "notes": raw.get("notes"),
                "updated_at": raw.get("updated_at"),
            }
        )
    return compact(out)


CONTACTS = Resource("contacts", LIST_ATTRIBUTES, project_contact)


async def list_contacts(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = query_from_args(args, {"search": "search"})
    if args.get("contact_type"):
        query["contact_type_id"] = CONTACT_TYPES[args["contact_type"]]
    return await list_records(ctx, args, CONTACTS, query)


async def get_contact(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, CONTACTS, args["contact_id"])


async def create_contact(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    key = idempotency_id(ctx, args.get("idempotency_key"))
    contact: dict[str, Any] = {
        "name": args["name"],
        "contact_type_ids": [CONTACT_TYPES[args["contact_type"]]],
        "idempotency_id": key,
    }
    for field in ("reference", "tax_number", "notes", "credit_days"):
        if args.get(field) is not None:
            contact[field] = args[field]
    if args.get("address"):
        contact["main_address"] = {"address_type_id": "ACCOUNTS", "is_main_address": True, **args["address"]}
    if args.get("email") or args.get("telephone"):
        contact["main_contact_person"] = compact(
            {
                "name": str(args.get("contact_person") or args["name"])[:50],
                "email": args.get("email"),
                "telephone": args.get("telephone"),
                "is_main_contact": True,
                "contact_person_type_ids": ["ACCOUNTS"],
            }
        )
    resp = await ctx.business.post("/contacts", {"contact": contact})
    return {**project_contact(resp.body, True), "idempotency_id": key}


HANDLERS = {f.__name__: f for f in (list_contacts, get_contact, create_contact)}
