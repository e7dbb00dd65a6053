"""MCP prompts: guided bookkeeping jobs (month-end close, VAT quarter, chasing overdue customers, setting
up a business connection), each a short sequence of steps that names the tools to use.

The texts live in ``prompts.toml``. A prompt names tools through placeholders (``{tool:NAME}``), and
is rendered for the server that serves it: a step whose tools this server does not offer (another
toolset, or a write in read-only mode) gives way to its fallback or is left out, and the prompt says
what would bring it back. So a prompt never points a model at a tool it cannot call.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mcp import MCPError
from mcp.server import ServerRequestContext
from mcp.types import (
    INVALID_PARAMS,
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    PaginatedRequestParams,
    Prompt,
    PromptArgument,
    PromptMessage,
    TextContent,
)

from sage_mcp.config import Settings
from sage_mcp.registry import Registry, load_catalogue
from sage_mcp.resources import STATIC_TTL_MS, Handler, SageFor, within_deadline
from sage_mcp.sage.client import SageClient
from sage_mcp.tools._base import BusinessScope, resolve_business

PROMPTS_FILE = Path(__file__).with_name("prompts.toml")
TOOL_REF = re.compile(r"\{tool:([a-z0-9_|]+)\}")
VALUE_REF = re.compile(r"\{([a-z_]+)\}")
#: The longest argument value accepted (a business name, an id, a date …).
MAX_ARGUMENT = 200
KINDS = ("business", "month", "vat_period_end", "days", "choice", "business_name")


@dataclass(frozen=True)
class Argument:
    name: str
    kind: str
    description: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    title: str
    text: str
    fallback: str | None = None


@dataclass(frozen=True)
class PromptText:
    name: str
    title: str
    description: str
    intro: str
    arguments: tuple[Argument, ...]
    steps: tuple[Step, ...]

    def to_mcp(self) -> Prompt:
        return Prompt(
            name=self.name,
            title=self.title,
            description=self.description,
            arguments=[PromptArgument(name=a.name, description=a.description, required=False) for a in self.arguments],
        )


@cache
def load_prompts(path: Path = PROMPTS_FILE) -> dict[str, PromptText]:
    """The prompts file, read on the first prompts request (not at start-up)."""
    import tomllib

    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    prompts: dict[str, PromptText] = {}
    for p in raw["prompt"]:
        arguments = tuple(
            Argument(a["name"], a["kind"], a["description"], tuple(a.get("choices", ()))) for a in p.get("argument", ())
        )
        unknown = [a.kind for a in arguments if a.kind not in KINDS]
        if unknown:
            raise ValueError(f"{path}: prompt {p['name']!r} has arguments of unknown kind {unknown}")
        steps = tuple(Step(s["title"], s["text"], s.get("fallback")) for s in p["step"])
        prompts[p["name"]] = PromptText(p["name"], p["title"], p["description"], p["intro"], arguments, steps)
    return prompts


def tool_references(text: str) -> list[tuple[str, ...]]:
    """The tools ``text`` names: one tuple of alternatives per ``{tool:…}`` placeholder."""
    return [tuple(ref.split("|")) for ref in TOOL_REF.findall(text)]


# -- what the running server offers -----------------------------------------------------------------


class Offer:
    """The tools one server offers, and why one it does not offer is missing."""

    def __init__(self, registry: Registry) -> None:
        self.offered = set(registry.tools)
        self.read_only = registry.read_only
        _, specs = load_catalogue()
        self.catalogue = {s.name: s for s in specs}

    def pick(self, alternatives: tuple[str, ...]) -> str | None:
        return next((name for name in alternatives if name in self.offered), None)

    def why_missing(self, alternatives: tuple[str, ...]) -> str:
        """``"write"`` when the tool writes and the server is read-only, else the toolset that has it
        (``""`` for a name no toolset has)."""
        spec = next((self.catalogue[n] for n in alternatives if n in self.catalogue), None)
        if spec is None:
            return ""
        if self.read_only and not spec.read_only:
            return "write"
        return spec.toolset

    def renders(self, text: str) -> bool:
        return all(self.pick(refs) for refs in tool_references(text))

    def missing(self, text: str) -> list[str]:
        return list(dict.fromkeys(self.why_missing(refs) for refs in tool_references(text) if not self.pick(refs)))

    def explain(self, limited: list[tuple[str, bool, list[str]]]) -> str:
        """What a server without some steps' tools tells the user: which steps, and what brings them back."""
        parts = []
        for title, shortened, needs in limited:
            said = [
                "write access" if n == "write" else (f"the {n} toolset" if n else "a tool this version does not have")
                for n in needs
            ]
            parts.append(f"{title} is {'shortened' if shortened else 'left out'} (it needs {' and '.join(said)})")
        text = "On this server, " + "; ".join(parts) + "."
        if any("write" in needs for _, _, needs in limited):
            text += " The server is read-only, so changes in Sage are left to me."
        toolsets = list(dict.fromkeys(n for _, _, needs in limited for n in needs if n not in ("write", "")))
        if toolsets:
            text += (
                f" Starting sage-mcp with --toolsets default,{','.join(toolsets)} "
                "(or SAGE_MCP_TOOLSETS) offers the full steps."
            )
        return text


