"""``/journals`` (list, get, create, delete, ``/reissue``) and ``/journal_codes`` (all five).

A journal needs at least two lines.  Every line carries ``debit`` and ``credit`` (both required by
the spec), both >= 0 and **exactly one of them non-zero**; the journal is refused (422,
``$source: journal_lines``) unless total debits equal total credits to the penny.  ``total``, when
given, must equal the total debits.  Lines may only use ledger accounts visible in ``journals``.
Posting: one ``JOURNAL`` transaction with one entry per line.

There is no PUT (as in Sage).  DELETE posts the mirror entries on the journal's date and keeps a
tombstone for ``deleted_since``.  ``POST /journals/{key}/reissue`` (no body) voids the journal the
same way and creates a copy of it with a new id and a new transaction (201 + the new journal).

Journal codes (Sage documents them for France only; the sandbox serves them for every business):
``code`` is unique; reserved codes cannot be edited or deleted; a code used by a journal cannot be
deleted.  A journal's ``journal_code`` object names an existing code by its ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money, round_money, to_decimal, total

from ..context import Context, link, link_to
from ..errors import Problems, invalid
from ..ledger import TRANSACTION_TYPES, Posting
from .base import Collection, Query, sort_key
from .common import blank, check_lengths, find, pick, require, taken
from .lifecycle import BookCollection, check_tax_reconciled, take_date
from .reference import JOURNAL_CODE_TYPES


def _journal_code_object(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": record["id"],
        "displayed_as": record["displayed_as"],
        "$path": record["$path"],
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "name": record["name"],
        "code": record["code"],
        "journal_code_type": record["journal_code_type"],
        "control_name": record.get("control_name"),
        "reserved": bool(record.get("reserved")),
    }


class Journals(BookCollection):
    name = "journals"
    definition = "Journal"
    root_key = "journal"
    label = "journal"
    operations = frozenset({"list", "get", "create", "delete"})
    actions = frozenset({"reissue"})
    newest_first = "date"

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        journal_id = ctx.new_id("journal")
        record: dict[str, Any] = {
            "id": journal_id,
            "displayed_as": "",
            "$path": f"/journals/{journal_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "transaction": None,
            "transaction_type": link("transaction_types", "JOURNAL", TRANSACTION_TYPES["JOURNAL"]),
            "deleted_at": None,
            "date": None,
            "reference": None,
            "description": None,
            "total": money(ZERO),
            "journal_code": None,
            "journal_lines": [],
            "migrated": False,
        }
        problems = Problems()
        check_lengths(problems, "Journal", payload)
        take_date(ctx, problems, record, payload, creating=True)
        if blank(payload.get("reference")):
            problems.add("reference", "This field is required.")
        else:
            record["reference"] = str(payload["reference"])
        if not blank(payload.get("description")):
            record["description"] = str(payload["description"])
        code = payload.get("journal_code")
        if isinstance(code, Mapping) and not blank(code.get("code")):
            found = next(
                (c for c in ctx.store.all(ctx.business_id, "journal_codes") if c["code"] == code["code"]),
                None,
            )
            if found is None:
                problems.add("journal_code.code", f"The journal code {code['code']!r} was not found.")
            else:
                record["journal_code"] = _journal_code_object(found)
        lines = payload.get("journal_lines") or []
        if len(lines) < 2:
            problems.add("journal_lines", "must contain at least two lines")
        record["journal_lines"] = [self._line(ctx, problems, i, line) for i, line in enumerate(lines)]
        if not problems:
            debits = total(to_decimal(line["debit"]) for line in record["journal_lines"])
            credits = total(to_decimal(line["credit"]) for line in record["journal_lines"])
            if debits != credits:
                problems.add(
                    "journal_lines",
                    f"The journal does not balance: total debits {money(debits)}, total credits {money(credits)}.",
                )
            supplied = payload.get("total")
            if supplied is not None and round_money(to_decimal(supplied)) != debits:
                problems.add("total", f"does not match the journal lines: expected {money(debits)}")
            record["total"] = money(debits)
        problems.raise_if_any()
        record["displayed_as"] = record["reference"]
        postings = [
            Posting(
                line["ledger_account"]["id"],
                debit=to_decimal(line["debit"]),
                credit=to_decimal(line["credit"]),
                details=line.get("details") or record["description"] or record["reference"],
            )
            for line in record["journal_lines"]
        ]
        self.post(ctx, record, postings, "JOURNAL")
        ctx.put_new(self.name, record)
        return record

    def _line(self, ctx: Context, problems: Problems, index: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        where = f" (journal_lines item {index + 1})"
        src = "journal_lines."
        check_lengths(problems, "JournalLine", payload, src)
        account_id = payload.get("ledger_account_id")
        account = find(ctx, problems, src + "ledger_account_id", "ledger_accounts", "ledger account", account_id, where)
        if account is not None and not account.get("visible_in_journals"):
            problems.add(
                src + "ledger_account_id",
                f"The ledger account {account['displayed_as']!r} cannot be used on journals.{where}",
            )
        amounts: dict[str, Decimal] = {}
        for side in ("debit", "credit"):
            value = payload.get(side)
            if value is None:
                problems.add(src + side, "This field is required." + where)
                amounts[side] = ZERO
                continue
            amount = to_decimal(value)
            if amount < ZERO or round_money(amount) != amount:
                problems.add(src + side, "must be 0 or more, with at most two decimals" + where)
            amounts[side] = round_money(amount)
        if amounts["debit"] != ZERO and amounts["credit"] != ZERO:
            problems.add(src + "credit", "must be 0 when the line has a debit (one side per line)" + where)
        elif amounts["debit"] == ZERO and amounts["credit"] == ZERO and "debit" in payload and "credit" in payload:
            problems.add(src + "debit", "either debit or credit must be greater than 0" + where)
        details = None if blank(payload.get("details")) else str(payload["details"])
        return {
            "id": ctx.new_id("journal_line"),
            "ledger_account": link_to("ledger_accounts", account) if account else None,
            "details": details,
            "debit": money(amounts["debit"]),
            "credit": money(amounts["credit"]),
            "analysis_type_categories": [],
            "include_on_tax_return": bool(payload.get("include_on_tax_return") or False),
            "tax_reconciled": False,
            "cleared": False,
            "bank_reconciled": False,
            "journal_line_foreign_currency": None,
        }

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        if any(line.get("include_on_tax_return") for line in record.get("journal_lines") or ()):
            check_tax_reconciled(ctx, record, "journal", "deleted")
        self._void(ctx, record)
        return None

    def action(self, ctx: Context, record: dict[str, Any], action: str) -> dict[str, Any]:
        if action != "reissue":  # pragma: no cover - the router only sends declared actions
            raise invalid("base", f"unknown action {action}")
        payload: dict[str, Any] = {
            "date": record["date"],
            "reference": record["reference"],
            "description": record.get("description"),
            "journal_code": record.get("journal_code"),
            "journal_lines": [
                {
                    "ledger_account_id": line["ledger_account"]["id"],
                    "debit": line["debit"],
                    "credit": line["credit"],
                    "details": line.get("details"),
                    "include_on_tax_return": line.get("include_on_tax_return"),
                }
                for line in record["journal_lines"]
            ],
        }
        self._void(ctx, record)
        return self.create(ctx, payload)

    def _void(self, ctx: Context, record: dict[str, Any]) -> None:
        self.bury_posted(ctx, record, f"Deleted journal {record['reference']}")


class JournalCodes(Collection):
    name = "journal_codes"
    definition = "JournalCode"
    root_key = "journal_code"
    label = "journal code"
    operations = frozenset({"list", "get", "create", "update", "delete"})

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return sort_key(str(record["code"]), record["id"])

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        code_id = ctx.new_id("journal_code")
        record: dict[str, Any] = {
            "id": code_id,
            "displayed_as": "",
            "$path": f"/journal_codes/{code_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "name": "",
            "code": "",
            "journal_code_type": None,
            "control_name": None,
            "reserved": False,
        }
        problems = Problems()
        require(problems, payload, ("name", "code", "journal_code_type_id"), creating=True)
        self._apply(ctx, problems, record, payload)
        problems.raise_if_any()
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        if record.get("reserved"):
            raise invalid("base", "A reserved journal code cannot be changed.")
        problems = Problems()
        require(problems, payload, ("name", "code", "journal_code_type_id"), creating=False)
        self._apply(ctx, problems, record, payload)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        if record.get("reserved"):
            raise invalid("base", "A reserved journal code cannot be deleted.")
        used = any(row[0] == record["id"] for row in ctx.store.fields(ctx.business_id, "journals", "$.journal_code.id"))
        if used:
            raise invalid("base", "This journal code is used by a journal and cannot be deleted.")
        ctx.store.delete(ctx.business_id, self.name, record["id"])
        return None

    def _apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        check_lengths(problems, "JournalCode", payload)
        if not blank(payload.get("code")):
            code = str(payload["code"]).strip()
            if taken(ctx, self.name, "code", code, record["id"]):
                problems.add("code", f"has already been taken: {code!r}")
            record["code"] = code
        if not blank(payload.get("name")):
            record["name"] = str(payload["name"]).strip()
        code_type = pick(problems, payload, "journal_code_type_id", JOURNAL_CODE_TYPES, "journal_code_types")
        if code_type is not None:
            record["journal_code_type"] = code_type
        if "control_name" in payload:
            record["control_name"] = None if blank(payload["control_name"]) else str(payload["control_name"])
        if isinstance(payload.get("reserved"), bool):
            record["reserved"] = payload["reserved"]
        record["displayed_as"] = f"{record['code']} - {record['name']}"
