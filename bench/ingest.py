"""Ingest benchmark: generated consignments into SQLite and PostgreSQL, against the ORM baseline.

    python bench/ingest.py                       # 1,000,000 consignments (the issue's target)
    python bench/ingest.py --consignments 200000 --postgres postgresql://postgres@127.0.0.1/test

One run generates the traffic, ingests it with redlane's bulk path into a fresh SQLite file
and (when a PostgreSQL URL is given or REDLANE_TEST_DATABASE_URL is set) a fresh PostgreSQL
database, and ingests a sample of the same records row by row through the SQLAlchemy ORM
(validate, build the row, look for the record, add, commit: what a classic importer does) as
the baseline. Each stage runs in its own process, so its peak memory is its own. It prints
consignments per second for each, the ratio to the baseline and the peak memory.
Targets on a 2-core machine: 20,000 consignments/s into SQLite, peak memory under 1 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from stages import peak_mb, remove_sqlite, run_stage

TARGET_RATE = 20_000
TARGET_MEMORY_MB = 1024


def stage_generate(out: Path, consignments: int) -> dict[str, Any]:
    from redlane.demo import generate

    started = time.perf_counter()
    summary = generate(
        out, scale=consignments / 20_000, kinds=("consignment",), formats=("parquet",)
    )
    return {
        "seconds": time.perf_counter() - started,
        "records": summary.records["consignment"],
        "peak_mb": peak_mb(),
    }


def stage_ingest(url: str, path: Path) -> dict[str, Any]:
    from redlane.intake.pipeline import ingest
    from redlane.store.database import Database

    db = Database(url)
    db.upgrade()
    started = time.perf_counter()
    (summary,) = ingest(db, path).files
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "records": summary.stored,
        "read": summary.read,
        "quarantined": summary.quarantined,
        "peak_mb": peak_mb(),
    }


def stage_baseline(url: str, path: Path, sample: int) -> dict[str, Any]:
    """Row by row through the ORM: one record, one validation, one transaction."""
    import pyarrow.parquet as pq
    from sqlalchemy import select
    from sqlalchemy.orm import Session, registry

    from redlane.intake import identifiers
    from redlane.model import Consignment
    from redlane.store.database import Database
    from redlane.store.repository import start_batch
    from redlane.store.schema import PARTY_ROLE_COLUMNS, consignments, parties

    class ConsignmentRow:
        def __init__(self, **values: Any) -> None:
            self.__dict__.update(values)

    class PartyRow(ConsignmentRow):
        pass

    mapper = registry()
    mapper.map_imperatively(ConsignmentRow, consignments)
    mapper.map_imperatively(PartyRow, parties)

    db = Database(url)
    db.upgrade()
    batch_id = start_batch(db, str(path), "parquet", None)
    rows = next(pq.ParquetFile(path).iter_batches(batch_size=sample)).to_pylist()

    def key(data: Any) -> int:
        digest = hashlib.md5(json.dumps(data, sort_keys=True, default=str).encode()).digest()
        return int.from_bytes(digest[:8], "big") >> 1

    started = time.perf_counter()
    stored = 0
    for row in rows:
        c = Consignment.model_validate(row)
        content = c.model_dump(mode="json", exclude={"source"})
        content_hash = key(content)
        with Session(db.engine) as session:
            exists = select(consignments.c.id).where(consignments.c.content_hash == content_hash)
            if session.execute(exists).first():
                continue
            party_keys = []
            for p in c.parties:
                data = p.model_dump(mode="json", exclude={"role"})
                party_keys.append(key(data))
                if session.get(PartyRow, party_keys[-1]) is None:
                    address = data.pop("address") or {}
                    session.add(PartyRow(key=party_keys[-1], **data, **address))
                    session.flush()
            roles = [p.role.value for p in c.parties]
            numbers = [e.number for e in c.equipment]
            session.add(
                ConsignmentRow(
                    content_hash=content_hash,
                    batch_id=batch_id,
                    source_file=str(path),
                    message_ref=c.source.message_ref if c.source else None,
                    sender=c.source.sender if c.source else None,
                    received_at=None,
                    mode=c.mode.value,
                    document_kind=c.document.kind.value,
                    document_number=c.document.number,
                    document_number_valid=c.document.number_valid,
                    master_number=c.document.master_number,
                    movement_ref=c.movement_ref,
                    office=c.office,
                    declared_at=c.declared_at,
                    arrival_date=c.arrival_date,
                    place_of_loading=c.place_of_loading,
                    place_of_discharge=c.place_of_discharge,
                    place_of_delivery=c.place_of_delivery,
                    origin_country=c.origin_country,
                    destination_country=c.destination_country,
                    transshipment_places=",".join(c.transshipment_places),
                    transshipment_count=len(c.transshipment_places),
                    routing_countries=",".join(c.routing_countries),
                    freight=json.dumps(content["freight"]) if c.freight else None,
                    party_roles=json.dumps({"roles": roles, "keys": party_keys}),
                    **{
                        f"{role}_key": next(
                            (k for r, k in zip(roles, party_keys, strict=True) if r == role), None
                        )
                        for role in PARTY_ROLE_COLUMNS
                    },
                    goods=json.dumps(content["goods"]),
                    hs_codes=",".join(g.hs_code for g in c.goods),
                    goods_count=len(c.goods),
                    total_packages=sum(g.packages for g in c.goods),
                    total_gross_mass_kg=sum(g.gross_mass_kg for g in c.goods),
                    total_value=sum(g.value or 0 for g in c.goods),
                    equipment=json.dumps(content["equipment"]),
                    container_numbers=",".join(numbers),
                    container_count=len(numbers),
                    containers_valid=all(map(identifiers.is_valid_container, numbers))
                    if numbers
                    else None,
                    reefer=any(e.reefer for e in c.equipment),
                )
            )
            session.commit()
            stored += 1
    return {"seconds": time.perf_counter() - started, "records": stored, "peak_mb": peak_mb()}


def _fresh_postgres(url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql+psycopg")
    name = f"redlane_bench_{uuid.uuid4().hex[:8]}"
    with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres(url: str, name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql+psycopg")
    with create_engine(admin, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consignments", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=2_000)
    parser.add_argument("--postgres", default=os.environ.get("REDLANE_TEST_DATABASE_URL"))
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage:
        name, *rest = args.stage
        if name == "generate":
            result = stage_generate(Path(rest[0]), int(rest[1]))
        elif name == "ingest":
            result = stage_ingest(rest[0], Path(rest[1]))
        else:
            result = stage_baseline(rest[0], Path(rest[1]), int(rest[2]))
        print(json.dumps(result))
        return

    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    traffic = args.out / f"traffic-{args.consignments}"
    file = traffic / "consignments.parquet"
    with console.status(f"generating {args.consignments:,} consignments"):
        generated = run_stage(__file__, "generate", str(traffic), str(args.consignments))
    console.print(
        f"generated {generated['records']:,} consignments in {generated['seconds']:.1f} s "
        f"({generated['records'] / generated['seconds']:,.0f}/s)"
    )
    results: dict[str, dict[str, Any]] = {}
    sqlite_file = args.out / "bench.db"
    remove_sqlite(sqlite_file)
    with console.status("redlane bulk ingest into SQLite"):
        results["redlane → SQLite"] = run_stage(
            __file__, "ingest", f"sqlite:///{sqlite_file}", str(file)
        )
    if args.postgres:
        url, name = _fresh_postgres(args.postgres)
        try:
            with console.status("redlane bulk ingest into PostgreSQL"):
                results["redlane → PostgreSQL"] = run_stage(__file__, "ingest", url, str(file))
        finally:
            _drop_postgres(args.postgres, name)
    baseline_file = args.out / "baseline.db"
    remove_sqlite(baseline_file)
    with console.status(f"baseline: {args.baseline_sample:,} records row by row via the ORM"):
        results["ORM row by row → SQLite (baseline)"] = run_stage(
            __file__, "baseline", f"sqlite:///{baseline_file}", str(file), str(args.baseline_sample)
        )

    baseline = results["ORM row by row → SQLite (baseline)"]
    baseline_rate = baseline["records"] / baseline["seconds"]
    table = Table(title=f"Ingest of {generated['records']:,} generated consignments")
    for column in ("path", "consignments", "seconds", "consignments/s", "vs baseline", "peak MB"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for label, r in results.items():
        rate = r["records"] / r["seconds"]
        table.add_row(
            label,
            f"{r['records']:,}",
            f"{r['seconds']:.1f}",
            f"{rate:,.0f}",
            f"{rate / baseline_rate:.1f}",
            f"{r['peak_mb']:,.0f}",
        )
    console.print(table)
    ours = results["redlane → SQLite"]
    rate = ours["records"] / ours["seconds"]
    console.print(
        f"SQLite target {TARGET_RATE:,}/s: {'met' if rate >= TARGET_RATE else 'NOT met'} "
        f"({rate:,.0f}/s); memory target {TARGET_MEMORY_MB:,} MB: "
        f"{'met' if ours['peak_mb'] < TARGET_MEMORY_MB else 'NOT met'} ({ours['peak_mb']:,.0f} MB)"
    )


if __name__ == "__main__":
    main()
