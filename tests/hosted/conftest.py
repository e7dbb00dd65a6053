"""Fixtures of the hosted tests: one real Redis, one sandbox with a clock the tests can move, two replicas."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox
from tests.hosted.harness import RedisServer, Replica, free_port, replica_env

#: Sage's concurrency limit as configured for the replicas (and enforced by the sandbox: one more is a 429).
SAGE_CONCURRENCY = 6
USER_CONCURRENCY = 4


class MovableClock:
    """The sandbox's clock: real time plus an offset the tests advance (to expire Sage's tokens)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="module")
def hosted_sandbox(clock: MovableClock) -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig(clock=clock, max_concurrent_requests=SAGE_CONCURRENCY)) as server:
        yield server


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def replicas(
    hosted_sandbox: SandboxServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Replica]]:
    """Two replicas on two ports sharing one Redis; users reach them at the first one's URL."""
    ports = [free_port(), free_port()]
    public = f"http://127.0.0.1:{ports[0]}"
    logs = tmp_path_factory.mktemp("replicas")
    env = replica_env(
        hosted_sandbox,
        redis_server.url,
        public,
        logs,
        SAGE_MCP_SAGE_CONCURRENCY=str(SAGE_CONCURRENCY),
        SAGE_MCP_USER_CONCURRENCY=str(USER_CONCURRENCY),
    )
    procs = [Replica(env, port, logs / f"replica-{port}.log") for port in ports]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.wait_ready()
        yield procs
    finally:
        for p in procs:
            p.stop()


def log_text(replica: Replica) -> str:
    return Path(replica.log).read_text(errors="replace")
