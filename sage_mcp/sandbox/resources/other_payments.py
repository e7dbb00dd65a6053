"""``/other_payments``: money in or out of a bank account that is not a contact payment.

Every line has a ledger account and a gross ``total_amount`` (> 0); its tax rate defaults to the
ledger account's rate, else ``GB_NO_TAX``.  When absent, ``tax_amount`` is the tax contained in the
total (half-up to the penny) and ``net_amount`` = total - tax; supplied values must agree to the penny
(422 otherwise).  The payment's ``total_amount`` (required) must equal the sum of the lines.

Postings (one transaction of the payment's type):

* ``OTHER_PAYMENT`` (money out): Dr each line's ledger account with its net, Dr VAT on Purchases
  (2201) with the tax / Cr the bank account's ledger account with the total;
* ``OTHER_RECEIPT`` (money in): Dr bank / Cr each line's account with its net, Cr VAT on Sales (2200);
* ``OTHER_PAYMENT_REFUND`` and ``OTHER_RECEIPT_REFUND``: the mirror images of the above.

Lines of payments and their refunds must use ledger accounts visible in ``other_payments``, lines of
receipts and their refunds accounts visible in ``other_receipts``.  ``bank_account_id`` is
required (the spec leaves it optional); ``contact_id`` is optional.  ``transaction_type_id`` cannot
change on PUT; ``payment_lines`` in a PUT replaces every line.  DELETE posts the mirror entries on
the payment's date and keeps a tombstone for ``deleted_since``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import ZERO, money, round_money, tax_on, tax_within, to_decimal, total

from ..context import Context, link, link_to
from ..errors import Problems
from ..ledger import PURCHASE_TAX_CONTROL, SALES_TAX_CONTROL, TRANSACTION_TYPES, Posting, account_by_nominal
from .banking import bank_ledger_id, bank_link, find_bank_account
from .base import Query
from .common import blank, check_lengths, find, pick, set_link
from .lifecycle import BookCollection, check_tax_reconciled, take_date
from .reference import PAYMENT_METHODS

#: transaction type -> (money comes in, ledger visibility scope of the lines, tax account)
PAYMENT_KINDS: dict[str, tuple[bool, str, int]] = {
    "OTHER_PAYMENT": (False, "other_payments", PURCHASE_TAX_CONTROL),
    "OTHER_RECEIPT": (True, "other_receipts", SALES_TAX_CONTROL),
    "OTHER_PAYMENT_REFUND": (True, "other_payments", PURCHASE_TAX_CONTROL),
    "OTHER_RECEIPT_REFUND": (False, "other_receipts", SALES_TAX_CONTROL),
}
DEFAULT_TAX_RATE = "GB_NO_TAX"


def _opt(value: object) -> Decimal | None:
    return None if value is None else to_decimal(value)


class OtherPayments(BookCollection):
    name = "other_payments"
    definition = "OtherPayment"
    root_key = "other_payment"
    label = "other payment"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    date_field = "date"
    sort_fields = ("created_at", "updated_at", "date")
    link_filters: ClassVar[Mapping[str, str]] = {
        "bank_account_id": "bank_account",
        "contact_id": "contact",
        "transaction_type_id": "transaction_type",
    }
    search_fields = ("reference",)
    attachment_context = "OTHER_PAYMENT"
    newest_first = "date"

    # ------------------------------------------------------------------ writing

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        payment_id = ctx.new_id("other_payment")
        record: dict[str, Any] = {
            "id": payment_id,
            "displayed_as": "",
            "$path": f"/other_payments/{payment_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "transaction": None,
            "transaction_type": None,
            "deleted_at": None,
            "base_currency_total_itc_amount": None,
            "total_itc_amount": None,
            "base_currency_total_itr_amount": None,
            "total_itr_amount": None,
            "part_recoverable": False,
            "payment_method": None,
            "contact": None,
            "bank_account": None,
            "tax_address_region": None,
            "date": None,
            "net_amount": money(ZERO),
            "tax_amount": money(ZERO),
            "total_amount": money(ZERO),
            "reference": None,
            "payment_lines": [],
            "editable": True,
            "deletable": True,
            "withholding_tax_rate": None,
            "withholding_tax_amount": None,
        }
        problems = Problems()
        type_id = str(payload.get("transaction_type_id") or "").upper()
        if type_id not in PAYMENT_KINDS:
            problems.add("transaction_type_id", "must be one of " + ", ".join(PAYMENT_KINDS))
        else:
            record["transaction_type"] = link("transaction_types", type_id, TRANSACTION_TYPES[type_id])
        self._compose(ctx, problems, record, payload, creating=True)
        problems.raise_if_any()
        self.post(ctx, record, self._postings(ctx, record), type_id)
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        if _carries_vat(record):
            check_tax_reconciled(ctx, record, "payment", "edited")
        problems = Problems()
        type_id = payload.get("transaction_type_id")
        if type_id is not None and str(type_id).upper() != record["transaction_type"]["id"]:
            problems.add("transaction_type_id", "cannot be changed: delete the payment and create another")
        self._compose(ctx, problems, record, payload, creating=False)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        self.post(ctx, record, self._postings(ctx, record), record["transaction_type"]["id"])
        ctx.put(self.name, record)
        return record

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        if _carries_vat(record):
            check_tax_reconciled(ctx, record, "payment", "deleted")
        self.bury_posted(ctx, record)
        return None

    # ------------------------------------------------------------------ composition

    def _compose(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> None:
        check_lengths(problems, "OtherPayment", payload)
        kind = PAYMENT_KINDS.get(record["transaction_type"]["id"]) if record.get("transaction_type") else None
        if creating or "bank_account_id" in payload:
            bank = find_bank_account(ctx, problems, "bank_account_id", payload.get("bank_account_id"))
            if bank is not None:
                record["bank_account"] = bank_link(bank)
                record["_bank_ledger"] = bank_ledger_id(bank)
                if record.get("payment_method") is None and bank.get("default_payment_method"):
                    record["payment_method"] = bank["default_payment_method"]
        set_link(ctx, problems, record, payload, "contact_id", "contacts", "contact")
        method = pick(problems, payload, "payment_method_id", PAYMENT_METHODS, "payment_methods")
        if method is not None:
            record["payment_method"] = method
        if record.get("payment_method") is None:
            record["payment_method"] = link("payment_methods", "BANK_TRANSFER", PAYMENT_METHODS["BANK_TRANSFER"])
        take_date(ctx, problems, record, payload, creating=creating)
        if "reference" in payload:
            record["reference"] = None if blank(payload["reference"]) else str(payload["reference"])
        for name in ("withholding_tax_rate", "withholding_tax_amount", "total_itc_amount", "total_itr_amount"):
            if payload.get(name) not in (None, 0, "0", "0.00") and to_decimal(payload[name]) != ZERO:
                problems.add(name, "is not supported for UK businesses")
        if creating or "payment_lines" in payload:
            lines = payload.get("payment_lines") or []
            if not lines:
                problems.add("payment_lines", "must contain at least one payment line")
            elif kind is not None:
                record["payment_lines"] = [
                    self._line(ctx, problems, index, line, kind[1], record.get("_bank_ledger"))
                    for index, line in enumerate(lines)
                ]
        if problems:
            return
        net = total(to_decimal(line["net_amount"]) for line in record["payment_lines"])
        tax = total(to_decimal(line["tax_amount"]) for line in record["payment_lines"])
        gross = net + tax
        for name, computed in (("net_amount", net), ("tax_amount", tax), ("total_amount", gross)):
            supplied = _opt(payload.get(name))
            if supplied is not None and round_money(supplied) != computed:
                problems.add(name, f"does not match the payment lines: expected {money(computed)}")
        record.update(net_amount=money(net), tax_amount=money(tax), total_amount=money(gross))
        kind_name = record["transaction_type"]["displayed_as"]
        contact = record.get("contact")
        record["displayed_as"] = record.get("reference") or (contact["displayed_as"] if contact else kind_name)

    def _line(
        self,
        ctx: Context,
        problems: Problems,
        index: int,
        payload: Mapping[str, Any],
        scope: str,
        bank_ledger: str | None,
    ) -> dict[str, Any]:
        where = f" (payment_lines item {index + 1})"
        src = "payment_lines."
        check_lengths(problems, "OtherPaymentLineItem", payload, src)
        account_id = payload.get("ledger_account_id")
        account = find(ctx, problems, src + "ledger_account_id", "ledger_accounts", "ledger account", account_id, where)
        if account is not None and (scope not in account.get("visible_scopes", ()) or account["id"] == bank_ledger):
            usage = scope.replace("_", " ")
            problems.add(
                src + "ledger_account_id",
                f"The ledger account {account['displayed_as']!r} cannot be used on {usage}.{where}",
            )
            account = None
        rate_id = payload.get("tax_rate_id")
        if blank(rate_id):
            rate_id = account["tax_rate"]["id"] if account is not None and account.get("tax_rate") else DEFAULT_TAX_RATE
        rate = ctx.get("tax_rates", str(rate_id))
        if rate is None:
            problems.add(src + "tax_rate_id", f"The tax rate {rate_id!r} was not found.{where}")
        gross = _opt(payload.get("total_amount"))
        if gross is None:
            problems.add(src + "total_amount", "This field is required." + where)
            gross = ZERO
        elif gross <= ZERO or round_money(gross) != gross:
            problems.add(src + "total_amount", "must be greater than 0, with at most two decimals" + where)
        percentage = to_decimal(rate["percentage"]) if rate else ZERO
        tax = tax_within(gross, percentage)
        supplied_tax = _opt(payload.get("tax_amount"))
        if supplied_tax is not None and supplied_tax != tax:
            # a tax computed on the net (rather than taken out of the gross) may differ by a penny
            if round_money(supplied_tax) == tax_on(gross - supplied_tax, percentage):
                tax = round_money(supplied_tax)
            else:
                problems.add(src + "tax_amount", f"does not match the line: expected {money(tax)}{where}")
        net = gross - tax
        supplied_net = _opt(payload.get("net_amount"))
        if supplied_net is not None and round_money(supplied_net) != net:
            problems.add(src + "net_amount", f"does not match the line: expected {money(net)}{where}")
        line_id = ctx.new_id("other_payment_line")
        details = None if blank(payload.get("details")) else str(payload["details"])
        return {
            "id": line_id,
            "displayed_as": details or (account["name"] if account else ""),
            "analysis_type_categories": [],
            "ledger_account": link_to("ledger_accounts", account) if account else None,
            "details": details,
            "tax_rate": link("tax_rates", rate["id"], str(rate["displayed_as"])) if rate else None,
            "net_amount": money(net),
            "tax_amount": money(tax),
            "total_amount": money(gross),
            "tax_breakdown": [],
            "is_purchase_for_resale": bool(payload.get("is_purchase_for_resale") or False),
            "trade_of_asset": bool(payload.get("trade_of_asset") or False),
            "gst_amount": None,
            "pst_amount": None,
            "tax_recoverable": None,
        }

    # ------------------------------------------------------------------ bookkeeping

    @staticmethod
    def _postings(ctx: Context, record: Mapping[str, Any]) -> list[Posting]:
        money_in, _, tax_nominal = PAYMENT_KINDS[record["transaction_type"]["id"]]
        details = str(record["displayed_as"])
        by_account: dict[str, Decimal] = {}
        for line in record["payment_lines"]:
            key = line["ledger_account"]["id"]
            by_account[key] = by_account.get(key, ZERO) + to_decimal(line["net_amount"])
        tax = to_decimal(record["tax_amount"])
        if tax != ZERO:
            tax_account = account_by_nominal(ctx, tax_nominal)["id"]
            by_account[tax_account] = by_account.get(tax_account, ZERO) + tax
        gross = to_decimal(record["total_amount"])
        if money_in:
            postings = [Posting(record["_bank_ledger"], debit=gross, details=details)]
            postings += [Posting(acc, credit=amount, details=details) for acc, amount in by_account.items()]
        else:
            postings = [Posting(acc, debit=amount, details=details) for acc, amount in by_account.items()]
            postings.append(Posting(record["_bank_ledger"], credit=gross, details=details))
        return postings


def _carries_vat(record: Mapping[str, Any]) -> bool:
    """Whether an other payment has VAT on it (and so is on a VAT return)."""
    try:
        return to_decimal(record.get("tax_amount") or "0") != ZERO
    except (ArithmeticError, ValueError):
        return False
