"""Helpers several resources share: spec-derived length limits, required fields, values taken from
reference tables, uniqueness of codes, addresses and contact persons."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from ...sage import spec
from ..context import COUNTRIES, Context, country_link, link, link_to
from ..errors import Problems

ADDRESS_TYPES = {
    "ACCOUNTS": "Accounts",
    "DELIVERY": "Delivery",
    "SALES": "Sales",
    "PURCHASING": "Purchasing",
}
CONTACT_PERSON_TYPES = {"ACCOUNTS": "Accounts", "SALES": "Sales", "PURCHASING": "Purchasing", "CONTACT": "Contact"}
PERSON_TEXT_FIELDS = ("name", "job_title", "telephone", "mobile", "email", "fax")
ADDRESS_TEXT_FIELDS = ("address_line_1", "address_line_2", "city", "postal_code", "region")
BANK_DETAIL_FIELDS = ("account_name", "account_number", "sort_code", "bic", "iban")


_UK_VAT_RE = re.compile(r"^(?:GB|XI)?(?:\d{9}|\d{12}|GD[0-4]\d{2}|HA[5-9]\d{2})$")
_OTHER_VAT_RE = re.compile(r"^[A-Z]{2}[0-9A-Z+*]{2,13}$")


def vat_number_problem(value: str) -> str | None:
    """Why ``value`` is not a VAT number, or ``None`` when its format is right (Sage: "The format will be
    validated").  Checked (format only, not HMRC's check digits): spaces are ignored; a UK or Northern
    Ireland number is 9 digits, 12 digits (a branch), ``GD`` + 3 digits (government departments, 000-499)
    or ``HA`` + 3 digits (health authorities, 500-999), with or without ``GB``/``XI``; any other country's
    number is its two-letter prefix and 2 to 13 letters or digits."""
    text = re.sub(r"\s+", "", value).upper()
    if _UK_VAT_RE.match(text):
        return None
    if text[:2] not in ("GB", "XI") and _OTHER_VAT_RE.match(text) and not text[:2].isdigit():
        return None
    return (
        f"{value!r} is not a valid VAT number (a UK one is GB and 9 digits, e.g. GB123456789; "
        "other countries: their two-letter prefix and the number)"
    )


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


def require(problems: Problems, payload: Mapping[str, Any], names: tuple[str, ...], *, creating: bool) -> None:
    """On create each of ``names`` is required; on update it may be left out but not blanked."""
    for name in names:
        if creating and blank(payload.get(name)):
            problems.add(name, "This field is required.")
        elif not creating and name in payload and blank(payload[name]):
            problems.add(name, "can't be blank")


def find(
    ctx: Context, problems: Problems, source: str, resource: str, label: str, record_id: object, where: str = ""
) -> dict[str, Any] | None:
    """The record of ``resource`` that ``record_id`` names; a problem on ``source`` when it is blank
    ("required") or unknown (``where`` is appended to the message: " (lines item 2)")."""
    if blank(record_id):
        problems.add(source, "This field is required." + where)
        return None
    found = ctx.get(resource, str(record_id))
    if found is None:
        problems.add(source, f"The {label} {record_id!r} was not found.{where}")
    return found


def set_link(
    ctx: Context,
    problems: Problems,
    record: dict[str, Any],
    payload: Mapping[str, Any],
    field: str,
    resource: str,
    label: str,
    key: str | None = None,
) -> None:
    """An optional ``<x>_id`` of a request sets the link ``<x>`` (or ``key``): blank clears it, an
    unknown id is a problem on ``field``, absent leaves it as it is."""
    if field not in payload:
        return
    target = key or field.removesuffix("_id")
    if blank(payload[field]):
        record[target] = None
    elif (found := find(ctx, problems, field, resource, label, payload[field])) is not None:
        record[target] = link_to(resource, found)


def pick(
    problems: Problems,
    payload: Mapping[str, Any],
    parameter: str,
    table: Mapping[str, str],
    collection: str,
    *,
    source: str | None = None,
    upper: bool = False,
) -> dict[str, Any] | None:
    """The link to the reference entry ``payload[parameter]`` names (``None`` when it is blank, or not
    one of ``table``: then a problem on ``source``, default ``parameter``)."""
    value = payload.get(parameter)
    if blank(value):
        return None
    key = str(value).upper() if upper else value
    if key not in table:
        problems.add(source or parameter, "must be one of " + ", ".join(table))
        return None
    return link(collection, str(key), table[str(key)])


def taken(ctx: Context, resource: str, field: str, value: str, own_id: str | None) -> bool:
    """Whether another record of ``resource`` has ``value`` in ``field`` (case-insensitive)."""
    wanted = value.casefold()
    return any(
        str(found or "").casefold() == wanted and record_id != own_id
        for found, record_id in ctx.store.fields(ctx.business_id, resource, f"$.{field}", "$.id")
    )


def merge_object(record: dict[str, Any], payload: Mapping[str, Any], field: str, keys: tuple[str, ...]) -> None:
    """A nested object of a PUT (``bank_account_details`` ...): ``null`` clears it, otherwise the given
    ``keys`` replace those of the current object (missing keys start as ``null``)."""
    if field not in payload:
        return
    value = payload[field]
    if value is None:
        record[field] = None
        return
    merged = dict(record.get(field) or dict.fromkeys(keys))
    merged.update({k: value[k] for k in keys if k in value})
    record[field] = merged


def looks_like_email(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(local) and bool(at) and "." in domain and not domain.startswith(".") and " " not in value


def apply_person(problems: Problems, person: dict[str, Any], payload: Mapping[str, Any], prefix: str = "") -> None:
    """The fields of a ``ContactPerson`` body (``prefix`` goes before every ``$source``)."""
    check_lengths(problems, "ContactPerson", payload, prefix)
    for name in PERSON_TEXT_FIELDS:
        if name in payload:
            person[name] = None if blank(payload[name]) else str(payload[name]).strip()
    email = person.get("email")
    if "email" in payload and email and not looks_like_email(email):
        problems.add(prefix + "email", f"is not a valid email address: {email!r}")
    if payload.get("contact_person_type_ids") is not None:
        types = []
        for type_id in payload["contact_person_type_ids"]:
            if type_id not in CONTACT_PERSON_TYPES:
                problems.add(prefix + "contact_person_type_ids", "must contain only " + ", ".join(CONTACT_PERSON_TYPES))
            else:
                types.append(link("contact_person_types", type_id, CONTACT_PERSON_TYPES[type_id]))
        person["contact_person_types"] = types
    if isinstance(payload.get("is_preferred_contact"), bool):
        person["is_preferred_contact"] = payload["is_preferred_contact"]


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
        for name in ADDRESS_TEXT_FIELDS:
            address[name] = None
    for name in ADDRESS_TEXT_FIELDS:
        if name in payload:
            value = payload[name]
            address[name] = None if blank(value) else str(value).strip()
    if "name" in payload:
        address["name"] = None if blank(payload["name"]) else str(payload["name"])
    apply_country_and_type(problems, source, address, payload)
    address["is_main_address"] = is_main
    address["contact"] = owner
    address["updated_at"] = ctx.now_iso
    address["displayed_as"] = address_text(address)
    return address


def apply_country_and_type(
    problems: Problems, source: str, address: dict[str, Any], payload: Mapping[str, Any]
) -> None:
    """``country_id`` and ``address_type_id`` of an address body (``source`` is the address field)."""
    if not blank(payload.get("country_id")):
        country_id = str(payload["country_id"]).upper()
        if country_id not in COUNTRIES:
            problems.add(f"{source}.country_id", f"is not a known country: {payload['country_id']!r}")
        else:
            address["country"] = country_link(country_id)
    found = pick(
        problems,
        payload,
        "address_type_id",
        ADDRESS_TYPES,
        "address_types",
        source=f"{source}.address_type_id",
        upper=True,
    )
    if found is not None:
        address["address_type"] = found


def address_text(address: Mapping[str, Any]) -> str:
    """An address's ``displayed_as``: its lines, town, region and postcode, one a line."""
    lines = [address.get(n) for n in ("address_line_1", "address_line_2", "city", "region", "postal_code")]
    return "\n".join(str(x) for x in lines if x)


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
