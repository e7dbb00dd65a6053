"""Customers and suppliers (Sage contacts) and their people."""

from __future__ import annotations

import asyncio
from typing import Any

from sage_mcp.excerpt import excerpt
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageValidationError
from sage_mcp.sage.pagination import MAX_ITEMS_PER_PAGE, Page, fetch_pages
from sage_mcp.tools._base import (
    CONFIDENT,
    NOISE_WORDS,
    ToolContext,
    ToolError,
    amount,
    compact,
    idempotency_id,
    link_id,
    rank,
    similarity,
    words,
)
from sage_mcp.tools._duplicates import check_contact
from sage_mcp.tools._resource import (
    ALL_PAGES_CAP,
    Resource,
    get_record,
    list_records,
    or_closest,
    query_from_args,
)

CONTACT_TYPES = {"customer": "CUSTOMER", "supplier": "VENDOR"}
SAGE_TYPES = {v: k for k, v in CONTACT_TYPES.items()}
LIST_ATTRIBUTES = "name,reference,contact_types,email,balance"
PERSON_ATTRIBUTES = "name,job_title,email,telephone,mobile,contact_person_types,is_main_contact"


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


#: The nested records a contact's full form shows (Sage answers them as links unless asked).
CONTACT_NESTED = "main_address,main_contact_person,delivery_address"
CONTACTS = Resource("contacts", LIST_ATTRIBUTES, project_contact, nested=CONTACT_NESTED)


async def _with_nested(ctx: ToolContext, raw: dict[str, Any]) -> dict[str, Any]:
    """A written contact as Sage answered it, re-read with its address and person when Sage answered
    them as links only (``{id, displayed_as, $path}``)."""
    linked = [raw.get(f) for f in ("main_address", "main_contact_person")]
    if any(isinstance(v, dict) and "$path" in v and len(v) <= 3 for v in linked) and raw.get("id"):
        return dict(await ctx.business.get(_contact_path(str(raw["id"])), {"nested_attributes": CONTACT_NESTED}))
    return raw


def _contact_path(contact_id: str) -> str:
    return f"/contacts/{path_segment(contact_id)}"


