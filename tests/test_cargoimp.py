"""IATA Cargo-IMP (FWB, FHL, FFM): samples, round trips, several messages a file, quarantine
and retry, the demo's air cargo, fuzzing."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import mutated_messages, read_every_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from redlane.intake.canonical import validate_chunk
from redlane.intake.cargoimp import (
    CargoImpError,
    CargoImpMessage,
    CargoImpReadError,
    Shipment,
    envelope,
    read_ffm,
    read_fhl,
    read_fwb,
    read_stream,
    records,
    shipments_of,
    write_ffm,
    write_fhl,
    write_fwb,
)
from redlane.intake.formats import MESSAGE_FORMATS, detect_format, recognise
from redlane.intake.pipeline import ingest
from redlane.intake.quarantine import retry
from redlane.model import (
    Address,
    Call,
    Consignment,
    Conveyance,
    Freight,
    GoodsItem,
    Movement,
    Party,
    RoledParty,
    TransportDocument,
)
from redlane.store.database import Database
from redlane.store.records import load_records
from redlane.store.repository import quarantined
from redlane.store.schema import quarantine

DATA = Path(__file__).parent / "data" / "cargoimp"
FWB_SAMPLE = DATA / "cargoimp_fwb16_synthetic.txt"
FHL_SAMPLE = DATA / "cargoimp_fhl5_synthetic.txt"
FFM_SAMPLE = DATA / "cargoimp_ffm8_synthetic.txt"
WHEN = datetime(2026, 11, 1, 22, 15, 30, tzinfo=UTC)


def messages(text: str) -> list[CargoImpMessage]:
    found = list(read_stream(io.StringIO(text)))
    assert all(isinstance(m, CargoImpMessage) for m in found), found
    return found  # type: ignore[return-value]


def one(text: str) -> CargoImpMessage:
    (message,) = messages(text)
    return message


def without_source(record: Consignment | Movement) -> dict[str, Any]:
    return record.model_dump(exclude={"source"})


# --- the samples -------------------------------------------------------------------------------


def test_the_samples_are_recognised_by_content() -> None:
    for sample in (FWB_SAMPLE, FHL_SAMPLE, FFM_SAMPLE):
        assert detect_format(sample) == "cargoimp"
        found = recognise(sample.read_text())
        assert found is not None and found.name == "cargoimp"
    assert recognise("UNA:+.? 'UNB+UNOC:3+A+B'UNH+1+CUSCAR:D:95B:UN'") is not None
    assert recognise("QK CUSTOMS\n.RDLDEMO 021200\nFWB/16\n") is MESSAGE_FORMATS["cargoimp"]
    assert not MESSAGE_FORMATS["cargoimp"].recognise("hello\nFWB/16\n")
    assert not MESSAGE_FORMATS["cargoimp"].recognise('{"record": "movement"}\n')


def test_the_fwb_sample_maps_to_one_air_waybill() -> None:
    _, data = read_fwb(one(FWB_SAMPLE.read_text()))
    c = Consignment.model_validate(data)
    assert (c.document.kind, c.document.number, c.document.number_valid) == (
        "air_waybill", "020-12345675", True,
    )  # fmt: skip
    assert (c.place_of_loading, c.place_of_discharge) == ("DEFRA", "USJFK")
    assert (c.origin_country, c.destination_country) == ("DE", "US")
    assert [(p.role, p.name) for p in c.parties] == [
        ("consignor", "EXAMPLE EXPORT GMBH"),
        ("consignee", "EXAMPLE IMPORTS INC"),
        ("forwarder", "EXAMPLE FORWARDING GMBH"),
    ]
    shipper, consignee, agent = c.parties
    assert shipper.address == Address(
        street="1 BEISPIELSTRASSE", city="FRANKFURT", postcode="60549", country="DE"
    )
    assert (shipper.eori, shipper.phone) == ("DE1234567890123", "4969000000")
    # a US tax number is no EORI: it is kept as the party's tax (VAT) number
    assert (consignee.eori, consignee.vat, consignee.address and consignee.address.city) == (
        None, "123456789", "NEW YORK",
    )  # fmt: skip
    assert agent.address == Address(city="FRANKFURT")
    assert [(g.hs_code, g.description, g.packages, g.gross_mass_kg) for g in c.goods] == [
        ("940540", "LED LIGHTING FIXTURES", 2, 150.5)
    ]
    assert c.freight == Freight(
        amount=377.5, currency="EUR", terms="prepaid", payer_role="consignor"
    )
    # without redlane's OCI lines: the issue date, the flight's day and the flight as reference
    assert (c.declared_at, c.arrival_date) == (datetime(2024, 6, 15, tzinfo=UTC), date(2024, 6, 15))
    assert c.movement_ref == "LH400/15"


def test_the_ffm_sample_gives_the_flight_and_its_shipments() -> None:
    message = one(FFM_SAMPLE.read_text())
    manifest = read_ffm(message)
    flight = Movement.model_validate(manifest.movement)
    assert (flight.ref, flight.flight_number, flight.conveyance.registration) == (
        "LH400/15", "LH400", "DABYA",
    )  # fmt: skip
    assert [c.place for c in flight.itinerary] == ["DEFRA", "USJFK"]
    assert manifest.shipments == [
        Shipment("020-12345675", "FRA", "JFK", 2, 150.5, "LED LIGHTING FIXT", "JFK"),
        Shipment("020-87654324", "FRA", "JFK", 10, 420.0, "CONSOLIDATION", "JFK"),
    ]
    # the FWB of the same flight points at the same movement
    _, waybill = read_fwb(one(FWB_SAMPLE.read_text()))
    assert waybill["movement_ref"] == flight.ref


def test_the_fhl_sample_maps_its_house_which_lacks_the_dates_the_model_needs() -> None:
    message = one(FHL_SAMPLE.read_text())
    ((locator, data),) = read_fhl(message)
    assert locator == "message 1 (FHL 020-12345675), line 3 HBS"
    assert data["document"] == {
        "kind": "house_air_waybill", "number": "HAWB0001", "master_number": "020-12345675",
    }  # fmt: skip
    assert data["goods"] == [
        {"packages": 2, "gross_mass_kg": 150.5, "hs_code": "940540",
         "description": "LED LIGHTING FIXTURES FOR RETAIL"}
    ]  # fmt: skip
    assert [(p["role"], p["name"], p["eori"] if "eori" in p else p.get("vat")) for p in
            data["parties"]] == [
        ("consignor", "EXAMPLE EXPORT GMBH", "DE1234567890123"),
        ("consignee", "EXAMPLE IMPORTS INC", "123456789"),
    ]  # fmt: skip
    mapped, problems = records(message)
    assert problems == []
    _, (refused,) = validate_chunk(mapped)
    assert (refused.locator, refused.field) == (locator, "declared_at")
    assert "arrival_date" in refused.reason


# --- round trips -------------------------------------------------------------------------------

AIRPORTS = ("DEFRA", "USJFK", "NLAMS", "ESMAD", "COBOG", "BEBRU", "CNPVG", "MACAS")
#: Airports whose IATA code alone does not give them back (ambiguous, or another LOCODE).
ODD_AIRPORTS = ("NGLOS", "KENBO", "SGSIN", "INBOM")
COUNTRIES = ("DE", "US", "NL", "ES", "CO", "KE", "SG", "NG", "FR", "BE")
_TEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-&'()/#+"


def words(alphabet: str = _TEXT, size: int = 30) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=size).map(str.strip).filter(bool)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


places = st.sampled_from(AIRPORTS + ODD_AIRPORTS)
countries = st.sampled_from(COUNTRIES)
times = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
amounts = st.floats(0, 1e9, allow_nan=False).map(lambda x: round(x, 6))


@st.composite
def parties(draw: st.DrawFn, role: str) -> RoledParty:
    return RoledParty(
        role=role,
        kind=draw(st.sampled_from(["organisation", "person"])),
        name=draw(words()),
        address=draw(
            maybe(
                st.builds(
                    Address,
                    street=maybe(words()),
                    city=maybe(words()),
                    postcode=maybe(words(_TEXT.replace("/", ""), 10)),
                    country=maybe(countries),
                )
            )
        ),
        eori=draw(maybe(st.from_regex(r"[A-Z]{2}[0-9]{5,12}", fullmatch=True))),
        vat=draw(maybe(words(size=15))),
        phone=draw(maybe(words(_TEXT.replace("/", ""), 20))),
        email=draw(maybe(words().map(lambda w: w + "@example.org"))),
    )


goods_items = st.builds(
    GoodsItem,
    hs_code=st.from_regex(r"\d{6}(\d{2})?", fullmatch=True),
    description=words(),
    packages=st.integers(0, 10**6),
    package_kind=maybe(st.sampled_from(["CT", "BX", "PK", "CR"])),
    gross_mass_kg=amounts,
    net_mass_kg=maybe(amounts),
    value=maybe(amounts),
    currency=maybe(st.sampled_from(["EUR", "USD"])),
)


@st.composite
def air_consignments(draw: st.DrawFn, house: bool = False) -> Consignment:
    roles = ["consignor", "consignee"] if house else ["consignor", "consignee", "forwarder",
                                                      "notify_party"]  # fmt: skip
    chosen = [r for r in roles if draw(st.booleans())] or ["consignee"]
    awb = st.from_regex(r"\d{3}-\d{8}", fullmatch=True)
    document = (
        TransportDocument(
            kind="house_air_waybill",
            number=draw(st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)),
            master_number="406-00000136",
        )
        if house
        else TransportDocument(kind="air_waybill", number=draw(awb))
    )
    terms = draw(st.sampled_from(["prepaid", "collect", "unknown"]))
    return Consignment(
        mode="air",
        document=document,
        movement_ref=draw(maybe(words())),
        office=draw(maybe(st.from_regex(r"[A-Z]{2}[0-9]{6}", fullmatch=True))),
        declared_at=draw(times),
        arrival_date=draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        parties=[draw(parties(r)) for r in chosen],
        place_of_loading=draw(places),
        place_of_discharge=draw(places),
        place_of_delivery=draw(maybe(st.sampled_from(["NLRTM", "DEHAM", "ESMAD"]))),
        origin_country=draw(countries),
        destination_country=draw(countries),
        transshipment_places=draw(st.lists(places, max_size=2)),
        routing_countries=draw(st.lists(countries, max_size=3)),
        goods=draw(st.lists(goods_items, min_size=1, max_size=3)),
        freight=draw(
            maybe(
                st.builds(
                    Freight,
                    amount=maybe(amounts),
                    currency=maybe(st.sampled_from(["EUR", "USD"])),
                    terms=st.just(terms),
                    payer_role=maybe(st.sampled_from(["consignor", "consignee", "freight_payer"])),
                )
            )
        ),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(air_consignments())
def test_an_fwb_reads_back_into_the_same_consignment(original: Consignment) -> None:
    text = write_fwb(original)
    _, data = read_fwb(one(text))
    assert without_source(Consignment.model_validate(data)) == without_source(original)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(air_consignments(house=True), min_size=1, max_size=3))
def test_an_fhl_reads_back_into_the_same_houses(houses: list[Consignment]) -> None:
    text = write_fhl(houses)
    got = [Consignment.model_validate(d) for _, d in read_fhl(one(text))]
    assert [without_source(c) for c in got] == [without_source(h) for h in houses]


@st.composite
def flights(draw: st.DrawFn) -> tuple[Movement, list[Shipment]]:
    calls = draw(st.lists(places, min_size=2, max_size=3))
    start = draw(times)
    itinerary = [Call(place=calls[0], departure=start)]
    at = start
    for i, place in enumerate(calls[1:], start=1):
        at += timedelta(seconds=draw(st.integers(60, 20 * 3600)))
        arrival = at
        departure = None
        if i < len(calls) - 1:
            at += timedelta(seconds=draw(st.integers(0, 5 * 3600)))
            departure = at
        itinerary.append(Call(place=place, arrival=arrival, departure=departure))
    operator = draw(maybe(words().map(lambda n: Party(name=n))))
    movement = Movement(
        ref=draw(words()),
        conveyance=Conveyance(
            kind="aircraft",
            registration=draw(maybe(st.from_regex(r"[A-Z0-9]{1,2}-?[A-Z]{3}", fullmatch=True))),
            operator=operator,
        ),
        flight_number=draw(st.from_regex(r"[A-Z]{2}\d{1,4}", fullmatch=True)),
        itinerary=itinerary,
        persons_on_board=draw(maybe(st.integers(0, 500))),
    )
    points = [write_iata(p) for p in calls]
    shipments = draw(
        st.lists(
            st.builds(
                Shipment,
                awb=st.from_regex(r"\d{3}-\d{8}", fullmatch=True),
                origin=st.just(points[0]),
                destination=st.sampled_from(points[1:]),
                pieces=st.integers(0, 10**6),
                weight_kg=amounts,
                description=maybe(words()),
            ),
            max_size=4,
        )
    )
    return movement, shipments


def write_iata(locode: str) -> str:
    """The IATA code the writers put for an airport (as the FFM's point lines show it)."""
    line = write_ffm(
        Movement(
            ref="X", conveyance=Conveyance(kind="aircraft"), flight_number="XX1",
            itinerary=[Call(place=locode, departure=WHEN), Call(place="DEFRA")],
        )
    ).splitlines()[1]  # fmt: skip
    return line.split("/")[3]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flights())
