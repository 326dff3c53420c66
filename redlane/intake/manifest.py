"""What the UN/EDIFACT sea manifests share: CUSCAR, IFCSUM and IFTMCS.

The three carry the same things in much the same segments: the voyage (TDT with its LOC and
DTM; RFF for the movement's identifiers), and per bill of lading its references (RFF), places
(LOC), parties (NAD with CTA and COM), goods items (GID with FTX, MEA, MOA, SGP and the HS
code in CST or PIA), equipment (EQD with SEL and TMP) and freight (MOA+64, CPI). CUSCAR and
IFCSUM list the bills in CNI groups under one voyage; an IFTMCS message is one bill, its
document number in BGM, the voyage in its TDT group. One reader serves all three, and the
writers are built from the same segment makers, so what redlane writes it reads back.

Party and document qualifiers map to roles through `mappings.yaml` (a default, overridden per
sender, and by the file named in REDLANE_INTAKE_MAPPINGS): one configuration for all three
message types.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydifact.segments import Segment

from redlane.config import ConfigError
from redlane.intake.edifact import Message, element, parse_time, part
from redlane.model import Consignment, Movement


class MappingError(ValueError):
    """A message (or one of its consignments) that cannot be mapped; names the segment."""

    def __init__(self, locator: str, field: str | None, reason: str) -> None:
        self.locator = locator
        self.field = field
        self.reason = reason
        super().__init__(f"{locator}: {field + ': ' if field else ''}{reason}")


@dataclass(frozen=True)
class SenderMapping:
    parties: Mapping[str, str]
    documents: Mapping[str, str]


@cache
def _mapping_file(extra: str | None) -> dict[str, Any]:
    text = resources.files("redlane.intake").joinpath("mappings.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    if extra:
        try:
            own = yaml.safe_load(Path(extra).read_text("utf-8")) or {}
            senders = own.get("cuscar", {}).get("senders", {})
            if not isinstance(senders, dict):
                raise TypeError("cuscar.senders must map sender ids to their qualifiers")
        except (OSError, yaml.YAMLError, AttributeError, TypeError) as exc:
            raise ConfigError(f"REDLANE_INTAKE_MAPPINGS={extra!r}: {exc}") from exc
        data["cuscar"]["senders"] = {**(data["cuscar"].get("senders") or {}), **senders}
    return data


def mapping_for(sender: str | None) -> SenderMapping:
    """The qualifier mapping for a sender: the default, overridden by the sender's entry in
    the shipped mappings or in the file named by REDLANE_INTAKE_MAPPINGS. The section is
    called `cuscar` (its first user); IFCSUM and IFTMCS read through the same one."""
    spec = _mapping_file(os.environ.get("REDLANE_INTAKE_MAPPINGS") or None)["cuscar"]
    own = (spec.get("senders") or {}).get(sender or "", {})
    return SenderMapping(
        {**spec["default"]["parties"], **own.get("parties", {})},
        {**spec["default"]["documents"], **own.get("documents", {})},
    )


# --- reading -----------------------------------------------------------------------------------


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None


#: BGM document codes (1001) of an IFTMCS that name the bill's kind.
_BGM_KINDS = {"705": "bill_of_lading", "714": "house_bill_of_lading"}
#: Voyage identifiers where the directory has no code (mutually defined, see docs/intake.md).
_VOYAGE_REFERENCES = {"VON": "ref", "ZMS": "mmsi", "ZCS": "call_sign", "ZPB": "persons"}
#: Transport stages (8051) that are not the vessel's voyage: pre- and on-carriage.
_OTHER_CARRIAGE = ("10", "30")
#: Segments that may stand in a TDT group; any other closes it.
_TRANSPORT_GROUP = ("TDT", "LOC", "DTM", "RFF", "TSR")


@dataclass
class _Document:
    index: int
    number: str
    kind: str | None = None
    master: str | None = None
    declared: datetime | None = None
    arrival: date | None = None
    office: str | None = None
    places: dict[str, str] = field(default_factory=dict)
    transshipment: list[str] = field(default_factory=list)
    routing: list[str] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    goods: list[dict[str, Any]] = field(default_factory=list)
    equipment: list[dict[str, Any]] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    freight: dict[str, Any] = field(default_factory=dict)


@dataclass
class _State:
    mapping: SenderMapping
    whole_message: bool
    """The message is one document (IFTMCS): it opens at BGM, not at CNI."""
    voyage: dict[str, Any] = field(default_factory=dict)
    equipment: dict[str, dict[str, Any]] = field(default_factory=dict)
    documents: list[_Document] = field(default_factory=list)
    group: Any = None
    """The open group that MEA/SEL/FTX/COM belong to: an equipment, goods item or party."""
    group_kind: str = ""
    in_transport: bool = False
    """Inside the voyage's TDT group, where LOC+5/ZCL/60 are its calls and RFF its identifiers."""
    at_call: bool = False
    """The last LOC of the TDT group was a call, so DTM+132/133 are its times."""


