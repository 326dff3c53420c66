"""The ingest path: read, validate, flatten, store; quarantine what is refused.

One chunk at a time, so memory is flat in the file size. Every file gets an ingest batch row
with its counts; refused records go to quarantine with their locator, field and reason while
the rest of the file goes in.
"""

from __future__ import annotations

import gc
import multiprocessing
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, TypeAdapter

from redlane.intake.canonical import (
    CANONICAL_FORMATS,
    Problem,
    RawRecord,
    open_parquet,
    read_chunks,
    validate_chunk,
)
from redlane.intake.columnar import columnar_kind, validate_table
from redlane.intake.formats import MESSAGE_FORMATS, READ_EXTENSIONS, admit, detect_format
from redlane.intake.tabular import TabularMapping, load_mapping, mapped_rows
from redlane.model.arrow import RECORD_MODELS, arrow_schema
from redlane.store import repository
from redlane.store.bulk import KnownKeys, write_batch
from redlane.store.database import Database
from redlane.store.flatten import FlatBatch, Provenance, flatten

ProgressCallback = Callable[[str, int, int], None]
"""on_progress(file name, records done, records in file)."""

DEFAULT_CHUNK_SIZE = 20_000
#: Records mapped from messages are held as Python objects until validated: smaller chunks keep
#: memory flat (measured on 37 MB of CUSCAR: peak 730 MB at 20,000 records, 289 MB at 2,000).
MESSAGE_CHUNK_SIZE = 2_000
PARALLEL_FROM_RECORDS = 200_000  # below this, starting a second process costs more than it saves
_KEPT_PROBLEMS = 1_000  # per file, for the summary; all of them are in the quarantine table


@dataclass
class FileSummary:
    path: str
    format: str
    batch_id: int = 0
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


def store_models(
    db: Database,
    kind: str,
    models: Sequence[BaseModel],
    source: str = "api",
    sender: str | None = None,
    problems: Sequence[Problem] = (),
    read: int | None = None,
) -> int:
    """Store validated models of one kind as one ingest batch, quarantine the `problems` of
    the records that were refused; returns how many models were new."""
    batch_id = repository.start_batch(db, source, kind, sender)
    provenance = Provenance(batch_id, source, sender, repository.now().isoformat())
    stored = (
        write_batch(db, flatten(kind, to_arrow(kind, list(models)), provenance)) if models else 0
    )
    if problems:
        repository.quarantine_problems(db, batch_id, source, sender, problems)
    repository.finish_batch(
        db,
        batch_id,
        read=len(models) + len(problems) if read is None else read,
        stored=stored,
        duplicates=len(models) - stored,
        quarantined=len(problems),
    )
    return stored


_MAPPED_EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".parquet")


