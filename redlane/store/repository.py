"""Reads and small writes on the store: ingest batches, quarantine, statistics, records."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import Select, func, insert, select, types, update

from redlane.intake.canonical import Problem
from redlane.store.database import Database
from redlane.store.schema import ingest_batches, metadata, quarantine


def now() -> datetime:
    return datetime.now(UTC)


def start_batch(db: Database, source_file: str, fmt: str, sender: str | None) -> int:
    with db.engine.begin() as conn:
        result = conn.execute(
            insert(ingest_batches).values(
                source_file=source_file,
                format=fmt,
                sender=sender,
                started_at=now(),
                read=0,
                stored=0,
                duplicates=0,
                quarantined=0,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_batch(db: Database, batch_id: int, **counts: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            update(ingest_batches)
            .where(ingest_batches.c.id == batch_id)
            .values(finished_at=now(), **counts)
        )


def _quarantine_id(source_file: str, problem: Problem) -> int:
    digest = hashlib.md5(
        f"{source_file}\x00{problem.locator}\x00{problem.raw}".encode(), usedforsecurity=False
    ).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def quarantine_problems(
    db: Database, batch_id: int, source_file: str, sender: str | None, problems: Sequence[Problem]
) -> int:
    """Keep refused records with their error; the same record refused twice is kept once."""
    if not problems:
        return 0
    rows = {
        key: {
            "id": key,
            "batch_id": batch_id,
            "source_file": source_file,
            "locator": p.locator,
            "record_kind": p.record_kind,
            "field": p.field,
            "reason": p.reason,
            "raw": p.raw,
            "sender": p.sender or sender,
            "status": "open",
            "created_at": now(),
        }
        for p in problems
        for key in [_quarantine_id(source_file, p)]
    }
    with db.engine.begin() as conn:
        known = set(
            conn.execute(select(quarantine.c.id).where(quarantine.c.id.in_(list(rows)))).scalars()
        )
        fresh = [row for key, row in rows.items() if key not in known]
        if fresh:
            conn.execute(insert(quarantine), fresh)
    return len(fresh)


def quarantined(db: Database, status: str | None = "open") -> list[dict[str, Any]]:
    query = select(quarantine).order_by(quarantine.c.created_at, quarantine.c.id)
    if status is not None:
        query = query.where(quarantine.c.status == status)
    with db.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def count_rows(db: Database, table_names: Iterable[str]) -> dict[str, int]:
    counts = {}
    with db.engine.connect() as conn:
        for name in table_names:
            table = metadata.tables[name]
            counts[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return counts


def _arrow_type(sql_type: types.TypeEngine[Any]) -> pa.DataType:
    """The Arrow type for a column type, so that even an all-null column keeps its type."""
    if isinstance(sql_type, types.Boolean):
        return pa.bool_()
    if isinstance(sql_type, types.Integer):
        return pa.int64()
    if isinstance(sql_type, (types.Float, types.Numeric)):
        return pa.float64()
    if isinstance(sql_type, types.DateTime):
        return pa.timestamp("us")
    if isinstance(sql_type, types.Date):
        return pa.date32()
    return pa.string()


def fetch_arrow(db: Database, query: Select[Any]) -> pa.Table:
    """A query's rows as an Arrow table, column-wise, typed from the query's columns."""
    columns = list(query.selected_columns)
    with db.engine.connect() as conn:
        rows = conn.execute(query).fetchall()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pa.table(
        {
            c.name: pa.array([_naive_utc(v) for v in col], _arrow_type(c.type))
            if isinstance(c.type, types.DateTime)
            else pa.array(list(col), _arrow_type(c.type))
            for c, col in zip(columns, values, strict=True)
        }
    )


#: Keys per IN (...) lookup: under every database's limit of parameters per statement.
IN_CHUNK = 5_000


def fetch_arrow_in(db: Database, query: Select[Any], column: Any, keys: Iterable[Any]) -> pa.Table:
    """`fetch_arrow` of `query` restricted to `column IN keys`, in chunks, concatenated."""
    distinct = sorted({k for k in keys if k is not None})
    parts = [
        fetch_arrow(db, query.where(column.in_(distinct[i : i + IN_CHUNK])))
        for i in range(0, len(distinct), IN_CHUNK)
    ]
    return pa.concat_tables(parts) if parts else fetch_arrow(db, query.where(column.in_([])))


def _naive_utc(value: Any) -> Any:
    # PostgreSQL hands back aware timestamps, SQLite the naive UTC text we stored
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
