"""Cold start and per-call overhead, each as a ratio against a baseline measured in the same run.

Run: .venv/bin/python bench/overhead.py [--calls 50] [--runs 15]

* cold start: spawning `sage-mcp serve` over stdio and listing tools, vs spawning a Python that only
  imports the MCP SDK's server (the floor any Python MCP server pays; ``cold_start_ratio``), and vs
  spawning the SDK's bare low-level server (``bench/bare_server.py``) and listing its one tool through
  the same client (``cold_start_vs_bare_server``). Runs are interleaved; medians of ``--runs``.
* per call: `list_contacts` through an in-memory MCP client (validation, business resolution,
  projection, rendering), vs the bare HTTP GET to the sandbox that it wraps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from mcp import Client, StdioServerParameters

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxConfig, running_sandbox
from sage_mcp.server import create_server


def env_for(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "SAGE_CLIENT_ID": settings.client_id,
        "SAGE_CLIENT_SECRET": settings.client_secret.get_secret_value(),
        "SAGE_API_BASE_URL": settings.api_base_url,
        "SAGE_TOKEN_URL": settings.token_url,
        "SAGE_DATA_DIR": str(settings.data_dir),
    }


async def spawn_and_list(args: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    async with Client(StdioServerParameters(command=sys.executable, args=args, env=env), mode="legacy") as client:
        await client.list_tools()
    return time.perf_counter() - start


async def cold_start(settings, runs: int) -> tuple[list[float], list[float], list[float]]:  # type: ignore[no-untyped-def]
    floor: list[float] = []
    bare: list[float] = []
    ours: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import mcp.server"], check=True)
        floor.append(time.perf_counter() - start)
        bare.append(await spawn_and_list([str(Path(__file__).with_name("bare_server.py"))]))
        ours.append(await spawn_and_list(["-m", "sage_mcp", "serve"], env_for(settings)))
    return floor, bare, ours


async def per_call(settings, api_url: str, token: str, calls: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    bare, ours = [], []
    async with httpx2.AsyncClient() as http, Client(create_server(settings)) as client:
        await client.call_tool("list_contacts", {"items_per_page": 20})
        for _ in range(calls):
            start = time.perf_counter()
            resp = await http.get(
                f"{api_url}/contacts",
                params={"attributes": "name,reference,contact_types,email,balance", "items_per_page": 20},
                headers={"Authorization": f"Bearer {token}"},
            )
            resp.raise_for_status()
            bare.append(time.perf_counter() - start)
            start = time.perf_counter()
            await client.call_tool("list_contacts", {"items_per_page": 20})
            ours.append(time.perf_counter() - start)
    return statistics.median(bare), statistics.median(ours)


async def run(calls: int, runs: int) -> dict[str, float]:
    with running_sandbox(SandboxConfig()) as sandbox, tempfile.TemporaryDirectory() as tmp:
        settings = sandbox_settings(sandbox, Path(tmp))
        floors, bares, starts = await cold_start(settings, runs)
        floor, bare_server, start = (statistics.median(x) for x in (floors, bares, starts))
        bare, call = await per_call(settings, sandbox.api_url, sandbox.mint_tokens()["access_token"], calls)
    return {
        "import_mcp_server_s": floor,
        "bare_server_and_list_tools_s": bare_server,
        "serve_and_list_tools_s": start,
        "cold_start_ratio": start / floor,
        "cold_start_vs_bare_server": start / bare_server,
        # the least disturbed start of each kind: on a shared machine the medians carry its noise
        "cold_start_ratio_of_minimums": min(starts) / min(floors),
        "cold_start_vs_bare_server_of_minimums": min(starts) / min(bares),
        "bare_http_ms": bare * 1000,
        "tool_call_ms": call * 1000,
        "per_call_ratio": call / bare,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--runs", type=int, default=15, help="cold starts of each kind (interleaved)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.calls, args.runs)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
