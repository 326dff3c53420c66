"""The demo's containers on board as UN/EDIFACT BAPLIE bay plans (SMDG 3.1).

For each vessel voyage of the canonical files, the bay plan its ship sends on leaving the last
port before arrival: every container of the voyage's sea bills stowed in a cell, with its size
type, full or empty, verified gross mass (the cargo its bills declare plus the box's tare),
ports of loading (the last transhipment place, else the bill's port of loading) and
discharge, operator (the vessel operator's code), bills of lading and seals. A container on
several bills (the demo's rip-on and reseal twins) is one box on board: it carries the seals
of its first bill in document number order, so the others differ from the bay plan as they
differ from each other. One interchange per voyage, one file per arrival day under
`<traffic>/messages/`; read back, the files give the very container events `bay_plans`
builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

from redlane.demo import lanes
from redlane.demo.messages import (
    RECIPIENT,
    SENDER,
    DayFiles,
    Progress,
    Voyage,
    each_voyage,
    sea_voyages,
)
from redlane.intake.containers import write_baplie
from redlane.model import Consignment, ContainerEvent

#: Operator codes (SCAC) of the demo's vessel operators, by name.
OPERATOR_CODES = {name: code for name, code, _owners in lanes.CARRIERS}
#: Tare in kg by the first character of the ISO size type (length: 2 = 20 ft, 4 = 40 ft).
TARE_KG = {"2": 2300.0, "4": 3900.0}
_CELLS_PER_BAY = 48  # 12 rows, 4 tiers


@dataclass(frozen=True)
class BayPlan:
    voyage: Voyage
    events: list[ContainerEvent]
    bills: dict[str, list[str]]
    """The bills of lading of each container, by container number."""


def _stowage(k: int, forty_foot: bool) -> str:
    """The k-th cell (ISO 9711 bay, row, tier) of the 40 ft boxes (even bays, on deck) or the
    20 ft boxes (odd bays, in the hold)."""
    bay = 4 * (k // _CELLS_PER_BAY) + (2 if forty_foot else 1)
    row = 1 + (k % _CELLS_PER_BAY) // 4
    tier = (82 if forty_foot else 2) + 2 * (k % 4)
    return f"{bay:03d}{row:02d}{tier:02d}"


def bay_plan(voyage: Voyage) -> BayPlan:
    """The bay plan of one voyage's containers, on leaving its last port before arrival."""
    m = voyage.movement
    call = m.itinerary[-2] if len(m.itinerary) > 1 else m.itinerary[0]
    operator = OPERATOR_CODES.get(m.conveyance.operator.name) if m.conveyance.operator else None
    events: dict[str, ContainerEvent] = {}
    bills: dict[str, list[str]] = {}
    counts = {True: 0, False: 0}
    for doc in voyage.documents:
        cargo_kg = sum(g.gross_mass_kg for g in doc.goods) / max(len(doc.equipment), 1)
        for e in doc.equipment:
            bills.setdefault(e.number, []).append(doc.document.number)
            if e.number in events:
                continue
            forty = (e.size_type or "4")[0] != "2"
            events[e.number] = ContainerEvent(
                event="stowed",
                container=e.number,
                size_type=e.size_type,
                full=e.full,
                seals=e.seals,
                vessel=m.conveyance.imo or m.conveyance.call_sign,
                voyage=m.ref[-17:].lstrip("-"),
                place=call.place,
                port_of_loading=_loaded_at(doc),
                port_of_discharge=doc.place_of_discharge,
                stowage=_stowage(counts[forty], forty),
                at=call.departure or call.arrival,
                gross_mass_kg=float(round(cargo_kg + TARE_KG.get((e.size_type or "4")[0], 3900))),
                operator=operator,
            )
            counts[forty] += 1
    return BayPlan(voyage, list(events.values()), bills)


def _loaded_at(doc: Consignment) -> str:
    return doc.transshipment_places[-1] if doc.transshipment_places else doc.place_of_loading


def bay_plans(traffic: Path) -> list[BayPlan]:
    """The bay plans of the vessel voyages in `traffic` that carry containers."""
    plans = (bay_plan(v) for v in sea_voyages(traffic))
    return [p for p in plans if p.events]


def write_baplie_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """BAPLIE files (one SMDG 3.1 bay plan per voyage) per arrival day; the paths."""
    plans = {p.voyage.movement.ref: p for p in bay_plans(traffic)}
    voyages = [plans[ref].voyage for ref in plans]
    files = DayFiles(traffic, "baplie")
    try:
        for voyage in each_voyage(voyages, "BAPLIE", on_progress):
            plan = plans[voyage.movement.ref]
            prepared = plan.events[0].at or min(d.declared_at for d in voyage.documents)
            files(voyage.day).write(
                write_baplie(
                    plan.events,
                    sender=SENDER,
                    recipient=RECIPIENT,
                    reference=voyage.movement.ref[-14:],
                    prepared=(prepared + timedelta(hours=1)).astimezone(UTC),
                    bills=plan.bills,
                )
                + "\n"
            )
    finally:
        paths = files.close()
    return paths
