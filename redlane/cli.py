"""The `redlane` command: a thin shell over the library, one public call per command."""

from __future__ import annotations

import getpass
import json
import mimetypes
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, cast

import pyarrow.csv as pacsv
import typer
from pydantic import ValidationError
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

from redlane import security
from redlane.api import create_app
from redlane.config import NODE_KEY_SETTING, ConfigError, api_token
from redlane.demo import generate as generate_traffic
from redlane.demo.controls import demo_recall, simulate_controls
from redlane.demo.formats import ALL_SECTOR_FORMATS, SECTOR_FORMATS
from redlane.exchange import hits, mailbox, retention, stix
from redlane.exchange.crypto import KEK_SETTING, Kek, generate_kek, load_kek
from redlane.exchange.feedback import FEEDBACK_PURPOSE, close_on_feedback, feedback_on
from redlane.exchange.grading import GradingError, parse_grading
from redlane.exchange.model import EntityKind, Message, Outcome
from redlane.exchange.sightings import (
    audited_pending_drafts,
    discard_draft,
    draft_sightings_for_run,
    send_draft,
)
from redlane.exchange.watchlist import (
    WATCHLIST_PURPOSE,
    audited_active_entries,
    audited_expire,
    describe,
)
from redlane.intake.canonical import FormatError
from redlane.intake.formats import FORMATS
from redlane.intake.pipeline import IngestSummary
from redlane.intake.pipeline import ingest as ingest_path
from redlane.intake.quarantine import QuarantineError
from redlane.intake.quarantine import retry as retry_quarantined
from redlane.intake.quarantine import show as show_quarantined
from redlane.intake.tabular import MappingFileError
from redlane.reference import place_label
from redlane.security import audit
from redlane.security.keys import fingerprint
from redlane.store.database import Database
from redlane.store.repository import quarantined
from redlane.store.stats import store_stats
from redlane.targeting import (
    CriteriaError,
    ProfileError,
    RiskProfile,
    SelectionSettings,
    Window,
    approve_profile,
    backtest,
    import_results,
    latest_profiles,
    load_lists,
    load_profiles,
    performance,
    retire_profile,
    save_profile,
    starter_profiles,
    target,
)
from redlane.targeting.charts import performance_chart
from redlane.targeting.engine import Thresholds
from redlane.targeting.feedback import record_result_row
from redlane.targeting.profiles import refresh_statuses
from redlane.targeting.run import WORKLIST_PURPOSE, audited_worklist, load_settings, reason_text

app = typer.Typer(help="redlane: targeting and intelligence exchange for customs and police.")
db_app = typer.Typer(help="The operational store.")
quarantine_app = typer.Typer(help="Records refused at intake, with the reason.")
app.add_typer(db_app, name="db")
app.add_typer(quarantine_app, name="quarantine")
# Piped or logged output (make run, CI) gets room for the worklist's reasons.
console = Console(width=None if sys.stdout.isatty() else 140)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database", envvar="REDLANE_DATABASE_URL", help="Database URL (default ./var/redlane.db)."
    ),
]


