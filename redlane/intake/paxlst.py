"""UN/EDIFACT PAXLST (API passenger and crew lists, D:02B/D:05B, IATA/WCO guidelines):
messages to traveller records, and back.

A PAXLST message reports one flight: its legs (`TDT+20` with `LOC+125` departure and
`DTM+189`, `LOC+87` arrival) and one group per person (`NAD+FL` passenger, `NAD+FM` crew,
`DDU`/`DDT` in transit) with sex (`ATT+2`), date of birth (`DTM+329`), embarkation and
disembarkation (`LOC+178`/`179`, which pick the person's legs out of the flight's), contacts
(`COM`), nationality (`NAT+2`) and the travel document (`DOC`, expiry `DTM+36`, issuing state
`LOC+91`). Countries are ISO alpha-3, airports IATA codes.

Conventions where PAXLST has no code (mutually defined, documented in docs/intake.md):
`RFF+VON` the movement reference (without it: flight number and departure date,
'KL742-20261102'), `FTX+ZMR` the document's machine-readable zone (one line a component),
and an airport whose IATA code other airports share written as its UN/LOCODE (`:139:6`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydifact.segments import Segment

from redlane.intake.cuscar import MappingError
from redlane.intake.edifact import Message, element, parse_time, part
from redlane.intake.passengers import (
    DOCUMENT_CODES,
    airport_code,
    century_before,
    country3,
    escape,
    read_airport,
    read_country,
    read_document_kind,
    read_sex,
    segment,
    source_of,
)
from redlane.model import Leg, Traveller

_ROLES = {"FL": "passenger", "DDU": "passenger", "FM": "crew", "DDT": "crew"}
_LIST_CODES = {"passenger": "745", "crew": "250"}
_NAD_CODES = {"passenger": "FL", "crew": "FM"}


@dataclass
class _Person:
    index: int
    role: str
    surname: str
    given_names: str
    data: dict[str, Any] = field(default_factory=dict)
    document: dict[str, Any] | None = None
    embark: tuple[int, str] | None = None
    disembark: tuple[int, str] | None = None


def paxlst_time(text: str, fmt: str) -> datetime:
    """A DTM date and time: format 201 (YYMMDDHHMM, as IATA sends it), 203 or 204; without a
    format code, by its length."""
    if not fmt:
        fmt = {10: "201", 12: "203", 14: "204"}.get(len(text), "")
    try:
        if fmt == "201":
            return datetime.strptime("20" + text, "%Y%m%d%H%M").replace(tzinfo=UTC)
        return parse_time(text, fmt)
    except ValueError:
        raise ValueError(
            f"{text!r} (format {fmt or 'none'}) is not a time YYMMDDHHMM (201), CCYYMMDDHHMM "
            "(203) or CCYYMMDDHHMMSS (204)"
        ) from None


def paxlst_date(text: str, fmt: str, born_before: date | None) -> date:
    """A DTM date: CCYYMMDD (102) or YYMMDD (101 or no code). A two-digit year of birth is the
    latest one not after `born_before`; other two-digit years are 20YY."""
    try:
        if fmt == "102" or (not fmt and len(text) == 8):
            return datetime.strptime(text, "%Y%m%d").date()
        if fmt in ("101", "") and len(text) == 6 and text.isdigit():
            yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
            if born_before is not None:
                return century_before(yy, month, day, born_before)
            return date(2000 + yy, month, day)
    except ValueError:
        pass
    raise ValueError(f"{text!r} (format {fmt or 'none'}) is not a date CCYYMMDD or YYMMDD")


def read_paxlst(message: Message) -> list[tuple[int, dict[str, Any]]]:
    """(segment index of the person's NAD, canonical traveller dict) per person; raises
    MappingError naming the segment for what cannot be read."""
    legs: list[dict[str, Any]] = []
    people: list[_Person] = []
    movement_ref: str | None = None
    for index, seg in enumerate(message.segments):
        try:
            person = people[-1] if people else None
            if seg.tag == "RFF" and part(seg, 0, 0) == "VON" and person is None:
                movement_ref = part(seg, 0, 1) or None
            elif seg.tag == "TDT" and person is None:
                legs.append(
                    {"carrier": part(seg, 4, 0) or None, "flight_number": part(seg, 1) or None}
                )
            elif seg.tag == "NAD" and part(seg, 0) in _ROLES:
                given = " ".join(p for p in (part(seg, 3, i) for i in range(1, 5)) if p)
                people.append(_Person(index, _ROLES[part(seg, 0)], part(seg, 3, 0), given))
            elif person is None:
                _flight_segment(seg, legs)
            else:
                _person_segment(seg, index, person)
        except (ValueError, IndexError) as exc:
            raise MappingError(message.where(index), None, str(exc)) from exc
    if movement_ref is None:
        movement_ref = _derived_ref(legs, message)
    first_departure = next((leg["departs_at"] for leg in legs if leg.get("departs_at")), None)
    born_before = (first_departure or datetime.now(UTC)).date()
    out = []
    for person in people:
        birth: tuple[str, str, int] | None = person.data.get("_birth")
        if birth is not None:
            text, fmt, at = birth
            try:
                person.data["date_of_birth"] = paxlst_date(text, fmt, born_before)
            except ValueError as exc:
                raise MappingError(message.where(at), "date_of_birth", str(exc)) from exc
        try:
            out.append((person.index, _traveller(person, legs, movement_ref, message)))
        except ValueError as exc:
            raise MappingError(message.where(person.index), "itinerary", str(exc)) from exc
    return out


def _flight_segment(seg: Segment, legs: list[dict[str, Any]]) -> None:
    leg = legs[-1] if legs else None
    if leg is None:
        return
    if seg.tag == "LOC" and part(seg, 0) == "125":
        leg["origin"] = read_airport(part(seg, 1), "departure airport")
        leg["_at"] = "origin"
    elif seg.tag == "LOC" and part(seg, 0) == "87":
        leg["destination"] = read_airport(part(seg, 1), "arrival airport")
        leg["_at"] = "destination"
    elif seg.tag == "DTM" and part(seg, 0, 0) == "189" and leg.get("_at") == "origin":
        leg["departs_at"] = paxlst_time(part(seg, 0, 1), part(seg, 0, 2))


def _person_segment(seg: Segment, index: int, person: _Person) -> None:
    tag, qualifier = seg.tag, part(seg, 0, 0)
    data = person.data
    if tag == "DOC":
        if person.document is None:
            person.document = {"kind": read_document_kind(qualifier), "number": part(seg, 1)}
        else:  # a second document (a visa beside the passport): only the first is kept
            data["_other_document"] = True
    elif tag == "ATT" and qualifier == "2":
        data["sex"] = read_sex(part(seg, 2, 0))
    elif tag == "DTM" and qualifier == "329":
        data["_birth"] = (part(seg, 0, 1), part(seg, 0, 2), index)
    elif tag == "DTM" and qualifier == "36" and _in_first_document(person, data):
        assert person.document is not None
        person.document["expires_on"] = paxlst_date(part(seg, 0, 1), part(seg, 0, 2), None)
    elif tag == "LOC" and qualifier == "178":
        person.embark = (index, read_airport(part(seg, 1), "embarkation airport"))
    elif tag == "LOC" and qualifier == "179":
        person.disembark = (index, read_airport(part(seg, 1), "disembarkation airport"))
    elif tag == "LOC" and qualifier == "91" and _in_first_document(person, data):
        assert person.document is not None
        person.document["issuing_country"] = read_country(part(seg, 1), "issuing state")
    elif tag == "NAT" and qualifier == "2":
        data["nationality"] = read_country(part(seg, 1), "nationality")
    elif tag == "COM":
        kind = {"TE": "phone", "EM": "email"}.get(part(seg, 0, 1))
        if kind:
            data[kind] = part(seg, 0, 0) or None
    elif tag == "FTX" and qualifier == "ZMR" and _in_first_document(person, data):
        assert person.document is not None
        lines = element(seg, 3)
        person.document["mrz"] = "\n".join(lines) if isinstance(lines, list) else str(lines)


def _in_first_document(person: _Person, data: dict[str, Any]) -> bool:
    return person.document is not None and not data.get("_other_document")


def _derived_ref(legs: list[dict[str, Any]], message: Message) -> str:
    for leg in legs:
        if leg.get("flight_number") and leg.get("departs_at"):
            return f"{leg['flight_number']}-{leg['departs_at']:%Y%m%d}"
    raise MappingError(
        message.locator, "movement_ref", "no RFF+VON and no flight with a departure time (TDT)"
    )


def _traveller(
    person: _Person, legs: list[dict[str, Any]], movement_ref: str, message: Message
) -> dict[str, Any]:
    data = person.data
    return {
        "record": "traveller",
        "movement_ref": movement_ref,
        "role": person.role,
        "surname": person.surname,
        "given_names": person.given_names,
        "date_of_birth": data.get("date_of_birth"),
        "sex": data.get("sex"),
        "nationality": data.get("nationality"),
        "document": person.document,
        "itinerary": _own_legs(person, legs),
        "phone": data.get("phone"),
        "email": data.get("email"),
        "source": source_of(message),
    }


def _own_legs(person: _Person, legs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flight's legs this person travels: from the one leaving the embarkation airport to
    the one reaching the disembarkation airport (all legs when neither is given)."""
    clean = [{k: v for k, v in leg.items() if not k.startswith("_")} for leg in legs]
    if not clean:
        return clean
    start, end = 0, len(clean) - 1
    whole = (person.embark is None or person.embark[1] == clean[0].get("origin")) and (
        person.disembark is None or person.disembark[1] == clean[-1].get("destination")
    )
    if whole:
        return clean
    if person.embark is not None:
        starts = [i for i, leg in enumerate(clean) if leg.get("origin") == person.embark[1]]
        if not starts:
            raise ValueError(f"embarkation airport {person.embark[1]} is on none of the legs")
        start = starts[0]
    if person.disembark is not None:
        ends = [
            i for i, leg in enumerate(clean)
            if i >= start and leg.get("destination") == person.disembark[1]
        ]  # fmt: skip
        if not ends:
            raise ValueError(
                f"disembarkation airport {person.disembark[1]} is on none of the legs after "
                "embarkation"
            )
        end = ends[0]
    return clean[start : end + 1]


# --- writing -----------------------------------------------------------------------------------


def _stamp(when: datetime) -> tuple[str, str]:
    when = when.astimezone(UTC)
    if when.second:
        return when.strftime("%Y%m%d%H%M%S"), "204"
    return when.strftime("%Y%m%d%H%M"), "203"


def _leg_key(leg: Leg) -> tuple[Any, ...]:
    return (leg.origin, leg.destination, leg.departs_at, leg.carrier, leg.flight_number)


def write_paxlst(
    travellers: Sequence[Traveller],
    *,
    sender: str,
    recipient: str,
    reference: str,
    prepared: datetime,
) -> str:
    """One interchange (in a PAXLST functional group) with one message per flight, list kind
    (passengers, crew) and itinerary. Travellers with a booking travel in PNRGOV instead
    (`write_pnrgov`): PAXLST has no place for it, so they are refused here."""
    groups: dict[tuple[Any, ...], list[Traveller]] = {}
    for t in travellers:
        if t.booking is not None:
            raise ValueError(
                f"{t.surname} on {t.movement_ref} has a booking: write it with write_pnrgov"
            )
        key = (t.movement_ref, t.role, tuple(_leg_key(leg) for leg in t.itinerary))
        groups.setdefault(key, []).append(t)
    stamp = prepared.astimezone(UTC).strftime("%y%m%d:%H%M").split(":")
    messages = [
        _message(n, people, sender, reference) for n, people in enumerate(groups.values(), start=1)
    ]
    return (
        "UNA:+.? '"
        + segment("UNB", ["UNOC", "3"], [sender, "ZZ"], [recipient, "ZZ"], stamp, reference)
        + segment("UNG", "PAXLST", sender, recipient, stamp, reference, "UN", ["D", "05B"])
        + "".join(messages)
        + segment("UNE", str(len(messages)), reference)
        + segment("UNZ", "1", reference)
    )


def _message(number: int, people: list[Traveller], sender: str, reference: str) -> str:
    first = people[0]
    body = [
        segment("UNH", str(number), ["PAXLST", "D", "05B", "UN", "IATA"]),
        segment("BGM", _LIST_CODES[first.role]),
        segment("RFF", ["TN", f"{reference}-{number}"]),
        segment("RFF", ["VON", first.movement_ref]),
        segment("NAD", "MS", "", "", [sender]),
    ]
    for leg in first.itinerary:
        body += [
            segment("TDT", "20", leg.flight_number, "", "", [leg.carrier]),
            segment("LOC", "125", airport_code(leg.origin)),
            segment("DTM", ["189", *_stamp(leg.departs_at)]),
            segment("LOC", "87", airport_code(leg.destination)),
        ]
    for t in people:
        body += _person(t)
    body.append(segment("CNT", ["42", str(len(people))]))
    body.append(segment("UNT", str(len(body) + 1), str(number)))
    return "".join(body)


def _person(t: Traveller) -> list[str]:
    d = t.document
    out = [segment("NAD", _NAD_CODES[t.role], "", "", [t.surname, t.given_names])]
    if t.sex:
        out.append(segment("ATT", "2", "", [t.sex]))
    out.append(segment("DTM", ["329", t.date_of_birth.strftime("%Y%m%d"), "102"]))
    out.append(segment("LOC", "178", airport_code(t.itinerary[0].origin)))
    out.append(segment("LOC", "179", airport_code(t.itinerary[-1].destination)))
    if t.phone:
        out.append(segment("COM", [t.phone, "TE"]))
    if t.email:
        out.append(segment("COM", [t.email, "EM"]))
    out.append(segment("NAT", "2", country3(t.nationality)))
    out.append(segment("DOC", [DOCUMENT_CODES[d.kind], "110", "111"], d.number))
    if d.expires_on:
        out.append(segment("DTM", ["36", d.expires_on.strftime("%Y%m%d"), "102"]))
    out.append(segment("LOC", "91", country3(d.issuing_country)))
    if d.mrz:
        # every line kept, empty ones too, so the zone reads back as it was
        out.append("FTX+ZMR+++" + ":".join(escape(line) for line in d.mrz.split("\n")) + "'")
    return out
