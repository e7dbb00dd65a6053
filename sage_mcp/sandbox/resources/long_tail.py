"""Sage's less used resources: stock, analysis types, opening balances, ledger account classifications and
migrated VAT returns - served so that the generic tools (``find_sage_endpoint``, ``sage_api_get``,
``sage_api_write``) work on them, with Sage's shapes and the checks a careful client relies on.

* ``/stock_items`` (all five): the product rules (:mod:`.products`: unique ``item_code``, sales and
  purchase ledger accounts, rates defaulting to the accounts') plus the stock fields; ``quantity_in_stock``
  moves with stock movements; an item with movements cannot be deleted (422 ``base``).
* ``/stock_movements`` (all five): ``stock_item_id``, ``date``, ``quantity`` (non-zero; negative takes
  stock out, never below zero), ``cost_price`` (>= 0), ``details``; numbered 1, 2, 3 ... (Sage allows
  four characters) unless ``movement_number`` is given.  Editing or deleting a movement moves the item's stock back.
* ``/analysis_types`` (list, get, PUT): three per business, seeded (Sage's fixed set; ``name`` and
  ``active_areas`` can be changed); ``/analysis_type_categories`` (all five): ``analysis_type_id`` and
  ``name`` required, ``code`` unique within the type.
* Opening balances: ``/contact_opening_balances`` (all five; type ``INVOICE`` or ``CREDIT_NOTE`` of
  ``/contact_opening_balance_types``, a customer or supplier, ``total_amount`` > 0, ``net_amount`` +
  ``tax_amount`` = ``total_amount`` when given), ``/ledger_account_opening_balances`` (all five; exactly
  one of ``debit``/``credit`` non-zero), ``/bank_opening_balances`` (all five; a ``/bank_accounts``
  record, one side non-zero) and ``/opening_balance_journals`` (list, get, create, delete; at least two
  lines, one side each, debits equal credits).  They are dated on or before the accounts start date (422
  otherwise).  **Not posted to the ledger**: the sandbox keeps and answers them, but balances, reports and
  the trial balance do not include them (a known gap).
* ``/ledger_account_classifications`` and ``/contact_opening_balance_types`` (list, get): fixed tables.
  The classification ids are the sandbox's own Sage-like choice (the spec enumerates none).
* ``/migration_tax_returns`` (list, get, create): VAT returns filed before the business moved to Sage
  (Sage holds GB box data only for those; there is no endpoint for returns made in Sage).  ``from_date``
  before ``to_date``, ``tax_return_frequency_id`` one of ``/tax_return_frequencies``, ``gb`` the nine
  boxes as decimal strings (box 3 = 1 + 2, box 5 = 3 - 4 to the penny, 422 otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import ZERO, decimal_str, money, to_decimal, total

from ..context import Context, currency_link, link, link_to
from ..errors import Problems, invalid
from .base import Collection, Query, sort_key
from .common import blank, check_lengths, find
from .contacts import contact_type_ids
from .lifecycle import BookCollection, accounts_start_date
from .products import Products
from .reference import TAX_RETURN_FREQUENCIES, Table

__all__ = ["long_tail_collections"]

CONTACT_OPENING_BALANCE_TYPES = {"INVOICE": "Invoice", "CREDIT_NOTE": "Credit Note"}
LEDGER_ACCOUNT_CLASSIFICATIONS = {
    "CURRENT_ASSETS": "Current Assets",
    "FIXED_ASSETS": "Fixed Assets",
    "CURRENT_LIABILITIES": "Current Liabilities",
    "LONG_TERM_LIABILITIES": "Long Term Liabilities",
    "CAPITAL_AND_RESERVES": "Capital and Reserves",
    "TURNOVER": "Turnover",
    "COST_OF_SALES": "Cost of Sales",
    "OVERHEADS": "Overheads",
    "OTHER_INCOME": "Other Income",
    "TAXATION": "Taxation",
}
ANALYSIS_TYPES = (
    ("Department", ["SALES", "PURCHASING", "OTHER"]),
    ("Cost Centre", ["SALES", "PURCHASING", "OTHER"]),
    ("Region", ["SALES"]),
)
GB_BOXES = tuple(f"box_{n}" for n in range(1, 10))


def _stamp(ctx: Context, kind: str, collection: str) -> dict[str, Any]:
    record_id = ctx.new_id(kind)
    return {
        "id": record_id,
        "displayed_as": "",
        "$path": f"/{collection}/{record_id}",
        "created_at": ctx.now_iso,
        "updated_at": ctx.now_iso,
    }


def _amount(problems: Problems, payload: Mapping[str, Any], field: str, *, at_least: Decimal | None = ZERO) -> Decimal:
    value = payload.get(field)
    if value is None:
        return ZERO
    amount = to_decimal(value)
    if at_least is not None and amount < at_least:
        problems.add(field, f"must be greater than or equal to {at_least}")
    return amount


def _one_side(problems: Problems, debit: Decimal, credit: Decimal, source: str = "debit", where: str = "") -> None:
    if (debit == ZERO) == (credit == ZERO):
        problems.add(source, "exactly one of debit and credit must be greater than 0" + where)


def _opening_date(ctx: Context, problems: Problems, date: object, source: str = "date") -> str | None:
    """An opening balance's date: on or before the accounts start date (what it opens)."""
    if blank(date):
        return None
    text = str(date)
    start = accounts_start_date(ctx)
    if start and text > start:
        problems.add(source, f"must be on or before the accounts start date {start} (later figures are transactions)")
    return text


