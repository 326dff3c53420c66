"""AIS: the public samples, receive times, multi-part messages, the vessel events, the store,
round trips through NMEA, and fuzzing."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import (
    at,
    make_consignment,
    make_movement,
    make_truck,
    make_vessel_event,
    mutated_messages,
    read_every_message,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redlane.demo import TRUTH_DIR, Rates, Volumes, generate
from redlane.demo.ais_messages import UNDECLARED_PORTS, planned_events, write_ais_files
from redlane.intake.ais import (
    AisError,
    AisEvent,
    Report,
    read_ais,
    read_positions,
    report_sentences,
    tag_block,
    write_ais,
)
from redlane.intake.ais_fast import fast_positions
from redlane.intake.formats import detect_format
from redlane.intake.pipeline import ingest, store_models
from redlane.model import VesselEvent
from redlane.reference import places
from redlane.store.database import Database
from redlane.store.records import load_records
from redlane.store.repository import quarantined
from redlane.targeting import Window, features_for, starter_profiles

DATA = Path(__file__).parent / "data" / "ais"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
SHIP, YACHT = 352001234, 232004567


def read(text: str, **options: int) -> tuple[list[AisError], list[VesselEvent]]:
    items = list(read_ais(io.StringIO(text), **options))  # type: ignore[arg-type]
    errors = [i for i in items if isinstance(i, AisError)]
    events = [VesselEvent.model_validate(i.data) for i in items if isinstance(i, AisEvent)]
    return errors, events


def reasons(errors: list[AisError]) -> Counter[str]:
    return Counter(re.sub(r"[:(].*", "", e.reason).strip() for e in errors)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pyais_ais_test_messages", {"no receive time": 7}),
        ("pyais_gatehouse.nmea", {"no receive time": 3, "the NMEA checksum is wrong": 1}),
        ("pyais_timestamped.ais", {"no receive time": 3, "the NMEA checksum is wrong": 1}),
        ("pyais_messages.ais", {"no receive time": 6}),
        (
            "pyais_mixed.txt",
            {
                "no receive time": 8, "not an NMEA sentence": 2,
                "the NMEA checksum is wrong": 2, "tag block checksum is wrong": 2,
            },
        ),
        (
            "pyais_nmea_data_sample.txt",
            {"no receive time": 878, "multi-part message incomplete": 20},
        ),
    ],
)  # fmt: skip
def test_public_samples_are_read_line_by_line_with_their_problems(
    name: str, expected: dict[str, int]
) -> None:
    errors, events = read((DATA / name).read_text())
    assert reasons(errors) == expected
    assert events == []
    assert all(re.fullmatch(r"lines? \d+(-\d+)?", e.locator) for e in errors)


def test_the_sample_traffic_with_times_in_front_decodes_but_empty_payloads() -> None:
    lines = (DATA / "pyais_nmea_data_sample.txt").read_text().splitlines()
    stamped = "\n".join(f"{1_700_000_000 + i} {line}" for i, line in enumerate(lines))
    errors, _ = read(stamped)
    # 100 sentences without a payload, 20 first halves of two-part messages whose second half
    # the capture lost; the 777 others decode.
    assert reasons(errors) == {
        "the AIS payload cannot be decoded": 100, "multi-part message incomplete": 20,
    }  # fmt: skip
    assert {e.locator for e in errors} >= {"line 4", "line 96"}


def test_the_time_comes_from_the_tag_block_the_wrapper_or_the_front_of_the_line() -> None:
    (sentence,) = report_sentences(Report(SHIP, T0, lat=10.0, lon=20.0, speed=0.2))
    bare = sentence.split("\\")[-1]
    stamp = int(T0.timestamp())
    lines = [
        sentence,  # tag block c: in seconds
        tag_block(T0, "x").replace(f"c:{stamp}", f"c:{stamp}000")[:-4] + "*XX\\" + bare,
        "$PGHP,1,2026,11,1,0,0,0,0,338,2,,1,00*" + "XX",
        f"2026-11-01T00:00:00Z {bare}",
        f"{stamp} {bare}",
        bare,
    ]
    fixed = []
    for line in lines:
        if "*XX" in line:  # put the right checksums in
            body = line.split("*XX")[0].lstrip("\\$")
            check = 0
            for c in body:
                check ^= ord(c)
            line = line.replace("*XX", f"*{check:02X}", 1)
        fixed.append(line)
    fixed.insert(3, bare)  # the sentence the $PGHP wrapper gives its time
    errors, _ = read("\n".join(fixed))
    assert [(e.locator, reasons([e])) for e in errors] == [
        ("line 7", Counter({"no receive time": 1}))
    ]


def test_unusable_times_are_refused_with_the_reason() -> None:
    (sentence,) = report_sentences(Report(SHIP, T0, lat=10.0, lon=20.0, speed=0.2))
    bare = sentence.split("\\")[-1]
    errors, _ = read(f"1900-01-01T00:00:00 {bare}\nsoon {bare}\n")
    assert [(e.locator, e.reason) for e in errors] == [
        ("line 1", "receive time 1900-01-01T00:00:00 is not between 1990 and 2100"),
        ("line 2", "not an NMEA sentence, nor a time in front of one: 'soon'"),
    ]


def test_multi_part_messages_are_assembled_across_other_lines() -> None:
    static = report_sentences(Report(SHIP, T0, imo=9319466, name="MSC EXAMPLE"), sequence=3)
    other = report_sentences(Report(YACHT, T0, lat=1.0, lon=2.0, speed=5.0, class_b=True))
    orphan = report_sentences(Report(SHIP, T0, imo=9319466, name="X"), sequence=4)[1]
    lone = report_sentences(Report(SHIP, T0, imo=9319466, name="X"), sequence=5)[0]
    text = "\n".join([static[0], *other, static[1], orphan, lone])
    errors, _ = read(text)
    assert [(e.locator, e.reason) for e in errors] == [
        ("line 4", "fragment 2 of 2 follows 0 fragments of its message"),
        ("line 5", "multi-part message incomplete: 1 of 2 fragments"),
    ]


def _track() -> list[Report]:
    """A vessel 5 h in Rotterdam, at sea, dark for 13 h, then 3 h next to a yacht offshore."""
    rtm = places()["NLRTM"]
    reports = [Report(SHIP, T0, imo=9319466, name="MSC EXAMPLE", call_sign="3FAB7")]
    reports += [
        Report(SHIP, T0 + timedelta(hours=h), lat=rtm.lat, lon=rtm.lon, speed=0.1) for h in range(6)
    ]
    reports += [
        Report(SHIP, T0 + timedelta(hours=h), lat=rtm.lat - 0.2 * (h - 5),
               lon=rtm.lon - 0.3 * (h - 5), speed=12.0)
        for h in range(6, 12)
    ]  # fmt: skip
    for minutes in range(0, 190, 10):
        at = T0 + timedelta(hours=24, minutes=minutes)
        reports.append(Report(SHIP, at, lat=47.0, lon=-12.0, speed=0.5))
        reports.append(Report(YACHT, at, lat=47.001, lon=-12.0, speed=0.8, class_b=True))
    reports.append(Report(YACHT, T0, class_b=True, name="BLUE NOTE", call_sign="MBLU1"))
    return reports


EXPECTED = [
    # kind, mmsi, start, end, place, other
    ("encounter", "232004567", T0 + timedelta(hours=24), T0 + timedelta(hours=27), None,
     "352001234"),
    ("loitering", "232004567", T0 + timedelta(hours=24), T0 + timedelta(hours=27), None, None),
    ("port_call", "352001234", T0, T0 + timedelta(hours=5), "NLRTM", None),
    ("ais_gap", "352001234", T0 + timedelta(hours=11), T0 + timedelta(hours=24), None, None),
    ("encounter", "352001234", T0 + timedelta(hours=24), T0 + timedelta(hours=27), None,
     "232004567"),
    ("loitering", "352001234", T0 + timedelta(hours=24), T0 + timedelta(hours=27), None, None),
]  # fmt: skip


def test_a_known_track_gives_its_port_call_gap_loitering_and_encounter() -> None:
    errors, events = read(write_ais(_track()))
    assert errors == []
    assert [(e.kind, e.mmsi, e.start, e.end, e.place, e.other_mmsi) for e in events] == EXPECTED
    ship = [e for e in events if e.mmsi == "352001234"]
    assert {(e.imo, e.name) for e in ship} == {("9319466", "MSC EXAMPLE")}
    assert [e.hours for e in ship] == [5.0, 13.0, 3.0, 3.0]
    gap = ship[1]
    assert (gap.lat, gap.lon) == (pytest.approx(50.71667), pytest.approx(2.7))


def test_events_do_not_depend_on_the_batch_size_or_the_order_of_lines() -> None:
    reports = _track()
    _, events = read(write_ais(reports))
    _, small_batches = read(write_ais(reports[::-1]), batch_rows=3)
    strip = [e.model_dump(exclude={"source"}) for e in events]
    assert [e.model_dump(exclude={"source"}) for e in small_batches] == strip


def test_slow_vessels_apart_or_briefly_together_are_no_encounter() -> None:
    reports = []
    for minutes in range(0, 190, 10):
        at = T0 + timedelta(minutes=minutes)
        reports.append(Report(SHIP, at, lat=47.0, lon=-12.0, speed=0.5))
        # 600 m away the whole time, then close for less than two hours
        lat = 47.0054 if minutes < 80 else 47.001
        reports.append(Report(YACHT, at, lat=lat, lon=-12.0, speed=0.5, class_b=True))
    _, events = read(write_ais(reports))
    assert {e.kind for e in events} == {"loitering"}


def test_events_are_stored_once_and_bad_lines_quarantined(db: Database, tmp_path: Path) -> None:
    lines = write_ais(_track()).splitlines()
    lines.insert(5, "IamNotAnAisMessage1111")
    lines.insert(9, lines[9][:-2] + "00")  # a copy with a wrong checksum
    path = tmp_path / "feed.txt"
    path.write_text("\n".join(lines) + "\n")
    assert detect_format(path) == "ais"
    (summary,) = ingest(db, path).files
    assert (summary.stored, summary.quarantined) == (6, 2)
    assert [p.locator for p in summary.problems] == ["line 6", "line 10"]
    stored = load_records(db, "vessel_event")
    assert [(e.kind, e.mmsi, e.start, e.end, e.place, e.other_mmsi) for e in stored] == EXPECTED  # type: ignore[attr-defined]
    assert stored[2].source.message_ref == "lines 3-9"  # type: ignore[attr-defined]
    rows = quarantined(db)
    assert {r["locator"] for r in rows} == {"line 6", "line 10"}
    assert any(r["raw"] == "IamNotAnAisMessage1111" for r in rows)
    (again,) = ingest(db, path).files
    assert (again.stored, again.duplicates) == (0, 6)


def test_a_directory_ingest_reads_nmea_and_ais_files(db: Database, tmp_path: Path) -> None:
    (tmp_path / "a.nmea").write_text(write_ais(_track()))
    (tmp_path / "b.ais").write_text((DATA / "pyais_gatehouse.nmea").read_text())
    summary = ingest(db, tmp_path)
    assert [(Path(f.path).name, f.format, f.stored) for f in summary.files] == [
        ("a.nmea", "ais", 6), ("b.ais", "ais", 0),
    ]  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    hours=st.integers(12, 60),
    start=st.integers(0, 23),
    stay=st.integers(1, 30),
    meet=st.integers(12, 40),
)
def test_round_trip_events_to_nmea_and_back(hours: int, start: int, stay: int, meet: int) -> None:
    """Tracks built from chosen events (a port call of `stay` hours, a gap of `hours`, an
    encounter of `meet` 10-minute slots) come back as those events."""
    port = places()["ESALG"]
    t0 = T0 + timedelta(hours=start)
    reports = [
        Report(SHIP, t0 + timedelta(hours=h), lat=port.lat, lon=port.lon, speed=0.0)
        for h in range(stay + 1)
    ]
    gone = t0 + timedelta(hours=stay)
    back = gone + timedelta(hours=hours)
    for slot in range(meet + 1):
        at = back + timedelta(minutes=10 * slot)
        reports.append(Report(SHIP, at, lat=36.0, lon=-20.0, speed=1.0))
        reports.append(Report(YACHT, at, lat=36.002, lon=-20.0, speed=1.5, class_b=True))
    _, events = read(write_ais(reports))
    found = {(e.kind, e.mmsi, e.start, e.end) for e in events}
    met = back + timedelta(minutes=10 * meet)
    assert ("port_call", str(SHIP), t0, gone) in found
    assert ("ais_gap", str(SHIP), gone, back) in found
    assert ("encounter", str(SHIP), back, met) in found
    assert ("encounter", str(YACHT), back, met) in found
    assert len(found) == 6  # and the loitering of both


def test_targeting_reads_the_events_of_the_conveyance_before_arrival(db: Database) -> None:
    """The conftest voyage ECGYE -> PAMIT -> NLRTM arrives on the 28th; its vessel's events
    are matched by MMSI or by IMO, and only those of the 30 days before arrival count."""
    events = [
        make_vessel_event(start=at(20, 6), end=at(21, 8), hours=26.0),
        make_vessel_event(mmsi="999999999", start=at(22), end=at(23, 6), hours=30.0),  # by IMO
        make_vessel_event(start=at(1) - timedelta(days=15), end=at(1) - timedelta(days=5),
                          hours=240.0),  # ends before the 30 days
        make_vessel_event("encounter", other_mmsi="232004567", start=at(21), end=at(21, 3),
                          hours=3.0),
        make_vessel_event("loitering", start=at(21), end=at(21, 3), hours=3.0),
        make_vessel_event("loitering", start=at(24), end=at(24, 2), hours=2.5),
        # Balboa is 10 km and more from Manzanillo (PAMIT): undeclared; Manzanillo itself and
        # Rotterdam are declared
        make_vessel_event("port_call", place="PABLB", start=at(15), end=at(16), hours=24.0),
        make_vessel_event("port_call", place="PAMIT", start=at(14), end=at(15), hours=24.0),
        make_vessel_event("port_call", place="NLRTM", start=at(28), end=at(28, 5), hours=5.0),
    ]  # fmt: skip
    store_models(db, "vessel_event", events)
    store_models(db, "movement", [make_movement(), make_truck()])
    store_models(db, "consignment", [make_consignment(1, arrival_date=at(28).date())])
    facts = ("ais_gap_hours", "ais_encounter_count", "ais_loitering_hours",
             "ais_undeclared_port_calls")  # fmt: skip
    window = Window(at(1).date(), at(30).date())
    movements = {r["target_ref"]: r for r in features_for(db, "movement", window).to_pylist()}
    assert [movements["SEA-1"][f] for f in facts] == [30.0, 1, 5.5, 1]
    assert [movements["ROAD-1"][f] for f in facts] == [None, None, None, None]
    (consignment,) = features_for(db, "consignment", window).to_pylist()
    assert [consignment[f] for f in facts] == [30.0, 1, 5.5, 1]


@pytest.fixture(scope="module")
def demo_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(
        out, scale=0.05, formats=("parquet",), kinds=("consignment", "movement"),
        rates=Rates(yacht_recent_purchase=0.5, yacht_long_owned_crew2=0.5, sea_cover_load=0.05),
        volumes=Volumes(yacht_arrivals=160),
    )  # fmt: skip
    return out


def test_the_demo_tracks_give_back_the_events_they_were_built_from(
    demo_day: Path, sqlite_db: Database
) -> None:
    (path,) = write_ais_files(demo_day)
    assert path.name == "ais-2026-11-02.nmea"
    planned = planned_events(demo_day)
    assert {e.kind for e in planned} == {"port_call", "ais_gap", "loitering", "encounter"}
    (summary,) = ingest(sqlite_db, path).files
    assert (summary.stored, summary.quarantined) == (len(planned), 0)

    def facts(e: VesselEvent) -> tuple[object, ...]:
        return (e.kind, e.mmsi, e.start, e.end, e.hours, e.place, e.other_mmsi)

    stored = load_records(sqlite_db, "vessel_event")
    assert sorted(map(facts, stored)) == sorted(map(facts, planned))  # type: ignore[arg-type]
    # the undeclared calls of the cover-load vessels are not on their itineraries
    undeclared = [e for e in planned if e.place in UNDECLARED_PORTS]
    assert undeclared
    # targeting sees the planted yachts' gap and mothership, and the vessels' extra call
    ingest(sqlite_db, demo_day)
    window = Window(date(2026, 11, 2), date(2026, 11, 3))
    movements = features_for(sqlite_db, "movement", window).to_pylist()
    truth = pq.read_table(demo_day / TRUTH_DIR / "truth.parquet").to_pylist()
    planted = {r["target_ref"] for r in truth if r["pattern"] == "yacht_recent_purchase"}
    assert planted
    for row in movements:
        if row["target_ref"] in planted:
            assert row["ais_gap_hours"] >= 12 and row["ais_encounter_count"] == 1, row
    assert any(r["ais_undeclared_port_calls"] for r in movements)


def test_starter_profiles_use_the_ais_facts() -> None:
    criteria = {p.id: p.criteria for p in starter_profiles()}
    assert "ais_encounter_count" in criteria["YACHT-05"]
    assert "ais_undeclared_port_calls" in criteria["SEA-14"]


# --- the fast path: the same as pyais, line for line ----------------------------------------------

_ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"


def _check(text: str) -> str:
    value = 0
    for c in text:
        value ^= ord(c)
    return f"{value:02X}"


def _set(value: int, start: int, width: int, field: int) -> int:
    """`value` (168 bits) with bits [start, start + width) set to `field`."""
    shift = 168 - start - width
    mask = (1 << width) - 1
    return (value & ~(mask << shift)) | ((field & mask) << shift)


_PARTS = ("line", "type", "frags", "seq", "channel", "fill", "kind", "fields", "payload", "check",
          "time", "tag", "tag check", "end", "start")  # fmt: skip


@st.composite
def _payloads(draw: st.DrawFn, spoilt: set[str]) -> str:
    kinds = [2, 3, 4, 5, 19, 24, 27] if "kind" in spoilt else [1, 18]
    kind = draw(st.sampled_from(kinds))
    value = (kind << 162) | draw(st.integers(0, 2**162 - 1))
    lon_at, lat_at, speed_at = (57, 85, 46) if kind == 18 else (61, 89, 50)
    if "fields" in spoilt:  # off the globe, "not available", MMSIs of ten digits, any bits
        edges = st.sampled_from([(lat_at, 27, 91 * 600_000), (lat_at, 27, -54_000_001),
                                 (lon_at, 28, 181 * 600_000), (lon_at, 28, 108_000_001),
                                 (8, 30, 10**9), (8, 30, 2**30 - 1)])  # fmt: skip
        for start, width, field in draw(st.lists(edges, max_size=2)):
            value = _set(value, start, width, field)
    else:  # on the globe, with a real MMSI
        value = _set(value, lat_at, 27, draw(st.integers(-54_000_000, 54_000_000)))
        value = _set(value, lon_at, 28, draw(st.integers(-108_000_000, 108_000_000)))
        value = _set(value, 8, 30, draw(st.integers(0, 999_999_999)))
    value = _set(value, speed_at, 10, draw(st.sampled_from([0, 5, 1022, 1023])))
    payload = "".join(_ARMOUR[(value >> (162 - 6 * i)) & 63] for i in range(28))
    change = draw(st.sampled_from(["cut", "more", "bad", "none"])) if "payload" in spoilt else ""
    if change == "cut":
        payload = payload[:27]
    elif change == "more":
        payload += "0"
    elif change == "bad":
        at = draw(st.integers(0, 27))
        payload = payload[:at] + draw(st.sampled_from("XZ[^_xz,*!\\ é")) + payload[at + 1 :]
    elif change == "none":
        payload = ""
    return payload


@st.composite
def _lines(draw: st.DrawFn) -> str:
    """An AIS line of the fast path's shape, but for up to two of its parts ("spoilt"), each
    in another shape, right or wrong."""
    spoilt = draw(st.sets(st.sampled_from(_PARTS), max_size=2))

    def choose(part: str, good: object, *others: object) -> Any:
        return draw(st.sampled_from(others)) if part in spoilt else good

    kind = choose("line", "tagged", "bare", "front", "wrapper", "other")
    if kind == "other":
        return str(draw(st.sampled_from(["\n", "# note\n", "$GPGGA,1*00\n", "c:1791176552\n"])))
    if kind == "wrapper":
        body = "PGHP,1,2026,11,1,0,0,0,0,338,2,,1,00"
        return f"${body}*{_check(body)}\n"
    tag_type = choose("type", draw(st.sampled_from(["AIVDM", "AIVDO", "BSVDM"])), "aivdm", "AIVDm")
    frags = choose("frags", "1,1", "2,1", "1,2")
    seq = choose("seq", draw(st.sampled_from(["", "3"])), "x", "12")
    channel = choose("channel", draw(st.sampled_from(["A", "B", "", "1", "2"])), "C", "AB")
    fill = choose("fill", "0", "2", "")
    body = f"{tag_type},{frags},{seq},{channel},{draw(_payloads(spoilt))},{fill}"
    sentence = f"!{body}*{choose('check', _check(body), '00', _check(body).lower(), 'G1')}"
    if kind == "bare":
        line = sentence
    elif kind == "front":
        line = f"1791176552 {sentence}"
    else:
        stamp = draw(
            st.integers(600_000_000, 4_200_000_000).map(str)
            | st.integers(600_000_000_000, 4_200_000_000_000).map(str)
            | st.just("0001791176552")
        )
        stamp = choose("time", stamp, "", "1791_176552", "+1791176552", "17911765 2", "9" * 14)
        fields = choose(
            "tag", ["s:redlane", f"c:{stamp}"], [f"c:{stamp}"], [f"c:{stamp}", "s:x"], ["s:x"],
            ["xc:1", f"c:{stamp}"], [f"c:{stamp}", "c:1791176552"], ["s:a*b", f"c:{stamp}"],
            ["s:é", f"c:{stamp}"],
        )  # fmt: skip
        tag = ",".join(fields)
        tag_check = choose("tag check", _check(tag), "00", _check(tag).lower(), "")
        line = f"\\{tag}*{tag_check}\\{sentence}"
    ending = choose("end", draw(st.sampled_from(["\n", "\r\n"])), "\r", " \n", "")
    return str(choose("start", "", " ", "\t")) + line + str(ending)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_lines(), min_size=1, max_size=12))
def test_the_fast_path_reads_what_pyais_reads(lines: list[str]) -> None:
    """Positions, static reports and refused lines (with their numbers and reasons) are the
    same whether the common lines are decoded a block at a time or every line with pyais."""
    text = "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)
    fast = read_positions(io.StringIO(text))
    slow = read_positions(io.StringIO(text), fast=False)
    assert fast[0].equals(slow[0]) and fast[1].equals(slow[1])
    assert fast[2] == slow[2]


def test_the_fast_path_takes_the_common_lines_and_leaves_the_others() -> None:
    tracks = write_ais(_track()).splitlines(keepends=True)
    # a $PGHP wrapper's time goes to the next AIS sentence: one with a tag block takes it
    body = "PGHP,1,2026,11,1,0,0,0,0,338,2,,1,00"
    bare = tracks[2].split("\\")[-1]
    lines = [*tracks, f"${body}*{_check(body)}\n", tracks[2], bare]
    slow, rows = fast_positions(lines, 1)
    # the static reports (lines 1-2 and the yacht's last) and the lines added are left
    assert slow.tolist() == [0, 1, len(tracks) - 2, len(tracks) - 1, len(tracks), len(tracks) + 2]
    assert rows is not None and rows.num_rows == len(tracks) - 3
    text = "".join(lines)
    positions, _, errors = read_positions(io.StringIO(text), batch_rows=7)
    assert positions.equals(read_positions(io.StringIO(text), fast=False)[0])
    assert [(e.locator, reasons([e])) for e in errors] == [
        (f"line {len(lines)}", Counter({"no receive time": 1}))
    ]


_TEXTS = [write_ais(_track()[:12]), (DATA / "pyais_mixed.txt").read_text()]


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages(_TEXTS, "!$\\,*:0123456789ABCDEFabcdefgsc@<>`?\n AIVDMOPGH"))
def test_fuzz_nothing_but_our_errors_escape(text: str) -> None:
    read_every_message(text, "ais")
