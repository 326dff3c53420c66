"""Any CSV, JSON Lines or Parquet file onto the canonical model, through a mapping file.

A mapping (YAML) names the record kind and, for each model field path, the column it comes
from or a constant:

    record: movement
    fields:
      ref: crossing_id
      conveyance.kind: {value: truck}
      conveyance.plates[0].number: tractor_plate
      conveyance.operator.name: haulier
      itinerary[0].place: origin
      itinerary[1].arrival: crossed_at

Each row becomes one record (blank cells are missing values; the model converts text to
numbers, dates and flags), validated by the model like any record: a bad row is quarantined
with its line and the model's field path, the rest goes in. redlane ships mappings for the
truck-crossing and yacht pre-arrival reports (`redlane/intake/tabular_mappings/`).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from redlane.intake.canonical import RawRecord, open_parquet
from redlane.model import RECORD_KINDS

_STEP = re.compile(r"^([a-z_][a-z0-9_]*)(?:\[(\d+)\])?$")


class MappingFileError(ValueError):
    """A mapping file that cannot be used: names the file, the entry and the reason."""


@dataclass(frozen=True)
class FieldSource:
    column: str | None
    value: Any = None


@dataclass(frozen=True)
class TabularMapping:
    name: str
    record: str
    fields: dict[str, FieldSource]


def _path(path: str, where: str) -> list[tuple[str, int | None]]:
    steps = []
    for part in path.split("."):
        match = _STEP.match(part)
        if match is None:
            raise MappingFileError(f"{where}: {path!r} is not a field path like a.b[0].c")
        steps.append((match.group(1), int(match.group(2)) if match.group(2) else None))
    return steps


def load_mapping(path: Path | str) -> TabularMapping:
    """A mapping file, or the name of a shipped one ('truck_crossings', 'yacht_reports')."""
    if isinstance(path, str) and not path.endswith((".yaml", ".yml")):
        return shipped_mapping(path)
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingFileError(f"{file}: cannot read the mapping: {exc}") from exc
    return _parse(data, str(file))


def _shipped_names() -> list[str]:
    folder = resources.files("redlane.intake").joinpath("tabular_mappings")
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


@cache
def shipped_mapping(name: str) -> TabularMapping:
    folder = resources.files("redlane.intake").joinpath("tabular_mappings")
    known = _shipped_names()
    if name not in known:
        raise MappingFileError(f"no shipped mapping {name!r}; there are: {', '.join(known)}")
    return _parse(yaml.safe_load(folder.joinpath(f"{name}.yaml").read_text("utf-8")), name)


def _parse(data: Any, name: str) -> TabularMapping:
    if not isinstance(data, dict) or "record" not in data or "fields" not in data:
        raise MappingFileError(f"{name}: a mapping needs 'record' and 'fields'")
    record = data["record"]
    if record not in RECORD_KINDS:
        raise MappingFileError(f"{name}: record {record!r} is not one of {', '.join(RECORD_KINDS)}")
    fields: dict[str, FieldSource] = {}
    for target, spec in (data["fields"] or {}).items():
        where = f"{name}: fields.{target}"
        _path(str(target), where)
        if isinstance(spec, str):
            fields[str(target)] = FieldSource(spec)
        elif isinstance(spec, dict) and set(spec) == {"value"}:
            fields[str(target)] = FieldSource(None, spec["value"])
        elif isinstance(spec, dict) and set(spec) == {"column"}:
            fields[str(target)] = FieldSource(str(spec["column"]))
        else:
            raise MappingFileError(f"{where}: give a column name or {{value: ...}}")
    return TabularMapping(name, str(record), fields)


def shipped_mappings() -> list[TabularMapping]:
    return [shipped_mapping(name) for name in _shipped_names()]


def columns_of(mapping: TabularMapping) -> set[str]:
    return {s.column for s in mapping.fields.values() if s.column is not None}


def mapping_for_columns(columns: Collection[str]) -> TabularMapping | None:
    """The shipped mapping a table with these columns is written for: the one that knows every
    column (a shipped layout's files may leave optional columns out); None if none or several do."""
    given = set(columns)
    fits = [m for m in shipped_mappings() if given and given <= columns_of(m)]
    return fits[0] if len(fits) == 1 else None


def table_columns(path: Path) -> list[str] | None:
    """The column names of a CSV file's header or a JSON Lines file's first object; None when
    the file is neither (or the first line is not a JSON object)."""
    suffix = path.suffix.lower()
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = handle.readline()
    if suffix == ".csv":
        return next(csv.reader([first]), [])
    if suffix in (".jsonl", ".ndjson"):
        try:
            row = json.loads(first)
        except json.JSONDecodeError:
            return None
        return list(row) if isinstance(row, dict) else None
    return None


def _set(target: dict[str, Any], steps: list[tuple[str, int | None]], value: Any) -> None:
    node: Any = target
    for i, (name, index) in enumerate(steps):
        last = i == len(steps) - 1
        if index is None:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            items = node.setdefault(name, [])
            while len(items) <= index:
                items.append({})
            if last:
                items[index] = value
            else:
                node = items[index]


def _prune(value: Any) -> Any:
    """Drop empty objects left by missing cells (e.g. a trailer plate nobody gave)."""
    if isinstance(value, dict):
        kept = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in ({}, None)}
    if isinstance(value, list):
        return [v for v in (_prune(v) for v in value) if v not in ({}, None)]
    return value


def _exists(record: dict[str, Any], steps: list[tuple[str, int | None]]) -> bool:
    node: Any = record
    for name, index in steps:
        if not isinstance(node, dict) or name not in node:
            return False
        node = node[name]
        if index is not None:
            if not isinstance(node, list) or len(node) <= index or node[index] == {}:
                return False
            node = node[index]
    return True


def map_row(mapping: TabularMapping, row: Mapping[str, Any]) -> dict[str, Any]:
    """One row as a canonical record dict. Constants fill in objects that cells created (a
    trailer plate's unit only when the row gives a trailer plate), never objects of their own."""
    record: dict[str, Any] = {"record": mapping.record}
    for target, source in mapping.fields.items():
        if source.column is not None:
            value = row.get(source.column)
            if isinstance(value, str):
                value = value.strip() or None
            if value is not None:
                _set(record, _path(target, mapping.name), value)
    record = _prune(record)
    for target, source in mapping.fields.items():
        steps = _path(target, mapping.name)
        if source.column is None and (len(steps) == 1 or _exists(record, steps[:-1])):
            _set(record, steps, source.value)
    return dict(record)


def mapped_rows(path: Path, mapping: TabularMapping) -> Iterator[RawRecord]:
    """The file's rows mapped to canonical records, each with its line (or row) and raw text."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                raw = json.dumps(row, ensure_ascii=False)
                yield RawRecord(f"line {reader.line_num}", map_row(mapping, row), raw)
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    row = {"__invalid__": str(exc)}
                payload = map_row(mapping, row) if isinstance(row, dict) else {}
                yield RawRecord(f"line {number}", payload, line.rstrip("\n"))
    elif suffix == ".parquet":
        number = 0
        for batch in open_parquet(path).iter_batches(batch_size=10_000):
            for row in batch.to_pylist():
                number += 1
                yield RawRecord(
                    f"row {number}", map_row(mapping, row), json.dumps(row, default=str)
                )
    else:
        raise MappingFileError(f"{path}: a mapped file is .csv, .jsonl or .parquet")
