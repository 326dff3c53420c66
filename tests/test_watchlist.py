"""Alerts and notices into targeting: watchlist entries, the *_on_alert fields, selections that
cite the message, sighting replies drafted to the sender (typed `seen`) and sent or discarded,
and entries the sender ends on feedback (library, API, command line)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import add_staff, make_consignment, make_movement, make_traveller, make_truck
from fastapi.testclient import TestClient
from pydantic import BaseModel
from typer.testing import CliRunner

from redlane import security
from redlane.api import create_app
from redlane.cli import app
from redlane.config import ConfigError
from redlane.exchange import mailbox
from redlane.exchange.crypto import KEK_SETTING, Kek, generate_kek
from redlane.exchange.feedback import FeedbackError, close_on_feedback
from redlane.exchange.model import (
    Alert,
    AlertCategory,
    DataSubject,
    Entity,
    EntityKind,
    Feedback,
    Grading,
    Handling,
    Message,
    MessageKind,
    ModeNotice,
    NoticeMode,
    Outcome,
    SuggestedAction,
    Tlp,
)
from redlane.exchange.sightings import (
    DraftNotWaiting,
    Seen,
    UnknownDraft,
    audited_pending_drafts,
    draft_sighting,
    draft_sightings_for_run,
    find_draft,
    mark_sent,
    pending_drafts,
    send_draft,
)
from redlane.exchange.watchlist import (
    active_entries,
    add_entries,
    audited_active_entries,
    audited_expire,
    entries,
    entries_from,
    expire,
)
from redlane.intake.cuscar import write_cuscar
from redlane.intake.pipeline import ingest, store_models
from redlane.model import Conveyance, Equipment, Party, RoledParty
from redlane.screening.normalise import (
    identifier_key,
    imo_key,
    name_key,
    person_key,
    vessel_key,
)
from redlane.security import Service, audit
from redlane.security.accounts import Forbidden, User
from redlane.security.audit import verify
from redlane.store.database import Database
from redlane.targeting import DuckDBEngine, Window, features_for, starter_profiles, target
from redlane.targeting.run import reason_text, worklist

SENT = datetime(2026, 10, 30, 9, 15, tzinfo=UTC)
GRADING = Grading(source="2", intelligence="B", handling="C", conditions="No court use")
NOTICE_ID = "ES-MAR-2026-0042"
SENDER = "ES-SVA"


def _notice(
    mode: NoticeMode,
    entities: list[Entity],
    action: SuggestedAction = SuggestedAction.SPECIFIC_CHECK,
    valid_until: date = date(2026, 12, 31),
) -> Message:
    return Message(
        kind=MessageKind.MODE_NOTICE,
        subject=f"{mode}-Info: suspect conveyance",
        facts="Loaded in Guayaquil after a night call by a speedboat.",
        entities=entities,
        grading=GRADING,
        handling=Handling(tlp=Tlp.AMBER, no_forward=True),
        notice=ModeNotice(
            mode=mode, next_place="NLRTM", expected_at=datetime(2026, 11, 2, 6, tzinfo=UTC),
            suggested_action=action, valid_until=valid_until,
        ),
    )  # fmt: skip


def _alert(entities: list[Entity], action: SuggestedAction) -> Message:
    return Message(
        kind=MessageKind.CIS_ALERT,
        subject="CIS alert",
        facts="Named in a seizure of 300 kg of cocaine.",
        entities=entities,
        grading=GRADING,
        alert=Alert(
            category=AlertCategory.BUSINESSES, suggested_action=action,
            justification="Consignee of a seized container in 2025", valid_until=date(2027, 6, 1),
        ),
    )  # fmt: skip


VESSEL = Entity(kind=EntityKind.VESSEL, identifier="IMO 931-9466", name="MSC EXAMPLE", country="PA")


def _watch(db: Database, message_id: str, message: Message, sent: datetime = SENT) -> None:
    add_entries(db, entries_from(message_id, SENDER, message, sent))


def _store(db: Database, models: list[BaseModel]) -> None:
    store_models(db, models[0].record, models)  # type: ignore[attr-defined]


def _features(db: Database, kind: str) -> list[dict[str, Any]]:
    return features_for(db, kind, Window()).to_pylist()  # type: ignore[arg-type]


# --- the end-to-end case --------------------------------------------------------------


def test_a_mar_info_notice_on_an_imo_number_selects_the_manifest_and_drafts_a_sighting(
    db: Database, tmp_path: Path
) -> None:
    notice = _notice(NoticeMode.MAR, [VESSEL])
    _watch(db, NOTICE_ID, notice)
    other = make_movement(
        "SEA-2", conveyance=Conveyance(kind="vessel", name="OTHER SHIP", flag="LR", imo="9074729")
    )
    prepared = datetime(2026, 11, 1, 8, tzinfo=UTC)
    text = write_cuscar(
        make_movement("SEA-1"), [make_consignment(1), make_consignment(2)], sender="MSCU",
        recipient="NLCUSTOMS", reference="A", prepared=prepared,
    ) + write_cuscar(
        other, [make_consignment(3, movement_ref="SEA-2")], sender="MSCU",
        recipient="NLCUSTOMS", reference="B", prepared=prepared,
    )  # fmt: skip
    manifest = tmp_path / "manifest.edi"
    manifest.write_text(text)
    summary = ingest(db, manifest)
    window = Window(batch_ids=tuple(f.batch_id for f in summary.files))

    run = target(db, starter_profiles(), window)

    cited = {
        row["target_ref"]: row for row in run.selections.to_pylist() if "cites" in row["reasons"]
    }
    assert sorted(cited) == ["MEDU00000001", "MEDU00000002"]  # not the other vessel's bill
    row = cited["MEDU00000001"]
    assert (row["lane"], row["suggested_action"]) == ("red", "specific_check")
    listed = {r["target_ref"]: r for r in worklist(db, run.run_id)}
    reason = next(r for r in listed["MEDU00000001"]["reasons"] if r.get("cites"))
    assert reason["profile"] == "SEA-ALERT"
    assert reason["cites"] == {
        "message": NOTICE_ID, "suggested_action": "specific_check", "messages": [NOTICE_ID],
    }  # fmt: skip
    assert f"cites {NOTICE_ID} (specific_check)" in reason_text(reason)

    (draft,) = draft_sightings_for_run(db, run.run_id)
    reply = draft.message
    assert (draft.addressee, draft.message_id, draft.status) == (SENDER, NOTICE_ID, "draft")
    assert (reply.kind, reply.in_reply_to) == (MessageKind.SIGHTING, NOTICE_ID)
    assert reply.entities == [VESSEL] and reply.grading == GRADING
    assert reply.handling.no_forward
    assert "consignment MEDU00000001" in reply.facts and "MEDU00000002" in reply.facts
    assert "2026-11-02" in reply.facts and "vessel imo IMO 931-9466" in reply.facts
    assert "asked for: specific check" in reply.facts
    # typed: seen, on the arrival day, where the bills were discharged (their customs office,
    # NL000396, is no place), naming both bills
    assert reply.feedback == Feedback(
        outcome=Outcome.SEEN, at=date(2026, 11, 2), place="NLRTM",
        control_ref="MEDU00000001, MEDU00000002",
    )  # fmt: skip
    assert [d.id for d in pending_drafts(db)] == [draft.id]

    # Targeting the same manifest again reports nothing new to the sender.
    again = target(db, starter_profiles(), window)
    assert draft_sightings_for_run(db, again.run_id) == []
    mark_sent(db, draft.id, "NL-2026-0100")
    assert pending_drafts(db) == []
    with pytest.raises(ValueError, match=f"draft {draft.id}: not waiting to be sent, it is sent"):
        mark_sent(db, draft.id, "NL-2026-0101")


# --- validity and expiry ----------------------------------------------------------------------


def test_an_expired_entry_does_not_hit(db: Database) -> None:
    _store(db, [make_consignment(1)])  # arrives 2026-11-02 on SEA-1
    _store(db, [make_movement("SEA-1")])
    _watch(db, "OLD", _notice(NoticeMode.MAR, [VESSEL], valid_until=date(2026, 11, 1)))
    _watch(db, "LATE", _notice(NoticeMode.MAR, [VESSEL]), sent=datetime(2026, 11, 3, tzinfo=UTC))
    (row,) = _features(db, "consignment")
    assert row["vessel_on_alert"] is False and row["alert_ref"] is None
    assert row["alert_refs"] == []

    _watch(db, "LIVE", _notice(NoticeMode.MAR, [VESSEL]))
    (row,) = _features(db, "consignment")
    assert (row["vessel_on_alert"], row["alert_ref"]) == (True, "LIVE")

    # Ended from the arrival day on: no hit that day, while a day before still would.
    (ended,) = expire(db, "LIVE", date(2026, 11, 2), "vessel boarded at sea")
    assert ended.valid_until == date(2026, 11, 1) and ended.expired_at is not None
    assert [e.message_id for e in active_entries(db, date(2026, 11, 1))] == ["OLD", "LIVE"]
    assert active_entries(db, date(2026, 11, 2)) == []
    (row,) = _features(db, "consignment")
    assert row["vessel_on_alert"] is False
    assert expire(db, "LIVE", date(2026, 11, 20), "again") == []  # already over by then
    with pytest.raises(ValueError, match="reason"):
        expire(db, "OLD", date(2026, 11, 1), " ")


# --- each kind of subject ----------------------------------------------------------------------


def test_containers_and_parties_on_alert_mark_the_consignment(db: Database) -> None:
    other = make_consignment(
        2, equipment=[Equipment(number="MSKU1234565", seals=["S1"])],
        parties=[RoledParty(role="consignee", name="Other Trading GmbH")],
    )  # fmt: skip
    _store(db, [make_consignment(1), other])  # c1: CSQU3054383, consignee Fresh Import BV
    container = Entity(kind=EntityKind.CONTAINER, identifier="csqu 305438-3")
    _watch(db, "CARGO-1", _notice(NoticeMode.CARGO, [container]))
    company = Entity(kind=EntityKind.COMPANY, identifier="FRESH IMPORT B.V.", country="NL")
    _watch(db, "CIS-1", _alert([company], SuggestedAction.DISCREET_SURVEILLANCE))
    first, second = _features(db, "consignment")
    assert (first["container_on_alert"], first["party_on_alert"]) == (True, True)
    assert first["vessel_on_alert"] is False and first["vehicle_on_alert"] is False
    # discreet surveillance is shown first: a check must not spoil another service's watch
    assert (first["alert_action"], first["alert_ref"]) == ("discreet_surveillance", "CIS-1")
    assert first["alert_refs"] == ["CARGO-1", "CIS-1"]
    assert (second["container_on_alert"], second["party_on_alert"]) == (False, False)

    engine = DuckDBEngine(starter_profiles())
    scored = {r["target_id"]: r for r in engine.score("consignment", features_for(
        db, "consignment", Window())).to_pylist()}  # fmt: skip
    hit_ids = {engine.compiled.profiles[i].id for i in scored[first["target_id"]]["hits"]}
    assert "SEA-WATCH" in hit_ids and "SEA-ALERT" not in hit_ids


def test_a_person_party_is_found_by_name_in_any_order(db: Database) -> None:
    _store(db, [make_consignment(1)])  # the freight payer is the person 'J. Doe'
    person = Entity(kind=EntityKind.PERSON, identifier="DOE, J.", data_subject=DataSubject.SUSPECT)
    _watch(db, "CIS-P", _alert([person], SuggestedAction.SPECIFIC_CHECK))
    (row,) = _features(db, "consignment")
    assert row["party_on_alert"] is False  # freight payers are not among the watched roles
    _store(db, [make_consignment(2, parties=[
        RoledParty(role="consignee", kind="person", name="J Doe"),
    ])])  # fmt: skip
    assert [r["party_on_alert"] for r in _features(db, "consignment")] == [False, True]


def test_plates_and_the_haulier_of_a_truck(db: Database) -> None:
    _store(db, [make_truck("ROAD-1")])  # plates 34ABC123 and trailer 34XY99, Anadolu Lojistik
    other = make_truck("ROAD-2").model_copy(
        update={"conveyance": Conveyance(kind="truck", operator=Party(name="Someone Else"))}
    )
    _store(db, [other])
    trailer = Entity(kind=EntityKind.VEHICLE, identifier="34 xy-99", country="TR")
    _watch(db, "BALKAN-1", _notice(NoticeMode.BALKAN, [trailer]))
    first, second = _features(db, "movement")
    assert (first["vehicle_on_alert"], first["party_on_alert"]) == (True, False)
    assert first["alert_ref"] == "BALKAN-1" and second["vehicle_on_alert"] is False
    haulier = Entity(kind=EntityKind.COMPANY, identifier="Anadolu  Lojistik.")
    _watch(db, "CIS-H", _alert([haulier], SuggestedAction.SPECIFIC_CHECK))
    first, second = _features(db, "movement")
    assert first["party_on_alert"] is True and second["party_on_alert"] is False
    run = target(db, starter_profiles(), Window())
    (selected,) = [r for r in run.selections.to_pylist() if "ROAD-ALERT" in r["reasons"]]
    assert selected["target_ref"] == "ROAD-1"
    # a movement is selected at its place of arrival: the sighting is typed there
    drafts = draft_sightings_for_run(db, run.run_id)
    assert sorted(d.message_id for d in drafts) == ["BALKAN-1", "CIS-H"]
    assert {(d.message.feedback.outcome, d.message.feedback.place, d.message.feedback.at,
             d.message.feedback.control_ref) for d in drafts if d.message.feedback} == {
        (Outcome.SEEN, "BGKPV", date(2026, 11, 2), "ROAD-1")
    }  # fmt: skip


def test_a_consignment_carried_by_a_watched_truck(db: Database) -> None:
    _store(db, [make_truck("ROAD-1")])
    _store(db, [make_consignment(1, mode="road", movement_ref="ROAD-1")])
    _watch(db, "BALKAN-2", _notice(NoticeMode.BALKAN, [
        Entity(kind=EntityKind.VEHICLE, identifier="34-ABC-123"),
    ]))  # fmt: skip
    (row,) = _features(db, "consignment")
    assert row["vehicle_on_alert"] is True and row["vessel_on_alert"] is False


def test_travellers_by_name_with_date_of_birth_or_by_document(db: Database) -> None:
    _store(db, [make_traveller(1), make_traveller(2, given_names="JOHAN")])

    # Anna Maria Eriksson, born 1974-08-12, passport L89890001
    def person(identifier: str, born: date | None, name: str | None = None) -> Entity:
        return Entity(
            kind=EntityKind.PERSON, identifier=identifier, name=name, date_of_birth=born,
            data_subject=DataSubject.SUSPECT,
        )  # fmt: skip

    _watch(db, "AIR-1", _notice(NoticeMode.AIR, [person("Anna-Maria Eriksson", date(1974, 8, 13))]))
    assert [r["traveller_on_alert"] for r in _features(db, "traveller")] == [False, False]
    _watch(db, "AIR-2", _notice(NoticeMode.AIR, [person("Eriksson Anna Maria", None)]))
    assert [r["traveller_on_alert"] for r in _features(db, "traveller")] == [False, False]
    _watch(
        db, "AIR-3", _notice(NoticeMode.AIR, [person("ERIKSSON, anna maria", date(1974, 8, 12))])
    )
    assert [r["alert_ref"] for r in _features(db, "traveller")] == ["AIR-3", None]
    _watch(db, "AIR-4", _notice(NoticeMode.AIR, [person("l8989 0002", None, "Johan Eriksson")]))
    assert [r["alert_refs"] for r in _features(db, "traveller")] == [["AIR-3"], ["AIR-4"]]


def test_a_yacht_known_by_name_or_call_sign(db: Database) -> None:
    yacht = make_movement(
        "YACHT-1", conveyance=Conveyance(kind="yacht", name="Sea Breeze II", flag="GB",
                                         call_sign="MABC7"),
    )  # fmt: skip
    _store(db, [yacht])
    _watch(db, "Y-1", _notice(NoticeMode.YACHT, [
        Entity(kind=EntityKind.VESSEL, identifier="SEA BREEZE II"),
    ]))  # fmt: skip
    _watch(
        db, "Y-2", _notice(NoticeMode.YACHT, [Entity(kind=EntityKind.VESSEL, identifier="mabc7")])
    )
    (row,) = _features(db, "movement")
    assert row["vessel_on_alert"] is True and row["alert_refs"] == ["Y-1", "Y-2"]


# --- normal forms --------------------------------------------------------------------------------


def test_identifiers_and_names_are_compared_in_one_normal_form() -> None:
    assert identifier_key(" msku 123456-5 ") == "MSKU1234565"
    assert identifier_key("34-xy 99") == "34XY99"
    assert imo_key("IMO 931-9466") == imo_key("imo9319466") == "9319466"
    assert imo_key("12345") is None
    assert vessel_key("IMO 9319466") == ("imo", "9319466")
    assert vessel_key("352 001 234") == ("mmsi", "352001234")
    assert vessel_key("3fab7") == ("call_sign", "3FAB7")
    assert vessel_key("Sea Breeze II") == ("name", "sea breeze ii")
    assert name_key("Fresh Import B.V.") == name_key("FRESH  IMPORT BV") == "fresh import bv"
    assert name_key("Société Générale S.A.") == "societe generale sa"
    assert name_key("Грузовой Порт") == name_key("ГРУЗОВОЙ  ПОРТ") != ""  # other scripts stay
    assert person_key("ERIKSSON, Anna-Maria") == person_key("anna maria eriksson")


def test_entries_from_a_message(db: Database) -> None:
    master = Entity(
        kind=EntityKind.PERSON, identifier="X1234567", name="Ivan Petrov",
        date_of_birth=date(1970, 1, 2), data_subject=DataSubject.SUSPECT,
    )  # fmt: skip
    phone = Entity(kind=EntityKind.PHONE, identifier="+593 99 000 0000")
    notice = _notice(NoticeMode.MAR, [VESSEL, master, phone, VESSEL])
    made = entries_from(NOTICE_ID, SENDER, notice, SENT)
    assert [(e.entity.kind, e.scheme, e.key) for e in made] == [
        (EntityKind.VESSEL, "imo", "9319466"),
        (EntityKind.PERSON, "document", "X1234567"),
        (EntityKind.PERSON, "name", "ivan petrov"),
    ]
    assert {(e.mode, e.valid_from, e.valid_until, e.suggested_action) for e in made} == {
        ("MAR", date(2026, 10, 30), date(2026, 12, 31), SuggestedAction.SPECIFIC_CHECK)
    }
    assert made[0].source_label == "MAR-Info notice"
    assert add_entries(db, made) == 3
    assert add_entries(db, made) == 0  # stored once, however often the mailbox stores it
    assert [e.key for e in entries(db, NOTICE_ID)] == ["9319466", "X1234567", "ivan petrov"]
    alert = entries_from(
        "CIS-9", SENDER, _alert([VESSEL], SuggestedAction.SIGHTING_AND_REPORTING), SENT
    )
    assert (alert[0].mode, alert[0].source_label) == ("CIS", "CIS alert")


def test_what_makes_no_entry_is_refused_with_the_reason() -> None:
    report = Message(
        kind=MessageKind.INTELLIGENCE_REPORT, subject="Report", facts="Seen.", grading=GRADING,
        entities=[VESSEL],
    )  # fmt: skip
    with pytest.raises(ValueError, match="message R-1: a intelligence_report is no CIS alert"):
        entries_from("R-1", SENDER, report, SENT)
    with pytest.raises(ValueError, match="sent_at needs a time zone"):
        entries_from("N-1", SENDER, _notice(NoticeMode.MAR, [VESSEL]), datetime(2026, 10, 30))
    late = SENT + timedelta(days=90)
    with pytest.raises(ValueError, match="valid_until 2026-12-31 is before the day it was sent"):
        entries_from("N-1", SENDER, _notice(NoticeMode.MAR, [VESSEL]), late)
    blank = Entity(kind=EntityKind.COMPANY, identifier="...")
    with pytest.raises(ValueError, match=r"company '\.\.\.' has no letters or digits"):
        entries_from("N-2", SENDER, _alert([blank], SuggestedAction.SPECIFIC_CHECK), SENT)


def test_a_sighting_needs_a_place_to_type_it() -> None:
    entry = entries_from(NOTICE_ID, SENDER, _notice(NoticeMode.MAR, [VESSEL]), SENT)[0]
    selection = {
        "id": 7, "run_id": 1, "target_kind": "consignment", "target_id": 1,
        "target_ref": "MEDU00000001", "office": "NL000396", "mode": "sea",
        "day": date(2026, 11, 2), "lane": "red", "score": 160,
    }  # fmt: skip
    with pytest.raises(ValueError, match="selection 7 was made at office 'NL000396', no UN/LOCODE"):
        draft_sighting([Seen(selection, (entry,))])
    typed = draft_sighting([Seen(selection, (entry,), "NLRTM")]).feedback
    assert typed is not None and (typed.place, typed.at) == ("NLRTM", date(2026, 11, 2))
    earlier = {**selection, "id": 8, "target_ref": "MEDU9", "day": date(2026, 11, 1)}
    both = draft_sighting([Seen(selection, (entry,), "NLRTM"), Seen(earlier, (entry,), "BEANR")])
    assert both.feedback is not None
    assert (both.feedback.at, both.feedback.place) == (date(2026, 11, 1), "BEANR")
    assert both.feedback.control_ref == "MEDU00000001, MEDU9"


# --- who may read and end entries ----------------------------------------------------------------


def test_reading_and_ending_entries_is_allowed_by_role_and_audited(db: Database) -> None:
    _watch(db, NOTICE_ID, _notice(NoticeMode.MAR, [VESSEL]))
    analyst = User(1, "ana", "Ana", "NL-FIOD", frozenset(), True)
    with pytest.raises(Forbidden):
        audited_active_entries(db, analyst, date(2026, 11, 2))
    with pytest.raises(Forbidden):
        audited_expire(db, analyst, NOTICE_ID, date(2026, 11, 2), "withdrawn")
    service = Service("cli:test")
    assert len(audited_active_entries(db, service, date(2026, 11, 2), "case 17")) == 1
    assert len(audited_expire(db, service, NOTICE_ID, date(2026, 11, 2), "withdrawn")) == 1
    assert audited_pending_drafts(db, service) == []
    assert verify(db).ok


# --- the command line --------------------------------------------------------------------------


def test_watchlist_commands(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(database)
    db.upgrade()
    _watch(db, NOTICE_ID, _notice(NoticeMode.MAR, [VESSEL]))
    _store(db, [make_consignment(1)])
    _store(db, [make_movement("SEA-1")])
    runner = CliRunner()
    listed = runner.invoke(app, ["watchlist", "list", "--on", "2026-11-02", "--database", database])
    assert listed.exit_code == 0, listed.output
    assert NOTICE_ID in listed.output and "IMO 931-9466" in listed.output
    targeted = runner.invoke(app, ["target", "--since", "2026-11-02", "--database", database])
    assert targeted.exit_code == 0, targeted.output
    assert "1 sighting replies drafted" in targeted.output
    assert f"cites {NOTICE_ID}" in targeted.output.replace("\n", "")
    drafts = runner.invoke(app, ["watchlist", "drafts", "--database", database])
    assert f"in reply to {NOTICE_ID}" in drafts.output and "MEDU00000001" in drafts.output
    ended = runner.invoke(app, [
        "watchlist", "expire", NOTICE_ID, "--on", "2026-11-02", "--reason", "withdrawn",
        "--database", database,
    ])  # fmt: skip
    assert ended.exit_code == 0 and "1 entries of" in ended.output
    refused = runner.invoke(app, [
        "watchlist", "expire", NOTICE_ID, "--reason", " ", "--database", database,
    ])  # fmt: skip
    assert refused.exit_code == 2 and "reason" in refused.output
    db.dispose()


# --- sending and discarding drafts through the mailbox, over the API and the command line -------

API_TOKEN = "watchlist-node-token-0123456789"
CONTAINER = Entity(kind=EntityKind.CONTAINER, identifier="CSQU 305438-3")


@dataclass
class Exchange:
    """A Spanish service's two notices, sent through the mailbox to Dutch customs, whose
    targeting run matched both: one draft per notice."""

    db: Database
    kek: Kek
    vessel_notice: str
    container_notice: str
    drafts: dict[str, int]
    """Notice id: its draft's id."""
    client: TestClient
    tokens: dict[str, dict[str, str]]
    """User name: Authorization header."""

    def user(self, name: str) -> User:
        return security.get_user(self.db, name)

    def thread(self, notice_id: str) -> list[mailbox.Envelope]:
        return mailbox.thread(self.db, self.user("elena"), notice_id, kek=self.kek)