# ---------------------------------------------------------------------------------------------- stock


class StockItems(Products):
    name = "stock_items"
    definition = "StockItem"
    root_key = "stock_item"
    label = "stock item"
    kind = "stock_item"
    required: ClassVar[tuple[str, ...]] = (
        "item_code",
        "description",
        "sales_ledger_account_id",
        "purchase_ledger_account_id",
    )
    _DECIMALS: ClassVar[tuple[str, ...]] = ("reorder_level", "reorder_quantity", "weight", "weight_converted")
    _TEXTS: ClassVar[tuple[str, ...]] = ("location", "barcode", "supplier_part_number", "measurement_unit")

    def skeleton(self, ctx: Context) -> dict[str, Any]:
        record = super().skeleton(ctx)
        record.pop("catalog_item_type", None)
        record.update({name: None for name in self._DECIMALS + self._TEXTS})
        record.update(
            {
                "quantity_in_stock": decimal_str(ZERO),
                "last_cost_price": None,
                "last_cost_price_stock_value": None,
                "average_cost_price": None,
                "average_cost_price_stock_value": None,
                "cost_price_last_updated": None,
            }
        )
        return record

    def extra(self, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        for name in self._DECIMALS:
            if name in payload:
                value = payload[name]
                if value is not None and to_decimal(value) < ZERO:
                    problems.add(name, "must be greater than or equal to 0")
                record[name] = None if value is None else decimal_str(to_decimal(value))
        for name in self._TEXTS:
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        if payload.get("quantity_in_stock") is not None and "_created" in record:
            problems.add("quantity_in_stock", "changes only with stock movements (POST /stock_movements)")
        elif payload.get("quantity_in_stock") is not None:
            quantity = to_decimal(payload["quantity_in_stock"])
            if quantity < ZERO:
                problems.add("quantity_in_stock", "must be greater than or equal to 0")
            record["quantity_in_stock"] = decimal_str(quantity)
        record["_created"] = True
        record["displayed_as"] = str(record["item_code"] or record["description"])

    def check_delete(self, ctx: Context, record: Mapping[str, Any]) -> None:
        if any(
            (m.get("stock_item") or {}).get("id") == record["id"]
            for m in ctx.store.all(ctx.business_id, "stock_movements")
        ):
            raise invalid("base", "This stock item has stock movements and cannot be deleted.")

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        self.check_delete(ctx, record)
        self.bury(ctx, record)
        return None


def move_stock(ctx: Context, problems: Problems, item: dict[str, Any], quantity: Decimal, cost: Decimal | None) -> None:
    """Add ``quantity`` (negative: take out) to the item's stock, never below zero."""
    held = to_decimal(item.get("quantity_in_stock") or "0") + quantity
    if held < ZERO:
        problems.add("quantity", f"would leave {decimal_str(held)} of {item['displayed_as']!r} in stock (below zero)")
        return
    item["quantity_in_stock"] = decimal_str(held)
    if cost is not None and quantity > ZERO:
        item["last_cost_price"] = decimal_str(cost)
        item["last_cost_price_stock_value"] = money(cost * held)
        item["cost_price_last_updated"] = ctx.today.isoformat()
    item["updated_at"] = ctx.now_iso
    ctx.put("stock_items", item)


class StockMovements(BookCollection):
    name = "stock_movements"
    definition = "StockMovement"
    root_key = "stock_movement"
    label = "stock movement"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    date_field = "date"
    newest_first = "date"
    search_fields = ("movement_number", "details", "reference")
    link_filters: ClassVar[Mapping[str, str]] = {"stock_item_id": "stock_item"}

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        record = _stamp(ctx, "stock_movement", self.name)
        record.update({"links": [], "movement_number": None, "date": None, "cost_price": None, "quantity": None})
        record.update({"details": None, "reference": None, "stock_item": None})
        return self._write(ctx, record, payload, creating=True)

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        return self._write(ctx, record, payload, creating=False)

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        problems = Problems()
        item = ctx.get("stock_items", str(record["stock_item"]["id"]))
        if item is not None:
            move_stock(ctx, problems, item, -to_decimal(record["quantity"]), None)
        problems.raise_if_any()
        self.bury(ctx, record)
        return None

    def _write(
        self, ctx: Context, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> dict[str, Any]:
        problems = Problems()
        check_lengths(problems, self.definition, payload)
        old_item = ctx.get("stock_items", str(record["stock_item"]["id"])) if record.get("stock_item") else None
        old_quantity = to_decimal(record["quantity"]) if record.get("quantity") is not None else ZERO
        item = old_item
        if creating or "stock_item_id" in payload:
            item = find(ctx, problems, "stock_item_id", "stock_items", "stock item", payload.get("stock_item_id"))
        if creating or "quantity" in payload:
            quantity = to_decimal(payload.get("quantity") or 0)
            if quantity == ZERO:
                problems.add("quantity", "must not be 0 (positive adds stock, negative takes it out)")
            record["quantity"] = decimal_str(quantity)
        if creating or "cost_price" in payload:
            record["cost_price"] = decimal_str(_amount(problems, payload, "cost_price"))
        if creating or "date" in payload:
            if blank(payload.get("date")):
                problems.add("date", "This field is required.")
            record["date"] = payload.get("date")
        for name in ("details", "reference"):
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        if blank(record.get("details")):
            problems.add("details", "This field is required.")
        problems.raise_if_any()
        assert item is not None
        if old_item is not None:
            move_stock(ctx, problems, old_item, -old_quantity, None)
            if old_item["id"] == item["id"]:
                item = old_item
        move_stock(ctx, problems, item, to_decimal(record["quantity"]), to_decimal(record["cost_price"]))
        problems.raise_if_any()
        record["stock_item"] = link_to("stock_items", item)
        if "movement_number" in payload and not blank(payload["movement_number"]):
            record["movement_number"] = str(payload["movement_number"])
        elif creating:
            record["movement_number"] = str(ctx.store.next_value(ctx.business_id, "stock_movement_number"))
        record["displayed_as"] = str(record["movement_number"])
        record["updated_at"] = ctx.now_iso
        (ctx.put_new if creating else ctx.put)(self.name, record)
        return record


# ---------------------------------------------------------------------------------------------- analysis


class AnalysisTypes(BookCollection):
    name = "analysis_types"
    definition = "AnalysisType"
    root_key = "analysis_type"
    label = "analysis type"
    operations = frozenset({"list", "get", "update"})

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        found = ctx.store.all(ctx.business_id, self.name)
        if found:
            return found
        for index, (name, areas) in enumerate(ANALYSIS_TYPES, start=1):
            record = _stamp(ctx, f"analysis_type_{index}", self.name)
            record.update(
                {
                    "displayed_as": name,
                    "name": name,
                    "active_areas": [{"id": a, "displayed_as": a.title()} for a in areas],
                    "analysis_type_level": [{"id": str(index), "displayed_as": f"Level {index}"}],
                    "analysis_type_categories": [],
                }
            )
            ctx.put_new(self.name, record)
        return ctx.store.all(ctx.business_id, self.name)

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        self.records(ctx)
        return super().load(ctx, key)

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return sort_key(str(record["analysis_type_level"][0]["id"]), record["id"])

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        categories = ctx.store.all(ctx.business_id, "analysis_type_categories")
        result = []
        for obj in super().render_many(ctx, records):
            mine = [c for c in categories if (c.get("analysis_type") or {}).get("id") == obj["id"]]
            obj["analysis_type_categories"] = [link_to("analysis_type_categories", c) for c in mine]
            result.append(obj)
        return result

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        check_lengths(problems, self.definition, payload)
        if "name" in payload:
            if blank(payload["name"]):
                problems.add("name", "can't be blank")
            else:
                record["name"] = record["displayed_as"] = str(payload["name"])
        if payload.get("active_areas") is not None:
            areas = [str(a.get("id") if isinstance(a, Mapping) else a).upper() for a in payload["active_areas"]]
            unknown = [a for a in areas if a not in ("SALES", "PURCHASING", "OTHER")]
            if unknown:
                problems.add("active_areas", f"unknown areas {unknown}: use SALES, PURCHASING or OTHER")
            record["active_areas"] = [{"id": a, "displayed_as": a.title()} for a in areas]
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record


class AnalysisTypeCategories(BookCollection):
    name = "analysis_type_categories"
    definition = "AnalysisTypeCategory"
    root_key = "analysis_type_category"
    label = "analysis type category"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    search_fields = ("code", "name")
    link_filters: ClassVar[Mapping[str, str]] = {"analysis_type_id": "analysis_type"}

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        record = _stamp(ctx, "analysis_type_category", self.name)
        record.update({"code": None, "name": None, "combined_id": None, "analysis_type": None})
        return self._write(ctx, record, payload, creating=True)

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        return self._write(ctx, record, payload, creating=False)

    def _write(
        self, ctx: Context, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> dict[str, Any]:
        problems = Problems()
        check_lengths(problems, self.definition, payload)
        if creating or "analysis_type_id" in payload:
            AnalysisTypes().records(ctx)
            kind = find(
                ctx, problems, "analysis_type_id", "analysis_types", "analysis type", payload.get("analysis_type_id")
            )
            if kind is not None:
                record["analysis_type"] = link_to("analysis_types", kind)
        for name in ("name", "code", "combined_id"):
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name]).strip()
        if blank(record.get("name")):
            problems.add("name", "This field is required.")
        code = record.get("code")
        kind_id = (record.get("analysis_type") or {}).get("id")
        for other in ctx.store.all(ctx.business_id, self.name):
            same_type = (other.get("analysis_type") or {}).get("id") == kind_id
            if (
                code
                and same_type
                and other["id"] != record["id"]
                and str(other.get("code") or "").casefold() == str(code).casefold()
            ):
                problems.add("code", f"has already been taken: {code!r}")
        problems.raise_if_any()
        record["displayed_as"] = str(record["name"])
        record["updated_at"] = ctx.now_iso
        (ctx.put_new if creating else ctx.put)(self.name, record)
        return record


# ---------------------------------------------------------------------------------------------- opening balances


class ContactOpeningBalanceTypes(Table):
    name = "contact_opening_balance_types"
    definition = "Base"
    label = "contact opening balance type"
    table = CONTACT_OPENING_BALANCE_TYPES


class LedgerAccountClassifications(Table):
    name = "ledger_account_classifications"
    definition = "Base"
    label = "ledger account classification"
    table = LEDGER_ACCOUNT_CLASSIFICATIONS


class _OpeningBalances(BookCollection):
    operations = frozenset({"list", "get", "create", "update", "delete"})

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        record = _stamp(ctx, str(self.root_key), self.name)
        record.update(self.blank_record())
        return self._write(ctx, record, payload, creating=True)

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        return self._write(ctx, record, payload, creating=False)

    def blank_record(self) -> dict[str, Any]:
        raise NotImplementedError

    def apply(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], creating: bool
    ) -> None:
        raise NotImplementedError

    def _write(
        self, ctx: Context, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> dict[str, Any]:
        problems = Problems()
        check_lengths(problems, self.definition, payload)
        self.apply(ctx, problems, record, payload, creating)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        (ctx.put_new if creating else ctx.put)(self.name, record)
        return record


class ContactOpeningBalances(_OpeningBalances):
    name = "contact_opening_balances"
    definition = "ContactOpeningBalance"
    root_key = "contact_opening_balance"
    label = "contact opening balance"
    date_field = "date"
    newest_first = "date"
    link_filters: ClassVar[Mapping[str, str]] = {"contact_id": "contact"}

    def blank_record(self) -> dict[str, Any]:
        fields = (
            "transaction",
            "deleted_at",
            "contact_opening_balance_type",
            "contact",
            "date",
            "reference",
            "details",
        )
        record: dict[str, Any] = dict.fromkeys(fields)
        record.update({"tax_rate": None, "tax_breakdown": [], "base_currency_tax_breakdown": []})
        record["transaction_type"] = None
        return record

    def apply(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], creating: bool
    ) -> None:
        if creating or "contact_opening_balance_type_id" in payload:
            type_id = str(payload.get("contact_opening_balance_type_id") or "").upper()
            if type_id not in CONTACT_OPENING_BALANCE_TYPES:
                problems.add("contact_opening_balance_type_id", "must be INVOICE or CREDIT_NOTE")
            else:
                record["contact_opening_balance_type"] = link(
                    "contact_opening_balance_types", type_id, CONTACT_OPENING_BALANCE_TYPES[type_id]
                )
        if creating or "contact_id" in payload:
            contact = find(ctx, problems, "contact_id", "contacts", "contact", payload.get("contact_id"))
            if contact is not None:
                record["contact"] = link_to("contacts", contact)
                customer = "CUSTOMER" in contact_type_ids(contact)
                kind = record.get("contact_opening_balance_type") or {}
                side = "SALES" if customer else "PURCHASE"
                suffix = "INVOICE" if kind.get("id") != "CREDIT_NOTE" else "CREDIT_NOTE"
                type_id = f"{side}_OPENING_BALANCE_{suffix}"
                record["transaction_type"] = link("transaction_types", type_id, type_id.replace("_", " ").title())
        if creating or "date" in payload:
            record["date"] = _opening_date(ctx, problems, payload.get("date"))
            if record["date"] is None:
                problems.add("date", "This field is required.")
        for name in ("reference", "details"):
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        if blank(record.get("reference")):
            problems.add("reference", "This field is required.")
        if "tax_rate_id" in payload and not blank(payload["tax_rate_id"]):
            rate = find(ctx, problems, "tax_rate_id", "tax_rates", "tax rate", payload["tax_rate_id"])
            record["tax_rate"] = link_to("tax_rates", rate) if rate else None
        if creating or "total_amount" in payload:
            gross = _amount(problems, payload, "total_amount")
            if gross <= ZERO:
                problems.add("total_amount", "must be greater than 0")
            net = to_decimal(payload["net_amount"]) if payload.get("net_amount") is not None else gross
            tax = to_decimal(payload["tax_amount"]) if payload.get("tax_amount") is not None else gross - net
            if net + tax != gross:
                problems.add("total_amount", f"must equal net_amount + tax_amount ({money(net + tax)})")
            for field, value in (("net_amount", net), ("tax_amount", tax), ("total_amount", gross)):
                record[field] = money(value)
                record[f"base_currency_{field}"] = money(value)
            record["currency"] = currency_link("GBP")
            record["exchange_rate"] = decimal_str(Decimal(1))
        record["displayed_as"] = str(record.get("reference") or "")


