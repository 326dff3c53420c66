"""The demo's road and yacht traffic as the sectors send it: tables to map, not messages.

Truck crossings (a border post's CSV export), the CMR consignments on them (a CSV of the
hauliers' declarations) and yacht pre-arrival reports (JSON Lines from a SailClear-style
portal), one file per arrival day, in the layouts of the shipped mappings
(`redlane/intake/tabular_mappings/`). They hold the very records of the canonical files:
ingested through their mappings, they store the same records.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from redlane.demo.messages import MESSAGES_DIR, canonical_source

Progress = Callable[[str, int, int], None]

#: Sub-directory of the messages folder, and shipped mapping, per table.
TRUCK_CROSSINGS = "truck_crossings"
ROAD_CONSIGNMENTS = "road_consignments"
YACHT_REPORTS = "yacht_reports"

_TIME = "strftime({}, '%Y-%m-%dT%H:%M:%SZ')"


def _party_columns(expr: str, prefix: str) -> str:
    """A party's columns: its name under `prefix` itself, the rest as `prefix_<field>`."""
    return ", ".join(
        f"{expr}.{field} AS {prefix}{name}"
        for field, name in (
            ("name", ""),
            ("address.street", "_street"),
            ("address.city", "_city"),
            ("address.postcode", "_postcode"),
            ("address.country", "_country"),
            ("eori", "_eori"),
            ("vat", "_vat"),
            ("phone", "_phone"),
            ("email", "_email"),
        )
    )


def _truck_crossings(movements: str) -> str:
    return f"""SELECT m.ref AS crossing_id, m.conveyance.registration AS registration,
            m.conveyance.flag AS flag,
            m.conveyance.plates[1].number AS tractor_plate,
            m.conveyance.plates[1].country AS tractor_country,
            m.conveyance.plates[2].number AS trailer_plate,
            m.conveyance.plates[2].country AS trailer_country,
            {_party_columns("m.conveyance.operator", "haulier")},
            m.conveyance.acquired_on AS tractor_acquired_on,
            m.itinerary[1].place AS origin,
            {_TIME.format("m.itinerary[1].departure")} AS departed_at,
            m.itinerary[2].place AS border_post,
            {_TIME.format("m.itinerary[2].arrival")} AS crossed_at,
            m.persons_on_board AS persons, m.itinerary[-1].arrival::DATE AS day
        FROM {movements} m WHERE m.conveyance.kind = 'truck' AND len(m.itinerary) = 2"""


def _road_consignments(consignments: str) -> str:
    parties = ", ".join(
        _party_columns(f"c.parties[{i}]", role)
        for i, role in enumerate(("consignor", "consignee", "haulier"), start=1)
    )
    goods = ", ".join(
        f"c.goods[{i}].{field} AS goods_{i}_{field}"
        for i in (1, 2)
        for field in (
            "hs_code", "description", "packages", "package_kind", "gross_mass_kg",
            "net_mass_kg", "value", "currency",
        )
    )  # fmt: skip
    routing = ", ".join(f"c.routing_countries[{i}] AS routing_{i}" for i in (1, 2, 3, 4))
    return f"""SELECT c.document.number AS cmr_number, c.movement_ref AS crossing_id,
            c.office, {_TIME.format("c.declared_at")} AS declared_at, c.arrival_date,
            {parties}, c.place_of_loading, c.place_of_discharge, c.place_of_delivery,
            c.origin_country, c.destination_country, {routing}, {goods},
            c.freight.amount AS freight_amount, c.freight.currency AS freight_currency,
            c.freight.terms AS freight_terms, c.freight.payer_role AS freight_payer,
            c.arrival_date AS day
        FROM {consignments} c WHERE c.mode = 'road'
            AND [p.role FOR p IN c.parties] = ['consignor', 'consignee', 'haulier']"""


def _yacht_reports(movements: str) -> str:
    # A report lists up to three ports before the next one: the last, the one before, the
    # first of the voyage.
    calls = ", ".join(
        f"m.itinerary[-{back}].place AS {port}, "
        f"{_TIME.format(f'm.itinerary[-{back}].arrival')} AS arrived_{port}_at, "
        f"{_TIME.format(f'm.itinerary[-{back}].departure')} AS left_{port}_at"
        for back, port in ((4, "first_port"), (3, "previous_port"), (2, "last_port"))
    )
    return f"""SELECT m.ref AS report_id, m.conveyance.name AS name, m.conveyance.flag AS flag,
            m.conveyance.mmsi AS mmsi, m.conveyance.registration AS registration,
            {_party_columns("m.conveyance.owner", "owner")},
            m.conveyance.acquired_on AS purchased_on, m.persons_on_board AS crew, {calls},
            m.itinerary[-1].place AS next_port, {_TIME.format("m.itinerary[-1].arrival")} AS eta,
            m.itinerary[-1].arrival::DATE AS day
        FROM {movements} m WHERE m.conveyance.kind = 'yacht' AND len(m.itinerary) <= 4"""


def write_road_yacht_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """Truck crossings and CMR consignments as CSV, yacht reports as JSON Lines, one file per
    arrival day under `<traffic>/messages/<table>/`; the paths."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    movements = canonical_source(traffic, "movements")
    tables = (
        (TRUCK_CROSSINGS, _truck_crossings(movements), "csv"),
        (ROAD_CONSIGNMENTS, _road_consignments(canonical_source(traffic, "consignments")), "csv"),
        (YACHT_REPORTS, _yacht_reports(movements), "jsonl"),
    )
    paths: list[Path] = []
    for done, (name, query, suffix) in enumerate(tables, start=1):
        folder = traffic / MESSAGES_DIR / name
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"CREATE OR REPLACE TEMP TABLE rows AS {query}")
        days = [d for (d,) in con.execute("SELECT DISTINCT day FROM rows ORDER BY day").fetchall()]
        for day in days:
            path = folder / f"{name.replace('_', '-')}-{day.isoformat()}.{suffix}"
            options = "FORMAT csv, HEADER true" if suffix == "csv" else "FORMAT json"
            con.execute(
                f"COPY (SELECT * EXCLUDE (day) FROM rows WHERE day = ? ORDER BY 1) "
                f"TO '{path}' ({options})",
                [day],
            )
            paths.append(path)
        if on_progress:
            on_progress("road and yacht tables", done, len(tables))
    con.close()
    return paths