def _exchange(db: Database, kek: Kek | None = None) -> Exchange:
    add_staff(
        db,
        [
            ("elena", "ES-SVA", "intelligence officer"),
            ("anna", "NL-DOUANE", "intelligence officer"),
            ("piet", "NL-DOUANE", "targeter"),
            ("marie", "FR-DNRED", "intelligence officer"),
        ],
    )
    chosen = kek or Kek(os.urandom(32))
    elena = security.get_user(db, "elena")
    notices = [
        mailbox.send(db, elena, _notice(mode, [subject]), ["NL-DOUANE"], now=SENT, kek=chosen).id
        for mode, subject in [(NoticeMode.MAR, VESSEL), (NoticeMode.CARGO, CONTAINER)]
    ]
    _store(db, [make_consignment(1)])  # in CSQU3054383 on MSC EXAMPLE, arriving 2026-11-02
    _store(db, [make_movement("SEA-1")])
    drafted = draft_sightings_for_run(db, target(db, starter_profiles(), Window()).run_id)
    drafts = {d.message_id: d.id for d in drafted}
    assert sorted(drafts) == sorted(notices) and {d.addressee for d in drafted} == {"ES-SVA"}
    tokens = {
        name: {"Authorization": f"Bearer {security.issue_token(db, name).token}"}
        for name in ("elena", "anna", "piet", "marie")
    }
    client = TestClient(create_app(db, API_TOKEN, kek=chosen))
    return Exchange(db, chosen, notices[0], notices[1], drafts, client, tokens)


