"""``/ledger_accounts`` (list, get, create, update) and ``/tax_rates`` (list, get).

Balances come from the ``ledger_entries`` table and nowhere else: :func:`ledger_totals` sums debits
and credits per ledger account (in integer pennies, exactly) over an optional date window.  With
``show_balance_details=true`` (which needs ``from_date`` and ``to_date``, else a 422) every account
carries ``balance_details``: the ``debits`` and ``credits`` posted inside the window, ``balance`` =
``|debits - credits|`` and ``credit_or_debit`` saying which side is bigger (``"debit"`` on a tie).
``exclude_deleted_entries=true`` leaves out the entries of deleted or voided transactions (their
reversals net them to zero anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import ZERO, money

from ..context import Context, link
from ..errors import Problems, invalid
from ..reference_data import (
    LEDGER_ACCOUNT_GROUPS,
    LEDGER_ACCOUNT_TYPES,
    UK_RATES_FROM,
    VISIBILITY_SCOPES,
    AccountSpec,
    TaxRateSpec,
)
from ..store import DELETED_STATUS
from .base import Collection, Query, query_bool, query_date, sort_key
from .common import blank, check_lengths, require, set_link

_PENNIES = "CAST(REPLACE({col}, '.', '') AS INTEGER)"
_VISIBILITY_FLAGS = {f"visible_in_{scope}": scope for scope in VISIBILITY_SCOPES}
MAX_NOMINAL_CODE = 99999999


def ledger_totals(
    ctx: Context,
    *,
    from_date: str | None = None,
    to_date: str | None = None,
    exclude_deleted: bool = False,
) -> dict[str, tuple[Decimal, Decimal]]:
    """``ledger_account_id -> (debits, credits)`` of the entries dated inside the (inclusive) window."""
    sql = (
        "SELECT ledger_account_id, SUM("
        + _PENNIES.format(col="debit")
        + ") AS d, SUM("
        + _PENNIES.format(col="credit")
        + ") AS c FROM ledger_entries WHERE business_id = ?"
    )
    params: list[Any] = [ctx.business_id]
    if from_date:
        sql += " AND date >= ?"
        params.append(from_date)
    if to_date:
        sql += " AND date <= ?"
        params.append(to_date)
    if exclude_deleted:
        sql += (
            " AND transaction_id NOT IN (SELECT r.id FROM record_index i JOIN records r ON r.seq = i.seq"
            " WHERE i.business_id = ? AND i.resource = 'transactions' AND i.status = ?)"
        )
        params += [ctx.business_id, DELETED_STATUS]
    sql += " GROUP BY ledger_account_id"
    rows = ctx.store.execute(sql, tuple(params)).fetchall()
    return {str(r[0]): (Decimal(int(r[1] or 0)).scaleb(-2), Decimal(int(r[2] or 0)).scaleb(-2)) for r in rows}


def account_balance(ctx: Context, ledger_account_id: str, *, to_date: str | None = None) -> Decimal:
    """Debits minus credits of one ledger account (all dates, or up to ``to_date`` inclusive)."""
    debits, credits = ledger_totals(ctx, to_date=to_date).get(ledger_account_id, (ZERO, ZERO))
    return debits - credits


def has_entries(ctx: Context, ledger_account_id: str) -> bool:
    row = ctx.store.execute(
        "SELECT 1 FROM ledger_entries WHERE business_id = ? AND ledger_account_id = ? LIMIT 1",
        (ctx.business_id, ledger_account_id),
    ).fetchone()
    return row is not None


def balance_details(debits: Decimal, credits: Decimal, from_date: str, to_date: str) -> dict[str, Any]:
    net = debits - credits
    return {
        "balance": money(abs(net)),
        "credit_or_debit": "credit" if net < ZERO else "debit",
        "credits": money(credits),
        "debits": money(debits),
        "from_date": from_date,
        "to_date": to_date,
    }


def build_ledger_account(ctx: Context, spec: AccountSpec, *, vat_registered: bool) -> dict[str, Any]:
    type_name, group = LEDGER_ACCOUNT_TYPES[spec.type_id]
    tax_rate = None
    if spec.default_tax is not None:
        rate_id = "GB_STANDARD" if vat_registered else "GB_NO_TAX"
        rate = ctx.get("tax_rates", rate_id)
        tax_rate = link("tax_rates", rate_id, str(rate["displayed_as"]) if rate else rate_id)
    account_id = ctx.new_id("ledger_account")
    scopes = list(spec.scopes)
    return {
        "id": account_id,
        "displayed_as": f"{spec.name} ({spec.nominal_code})",
        "$path": f"/ledger_accounts/{account_id}",
        "created_at": ctx.now_iso,
        "updated_at": ctx.now_iso,
        "ledger_account_group": {"id": group, "displayed_as": LEDGER_ACCOUNT_GROUPS[group]},
        "name": spec.name,
        "display_name": spec.name,
        "visible_scopes": scopes,
        "included_in_chart": True,
        "nominal_code": spec.nominal_code,
        "ledger_account_type": link("ledger_account_types", spec.type_id, type_name),
        "ledger_account_classification": None,
        "tax_rate": tax_rate,
        "fixed_tax_rate": False,
        "visible_in_banking": "banking" in scopes,
        "visible_in_expenses": "expenses" in scopes,
        "visible_in_journals": "journals" in scopes,
        "visible_in_other_payments": "other_payments" in scopes,
        "visible_in_other_receipts": "other_receipts" in scopes,
        "visible_in_reporting": "reporting" in scopes,
        "visible_in_sales": "sales" in scopes,
        "balance_details": None,
        "is_control_account": spec.control_name is not None,
        "control_name": spec.control_name,
        "display_formatted": f"{spec.nominal_code} - {spec.name}",
        "tax_recoverable": None,
        "recoverable_percentage": None,
        "non_recoverable_ledger_account": None,
        "cis_materials": False,
        "tax_instalment": False,
        "cis_labour": False,
        "gifi_code": None,
    }


def build_tax_rate(ctx: Context, spec: TaxRateSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "displayed_as": spec.displayed_as,
        "$path": f"/tax_rates/{spec.id}",
        "created_at": ctx.now_iso,
        "updated_at": ctx.now_iso,
        "name": spec.name,
        "agency": None,
        "percentage": spec.percentage,
        "percentages": [{"percentage": spec.percentage, "from_date": UK_RATES_FROM, "to_date": None}],
        "is_visible": True,
        "retailer": False,
        "editable": False,
        "deletable": False,
        "is_combined_rate": False,
        "component_tax_rates": [],
        "_kind": spec.kind,
    }


def _scope(query: Query, name: str) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in VISIBILITY_SCOPES:
        raise invalid(name, "must be one of " + ", ".join(VISIBILITY_SCOPES))
    return raw


class LedgerAccounts(Collection):
    name = "ledger_accounts"
    definition = "LedgerAccount"
    root_key = "ledger_account"
    label = "ledger account"
    operations = frozenset({"list", "get", "create", "update"})

    # ------------------------------------------------------------------ reading

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        type_id = query.get("ledger_account_type_id")
        if type_id:
            items = [a for a in items if a["ledger_account_type"]["id"] == type_id]
        visible = _scope(query, "visible_in")
        if visible:
            items = [a for a in items if visible in a["visible_scopes"]]
        hidden = _scope(query, "not_visible_in")
        if hidden:
            items = [a for a in items if hidden not in a["visible_scopes"]]
        in_chart = query_bool(query, "show_included_in_chart")
        if in_chart is not None:
            items = [a for a in items if bool(a.get("included_in_chart")) == in_chart]
        control = query_bool(query, "show_control_accounts")
        if control is False:
            items = [a for a in items if not a.get("is_control_account")]
        search = (query.get("search") or "").strip().casefold()
        if search:
            items = [
                a
                for a in items
                if search in str(a["name"]).casefold()
                or search in str(a["display_name"]).casefold()
                or str(a["nominal_code"]).startswith(search)
            ]
        _balance_window(query)  # a 422 for a bad window even when the page is empty
        return items

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return sort_key(int(record["nominal_code"]), record["id"])

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = super().render_many(ctx, records)
        window = _balance_window(ctx.query)
        if window is not None:
            from_date, to_date = window
            exclude = query_bool(ctx.query, "exclude_deleted_entries") is True
            totals = ledger_totals(ctx, from_date=from_date, to_date=to_date, exclude_deleted=exclude)
            for obj in result:
                debits, credits = totals.get(obj["id"], (ZERO, ZERO))
                obj["balance_details"] = balance_details(debits, credits, from_date, to_date)
        return result

    # ------------------------------------------------------------------ writing

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        type_id = str(payload.get("ledger_account_type_id") or "")
        if type_id not in LEDGER_ACCOUNT_TYPES:
            problems.add("ledger_account_type_id", "must be one of " + ", ".join(LEDGER_ACCOUNT_TYPES))
            type_id = "OVERHEADS"
        spec = AccountSpec(0, "", type_id, ())
        record = build_ledger_account(ctx, spec, vat_registered=False)
        record["included_in_chart"] = bool(payload.get("included_in_chart"))
        require(problems, payload, ("name", "display_name"), creating=True)
        if payload.get("control_name"):
            problems.add("control_name", "control accounts are Sage's own: a new ledger account cannot be one")
        self._apply(ctx, problems, record, payload, creating=True)
        problems.raise_if_any()
        ctx.put_new(self.name, record)
        ctx.forget(self.name)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        require(problems, payload, ("name", "display_name"), creating=False)
        if record.get("is_control_account"):
            for name, current in (
                ("ledger_account_type_id", record["ledger_account_type"]["id"]),
                ("nominal_code", record["nominal_code"]),
                ("control_name", record["control_name"]),
            ):
                if name in payload and payload[name] is not None and payload[name] != current:
                    problems.add(name, "cannot be changed on a control account")
        elif payload.get("control_name"):
            problems.add("control_name", "control accounts are Sage's own: an account cannot become one")
        if "ledger_account_type_id" in payload and payload["ledger_account_type_id"] is not None:
            type_id = str(payload["ledger_account_type_id"])
            if type_id not in LEDGER_ACCOUNT_TYPES:
                problems.add("ledger_account_type_id", "must be one of " + ", ".join(LEDGER_ACCOUNT_TYPES))
            else:
                type_name, group = LEDGER_ACCOUNT_TYPES[type_id]
                record["ledger_account_type"] = link("ledger_account_types", type_id, type_name)
                record["ledger_account_group"] = {"id": group, "displayed_as": LEDGER_ACCOUNT_GROUPS[group]}
        self._apply(ctx, problems, record, payload, creating=False)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        ctx.forget(self.name)
        return record

    def _apply(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> None:
        check_lengths(problems, "LedgerAccount", payload)
        for name in ("name", "display_name"):
            if not blank(payload.get(name)):
                record[name] = str(payload[name]).strip()
        if "included_in_chart" in payload and isinstance(payload["included_in_chart"], bool):
            record["included_in_chart"] = payload["included_in_chart"]
        if creating or payload.get("nominal_code") is not None:
            code = payload.get("nominal_code")
            if code is None:
                problems.add("nominal_code", "This field is required.")
            elif not 1 <= int(code) <= MAX_NOMINAL_CODE:
                problems.add("nominal_code", f"must be between 1 and {MAX_NOMINAL_CODE}")
            elif nominal_code_taken(ctx, int(code), record["id"]):
                problems.add("nominal_code", f"has already been taken: {code}")
            else:
                record["nominal_code"] = int(code)
        set_link(ctx, problems, record, payload, "tax_rate_id", "tax_rates", "tax rate")
        for flag in ("fixed_tax_rate", "tax_recoverable", "cis_materials", "cis_labour"):
            if isinstance(payload.get(flag), bool):
                record[flag] = payload[flag]
        if "gifi_code" in payload:
            record["gifi_code"] = payload["gifi_code"]
        if payload.get("recoverable_percentage") is not None:
            percentage = Decimal(str(payload["recoverable_percentage"]))
            if not ZERO <= percentage <= Decimal(100):
                problems.add("recoverable_percentage", "must be between 0 and 100")
            else:
                record["recoverable_percentage"] = str(percentage)
        set_link(
            ctx, problems, record, payload, "non_recoverable_ledger_account_id", "ledger_accounts", "ledger account"
        )
        if not blank(payload.get("ledger_account_classification_id")):
            problems.add("ledger_account_classification_id", "ledger account classifications are not modelled")
        scopes = set(record.get("visible_scopes") or ())
        for flag, scope in _VISIBILITY_FLAGS.items():
            if isinstance(payload.get(flag), bool):
                if payload[flag]:
                    scopes.add(scope)
                else:
                    scopes.discard(scope)
        record["visible_scopes"] = [s for s in VISIBILITY_SCOPES if s in scopes]
        for flag, scope in _VISIBILITY_FLAGS.items():
            record[flag] = scope in scopes
        rename(record)


def rename(record: dict[str, Any]) -> None:
    """Recompute the display fields of a ledger account from its name and nominal code."""
    record["displayed_as"] = f"{record['name']} ({record['nominal_code']})"
    record["display_formatted"] = f"{record['nominal_code']} - {record['name']}"


def nominal_code_taken(ctx: Context, code: int, own_id: str | None = None) -> bool:
    return any(
        row[0] == code and row[1] != own_id
        for row in ctx.store.fields(ctx.business_id, "ledger_accounts", "$.nominal_code", "$.id")
    )


def _balance_window(query: Query) -> tuple[str, str] | None:
    """``(from_date, to_date)`` when ``show_balance_details=true``; both are then required."""
    if query_bool(query, "show_balance_details") is not True:
        return None
    problems = Problems()
    bounds = []
    for name in ("from_date", "to_date"):
        if not (query.get(name) or "").strip():
            problems.add(name, "is required with show_balance_details=true")
            bounds.append("")
        else:
            bounds.append(query_date(query, name) or "")
    problems.raise_if_any()
    if bounds[0] > bounds[1]:
        raise invalid("to_date", "must be on or after from_date")
    return bounds[0], bounds[1]


class TaxRates(Collection):
    name = "tax_rates"
    definition = "TaxRate"
    root_key = "tax_rate"
    label = "tax rate"
    usages: ClassVar[tuple[str, ...]] = ("sales", "purchase", "purchases")

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        usage = query.get("usage")
        if usage and usage not in self.usages:
            raise invalid("usage", "must be sales or purchase")
        return items  # every UK rate applies to sales and to purchases
