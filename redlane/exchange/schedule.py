"""When a message falls due for review (CIS practice: every alert and every record of personal
data is reviewed at least yearly), kept apart so that the mailbox can date a message as it
stores it and `redlane.exchange.retention` can act on the dates."""

from __future__ import annotations

import calendar
from datetime import datetime

from redlane.exchange.model import EntityKind, Message, MessageKind

#: Review due this many months after sending (or after a decision to keep).
REVIEW_MONTHS = 12
#: The owner is told this many months before the review is due.
NOTICE_MONTHS = 1
#: Restricted for this many months after the review was due, then erased.
RESTRICTED_MONTHS = 12


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (or earlier); a day the month lacks (31 January
    plus one month) becomes the month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def needs_review(message: Message) -> bool:
    """An alert, or a message naming a person: both are reviewed yearly."""
    return message.kind == MessageKind.CIS_ALERT or any(
        e.kind == EntityKind.PERSON for e in message.entities
    )
