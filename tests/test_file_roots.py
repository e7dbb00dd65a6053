"""Where the allowed folders come from: SAGE_MCP_FILE_ROOTS (os.pathsep or commas, ~ expanded) and the
client's roots (file:// URIs on this machine only); and the call deadline's setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from sage_mcp.config import Settings
from sage_mcp.tools._files import FileAccess, root_path


def test_file_roots_and_call_timeout_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b c"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SAGE_MCP_FILE_ROOTS", f"{a}{os.pathsep}{b} , ~/receipts,,")
    monkeypatch.setenv("SAGE_MCP_CALL_TIMEOUT", "12.5")
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.file_root_paths == [a, b, tmp_path / "receipts"]
    assert settings.call_timeout == 12.5
    monkeypatch.setenv("SAGE_MCP_CALL_TIMEOUT", "0")
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path / "data")


def test_defaults_allow_no_folder_and_give_a_call_a_minute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SAGE_MCP_FILE_ROOTS", raising=False)
    monkeypatch.delenv("SAGE_MCP_CALL_TIMEOUT", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert settings.file_root_paths == [] and settings.call_timeout == 60
    assert FileAccess.build(settings).roots == ()


def test_only_local_file_uris_are_roots(tmp_path: Path) -> None:
    assert root_path((tmp_path / "a b").as_uri()) == tmp_path / "a b"
    assert root_path("file://localhost/srv/books") == Path("/srv/books")
    for uri in ("https://example.com/books", "file://fileserver/share", "file:relative/x", "books", "file://", ""):
        assert root_path(uri) is None, uri


def test_relative_roots_are_ignored_and_symlinked_roots_resolved(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    settings = Settings(data_dir=tmp_path / "data", file_roots=f"relative/dir,{tmp_path / 'link'},{real}")
    assert FileAccess.build(settings).roots == (real.resolve(),)
