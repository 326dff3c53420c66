"""Opening the operational store: SQLite (WAL) by default, PostgreSQL in production."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL

from redlane.config import database_url

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_AUTOCHECKPOINT_PAGES = 16384  # 64 MiB of WAL between checkpoints, not SQLite's 4 MiB
WAL_TRUNCATE_BYTES = 256 * 1024 * 1024  # the WAL a background-checkpointed ingest may grow to


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while the ingest writes; NORMAL sync is durable across crashes of
    # the application (not of the OS) and is what WAL is designed for.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: index upkeep at scale
    cursor.close()


def utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC time: SQLite hands back the naive UTC we stored, PostgreSQL an
    aware time in the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def insert_unless_present(conn: Connection, table: Table) -> Any:
    """An INSERT into `table` that skips a row whose key is there already (ON CONFLICT DO
    NOTHING): for rows that two sessions may add at the same moment, where checking first
    would race."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


class Database:
    """One store: its engine, its dialect and its migrations."""

    def __init__(self, url: str | None = None) -> None:
        self.url: URL = database_url(url)
        if self.is_sqlite and self.url.database not in (None, "", ":memory:"):
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(self.url)
        # Pages per automatic WAL checkpoint; 0 while a bulk ingest checkpoints in the background.
        self._autocheckpoint = WAL_AUTOCHECKPOINT_PAGES
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "checkout", self._set_autocheckpoint)

    def _set_autocheckpoint(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={self._autocheckpoint}")

    @contextmanager
    def background_checkpoints(self, every_seconds: float = 0.5) -> Iterator[None]:
        """During a bulk write, copy the SQLite WAL into the database on another thread.

        The writer then never stops to checkpoint at a commit; SQLite does the copying in C
        with the GIL released, on the other core. A last full checkpoint runs at the end.
        Nothing to do on PostgreSQL.
        """
        if not self.is_sqlite or self.url.database in (None, "", ":memory:"):
            yield
            return
        stop = threading.Event()
        path = str(self.url.database)

        wal = Path(f"{path}-wal")

        def checkpoint() -> None:
            connection = sqlite3.connect(path, timeout=30)
            try:
                while not stop.wait(every_seconds):
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    # A writer that never pauses keeps a passive checkpoint from rewinding the
                    # WAL; past a bound, wait for a pause between transactions and truncate.
                    if wal.exists() and wal.stat().st_size > WAL_TRUNCATE_BYTES:
                        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()

        self._autocheckpoint = 0
        worker = threading.Thread(target=checkpoint, name="redlane-checkpoint", daemon=True)
        worker.start()
        try:
            yield
        finally:
            self._autocheckpoint = WAL_AUTOCHECKPOINT_PAGES
            stop.set()
            worker.join()

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to `revision` (idempotent)."""
        command.upgrade(self._alembic_config(), revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"