def test_a_sighting_is_sent_over_the_api_into_the_senders_thread_once(db: Database) -> None:
    ex = _exchange(db)
    vessel_draft, container_draft = ex.drafts[ex.vessel_notice], ex.drafts[ex.container_notice]
    anna, marie, piet = ex.tokens["anna"], ex.tokens["marie"], ex.tokens["piet"]

    listed = ex.client.get("/sightings", headers={**anna, "X-Redlane-Purpose": "case 17"})
    assert listed.status_code == 200
    assert [d["id"] for d in listed.json()] == sorted([vessel_draft, container_draft])
    shown = next(d for d in listed.json() if d["id"] == vessel_draft)
    assert [shown[k] for k in ("message_id", "addressee", "status")] == [
        ex.vessel_notice, "ES-SVA", "draft"
    ]  # fmt: skip
    assert shown["run_id"] >= 1 and shown["created_at"]
    assert shown["message"]["kind"] == "sighting"
    assert shown["message"]["in_reply_to"] == ex.vessel_notice
    assert "consignment MEDU00000001" in shown["message"]["facts"]
    (read,) = audit.entries(db, object_kind="sighting_drafts", username="anna")
    assert (read.action, read.purpose) == ("read", "case 17")
    assert read.details["drafts"] == sorted([vessel_draft, container_draft])
    # a service that received neither notice is shown no draft of them; a targeter may not send
    assert ex.client.get("/sightings", headers=marie).json() == []
    assert ex.client.get("/sightings", headers=piet).status_code == 403

    # Someone who may not see the notice: answered as for a draft that does not exist.
    refused = ex.client.post(f"/sightings/{vessel_draft}/send", headers=marie)
    missing = ex.client.post("/sightings/999999/send", headers=marie)
    assert refused.status_code == missing.status_code == 404
    assert refused.json() == {"detail": f"no sighting draft {vessel_draft}"}
    assert ex.client.post(f"/sightings/{vessel_draft}/send", headers=piet).status_code == 403
    assert len(ex.thread(ex.vessel_notice)) == 1  # nothing was sent
    assert find_draft(db, vessel_draft).status == "draft"
    empty = ex.client.post(f"/sightings/{vessel_draft}/send", headers=anna, json={"facts": ""})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"][-1] == "facts"

    facts = "MSC EXAMPLE discharged at Rotterdam on 2 November; the container was scanned, clean."
    sent = ex.client.post(f"/sightings/{vessel_draft}/send", headers=anna, json={"facts": facts})
    assert sent.status_code == 201, sent.text
    reply = sent.json()
    assert reply["draft_id"] == vessel_draft and reply["addressees"] == ["agency:ES-SVA"]
    assert reply["thread_id"] == ex.vessel_notice
    (arrived,) = mailbox.inbox(db, ex.user("elena"), kek=ex.kek)
    assert (arrived.id, arrived.kind, arrived.sender) == (reply["id"], MessageKind.SIGHTING,
                                                         "NL-DOUANE")  # fmt: skip
    assert (arrived.thread_id, arrived.in_reply_to) == (ex.vessel_notice, ex.vessel_notice)
    opened = mailbox.read(db, ex.user("elena"), reply["id"], "sighting of our notice", kek=ex.kek)
    assert opened.message.facts == facts and opened.message.entities == [VESSEL]
    done = find_draft(db, vessel_draft)
    assert (done.status, done.sent_message_id) == ("sent", reply["id"])
    (altered,) = audit.entries(db, object_kind="sighting_draft", object_id=str(vessel_draft))
    assert (altered.username, altered.action) == ("anna", "alter")
    assert altered.details == {"status": "sent", "message": ex.vessel_notice,
                               "sent_message": reply["id"], "edited": True}  # fmt: skip

    again = ex.client.post(f"/sightings/{vessel_draft}/send", headers=anna)
    assert again.status_code == 409 and "it is sent" in again.json()["detail"]
    assert [e.id for e in ex.thread(ex.vessel_notice)] == [ex.vessel_notice, reply["id"]]
    left = ex.client.get("/sightings", headers=anna).json()
    assert [d["id"] for d in left] == [container_draft]

    # Discarding: the reason is required, named when missing, and audited.
    no_reason = ex.client.post(f"/sightings/{container_draft}/discard", headers=anna, json={})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"][-1] == "reason"
    blank = ex.client.post(f"/sightings/{container_draft}/discard", headers=anna,
                           json={"reason": "  "})  # fmt: skip
    assert blank.status_code == 422 and blank.json()["detail"].startswith("reason:")
    assert ex.client.post(f"/sightings/{container_draft}/discard", headers=marie,
                          json={"reason": "x"}).status_code == 404  # fmt: skip
    dropped = ex.client.post(
        f"/sightings/{container_draft}/discard",
        headers=anna,
        json={"reason": "container already controlled at Algeciras"},
    )
    assert dropped.status_code == 200 and dropped.json()["status"] == "discarded"
    (entry,) = audit.entries(db, object_kind="sighting_draft", object_id=str(container_draft))
    assert (entry.username, entry.action) == ("anna", "alter")
    assert entry.purpose == "container already controlled at Algeciras"
    assert entry.details["reason"] == entry.purpose and entry.details["status"] == "discarded"
    late = ex.client.post(f"/sightings/{container_draft}/send", headers=anna)
    assert late.status_code == 409 and "it is discarded" in late.json()["detail"]
    assert len(ex.thread(ex.container_notice)) == 1
    assert ex.client.get("/sightings", headers=anna).json() == []
    assert ex.client.post("/sightings/999999/discard", headers=anna,
                          json={"reason": "x"}).status_code == 404  # fmt: skip

    paths = ex.client.get("/openapi.json", headers=anna).json()["paths"]
    for path in ("/watchlist", "/watchlist/{message_id}/expire", "/sightings",
                 "/sightings/{draft_id}/send", "/sightings/{draft_id}/discard"):  # fmt: skip
        assert path in paths
    assert verify(db).ok


