"""``/sales_invoices``: list, get, create, update, void (``DELETE``), release.

Totals are computed here and nowhere else (the seed data uses the same code):

* line: ``net = round(quantity x unit_price - discount)``; ``tax = round(net x rate / 100)``;
  ``total = net + tax`` (with ``unit_price_includes_tax`` the tax is taken out of the gross instead);
* invoice: net, tax and total are the sums of the lines;
* rounding is to pennies, half-up; all arithmetic is ``Decimal``.

A posted (non-draft) invoice gets a transaction: debit Trade Debtors (1100) with the total, credit
each line's sales account with its net, credit VAT on Sales (2200) with the tax.  Voiding posts the
mirror image.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sage_mcp.money import HUNDRED, ZERO, decimal_str, money, round_money, tax_on, tax_within, to_decimal, total

from ..context import Context, currency_link, link, parse_date, public
from ..errors import Problems, invalid
from ..ledger import (
    DEBTORS_CONTROL,
    SALES_TAX_CONTROL,
    Posting,
    account_by_nominal,
    post_transaction,
    replace_postings,
    reverse_transaction,
)
from .base import Collection, Query
from .common import artefact_address, blank, check_lengths
from .contacts import contact_type_ids

STATUSES = {
    "DRAFT": "Draft",
    "UNPAID": "Unpaid",
    "PART_PAID": "Part Paid",
    "PAID": "Paid",
    "VOID": "Void",
}
INVOICE_NUMBER_PREFIX = "SI-"
DEFAULT_CREDIT_DAYS = 30
_ZERO_RATE_KINDS = ("ZERO", "EXEMPT", "NO_TAX")


def status_link(status_id: str) -> dict[str, Any]:
    return link("artefact_statuses", status_id, STATUSES[status_id])


def _at(items: list[tuple[str, int]]) -> str:
    return "".join(f" ({name} item {index + 1})" for name, index in items)


def _add(problems: Problems, source: str, message: str, where: list[tuple[str, int]] | None = None) -> None:
    problems.add(source, message + _at(where or []))


def _opt_decimal(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


def _signed(account_id: str, amount: Decimal, details: str, *, debit: bool) -> Posting:
    """A posting of ``amount`` on the debit (or credit) side; negative amounts flip sides."""
    if (amount >= ZERO) == debit:
        return Posting(account_id, debit=abs(amount), details=details)
    return Posting(account_id, credit=abs(amount), details=details)


class SalesInvoices(Collection):
    name = "sales_invoices"
    definition = "SalesInvoice"
    root_key = "sales_invoice"
    label = "sales invoice"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    actions = frozenset({"release"})
    sort_fields = ("created_at", "updated_at", "date", "due_date")

    # ------------------------------------------------------------------ reading

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        status = (query.get("status_id") or "").strip().upper()
        if status:
            wanted = {s.strip() for s in status.split(",") if s.strip()}
            items = [i for i in items if i["status"]["id"] in wanted]
        contact_id = (query.get("contact_id") or "").strip()
        if contact_id:
            items = [i for i in items if i["contact"]["id"] == contact_id]
        for name in ("from_date", "to_date"):
            raw = query.get(name)
            if raw:
                bound = parse_date(raw)
                if bound is None:
                    raise invalid(name, f"is not a date (YYYY-MM-DD): {raw!r}")
                iso = bound.isoformat()
                items = [i for i in items if (i["date"] >= iso if name == "from_date" else i["date"] <= iso)]
        search = (query.get("search") or "").strip().casefold()
        if search:
            items = [
                i
                for i in items
                if any(
                    search in str(v or "").casefold()
                    for v in (i.get("reference"), i.get("invoice_number"), i.get("contact_name"))
                )
                or search in str(i["contact"].get("displayed_as") or "").casefold()
            ]
        return items

    def default_order(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Newest first: invoice date descending, then invoice number descending."""
        return sorted(items, key=lambda i: (i["date"], int(i["_number"])), reverse=True)

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        del ctx
        result = []
        for record in records:
            obj = public(record)
            obj["editable"] = record["status"]["id"] in ("DRAFT", "UNPAID")
            result.append(obj)
        return result

    # ------------------------------------------------------------------ writing

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        status_id = payload.get("status_id") or "UNPAID"
        if status_id not in ("DRAFT", "UNPAID"):
            problems.add("status_id", "must be DRAFT or UNPAID when creating an invoice")
            status_id = "UNPAID"
        invoice_id = ctx.new_id("sales_invoice")
        record: dict[str, Any] = {
            "id": invoice_id,
            "displayed_as": "",
            "$path": f"/sales_invoices/{invoice_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "deleted_at": None,
            "links": [],
            "editable": True,
            "transaction": None,
            "transaction_type": link("transaction_types", "SALES_INVOICE", "Sales Invoice"),
            "invoice_number_prefix": INVOICE_NUMBER_PREFIX,
            "reference": None,
            "notes": None,
            "terms_and_conditions": None,
            "main_address": None,
            "delivery_address": None,
            "main_address_free_form": None,
            "delivery_address_free_form": None,
            "shipping_net_amount": money(ZERO),
            "shipping_tax_rate": None,
            "shipping_tax_amount": money(ZERO),
            "shipping_tax_breakdown": [],
            "shipping_total_amount": money(ZERO),
            "base_currency_shipping_net_amount": money(ZERO),
            "base_currency_shipping_tax_amount": money(ZERO),
            "base_currency_shipping_tax_breakdown": [],
            "base_currency_shipping_total_amount": money(ZERO),
            "currency": currency_link("GBP"),
            "exchange_rate": "1.00",
            "inverse_exchange_rate": "1.00",
            "status": status_link(status_id),
            "sent": bool(payload.get("sent") or False),
            "sent_by_email": False,
            "void_reason": None,
            "payments_allocations": [],
            "payments_allocations_total_amount": money(ZERO),
            "payments_allocations_total_discount": money(ZERO),
            "total_paid": money(ZERO),
            "last_paid": None,
            "vat_reverse_charge": False,
            "destination_consignment": False,
            "destination_vat_rates_in_use": False,
            "tax_calculation_method": "invoice",
            "tax_reconciled": False,
            "migrated": False,
            "is_cis": False,
            "has_cis_labour": False,
            "has_cis_materials": False,
            "withholding_tax_rate": None,
            "withholding_tax_amount": None,
            "base_currency_withholding_tax_amount": None,
            "recurring_invoice": None,
            "original_quote_estimate": None,
            "corrections": [],
            "tax_address_region": None,
            "delivery_performance_date": None,
        }
        self._compose(ctx, problems, record, payload, creating=True)
        problems.raise_if_any()
        number = ctx.store.next_value(ctx.business_id, "sales_invoice_number")
        record["_number"] = number
        record["invoice_number"] = f"{INVOICE_NUMBER_PREFIX}{number}"
        record["displayed_as"] = record["invoice_number"]
        if status_id != "DRAFT":
            record["transaction"] = self._post(ctx, record)
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        status_id = record["status"]["id"]
        if status_id == "VOID":
            raise invalid("base", "A void invoice cannot be edited.")
        if status_id in ("PAID", "PART_PAID"):
            raise invalid("base", "An invoice with payments or allocations cannot be edited.")
        problems = Problems()
        requested = payload.get("status_id")
        if requested is not None and requested != status_id:
            problems.add("status_id", "cannot be changed with PUT (use /release to post a draft)")
        self._compose(ctx, problems, record, payload, creating=False)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        if status_id == "UNPAID" and record.get("transaction"):
            replace_postings(
                ctx,
                record["transaction"]["id"],
                self._postings(ctx, record),
                record["date"],
                record["invoice_number"],
            )
        ctx.put(self.name, record)
        return record

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        """Void (200 + the invoice); a draft is deleted instead (204)."""
        status_id = record["status"]["id"]
        if status_id == "DRAFT":
            ctx.store.delete(ctx.business_id, self.name, record["id"])
            return None
        if status_id == "VOID":
            raise invalid("base", "The invoice has already been voided.")
        if status_id in ("PAID", "PART_PAID"):
            raise invalid(
                "base",
                f"The invoice is {STATUSES[status_id].lower()} and cannot be voided: "
                "remove its payments and allocations first.",
            )
        reason = (query.get("void_reason") or "").strip()
        if not reason:
            raise invalid("void_reason", "This field is required (it may only be left out for a draft).")
        limit = 200
        if len(reason) > limit:
            raise invalid("void_reason", f"is too long (maximum is {limit} characters)")
        if record.get("transaction"):
            reverse_transaction(ctx, record["transaction"]["id"], f"Void {record['invoice_number']}: {reason}")
        record["status"] = status_link("VOID")
        record["void_reason"] = reason
        record["outstanding_amount"] = money(ZERO)
        record["base_currency_outstanding_amount"] = money(ZERO)
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def action(self, ctx: Context, record: dict[str, Any], action: str) -> dict[str, Any]:
        if action != "release":  # pragma: no cover - the router only sends declared actions
            raise invalid("base", f"unknown action {action}")
        if record["status"]["id"] != "DRAFT":
            raise invalid("base", "Only a draft invoice can be released.")
        record["status"] = status_link("UNPAID")
        record["updated_at"] = ctx.now_iso
        record["transaction"] = self._post(ctx, record)
        ctx.put(self.name, record)
        return record

    # ------------------------------------------------------------------ composition

    def _compose(
        self,
        ctx: Context,
        problems: Problems,
        record: dict[str, Any],
        payload: Mapping[str, Any],
        *,
        creating: bool,
    ) -> None:
        check_lengths(problems, "SalesInvoice", payload)
        # contact
        contact = None
        if creating or "contact_id" in payload:
            contact_id = payload.get("contact_id")
            if blank(contact_id):
                problems.add("contact_id", "This field is required.")
            else:
                contact = ctx.get("contacts", str(contact_id))
                if contact is None or "CUSTOMER" not in contact_type_ids(contact):
                    what = "does not exist" if contact is None else "is not a customer"
                    problems.add("contact_id", f"can't find customer: the contact {contact_id!r} {what}")
                    contact = None
        if contact is not None:
            record["contact"] = link("contacts", contact["id"], contact["displayed_as"])
            record["contact_name"] = contact["name"]
            record["contact_reference"] = contact.get("reference")
            record["main_address"] = artefact_address(contact.get("main_address"))
            record["delivery_address"] = artefact_address(contact.get("delivery_address"))
        for field in ("contact_name", "contact_reference", "reference", "notes", "terms_and_conditions"):
            if field in payload:
                record[field] = None if blank(payload[field]) else str(payload[field])
        if "sent" in payload and isinstance(payload["sent"], bool):
            record["sent"] = payload["sent"]
        # dates
        if creating or "date" in payload:
            raw_date = payload.get("date")
            if blank(raw_date):
                problems.add("date", "This field is required.")
            else:
                record["date"] = str(raw_date)
        if "due_date" in payload and not blank(payload["due_date"]):
            record["due_date"] = str(payload["due_date"])
        elif creating and record.get("date"):
            days = contact.get("credit_days") if contact else None
            due = dt.date.fromisoformat(record["date"]) + dt.timedelta(
                days=DEFAULT_CREDIT_DAYS if days is None else int(days)
            )
            record["due_date"] = due.isoformat()
        if record.get("date") and record.get("due_date") and record["due_date"] < record["date"]:
            problems.add("due_date", "must be on or after the invoice date")
        # money options the sandbox does not model yet
        if not blank(payload.get("currency_id")) and payload["currency_id"] != "GBP":
            problems.add("currency_id", "must be GBP (the sandbox has no foreign currencies yet)")
        shipping = _opt_decimal(payload.get("shipping_net_amount"))
        if shipping is not None and shipping != ZERO:
            problems.add("shipping_net_amount", "shipping charges are not supported by the sandbox yet")
        # lines
        if creating or "invoice_lines" in payload:
            lines_payload = payload.get("invoice_lines")
            if not lines_payload:
                problems.add("invoice_lines", "must contain at least one invoice line")
            else:
                record["invoice_lines"] = [
                    self._line(ctx, problems, index, line) for index, line in enumerate(lines_payload)
                ]
        if problems:
            return
        self._totals(record)
        for field in ("net_amount", "tax_amount", "total_amount"):
            supplied = _opt_decimal(payload.get(field))
            if supplied is not None and round_money(supplied) != to_decimal(record[field]):
                problems.add(field, f"does not match the invoice lines: expected {record[field]}")
        if to_decimal(record["total_amount"]) < ZERO:
            problems.add("base", "The invoice total cannot be negative.")

    def _line(
        self,
        ctx: Context,
        problems: Problems,
        index: int,
        payload: Mapping[str, Any],
    ) -> dict[str, Any]:
        """One invoice line, computed; a PUT with ``invoice_lines`` replaces all lines."""
        where = [("invoice_lines", index)]
        src = "invoice_lines."
        check_lengths(problems, "SalesInvoiceLineItem", payload, src)
        # ledger account
        account = None
        account_id = payload.get("ledger_account_id")
        if blank(account_id):
            _add(problems, src + "ledger_account_id", "This field is required.", where)
        else:
            account = ctx.get("ledger_accounts", str(account_id))
            if account is None:
                _add(problems, src + "ledger_account_id", f"The ledger account {account_id!r} was not found.", where)
            elif not account.get("visible_in_sales"):
                _add(
                    problems,
                    src + "ledger_account_id",
                    f"The ledger account {account['displayed_as']!r} cannot be used on sales invoices.",
                    where,
                )
                account = None
        # tax rate: given, else the ledger account's default
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
        # amounts
        quantity = _opt_decimal(payload.get("quantity"))
        quantity = Decimal(1) if quantity is None else quantity
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
            ctx.config.require_line_tax_amount
            and supplied_tax is None
            and rate is not None
            and rate.get("_kind") not in _ZERO_RATE_KINDS
        ):
            _add(problems, src + "tax_amount", "This field is required (the tax rate is not zero).", where)
        for field, computed in (("net_amount", net), ("tax_amount", tax), ("total_amount", line_total)):
            supplied = supplied_tax if field == "tax_amount" else _opt_decimal(payload.get(field))
            if supplied is not None and round_money(supplied) != computed:
                _add(problems, src + field, f"does not match the line: expected {money(computed)}", where)
        line_id = ctx.new_id("sales_invoice_line")
        description = str(payload.get("description") or "")
        return {
            "id": line_id,
            "displayed_as": description,
            "description": description,
            "product": None,
            "service": None,
            "ledger_account": link("ledger_accounts", account["id"], account["displayed_as"]) if account else None,
            "trade_of_asset": bool(payload.get("trade_of_asset") or False),
            "quantity": decimal_str(quantity),
            "unit_price": decimal_str(unit_price),
            "net_amount": money(net),
            "tax_rate": link("tax_rates", rate["id"], rate["displayed_as"]) if rate else None,
            "tax_amount": money(tax),
            "tax_breakdown": [],
            "total_amount": money(line_total),
            "base_currency_unit_price": decimal_str(unit_price),
            "unit_price_includes_tax": includes_tax,
            "base_currency_net_amount": money(net),
            "base_currency_tax_amount": money(tax),
            "base_currency_tax_breakdown": [],
            "base_currency_total_amount": money(line_total),
            "eu_goods_services_type": None,
            "discount_amount": money(discount),
            "base_currency_discount_amount": money(discount),
            "discount_percentage": decimal_str(percentage),
            "eu_sales_description": None,
            "analysis_type_categories": [],
        }

    @staticmethod
    def _totals(record: dict[str, Any]) -> None:
        lines = record["invoice_lines"]
        net = total(to_decimal(line["net_amount"]) for line in lines)
        tax = total(to_decimal(line["tax_amount"]) for line in lines)
        gross = net + tax
        paid = to_decimal(record.get("total_paid") or "0")
        analysis: dict[str, dict[str, Any]] = {}
        for line in lines:
            rate = line["tax_rate"]
            key = rate["id"] if rate else ""
            entry = analysis.setdefault(key, {"tax_rate": rate, "net": ZERO, "tax": ZERO})
            entry["net"] += to_decimal(line["net_amount"])
            entry["tax"] += to_decimal(line["tax_amount"])
        record["tax_analysis"] = [
            {
                "tax_rate": entry["tax_rate"],
                "net_amount": money(entry["net"]),
                "tax_amount": money(entry["tax"]),
                "total_amount": money(entry["net"] + entry["tax"]),
                "goods_amount": money(entry["net"]),
                "service_amount": money(ZERO),
            }
            for entry in analysis.values()
        ]
        outstanding = ZERO if record["status"]["id"] == "VOID" else gross - paid
        record.update(
            {
                "net_amount": money(net),
                "tax_amount": money(tax),
                "total_amount": money(gross),
                "base_currency_net_amount": money(net),
                "base_currency_tax_amount": money(tax),
                "base_currency_total_amount": money(gross),
                "total_quantity": decimal_str(total(to_decimal(line["quantity"]) for line in lines)),
                "total_discount_amount": money(total(to_decimal(line["discount_amount"]) for line in lines)),
                "base_currency_total_discount_amount": money(
                    total(to_decimal(line["discount_amount"]) for line in lines)
                ),
                "outstanding_amount": money(outstanding),
                "base_currency_outstanding_amount": money(outstanding),
            }
        )

    # ------------------------------------------------------------------ bookkeeping

    @staticmethod
    def _postings(ctx: Context, record: Mapping[str, Any]) -> list[Posting]:
        details = str(record["invoice_number"])
        debtors = account_by_nominal(ctx, DEBTORS_CONTROL)["id"]
        vat = account_by_nominal(ctx, SALES_TAX_CONTROL)["id"]
        by_account: dict[str, Decimal] = {}
        for line in record["invoice_lines"]:
            account_id = line["ledger_account"]["id"]
            by_account[account_id] = by_account.get(account_id, ZERO) + to_decimal(line["net_amount"])
        postings = [_signed(debtors, to_decimal(record["total_amount"]), details, debit=True)]
        postings += [_signed(acc, amount, details, debit=False) for acc, amount in by_account.items()]
        tax = to_decimal(record["tax_amount"])
        if tax != ZERO:
            postings.append(_signed(vat, tax, details, debit=False))
        return postings

    def _post(self, ctx: Context, record: Mapping[str, Any]) -> dict[str, Any]:
        return post_transaction(
            ctx,
            transaction_type_id="SALES_INVOICE",
            date=str(record["date"]),
            reference=str(record["invoice_number"]),
            postings=self._postings(ctx, record),
            contact=record.get("contact"),
            origin=(self.name, str(record["id"]), str(record["invoice_number"])),
        )


