"""The common AIS line read a block at a time with numpy: a single-part position report of
class A (messages 1-3) or B (18) behind a tag block with its receive time,

    \\s:station,c:1791176552*6B\\!AIVDM,1,1,,A,15Mtg??P00KVDb49BNof4001P000,0*7A

checked and decoded for a whole block of lines at once: both checksums, the tag block's `c:`,
and the MMSI, position and speed from the 168 bits of the payload (ITU-R M.1371-5, table 45
for messages 1-3 and table 48 for 18). A line is taken here only when every part of it is in
the one shape above and everything about it is fine (checksums right, time and position
usable): what `redlane.intake.ais` reading it with pyais would have kept, the same numbers
(pyais' own integer formulas for latitude and longitude). Every other line, and every line
with anything to refuse or to think about, is left to that reader, in order.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa

US = 1_000_000
#: Receive times outside [EARLIEST, LATEST) (UNIX seconds) are refused.
EARLIEST = int(datetime(1990, 1, 1, tzinfo=UTC).timestamp())
LATEST = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())

Ints = npt.NDArray[np.int64]

_PAYLOAD_CHARS = 28  # 168 bits: the whole of a message 1, 2, 3 or 18
_HEAD = b"!AIVDM,1,1,"  # the talker (columns 1-2) may be any letters, VDO as well as VDM
#: Shortest line of the shape: \c:0*HH\ + head + ',' + payload + ',0*HH'
_SHORTEST = 8 + len(_HEAD) + 1 + _PAYLOAD_CHARS + 5
_MAX_DIGITS = 13  # c: in milliseconds


def _table(valid: bytes, values: npt.ArrayLike, missing: int = -1) -> Ints:
    """A lookup table of the 256 byte values: `values` for the bytes of `valid`."""
    lut = np.full(256, missing, np.int64)
    lut[np.frombuffer(valid, np.uint8)] = values
    return lut


_ARMOUR = bytes(range(48, 88)) + bytes(range(96, 120))  # '0'-'W', '`'-'w': 6-bit 0-63
_SIX = _table(_ARMOUR, np.arange(64))
_HEX = _table(b"0123456789ABCDEFabcdef", [*range(16), *range(10, 16)])
_DIGIT = _table(b"0123456789", np.arange(10))
_UPPER = _table(bytes(range(65, 91)), 1, 0)
_CHANNEL = _table(b"AB12", 1, 0)
_TEN = 10 ** np.arange(_MAX_DIGITS - 1, -1, -1, dtype=np.int64)
_POSITION_TYPES = np.array([1, 2, 3, 18])


def _bits(six: Ints, start: int, width: int, signed: bool = False) -> Ints:
    """Bits [start, start + width) of each row of 6-bit values (up to 36 bits at once)."""
    first, last = start // 6, (start + width - 1) // 6
    value = np.zeros(len(six), np.int64)
    for column in range(first, last + 1):
        value = (value << 6) | six[:, column]
    value = (value >> ((last + 1) * 6 - start - width)) & ((1 << width) - 1)
    if signed:
        value = np.where(value >= 1 << (width - 1), value - (1 << width), value)
    return value


def _degrees(raw: Ints) -> npt.NDArray[np.float64]:
    """1/10,000 minutes as degrees, as pyais' to_lat_lon computes them (round(raw / 600,000, 6)
    in integers, then one division)."""
    return ((10 * raw + 3) // 6) / 1e6


def fast_positions(lines: list[str], first_line: int) -> tuple[Ints, pa.Table | None]:
    """(the indexes of the lines left to the line-by-line reader, in order; the position rows
    (mmsi, t, lat, lon, speed, line) of the others, None when there are none).

    `lines` are lines of a text stream with their line ends; `first_line` is the number of the
    first."""
    count = len(lines)
    everything = np.arange(count, dtype=np.int64)
    text = "".join(lines)
    ascii_lines = None
    if text.isascii():
        data = text.encode("ascii")
    else:  # one byte per character still: the lines with others are left to the reader
        data = text.encode("ascii", "replace")
        ascii_lines = np.fromiter(map(str.isascii, lines), bool, count)
    size = len(data)  # also the sentinel of the searches below: no line has it
    # zeros past the end: every gather below may overrun a line, none the array
    codes = np.frombuffer(data + bytes(64), np.uint8)
    lengths = np.fromiter(map(len, lines), np.int64, count)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    # strip the line end (\n, \r\n or \r)
    ends -= (codes[np.maximum(ends - 1, 0)] == 10).astype(np.int64)
    ends -= (codes[np.maximum(ends - 1, 0)] == 13).astype(np.int64)
    maybe = (ends - starts >= _SHORTEST) & (codes[starts] == 92)
    if ascii_lines is not None:
        maybe &= ascii_lines
    index = everything[maybe]
    s, e = starts[index], ends[index]
    # the tag block ends at the next backslash; the sentence starts after it
    backslashes = np.append(np.flatnonzero(codes[:size] == 92), size)
    t = backslashes[np.searchsorted(backslashes, s, "right")]
    h = t + 1
    ok = e - h >= len(_HEAD) + 1 + _PAYLOAD_CHARS + 5
    head = codes[h[:, None] + np.arange(len(_HEAD))]
    expected = np.frombuffer(_HEAD, np.uint8)
    fixed = np.r_[0, 3:5, 6:len(_HEAD)]  # fmt: skip
    ok &= (head[:, fixed] == expected[fixed]).all(axis=1)
    ok &= (_UPPER[head[:, 1]] & _UPPER[head[:, 2]]).astype(bool)
    ok &= (head[:, 5] == ord("M")) | (head[:, 5] == ord("O"))
    # between the head and the payload: the sequence id (none or a digit), a comma, the
    # channel (none, A, B, 1 or 2)
    between = e - 34 - (h + len(_HEAD))
    a, b, c = (codes[h + len(_HEAD) + k] for k in range(3))
    comma = ord(",")
    digit_a = _DIGIT[a] >= 0
    ok &= (
        ((between == 1) & (a == comma))
        | ((between == 2) & (((a == comma) & (_CHANNEL[b] == 1)) | (digit_a & (b == comma))))
        | ((between == 3) & digit_a & (b == comma) & (_CHANNEL[c] == 1))
    )
    # ,payload,0*HH
    ok &= (codes[e - 34] == comma) & (codes[e - 5] == comma) & (codes[e - 4] == ord("0"))
    ok &= codes[e - 3] == ord("*")
    nmea_check = _HEX[codes[e - 2]] * 16 + _HEX[codes[e - 1]]
    ok &= (_HEX[codes[e - 2]] >= 0) & (_HEX[codes[e - 1]] >= 0)
    six = _SIX[codes[(e - 33)[:, None] + np.arange(_PAYLOAD_CHARS)]]
    ok &= (six >= 0).all(axis=1)
    # the tag block: body*HH with a c: field
    ok &= (codes[t - 3] == ord("*")) & (_HEX[codes[t - 2]] >= 0) & (_HEX[codes[t - 1]] >= 0)
    tag_check = _HEX[codes[t - 2]] * 16 + _HEX[codes[t - 1]]
    body_end = t - 3
    # both checksums: the XOR of the bytes between, from a running XOR of the whole block
    running = np.concatenate((np.zeros(1, np.uint8), np.bitwise_xor.accumulate(codes)))
    ok &= (running[body_end] ^ running[s + 1]) == tag_check
    ok &= (running[e - 3] ^ running[h + 1]) == nmea_check
    # the first c: at the start of the body or after a comma, up to the next comma
    c_at = np.flatnonzero((codes[1:-1] == ord("c")) & (codes[2:] == ord(":"))) + 1
    c_at = c_at[(codes[c_at - 1] == comma) | (codes[c_at - 1] == 92)]
    c_at = np.append(c_at, size)
    key = c_at[np.searchsorted(c_at, s + 1)]
    ok &= key + 2 <= body_end
    commas = np.append(np.flatnonzero(codes[:size] == comma), size)
    stop = np.minimum(commas[np.searchsorted(commas, np.minimum(key + 2, size))], body_end)
    digits = stop - key - 2
    ok &= (digits >= 1) & (digits <= _MAX_DIGITS)
    window = _DIGIT[codes[np.maximum(stop - _MAX_DIGITS, 0)[:, None] + np.arange(_MAX_DIGITS)]]
    used = np.arange(_MAX_DIGITS) >= (_MAX_DIGITS - digits)[:, None]
    ok &= ((window >= 0) | ~used).all(axis=1)
    stamp = (np.where(used, window, 0) * _TEN).sum(axis=1)
    # IEC 62320-1 says seconds; 13 digits are milliseconds
    millis = stamp >= 10**11
    seconds = np.where(millis, stamp / 1000, stamp.astype(np.float64))
    ok &= (seconds >= EARLIEST) & (seconds < LATEST)
    time = np.where(millis, np.rint(stamp / 1000 * US).astype(np.int64), stamp * US)
    # the payload
    kind = six[:, 0]
    class_b = kind == 18
    mmsi = _bits(six, 8, 30)
    speed = np.where(class_b, _bits(six, 46, 10), _bits(six, 50, 10))
    lon = _degrees(np.where(class_b, _bits(six, 57, 28, True), _bits(six, 61, 28, True)))
    lat = _degrees(np.where(class_b, _bits(six, 85, 27, True), _bits(six, 89, 27, True)))
    ok &= np.isin(kind, _POSITION_TYPES) & (mmsi <= 999_999_999)
    ok &= (lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180)
    taken = index[ok]
    slow = np.ones(count, bool)
    slow[taken] = False
    if not len(taken):
        return everything[slow], None
    speed = speed[ok]
    rows = pa.table(
        {
            "mmsi": mmsi[ok],
            "t": time[ok],
            "lat": lat[ok],
            "lon": lon[ok],
            "speed": pa.array(speed / 10, pa.float64(), mask=speed == 1023),  # 102.3: unknown
            "line": taken + first_line,
        }
    )
    return everything[slow], rows
