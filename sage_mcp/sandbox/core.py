"""The "core" endpoints: ``/businesses`` and ``/user`` (not tied to one business)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import country_link, public
from .errors import Problems, forbidden, not_found
from .listing import UNPAGINATED_SIZE, select_attributes
from .store import Store

BUSINESS_FIELDS = (
    "name",
    "address_line_1",
    "address_line_2",
    "city",
    "region",
    "postal_code",
    "telephone",
    "mobile",
    "website",
)
USER_FIELDS = ("first_name", "last_name", "initials", "locale")


def build_business(
    business_id: str,
    *,
    name: str,
    address: tuple[str, str | None, str, str | None, str],
    telephone: str | None,
    website: str | None,
    subscription: tuple[str, str],
    created_at: str,
    vat_registered: bool,
    vat_number: str | None = None,
    tax_scheme: str | None = None,
    flat_rate_percentage: str | None = None,
) -> dict[str, Any]:
    """A business record; ``tax_scheme`` (default ``STANDARD`` when VAT registered, else ``NOT_REGISTERED``)
    and ``flat_rate_percentage`` seed its financial settings."""
    line1, line2, city, region, postcode = address
    country = country_link("GB")
    return {
        "id": business_id,
        "displayed_as": name,
        "$path": f"/businesses/{business_id}",
        "created_at": created_at,
        "updated_at": created_at,
        "name": name,
        "address_line_1": line1,
        "address_line_2": line2,
        "city": city,
        "region": region,
        "postal_code": postcode,
        "country": {"id": country["id"], "displayed_as": country["displayed_as"]},
        "telephone": telephone,
        "mobile": None,
        "website": website,
        "is_demo": False,
        "ni_based": False,
        "subscriptions": [
            {
                "id": subscription[0],
                "displayed_as": subscription[1],
                "active": True,
                "status": "ACTIVE",
                "created_at": created_at,
                "updated_at": created_at,
            }
        ],
        "_vat_registered": vat_registered,
        "_vat_number": vat_number,
        "_tax_scheme": tax_scheme or ("STANDARD" if vat_registered else "NOT_REGISTERED"),
        "_flat_rate_percentage": flat_rate_percentage,
    }


def list_businesses(store: Store, user_id: str, query: Mapping[str, str]) -> dict[str, Any]:
    """``GET /businesses``: every business the user may use, lead first; not paginated."""
    items = [
        select_attributes(public(b), query.get("attributes"), default_all=False) for b in store.user_businesses(user_id)
    ]
    return {
        "$total": len(items),
        "$page": 1,
        "$next": None,
        "$back": None,
        "$items_per_page": UNPAGINATED_SIZE,
        "$items": items,
    }


def resolve_business_key(store: Store, user_id: str, key: str) -> dict[str, Any]:
    """``/businesses/{key}``: an id the user may use, or ``lead``."""
    business_id = store.lead_business_id(user_id) if key == "lead" else key
    business = store.get_business(business_id) if business_id else None
    if business is None or not store.may_use_business(user_id, str(business["id"])):
        raise not_found(f"The business {key!r} was not found.")
    return business


def update_business(store: Store, business: dict[str, Any], payload: Mapping[str, Any], now_iso: str) -> dict[str, Any]:
    problems = Problems()
    if "name" in payload and not str(payload.get("name") or "").strip():
        problems.add("name", "can't be blank")
    problems.raise_if_any()
    for field in BUSINESS_FIELDS:
        if field in payload:
            business[field] = payload[field]
    business["displayed_as"] = business["name"]
    business["updated_at"] = now_iso
    row = store.execute("SELECT position, owner_user_id FROM businesses WHERE id = ?", (business["id"],)).fetchone()
    store.put_business(business, int(row["position"]), str(row["owner_user_id"]))
    return business


def get_user(store: Store, user_id: str) -> dict[str, Any]:
    user = store.get_user(user_id)
    if user is None:  # pragma: no cover - tokens only exist for seeded users
        raise forbidden("The user no longer exists.")
    return user


def update_user(store: Store, user: dict[str, Any], payload: Mapping[str, Any], now_iso: str) -> dict[str, Any]:
    for field in USER_FIELDS:
        if field in payload and payload[field] is not None:
            user[field] = payload[field]
    user["displayed_as"] = f"{user['first_name']} {user['last_name']}".strip()
    user["updated_at"] = now_iso
    store.put_user(user)
    return user
