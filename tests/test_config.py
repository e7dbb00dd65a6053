"""Settings come from what is passed, then the environment, then the defaults, and a value that does not
parse is refused naming the variable to fix."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from sage_mcp.config import Settings, variable_for

VARIABLES = ("SAGE_CLIENT_ID", "SAGE_TIMEOUT", "SAGE_MCP_TOOLSETS", "SAGE_MCP_READ_ONLY", "SAGE_MCP_CONFIRM_ABOVE")


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGE_DATA_DIR", str(tmp_path))


def test_values_come_from_the_sage_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SAGE_CLIENT_ID", "app-1")
    monkeypatch.setenv("SAGE_TIMEOUT", "12.5")
    monkeypatch.setenv("SAGE_MCP_TOOLSETS", "default,reports")
    monkeypatch.setenv("SAGE_MCP_READ_ONLY", "true")
    monkeypatch.setenv("SAGE_MCP_CONFIRM_ABOVE", "250.00")
    s = Settings()
    assert (s.client_id, s.timeout, s.toolsets, s.read_only) == ("app-1", 12.5, "default,reports", True)
    assert s.confirm_above == Decimal("250.00")
    assert s.data_dir == tmp_path and s.token_store_path == tmp_path / "tokens.json"


def test_names_are_matched_ignoring_case_as_windows_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("sage_client_id", "lower")
    monkeypatch.setenv("Sage_Mcp_Toolsets", "all")
    s = Settings()
    assert (s.client_id, s.toolsets) == ("lower", "all")


def test_a_value_passed_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGE_CLIENT_ID", "from-env")
    monkeypatch.setenv("SAGE_MCP_TOOLSETS", "all")
    assert Settings(client_id="flag", toolsets="reports").client_id == "flag"
    assert Settings(toolsets="reports").toolsets == "reports"
    # the variable's own name may be passed too
    assert Settings(SAGE_MCP_TOOLSETS="banking").toolsets == "banking"


def test_unset_and_blank_fall_back_to_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGE_MCP_CONFIRM_ABOVE", "  ")
    s = Settings()
    assert s.confirm_above is None and s.toolsets == "default" and s.read_only is False and s.timeout == 30.0
    assert s.api_base_url == "https://api.accounting.sage.com/v3.1"


def test_a_value_that_does_not_parse_is_refused_naming_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGE_MCP_READ_ONLY", "perhaps")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert [variable_for(str(e["loc"][0])) for e in caught.value.errors()] == ["SAGE_MCP_READ_ONLY"]
    assert variable_for("timeout") == "SAGE_TIMEOUT" and variable_for("report_concurrency") == (
        "SAGE_MCP_REPORT_CONCURRENCY"
    )
