"""What every tool handler shares: its context, the business it acts on, and small projections."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from sage_mcp.config import Settings
from sage_mcp.money import format_amount
from sage_mcp.sage.client import BusinessClient, SageClient
from sage_mcp.sage.errors import NotSignedInError
from sage_mcp.sage.pagination import Page

ProgressFn = Callable[[float, float | None, str | None], Awaitable[None]]
RootsFn = Callable[[], Awaitable[list[str]]]


class ToolError(Exception):
    """A problem the caller can fix (bad id, ambiguous business …); becomes an ``isError`` result."""


@dataclass(frozen=True)
class BusinessScope:
    """The business a call acts on, and why it was chosen."""

    client: BusinessClient
    id: str
    name: str
    notice: str | None = None

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass
class ToolContext:
    sage: SageClient
    settings: Settings
    tool_name: str
    writes: bool
    progress: ProgressFn | None = None
    scope: BusinessScope | None = None
    cache: dict[str, Any] = field(default_factory=dict)
    idempotency_used: str | None = None
    client_roots: RootsFn | None = None
    """Asks the MCP client for the folders it shares (its roots' URIs); ``None`` when it offers none."""
    over_http: bool = False
    """The call came over HTTP (its client may be on another machine), not from a local client."""

    @property
    def business(self) -> BusinessClient:
        if self.scope is None:
            raise RuntimeError(f"{self.tool_name} is not business-scoped")
        return self.scope.client

    async def report(self, done: float, total: float | None, message: str) -> None:
        if self.progress is not None:
            await self.progress(done, total, message)


Handler = Callable[[ToolContext, dict[str, Any]], Awaitable[dict[str, Any]]]


def business_label(b: Mapping[str, Any]) -> str:
    return f"{b.get('id')} ({b.get('name') or b.get('displayed_as') or 'unnamed'})"


async def resolve_business(
    sage: SageClient, settings: Settings, requested: str | None, *, writes: bool
) -> BusinessScope:
    """Argument → pinned business (SAGE_BUSINESS_ID or `auth login --business`) → the only business.

    With several businesses and no pin, reads use the lead business and say so; writes refuse.
    """
    businesses = await sage.list_businesses()
    by_id = {str(b.get("id")): b for b in businesses}
    available = "; ".join(business_label(b) for b in businesses) or "none"

    def scope(bid: str, notice: str | None = None) -> BusinessScope:
        b = by_id[bid]
        return BusinessScope(sage.for_business(bid), bid, str(b.get("name") or b.get("displayed_as")), notice)

    if requested:
        if requested not in by_id:
            raise ToolError(
                f"business_id {requested!r} is not one of the businesses this Sage login can access. "
                f"Available: {available}. Call list_businesses to see them."
            )
        return scope(requested)
    pinned = settings.business_id
    if not pinned:
        try:
            pinned = (await sage.tokens.login()).business_id
        except NotSignedInError:
            pinned = None
    if pinned:
        if pinned not in by_id:
            raise ToolError(
                f"the pinned business {pinned!r} is no longer accessible with this Sage login. "
                f"Available: {available}. Pass business_id, or pin another with "
                "`sage-mcp auth login --business ID` / SAGE_BUSINESS_ID."
            )
        return scope(pinned)
    if len(businesses) == 1:
        return scope(next(iter(by_id)))
    if not businesses:
        raise ToolError("this Sage login has no businesses")
    if writes:
        raise ToolError(
            "this Sage login can access several businesses and none is pinned, so a write needs an "
            f"explicit business_id. Available: {available}."
        )
    lead = await sage.lead_business_id()
    if lead not in by_id:
        raise ToolError(f"Sage's lead business {lead!r} is not in the business list. Available: {available}.")
    return scope(
        lead,
        f"No business_id given: used the lead business {business_label(by_id[lead])}. "
        f"Others: {'; '.join(business_label(b) for b in businesses if b.get('id') != lead)}.",
    )


async def resolve_businesses(ctx: ToolContext, wanted: Iterable[str]) -> list[BusinessScope]:
    """The businesses of a side-by-side (group) report: ids of this login's businesses, or ``"all"``.

    Nothing wanted: the call's own business. The call's own business keeps its client; the others get
    one each. A group answer names every business in its rows, so the call's "used the lead business"
    notice is dropped (the result's ``business`` stays the business the call was scoped to).
    """
    own = ctx.scope
    if own is None:
        raise RuntimeError(f"{ctx.tool_name} is not business-scoped")
    ids = list(dict.fromkeys(str(w) for w in wanted))
    if not ids:
        return [own]
    listed = await ctx.sage.list_businesses()
    by_id = {str(b.get("id")): b for b in listed}
    if "all" in ids:
        ids = list(by_id)
    unknown = [b for b in ids if b not in by_id]
    if unknown:
        available = "; ".join(business_label(b) for b in listed) or "none"
        raise ToolError(
            f"{', '.join(unknown)} {'is not a business' if len(unknown) == 1 else 'are not businesses'} "
            f"of this Sage login. Available: {available}."
        )
    ctx.scope = BusinessScope(own.client, own.id, own.name)
    return [
        ctx.scope
        if bid == own.id
        else BusinessScope(
            ctx.sage.for_business(bid), bid, str(by_id[bid].get("name") or by_id[bid].get("displayed_as") or "")
        )
        for bid in ids
    ]


def group_arguments(input_schema: Mapping[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """``business_id: "all"`` on a tool that reports businesses side by side means every business of the
    login: the same as ``businesses: ["all"]`` (the call itself is then scoped to the default business)."""
    if args.get("business_id") == "all" and "businesses" in (input_schema.get("properties") or {}):
        rest = {k: v for k, v in args.items() if k != "business_id"}
        return {**rest, "businesses": [*(rest.get("businesses") or []), "all"]}
    return args


def idempotency_id(ctx: ToolContext, given: str | None, *, record: str | None = None) -> str:
    """Sage's ``idempotency_id`` (32 lowercase hex) for this write.

    No key: a fresh random id. A 32-hex key (e.g. one a previous result returned): used as is.
    Any other key (an order number …): hashed with the business and tool (and ``record``, the id an
    update targets, so one key on two records makes two updates), so the same key always maps to the
    same id and a repeated call cannot create a second record.
    """
    if not given:
        key = secrets.token_hex(16)
    elif re.fullmatch(r"[0-9a-f]{32}", given):
        key = given
    else:
        scope = ctx.scope.id if ctx.scope else ""
        target = f":{record}" if record else ""
        key = hashlib.sha256(f"{scope}:{ctx.tool_name}{target}:{given}".encode()).hexdigest()[:32]
    ctx.idempotency_used = key
    return key


def link_id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        v = value.get("id")
        return str(v) if v is not None else None
    return None


def link_name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        v = value.get("displayed_as") or value.get("name")
        return str(v) if v is not None else None
    return None


def amount(raw: Mapping[str, Any], key: str) -> str | None:
    return format_amount(raw.get(key))


def compact(d: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` and empty values, keep zeros and ``False``."""
    return {k: v for k, v in d.items() if v is not None and v != [] and v != {} and v != ""}


def list_result(page: Page, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "total": page.total,
        "page": page.page,
        "next_page": page.page + 1 if page.next_path else None,
        "items": items,
    }


def paging_params(args: Mapping[str, Any]) -> dict[str, Any]:
    return {"page": args.get("page", 1), "items_per_page": args.get("items_per_page", 20)}


# -- fuzzy matching (find_contact, find_ledger_account) ------------------------------------------

#: A best score at or above this is a confident match.
CONFIDENT = 0.85
#: Scores closer than this to the best one make the best ambiguous.
AMBIGUITY_GAP = 0.05
MIN_SCORE = 0.5
MAX_MATCHES = 5
#: Only this much of a query or of a record's text is compared, and only this many of its words, so the
#: work per row is bounded whatever a record holds (the schemas bound the query to 200 characters).
MAX_TEXT = 200
MAX_WORDS = 20

#: Words that say little about which record is meant ("Ltd", "&" …); ignored when both sides have others.
NOISE_WORDS = frozenset({"ltd", "limited", "plc", "llp", "llc", "inc", "co", "company", "the", "and"})


def words(text: str) -> list[str]:
    """Lower-case words of ``text``: punctuation and case never decide a match."""
    return re.findall(r"[^\W_]+", text[:MAX_TEXT].casefold())[:MAX_WORDS]


def similarity(query: str, text: str) -> float:
    """How well ``query`` names ``text``, 0 to 1: tolerant of case, punctuation, typos, legal suffixes
    and a query that is only part of the name. 1 only for the same words."""
    from difflib import SequenceMatcher  # loaded by the first search, not at start-up

    q, t = words(query), words(text)
    if not q or not t:
        return 0.0
    qs, ts = " ".join(q), " ".join(t)
    if qs == ts:
        return 1.0
    qc = [w for w in q if w not in NOISE_WORDS] or q
    tc = [w for w in t if w not in NOISE_WORDS] or t
    best = max(SequenceMatcher(None, qs, ts).ratio(), 0.98 * SequenceMatcher(None, " ".join(qc), " ".join(tc)).ratio())
    if qs in ts:
        best = max(best, 0.85 + 0.1 * len(qs) / len(ts))
    per_word = [max(SequenceMatcher(None, w, x).ratio() for x in tc) for w in qc]
    coverage = min(1.0, len(qc) / len(tc))
    best = max(best, 0.95 * sum(per_word) / len(per_word) * (0.8 + 0.2 * coverage))
    return round(min(best, 0.99), 3)


Scored = tuple[float, str, dict[str, Any]]  # (score, field that matched, record)


async def rank(
    query: str,
    records: Iterable[dict[str, Any]],
    score: Callable[[str, dict[str, Any]], tuple[float, str]],
    project: Callable[[dict[str, Any]], dict[str, Any]],
    **notes: Any,
) -> dict[str, Any]:
    """:func:`best_matches` of ``records`` scored by ``score(query, record)``, computed in a worker thread:
    fuzzy matching over thousands of rows is CPU work, and on the event loop it would stall every other
    call this server is answering."""
    rows = list(records)

    def work() -> dict[str, Any]:
        return best_matches([(*score(query, r), r) for r in rows], project, **notes)

    return await anyio.to_thread.run_sync(work)


def best_matches(
    scored: list[Scored],
    project: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    tie_key: Callable[[dict[str, Any]], Any],
    not_found: str,
    ambiguous: str,
    weak: str,
) -> dict[str, Any]:
    """The best few scored records (``score`` and ``match`` added), with a note when none, several or
    only weak ones match. Shared by the find_* tools."""
    ranked = sorted(scored, key=lambda s: (-s[0], tie_key(s[2])))
    items = [{**project(r), "score": score, "match": field} for score, field, r in ranked if score >= MIN_SCORE]
    items = items[:MAX_MATCHES]
    out: dict[str, Any] = {"total": len(items), "items": items}
    if not items:
        out["note"] = not_found
    elif len(items) > 1 and items[0]["score"] - items[1]["score"] < AMBIGUITY_GAP:
        out["ambiguous"] = True
        out["note"] = ambiguous
    elif items[0]["score"] < CONFIDENT:
        out["note"] = weak
    return out
