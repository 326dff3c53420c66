"""Arrow schemas derived from the pydantic models, so the columnar form can never drift.

Parquet files of canonical records and the bulk paths of the store use these schemas. Enums and
literals become strings; nested models become structs; lists become lists; datetimes are
UTC timestamps in microseconds.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any

import pyarrow as pa
from pydantic import AwareDatetime, BaseModel

from redlane.model import (
    Consignment,
    ContainerEvent,
    ControlResult,
    Movement,
    Traveller,
    VesselEvent,
)

RECORD_MODELS: dict[str, type[BaseModel]] = {
    "consignment": Consignment,
    "traveller": Traveller,
    "movement": Movement,
    "control_result": ControlResult,
    "container_event": ContainerEvent,
    "vessel_event": VesselEvent,
}


def _strip(annotation: Any) -> tuple[Any, bool]:
    """Unwrap Annotated and Optional; return the inner type and whether None is allowed."""
    nullable = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            nullable = nullable or len(args) < len(typing.get_args(annotation))
            if len(args) != 1:
                raise TypeError(f"no Arrow type for union {annotation!r}")
            annotation = args[0]
        else:
            return annotation, nullable


def arrow_type(annotation: Any) -> pa.DataType:
    inner, _ = _strip(annotation)
    origin = typing.get_origin(inner)
    if origin is list:
        return pa.list_(arrow_type(typing.get_args(inner)[0]))
    if origin is typing.Literal:
        return pa.string()
    if isinstance(inner, type):
        if issubclass(inner, BaseModel):
            return pa.struct(_fields(inner))
        if issubclass(inner, Enum) or inner is str:
            return pa.string()
        if inner is bool:
            return pa.bool_()
        if inner is int:
            return pa.int64()
        if inner is float:
            return pa.float64()
        if inner is datetime or inner is AwareDatetime:
            return pa.timestamp("us", tz="UTC")
        if inner is date:
            return pa.date32()
    raise TypeError(f"no Arrow type for {annotation!r}")


def _fields(model: type[BaseModel]) -> list[pa.Field]:
    fields = []
    for name, info in model.model_fields.items():
        _, nullable = _strip(info.annotation)
        fields.append(pa.field(name, arrow_type(info.annotation), nullable=nullable))
    return fields


@cache
def arrow_schema(record: str) -> pa.Schema:
    """The Arrow schema of one kind of canonical record ('consignment', 'traveller', ...)."""
    return pa.schema(_fields(RECORD_MODELS[record]))
