"""Helpers shared by test modules."""

from __future__ import annotations

import os

from sage_mcp.config import Settings


def server_env(settings: Settings) -> dict[str, str]:
    """Environment that points a `sage-mcp` child process at the test sandbox and its login."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SAGE_CLIENT_ID": settings.client_id,
        "SAGE_CLIENT_SECRET": settings.client_secret.get_secret_value(),
        "SAGE_API_BASE_URL": settings.api_base_url,
        "SAGE_TOKEN_URL": settings.token_url,
        "SAGE_REVOKE_URL": settings.revoke_url,
        "SAGE_DATA_DIR": str(settings.data_dir),
        "PYTHONUNBUFFERED": "1",
        **({"SAGE_MCP_NO_CONFIRM": "1"} if settings.no_confirm else {}),
    }
