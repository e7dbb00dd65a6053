"""Attachments toolset through a real MCP client against the sandbox: upload from a path or base64, the
duplicate check that stands in for idempotency, list, and download back byte for byte."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxServer
from sage_mcp.server import create_server
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio

# A one-page PDF and a 1x1 PNG, small but real.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture(params=["auto", "legacy"])
async def client(request: pytest.FixtureRequest, sandbox: SandboxServer, tmp_path: Path) -> AsyncIterator[Client]:
    """The shared client fixture's two protocol eras, with the attachments toolset (off by default) enabled."""
    settings = sandbox_settings(sandbox, tmp_path / "data", toolsets="all")
    async with Client(create_server(settings), mode=request.param) as c:
        yield c


async def an_expense(client: Client) -> dict[str, Any]:
    return await ok(
        client,
        "record_other_payment",
        {"reference": f"R{secrets.token_hex(3)}", "lines": [{"ledger_account_id": "7502", "total_amount": "18.00"}]},
    )


async def a_customer(client: Client) -> dict[str, Any]:
    body = {"contact": {"name": f"Attach {secrets.token_hex(3)}", "contact_type_ids": ["CUSTOMER"]}}
    return dict((await ok(client, "sage_api_write", {"method": "POST", "path": "/contacts", "body": body}))["data"])


async def test_expense_receipt_attached_once_and_downloaded_back_identical(client: Client, tmp_path: Path) -> None:
    expense = await an_expense(client)
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(PDF)
    target = {"type": "other_payment", "id": expense["id"]}

    uploaded = await ok(
        client, "upload_attachment", {"attach_to": target, "path": str(receipt), "description": "Phone bill"}
    )
    assert (uploaded["file_name"], uploaded["mime_type"], uploaded["size"]) == (
        "receipt.pdf",
        "application/pdf",
        len(PDF),
    )
    assert uploaded["attached_to_id"] == expense["id"] and "existing" not in uploaded

    # A retry (Sage would duplicate it) finds the same file on the record and returns it.
    again = await ok(
        client, "upload_attachment", {"attach_to": target, "path": str(receipt), "idempotency_key": "retry-1"}
    )
    assert again["id"] == uploaded["id"] and again["existing"] is True and "not uploaded again" in again["note"]
    listed = await ok(client, "list_attachments", {"attach_to": target})
    assert listed["total"] == 1 and listed["items"][0]["id"] == uploaded["id"]
    assert listed["items"][0]["description"] == "Phone bill"

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    saved = await ok(client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(out_dir)})
    assert saved["path"] == str(out_dir / "receipt.pdf") and saved["size"] == len(PDF)
    assert saved["mime_type"] == "application/pdf" and "content" not in saved and "file" not in saved
    assert (out_dir / "receipt.pdf").read_bytes() == PDF

    message = await err(client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(out_dir)})
    assert "already exists" in message and "overwrite" in message
    (out_dir / "receipt.pdf").write_bytes(b"changed")
    await ok(client, "download_attachment", {"attachment_id": uploaded["id"], "path": saved["path"], "overwrite": True})
    assert (out_dir / "receipt.pdf").read_bytes() == PDF

    # The same name with other content is another file: it is uploaded.
    receipt.write_bytes(PDF + b"%second page\n")
    second = await ok(client, "upload_attachment", {"attach_to": target, "path": str(receipt)})
    assert second["id"] != uploaded["id"]
    assert (await ok(client, "list_attachments", {"attach_to": target}))["total"] == 2


async def test_base64_image_to_a_contact(client: Client, tmp_path: Path) -> None:
    customer = await a_customer(client)
    target = {"type": "contact", "id": customer["id"]}
    uploaded = await ok(
        client,
        "upload_attachment",
        {"attach_to": target, "content_base64": base64.b64encode(PNG).decode(), "file_name": "logo.png"},
    )
    assert (uploaded["mime_type"], uploaded["size"]) == ("image/png", len(PNG))
    saved = await ok(
        client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(tmp_path / "copy.png")}
    )
    assert Path(saved["path"]).read_bytes() == PNG


