"""The tool catalogue as data: every schema file is valid, annotated, paired with a handler, and snapshotted."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker

import sage_mcp
from sage_mcp.money import DECIMAL_PATTERN
from sage_mcp.registry import (
    ANNOTATION_KEYS,
    ConfigError,
    Registry,
    check_pairing,
    load_catalogue,
    mentioned_tools,
    parse_toolsets,
    render_description,
)
from sage_mcp.server import INSTRUCTIONS
from sage_mcp.tools import all_handlers

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = REPO / "tests" / "snapshots"
TOOLSETS, SPECS = load_catalogue()
NOT_BUSINESS_SCOPED = {"list_businesses", "find_sage_endpoint"}
#: The id patterns, shared verbatim: Sage record ids (32 hex), reference keys or codes (GB_STANDARD,
#: SALES, a nominal code, or an id), attachment ids (hex, hyphenated or not).
ID_PATTERNS = {"^[0-9a-f]{32}$", "^\\w{1,40}$", "^[0-9a-f-]{32,36}$"}
#: Arguments whose name says all a model needs (a description would only repeat it).
SELF_EVIDENT = {
    "allow_duplicate",  # the refusal that calls for it says what it does
    "amount",
    "as_at",
    "business_id",
    "contact_id",
    "contact_type",
    "date",
    "description",
    "due_from",
    "due_to",
    "email",
    "from_bank_account_id",
    "from_date",
    "id",
    "idempotency_key",
    "items_per_page",
    "lines",
    "query",
    "address",
    "statuses",
    "method",
    "name",
    "notes",
    "page",
    "period",
    "reference",
    "search",
    "telephone",
    "to_bank_account_id",
    "to_date",
    "type",
    "usage",
    "vendor_reference",
}
#: A quantifier with no upper bound (+, *, {n,}): a pattern with one does not bound the length.
UNBOUNDED = re.compile(r"(?<!\\)[+*]|\{\d+,\}")


def bounded_pattern(pattern: str) -> bool:
    """Anchored at both ends with only bounded quantifiers, so it bounds the length by itself."""
    return pattern.startswith("^") and pattern.endswith("$") and not UNBOUNDED.search(pattern)


def properties(schema: dict, path: str = ""):  # type: ignore[no-untyped-def,type-arg]
    """Every (path, property schema) in an input schema, nested objects and array items included."""
    for name, prop in (schema.get("properties") or {}).items():
        where = f"{path}.{name}" if path else name
        yield where, prop
        yield from properties(prop, where)
        if isinstance(prop.get("items"), dict):
            yield f"{where}[]", prop["items"]
            yield from properties(prop["items"], f"{where}[]")
        if isinstance(prop.get("additionalProperties"), dict):
            yield f"{where}.*", prop["additionalProperties"]


def bound_problems(schema: dict) -> list[str]:  # type: ignore[type-arg]
    """Every argument is bounded: strings by maxLength, a self-bounding pattern, enum or format; ids by a
    shared id pattern; amounts by the bounded money pattern; arrays by maxItems; numbers by a maximum;
    free-form objects by maxProperties."""
    problems = []
    for where, prop in properties(schema):
        types = prop.get("type")
        types = set(types) if isinstance(types, list) else {types}
        name = where.rsplit(".", 1)[-1].rstrip("[]")
        pattern = prop.get("pattern")
        if "string" in types:
            self_bounded = bool(pattern) and bounded_pattern(pattern)
            if not ("maxLength" in prop or "enum" in prop or "format" in prop or self_bounded):
                problems.append(f"{where}: string without maxLength, bounded pattern, enum or format")
            is_id = (name.endswith("_id") or name == "id") and name != "business_id"
            if is_id and "enum" not in prop and pattern not in ID_PATTERNS:
                problems.append(f"{where}: an id takes one of the shared id patterns {sorted(ID_PATTERNS)}")
            if pattern and "\\d" in pattern and "(\\." in pattern and pattern != DECIMAL_PATTERN:
                problems.append(f"{where}: amounts use the money pattern {DECIMAL_PATTERN} exactly")
        if "array" in types and "maxItems" not in prop:
            problems.append(f"{where}: array without maxItems")
        if types & {"integer", "number"} and "maximum" not in prop and "enum" not in prop:
            problems.append(f"{where}: number without maximum")
        if "object" in types and "properties" not in prop and "maxProperties" not in prop:
            problems.append(f"{where}: free-form object without maxProperties")
    return problems


HANDLERS = all_handlers(load_catalogue()[0])


def test_every_schema_has_a_handler_and_every_handler_a_schema() -> None:
    """Start-up does not import handler modules (a toolset's module loads on its first call), so this
    pairing is checked here: every schema file has its handler in ``sage_mcp.tools.<toolset>``."""
    assert check_pairing(SPECS, HANDLERS) == []


def test_pairing_check_reports_orphans() -> None:
    problems = check_pairing(SPECS, [*HANDLERS, "ghost_tool"][1:])
    assert any("ghost_tool" in p for p in problems)
    assert any("has no handler" in p for p in problems)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_schema_file_is_valid_and_complete(spec) -> None:  # type: ignore[no-untyped-def]
    raw = json.loads(spec.path.read_text())
    assert set(raw) == {"name", "title", "description", "annotations", "inputSchema", "outputSchema"}
    assert re.fullmatch(r"[a-z][a-z0-9_]{2,63}", spec.name)
    assert spec.description and spec.title
    Draft202012Validator.check_schema(spec.input_schema)
    Draft202012Validator.check_schema(spec.output_schema)
    assert spec.input_schema["type"] == "object"
    assert spec.input_schema["additionalProperties"] is False
    assert not {"anyOf", "oneOf", "allOf"} & set(spec.input_schema)
    assert spec.output_schema["type"] == "object"
    for key in ANNOTATION_KEYS:
        assert isinstance(raw["annotations"][key], bool), key
    for name, prop in spec.input_schema["properties"].items():
        assert "type" in prop, f"{spec.name}.{name} has no type"
        assert prop.get("description") or name in SELF_EVIDENT, f"{spec.name}.{name} has no description"
    if spec.name not in NOT_BUSINESS_SCOPED:
        assert "business_id" in spec.input_schema["properties"], "every business tool takes business_id"
        assert "business" in spec.output_schema["required"], "every business tool names its business"
    if not spec.read_only:
        assert raw["annotations"]["destructiveHint"] or "idempotency_key" in spec.input_schema["properties"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_argument_is_bounded(spec) -> None:  # type: ignore[no-untyped-def]
    assert bound_problems(spec.input_schema) == []
    business = spec.input_schema["properties"].get("business_id")
    if business is not None:
        assert business == {"type": "string", "maxLength": 32}
    key = spec.input_schema["properties"].get("idempotency_key")
    if key is not None:
        assert key == {"type": "string", "maxLength": 64}


def test_the_bounds_rule_catches_what_it_should() -> None:
    schema = {
        "type": "object",
        "properties": {
            "note": {"type": "string"},
            "path": {"type": "string", "pattern": "^/"},
            "contact_id": {"type": "string", "maxLength": 32},
            "amount": {"type": "string", "pattern": "^-?\\d+(\\.\\d+)?$"},
            "lines": {"type": "array", "items": {"type": "object", "properties": {"text": {"type": "string"}}}},
            "page": {"type": "integer", "minimum": 1},
            "body": {"type": "object"},
            "ok": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        },
    }
    problems = " | ".join(bound_problems(schema))
    for where in ("note:", "path:", "contact_id:", "amount:", "lines:", "lines[].text:", "page:", "body:"):
        assert where in problems
    assert "ok:" not in problems


def test_destructive_tools_are_marked() -> None:
    destructive = {s.name for s in SPECS if s.annotations["destructiveHint"]}
    assert "void_invoice" in destructive
    assert not {s.name for s in SPECS if s.read_only} & destructive


def test_read_only_removes_every_writing_tool() -> None:
    full = Registry.build("all")
    ro = Registry.build("all", read_only=True)
    assert set(ro.tools) == {n for n, t in full.tools.items() if t.spec.read_only}
    assert "create_invoice" in full.tools and "create_invoice" not in ro.tools


def test_default_is_the_everyday_tools_and_naming_a_toolset_brings_all_of_it() -> None:
    default = Registry.build("default")
    everyday = {
        "list_contacts",
        "create_contact",
        "update_contact",
        "list_invoices",
        "create_invoice",
        "update_invoice",
        "void_invoice",
        "record_payment",
        "create_bank_account",
        "create_bank_transfer",
        "create_journal",
        "list_ledger_accounts",
        "get_account_activity",
        "find_sage_endpoint",
        "sage_api_get",
        "sage_api_write",
        "get_business",
        "list_tax_rates",
    }
    assert everyday <= set(default.tools)
    assert {"delete_contact", "find_contact", "allocate_credit_note", "list_tax_schemes"}.isdisjoint(default.tools)
    contacts = Registry.build("default,contacts,payments")
    assert {"delete_contact", "find_contact", "allocate_credit_note", "list_payments"} <= set(contacts.tools)
    assert set(Registry.build("all").tools) == {s.name for s in SPECS}


def test_unknown_toolset_stops_start_up_listing_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown toolset\(s\): nope.*Valid toolsets: default, all, business"):
        parse_toolsets("invoices,nope", TOOLSETS)
    assert parse_toolsets("sales", TOOLSETS) == parse_toolsets("invoices", TOOLSETS), "the earlier name still works"


def _snapshot(name: str, data: object) -> None:
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}; run UPDATE_SNAPSHOTS=1 pytest {__file__}"
    assert path.read_text() == text, f"tools/list changed; if intended, run UPDATE_SNAPSHOTS=1 pytest {__file__}"


@pytest.mark.parametrize(
    ("config", "toolsets", "read_only"),
    [("default", "default", False), ("read_only", "default", True), ("all", "all", False)],
)
def test_tools_list_matches_snapshot(config: str, toolsets: str, read_only: bool) -> None:
    tools = Registry.build(toolsets, read_only=read_only).list_tools()
    _snapshot(f"tools_list.{config}", [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools])


def test_server_json_is_valid_for_the_mcp_registry() -> None:
    schema = json.loads((REPO / "tests" / "data" / "server.schema.json").read_text())
    manifest = json.loads((REPO / "server.json").read_text())
    errors = list(Draft7Validator(schema, format_checker=FormatChecker()).iter_errors(manifest))
    assert errors == []
    assert manifest["version"] == sage_mcp.__version__ == manifest["packages"][0]["version"]
    secrets = {v["name"] for v in manifest["packages"][0]["environmentVariables"] if v.get("isSecret")}
    assert {"SAGE_CLIENT_SECRET", "SAGE_REFRESH_TOKEN"} <= secrets
    assert f"mcp-name: {manifest['name']}" in (REPO / "README.md").read_text()


# -- what tools/list shows ---------------------------------------------------------------------------------

CONFIGS = [
    ("default", False),
    ("default", True),
    ("all", False),
    ("all", True),
    *((name, False) for name in TOOLSETS),
    ("invoices,payments", False),
]


@pytest.mark.parametrize(("toolsets", "read_only"), CONFIGS)
def test_descriptions_and_instructions_name_only_offered_tools(toolsets: str, read_only: bool) -> None:
    """A model is never pointed at a tool it cannot call: tool descriptions (property descriptions
    included) and the server's instructions name only the tools of the running configuration."""
    reg = Registry.build(toolsets, read_only=read_only)
    offered = set(reg.tools)
    for tool in reg.list_tools():
        named = mentioned_tools(json.dumps(tool.model_dump(mode="json", by_alias=True, exclude_none=True))) - {
            tool.name
        }
        assert named <= offered, f"{tool.name} names {sorted(named - offered)}, not offered with {toolsets}"
    instructions = reg.instructions(INSTRUCTIONS)
    assert mentioned_tools(instructions) <= offered, sorted(mentioned_tools(instructions) - offered)
    assert "[[" not in instructions and "]]" not in instructions


def test_hints_naming_absent_tools_are_dropped_and_kept_otherwise() -> None:
    assert "list_contacts" in Registry.build("default").instructions(INSTRUCTIONS)
    alone = Registry.build("invoices").instructions(INSTRUCTIONS)
    assert "list_contacts" not in alone and "list_invoices" in alone
    assert "Toolsets offered: invoices (" in alone
    assert render_description("Do it[[ (see list_contacts)]].", {"list_contacts"}) == "Do it (see list_contacts)."
    assert render_description("Do it[[ (see list_contacts)]].", set()) == "Do it."
    assert "Read-only" in Registry.build("default", read_only=True).instructions(INSTRUCTIONS)


def test_a_tool_of_another_toolset_says_how_to_enable_it() -> None:
    reg = Registry.build("default")
    message = reg.not_offered("allocate_credit_note") or ""
    assert "'payments' toolset" in message and "--toolsets default,payments" in message
    assert "SAGE_MCP_TOOLSETS=default,payments" in message
    assert "toolsets default,tax" in (reg.not_offered("list_tax_rates") or "")
    assert reg.not_offered("no_such_tool") is None
    read_only = Registry.build("all", read_only=True).not_offered("create_invoice") or ""
    assert "read-only" in read_only and "toolset" not in read_only


def test_tools_list_carries_hints_a_model_needs_and_the_server_still_enforces_every_bound() -> None:
    """On the wire: only annotations that differ from MCP's defaults, and no validation-only bounds; the
    schema file, which the server validates every call against, keeps them all."""
    reg = Registry.build("all")
    read = reg.tools["list_contacts"].mcp_tool.model_dump(by_alias=True, exclude_none=True)
    assert read["annotations"] == {"readOnlyHint": True}
    write = reg.tools["create_invoice"].mcp_tool.model_dump(by_alias=True, exclude_none=True)
    assert write["annotations"] == {"destructiveHint": False}
    void = reg.tools["void_invoice"].mcp_tool.model_dump(by_alias=True, exclude_none=True)
    assert "annotations" not in void or void["annotations"] == {}, "destructive, not idempotent: MCP's defaults"
    find = reg.tools["find_sage_endpoint"].mcp_tool.model_dump(by_alias=True, exclude_none=True)
    assert find["annotations"] == {"readOnlyHint": True, "openWorldHint": False}

    wire = write["inputSchema"]
    assert "additionalProperties" not in wire and "maxLength" not in wire["properties"]["notes"]
    assert "pattern" not in wire["properties"]["contact_id"]
    assert wire["properties"]["reference"]["maxLength"] == 25, "Sage's short limits stay: a model must keep to them"
    assert wire["properties"]["type"]["enum"][0] == "sales_invoice"

    validator = reg.tools["create_invoice"].validator
    too_long = {"contact_id": "a" * 32, "notes": "x" * 2001}
    assert any(e.validator == "maxLength" for e in validator.iter_errors(too_long))
    assert any(e.validator == "pattern" for e in validator.iter_errors({"contact_id": "not-an-id"}))
    assert any(e.validator == "additionalProperties" for e in validator.iter_errors({"surprise": 1}))
