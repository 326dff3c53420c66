"""The demo's air cargo as IATA Cargo-IMP, written from the canonical files.

Per arrival day one file `<traffic>/messages/cargoimp-<day>.cimp`: an FFM for each flight with
the air waybills it carries, an FWB for each of its air waybills, then an FHL for each master
air waybill with its house waybills (express parcels), each message behind a Type-B envelope.
They hold the very records of the canonical files, so ingesting both stores each record once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import duckdb

from redlane.demo.messages import MESSAGES_DIR, canonical_source
from redlane.intake.cargoimp import envelope, shipments_of, write_ffm, write_fhl, write_fwb
from redlane.model import Consignment, Movement

SENDER = "RDLDEMO"
RECIPIENT = "CUSTOMS"
EXTENSION = ".cimp"

Progress = Callable[[str, int, int], None]


def write_cargoimp_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """One Cargo-IMP file per arrival day of the air consignments and flights in `traffic`;
    the paths."""
    out = traffic / MESSAGES_DIR
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    consignments = canonical_source(traffic, "consignments")
    movements = canonical_source(traffic, "movements")
    flights = (
        con.sql(
            f"""SELECT any_value(m) AS movement,
                list(c ORDER BY c.document.number) FILTER (WHERE c.document IS NOT NULL)
                    AS documents,
                CAST(any_value(coalesce(m.itinerary[-1].arrival, m.itinerary[1].departure))
                    AS DATE) AS day
            FROM {movements} m
            LEFT JOIN {consignments} c ON c.movement_ref = m.ref AND c.mode = 'air'
            WHERE m.conveyance.kind = 'aircraft'
            GROUP BY m.ref ORDER BY day, m.ref"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    masters = (
        con.sql(
            f"""SELECT c.document.master_number AS master, c.arrival_date AS day,
                list(c ORDER BY c.document.number) AS houses
            FROM {consignments} c
            WHERE c.mode = 'air' AND c.document.kind = 'house_air_waybill'
            GROUP BY ALL ORDER BY day, master"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    con.close()
    handles: dict[str, TextIO] = {}
    paths: list[Path] = []

    def handle(day: object) -> TextIO:
        name = f"cargoimp-{day}{EXTENSION}"
        if name not in handles:
            paths.append(out / name)
            handles[name] = (out / name).open("w", encoding="utf-8", newline="")
        return handles[name]

    total = len(flights) + len(masters)
    try:
        for done, flight in enumerate(flights, start=1):
            movement = Movement.model_validate(flight["movement"])
            docs = [Consignment.model_validate(d) for d in flight["documents"] or []]
            target = handle(flight["day"])
            first = movement.departure
            stamp = first.departure or first.arrival
            head = envelope(RECIPIENT, SENDER, stamp - timedelta(hours=1)) if stamp else ""
            target.write(head + write_ffm(movement, shipments_of(docs)) + "\n")
            for doc in docs:
                if doc.document.kind == "air_waybill":
                    when = doc.declared_at
                    target.write(
                        envelope(RECIPIENT, SENDER, when) + write_fwb(doc, movement) + "\n"
                    )
            if on_progress:
                on_progress("Cargo-IMP", done, total)
        for done, group in enumerate(masters, start=len(flights) + 1):
            houses = [Consignment.model_validate(h) for h in group["houses"]]
            when = min(h.declared_at for h in houses)
            handle(group["day"]).write(envelope(RECIPIENT, SENDER, when) + write_fhl(houses) + "\n")
            if on_progress:
                on_progress("Cargo-IMP", done, total)
    finally:
        for h in handles.values():
            h.close()
    return sorted(paths)
