"""Air passenger data (API and PNR) shared by the PAXLST and PNRGOV mappers: the legal-basis
gate, airport and country codes, travel document kinds and the two-digit-year dates.

Passenger data is personal data whose collection needs a legal basis, so these formats are
read only when REDLANE_PASSENGER_DATA is on (`redlane.config.passenger_data`); otherwise the
reader refuses before it reads a single segment, and nothing lands in the store or quarantine.

One traveller record comes from one message: a PNRGOV push carries the passengers with a
booking (booking facts, the DOCS document, the itinerary of the PNR), a PAXLST list carries
the travellers without one (crew lists, and API-only passengers) with their checked-in
document. The two never describe the same record, so ingesting both stores each once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import cache
from typing import TextIO

import pycountry

from redlane.config import PASSENGER_DATA_SETTING, ConfigError, passenger_data
from redlane.intake.canonical import IntakeRefused
from redlane.intake.edifact import EdifactError, Message, read_stream
from redlane.model.codes import COUNTRY_CODES
from redlane.reference import airport_locode, places

#: Travel document kind ↔ the API document type code (IATA/WCO PAXLST and DOCS).
DOCUMENT_CODES = {
    "passport": "P",
    "id_card": "I",
    "residence_permit": "C",
    "visa": "V",
    "seaman_book": "S",
    "other": "F",
}
DOCUMENT_KINDS = {code: kind for kind, code in DOCUMENT_CODES.items()}
#: ISO 3166 alpha-3 codes that pycountry lacks, and the ICAO code Germany uses in documents.
_EXTRA_ALPHA3 = {"XKX": "XK", "RKS": "XK", "D": "DE"}
_LOCODE_LIST = ("139", "6")


def require_legal_basis() -> None:
    """Refuse passenger data unless the operator has switched it on (REDLANE_PASSENGER_DATA)."""
    try:
        allowed = passenger_data()
    except ConfigError as exc:
        raise IntakeRefused(str(exc)) from exc
    if not allowed:
        raise IntakeRefused(
            f"air passenger data (PAXLST, PNRGOV) is not read: {PASSENGER_DATA_SETTING} is off. "
            f"Set {PASSENGER_DATA_SETTING}=on only where a legal basis for collecting API/PNR "
            "data exists; nothing of the file was read or stored"
        )


def read_passenger_stream(handle: TextIO) -> Iterator[Message | EdifactError]:
    """The messages of a passenger data interchange; refuses before reading without the
    legal basis."""
    require_legal_basis()
    yield from read_stream(handle)


# --- places ------------------------------------------------------------------------------------


@cache
def airport_code(locode: str) -> tuple[str, ...]:
    """How a place is written in a passenger message: its IATA code where that code names this
    airport alone, else the UN/LOCODE with its code list (IATA codes that several airports
    share cannot be read back without a country, which PAXLST and PNRGOV do not give)."""
    place = places().get(locode)
    if place is not None and place.is_airport:
        iata = place.iata or locode[2:]
        if airport_locode(iata) == locode:
            return (iata,)
    return (locode, *_LOCODE_LIST)


def read_airport(code: str, what: str) -> str:
    """The UN/LOCODE of an airport written as an IATA code or as a UN/LOCODE."""
    code = code.strip().upper()
    if len(code) == 5:
        return code
    if len(code) == 3:
        found = airport_locode(code)
        if found is None:
            raise ValueError(f"{what} {code!r} is not an IATA airport code redlane knows")
        return found
    raise ValueError(f"{what} {code!r} is neither an IATA airport code nor a UN/LOCODE")


# --- countries ---------------------------------------------------------------------------------


@cache
def _alpha3_table() -> dict[str, str]:
    table = {c.alpha_3: c.alpha_2 for c in pycountry.countries}
    return {**table, **_EXTRA_ALPHA3}


def country3(alpha2: str) -> str:
    """The ISO 3166 alpha-3 code API and DOCS write for a country (Kosovo: XKX)."""
    if alpha2 == "XK":
        return "XKX"
    country = pycountry.countries.get(alpha_2=alpha2)
    return str(country.alpha_3) if country is not None else alpha2


def read_country(code: str, what: str) -> str:
    """The alpha-2 code of a country written as alpha-3 (as API and DOCS do) or alpha-2."""
    code = code.strip().upper()
    if code in COUNTRY_CODES:
        return code
    found = _alpha3_table().get(code)
    if found is None:
        raise ValueError(f"{what} {code!r} is not an ISO 3166 country code")
    return found


# --- people ------------------------------------------------------------------------------------


def read_document_kind(code: str) -> str:
    """A document type code (P, I, C, V, S ...; anything else is 'other')."""
    return DOCUMENT_KINDS.get(code.strip().upper()[:1] if code.strip() else "", "other")


def read_sex(code: str) -> str | None:
    """M, F or X from API/DOCS codes (MI/FI infants; U unknown and empty give None)."""
    value = code.strip().upper()[:1]
    return value if value in ("M", "F", "X") else None


def century_before(yy: int, month: int, day: int, reference: date) -> date:
    """A two-digit-year date that cannot lie after `reference` (a date of birth): the latest
    such date in the century up to it."""
    found = date(2000 + yy, month, day)
    return found if found <= reference else date(1900 + yy, month, day)


# --- writing -----------------------------------------------------------------------------------


def escape(value: object) -> str:
    text = str(value)
    for c in "?:+'":
        text = text.replace(c, "?" + c)
    return text


def segment(*elements: object) -> str:
    """One segment text: elements are values or sequences of components (None is empty);
    trailing empty components and elements are left out."""
    parts = []
    for e in elements:
        if isinstance(e, (list, tuple)):
            components = ["" if c is None else escape(c) for c in e]
            while components and components[-1] == "":
                components.pop()
            parts.append(":".join(components))
        else:
            parts.append("" if e is None else escape(e))
    while parts and parts[-1] == "":
        parts.pop()
    return "+".join(parts) + "'"


def source_of(message: Message) -> dict[str, str | None]:
    return {
        "message_ref": f"{message.interchange or '-'}/{message.reference}",
        "sender": message.sender,
    }
