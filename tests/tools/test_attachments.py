"""Attachments toolset through a real MCP client against the sandbox: upload from a path or base64, the
duplicate check that stands in for idempotency, list, and download back byte for byte; local files only
inside the allowed folders (SAGE_MCP_FILE_ROOTS, a local client's MCP roots), never sage-mcp's own data."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import ListRootsResult, Root
from pydantic import FileUrl

from sage_mcp.demo import sandbox_settings
from sage_mcp.dispatch import Dispatcher
from sage_mcp.registry import Registry
from sage_mcp.sage.client import SageClient
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
    """The shared client fixture's two protocol eras, with the attachments toolset (off by default) enabled
    and the test's folder allowed (it also holds sage-mcp's data folder, ``tmp_path/data``)."""
    settings = sandbox_settings(sandbox, tmp_path / "data", toolsets="all", file_roots=str(tmp_path))
    async with Client(create_server(settings), mode=request.param) as c:
        yield c


async def an_expense(client: Client) -> dict[str, Any]:
    return await ok(
        client,
        "record_payment",
        {
            "type": "other_payment",
            "reference": f"R{secrets.token_hex(3)}",
            "lines": [{"ledger_account_id": "7502", "total_amount": "18.00"}],
        },
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
    assert "attach_to.id" in message and "list_invoices" in message
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


# -- local files only inside the allowed folders --------------------------------------------------------------------


@pytest.fixture
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside every root, holding a file a prompt-injected model would like to read."""
    folder = tmp_path_factory.mktemp("elsewhere")
    (folder / "secret.pdf").write_bytes(PDF)
    return folder


def refusal_names_path(message: str) -> None:
    assert message.startswith("path: "), message
    assert PDF.decode("latin-1") not in message


async def test_upload_refuses_sage_mcps_own_data_and_anything_outside_the_roots(
    client: Client, tmp_path: Path, elsewhere: Path
) -> None:
    expense = await an_expense(client)  # a write, so the audit log exists
    target = {"type": "other_payment", "id": expense["id"]}
    data = tmp_path / "data"
    store, audit = data / "tokens.json", data / "audit.jsonl"
    assert store.is_file() and audit.is_file()
    (tmp_path / "to-store.pdf").symlink_to(store)
    os.link(store, tmp_path / "store-copy.pdf")  # a hard link has no path that gives it away
    (data / "http_token").write_text("the HTTP credential")
    os.link(data / "http_token", tmp_path / "credential.pdf")
    (tmp_path / "to-elsewhere.pdf").symlink_to(elsewhere / "secret.pdf")
    (tmp_path / "docs").mkdir()

    own_data = [
        str(store),
        str(audit),
        str(tmp_path / "to-store.pdf"),
        str(tmp_path / "store-copy.pdf"),
        str(tmp_path / "credential.pdf"),
        str(tmp_path / "docs" / ".." / "data" / "tokens.json"),
        str(data / "." / "tokens.json"),
    ]
    for path in own_data:
        message = await err(client, "upload_attachment", {"attach_to": target, "path": path, "file_name": "t.pdf"})
        refusal_names_path(message)
        assert "sage-mcp's own data" in message, path
        assert store.read_text() not in message
    outside = [
        str(elsewhere / "secret.pdf"),
        str(tmp_path / "to-elsewhere.pdf"),
        str(tmp_path / ".." / elsewhere.name / "secret.pdf"),
        str(tmp_path / "docs" / ".." / ".." / elsewhere.name / "secret.pdf"),
    ]
    for path in outside:
        message = await err(client, "upload_attachment", {"attach_to": target, "path": path})
        refusal_names_path(message)
        assert "outside the folders sage-mcp may use" in message and str(tmp_path) in message, path
    # Whether a file outside exists is not given away either.
    message = await err(client, "upload_attachment", {"attach_to": target, "path": str(elsewhere / "nope.pdf")})
    assert "outside the folders" in message
    assert (await ok(client, "list_attachments", {"attach_to": target}))["total"] == 0

    # A symlink that stays inside the root is fine.
    (tmp_path / "docs" / "receipt.pdf").write_bytes(PDF)
    (tmp_path / "latest.pdf").symlink_to(tmp_path / "docs" / "receipt.pdf")
    uploaded = await ok(client, "upload_attachment", {"attach_to": target, "path": str(tmp_path / "latest.pdf")})
    assert (uploaded["file_name"], uploaded["size"]) == ("receipt.pdf", len(PDF))


