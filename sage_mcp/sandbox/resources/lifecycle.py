"""What the banking, journal, catalogue and attachment collections share on top of
:class:`~.base.Collection` (which already gives ``updated_or_created_since``, ``deleted_since`` over
tombstones, ``from_date``/``to_date`` on :attr:`~.base.Collection.date_field`, ``search`` over
:attr:`~.base.Collection.search_fields` and ``sort``):

* ``*_id`` filters on linked records (:attr:`BookCollection.link_filters`: ``contact_id``,
  ``bank_account_id``, ``transaction_type_id`` ...; type ids compare upper-case);
* ``active`` and ``has_attachments`` (``true``/``false``; anything else is a 422);
* a newest-first default order (:attr:`BookCollection.newest_first`: a date field, then ``created_at``);
* posting a record's transaction or re-posting it after an edit (:meth:`BookCollection.post`); the
  lock-down date check of postings (:func:`check_lockdown`), the required ``date`` of a posting
  (:func:`take_date`), and attachment counts any collection can use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..context import Context
from ..errors import ApiError, ErrorItem, Problems
from ..ledger import Posting, post_transaction, replace_postings
from .base import Collection, Condition, Query, Record, link_condition, query_bool, sort_key
from .common import blank

__all__ = [
    "SETTINGS_KEY",
    "BookCollection",
    "accounts_start_date",
    "attached_ids",
    "attachment_count",
    "attachment_counts",
    "check_lockdown",
    "check_tax_reconciled",
    "is_tax_reconciled",
    "take_date",
    "transaction_attachment_counts",
]


#: The record id a settings singleton (``financial_settings`` ...) is stored under.
SETTINGS_KEY = "settings"


def accounts_start_date(ctx: Context) -> str:
    """The financial settings' ``accounts_start_date`` (default: the business's creation date)."""
    settings = ctx.store.get(ctx.business_id, "financial_settings", SETTINGS_KEY)
    start = settings.get("accounts_start_date") if settings else None
    return str(start or str(ctx.business.get("created_at") or "")[:10])


def check_lockdown(ctx: Context, problems: Problems, date: str | None, source: str = "date") -> None:
    """Sage refuses postings dated on or before the financial settings' ``year_end_lockdown_date``, and
    (strict mode) before the accounts start date."""
    if not date:
        return
    settings = ctx.store.get(ctx.business_id, "financial_settings", SETTINGS_KEY)
    lockdown = settings.get("year_end_lockdown_date") if settings else None
    if lockdown and date <= str(lockdown):
        problems.add(source, f"is on or before the lock-down date {lockdown}: the period is closed")
    if ctx.config.strict:
        start = accounts_start_date(ctx)
        if start and date < start:
            problems.add(
                source,
                f"is before the accounts start date {start}: entries before it are not allowed "
                "(enter earlier figures as opening balances)",
            )


def vat_filed_to(ctx: Context) -> str | None:
    """The end of the latest VAT return marked as filed (strict mode; ``None``: none filed)."""
    if not ctx.config.strict:
        return None
    value = ctx.business.get("_vat_filed_to")
    return str(value) if value else None


def is_tax_reconciled(ctx: Context, record: Mapping[str, Any]) -> bool:
    """Whether a posted record is inside a filed VAT return (Sage: VAT-reconciled, locked)."""
    filed = vat_filed_to(ctx)
    status = record.get("status")
    if isinstance(status, Mapping) and status.get("id") == "DRAFT":
        return False
    date = str(record.get("date") or "")
    return bool(filed and date and date <= filed)


def check_tax_reconciled(ctx: Context, record: Mapping[str, Any], label: str, verb: str) -> None:
    """422 when ``record`` is VAT-reconciled: Sage lets nobody edit, void or delete it."""
    if is_tax_reconciled(ctx, record):
        raise ApiError(
            422,
            [
                ErrorItem(
                    f"This {label} has been VAT reconciled (it is on the VAT return filed up to "
                    f"{vat_filed_to(ctx)}) and cannot be {verb}.",
                    "RecordInvalid",
                    "base",
                )
            ],
        )


def take_date(
    ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
) -> None:
    """A posting's ``date`` (required on create, not blank on update), checked against the lock-down date."""
    if creating or "date" in payload:
        if blank(payload.get("date")):
            problems.add("date", "This field is required.")
        else:
            record["date"] = str(payload["date"])
    check_lockdown(ctx, problems, record.get("date"))


