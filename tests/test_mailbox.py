"""The secure mailbox: send, read, search, thread, forward, reply, export, overdue; encryption
at rest; and the access-control matrix through the API with real users and tokens."""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import _postgres_database
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from redlane import security
from redlane.api import create_app
from redlane.cli import app as cli
from redlane.config import ConfigError
from redlane.exchange import mailbox, signing
from redlane.exchange.crypto import KEK_SETTING, DecryptionError, Kek, generate_kek, load_kek
from redlane.exchange.model import (
    Entity,
    Grading,
    Handling,
    Message,
    ModeNotice,
    Request,
    Tlp,
)
from redlane.security import audit
from redlane.store.database import Database
from redlane.store.schema import (
    agencies,
    deliveries,
    forwards,
    message_entities,
    message_keys,
    messages,
    node_keys,
    receipts,
)

PASSWORD = "correct horse battery"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
GRADING = Grading(source="2", intelligence="B", handling="P")
FACTS = "Cocaine in rip-on bags behind the reefer unit, loaded in Guayaquil"


@pytest.fixture
def kek() -> Kek:
    return Kek(os.urandom(32))


@pytest.fixture
def people(db: Database) -> Database:
    """Colombian police (sender), Dutch and Belgian customs with desks, an unrelated service."""
    security.add_agency(db, "CO-DIJIN", "Dirección de Investigación Criminal", "police", "CO")
    security.add_agency(db, "NL-DOUANE", "Douane Nederland", "customs", "NL")
    security.add_agency(db, "BE-DOUANE", "Douane belge", "customs", "BE")
    security.add_agency(db, "FR-DNRED", "DNRED", "customs", "FR")
    security.add_desk(db, "NL-RTM-TC", "Targeting centre Rotterdam", "NL-DOUANE", "NLRTM")
    security.add_desk(db, "NL-AMS-TC", "Targeting centre Schiphol", "NL-DOUANE", "NLAMS")
    security.add_user(db, "carlos", "CO-DIJIN", PASSWORD, ["intelligence officer"])
    security.add_user(db, "anna", "NL-DOUANE", PASSWORD, ["intelligence officer"])
    security.add_user(db, "piet", "NL-DOUANE", PASSWORD, ["targeter"])
    security.add_user(db, "joost", "NL-DOUANE", PASSWORD, ["targeter"])
    security.add_user(db, "admin", "NL-DOUANE", PASSWORD, ["administrator"])
    security.add_user(db, "luc", "BE-DOUANE", PASSWORD, ["supervisor"])
    security.add_user(db, "marie", "FR-DNRED", PASSWORD, ["intelligence officer"])
    security.add_desk_member(db, "NL-RTM-TC", "piet")
    return db


def user(db: Database, name: str) -> security.User:
    return security.get_user(db, name)


def report(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "kind": "intelligence_report",
        "subject": "Rip-on on MSC EXAMPLE",
        "facts": FACTS,
        "assessment": "The crew is likely involved.",
        "entities": [
            Entity(kind="vessel", identifier="IMO 9319466", name="MSC EXAMPLE"),
            Entity(kind="person", identifier="José Pérez-García", data_subject="suspect"),
            Entity(kind="container", identifier="CSQU 305438 3"),
        ],
        "grading": GRADING,
    }
    fields.update(changes)
    return Message(**fields)


def notice(place: str = "NLRTM") -> Message:
    return Message(
        kind="mode_notice",
        subject="MAR-Info MSC EXAMPLE",
        facts="Suspected rip-on container",
        entities=[Entity(kind="vessel", identifier="9319466")],
        grading=GRADING,
        notice=ModeNotice(mode="MAR", next_place=place, expected_at=T0 + timedelta(days=2),
                          suggested_action="specific_check", valid_until=date(2027, 1, 31)),
    )  # fmt: skip


def request_message(urgency: str = "urgent_direct") -> Message:
    return Message(
        kind="request",
        subject="Owner of MSC EXAMPLE's container",
        facts="Need the consignee of CSQU3054383",
        grading=GRADING,
        request=Request(urgency=urgency, legal_basis="Dir. (EU) 2023/977"),
    )


# --- sending, reading, receipts ----------------------------------------------------------