def test_an_ffm_reads_back_into_the_same_flight_and_shipments(
    flight: tuple[Movement, list[Shipment]],
) -> None:
    movement, shipments = flight
    manifest = read_ffm(one(write_ffm(movement, shipments)))
    assert without_source(Movement.model_validate(manifest.movement)) == without_source(movement)

    def facts(s: Shipment) -> tuple[str, str, str, int, float, str]:
        # a shipment without a description sorts before any with one
        return (s.awb, s.origin, s.destination, s.pieces, s.weight_kg, s.description or "")

    got = sorted(facts(s) for s in manifest.shipments)
    assert got == sorted(facts(s) for s in shipments)
    assert [s.description is None for s in sorted(manifest.shipments, key=facts)] == [
        s.description is None for s in sorted(shipments, key=facts)
    ]
    assert all(s.unloading == s.destination for s in manifest.shipments)


def test_the_writers_refuse_what_cargo_imp_cannot_carry() -> None:
    base = _waybill(5)
    sea = base.model_copy(update={"mode": "sea"})
    with pytest.raises(CargoImpError, match="no air waybill"):
        write_fwb(sea)
    payer = base.model_copy(update={"parties": [RoledParty(role="freight_payer", name="X")]})
    with pytest.raises(CargoImpError, match="freight_payer party"):
        write_fwb(payer)
    slashed = base.model_copy(
        update={"parties": [RoledParty(role="consignee", name="A", phone="+1/2")]}
    )
    with pytest.raises(CargoImpError, match="'/' can only end a line"):
        write_fwb(slashed)
    vessel = Movement(
        ref="V", conveyance=Conveyance(kind="vessel", imo="9319466"),
        itinerary=[Call(place="NLRTM", departure=WHEN), Call(place="DEHAM")],
    )  # fmt: skip
    with pytest.raises(CargoImpError, match="is no aircraft"):
        write_ffm(vessel)


