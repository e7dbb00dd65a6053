"""How real Sage shapes its answers, applied to the sandbox's answers in strict mode.

The resources render one canonical shape (two-decimal money, embedded addresses ...), which the
sandbox's kinder mode answers as it is.  Strict mode (``SandboxConfig.strict``, the default) reshapes
each successful ``/v3.1`` answer as recorded real responses show it (``reference/sage-real-responses.md``):

* **Nested records as links** (row 6): a contact's ``main_address``, ``delivery_address`` and
  ``main_contact_person`` and a bank account's ``main_address`` and ``main_contact_person`` are
  ``{id, displayed_as, $path}`` unless ``nested_attributes`` names them (or is ``all``).
* **Money as Sage writes it** (row 10): decimal strings lose trailing zeros but keep one decimal
  (``"110.0"``, ``"0.0"``, ``"-430035.84"``, ``"20.0"`` for a percentage, ``"1.165"`` for a rate).  The
  Reporting API's ``/trial_balance`` keeps its own mix (``"444.00"``, ``"0"``).
* **Odd values** (row 11): a financial settings date Sage leaves unset is ``""`` (``mtd_authenticated_date``),
  not ``null``; a product or service that was never switched off answers ``"active": null``.
* **Links** (row 12): bank accounts, products and services carry ``links`` (Sage's web pages for them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: Fields that hold a nested record, per collection, answered as links unless asked for.
NESTED_AS_LINKS: dict[str, tuple[str, ...]] = {
    "contacts": ("main_address", "delivery_address", "main_contact_person"),
    "bank_accounts": ("main_address", "main_contact_person"),
}
#: Collections whose records carry ``links`` to Sage's web app, and the page of each.
WEB_LINKS: dict[str, str] = {
    "bank_accounts": "banking/bank_accounts",
    "products": "products",
    "services": "services",
}
WEB_APP = "https://accounts-extra.sageone.com"
#: Date fields Sage answers ``""`` rather than ``null`` when unset.
EMPTY_STRING_DATES: dict[str, tuple[str, ...]] = {"financial_settings": ("mtd_authenticated_date",)}
#: Collections whose ``active`` is ``null`` until the record is switched off.
NULL_ACTIVE = frozenset({"products", "services"})
#: Paths answered with their own number format (Sage's Reporting API).
OWN_NUMBER_FORMAT = ("/trial_balance",)
#: Text fields never reshaped even when they look like a number.
_TEXT_KEYS = frozenset(
    {
        "id",
        "displayed_as",
        "$path",
        "name",
        "reference",
        "vendor_reference",
        "contact_reference",
        "contact_name",
        "description",
        "details",
        "notes",
        "item_code",
        "invoice_number",
        "credit_note_number",
        "quote_number",
        "estimate_number",
        "tax_number",
        "account_number",
        "sort_code",
        "postal_code",
        "address_line_1",
        "address_line_2",
        "telephone",
        "mobile",
        "code",
    }
)
_DECIMAL_RE = re.compile(r"^-?\d+\.\d+$")


def sage_decimal(text: str) -> str:
    """A decimal string as Sage writes it: trailing zeros dropped, at least one decimal kept."""
    whole, fraction = text.split(".", 1)
    return f"{whole}.{fraction.rstrip('0') or '0'}"


def _nested_wanted(raw: str | None) -> tuple[bool, set[str]]:
    names = {n.strip() for n in (raw or "").split(",") if n.strip()}
    return "all" in names, {n.split(".", 1)[0] for n in names}


def shape_objects(collection: str, objs: list[dict[str, Any]], query: Mapping[str, str]) -> None:
    """Per-collection reshaping of rendered objects, in place (links, ``active``, empty-string dates)."""
    nested = NESTED_AS_LINKS.get(collection, ())
    everything, wanted = _nested_wanted(query.get("nested_attributes"))
    for obj in objs:
        _link_inner_records(obj)
        for field in nested:
            value = obj.get(field)
            if isinstance(value, dict) and "id" in value and not (everything or field in wanted):
                obj[field] = {"id": value["id"], "displayed_as": value.get("displayed_as"), "$path": value.get("$path")}
        if collection in WEB_LINKS and "id" in obj and len(obj) > 3:
            obj["links"] = [
                {"href": f"{WEB_APP}/{WEB_LINKS[collection]}/{obj['id']}", "rel": "alternate", "type": "text/html"}
            ]
        if collection in NULL_ACTIVE and obj.get("active") is True:
            obj["active"] = None
        for field in EMPTY_STRING_DATES.get(collection, ()):
            if field in obj and obj[field] is None:
                obj[field] = ""


def _link_inner_records(obj: dict[str, Any]) -> None:
    """A record expanded by ``nested_attributes`` (one level deep) keeps its own nested records as links."""
    for value in obj.values():
        for inner in value if isinstance(value, list) else [value]:
            if not isinstance(inner, dict) or len(inner) <= 3:
                continue
            path = str(inner.get("$path") or "")
            for collection, fields in NESTED_AS_LINKS.items():
                if path.startswith(f"/{collection}/"):
                    for field in fields:
                        held = inner.get(field)
                        if isinstance(held, dict) and "id" in held:
                            inner[field] = {k: held.get(k) for k in ("id", "displayed_as", "$path")}


def sage_numbers(value: Any, key: str = "") -> Any:
    """``value`` with every decimal string written as Sage writes it (see :func:`sage_decimal`)."""
    if isinstance(value, str):
        return sage_decimal(value) if key not in _TEXT_KEYS and _DECIMAL_RE.match(value) else value
    if isinstance(value, dict):
        return {k: sage_numbers(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [sage_numbers(v, key) for v in value]
    return value


def keeps_own_numbers(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OWN_NUMBER_FORMAT)
