"""Canonical records from JSON Lines and Parquet files, validated in batches.

Validation runs in pydantic-core over a whole chunk at once; only when a chunk holds a bad
record does the chunk fall back to finding which ones, so good data pays nothing for bad.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pydantic import BaseModel, TypeAdapter, ValidationError

from redlane.model import RECORD_KINDS, Record

CANONICAL_FORMATS = ("jsonl", "parquet")
_MANY: TypeAdapter[list[Record]] = TypeAdapter(list[Record])
_ONE: TypeAdapter[Record] = TypeAdapter(Record)


class FormatError(ValueError):
    """The file's format is unknown or not the one asked for."""


class IntakeRefused(FormatError):
    """The file's format may not be read here (e.g. personal data without a legal basis);
    raised before anything of it is read, so nothing of it is stored or quarantined."""


@dataclass(frozen=True)
class RawRecord:
    """One record as read, before validation: where it is and what it says."""

    locator: str
    """'line 17' in a JSON Lines file, 'row 17' in a Parquet file (1-based)."""
    payload: bytes | dict[str, Any]
    source_text: str | None = None
    """The text the record was mapped from (e.g. its EDIFACT message), kept for quarantine."""

    def text(self) -> str:
        if self.source_text is not None:
            return self.source_text
        if isinstance(self.payload, bytes):
            return self.payload.decode("utf-8", errors="replace")
        return json.dumps(self.payload, default=str, ensure_ascii=False)


@dataclass(frozen=True)
class Problem:
    """Why one record was refused: where it is, which field, and the reason."""

    locator: str
    field: str | None
    reason: str
    raw: str
    record_kind: str | None = None
    errors: tuple[tuple[str | None, str], ...] = ()
    """Every (field, message) found, in order; `field` and `reason` lead with the first."""
    sender: str | None = None
    """Who sent it, where the record itself says (an EDIFACT interchange's UNB)."""

    @classmethod
    def from_errors(
        cls,
        locator: str,
        errors: Sequence[tuple[str | None, str]],
        raw: str,
        record_kind: str | None,
    ) -> Problem:
        """One problem per record: the first field and reason, the others after them."""
        (field, reason), *others = errors
        if others:
            more = "; ".join(f"{path}: {message}" for path, message in others)
            reason += f" (and {len(others)} more: {more})"
        return cls(locator, field, reason, raw, record_kind, tuple(errors))

    def __str__(self) -> str:
        where = f"{self.locator}, field {self.field}" if self.field else self.locator
        return f"{where}: {self.reason}"


def open_parquet(path: Path) -> pq.ParquetFile:
    """A Parquet file read as a stream: no whole column chunks buffered ahead."""
    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)


def read_chunks(path: Path, fmt: str, chunk_size: int) -> Iterator[list[RawRecord]]:
    """Stream a file as chunks of raw records; memory stays flat in the file size."""
    if fmt == "jsonl":
        chunk: list[RawRecord] = []
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                chunk.append(RawRecord(f"line {number}", line.rstrip(b"\r\n")))
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk
    elif fmt == "parquet":
        row = 0
        for batch in open_parquet(path).iter_batches(batch_size=chunk_size, use_threads=False):
            rows = batch.to_pylist()
            yield [RawRecord(f"row {row + i + 1}", r) for i, r in enumerate(rows)]
            row += len(rows)
    else:
        raise FormatError(f"{path}: {fmt!r} is not a canonical format")


def _field_and_kind(error: Any) -> tuple[str | None, str | None]:
    loc = list(error.get("loc", ()))
    kind = None
    # A discriminated union puts the record kind into the location; it is not a field.
    if loc and loc[0] in RECORD_KINDS:
        kind = str(loc.pop(0))
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        return "record", kind
    return ".".join(str(part) for part in loc) or None, kind


def _problem(raw: RawRecord, errors: Sequence[Any]) -> Problem:
    found = [(_field_and_kind(e)[0], str(e.get("msg", "invalid"))) for e in errors]
    return Problem.from_errors(raw.locator, found, raw.text(), _field_and_kind(errors[0])[1])


def _validate_one(raw: RawRecord) -> BaseModel | Problem:
    try:
        if isinstance(raw.payload, bytes):
            return _ONE.validate_json(raw.payload)
        return _ONE.validate_python(raw.payload)
    except ValidationError as exc:
        return _problem(raw, exc.errors(include_url=False))


def _validate_all(chunk: Sequence[RawRecord]) -> list[Record]:
    if chunk and isinstance(chunk[0].payload, bytes):
        joined = b"[" + b",".join(r.payload for r in chunk) + b"]"  # type: ignore[misc]
        return _MANY.validate_json(joined)
    return _MANY.validate_python([r.payload for r in chunk])


def validate_chunk(chunk: Sequence[RawRecord]) -> tuple[list[BaseModel], list[Problem]]:
    """Validate a chunk in one call; on failure, find and name each bad record."""
    try:
        return list(_validate_all(chunk)), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    per_record: dict[int, list[Any]] = defaultdict(list)
    for error in errors:
        loc = error.get("loc", ())
        if not loc or not isinstance(loc[0], int):
            break  # not attributable to one record (e.g. a line that is not JSON)
        per_record[loc[0]].append({**error, "loc": loc[1:]})
    else:
        bad = {i: _problem(chunk[i], errs) for i, errs in per_record.items()}
        good = [raw for i, raw in enumerate(chunk) if i not in bad]
        try:
            return list(_validate_all(good)), list(bad.values())
        except ValidationError:
            pass
    models: list[BaseModel] = []
    problems: list[Problem] = []
    for raw in chunk:
        result = _validate_one(raw)
        (problems if isinstance(result, Problem) else models).append(result)  # type: ignore[arg-type]
    return models, problems
