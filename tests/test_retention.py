"""Retention with a controlled clock (notice at 11 months, restriction at 12, erasure at 24; a
kept review postpones all), erasure that holds against the database file and an old row, key
rotation that makes old backups useless, and encrypted attachments."""

from __future__ import annotations

import base64
import os
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from redlane import security
from redlane.api import create_app
from redlane.cli import app as cli
from redlane.config import ConfigError
from redlane.exchange import mailbox, retention
from redlane.exchange.crypto import DecryptionError, Kek, generate_kek, open_sealed, part_data
from redlane.exchange.model import Alert, Entity, Grading, Message
from redlane.exchange.schedule import add_months
from redlane.exchange.watchlist import active_entries, entries
from redlane.security import audit
from redlane.store.database import Database
from redlane.store.schema import (
    message_attachments,
    message_entities,
    message_keys,
    messages,
    watchlist,
)
from redlane.store.schema import retention as retention_table

PASSWORD = "correct horse battery"
T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
GRADING = Grading(source="2", intelligence="B", handling="P")
OPERATOR = security.Service("cli:operator")


def month(n: float) -> datetime:
    """T0 plus n months (a half month is 15 days)."""
    whole = int(n)
    moment = add_months(T0, whole)
    return moment if n == whole else moment.replace(day=moment.day + 15)


@pytest.fixture
def kek() -> Kek:
    return Kek(os.urandom(32))


def _people(db: Database) -> Database:
    security.add_agency(db, "CO-DIJIN", "Dirección de Investigación Criminal", "police", "CO")
    security.add_agency(db, "NL-DOUANE", "Douane Nederland", "customs", "NL")
    security.add_agency(db, "BE-DOUANE", "Douane belge", "customs", "BE")
    security.add_user(db, "carlos", "CO-DIJIN", PASSWORD, ["intelligence_officer"])
    security.add_user(db, "anna", "NL-DOUANE", PASSWORD, ["intelligence_officer"])
    security.add_user(db, "sara", "NL-DOUANE", PASSWORD, ["supervisor"])
    security.add_user(db, "luc", "BE-DOUANE", PASSWORD, ["supervisor"])
    security.add_user(db, "admin", "NL-DOUANE", PASSWORD, ["administrator"])
    return db


@pytest.fixture
def people(db: Database) -> Database:
    return _people(db)


def user(db: Database, name: str) -> security.User:
    return security.get_user(db, name)


def alert() -> Message:
    return Message(
        kind="cis_alert",
        subject="Courier Jan de Vries on MSC EXAMPLE",
        facts="Seen loading bags behind the reefer unit in Guayaquil.",
        entities=[
            Entity(kind="vessel", identifier="9319466", name="MSC EXAMPLE"),
            Entity(kind="person", identifier="Jan de Vries", data_subject="suspect"),
        ],
        grading=GRADING,
        alert=Alert(category="persons", suggested_action="discreet_surveillance",
                    justification="Two sightings", valid_until=date(2028, 12, 31)),
    )  # fmt: skip


def vessel_report() -> Message:
    return Message(kind="intelligence_report", subject="Port call", facts="Called at Guayaquil.",
                   entities=[Entity(kind="vessel", identifier="9319466")],
                   grading=GRADING)  # fmt: skip


def ids(envelopes: list[mailbox.Envelope]) -> list[str]:
    return [e.id for e in envelopes]


# --- the timeline --------------------------------------------------------------------------


