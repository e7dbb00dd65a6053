"""Where the idempotency_id goes: inside the single root object of a body Sage honours it for, nowhere else."""

from __future__ import annotations

import pytest

from sage_mcp.sage.idempotency import (
    IDEMPOTENCY_ID,
    IDEMPOTENT_ROOT_KEYS,
    supports_idempotency,
    with_idempotency_id,
)

KEY = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("root", sorted(IDEMPOTENT_ROOT_KEYS))
def test_every_resource_sage_honours_gets_the_id_inside_its_root_object(root: str) -> None:
    body = {root: {"reference": "INV-1"}}
    assert with_idempotency_id(body, KEY) == {root: {"reference": "INV-1", "idempotency_id": KEY}}
    assert body == {root: {"reference": "INV-1"}}, "the caller's body is not changed in place"


def test_sage_lists_thirty_seven_idempotent_resources() -> None:
    assert len(IDEMPOTENT_ROOT_KEYS) == 37
    assert {"sales_invoice", "contact_payment", "journal", "contact"} <= IDEMPOTENT_ROOT_KEYS


@pytest.mark.parametrize(
    "body",
    [
        {"attachment": {"file": "x"}},  # not one of Sage's 37: the id would be ignored there
        {"sales_invoice": ["not", "an", "object"]},
        {"sales_invoice": {"reference": "a"}, "contact": {"name": "b"}},  # two roots: no single place for it
        {},
    ],
)
def test_bodies_sage_would_not_deduplicate_are_left_alone(body: dict[str, object]) -> None:
    assert with_idempotency_id(body, KEY) is body


def test_a_caller_supplied_id_is_replaced_by_the_one_given() -> None:
    body = {"contact": {"name": "A", "idempotency_id": "f" * 32}}
    assert with_idempotency_id(body, KEY)["contact"]["idempotency_id"] == KEY


@pytest.mark.parametrize(("root", "expected"), [("sales_invoice", True), ("attachment", False), (None, False)])
def test_support_is_by_root_key(root: str | None, expected: bool) -> None:
    assert supports_idempotency(root) is expected


@pytest.mark.parametrize(("value", "ok"), [(KEY, True), (KEY.upper(), False), (KEY[:-1], False), (KEY + "0", False)])
def test_an_idempotency_id_is_32_lower_case_hex_digits(value: str, ok: bool) -> None:
    assert bool(IDEMPOTENCY_ID.match(value)) is ok
