"""What never-twice and confirmation cost, each as a ratio against a baseline measured in the same run.

Run: .venv/bin/python bench/write_safety.py [--calls 30]

* fingerprints: `create_contact` with an `idempotency_key`, its fingerprint claimed and completed in
  DATA_DIR/fingerprints.sqlite, vs the same call on a server whose store keeps nothing;
* replay: the same keyed call repeated (nothing sent; the contact read back) vs the first call;
* confirmation: voiding an invoice with a client that answers elicitation (legacy era: one
  `elicitation/create` round trip plus the dry run that reads the invoice) vs `--no-confirm`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.types import ElicitResult

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxConfig, running_sandbox
from sage_mcp.server import create_server
from sage_mcp.stores.fingerprints import Fingerprint


async def timed(client: Client, name: str, args: dict[str, Any]) -> float:
    start = time.perf_counter()
    result = await client.call_tool(name, args)
    elapsed = time.perf_counter() - start
    assert not result.is_error, result.content
    return elapsed


class KeepsNothing:
    """A fingerprint store that remembers nothing: the baseline without fingerprints."""

    async def claim(self, fingerprint: Fingerprint) -> Fingerprint | None:  # noqa: ARG002
        return None

    async def get(self, scope: str, key: str) -> Fingerprint | None:  # noqa: ARG002
        return None

    async def complete(self, scope: str, key: str, records: list[str | None]) -> None:  # noqa: ARG002
        return None

    async def release(self, scope: str, key: str, digest: str) -> None:  # noqa: ARG002
        return None


async def keys(settings: Any, calls: int) -> dict[str, float]:
    bare, keyed, replay = [], [], []
    async with (
        Client(create_server(settings, fingerprints=KeepsNothing()), mode="legacy") as baseline,
        Client(create_server(settings), mode="legacy") as client,
    ):
        for c in (baseline, client):
            await c.call_tool("list_contacts", {"items_per_page": 1})
        for _ in range(calls):
            name = f"Bench {secrets.token_hex(4)}"
            args = {"name": name, "contact_type": "customer", "idempotency_key": secrets.token_hex(8)}
            bare.append(await timed(baseline, "create_contact", args))
            args = {**args, "name": name + " K", "idempotency_key": secrets.token_hex(8)}
            keyed.append(await timed(client, "create_contact", args))
            replay.append(await timed(client, "create_contact", args))
    b, k, r = statistics.median(bare), statistics.median(keyed), statistics.median(replay)
    return {
        "no_fingerprints_ms": b * 1000,
        "keyed_ms": k * 1000,
        "replay_ms": r * 1000,
        "fingerprint_ratio": k / b,
        "replay_ratio": r / k,
    }


async def confirmation(settings: Any, calls: int) -> dict[str, float]:
    async def accept(_ctx: Any, _params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"confirm": True})

    out: dict[str, float] = {}
    for label, no_confirm in (("no_confirm", True), ("confirmed", False)):
        runs = []
        chosen = settings.model_copy(update={"no_confirm": no_confirm})
        async with Client(create_server(chosen), mode="legacy", elicitation_callback=accept) as client:
            contact = await client.call_tool("list_contacts", {"contact_type": "customer", "items_per_page": 1})
            assert isinstance(contact.structured_content, dict)
            customer = contact.structured_content["items"][0]["id"]
            for _ in range(calls):
                made = await client.call_tool(
                    "create_sales_invoice",
                    {"contact_id": customer, "lines": [{"description": "x", "unit_price": "1.00"}]},
                )
                assert isinstance(made.structured_content, dict)
                runs.append(
                    await timed(
                        client, "void_sales_invoice", {"invoice_id": made.structured_content["id"], "reason": "bench"}
                    )
                )
        out[f"void_{label}_ms"] = statistics.median(runs) * 1000
    out["confirmation_ratio"] = out["void_confirmed_ms"] / out["void_no_confirm_ms"]
    return out


async def run(calls: int) -> dict[str, float]:
    with running_sandbox(SandboxConfig()) as sandbox, tempfile.TemporaryDirectory() as tmp:
        settings = sandbox_settings(sandbox, Path(tmp), toolsets="all")
        return {**await keys(settings, calls), **await confirmation(settings, calls)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=30)
    print(json.dumps(asyncio.run(run(parser.parse_args().calls)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
