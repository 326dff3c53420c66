"""UN/EDIFACT BAPLIE (SMDG 2.x bay plan) and COARRI (terminal discharge/loading report):
one container event per container.

BAPLIE (D.95B, SMDG 2.x) opens each container's group with its stowage cell (`LOC+147`),
then mass, ports, bill and `EQD`; COARRI opens it with `EQD`, then the event time
(`DTM+203`), ports, stowage, masses and seals. The voyage (`TDT`), the message's port
(`LOC+5` in a bay plan, `LOC+11` at the terminal) and its times apply to every container.
SMDG 3.x bay plans (EQD-centred, D.13B and later) need a mapper of their own (not built yet).
"""

from __future__ import annotations

from typing import Any

from redlane.intake.edifact import Message, parse_time, part
from redlane.intake.manifest import MappingError

#: COARRI document codes (BGM 1001) read as events; anything else is reported as 'reported'.
_COARRI_EVENTS = {"44": "discharged", "45": "loaded", "98": "discharged", "119": "loaded"}


def read_container_events(message: Message) -> list[tuple[int, dict[str, Any]]]:
    """(segment index of the container's group, canonical dict) per container; raises
    MappingError naming the segment for what cannot be read."""
    bay_plan = message.type == "BAPLIE"
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
    source = {"message_ref": f"{message.interchange or '-'}/{message.reference}",
              "sender": message.sender}  # fmt: skip
    for _, data in events:
        data["source"] = source
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
        gross = part(segment, 0) in ("WT", "VGM") or kind in ("G", "EGW")
        if gross and unit == "KGM" and value:
            current["gross_mass_kg"] = float(value)
    elif tag == "SEL":
        current["seals"].append(part(segment, 0))
    elif tag == "DTM" and part(segment, 0, 0) in ("203", "178"):
        current["at"] = parse_time(part(segment, 0, 1), part(segment, 0, 2))
    elif tag == "NAD" and part(segment, 0) in ("CA", "CF"):
        current["operator"] = part(segment, 1)
