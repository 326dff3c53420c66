"""The catalogue's fields for stored targets, from the record and the store's history.

Targets are read from the store (a day, a period, or the records of one ingest batch) together
with the history their facts depend on (the parties' earlier documents, the other documents of
the same voyage, the usual value per kg of the goods, a plate's earlier crossings), and one
DuckDB query per target kind turns them into one row per target with every catalogue field.
A fact depends only on the target and the store, never on which other targets share the batch,
so scoring a day and scoring one record of it give the same fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import ColumnElement, Table, and_, func, select

from redlane.intake.ais import PORT_RADIUS_KM, km_sql
from redlane.reference import places
from redlane.screening.subjects import SUBJECT_SCHEMA, subject_keys
from redlane.store.database import Database
from redlane.store.repository import fetch_arrow, fetch_arrow_in
from redlane.store.schema import (
    consignments,
    container_events,
    movements,
    parties,
    travellers,
    vessel_events,
    watchlist,
)
from redlane.targeting.catalogue import CATALOGUE, WATCHLIST_FIELDS, TargetKind

#: History a fact looks back over (operators, plates, value norms).
LOOKBACK_DAYS = 90
#: Days before arrival whose vessel events (AIS) count for the arrival.
AIS_WINDOW_DAYS = 30

#: Columns every feature table starts with, before the catalogue fields.
KEY_COLUMNS = ("target_kind", "target_id", "target_ref")


@dataclass(frozen=True)
class Window:
    """Which stored targets to read: days [since, until), or the records of ingest batches."""

    since: date | None = None
    until: date | None = None
    batch_ids: tuple[int, ...] = ()
    ids: tuple[int, ...] = ()


def _day_column(kind: TargetKind) -> ColumnElement[Any]:
    if kind == "consignment":
        return consignments.c.arrival_date
    if kind == "traveller":
        return travellers.c.departs_at
    return movements.c.arrives_at


def _window_filter(table: Table, kind: TargetKind, window: Window) -> list[ColumnElement[bool]]:
    column = _day_column(kind)
    is_date = kind == "consignment"
    conditions: list[ColumnElement[bool]] = []
    if window.since is not None:
        conditions.append(column >= (window.since if is_date else _midnight(window.since)))
    if window.until is not None:
        conditions.append(column < (window.until if is_date else _midnight(window.until)))
    if window.batch_ids:
        conditions.append(table.c.batch_id.in_(window.batch_ids))
    if window.ids:
        conditions.append(table.c.id.in_(window.ids))
    return conditions


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


_TABLES: dict[TargetKind, Table] = {
    "consignment": consignments,
    "traveller": travellers,
    "movement": movements,
}


def read_targets(db: Database, kind: TargetKind, window: Window) -> pa.Table:
    """The stored rows of the targets in `window` (in id order)."""
    table = _TABLES[kind]
    query = (
        select(table).where(and_(True, *_window_filter(table, kind, window))).order_by(table.c.id)
    )
    return fetch_arrow(db, query)


def compute_features(db: Database, kind: TargetKind, targets: pa.Table) -> pa.Table:
    """One row per target with the key columns and every catalogue field of `kind`."""
    con = duckdb.connect(config={"threads": 2})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("t", targets)
        for name, context in _context(db, kind, targets).items():
            con.register(name, context)
        for name, context in _watch_context(db, kind, targets).items():
            con.register(name, context)
        table = con.sql(FEATURE_SQL[kind]).to_arrow_table()
    finally:
        con.close()
    return table


def features_for(db: Database, kind: TargetKind, window: Window) -> pa.Table:
    """Read the targets of `window` and compute their fields."""
    return compute_features(db, kind, read_targets(db, kind, window))


def _span(targets: pa.Table, column: str) -> tuple[date, date]:
    """First and last day of a date or timestamp column (today when there is none)."""
    days = pc.min_max(pc.cast(targets.column(column), pa.date32())).as_py()
    if days["min"] is None:
        today = date.today()
        return today, today
    return days["min"], days["max"]


def _context(db: Database, kind: TargetKind, targets: pa.Table) -> dict[str, pa.Table]:
    if kind == "consignment":
        return _consignment_context(db, targets)
    if kind == "traveller":
        return _traveller_context(db, targets)
    return _movement_context(db, targets)


def _party_days(db: Database, role: str, keys: Sequence[Any]) -> pa.Table:
    column = consignments.c[f"{role}_key"]
    query = select(
        column.label("key"), consignments.c.arrival_date.label("day"), func.count().label("n")
    ).group_by(column, consignments.c.arrival_date)
    return fetch_arrow_in(db, query, column, keys)


def _value_norms(db: Database, first: date, last: date) -> pa.Table:
    query = select(
        consignments.c.hs_codes, consignments.c.total_value, consignments.c.total_gross_mass_kg
    ).where(
        consignments.c.arrival_date >= first - timedelta(days=LOOKBACK_DAYS),
        consignments.c.arrival_date <= last,
    )
    return fetch_arrow(db, query)


@cache
def _place_coordinates() -> pa.Table:
    known = places().values()
    return pa.table(
        {
            "locode": [p.locode for p in known],
            "lat": pa.array([p.lat for p in known], pa.float64()),
            "lon": pa.array([p.lon for p in known], pa.float64()),
        }
    )


def _vessel_events(db: Database, mmsis: Sequence[Any], imos: Sequence[Any]) -> dict[str, pa.Table]:
    """The stored vessel events of these conveyances (by MMSI or IMO), and place coordinates."""
    query = select(
        vessel_events.c.id, vessel_events.c.kind, vessel_events.c.mmsi, vessel_events.c.imo,
        vessel_events.c.start, vessel_events.c.end, vessel_events.c.hours,
        vessel_events.c.place,
    )  # fmt: skip
    found = pa.concat_tables(
        [
            fetch_arrow_in(db, query, vessel_events.c.mmsi, mmsis),
            fetch_arrow_in(db, query, vessel_events.c.imo, imos),
        ]
    )
    return {"vessel_ev": found, "place_xy": _place_coordinates()}


def _consignment_context(db: Database, targets: pa.Table) -> dict[str, pa.Table]:
    first, last = _span(targets, "arrival_date")
    keys = {
        role: targets.column(f"{role}_key").to_pylist() if targets.num_rows else []
        for role in ("consignee", "consignor")
    }
    party_query = select(
        parties.c.key, parties.c.kind, parties.c.name, parties.c.country, parties.c.eori
    )
    voyage_query = select(consignments.c.id, consignments.c.movement_ref, consignments.c.equipment)
    # Seals a terminal or a bay plan reported for the containers of these documents.
    terminal_query = select(container_events.c.container, container_events.c.seals).where(
        container_events.c.seals != ""
    )
    numbers = [
        n
        for text in (targets.column("container_numbers").to_pylist() if targets.num_rows else [])
        for n in (text or "").split(",")
        if n
    ]
    refs = targets.column("movement_ref").to_pylist() if targets.num_rows else []
    carrier_query = select(
        movements.c.ref, movements.c.conveyance_kind, movements.c.mmsi, movements.c.imo,
        movements.c.arrives_at, movements.c.itinerary,
    )  # fmt: skip
    carriers = fetch_arrow_in(db, carrier_query, movements.c.ref, refs)
    return {
        **_vessel_events(db, carriers.column("mmsi").to_pylist(), carriers["imo"].to_pylist()),
        "carrier": carriers,
        "consignee_days": _party_days(db, "consignee", keys["consignee"]),
        "consignor_days": _party_days(db, "consignor", keys["consignor"]),
        "party": fetch_arrow_in(
            db, party_query, parties.c.key, keys["consignee"] + keys["consignor"]
        ),
        "voyage": fetch_arrow_in(db, voyage_query, consignments.c.movement_ref, refs),
        "norm_rows": _value_norms(db, first, last),
        "terminal": fetch_arrow_in(db, terminal_query, container_events.c.container, numbers),
    }


def _traveller_context(db: Database, targets: pa.Table) -> dict[str, pa.Table]:
    refs = targets.column("movement_ref").to_pylist() if targets.num_rows else []
    docs = targets.column("document_number").to_pylist() if targets.num_rows else []
    flight_query = select(
        movements.c.ref, movements.c.arrival_place, movements.c.arrives_at,
        movements.c.departure_place,
    )  # fmt: skip
    trips_query = select(travellers.c.document_number, travellers.c.departs_at, travellers.c.id)
    return {
        "flight": fetch_arrow_in(db, flight_query, movements.c.ref, refs),
        "trips": fetch_arrow_in(db, trips_query, travellers.c.document_number, docs),
    }


def _movement_context(db: Database, targets: pa.Table) -> dict[str, pa.Table]:
    first, last = _span(targets, "arrives_at")
    refs = targets.column("ref").to_pylist() if targets.num_rows else []
    history_query = select(movements.c.id, movements.c.conveyance, movements.c.arrives_at).where(
        movements.c.arrives_at >= _midnight(first - timedelta(days=LOOKBACK_DAYS)),
        movements.c.arrives_at < _midnight(last + timedelta(days=1)),
        movements.c.conveyance_kind.in_(["truck", "yacht", "vessel"]),
    )
    cargo_query = select(
        consignments.c.movement_ref, consignments.c.hs_codes, consignments.c.total_value,
        consignments.c.total_gross_mass_kg,
    )  # fmt: skip
    return {
        **_vessel_events(
            db,
            targets.column("mmsi").to_pylist() if targets.num_rows else [],
            targets.column("imo").to_pylist() if targets.num_rows else [],
        ),
        "history": fetch_arrow(db, history_query),
        "cargo": fetch_arrow_in(db, cargo_query, consignments.c.movement_ref, refs),
        "norm_rows": _value_norms(db, first, last),
    }


# --- the feature queries ----------------------------------------------------------------------

_LIST_OF = "CASE WHEN coalesce({0}, '') = '' THEN []::VARCHAR[] ELSE string_split({0}, ',') END"

# Median value per kg per HS subheading over the stored history the context brought.
_NORMS = """
    norms AS (
        SELECT substr(split_part(hs_codes, ',', 1), 1, 6) AS hs6,
            median(total_value / total_gross_mass_kg) AS value_per_kg
        FROM norm_rows
        WHERE total_gross_mass_kg > 0 AND total_value IS NOT NULL
        GROUP BY 1
    )"""


def _ais_sql(vessels: str) -> str:
    """CTEs ending in `ais` (id, gap_hours, encounters, loitering_hours, undeclared) over the
    relation `vessels` (id, at_, mmsi, imo, places_): the vessel events of each conveyance
    that overlap the AIS window before its arrival."""
    return f"""
