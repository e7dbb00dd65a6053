"""`sage-mcp doctor` on a working sandbox sign-in, on a missing one, and on each thing that can be wrong."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from sage_mcp import doctor
from sage_mcp.config import Settings
from sage_mcp.doctor import run_checks
from tests.helpers import server_env

pytestmark = pytest.mark.anyio

SAGE_MCP = str(Path(sys.executable).parent / "sage-mcp")
NAMES = ["configuration", "token store", "sign-in", "Sage reachable", "clock", "businesses", "pinned business"]


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SAGE_MCP, "doctor", *args], capture_output=True, text=True, timeout=120, env=env)


def _by_name(out: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    report = json.loads(out.stdout)
    return {c["name"]: c for c in report["checks"]}


def test_a_working_sandbox_sign_in_passes_every_check(settings: Settings) -> None:
    out = _doctor(server_env(settings))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.strip().splitlines()
    assert [line.split(":")[0][2:] for line in lines[: len(NAMES)]] == NAMES
    assert all(line.startswith("✓ ") for line in lines[: len(NAMES)]) and lines[-1] == "All good."
    assert "(mode 0600, version 1)" in out.stdout and "3 (lead: Hartley & Finch Ltd); scope full_access" in out.stdout
    report = json.loads(_doctor(server_env(settings), "--json").stdout)
    assert report["ok"] is True and [c["name"] for c in report["checks"]] == NAMES


def test_a_missing_sign_in_fails_with_the_fix(settings: Settings, tmp_path: Path) -> None:
    env = server_env(settings) | {"SAGE_DATA_DIR": str(tmp_path / "empty")}
    out = _doctor(env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert (
        f"✗ token store: none at {tmp_path / 'empty' / 'tokens.json'}\n    fix: run `sage-mcp auth login`" in out.stdout
    )
    checks = _by_name(_doctor(env, "--json"))
    assert {n for n, c in checks.items() if not c["ok"]} == {"token store", "sign-in", "businesses"}
    assert checks["Sage reachable"]["ok"] and checks["clock"]["ok"], "the sandbox is reachable all the same"


def test_the_demo_sign_in_passes() -> None:
    out = subprocess.run([SAGE_MCP, "doctor", "--sandbox", "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and json.loads(out.stdout)["ok"] is True, out.stdout


def test_missing_credentials_a_lax_store_and_a_foreign_pin_are_each_named(settings: Settings) -> None:
    env = server_env(settings) | {"SAGE_CLIENT_SECRET": "", "SAGE_BUSINESS_ID": "0" * 32}
    settings.token_store_path.chmod(0o644)
    checks = _by_name(_doctor(env, "--json"))
    assert not checks["configuration"]["ok"] and "SAGE_CLIENT_SECRET not set" in str(checks["configuration"]["detail"])
    assert not checks["token store"]["ok"] and checks["token store"]["fix"] == f"chmod 600 {settings.token_store_path}"
    pinned = checks["pinned business"]
    assert not pinned["ok"] and "is not one this sign-in can use" in str(pinned["detail"])
    assert "4f1c2a7be3d94d0a9c51b8e6a2f07d13" in str(pinned["fix"])


def test_a_corrupt_store_is_reported_not_raised(settings: Settings) -> None:
    settings.token_store_path.write_text('{"version": 99}')
    checks = _by_name(_doctor(server_env(settings), "--json"))
    assert "unreadable" in str(checks["token store"]["detail"]) and not checks["sign-in"]["ok"]


def test_http_credential_is_checked_when_asked_or_configured(settings: Settings) -> None:
    env = server_env(settings)
    checks = _by_name(_doctor(env, "--json", "--http"))
    assert not checks["HTTP credential"]["ok"] and "serve --transport http" in str(checks["HTTP credential"]["fix"])
    checks = _by_name(_doctor(env | {"SAGE_MCP_HTTP_TOKEN": "short"}, "--json"))
    assert not checks["HTTP credential"]["ok"] and "too short" in str(checks["HTTP credential"]["detail"])
    good = _doctor(env | {"SAGE_MCP_HTTP_TOKEN": "x" * 40}, "--json")
    assert (
        good.returncode == 0 and _by_name(good)["HTTP credential"]["detail"] == "bearer token from SAGE_MCP_HTTP_TOKEN"
    )


async def test_clock_skew_against_the_token_servers_date(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "time", SimpleNamespace(time=lambda: time.time() + 300))
    checks = {c.name: c for c in await run_checks(settings)}
    assert not checks["clock"].ok and re.match(r"30[01] s ahead of the token server's clock", checks["clock"].detail)
    assert "NTP" in checks["clock"].fix


async def test_an_unreachable_sage_is_named(settings: Settings) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    checks = {
        c.name: c
        for c in await run_checks(settings.model_copy(update={"api_base_url": dead + "/v3.1", "token_url": dead}))
    }
    assert not checks["Sage reachable"].ok and "could not reach" in checks["Sage reachable"].detail
    assert not checks["clock"].ok and not checks["businesses"].ok


def test_a_headless_refresh_token_counts_as_a_sign_in(settings: Settings, tmp_path: Path) -> None:
    refresh = json.loads(settings.token_store_path.read_text())["tokens"]["refresh_token"]
    env = server_env(settings) | {"SAGE_DATA_DIR": str(tmp_path / "fresh"), "SAGE_REFRESH_TOKEN": refresh}
    out = _doctor(env, "--json")
    checks = _by_name(out)
    assert out.returncode == 0, checks
    assert str(checks["token store"]["detail"]).endswith("SAGE_REFRESH_TOKEN seeds it")
    assert checks["businesses"]["detail"] == "3 (lead: Hartley & Finch Ltd); scope full_access"
    assert (tmp_path / "fresh" / "tokens.json").exists(), "the rotated token was kept, as serve would keep it"
