"""Reading Sage's error answers: which fields of the error array are read, and which error class a status gives.

The tool layer explains a failure from these (the field that was refused, Sage's message, its code),
so reading the wrong key or the wrong status class sends a user the wrong instruction.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sage_mcp.sage.errors import (
    BusinessMismatchError,
    SageAPIError,
    SageBadRequestError,
    SageConflictError,
    SageErrorItem,
    SageForbiddenError,
    SageNotFoundError,
    SageRateLimitError,
    SageRetryLaterError,
    SageServerError,
    SageUnauthorizedError,
    SageValidationError,
    error_from_response,
    located,
    missing_reference_model,
    parse_error_items,
    reference_candidates,
    reference_collection,
)

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)

SAGE_422 = [
    {
        "$severity": "error",
        "$dataCode": "RecordInvalid",
        "$message": "Contact can't be blank",
        "$source": "contact",
    },
    {
        "$severity": "warning",
        "$dataCode": "NegativeLine",
        "$message": "Unit price is negative",
        "$source": "invoice_lines[0].unit_price",
    },
]


def test_sage_error_array_fields_are_read_by_their_dollar_names() -> None:
    items = parse_error_items(SAGE_422)
    assert items == [
        SageErrorItem(message="Contact can't be blank", data_code="RecordInvalid", source="contact", severity="error"),
        SageErrorItem(
            message="Unit price is negative",
            data_code="NegativeLine",
            source="invoice_lines[0].unit_price",
            severity="warning",
        ),
    ]


def test_plain_field_names_are_read_when_the_dollar_ones_are_missing() -> None:
    (item,) = parse_error_items([{"message": "Bad date", "dataCode": "InvalidDate", "source": "date", "severity": "x"}])
    assert item == SageErrorItem(message="Bad date", data_code="InvalidDate", source="date", severity="x")


def test_the_dollar_field_wins_over_the_plain_one() -> None:
    (item,) = parse_error_items(
        [
            {
                "$message": "sage",
                "message": "plain",
                "$dataCode": "A",
                "dataCode": "B",
                "$source": "s1",
                "source": "s2",
                "$severity": "warning",
                "severity": "info",
            }
        ]
    )
    assert item == SageErrorItem(message="sage", data_code="A", source="s1", severity="warning")


def test_missing_fields_read_as_empty_and_severity_as_error() -> None:
    assert parse_error_items([{}]) == [SageErrorItem(message="", data_code="", source="", severity="error")]


def test_non_object_entries_of_the_array_are_skipped() -> None:
    assert parse_error_items(["oops", 3, None, {"$message": "kept"}]) == [SageErrorItem(message="kept")]


@pytest.mark.parametrize("key", ["errors", "$errors"])
def test_an_array_wrapped_in_an_object_is_read(key: str) -> None:
    assert parse_error_items({key: SAGE_422}) == parse_error_items(SAGE_422)


def test_a_single_error_object_is_read_as_one_item() -> None:
    assert parse_error_items({"$message": "Not found", "$dataCode": "RecordNotFound"}) == [
        SageErrorItem(message="Not found", data_code="RecordNotFound")
    ]


def test_an_oauth_error_reads_its_code_and_description() -> None:
    body = {"error": "invalid_grant", "error_description": "refresh token expired"}
    assert parse_error_items(body) == [SageErrorItem(message="refresh token expired", data_code="invalid_grant")]
    assert parse_error_items({"error": "invalid_client"}) == [SageErrorItem(message="", data_code="invalid_client")]


def test_an_error_key_that_is_not_a_string_is_not_an_oauth_error() -> None:
    assert parse_error_items({"error": {"x": 1}, "$message": "object"}) == [SageErrorItem(message="object")]


def test_a_text_body_becomes_the_message_cut_to_500_characters() -> None:
    assert parse_error_items("  Bad Gateway \n") == [SageErrorItem(message="Bad Gateway")]
    (long,) = parse_error_items("x" * 800)
    assert long.message == "x" * 500


@pytest.mark.parametrize("body", [None, "", "   ", 42, b"bytes"])
def test_an_empty_or_unreadable_body_gives_no_items(body: Any) -> None:
    assert parse_error_items(body) == []


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, SageBadRequestError),
        (401, SageUnauthorizedError),
        (403, SageForbiddenError),
        (404, SageNotFoundError),
        (409, SageConflictError),
        (422, SageValidationError),
        (429, SageRateLimitError),
        (500, SageServerError),
        (502, SageServerError),
        (503, SageServerError),
        (499, SageAPIError),
        (418, SageAPIError),
    ],
)
def test_each_status_gets_its_own_error_class(status: int, cls: type[SageAPIError]) -> None:
    err = error_from_response(status, SAGE_422, method="POST", path="/sales_invoices", request_id="r-1", retry_after=3)
    assert type(err) is cls
    assert err.status == status
    assert err.errors == parse_error_items(SAGE_422)
    assert (err.method, err.path, err.request_id, err.retry_after) == ("POST", "/sales_invoices", "r-1", 3)


def test_the_summary_names_status_request_fields_and_codes() -> None:
    err = error_from_response(422, SAGE_422, method="POST", path="/sales_invoices")
    assert str(err) == (
        "Sage returned HTTP 422 on POST /sales_invoices: contact: Contact can't be blank (RecordInvalid); "
        "invoice_lines[0].unit_price: Unit price is negative (NegativeLine)"
    )
    assert err.sources == ["contact", "invoice_lines[0].unit_price"]


def test_the_summary_leaves_out_the_base_source_an_empty_code_and_a_missing_request() -> None:
    err = error_from_response(409, [{"$message": "Already paid", "$source": "base"}, {"$message": "Locked"}])
    assert str(err) == "Sage returned HTTP 409: Already paid; Locked"
    assert err.sources == ["base"]


def test_a_bare_error_says_no_details_were_given() -> None:
    bare = error_from_response(500, None)
    assert str(bare) == "Sage returned HTTP 500: no details given"
    assert (bare.method, bare.path, bare.request_id, bare.retry_after) == ("", "", None, None)
    assert str(error_from_response(500, None, method="GET", path="/contacts")) == (
        "Sage returned HTTP 500 on GET /contacts: no details given"
    )


def test_retry_later_says_how_long_sage_asked_to_wait() -> None:
    err = SageRetryLaterError(429, [], method="GET", path="/contacts", retry_after=90.4)
    assert str(err) == "Sage asks to retry after 90 s (HTTP 429 on GET /contacts)"
    later = SageRetryLaterError(503, [])
    assert str(later) == "Sage asks to retry after a while (HTTP 503)"
    assert (later.method, later.path, later.retry_after) == ("", "", None)


def test_an_answer_for_another_business_names_both() -> None:
    err = BusinessMismatchError("b-requested", "b-answered")
    assert (err.requested, err.answered) == ("b-requested", "b-answered")
    assert str(err) == (
        "Sage answered for business 'b-answered' but 'b-requested' was requested; the response was discarded."
    )


# -- arbitrary error arrays ----------------------------------------------------------------------------------

text = st.text(max_size=20)
KEYS = ("$message", "message", "$dataCode", "dataCode", "$source", "source", "$severity", "severity")
entries = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), st.one_of(text, st.none(), st.integers())),
    st.integers(),
    st.none(),
    text,
)


def _first(entry: dict[str, Any], dollar: str, plain: str, default: str) -> str:
    return str(entry.get(dollar) or entry.get(plain) or default)


@given(st.lists(entries, max_size=8))
@PROPERTY
def test_any_error_array_gives_one_item_per_object_in_order(body: list[Any]) -> None:
    objects = [e for e in body if isinstance(e, dict)]
    items = parse_error_items(body)
    assert len(items) == len(objects)
    for item, entry in zip(items, objects, strict=True):
        assert item.message == _first(entry, "$message", "message", "")
        assert item.data_code == _first(entry, "$dataCode", "dataCode", "")
        assert item.source == _first(entry, "$source", "source", "")
        assert item.severity == _first(entry, "$severity", "severity", "error")
    err = error_from_response(422, body)
    assert err.sources == [i.source for i in items if i.source]
    for item in items:
        assert item.message in str(err)


# -- errors that do not say which field ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "model"),
    [
        (SageErrorItem("Couldn't find Supplier.", "RecordInvalid"), "Supplier"),
        (SageErrorItem("Couldn't find LedgerAccount with 'id'=x", source="base"), "LedgerAccount"),
        (SageErrorItem("Couldn't find Record."), None),
        (SageErrorItem("Couldn't find Supplier.", source="contact_id"), None),
        (SageErrorItem("couldn't find supplier"), None),
        (SageErrorItem("Something else"), None),
    ],
)
def test_an_unknown_id_error_without_a_field_names_its_model(item: SageErrorItem, model: str | None) -> None:
    assert missing_reference_model(item) == model


@pytest.mark.parametrize(
    ("model", "collection"),
    [("LedgerAccount", "ledger_accounts"), ("Customer", "contacts"), ("Supplier", "contacts"),
     ("Vendor", "contacts"), ("Address", "addresses"), ("TaxRate", "tax_rates")],
)  # fmt: skip
def test_a_models_records_live_in_its_collection(model: str, collection: str) -> None:
    assert reference_collection(model) == collection


def test_the_fields_that_can_hold_the_unknown_id_are_found_anywhere_in_the_body() -> None:
    body = {
        "sales_invoice": {
            "contact_id": "c-1",
            "invoice_lines": [
                {"ledger_account_id": "la-1", "tax_rate_id": "GB_STANDARD"},
                {"ledger_account_id": "la-2", "description": "x"},
                {"ledger_account_id": ""},
            ],
            "to_bank_account_id": "b-1",
        }
    }
    assert reference_candidates("LedgerAccount", body) == [
        ("invoice_lines.0.ledger_account_id", "la-1"),
        ("invoice_lines.1.ledger_account_id", "la-2"),
    ]
    assert reference_candidates("BankAccount", body) == [("to_bank_account_id", "b-1")]
    assert reference_candidates("Customer", body) == [("contact_id", "c-1")]
    assert reference_candidates("Supplier", {"purchase_invoice": {"vendor_id": "v-1"}}) == [("vendor_id", "v-1")]
    assert reference_candidates("Product", body) == []


def test_a_polymorphic_reference_is_found_by_its_type_field() -> None:
    body = {"attachment": {"attachment_context_type_id": "SALES_INVOICE", "attachment_context_id": "i-9",
                           "file_name": "a.pdf"}}  # fmt: skip
    assert reference_candidates("SalesInvoice", body) == [("attachment_context_id", "i-9")]
    assert reference_candidates("PurchaseInvoice", body) == []
    assert reference_candidates("SalesInvoice", [{"sales_invoice_id": "s"}]) == [("0.sales_invoice_id", "s")]


def test_an_error_is_repeated_for_each_field_that_held_an_unknown_id() -> None:
    item = SageErrorItem("Couldn't find LedgerAccount.", "RecordInvalid", "", "error")
    assert located(item, []) == [item]
    assert located(
        item,
        [
            ("lines.0.ledger_account_id", "la-1"),
            ("lines.0.ledger_account_id", "la-1"),
            ("lines.1.ledger_account_id", "la-2"),
        ],
    ) == [
        SageErrorItem(
            "Couldn't find LedgerAccount: the id 'la-1' sent was not found.",
            "RecordInvalid",
            "lines.0.ledger_account_id",
            "error",
        ),
        SageErrorItem(
            "Couldn't find LedgerAccount: the id 'la-2' sent was not found.",
            "RecordInvalid",
            "lines.1.ledger_account_id",
            "error",
        ),
    ]