ais_targets AS ({vessels}),
ais_hits AS (
    SELECT DISTINCT a.id, e.id AS event_id, e.kind, e.hours, e.place
    FROM ais_targets a JOIN vessel_ev e ON e.mmsi = a.mmsi
        AND CAST(e."start" AS TIMESTAMP) <= a.at_
        AND CAST(e."end" AS TIMESTAMP) >= a.at_ - INTERVAL {AIS_WINDOW_DAYS} DAY
    UNION
    SELECT DISTINCT a.id, e.id AS event_id, e.kind, e.hours, e.place
    FROM ais_targets a JOIN vessel_ev e ON e.imo = a.imo
        AND CAST(e."start" AS TIMESTAMP) <= a.at_
        AND CAST(e."end" AS TIMESTAMP) >= a.at_ - INTERVAL {AIS_WINDOW_DAYS} DAY
),
ais_declared AS (
    SELECT d.id, d.place, c.lat, c.lon
    FROM (SELECT id, unnest(places_) AS place FROM ais_targets) d
    LEFT JOIN place_xy c ON c.locode = d.place
),
ais_calls AS (
    SELECT h.id, h.event_id,
        coalesce(bool_or(d.place = h.place OR {km_sql("d", "pe")} <= {PORT_RADIUS_KM}), FALSE)
            AS declared
    FROM ais_hits h LEFT JOIN place_xy pe ON pe.locode = h.place
    LEFT JOIN ais_declared d ON d.id = h.id
    WHERE h.kind = 'port_call'
    GROUP BY h.id, h.event_id
),
ais AS (
    SELECT a.id,
        coalesce(max(h.hours) FILTER (WHERE h.kind = 'ais_gap'), 0.0) AS gap_hours,
        count(DISTINCT h.event_id) FILTER (WHERE h.kind = 'encounter') AS encounters,
        coalesce(sum(h.hours) FILTER (WHERE h.kind = 'loitering'), 0.0) AS loitering_hours,
        (SELECT count(*) FROM ais_calls c WHERE c.id = a.id AND NOT c.declared) AS undeclared
    FROM ais_targets a LEFT JOIN ais_hits h ON h.id = a.id
    GROUP BY a.id
)"""


# The conveyances whose AIS events count: the vessel of a sea consignment, a vessel or yacht.
_SEA_VESSELS = """
    SELECT b.id, coalesce(CAST(m.arrives_at AS TIMESTAMP), CAST(b.day_ AS TIMESTAMP)) AS at_,
        m.mmsi, m.imo,
        list_transform(from_json(m.itinerary, '[{"place":"VARCHAR"}]'), lambda c: c.place)
            AS places_
    FROM base b JOIN carrier m ON m.ref = b.movement_ref
    WHERE b.mode = 'sea' AND m.conveyance_kind IN ('vessel', 'yacht')"""
_MOVEMENT_VESSELS = """
    SELECT id, at_, mmsi, imo, list_transform(calls_, lambda c: c.place) AS places_
    FROM placed WHERE conveyance_kind IN ('vessel', 'yacht')"""

_AIS_COLUMNS = """
    CAST(ais.gap_hours AS DOUBLE) AS ais_gap_hours,
    CAST(ais.encounters AS INTEGER) AS ais_encounter_count,
    CAST(ais.loitering_hours AS DOUBLE) AS ais_loitering_hours,
    CAST(ais.undeclared AS INTEGER) AS ais_undeclared_port_calls"""


_CONSIGNMENT_SQL = f"""
WITH base AS (
    SELECT *,
        CAST(arrival_date AS DATE) AS day_,
        {_LIST_OF.format("transshipment_places")} AS ts_,
        {_LIST_OF.format("routing_countries")} AS rc_,
        {_LIST_OF.format("hs_codes")} AS hs_,
        from_json(goods, '[{{"hs_code":"VARCHAR","description":"VARCHAR"}}]') AS g_,
        from_json(freight, '{{"amount":"DOUBLE","terms":"VARCHAR","payer_role":"VARCHAR"}}')
            AS fr_
    FROM t
),
{_NORMS},
seals AS (
    SELECT id, movement_ref, e.number AS number,
        array_to_string(list_sort(coalesce(e.seals, []::VARCHAR[])), ',') AS seals
    FROM (
        SELECT id, movement_ref,
            unnest(from_json(equipment, '[{{"number":"VARCHAR","seals":["VARCHAR"]}}]')) AS e
        FROM voyage WHERE movement_ref IS NOT NULL
    )
),
mismatch AS (
    SELECT DISTINCT a.id FROM seals a JOIN seals b
        ON a.movement_ref = b.movement_ref AND a.number = b.number AND a.id <> b.id
        AND a.seals <> b.seals
),
terminal_mismatch AS (
    SELECT DISTINCT s.id FROM seals s JOIN (
        SELECT container, array_to_string(list_sort(string_split(seals, ',')), ',') AS seals
        FROM terminal
    ) t ON t.container = s.number AND s.seals <> '' AND t.seals <> s.seals
    JOIN base b ON b.id = s.id
),
consignee_hist AS (
    SELECT b.id, sum(h.n) AS prior, min(CAST(h.day AS DATE)) AS first_day
    FROM base b JOIN consignee_days h ON h.key = b.consignee_key AND CAST(h.day AS DATE) < b.day_
    GROUP BY b.id
),
consignor_hist AS (
    SELECT b.id, sum(h.n) AS prior
    FROM base b JOIN consignor_days h ON h.key = b.consignor_key AND CAST(h.day AS DATE) < b.day_
    GROUP BY b.id
),
{_ais_sql(_SEA_VESSELS)}
SELECT
    'consignment' AS target_kind, b.id AS target_id, b.document_number AS target_ref,
    b.office, b.day_ AS day, b.mode, b.document_kind,
    CAST(b.document_number_valid AS BOOLEAN) AS awb_check_digit_valid,
    b.origin_country, b.destination_country, b.place_of_loading,
    substr(b.place_of_loading, 1, 2) AS loading_country, b.place_of_discharge,
    b.place_of_delivery, b.ts_ AS transshipment_places,
    CAST(b.transshipment_count AS INTEGER) AS transshipment_count,
    list_sort(list_distinct(list_concat([substr(b.place_of_loading, 1, 2)],
        list_transform(b.ts_, lambda p: substr(p, 1, 2)), b.rc_))) AS route_countries,
    b.hs_ AS hs_codes,
    substr(b.g_[1].hs_code, 1, 6) AS hs6, substr(b.g_[1].hs_code, 1, 4) AS hs4,
    lower(b.g_[1].description) AS goods_description,
    CAST(b.goods_count AS INTEGER) AS goods_count,
    CAST(b.total_packages AS INTEGER) AS total_packages,
    CAST(b.total_gross_mass_kg AS DOUBLE) AS total_gross_mass_kg,
    CAST(b.total_value AS DOUBLE) AS total_value,
    CAST(b.total_value / nullif(b.total_gross_mass_kg, 0) AS DOUBLE) AS value_per_kg,
    CAST(b.total_value / nullif(b.total_gross_mass_kg, 0) / nullif(n.value_per_kg, 0) AS DOUBLE)
        AS value_per_kg_ratio,
    CAST(b.container_count AS INTEGER) AS container_count,
    CAST(b.reefer AS BOOLEAN) AS reefer,
    CAST(b.containers_valid AS BOOLEAN) AS container_check_digit_valid,
    (m.id IS NOT NULL) AS seal_mismatch,
    (tm.id IS NOT NULL) AS terminal_seal_mismatch,
    coalesce(b.fr_.terms, 'unknown') AS freight_terms,
    b.fr_.amount AS freight_amount,
    CAST(b.fr_.amount / nullif(b.total_value, 0) AS DOUBLE) AS freight_to_value,
    coalesce(b.fr_.payer_role = 'freight_payer', FALSE) AS freight_paid_by_third_party,
    lower(ce.name) AS consignee_name, ce.country AS consignee_country,
    ce.kind = 'person' AS consignee_is_person, ce.eori IS NOT NULL AS consignee_has_eori,
    CAST(coalesce(ch.prior, 0) AS INTEGER) AS consignee_prior_documents,
    CAST(coalesce(b.day_ - ch.first_day, 0) AS INTEGER) AS consignee_first_seen_days,
    co.country AS consignor_country, co.kind = 'person' AS consignor_is_person,
    CAST(coalesce(oh.prior, 0) AS INTEGER) AS consignor_prior_documents,
    CAST(b.day_ - CAST(CAST(b.declared_at AS TIMESTAMP) AS DATE) AS INTEGER)
        AS days_declared_before_arrival,{_AIS_COLUMNS}
