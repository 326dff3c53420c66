"""Reading canonical records back out of the store, exactly as they went in.

Each row is turned back into the model it came from (and validated again), so what the store
holds can always be shown, exported or re-scored as the record it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select

from redlane.model import RECORD_ADAPTER
from redlane.store.database import Database
from redlane.store.schema import RECORD_TABLES, parties


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    # SQLite hands back the naive UTC text we stored; PostgreSQL an aware timestamp.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _codes(text: str | None) -> list[str]:
    return text.split(",") if text else []


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _source(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_ref": row["message_ref"],
        "sender": row["sender"],
        "received_at": _utc(row["received_at"]),
    }


def _party(row: dict[str, Any], role: str) -> dict[str, Any]:
    address = {k: row[k] for k in ("street", "city", "postcode", "country")}
    return {
        "kind": row["kind"],
        "name": row["name"],
        "address": address if any(v is not None for v in address.values()) else None,
        **{k: row[k] for k in ("eori", "vat", "phone", "email")},
        "role": role,
    }


def _consignment(row: dict[str, Any], known_parties: dict[int, dict[str, Any]]) -> dict[str, Any]:
    roles = json.loads(row["party_roles"])
    return {
        "record": "consignment",
        "mode": row["mode"],
        "document": {
            "kind": row["document_kind"],
            "number": row["document_number"],
            "master_number": row["master_number"],
        },
        "movement_ref": row["movement_ref"],
        "office": row["office"],
        "declared_at": _utc(row["declared_at"]),
        "arrival_date": _day(row["arrival_date"]),
        "parties": [
            _party(known_parties[int(key)], role)
            for role, key in zip(roles["roles"], roles["keys"], strict=True)
        ],
        "place_of_loading": row["place_of_loading"],
        "place_of_discharge": row["place_of_discharge"],
        "place_of_delivery": row["place_of_delivery"],
        "origin_country": row["origin_country"],
        "destination_country": row["destination_country"],
        "transshipment_places": _codes(row["transshipment_places"]),
        "routing_countries": _codes(row["routing_countries"]),
        "goods": json.loads(row["goods"]),
        "equipment": json.loads(row["equipment"]),
        "freight": _json(row["freight"]),
        "source": _source(row),
    }


def _movement(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "record": "movement",
        "ref": row["ref"],
        "conveyance": json.loads(row["conveyance"]),
        "flight_number": row["flight_number"],
        "itinerary": json.loads(row["itinerary"]),
        "persons_on_board": row["persons_on_board"],
        "source": _source(row),
    }


def _traveller(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "record": "traveller",
        "movement_ref": row["movement_ref"],
        "role": row["role"],
        "surname": row["surname"],
        "given_names": row["given_names"],
        "date_of_birth": _day(row["date_of_birth"]),
        "sex": row["sex"],
        "nationality": row["nationality"],
        "document": json.loads(row["document"]),
        "itinerary": json.loads(row["itinerary"]),
        "booking": _json(row["booking"]),
        "phone": row["phone"],
        "email": row["email"],
        "source": _source(row),
    }


def _control_result(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "record": "control_result",
        "target_kind": row["target_kind"],
        "target_ref": row["target_ref"],
        "office": row["office"],
        "controlled_on": _day(row["controlled_on"]),
        "outcome": row["outcome"],
        "seizures": json.loads(row["seizures"]),
        "notes": row["notes"],
        "source": _source(row),
    }


def _parties_by_key(db: Database, keys: Iterable[int]) -> dict[int, dict[str, Any]]:
    wanted = sorted(set(keys))
    found: dict[int, dict[str, Any]] = {}
    with db.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            query = select(parties).where(parties.c.key.in_(wanted[start : start + 500]))
            found.update({row.key: dict(row._mapping) for row in conn.execute(query)})
    return found


def _container_event(row: dict[str, Any]) -> dict[str, Any]:
    names = (
        "record", "event", "container", "size_type", "full", "vessel", "voyage", "place",
        "port_of_loading", "port_of_discharge", "stowage", "gross_mass_kg", "operator",
    )  # fmt: skip
    data = {name: row.get(name) for name in names}
    data.update(
        record="container_event",
        full=None if row["full"] is None else bool(row["full"]),
        seals=_codes(row["seals"]),
        at=_utc(row["at"]),
        source=_source(row),
    )
    return data


def _vessel_event(row: dict[str, Any]) -> dict[str, Any]:
    names = ("kind", "mmsi", "imo", "name", "hours", "place", "lat", "lon", "other_mmsi")
    data = {name: row.get(name) for name in names}
    data.update(
        record="vessel_event", start=_utc(row["start"]), end=_utc(row["end"]), source=_source(row)
    )
    return data


def load_records(
    db: Database,
    kind: str,
    *,
    where: Sequence[Any] = (),
    limit: int | None = None,
) -> list[BaseModel]:
    """Stored records of one kind as models, in the order they were stored.

    `where` takes SQLAlchemy conditions on the kind's table, e.g.
    `[consignments.c.document_number == "MEDU1234567"]`.
    """
    table = RECORD_TABLES[kind]
    query: Select[Any] = select(table).where(*where).order_by(table.c.id).limit(limit)
    with db.engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query)]
    if kind == "consignment":
        keys = (int(k) for row in rows for k in json.loads(row["party_roles"])["keys"])
        known = _parties_by_key(db, keys)
        data = [_consignment(row, known) for row in rows]
    else:
        build = {
            "movement": _movement, "traveller": _traveller, "control_result": _control_result,
            "container_event": _container_event, "vessel_event": _vessel_event,
        }  # fmt: skip
        data = [build[kind](row) for row in rows]
    return [RECORD_ADAPTER.validate_python(item) for item in data]
