"""The audit log: hash chain, tampering found and named, signed heads, concurrent writers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import make_traveller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from redlane import security
from redlane.api import create_app
from redlane.cli import app as cli
from redlane.config import ConfigError
from redlane.intake.pipeline import store_models
from redlane.security import audit
from redlane.security.audit import GENESIS_HASH, entry_hash
from redlane.store.database import Database
from redlane.store.schema import audit_heads, audit_log
from redlane.targeting import Window, starter_profiles, target

OFFICER = security.Service("officer-1", "NL-DOUANE")


def fill(db: Database, n: int = 5) -> list[audit.Entry]:
    return [
        audit.record(db, OFFICER, "read", f"case 2026/{i}", "traveller", i, {"fields": ["name"]})
        for i in range(1, n + 1)
    ]


def problems(db: Database, **kwargs: object) -> list[str]:
    return [str(p) for p in audit.verify(db, **kwargs).problems]  # type: ignore[arg-type]


def row(db: Database, seq: int) -> dict[str, object]:
    with db.engine.connect() as conn:
        return dict(conn.execute(select(audit_log).where(audit_log.c.seq == seq)).one()._mapping)


@pytest.fixture
def node_key(tmp_path: Path) -> security.NodeKey:
    return security.generate_node_key(tmp_path / "node.key")


def test_entries_are_chained(db: Database) -> None:
    first, second = fill(db, 2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert first.username == "officer-1" and first.agency == "NL-DOUANE"
    assert first.purpose == "case 2026/1" and first.object_id == "1"
    assert second.details == {"fields": ["name"]}
    stored = audit.entries(db)
    assert stored == [first, second]
    assert audit.chain_head(db) == (2, second.hash)
    assert entry_hash(row(db, 2)) == second.hash
    report = audit.verify(db)
    assert report.ok and report.entries == 2 and report.head_seq == 2


def test_an_entry_needs_a_purpose_and_a_known_action(db: Database) -> None:
    with pytest.raises(audit.AuditError, match="purpose"):
        audit.record(db, OFFICER, "read", "  ", "traveller", 1)
    with pytest.raises(audit.AuditError, match="'peek' is not one of"):
        audit.record(db, OFFICER, "peek", "case", "traveller", 1)
    with pytest.raises(audit.AuditError, match="JSON"):
        audit.record(db, OFFICER, "read", "case", "traveller", 1, {"x": object()})
    assert audit.entries(db) == []


def test_a_changed_entry_is_named(db: Database) -> None:
    fill(db)
    with db.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(purpose="curiosity"))
    assert problems(db) == ["entry 3: changed: its content does not match its hash"]


def test_a_changed_and_rehashed_entry_breaks_the_link_to_the_next(db: Database) -> None:
    fill(db)
    changed = {**row(db, 3), "username": "someone-else"}
    with db.engine.begin() as conn:
        conn.execute(
            update(audit_log).where(audit_log.c.seq == 3)
            .values(username="someone-else", hash=entry_hash(changed))
        )  # fmt: skip
    (problem,) = problems(db)
    assert problem.startswith("entry 4: does not chain to entry 3")


def test_a_deleted_entry_is_named(db: Database) -> None:
    fill(db)
    with db.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
    assert problems(db) == ["entry 3: deleted: the chain jumps from 2 to 4, entry 3 missing"]


def test_a_deletion_hidden_by_renumbering_is_named(db: Database) -> None:
    fill(db)
    with db.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 2))
        for seq in (3, 4, 5):
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq - 1))
    found = problems(db)
    assert (
        found[0] == "entry 2: deleted: entry 2 is the former entry 3, renumbered to close the gap"
    )
    assert len(found) == 1


def test_an_inserted_entry_is_named(db: Database) -> None:
    fill(db)
    forged = {**row(db, 5), "seq": 6, "purpose": "made up", "prev_hash": row(db, 5)["hash"],
              "hash": "f" * 64}  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(insert(audit_log).values(forged))
    assert problems(db) == ["entry 6: changed: its content does not match its hash"]


def test_an_entry_inserted_in_the_middle_is_named(db: Database) -> None:
    """Even a forger who knows the hash function and renumbers the later entries."""
    fill(db)
    with db.engine.begin() as conn:
        for seq in (5, 4, 3):
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq + 1))
        forged = {**row(db, 2), "seq": 3, "purpose": "made up", "prev_hash": row(db, 2)["hash"]}
        forged["hash"] = entry_hash(forged)
        conn.execute(insert(audit_log).values(forged))
    found = problems(db)
    assert found[0].startswith("entry 3: inserted: entry 4 is the former entry 3")
    assert len(found) == 1


def test_an_entry_inserted_before_the_first_is_named(db: Database) -> None:
    fill(db, 2)
    with db.engine.begin() as conn:
        conn.execute(insert(audit_log).values({**row(db, 1), "seq": 0}))
    assert problems(db) == ["entry 0: inserted: sequence numbers start at 1"]


def test_cli_verify_fails_and_names_the_entry(db: Database) -> None:
    fill(db)
    url = db.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    intact = runner.invoke(cli, ["audit", "verify", "--database", url])
    assert intact.exit_code == 0 and "audit chain intact" in intact.output
    with db.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(details="{}"))
    broken = runner.invoke(cli, ["audit", "verify", "--database", url])
    assert broken.exit_code == 1
    assert "entry 2: changed" in broken.output and "audit chain broken" in broken.output


def test_signed_head_export_and_verification(db: Database, node_key: security.NodeKey,
                                             tmp_path: Path) -> None:  # fmt: skip
    fill(db)
    head = audit.export_head(db, node_key, tmp_path / "head.json")
    exported = json.loads((tmp_path / "head.json").read_text())
    assert exported["sequence"] == 5 and exported["hash"] == audit.chain_head(db)[1]
    assert set(exported) == {"algorithm", "sequence", "hash", "time", "public_key", "signature"}
    assert exported["public_key"] == node_key.public_key
    loaded = audit.load_head(tmp_path / "head.json")
    assert loaded == head and loaded.signature_valid()
    fill(db, 2)  # the chain grows past the head: still fine
    assert audit.verify(db, loaded, node_key.public_key).ok
    assert audit.stored_heads(db) == [head]


def test_a_cut_off_tail_is_found_with_the_exported_head(
    db: Database, node_key: security.NodeKey, tmp_path: Path
) -> None:
    fill(db)
    head = audit.export_head(db, node_key, tmp_path / "head.json")
    with db.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq >= 4))
        conn.execute(delete(audit_heads))  # the forger removes the stored heads as well
    assert audit.verify(db).ok  # the chain alone cannot tell
    assert problems(db, head=head) == [
        "entry 5: deleted: the chain ends at entry 3, but the exported head (signed "
        f"{head.time:%Y-%m-%dT%H:%M:%S.%fZ}) signed entry 5; entries 4-5 were cut off"
    ]


def test_a_rewritten_chain_is_found_with_a_signed_head(
    db: Database, node_key: security.NodeKey
) -> None:
    """Whoever holds the database can recompute every hash; not the node's signature."""
    fill(db)
    audit.sign_head(db, node_key)
    with db.engine.begin() as conn:
        prev = row(db, 1)["hash"]
        for seq in range(2, 6):
            rewritten = {**row(db, seq), "purpose": "routine", "prev_hash": prev}
            rewritten["hash"] = prev = entry_hash(rewritten)
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(rewritten))
    found = problems(db)
    assert len(found) == 1
    assert found[0].startswith("entry 5: changed: its hash is not the one the stored head")