async def test_download_never_overwrites_unasked_never_leaves_the_roots_never_touches_own_data(
    client: Client, tmp_path: Path, elsewhere: Path
) -> None:
    customer = await a_customer(client)
    uploaded = await ok(
        client,
        "upload_attachment",
        {
            "attach_to": {"type": "contact", "id": customer["id"]},
            "content_base64": base64.b64encode(PNG).decode(),
            "file_name": "card.png",
        },
    )
    attachment = uploaded["id"]
    store = tmp_path / "data" / "tokens.json"
    store_before = store.read_bytes()
    victim = elsewhere / "victim.png"
    victim.write_bytes(b"keep me")
    (tmp_path / "out.png").symlink_to(victim)
    (tmp_path / "dangling.png").symlink_to(elsewhere / "new.png")
    (tmp_path / "store-link.json").symlink_to(store)
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"mine")

    for path, overwrite in [
        (tmp_path / "out.png", True),
        (tmp_path / "out.png", False),
        (tmp_path / "dangling.png", False),
        (elsewhere, False),
        (tmp_path / ".." / elsewhere.name / "x.png", False),
    ]:
        message = await err(
            client, "download_attachment", {"attachment_id": attachment, "path": str(path), "overwrite": overwrite}
        )
        refusal_names_path(message)
        assert "outside the folders" in message, path
    for path in (store, tmp_path / "store-link.json", tmp_path / "data", tmp_path / "data" / "fresh.png"):
        message = await err(
            client, "download_attachment", {"attachment_id": attachment, "path": str(path), "overwrite": True}
        )
        refusal_names_path(message)
        assert "sage-mcp's own data" in message, path
    message = await err(client, "download_attachment", {"attachment_id": attachment, "path": str(existing)})
    assert message.startswith("path: ") and "already exists" in message and "overwrite: true" in message
    assert victim.read_bytes() == b"keep me" and not (elsewhere / "new.png").exists()
    assert store.read_bytes() == store_before and existing.read_bytes() == b"mine"
    assert not (tmp_path / "data" / "fresh.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".sage-download-")) == []

    saved = await ok(
        client, "download_attachment", {"attachment_id": attachment, "path": str(existing), "overwrite": True}
    )
    assert saved["path"] == str(existing) and existing.read_bytes() == PNG
    saved = await ok(client, "download_attachment", {"attachment_id": attachment, "path": str(tmp_path)})
    assert saved["path"] == str(tmp_path / "card.png") and (tmp_path / "card.png").read_bytes() == PNG


async def test_without_any_root_local_paths_are_refused_and_base64_still_works(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    settings = sandbox_settings(sandbox, tmp_path / "data", toolsets="all")
    assert settings.file_roots == ""
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(PDF)
    async with Client(create_server(settings)) as client:
        expense = await an_expense(client)
        target = {"type": "other_payment", "id": expense["id"]}
        message = await err(client, "upload_attachment", {"attach_to": target, "path": str(receipt)})
        assert message.startswith("path: ") and "no folder is allowed" in message
        assert "SAGE_MCP_FILE_ROOTS" in message and "root" in message
        uploaded = await ok(
            client,
            "upload_attachment",
            {"attach_to": target, "content_base64": base64.b64encode(PDF).decode(), "file_name": "receipt.pdf"},
        )
        message = await err(client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(tmp_path)})
        assert message.startswith("path: ") and "may not write local files" in message
        assert "SAGE_MCP_FILE_ROOTS" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "receipt.pdf"]


async def test_roots_shared_by_a_local_legacy_client_allow_that_folder_only(
    sandbox: SandboxServer, tmp_path: Path, elsewhere: Path
) -> None:
    shared = tmp_path / "shared folder"
    shared.mkdir()
    (shared / "receipt.pdf").write_bytes(PDF)
    asked: list[str] = []

    async def roots(_ctx: Any) -> ListRootsResult:
        asked.append("roots/list")
        return ListRootsResult(roots=[Root(uri=FileUrl(shared.as_uri()), name="receipts")])

    settings = sandbox_settings(sandbox, tmp_path / "data", toolsets="all")
    async with Client(create_server(settings), mode="legacy", list_roots_callback=roots) as client:
        expense = await an_expense(client)
        target = {"type": "other_payment", "id": expense["id"]}
        uploaded = await ok(client, "upload_attachment", {"attach_to": target, "path": str(shared / "receipt.pdf")})
        assert uploaded["size"] == len(PDF) and asked == ["roots/list"]
        message = await err(client, "upload_attachment", {"attach_to": target, "path": str(elsewhere / "secret.pdf")})
        assert "outside the folders" in message and str(shared) in message
        saved = await ok(
            client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(shared / "copy.pdf")}
        )
        assert (shared / "copy.pdf").read_bytes() == PDF and saved["path"] == str(shared / "copy.pdf")
        # Only tools that touch local files ask.
        await ok(client, "list_attachments", {"attach_to": target})
        assert len(asked) == 3

    # The 2026-07-28 protocol has no server-to-client requests: there only SAGE_MCP_FILE_ROOTS counts.
    async with Client(create_server(settings), mode="auto", list_roots_callback=roots) as client:
        target = {"type": "other_payment", "id": (await an_expense(client))["id"]}
        message = await err(client, "upload_attachment", {"attach_to": target, "path": str(shared / "receipt.pdf")})
        assert "no folder is allowed" in message and "SAGE_MCP_FILE_ROOTS" in message
    assert len(asked) == 3


