"""Tabular files through mapping files: truck crossings, yacht reports, any layout."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import mutated_messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from redlane.cli import app
from redlane.intake.pipeline import ingest
from redlane.intake.tabular import MappingFileError, load_mapping
from redlane.model import Movement
from redlane.store.database import Database
from redlane.store.records import load_records
from redlane.targeting import Window, features_for

HEADER = (
    "crossing_id,tractor_plate,tractor_country,trailer_plate,trailer_country,haulier,"
    "haulier_country,tractor_acquired_on,origin,departed_at,border_post,crossed_at,persons"
)
ROWS = (
    "ROAD-1,34ABC123,TR,34XY99,TR,Anadolu Lojistik,TR,2026-09-01,TRIST,2026-11-01T06:00:00Z,"
    "BGKPV,2026-11-02T04:30:00Z,1",
    "ROAD-2,PB1234AA,BG,,,Sofia Trans,BG,,BGSOF,2026-11-01T20:00:00Z,ROCAF,2026-11-02T09:10:00Z,2",
    "ROAD-3,34ZZ001,TR,,,Anadolu Lojistik,TR,,TRIST,2026-11-01T06:00:00Z,Kapitan Andreevo,"
    "2026-11-02T05:00:00Z,1",
)
TRUCKS = "\n".join([HEADER, *ROWS]) + "\n"


def test_truck_crossings_csv_maps_onto_movements(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "crossings.csv"
    path.write_text(TRUCKS)
    (summary,) = ingest(db, path, mapping="truck_crossings").files
    assert (summary.read, summary.stored, summary.quarantined) == (3, 2, 1)
    (problem,) = summary.problems
    assert (problem.locator, problem.field) == ("line 4", "itinerary.1.place")
    assert "Kapitan Andreevo" in problem.raw
    first, second = load_records(db, "movement")
    assert isinstance(first, Movement) and isinstance(second, Movement)
    assert [(p.number, p.country, p.unit) for p in first.conveyance.plates] == [
        ("34ABC123", "TR", "tractor"), ("34XY99", "TR", "trailer"),
    ]  # fmt: skip
    assert first.conveyance.operator is not None
    assert first.conveyance.operator.name == "Anadolu Lojistik"
    assert first.conveyance.acquired_on == date(2026, 9, 1)
    assert first.itinerary[-1].arrival == datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    assert [p.unit for p in second.conveyance.plates] == ["tractor"]  # no trailer given
    assert second.conveyance.acquired_on is None and second.persons_on_board == 2
    (again,) = ingest(db, path, mapping="truck_crossings").files
    assert (again.stored, again.duplicates) == (0, 2)


def test_yacht_reports_feed_the_yacht_facts(db: Database, tmp_path: Path) -> None:
    report = {
        "report_id": "YACHT-7", "name": "Blue Horizon", "flag": "VC", "mmsi": "375123456",
        "registration": "SVG-1234", "owner": "J. Smith", "owner_country": "GB",
        "purchased_on": "2026-07-05", "crew": "2", "last_port": "GPPTP",
        "left_last_port_at": "2026-10-12T10:00:00Z", "next_port": "PTLIS",
        "eta": "2026-11-02T15:00:00Z",
    }  # fmt: skip
    path = tmp_path / "yachts.jsonl"
    path.write_text(json.dumps(report) + "\n")
    (summary,) = ingest(db, path, mapping="yacht_reports").files
    assert summary.stored == 1
    day = date(2026, 11, 2)
    (facts,) = features_for(db, "movement", Window(day, day + timedelta(days=1))).to_pylist()
    assert facts["conveyance_kind"] == "yacht" and facts["persons_on_board"] == 2
    assert facts["owned_days"] == (day - date(2026, 7, 5)).days
    assert facts["call_countries"] == ["GP", "PT"] and facts["mmsi_valid"] is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("record: ship\nfields: {ref: a}\n", "record 'ship' is not one of"),
        ("record: movement\nfields: {'itinerary[x].place': a}\n", "is not a field path"),
        ("record: movement\nfields: {ref: {col: a}}\n", "give a column name or {value: ...}"),
        ("fields: {ref: a}\n", "a mapping needs 'record' and 'fields'"),
    ],
)
def test_a_wrong_mapping_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(MappingFileError, match=r"mine\.yaml") as caught:
        load_mapping(path)
    assert message in str(caught.value)


def test_an_unknown_shipped_mapping_stops_the_command(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    result = CliRunner().invoke(
        app,
        ["ingest", str(path), "--mapping", "lorries", "--database", f"sqlite:///{tmp_path}/t.db"],
    )
    assert result.exit_code == 2
    assert (
        "no shipped mapping 'lorries'; there are: road_consignments, truck_crossings"
        in result.output
    )


def test_the_demo_road_and_yacht_tables_hold_the_very_canonical_records(
    sqlite_db: Database, tmp_path: Path
) -> None:
    from redlane.demo import generate
    from redlane.demo.road_yacht_files import write_road_yacht_files

    traffic = tmp_path / "traffic"
    generate(traffic, scale=0.05, seed=4, formats=("parquet",))
    folders = {p.parent for p in write_road_yacht_files(traffic)}
    assert sorted(f.name for f in folders) == [
        "road_consignments", "truck_crossings", "yacht_reports",
    ]  # fmt: skip
    canonical = ingest(sqlite_db, traffic)
    for folder in sorted(folders):
        summary = ingest(sqlite_db, folder, mapping=folder.name)
        assert summary.total("quarantined") == 0, summary.files[0].problems[:3]
        assert summary.total("read") > 0
        # every crossing, CMR and yacht report is already stored from the canonical files
        assert (summary.total("stored"), summary.total("duplicates")) == (
            0, summary.total("read"),
        )  # fmt: skip
    assert canonical.total("stored") > 0


def test_a_table_of_a_shipped_layout_is_recognised_by_its_columns(tmp_path: Path) -> None:
    from redlane.intake.canonical import FormatError
    from redlane.intake.formats import detect_format

    crossings = tmp_path / "crossings.csv"
    crossings.write_text(TRUCKS)
    assert detect_format(crossings) == "mapped:truck_crossings"
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps({"report_id": "Y-1", "name": "Blue", "next_port": "ESVGO"}))
    assert detect_format(reports) == "mapped:yacht_reports"
    canonical = tmp_path / "records.jsonl"
    canonical.write_text(json.dumps({"record": "movement", "ref": "Y-1"}))
    assert detect_format(canonical) == "jsonl"
    # columns two layouts share (or none knows) name no mapping: the user must say which
    for header in ("crossing_id,haulier\n", "plate,when\n"):
        unknown = tmp_path / "unknown.csv"
        unknown.write_text(header)
        with pytest.raises(FormatError, match="no single shipped mapping fits the columns"):
            detect_format(unknown)


_CROSSING = (
    "crossing_id,tractor_plate,tractor_country,haulier,origin,departed_at,border_post,"
    "crossed_at,persons\n"
    "ROAD-1,34ABC123,TR,Anadolu Lojistik,TRIST,2026-11-01T20:00:00Z,BGKPV,"
    "2026-11-02T04:30:00Z,2\n"
)
_REPORT = json.dumps(
    {"report_id": "Y-1", "name": "Blue", "flag": "VC", "mmsi": "375123456", "crew": 2,
     "last_port": "VCKTN", "left_last_port_at": "2026-10-10T10:00:00Z", "next_port": "ESVGO",
     "eta": "2026-11-02T09:00:00Z"}
) + "\n"  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from([(".csv", "truck_crossings"), (".jsonl", "yacht_reports")]),
    mutated_messages([_CROSSING, _REPORT], ',"{}[]:\n\r\x00 0123456789ABTZ-.'),
)
def test_fuzz_tables_nothing_but_our_errors_escape(layout: tuple[str, str], text: str) -> None:
    """Any bytes in a mapped table: rows are mapped and validated or refused, nothing raises."""
    import tempfile

    from redlane.intake.canonical import validate_chunk
    from redlane.intake.tabular import mapped_rows, shipped_mapping

    suffix, mapping = layout
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"table{suffix}"
        path.write_text(text, encoding="utf-8")
        records = list(mapped_rows(path, shipped_mapping(mapping)))
        if records:
            validate_chunk(records)