class LedgerAccountOpeningBalances(_OpeningBalances):
    name = "ledger_account_opening_balances"
    definition = "LedgerAccountOpeningBalance"
    root_key = "ledger_account_opening_balance"
    label = "ledger account opening balance"
    link_filters: ClassVar[Mapping[str, str]] = {"ledger_account_id": "ledger_account"}

    def blank_record(self) -> dict[str, Any]:
        return {"ledger_account": None, "details": None, "debit": money(ZERO), "credit": money(ZERO)}

    def apply(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], creating: bool
    ) -> None:
        if creating or "ledger_account_id" in payload:
            account = find(
                ctx,
                problems,
                "ledger_account_id",
                "ledger_accounts",
                "ledger account",
                payload.get("ledger_account_id"),
            )
            if account is not None:
                record["ledger_account"] = link_to("ledger_accounts", account)
                if any(
                    (o.get("ledger_account") or {}).get("id") == account["id"] and o["id"] != record["id"]
                    for o in ctx.store.all(ctx.business_id, self.name)
                ):
                    problems.add("ledger_account_id", "already has an opening balance: edit that one")
        for side in ("debit", "credit"):
            if side in payload:
                record[side] = money(_amount(problems, payload, side))
        _one_side(problems, to_decimal(record["debit"]), to_decimal(record["credit"]))
        if "details" in payload:
            record["details"] = None if blank(payload["details"]) else str(payload["details"])
        record["displayed_as"] = str((record.get("ledger_account") or {}).get("displayed_as") or "")


