"""The audit log: append-only, hash-chained, its head signed with the node key.

Every read, search, forward and export of a message or of a person's data, and every login,
goes through `record`: one entry with sequence number, time, user, agency, action, purpose,
object kind and id, and details (JSON). Each entry's `hash` is SHA-256 over the canonical
serialisation (sorted-key compact JSON) of all those fields and the previous entry's hash, so
changing, inserting or deleting an entry breaks the chain where it happened; `verify` walks the
chain and names the entry. Entries are appended under a write lock (PostgreSQL: a transaction
advisory lock; SQLite: BEGIN IMMEDIATE), so two writers never fork the chain.

A chain alone does not show that its newest entries were cut off, nor stop whoever holds the
database from rewriting it whole; `sign_head` signs the current head with the node's Ed25519
key and keeps it beside the chain, and `export_head` writes it to a file to be kept elsewhere
(another agency, WORM storage, a time-stamping service). `verify` checks the chain against
every stored head and against an exported one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, text

from redlane.security.accounts import Actor
from redlane.security.keys import NodeKey, fingerprint, verify_signature
from redlane.store.database import Database, utc
from redlane.store.schema import audit_heads, audit_log

GENESIS_HASH = "0" * 64
#: pg_advisory_xact_lock key of the audit chain (ASCII "rlaudit").
_PG_LOCK_KEY = int.from_bytes(b"rlaudit", "big")
_CHUNK = 5000


class AuditError(ValueError):
    """An audit entry or head is refused or unreadable; the message says why."""


class Action(StrEnum):
    """What was done: the processing operations of LED Art. 25, and account events."""

    READ = "read"  # consultation
    SEARCH = "search"
    FORWARD = "forward"  # disclosure to another agency or desk
    EXPORT = "export"  # disclosure out of redlane (file, STIX bundle)
    COLLECT = "collect"
    ALTER = "alter"
    COMBINE = "combine"
    ERASE = "erase"
    LOGIN = "login"
    LOGIN_REFUSED = "login_refused"
    LOGOUT = "logout"
    ADMIN = "admin"


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    username: str
    agency: str | None
    action: str
    purpose: str
    object_kind: str
    object_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def _iso(moment: datetime) -> str:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def entry_hash(row: Mapping[str, Any] | RowMapping, seq: int | None = None) -> str:
    """SHA-256 (hex) over the canonical serialisation of an entry's fields (all but `hash`),
    its details as stored and the previous entry's hash; `seq` overrides the row's number."""
    fields = {
        "seq": row["seq"] if seq is None else seq,
        "at": _iso(row["at"]),
        "username": row["username"],
        "agency": row["agency"],
        "action": row["action"],
        "purpose": row["purpose"],
        "object_kind": row["object_kind"],
        "object_id": row["object_id"],
        "details": row["details"],
        "prev_hash": row["prev_hash"],
    }
    return hashlib.sha256(_canonical(fields)).hexdigest()


def _lock(conn: Connection) -> None:
    """Take the chain's write lock for the rest of the transaction."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _last(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS_HASH)


def _row(
    user: Actor,
    action: Action | str,
    purpose: str,
    object_kind: str,
    object_id: str | int,
    details: Mapping[str, Any] | None,
    at: datetime | None,
) -> dict[str, Any]:
    try:
        chosen = Action(action)
    except ValueError:
        raise AuditError(
            f"audit action {action!r} is not one of {', '.join(a.value for a in Action)}"
        ) from None
    if not purpose or not purpose.strip():
        raise AuditError("an audit entry needs a purpose: why the data was processed")
    if not object_kind or len(object_kind) > 32:
        raise AuditError("an audit entry needs an object kind of at most 32 characters")
    try:
        details_text = _canonical(dict(details or {})).decode()
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit details must be a JSON object: {exc}") from exc
    return {
        "at": utc(at or datetime.now(UTC)),
        "username": user.username,
        "agency": user.agency,
        "action": chosen.value,
        "purpose": purpose.strip(),
        "object_kind": object_kind,
        "object_id": str(object_id),
        "details": details_text,
    }


