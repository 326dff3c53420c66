"""IATA Cargo-IMP (Type-B text): FWB air waybills, FHL house lists and FFM flight manifests.

A file holds messages one after the other. Each message opens with its identifier line
(`FWB/16`, `FHL/5`, `FFM/8`); a Type-B envelope may stand before it (an address line such as
`QK MADCUXA` and an origin line such as `.RDLDEMO 021200`, whose address becomes the sender),
and blank lines between messages are skipped. A message ends where the next envelope or
identifier line starts, or at the end of the file; an FFM ends with `LAST` or `CONT`.

Lines are tags (three letters, then `/` and `/`-separated fields) followed by continuation lines
that start with `/`. Where a field is the last of its line it takes the rest of the line, so
names, streets and descriptions may contain `/`. Mapping:

- FWB -> one consignment (air waybill; AWB number kept as sent, its mod-7 check is the store's
  `awb_check_digit_valid` fact), parties from `SHP`, `CNE`, `AGT` (forwarder) and `NFY`, goods
  from `RTD` (`/NG` description, `/NH` HS code), freight from `CVD` and `PPD`/`COL`.
- FHL -> one house consignment per `HBS` under the master of `MBI`, goods from `HBS`, `TXT`
  and `HTS`, parties from `SHP`/`CNE` (`NAM`, `ADR`, `LOC`), freight terms from `CVD`.
- FFM -> the flight as a movement (carrier and flight number, registration, the point of
  loading and the points of unloading as the itinerary) and the shipments it carries
  (`Shipment`, read but not stored: consignments point at their flight by `movement_ref`).

IATA codes become UN/LOCODEs through `redlane.reference.airport_locode`. What Cargo-IMP has no
field for travels in `OCI` lines with mutually defined control information identifiers (all
starting with Z, see `docs/intake.md`); messages from others read without them (the movement
reference then is the flight and its day, `LH400/15`, in FWB and FFM alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, TextIO

from redlane.intake.canonical import Problem, RawRecord
from redlane.model import Consignment, Movement, Party, RoledParty
from redlane.reference import airport_locode, places

#: The message identifiers this module maps (any other Cargo-IMP message is refused by name).
MESSAGE_TYPES = ("FWB", "FHL", "FFM")
#: The longest a message may be, in lines, before it is refused (a runaway without an opener).
MAX_MESSAGE_LINES = 20_000

_OPENER = re.compile(r"F[A-Z]{2}/\d{1,3}")
_ADDRESS_LINE = re.compile(r"Q[A-Z] [A-Z0-9]{7}( [A-Z0-9]{7})*")
_ORIGIN_LINE = re.compile(r"\.([A-Z0-9]{7})( .*)?")
_TAG_LINE = re.compile(r"([A-Z]{3})(?:/(.*))?")
_AWB = r"\d{3}-?\d{8}"
_AWB_LINE = re.compile(
    rf"(?P<awb>{_AWB})(?P<origin>[A-Z0-9]{{3}})(?P<destination>[A-Z0-9]{{3}})"
    r"(?:/(?P<code>[TPSDM])(?P<pieces>\d{1,9})(?P<unit>[KL])(?P<weight>\d{1,20}(?:\.\d{1,20})?)"
    r"(?P<extra>[A-Z][A-Z0-9.]*)?(?:/(?P<description>.*))?)?"
)
_FLIGHT = r"[A-Z0-9]{2}[A-Z]?\d{1,4}[A-Z]?"
_FFM_FLIGHT_LINE = re.compile(
    rf"\d{{1,4}}/(?P<flight>{_FLIGHT})/(?P<day>\d{{2}})(?P<month>[A-Z]{{3}})(?:\d{{4}})?"
    r"/(?P<origin>[A-Z0-9]{3})(?:/(?P<registration>[^/]*))?(?:/.*)?"
)
_UNLOADING_LINE = re.compile(r"([A-Z0-9]{3})(?:/\d{2}[A-Z]{3}\d{0,4}.*)?")
_FFM_TAGS = frozenset({"ULD", "SPH", "OCI", "DIM", "OSI", "COR", "COI", "SCI", "SSR", "MOV"})
_NUMBER = re.compile(r"\d{1,20}(?:\.\d{1,20})?")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_EORI = re.compile(r"[A-Z]{2}[0-9A-Z]{1,15}")
_POUND_KG = 0.45359237

#: FWB party segments and the roles they give, in the order an FWB lists them.
FWB_PARTIES = {"SHP": "consignor", "CNE": "consignee", "AGT": "forwarder", "NFY": "notify_party"}
FHL_PARTIES = {"SHP": "consignor", "CNE": "consignee"}
_ROLE_TAG = {role: tag for tag, role in FWB_PARTIES.items()}


class CargoImpError(ValueError):
    """A Cargo-IMP message (or a record to write as one) that cannot be mapped: names the
    message, the line and its tag, the field and the reason."""

    def __init__(self, locator: str, field: str | None, reason: str) -> None:
        self.locator = locator
        self.field = field
        self.reason = reason
        super().__init__(f"{locator}: {field + ': ' if field else ''}{reason}")


@dataclass(frozen=True)
class CargoImpReadError:
    """Text of the file that is no message (lines outside any message, a runaway message)."""

    locator: str
    reason: str
    raw: str
    sender: str | None = None


@dataclass
class CargoImpMessage:
    """One message as read: its identifier, its lines with their line numbers in the file."""

    number: int
    """1-based position of the message in the file."""
    type: str
    version: str
    lines: list[tuple[int, str]]
    """(line number in the file, text) from the identifier line on, blank lines left out."""
    raw: str
    """The message's text as sent, envelope included (what quarantine keeps)."""
    sender: str | None = None

    @cached_property
    def key(self) -> str:
        """What the message is about: the AWB (FWB), the master AWB (FHL), the flight (FFM)."""
        second = self.lines[1][1] if len(self.lines) > 1 else ""
        if self.type == "FFM":
            found = _FFM_FLIGHT_LINE.fullmatch(second)
            return f"{found['flight']}/{found['day']}" if found else "?"
        found = re.match(rf"(?:MBI/)?({_AWB})", second)
        return found.group(1) if found else "?"

    @cached_property
    def locator(self) -> str:
        return f"message {self.number} ({self.type} {self.key})"

    def where(self, line: tuple[int, str], segment: str | None = None) -> str:
        """Locator of one of the message's lines: 'message 3 (FWB 020-12345675), line 7 SHP'
        (a continuation line is named by the `segment` it continues)."""
        tag = _TAG_LINE.fullmatch(line[1])
        segment = segment or (tag.group(1) if tag else None)
        return f"{self.locator}, line {line[0]}" + (f" {segment}" if segment else "")