def test_the_watchlist_routes_check_the_role_and_are_audited(db: Database) -> None:
    ex = _exchange(db)
    anna, piet = ex.tokens["anna"], ex.tokens["piet"]
    listed = ex.client.get("/watchlist", params={"on": "2026-11-02"},
                           headers={**piet, "X-Redlane-Purpose": "arrival check"})  # fmt: skip
    assert listed.status_code == 200
    assert [(e["message_id"], e["scheme"], e["key"]) for e in listed.json()] == [
        (ex.vessel_notice, "imo", "9319466"), (ex.container_notice, "number", "CSQU3054383"),
    ]  # fmt: skip
    (read,) = audit.entries(db, object_kind="watchlist", username="piet")
    assert (read.action, read.purpose, read.object_id) == ("read", "arrival check", "2026-11-02")
    assert read.details["entries"] == [e["id"] for e in listed.json()]
    bad_day = ex.client.get("/watchlist", params={"on": "2 November"}, headers=piet)
    assert bad_day.status_code == 422 and bad_day.json()["detail"][0]["loc"] == ["query", "on"]
    assert ex.client.get("/watchlist", headers=anna).status_code == 403  # no read_worklist
    assert ex.client.get("/watchlist").status_code == 401  # no token

    body = {"on": "2026-11-02", "reason": "vessel boarded at sea", "entity_kind": "vessel"}
    assert ex.client.post(f"/watchlist/{ex.vessel_notice}/expire", headers=piet,
                          json=body).status_code == 403  # fmt: skip
    ended = ex.client.post(f"/watchlist/{ex.vessel_notice}/expire", headers=anna, json=body)
    assert ended.status_code == 200
    (gone,) = ended.json()["ended"]
    assert (gone["key"], gone["valid_until"]) == ("9319466", "2026-11-01")
    (altered,) = audit.entries(db, object_kind="watchlist", username="anna")
    assert (altered.action, altered.object_id) == ("alter", ex.vessel_notice)
    assert (altered.purpose, altered.details["entries"]) == ("vessel boarded at sea", [gone["id"]])
    on_the_day = ex.client.get("/watchlist", params={"on": "2026-11-02"}, headers=piet).json()
    assert [e["message_id"] for e in on_the_day] == [ex.container_notice]
    day_before = ex.client.get("/watchlist", params={"on": "2026-11-01"}, headers=piet).json()
    assert len(day_before) == 2  # a back-test over that day still sees the entry

    for wrong, field in [({**body, "reason": ""}, "reason"), ({"reason": "x"}, "on"),
                         ({**body, "entity_kind": "spaceship"}, "entity_kind")]:  # fmt: skip
        answer = ex.client.post(f"/watchlist/{ex.container_notice}/expire", headers=anna,
                                json=wrong)  # fmt: skip
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == field
    blank = ex.client.post(f"/watchlist/{ex.container_notice}/expire", headers=anna,
                           json={**body, "reason": " "})  # fmt: skip
    assert blank.status_code == 422 and blank.json()["detail"].startswith("reason:")
    assert verify(db).ok


