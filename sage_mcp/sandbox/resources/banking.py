"""Banking: ``/bank_accounts``, ``/bank_transfers``, ``/bank_deposits``, ``/bank_reconciliations``.

* A bank account owns a ledger account (``ledger_account``): given by ``ledger_account_id``, or
  created with it (``nominal_code`` given, or the first free code of 1200-1299; credit cards from
  1240, loans from 2300).  Its ``balance`` is debits minus credits of that ledger account's entries,
  so it always agrees with ``/ledger_accounts`` balances.  The type and ledger account cannot change
  once the account has entries; an account with entries, bank reconciliations, or that is one of the
  two default accounts (the first current account and the first cash-in-hand account) cannot be
  deleted (422 ``base``).  Renaming the account renames its ledger account.
* A bank transfer posts Dr the *to* account's ledger account / Cr the *from* one (``BANK_TRANSFER``).
* A bank deposit moves cash from a ``CASH_IN_HAND`` account to another account (Dr to / Cr from,
  ``BANK_DEPOSIT``); ``total_amount`` = ``cash_amount`` + ``cheque_amount``.
* Deleting a transfer or deposit posts the mirror entries on the original date and keeps the record
  as a tombstone for ``deleted_since``.
* A bank reconciliation compares a statement with the ledger: ``starting_balance`` is the closing
  balance of the account's previous *reconciled* reconciliation (0 for the first), ``total_received``
  / ``total_paid`` are the debits / credits after that statement date up to this ``statement_date``,
  ``closing_balance`` = ``reconciled_balance`` = starting + received - paid and ``balance_difference``
  = ``statement_end_balance`` - ``reconciled_balance``.  Status ``DRAFT`` (recomputed on every read)
  or ``RECONCILED`` (frozen; only allowed when the difference is zero, and no longer editable).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import ZERO, money, round_money, to_decimal

from ..context import Context, currency_link, link, public
from ..errors import Problems, invalid
from ..ledger import TRANSACTION_TYPES, Posting
from ..reference_data import AccountSpec
from .base import Condition, Query, query_bool, sort_key
from .common import (
    BANK_DETAIL_FIELDS,
    PERSON_TEXT_FIELDS,
    blank,
    build_address,
    check_lengths,
    find,
    merge_object,
    pick,
)
from .ledger_accounts import build_ledger_account, has_entries, ledger_totals, nominal_code_taken, rename
from .lifecycle import BookCollection, take_date
from .reference import BANK_ACCOUNT_TYPES, PAYMENT_METHODS

_BANK_SCOPES = ("banking", "journals", "reporting")
#: bank account type -> (ledger account type, first nominal code tried, last)
_LEDGER_FOR_TYPE: dict[str, tuple[str, int, int]] = {
    "CHECKING": ("BANK", 1200, 1299),
    "SAVINGS": ("BANK", 1200, 1299),
    "CASH_IN_HAND": ("BANK", 1200, 1299),
    "OTHER": ("BANK", 1200, 1299),
    "CREDIT_CARD": ("CURRENT_LIABILITY", 1240, 1299),
    "LOAN": ("FUTURE_LIABILITY", 2300, 2399),
}
_DEFAULT_METHOD = {"CASH_IN_HAND": "CASH", "CREDIT_CARD": "CREDIT_DEBIT"}
RECONCILIATION_STATUSES = {"DRAFT": "Draft", "RECONCILED": "Reconciled"}


def _status(status_id: str) -> dict[str, Any]:
    """A ``BankReconciliationStatus`` (Sage gives it no ``$path``)."""
    return {"id": status_id, "displayed_as": RECONCILIATION_STATUSES[status_id]}


def _amount(problems: Problems, payload: Mapping[str, Any], name: str, *, positive: bool) -> Decimal | None:
    value = payload.get(name)
    if value is None:
        return None
    amount = to_decimal(value)
    if round_money(amount) != amount:
        problems.add(name, "must have at most two decimals")
    if positive and amount <= ZERO:
        problems.add(name, "must be greater than 0")
    elif amount < ZERO:
        problems.add(name, "must be greater than or equal to 0")
    return round_money(amount)


def find_bank_account(ctx: Context, problems: Problems, source: str, bank_account_id: object) -> dict[str, Any] | None:
    """The live bank account ``bank_account_id`` (a 422 on ``source`` when it is missing or unknown)."""
    return find(ctx, problems, source, "bank_accounts", "bank account", bank_account_id)


def bank_type(account: Mapping[str, Any]) -> str:
    return str(account["bank_account_type"]["id"])


def bank_ledger_id(account: Mapping[str, Any]) -> str:
    return str(account["ledger_account"]["id"])


def bank_link(account: Mapping[str, Any]) -> dict[str, Any]:
    return link("bank_accounts", str(account["id"]), str(account["displayed_as"]))


def bank_account_for_ledger(ctx: Context, ledger_account_id: str) -> dict[str, Any] | None:
    for account in ctx.store.all(ctx.business_id, "bank_accounts"):
        if bank_ledger_id(account) == ledger_account_id:
            return account
    return None


# ---------------------------------------------------------------------------------------------- accounts


class BankAccounts(BookCollection):
    name = "bank_accounts"
    definition = "BankAccount"
    root_key = "bank_account"
    label = "bank account"
    operations = frozenset({"list", "get", "create", "update", "delete"})

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        if query_bool(query, "filter_inactive_bank_accounts"):
            result.append(Condition(lambda a: bool(a.get("is_active"))))
        return result

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return sort_key(int(record.get("nominal_code") or 0), record["id"])

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        totals = ledger_totals(ctx)
        reconciled = {row[0] for row in ctx.store.fields(ctx.business_id, "bank_reconciliations", "$.bank_account.id")}
        result = []
        for record in records:
            obj = public(record)
            if not record.get("deleted_at"):
                debits, credits = totals.get(bank_ledger_id(record), (ZERO, ZERO))
                obj["balance"] = money(debits - credits)
                used = (debits, credits) != (ZERO, ZERO) or record["id"] in reconciled
                obj["deletable"] = not record.get("_default") and not used
            result.append(obj)
        return result

    # ------------------------------------------------------------------ writing

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        account_id = ctx.new_id("bank_account")
        record: dict[str, Any] = {
            "id": account_id,
            "displayed_as": "",
            "$path": f"/bank_accounts/{account_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "deleted_at": None,
            "bank_account_details": dict.fromkeys(BANK_DETAIL_FIELDS),
            "ledger_account": None,
            "bank_account_type": None,
            "balance": money(ZERO),
            "main_address": None,
            "main_contact_person": None,
            "nominal_code": None,
            "editable": True,
            "deletable": True,
            "journal_code": None,
            "default_payment_method": None,
            "gifi_code": None,
            "is_active": True,
            "currency": currency_link("GBP"),
            "_default": False,
            "_own_ledger_account": False,
        }
        details = payload.get("bank_account_details") or {}
        if blank(details.get("account_name")):
            problems.add("bank_account_details.account_name", "This field is required.")
        type_id = str(payload.get("bank_account_type_id") or "")
        if type_id not in BANK_ACCOUNT_TYPES:
            problems.add("bank_account_type_id", "must be one of " + ", ".join(BANK_ACCOUNT_TYPES))
        else:
            record["bank_account_type"] = link("bank_account_types", type_id, BANK_ACCOUNT_TYPES[type_id])
        self._apply(ctx, problems, record, payload)
        problems.raise_if_any()
        self._link_ledger_account(ctx, problems, record, payload, creating=True)
        problems.raise_if_any()
        if record["default_payment_method"] is None:
            method = _DEFAULT_METHOD.get(type_id, "BANK_TRANSFER")
            record["default_payment_method"] = link("payment_methods", method, PAYMENT_METHODS[method])
        self._display(record)
        ctx.put_new(self.name, record)
        ctx.forget(self.name)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        used = has_entries(ctx, bank_ledger_id(record))
        type_id = payload.get("bank_account_type_id")
        if type_id is not None and type_id != bank_type(record):
            if type_id not in BANK_ACCOUNT_TYPES:
                problems.add("bank_account_type_id", "must be one of " + ", ".join(BANK_ACCOUNT_TYPES))
            elif used:
                problems.add("bank_account_type_id", "cannot be changed once the account has transactions")
            else:
                record["bank_account_type"] = link("bank_account_types", type_id, BANK_ACCOUNT_TYPES[type_id])
        details = payload.get("bank_account_details")
        if isinstance(details, Mapping) and "account_name" in details and blank(details["account_name"]):
            problems.add("bank_account_details.account_name", "can't be blank")
        if payload.get("is_active") is False and record.get("_default"):
            problems.add("is_active", "a default bank account cannot be made inactive")
        ledger_id = payload.get("ledger_account_id")
        if not blank(ledger_id) and ledger_id != bank_ledger_id(record) and used:
            problems.add("ledger_account_id", "cannot be changed once the account has transactions")
        self._apply(ctx, problems, record, payload)
        problems.raise_if_any()
        self._link_ledger_account(ctx, problems, record, payload, creating=False)
        problems.raise_if_any()
        self._display(record)
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        ctx.forget(self.name)
        return record

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        if record.get("_default"):
            raise invalid("base", "A default bank account cannot be deleted.")
        in_use = any(
            row[0] == record["id"]
            for row in ctx.store.fields(ctx.business_id, "bank_reconciliations", "$.bank_account.id")
        )
        if has_entries(ctx, bank_ledger_id(record)) or in_use:
            raise invalid("base", "This bank account has transactions and cannot be deleted.")
        if record.get("_own_ledger_account"):
            ctx.store.delete(ctx.business_id, "ledger_accounts", bank_ledger_id(record))
            ctx.forget("ledger_accounts")
        self.bury(ctx, record)
        return None

    # ------------------------------------------------------------------ helpers

    def _apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        details = payload.get("bank_account_details")
        if isinstance(details, Mapping):
            check_lengths(problems, "BankAccountDetails", details, "bank_account_details.")
            merged = dict(record.get("bank_account_details") or dict.fromkeys(BANK_DETAIL_FIELDS))
            for name in BANK_DETAIL_FIELDS:
                if name in details:
                    merged[name] = None if blank(details[name]) else str(details[name]).strip()
            record["bank_account_details"] = merged
        if "main_address" in payload:
            value = payload["main_address"]
            if value is None:
                record["main_address"] = None
            else:
                address = build_address(
                    ctx,
                    problems,
                    "main_address",
                    value,
                    record.get("main_address"),
                    default_type="ACCOUNTS",
                    is_main=True,
                )
                address["bank_account"] = link("bank_accounts", record["id"], record.get("displayed_as") or "")
                record["main_address"] = address
        merge_object(record, payload, "main_contact_person", PERSON_TEXT_FIELDS)
        method = pick(problems, payload, "default_payment_method_id", PAYMENT_METHODS, "payment_methods")
        if method is not None:
            record["default_payment_method"] = method
        if not blank(payload.get("currency_id")) and payload["currency_id"] != "GBP":
            problems.add("currency_id", "must be GBP (the sandbox has no foreign currency bank accounts)")
        if payload.get("journal_code") is not None:
            problems.add("journal_code", "journal codes of bank accounts are France only")
        if isinstance(payload.get("is_active"), bool):
            record["is_active"] = payload["is_active"]
        if "gifi_code" in payload:
            record["gifi_code"] = payload["gifi_code"]

    def _link_ledger_account(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> None:
        """Use ``ledger_account_id``, or create / renumber / rename the account's own ledger account."""
        type_id = bank_type(record)
        name = str(record["bank_account_details"].get("account_name") or "")
        code = payload.get("nominal_code")
        wanted = payload.get("ledger_account_id")
        if not blank(wanted) and (creating or wanted != bank_ledger_id(record)):
            ledger = ctx.get("ledger_accounts", str(wanted))
            if ledger is None:
                problems.add("ledger_account_id", f"The ledger account {wanted!r} was not found.")
                return
            owner = bank_account_for_ledger(ctx, ledger["id"])
            if owner is not None and owner["id"] != record["id"]:
                problems.add("ledger_account_id", f"is already the ledger account of {owner['displayed_as']!r}")
            if ledger["ledger_account_type"]["id"] not in ("BANK", "CURRENT_LIABILITY", "FUTURE_LIABILITY") or (
                ledger.get("control_name") not in (None, "BANK")
            ):
                problems.add("ledger_account_id", f"{ledger['displayed_as']!r} cannot hold a bank account")
            if code is not None and code != ledger["nominal_code"]:
                problems.add("nominal_code", "does not match the nominal code of the ledger account")
            if problems:
                return
            record["_own_ledger_account"] = False
        elif creating:
            ledger_type, first, last = _LEDGER_FOR_TYPE[type_id]
            if code is None:
                code = next((c for c in range(first, last + 1) if not nominal_code_taken(ctx, c)), None)
                if code is None:
                    problems.add("nominal_code", f"no free nominal code between {first} and {last}: give one")
                    return
            elif nominal_code_taken(ctx, int(code)):
                problems.add("nominal_code", f"has already been taken: {code}")
                return
            spec = AccountSpec(int(code), name, ledger_type, _BANK_SCOPES)
            ledger = build_ledger_account(ctx, spec, vat_registered=False)
            ctx.put_new("ledger_accounts", ledger)
            record["_own_ledger_account"] = True
        else:
            found = ctx.get("ledger_accounts", bank_ledger_id(record))
            if found is None:  # pragma: no cover - bank ledger accounts cannot be removed
                problems.add("ledger_account_id", "the bank account's ledger account no longer exists")
                return
            ledger = found
            if code is not None and code != ledger["nominal_code"]:
                if nominal_code_taken(ctx, int(code), ledger["id"]):
                    problems.add("nominal_code", f"has already been taken: {code}")
                    return
                ledger["nominal_code"] = int(code)
        if name and ledger["name"] != name:
            ledger["name"] = ledger["display_name"] = name
        rename(ledger)
        ledger["updated_at"] = ctx.now_iso
        ctx.put("ledger_accounts", ledger)
        ctx.forget("ledger_accounts")
        record["ledger_account"] = link("ledger_accounts", ledger["id"], ledger["displayed_as"])
        record["nominal_code"] = ledger["nominal_code"]

    @staticmethod
    def _display(record: dict[str, Any]) -> None:
        name = record["bank_account_details"].get("account_name") or ""
        record["displayed_as"] = f"{name} ({record['nominal_code']})"
        if record.get("main_address"):
            record["main_address"]["bank_account"] = link("bank_accounts", record["id"], record["displayed_as"])


