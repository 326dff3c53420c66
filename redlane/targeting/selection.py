"""Structured selection: lanes from hits and scores, a random control group, inspection capacity.

The order follows ASYCUDA selectivity: criteria first (the strongest action among a target's
hits, or the score thresholds), then a random share per office and mode drawn uniformly from
what was not selected (seeded and recorded as `random`, so there is an unbiased control group),
then capacity: per office and day, when red selections exceed the physical controls available,
the highest scores keep red and the rest are recorded `over_capacity`, never dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redlane.targeting.catalogue import CITED_FIELDS
from redlane.targeting.engine import Engine

METHOD_PROFILES = "profiles"
METHOD_RANDOM = "random"
STATUS_SELECTED = "selected"
STATUS_OVER_CAPACITY = "over_capacity"


@dataclass(frozen=True)
class SelectionSettings:
    """Random shares per mode and physical-control capacity per office and day."""

    random_rate: float = 0.005
    """Share of each office's and mode's targets drawn at random from the not-selected."""
    random_rates: Mapping[str, float] = field(default_factory=dict)
    """Per mode (sea, air, road, air-passenger, yacht, truck...), overriding random_rate."""
    capacity: int = 80
    """Physical controls (red lane) per office and day."""
    capacities: Mapping[str, int] = field(default_factory=dict)
    """Per office, overriding capacity."""

    def __post_init__(self) -> None:
        for name, rate in [("random_rate", self.random_rate), *self.random_rates.items()]:
            if not 0 <= rate <= 1:
                raise ValueError(f"random rate {name}: {rate} is not between 0 and 1")
        for name, cap in [("capacity", self.capacity), *self.capacities.items()]:
            if cap < 0:
                raise ValueError(f"capacity {name}: {cap} is negative")

    def as_dict(self) -> dict[str, Any]:
        return {
            "random_rate": self.random_rate,
            "random_rates": dict(self.random_rates),
            "capacity": self.capacity,
            "capacities": dict(self.capacities),
        }


def _group_seed(seed: int, *parts: str) -> int:
    digest = hashlib.sha256("\x1f".join([str(seed), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def select(scored: pa.Table, engine: Engine, settings: SelectionSettings, seed: int) -> pa.Table:
    """The selections among scored targets, one row per selected target, with its reasons.

    `scored` is what `Engine.score` returns (any target kinds, concatenated).
    """
    n = scored.num_rows
    lanes = scored.column("lane").to_numpy(zero_copy_only=False).astype(str)
    scores = scored.column("score").to_numpy()
    offices = scored.column("office").to_numpy(zero_copy_only=False).astype(str)
    modes = scored.column("mode").to_numpy(zero_copy_only=False).astype(str)
    days = pc.cast(scored.column("day"), pa.string()).to_numpy(zero_copy_only=False).astype(str)
    # object arrays: fixed-width numpy strings would cut "over_capacity" to the width of "selected"
    method = np.where(lanes != "green", METHOD_PROFILES, "").astype(object)
    status = np.where(lanes != "green", STATUS_SELECTED, "").astype(object)
    lane = lanes.astype(object)

    # Random control group, per office, mode and day, from the targets not selected.
    group = np.char.add(np.char.add(np.char.add(offices, "\x1f"), modes), np.char.add("\x1f", days))
    keys, inverse = np.unique(group, return_inverse=True)
    for g, key in enumerate(keys):
        members = np.flatnonzero(inverse == g)
        office, mode, day = key.split("\x1f")
        rate = settings.random_rates.get(mode, settings.random_rate)
        draws = round(rate * len(members))
        pool = members[lanes[members] == "green"]
        if draws and len(pool):
            rng = np.random.default_rng(_group_seed(seed, office, mode, day))
            chosen = rng.choice(pool, size=min(draws, len(pool)), replace=False)
            method[chosen] = METHOD_RANDOM
            status[chosen] = STATUS_SELECTED
            lane[chosen] = "red"

    # Capacity per office and day: random draws are kept (they are the control group);
    # profile selections fill what is left, highest score first.
    place_day = np.char.add(np.char.add(offices, "\x1f"), days)
    places, where = np.unique(place_day, return_inverse=True)
    for g, key in enumerate(places):
        office = key.split("\x1f")[0]
        capacity = settings.capacities.get(office, settings.capacity)
        members = np.flatnonzero(where == g)
        red = members[lane[members] == "red"]
        taken = int((method[red] == METHOD_RANDOM).sum())
        ruled = red[method[red] == METHOD_PROFILES]
        room = max(capacity - taken, 0)
        if len(ruled) > room:
            ranked = ruled[
                np.lexsort((scored.column("target_id").to_numpy()[ruled], -scores[ruled]))
            ]
            status[ranked[room:]] = STATUS_OVER_CAPACITY

    chosen = np.flatnonzero(method != "")
    take = pa.array(chosen, pa.int64())
    hits = scored.column("hits").take(take).to_pylist()
    citations = _citations(scored, take)
    reasons = [
        json.dumps(
            _profile_reasons(engine, hits[n], citations[n])
            if method[i] == METHOD_PROFILES
            else [{"method": METHOD_RANDOM, "seed": seed}]
        )
        for n, i in enumerate(chosen)
    ]
    suggested = [_suggested(engine, hits[n], citations[n]) for n in range(len(chosen))]
    return (
        pa.table(
            {
                "target_kind": scored.column("target_kind").take(take),
                "target_id": scored.column("target_id").take(take),
                "target_ref": scored.column("target_ref").take(take),
                "office": scored.column("office").take(take),
                "mode": scored.column("mode").take(take),
                "day": scored.column("day").take(take),
                "lane": pa.array(lane[chosen]),
                "method": pa.array(method[chosen]),
                "status": pa.array(status[chosen]),
                "score": scored.column("score").take(take),
                "suggested_action": pa.array(suggested, pa.string()),
                "reasons": pa.array(reasons, pa.string()),
            }
        )
        if n
        else _empty()
    )


def _citations(scored: pa.Table, take: pa.Array) -> list[dict[str, Any] | None]:
    """Per chosen target, the alert or notice it matched on the watchlist (None if none)."""
    if "alert_ref" not in scored.column_names:
        return [None] * len(take)
    rows = scored.select([c for c in CITED_FIELDS if c in scored.column_names]).take(take)
    return [
        {
            "message": row["alert_ref"],
            "suggested_action": row.get("alert_action"),
            "messages": row.get("alert_refs") or [row["alert_ref"]],
        }
        if row["alert_ref"]
        else None
        for row in rows.to_pylist()
    ]


def _profile_reasons(
    engine: Engine, hit_indices: list[int], citation: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The hits as reasons; a hit of a watchlist profile cites the message it matched."""
    return [
        {**h.as_dict(), "cites": citation} if citation and h.cites_watchlist else h.as_dict()
        for h in engine.reasons(hit_indices)
    ]


def _suggested(
    engine: Engine, hit_indices: list[int], citation: dict[str, Any] | None = None
) -> str | None:
    """What to do with the target: what the matched alert or notice asks, when a watchlist
    profile selected it (the sender's request comes first), else the strongest hit's action."""
    reasons = engine.reasons(hit_indices)
    if citation and citation["suggested_action"] and any(h.cites_watchlist for h in reasons):
        return str(citation["suggested_action"])
    for hit in reasons:
        if hit.suggested_action:
            return hit.suggested_action
    return None


def _empty() -> pa.Table:
    return pa.table(
        {
            name: pa.array([], t)
            for name, t in [
                ("target_kind", pa.string()), ("target_id", pa.int64()),
                ("target_ref", pa.string()), ("office", pa.string()), ("mode", pa.string()),
                ("day", pa.date32()), ("lane", pa.string()), ("method", pa.string()),
                ("status", pa.string()), ("score", pa.int64()),
                ("suggested_action", pa.string()), ("reasons", pa.string()),
            ]
        }
    )  # fmt: skip