def fill(text: str, values: Mapping[str, str], offer: Offer) -> str:
    """``text`` with its tools (backquoted) and values in place; every tool named must be offered."""

    def tool(match: re.Match[str]) -> str:
        name = offer.pick(tuple(match[1].split("|")))
        if name is None:
            raise ValueError(f"no offered tool for {match[0]}")
        return f"`{name}`"

    def value(match: re.Match[str]) -> str:
        return values[match[1]]

    return VALUE_REF.sub(value, TOOL_REF.sub(tool, text))


def render(prompt: PromptText, values: Mapping[str, str], offer: Offer) -> str:
    """The prompt as one message: the intro, the steps this server can do, and what it left out and why."""
    lines = [fill(prompt.intro, values, offer), ""]
    limited: list[tuple[str, bool, list[str]]] = []
    number = 0
    for step in prompt.steps:
        if offer.renders(step.text):
            chosen: str | None = step.text
        else:
            chosen = step.fallback if step.fallback is not None and offer.renders(step.fallback) else None
            limited.append((step.title, chosen is not None, offer.missing(step.text)))
        if chosen is not None:
            number += 1
            lines.append(f"{number}. {step.title}: {fill(chosen, values, offer)}")
    if limited:
        lines += ["", offer.explain(limited)]
    return "\n".join(lines)


# -- arguments -------------------------------------------------------------------------------------


def _refuse(prompt: PromptText, name: str, problem: str) -> MCPError:
    return MCPError(INVALID_PARAMS, f"Prompt {prompt.name}: argument {name}: {problem}", {"argument": name})


def _month(prompt: PromptText, arg: Argument, given: str | None, today: dt.date) -> dict[str, str]:
    if given:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", given):
            raise _refuse(prompt, arg.name, f"{given[:40]!r} is not a month; write it as YYYY-MM, e.g. 2026-10")
        start = dt.date(int(given[:4]), int(given[5:]), 1)
    else:
        start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return {"month_label": start.strftime("%B %Y"), "month_start": start.isoformat(), "month_end": end.isoformat()}


def _vat_period_end(prompt: PromptText, arg: Argument, given: str | None, _today: dt.date) -> dict[str, str]:
    if not given:
        return {"vat_period": "the last VAT period that has ended", "vat_args": 'period "last_vat_period"'}
    try:
        end = dt.date.fromisoformat(given) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", given) else None
    except ValueError:
        end = None
    if end is None:
        raise _refuse(prompt, arg.name, f"{given[:40]!r} is not a date; write it as YYYY-MM-DD")
    return {
        "vat_period": f"the VAT period ending {end.isoformat()}",
        "vat_args": f"to_date {end.isoformat()} and from_date the first day of that period (from the return frequency)",
    }


def _days(prompt: PromptText, arg: Argument, given: str | None, _today: dt.date) -> dict[str, str]:
    if not given:
        return {arg.name: "30"}
    if not re.fullmatch(r"\d{1,3}", given.strip()) or not 1 <= int(given) <= 365:
        raise _refuse(prompt, arg.name, f"{given[:40]!r} is not a number of days from 1 to 365")
    return {arg.name: str(int(given))}


def _choice(prompt: PromptText, arg: Argument, given: str | None, _today: dt.date) -> dict[str, str]:
    if not given:
        return {arg.name: arg.choices[0]}
    if given.strip().lower() not in arg.choices:
        raise _refuse(prompt, arg.name, f"{given[:40]!r} is not one of {', '.join(arg.choices)}")
    return {arg.name: given.strip().lower()}


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _business_name(_prompt: PromptText, _arg: Argument, given: str | None, _today: dt.date) -> dict[str, str]:
    name = _one_line(given or "")
    if not name:
        return {"business_wanted": "one of my Sage businesses", "pick": "Ask me which one to use."}
    return {
        "business_wanted": f"my business {name!r}",
        "pick": f"Find {name!r} among them (ask me if several names are close, or if none is).",
    }