def append(
    conn: Connection,
    user: Actor,
    action: Action | str,
    purpose: str,
    object_kind: str,
    object_id: str | int,
    details: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> Entry:
    """Append one entry in the caller's transaction: the act and its record are committed, or
    rolled back, together, with one commit. Call it last in the transaction: from here to the
    commit it holds the chain's lock, which every other append waits for. On SQLite the
    transaction must hold the write lock already (it wrote) or not be open yet."""
    return _append_row(conn, _row(user, action, purpose, object_kind, object_id, details, at))


def _in_sqlite_transaction(conn: Connection) -> bool:
    raw = conn.connection.dbapi_connection
    return conn.dialect.name == "sqlite" and raw is not None and bool(raw.in_transaction)


def _append_row(conn: Connection, row: dict[str, Any]) -> Entry:
    if not _in_sqlite_transaction(conn):
        _lock(conn)
    last_seq, last_hash = _last(conn)
    row["seq"] = last_seq + 1
    row["prev_hash"] = last_hash
    row["hash"] = entry_hash(row)
    conn.execute(insert(audit_log).values(row))
    return _entry(row)


def record(
    db: Database,
    user: Actor,
    action: Action | str,
    purpose: str,
    object_kind: str,
    object_id: str | int,
    details: Mapping[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> Entry:
    """Append one entry to the audit log and return it (committed when this returns).

    `user` is whoever acted (a `User` or a `Service`); `purpose` is the justification (a case
    number, "control selection", ...) and may not be empty; `details` is any JSON object
    (recipients, the ids a search returned, ...).
    """
    row = _row(user, action, purpose, object_kind, object_id, details, at)
    with db.engine.connect() as conn:
        entry = _append_row(conn, row)
        conn.commit()
    return entry


def _entry(row: Mapping[str, Any] | RowMapping) -> Entry:
    return Entry(
        seq=int(row["seq"]),
        at=utc(row["at"]),
        username=row["username"],
        agency=row["agency"],
        action=row["action"],
        purpose=row["purpose"],
        object_kind=row["object_kind"],
        object_id=row["object_id"],
        details=json.loads(row["details"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def entries(
    db: Database,
    *,
    after: int = 0,
    limit: int = 100,
    object_kind: str | None = None,
    object_id: str | None = None,
    username: str | None = None,
) -> list[Entry]:
    """Entries after sequence number `after`, oldest first, optionally of one object or user."""
    query = select(audit_log).where(audit_log.c.seq > after)
    if object_kind is not None:
        query = query.where(audit_log.c.object_kind == object_kind)
    if object_id is not None:
        query = query.where(audit_log.c.object_id == object_id)
    if username is not None:
        query = query.where(audit_log.c.username == username)
    with db.engine.connect() as conn:
        rows = conn.execute(query.order_by(audit_log.c.seq).limit(limit))
        return [_entry(r._mapping) for r in rows]


def chain_head(db: Database) -> tuple[int, str]:
    """(sequence number, hash) of the newest entry; (0, GENESIS_HASH) when the log is empty."""
    with db.engine.connect() as conn:
        return _last(conn)


# --- signed heads ------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedHead:
    """The chain's head at a moment, signed with a node key: anchor it outside the database."""

    sequence: int
    hash: str
    time: datetime
    public_key: str
    signature: str

    def payload(self) -> bytes:
        """The bytes the signature covers."""
        return _canonical(
            {
                "algorithm": "Ed25519",
                "sequence": self.sequence,
                "hash": self.hash,
                "time": _iso(self.time),
                "public_key": self.public_key,
            }
        )

    def signature_valid(self) -> bool:
        return verify_signature(self.public_key, self.signature, self.payload())

    def to_json(self) -> str:
        return json.dumps(
            {
                "algorithm": "Ed25519",
                "sequence": self.sequence,
                "hash": self.hash,
                "time": _iso(self.time),
                "public_key": self.public_key,
                "signature": self.signature,
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SignedHead:
        try:
            data = json.loads(text)
            if data.get("algorithm", "Ed25519") != "Ed25519":
                raise ValueError(f"algorithm {data['algorithm']!r}, not Ed25519")
            return cls(
                sequence=int(data["sequence"]),
                hash=str(data["hash"]),
                time=datetime.fromisoformat(str(data["time"]).replace("Z", "+00:00")),
                public_key=str(data["public_key"]),
                signature=str(data["signature"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuditError(f"not a signed audit head: {exc}") from exc


def sign_head(db: Database, key: NodeKey, *, at: datetime | None = None) -> SignedHead:
    """Sign the chain's current head with the node key and keep it beside the chain."""
    with db.engine.connect() as conn:
        _lock(conn)  # no entry slips in between reading the head and storing its signature
        seq, digest = _last(conn)
        unsigned = SignedHead(seq, digest, utc(at or datetime.now(UTC)), key.public_key, "")
        head = SignedHead(seq, digest, unsigned.time, key.public_key, key.sign(unsigned.payload()))
        conn.execute(
            insert(audit_heads).values(
                seq=head.sequence,
                hash=head.hash,
                signed_at=head.time,
                public_key=head.public_key,
                signature=head.signature,
            )
        )
        conn.commit()
    return head


def export_head(db: Database, key: NodeKey, out: str | Path) -> SignedHead:
    """Sign the current head (see `sign_head`) and write it as JSON to `out`."""
    head = sign_head(db, key)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(head.to_json() + "\n")
    return head


def load_head(path: str | Path) -> SignedHead:
    """A head written by `export_head`."""
    try:
        return SignedHead.from_json(Path(path).read_text())
    except OSError as exc:
        raise AuditError(f"{path}: {exc.strerror}") from exc


def stored_heads(db: Database) -> list[SignedHead]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(audit_heads).order_by(audit_heads.c.id))
        return [
            SignedHead(r.seq, r.hash, utc(r.signed_at), r.public_key, r.signature) for r in rows
        ]


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.reason}"


@dataclass
class Verification:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    heads_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(conn: Connection) -> Iterator[RowMapping]:
    after: int | None = None
    while True:
        query = select(audit_log).order_by(audit_log.c.seq).limit(_CHUNK)
        if after is not None:
            query = query.where(audit_log.c.seq > after)
        chunk = [r._mapping for r in conn.execute(query)]
        if not chunk:
            return
        yield from chunk
        after = int(chunk[-1]["seq"])


def _walk(conn: Connection, report: Verification) -> None:
    problems = report.problems
    expected, prev_hash = 1, GENESIS_HASH
    shifted = 0  # the offset of a run of renumbered entries already reported
    for row in _rows(conn):
        seq = int(row["seq"])
        report.entries += 1
        if seq < 1:
            problems.append(Problem(seq, "inserted: sequence numbers start at 1"))
            continue
        if seq > expected:
            gap = f"entry {expected}" if seq == expected + 1 else f"entries {expected}-{seq - 1}"
            problems.append(
                Problem(
                    expected,
                    f"deleted: the chain jumps from {expected - 1} to {seq}, {gap} missing",
                )
            )
        if entry_hash(row) != row["hash"]:
            offset = next((d for d in (-1, 1) if entry_hash(row, seq + d) == row["hash"]), 0)
            if offset and offset == shifted:
                pass  # the same renumbering as the entry before: reported there
            elif offset == -1:
                problems.append(
                    Problem(
                        seq - 1,
                        f"inserted: entry {seq} is the former entry {seq - 1}, "
                        "renumbered to make room for it",
                    )
                )
            elif offset == 1:
                problems.append(
                    Problem(
                        seq,
                        f"deleted: entry {seq} is the former entry {seq + 1}, "
                        "renumbered to close the gap",
                    )
                )
            else:
                problems.append(Problem(seq, "changed: its content does not match its hash"))
            shifted = offset
        else:
            shifted = 0
            if seq == expected and row["prev_hash"] != prev_hash:
                problems.append(
                    Problem(
                        seq,
                        f"does not chain to entry {seq - 1} (its previous hash is "
                        f"{row['prev_hash'][:12]}…, entry {seq - 1}'s hash is "
                        f"{prev_hash[:12]}…): one of them was rewritten and re-hashed, "
                        "or an entry inserted",
                    )
                )
        expected, prev_hash = seq + 1, str(row["hash"])
        report.head_seq, report.head_hash = seq, prev_hash


def _check_head(
    conn: Connection, head: SignedHead, label: str, public_key: str | None, report: Verification
) -> None:
    report.heads_checked += 1
    problems = report.problems
    label = f"{label} (signed {_iso(head.time)})"
    if not head.signature_valid():
        problems.append(
            Problem(
                head.sequence,
                f"{label}: its signature does not verify; the head was altered after signing",
            )
        )
        return
    if public_key is not None and head.public_key != public_key:
        problems.append(
            Problem(
                head.sequence,
                f"{label} is signed by key {fingerprint(head.public_key)}, "
                f"not by this node's key {fingerprint(public_key)}",
            )
        )
        return
    if head.sequence == 0:
        return
    stored = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == head.sequence)).scalar()
    if stored is None:
        last = conn.execute(select(func.max(audit_log.c.seq))).scalar() or 0
        if head.sequence > last:
            problems.append(
                Problem(
                    head.sequence,
                    f"deleted: the chain ends at entry {last}, but {label} "
                    f"signed entry {head.sequence}; entries {last + 1}-"
                    f"{head.sequence} were cut off",
                )
            )
        else:
            problems.append(Problem(head.sequence, f"deleted: {label} signed it"))
    elif stored != head.hash:
        problems.append(Problem(head.sequence, f"changed: its hash is not the one {label} signed"))


def verify(
    db: Database, head: SignedHead | None = None, public_key: str | None = None
) -> Verification:
    """Walk the chain; check it against every stored signed head and against `head` (e.g. one
    exported earlier). With `public_key` (the node's, base64), heads signed by any other key
    are problems too. Each problem names the entry and what is wrong with it."""
    report = Verification()
    with db.engine.connect() as conn:
        _walk(conn, report)
        for stored in conn.execute(select(audit_heads).order_by(audit_heads.c.id)):
            signed = SignedHead(
                stored.seq,
                stored.hash,
                utc(stored.signed_at),
                stored.public_key,
                stored.signature,
            )
            _check_head(conn, signed, "the stored head", public_key, report)
        if head is not None:
            _check_head(conn, head, "the exported head", public_key, report)
    report.problems.sort(key=lambda p: p.seq)
    return report
