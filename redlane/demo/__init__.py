"""Synthetic transport traffic with planted trafficking patterns and its ground truth.

`generate()` writes one day (or several) of a mid-size country's sea, air and road traffic as
canonical records (JSONL and/or Parquet), plus `truth.*` naming the planted contraband and its
innocent look-alikes. Same seed and arguments, same bytes; memory stays flat at any scale
because records are generated and written in chunks, vectorised with numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

import pyarrow as pa

from redlane.demo import air, common, lanes, movements, passengers, road, sea, yachts
from redlane.demo.patterns import PATTERNS, Rates, Truth
from redlane.demo.pools import LOCALES, Names, build_companies, build_names, build_persons
from redlane.demo.rng import ALIGN, RecordRng
from redlane.demo.writer import KindWriter, write_small
from redlane.model.arrow import arrow_schema

__all__ = ["PATTERNS", "TRUTH_DIR", "GenerationSummary", "Rates", "Volumes", "generate"]

TRUTH_DIR = "ground_truth"
"""Sub-directory of the output that holds the ground truth (`truth.jsonl`, `truth.parquet`)."""

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
    """What a run wrote: records per kind, planted targets per pattern, the files."""

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
) -> GenerationSummary:
    """Generate `days` days of traffic from `start` into `out_dir`; see the module docstring.

    `chunk_size` bounds memory (records per chunk and per Parquet row group); it does not
    change the records.
    """
    fmts = tuple(f for f in ("jsonl", "parquet") if f in formats)
    if not fmts or set(formats) - {"jsonl", "parquet"}:
        raise ValueError(f"formats must be among 'jsonl', 'parquet': {formats!r}")
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

    truth = Truth()
    n_sea = _scaled(vol.sea_consignments, scale)
    n_air = _scaled(vol.air_consignments, scale)
    n_road = _scaled(vol.road_consignments, scale)
    n_trav = _scaled(vol.travellers, scale)
    writers = {
        kind: KindWriter(out_dir, f"{kind}s", arrow_schema(kind), fmts)
        for kind in ("consignment", "traveller", "movement")
    }
    try:
        for day in range(days):
            day_us = (
                int(
                    datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1_000_000
                )
                + day * 86_400_000_000
            )
            stage = f"day {day + 1}/{days}"
            progress(f"{stage}: movements", 0, 4)
            vessels = movements.vessels(
                seed, day, day_us, _scaled(vol.vessel_calls, scale), carriers
            )
            flights = movements.flights(
                seed,
                day,
                day_us,
                _scaled(vol.passenger_flights, scale),
                _scaled(vol.freighter_flights, scale),
            )
            trucks = road.trucks(
                seed, day, day_us, _scaled(vol.truck_crossings, scale), pools, rates, truth
            )
            yacht_table = yachts.generate(
                seed, day, day_us, _scaled(vol.yacht_arrivals, scale), pools, rates, truth
            )
            for i, t in enumerate((vessels.table, flights.table, trucks.table, yacht_table)):
                for offset, n in _chunks(t.num_rows, chunk):
                    writers["movement"].write(t.slice(offset, n))
                progress(f"{stage}: movements", i + 1, 4)

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
            for offset, n in _chunks(n_trav, chunk):
                rng = RecordRng(seed, "traveller", day, offset, n)
                writers["traveller"].write(
                    passengers.generate(rng, offset, day * n_trav, flights, names, rates, truth)
                )
                progress(f"{stage}: travellers", offset + n, n_trav)
    finally:
        for w in writers.values():
            w.close()

    # Sorted, so the truth does not depend on the chunking that found it.
    rows = sorted(truth.rows, key=lambda r: (r["target_kind"], r["pattern"], r["target_ref"]))
    truth.rows = rows
    files = [p for w in writers.values() for p in w.paths]
    # A folder of its own: ingesting the output directory reads the traffic, never the answer.
    (out_dir / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    files += write_small(out_dir / TRUTH_DIR, "truth", truth.table(), ("jsonl", "parquet"))
    counts = truth.counts()
    return GenerationSummary(
        out_dir=out_dir,
        records={k: w.rows for k, w in writers.items()},
        contraband={p: c for p, c in sorted(counts.items()) if PATTERNS[p][1]},
        lookalikes={p: c for p, c in sorted(counts.items()) if not PATTERNS[p][1]},
        files=tuple(files),
    )
