"""Normal forms of identifiers and names, the same for a watchlist entry and a stored target.

Identifiers (containers, plates, call signs, travel documents) use intake's `compact`: spaces and
dashes out, upper case. IMO numbers lose their 'IMO' prefix. Names are folded to lower-case
ASCII where they have a Latin base, dots and apostrophes joined ('B.V.' is 'bv'), other
punctuation a space; a person's name is also put in word order, since sources disagree on
whether the surname comes first.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from redlane.intake.identifiers import compact

VesselScheme = Literal["imo", "mmsi", "call_sign", "name"]

_JOINED = re.compile(r"[.'\u2019`]")
_SEPARATORS = re.compile(r"[\W_]+")
_IMO = re.compile(r"(?:IMO)?([0-9]{7})")
_MMSI = re.compile(r"[0-9]{9}")
_CALL_SIGN = re.compile(r"[A-Z0-9]{3,7}")


def identifier_key(value: str) -> str:
    """A container number, plate, call sign or document number as compared: 'msku 123456-5'
    and 'MSKU1234565' are one key."""
    return compact(value)


def imo_key(value: str) -> str | None:
    """The seven digits of an IMO number ('IMO 9319466' gives '9319466'); None if it is none."""
    found = _IMO.fullmatch(compact(value))
    return found.group(1) if found else None


def name_key(value: str) -> str:
    """A company's or vessel's name as compared: 'Fresh Import B.V.' gives 'fresh import bv',
    'Société Générale' gives 'societe generale'."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_SEPARATORS.sub(" ", _JOINED.sub("", bare)).split())


def person_key(value: str) -> str:
    """A person's name as compared, in word order: 'ERIKSSON, Anna-Maria' and 'Anna Maria
    Eriksson' give the same key."""
    return " ".join(sorted(name_key(value).split()))


def vessel_key(identifier: str) -> tuple[VesselScheme, str]:
    """How a message identifies a vessel, and the key: an IMO number (seven digits, 'IMO'
    prefix optional), an MMSI (nine digits), a call sign (one word of 3 to 7 letters and
    digits) or else, as for a yacht known only by name, its name."""
    imo = imo_key(identifier)
    if imo is not None:
        return "imo", imo
    value = compact(identifier)
    if _MMSI.fullmatch(value):
        return "mmsi", value
    if len(identifier.split()) == 1 and _CALL_SIGN.fullmatch(value):
        return "call_sign", value
    return "name", name_key(identifier)
