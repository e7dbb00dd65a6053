"""Files attached to Sage records, shared by the attachment tools and the writes that take an
``attachment`` (a bill or a money-out entry with its receipt in the same call).

Sage does not honour ``idempotency_id`` for attachments, so a retried upload could attach the same
file twice. Before uploading, the record's attachments are listed and one with the same file name
and size is returned instead; that check, not Sage, is what makes a repeated upload safe.

Local paths are read only inside the allowed folders (see :mod:`sage_mcp.tools._files`);
``content_base64`` needs no folder.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from sage_mcp.sage.errors import SageError
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._base import ToolContext, ToolError, compact, link_id, link_name
from sage_mcp.tools._files import file_access
from sage_mcp.tools._resource import ALL_PAGES_CAP

MAX_FILE_SIZE = 2_621_440
#: attach_to.type -> (Sage's attachment_context_type_id, collection, the tool that lists the ids)
TARGETS: dict[str, tuple[str, str, str]] = {
    "sales_invoice": ("SALES_INVOICE", "sales_invoices", "list_invoices"),
    "sales_credit_note": ("SALES_CREDIT_NOTE", "sales_credit_notes", "list_invoices (type sales_credit_note)"),
    "purchase_invoice": ("PURCHASE_INVOICE", "purchase_invoices", "list_invoices (type purchase_invoice)"),
    "purchase_credit_note": (
        "PURCHASE_CREDIT_NOTE",
        "purchase_credit_notes",
        "list_invoices (type purchase_credit_note)",
    ),
    "contact_payment": ("CONTACT_PAYMENT", "contact_payments", "list_payments"),
    "other_payment": ("OTHER_PAYMENT", "other_payments", "list_bank_transactions"),
    "bank_transfer": ("BANK_TRANSFER", "bank_transfers", "list_bank_transactions"),
    "contact": ("CONTACT", "contacts", "list_contacts"),
}
ATTRIBUTES = "file_name,mime_type,file_size,description,attachment_context_type,attachment_context,created_at"


def project_attachment(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    return compact(
        {
            "id": raw.get("id"),
            "file_name": raw.get("file_name"),
            "mime_type": raw.get("mime_type"),
            "size": raw.get("file_size"),
            "description": raw.get("description"),
            "attached_to": link_name(raw.get("attachment_context")) if full else None,
            "attached_to_id": link_id(raw.get("attachment_context")) if full else None,
            "created_at": raw.get("created_at"),
        }
    )


def _too_large(size: int, what: str) -> ToolError:
    return ToolError(
        f"{what} is {size:,} bytes; Sage accepts attachments of at most {MAX_FILE_SIZE:,} bytes (2.5 MB). "
        "Nothing was sent to Sage."
    )


async def record_attachments(ctx: ToolContext, target: Mapping[str, str]) -> list[dict[str, Any]]:
    context_type, _, _ = TARGETS[target["type"]]
    items, _ = await fetch_pages(
        ctx.business,
        "/attachments",
        {"attachment_context_type_id": context_type, "attachment_context_id": target["id"], "attributes": ATTRIBUTES},
        max_items=ALL_PAGES_CAP,
    )
    return items


async def _read_content(ctx: ToolContext, args: Mapping[str, Any]) -> tuple[bytes, str]:
    """The file's bytes and name, with the size checked before anything is read or sent."""
    if bool(args.get("path")) == bool(args.get("content_base64")):
        raise ToolError("give exactly one of path (a local file) or content_base64 (the file's content)")
    if args.get("path"):
        access = await file_access(ctx)
        read = partial(access.read, str(args["path"]), limit=MAX_FILE_SIZE, too_large=_too_large)
        content, path = await anyio.to_thread.run_sync(read)  # a slow disk never holds up other calls
        return content, args.get("file_name") or path.name
    if not args.get("file_name"):
        raise ToolError('file_name is required with content_base64 (e.g. "receipt.pdf"; it sets the file type)')
    text = "".join(str(args["content_base64"]).split())
    if len(text) * 3 // 4 > MAX_FILE_SIZE + 2:
        raise _too_large(len(text) * 3 // 4, "content_base64")
    try:
        content = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ToolError("content_base64 is not valid base64") from None
    return content, str(args["file_name"])


async def read_file(ctx: ToolContext, args: Mapping[str, Any]) -> tuple[bytes, str, str]:
    """The bytes, file name and MIME type of a file given as ``path`` or ``content_base64`` (+ ``file_name``),
    checked (size, type, not empty) before anything is sent to Sage."""
    content, file_name = await _read_content(ctx, args)
    if not content:
        raise ToolError("the file is empty; nothing was sent to Sage")
    if len(content) > MAX_FILE_SIZE:
        raise _too_large(len(content), "content_base64")
    mime_type = mimetypes.guess_type(file_name, strict=False)[0]
    if mime_type is None:
        raise ToolError(
            f"file_name: cannot tell the file type of {file_name!r}; use a name ending .pdf, .png, .jpg or .gif"
        )
    return content, file_name, mime_type


async def attach(
    ctx: ToolContext,
    target: Mapping[str, str],
    file: tuple[bytes, str, str],
    description: str | None = None,
) -> dict[str, Any]:
    """Attach ``file`` (from :func:`read_file`) to the record ``target`` ({type, id}). A file of the same
    name and size already on the record is returned (``existing: true``) instead of uploaded again."""
    content, file_name, mime_type = file
    for existing in await record_attachments(ctx, target):
        if existing.get("file_name") == file_name and int(existing.get("file_size") or -1) == len(content):
            return {
                **project_attachment(existing, True),
                "existing": True,
                "note": f"{target['type']} {target['id']} already has {file_name} ({len(content)} bytes); "
                "not uploaded again.",
            }
    context_type, _, _ = TARGETS[target["type"]]
    attachment: dict[str, Any] = {
        "file": base64.b64encode(content).decode("ascii"),
        "file_name": file_name,
        "mime_type": mime_type,
        "file_size": len(content),
        "attachment_context_type_id": context_type,
        "attachment_context_id": target["id"],
    }
    extension = Path(file_name).suffix
    if extension:
        attachment["file_extension"] = extension.lower()
    if description:
        attachment["description"] = description
    resp = await ctx.business.post("/attachments", {"attachment": attachment})
    return project_attachment(resp.body, True)


async def attachment_arg(ctx: ToolContext, args: Mapping[str, Any], record_type: str) -> tuple[bytes, str, str] | None:
    """The ``attachment`` argument of a write, read and checked before the record is created (so a bad
    path or file stops the call with nothing sent); ``None`` when there is none."""
    given = args.get("attachment")
    if not given:
        return None
    if record_type not in TARGETS:
        raise ToolError(f"attachment: a {record_type.replace('_', ' ')} cannot carry an attachment in Sage")
    try:
        return await read_file(ctx, given)
    except ToolError as exc:
        raise ToolError(f"attachment: {exc}") from None


async def attach_to_new(
    ctx: ToolContext, out: dict[str, Any], record_type: str, file: tuple[bytes, str, str] | None
) -> dict[str, Any]:
    """``out`` (a record just written) with ``file`` attached to it. The record stands whatever happens to
    the upload; a failed upload is reported in ``attachment_error`` (repeating the call with the same
    idempotency_key attaches it without recording the write twice)."""
    if file is None or not out.get("id"):
        return out
    try:
        attached = await attach(ctx, {"type": record_type, "id": str(out["id"])}, file)
    except (ToolError, SageError) as exc:
        return {
            **out,
            "attachment_error": f"the {record_type.replace('_', ' ')} was recorded but the file was not attached: "
            f"{exc}. Repeat the call with idempotency_key {out.get('idempotency_id')!r} to attach it.",
        }
    return {
        **out,
        "attachment": {k: attached.get(k) for k in ("id", "file_name", "size", "existing") if attached.get(k)},
    }
