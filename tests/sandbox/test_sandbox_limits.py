"""Limits: the concurrency cap, the request-rate window and latency (deterministic: no timing asserts)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from sandbox_support import TODAY, FakeClock, error_of

from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.sandbox.faults import FaultInjector


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def _client(server: SandboxServer, token: str) -> httpx2.Client:
    return httpx2.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=20)


def test_default_concurrency_cap_is_sages() -> None:
    assert SandboxConfig().max_concurrent_requests == 150
    assert SandboxConfig().rate_limit is None


def test_requests_beyond_the_concurrency_cap_get_429() -> None:
    with running_sandbox(SandboxConfig(today=TODAY, max_concurrent_requests=3, retry_after=2)) as server:
        token = server.mint_tokens()["access_token"]
        results: list[httpx2.Response] = []
        lock = threading.Lock()

        def call() -> None:
            with _client(server, token) as client:
                response = client.get("/tax_rates")
                response.read()
            with lock:
                results.append(response)

        server.faults.pause()  # admitted requests stay in flight until resume()
        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        # three are held in flight; the other three are refused at once
        _wait_for(lambda: server.faults.in_flight == 3 and len(results) == 3, "3 in flight and 3 refused")
        refused = list(results)
        assert [r.status_code for r in refused] == [429, 429, 429]
        for response in refused:
            assert "retry-after" not in response.headers, "row 13: Sage documents its 429s without headers"
            assert error_of(response)["$dataCode"] == "TooManyRequests"
        server.faults.resume()
        for thread in threads:
            thread.join(timeout=20)
        assert sorted(r.status_code for r in results) == [200, 200, 200, 429, 429, 429]
        assert server.faults.in_flight == 0
        assert [e.kind for e in server.faults.events] == ["concurrency_limit"] * 3
        assert server.counters[("GET", "/v3.1/tax_rates")] == 6
        assert server.status_counters[("GET", "/v3.1/tax_rates", 429)] == 3
        with _client(server, token) as client:
            assert client.get("/tax_rates").status_code == 200  # capacity is back


def test_rate_window_uses_the_sandbox_clock() -> None:
    clock = FakeClock()
    with running_sandbox(SandboxConfig(today=TODAY, clock=clock, rate_limit=(3, 10.0))) as server:
        token = server.mint_tokens()["access_token"]
        with _client(server, token) as client:
            assert [client.get("/tax_rates").status_code for _ in range(3)] == [200, 200, 200]
            refused = client.get("/tax_rates")
            assert refused.status_code == 429
            assert error_of(refused)["$dataCode"] == "TooManyRequests"
            assert refused.headers["retry-after"] == "10"
            clock.advance(4)
            again = client.get("/tax_rates")
            assert (again.status_code, again.headers["retry-after"]) == (429, "6")  # refusals use up nothing
            clock.advance(6)  # the first three leave the window
            assert [client.get("/tax_rates").status_code for _ in range(4)] == [200, 200, 200, 429]
            clock.advance(10)
            assert client.get("/contacts").status_code == 200
            # the token endpoint is outside the window
            tokens = server.mint_tokens()
            assert tokens["access_token"]
            server.faults.configure(rate_limit=None)
            assert all(client.get("/tax_rates").status_code == 200 for _ in range(5))
            server.faults.configure(rate_limit=(1, 60.0))
            assert client.get("/tax_rates").status_code == 200
            assert client.get("/tax_rates").status_code == 429
            server.faults.clear()  # back to the configured (3, 10.0), window emptied
            assert server.faults.settings.rate_limit == (3, 10.0)
            assert client.get("/tax_rates").status_code == 200


def test_latency_is_fixed_plus_seeded_jitter_and_optional_on_token() -> None:
    config = SandboxConfig(today=TODAY, latency=0.01, latency_jitter=0.02, fault_seed=3, latency_on_token=True)
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "a", "client_secret": "b"}
    recorded = []
    with running_sandbox(config) as server:
        token = server.mint_tokens()["access_token"]
        for on_token in (True, True, False):
            server.faults.clear()  # configured settings, RNG restarted from fault_seed
            server.faults.configure(latency_on_token=on_token)
            with _client(server, token) as client:
                for _ in range(4):
                    assert client.get("/tax_rates").status_code == 200
            with httpx2.Client(base_url=server.base_url) as plain:
                plain.post("/token", data=form)
            recorded.append(list(server.faults.delays))
    with_token, again, without_token = recorded
    assert len(with_token) == 5 and len(without_token) == 4
    assert with_token == again  # same seed, same requests: same delays
    assert all(0.01 <= d <= 0.03 for d in with_token)
    assert len(set(with_token)) > 1


@pytest.mark.parametrize(
    "settings",
    [{"max_concurrent_requests": 0}, {"rate_limit": (0, 1.0)}, {"latency": -1.0}, {"unavailable_rate": 1.5}],
)
def test_bad_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultInjector(SandboxConfig(**settings))