def _location(segment: Segment) -> tuple[str, str]:
    return part(segment, 0), part(segment, 1)


def read_manifest(
    message: Message, *, whole_message: bool = False
) -> tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]]]:
    """The voyage (as a canonical movement dict, or None without a TDT) and the consignments
    (segment index where each opens, canonical dict) of one message; `whole_message` when the
    message is one bill (IFTMCS). Raises MappingError naming the segment for what cannot be
    read; validation of values is the model's."""
    state = _State(mapping_for(message.sender), whole_message)
    for index, segment in enumerate(message.segments):
        try:
            _apply(state, segment, index)
        except MappingError:
            raise
        except (ValueError, IndexError, TypeError) as exc:
            raise MappingError(message.where(index), None, str(exc)) from exc
    movement = _movement(state, message)
    records = [(d.index, _consignment(state, d, message, movement)) for d in state.documents]
    if whole_message and movement is not None and not movement["itinerary"]:
        # A bill names its vessel and voyage but rarely the vessel's calls: the voyage is then
        # a reference of the bill, not a movement of its own.
        movement = None
    return movement, records


def _apply(state: _State, segment: Segment, index: int) -> None:
    tag = segment.tag
    if tag not in _TRANSPORT_GROUP:
        state.in_transport = state.at_call = False
    doc = state.documents[-1] if state.documents else None
    if tag == "CNI" and not state.whole_message:
        state.documents.append(_Document(index, part(segment, 1) or part(segment, 0)))
        state.group, state.group_kind = None, ""
    elif tag == "BGM" and state.whole_message and doc is None:
        state.documents.append(_Document(index, part(segment, 1), _BGM_KINDS.get(part(segment, 0))))
    elif tag == "TDT" and part(segment, 0) not in _OTHER_CARRIAGE:
        state.voyage.update(
            voyage=part(segment, 1), carrier=part(segment, 4, 3), id=part(segment, 7, 0),
            id_list=part(segment, 7, 1), name=part(segment, 7, 3), flag=part(segment, 7, 4),
        )  # fmt: skip
        state.in_transport = doc is None or state.whole_message
        state.at_call = False
    elif tag == "TDT":
        state.in_transport = state.at_call = False
    elif tag == "DTM":
        _date(state, doc, segment)
    elif tag == "LOC":
        _place(state, doc, segment)
    elif tag == "RFF":
        qualifier, value = part(segment, 0, 0), part(segment, 0, 1)
        voyage_reference = _VOYAGE_REFERENCES.get(qualifier)
        if qualifier == "VA" and state.group_kind == "NAD":
            state.group["vat"] = value
        elif voyage_reference and (doc is None or state.in_transport):
            state.voyage[voyage_reference] = value
        elif doc is None:
            pass
        elif state.mapping.documents.get(qualifier) == "master":
            doc.master = value
        elif qualifier in state.mapping.documents:
            doc.kind, doc.number = state.mapping.documents[qualifier], value or doc.number
    elif tag == "EQD":
        equipment: dict[str, Any] = {
            "number": part(segment, 1),
            "size_type": part(segment, 2) or None,
            "full": part(segment, 5) != "4",
            "reefer": len(part(segment, 2)) >= 3 and part(segment, 2)[2] == "R",
            "seals": [],
        }
        if doc is None:
            state.equipment[equipment["number"]] = equipment
        else:
            doc.equipment.append(equipment)
        state.group, state.group_kind = equipment, "EQD"
    elif tag == "SEL" and state.group_kind == "EQD":
        state.group["seals"].append(part(segment, 0))
    elif tag == "TMP" and state.group_kind == "EQD":
        state.group["reefer"] = True
    elif tag == "NAD" and doc is not None:
        role = state.mapping.parties.get(part(segment, 0))
        party = _party(segment, role) if role else None
        if party is not None:
            doc.parties.append(party)
        state.group, state.group_kind = party, "NAD" if party else ""
    elif tag == "COM" and state.group_kind == "NAD":
        kind = {"TE": "phone", "EM": "email"}.get(part(segment, 0, 1))
        if kind:
            state.group[kind] = part(segment, 0, 0)
    elif tag == "GID" and doc is not None:
        packages = part(segment, 1, 0)
        if not packages.isdigit():
            raise ValueError(f"GID packages {packages!r} is not a whole number")
        item = {"packages": int(packages), "package_kind": part(segment, 1, 1) or None}
        doc.goods.append(item)
        state.group, state.group_kind = item, "GID"
    elif tag == "FTX" and state.group_kind == "GID" and part(segment, 0) == "AAA":
        state.group["description"] = " ".join(
            str(p) for p in (element(segment, 3) if isinstance(element(segment, 3), list)
                             else [element(segment, 3)]) if p
        )  # fmt: skip
    elif tag == "MEA" and state.group_kind == "GID":
        kind = {"G": "gross_mass_kg", "AAF": "net_mass_kg"}.get(part(segment, 1))
        if kind:
            state.group[kind] = _number(part(segment, 2, 1), f"MEA {kind}")
    elif tag == "MOA" and doc is not None:
        qualifier, amount, currency = (part(segment, 0, i) for i in range(3))
        if qualifier == "38" and state.group_kind == "GID":
            state.group.update(value=_number(amount, "MOA value"), currency=currency or None)
        elif qualifier == "64":
            doc.freight.update(amount=_number(amount, "MOA freight"), currency=currency or None)
    elif tag == "CPI" and doc is not None:
        doc.freight["terms"] = {"P": "prepaid", "C": "collect"}.get(part(segment, 2), "unknown")
        payer = state.mapping.parties.get(part(segment, 1))
        if payer:
            doc.freight["payer_role"] = payer
    elif tag == "SGP" and doc is not None:
        doc.linked.append(part(segment, 0))
    elif tag == "CST" and state.group_kind == "GID":
        state.group["hs_code"] = part(segment, 1, 0)
    elif tag == "PIA" and state.group_kind == "GID" and part(segment, 0) in ("1", "5"):
        # PIA+5+<code>:HS: any of its five item numbers may be the one typed HS
        codes = [part(segment, i, 0) for i in range(1, 6) if part(segment, i, 1) == "HS"]
        if codes:
            state.group["hs_code"] = codes[0]


