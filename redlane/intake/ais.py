"""AIS (NMEA 0183 `!AIVDM`/`!AIVDO`) read into vessel events: port calls, AIS gaps, loitering
and encounters.

A file is read a block of lines at a time: the common line, a single-part position report
behind a tag block, is checked and decoded for the whole block at once (`ais_fast`); every
other line goes through pyais, which parses and decodes it (multi-part messages are
assembled here, so that every refused line is named). The receive time comes from the line's
IEC 62320-1 tag block (`c:`), a Gatehouse `$PGHP` wrapper before it, or a timestamp in front
of the sentence. Positions (messages 1, 2, 3, 18, 19, 27) and static reports (5, 24) go in
batches of Arrow columns into a DuckDB database in a temporary directory, so memory stays flat
in the file size; once the file is read, SQL over that database finds the events (definitions
and thresholds below and in docs/intake.md). A line that cannot be read, or has no usable
time, is one problem naming the line; the rest of the file goes in.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, reduce
from importlib import resources
from operator import xor
from pathlib import Path
from typing import Any, TextIO

import duckdb
import pyarrow as pa
from pyais.encode import encode_dict
from pyais.exceptions import UnknownMessageException
from pyais.messages import AISSentence, GatehouseSentence, NMEASentenceFactory

from redlane.intake.ais_fast import EARLIEST, LATEST, US, fast_positions
from redlane.intake.canonical import Problem, RawRecord

# --- the event definitions ---------------------------------------------------------------------
#: A port call: consecutive positions below this speed inside a port's geofence ...
PORT_STOP_KNOTS = 1.0
#: ... of this radius around the UN/LOCODE coordinates of a place with function 1 (port) ...
PORT_RADIUS_KM = 10.0
#: ... that last at least this long (first to last position).
PORT_CALL_MIN_HOURS = 1.0
#: An AIS gap: this long or longer between two consecutive positions of one MMSI.
GAP_HOURS = 12.0
#: Loitering and encounters: slower than this ...
SLOW_KNOTS = 2.0
#: ... loitering: at least this far from every port (20 nautical miles) ...
LOITERING_PORT_DISTANCE_KM = 37.04
#: ... for at least this long.
LOITERING_MIN_HOURS = 2.0
#: An encounter: two vessels, both slow and outside port geofences, within this distance ...
ENCOUNTER_DISTANCE_KM = 0.5
#: ... for at least this long; positions are compared per 10-minute slot, and a run of close
#: slots is broken by more than an hour without one.
ENCOUNTER_MIN_HOURS = 2.0
ENCOUNTER_SLOT_MINUTES = 10
ENCOUNTER_BREAK_MINUTES = 60

#: Positions and static reports held in Python lists before they go to DuckDB as Arrow.
BATCH_ROWS = 50_000
#: Characters of the stream read at a time (whole lines): a block of about 13,000 lines.
_BLOCK_CHARS = 1 << 20
_US = US
_POSITION_TYPES = frozenset({1, 2, 3, 18, 19, 27})
_TAG_TIME = re.compile(rb"(?:^|,)c:([^,]*)")
_TAG_TIMES: dict[bytes, int | None] = {}
_HEAD = re.compile(r"^(?:\\[^\\]*\\)?![A-Z]{2}VD[MO],|^\$PGHP,", re.MULTILINE)


@dataclass(frozen=True)
class AisError:
    """A line (or the lines of a multi-part message) that cannot be read, and why."""

    locator: str
    field: str | None
    reason: str
    raw: str


@dataclass(frozen=True)
class AisEvent:
    """One vessel event found in the file, as a canonical `vessel_event` dict."""

    locator: str
    data: dict[str, Any]


AisItem = AisError | AisEvent


def recognise_ais(head: str) -> bool:
    """Whether the text has AIS sentences (optionally with tag blocks) or Gatehouse wrappers."""
    return _HEAD.search(head) is not None


def ais_records(item: AisItem) -> tuple[list[RawRecord], list[Problem]]:
    if isinstance(item, AisError):
        return [], [Problem(item.locator, item.field, item.reason, item.raw)]
    return [RawRecord(item.locator, item.data)], []


# --- reading -----------------------------------------------------------------------------------


class _Columns:
    """Rows as Python lists, and tables of rows, until a batch is full, then one Arrow table
    into DuckDB."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str, schema: pa.Schema) -> None:
        self.con, self.table, self.schema = con, table, schema
        self.columns: list[list[Any]] = [[] for _ in schema]
        self.tables: list[pa.Table] = []
        self.table_rows = 0
        self.total = 0
        """Rows flushed so far."""

    def __len__(self) -> int:
        return len(self.columns[0]) + self.table_rows

    def add(self, table: pa.Table) -> None:
        """Rows already in columns (of the schema's names and types)."""
        self.tables.append(table)
        self.table_rows += table.num_rows

    def flush(self) -> None:
        if not self.columns[0] and not self.tables:
            return
        listed = pa.Table.from_arrays(
            [pa.array(c, f.type) for c, f in zip(self.columns, self.schema, strict=True)],
            schema=self.schema,
        )
        batch = pa.concat_tables([listed, *(t.cast(self.schema) for t in self.tables)])
        self.tables.clear()
        self.table_rows = 0
        self.con.register("batch_", batch)
        self.con.execute(f"INSERT INTO {self.table} SELECT * FROM batch_")
        self.con.unregister("batch_")
        self.total += batch.num_rows
        for column in self.columns:
            column.clear()  # in place: the reader holds their append methods


