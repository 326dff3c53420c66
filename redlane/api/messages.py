"""The mailbox over HTTP: send, inbox, read, search, thread, forward, reply, export,
receipts and overdue requests. On a message's own routes every refusal answers 404: a message
the caller may not see with the same body as one that does not exist, a refusal by the sender's
handling or the caller's role on a message they may see with the rule named (they know it
exists). Routes about no one message (send, inbox, search) answer 403 to a role that may not."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from redlane.api import actor, database
from redlane.config import ConfigError
from redlane.exchange import mailbox, retention, stix
from redlane.exchange.crypto import Kek, load_kek
from redlane.exchange.model import Message, MessageKind
from redlane.security.accounts import Actor, Forbidden
from redlane.security.audit import AuditError
from redlane.store.database import Database

router = APIRouter(prefix="/messages", tags=["messages"])
Store = Annotated[Database, Depends(database)]
Who = Annotated[Actor, Depends(actor)]
Purpose = Annotated[
    str, Header(alias="X-Redlane-Purpose", description="Why you ask (audited).", min_length=1)
]


def node_kek(request: Request) -> Kek:
    """The node's key encryption key: given to `create_app`, else REDLANE_NODE_KEK_FILE."""
    kek: Kek | None = request.app.state.kek
    if kek is None:
        try:
            kek = request.app.state.kek = load_kek()
        except ConfigError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    return kek


Key = Annotated[Kek, Depends(node_kek)]


