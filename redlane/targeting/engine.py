"""The scoring engine: every profile in force, compiled once, run over a batch in one pass.

All profiles of a target kind become one query over the feature table: each profile is one
`CASE WHEN <mode, scope, validity and criteria> THEN <its index> END` in a list, so a batch
of a million targets is scored by one vectorised pass. The plan is compiled again only when
the profiles or the reference lists change. Scores, hits and lanes are then summed and ranked
with numpy, the same way for a batch and for one record (`score_one`).

Engines share one small interface (`Engine`): DuckDB over Arrow is the embedded default;
the same compiled SQL text is what a Spark engine runs (criteria compile to both dialects).
A single record runs through closures compiled once from the same validated criteria
(`redlane.targeting.closures`), because planning a query over hundreds of profiles costs
more than scoring one record; tests and the benchmark check that both give the same hits.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from redlane.targeting.catalogue import (
    CATALOGUE,
    CITED_FIELDS,
    TARGET_KINDS,
    WATCHLIST_FIELDS,
    TargetKind,
)
from redlane.targeting.closures import ClosureCompiler, Record
from redlane.targeting.criteria import Dialect, ReferenceLists
from redlane.targeting.profiles import (
    LANE_STRENGTH,
    MODE_TARGETS,
    Lane,
    RiskProfile,
    default_lists,
)

LANES = (Lane.GREEN, Lane.YELLOW, Lane.RED)  # by strength

_WATCHLIST_NAMES = frozenset(name for fields in WATCHLIST_FIELDS.values() for name in fields)

_MODE_OF: dict[TargetKind, str] = {
    "consignment": '"mode"',
    "traveller": "'air-passenger'",
    "movement": '"conveyance_kind"',
}


@dataclass(frozen=True)
class Thresholds:
    """Scores from which a target goes to a lane whatever its hits' own actions say."""

    red: int = 100
    yellow: int = 60


