"""Shared fixtures: stores on SQLite and PostgreSQL, and canonical records built in code."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from redlane import security
from redlane.model import (
    Address,
    Booking,
    Call,
    Consignment,
    ControlResult,
    Conveyance,
    Equipment,
    Freight,
    GoodsItem,
    Leg,
    Movement,
    Party,
    Plate,
    RoledParty,
    Seizure,
    Source,
    TransportDocument,
    TravelDocument,
    Traveller,
)
from redlane.store.database import Database

POSTGRES_URL = os.environ.get("REDLANE_TEST_DATABASE_URL")


def _postgres_database() -> Iterator[Database]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not POSTGRES_URL:
        if os.environ.get("REDLANE_REQUIRE_POSTGRES"):
            pytest.fail("REDLANE_REQUIRE_POSTGRES is set but REDLANE_TEST_DATABASE_URL is not")
        pytest.skip("REDLANE_TEST_DATABASE_URL is not set")
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    name = f"redlane_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(admin_url.set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(autouse=True, scope="session")
def node_signing_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The node's Ed25519 key, as REDLANE_NODE_KEY_FILE names it on a real node: the mailbox
    signs what it sends with it. Tests of the setting itself change or remove it."""
    path = tmp_path_factory.mktemp("node") / "node.key"
    security.generate_node_key(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDLANE_NODE_KEY_FILE", str(path))
        yield path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Database]:
    """An empty, migrated store on each supported database."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'redlane.db'}")
        database.upgrade()
        yield database
        database.dispose()
    else:
        for database in _postgres_database():
            database.upgrade()
            yield database


@pytest.fixture
def sqlite_db(tmp_path: Any) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'redlane.db'}")
    database.upgrade()
    yield database
    database.dispose()


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def make_consignment(n: int = 1, **changes: Any) -> Consignment:
    """A sea consignment of bananas from Guayaquil via Manzanillo to Rotterdam."""
    fields: dict[str, Any] = {
        "mode": "sea",
        "document": TransportDocument(kind="bill_of_lading", number=f"MEDU{n:08d}"),
        "movement_ref": "SEA-1",
        "office": "NL000396",
        "declared_at": at(1, 8),
        "arrival_date": date(2026, 11, 2),
        "parties": [
            RoledParty(
                role="consignor",
                name="Frutas del Sur SA",
                address=Address(city="Guayaquil", country="EC"),
            ),
            RoledParty(
                role="consignee",
                name="Fresh Import BV",
                eori="NL123456789",
                address=Address(street="Kade 1", city="Rotterdam", postcode="3011", country="NL"),
                phone="+31 10 000 0000",
            ),
            RoledParty(role="freight_payer", kind="person", name="J. Doe"),
        ],
        "place_of_loading": "ECGYE",
        "place_of_discharge": "NLRTM",
        "origin_country": "EC",
        "destination_country": "NL",
        "transshipment_places": ["PAMIT"],
        "routing_countries": ["EC", "PA", "NL"],
        "goods": [
            GoodsItem(
                hs_code="080390",
                description="Fresh bananas",
                packages=1080,
                gross_mass_kg=21000.5,
                value=18000.0,
                currency="USD",
            )
        ],
        "equipment": [
            Equipment(number="CSQU3054383", size_type="45R1", reefer=True, seals=["EC123456"])
        ],
        "freight": Freight(
            amount=3500, currency="USD", terms="prepaid", payer_role="freight_payer"
        ),
        "source": Source(message_ref=f"MSG{n}", sender="MSC"),
    }
    fields.update(changes)
    return Consignment(**fields)


def make_movement(ref: str = "SEA-1", **changes: Any) -> Movement:
    fields: dict[str, Any] = {
        "ref": ref,
        "conveyance": Conveyance(
            kind="vessel", name="MSC EXAMPLE", flag="PA", imo="9319466", mmsi="352001234"
        ),
        "itinerary": [
            Call(place="ECGYE", departure=at(10)),
            Call(place="PAMIT", arrival=at(14), departure=at(15)),
            Call(place="NLRTM", arrival=at(28)),
        ],
    }
    fields.update(changes)
    return Movement(**fields)


def make_truck(ref: str = "ROAD-1") -> Movement:
    return Movement(
        ref=ref,
        conveyance=Conveyance(
            kind="truck",
            plates=[
                Plate(number="34ABC123", country="TR"),
                Plate(number="34XY99", country="TR", unit="trailer"),
            ],
            operator=Party(name="Anadolu Lojistik", address=Address(country="TR")),
            acquired_on=date(2026, 9, 1),
        ),
        itinerary=[Call(place="TRIST", departure=at(1)), Call(place="BGKPV", arrival=at(2))],
    )


def make_traveller(n: int = 1, **changes: Any) -> Traveller:
    fields: dict[str, Any] = {
        "movement_ref": "AIR-KL742",
        "surname": "ERIKSSON",
        "given_names": "ANNA MARIA",
        "date_of_birth": date(1974, 8, 12),
        "sex": "F",
        "nationality": "SE",
        "document": TravelDocument(
            kind="passport",
            number=f"L8989{n:04d}",
            issuing_country="SE",
            expires_on=date(2030, 4, 15),
        ),
        "itinerary": [
            Leg(origin="COBOG", destination="NLAMS", departs_at=at(1, 20), flight_number="KL742")
        ],
        "booking": Booking(
            locator=f"ABC{n:03d}", booked_at=at(1, 2), payment_form="cash", one_way=True
        ),
    }
    fields.update(changes)
    return Traveller(**fields)


def make_container_event(number: str = "CSQU3054383") -> Any:
    from redlane.model import ContainerEvent

    return ContainerEvent(
        event="discharged", container=number, size_type="45R1", full=True, seals=["EC123456"],
        vessel="9319466", voyage="123W", place="NLRTM", port_of_loading="ECGYE",
        stowage="0780690", at=at(2, 6), gross_mass_kg=25500.0, operator="MSC",
    )  # fmt: skip


def make_vessel_event(kind: str = "ais_gap", mmsi: str = "352001234", **changes: Any) -> Any:
    """An AIS gap of the conftest vessel mid-Atlantic (or another kind, with `changes`)."""
    from redlane.model import VesselEvent

    fields: dict[str, Any] = {
        "kind": kind, "mmsi": mmsi, "imo": "9319466", "name": "MSC EXAMPLE",
        "start": at(20, 6), "end": at(21, 8), "hours": 26.0, "lat": 21.5, "lon": -40.25,
    }  # fmt: skip
    fields.update(changes)
    return VesselEvent(**fields)


def make_control_result(ref: str = "MEDU00000001") -> ControlResult:
    return ControlResult(
        target_ref=ref,
        office="NL000396",
        controlled_on=date(2026, 11, 3),
        outcome="seizure",
        seizures=[Seizure(drug="cocaine", quantity_kg=120.5, concealment="rip-on/rip-off bags")],
    )


def feature_table(rows: list[dict[str, Any]], kind: str = "consignment") -> Any:
    """Rows of catalogue fields as the feature table the engines score (missing fields null)."""
    import pyarrow as pa

    from redlane.targeting import CATALOGUE

    types = {
        "string": pa.string(), "integer": pa.int32(), "number": pa.float64(),
        "boolean": pa.bool_(), "date": pa.date32(), "list": pa.list_(pa.string()),
    }  # fmt: skip
    schema = pa.schema(
        [("target_kind", pa.string()), ("target_id", pa.int64()), ("target_ref", pa.string())]
        + [(f.name, types[f.type]) for f in CATALOGUE[kind].values()]  # type: ignore[index]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def read_every_message(text: str, fmt: str = "cuscar") -> int:
    """Everything the message path of format `fmt` does with `text`, as ingest does it: read,
    map, validate. Returns the records accepted; anything but our own typed handling raises."""
    import io

    from redlane.intake.canonical import validate_chunk
    from redlane.intake.formats import MESSAGE_FORMATS

    message_format = MESSAGE_FORMATS[fmt]
    accepted = 0
    for item in message_format.read(io.StringIO(text)):
        records, _problems = message_format.records(item)
        models, _refused = validate_chunk(records) if records else ([], [])
        accepted += len(models)
    return accepted


def mutated_messages(texts: list[str], alphabet: str) -> Any:
    """Fuzz input for a message parser: random text from `alphabet`, or one of `texts`
    truncated, with characters replaced, or with characters inserted."""
    from hypothesis import strategies as st

    chars = st.sampled_from(list(alphabet))

    @st.composite
    def mutated(draw: st.DrawFn) -> str:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            return draw(st.text(alphabet=chars, max_size=300))
        text = draw(st.sampled_from(texts))
        if choice == 1:
            return text[: draw(st.integers(0, len(text)))]
        edits = draw(st.lists(st.tuples(st.integers(0, len(text) - 1), chars), max_size=8))
        out = list(text)
        for at, c in edits:
            if choice == 2:
                out[at] = c
            else:
                out.insert(at, c)
        return "".join(out)

    return mutated()


PASSWORD = "correct horse battery"
AGENCIES = {
    "CO-DIJIN": ("Dirección de Investigación Criminal", "police", "CO"),
    "ES-SVA": ("Servicio de Vigilancia Aduanera", "customs", "ES"),
    "NL-DOUANE": ("Douane Nederland", "customs", "NL"),
    "FR-DNRED": ("DNRED", "customs", "FR"),
}


def add_staff(db: Database, users: Sequence[tuple[str, str, str]]) -> None:
    """The agencies (from AGENCIES) and users (name, agency, role) of an exchange test, each
    user with PASSWORD."""
    for code in dict.fromkeys(agency for _, agency, _ in users):
        security.add_agency(db, code, *AGENCIES[code])
    for name, agency, role in users:
        security.add_user(db, name, agency, PASSWORD, [role])
