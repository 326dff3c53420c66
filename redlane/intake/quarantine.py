"""Quarantined records: look at one, and try again once the cause is fixed.

A refused record keeps the text it came in (a JSON record, or the whole EDIFACT message it was
mapped from). After a fix — a sender's qualifier mapping, reference data, a newer model — a
retry reads that text again through the same path; what is valid now is stored (records stored
before count as duplicates), the quarantine row is marked `resolved`, and what is still refused
stays open with today's reason.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update

from redlane.intake.canonical import IntakeRefused, Problem, RawRecord, validate_chunk
from redlane.intake.formats import recognise
from redlane.intake.pipeline import store_models
from redlane.store.database import Database
from redlane.store.schema import quarantine


class QuarantineError(LookupError):
    """No such quarantined record."""


@dataclass
class RetrySummary:
    tried: int = 0
    resolved: int = 0
    stored: int = 0
    still_refused: int = 0


def show(db: Database, record_id: int) -> dict[str, Any]:
    """One quarantined record with its file, locator, field, reason, sender and raw text."""
    with db.engine.connect() as conn:
        row = conn.execute(select(quarantine).where(quarantine.c.id == record_id)).first()
    if row is None:
        raise QuarantineError(f"quarantine id {record_id}: no such record")
    return dict(row._mapping)


def _records(raw: str, sender: str | None, locator: str) -> tuple[list[RawRecord], list[Problem]]:
    """The raw text read again: mapped records to validate, and problems found on the way."""
    message_format = recognise(raw)
    if message_format is None:
        return [RawRecord(locator, raw.encode())], []
    message_format.admit()
    text = raw
    if raw.lstrip().startswith("UNH"):
        # an EDIFACT message kept without its interchange: the header gives back its sender
        text = f"UNB+UNOC:3+{sender or ''}'" + raw
    records: list[RawRecord] = []
    problems: list[Problem] = []
    for item in message_format.read(io.StringIO(text)):
        mapped, refused = message_format.records(item)
        records += mapped
        problems += refused
    return records, problems


def retry(db: Database, record_ids: Sequence[int] | None = None) -> RetrySummary:
    """Read open quarantined records again (all, or those ids) and store what is valid now."""
    query = select(quarantine).where(quarantine.c.status == "open").order_by(quarantine.c.id)
    if record_ids is not None:
        query = query.where(quarantine.c.id.in_(list(record_ids)))
    with db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    summary = RetrySummary()
    for row in rows:
        summary.tried += 1
        try:
            records, problems = _records(row["raw"], row["sender"], row["locator"])
        except IntakeRefused as exc:
            # not read at all (e.g. passenger data after its legal basis was switched off)
            records, problems = [], [Problem(row["locator"], None, str(exc), row["raw"])]
        models, refused = validate_chunk(records) if records else ([], [])
        problems += refused
        grouped: dict[str, list[BaseModel]] = defaultdict(list)
        for model in models:
            grouped[model.record].append(model)  # type: ignore[attr-defined]
        source = f"{row['source_file']} (retry of quarantine {row['id']})"
        for kind, group in grouped.items():
            summary.stored += store_models(db, kind, group, source, row["sender"])
        # Resolved when the whole text now goes in (a message is retried whole: its records
        # stored before count as duplicates); else it stays open with today's reason.
        if not problems:
            values: dict[str, Any] = {"status": "resolved"}
            summary.resolved += 1
        else:
            values = {"field": problems[0].field, "reason": problems[0].reason}
            summary.still_refused += 1
        with db.engine.begin() as conn:
            conn.execute(update(quarantine).where(quarantine.c.id == row["id"]).values(**values))
    return summary