FROM base b
LEFT JOIN ais ON ais.id = b.id
LEFT JOIN norms n ON n.hs6 = substr(b.g_[1].hs_code, 1, 6)
LEFT JOIN mismatch m ON m.id = b.id
LEFT JOIN terminal_mismatch tm ON tm.id = b.id
LEFT JOIN party ce ON ce.key = b.consignee_key
LEFT JOIN party co ON co.key = b.consignor_key
LEFT JOIN consignee_hist ch ON ch.id = b.id
LEFT JOIN consignor_hist oh ON oh.id = b.id
ORDER BY b.id
"""

_TRAVELLER_SQL = """
WITH base AS (
    SELECT t.*, f.arrival_place AS arrival_place_, f.departure_place AS departure_place_,
        CAST(f.arrives_at AS TIMESTAMP) AS arrives_at_,
        from_json(t.itinerary,
            '[{"origin":"VARCHAR","destination":"VARCHAR","departs_at":"TIMESTAMP"}]') AS legs_,
        from_json(t.booking, '{"paid_by_third_party":"BOOLEAN","party_size":"INTEGER",
            "travel_agency":"VARCHAR"}') AS bk_
    FROM t LEFT JOIN flight f ON f.ref = t.movement_ref
),
placed AS (
    SELECT *,
        coalesce(list_position(list_transform(legs_, lambda l: l.destination), arrival_place_),
            len(legs_)) AS arrival_leg_,
        coalesce(CAST(arrives_at_ AS DATE), CAST(CAST(departs_at AS TIMESTAMP) AS DATE)) AS day_
    FROM base
),
prior_trips AS (
    SELECT p.id, count(*) AS n FROM placed p JOIN trips h
        ON h.document_number = p.document_number
        AND CAST(CAST(h.departs_at AS TIMESTAMP) AS DATE) < p.day_ - 1
    GROUP BY p.id
)
SELECT
    'traveller' AS target_kind, p.id AS target_id, p.document_number AS target_ref,
    coalesce(p.arrival_place_, p.destination) AS office, p.day_ AS day, p.role,
    p.nationality, p.document_country,
    json_extract_string(p.document, '$.kind') AS document_kind,
    CAST(p.mrz_valid AS BOOLEAN) AS mrz_valid,
    coalesce(p.arrival_place_, p.legs_[p.arrival_leg_].destination) AS arrival_place,
    coalesce(p.departure_place_, p.legs_[p.arrival_leg_].origin) AS departure_place,
    p.legs_[1].origin AS origin, substr(p.legs_[1].origin, 1, 2) AS origin_country,
    list_concat(list_transform(p.legs_[1:p.arrival_leg_], lambda l: l.origin),
        [p.legs_[p.arrival_leg_].destination]) AS route_places,
    list_sort(list_distinct(list_transform(list_concat(
        list_transform(p.legs_[1:p.arrival_leg_], lambda l: l.origin),
        [p.legs_[p.arrival_leg_].destination]), lambda c: substr(c, 1, 2)))) AS route_countries,
    CAST(p.arrival_leg_ - 1 AS INTEGER) AS transit_count,
    p.booking IS NOT NULL AS booked,
    CAST(epoch(p.legs_[1].departs_at - CAST(p.booked_at AS TIMESTAMP)) / 3600.0 AS DOUBLE)
        AS booking_hours_before_departure,
    p.payment_form, p.bk_.paid_by_third_party AS paid_by_third_party,
    CAST(p.one_way AS BOOLEAN) AS one_way,
    CASE WHEN len(p.legs_) > p.arrival_leg_ THEN CAST(epoch(p.legs_[p.arrival_leg_ + 1].departs_at
        - coalesce(p.arrives_at_, p.legs_[p.arrival_leg_].departs_at)) / 86400.0 AS DOUBLE)
        END AS stay_days,
    CAST(p.checked_bags AS INTEGER) AS checked_bags, p.bk_.party_size AS party_size,
    p.bk_.travel_agency AS travel_agency,
    CAST(coalesce(h.n, 0) AS INTEGER) AS document_prior_trips