@dataclass(frozen=True)
class Shipment:
    """One consignment line of a flight manifest: the air waybill and what of it flies."""

    awb: str
    origin: str
    """IATA airport codes, as sent."""
    destination: str
    pieces: int
    weight_kg: float
    description: str | None = None
    unloading: str | None = None
    """The point of unloading the manifest lists it under (IATA)."""


@dataclass
class FlightManifest:
    """An FFM: the flight as a canonical movement dict, and the shipments it carries."""

    movement: dict[str, Any]
    shipments: list[Shipment] = field(default_factory=list)


# --- reading the file into messages -----------------------------------------------------------


def recognise(head: str) -> bool:
    """Whether a file's opening text is Cargo-IMP: its first line, after blank and envelope
    lines, is a message identifier such as `FWB/16`."""
    for line in head.splitlines()[:50]:
        text = line.strip()
        if not text or _ADDRESS_LINE.fullmatch(text) or _ORIGIN_LINE.fullmatch(text):
            continue
        return bool(_OPENER.fullmatch(text))
    return False


def read_stream(handle: TextIO) -> Iterator[CargoImpMessage | CargoImpReadError]:
    """The messages of a Cargo-IMP file in order, line by line (never the whole file); text
    that belongs to no message comes as a CargoImpReadError."""
    number = 0
    envelope: list[str] = []
    sender: str | None = None
    body: list[tuple[int, str]] = []
    raw: list[str] = []
    stray: list[tuple[int, str]] = []

    def finish() -> Iterator[CargoImpMessage | CargoImpReadError]:
        nonlocal number, body, raw, stray
        if stray:
            number += 1
            yield CargoImpReadError(
                f"line {stray[0][0]}",
                f"{stray[0][1][:30]!r} is outside any message (no FWB/FHL/FFM line before it)",
                "\n".join(t for _, t in stray) + "\n",
            )
            stray = []
        if body:
            number += 1
            kind, version = body[0][1].split("/", 1)
            yield CargoImpMessage(number, kind, version, body, "\n".join(raw) + "\n", sender)
            body, raw = [], []

    for line_number, line in enumerate(handle, start=1):
        text = line.rstrip()
        plain = text.lstrip()
        if not plain:
            continue
        first = plain[0]
        if (first == "Q" and _ADDRESS_LINE.fullmatch(plain)) or (
            first == "." and _ORIGIN_LINE.fullmatch(plain)
        ):
            if not envelope:
                yield from finish()
                sender = None
            envelope.append(plain)
            origin = _ORIGIN_LINE.fullmatch(plain)
            if origin:
                sender = origin.group(1)
            continue
        if first == "F" and _OPENER.fullmatch(plain):
            yield from finish()
            if not envelope:
                sender = None
            raw, envelope = [*envelope, plain], []
            body = [(line_number, plain)]
            continue
        if envelope:
            # an envelope that no message follows: its lines are stray text
            stray += [(line_number, t) for t in envelope]
            envelope = []
        if body:
            body.append((line_number, text))
            raw.append(text)
            if len(body) > MAX_MESSAGE_LINES:
                number += 1
                yield CargoImpReadError(
                    f"message {number}, line {body[0][0]}",
                    f"the message runs on for more than {MAX_MESSAGE_LINES} lines",
                    "\n".join(raw[:200]) + "\n",
                    sender,
                )
                body, raw = [], []
        else:
            stray.append((line_number, text))
            if len(stray) > MAX_MESSAGE_LINES:
                yield from finish()
    if envelope:
        stray += [(0, t) for t in envelope]
    yield from finish()


def records(item: CargoImpMessage | CargoImpReadError) -> tuple[list[RawRecord], list[Problem]]:
    """The canonical records of one message (each with its line as locator and the message as
    text), or the problem that stops the whole message."""
    if isinstance(item, CargoImpReadError):
        return [], [Problem(item.locator, None, item.reason, item.raw, sender=item.sender)]
    try:
        mapped = map_message(item)
    except CargoImpError as exc:
        return [], [Problem(exc.locator, exc.field, exc.reason, item.raw, sender=item.sender)]
    return [RawRecord(locator, data, item.raw) for locator, data in mapped], []


def map_message(message: CargoImpMessage) -> list[tuple[str, dict[str, Any]]]:
    """(locator, canonical dict) per record of one message; raises CargoImpError naming the
    line for what cannot be read. Validation of the values is the model's."""
    if message.type not in MESSAGE_TYPES:
        raise CargoImpError(
            message.where(message.lines[0]),
            None,
            f"{message.type} messages are not read here (only {', '.join(MESSAGE_TYPES)})",
        )
    if message.type == "FWB":
        return [read_fwb(message)]
    if message.type == "FHL":
        return read_fhl(message)
    manifest = read_ffm(message)
    return [(message.where(message.lines[1]), manifest.movement)]


# --- reading: shared pieces --------------------------------------------------------------------


def _fields(text: str) -> list[str]:
    """The fields after a tag or the leading `/` of a continuation line."""
    found = _TAG_LINE.fullmatch(text)
    if found:
        return (found.group(2) or "").split("/") if found.group(2) is not None else []
    return text[1:].split("/") if text.startswith("/") else [text]


def _rest(fields: Sequence[str], start: int) -> str:
    """Fields `start` on joined again: a line's last field takes the rest of the line."""
    return "/".join(fields[start:])


def _number(text: str, where: str, what: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise CargoImpError(where, what, f"{text[:30]!r} is not a number")
    return float(text)


def _whole(text: str, where: str, what: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise CargoImpError(where, what, f"{text[:30]!r} is not a whole number")
    return int(text)


def _weight(unit: str, value: str, where: str) -> float:
    kg = _number(value, where, "weight")
    return kg if unit == "K" else round(kg * _POUND_KG, 3)


_STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d{6}))?")


def _stamp(text: str, where: str, what: str) -> datetime:
    found = _STAMP.fullmatch(text)
    try:
        if found is None:
            raise ValueError
        year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
        micro = int(found.group(7) or 0)
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        raise CargoImpError(where, what, f"{text[:30]!r} is not a time as YYYYMMDDHHMMSS") from None


def _day(text: str, where: str, what: str) -> date:
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CargoImpError(where, what, f"{text[:30]!r} is not a date as YYYYMMDD") from None


