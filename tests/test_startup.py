"""Start-up loads what listing needs and no more: the dispatcher and Sage client, a toolset's handler
module, prompts, resources, authlib and jsonschema load when first used, pydantic-settings not at all,
so ``serve`` answers tools/list sooner (``bench/overhead.py`` measures how much)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# A fresh interpreter builds the server as `serve` does, lists tools, prompts and resources templates
# through an in-memory client, and reports which modules were loaded before and after one tool call.
CHILD = """
import asyncio, json, os, sys
from mcp import Client
from sage_mcp.config import Settings
from sage_mcp.server import create_server

def loaded(prefixes):
    return sorted(m for m in sys.modules if m.split(".")[0] in prefixes or m.startswith(prefixes))

WATCH = ("sage_mcp.", "authlib", "jsonschema", "tomllib", "pydantic_settings", "dotenv")

async def main():
    out = {}
    async with Client(create_server(Settings(data_dir=sys.argv[1], client_id="x", client_secret="y"))) as client:
        tools = await client.list_tools()
        out["tools"] = len(tools.tools)
        out["after_list"] = loaded(WATCH)
        result = await client.call_tool("find_sage_endpoint", {"query": "stock movements"})
        out["found"] = not result.is_error
        out["after_call"] = loaded(WATCH)
        out["prompts"] = len((await client.list_prompts()).prompts)
    print(json.dumps(out))

asyncio.run(main())
"""


def test_listing_tools_loads_no_handler_module_and_a_call_loads_its_own(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["tools"] >= 30
    # no toolset's module, no report code
    loaded = out["after_list"]
    assert [m for m in loaded if m.startswith("sage_mcp.tools.") and not m.startswith("sage_mcp.tools._")] == []
    assert not [m for m in loaded if m.startswith(("sage_mcp.reports", "authlib", "jsonschema", "tomllib"))]
    # nor what only calls need: the dispatcher, the Sage client, the write guard, prompts, resources
    for module in ("sage_mcp.dispatch", "sage_mcp.sage.client", "sage_mcp.safety.guard", "sage_mcp.prompts"):
        assert module not in loaded, module
    assert "sage_mcp.resources" not in loaded and "sage_mcp.completion" not in loaded
    # settings are read without pydantic-settings (and its dotenv), which only hosted mode loads
    assert not [m for m in out["after_call"] if m.startswith(("pydantic_settings", "dotenv"))]
    # the call (answered from the shipped spec, no Sage needed) loaded its own toolset's module only
    assert out["found"]
    assert "sage_mcp.tools.api" in out["after_call"]
    assert "sage_mcp.tools.invoices" not in out["after_call"]
    assert any(m.startswith("jsonschema") for m in out["after_call"])
    assert "sage_mcp.dispatch" in out["after_call"] and "sage_mcp.sage.client" in out["after_call"]
    assert out["prompts"] >= 4
