"""``completion/complete``: suggestions for the prompts' arguments and the resource templates' ``business_id``.

Businesses come from the Sage login (an id completes from its start or from part of the business's
name); months, period ends, days and tones from the calendar and the prompt's own choices. A
suggestion list is never an error: when Sage cannot be asked, there are simply no business suggestions.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from mcp.server import ServerRequestContext
from mcp.types import CompleteRequestParams, CompleteResult, Completion, PromptReference

from sage_mcp.config import Settings
from sage_mcp.prompts import load_prompts
from sage_mcp.resources import Handler, SageFor, within_deadline
from sage_mcp.sage.client import SageClient

log = logging.getLogger(__name__)
#: The protocol's limit on values in one completion.
MAX_VALUES = 100


def month_ends(today: dt.date, count: int) -> list[dt.date]:
    """The last day of this month and of the ``count - 1`` months before it, newest first."""
    ends: list[dt.date] = []
    first = today.replace(day=1)
    for _ in range(count):
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        ends.append(following - dt.timedelta(days=1))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return ends


def calendar_values(kind: str, choices: tuple[str, ...], today: dt.date) -> list[str]:
    """Suggestions that need no Sage: recent months, recent month ends, usual day counts, choices."""
    if kind == "month":
        return [d.strftime("%Y-%m") for d in month_ends(today, 25)[1:]]  # last month first
    if kind == "vat_period_end":
        return [d.isoformat() for d in month_ends(today, 13)[1:]]
    if kind == "days":
        return ["30", "60", "90", "120"]
    return list(choices)


async def business_values(sage: SageClient, settings: Settings, typed: str, *, names: bool) -> list[str]:
    """Ids (or names) of the login's businesses matching what was typed so far."""
    try:
        businesses = await within_deadline(settings, sage.list_businesses, "Cannot list businesses", {})
    except Exception as exc:  # a suggestion list is never an error
        log.info("no business suggestions: %s", exc)
        return []
    wanted = typed.casefold()
    out = []
    for b in businesses:
        bid, name = str(b.get("id")), str(b.get("name") or b.get("displayed_as") or "")
        if bid.casefold().startswith(wanted) or wanted in name.casefold():
            out.append(name if names else bid)
    return out


def handlers(settings: Settings, sage_for: SageFor) -> dict[str, Handler]:
    """The completion handler: values for prompt arguments and resource template variables."""

    async def complete(ctx: ServerRequestContext[dict[str, Any]], params: CompleteRequestParams) -> CompleteResult:
        typed = params.argument.value[:200]
        if isinstance(params.ref, PromptReference):
            kinds = {(p.name, a.name): (a.kind, a.choices) for p in load_prompts().values() for a in p.arguments}
            kind, choices = kinds.get((params.ref.name, params.argument.name), ("", ()))
        else:  # a resource template: its only variable is business_id
            kind, choices = ("business", ()) if params.argument.name == "business_id" else ("", ())
        if kind in ("business", "business_name"):
            sage = await sage_for(ctx)
            values = await business_values(sage, settings, typed, names=kind == "business_name")
        elif kind:
            values = [v for v in calendar_values(kind, choices, dt.date.today()) if v.startswith(typed.strip())]
        else:
            values = []
        return CompleteResult(
            completion=Completion(values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES)
        )

    return {"completion/complete": complete}