def _date(state: _State, doc: _Document | None, segment: Segment) -> None:
    qualifier, text, fmt = part(segment, 0, 0), part(segment, 0, 1), part(segment, 0, 2)
    when = parse_time(text, fmt)
    calls = state.voyage.setdefault("calls", [])
    if state.at_call and qualifier in ("132", "133"):
        calls[-1]["arrival" if qualifier == "132" else "departure"] = when
    elif doc is not None:
        if qualifier == "137":
            doc.declared = when
        elif qualifier == "132":
            doc.arrival = when.date()
    elif qualifier == "137":
        state.voyage["declared"] = when
    elif qualifier in ("132", "133") and calls:
        calls[-1]["arrival" if qualifier == "132" else "departure"] = when


def _place(state: _State, doc: _Document | None, segment: Segment) -> None:
    qualifier, place = _location(segment)
    if qualifier in ("5", "ZCL", "60") and (doc is None or state.in_transport):
        state.voyage.setdefault("calls", []).append({"place": place})
        state.at_call = state.in_transport
        return
    state.at_call = False
    if doc is None:
        if qualifier == "22":
            state.voyage["office"] = place
    elif qualifier == "13":
        doc.transshipment.append(place)
    elif qualifier == "ZRC":
        doc.routing.append(place)
    elif qualifier == "22":
        doc.office = place
    elif qualifier in ("7", "9", "11", "27", "28"):
        doc.places[qualifier] = place


