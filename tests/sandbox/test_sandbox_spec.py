"""``sage_mcp.sage.spec``: definitions as JSON Schemas, operation lookup, body validation."""

from __future__ import annotations

import time
from decimal import Decimal

import jsonschema
import pytest

from sage_mcp.sage import spec


def test_definition_schema_is_a_usable_draft4_schema() -> None:
    schema = spec.definition_schema("Contact")
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    validator = jsonschema.Draft4Validator(schema)
    assert validator.is_valid({"id": "abc", "balance": "12.5", "credit_days": 30, "main_address": None})
    assert validator.is_valid({"balance": 12.5, "contact_types": [{"id": "CUSTOMER", "displayed_as": None}]})
    assert not validator.is_valid({"balance": "12,50"})
    assert not validator.is_valid({"credit_days": "30"})  # integers stay integers
    assert not validator.is_valid({"main_address": {"city": 5}})
    with pytest.raises(KeyError):
        spec.definition_schema("NoSuchThing")


def test_validate_response_messages_name_the_field() -> None:
    assert spec.validate_response("TaxRate", {"id": "GB_STANDARD", "percentage": "20.0", "percentages": []}) == []
    errors = spec.validate_response(
        "SalesInvoice",
        {"total_amount": "lots", "date": "2025-02-30", "invoice_lines": [{"quantity": True}], "reference": "x" * 26},
    )
    assert any(e.startswith("total_amount:") for e in errors)
    assert any(e.startswith("date:") for e in errors)
    assert any(e.startswith("invoice_lines.0.quantity:") for e in errors)
    assert any(e.startswith("reference:") and "too long" in e for e in errors)
    assert spec.validate_response("Business", {"id": "x", "subscriptions": [{"active": "yes"}]}) == [
        "subscriptions.0.active: must be true or false or null, not a string"
    ]


def test_validate_request_body() -> None:
    ok = {"contact": {"name": "A", "contact_type_ids": ["CUSTOMER"], "credit_limit": "100.0", "idempotency_id": "k"}}
    assert spec.validate_request_body("POST", "/contacts", ok) == []
    assert spec.validate_request_body("post", "/contacts", {"contact": {"name": "A"}}) == [
        "contact.contact_type_ids: This field is required."
    ]
    assert spec.validate_request_body("POST", "/contacts", {"contact": {"name": None, "contact_type_ids": []}}) == [
        "contact.name: must be a string, not null"
    ]
    assert spec.validate_request_body("POST", "/contacts", {}) == ["contact: This field is required."]
    assert spec.validate_request_body(
        "POST", "/contacts", {"contact": {"name": "A", "contact_type_ids": [], "idempotency_id": 5}}
    ) == ["contact.idempotency_id: must be a string, not an integer"]
    line = {"description": "x", "ledger_account_id": "y", "unit_price": Decimal("3.335"), "quantity": "2"}
    invoice = {"sales_invoice": {"contact_id": "c", "date": "2025-06-01", "invoice_lines": [line]}}
    assert spec.validate_request_body("POST", "/sales_invoices", invoice) == []
    bad_line = dict(line, unit_price="three")
    errors = spec.validate_request_body(
        "POST", "/sales_invoices", {"sales_invoice": {"date": "2025-06-01", "invoice_lines": [bad_line]}}
    )
    assert errors == [
        "sales_invoice.contact_id: This field is required.",
        "sales_invoice.invoice_lines.0.unit_price: must be a number or a decimal string such as 12.50, not 'three'",
    ]
    # concrete paths work as well as templates; PUT bodies have no required fields
    assert spec.validate_request_body("PUT", "/sales_invoices/abc", {"sales_invoice": {"notes": "n"}}) == []
    assert spec.validate_request_body("GET", "/contacts", None) == []
    assert spec.validate_request_body("GET", "/contacts", {"x": 1}) == ["(body): GET /contacts takes no request body"]
    assert spec.validate_request_body("PATCH", "/contacts", {}) == [
        "(body): PATCH /contacts is not an operation of the Sage API"
    ]
    assert spec.validate_request_body("PUT", "/businesses/lead", {"business": {"name": "New"}}) == []


def test_unknown_body_fields() -> None:
    body = {"contact": {"name": "A", "email": "a@b", "idempotency_id": "k", "main_address": {"town": "Leeds"}}, "x": 1}
    found = [str(issue) for issue in spec.unknown_body_fields("POST", "/contacts", body)]
    assert found == [
        "contact.email: is not an attribute of contact in the Sage API",
        "contact.main_address.town: is not an attribute of contact.main_address in the Sage API",
        "x: is not an attribute of the body in the Sage API",
    ]


def test_find_operation_and_response_definition() -> None:
    template, operation = spec.find_operation("GET", "/v3.1/contacts/abc123?attributes=all")  # type: ignore[misc]
    assert template == "/contacts/{key}" and operation["operationId"] == "getContactsKey"
    assert spec.find_operation("DELETE", "/sales_invoices/abc")[0] == "/sales_invoices/{key}"  # type: ignore[index]
    assert spec.find_operation("POST", "/sales_invoices/abc/release")[0] == "/sales_invoices/{key}/release"  # type: ignore[index]
    assert spec.find_operation("GET", "/businesses/lead")[0] == "/businesses/{key}"  # type: ignore[index]
    assert spec.find_operation("GET", "/user")[0] == "/user"  # type: ignore[index]
    assert spec.find_operation("PATCH", "/contacts") is None
    assert spec.find_operation("GET", "/no_such_thing") is None
    assert spec.match_path("/financial_settings") == "/financial_settings"
    assert spec.response_definition("GET", "/contacts") == "Contact"
    assert spec.response_definition("GET", "/businesses") == "Business"
    assert spec.response_definition("DELETE", "/sales_invoices/{key}") == "SalesInvoice"
    assert spec.response_definition("DELETE", "/contacts/{key}") is None
    assert spec.response_definition("POST", "/sales_invoices/{key}/release") == "SalesInvoice"
    assert spec.is_list_operation("GET", "/sales_invoices") and not spec.is_list_operation(
        "GET", "/sales_invoices/{key}"
    )
    assert spec.body_root_key("POST", "/journals") == "journal"
    assert spec.path_methods("/contacts/{key}") == ["GET", "PUT", "DELETE"]
    operations = list(spec.operations())
    assert len(operations) == 293  # Sage's 292 and /trial_balance of our Reporting API supplement
    template, operation = spec.find_operation("GET", "/v3.1/trial_balance?from_date=2025-01-01")  # type: ignore[misc]
    assert template == "/trial_balance" and operation["operationId"] == "getTrialBalance"
    assert spec.response_definition("GET", "/trial_balance") == "TrialBalance"
    assert not spec.is_list_operation("GET", "/trial_balance")
    assert [p["name"] for p in operation["parameters"]] == ["from_date", "to_date"]
    assert {m for m, _, _ in operations} == {"GET", "POST", "PUT", "DELETE"}


def test_every_body_and_response_definition_compiles() -> None:
    started = time.perf_counter()
    for method, template, _ in spec.operations():
        if spec.body_definition(method, template):
            spec.validate_request_body(method, template, {})
        definition = spec.response_definition(method, template)
        if definition:
            assert spec.validate_response(definition, {}) == []
    assert time.perf_counter() - started < 5
