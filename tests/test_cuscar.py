"""EDIFACT reading and CUSCAR mapping: samples, round trips, quarantine, streaming, fuzzing."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_consignment, make_movement, mutated_messages, read_every_message
from hypothesis import HealthCheck, given, settings

from redlane.intake import edifact
from redlane.intake.cuscar import read_cuscar, write_cuscar
from redlane.intake.edifact import EdifactError, Message, read_messages, read_stream
from redlane.intake.formats import detect_format
from redlane.intake.pipeline import ingest
from redlane.model import (
    Address,
    Consignment,
    Equipment,
    Freight,
    GoodsItem,
    Movement,
    RoledParty,
    TransportDocument,
)
from redlane.store.database import Database
from redlane.store.records import load_records
from redlane.store.repository import quarantined

DATA = Path(__file__).parent / "data" / "edifact"
PREPARED = datetime(2026, 11, 1, 8, 30, 15, tzinfo=UTC)


def messages(path: Path) -> list[Message]:
    found = list(read_messages(path))
    assert all(isinstance(m, Message) for m in found), found
    return found  # type: ignore[return-value]


def test_public_samples_read_with_their_counts() -> None:
    (baplie,) = messages(DATA / "php-edifact_D95BBAPLIE.edi")
    assert (baplie.type, baplie.version, baplie.sender) == ("BAPLIE", "D:95B:UN:SMDG20", "LBCTI")
    assert sum(s.tag == "EQD" for s in baplie.segments) == 3
    coarri = messages(DATA / "php-edifact_D95BCOARRI.edi")
    assert [m.type for m in coarri] == ["COARRI", "COARRI"]
    assert sum(s.tag == "EQD" for m in coarri for s in m.segments) == 21


def test_the_synthetic_cuscar_sample_maps_to_a_voyage_and_its_bill() -> None:
    (message,) = messages(DATA / "cuscar_d95b_synthetic.edi")
    movement_data, documents = read_cuscar(message)
    assert movement_data is not None
    movement = Movement.model_validate(movement_data)
    assert movement.conveyance.imo == "9321483" and movement.conveyance.imo_valid
    assert (movement.conveyance.name, movement.conveyance.flag) == ("EXAMPLE VESSEL", "PA")
    assert [c.place for c in movement.itinerary] == ["CNSGH", "NLRTM"]
    ((index, data),) = documents
    assert message.segments[index].tag == "CNI"
    c = Consignment.model_validate(data)
    assert (c.document.kind, c.document.number) == ("bill_of_lading", "EXBL0000001")
    assert [(p.role, p.name) for p in c.parties] == [
        ("consignor", "SHANGHAI EXAMPLE TRADING CO LTD"),
        ("consignee", "EXAMPLE IMPORTS BV"),
        ("notify_party", "EXAMPLE LOGISTICS BV"),
    ]
    assert c.parties[1].eori == "NL123456789"
    assert [(e.number, e.seals, e.size_type) for e in c.equipment] == [
        ("MSKU1234565", ["ML123456"], "45G1")
    ]
    assert [(g.hs_code, g.packages, g.package_kind, g.gross_mass_kg) for g in c.goods] == [
        ("940540", 1200, "CT", 18500.0)
    ]
    assert (c.arrival_date.isoformat(), c.movement_ref) == ("2024-06-20", movement.ref)
    assert c.source is not None and c.source.message_ref == "CSC000123/1"


def _documents() -> list[Consignment]:
    """Bills that use every part of the mapping: house under master, persons, reefers without
    an R size type, two documents naming one container with other seals."""
    base = make_consignment(1)
    return [
        base,
        make_consignment(
            2,
            document=TransportDocument(
                kind="house_bill_of_lading", number="HBL-7", master_number="MEDU00000001"
            ),
            parties=[
                RoledParty(role="consignor", kind="person", name="Ana Ruiz?+:'"),
                RoledParty(
                    role="consignee",
                    kind="person",
                    name="Jan de Vries",
                    address=Address(street="Dorpsweg 1", city="Utrecht", country="NL"),
                    email="jan@example.org",
                ),
                RoledParty(role="forwarder", name="Fast Forwarding BV", vat="NL001234567B01"),
            ],
            equipment=[Equipment(number="CSQU3054383", reefer=True, seals=["EC999999", "X2"])],
            goods=[
                GoodsItem(
                    hs_code="080440",
                    description="Avocados",
                    packages=900,
                    package_kind="CT",
                    gross_mass_kg=12000.25,
                    net_mass_kg=11000,
                ),
                GoodsItem(
                    hs_code="060311",
                    description="Roses",
                    packages=3,
                    gross_mass_kg=50,
                    value=120.5,
                    currency="EUR",
                ),
            ],
            freight=Freight(terms="collect", payer_role="consignee"),
            place_of_delivery="NLUTC",
            transshipment_places=[],
            routing_countries=[],
            declared_at=PREPARED,
            office=None,
        ),
    ]


def test_what_redlane_writes_it_reads_back_unchanged(tmp_path: Path) -> None:
    movement = make_movement("SEA-1")
    documents = _documents()
    text = write_cuscar(
        movement, documents, sender="MSCU", recipient="NLCUSTOMS", reference="R1",
        prepared=PREPARED,
    )  # fmt: skip
    (message,) = list(read_stream(io.StringIO(text)))
    assert isinstance(message, Message)
    movement_data, parsed = read_cuscar(message)
    assert Movement.model_validate(movement_data) == movement.model_copy(
        update={"source": Movement.model_validate(movement_data).source}
    )
    for (_, data), original in zip(parsed, documents, strict=True):
        got = Consignment.model_validate(data)
        assert got.model_dump(exclude={"source"}) == original.model_dump(exclude={"source"})


def test_bad_messages_are_quarantined_named_and_the_rest_goes_in(
    db: Database, tmp_path: Path
) -> None:
    movement = make_movement("SEA-1")
    good = write_cuscar(movement, [make_consignment(1)], sender="MSCU", recipient="NL",
                        reference="A", prepared=PREPARED)  # fmt: skip
    miscounted = write_cuscar(make_movement("SEA-2"), [make_consignment(2)], sender="MSCU",
                              recipient="NL", reference="B", prepared=PREPARED)  # fmt: skip
    miscounted = miscounted.replace("UNT+", "UNT+9")
    bad_place = write_cuscar(
        make_movement("SEA-3"),
        [make_consignment(3), make_consignment(4, place_of_loading="COBUN")],
        sender="MSCU", recipient="NL", reference="C", prepared=PREPARED,
    ).replace("LOC+9+ECGYE", "LOC+9+EC-GYE", 1)  # fmt: skip
    path = tmp_path / "manifests.edi"
    path.write_text(good + miscounted + bad_place)
    assert detect_format(path) == "cuscar"
    (first,) = ingest(db, path).files
    assert (first.stored, first.quarantined) == (4, 2)  # 2 voyages, 2 bills stored
    reasons = {p.locator: p for p in first.problems}
    unt = next(p for p in first.problems if "UNT" in p.locator)
    assert "UNT counts" in unt.reason and unt.raw.startswith("UNH+1+CUSCAR")
    place = next(p for p in first.problems if p.field == "place_of_loading")
    assert place.locator.startswith("message 3 (UNH 1), segment") and place.locator.endswith("CNI")
    assert "EC-GYE" in place.raw and len(reasons) == 2
    assert {q["locator"] for q in quarantined(db)} == {unt.locator, place.locator}
    (again,) = ingest(db, path).files
    assert (again.stored, again.duplicates) == (0, 4)
    stored = load_records(db, "consignment")
    assert sorted(c.document.number for c in stored) == ["MEDU00000001", "MEDU00000004"]


def test_segments_are_cut_across_read_blocks_and_released_terminators_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = write_cuscar(make_movement("SEA-1"), _documents(), sender="S", recipient="R",
                        reference="Z", prepared=PREPARED)  # fmt: skip
    whole = list(read_stream(io.StringIO("\n  " + text.replace("'", "'\r\n"))))
    monkeypatch.setattr(edifact, "_BLOCK", 7)
    blocks = list(read_stream(io.StringIO(text)))
    assert len(whole) == len(blocks) == 1
    assert isinstance(whole[0], Message) and isinstance(blocks[0], Message)
    assert [s.elements for s in whole[0].segments] == [s.elements for s in blocks[0].segments]
    names = [p["name"] for _, d in read_cuscar(blocks[0])[1] for p in d["parties"]]
    assert "Ana Ruiz?+:'" in names


def test_functional_groups_and_stray_segments() -> None:
    text = write_cuscar(make_movement("SEA-1"), [make_consignment(1)], sender="S",
                        recipient="R", reference="Z", prepared=PREPARED)  # fmt: skip
    head, rest = text.split("UNH+", 1)
    grouped = (
        head
        + "UNG+CUSCAR+S+R+261101:0830+1+UN+D:95B'UNH+"
        + rest.replace("UNZ+", "UNE+1+1'FTX+AAA'UNZ+")
    )
    found = list(read_stream(io.StringIO(grouped)))
    assert isinstance(found[0], Message) and found[0].sender == "S"
    assert isinstance(found[1], EdifactError) and "outside a UNH" in found[1].reason
    cut = list(read_stream(io.StringIO(text[: text.index("UNT+")])))
    assert isinstance(cut[-1], EdifactError) and "ends inside a message" in cut[-1].reason
    (glued,) = list(read_stream(io.StringIO(text.replace("GID+1+", "GID1+", 1))))
    assert isinstance(glued, EdifactError)
    assert "'GID1'" in glued.reason
    assert glued.locator.startswith("message 1 (UNH 1), segment ")


_SAMPLE = write_cuscar(make_movement("SEA-1"), _documents(), sender="S", recipient="R",
                       reference="Z", prepared=PREPARED)  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages([_SAMPLE], "UNHTCIGDLOQ+:?'\n 0123456789ABEMSZ.-"))
def test_fuzz_nothing_but_our_errors_escape(text: str) -> None:
    read_every_message(text)


def test_the_demo_writes_cuscar_that_holds_the_very_canonical_records(
    sqlite_db: Database, tmp_path: Path
) -> None:
    from redlane.demo import generate
    from redlane.demo.messages import MESSAGES_DIR

    traffic = tmp_path / "traffic"
    summary = generate(traffic, scale=0.05, seed=4, formats=("parquet", "cuscar"))
    messages_dir = traffic / MESSAGES_DIR
    assert [p.name for p in messages_dir.iterdir()] == ["cuscar-2026-11-02.edi"]
    assert any(p.parent == messages_dir for p in summary.files)
    canonical = ingest(sqlite_db, traffic)
    (from_messages,) = ingest(sqlite_db, messages_dir).files
    assert from_messages.format == "cuscar" and from_messages.quarantined == 0
    assert from_messages.read > 100
    # every voyage and bill in the messages is already stored from the canonical files
    assert (from_messages.stored, from_messages.duplicates) == (0, from_messages.read)
    assert canonical.total("stored") > from_messages.read