def test_notice_at_11_restriction_at_12_erasure_at_24(people: Database, kek: Kek) -> None:
    db = people
    carlos, anna, sara, luc = (user(db, n) for n in ("carlos", "anna", "sara", "luc"))
    sent = mailbox.send(db, carlos, alert(), ["NL-DOUANE"], now=T0, kek=kek)
    plain = mailbox.send(db, carlos, vessel_report(), ["NL-DOUANE"], now=T0, kek=kek)
    assert retention.state(db, plain.id) is None  # no alert, no person: no review date
    due = retention.state(db, sent.id)
    assert due is not None and due.review_due == datetime(2027, 1, 15, 9, tzinfo=UTC)
    assert len(active_entries(db, date(2026, 12, 1))) == 2  # vessel imo, person name

    assert retention.run(db, OPERATOR, month(10.5)).noticed == []
    report = retention.run(db, OPERATOR, month(11))
    assert report.noticed == [sent.id] and report.restricted == report.erased == []
    assert retention.run(db, OPERATOR, month(11.5)).noticed == []  # once per review
    (notice,) = retention.notices(db, carlos)
    assert (notice.message_id, notice.review_due) == (sent.id, month(12))
    assert retention.notices(db, anna) == []  # the owner is told, not the recipients
    assert mailbox.read(db, anna, sent.id, "case 7", kek=kek).message.facts  # still open

    report = retention.run(db, OPERATOR, month(12))
    assert report.restricted == [sent.id] and report.erased == []
    for reader in (anna, carlos):  # recipient and owner alike
        with pytest.raises(mailbox.NotFound):
            mailbox.read(db, reader, sent.id, "case 7", kek=kek)
        assert sent.id not in ids(mailbox.inbox(db, reader, box="all", kek=kek))
        found = mailbox.search(db, reader, "case 7", entity="person:jan de vries", kek=kek)
        assert sent.id not in ids(found)
        assert sent.id not in ids(mailbox.thread(db, reader, plain.thread_id, kek=kek))
    # a supervisor of a holding agency checks it; one of another agency still may not see it
    checked = mailbox.read(db, sara, sent.id, "accuracy check", kek=kek)
    assert checked.message.entities[1].identifier == "Jan de Vries"
    assert sent.id in ids(mailbox.inbox(db, sara, kek=kek))
    with pytest.raises(mailbox.NotFound):
        mailbox.read(db, luc, sent.id, "accuracy check", kek=kek)
    with pytest.raises(mailbox.Refused, match="restricted"):
        mailbox.forward(db, sara, sent.id, ["BE-DOUANE"], "pass on", kek=kek)
    assert active_entries(db, month(12).date()) == []  # the watchlist no longer tests it
    assert len(active_entries(db, month(11).date())) == 2  # earlier days keep what was seen

    assert retention.run(db, OPERATOR, month(23)).erased == []
    report = retention.run(db, OPERATOR, month(24))
    assert report.erased == [sent.id]
    with db.engine.connect() as conn:
        for table in (message_keys, message_entities, watchlist):
            assert conn.execute(select(table).where(table.c.message_id == sent.id)).all() == []
    with pytest.raises(mailbox.Erased):
        mailbox.read(db, sara, sent.id, "accuracy check", kek=kek)
    (erased,) = [e for e in audit.entries(db) if e.action == "erase"]
    assert erased.object_id == sent.id and erased.details["keys"] == 1
    assert retention.run(db, OPERATOR, month(30)) == retention.Report(month(30))
    assert mailbox.read(db, anna, plain.id, "case 7", kek=kek).message.facts  # untouched


