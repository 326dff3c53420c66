"""Intake benchmark: transport-sector messages through redlane's whole path, against the bare
tokenizer of each format, and the peak memory of a large file.

    python bench/intake.py                  # CUSCAR: 3 generated days (about 37 MB)
    python bench/intake.py --days 81        # about 1 GB of CUSCAR (the issue's memory target)

One run generates sea traffic with the demo generator and writes it as UN/EDIFACT CUSCAR (one
message per voyage, one file per day, all days concatenated into one file), then in separate
processes (so that each peak memory is its own):

- the bare tokenizer: pydifact's parser over every interchange, doing nothing with the segments;
- redlane's whole path: `redlane.intake.pipeline.ingest` into a fresh SQLite file (read, cut
  into messages, tokenize with pydifact, map, validate, hash, store).

It prints messages, segments and records per second for both, the ratio (ours over bare;
target at least 0.5) and each stage's peak memory (target under 500 MB for a 1 GB file).

AIS (`--ais-days`, default 2; 0 skips it): the demo's vessel and yacht movements of those days
as AIS tracks (NMEA with tag-block times, one file), then in separate processes pyais' bare
decode (`FileReaderStream`, every message decoded, nothing kept) and redlane's whole path
(read, check checksums and times, decode with pyais, spill positions to DuckDB, find the
events, validate, hash, store), with messages per second and the ratio.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

from stages import peak_mb, remove_sqlite, run_stage

TARGET_RATIO = 0.5
TARGET_MEMORY_MB = 500


def stage_generate(out: Path, days: int) -> dict[str, Any]:
    from redlane.demo import generate
    from redlane.demo.messages import MESSAGES_DIR

    started = time.perf_counter()
    generate(
        out, days=days, kinds=("consignment", "movement"), formats=("parquet", "cuscar"), seed=3
    )
    parts = sorted((out / MESSAGES_DIR).glob("cuscar-*.edi"))
    joined = out / "cuscar.edi"
    with joined.open("wb") as target:
        for part in parts:
            target.write(part.read_bytes())
    return {"seconds": time.perf_counter() - started, "bytes": joined.stat().st_size}


def stage_bare(path: Path) -> dict[str, Any]:
    """pydifact alone: every interchange (one a line) tokenized into segments."""
    from pydifact.parser import Parser

    warnings.simplefilter("ignore")
    parser = Parser()
    started = time.perf_counter()
    segments = messages = 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            for segment in parser.parse(line.strip()):
                segments += 1
                messages += segment.tag == "UNH"
    return {
        "seconds": time.perf_counter() - started,
        "segments": segments,
        "messages": messages,
        "peak_mb": peak_mb(),
    }


def stage_ours(path: Path, database: Path) -> dict[str, Any]:
    from redlane.intake.pipeline import ingest
    from redlane.store.database import Database

    db = Database(f"sqlite:///{database}")
    db.upgrade()
    started = time.perf_counter()
    (summary,) = ingest(db, path).files
    return {
        "seconds": time.perf_counter() - started,
        "records": summary.read,
        "stored": summary.stored,
        "quarantined": summary.quarantined,
        "peak_mb": peak_mb(),
    }


def stage_generate_ais(out: Path, days: int) -> dict[str, Any]:
    from redlane.demo import generate
    from redlane.demo.ais_messages import write_ais_files

    started = time.perf_counter()
    generate(out, days=days, kinds=("movement",), formats=("parquet",), seed=3)
    joined = out / "ais.nmea"
    with joined.open("wb") as target:
        for part in write_ais_files(out):
            target.write(part.read_bytes())
    return {"seconds": time.perf_counter() - started, "bytes": joined.stat().st_size}


def stage_bare_ais(path: Path) -> dict[str, Any]:
    """pyais alone: every message of the file (multi-part ones assembled) decoded."""
    from pyais.stream import FileReaderStream

    started = time.perf_counter()
    messages = 0
    for sentence in FileReaderStream(str(path)):
        sentence.decode()
        messages += 1
    return {"seconds": time.perf_counter() - started, "messages": messages, "peak_mb": peak_mb()}


def ais_line(console: Any, out: Path, days: int) -> None:
    from rich.table import Table

    traffic = out / f"ais-{days}d"
    file = traffic / "ais.nmea"
    if not file.exists():
        with console.status(f"generating {days} days of vessel and yacht tracks as AIS"):
            made = run_stage(__file__, "generate-ais", str(traffic), str(days))
        console.print(f"wrote {made['bytes'] / 1e6:,.0f} MB of AIS in {made['seconds']:.0f} s")
    size_mb = file.stat().st_size / 1e6
    with console.status("pyais: bare decode"):
        bare = run_stage(__file__, "bare-ais", str(file))
    database = out / "intake-ais.db"
    remove_sqlite(database)
    with console.status("redlane: read, decode, find events, store"):
        ours = run_stage(__file__, "ours", str(file), str(database))
    table = Table(title=f"AIS, {size_mb:,.0f} MB: {bare['messages']:,} messages")
    for name in ("path", "seconds", "messages/s", "MB/s", "peak MB"):
        table.add_column(name, justify="left" if name == "path" else "right")
    for label, r in (("pyais decode (bare)", bare), ("redlane ingest (whole path)", ours)):
        s = r["seconds"]
        table.add_row(
            label, f"{s:.2f}", f"{bare['messages'] / s:,.0f}", f"{size_mb / s:.2f}",
            f"{r['peak_mb']:,.0f}",
        )  # fmt: skip
    console.print(table)
    ratio = bare["seconds"] / ours["seconds"]
    console.print(
        f"vessel events: {ours['stored']:,} stored, {ours['quarantined']:,} lines quarantined"
    )
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    console.print(f"whole path at least {TARGET_RATIO} of pyais' bare decode: {met} ({ratio:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=3, help="days of sea traffic (12 MB each)")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument(
        "--ais-days", type=int, default=2, help="days of AIS tracks (0: no AIS line)"
    )
    parser.add_argument("--no-cuscar", action="store_true", help="the AIS line only")
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:
        name, *rest = args.stage
        if name == "generate":
            result = stage_generate(Path(rest[0]), int(rest[1]))
        elif name == "generate-ais":
            result = stage_generate_ais(Path(rest[0]), int(rest[1]))
        elif name == "bare":
            result = stage_bare(Path(rest[0]))
        elif name == "bare-ais":
            result = stage_bare_ais(Path(rest[0]))
        else:
            result = stage_ours(Path(rest[0]), Path(rest[1]))
        print(json.dumps(result))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    if args.ais_days:
        ais_line(console, args.out, args.ais_days)
    if args.no_cuscar:
        return
    traffic = args.out / f"cuscar-{args.days}d"
    file = traffic / "cuscar.edi"
    if not file.exists():
        with console.status(f"generating {args.days} days of sea traffic as CUSCAR"):
            made = run_stage(__file__, "generate", str(traffic), str(args.days))
        console.print(f"wrote {made['bytes'] / 1e6:,.0f} MB of CUSCAR in {made['seconds']:.0f} s")
    size_mb = file.stat().st_size / 1e6
    with console.status("pydifact: bare tokenizer"):
        bare = run_stage(__file__, "bare", str(file))
    database = args.out / "intake.db"
    remove_sqlite(database)
    with console.status("redlane: read, map, validate, store"):
        ours = run_stage(__file__, "ours", str(file), str(database))

    table = Table(title=f"CUSCAR, {size_mb:,.0f} MB: {bare['messages']:,} messages")
    for name in ("path", "seconds", "messages/s", "segments/s", "MB/s", "peak MB"):
        table.add_column(name, justify="left" if name == "path" else "right")
    for label, r in (
        ("pydifact parse (bare tokenizer)", bare),
        ("redlane ingest (whole path)", ours),
    ):
        s = r["seconds"]
        table.add_row(
            label, f"{s:.1f}", f"{bare['messages'] / s:,.1f}", f"{bare['segments'] / s:,.0f}",
            f"{size_mb / s:.2f}", f"{r['peak_mb']:,.0f}",
        )  # fmt: skip
    console.print(table)
    ratio = bare["seconds"] / ours["seconds"]
    console.print(
        f"records (voyages and bills): {ours['records']:,} read, {ours['stored']:,} stored, "
        f"{ours['quarantined']:,} quarantined; {ours['records'] / ours['seconds']:,.0f} records/s"
    )
    met = "met" if ratio >= TARGET_RATIO else "NOT met"
    console.print(
        f"whole path at least {TARGET_RATIO} of the bare tokenizer rate: {met} ({ratio:.2f})"
    )
    memory = "met" if ours["peak_mb"] < TARGET_MEMORY_MB else "NOT met"
    console.print(
        f"peak memory < {TARGET_MEMORY_MB} MB: {memory} ({ours['peak_mb']:,.0f} MB for "
        f"{size_mb:,.0f} MB; the target is for 1 GB: --days 81)"
    )


if __name__ == "__main__":
    main()