def test_a_draft_is_sent_once_however_many_ask_at_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = _exchange(db)
    draft_id, anna = ex.drafts[ex.vessel_notice], ex.user("anna")

    # A sending that fails after the draft was claimed puts it back.
    monkeypatch.delenv(KEK_SETTING, raising=False)
    with pytest.raises(ConfigError, match=KEK_SETTING):
        send_draft(db, anna, draft_id)
    assert find_draft(db, draft_id).status == "draft"
    assert len(ex.thread(ex.vessel_notice)) == 1

    callers = 4
    start = threading.Barrier(callers)

    def send() -> mailbox.Sent | DraftNotWaiting:
        start.wait()
        try:
            return send_draft(db, anna, draft_id, kek=ex.kek)
        except DraftNotWaiting as refused:
            return refused

    with ThreadPoolExecutor(callers) as pool:
        outcomes = list(pool.map(lambda _: send(), range(callers)))
    sent = [o for o in outcomes if isinstance(o, mailbox.Sent)]
    assert len(sent) == 1, outcomes
    assert all(isinstance(o, DraftNotWaiting) for o in outcomes if o not in sent)
    assert [e.id for e in ex.thread(ex.vessel_notice)] == [ex.vessel_notice, sent[0].id]
    assert find_draft(db, draft_id).sent_message_id == sent[0].id
    with pytest.raises(UnknownDraft, match="draft 999999: no sighting draft with that id"):
        send_draft(db, anna, 999999, kek=ex.kek)
    with pytest.raises(Forbidden):
        send_draft(db, ex.user("piet"), ex.drafts[ex.container_notice], kek=ex.kek)


