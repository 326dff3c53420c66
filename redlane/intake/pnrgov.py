"""IATA PADIS PNRGOV (PNR push to governments, 11.1): messages to traveller records with their
booking, and back.

A push message names the flight (`TVL`) and holds one group per PNR (`SRC`): the record
locator and its creation time (`RCI`), the booking office (`ORG`, a travel agent when its
originator type is `T`), contacts (`IFT+4:28` with `CTCR`/`CTCM` phone, `CTCE` email), the
travellers (`TIF` surname and given names, each with `SSR+DOCS` free text: document type,
issuing state, number, nationality, date of birth, sex, expiry), checked bags (`TBD`), the form
of payment (`FOP`: CA cash, CC card) and the booked flights (`TVL`, one a leg). Dates are
DDMMYY, times HHMM; PADIS gives airports' local times, which redlane reads as UTC (the
reference data has no time zones) and writes as UTC.

Conventions where PNRGOV has no element (mutually defined, documented in docs/intake.md):
`RFF+VON` the movement reference (without it: flight number and departure date of the pushed
flight, 'KL742-20261102'); `IFT+4:ZMR` the document's machine-readable zone (one line an
element); `IFT+4:ZOW` a one-way journey; `IFT+4:ZTP` payment by a third party; `IFT+4:ZPS` the
party size where the PNR books more travellers than it names; `FOP` codes IV invoice, VO
voucher and FF miles; times with seconds written HHMMSS; an airport whose IATA code other
airports share written as its UN/LOCODE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydifact.segments import Segment

from redlane.intake.cuscar import MappingError
from redlane.intake.edifact import Message, element, part
from redlane.intake.passengers import (
    DOCUMENT_CODES,
    airport_code,
    century_before,
    country3,
    read_airport,
    read_country,
    read_document_kind,
    read_sex,
    segment,
    source_of,
)
from redlane.model import Leg, Traveller

PAYMENT_CODES = {"cash": "CA", "card": "CC", "invoice": "IV", "voucher": "VO", "miles": "FF"}
PAYMENT_FORMS = {code: form for form, code in PAYMENT_CODES.items()}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass
class _Person:
    index: int
    surname: str
    given_names: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Pnr:
    index: int
    booking: dict[str, Any] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    legs: list[dict[str, Any]] = field(default_factory=list)
    people: list[_Person] = field(default_factory=list)
    bags: int | None = None
    party_size: int | None = None


def padis_time(day: str, time: str) -> datetime:
    """A PADIS date DDMMYY (20YY) with a time HHMM or HHMMSS, as UTC."""
    if len(day) != 6 or not day.isdigit():
        raise ValueError(f"date {day!r} is not DDMMYY")
    if len(time) not in (4, 6) or not time.isdigit():
        raise ValueError(f"time {time!r} is not HHMM or HHMMSS")
    text = f"20{day[4:]}{day[2:4]}{day[:2]}{time}"
    try:
        when = datetime.strptime(text, "%Y%m%d%H%M%S" if len(time) == 6 else "%Y%m%d%H%M")
    except ValueError:
        raise ValueError(f"{day}:{time} is not a date DDMMYY and time HHMM") from None
    return when.replace(tzinfo=UTC)


def docs_date(text: str, born_before: date | None) -> date:
    """A DOCS date DDMMMYY ('12JUL64'): a birth date is the latest not after `born_before`,
    other dates are 20YY."""
    if len(text) != 7 or not text[:2].isdigit() or not text[5:].isdigit():
        raise ValueError(f"date {text!r} is not DDMMMYY")
    month = text[2:5].upper()
    if month not in _MONTHS:
        raise ValueError(f"date {text!r}: {month!r} is not a month")
    day, number, yy = int(text[:2]), _MONTHS.index(month) + 1, int(text[5:])
    try:
        if born_before is not None:
            return century_before(yy, number, day, born_before)
        return date(2000 + yy, number, day)
    except ValueError:
        raise ValueError(f"date {text!r} is not a day of the calendar") from None


def read_pnrgov(message: Message) -> list[tuple[int, dict[str, Any]]]:
    """(segment index of the traveller's TIF, canonical traveller dict) per traveller named in
    a PNR; raises MappingError naming the segment for what cannot be read."""
    movement_ref: str | None = None
    flight: dict[str, Any] | None = None
    pnrs: list[_Pnr] = []
    for index, seg in enumerate(message.segments):
        try:
            pnr = pnrs[-1] if pnrs else None
            if seg.tag == "SRC":
                pnrs.append(_Pnr(index))
            elif pnr is None:
                if seg.tag == "RFF" and part(seg, 0, 0) == "VON":
                    movement_ref = part(seg, 0, 1) or None
                elif seg.tag == "TVL" and flight is None:
                    flight = _leg(seg)
            else:
                _pnr_segment(seg, index, pnr)
        except (ValueError, IndexError) as exc:
            raise MappingError(message.where(index), None, str(exc)) from exc
    if movement_ref is None:
        if not flight or not flight.get("flight_number"):
            raise MappingError(
                message.locator, "movement_ref", "no RFF+VON and no flight (TVL) pushed"
            )
        movement_ref = f"{flight['flight_number']}-{flight['departs_at']:%Y%m%d}"
    out = []
    for pnr in pnrs:
        for person in pnr.people:
            try:
                out.append((person.index, _traveller(pnr, person, movement_ref, message)))
            except ValueError as exc:
                at = person.data.get("_docs", person.index)
                raise MappingError(message.where(at), "date_of_birth", str(exc)) from exc
    return out


def _leg(seg: Segment) -> dict[str, Any]:
    carrier = part(seg, 3, 0) or None
    number = part(seg, 4, 0)
    if carrier and number.isdigit():
        number = carrier + number
    return {
        "origin": read_airport(part(seg, 1), "departure airport"),
        "destination": read_airport(part(seg, 2), "arrival airport"),
        "departs_at": padis_time(part(seg, 0, 0), part(seg, 0, 1)),
        "carrier": carrier,
        "flight_number": number or None,
    }


def _free_text(seg: Segment) -> list[str]:
    texts = seg.elements[1:]
    return [t if isinstance(t, str) else ":".join(t) for t in texts]


def _pnr_segment(seg: Segment, index: int, pnr: _Pnr) -> None:
    tag = seg.tag
    person = pnr.people[-1] if pnr.people else None
    if tag == "RCI":
        pnr.booking["locator"] = part(seg, 0, 1)
        day, time = part(seg, 0, 3), part(seg, 0, 4)
        if day:
            pnr.booking["booked_at"] = padis_time(day, time or "0000")
    elif tag == "ORG" and part(seg, 5) == "T":
        pnr.booking["travel_agency"] = part(seg, 1, 0) or None
    elif tag == "TIF":
        pnr.people.append(_Person(index, part(seg, 0, 0), part(seg, 1, 0)))
    elif tag == "SSR" and part(seg, 0, 0) == "DOCS" and person is not None:
        _docs(seg, index, person)
    elif tag == "TBD":
        bags = part(seg, 1, 0)
        if not bags.isdigit():
            raise ValueError(f"TBD number of bags {bags!r} is not a whole number")
        if person is None:
            pnr.bags = int(bags)
        else:
            person.data["checked_bags"] = int(bags)
    elif tag == "FOP":
        pnr.booking["payment_form"] = PAYMENT_FORMS.get(part(seg, 0, 0), "unknown")
    elif tag == "TVL":
        pnr.legs.append(_leg(seg))
    elif tag == "IFT":
        _ift(seg, pnr, person)


def _ift(seg: Segment, pnr: _Pnr, person: _Person | None) -> None:
    kind = part(seg, 0, 1)
    texts = _free_text(seg)
    if kind == "28":
        text = "".join(texts)
        code, _, value = text.partition(" ")
        target = person.data if person is not None else pnr.contacts
        if code in ("CTCR", "CTCM", "CTCH", "CTCB") and value:
            target["phone"] = value
        elif code == "CTCE" and value:
            target["email"] = value
    elif kind == "ZMR" and person is not None:
        person.data["mrz"] = "\n".join(texts)
    elif kind == "ZOW":
        pnr.booking["one_way"] = True
    elif kind == "ZTP":
        pnr.booking["paid_by_third_party"] = True
    elif kind == "ZPS":
        size = "".join(texts)
        if not size.isdigit():
            raise ValueError(f"IFT ZPS party size {size!r} is not a whole number")
        pnr.party_size = int(size)


def _docs(seg: Segment, index: int, person: _Person) -> None:
    components = element(seg, 0)
    components = components if isinstance(components, list) else [components]
    text = next((c for c in components[1:] if c.startswith("/")), "")
    fields = text.split("/")
    if len(fields) < 8:
        raise ValueError(f"SSR DOCS {text!r} has fewer than 7 fields (type to expiry)")
    kind, issuer, number, nationality, born, sex, expiry = fields[1:8]
    person.data["document"] = {
        "kind": read_document_kind(kind),
        "issuing_country": read_country(issuer, "DOCS issuing state") if issuer else None,
        "number": number,
        "expires_on": docs_date(expiry, None) if expiry else None,
    }
    person.data["_born"] = born
    person.data["_docs"] = index
    person.data["sex"] = read_sex(sex)
    person.data["nationality"] = (
        read_country(nationality, "DOCS nationality") if nationality else None
    )


def _traveller(pnr: _Pnr, person: _Person, movement_ref: str, message: Message) -> dict[str, Any]:
    data = person.data
    booking = dict(pnr.booking)
    booked_at = booking.get("booked_at")
    reference = (booked_at or datetime.now(UTC)).date()
    booking["party_size"] = pnr.party_size or len(pnr.people)
    booking["checked_bags"] = data.get("checked_bags", pnr.bags or 0)
    document = data.get("document")
    if document is not None and "mrz" in data:
        document = {**document, "mrz": data["mrz"]}
    born = data.get("_born")
    return {
        "record": "traveller",
        "movement_ref": movement_ref,
        "role": "passenger",
        "surname": person.surname,
        "given_names": person.given_names,
        "date_of_birth": docs_date(born, reference) if born else None,
        "sex": data.get("sex"),
        "nationality": data.get("nationality"),
        "document": document,
        "itinerary": pnr.legs,
        "booking": booking,
        "phone": data.get("phone", pnr.contacts.get("phone")),
        "email": data.get("email", pnr.contacts.get("email")),
        "source": source_of(message),
    }


# --- writing -----------------------------------------------------------------------------------


def _day(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%d%m%y")


def _time(when: datetime) -> str:
    when = when.astimezone(UTC)
    return when.strftime("%H%M%S" if when.second else "%H%M")


def _docs_date(day: date) -> str:
    return f"{day.day:02d}{_MONTHS[day.month - 1]}{day.year % 100:02d}"


def _tvl(leg: Leg) -> str:
    number = leg.flight_number or ""
    if leg.carrier and number.startswith(leg.carrier) and number[len(leg.carrier) :].isdigit():
        number = number[len(leg.carrier) :]  # PADIS: the carrier apart, the number alone
    return segment(
        "TVL",
        [_day(leg.departs_at), _time(leg.departs_at)],
        airport_code(leg.origin),
        airport_code(leg.destination),
        [leg.carrier],
        [number],
    )


def write_pnrgov(
    travellers: Sequence[Traveller],
    *,
    sender: str,
    recipient: str,
    reference: str,
    prepared: datetime,
) -> str:
    """One interchange (in a PNRGOV functional group) with one push message per flight and
    one PNR per traveller. Only passengers with a booking are PNR data: others are refused
    (they travel in PAXLST, `write_paxlst`)."""
    flights: dict[str, list[Traveller]] = {}
    for t in travellers:
        if t.booking is None or t.role != "passenger":
            raise ValueError(
                f"{t.surname} on {t.movement_ref} is {t.role} without a booking in a PNR: "
                "write it with write_paxlst"
            )
        if "/" in t.document.number:
            raise ValueError(f"document number {t.document.number!r}: DOCS cannot hold a '/'")
        flights.setdefault(t.movement_ref, []).append(t)
    stamp = prepared.astimezone(UTC).strftime("%y%m%d:%H%M").split(":")
    messages = [
        _message(n, ref, people, sender, reference)
        for n, (ref, people) in enumerate(flights.items(), start=1)
    ]
    return (
        "UNA:+.? '"
        + segment("UNB", ["IATA", "1"], sender, recipient, stamp, reference)
        + segment("UNG", "PNRGOV", sender, recipient, stamp, reference, "IA", ["11", "1"])
        + "".join(messages)
        + segment("UNE", str(len(messages)), reference)
        + segment("UNZ", "1", reference)
    )


def _message(number: int, ref: str, people: list[Traveller], sender: str, reference: str) -> str:
    legs = people[0].itinerary
    flight = next((leg for leg in legs if leg.flight_number), legs[0])
    body = [
        segment("UNH", str(number), ["PNRGOV", "11", "1", "IA"], f"{reference}-{number}"),
        segment("MSG", ["", "22"]),
        segment("ORG", [sender]),
        segment("RFF", ["VON", ref]),
        _tvl(flight),
        segment("EQN", str(len(people))),
    ]
    for t in people:
        body += _pnr(t, sender)
    body.append(segment("UNT", str(len(body) + 1), str(number)))
    return "".join(body)


def _pnr(t: Traveller, sender: str) -> list[str]:
    b, d = t.booking, t.document
    assert b is not None
    out = [
        segment("SRC"),
        segment("RCI", [sender, b.locator, "", _day(b.booked_at), _time(b.booked_at)]),
    ]
    if b.travel_agency:
        out.append(segment("ORG", [sender], [b.travel_agency], "", "", "", "T"))
    if t.phone:
        out.append(segment("IFT", ["4", "28"], f"CTCR {t.phone}"))
    if t.email:
        out.append(segment("IFT", ["4", "28"], f"CTCE {t.email}"))
    if b.one_way:
        out.append(segment("IFT", ["4", "ZOW"], "ONE WAY"))
    if b.party_size != 1:
        out.append(segment("IFT", ["4", "ZPS"], str(b.party_size)))
    docs = "/".join(
        [
            "",
            DOCUMENT_CODES[d.kind],
            country3(d.issuing_country),
            d.number,
            country3(t.nationality),
            _docs_date(t.date_of_birth),
            t.sex or "",
            _docs_date(d.expires_on) if d.expires_on else "",
            t.surname,
            t.given_names,
        ]
    )
    out += [
        segment("TIF", [t.surname], [t.given_names, "A", "1"]),
        segment("SSR", ["DOCS", "HK", "1", sender, "", "", "", "", docs]),
    ]
    if d.mrz:
        out.append(segment("IFT", ["4", "ZMR"], *d.mrz.split("\n")))
    if b.checked_bags:
        out.append(segment("TBD", "", [str(b.checked_bags)]))
    if b.payment_form != "unknown":
        out.append(segment("FOP", [PAYMENT_CODES[b.payment_form]]))
    if b.paid_by_third_party:
        out.append(segment("IFT", ["4", "ZTP"], "PAID BY THIRD PARTY"))
    out += [_tvl(leg) for leg in t.itinerary]
    return out
