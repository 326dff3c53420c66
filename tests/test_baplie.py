"""BAPLIE SMDG 3.x bay plans (EQD-centred, D.13B and later) beside SMDG 2.x: a carrier's plan,
the version that picks the mapper, round trips, quarantine, the demo's bay plans and the
terminal seal facts they feed, fuzzing."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import mutated_messages, read_every_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redlane.intake.containers import is_smdg3, read_container_events, write_baplie
from redlane.intake.edifact import Message, read_messages, read_stream
from redlane.intake.formats import detect_format
from redlane.intake.pipeline import ingest
from redlane.model import ContainerEvent
from redlane.store.database import Database
from redlane.store.records import load_records
from redlane.targeting import Window, features_for

DATA = Path(__file__).parent / "data" / "edifact"
PREPARED = datetime(2026, 11, 1, 20, 30, tzinfo=UTC)
DEPARTED = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)

# A carrier's SMDG 3.1 bay plan on leaving Balboa: the carrier in the header, a reefer, an
# empty box of another operator, a reserved cell without a box, a box with dangerous goods
# and a customs seal whose operator is the header's.
SMDG31_PLAN = (
    "UNA:+.? 'UNB+UNOC:3+MSCU:ZZ+NLRTMPCS:ZZ+261101:2030+BP0001'"
    "UNH+1+BAPLIE:D:13B:UN:SMDG31'BGM+659+MSC045E-PABLB+9'DTM+137:202611012030:203'"
    "NAD+CA+MSC:LINES:306'"
    "TDT+20+045E+++MSC:LINES:306+++9321483:IMO:ZZZ:EXAMPLE VESSEL'RFF+VON:045E'"
    "LOC+5+PABLB:139:6'LOC+61+NLRTM:139:6'DTM+178:202611010600:203'DTM+136:202611012000:203'"
    "LOC+147+0020282:9711:5'EQD+CN+CSQU3054383:6346:5+45R1:6346:5+++5'NAD+CF+MSC:LINES:306'"
    "MEA+AAE+VGM+KGM:26500'TMP+2+-18:CEL'LOC+9+ECGYE:139:6'LOC+11+NLRTM:139:6'"
    "LOC+83+NLTLB:139:6'RFF+BM:MEDU00000001'SEL+EC123456+CA'"
    "LOC+147+0030084:9711:5'FTX+AGW+++RESERVED'"
    "LOC+147+0030086:9711:5'EQD+CN+MSKU1234565:6346:5+22G1:6346:5+++4'NAD+CF+MAEU:LINES:306'"
    "MEA+AAE+VGM+KGM:2300'LOC+9+PABLB:139:6'LOC+11+NLRTM:139:6'"
    "LOC+147+0040082:9711:5'EQD+CN+FCIU9908030:6346:5+45G1:6346:5+++5'"
    "MEA+AAE+VGM+KGM:18000.5'LOC+9+COCTG:139:6'LOC+11+BEANR:139:6'RFF+BM:KNHB000000001'"
    "SEL+ML123456+CA'SEL+CU998877+CU'DGS+IMD+3+1263'FTX+AAD+++PAINT'"
    "UNT+39+1'UNZ+1+BP0001'"
)


def _events(text: str) -> list[ContainerEvent]:
    found = []
    for message in read_stream(io.StringIO(text)):
        assert isinstance(message, Message), message
        found += [ContainerEvent.model_validate(d) for _, d in read_container_events(message)]
    return found


def test_a_carriers_smdg31_plan_gives_one_event_per_box() -> None:
    found = _events(SMDG31_PLAN)
    assert [(e.container, e.stowage, e.size_type, e.full, e.operator) for e in found] == [
        ("CSQU3054383", "0020282", "45R1", True, "MSC"),
        ("MSKU1234565", "0030086", "22G1", False, "MAEU"),
        ("FCIU9908030", "0040082", "45G1", True, "MSC"),
    ]
    assert [(e.port_of_loading, e.port_of_discharge, e.gross_mass_kg) for e in found] == [
        ("ECGYE", "NLRTM", 26500.0), ("PABLB", "NLRTM", 2300.0), ("COCTG", "BEANR", 18000.5),
    ]  # fmt: skip
    assert [e.seals for e in found] == [["EC123456"], [], ["ML123456", "CU998877"]]
    # the departure from the plan's port, though the arrival there is given first
    assert {(e.event, e.vessel, e.voyage, e.place, e.at) for e in found} == {
        ("stowed", "9321483", "045E", "PABLB", DEPARTED)
    }
    assert all(e.container_valid for e in found)


@pytest.mark.parametrize(("version", "smdg3"), [
    ("D:95B:UN:SMDG20", False), ("D:95B:UN:SMDG22", False), ("D:13B:UN:SMDG31", True),
    ("D:16A:UN:SMDG32", True), ("D:13B:UN:SMDG30", True), ("D:95B:UN", False),
    ("D:13B:UN", True), ("D:24A:UN", True), ("D:00B:UN", False), ("", False),
])  # fmt: skip
def test_the_unh_version_picks_the_mapper(version: str, smdg3: bool) -> None:
    assert is_smdg3(version) is smdg3


def test_the_smdg2_samples_read_as_before() -> None:
    (plan,) = read_messages(DATA / "php-edifact_D95BBAPLIE.edi")
    assert isinstance(plan, Message) and not is_smdg3(plan.version)
    assert [d["stowage"] for _, d in read_container_events(plan)] == [
        "0780690", "0060886", "0100114",
    ]  # fmt: skip
    coarri = list(read_messages(DATA / "php-edifact_D95BCOARRI.edi"))
    assert len(coarri) == 2
    assert sum(len(read_container_events(m)) for m in coarri if isinstance(m, Message)) == 21


def test_the_same_plan_as_smdg2_reads_into_the_same_events() -> None:
    smdg2 = (
        "UNB+UNOC:3+MSCU:ZZ+NL:ZZ+261101:2030+B2'UNH+1+BAPLIE:D:95B:UN:SMDG20'"
        "BGM++MSC045E+9'DTM+137:202611012030:203'TDT+20+045E+++MSC:172:20+++9321483:146:11'"
        "LOC+5+PABLB:139:6'DTM+133:202611012000:203'NAD+CA+MSC'"
        "LOC+147+0020282::5'MEA+WT++KGM:26500'LOC+9+ECGYE:139:6'LOC+11+NLRTM:139:6'"
        "RFF+BM:MEDU00000001'EQD+CN+CSQU3054383+45R1+++5'NAD+CF+MSC:172:20'UNT+15+1'UNZ+1+B2'"
    )
    (old,) = _events(smdg2)
    first = _events(SMDG31_PLAN)[0]
    assert old.model_dump(exclude={"source", "seals"}) == first.model_dump(
        exclude={"source", "seals"}
    )


_CONTAINERS = ["CSQU3054383", "MSKU1234565", "FCIU9908030", "CSQU3054384", "XYZ?+:'1"]
_seals = st.lists(st.text(st.sampled_from("AZ09?+:'-"), min_size=1, max_size=10), max_size=3)


@st.composite
def _plans(draw: st.DrawFn) -> list[ContainerEvent]:
    voyage = {
        "vessel": draw(st.sampled_from([None, "9321483", "VRIB3", "1234567"])),
        "voyage": draw(st.sampled_from([None, "045E", "V:1+2"])),
        "place": draw(st.sampled_from([None, "PABLB"])),
        "at": draw(st.sampled_from([None, DEPARTED, DEPARTED.replace(second=7)])),
    }
    operator = draw(st.sampled_from([None, "MSC", "MAEU"]))
    return [
        ContainerEvent(
            event="stowed",
            container=number,
            stowage=draw(st.from_regex(r"\d{6,7}", fullmatch=True)),
            size_type=draw(st.sampled_from([None, "45R1", "22G1"])),
            full=draw(st.sampled_from([None, True, False])),
            seals=draw(_seals),
            port_of_loading=draw(st.sampled_from([None, "ECGYE", "COCTG"])),
            port_of_discharge=draw(st.sampled_from([None, "NLRTM"])),
            gross_mass_kg=draw(st.one_of(st.none(), st.floats(0, 60_000, allow_nan=False))),
            operator=draw(st.sampled_from([operator, "ONE"])),
            **voyage,
        )
        for number in draw(st.lists(st.sampled_from(_CONTAINERS), min_size=1, max_size=5))
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_plans())
def test_what_redlane_writes_it_reads_back_unchanged(events: list[ContainerEvent]) -> None:
    text = write_baplie(events, sender="MSCU", recipient="NL", reference="P1", prepared=PREPARED,
                        bills={e.container: ["BL1", "BL?2"] for e in events})  # fmt: skip
    assert "BAPLIE:D:13B:UN:SMDG31" in text
    assert [e.model_dump(exclude={"source"}) for e in _events(text)] == [
        e.model_dump(exclude={"source"}) for e in events
    ]


def test_a_bay_plan_holds_one_voyage_of_stowed_boxes() -> None:
    box = ContainerEvent(event="stowed", container="CSQU3054383", stowage="0020282",
                         voyage="045E", place="PABLB")  # fmt: skip
    write = {"sender": "S", "recipient": "R", "reference": "X", "prepared": PREPARED}
    with pytest.raises(ValueError, match="at least one"):
        write_baplie([], **write)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="MSKU1234565: not on the voyage of CSQU3054383"):
        write_baplie([box, box.model_copy(update={"container": "MSKU1234565", "voyage": "046W"})],
                     **write)  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(ValueError, match="needs its stowage cell"):
        write_baplie([box.model_copy(update={"stowage": None})], **write)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not discharged"):
        write_baplie([box.model_copy(update={"event": "discharged"})], **write)  # type: ignore[arg-type]


def test_bad_plans_are_quarantined_and_the_rest_goes_in(db: Database, tmp_path: Path) -> None:
    broken_time = SMDG31_PLAN.replace("DTM+136:202611012000:203", "DTM+136:2026-11-01:203")
    bad_box = SMDG31_PLAN.replace("EQD+CN+MSKU1234565:6346:5+22G1", "EQD+CN+MSKU1234565:6346:5+2")
    path = tmp_path / "plans.edi"
    path.write_text(SMDG31_PLAN + "\n" + broken_time + "\n" + bad_box)
    assert detect_format(path) == "baplie"
    (first,) = ingest(db, path).files
    # the whole second plan (its header time), the third plan's malformed box alone
    assert (first.stored, first.duplicates, first.quarantined) == (3, 2, 2)
    header = next(p for p in first.problems if p.field is None)
    # segments are counted through the file (UNB, UNZ, a repeated UNA included)
    assert header.locator == "message 2 (UNH 1), segment 53 DTM" and "2026-11-01" in header.reason
    box = next(p for p in first.problems if p is not header)
    assert (box.field, box.locator) == ("size_type", "message 3 (UNH 1), segment 109 EQD")
    (again,) = ingest(db, path).files
    assert (again.stored, again.duplicates) == (0, 5)
    assert [e.container for e in load_records(db, "container_event")] == [
        "CSQU3054383", "MSKU1234565", "FCIU9908030",
    ]  # fmt: skip


def test_the_demo_bay_plans_read_back_and_feed_the_terminal_seal_facts(
    sqlite_db: Database, tmp_path: Path
) -> None:
    from redlane.demo import generate
    from redlane.demo.baplie_messages import bay_plans, write_baplie_files
    from redlane.demo.messages import sea_voyages

    traffic = tmp_path / "traffic"
    generate(traffic, scale=0.05, seed=4, formats=("parquet",), kinds=("consignment", "movement"))
    (path,) = write_baplie_files(traffic)
    assert path.name == "baplie-2026-11-02.edi"
    plans = bay_plans(traffic)
    (summary,) = ingest(sqlite_db, path).files
    assert (summary.format, summary.quarantined) == ("baplie", 0)
    written = [e for p in plans for e in p.events]
    assert summary.stored + summary.duplicates == len(written) > 100
    stored = load_records(sqlite_db, "container_event")
    assert sorted(e.model_dump_json(exclude={"source"}) for e in stored) == sorted(
        {e.model_dump_json(exclude={"source"}) for e in written}
    )
    # every box of every sea bill is on its voyage's plan, in a cell of its own
    voyages = sea_voyages(traffic)
    assert {e.number for v in voyages for d in v.documents for e in d.equipment} == {
        e.container for e in written
    }
    assert all(len({e.stowage for e in p.events}) == len(p.events) for p in plans)

    # a bill whose box the bay plan shows with other seals is a terminal seal mismatch
    ingest(sqlite_db, traffic)
    on_board: dict[str, set[str]] = {}
    for e in written:
        on_board.setdefault(e.container, set()).add(",".join(sorted(e.seals)))
    expected = {
        d.document.number: any(
            on_board[e.number] - {",".join(sorted(e.seals))} for e in d.equipment if e.seals
        )
        for v in voyages
        for d in v.documents
    }
    facts = {
        f["target_ref"]: f["terminal_seal_mismatch"]
        for f in features_for(sqlite_db, "consignment", Window()).to_pylist()
        if f["target_ref"] in expected
    }
    assert facts == expected and any(facts.values())


_SAMPLES = [SMDG31_PLAN, (DATA / "php-edifact_D95BBAPLIE.edi").read_text()]


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages(_SAMPLES, "EQDLOCMAKGNSTBRF+:?'\n 0123456789.-"))
def test_fuzz_nothing_but_our_errors_escape(text: str) -> None:
    read_every_message(text, "baplie")
