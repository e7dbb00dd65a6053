"""MCP prompts: listed with their arguments, rendered with them through the MCP client in both protocol
eras, arguments checked, and no prompt ever names a tool the running server does not offer."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS, PromptReference, ResourceTemplateReference, TextContent

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.prompts import Prompts, load_prompts, tool_references
from sage_mcp.registry import Registry, load_catalogue
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, SandboxServer
from sage_mcp.server import create_server
from tests.helpers import server_env
from tests.test_transports import INSPECTOR, REPO

pytestmark = pytest.mark.anyio

NAMES = ["month_end_close", "vat_quarter", "chase_overdue_customers", "connect_business"]
CATALOGUE = {spec.name for spec in load_catalogue()[1]}


def tools_named(text: str) -> set[str]:
    """Every tool of the whole catalogue that ``text`` names (as a word)."""
    return {name for name in CATALOGUE if re.search(rf"\b{name}\b", text)}


async def rendered(client: Client, name: str, arguments: dict[str, str] | None = None) -> str:
    result = await client.get_prompt(name, arguments or {})
    (message,) = result.messages
    assert message.role == "user" and isinstance(message.content, TextContent)
    assert result.description
    return message.content.text


async def test_prompts_are_listed_with_described_arguments(client: Client) -> None:
    prompts = (await client.list_prompts()).prompts
    assert [p.name for p in prompts] == NAMES
    by_name = {p.name: p for p in prompts}
    for prompt in prompts:
        assert prompt.title and prompt.description
        assert all(a.description and not a.required for a in prompt.arguments or [])
    assert [a.name for a in by_name["month_end_close"].arguments or []] == ["business_id", "month"]
    assert [a.name for a in by_name["vat_quarter"].arguments or []] == ["business_id", "period_end"]
    assert [a.name for a in by_name["chase_overdue_customers"].arguments or []] == [
        "business_id",
        "days_overdue",
        "tone",
    ]


async def test_month_end_close_for_a_named_business_and_month(client: Client) -> None:
    text = await rendered(client, "month_end_close", {"business_id": SECOND_BUSINESS_ID, "month": "2026-02"})
    assert "February 2026 (2026-02-01 to 2026-02-28)" in text
    assert f"Fern Studio (business_id {SECOND_BUSINESS_ID}" in text, "the business by name and id"
    steps = re.findall(r"^(\d+)\. ([^:]+):", text, flags=re.M)
    assert [int(n) for n, _ in steps] == list(range(1, len(steps) + 1)) and len(steps) >= 8
    assert {"`get_trial_balance`", "`list_bank_transactions`", "`create_journal`"} <= set(re.findall(r"`\w+`", text))
    assert "On this server" not in text, "every toolset is on: every full step is there"


async def test_default_month_is_last_month(client: Client) -> None:
    text = await rendered(client, "month_end_close")
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    assert f"{last.replace(day=1).isoformat()} to {last.isoformat()}" in text
    assert "the default business" in text


async def test_vat_chasing_and_connection_prompts_use_their_arguments(client: Client) -> None:
    vat = await rendered(client, "vat_quarter", {"period_end": "2026-09-30"})
    assert "VAT period ending 2026-09-30" in vat and "`prepare_vat_return` with to_date 2026-09-30" in vat
    assert 'period "last_vat_period"' in await rendered(client, "vat_quarter")
    chase = await rendered(client, "chase_overdue_customers", {"days_overdue": "60", "tone": "Firm"})
    assert "more than 60 days overdue" in chase and "Draft one firm email" in chase
    assert "`allocate_credit_note`" in chase and "`record_payment`" in chase
    connect = await rendered(client, "connect_business", {"business_name": "  Fern\nStudio "})
    assert "Find 'Fern Studio' among them" in connect and "sage-mcp auth login" in connect


async def refused(client: Client, name: str, arguments: dict[str, str]) -> str:
    with pytest.raises(MCPError) as caught:
        await client.get_prompt(name, arguments)
    assert caught.value.code == INVALID_PARAMS, caught.value
    return caught.value.message


async def test_bad_arguments_are_refused_naming_the_argument(client: Client) -> None:
    assert "month" in await refused(client, "month_end_close", {"month": "Feb"})
    assert "YYYY-MM" in await refused(client, "month_end_close", {"month": "2026-13"})
    assert "period_end" in await refused(client, "vat_quarter", {"period_end": "2026-02-30"})
    assert "1 to 365" in await refused(client, "chase_overdue_customers", {"days_overdue": "0"})
    assert "friendly, firm, final" in await refused(client, "chase_overdue_customers", {"tone": "rude"})
    assert "its arguments: business_id, month" in await refused(client, "month_end_close", {"quarter": "Q3"})
    assert "at most 200" in await refused(client, "connect_business", {"business_name": "x" * 201})
    stranger = await refused(client, "vat_quarter", {"business_id": "f" * 32})
    assert "f" * 32 in stranger and LEAD_BUSINESS_ID in stranger and "Fern Studio" in stranger
    assert "Prompts: month_end_close" in await refused(client, "year_end", {})
    assert await rendered(client, "vat_quarter"), "still serving"


# -- no prompt names a tool the server does not offer -----------------------------------------------------

CONFIGURATIONS = [
    ("default", False),
    ("default", True),
    ("all", False),
    ("all", True),
    ("reports", False),
    ("business,tax", False),
    ("api", False),
    ("sales,payments,ledger", True),
]


@pytest.mark.parametrize(("toolsets", "read_only"), CONFIGURATIONS)
async def test_every_tool_a_prompt_names_is_offered(toolsets: str, read_only: bool) -> None:
    registry = Registry.build(toolsets, read_only=read_only)
    prompts = Prompts(registry, Settings())
    offered = set(registry.tools)
    for name in NAMES:
        for arguments in ({}, {"month": "2026-01", "period_end": "2026-03-31", "business_name": "Fern"}):
            given = {k: v for k, v in arguments.items() if k in {a.name for a in prompts.prompts[name].arguments}}
            text = (await prompts.get(None, name, given)).messages[0].content.text  # type: ignore[arg-type, union-attr]
            assert tools_named(text) <= offered, (toolsets, read_only, name, tools_named(text) - offered)
            assert "{" not in text, "no placeholder left unfilled"
            prompt = load_prompts()[name]
            shortened = any(not all(set(refs) & offered for refs in tool_references(s.text)) for s in prompt.steps)
            assert ("On this server" in text) == shortened, "a prompt says which steps it shortened or left out"
            assert ("The server is read-only" in text) <= read_only


def all_references(name: str) -> list[tuple[str, ...]]:
    prompt = load_prompts()[name]
    texts = [prompt.intro] + [s.text for s in prompt.steps] + [s.fallback or "" for s in prompt.steps]
    return [refs for text in texts for refs in tool_references(text)]


def test_prompt_texts_name_only_tools_of_the_catalogue() -> None:
    for name in NAMES:
        references = all_references(name)
        assert references, name
        for refs in references:
            assert set(refs) & CATALOGUE, f"{name}: {'|'.join(refs)} is not a tool of the catalogue"


async def test_a_read_only_default_server_renders_for_its_own_tools(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(sandbox, tmp_path, toolsets="default", read_only=True)
    for mode in ("auto", "legacy"):
        async with Client(create_server(settings), mode=mode) as client:
            offered = {t.name for t in (await client.list_tools()).tools}
            text = await rendered(client, "month_end_close")
            assert tools_named(text) <= offered and "`get_trial_balance`" in text
            assert "(it needs write access)" in text and "The server is read-only" in text
            assert "`create_journal`" not in text and "for me to post in Sage" in text, "the fallback, not the write"


def test_inspector_cli_renders_a_prompt(settings: Settings) -> None:
    env_args: list[str] = []
    for key, value in server_env(settings).items():
        if key.startswith("SAGE_"):
            env_args += ["-e", f"{key}={value}"]
    sage_mcp = str(Path(sys.executable).parent / "sage-mcp")
    cmd = [str(INSPECTOR), "--cli", *env_args, sage_mcp, "serve", "--format", "json", "-q"]
    cmd += ["--method", "prompts/get", "--prompt-name", "chase_overdue_customers", "--prompt-args", "days_overdue=45"]
    got = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert got.returncode == 0, got.stderr
    text = json.loads(got.stdout)["result"]["messages"][0]["content"]["text"]
    assert "more than 45 days overdue" in text and "`get_aged_debtors`" in text


async def test_arguments_and_template_business_ids_complete(client: Client) -> None:
    fern = await client.complete(PromptReference(name="vat_quarter"), {"name": "business_id", "value": "fern"})
    assert fern.completion.values == [SECOND_BUSINESS_ID], "a business by part of its name"
    by_id = await client.complete(
        ResourceTemplateReference(uri="sage://businesses/{business_id}/tax-rates"),
        {"name": "business_id", "value": LEAD_BUSINESS_ID[:6]},
    )
    assert by_id.completion.values == [LEAD_BUSINESS_ID]
    names = await client.complete(PromptReference(name="connect_business"), {"name": "business_name", "value": ""})
    assert {"Hartley & Finch Ltd", "Fern Studio"} <= set(names.completion.values)
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    months = await client.complete(PromptReference(name="month_end_close"), {"name": "month", "value": ""})
    assert months.completion.values[0] == last.strftime("%Y-%m") and len(months.completion.values) == 24
    tone = await client.complete(PromptReference(name="chase_overdue_customers"), {"name": "tone", "value": "f"})
    assert tone.completion.values == ["friendly", "firm", "final"]
    nothing = await client.complete(PromptReference(name="vat_quarter"), {"name": "colour", "value": "r"})
    assert nothing.completion.values == []
