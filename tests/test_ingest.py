"""Ingest of canonical files: bad records named and quarantined, the rest stored, once."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import (
    make_consignment,
    make_container_event,
    make_control_result,
    make_movement,
    make_traveller,
    make_vessel_event,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redlane.intake.canonical import FormatError, RawRecord, validate_chunk
from redlane.intake.columnar import columnar_kind, validate_table
from redlane.intake.pipeline import ingest, ingest_files, to_arrow
from redlane.model.arrow import arrow_schema
from redlane.store.database import Database
from redlane.store.repository import count_rows, quarantined
from redlane.store.schema import RECORD_TABLES

GOOD = [make_consignment(n).model_dump_json() for n in range(1, 6)]


def broken_lines() -> list[tuple[str, str | None, str]]:
    """Bad records with the field and a word of the reason each must be refused with."""
    good = json.loads(GOOD[0])
    missing = {k: v for k, v in good.items() if k != "goods"}
    bad_country = {**good, "origin_country": "XX"}
    negative = copy.deepcopy(good)
    negative["goods"][0]["gross_mass_kg"] = -5
    unknown_kind = {**good, "record": "parcel"}
    extra = {**good, "colour": "red"}
    bad_date = {**good, "arrival_date": "2026-13-45"}
    return [
        ("{not json", None, "JSON"),
        (json.dumps(missing), "goods", "required"),
        (json.dumps(bad_country), "origin_country", "pattern"),
        (json.dumps(negative), "goods.0.gross_mass_kg", "greater than or equal"),
        (json.dumps(unknown_kind), "record", "tag"),
        (json.dumps(extra), "colour", "not permitted"),
        (json.dumps(bad_date), "arrival_date", "date"),
    ]


def write_mixed(path: Path) -> dict[int, tuple[str | None, str]]:
    """Good and broken lines interleaved; returns the expected problem by line number."""
    lines, expected = [], {}
    broken = broken_lines()
    for i, good in enumerate(GOOD):
        lines.append(good)
        if i < len(broken):
            text, field, word = broken[i]
            lines.append(text)
            expected[len(lines)] = (field, word)
    for text, field, word in broken[len(GOOD) :]:
        lines.append(text)
        expected[len(lines)] = (field, word)
    path.write_text("\n".join(lines) + "\n")
    return expected


def test_bad_records_are_named_and_the_rest_goes_in(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    expected = write_mixed(path)
    (summary,) = ingest(db, path).files
    assert (summary.read, summary.stored, summary.duplicates) == (12, 5, 0)
    assert summary.quarantined == len(expected) == 7
    found = {int(p.locator.split()[1]): p for p in summary.problems}
    assert set(found) == set(expected)
    for line, (field, word) in expected.items():
        assert found[line].field == field, found[line]
        assert word.lower() in found[line].reason.lower(), found[line]
    stored = [row["locator"] for row in quarantined(db)]
    assert sorted(stored) == sorted(f"line {n}" for n in expected)
    raw = {row["locator"]: row["raw"] for row in quarantined(db)}
    assert raw["line 2"] == "{not json"


def test_a_second_ingest_of_the_same_file_adds_nothing(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "manifest.jsonl"
    write_mixed(path)
    ingest(db, path)
    before = count_rows(db, ["consignments", "parties", "quarantine"])
    (again,) = ingest(db, path).files
    assert (again.stored, again.duplicates, again.quarantined) == (0, 5, 7)
    assert count_rows(db, ["consignments", "parties", "quarantine"]) == before


def test_every_record_kind_in_one_file(db: Database, tmp_path: Path) -> None:
    records = [
        make_consignment(1), make_movement(), make_traveller(1), make_control_result(),
        make_container_event(), make_vessel_event(),
    ]  # fmt: skip
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(r.model_dump_json() for r in records) + "\n")
    (summary,) = ingest(db, path).files
    assert summary.by_kind == {
        "consignment": 1, "movement": 1, "traveller": 1, "control_result": 1,
        "container_event": 1, "vessel_event": 1,
    }  # fmt: skip
    assert count_rows(db, [t.name for t in RECORD_TABLES.values()]) == dict.fromkeys(
        [t.name for t in RECORD_TABLES.values()], 1
    )


def test_parquet_and_jsonl_of_the_same_records_are_the_same_data(
    db: Database, tmp_path: Path
) -> None:
    models = [make_consignment(n) for n in range(1, 30)]
    pq.write_table(to_arrow("consignment", models), tmp_path / "c.parquet")
    (tmp_path / "c.jsonl").write_text("\n".join(m.model_dump_json() for m in models) + "\n")
    (parquet,) = ingest(db, tmp_path / "c.parquet").files
    (jsonl,) = ingest(db, tmp_path / "c.jsonl").files
    assert (parquet.stored, jsonl.stored, jsonl.duplicates) == (29, 0, 29)


def test_a_directory_prefers_parquet_and_skips_subfolders(tmp_path: Path) -> None:
    for name in ("consignments.jsonl", "consignments.parquet", "travellers.jsonl", "notes.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "ground_truth").mkdir()
    (tmp_path / "ground_truth" / "truth.jsonl").write_text("")
    assert [p.name for p in ingest_files(tmp_path)] == ["consignments.parquet", "travellers.jsonl"]


def test_unknown_format_is_refused_with_the_file_named(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "manifest.edi"
    path.write_text("UNA:+.? '")
    with pytest.raises(FormatError, match=r"manifest\.edi"):
        ingest(db, path)


def test_large_files_prepared_in_a_second_process_give_the_same_result(
    tmp_path: Path,
) -> None:
    path = tmp_path / "manifest.jsonl"
    write_mixed(path)
    results = []
    for parallel in (False, True):
        db = Database(f"sqlite:///{tmp_path / f'{parallel}.db'}")
        db.upgrade()
        (summary,) = ingest(db, path, parallel=parallel, chunk_size=3).files
        results.append(
            (
                summary.stored,
                summary.duplicates,
                summary.quarantined,
                [str(p) for p in summary.problems],
            )
        )
    assert results[0] == results[1]


# --- column-wise validation of Parquet agrees with pydantic -------------------------------

BASE_ROWS = to_arrow("consignment", [make_consignment(n) for n in range(8)]).to_pylist()

MUTATIONS: list[tuple[tuple[Any, ...], list[Any]]] = [
    (("origin_country",), ["XX", "nl", "DE", None]),
    (("place_of_loading",), ["ECGY", "EC1AB", "COCTG"]),
    (("mode",), ["ship", "air"]),
    (("document", "kind"), ["waybill", "cmr"]),
    (("document", "number"), ["", "  ", "X1"]),
    (("parties",), [[]]),
    (("parties", 0, "name"), ["", "ACME"]),
    (("parties", 1, "address", "country"), ["ZZ", "BE", None]),
    (("parties", 1, "eori"), ["nl123", "NL999", None]),
    (("goods", 0, "hs_code"), ["12345", "0803900000", "08039", "abcdef"]),
    (("goods", 0, "gross_mass_kg"), [-1.0, 0.0, None]),
    (("goods", 0, "packages"), [-3, 7]),
    (("goods", 0, "currency"), ["usd", "EUR"]),
    (("goods",), [[]]),
    (("equipment", 0, "size_type"), ["45R", "22G1", None]),
    (("freight", "terms"), ["later", "collect"]),
    (("freight", "amount"), [-10.0, 5.0]),
    (("freight",), [None]),
    (("transshipment_places",), [["pamit"], [], ["JMKIN", "MAPTM"]]),
    (("routing_countries",), [["EC", "QQ"]]),
    (("record",), ["parcel"]),
]


def _mutate(row: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set the value at `path`, unless an earlier change removed the place it was in."""
    target: Any = row
    for key in path[:-1]:
        if target is None or (isinstance(key, int) and key >= len(target)):
            return
        target = target[key]
    if target is not None and not (isinstance(path[-1], int) and path[-1] >= len(target)):
        target[path[-1]] = value


