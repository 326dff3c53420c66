"""UN/EDIFACT IFTMCS (instruction contract status: the carrier's bill of lading) and IFCSUM
(forwarding and consolidation summary: a manifest of bills), D.96B, D.99B, D.00B and later:
messages to the same canonical records as CUSCAR.

IFTMCS is one bill of lading a message: `BGM+705` (or `714`, house bill) with the document
number, `DTM+137` issue date, `DTM+132` arrival, places in `LOC` (7 delivery, 13
transhipment, 27/28 countries), references in `RFF` (`BM`, `BH`, `MB` master), freight in
`CPI`/`MOA+64`, then the main-carriage `TDT+20` group (the vessel, its voyage, `LOC+9`/`LOC+11`
for this bill, the vessel's calls `LOC+5`/`ZCL`/`60` with `DTM+132`/`133`, `RFF+VON` and the
other voyage identifiers), the parties (`NAD` with `CTA`/`COM`), the goods items (`GID` with
`PIA+5+<code>:HS`, `FTX+AAA`, `MEA`, `MOA+38`) and the equipment (`EQD` with `SEL`, `TMP`).
Pre- and on-carriage (`TDT+10`, `TDT+30`) are not the vessel's voyage.

IFCSUM has the layout of CUSCAR: the voyage in the header, one `CNI` group per bill, the HS
code in `PIA` (in `CST` too if a sender puts it there).

Both read through `redlane.intake.manifest` (the reader CUSCAR uses) and map their `NAD` and
`RFF` qualifiers with the same `mappings.yaml` and REDLANE_INTAKE_MAPPINGS; the writers use
CUSCAR's segment makers, so what redlane writes it reads back unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from redlane.intake.edifact import Message
from redlane.intake.manifest import (
    Codes,
    _seg,
    _stamp,
    call_segments,
    consignment_group,
    document_dates,
    document_references,
    equipment_segments,
    freight_segments,
    goods_segments,
    interchange,
    office_segments,
    parties_segments,
    port_segments,
    read_manifest,
    route_segments,
    transport_segment,
    voyage_references,
)
from redlane.model import Consignment, Movement

Mapped = tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]]]
"""The voyage as a canonical movement dict (None without a TDT) and the bills (segment index
where each opens, canonical dict)."""

#: BGM document code (1001) written for each kind of bill.
_BGM_CODES = {"bill_of_lading": "705", "house_bill_of_lading": "714"}


def read_iftmcs(message: Message) -> Mapped:
    """The voyage and the one bill of an IFTMCS message (the bill's locator is its BGM).
    Raises MappingError naming the segment for what cannot be read."""
    return read_manifest(message, whole_message=True)


def read_ifcsum(message: Message) -> Mapped:
    """The voyage and the bills (one per CNI) of an IFCSUM message."""
    return read_manifest(message)


def write_iftmcs(
    movement: Movement,
    consignments: Sequence[Consignment],
    *,
    sender: str,
    recipient: str,
    reference: str,
    prepared: datetime,
) -> str:
    """One interchange with one IFTMCS message (D.99B) per bill of lading, each carrying the
    voyage it travels on."""
    codes = Codes.for_sender(sender)
    messages = []
    for n, doc in enumerate(consignments, start=1):
        kind = doc.document.kind.value
        if kind not in _BGM_CODES:
            raise ValueError(f"{doc.document.number}: an IFTMCS is a bill of lading, not {kind}")
        messages.append(
            [
                _seg("UNH", str(n), ["IFTMCS", "D", "99B", "UN"]),
                _seg("BGM", _BGM_CODES[kind], doc.document.number, "9"),
                *document_dates(doc),
                *office_segments(doc),
                *route_segments(doc),
                *document_references(doc, codes),
                *freight_segments(doc, codes),
                transport_segment(movement),
                *voyage_references(movement),
                *port_segments(doc),
                *call_segments(movement),
                *parties_segments(doc, codes),
                *goods_segments(doc, hs_in="PIA"),
                *equipment_segments(doc),
            ]
        )
    return interchange(
        messages, sender=sender, recipient=recipient, reference=reference, prepared=prepared
    )


def write_ifcsum(
    movement: Movement,
    consignments: Sequence[Consignment],
    *,
    sender: str,
    recipient: str,
    reference: str,
    prepared: datetime,
) -> str:
    """One interchange with one IFCSUM message (D.00B, `BGM+785` cargo manifest) for a voyage
    and its bills."""
    codes = Codes.for_sender(sender)
    body = [
        _seg("UNH", "1", ["IFCSUM", "D", "00B", "UN"]),
        _seg("BGM", "785", reference, "9"),
        _seg("DTM", ["137", *_stamp(prepared)]),
        transport_segment(movement),
        *voyage_references(movement),
        *call_segments(movement),
    ]
    for n, doc in enumerate(consignments, start=1):
        body += consignment_group(n, doc, codes, hs_in="PIA")
    return interchange(
        [body], sender=sender, recipient=recipient, reference=reference, prepared=prepared
    )