def _text_date(text: str, where: str, what: str) -> date:
    """A Cargo-IMP date such as 15JUN24."""
    if len(text) != 7 or text[2:5] not in _MONTHS or not (text[:2] + text[5:]).isdigit():
        raise CargoImpError(where, what, f"{text[:30]!r} is not a date such as 15JUN24")
    try:
        return date(2000 + int(text[5:]), _MONTHS.index(text[2:5]) + 1, int(text[:2]))
    except ValueError:
        raise CargoImpError(where, what, f"{text!r} is no day of the calendar") from None


def resolve_airport(iata: str, explicit: str | None, country: str | None) -> str | None:
    """The UN/LOCODE of an airport as the reader finds it: the explicit LOCODE sent beside the
    IATA code, else the IATA code (told apart by the country where it is ambiguous)."""
    if explicit:
        return explicit
    return (airport_locode(iata, country) if country else None) or airport_locode(iata)


def _airport(iata: str, explicit: str | None, country: str | None, where: str, what: str) -> str:
    found = resolve_airport(iata, explicit, country)
    if found is None:
        raise CargoImpError(where, what, f"airport {iata!r} is not one known airport in UN/LOCODE")
    return found


@dataclass
class _Oci:
    """The OCI lines of a message or house: value and locator by (information id, control id),
    in the order sent."""

    entries: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, fields: Sequence[str], where: str) -> None:
        info = fields[1] if len(fields) > 1 else ""
        code = fields[2] if len(fields) > 2 else ""
        self.entries.setdefault((info, code), []).append((_rest(fields, 3), where))

    def of(self, info: str, code: str) -> list[tuple[str, str]]:
        """(value, locator) of every entry with this information and control identifier."""
        return self.entries.get((info, code), [])

    def one(self, info: str, code: str) -> tuple[str, str] | None:
        found = self.of(info, code)
        return found[-1] if found else None


def _apply_party_oci(party: dict[str, Any], tag: str, oci: _Oci) -> None:
    for value, _ in oci.of(tag, "T"):
        party["eori" if _EORI.fullmatch(value) else "vat"] = value
    for value, _ in oci.of(tag, "ZV"):
        party["vat"] = value
    if oci.of(tag, "ZP"):
        party["kind"] = "person"
    for value, _ in oci.of(tag, "ZE"):
        party["email"] = value


def _empty_party(role: str) -> dict[str, Any]:
    return {"role": role, "kind": "organisation", "name": "", "address": {}}


def _place_line(fields: Sequence[str]) -> str:
    """`PLACE[/STATE]`: the state (last field when there are several) is left out."""
    return _rest(fields, 0) if len(fields) <= 1 else _rest(fields[:-1], 0)


def _country_line(party: dict[str, Any], fields: Sequence[str]) -> None:
    """`/CC/POSTCODE/TE/phone`: country, postcode and contacts (TE the phone)."""
    address = party["address"]
    address["country"] = fields[0] if fields else ""
    address["postcode"] = fields[1] if len(fields) > 1 else ""
    contacts = list(fields[2:])
    for i in range(0, len(contacts) - 1, 2):
        if contacts[i] == "TE" and not party.get("phone"):
            party["phone"] = contacts[i + 1]


def _finish_party(party: dict[str, Any]) -> dict[str, Any]:
    address = {k: (v or None) for k, v in party["address"].items()}
    return {**party, "address": address if any(address.values()) else None}


@dataclass
class _Facts:
    """What a consignment's own lines say, before the mutually defined OCI lines overlay it."""

    number: str
    kind: str
    master: str | None
    origin: str
    destination: str
    where: str
    parties: list[dict[str, Any]] = field(default_factory=list)
    party_tags: list[str] = field(default_factory=list)
    goods: list[dict[str, Any]] = field(default_factory=list)
    flight: tuple[str, str] | None = None
    issued: date | None = None
    routing: list[tuple[str, str]] = field(default_factory=list)
    """(IATA airport, locator) of each leg of the routing, the destination last."""
    freight: dict[str, Any] | None = None
    oci: _Oci = field(default_factory=_Oci)


def _consignment(facts: _Facts, message: CargoImpMessage) -> dict[str, Any]:
    oci = facts.oci
    for party, tag in zip(facts.parties, facts.party_tags, strict=True):
        _apply_party_oci(party, tag, oci)
    parties = [_finish_party(p) for p in facts.parties]

    def explicit(code: str) -> str | None:
        found = oci.one("", code)
        return found[0] if found else None

    by_role = {p["role"]: p for p in parties}
    shipper_country = ((by_role.get("consignor") or {}).get("address") or {}).get("country")
    consignee_country = ((by_role.get("consignee") or {}).get("address") or {}).get("country")
    loading = _airport(
        facts.origin, explicit("ZL"), explicit("ZF") or shipper_country, facts.where, "origin"
    )
    discharge = _airport(
        facts.destination, explicit("ZU"), explicit("ZT") or consignee_country, facts.where,
        "destination",
    )  # fmt: skip
    transshipment = [v for v, _ in oci.of("", "ZS")] or [
        _airport(iata, None, None, where, "routing") for iata, where in facts.routing[:-1]
    ]
    declared: datetime | None = None
    stamp = oci.one("", "ZD")
    if stamp:
        declared = _stamp(stamp[0], stamp[1], "declared at (ZD)")
    elif facts.issued:
        declared = datetime(facts.issued.year, facts.issued.month, facts.issued.day, tzinfo=UTC)
    arrival: date | None = None
    day = oci.one("", "ZA")
    if day:
        arrival = _day(day[0], day[1], "arrival date (ZA)")
    elif facts.issued and facts.flight:
        arrival = _flight_date(facts.issued, int(facts.flight[1]))
    movement = oci.one("", "ZM")
    movement_ref = (
        movement[0]
        if movement
        else f"{facts.flight[0]}/{int(facts.flight[1]):02d}"
        if facts.flight
        else None
    )
    freight = facts.freight
    if freight is None and oci.one("", "ZW"):
        freight = {"terms": "unknown"}
    if freight is not None:
        amount = oci.one("", "ZW")
        if amount:
            freight["amount"] = _number(amount[0], amount[1], "freight amount (ZW)")
        implied = {"prepaid": "consignor", "collect": "consignee"}.get(freight["terms"])
        payer = oci.one("", "ZQ")
        freight["payer_role"] = (payer[0] or None) if payer else implied
    goods = facts.goods
    for value, where in oci.of("", "ZG"):
        _apply_goods_line(goods, value, where, facts.kind == "house_air_waybill")
    return {
        "record": "consignment",
        "mode": "air",
        "document": {"kind": facts.kind, "number": facts.number, "master_number": facts.master},
        "movement_ref": movement_ref,
        "office": explicit("ZO"),
        "declared_at": declared,
        "arrival_date": arrival,
        "parties": parties,
        "place_of_loading": loading,
        "place_of_discharge": discharge,
        "place_of_delivery": explicit("ZY"),
        "origin_country": explicit("ZF") or loading[:2],
        "destination_country": explicit("ZT") or discharge[:2],
        "transshipment_places": transshipment,
        "routing_countries": [v for v, _ in oci.of("", "ZR")],
        "goods": goods,
        "equipment": [],
        "freight": freight,
        "source": {"message_ref": f"{message.type} {message.key}", "sender": message.sender},
    }