_POSITIONS = pa.schema(
    [("mmsi", pa.int64()), ("t", pa.int64()), ("lat", pa.float64()), ("lon", pa.float64()),
     ("speed", pa.float64()), ("line", pa.int64())]
)  # fmt: skip
_STATICS = pa.schema(
    [("mmsi", pa.int64()), ("t", pa.int64()), ("imo", pa.int64()), ("name", pa.string()),
     ("call_sign", pa.string()), ("line", pa.int64())]
)  # fmt: skip


@dataclass
class _Parts:
    """The fragments of a multi-part message seen so far."""

    first_line: int
    time: int | None
    sentences: list[AISSentence]
    raw: list[str]


def _prefix_time(text: str) -> tuple[str, int | None]:
    """(the sentence, its time in µs) of a line with a timestamp in front of the sentence
    (ISO 8601 or UNIX seconds); raises ValueError when the front is neither."""
    cut = min((i for i in (text.find("!"), text.find("\\")) if i > 0), default=-1)
    if cut < 0:
        raise ValueError("not an NMEA sentence")  # nothing that could be one after a time
    front = text[:cut].strip().rstrip(",;").strip()
    try:
        seconds = float(front)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(front.replace("Z", "+00:00"))
        except ValueError:
            reason = f"not an NMEA sentence, nor a time in front of one: {front!r}"
            raise ValueError(reason) from None
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        seconds = stamp.timestamp()
    return text[cut:], _checked_time(seconds, front)


def _checked_time(seconds: float, said: str) -> int:
    if not EARLIEST <= seconds < LATEST:
        raise ValueError(f"receive time {said} is not between 1990 and 2100")
    return round(seconds * _US)


def _tag_time(sentence: AISSentence) -> int | None:
    """The receive time (µs) of a sentence's tag block, None without one or without `c:`;
    raises ValueError for a wrong checksum or an unusable time. Read here rather than with
    pyais' TagBlock, which parses every field: the time is all that is needed."""
    block = sentence.tag_block
    if block is None:
        return None
    raw = block.raw
    # A receiver stamps every sentence of the same second with the same block: read it once.
    known = _TAG_TIMES.get(raw)
    if known is not None:
        return known
    time = _read_tag_time(raw)
    if len(_TAG_TIMES) >= 4096:
        _TAG_TIMES.clear()
    _TAG_TIMES[raw] = time
    return time


def _read_tag_time(raw: bytes) -> int | None:
    body, star, check = raw.rpartition(b"*")
    try:
        valid = bool(star) and reduce(xor, body, 0) == int(check, 16)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"tag block checksum is wrong: {raw.decode('ascii', 'replace')}")
    found = _TAG_TIME.search(body)
    if found is None:
        return None
    stamp = found.group(1).decode("ascii", "replace")
    try:
        value = int(stamp)
    except ValueError:
        raise ValueError(f"tag block time c:{stamp} is not a UNIX time") from None
    # IEC 62320-1 says seconds; some receivers write milliseconds (13 digits).
    return _checked_time(value / 1000 if value >= 10**11 else value, f"c:{stamp}")


