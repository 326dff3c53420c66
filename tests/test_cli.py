"""The command line: a thin shell whose commands run end to end and fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_consignment
from typer.testing import CliRunner

from redlane.cli import app
from redlane.store.database import Database

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_generate_ingest_stats(tmp_path: Path, database: str) -> None:
    out = tmp_path / "traffic"
    result = runner.invoke(app, ["generate", "--out", str(out), "--scale", "0.01", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "consignment" in result.output and (out / "consignments.parquet").exists()

    result = runner.invoke(app, ["ingest", str(out), "--database", database])
    assert result.exit_code == 0, result.output
    assert "consignments.parquet" in result.output and "ground_truth" not in result.output

    result = runner.invoke(app, ["stats", "--database", database])
    assert result.exit_code == 0, result.output
    assert "Consignments by mode" in result.output
    assert "sea" in result.output


def test_bad_records_are_reported_and_listed(tmp_path: Path, database: str) -> None:
    feed = tmp_path / "feed.jsonl"
    good = make_consignment(1).model_dump_json()
    bad = good.replace('"origin_country":"EC"', '"origin_country":"ZZ"')
    feed.write_text(good + "\n" + bad + "\n")
    result = runner.invoke(app, ["ingest", str(feed), "--database", database])
    assert result.exit_code == 0, result.output
    assert "line 2, field origin_country" in result.output
    listed = runner.invoke(app, ["quarantine", "list", "--database", database])
    assert "line 2" in listed.output and "origin_country" in listed.output


def test_a_wrong_database_setting_stops_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLANE_DATABASE_URL", "mysql://root@localhost/x")
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 2
    assert "REDLANE_DATABASE_URL" in result.output


def test_an_unknown_format_stops_with_the_file_named(tmp_path: Path, database: str) -> None:
    feed = tmp_path / "feed.edi"
    feed.write_text("UNB+UNOC:3'")
    result = runner.invoke(app, ["ingest", str(feed), "--database", database])
    assert result.exit_code == 2
    assert "feed.edi" in result.output


def test_db_upgrade_reports_the_revision(database: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--database", database])
    assert result.exit_code == 0
    assert f"revision {Database(database).head_revision()}" in result.output


def test_generate_refuses_an_unknown_record_kind(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--out", str(tmp_path), "--kinds", "parcel"])
    assert result.exit_code == 2
    assert "parcel" in result.output


def test_target_input_ingests_the_file_and_targets_only_its_records(
    tmp_path: Path, database: str
) -> None:
    older = tmp_path / "older.jsonl"
    older.write_text(make_consignment(7).model_dump_json() + "\n")
    assert runner.invoke(app, ["ingest", str(older), "--database", database]).exit_code == 0
    feed = tmp_path / "manifest.jsonl"
    feed.write_text("".join(make_consignment(n).model_dump_json() + "\n" for n in (1, 2)))
    out = tmp_path / "selections.csv"
    result = runner.invoke(
        app, ["target", "--input", str(feed), "--out", str(out), "--database", database]
    )
    assert result.exit_code == 0, result.output
    assert "2 targets" in result.output
    assert "MEDU00000007" not in out.read_text()
    missing = runner.invoke(app, ["target", "--database", database])
    assert missing.exit_code == 2 and "give --input FILE or --since DATE" in missing.output
    settings = tmp_path / "selection.yaml"
    settings.write_text("capacitty: 3\n")
    wrong = runner.invoke(
        app,
        ["target", "--since", "2026-11-02", "--settings", str(settings), "--database", database],
    )
    assert wrong.exit_code == 2 and "capacitty" in wrong.output


def test_a_store_without_its_schema_stops_a_command_with_what_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"
    result = CliRunner().invoke(app, ["stats", "--database", url])
    assert result.exit_code == 2
    assert "has no schema" in result.output and "redlane db upgrade" in result.output
    assert CliRunner().invoke(app, ["db", "upgrade", "--database", url]).exit_code == 0
    assert CliRunner().invoke(app, ["stats", "--database", url]).exit_code == 0
