"""The demo's vessel and yacht movements as AIS tracks in NMEA 0183 (tag-block times).

Each movement's track is built from the events it should show: a stay at every call of its
itinerary (stopped at the port's UN/LOCODE coordinates: a port call), straight legs between
calls at sea speed, and for the planted patterns of the ground truth the events that make
them: yachts of the contraband pattern `yacht_recent_purchase` go dark for 18 hours mid-passage
and then lie for three hours next to a mothership (an AIS gap and an encounter, with the
loitering of both); half the `yacht_long_owned_crew2` look-alikes lose their signal for 14
hours (a gap, nothing else); half the vessels carrying a `sea_cover_load` consignment call at a
port their itinerary does not declare. `planned_events` gives those events, so that a test can
check that ingesting the files finds exactly them.

One file per arrival day (`messages/ais-<day>.nmea`), holding the whole tracks of the movements
arriving that day in time order, so that no event is cut by a file boundary. The demo's fleet
sends some ships on two voyages arriving the same day: such a ship is tracked on the first
(by reference) only.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from redlane.demo.messages import MESSAGES_DIR, canonical_source
from redlane.demo.patterns import TRUTH_DIR
from redlane.intake.ais import Report, port_cells, report_sentences
from redlane.model import VesselEvent
from redlane.reference import places

Progress = Callable[[str, int, int], None]
STATION = "redlane-demo"
_SEA_REPORT = timedelta(hours=2)
_STAY_REPORT = timedelta(hours=1)
_MEET_REPORT = timedelta(minutes=10)
_MEETING = timedelta(hours=3)
#: Ports a vessel of the cover-load pattern may call at without declaring it.
UNDECLARED_PORTS = ("COTRB", "VELAG", "GYGEO", "SRPBM", "TTPTS")


@dataclass
class Track:
    """One movement's reports and the events they are built to show."""

    reports: list[Report] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _port(locode: str) -> tuple[float, float] | None:
    place = places().get(locode)
    return None if place is None else (place.lat, place.lon)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def port_named(lat: float, lon: float) -> str:
    """The port the reader names for a stop at (lat, lon): the nearest, ties to the smaller
    code (as `redlane.intake.ais` does)."""
    cells = port_cells()
    best = (math.inf, "")
    for code, plat, plon in zip(
        cells["locode"].to_pylist(), cells["lat"].to_pylist(), cells["lon"].to_pylist(),
        strict=True,
    ):  # fmt: skip
        if abs(plat - lat) <= 0.2:
            best = min(best, (_km((lat, lon), (plat, plon)), code))
    return best[1]


def _whole(at: datetime) -> datetime:
    """To the second: tag blocks give whole seconds."""
    return at.replace(microsecond=0)


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def _event(kind: str, mmsi: int, start: datetime, end: datetime, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "mmsi": f"{mmsi:09d}", "start": start, "end": end, **more}


def _stay(
    track: Track, mmsi: int, where: tuple[float, float], start: datetime, end: datetime
) -> None:
    at = start
    while at <= end:
        track.reports.append(Report(mmsi, at, lat=where[0], lon=where[1], speed=0.0))
        last = at
        at += _STAY_REPORT
    if last - start >= timedelta(hours=1):
        track.events.append(_event("port_call", mmsi, start, last, place=port_named(*where)))


def _sail(
    track: Track,
    mmsi: int,
    a: tuple[float, float],
    b: tuple[float, float],
    start: datetime,
    end: datetime,
    class_b: bool,
    dark: tuple[datetime, datetime] | None = None,
) -> None:
    """Reports every two hours strictly between `start` and `end`, none inside `dark`."""
    hours = max((end - start).total_seconds() / 3600, 1e-6)
    knots = max(_km(a, b) / 1.852 / hours, 4.0)
    at = start + _SEA_REPORT
    while at < end:
        if dark is None or not dark[0] < at < dark[1]:
            share = (at - start) / (end - start)
            track.reports.append(
                Report(mmsi, at, lat=a[0] + share * (b[0] - a[0]),
                       lon=a[1] + share * (b[1] - a[1]), speed=round(knots, 1), class_b=class_b)
            )  # fmt: skip
        at += _SEA_REPORT


