"""The transport sector's message formats that redlane reads: how each is recognised, read
and mapped onto canonical records.

A format is one `MessageFormat` entry in `MESSAGE_FORMATS`; the ingest path, the quarantine
retry, format detection and the directory listing all go through this table, so a new
format is a reader module and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from redlane.intake import cargoimp
from redlane.intake.ais import ais_records, read_ais, recognise_ais
from redlane.intake.canonical import CANONICAL_FORMATS, FormatError, Problem, RawRecord
from redlane.intake.containers import read_container_events
from redlane.intake.cuscar import read_cuscar
from redlane.intake.edifact import EdifactError, Message, head_message_type, read_stream
from redlane.intake.iftm import Mapped, read_ifcsum, read_iftmcs
from redlane.intake.manifest import MappingError
from redlane.intake.passengers import read_passenger_stream, require_legal_basis
from redlane.intake.paxlst import read_paxlst
from redlane.intake.pnrgov import read_pnrgov
from redlane.intake.tabular import mapping_for_columns, table_columns

MappedItem = tuple[list[RawRecord], list[Problem]]
"""The canonical records mapped from one message, or the problems that refused it."""


def _admitted() -> None:
    """Formats without personal data are read wherever redlane runs."""


@dataclass(frozen=True)
class MessageFormat:
    name: str
    title: str
    extensions: tuple[str, ...]
    """File extensions a directory ingest reads as this format (the content decides)."""
    record_marks: tuple[bytes, ...]
    """Byte strings that open a record, counted for progress without parsing."""
    recognise: Callable[[str], bool]
    """Whether the first 4 KB of a file's text are this format."""
    read: Callable[[TextIO], Iterator[Any]]
    """The file's messages in order, an unreadable one as the format's error item."""
    records: Callable[[Any], MappedItem]
    """One item of `read` mapped to raw canonical records, or the problem that stops it."""
    admit: Callable[[], None] = _admitted
    """Raises IntakeRefused when the format may not be read here (personal data without a
    legal basis); called before anything of a file is read."""


def edifact_records(item: Message | EdifactError) -> MappedItem:
    """The canonical records mapped from one EDIFACT message (each with its segment as locator
    and the message as text), or the problem that stops the whole message."""
    if isinstance(item, EdifactError):
        return [], [Problem(item.locator, None, item.reason, item.raw)]
    mapper = _EDIFACT_MAPPERS.get(item.type)
    try:
        if mapper is None:
            raise MappingError(item.locator, None, f"{item.type} messages are not read here")
        mapped = mapper(item)
    except MappingError as exc:
        return [], [Problem(exc.locator, exc.field, exc.reason, item.raw, sender=item.sender)]
    return [RawRecord(locator, data, item.raw) for locator, data in mapped], []


def _manifest(read: Callable[[Message], Mapped]) -> Callable[[Message], list[tuple[str, Any]]]:
    """The mapper of a sea manifest type: its voyage (located at its TDT) and its bills."""

    def mapper(message: Message) -> list[tuple[str, Any]]:
        movement, documents = read(message)
        mapped = [(message.where(i), d) for i, d in documents]
        return mapped if movement is None else [(f"{message.locator}, TDT", movement), *mapped]

    return mapper


def _container_events(message: Message) -> list[tuple[str, Any]]:
    return [(message.where(i), d) for i, d in read_container_events(message)]


def _paxlst(message: Message) -> list[tuple[str, Any]]:
    return [(message.where(i), d) for i, d in read_paxlst(message)]


def _pnrgov(message: Message) -> list[tuple[str, Any]]:
    return [(message.where(i), d) for i, d in read_pnrgov(message)]


#: EDIFACT message type (UNH 0065) → the mapper of its messages.
_EDIFACT_MAPPERS: dict[str, Callable[[Message], list[tuple[str, Any]]]] = {
    "CUSCAR": _manifest(read_cuscar),
    "IFTMCS": _manifest(read_iftmcs),
    "IFCSUM": _manifest(read_ifcsum),
    "BAPLIE": _container_events,
    "COARRI": _container_events,
    "PAXLST": _paxlst,
    "PNRGOV": _pnrgov,
}
_EDIFACT_EXTENSIONS = (".edi", ".edifact")


def _edifact(
    name: str, title: str, marks: tuple[bytes, ...], personal: bool = False
) -> MessageFormat:
    """An EDIFACT format; `personal` data is read only with its legal basis (its reader
    refuses too, whoever calls it)."""
    return MessageFormat(
        name=name,
        title=title,
        extensions=_EDIFACT_EXTENSIONS,
        record_marks=marks,
        recognise=lambda head: head_message_type(head) == name.upper(),
        read=read_passenger_stream if personal else read_stream,
        records=edifact_records,
        admit=require_legal_basis if personal else _admitted,
    )


