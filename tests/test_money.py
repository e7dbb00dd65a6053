"""Exact money: parsing Sage's numbers and strings, half-up rounding to the penny, and amounts on the wire.

The property tests compare against references written differently from the code under test
(integer arithmetic in pennies, ``json`` round trips), so a wrong rounding unit, mode or bound shows.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sage_mcp.money import (
    LIMIT,
    MoneyError,
    decimal_str,
    format_amount,
    format_decimal,
    money,
    round_money,
    tax_on,
    tax_within,
    to_decimal,
    to_wire_number,
    total,
)

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)

#: Any amount a user can type: at most 13 integer digits and 6 decimals (the schema's pattern).
amounts = st.decimals(
    min_value=Decimal("-9999999999999.999999"),
    max_value=Decimal("9999999999999.999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)
pennies = st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1)


def half_up_reference(value: Decimal) -> Decimal:
    """Half-up rounding to pennies in integer arithmetic: 1.005 -> 1.01, -1.005 -> -1.01."""
    sign = -1 if value < 0 else 1
    scaled = abs(value) * 100
    whole = int(scaled)
    if scaled - whole >= Decimal("0.5"):
        whole += 1
    return Decimal(sign * whole) / 100


# -- parsing -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        (" 12.50 ", Decimal("12.50")),
        ("-0.01", Decimal("-0.01")),
        ("7", Decimal("7")),
        (7, Decimal("7")),
        (-7, Decimal("-7")),
        (0.1, Decimal("0.1")),
        (19.99, Decimal("19.99")),
        (Decimal("3.333"), Decimal("3.333")),
        (10**15 - 1, Decimal(10**15 - 1)),
        (-(10**15) + 1, Decimal(-(10**15) + 1)),
        ("999999999999999.99", Decimal("999999999999999.99")),
    ],
)
def test_sage_numbers_and_decimal_strings_are_read_exactly(raw: object, expected: Decimal) -> None:
    value = to_decimal(raw)
    assert value == expected
    assert str(value) == str(expected)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (True, "is not a decimal number"),
        (None, "is not a decimal number"),
        ("12,50", "is not a decimal number"),
        ("1e3", "is not a decimal number"),
        ("NaN", "is not a decimal number"),
        ("", "is not a decimal number"),
        ("1." + "0" * 63, "is not a decimal number"),
        ([1], "is not a decimal number"),
        (Decimal("NaN"), "is not a finite number"),
        (Decimal("Infinity"), "is not a finite number"),
        (float("inf"), "is not a finite number"),
        (10**15, "is too large"),
        (-(10**15), "is too large"),
        ("1000000000000000", "is too large"),
        ("-1000000000000000.00", "is too large"),
        (Decimal("1E+15"), "is too large"),
    ],
)
def test_what_is_not_a_sane_amount_is_refused_saying_why(raw: object, why: str) -> None:
    with pytest.raises(MoneyError, match=why):
        to_decimal(raw)


def test_a_refusal_names_the_field_it_came_from() -> None:
    with pytest.raises(MoneyError) as named:
        to_decimal("abc", field="lines[0].unit_price")
    assert str(named.value).startswith("lines[0].unit_price: ")
    with pytest.raises(MoneyError) as unnamed:
        to_decimal("abc")
    assert str(unnamed.value).startswith("'abc'") or str(unnamed.value).startswith("abc")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (10**15, "unit_price: 1000000000000000 is too large for an amount (at most 15 digits before the point)"),
        ("1e3", "unit_price: '1e3' is not a decimal number such as \"12.50\""),
        (Decimal("NaN"), "unit_price: Decimal('NaN') is not a finite number"),
        (
            "-1000000000000000",
            "unit_price: '-1000000000000000' is too large for an amount (at most 15 digits before the point)",
        ),
    ],
)
def test_each_refusal_names_the_field_the_value_and_the_reason_in_full(raw: object, message: str) -> None:
    with pytest.raises(MoneyError) as refused:
        to_decimal(raw, field="unit_price")
    assert str(refused.value) == message


def test_rounding_refusal_quotes_the_figure() -> None:
    with pytest.raises(MoneyError) as refused:
        round_money(Decimal("2E+15"))
    assert str(refused.value) == "Decimal('2E+15') is too large for an amount (at most 15 digits before the point)"


def test_a_64_character_amount_is_read_and_a_65_character_one_refused() -> None:
    longest = "0." + "1" * 62
    assert to_decimal(longest) == Decimal(longest)
    with pytest.raises(MoneyError):
        to_decimal(longest + "1")


# -- rounding and formatting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("0.0049999", "0.00"),
        ("2.675", "2.68"),
        ("1.015", "1.02"),
        ("0.994", "0.99"),
        ("0.995", "1.00"),
        ("120", "120.00"),
        ("0.01", "0.01"),
        ("0.03", "0.03"),
        ("999999999999999.994", "999999999999999.99"),
    ],
)
def test_amounts_round_half_up_to_the_penny(value: str, expected: str) -> None:
    assert money(Decimal(value)) == expected
    assert round_money(Decimal(value)) == Decimal(expected)


@pytest.mark.parametrize("value", ["-0", "-0.00", "-0.004", "0.004"])
def test_an_amount_that_is_zero_reads_0_00_never_minus_zero(value: str) -> None:
    # a negated zero balance (a settled creditors account times -1) or a rounded-away fraction
    assert money(Decimal(value)) == "0.00"
    assert money(-Decimal(value)) == "0.00"


@pytest.mark.parametrize("value", ["1E+15", "-1E+15", "Infinity", "NaN"])
def test_rounding_refuses_figures_no_amount_reaches(value: str) -> None:
    with pytest.raises(MoneyError, match="too large"):
        round_money(Decimal(value))


@given(amounts)
@PROPERTY
def test_rounding_matches_half_up_in_whole_pennies(value: Decimal) -> None:
    rounded = round_money(value)
    assert rounded == half_up_reference(value)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - value) <= Decimal("0.005")


@given(pennies)
@PROPERTY
def test_an_amount_survives_formatting_and_parsing_unchanged(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    text = money(amount)
    assert to_decimal(text) == amount
    assert money(to_decimal(text)) == text
    assert text == f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@pytest.mark.parametrize(
    ("value", "min_places", "expected"),
    [
        ("1.50000", 2, "1.50"),
        ("1.2345", 2, "1.2345"),
        ("2", 2, "2.00"),
        ("2", 0, "2"),
        ("2.000", 0, "2"),
        ("1.50", 0, "1.5"),
        ("1E+2", 0, "100"),
        ("1E+2", 2, "100.00"),
        ("0.125", 3, "0.125"),
        ("0.1", 3, "0.100"),
    ],
)
def test_quantities_keep_every_digit_and_at_least_the_places_asked(value: str, min_places: int, expected: str) -> None:
    assert decimal_str(Decimal(value), min_places) == expected


def test_decimal_str_defaults_to_two_places() -> None:
    assert decimal_str(Decimal("3")) == "3.00"


@pytest.mark.parametrize(
    ("raw", "amount", "rate"),
    [
        (None, None, None),
        ("", None, None),
        (12.5, "12.50", "12.5"),
        ("3", "3.00", "3"),
        ("1.234", "1.234", "1.234"),
        ("20.000", "20.00", "20"),
        (0, "0.00", "0"),
    ],
)
def test_sage_amounts_and_rates_are_shown_as_decimal_strings(raw: object, amount: str | None, rate: str | None) -> None:
    assert format_amount(raw) == amount
    assert format_decimal(raw) == rate


def test_a_sum_of_nothing_is_zero_and_sums_are_exact() -> None:
    assert total([]) == Decimal("0")
    assert money(total([])) == "0.00"
    assert total(Decimal("0.1") for _ in range(10)) == Decimal("1.0")


# -- tax -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "rate", "tax"),
    [
        ("100", "20", "20.00"),
        ("0.125", "20", "0.03"),  # 0.025 rounds up
        ("10.01", "5", "0.50"),  # 0.5005
        ("33.33", "17.5", "5.83"),  # 5.83275
        ("-0.125", "20", "-0.03"),
        ("100", "0", "0.00"),
    ],
)
def test_tax_on_a_net_amount_rounds_half_up(net: str, rate: str, tax: str) -> None:
    assert money(tax_on(Decimal(net), Decimal(rate))) == tax


@pytest.mark.parametrize(
    ("gross", "rate", "tax"),
    [
        ("120", "20", "20.00"),
        ("105", "5", "5.00"),
        ("10", "20", "1.67"),  # 1.6666…
        ("0.03", "20", "0.01"),  # 0.005 rounds up
        ("100", "0", "0"),
    ],
)
def test_tax_within_a_gross_amount_rounds_half_up(gross: str, rate: str, tax: str) -> None:
    assert tax_within(Decimal(gross), Decimal(rate)) == Decimal(tax)


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["0", "5", "12.5", "17.5", "20"]))
@PROPERTY
def test_net_plus_tax_is_a_gross_whose_contained_tax_is_the_same(cents: int, rate: str) -> None:
    net = Decimal(cents).scaleb(-2)
    tax = tax_on(net, Decimal(rate))
    assert tax == half_up_reference(net * Decimal(rate) / 100)
    assert abs(tax_within(net + tax, Decimal(rate)) - tax) <= Decimal("0.01")


# -- amounts on the wire -------------------------------------------------------------------------------------


@given(pennies)
@PROPERTY
def test_an_amount_sent_to_sage_as_a_json_number_reads_back_exactly(cents: int) -> None:
    amount = Decimal(cents).scaleb(-2)
    wire = json.dumps({"total": to_wire_number(amount)})
    assert json.loads(wire, parse_float=Decimal, parse_int=Decimal)["total"] == amount


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        ("120.00", 120),
        ("-3", -3),
        ("9007199254740991", 9007199254740991),  # 2**53 - 1: still exact as an integer
        ("12.5", 12.5),
        ("0.1", 0.1),
    ],
)
def test_whole_amounts_go_as_integers_and_others_as_exact_floats(value: str, expected: float) -> None:
    wire = to_wire_number(Decimal(value))
    assert wire == expected
    assert type(wire) is type(expected)


@pytest.mark.parametrize("value", ["9007199254740993", "0.12345678901234567891", "-9007199254740993"])
def test_a_value_a_json_number_cannot_carry_exactly_is_refused(value: str) -> None:
    with pytest.raises(MoneyError, match="cannot be sent exactly"):
        to_wire_number(Decimal(value))


def test_the_limit_is_fifteen_integer_digits() -> None:
    assert Decimal(10) ** 15 == LIMIT