async def test_upload_checks(client: Client, tmp_path: Path) -> None:
    expense = await an_expense(client)
    target = {"type": "other_payment", "id": expense["id"]}
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (2_621_440 - 8))
    assert big.stat().st_size == 2_621_441
    message = await err(client, "upload_attachment", {"attach_to": target, "path": str(big)})
    assert "2,621,441 bytes" in message and "2,621,440" in message and "Nothing was sent" in message
    encoded = base64.b64encode(b"0" * 2_621_441).decode()
    message = await err(
        client, "upload_attachment", {"attach_to": target, "content_base64": encoded, "file_name": "a.pdf"}
    )
    assert "content_base64" in message and "2,621,440" in message

    small = tmp_path / "note.pdf"
    small.write_bytes(PDF)
    message = await err(
        client, "upload_attachment", {"attach_to": target, "path": str(small), "content_base64": "AAAA"}
    )
    assert "exactly one of path" in message
    message = await err(client, "upload_attachment", {"attach_to": target})
    assert "exactly one of path" in message
    message = await err(client, "upload_attachment", {"attach_to": target, "path": "note.pdf"})
    assert "absolute path" in message
    message = await err(client, "upload_attachment", {"attach_to": target, "path": str(tmp_path / "nope.pdf")})
    assert "is not a file" in message
    message = await err(client, "upload_attachment", {"attach_to": target, "content_base64": "AAAA"})
    assert "file_name is required" in message
    message = await err(
        client, "upload_attachment", {"attach_to": target, "content_base64": "not base64!", "file_name": "a.pdf"}
    )
    assert "not valid base64" in message
    message = await err(
        client, "upload_attachment", {"attach_to": target, "content_base64": "AAAA", "file_name": "scan"}
    )
    assert "file_name" in message and "file type" in message
    message = await err(client, "upload_attachment", {"attach_to": {"type": "journal", "id": "x"}, "path": str(small)})
    assert "attach_to.type" in message and "sales_invoice" in message

    # Sage's 422s, with the field renamed to the argument
    text = tmp_path / "notes.txt"
    text.write_text("plain text")
    message = await err(client, "upload_attachment", {"attach_to": target, "path": str(text)})
    assert "HTTP 422" in message and "mime_type" in message
    message = await err(
        client, "upload_attachment", {"attach_to": {"type": "sales_invoice", "id": "0" * 32}, "path": str(small)}
    )
    assert "HTTP 422" in message and "attach_to.id" in message and "not found" in message
    assert (await ok(client, "list_attachments", {"attach_to": target}))["total"] == 0


async def test_list_and_download_not_found_and_validation(client: Client, tmp_path: Path) -> None:
    message = await err(client, "list_attachments", {"attach_to": {"type": "sales_invoice", "id": "0" * 32}})
    assert "attach_to.id" in message and "list_sales_invoices" in message
    message = await err(client, "list_attachments", {"attach_to": {"type": "contact_payment", "id": "0" * 32}})
    assert "list_payments" in message
    message = await err(client, "list_attachments", {"attach_to": {"type": "contact"}})
    assert "attach_to.id: required" in message
    customer = await a_customer(client)
    empty = await ok(client, "list_attachments", {"attach_to": {"type": "contact", "id": customer["id"]}})
    assert empty["total"] == 0 and empty["items"] == []

    message = await err(client, "download_attachment", {"attachment_id": "0" * 32, "path": str(tmp_path)})
    assert "list_attachments" in message
    message = await err(client, "download_attachment", {"attachment_id": "x"})
    assert "path: required" in message
    message = await err(
        client, "download_attachment", {"attachment_id": "x", "path": str(tmp_path), "overwrite": "yes"}
    )
    assert "overwrite" in message and "boolean" in message

    uploaded = await ok(
        client,
        "upload_attachment",
        {
            "attach_to": {"type": "contact", "id": customer["id"]},
            "content_base64": base64.b64encode(PNG).decode(),
            "file_name": "card.png",
        },
    )
    message = await err(
        client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(tmp_path / "no" / "dir.png")}
    )
    assert "does not exist" in message
    message = await err(client, "download_attachment", {"attachment_id": uploaded["id"], "path": "card.png"})
    assert "absolute path" in message
