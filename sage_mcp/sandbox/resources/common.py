"""Helpers several resources share: spec-derived length limits, addresses, references."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ...sage import spec
from ..context import COUNTRIES, Context, country_link, link
from ..errors import Problems

ADDRESS_TYPES = {
    "ACCOUNTS": "Accounts",
    "DELIVERY": "Delivery",
    "SALES": "Sales",
    "PURCHASING": "Purchasing",
}
_ADDRESS_TEXT_FIELDS = ("address_line_1", "address_line_2", "city", "postal_code", "region")


@functools.cache
def max_lengths(definition: str) -> dict[str, int]:
    """``maxLength`` of each string property of a spec definition (Sage enforces them)."""
    props = spec.load_spec()["definitions"][definition].get("properties", {})
    return {name: int(p["maxLength"]) for name, p in props.items() if "maxLength" in p}


def check_lengths(problems: Problems, definition: str, payload: Mapping[str, Any], prefix: str = "") -> None:
    for name, limit in max_lengths(definition).items():
        value = payload.get(name)
        if isinstance(value, str) and len(value) > limit:
            problems.add(prefix + name, f"is too long (maximum is {limit} characters)")


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def build_address(
    ctx: Context,
    problems: Problems,
    source: str,
    payload: Mapping[str, Any],
    existing: Mapping[str, Any] | None,
    *,
    default_type: str,
    is_main: bool,
    owner: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An ``Address`` from a request's address object, merged over ``existing`` (a partial update)."""
    check_lengths(problems, "Address", payload, source + ".")
    address: dict[str, Any] = dict(existing) if existing else {}
    if not address:
        address_id = ctx.new_id("address")
        address.update(
            {
                "id": address_id,
                "$path": f"/addresses/{address_id}",
                "created_at": ctx.now_iso,
                "deleted_at": None,
                "bank_account": None,
                "country_group": None,
                "name": None,
                "country": country_link("GB"),
                "address_type": link("address_types", default_type, ADDRESS_TYPES[default_type]),
            }
        )
        for name in _ADDRESS_TEXT_FIELDS:
            address[name] = None
    for name in _ADDRESS_TEXT_FIELDS:
        if name in payload:
            value = payload[name]
            address[name] = None if blank(value) else str(value).strip()
    if "name" in payload:
        address["name"] = None if blank(payload["name"]) else str(payload["name"])
    if not blank(payload.get("country_id")):
        country_id = str(payload["country_id"]).upper()
        if country_id not in COUNTRIES:
            problems.add(f"{source}.country_id", f"is not a known country: {payload['country_id']!r}")
        else:
            address["country"] = country_link(country_id)
    if not blank(payload.get("address_type_id")):
        type_id = str(payload["address_type_id"]).upper()
        if type_id not in ADDRESS_TYPES:
            problems.add(f"{source}.address_type_id", "must be one of " + ", ".join(ADDRESS_TYPES))
        else:
            address["address_type"] = link("address_types", type_id, ADDRESS_TYPES[type_id])
    address["is_main_address"] = is_main
    address["contact"] = owner
    address["updated_at"] = ctx.now_iso
    lines = [address.get(n) for n in ("address_line_1", "address_line_2", "city", "region", "postal_code")]
    address["displayed_as"] = "\n".join(str(x) for x in lines if x)
    return address


def artefact_address(address: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A contact's address as a ``SalesArtefactAddress`` snapshot on an invoice."""
    if not address:
        return None
    return {
        "id": address.get("id"),
        "displayed_as": address.get("displayed_as"),
        "$path": address.get("$path"),
        "address_line_1": address.get("address_line_1"),
        "address_line_2": address.get("address_line_2"),
        "city": address.get("city"),
        "postal_code": address.get("postal_code"),
        "region": address.get("region"),
        "country": address.get("country"),
        "address_type": address.get("address_type"),
        "country_group": None,
        "deleted_at": None,
    }
