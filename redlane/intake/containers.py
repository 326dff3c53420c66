"""UN/EDIFACT BAPLIE (bay plans, SMDG 2.x and 3.x) and COARRI (terminal discharge/loading
report): one container event per container.

BAPLIE 2.x (D.95B, `SMDG20`/`SMDG21`/`SMDG22`) opens each container's group with its stowage
cell (`LOC+147`), then mass, ports, bill and `EQD`; COARRI opens it with `EQD`, then the event
time (`DTM+203`), ports, stowage, masses and seals. BAPLIE 3.x (D.13B and later, `SMDG30`,
`SMDG31`...) is built around the equipment: a stowage group `LOC+147+<bay row tier>:9711:5`
holds the `EQD` groups stowed there, each with its container operator (`NAD+CF`), verified
gross mass (`MEA+AAE+VGM`), seals (`SEL`), ports (`LOC+9`, `LOC+11`, `LOC+83`), bills
(`RFF+BM`), dangerous goods and temperature. The UNH version picks the mapper: an SMDG
association code says which major version; without one, a directory from D.13A on is 3.x.
The voyage (`TDT`), the message's port (`LOC+5` in a bay plan, `LOC+11` at the terminal), its
time and the carrier (`NAD+CA`) apply to every container unless its group says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from redlane.intake.edifact import Message, parse_time, part
from redlane.intake.identifiers import is_valid_imo
from redlane.intake.manifest import MappingError, _seg, _stamp, interchange, message_source
from redlane.model import ContainerEvent

#: COARRI document codes (BGM 1001) read as events; anything else is reported as 'reported'.
_COARRI_EVENTS = {"44": "discharged", "45": "loaded", "98": "discharged", "119": "loaded"}


def read_container_events(message: Message) -> list[tuple[int, dict[str, Any]]]:
    """(segment index of the container's group, canonical dict) per container; raises
    MappingError naming the segment for what cannot be read."""
    bay_plan = message.type == "BAPLIE"
    if bay_plan and is_smdg3(message.version):
        return _read_baplie3(message)
    voyage: dict[str, Any] = {}
    events: list[tuple[int, dict[str, Any]]] = []
    current: dict[str, Any] | None = None
    event = "stowed" if bay_plan else "reported"
    for index, segment in enumerate(message.segments):
        tag = segment.tag
        try:
            if tag == "BGM" and not bay_plan:
                event = _COARRI_EVENTS.get(part(segment, 0), "reported")
            elif tag == "TDT" and part(segment, 0) == "20":
                voyage.update(voyage=part(segment, 1) or None, vessel=part(segment, 7) or None)
            elif tag == "LOC" and part(segment, 0) == "147" and bay_plan:
                # a bay plan opens each container's group with its stowage cell
                current = _open(events, index, voyage, event)
                current["stowage"] = part(segment, 1)
            elif tag == "LOC" and current is None and part(segment, 0) in ("5", "11"):
                voyage["place"] = part(segment, 1)
            elif tag == "DTM" and current is None and part(segment, 0, 0) in ("133", "132"):
                voyage.setdefault("at", parse_time(part(segment, 0, 1), part(segment, 0, 2)))
            elif tag == "NAD" and current is None and part(segment, 0) in ("CF", "CA"):
                voyage["operator"] = part(segment, 1)
            elif tag == "EQD" and part(segment, 0) == "CN":
                if not bay_plan or current is None or current.get("container"):
                    current = _open(events, index, voyage, event)
                full = part(segment, 5)
                current.update(
                    container=part(segment, 1),
                    size_type=part(segment, 2) or None,
                    full=None if full not in ("4", "5") else full == "5",
                )
            elif current is not None:
                _apply(current, segment)
        except (ValueError, IndexError) as exc:
            raise MappingError(message.where(index), None, str(exc)) from exc
    for _, data in events:
        data["source"] = message_source(message)
    return events


def is_smdg3(version: str) -> bool:
    """Whether a BAPLIE's UNH version (e.g. 'D:13B:UN:SMDG31') is an SMDG 3.x bay plan."""
    parts = version.split(":")
    association = re.fullmatch(r"SMDG(\d)\d*", parts[3] if len(parts) > 3 else "")
    if association:
        return int(association.group(1)) >= 3
    release = re.fullmatch(r"(\d\d)([A-Z])", parts[1] if len(parts) > 1 else "")
    if not release:
        return False
    year = int(release.group(1))
    return (year + (1900 if year >= 90 else 2000), release.group(2)) >= (2013, "A")


#: Times of the voyage's TDT group a 3.x bay plan's events take, in this order of preference:
#: actual and estimated departure from the plan's port, then actual and estimated arrival.
_VOYAGE_TIMES = ("136", "133", "178", "132")


def _read_baplie3(message: Message) -> list[tuple[int, dict[str, Any]]]:
    voyage: dict[str, Any] = {}
    events: list[tuple[int, dict[str, Any]]] = []
    current: dict[str, Any] | None = None
    stowage: str | None = None
    for index, segment in enumerate(message.segments):
        tag = segment.tag
        try:
            if tag == "TDT" and part(segment, 0) == "20":
                voyage.update(voyage=part(segment, 1) or None, vessel=part(segment, 7) or None)
            elif tag == "LOC" and part(segment, 0) == "147":
                stowage, current = part(segment, 1) or None, None
            elif tag == "EQD" and part(segment, 0) == "CN":
                current = _open(events, index, voyage, "stowed")
                full = part(segment, 5)
                current.update(
                    container=part(segment, 1),
                    size_type=part(segment, 2) or None,
                    full=None if full not in ("4", "5") else full == "5",
                    stowage=stowage,
                )
            elif current is not None:
                _apply(current, segment)
            elif stowage is not None:
                continue  # an empty cell's own segments
            elif tag == "LOC" and part(segment, 0) == "5":
                voyage["place"] = part(segment, 1)
            elif tag == "DTM" and part(segment, 0, 0) in _VOYAGE_TIMES:
                times = voyage.setdefault("times", {})
                times.setdefault(
                    part(segment, 0, 0), parse_time(part(segment, 0, 1), part(segment, 0, 2))
                )
                voyage["at"] = next(times[q] for q in _VOYAGE_TIMES if q in times)
            elif tag == "NAD" and part(segment, 0) == "CA":
                voyage["operator"] = part(segment, 1)
        except (ValueError, IndexError) as exc:
            raise MappingError(message.where(index), None, str(exc)) from exc
    for _, data in events:
        data["source"] = message_source(message)
    return events


def _open(
    events: list[tuple[int, dict[str, Any]]], index: int, voyage: dict[str, Any], event: str
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "record": "container_event", "event": event, "vessel": voyage.get("vessel"),
        "voyage": voyage.get("voyage"), "place": voyage.get("place"), "at": voyage.get("at"),
        "operator": voyage.get("operator"), "seals": [],
    }  # fmt: skip
    events.append((index, data))
    return data


def _apply(current: dict[str, Any], segment: Any) -> None:
    tag = segment.tag
    if tag == "LOC":
        qualifier, place = part(segment, 0), part(segment, 1)
        if qualifier == "9":
            current["port_of_loading"] = place
        elif qualifier == "11":
            current["port_of_discharge"] = place
        elif qualifier == "147":
            current["stowage"] = place
    elif tag == "MEA":
        # BAPLIE: MEA+WT++KGM:3833; COARRI: MEA+AAE+EGW+KGM:8914 (gross), +T+ (tare)
        kind, unit, value = part(segment, 1), part(segment, 2, 0), part(segment, 2, 1)
        gross = part(segment, 0) in ("WT", "VGM") or kind in ("G", "EGW", "VGM")
        if gross and unit == "KGM" and value:
            current["gross_mass_kg"] = float(value)
    elif tag == "SEL":
        current["seals"].append(part(segment, 0))
    elif tag == "DTM" and part(segment, 0, 0) in ("203", "178"):
        current["at"] = parse_time(part(segment, 0, 1), part(segment, 0, 2))
    elif tag == "NAD" and part(segment, 0) in ("CA", "CF"):
        current["operator"] = part(segment, 1)


def write_baplie(
    events: Sequence[ContainerEvent],
    *,
    sender: str,
    recipient: str,
    reference: str,
    prepared: datetime,
    bills: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """One interchange with one SMDG 3.1 bay plan (BAPLIE D.13B) of stowed containers on one
    vessel voyage: a stowage group per container, its bills of lading (`RFF+BM`, from `bills`
    by container number) beside it. Raises ValueError for events one bay plan cannot hold."""
    if not events:
        raise ValueError("a bay plan needs at least one container")
    first = events[0]
    voyage = (first.vessel, first.voyage, first.place, first.at)
    for e in events:
        if e.event != "stowed":
            raise ValueError(f"{e.container}: a bay plan lists stowed containers, not {e.event}")
        if (e.vessel, e.voyage, e.place, e.at) != voyage:
            raise ValueError(f"{e.container}: not on the voyage of {first.container}")
        if not e.stowage:
            raise ValueError(f"{e.container}: a bay plan container needs its stowage cell")
    operators = {e.operator for e in events}
    carrier = operators.pop() if len(operators) == 1 else None
    body = [
        _seg("UNH", "1", ["BAPLIE", "D", "13B", "UN", "SMDG31"]),
        _seg("BGM", "659", reference, "9"),
        _seg("DTM", ["137", *_stamp(prepared)]),
    ]
    if carrier:
        body.append(_seg("NAD", "CA", [carrier, "LINES", "306"]))
    vessel = first.vessel or ""
    vessel_id = [vessel, "146", "11"] if is_valid_imo(vessel) else [vessel, "103"] if vessel else ""
    body.append(
        _seg("TDT", "20", first.voyage, "", "", [carrier, "LINES", "306"] if carrier else "",
             "", "", vessel_id)
    )  # fmt: skip
    if first.voyage:
        body.append(_seg("RFF", ["VON", first.voyage]))
    if first.place:
        body.append(_seg("LOC", "5", [first.place, "139", "6"]))
    if first.at:
        body.append(_seg("DTM", ["136", *_stamp(first.at)]))
    for e in events:
        full = "" if e.full is None else "5" if e.full else "4"
        size = [e.size_type, "6346", "5"] if e.size_type else ""
        body += [
            _seg("LOC", "147", [e.stowage, "9711", "5"]),
            _seg("EQD", "CN", [e.container, "6346", "5"], size, "", "", full),
        ]
        if e.operator:
            body.append(_seg("NAD", "CF", [e.operator, "LINES", "306"]))
        if e.gross_mass_kg is not None:
            body.append(_seg("MEA", "AAE", "VGM", ["KGM", _quantity(e.gross_mass_kg)]))
        if e.port_of_loading:
            body.append(_seg("LOC", "9", [e.port_of_loading, "139", "6"]))
        if e.port_of_discharge:
            body.append(_seg("LOC", "11", [e.port_of_discharge, "139", "6"]))
        body += [_seg("RFF", ["BM", b]) for b in (bills or {}).get(e.container, ())]
        body += [_seg("SEL", s, "CA") for s in e.seals]
    return interchange(
        [body], sender=sender, recipient=recipient, reference=reference, prepared=prepared
    )


#: The COARRI document code (BGM 1001) written for each event; the reader maps them back.
_COARRI_CODES = {"discharged": "44", "loaded": "45", "reported": "270"}


def write_coarri(
    events: Sequence[ContainerEvent],
    *,
    sender: str,
    recipient: str,
    reference: str,
    prepared: datetime,
) -> str:
    """One interchange with one COARRI (D.95B, ITG 1.3) terminal report of containers
    discharged, loaded or reported at one port from one vessel voyage: a group per container
    with its time, stowage, ports, mass, seals and operator. Raises ValueError for events one
    report cannot hold."""
    if not events:
        raise ValueError("a terminal report needs at least one container")
    first = events[0]
    voyage = (first.event, first.vessel, first.voyage, first.place)
    for e in events:
        if e.event == "stowed":
            raise ValueError(f"{e.container}: a stowed container belongs in a bay plan (BAPLIE)")
        if (e.event, e.vessel, e.voyage, e.place) != voyage:
            raise ValueError(f"{e.container}: not in the report of {first.container}")
    vessel = first.vessel or ""
    vessel_id = [vessel, "146", "11"] if is_valid_imo(vessel) else [vessel, "103"] if vessel else ""
    body = [
        _seg("UNH", "1", ["COARRI", "D", "95B", "UN", "ITG13"]),
        _seg("BGM", _COARRI_CODES[first.event], reference, "9"),
        _seg("TDT", "20", first.voyage, "", "", "", "", "", vessel_id),
    ]
    if first.place:
        body.append(_seg("LOC", "11", [first.place, "139", "6"]))
    for e in events:
        full = "" if e.full is None else "5" if e.full else "4"
        size = [e.size_type, "102", "5"] if e.size_type else ""
        body.append(_seg("EQD", "CN", e.container, size, "", "", full))
        if e.at:
            body.append(_seg("DTM", ["203", *_stamp(e.at)]))
        if e.stowage:
            body.append(_seg("LOC", "147", [e.stowage, "", "5"]))
        if e.port_of_loading:
            body.append(_seg("LOC", "9", [e.port_of_loading, "139", "6"]))
        if e.port_of_discharge:
            body.append(_seg("LOC", "11", [e.port_of_discharge, "139", "6"]))
        if e.gross_mass_kg is not None:
            body.append(_seg("MEA", "AAE", "EGW", ["KGM", _quantity(e.gross_mass_kg)]))
        body += [_seg("SEL", s, "CA") for s in e.seals]
        if e.operator:
            body.append(_seg("NAD", "CF", [e.operator, "160", "ZZZ"]))
    return interchange(
        [body], sender=sender, recipient=recipient, reference=reference, prepared=prepared
    )


def _quantity(value: float) -> str:
    """A mass as EDIFACT writes it: whole kilograms without a decimal part."""
    return str(int(value)) if value.is_integer() else repr(value)