# --- files of several messages, errors and quarantine ------------------------------------------


def _waybill(n: int, **changes: Any) -> Consignment:
    fields: dict[str, Any] = {
        "mode": "air",
        "document": TransportDocument(kind="air_waybill", number=f"020-1234567{n}"),
        "movement_ref": "AIR-1",
        "office": "NL000854",
        "declared_at": WHEN,
        "arrival_date": date(2026, 11, 2),
        "parties": [
            RoledParty(role="consignor", kind="person", name="Ana Ruiz S/A",
                       address=Address(city="Bogota/Cundinamarca", country="CO")),
            RoledParty(role="consignee", name="Fresh Import BV", eori="NL123456789",
                       address=Address(street="Kade 1/3", city="Amsterdam", country="NL"),
                       phone="+31 20 000 0000", email="info@fresh.example"),
        ],
        "place_of_loading": "COBOG",
        "place_of_discharge": "NLAMS",
        "origin_country": "CO",
        "destination_country": "NL",
        "routing_countries": ["CO", "NL"],
        "goods": [GoodsItem(hs_code="060311", description="Fresh cut roses", packages=28,
                            package_kind="BX", gross_mass_kg=420.0, net_mass_kg=386.4,
                            value=2601.58, currency="EUR")],
        "freight": Freight(amount=1319.9, currency="USD", terms="prepaid", payer_role="consignor"),
    }  # fmt: skip
    fields.update(changes)
    return Consignment(**fields)


