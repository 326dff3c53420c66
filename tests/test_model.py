"""The domain model: what it accepts, refuses and flags; its Arrow form never drifts."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from conftest import (
    make_consignment,
    make_container_event,
    make_control_result,
    make_movement,
    make_traveller,
    make_vessel_event,
)
from pydantic import ValidationError

from redlane.intake.pipeline import to_arrow
from redlane.model import Call, Equipment, TransportDocument
from redlane.model.arrow import RECORD_MODELS, arrow_schema


def test_invalid_identifiers_are_kept_and_flagged() -> None:
    c = make_consignment(
        document=TransportDocument(kind="air_waybill", number="020-12345676"),
        equipment=[Equipment(number="CSQU3054384")],
    )
    assert c.document.number_valid is False
    assert c.equipment[0].number_valid is False
    assert make_consignment().equipment[0].number_valid is True
    vessel = make_movement().conveyance
    assert (vessel.imo_valid, vessel.mmsi_valid) == (True, True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"origin_country": "XX"}, "origin_country"),
        ({"place_of_loading": "Guayaquil"}, "place_of_loading"),
        ({"goods": []}, "goods"),
        ({"parties": []}, "parties"),
        ({"declared_at": datetime(2026, 11, 1, 8)}, "declared_at"),  # no time zone
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_broken_consignment_is_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        make_consignment(**changes)
    assert field in {str(e["loc"][0]) for e in error.value.errors()}


def test_an_itinerary_must_go_forward_in_time() -> None:
    with pytest.raises(ValidationError, match="backwards"):
        make_movement(
            itinerary=[
                Call(place="NLRTM", arrival=datetime(2026, 11, 2, tzinfo=UTC)),
                Call(place="ECGYE", departure=datetime(2026, 10, 1, tzinfo=UTC)),
            ]
        )


def test_a_seizure_outcome_needs_a_seizure_and_only_it() -> None:
    result = make_control_result()
    with pytest.raises(ValidationError, match="seizure"):
        result.model_validate({**result.model_dump(), "seizures": []})
    with pytest.raises(ValidationError, match="seizure"):
        result.model_validate({**result.model_dump(), "outcome": "no_finding"})


@pytest.mark.parametrize("kind", sorted(RECORD_MODELS))
def test_arrow_schema_follows_the_model(kind: str) -> None:
    schema = arrow_schema(kind)
    assert schema.names == list(RECORD_MODELS[kind].model_fields)
    sample = {
        "consignment": make_consignment(),
        "movement": make_movement(),
        "traveller": make_traveller(),
        "control_result": make_control_result(),
        "container_event": make_container_event(),
        "vessel_event": make_vessel_event(),
    }[kind]
    table = to_arrow(kind, [sample])
    assert table.schema.equals(schema)
    assert type(sample).model_validate(table.to_pylist()[0]) == sample
    if kind == "consignment":
        assert schema.field("declared_at").type == pa.timestamp("us", tz="UTC")
        assert pa.types.is_list(schema.field("goods").type)
