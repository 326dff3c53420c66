"""The criteria language: what it accepts, what it refuses (with where and why), how it runs."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from conftest import feature_table

from redlane.targeting import CriteriaError, catalogue_markdown, parse_criteria
from redlane.targeting.features import feature_columns

LISTS = {"source": ("CO", "EC"), "hubs": ("PAMIT", "JMKIN")}


def check(text: str, target: str = "consignment") -> str:
    return parse_criteria(text, target, LISTS, "P-1").sql()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "line", "column", "reason"),
    [
        ("origin_contry = 'EC'", 1, 1, "unknown field 'origin_contry'"),
        ("origin_country = 1", 1, 18, "type mismatch: EQ compares string with integer"),
        ("reefer AND total_value > 'high'", 1, 26, "compares number with string"),
        ("origin_country", 1, 1, "must be true or false, not string"),
        ("office = 'X'; DROP TABLE consignments", 1, 13, "exactly one expression, found 2"),
        ("origin_country IN (SELECT origin_country FROM consignments)", 1, 1, "subqueries"),
        ("read_csv('/etc/passwd') IS NULL", 1, 1, "function read_csv() is not allowed"),
        ("lower(office) = 'x' AND getenv('HOME') = 'x'", 1, 25, "function getenv() is not allowed"),
        ("consignments.office = 'x'", 1, 1, "qualified names are not allowed"),
        ("place_of_loading IN LIST('nope')", 1, 21, "unknown reference list 'nope'"),
        ("hs_codes = '080390'", 1, 1, "a list field cannot be compared"),
        ("has(origin_country, 'EC')", 1, 5, "needs a list field first"),
        ("reefer AND\n  total_value >", 2, 15, "incomplete expression"),
        ("religion = 'x'", 1, 1, "'religion' is a protected attribute"),
        ("goods_description LIKE hs4", 1, 1, "LIKE needs a quoted pattern"),
    ],
)
def test_refused_with_position_and_reason(text: str, line: int, column: int, reason: str) -> None:
    with pytest.raises(CriteriaError) as caught:
        check(text)
    error = caught.value
    assert error.profile_id == "P-1"
    assert reason in error.reason
    assert (error.line, error.column) == (line, column)
    assert str(error).startswith(f"profile P-1: criteria line {line}, column {column}: ")


@pytest.mark.parametrize(
    "text",
    [
        "nationality = 'CO'",
        "document_country IN ('CO', 'PE') OR nationality = 'EC'",
        "(one_way AND checked_bags = 0) OR nationality = 'CO'",
    ],
)
def test_nationality_never_alone(text: str) -> None:
    with pytest.raises(CriteriaError, match="nationality alone is never a targeting criterion"):
        check(text, "traveller")


def test_nationality_may_narrow_other_indicators() -> None:
    assert check("one_way AND payment_form = 'cash' AND nationality = 'CO'", "traveller")


def test_the_issue_example_compiles_to_duckdb_and_spark() -> None:
    criteria = parse_criteria(
        "origin_country IN ('EC','CO','PE') AND hs6 LIKE '0803%' AND consignee_first_seen_days "
        "< 90 AND place_of_loading IN LIST('hubs')",
        "consignment",
        LISTS,
        "EX",
    )
    assert criteria.fields == {
        "origin_country", "hs6", "consignee_first_seen_days", "place_of_loading",
    }  # fmt: skip
    assert "IN ('PAMIT', 'JMKIN')" in criteria.sql("duckdb")
    assert "`hs6` LIKE '0803%'" in criteria.sql("spark")


def _features(rows: list[dict[str, object]]) -> pa.Table:
    table: pa.Table = feature_table(rows)
    assert table.schema.names == list(feature_columns("consignment"))
    return table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("has(transshipment_places, 'PAMIT')", [True, False, False]),
        ("has_any(route_countries, LIST('source'))", [True, False, False]),
        ("has_any(route_countries, ('CN', 'XX'))", [False, True, False]),
        ("any_like(hs_codes, '0803%')", [True, False, False]),
        ("total_value / total_gross_mass_kg < 1", [True, False, False]),
        ("value_per_kg_ratio < 0.5", [False, False, False]),
        ("value_per_kg_ratio IS NULL", [True, True, True]),
        ("NOT reefer", [False, True, False]),
        ("coalesce(reefer, FALSE) = FALSE", [False, True, True]),
        ("lower(goods_description) LIKE '%banana%'", [True, False, False]),
        ("total_packages BETWEEN 10 AND 2000", [True, True, False]),
        ("day >= DATE '2026-11-02' AND length(hs_codes) >= 1", [True, True, False]),
        ("origin_country NOT IN LIST('source')", [False, True, False]),
    ],
)
def test_compiled_criteria_run_with_sql_null_semantics(text: str, expected: list[bool]) -> None:
    table = _features(
        [
            {"target_id": 1, "day": date(2026, 11, 2), "origin_country": "EC", "reefer": True,
             "route_countries": ["EC", "PA"], "transshipment_places": ["PAMIT"],
             "hs_codes": ["080390"], "total_value": 100.0, "total_gross_mass_kg": 1000.0,
             "goods_description": "Fresh Bananas", "total_packages": 1000},
            {"target_id": 2, "day": date(2026, 11, 3), "origin_country": "CN", "reefer": False,
             "route_countries": ["CN"], "transshipment_places": [], "hs_codes": ["610910"],
             "total_value": 5000.0, "total_gross_mass_kg": 1000.0,
             "goods_description": "T-shirts", "total_packages": 10},
            {"target_id": 3, "day": date(2026, 11, 1)},
        ]
    )  # fmt: skip
    sql = check(text)
    con = duckdb.connect()
    con.register("features", table)
    got = [bool(v) for (v,) in con.sql(f"SELECT coalesce({sql}, FALSE) FROM features").fetchall()]
    assert got == expected


def test_docs_carry_the_generated_catalogue() -> None:
    """docs/criteria.md embeds the catalogue between markers; regenerate it when this fails."""
    text = Path("docs/criteria.md").read_text("utf-8")
    found = re.search(r"<!-- catalogue:start -->\n(.*)<!-- catalogue:end -->", text, re.S)
    assert found, "docs/criteria.md lacks the catalogue markers"
    assert found.group(1).strip() == catalogue_markdown().strip()
