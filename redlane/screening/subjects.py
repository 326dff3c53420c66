"""The subjects a stored target names, as the keys a watchlist entry is compared by.

A consignment names its containers, its parties (consignor, consignee, notify party, carrier)
and, through its movement, the vessel or the vehicles and haulier that carry it; a movement
names its own conveyance and operator; a traveller names themself (name with date of birth,
and travel document). Each comes out as (target_id, entity_kind, scheme, key, date_of_birth),
keyed by the same functions that key the entries (`normalise`), so the comparison is a join.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Set
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from redlane.screening.normalise import (
    identifier_key,
    imo_key,
    name_key,
    person_key,
)
from redlane.store.database import Database
from redlane.store.repository import fetch_arrow_in
from redlane.store.schema import consignments, movements, parties, travellers

SUBJECT_SCHEMA = pa.schema(
    [
        ("target_id", pa.int64()),
        ("entity_kind", pa.string()),
        ("scheme", pa.string()),
        ("key", pa.string()),
        ("date_of_birth", pa.date32()),
    ]
)

#: Document roles whose party counts as a subject of the consignment.
PARTY_ROLES = ("consignor", "consignee", "notify_party", "carrier")

Key = tuple[str, str, str, date | None]


def _party_keys(name: str | None) -> Iterator[Key]:
    # A party's declared kind is not always right: it is compared as company and as person.
    if name:
        yield ("company", "name", name_key(name), None)
        yield ("person", "name", person_key(name), None)


def conveyance_keys(
    kind: str | None,
    conveyance: str | None,
    imo: str | None = None,
    mmsi: str | None = None,
    name: str | None = None,
) -> list[Key]:
    """A conveyance's keys: a vessel's or yacht's IMO, MMSI, call sign and name, every plate of
    a vehicle (tractor and trailer), and the operator as a party."""
    data: dict[str, Any] = json.loads(conveyance) if conveyance else {}
    keys: list[Key] = []
    if kind in ("vessel", "yacht"):
        digits = imo_key(imo) if imo else None
        if digits:
            keys.append(("vessel", "imo", digits, None))
        if mmsi:
            keys.append(("vessel", "mmsi", identifier_key(mmsi), None))
        if data.get("call_sign"):
            keys.append(("vessel", "call_sign", identifier_key(data["call_sign"]), None))
        vessel_name = name or data.get("name")
        if vessel_name:
            keys.append(("vessel", "name", name_key(vessel_name), None))
    for plate in data.get("plates") or []:
        if plate.get("number"):
            keys.append(("vehicle", "plate", identifier_key(plate["number"]), None))
    operator = data.get("operator") or {}
    keys.extend(_party_keys(operator.get("name")))
    return [k for k in keys if k[2]]


Row = tuple[int, str, str, str, date | None]


def _table(rows: list[Row], only: Set[tuple[str, str, str]] | None = None) -> pa.Table:
    kept = rows if only is None else [r for r in rows if (r[1], r[2], r[3]) in only]
    columns = list(zip(*kept, strict=True)) if kept else [() for _ in SUBJECT_SCHEMA]
    return pa.Table.from_arrays(
        [pa.array(list(c), f.type) for c, f in zip(columns, SUBJECT_SCHEMA, strict=True)],
        schema=SUBJECT_SCHEMA,
    )


def _column(targets: pa.Table, name: str) -> list[Any]:
    return targets.column(name).to_pylist() if targets.num_rows else []


def _consignment_keys(
    db: Database, targets: pa.Table, only: Set[tuple[str, str, str]] | None
) -> pa.Table:
    ids = _column(targets, "id")
    rows: list[Row] = []
    for target_id, numbers in zip(ids, _column(targets, "container_numbers"), strict=True):
        for number in (numbers or "").split(","):
            if identifier_key(number):
                rows.append((target_id, "container", "number", identifier_key(number), None))
    role_keys = {role: _column(targets, f"{role}_key") for role in PARTY_ROLES}
    wanted = [k for keys in role_keys.values() for k in keys if k is not None]
    party_query = select(parties.c.key, parties.c.name)
    found = fetch_arrow_in(db, party_query, parties.c.key, wanted).to_pylist()
    names = {row["key"]: row["name"] for row in found}
    for keys in role_keys.values():
        for target_id, key in zip(ids, keys, strict=True):
            for kind, scheme, value, born in _party_keys(names.get(key)):
                rows.append((target_id, kind, scheme, value, born))
    refs = _column(targets, "movement_ref")
    carriers = _movement_keys_by_ref(db, refs)
    for target_id, ref in zip(ids, refs, strict=True):
        for kind, scheme, value, born in carriers.get(ref, ()):
            rows.append((target_id, kind, scheme, value, born))
    return _table(sorted(set(rows), key=lambda r: (r[0], r[1], r[2], r[3])), only)


def _movement_keys_by_ref(db: Database, refs: list[Any]) -> dict[str, set[Key]]:
    query = select(
        movements.c.ref, movements.c.conveyance_kind, movements.c.conveyance, movements.c.imo,
        movements.c.mmsi, movements.c.name,
    )  # fmt: skip
    found: dict[str, set[Key]] = {}
    for row in fetch_arrow_in(db, query, movements.c.ref, refs).to_pylist():
        keys = conveyance_keys(
            row["conveyance_kind"], row["conveyance"], row["imo"], row["mmsi"], row["name"]
        )
        found.setdefault(row["ref"], set()).update(keys)
    return found


def _movement_keys(targets: pa.Table, only: Set[tuple[str, str, str]] | None) -> pa.Table:
    rows = [
        (target_id, *key)
        for target_id, kind, conveyance, imo, mmsi, name in zip(
            *(_column(targets, c) for c in ("id", "conveyance_kind", "conveyance", "imo", "mmsi",
                                             "name")),
            strict=True,
        )
        for key in conveyance_keys(kind, conveyance, imo, mmsi, name)
    ]  # fmt: skip
    return _table(sorted(set(rows), key=lambda r: (r[0], r[1], r[2], r[3])), only)


def _traveller_keys(targets: pa.Table, only: Set[tuple[str, str, str]] | None) -> pa.Table:
    rows: list[Row] = []
    columns = ("id", "surname", "given_names", "date_of_birth", "document_number")
    for target_id, surname, given, born, document in zip(
        *(_column(targets, c) for c in columns), strict=True
    ):
        name = person_key(f"{given or ''} {surname or ''}")
        if name:
            rows.append((target_id, "person", "name", name, born))
        if document and identifier_key(document):
            rows.append((target_id, "person", "document", identifier_key(document), None))
    return _table(rows, only)


def subject_keys(
    db: Database, kind: str, targets: pa.Table, only: Set[tuple[str, str, str]] | None = None
) -> pa.Table:
    """(target_id, entity_kind, scheme, key, date_of_birth) for every subject the stored
    targets (rows of their table, as `features.read_targets` gives them) name; with `only`,
    just the (entity_kind, scheme, key) triples in it (those some entry has). A key with a
    date of birth matches only an entry with the same date of birth."""
    if kind == "consignment":
        return _consignment_keys(db, targets, only)
    if kind == "movement":
        return _movement_keys(targets, only)
    if kind == "traveller":
        return _traveller_keys(targets, only)
    raise ValueError(f"target kind {kind!r}: expected consignment, movement or traveller")


_TABLES = {"consignment": consignments, "movement": movements, "traveller": travellers}


def stored_subject_keys(db: Database, kind: str, ids: list[int]) -> pa.Table:
    """`subject_keys` of stored targets given by id."""
    if kind not in _TABLES:
        raise ValueError(f"target kind {kind!r}: expected consignment, movement or traveller")
    table = _TABLES[kind]
    return subject_keys(db, kind, fetch_arrow_in(db, select(table), table.c.id, ids))
