"""UN/EDIFACT interchanges read as a stream of messages, pydifact as the tokenizer.

The file is read block by block and cut into segments on the terminator (minding the release
character), so memory stays flat in the file size whatever the interchange holds. Service
segments are ours to handle: `UNA` sets the separators, `UNB` gives the sender and the
interchange reference, `UNG`/`UNE` functional groups (which pydifact does not support) are
skipped, and each `UNH`…`UNT` message is handed to pydifact's parser on its own, so a broken
message is one error (naming the segment) and the next message still reads. Whitespace and line
breaks between segments, and before `UNA`, are dropped (pydifact fails on them).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError, MissingImplementationWarning
from pydifact.parser import Parser
from pydifact.segments import Segment

_DEFAULT = Characters.from_str("UNA:+.? '")
_TAG = re.compile(r"[A-Z0-9]{3}")
_BLOCK = 1 << 20
#: The longest a message may be before it is refused (a runaway message without UNT).
MAX_MESSAGE_CHARS = 16 << 20


class EdifactError(ValueError):
    """A message that cannot be read: names the message and the segment."""

    def __init__(self, locator: str, reason: str, raw: str) -> None:
        self.locator = locator
        self.reason = reason
        self.raw = raw
        super().__init__(f"{locator}: {reason}")


@dataclass
class Message:
    """One UNH…UNT message with what the interchange says about it."""

    number: int
    """1-based position of the message in the file."""
    reference: str
    """UNH message reference (0062)."""
    type: str
    version: str
    """e.g. 'D:95B:UN' or 'D:95B:UN:SMDG20'."""
    segments: list[Segment]
    raw: str
    sender: str | None = None
    interchange: str | None = None
    """UNB interchange control reference."""
    first_segment: int = 1
    """Position of UNH among the file's segments (1-based), for error locators."""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def locator(self) -> str:
        return f"message {self.number} (UNH {self.reference})"

    def where(self, index: int) -> str:
        """Locator of the message's segment `index` (0-based in `segments`)."""
        tag = self.segments[index].tag if 0 <= index < len(self.segments) else "?"
        return f"{self.locator}, segment {self.first_segment + index} {tag}"


def _segments(handle: TextIO) -> Iterator[tuple[str, Characters]]:
    """Raw segment texts (without terminator) and the separators in force."""
    chars = _DEFAULT
    pending = ""
    first = True
    while block := handle.read(_BLOCK):
        text = pending + block
        if first:
            text = text.lstrip()
            if text.startswith("UNA") and len(text) >= 9:
                chars = Characters.from_str(text[:9])
                text = text[9:]
            first = False
        start = 0
        i = 0
        terminator, release = chars.segment_terminator, chars.escape_character
        while True:
            j = text.find(terminator, i)
            if j < 0:
                break
            # A terminator preceded by an odd number of release characters is data.
            k = j
            while k > start and text[k - 1] == release:
                k -= 1
            if (j - k) % 2 == 1:
                i = j + 1
                continue
            segment = text[start:j].strip()
            if segment:
                yield segment, chars
            start = i = j + 1
        pending = text[start:]
        if len(pending) > MAX_MESSAGE_CHARS:
            raise EdifactError(
                "end of file", "a segment runs on without a terminator", pending[:200]
            )
    if pending.strip():
        yield pending.strip(), chars


def _split(segment: str, chars: Characters) -> list[str]:
    """The data elements of a raw segment text (top level only, release-aware)."""
    out, current, escaped = [], [], False
    for c in segment:
        if escaped:
            current.append(c)
            escaped = False
        elif c == chars.escape_character:
            current.append(c)
            escaped = True
        elif c == chars.data_separator:
            out.append("".join(current))
            current = []
        else:
            current.append(c)
    out.append("".join(current))
    return out


