"""``/attachments`` (list, get, create, update, delete, ``GET /{key}/file``) and
``/attachment_context_types`` (list, get).

* ``file`` is the base64 content (strictly decoded: anything else is a 422 on ``file``); at most
  2,621,440 bytes once decoded (422 on ``file`` above that).  ``file_size``, when given, must equal
  the decoded size.  ``mime_type`` must be ``application/pdf``, ``image/jpeg``, ``image/png`` or
  ``image/gif`` (the stricter reading of "the web app accepts pdf, jpg and png").
  ``file_extension`` defaults to the extension of ``file_name``.
* ``attachment_context_type_id`` and ``attachment_context_id`` go together and must name an existing
  record of the context type's collection (see :data:`CONTEXT_TYPES`); the attachment's
  ``transaction`` is that record's transaction (or the one ``transaction_id`` names).
* ``GET /attachments`` filters by ``attachment_context_type_id`` *and* ``attachment_context_id``
  (each requires the other, as the spec says: a 422 otherwise).
* ``GET /attachments/{key}/file`` needs ``Accept: application/octet-stream`` and answers the raw
  bytes with the attachment's mime type; any other ``Accept`` is a **406** (``NotAcceptable``,
  ``$source: Accept``).
* ``idempotency_id`` is ignored here (Sage does not list attachments), so a repeated POST creates a
  second attachment.  DELETE keeps a tombstone (without the file) for ``deleted_since``.

Counting helpers for other collections: :func:`attachment_count` / :func:`attachment_counts`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, ClassVar

from ..context import Context, link
from ..errors import ApiError, ErrorItem, Problems, invalid
from .base import Query
from .common import blank, check_lengths
from .lifecycle import BookCollection, attachment_count, attachment_counts
from .reference import Table

__all__ = [
    "CONTEXT_TYPES",
    "MAX_FILE_SIZE",
    "AttachmentContextTypes",
    "Attachments",
    "attachment_count",
    "attachment_counts",
]

MAX_FILE_SIZE = 2_621_440
MIME_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/gif")
OCTET_STREAM = "application/octet-stream"
#: attachment_context_type id -> (displayed_as, collection of the context records)
CONTEXT_TYPES: dict[str, tuple[str, str]] = {
    "SALES_INVOICE": ("Sales Invoice", "sales_invoices"),
    "SALES_CREDIT_NOTE": ("Sales Credit Note", "sales_credit_notes"),
    "SALES_QUOTE": ("Sales Quote", "sales_quotes"),
    "SALES_ESTIMATE": ("Sales Estimate", "sales_estimates"),
    "PURCHASE_INVOICE": ("Purchase Invoice", "purchase_invoices"),
    "PURCHASE_CREDIT_NOTE": ("Purchase Credit Note", "purchase_credit_notes"),
    "CONTACT": ("Contact", "contacts"),
    "CONTACT_PAYMENT": ("Contact Payment", "contact_payments"),
    "OTHER_PAYMENT": ("Other Payment", "other_payments"),
    "BANK_TRANSFER": ("Bank Transfer", "bank_transfers"),
    "BANK_DEPOSIT": ("Bank Deposit", "bank_deposits"),
    "JOURNAL": ("Journal", "journals"),
    "PRODUCT": ("Product", "products"),
    "SERVICE": ("Service", "services"),
}


def _decode(problems: Problems, value: object) -> bytes | None:
    if not isinstance(value, str) or not value:
        problems.add("file", "This field is required.")
        return None
    try:
        content = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        problems.add("file", "is not valid base64")
        return None
    if len(content) > MAX_FILE_SIZE:
        problems.add("file", f"is too large: {len(content)} bytes (the maximum is {MAX_FILE_SIZE} bytes)")
        return None
    if not content:
        problems.add("file", "is empty")
        return None
    return content


class AttachmentContextTypes(Table):
    name = "attachment_context_types"
    definition = "Base"
    label = "attachment context type"
    table: ClassVar[Mapping[str, str]] = {key: value[0] for key, value in CONTEXT_TYPES.items()}


class Attachments(BookCollection):
    name = "attachments"
    definition = "Attachment"
    root_key = "attachment"
    label = "attachment"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    downloads = frozenset({"file"})

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        type_id = (query.get("attachment_context_type_id") or "").strip().upper()
        context_id = (query.get("attachment_context_id") or "").strip()
        if bool(type_id) != bool(context_id):
            missing = "attachment_context_id" if type_id else "attachment_context_type_id"
            raise invalid(missing, "is required when filtering by attachment context")
        if type_id:
            items = [
                a
                for a in items
                if (a.get("attachment_context_type") or {}).get("id") == type_id
                and (a.get("attachment_context") or {}).get("id") == context_id
            ]
        return items

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        attachment_id = ctx.new_id("attachment")
        record: dict[str, Any] = {
            "id": attachment_id,
            "displayed_as": "",
            "$path": f"/attachments/{attachment_id}",
            "deleted_at": None,
            "file": None,
            "mime_type": None,
            "description": None,
            "file_extension": None,
            "transaction": None,
            "file_size": 0,
            "file_name": None,
            "$file_path": f"/attachments/{attachment_id}/file",
            "attachment_context_type": None,
            "attachment_context": None,
            "is_public": False,
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
        }
        self._apply(ctx, record, payload, creating=True)
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        self._apply(ctx, record, payload, creating=False)
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        self.bury(ctx, {**record, "file": None})
        return None

    def download(
        self, ctx: Context, record: dict[str, Any], headers: Mapping[str, str]
    ) -> tuple[bytes, dict[str, str]]:
        """``GET /attachments/{key}/file``: the raw bytes (``Accept: application/octet-stream`` only)."""
        del ctx
        accepted = [part.split(";", 1)[0].strip().lower() for part in headers.get("accept", "").split(",")]
        if OCTET_STREAM not in accepted:
            raise ApiError(
                406,
                [
                    ErrorItem(
                        f"Send 'Accept: {OCTET_STREAM}' to download an attachment file.", "NotAcceptable", "Accept"
                    )
                ],
            )
        content = base64.b64decode(str(record["file"]))
        name = str(record.get("file_name") or "attachment").replace('"', "")
        return content, {
            "Content-Type": str(record.get("mime_type") or OCTET_STREAM),
            "Content-Disposition": f'attachment; filename="{name}"',
        }

    def _apply(self, ctx: Context, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool) -> None:
        problems = Problems()
        check_lengths(problems, "Attachment", payload)
        if creating or "file" in payload:
            content = _decode(problems, payload.get("file"))
            if content is not None:
                record["file"] = base64.b64encode(content).decode("ascii")
                record["file_size"] = len(content)
                size = payload.get("file_size")
                if size is not None and int(size) != len(content):
                    problems.add("file_size", f"does not match the file: it has {len(content)} bytes")
        elif payload.get("file_size") is not None and int(payload["file_size"]) != record["file_size"]:
            problems.add("file_size", f"does not match the file: it has {record['file_size']} bytes")
        for name in ("file_name", "mime_type"):
            if creating or name in payload:
                if blank(payload.get(name)):
                    problems.add(name, "This field is required." if creating else "can't be blank")
                else:
                    record[name] = str(payload[name]).strip()
        if record.get("mime_type") and str(record["mime_type"]).lower() not in MIME_TYPES:
            problems.add("mime_type", "must be one of " + ", ".join(MIME_TYPES))
        for name in ("description", "file_extension"):
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        if not record.get("file_extension") and record.get("file_name") and "." in str(record["file_name"]):
            record["file_extension"] = "." + str(record["file_name"]).rsplit(".", 1)[1].lower()
        if isinstance(payload.get("is_public"), bool):
            record["is_public"] = payload["is_public"]
        self._context(ctx, problems, record, payload, creating=creating)
        problems.raise_if_any()
        record["displayed_as"] = str(record.get("file_name") or "")

    @staticmethod
    def _context(
        ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> None:
        type_id = payload.get("attachment_context_type_id")
        context_id = payload.get("attachment_context_id")
        transaction = record.get("transaction")
        if creating or type_id is not None or context_id is not None:
            if blank(type_id) != blank(context_id):
                missing, given = ("attachment_context_id", "attachment_context_type_id")
                if blank(type_id):
                    missing, given = given, missing
                problems.add(missing, f"is required with {given}")
            elif not blank(type_id):
                type_key = str(type_id).upper()
                if type_key not in CONTEXT_TYPES:
                    problems.add("attachment_context_type_id", "must be one of " + ", ".join(CONTEXT_TYPES))
                else:
                    name, collection = CONTEXT_TYPES[type_key]
                    target = ctx.get(collection, str(context_id))
                    if target is None or target.get("deleted_at"):
                        problems.add("attachment_context_id", f"The {name.lower()} {context_id!r} was not found.")
                    else:
                        record["attachment_context_type"] = link("attachment_context_types", type_key, name)
                        record["attachment_context"] = link(
                            collection, target["id"], str(target.get("displayed_as") or "")
                        )
                        transaction = target.get("transaction") or None
        transaction_id = payload.get("transaction_id")
        if not blank(transaction_id):
            found = ctx.get("transactions", str(transaction_id))
            if found is None:
                problems.add("transaction_id", f"The transaction {transaction_id!r} was not found.")
            elif transaction is not None and transaction.get("id") != found["id"]:
                problems.add("transaction_id", "is not the transaction of the attachment's context")
            else:
                transaction = link("transactions", found["id"], str(found.get("displayed_as") or ""))
        record["transaction"] = (
            link("transactions", transaction["id"], str(transaction.get("displayed_as") or "")) if transaction else None
        )
