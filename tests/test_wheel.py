"""The built wheel carries the tool schemas and the spec, and works installed outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from sage_mcp.registry import Registry

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_lists_tools(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("sage_mcp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sage_mcp/tool_schemas/_toolsets.json" in names
    assert "sage_mcp/tool_schemas/invoices/create_invoice.json" in names
    assert "sage_mcp/sage/openapi/sage-accounting-v3.1.openapi.json" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    # Dependencies come from the test environment (offline); its .pth files (the editable install of
    # this repository) are deliberately not processed, so only the wheel provides sage_mcp.
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    where = subprocess.run(
        [str(py), "-c", "import sage_mcp; print(sage_mcp.__file__)"],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(venv)), where
    listed = subprocess.run(
        [str(venv / "bin" / "sage-mcp"), "tools"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    expected = len(Registry.build().tools)
    assert "create_invoice" in listed.stdout and f"{expected} tools" in listed.stdout
