"""The command line answers every user error with a message and an exit code, never a Python traceback;
`demo` offers the toolsets `serve` would."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from sage_mcp.config import Settings
from sage_mcp.registry import Registry
from tests.helpers import server_env

pytestmark = pytest.mark.anyio

SAGE_MCP = str(Path(sys.executable).parent / "sage-mcp")


def _run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SAGE_MCP, *args], capture_output=True, text=True, timeout=120, env=env, input=stdin, check=False
    )


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    env.update(SAGE_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def test_an_unknown_log_level_is_a_usage_error_listing_the_levels(tmp_path: Path) -> None:
    out = _run("serve", "--log-level", "loud", env=_clean_env(tmp_path))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "invalid choice: 'LOUD'" in out.stderr and "DEBUG" in out.stderr and "WARNING" in out.stderr
    assert _run("tools", "--log-level", "debug", env=_clean_env(tmp_path)).returncode == 0, "levels in any case"


def test_a_setting_that_does_not_parse_names_the_variable(tmp_path: Path) -> None:
    out = _run("tools", env=_clean_env(tmp_path, SAGE_MCP_CALL_TIMEOUT="soon"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "invalid configuration (SAGE_MCP_CALL_TIMEOUT: Input should be a valid number" in out.stderr


def test_end_of_input_at_the_login_prompt_cancels_cleanly(tmp_path: Path) -> None:
    env = _clean_env(tmp_path, SAGE_CLIENT_ID="id", SAGE_CLIENT_SECRET="secret")
    out = _run("auth", "login", "--no-browser", env=env, stdin="")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "no URL was pasted; nothing changed" in out.stderr
    assert not (tmp_path / "data" / "tokens.json").exists()


def test_ctrl_c_while_waiting_for_the_browser_exits_130_without_a_traceback(tmp_path: Path) -> None:
    port = _free_port()
    env = _clean_env(
        tmp_path,
        SAGE_CLIENT_ID="id",
        SAGE_CLIENT_SECRET="secret",
        SAGE_REDIRECT_URI=f"http://127.0.0.1:{port}/callback",
        BROWSER="true",  # webbrowser opens nothing
    )
    proc = subprocess.Popen(
        [SAGE_MCP, "auth", "login"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    try:
        waiting = _wait_for_line(proc, "Waiting for Sage to redirect")  # as a person would: the prompt is up
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        err = waiting + err
    finally:
        proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "interrupted" in err


def test_logout_with_a_corrupt_store_deletes_it_and_says_so(tmp_path: Path) -> None:
    store = tmp_path / "data" / "tokens.json"
    store.parent.mkdir(parents=True)
    store.write_text("{not json")
    out = _run("auth", "logout", env=_clean_env(tmp_path))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert "could not be read; deleted it" in out.stdout and not store.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ctrl_c_as_in_a_terminal() -> None:
    """Ctrl+C reaches the child as it does from a terminal, even when the suite itself was started in the
    background of a non-interactive shell (which starts it with SIGINT ignored, inherited by children)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float = 60) -> str:
    """What ``proc`` wrote to stderr up to ``text`` (read from the pipe unbuffered, so ``communicate``
    gets the rest)."""
    assert proc.stderr is not None
    fd, seen = proc.stderr.fileno(), b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        assert time.monotonic() < deadline, f"no {text!r} within {timeout} s: {seen.decode(errors='replace')}"
        if select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 4096)
            assert chunk, f"exited before printing {text!r}: {seen.decode(errors='replace')}"
            seen += chunk
    return seen.decode()


def _wait_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "did not start listening"
            time.sleep(0.1)


def test_ctrl_c_stops_the_http_server_without_a_traceback(settings: Settings) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [SAGE_MCP, "serve", "--transport", "http", "--port", str(port)],
        preexec_fn=_ctrl_c_as_in_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(settings),
    )
    try:
        _wait_listening(port, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "stopped" in err


@pytest.mark.parametrize("command", [["serve", "--transport", "http"], ["demo"]])
def test_a_busy_port_is_refused_before_anything_is_printed(settings: Settings, command: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [SAGE_MCP, *command, "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            env=server_env(settings),
        )
    assert out.returncode == 2 and out.stdout == "", out.stdout
    assert out.stderr.strip() == (
        f"sage-mcp: port {port} on 127.0.0.1 is already in use (another sage-mcp or demo?). "
        f"Stop it, or choose another port with --port, e.g. --port {port + 1}."
    )


async def _demo_tools(env: dict[str, str], *args: str) -> set[str]:
    params = StdioServerParameters(command=SAGE_MCP, args=["demo", "--stdio", *args], env=env)
    async with Client(params) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def test_demo_offers_the_default_toolsets_and_honours_toolsets(tmp_path: Path) -> None:
    env = _clean_env(tmp_path)
    assert await _demo_tools(env) == set(Registry.build("default").tools), "the same tools as `serve`"
    assert await _demo_tools(env, "--toolsets", "ledger") == set(Registry.build("ledger").tools)
    env["SAGE_MCP_TOOLSETS"] = "payments,tax"
    assert await _demo_tools(env) == set(Registry.build("payments,tax").tools)
    assert await _demo_tools(env, "--read-only") == set(Registry.build("payments,tax", read_only=True).tools)


def test_make_demo_takes_a_port_and_flags() -> None:
    repo = Path(__file__).resolve().parent.parent
    planned = subprocess.run(
        ["make", "-n", "demo", "PORT=8123", "ARGS=--toolsets all --read-only"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.splitlines()
    demo = [line for line in planned if " demo " in line]  # not make's own "Entering directory" lines
    assert demo and demo[-1].endswith("/sage-mcp demo --port 8123 --toolsets all --read-only"), planned


def test_printed_configs_start_the_program_the_way_it_was_started(tmp_path: Path) -> None:
    from sage_mcp.clients import launcher

    uv_cache = "/home/me/.cache/uv/archive-v0/Xy12/bin/sage-accounting-mcp"
    assert launcher(uv_cache) == ["uvx", "sage-accounting-mcp"], "uvx's cache is gone after the run: use uvx again"
    assert launcher(str(tmp_path / "sage_mcp" / "__main__.py")) == [sys.executable, "-m", "sage_mcp"]
    assert launcher(SAGE_MCP) == [SAGE_MCP], "an installed script by its absolute path (desktop apps lack PATH)"
