"""The tool catalogue: schema files in ``tool_schemas/<toolset>/<tool>.json`` paired with handlers.

A tool exists only when both halves exist; :func:`check_pairing` reports any orphan (run by the tests:
start-up reads only the schema files, and a handler's module is imported on its tool's first call). Which tools
a server offers is decided here once, at start-up: the selected toolsets, minus every tool whose
``readOnlyHint`` is false when the server is read-only (read-only wins over everything).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.types import Tool, ToolAnnotations

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

    from sage_mcp.tools import Handler

TOOLSETS_FILE = "_toolsets.json"
#: Toolsets of earlier versions, still accepted by their old names.
RENAMED = {"sales": "invoices", "purchases": "invoices"}
ANNOTATION_KEYS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
#: MCP's defaults for the annotations a client reads when a tool does not set them. On the wire a tool
#: sends only the hints that differ from these (and, for a read, only readOnlyHint and openWorldHint:
#: the spec gives destructiveHint and idempotentHint meaning only for tools that write).
MCP_DEFAULTS = {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False, "openWorldHint": True}
#: Keywords of a schema file that only bound what the server accepts (it validates every call against the
#: file): tools/list leaves them out, so a model reads what it needs to choose arguments, not the limits
#: that keep hostile input away. Sage's own short text limits (a reference of 25 …) stay.
LONG_TEXT = 32
BIG_NUMBER = 200
#: Patterns a model needs no telling: record ids come from earlier results, amounts are decimal strings
#: (the server's instructions say so).
QUIET_PATTERNS = frozenset({"^[0-9a-f]{32}$", "^-?\\d{1,13}(\\.\\d{1,6})?$", "^([0-9a-f]{32}|all)$"})
#: ``[[...]]`` in a description: a hint that names other tools, kept only when every tool it names is offered.
OPTIONAL_HINT = re.compile(r"\[\[(.*?)\]\]", re.S)
TOOL_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


class ConfigError(ValueError):
    """A start-up setting names something that does not exist."""


@cache
def schema_root() -> Path:
    """``tool_schemas/``: packaged inside the wheel, or at the top of a source checkout."""
    packaged = Path(__file__).parent / "tool_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "tool_schemas"


@dataclass(frozen=True)
class ToolsetInfo:
    """A toolset. ``default``: whether the default set includes it; ``everyday``: if given, only these
    of its tools are in the default set (naming the toolset, or ``all``, gives every tool)."""

    name: str
    description: str
    default: bool
    everyday: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ToolSpec:
    """One schema file, as written."""

    name: str
    toolset: str
    title: str
    description: str
    annotations: dict[str, bool]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    path: Path

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.get("readOnlyHint", False))

    @property
    def business_scoped(self) -> bool:
        """Tools that act on one business take ``business_id`` and are resolved to a business."""
        return "business_id" in self.input_schema.get("properties", {})

    def wire_annotations(self) -> dict[str, bool]:
        """The hints a client needs: those that differ from MCP's defaults (a read: readOnlyHint, and
        openWorldHint when false; a write: destructiveHint false, idempotentHint true, openWorldHint false)."""
        meaningful = ("readOnlyHint", "openWorldHint") if self.read_only else ANNOTATION_KEYS
        return {k: self.annotations[k] for k in meaningful if self.annotations[k] != MCP_DEFAULTS[k]}

    def to_mcp(self, offered: Iterable[str] | None = None) -> Tool:
        """The tools/list entry. ``offered``: the tools of the running configuration (default: every
        tool), so a description's optional hints name only tools the client can call. The title stays
        in the schema file (README's table): on the wire a client shows the name, which says as much."""
        hints = self.wire_annotations()
        names = None if offered is None else set(offered)
        return Tool(
            name=self.name,
            description=render_description(self.description, names),
            input_schema=wire_schema(self.input_schema, names),
            output_schema=self.output_schema,
            annotations=ToolAnnotations(
                read_only_hint=hints.get("readOnlyHint"),
                destructive_hint=hints.get("destructiveHint"),
                idempotent_hint=hints.get("idempotentHint"),
                open_world_hint=hints.get("openWorldHint"),
            ),
        )


def wire_schema(schema: Any, offered: Iterable[str] | None = None) -> Any:
    """``schema`` as tools/list shows it: without the bounds in :data:`LONG_TEXT`, :data:`BIG_NUMBER`,
    minimums of 0 or 1, ``maxItems``/``maxProperties``, ``additionalProperties: false`` and
    :data:`QUIET_PATTERNS` (all still enforced by the server, whose errors name the argument and the rule)."""
    if isinstance(schema, list):
        return [wire_schema(x, offered) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("maxItems", "maxProperties") and isinstance(value, int):
            continue
        if key == "additionalProperties" and value is False:
            continue
        if key == "maxLength" and isinstance(value, int) and value >= LONG_TEXT:
            continue
        if key == "maximum" and isinstance(value, int) and value >= BIG_NUMBER:
            continue
        if key in ("minimum", "minItems", "minLength") and value in (0, 1):
            continue
        if key == "pattern" and value in QUIET_PATTERNS:
            continue
        if key == "description" and isinstance(value, str):
            out[key] = render_description(value, offered)
        else:
            out[key] = value if key in ("enum", "const", "default") else wire_schema(value, offered)
    return out


def render_description(text: str, offered: Iterable[str] | None) -> str:
    """``text`` with each ``[[hint]]`` kept (brackets removed) when the tools it names are all in
    ``offered`` (``None``: every tool is), and dropped otherwise."""
    names = None if offered is None else set(offered)
    known = {s.name for s in load_catalogue()[1]}

    def keep(match: re.Match[str]) -> str:
        hint = match.group(1)
        wanted = {w for w in TOOL_WORD.findall(hint) if w in known}
        return hint if names is None or wanted <= names else ""

    return re.sub(r"\s+([.,;:)])", r"\1", re.sub(r"  +", " ", OPTIONAL_HINT.sub(keep, text))).strip()


def mentioned_tools(text: str) -> set[str]:
    """The catalogue's tool names that ``text`` mentions."""
    known = {s.name for s in load_catalogue()[1]}
    return {w for w in TOOL_WORD.findall(text) if w in known}


@dataclass(frozen=True)
class RegisteredTool:
    spec: ToolSpec
    mcp_tool: Tool

    @cached_property
    def handler(self) -> Handler:
        """The handler, its toolset's module imported on the tool's first call (not at start-up)."""
        from sage_mcp.tools import handler_for

        return handler_for(self.spec.toolset, self.spec.name)

    @cached_property
    def validator(self) -> Draft202012Validator:
        """The argument validator, made on the tool's first call (so jsonschema is not loaded to start)."""
        return _validator(self.spec.name, json.dumps(self.spec.input_schema, sort_keys=True))


def load_spec(path: Path, toolset: str) -> ToolSpec:
    raw = json.loads(path.read_text(encoding="utf-8"))
    annotations = raw.get("annotations") or {}
    missing = [k for k in ANNOTATION_KEYS if not isinstance(annotations.get(k), bool)]
    if missing:
        raise ConfigError(f"{path}: annotations must set {', '.join(missing)} (true or false)")
    return ToolSpec(
        name=raw["name"],
        toolset=toolset,
        title=raw["title"],
        description=raw["description"],
        annotations={k: bool(annotations[k]) for k in ANNOTATION_KEYS},
        input_schema=raw["inputSchema"],
        output_schema=raw["outputSchema"],
        path=path,
    )


def load_catalogue(root: Path | None = None) -> tuple[dict[str, ToolsetInfo], tuple[ToolSpec, ...]]:
    """Every toolset and every tool schema on disk, in a stable order (read once per folder)."""
    return _load_catalogue(root or schema_root())


@cache
def _load_catalogue(base: Path) -> tuple[dict[str, ToolsetInfo], tuple[ToolSpec, ...]]:
    meta = json.loads((base / TOOLSETS_FILE).read_text(encoding="utf-8"))
    toolsets = {
        name: ToolsetInfo(
            name,
            str(info["description"]),
            bool(info.get("default", False)),
            tuple(info["everyday"]) if "everyday" in info else None,
        )
        for name, info in meta.items()
    }
    folders = {p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    undeclared = folders - toolsets.keys()
    if undeclared:
        raise ConfigError(f"{', '.join(sorted(undeclared))} not declared in {TOOLSETS_FILE}")
    specs: list[ToolSpec] = []
    for name in toolsets:  # the order of _toolsets.json is the order of tools/list
        specs.extend(load_spec(f, name) for f in sorted((base / name).glob("*.json")))
    return toolsets, tuple(specs)


def check_pairing(specs: Iterable[ToolSpec], handlers: Iterable[str]) -> list[str]:
    """Problems with the schema ↔ handler pairing (empty when every tool has its twin)."""
    problems: list[str] = []
    by_name: dict[str, ToolSpec] = {}
    for spec in specs:
        if spec.path.stem != spec.name:
            problems.append(f"{spec.path}: file name does not match tool name {spec.name!r}")
        if spec.name in by_name:
            problems.append(f"tool {spec.name!r} is defined twice")
        by_name[spec.name] = spec
    handler_names = set(handlers)
    problems += [f"schema {n!r} has no handler" for n in sorted(by_name.keys() - handler_names)]
    problems += [f"handler {n!r} has no schema file" for n in sorted(handler_names - by_name.keys())]
    return problems


def parse_toolsets(value: str | Iterable[str] | None, known: dict[str, ToolsetInfo]) -> dict[str, set[str] | None]:
    """``"default"``, ``"all"`` or a comma list → {toolset: the tool names chosen, or ``None`` for all of them}.

    ``default`` is the everyday tools of the default toolsets; a toolset named explicitly (or ``all``)
    brings every tool it has. Unknown names stop start-up with the list of valid ones.
    """
    if value is None:
        value = "default"
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else [n.strip() for n in value]
    chosen: dict[str, set[str] | None] = {}
    unknown: list[str] = []

    def add(toolset: str, tools: set[str] | None) -> None:
        so_far = chosen.get(toolset, set())
        chosen[toolset] = None if tools is None or so_far is None else so_far | tools

    for n in [RENAMED.get(n, n) for n in names if n] or ["default"]:
        if n == "all":
            for k in known:
                add(k, None)
        elif n == "default":
            for k, v in known.items():
                if v.default:
                    add(k, set(v.everyday) if v.everyday is not None else None)
        elif n in known:
            add(n, None)
        else:
            unknown.append(n)
    if unknown:
        valid = ", ".join(["default", "all", *known])
        raise ConfigError(f"unknown toolset(s): {', '.join(unknown)}. Valid toolsets: {valid}")
    return {k: chosen[k] for k in known if k in chosen}


@dataclass
class Registry:
    """The tools one server offers, in catalogue order."""

    tools: dict[str, RegisteredTool] = field(default_factory=dict)
    toolsets: list[str] = field(default_factory=list)
    read_only: bool = False
    #: every tool of the catalogue, offered or not (to say how to get one that is not)
    catalogue: dict[str, ToolSpec] = field(default_factory=dict)
    #: the toolsets as configured (``default``, names, ``all``)
    selection: list[str] = field(default_factory=lambda: ["default"])

    @classmethod
    def build(
        cls,
        toolsets: str | Iterable[str] | None = "default",
        *,
        read_only: bool = False,
        root: Path | None = None,
        confirm_writes: bool = False,
    ) -> Registry:
        """The tools of ``toolsets``. ``confirm_writes``: every write may need the user's confirmation
        (an amount threshold is set), not only the destructive ones, so each takes ``confirmation_token``."""
        known, specs = load_catalogue(root)
        chosen = parse_toolsets(toolsets, known)
        for name, info in known.items():
            missing = set(info.everyday or ()) - {s.name for s in specs if s.toolset == name}
            if missing:
                raise ConfigError(f"{TOOLSETS_FILE}: everyday tools of {name} not in it: {', '.join(sorted(missing))}")
        offered = [
            with_confirmation_token(spec)
            if not spec.read_only and (confirm_writes or spec.annotations["destructiveHint"])
            else spec
            for spec in specs
            if spec.toolset in chosen
            and not (read_only and not spec.read_only)
            and (chosen[spec.toolset] is None or spec.name in (chosen[spec.toolset] or ()))
        ]
        names = {spec.name for spec in offered}
        tools = {
            spec.name: RegisteredTool(
                spec=spec,
                mcp_tool=spec.to_mcp(names),
            )
            for spec in offered
        }
        asked = toolsets if isinstance(toolsets, str) or toolsets is None else ",".join(toolsets)
        return cls(
            tools=tools,
            toolsets=list(chosen),
            read_only=read_only,
            catalogue={s.name: s for s in specs},
            selection=[n.strip() for n in (asked or "default").split(",") if n.strip()] or ["default"],
        )

    def list_tools(self) -> list[Tool]:
        return [t.mcp_tool for t in self.tools.values()]

    def get(self, name: str) -> RegisteredTool | None:
        return self.tools.get(name)

    def not_offered(self, name: str) -> str | None:
        """Why a tool of the catalogue is not offered here, and how to get it; ``None`` when no tool has
        that name."""
        spec = self.catalogue.get(name)
        if spec is None:
            return None
        if self.read_only and not spec.read_only:
            return (
                f"{name} writes to Sage and this server is read-only (SAGE_MCP_READ_ONLY / --read-only, "
                "or a Sage login with the readonly scope); nothing was sent."
            )
        wanted = ",".join(dict.fromkeys([*self.selection, spec.toolset]))
        part = (
            "whose default part only is offered here"
            if spec.toolset in self.toolsets
            else "which this server does not offer"
        )
        return (
            f"{name} is in the {spec.toolset!r} toolset, {part}; nothing was sent. To use it, start the server "
            f"with --toolsets {wanted} (or SAGE_MCP_TOOLSETS={wanted})."
        )

    def instructions(self, template: str) -> str:
        """The server's instructions: ``template``'s hints for the tools offered here, then the toolsets."""
        text = render_description(template, self.tools)
        known, _ = load_catalogue()
        offered = "; ".join(f"{t} ({known[t].description})" for t in self.toolsets if t in known)
        return f"{text}\nToolsets offered: {offered}." + (" Read-only: no writes." if self.read_only else "")


#: Added to every tool a user may have to confirm: the token a preview hands out (kept tiny: it is in
#: every tools/list).
CONFIRMATION_TOKEN: dict[str, Any] = {"type": "string", "maxLength": 200}


def with_confirmation_token(spec: ToolSpec) -> ToolSpec:
    """``spec`` taking the optional ``confirmation_token`` a preview of the call hands out."""
    schema = dict(spec.input_schema)
    properties = dict(schema.get("properties") or {})
    if "confirmation_token" in properties:
        return spec
    properties["confirmation_token"] = CONFIRMATION_TOKEN
    schema["properties"] = properties
    return replace(spec, input_schema=schema)


@cache
def _validator(name: str, schema_json: str) -> Draft202012Validator:
    """A validator for one input schema. The schemas themselves are checked against the Draft 2020-12
    metaschema by the test suite (tests/test_catalogue.py), not at every start."""
    from jsonschema import Draft202012Validator, FormatChecker

    del name  # part of the cache key only
    return Draft202012Validator(json.loads(schema_json), format_checker=FormatChecker())


def catalogue_markdown(root: Path | None = None) -> str:
    """The README's tool table: every tool in the catalogue, by toolset."""
    toolsets, specs = load_catalogue(root)
    rows = ["| toolset | tool | kind | what it does |", "|---|---|---|---|"]
    for spec in specs:
        kind = "read" if spec.read_only else ("write, destructive" if spec.annotations["destructiveHint"] else "write")
        info = toolsets[spec.toolset]
        everyday = info.default and (info.everyday is None or spec.name in info.everyday)
        text = render_description(spec.description, None)
        rows.append(f"| {spec.toolset} | `{spec.name}`{'' if everyday else ' *'} | {kind} | {text} |")
    return "\n".join(rows)