class BookCollection(Collection):
    """A :class:`Collection` with the declarative filters described above."""

    #: query parameter -> field holding a ``{id, ...}`` link
    link_filters: ClassVar[Mapping[str, str]] = {}
    active_field: ClassVar[str | None] = None
    #: the ``attachment_context_type_id`` of this collection's records (enables ``has_attachments``)
    attachment_context: ClassVar[str | None] = None
    #: the date field of a newest-first default order (by that date, then by creation); ``None``: as created
    newest_first: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.newest_first is not None:
            cls.order_descending = True
        super().__init_subclass__(**kwargs)

    def order_key(self, record: Record) -> bytes | None:
        if self.newest_first is None:
            return None
        return sort_key(record[self.newest_first], record["created_at"])

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        for parameter, field in self.link_filters.items():
            link = link_condition(query, parameter, field, upper=parameter.endswith("type_id"))
            if link is not None:
                result.append(link)
        if self.active_field is not None:
            active, active_field = query_bool(query, "active"), self.active_field
            if active is not None:
                result.append(Condition(lambda r: bool(r.get(active_field)) == active))
        if self.attachment_context is not None:
            wanted = query_bool(query, "has_attachments")
            if wanted is not None:
                counts = attachment_counts(ctx, self.attachment_context)
                result.append(Condition(lambda r: (counts.get(r["id"], 0) > 0) == wanted))
        return result

    def post(self, ctx: Context, record: dict[str, Any], postings: list[Posting], transaction_type_id: str) -> None:
        """Post the record's transaction (dated ``date``, referenced ``reference``, with its ``contact``),
        or replace its entries when it already has one (the transaction keeps its id)."""
        if not record.get("transaction"):
            record["transaction"] = post_transaction(
                ctx,
                transaction_type_id=transaction_type_id,
                date=record["date"],
                reference=record.get("reference"),
                postings=postings,
                contact=record.get("contact"),
                origin=(self.name, record["id"], record["displayed_as"]),
            )
            return
        replace_postings(ctx, record["transaction"]["id"], postings, record["date"], record.get("reference"))
        if "contact" in record:
            transaction = ctx.get("transactions", record["transaction"]["id"])
            if transaction is not None:
                transaction["contact"] = record.get("contact")
                ctx.put("transactions", transaction)


# --------------------------------------------------------------------------- attachment counts


def attachment_counts(ctx: Context, context_type_id: str) -> dict[str, int]:
    """Live attachments per ``attachment_context_id`` for one context type (``SALES_INVOICE`` ...)."""
    counts: dict[str, int] = {}
    rows = ctx.store.fields(ctx.business_id, "attachments", "$.attachment_context_type.id", "$.attachment_context.id")
    for type_id, context_id in rows:
        if type_id == context_type_id and context_id:
            counts[str(context_id)] = counts.get(str(context_id), 0) + 1
    return counts


def attachment_count(ctx: Context, context_type_id: str, context_id: str) -> int:
    """How many live attachments one record has (for ``has_attachments`` filters of any collection)."""
    return attachment_counts(ctx, context_type_id).get(context_id, 0)


def transaction_attachment_counts(ctx: Context) -> dict[str, int]:
    """Live attachments per transaction id (``Transaction.number_of_attachments``)."""
    counts: dict[str, int] = {}
    for (transaction_id,) in ctx.store.fields(ctx.business_id, "attachments", "$.transaction.id"):
        if transaction_id:
            counts[str(transaction_id)] = counts.get(str(transaction_id), 0) + 1
    return counts


def attached_ids(ctx: Context) -> set[str]:
    """Ids of records that have an attachment (artefact or transaction ids); none until attachments exist."""
    found: set[str] = set()
    for attachment in ctx.store.all(ctx.business_id, "attachments"):
        if attachment.get("deleted_at"):
            continue
        for key in ("attachment_context", "transaction"):
            target = attachment.get(key)
            if isinstance(target, Mapping) and target.get("id"):
                found.add(str(target["id"]))
        if attachment.get("attachment_context_id"):
            found.add(str(attachment["attachment_context_id"]))
    return found
