"""The operational store: round trips on SQLite and PostgreSQL, idempotence, migrations."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import (
    at,
    make_consignment,
    make_container_event,
    make_control_result,
    make_movement,
    make_traveller,
    make_truck,
    make_vessel_event,
)
from pydantic import BaseModel
from sqlalchemy import select

from redlane.config import ConfigError, database_url
from redlane.intake.pipeline import store_models, to_arrow
from redlane.model import Equipment, TransportDocument
from redlane.store.bulk import write_batch
from redlane.store.database import Database
from redlane.store.flatten import Provenance, flatten
from redlane.store.records import load_records
from redlane.store.repository import count_rows, start_batch
from redlane.store.schema import consignments, metadata, movements, parties

RECORDS: dict[str, list[BaseModel]] = {
    "consignment": [
        make_consignment(1),
        make_consignment(
            2,
            mode="air",
            document=TransportDocument(kind="air_waybill", number="020-12345675"),
            equipment=[],
            freight=None,
            transshipment_places=[],
        ),
        # A bad container check digit and a bad air waybill: kept, and flagged.
        make_consignment(
            3,
            equipment=[Equipment(number="CSQU3054384", seals=["A1", "B2"])],
        ),
        make_consignment(
            4,
            mode="air",
            document=TransportDocument(kind="air_waybill", number="020-12345676"),
        ),
    ],
    "movement": [make_movement(), make_truck()],
    "traveller": [make_traveller(1), make_traveller(2, booking=None, sex=None)],
    "control_result": [make_control_result()],
    "container_event": [make_container_event(), make_container_event("MSKU1234565")],
    "vessel_event": [
        make_vessel_event(),
        make_vessel_event("port_call", place="PAMIT", start=at(14), end=at(15), hours=24.0),
        make_vessel_event("encounter", other_mmsi="232004567", imo=None, name=None),
    ],
}


def store(db: Database, kind: str, models: list[BaseModel], source: str = "test") -> int:
    return store_models(db, kind, models, source)


def content(model: BaseModel) -> dict[str, object]:
    return model.model_dump(exclude={"source"})


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_records_come_back_as_they_went_in(db: Database, kind: str) -> None:
    assert store(db, kind, RECORDS[kind]) == len(RECORDS[kind])
    back = load_records(db, kind)
    assert [content(m) for m in back] == [content(m) for m in RECORDS[kind]]


def test_provenance_is_kept(db: Database) -> None:
    store(db, "consignment", [make_consignment(7)], source="/data/manifest.jsonl")
    (back,) = load_records(db, "consignment")
    assert back.source is not None  # type: ignore[attr-defined]
    assert back.source.message_ref == "MSG7"  # type: ignore[attr-defined]
    assert back.source.sender == "MSC"  # type: ignore[attr-defined]
    with db.engine.connect() as conn:
        row = conn.execute(select(consignments.c.source_file, consignments.c.batch_id)).one()
    assert row.source_file == "/data/manifest.jsonl"


def test_same_content_is_stored_once_whatever_its_source(db: Database) -> None:
    first = make_consignment(1)
    resent = first.model_copy(update={"source": first.source.model_copy(update={"sender": "X"})})  # type: ignore[union-attr]
    assert store(db, "consignment", [first]) == 1
    assert store(db, "consignment", [resent, first]) == 0
    changed = make_consignment(1, office="NL000999")
    assert store(db, "consignment", [changed]) == 1
    assert count_rows(db, ["consignments"]) == {"consignments": 2}


def test_repeats_within_one_batch_are_dropped() -> None:
    models = [make_consignment(1), make_consignment(2), make_consignment(1)]
    flat = flatten("consignment", to_arrow("consignment", models), Provenance(1, "x"))
    assert (flat.records.num_rows, flat.in_batch_duplicates) == (2, 1)
    assert flat.records["document_number"].to_pylist() == ["MEDU00000001", "MEDU00000002"]
    assert flat.records["content_hash"][0] != flat.records["content_hash"][1]


def test_identifier_flags(db: Database) -> None:
    store(db, "consignment", RECORDS["consignment"])
    store(
        db,
        "movement",
        [
            make_movement(),
            make_movement(
                "SEA-2",
                conveyance=make_movement().conveyance.model_copy(
                    update={"imo": "9319467", "mmsi": "003520012"}
                ),
            ),
        ],
    )
    with db.engine.connect() as conn:
        flags = dict(
            conn.execute(
                select(consignments.c.document_number, consignments.c.containers_valid)
            ).all()
        )
        awb = dict(
            conn.execute(
                select(consignments.c.document_number, consignments.c.document_number_valid)
            ).all()
        )
        vessels = conn.execute(
            select(movements.c.ref, movements.c.imo_valid, movements.c.mmsi_valid).order_by(
                movements.c.ref
            )
        ).all()
    assert flags["MEDU00000001"] is True
    assert flags["MEDU00000003"] is False
    assert flags["020-12345675"] is None  # no containers
    assert awb["020-12345675"] is True
    assert awb["020-12345676"] is False
    assert awb["MEDU00000001"] is None  # a bill of lading has no check digit
    assert [tuple(v) for v in vessels] == [("SEA-1", True, True), ("SEA-2", False, False)]


def test_parties_are_entities_shared_across_documents(db: Database) -> None:
    store(db, "consignment", [make_consignment(1), make_consignment(2)])
    with db.engine.connect() as conn:
        names = conn.execute(select(parties.c.name).order_by(parties.c.name)).scalars().all()
        keys = conn.execute(select(consignments.c.consignee_key)).scalars().all()
    assert names == ["Fresh Import BV", "Frutas del Sur SA", "J. Doe"]
    assert len(set(keys)) == 1 and keys[0] is not None


def test_migrations_build_the_schema_the_code_expects(db: Database) -> None:
    assert db.current_revision() == db.head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    db.upgrade()  # idempotent
    assert db.current_revision() == db.head_revision()


def test_sqlite_runs_in_wal_mode(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_default_database_is_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDLANE_DATABASE_URL", raising=False)
    assert str(database_url()) == "sqlite:///var/redlane.db"
    monkeypatch.setenv("REDLANE_DATABASE_URL", "postgresql://u@h/db")
    assert database_url().drivername == "postgresql+psycopg"


@pytest.mark.parametrize("value", ["mysql://root@localhost/x", "not a url", "oracle://a/b"])
def test_a_wrong_database_setting_stops_with_its_name(value: str) -> None:
    with pytest.raises(ConfigError, match="REDLANE_DATABASE_URL"):
        Database(value)


def test_empty_batches_write_nothing(db: Database) -> None:
    empty = pa.Table.from_pylist([], schema=to_arrow("consignment", [make_consignment()]).schema)
    batch_id = start_batch(db, "empty", "test", None)
    assert write_batch(db, flatten("consignment", empty, Provenance(batch_id, "empty"))) == 0


def test_database_directory_is_created(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'deep' / 'er' / 'r.db'}")
    db.upgrade()
    assert (tmp_path / "deep" / "er" / "r.db").exists()
