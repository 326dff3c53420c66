"""Build Arrow columns of exactly the model schema from numpy arrays, without per-record Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000


def _filler(t: pa.DataType, n: int, null: bool) -> pa.Array:
    """Placeholder values under a null parent: Parquet rejects nulls in a non-nullable child
    even where the parent struct is null, so those children get empty values instead."""
    if pa.types.is_struct(t):
        children = [_filler(f.type, n, f.nullable) for f in t]
        mask = pa.array(np.full(n, null), type=pa.bool_())
        return pa.StructArray.from_arrays(children, fields=list(t), mask=mask)
    if null:
        return pa.nulls(n, type=t)
    if pa.types.is_list(t):
        return pa.ListArray.from_arrays(
            pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], t.value_type), type=t
        )
    if pa.types.is_string(t):
        return pa.array(np.full(n, ""), type=t)
    if pa.types.is_boolean(t):
        return pa.array(np.zeros(n, dtype=bool), type=t)
    return pa.array(np.zeros(n, dtype=np.int64)).cast(t)


def _array(value: Any, t: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return _filler(t, n, True)
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    if isinstance(value, pa.Array):
        return value if value.type == t else value.cast(t)
    if isinstance(value, (str, bool, int, float)):
        return pa.array(np.full(n, value), type=t)
    return pa.array(value, type=t)


def struct(t: pa.DataType, n: int, cols: Mapping[str, Any], null: BoolArray | None = None) -> Any:
    """A StructArray of type `t`; fields missing from `cols` are null, `null` masks rows."""
    arrays = [
        _array(cols.get(f.name), f.type, n) if f.name in cols else _filler(f.type, n, f.nullable)
        for f in t
    ]
    mask = None if null is None else pa.array(null, type=pa.bool_())
    return pa.StructArray.from_arrays(arrays, fields=list(t), mask=mask)


def lists(t: pa.DataType, counts: npt.ArrayLike, values: Any) -> pa.Array:
    """A ListArray of type `t` from per-row counts and the flat values."""
    c = np.asarray(counts, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(c)]).astype(np.int32)
    flat = _array(values, t.value_type, int(offsets[-1]))
    return pa.ListArray.from_arrays(pa.array(offsets), flat, type=t)


def table(schema: pa.Schema, n: int, cols: Mapping[str, Any]) -> pa.Table:
    """A table of exactly `schema`; unknown keys are an error (a typo must not vanish)."""
    unknown = set(cols) - set(schema.names)
    if unknown:
        raise KeyError(f"columns not in the schema: {sorted(unknown)}")
    return pa.Table.from_arrays(
        [_array(cols.get(f.name), f.type, n) for f in schema], schema=schema
    )


def timestamps(us: npt.ArrayLike, null: BoolArray | None = None) -> pa.Array:
    # Whole seconds: the message formats (EDIFACT, Cargo-IMP) carry no finer times.
    whole = np.asarray(us, dtype=np.int64) // 1_000_000 * 1_000_000
    return pa.array(whole, type=pa.timestamp("us", tz="UTC"), mask=null)


def dates(us: npt.ArrayLike) -> pa.Array:
    days = (np.asarray(us, dtype=np.int64) // US_PER_DAY).astype(np.int32)
    return pa.array(days, type=pa.date32())


def strings(values: npt.ArrayLike, null: BoolArray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.str_), type=pa.string(), mask=null)


def take(values: Sequence[str], idx: npt.ArrayLike) -> pa.Array:
    """Strings from a small lookup list by index."""
    return pa.array(np.asarray(values, dtype=np.str_)[np.asarray(idx, dtype=np.int64)])


def flat_rows(counts: npt.ArrayLike) -> IntArray:
    """The parent row of each flat child, for children counted per row."""
    c = np.asarray(counts, dtype=np.int64)
    return np.repeat(np.arange(len(c), dtype=np.int64), c)


def parties(
    t: pa.DataType, pool: pa.Table, slots: Sequence[tuple[str, BoolArray, IntArray]]
) -> pa.Array:
    """A list<RoledParty> column from role slots: (role, present per row, pool row per row).

    Slots keep their order within each row, so a document lists consignor, consignee, ... as
    its source would.
    """
    present = np.stack([p for _, p, _ in slots], axis=1)
    idx = np.stack([i for _, _, i in slots], axis=1)
    roles = np.broadcast_to(np.array([r for r, _, _ in slots]), present.shape)
    flat_idx = idx[present]
    flat_role = roles[present]
    rows = pool.take(pa.array(flat_idx))
    m = len(flat_idx)
    item = t.value_type
    address = _address(item.field("address").type, rows)
    cols: dict[str, Any] = {k: rows.column(k) for k in ("kind", "name", "eori", "vat", "phone")}
    cols |= {"email": rows.column("email"), "address": address, "role": pa.array(flat_role)}
    return lists(t, present.sum(axis=1), struct(item, m, cols))


def _address(t: pa.DataType, rows: pa.Table) -> Any:
    """Address structs of pool rows; null where a party has no address line at all (as the
    model reads it: an address with nothing in it is no address)."""
    names = ("street", "city", "postcode", "country")
    empty = np.ones(rows.num_rows, dtype=bool)
    for name in names:
        empty &= ~pc.is_valid(rows.column(name)).to_numpy(zero_copy_only=False)
    return struct(t, rows.num_rows, {k: rows.column(k) for k in names}, null=empty)


def party_struct(t: pa.DataType, pool: pa.Table, idx: IntArray, null: BoolArray) -> Any:
    """A nullable Party struct column (conveyance operator or owner) from pool rows."""
    rows = pool.take(pa.array(idx))
    n = len(idx)
    address = _address(t.field("address").type, rows)
    cols: dict[str, Any] = {k: rows.column(k) for k in ("kind", "name", "eori", "vat", "phone")}
    cols |= {"email": rows.column("email"), "address": address}
    return struct(t, n, cols, null=null)
