"""Sales and purchase artefacts: one engine for invoices, credit notes, quotes and estimates.

A concrete collection only names its resource, spec definition, line key, number prefix and side
(sales or purchases); everything else is here (the root key, label, number sequence, line
definition, search fields and transaction type follow from the name and definition unless a class
sets them).  Records carry every property of their spec
definition (``null``/``[]`` when the sandbox has nothing to say) and nothing else, apart from
private ``_``-prefixed keys.

Totals are computed here and nowhere else (the seed data uses the same code):

* line: ``net = round(quantity x unit_price - discount)``; ``tax = round(net x rate / 100)``;
  ``total = net + tax`` (with ``unit_price_includes_tax`` the tax is taken out of the gross instead);
* artefact: net, tax and total are the sums of the lines;
* rounding is to pennies, half-up; all arithmetic is ``Decimal``.

Posted artefacts (:class:`PostedArtefact`: invoices and credit notes) get a balanced transaction
(:mod:`..ledger`) when they leave ``DRAFT``; what was paid or allocated to them is tracked by
:mod:`.settlement`.  Quotes and estimates (:class:`QuoteArtefact`) post nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import HUNDRED, ZERO, decimal_str, money, round_money, tax_on, tax_within, to_decimal, total

from ...sage import spec
from ..context import Context, country_link, currency_link, link, public
from ..errors import Problems, invalid
from ..ledger import (
    CREDITORS_CONTROL,
    DEBTORS_CONTROL,
    PURCHASE_TAX_CONTROL,
    SALES_TAX_CONTROL,
    Posting,
    account_by_nominal,
    post_transaction,
    replace_postings,
    reverse_transaction,
)
from .base import Collection, Condition, Query, Record, link_condition, query_bool, sort_key
from .common import (
    ADDRESS_TEXT_FIELDS,
    address_text,
    apply_country_and_type,
    artefact_address,
    blank,
    check_lengths,
    find,
)
from .contacts import contact_type_ids
from .lifecycle import attached_ids, check_lockdown, check_tax_reconciled, is_tax_reconciled
from .settlement import STATUSES, payments_allocations, settle, status_link

__all__ = [
    "PURCHASES",
    "QUOTE_STATUSES",
    "SALES",
    "STATUSES",
    "Artefact",
    "PostedArtefact",
    "QuoteArtefact",
    "Side",
    "quote_status_link",
    "signed",
    "status_link",
]

QUOTE_STATUSES = {
    "DRAFT": "Draft",
    "PENDING": "Pending",
    "ACCEPTED": "Accepted",
    "DECLINED": "Declined",
    "INVOICED": "Invoiced",
}
DEFAULT_CREDIT_DAYS = 30
_ZERO_RATE_KINDS = ("ZERO", "EXEMPT", "NO_TAX")
_ZERO_MONEY_FIELDS = (
    "shipping_net_amount",
    "shipping_tax_amount",
    "shipping_total_amount",
    "base_currency_shipping_net_amount",
    "base_currency_shipping_tax_amount",
    "base_currency_shipping_total_amount",
    "payments_allocations_total_amount",
    "payments_allocations_total_discount",
    "total_paid",
)
_FALSE_FIELDS = (
    "sent",
    "sent_by_email",
    "vat_reverse_charge",
    "destination_consignment",
    "destination_vat_rates_in_use",
    "tax_reconciled",
    "migrated",
    "is_cis",
    "has_cis_labour",
    "has_cis_materials",
    "postponed_accounting",
    "vat_exempt_consignment",
    "import",
    "part_recoverable",
)
_TEXT_FIELDS = ("contact_name", "contact_reference", "reference", "vendor_reference", "notes", "terms_and_conditions")


@dataclass(frozen=True)
class Side:
    """What differs between the sales and the purchase side of the books."""

    contact_type: str
    party: str
    account_flag: str
    usage: str
    control: int
    tax_control: int


SALES = Side("CUSTOMER", "customer", "visible_in_sales", "sales", DEBTORS_CONTROL, SALES_TAX_CONTROL)
PURCHASES = Side("VENDOR", "supplier", "visible_in_expenses", "purchase", CREDITORS_CONTROL, PURCHASE_TAX_CONTROL)


def quote_status_link(status_id: str) -> dict[str, Any]:
    return {"id": status_id, "displayed_as": QUOTE_STATUSES[status_id]}


def signed(account_id: str, amount: Decimal, details: str, *, debit: bool) -> Posting:
    """A posting of ``amount`` on the debit (or credit) side; negative amounts flip sides."""
    if (amount >= ZERO) == debit:
        return Posting(account_id, debit=abs(amount), details=details)
    return Posting(account_id, credit=abs(amount), details=details)


@functools.cache
def spec_fields(definition: str) -> tuple[str, ...]:
    """The properties of a spec definition, in the spec's order."""
    return tuple(spec.load_spec()["definitions"][definition].get("properties", {}))