@contextmanager
def answers(about_a_message: bool = False) -> Iterator[None]:
    """Library errors as HTTP answers; on a message's own routes a refusal is a 404 too."""
    refused = status.HTTP_404_NOT_FOUND if about_a_message else status.HTTP_403_FORBIDDEN
    try:
        yield
    except mailbox.NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, mailbox.NOT_FOUND) from exc
    except (mailbox.Refused, Forbidden) as exc:
        raise HTTPException(refused, str(exc)) from exc
    except mailbox.Erased as exc:
        raise HTTPException(status.HTTP_410_GONE, str(exc)) from exc
    except mailbox.Tampered as exc:  # the store was changed behind redlane's back
        raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, str(exc)) from exc
    except (mailbox.MailboxError, AuditError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except ConfigError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc


def _call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with answers():
        return function(*args, **kwargs)


def on_message(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`_call` on a route of one message: every refusal answers 404."""
    with answers(about_a_message=True):
        return function(*args, **kwargs)


class Upload(BaseModel):
    name: str = Field(min_length=1, description="The file name.")
    media_type: str = Field(description="e.g. application/pdf")
    content: str = Field(description="The file's bytes, base64.")

    def attachment(self) -> mailbox.Attachment:
        try:
            data = base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise mailbox.MailboxError(f"attachment {self.name!r}: content is not base64") from exc
        return mailbox.Attachment(self.name, self.media_type, data)


class Outgoing(BaseModel):
    message: Message
    to: list[str] = Field(default_factory=list, description="Agency or desk codes.")
    desk: str | None = Field(default=None, description="Send as this desk of yours.")
    attachments: list[Upload] = Field(default_factory=list, description="Files, encrypted.")


class Uploads(BaseModel):
    attachments: list[Upload] = Field(min_length=1)


class ReviewDecision(BaseModel):
    decision: Literal["keep", "erase"]


class Addressees(BaseModel):
    to: list[str] = Field(min_length=1, description="Agency or desk codes.")


@router.post("", status_code=status.HTTP_201_CREATED)
def send_message(body: Outgoing, db: Store, who: Who, kek: Key) -> dict[str, Any]:
    """Send a message to agencies and desks; mode notices also go to the services routed for
    their next place; requests get their legal due time."""
    with answers():
        files = [u.attachment() for u in body.attachments]
        sent = mailbox.send(db, who, body.message, body.to, desk=body.desk, kek=kek,
                            attachments=files)  # fmt: skip
    return dict(sent.to_dict())


@router.get("")
def list_inbox(
    db: Store,
    who: Who,
    kek: Key,
    box: Literal["received", "sent", "all"] = "received",
    kind: MessageKind | None = None,
    unread: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    sender: str | None = None,
    limit: Annotated[int, Query(ge=1, le=mailbox.MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Your messages, newest first (envelopes: headers and subject)."""
    found = _call(mailbox.inbox, db, who, box=box, kind=kind, unread=unread, since=since,
                  until=until, sender=sender, limit=limit, offset=offset, kek=kek)  # fmt: skip
    return [e.to_dict() for e in found]


@router.get("/search")
def search_messages(
    db: Store,
    who: Who,
    kek: Key,
    purpose: Purpose,
    entity: Annotated[str | None, Query(description="KIND:IDENTIFIER, e.g. vessel:9319466")] = None,
    kind: MessageKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sender: str | None = None,
    limit: Annotated[int, Query(ge=1, le=mailbox.MAX_LIMIT)] = 100,
) -> list[dict[str, Any]]:
    """Messages you may see by entity, kind, time and sender (audited)."""
    found = _call(mailbox.search, db, who, purpose, entity=entity, kind=kind, since=since,
                  until=until, sender=sender, limit=limit, kek=kek)  # fmt: skip
    return [e.to_dict() for e in found]


@router.get("/overdue")
def overdue_requests(db: Store, who: Who, kek: Key) -> list[dict[str, Any]]:
    """Requests to your agency or desks past their due time without your agency's reply."""
    return [e.to_dict() for e in _call(mailbox.overdue, db, who, kek=kek)]


@router.get("/threads/{thread_id}")
def get_thread(thread_id: str, db: Store, who: Who, kek: Key) -> list[dict[str, Any]]:
    """The messages of a thread you may see, oldest first."""
    return [e.to_dict() for e in _call(mailbox.thread, db, who, thread_id, kek=kek)]


@router.get("/{message_id}")
def read_message(
    message_id: str, db: Store, who: Who, kek: Key, purpose: Purpose
) -> dict[str, Any]:
    """Open a message (decrypted; writes your `opened` receipt; audited with the purpose)."""
    opened = on_message(mailbox.read, db, who, message_id, purpose, kek=kek)
    return dict(opened.to_dict())


@router.post("/{message_id}/forward")
def forward_message(
    message_id: str, body: Addressees, db: Store, who: Who, kek: Key, purpose: Purpose
) -> dict[str, Any]:
    """Forward within what the sender's handling allows (audited; refusals too)."""
    done = on_message(mailbox.forward, db, who, message_id, body.to, purpose, kek=kek)
    return {"to": done.to, "rules": done.rules}


@router.post("/{message_id}/reply", status_code=status.HTTP_201_CREATED)
def reply_to_message(
    message_id: str, body: Outgoing, db: Store, who: Who, kek: Key
) -> dict[str, Any]:
    """Answer in the thread: to the sender, and to `to`."""
    sent = on_message(mailbox.reply, db, who, message_id, body.message, body.to, desk=body.desk,
                 kek=kek)  # fmt: skip
    return dict(sent.to_dict())


@router.get("/{message_id}/export")
def export_message(
    message_id: str, db: Store, who: Who, kek: Key, purpose: Purpose
) -> dict[str, Any]:
    """The message as a JSON document to take out of redlane, unless its handling forbids
    (no_export, TLP:RED); audited."""
    return dict(on_message(mailbox.export, db, who, message_id, purpose, kek=kek))


@router.get("/{message_id}/stix")
def export_message_stix(
    message_id: str, db: Store, who: Who, kek: Key, purpose: Purpose
) -> dict[str, Any]:
    """The message as a STIX 2.1 bundle (TLP 2.0 marking), under the rules of `/export`; a
    no_export or TLP:RED message makes no bundle, even for its sender. Audited."""
    return dict(on_message(stix.export_stored, db, who, message_id, purpose, kek=kek))


@router.get("/{message_id}/receipts")
def message_receipts(message_id: str, db: Store, who: Who) -> list[dict[str, Any]]:
    """Deliveries and opened/actioned receipts (all for the sender, your agency's otherwise)."""
    return [r.to_dict() for r in on_message(mailbox.receipts_of, db, who, message_id)]


@router.post("/{message_id}/actioned", status_code=status.HTTP_204_NO_CONTENT)
def mark_actioned(message_id: str, db: Store, who: Who) -> None:
    """Record that you acted on the message."""
    on_message(mailbox.mark_actioned, db, who, message_id)


@router.post("/{message_id}/attachments", status_code=status.HTTP_201_CREATED)
def add_attachments(
    message_id: str, body: Uploads, db: Store, who: Who, kek: Key, purpose: Purpose
) -> list[dict[str, Any]]:
    """Attach files to a message your agency sent (each sealed with its own key; at most
    REDLANE_ATTACHMENT_MAX_BYTES each)."""
    with answers(about_a_message=True):
        files = [u.attachment() for u in body.attachments]
        added = mailbox.attach(db, who, message_id, files, purpose, kek=kek)
    return [a.to_dict() for a in added]


@router.get("/{message_id}/attachments/{n}")
def get_attachment(
    message_id: str, n: int, db: Store, who: Who, kek: Key, purpose: Purpose
) -> Response:
    """Attachment N of a message you may see, decrypted (audited with the purpose)."""
    found = on_message(mailbox.attachment, db, who, message_id, n, purpose, kek=kek)
    disposition = f"attachment; filename*=UTF-8''{quote(found.info.name)}"
    return Response(found.data, media_type=found.info.media_type,
                    headers={"Content-Disposition": disposition})  # fmt: skip


@router.post("/{message_id}/review")
def review_message(
    message_id: str, body: ReviewDecision, db: Store, who: Who, purpose: Purpose
) -> dict[str, Any]:
    """Retention review by the sending agency: keep (another 12 months) or erase now."""
    done = on_message(retention.review, db, who, message_id, body.decision, purpose)
    return dict(done.to_dict())