def _flight_date(issued: date, day: int) -> date | None:
    """The first date on or after the waybill's issue that falls on the flight's day."""
    for ahead in range(0, 62):
        candidate = issued + timedelta(days=ahead)
        if candidate.day == day:
            return candidate
    return None


def _apply_goods_line(goods: list[dict[str, Any]], value: str, where: str, opens: bool) -> None:
    """`ZG/<item>/<pieces>/<package kind>/<gross>/<net>/<value>/<currency>`: an item's facts
    that the standard lines do not carry (in an FHL, its pieces and mass too)."""
    parts = [*value.split("/"), *[""] * 7][:7]
    number = _whole(parts[0], where, "goods item (ZG)")
    if not 1 <= number <= len(goods) + (1 if opens else 0):
        raise CargoImpError(where, "goods item (ZG)", f"there is no goods item {number}")
    if number > len(goods):
        goods.append({})
    item = goods[number - 1]
    if parts[1]:
        item["packages"] = _whole(parts[1], where, "pieces (ZG)")
    item["package_kind"] = parts[2] or None
    if parts[3]:
        item["gross_mass_kg"] = _number(parts[3], where, "gross mass (ZG)")
    item["net_mass_kg"] = _number(parts[4], where, "net mass (ZG)") if parts[4] else None
    item["value"] = _number(parts[5], where, "value (ZG)") if parts[5] else None
    item["currency"] = parts[6] or None


def _terms(fields: Sequence[str]) -> str:
    """Prepaid or collect from the first `PP`/`CC`-like field of a CVD after the currency."""
    for text in fields[1:]:
        if text[:1] in ("P", "C") and re.fullmatch(r"[PC][A-Z]?", text):
            return "prepaid" if text[0] == "P" else "collect"
    return "unknown"


def _segments(
    message: CargoImpMessage, start: int
) -> Iterator[tuple[tuple[int, str], list[tuple[int, str]]]]:
    """(tag line, its continuation lines) from line `start` of the message on."""
    current: tuple[int, str] | None = None
    continuation: list[tuple[int, str]] = []
    for line in message.lines[start:]:
        if line[1].startswith("/"):
            if current is None:
                raise CargoImpError(message.where(line), None, "a continuation line without a tag")
            continuation.append(line)
            continue
        if not _TAG_LINE.fullmatch(line[1]):
            raise CargoImpError(
                message.where(line),
                None,
                f"{line[1][:30]!r} is neither a segment (a three-letter tag) nor a continuation",
            )
        if current is not None:
            yield current, continuation
        current, continuation = line, []
    if current is not None:
        yield current, continuation


# --- FWB ---------------------------------------------------------------------------------------


def read_fwb(message: CargoImpMessage) -> tuple[str, dict[str, Any]]:
    """(locator of the AWB line, canonical consignment dict) of an FWB."""
    if len(message.lines) < 2:
        raise CargoImpError(message.where(message.lines[0]), None, "no air waybill line")
    line = message.lines[1]
    where = message.where(line)
    awb = _AWB_LINE.fullmatch(line[1])
    if awb is None:
        raise CargoImpError(
            where, "air waybill", f"{line[1][:30]!r} is not AWB, origin and destination"
        )
    facts = _Facts(awb["awb"], "air_waybill", None, awb["origin"], awb["destination"], where)
    for (number, text), more in _segments(message, 2):
        tag = text[:3]
        at = message.where((number, text))
        fields = _fields(text)
        if tag in FWB_PARTIES:
            if tag in facts.party_tags:
                raise CargoImpError(at, tag, f"a second {tag} party")
            facts.party_tags.append(tag)
            facts.parties.append(_fwb_party(FWB_PARTIES[tag], [t for _, t in more]))
        elif tag == "FLT" and facts.flight is None and len(fields) >= 2:
            flight, day = fields[0], fields[1]
            if not re.fullmatch(_FLIGHT, flight) or not re.fullmatch(r"\d{2}", day):
                raise CargoImpError(at, "flight", f"{text[:30]!r} is not a flight and its day")
            facts.flight = (flight, day)
        elif tag == "RTG":
            for leg in [fields, *(_fields(t) for _, t in more)]:
                for part in leg:
                    if not re.fullmatch(r"[A-Z0-9]{3}[A-Z0-9]{2}", part):
                        raise CargoImpError(at, "routing", f"{part[:30]!r} is not airport+carrier")
                    facts.routing.append((part[:3], at))
        elif tag == "RTD":
            _fwb_goods(facts.goods, fields, more, message)
        elif tag == "CVD":
            facts.freight = {**(facts.freight or {}), "currency": (fields or [""])[0] or None,
                             "terms": _terms(fields)}  # fmt: skip
        elif tag in ("PPD", "COL"):
            for part in [*fields, *(p for _, t in more for p in _fields(t))]:
                if part.startswith("WT"):
                    facts.freight = facts.freight or {"currency": None, "terms": "unknown"}
                    facts.freight["amount"] = _number(part[2:], at, "weight charge")
        elif tag == "ISU" and fields:
            facts.issued = _text_date(fields[0], at, "issued")
        elif tag == "OCI":
            facts.oci.add(fields, at)
            for continued in more:
                facts.oci.add(_fields(continued[1]), message.where(continued, "OCI"))
    return where, _consignment(facts, message)


def _fwb_party(role: str, lines: list[str]) -> dict[str, Any]:
    """`/NAME`, `/STREET`, `/PLACE[/STATE]`, `/CC/POSTCODE/TE/phone`; an agent's two lines
    are its name and place."""
    party = _empty_party(role)
    fields = [_fields(t) for t in lines]
    if fields:
        party["name"] = _rest(fields[0], 0)
    if len(fields) == 2:
        party["address"]["city"] = _place_line(fields[1])
    elif len(fields) >= 3:
        party["address"]["street"] = _rest(fields[1], 0)
        party["address"]["city"] = _place_line(fields[2])
    if len(fields) >= 4:
        _country_line(party, fields[3])
    return party


