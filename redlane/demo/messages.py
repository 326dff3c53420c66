"""The demo traffic in the transport sector's own formats, written from the canonical files.

Sea consignments and their vessel voyages become UN/EDIFACT CUSCAR interchanges (one message
per voyage, one file per arrival day) under `<traffic>/messages/`. They hold the very records
of the canonical files, so ingesting both stores each record once. The voyages, the day files
and the progress here serve the writers of the other formats too (`redlane.demo.formats`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import TextIO

import duckdb

from redlane.intake.cuscar import write_cuscar
from redlane.model import Consignment, Movement

MESSAGES_DIR = "messages"
SENDER = "REDLANEDEMO"
RECIPIENT = "CUSTOMS"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Voyage:
    """A vessel voyage of the demo with the sea bills on it (in document number order)."""

    movement: Movement
    documents: list[Consignment]
    day: date
    """The first arrival day of its bills: the day file it is written to."""


def sea_voyages(traffic: Path) -> list[Voyage]:
    """The vessel voyages of the canonical files in `traffic` that carry sea bills, by day."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    consignments = canonical_source(traffic, "consignments")
    movements = canonical_source(traffic, "movements")
    rows = (
        con.sql(
            f"""SELECT any_value(m) AS movement, list(c ORDER BY c.document.number) AS documents,
                min(c.arrival_date) AS day
            FROM {consignments} c JOIN {movements} m ON m.ref = c.movement_ref
            WHERE c.mode = 'sea' AND m.conveyance.kind = 'vessel'
            GROUP BY m.ref ORDER BY day, m.ref"""
        )
        .to_arrow_table()
        .to_pylist()
    )
    con.close()
    return [
        Voyage(
            Movement.model_validate(row["movement"]),
            [Consignment.model_validate(d) for d in row["documents"]],
            row["day"],
        )
        for row in rows
    ]


class DayFiles:
    """One open file per day, `<prefix>-<YYYY-MM-DD>.edi` under `<traffic>/messages/`."""

    def __init__(self, traffic: Path, prefix: str) -> None:
        self.out = traffic / MESSAGES_DIR
        self.out.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.handles: dict[Path, TextIO] = {}

    def __call__(self, day: date) -> TextIO:
        path = self.out / f"{self.prefix}-{day.isoformat()}.edi"
        if path not in self.handles:
            self.handles[path] = path.open("w", encoding="utf-8", newline="")
        return self.handles[path]

    def close(self) -> list[Path]:
        for handle in self.handles.values():
            handle.close()
        return sorted(self.handles)


def each_voyage(voyages: list[Voyage], name: str, on_progress: Progress | None) -> Iterator[Voyage]:
    for done, voyage in enumerate(voyages, start=1):
        yield voyage
        if on_progress:
            on_progress(name, done, len(voyages))


def write_cuscar_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """One CUSCAR file per arrival day of the sea consignments in `traffic`; the paths."""
    return write_voyage_files(traffic, "cuscar", write_cuscar, on_progress)


VoyageWriter = Callable[..., str]
"""A manifest writer: (movement, documents, *, sender, recipient, reference, prepared) -> text."""


def write_voyage_files(
    traffic: Path, prefix: str, writer: VoyageWriter, on_progress: Progress | None = None
) -> list[Path]:
    """One interchange per vessel voyage of the sea consignments in `traffic`, written by
    `writer`, one `<prefix>-<day>.edi` file per arrival day; the paths."""
    files = DayFiles(traffic, prefix)
    try:
        for voyage in each_voyage(sea_voyages(traffic), prefix.upper(), on_progress):
            prepared = min(d.declared_at for d in voyage.documents) - timedelta(hours=1)
            files(voyage.day).write(
                writer(
                    voyage.movement,
                    voyage.documents,
                    sender=SENDER,
                    recipient=RECIPIENT,
                    reference=voyage.movement.ref[-14:],
                    prepared=prepared.astimezone(UTC),
                )
                + "\n"
            )
    finally:
        paths = files.close()
    return paths


def canonical_source(traffic: Path, stem: str) -> str:
    """A DuckDB table expression over the canonical file `stem` of the traffic directory."""
    parquet, jsonl = traffic / f"{stem}.parquet", traffic / f"{stem}.jsonl"
    if parquet.exists():
        return f"read_parquet('{parquet}')"
    if jsonl.exists():
        return f"read_json('{jsonl}', format='newline_delimited')"
    raise FileNotFoundError(f"{traffic}: no {stem}.parquet or {stem}.jsonl to write messages from")
