"""Typed feedback on alerts and notices: what the sightings and replies to a CIS alert say came
of it, as far as each reader may see (library, API, command line, on SQLite and PostgreSQL).
The control results that feed targeting's performance are tests/test_feedback.py."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import add_staff
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from redlane import security
from redlane.api import create_app
from redlane.cli import app
from redlane.exchange import mailbox, retention
from redlane.exchange.crypto import Kek, generate_kek
from redlane.exchange.feedback import FeedbackError, feedback_on
from redlane.exchange.model import (
    Alert,
    AlertCategory,
    DataSubject,
    Entity,
    EntityKind,
    Feedback,
    Grading,
    Message,
    MessageKind,
    Outcome,
    Seizure,
    SuggestedAction,
)
from redlane.security import audit
from redlane.security.accounts import User
from redlane.security.audit import verify
from redlane.store.database import Database

SENT = datetime(2026, 10, 30, 9, 15, tzinfo=UTC)
GRADING = Grading(source="2", intelligence="B", handling="P")
API_TOKEN = "feedback-node-token-0123456789"
CONTAINER = Entity(kind=EntityKind.CONTAINER, identifier="CSQU3054383")
COURIER = Entity(
    kind=EntityKind.PERSON, identifier="Jan de Vries", data_subject=DataSubject.SUSPECT
)


@dataclass
class Answered:
    """A Spanish CIS alert to Dutch and French customs and what came back: a Dutch sighting
    and a Dutch seizure (typed), a French false match and a French question (untyped), a
    French sighting naming a person that its sender erased, and the sender's thanks to the
    Dutch sighting (an answer to the sighting, not to the alert)."""

    db: Database
    kek: Kek
    alert: str
    seen: str
    seized: str
    seizure_report: str
    false_match: str
    question: str
    erased: str

    def user(self, name: str) -> User:
        return security.get_user(self.db, name)


def _answered(db: Database, kek: Kek | None = None) -> Answered:
    add_staff(db, [("elena", "ES-SVA", "intelligence officer"),
                   ("anna", "NL-DOUANE", "intelligence officer"),
                   ("marie", "FR-DNRED", "intelligence officer"),
                   ("carlos", "CO-DIJIN", "intelligence officer")])  # fmt: skip
    chosen = kek or Kek(os.urandom(32))
    elena, anna, marie = (security.get_user(db, n) for n in ("elena", "anna", "marie"))

    def at(days: int) -> datetime:
        return SENT + timedelta(days=days)

    alert = Message(
        kind=MessageKind.CIS_ALERT, subject="CIS: reefer container CSQU3054383",
        facts="Used twice for cocaine in 2025.", entities=[CONTAINER], grading=GRADING,
        alert=Alert(category=AlertCategory.MEANS_OF_TRANSPORT,
                    suggested_action=SuggestedAction.SPECIFIC_CHECK,
                    justification="Two seizures in the same container",
                    valid_until=date(2027, 6, 1)),
    )  # fmt: skip
    alert_id = mailbox.send(db, elena, alert, ["NL-DOUANE", "FR-DNRED"], now=SENT, kek=chosen).id

    def reply(
        who: User,
        to: str,
        kind: MessageKind,
        subject: str,
        feedback: Feedback | None,
        days: int,
        entities: tuple[Entity, ...] = (CONTAINER,),
    ) -> str:
        answer = Message(
            kind=kind,
            subject=subject,
            facts=f"{subject}.",
            grading=GRADING,
            entities=list(entities),
            feedback=feedback,
            in_reply_to=to,
        )
        return mailbox.reply(db, who, to, answer, now=at(days), kek=chosen).id

    seen = reply(anna, alert_id, MessageKind.SIGHTING, "Seen at Rotterdam", Feedback(
        outcome=Outcome.SEEN, at=date(2026, 11, 2), place="NLRTM", control_ref="MEDU00000001",
    ), 3)  # fmt: skip
    report = Message(
        kind=MessageKind.SEIZURE_REPORT, subject="Seizure in CSQU3054383", facts="120.5 kg.",
        grading=GRADING, entities=[CONTAINER],
        seizure=Seizure(seized_on=date(2026, 11, 3), place="NLRTM", drug="cocaine",
                        quantity_kg=120.5, concealment="reefer unit", detection="intelligence",
                        transport_mode="sea"),
    )  # fmt: skip
    report_id = mailbox.send(db, anna, report, ["ES-SVA"], now=at(4), kek=chosen).id
    seized = reply(anna, alert_id, MessageKind.REPLY, "Seized", Feedback(
        outcome=Outcome.SEIZED, at=date(2026, 11, 3), place="NLRTM", seizure_report=report_id,
    ), 5)  # fmt: skip
    false_match = reply(marie, alert_id, MessageKind.SIGHTING, "Not yours", Feedback(
        outcome=Outcome.FALSE_MATCH, at=date(2026, 11, 4), place="FRLEH",
        reason="the number was misread on the manifest",
    ), 6)  # fmt: skip
    question = reply(marie, alert_id, MessageKind.REPLY, "Which voyage?", None, 7)
    erased = reply(marie, alert_id, MessageKind.SIGHTING, "The courier", Feedback(
        outcome=Outcome.SEEN, at=date(2026, 11, 5), place="FRLEH",
    ), 8, (CONTAINER, COURIER))  # fmt: skip
    # a message naming a person has a review date; its sender may erase it
    retention.review(db, marie, erased, "erase", "wrong person named", now=at(9))
    reply(elena, seen, MessageKind.REPLY, "Thanks", None, 9)
    return Answered(db, chosen, alert_id, seen, seized, report_id, false_match, question,
                    erased)  # fmt: skip


def test_the_sender_sees_every_answer_and_each_recipient_its_own(db: Database) -> None:
    ex = _answered(db)

    every = feedback_on(db, ex.user("elena"), ex.alert, purpose="case 17", kek=ex.kek)
    assert (every.message_id, every.kind) == (ex.alert, MessageKind.CIS_ALERT)
    assert every.subject == "CIS: reefer container CSQU3054383"
    assert [(a.reply_id, a.agency, a.kind, a.feedback.outcome, a.feedback.at, a.feedback.place)
            for a in every.answers] == [
        (ex.seen, "NL-DOUANE", MessageKind.SIGHTING, Outcome.SEEN, date(2026, 11, 2), "NLRTM"),
        (ex.seized, "NL-DOUANE", MessageKind.REPLY, Outcome.SEIZED, date(2026, 11, 3), "NLRTM"),
        (ex.false_match, "FR-DNRED", MessageKind.SIGHTING, Outcome.FALSE_MATCH,
         date(2026, 11, 4), "FRLEH"),
    ]  # fmt: skip
    assert every.answers[1].feedback.seizure_report == ex.seizure_report
    assert every.counts == {Outcome.SEEN: 1, Outcome.CONTROLLED_NOTHING_FOUND: 0,
                            Outcome.SEIZED: 1, Outcome.FALSE_MATCH: 1, Outcome.NO_ACTION: 0,
                            Outcome.EXPIRED: 0}  # fmt: skip
    # the thanks answers the sighting, not the alert; the question types no result
    assert (every.untyped, every.erased) == ([ex.question], [ex.erased])

    # Opened through the mailbox: each read audited with the purpose, and receipted.
    reads = audit.entries(db, username="elena", object_kind="message")
    assert {e.object_id for e in reads if e.action == "read" and e.purpose == "case 17"} == {
        ex.alert, ex.seen, ex.seized, ex.false_match, ex.question,
    }  # fmt: skip
    opened = {(r.user, r.kind) for r in mailbox.receipts_of(db, ex.user("anna"), ex.seen)}
    assert ("elena", "opened") in opened

    # A recipient sees its own answers only, and none of the other recipient's.
    dutch = feedback_on(db, ex.user("anna"), ex.alert, kek=ex.kek)
    assert [a.reply_id for a in dutch.answers] == [ex.seen, ex.seized]
    assert (dutch.counts[Outcome.FALSE_MATCH], dutch.untyped, dutch.erased) == (0, [], [])
    french = feedback_on(db, ex.user("marie"), ex.alert, kek=ex.kek)
    assert [a.feedback.outcome for a in french.answers] == [Outcome.FALSE_MATCH]
    assert (french.untyped, french.erased) == ([ex.question], [ex.erased])
    assert audit.entries(db, username="anna", object_kind="message")[-1].purpose == (
        "feedback on an alert or notice"
    )

    # Forwarded to the Dutch, the French sighting is theirs to see too.
    mailbox.forward(db, ex.user("marie"), ex.false_match, ["NL-DOUANE"], "joint case", kek=ex.kek)
    again = feedback_on(db, ex.user("anna"), ex.alert, kek=ex.kek)
    assert [a.reply_id for a in again.answers] == [ex.seen, ex.seized, ex.false_match]

    # A service that received none of it: as for a message that does not exist.
    with pytest.raises(mailbox.NotFound):
        feedback_on(db, ex.user("carlos"), ex.alert, kek=ex.kek)
    with pytest.raises(mailbox.NotFound):
        feedback_on(db, ex.user("elena"), "0" * 32, kek=ex.kek)
    with pytest.raises(FeedbackError, match=f"message {ex.seen}: a sighting asks for no result"):
        feedback_on(db, ex.user("elena"), ex.seen, kek=ex.kek)
    with pytest.raises(mailbox.MailboxError, match="purpose"):
        feedback_on(db, ex.user("elena"), ex.alert, purpose=" ", kek=ex.kek)
    assert verify(db).ok


def test_feedback_over_the_api(db: Database) -> None:
    ex = _answered(db)
    client = TestClient(create_app(db, API_TOKEN, kek=ex.kek))
    token = {n: {"Authorization": f"Bearer {security.issue_token(db, n).token}"}
             for n in ("elena", "anna", "carlos")}  # fmt: skip

    answer = client.get(f"/messages/{ex.alert}/feedback",
                        headers={**token["elena"], "X-Redlane-Purpose": "case 17"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["counts"] == {"seen": 1, "controlled_nothing_found": 0, "seized": 1,
                              "false_match": 1, "no_action": 0, "expired": 0}  # fmt: skip
    first = body["answers"][0]
    assert {k: first[k] for k in ("reply_id", "agency", "kind", "outcome", "at", "place")} == {
        "reply_id": ex.seen, "agency": "NL-DOUANE", "kind": "sighting", "outcome": "seen",
        "at": "2026-11-02", "place": "NLRTM",
    }  # fmt: skip
    assert first["control_ref"] == "MEDU00000001"
    assert body["answers"][2]["reason"] == "the number was misread on the manifest"
    assert (body["untyped"], body["erased"]) == ([ex.question], [ex.erased])
    reads = audit.entries(db, username="elena", object_kind="message", object_id=ex.seen)
    assert [e.purpose for e in reads] == ["case 17"]

    dutch = client.get(f"/messages/{ex.alert}/feedback", headers=token["anna"]).json()
    assert [a["reply_id"] for a in dutch["answers"]] == [ex.seen, ex.seized]
    hidden = client.get(f"/messages/{ex.alert}/feedback", headers=token["carlos"])
    missing = client.get(f"/messages/{'0' * 32}/feedback", headers=token["carlos"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == {"detail": "no such message"}
    # a message you may see that asks for no result: bad input, 422
    not_an_alert = client.get(f"/messages/{ex.seen}/feedback", headers=token["elena"])
    assert not_an_alert.status_code == 422 and "asks for no result" in not_an_alert.text
    assert client.get(f"/messages/{ex.alert}/feedback").status_code == 401
    paths = client.get("/openapi.json", headers=token["anna"]).json()["paths"]
    assert {"/messages/{message_id}/feedback", "/messages/{message_id}/close"} <= set(paths)
    assert verify(db).ok


def test_feedback_command(db: Database, tmp_path: Path) -> None:
    key = tmp_path / "node.kek"
    ex = _answered(db, generate_kek(key))
    common = ["--kek", str(key), "--database", db.url.render_as_string(hide_password=False)]
    runner = CliRunner(env={"COLUMNS": "250"})

    shown = runner.invoke(app, ["mailbox", "feedback", ex.alert, "--user", "elena",
                                "--purpose", "case 17", *common])  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert f"Feedback on cis_alert {ex.alert}" in shown.output
    rows = [line for line in shown.output.splitlines() if ex.alert not in line and (
        ex.seen in line or ex.seized in line or ex.false_match in line)]  # fmt: skip
    assert len(rows) == 3
    assert "seen" in rows[0] and "NLRTM Rotterdam" in rows[0] and "MEDU00000001" in rows[0]
    assert "seized" in rows[1] and ex.seizure_report in rows[1]
    assert "false_match" in rows[2] and "FR-DNRED" in rows[2]
    assert "seen 1, seized 1, false_match 1" in shown.output
    assert f"replies without feedback: {ex.question}" in shown.output
    assert f"answers erased: {ex.erased}" in shown.output
    (read,) = audit.entries(db, username="elena", object_kind="message", object_id=ex.seized)
    assert read.purpose == "case 17"

    hidden = runner.invoke(app, ["mailbox", "feedback", ex.alert, "--user", "carlos", *common])
    assert hidden.exit_code == 2 and "no such message" in hidden.output
    wrong = runner.invoke(app, ["mailbox", "feedback", ex.seen, "--user", "elena", *common])
    assert wrong.exit_code == 2 and "asks for no result" in wrong.output
