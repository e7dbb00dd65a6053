"""Property-based fuzz of every tool through the MCP client against a private seeded sandbox.

For each tool, hypothesis draws arguments from its inputSchema (``from_schema`` below), with the ids
of real records mixed in so calls reach deep into the handlers, and then the same arguments with one
value poisoned: a wrong type, a huge string, odd unicode, ``..``, a path, a NaN-like amount, an unknown
field. Whatever comes in, the server answers: never a protocol error (an exception from call_tool),
never an internal error, and a refusal of arguments that break the schema names the field.

Writes go to the private sandbox (voids and deletes included); attachment tools get no file roots,
so they cannot touch a local file.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult

from sage_mcp.demo import sandbox_settings
from sage_mcp.money import DECIMAL_PATTERN
from sage_mcp.registry import RegisteredTool, Registry
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, SandboxConfig, running_sandbox
from sage_mcp.server import create_server

REGISTRY = Registry.build("all")
TOOLS = sorted(REGISTRY.tools)
#: Cases per tool; with ~80 tools that is a few thousand calls, kept short by the bounded sizes below.
VALID_EXAMPLES = int(os.environ.get("FUZZ_VALID_EXAMPLES", "12"))
INVALID_EXAMPLES = int(os.environ.get("FUZZ_INVALID_EXAMPLES", "24"))
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
POISON: list[Any] = [
    "",
    "..",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "%2E%2E%2F",
    "x" * 65_536,
    "NaN",
    "Infinity",
    "-Infinity",
    "1e999",
    "1e28",
    "9" * 40,
    "\x00",
    "\u202e\u0041",
    "😀" * 30,
    "Ω≈ç√ ﷽",
    "-0",
    " ",
    None,
    True,
    0,
    -1,
    10**30,
    1.5e308,
    [],
    [None],
    {},
    {"a": "b"},
    ["x"] * 300,
]

#: Which real records an id argument may name, by the argument's name.
ID_SOURCES: dict[str, tuple[str, ...]] = {
    "contact_id": ("customers", "suppliers"),
    "usual_supplier_id": ("suppliers",),
    "invoice_id": ("sales_invoices", "purchase_invoices"),
    "credit_note_id": ("sales_credit_notes", "purchase_credit_notes"),
    "quote_id": ("quotes",),
    "bank_account_id": ("bank_accounts",),
    "from_bank_account_id": ("bank_accounts",),
    "to_bank_account_id": ("bank_accounts",),
    "ledger_account_id": ("ledger_accounts", "nominal_codes"),
    "sales_ledger_account_id": ("ledger_accounts", "nominal_codes"),
    "purchase_ledger_account_id": ("ledger_accounts", "nominal_codes"),
    "tax_rate_id": ("tax_rates",),
    "sales_tax_rate_id": ("tax_rates",),
    "purchase_tax_rate_id": ("tax_rates",),
    "product_id": ("products",),
    "journal_id": ("journals",),
    "id": ("sales_invoices", "purchase_invoices", "sales_credit_notes", "quotes", "customers"),
}


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for one of our input schemas. The catalogue uses a small part of JSON Schema (object,
    string, integer, boolean, array; enum, pattern, date format, length, item and range bounds; anyOf),
    and the catalogue test keeps it so. (hypothesis-jsonschema 0.23 does not run on our hypothesis pin.)"""
    if "anyOf" in schema:
        return st.one_of([from_schema(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}) for k in kind])
    if kind == "object":
        props = schema.get("properties")
        if props is None:  # free-form (the generic tools' body and query)
            values = from_schema(schema["additionalProperties"]) if "additionalProperties" in schema else JSON
            return st.dictionaries(st.text(max_size=20), values, max_size=min(schema.get("maxProperties", 4), 4))
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in required},
            optional={k: from_schema(v) for k, v in props.items() if k not in required},
        )
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {})),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 3), 3),
            unique=bool(schema.get("uniqueItems")),
        )
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if schema.get("format") == "date":
            return st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)).map(dt.date.isoformat)
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if schema.get("pattern") == DECIMAL_PATTERN:  # an amount: sometimes anything the pattern allows
            return st.from_regex(DECIMAL_PATTERN, fullmatch=True) | AMOUNTS
        if "pattern" in schema:
            text = st.from_regex(schema["pattern"], fullmatch=True)
            return text.filter(lambda t: low <= len(t) <= (high or len(t)))
        return st.text(min_size=low, max_size=min(high or 40, 40))
    return JSON


AMOUNTS = st.decimals(min_value="0.01", max_value="5000", places=2).map(str)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