def _decoded_rows(
    message: Any, time: int, line: int, positions: _Columns, statics: _Columns
) -> str | None:
    """Add a decoded message's position or static report; the reason when it is refused."""
    kind = message.msg_type
    mmsi = message.mmsi
    if mmsi > 999_999_999:
        return f"MMSI {mmsi} has more than nine digits"
    if kind in _POSITION_TYPES:
        lat, lon = message.lat, message.lon
        if lat is None or lon is None or lat == 91 or lon == 181:
            return None  # the station reports no position: nothing to keep, nothing wrong
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return f"position {lat}, {lon} is outside the globe"
        speed = message.speed
        if speed is not None and speed >= (63 if kind == 27 else 102.3):
            speed = None  # "not available"
        p = positions.columns
        p[0].append(mmsi)
        p[1].append(time)
        p[2].append(lat)
        p[3].append(lon)
        p[4].append(speed)
        p[5].append(line)
    elif kind == 5 or kind == 24:
        imo = getattr(message, "imo", None)
        s = statics.columns
        s[0].append(mmsi)
        s[1].append(time)
        s[2].append(imo if imo and 1_000_000 <= imo <= 9_999_999 else None)
        s[3].append(getattr(message, "shipname", None) or None)
        s[4].append(getattr(message, "callsign", None) or None)
        s[5].append(line)
    return None


def _fragment_key(sentence: AISSentence) -> tuple[Any, ...]:
    return (sentence.seq_id, sentence.channel, sentence.talker_id, sentence.type,
            sentence.frag_cnt)  # fmt: skip


@dataclass
class _State:
    """What the line-by-line reader carries from one block of lines to the next."""

    pending: dict[tuple[Any, ...], _Parts] = field(default_factory=dict)
    wrapper_time: int | None = None  # a $PGHP line gives the time of the next AIS sentence
    previous: int = 0  # the number of the last line read here


def _decode(
    stream: TextIO, positions: _Columns, statics: _Columns, batch_rows: int, *, fast: bool = True
) -> Iterator[AisError]:
    """Read the stream a block of lines at a time: the common position reports of the block
    at once (`fast_positions`, unless `fast` is off), the other lines one by one."""
    state = _State()
    number = 0
    while lines := stream.readlines(_BLOCK_CHARS):
        numbered: Iterable[tuple[int, str]]
        if fast:
            slow, rows = fast_positions(lines, number + 1)
            if rows is not None:
                positions.add(rows)
            numbered = ((number + 1 + i, lines[i]) for i in slow.tolist())
        else:
            numbered = enumerate(lines, start=number + 1)
        yield from _read_lines(numbered, state, positions, statics, batch_rows)
        if len(positions) >= batch_rows:
            positions.flush()
        number += len(lines)
    for parts in state.pending.values():
        yield _incomplete(parts)
    positions.flush()
    statics.flush()


