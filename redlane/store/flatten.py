"""From canonical records in Arrow to the store's rows, with DuckDB over the whole batch.

The content hash is 63 bits of the MD5 of the record's JSON without its provenance (`source`),
so the same data re-sent from another file or at another time is recognised as a duplicate.
Parties become entities keyed by a hash of what is said about them, role aside. Identifier
checks run vectorised over whole columns (numpy), never per record.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redlane.intake import identifiers
from redlane.model.arrow import arrow_schema
from redlane.store.schema import PARTY_ROLE_COLUMNS, RECORD_TABLES

# Timestamps are stored as naive UTC text; both SQLite and PostgreSQL (session in UTC) read it.
_DB_TIME = "'%Y-%m-%d %H:%M:%S.%f'"
# Inside JSON columns timestamps are ISO 8601 with Z, which the models parse back.
_JSON_TIME = "'%Y-%m-%dT%H:%M:%S.%fZ'"


def _db_time(expr: str) -> str:
    return f"strftime({expr}, {_DB_TIME})"


def json_safe(expr: str, dtype: pa.DataType) -> str:
    """A DuckDB expression that renders `expr` (of Arrow type `dtype`) with ISO timestamps."""
    if pa.types.is_timestamp(dtype):
        return f"strftime({expr}, {_JSON_TIME})"
    if pa.types.is_struct(dtype):
        parts = ", ".join(f'"{f.name}" := {json_safe(f"({expr}).{f.name}", f.type)}' for f in dtype)
        return f"CASE WHEN ({expr}) IS NULL THEN NULL ELSE struct_pack({parts}) END"
    if pa.types.is_list(dtype):
        inner = json_safe("item_", dtype.value_type)
        return expr if inner == "item_" else f"list_transform({expr}, lambda item_: {inner})"
    return expr


def _json(expr: str, dtype: pa.DataType) -> str:
    return f"CAST(to_json({json_safe(expr, dtype)}) AS VARCHAR)"


def _content_columns(kind: str) -> str:
    """struct_pack of every field but the provenance, in schema order."""
    schema = arrow_schema(kind)
    return ", ".join(f'"{f.name}" := "{f.name}"' for f in schema if f.name != "source")


_PROVENANCE = f"""
    NULL::BIGINT AS id, content_hash, $batch_id AS batch_id, $source_file AS source_file,
    source.message_ref AS message_ref,
    coalesce(source.sender, $sender) AS sender,
    {_db_time("coalesce(source.received_at, $received_at)")} AS received_at"""


def _field_type(kind: str, *path: str) -> pa.DataType:
    dtype: pa.DataType = arrow_schema(kind).field(path[0]).type
    for name in path[1:]:
        dtype = dtype.value_type if pa.types.is_list(dtype) else dtype
        dtype = dtype.field(name).type
    return dtype


def _table_sql(kind: str) -> dict[str, str]:
    """The SELECT for each store table of one record kind, over the hashed, deduplicated `b`."""
    if kind == "consignment":
        roles = "list_transform(parties, lambda p: p.role)"
        role_keys = ",\n".join(
            f"party_keys_[list_position({roles}, '{role}')] AS {role}_key"
            for role in PARTY_ROLE_COLUMNS
        )
        return {
            "parties": """
                SELECT DISTINCT ON (key) key, party.kind, party.name,
                    party.address.street AS street, party.address.city AS city,
                    party.address.postcode AS postcode, party.address.country AS country,
                    party.eori, party.vat, party.phone, party.email
                FROM (SELECT unnest(parties) AS party, unnest(party_keys_) AS key FROM b)
                ORDER BY key""",
            "consignments": f"""
                SELECT {_PROVENANCE}, mode, document.kind AS document_kind,
                    document.number AS document_number, NULL::BOOLEAN AS document_number_valid,
                    document.master_number AS master_number, movement_ref, office,
                    {_db_time("declared_at")} AS declared_at,
                    CAST(arrival_date AS VARCHAR) AS arrival_date,
                    place_of_loading, place_of_discharge, place_of_delivery,
                    origin_country, destination_country,
                    array_to_string(transshipment_places, ',') AS transshipment_places,
                    len(transshipment_places) AS transshipment_count,
                    array_to_string(routing_countries, ',') AS routing_countries,
                    freight_j_ AS freight, party_roles_j_ AS party_roles,
                    {role_keys},
                    goods_j_ AS goods,
                    array_to_string(list_transform(goods, lambda g: g.hs_code), ',') AS hs_codes,
                    len(goods) AS goods_count,
                    list_sum(list_transform(goods, lambda g: g.packages))::BIGINT
                        AS total_packages,
                    list_sum(list_transform(goods, lambda g: g.gross_mass_kg))
                        AS total_gross_mass_kg,
                    list_sum(list_transform(goods, lambda g: g.value)) AS total_value,
                    equipment_j_ AS equipment,
                    array_to_string(list_transform(equipment, lambda e: e.number), ',')
                        AS container_numbers,
                    len(equipment) AS container_count,
                    NULL::BOOLEAN AS containers_valid,
                    coalesce(list_bool_or(list_transform(equipment, lambda e: e.reefer)), false)
                        AS reefer
                FROM b ORDER BY rn_""",
        }
    if kind == "movement":
        return {
            "movements": f"""
                SELECT {_PROVENANCE}, ref, conveyance.kind AS conveyance_kind,
                    {_json("conveyance", _field_type(kind, "conveyance"))} AS conveyance,
                    conveyance.name AS name, conveyance.flag AS flag, conveyance.imo AS imo,
                    NULL::BOOLEAN AS imo_valid, conveyance.mmsi AS mmsi,
                    NULL::BOOLEAN AS mmsi_valid, conveyance.registration AS registration,
                    flight_number, CAST(conveyance.acquired_on AS VARCHAR) AS acquired_on,
                    persons_on_board,
                    {_json("itinerary", _field_type(kind, "itinerary"))} AS itinerary,
                    len(itinerary) AS call_count,
                    itinerary[1].place AS departure_place,
                    {_db_time("coalesce(itinerary[1].departure, itinerary[1].arrival)")}
                        AS departed_at,
                    itinerary[-1].place AS arrival_place,
                    {_db_time("coalesce(itinerary[-1].arrival, itinerary[-1].departure)")}
                        AS arrives_at
                FROM b""",
        }
    if kind == "traveller":
        return {
            "travellers": f"""
                SELECT {_PROVENANCE}, movement_ref, role, surname, given_names,
                    CAST(date_of_birth AS VARCHAR) AS date_of_birth, sex, nationality,
                    {_json("document", _field_type(kind, "document"))} AS document,
                    document.number AS document_number,
                    document.issuing_country AS document_country,
                    NULL::BOOLEAN AS mrz_valid,
                    {_json("itinerary", _field_type(kind, "itinerary"))} AS itinerary,
                    len(itinerary) AS leg_count,
                    itinerary[1].origin AS origin, itinerary[-1].destination AS destination,
                    {_db_time("itinerary[1].departs_at")} AS departs_at,
                    {_json("booking", _field_type(kind, "booking"))} AS booking,
                    booking.locator AS booking_locator,
                    {_db_time("booking.booked_at")} AS booked_at,
                    booking.payment_form AS payment_form, booking.one_way AS one_way,
                    booking.checked_bags AS checked_bags, phone, email
                FROM b""",
        }
    if kind == "control_result":
        return {
            "control_results": f"""
                SELECT {_PROVENANCE}, target_kind, target_ref, office,
                    CAST(controlled_on AS VARCHAR) AS controlled_on, outcome,
                    CAST(to_json(seizures) AS VARCHAR) AS seizures,
                    coalesce(list_sum(list_transform(seizures, lambda s: s.quantity_kg)), 0.0)
                        AS total_seized_kg,
                    notes
                FROM b""",
        }
    if kind == "container_event":
        return {
            "container_events": f"""
                SELECT {_PROVENANCE}, event, container, NULL::BOOLEAN AS container_valid,
                    size_type, "full", array_to_string(seals, ',') AS seals, vessel, voyage,
                    place, port_of_loading, port_of_discharge, stowage,
                    {_db_time('"at"')} AS "at", gross_mass_kg, operator
                FROM b""",
        }
    if kind == "vessel_event":
        return {
            "vessel_events": f"""
                SELECT {_PROVENANCE}, kind, mmsi, imo, name, {_db_time('"start"')} AS "start",
                    {_db_time('"end"')} AS "end", hours, place, lat, lon, other_mmsi
                FROM b""",
        }
    raise ValueError(f"unknown record kind {kind!r}")


# A party's key is a hash of everything said about it but its role: the same company with the
# same address and identifiers is one party, whatever role it plays on which document.
_PARTY_KEYS = """
    list_transform(parties, lambda p: (md5_number(CAST(to_json(struct_pack(
        kind := p.kind, name := p.name, address := p.address,
        eori := p.eori, vat := p.vat, phone := p.phone, email := p.email
    )) AS VARCHAR)) >> 65)::BIGINT)"""


@dataclass(frozen=True)
class Provenance:
    """What the ingest knows about a batch when a record does not say it itself."""

    batch_id: int
    source_file: str
    sender: str | None = None
    received_at: str | None = None
    """ISO 8601 UTC time the file was received."""


@dataclass(frozen=True)
class FlatBatch:
    """The rows of one batch for the store: the records' table and the entities they name."""

    kind: str
    table_name: str
    records: pa.Table
    entities: dict[str, pa.Table]
    """Rows keyed by their own content key (e.g. parties), stored once whoever names them."""
    in_batch_duplicates: int


