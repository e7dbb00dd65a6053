"""Files attached to Sage records: upload (from a local path or base64), list, download to a local path.

Sage does not honour ``idempotency_id`` for attachments, so a retried upload could attach the same
file twice. Before uploading, the record's attachments are listed and one with the same file name
and size is returned instead; that check, not Sage, is what makes a repeated upload safe (with or
without ``idempotency_key``, which is accepted like on every write but has nothing to key in Sage).

Local paths are read and written only inside the allowed folders (see :mod:`sage_mcp.tools._files`);
``content_base64`` needs no folder.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._base import ToolContext, ToolError, compact, link_id, link_name
from sage_mcp.tools._files import file_access
from sage_mcp.tools._resource import ALL_PAGES_CAP

MAX_FILE_SIZE = 2_621_440
#: attach_to.type -> (Sage's attachment_context_type_id, collection, the tool that lists the ids)
TARGETS: dict[str, tuple[str, str, str]] = {
    "sales_invoice": ("SALES_INVOICE", "sales_invoices", "list_sales_invoices"),
    "sales_credit_note": ("SALES_CREDIT_NOTE", "sales_credit_notes", "list_sales_credit_notes"),
    "purchase_invoice": ("PURCHASE_INVOICE", "purchase_invoices", "list_purchase_invoices"),
    "purchase_credit_note": ("PURCHASE_CREDIT_NOTE", "purchase_credit_notes", "list_purchase_credit_notes"),
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


async def _record_attachments(ctx: ToolContext, target: dict[str, str]) -> list[dict[str, Any]]:
    context_type, _, _ = TARGETS[target["type"]]
    items, _ = await fetch_pages(
        ctx.business,
        "/attachments",
        {"attachment_context_type_id": context_type, "attachment_context_id": target["id"], "attributes": ATTRIBUTES},
        max_items=ALL_PAGES_CAP,
    )
    return items


async def _read_content(ctx: ToolContext, args: dict[str, Any]) -> tuple[bytes, str]:
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


async def upload_attachment(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    target: dict[str, str] = args["attach_to"]
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
    for existing in await _record_attachments(ctx, target):
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
    if args.get("description"):
        attachment["description"] = args["description"]
    resp = await ctx.business.post("/attachments", {"attachment": attachment})
    return project_attachment(resp.body, True)


async def list_attachments(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    target: dict[str, str] = args["attach_to"]
    _, collection, list_tool = TARGETS[target["type"]]
    try:
        await ctx.business.get(f"/{collection}/{path_segment(target['id'])}")
    except SageNotFoundError:
        raise ToolError(
            f"attach_to.id: no {target['type'].replace('_', ' ')} {target['id']!r} in this business; "
            f"ids from {list_tool}."
        ) from None
    items = await _record_attachments(ctx, target)
    return {"total": len(items), "items": [project_attachment(a) for a in items]}


def _safe_name(name: Any, attachment_id: str) -> str:
    """A bare file name from Sage's ``file_name`` (never a path that leaves the chosen directory)."""
    base = Path(str(name or "")).name.strip()
    return base if base not in ("", ".", "..") else f"attachment-{attachment_id}"


async def download_attachment(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    attachment_id = args["attachment_id"]
    overwrite = bool(args.get("overwrite"))
    access = await file_access(ctx)
    access.require_roots("path", "write")
    meta = await ctx.business.get(f"/attachments/{path_segment(attachment_id)}")
    name = _safe_name(meta.get("file_name"), attachment_id)
    dest = await anyio.to_thread.run_sync(partial(access.target, str(args["path"]), name, overwrite=overwrite))
    content = await ctx.business.download(f"/attachments/{path_segment(attachment_id)}/file")
    await anyio.to_thread.run_sync(partial(access.write, dest, content, overwrite=overwrite))
    out: dict[str, Any] = {
        "id": meta.get("id") or attachment_id,
        "path": str(dest),
        "size": len(content),
        "mime_type": meta.get("mime_type"),
        "file_name": meta.get("file_name"),
    }
    expected = meta.get("file_size")
    if isinstance(expected, int) and expected != len(content):
        out["warning"] = f"Sage lists the file as {expected} bytes but sent {len(content)}"
    return compact(out)


HANDLERS = {f.__name__: f for f in (upload_attachment, list_attachments, download_attachment)}