def _read_lines(
    numbered: Iterable[tuple[int, str]],
    state: _State,
    positions: _Columns,
    statics: _Columns,
    batch_rows: int,
) -> Iterator[AisError]:
    """The lines (number, text) one by one, in order, with pyais. A line missing from the
    numbers was taken by `fast_positions`: an AIS sentence with its own time."""
    pending, wrapper_time, previous = state.pending, state.wrapper_time, state.previous

    add_mmsi, add_time, add_lat, add_lon, add_speed, add_line = (
        c.append for c in positions.columns
    )

    def refuse(number: int | str, reason: str, raw: str) -> AisError:
        where = number if isinstance(number, str) else f"line {number}"
        return AisError(where, None, reason, raw)

    for number, text in numbered:
        if number != previous + 1:
            wrapper_time = None  # the AIS sentences skipped had their own time
        previous = number
        line = text.strip()
        if not line or line[0] == "#":
            continue
        line_time: int | None = None
        if line[0] not in "!$\\":
            try:
                line, line_time = _prefix_time(line)
            except ValueError as exc:
                yield refuse(number, str(exc), line)
                continue
        try:
            sentence = NMEASentenceFactory.produce(line.encode("ascii"))
        except UnicodeEncodeError:
            yield refuse(number, "the line has characters that are not ASCII", line)
            continue
        except UnknownMessageException:
            continue  # another NMEA sentence ($GPGGA, ...): not AIS, not an error
        except Exception as exc:  # pyais raises many kinds on malformed input; all mean this
            yield refuse(number, f"not a readable NMEA sentence: {exc}", line)
            continue
        if not sentence.is_valid:
            yield refuse(number, "the NMEA checksum is wrong", line)
            continue
        if isinstance(sentence, GatehouseSentence):
            wrapper_time = _checked_time(sentence.timestamp.replace(tzinfo=UTC).timestamp(), "")
            continue
        if not isinstance(sentence, AISSentence):
            continue
        try:
            time = _tag_time(sentence)
        except ValueError as exc:
            wrapper_time = None
            yield refuse(number, str(exc), line)
            continue
        time = time if time is not None else wrapper_time if wrapper_time is not None else line_time
        wrapper_time = None
        first_line = number
        raw = line
        if sentence.frag_cnt > 1:
            key = _fragment_key(sentence)
            parts = pending.get(key)
            if sentence.frag_num == 1:
                if parts is not None:
                    yield _incomplete(parts)
                pending[key] = _Parts(number, time, [sentence], [line])
                continue
            if parts is None or len(parts.sentences) + 1 != sentence.frag_num:
                got = 0 if parts is None else len(parts.sentences)
                yield refuse(
                    number,
                    f"fragment {sentence.frag_num} of {sentence.frag_cnt} follows "
                    f"{got} fragments of its message",
                    line,
                )
                continue
            parts.sentences.append(sentence)
            parts.raw.append(line)
            if sentence.frag_num < sentence.frag_cnt:
                continue
            del pending[key]
            first_line, raw, time = parts.first_line, "\n".join(parts.raw), parts.time
            sentence = AISSentence.assemble_from_iterable(parts.sentences)
        if time is None:
            yield refuse(
                _lines(first_line, number),
                "no receive time: no tag block c:, no $PGHP wrapper, no time before the sentence",
                raw,
            )
            continue
        try:
            message: Any = sentence.decode()
            kind = message.msg_type
            lat = getattr(message, "lat", None)
            if kind in _POSITION_TYPES and lat is not None and -90 <= lat <= 90:
                lon = message.lon
                speed = message.speed
                if -180 <= lon <= 180 and message.mmsi <= 999_999_999:
                    # the common case inline; the rest (and every reason) in _decoded_rows
                    add_mmsi(message.mmsi)
                    add_time(time)
                    add_lat(lat)
                    add_lon(lon)
                    add_speed(speed if speed is None or speed < (63 if kind == 27 else 102.3)
                              else None)  # fmt: skip
                    add_line(first_line)
                    reason = None
                else:
                    reason = _decoded_rows(message, time, first_line, positions, statics)
            else:
                reason = _decoded_rows(message, time, first_line, positions, statics)
        except Exception as exc:  # pyais: empty payloads, unknown types, truncated bit fields
            reason = f"the AIS payload cannot be decoded: {type(exc).__name__} {exc}".strip()
        if reason is not None:
            yield refuse(_lines(first_line, number), reason, raw)
        if len(positions.columns[0]) >= batch_rows:
            positions.flush()
        if len(statics.columns[0]) >= batch_rows:
            statics.flush()
    state.wrapper_time, state.previous = wrapper_time, previous


def _lines(first: int, last: int) -> str:
    return f"line {last}" if first == last else f"lines {first}-{last}"


def _incomplete(parts: _Parts) -> AisError:
    first = parts.sentences[0]
    return AisError(
        f"line {parts.first_line}",
        None,
        f"multi-part message incomplete: {len(parts.sentences)} of {first.frag_cnt} fragments",
        "\n".join(parts.raw),
    )


