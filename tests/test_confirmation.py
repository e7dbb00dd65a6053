"""Irreversible writes are confirmed by the user: through a real MCP client in both protocol eras against
the sandbox. A client that can ask its user is asked (``elicitation/create`` on a handshake-era
connection, an input-required result on a 2026-07-28 one); accepted → done, declined or dismissed →
nothing sent. A client that cannot ask gets a preview and a confirmation token bound to the call."""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.context import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult

from sage_mcp.cli import _settings, build_parser
from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.http import plan_http
from sage_mcp.registry import Registry
from sage_mcp.safety import confirm
from sage_mcp.sandbox import SandboxServer
from sage_mcp.server import create_server, http_app
from tests.helpers import server_env
from tests.test_tools import a_customer, err, ok, text_of
from tests.test_transports import _free_port
from tests.tools.test_attachments import PDF

pytestmark = pytest.mark.anyio
MODES = pytest.mark.parametrize("mode", ["auto", "legacy"])
Answer = Callable[[ClientRequestContext, ElicitRequestParams], Awaitable[ElicitResult]]

#: A destructive tool of the catalogue (chosen by its annotation, not its name, where the test allows).
VOID = "void_sales_invoice"


def confirming(settings: Settings, **more: Any) -> Settings:
    return settings.model_copy(update={"no_confirm": False, **more})