class Fuzzer:
    def __init__(self, portal: BlockingPortal, client: Client) -> None:
        self.portal, self.client = portal, client
        self.ids: dict[str, list[str]] = {}

    def call(self, name: str, args: dict[str, Any]) -> CallToolResult:
        result = self.portal.call(self.client.call_tool, name, args)
        assert isinstance(result, CallToolResult)
        return result

    def items(self, name: str, args: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        paged = "items_per_page" in REGISTRY.tools[name].spec.input_schema["properties"]
        result = self.call(name, {**({"items_per_page": 10} if paged else {}), **(args or {})})
        assert not result.is_error, text_of(result)
        assert result.structured_content is not None
        return list(result.structured_content["items"])

    def collect_ids(self) -> None:
        ids = self.ids
        ids["customers"] = [c["id"] for c in self.items("list_contacts", {"contact_type": "customer"})]
        ids["suppliers"] = [c["id"] for c in self.items("list_contacts", {"contact_type": "supplier"})]
        for key, kind in (
            ("sales_invoices", "sales_invoice"),
            ("purchase_invoices", "purchase_invoice"),
            ("sales_credit_notes", "sales_credit_note"),
            ("purchase_credit_notes", "purchase_credit_note"),
            ("quotes", "sales_quote"),
        ):
            ids[key] = [r["id"] for r in self.items("list_invoices", {"type": kind})]
        for key, tool in (
            ("bank_accounts", "list_bank_accounts"),
            ("products", "list_products"),
            ("journals", "list_journals"),
        ):
            ids[key] = [r["id"] for r in self.items(tool)]
        accounts = self.items("list_ledger_accounts", {"items_per_page": 20})
        ids["ledger_accounts"] = [a["id"] for a in accounts]
        ids["nominal_codes"] = [str(a["nominal_code"]) for a in accounts if a.get("nominal_code")]
        ids["tax_rates"] = [r["id"] for r in self.items("list_tax_rates")]

    def schema_with_real_ids(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The input schema, where an id argument may also be one of the sandbox's real ids."""
        out = copy.deepcopy(schema)

        def walk(node: dict[str, Any]) -> None:
            for name, prop in (node.get("properties") or {}).items():
                if name == "business_id":
                    node["properties"][name] = {"enum": [LEAD_BUSINESS_ID, LEAD_BUSINESS_ID, SECOND_BUSINESS_ID]}
                    continue
                real = [i for source in ID_SOURCES.get(name, ()) for i in self.ids.get(source, [])]
                if real and prop.get("type") == "string" and "enum" not in prop:
                    node["properties"][name] = {"anyOf": [prop, {"enum": real}]}
                    continue
                walk(prop)
                if isinstance(prop.get("items"), dict):
                    walk(prop["items"])

        walk(out)
        return out


@pytest.fixture(scope="module")
def fuzzer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzer]:
    with running_sandbox(SandboxConfig()) as sandbox:
        data_dir: Path = tmp_path_factory.mktemp("fuzz")
        config = sandbox_settings(sandbox, data_dir, toolsets="all", file_roots="")
        with (
            start_blocking_portal() as portal,
            portal.wrap_async_context_manager(Client(create_server(config), mode="auto")) as client,
        ):
            fuzz = Fuzzer(portal, client)
            fuzz.collect_ids()
            yield fuzz


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def answered(result: CallToolResult, tool: str, args: dict[str, Any]) -> str:
    text = text_of(result)
    assert "internal error" not in text, f"{tool}({str(args)[:500]}) -> {text}"
    return text


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value where another value can be put."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:3]):
            yield (*prefix, index)
            yield from paths(inner, (*prefix, index))


def put(args: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(args)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize("name", TOOLS)
def test_schema_valid_arguments_never_cause_an_internal_error(fuzzer: Fuzzer, name: str) -> None:
    tool: RegisteredTool = REGISTRY.tools[name]

    @settings(FUZZ, max_examples=VALID_EXAMPLES)
    @given(args=from_schema(fuzzer.schema_with_real_ids(tool.spec.input_schema)))
    def check(args: dict[str, Any]) -> None:
        result = fuzzer.call(name, args)
        answered(result, name, args)

    check()


@pytest.mark.parametrize("name", TOOLS)
def test_poisoned_arguments_are_refused_naming_the_field(fuzzer: Fuzzer, name: str) -> None:
    tool: RegisteredTool = REGISTRY.tools[name]
    valid = from_schema(fuzzer.schema_with_real_ids(tool.spec.input_schema))

    @settings(FUZZ, max_examples=INVALID_EXAMPLES)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        args = data.draw(valid, label="valid")
        where = data.draw(
            st.sampled_from([*paths(args), ("zz_unknown",), *[(p,) for p in tool.spec.input_schema["properties"]]]),
            label="where",
        )
        bad = put(args, where, data.draw(st.sampled_from(POISON), label="poison"))
        result = fuzzer.call(name, bad)
        text = answered(result, name, bad)
        if list(tool.validator.iter_errors(bad)):
            assert result.is_error, f"{name} accepted {str(bad)[:300]}"
            field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
            assert field in text, f"{name}: refusal does not name {field}: {text}"
            assert len(text) < 2_500, f"{name}: {len(text)} characters for one poisoned value"

    check()