def plan_track(movement: dict[str, Any], patterns: set[str]) -> Track:
    """The reports and events of one vessel or yacht movement (canonical dict)."""
    conveyance = movement["conveyance"]
    mmsi = int(conveyance["mmsi"])
    class_b = conveyance["kind"] == "yacht"
    track = Track()
    track.reports.append(
        Report(mmsi, _first_time(movement), class_b=class_b, name=conveyance.get("name"),
               imo=int(conveyance["imo"]) if conveyance.get("imo") else None)
    )  # fmt: skip
    calls = [
        (c["place"], _port(c["place"]), c["arrival"], c["departure"]) for c in movement["itinerary"]
    ]
    calls = [c for c in calls if c[1] is not None]
    seed = _stable(movement["ref"])
    if "sea_cover_load" in patterns and seed % 2 == 0 and len(calls) >= 2:
        # an extra call half-way along the longest leg, ten hours long
        legs = [(calls[i + 1][2] - calls[i][3], i) for i in range(len(calls) - 1)]
        _, i = max(legs)
        middle = _whole(calls[i][3] + (calls[i + 1][2] - calls[i][3]) / 2)
        extra = UNDECLARED_PORTS[seed % len(UNDECLARED_PORTS)]
        calls.insert(i + 1, (extra, _port(extra), middle, middle + timedelta(hours=10)))
    # The moments of the passage (its first leg) where a planted pattern goes dark or meets.
    dark: tuple[datetime, datetime] | None = None
    meeting: datetime | None = None
    if len(calls) >= 2:
        leg_start, leg_end = calls[0][3], calls[1][2]
        middle = _whole(leg_start + (leg_end - leg_start) / 2)
        if "yacht_recent_purchase" in patterns:
            dark = (middle - timedelta(hours=18), middle)
            meeting = middle
        elif "yacht_long_owned_crew2" in patterns and seed % 2 == 0:
            dark = (middle - timedelta(hours=14), middle)
    for number, (_, where, arrival, departure) in enumerate(calls):
        assert where is not None
        start = arrival if arrival is not None else departure - timedelta(hours=6)
        end = departure if departure is not None else arrival + timedelta(hours=2)
        _stay(track, mmsi, where, start, end)
        if number + 1 < len(calls):
            nxt = calls[number + 1]
            assert nxt[1] is not None
            _sail(
                track,
                mmsi,
                where,
                nxt[1],
                departure,
                nxt[2],
                class_b,
                dark if number == 0 else None,
            )
    if dark is not None:
        before = max(r.at for r in track.reports if r.lat is not None and r.at <= dark[0])
        after = min(r.at for r in track.reports if r.lat is not None and r.at >= dark[1])
        if meeting is None:
            track.events.append(_event("ais_gap", mmsi, before, after))
    if meeting is not None and dark is not None:
        _meet(track, mmsi, calls, meeting, dark)
    return track


def _meet(
    track: Track,
    mmsi: int,
    calls: list[Any],
    meeting: datetime,
    dark: tuple[datetime, datetime],
) -> None:
    """The yacht stops where it was at `meeting` and lies three hours next to a mothership."""
    (_, a, _, departure), (_, b, arrival, _) = calls[0], calls[1]
    share = (meeting - departure) / (arrival - departure)
    lat, lon = a[0] + share * (b[0] - a[0]), a[1] + share * (b[1] - a[1])
    mothership = 412_000_000 + mmsi % 1_000_000
    track.reports.append(Report(mothership, meeting, name="HAI YANG 7", imo=None))
    at, end = meeting, meeting + _MEETING
    while at <= end:
        track.reports.append(Report(mmsi, at, lat=lat, lon=lon, speed=0.4, class_b=True))
        track.reports.append(Report(mothership, at, lat=lat + 0.002, lon=lon, speed=0.8))
        at += _MEET_REPORT
    # the yacht's own positions just after the meeting were planned at sea speed: drop those
    # that fall inside it, so the meeting is one stop
    track.reports = [
        r for r in track.reports
        if not (r.mmsi == mmsi and r.speed is not None and r.speed >= 4 and meeting <= r.at <= end)
    ]  # fmt: skip
    before = max(r.at for r in track.reports if r.mmsi == mmsi and r.lat is not None
                 and r.at <= dark[0])  # fmt: skip
    track.events += [
        _event("ais_gap", mmsi, before, meeting),
        _event("encounter", mmsi, meeting, end, other_mmsi=f"{mothership:09d}"),
        _event("encounter", mothership, meeting, end, other_mmsi=f"{mmsi:09d}"),
        _event("loitering", mmsi, meeting, end),
        _event("loitering", mothership, meeting, end),
    ]


