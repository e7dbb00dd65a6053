"""Output compactness: bytes a model receives from list_invoices vs Sage's `attributes=all` page.

Run: .venv/bin/python bench/output_compactness.py [--items 100]
Both sides are measured in the same run against the same seeded sandbox page. Bytes are
deterministic, so the ratio is too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

import httpx2
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxConfig, running_sandbox
from sage_mcp.server import create_server


async def measure(items: int) -> dict[str, float]:
    with running_sandbox(SandboxConfig()) as sandbox, tempfile.TemporaryDirectory() as tmp:
        settings = sandbox_settings(sandbox, Path(tmp))
        token = sandbox.mint_tokens()["access_token"]
        raw = httpx2.get(
            f"{sandbox.api_url}/sales_invoices",
            params={"attributes": "all", "items_per_page": items, "sort": "date:desc"},
            headers={"Authorization": f"Bearer {token}"},
        )
        raw.raise_for_status()
        async with Client(create_server(settings)) as client:
            result = await client.call_tool("list_invoices", {"items_per_page": items})
        structured = json.dumps(result.structured_content, separators=(",", ":")).encode()
        text = "".join(getattr(c, "text", "") for c in result.content).encode()
        assert len(result.structured_content["items"]) == len(raw.json()["$items"]) == items
        return {
            "sage_bytes": len(raw.content),
            "structured_bytes": len(structured),
            "text_bytes": len(text),
            "structured_ratio": len(structured) / len(raw.content),
            "text_ratio": len(text) / len(raw.content),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100)
    args = parser.parse_args()
    result = asyncio.run(measure(args.items))
    print(json.dumps(result, indent=2))
    ok = result["structured_ratio"] <= 0.2 and result["text_ratio"] <= 0.2
    print("OK: at most one fifth of Sage's bytes" if ok else "OVER BUDGET: more than one fifth of Sage's bytes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