def apply_receipt(ctx: Context, invoice: dict[str, Any], amount: Decimal, date: dt.date, bank_account_id: str) -> None:
    """A customer's payment against an invoice: status, outstanding and the ledger move together.

    (Used by the seed data until ``/contact_payments`` exists.)
    """
    if invoice["status"]["id"] not in ("UNPAID", "PART_PAID"):
        raise ValueError(f"cannot pay an invoice that is {invoice['status']['id']}")
    outstanding = to_decimal(invoice["outstanding_amount"])
    if not ZERO < amount <= outstanding:
        raise ValueError(f"payment {amount} does not fit outstanding {outstanding}")
    debtors = account_by_nominal(ctx, DEBTORS_CONTROL)["id"]
    post_transaction(
        ctx,
        transaction_type_id="CUSTOMER_RECEIPT",
        date=date.isoformat(),
        reference=f"Payment {invoice['invoice_number']}",
        postings=[
            Posting(bank_account_id, debit=amount, details=str(invoice["invoice_number"])),
            Posting(debtors, credit=amount, details=str(invoice["invoice_number"])),
        ],
        contact=invoice.get("contact"),
        origin=("sales_invoices", str(invoice["id"]), str(invoice["invoice_number"])),
    )
    paid = to_decimal(invoice["total_paid"]) + amount
    left = to_decimal(invoice["total_amount"]) - paid
    invoice["total_paid"] = money(paid)
    invoice["payments_allocations_total_amount"] = money(paid)
    invoice["outstanding_amount"] = money(left)
    invoice["base_currency_outstanding_amount"] = money(left)
    invoice["last_paid"] = date.isoformat()
    invoice["status"] = status_link("PAID" if left == ZERO else "PART_PAID")
    invoice["editable"] = False