def test_send_read_inbox_and_receipts(people: Database, kek: Kek) -> None:
    carlos, anna, piet = user(people, "carlos"), user(people, "anna"), user(people, "piet")
    sent = mailbox.send(people, carlos, report(), ["NL-DOUANE", "desk:NL-AMS-TC"], now=T0, kek=kek)
    assert sent.addressees == ["agency:NL-DOUANE", "desk:NL-AMS-TC"] and sent.thread_id == sent.id

    (listed,) = mailbox.inbox(people, anna, kek=kek)
    assert listed.id == sent.id and listed.subject == "Rip-on on MSC EXAMPLE"
    assert listed.sender == "CO-DIJIN" and listed.grading == "2BP" and not listed.opened
    assert mailbox.inbox(people, anna, unread=True, kek=kek)[0].id == sent.id

    opened = mailbox.read(people, piet, sent.id, "case 2026/117", now=T0 + timedelta(hours=1),
                          kek=kek)  # fmt: skip
    assert opened.message.facts == FACTS and opened.message.assessment == report().assessment
    # a recipient sees its own addresses, not the other recipients, nor the author
    assert opened.addressees == ["agency:NL-DOUANE"] and opened.author is None
    assert mailbox.inbox(people, piet, unread=True, kek=kek) == []
    mine = mailbox.read(people, carlos, sent.id, "own report", kek=kek)
    assert mine.addressees == ["agency:NL-DOUANE", "desk:NL-AMS-TC"] and mine.author == "carlos"

    entry = audit.entries(people, object_kind="message", object_id=sent.id, username="piet")[-1]
    assert entry.action == "read" and entry.purpose == "case 2026/117"
    # listing shows subjects, which may name people: each listing is audited with what it showed
    (listing,) = [
        e for e in audit.entries(people, username="anna") if e.purpose == "inbox listing"
    ][:1]
    assert listing.action == "read" and listing.details["listed"] == [sent.id]

    kinds = {(r.address, r.user, r.kind) for r in mailbox.receipts_of(people, carlos, sent.id)}
    assert kinds == {
        ("agency:NL-DOUANE", None, "delivered"),
        ("desk:NL-AMS-TC", None, "delivered"),
        ("agency:NL-DOUANE", "piet", "opened"),
    }
    mailbox.mark_actioned(people, anna, sent.id)
    theirs = mailbox.receipts_of(people, anna, sent.id)
    assert ("anna", "actioned") in {(r.user, r.kind) for r in theirs}
    # a recipient sees its own agency's deliveries and receipts only
    assert {r.address for r in theirs} == {"agency:NL-DOUANE", "desk:NL-AMS-TC"}

    assert [e.id for e in mailbox.inbox(people, carlos, box="sent", kek=kek)] == [sent.id]
    assert mailbox.inbox(people, carlos, kek=kek) == []
    with pytest.raises(mailbox.NotFound):
        mailbox.read(people, user(people, "marie"), sent.id, "curious", kek=kek)
    with pytest.raises(mailbox.NotFound):  # administrators read no operational data
        mailbox.read(people, user(people, "admin"), sent.id, "curious", kek=kek)


def test_inbox_pages_newest_first_and_filters(people: Database, kek: Kek) -> None:
    carlos, anna = user(people, "carlos"), user(people, "anna")
    ids = [
        mailbox.send(people, carlos, report(subject=f"report {i}"), ["NL-DOUANE"],
                     now=T0 + timedelta(minutes=i), kek=kek).id
        for i in range(7)
    ]  # fmt: skip
    request = mailbox.send(people, carlos, request_message(), ["NL-DOUANE"],
                           now=T0 + timedelta(hours=1), kek=kek)  # fmt: skip
    first = mailbox.inbox(people, anna, limit=3, kek=kek)
    second = mailbox.inbox(people, anna, limit=3, offset=3, kek=kek)
    assert [e.id for e in first + second] == [request.id, *ids[::-1][:5]]
    assert [e.id for e in mailbox.inbox(people, anna, kind="request", kek=kek)] == [request.id]
    since = mailbox.inbox(people, anna, since=T0 + timedelta(minutes=5), kek=kek)
    assert {e.id for e in since} == {request.id, ids[5], ids[6]}
    assert mailbox.inbox(people, anna, sender="BE-DOUANE", kek=kek) == []
    with pytest.raises(mailbox.MailboxError, match="kind: 'memo'"):
        mailbox.inbox(people, anna, kind="memo", kek=kek)


def test_mode_notices_go_to_the_services_of_the_next_place(people: Database, kek: Kek) -> None:
    carlos = user(people, "carlos")
    with pytest.raises(mailbox.MailboxError, match="no service is routed for NLRTM"):
        mailbox.send(people, carlos, notice(), kek=kek)
    assert mailbox.add_route(people, "nlrtm", "NL-RTM-TC") == "NLRTM -> desk:NL-RTM-TC"
    assert mailbox.list_routes(people) == [("NLRTM", "desk:NL-RTM-TC")]
    sent = mailbox.send(people, carlos, notice(), ["BE-DOUANE"], kek=kek)
    assert sent.addressees == ["agency:BE-DOUANE", "desk:NL-RTM-TC"]
    assert mailbox.read(people, user(people, "piet"), sent.id, "arrival", kek=kek)
    for outsider in ("joost", "anna"):  # same agency, not on the desk
        with pytest.raises(mailbox.NotFound):
            mailbox.read(people, user(people, outsider), sent.id, "arrival", kek=kek)
    with pytest.raises(mailbox.MailboxError, match="place: 'XXXXX'"):
        mailbox.add_route(people, "XXXXX", "NL-DOUANE")


def test_a_sent_notice_is_on_the_watchlist_from_its_sending(people: Database, kek: Kek) -> None:
    from redlane.exchange.watchlist import active_entries

    carlos = user(people, "carlos")
    with pytest.raises(mailbox.MailboxError, match="no service is routed"):
        mailbox.send(people, carlos, notice(), kek=kek, now=T0)
    assert active_entries(people, T0.date()) == []  # a refused send leaves nothing behind
    sent = mailbox.send(people, carlos, notice(), ["BE-DOUANE"], kek=kek, now=T0)
    (entry,) = active_entries(people, T0.date())
    assert (entry.message_id, entry.key, entry.suggested_action) == (
        sent.id, "9319466", "specific_check",
    )  # fmt: skip
    assert active_entries(people, T0.date() - timedelta(days=1)) == []
    assert active_entries(people, date(2027, 2, 1)) == []  # past its valid_until
    mailbox.send(people, carlos, request_message(), ["BE-DOUANE"], kek=kek, now=T0)
    assert len(active_entries(people, T0.date())) == 1  # a request watches nothing


