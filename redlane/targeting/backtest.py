"""Back-test: what a (draft) profile would have selected in stored history, and how well.

The profile runs alone, whatever its status, over the stored targets of a period; the targets
it hits are joined with the control results known for them. The hit rate among those that were
controlled is compared with the random control group of the same period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select

from redlane.store.database import Database
from redlane.store.repository import fetch_arrow, fetch_arrow_in
from redlane.store.schema import control_results, selections
from redlane.targeting.criteria import ReferenceLists
from redlane.targeting.engine import DuckDBEngine, hit_mask
from redlane.targeting.features import Window, features_for
from redlane.targeting.feedback import lift_interval
from redlane.targeting.profiles import RiskProfile


@dataclass(frozen=True)
class Backtest:
    profile_id: str
    version: int
    since: date
    until: date
    targets: int
    selected: int
    controlled: int
    hits: int
    random_controlled: int
    random_hits: int
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    examples: list[str]
    """References of the first selected targets that had a seizure, then of others."""

    @property
    def selection_rate(self) -> float:
        return self.selected / self.targets if self.targets else 0.0

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.controlled if self.controlled else None


def backtest(
    db: Database,
    profile: RiskProfile,
    since: date,
    until: date,
    lists: ReferenceLists | None = None,
) -> Backtest:
    """Run `profile` alone over the stored targets of [since, until)."""
    engine = DuckDBEngine([profile], lists)
    features = features_for(db, profile.target, Window(since=since, until=until))
    scored = engine.score(profile.target, features)
    hit = hit_mask(scored)
    refs = np.asarray(scored.column("target_ref").to_numpy(zero_copy_only=False)).astype(str)
    chosen = [str(r) for r in refs[hit]]
    random_refs = (
        fetch_arrow(
            db,
            select(selections.c.target_ref).where(
                selections.c.method == "random",
                selections.c.target_kind == profile.target,
                selections.c.day >= since,
                selections.c.day < until,
            ),
        )
        .column(0)
        .to_pylist()
    )
    # The results of just these targets: a seizure in any of a target's controls counts.
    results = fetch_arrow_in(
        db,
        select(control_results.c.target_ref, control_results.c.outcome).where(
            control_results.c.target_kind == profile.target
        ),
        control_results.c.target_ref,
        [*chosen, *random_refs],
    ).to_pylist()
    outcomes: dict[str, bool] = {}
    for row in results:
        outcomes[row["target_ref"]] = outcomes.get(row["target_ref"], False) or (
            row["outcome"] == "seizure"
        )
    controlled = [r for r in chosen if r in outcomes]
    seized = [r for r in controlled if outcomes[r]]
    random_controlled = sorted({r for r in random_refs if r in outcomes})
    random_hits = sum(outcomes[r] for r in random_controlled)
    lift = lift_interval(len(seized), len(controlled), random_hits, len(random_controlled))
    found = set(seized)
    others = [r for r in chosen if r not in found]
    return Backtest(
        profile.id, profile.version, since, until, int(scored.num_rows), int(hit.sum()),
        len(controlled), len(seized), len(random_controlled), random_hits, *lift,
        examples=(seized + others)[:10],
    )  # fmt: skip
