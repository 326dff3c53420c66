"""A targeting run: stored targets of a window scored, selected and recorded with reasons."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from pydantic import Field, ValidationError
from sqlalchemy import insert, select

from redlane.model.base import RedlaneModel
from redlane.security import audit
from redlane.security.accounts import Actor, Capability, require
from redlane.store.database import Database
from redlane.store.schema import selections, targeting_runs
from redlane.targeting.catalogue import TargetKind
from redlane.targeting.criteria import ReferenceLists
from redlane.targeting.engine import DuckDBEngine, Engine, Thresholds
from redlane.targeting.features import Window, features_for
from redlane.targeting.profiles import RiskProfile, Status
from redlane.targeting.selection import SelectionSettings
from redlane.targeting.selection import select as select_targets

ProgressCallback = Callable[[str, int, int], None]


class SettingsFile(RedlaneModel):
    """What a selection settings file may say; anything else is refused by name."""

    random_rate: float = Field(default=0.005, ge=0, le=1)
    random_rates: dict[str, float] = Field(default_factory=dict)
    capacity: int = Field(default=80, ge=0)
    capacities: dict[str, int] = Field(default_factory=dict)
    red_score: int = Field(default=100, ge=1)
    yellow_score: int = Field(default=60, ge=1)


def load_settings(path: Path) -> tuple[SelectionSettings, Thresholds]:
    """Selection settings and score thresholds from YAML; a wrong key or value stops here,
    named, instead of silently falling back to a default."""
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        parsed = SettingsFile.model_validate(data)
        settings = SelectionSettings(
            parsed.random_rate, parsed.random_rates, parsed.capacity, parsed.capacities
        )
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the settings: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"{path}: {problems}") from exc
    return settings, Thresholds(red=parsed.red_score, yellow=parsed.yellow_score)


@dataclass(frozen=True)
class TargetingRun:
    run_id: int
    targets: dict[str, int]
    selections: pa.Table
    profiles: list[RiskProfile]


def usable(profiles: Sequence[RiskProfile]) -> list[RiskProfile]:
    """Profiles an engine may run: approved or active (their dates are checked per target)."""
    return [p for p in profiles if p.status in (Status.APPROVED, Status.ACTIVE)]


def _window_text(window: Window) -> str:
    return json.dumps(
        {
            "since": window.since.isoformat() if window.since else None,
            "until": window.until.isoformat() if window.until else None,
            "batch_ids": list(window.batch_ids),
        }
    )


def score_window(
    db: Database,
    engine: Engine,
    window: Window,
    kinds: Sequence[TargetKind] | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[pa.Table, dict[str, int]]:
    """Scores of every stored target in the window, all kinds concatenated."""
    wanted: Sequence[TargetKind] = kinds or sorted({p.target for p in engine.compiled.profiles})
    parts = []
    counts: dict[str, int] = {}
    for step, kind in enumerate(wanted):
        features = features_for(db, kind, window)
        counts[kind] = features.num_rows
        parts.append(engine.score(kind, features))
        if on_progress:
            on_progress("targeting", step + 1, len(wanted))
    if not parts:
        return pa.table({}), counts
    return pa.concat_tables(parts, promote_options="permissive"), counts


def target(
    db: Database,
    profiles: Sequence[RiskProfile],
    window: Window,
    *,
    settings: SelectionSettings | None = None,
    thresholds: Thresholds | None = None,
    lists: ReferenceLists | None = None,
    seed: int = 1,
    on_progress: ProgressCallback | None = None,
) -> TargetingRun:
    """Score the window's targets against the profiles in force, select, and store the run."""
    settings = settings or SelectionSettings()
    active = usable(profiles)
    engine = DuckDBEngine(active, lists, thresholds)
    scored, counts = score_window(db, engine, window, on_progress=on_progress)
    chosen = select_targets(scored, engine, settings, seed) if scored.num_rows else None
    table = chosen if chosen is not None else pa.table({})
    run_id = _store_run(db, window, active, settings, seed, counts, table)
    return TargetingRun(run_id, counts, table, active)


def _store_run(
    db: Database,
    window: Window,
    profiles: Sequence[RiskProfile],
    settings: SelectionSettings,
    seed: int,
    counts: dict[str, int],
    table: pa.Table,
) -> int:
    with db.engine.begin() as conn:
        result = conn.execute(
            insert(targeting_runs).values(
                started_at=datetime.now(UTC),
                window=_window_text(window),
                profiles=json.dumps([[p.id, p.version] for p in profiles]),
                settings=json.dumps(settings.as_dict()),
                seed=seed,
                targets=sum(counts.values()),
                selected=table.num_rows,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        run_id = int(key[0])
        if table.num_rows:
            rows: list[dict[str, Any]] = table.to_pylist()
            for row in rows:
                row["run_id"] = run_id
            conn.execute(insert(selections), rows)
    return run_id


def worklist(db: Database, run_id: int | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Red selections to control, highest score first (random draws after), with reasons."""
    query = select(selections).where(selections.c.lane == "red", selections.c.status == "selected")
    if run_id is not None:
        query = query.where(selections.c.run_id == run_id)
    query = query.order_by(selections.c.score.desc(), selections.c.id).limit(limit)
    with db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["reasons"] = json.loads(row["reasons"])
    return rows


def reason_text(reason: dict[str, Any]) -> str:
    """One reason as an officer reads it: 'SEA-ALERT v1 (+100) On a CIS alert or mode notice,
    cites NL-MAR-0042 (specific_check)' or 'random control-group draw'."""
    if "profile" not in reason:
        return "random control-group draw"
    text = (
        f"{reason['profile']} v{reason['version']} (+{reason['weight']}) {reason.get('title', '')}"
    )
    cites = reason.get("cites")
    if cites:
        more = [m for m in cites.get("messages") or [] if m != cites["message"]]
        also = f", also {', '.join(more)}" if more else ""
        text += f", cites {cites['message']} ({cites.get('suggested_action')}{also})"
    return text


#: The purpose the audit log records for a worklist read when the reader gives none.
WORKLIST_PURPOSE = "control selection (worklist)"


def audited_worklist(
    db: Database,
    actor: Actor,
    purpose: str = WORKLIST_PURPOSE,
    run_id: int | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """`worklist` for someone: needs the read_worklist capability, and the read is audited
    (who, why, which selections), since selections name travellers and traders."""
    require(actor, Capability.READ_WORKLIST)
    rows = worklist(db, run_id, limit)
    details = {"run_id": run_id, "limit": limit, "selections": [row["id"] for row in rows]}
    audit.record(db, actor, audit.Action.READ, purpose, "worklist", run_id or "all", details)
    return rows
