"""What came of an alert or notice: the typed feedback of the sightings and replies it received,
and the watchlist entries its sender ends on it.

A SIGHTING (and a REPLY, if it types its result) to a CIS alert or mode notice carries a
`Feedback` part: the outcome (seen, controlled_nothing_found, seized, false_match, no_action,
expired), the day, the place and the control's reference. `feedback_on` gathers it for someone
through the mailbox's own `read` and `thread`, so need-to-know holds: the sending agency sees
every answer addressed to it, a recipient only the answers it may see (its own, and those
addressed or forwarded to it). Each answer opened is a read the mailbox audits with the
purpose, and writes the reader's `opened` receipt, as opening it in the inbox would.

`close_on_feedback` is the sender's decision, never automatic: the subject was seized, or the
alert or notice was a false match, so its watchlist entries end from a day on.

    summary = feedback_on(db, elena, alert_id)
    summary.counts[Outcome.SEIZED]
    close_on_feedback(db, elena, alert_id, Outcome.SEIZED, date(2026, 11, 3), "120 kg cocaine")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from redlane.exchange import access, mailbox
from redlane.exchange.crypto import Kek
from redlane.exchange.handling import Decision
from redlane.exchange.model import EntityKind, Feedback, MessageKind, Outcome
from redlane.exchange.watchlist import WatchlistEntry, audited_expire
from redlane.security.accounts import Actor, Capability, require
from redlane.store.database import Database

#: The purpose the audit log records for the reads of `feedback_on` when the reader gives none.
FEEDBACK_PURPOSE = "feedback on an alert or notice"
#: The messages that ask for a result: the kinds feedback is about.
ASKING_KINDS = frozenset({MessageKind.CIS_ALERT, MessageKind.MODE_NOTICE})
#: The answers that carry feedback: a sighting always, a reply when it types its result.
ANSWER_KINDS = frozenset({MessageKind.SIGHTING, MessageKind.REPLY})
#: The outcomes on which the sender may end an alert's or notice's watchlist entries.
CLOSING_OUTCOMES = frozenset({Outcome.SEIZED, Outcome.FALSE_MATCH})


class FeedbackError(mailbox.MailboxError):
    """A message that receives no feedback, or a closing the outcome does not allow; the
    message names the field and the reason."""


@dataclass(frozen=True)
class Answer:
    """One answer's feedback: who answered, when it was sent, and what it says came of it."""

    reply_id: str
    agency: str
    desk: str | None
    kind: MessageKind
    sent_at: datetime
    feedback: Feedback

    def to_dict(self) -> dict[str, Any]:
        return {
            "reply_id": self.reply_id,
            "agency": self.agency,
            "desk": self.desk,
            "kind": self.kind.value,
            "sent_at": self.sent_at.isoformat(),
            **self.feedback.model_dump(mode="json", exclude_none=True),
        }


@dataclass(frozen=True)
class FeedbackSummary:
    """The feedback an alert or notice received, as far as the reader may see it."""

    message_id: str
    kind: MessageKind
    subject: str
    counts: dict[Outcome, int]
    """Answers per outcome, every outcome named (0 when none)."""
    answers: list[Answer]
    """Oldest first."""
    untyped: list[str] = field(default_factory=list)
    """Replies to it that carry no feedback (a question back, a reply sent before feedback was
    typed)."""
    erased: list[str] = field(default_factory=list)
    """Answers whose content retention erased: they count for no outcome."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "kind": self.kind.value,
            "subject": self.subject,
            "counts": {o.value: n for o, n in self.counts.items()},
            "answers": [a.to_dict() for a in self.answers],
            "untyped": self.untyped,
            "erased": self.erased,
        }


def feedback_on(
    db: Database,
    actor: Actor,
    message_id: str,
    *,
    purpose: str = FEEDBACK_PURPOSE,
    kek: Kek | None = None,
) -> FeedbackSummary:
    """The feedback on a CIS alert or mode notice that the actor may see: per outcome counts,
    and who answered what, when and where. Opens the message and each sighting or reply that
    answers it through `mailbox.read` (audited with `purpose`), after listing its thread with
    `mailbox.thread`. NotFound when the actor may not see the message; FeedbackError when it
    is no alert or notice."""
    asked = mailbox.read(db, actor, message_id, purpose, kek=kek).envelope
    if asked.kind not in ASKING_KINDS:
        raise FeedbackError(
            f"message {message_id}: a {asked.kind.value} asks for no result; feedback is on CIS "
            "alerts and mode notices"
        )
    answers: list[Answer] = []
    untyped: list[str] = []
    erased: list[str] = []
    for envelope in mailbox.thread(db, actor, asked.thread_id, kek=kek):
        if envelope.in_reply_to != message_id or envelope.kind not in ANSWER_KINDS:
            continue
        try:
            opened = mailbox.read(db, actor, envelope.id, purpose, kek=kek)
        except mailbox.Erased:
            erased.append(envelope.id)
            continue
        if opened.message.feedback is None:
            untyped.append(envelope.id)
            continue
        answer = Answer(
            envelope.id,
            envelope.sender,
            envelope.sender_desk,
            envelope.kind,
            envelope.sent_at,
            opened.message.feedback,
        )
        answers.append(answer)
    counts = dict.fromkeys(Outcome, 0)
    for answer in answers:
        counts[answer.feedback.outcome] += 1
    return FeedbackSummary(message_id, asked.kind, asked.subject, counts, answers, untyped, erased)


def close_on_feedback(
    db: Database,
    actor: Actor,
    message_id: str,
    outcome: Outcome | str,
    on: date,
    reason: str,
    *,
    entity_kind: EntityKind | None = None,
) -> list[WatchlistEntry]:
    """The sending agency's decision that its alert or notice is done with: the subject was
    seized, or it was a false match. Its watchlist entries (or those on one kind of subject)
    end from `on` (`audited_expire`: earlier days keep them for back-tests), audited with the
    outcome and the reason. Needs send_messages and a user of the sending agency: NotFound
    when the actor may not see the message, Refused (rule `owner`) when their agency did not
    send it, FeedbackError for another outcome, a blank reason or a message that is no alert
    or notice. Returns the entries ended."""
    try:
        chosen = Outcome(outcome)
    except ValueError:
        raise FeedbackError(f"outcome: {outcome!r} is not one of the outcomes") from None
    if chosen not in CLOSING_OUTCOMES:
        raise FeedbackError(
            f"outcome: {chosen.value} ends no watchlist entry; seized or false_match do"
        )
    if not reason.strip():
        raise FeedbackError("reason: say what was seized, or why the match was false")
    with db.engine.connect() as conn:
        who = access.reader(conn, actor)
        row = access.visible_row(conn, who, message_id)
    require(actor, Capability.SEND_MESSAGES)
    if MessageKind(row.kind) not in ASKING_KINDS:
        raise FeedbackError(
            f"message {message_id}: a {row.kind} has no watchlist entries to end; CIS alerts "
            "and mode notices do"
        )
    if row.sender_agency_id != who.agency_id:
        raise mailbox.Refused(
            Decision(False, "owner", "only the sending agency ends its alert's or notice's entries")
        )
    because = f"{chosen.value}: {reason.strip()}"
    return audited_expire(db, actor, message_id, on, because, entity_kind)