def test_requests_are_due_overdue_and_answered_in_their_thread(people: Database, kek: Kek) -> None:
    carlos, anna, piet = user(people, "carlos"), user(people, "anna"), user(people, "piet")
    direct = mailbox.send(people, carlos, request_message(), ["NL-DOUANE"], now=T0, kek=kek)
    normal = mailbox.send(people, carlos, request_message("normal"), ["BE-DOUANE"], now=T0,
                          kek=kek)  # fmt: skip
    assert direct.due_at == T0 + timedelta(hours=8) and normal.due_at == T0 + timedelta(days=7)
    assert mailbox.overdue(people, anna, T0 + timedelta(hours=7), kek=kek) == []
    late = mailbox.overdue(people, anna, T0 + timedelta(hours=9), kek=kek)
    assert [e.id for e in late] == [direct.id]
    assert mailbox.overdue(people, user(people, "luc"), T0 + timedelta(days=2), kek=kek) == []

    answer = Message(kind="reply", subject="Consignee", facts="Fresh Import BV, Rotterdam",
                     in_reply_to=direct.id, grading=GRADING)  # fmt: skip
    with pytest.raises(security.Forbidden):  # a targeter reads but does not send
        mailbox.reply(people, piet, direct.id, answer, kek=kek)
    replied = mailbox.reply(people, anna, direct.id, answer, now=T0 + timedelta(hours=10),
                            kek=kek)  # fmt: skip
    assert replied.thread_id == direct.id and replied.addressees == ["agency:CO-DIJIN"]
    assert mailbox.overdue(people, anna, T0 + timedelta(hours=11), kek=kek) == []
    both = [direct.id, replied.id]
    assert [e.id for e in mailbox.thread(people, carlos, direct.id, kek=kek)] == both
    assert [e.id for e in mailbox.thread(people, anna, direct.id, kek=kek)] == both
    with pytest.raises(mailbox.NotFound):
        mailbox.thread(people, user(people, "luc"), direct.id, kek=kek)
    kinds = {(r.user, r.kind) for r in mailbox.receipts_of(people, carlos, direct.id)}
    assert ("anna", "actioned") in kinds
    with pytest.raises(mailbox.MailboxError, match="in_reply_to"):
        mailbox.send(people, user(people, "marie"), answer, ["CO-DIJIN"], kek=kek)


def test_search_by_entity_kind_time_and_sender(people: Database, kek: Kek) -> None:
    carlos, anna, marie = user(people, "carlos"), user(people, "anna"), user(people, "marie")
    hit = mailbox.send(people, carlos, report(), ["NL-DOUANE"], now=T0, kek=kek)
    other = report(entities=[Entity(kind="vessel", identifier="9000001")])
    miss = mailbox.send(people, carlos, other, ["NL-DOUANE"], now=T0, kek=kek)
    hidden = mailbox.send(people, marie, report(), ["FR-DNRED"], now=T0, kek=kek)
    for entity in ("vessel:9319466", "vessel:imo 9319466", "person:jose perez garcia",
                   "person:JOSÉ PÉREZ GARCÍA", "container:CSQU3054383"):  # fmt: skip
        found = mailbox.search(people, anna, "case 2026/117", entity=entity, kek=kek)
        assert [e.id for e in found] == [hit.id], entity
    assert mailbox.search(people, anna, "x", entity="person:Jose Perez", kek=kek) == []
    assert {e.id for e in mailbox.search(people, anna, "x", sender="CO-DIJIN", kek=kek)} == {
        hit.id,
        miss.id,
    }
    assert mailbox.search(people, anna, "x", kind="request", kek=kek) == []
    assert mailbox.search(people, anna, "x", since=T0 + timedelta(seconds=1), kek=kek) == []
    assert hidden.id not in {e.id for e in mailbox.search(people, anna, "x", kek=kek)}
    entry = audit.entries(people, object_kind="message", username="anna", limit=1)[0]
    assert entry.action == "search" and entry.details["results"] == [hit.id]
    assert entry.details["criteria"]["entity"] == "vessel:9319466"
    # persons are indexed as keyed hashes, conveyances and containers as they are
    with people.engine.connect() as conn:
        query = select(message_entities.c.kind, message_entities.c.key)
        keys = dict(conn.execute(query.where(message_entities.c.message_id == hit.id)).all())
    assert keys["vessel"] == "9319466" and keys["container"] == "CSQU3054383"
    assert keys["person"].startswith("h:") and "perez" not in keys["person"].lower()
    with pytest.raises(mailbox.MailboxError, match="entity: 'ship:1'"):
        mailbox.search(people, anna, "x", entity="ship:1", kek=kek)
    with pytest.raises(mailbox.MailboxError, match="purpose"):
        mailbox.search(people, anna, " ", entity="vessel:1", kek=kek)


