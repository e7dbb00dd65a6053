"""What every tool shares: which business a call acts on, the idempotency id a write carries, the small
projections of Sage records, and the fuzzy matching behind find_contact and find_ledger_account."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from sage_mcp.config import Settings
from sage_mcp.sage.errors import NotSignedInError
from sage_mcp.sage.pagination import Page
from sage_mcp.tools._base import (
    MAX_MATCHES,
    BusinessScope,
    ToolContext,
    ToolError,
    amount,
    best_matches,
    business_label,
    compact,
    group_arguments,
    idempotency_id,
    link_id,
    link_name,
    list_result,
    paging_params,
    rank,
    resolve_business,
    resolve_businesses,
    similarity,
    words,
)

LEAD = {"id": "b-lead", "name": "Lead Ltd"}
OTHER = {"id": "b-other", "displayed_as": "Other Co"}
THIRD = {"id": "b-third"}


@dataclass
class FakeLogin:
    business_id: str | None


@dataclass
class FakeTokens:
    pinned: str | None = None
    signed_in: bool = True

    async def login(self) -> FakeLogin:
        if not self.signed_in:
            raise NotSignedInError("no login")
        return FakeLogin(self.pinned)


@dataclass
class FakeSage:
    businesses: list[dict[str, Any]]
    lead: str = "b-lead"
    tokens: FakeTokens = field(default_factory=FakeTokens)

    async def list_businesses(self) -> list[dict[str, Any]]:
        return self.businesses

    async def lead_business_id(self) -> str:
        return self.lead

    def for_business(self, business_id: str) -> str:
        return f"client-for-{business_id}"


def resolve(sage: FakeSage, requested: str | None = None, *, writes: bool = False, pin: str | None = None) -> Any:
    settings = Settings(business_id=pin)
    return asyncio.run(resolve_business(sage, settings, requested, writes=writes))  # type: ignore[arg-type]


# -- which business ------------------------------------------------------------------------------------------


def test_the_named_business_is_used_with_its_own_client() -> None:
    scope = resolve(FakeSage([LEAD, OTHER]), "b-other", writes=True)
    assert scope == BusinessScope("client-for-b-other", "b-other", "Other Co", None)  # type: ignore[arg-type]
    assert scope.describe() == {"id": "b-other", "name": "Other Co"}


def test_a_business_the_login_cannot_reach_is_refused_listing_those_it_can() -> None:
    with pytest.raises(ToolError) as refused:
        resolve(FakeSage([LEAD, OTHER]), "b-nope")
    assert str(refused.value) == (
        "business_id 'b-nope' is not one of the businesses this Sage login can access. "
        "Available: b-lead (Lead Ltd); b-other (Other Co). Call list_businesses to see them."
    )


def test_the_configured_pin_comes_before_the_login_pin_and_both_before_guessing() -> None:
    sage = FakeSage([LEAD, OTHER], tokens=FakeTokens(pinned="b-lead"))
    assert resolve(sage, writes=True, pin="b-other").id == "b-other"
    assert resolve(sage, writes=True).id == "b-lead"
    assert resolve(sage, writes=True).notice is None


def test_a_pin_that_is_no_longer_reachable_is_refused_saying_how_to_fix_it() -> None:
    with pytest.raises(ToolError) as refused:
        resolve(FakeSage([LEAD]), pin="b-gone")
    assert str(refused.value) == (
        "the pinned business 'b-gone' is no longer accessible with this Sage login. Available: b-lead (Lead Ltd). "
        "Pass business_id, or pin another with `sage-mcp auth login --business ID` / SAGE_BUSINESS_ID."
    )


def test_the_only_business_is_used_without_a_pin_or_a_notice_even_when_not_signed_in_yet() -> None:
    scope = resolve(FakeSage([OTHER], tokens=FakeTokens(signed_in=False)), writes=True)
    assert (scope.id, scope.name, scope.notice) == ("b-other", "Other Co", None)


def test_no_business_at_all_is_an_error() -> None:
    with pytest.raises(ToolError, match=r"^this Sage login has no businesses$"):
        resolve(FakeSage([]))
    with pytest.raises(ToolError, match=r"Available: none\. Call list_businesses"):
        resolve(FakeSage([]), "b-lead")


def test_a_business_is_called_by_its_name_before_its_displayed_as() -> None:
    both = {"id": "b-both", "name": "Both Ltd", "displayed_as": "Both Ltd (UK)"}
    assert resolve(FakeSage([both]), "b-both").name == "Both Ltd"
    ctx = _context(FakeSage([LEAD, both]), BusinessScope("c", "b-lead", "Lead Ltd"))  # type: ignore[arg-type]
    assert [s.name for s in asyncio.run(resolve_businesses(ctx, ["b-both"]))] == ["Both Ltd"]
    empty = _context(FakeSage([]), BusinessScope("c", "b-lead", "Lead Ltd"))  # type: ignore[arg-type]
    with pytest.raises(ToolError, match=r"^b-x is not a business of this Sage login\. Available: none\.$"):
        asyncio.run(resolve_businesses(empty, ["b-x"]))


def test_with_several_businesses_and_no_pin_a_write_refuses_and_lists_them() -> None:
    with pytest.raises(ToolError) as refused:
        resolve(FakeSage([LEAD, OTHER, THIRD]), writes=True)
    assert str(refused.value) == (
        "this Sage login can access several businesses and none is pinned, so a write needs an explicit "
        "business_id. Available: b-lead (Lead Ltd); b-other (Other Co); b-third (unnamed)."
    )


def test_with_several_businesses_and_no_pin_a_read_uses_the_lead_and_says_so() -> None:
    scope = resolve(FakeSage([OTHER, LEAD, THIRD]))
    assert (scope.id, scope.client) == ("b-lead", "client-for-b-lead")
    assert scope.notice == (
        "No business_id given: used the lead business b-lead (Lead Ltd). Others: b-other (Other Co); b-third (unnamed)."
    )


def test_a_lead_business_missing_from_the_list_is_an_error_not_a_guess() -> None:
    with pytest.raises(ToolError) as refused:
        resolve(FakeSage([LEAD, OTHER], lead="b-ghost"))
    assert str(refused.value) == (
        "Sage's lead business 'b-ghost' is not in the business list. Available: b-lead (Lead Ltd); b-other (Other Co)."
    )


def test_a_business_label_falls_back_from_name_to_displayed_as_to_unnamed() -> None:
    assert [business_label(b) for b in (LEAD, OTHER, THIRD)] == [
        "b-lead (Lead Ltd)",
        "b-other (Other Co)",
        "b-third (unnamed)",
    ]


def _context(sage: FakeSage, scope: BusinessScope | None = None, tool: str = "create_sales_invoice") -> ToolContext:
    return ToolContext(sage=sage, settings=Settings(), tool_name=tool, writes=True, scope=scope)  # type: ignore[arg-type]


def test_a_group_report_names_every_business_once_in_the_order_asked() -> None:
    own = BusinessScope("own-client", "b-lead", "Lead Ltd", "used the lead business")  # type: ignore[arg-type]
    ctx = _context(FakeSage([LEAD, OTHER, THIRD]), own)
    scopes = asyncio.run(resolve_businesses(ctx, ["b-other", "b-lead", "b-other"]))
    assert [(s.id, s.name, s.client) for s in scopes] == [
        ("b-other", "Other Co", "client-for-b-other"),
        ("b-lead", "Lead Ltd", "own-client"),
    ]
    assert ctx.scope is scopes[1] and ctx.scope.notice is None, "the lead-business notice is dropped"


def test_all_means_every_business_of_the_login_and_nothing_means_the_calls_own() -> None:
    own = BusinessScope("own-client", "b-lead", "Lead Ltd")  # type: ignore[arg-type]
    ctx = _context(FakeSage([LEAD, OTHER, THIRD]), own)
    assert [s.id for s in asyncio.run(resolve_businesses(ctx, ["all"]))] == ["b-lead", "b-other", "b-third"]
    assert [s.name for s in asyncio.run(resolve_businesses(ctx, ["b-third"]))] == [""]
    assert asyncio.run(resolve_businesses(ctx, [])) == [own]


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        (["b-x"], "b-x is not a business of this Sage login. Available: b-lead (Lead Ltd); b-other (Other Co)."),
        (
            ["b-x", "b-lead", "b-y"],
            "b-x, b-y are not businesses of this Sage login. Available: b-lead (Lead Ltd); b-other (Other Co).",
        ),
    ],
)
def test_unknown_businesses_in_a_group_are_named(wanted: list[str], message: str) -> None:
    ctx = _context(FakeSage([LEAD, OTHER]), BusinessScope("c", "b-lead", "Lead Ltd"))  # type: ignore[arg-type]
    with pytest.raises(ToolError) as refused:
        asyncio.run(resolve_businesses(ctx, wanted))
    assert str(refused.value) == message


def test_a_tool_without_a_business_says_so() -> None:
    ctx = _context(FakeSage([LEAD]), tool="list_businesses")
    with pytest.raises(RuntimeError, match=r"^list_businesses is not business-scoped$"):
        _ = ctx.business
    with pytest.raises(RuntimeError, match=r"^list_businesses is not business-scoped$"):
        asyncio.run(resolve_businesses(ctx, ["b-lead"]))


def test_progress_is_reported_only_to_a_client_that_asked() -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    ctx = _context(FakeSage([LEAD]))
    asyncio.run(ctx.report(1, 2, "half"))
    ctx.progress = progress
    asyncio.run(ctx.report(1, 2, "half"))
    assert seen == [(1, 2, "half")]


# -- the idempotency id of a write ---------------------------------------------------------------------------

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def test_without_a_key_every_write_gets_a_fresh_id_and_the_result_can_return_it() -> None:
    ctx = _context(FakeSage([LEAD]))
    first, second = idempotency_id(ctx, None), idempotency_id(ctx, "")
    assert HEX32.match(first) and HEX32.match(second) and first != second
    assert ctx.idempotency_used == second


def test_a_returned_id_is_used_as_is_so_a_repeat_cannot_create_a_second_record() -> None:
    ctx = _context(FakeSage([LEAD]))
    key = "0123456789abcdef0123456789abcdef"
    assert idempotency_id(ctx, key) == key
    assert ctx.idempotency_used == key


def test_any_other_key_maps_to_the_same_id_for_the_same_business_tool_and_record() -> None:
    scope = BusinessScope("c", "b-lead", "Lead Ltd")  # type: ignore[arg-type]
    ctx = _context(FakeSage([LEAD]), scope)
    same = idempotency_id(ctx, "order-42")
    assert HEX32.match(same)
    assert idempotency_id(ctx, "order-42") == same
    others = {
        idempotency_id(ctx, "order-43"),
        idempotency_id(ctx, "order-42", record="inv-1"),
        idempotency_id(ctx, "order-42", record="inv-2"),
        idempotency_id(_context(FakeSage([LEAD]), scope, tool="create_purchase_invoice"), "order-42"),
        idempotency_id(_context(FakeSage([LEAD]), BusinessScope("c", "b-other", "Other")), "order-42"),  # type: ignore[arg-type]
        idempotency_id(_context(FakeSage([LEAD])), "order-42"),
        idempotency_id(ctx, "0123456789ABCDEF0123456789ABCDEF"),
    }
    assert same not in others and len(others) == 7


def test_a_key_is_hashed_with_the_business_tool_and_record() -> None:
    import hashlib

    scope = BusinessScope("c", "b-lead", "Lead Ltd")  # type: ignore[arg-type]
    ctx = _context(FakeSage([LEAD]), scope, tool="update_contact")
    expected = hashlib.sha256(b"b-lead:update_contact:c-1:order-42").hexdigest()[:32]
    assert idempotency_id(ctx, "order-42", record="c-1") == expected
    no_scope = _context(FakeSage([LEAD]), tool="update_contact")
    assert idempotency_id(no_scope, "k") == hashlib.sha256(b":update_contact:k").hexdigest()[:32]


# -- projections ---------------------------------------------------------------------------------------------


def test_links_give_their_id_and_name() -> None:
    assert link_id({"id": 7, "displayed_as": "Acme"}) == "7"
    assert link_id({"displayed_as": "Acme"}) is None
    assert link_id("c-1") is None
    assert link_name({"id": 7, "displayed_as": "Acme", "name": "ACME"}) == "Acme"
    assert link_name({"name": "ACME"}) == "ACME"
    assert link_name({"id": 7}) is None
    assert link_name(None) is None


def test_amounts_are_decimal_strings() -> None:
    assert amount({"total_amount": 12.5}, "total_amount") == "12.50"
    assert amount({"total_amount": "3"}, "total_amount") == "3.00"
    assert amount({}, "total_amount") is None


def test_compact_drops_empty_values_but_keeps_zeros_and_false() -> None:
    raw = {"a": None, "b": [], "c": {}, "d": "", "e": 0, "f": False, "g": "0.00", "h": [1]}
    assert compact(raw) == {"e": 0, "f": False, "g": "0.00", "h": [1]}


def test_a_list_result_says_which_page_comes_next() -> None:
    more = Page([], 45, 2, 20, "/contacts?page=3", None)
    last = Page([], 45, 3, 20, None, "/contacts?page=2")
    assert list_result(more, [{"id": "a"}]) == {"total": 45, "page": 2, "next_page": 3, "items": [{"id": "a"}]}
    assert list_result(last, []) == {"total": 45, "page": 3, "next_page": None, "items": []}


def test_paging_defaults_to_the_first_page_of_twenty() -> None:
    assert paging_params({}) == {"page": 1, "items_per_page": 20}
    assert paging_params({"page": 4, "items_per_page": 200}) == {"page": 4, "items_per_page": 200}


# -- fuzzy matching ------------------------------------------------------------------------------------------


def test_words_ignore_case_and_punctuation_and_are_bounded() -> None:
    assert words("ACME_Widgets, Ltd. (UK) École 42") == ["acme", "widgets", "ltd", "uk", "école", "42"]
    assert len(words("a " * 300)) == 20
    assert words("x" * 150 + " " + "y" * 100) == ["x" * 150, "y" * 49]


#: The scores find_contact / find_ledger_account show for these queries; a change to the matching shows here.
SCORES = [
    ("ACME Ltd.", "acme ltd", 1.0),  # the same words
    ("Acme", "Acme Ltd", 0.98),  # a legal suffix left off
    ("acme widgets", "The Acme Widgets Company Limited", 0.98),
    ("widgets acme", "Acme Widgets", 0.95),  # words in another order
    ("Acme Wigdets", "Acme Widgets Ltd", 0.898),  # a typo
    ("acme", "Acme Widgets", 0.883),  # part of the name
    ("bank", "Bank Current Account", 0.87),
    ("jon smith", "John Smith & Sons", 0.823),
    ("Sales - Products", "Sales Type A", 0.538),
    ("The Acme", "Acme Widgets Ltd", 0.855),  # words that say little are left out of the comparison
    ("acme widgets trading", "Acme", 0.432),  # more words than the name has
    ("zebra", "Acme Widgets", 0.19),  # nothing in common
    ("", "Acme", 0.0),
    ("Acme", "!!!", 0.0),
]


@pytest.mark.parametrize(("query", "text", "score"), SCORES)
def test_similarity_scores(query: str, text: str, score: float) -> None:
    assert similarity(query, text) == score


def test_only_the_same_words_score_one() -> None:
    assert similarity("Acme Widgets", "Acme Widgets Ltd") < 1.0
    assert similarity("Acme Widgets Ltd", "acme-widgets ltd") == 1.0
    assert similarity("x" * 150 + "a", "x" * 150 + "b") == 0.99, "nearly the same is still not the same"


def _project(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"]}


NOTES = {"not_found": "none", "ambiguous": "several", "weak": "weak"}


def _best(scored: list[tuple[float, str, dict[str, Any]]]) -> dict[str, Any]:
    return best_matches(scored, _project, tie_key=lambda r: r["id"], **NOTES)


def test_a_confident_best_match_comes_first_with_its_score_and_no_note() -> None:
    out = _best([(0.6, "name", {"id": "b"}), (0.9, "email", {"id": "a"})])
    assert out == {
        "total": 2,
        "items": [{"id": "a", "score": 0.9, "match": "email"}, {"id": "b", "score": 0.6, "match": "name"}],
    }


def test_scores_below_one_half_are_not_matches() -> None:
    assert _best([(0.49, "name", {"id": "a"})]) == {"total": 0, "items": [], "note": "none"}
    assert _best([(0.5, "name", {"id": "a"})])["total"] == 1


def test_two_best_scores_closer_than_the_gap_are_ambiguous() -> None:
    out = _best([(0.9, "name", {"id": "b"}), (0.86, "name", {"id": "a"})])
    assert out["ambiguous"] is True and out["note"] == "several"
    clear = _best([(0.9, "name", {"id": "b"}), (0.85, "name", {"id": "a"})])
    assert "ambiguous" not in clear and "note" not in clear


def test_a_best_score_under_the_confident_level_is_weak() -> None:
    assert _best([(0.84, "name", {"id": "a"})])["note"] == "weak"
    assert "note" not in _best([(0.85, "name", {"id": "a"})])


def test_equal_scores_are_ordered_by_the_tie_key_and_at_most_five_come_back() -> None:
    scored = [(0.7, "name", {"id": x}) for x in "gfedcba"]
    out = _best(scored)
    assert [i["id"] for i in out["items"]] == list("abcde")
    assert out["total"] == MAX_MATCHES


def test_rank_scores_every_record_off_the_event_loop() -> None:
    records = [{"id": "1", "name": "Acme Ltd"}, {"id": "2", "name": "Zebra Co"}]

    def score(query: str, record: dict[str, Any]) -> tuple[float, str]:
        return similarity(query, record["name"]), "name"

    out = asyncio.run(rank("acme", records, score, _project, tie_key=lambda r: r["id"], **NOTES))
    assert out == {"total": 1, "items": [{"id": "1", "score": 0.98, "match": "name"}]}


def test_business_all_on_a_side_by_side_tool_asks_for_every_business() -> None:
    side_by_side = {"properties": {"business_id": {}, "businesses": {}}}
    assert group_arguments(side_by_side, {"business_id": "all", "top": 5}) == {"top": 5, "businesses": ["all"]}
    assert group_arguments(side_by_side, {"business_id": "all", "businesses": ["b-1"]}) == {
        "businesses": ["b-1", "all"]
    }
    assert group_arguments(side_by_side, {"business_id": "b-1"}) == {"business_id": "b-1"}
    single = {"properties": {"business_id": {}}}
    assert group_arguments(single, {"business_id": "all"}) == {"business_id": "all"}
    assert group_arguments({}, {"business_id": "all"}) == {"business_id": "all"}