def _fwb_goods(
    goods: list[dict[str, Any]],
    fields: list[str],
    more: list[tuple[int, str]],
    message: CargoImpMessage,
) -> None:
    """One rate line: `RTD/<n>/P<pieces>/K<weight>/...`, then `/NG/`, `/NC/`, `/NH/` lines."""
    item: dict[str, Any] = {}
    for part in fields[1:]:
        if re.fullmatch(r"P\d{1,9}", part) and "packages" not in item:
            item["packages"] = int(part[1:])
        elif re.fullmatch(r"[KL]\d.*", part) and "gross_mass_kg" not in item:
            item["gross_mass_kg"] = _weight(part[0], part[1:], message.locator)
    descriptions: dict[str, str] = {}
    for line in more:
        parts = _fields(line[1])
        if parts and parts[0].isdigit():
            parts = parts[1:]
        if not parts:
            continue
        code = parts[0]
        if code in ("NG", "NC") and code not in descriptions:
            descriptions[code] = _rest(parts, 1)
        elif code == "NH" and "hs_code" not in item and len(parts) > 1:
            item["hs_code"] = parts[1]
    description = descriptions.get("NG") or descriptions.get("NC")
    if description is not None:
        item["description"] = description
    goods.append(item)


# --- FHL ---------------------------------------------------------------------------------------


def read_fhl(message: CargoImpMessage) -> list[tuple[str, dict[str, Any]]]:
    """(locator of the HBS line, canonical house consignment dict) per house of an FHL."""
    if len(message.lines) < 2:
        raise CargoImpError(message.where(message.lines[0]), None, "no MBI line")
    line = message.lines[1]
    mbi = re.fullmatch(rf"MBI/({_AWB})[A-Z0-9]{{6}}(?:/.*)?", line[1])
    if mbi is None:
        raise CargoImpError(
            message.where(line), "MBI", f"{line[1][:30]!r} is not the master AWB and its airports"
        )
    master = mbi.group(1)
    houses: list[tuple[_Facts, list[str], list[str], str]] = []
    party: dict[str, Any] | None = None
    for (number, text), more in _segments(message, 2):
        tag = text[:3]
        at = message.where((number, text))
        fields = _fields(text)
        if tag == "HBS":
            houses.append(_house(fields, master, at))
            party = None
            continue
        if not houses:
            continue  # what stands before the first house belongs to no consignment
        facts, texts, codes, _ = houses[-1]
        if tag == "TXT":
            texts += [_rest(fields, 0), *(_rest(_fields(t), 0) for _, t in more)]
        elif tag == "HTS":
            codes += [*fields, *(p for _, t in more for p in _fields(t))]
        elif tag == "OCI":
            facts.oci.add(fields, at)
            for continued in more:
                facts.oci.add(_fields(continued[1]), message.where(continued, "OCI"))
        elif tag in FHL_PARTIES:
            if tag in facts.party_tags:
                raise CargoImpError(at, tag, f"a second {tag} party in one house")
            facts.party_tags.append(tag)
            party = _empty_party(FHL_PARTIES[tag])
            facts.parties.append(party)
        elif tag in ("NAM", "ADR", "LOC") and party is not None:
            if tag == "NAM":
                party["name"] = _rest(fields, 0)
            elif tag == "ADR":
                party["address"]["street"] = _rest(fields, 0)
            else:
                party["address"]["city"] = _place_line(fields)
                if more:
                    _country_line(party, _fields(more[0][1]))
        elif tag == "CVD":
            facts.freight = {"currency": (fields or [""])[0] or None, "terms": _terms(fields)}
    out = []
    for facts, texts, codes, description in houses:
        if facts.oci.of("", "ZG"):
            # one item per ZG line: descriptions from TXT and codes from HTS, in order
            facts.goods = []
            for value, where in facts.oci.of("", "ZG"):
                _apply_goods_line(facts.goods, value, where, True)
            for i, item in enumerate(facts.goods):
                item["description"] = texts[i] if i < len(texts) else description
                if i < len(codes):
                    item["hs_code"] = codes[i]
            facts.oci.entries.pop(("", "ZG"), None)
        else:
            item = facts.goods[0]
            item["description"] = " ".join(texts) if texts else description
            if codes:
                item["hs_code"] = codes[0]
        out.append((facts.where, _consignment(facts, message)))
    return out


def _house(fields: list[str], master: str, where: str) -> tuple[_Facts, list[str], list[str], str]:
    """`HBS/<house>/<origin><destination>/<pieces>/K<weight>/<SLAC>/<nature of goods>`."""
    if len(fields) < 4 or not fields[0] or not re.fullmatch(r"[A-Z0-9]{6}", fields[1]):
        raise CargoImpError(where, "HBS", "not house number, airports, pieces and weight")
    weight = fields[3]
    if not re.fullmatch(r"[KL].+", weight):
        raise CargoImpError(where, "weight", f"{weight[:30]!r} is not K or L and a number")
    facts = _Facts(fields[0], "house_air_waybill", master, fields[1][:3], fields[1][3:], where)
    facts.goods.append(
        {
            "packages": _whole(fields[2], where, "pieces"),
            "gross_mass_kg": _weight(weight[0], weight[1:], where),
        }
    )
    return facts, [], [], _rest(fields, 5)


# --- FFM ---------------------------------------------------------------------------------------


