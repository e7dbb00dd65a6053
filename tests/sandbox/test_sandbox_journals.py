"""Journals and journal codes over real HTTP: balanced postings, refusals, delete and reissue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx2
from sandbox_support import TODAY, couldnt_find, error_of, items, sources

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SandboxServer
from sage_mcp.sandbox.ledger import trial_balance


def journal(codes: dict[int, str], *lines: tuple[int, str, str], **extra: Any) -> dict[str, Any]:
    return {
        "journal": {
            "date": TODAY.isoformat(),
            "reference": "JNL-TEST",
            "journal_lines": [
                {"ledger_account_id": codes[code], "debit": debit, "credit": credit} for code, debit, credit in lines
            ],
            **extra,
        }
    }


def test_seeded_journals(wapi: httpx2.Client) -> None:
    journals = items(wapi, "/journals")
    references = sorted(j["reference"] for j in journals)
    assert "ACCRUAL ACCOUNTANCY" in references and sum(r.startswith("DEPN") for r in references) == 3
    for one in journals:
        debits = sum(Decimal(line["debit"]) for line in one["journal_lines"])
        assert debits == sum(Decimal(line["credit"]) for line in one["journal_lines"]) == Decimal(one["total"])
    deleted = items(wapi, "/journals", deleted_since="2000-01-01")
    assert sorted(j["reference"] for j in deleted) == ["ACCRUAL ACCOUNTANCY", "RECLASS ERROR"]


def test_balanced_journal_posts_its_lines(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    body = journal(
        codes,
        (7600, "250.0", "0"),
        (7500, "50.25", "0.0"),
        (2109, "0", "300.25"),
        description="Year-end accruals",
        total="300.25",
    )
    created = wapi.post("/journals", json=body)
    assert created.status_code == 201, created.text
    posted = created.json()
    assert posted["total"] == "300.25" and posted["transaction_type"]["id"] == "JOURNAL"
    assert [(line["debit"], line["credit"]) for line in posted["journal_lines"]] == [
        ("250.0", "0.0"),
        ("50.25", "0.0"),
        ("0.0", "300.25"),
    ]
    found = items(wapi, "/ledger_entries", transaction_id=posted["transaction"]["id"])
    by_account = {e["ledger_account"]["id"]: (e["debit"], e["credit"]) for e in found}
    assert by_account == {
        codes[7600]: ("250.0", "0.0"),
        codes[7500]: ("50.25", "0.0"),
        codes[2109]: ("0.0", "300.25"),
    }
    assert all(e["transaction"]["id"] == posted["transaction"]["id"] and not e["deleted"] for e in found)
    assert wapi.get(posted["$path"]).json() == posted
    assert wapi.put(posted["$path"], json={"journal": {"reference": "x"}}).status_code == 405


def test_unbalanced_and_malformed_journals_are_refused(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    unbalanced = wapi.post("/journals", json=journal(codes, (7600, "100.0", "0"), (2109, "0", "99.99")))
    assert unbalanced.status_code == 422
    assert error_of(unbalanced)["$source"] == "journal_lines"
    assert "100.0" in error_of(unbalanced)["$message"] and "99.99" in error_of(unbalanced)["$message"]
    both = wapi.post("/journals", json=journal(codes, (7600, "10.0", "10.0"), (2109, "0", "0")))
    assert sources(both) == {"journal_lines.credit", "journal_lines.debit"}
    one_line = wapi.post("/journals", json=journal(codes, (7600, "0", "0")))
    assert "journal_lines" in sources(one_line)
    missing = journal(codes, (7600, "10.0", "0"), (2109, "0", "10.0"))
    del missing["journal"]["journal_lines"][1]["credit"]
    del missing["journal"]["reference"]
    assert sources(wapi.post("/journals", json=missing)) == {"reference", "journal_lines.credit"}
    wrong_total = wapi.post("/journals", json=journal(codes, (7600, "10", "0"), (2109, "0", "10"), total="11"))
    assert sources(wrong_total) == {"total"}
    negative = wapi.post("/journals", json=journal(codes, (7600, "-10", "0"), (2109, "0", "-10")))
    assert sources(negative) == {"journal_lines.debit", "journal_lines.credit"}
    unknown = wapi.post(
        "/journals", json=journal({7600: "nope", 2109: codes[2109]}, (7600, "1", "0"), (2109, "0", "1"))
    )
    assert couldnt_find(unknown) == {"LedgerAccount"}


def test_delete_and_reissue(wapi: httpx2.Client, codes: dict[int, str], writable_server: SandboxServer) -> None:
    first = wapi.post("/journals", json=journal(codes, (8000, "75.0", "0"), (30, "0", "75.0"))).json()
    reissued = wapi.post(f"{first['$path']}/reissue")
    assert reissued.status_code == 201, reissued.text
    second = reissued.json()
    assert second["id"] != first["id"] and second["transaction"]["id"] != first["transaction"]["id"]
    assert [(x["debit"], x["credit"]) for x in second["journal_lines"]] == [("75.0", "0.0"), ("0.0", "75.0")]
    assert wapi.get(first["$path"]).status_code == 404
    old_entries = items(wapi, "/ledger_entries", transaction_id=first["transaction"]["id"])
    assert len(old_entries) == 4 and all(e["deleted"] for e in old_entries)
    assert wapi.get(first["transaction"]["$path"]).json()["deleted"] is True
    assert wapi.post(f"{first['$path']}/reissue").status_code == 404
    assert wapi.get(f"{second['$path']}/reissue").status_code == 405
    assert wapi.delete(second["$path"]).status_code == 204
    gone = {j["id"] for j in items(wapi, "/journals", deleted_since="2000-01-01")}
    assert {first["id"], second["id"]} <= gone
    ctx = writable_server.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    balances = trial_balance(ctx)
    assert sum(balances.values(), Decimal(0)) == 0


def test_journal_codes(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    types = items(wapi, "/journal_code_types")
    assert {t["id"] for t in types} >= {"SALES", "PURCHASES", "BANK", "OTHER"}
    body = {"journal_code": {"name": "Operations diverses", "code": "OD", "journal_code_type_id": "OTHER"}}
    created = wapi.post("/journal_codes", json=body)
    assert created.status_code == 201, created.text
    code = created.json()
    assert code["displayed_as"] == "OD - Operations diverses" and code["journal_code_type"]["id"] == "OTHER"
    assert sources(wapi.post("/journal_codes", json=body)) == {"code"}
    bad_type = {"journal_code": {"name": "X", "code": "X1", "journal_code_type_id": "MISC"}}
    assert sources(wapi.post("/journal_codes", json=bad_type)) == {"journal_code_type_id"}
    renamed = wapi.put(code["$path"], json={"journal_code": {"name": "Diverses"}})
    assert renamed.status_code == 200 and renamed.json()["displayed_as"] == "OD - Diverses"
    used = wapi.post(
        "/journals", json=journal(codes, (7600, "5", "0"), (2109, "0", "5"), journal_code={"code": "OD"})
    ).json()
    assert used["journal_code"]["id"] == code["id"]
    refused = wapi.delete(code["$path"])
    assert refused.status_code == 422 and error_of(refused)["$source"] == "base"
    unknown = wapi.post(
        "/journals", json=journal(codes, (7600, "5", "0"), (2109, "0", "5"), journal_code={"code": "ZZ"})
    )
    assert couldnt_find(unknown) == {"JournalCode"}
    spare = wapi.post(
        "/journal_codes", json={"journal_code": {"name": "Spare", "code": "SP", "journal_code_type_id": "BANK"}}
    )
    assert wapi.delete(spare.json()["$path"]).status_code == 204