_local = threading.local()


def _database() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB database with the port cells; each read works in a cursor of its
    own (its temporary tables are its own), since opening a database costs more than reading
    a small file."""
    con: duckdb.DuckDBPyConnection | None = getattr(_local, "con", None)
    if con is None:
        spill = Path(tempfile.gettempdir()) / "redlane-ais-spill"
        # In memory up to the limit, then spilled to disk: memory stays flat in the file size.
        con = duckdb.connect(
            config={"threads": 2, "memory_limit": "256MB", "temp_directory": str(spill)}
        )
        con.execute("SET TimeZone = 'UTC'")
        con.register("cells_", port_cells())
        con.execute("CREATE TABLE cells AS SELECT * FROM cells_")
        con.unregister("cells_")
        _local.con = con
    return con


@contextmanager
def _tables() -> Iterator[tuple[duckdb.DuckDBPyConnection, _Columns, _Columns]]:
    """A cursor of this thread's database with empty `positions` and `statics` tables."""
    con = _database().cursor()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            "CREATE TEMP TABLE positions (mmsi BIGINT, t BIGINT, lat DOUBLE, lon DOUBLE, "
            "speed DOUBLE, line BIGINT)"
        )
        con.execute(
            "CREATE TEMP TABLE statics (mmsi BIGINT, t BIGINT, imo BIGINT, name VARCHAR, "
            "call_sign VARCHAR, line BIGINT)"
        )
        yield con, _Columns(con, "positions", _POSITIONS), _Columns(con, "statics", _STATICS)
    finally:
        con.close()


def read_ais(stream: TextIO, *, batch_rows: int = BATCH_ROWS) -> Iterator[AisItem]:
    """The lines refused (as they are met), then the vessel events of the whole file."""
    with _tables() as (con, positions, statics):
        yield from _decode(stream, positions, statics, batch_rows)
        if positions.total:
            yield from vessel_events(con)


def read_positions(
    stream: TextIO, *, fast: bool = True, batch_rows: int = BATCH_ROWS
) -> tuple[pa.Table, pa.Table, list[AisError]]:
    """The positions and static reports the events of a stream are found from (in line order)
    and the lines refused. With `fast` off every line is read with pyais: a check of
    `fast_positions`, which must give the very same."""
    with _tables() as (con, positions, statics):
        errors = list(_decode(stream, positions, statics, batch_rows, fast=fast))
        return (
            con.sql("SELECT * FROM positions ORDER BY line, mmsi, t").to_arrow_table(),
            con.sql("SELECT * FROM statics ORDER BY line, mmsi, t").to_arrow_table(),
            errors,
        )


# --- the events --------------------------------------------------------------------------------


@cache
def port_cells() -> pa.Table:
    """UN/LOCODE ports (function 1) with their coordinates, each under every 1-degree cell
    (latitude, longitude) that its loitering radius reaches. Read from the reference CSV by
    DuckDB: a tenth of the time of building the reference's Python objects."""
    reach = LOITERING_PORT_DISTANCE_KM / 111.0
    stretch = "greatest(cos(radians(lat)), 0.05)"  # degrees of longitude per degree of latitude
    con = duckdb.connect()
    try:
        with resources.as_file(resources.files("redlane.reference") / "unlocode.csv") as csv:
            return con.sql(
                f"""SELECT locode, lat, lon, cy, (x + 540) % 360 - 180 AS cx
                FROM (
                    SELECT locode, lat, lon, cy, unnest(xs) AS x
                    FROM (
                        SELECT locode, lat, lon,
                            unnest(range(CAST(floor(lat - {reach}) AS BIGINT),
                                CAST(floor(lat + {reach}) AS BIGINT) + 1)) AS cy,
                            range(CAST(floor(lon - {reach} / {stretch}) AS BIGINT),
                                CAST(floor(lon + {reach} / {stretch}) AS BIGINT) + 1) AS xs
                        FROM read_csv(?, header = true, all_varchar = true,
                            columns = {{'locode': 'VARCHAR', 'country': 'VARCHAR',
                                'name': 'VARCHAR', 'function': 'VARCHAR', 'iata': 'VARCHAR',
                                'lat': 'DOUBLE', 'lon': 'DOUBLE'}})
                        WHERE starts_with(function, '1')
                    )
                )""",
                params=[str(csv)],
            ).to_arrow_table()
    finally:
        con.close()