def read_ffm(message: CargoImpMessage) -> FlightManifest:
    """The flight of an FFM as a canonical movement dict, and its shipments."""
    if len(message.lines) < 2:
        raise CargoImpError(message.where(message.lines[0]), None, "no flight line")
    line = message.lines[1]
    where = message.where(line)
    flight = _FFM_FLIGHT_LINE.fullmatch(line[1])
    if flight is None or flight["month"] not in _MONTHS:
        raise CargoImpError(
            where, "flight", f"{line[1][:30]!r} is not sequence/flight/date/point of loading"
        )
    oci = _Oci()
    points: list[tuple[str, str]] = [(flight["origin"], where)]
    shipments: list[Shipment] = []
    ended = False
    last_tag = ""
    for number, text in message.lines[2:]:
        at = message.where((number, text))
        if ended:
            raise CargoImpError(at, None, "a line after LAST or CONT")
        if text in ("LAST", "CONT"):
            ended = True
            continue
        tag = _TAG_LINE.fullmatch(text)
        if text.startswith("/"):
            if last_tag == "OCI" and len(points) == 1:
                oci.add(_fields(text), message.where((number, text), "OCI"))
            continue
        if tag and tag.group(1) in _FFM_TAGS:
            last_tag = tag.group(1)
            if last_tag == "OCI" and len(points) == 1:
                oci.add(_fields(text), at)
            continue
        last_tag = ""
        shipment = _AWB_LINE.fullmatch(text)
        if shipment:
            if len(points) == 1:
                raise CargoImpError(at, None, "a consignment before any point of unloading")
            if shipment["pieces"] is None:
                raise CargoImpError(at, "pieces", "no pieces and weight after the airports")
            shipments.append(
                Shipment(
                    shipment["awb"], shipment["origin"], shipment["destination"],
                    _whole(shipment["pieces"], at, "pieces"),
                    _weight(shipment["unit"], shipment["weight"], at),
                    shipment["description"], points[-1][0],
                )
            )  # fmt: skip
            continue
        unloading = _UNLOADING_LINE.fullmatch(text)
        if unloading:
            points.append((unloading.group(1), at))
            continue
        raise CargoImpError(at, None, f"{text[:30]!r} is no FFM line")
    if not ended:
        raise CargoImpError(
            message.where(message.lines[-1]), None, "the FFM ends without LAST or CONT (cut off?)"
        )
    if len(points) == 1:
        raise CargoImpError(where, None, "no point of unloading")
    calls: list[dict[str, Any]] = []
    times = {}
    for value, at in oci.of("", "ZI"):
        parts = [*value.split("/"), "", "", ""][:4]
        index = _whole(parts[0], at, "call (ZI)")
        times[index] = (
            _stamp(parts[1], at, "arrival (ZI)") if parts[1] else None,
            _stamp(parts[2], at, "departure (ZI)") if parts[2] else None,
            parts[3] or None,
        )
    for index, (iata, at) in enumerate(points, start=1):
        arrival, departure, locode = times.get(index, (None, None, None))
        place = _airport(iata, locode, None, at, "airport")
        calls.append({"place": place, "arrival": arrival, "departure": departure})
    ref = oci.one("", "ZM")
    operator = oci.one("", "ZC")
    persons = oci.one("", "ZN")
    movement = {
        "record": "movement",
        "ref": ref[0] if ref else f"{flight['flight']}/{flight['day']}",
        "conveyance": {
            "kind": "aircraft",
            "registration": flight["registration"] or None,
            "operator": {"name": operator[0]} if operator else None,
        },
        "flight_number": flight["flight"],
        "itinerary": calls,
        "persons_on_board": _whole(persons[0], persons[1], "persons (ZN)") if persons else None,
        "source": {"message_ref": f"FFM {message.key}", "sender": message.sender},
    }
    return FlightManifest(movement, shipments)


# --- writing -----------------------------------------------------------------------------------


def _num(value: float) -> str:
    """A number as Cargo-IMP writes it: plain digits, no exponent, no trailing `.0`."""
    text = format(Decimal(repr(float(value))), "f")
    return text[:-2] if text.endswith(".0") else text


def _field(value: object, what: str, where: str, last: bool = False) -> str:
    """A value as one field: no line breaks, and no `/` unless it ends its line."""
    text = "" if value is None else str(value)
    if "\n" in text or "\r" in text:
        raise CargoImpError(where, what, "a line break cannot be written in Cargo-IMP")
    if not last and "/" in text:
        raise CargoImpError(where, what, f"{text[:30]!r}: a '/' can only end a line")
    return text


def _iata(locode: str) -> str:
    place = places().get(locode)
    return place.iata if place is not None and place.iata else locode[2:]


def _time(when: datetime) -> str:
    when = when.astimezone(UTC)
    return when.strftime("%Y%m%d%H%M%S") + (f".{when.microsecond:06d}" if when.microsecond else "")


def _text_day(when: datetime) -> str:
    """Day and month as Cargo-IMP writes them (15JUN), whatever the locale."""
    return f"{when.day:02d}{_MONTHS[when.month - 1]}"


def _oci_lines(entries: Sequence[tuple[str, str, str, str]]) -> list[str]:
    lines = []
    for i, (country, info, code, value) in enumerate(entries):
        lines.append(("OCI" if i == 0 else "") + f"/{country}/{info}/{code}/{value}")
    return lines


def envelope(recipient: str, sender: str, at: datetime) -> str:
    """A Type-B envelope (address line and origin line) to stand before a message."""
    for what, address in (("recipient", recipient), ("sender", sender)):
        if not re.fullmatch(r"[A-Z0-9]{7}", address):
            raise CargoImpError("envelope", what, f"{address!r} is not a 7-character address")
    return f"QK {recipient}\n.{sender} {at.astimezone(UTC).strftime('%d%H%M')}\n"


def _party_oci(party: RoledParty, tag: str, where: str) -> list[tuple[str, str, str, str]]:
    out = []
    if party.eori:
        out.append((party.eori[:2], tag, "T", _field(party.eori, "eori", where, True)))
    if party.vat:
        out.append(("", tag, "ZV", _field(party.vat, "vat", where, True)))
    if party.kind == "person":
        out.append(("", tag, "ZP", "PERSON"))
    if party.email:
        out.append(("", tag, "ZE", _field(party.email, "email", where, True)))
    return out


def _place_field(city: str | None, where: str) -> str:
    text = _field(city, "city", where, True)
    return text + "/" if "/" in text else text


def _country_fields(party: RoledParty, where: str) -> str | None:
    a = party.address
    country = a.country if a else None
    postcode = _field(a.postcode if a else None, "postcode", where)
    if not (country or postcode or party.phone):
        return None
    line = f"/{country or ''}/{postcode}"
    if party.phone:
        line += "/TE/" + _field(party.phone, "phone", where)
    return line


