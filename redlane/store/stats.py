"""Counts of what the store holds: by record kind, mode, place and day."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, String, Table, cast, func, select

from redlane.store.database import Database
from redlane.store.schema import RECORD_TABLES, consignments, movements, quarantine, travellers

Count = tuple[str, int]


@dataclass(frozen=True)
class StoreStats:
    """Totals per record kind and the main breakdowns a duty officer looks at first."""

    totals: dict[str, int]
    quarantined_open: int
    consignments_by_mode: list[Count] = field(default_factory=list)
    consignments_by_place: list[Count] = field(default_factory=list)
    consignments_by_day: list[Count] = field(default_factory=list)
    movements_by_kind: list[Count] = field(default_factory=list)
    movements_by_place: list[Count] = field(default_factory=list)
    travellers_by_destination: list[Count] = field(default_factory=list)
    travellers_by_day: list[Count] = field(default_factory=list)


def _count(db: Database, table: Table, *where: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _by(db: Database, column: Column[Any], limit: int | None, by_count: bool = True) -> list[Count]:
    n = func.count().label("n")
    query = select(column, n).group_by(column)
    query = query.order_by(n.desc(), column) if by_count else query.order_by(column)
    with db.engine.connect() as conn:
        return [(str(key), int(count)) for key, count in conn.execute(query.limit(limit))]


def _day(column: Column[Any]) -> Any:
    # Dates and timestamps are both cut to the day: SQLite holds them as text, PostgreSQL
    # casts its types to the same ISO text.
    return func.substr(cast(column, String), 1, 10).label(column.name)


def store_stats(db: Database, top: int = 10) -> StoreStats:
    """What the store holds; `top` limits the per-place lists to the busiest places."""
    return StoreStats(
        totals={kind: _count(db, table) for kind, table in RECORD_TABLES.items()},
        quarantined_open=_count(db, quarantine, quarantine.c.status == "open"),
        consignments_by_mode=_by(db, consignments.c.mode, None),
        consignments_by_place=_by(db, consignments.c.place_of_discharge, top),
        consignments_by_day=_by(db, _day(consignments.c.arrival_date), None, by_count=False),
        movements_by_kind=_by(db, movements.c.conveyance_kind, None),
        movements_by_place=_by(db, movements.c.arrival_place, top),
        travellers_by_destination=_by(db, travellers.c.destination, top),
        travellers_by_day=_by(db, _day(travellers.c.departs_at), None, by_count=False),
    )