class BankOpeningBalances(_OpeningBalances):
    name = "bank_opening_balances"
    definition = "BankOpeningBalance"
    root_key = "bank_opening_balance"
    label = "bank opening balance"
    date_field = "date"
    link_filters: ClassVar[Mapping[str, str]] = {"bank_account_id": "bank_account"}

    def blank_record(self) -> dict[str, Any]:
        record: dict[str, Any] = dict.fromkeys(("transaction", "bank_account", "date"))
        record.update({"debit": money(ZERO), "credit": money(ZERO)})
        record["transaction_type"] = link("transaction_types", "BANK_OPENING_BALANCE", "Bank Opening Balance")
        return record

    def apply(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], creating: bool
    ) -> None:
        if creating or "bank_account_id" in payload:
            bank = find(
                ctx, problems, "bank_account_id", "bank_accounts", "bank account", payload.get("bank_account_id")
            )
            if bank is not None:
                record["bank_account"] = link_to("bank_accounts", bank)
                if any(
                    (o.get("bank_account") or {}).get("id") == bank["id"] and o["id"] != record["id"]
                    for o in ctx.store.all(ctx.business_id, self.name)
                ):
                    problems.add("bank_account_id", "already has an opening balance: edit that one")
        if creating or "date" in payload:
            record["date"] = _opening_date(ctx, problems, payload.get("date"))
            if record["date"] is None:
                problems.add("date", "This field is required.")
        for side in ("debit", "credit"):
            if side in payload:
                record[side] = money(_amount(problems, payload, side))
        _one_side(problems, to_decimal(record["debit"]), to_decimal(record["credit"]))
        record["displayed_as"] = str((record.get("bank_account") or {}).get("displayed_as") or "")


