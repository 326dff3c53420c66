"""Identifier checks: ISO 6346 containers, IMO numbers, air waybills, MMSI and ICAO 9303 MRZ.

Each check has a scalar form (for one record, and the reference the tests hold the rest to) and,
where the bulk path needs it, a vectorised form over a numpy array of strings that gives the
same answers. A failed check is a data-quality fact: callers flag it and keep the record.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from stdnum import imo as _imo
from stdnum import iso6346 as _iso6346

BoolArray = npt.NDArray[np.bool_]
VectorCheck = Callable[[npt.ArrayLike], BoolArray]

# ISO 6346 letter values: A=10 and up, skipping 11, 22 and 33 (multiples of 11).
_ISO6346_LETTER_VALUES: dict[str, int] = {}
_value = 10
for _letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    if _value % 11 == 0:
        _value += 1
    _ISO6346_LETTER_VALUES[_letter] = _value
    _value += 1

_CONTAINER_RE = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
_IMO_RE = re.compile(r"[0-9]{7}")
_AWB_RE = re.compile(r"[0-9]{11}")
_MMSI_RE = re.compile(r"[0-9]{9}")


_TRAILING_BLANKS = re.compile(r"[\s\x00]+$")


def compact(value: str) -> str:
    """The form every check reads: surrounding blanks, inner spaces and hyphens removed, upper
    case if ASCII. Anything outside ASCII letters and digits then fails the checks."""
    # numpy's fixed-width strings drop trailing NULs wherever they end up last, and its strip
    # takes NULs with the blanks on the right: the vectorised forms read exactly this value.
    value = _TRAILING_BLANKS.sub("", value.lstrip())
    value = value.replace(" ", "").rstrip("\x00").replace("-", "").rstrip("\x00")
    return value.upper() if value.isascii() else value


def is_valid_container(number: str) -> bool:
    """ISO 6346 container number: owner code, category U/J/Z, serial and check digit."""
    value = compact(number)
    return bool(_CONTAINER_RE.fullmatch(value)) and bool(_iso6346.is_valid(value))


def container_check_digit(owner_serial: str) -> str:
    """The check digit for the first ten characters of a container number."""
    return str(_iso6346.calc_check_digit(owner_serial))


def _imo_digits(number: str) -> str:
    value = compact(number)
    return value[3:] if value.startswith("IMO") else value


def is_valid_imo(number: str) -> bool:
    """IMO ship identification number (7 digits, weighted check), with or without 'IMO'."""
    value = _imo_digits(number)
    return bool(_IMO_RE.fullmatch(value)) and bool(_imo.is_valid(value))


def imo_check_digit(first_six: str) -> str:
    return str(_imo.calc_check_digit(first_six))


def is_valid_awb(number: str) -> bool:
    """Air waybill: 3-digit airline prefix, 7-digit serial, check digit = serial mod 7."""
    value = compact(number)
    return bool(_AWB_RE.fullmatch(value)) and int(value[3:10]) % 7 == int(value[10])


def awb_check_digit(serial: str) -> str:
    return str(int(serial) % 7)


def is_valid_mmsi(number: str) -> bool:
    """Ship station MMSI: nine digits whose first three (the MID) name a flag state, 201-775.

    MMSIs carry no check digit; coast stations (00), groups (0), SAR aircraft (111) and
    distress beacons (97x) are not ships and do not pass.
    """
    value = compact(number)
    return bool(_MMSI_RE.fullmatch(value)) and 201 <= int(value[:3]) <= 775


_MRZ_WEIGHTS = (7, 3, 1)


def _mrz_char_value(char: str) -> int:
    if char.isdigit():
        return ord(char) - 48
    if "A" <= char <= "Z":
        return ord(char) - 55
    if char == "<":
        return 0
    raise ValueError(f"invalid MRZ character {char!r}")


def mrz_check_digit(field: str) -> str:
    """ICAO 9303 check digit: weights 7-3-1, '<' counts 0, A=10 ... Z=35, sum mod 10."""
    total = sum(_mrz_char_value(c) * _MRZ_WEIGHTS[i % 3] for i, c in enumerate(field))
    return str(total % 10)


def _digit_ok(field: str, digit: str) -> bool:
    # A field left empty (all fillers) may carry a filler as its check digit.
    if digit == "<":
        return set(field) <= {"<"}
    return mrz_check_digit(field) == digit


def mrz_errors(mrz: str) -> list[str]:
    """Names of the MRZ check digits that fail (TD1 three lines of 30, TD3 two lines of 44).

    An empty list means every check digit agrees. A layout that is neither TD1 nor TD3, or a
    character outside the MRZ alphabet, gives ['layout'].
    """
    lines = [line.strip() for line in mrz.strip().splitlines() if line.strip()]
    try:
        if len(lines) == 2 and all(len(line) == 44 for line in lines):
            line = lines[1]
            checks = {
                "document_number": (line[0:9], line[9]),
                "date_of_birth": (line[13:19], line[19]),
                "date_of_expiry": (line[21:27], line[27]),
                "personal_number": (line[28:42], line[42]),
                "composite": (line[0:10] + line[13:20] + line[21:43], line[43]),
            }
        elif len(lines) == 3 and all(len(line) == 30 for line in lines):
            first, second = lines[0], lines[1]
            checks = {
                "document_number": (first[5:14], first[14]),
                "date_of_birth": (second[0:6], second[6]),
                "date_of_expiry": (second[8:14], second[14]),
                "composite": (first[5:30] + second[0:7] + second[8:15] + second[18:29], second[29]),
            }
        else:
            return ["layout"]
        return [name for name, (field, digit) in checks.items() if not _digit_ok(field, digit)]
    except ValueError:
        return ["layout"]


def is_valid_mrz(mrz: str) -> bool:
    return not mrz_errors(mrz)


# --- vectorised forms for the bulk path ---------------------------------------------------

_CHAR_VALUES = np.zeros(128, dtype=np.int64)
for _c in "0123456789":
    _CHAR_VALUES[ord(_c)] = ord(_c) - 48
for _letter, _v in _ISO6346_LETTER_VALUES.items():
    _CHAR_VALUES[ord(_letter)] = _v


def _compact_all(values: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """`compact` over an array (numpy's string arrays already drop trailing NULs)."""
    strings = np.char.strip(np.asarray(values, dtype=np.str_))
    return np.char.replace(np.char.replace(strings, " ", ""), "-", "")


def _ascii_rows(compacted: npt.NDArray[np.str_]) -> BoolArray:
    """Which values are plain ASCII (the only ones `compact` upper-cases)."""
    own_width = max(int(compacted.dtype.itemsize // 4), 1)
    points = np.ascontiguousarray(compacted.astype(f"<U{own_width}")).view(np.uint32)
    return np.asarray((points.reshape(len(compacted), own_width) < 128).all(axis=1), np.bool_)


def _as_codes(
    compacted: npt.NDArray[np.str_], width: int
) -> tuple[npt.NDArray[np.uint32], BoolArray]:
    """Code points of the upper-cased values as a (n, width) matrix, and which are plain ASCII
    of exactly `width` characters. Works on numpy's fixed-width UCS4 form: no Python loop."""
    right_length = np.char.str_len(compacted) == width
    ascii_only = _ascii_rows(compacted)
    # Upper-casing is safe now: only ASCII remains that could pass, and it keeps its length.
    strings = np.char.upper(compacted).astype(f"<U{width}")
    matrix = np.ascontiguousarray(strings).view(np.uint32).reshape(-1, width)
    # Rows that are not ASCII fail anyway; zero their code points so lookups stay in range.
    matrix = np.where(ascii_only[:, None], matrix, 0).astype(np.uint32)
    return matrix, right_length & ascii_only


def _is_digit(matrix: npt.NDArray[np.uint32]) -> BoolArray:
    return (matrix >= ord("0")) & (matrix <= ord("9"))


def _is_upper(matrix: npt.NDArray[np.uint32]) -> BoolArray:
    return (matrix >= ord("A")) & (matrix <= ord("Z"))


def valid_containers(numbers: npt.ArrayLike) -> BoolArray:
    """Vectorised ISO 6346 check over an array of container numbers."""
    if np.size(numbers) == 0:
        return np.zeros(0, dtype=np.bool_)
    m, ok = _as_codes(_compact_all(numbers), 11)
    category = m[:, 3]
    ok &= _is_upper(m[:, :3]).all(axis=1)
    ok &= (category == ord("U")) | (category == ord("J")) | (category == ord("Z"))
    ok &= _is_digit(m[:, 4:]).all(axis=1)
    weights = 2 ** np.arange(10, dtype=np.int64)
    total = (_CHAR_VALUES[m[:, :10]] * weights).sum(axis=1)
    expected = (total % 11) % 10
    valid: BoolArray = ok & (m[:, 10].astype(np.int64) - 48 == expected)
    return valid


def valid_imos(numbers: npt.ArrayLike) -> BoolArray:
    """Vectorised IMO number check (an 'IMO' prefix is allowed, as in the scalar form)."""
    if np.size(numbers) == 0:
        return np.zeros(0, dtype=np.bool_)
    compacted = _compact_all(numbers)
    # As in `compact`, only an ASCII value is upper-cased: with a dotless i there is no prefix.
    prefixed = np.char.startswith(np.char.upper(compacted), "IMO") & _ascii_rows(compacted)
    # Only a leading 'IMO' is a prefix; numpy has no vectorised slice, so drop the first
    # occurrence where the value starts with it.
    compacted = np.where(
        prefixed, np.char.replace(compacted, compacted.astype("<U3"), "", 1), compacted
    )
    m, ok = _as_codes(compacted, 7)
    ok &= _is_digit(m).all(axis=1)
    digits = m.astype(np.int64) - 48
    total = (digits[:, :6] * np.arange(7, 1, -1)).sum(axis=1)
    valid: BoolArray = ok & (total % 10 == digits[:, 6])
    return valid


def valid_awbs(numbers: npt.ArrayLike) -> BoolArray:
    """Vectorised air waybill mod-7 check."""
    if np.size(numbers) == 0:
        return np.zeros(0, dtype=np.bool_)
    m, ok = _as_codes(_compact_all(numbers), 11)
    ok &= _is_digit(m).all(axis=1)
    digits = m.astype(np.int64) - 48
    serial = (digits[:, 3:10] * 10 ** np.arange(6, -1, -1)).sum(axis=1)
    valid: BoolArray = ok & (serial % 7 == digits[:, 10])
    return valid


def valid_mmsis(numbers: npt.ArrayLike) -> BoolArray:
    """Vectorised ship-station MMSI check (MID 201-775)."""
    if np.size(numbers) == 0:
        return np.zeros(0, dtype=np.bool_)
    m, ok = _as_codes(_compact_all(numbers), 9)
    ok &= _is_digit(m).all(axis=1)
    mid = ((m[:, :3].astype(np.int64) - 48) * np.array([100, 10, 1])).sum(axis=1)
    valid: BoolArray = ok & (mid >= 201) & (mid <= 775)
    return valid
