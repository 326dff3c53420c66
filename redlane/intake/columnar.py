"""Vectorised validation of canonical records already in Arrow form (Parquet input).

The rules are not written twice: they are read from the pydantic model's JSON schema (types,
nullability, patterns, bounds, enums, list sizes) and applied to whole columns with Arrow
compute, nested structs and lists included. A record that breaks a rule gets the same field
path and a message of the same wording as pydantic would give; the test suite holds the two
validators to agreement. Models with cross-field validators (`model_validator`) cannot be
checked this way and go through pydantic (`supports_columnar`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from redlane.intake.canonical import Problem
from redlane.model.arrow import RECORD_MODELS, arrow_schema

Schema = dict[str, Any]


def _has_model_validators(model: type[BaseModel], seen: set[type[BaseModel]]) -> bool:
    if model in seen:
        return False
    seen.add(model)
    if model.__pydantic_decorators__.model_validators:
        return True
    return any(
        isinstance(t, type) and issubclass(t, BaseModel) and _has_model_validators(t, seen)
        for info in model.model_fields.values()
        for t in _types_in(info.annotation)
    )


def _types_in(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", None)
    found = [annotation]
    for arg in args or ():
        found.extend(_types_in(arg))
    return found


@cache
def supports_columnar(kind: str) -> bool:
    """Whether every rule of this record kind can be checked column-wise."""
    return not _has_model_validators(RECORD_MODELS[kind], set())


@cache
def _json_schema(kind: str) -> Schema:
    return RECORD_MODELS[kind].model_json_schema()


@dataclass
class _Errors:
    """Errors found so far: per top-level row, (path, message) in the order found."""

    by_row: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, rows: np.ndarray, segments: list[Any], where: np.ndarray, message: str) -> None:
        for position in np.flatnonzero(where):
            parts = [str(s[position]) if isinstance(s, np.ndarray) else s for s in segments]
            self.by_row[int(rows[position])].append((".".join(parts), message))


def _resolve(node: Schema, defs: Schema) -> tuple[Schema, bool]:
    """Follow $ref and Optional[...]: the schema of the value, and whether null is allowed."""
    nullable = False
    if "anyOf" in node:
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        nullable = len(options) < len(node["anyOf"])
        node = options[0] if len(options) == 1 else node
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    return node, nullable


def _mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def _quote(values: list[Any]) -> str:
    shown = [f"'{v}'" for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" or {shown[-1]}"


def _short(pattern: str) -> str:
    return pattern if len(pattern) <= 60 else pattern[:57] + "..."


def _check_scalar(
    node: Schema, array: pa.Array, rows: np.ndarray, segments: list[Any], errors: _Errors
) -> None:
    present = _mask(pc.is_valid(array))
    if not present.any():
        return

    def fail(condition: pa.Array, message: str) -> None:
        where = present & ~_mask(pc.fill_null(condition, True))
        if where.any():
            errors.add(rows, segments, where, message)

    values = node.get("enum") or ([node["const"]] if "const" in node else None)
    if values is not None:
        fail(pc.is_in(array, pa.array(values, array.type)), f"Input should be {_quote(values)}")
    if "pattern" in node:
        stripped = pc.utf8_trim_whitespace(array)
        pattern = node["pattern"]
        fail(
            pc.match_substring_regex(stripped, pattern),
            f"String should match pattern '{_short(pattern)}'",
        )
    if "minLength" in node:
        n = node["minLength"]
        fail(
            pc.greater_equal(pc.utf8_length(pc.utf8_trim_whitespace(array)), n),
            f"String should have at least {n} character{'s' if n != 1 else ''}",
        )
    if "minimum" in node:
        n = node["minimum"]
        fail(pc.greater_equal(array, n), f"Input should be greater than or equal to {n}")
    if "exclusiveMinimum" in node:
        n = node["exclusiveMinimum"]
        fail(pc.greater(array, n), f"Input should be greater than {n}")
    if "maximum" in node:
        n = node["maximum"]
        fail(pc.less_equal(array, n), f"Input should be less than or equal to {n}")


def _check(
    node: Schema,
    defs: Schema,
    array: pa.Array,
    rows: np.ndarray,
    segments: list[Any],
    errors: _Errors,
    required: bool,
) -> None:
    node, nullable = _resolve(node, defs)
    if not nullable:
        nulls = _mask(pc.is_null(array))
        if nulls.any():
            message = "Field required" if required else "Input should not be None"
            errors.add(rows, segments, nulls, message)
    kind = node.get("type")
    if kind == "object":
        present = _mask(pc.is_valid(array))
        sub_rows = rows[present]
        sub_segments = [s[present] if isinstance(s, np.ndarray) else s for s in segments]
        mandatory = set(node.get("required", ()))
        for name, child in node["properties"].items():
            values = pc.struct_field(array, [name]).filter(pa.array(present))
            _check(child, defs, values, sub_rows, [*sub_segments, name], errors, name in mandatory)
    elif kind == "array":
        lengths = np.asarray(pc.fill_null(pc.list_value_length(array), 0).to_numpy(), np.int64)
        if "minItems" in node:
            n = node["minItems"]
            short = _mask(pc.is_valid(array)) & (lengths < n)
            if short.any():
                errors.add(
                    rows,
                    segments,
                    short,
                    f"List should have at least {n} item{'s' if n != 1 else ''} after validation",
                )
        values = pc.list_flatten(array)
        if len(values):
            parents = np.repeat(np.arange(len(array)), lengths)
            starts = np.cumsum(lengths) - lengths
            index = np.arange(len(values)) - np.repeat(starts, lengths)
            child_segments = [s[parents] if isinstance(s, np.ndarray) else s for s in segments]
            _check(
                node["items"], defs, values, rows[parents], [*child_segments, index], errors, True
            )
    else:
        _check_scalar(node, array, rows, segments, errors)


def columnar_kind(schema: pa.Schema) -> str | None:
    """The record kind whose canonical schema a file has exactly, if it can be checked here.

    Any other file (other columns, other types, a kind with cross-field rules) is validated
    record by record with pydantic instead.
    """
    for kind in RECORD_MODELS:
        if schema.remove_metadata().equals(arrow_schema(kind)) and supports_columnar(kind):
            return kind
    return None


def validate_table(
    kind: str, table: pa.Table, first_row: int = 1
) -> tuple[pa.Table, list[Problem]]:
    """Split a table of canonical records into the valid rows and a problem per invalid row.

    `first_row` is the 1-based row number of the table's first row in its file.
    """
    schema = _json_schema(kind)
    defs = schema.get("$defs", {})
    errors = _Errors()
    struct = pa.StructArray.from_arrays(
        [table.column(i).combine_chunks() for i in range(table.num_columns)],
        fields=list(table.schema),
    )
    _check(schema, defs, struct, np.arange(table.num_rows), [], errors, True)
    if not errors.by_row:
        return table, []
    for row, found in errors.by_row.items():
        # Like pydantic: a record of another kind is only that; its other fields are moot.
        tag = [error for error in found if error[0] == "record"]
        if tag:
            errors.by_row[row] = tag
    bad = np.zeros(table.num_rows, dtype=bool)
    bad[list(errors.by_row)] = True
    problems = []
    for row in sorted(errors.by_row):
        raw = table.slice(row, 1).to_pylist()[0]
        text = json.dumps(raw, default=str, ensure_ascii=False)
        named: list[tuple[str | None, str]] = [
            (path or None, message) for path, message in errors.by_row[row]
        ]
        problems.append(Problem.from_errors(f"row {row + first_row}", named, text, kind))
    return table.filter(pa.array(~bad)), problems
