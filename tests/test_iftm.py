"""IFTMCS (one bill of lading a message) and IFCSUM (a manifest of bills): carriers' messages,
round trips, sender mappings, the facts targeting reads, quarantine, the demo, fuzzing."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import make_consignment, make_movement, mutated_messages, read_every_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redlane.intake.edifact import Message, read_stream
from redlane.intake.formats import detect_format
from redlane.intake.iftm import read_ifcsum, read_iftmcs, write_ifcsum, write_iftmcs
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
from redlane.targeting import Window, features_for

PREPARED = datetime(2026, 10, 20, 9, 15, tzinfo=UTC)

# A carrier's bill as IFTMCS D.96B: pre-carriage by road, the main carriage with the ports of
# this bill (not the vessel's calls), on-carriage, a carrier named by its code alone, the HS
# code in PIA, a container linked by SGP, a reefer with two seals.
CARRIER_IFTMCS = (
    "UNA:+.? 'UNB+UNOC:3+HLCU:ZZ+NLCUSTOMS:ZZ+261020:1015+IC0001'"
    "UNH+1+IFTMCS:D:96B:UN'BGM+705+HLCUBUE261001234+9'DTM+137:202610200915:203'"
    "TSR+27+2'FTX+AAI+++SHIPPED ON BOARD'LOC+7+NLTLB:139:6'LOC+13+PAMIT:139:6'"
    "RFF+BM:HLCUBUE261001234'RFF+BN:26BUE0412'CPI+4++P'"
    "TDT+10++3'LOC+5+ARROS:139:6'"
    "TDT+20+612N+1++HLC:172:20+++9501368:146:11:SANTOS EXPRESS:DE'RFF+VON:612N'"
    "LOC+9+ARBUE:139:6'DTM+133:202610220600:203'LOC+11+NLRTM:139:6'DTM+132:202611020800:203'"
    "TDT+30++3'LOC+60+NLTLB:139:6'"
    "NAD+CZ+++ALIMENTOS DEL PLATA SA+AV CORRIENTES 1234+BUENOS AIRES++C1043+AR'"
    "NAD+CN+NL987654321:EORI++DUTCH FOODS BV+HAVENWEG 5+TILBURG++5048AA+NL'"
    "CTA+IC+:J JANSEN'COM+31135550000:TE'"
    "NAD+N1+++DUTCH FOODS BV+HAVENWEG 5+TILBURG++5048AA+NL'NAD+CA+HLCU:160:ZZZ'"
    "GID+1+1200:CT'PIA+5+020130:HS'FTX+AAA+++FROZEN BONELESS BEEF'MEA+AAE+G+KGM:24500'"
    "SGP+CSQU3054383+1200'"
    "EQD+CN+CSQU3054383+45R1:102:5++2+5'MEA+AAE+VGM+KGM:28400'TMP+2+-18.0:CEL'"
    "SEL+HL1234567+CA'SEL+AR7654321+CU'UNT+37+1'UNZ+1+IC0001'"
)

# A forwarder's consolidation summary as IFCSUM D.99B: the voyage with its calls in the header,
# two house bills under one master, notify party as D.24A codes it (NI), equipment in the
# header linked from the bills by SGP.
FORWARDER_IFCSUM = (
    "UNB+UNOC:3+KNAG:ZZ+NLCUSTOMS:ZZ+261028:0800+FW77'"
    "UNH+77+IFCSUM:D:99B:UN'BGM+785+KN-CONS-77+9'DTM+137:202610280800:203'"
    "TDT+20+045E+1++MSC:172:20+++9321483:146:11:EXAMPLE VESSEL:PA'RFF+VON:MSC-045E'"
    "LOC+5+COCTG:139:6'DTM+133:202610210000:203'LOC+60+BEANR:139:6'DTM+132:202611030600:203'"
    "EQD+CN+MSKU1234565+42G1:102:5+++5'SEL+ML123456+CA'"
    "CNI+1+KNHB000000001'RFF+BH:KNHB000000001'RFF+MB:MEDU00000077'DTM+137:202610270900:203'"
    "LOC+9+COCTG:139:6'LOC+11+BEANR:139:6'"
    "NAD+CZ+++FLORES DE COLOMBIA SAS++CARTAGENA+++CO'NAD+CN+++BLOEMEN NV++ANTWERPEN+++BE'"
    "NAD+NI+++BLOEMEN NV++ANTWERPEN+++BE'"
    "GID+1+300:BX'PIA+5+060311:HS'FTX+AAA+++FRESH ROSES'MEA+AAE+G+KGM:3000'"
    "SGP+MSKU1234565+300'"
    "CNI+2+KNHB000000002'RFF+BH:KNHB000000002'RFF+MB:MEDU00000077'DTM+137:202610270930:203'"
    "LOC+9+COCTG:139:6'LOC+11+BEANR:139:6'"
    "NAD+CZ+++CAFE ANDINO SAS++MEDELLIN+++CO'NAD+CN+BE0123456789:EORI++KOFFIE BV++GENT+++BE'"
    "GID+1+250:BG'PIA+5+090111:HS'FTX+AAA+++GREEN COFFEE'MEA+AAE+G+KGM:15000'"
    "SGP+MSKU1234565+250'UNT+39+77'UNZ+1+FW77'"
)


def _messages(text: str) -> list[Message]:
    found = list(read_stream(io.StringIO(text)))
    assert all(isinstance(m, Message) for m in found), found
    return found  # type: ignore[return-value]


def test_a_carriers_iftmcs_is_one_bill_on_its_voyage() -> None:
    (message,) = _messages(CARRIER_IFTMCS)
    movement, ((index, data),) = read_iftmcs(message)
    # the bill names the vessel and voyage but not the vessel's calls: no movement record
    assert movement is None and message.segments[index].tag == "BGM"
    bill = Consignment.model_validate(data)
    assert (bill.document.kind, bill.document.number) == ("bill_of_lading", "HLCUBUE261001234")
    assert (bill.movement_ref, bill.place_of_loading, bill.place_of_discharge) == (
        "612N", "ARBUE", "NLRTM",
    )  # fmt: skip
    assert (bill.place_of_delivery, bill.transshipment_places) == ("NLTLB", ["PAMIT"])
    assert (bill.origin_country, bill.destination_country) == ("AR", "NL")
    assert (bill.declared_at, bill.arrival_date) == (
        datetime(2026, 10, 20, 9, 15, tzinfo=UTC), date(2026, 11, 2),
    )  # fmt: skip
    assert [(p.role, p.name) for p in bill.parties] == [
        ("consignor", "ALIMENTOS DEL PLATA SA"),
        ("consignee", "DUTCH FOODS BV"),
        ("notify_party", "DUTCH FOODS BV"),
        ("carrier", "HLCU"),
    ]
    consignee = bill.parties[1]
    assert (consignee.eori, consignee.phone) == ("NL987654321", "31135550000")
    assert consignee.address == Address(
        street="HAVENWEG 5", city="TILBURG", postcode="5048AA", country="NL"
    )
    (goods,) = bill.goods
    assert (goods.hs_code, goods.packages, goods.package_kind, goods.gross_mass_kg) == (
        "020130", 1200, "CT", 24500.0,
    )  # fmt: skip
    assert goods.description == "FROZEN BONELESS BEEF"
    (box,) = bill.equipment
    assert (box.number, box.size_type, box.reefer, box.full) == ("CSQU3054383", "45R1", True, True)
    assert box.seals == ["HL1234567", "AR7654321"] and box.number_valid
    assert bill.freight == Freight(terms="prepaid")


def test_a_forwarders_ifcsum_lists_house_bills_under_the_voyage() -> None:
    (message,) = _messages(FORWARDER_IFCSUM)
    movement_data, documents = read_ifcsum(message)
    movement = Movement.model_validate(movement_data)
    assert (movement.ref, movement.conveyance.imo, movement.conveyance.name) == (
        "MSC-045E", "9321483", "EXAMPLE VESSEL",
    )  # fmt: skip
    assert [(c.place, c.arrival, c.departure) for c in movement.itinerary] == [
        ("COCTG", None, datetime(2026, 10, 21, tzinfo=UTC)),
        ("BEANR", datetime(2026, 11, 3, 6, tzinfo=UTC), None),
    ]
    bills = [Consignment.model_validate(d) for _, d in documents]
    assert [(b.document.kind, b.document.number, b.document.master_number) for b in bills] == [
        ("house_bill_of_lading", "KNHB000000001", "MEDU00000077"),
        ("house_bill_of_lading", "KNHB000000002", "MEDU00000077"),
    ]
    assert [b.arrival_date for b in bills] == [date(2026, 11, 3)] * 2
    assert [p.role for p in bills[0].parties] == ["consignor", "consignee", "notify_party"]
    assert [(g.hs_code, g.description) for b in bills for g in b.goods] == [
        ("060311", "FRESH ROSES"), ("090111", "GREEN COFFEE"),
    ]  # fmt: skip
    # both bills travel in the one container of the header, with its seal
    assert [[(e.number, e.seals) for e in b.equipment] for b in bills] == [
        [("MSKU1234565", ["ML123456"])]
    ] * 2
    assert bills[1].parties[1].eori == "BE0123456789"


def test_older_and_newer_directories_read_alike() -> None:
    text = write_iftmcs(make_movement(), [make_consignment(1)], sender="S", recipient="R",
                        reference="V", prepared=PREPARED)  # fmt: skip
    read = [
        [Consignment.model_validate(d) for _, d in read_iftmcs(m)[1]]
        for version in ("D:96B:UN", "D:99B:UN", "D:00B:UN", "D:24A:UN")
        for m in _messages(text.replace("IFTMCS:D:99B:UN", f"IFTMCS:{version}"))
    ]
    assert all(r == read[0] for r in read) and len(read[0]) == 1


def _bills() -> list[Consignment]:
    """Bills that use every part of the mapping: a house bill, persons, escaped characters,
    reefers without an R size type, two bills naming one container with other seals."""
    return [
        make_consignment(1),
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
                    email="j@example.org",
                    address=Address(street="Dorpsweg 1", city="Utrecht", country="NL"),
                ),
                RoledParty(role="forwarder", name="Fast Forwarding BV", vat="NL001234567B01"),
                RoledParty(role="carrier", name="MSC"),
            ],
            equipment=[Equipment(number="CSQU3054383", reefer=True, seals=["EC999999", "X2"])],
            goods=[
                GoodsItem(
                    hs_code="0804400010",
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
            transshipment_places=["PAMIT", "ESALG"],
            routing_countries=[],
            office=None,
        ),
    ]


def _read_back(text: str, read: object) -> tuple[list[Movement], list[Consignment]]:
    movements, bills = [], []
    for message in _messages(text):
        movement, documents = read(message)  # type: ignore[operator]
        movements.append(Movement.model_validate(movement))
        bills += [Consignment.model_validate(d) for _, d in documents]
    return movements, bills


def _same(got: list[Consignment], written: list[Consignment]) -> None:
    assert [c.model_dump(exclude={"source"}) for c in got] == [
        c.model_dump(exclude={"source"}) for c in written
    ]


@pytest.mark.parametrize(("write", "read", "messages"), [
    (write_iftmcs, read_iftmcs, 2), (write_ifcsum, read_ifcsum, 1),
])  # fmt: skip
def test_what_redlane_writes_it_reads_back_unchanged(
    write: object, read: object, messages: int
) -> None:
    movement = make_movement("SEA-1", persons_on_board=22)
    text = write(movement, _bills(), sender="MSCU", recipient="NL", reference="R1",  # type: ignore[operator]
                 prepared=PREPARED)  # fmt: skip
    movements, bills = _read_back(text, read)
    assert len(movements) == messages
    assert all(m.model_copy(update={"source": None}) == movement for m in movements)
    _same(bills, _bills())


_text = st.text(st.sampled_from("AZaz09 ?+:'.-/&"), min_size=1, max_size=20).filter(
    lambda s: s.strip() == s
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=_text,
    description=_text,
    hs=st.from_regex(r"\d{6}(\d{2}(\d{2})?)?", fullmatch=True),
    mass=st.floats(0, 1e6, allow_nan=False),
    seals=st.lists(_text, max_size=3),
    places=st.lists(st.sampled_from(["PAMIT", "ESALG", "MAPTM", "COCTG"]), max_size=3),
)
def test_round_trips_hold_for_any_values(
    name: str, description: str, hs: str, mass: float, seals: list[str], places: list[str]
) -> None:
    bill = make_consignment(
        3,
        parties=[RoledParty(role="consignee", name=name)],
        goods=[GoodsItem(hs_code=hs, description=description, packages=1, gross_mass_kg=mass)],
        equipment=[Equipment(number="CSQU3054383", seals=seals, full=False)],
        transshipment_places=places,
    )
    for write, read in ((write_iftmcs, read_iftmcs), (write_ifcsum, read_ifcsum)):
        text = write(make_movement(), [bill], sender="S", recipient="R", reference="H",
                     prepared=PREPARED)  # fmt: skip
        _same(_read_back(text, read)[1], [bill])


def test_a_senders_own_qualifiers_come_from_the_cuscar_mappings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = write_iftmcs(make_movement(), [make_consignment(1)], sender="ODDLINE", recipient="R",
                        reference="Q", prepared=PREPARED).replace("NAD+CZ", "NAD+SH")  # fmt: skip
    (message,) = _messages(text)
    monkeypatch.delenv("REDLANE_INTAKE_MAPPINGS", raising=False)
    assert "consignor" not in [p["role"] for _, d in read_iftmcs(message)[1] for p in d["parties"]]
    own = tmp_path / "mappings.yaml"
    own.write_text("cuscar:\n  senders:\n    ODDLINE:\n      parties: {SH: consignor}\n")
    monkeypatch.setenv("REDLANE_INTAKE_MAPPINGS", str(own))
    ((_, data),) = read_iftmcs(message)[1]
    _same([Consignment.model_validate(data)], [make_consignment(1)])


def test_bad_messages_are_quarantined_and_the_rest_goes_in(db: Database, tmp_path: Path) -> None:
    bills = [make_consignment(1), make_consignment(2), make_consignment(3)]
    text = write_iftmcs(make_movement(), bills, sender="MSCU", recipient="NL", reference="A",
                        prepared=PREPARED)  # fmt: skip
    # the second bill's port of loading is no UN/LOCODE; the third's goods count is no number
    second, third = text.index("UNH+2+"), text.index("UNH+3+")
    text = (
        text[:second]
        + text[second:third].replace("LOC+9+ECGYE", "LOC+9+EC-GYE")
        + text[third:].replace("GID+1+1080", "GID+1+many")
    )
    path = tmp_path / "bills.edi"
    path.write_text(text)
    assert detect_format(path) == "iftmcs"
    (first,) = ingest(db, path).files
    # the voyage (sent three times, stored once) and the first bill go in
    assert (first.format, first.stored, first.duplicates, first.quarantined) == (
        "iftmcs", 2, 1, 2,
    )  # fmt: skip
    place = next(p for p in first.problems if p.field == "place_of_loading")
    assert place.locator.startswith("message 2 (UNH 2), segment") and place.locator.endswith("BGM")
    gid = next(p for p in first.problems if p is not place)
    assert "GID packages 'many'" in gid.reason and gid.locator.endswith("GID")
    assert gid.raw.startswith("UNH+3+IFTMCS") and len(quarantined(db)) == 2
    (again,) = ingest(db, path).files
    assert (again.stored, again.duplicates) == (0, 3)
    assert [c.document.number for c in load_records(db, "consignment")] == ["MEDU00000001"]


def test_ifcsum_files_are_recognised_and_counted(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "summary.edi"
    path.write_text(FORWARDER_IFCSUM)
    assert detect_format(path) == "ifcsum"
    seen: list[tuple[int, int]] = []
    (summary,) = ingest(db, path, on_progress=lambda _n, d, t: seen.append((d, t))).files
    assert (summary.stored, summary.quarantined) == (3, 0)
    assert seen[-1] == (3, 3)


def test_the_facts_targeting_reads_are_filled(sqlite_db: Database, tmp_path: Path) -> None:
    """transshipment_count, container_check_digit_valid and seal_mismatch for bills that
    arrive as IFTMCS: two bills on one voyage name one container with other seals."""
    bad_box = [Equipment(number="CSQU3054384", seals=["A1"])]
    bills = [
        make_consignment(1, transshipment_places=["PAMIT", "ESALG"]),
        make_consignment(2, equipment=[Equipment(number="CSQU3054383", seals=["OTHER"])]),
        make_consignment(3, equipment=bad_box, transshipment_places=[]),
    ]
    path = tmp_path / "bills.edi"
    path.write_text(write_iftmcs(make_movement(), bills, sender="S", recipient="R",
                                 reference="F", prepared=PREPARED))  # fmt: skip
    ingest(sqlite_db, path)
    facts = {
        f["target_ref"]: f for f in features_for(sqlite_db, "consignment", Window()).to_pylist()
    }
    assert [facts[f"MEDU0000000{n}"]["transshipment_count"] for n in (1, 2, 3)] == [2, 1, 0]
    assert [facts[f"MEDU0000000{n}"]["seal_mismatch"] for n in (1, 2, 3)] == [True, True, False]
    assert [facts[f"MEDU0000000{n}"]["container_check_digit_valid"] for n in (1, 2, 3)] == [
        True, True, False,
    ]  # fmt: skip


def test_the_demo_writes_iftmcs_that_holds_the_very_canonical_records(
    sqlite_db: Database, tmp_path: Path
) -> None:
    from redlane.demo import generate
    from redlane.demo.iftm_messages import write_iftmcs_files
    from redlane.demo.messages import sea_voyages

    traffic = tmp_path / "traffic"
    generate(traffic, scale=0.05, seed=4, formats=("parquet",), kinds=("consignment", "movement"))
    seen: list[int] = []
    (path,) = write_iftmcs_files(traffic, on_progress=lambda _n, done, _t: seen.append(done))
    assert path.name == "iftmcs-2026-11-02.edi" and seen[-1] == len(sea_voyages(traffic))
    (from_messages,) = ingest(sqlite_db, path).files
    assert from_messages.format == "iftmcs" and from_messages.quarantined == 0
    stored_bills = load_records(sqlite_db, "consignment")
    stored_voyages = load_records(sqlite_db, "movement")
    written = sea_voyages(traffic)
    _same(
        sorted(stored_bills, key=lambda c: c.document.number),  # type: ignore[arg-type]
        sorted((d for v in written for d in v.documents), key=lambda c: c.document.number),
    )
    assert sorted(m.model_dump_json(exclude={"source"}) for m in stored_voyages) == sorted(
        v.movement.model_dump_json(exclude={"source"}) for v in written
    )
    # the canonical files hold the same voyages and bills: nothing new from them
    canonical = ingest(sqlite_db, traffic)
    assert canonical.total("duplicates") == len(stored_bills) + len(stored_voyages)


_SAMPLES = [
    CARRIER_IFTMCS,
    FORWARDER_IFCSUM,
    write_iftmcs(make_movement(), _bills(), sender="S", recipient="R", reference="Z",
                 prepared=PREPARED),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages(_SAMPLES, "UNHTBGCIDLOQPAFRS+:?'\n 0123456789EMZ.-"))
def test_fuzz_nothing_but_our_errors_escape(text: str) -> None:
    read_every_message(text, "iftmcs")
    read_every_message(text, "ifcsum")