MESSAGE_FORMATS: dict[str, MessageFormat] = {
    f.name: f
    for f in (
        _edifact("cuscar", "UN/EDIFACT CUSCAR customs cargo report", (b"TDT+", b"CNI+")),
        _edifact(
            "iftmcs",
            "UN/EDIFACT IFTMCS bill of lading (instruction contract status)",
            (b"TDT+", b"BGM+"),
        ),
        _edifact(
            "ifcsum", "UN/EDIFACT IFCSUM forwarding and consolidation summary", (b"TDT+", b"CNI+")
        ),
        _edifact("baplie", "UN/EDIFACT BAPLIE bay plan (SMDG 2.x and 3.x)", (b"EQD+",)),
        _edifact("coarri", "UN/EDIFACT COARRI terminal report", (b"EQD+",)),
        _edifact(
            "paxlst",
            "UN/EDIFACT PAXLST passenger and crew list (API)",
            (b"NAD+F", b"NAD+DD"),
            personal=True,
        ),
        _edifact("pnrgov", "IATA PADIS PNRGOV PNR push", (b"TIF+",), personal=True),
        MessageFormat(
            name="cargoimp",
            title="IATA Cargo-IMP air waybills, house lists and flight manifests (FWB, FHL, FFM)",
            # not .txt: a directory's notes are no messages (a .txt named alone is read by content)
            extensions=(".cimp", ".fwb", ".fhl", ".ffm"),
            # one record per FWB, per FHL house and per FFM
            record_marks=(b"FWB/", b"HBS/", b"FFM/"),
            recognise=cargoimp.recognise,
            read=cargoimp.read_stream,
            records=cargoimp.records,
        ),
        MessageFormat(
            name="ais",
            title="AIS NMEA 0183 (!AIVDM/!AIVDO, tag blocks, Gatehouse) as vessel events",
            extensions=(".nmea", ".ais"),
            record_marks=(b"!AIVDM", b"!AIVDO", b"\\"),
            recognise=recognise_ais,
            read=read_ais,
            records=ais_records,
        ),
    )
}
FORMATS: tuple[str, ...] = (*CANONICAL_FORMATS, *MESSAGE_FORMATS)
_CANONICAL_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
#: Every extension a directory ingest reads (CSV through the shipped mapping of its layout).
READ_EXTENSIONS = tuple(
    sorted(
        {
            *_CANONICAL_EXTENSIONS,
            ".csv",
            *(e for f in MESSAGE_FORMATS.values() for e in f.extensions),
        }
    )
)
_HEAD_CHARS = 4096


def admit(fmt: str) -> None:
    """Raise IntakeRefused if files of format `fmt` may not be read here."""
    message_format = MESSAGE_FORMATS.get(fmt)
    if message_format is not None:
        message_format.admit()


def file_head(path: Path) -> str:
    """The first 4 KB of a file as text (undecodable bytes replaced)."""
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return handle.read(_HEAD_CHARS)


def recognise(text: str) -> MessageFormat | None:
    """The message format whose text this is, by its first 4 KB; None if none claims it."""
    head = text[:_HEAD_CHARS]
    return next((f for f in MESSAGE_FORMATS.values() if f.recognise(head)), None)


def detect_format(path: Path, declared: str | None = None) -> str:
    """The format of a file: as declared; a CSV or JSON Lines table of a shipped layout (truck
    crossings, ...) as `mapped:<mapping>`; by extension for canonical files; else by the
    content of its first 4 KB."""
    if declared is not None:
        if declared not in FORMATS:
            raise FormatError(
                f"--format {declared!r} is not supported; use one of {', '.join(FORMATS)}"
            )
        return declared
    columns = table_columns(path)
    if columns is not None and "record" not in columns:
        # a table of some sector's own layout: the shipped mapping that knows its columns
        mapping = mapping_for_columns(columns)
        if mapping is not None:
            return f"mapped:{mapping.name}"
        if path.suffix.lower() == ".csv":
            raise FormatError(
                f"{path}: no single shipped mapping fits the columns {', '.join(columns[:8])}; "
                "pass --mapping with a mapping file"
            )
    known = _CANONICAL_EXTENSIONS.get(path.suffix.lower())
    if known:
        return known
    head = file_head(path)
    found = recognise(head)
    if found is not None:
        return found.name
    kind = head_message_type(head)
    if kind:
        raise FormatError(
            f"{path}: EDIFACT {kind} messages are not read yet; redlane reads "
            f"{', '.join(f.upper() for f in MESSAGE_FORMATS)}"
        )
    raise FormatError(
        f"{path}: cannot tell the format from the extension {path.suffix!r} or the content; "
        f"pass --format ({', '.join(FORMATS)})"
    )
