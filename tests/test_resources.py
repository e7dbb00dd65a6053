"""MCP resources: every business's profile, chart of accounts, tax rates and bank accounts, listed and read
through the MCP client in both protocol eras, and checked against what the sandbox itself answers."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS

from sage_mcp import resources
from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sage import pagination
from sage_mcp.sage.client import SageClient
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server
from tests.helpers import server_env
from tests.test_transports import INSPECTOR, REPO
from tests.test_transports import http_server as served_over_http

pytestmark = pytest.mark.anyio

KINDS = ("profile", "chart-of-accounts", "tax-rates", "bank-accounts")


def raw_get(sandbox: SandboxServer, path: str, business: str | None = None, **params: Any) -> Any:
    """What the sandbox answers to a plain GET, asked directly (not through sage-mcp)."""
    headers = {"Authorization": f"Bearer {sandbox.mint_tokens()['access_token']}"}
    if business:
        headers["X-Business"] = business
    answer = httpx2.get(sandbox.api_url + path, headers=headers, params=params, timeout=30)
    answer.raise_for_status()
    return answer.json()


async def read(client: Client, uri: str) -> dict[str, Any]:
    result = await client.read_resource(uri)
    (content,) = result.contents
    assert content.uri == uri and content.mime_type == "application/json"
    data = json.loads(content.text)  # type: ignore[union-attr]
    assert isinstance(data, dict)
    return data


async def test_resources_prompts_and_completions_are_advertised(client: Client) -> None:
    capabilities = client.server_capabilities
    assert capabilities.resources is not None and capabilities.prompts is not None
    assert capabilities.completions is not None and capabilities.tools is not None


async def test_resources_are_listed_for_every_business_of_the_login(client: Client, sandbox: SandboxServer) -> None:
    listed = (await client.list_resources()).resources
    businesses = raw_get(sandbox, "/businesses")["$items"]
    assert {LEAD_BUSINESS_ID, SECOND_BUSINESS_ID} <= {b["id"] for b in businesses}
    expected = {f"sage://businesses/{b['id']}/{kind}" for b in businesses for kind in KINDS}
    assert [str(r.uri) for r in listed if str(r.uri) in expected] == [str(r.uri) for r in listed]
    assert {str(r.uri) for r in listed} == expected, "each business's four resources, whatever business is pinned"
    names = {b["id"]: b.get("name") or b["displayed_as"] for b in businesses}
    for r in listed:
        business_id = str(r.uri).split("/")[3]
        assert r.name.startswith(names[business_id]), "a resource says which business it belongs to"
        assert r.mime_type == "application/json" and r.description


async def test_templates_give_the_same_uris(client: Client) -> None:
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == [f"sage://businesses/{{business_id}}/{kind}" for kind in KINDS]
    assert all(t.mime_type == "application/json" and t.description for t in templates)


async def test_tax_rates_match_the_business_in_sage(client: Client, sandbox: SandboxServer) -> None:
    data = await read(client, f"sage://businesses/{SECOND_BUSINESS_ID}/tax-rates")
    assert data["business"] == {"id": SECOND_BUSINESS_ID, "name": "Fern Studio"}
    assert data["resource"] == "tax-rates" and data["read_at"]
    truth = raw_get(sandbox, "/tax_rates", SECOND_BUSINESS_ID, attributes="percentage,name", items_per_page=200)
    assert data["total"] == truth["$total"] == len(data["items"])
    expected = {r["id"]: Decimal(str(r["percentage"])) for r in truth["$items"]}
    assert {r["id"]: Decimal(r["percentage"]) for r in data["items"]} == expected
    standard = next(r for r in data["items"] if r["id"] == "GB_STANDARD")
    assert standard == {"id": "GB_STANDARD", "name": "Standard", "percentage": "20"}, "percentages as decimal strings"


async def test_bank_account_balances_are_current(client: Client, sandbox: SandboxServer) -> None:
    uri = f"sage://businesses/{LEAD_BUSINESS_ID}/bank-accounts"
    before = await read(client, uri)
    truth = raw_get(sandbox, "/bank_accounts", LEAD_BUSINESS_ID, attributes="balance", items_per_page=200)
    assert {a["id"]: Decimal(a["balance"]) for a in before["items"]} == {
        a["id"]: Decimal(str(a["balance"])) for a in truth["$items"]
    }
    by_type = {a["type"]: a for a in before["items"]}
    current, savings = by_type["CHECKING"], by_type["SAVINGS"]
    moved = await client.call_tool(
        "create_bank_transfer",
        {"from_bank_account_id": current["id"], "to_bank_account_id": savings["id"], "amount": "12.34"},
    )
    assert not moved.is_error, moved.content
    after = {a["id"]: Decimal(a["balance"]) for a in (await read(client, uri))["items"]}
    assert after[current["id"]] == Decimal(current["balance"]) - Decimal("12.34")
    assert after[savings["id"]] == Decimal(savings["balance"]) + Decimal("12.34"), "a read is never stale"


async def test_profile_has_the_business_and_its_financial_settings(client: Client, sandbox: SandboxServer) -> None:
    data = await read(client, f"sage://businesses/{SECOND_BUSINESS_ID}/profile")
    settings = raw_get(sandbox, "/financial_settings", SECOND_BUSINESS_ID)
    assert data["profile"]["name"] == "Fern Studio" and data["profile"]["id"] == SECOND_BUSINESS_ID
    assert data["financial_settings"]["year_end_date"] == settings["year_end_date"]
    assert data["financial_settings"]["base_currency"] == settings["base_currency"]["id"]
    assert data["financial_settings"]["tax_number"] == settings["tax_number"]


async def test_chart_of_accounts_is_read_across_pages(
    client: Client, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = raw_get(sandbox, "/ledger_accounts", LEAD_BUSINESS_ID, items_per_page=200, attributes="nominal_code")
    assert truth["$total"] > 20
    monkeypatch.setattr(pagination, "MAX_ITEMS_PER_PAGE", 10)  # a big chart, in miniature
    before = sandbox.counters[("GET", "/v3.1/ledger_accounts")]
    data = await read(client, f"sage://businesses/{LEAD_BUSINESS_ID}/chart-of-accounts")
    assert sandbox.counters[("GET", "/v3.1/ledger_accounts")] - before == -(-truth["$total"] // 10)
    assert data["total"] == truth["$total"] and "truncated" not in data
    assert sorted(a["id"] for a in data["items"]) == sorted(a["id"] for a in truth["$items"]), "each account once"
    sales = next(a for a in data["items"] if a["nominal_code"] == 4000)
    assert sales["type"] == "SALES" and sales["name"]

    monkeypatch.setattr(resources, "ALL_PAGES_CAP", 15)
    capped = await read(client, f"sage://businesses/{LEAD_BUSINESS_ID}/chart-of-accounts")
    assert len(capped["items"]) == 15 and capped["total"] == truth["$total"]
    assert f"first 15 of {truth['$total']}" in capped["truncated"], "a capped chart says so"


async def refused(client: Client, uri: str) -> str:
    with pytest.raises(MCPError) as caught:
        await client.read_resource(uri)
    assert caught.value.code == INVALID_PARAMS, caught.value
    return caught.value.message


async def test_unknown_businesses_kinds_and_uris_are_refused(client: Client) -> None:
    message = await refused(client, "sage://businesses/" + "f" * 32 + "/tax-rates")
    assert "f" * 32 in message and LEAD_BUSINESS_ID in message and "Fern Studio" in message, "names the businesses"
    message = await refused(client, f"sage://businesses/{LEAD_BUSINESS_ID}/invoices")
    assert "'invoices'" in message and "chart-of-accounts" in message
    for uri in ("file:///etc/passwd", "sage://businesses/../profile", "sage://businesses/x/profile/../../y", ""):
        assert "sage://businesses/{business_id}/" in await refused(client, uri)
    assert (await read(client, f"sage://businesses/{LEAD_BUSINESS_ID}/tax-rates"))["total"] > 0, "still serving"


def writes_to_sage(sandbox: SandboxServer) -> int:
    return sum(n for (method, path), n in sandbox.counters.items() if method != "GET" and path.startswith("/v3.1"))


async def test_read_only_login_serves_the_same_resources(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(sandbox, tmp_path, scope="readonly")
    before = writes_to_sage(sandbox)
    async with Client(create_server(settings)) as client:
        assert not [t for t in (await client.list_tools()).tools if not t.annotations.read_only_hint]
        assert len((await client.list_resources()).resources) >= 8
        for kind in KINDS:
            assert (await read(client, f"sage://businesses/{SECOND_BUSINESS_ID}/{kind}"))["resource"] == kind
    assert writes_to_sage(sandbox) == before, "reading resources changes nothing in Sage"


async def test_not_signed_in_says_how_to_sign_in(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = Settings(
        client_id="x", api_base_url=sandbox.api_url, token_url=sandbox.token_url, data_dir=tmp_path, business_id=None
    )
    async with Client(create_server(settings), mode="legacy") as client:
        with pytest.raises(MCPError) as caught:
            await client.list_resources()
        assert "sage-mcp auth login" in caught.value.message
        assert (await client.list_resource_templates()).resource_templates, "templates need no sign-in"


async def test_a_slow_or_failing_sage_gives_a_clear_error_and_the_server_keeps_serving(tmp_path: Path) -> None:
    with running_sandbox(SandboxConfig()) as own:
        settings = sandbox_settings(own, tmp_path, call_timeout=1.0, max_retries=1)
        async with Client(create_server(settings), mode="legacy") as client:
            uri = f"sage://businesses/{LEAD_BUSINESS_ID}/tax-rates"
            assert (await read(client, uri))["total"] > 0
            own.faults.configure(latency=2.0)  # twice the deadline
            with pytest.raises(MCPError) as slow:
                await client.read_resource(uri)
            assert slow.value.code == INTERNAL_ERROR and "did not answer within 1 s" in slow.value.message
            own.faults.configure(latency=0.0)
            with anyio.fail_after(30):
                while own.faults.in_flight:
                    await anyio.sleep(0.01)
            own.faults.script("503", "GET", "/bank_accounts", count=5)
            with pytest.raises(MCPError) as failing:
                await client.read_resource(f"sage://businesses/{LEAD_BUSINESS_ID}/bank-accounts")
            message = failing.value.message
            assert message.startswith(f"Cannot read sage://businesses/{LEAD_BUSINESS_ID}/bank-accounts: ")
            assert "HTTP 503 on GET /bank_accounts" in message
            own.faults.clear()
            assert (await read(client, uri))["total"] > 0, "still serving"


def test_inspector_cli_lists_resources(settings: Settings) -> None:
    env_args: list[str] = []
    for key, value in server_env(settings).items():
        if key.startswith("SAGE_"):
            env_args += ["-e", f"{key}={value}"]
    sage_mcp = str(Path(sys.executable).parent / "sage-mcp")
    cmd = [
        str(INSPECTOR),
        "--cli",
        *env_args,
        sage_mcp,
        "serve",
        "--format",
        "json",
        "-q",
        "--method",
        "resources/list",
    ]
    listed = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    uris = {r["uri"] for r in json.loads(listed.stdout)["result"]["resources"]}
    assert f"sage://businesses/{SECOND_BUSINESS_ID}/bank-accounts" in uris
    assert f"sage://businesses/{LEAD_BUSINESS_ID}/chart-of-accounts" in uris


http_server = served_over_http  # the transports tests' fixture: this server under uvicorn, guarded


async def test_over_streamable_http_in_both_eras(http_server: tuple[str, str]) -> None:
    url, token = http_server
    for mode in ("auto", "legacy"):
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http), mode=mode) as client,
        ):
            uri = f"sage://businesses/{SECOND_BUSINESS_ID}/bank-accounts"
            assert uri in {str(r.uri) for r in (await client.list_resources()).resources}
            assert (await read(client, uri))["business"]["name"] == "Fern Studio"
            assert "f" * 32 in await refused(client, "sage://businesses/" + "f" * 32 + "/profile")
            prompt = await client.get_prompt("vat_quarter", {"business_id": SECOND_BUSINESS_ID})
            assert "Fern Studio" in prompt.messages[0].content.text  # type: ignore[union-attr]


async def test_hosted_mode_reads_with_the_requests_own_sage_client(settings: Settings) -> None:
    """With a per-request client (hosted mode: the signed-in user's), resources, prompts and completions
    use that client, as tool calls do; there is no process-wide one."""
    asked: list[str] = []
    async with SageClient(settings) as users_client:

        async def call_scope(ctx: Any) -> tuple[SageClient, None]:
            asked.append("scope")
            return users_client, None

        async with Client(create_server(settings, call_scope=call_scope), mode="legacy") as client:
            assert (await read(client, f"sage://businesses/{SECOND_BUSINESS_ID}/tax-rates"))["total"] > 0
            prompt = await client.get_prompt("vat_quarter", {"business_id": SECOND_BUSINESS_ID})
            assert "Fern Studio" in prompt.messages[0].content.text  # type: ignore[union-attr]
    assert len(asked) == 2