def _open(url: str | None, *, upgrade: bool = False) -> Database:
    """The store; with `upgrade`, its schema brought to the code's version first, else a store
    whose schema is behind stops the command with what to run."""
    try:
        db = Database(url)
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if upgrade:
        db.upgrade()
    elif (current := db.current_revision()) != db.head_revision():
        state = "has no schema" if current is None else f"is at schema revision {current}"
        console.print(
            f"[red]error:[/red] the store {db} {state}, this redlane needs "
            f"{db.head_revision()}: run `redlane db upgrade` first"
        )
        raise typer.Exit(2)
    return db


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
    format: Annotated[
        str,
        typer.Option(
            help="Comma-separated: jsonl, parquet, and the sector's own formats: "
            f"{', '.join(SECTOR_FORMATS)}, or {ALL_SECTOR_FORMATS} for all of them."
        ),
    ] = "jsonl,parquet",
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
    counts = ("read", "stored", "duplicates", "quarantined")
    table = Table(title="Ingest", show_footer=len(summary.files) > 1)
    table.add_column("file", footer="all files")
    table.add_column("format")
    for name in counts:
        table.add_column(name, justify="right", footer=f"{summary.total(name):,}")
    for f in summary.files:
        table.add_row(Path(f.path).name, f.format, *(f"{getattr(f, n):,}" for n in counts))
    console.print(table)
    for f in summary.files:
        for problem in f.problems[:20]:
            console.print(f"[yellow]quarantined[/yellow] {Path(f.path).name} {problem}")
        if f.quarantined > 20:
            console.print(f"... {f.quarantined - 20} more in `redlane quarantine list`")


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files, or directories of them (sub-directories are not read)."),
    ],
    format: Annotated[
        str | None,
        typer.Option(help=f"{', '.join(FORMATS)} (default: by extension or content)."),
    ] = None,
    sender: Annotated[str | None, typer.Option(help="Who sent the data.")] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Map CSV/JSON Lines/Parquet rows: a YAML file or a shipped mapping "
            "(road_consignments, truck_crossings, yacht_reports)."
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Validate and store records; bad records are quarantined, the rest goes in."""
    db = _open(database, upgrade=True)
    try:
        with _progress() as progress:
            summary = ingest_path(
                db, paths, fmt=format, sender=sender, on_progress=_tracker(progress),
                mapping=mapping,
            )  # fmt: skip
    except (FormatError, FileNotFoundError, MappingFileError) as exc:
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
    db = _open(database, upgrade=True)
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


@quarantine_app.command("show")
def quarantine_show(record_id: int, database: DatabaseOption = None) -> None:
    """One refused record: where it was, which field, why, and its raw text."""
    try:
        row = show_quarantined(_open(database), record_id)
    except QuarantineError as exc:
        raise _fail(exc) from exc
    for name in ("id", "status", "source_file", "locator", "field", "reason", "sender"):
        console.print(f"[bold]{name}[/bold]: {row[name]}")
    console.print(row["raw"], markup=False, highlight=False)


@quarantine_app.command("retry")
def quarantine_retry(
    record_ids: Annotated[list[int] | None, typer.Argument(help="Ids (default: all open).")] = None,
    database: DatabaseOption = None,
) -> None:
    """Read refused records again after a fix; store what is valid now."""
    result = retry_quarantined(_open(database), record_ids or None)
    console.print(
        f"tried {result.tried:,}: {result.resolved:,} resolved ({result.stored:,} records "
        f"stored), {result.still_refused:,} still refused"
    )


# --- targeting ----------------------------------------------------------------------------

profiles_app = typer.Typer(help="Risk profiles: validate, add, list, approve, retire.")
result_app = typer.Typer(help="Control results: what a control found.")
report_app = typer.Typer(help="Reports on targeting performance.")
demo_app = typer.Typer(help="Demo helpers that stand in for the real world.")
app.add_typer(profiles_app, name="profiles")
app.add_typer(result_app, name="result")
app.add_typer(report_app, name="report")
app.add_typer(demo_app, name="demo")

ProfilesOption = Annotated[
    Path | None,
    typer.Option(
        "--profiles", help="YAML file or directory (default: stored profiles, else the starters)."
    ),
]
ListsOption = Annotated[
    Path | None, typer.Option("--lists", help="YAML file of extra reference lists.")
]


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(2)


def _profiles(db: Database | None, path: Path | None, lists: Path | None) -> list[RiskProfile]:
    try:
        loaded = load_lists(lists)
        if path is not None:
            return load_profiles(path, loaded)
        stored = latest_profiles(db) if db is not None else []
        return stored or starter_profiles()
    except (ProfileError, CriteriaError) as exc:
        raise _fail(exc) from exc


def _print_worklist(rows: list[dict[str, Any]]) -> None:
    table = Table(title="Worklist: red lane, highest score first")
    for name in ("target", "office", "score", "method", "why"):
        table.add_column(name)
    for row in rows:
        why = "; ".join(reason_text(r) for r in row["reasons"][:3])
        table.add_row(
            f"{row['target_kind']} {row['target_ref']}", row["office"], str(row["score"]),
            row["method"], why,
        )  # fmt: skip
    console.print(table)


@app.command("target")
def target_command(
    profiles: ProfilesOption = None,
    input: Annotated[Path | None, typer.Option(help="Ingest this file, then target it.")] = None,
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD) to target.")] = None,
    until: Annotated[
        str | None, typer.Option(help="Day after the last (default: since+1).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the selections as CSV here.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random control group.")] = 1,
    random_rate: Annotated[float, typer.Option(help="Random share per office and mode.")] = 0.005,
    capacity: Annotated[int, typer.Option(help="Physical controls per office and day.")] = 80,
    settings: Annotated[
        Path | None,
        typer.Option(help="YAML: random rates per mode, capacity per office, score thresholds."),
    ] = None,
    lists: ListsOption = None,
    database: DatabaseOption = None,
) -> None:
    """Score targets against the profiles in force and select what to control, with reasons."""
    db = _open(database, upgrade=True)
    try:
        if settings is not None:
            chosen, thresholds = load_settings(settings)
        else:
            chosen, thresholds = SelectionSettings(random_rate, capacity=capacity), Thresholds()
        window = _window(db, input, since, until)
        with _progress() as progress:
            run = target(
                db, _profiles(db, profiles, lists), window, settings=chosen,
                thresholds=thresholds, seed=seed, lists=load_lists(lists),
                on_progress=_tracker(progress),
            )  # fmt: skip
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(exc) from exc
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(run.selections, out)
    drafts = draft_sightings_for_run(db, run.run_id)
    console.print(f"run {run.run_id}: {sum(run.targets.values()):,} targets, "
                  f"{run.selections.num_rows:,} selections, "
                  f"{len(drafts)} sighting replies drafted")  # fmt: skip
    _print_worklist(audited_worklist(db, _cli_actor(), WORKLIST_PURPOSE, run.run_id, 10))


def _window(db: Database, input: Path | None, since: str | None, until: str | None) -> Window:
    if input is not None:
        summary = ingest_path(db, input)
        return Window(batch_ids=tuple(f.batch_id for f in summary.files))
    if since is None:
        raise ValueError("give --input FILE or --since DATE")
    first = date.fromisoformat(since)
    last = date.fromisoformat(until) if until else first + timedelta(days=1)
    return Window(since=first, until=last)


ProfilePath = Annotated[
    Path | None, typer.Argument(help="YAML file or directory (default: the starter library).")
]


@profiles_app.command("validate")
def profiles_validate(path: ProfilePath = None, lists: ListsOption = None) -> None:
    """Check profiles: fields, types, functions, lists, approval; names the first problem."""
    found = _profiles(None, path, lists)
    console.print(f"{len(found)} profiles valid")


@profiles_app.command("add")
def profiles_add(
    path: ProfilePath = None, lists: ListsOption = None, database: DatabaseOption = None
) -> None:
    """Store profiles; a changed profile becomes a new draft version."""
    db = _open(database, upgrade=True)
    for profile in _profiles(None, path, lists):
        stored = save_profile(db, profile, load_lists(lists))
        console.print(f"{stored.id} v{stored.version}: {stored.status.value}")


@profiles_app.command("list")
def profiles_list(database: DatabaseOption = None) -> None:
    """Stored profiles, newest version of each."""
    db = _open(database, upgrade=True)
    table = Table(title="Risk profiles")
    for name in ("id", "version", "status", "mode", "weight", "lane", "title"):
        table.add_column(name)
    refresh_statuses(db)
    for p in latest_profiles(db):
        table.add_row(p.id, str(p.version), p.status.value, p.mode, str(p.weight),
                      p.action.lane.value, p.title)  # fmt: skip
    console.print(table)


@profiles_app.command("approve")
def profiles_approve(
    profile_id: str,
    by: Annotated[str, typer.Option("--by", help="The approver: not the author.")],
    database: DatabaseOption = None,
) -> None:
    """Approve the latest draft of a profile (four eyes: approver is not the author)."""
    try:
        p = approve_profile(_open(database), profile_id, by)
    except ProfileError as exc:
        raise _fail(exc) from exc
    console.print(f"{p.id} v{p.version}: {p.status.value}, approved by {p.approved_by}")


@profiles_app.command("retire")
def profiles_retire(profile_id: str, database: DatabaseOption = None) -> None:
    """Retire a profile: it selects nothing from now on."""
    try:
        p = retire_profile(_open(database), profile_id)
    except ProfileError as exc:
        raise _fail(exc) from exc
    console.print(f"{p.id} v{p.version}: {p.status.value}")


@result_app.command("add")
def result_add(
    target_ref: Annotated[str, typer.Argument(help="Transport or travel document, or movement.")],
    office: Annotated[str, typer.Option(help="Office that controlled.")],
    outcome: Annotated[str, typer.Option(help="no_finding, irregularity or seizure.")],
    controlled_on: Annotated[str, typer.Option(help="YYYY-MM-DD")] = date.today().isoformat(),
    target_kind: Annotated[str, typer.Option(help="consignment, traveller, movement.")] = (
        "consignment"
    ),
    drug: Annotated[str | None, typer.Option(help="Seized drug.")] = None,
    quantity_kg: Annotated[float | None, typer.Option(help="Seized quantity, kg.")] = None,
    concealment: Annotated[str | None, typer.Option(help="Where it was hidden.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Record the outcome of one control."""
    row = {"target_kind": target_kind, "target_ref": target_ref, "office": office,
           "controlled_on": controlled_on, "outcome": outcome, "drug": drug or "",
           "quantity_kg": "" if quantity_kg is None else str(quantity_kg),
           "concealment": concealment or ""}  # fmt: skip
    try:
        summary = record_result_row(_open(database), row)
    except ValueError as exc:
        raise _fail(exc) from exc
    console.print(f"stored {summary.stored}, already known {summary.duplicates}")


