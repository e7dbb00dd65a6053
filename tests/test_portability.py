"""Windows has no ``fcntl`` (nor ``termios``, ``pwd``, ``grp``, ``resource``): no import path may need them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

POSIX_ONLY = ("fcntl", "termios", "pwd", "grp", "resource")
#: Modules that import one of them behind a ``sys.platform`` check (so not on Windows).
PLATFORM_GUARDED = ("mcp.server.stdio",)

# Runs in a fresh interpreter: a meta-path finder first in line refuses the POSIX-only modules, as
# importing them fails on Windows; then every module of sage_mcp is imported and the CLI's help printed.
CHILD = f"""
import importlib, pkgutil, sys

BLOCKED = {POSIX_ONLY!r}
PRELOAD = {PLATFORM_GUARDED!r}

class RefusePosixOnly:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (refused: not on Windows)", name=name)
        return None

# Libraries that import them only off Windows (`if sys.platform != "win32"`) are loaded first, as
# they would be there; any other import of them, ours or a library's, is refused.
for name in PRELOAD:
    importlib.import_module(name)
for name in BLOCKED:
    sys.modules.pop(name, None)
sys.meta_path.insert(0, RefusePosixOnly())

import sage_mcp
names = ["sage_mcp"] + [
    m.name for m in pkgutil.walk_packages(sage_mcp.__path__, "sage_mcp.") if not m.name.endswith(".__main__")
]  # __main__ runs the CLI; its one import (sage_mcp.cli) is covered
for name in names:
    importlib.import_module(name)
leaked = sorted(set(BLOCKED) & set(sys.modules))
assert not leaked, leaked
print(len(names), "modules")
from sage_mcp.cli import main
try:
    main(["--help"])
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""


def test_every_module_and_the_cli_help_import_without_posix_only_modules() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    count = int(out.stdout.split(" modules")[0].split()[-1])
    assert count >= len(list(REPO.glob("sage_mcp/**/*.py"))) - 1, out.stdout  # all but __main__
    assert "usage: sage-mcp" in out.stdout


def test_the_refusal_itself_works() -> None:
    """The finder really refuses: importing fcntl under it fails (so the test above could fail)."""
    probe = CHILD.split("import sage_mcp")[0] + "import fcntl\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "refused: not on Windows" in out.stderr


# Starts the stdio server's machinery in a fresh interpreter, lists the tools through a client, then reports
# which of the libraries that only a tool call needs were loaded on the way.
LEAN_START = """
import sys, anyio
from mcp import Client
from sage_mcp.cli import build_parser
from sage_mcp.config import Settings
from sage_mcp.server import create_server

async def main():
    async with Client(create_server(Settings(data_dir=sys.argv[1]))) as client:
        tools = (await client.list_tools()).tools
    print(len(tools), sorted(m for m in ("authlib", "jsonschema", "filelock") if m in sys.modules))

anyio.run(main)
"""


def test_listing_tools_loads_neither_oauth_nor_schema_validation(tmp_path: Path) -> None:
    """What `serve` needs to answer tools/list: not authlib, jsonschema or filelock (each is loaded by the first
    call that needs it, as is the Sage HTTP client with its TLS context), so the server answers sooner."""
    out = subprocess.run(
        [sys.executable, "-c", LEAN_START, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    count, loaded = out.stdout.split(" ", 1)
    assert int(count) > 10
    assert loaded.strip() == "[]", f"loaded before any tool call: {loaded.strip()}"
