"""The demo's air travellers as the airlines send them, written from the canonical files.

Passengers with a booking become PNRGOV pushes (one message per flight, one PNR each, with
the DOCS document and the booked itinerary); travellers without one (the crews) become PAXLST
crew lists. One traveller is in exactly one message, holding every field of its canonical
record, so ingesting the messages and the canonical files stores each traveller once. One
interchange per flight, one file per arrival day: `<traffic>/messages/paxlst-<day>.edi` and
`pnrgov-<day>.edi`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

import duckdb

from redlane.demo.messages import MESSAGES_DIR, RECIPIENT, SENDER, canonical_source
from redlane.intake.paxlst import write_paxlst
from redlane.intake.pnrgov import write_pnrgov
from redlane.model import Traveller

Progress = Callable[[str, int, int], None]
Writer = Callable[..., str]

#: Which travellers each format carries: the booked passengers go in PNR data, the rest in API.
_IN_PNR = "t.booking IS NOT NULL AND t.role = 'passenger'"
_BATCH_ROWS = 20_000


def write_paxlst_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """One PAXLST file per arrival day of the travellers without a booking (crews); the paths."""
    return _write(traffic, "paxlst", f"NOT ({_IN_PNR})", write_paxlst, timedelta(hours=1),
                  on_progress)  # fmt: skip


def write_pnrgov_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """One PNRGOV file per arrival day of the passengers with a booking; the paths."""
    return _write(traffic, "pnrgov", _IN_PNR, write_pnrgov, timedelta(hours=24), on_progress)


def _flight_departure(people: Sequence[Traveller]) -> datetime:
    legs = people[0].itinerary
    return next((leg for leg in legs if leg.flight_number), legs[0]).departs_at


def _write(
    traffic: Path,
    fmt: str,
    condition: str,
    writer: Writer,
    ahead: timedelta,
    on_progress: Progress | None,
) -> list[Path]:
    out = traffic / MESSAGES_DIR
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    handles: dict[str, IO[str]] = {}
    done = 0
    try:
        for day, people, total in _flights(traffic, condition):
            name = f"{fmt}-{day}.edi"
            if name not in handles:
                paths[name] = out / name
                handles[name] = paths[name].open("w", encoding="utf-8", newline="")
            ref = people[0].movement_ref
            sender = next((leg.carrier for leg in people[0].itinerary if leg.carrier), SENDER)
            text = writer(people, sender=sender, recipient=RECIPIENT, reference=ref[-14:],
                          prepared=_flight_departure(people) - ahead)  # fmt: skip
            handles[name].write(text + "\n")
            done += len(people)
            if on_progress:
                on_progress(fmt.upper(), done, total)
    finally:
        for handle in handles.values():
            handle.close()
    return sorted(paths.values())


def _flights(traffic: Path, condition: str) -> Iterator[tuple[str, list[Traveller], int]]:
    """(arrival day, travellers, travellers in all) per flight, in day and flight order, read
    in batches so that a large day stays out of memory."""
    travellers = canonical_source(traffic, "travellers")
    movements = canonical_source(traffic, "movements")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    query = f"""
        SELECT t AS traveller, CAST(coalesce(list_last(m.itinerary).arrival,
                                             t.itinerary[1].departs_at) AS DATE) AS day
        FROM {travellers} t LEFT JOIN {movements} m ON m.ref = t.movement_ref
        WHERE {condition}
        ORDER BY day, t.movement_ref, t.document.number"""
    try:
        total = int(con.sql(f"SELECT count(*) FROM ({query})").fetchall()[0][0])
        reader = con.sql(query).to_arrow_reader(_BATCH_ROWS)
        current: list[Traveller] = []
        current_day = ""
        for batch in reader:
            for row in batch.to_pylist():
                traveller = Traveller.model_validate(row["traveller"])
                if current and traveller.movement_ref != current[0].movement_ref:
                    yield current_day, current, total
                    current = []
                current.append(traveller)
                current_day = row["day"].isoformat()
        if current:
            yield current_day, current, total
    finally:
        con.close()
