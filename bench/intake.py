"""Intake benchmark: every transport-sector format through redlane's whole path, against the
bare tokenizer of each format in the same run, and the peak memory of a large file.

    python bench/intake.py                          # every format, one generated day
    python bench/intake.py --format cuscar --days 81   # about 1 GB of CUSCAR (memory target)

One run generates the demo traffic (`--days`, default 1) in every sector format the generator
writes (`redlane.demo.formats`; IFTMCS too), joins each format's day files into one file, then
for each format, in separate processes (so that each peak memory is its own):

- the bare tokenizer: for UN/EDIFACT (CUSCAR, IFTMCS, BAPLIE, PAXLST, PNRGOV) pydifact's
  parser over every interchange, doing nothing with the segments; for AIS pyais' decode of
  every sentence; for Cargo-IMP, for which no tokenizer exists outside redlane, our own
  message cut and line split; for the CSV tables Python's csv reader;
- redlane's whole path: `redlane.intake.pipeline.ingest` into a fresh SQLite file (read, cut
  into messages, tokenize, map, validate, hash, store). Passenger data is read only with
  REDLANE_PASSENGER_DATA=on: the bench sets it in its own ingest process (synthetic people).

It prints per format the messages per second of both, the ratio (ours over bare; target at
least 0.5 for EDIFACT and AIS), records per second and peak memory (target under 500 MB for a
1 GB file).
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
TARGET_MEMORY_MB = 500
#: Benchmarked formats: the generator's file prefix and extension, and the bare reader.
FORMATS = {
    "cuscar": ("cuscar", ".edi", "pydifact"),
    "iftmcs": ("iftmcs", ".edi", "pydifact"),
    "baplie": ("baplie", ".edi", "pydifact"),
    "paxlst": ("paxlst", ".edi", "pydifact"),
    "pnrgov": ("pnrgov", ".edi", "pydifact"),
    "cargoimp": ("cargoimp", ".cimp", "cargoimp"),
    "ais": ("ais", ".nmea", "pyais"),
    "truck_crossings": ("truck_crossings/truck-crossings", ".csv", "csv"),
}
#: The generator's format (`redlane.demo.formats`) that writes each benchmarked one.
_WRITTEN_BY = {"truck_crossings": "tables"}
_BARE_NAMES = {
    "pydifact": "pydifact parse",
    "pyais": "pyais decode",
    "cargoimp": "own line split*",
    "csv": "csv.reader",
}


def stage_generate(out: Path, days: int, names: list[str]) -> dict[str, Any]:
    from redlane.demo import generate
    from redlane.demo.formats import SECTOR_FORMATS
    from redlane.demo.messages import MESSAGES_DIR

    started = time.perf_counter()
    written = {_WRITTEN_BY.get(n, n) for n in names}
    kinds = {k for w in written for k in SECTOR_FORMATS[w].needs}
    generate(out, days=days, formats=("parquet", *written), kinds=kinds, seed=3)
    sizes = {}
    for name in names:
        prefix, suffix, _bare = FORMATS[name]
        joined = out / f"{name}{suffix}"
        parts = sorted((out / MESSAGES_DIR).glob(f"{prefix}-*{suffix}"))
        with joined.open("wb") as target:
            for number, part in enumerate(parts):
                data = part.read_bytes()
                if suffix == ".csv" and number:
                    data = data.split(b"\n", 1)[1]  # one header for the joined table
                target.write(data)
        sizes[name] = joined.stat().st_size
    return {"seconds": time.perf_counter() - started, "bytes": sizes}


def stage_bare(path: Path, reader: str) -> dict[str, Any]:
    """The format's bare tokenizer over the whole file, doing nothing with what it reads."""
    started = time.perf_counter()
    messages = units = 0
    if reader == "pyais":
        from pyais.stream import FileReaderStream

        for sentence in FileReaderStream(str(path)):  # multi-part messages assembled
            sentence.decode()
            messages += 1
        units = messages
    with path.open(encoding="utf-8", newline="") as handle:
        if reader == "pydifact":
            from pydifact.parser import Parser

            warnings.simplefilter("ignore")
            parser = Parser()
            for line in handle:  # the generator writes one interchange a line
                for segment in parser.parse(line.strip()):
                    units += 1
                    messages += segment.tag == "UNH"
        elif reader == "cargoimp":
            from redlane.intake.cargoimp import CargoImpMessage, read_stream

            for message in read_stream(handle):
                if isinstance(message, CargoImpMessage):
                    messages += 1
                    for _, text in message.lines:
                        text.split("/")
                        units += 1
        elif reader == "csv":
            import csv

            for _row in csv.reader(handle):
                units += 1
            messages = units - 1  # a row is a message; the header is none
    return {
        "seconds": time.perf_counter() - started,
        "messages": messages,
        "units": units,
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
    parser.add_argument("--days", type=int, default=1, help="days of demo traffic")
    parser.add_argument("--format", choices=sorted(FORMATS), nargs="*", help="default: all")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:
        name, *rest = args.stage
        if name == "generate":
            result = stage_generate(Path(rest[0]), int(rest[1]), rest[2:])
        elif name == "bare":
            result = stage_bare(Path(rest[0]), rest[1])
        else:
            result = stage_ours(Path(rest[0]), Path(rest[1]))
        print(json.dumps(result))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 130))
    names = args.format or list(FORMATS)
    traffic = args.out / f"sector-{args.days}d-{'-'.join(names) if args.format else 'all'}"
    if not all((traffic / f"{n}{FORMATS[n][1]}").exists() for n in names):
        with console.status(f"generating {args.days} days of demo traffic: {', '.join(names)}"):
            made = run_stage(__file__, "generate", str(traffic), str(args.days), *names)
        console.print(
            f"wrote {sum(made['bytes'].values()) / 1e6:,.0f} MB in {made['seconds']:.0f} s"
        )
    table = Table(title=f"Intake, {args.days} generated day(s): whole path against bare tokenizer")
    for name in (
        "format", "MB", "messages", "bare", "bare msg/s", "ours msg/s", "ratio", "records/s",
        "quarantined", "peak MB (bare / ours)",
    ):  # fmt: skip
        table.add_column(name, justify="left" if name in ("format", "bare") else "right")
    for name in names:
        _prefix, suffix, reader = FORMATS[name]
        file = traffic / f"{name}{suffix}"
        with console.status(f"{name}: bare tokenizer"):
            bare = run_stage(__file__, "bare", str(file), reader)
        database = args.out / "intake.db"
        remove_sqlite(database)
        with console.status(f"{name}: redlane read, map, validate, store"):
            ours = run_stage(__file__, "ours", str(file), str(database))
        ratio = bare["seconds"] / ours["seconds"]
        target = ratio >= TARGET_RATIO or reader not in ("pydifact", "pyais")
        table.add_row(
            name, f"{file.stat().st_size / 1e6:,.1f}", f"{bare['messages']:,}",
            _BARE_NAMES[reader], f"{bare['messages'] / bare['seconds']:,.0f}",
            f"{bare['messages'] / ours['seconds']:,.0f}",
            f"{ratio:.2f}" if target else f"[red]{ratio:.2f}[/red]",
            f"{ours['records'] / ours['seconds']:,.0f}", f"{ours['quarantined']:,}",
            f"{bare['peak_mb']:,.0f} / {ours['peak_mb']:,.0f}",
        )  # fmt: skip
        console.print(
            f"{name}: {ours['records']:,} records read, {ours['stored']:,} stored in "
            f"{ours['seconds']:.1f} s; bare {bare['seconds']:.1f} s"
        )
    console.print(table)
    console.print("* no Cargo-IMP tokenizer exists outside redlane: our own message cut and split")
    console.print(
        f"targets: ours at least {TARGET_RATIO} of the bare tokenizer's rate for EDIFACT and "
        f"AIS; peak memory under {TARGET_MEMORY_MB} MB for a 1 GB file (--format cuscar --days 81)"
    )


if __name__ == "__main__":
    main()