def _first_time(movement: dict[str, Any]) -> datetime:
    first = movement["itinerary"][0]
    at = first["arrival"] or first["departure"]
    return at - timedelta(hours=6) if first["arrival"] is None else at  # type: ignore[no-any-return]


def _movements(traffic: Path) -> Iterator[tuple[date, dict[str, Any], set[str]]]:
    """(arrival day, movement, planted patterns) of the vessels and yachts with an MMSI."""
    movements = canonical_source(traffic, "movements")
    truth = traffic / TRUTH_DIR / "truth.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        patterns: dict[str, set[str]] = {}
        if truth.exists():
            sql = f"""SELECT t.target_ref, t.pattern FROM read_parquet('{truth}') t
                WHERE t.target_kind = 'movement'"""
            if any((traffic / f"consignments.{e}").exists() for e in ("parquet", "jsonl")):
                sql += f"""
                UNION ALL
                SELECT DISTINCT c.movement_ref, t.pattern FROM read_parquet('{truth}') t
                JOIN {canonical_source(traffic, "consignments")} c
                    ON c.document.number = t.target_ref
                WHERE t.pattern = 'sea_cover_load' AND c.movement_ref IS NOT NULL"""
            rows = con.sql(sql).fetchall()
            for ref, pattern in rows:
                patterns.setdefault(ref, set()).add(pattern)
        table = con.sql(
            f"""SELECT * FROM {movements}
            WHERE conveyance.kind IN ('vessel', 'yacht') AND conveyance.mmsi IS NOT NULL
            ORDER BY ref"""
        ).to_arrow_table()
    finally:
        con.close()
    tracked: set[tuple[date, str]] = set()
    for row in table.to_pylist():
        last = row["itinerary"][-1]
        day = (last["arrival"] or last["departure"]).astimezone(UTC).date()
        # The demo's fleet sends a ship on more than one voyage; one track per ship and file.
        if (day, row["conveyance"]["mmsi"]) in tracked:
            continue
        tracked.add((day, row["conveyance"]["mmsi"]))
        yield day, row, patterns.get(row["ref"], set())


def planned_events(traffic: Path) -> list[VesselEvent]:
    """The events the tracks of `write_ais_files` are built to show, as vessel events."""
    found = []
    for _, movement, patterns in _movements(traffic):
        track = plan_track(movement, patterns)
        for data in track.events:
            hours = round((data["end"] - data["start"]).total_seconds() / 3600, 2)
            found.append(VesselEvent.model_validate({**data, "hours": hours}))
    return found


def write_ais_files(traffic: Path, on_progress: Progress | None = None) -> list[Path]:
    """One NMEA file per arrival day of the vessel and yacht movements in `traffic`."""
    out = traffic / MESSAGES_DIR
    out.mkdir(parents=True, exist_ok=True)
    by_day: dict[date, list[Report]] = {}
    movements = list(_movements(traffic))
    for done, (day, movement, patterns) in enumerate(movements, start=1):
        by_day.setdefault(day, []).extend(plan_track(movement, patterns).reports)
        if on_progress:
            on_progress("AIS", done, len(movements))
    paths = []
    for day, reports in sorted(by_day.items()):
        path = out / f"ais-{day.isoformat()}.nmea"
        reports.sort(key=lambda r: (r.at, r.mmsi, r.lat is None))
        with path.open("w", encoding="ascii", newline="\n") as handle:
            for number, report in enumerate(reports):
                lines = report_sentences(report, station=STATION, sequence=number % 10)
                handle.write("\n".join(lines) + "\n")
        paths.append(path)
    return paths
