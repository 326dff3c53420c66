"""Quarantine: show a refused record, retry it after a fix (a sender's qualifier mapping)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_consignment, make_movement
from typer.testing import CliRunner

from redlane.cli import app
from redlane.config import ConfigError
from redlane.intake.cuscar import write_cuscar
from redlane.intake.pipeline import ingest
from redlane.intake.quarantine import QuarantineError, retry, show
from redlane.store.database import Database
from redlane.store.records import load_records
from redlane.store.repository import quarantined

PREPARED = datetime(2026, 11, 1, 8, tzinfo=UTC)


def _manifest(tmp_path: Path) -> Path:
    """A carrier that calls its shippers 'SH' and its consignees 'CE': unknown qualifiers."""
    documents = [make_consignment(1), make_consignment(2)]
    text = write_cuscar(
        make_movement("SEA-1"), documents, sender="ODDLINE", recipient="NL", reference="Q1",
        prepared=PREPARED,
    )  # fmt: skip
    for standard, own in (("NAD+CZ", "NAD+SH"), ("NAD+CN", "NAD+CE"), ("NAD+FP", "NAD+PF")):
        text = text.replace(standard, own)
    path = tmp_path / "oddline.edi"
    path.write_text(text)
    return path


def test_show_and_retry_after_the_senders_mapping_is_fixed(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDLANE_INTAKE_MAPPINGS", raising=False)
    (first,) = ingest(db, _manifest(tmp_path)).files
    assert (first.stored, first.quarantined) == (1, 2)  # the voyage goes in, both bills refused
    rows = quarantined(db)
    assert {r["field"] for r in rows} == {"parties"}
    one = show(db, rows[0]["id"])
    assert one["raw"].startswith("UNH+1+CUSCAR") and "NAD+SH" in one["raw"]
    assert one["sender"] == "ODDLINE"
    with pytest.raises(QuarantineError, match="no such record"):
        show(db, 12345)

    unchanged = retry(db)
    assert (unchanged.tried, unchanged.resolved, unchanged.still_refused) == (2, 0, 2)

    mappings = tmp_path / "mappings.yaml"
    mappings.write_text(
        "cuscar:\n  senders:\n    ODDLINE:\n      parties: {SH: consignor, CE: consignee, "
        "PF: freight_payer}\n"
    )
    monkeypatch.setenv("REDLANE_INTAKE_MAPPINGS", str(mappings))
    fixed = retry(db)
    assert (fixed.tried, fixed.resolved, fixed.still_refused) == (2, 2, 0)
    assert fixed.stored == 2  # both bills; the voyage was stored before
    assert quarantined(db) == []
    stored = sorted(load_records(db, "consignment"), key=lambda c: c.document.number)
    assert [c.model_dump(exclude={"source"}) for c in stored] == [
        make_consignment(n).model_dump(exclude={"source"}) for n in (1, 2)
    ]


def test_a_broken_mappings_file_stops_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cuscar:\n  senders: [not, a, mapping]\n")
    monkeypatch.setenv("REDLANE_INTAKE_MAPPINGS", str(bad))
    from redlane.intake.cuscar import mapping_for

    with pytest.raises(ConfigError, match="REDLANE_INTAKE_MAPPINGS="):
        mapping_for("ANY")


def test_quarantine_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDLANE_INTAKE_MAPPINGS", raising=False)
    database = f"sqlite:///{tmp_path / 'q.db'}"
    runner = CliRunner()
    assert (
        runner.invoke(app, ["ingest", str(_manifest(tmp_path)), "--database", database]).exit_code
        == 0
    )
    rows = quarantined(Database(database))
    shown = runner.invoke(app, ["quarantine", "show", str(rows[0]["id"]), "--database", database])
    assert shown.exit_code == 0 and "NAD+SH" in shown.output and "parties" in shown.output
    again = runner.invoke(app, ["quarantine", "retry", "--database", database])
    assert again.exit_code == 0 and "tried 2: 0 resolved" in again.output
    missing = runner.invoke(app, ["quarantine", "show", "999", "--database", database])
    assert missing.exit_code == 2 and "no such record" in missing.output
