"""Intake benchmark: transport-sector messages through redlane's whole path, against the bare
tokenizer of each format, and the peak memory of a large file.

    python bench/intake.py                  # CUSCAR: 3 generated days (about 37 MB)
    python bench/intake.py --days 81        # about 1 GB of CUSCAR (the issue's memory target)
    python bench/intake.py --format paxlst  # API crew lists of the demo's flights (PAXLST)
    python bench/intake.py --format pnrgov  # PNR pushes of the demo's booked passengers

One run generates traffic with the demo generator and writes it in the format (CUSCAR: sea
traffic, one message per voyage; PAXLST/PNRGOV: air travellers, one interchange per flight;
one file per day, all days concatenated into one file), then in separate processes (so that
each peak memory is its own):

- the bare tokenizer: pydifact's parser over every interchange, doing nothing with the segments;
- redlane's whole path: `redlane.intake.pipeline.ingest` into a fresh SQLite file (read, cut
  into messages, tokenize with pydifact, map, validate, hash, store). Passenger data is read
  only with REDLANE_PASSENGER_DATA=on: the bench sets it for its own process (synthetic people).

It prints messages, segments and records per second for both, the ratio (ours over bare;
target at least 0.5) and each stage's peak memory (target under 500 MB for a 1 GB file).

Then the same for IATA Cargo-IMP (`--cimp-days`, default 3): the demo's air cargo and flights
written as FWB, FHL and FFM messages (`redlane.demo.cargoimp_messages`). No Cargo-IMP tokenizer
exists outside redlane, so the bare line is our own: `redlane.intake.cargoimp.read_stream`
cutting the file into messages, and every line split into its tag and fields, with nothing
mapped, validated or stored.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from stages import peak_mb, remove_sqlite, run_stage

TARGET_RATIO = 0.5
_RECORDS = {"cuscar": "voyages and bills", "paxlst": "crew members", "pnrgov": "passengers"}
TARGET_MEMORY_MB = 500


def stage_generate(out: Path, days: int, fmt: str) -> dict[str, Any]:
    from redlane.demo import generate
    from redlane.demo.messages import MESSAGES_DIR

    started = time.perf_counter()
    if fmt == "cuscar":
        generate(out, days=days, kinds=("consignment", "movement"), formats=("parquet", "cuscar"),
                 seed=3)  # fmt: skip
    else:
        from redlane.demo.passenger_messages import write_paxlst_files, write_pnrgov_files

        generate(out, days=days, kinds=("traveller", "movement"), formats=("parquet",), seed=3)
        writer = write_paxlst_files if fmt == "paxlst" else write_pnrgov_files
        writer(out)
    parts = sorted((out / MESSAGES_DIR).glob(f"{fmt}-*.edi"))
    joined = out / f"{fmt}.edi"
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


def stage_cimp_generate(out: Path, days: int) -> dict[str, Any]:
    from redlane.demo import generate
    from redlane.demo.cargoimp_messages import write_cargoimp_files

    started = time.perf_counter()
    generate(out, days=days, kinds=("consignment", "movement"), formats=("parquet",), seed=3)
    parts = write_cargoimp_files(out)
    joined = out / "cargoimp.cimp"
    with joined.open("wb") as target:
        for part in parts:
            target.write(part.read_bytes())
    return {"seconds": time.perf_counter() - started, "bytes": joined.stat().st_size}


def stage_cimp_bare(path: Path) -> dict[str, Any]:
    """Our own bare Cargo-IMP reading: messages cut, lines split into fields, nothing mapped."""
    from redlane.intake.cargoimp import CargoImpMessage, read_stream

    started = time.perf_counter()
    lines = messages = 0
    with path.open(encoding="utf-8") as handle:
        for message in read_stream(handle):
            if isinstance(message, CargoImpMessage):
                messages += 1
                for _, text in message.lines:
                    text.split("/")
                    lines += 1
    return {
        "seconds": time.perf_counter() - started,
        "segments": lines,
        "messages": messages,
        "peak_mb": peak_mb(),
    }


def stage_ours(path: Path, database: Path) -> dict[str, Any]:
    from redlane.intake.pipeline import ingest
    from redlane.store.database import Database

    os.environ["REDLANE_PASSENGER_DATA"] = "on"  # synthetic people: this process only
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=3, help="days of traffic (CUSCAR: 12 MB each)")
    parser.add_argument("--format", choices=("cuscar", "paxlst", "pnrgov"), default="cuscar")
    parser.add_argument("--cimp-days", type=int, default=3, help="days of air cargo, Cargo-IMP")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:
        name, *rest = args.stage
        if name == "generate":
            result = stage_generate(Path(rest[0]), int(rest[1]), rest[2])
        elif name == "bare":
            result = stage_bare(Path(rest[0]))
        elif name == "cimp-generate":
            result = stage_cimp_generate(Path(rest[0]), int(rest[1]))
        elif name == "cimp-bare":
            result = stage_cimp_bare(Path(rest[0]))
        else:
            result = stage_ours(Path(rest[0]), Path(rest[1]))
        print(json.dumps(result))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    fmt, title = args.format, args.format.upper()
    traffic = args.out / f"{fmt}-{args.days}d"
    file = traffic / f"{fmt}.edi"
    if not file.exists():
        with console.status(f"generating {args.days} days of traffic as {title}"):
            made = run_stage(__file__, "generate", str(traffic), str(args.days), fmt)
        console.print(f"wrote {made['bytes'] / 1e6:,.1f} MB of {title} in {made['seconds']:.0f} s")
    size_mb = file.stat().st_size / 1e6
    with console.status("pydifact: bare tokenizer"):
        bare = run_stage(__file__, "bare", str(file))
    database = args.out / "intake.db"
    remove_sqlite(database)
    with console.status("redlane: read, map, validate, store"):
        ours = run_stage(__file__, "ours", str(file), str(database))

    table = Table(title=f"{title}, {size_mb:,.1f} MB: {bare['messages']:,} messages")
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
        f"records ({_RECORDS[fmt]}): {ours['records']:,} read, {ours['stored']:,} stored, "
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
    if args.cimp_days > 0:
        cargo_imp(console, args.out, args.cimp_days)


def cargo_imp(console: Any, out: Path, days: int) -> None:
    """The Cargo-IMP line: whole path against our own bare message cutting and line splitting."""
    from rich.table import Table

    traffic = out / f"cargoimp-{days}d"
    file = traffic / "cargoimp.cimp"
    if not file.exists():
        with console.status(f"generating {days} days of air cargo as Cargo-IMP"):
            made = run_stage(__file__, "cimp-generate", str(traffic), str(days))
        console.print(
            f"wrote {made['bytes'] / 1e6:,.1f} MB of Cargo-IMP in {made['seconds']:.0f} s"
        )
    size_mb = file.stat().st_size / 1e6
    with console.status("Cargo-IMP: bare reading (ours: messages cut, lines split)"):
        bare = run_stage(__file__, "cimp-bare", str(file))
    database = out / "intake-cimp.db"
    remove_sqlite(database)
    with console.status("redlane: read, map, validate, store"):
        ours = run_stage(__file__, "ours", str(file), str(database))
    table = Table(title=f"Cargo-IMP, {size_mb:,.1f} MB: {bare['messages']:,} messages")
    for name in ("path", "seconds", "messages/s", "lines/s", "MB/s", "peak MB"):
        table.add_column(name, justify="left" if name == "path" else "right")
    for label, r in (
        ("bare: our message cut and line split (no Cargo-IMP library exists)", bare),
        ("redlane ingest (whole path)", ours),
    ):
        s = r["seconds"]
        table.add_row(
            label, f"{s:.1f}", f"{bare['messages'] / s:,.1f}", f"{bare['segments'] / s:,.0f}",
            f"{size_mb / s:.2f}", f"{r['peak_mb']:,.0f}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"records (waybills, houses, flights): {ours['records']:,} read, {ours['stored']:,} "
        f"stored, {ours['quarantined']:,} quarantined; "
        f"{ours['records'] / ours['seconds']:,.0f} records/s; whole path "
        f"{bare['seconds'] / ours['seconds']:.2f} of the bare rate"
    )


if __name__ == "__main__":
    main()
