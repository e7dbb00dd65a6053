"""JSON Schemas of what each MCP client reads from its configuration file, for the configs we print and document.

VS Code reads `servers` (an `mcpServers` block is ignored there) with `type` "stdio" or "http"; Cursor, Claude
Desktop and Claude Code's `.mcp.json` read `mcpServers`; Claude Desktop's file launches processes only (stdio).
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

#: A real bearer token (what the demo prints) or a documented placeholder.
REAL_TOKEN = r"^Bearer [A-Za-z0-9_-]{32,}$"
PLACEHOLDER = r"^Bearer <token>$"


def _headers(token: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"Authorization": {"type": "string", "pattern": token}},
        "required": ["Authorization"],
        "additionalProperties": False,
    }


def _http(token: str, *, with_type: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"url": {"type": "string", "format": "uri"}, "headers": _headers(token)}
    if with_type:
        props["type"] = {"const": "http"}
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def _stdio(*, with_type: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "command": {"type": "string", "minLength": 1},
        "args": {"type": "array", "items": {"type": "string"}},
        "env": {"type": "object", "additionalProperties": {"type": "string"}},
    }
    required = ["command", "args"]
    if with_type:
        props["type"] = {"const": "stdio"}
        required.append("type")
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def _servers(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": "object", "additionalProperties": entry, "minProperties": 1}},
        "required": [key],
        "additionalProperties": False,
    }


def shapes(token: str) -> dict[str, dict[str, Any]]:
    """Client -> schema of its config file; HTTP entries carry ``Authorization`` matching ``token``."""
    return {
        "claude_desktop": _servers("mcpServers", _stdio(with_type=False)),
        "vscode": _servers("servers", {"oneOf": [_http(token, with_type=True), _stdio(with_type=True)]}),
        "cursor": _servers("mcpServers", {"oneOf": [_http(token, with_type=False), _stdio(with_type=False)]}),
        "http": _servers("mcpServers", _http(token, with_type=True)),
    }


def problems(config: Any, schema: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(config)]