def _party(segment: Segment, role: str) -> dict[str, Any]:
    ident, code_list, agency = (part(segment, 1, i) for i in range(3))
    # a party named by its code alone (NAD+CA+HLCU:160:ZZZ) goes by the code
    name = " ".join(p for p in (part(segment, 3, i) for i in range(5)) if p) or ident
    address = {
        "street": part(segment, 4) or None, "city": part(segment, 5) or None,
        "postcode": part(segment, 7) or None, "country": part(segment, 8) or None,
    }  # fmt: skip
    return {
        "role": role,
        "kind": "person" if agency == "ZZP" or code_list == "ZZP" else "organisation",
        "name": name,
        "address": address if any(address.values()) else None,
        "eori": ident if ident and code_list in ("EORI", "ZZZ") else None,
        "vat": ident if ident and code_list == "VAT" else None,
    }


def _movement(state: _State, message: Message) -> dict[str, Any] | None:
    v = state.voyage
    if not v.get("voyage") and not v.get("id"):
        return None
    vessel_id = v.get("id") or ""
    conveyance: dict[str, Any] = {
        "kind": "vessel", "name": v.get("name") or None, "flag": v.get("flag") or None,
    }  # fmt: skip
    if v.get("id_list") in ("146", "IMO"):
        conveyance["imo"] = vessel_id
    elif vessel_id:
        conveyance["call_sign"] = vessel_id
    for extra in ("mmsi", "call_sign"):
        if v.get(extra):
            conveyance[extra] = v[extra]
    if v.get("carrier"):
        conveyance["operator"] = {"name": v["carrier"]}
    itinerary = v.get("calls", [])
    return {
        "record": "movement",
        "ref": v.get("ref") or f"{vessel_id or 'VESSEL'}-{v.get('voyage') or message.reference}",
        "conveyance": conveyance,
        "itinerary": itinerary,
        "persons_on_board": int(v["persons"]) if v.get("persons", "").isdigit() else None,
        "source": message_source(message),
    }


def message_source(message: Message) -> dict[str, Any]:
    """The provenance of a record read from `message`."""
    return {
        "message_ref": f"{message.interchange or '-'}/{message.reference}",
        "sender": message.sender,
    }


def _consignment(
    state: _State, doc: _Document, message: Message, movement: dict[str, Any] | None
) -> dict[str, Any]:
    v = state.voyage
    loading, discharge = doc.places.get("9"), doc.places.get("11")
    equipment = doc.equipment or [state.equipment[n] for n in doc.linked if n in state.equipment]
    declared = doc.declared or v.get("declared")
    last_call = (v.get("calls") or [{}])[-1]
    arrival = doc.arrival or (last_call["arrival"].date() if last_call.get("arrival") else None)
    return {
        "record": "consignment",
        "mode": "sea",
        "document": {
            "kind": doc.kind or "bill_of_lading",
            "number": doc.number,
            "master_number": doc.master,
        },
        "movement_ref": movement["ref"] if movement else None,
        "office": doc.office or v.get("office"),
        "declared_at": declared,
        "arrival_date": arrival,
        "parties": doc.parties,
        "place_of_loading": loading,
        "place_of_discharge": discharge,
        "place_of_delivery": doc.places.get("7"),
        "origin_country": doc.places.get("27") or (loading or "")[:2] or None,
        "destination_country": doc.places.get("28") or (discharge or "")[:2] or None,
        "transshipment_places": doc.transshipment,
        "routing_countries": doc.routing,
        "goods": doc.goods,
        "equipment": [dict(e) for e in equipment],
        "freight": doc.freight or None,
        "source": message_source(message),
    }


# --- writing -----------------------------------------------------------------------------------


def _esc(value: object) -> str:
    text = str(value)
    for c in "?:+'":
        text = text.replace(c, "?" + c)
    return text


def _seg(*elements: object) -> str:
    parts = []
    for e in elements:
        if isinstance(e, (list, tuple)):
            components = [_esc(c) for c in e]
            # trailing empty components go, an escaped ':' at the end of a value stays
            while components and components[-1] == "":
                components.pop()
            parts.append(":".join(components))
        else:
            parts.append("" if e is None else _esc(e))
    while parts and parts[-1] == "":
        parts.pop()
    return "+".join(parts) + "'"