def test_several_messages_in_one_file_with_envelopes_and_blank_lines() -> None:
    flight = Movement(
        ref="AIR-1", conveyance=Conveyance(kind="aircraft", registration="PH-BXA",
                                           operator=Party(name="KLM")),
        flight_number="KL742",
        itinerary=[Call(place="COBOG", departure=WHEN), Call(place="NLAMS",
                                                             arrival=WHEN + timedelta(hours=10))],
    )  # fmt: skip
    docs = [_waybill(5), _waybill(6)]
    text = (
        "\n\n"
        + envelope("NLCUSTM", "KLMCARG", WHEN)
        + write_ffm(flight, shipments_of(docs))
        + "\n"
        + write_fwb(docs[0], flight)
        + "\n\n"
        + envelope("NLCUSTM", "FWDRAMS", WHEN)
        + write_fwb(docs[1], flight).replace("\n", "\r\n")
    )
    found = messages(text)
    assert [(m.number, m.type, m.key, m.sender) for m in found] == [
        (1, "FFM", "KL742/01", "KLMCARG"),
        (2, "FWB", "020-12345675", None),
        (3, "FWB", "020-12345676", "FWDRAMS"),
    ]
    assert found[2].raw.startswith("QK NLCUSTM\n.FWDRAMS 012215\nFWB/16\n")
    assert Movement.model_validate(read_ffm(found[0]).movement) == flight.model_copy(
        update={"source": Movement.model_validate(read_ffm(found[0]).movement).source}
    )
    for message, doc in zip(found[1:], docs, strict=True):
        _, data = read_fwb(message)
        assert without_source(Consignment.model_validate(data)) == without_source(doc)
        assert data["source"] == {"message_ref": f"FWB {doc.document.number}",
                                  "sender": message.sender}  # fmt: skip