def ingest_files(path: Path, mapped: bool = False) -> list[Path]:
    """The files to ingest: the file itself, or a directory's files (with `mapped`, its
    tables to map: CSV, JSON Lines and Parquet files).

    In a directory a Parquet file wins over the JSON Lines file of the same name: they hold the
    same records, and Parquet reads faster. Message files (by the extensions of
    `redlane.intake.formats`) are read too. Sub-directories (such as a generator's ground
    truth) are not traffic and are not read.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if mapped:
        return sorted(p for p in path.iterdir() if p.suffix.lower() in _MAPPED_EXTENSIONS)
    parquet = {p.stem for p in path.glob("*.parquet")}
    files = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in READ_EXTENSIONS]
    return sorted(p for p in files if p.suffix == ".parquet" or p.stem not in parquet)


def _record_count(path: Path, fmt: str) -> int:
    """Records in a file, counted cheaply: Parquet metadata, lines, or record-opening segments
    of a message format (a byte count, never a parse)."""
    if fmt == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    message_format = MESSAGE_FORMATS.get(fmt)
    marks = (
        [b"\n"]
        if message_format is None
        else [sep + t for t in message_format.record_marks for sep in (b"'", b"\n")]
    )
    count = 0
    carry = b""
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            text = carry + block
            count += sum(text.count(mark) for mark in marks)
            # a mark cut by the block boundary is whole in the next block's text
            carry = text[-4:]
    return count


ValidatedChunk = tuple[int, dict[str, pa.Table], list[Problem]]
"""Records read, the valid ones as Arrow tables by kind, and a problem per refused record."""


def _pydantic_chunks(path: Path, fmt: str, chunk_size: int) -> Iterator[ValidatedChunk]:
    for chunk in read_chunks(path, fmt, chunk_size):
        yield _validated(chunk, [], len(chunk))


def _columnar_chunks(path: Path, kind: str, chunk_size: int) -> Iterator[ValidatedChunk]:
    first_row = 1
    for batch in open_parquet(path).iter_batches(batch_size=chunk_size, use_threads=False):
        table = pa.Table.from_batches([batch])
        good, problems = validate_table(kind, table, first_row)
        first_row += table.num_rows
        yield table.num_rows, {kind: good}, problems


def _validated(
    records: list[RawRecord],
    problems: list[Problem],
    read: int,
    senders: dict[str, str | None] | None = None,
) -> ValidatedChunk:
    models, refused = validate_chunk(records) if records else ([], [])
    if senders:
        refused = [replace(p, sender=senders.get(p.locator)) for p in refused]
    grouped: dict[str, list[BaseModel]] = defaultdict(list)
    for model in models:
        grouped[model.record].append(model)  # type: ignore[attr-defined]
    return read, {k: to_arrow(k, group) for k, group in grouped.items()}, problems + refused


def _message_chunks(path: Path, fmt: str, chunk_size: int) -> Iterator[ValidatedChunk]:
    """Messages mapped to canonical records; a message that cannot be read or mapped is one
    problem (with its text), a record the model refuses is one problem naming its segment or
    line. `read` counts the records mapped plus the messages refused whole."""
    message_format = MESSAGE_FORMATS[fmt]
    records: list[RawRecord] = []
    problems: list[Problem] = []
    senders: dict[str, str | None] = {}
    read = 0
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for item in message_format.read(handle):
            mapped, refused = message_format.records(item)
            records += mapped
            problems += refused
            senders.update((r.locator, getattr(item, "sender", None)) for r in mapped)
            read += len(mapped) + len(refused)
            if len(records) + len(problems) >= chunk_size:
                yield _validated(records, problems, read, senders)
                records, problems, senders, read = [], [], {}, 0
    if records or problems:
        yield _validated(records, problems, read, senders)


def _mapped_chunks(
    path: Path, mapping: TabularMapping, chunk_size: int
) -> Iterator[ValidatedChunk]:
    records: list[RawRecord] = []
    for record in mapped_rows(path, mapping):
        records.append(record)
        if len(records) >= chunk_size:
            yield _validated(records, [], len(records))
            records = []
    if records:
        yield _validated(records, [], len(records))


def validated_chunks(path: Path, fmt: str, chunk_size: int) -> Iterator[ValidatedChunk]:
    """Chunks of validated records: column-wise for canonical Parquet, mapped from the messages
    of a transport-sector format, else with pydantic."""
    if fmt.startswith("mapped:"):
        mapping = load_mapping(fmt.removeprefix("mapped:"))
        return _mapped_chunks(path, mapping, min(chunk_size, MESSAGE_CHUNK_SIZE))
    if fmt in MESSAGE_FORMATS:
        return _message_chunks(path, fmt, min(chunk_size, MESSAGE_CHUNK_SIZE))
    if fmt == "parquet":
        kind = columnar_kind(pq.read_schema(path))
        if kind is not None:
            return _columnar_chunks(path, kind, chunk_size)
    return _pydantic_chunks(path, fmt, chunk_size)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    # Validation allocates millions of small acyclic objects; the cyclic collector would scan
    # them again and again for nothing (measured: it more than doubles validation time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


PreparedChunk = tuple[int, list[FlatBatch], list[Problem]]
"""Records read, their store rows by kind (new records only), and the refused records."""


def prepare_chunks(
    path: Path, fmt: str, chunk_size: int, provenance: Provenance
) -> Iterator[PreparedChunk]:
    """Read, validate, hash and flatten a file chunk by chunk, ready to write.

    Needs no database: what is already stored is left out when the batch is written.
    """
    with _no_cyclic_gc():
        for read, tables, problems in validated_chunks(path, fmt, chunk_size):
            flats = [flatten(kind, table, provenance) for kind, table in tables.items()]
            del tables
            # Hand freed Arrow buffers back to the system, so memory stays at one chunk's worth.
            pa.default_memory_pool().release_unused()
            yield read, flats, problems


def _prepare_in_worker(
    path: Path, fmt: str, chunk_size: int, provenance: Provenance, out: Any
) -> None:
    """Body of the preparing process: sends prepared chunks, then None (or the error)."""
    try:
        # One core each: this process prepares, the parent writes.
        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
        # glibc's allocator hands freed chunk buffers back sooner than Arrow's default pool
        # (measured on 1M consignments: peak 520 MB instead of 617 MB, at the same speed).
        pa.set_memory_pool(pa.system_memory_pool())
        for chunk in prepare_chunks(path, fmt, chunk_size, provenance):
            out.put(chunk)
        out.put(None)
    except BaseException as exc:  # everything must reach the parent, or it waits forever
        out.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def _prepared_elsewhere(
    path: Path, fmt: str, chunk_size: int, provenance: Provenance
) -> Iterator[PreparedChunk]:
    """prepare_chunks run in a second process, so that preparing and writing use both cores.

    Both stages hold the GIL for much of their work (binding rows, converting columns), so
    threads would take turns; a process does not. The queue holds one prepared chunk, which
    keeps memory flat.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue(maxsize=1)
    worker = context.Process(
        target=_prepare_in_worker,
        args=(path, fmt, chunk_size, provenance, queue),
        daemon=True,
    )
    worker.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, tuple) and item and item[0] == "error":
                raise IngestError(f"{path}: preparing failed in the worker: {item[1]}")
            yield item
    finally:
        worker.join(timeout=5)
        if worker.is_alive():
            worker.terminate()