def test_each_send_and_read_commits_with_its_audit_entry_under_concurrency(
    people: Database, kek: Kek
) -> None:
    """Sends and reads append their audit entry in their own transaction; threads sending,
    reading and listing at once must leave one entry per act and an unbroken chain."""
    carlos, anna = user(people, "carlos"), user(people, "anna")
    first = mailbox.send(people, carlos, report(), ["NL-DOUANE"], kek=kek)
    sent: list[str] = []
    errors: list[BaseException] = []

    def sender(n: int) -> None:
        try:
            for i in range(8):
                message = report(subject=f"Report {n}-{i}")
                sent.append(mailbox.send(people, carlos, message, ["NL-DOUANE"], kek=kek).id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(8):
                mailbox.read(people, anna, first.id, "case 2026/117", kek=kek)
                mailbox.inbox(people, anna, kek=kek)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    collected = [e.object_id for e in audit.entries(people, username="carlos")
                 if e.action == "collect"]  # fmt: skip
    assert sorted(collected) == sorted([first.id, *sent]) and len(sent) == 24
    reads = audit.entries(people, object_id=first.id, username="anna")
    assert sum(e.action == "read" and e.purpose == "case 2026/117" for e in reads) == 16
    assert audit.verify(people).ok


# --- forward and export under the sender's handling --------------------------------------


@pytest.mark.parametrize(
    ("handling", "forwarder", "to", "rule"),
    [
        (Handling(tlp=Tlp.GREEN), "anna", "FR-DNRED", "tlp:green"),
        (Handling(tlp=Tlp.CLEAR), "anna", "FR-DNRED", "tlp:clear"),
        (Handling(tlp=Tlp.AMBER), "anna", "desk:NL-RTM-TC", "tlp:amber"),
        (Handling(tlp=Tlp.AMBER), "anna", "BE-DOUANE", "tlp:amber"),
        (Handling(tlp=Tlp.AMBER), "anna", "FR-DNRED", None),
        (Handling(tlp=Tlp.AMBER_STRICT), "anna", "NL-AMS-TC", "tlp:amber+strict"),
        (Handling(tlp=Tlp.AMBER_STRICT), "anna", "BE-DOUANE", None),
        (Handling(tlp=Tlp.RED), "anna", "NL-AMS-TC", None),
        (Handling(tlp=Tlp.GREEN, no_forward=True), "anna", "NL-AMS-TC", None),
        (Handling(tlp=Tlp.RED, no_forward=True), "carlos", "FR-DNRED", "originator"),
    ],
)
def test_forward_follows_the_senders_handling(
    people: Database, kek: Kek, handling: Handling, forwarder: str, to: str, rule: str | None
) -> None:
    carlos = user(people, "carlos")
    sent = mailbox.send(people, carlos, report(handling=handling), ["NL-DOUANE", "BE-DOUANE"],
                        kek=kek)  # fmt: skip
    who = user(people, forwarder)
    if rule is None:
        with pytest.raises(mailbox.Refused) as refused:
            mailbox.forward(people, who, sent.id, [to], "share with the port", kek=kek)
        assert refused.value.decision.rule in {"tlp:amber", "tlp:amber+strict", "tlp:red",
                                               "no_forward"}  # fmt: skip
    else:
        assert mailbox.forward(people, who, sent.id, [to], "share", kek=kek).rules == [rule]
    with people.engine.connect() as conn:
        (row,) = conn.execute(select(forwards).where(forwards.c.message_id == sent.id)).all()
        delivered = len(
            conn.execute(select(deliveries).where(deliveries.c.message_id == sent.id)).all()
        )
    assert row.allowed == (rule is not None) and row.by_user == forwarder
    assert delivered == (3 if rule is not None and to not in ("BE-DOUANE",) else 2)
    entry = audit.entries(people, object_kind="message", object_id=sent.id, username=forwarder)
    assert entry[-1].action == "forward" and ("refused" in entry[-1].details) == (rule is None)


def test_forward_is_all_or_nothing_and_permitted_forwards_give_access(
    people: Database, kek: Kek
) -> None:
    carlos, anna, marie = user(people, "carlos"), user(people, "anna"), user(people, "marie")
    sent = mailbox.send(people, carlos, report(), ["NL-DOUANE"], kek=kek)
    with pytest.raises(mailbox.Refused):
        mailbox.forward(people, anna, sent.id, ["NL-RTM-TC", "FR-DNRED"], "share", kek=kek)
    with pytest.raises(mailbox.NotFound):
        mailbox.read(people, marie, sent.id, "x", kek=kek)
    with people.engine.connect() as conn:
        held = conn.execute(select(deliveries.c.address).where(deliveries.c.message_id == sent.id))
        assert len(held.all()) == 1
    mailbox.forward(people, carlos, sent.id, ["FR-DNRED"], "joint operation", kek=kek)
    assert mailbox.read(people, marie, sent.id, "joint operation", kek=kek).message.facts == FACTS
    with pytest.raises(security.Forbidden):
        mailbox.forward(people, user(people, "piet"), sent.id, ["NL-AMS-TC"], "share", kek=kek)
    with pytest.raises(mailbox.MailboxError, match="no agency or desk 'NOWHERE'"):
        mailbox.forward(people, anna, sent.id, ["NOWHERE"], "share", kek=kek)


@pytest.mark.parametrize(
    ("handling", "exporter", "allowed"),
    [
        (Handling(tlp=Tlp.AMBER), "anna", True),
        (Handling(tlp=Tlp.AMBER_STRICT), "anna", True),
        (Handling(tlp=Tlp.GREEN, no_export=True), "anna", False),
        (Handling(tlp=Tlp.RED), "anna", False),
        (Handling(tlp=Tlp.RED, no_export=True), "carlos", True),
    ],
)
def test_export_follows_the_senders_handling(
    people: Database, kek: Kek, handling: Handling, exporter: str, allowed: bool
) -> None:
    sent = mailbox.send(people, user(people, "carlos"), report(handling=handling),
                        ["NL-DOUANE"], kek=kek)  # fmt: skip
    who = user(people, exporter)
    if allowed:
        document = mailbox.export(people, who, sent.id, "court file 2026/3", kek=kek)
        assert document["message"]["facts"] == FACTS
        assert document["marking"] == f"TLP:{handling.tlp.value.upper()}"
    else:
        with pytest.raises(mailbox.Refused):
            mailbox.export(people, who, sent.id, "court file 2026/3", kek=kek)
    entry = audit.entries(people, object_kind="message", object_id=sent.id, username=exporter)
    assert entry[-1].action == "export" and entry[-1].details["allowed"] is allowed
    with pytest.raises(security.Forbidden):
        mailbox.export(people, user(people, "piet"), sent.id, "x", kek=kek)


# --- encryption at rest ------------------------------------------------------------------


def test_bodies_are_encrypted_at_rest_and_bound_to_their_message(
    sqlite_db: Database, kek: Kek
) -> None:
    db = sqlite_db
    security.add_agency(db, "CO-DIJIN", "DIJIN", "police", "CO")
    security.add_agency(db, "NL-DOUANE", "Douane", "customs", "NL")
    carlos = security.add_user(db, "carlos", "CO-DIJIN", PASSWORD, ["intelligence officer"])
    anna = security.add_user(db, "anna", "NL-DOUANE", PASSWORD, ["intelligence officer"])
    first = mailbox.send(db, carlos, report(), ["NL-DOUANE"], kek=kek)
    second = mailbox.send(db, carlos, report(facts="Another fact"), ["NL-DOUANE"], kek=kek)
    db.dispose()
    assert db.url.database is not None
    stored = b"".join(
        Path(db.url.database + suffix).read_bytes()
        for suffix in ("", "-wal")
        if Path(db.url.database + suffix).exists()
    )
    for secret in (FACTS, "Rip-on on MSC EXAMPLE", "likely involved", "Pérez", "Perez"):
        assert secret.encode() not in stored and secret.encode("utf-16-le") not in stored

    wrong = Kek(os.urandom(32))
    with pytest.raises(ConfigError, match=f"{KEK_SETTING}: message {first.id} was sealed under"):
        mailbox.read(db, anna, first.id, "x", kek=wrong)
    mailbox.check_kek(db, kek)
    with pytest.raises(ConfigError, match=f"{KEK_SETTING}: the stored messages are sealed"):
        mailbox.check_kek(db, wrong)  # what `redlane serve` checks at start-up

    with db.engine.begin() as conn:  # a body copied onto another message does not open
        body = conn.execute(select(messages.c.body).where(messages.c.id == first.id)).scalar()
        conn.execute(update(messages).where(messages.c.id == second.id).values(body=body))
    with pytest.raises(DecryptionError):
        mailbox.read(db, anna, second.id, "x", kek=kek)

    with db.engine.begin() as conn:  # destroying the key erases the message
        conn.execute(delete(message_keys).where(message_keys.c.message_id == first.id))
    with pytest.raises(mailbox.Erased):
        mailbox.read(db, anna, first.id, "x", kek=kek)
    assert [e.subject for e in mailbox.inbox(db, anna, kek=kek)] == [
        "Rip-on on MSC EXAMPLE",
        "(erased)",
    ]


# --- signatures: the label and the addressees as sent -----------------------------------


def _tamper(db: Database, table: Any, where: Any, **values: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(table).where(where).values(**values))


def test_a_message_changed_in_the_store_is_refused_and_named(
    people: Database, kek: Kek, tmp_path: Path
) -> None:
    carlos, anna, marie = user(people, "carlos"), user(people, "anna"), user(people, "marie")
    amber = mailbox.send(people, carlos, report(), ["NL-DOUANE"], kek=kek)
    other = mailbox.send(people, carlos, report(facts="Another fact"), ["NL-DOUANE"], kek=kek)
    assert mailbox.read(people, anna, amber.id, "case 2026/117", kek=kek).message.facts == FACTS
    assert mailbox.verify_signatures(people, security.Service("cli:root"), kek=kek).ok

    # The label is inside the signature: TLP:AMBER turned TLP:CLEAR no longer matches, and
    # the mailbox neither shows nor passes on the message under conditions never set.
    _tamper(people, messages, messages.c.id == amber.id, tlp="clear", no_export=False)
    signature_broken = f"message {amber.id}: its signature does not match its content"
    with pytest.raises(mailbox.Tampered, match=signature_broken):
        mailbox.read(people, anna, amber.id, "case 2026/117", kek=kek)
    with pytest.raises(mailbox.Tampered, match=signature_broken):
        mailbox.forward(people, anna, amber.id, ["FR-DNRED"], "wider circle", kek=kek)
    with pytest.raises(mailbox.Tampered, match=signature_broken):
        mailbox.export(people, anna, amber.id, "court file", kek=kek)
    _tamper(people, messages, messages.c.id == amber.id, tlp="amber")
    assert mailbox.read(people, anna, amber.id, "case 2026/117", kek=kek).message.facts == FACTS

    # an addressee slipped into the deliveries (not by a forward) is caught the same way
    with people.engine.begin() as conn:
        fr = conn.execute(select(agencies.c.id).where(agencies.c.code == "FR-DNRED")).scalar_one()
        conn.execute(deliveries.insert().values(message_id=other.id, address=f"a{fr}",
                                                agency_id=fr, delivered_at=T0))  # fmt: skip
    with pytest.raises(mailbox.Tampered, match=f"message {other.id}: its signature"):
        mailbox.read(people, marie, other.id, "curious", kek=kek)

    report_now = mailbox.verify_signatures(people, security.Service("cli:root"), kek=kek)
    assert report_now.problems == [f"{signature_broken}: it was changed after it was signed"
                                   .replace(amber.id, other.id)]  # fmt: skip
    assert (report_now.messages, report_now.erased) == (2, 0)
    assert audit.entries(people, object_kind="message", object_id="all")[-1].action == "admin"

    url = people.engine.url.render_as_string(hide_password=False)
    key_file = tmp_path / "node.kek"
    key_file.write_bytes(kek.secret)
    key_file.chmod(0o600)
    checked = CliRunner().invoke(cli, ["mailbox", "verify", "--database", url, "--kek",
                                       str(key_file)])  # fmt: skip
    assert checked.exit_code == 1 and f"message {other.id}" in checked.output
    assert "2 messages and 1 receipts checked" in " ".join(checked.output.split())


def test_receipts_are_signed_and_keys_must_be_registered(
    people: Database, kek: Kek, tmp_path: Path
) -> None:
    carlos, anna = user(people, "carlos"), user(people, "anna")
    sent = mailbox.send(people, carlos, report(), ["NL-DOUANE"], kek=kek)
    mailbox.read(people, anna, sent.id, "case 2026/117", kek=kek)
    mailbox.mark_actioned(people, anna, sent.id)
    signed = [r for r in mailbox.receipts_of(people, carlos, sent.id) if r.user == "anna"]
    assert [(r.kind, r.signed) for r in signed] == [("opened", True), ("actioned", True)]

    _tamper(people, receipts, receipts.c.kind == "opened", at=T0 - timedelta(days=1))
    after = {r.kind: r.signed for r in mailbox.receipts_of(people, carlos, sent.id) if r.user}
    assert after == {"opened": False, "actioned": True}
    problems = mailbox.verify_signatures(people, security.Service("cli:root"), kek=kek).problems
    assert problems == [f"receipt opened of anna on message {sent.id}: its signature does not "
                        "match its content: it was changed after it was signed"]  # fmt: skip

    # A message re-signed by a key someone put in node_keys behind the audit log's back
    rogue = security.generate_node_key(tmp_path / "rogue.key")
    with people.engine.begin() as conn:
        conn.execute(
            node_keys.insert().values(
                fingerprint=signing.key_id(rogue.public_key),
                public_key=rogue.public_key,
                registered_at=T0,
            )
        )
    problems = mailbox.verify_signatures(people, security.Service("cli:root"), kek=kek).problems
    assert f"node key {signing.key_id(rogue.public_key)[:16]}…: no audit entry registers it" in (
        problems
    )
    # and a signature naming no registered key at all
    _tamper(people, messages, messages.c.id == sent.id, signed_by="0" * 64)
    with pytest.raises(mailbox.Tampered, match="signed by key 0000000000000000…, which is not"):
        mailbox.read(people, anna, sent.id, "case 2026/117", kek=kek)


def test_sending_needs_the_node_signing_key(
    people: Database, kek: Kek, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDLANE_NODE_KEY_FILE")
    with pytest.raises(ConfigError, match="REDLANE_NODE_KEY_FILE is not set"):
        mailbox.send(people, user(people, "carlos"), report(), ["NL-DOUANE"], kek=kek)
    assert mailbox.inbox(people, user(people, "anna"), kek=kek) == []


def test_the_key_encryption_key_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEK_SETTING, raising=False)
    with pytest.raises(ConfigError, match=f"{KEK_SETTING} is not set"):
        load_kek()
    with pytest.raises(ConfigError, match="cannot read the key"):
        load_kek(tmp_path / "missing.kek")
    made = generate_kek(tmp_path / "node.kek")
    assert (tmp_path / "node.kek").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv(KEK_SETTING, str(tmp_path / "node.kek"))
    assert load_kek().id == made.id
    with pytest.raises(ConfigError, match="never overwritten"):
        generate_kek(tmp_path / "node.kek")
    short = tmp_path / "short.kek"
    short.write_bytes(b"x" * 16)
    short.chmod(0o600)
    with pytest.raises(ConfigError, match=f"{KEK_SETTING}='.*short.kek': the key is 16 bytes"):
        load_kek(short)
    short.chmod(0o644)
    with pytest.raises(ConfigError, match="open to other users"):
        load_kek(short)


def test_bad_input_is_named(people: Database, kek: Kek) -> None:
    carlos = user(people, "carlos")
    with pytest.raises(mailbox.MailboxError, match="to: a message needs at least one addressee"):
        mailbox.send(people, carlos, report(), [], kek=kek)
    with pytest.raises(mailbox.MailboxError, match="to: no agency or desk 'XX-NONE'"):
        mailbox.send(people, carlos, report(), ["XX-NONE"], kek=kek)
    with pytest.raises(mailbox.MailboxError, match="desk: you are not a member of a desk NL-RTM"):
        mailbox.send(people, carlos, report(), ["NL-DOUANE"], desk="NL-RTM-TC", kek=kek)
    with pytest.raises(mailbox.MailboxError, match="purpose"):
        mailbox.read(people, carlos, "0" * 32, "", kek=kek)
    with pytest.raises(mailbox.NotFound):
        mailbox.read(people, carlos, "not an id", "x", kek=kek)
    with pytest.raises(security.Forbidden, match="send_messages"):
        mailbox.send(people, user(people, "piet"), report(), ["CO-DIJIN"], kek=kek)


def test_command_line(people: Database, tmp_path: Path) -> None:
    url = people.url.render_as_string(hide_password=False)
    runner = CliRunner()
    key = tmp_path / "node.kek"
    assert runner.invoke(cli, ["mailbox", "keygen", str(key)]).exit_code == 0
    common = ["--database", url, "--kek", str(key)]
    added = runner.invoke(cli, ["mailbox", "route", "add", "NLRTM", "--to", "NL-DOUANE",
                                "--database", url])  # fmt: skip
    assert added.exit_code == 0 and "NLRTM -> agency:NL-DOUANE" in added.output
    (tmp_path / "notice.json").write_text(notice().model_dump_json())
    sent = runner.invoke(cli, ["mailbox", "send", str(tmp_path / "notice.json"), "--user",
                               "carlos", *common])  # fmt: skip
    assert sent.exit_code == 0, sent.output
    message_id = sent.output.split()[1]
    listed = runner.invoke(cli, ["mailbox", "inbox", "--user", "anna", *common])
    assert listed.exit_code == 0 and message_id[:12] in listed.output
    read = runner.invoke(cli, ["mailbox", "read", message_id, "--user", "anna", "--purpose",
                               "arrival check", *common])  # fmt: skip
    assert read.exit_code == 0 and json.loads(read.output)["message"]["facts"]
    refused = runner.invoke(cli, ["mailbox", "read", message_id, "--user", "marie", "--purpose",
                                  "x", *common])  # fmt: skip
    assert refused.exit_code == 2 and "no such message" in refused.output
    found = runner.invoke(cli, ["mailbox", "search", "--entity", "vessel:9319466", "--user",
                                "anna", "--purpose", "x", *common])  # fmt: skip
    assert found.exit_code == 0 and message_id[:12] in found.output
    wrong = runner.invoke(cli, ["mailbox", "inbox", "--user", "anna", "--database", url, "--kek",
                                str(tmp_path / "none.kek")])  # fmt: skip
    assert wrong.exit_code == 2 and KEK_SETTING in wrong.output
    env = {"REDLANE_API_TOKEN": "a-long-enough-node-token-0123456789", KEK_SETTING: ""}
    serve = runner.invoke(cli, ["serve", "--database", url], env=env)
    assert serve.exit_code == 2 and f"{KEK_SETTING} is not set" in serve.output
    env |= {KEK_SETTING: str(tmp_path / "node.kek"), "REDLANE_NODE_KEY_FILE": ""}
    serve = runner.invoke(cli, ["serve", "--database", url], env=env)
    assert serve.exit_code == 2 and "REDLANE_NODE_KEY_FILE is not set" in serve.output


# --- the access-control matrix -----------------------------------------------------------

ROLES = ["targeter", "officer", "intelligence_officer", "coordinator", "supervisor",
         "administrator"]  # fmt: skip
RELATIONS = [
    "sender",  # a user of the sending agency (not the author)
    "addressed_agency",
    "addressed_desk_member",
    "desk_non_member",  # a user of an agency whose desk (only) was addressed
    "forwarded_to",  # the sender forwarded it to the user's agency
    "refused_forward",  # a recipient tried to forward it to the user's agency and was refused
    "unrelated_same_country",
    "other_country",
]
ENDPOINTS = ["read", "list", "search", "thread", "receipts", "attachment", "export",
             "forward_own", "forward_other"]  # fmt: skip
VARIANTS = {
    "amber": Handling(tlp=Tlp.AMBER),
    "amber_strict": Handling(tlp=Tlp.AMBER_STRICT),
    "red_no_export": Handling(tlp=Tlp.RED, no_export=True),
    "green_no_forward": Handling(tlp=Tlp.GREEN, no_forward=True),
}
#: The agency of each relation (code, country) and the desks in play.
AGENCY_OF = {
    "sender": ("CO-DIJIN", "CO"),
    "addressed_agency": ("NL-DOUANE", "NL"),
    "addressed_desk_member": ("BE-DOUANE", "BE"),
    "desk_non_member": ("BE-DOUANE", "BE"),
    "forwarded_to": ("ES-AEAT", "ES"),
    "refused_forward": ("FR-DNRED", "FR"),
    "unrelated_same_country": ("NL-FIOD", "NL"),
    "other_country": ("US-DEA", "US"),
}
ADDRESSED_DESK = "BE-ANR-TC"
#: Agencies that hold none of the messages: the sender forwards to the first, others to the
#: second (which therefore never comes to hold one).
SENDERS_SINK, SINK = "DE-ZOLL", "DE-BKA"


#: A refusal on a message the caller may see: 404 with the rule named.
REFUSED = -404


def oracle(role: str, relation: str, endpoint: str, handling: Handling) -> int:
    """What the rules say, written apart from the code: the HTTP status expected (for list and
    search, 200 when the message is listed, 404 when it is absent). A message the caller may
    not see is 404 with the body of a missing id; a refusal on a message they may see is
    REFUSED: 404 too, naming the rule."""
    reads = role != "administrator"
    sends = role in {"intelligence_officer", "coordinator", "supervisor"}
    exports = sends
    holds = relation in {"sender", "addressed_agency", "addressed_desk_member", "forwarded_to"}
    if not (reads and holds):
        return 404
    originator = relation == "sender"
    if endpoint in {"read", "list", "search", "thread", "receipts", "attachment"}:
        return 200
    if endpoint == "export":
        if not exports:
            return REFUSED
        if originator:
            return 200
        return REFUSED if handling.no_export or handling.tlp == Tlp.RED else 200
    if not sends:
        return REFUSED
    if originator:
        return 200
    if handling.no_forward or handling.tlp == Tlp.RED:
        return REFUSED
    if endpoint == "forward_own":  # to a desk of the forwarder's own agency
        return 200
    # to an agency that does not hold the message
    return 200 if handling.tlp in (Tlp.GREEN, Tlp.CLEAR) else REFUSED


@dataclass
class World:
    db: Database
    client: TestClient
    tokens: dict[tuple[str, str], str]
    messages: dict[str, str]
    """Variant: message id."""
    entities: dict[str, str]
    """Message id: the entity to search it by."""


def _build_world(db: Database) -> World:
    db.upgrade()
    kek = Kek(os.urandom(32))
    agencies = set(AGENCY_OF.values()) | {(SINK, "DE"), (SENDERS_SINK, "DE")}
    for code, country in sorted(agencies):
        security.add_agency(db, code, f"{code} service", "customs", country)
        security.add_desk(db, f"{code}-OPS", f"{code} operations", code)
    security.add_desk(db, ADDRESSED_DESK, "Antwerp targeting", "BE-DOUANE", "BEANR")
    tokens = {}
    for role, relation in itertools.product(ROLES, RELATIONS):
        name = f"{relation.replace('_', '-')}.{role.replace('_', '-')}"
        security.add_user(db, name, AGENCY_OF[relation][0], PASSWORD, [role])
        if relation == "addressed_desk_member":
            security.add_desk_member(db, ADDRESSED_DESK, name)
        tokens[(role, relation)] = security.issue_token(db, name).token
    author = security.add_user(db, "author", "CO-DIJIN", PASSWORD, ["intelligence_officer"])
    clerk = security.add_user(db, "clerk", "NL-DOUANE", PASSWORD, ["intelligence_officer"])
    ids, entities = {}, {}
    for n, (variant, handling) in enumerate(VARIANTS.items()):
        message = report(handling=handling,
                         entities=[Entity(kind="vessel", identifier=f"900000{n}")])  # fmt: skip
        files = [mailbox.Attachment("bl.pdf", "application/pdf", b"%PDF")]
        sent = mailbox.send(db, author, message, ["NL-DOUANE", f"desk:{ADDRESSED_DESK}"], kek=kek,
                            attachments=files)  # fmt: skip
        mailbox.forward(db, author, sent.id, ["ES-AEAT"], "joint operation", kek=kek)
        with pytest.raises(mailbox.Refused):
            mailbox.forward(db, clerk, sent.id, ["FR-DNRED"], "wider circle", kek=kek)
        ids[variant] = sent.id
        entities[sent.id] = f"vessel:900000{n}"
    client = TestClient(create_app(db, "matrix-node-token-0123456789", kek=kek))
    return World(db, client, tokens, ids, entities)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'redlane.db'}")
        yield _build_world(db)
        db.dispose()
    else:
        for db in _postgres_database():
            yield _build_world(db)


