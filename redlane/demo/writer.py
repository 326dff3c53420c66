"""Write record chunks to JSONL and Parquet: one file per kind and format, one row group per chunk.

JSONL goes through DuckDB's JSON writer (C++, nested types, streaming) with an explicit ISO 8601
timestamp format ending in 'Z', which pydantic parses; DuckDB's default timestamp text
('2026-11-02 10:00:00+00') it would not.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class KindWriter:
    """Appends chunks of one record kind to `<name>.jsonl` and/or `<name>.parquet`."""

    def __init__(self, out_dir: Path, name: str, schema: pa.Schema, formats: tuple[str, ...]):
        self.schema = schema
        self.paths: list[Path] = []
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._jsonl: IO[bytes] | None = None
        self._duck: duckdb.DuckDBPyConnection | None = None
        self._tmp: Path | None = None
        if "parquet" in formats:
            path = out_dir / f"{name}.parquet"
            # No statistics-dependent or time-stamped metadata: same input, same bytes.
            self._parquet = pq.ParquetWriter(path, schema, compression="zstd")
            self.paths.append(path)
        if "jsonl" in formats:
            path = out_dir / f"{name}.jsonl"
            self._jsonl = path.open("wb")
            self._duck = duckdb.connect()
            # One thread keeps the row order and the bytes stable.
            self._duck.execute("SET threads = 1; SET TimeZone = 'UTC'")
            self._tmp = Path(tempfile.mkdtemp(prefix="redlane-demo-")) / "chunk.jsonl"
            self.paths.append(path)

    def write(self, table: pa.Table) -> None:
        if table.schema != self.schema:
            raise TypeError("chunk schema differs from the record schema")
        self.rows += table.num_rows
        if self._parquet is not None:
            self._parquet.write_table(table, row_group_size=table.num_rows)
        if self._jsonl is not None and self._duck is not None and self._tmp is not None:
            self._duck.register("chunk", table)
            self._duck.execute(
                f"COPY (SELECT * FROM chunk) TO '{self._tmp}' "
                f"(FORMAT JSON, TIMESTAMPFORMAT '{_TIMESTAMP_FORMAT}')"
            )
            self._duck.unregister("chunk")
            with self._tmp.open("rb") as src:
                shutil.copyfileobj(src, self._jsonl, 1 << 20)

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None
        if self._duck is not None:
            self._duck.close()
            self._duck = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp.parent, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> KindWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
