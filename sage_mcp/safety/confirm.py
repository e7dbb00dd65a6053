"""Irreversible writes are confirmed by the user, not by the model.

Which calls: every tool annotated ``destructiveHint: true`` (voids, deletes, write-offs …) and, when
``SAGE_MCP_CONFIRM_ABOVE`` is set, any write whose amounts total more than it. ``SAGE_MCP_NO_CONFIRM``
(``--no-confirm``) turns this off for unattended automation.

How: first a dry run of the handler (:class:`~sage_mcp.sage.writeplan.DryRun`: reads happen, the
first write is noted with the record it would change, nothing is sent), which becomes the question
or preview — the tool, the business, the Sage request, the record (number, contact, total) and the
amounts. Then

- a handshake-era client (protocol 2025-11-25 or older) that declared elicitation is asked with
  ``elicitation/create`` (a form with one boolean, ``confirm``) while the call waits;
- a 2026-07-28 client that declared elicitation gets an ``InputRequiredResult`` asking the same; its
  retry carries the answer and, as ``request_state``, the signed token below;
- any other client gets the preview and a confirmation token: HMAC-SHA256 (a per-process secret)
  over the tool, business and exact arguments, valid for a few minutes and once. A second call with
  the same arguments and ``confirmation_token`` set does it; other arguments, a used or an expired
  token are refused.

A declined, dismissed or unconfirmed question, and a preview, come back as ``isError`` results: the
call did not do what was asked, and a model must not report it as done; nothing was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.types import (
    CallToolResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
)
from mcp_types.version import is_version_at_least

from sage_mcp.config import Settings
from sage_mcp.excerpt import excerpt
from sage_mcp.money import format_amount
from sage_mcp.registry import RegisteredTool
from sage_mcp.results import failure
from sage_mcp.safety.keys import canonical_json, comparable
from sage_mcp.sage import writeplan
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageError
from sage_mcp.tools._base import ToolContext, link_id, link_name

log = logging.getLogger(__name__)

#: How long a confirmation token (and an unanswered 2026-era question) stays valid.
TOKEN_SECONDS = 300
#: The key of our question in ``input_requests`` / ``input_responses``.
QUESTION = "confirm"
#: Seconds a handshake-era client gets to answer ``elicitation/create``: a person is reading.
ELICIT_TIMEOUT = 600.0
FORM: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {
            "type": "boolean",
            "title": "Do it",
            "description": "Tick to let sage-mcp send this to Sage; it cannot be undone.",
        }
    },
    "required": ["confirm"],
}

#: Argument names whose values are amounts of money moved by a write.
_HEADLINE_KEYS = ("total_amount", "amount", "cash_amount", "cheque_amount")

clock: Callable[[], float] = time.time


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def write_amount(args: Mapping[str, Any]) -> Decimal:
    """The money a write moves, read from its arguments whatever the tool: the largest of its headline
    amounts (``total_amount``, ``amount``, cash plus cheque), the sum of its lines (``unit_price`` times
    ``quantity`` less ``discount_amount``, or a line's ``total_amount``/``amount``/``net_amount``) and its
    journal debits. Lists anywhere in the arguments count (a generic write's body too)."""
    lines = Decimal(0)
    debits = Decimal(0)
    headline = Decimal(0)

    def walk(node: Any, top: bool) -> None:
        nonlocal lines, debits, headline
        if isinstance(node, list):
            for item in node:
                walk(item, False)
            return
        if not isinstance(node, Mapping):
            return
        if top:
            headline = max(headline, _decimal(node.get("total_amount")) or _decimal(node.get("amount")))
            headline = max(headline, _decimal(node.get("cash_amount")) + _decimal(node.get("cheque_amount")))
        elif "unit_price" in node:
            quantity = _decimal(node.get("quantity")) if node.get("quantity") not in (None, "") else Decimal(1)
            lines += _decimal(node.get("unit_price")) * quantity - _decimal(node.get("discount_amount"))
        elif "debit" in node or "credit" in node:
            debits += _decimal(node.get("debit"))
        else:
            for key in (*_HEADLINE_KEYS, "net_amount"):
                if node.get(key) not in (None, ""):
                    lines += _decimal(node.get(key))
                    break
        for value in node.values():
            if isinstance(value, list | Mapping):
                walk(value, top and isinstance(value, Mapping))

    walk(args, True)
    return max(abs(headline), abs(lines), abs(debits))


# -- tokens ------------------------------------------------------------------------------------------


class TokenSigner:
    """Short-lived, single-use confirmation tokens bound to one call's exact arguments."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._used: dict[str, float] = {}

    def _mac(self, expiry: int, nonce: str, tool: str, business: str, args: Mapping[str, Any]) -> str:
        bound = {k: comparable(v) for k, v in args.items() if k != "confirmation_token"}
        payload = canonical_json({"expiry": expiry, "nonce": nonce, "tool": tool, "business": business, "args": bound})
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, tool: str, business: str, args: Mapping[str, Any]) -> tuple[str, int]:
        expiry = int(clock()) + TOKEN_SECONDS
        nonce = secrets.token_hex(8)
        return f"{expiry}.{nonce}.{self._mac(expiry, nonce, tool, business, args)}", expiry

    def redeem(self, token: str, tool: str, business: str, args: Mapping[str, Any]) -> str | None:
        """``None`` when ``token`` confirms exactly this call (it is then used up), else why not."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit():
            return "it is not a confirmation token this server issued"
        expiry, nonce, mac = int(parts[0]), parts[1], parts[2]
        if not hmac.compare_digest(mac, self._mac(expiry, nonce, tool, business, args)):
            return (
                "it was issued for other arguments (or another tool or business, or by an earlier run of the "
                "server); a token confirms exactly the call it was issued for"
            )
        now = clock()
        if expiry <= now:
            return f"it expired {int(now - expiry)} s ago (tokens last {TOKEN_SECONDS // 60} minutes)"
        self._used = {k: v for k, v in self._used.items() if v > now}
        if mac in self._used:
            return "it was already used; a token confirms one call only"
        self._used[mac] = expiry
        return None


# -- asking the client ------------------------------------------------------------------------------------


@dataclass
class Asker:
    """How this call's client can be asked: ``"form"`` (handshake era, ``elicitation/create`` now),
    ``"input"`` (2026-07-28, an ``InputRequiredResult``) or ``None`` (preview and token)."""

    way: str | None
    elicit: Callable[[str, dict[str, Any]], Awaitable[ElicitResult]] | None = None
    answer: ElicitResult | None = None
    state: str | None = None
    waiting: Callable[[], AbstractContextManager[None]] | None = None
    """Held while the user answers: that time does not count against the call's deadline."""


def asker_for(ctx: ServerRequestContext[Any, Any], params: Any) -> Asker:
    """What ``ctx``'s client declared it can do: elicitation (form mode) in either protocol era."""
    session = ctx.session
    caps = session.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    form = elicitation is not None and (elicitation.form is not None or elicitation.url is None)
    if is_version_at_least(ctx.protocol_version, "2026-07-28"):
        responses = getattr(params, "input_responses", None) or {}
        raw = responses.get(QUESTION)
        answer = raw if isinstance(raw, ElicitResult) else None
        if answer is None and isinstance(raw, Mapping) and raw.get("action") in ("accept", "decline", "cancel"):
            answer = ElicitResult.model_validate(raw)
        state = getattr(params, "request_state", None)
        return Asker("input" if form else None, answer=answer, state=state if isinstance(state, str) else None)
    if not form or not session.can_send_request:
        return Asker(None)

    async def elicit(message: str, schema: dict[str, Any]) -> ElicitResult:
        with anyio.fail_after(ELICIT_TIMEOUT):
            return await session.elicit_form(message=message, requested_schema=schema)

    return Asker("form", elicit=elicit)


def terminal_asker() -> Asker:
    """``sage-mcp call`` run by a person at a terminal asks them; piped or scripted, it previews."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return Asker(None)

    async def elicit(message: str, schema: dict[str, Any]) -> ElicitResult:
        del schema

        def ask() -> str:
            sys.stderr.write(f"{message} [y/N] ")
            sys.stderr.flush()
            return sys.stdin.readline()

        reply = (await anyio.to_thread.run_sync(ask)).strip().lower()
        if reply in ("y", "yes"):
            return ElicitResult(action="accept", content={"confirm": True})
        return ElicitResult(action="decline")

    return Asker("form", elicit=elicit)


#: A destructive tool's reason, made precise once its dry run shows what it would do.
DESTRUCTIVE = "it cannot be undone"


def destructive_reason(planned: writeplan.PlannedWrite) -> str | None:
    """Why what a destructive tool would do needs confirming, or ``None`` when it destroys nothing (a
    download to a new file)."""
    if planned.method == "WRITE FILE":
        return "it replaces an existing local file" if planned.params.get("replaces") else None
    if planned.method == "DELETE":
        return "it deletes or voids the record, which cannot be undone"
    return "the tool is marked destructive: what it changes cannot be undone"


# -- the check ----------------------------------------------------------------------------------------------


@dataclass
class Proceed:
    """Confirmed (or no confirmation needed): run the handler."""


@dataclass
class Answered:
    """The call is over: ``result`` goes back as it is (a question, a preview, a refusal), or ``data``
    is the handler's own result (its dry run wrote nothing, so it was the real run)."""

    result: CallToolResult | InputRequiredResult | None = None
    data: dict[str, Any] | None = None


class Confirmations:
    def __init__(self, settings: Settings, signer: TokenSigner | None = None) -> None:
        self.settings = settings
        self.signer = signer or TokenSigner()

    def reason(self, tool: RegisteredTool, args: Mapping[str, Any]) -> str | None:
        """Why this call needs the user's confirmation, or ``None``."""
        if self.settings.no_confirm or tool.spec.read_only:
            return None
        if tool.spec.annotations.get("destructiveHint"):
            return DESTRUCTIVE
        limit = self.settings.confirm_above
        if limit is not None:
            moved = write_amount(args)
            if moved > limit:
                return f"it moves {format_amount(moved)}, more than {format_amount(limit)} (SAGE_MCP_CONFIRM_ABOVE)"
        return None

    async def check(
        self, ctx: ToolContext, tool: RegisteredTool, args: dict[str, Any], asker: Asker
    ) -> Proceed | Answered:
        why = self.reason(tool, args)
        if why is None:
            return Proceed()
        name = tool.spec.name
        business = ctx.scope.id if ctx.scope else ""
        given = args.get("confirmation_token")
        if given:
            problem = self.signer.redeem(str(given), name, business, args)
            if problem is None:
                return Proceed()
            return Answered(
                failure(
                    f"confirmation_token refused: {problem}. Nothing was sent to Sage. Call {name} again without "
                    "confirmation_token to get a new preview, show it to the user, and only repeat the call with "
                    "the new token once they agree."
                )
            )
        if asker.way == "input" and asker.answer is not None:
            problem = self.signer.redeem(asker.state or "", name, business, args)
            if problem is not None:
                return Answered(failure(f"The confirmation could not be used: {problem}. Nothing was sent to Sage."))
            return self._decided(asker.answer, name)
        planned = await self._dry_run(ctx, tool, args)
        if isinstance(planned, dict):
            return Answered(data=planned)
        if why == DESTRUCTIVE:
            why = destructive_reason(planned)
            if why is None:
                return Proceed()
        preview = describe(ctx, tool, args, planned, why)
        accounts = await account_names(ctx, planned.body)
        if accounts:
            preview["accounts"] = accounts
        question = question_text(preview)
        if asker.way == "form" and asker.elicit is not None:
            try:
                with asker.waiting() if asker.waiting is not None else nullcontext():
                    answer = await asker.elicit(question, FORM)
            except Exception as exc:  # the client declared elicitation but could not ask: fall back to a preview
                log.warning("elicitation failed (%s); answering with a preview", type(exc).__name__)
            else:
                return self._decided(answer, name)
        token, expiry = self.signer.issue(name, business, args)
        if asker.way == "input":
            request = ElicitRequest(params=ElicitRequestFormParams(message=question, requested_schema=FORM))
            return Answered(InputRequiredResult(input_requests={QUESTION: request}, request_state=token))
        return Answered(preview_result(name, preview, question, token, expiry))

    @staticmethod
    def _decided(answer: ElicitResult, name: str) -> Proceed | Answered:
        content = answer.content or {}
        if answer.action == "accept" and content.get("confirm") is True:
            return Proceed()
        if answer.action == "accept":
            said = "did not tick confirm"
        elif answer.action == "decline":
            said = "declined"
        else:
            said = "dismissed the question without answering"
        return Answered(
            failure(
                f"Not done: the user {said}, so {name} was not sent to Sage and nothing changed. "
                "Do not repeat it unless the user asks again."
            )
        )

    @staticmethod
    async def _dry_run(
        ctx: ToolContext, tool: RegisteredTool, args: dict[str, Any]
    ) -> writeplan.PlannedWrite | dict[str, Any]:
        """The handler up to its first write, which is noted and not sent. A handler that ends without
        writing has done its real work: its result is returned."""
        dry = writeplan.DryRun()
        try:
            with writeplan.using(dry):
                data = await tool.handler(ctx, args)
        except writeplan.DryRunStop:
            data = None
        if dry.planned is not None:
            return dry.planned
        if data is None:  # stopped without a planned write: cannot happen, but never send unconfirmed
            raise RuntimeError(f"{tool.spec.name}: dry run stopped without a planned write")
        return data


# -- previews --------------------------------------------------------------------------------------------------


def _record(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    out = {
        "id": raw.get("id"),
        "number": raw.get("displayed_as") or raw.get("invoice_number") or raw.get("reference") or raw.get("name"),
        "contact": link_name(raw.get("contact")),
        "date": raw.get("date"),
        "total": format_amount(raw.get("total_amount")),
        "outstanding": format_amount(raw.get("outstanding_amount")),
        "currency": link_id(raw.get("currency")),
        "status": link_id(raw.get("status")),
    }
    return {k: v for k, v in out.items() if v not in (None, "")}


def _body(body: Any) -> Any:
    """The body that would be sent, amounts as decimal strings."""
    if isinstance(body, Decimal):
        return format_amount(body) or str(body)
    if isinstance(body, Mapping):
        return {str(k): _body(v) for k, v in body.items() if k != "idempotency_id"}
    if isinstance(body, list | tuple):
        return [_body(v) for v in body]
    if isinstance(body, str) and len(body) > 200:
        return excerpt(body, 60)
    return body


def describe(
    ctx: ToolContext, tool: RegisteredTool, args: Mapping[str, Any], planned: writeplan.PlannedWrite, why: str
) -> dict[str, Any]:
    """What the call would do: the tool, the business, the Sage request, the record and the amounts."""
    query = "&".join(f"{k}={v}" for k, v in planned.params.items())
    preview: dict[str, Any] = {
        "tool": tool.spec.name,
        "title": tool.spec.title,
        "business": ctx.scope.describe() if ctx.scope else None,
        "request": f"{planned.method} {planned.path}" + (f"?{query}" if query else ""),
        "why": why,
    }
    record = _record(planned.record)
    if record:
        preview["record"] = record
    if planned.body is not None:
        preview["body"] = _body(planned.body)
    moved = write_amount(args)
    if moved:
        preview["amount"] = format_amount(moved)
    return preview


#: Body fields naming an account, and where Sage keeps that kind of account.
_ACCOUNT_FIELDS = {
    "ledger_account_id": "/ledger_accounts",
    "bank_account_id": "/bank_accounts",
    "from_bank_account_id": "/bank_accounts",
    "to_bank_account_id": "/bank_accounts",
}
#: A preview names at most this many accounts (one read each).
MAX_ACCOUNTS = 8


def _account_refs(body: Any, found: dict[str, str]) -> None:
    if isinstance(body, Mapping):
        for key, value in body.items():
            if key in _ACCOUNT_FIELDS and isinstance(value, str) and value:
                found.setdefault(value, _ACCOUNT_FIELDS[key])
            else:
                _account_refs(value, found)
    elif isinstance(body, list | tuple):
        for item in body:
            _account_refs(item, found)


async def account_names(ctx: ToolContext, body: Any) -> list[str]:
    """The accounts a body would post to, by name ("Sales Type A (4000)"), read from Sage; an account that
    cannot be read is shown by its id."""
    refs: dict[str, str] = {}
    _account_refs(body, refs)
    if not refs or ctx.scope is None:
        return []
    chosen = list(refs.items())[:MAX_ACCOUNTS]
    names: dict[str, str] = {}

    async def read(account_id: str, collection: str) -> None:
        try:
            raw = await ctx.business.get(f"{collection}/{path_segment(account_id)}")
        except SageError:
            return
        if isinstance(raw, Mapping) and raw.get("displayed_as"):
            names[account_id] = str(raw["displayed_as"])

    async with anyio.create_task_group() as group:
        for account_id, collection in chosen:
            group.start_soon(read, account_id, collection)
    return [names.get(account_id, account_id) for account_id, _ in chosen]


def question_text(preview: Mapping[str, Any]) -> str:
    """One paragraph a person can answer yes or no to."""
    business = preview.get("business") or {}
    parts = [f"{preview['title']} in {business.get('name')} ({business.get('id')}): {preview['request']}."]
    record = preview.get("record")
    if record:
        currency = f" {record['currency']}" if record.get("currency") else ""
        details = ", ".join(
            f"{label} {record[key]}{currency if key in ('total', 'outstanding') else ''}"
            for key, label in (
                ("contact", "contact"),
                ("date", "dated"),
                ("total", "total"),
                ("outstanding", "outstanding"),
                ("status", "status"),
            )
            if record.get(key)
        )
        parts.append(f"Record: {record.get('number') or record.get('id')}" + (f" ({details})." if details else "."))
    elif preview.get("amount"):
        parts.append(f"Amount: {preview['amount']}.")
    if preview.get("accounts"):
        parts.append(f"Accounts: {'; '.join(preview['accounts'])}.")
    parts.append(f"Asking because {preview['why']}. Go ahead?")
    return " ".join(parts)


def preview_result(name: str, preview: dict[str, Any], question: str, token: str, expiry: int) -> CallToolResult:
    text = (
        f"Not done yet: {name} needs the user's confirmation. {question}\n"
        "Show this to the user. Only if they agree, call "
        f"{name} again with exactly the same arguments plus confirmation_token {token!r} "
        f"(valid for {TOKEN_SECONDS // 60} minutes, once). Nothing was sent to Sage."
    )
    data = {
        "confirmation_required": True,
        "preview": preview,
        "confirmation_token": token,
        "expires_at": int(expiry),
    }
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data, is_error=True)
