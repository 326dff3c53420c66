"""Hit/no-hit queries (Prüm-style): the asker learns hit/no-hit and the holding agencies only;
the holder releases (forwards) or declines; on both databases, with real users and tokens."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import add_staff
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from redlane import security
from redlane.api import create_app
from redlane.cli import app as cli
from redlane.exchange import hits, mailbox, retention
from redlane.exchange.crypto import Kek, load_kek
from redlane.exchange.model import Entity, Grading, Handling, Message, Tlp
from redlane.security import audit
from redlane.store.database import Database
from redlane.store.schema import hit_messages, hit_queries
from redlane.store.schema import hits as hit_rows

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CONTAINER = "MSCU1234567"
PERSON = "Jan de Vries"
NODE_TOKEN = "hits-node-token-0123456789abcdef"


@pytest.fixture
def kek() -> Kek:
    return Kek(os.urandom(32))


@pytest.fixture
def staff(db: Database) -> Database:
    """Colombian police hold (carlos, elena), Dutch customs ask (anna; piet a targeter who
    reads but sends nothing), Spanish customs are addressed by the police, French customs are
    a third agency; admin runs the node."""
    add_staff(db, [
        ("carlos", "CO-DIJIN", "intelligence officer"),
        ("elena", "CO-DIJIN", "targeter"),
        ("anna", "NL-DOUANE", "intelligence officer"),
        ("piet", "NL-DOUANE", "targeter"),
        ("admin", "NL-DOUANE", "administrator"),
        ("sofia", "ES-SVA", "intelligence officer"),
        ("marie", "FR-DNRED", "intelligence officer"),
    ])  # fmt: skip
    return db


def user(db: Database, name: str) -> security.User:
    return security.get_user(db, name)


def report(subject: str = "Cocaine in MSCU1234567", tlp: Tlp = Tlp.AMBER, **extra: Any) -> Message:
    return Message(
        kind="intelligence_report",
        subject=subject,
        facts="Rip-on bags behind the reefer unit",
        entities=[
            Entity(kind="container", identifier="MSCU 123456 7"),
            Entity(kind="person", identifier=PERSON, data_subject="suspect"),
        ],
        grading=Grading(source="2", intelligence="B", handling="P"),
        handling=Handling(tlp=tlp),
        **extra,
    )


def send(db: Database, kek: Kek, message: Message, to: str = "ES-SVA", **kw: Any) -> str:
    return mailbox.send(db, user(db, "carlos"), message, [to], kek=kek, now=T0, **kw).id


def test_no_hit_when_nobody_holds_it(staff: Database, kek: Kek) -> None:
    send(staff, kek, report())
    asked = hits.ask(staff, user(staff, "anna"), "container:TGHU7654321", "case 12", kek=kek)
    assert not asked.hit and asked.holders == []
    assert hits.my_queries(staff, user(staff, "anna"))[0].holders == {}


def test_hit_names_the_holder_and_nothing_more(staff: Database, kek: Kek) -> None:
    message_id = send(staff, kek, report())
    asked = hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    assert asked.hit and asked.holders == ["CO-DIJIN"]
    token = security.issue_token(staff, "anna").token
    client = TestClient(create_app(staff, NODE_TOKEN, kek=kek))
    answer = client.post(
        "/hits", json={"entity": "container:mscu 123456-7"},
        headers={"Authorization": f"Bearer {token}", "X-Redlane-Purpose": "case 12"},
    )  # fmt: skip
    assert answer.status_code == 201
    body = answer.json()
    assert body["hit"] is True and body["holders"] == ["CO-DIJIN"]
    assert set(body) == {"id", "hit", "holders", "at"}
    text = answer.text
    assert message_id not in text and "Cocaine" not in text and "intelligence_report" not in text
    mine = client.get("/hits/mine", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200
    assert [q["holders"] for q in mine.json()] == [{"CO-DIJIN": "pending"}] * 2
    assert message_id not in mine.text and "Cocaine" not in mine.text


def test_one_hit_per_holder_whatever_the_number_of_messages(staff: Database, kek: Kek) -> None:
    first = send(staff, kek, report())
    second = send(staff, kek, report("Second report"), to="FR-DNRED")
    asked = hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    assert asked.holders == ["CO-DIJIN"]
    (pending,) = hits.pending_hits(staff, user(staff, "carlos"))
    assert sorted(pending.message_ids) == sorted([first, second])
    assert pending.asked_by == "anna" and pending.asker_agency == "NL-DOUANE"
    assert pending.purpose == "case 12" and pending.entity_kind.value == "container"


def test_what_the_asker_sees_already_is_no_hit(staff: Database, kek: Kek) -> None:
    send(staff, kek, report(), to="NL-DOUANE")
    asked = hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    assert not asked.hit
    # the Spanish customs do not see it: a hit for them
    other = hits.ask(staff, user(staff, "sofia"), f"container:{CONTAINER}", "case 7", kek=kek)
    assert other.holders == ["CO-DIJIN"]


@pytest.mark.parametrize("tlp", [Tlp.RED, Tlp.AMBER_STRICT])
def test_red_and_amber_strict_are_never_revealed(staff: Database, kek: Kek, tlp: Tlp) -> None:
    send(staff, kek, report(tlp=tlp))
    asked = hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    assert not asked.hit
    send(staff, kek, report(tlp=Tlp.GREEN))
    again = hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    assert again.hit


def test_no_forward_binds_recipients_not_the_owner(staff: Database, kek: Kek) -> None:
    message = report()
    message_id = send(
        staff, kek, message.model_copy(update={"handling": Handling(no_forward=True)})
    )
    asked = hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    assert asked.holders == ["CO-DIJIN"]
    (pending,) = hits.pending_hits(staff, user(staff, "carlos"))
    done = hits.release(staff, user(staff, "carlos"), pending.id, "case 12 ok", kek=kek)
    assert done.forwarded == [message_id]


def test_restricted_and_erased_messages_are_no_hit(staff: Database, kek: Kek) -> None:
    old = mailbox.send(staff, user(staff, "carlos"), report("Old one"), ["ES-SVA"], kek=kek,
                       now=T0 - timedelta(days=400)).id  # fmt: skip
    retention.run(staff, user(staff, "admin"), now=T0)
    restricted = retention.state(staff, old)
    assert restricted is not None and restricted.restricted_at is not None
    asked = hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    assert not asked.hit
    erased = send(staff, kek, report("Erased one"))
    retention.review(staff, user(staff, "carlos"), erased, "erase", "no longer needed", now=T0)
    asked = hits.ask(staff, user(staff, "anna"), f"person:{PERSON}", "case 12", kek=kek)
    assert not asked.hit
    send(staff, kek, report("Live one"))
    assert hits.ask(staff, user(staff, "anna"), f"person:{PERSON}", "case 12", kek=kek).hit


def test_persons_match_by_keyed_hash_and_no_name_is_stored(staff: Database, kek: Kek) -> None:
    send(staff, kek, report())
    asked = hits.ask(staff, user(staff, "anna"), "person:  jan DE vries ", "case 12", kek=kek)
    assert asked.holders == ["CO-DIJIN"]
    other_key = Kek(os.urandom(32))  # another node's key hashes to another key: no match
    assert not hits.ask(staff, user(staff, "anna"), f"person:{PERSON}", "x", kek=other_key).hit
    with staff.engine.connect() as conn:
        rows = conn.execute(select(hit_queries)).mappings().all()
    assert rows and all(r["entity_key"].startswith("h:") for r in rows)
    for row in rows:
        stored = json.dumps({k: str(v) for k, v in row.items()}).lower()
        assert "vries" not in stored and "jan" not in stored
    (pending,) = hits.pending_hits(staff, user(staff, "carlos"))
    assert "vries" not in json.dumps(pending.to_dict()).lower()


def test_release_forwards_and_then_the_asker_reads(staff: Database, kek: Kek) -> None:
    message_id = send(staff, kek, report())
    anna = user(staff, "anna")
    with pytest.raises(mailbox.NotFound):
        mailbox.read(staff, anna, message_id, "case 12", kek=kek)
    hits.ask(staff, anna, f"container:{CONTAINER}", "case 12", kek=kek)
    (pending,) = hits.pending_hits(staff, user(staff, "carlos"))
    done = hits.release(staff, user(staff, "carlos"), pending.id, "case 12 approved", kek=kek)
    assert done.state == "released" and done.forwarded == [message_id] and not done.refused
    assert mailbox.read(staff, anna, message_id, "case 12", kek=kek).message.subject.startswith(
        "Cocaine"
    )
    assert hits.my_queries(staff, anna)[0].holders == {"CO-DIJIN": "released"}
    assert hits.pending_hits(staff, user(staff, "carlos")) == []
    with staff.engine.connect() as conn:
        assert conn.execute(select(hit_messages.c.outcome)).scalars().all() == ["forwarded"]


def test_a_refused_forward_is_reported(staff: Database, kek: Kek) -> None:
    message_id = send(staff, kek, report())
    hits.ask(staff, user(staff, "anna"), f"container:{CONTAINER}", "case 12", kek=kek)
    (pending,) = hits.pending_hits(staff, user(staff, "carlos"))
    retention.review(staff, user(staff, "carlos"), message_id, "erase", "wrong", now=T0)
    done = hits.release(staff, user(staff, "carlos"), pending.id, "case 12", kek=kek)
    assert done.forwarded == [] and done.refused == {message_id: "erased"}


def test_decline_leaves_it_unreadable_and_a_hit_is_decided_once(staff: Database, kek: Kek) -> None:
    message_id = send(staff, kek, report())
    anna, carlos = user(staff, "anna"), user(staff, "carlos")
    hits.ask(staff, anna, f"container:{CONTAINER}", "case 12", kek=kek)
    (pending,) = hits.pending_hits(staff, carlos)
    hits.decline(staff, carlos, pending.id, "ongoing operation")
    with pytest.raises(mailbox.NotFound):
        mailbox.read(staff, anna, message_id, "case 12", kek=kek)
    assert hits.my_queries(staff, anna)[0].holders == {"CO-DIJIN": "declined"}
    with pytest.raises(hits.AlreadyDecided, match=f"hit {pending.id} is already declined"):
        hits.release(staff, carlos, pending.id, "changed my mind", kek=kek)
    with pytest.raises(mailbox.NotFound):
        mailbox.read(staff, anna, message_id, "case 12", kek=kek)
    with staff.engine.connect() as conn:
        state = conn.execute(select(hit_rows.c.state, hit_rows.c.note)).one()
    assert tuple(state) == ("declined", "ongoing operation")


def test_api_roles_other_agencies_and_second_decisions(staff: Database, kek: Kek) -> None:
    send(staff, kek, report())
    client = TestClient(create_app(staff, NODE_TOKEN, kek=kek))

    def as_(name: str, purpose: str | None = "case 12") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {security.issue_token(staff, name).token}"}
        return headers | ({"X-Redlane-Purpose": purpose} if purpose else {})

    entity = {"entity": f"container:{CONTAINER}"}
    assert client.post("/hits", json=entity, headers=as_("admin")).status_code == 403
    assert client.post("/hits", json=entity, headers=as_("anna")).status_code == 201
    (pending,) = client.get("/hits/pending", headers=as_("carlos")).json()
    assert client.get("/hits/pending", headers=as_("marie")).json() == []
    assert client.get("/hits/pending", headers=as_("admin")).status_code == 403
    hit = pending["id"]
    missing = client.post(f"/hits/{'0' * 32}/release", headers=as_("carlos"))
    for name in ("marie", "anna"):  # not addressed to their agency: as a missing hit
        other = client.post(f"/hits/{hit}/release", headers=as_(name))
        assert (other.status_code, other.json()) == (404, missing.json())
        declined = client.post(f"/hits/{hit}/decline", json={"reason": "x"}, headers=as_(name))
        assert (declined.status_code, declined.json()) == (404, missing.json())
    assert missing.status_code == 404
    # a targeter of the holding agency reads but may not decide
    assert client.post(f"/hits/{hit}/release", headers=as_("elena")).status_code == 403
    released = client.post(f"/hits/{hit}/release", headers=as_("carlos", "case 12 ok"))
    assert released.status_code == 200 and released.json()["to"] == "NL-DOUANE"
    again = client.post(f"/hits/{hit}/decline", json={"reason": "late"}, headers=as_("carlos"))
    assert again.status_code == 409 and hit in again.json()["detail"]
    assert "released" in again.json()["detail"]
    mine = client.get("/hits/mine", headers=as_("piet", None)).json()
    assert [q["holders"] for q in mine] == [{"CO-DIJIN": "released"}]


def test_ask_decide_and_list_are_audited(staff: Database, kek: Kek) -> None:
    send(staff, kek, report())
    send(staff, kek, report("For marie"))
    carlos = user(staff, "carlos")
    asked = hits.ask(staff, user(staff, "anna"), f"person:{PERSON}", "case 12", kek=kek)
    hits.ask(staff, user(staff, "marie"), f"container:{CONTAINER}", "case 9", kek=kek)
    first, second = hits.pending_hits(staff, carlos)
    hits.release(staff, carlos, first.id, "case 12 ok", kek=kek)
    hits.decline(staff, carlos, second.id, "not for now")
    (query,) = audit.entries(staff, object_kind=hits.QUERY_KIND, object_id=asked.id)
    assert (query.action, query.purpose, query.username) == ("search", "case 12", "anna")
    assert query.details["entity"].startswith("person:h:")
    assert "vries" not in json.dumps(query.details).lower()
    decided = audit.entries(staff, object_kind=hits.HIT_KIND)
    assert [(e.action, e.object_id, e.purpose) for e in decided] == [
        ("read", "pending", hits.PENDING_PURPOSE),
        ("forward", first.id, "case 12 ok"),
        ("alter", second.id, "not for now"),
    ]
    forwards = audit.entries(staff, object_kind=mailbox.OBJECT_KIND, username="carlos")
    assert [e.object_id for e in forwards if e.action == "forward"] == first.message_ids


def test_bad_input_is_named(staff: Database, kek: Kek) -> None:
    anna = user(staff, "anna")
    with pytest.raises(mailbox.MailboxError, match="KIND:IDENTIFIER"):
        hits.ask(staff, anna, "MSCU1234567", "case 12", kek=kek)
    with pytest.raises(mailbox.MailboxError, match="purpose"):
        hits.ask(staff, anna, f"container:{CONTAINER}", " ", kek=kek)
    with pytest.raises(mailbox.MailboxError, match="reason"):
        hits.decline(staff, user(staff, "carlos"), "0" * 32, "")
    with pytest.raises(hits.HitNotFound):
        hits.decline(staff, user(staff, "carlos"), "0" * 32, "no such")


def test_command_line(staff: Database, tmp_path: Path) -> None:
    url = staff.url.render_as_string(hide_password=False)
    runner = CliRunner()
    key_file = tmp_path / "node.kek"
    assert runner.invoke(cli, ["mailbox", "keygen", str(key_file)]).exit_code == 0
    message_id = send(staff, load_kek(key_file), report())
    common = ["--database", url, "--kek", str(key_file)]
    asked = runner.invoke(cli, ["hits", "ask", f"container:{CONTAINER}", "--user", "anna",
                                "--purpose", "case 12", *common])  # fmt: skip
    assert asked.exit_code == 0, asked.output
    assert "hit: CO-DIJIN" in asked.output and message_id not in asked.output
    pending = runner.invoke(cli, ["hits", "pending", "--user", "carlos", "--database", url],
                            env={"COLUMNS": "300"})  # fmt: skip
    assert pending.exit_code == 0 and message_id in pending.output
    (hit,) = [h.id for h in hits.pending_hits(staff, user(staff, "carlos"))]
    refused = runner.invoke(cli, ["hits", "decline", hit, "--user", "marie", "--reason", "x",
                                  "--database", url])  # fmt: skip
    assert refused.exit_code == 2 and hits.NO_SUCH_HIT in refused.output
    released = runner.invoke(cli, ["hits", "release", hit, "--user", "carlos", "--purpose",
                                   "case 12 ok", *common])  # fmt: skip
    assert released.exit_code == 0 and "1 forwarded" in released.output, released.output
    again = runner.invoke(cli, ["hits", "decline", hit, "--user", "carlos", "--reason", "late",
                                "--database", url])  # fmt: skip
    assert again.exit_code == 2 and "already released" in again.output
    mine = runner.invoke(cli, ["hits", "mine", "--user", "anna", "--database", url],
                         env={"COLUMNS": "300"})  # fmt: skip
    assert mine.exit_code == 0 and "CO-DIJIN: released" in mine.output