def _pydantic_paths(row: dict[str, Any]) -> set[str | None]:
    """The fields the record-by-record (pydantic) validator names for this row."""
    _, problems = validate_chunk([RawRecord("row 1", row)])
    return {field for problem in problems for field, _ in problem.errors}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(BASE_ROWS) - 1),
            st.integers(0, len(MUTATIONS) - 1),
            st.integers(0, 3),
        ),
        max_size=6,
    )
)
def test_columnar_validation_agrees_with_pydantic(changes: list[tuple[int, int, int]]) -> None:
    rows = copy.deepcopy(BASE_ROWS)
    for row, which, pick in changes:
        path, values = MUTATIONS[which]
        _mutate(rows[row], path, values[pick % len(values)])
    table = pa.Table.from_pylist(rows, schema=arrow_schema("consignment"))
    good, problems = validate_table("consignment", table)
    by_row = {int(p.locator.split()[1]) - 1: p for p in problems}
    for i, row in enumerate(rows):
        expected = _pydantic_paths(row)
        if not expected:
            assert i not in by_row, by_row.get(i)
            continue
        assert i in by_row, (row, expected)
        problem = by_row[i]
        found = {field for field, _ in problem.errors}
        assert found == expected, (problem, expected)
    assert good.num_rows == len(rows) - len(by_row)


def test_only_exact_canonical_parquet_is_checked_column_wise() -> None:
    assert columnar_kind(arrow_schema("consignment")) == "consignment"
    assert columnar_kind(arrow_schema("traveller")) == "traveller"
    # Movements and control results have cross-field rules: pydantic checks them.
    assert columnar_kind(arrow_schema("movement")) is None
    assert columnar_kind(arrow_schema("consignment").remove(0)) is None