# ---------------------------------------------------------------------------------------------- movements


class _Movement(BookCollection):
    """What transfers and deposits share: two bank accounts, a date, a posting, tombstones."""

    date_field = "date"
    sort_fields = ("created_at", "updated_at", "date")
    transaction_type_id = ""
    newest_first = "date"

    def _post(self, ctx: Context, record: dict[str, Any], amount: Decimal) -> None:
        """Dr the *to* account's ledger account, Cr the *from* one."""
        details = str(record.get("description") or record.get("reference") or record["displayed_as"])
        postings = [
            Posting(record["_to_ledger"], debit=amount, details=details),
            Posting(record["_from_ledger"], credit=amount, details=details),
        ]
        self.post(ctx, record, postings, self.transaction_type_id)

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        self.bury_posted(ctx, record)
        return None

    def _accounts(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> None:
        for side in ("from", "to"):
            field = f"{side}_bank_account_id"
            if creating or field in payload:
                account = find_bank_account(ctx, problems, field, payload.get(field))
                if account is not None:
                    record[f"{side}_bank_account"] = bank_link(account)
                    record[f"_{side}_ledger"] = bank_ledger_id(account)
                    record[f"_{side}_type"] = bank_type(account)
        source, target = record.get("from_bank_account"), record.get("to_bank_account")
        if source and target and source["id"] == target["id"]:
            problems.add("to_bank_account_id", "must be a different bank account from from_bank_account_id")
        take_date(ctx, problems, record, payload, creating=creating)

    def _skeleton(self, ctx: Context, kind: str) -> dict[str, Any]:
        record_id = ctx.new_id(kind)
        return {
            "id": record_id,
            "displayed_as": "",
            "$path": f"/{self.name}/{record_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "transaction": None,
            "transaction_type": link(
                "transaction_types", self.transaction_type_id, TRANSACTION_TYPES[self.transaction_type_id]
            ),
            "deleted_at": None,
            "from_bank_account": None,
            "to_bank_account": None,
            "date": None,
            "reference": None,
        }


class BankTransfers(_Movement):
    name = "bank_transfers"
    definition = "BankTransfer"
    root_key = "bank_transfer"
    label = "bank transfer"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    search_fields = ("reference", "description")
    transaction_type_id = "BANK_TRANSFER"

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        record = self._skeleton(ctx, "bank_transfer")
        record.update(amount=money(ZERO), description=None)
        return self._save(ctx, record, payload, creating=True)

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        return self._save(ctx, record, payload, creating=False)

    def _save(
        self, ctx: Context, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> dict[str, Any]:
        problems = Problems()
        check_lengths(problems, "BankTransfer", payload)
        self._accounts(ctx, problems, record, payload, creating=creating)
        amount = _amount(problems, payload, "amount", positive=True)
        if amount is not None:
            record["amount"] = money(amount)
        for name in ("reference", "description"):
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        problems.raise_if_any()
        record["displayed_as"] = record.get("reference") or record.get("description") or "Bank Transfer"
        record["updated_at"] = ctx.now_iso
        self._post(ctx, record, to_decimal(record["amount"]))
        if creating:
            ctx.put_new(self.name, record)
        else:
            ctx.put(self.name, record)
        return record


class BankDeposits(_Movement):
    name = "bank_deposits"
    definition = "BankDeposit"
    root_key = "bank_deposit"
    label = "bank deposit"
    operations = frozenset({"list", "get", "create", "delete"})
    search_fields = ("reference",)
    transaction_type_id = "BANK_DEPOSIT"

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        record = self._skeleton(ctx, "bank_deposit")
        check_lengths(problems, "BankDeposit", payload)
        self._accounts(ctx, problems, record, payload, creating=True)
        if record.get("_from_type") not in (None, "CASH_IN_HAND"):
            problems.add("from_bank_account_id", "must be a cash in hand account (bank deposits move cash into a bank)")
        if record.get("_to_type") == "CASH_IN_HAND":
            problems.add("to_bank_account_id", "must not be a cash in hand account (use a bank transfer)")
        cash = _amount(problems, payload, "cash_amount", positive=False)
        cheque = _amount(problems, payload, "cheque_amount", positive=False)
        amount = (cash or ZERO) + (cheque or ZERO)
        if amount <= ZERO:
            problems.add("cash_amount", "the deposit must be greater than 0 (cash_amount + cheque_amount)")
        supplied = payload.get("total_amount")
        if supplied is not None and round_money(to_decimal(supplied)) != amount:
            problems.add("total_amount", f"does not match cash_amount + cheque_amount: expected {money(amount)}")
        if blank(payload.get("reference")):
            problems.add("reference", "This field is required.")
        problems.raise_if_any()
        record.update(
            reference=str(payload["reference"]),
            cash_amount=money(cash or ZERO),
            cheque_amount=money(cheque or ZERO),
            total_amount=money(amount),
        )
        record["displayed_as"] = record["reference"]
        self._post(ctx, record, amount)
        ctx.put_new(self.name, record)
        return record


# ---------------------------------------------------------------------------------------------- reconciliations


class BankReconciliations(BookCollection):
    name = "bank_reconciliations"
    definition = "BankReconciliation"
    root_key = "bank_reconciliation"
    label = "bank reconciliation"
    operations = frozenset({"list", "get", "create", "update"})
    link_filters: ClassVar[Mapping[str, str]] = {"bank_account_id": "bank_account"}
    newest_first = "statement_date"

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = []
        for record in records:
            if record["status"]["id"] == "DRAFT":
                self._compute(ctx, record)
            result.append(public(record))
        return result

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        account = find_bank_account(ctx, problems, "bank_account_id", payload.get("bank_account_id"))
        if account is not None and bank_type(account) == "CASH_IN_HAND":
            problems.add("bank_account_id", "cash in hand accounts cannot be reconciled")
        problems.raise_if_any()
        assert account is not None
        if any(
            r["bank_account"]["id"] == account["id"] and r["status"]["id"] == "DRAFT"
            for r in ctx.store.all(ctx.business_id, self.name)
        ):
            raise invalid("base", "This bank account already has a reconciliation in progress: finish that one first.")
        record_id = ctx.new_id("bank_reconciliation")
        record: dict[str, Any] = {
            "id": record_id,
            "displayed_as": "",
            "$path": f"/bank_reconciliations/{record_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "bank_account": bank_link(account),
            "statement_date": ctx.today.isoformat(),
            "statement_end_balance": money(ZERO),
            "reference": None,
            "status": _status("DRAFT"),
            "_ledger_account_id": bank_ledger_id(account),
        }
        self._apply(ctx, record, payload)
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        if record["status"]["id"] == "RECONCILED":
            raise invalid("base", "A reconciled bank reconciliation cannot be edited.")
        wanted = payload.get("bank_account_id")
        if wanted is not None and wanted != record["bank_account"]["id"]:
            raise invalid("bank_account_id", "cannot be changed")
        self._apply(ctx, record, payload)
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def _apply(self, ctx: Context, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        problems = Problems()
        check_lengths(problems, "BankReconciliation", payload)
        if not blank(payload.get("statement_date")):
            record["statement_date"] = str(payload["statement_date"])
        if payload.get("statement_end_balance") is not None:
            record["statement_end_balance"] = money(to_decimal(payload["statement_end_balance"]))
        if "reference" in payload:
            record["reference"] = None if blank(payload["reference"]) else str(payload["reference"])
        previous = self._previous(ctx, record)
        if previous is not None and record["statement_date"] <= previous["statement_date"]:
            problems.add(
                "statement_date", f"must be after the last reconciled statement ({previous['statement_date']})"
            )
        problems.raise_if_any()
        self._compute(ctx, record)
        for name in (
            "total_received",
            "total_paid",
            "starting_balance",
            "closing_balance",
            "reconciled_balance",
            "balance_difference",
        ):
            supplied = payload.get(name)
            if supplied is not None and round_money(to_decimal(supplied)) != to_decimal(record[name]):
                problems.add(name, f"does not match the ledger: expected {record[name]}")
        status_id = payload.get("status_id")
        if status_id is not None:
            if status_id not in RECONCILIATION_STATUSES:
                problems.add("status_id", "must be one of " + ", ".join(RECONCILIATION_STATUSES))
            elif status_id == "RECONCILED" and to_decimal(record["balance_difference"]) != ZERO:
                problems.add(
                    "status_id",
                    f"cannot be RECONCILED while the statement and the ledger differ by {record['balance_difference']}",
                )
            else:
                record["status"] = _status(status_id)
        problems.raise_if_any()
        reference = record.get("reference")
        record["displayed_as"] = reference or f"Reconciliation to {record['statement_date']}"

    def _previous(self, ctx: Context, record: Mapping[str, Any]) -> dict[str, Any] | None:
        done = [
            r
            for r in ctx.store.all(ctx.business_id, self.name)
            if r["bank_account"]["id"] == record["bank_account"]["id"]
            and r["status"]["id"] == "RECONCILED"
            and r["id"] != record["id"]
        ]
        return max(done, key=lambda r: r["statement_date"]) if done else None

    def _compute(self, ctx: Context, record: dict[str, Any]) -> None:
        previous = self._previous(ctx, record)
        ledger_id = record["_ledger_account_id"]
        start = to_decimal(previous["closing_balance"]) if previous else ZERO
        after = None
        if previous is not None:
            after = (dt.date.fromisoformat(previous["statement_date"]) + dt.timedelta(days=1)).isoformat()
        received, paid = ledger_totals(ctx, from_date=after, to_date=record["statement_date"]).get(
            ledger_id, (ZERO, ZERO)
        )
        closing = start + received - paid
        record.update(
            starting_balance=money(start),
            total_received=money(received),
            total_paid=money(paid),
            closing_balance=money(closing),
            reconciled_balance=money(closing),
            balance_difference=money(to_decimal(record["statement_end_balance"]) - closing),
        )