Expand = Callable[[PromptText, Argument, str | None, dt.date], dict[str, str]]
EXPANSIONS: dict[str, Expand] = {
    "month": _month,
    "vat_period_end": _vat_period_end,
    "days": _days,
    "choice": _choice,
    "business_name": _business_name,
}


def business_phrase(scope: BusinessScope | None) -> dict[str, str]:
    if scope is None:
        return {"business": "the default business (each tool's result names the business it used)"}
    return {"business": f"{scope.name} (business_id {scope.id}: pass it to every tool)"}


def prompt_values(
    prompt: PromptText, arguments: Mapping[str, str], scope: BusinessScope | None, today: dt.date
) -> dict[str, str]:
    """Every value the prompt's texts use, from its (already checked) arguments."""
    values: dict[str, str] = {}
    for arg in prompt.arguments:
        given = arguments.get(arg.name) or None
        values.update(
            business_phrase(scope) if arg.kind == "business" else EXPANSIONS[arg.kind](prompt, arg, given, today)
        )
    return values


def check_arguments(prompt: PromptText, arguments: Mapping[str, str] | None) -> dict[str, str]:
    given = {k: v for k, v in (arguments or {}).items()}
    known = {a.name for a in prompt.arguments}
    unknown = sorted(set(given) - known)
    if unknown:
        raise MCPError(
            INVALID_PARAMS,
            f"Prompt {prompt.name} has no argument {', '.join(unknown)[:200]}; "
            f"its arguments: {', '.join(sorted(known)) or 'none'}.",
        )
    for name, value in given.items():
        if not isinstance(value, str) or len(value) > MAX_ARGUMENT:
            raise _refuse(prompt, name, f"must be text of at most {MAX_ARGUMENT} characters")
    return {k: v.strip() for k, v in given.items()}


# -- serving -------------------------------------------------------------------------------------


class Prompts:
    def __init__(self, registry: Registry, settings: Settings) -> None:
        self.offer = Offer(registry)
        self.settings = settings

    @property
    def prompts(self) -> dict[str, PromptText]:
        return load_prompts()

    def list(self) -> list[Prompt]:
        return [p.to_mcp() for p in self.prompts.values()]

    async def get(
        self, sage: SageClient, name: str, arguments: Mapping[str, str] | None, today: dt.date | None = None
    ) -> GetPromptResult:
        prompt = self.prompts.get(name)
        if prompt is None:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt {name[:100]!r}. Prompts: {', '.join(self.prompts)}.")
        args = check_arguments(prompt, arguments)
        day = today or dt.date.today()
        values = prompt_values(prompt, args, None, day)  # checks every argument before Sage is asked anything
        business = next((a for a in prompt.arguments if a.kind == "business"), None)
        if business is not None and args.get(business.name):
            values.update(business_phrase(await self._business(sage, args[business.name])))
        text = render(prompt, values, self.offer)
        return GetPromptResult(
            description=prompt.description,
            messages=[PromptMessage(role="user", content=TextContent(type="text", text=text))],
        )

    async def _business(self, sage: SageClient, business_id: str) -> BusinessScope:
        """The business a prompt argument names, resolved like a tool's ``business_id`` (a read)."""

        async def work() -> BusinessScope:
            return await resolve_business(sage, self.settings, business_id, writes=False)

        return await within_deadline(self.settings, work, "Prompt argument business_id", {"argument": "business_id"})


def handlers(registry: Registry, settings: Settings, sage_for: SageFor) -> dict[str, Handler]:
    """The prompts' request handlers, rendered for the tools ``registry`` offers."""
    prompts = Prompts(registry, settings)

    async def list_prompts(
        _ctx: ServerRequestContext[dict[str, Any]], _params: PaginatedRequestParams
    ) -> ListPromptsResult:
        return ListPromptsResult(prompts=prompts.list(), ttl_ms=STATIC_TTL_MS, cache_scope="public")

    async def get_prompt(ctx: ServerRequestContext[dict[str, Any]], params: GetPromptRequestParams) -> GetPromptResult:
        return await prompts.get(await sage_for(ctx), params.name, params.arguments)

    return {"prompts/list": list_prompts, "prompts/get": get_prompt}