def test_sighting_commands(db: Database, tmp_path: Path) -> None:
    key = tmp_path / "node.kek"
    ex = _exchange(db, generate_kek(key))
    url = db.url.render_as_string(hide_password=False)
    common = ["--kek", str(key), "--database", url]
    runner = CliRunner()
    vessel_draft, container_draft = ex.drafts[ex.vessel_notice], ex.drafts[ex.container_notice]

    hidden = runner.invoke(app, ["watchlist", "send", str(vessel_draft), "--user", "marie",
                                 *common])  # fmt: skip
    assert hidden.exit_code == 2 and "no such message" in hidden.output
    sent = runner.invoke(app, ["watchlist", "send", str(vessel_draft), "--user", "anna",
                               "--facts", "Seen and scanned at Rotterdam.", *common])  # fmt: skip
    assert sent.exit_code == 0, sent.output
    reply_id = find_draft(db, vessel_draft).sent_message_id
    assert f"draft {vessel_draft} sent as {reply_id} to agency:ES-SVA" in sent.output
    opened = mailbox.read(db, ex.user("elena"), str(reply_id), "sighting", kek=ex.kek)
    assert opened.message.facts == "Seen and scanned at Rotterdam."
    twice = runner.invoke(app, ["watchlist", "send", str(vessel_draft), "--user", "anna",
                                *common])  # fmt: skip
    assert twice.exit_code == 2 and f"draft {vessel_draft}: not waiting" in twice.output
    assert len(ex.thread(ex.vessel_notice)) == 2

    dropped = runner.invoke(app, ["watchlist", "discard", str(container_draft), "--reason",
                                  "false match", "--database", url])  # fmt: skip
    assert dropped.exit_code == 0 and f"draft {container_draft} discarded" in dropped.output
    (entry,) = audit.entries(db, object_kind="sighting_draft", object_id=str(container_draft))
    assert entry.username.startswith("cli:") and entry.purpose == "false match"
    assert find_draft(db, container_draft).status == "discarded"
    unknown = runner.invoke(app, ["watchlist", "discard", "999999", "--reason", "x",
                                  "--database", url])  # fmt: skip
    assert unknown.exit_code == 2 and "draft 999999: no sighting draft" in unknown.output
    waiting = runner.invoke(app, ["watchlist", "drafts", "--database", url])
    assert waiting.exit_code == 0 and "draft " not in waiting.output


