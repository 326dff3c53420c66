"""Signatures of messages and receipts: integrity and proof of origin.

The node signs each message it sends with its Ed25519 key (REDLANE_NODE_KEY_FILE): the
canonical serialisation (JSON, sorted keys, no spaces, UTF-8) of the envelope (id, kind,
sender agency and desk, author, time, thread, grading, TLP and handling conditions, urgency and
due time, validity, notice mode and place, the addressees it was sent to) and of the SHA-256 of
the body as sealed. The security label travels inside the signature: a TLP or a handling
condition changed in the store after sending no longer matches, and the mailbox refuses the
message rather than pass it on under conditions its sender did not set. Each receipt is signed
over the message's signature, the user, their agency, the kind and the time, so a receipt
binds what was received by whom and when (RFC 2634's signed receipts, in spirit).

A signature names its key by the SHA-256 of the raw public key; the keys are kept in
`node_keys`, each registered with an audit entry (`node_key`, action `admin`): a key added
behind the log's back is caught by `redlane mailbox verify` together with `redlane audit verify`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from redlane.security import audit
from redlane.security.accounts import Actor
from redlane.security.keys import NodeKey, verify_signature
from redlane.store.database import insert_unless_present, utc
from redlane.store.schema import node_keys

#: The columns of `messages` that the signature covers besides the parties and the body.
ENVELOPE_COLUMNS = (
    "id", "kind", "author", "sent_at", "thread_id", "in_reply_to", "operation", "grading",
    "tlp", "no_forward", "no_court_use", "no_export", "urgency", "due_at", "valid_until",
    "notice_mode", "next_place",
)  # fmt: skip
KEY_OBJECT_KIND = "node_key"


def key_id(public_key: str) -> str:
    """The full SHA-256 (hex) of a base64 raw public key: what a signature names."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def message_content(
    row: Mapping[str, Any],
    sender: str,
    sender_desk: str | None,
    to: Sequence[str],
    body: bytes,
) -> bytes:
    """What a message's signature covers: the envelope `row` (a `messages` row or the dict
    about to be inserted), the sending agency's and desk's codes, the addressees' labels as sent
    (forwards come later and are not the sender's), and the SHA-256 of the body's plaintext."""
    fields = {c: _plain(row[c]) for c in ENVELOPE_COLUMNS}
    fields |= {
        "sender": sender,
        "sender_desk": sender_desk,
        "to": sorted(to),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    return _canonical(fields)


def receipt_content(
    message_signature: str, username: str, agency: str, kind: str, at: datetime
) -> bytes:
    """What a receipt's signature covers: the message (by its signature, which binds its
    content), who, of which agency, what (delivered, opened, actioned) and when."""
    return _canonical({"message": message_signature, "user": username, "agency": agency,
                       "kind": kind, "at": _plain(at)})  # fmt: skip


def sign(key: NodeKey, content: bytes) -> dict[str, str]:
    """The `signature` and `signed_by` columns for `content`."""
    return {"signature": key.sign(content), "signed_by": key_id(key.public_key)}


#: (store, key) pairs known to be registered: a send need not ask again. A registration
#: removed behind redlane's back is not re-made, and `redlane mailbox verify` names it.
_registered: set[tuple[str, str]] = set()


def register(conn: Connection, key: NodeKey, actor: Actor, at: datetime) -> None:
    """Record the node's public key the first time it signs here, with its audit entry, in
    the caller's transaction (so no signature is stored under an unregistered key)."""
    fingerprint = key_id(key.public_key)
    store = conn.engine.url.render_as_string(hide_password=True)
    if (store, fingerprint) in _registered:
        return
    known = conn.execute(
        select(node_keys.c.fingerprint).where(node_keys.c.fingerprint == fingerprint)
    ).first()
    if known is not None:
        _registered.add((store, fingerprint))
        return
    added = conn.execute(
        insert_unless_present(conn, node_keys)
        .values(fingerprint=fingerprint, public_key=key.public_key, registered_at=at)
        .returning(node_keys.c.fingerprint)
    ).first()
    if added is not None:  # not by a session at the same moment
        audit.append(conn, actor, audit.Action.ADMIN, "node signing key registered",
                     KEY_OBJECT_KIND, fingerprint, {"public_key": key.public_key},
                     at=at)  # fmt: skip


def problem(
    conn: Connection, signature: str | None, signed_by: str | None, content: bytes
) -> str | None:
    """Why `signature` is not a valid signature of `content` by a registered node key, or
    None when it is."""
    if not signature or not signed_by:
        return "it carries no signature"
    public_key = conn.execute(
        select(node_keys.c.public_key).where(node_keys.c.fingerprint == signed_by)
    ).scalar()
    if public_key is None:
        return f"it is signed by key {signed_by[:16]}…, which is not a registered node key"
    if not verify_signature(public_key, signature, content):
        return "its signature does not match its content: it was changed after it was signed"
    return None
