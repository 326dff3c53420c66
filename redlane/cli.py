"""The `redlane` command: a thin shell over the library, one public call per command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.columns import Columns
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from redlane.config import ConfigError
from redlane.demo import generate as generate_traffic
from redlane.intake.canonical import FormatError
from redlane.intake.pipeline import IngestSummary
from redlane.intake.pipeline import ingest as ingest_path
from redlane.reference import place_label
from redlane.store.database import Database
from redlane.store.repository import quarantined
from redlane.store.stats import store_stats

app = typer.Typer(help="redlane: targeting and intelligence exchange for customs and police.")
db_app = typer.Typer(help="The operational store.")
quarantine_app = typer.Typer(help="Records refused at intake, with the reason.")
app.add_typer(db_app, name="db")
app.add_typer(quarantine_app, name="quarantine")
console = Console()

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database", envvar="REDLANE_DATABASE_URL", help="Database URL (default ./var/redlane.db)."
    ),
]


def _open(url: str | None) -> Database:
    try:
        return Database(url)
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


@contextmanager
def _progress() -> Iterator[Progress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        yield progress


def _tracker(progress: Progress) -> Callable[[str, int, int], None]:
    """A progress callback for the library: one bar per stage or file."""
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return update


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Directory to write the traffic into.")] = Path(
        "var/demo"
    ),
    days: Annotated[int, typer.Option(min=1, help="Days of traffic.")] = 1,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same files.")] = 7,
    scale: Annotated[
        float, typer.Option(min=0.001, help="Volume multiplier (1 = mid-size country).")
    ] = 1.0,
    format: Annotated[str, typer.Option(help="Comma-separated: jsonl, parquet.")] = "jsonl,parquet",
    kinds: Annotated[
        str, typer.Option(help="Comma-separated record kinds: consignment, traveller, movement.")
    ] = "consignment,traveller,movement",
) -> None:
    """Write synthetic traffic with planted trafficking patterns; the truth goes apart."""
    try:
        with _progress() as progress:
            summary = generate_traffic(
                out,
                days=days,
                seed=seed,
                scale=scale,
                formats=tuple(f.strip() for f in format.split(",")),
                kinds=tuple(k.strip() for k in kinds.split(",")),
                on_progress=_tracker(progress),
            )
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    table = Table(title=f"Generated into {out}")
    table.add_column("records")
    table.add_column("count", justify="right")
    for kind, count in summary.records.items():
        table.add_row(kind, f"{count:,}")
    table.add_row("planted contraband", f"{sum(summary.contraband.values()):,}")
    console.print(table)


def _print_ingest(summary: IngestSummary) -> None:
    table = Table(title="Ingest")
    for name in ("file", "read", "stored", "duplicates", "quarantined"):
        table.add_column(name, justify="left" if name == "file" else "right")
    for f in summary.files:
        table.add_row(
            Path(f.path).name,
            *(f"{getattr(f, n):,}" for n in ("read", "stored", "duplicates", "quarantined")),
        )
    console.print(table)
    for f in summary.files:
        for problem in f.problems[:20]:
            console.print(f"[yellow]quarantined[/yellow] {Path(f.path).name} {problem}")
        if f.quarantined > 20:
            console.print(f"... {f.quarantined - 20} more in `redlane quarantine list`")


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A canonical file, or a directory of them.")],
    format: Annotated[
        str | None, typer.Option(help="jsonl or parquet (default: by extension).")
    ] = None,
    sender: Annotated[str | None, typer.Option(help="Who sent the data.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Validate and store canonical records; bad records are quarantined, the rest goes in."""
    db = _open(database)
    db.upgrade()
    try:
        with _progress() as progress:
            summary = ingest_path(
                db, path, fmt=format, sender=sender, on_progress=_tracker(progress)
            )
    except (FormatError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    _print_ingest(summary)


def _counts_table(title: str, rows: list[tuple[str, int]]) -> Table:
    table = Table()
    table.add_column(title)
    table.add_column("count", justify="right")
    for key, count in rows:
        table.add_row(key, f"{count:,}")
    return table


def _labelled(rows: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(place_label(code), count) for code, count in rows]


@app.command()
def stats(database: DatabaseOption = None) -> None:
    """What the store holds, by kind, mode, place and day."""
    result = store_stats(_open(database))
    tables = [
        _counts_table("Records", list(result.totals.items())),
        _counts_table("Consignments by mode", result.consignments_by_mode),
        _counts_table("Consignments by arrival day", result.consignments_by_day),
        _counts_table(
            "Consignments by place of discharge", _labelled(result.consignments_by_place)
        ),
        _counts_table("Movements by conveyance", result.movements_by_kind),
        _counts_table("Movements by arrival place", _labelled(result.movements_by_place)),
        _counts_table("Travellers by destination", _labelled(result.travellers_by_destination)),
        _counts_table("Travellers by departure day", result.travellers_by_day),
    ]
    console.print(Columns(tables))
    console.print(f"Quarantined records awaiting review: {result.quarantined_open:,}")


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOption = None) -> None:
    """Create or migrate the schema to the latest version."""
    db = _open(database)
    db.upgrade()
    console.print(f"{db}: schema at revision {db.current_revision()}")


@quarantine_app.command("list")
def quarantine_list(database: DatabaseOption = None) -> None:
    """Refused records awaiting review: where they were, which field, why."""
    table = Table(title="Quarantine")
    for name in ("id", "file", "where", "field", "reason"):
        table.add_column(name)
    for row in quarantined(_open(database)):
        table.add_row(
            str(row["id"]),
            Path(row["source_file"]).name,
            row["locator"],
            row["field"] or "",
            row["reason"],
        )
    console.print(table)


if __name__ == "__main__":
    app()