@result_app.command("import")
def result_import(path: Path, database: DatabaseOption = None) -> None:
    """Import control results from CSV; bad rows are quarantined with line, field, reason."""
    db = _open(database, upgrade=True)
    try:
        summary = import_results(db, path)
    except (ValueError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(
        f"read {summary.read:,}, stored {summary.stored:,}, duplicates {summary.duplicates:,}, "
        f"quarantined {len(summary.problems):,}"
    )
    for problem in summary.problems[:20]:
        console.print(f"[yellow]quarantined[/yellow] {problem}")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _lift(r: Any) -> str:
    if r.lift is None:
        return ""
    return f"{r.lift:.1f} ({r.lift_low:.1f} to {r.lift_high:.1f})"


@report_app.command("performance")
def report_performance(
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Day after the last.")] = None,
    profiles: ProfilesOption = None,
    chart: Annotated[
        Path | None, typer.Option(help="Also draw hit rates per profile (PNG or SVG).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Selections, controls, hits, hit rate and lift over random, per method and profile."""
    db = _open(database, upgrade=True)
    first = date.fromisoformat(since) if since else None
    last = date.fromisoformat(until) if until else None
    result = performance(db, _profiles(db, profiles, None), first, last)
    for title, rows in (("Per method", result.methods), ("Per profile", result.profiles)):
        table = Table(title=title)
        for name in ("name", "selections", "controlled", "hits", "hit rate", "lift (95% CI)",
                     "seized kg", "review"):  # fmt: skip
            table.add_column(name, justify="left" if name in ("name", "review") else "right")
        for r in rows:
            cells = (r.selections, r.controlled, r.hits)
            table.add_row(
                r.name, *(f"{c:,}" for c in cells), _pct(r.hit_rate), _lift(r),
                f"{r.seized_kg:,.1f}", r.review or "",
            )  # fmt: skip
        console.print(table)
    console.print(f"random control group hit rate: {_pct(result.random_hit_rate) or 'no controls'}")
    if chart is not None:
        try:
            console.print(f"chart: {performance_chart(result, chart)}")
        except ValueError as exc:
            raise _fail(exc) from exc


@app.command("backtest")
def backtest_command(
    profile: Annotated[str, typer.Argument(help="Profile id (from --profiles or the store).")],
    from_: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    to: Annotated[str, typer.Option("--to", help="Day after the last.")],
    profiles: ProfilesOption = None,
    lists: ListsOption = None,
    database: DatabaseOption = None,
) -> None:
    """What a (draft) profile would have selected in stored history, and its hit rate."""
    db = _open(database)
    candidates = {p.id: p for p in _profiles(db, profiles, lists)}
    if profile not in candidates:
        raise _fail(ValueError(f"profile {profile}: not found"))
    result = backtest(db, candidates[profile], date.fromisoformat(from_), date.fromisoformat(to),
                      load_lists(lists))  # fmt: skip
    r = result
    console.print(
        f"{r.profile_id} v{r.version}, {r.since} to {r.until}: {r.selected:,} of {r.targets:,} "
        f"targets selected ({r.selection_rate:.2%}); {r.controlled:,} controlled, {r.hits:,} "
        f"seizures, hit rate {_pct(r.hit_rate) or 'n/a'}; random control group "
        f"{r.random_hits}/{r.random_controlled}; lift {_lift(r) or 'n/a'}"
    )
    if result.examples:
        console.print("e.g. " + ", ".join(result.examples))


@app.command("worklist")
def worklist_command(
    run: Annotated[int | None, typer.Option(help="Targeting run (default: all runs).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many selections.")] = 15,
    purpose: Annotated[str, typer.Option(help="Why you read it (audited).")] = WORKLIST_PURPOSE,
    database: DatabaseOption = None,
) -> None:
    """The red selections to control, highest score first, with their reasons (audited)."""
    db = _open(database, upgrade=True)
    _print_worklist(audited_worklist(db, _cli_actor(), purpose, run, limit))


@demo_app.command("controls")
def demo_controls(
    traffic: Annotated[Path, typer.Option(help="The generated traffic (with its truth).")],
    out: Annotated[Path, typer.Option(help="Where to write the results CSV.")],
    database: DatabaseOption = None,
) -> None:
    """Control every red selection and write what the ground truth says was found."""
    db = _open(database)
    rows = simulate_controls(db, traffic, out)
    found, planted = demo_recall(db, traffic)
    console.print(
        f"{rows:,} controls written to {out}; they find {found:,} of the {planted:,} planted "
        "contraband targets of the targeted days"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    database: DatabaseOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); needs REDLANE_API_TOKEN, REDLANE_NODE_KEK_FILE
    and REDLANE_NODE_KEY_FILE (the mailbox seals with the one and signs with the other)."""
    import uvicorn

    db = _open(database, upgrade=True)
    try:
        token = api_token()
        kek = load_kek()
        mailbox.check_kek(db, kek)
        security.load_node_key()
        api = create_app(db, token, kek=kek)
    except ConfigError as exc:
        raise _fail(exc) from exc
    uvicorn.run(api, host=host, port=port)


# --- security: agencies, users, desks, the audit log ---------------------------------------

agency_app = typer.Typer(help="Agencies: customs, police and partner services.")
user_app = typer.Typer(help="Local user accounts, their roles and API tokens.")
desk_app = typer.Typer(help="Functional desks: addressees whose members are users.")
audit_app = typer.Typer(help="The hash-chained audit log: verify it, sign and export its head.")
app.add_typer(agency_app, name="agency")
app.add_typer(user_app, name="user")
app.add_typer(desk_app, name="desk")
app.add_typer(audit_app, name="audit")

KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key", envvar=NODE_KEY_SETTING, help="The node's Ed25519 key file (PEM, mode 600)."
    ),
]


def _cli_actor() -> security.Service:
    """Whoever runs the command line acts for the node, under their operating-system name."""
    return security.Service(f"cli:{getpass.getuser()}")


@agency_app.command("add")
def agency_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. NL-FIOD.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    kind: Annotated[str, typer.Option(help=", ".join(k.value for k in security.AgencyKind))],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country, e.g. NL.")],
    database: DatabaseOption = None,
) -> None:
    """Register an agency with its kind and country."""
    db = _open(database, upgrade=True)
    try:
        agency = security.add_agency(db, code, name, kind, country)
    except security.AccountError as exc:
        raise _fail(exc) from exc
    console.print(f"agency {agency.code}: {agency.name} ({agency.kind.value}, {agency.country})")


@agency_app.command("list")
def agency_list(database: DatabaseOption = None) -> None:
    """The registered agencies."""
    db = _open(database, upgrade=True)
    table = Table(title="Agencies")
    for name in ("code", "name", "kind", "country"):
        table.add_column(name)
    for a in security.list_agencies(db):
        table.add_row(a.code, a.name, a.kind.value, a.country)
    console.print(table)


PasswordOption = Annotated[
    str,
    typer.Option(
        prompt=True, hide_input=True, confirmation_prompt=True,
        help="Asked for when not given (at least 12 characters).",
    ),
]  # fmt: skip


@user_app.command("add")
def user_add(
    username: str,
    agency: Annotated[str, typer.Option(help="The user's agency code.")],
    role: Annotated[
        list[str], typer.Option(help=f"Repeatable: {', '.join(r.value for r in security.Role)}.")
    ],
    password: PasswordOption,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Create a local account (argon2id password) in an agency, with its roles."""
    db = _open(database, upgrade=True)
    try:
        user = security.add_user(db, username, agency, password, role, name)
    except (security.AccountError, security.PasswordError) as exc:
        raise _fail(exc) from exc
    console.print(f"user {user.username} ({user.agency}): {', '.join(sorted(user.roles))}")


@user_app.command("list")
def user_list(
    agency: Annotated[str | None, typer.Option(help="Only this agency.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Accounts with their agency, roles, desks and state."""
    db = _open(database, upgrade=True)
    table = Table(title="Users")
    for name in ("user", "name", "agency", "roles", "desks", "active"):
        table.add_column(name)
    for u in security.list_users(db, agency):
        table.add_row(u.username, u.display_name, u.agency, ", ".join(sorted(u.roles)),
                      ", ".join(sorted(u.desks)), "yes" if u.active else "no")  # fmt: skip
    console.print(table)


@user_app.command("passwd")
def user_passwd(username: str, password: PasswordOption, database: DatabaseOption = None) -> None:
    """Set a user's password."""
    try:
        security.set_password(_open(database), username, password)
    except (security.AccountError, security.PasswordError) as exc:
        raise _fail(exc) from exc
    console.print(f"password of {username} changed")


@user_app.command("token")
def user_token(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option(min=1, max=366, help="Days until it expires.")] = 90,
    database: DatabaseOption = None,
) -> None:
    """Issue an API token for a user; it is printed once and only its hash is kept."""
    try:
        issued = security.issue_token(_open(database), username, name, timedelta(days=days))
    except security.AccountError as exc:
        raise _fail(exc) from exc
    console.print(f"token {issued.id} for {issued.username}, expires {issued.expires_at:%Y-%m-%d}")
    print(issued.token)


@user_app.command("tokens")
def user_tokens(username: str, database: DatabaseOption = None) -> None:
    """A user's API tokens: id, name, dates and state (never the tokens themselves)."""
    try:
        tokens = security.list_tokens(_open(database), username)
    except security.AccountError as exc:
        raise _fail(exc) from exc
    table = Table(title=f"API tokens of {username}")
    for name in ("id", "name", "created", "expires", "state"):
        table.add_column(name)
    for t in tokens:
        table.add_row(str(t.id), t.name, f"{t.created_at:%Y-%m-%d}", f"{t.expires_at:%Y-%m-%d}",
                      t.status())  # fmt: skip
    console.print(table)


@user_app.command("revoke")
def user_revoke(token_id: int, database: DatabaseOption = None) -> None:
    """Revoke an API token at once."""
    try:
        security.revoke_token(_open(database), token_id)
    except security.AccountError as exc:
        raise _fail(exc) from exc
    console.print(f"token {token_id} revoked")


@desk_app.command("add")
def desk_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. NL-RTM-TC.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    agency: Annotated[str, typer.Option(help="The agency the desk belongs to.")],
    place: Annotated[str | None, typer.Option(help="UN/LOCODE of the desk's place.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Create a functional desk (an addressee, e.g. a port's targeting centre)."""
    db = _open(database, upgrade=True)
    try:
        desk = security.add_desk(db, code, name, agency, place)
    except security.AccountError as exc:
        raise _fail(exc) from exc
    console.print(f"desk {desk.code}: {desk.name} ({desk.agency})")


@desk_app.command("member")
def desk_member(
    desk: str,
    username: str,
    remove: Annotated[bool, typer.Option("--remove", help="Take the user off the desk.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Add a user of the desk's agency to a desk (or take them off with --remove)."""
    db = _open(database)
    change = security.remove_desk_member if remove else security.add_desk_member
    try:
        found = change(db, desk, username)
    except security.AccountError as exc:
        raise _fail(exc) from exc
    console.print(f"desk {found.code}: {', '.join(found.members) or 'no members'}")


@desk_app.command("list")
def desk_list(database: DatabaseOption = None) -> None:
    """Desks with their agency, place and members."""
    db = _open(database, upgrade=True)
    table = Table(title="Desks")
    for name in ("code", "name", "agency", "place", "members"):
        table.add_column(name)
    for d in security.list_desks(db):
        table.add_row(d.code, d.name, d.agency, d.place or "", ", ".join(d.members))
    console.print(table)


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        Path | None, typer.Option(help="A head exported earlier: also detects a cut-off tail.")
    ] = None,
    key: KeyOption = None,
    database: DatabaseOption = None,
) -> None:
    """Walk the audit chain and check its signed heads; name every broken entry (exit 1)."""
    db = _open(database, upgrade=True)
    try:
        public_key = security.load_node_key(key).public_key if key else None
        report = audit.verify(db, audit.load_head(head) if head else None, public_key)
    except (ConfigError, audit.AuditError) as exc:
        raise _fail(exc) from exc
    for problem in report.problems[:50]:
        console.print(f"[red]{problem}[/red]", highlight=False)
    if len(report.problems) > 50:
        console.print(f"... and {len(report.problems) - 50} more problems")
    console.print(
        f"{report.entries:,} entries, head {report.head_seq} {report.head_hash[:16]}…, "
        f"{report.heads_checked} signed heads checked"
        + ("" if public_key else " (against their own keys: give --key to pin the node's)")
    )
    if not report.ok:
        console.print(f"[red]audit chain broken: {len(report.problems)} problems[/red]")
        raise typer.Exit(1)
    console.print("audit chain intact")


@audit_app.command("head")
def audit_head(
    out: Annotated[Path, typer.Option(help="Where to write the signed head (JSON).")],
    key: KeyOption = None,
    database: DatabaseOption = None,
) -> None:
    """Sign the chain's head with the node key, keep it, and export it to anchor elsewhere."""
    db = _open(database, upgrade=True)
    try:
        signed = audit.export_head(db, security.load_node_key(key), out)
    except ConfigError as exc:
        raise _fail(exc) from exc
    console.print(
        f"head {signed.sequence} {signed.hash[:16]}… signed by {fingerprint(signed.public_key)}"
        f" -> {out}"
    )


@audit_app.command("keygen")
def audit_keygen(path: Annotated[Path, typer.Argument(help="Where to write the key.")]) -> None:
    """Create the node's Ed25519 key file (mode 600); an existing file is never replaced."""
    try:
        key = security.generate_node_key(path)
    except ConfigError as exc:
        raise _fail(exc) from exc
    console.print(
        f"node key {fingerprint(key.public_key)} written to {path}; set {NODE_KEY_SETTING}={path}"
    )


@audit_app.command("log")
def audit_log_command(
    after: Annotated[int, typer.Option(help="Entries after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(min=1, help="How many entries.")] = 50,
    user: Annotated[str | None, typer.Option(help="Only this user's entries.")] = None,
    purpose: Annotated[str, typer.Option(help="Why you read the log (it is audited).")] = (
        "audit review"
    ),
    database: DatabaseOption = None,
) -> None:
    """Audit entries, oldest first; reading them is itself audited."""
    db = _open(database, upgrade=True)
    found = audit.entries(db, after=after, limit=limit, username=user)
    audit.record(db, _cli_actor(), audit.Action.READ, purpose, "audit_log", after,
                 {"entries": [e.seq for e in found]})  # fmt: skip
    table = Table(title="Audit log")
    for name in ("seq", "time", "user", "agency", "action", "purpose", "object", "details"):
        table.add_column(name)
    for e in found:
        table.add_row(str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.username, e.agency or "",
                      e.action, e.purpose, f"{e.object_kind} {e.object_id}",
                      json.dumps(e.details)[:60])  # fmt: skip
    console.print(table)


# --- exchange: STIX 2.1 bundles ------------------------------------------------------------

stix_app = typer.Typer(help="STIX 2.1 bundles of messages, with TLP 2.0 markings.")
app.add_typer(stix_app, name="stix")


@stix_app.command("export")
def stix_export(
    message: Annotated[Path, typer.Argument(help="A message as JSON (redlane's Message).")],
    out: Annotated[Path, typer.Option(help="Where to write the bundle.")],
    sender: Annotated[str, typer.Option(help="The sending agency (created_by_ref).")] = "redlane",
) -> None:
    """Write a message as a STIX 2.1 bundle; refused when its handling forbids export."""
    try:
        report = stix.export_file(message, out, sender=sender)
    except (stix.StixError, OSError) as exc:
        raise _fail(exc) from exc
    console.print(f"{report} written to {out}")


@stix_app.command("import")
def stix_import(
    bundle: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle (JSON).")],
    out: Annotated[Path | None, typer.Option(help="Write the messages here (JSON list).")] = None,
    grading: Annotated[
        str | None, typer.Option(help="3x5x2 grading for reports without one, e.g. 2DP.")
    ] = None,
) -> None:
    """Read a bundle's reports as messages; names what it could not map."""
    try:
        default = parse_grading(grading) if grading else None
        found = stix.import_file(bundle, out, default_grading=default)
    except (stix.StixError, GradingError, OSError) as exc:
        raise _fail(exc) from exc
    for m in found.messages:
        console.print(f"{m.report_id}: {m.message.kind.value} {m.message.subject!r}", markup=False)
    for u in found.unmapped:
        console.print(f"not mapped: {u}", markup=False)
    console.print(f"{len(found.messages)} messages, {len(found.unmapped)} things not mapped")


@stix_app.command("export-message")
def stix_export_message(
    message_id: str,
    user: UserOption,
    purpose: MessagePurpose,
    out: Annotated[Path, typer.Option(help="Where to write the bundle.")],
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Write a message of the mailbox as a STIX 2.1 bundle, unless its handling forbids
    (no_export, TLP:RED); audited."""
    db = _open(database)
    with _mailbox_errors():
        bundle = stix.export_stored(db, _mailbox_user(db, user), message_id, purpose,
                                    kek=_kek_file(kek))  # fmt: skip
    out.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", "utf-8")
    console.print(f"message {message_id} written to {out} as a STIX 2.1 bundle")


# --- exchange: the secure mailbox ----------------------------------------------------------

mailbox_app = typer.Typer(help="The secure mailbox: messages between agencies and desks.")
route_app = typer.Typer(help="Which agencies and desks serve a place (mode notices go there).")
app.add_typer(mailbox_app, name="mailbox")
mailbox_app.add_typer(route_app, name="route")

UserOption = Annotated[
    str,
    typer.Option("--user", envvar="REDLANE_USER", help="Act as this user (their agency, desks)."),
]
KekOption = Annotated[
    Path | None,
    typer.Option("--kek", envvar=KEK_SETTING, help="The node's key encryption key file."),
]
MessagePurpose = Annotated[str, typer.Option(help="Why you do it (audited).")]
ToOption = Annotated[
    list[str], typer.Option("--to", help="Repeatable: agency or desk code (agency:X, desk:Y).")
]


def _mailbox_user(db: Database, username: str) -> security.User:
    try:
        return security.get_user(db, username)
    except security.AccountError as exc:
        raise _fail(exc) from exc


def _message_file(path: Path) -> Message:
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    try:
        return Message.model_validate_json(text)
    except ValidationError as exc:
        raise _fail(ValueError(f"{path}: not a message: {exc}")) from exc


@contextmanager
def _mailbox_errors() -> Iterator[None]:
    try:
        yield
    except mailbox.NotFound as exc:
        raise _fail(exc) from exc
    except (mailbox.MailboxError, mailbox.Refused, mailbox.Erased, mailbox.Tampered,
            security.Forbidden, ConfigError, audit.AuditError) as exc:  # fmt: skip
        raise _fail(exc) from exc


def _kek_file(path: Path | None) -> Kek:
    try:
        return load_kek(path)
    except ConfigError as exc:
        raise _fail(exc) from exc


def _envelopes_table(title: str, rows: list[mailbox.Envelope]) -> Table:
    table = Table(title=title)
    for name in ("id", "sent", "kind", "from", "subject", "grading", "tlp", "due", "read"):
        table.add_column(name)
    for e in rows:
        table.add_row(e.id, f"{e.sent_at:%Y-%m-%d %H:%M}", e.kind.value,
                      e.sender + (f"/{e.sender_desk}" if e.sender_desk else ""), e.subject,
                      e.grading, e.handling.tlp.value,
                      f"{e.due_at:%Y-%m-%d %H:%M}" if e.due_at else "",
                      "yes" if e.opened else "")  # fmt: skip
    return table


@mailbox_app.command("keygen")
def mailbox_keygen(path: Annotated[Path, typer.Argument(help="Where to write the key.")]) -> None:
    """Create the node's key encryption key (32 random bytes, mode 600); never overwrites."""
    try:
        kek = generate_kek(path)
    except ConfigError as exc:
        raise _fail(exc) from exc
    console.print(f"key encryption key {kek.id} written to {path}; set {KEK_SETTING}={path}")


@mailbox_app.command("send")
def mailbox_send(
    message: Annotated[Path, typer.Argument(help="The message as JSON ('-': standard input).")],
    user: UserOption,
    to: ToOption = [],  # noqa: B006
    desk: Annotated[str | None, typer.Option(help="Send as this desk of yours.")] = None,
    attach: Annotated[
        list[Path], typer.Option("--attach", help="Repeatable: a file to attach (encrypted).")
    ] = [],  # noqa: B006
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Send a message (a JSON Message) to agencies and desks, with attachments; mode notices
    also go to the services routed for their next place."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        sent = mailbox.send(db, _mailbox_user(db, user), _message_file(message), to, desk=desk,
                            kek=_kek_file(kek), attachments=_attachments(attach))  # fmt: skip
    due = f", due {sent.due_at:%Y-%m-%d %H:%M} UTC" if sent.due_at else ""
    files = f" with {len(attach)} attachment(s)" if attach else ""
    console.print(f"sent {sent.id} to {', '.join(sent.addressees)}{due}{files}")


def _attachments(paths: list[Path]) -> list[mailbox.Attachment]:
    """Files to attach; the media type guessed from the file name."""
    found = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _fail(ValueError(f"--attach {path}: {exc.strerror}")) from exc
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        found.append(mailbox.Attachment(path.name, media_type, data))
    return found


@mailbox_app.command("attachment")
def mailbox_attachment(
    message_id: str,
    n: Annotated[int, typer.Argument(help="The attachment's number (from 1).", min=1)],
    user: UserOption,
    purpose: MessagePurpose,
    out: Annotated[Path, typer.Option(help="Where to write the file.")],
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Write attachment N of a message you may see to a file (decrypted; audited)."""
    db = _open(database)
    with _mailbox_errors():
        found = mailbox.attachment(db, _mailbox_user(db, user), message_id, n, purpose,
                                   kek=_kek_file(kek))  # fmt: skip
    out.write_bytes(found.data)
    info = found.info
    console.print(f"attachment {n} {info.name!r} ({info.media_type}, {info.size:,} bytes) "
                  f"written to {out}", markup=False)  # fmt: skip


@mailbox_app.command("verify")
def mailbox_verify(kek: KekOption = None, database: DatabaseOption = None) -> None:
    """Check every message and receipt against its signature and every signing key against
    its audit registration; name each that fails (exit 1). Run `redlane audit verify` too."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        report = mailbox.verify_signatures(db, _cli_actor(), kek=_kek_file(kek))
    for problem in report.problems[:50]:
        console.print(f"[red]{problem}[/red]", highlight=False)
    if len(report.problems) > 50:
        console.print(f"... and {len(report.problems) - 50} more problems")
    console.print(f"{report.messages:,} messages and {report.receipts:,} receipts checked, "
                  f"{report.erased:,} erased")  # fmt: skip
    if not report.ok:
        raise typer.Exit(1)


@mailbox_app.command("rekey")
def mailbox_rekey(
    new: Annotated[Path, typer.Argument(help="The new key encryption key file (keygen).")],
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Re-wrap every live message and attachment key under a new key encryption key; then
    point REDLANE_NODE_KEK_FILE at it and destroy the old key (old backups become unreadable)."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        done = mailbox.rekey(db, _cli_actor(), _kek_file(kek), _kek_file(new))
    console.print(f"{done.messages} message keys and {done.attachments} attachment keys moved "
                  f"from {done.old} to {done.new}; {done.entities} entity index keys rebuilt; "
                  f"set {KEK_SETTING}={new} and destroy the old key")  # fmt: skip


@mailbox_app.command("inbox")
def mailbox_inbox(
    user: UserOption,
    box: Annotated[str, typer.Option(help="received, sent or all.")] = "received",
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    unread: Annotated[bool, typer.Option("--unread", help="Only what you have not opened.")] = (
        False
    ),
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Your messages, newest first."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        reader = _mailbox_user(db, user)
        rows = mailbox.inbox(
            db, reader, box=cast(mailbox.Box, box), kind=kind, unread=unread, limit=limit,
            offset=offset, kek=_kek_file(kek),
        )  # fmt: skip
    console.print(_envelopes_table(f"Messages of {user} ({box})", rows))


@mailbox_app.command("read")
def mailbox_read(
    message_id: str,
    user: UserOption,
    purpose: MessagePurpose,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Open a message (decrypted, receipted, audited); prints it as JSON."""
    db = _open(database)
    with _mailbox_errors():
        opened = mailbox.read(db, _mailbox_user(db, user), message_id, purpose, kek=_kek_file(kek))
    print(json.dumps(opened.to_dict(), indent=2, ensure_ascii=False))


@mailbox_app.command("search")
def mailbox_search(
    user: UserOption,
    purpose: MessagePurpose,
    entity: Annotated[str | None, typer.Option(help="KIND:IDENTIFIER, e.g. vessel:9319466.")] = (
        None
    ),
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Sent at or after.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Sent before.")] = None,
    sender: Annotated[str | None, typer.Option(help="Sending agency.")] = None,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Messages you may see, by entity, kind, time and sender (audited)."""
    db = _open(database)
    with _mailbox_errors():
        reader = _mailbox_user(db, user)
        rows = mailbox.search(
            db, reader, purpose, entity=entity, kind=kind, since=since, until=until,
            sender=sender, kek=_kek_file(kek),
        )  # fmt: skip
    console.print(_envelopes_table("Search", rows))


@mailbox_app.command("forward")
def mailbox_forward(
    message_id: str,
    user: UserOption,
    purpose: MessagePurpose,
    to: ToOption,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Forward a message within what the sender's handling allows, once its signature is
    checked (audited)."""
    db = _open(database)
    with _mailbox_errors():
        done = mailbox.forward(db, _mailbox_user(db, user), message_id, to, purpose,
                               kek=_kek_file(kek))  # fmt: skip
    console.print(f"forwarded to {', '.join(done.to)} ({', '.join(done.rules)})")


@mailbox_app.command("reply")
def mailbox_reply(
    message_id: str,
    message: Annotated[Path, typer.Argument(help="The reply as JSON ('-': standard input).")],
    user: UserOption,
    to: ToOption = [],  # noqa: B006
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Answer a message in its thread (to its sender, and to --to)."""
    db = _open(database)
    with _mailbox_errors():
        sent = mailbox.reply(db, _mailbox_user(db, user), message_id, _message_file(message), to,
                             kek=_kek_file(kek))  # fmt: skip
    console.print(f"replied {sent.id} to {', '.join(sent.addressees)}")


@mailbox_app.command("overdue")
def mailbox_overdue(
    user: UserOption, kek: KekOption = None, database: DatabaseOption = None
) -> None:
    """Requests to your agency or desks past their due time without your agency's reply."""
    db = _open(database)
    with _mailbox_errors():
        rows = mailbox.overdue(db, _mailbox_user(db, user), kek=_kek_file(kek))
    console.print(_envelopes_table("Overdue requests", rows))


@mailbox_app.command("export")
def mailbox_export(
    message_id: str,
    user: UserOption,
    purpose: MessagePurpose,
    out: Annotated[Path, typer.Option(help="Where to write the JSON document.")],
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Write a message out of redlane as JSON, unless its handling forbids (audited)."""
    db = _open(database)
    with _mailbox_errors():
        document = mailbox.export(db, _mailbox_user(db, user), message_id, purpose,
                                  kek=_kek_file(kek))  # fmt: skip
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    console.print(f"message {message_id} ({document['marking']}) written to {out}")


@mailbox_app.command("receipts")
def mailbox_receipts(message_id: str, user: UserOption, database: DatabaseOption = None) -> None:
    """Deliveries and opened/actioned receipts of a message."""
    db = _open(database)
    with _mailbox_errors():
        rows = mailbox.receipts_of(db, _mailbox_user(db, user), message_id)
    table = Table(title=f"Receipts of {message_id}")
    for name in ("address", "user", "receipt", "at"):
        table.add_column(name)
    for r in rows:
        table.add_row(r.address, r.user or "", r.kind, f"{(r.at or r.delivered_at):%Y-%m-%d %H:%M}")
    console.print(table)


@mailbox_app.command("feedback")
def mailbox_feedback(
    message_id: str,
    user: UserOption,
    purpose: Annotated[str, typer.Option(help="Why you read it (audited).")] = FEEDBACK_PURPOSE,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """What the sightings and replies to a CIS alert or mode notice say came of it (those the
    user may see); each answer is opened, audited."""
    db = _open(database)
    with _mailbox_errors():
        summary = feedback_on(db, _mailbox_user(db, user), message_id, purpose=purpose,
                              kek=_kek_file(kek))  # fmt: skip
    table = Table(title=f"Feedback on {summary.kind.value} {message_id}: {summary.subject}")
    for name in ("reply", "from", "kind", "outcome", "at", "place", "reference"):
        table.add_column(name)
    for a in summary.answers:
        f = a.feedback
        table.add_row(a.reply_id, a.agency + (f"/{a.desk}" if a.desk else ""), a.kind.value,
                      f.outcome.value, f.at.isoformat(), place_label(f.place),
                      f.control_ref or f.seizure_report or "")  # fmt: skip
    console.print(table)
    counted = [f"{o.value} {n}" for o, n in summary.counts.items() if n]
    console.print(", ".join(counted) or "no feedback yet")
    if summary.untyped:
        console.print(f"replies without feedback: {', '.join(summary.untyped)}")
    if summary.erased:
        console.print(f"answers erased: {', '.join(summary.erased)}")


@route_app.command("add")
def route_add(
    place: Annotated[str, typer.Argument(help="UN/LOCODE, e.g. NLRTM.")],
    to: Annotated[str, typer.Option("--to", help="Agency or desk code serving the place.")],
    database: DatabaseOption = None,
) -> None:
    """Route mode notices for conveyances next at PLACE to an agency or desk."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        console.print(f"route {mailbox.add_route(db, place, to)}")


@route_app.command("remove")
def route_remove(
    place: str,
    to: Annotated[str, typer.Option("--to", help="Agency or desk code.")],
    database: DatabaseOption = None,
) -> None:
    """Remove a route."""
    db = _open(database)
    with _mailbox_errors():
        mailbox.remove_route(db, place, to)
    console.print(f"route {place} -> {to} removed")


@route_app.command("list")
def route_list(database: DatabaseOption = None) -> None:
    """The routes: which agencies and desks serve which places."""
    db = _open(database, upgrade=True)
    table = Table(title="Routes")
    table.add_column("place")
    table.add_column("addressee")
    for place, label in mailbox.list_routes(db):
        table.add_row(place, label)
    console.print(table)


# --- watchlist: alerts and notices for targeting, sighting replies -------------------------

watchlist_app = typer.Typer(help="Watchlist entries from CIS alerts and mode notices.")
app.add_typer(watchlist_app, name="watchlist")


@watchlist_app.command("list")
def watchlist_list(
    on: Annotated[str | None, typer.Option(help="Day (YYYY-MM-DD; default today).")] = None,
    purpose: Annotated[str, typer.Option(help="Why you read it (audited).")] = WATCHLIST_PURPOSE,
    database: DatabaseOption = None,
) -> None:
    """The entries in force on a day: subject, message, suggested action, validity (audited)."""
    db = _open(database, upgrade=True)
    day = date.fromisoformat(on) if on else date.today()
    table = Table(title=f"Watchlist on {day}")
    for name in ("entry", "subject", "message", "from", "action", "valid"):
        table.add_column(name)
    for e in audited_active_entries(db, _cli_actor(), day, purpose):
        table.add_row(
            str(e.id), describe(e), f"{e.source_label} {e.message_id}", e.sender_agency,
            e.suggested_action.value, f"{e.valid_from} to {e.valid_until}",
        )  # fmt: skip
    console.print(table)


@watchlist_app.command("expire")
def watchlist_expire(
    message: Annotated[str, typer.Argument(help="Id of the alert or notice.")],
    reason: Annotated[str, typer.Option(help="Why its entries end (audited).")],
    on: Annotated[str | None, typer.Option(help="First day without them (default today).")] = None,
    kind: Annotated[
        EntityKind | None, typer.Option(help="Only the entries on this kind of subject.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """End a message's entries from a day on (earlier days keep them for back-tests)."""
    db = _open(database, upgrade=True)
    day = date.fromisoformat(on) if on else date.today()
    try:
        ended = audited_expire(db, _cli_actor(), message, day, reason, kind)
    except ValueError as exc:
        raise _fail(exc) from exc
    console.print(f"{len(ended)} entries of {message} end on {day}")


@watchlist_app.command("close")
def watchlist_close(
    message: Annotated[str, typer.Argument(help="Id of your agency's alert or notice.")],
    outcome: Annotated[Outcome, typer.Option(help="seized or false_match.")],
    reason: Annotated[str, typer.Option(help="What was seized, or why the match was false.")],
    user: UserOption,
    on: Annotated[str | None, typer.Option(help="First day without them (default today).")] = None,
    kind: Annotated[
        EntityKind | None, typer.Option(help="Only the entries on this kind of subject.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """End the entries of your agency's alert or notice on its feedback: the subject was
    seized, or it was a false match (audited)."""
    db = _open(database, upgrade=True)
    day = date.fromisoformat(on) if on else date.today()
    with _mailbox_errors():
        ended = close_on_feedback(db, _mailbox_user(db, user), message, outcome, day, reason,
                                  entity_kind=kind)  # fmt: skip
    console.print(f"{len(ended)} entries of {message} end on {day} ({outcome.value})")


@watchlist_app.command("drafts")
def watchlist_drafts(database: DatabaseOption = None) -> None:
    """Sighting replies drafted from targeting hits, waiting to be sent (audited)."""
    db = _open(database, upgrade=True)
    for draft in audited_pending_drafts(db, _cli_actor()):
        console.print(
            f"[bold]draft {draft.id}[/bold] to {draft.addressee}, in reply to "
            f"{draft.message_id} (run {draft.run_id}): {draft.message.subject}"
        )
        console.print(draft.message.facts)


@watchlist_app.command("send")
def watchlist_send(
    draft_id: Annotated[int, typer.Argument(help="The draft's id (`redlane watchlist drafts`).")],
    user: UserOption,
    facts: Annotated[str | None, typer.Option(help="Your facts, in place of the drafted.")] = None,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Send a sighting draft as a reply in the thread of the alert or notice it answers."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        sent = send_draft(db, _mailbox_user(db, user), draft_id, facts=facts, kek=_kek_file(kek))
    console.print(f"draft {draft_id} sent as {sent.id} to {', '.join(sent.addressees)}")


@watchlist_app.command("discard")
def watchlist_discard(
    draft_id: Annotated[int, typer.Argument(help="The draft's id (`redlane watchlist drafts`).")],
    reason: Annotated[str, typer.Option(help="Why it is not sent (audited).")],
    database: DatabaseOption = None,
) -> None:
    """Drop a sighting draft without sending it; its targets are not drafted again."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        discard_draft(db, _cli_actor(), draft_id, reason)
    console.print(f"draft {draft_id} discarded")


# --- exchange: retention -------------------------------------------------------------------

retention_app = typer.Typer(
    help="Retention of alerts and personal data: yearly review, restriction, erasure."
)
app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(
    now: Annotated[
        datetime | None, typer.Option(help="Apply what is due at this time (ISO; default now).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Send the review notices due, restrict the messages past review, erase those
    restricted for a year; prints what was done."""
    db = _open(database, upgrade=True)
    with _mailbox_errors():
        report = retention.run(db, _cli_actor(), now)
    console.print(f"retention at {report.now:%Y-%m-%d %H:%M} UTC")
    for step in ("dated", "noticed", "restricted", "erased"):
        ids = getattr(report, step)
        console.print(f"{step}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))


@retention_app.command("review")
def retention_review(
    message_id: str,
    user: UserOption,
    purpose: MessagePurpose,
    keep: Annotated[bool, typer.Option("--keep", help="Keep: next review in 12 months.")] = False,
    erase: Annotated[bool, typer.Option("--erase", help="Erase now (keys destroyed).")] = False,
    database: DatabaseOption = None,
) -> None:
    """Decide on a message your agency sent: keep it another year, or erase it now."""
    if keep == erase:
        raise _fail(ValueError("decision: give one of --keep or --erase"))
    db = _open(database)
    with _mailbox_errors():
        done = retention.review(db, _mailbox_user(db, user), message_id,
                                "keep" if keep else "erase", purpose)  # fmt: skip
    if done.next_review is not None:
        console.print(f"{message_id} kept; next review {done.next_review:%Y-%m-%d}")
    else:
        console.print(f"{message_id} erased")


@retention_app.command("notices")
def retention_notices(
    user: UserOption,
    all_: Annotated[bool, typer.Option("--all", help="Decided ones too.")] = False,
    database: DatabaseOption = None,
) -> None:
    """Review notices to your agency and desks (pending ones unless --all)."""
    db = _open(database)
    with _mailbox_errors():
        rows = retention.notices(db, _mailbox_user(db, user), pending=not all_)
    table = Table(title=f"Review notices for {user}")
    for name in ("message", "kind", "sent", "review due", "noticed"):
        table.add_column(name)
    for r in rows:
        table.add_row(r.message_id, r.kind.value, f"{r.sent_at:%Y-%m-%d}",
                      f"{r.review_due:%Y-%m-%d}", f"{r.at:%Y-%m-%d}")  # fmt: skip
    console.print(table)


# --- exchange: hit/no-hit queries ----------------------------------------------------------

hits_app = typer.Typer(
    help="Hit/no-hit queries: does another agency hold something on an entity? Its holder "
    "releases the messages, or declines."
)
app.add_typer(hits_app, name="hits")


@contextmanager
def _hits_errors() -> Iterator[None]:
    try:
        with _mailbox_errors():
            yield
    except (hits.HitNotFound, hits.AlreadyDecided) as exc:
        raise _fail(exc) from exc


@hits_app.command("ask")
def hits_ask(
    entity: Annotated[str, typer.Argument(help="KIND:IDENTIFIER, e.g. container:MSCU1234567.")],
    user: UserOption,
    purpose: MessagePurpose,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Ask whether another agency holds something on ENTITY: hit/no-hit and the holders."""
    db = _open(database)
    with _hits_errors():
        asked = hits.ask(db, _mailbox_user(db, user), entity, purpose, kek=_kek_file(kek))
    holders = f"hit: {', '.join(asked.holders)}" if asked.hit else "no hit"
    console.print(f"query {asked.id}: {holders}", markup=False)


@hits_app.command("pending")
def hits_pending(user: UserOption, database: DatabaseOption = None) -> None:
    """Hits against your agency waiting for a decision (audited)."""
    db = _open(database)
    with _hits_errors():
        rows = hits.pending_hits(db, _mailbox_user(db, user))
    table = Table(title=f"Pending hits for {user}")
    for name in ("hit", "asked", "by", "agency", "entity", "purpose", "messages"):
        table.add_column(name)
    for h in rows:
        table.add_row(h.id, f"{h.asked_at:%Y-%m-%d %H:%M}", h.asked_by, h.asker_agency,
                      h.entity_kind.value, h.purpose, " ".join(h.message_ids))  # fmt: skip
    console.print(table)


@hits_app.command("release")
def hits_release(
    hit_id: str,
    user: UserOption,
    purpose: MessagePurpose,
    kek: KekOption = None,
    database: DatabaseOption = None,
) -> None:
    """Forward a hit's messages to the asking agency (the sender's handling applies)."""
    db = _open(database)
    with _hits_errors():
        done = hits.release(db, _mailbox_user(db, user), hit_id, purpose, kek=_kek_file(kek))
    console.print(f"hit {hit_id} released to {done.to}: {len(done.forwarded)} forwarded",
                  markup=False)  # fmt: skip
    for message_id, rule in done.refused.items():
        console.print(f"not forwarded: {message_id} ({rule})", markup=False)


@hits_app.command("decline")
def hits_decline(
    hit_id: str,
    user: UserOption,
    reason: Annotated[str, typer.Option(help="Why you decline (audited).")],
    database: DatabaseOption = None,
) -> None:
    """Decline a hit: nothing is forwarded."""
    db = _open(database)
    with _hits_errors():
        done = hits.decline(db, _mailbox_user(db, user), hit_id, reason)
    console.print(f"hit {hit_id} declined ({done.to} asked)", markup=False)


@hits_app.command("mine")
def hits_mine(user: UserOption, database: DatabaseOption = None) -> None:
    """Your agency's queries, each with its holders' states."""
    db = _open(database)
    with _hits_errors():
        rows = hits.my_queries(db, _mailbox_user(db, user))
    table = Table(title=f"Queries of {user}'s agency")
    for name in ("query", "asked", "by", "entity", "purpose", "holders"):
        table.add_column(name)
    for q in rows:
        holders = ", ".join(f"{a}: {s}" for a, s in q.holders.items()) or "no hit"
        table.add_row(q.id, f"{q.asked_at:%Y-%m-%d %H:%M}", q.asked_by, q.entity_kind.value,
                      q.purpose, holders)  # fmt: skip
    console.print(table)


if __name__ == "__main__":
    app()