class OpeningBalanceJournals(_OpeningBalances):
    name = "opening_balance_journals"
    definition = "OpeningBalanceJournal"
    root_key = "opening_balance_journal"
    label = "opening balance journal"
    operations = frozenset({"list", "get", "create", "delete"})
    date_field = "date"
    newest_first = "date"

    def blank_record(self) -> dict[str, Any]:
        record: dict[str, Any] = dict.fromkeys(("transaction", "deleted_at", "date", "reference"))
        record["transaction_type"] = link("transaction_types", "JOURNAL_OPENING_BALANCE", "Opening Balance Journal")
        record["journal_lines"] = []
        return record

    def apply(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], creating: bool
    ) -> None:
        del creating
        record["date"] = _opening_date(ctx, problems, payload.get("date")) or accounts_start_date(ctx)
        record["reference"] = None if blank(payload.get("reference")) else str(payload["reference"])
        lines = payload.get("journal_lines") or []
        if len(lines) < 2:
            problems.add("journal_lines", "needs at least two lines")
        built = []
        for index, line in enumerate(lines):
            where = f" (journal_lines item {index + 1})"
            account = find(
                ctx,
                problems,
                "journal_lines.ledger_account_id",
                "ledger_accounts",
                "ledger account",
                line.get("ledger_account_id"),
                where,
            )
            debit, credit = (_amount(problems, line, side) for side in ("debit", "credit"))
            _one_side(problems, debit, credit, "journal_lines.debit", where)
            built.append(
                {
                    "id": ctx.new_id("opening_balance_journal_line"),
                    "displayed_as": str(line.get("details") or ""),
                    "ledger_account": link_to("ledger_accounts", account) if account else None,
                    "details": None if blank(line.get("details")) else str(line["details"]),
                    "debit": money(debit),
                    "credit": money(credit),
                }
            )
        debits = total(to_decimal(b["debit"]) for b in built)
        credits = total(to_decimal(b["credit"]) for b in built)
        if built and debits != credits:
            problems.add("journal_lines", f"debits ({money(debits)}) and credits ({money(credits)}) must be equal")
        record["journal_lines"] = built
        record["displayed_as"] = str(record["reference"] or "Opening balances")


