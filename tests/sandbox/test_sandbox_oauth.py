"""OAuth 2.0 as Sage does it: authorization code + PKCE, strict refresh rotation, revoke, bearer checks."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from sandbox_support import TODAY, FakeClock, error_of

from sage_mcp.sandbox import SANDBOX_USER_ID, SandboxConfig, SandboxServer, running_sandbox

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def server(clock: FakeClock) -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig(today=TODAY, clock=clock)) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: SandboxServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.base_url, follow_redirects=False, timeout=10) as client:
        yield client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(http: httpx2.Client, server: SandboxServer, **params: str) -> httpx2.Response:
    query = {
        "client_id": server.config.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "full_access",
        "state": "xyz-123",
        **params,
    }
    return http.get(server.authorize_url + "&" + urlencode(query))


def callback_params(response: httpx2.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def get_code(http: httpx2.Client, server: SandboxServer, challenge: str | None = None, **params: str) -> str:
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return callback_params(authorize(http, server, **params))["code"]


def token_request(http: httpx2.Client, server: SandboxServer, **form: str) -> httpx2.Response:
    body = {"client_id": server.config.client_id, "client_secret": server.config.client_secret, **form}
    return http.post("/token", data=body)


def exchange(http: httpx2.Client, server: SandboxServer, code: str, verifier: str | None = None) -> httpx2.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier is not None:
        form["code_verifier"] = verifier
    return token_request(http, server, **form)


def refresh(http: httpx2.Client, server: SandboxServer, refresh_token: str) -> httpx2.Response:
    return token_request(http, server, grant_type="refresh_token", refresh_token=refresh_token)


def get_user(http: httpx2.Client, access_token: str) -> httpx2.Response:
    return http.get("/v3.1/user", headers={"Authorization": f"Bearer {access_token}"})


def assert_token_response(body: dict[str, Any], scope: str = "full_access") -> None:
    assert set(body) == {
        "access_token",
        "scope",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "requested_by_id",
    }
    assert body["token_type"] == "bearer"
    assert body["scope"] == scope
    assert body["expires_in"] == 300
    assert body["refresh_token_expires_in"] == 31 * 86400
    assert body["requested_by_id"] == SANDBOX_USER_ID


def test_full_authorization_code_flow_with_pkce(http: httpx2.Client, server: SandboxServer) -> None:
    verifier, challenge = pkce_pair()
    params = callback_params(
        authorize(http, server, code_challenge=challenge, code_challenge_method="S256", country="gb", locale="en-GB")
    )
    assert params["state"] == "xyz-123"
    assert params["country"] == "GB"
    assert params["code"].startswith("GB/")  # region-prefixed like Sage's, so it must be URL-encoded
    response = exchange(http, server, params["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert_token_response(tokens)
    me = get_user(http, tokens["access_token"])
    assert me.status_code == 200
    assert me.json()["id"] == SANDBOX_USER_ID


def test_code_is_single_use(http: httpx2.Client, server: SandboxServer) -> None:
    code = get_code(http, server)
    assert exchange(http, server, code).status_code == 200
    again = exchange(http, server, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_expires_after_60_seconds(http: httpx2.Client, server: SandboxServer, clock: FakeClock) -> None:
    code = get_code(http, server)
    clock.advance(61)
    response = exchange(http, server, code)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "The authorization code has expired"}


def test_wrong_or_missing_verifier_is_refused(http: httpx2.Client, server: SandboxServer) -> None:
    verifier, challenge = pkce_pair()
    other, _ = pkce_pair()
    wrong = exchange(http, server, get_code(http, server, challenge), other)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = exchange(http, server, get_code(http, server, challenge))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    # A refused attempt spends the code: even the right verifier no longer works with it.
    code = get_code(http, server, challenge)
    assert exchange(http, server, code, other).status_code == 400
    assert exchange(http, server, code, verifier).status_code == 400
    assert exchange(http, server, get_code(http, server, challenge), verifier).status_code == 200


def test_plain_pkce_and_redirect_uri_must_match(http: httpx2.Client, server: SandboxServer) -> None:
    verifier, _ = pkce_pair()
    code = get_code(http, server, code_challenge=verifier, code_challenge_method="plain")
    assert exchange(http, server, code, verifier).status_code == 200
    code = get_code(http, server)
    response = token_request(
        http, server, grant_type="authorization_code", code=code, redirect_uri="http://127.0.0.1:8765/other"
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_the_old_refresh_token_dies(http: httpx2.Client, server: SandboxServer) -> None:
    first = exchange(http, server, get_code(http, server)).json()
    second = refresh(http, server, first["refresh_token"])
    assert second.status_code == 200, second.text
    rotated = second.json()
    assert_token_response(rotated)
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["access_token"] != first["access_token"]
    old = refresh(http, server, first["refresh_token"])
    assert old.status_code == 400
    assert old.json()["error"] == "invalid_grant"
    # the new one works, once
    third = refresh(http, server, rotated["refresh_token"])
    assert third.status_code == 200
    assert get_user(http, third.json()["access_token"]).status_code == 200


def test_expired_access_token_gets_sage_401(http: httpx2.Client, server: SandboxServer, clock: FakeClock) -> None:
    tokens = server.mint_tokens()
    assert get_user(http, tokens["access_token"]).status_code == 200
    clock.advance(301)
    response = get_user(http, tokens["access_token"])
    assert response.status_code == 401
    item = error_of(response)
    assert item["$dataCode"] == "AuthorizationFailure"
    assert item["$severity"] == "error"
    assert "expired" in item["$message"]
    # the refresh token still works and gives a working access token
    renewed = refresh(http, server, tokens["refresh_token"]).json()
    assert get_user(http, renewed["access_token"]).status_code == 200


def test_refresh_token_expires(http: httpx2.Client, server: SandboxServer, clock: FakeClock) -> None:
    tokens = server.mint_tokens()
    clock.advance(31 * 86400 + 1)
    response = refresh(http, server, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_missing_or_invalid_bearer_token(http: httpx2.Client) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = http.get("/v3.1/contacts", headers=headers)
        assert response.status_code == 401
        assert error_of(response)["$dataCode"] == "AuthorizationFailure"
    # also for paths the sandbox does not know: authentication comes first
    assert http.get("/v3.1/no_such_thing").status_code == 401


def test_revoke_kills_the_login(http: httpx2.Client, server: SandboxServer) -> None:
    tokens = exchange(http, server, get_code(http, server)).json()
    rotated = refresh(http, server, tokens["refresh_token"]).json()
    body = {"client_id": server.config.client_id, "client_secret": server.config.client_secret}
    response = http.post("/revoke", data={**body, "token": rotated["refresh_token"]})
    assert response.status_code == 200
    assert response.json() == {"success": "ok"}
    assert refresh(http, server, rotated["refresh_token"]).json()["error"] == "invalid_grant"
    assert get_user(http, rotated["access_token"]).status_code == 401
    assert get_user(http, tokens["access_token"]).status_code == 401
    # revoking an unknown token is not an error
    assert http.post("/revoke", data={**body, "token": "unknown"}).status_code == 200
    assert http.post("/revoke", data=body).json()["error"] == "invalid_request"


def test_client_must_authenticate_in_the_form_body(http: httpx2.Client, server: SandboxServer) -> None:
    code = get_code(http, server)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    basic = http.post("/token", data=form, auth=(server.config.client_id, server.config.client_secret))
    assert basic.status_code == 401
    assert basic.json()["error"] == "invalid_client"
    wrong = token_request(http, server, client_secret="wrong", **form)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert http.post("/revoke", data={"token": "x"}).status_code == 401


def test_token_endpoint_errors(http: httpx2.Client, server: SandboxServer) -> None:
    unsupported = token_request(http, server, grant_type="client_credentials")
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"
    no_grant = token_request(http, server)
    assert no_grant.status_code == 400 and no_grant.json()["error"] == "invalid_request"
    as_json = http.post("/token", json={"grant_type": "refresh_token"})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    bad_refresh = refresh(http, server, "sbx_rt_not-a-token")
    assert bad_refresh.status_code == 400 and bad_refresh.json()["error"] == "invalid_grant"
    assert http.get("/token").status_code == 405


def test_authorize_refuses_bad_client_and_redirect_without_redirecting(
    http: httpx2.Client, server: SandboxServer
) -> None:
    bad_client = authorize(http, server, client_id="someone-else")
    assert bad_client.status_code == 400 and "location" not in bad_client.headers
    for uri in ("https://evil.example/callback", "http://example.com/cb", "http://127.0.0.1:8765/cb#frag", ""):
        response = authorize(http, server, redirect_uri=uri)
        assert response.status_code == 400, uri
        assert "location" not in response.headers
    assert authorize(http, server, redirect_uri="http://localhost:9999/any/path").status_code == 302


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "everything"}, "invalid_scope"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": "a" * 43, "code_challenge_method": "MD5"}, "invalid_request"),
        ({"country": "zz"}, "invalid_request"),
    ],
)
def test_authorize_errors_redirect_with_error(
    http: httpx2.Client, server: SandboxServer, params: dict[str, str], error: str
) -> None:
    result = callback_params(authorize(http, server, **params))
    assert result["error"] == error
    assert result["state"] == "xyz-123"
    assert "code" not in result


def test_readonly_scope_cannot_write(http: httpx2.Client, server: SandboxServer) -> None:
    tokens = exchange(http, server, get_code(http, server, scope="readonly")).json()
    assert tokens["scope"] == "readonly"
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert http.get("/v3.1/contacts", headers=headers).status_code == 200
    response = http.post(
        "/v3.1/contacts", headers=headers, json={"contact": {"name": "X", "contact_type_ids": ["CUSTOMER"]}}
    )
    assert response.status_code == 403
    assert error_of(response)["$dataCode"] == "MultiUserAccessDenied"
    minted = server.mint_tokens(scope="readonly")
    assert minted["scope"] == "readonly"
    assert (
        http.delete("/v3.1/contacts/abc", headers={"Authorization": f"Bearer {minted['access_token']}"}).status_code
        == 403
    )


def test_requests_are_counted(http: httpx2.Client, server: SandboxServer) -> None:
    server.reset_counters()
    assert not server.counters
    token_request(http, server, grant_type="nope")
    token_request(http, server, grant_type="nope")
    http.get("/v3.1/contacts?search=x")
    http.get("/no/such/path")
    assert server.counters[("POST", "/token")] == 2
    assert server.counters[("GET", "/v3.1/contacts")] == 1
    assert server.counters[("GET", "/no/such/path")] == 1
    server.reset_counters()
    assert sum(server.counters.values()) == 0
