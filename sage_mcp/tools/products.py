"""Products and services (Sage's catalogue), one family of tools with ``kind``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sage_mcp.money import to_decimal
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.sage.pagination import Page, fetch_pages
from sage_mcp.tools._base import (
    ToolContext,
    ToolError,
    amount,
    compact,
    idempotency_id,
    link_id,
    link_name,
    paging_params,
)
from sage_mcp.tools._ledger import resolve_ledger_account
from sage_mcp.tools._resource import ALL_PAGES_CAP, query_from_args


@dataclass(frozen=True)
class Kind:
    name: str  # "product" / "service"
    collection: str  # "products" / "services"
    prices: str  # the list of selling prices: sales_prices / sales_rates
    price_name: str
    price: str
    includes_tax: str
    default_price_name: str

    @property
    def path(self) -> str:
        return f"/{self.collection}"

    def item_path(self, key: str) -> str:
        return f"/{self.collection}/{path_segment(key)}"

    @property
    def list_attributes(self) -> str:
        return f"item_code,description,{self.prices},cost_price,active"


PRODUCT = Kind("product", "products", "sales_prices", "price_name", "price", "price_includes_tax", "Selling Price")
SERVICE = Kind("service", "services", "sales_rates", "rate_name", "rate", "rate_includes_tax", "Standard Rate")
KINDS = {k.name: k for k in (PRODUCT, SERVICE)}


def project_item(kind: Kind, raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    prices = [p for p in raw.get(kind.prices) or [] if isinstance(p, dict)]
    first = prices[0] if prices else {}
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "kind": kind.name,
        "item_code": raw.get("item_code"),
        "description": raw.get("description") or raw.get("displayed_as"),
        "sales_price": amount(first, kind.price),
        "price_includes_tax": True if first.get(kind.includes_tax) else None,
        "cost_price": amount(raw, "cost_price"),
        "active": False if raw.get("active") is False else None,
    }
    if full:
        out.update(
            {
                "prices": [
                    compact({"name": p.get(kind.price_name), "price": amount(p, kind.price)}) for p in prices[1:]
                ],
                "sales_ledger_account": link_name(raw.get("sales_ledger_account")),
                "sales_ledger_account_id": link_id(raw.get("sales_ledger_account")),
                "sales_tax_rate_id": link_id(raw.get("sales_tax_rate")),
                "purchase_ledger_account": link_name(raw.get("purchase_ledger_account")),
                "purchase_ledger_account_id": link_id(raw.get("purchase_ledger_account")),
                "purchase_tax_rate_id": link_id(raw.get("purchase_tax_rate")),
                "usual_supplier": link_name(raw.get("usual_supplier")),
                "purchase_description": raw.get("purchase_description"),
                "notes": raw.get("notes"),
                "updated_at": raw.get("updated_at"),
            }
        )
    return compact(out)


async def list_products(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kinds = [KINDS[args["kind"]]] if args.get("kind") else [PRODUCT, SERVICE]
    query = query_from_args(args, {"search": "search", "active": "active"})
    if args.get("all_pages"):
        fetched = await asyncio.gather(
            *(
                fetch_pages(ctx.business, k.path, {"attributes": k.list_attributes, **query}, max_items=ALL_PAGES_CAP)
                for k in kinds
            )
        )
        items = [project_item(k, x) for k, (raw, _) in zip(kinds, fetched, strict=True) for x in raw]
        total = sum(t for _, t in fetched)
        out: dict[str, Any] = {"total": total, "page": 1, "next_page": None, "items": items}
        if total > len(items):
            out["truncated"] = f"only the first {len(items)} of {total} were fetched; narrow with search or kind"
        return out
    pages = await asyncio.gather(
        *(ctx.business.get(k.path, {"attributes": k.list_attributes, **query, **paging_params(args)}) for k in kinds)
    )
    parsed = [Page.from_envelope(p) for p in pages]
    page = parsed[0].page
    return {
        "total": sum(p.total for p in parsed),
        "page": page,
        "next_page": page + 1 if any(p.next_path for p in parsed) else None,
        "items": [project_item(k, x) for k, p in zip(kinds, parsed, strict=True) for x in p.items],
    }


async def _load(ctx: ToolContext, item_id: str, kind: str | None) -> tuple[Kind, dict[str, Any]]:
    """The product or service with this id (trying products, then services, when ``kind`` is not given)."""
    for candidate in [KINDS[kind]] if kind else [PRODUCT, SERVICE]:
        try:
            return candidate, await ctx.business.get(candidate.item_path(item_id))
        except SageNotFoundError:
            continue
    what = f"a {kind}" if kind else "a product or a service"
    raise ToolError(f"product_id {item_id!r} is not {what} of this business. list_products shows them.")


async def get_product(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kind, raw = await _load(ctx, args["product_id"], args.get("kind"))
    return {"kind": kind.name, **raw} if args.get("detail") == "full" else project_item(kind, raw, True)


async def _default_accounts(ctx: ToolContext, kind: Kind) -> dict[str, str | None]:
    """The business's default sales and purchase ledger accounts for this kind (Sage's business settings)."""
    settings = await ctx.business.get("/business_settings")
    defaults = settings.get("default_ledger_accounts") or {}
    return {
        side: link_id(defaults.get(f"{kind.name}_{side}_ledger_account") or defaults.get(f"{side}_ledger_account"))
        for side in ("sales", "purchase")
    }


async def _item_body(
    ctx: ToolContext, kind: Kind, args: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for field in ("description", "item_code", "notes", "usual_supplier_id", "active"):
        if field in args:
            body[field] = args[field]
    for field in ("sales_tax_rate_id", "purchase_tax_rate_id"):
        if args.get(field):
            body[field] = args[field]
    if "cost_price" in args:
        body["cost_price"] = to_decimal(args["cost_price"], field="cost_price")
    for side, visible_in in (("sales", "sales"), ("purchase", "expenses")):
        field = f"{side}_ledger_account_id"
        if args.get(field):
            account = await resolve_ledger_account(ctx, args[field], field, visible_in)
            body[field] = str(account["id"])
    if "sales_price" in args or "price_includes_tax" in args:
        prices = [dict(p) for p in (existing or {}).get(kind.prices) or [] if isinstance(p, dict)]
        first = prices[0] if prices else {kind.price_name: kind.default_price_name, kind.price: "0"}
        entry = {
            kind.price_name: first.get(kind.price_name) or kind.default_price_name,
            kind.price: to_decimal(args.get("sales_price", first.get(kind.price) or "0"), field="sales_price"),
            kind.includes_tax: bool(args.get("price_includes_tax", first.get(kind.includes_tax) or False)),
        }
        rest = [
            {
                kind.price_name: p.get(kind.price_name),
                kind.price: to_decimal(p.get(kind.price) or "0"),
                kind.includes_tax: bool(p.get(kind.includes_tax)),
            }
            for p in prices[1:]
        ]
        body[kind.prices] = [entry, *rest]
    return body


async def create_product(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kind = KINDS[args.get("kind", "product")]
    body = await _item_body(ctx, kind, args, None)
    needed = ["sales"] if kind is SERVICE else ["sales", "purchase"]
    missing = [side for side in needed if f"{side}_ledger_account_id" not in body]
    if missing:
        defaults = await _default_accounts(ctx, kind)
        for side in missing:
            if defaults.get(side) is None:
                raise ToolError(
                    f"{side}_ledger_account_id: this business has no default {side} ledger account for "
                    f"{kind.collection}; give one (id or nominal code)."
                )
            body[f"{side}_ledger_account_id"] = defaults[side]
    key = idempotency_id(ctx, args.get("idempotency_key"))
    resp = await ctx.business.post(kind.path, {kind.name: {**body, "idempotency_id": key}})
    return {**project_item(kind, resp.body, True), "idempotency_id": key}


UPDATABLE = (
    "description",
    "item_code",
    "sales_price",
    "price_includes_tax",
    "cost_price",
    "sales_ledger_account_id",
    "purchase_ledger_account_id",
    "sales_tax_rate_id",
    "purchase_tax_rate_id",
    "usual_supplier_id",
    "notes",
    "active",
)


async def update_product(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    item_id = args["product_id"]
    if not any(field in args for field in UPDATABLE):
        raise ToolError(f"nothing to change: give at least one of {', '.join(UPDATABLE)}")
    kind, existing = await _load(ctx, item_id, args.get("kind"))
    body = await _item_body(ctx, kind, args, existing)
    key = idempotency_id(ctx, args.get("idempotency_key"), record=item_id)
    resp = await ctx.business.put(kind.item_path(item_id), {kind.name: {**body, "idempotency_id": key}})
    return {**project_item(kind, resp.body, True), "idempotency_id": key}


HANDLERS = {f.__name__: f for f in (list_products, get_product, create_product, update_product)}