# --- the sender ends its entries on feedback ----------------------------------------------------


def test_the_sender_ends_its_entries_when_the_subject_is_seized_or_falsely_matched(
    db: Database,
) -> None:
    ex = _exchange(db)
    elena, day = ex.user("elena"), date(2026, 11, 3)
    both = sorted([ex.vessel_notice, ex.container_notice])

    # Not a recipient (it is the sender's decision), nor one who may not see the notice, nor a
    # role that may not send.
    with pytest.raises(mailbox.Refused, match="owner"):
        close_on_feedback(db, ex.user("anna"), ex.vessel_notice, Outcome.SEIZED, day, "seized")
    with pytest.raises(mailbox.NotFound):
        close_on_feedback(db, ex.user("marie"), ex.vessel_notice, Outcome.SEIZED, day, "seized")
    with pytest.raises(Forbidden):
        close_on_feedback(db, ex.user("piet"), ex.vessel_notice, Outcome.SEIZED, day, "seized")
    # Only a seizure or a false match ends them, and the sender says what it was.
    with pytest.raises(FeedbackError, match="outcome: seen ends no watchlist entry"):
        close_on_feedback(db, elena, ex.vessel_notice, Outcome.SEEN, day, "seen in Rotterdam")
    with pytest.raises(FeedbackError, match="outcome: 'caught' is not one of the outcomes"):
        close_on_feedback(db, elena, ex.vessel_notice, "caught", day, "seized")
    with pytest.raises(FeedbackError, match="reason: say what was seized"):
        close_on_feedback(db, elena, ex.vessel_notice, Outcome.SEIZED, day, " ")
    assert sorted(e.message_id for e in active_entries(db, day)) == both

    (ended,) = close_on_feedback(db, elena, ex.vessel_notice, "seized", day, "120 kg cocaine")
    assert (ended.message_id, ended.valid_until) == (ex.vessel_notice, date(2026, 11, 2))
    assert [e.message_id for e in active_entries(db, day)] == [ex.container_notice]
    assert sorted(e.message_id for e in active_entries(db, date(2026, 11, 2))) == both
    (altered,) = audit.entries(db, object_kind="watchlist", username="elena")
    assert (altered.action, altered.object_id) == ("alter", ex.vessel_notice)
    assert (altered.purpose, altered.details["entries"]) == ("seized: 120 kg cocaine", [ended.id])

    # One kind of subject only; a message that makes no entries is said to.
    assert close_on_feedback(db, elena, ex.container_notice, Outcome.FALSE_MATCH, day,
                             "another box", entity_kind=EntityKind.VESSEL) == []  # fmt: skip
    report = Message(kind=MessageKind.INTELLIGENCE_REPORT, subject="Report", facts="Seen.",
                     grading=GRADING, entities=[VESSEL])  # fmt: skip
    report_id = mailbox.send(db, elena, report, ["NL-DOUANE"], kek=ex.kek).id
    with pytest.raises(FeedbackError, match=f"message {report_id}: a intelligence_report has no"):
        close_on_feedback(db, elena, report_id, Outcome.FALSE_MATCH, day, "wrong vessel")
    assert verify(db).ok


