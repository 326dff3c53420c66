"""Air passenger data: PAXLST (API) and PNRGOV (PNR push) read and written, the legal-basis
setting, quarantine, the demo's messages and fuzzing. Every person here is fictitious."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import make_traveller, mutated_messages, read_every_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from redlane.cli import app
from redlane.config import ConfigError, Settings, passenger_data
from redlane.intake.canonical import IntakeRefused, validate_chunk
from redlane.intake.edifact import Message, read_stream
from redlane.intake.formats import MESSAGE_FORMATS, detect_format
from redlane.intake.paxlst import read_paxlst, write_paxlst
from redlane.intake.pipeline import ingest
from redlane.intake.pnrgov import read_pnrgov, write_pnrgov
from redlane.intake.quarantine import retry
from redlane.model import Booking, Leg, TravelDocument, Traveller
from redlane.store.database import Database
from redlane.store.records import load_records
from redlane.store.repository import quarantined
from redlane.store.schema import ingest_batches, quarantine

PREPARED = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
SETTING = "REDLANE_PASSENGER_DATA"


@pytest.fixture
def allowed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SETTING, "on")
    yield


def _message(segments: list[str], reference: str = "1") -> str:
    """A UNH...UNT message around `segments` with the right UNT count."""
    body = [*segments]
    return "".join(s + "'" for s in body) + f"UNT+{len(body) + 1}+{reference}'"


# --- messages as airlines send them (written here, fictitious people) --------------------------

IATA_PAXLST = (
    "UNA:+.?*'UNB+UNOA:4+EXAIR:ZZ+NLAPI:ZZ+261102:0600+EX0001++APIS'"
    "UNG+PAXLST+EXAIR:ZZ+NLAPI:ZZ+261102:0600+1+UN+D:05B'"
    + _message(
        [
            "UNH+PAX001+PAXLST:D:05B:UN:IATA+EX123/261102/0900+01:F",
            "BGM+745",
            "RFF+TN:EX0001",
            "NAD+MS+++OPS DESK EXAMPLE AIR",
            "COM+0031201234567:TE",
            "TDT+20+EX123+++EX",
            "LOC+125+BOG",
            "DTM+189:2611020900:201",
            "LOC+87+MAD",
            "DTM+232:2611030100:201",
            "TDT+20+EX123+++EX",
            "LOC+125+MAD",
            "DTM+189:2611030230:201",
            "LOC+87+AMS",
            "DTM+232:2611030500:201",
            "NAD+FL+++PEREZ GOMEZ:LUCIA:MARIA",
            "ATT+2++F",
            "DTM+329:850214",
            "LOC+178+BOG",
            "LOC+179+AMS",
            "NAT+2+COL",
            "RFF+AVF:QWE123",
            "DOC+P:110:111+PA1234567",
            "DTM+36:310101",
            "LOC+91+COL",
            "DOC+V:110:111+VIS998877",
            "DTM+36:270101",
            "LOC+91+NLD",
            "NAD+DDU+++DOE:JOHN",
            "ATT+2++M",
            "DTM+329:020506",
            "LOC+178+BOG",
            "LOC+179+MAD",
            "NAT+2+USA",
            "DOC+P:110:111+US5550001",
            "DTM+36:290707",
            "LOC+91+USA",
            "CNT+42:2",
        ],
        "PAX001",
    )
    + "UNE+1+1'UNZ+1+EX0001'"
)

AIRLINE_PNRGOV = (
    "UNA:+.? 'UNB+IATA:1+EX+NLPIU+261101:0900+PNR0001'"
    + _message(
        [
            "UNH+1+PNRGOV:11:1:IA+EX123/021126",
            "MSG+:22",
            "ORG+EX:BOG",
            "TVL+021126:0900+BOG+MAD+EX+123",
            "EQN+1",
            "SRC",
            "RCI+EX:ZX9K2P::150926:1432",
            "ORG+EX+VIAJES EJEMPLO++++T",
            "IFT+4:28+CTCR 0057 1 5550123",
            "TIF+PEREZ GOMEZ+LUCIA MARIA:A:1",
            "SSR+DOCS:HK:1:EX:::::/P/COL/PA1234567/COL/14FEB85/F/01JAN31/PEREZ GOMEZ/LUCIA MARIA",
            "TBD++2",
            "TIF+PEREZ+TOMAS:C:2",
            "SSR+DOCS:HK:1:EX:::::/P/COL/PA7654321/COL/03MAR15/M/01JAN30/PEREZ/TOMAS",
            "FOP+CC:::VI:XXXXXXXXXXXX1186",
            "TVL+021126:0900+BOG+MAD+EX+123",
            "RPI+1+HK",
            "TVL+161126:2200+MAD+BOG+EX+124",
            "RPI+1+HK",
        ]
    )
    + "UNZ+1+PNR0001'"
)


def _only_message(text: str) -> Message:
    (message,) = list(read_stream(io.StringIO(text)))
    assert isinstance(message, Message), message
    return message


def test_an_airline_paxlst_maps_people_onto_their_legs_of_the_flight() -> None:
    message = _only_message(IATA_PAXLST)
    lucia, john = (Traveller.model_validate(d) for _, d in read_paxlst(message))
    first = Leg(origin="COBOG", destination="ESMAD", carrier="EX", flight_number="EX123",
                departs_at=datetime(2026, 11, 2, 9, tzinfo=UTC))  # fmt: skip
    second = Leg(origin="ESMAD", destination="NLAMS", carrier="EX", flight_number="EX123",
                 departs_at=datetime(2026, 11, 3, 2, 30, tzinfo=UTC))  # fmt: skip
    assert lucia.movement_ref == john.movement_ref == "EX123-20261102"
    assert (lucia.surname, lucia.given_names, lucia.sex) == ("PEREZ GOMEZ", "LUCIA MARIA", "F")
    assert lucia.date_of_birth == date(1985, 2, 14) and lucia.nationality == "CO"
    # the first document is the travel document; the visa after it is not taken for it
    assert lucia.document == TravelDocument(
        kind="passport", number="PA1234567", issuing_country="CO", expires_on=date(2031, 1, 1)
    )
    assert lucia.itinerary == [first, second] and lucia.booking is None
    # in transit, leaving at the first stop; born in 2002, not 1902
    assert (john.role, john.date_of_birth, john.itinerary) == ("passenger", date(2002, 5, 6),
                                                               [first])  # fmt: skip
    assert john.source is not None and john.source.sender == "EXAIR"


def test_an_airline_pnrgov_maps_each_named_traveller_with_the_booking() -> None:
    message = _only_message(AIRLINE_PNRGOV)
    lucia, tomas = (Traveller.model_validate(d) for _, d in read_pnrgov(message))
    assert lucia.movement_ref == "EX123-20261102"
    assert lucia.booking == Booking(
        locator="ZX9K2P", booked_at=datetime(2026, 9, 15, 14, 32, tzinfo=UTC),
        payment_form="card", checked_bags=2, travel_agency="VIAJES EJEMPLO", party_size=2,
    )  # fmt: skip
    assert tomas.booking is not None and tomas.booking.checked_bags == 0
    assert tomas.booking.party_size == 2 and tomas.booking.locator == "ZX9K2P"
    assert (tomas.date_of_birth, tomas.sex, tomas.document.number) == (
        date(2015, 3, 3), "M", "PA7654321"
    )  # fmt: skip
    assert lucia.phone == tomas.phone == "0057 1 5550123"
    assert [(leg.origin, leg.destination, leg.flight_number) for leg in lucia.itinerary] == [
        ("COBOG", "ESMAD", "EX123"),
        ("ESMAD", "COBOG", "EX124"),
    ]
    assert lucia.itinerary[1].departs_at == datetime(2026, 11, 16, 22, tzinfo=UTC)


def test_formats_are_recognised_by_content(tmp_path: Path) -> None:
    for name, text in (("paxlst", IATA_PAXLST), ("pnrgov", AIRLINE_PNRGOV)):
        path = tmp_path / f"{name}.txt"
        path.write_text(text)
        assert detect_format(path) == name


# --- round trips ---------------------------------------------------------------------------------

_LOCODES = ["COBOG", "ESMAD", "NLAMS", "SGSIN", "NGLOS", "DEFRA", "USJFK", "MACAS", "PTLIS"]
_NAMES = st.text(
    alphabet=st.characters(categories=("Lu", "Ll")) | st.sampled_from(list(" -'?+:")),
    min_size=1,
    max_size=16,
).filter(lambda s: bool(s.strip()))
_SECONDS = st.integers(0, 99 * 365 * 86_400)
_2000 = datetime(2000, 1, 1, tzinfo=UTC)
_PAYMENT_FORMS = ["cash", "card", "invoice", "voucher", "miles", "unknown"]
_DOCUMENT_KINDS = ["passport", "id_card", "residence_permit", "visa", "seaman_book", "other"]


@st.composite
def _legs(draw: st.DrawFn) -> list[Leg]:
    legs = []
    for _ in range(draw(st.integers(1, 3))):
        carrier = draw(st.none() | st.from_regex(r"[A-Z0-9]{2}", fullmatch=True))
        if carrier is None:
            number = draw(st.none() | st.from_regex(r"[A-Z]{2}\d{1,4}", fullmatch=True))
        else:
            number = draw(st.none() | st.from_regex(r"\d{1,4}", fullmatch=True).map(
                lambda n, c=carrier: c + n))  # fmt: skip
        legs.append(
            Leg(
                origin=draw(st.sampled_from(_LOCODES)),
                destination=draw(st.sampled_from(_LOCODES)),
                departs_at=_2000 + timedelta(seconds=draw(_SECONDS)),
                carrier=carrier,
                flight_number=number,
            )
        )
    return legs


@st.composite
def _travellers(draw: st.DrawFn, booked: bool) -> Traveller:
    booked_at = _2000 + timedelta(seconds=draw(st.integers(366 * 86_400, 98 * 365 * 86_400)))
    booking = None
    if booked:
        booking = Booking(
            locator=draw(st.from_regex(r"[A-Z0-9]{6}", fullmatch=True)),
            booked_at=booked_at,
            payment_form=draw(st.sampled_from(_PAYMENT_FORMS)),
            paid_by_third_party=draw(st.booleans()),
            one_way=draw(st.booleans()),
            checked_bags=draw(st.integers(0, 9)),
            travel_agency=draw(st.none() | _NAMES),
            party_size=draw(st.integers(1, 9)),
        )
    countries = st.sampled_from(["NL", "CO", "DE", "XK", "SE", "US", "NG"])
    mrz_line = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=1, max_size=44)
    return Traveller(
        movement_ref=draw(st.sampled_from(["AIR-20261102-0000001", "AIR-20261102-0000002"])),
        role="passenger" if booked else draw(st.sampled_from(["passenger", "crew"])),
        surname=draw(_NAMES),
        given_names=draw(st.just("") | _NAMES),
        date_of_birth=booked_at.date() - timedelta(days=draw(st.integers(0, 36_400))),
        sex=draw(st.sampled_from([None, "M", "F", "X"])),
        nationality=draw(countries),
        document=TravelDocument(
            kind=draw(st.sampled_from(_DOCUMENT_KINDS)),
            number=draw(st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True)),
            issuing_country=draw(countries),
            expires_on=draw(st.none() | st.dates(date(2000, 1, 1), date(2099, 12, 31))),
            mrz=draw(st.none() | st.lists(mrz_line, min_size=1, max_size=3).map("\n".join)),
        ),
        itinerary=draw(_legs()),
        booking=booking,
        phone=draw(st.none() | st.from_regex(r"\+?[0-9][0-9 ]{2,14}[0-9]", fullmatch=True)),
        email=draw(st.none() | st.emails()),
    )


def _content(travellers: list[Any]) -> list[str]:
    return sorted(
        json.dumps(t.model_dump(mode="json", exclude={"source"}), sort_keys=True)
        for t in travellers
    )


def _read_back(text: str, fmt: str) -> list[Traveller]:
    message_format = MESSAGE_FORMATS[fmt]
    records = []
    for item in message_format.read(io.StringIO(text)):
        mapped, problems = message_format.records(item)
        assert not problems, problems
        records += mapped
    models, refused = validate_chunk(records)
    assert not refused, refused
    return models  # type: ignore[return-value]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_travellers(booked=False), min_size=1, max_size=5))
def test_paxlst_round_trip(travellers: list[Traveller]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SETTING, "on")
        text = write_paxlst(travellers, sender="EX", recipient="NL", reference="R1",
                            prepared=PREPARED)  # fmt: skip
        assert _content(_read_back(text, "paxlst")) == _content(travellers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_travellers(booked=True), min_size=1, max_size=5))
def test_pnrgov_round_trip(travellers: list[Traveller]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SETTING, "on")
        text = write_pnrgov(travellers, sender="EX", recipient="NL", reference="R1",
                            prepared=PREPARED)  # fmt: skip
        assert _content(_read_back(text, "pnrgov")) == _content(travellers)


def test_each_writer_refuses_what_belongs_in_the_other() -> None:
    with pytest.raises(ValueError, match="write_pnrgov"):
        write_paxlst([make_traveller()], sender="S", recipient="R", reference="Z",
                     prepared=PREPARED)  # fmt: skip
    with pytest.raises(ValueError, match="write_paxlst"):
        write_pnrgov([make_traveller(role="crew", booking=None)], sender="S", recipient="R",
                     reference="Z", prepared=PREPARED)  # fmt: skip


# --- legal basis ---------------------------------------------------------------------------------


def _crew_list(n: int, **changes: Any) -> str:
    crew = [make_traveller(i, role="crew", booking=None, **changes) for i in range(n)]
    return write_paxlst(crew, sender="KL", recipient="NL", reference=f"C{n}", prepared=PREPARED)


def test_the_setting_is_off_by_default_and_a_wrong_value_names_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SETTING, raising=False)
    assert passenger_data() is False and Settings.from_env().passenger_data is False
    assert passenger_data("ON") is True and passenger_data(" off ") is False
    monkeypatch.setenv(SETTING, "maybe")
    with pytest.raises(ConfigError, match="REDLANE_PASSENGER_DATA='maybe'"):
        Settings.from_env()


@pytest.mark.parametrize("value", [None, "off", "yes please"])
def test_without_a_legal_basis_nothing_is_read_stored_or_quarantined(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv(SETTING, raising=False)
    else:
        monkeypatch.setenv(SETTING, value)
    crew = tmp_path / "api.edi"
    crew.write_text(_crew_list(2) + "UNH+broken'")  # a bad message would be quarantined
    pnr = tmp_path / "pnr.txt"
    pnr.write_text(write_pnrgov([make_traveller()], sender="KL", recipient="NL",
                                reference="P", prepared=PREPARED))  # fmt: skip
    for path, fmt in ((crew, None), (pnr, "pnrgov"), (tmp_path, None)):
        with pytest.raises(IntakeRefused, match=SETTING):
            ingest(db, path, fmt=fmt)
    with pytest.raises(IntakeRefused, match=SETTING):
        read_every_message(pnr.read_text(), "pnrgov")  # the reader itself refuses too
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(ingest_batches)).scalar() == 0
    assert load_records(db, "traveller") == []


def test_the_cli_refuses_with_the_setting_named_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SETTING, raising=False)
    path = tmp_path / "crew.txt"
    path.write_text(_crew_list(1))
    database = f"sqlite:///{tmp_path / 'r.db'}"
    runner = CliRunner()
    refused = runner.invoke(app, ["ingest", str(path), "--format", "paxlst",
                                  "--database", database])  # fmt: skip
    assert refused.exit_code == 2 and SETTING in " ".join(refused.output.split())
    monkeypatch.setenv(SETTING, "on")
    done = runner.invoke(app, ["ingest", str(path), "--database", database])
    assert done.exit_code == 0, done.output


# --- bad messages, quarantine, retry ------------------------------------------------------------


def test_bad_messages_are_quarantined_named_and_the_rest_goes_in(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed: None
) -> None:
    good = _crew_list(2)
    miscounted = _crew_list(3).replace("UNT+", "UNT+9", 1)
    bad_date = _crew_list(4).replace("DTM+329:19740812:102", "DTM+329:19741312:102", 1)
    no_number = write_paxlst(
        [make_traveller(1, role="crew", booking=None, movement_ref="AIR-2"),
         make_traveller(2, role="crew", booking=None, movement_ref="AIR-2",
                        document=TravelDocument(kind="passport", number="X?+1",
                                                issuing_country="SE"))],
        sender="KL", recipient="NL", reference="N", prepared=PREPARED,
    ).replace("+X???+1'", "'")  # fmt: skip
    path = tmp_path / "api.edi"
    path.write_text("\n".join([good, miscounted, bad_date, no_number]))
    (summary,) = ingest(db, path).files
    assert summary.format == "paxlst"
    assert (summary.stored, summary.quarantined) == (3, 3)
    unt, date_problem, number = summary.problems
    assert "UNT counts" in unt.reason and unt.locator.endswith("UNT")
    assert date_problem.locator.startswith("message 3 (UNH 1), segment ")
    assert date_problem.locator.endswith("DTM") and date_problem.field == "date_of_birth"
    assert "19741312" in date_problem.reason
    assert number.field == "document.number" and number.locator.endswith("NAD")
    assert "X???+1" not in number.raw and number.raw.startswith("UNH+1+PAXLST")
    assert {q["locator"] for q in quarantined(db)} == {p.locator for p in summary.problems}
    (again,) = ingest(db, path).files
    assert (again.stored, again.duplicates) == (0, 3)

    # a retry without the legal basis reads nothing and says why; with it, the same path runs
    monkeypatch.setenv(SETTING, "off")
    refused = retry(db)
    assert (refused.tried, refused.still_refused, refused.stored) == (3, 3, 0)
    assert all(SETTING in q["reason"] for q in quarantined(db))
    monkeypatch.setenv(SETTING, "on")
    retried = retry(db)
    assert (retried.tried, retried.still_refused, retried.stored) == (3, 3, 0)
    reasons = {q["locator"]: (q["field"], q["reason"]) for q in quarantined(db)}
    assert reasons[number.locator] == (number.field, number.reason)


def test_a_retry_stores_what_reads_now(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed: None
) -> None:
    """A PNR refused whole (its bags not a number) is stored once the record is corrected in
    the quarantine row, the way an operator repairs a sender's typo."""
    booking = Booking(locator="BAGS01", booked_at=PREPARED, checked_bags=2)
    text = write_pnrgov(
        [make_traveller(1, booking=booking)], sender="KL", recipient="NL", reference="B",
        prepared=PREPARED,
    ).replace("TBD++2", "TBD++TWO")  # fmt: skip
    path = tmp_path / "pnr.edi"
    path.write_text(text)
    (summary,) = ingest(db, path).files
    (problem,) = summary.problems
    assert problem.locator.endswith("TBD") and "'TWO'" in problem.reason
    with db.engine.begin() as conn:
        conn.execute(quarantine.update().values(raw=problem.raw.replace("TBD++TWO", "TBD++2")))
    fixed = retry(db)
    assert (fixed.resolved, fixed.stored) == (1, 1)
    (stored,) = load_records(db, "traveller")
    assert isinstance(stored, Traveller) and stored.booking is not None
    assert stored.booking.checked_bags == 2


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_writes_messages_that_hold_the_very_canonical_travellers(
    sqlite_db: Database, tmp_path: Path, allowed: None
) -> None:
    from redlane.demo import generate
    from redlane.demo.messages import MESSAGES_DIR
    from redlane.demo.passenger_messages import write_paxlst_files, write_pnrgov_files

    traffic = tmp_path / "traffic"
    generate(traffic, scale=0.02, seed=4, formats=("parquet",), kinds=("traveller", "movement"))
    paxlst = write_paxlst_files(traffic)
    pnrgov = write_pnrgov_files(traffic)
    assert [p.name for p in paxlst + pnrgov] == ["paxlst-2026-11-02.edi", "pnrgov-2026-11-02.edi"]
    summary = ingest(sqlite_db, traffic / MESSAGES_DIR)
    assert [(f.format, f.quarantined) for f in summary.files] == [("paxlst", 0), ("pnrgov", 0)]
    rows = pq.read_table(traffic / "travellers.parquet").to_pylist()
    canonical = [Traveller.model_validate(r) for r in rows]
    crews = sum(t.role == "crew" for t in canonical)
    assert summary.files[0].stored == crews > 0
    assert summary.files[1].stored == len(canonical) - crews
    assert _content(load_records(sqlite_db, "traveller")) == _content(canonical)
    # the canonical files hold the same travellers: nothing new
    again = ingest(sqlite_db, traffic)
    assert again.files[-1].path.endswith("travellers.parquet")
    assert (again.files[-1].stored, again.files[-1].duplicates) == (0, len(canonical))


# --- fuzzing -------------------------------------------------------------------------------------

_ALPHABET = "UNHTDFLMCOGSIRVZPX+:?'\n 0123456789ABE/."


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages([IATA_PAXLST, _crew_list(2)], _ALPHABET))
def test_fuzz_paxlst_nothing_but_our_errors_escape(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SETTING, "on")
        read_every_message(text, "paxlst")


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_messages([AIRLINE_PNRGOV], _ALPHABET))
def test_fuzz_pnrgov_nothing_but_our_errors_escape(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SETTING, "on")
        read_every_message(text, "pnrgov")