def answering(action: str, confirmed: bool | None = True) -> tuple[Answer, list[str]]:
    asked: list[str] = []

    async def answer(_ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        content = {"confirm": confirmed} if action == "accept" and confirmed is not None else None
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    return answer, asked


async def an_invoice(client: Client, price: str = "123.45") -> dict[str, Any]:
    customer = await a_customer(client)
    return await ok(
        client,
        "create_sales_invoice",
        {
            "contact_id": customer["id"],
            "reference": f"CONF-{secrets.token_hex(4).upper()}",
            "lines": [{"description": "Survey", "unit_price": price, "tax_rate_id": "GB_ZERO"}],
        },
    )


async def status(client: Client, invoice_id: str) -> str:
    return str((await ok(client, "get_sales_invoice", {"invoice_id": invoice_id}))["status"])


def deletes(sandbox: SandboxServer, invoice_id: str) -> int:
    return sandbox.counters[("DELETE", f"/v3.1/sales_invoices/{invoice_id}")]


def test_the_void_tool_is_destructive_and_takes_a_confirmation_token() -> None:
    tool = Registry.build("all").get(VOID)
    assert tool is not None and tool.spec.annotations["destructiveHint"] is True
    assert tool.spec.input_schema["properties"]["confirmation_token"] == {"type": "string", "maxLength": 200}
    every = Registry.build("all").list_tools()
    assert all(
        ("confirmation_token" in t.input_schema["properties"]) == bool(t.annotations and t.annotations.destructive_hint)
        for t in every
        if t.annotations and not t.annotations.read_only_hint
    ), "only destructive tools take a token unless an amount threshold is set"
    assert all(
        "confirmation_token" not in t.input_schema["properties"]
        for t in Registry.build("all", read_only=True).list_tools()
    )


@MODES
async def test_accepted_the_void_happens(settings: Settings, sandbox: SandboxServer, mode: str) -> None:
    answer, asked = answering("accept")
    async with Client(create_server(confirming(settings)), mode=mode, elicitation_callback=answer) as client:
        invoice = await an_invoice(client)
        voided = await ok(client, VOID, {"invoice_id": invoice["id"], "reason": "Raised in error"})
        assert voided["status"] == "VOID" and await status(client, invoice["id"]) == "VOID"
    assert len(asked) == 1, "the user was asked once"
    question = asked[0]
    assert invoice["number"] in question and invoice["contact_name"] in question and "123.45" in question
    assert "DELETE /sales_invoices/" in question and "cannot be undone" in question


@MODES
async def test_the_time_the_user_takes_does_not_count_against_the_call(settings: Settings, mode: str) -> None:
    asked: list[str] = []

    async def slow(_ctx: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        await anyio.sleep(1.5)  # longer than the call may take
        return ElicitResult(action="accept", content={"confirm": True})

    patient = confirming(settings, call_timeout=1.0)
    async with Client(create_server(patient), mode=mode, elicitation_callback=slow) as client:
        invoice = await an_invoice(client)
        assert (await ok(client, VOID, {"invoice_id": invoice["id"], "reason": "Thought about it"}))["status"] == "VOID"
    assert len(asked) == 1


@MODES
@pytest.mark.parametrize(
    ("action", "confirmed", "said"),
    [("decline", None, "declined"), ("cancel", None, "dismissed"), ("accept", False, "did not tick")],
)
async def test_declined_nothing_is_sent(
    settings: Settings, sandbox: SandboxServer, mode: str, action: str, confirmed: bool | None, said: str
) -> None:
    answer, asked = answering(action, confirmed)
    async with Client(create_server(confirming(settings)), mode=mode, elicitation_callback=answer) as client:
        invoice = await an_invoice(client)
        refused = await err(client, VOID, {"invoice_id": invoice["id"], "reason": "Raised in error"})
        assert said in refused and "nothing changed" in refused
        assert await status(client, invoice["id"]) == "UNPAID", "the invoice is still there"
    assert len(asked) == 1 and deletes(sandbox, invoice["id"]) == 0


@MODES
async def test_without_elicitation_a_preview_and_a_token_bound_to_the_call(
    settings: Settings, sandbox: SandboxServer, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Client(create_server(confirming(settings)), mode=mode) as client:
        invoice = await an_invoice(client)
        other = await an_invoice(client, "9.99")
        args = {"invoice_id": invoice["id"], "reason": "Raised in error"}
        first = await client.call_tool(VOID, args)
        assert first.is_error and isinstance(first.structured_content, dict)
        preview = first.structured_content["preview"]
        assert preview["tool"] == VOID and preview["business"]["id"] == settings_business(first)
        record = preview["record"]
        assert (record["number"], record["contact"], record["total"], record["status"]) == (
            invoice["number"],
            invoice["contact_name"],
            "123.45",
            "UNPAID",
        )
        token = first.structured_content["confirmation_token"]
        assert token in text_of(first) and "Nothing was sent" in text_of(first)
        assert await status(client, invoice["id"]) == "UNPAID" and deletes(sandbox, invoice["id"]) == 0

        elsewhere = await err(client, VOID, {**args, "invoice_id": other["id"], "confirmation_token": token})
        assert "issued for other arguments" in elsewhere
        reworded = await err(client, VOID, {**args, "reason": "Duplicate", "confirmation_token": token})
        assert "issued for other arguments" in reworded
        assert await status(client, other["id"]) == "UNPAID" and deletes(sandbox, other["id"]) == 0

        done = await ok(client, VOID, {**args, "confirmation_token": token})
        assert done["status"] == "VOID" and deletes(sandbox, invoice["id"]) == 1
        reused = await err(client, VOID, {**args, "confirmation_token": token})
        assert "already used" in reused and deletes(sandbox, invoice["id"]) == 1

        late = (await client.call_tool(VOID, {"invoice_id": other["id"], "reason": "Late"})).structured_content
        assert isinstance(late, dict)
        now = confirm.clock()
        monkeypatch.setattr(confirm, "clock", lambda: now + confirm.TOKEN_SECONDS + 1)
        expired = await err(
            client,
            VOID,
            {"invoice_id": other["id"], "reason": "Late", "confirmation_token": late["confirmation_token"]},
        )
        assert "expired" in expired and await status(client, other["id"]) == "UNPAID"


def settings_business(result: CallToolResult) -> str:
    data = result.structured_content
    assert isinstance(data, dict)
    return str(data["preview"]["business"]["id"])


@MODES
async def test_writes_above_the_configured_amount_are_confirmed(settings: Settings, mode: str) -> None:
    async with Client(create_server(confirming(settings, confirm_above=Decimal("1000"))), mode=mode) as client:
        schema = next(t for t in (await client.list_tools()).tools if t.name == "create_sales_invoice").input_schema
        assert "confirmation_token" in schema["properties"]
        small = await an_invoice(client, "999.99")
        assert small["total"] == "999.99", "at or under the amount: no question"
        customer = await a_customer(client)
        reference = f"BIG-{secrets.token_hex(4).upper()}"
        args = {
            "contact_id": customer["id"],
            "reference": reference,
            "lines": [{"description": "Fit-out", "quantity": "3", "unit_price": "400.00", "tax_rate_id": "GB_ZERO"}],
        }
        first = await client.call_tool("create_sales_invoice", args)
        assert first.is_error and isinstance(first.structured_content, dict)
        assert first.structured_content["preview"]["amount"] == "1200.00"
        assert any("(4000)" in a for a in first.structured_content["preview"]["accounts"]), "the accounts, by name"
        assert "Accounts: " in text_of(first)
        assert "more than 1000.00" in text_of(first) and "POST /sales_invoices" in text_of(first)
        assert (await ok(client, "list_sales_invoices", {"search": reference}))["total"] == 0
        made = await ok(
            client,
            "create_sales_invoice",
            {**args, "confirmation_token": first.structured_content["confirmation_token"]},
        )
        assert made["total"] == "1200.00"


@MODES
async def test_no_confirm_voids_without_asking(settings: Settings, mode: str) -> None:
    answer, asked = answering("decline")
    unattended = settings.model_copy(update={"no_confirm": True})
    async with Client(create_server(unattended), mode=mode, elicitation_callback=answer) as client:
        invoice = await an_invoice(client)
        assert (await ok(client, VOID, {"invoice_id": invoice["id"], "reason": "Batch clean-up"}))["status"] == "VOID"
    assert asked == []


def test_no_confirm_flag_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAGE_MCP_NO_CONFIRM", raising=False)
    parser = build_parser()
    assert _settings(parser.parse_args(["serve", "--no-confirm"])).no_confirm is True
    assert _settings(parser.parse_args(["serve"])).no_confirm is False
    assert "--no-confirm" in parser._subparsers._group_actions[0].choices["demo"].format_help()  # type: ignore[union-attr]
    monkeypatch.setenv("SAGE_MCP_NO_CONFIRM", "1")
    assert Settings().no_confirm is True
    monkeypatch.setenv("SAGE_MCP_CONFIRM_ABOVE", "250.00")
    assert Settings().confirm_above == Decimal("250.00")


def test_money_a_write_moves() -> None:
    amount = confirm.write_amount
    assert amount(
        {"lines": [{"unit_price": "10.00", "quantity": "3", "discount_amount": "5.00"}, {"unit_price": "1"}]}
    ) == Decimal("26.00")
    assert amount({"total_amount": "100.00", "allocations": [{"amount": "60.00"}, {"amount": "40.00"}]}) == Decimal(
        "100.00"
    )
    assert amount({"lines": [{"debit": "50.00", "credit": "0"}, {"debit": "0", "credit": "50.00"}]}) == Decimal("50.00")
    assert amount({"cash_amount": "20.00", "cheque_amount": "30.00"}) == Decimal("50.00")
    assert amount({"invoice_id": "x", "reason": "y"}) == Decimal(0)


# -- over real transports: stdio (a child process) and streamable HTTP ------------------------------------------


@pytest.fixture
def confirming_http(settings: Settings) -> Iterator[tuple[str, str]]:
    """The confirming server under uvicorn on a free loopback port, guarded as `serve --transport http` is."""
    port = _free_port()
    security = plan_http(settings, "127.0.0.1")
    assert security.token is not None
    app = http_app(create_server(confirming(settings)), security)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "HTTP server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/mcp", security.token.value
    server.should_exit = True
    thread.join(timeout=10)


@MODES
async def test_asked_over_streamable_http(confirming_http: tuple[str, str], sandbox: SandboxServer, mode: str) -> None:
    url, token = confirming_http
    answer, asked = answering("accept")
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, elicitation_callback=answer) as client,
    ):
        invoice = await an_invoice(client)
        assert (await ok(client, VOID, {"invoice_id": invoice["id"], "reason": "Wrong customer"}))["status"] == "VOID"
    assert len(asked) == 1 and invoice["number"] in asked[0]


async def test_asked_over_stdio_in_both_eras(settings: Settings, sandbox: SandboxServer) -> None:
    env = server_env(confirming(settings))
    assert "SAGE_MCP_NO_CONFIRM" not in env
    params = StdioServerParameters(command=sys.executable, args=["-m", "sage_mcp", "serve"], env=env)
    for mode, action in (("legacy", "decline"), ("auto", "accept")):
        answer, asked = answering(action)
        async with Client(params, mode=mode, elicitation_callback=answer) as client:
            invoice = await an_invoice(client)
            result = await client.call_tool(VOID, {"invoice_id": invoice["id"], "reason": "Stdio"})
            assert result.is_error is (action == "decline"), text_of(result)
            assert await status(client, invoice["id"]) == ("UNPAID" if action == "decline" else "VOID")
        assert len(asked) == 1


def test_cli_call_previews_when_nobody_can_be_asked_and_no_confirm_does_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sage_mcp.cli import main

    for key, value in server_env(confirming(settings)).items():
        if key.startswith("SAGE_"):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("SAGE_MCP_NO_CONFIRM", raising=False)
    assert main(["call", "--json", "list_sales_invoices", '{"status": "UNPAID", "items_per_page": 1}']) == 0
    invoice = json.loads(capsys.readouterr().out)["items"][0]
    args = json.dumps({"invoice_id": invoice["id"], "reason": "Scripted"})

    assert main(["call", "void_sales_invoice", args]) == 1, "piped, nobody can be asked: a preview"
    out, err_text = capsys.readouterr()
    assert "needs the user's confirmation" in out and invoice["number"] in out and "--no-confirm" in err_text
    assert main(["call", "--json", "get_sales_invoice", json.dumps({"invoice_id": invoice["id"]})]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "UNPAID"

    assert main(["call", "--no-confirm", "--json", "void_sales_invoice", args]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "VOID"


@MODES
async def test_a_download_asks_only_when_it_would_replace_a_file(
    sandbox: SandboxServer, tmp_path: Path, mode: str
) -> None:
    settings = sandbox_settings(sandbox, tmp_path / "data", toolsets="all", file_roots=str(tmp_path), no_confirm=False)
    answer, asked = answering("decline")
    async with Client(create_server(settings), mode=mode, elicitation_callback=answer) as client:
        expense = await ok(
            client, "record_other_payment", {"lines": [{"ledger_account_id": "7502", "total_amount": "18.00"}]}
        )
        receipt = tmp_path / "receipt.pdf"
        receipt.write_bytes(PDF)
        attach_to = {"type": "other_payment", "id": expense["id"]}
        uploaded = await ok(client, "upload_attachment", {"attach_to": attach_to, "path": str(receipt)})
        target = tmp_path / "copy.pdf"
        saved = await ok(client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(target)})
        assert saved["path"] == str(target) and target.read_bytes() == PDF
        assert asked == [], "a new file destroys nothing: no question"

        target.write_bytes(b"my own notes")
        refused = await err(
            client, "download_attachment", {"attachment_id": uploaded["id"], "path": str(target), "overwrite": True}
        )
        assert "declined" in refused and target.read_bytes() == b"my own notes"
        assert len(asked) == 1 and "replaces an existing local file" in asked[0] and str(target) in asked[0]