@dataclass(frozen=True)
class Hit:
    profile_id: str
    version: int
    weight: int
    lane: str
    title: str
    rationale: str
    suggested_action: str | None
    cites_watchlist: bool = False
    """The profile reads a watchlist field: its reason cites the alert or notice matched."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile_id,
            "version": self.version,
            "title": self.title,
            "weight": self.weight,
            "lane": self.lane,
            "rationale": self.rationale,
            "suggested_action": self.suggested_action,
        }


@dataclass(frozen=True)
class TargetScore:
    target_kind: str
    target_id: int
    target_ref: str
    score: int
    lane: str
    hits: tuple[Hit, ...]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def profile_condition(profile: RiskProfile, lists: ReferenceLists, dialect: Dialect) -> str:
    """The whole condition of one profile: its mode, scope, validity and criteria."""
    quote = "`" if dialect == "spark" else '"'

    def column(name: str) -> str:
        return f"{quote}{name}{quote}"

    parts = []
    narrowing = MODE_TARGETS[profile.mode][1]
    if narrowing is not None:
        parts.append(f"{column(narrowing[0])} = {_quote(narrowing[1])}")
    if profile.scope.offices:
        offices = ", ".join(_quote(o) for o in profile.scope.offices)
        parts.append(f"{column('office')} IN ({offices})")
    parts.append(f"{column('day')} >= DATE {_quote(profile.valid_from.isoformat())}")
    if profile.valid_to is not None:
        parts.append(f"{column('day')} <= DATE {_quote(profile.valid_to.isoformat())}")
    parts.append(profile.compiled(lists).sql(dialect))
    return " AND ".join(f"({p})" for p in parts)


def profile_closure(profile: RiskProfile, lists: ReferenceLists) -> Callable[[Record], bool]:
    """The same condition as `profile_condition`, as a closure over one record."""
    criteria = ClosureCompiler(lists).compile(profile.compiled(lists).tree)
    narrowing = MODE_TARGETS[profile.mode][1]
    offices = frozenset(profile.scope.offices)
    first, last = profile.valid_from, profile.valid_to

    def hit(record: Record) -> bool:
        if narrowing is not None and record.get(narrowing[0]) != narrowing[1]:
            return False
        if offices and record.get("office") not in offices:
            return False
        day = record.get("day")
        if day is None or day < first or (last is not None and day > last):
            return False
        return criteria(record) is True

    return hit


class CompiledProfiles:
    """The profiles in force, grouped by target kind, with their compiled hit query."""

    def __init__(
        self, profiles: Sequence[RiskProfile], lists: ReferenceLists, dialect: Dialect
    ) -> None:
        self.profiles = list(profiles)
        self.weights = np.array([p.weight for p in self.profiles], dtype=np.int64)
        self.lanes = np.array([LANE_STRENGTH[p.action.lane] for p in self.profiles], np.int8)
        self.hits = [
            Hit(
                p.id,
                p.version,
                p.weight,
                p.action.lane.value,
                p.title,
                p.rationale,
                p.action.suggested_action.value if p.action.suggested_action else None,
                bool(p.compiled(lists).fields & _WATCHLIST_NAMES),
            )
            for p in self.profiles
        ]
        self.sql: dict[TargetKind, str] = {}
        self.closures: dict[TargetKind, list[tuple[int, Callable[[Record], bool]]]] = {
            kind: [
                (i, profile_closure(p, lists))
                for i, p in enumerate(self.profiles)
                if p.target == kind
            ]
            for kind in TARGET_KINDS
        }
        for kind in TARGET_KINDS:
            cases = [
                f"CASE WHEN {profile_condition(p, lists, dialect)} THEN {i} END"
                for i, p in enumerate(self.profiles)
                if p.target == kind
            ]
            mode = _MODE_OF[kind] if dialect == "duckdb" else _MODE_OF[kind].replace('"', "`")
            quote = '"' if dialect == "duckdb" else "`"
            # the cited watchlist fields ride along, so reasons can name the message matched
            cited = "".join(
                f", {quote}{name}{quote}" for name in CITED_FIELDS if name in CATALOGUE[kind]
            )
            if dialect == "duckdb":
                listed = "[" + ", ".join(cases) + "]::INTEGER[]"
                hits = f"list_filter({listed}, lambda h_: h_ IS NOT NULL)"
            else:
                listed = "array(" + ", ".join(f"CAST({c} AS INT)" for c in cases) + ")"
                hits = f"filter({listed}, h_ -> h_ IS NOT NULL)" if cases else "array()"
            self.sql[kind] = (
                "SELECT target_kind, target_id, target_ref, office, day, "
                f"{mode} AS mode, {hits} AS hits{cited} FROM features"
            )


class Engine(ABC):
    """Scores feature tables against the profiles in force; one plan per set of profiles."""

    def __init__(
        self,
        profiles: Sequence[RiskProfile],
        lists: ReferenceLists | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.lists = default_lists() if lists is None else lists
        self.thresholds = thresholds or Thresholds()
        self._key: tuple[tuple[str, int, str], ...] | None = None
        self.compiled = self._compile(profiles)

    def _compile(self, profiles: Sequence[RiskProfile]) -> CompiledProfiles:
        self._key = tuple((p.id, p.version, p.content_hash()) for p in profiles)
        return CompiledProfiles(profiles, self.lists, self.dialect)

    def update(self, profiles: Sequence[RiskProfile]) -> bool:
        """Use these profiles from now on; compiles only if they changed. True if it did."""
        key = tuple((p.id, p.version, p.content_hash()) for p in profiles)
        if key == self._key:
            return False
        self.compiled = self._compile(profiles)
        return True

    dialect: Dialect = "duckdb"

    @abstractmethod
    def hits(self, kind: TargetKind, features: pa.Table) -> pa.Table:
        """Per target: key columns, office, day, mode and the list of hit profile indices."""

    def score(self, kind: TargetKind, features: pa.Table) -> pa.Table:
        """Per target: key columns, office, day, mode, score, lane and hits (indices)."""
        hit_table = self.hits(kind, features)
        return self._ranked(hit_table)

    def _ranked(self, hit_table: pa.Table) -> pa.Table:
        hits = hit_table.column("hits").combine_chunks()
        offsets = hits.offsets.to_numpy()
        flat = hits.values.to_numpy(zero_copy_only=False).astype(np.int64)
        rows = np.repeat(np.arange(len(hits)), np.diff(offsets))
        n = len(hits)
        score = np.bincount(rows, weights=self.compiled.weights[flat], minlength=n).astype(np.int64)
        strongest = np.zeros(n, dtype=np.int8)
        if len(flat):
            np.maximum.at(strongest, rows, self.compiled.lanes[flat])
        strongest = np.where(np.diff(offsets) > 0, strongest, LANE_STRENGTH[Lane.GREEN])
        by_score = np.where(
            score >= self.thresholds.red,
            LANE_STRENGTH[Lane.RED],
            np.where(score >= self.thresholds.yellow, LANE_STRENGTH[Lane.YELLOW], 0),
        )
        lane_index = np.maximum(strongest, by_score)
        lanes = np.array([lane.value for lane in LANES])[lane_index]
        return hit_table.append_column("score", pa.array(score)).append_column(
            "lane", pa.array(lanes)
        )

    def reasons(self, hit_indices: Sequence[int]) -> list[Hit]:
        """The hits of one target, strongest first (lane, then weight)."""
        hits = [self.compiled.hits[i] for i in hit_indices]
        return sorted(hits, key=lambda h: (-LANE_STRENGTH[Lane(h.lane)], -h.weight, h.profile_id))

    def score_one(
        self, kind: TargetKind, record: Mapping[str, Any], schema: pa.Schema | None = None
    ) -> TargetScore:
        """One target's score from the same compiled profiles, run as closures: planning a
        query costs more than scoring one record. Batch and single record agree (tested)."""
        hits = [i for i, hit in self.compiled.closures[kind] if hit(record)]
        one = pa.table(
            {
                "target_kind": [record.get("target_kind")],
                "target_id": pa.array([record.get("target_id")], pa.int64()),
                "target_ref": [record.get("target_ref")],
                "hits": pa.array([hits], pa.list_(pa.int32())),
            }
        )
        row = self._ranked(one).to_pylist()[0]
        return TargetScore(
            row["target_kind"],
            row["target_id"],
            row["target_ref"],
            int(row["score"]),
            row["lane"],
            tuple(self.reasons(hits)),
        )


class DuckDBEngine(Engine):
    """The embedded engine: DuckDB over Arrow, one connection per thread."""

    dialect: Dialect = "duckdb"

    def __init__(
        self,
        profiles: Sequence[RiskProfile],
        lists: ReferenceLists | None = None,
        thresholds: Thresholds | None = None,
        threads: int = 2,
    ) -> None:
        self._threads = threads
        self._local = threading.local()
        super().__init__(profiles, lists, thresholds)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con: duckdb.DuckDBPyConnection | None = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect(config={"threads": self._threads})
            self._local.con = con
        return con

    def hits(self, kind: TargetKind, features: pa.Table) -> pa.Table:
        con = self._connection()
        con.register("features", features)
        try:
            return con.sql(self.compiled.sql[kind]).to_arrow_table()
        finally:
            con.unregister("features")


def hit_mask(scored: pa.Table) -> npt.NDArray[np.bool_]:
    """Targets with at least one hit."""
    return np.asarray(
        pc.greater(pc.list_value_length(scored.column("hits")), 0).to_numpy(zero_copy_only=False)
    )