def read_messages(path: Path) -> Iterator[Message | EdifactError]:
    """The messages of an interchange file, in order; an unreadable one as an EdifactError."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        yield from read_stream(handle)


def read_stream(handle: TextIO) -> Iterator[Message | EdifactError]:
    """`read_messages` over an open text stream."""
    parser = Parser()
    sender: str | None = None
    interchange: str | None = None
    body: list[str] = []
    chars = _DEFAULT
    number = 0
    position = 0
    started = 0
    for segment, chars in _segments(handle):
        position += 1
        tag = segment[:3]
        if tag == "UNB":
            parts = _split(segment, chars)
            sender = parts[2].split(chars.component_separator)[0] if len(parts) > 2 else None
            interchange = parts[5] if len(parts) > 5 else None
            continue
        # Functional groups are skipped; a later interchange's UNA repeats the separators
        # (a change of separators inside one file is not supported).
        if tag in ("UNA", "UNG", "UNE", "UNZ"):
            continue
        if tag == "UNH":
            if body:
                number += 1
                yield EdifactError(
                    f"message {number}, segment {started}",
                    "UNH without its UNT: the message is cut off",
                    _text(body, chars),
                )
            body = [segment]
            started = position
            continue
        if not body:
            number += 1
            yield EdifactError(
                f"segment {position} {tag}", "segment outside a UNH…UNT message", segment
            )
            continue
        body.append(segment)
        if tag == "UNT":
            number += 1
            yield _message(parser, body, chars, number, started, sender, interchange)
            body = []
    if body:
        number += 1
        yield EdifactError(
            f"message {number}, segment {started}",
            "the file ends inside a message (no UNT)",
            _text(body, chars),
        )


def _text(body: list[str], chars: Characters) -> str:
    return "".join(s + chars.segment_terminator for s in body)


def _message(
    parser: Parser,
    body: list[str],
    chars: Characters,
    number: int,
    started: int,
    sender: str | None,
    interchange: str | None,
) -> Message | EdifactError:
    raw = _text(body, chars)
    head = _split(body[0], chars)
    reference = head[1] if len(head) > 1 else "?"
    locator = f"message {number} (UNH {reference})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingImplementationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)  # empty segments: checked below
            segments = list(parser.parse(raw, characters=chars))
    except (EDISyntaxError, ValueError, IndexError, TypeError) as exc:
        return EdifactError(f"{locator}, segment {started}", f"cannot tokenize: {exc}", raw)
    for i, segment in enumerate(segments):
        if not _TAG.fullmatch(segment.tag):
            return EdifactError(
                f"{locator}, segment {started + i}",
                f"{segment.tag[:20]!r} is not a segment tag (three letters or digits)",
                raw,
            )
    unh, unt = segments[0], segments[-1]
    identifier = unh.elements[1] if len(unh.elements) > 1 else ""
    parts = identifier if isinstance(identifier, list) else [identifier]
    if not parts or not parts[0]:
        return EdifactError(f"{locator}, segment {started} UNH", "no message type in UNH", raw)
    count = unt.elements[0] if unt.elements else ""
    if not isinstance(count, str) or not count.isdigit() or int(count) != len(segments):
        return EdifactError(
            f"{locator}, segment {started + len(segments) - 1} UNT",
            f"UNT counts {count or 'nothing'} segments, the message has {len(segments)}",
            raw,
        )
    return Message(
        number, str(reference), str(parts[0]), ":".join(str(p) for p in parts[1:]), segments,
        raw, sender, interchange, started,
    )  # fmt: skip


def element(segment: Segment, index: int) -> Any:
    """Data element `index` of a segment ('' when absent)."""
    return segment.elements[index] if len(segment.elements) > index else ""


def part(segment: Segment, index: int, component: int = 0) -> str:
    """Component `component` of element `index` ('' when absent)."""
    value = element(segment, index)
    if isinstance(value, list):
        return str(value[component]) if len(value) > component else ""
    return str(value) if component == 0 else ""


def parse_time(text: str, fmt: str) -> datetime:
    """A DTM value in format 102, 203 or 204, as UTC."""
    formats = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
    if fmt not in formats:
        raise ValueError(f"date format {fmt or '(none)'} is not 102, 203 or 204")
    return datetime.strptime(text, formats[fmt]).replace(tzinfo=UTC)


def message_type(path: Path) -> str | None:
    """The type of the file's first message (e.g. 'CUSCAR'), or None if it is not EDIFACT."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return head_message_type(handle.read(4096))


def head_message_type(head: str) -> str | None:
    """The type of the first message in the opening text of an interchange, or None if the
    text is not EDIFACT."""
    head = head.lstrip()
    if not head.startswith(("UNA", "UNB", "UNH")):
        return None
    at = head.find("UNH")
    if at < 0:
        return None
    chars = Characters.from_str(head[:9]) if head.startswith("UNA") else _DEFAULT
    end = head.find(chars.segment_terminator, at)
    parts = _split(head[at : end if end > 0 else None], chars)
    if len(parts) < 3:
        return None
    return parts[2].split(chars.component_separator)[0] or None