@functools.cache
def _array_fields(definition: str) -> frozenset[str]:
    props = spec.load_spec()["definitions"][definition].get("properties", {})
    return frozenset(name for name, p in props.items() if p.get("type") == "array")


def shaped(definition: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` cut to the definition's properties, the missing ones ``null`` (arrays ``[]``)."""
    fields = spec_fields(definition)
    arrays = _array_fields(definition)
    result: dict[str, Any] = {name: ([] if name in arrays else None) for name in fields}
    result.update({k: v for k, v in values.items() if k in fields or k.startswith("_")})
    return result


def _at(items: list[tuple[str, int]]) -> str:
    return "".join(f" ({name} item {index + 1})" for name, index in items)


def _add(problems: Problems, source: str, message: str, where: list[tuple[str, int]] | None = None) -> None:
    problems.add(source, message + _at(where or []))


def _opt_decimal(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


def status_condition(query: Query, statuses: Mapping[str, str]) -> Condition | None:
    """``status_id``: one status or several, comma-separated; an unknown one is a 422."""
    raw = (query.get("status_id") or "").strip().upper()
    if not raw:
        return None
    wanted = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = sorted(wanted - set(statuses))
    if unknown:
        raise invalid("status_id", f"must be one of {', '.join(statuses)} (not {', '.join(unknown)})")
    marks = ", ".join("?" for _ in wanted)
    return Condition(lambda i: i["status"]["id"] in wanted, f"status IN ({marks})" if wanted else "0", tuple(wanted))


def attachments_condition(ctx: Context, query: Query) -> Condition | None:
    """``has_attachments`` of artefacts and payments: an attachment on the record or its transaction."""
    wanted = query_bool(query, "has_attachments", digits=True)
    if wanted is None:
        return None
    ids = attached_ids(ctx)

    def has(item: Record) -> bool:
        transaction = item.get("transaction") or {}
        return item["id"] in ids or transaction.get("id") in ids

    return Condition(lambda i: has(i) == wanted)


def dated_number_key(record: Record) -> bytes:
    """Artefacts, payments and allocations list newest first: by date, then by number."""
    return sort_key(record["date"], int(record["_number"]))


class Artefact(Collection):
    """What every artefact collection shares: composition, lines, totals, filters, rendering."""

    side: ClassVar[Side]
    lines_key: ClassVar[str]
    line_definition: ClassVar[str]
    number_field: ClassVar[str | None] = None
    number_prefix: ClassVar[str]
    sequence: ClassVar[str]
    due_field: ClassVar[str | None] = None
    default_due_from_credit_days: ClassVar[bool] = False
    quantity_required: ClassVar[bool] = False
    statuses: ClassVar[dict[str, str]] = STATUSES
    create_statuses: ClassVar[tuple[str, ...]] = ("DRAFT", "UNPAID")
    default_status: ClassVar[str] = "UNPAID"
    editable_statuses: ClassVar[tuple[str, ...]] = ("DRAFT", "UNPAID")
    operations = frozenset({"list", "get", "create", "update", "delete"})
    date_field = "date"
    sql_lists = True
    order_descending = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        own = cls.__dict__
        if "name" in own:
            root = cls.name.removesuffix("s")
            cls.root_key = own.get("root_key", root)
            cls.label = own.get("label", root.replace("_", " "))
            cls.sequence = own.get("sequence", f"{root}_number")
            cls.line_definition = own.get("line_definition", f"{cls.definition}LineItem")
            number = cls.number_field or "vendor_reference"
            cls.search_fields = own.get("search_fields", ("reference", number, "contact_name", "contact.displayed_as"))
        super().__init_subclass__(**kwargs)

    # ------------------------------------------------------------------ reading

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        for condition in (
            status_condition(query, self.statuses),
            link_condition(query, "contact_id", "contact"),
            attachments_condition(ctx, query),
        ):
            if condition is not None:
                result.append(condition)
        return result

    def order_key(self, record: Record) -> bytes:
        """Newest first: date descending, then number descending."""
        return dated_number_key(record)

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        show = query_bool(ctx.query, "show_payments_allocations", digits=True)
        result = []
        for record in records:
            obj = public(record)
            reconciled = "tax_reconciled" in obj and is_tax_reconciled(ctx, record)
            if reconciled:
                obj["tax_reconciled"] = True
            if "editable" in obj:
                obj["editable"] = (
                    record["status"]["id"] in self.editable_statuses and not record.get("deleted_at") and not reconciled
                )
            if "payments_allocations" in obj:
                if show:
                    obj["payments_allocations"] = payments_allocations(record)
                else:
                    del obj["payments_allocations"]
            result.append(obj)
        return result

    # ------------------------------------------------------------------ building

    def displayed_as(self, record: Mapping[str, Any]) -> str:
        if self.number_field:
            return str(record[self.number_field])
        return f"{self.number_prefix}{record['_number']}"

    def new_record(self, ctx: Context, status: dict[str, Any]) -> dict[str, Any]:
        record_id = ctx.new_id(self.root_key or self.name)
        values: dict[str, Any] = {
            "id": record_id,
            "displayed_as": "",
            "$path": f"/{self.name}/{record_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "editable": True,
            "currency": currency_link("GBP"),
            "exchange_rate": "1.00",
            "inverse_exchange_rate": "1.00",
            "status": status,
            "tax_calculation_method": "invoice",
            "_allocations": [],
        }
        if self.number_field:
            values[f"{self.number_field}_prefix"] = self.number_prefix
        values.update(dict.fromkeys(_ZERO_MONEY_FIELDS, money(ZERO)))
        values.update(dict.fromkeys(_FALSE_FIELDS, False))
        return shaped(self.definition, values)

    def compose(
        self,
        ctx: Context,
        problems: Problems,
        record: dict[str, Any],
        payload: Mapping[str, Any],
        *,
        creating: bool,
    ) -> None:
        """Apply a create or (partial) update body to ``record``; problems are collected."""
        check_lengths(problems, self.definition, payload)
        contact = None
        if creating or "contact_id" in payload:
            contact_id = payload.get("contact_id")
            if blank(contact_id):
                problems.add("contact_id", "This field is required.")
            else:
                contact = ctx.get("contacts", str(contact_id))
                if contact is None or self.side.contact_type not in contact_type_ids(contact):
                    what = "does not exist" if contact is None else f"is not a {self.side.party}"
                    problems.add("contact_id", f"can't find {self.side.party}: the contact {contact_id!r} {what}")
                    contact = None
        if contact is not None:
            record["contact"] = link("contacts", contact["id"], contact["displayed_as"])
            record["contact_name"] = contact["name"]
            record["contact_reference"] = contact.get("reference")
            if "main_address" in record:
                record["main_address"] = artefact_address(contact.get("main_address"))
            if "delivery_address" in record:
                record["delivery_address"] = artefact_address(contact.get("delivery_address"))
        for field in ("main_address", "delivery_address"):
            value = payload.get(field)
            if isinstance(value, Mapping) and field in record:
                record[field] = self._address(problems, field, value, record.get(field))
        for field in _TEXT_FIELDS:
            if field in payload and field in record:
                record[field] = None if blank(payload[field]) else str(payload[field])
        if isinstance(payload.get("sent"), bool) and "sent" in record:
            record["sent"] = payload["sent"]
        if "original_invoice_date" in payload and "original_invoice_date" in record:
            record["original_invoice_date"] = payload["original_invoice_date"]
        self._compose_dates(problems, record, payload, contact, creating=creating)
        if not blank(payload.get("currency_id")) and payload["currency_id"] != "GBP":
            problems.add("currency_id", "must be GBP (the sandbox has no foreign currencies yet)")
        for field in ("exchange_rate", "inverse_exchange_rate"):
            rate = _opt_decimal(payload.get(field))
            if rate is not None and rate != Decimal(1):
                problems.add(field, "must be 1 (the sandbox has no foreign currencies yet)")
        shipping = _opt_decimal(payload.get("shipping_net_amount"))
        if shipping is not None and shipping != ZERO:
            problems.add("shipping_net_amount", "shipping charges are not supported by the sandbox yet")
        if creating or self.lines_key in payload:
            lines_payload = payload.get(self.lines_key)
            if not lines_payload:
                problems.add(self.lines_key, f"must contain at least one line ({self.lines_key})")
            else:
                record[self.lines_key] = [
                    self._line(ctx, problems, index, line) for index, line in enumerate(lines_payload)
                ]
        if problems:
            return
        self.compute_totals(record)
        for field in ("net_amount", "tax_amount", "total_amount"):
            supplied = _opt_decimal(payload.get(field))
            if supplied is not None and round_money(supplied) != to_decimal(record[field]):
                problems.add(field, f"does not match the {self.lines_key}: expected {record[field]}")
        if to_decimal(record["total_amount"]) < ZERO:
            problems.add("base", f"The {self.label} total cannot be negative.")

    def _compose_dates(
        self,
        problems: Problems,
        record: dict[str, Any],
        payload: Mapping[str, Any],
        contact: Mapping[str, Any] | None,
        *,
        creating: bool,
    ) -> None:
        if creating or "date" in payload:
            if blank(payload.get("date")):
                problems.add("date", "This field is required.")
            else:
                record["date"] = str(payload["date"])
        due = self.due_field
        if due is None:
            return
        if due in payload and not blank(payload[due]):
            record[due] = str(payload[due])
        elif creating and self.default_due_from_credit_days and record.get("date"):
            days = contact.get("credit_days") if contact else None
            delta = dt.timedelta(days=DEFAULT_CREDIT_DAYS if days is None else int(days))
            record[due] = (dt.date.fromisoformat(record["date"]) + delta).isoformat()
        elif creating or (due in payload and blank(payload[due])):
            problems.add(due, "This field is required.")
        if record.get("date") and record.get(due) and record[due] < record["date"]:
            problems.add(due, f"must be on or after the {self.label} date")

    @staticmethod
    def _address(
        problems: Problems, source: str, payload: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """A ``SalesArtefactAddress`` from the address object of a request (over the contact's)."""
        check_lengths(problems, "Address", payload, source + ".")
        address: dict[str, Any] = dict(existing) if existing else {"id": None, "displayed_as": None, "$path": None}
        address.setdefault("country", country_link("GB"))
        address.setdefault("address_type", None)
        address["country_group"] = None
        address["deleted_at"] = None
        for name in ADDRESS_TEXT_FIELDS:
            if name in payload:
                address[name] = None if blank(payload[name]) else str(payload[name]).strip()
            address.setdefault(name, None)
        apply_country_and_type(problems, source, address, payload)
        address["displayed_as"] = address_text(address)
        return address

    def _line(self, ctx: Context, problems: Problems, index: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """One line, computed; a PUT with lines replaces all lines."""
        where = [(self.lines_key, index)]
        src = self.lines_key + "."
        check_lengths(problems, self.line_definition, payload, src)
        if blank(payload.get("description")):
            _add(problems, src + "description", "This field is required.", where)
        account_id = payload.get("ledger_account_id")
        source = src + "ledger_account_id"
        account = find(ctx, problems, source, "ledger_accounts", "ledger account", account_id, _at(where))
        if account is not None and not account.get(self.side.account_flag):
            usage = self.side.usage
            _add(
                problems,
                source,
                f"The ledger account {account['displayed_as']!r} cannot be used on {usage} artefacts.",
                where,
            )
            account = None
        rate = None
        rate_id = payload.get("tax_rate_id")
        if blank(rate_id) and account is not None and account.get("tax_rate"):
            rate_id = account["tax_rate"]["id"]
        if blank(rate_id):
            if account is not None:
                _add(problems, src + "tax_rate_id", "This field is required.", where)
        else:
            rate = ctx.get("tax_rates", str(rate_id))
            if rate is None:
                _add(problems, src + "tax_rate_id", f"The tax rate {rate_id!r} was not found.", where)
        quantity = _opt_decimal(payload.get("quantity"))
        if quantity is None:
            if self.quantity_required:
                _add(problems, src + "quantity", "This field is required.", where)
            quantity = Decimal(1)
        if quantity <= ZERO:
            _add(problems, src + "quantity", "must be greater than 0", where)
        unit_price = _opt_decimal(payload.get("unit_price"))
        if unit_price is None:
            _add(problems, src + "unit_price", "This field is required.", where)
            unit_price = ZERO
        gross = quantity * unit_price
        discount = _opt_decimal(payload.get("discount_amount"))
        percentage = _opt_decimal(payload.get("discount_percentage"))
        if discount is None and percentage is not None:
            if not ZERO <= percentage <= HUNDRED:
                _add(problems, src + "discount_percentage", "must be between 0 and 100", where)
            discount = round_money(gross * percentage / HUNDRED)
        discount = ZERO if discount is None else discount
        if discount < ZERO or (gross >= ZERO and discount > gross):
            _add(problems, src + "discount_amount", "must be between 0 and the line amount", where)
        if percentage is None:
            percentage = ZERO if gross == ZERO else round_money(discount * HUNDRED / gross)
        includes_tax = payload.get("unit_price_includes_tax") is True
        line_amount = round_money(gross - discount)
        rate_pct = to_decimal(rate["percentage"]) if rate else ZERO
        if includes_tax:
            tax = tax_within(line_amount, rate_pct)
            net = line_amount - tax
        else:
            net = line_amount
            tax = tax_on(net, rate_pct)
        line_total = net + tax
        supplied_tax = _opt_decimal(payload.get("tax_amount"))
        if (
            ctx.config.line_tax_amount_required
            and supplied_tax is None
            and rate is not None
            and rate.get("_kind") not in _ZERO_RATE_KINDS
        ):
            _add(problems, src + "tax_amount", "This field is required (the tax rate is not zero).", where)
        for field, computed in (("net_amount", net), ("tax_amount", tax), ("total_amount", line_total)):
            supplied = supplied_tax if field == "tax_amount" else _opt_decimal(payload.get(field))
            if supplied is not None and round_money(supplied) != computed:
                _add(problems, src + field, f"does not match the line: expected {money(computed)}", where)
        description = str(payload.get("description") or "")
        recoverable = payload.get("tax_recoverable")
        values = {
            "id": ctx.new_id(self.line_definition),
            "displayed_as": description,
            "description": description,
            "ledger_account": link("ledger_accounts", account["id"], account["displayed_as"]) if account else None,
            "trade_of_asset": bool(payload.get("trade_of_asset") or False),
            "quantity": decimal_str(quantity),
            "unit_price": decimal_str(unit_price),
            "net_amount": money(net),
            "tax_rate": link("tax_rates", rate["id"], rate["displayed_as"]) if rate else None,
            "tax_amount": money(tax),
            "total_amount": money(line_total),
            "base_currency_unit_price": decimal_str(unit_price),
            "unit_price_includes_tax": includes_tax,
            "base_currency_net_amount": money(net),
            "base_currency_tax_amount": money(tax),
            "base_currency_total_amount": money(line_total),
            "discount_amount": money(discount),
            "base_currency_discount_amount": money(discount),
            "discount_percentage": decimal_str(percentage),
            "is_purchase_for_resale": bool(payload.get("is_purchase_for_resale") or False),
            "tax_recoverable": recoverable if isinstance(recoverable, bool) else None,
        }
        return shaped(self.line_definition, values)

    def compute_totals(self, record: dict[str, Any]) -> None:
        lines = record[self.lines_key]
        net = total(to_decimal(line["net_amount"]) for line in lines)
        tax = total(to_decimal(line["tax_amount"]) for line in lines)
        discount = total(to_decimal(line.get("discount_amount") or "0") for line in lines)
        analysis: dict[str, dict[str, Any]] = {}
        for line in lines:
            rate = line["tax_rate"]
            key = rate["id"] if rate else ""
            entry = analysis.setdefault(key, {"tax_rate": rate, "net": ZERO, "tax": ZERO})
            entry["net"] += to_decimal(line["net_amount"])
            entry["tax"] += to_decimal(line["tax_amount"])
        values = {
            "tax_analysis": [
                {
                    "tax_rate": entry["tax_rate"],
                    "net_amount": money(entry["net"]),
                    "tax_amount": money(entry["tax"]),
                    "total_amount": money(entry["net"] + entry["tax"]),
                    "goods_amount": money(entry["net"]),
                    "service_amount": money(ZERO),
                }
                for entry in analysis.values()
            ],
            "net_amount": money(net),
            "tax_amount": money(tax),
            "total_amount": money(net + tax),
            "base_currency_net_amount": money(net),
            "base_currency_tax_amount": money(tax),
            "base_currency_total_amount": money(net + tax),
            "total_quantity": decimal_str(total(to_decimal(line["quantity"]) for line in lines)),
            "total_discount_amount": money(discount),
            "base_currency_total_discount_amount": money(discount),
        }
        record.update({k: v for k, v in values.items() if k in record})
        if "outstanding_amount" in record:
            settle(record)

    def assign_number(self, ctx: Context, record: dict[str, Any]) -> None:
        number = ctx.store.next_value(ctx.business_id, self.sequence)
        record["_number"] = number
        if self.number_field:
            record[self.number_field] = f"{self.number_prefix}{number}"
        record["displayed_as"] = self.displayed_as(record)

    def check_status_on_create(self, problems: Problems, payload: Mapping[str, Any]) -> str:
        status_id = str(payload.get("status_id") or self.default_status).upper()
        if status_id not in self.create_statuses:
            problems.add("status_id", f"must be {' or '.join(self.create_statuses)} when creating a {self.label}")
            status_id = self.default_status
        return status_id

    # hooks for subclasses
    def check_extra(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> None:
        """Further checks of a body (sales invoices: the quote being converted)."""

    def after_create(self, ctx: Context, record: dict[str, Any]) -> None:
        """Called once a new record is stored."""

    def after_removal(self, ctx: Context, record: dict[str, Any]) -> None:
        """Called once a record was voided or deleted."""


class PostedArtefact(Artefact):
    """Invoices and credit notes: ``DRAFT`` -> ``UNPAID`` -> ``PART_PAID`` -> ``PAID``; ``VOID``."""

    transaction_type: ClassVar[tuple[str, str]]
    #: Whether posting debits the control account (sales invoices, purchase credit notes).
    debit_control: ClassVar[bool]
    #: Sales artefacts are voided by ``DELETE`` (200); purchase artefacts are deleted (204).
    voids: ClassVar[bool] = False
    actions = frozenset({"release"})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__ and "transaction_type" not in cls.__dict__:
            cls.transaction_type = (str(cls.root_key).upper(), cls.label.title())

    def new_record(self, ctx: Context, status: dict[str, Any]) -> dict[str, Any]:
        record = super().new_record(ctx, status)
        record["transaction_type"] = link("transaction_types", *self.transaction_type)
        return record

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        status_id = self.check_status_on_create(problems, payload)
        record = self.new_record(ctx, status_link(status_id))
        self.compose(ctx, problems, record, payload, creating=True)
        self.check_extra(ctx, problems, record, payload, creating=True)
        if status_id != "DRAFT":
            check_lockdown(ctx, problems, record.get("date"))
        problems.raise_if_any()
        self.assign_number(ctx, record)
        if status_id != "DRAFT":
            record["transaction"] = self.post(ctx, record)
        settle(record)
        ctx.put_new(self.name, record)
        self.after_create(ctx, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        status_id = record["status"]["id"]
        if status_id == "VOID":
            raise invalid("base", f"A void {self.label} cannot be edited.")
        if status_id in ("PAID", "PART_PAID"):
            raise invalid("base", f"A {self.label} with payments or allocations cannot be edited.")
        problems = Problems()
        requested = payload.get("status_id")
        if requested is not None and str(requested).upper() != status_id:
            problems.add("status_id", "cannot be changed with PUT (use /release to post a draft)")
        if status_id != "DRAFT":
            check_lockdown(ctx, problems, record.get("date"))
        if not problems:
            check_tax_reconciled(ctx, record, self.label, "edited")
        self.compose(ctx, problems, record, payload, creating=False)
        self.check_extra(ctx, problems, record, payload, creating=False)
        if status_id != "DRAFT":
            check_lockdown(ctx, problems, record.get("date"))
        problems.raise_if_any()
        record["displayed_as"] = self.displayed_as(record)
        record["updated_at"] = ctx.now_iso
        if status_id == "UNPAID" and record.get("transaction"):
            replace_postings(
                ctx, record["transaction"]["id"], self.postings(ctx, record), record["date"], record["displayed_as"]
            )
        ctx.put(self.name, record)
        return record

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        status_id = record["status"]["id"]
        if status_id == "VOID":
            raise invalid("base", f"The {self.label} has already been voided.")
        if status_id in ("PAID", "PART_PAID"):
            verb = "voided" if self.voids else "deleted"
            raise invalid(
                "base",
                f"The {self.label} is {STATUSES[status_id].lower()} and cannot be {verb}: "
                "remove its payments and allocations first.",
            )
        if status_id != "DRAFT":
            closed = Problems()
            check_lockdown(ctx, closed, record.get("date"))
            closed.raise_if_any()
        check_tax_reconciled(ctx, record, self.label, "voided" if self.voids else "deleted")
        if status_id == "DRAFT" or not self.voids:
            self.bury_posted(ctx, record)
            self.after_removal(ctx, record)
            return None
        reason = (query.get("void_reason") or "").strip()
        if not reason:
            raise invalid("void_reason", "This field is required (it may only be left out for a draft).")
        limit = 200
        if len(reason) > limit:
            raise invalid("void_reason", f"is too long (maximum is {limit} characters)")
        if record.get("transaction"):
            # Sage removes a voided document's values from the accounts: the mirror entries are dated
            # on the document's own date, so no period (its VAT return included) still counts it
            reverse_transaction(
                ctx, record["transaction"]["id"], f"Void {record['displayed_as']}: {reason}", date=str(record["date"])
            )
        record["status"] = status_link("VOID")
        record["void_reason"] = reason
        record["updated_at"] = ctx.now_iso
        settle(record)
        ctx.put(self.name, record)
        self.after_removal(ctx, record)
        return record

    def action(self, ctx: Context, record: dict[str, Any], action: str) -> dict[str, Any]:
        if action != "release":  # pragma: no cover - the router only sends declared actions
            raise invalid("base", f"unknown action {action}")
        if record["status"]["id"] != "DRAFT":
            raise invalid("base", f"Only a draft {self.label} can be released.")
        closed = Problems()
        check_lockdown(ctx, closed, record.get("date"))
        closed.raise_if_any()
        record["status"] = status_link("UNPAID")
        record["updated_at"] = ctx.now_iso
        record["transaction"] = self.post(ctx, record)
        settle(record)
        ctx.put(self.name, record)
        return record

    # ------------------------------------------------------------------ bookkeeping

    def postings(self, ctx: Context, record: Mapping[str, Any]) -> list[Posting]:
        """Control account against the lines' accounts and the tax control account."""
        details = str(record["displayed_as"])
        control = account_by_nominal(ctx, self.side.control)["id"]
        tax_account = account_by_nominal(ctx, self.side.tax_control)["id"]
        by_account: dict[str, Decimal] = {}
        for line in record[self.lines_key]:
            account_id = line["ledger_account"]["id"]
            by_account[account_id] = by_account.get(account_id, ZERO) + to_decimal(line["net_amount"])
        lines_debit = not self.debit_control
        postings = [signed(control, to_decimal(record["total_amount"]), details, debit=self.debit_control)]
        postings += [signed(acc, amount, details, debit=lines_debit) for acc, amount in by_account.items()]
        tax = to_decimal(record["tax_amount"])
        if tax != ZERO:
            postings.append(signed(tax_account, tax, details, debit=lines_debit))
        return postings

    def post(self, ctx: Context, record: Mapping[str, Any]) -> dict[str, Any]:
        return post_transaction(
            ctx,
            transaction_type_id=self.transaction_type[0],
            date=str(record["date"]),
            reference=str(record["displayed_as"]),
            postings=self.postings(ctx, record),
            contact=record.get("contact"),
            origin=(self.name, str(record["id"]), str(record["displayed_as"])),
        )


class QuoteArtefact(Artefact):
    """Sales quotes and estimates: no postings; statuses from ``QuoteStatus``."""

    statuses = QUOTE_STATUSES
    create_statuses = ("DRAFT", "PENDING", "ACCEPTED", "DECLINED")
    default_status = "PENDING"
    editable_statuses = ("DRAFT", "PENDING", "ACCEPTED", "DECLINED")
    due_field = "expiry_date"
    quantity_required = True
    sort_fields: ClassVar[tuple[str, ...]] = ("created_at", "updated_at", "date", "expiry_date")

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        status_id = self.check_status_on_create(problems, payload)
        record = self.new_record(ctx, quote_status_link(status_id))
        self.compose(ctx, problems, record, payload, creating=True)
        problems.raise_if_any()
        self.assign_number(ctx, record)
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        if record["status"]["id"] == "INVOICED":
            raise invalid("base", f"An invoiced {self.label} cannot be edited.")
        problems = Problems()
        requested = payload.get("status_id")
        if requested is not None:
            status_id = str(requested).upper()
            if status_id not in self.create_statuses:
                problems.add("status_id", f"must be one of {', '.join(self.create_statuses)}")
            else:
                record["status"] = quote_status_link(status_id)
        self.compose(ctx, problems, record, payload, creating=False)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def check_delete(self, ctx: Context, record: Mapping[str, Any]) -> None:
        del ctx
        if record["status"]["id"] == "INVOICED":
            raise invalid("base", f"An invoiced {self.label} cannot be deleted: void or delete its invoice first.")