def test_text_outside_messages_and_cut_manifests_are_named() -> None:
    found = list(read_stream(io.StringIO("hello\nworld\nFWB/16\n020-12345675FRAJFK/T1K1\n")))
    stray, waybill = found
    assert isinstance(stray, CargoImpReadError) and stray.locator == "line 1"
    assert "outside any message" in stray.reason and stray.raw == "hello\nworld\n"
    assert isinstance(waybill, CargoImpMessage) and waybill.number == 2
    cut = one(FFM_SAMPLE.read_text().replace("LAST\n", ""))
    _, (problem,) = records(cut)
    assert problem.locator == "message 1 (FFM LH400/15), line 8 SPH"
    assert "without LAST or CONT" in problem.reason
    other = one("FSU/14\n020-12345675FRAJFK/T2K150.5\n")
    _, (problem,) = records(other)
    assert "FSU messages are not read here" in problem.reason


def test_a_bad_message_is_quarantined_named_and_the_rest_goes_in(
    db: Database, tmp_path: Path
) -> None:
    good = write_fwb(_waybill(5))
    bad_number = write_fwb(_waybill(6)).replace("///ZG/1/28/BX/420/", "///ZG/1/28/BX/4x0/")
    bad_place = write_fwb(_waybill(7, place_of_loading="SGSIN"))
    bad_place = bad_place.replace("///ZL/SGSIN\n", "")  # SIN alone is no single airport
    path = tmp_path / "waybills.fwb"
    path.write_text(good + "\n" + bad_number + "\n" + bad_place)
    assert detect_format(path) == "cargoimp"
    (summary,) = ingest(db, path).files
    assert (summary.read, summary.stored, summary.quarantined) == (3, 1, 2)
    first, second = summary.problems
    lines = path.read_text().splitlines()
    zg_line = next(i for i, t in enumerate(lines, start=1) if "/4x0/" in t)
    third_awb = lines.index("020-12345677SINAMS/T28K420") + 1
    assert first.locator == f"message 2 (FWB 020-12345676), line {zg_line} OCI"
    assert first.field == "gross mass (ZG)"
    assert "'4x0' is not a number" in first.reason and first.raw.startswith("FWB/16\n")
    assert second.locator == f"message 3 (FWB 020-12345677), line {third_awb}"
    assert (second.field, "'SIN' is not one known airport" in second.reason) == ("origin", True)
    assert {q["locator"] for q in quarantined(db)} == {first.locator, second.locator}
    (again,) = ingest(db, path).files
    assert (again.stored, again.duplicates, again.quarantined) == (0, 1, 2)
    assert [c.document.number for c in load_records(db, "consignment")] == ["020-12345675"]


