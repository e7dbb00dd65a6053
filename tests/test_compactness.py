"""Compact output: list_invoices returns at most a fifth of the bytes of Sage's attributes=all page."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.anyio
BENCH = Path(__file__).resolve().parent.parent / "bench" / "output_compactness.py"


async def test_100_invoices_cost_at_most_a_fifth_of_sages_bytes() -> None:
    spec = importlib.util.spec_from_file_location("output_compactness", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = await module.measure(100)
    assert result["structured_ratio"] <= 0.2
    assert result["text_ratio"] <= 0.2
