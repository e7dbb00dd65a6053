"""``/products`` and ``/services`` (list, get, create, update, delete): the catalogue.

``item_code`` is unique within products and within services (case-insensitive).  Sales ledger
accounts must be visible in ``sales``, purchase ledger accounts in ``expenses``; tax rates default to
the ledger accounts' rates.  ``usual_supplier_id`` must be a supplier.  ``sales_prices`` /
``sales_rates`` replace the whole list when given; price and rate *types* are not modelled (their
ids must be left out).  Products are ``NON_STOCK_ITEM`` catalogue items (stock items are not
emulated).  ``search`` matches item code or description; ``active`` filters on ``active``.  DELETE
keeps a tombstone for ``deleted_since``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sage_mcp.money import ZERO, decimal_str, money, to_decimal

from ..context import Context, link, link_to
from ..errors import Problems
from .base import sort_key
from .common import blank, check_lengths, require, taken
from .contacts import contact_type_ids
from .lifecycle import BookCollection
from .reference import CATALOG_ITEM_TYPES


class _CatalogueItems(BookCollection):
    search_fields = ("item_code", "description")
    active_field = "active"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    kind: ClassVar[str]
    #: (list field in requests and answers, item name, amount field, includes-tax flag, type field)
    prices: ClassVar[tuple[str, str, str, str, str]]
    required: ClassVar[tuple[str, ...]]

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return sort_key(str(record.get("item_code") or record["description"]).casefold(), record["id"])

    def skeleton(self, ctx: Context) -> dict[str, Any]:
        item_id = ctx.new_id(self.kind)
        return {
            "id": item_id,
            "displayed_as": "",
            "$path": f"/{self.name}/{item_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "deleted_at": None,
            "deletable": True,
            "deactivatable": True,
            "used_on_recurring_invoice": False,
            "item_code": None,
            "description": "",
            "notes": None,
            "sales_ledger_account": None,
            "sales_tax_rate": None,
            "purchase_ledger_account": None,
            "purchase_tax_rate": None,
            "usual_supplier": None,
            "cost_price": None,
            "source_guid": None,
            "purchase_description": None,
            "active": True,
            self.prices[0]: [],
        }

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        record = self.skeleton(ctx)
        problems = Problems()
        require(problems, payload, self.required, creating=True)
        self._apply(ctx, problems, record, payload)
        problems.raise_if_any()
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        require(problems, payload, self.required, creating=False)
        self._apply(ctx, problems, record, payload)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def _apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        check_lengths(problems, self.definition, payload)
        for name in ("description", "notes", "source_guid", "purchase_description"):
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        if "item_code" in payload:
            code = None if blank(payload["item_code"]) else str(payload["item_code"]).strip()
            if code and taken(ctx, self.name, "item_code", code, record["id"]):
                problems.add("item_code", f"has already been taken: {code!r}")
            record["item_code"] = code
        for side, scope in (("sales", "sales"), ("purchase", "expenses")):
            field = f"{side}_ledger_account_id"
            if field in payload:
                account_id = payload[field]
                if blank(account_id):
                    record[f"{side}_ledger_account"] = None
                    continue
                account = ctx.get("ledger_accounts", str(account_id))
                if account is None:
                    problems.add(field, f"The ledger account {account_id!r} was not found.")
                elif scope not in account.get("visible_scopes", ()):
                    problems.add(field, f"The ledger account {account['displayed_as']!r} cannot be used for {side}s.")
                else:
                    record[f"{side}_ledger_account"] = link_to("ledger_accounts", account)
                    if f"{side}_tax_rate_id" not in payload and account.get("tax_rate"):
                        record[f"{side}_tax_rate"] = account["tax_rate"]
            rate_field = f"{side}_tax_rate_id"
            if rate_field in payload:
                rate_id = payload[rate_field]
                rate = None if blank(rate_id) else ctx.get("tax_rates", str(rate_id))
                if not blank(rate_id) and rate is None:
                    problems.add(rate_field, f"The tax rate {rate_id!r} was not found.")
                record[f"{side}_tax_rate"] = link_to("tax_rates", rate) if rate else None
        if "usual_supplier_id" in payload:
            supplier_id = payload["usual_supplier_id"]
            supplier = None if blank(supplier_id) else ctx.get("contacts", str(supplier_id))
            if not blank(supplier_id) and (supplier is None or "VENDOR" not in contact_type_ids(supplier)):
                problems.add("usual_supplier_id", f"can't find supplier {supplier_id!r}")
            record["usual_supplier"] = link_to("contacts", supplier) if supplier else None
        if "cost_price" in payload:
            cost = payload["cost_price"]
            if cost is not None and to_decimal(cost) < ZERO:
                problems.add("cost_price", "must be greater than or equal to 0")
            record["cost_price"] = None if cost is None else decimal_str(to_decimal(cost))
        if isinstance(payload.get("active"), bool):
            record["active"] = payload["active"]
        list_field, item_name, amount_field, includes_tax, type_field = self.prices
        if payload.get(list_field) is not None:
            entries = []
            for index, entry in enumerate(payload[list_field]):
                where = f" ({list_field} item {index + 1})"
                if not blank(entry.get(type_field)):
                    problems.add(f"{list_field}.{type_field}", "price and rate types are not modelled" + where)
                if blank(entry.get(item_name)):
                    problems.add(f"{list_field}.{item_name}", "This field is required." + where)
                amount = entry.get(amount_field)
                if amount is None:
                    problems.add(f"{list_field}.{amount_field}", "This field is required." + where)
                    amount = 0
                elif to_decimal(amount) < ZERO:
                    problems.add(f"{list_field}.{amount_field}", "must be greater than or equal to 0" + where)
                name = str(entry.get(item_name) or "")
                entries.append(
                    {
                        "id": ctx.new_id(f"{self.kind}_price"),
                        "displayed_as": name,
                        "created_at": ctx.now_iso,
                        "updated_at": ctx.now_iso,
                        item_name: name,
                        amount_field: money(to_decimal(amount)),
                        includes_tax: bool(entry.get(includes_tax) or False),
                        type_field.removesuffix("_id"): None,
                    }
                )
            record[list_field] = entries
        record["displayed_as"] = str(record["item_code"] or record["description"])
        self.extra(problems, record, payload)

    def extra(self, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        """Fields only one of the two catalogues has."""


class Products(_CatalogueItems):
    name = "products"
    definition = "Product"
    root_key = "product"
    label = "product"
    kind = "product"
    prices = ("sales_prices", "price_name", "price", "price_includes_tax", "product_sales_price_type_id")
    required: ClassVar[tuple[str, ...]] = ("description", "sales_ledger_account_id", "purchase_ledger_account_id")

    def skeleton(self, ctx: Context) -> dict[str, Any]:
        record = super().skeleton(ctx)
        record["catalog_item_type"] = link("catalog_item_types", "NON_STOCK_ITEM", CATALOG_ITEM_TYPES["NON_STOCK_ITEM"])
        return record

    def extra(self, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        del record
        wanted = payload.get("catalog_item_type_id")
        if not blank(wanted) and wanted != "NON_STOCK_ITEM":
            problems.add("catalog_item_type_id", "must be NON_STOCK_ITEM (stock items are not emulated)")


class Services(_CatalogueItems):
    name = "services"
    definition = "Service"
    root_key = "service"
    label = "service"
    kind = "service"
    prices = ("sales_rates", "rate_name", "rate", "rate_includes_tax", "service_rate_type_id")
    required = ("description", "sales_ledger_account_id")

    def skeleton(self, ctx: Context) -> dict[str, Any]:
        record = super().skeleton(ctx)
        record["oss_service"] = False
        return record

    def extra(self, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        del problems
        if isinstance(payload.get("oss_service"), bool):
            record["oss_service"] = payload["oss_service"]
