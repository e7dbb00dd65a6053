"""Bulk paging speed-up: `all_pages` fetches pages concurrently; how much faster than one at a time?

Run: .venv/bin/python bench/paging.py [--invoices 1000] [--latency 0.4]
Builds a big business with the sandbox generator, serves it with a fixed per-request latency (as a
remote Sage would have), and times fetching every invoice page with concurrency 1 and 4 in the same
run. Prints the ratio; wall-clock values vary with the machine, the ratio much less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from sage_mcp.demo import sandbox_settings
from sage_mcp.sage.client import SageClient
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, running_sandbox
from sage_mcp.sandbox.bigbooks import build_big_books


async def timed(sage: SageClient, concurrency: int, cap: int) -> tuple[float, int]:
    start = time.perf_counter()
    items, _ = await fetch_pages(
        sage.for_business(LEAD_BUSINESS_ID),
        "/sales_invoices",
        {"attributes": "total_amount"},
        max_items=cap,
        concurrency=concurrency,
    )
    return time.perf_counter() - start, len(items)


async def run(invoices: int, latency: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.sqlite"
        build_big_books(str(db), contacts=200, invoices=invoices, seed=1)
        with running_sandbox(SandboxConfig(db_path=str(db), latency=latency)) as sandbox:
            settings = sandbox_settings(sandbox, Path(tmp))
            async with SageClient(settings) as sage:
                await timed(sage, 4, 200)  # warm up the connection pool and token
                sequential, n1 = await timed(sage, 1, invoices + 1000)
                concurrent, n4 = await timed(sage, 4, invoices + 1000)
    assert n1 == n4
    return {
        "items": n1,
        "pages": -(-n1 // 200),
        "sequential_s": sequential,
        "concurrent_s": concurrent,
        "speedup": sequential / concurrent,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.4)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.invoices, args.latency)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