async def test_roots_that_are_not_local_folders_do_not_count(sandbox: SandboxServer, tmp_path: Path) -> None:
    (tmp_path / "receipt.pdf").write_bytes(PDF)

    async def roots(_ctx: Any) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=FileUrl("file://fileserver/share"))])

    settings = sandbox_settings(sandbox, tmp_path / "data", toolsets="all")
    async with Client(create_server(settings), mode="legacy", list_roots_callback=roots) as client:
        target = {"type": "other_payment", "id": (await an_expense(client))["id"]}
        message = await err(client, "upload_attachment", {"attach_to": target, "path": str(tmp_path / "receipt.pdf")})
        assert "no folder is allowed" in message and "shares none" in message


async def test_over_http_the_clients_roots_are_not_used(sandbox: SandboxServer, tmp_path: Path) -> None:
    """A client on HTTP may be on another machine, and anyone with the credential could claim / as a root."""
    (tmp_path / "receipt.pdf").write_bytes(PDF)
    settings = sandbox_settings(sandbox, tmp_path / "data", toolsets="all")
    dispatcher = Dispatcher(Registry.build("all"), settings)

    async def everything() -> list[str]:
        return ["file:///"]

    async with SageClient(settings) as sage:
        created = await dispatcher.call(
            sage,
            "record_payment",
            {
                "type": "other_payment",
                "reference": "HTTP-1",
                "lines": [{"ledger_account_id": "7502", "total_amount": "5.00"}],
            },
        )
        target = {"type": "other_payment", "id": created.structured_content["id"]}
        args = {"attach_to": target, "path": str(tmp_path / "receipt.pdf")}
        remote = await dispatcher.call(sage, "upload_attachment", args, client_roots=everything, over_http=True)
        assert remote.is_error and "over HTTP only that setting counts" in remote.content[0].text
        local = await dispatcher.call(sage, "upload_attachment", args, client_roots=everything)
        assert not local.is_error, local.content
        configured = Dispatcher(Registry.build("all"), settings.model_copy(update={"file_roots": str(tmp_path)}))
        again = await configured.call(sage, "upload_attachment", args, over_http=True)
        assert not again.is_error and again.structured_content["existing"] is True


async def test_odd_paths_are_errors_naming_path_never_a_hang_or_an_internal_error(
    client: Client, tmp_path: Path
) -> None:
    expense = await an_expense(client)
    target = {"type": "other_payment", "id": expense["id"]}
    os.mkfifo(tmp_path / "pipe.pdf")  # opening it for reading would wait for a writer forever
    (tmp_path / "folder.pdf").mkdir()
    (tmp_path / "loop.pdf").symlink_to(tmp_path / "loop.pdf")
    odd = [
        str(tmp_path / "pipe.pdf"),
        str(tmp_path / "folder.pdf"),
        str(tmp_path / "loop.pdf"),
        str(tmp_path / ("x" * 300 + ".pdf")),
        str(tmp_path) + "/" + "a/" * 2000 + "b.pdf",
        "~no-such-user-here/receipt.pdf",
        "/dev/zero",
    ]
    for path in odd:
        message = await err(client, "upload_attachment", {"attach_to": target, "path": path})
        assert message.startswith("path: ") and "internal error" not in message, (path, message)
        out = await client.call_tool("download_attachment", {"attachment_id": "0" * 32, "path": path})
        assert out.is_error and "internal error" not in out.content[0].text, (path, out.content)
    assert (await ok(client, "list_attachments", {"attach_to": target}))["total"] == 0