def _stamp(when: datetime) -> tuple[str, str]:
    when = when.astimezone(UTC)
    return (
        (when.strftime("%Y%m%d%H%M%S"), "204")
        if when.second
        else (when.strftime("%Y%m%d%H%M"), "203")
    )


@dataclass(frozen=True)
class Codes:
    """The qualifiers a writer uses for a sender: role → NAD code, document kind → RFF code."""

    roles: Mapping[str, str]
    documents: Mapping[str, str]

    @classmethod
    def for_sender(cls, sender: str) -> Codes:
        mapping = mapping_for(sender)
        # the first code listed for a role is the one written
        return cls(
            {role: code for code, role in reversed(list(mapping.parties.items()))},
            {kind: code for code, kind in reversed(list(mapping.documents.items()))},
        )


def interchange(
    messages: Sequence[list[str]], *, sender: str, recipient: str, reference: str,
    prepared: datetime,
) -> str:  # fmt: skip
    """One interchange around `messages` (each its segments from UNH on, UNT added here)."""
    stamp = prepared.astimezone(UTC).strftime("%y%m%d:%H%M")
    body = "".join(
        "".join(segments) + _seg("UNT", str(len(segments) + 1), segments[0][4:].split("+")[0])
        for segments in messages
    )
    return (
        "UNA:+.? '"
        + _seg("UNB", ["UNOC", "3"], [sender, "ZZ"], [recipient, "ZZ"], stamp.split(":"), reference)
        + body
        + _seg("UNZ", str(len(messages)), reference)
    )


def voyage_references(movement: Movement) -> list[str]:
    """RFF segments for what TDT cannot say: the movement reference, MMSI, a call sign beside
    the IMO number, the persons on board."""
    c = movement.conveyance
    out = [_seg("RFF", ["VON", movement.ref])]
    if c.mmsi:
        out.append(_seg("RFF", ["ZMS", c.mmsi]))
    if c.imo and c.call_sign:
        out.append(_seg("RFF", ["ZCS", c.call_sign]))
    if movement.persons_on_board is not None:
        out.append(_seg("RFF", ["ZPB", movement.persons_on_board]))
    return out


def transport_segment(movement: Movement) -> str:
    """TDT+20 with the voyage, the operator and the vessel (IMO, else call sign)."""
    c = movement.conveyance
    vessel = [c.imo, "146", "11", c.name or "", c.flag or ""] if c.imo else [
        c.call_sign or "", "103", "", c.name or "", c.flag or ""]  # fmt: skip
    carrier = ["", "", "", c.operator.name] if c.operator else ""
    return _seg("TDT", "20", movement.ref[-17:], "1", "", carrier, "", "", vessel)


def call_segments(movement: Movement) -> list[str]:
    """The itinerary: LOC+5 departure, LOC+ZCL calls between, LOC+60 arrival, with times."""
    out = []
    calls = movement.itinerary
    for i, call in enumerate(calls):
        qualifier = "60" if i == len(calls) - 1 else "5" if i == 0 else "ZCL"
        out.append(_seg("LOC", qualifier, [call.place, "139", "6"]))
        if call.arrival:
            out.append(_seg("DTM", ["132", *_stamp(call.arrival)]))
        if call.departure:
            out.append(_seg("DTM", ["133", *_stamp(call.departure)]))
    return out


def document_references(doc: Consignment, codes: Codes) -> list[str]:
    d = doc.document
    out = [_seg("RFF", [codes.documents[d.kind.value], d.number])]
    if d.master_number:
        out.append(_seg("RFF", [codes.documents["master"], d.master_number]))
    return out


def document_dates(doc: Consignment) -> list[str]:
    return [
        _seg("DTM", ["137", *_stamp(doc.declared_at)]),
        _seg("DTM", ["132", doc.arrival_date.strftime("%Y%m%d"), "102"]),
    ]


def port_segments(doc: Consignment) -> list[str]:
    """LOC+9 port of loading and LOC+11 port of discharge."""
    return [
        _seg("LOC", "9", [doc.place_of_loading, "139", "6"]),
        _seg("LOC", "11", [doc.place_of_discharge, "139", "6"]),
    ]