def test_closing_on_feedback_over_the_api_and_the_command_line(db: Database) -> None:
    ex = _exchange(db)
    body = {"outcome": "false_match", "on": "2026-11-03", "reason": "the number was reused"}
    close = f"/messages/{ex.container_notice}/close"

    refused = ex.client.post(close, headers=ex.tokens["anna"], json=body)
    assert refused.status_code == 404 and "owner" in refused.json()["detail"]
    hidden = ex.client.post(close, headers=ex.tokens["marie"], json=body)
    assert hidden.status_code == 404 and hidden.json() == {"detail": "no such message"}
    seen = ex.client.post(close, headers=ex.tokens["elena"], json={**body, "outcome": "seen"})
    assert seen.status_code == 422 and "seen ends no watchlist entry" in seen.json()["detail"]
    for wrong, field in [({**body, "outcome": "caught"}, "outcome"),
                         ({k: v for k, v in body.items() if k != "reason"}, "reason")]:  # fmt: skip
        answer = ex.client.post(close, headers=ex.tokens["elena"], json=wrong)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == field
    closed = ex.client.post(close, headers=ex.tokens["elena"], json=body)
    assert closed.status_code == 200, closed.text
    (gone,) = closed.json()["ended"]
    assert (closed.json()["outcome"], gone["key"], gone["valid_until"]) == (
        "false_match", "CSQU3054383", "2026-11-02",
    )  # fmt: skip

    url = db.url.render_as_string(hide_password=False)
    runner = CliRunner()
    command = ["watchlist", "close", ex.vessel_notice, "--outcome", "seized", "--reason",
               "120 kg cocaine", "--on", "2026-11-03", "--database", url]  # fmt: skip
    not_theirs = runner.invoke(app, [*command, "--user", "anna"])
    assert not_theirs.exit_code == 2 and "only the sending agency" in not_theirs.output
    done = runner.invoke(app, [*command, "--user", "elena"])
    assert done.exit_code == 0, done.output
    assert f"1 entries of {ex.vessel_notice} end on 2026-11-03 (seized)" in done.output
    assert active_entries(db, date(2026, 11, 3)) == []
    purposes = [e.purpose for e in audit.entries(db, object_kind="watchlist", username="elena")]
    assert purposes == ["false_match: the number was reused", "seized: 120 kg cocaine"]
    assert verify(db).ok


# --- both engines ------------------------------------------------------------------------------


def test_spark_scores_the_watchlist_fields_as_duckdb_does(db: Database) -> None:
    pytest.importorskip("pyspark", reason="the Spark extra is not installed")
    from redlane.targeting.spark import SparkEngine, local_session

    _store(db, [make_consignment(1), make_consignment(2, movement_ref="SEA-9")])
    _store(db, [make_movement("SEA-1")])
    _watch(db, NOTICE_ID, _notice(NoticeMode.MAR, [VESSEL]))
    table = features_for(db, "consignment", Window())
    profiles = starter_profiles()
    session = local_session()
    try:
        spark = SparkEngine(profiles, session=session).score("consignment", table).to_pylist()
    finally:
        session.stop()
    duck = DuckDBEngine(profiles).score("consignment", table).to_pylist()
    keys = ("target_id", "score", "lane", "alert_ref", "alert_action", "alert_refs")
    assert [[r[k] for k in keys] for r in spark] == [[r[k] for k in keys] for r in duck]
    assert [r["alert_ref"] for r in duck] == [NOTICE_ID, None]
