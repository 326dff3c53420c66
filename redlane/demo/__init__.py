"""Synthetic transport traffic with planted trafficking patterns and its ground truth.

`generate()` writes one day (or several) of a mid-size country's sea, air and road traffic as
canonical records (JSONL and/or Parquet), plus `truth.*` naming the planted contraband and its
innocent look-alikes. Same seed and arguments, same bytes; memory stays flat at any scale
because every record kind, movements included, is generated and written in chunks, vectorised
with numpy, and the ground truth is streamed out as it is found.

Each record's values are drawn from counter-based streams keyed by its own index (`rng`), so
neither the chunk size nor the choice of `kinds` changes a record: consignments generated alone
are the ones generated with the travellers and movements, and point at the same movements.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pyarrow as pa

from redlane.demo import air, common, lanes, movements, passengers, road, sea, yachts
from redlane.demo.formats import ALL_SECTOR_FORMATS, SECTOR_FORMATS
from redlane.demo.patterns import PATTERNS, TRUTH_DIR, Rates, Truth
from redlane.demo.pools import LOCALES, Names, build_companies, build_names, build_persons
from redlane.demo.rng import ALIGN, RecordRng
from redlane.demo.writer import KindWriter
from redlane.model.arrow import arrow_schema

__all__ = ["KINDS", "PATTERNS", "TRUTH_DIR", "GenerationSummary", "Rates", "Volumes", "generate"]

"""Sub-directory of the output that holds the ground truth (`truth.jsonl`, `truth.parquet`)."""

KINDS = ("consignment", "traveller", "movement")
"""The record kinds `generate` writes (all by default)."""

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Volumes:
    """Records per day at scale 1.0."""

    sea_consignments: int = 12_000
    air_consignments: int = 6_000
    road_consignments: int = 2_000
    travellers: int = 50_000
    vessel_calls: int = 300
    passenger_flights: int = 250
    freighter_flights: int = 40
    truck_crossings: int = 5_000
    yacht_arrivals: int = 40


@dataclass(frozen=True)
class GenerationSummary:
    """What a run wrote: records per generated kind, planted targets per pattern, the files."""

    out_dir: Path
    records: Mapping[str, int]
    contraband: Mapping[str, int]
    lookalikes: Mapping[str, int]
    files: tuple[Path, ...] = field(default=())


def _scaled(n: int, scale: float) -> int:
    return max(1, round(n * scale))


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for offset in range(0, total, size):
        yield offset, min(size, total - offset)


def _cities() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in lanes.places().values():
        out.setdefault(p.country, []).append(p.name)
    return out


@cache
def _pools(
    seed: int, n_companies: int, persons_per_country: int
) -> tuple[common.PartyPools, Names]:
    """Companies, persons and names; cached because they are immutable and slow to build."""
    cities = _cities()
    weights = {c: 1.0 for c in LOCALES} | {c: 8.0 for c in ("NL", "BE", "DE", "ES")}
    companies = build_companies(seed, weights, n_companies, cities)
    names = build_names(seed, list(LOCALES))
    persons = build_persons(seed, names, persons_per_country, cities)
    return common.PartyPools.of(companies, persons), names


def _movement_chunks(
    vessels: movements.Vessels,
    flights: movements.Flights,
    trucks: road.Trucks,
    n_yacht: int,
    chunk: int,
    pools: common.PartyPools,
    carriers: pa.Table,
    rates: Rates,
    truth: Truth,
) -> Iterator[pa.Table]:
    """The day's movement records, chunk by chunk: vessels, flights, trucks, yachts."""
    for offset, n in _chunks(vessels.n, chunk):
        yield movements.vessel_table(vessels, offset, n, carriers)
    for offset, n in _chunks(flights.n, chunk):
        yield movements.flight_table(flights, offset, n, carriers)
    for offset, n in _chunks(trucks.n, chunk):
        yield road.truck_table(trucks, offset, n, pools, truth)
    for offset, n in _chunks(n_yacht, chunk):
        yield yachts.table(trucks.seed, trucks.day, trucks.day_us, offset, n, pools, rates, truth)