def test_a_wrong_signature_or_key_is_found(
    db: Database, node_key: security.NodeKey, tmp_path: Path
) -> None:
    fill(db)
    head = audit.export_head(db, node_key, tmp_path / "head.json")
    forged = audit.SignedHead(head.sequence, "0" * 64, head.time, head.public_key, head.signature)
    assert not forged.signature_valid()
    (problem,) = [p for p in problems(db, head=forged) if "exported" in p]
    assert problem.startswith("entry 5: the exported head") and "does not verify" in problem

    other = security.generate_node_key(tmp_path / "other.key")
    foreign = audit.sign_head(db, other)
    assert foreign.signature_valid()
    found = problems(db, public_key=node_key.public_key)
    assert len(found) == 1 and "not by this node's key" in found[0]
    assert audit.verify(db, public_key=None).ok  # unpinned: each head checks with its own key

    text = (tmp_path / "head.json").read_text().replace('"sequence": 5', '"sequence": 4')
    (tmp_path / "moved.json").write_text(text)
    moved = audit.load_head(tmp_path / "moved.json")
    assert any("does not verify" in p for p in problems(db, head=moved))
    with pytest.raises(audit.AuditError, match="not a signed audit head"):
        audit.SignedHead.from_json('{"sequence": 1}')


def test_cli_head_export_and_verify(db: Database, tmp_path: Path) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    key = tmp_path / "node.key"
    made = runner.invoke(cli, ["audit", "keygen", str(key)])
    assert made.exit_code == 0 and "REDLANE_NODE_KEY_FILE" in made.output
    assert runner.invoke(cli, ["audit", "keygen", str(key)]).exit_code == 2  # never overwritten
    fill(db)
    out = tmp_path / "head.json"
    exported = runner.invoke(cli, ["audit", "head", "--out", str(out), "--database", url],
                             env={"REDLANE_NODE_KEY_FILE": str(key)})  # fmt: skip
    assert exported.exit_code == 0 and out.exists()
    args = ["audit", "verify", "--head", str(out), "--key", str(key), "--database", url]
    assert runner.invoke(cli, args).exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 5))
    cut = runner.invoke(cli, args)
    assert cut.exit_code == 1 and "entry 5: deleted" in cut.output
    missing = runner.invoke(cli, ["audit", "head", "--out", str(out), "--database", url],
                            env={"REDLANE_NODE_KEY_FILE": ""})  # fmt: skip
    assert missing.exit_code == 2 and "REDLANE_NODE_KEY_FILE is not set" in missing.output


