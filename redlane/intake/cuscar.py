"""UN/EDIFACT CUSCAR (customs cargo report, D.95B and later): messages to canonical records.

A CUSCAR message reports one voyage (TDT, LOC+5/60, DTM+132/133) with its containers (EQD,
SEL) and one consignment per CNI group: references (RFF), places (LOC), parties (NAD with CTA
and COM), goods items (GID with FTX, MEA, MOA, SGP, CST) and freight (MOA+64, CPI). Party and
document qualifiers map to roles through `mappings.yaml` (a default, overridden per sender).
The writer produces the same layout, so what redlane writes it reads back unchanged. The
reading and the segment makers are shared with IFCSUM and IFTMCS (`redlane.intake.manifest`).

Conventions where D.95B has no standard code (all mutually defined, documented in
docs/intake.md): `LOC+ZRC` routing country, `LOC+ZCL` an intermediate port of call,
`RFF+VON` the movement reference, `RFF+ZMS` the MMSI, `RFF+ZCS` the call sign beside an IMO
number, `RFF+ZPB` the persons on board, the party
identification code list `EORI`/`VAT` and the agency `ZZP` for a private person, and the
freight payer's party qualifier in `CPI` element 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from redlane.intake.edifact import Message
from redlane.intake.manifest import (
    Codes,
    _seg,
    call_segments,
    consignment_group,
    interchange,
    read_manifest,
    transport_segment,
    voyage_references,
)
from redlane.intake.manifest import MappingError as MappingError
from redlane.intake.manifest import SenderMapping as SenderMapping
from redlane.intake.manifest import _esc as _esc
from redlane.intake.manifest import _stamp as _stamp
from redlane.intake.manifest import mapping_for as mapping_for
from redlane.model import Consignment, Movement


def read_cuscar(message: Message) -> tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]]]:
    """The voyage (as a canonical movement dict, or None without a TDT) and the consignments
    (segment index of their CNI, canonical dict) of one message. Raises MappingError naming
    the segment for what cannot be read; validation of values is the model's."""
    return read_manifest(message)


def write_cuscar(
    movement: Movement,
    consignments: Sequence[Consignment],
    *,
    sender: str,
    recipient: str,
    reference: str,
    prepared: datetime,
) -> str:
    """One interchange with one CUSCAR message for a voyage and its consignments."""
    codes = Codes.for_sender(sender)
    body = [
        _seg("UNH", "1", ["CUSCAR", "D", "95B", "UN"]),
        _seg("BGM", "85", reference, "9"),
        _seg("DTM", ["137", *_stamp(prepared)]),
        *voyage_references(movement),
        transport_segment(movement),
        *call_segments(movement),
    ]
    for n, doc in enumerate(consignments, start=1):
        body += consignment_group(n, doc, codes, hs_in="CST")
    return interchange(
        [body], sender=sender, recipient=recipient, reference=reference, prepared=prepared
    )
