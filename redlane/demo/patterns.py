"""The planted trafficking patterns (targeting-practice §7.2), their rates and the ground truth.

Each contraband pattern comes with innocent look-alikes that share most of its signal, so no
single field separates them: the targeting engine has to combine indicators, as §7.2 demands.
Nationality is never part of a pattern: couriers are drawn from the same nationality mix as
everybody else on their flight.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from redlane.demo.rng import RecordRng

IntArray = npt.NDArray[np.int64]

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


class Truth:
    """Collects ground-truth rows; the traffic files never carry them."""

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

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, pattern: str, refs: Any, u1: Any, u2: Any) -> None:
        """Record targets of one pattern; u1/u2 (uniforms per target) pick quantity/concealment."""
        kind, contraband = PATTERNS[pattern]
        spec = DRUG_BY_PATTERN.get(pattern) if contraband else None
        for ref, a, b in zip(list(refs), list(u1), list(u2), strict=True):
            row: dict[str, Any] = {
                "target_kind": kind,
                "target_ref": str(ref),
                "pattern": pattern,
                "contraband": contraband,
                "drug": None,
                "quantity_kg": None,
                "concealment": None,
            }
            if spec is not None:
                drug, lo, hi, hides = spec
                # log-uniform: most seizures small, a few very large
                qty = float(np.exp(np.log(lo) + float(a) * (np.log(hi) - np.log(lo))))
                row["drug"] = drug
                row["quantity_kg"] = round(qty, 1)
                row["concealment"] = hides[int(float(b) * len(hides))]
            self.rows.append(row)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r["pattern"]] = out.get(r["pattern"], 0) + 1
        return out

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=self.SCHEMA)
