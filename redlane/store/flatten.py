"""From canonical records in Arrow to the store's rows, in one vectorised DuckDB pass per batch.

The content hash is the MD5 of the record's JSON without its provenance (`source`), so the same
data re-sent from another file or at another time is recognised as a duplicate. Identifier
checks run vectorised over whole columns (numpy), never per record.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redlane.intake import identifiers
from redlane.model.arrow import arrow_schema

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
    id, content_hash, $batch_id AS batch_id, $source_file AS source_file,
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
    """The SELECT for each store table of one record kind, over the deduplicated batch `b`."""
    if kind == "consignment":
        return {
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
                    {_json("freight", _field_type(kind, "freight"))} AS freight,
                    len(goods) AS goods_count,
                    list_sum(list_transform(goods, lambda g: g.packages))::BIGINT AS total_packages,
                    list_sum(list_transform(goods, lambda g: g.gross_mass_kg))
                        AS total_gross_mass_kg,
                    list_sum(list_transform(goods, lambda g: g.value)) AS total_value,
                    len(equipment) AS container_count
                FROM b""",
            "consignment_parties": """
                SELECT id AS consignment_id, seq, p.role, p.kind, p.name,
                    p.address.street AS street, p.address.city AS city,
                    p.address.postcode AS postcode, p.address.country AS country,
                    p.eori, p.vat, p.phone, p.email
                FROM (SELECT id, generate_subscripts(parties, 1) AS seq, unnest(parties) AS p
                      FROM b)""",
            "goods_items": """
                SELECT id AS consignment_id, seq, g.hs_code, substr(g.hs_code, 1, 6) AS hs6,
                    g.description, g.packages, g.package_kind, g.gross_mass_kg, g.net_mass_kg,
                    g.value, g.currency
                FROM (SELECT id, generate_subscripts(goods, 1) AS seq, unnest(goods) AS g
                      FROM b)""",
            "equipment": """
                SELECT id AS consignment_id, seq, e.number, NULL::BOOLEAN AS number_valid,
                    e.size_type, e.reefer, e.full, CAST(to_json(e.seals) AS VARCHAR) AS seals
                FROM (SELECT id, generate_subscripts(equipment, 1) AS seq,
                             unnest(equipment) AS e FROM b)""",
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
    raise ValueError(f"unknown record kind {kind!r}")


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
    """The rows for every store table of one batch, keyed by table name, parent table first."""

    kind: str
    tables: dict[str, pa.Table]
    in_batch_duplicates: int


def _with_column(table: pa.Table, name: str, values: np.ndarray | pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, name, pa.array(values, pa.bool_()))


def _checked(column: pa.ChunkedArray, check: identifiers.VectorCheck) -> pa.Array:
    """Apply a vectorised identifier check, keeping nulls null."""
    present = pc.is_valid(column).to_numpy(zero_copy_only=False)
    values = column.fill_null("").to_numpy(zero_copy_only=False)
    return pa.array(check(values), pa.bool_(), mask=~present)


def _add_identifier_flags(kind: str, tables: dict[str, pa.Table]) -> None:
    if kind == "consignment":
        parent = tables["consignments"]
        numbers = parent["document_number"]
        is_awb = pc.equal(parent["document_kind"], "air_waybill").to_numpy(zero_copy_only=False)
        checked = identifiers.valid_awbs(numbers.to_numpy(zero_copy_only=False))
        flags = pa.array(checked, pa.bool_(), mask=~is_awb)
        tables["consignments"] = _with_column(parent, "document_number_valid", flags)
        kit = tables["equipment"]
        tables["equipment"] = _with_column(
            kit, "number_valid", identifiers.valid_containers(kit["number"].to_numpy(False))
        )
    elif kind == "movement":
        rows = tables["movements"]
        rows = _with_column(rows, "imo_valid", _checked(rows["imo"], identifiers.valid_imos))
        tables["movements"] = _with_column(
            rows, "mmsi_valid", _checked(rows["mmsi"], identifiers.valid_mmsis)
        )


def _mrz_flags(con: duckdb.DuckDBPyConnection) -> pa.Array:
    # MRZ layouts (TD1/TD3) differ per row and only a share of travellers carry one, so this
    # check stays scalar; it runs on the MRZs present, not on every traveller.
    mrzs = con.sql("SELECT document.mrz FROM b").to_arrow_table().column(0).to_pylist()
    return pa.array([None if m is None else identifiers.is_valid_mrz(m) for m in mrzs], pa.bool_())


def flatten(kind: str, batch: pa.Table, provenance: Provenance) -> FlatBatch:
    """Rows for the store tables of `kind` from a batch of canonical records."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("batch", batch)
        con.execute(
            f"""CREATE TEMP TABLE hashed AS
                SELECT *, row_number() OVER () AS rn_ FROM (
                  SELECT *, CAST(to_json(struct_pack({_content_columns(kind)})) AS VARCHAR) AS j_
                  FROM batch)"""
        )
        con.execute(
            """CREATE TEMP TABLE b AS
               SELECT (md5_number(j_) >> 65)::BIGINT AS id, md5(j_) AS content_hash,
                      * EXCLUDE (j_)
               FROM hashed
               QUALIFY row_number() OVER (PARTITION BY md5(j_) ORDER BY rn_) = 1
               ORDER BY rn_"""
        )
        kept = int(con.sql("SELECT count(*) FROM b").fetchall()[0][0])
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
        if kind == "traveller":
            tables["travellers"] = _with_column(tables["travellers"], "mrz_valid", _mrz_flags(con))
        _add_identifier_flags(kind, tables)
        return FlatBatch(kind, tables, batch.num_rows - kept)
    finally:
        con.close()