def route_segments(doc: Consignment) -> list[str]:
    """The document's other places: delivery, transhipments, countries, routing."""
    out = []
    if doc.place_of_delivery:
        out.append(_seg("LOC", "7", [doc.place_of_delivery, "139", "6"]))
    out += [_seg("LOC", "13", [p, "139", "6"]) for p in doc.transshipment_places]
    out.append(_seg("LOC", "27", [doc.origin_country, "162", "5"]))
    out.append(_seg("LOC", "28", [doc.destination_country, "162", "5"]))
    out += [_seg("LOC", "ZRC", [c, "162", "5"]) for c in doc.routing_countries]
    return out


def office_segments(doc: Consignment) -> list[str]:
    return [_seg("LOC", "22", doc.office)] if doc.office else []


def freight_segments(doc: Consignment, codes: Codes) -> list[str]:
    if doc.freight is None:
        return []
    f = doc.freight
    out = []
    if f.amount is not None:
        out.append(_seg("MOA", ["64", f.amount, f.currency or ""]))
    payer = codes.roles[f.payer_role.value] if f.payer_role else ""
    if f.terms != "unknown" or payer:
        terms = {"prepaid": "P", "collect": "C", "unknown": ""}[f.terms]
        out.append(_seg("CPI", "4", payer, terms))
    return out


def party_segments(party: Any, qualifier: str) -> list[str]:
    if party.eori:
        ident = [party.eori, "EORI", "ZZP" if party.kind == "person" else ""]
    else:
        ident = ["", "ZZP"] if party.kind == "person" else []
    a = party.address
    out = [_seg("NAD", qualifier, ident, "", [party.name], a and a.street, a and a.city, "",
                a and a.postcode, a and a.country)]  # fmt: skip
    if party.vat:
        out.append(_seg("RFF", ["VA", party.vat]))
    if party.phone or party.email:
        out.append(_seg("CTA", "IC"))
        if party.phone:
            out.append(_seg("COM", [party.phone, "TE"]))
        if party.email:
            out.append(_seg("COM", [party.email, "EM"]))
    return out


def parties_segments(doc: Consignment, codes: Codes) -> list[str]:
    return [s for party in doc.parties for s in party_segments(party, codes.roles[party.role])]


def equipment_segments(doc: Consignment) -> list[str]:
    out = []
    for e in doc.equipment:
        size = [e.size_type, "102", "5"] if e.size_type else ""
        out.append(_seg("EQD", "CN", e.number, size, "", "", "5" if e.full else "4"))
        out += [_seg("SEL", s, "CA") for s in e.seals]
        if e.reefer and not (e.size_type and len(e.size_type) >= 3 and e.size_type[2] == "R"):
            out.append(_seg("TMP", "2"))
    return out


def goods_segments(doc: Consignment, *, hs_in: str) -> list[str]:
    """GID groups; the HS code in `CST++<code>` (CUSCAR) or `PIA+5+<code>:HS` (IFTM*)."""
    out = []
    for i, g in enumerate(doc.goods, start=1):
        out.append(_seg("GID", str(i), [g.packages, g.package_kind or ""]))
        if hs_in == "PIA":
            out.append(_seg("PIA", "5", [g.hs_code, "HS"]))
        out.append(_seg("FTX", "AAA", "", "", [g.description]))
        out.append(_seg("MEA", "AAE", "G", ["KGM", g.gross_mass_kg]))
        if g.net_mass_kg is not None:
            out.append(_seg("MEA", "AAE", "AAF", ["KGM", g.net_mass_kg]))
        if g.value is not None:
            out.append(_seg("MOA", ["38", g.value, g.currency or ""]))
        if hs_in == "CST":
            out.append(_seg("CST", "", g.hs_code))
    return out


def consignment_group(n: int, doc: Consignment, codes: Codes, *, hs_in: str) -> list[str]:
    """One CNI group (CUSCAR, IFCSUM): references, dates, places, freight, parties, equipment,
    goods."""
    return [
        _seg("CNI", str(n), doc.document.number),
        *document_references(doc, codes),
        *document_dates(doc),
        *office_segments(doc),
        *port_segments(doc),
        *route_segments(doc),
        *freight_segments(doc, codes),
        *parties_segments(doc, codes),
        *equipment_segments(doc),
        *goods_segments(doc, hs_in=hs_in),
    ]
