"""Vectorised builders for identifiers: container numbers, AWBs, IMO, MMSI, MRZ, references.

Strings are assembled as matrices of code points and viewed as fixed-width numpy strings, so a
chunk of 100k identifiers costs a few numpy operations and no Python loop per record. The check
digit rules are the ones in `redlane.intake.identifiers`; the tests hold these to the scalar
functions there.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Codes = npt.NDArray[np.uint32]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
BoolArray = npt.NDArray[np.bool_]

# ISO 6346 letter values: A=10 and up, skipping multiples of 11.
_ISO6346 = np.zeros(128, dtype=np.int64)
_v = 10
for _letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    if _v % 11 == 0:
        _v += 1
    _ISO6346[ord(_letter)] = _v
    _v += 1
for _d in "0123456789":
    _ISO6346[ord(_d)] = ord(_d) - 48

# ICAO 9303 values: digits, A=10 ... Z=35, '<' = 0.
_MRZ = np.zeros(128, dtype=np.int64)
for _d in "0123456789":
    _MRZ[ord(_d)] = ord(_d) - 48
for _i, _letter in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    _MRZ[ord(_letter)] = 10 + _i


def digits(values: npt.ArrayLike, width: int) -> Codes:
    """Zero-padded decimal digits of non-negative integers as a (n, width) code-point matrix."""
    v = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((v[:, None] // powers) % 10 + 48).astype(np.uint32)


def letters(values: npt.ArrayLike) -> Codes:
    """Letters A-Z from integers 0-25, shape preserved; a 1-d input gives a column."""
    v = np.asarray(values, dtype=np.int64)
    if v.ndim == 1:
        v = v[:, None]
    return (v + 65).astype(np.uint32)


def codes(strings: npt.ArrayLike, width: int) -> Codes:
    """Code points of fixed-width strings (shorter ones padded with NUL) as (n, width)."""
    arr = np.ascontiguousarray(np.asarray(strings, dtype=f"<U{width}"))
    return arr.view(np.uint32).reshape(-1, width)


def const(text: str, n: int) -> Codes:
    return np.tile(np.array([ord(c) for c in text], dtype=np.uint32), (n, 1))


def text(*parts: Codes) -> StrArray:
    """Join code-point matrices column-wise into a numpy string array."""
    m = np.ascontiguousarray(np.hstack(parts).astype(np.uint32))
    return m.view(f"<U{m.shape[1]}").ravel()


def container_numbers(owner: StrArray, serial: IntArray, corrupt: BoolArray) -> StrArray:
    """ISO 6346 numbers from 4-letter owner codes and 6-digit serials; `corrupt` ones get a
    wrong check digit (a misread or a forged number, §7.2 A.12)."""
    body = np.hstack([codes(owner, 4), digits(serial, 6)])
    weights = 2 ** np.arange(10, dtype=np.int64)
    check = (_ISO6346[body] * weights).sum(axis=1) % 11 % 10
    check = np.where(corrupt, (check + 1 + serial % 9) % 10, check)
    return text(body, digits(check, 1))


def awb_numbers(prefix: StrArray, serial: IntArray, corrupt: BoolArray | None = None) -> StrArray:
    """Air waybill numbers 'PPP-SSSSSSSC' with the mod-7 check digit."""
    check = serial % 7
    if corrupt is not None:
        check = np.where(corrupt, (check + 1) % 7, check)
    return text(codes(prefix, 3), const("-", len(serial)), digits(serial, 7), digits(check, 1))


def imo_numbers(first_six: IntArray) -> StrArray:
    """Seven-digit IMO numbers (weights 7..2, last digit of the sum)."""
    d = digits(first_six, 6).astype(np.int64) - 48
    check = (d * np.arange(7, 1, -1)).sum(axis=1) % 10
    return text(digits(first_six, 6), digits(check, 1))


def mrz_check(m: Codes) -> IntArray:
    """ICAO 9303 check digit over the rows of a code-point matrix."""
    weights = np.resize(np.array([7, 3, 1], dtype=np.int64), m.shape[1])
    return np.asarray((_MRZ[m] * weights).sum(axis=1) % 10, dtype=np.int64)


def mrz_td3(
    issuing3: StrArray,
    name_field: StrArray,
    number9: StrArray,
    nationality3: StrArray,
    dob6: StrArray,
    sex: StrArray,
    expiry6: StrArray,
    corrupt: BoolArray,
) -> StrArray:
    """Passport MRZs (TD3: two lines of 44, joined with a newline).

    `name_field` must be 39 characters of A-Z and '<'; `corrupt` ones carry a wrong
    date-of-birth check digit, the typical OCR slip.
    """
    n = len(number9)
    line1 = np.hstack([const("P<", n), codes(issuing3, 3), codes(name_field, 39)])
    num = codes(number9, 9)
    dob = codes(dob6, 6)
    exp = codes(expiry6, 6)
    personal = const("<" * 14, n)
    num_cd = digits(mrz_check(num), 1)
    dob_check = mrz_check(dob)
    dob_cd = digits(np.where(corrupt, (dob_check + 3) % 10, dob_check), 1)
    exp_cd = digits(mrz_check(exp), 1)
    pers_cd = digits(mrz_check(personal), 1)
    composite = np.hstack([num, num_cd, dob, dob_cd, exp, exp_cd, personal, pers_cd])
    comp_cd = digits(mrz_check(composite), 1)
    line2 = np.hstack(
        [
            num,
            num_cd,
            codes(nationality3, 3),
            dob,
            dob_cd,
            codes(sex, 1),
            exp,
            exp_cd,
            personal,
            pers_cd,
            comp_cd,
        ]
    )
    return text(line1, const("\n", n), line2)


def _mulmod(a: IntArray, b: int, m: int) -> IntArray:
    """a * b mod m without int64 overflow, for a, b < m < 2**34."""
    hi, lo = divmod(b, 1 << 17)
    return np.asarray(((a * hi % m) * (1 << 17) + a * lo) % m, dtype=np.int64)


def scramble(index: npt.ArrayLike, space: int, salt: int) -> IntArray:
    """A bijection of 0..space-1: unique inputs give unique, random-looking numbers.

    The multiplier is prime (so coprime with the decimal spaces used here) and large, so that
    consecutive records do not get consecutive document numbers.
    """
    if space >= 1 << 34:
        raise ValueError("space too large for the overflow-free multiplication")
    multiplier = 2_654_435_761 % space
    x = np.asarray(index, dtype=np.int64) % space
    return np.asarray((_mulmod(x, multiplier, space) + salt) % space, dtype=np.int64)