def generate(
    out_dir: Path,
    *,
    days: int = 1,
    seed: int = 7,
    scale: float = 1.0,
    start: date = date(2026, 11, 2),
    formats: Sequence[str] = ("jsonl", "parquet"),
    on_progress: Progress | None = None,
    rates: Rates | None = None,
    volumes: Volumes | None = None,
    chunk_size: int = 50_000,
    kinds: Collection[str] | None = None,
) -> GenerationSummary:
    """Generate `days` days of traffic from `start` into `out_dir`; see the module docstring.

    `chunk_size` bounds memory (records per chunk and per Parquet row group); it does not
    change the records. `kinds` (default: all of `KINDS`) limits the record kinds written; the
    ground truth then lists the targets of those kinds only.
    """
    fmts = tuple(f for f in ("jsonl", "parquet") if f in formats)
    if not fmts or set(formats) - {"jsonl", "parquet", ALL_SECTOR_FORMATS, *SECTOR_FORMATS}:
        raise ValueError(
            f"formats must be 'jsonl' or 'parquet' (one at least), and any of "
            f"{', '.join(SECTOR_FORMATS)} (or '{ALL_SECTOR_FORMATS}' for all): {formats!r}"
        )
    wanted = KINDS if kinds is None else tuple(k for k in KINDS if k in kinds)
    if isinstance(kinds, str) or not wanted or set(kinds or ()) - set(KINDS):
        raise ValueError(f"kinds must be a non-empty collection of {KINDS}: {kinds!r}")
    rates = rates or Rates()
    vol = volumes or Volumes()
    chunk = max(ALIGN, -(-chunk_size // ALIGN) * ALIGN)
    out_dir.mkdir(parents=True, exist_ok=True)
    progress = on_progress or (lambda _s, _d, _t: None)

    progress("pools", 0, 1)
    # Small runs need small pools (and tests stay fast); from scale 1 up the pools stay fixed.
    pool_scale = min(1.0, max(0.1, scale))
    pools, names = _pools(seed, round(20_000 * pool_scale), round(300 * pool_scale))
    carriers = movements.carriers_table()
    progress("pools", 1, 1)

    n_sea = _scaled(vol.sea_consignments, scale)
    n_air = _scaled(vol.air_consignments, scale)
    n_road = _scaled(vol.road_consignments, scale)
    n_trav = _scaled(vol.travellers, scale)
    n_yacht = _scaled(vol.yacht_arrivals, scale)
    writers = {kind: KindWriter(out_dir, f"{kind}s", arrow_schema(kind), fmts) for kind in wanted}
    # A folder of its own: ingesting the output directory reads the traffic, never the answer.
    (out_dir / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    truth_writer = KindWriter(out_dir / TRUTH_DIR, "truth", Truth.SCHEMA, ("jsonl", "parquet"))
    truth = Truth(truth_writer.write)
    try:
        for day in range(days):
            day_us = (
                int(
                    datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1_000_000
                )
                + day * 86_400_000_000
            )
            stage = f"day {day + 1}/{days}"
            # What consignments and travellers choose their movement by: small per-call arrays
            # for vessels and flights, only the planted crossings for trucks.
            vessels = movements.vessels(seed, day, day_us, _scaled(vol.vessel_calls, scale))
            flights = movements.flights(
                seed,
                day,
                day_us,
                _scaled(vol.passenger_flights, scale),
                _scaled(vol.freighter_flights, scale),
            )
            trucks = road.trucks(seed, day, day_us, _scaled(vol.truck_crossings, scale), rates)

            if "movement" in writers:
                total = vessels.n + flights.n + trucks.n + n_yacht
                done = 0
                for mov in _movement_chunks(
                    vessels, flights, trucks, n_yacht, chunk, pools, carriers, rates, truth
                ):
                    writers["movement"].write(mov)
                    done += mov.num_rows
                    progress(f"{stage}: movements", done, total)

            if "consignment" in writers:
                total = n_sea + n_air + n_road
                done = 0
                for kind, n_kind in (("sea", n_sea), ("air", n_air), ("road", n_road)):
                    for offset, n in _chunks(n_kind, chunk):
                        rng = RecordRng(seed, kind, day, offset, n)
                        table: pa.Table
                        if kind == "sea":
                            table = sea.generate(
                                rng, offset, day * n_kind, vessels, pools, rates, truth
                            )
                        elif kind == "air":
                            table = air.generate(
                                rng, offset, day * n_kind, flights, pools, rates, truth
                            )
                        else:
                            table = road.cmr(rng, offset, day * n_kind, trucks, pools)
                        writers["consignment"].write(table)
                        done += n
                        progress(f"{stage}: consignments", done, total)

            if "traveller" in writers:
                for offset, n in _chunks(n_trav, chunk):
                    rng = RecordRng(seed, "traveller", day, offset, n)
                    writers["traveller"].write(
                        passengers.generate(rng, offset, day * n_trav, flights, names, rates, truth)
                    )
                    progress(f"{stage}: travellers", offset + n, n_trav)
        truth.close()
    finally:
        for w in (*writers.values(), truth_writer):
            w.close()

    files = [p for w in writers.values() for p in w.paths] + truth_writer.paths
    for name, writer in SECTOR_FORMATS.items():
        asked = name in formats or (ALL_SECTOR_FORMATS in formats and writer.in_sector)
        if asked and writer.needs <= set(wanted):
            files += writer.write(out_dir, progress)
    counts = truth.counts()
    return GenerationSummary(
        out_dir=out_dir,
        records={k: w.rows for k, w in writers.items()},
        contraband={p: c for p, c in sorted(counts.items()) if PATTERNS[p][1]},
        lookalikes={p: c for p, c in sorted(counts.items()) if not PATTERNS[p][1]},
        files=tuple(files),
    )
