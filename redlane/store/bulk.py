"""Set-based writes of flattened batches: executemany on SQLite, COPY on PostgreSQL.

A batch is written in one transaction, parent rows with their children. Records whose content
is already stored are left out before writing (their id is their content hash), so re-ingesting
a file adds nothing; `ON CONFLICT DO NOTHING` covers two writers racing on the same record.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection

from redlane.store.database import Database
from redlane.store.flatten import FlatBatch

_SQLITE_IN_CHUNK = 900  # under SQLite's default limit of host parameters per statement


@dataclass(frozen=True)
class WriteCounts:
    stored: int
    duplicates: int


def _rows(table: pa.Table) -> Iterator[tuple[Any, ...]]:
    return zip(*(column.to_pylist() for column in table.columns), strict=True)


def _existing_ids(conn: Connection, table: str, ids: Sequence[int], sqlite: bool) -> set[int]:
    cursor = conn.connection.cursor()
    found: set[int] = set()
    if sqlite:
        for start in range(0, len(ids), _SQLITE_IN_CHUNK):
            chunk = ids[start : start + _SQLITE_IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            cursor.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk)
            found.update(row[0] for row in cursor.fetchall())
    else:
        cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s)", (list(ids),))
        found.update(row[0] for row in cursor.fetchall())
    cursor.close()
    return found


def _insert_sqlite(conn: Connection, name: str, table: pa.Table) -> None:
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    marks = ", ".join("?" * table.num_columns)
    cursor = conn.connection.cursor()
    cursor.executemany(
        f"INSERT INTO {name} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",
        _rows(table),  # type: ignore[arg-type]  # sqlite3 takes any iterable of rows
    )
    cursor.close()


def _insert_postgres(conn: Connection, name: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    staging = f"staging_{name}"
    cursor: Any = conn.connection.cursor()
    cursor.execute("SET LOCAL TIME ZONE 'UTC'")
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {name} INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS"
    )
    with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
    cursor.execute(
        f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {staging} ON CONFLICT DO NOTHING"
    )
    cursor.close()


def write_batch(db: Database, flat: FlatBatch) -> WriteCounts:
    """Store a flattened batch; returns how many records were new and how many already stored."""
    parent_name, parent = next(iter(flat.tables.items()))
    ids: list[int] = parent["id"].to_pylist()
    with db.engine.begin() as conn:
        known = _existing_ids(conn, parent_name, ids, db.is_sqlite) if ids else set()
        insert = _insert_sqlite if db.is_sqlite else _insert_postgres
        known_ids = pa.array(sorted(known), pa.int64())
        for name, table in flat.tables.items():
            key = "id" if name == parent_name else table.column_names[0]
            fresh = table.filter(pc.invert(pc.is_in(table[key], known_ids))) if known else table
            if fresh.num_rows:
                insert(conn, name, fresh)
    return WriteCounts(
        stored=len(ids) - len(known), duplicates=len(known) + flat.in_batch_duplicates
    )