def _call(world: World, role: str, relation: str, endpoint: str, message_id: str) -> Any:
    """One request of `endpoint` on `message_id` as the matrix user (role, relation)."""
    headers = {
        "Authorization": f"Bearer {world.tokens[(role, relation)]}",
        "X-Redlane-Purpose": "matrix",
    }
    client = world.client
    if endpoint == "read":
        return client.get(f"/messages/{message_id}", headers=headers)
    if endpoint == "list":
        return client.get("/messages", params={"box": "all", "limit": 500}, headers=headers)
    if endpoint == "search":
        params = {"entity": world.entities[message_id]}
        return client.get("/messages/search", params=params, headers=headers)
    if endpoint == "thread":
        return client.get(f"/messages/threads/{message_id}", headers=headers)
    if endpoint == "receipts":
        return client.get(f"/messages/{message_id}/receipts", headers=headers)
    if endpoint == "attachment":
        return client.get(f"/messages/{message_id}/attachments/1", headers=headers)
    if endpoint == "export":
        return client.get(f"/messages/{message_id}/export", headers=headers)
    if endpoint == "forward_own":
        target = f"{AGENCY_OF[relation][0]}-OPS"
    else:
        target = SENDERS_SINK if relation == "sender" else SINK
    return client.post(f"/messages/{message_id}/forward", headers=headers, json={"to": [target]})