def km_sql(a: str, b: str) -> str:
    """Great-circle distance in km between the (lat, lon) of two aliases."""
    return _km_between(f"{a}.lat", f"{a}.lon", f"{b}.lat", f"{b}.lon")


def _km_between(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    return (
        f"2 * 6371.0088 * asin(least(1.0, sqrt(pow(sin(radians({lat2} - {lat1}) / 2), 2) "
        f"+ cos(radians({lat1})) * cos(radians({lat2})) "
        f"* pow(sin(radians({lon2} - {lon1}) / 2), 2))))"
    )


_CELL = "((CAST(floor({0}) AS BIGINT) + 540) % 360 - 180)"
_HOUR = 3_600 * _US


def _event_sql() -> list[str]:
    slot = ENCOUNTER_SLOT_MINUTES * 60 * _US
    return [
        # one position per MMSI and time (the first line wins)
        """CREATE TEMP TABLE track AS
        SELECT mmsi, t, arg_min(lat, line) AS lat, arg_min(lon, line) AS lon,
            arg_min(speed, line) AS speed, min(line) AS line
        FROM positions GROUP BY mmsi, t""",
        # the nearest port of each spot where a vessel was slow: far fewer spots than positions
        # (a vessel in port reports the same one again and again)
        f"""CREATE TEMP TABLE near AS
        SELECT lat, lon, min(km) AS port_km, arg_min(locode, (km, locode)) AS port
        FROM (
            SELECT lat, lon, locode, {_km_between("lat", "lon", "plat", "plon")} AS km
            FROM (
                SELECT k.lat, k.lon, c.locode, c.lat AS plat, c.lon AS plon
                FROM (SELECT DISTINCT lat, lon FROM track WHERE speed < {SLOW_KNOTS}) k
                JOIN cells c
                    ON c.cy = CAST(floor(k.lat) AS BIGINT) AND c.cx = {_CELL.format("k.lon")}
                -- a box around the position first: most ports of the cell lie outside it
                WHERE abs(c.lat - k.lat) <= {LOITERING_PORT_DISTANCE_KM / 110.5}
                    AND abs(c.lon - k.lon) * greatest(cos(radians(k.lat)), 0.05)
                        <= {LOITERING_PORT_DISTANCE_KM / 110.5}
            )
        ) WHERE km <= {LOITERING_PORT_DISTANCE_KM}
        GROUP BY lat, lon""",
        f"""CREATE TEMP TABLE states AS
        SELECT *, lag(state) OVER w AS prev_state
        FROM (
            SELECT k.*, n.port, n.port_km,
                CASE WHEN k.speed < {PORT_STOP_KNOTS} AND n.port_km <= {PORT_RADIUS_KM}
                        THEN 'P' || n.port
                    WHEN k.speed < {SLOW_KNOTS} AND n.port IS NULL THEN 'L' END AS state,
                lag(k.t) OVER w AS prev_t, lag(k.lat) OVER w AS prev_lat,
                lag(k.lon) OVER w AS prev_lon, lag(k.line) OVER w AS prev_line
            FROM track k LEFT JOIN near n
                ON k.speed < {SLOW_KNOTS} AND n.lat = k.lat AND n.lon = k.lon
            WINDOW w AS (PARTITION BY k.mmsi ORDER BY k.t)
        )
        WINDOW w AS (PARTITION BY mmsi ORDER BY t)""",
        f"""CREATE TEMP TABLE found AS
        WITH islands AS (
            SELECT *, sum(CASE WHEN state IS DISTINCT FROM prev_state
                OR t - prev_t >= {round(GAP_HOURS * _HOUR)} THEN 1 ELSE 0 END)
                OVER (PARTITION BY mmsi ORDER BY t) AS island
            FROM states
        ),
        stays AS (
            SELECT mmsi, CASE WHEN state = 'L' THEN 'loitering' ELSE 'port_call' END AS kind,
                min(t) AS t0, max(t) AS t1,
                CASE WHEN state = 'L' THEN NULL ELSE substr(state, 2) END AS place,
                avg(lat) AS lat, avg(lon) AS lon, NULL::BIGINT AS other,
                min(line) AS first_line, max(line) AS last_line
            FROM islands WHERE state IS NOT NULL
            GROUP BY mmsi, island, state
            HAVING max(t) - min(t) >= CASE WHEN state = 'L'
                THEN {round(LOITERING_MIN_HOURS * _HOUR)}
                ELSE {round(PORT_CALL_MIN_HOURS * _HOUR)} END
        ),
        gaps AS (
            SELECT mmsi, 'ais_gap' AS kind, prev_t AS t0, t AS t1, NULL AS place,
                prev_lat AS lat, prev_lon AS lon, NULL::BIGINT AS other,
                prev_line AS first_line, line AS last_line
            FROM states WHERE t - prev_t >= {round(GAP_HOURS * _HOUR)}
        ),
        slots AS (
            SELECT mmsi, t // {slot} AS slot, min(t) AS t, arg_min(lat, t) AS lat,
                arg_min(lon, t) AS lon, min(line) AS line
            FROM states
            WHERE speed < {SLOW_KNOTS} AND (port_km IS NULL OR port_km > {PORT_RADIUS_KM})
            GROUP BY mmsi, slot
        ),
        placed AS (
            SELECT *, CAST(floor(lat * 100) AS BIGINT) AS cy,
                CAST(floor((lon + 180) * 25) AS BIGINT) AS cx
            FROM slots
        ),
        pairs AS (
            SELECT a.mmsi AS a, b.mmsi AS b, a.slot, greatest(a.t, b.t) AS t,
                (a.lat + b.lat) / 2 AS lat, (a.lon + b.lon) / 2 AS lon,
                least(a.line, b.line) AS first_line, greatest(a.line, b.line) AS last_line
            FROM placed a
            CROSS JOIN (VALUES (-1), (0), (1)) AS ys(dy)
            CROSS JOIN (VALUES (-1), (0), (1)) AS xs(dx)
            JOIN placed b ON b.slot = a.slot AND b.cy = a.cy + ys.dy AND b.cx = a.cx + xs.dx
                AND b.mmsi > a.mmsi
            WHERE {km_sql("a", "b")} <= {ENCOUNTER_DISTANCE_KM}
        ),
        runs AS (
            SELECT *, sum(CASE WHEN slot - prev_slot
                    <= {ENCOUNTER_BREAK_MINUTES // ENCOUNTER_SLOT_MINUTES} THEN 0 ELSE 1 END)
                OVER (PARTITION BY a, b ORDER BY slot) AS run
            FROM (SELECT *, lag(slot) OVER (PARTITION BY a, b ORDER BY slot) AS prev_slot
                FROM pairs)
        ),
        meetings AS (
            SELECT a, b, min(t) AS t0, max(t) AS t1, avg(lat) AS lat, avg(lon) AS lon,
                min(first_line) AS first_line, max(last_line) AS last_line
            FROM runs GROUP BY a, b, run
            HAVING max(t) - min(t) >= {round(ENCOUNTER_MIN_HOURS * _HOUR)}
        )
        SELECT * FROM stays
        UNION ALL SELECT * FROM gaps
        UNION ALL SELECT a, 'encounter', t0, t1, NULL, lat, lon, b, first_line, last_line
            FROM meetings
        UNION ALL SELECT b, 'encounter', t0, t1, NULL, lat, lon, a, first_line, last_line
            FROM meetings""",
    ]


_EVENTS = f"""
WITH identity AS (
    SELECT mmsi,
        arg_max(imo, t) FILTER (WHERE imo IS NOT NULL) AS imo,
        arg_max(name, t) FILTER (WHERE name IS NOT NULL) AS name
    FROM (
        SELECT mmsi, t, imo,
            nullif(trim(replace(name, '@', ' ')), '') AS name
        FROM statics
    ) GROUP BY mmsi
)
SELECT 'vessel_event' AS record, f.kind, lpad(CAST(f.mmsi AS VARCHAR), 9, '0') AS mmsi,
    CAST(i.imo AS VARCHAR) AS imo, i.name,
    CAST(make_timestamp(f.t0) AS TIMESTAMPTZ) AS start,
    CAST(make_timestamp(f.t1) AS TIMESTAMPTZ) AS "end",
    round((f.t1 - f.t0) / {float(_HOUR)}, 2) AS hours, f.place,
    round(f.lat, 5) AS lat, round(f.lon, 5) AS lon,
    lpad(CAST(f.other AS VARCHAR), 9, '0') AS other_mmsi,
    f.first_line, f.last_line
FROM found f LEFT JOIN identity i ON i.mmsi = f.mmsi
ORDER BY f.mmsi, f.t0, f.kind, f.other
"""


def vessel_events(con: duckdb.DuckDBPyConnection) -> Iterator[AisEvent]:
    """The events of the `positions` and `statics` tables of `con`, by MMSI and start."""
    for sql in _event_sql():
        con.execute(sql)
    con.execute("DROP TABLE positions")
    reader = con.sql(_EVENTS).to_arrow_reader(10_000)
    for batch in reader:
        for row in batch.to_pylist():
            first, last = row.pop("first_line"), row.pop("last_line")
            row["source"] = {"message_ref": f"lines {first}-{last}"}
            yield AisEvent(f"{row['kind']} of MMSI {row['mmsi']}, lines {first}-{last}", row)


# --- writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """One AIS report to write: a position (class A or B) or a static report of a vessel."""

    mmsi: int
    at: datetime
    lat: float | None = None
    lon: float | None = None
    speed: float | None = None
    course: float | None = None
    class_b: bool = False
    imo: int | None = None
    name: str | None = None
    call_sign: str | None = None
    ship_type: int = 0


def _checksum(text: str) -> str:
    return f"{reduce(lambda acc, c: acc ^ ord(c), text, 0):02X}"


def tag_block(at: datetime, station: str) -> str:
    """An IEC 62320-1 tag block giving the source station and the receive time."""
    fields = f"s:{station},c:{int(at.timestamp())}"
    return f"\\{fields}*{_checksum(fields)}\\"


def report_sentences(report: Report, *, station: str = "redlane", sequence: int = 0) -> list[str]:
    """The NMEA lines of one report (a static report of a class A vessel takes two), each
    with a tag block. `sequence` (0-9) tells the multi-part messages of a stream apart."""
    data: dict[str, Any]
    if report.lat is not None and report.lon is not None:
        data = {
            "type": 18 if report.class_b else 1, "mmsi": report.mmsi, "lat": report.lat,
            "lon": report.lon, "speed": report.speed if report.speed is not None else 102.3,
            "course": report.course if report.course is not None else 360.0,
        }  # fmt: skip
        lines = encode_dict(data, talker_id="AI", sentence_type="VDM")
    elif report.class_b:
        part_a: dict[str, Any] = {
            "type": 24,
            "partno": 0,
            "mmsi": report.mmsi,
            "shipname": report.name or "",
        }
        part_b: dict[str, Any] = {"type": 24, "partno": 1, "mmsi": report.mmsi,
                  "callsign": report.call_sign or "", "ship_type": report.ship_type}  # fmt: skip
        lines = [
            *encode_dict(part_a, talker_id="AI", sentence_type="VDM"),
            *encode_dict(part_b, talker_id="AI", sentence_type="VDM"),
        ]
    else:
        data = {
            "type": 5, "mmsi": report.mmsi, "imo": report.imo or 0, "shipname": report.name or "",
            "callsign": report.call_sign or "", "ship_type": report.ship_type,
        }  # fmt: skip
        lines = encode_dict(data, talker_id="AI", sentence_type="VDM", seq_id=sequence)
    return [tag_block(report.at, station) + line for line in lines]


def write_ais(reports: Sequence[Report], *, station: str = "redlane") -> str:
    """NMEA text of the reports, one sentence a line, each with its receive time."""
    lines: list[str] = []
    for number, report in enumerate(reports):
        lines += report_sentences(report, station=station, sequence=number % 10)
    return "\n".join(lines) + "\n"