# ---------------------------------------------------------------------------------------------- migrated VAT returns


class MigrationTaxReturns(BookCollection):
    name = "migration_tax_returns"
    definition = "MigrationTaxReturn"
    root_key = "migration_tax_return"
    label = "migration tax return"
    operations = frozenset({"list", "get", "create"})

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return sort_key(str(record["to_date"]), record["id"])

    order_descending = True

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        record = _stamp(ctx, "migration_tax_return", self.name)
        start, end = str(payload.get("from_date") or ""), str(payload.get("to_date") or "")
        if start and end and start > end:
            problems.add("to_date", "must be on or after from_date")
        frequency = str(payload.get("tax_return_frequency_id") or "").upper()
        if frequency not in TAX_RETURN_FREQUENCIES:
            problems.add("tax_return_frequency_id", f"must be one of {', '.join(TAX_RETURN_FREQUENCIES)}")
        boxes: dict[str, Any] = {}
        gb = payload.get("gb")
        if isinstance(gb, Mapping):
            values = {box: to_decimal(gb[box]) for box in GB_BOXES if gb.get(box) is not None}
            if {"box_1", "box_2", "box_3"} <= set(values) and values["box_1"] + values["box_2"] != values["box_3"]:
                problems.add("gb.box_3", "must equal box_1 + box_2")
            if {"box_3", "box_4", "box_5"} <= set(values) and values["box_3"] - values["box_4"] != values["box_5"]:
                problems.add("gb.box_5", "must equal box_3 - box_4")
            boxes = {box: money(values[box]) if box in values else None for box in GB_BOXES}
        problems.raise_if_any()
        record.update(
            {
                "displayed_as": f"VAT return {start} to {end}",
                "from_date": start,
                "to_date": end,
                "tax_return_frequency": link("tax_return_frequencies", frequency, TAX_RETURN_FREQUENCIES[frequency]),
                "total_amount": money(to_decimal(payload.get("total_amount") or 0)),
                "gb": boxes or None,
                "ie": None,
            }
        )
        ctx.put_new(self.name, record)
        return record


def long_tail_collections() -> list[Collection]:
    return [
        StockItems(),
        StockMovements(),
        AnalysisTypes(),
        AnalysisTypeCategories(),
        ContactOpeningBalanceTypes(),
        ContactOpeningBalances(),
        LedgerAccountOpeningBalances(),
        BankOpeningBalances(),
        OpeningBalanceJournals(),
        LedgerAccountClassifications(),
        MigrationTaxReturns(),
    ]
