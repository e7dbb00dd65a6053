"""The tool catalogue: schema files in ``tool_schemas/<toolset>/<tool>.json`` paired with handlers.

A tool exists only when both halves exist; :func:`check_pairing` reports any orphan. Which tools
a server offers is decided here once, at start-up: the selected toolsets, minus every tool whose
``readOnlyHint`` is false when the server is read-only (read-only wins over everything).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.types import Tool, ToolAnnotations

from sage_mcp.tools import HANDLERS, Handler

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

TOOLSETS_FILE = "_toolsets.json"
ANNOTATION_KEYS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


class ConfigError(ValueError):
    """A start-up setting names something that does not exist."""


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

    def to_mcp(self) -> Tool:
        return Tool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            annotations=ToolAnnotations(
                read_only_hint=self.annotations["readOnlyHint"],
                destructive_hint=self.annotations["destructiveHint"],
                idempotent_hint=self.annotations["idempotentHint"],
                open_world_hint=self.annotations["openWorldHint"],
            ),
        )


@dataclass(frozen=True)
class RegisteredTool:
    spec: ToolSpec
    handler: Handler
    mcp_tool: Tool

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


@cache
def load_catalogue(root: Path | None = None) -> tuple[dict[str, ToolsetInfo], tuple[ToolSpec, ...]]:
    """Every toolset and every tool schema on disk, in a stable order."""
    base = root or schema_root()
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

    for n in [n for n in names if n] or ["default"]:
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

    @classmethod
    def build(
        cls,
        toolsets: str | Iterable[str] | None = "default",
        *,
        read_only: bool = False,
        root: Path | None = None,
    ) -> Registry:
        known, specs = load_catalogue(root)
        problems = check_pairing(specs, HANDLERS)
        if problems:
            raise ConfigError("tool catalogue is inconsistent: " + "; ".join(problems))
        chosen = parse_toolsets(toolsets, known)
        for name, info in known.items():
            missing = set(info.everyday or ()) - {s.name for s in specs if s.toolset == name}
            if missing:
                raise ConfigError(f"{TOOLSETS_FILE}: everyday tools of {name} not in it: {', '.join(sorted(missing))}")
        tools: dict[str, RegisteredTool] = {}
        for spec in specs:
            if spec.toolset not in chosen or (read_only and not spec.read_only):
                continue
            picked = chosen[spec.toolset]
            if picked is not None and spec.name not in picked:
                continue
            tools[spec.name] = RegisteredTool(
                spec=spec,
                handler=HANDLERS[spec.name],
                mcp_tool=spec.to_mcp(),
            )
        return cls(tools=tools, toolsets=list(chosen), read_only=read_only)

    def list_tools(self) -> list[Tool]:
        return [t.mcp_tool for t in self.tools.values()]

    def get(self, name: str) -> RegisteredTool | None:
        return self.tools.get(name)


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
        rows.append(f"| {spec.toolset} | `{spec.name}`{'' if everyday else ' *'} | {kind} | {spec.description} |")
    return "\n".join(rows)
