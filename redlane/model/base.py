"""Base class and provenance shared by every canonical record."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict


class RedlaneModel(BaseModel):
    """Strict about unknown fields: a typo in a feed is an error, not silently dropped data."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(RedlaneModel):
    """Where a record came from. Not part of its content: the same data re-sent is a duplicate."""

    message_ref: str | None = None
    sender: str | None = None
    received_at: AwareDatetime | None = None
