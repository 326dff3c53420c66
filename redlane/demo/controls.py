"""Control results for the demo: what officers would find when they control the selections.

Every red selection within capacity is controlled; the ground truth says what the control
finds (the planted drug, quantity and concealment, or nothing). The results are written as the
CSV that `redlane result import` reads, so the demo feeds back through the officers' path.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select

from redlane.demo.patterns import TRUTH_DIR
from redlane.store.database import Database
from redlane.store.schema import selections
from redlane.targeting.catalogue import TARGET_KINDS
from redlane.targeting.features import Window, features_for

CSV_COLUMNS = (
    "target_kind", "target_ref", "transport_document", "office", "controlled_on", "outcome",
    "drug", "quantity_kg", "concealment",
)  # fmt: skip


def _truth(traffic: Path) -> dict[tuple[str, str], dict[str, object]]:
    folder = traffic / TRUTH_DIR if (traffic / TRUTH_DIR).is_dir() else traffic
    rows = pq.read_table(folder / "truth.parquet").to_pylist()
    return {(str(r["target_kind"]), str(r["target_ref"])): r for r in rows if r["contraband"]}


def simulate_controls(db: Database, traffic: Path, out: Path, run_id: int | None = None) -> int:
    """Write the results of controlling every red selection within capacity; returns rows."""
    query = select(
        selections.c.target_kind, selections.c.target_ref, selections.c.office, selections.c.day
    ).where(selections.c.lane == "red", selections.c.status == "selected")
    if run_id is not None:
        query = query.where(selections.c.run_id == run_id)
    with db.engine.connect() as conn:
        chosen = sorted({tuple(r) for r in conn.execute(query)})
    truth = _truth(traffic)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for kind, ref, office, day in chosen:
            found = truth.get((kind, ref))
            controlled_on = _day(day)
            document = ref if kind == "consignment" else ""
            if found:
                writer.writerow(
                    [kind, ref, document, office, controlled_on.isoformat(), "seizure",
                     found["drug"], found["quantity_kg"], found["concealment"]]
                )  # fmt: skip
            else:
                writer.writerow(
                    [
                        kind,
                        ref,
                        document,
                        office,
                        controlled_on.isoformat(),
                        "no_finding",
                        "",
                        "",
                        "",
                    ]
                )
    return len(chosen)


def demo_recall(db: Database, traffic: Path) -> tuple[int, int]:
    """How many planted contraband targets the controlled selections find, out of all planted
    in the targets of the targeted days (every stored target of a day some run targeted)."""

    with db.engine.connect() as conn:
        days = sorted({_day(d) for (d,) in conn.execute(select(selections.c.day).distinct())})
        controlled = {
            (str(k), str(r))
            for k, r in conn.execute(
                select(selections.c.target_kind, selections.c.target_ref).where(
                    selections.c.lane == "red", selections.c.status == "selected"
                )
            )
        }
    truth = _truth(traffic)
    targets: set[tuple[str, str]] = set()
    for day in days:
        window = Window(since=day, until=date.fromordinal(day.toordinal() + 1))
        for kind in TARGET_KINDS:
            refs = features_for(db, kind, window).column("target_ref").to_pylist()
            targets.update((kind, str(r)) for r in refs)
    planted = {key for key in truth if key in targets}
    return len(planted & controlled), len(planted)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
