"""How a replayed call's writes find the records the original call wrote."""

from __future__ import annotations

import pytest

from sage_mcp.sage.writeplan import Replay, ReplayUnavailable, record_path


def test_record_paths_of_writes() -> None:
    assert record_path("POST", "/sales_invoices", {"id": "abc"}) == "/sales_invoices/abc"
    assert record_path("PUT", "/contacts/c1?x=1", {"id": "c1"}) == "/contacts/c1"
    assert record_path("POST", "/sales_invoices/i1/release", {"id": "i1"}) == "/sales_invoices/i1"
    assert record_path("POST", "/journals/j1/reissue", {"id": "j2"}) == "/journals/j2"
    assert record_path("POST", "/attachments", None) is None


def test_a_replay_reads_the_record_of_the_same_collection_even_when_a_step_is_skipped() -> None:
    replay = Replay(["/contacts/c1", "/sales_invoices/i1", "/contact_payments/p1"])
    # This time the contact is found, not created: the invoice and the payment still read their own records.
    assert replay.next_path("POST", "/sales_invoices") == "/sales_invoices/i1"
    assert replay.next_path("POST", "/contact_payments") == "/contact_payments/p1"
    with pytest.raises(ReplayUnavailable):
        replay.next_path("POST", "/sales_invoices")  # the original wrote only one invoice


def test_a_write_naming_a_record_reads_that_record() -> None:
    replay = Replay(["/contacts/a", "/contacts/b"])
    assert replay.next_path("PUT", "/contacts/b") == "/contacts/b"
    assert replay.next_path("PUT", "/contacts/a") == "/contacts/a"
    with pytest.raises(ReplayUnavailable):
        Replay([None]).next_path("POST", "/attachments")