async def list_contacts(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """Sage's text search; when it finds nothing, the closest contacts by name, reference or email
    (typos, word order, "Ltd"), marked ``fuzzy`` with each one's score."""
    query = query_from_args(args, {"search": "search"})
    if args.get("contact_type"):
        query["contact_type_id"] = CONTACT_TYPES[args["contact_type"]]
    out = await list_records(ctx, args, CONTACTS, query)
    return await or_closest(
        out,
        args,
        lambda search: find_contact(ctx, {"query": search, "contact_type": args.get("contact_type")}),
        "these are the closest matches (score 1 = same). Confirm before using one.",
    )


async def get_contact(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, CONTACTS, args["contact_id"])


# -- find_contact ------------------------------------------------------------------------------------


def _score_contact(query: str, raw: dict[str, Any]) -> tuple[float, str]:
    """(score, which field matched): an exact reference or email is 1, a name is scored fuzzily."""
    wanted = query.strip().casefold()
    reference = str(raw.get("reference") or "")
    email = str(raw.get("email") or "")
    if reference and reference.casefold() == wanted:
        return 1.0, "reference"
    if email and email.casefold() == wanted:
        return 1.0, "email"
    scores = [(similarity(query, str(raw.get("name") or raw.get("displayed_as") or "")), "name")]
    if reference:
        scores.append((round(0.9 * similarity(query, reference), 3), "reference"))
    if email and "@" in wanted:
        scores.append((round(0.9 * similarity(query, email), 3), "email"))
    return max(scores)


def _search_terms(query: str) -> list[str]:
    """What to ask Sage's ``search`` for: the whole text, its longest words, and a prefix of the longest
    (so a typo late in a word still finds it)."""
    terms = [query.strip()]
    if "@" in query:
        local, _, domain = query.strip().partition("@")
        terms += [local, domain.split(".")[0]]
    significant = sorted({w for w in words(query) if len(w) >= 3 and w not in NOISE_WORDS}, key=len, reverse=True)
    terms += significant[:2]
    if significant and len(significant[0]) > 4:
        terms.append(significant[0][:4])
    seen: list[str] = []
    for term in terms:
        if term and term.casefold() not in (s.casefold() for s in seen):
            seen.append(term)
    return seen


async def find_contact(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = args["query"].strip()
    if not words(query):
        raise ToolError("query: give a name, email or reference to look for")
    base: dict[str, Any] = {"attributes": LIST_ATTRIBUTES, "items_per_page": MAX_ITEMS_PER_PAGE}
    if args.get("contact_type"):
        base["contact_type_id"] = CONTACT_TYPES[args["contact_type"]]
    requests = [{**base, "search": term} for term in _search_terms(query)]
    if "@" in query:
        requests.append({**base, "email": query.casefold()})
    pages = await asyncio.gather(*(ctx.business.get("/contacts", params) for params in requests))
    candidates = {str(c["id"]): c for page in pages for c in Page.from_envelope(page).items}
    notes: dict[str, Any] = {
        "tie_key": lambda c: str(c.get("name") or ""),
        "not_found": f"No contact resembles {excerpt(query)}. Browse with list_contacts, or create_contact.",
        "ambiguous": "Several contacts match about equally well: confirm which one (reference, email) before using it.",
        "weak": "No close match; these are the nearest. Confirm before using one.",
    }
    out = await rank(query, candidates.values(), _score_contact, project_contact, **notes)
    scanned = None
    if not out["items"] or out["items"][0]["score"] < CONFIDENT:
        everyone, total = await fetch_pages(ctx.business, "/contacts", base, max_items=ALL_PAGES_CAP)
        scanned = total
        candidates.update({str(c["id"]): c for c in everyone})
        out = await rank(query, candidates.values(), _score_contact, project_contact, **notes)
    if scanned is not None and scanned > ALL_PAGES_CAP:
        out["note"] = (
            out.get("note", "") + f" Only the first {ALL_PAGES_CAP} of {scanned} contacts were scanned."
        ).strip()
    return out


# -- writes ------------------------------------------------------------------------------------------


def _person_body(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "name": name[:50],
            "email": args.get("email"),
            "telephone": args.get("telephone"),
            "is_main_contact": True,
            "contact_person_type_ids": ["ACCOUNTS"],
        }
    )


async def create_contact(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    if not args.get("allow_duplicate"):
        await check_contact(ctx.business, args["name"], args.get("email"))
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
        contact["main_contact_person"] = _person_body(args["name"], args)
    resp = await ctx.business.post("/contacts", {"contact": contact})
    return {**project_contact(await _with_nested(ctx, resp.body), True), "idempotency_id": key}


UPDATABLE = ("name", "contact_type", "reference", "email", "telephone", "tax_number", "credit_days", "notes", "address")


async def update_contact(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    contact_id = args["contact_id"]
    if not any(field in args for field in UPDATABLE):
        raise ToolError(f"nothing to change: give at least one of {', '.join(UPDATABLE)}")
    contact: dict[str, Any] = {}
    for field in ("name", "reference", "tax_number", "notes", "credit_days"):
        if field in args:
            contact[field] = args[field]
    if "contact_type" in args:
        contact["contact_type_ids"] = [CONTACT_TYPES[args["contact_type"]]]
    if "email" in args or "telephone" in args or "address" in args:
        current = await ctx.business.get(_contact_path(contact_id))
        if "email" in args or "telephone" in args:
            if current.get("main_contact_person"):
                contact["main_contact_person"] = {k: args[k] for k in ("email", "telephone") if k in args}
            else:
                contact["main_contact_person"] = _person_body(str(args.get("name") or current.get("name")), args)
        if "address" in args:
            address = dict(args["address"])
            if not current.get("main_address"):
                address = {"address_type_id": "ACCOUNTS", "is_main_address": True, **address}
            contact["main_address"] = address
    key = idempotency_id(ctx, args.get("idempotency_key"), record=contact_id)
    resp = await ctx.business.put(_contact_path(contact_id), {"contact": {**contact, "idempotency_id": key}})
    return {**project_contact(await _with_nested(ctx, resp.body), True), "idempotency_id": key}


async def delete_contact(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    contact_id = args["contact_id"]
    current = project_contact(await ctx.business.get(_contact_path(contact_id)))
    try:
        await ctx.business.delete(_contact_path(contact_id))
    except SageValidationError as exc:
        reasons = "; ".join(
            (f"{e.source}: " if e.source and e.source != "base" else "") + e.message for e in exc.errors
        )
        raise ToolError(
            f"Sage refused to delete {current.get('name')} ({contact_id}) (HTTP 422): {reasons or 'no reason given'}. "
            "Nothing was deleted. Sage keeps every contact that has invoices, credit notes or payments."
        ) from exc
    return {**current, "deleted": True}


# -- contact persons ---------------------------------------------------------------------------------


def project_person(raw: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "id": raw.get("id"),
            "name": raw.get("name") or raw.get("displayed_as"),
            "job_title": raw.get("job_title"),
            "email": raw.get("email"),
            "telephone": raw.get("telephone"),
            "mobile": raw.get("mobile"),
            "roles": [str(link_id(t)).lower() for t in raw.get("contact_person_types") or []],
            "main": True if raw.get("is_main_contact") else None,
        }
    )


async def list_contact_persons(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    contact_id = args["contact_id"]
    contact = await ctx.business.get(_contact_path(contact_id), {"attributes": "name"})
    params = {"contact_id": contact_id, "attributes": PERSON_ATTRIBUTES}
    people, total = await fetch_pages(ctx.business, "/contact_persons", params, max_items=ALL_PAGES_CAP)
    return {
        "contact": {"id": contact_id, "name": contact.get("name") or contact.get("displayed_as")},
        "total": total,
        "items": [project_person(p) for p in people],
    }


async def add_contact_person(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    contact_id = args["contact_id"]
    contact = await ctx.business.get(_contact_path(contact_id))
    address_id = link_id(contact.get("main_address"))
    if address_id is None:
        raise ToolError(
            f"contact_id {contact_id!r} ({contact.get('name')}) has no address, and Sage files people under one. "
            "Give it an address with update_contact first."
        )
    key = idempotency_id(ctx, args.get("idempotency_key"))
    person: dict[str, Any] = {
        "address_id": address_id,
        "name": args["name"],
        "contact_person_type_ids": [str(args.get("role", "accounts")).upper()],
        **{k: args[k] for k in ("job_title", "email", "telephone") if args.get(k)},
        "idempotency_id": key,
    }
    if args.get("main"):
        person["is_main_contact"] = True
    resp = await ctx.business.post("/contact_persons", {"contact_person": person})
    return {**project_person(resp.body), "contact_id": contact_id, "idempotency_id": key}


HANDLERS = {
    f.__name__: f
    for f in (
        list_contacts,
        get_contact,
        find_contact,
        create_contact,
        update_contact,
        delete_contact,
        list_contact_persons,
        add_contact_person,
    )
}