FROM placed p LEFT JOIN prior_trips h ON h.id = p.id
ORDER BY p.id
"""

_MOVEMENT_SQL = f"""
WITH conveyances AS (
    SELECT id, CAST(arrives_at AS TIMESTAMP) AS at_,
        from_json(conveyance, '{{"kind":"VARCHAR","plates":[{{"number":"VARCHAR",
            "country":"VARCHAR","unit":"VARCHAR"}}],"operator":{{"name":"VARCHAR"}},
            "acquired_on":"DATE"}}') AS c_
    FROM history
),
seen AS (
    SELECT id, CAST(at_ AS DATE) AS day_, lower(c_.operator.name) AS operator_,
        c_.plates[1].number AS plate_
    FROM conveyances
),
{_NORMS},
base AS (
    SELECT t.*, CAST(coalesce(t.arrives_at, t.departed_at) AS TIMESTAMP) AS at_,
        from_json(t.conveyance, '{{"plates":[{{"number":"VARCHAR","country":"VARCHAR"}}],
            "operator":{{"name":"VARCHAR"}},"acquired_on":"DATE"}}') AS c_,
        from_json(t.itinerary, '[{{"place":"VARCHAR"}}]') AS calls_
    FROM t
),
placed AS (SELECT *, CAST(at_ AS DATE) AS day_ FROM base),
operator_hist AS (
    SELECT p.id, count(*) AS n FROM placed p JOIN seen s
        ON s.operator_ = lower(p.c_.operator.name) AND s.day_ < p.day_
        AND s.day_ >= p.day_ - {LOOKBACK_DAYS}
    GROUP BY p.id
),
plate_hist AS (
    SELECT p.id, count(*) AS n FROM placed p JOIN seen s
        ON s.plate_ = p.c_.plates[1].number AND s.day_ < p.day_ AND s.day_ >= p.day_ - 30
    GROUP BY p.id
),
loads AS (
    SELECT movement_ref, count(*) AS documents,
        flatten(list(string_split(hs_codes, ','))) AS hs_codes,
        sum(total_value) AS value, sum(total_gross_mass_kg) AS mass,
        first(substr(hs_codes, 1, 6) ORDER BY hs_codes) AS hs6
    FROM cargo GROUP BY movement_ref
),
{_ais_sql(_MOVEMENT_VESSELS)}
SELECT
    'movement' AS target_kind, p.id AS target_id, p.ref AS target_ref,
    p.arrival_place AS office, p.day_ AS day, p.conveyance_kind, p.flag,
    CAST(p.imo_valid AS BOOLEAN) AS imo_valid, CAST(p.mmsi_valid AS BOOLEAN) AS mmsi_valid,
    p.arrival_place, p.departure_place, substr(p.departure_place, 1, 2) AS departure_country,
    list_transform(p.calls_, lambda c: c.place) AS call_places,
    list_sort(list_distinct(list_transform(p.calls_, lambda c: substr(c.place, 1, 2))))
        AS call_countries,
    CAST(p.call_count AS INTEGER) AS call_count,
    CAST(p.persons_on_board AS INTEGER) AS persons_on_board,
    CAST(p.day_ - p.c_.acquired_on AS INTEGER) AS owned_days,
    lower(p.c_.operator.name) AS operator_name,
    CASE WHEN p.c_.operator.name IS NULL THEN NULL ELSE CAST(coalesce(oh.n, 0) AS INTEGER) END
        AS operator_prior_movements,
    p.c_.plates[1].number AS plate, p.c_.plates[1].country AS plate_country,
    CASE WHEN p.c_.plates[1].number IS NULL THEN NULL ELSE CAST(coalesce(ph.n, 0) AS INTEGER) END
        AS plate_prior_crossings_30d,
    CAST(coalesce(l.documents, 0) AS INTEGER) AS cargo_documents,
    coalesce(l.hs_codes, []::VARCHAR[]) AS cargo_hs_codes,
    CAST(l.value AS DOUBLE) AS cargo_value, CAST(l.mass AS DOUBLE) AS cargo_gross_mass_kg,
    CAST(l.value / nullif(l.mass, 0) / nullif(n.value_per_kg, 0) AS DOUBLE)
        AS cargo_value_per_kg_ratio,{_AIS_COLUMNS}