def _consignment_oci(
    c: Consignment, facts_where: str, routing: bool
) -> list[tuple[str, str, str, str]]:
    """The mutually defined OCI lines a consignment needs to read back unchanged (`routing`:
    whether an RTG line gives its transshipment airports)."""
    w = facts_where
    out: list[tuple[str, str, str, str]] = []
    if c.movement_ref is not None:
        out.append(("", "", "ZM", _field(c.movement_ref, "movement_ref", w, True)))
    if c.office is not None:
        out.append(("", "", "ZO", _field(c.office, "office", w, True)))
    out.append(("", "", "ZD", _time(c.declared_at)))
    out.append(("", "", "ZA", c.arrival_date.strftime("%Y%m%d")))
    by_role = {p.role.value: p for p in c.parties}
    shipper = by_role.get("consignor")
    consignee = by_role.get("consignee")
    origin_hint = (
        c.origin_country
        if c.origin_country != c.place_of_loading[:2]
        else (shipper.address.country if shipper and shipper.address else None)
    )
    dest_hint = (
        c.destination_country
        if c.destination_country != c.place_of_discharge[:2]
        else (consignee.address.country if consignee and consignee.address else None)
    )
    if resolve_airport(_iata(c.place_of_loading), None, origin_hint) != c.place_of_loading:
        out.append(("", "", "ZL", c.place_of_loading))
    if resolve_airport(_iata(c.place_of_discharge), None, dest_hint) != c.place_of_discharge:
        out.append(("", "", "ZU", c.place_of_discharge))
    if c.place_of_delivery is not None:
        out.append(("", "", "ZY", c.place_of_delivery))
    if c.origin_country != c.place_of_loading[:2]:
        out.append(("", "", "ZF", c.origin_country))
    if c.destination_country != c.place_of_discharge[:2]:
        out.append(("", "", "ZT", c.destination_country))
    if not routing or any(
        resolve_airport(_iata(p), None, None) != p for p in c.transshipment_places
    ):
        out += [("", "", "ZS", p) for p in c.transshipment_places]
    out += [("", "", "ZR", country) for country in c.routing_countries]
    f = c.freight
    if f is not None:
        implied = {"prepaid": "consignor", "collect": "consignee"}.get(f.terms)
        payer = f.payer_role.value if f.payer_role else None
        if payer != implied:
            out.append(("", "", "ZQ", payer or ""))
    return out


def _goods_oci(c: Consignment, where: str) -> list[tuple[str, str, str, str]]:
    out = []
    for i, g in enumerate(c.goods, start=1):
        parts = [
            str(i), str(g.packages), _field(g.package_kind, "package_kind", where),
            _num(g.gross_mass_kg), "" if g.net_mass_kg is None else _num(g.net_mass_kg),
            "" if g.value is None else _num(g.value), g.currency or "",
        ]  # fmt: skip
        out.append(("", "", "ZG", "/".join(parts)))
    return out


def _check_air(c: Consignment, where: str, kinds: dict[str, str]) -> None:
    if c.mode != "air":
        raise CargoImpError(where, "mode", f"a {c.mode} consignment is no air waybill")
    if c.equipment:
        raise CargoImpError(where, "equipment", "containers have no place in Cargo-IMP here")
    seen: set[str] = set()
    for p in c.parties:
        if p.role.value not in kinds or p.role.value in seen:
            raise CargoImpError(
                where, "parties", f"a {p.role.value} party has no (further) segment here"
            )
        seen.add(p.role.value)
    if not c.parties:
        raise CargoImpError(where, "parties", "no party to write")


def write_fwb(consignment: Consignment, movement: Movement | None = None) -> str:
    """One FWB/16 for an air waybill consignment (the flight from `movement`, if given); what
    it writes `read_fwb` reads back into the same consignment (provenance aside)."""
    c = consignment
    d = c.document
    where = f"air waybill {d.number}"
    if d.kind != "air_waybill" or not re.fullmatch(_AWB, d.number) or d.master_number:
        raise CargoImpError(where, "document", "an FWB is for an air waybill number (020-...)")
    _check_air(c, where, _ROLE_TAG)
    total_pieces = sum(g.packages for g in c.goods)
    total_weight = sum(g.gross_mass_kg for g in c.goods)
    lines = [
        "FWB/16",
        f"{d.number}{_iata(c.place_of_loading)}{_iata(c.place_of_discharge)}"
        f"/T{total_pieces}K{_num(total_weight)}",
    ]
    flight = movement.flight_number if movement is not None else None
    if flight and movement is not None:
        first = movement.itinerary[0]
        when = first.departure or first.arrival
        if when is not None:
            lines.append(f"FLT/{flight}/{when.astimezone(UTC).strftime('%d')}")
    carrier = flight[:2] if flight else "YY"
    legs = [*c.transshipment_places, c.place_of_discharge]
    lines.append("RTG/" + "/".join(f"{_iata(p)}{carrier}" for p in legs))
    ordered = sorted(c.parties, key=lambda p: list(_ROLE_TAG).index(p.role.value))
    oci: list[tuple[str, str, str, str]] = []
    for p in ordered:
        tag = _ROLE_TAG[p.role.value]
        a = p.address
        lines += [
            tag,
            "/" + _field(p.name, "name", where, True),
            "/" + _field(a.street if a else None, "street", where, True),
            "/" + _place_field(a.city if a else None, where),
            _country_fields(p, where) or "/",
        ]
        oci += _party_oci(p, tag, where)
    f = c.freight
    if f is not None:
        terms = {"prepaid": "PP", "collect": "CC", "unknown": ""}[f.terms]
        lines.append(f"CVD/{f.currency or ''}/{terms}/{terms}/NVD/NCV/XXX")
    for i, g in enumerate(c.goods, start=1):
        lines += [
            f"RTD/{i}/P{g.packages}/K{_num(g.gross_mass_kg)}",
            "/NG/" + _field(g.description, "description", where, True),
            f"/{i + 1}/NH/{g.hs_code}",
        ]
    if f is not None and f.amount is not None:
        lines.append(f"{'COL' if f.terms == 'collect' else 'PPD'}/WT{_num(f.amount)}")
    declared = c.declared_at.astimezone(UTC)
    lines.append(f"ISU/{_text_day(declared)}{declared.strftime('%y')}/{_iata(c.place_of_loading)}")
    oci += _consignment_oci(c, where, True) + _goods_oci(c, where)
    lines += _oci_lines(oci)
    return "\n".join(lines) + "\n"