def test_a_kept_review_postpones_everything(people: Database, kek: Kek) -> None:
    db = people
    carlos, anna, sara = (user(db, n) for n in ("carlos", "anna", "sara"))
    sent = mailbox.send(db, carlos, alert(), ["NL-DOUANE"], now=T0, kek=kek)
    retention.run(db, OPERATOR, month(11))
    with pytest.raises(mailbox.Refused, match="owner"):  # a recipient does not decide
        retention.review(db, anna, sent.id, "keep", "still needed", now=month(11.5))
    kept = retention.review(db, carlos, sent.id, "keep", "operation Andes open", now=month(11.5))
    assert kept.next_review == month(23.5)
    for at in (month(12), month(22)):
        assert retention.run(db, OPERATOR, at) == retention.Report(at)
    assert mailbox.read(db, anna, sent.id, "case 7", now=month(22), kek=kek)
    entry = [e for e in audit.entries(db) if e.object_id == sent.id and e.action == "alter"]
    assert entry[-1].purpose == "operation Andes open" and entry[-1].details["decision"] == "keep"

    # not reviewed again: notice, restriction, then a supervisor keeps it and lifts it
    assert retention.run(db, OPERATOR, month(22.5)).noticed == [sent.id]
    assert retention.run(db, OPERATOR, month(23.5)).restricted == [sent.id]
    assert active_entries(db, month(23.5).date()) == []
    with pytest.raises(mailbox.NotFound):  # the owner's officer no longer sees it
        retention.review(db, carlos, sent.id, "keep", "still needed", now=month(24))
    with pytest.raises(mailbox.Refused, match="owner"):  # sara sees it, but is no owner
        retention.review(db, sara, sent.id, "keep", "accurate", now=month(24))
    security.add_user(db, "rosa", "CO-DIJIN", PASSWORD, ["supervisor"])
    rosa = user(db, "rosa")
    retention.review(db, rosa, sent.id, "keep", "checked: accurate, lawful", now=month(24))
    assert len(active_entries(db, month(24).date())) == 2  # back on the watchlist
    assert mailbox.read(db, anna, sent.id, "case 7", now=month(24), kek=kek)
    assert retention.run(db, OPERATOR, month(35)).noticed == [sent.id]

    # erase now: keys gone at once, the owner sees it as erased
    retention.review(db, carlos, sent.id, "erase", "operation closed", now=month(35.5))
    with pytest.raises(mailbox.Erased):
        mailbox.read(db, carlos, sent.id, "case 7", kek=kek)
    assert entries(db, sent.id) == []
    assert mailbox.inbox(db, anna, kek=kek)[0].subject == "(erased)"
    with pytest.raises(mailbox.Erased):
        retention.review(db, carlos, sent.id, "keep", "too late", now=month(49))


def test_messages_older_than_retention_get_dated(people: Database, kek: Kek) -> None:
    db = people
    sent = mailbox.send(db, user(db, "carlos"), alert(), ["NL-DOUANE"], now=T0, kek=kek)
    with db.engine.begin() as conn:
        conn.execute(retention_table.delete())  # as if stored before the migration
    report = retention.run(db, OPERATOR, month(24))
    assert report.dated == report.noticed == report.restricted == report.erased == [sent.id]
    with pytest.raises(PermissionError):
        retention.run(db, user(db, "anna"), month(24))


# --- erased means unreadable, in the file and in old rows ---------------------------------


def _row(path: Path, table: str, message_id: str) -> dict[str, Any]:
    with sqlite3.connect(path) as raw:
        raw.row_factory = sqlite3.Row
        found = raw.execute(f"SELECT * FROM {table} WHERE message_id = ?", (message_id,)).fetchall()
    return dict(found[0]) if found else {}


def test_erased_content_cannot_be_read_from_the_file_or_an_old_row(
    sqlite_db: Database, kek: Kek, tmp_path: Path
) -> None:
    db = _people(sqlite_db)
    path = Path(str(db.url.database))
    photo = os.urandom(4096)
    files = [mailbox.Attachment("suspect.jpg", "image/jpeg", photo)]
    sent = mailbox.send(db, user(db, "carlos"), alert(), ["NL-DOUANE"], now=T0, kek=kek,
                        attachments=files)  # fmt: skip
    with db.engine.connect() as conn:
        old_message = conn.execute(select(messages).where(messages.c.id == sent.id)).one()
        old_key = conn.execute(
            select(message_keys).where(message_keys.c.message_id == sent.id)
        ).one()
        old_file = conn.execute(select(message_attachments)).one()
    # with the key row the old row opens: the copy is what an attacker would hold
    data_key = kek.unwrap(old_key.wrapped_key, sent.id)
    assert b"Jan de Vries" in open_sealed(data_key, old_message.body, part_data(sent.id, "body"))

    retention.run(db, OPERATOR, month(24))
    db.dispose()
    # the database file (and its WAL) no longer holds the wrapped keys or the ciphertexts
    disk = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists()
                                else b"")  # fmt: skip
    for secret in (old_key.wrapped_key, old_file.wrapped_key, old_message.body[:64],
                   old_file.content[:64]):  # fmt: skip
        assert secret not in disk
    assert _row(path, "message_keys", sent.id) == {}
    assert _row(path, "message_attachments", sent.id) == {}
    # the old message row with today's database: no key row to open it with
    with sqlite3.connect(path) as raw:
        wrapped = raw.execute("SELECT wrapped_key FROM message_keys").fetchall()
    for (other,) in wrapped:  # no other message's key opens it either
        with pytest.raises(DecryptionError):
            open_sealed(kek.unwrap(other, sent.id), old_message.body, part_data(sent.id, "body"))
    with pytest.raises(mailbox.Erased):
        mailbox.attachment(db, user(db, "sara"), sent.id, 1, "check", kek=kek)


