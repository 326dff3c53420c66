"""The demo traffic in the transport sector's own formats, written from the canonical files.

Sea consignments and their vessel voyages become UN/EDIFACT CUSCAR interchanges (one message
per voyage, one file per arrival day) under `<traffic>/messages/`. They hold the very records
of the canonical files, so ingesting both stores each record once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path

import duckdb

from redlane.intake.cuscar import write_cuscar
from redlane.model import Consignment, Movement

MESSAGES_DIR = "messages"
#: Message formats the generator writes besides the canonical files.
MESSAGE_FORMATS = ("cuscar",)
SENDER = "REDLANEDEMO"
RECIPIENT = "CUSTOMS"

Progress = Callable[[str, int, int], None]


def write_cuscar_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """One CUSCAR file per arrival day of the sea consignments in `traffic`; the paths."""
    out = traffic / MESSAGES_DIR
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    consignments = canonical_source(traffic, "consignments")
    movements = canonical_source(traffic, "movements")
    voyages = (
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
    paths: dict[str, Path] = {}
    handles = {}
    try:
        for done, voyage in enumerate(voyages, start=1):
            movement = Movement.model_validate(voyage["movement"])
            docs = [Consignment.model_validate(d) for d in voyage["documents"]]
            day = voyage["day"]
            name = f"cuscar-{day.isoformat()}.edi"
            if name not in handles:
                paths[name] = out / name
                handles[name] = paths[name].open("w", encoding="utf-8", newline="")
            prepared = min(d.declared_at for d in docs) - timedelta(hours=1)
            handles[name].write(
                write_cuscar(
                    movement,
                    docs,
                    sender=SENDER,
                    recipient=RECIPIENT,
                    reference=movement.ref[-14:],
                    prepared=prepared.astimezone(UTC),
                )
                + "\n"
            )
            if on_progress:
                on_progress("CUSCAR", done, len(voyages))
    finally:
        for handle in handles.values():
            handle.close()
    return sorted(paths.values())


def canonical_source(traffic: Path, stem: str) -> str:
    """A DuckDB table expression over the canonical file `stem` of the traffic directory."""
    parquet, jsonl = traffic / f"{stem}.parquet", traffic / f"{stem}.jsonl"
    if parquet.exists():
        return f"read_parquet('{parquet}')"
    if jsonl.exists():
        return f"read_json('{jsonl}', format='newline_delimited')"
    raise FileNotFoundError(f"{traffic}: no {stem}.parquet or {stem}.jsonl to write messages from")