def test_a_missing_or_wrong_node_key_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDLANE_NODE_KEY_FILE", raising=False)
    with pytest.raises(ConfigError, match="REDLANE_NODE_KEY_FILE is not set"):
        security.load_node_key()
    with pytest.raises(ConfigError, match=r"REDLANE_NODE_KEY_FILE=.*cannot read"):
        security.load_node_key(tmp_path / "nowhere.key")
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    garbage.chmod(0o600)
    with pytest.raises(ConfigError, match=r"REDLANE_NODE_KEY_FILE=.*not an unencrypted PEM"):
        security.load_node_key(garbage)
    rsa_key = tmp_path / "rsa.key"
    rsa_key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )  # fmt: skip
    rsa_key.chmod(0o600)
    with pytest.raises(ConfigError, match=r"REDLANE_NODE_KEY_FILE=.*not an Ed25519 key"):
        security.load_node_key(rsa_key)
    key = security.generate_node_key(tmp_path / "node.key")
    assert (key.path.stat().st_mode & 0o777) == 0o600
    key.path.chmod(0o644)
    with pytest.raises(ConfigError, match="open to other users"):
        security.load_node_key(key.path)
    key.path.chmod(0o600)
    monkeypatch.setenv("REDLANE_NODE_KEY_FILE", str(key.path))
    assert security.load_node_key().public_key == key.public_key


def test_concurrent_writers_never_fork_the_chain(db: Database) -> None:
    writers, each = 8, 40
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(each):
                audit.record(db, security.Service(f"writer-{n}"), "read", "load", "x", i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = audit.verify(db)
    assert report.ok and report.entries == writers * each and report.head_seq == writers * each


def test_concurrent_processes_never_fork_the_chain(db: Database) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    code = (
        "import sys\n"
        "from redlane.security import Service, audit\n"
        "from redlane.store.database import Database\n"
        "db = Database(sys.argv[1])\n"
        "for i in range(30):\n"
        "    audit.record(db, Service(sys.argv[2]), 'read', 'load', 'x', i)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "REDLANE_DATABASE_URL"}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url, f"p{n}"], env=env) for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    report = audit.verify(db)
    assert report.ok and report.entries == 120


def test_an_entry_appended_in_a_transaction_goes_with_it(db: Database) -> None:
    fill(db, 2)
    with db.engine.connect() as conn:
        audit.append(conn, OFFICER, "read", "case 2026/9", "traveller", 9)
        conn.rollback()
    # rolled back with the transaction (and the act it recorded): the chain is as it was
    assert [e.seq for e in audit.entries(db)] == [1, 2] and audit.verify(db).ok
    with db.engine.connect() as conn:
        entry = audit.append(conn, OFFICER, "read", "case 2026/9", "traveller", 9)
        assert audit.chain_head(db) == (2, audit.entries(db)[-1].hash)  # not before the commit
        conn.commit()
    assert entry.seq == 3 and entry.prev_hash == audit.entries(db)[1].hash
    assert audit.entries(db)[-1] == entry and audit.verify(db).ok


@pytest.fixture
def staffed(db: Database) -> Database:
    security.add_agency(db, "NL-DOUANE", "Douane", "customs", "NL")
    security.add_user(db, "anna", "NL-DOUANE", "correct horse battery", ["targeter"])
    security.add_user(db, "root", "NL-DOUANE", "correct horse battery", ["administrator"])
    return db


def test_the_api_worklist_needs_the_role_and_is_audited(staffed: Database) -> None:
    db = staffed
    traveller = make_traveller()
    store_models(db, "traveller", [traveller])
    day = traveller.itinerary[0].departs_at.date()
    run = target(db, starter_profiles(), Window(day, day + timedelta(days=1)))
    node_token = "n" * 32
    app = create_app(db, node_token)
    anna = security.issue_token(db, "anna").token
    root = security.issue_token(db, "root").token

    def get(token: str, **headers: str) -> object:
        return TestClient(app).get(
            "/worklist", params={"run_id": run.run_id},
            headers={"Authorization": f"Bearer {token}", **headers},
        )  # fmt: skip

    answer = get(anna, **{"X-Redlane-Purpose": "case 2026/77"})
    assert answer.status_code == 200  # type: ignore[attr-defined]
    rows = answer.json()  # type: ignore[attr-defined]
    (entry,) = audit.entries(db, object_kind="worklist")
    assert (entry.username, entry.agency, entry.action) == ("anna", "NL-DOUANE", "read")
    assert entry.purpose == "case 2026/77" and entry.object_id == str(run.run_id)
    assert entry.details["selections"] == [r["id"] for r in rows]

    assert get(root).status_code == 403  # type: ignore[attr-defined]
    assert get("rlt_not-a-token").status_code == 401  # type: ignore[attr-defined]
    security.set_active(db, "anna", False)
    assert get(anna).status_code == 401  # type: ignore[attr-defined]
    assert get(node_token).status_code == 200  # type: ignore[attr-defined]
    entries = audit.entries(db, object_kind="worklist")
    assert [(e.username, e.purpose) for e in entries] == [
        ("anna", "case 2026/77"),
        ("api", "control selection (worklist)"),
    ]
    assert audit.verify(db).ok
