"""The planted trafficking patterns (targeting-practice §7.2), their rates and the ground truth.

Each contraband pattern comes with innocent look-alikes that share most of its signal, so no
single field separates them: the targeting engine has to combine indicators, as §7.2 demands.
Nationality is never part of a pattern: couriers are drawn from the same nationality mix as
everybody else on their flight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo.rng import RecordRng

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
StrArray = npt.NDArray[np.str_]

#: Pattern name -> (target kind, contraband?). Look-alikes are never contraband.
PATTERNS: dict[str, tuple[str, bool]] = {
    # sea containers (§7.2 A)
    "sea_cover_load": ("consignment", True),
    "sea_rip_on_rip_off": ("consignment", True),
    "sea_new_importer_fruit": ("consignment", False),
    "sea_third_party_freight": ("consignment", False),
    "sea_reseal": ("consignment", False),
    # air cargo (§7.2 B)
    "air_walk_in_perishables": ("consignment", True),
    "air_private_consignee": ("consignment", False),
    "air_walk_in_company": ("consignment", False),
    # air passengers (§7.2 C)
    "pax_courier": ("traveller", True),
    "pax_late_card": ("traveller", False),
    "pax_cash_normal_route": ("traveller", False),
    # yachts (§7.2 D)
    "yacht_recent_purchase": ("movement", True),
    "yacht_long_owned_crew2": ("movement", False),
    "yacht_recent_purchase_med": ("movement", False),
    # trucks (§7.2 E)
    "truck_balkan_cover_load": ("movement", True),
    "truck_new_haulier": ("movement", False),
    "truck_low_value_load": ("movement", False),
}


@dataclass(frozen=True)
class Rates:
    """Share of the relevant population that carries each pattern.

    Sea rates are per sea consignment, air cargo rates per air waybill (express excluded),
    passenger rates per passenger, yacht rates per yacht arrival, truck rates per crossing.
    """

    sea_cover_load: float = 0.004
    sea_rip_on_rip_off: float = 0.0012
    sea_new_importer_fruit: float = 0.006
    sea_third_party_freight: float = 0.006
    sea_reseal: float = 0.002
    air_walk_in_perishables: float = 0.003
    air_private_consignee: float = 0.005
    air_walk_in_company: float = 0.004
    pax_courier: float = 0.0006
    pax_late_card: float = 0.002
    pax_cash_normal_route: float = 0.002
    yacht_recent_purchase: float = 0.05
    yacht_long_owned_crew2: float = 0.12
    yacht_recent_purchase_med: float = 0.08
    truck_balkan_cover_load: float = 0.001
    truck_new_haulier: float = 0.003
    truck_low_value_load: float = 0.004
    # background data-quality and trade facts the patterns must not own
    invalid_container_check_digit: float = 0.0008
    invalid_mrz: float = 0.002
    vague_description: float = 0.01
    third_party_freight: float = 0.015
    new_consignee: float = 0.02

    def of(self, prefix: str) -> list[tuple[str, float]]:
        """The (pattern, rate) pairs whose name starts with `prefix`."""
        return [
            (f.name, float(getattr(self, f.name)))
            for f in fields(self)
            if f.name.startswith(prefix) and f.name in PATTERNS
        ]


def assign(rng: RecordRng, name: str, pairs: list[tuple[str, float]]) -> IntArray:
    """Pattern number per record: 0 for none, i + 1 for `pairs[i]` (exclusive draws)."""
    u = rng.u(name)
    out = np.zeros(rng.n, dtype=np.int64)
    low = 0.0
    for i, (_, rate) in enumerate(pairs):
        out[(u >= low) & (u < low + rate)] = i + 1
        low += rate
    return out


DRUG_BY_PATTERN: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    # pattern: (drug, min kg, max kg, concealments)
    "sea_cover_load": (
        "cocaine",
        40.0,
        1500.0,
        ("among the fruit boxes", "in the reefer unit compartment", "in the pallet bases"),
    ),
    "sea_rip_on_rip_off": (
        "cocaine",
        25.0,
        300.0,
        ("sports bags just inside the doors", "bags behind the cargo, near the doors"),
    ),
    "air_walk_in_perishables": (
        "cocaine",
        4.0,
        60.0,
        ("inside flower boxes", "in the packaging foam", "false bottoms of the boxes"),
    ),
    "pax_courier": (
        "cocaine",
        0.6,
        8.0,
        ("swallowed pellets", "false bottom of the suitcase", "body-strapped"),
    ),
    "yacht_recent_purchase": (
        "cocaine",
        150.0,
        1200.0,
        ("under the cabin floor", "in the keel area behind fresh fibreglass", "engine room"),
    ),
    "truck_balkan_cover_load": (
        "heroin",
        10.0,
        120.0,
        ("inside the washing machines", "among the date boxes", "hidden compartment in the floor"),
    ),
}


#: The folder of the ground truth inside a generated traffic directory (never ingested with it).
TRUTH_DIR = "ground_truth"


class Truth:
    """Collects ground-truth rows; the traffic files never carry them.

    Rows come in generation order (day, kind, record), which no chunk size changes. With a
    `write` callback they leave in row groups of a fixed size as soon as they are complete, so
    the truth of a long run never sits in memory; without one they are kept (see `table`).
    """

    SCHEMA = pa.schema(
        [
            pa.field("target_kind", pa.string(), nullable=False),
            pa.field("target_ref", pa.string(), nullable=False),
            pa.field("pattern", pa.string(), nullable=False),
            pa.field("contraband", pa.bool_(), nullable=False),
            pa.field("drug", pa.string()),
            pa.field("quantity_kg", pa.float64()),
            pa.field("concealment", pa.string()),
        ]
    )
    ROW_GROUP = 65_536
    """Rows per write: fixed, so the truth files do not depend on the chunking either."""

    def __init__(self, write: Callable[[pa.Table], None] | None = None) -> None:
        self._write = write
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._counts: Counter[str] = Counter()

    def add(
        self,
        patterns: Sequence[str],
        which: IntArray,
        refs: StrArray,
        u1: FloatArray,
        u2: FloatArray,
    ) -> None:
        """Record the targets among a chunk's records, in record order.

        `which` is 0 for no pattern, else 1 + index into `patterns`; `u1`/`u2` (one uniform per
        record) pick the quantity and the concealment of contraband.
        """
        sel = np.flatnonzero(which)
        if not len(sel):
            return
        p = np.asarray(which[sel] - 1, dtype=np.int64)
        info = [PATTERNS[name] for name in patterns]
        contraband = np.array([c for _, c in info])[p]
        drug = np.full(len(sel), None, dtype=object)
        qty = np.full(len(sel), np.nan)
        hide = np.full(len(sel), None, dtype=object)
        a, b = u1[sel], u2[sel]
        for i, name in enumerate(patterns):
            spec = DRUG_BY_PATTERN.get(name) if info[i][1] else None
            rows = p == i
            self._counts[name] += int(rows.sum())
            if spec is None or not rows.any():
                continue
            substance, lo, hi, hides = spec
            drug[rows] = substance
            # log-uniform: most seizures small, a few very large
            qty[rows] = np.round(np.exp(np.log(lo) + a[rows] * (np.log(hi) - np.log(lo))), 1)
            hide[rows] = np.array(hides, dtype=object)[(b[rows] * len(hides)).astype(np.int64)]
        table = pa.table(
            {
                "target_kind": pa.array(np.array([k for k, _ in info])[p]),
                "target_ref": pa.array(np.asarray(refs)[sel].astype(str)),
                "pattern": pa.array(np.asarray(patterns)[p]),
                "contraband": pa.array(contraband),
                "drug": pa.array(drug, pa.string()),
                "quantity_kg": pa.array(qty, pa.float64(), mask=np.isnan(qty)),
                "concealment": pa.array(hide, pa.string()),
            },
            schema=self.SCHEMA,
        )
        self._pending.append(table)
        self._pending_rows += table.num_rows
        if self._write is not None:
            while self._pending_rows >= self.ROW_GROUP:
                self._flush(self.ROW_GROUP)

    def close(self) -> None:
        """Write what is left (with a `write` callback)."""
        if self._write is not None and self._pending_rows:
            self._flush(self._pending_rows)

    def _flush(self, rows: int) -> None:
        assert self._write is not None
        buffered = pa.concat_tables(self._pending)
        self._write(buffered.slice(0, rows).combine_chunks())
        rest = buffered.slice(rows)
        self._pending = [rest] if rest.num_rows else []
        self._pending_rows = rest.num_rows

    def counts(self) -> dict[str, int]:
        """Targets per pattern so far (written or not)."""
        return dict(self._counts)

    def table(self) -> pa.Table:
        """The rows not written yet: all of them without a `write` callback."""
        if not self._pending:
            return self.SCHEMA.empty_table()
        return pa.concat_tables(self._pending).combine_chunks()
