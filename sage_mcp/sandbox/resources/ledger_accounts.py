"""``/ledger_accounts`` (list, get) and ``/tax_rates`` (list, get)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..context import Context, link
from ..errors import invalid
from ..reference_data import (
    LEDGER_ACCOUNT_GROUPS,
    LEDGER_ACCOUNT_TYPES,
    UK_RATES_FROM,
    VISIBILITY_SCOPES,
    AccountSpec,
    TaxRateSpec,
)
from .base import Collection, Query


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
        "displayed_as": f"{spec.name} {spec.percentage}%",
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
        search = (query.get("search") or "").strip().casefold()
        if search:
            items = [
                a
                for a in items
                if search in str(a["name"]).casefold()
                or search in str(a["display_name"]).casefold()
                or str(a["nominal_code"]).startswith(search)
            ]
        return items

    def default_order(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda a: (int(a["nominal_code"]), a["id"]))


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