def test_without_secure_delete_a_deleted_key_stays_in_the_file(
    sqlite_db: Database, kek: Kek
) -> None:
    """Why erasure zeroes what it deletes: a plain DELETE leaves the bytes in the page."""
    db = _people(sqlite_db)
    path = Path(str(db.url.database))
    sent = mailbox.send(db, user(db, "carlos"), alert(), ["NL-DOUANE"], now=T0, kek=kek)
    with db.engine.connect() as conn:
        (wrapped,) = conn.execute(select(message_keys.c.wrapped_key)).one()
        conn.exec_driver_sql("PRAGMA secure_delete=OFF")
        conn.exec_driver_sql(f"DELETE FROM message_keys WHERE message_id = '{sent.id}'")
        conn.commit()
    db.dispose()
    assert wrapped in path.read_bytes()


def test_rekey_makes_old_backups_useless(sqlite_db: Database, tmp_path: Path) -> None:
    db = _people(sqlite_db)
    old = generate_kek(tmp_path / "old.kek")
    new = generate_kek(tmp_path / "new.kek")
    carlos, anna = user(db, "carlos"), user(db, "anna")
    files = [mailbox.Attachment("a.txt", "text/plain", b"hello")]
    kept = mailbox.send(db, carlos, alert(), ["NL-DOUANE"], now=T0, kek=old, attachments=files)
    gone = mailbox.send(db, carlos, alert(), ["NL-DOUANE"], now=T0, kek=old)
    backup = tmp_path / "backup.db"
    with sqlite3.connect(Path(str(db.url.database))) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
    retention.review(db, carlos, gone.id, "erase", "closed", now=month(1))

    with pytest.raises(PermissionError):
        mailbox.rekey(db, anna, old, new)
    done = mailbox.rekey(db, OPERATOR, old, new)
    assert (done.messages, done.attachments, done.entities) == (1, 1, 1)
    assert mailbox.rekey(db, OPERATOR, old, new).messages == 0  # a rerun has nothing to do
    mailbox.check_kek(db, new)
    with pytest.raises(ConfigError):
        mailbox.check_kek(db, old)
    # the live store works under the new key: read, attachment, search of a person
    assert mailbox.read(db, anna, kept.id, "case 7", kek=new).message.facts
    assert mailbox.attachment(db, anna, kept.id, 1, "case 7", kek=new).data == b"hello"
    found = mailbox.search(db, anna, "case 7", entity="person:Jan de Vries", kek=new)
    assert ids(found) == [kept.id]
    # the backup still holds the erased message's wrapped key: only the old KEK opens it
    with sqlite3.connect(backup) as raw:
        (wrapped,) = raw.execute(
            "SELECT wrapped_key FROM message_keys WHERE message_id = ?", (gone.id,)
        ).fetchone()
    assert len(old.unwrap(wrapped, gone.id)) == 32  # hence: destroy the old KEK
    with pytest.raises(DecryptionError):
        new.unwrap(wrapped, gone.id)


# --- attachments ---------------------------------------------------------------------------