def _with_column(table: pa.Table, name: str, values: np.ndarray | pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, name, pa.array(values, pa.bool_()))


def _checked(column: pa.ChunkedArray, check: identifiers.VectorCheck) -> pa.Array:
    """Apply a vectorised identifier check, keeping nulls null."""
    present = pc.is_valid(column).to_numpy(zero_copy_only=False)
    values = column.fill_null("").to_numpy(zero_copy_only=False)
    return pa.array(check(values), pa.bool_(), mask=~present)


def _all_valid_per_row(lists: pa.ChunkedArray, check: identifiers.VectorCheck) -> pa.Array:
    """Per row of a list column: do all its values pass `check`? Null where the list is empty."""
    lists = lists.combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    values = pc.list_flatten(lists).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(len(lists)), lengths)
    invalid = (
        np.bincount(rows[~check(values)], minlength=len(lists)) if len(values) else lengths * 0
    )
    return pa.array(invalid == 0, pa.bool_(), mask=lengths == 0)


def _add_identifier_flags(kind: str, con: duckdb.DuckDBPyConnection, table: pa.Table) -> pa.Table:
    if kind == "consignment":
        is_awb = pc.equal(table["document_kind"], "air_waybill").to_numpy(zero_copy_only=False)
        checked = identifiers.valid_awbs(table["document_number"].to_numpy(zero_copy_only=False))
        table = _with_column(
            table, "document_number_valid", pa.array(checked, pa.bool_(), mask=~is_awb)
        )
        numbers = con.sql(
            "SELECT list_transform(equipment, lambda e: e.number) FROM b ORDER BY rn_"
        ).to_arrow_table()
        return _with_column(
            table,
            "containers_valid",
            _all_valid_per_row(numbers.column(0), identifiers.valid_containers),
        )
    if kind == "movement":
        table = _with_column(table, "imo_valid", _checked(table["imo"], identifiers.valid_imos))
        return _with_column(table, "mmsi_valid", _checked(table["mmsi"], identifiers.valid_mmsis))
    if kind == "traveller":
        return _with_column(table, "mrz_valid", _mrz_flags(con))
    if kind == "container_event":
        numbers = table["container"].to_numpy(zero_copy_only=False)
        return _with_column(table, "container_valid", identifiers.valid_containers(numbers))
    return table