class IngestError(RuntimeError):
    """The ingest of a file could not go on; the message names the file and the cause."""


def ingest_file(
    db: Database,
    path: Path,
    *,
    fmt: str | None = None,
    sender: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
    parallel: bool | None = None,
    mapping: str | None = None,
) -> FileSummary:
    """Ingest one file; see `ingest`."""
    fmt = f"mapped:{mapping}" if mapping else detect_format(path, fmt)
    admit(fmt)  # before the batch opens: a refused file leaves no trace but the error
    summary = FileSummary(str(path), fmt)
    batch_id = summary.batch_id = repository.start_batch(db, summary.path, fmt, sender)
    provenance = Provenance(batch_id, summary.path, sender, repository.now().isoformat())
    total = _record_count(path, fmt)
    if parallel is None:
        # Messages spend their time tokenizing in the preparing process, storing is a sliver:
        # a second process would only add the hand-over (measured: no gain on 37 MB of CUSCAR).
        parallel = total >= PARALLEL_FROM_RECORDS and fmt in CANONICAL_FORMATS
    prepare = _prepared_elsewhere if parallel else prepare_chunks
    by_kind: dict[str, int] = defaultdict(int)
    known = KnownKeys()
    valid = 0
    with _no_cyclic_gc(), db.background_checkpoints():
        for read, flats, problems in prepare(path, fmt, chunk_size, provenance):
            summary.read += read
            valid += read - len(problems)
            for flat in flats:
                stored = write_batch(db, flat, known)
                summary.stored += stored
                by_kind[flat.kind] += stored
            if problems:
                repository.quarantine_problems(db, batch_id, summary.path, sender, problems)
                summary.quarantined += len(problems)
                room = _KEPT_PROBLEMS - len(summary.problems)
                summary.problems.extend(problems[: max(room, 0)])
            if on_progress:
                on_progress(path.name, summary.read, max(total, summary.read))
    summary.duplicates = valid - summary.stored
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
    path: Path | Sequence[Path],
    *,
    fmt: str | None = None,
    sender: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: ProgressCallback | None = None,
    parallel: bool | None = None,
    mapping: str | None = None,
) -> IngestSummary:
    """Ingest a file, every file of a directory, or each of several paths.

    Each file is read in chunks of `chunk_size` records; refused records are quarantined
    with their locator, field and reason, the rest is stored; records already stored are
    counted as duplicates. Large files are prepared in a second process (`parallel`, by
    default from PARALLEL_FROM_RECORDS records on). With `mapping` (a mapping file, or the name
    of a shipped one such as 'truck_crossings'), CSV, JSON Lines or Parquet rows of any layout
    are mapped onto the canonical model (`redlane.intake.tabular`).
    """
    files = [
        f
        for one in ([path] if isinstance(path, Path) else path)
        for f in ingest_files(one, mapped=mapping is not None)
    ]
    if mapping is None:
        # A directory holding a format that may not be read here is refused before any file
        # of it goes in, not half-way through.
        for f in files:
            admit(detect_format(f, fmt))
    return IngestSummary(
        [
            ingest_file(
                db,
                f,
                fmt=fmt,
                sender=sender,
                chunk_size=chunk_size,
                on_progress=on_progress,
                parallel=parallel,
                mapping=mapping,
            )
            for f in files
        ]
    )
