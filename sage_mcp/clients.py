"""Ready-to-paste configurations for MCP clients, each in the shape that client reads.

Claude Desktop and Cursor read ``mcpServers``; VS Code reads ``servers`` (in ``.vscode/mcp.json``);
Claude Code takes a command line (or ``mcpServers`` in ``.mcp.json``). Over HTTP every config carries
the bearer token header; a stdio config needs none (the client launches the process itself).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

DISTRIBUTION = "sage-accounting-mcp"

#: Client key -> (what to call it, where its config goes).
CLIENTS: dict[str, tuple[str, str]] = {
    "claude_code": ("Claude Code", "a command to run once"),
    "claude_desktop": ("Claude Desktop", "claude_desktop_config.json"),
    "vscode": ("VS Code", ".vscode/mcp.json"),
    "cursor": ("Cursor", "~/.cursor/mcp.json"),
    "http": ("Any streamable-HTTP client", "e.g. Claude Code's .mcp.json"),
}


def launcher(argv0: str | None = None) -> list[str]:
    """How another process starts this very program again: an absolute path (desktop clients do not
    read the shell's PATH), ``uvx sage-accounting-mcp`` when run by uvx from its throwaway cache, or
    ``python -m sage_mcp``."""
    arg = argv0 if argv0 is not None else sys.argv[0]
    path = Path(arg)
    if any(part.startswith("archive-v") for part in path.parts):  # uv's cache: gone after the run
        return ["uvx", DISTRIBUTION]
    if path.name == "__main__.py":
        return [sys.executable, "-m", "sage_mcp"]
    found = shutil.which(arg) if not path.is_absolute() else arg
    return [str(Path(found).absolute()) if found else str(path.absolute())]


def shell_line(words: list[str]) -> str:
    """``words`` quoted for this platform's usual shell (POSIX sh; on Windows, the C runtime's rules)."""
    if os.name == "nt":
        import subprocess

        return subprocess.list2cmdline(words)
    return shlex.join(words)


def http_configs(url: str, authorization: str | None, name: str) -> dict[str, Any]:
    """Configs for a streamable-HTTP server at ``url``; ``authorization`` is the header's value."""
    headers = {"Authorization": authorization} if authorization else {}
    entry: dict[str, Any] = {"type": "http", "url": url}
    cursor: dict[str, Any] = {"url": url}
    if headers:
        entry["headers"] = dict(headers)
        cursor["headers"] = dict(headers)
    claude = ["claude", "mcp", "add", "--transport", "http", name, url]
    if authorization:
        claude += ["--header", f"Authorization: {authorization}"]
    return {
        "claude_code": shell_line(claude),
        "vscode": {"servers": {name: dict(entry)}},
        "cursor": {"mcpServers": {name: cursor}},
        "http": {"mcpServers": {name: dict(entry)}},
    }


def stdio_configs(command: list[str], args: list[str], name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Configs for a client that launches ``command + args`` and speaks MCP on its stdio."""
    entry: dict[str, Any] = {"command": command[0], "args": [*command[1:], *args]}
    if env:
        entry["env"] = dict(env)
    vscode: dict[str, Any] = {"type": "stdio", **entry}
    claude = ["claude", "mcp", "add", name]
    for key, value in (env or {}).items():
        claude += ["--env", f"{key}={value}"]
    claude += ["--", *command, *args]
    return {
        "claude_code": shell_line(claude),
        "claude_desktop": {"mcpServers": {name: dict(entry)}},
        "vscode": {"servers": {name: vscode}},
        "cursor": {"mcpServers": {name: dict(entry)}},
    }