def _mrz_flags(con: duckdb.DuckDBPyConnection) -> pa.Array:
    # MRZ layouts (TD1/TD3) differ per row and only a share of travellers carry one, so this
    # check stays scalar; it runs on the MRZs present, not on every traveller.
    mrzs = con.sql("SELECT document.mrz FROM b ORDER BY rn_").to_arrow_table().column(0).to_pylist()
    return pa.array([None if m is None else identifiers.is_valid_mrz(m) for m in mrzs], pa.bool_())


_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB connection (opening one costs more than flattening a small batch)."""
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        # One thread: batches are small, and the other core is busy writing the last batch.
        con = duckdb.connect(config={"threads": 1})
        con.execute("SET TimeZone = 'UTC'")
        _local.con = con
    return con


def _hashed_sql(kind: str) -> str:
    """Per row of `raw`, in order: its content hash (and for consignments the JSON parts it is
    made of, which the store keeps).

    A consignment's hash is taken over JSON that the store needs anyway (goods, equipment,
    freight, parties by key) plus its scalar fields, so no part of it is serialised twice.
    """
    if kind != "consignment":
        return f"""
            SELECT (md5_number(CAST(to_json(struct_pack({_content_columns(kind)}))
                AS VARCHAR)) >> 65)::BIGINT AS content_hash
            FROM raw ORDER BY rn_"""
    scalars = ", ".join(
        f"CAST({column} AS VARCHAR)"
        for column in (
            "record", "mode", "document.kind", "document.number", "document.master_number",
            "movement_ref", "office", "declared_at", "arrival_date", "place_of_loading",
            "place_of_discharge", "place_of_delivery", "origin_country", "destination_country",
            "transshipment_places", "routing_countries",
        )
    )  # fmt: skip
    roles = "list_transform(parties, lambda p: p.role)"
    return f"""
        SELECT (md5_number('[' || scalars_j_ || ',' || goods_j_ || ',' || equipment_j_
                || ',' || coalesce(freight_j_, 'null') || ',' || party_roles_j_ || ']')
            >> 65)::BIGINT AS content_hash,
            goods_j_, equipment_j_, freight_j_, party_roles_j_, party_keys_
        FROM (
            SELECT rn_, party_keys_,
                CAST(to_json(list_value({scalars})) AS VARCHAR) AS scalars_j_,
                CAST(to_json(goods) AS VARCHAR) AS goods_j_,
                CAST(to_json(equipment) AS VARCHAR) AS equipment_j_,
                {_json("freight", _field_type(kind, "freight"))} AS freight_j_,
                CAST(to_json(struct_pack(roles := {roles}, keys := party_keys_)) AS VARCHAR)
                    AS party_roles_j_
            FROM (SELECT *, {_PARTY_KEYS} AS party_keys_ FROM raw)
        ) ORDER BY rn_"""


def flatten(kind: str, batch: pa.Table, provenance: Provenance) -> FlatBatch:
    """Rows for the store tables of `kind` from a batch of canonical records.

    Records repeated within the batch are kept once (the first, in order).
    """
    con = _connection()
    try:
        numbered = batch.append_column("rn_", pa.array(np.arange(batch.num_rows)))
        con.register("raw", numbered)
        derived = con.sql(_hashed_sql(kind)).to_arrow_table()
        con.unregister("raw")
        # Only the derived columns come back from DuckDB; the nested data stays where it is.
        hashed = numbered
        for name in derived.column_names:
            hashed = hashed.append_column(derived.field(name), derived[name])
        _, first = np.unique(hashed["content_hash"].to_numpy(), return_index=True)
        unique = hashed.take(np.sort(first)) if len(first) < hashed.num_rows else hashed
        con.register("b", unique)
        params = {
            "batch_id": provenance.batch_id,
            "source_file": provenance.source_file,
            "sender": provenance.sender,
            "received_at": provenance.received_at,
        }
        tables: dict[str, pa.Table] = {}
        for name, sql in _table_sql(kind).items():
            used = {k: v for k, v in params.items() if f"${k}" in sql}
            tables[name] = con.sql(sql, params=used).to_arrow_table()
        table_name = RECORD_TABLES[kind].name
        records = _add_identifier_flags(kind, con, tables.pop(table_name))
        return FlatBatch(kind, table_name, records, tables, batch.num_rows - unique.num_rows)
    finally:
        con.unregister("b")
