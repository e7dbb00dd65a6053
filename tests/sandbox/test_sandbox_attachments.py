"""Attachments over real HTTP: base64 upload, listing by context, raw download, limits, counts."""

from __future__ import annotations

import base64
from typing import Any

import httpx2
import pytest
from sandbox_support import couldnt_find, error_of, items, sources

from sage_mcp.sandbox import SandboxServer

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + bytes(range(256))


@pytest.fixture(scope="module")
def rent(wapi: httpx2.Client) -> dict[str, Any]:
    """A seeded other payment to attach receipts to."""
    return items(wapi, "/other_payments", search="STORE RENT")[0]


def upload(api: httpx2.Client, context_type: str, context_id: str, **extra: Any) -> httpx2.Response:
    body = {
        "file": base64.b64encode(PDF).decode(),
        "file_name": "receipt.pdf",
        "mime_type": "application/pdf",
        "attachment_context_type_id": context_type,
        "attachment_context_id": context_id,
        **extra,
    }
    return api.post("/attachments", json={"attachment": body})


def test_context_types(api: httpx2.Client) -> None:
    ids = {t["id"] for t in items(api, "/attachment_context_types")}
    assert {"SALES_INVOICE", "PURCHASE_INVOICE", "CONTACT", "CONTACT_PAYMENT", "OTHER_PAYMENT", "JOURNAL"} <= ids
    assert api.get("/attachment_context_types/OTHER_PAYMENT").json()["displayed_as"] == "Other Payment"


def test_upload_list_download(wapi: httpx2.Client, writable_server: SandboxServer, rent: dict[str, Any]) -> None:
    created = upload(wapi, "OTHER_PAYMENT", rent["id"], description="Landlord's receipt", file_size=len(PDF))
    assert created.status_code == 201, created.text
    attachment = created.json()
    assert attachment["file_size"] == len(PDF) and attachment["file_extension"] == ".pdf"
    assert attachment["attachment_context"]["id"] == rent["id"]
    assert attachment["attachment_context_type"]["id"] == "OTHER_PAYMENT"
    assert attachment["transaction"]["id"] == rent["transaction"]["id"]
    assert attachment["$file_path"] == f"/attachments/{attachment['id']}/file"
    listed = items(wapi, "/attachments", attachment_context_type_id="OTHER_PAYMENT", attachment_context_id=rent["id"])
    assert [a["id"] for a in listed] == [attachment["id"]]
    assert base64.b64decode(listed[0]["file"]) == PDF
    half = wapi.get("/attachments", params={"attachment_context_id": rent["id"]})
    assert half.status_code == 422 and error_of(half)["$source"] == "attachment_context_type_id"

    token = writable_server.mint_tokens()["access_token"]
    with httpx2.Client(base_url=writable_server.api_url, headers={"Authorization": f"Bearer {token}"}) as raw:
        download = raw.get(attachment["$file_path"], headers={"Accept": "application/octet-stream"})
        assert download.status_code == 200
        assert download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        refused = raw.get(attachment["$file_path"], headers={"Accept": "application/json"})
        assert refused.status_code == 406 and error_of(refused)["$source"] == "Accept"
        assert raw.post(attachment["$file_path"]).status_code == 405

    transaction = wapi.get(rent["transaction"]["$path"]).json()
    assert transaction["number_of_attachments"] == "1"
    with_files = items(wapi, "/other_payments", has_attachments="true")
    assert [p["id"] for p in with_files] == [rent["id"]]
    assert rent["id"] not in {p["id"] for p in items(wapi, "/other_payments", has_attachments="false")}
    assert [t["id"] for t in items(wapi, "/transactions", has_attachments="true")] == [rent["transaction"]["id"]]

    renamed = wapi.put(attachment["$path"], json={"attachment": {"description": "Rent receipt", "is_public": True}})
    assert renamed.status_code == 200 and renamed.json()["description"] == "Rent receipt"
    assert wapi.delete(attachment["$path"]).status_code == 204
    assert wapi.get(attachment["$path"]).status_code == 404
    assert wapi.get(rent["transaction"]["$path"]).json()["number_of_attachments"] == "0"
    tombstones = items(wapi, "/attachments", deleted_since="2000-01-01")
    assert [a["id"] for a in tombstones] == [attachment["id"]] and tombstones[0]["file"] is None


def test_attachment_limits_and_422s(wapi: httpx2.Client, rent: dict[str, Any]) -> None:
    too_big = base64.b64encode(b"x" * (2_621_440 + 1)).decode()
    oversize = wapi.post(
        "/attachments",
        json={"attachment": {"file": too_big, "file_name": "big.pdf", "mime_type": "application/pdf"}},
    )
    assert sources(oversize) == {"file"}
    assert "2621440" in error_of(oversize)["$message"]
    not_base64 = wapi.post(
        "/attachments", json={"attachment": {"file": "%%%", "file_name": "a.pdf", "mime_type": "application/pdf"}}
    )
    assert sources(not_base64) == {"file"}
    assert couldnt_find(upload(wapi, "OTHER_PAYMENT", "nope")) == {"OtherPayment"}
    assert sources(upload(wapi, "SPREADSHEET", rent["id"])) == {"attachment_context_type_id"}
    assert sources(upload(wapi, "OTHER_PAYMENT", rent["id"], mime_type="application/x-msdownload")) == {"mime_type"}
    assert sources(upload(wapi, "OTHER_PAYMENT", rent["id"], file_size=3)) == {"file_size"}


def test_attachments_ignore_idempotency(wapi: httpx2.Client) -> None:
    contact = items(wapi, "/contacts", search="Kestrel")[0]
    key = "0d5c4b3a29187f6e5d4c3b2a19081726"
    first = upload(wapi, "CONTACT", contact["id"], idempotency_id=key)
    again = upload(wapi, "CONTACT", contact["id"], idempotency_id=key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] != again.json()["id"]  # Sage does not list attachments as idempotent
    listed = items(wapi, "/attachments", attachment_context_type_id="CONTACT", attachment_context_id=contact["id"])
    assert len(listed) == 2 and all(a["transaction"] is None for a in listed)
    paid = wapi.get("/sales_invoices", params={"status_id": "PAID", "items_per_page": 1, "attributes": "transaction"})
    invoice = paid.json()["$items"][0]
    on_invoice = upload(wapi, "SALES_INVOICE", invoice["id"])
    assert on_invoice.status_code == 201, on_invoice.text
    assert on_invoice.json()["transaction"]["id"] == invoice["transaction"]["id"]