def test_a_quarantined_message_is_read_again_as_cargo_imp_on_retry(
    db: Database, tmp_path: Path
) -> None:
    text = envelope("NLCUSTM", "FWDRAMS", WHEN) + write_fwb(_waybill(6)).replace(
        "/ZG/1/28/BX/420/", "/ZG/1/28/BX/4x0/"
    )
    path = tmp_path / "one.cimp"
    path.write_text(text)
    (summary,) = ingest(db, path).files
    assert summary.quarantined == 1
    (row,) = quarantined(db)
    assert row["sender"] == "FWDRAMS" and row["raw"].startswith("QK NLCUSTM\n")
    unchanged = retry(db)
    assert (unchanged.tried, unchanged.still_refused, unchanged.stored) == (1, 1, 0)
    assert quarantined(db)[0]["field"] == "gross mass (ZG)"
    # the sender corrects the text: the retry reads it as Cargo-IMP and stores the waybill
    with db.engine.begin() as conn:
        conn.execute(update(quarantine).values(raw=row["raw"].replace("/4x0/", "/420/")))
    fixed = retry(db)
    assert (fixed.resolved, fixed.stored) == (1, 1)
    (stored,) = load_records(db, "consignment")
    assert without_source(stored) == without_source(_waybill(6))
    assert stored.source is not None and stored.source.sender == "FWDRAMS"


def test_progress_counts_waybills_and_houses(db: Database, tmp_path: Path) -> None:
    houses = [
        _waybill(1, document=TransportDocument(kind="house_air_waybill", number=f"H{n}",
                                               master_number="020-12345675"))
        for n in range(3)
    ]  # fmt: skip
    path = tmp_path / "day.cimp"
    path.write_text("\n" + write_fwb(_waybill(5)) + write_fhl(houses))
    seen: list[tuple[int, int]] = []
    (summary,) = ingest(db, path, on_progress=lambda _n, d, t: seen.append((d, t))).files
    assert (summary.stored, summary.by_kind) == (4, {"consignment": 4})
    assert seen[-1] == (4, 4)


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_writes_cargo_imp_that_holds_the_very_canonical_records(
    sqlite_db: Database, tmp_path: Path
) -> None:
    import json

    from redlane.demo import generate
    from redlane.demo.cargoimp_messages import write_cargoimp_files

    traffic = tmp_path / "traffic"
    generate(traffic, scale=0.05, seed=4, formats=("jsonl",), kinds=("consignment", "movement"))
    seen: list[int] = []
    paths = write_cargoimp_files(traffic, on_progress=lambda _s, done, _t: seen.append(done))
    assert [p.name for p in paths] == ["cargoimp-2026-11-02.cimp"] and seen
    (summary,) = ingest(sqlite_db, paths[0]).files
    assert (summary.format, summary.quarantined) == ("cargoimp", 0)
    canonical = [json.loads(line) for name in ("consignments", "movements")
                 for line in (traffic / f"{name}.jsonl").open()]  # fmt: skip
    air = [Consignment.model_validate(r) for r in canonical if r.get("mode") == "air"]
    flights = [Movement.model_validate(r) for r in canonical
               if r["record"] == "movement" and r["conveyance"]["kind"] == "aircraft"]  # fmt: skip
    assert any(c.document.kind == "house_air_waybill" for c in air)
    assert summary.by_kind == {"consignment": len(air), "movement": len(flights)}

    def key(r: Any) -> str:
        return str(r.document.number if isinstance(r, Consignment) else r.ref)

    stored = load_records(sqlite_db, "consignment") + load_records(sqlite_db, "movement")
    assert sorted((without_source(r) for r in stored), key=str) == sorted(
        (without_source(r) for r in [*air, *flights]), key=str
    )
    assert sorted(map(key, stored)) == sorted(map(key, [*air, *flights]))
    # the canonical files next to them add nothing new
    (again,) = ingest(sqlite_db, traffic / "consignments.jsonl").files
    assert again.duplicates >= len(air)


# --- fuzzing -----------------------------------------------------------------------------------

_SAMPLES = [
    FWB_SAMPLE.read_text(),
    FHL_SAMPLE.read_text(),
    FFM_SAMPLE.read_text(),
    write_fwb(_waybill(5)),
    write_fhl([_waybill(1, document=TransportDocument(
        kind="house_air_waybill", number="H1", master_number="020-12345675"))]),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages(_SAMPLES, "FWBHLMQK/.-0123456789\n OCIZGMSHPNETRD"))
def test_fuzz_nothing_but_our_errors_escape(text: str) -> None:
    read_every_message(text, "cargoimp")
