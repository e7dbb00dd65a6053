"""Files attached to Sage records: upload (from a local path or base64), list, download to a local path.

Sage does not honour ``idempotency_id`` for attachments, so a retried upload could attach the same
file twice. Before uploading, the record's attachments are listed and one with the same file name
and size is returned instead; that check, not Sage, is what makes a repeated upload safe (with or
without ``idempotency_key``, which is accepted like on every write but has nothing to key in Sage).

Local paths are read and written only inside the allowed folders (see :mod:`sage_mcp.tools._files`);
``content_base64`` needs no folder.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import anyio

from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.tools._attachments import (
    TARGETS,
    attach,
    project_attachment,
    read_file,
    record_attachments,
)
from sage_mcp.tools._base import ToolContext, ToolError, compact
from sage_mcp.tools._files import file_access


async def upload_attachment(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await attach(ctx, args["attach_to"], await read_file(ctx, args), args.get("description"))


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
    items = await record_attachments(ctx, target)
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