def test_attachments(people: Database, kek: Kek, monkeypatch: pytest.MonkeyPatch) -> None:
    db = people
    carlos, anna, luc = user(db, "carlos"), user(db, "anna"), user(db, "luc")
    scan = b"%PDF-1.7 " + os.urandom(1000)
    sent = mailbox.send(db, carlos, vessel_report(), ["NL-DOUANE"], kek=kek,
                        attachments=[mailbox.Attachment("C:\\scans\\bl.pdf", "application/pdf",
                                                        scan)])  # fmt: skip
    opened = mailbox.read(db, anna, sent.id, "case 7", kek=kek)
    assert [a.to_dict() for a in opened.attachments] == [
        {"n": 1, "name": "bl.pdf", "media_type": "application/pdf", "size": len(scan)}
    ]
    got = mailbox.attachment(db, anna, sent.id, 1, "case 7", kek=kek)
    assert got.data == scan
    entry = audit.entries(db)[-1]
    assert (entry.object_kind, entry.object_id, entry.purpose) == (
        "attachment", f"{sent.id}/1", "case 7")  # fmt: skip
    with db.engine.connect() as conn:
        stored = conn.execute(select(message_attachments)).one()
    assert b"bl.pdf" not in stored.name and scan[:32] not in stored.content  # sealed
    for who, n in ((luc, 1), (anna, 2)):  # not allowed, or no such attachment: as absent
        with pytest.raises(mailbox.NotFound):
            mailbox.attachment(db, who, sent.id, n, "curious", kek=kek)
    # added later by the sending agency only
    more = mailbox.attach(db, carlos, sent.id, [mailbox.Attachment("m.txt", "Text/Plain", b"x")],
                          kek=kek)  # fmt: skip
    assert [(a.n, a.media_type) for a in more] == [(2, "text/plain")]
    with pytest.raises(mailbox.Refused):
        mailbox.attach(db, anna, sent.id, [mailbox.Attachment("n.txt", "text/plain", b"y")],
                       kek=kek)  # fmt: skip
    # the size limit, named with the file
    monkeypatch.setenv(mailbox.ATTACHMENT_SETTING, "1000")
    files = [mailbox.Attachment("scan.pdf", "application/pdf", scan)]
    with pytest.raises(mailbox.MailboxError) as error:
        mailbox.send(db, carlos, vessel_report(), ["NL-DOUANE"], kek=kek, attachments=files)
    assert str(error.value) == (
        f"attachment 'scan.pdf': {len(scan):,} bytes is over the limit of 1,000 bytes "
        "(REDLANE_ATTACHMENT_MAX_BYTES)"
    )
    with pytest.raises(mailbox.MailboxError, match="media type 'pdf'"):
        mailbox.send(db, carlos, vessel_report(), ["NL-DOUANE"], kek=kek,
                     attachments=[mailbox.Attachment("a.pdf", "pdf", b"x")])  # fmt: skip
    monkeypatch.setenv(mailbox.ATTACHMENT_SETTING, "lots")
    with pytest.raises(ConfigError, match="REDLANE_ATTACHMENT_MAX_BYTES='lots'"):
        mailbox.max_attachment_bytes()


