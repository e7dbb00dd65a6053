"""Cold start and per-call overhead, each as a ratio against a baseline measured in the same run.

Run: .venv/bin/python bench/overhead.py [--calls 50] [--runs 15]

* cold start: spawning `sage-mcp serve` over stdio and listing tools, vs spawning a Python that only
  imports the MCP SDK's server (the floor any Python MCP server pays; ``cold_start_ratio``), and vs
  spawning the SDK's bare low-level server (``bench/bare_server.py``) and listing its one tool through
  the same client (``cold_start_vs_bare_server``). Runs are interleaved; medians of ``--runs``.
* per call: `list_contacts` through an in-memory MCP client (validation, business resolution,
  projection, rendering), vs the bare HTTP GET to the sandbox that it wraps.
* ``--instructions``: the cold start counted in CPU instructions instead of seconds, each server run once
  under valgrind's callgrind (handshake, tools/list, stdin closed, exit). Counts do not depend on what else
  the machine is doing, so this ratio holds still where the timed one moves by ±0.05; it leaves out what
  instructions do not show (waiting on the disk, the client parsing the longer list).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
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


def instructions(args: list[str], env: dict[str, str] | None) -> int:
    """CPU instructions a server spends from exec to exit, answering initialize and tools/list on stdio."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", sys.executable, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        assert proc.stdin and proc.stdout and proc.stderr

        def send(message: dict[str, object]) -> None:
            assert proc.stdin
            proc.stdin.write((json.dumps(message) + "\n").encode())
            proc.stdin.flush()

        send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "0"},
                },
            }
        )
        proc.stdout.readline()
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        listed = json.loads(proc.stdout.readline())
        assert listed["result"]["tools"], listed
        proc.stdin.close()
        err = proc.stderr.read().decode()
        proc.wait()
    found = re.search(r"Collected : (\d+)", err)
    if not found:
        raise RuntimeError(f"callgrind gave no count: {err[-500:]}")
    return int(found[1])


def count_instructions() -> dict[str, float]:
    with running_sandbox(SandboxConfig()) as sandbox, tempfile.TemporaryDirectory() as tmp:
        env = env_for(sandbox_settings(sandbox, Path(tmp)))
        bare = instructions([str(Path(__file__).with_name("bare_server.py"))], None)
        ours = instructions(["-m", "sage_mcp", "serve"], env)
    return {"bare_server_instructions": bare, "serve_instructions": ours, "instructions_vs_bare_server": ours / bare}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--runs", type=int, default=15, help="cold starts of each kind (interleaved)")
    parser.add_argument("--instructions", action="store_true", help="count cold-start instructions (valgrind)")
    args = parser.parse_args()
    if args.instructions:
        if shutil.which("valgrind") is None:
            parser.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
        print(json.dumps(count_instructions(), indent=2))
        return 0
    print(json.dumps(asyncio.run(run(args.calls, args.runs)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