def test_access_control_matrix(world: World) -> None:
    cases = list(itertools.product(ROLES, RELATIONS, ENDPOINTS, VARIANTS))
    assert len(cases) >= 500
    missing = "0" * 32  # a well-formed id of no message
    wrong = []
    for role, relation, endpoint, variant in cases:
        message_id = world.messages[variant]
        expected = oracle(role, relation, endpoint, VARIANTS[variant])
        answer = _call(world, role, relation, endpoint, message_id)
        if endpoint in {"list", "search"}:
            listed = message_id in {m["id"] for m in answer.json()}
            got = 200 if answer.status_code == 200 and listed else 404
        else:
            got = answer.status_code
            if expected == 404:  # answered exactly as a message that does not exist
                absent = _call(world, role, relation, endpoint, missing)
                if (got, answer.content) != (absent.status_code, absent.content):
                    wrong.append((role, relation, endpoint, variant, "differs from a missing id"))
        if expected == REFUSED:
            absent = _call(world, role, relation, endpoint, missing)
            if got != 404 or answer.content == absent.content:
                wrong.append((role, relation, endpoint, variant, f"{got}: not a refusal"))
        elif got != expected:
            wrong.append((role, relation, endpoint, variant, f"{got} != {expected}"))
    allowed = sum(1 for c in cases if oracle(c[0], c[1], c[2], VARIANTS[c[3]]) == 200)
    assert not wrong, f"{len(wrong)} of {len(cases)} cases wrong, e.g. {wrong[:10]}"
    assert 100 < allowed < len(cases) - 100


def test_api_answers(world: World) -> None:
    token = world.tokens[("intelligence_officer", "sender")]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"message": json.loads(report().model_dump_json()), "to": ["NL-DOUANE"]}
    sent = world.client.post("/messages", json=body, headers=headers)
    assert sent.status_code == 201 and sent.json()["addressees"] == ["agency:NL-DOUANE"]
    no_purpose = world.client.get(f"/messages/{sent.json()['id']}", headers=headers)
    assert no_purpose.status_code == 422
    bad = world.client.post("/messages", json={**body, "to": ["XX"]}, headers=headers)
    assert bad.status_code == 422 and "to: no agency or desk 'XX'" in bad.json()["detail"]
    reader = {"Authorization": f"Bearer {world.tokens[('officer', 'addressed_agency')]}"}
    assert world.client.get("/messages/overdue", headers=reader).status_code == 200
    assert world.client.post(f"/messages/{sent.json()['id']}/actioned",
                             headers=reader).status_code == 204  # fmt: skip
    assert (
        "/messages/{message_id}/forward"
        in world.client.get("/openapi.json", headers=headers).json()["paths"]
    )
