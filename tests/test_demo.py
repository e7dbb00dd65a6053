"""`sage-mcp demo` end to end: a client over HTTP lists contacts, raises an invoice with the right totals, voids it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_demo_command_serves_a_working_sandbox(tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "sage-mcp"), "demo", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "demo did not start listening"
                time.sleep(0.1)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            contacts = await client.call_tool("list_contacts", {"search": "bright"})
            names = [c["name"] for c in contacts.structured_content["items"]]
            assert "Brightwater Consulting Ltd" in names
            customer = next(c for c in contacts.structured_content["items"] if c["type"] == "customer")
            created = await client.call_tool(
                "create_sales_invoice",
                {
                    "contact_id": customer["id"],
                    "lines": [
                        {"description": "Design work", "quantity": "2.5", "unit_price": "80.00"},
                        {"description": "Print", "quantity": "1", "unit_price": "19.99", "tax_rate_id": "GB_LOWER"},
                    ],
                },
            )
            invoice = created.structured_content
            assert not created.is_error, created.content
            # 2.5 × 80.00 = 200.00 at the account's 20% → 40.00; 19.99 at 5% = 0.9995 → 1.00
            assert (invoice["net"], invoice["tax"], invoice["total"]) == ("219.99", "41.00", "260.99")
            voided = await client.call_tool("void_sales_invoice", {"invoice_id": invoice["id"], "reason": "demo"})
            assert voided.structured_content["status"] == "VOID"
        output = (tmp_path / "demo.log").read_text()
        assert f"http://127.0.0.1:{port}/mcp" in output and "mcpServers" in output
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
