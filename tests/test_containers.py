"""BAPLIE bay plans and COARRI terminal reports: one container event per container."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import mutated_messages, read_every_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redlane.intake.containers import read_container_events, write_coarri
from redlane.intake.edifact import Message, read_messages, read_stream
from redlane.intake.formats import detect_format
from redlane.intake.pipeline import ingest
from redlane.model import ContainerEvent
from redlane.store.database import Database
from redlane.store.records import load_records

DATA = Path(__file__).parent / "data" / "edifact"
COARRI = DATA / "php-edifact_D95BCOARRI.edi"
BAPLIE = DATA / "php-edifact_D95BBAPLIE.edi"


def events(path: Path) -> list[ContainerEvent]:
    found = []
    for message in read_messages(path):
        assert isinstance(message, Message)
        found += [ContainerEvent.model_validate(d) for _, d in read_container_events(message)]
    return found


def test_coarri_sample_gives_two_messages_and_21_containers() -> None:
    assert detect_format(COARRI) == "coarri"
    assert len(list(read_messages(COARRI))) == 2
    found = events(COARRI)
    assert len(found) == 21 and all(e.container_valid for e in found)
    first = found[0]
    assert (first.event, first.container, first.size_type, first.full) == (
        "discharged", "FCIU9908030", "45G1", True,
    )  # fmt: skip
    assert (first.vessel, first.voyage, first.place, first.port_of_loading) == (
        "3ERX3", "031W", "ITGOA", "TRKMX",
    )  # fmt: skip
    assert (first.stowage, first.gross_mass_kg, first.operator) == ("380886", 8914.0, "COE")
    assert first.at == datetime(2016, 2, 3, 9, 13, tzinfo=UTC)


def test_baplie_sample_gives_three_stowed_containers() -> None:
    assert detect_format(BAPLIE) == "baplie"
    found = events(BAPLIE)
    assert [(e.container, e.stowage, e.port_of_discharge, e.gross_mass_kg) for e in found] == [
        ("OOLU4293959", "0780690", "CNYTN", 3833.0),
        ("MOEU0710945", "0060886", "CNXMN", 3983.0),
        ("OOLU8757889", "0100114", "TWKHH", 26000.0),
    ]
    assert {(e.event, e.vessel, e.voyage, e.place) for e in found} == {
        ("stowed", "VRIB3", "042", "USLGB")
    }
    assert [e.full for e in found] == [False, False, True]


def test_container_events_are_stored_once_and_read_back(db: Database) -> None:
    (coarri,) = ingest(db, COARRI).files
    (baplie,) = ingest(db, BAPLIE).files
    assert (coarri.stored, baplie.stored) == (21, 3)
    (again,) = ingest(db, COARRI).files
    assert (again.stored, again.duplicates) == (0, 21)
    stored = load_records(db, "container_event")
    expected = events(COARRI) + events(BAPLIE)
    assert [e.model_dump(exclude={"source"}) for e in stored] == [
        e.model_dump(exclude={"source"}) for e in expected
    ]


_TEXTS = [COARRI.read_text(), BAPLIE.read_text()]


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages(_TEXTS, "EQDLOCMAKGNS+:?'\n 0123456789.-"))
def test_fuzz_nothing_but_our_errors_escape(text: str) -> None:
    read_every_message(text)


def test_progress_counts_the_records_before_reading_them(db: Database) -> None:
    seen: list[tuple[int, int]] = []
    ingest(db, COARRI, on_progress=lambda _name, done, total: seen.append((done, total)))
    assert seen[-1] == (21, 21) and all(total == 21 for _, total in seen)


_BOXES = ["FCIU9908030", "CSQU3054383", "MSKU1234565", "XYZ?+:'1"]


@st.composite
def _reports(draw: st.DrawFn) -> list[ContainerEvent]:
    common = {
        "event": draw(st.sampled_from(["discharged", "loaded", "reported"])),
        "vessel": draw(st.sampled_from([None, "9321483", "VRIB3"])),
        "voyage": draw(st.sampled_from([None, "045E", "V:1+2"])),
        "place": draw(st.sampled_from([None, "NLRTM"])),
    }
    when = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
    return [
        ContainerEvent(
            container=number,
            size_type=draw(st.sampled_from([None, "45G1", "22R1"])),
            full=draw(st.sampled_from([None, True, False])),
            seals=draw(st.lists(st.text(st.sampled_from("AZ09?+:'-"), min_size=1, max_size=9),
                                max_size=3)),
            at=draw(st.sampled_from([None, when, when.replace(second=41)])),
            stowage=draw(st.sampled_from([None, "0780690", "120482"])),
            port_of_loading=draw(st.sampled_from([None, "ECGYE"])),
            port_of_discharge=draw(st.sampled_from([None, "NLRTM"])),
            gross_mass_kg=draw(st.one_of(st.none(), st.floats(0, 60_000, allow_nan=False))),
            operator=draw(st.sampled_from([None, "MSC", "ONE"])),
            **common,
        )
        for number in draw(st.lists(st.sampled_from(_BOXES), min_size=1, max_size=4))
    ]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(_reports())
def test_a_coarri_redlane_writes_reads_back_unchanged(written: list[ContainerEvent]) -> None:
    text = write_coarri(written, sender="ECTDELTA", recipient="NL", reference="R1",
                        prepared=datetime(2026, 11, 2, 7, 0, tzinfo=UTC))  # fmt: skip
    (message,) = read_stream(io.StringIO(text))
    assert isinstance(message, Message) and message.type == "COARRI"
    read = [ContainerEvent.model_validate(d) for _, d in read_container_events(message)]
    assert [e.model_dump(exclude={"source"}) for e in read] == [
        e.model_dump(exclude={"source"}) for e in written
    ]


def test_a_terminal_report_holds_one_event_of_one_voyage() -> None:
    box = ContainerEvent(event="discharged", container="FCIU9908030", place="NLRTM")
    write = {"sender": "T", "recipient": "NL", "reference": "R",
             "prepared": datetime(2026, 11, 2, tzinfo=UTC)}  # fmt: skip
    with pytest.raises(ValueError, match="bay plan"):
        write_coarri([box.model_copy(update={"event": "stowed"})], **write)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not in the report of FCIU9908030"):
        write_coarri([box, box.model_copy(update={"event": "loaded"})], **write)  # type: ignore[arg-type]