def write_fhl(houses: Sequence[Consignment]) -> str:
    """One FHL/5 for house air waybills under one master; `read_fhl` reads back the houses."""
    if not houses:
        raise CargoImpError("FHL", "houses", "no house to write")
    master = houses[0].document.master_number
    if not master or not re.fullmatch(_AWB, master):
        raise CargoImpError("FHL", "master_number", f"{master!r} is no master AWB (020-...)")
    first = houses[0]
    pieces = sum(g.packages for h in houses for g in h.goods)
    weight = sum(g.gross_mass_kg for h in houses for g in h.goods)
    lines = [
        "FHL/5",
        f"MBI/{master}{_iata(first.place_of_loading)}{_iata(first.place_of_discharge)}"
        f"/T{pieces}K{_num(weight)}",
    ]
    for c in houses:
        d = c.document
        where = f"house air waybill {d.number}"
        if d.kind != "house_air_waybill" or d.master_number != master:
            raise CargoImpError(where, "document", f"not a house air waybill under {master}")
        if not re.fullmatch(r"[A-Z0-9]{1,12}", d.number):
            raise CargoImpError(where, "number", "a house number is 1-12 letters or digits")
        _check_air(c, where, {"consignor": "SHP", "consignee": "CNE"})
        lines.append(
            f"HBS/{d.number}/{_iata(c.place_of_loading)}{_iata(c.place_of_discharge)}"
            f"/{sum(g.packages for g in c.goods)}/K{_num(sum(g.gross_mass_kg for g in c.goods))}"
            f"//{_field(c.goods[0].description, 'description', where, True)}"
        )
        lines += [
            ("TXT/" if i == 0 else "/") + _field(g.description, "description", where, True)
            for i, g in enumerate(c.goods)
        ]
        lines += [("HTS/" if i == 0 else "/") + g.hs_code for i, g in enumerate(c.goods)]
        oci: list[tuple[str, str, str, str]] = []
        for p in sorted(c.parties, key=lambda p: list(_ROLE_TAG).index(p.role.value)):
            oci += _party_oci(p, _ROLE_TAG[p.role.value], where)
        oci += _consignment_oci(c, where, False) + _goods_oci(c, where)
        if c.freight is not None and c.freight.amount is not None:
            oci.append(("", "", "ZW", _num(c.freight.amount)))
        lines += _oci_lines(oci)
        for p in sorted(c.parties, key=lambda p: list(_ROLE_TAG).index(p.role.value)):
            a = p.address
            lines += [_ROLE_TAG[p.role.value], "NAM/" + _field(p.name, "name", where, True)]
            if a and a.street:
                lines.append("ADR/" + _field(a.street, "street", where, True))
            country = _country_fields(p, where)
            if (a and a.city) or country:
                lines.append("LOC/" + _place_field(a.city if a else None, where))
                if country:
                    lines.append(country)
        if c.freight is not None:
            terms = {"prepaid": "PP", "collect": "CC", "unknown": ""}[c.freight.terms]
            lines.append(f"CVD/{c.freight.currency or ''}/{terms}/NVD/NCV/XXX")
    return "\n".join(lines) + "\n"


def shipments_of(consignments: Sequence[Consignment]) -> list[Shipment]:
    """The lines of a flight manifest for consignments on one flight: each air waybill, and
    each master AWB with the pieces and weight of its houses on the flight."""
    out: dict[str, Shipment] = {}
    for c in consignments:
        d = c.document
        number = d.master_number if d.kind == "house_air_waybill" else d.number
        if number is None:
            continue
        pieces = sum(g.packages for g in c.goods)
        weight = sum(g.gross_mass_kg for g in c.goods)
        known = out.get(number)
        if known is None:
            description = (
                "CONSOLIDATION" if d.kind == "house_air_waybill" else c.goods[0].description
            )
            out[number] = Shipment(
                number, _iata(c.place_of_loading), _iata(c.place_of_discharge), pieces,
                round(weight, 3), description,
            )  # fmt: skip
        else:
            out[number] = Shipment(
                number, known.origin, known.destination, known.pieces + pieces,
                round(known.weight_kg + weight, 3), known.description,
            )  # fmt: skip
    return list(out.values())


def write_ffm(movement: Movement, shipments: Sequence[Shipment] = ()) -> str:
    """One FFM/8 for a flight and the shipments it carries (each listed under the point of
    unloading of its destination, else the last); `read_ffm` reads back the same movement."""
    m = movement
    where = f"movement {m.ref}"
    c = m.conveyance
    if c.kind != "aircraft":
        raise CargoImpError(where, "conveyance", f"a {c.kind.value} is no aircraft")
    extra = [
        n for n in ("name", "flag", "imo", "mmsi", "call_sign", "plates", "owner", "acquired_on")
        if getattr(c, n)
    ]  # fmt: skip
    operator = c.operator
    if operator is not None and operator != Party(name=operator.name):
        extra.append("operator (more than its name)")
    if extra:
        raise CargoImpError(where, "conveyance", f"{', '.join(extra)}: no place in an FFM")
    if not m.flight_number or len(m.itinerary) < 2:
        raise CargoImpError(where, "flight_number", "an FFM needs a flight and two airports")
    first = m.itinerary[0]
    when = first.departure or first.arrival
    if when is None:
        raise CargoImpError(where, "itinerary", "the first airport has no time: no flight date")
    registration = _field(c.registration, "registration", where)
    lines = [
        "FFM/8",
        f"1/{m.flight_number}/{_text_day(when.astimezone(UTC))}"
        f"/{_iata(first.place)}" + (f"/{registration}" if registration else ""),
    ]
    oci = [("", "", "ZM", _field(m.ref, "ref", where, True))]
    if operator is not None:
        oci.append(("", "", "ZC", _field(operator.name, "operator", where, True)))
    if m.persons_on_board is not None:
        oci.append(("", "", "ZN", str(m.persons_on_board)))
    for i, call in enumerate(m.itinerary, start=1):
        explicit = (
            "" if resolve_airport(_iata(call.place), None, None) == call.place else call.place
        )
        arrival = _time(call.arrival) if call.arrival else ""
        departure = _time(call.departure) if call.departure else ""
        if arrival or departure or explicit:
            oci.append(("", "", "ZI", f"{i}/{arrival}/{departure}/{explicit}"))
    lines += _oci_lines(oci)
    points = [_iata(call.place) for call in m.itinerary[1:]]
    placed: dict[int, list[Shipment]] = {}
    for s in shipments:
        if not re.fullmatch(_AWB, s.awb):
            raise CargoImpError(where, "shipment", f"{s.awb!r} is no AWB number")
        at = points.index(s.destination) if s.destination in points else len(points) - 1
        placed.setdefault(at, []).append(s)
    for i, point in enumerate(points):
        lines.append(point)
        for s in placed.get(i, []):
            lines.append(
                f"{s.awb}{s.origin}{s.destination}/T{s.pieces}K{_num(s.weight_kg)}"
                + ("" if s.description is None else "/" + _field(s.description, "description",
                                                                  where, True))
            )  # fmt: skip
    lines.append("LAST")
    return "\n".join(lines) + "\n"
