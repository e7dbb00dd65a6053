"""What users install: the wheel and sdist carry the catalogue, the spec, the licence and the changelog; `uvx
sage-accounting-mcp demo` (the README's no-clone path) runs from the built wheel in a throwaway location; the
Claude Desktop bundle validates, packs and starts with the command its manifest gives.

Installs are offline: the runtime dependencies come from `.tools/wheelhouse` (`make wheelhouse`, which
`make test` runs), never from the network.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sage_mcp import __version__
from sage_mcp.registry import Registry

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parent.parent
WHEELHOUSE = REPO / ".tools" / "wheelhouse"
MCPB = REPO / ".tools" / "mcpb" / "node_modules" / ".bin" / "mcpb"
UV = Path(sys.executable).parent / "uv"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return out


def _uv_env(tmp: Path) -> dict[str, str]:
    """uv with everything under ``tmp``, no user config, no Python downloads, offline."""
    assert (WHEELHOUSE / ".done").exists(), "no wheelhouse; run `make wheelhouse` (make test does)"
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp / "home"),
        "UV_CACHE_DIR": str(tmp / "uv-cache"),
        "UV_TOOL_DIR": str(tmp / "uv-tools"),
        "UV_TOOL_BIN_DIR": str(tmp / "uv-bin"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_CONFIG": "1",
        "UV_OFFLINE": "1",
        "UV_NO_INDEX": "1",
        "UV_FIND_LINKS": str(WHEELHOUSE),
        "UV_PYTHON": sys.executable,  # the interpreter the wheelhouse was downloaded for
        "XDG_DATA_HOME": str(tmp / "data"),
    }


def test_wheel_and_sdist_carry_catalogue_spec_licence_and_changelog(dist: Path) -> None:
    assert PYPROJECT["project"]["name"] == "sage-accounting-mcp"
    (wheel,) = dist.glob("sage_accounting_mcp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sage_mcp/tool_schemas/_toolsets.json" in names
    assert "sage_mcp/tool_schemas/invoices/create_invoice.json" in names
    assert "sage_mcp/sage/openapi/sage-accounting-v3.1.openapi.json" in names
    assert "sage_mcp/py.typed" in names
    assert any(re.fullmatch(r"sage_accounting_mcp-[^/]+\.dist-info/licenses/LICENSE", n) for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta and "Project-URL: Changelog," in meta
    assert f"\nVersion: {__version__}\n" in meta  # the build reads the version from sage_mcp/__init__.py
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "sage-accounting-mcp = sage_mcp.cli:main" in entry_points and "sage-mcp = sage_mcp.cli:main" in entry_points
    (sdist,) = dist.glob("sage_accounting_mcp-*.tar.gz")
    with tarfile.open(sdist) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "server.json", "mcpb/manifest.json"} <= members


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def uvx_demo(dist: Path, tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """`uvx sage-accounting-mcp demo`, the package taken from the built wheel; yields its output file."""
    (wheel,) = dist.glob("sage_accounting_mcp-*.whl")
    env = _uv_env(tmp_path)
    port = _free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(UV), "tool", "run", "--from", str(wheel), "sage-accounting-mcp", "demo", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the demo did not start: " + log_path.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    if "Press Ctrl+C" in log_path.read_text():
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/mcp", log_path, env
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.mark.slow
async def test_uvx_runs_the_demo_from_the_wheel(uvx_demo: tuple[str, Path, dict[str, str]], tmp_path: Path) -> None:
    url, log_path, _ = uvx_demo
    output = log_path.read_text()
    assert f"sage-mcp {__version__} demo" in output and url in output
    token = re.search(r"Authorization: Bearer ([A-Za-z0-9_-]{32,})", output)
    assert token is not None
    # Run by uvx from its throwaway cache, the demo tells clients to start it the same way, not by that path.
    desktop = output.split("Claude Desktop (claude_desktop_config.json", 1)[1].split("\n", 1)[1].split("\n\n")[0]
    assert json.loads(desktop)["mcpServers"]["sage-demo"] == {
        "command": "uvx",
        "args": ["sage-accounting-mcp", "demo", "--stdio"],
    }
    lines = output.splitlines()
    tried = shlex.split(lines[next(i for i, x in enumerate(lines) if x.startswith("Try it without")) + 1])
    assert tried[:4] == ["uvx", "sage-accounting-mcp", "call", "--sandbox"]
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token.group(1)}"}, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        names = {t.name for t in (await client.list_tools()).tools}
        assert names == set(Registry.build().tools)
        contacts = await client.call_tool("list_contacts", {"search": "bright"})
        assert "Brightwater Consulting Ltd" in [c["name"] for c in contacts.structured_content["items"]]


def _stage_bundle(dest: Path) -> Path:
    """The bundle's folder as `make bundle` lays it out."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, dest / name)
    shutil.copy(REPO / "mcpb" / "manifest.json", dest / "manifest.json")
    for folder in ("sage_mcp", "tool_schemas"):
        shutil.copytree(REPO / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_bundle_manifest_matches_the_package_and_validates() -> None:
    assert MCPB.exists(), "the MCPB CLI is not installed; `make mcpb` (make test does) installs it into .tools/mcpb"
    manifest = json.loads((REPO / "mcpb" / "manifest.json").read_text())
    server = json.loads((REPO / "server.json").read_text())
    assert manifest["version"] == __version__ == server["version"]
    assert manifest["name"] == PYPROJECT["project"]["name"] == server["packages"][0]["identifier"]
    assert manifest["license"] == PYPROJECT["project"]["license"]
    config = manifest["user_config"]
    assert config["client_secret"]["sensitive"] and config["client_id"]["required"]
    env = manifest["server"]["mcp_config"]["env"]
    assert env == {
        "SAGE_CLIENT_ID": "${user_config.client_id}",
        "SAGE_CLIENT_SECRET": "${user_config.client_secret}",
        "SAGE_MCP_TOOLSETS": "${user_config.toolsets}",
        "SAGE_MCP_READ_ONLY": "${user_config.read_only}",
    }
    checked = subprocess.run(
        [str(MCPB), "validate", str(REPO / "mcpb" / "manifest.json")], capture_output=True, text=True
    )
    assert checked.returncode == 0 and "validation passes" in checked.stdout, checked.stdout + checked.stderr


@pytest.mark.slow
def test_bundle_packs_and_starts_with_its_manifest_command(tmp_path: Path) -> None:
    staged = _stage_bundle(tmp_path / "bundle")
    packed = tmp_path / "sage-accounting-mcp.mcpb"
    out = subprocess.run([str(MCPB), "pack", str(staged), str(packed)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(packed).extractall(unpacked)
    assert (unpacked / "manifest.json").exists() and (unpacked / "sage_mcp" / "server.py").exists()
    mcp_config = json.loads((unpacked / "manifest.json").read_text())["server"]["mcp_config"]
    # The manifest's command, as Claude Desktop runs it, with `tools` in place of `serve` so it prints and exits.
    args = [a.replace("${__dirname}", str(unpacked)) for a in mcp_config["args"]]
    assert args[-1] == "serve"
    env = _uv_env(tmp_path) | {"SAGE_MCP_TOOLSETS": "all", "SAGE_MCP_READ_ONLY": "true"}
    listed = subprocess.run(
        [str(UV), *args[:-1], "tools"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert listed.returncode == 0, listed.stderr
    expected = len(Registry.build("all", read_only=True).tools)
    assert f"{expected} tools;" in listed.stdout and "(read-only)" in listed.stdout