FROM placed p
LEFT JOIN ais ON ais.id = p.id
LEFT JOIN operator_hist oh ON oh.id = p.id
LEFT JOIN plate_hist ph ON ph.id = p.id
LEFT JOIN loads l ON l.movement_ref = p.ref
LEFT JOIN norms n ON n.hs6 = l.hs6
ORDER BY p.id
"""


def feature_columns(kind: TargetKind) -> tuple[str, ...]:
    return (*KEY_COLUMNS, *CATALOGUE[kind])


# --- watchlist fields: entries of active CIS alerts and mode notices ---------------------------

#: Which suggested action an officer sees first when a target matches several messages:
#: a request for discreet surveillance must not be spoiled by a check another message asks for.
ACTION_PRIORITY = {
    "discreet_surveillance": 0,
    "specific_check": 1,
    "sighting_and_reporting": 2,
    "operational_analysis": 3,
    "strategic_analysis": 4,
}

#: The entity kinds each `*_on_alert` field stands for.
_ON_ALERT = {
    "vessel_on_alert": "entity_kind = 'vessel'",
    "container_on_alert": "entity_kind = 'container'",
    "vehicle_on_alert": "entity_kind = 'vehicle'",
    "party_on_alert": "entity_kind IN ('company', 'person')",
    "traveller_on_alert": "entity_kind = 'person'",
}

_WATCH_SCHEMA = pa.schema(
    [
        ("message_id", pa.string()), ("entity_kind", pa.string()), ("scheme", pa.string()),
        ("key", pa.string()), ("date_of_birth", pa.date32()), ("suggested_action", pa.string()),
        ("valid_from", pa.date32()), ("valid_until", pa.date32()), ("rank_", pa.int64()),
    ]
)  # fmt: skip


def _watch_context(db: Database, kind: TargetKind, targets: pa.Table) -> dict[str, pa.Table]:
    """Every stored watchlist entry (validity is checked per target day in the query) and the
    keys of the subjects the targets name; without entries, no keys are worked out."""
    query = select(
        watchlist.c.message_id, watchlist.c.entity_kind, watchlist.c.scheme, watchlist.c.key,
        watchlist.c.date_of_birth, watchlist.c.suggested_action, watchlist.c.valid_from,
        watchlist.c.valid_until,
    ).where(watchlist.c.valid_until >= watchlist.c.valid_from)  # fmt: skip
    entries = fetch_arrow(db, query)
    ranks = [
        ACTION_PRIORITY.get(a, len(ACTION_PRIORITY))
        for a in entries["suggested_action"].to_pylist()
    ]
    watch = entries.append_column("rank_", pa.array(ranks, pa.int64())).cast(_WATCH_SCHEMA)
    # only the keys some entry has can match: the rest need not reach the query
    wanted = set(
        zip(*(watch[c].to_pylist() for c in ("entity_kind", "scheme", "key")), strict=True)
    )
    keys = subject_keys(db, kind, targets, wanted) if wanted else SUBJECT_SCHEMA.empty_table()
    return {"watch": watch, "watch_keys": keys}


def _watched(kind: TargetKind, sql: str) -> str:
    """A kind's feature query with its watchlist fields joined on: the subjects' keys meet the
    entries in force on the target's day."""
    fields = WATCHLIST_FIELDS[kind]
    flags = [
        f"bool_or({_ON_ALERT[name]}) AS {name}" for name in fields if name.endswith("_on_alert")
    ]
    columns = []
    for name in feature_columns(kind):
        if name.endswith("_on_alert"):
            columns.append(f"coalesce(a.{name}, FALSE) AS {name}")
        elif name == "alert_refs":
            columns.append("coalesce(a.alert_refs, []::VARCHAR[]) AS alert_refs")
        elif name in fields:
            columns.append(f"a.{name}")
        else:
            columns.append(f'f."{name}"')
    return f"""
WITH f AS ({sql}),
matched AS (
    SELECT k.target_id, w.message_id, w.entity_kind, w.suggested_action, w.rank_, w.valid_from
    FROM watch_keys k
    JOIN f ON f.target_id = k.target_id
    JOIN watch w ON w.entity_kind = k.entity_kind AND w.scheme = k.scheme AND w.key = k.key
        AND (k.date_of_birth IS NULL OR w.date_of_birth = k.date_of_birth)
        AND w.valid_from <= f.day AND f.day <= w.valid_until
),
alerts AS (
    SELECT target_id, {", ".join(flags)},
        first(suggested_action ORDER BY rank_, valid_from DESC, message_id) AS alert_action,
        first(message_id ORDER BY rank_, valid_from DESC, message_id) AS alert_ref,
        list_sort(list_distinct(list(message_id))) AS alert_refs
    FROM matched GROUP BY target_id
)
SELECT {", ".join(columns)}
FROM f LEFT JOIN alerts a ON a.target_id = f.target_id
ORDER BY f.target_id
"""


FEATURE_SQL: dict[TargetKind, str] = {
    "consignment": _watched("consignment", _CONSIGNMENT_SQL),
    "traveller": _watched("traveller", _TRAVELLER_SQL),
    "movement": _watched("movement", _MOVEMENT_SQL),
}
