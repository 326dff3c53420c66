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
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection

from redlane.store.database import Database
from redlane.store.flatten import FlatBatch

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


class KnownKeys:
    """Entity keys already written in this run, so a party named on every page is sent once.

    Lives for one ingest run only: rows removed from the store later (retention) must not be
    remembered as present.
    """

    def __init__(self) -> None:
        self._keys: dict[str, pa.Array] = {}

    def unseen(self, name: str, table: pa.Table) -> pa.Table:
        seen = self._keys.get(name)
        if seen is None:
            return table
        return table.filter(pc.invert(pc.is_in(table["key"], seen)))

    def add(self, name: str, table: pa.Table) -> None:
        keys = table["key"].combine_chunks()
        seen = self._keys.get(name)
        self._keys[name] = keys if seen is None else pa.concat_arrays([seen, keys])


def write_batch(db: Database, flat: FlatBatch, known: KnownKeys | None = None) -> int:
    """Store a flattened batch in one transaction; returns how many records were new.

    Records whose content the store already holds are left out; a record that another writer
    stores in between is skipped by the insert itself.
    """
    insert = _insert_sqlite if db.is_sqlite else _insert_postgres
    with db.engine.begin() as conn:
        for name, entities in flat.entities.items():
            fresh_entities = known.unseen(name, entities) if known else entities
            if fresh_entities.num_rows:
                insert(conn, name, fresh_entities)
                if known:
                    known.add(name, fresh_entities)
        records = flat.records
        stored = _existing(conn, flat.table_name, records["content_hash"].to_pylist(), db.is_sqlite)
        if stored:
            mask = pc.is_in(records["content_hash"], pa.array(stored, pa.int64()))
            records = records.filter(pc.invert(mask))
        if not records.num_rows:
            return 0
        # The database numbers the rows: sequential ids append to the table's B-tree.
        return insert(conn, flat.table_name, records.drop_columns(["id"]))
