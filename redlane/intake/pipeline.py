"""The ingest path: read, validate, flatten, store; quarantine what is refused.

One chunk at a time, so memory is flat in the file size. Every file gets an ingest batch row
with its counts; refused records go to quarantine with their locator, field and reason while
the rest of the file goes in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, TypeAdapter

from redlane.intake.canonical import Problem, detect_format, read_chunks, validate_chunk
from redlane.model.arrow import RECORD_MODELS, arrow_schema
from redlane.store import repository
from redlane.store.bulk import write_batch
from redlane.store.database import Database
from redlane.store.flatten import Provenance, flatten

ProgressCallback = Callable[[str, int, int], None]
"""on_progress(file name, records done, records in file)."""

DEFAULT_CHUNK_SIZE = 20_000
_KEPT_PROBLEMS = 1_000  # per file, for the summary; all of them are in the quarantine table


@dataclass
class FileSummary:
    path: str
    format: str
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class IngestSummary:
    files: list[FileSummary]

    def total(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)


@cache
def _list_adapter(kind: str) -> TypeAdapter[list[BaseModel]]:
    return TypeAdapter(list[RECORD_MODELS[kind]])  # type: ignore[valid-type]


def to_arrow(kind: str, models: list[BaseModel]) -> pa.Table:
    """Validated models of one kind as an Arrow table with that kind's schema."""
    rows = _list_adapter(kind).dump_python(models)
    return pa.Table.from_pylist(rows, schema=arrow_schema(kind))


def ingest_files(path: Path) -> list[Path]:
    """The canonical files to ingest: the file itself, or a directory's files.

    In a directory a Parquet file wins over the JSON Lines file of the same name: they hold the
    same records, and Parquet reads faster. Sub-directories (such as a generator's ground
    truth) are not traffic and are not read.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or directory")
    parquet = {p.stem for p in path.glob("*.parquet")}
    files = [
        p
        for p in path.iterdir()
        if p.is_file() and p.suffix.lower() in (".parquet", ".jsonl", ".ndjson")
    ]
    return sorted(p for p in files if p.suffix == ".parquet" or p.stem not in parquet)


def _record_count(path: Path, fmt: str) -> int:
    if fmt == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
    return lines


def ingest_file(
    db: Database,
    path: Path,
    *,
    fmt: str | None = None,
    sender: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
) -> FileSummary:
    fmt = detect_format(path, fmt)
    source = str(path)
    summary = FileSummary(source, fmt)
    batch_id = repository.start_batch(db, source, fmt, sender)
    provenance = Provenance(batch_id, source, sender, repository.now().isoformat())
    total = _record_count(path, fmt) if on_progress else 0
    by_kind: dict[str, int] = defaultdict(int)
    for chunk in read_chunks(path, fmt, chunk_size):
        models, problems = validate_chunk(chunk)
        summary.read += len(chunk)
        grouped: dict[str, list[BaseModel]] = defaultdict(list)
        for model in models:
            grouped[model.record].append(model)  # type: ignore[attr-defined]
        for kind, group in grouped.items():
            counts = write_batch(db, flatten(kind, to_arrow(kind, group), provenance))
            summary.stored += counts.stored
            summary.duplicates += counts.duplicates
            by_kind[kind] += counts.stored
        if problems:
            repository.quarantine_problems(db, batch_id, source, sender, problems)
            summary.quarantined += len(problems)
            room = _KEPT_PROBLEMS - len(summary.problems)
            summary.problems.extend(problems[: max(room, 0)])
        if on_progress:
            on_progress(path.name, summary.read, max(total, summary.read))
    summary.by_kind = dict(by_kind)
    repository.finish_batch(
        db,
        batch_id,
        read=summary.read,
        stored=summary.stored,
        duplicates=summary.duplicates,
        quarantined=summary.quarantined,
    )
    return summary


def ingest(
    db: Database,
    path: Path,
    *,
    fmt: str | None = None,
    sender: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Ingest a canonical file, or every canonical file of a directory."""
    return IngestSummary(
        [
            ingest_file(
                db, f, fmt=fmt, sender=sender, chunk_size=chunk_size, on_progress=on_progress
            )
            for f in ingest_files(path)
        ]
    )
