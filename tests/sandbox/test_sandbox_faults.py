"""Injected faults: scripted and by rate, deterministic from ``fault_seed``, over real HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sandbox_support import TODAY, error_of

from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig(today=TODAY, fault_seed=11)) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_faults_left(server: SandboxServer) -> Iterator[None]:
    server.faults.clear()
    yield
    server.faults.clear()


@pytest.fixture
def api(server: SandboxServer, client_for: Any) -> httpx2.Client:
    client: httpx2.Client = client_for(server, server.mint_tokens()["access_token"])
    return client


def _contact(name: str, key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "contact_type_ids": ["CUSTOMER"]}
    if key:
        body["idempotency_id"] = key
    return {"contact": body}


def _count(api: httpx2.Client, search: str) -> int:
    total: int = api.get("/contacts", params={"search": search}).json()["$total"]
    return total


def test_scripted_429_and_503_then_success(server: SandboxServer, api: httpx2.Client) -> None:
    server.faults.script("429", "GET", "/contacts", count=2, retry_after=7)
    server.faults.script("unavailable", "GET", "/v3.1/contacts")
    first, second, third = (api.get("/contacts") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 503)
    assert first.headers["retry-after"] == "7"
    assert error_of(first)["$dataCode"] == "TooManyRequests"
    assert error_of(third)["$dataCode"] == "ServiceUnavailable"
    assert third.headers["retry-after"] == "1"
    assert api.get("/contacts").status_code == 200
    assert server.faults.pending() == []
    assert [e.kind for e in server.faults.events] == ["too_many_requests", "too_many_requests", "unavailable"]


def test_scripts_match_method_and_path_prefix(server: SandboxServer, api: httpx2.Client) -> None:
    server.faults.script("503", "POST", "/contacts")
    assert api.get("/contacts").status_code == 200  # another method
    assert api.get("/ledger_accounts").status_code == 200  # another path
    refused = api.post("/contacts", json=_contact("Never Made Ltd"))
    assert refused.status_code == 503
    assert _count(api, "Never Made") == 0  # nothing was done
    assert api.post("/contacts", json=_contact("Made Ltd")).status_code == 201
    server.faults.script("429")  # any method, any path
    assert api.get("/tax_rates").status_code == 429
    with pytest.raises(ValueError, match="unknown fault"):
        server.faults.script("teapot")


def test_faulted_requests_are_counted(server: SandboxServer, api: httpx2.Client) -> None:
    server.reset_counters()
    server.faults.script("503", "GET", "/tax_rates")
    api.get("/tax_rates")
    api.get("/tax_rates")
    assert server.counters[("GET", "/v3.1/tax_rates")] == 2
    assert server.status_counters[("GET", "/v3.1/tax_rates", 503)] == 1
    assert server.status_counters[("GET", "/v3.1/tax_rates", 200)] == 1


def test_commit_then_500_creates_the_record_and_a_replay_returns_it(server: SandboxServer, api: httpx2.Client) -> None:
    key = uuid.uuid4().hex
    server.faults.script("commit_then_500", "POST", "/contacts")
    failed = api.post("/contacts", json=_contact("Committed Anyway Ltd", key))
    assert failed.status_code == 500
    assert error_of(failed)["$dataCode"] == "UnexpectedError"
    found = api.get("/contacts", params={"search": "Committed Anyway"}).json()
    assert found["$total"] == 1  # the record exists although the answer was a 500
    created_id = found["$items"][0]["id"]
    replay = api.post("/contacts", json=_contact("Committed Anyway Ltd", key))
    assert replay.status_code == 201
    assert replay.json()["id"] == created_id
    assert _count(api, "Committed Anyway") == 1  # no second record
    again = api.post("/contacts", json=_contact("Committed Anyway Ltd"))  # without the key: a duplicate
    assert again.status_code == 201 and again.json()["id"] != created_id


def test_dropped_connection_is_a_transport_error(server: SandboxServer, api: httpx2.Client) -> None:
    server.faults.script("drop", "POST", "/contacts")
    with pytest.raises(httpx2.TransportError):
        api.post("/contacts", json=_contact("Dropped Before Ltd"))
    assert _count(api, "Dropped Before") == 0
    assert server.status_counters[("POST", "/v3.1/contacts", 0)] >= 1
    # the client recovers on a new connection
    assert api.get("/contacts").status_code == 200


def test_commit_then_drop(server: SandboxServer, api: httpx2.Client) -> None:
    key = uuid.uuid4().hex
    server.faults.script("commit_then_drop", "POST", "/contacts")
    with pytest.raises(httpx2.TransportError):
        api.post("/contacts", json=_contact("Dropped After Ltd", key))
    assert _count(api, "Dropped After") == 1
    replay = api.post("/contacts", json=_contact("Dropped After Ltd", key))
    assert replay.status_code == 201
    assert _count(api, "Dropped After") == 1


def test_a_token_request_can_be_scripted_too(server: SandboxServer) -> None:
    server.faults.script("503", "POST", "/token")
    form = {"grant_type": "refresh_token", "refresh_token": "x", "client_id": "a", "client_secret": "b"}
    with httpx2.Client(base_url=server.base_url) as client:
        response = client.post("/token", data=form)
        assert response.status_code == 503
        assert client.post("/token", data=form).status_code == 401  # back to normal: an unknown client


def _run_chaos(server: SandboxServer, requests: int) -> tuple[list[Any], list[float]]:
    token = server.mint_tokens()["access_token"]
    outcomes: list[Any] = []
    with httpx2.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {token}"}) as client:
        for index in range(requests):
            try:
                if index % 3 == 0:
                    status = client.post("/contacts", json=_contact(f"Chaos {index}")).status_code
                else:
                    status = client.get("/tax_rates").status_code
            except httpx2.TransportError:
                status = "dropped"
            outcomes.append(status)
    return outcomes, list(server.faults.delays)


def test_fault_rates_are_deterministic_from_the_seed() -> None:
    chaos = {
        "too_many_requests_rate": 0.15,
        "unavailable_rate": 0.15,
        "drop_connection_rate": 0.1,
        "commit_then_500_rate": 0.5,
        "latency_jitter": 0.004,
    }
    with running_sandbox(SandboxConfig(today=TODAY, fault_seed=5, **chaos)) as server:
        runs = []
        for reseed in (None, None, 6):
            server.faults.clear()  # back to the configured settings, the RNG restarted from fault_seed
            if reseed is not None:
                server.faults.reseed(reseed)
            outcomes, delays = _run_chaos(server, 36)
            runs.append((outcomes, delays, [(e.method, e.path, e.kind) for e in server.faults.events]))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    outcomes = runs[0][0]
    assert {429, 503, 200, "dropped"} <= set(outcomes)
    assert 500 in outcomes  # a commit-then-500 on one of the POSTs
    assert all(0 <= d <= 0.004 for d in runs[0][1])


def test_configure_clear_and_reseed(server: SandboxServer, api: httpx2.Client) -> None:
    server.faults.configure(unavailable_rate=1.0)
    assert api.get("/tax_rates").status_code == 503
    server.faults.clear()
    assert server.faults.settings.unavailable_rate == 0.0
    assert api.get("/tax_rates").status_code == 200
    with pytest.raises(ValueError):
        server.faults.configure(unavailable_rate=2.0)
    with pytest.raises(TypeError):
        server.faults.configure(no_such_setting=1)
