"""Set-based writes of flattened batches: executemany on SQLite, COPY on PostgreSQL.

A batch is written in one transaction, records with the entities they name. Every record table
has a unique content hash and every write is `ON CONFLICT DO NOTHING`, so re-ingesting a file
adds nothing, even when two writers race on the same records.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection

from redlane.store.database import Database
from redlane.store.flatten import FlatBatch
from redlane.store.schema import RECORD_TABLES

_SQLITE_IN_CHUNK = 900  # under SQLite's default limit of host parameters per statement


def _rows(table: pa.Table) -> Iterator[tuple[Any, ...]]:
    return zip(*(column.to_pylist() for column in table.columns), strict=True)


def _existing(conn: Connection, table: str, hashes: Sequence[int], sqlite: bool) -> list[int]:
    """The content hashes of this batch that the table already holds."""
    cursor = conn.connection.cursor()
    found: list[int] = []
    if sqlite:
        for start in range(0, len(hashes), _SQLITE_IN_CHUNK):
            chunk = hashes[start : start + _SQLITE_IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            cursor.execute(
                f"SELECT content_hash FROM {table} WHERE content_hash IN ({marks})", chunk
            )
            found.extend(row[0] for row in cursor.fetchall())
    else:
        cursor.execute(
            f"SELECT content_hash FROM {table} WHERE content_hash = ANY(%s)", (list(hashes),)
        )
        found.extend(row[0] for row in cursor.fetchall())
    cursor.close()
    return found


def _insert_sqlite(conn: Connection, name: str, table: pa.Table) -> int:
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    marks = ", ".join("?" * table.num_columns)
    cursor = conn.connection.cursor()
    cursor.executemany(
        f"INSERT INTO {name} ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING",
        _rows(table),  # type: ignore[arg-type]  # sqlite3 takes any iterable of rows
    )
    inserted = int(cursor.rowcount)
    cursor.close()
    return inserted


def _insert_postgres(conn: Connection, name: str, table: pa.Table) -> int:
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
    inserted = int(cursor.rowcount)
    cursor.close()
    return inserted


def stored_hashes(db: Database, kind: str, hashes: Sequence[int]) -> list[int]:
    """Which of these content hashes of records of `kind` the store already holds."""
    with db.engine.connect() as conn:
        return _existing(conn, RECORD_TABLES[kind].name, hashes, db.is_sqlite)


def write_batch(db: Database, flat: FlatBatch) -> int:
    """Store a flattened batch in one transaction; returns how many records were new.

    A record whose content is already stored (another writer got there first) is skipped.
    """
    insert = _insert_sqlite if db.is_sqlite else _insert_postgres
    with db.engine.begin() as conn:
        for name, entities in flat.entities.items():
            if entities.num_rows:
                insert(conn, name, entities)
        if not flat.records.num_rows:
            return 0
        # The database numbers the rows: sequential ids append to the table's B-tree.
        return insert(conn, flat.table_name, flat.records.drop_columns(["id"]))
