"""Businesses, the user, and the X-Business header."""

from __future__ import annotations

from decimal import Decimal

import httpx2
from sandbox_support import error_of

from sage_mcp.sandbox import (
    FOREIGN_BUSINESS_ID,
    LEAD_BUSINESS_ID,
    SANDBOX_USER_ID,
    SECOND_BUSINESS_ID,
    THIRD_BUSINESS_ID,
)


def test_business_ids_look_like_sage_ids() -> None:
    for business_id in (LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, FOREIGN_BUSINESS_ID, SANDBOX_USER_ID):
        assert len(business_id) == 32 and int(business_id, 16) >= 0 and business_id == business_id.lower()


def test_businesses_lists_the_users_three_businesses_lead_first(api: httpx2.Client) -> None:
    response = api.get("/businesses")
    assert response.status_code == 200
    assert "x-business" not in response.headers
    body = response.json()
    assert body["$total"] == 3
    assert body["$items_per_page"] == 2147483647
    assert [b["id"] for b in body["$items"]] == [LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, THIRD_BUSINESS_ID]
    assert body["$items"][0] == {
        "id": LEAD_BUSINESS_ID,
        "displayed_as": "Hartley & Finch Ltd",
        "$path": f"/businesses/{LEAD_BUSINESS_ID}",
    }
    full = api.get("/businesses", params={"attributes": "all"}).json()["$items"]
    assert full[0]["subscriptions"][0]["active"] is True
    assert full[0]["country"] == {"id": "GB", "displayed_as": "United Kingdom (GB)"}
    assert full[1]["name"] == "Fern Studio" and full[2]["name"] == "Moorside Cycle Works"


def test_business_by_key_and_lead(api: httpx2.Client) -> None:
    lead = api.get("/businesses/lead")
    assert lead.status_code == 200
    assert lead.json()["id"] == LEAD_BUSINESS_ID
    assert lead.json()["name"] == "Hartley & Finch Ltd"
    second = api.get(f"/businesses/{SECOND_BUSINESS_ID}").json()
    assert second["name"] == "Fern Studio"
    assert second["subscriptions"][0]["id"] == "START"
    for key in (FOREIGN_BUSINESS_ID, "0" * 32, "nope"):
        response = api.get(f"/businesses/{key}")
        assert response.status_code == 404
        assert error_of(response)["$dataCode"] == "RecordNotFound"
    assert api.delete("/businesses/lead").status_code == 405


def test_user(api: httpx2.Client) -> None:
    response = api.get("/user")
    assert response.status_code == 200
    assert "x-business" not in response.headers
    user = response.json()
    assert user["id"] == SANDBOX_USER_ID
    assert (user["first_name"], user["last_name"], user["locale"]) == ("Sam", "Hartley", "en-GB")


def test_without_x_business_the_lead_business_is_used_and_echoed(api: httpx2.Client) -> None:
    response = api.get("/contacts")
    assert response.status_code == 200
    assert response.headers["x-business"] == LEAD_BUSINESS_ID


def test_each_business_has_its_own_data(api: httpx2.Client) -> None:
    lead = api.get("/contacts", params={"items_per_page": 200})
    second = api.get("/contacts", params={"items_per_page": 200}, headers={"X-Business": SECOND_BUSINESS_ID})
    assert second.headers["x-business"] == SECOND_BUSINESS_ID
    lead_names = {c["displayed_as"] for c in lead.json()["$items"]}
    second_names = {c["displayed_as"] for c in second.json()["$items"]}
    assert lead.json()["$total"] == 50
    assert second.json()["$total"] == 8
    assert not lead_names & second_names
    assert any(name.startswith("Little Owl Bookshop") for name in second_names)
    # an id of one business is unknown in the other
    lead_contact = lead.json()["$items"][0]["id"]
    other = api.get(f"/contacts/{lead_contact}", headers={"X-Business": SECOND_BUSINESS_ID})
    assert other.status_code == 404
    assert other.headers["x-business"] == SECOND_BUSINESS_ID
    # the second business charges VAT at the standard rate (it is on the cash accounting scheme)
    invoices = api.get(
        "/sales_invoices",
        params={"attributes": "net_amount,tax_amount", "items_per_page": 200},
        headers={"X-Business": SECOND_BUSINESS_ID},
    ).json()
    assert invoices["$total"] == 15
    assert all(Decimal(i["tax_amount"]) == Decimal(i["net_amount"]) / 5 for i in invoices["$items"])


def test_inaccessible_or_unknown_business_is_refused(api: httpx2.Client) -> None:
    for business in (FOREIGN_BUSINESS_ID, "0123456789abcdef0123456789abcdef", "not-a-business-id"):
        response = api.get("/contacts", headers={"X-Business": business})
        assert response.status_code == 403, business
        item = error_of(response)
        assert item["$dataCode"] == "MultiUserAccessDenied"
        assert item["$source"] == "X-Business"
        assert "x-business" not in response.headers
    # /businesses and /user ignore the header
    assert api.get("/user", headers={"X-Business": FOREIGN_BUSINESS_ID}).status_code == 200
