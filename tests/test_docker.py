"""The Dockerfile's essentials, read statically (CI machines may have no Docker): the HTTP server as an
unprivileged user, the data folder a volume the settings point at, and only what the package needs copied."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _instructions() -> list[tuple[str, str]]:
    lines = (REPO / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip() if " " in line.strip() else "")
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_dockerfile_runs_the_http_server_as_a_user_with_the_data_folder_on_a_volume() -> None:
    steps = _instructions()
    kinds = [k for k, _ in steps]
    user = [v for k, v in steps if k == "USER"]
    assert user and user[-1] not in ("root", "0"), "the server must not run as root"
    assert kinds.index("USER") > max(i for i, k in enumerate(kinds) if k == "RUN"), "no RUN after dropping root"
    volume = next(v for k, v in steps if k == "VOLUME")
    env = " ".join(v for k, v in steps if k == "ENV")
    assert '"/data"' in volume and "SAGE_DATA_DIR=/data" in env
    assert any(k == "RUN" and "chown sage:sage /data" in v for k, v in steps), "the volume belongs to the user"
    entry = next(v for k, v in steps if k == "ENTRYPOINT")
    cmd = next(v for k, v in steps if k == "CMD")
    assert entry == '["sage-accounting-mcp"]'
    args = shlex.split(cmd.strip("[]").replace('", "', " ").replace('"', ""))
    assert args[:3] == ["serve", "--transport", "http"] and "--unsafe-no-auth" not in args
    assert any(k == "EXPOSE" and v == args[args.index("--port") + 1] for k, v in steps)


def test_dockerfile_copies_what_the_build_needs_and_pins_it() -> None:
    steps = _instructions()
    copied = {word for k, v in steps if k == "COPY" for word in v.split()[:-1]}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert {"pyproject.toml", "constraints.txt", project["readme"], *project["license-files"]} <= copied
    assert {"sage_mcp", "tool_schemas"} <= copied
    assert any(k == "RUN" and "pip install -c constraints.txt ." in v for k, v in steps)
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".tools", ".git"} <= set(ignored), "the image never carries local environments or history"