def test_attachments_and_review_over_http(people: Database) -> None:
    db = people
    kek = Kek(os.urandom(32))
    client = TestClient(create_app(db, "node-token-0123456789abcdef", kek=kek))
    tokens = {n: security.issue_token(db, n).token for n in ("carlos", "anna", "luc")}

    def headers(name: str, tokens: dict[str, str] = tokens) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[name]}", "X-Redlane-Purpose": "case 7"}

    upload = {"name": "bl.pdf", "media_type": "application/pdf",
              "content": base64.b64encode(b"%PDF-1.7 bill").decode()}  # fmt: skip
    body = {"message": alert().model_dump(mode="json"), "to": ["NL-DOUANE"],
            "attachments": [upload]}  # fmt: skip
    sent = client.post("/messages", json=body, headers=headers("carlos")).json()["id"]
    got = client.get(f"/messages/{sent}/attachments/1", headers=headers("anna"))
    assert got.status_code == 200 and got.content == b"%PDF-1.7 bill"
    assert got.headers["content-type"] == "application/pdf"
    assert "bl.pdf" in got.headers["content-disposition"]
    hidden = client.get(f"/messages/{sent}/attachments/1", headers=headers("luc"))
    assert (hidden.status_code, hidden.json()) == (404, {"detail": "no such message"})
    added = client.post(f"/messages/{sent}/attachments", headers=headers("carlos"),
                        json={"attachments": [{**upload, "name": "b.pdf"}]})  # fmt: skip
    assert added.status_code == 201 and added.json()[0]["n"] == 2
    bad = client.post(f"/messages/{sent}/attachments", headers=headers("carlos"),
                      json={"attachments": [{**upload, "content": "%%%"}]})  # fmt: skip
    assert bad.status_code == 422 and "not base64" in bad.json()["detail"]
    kept = client.post(f"/messages/{sent}/review", headers=headers("carlos"),
                       json={"decision": "keep"})  # fmt: skip
    assert kept.status_code == 200 and kept.json()["decision"] == "keep"
    erased = client.post(f"/messages/{sent}/review", headers=headers("carlos"),
                         json={"decision": "erase"})  # fmt: skip
    assert erased.status_code == 200
    gone = client.get(f"/messages/{sent}/attachments/1", headers=headers("anna"))
    assert gone.status_code == 410


# --- the command line ----------------------------------------------------------------------


def test_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    db = Database(url)
    db.upgrade()
    _people(db)
    runner = CliRunner()
    kek_file = tmp_path / "node.kek"
    new_file = tmp_path / "new.kek"
    monkeypatch.setenv("REDLANE_DATABASE_URL", url)
    assert runner.invoke(cli, ["mailbox", "keygen", str(kek_file)]).exit_code == 0
    assert runner.invoke(cli, ["mailbox", "keygen", str(new_file)]).exit_code == 0
    monkeypatch.setenv("REDLANE_NODE_KEK_FILE", str(kek_file))
    message = tmp_path / "alert.json"
    message.write_text(alert().model_dump_json())
    photo = tmp_path / "suspect.jpg"
    photo.write_bytes(b"\xff\xd8 jpeg")
    sent = runner.invoke(cli, ["mailbox", "send", str(message), "--user", "carlos",
                               "--to", "NL-DOUANE", "--attach", str(photo)])  # fmt: skip
    assert sent.exit_code == 0, sent.output
    message_id = sent.output.split()[1]
    out = tmp_path / "out.jpg"
    got = runner.invoke(cli, ["mailbox", "attachment", message_id, "1", "--user", "anna",
                              "--purpose", "case 7", "--out", str(out)])  # fmt: skip
    assert got.exit_code == 0, got.output
    assert out.read_bytes() == b"\xff\xd8 jpeg" and "image/jpeg" in got.output
    later = add_months(datetime.now(UTC), 11).isoformat()
    ran = runner.invoke(cli, ["retention", "run", "--now", later])
    assert ran.exit_code == 0, ran.output
    assert f"noticed: 1 ({message_id})" in ran.output and "erased: 0" in ran.output
    listed = runner.invoke(cli, ["retention", "notices", "--user", "carlos"])
    assert message_id in listed.output
    neither = runner.invoke(cli, ["retention", "review", message_id, "--user", "carlos",
                                  "--purpose", "x"])  # fmt: skip
    assert neither.exit_code != 0 and "--keep or --erase" in neither.output
    kept = runner.invoke(cli, ["retention", "review", message_id, "--keep", "--user", "carlos",
                               "--purpose", "operation Andes"])  # fmt: skip
    assert kept.exit_code == 0 and "kept; next review" in kept.output
    rekeyed = runner.invoke(cli, ["mailbox", "rekey", str(new_file)])
    assert rekeyed.exit_code == 0 and "1 message keys and 1 attachment keys" in rekeyed.output
    monkeypatch.setenv("REDLANE_NODE_KEK_FILE", str(new_file))
    read = runner.invoke(cli, ["mailbox", "read", message_id, "--user", "anna",
                               "--purpose", "case 7"])  # fmt: skip
    assert read.exit_code == 0 and "Jan de Vries" in read.output
