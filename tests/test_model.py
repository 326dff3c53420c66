"""The domain model: what it accepts, refuses and flags; its Arrow form never drifts."""

from __future__ import annotations

from datetime import UTC, date, datetime

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

from redlane.exchange.model import Feedback, Message, Outcome
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


# --- typed feedback on alerts and notices (redlane.exchange.model) ---------------------------

_FEEDBACK = {"outcome": "seen", "at": "2026-11-02", "place": "NLRTM"}
_SEIZED_HERE = {
    "seized_on": "2026-11-03", "place": "NLRTM", "drug": "cocaine", "quantity_kg": 120.5,
    "concealment": "reefer unit", "detection": "intelligence", "transport_mode": "sea",
}  # fmt: skip


def _answer(kind: str, **parts: object) -> dict[str, object]:
    return {
        "kind": kind, "subject": "On your alert", "facts": "Seen in Rotterdam.",
        "grading": {"source": "2", "intelligence": "B", "handling": "P"},
        "in_reply_to": "0190e3f0a5c27d4b1f6a9e2c3d4b5a6f", **parts,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "says", "field"),
    [
        ({"place": "Rotterdam"}, "pattern", "place"),  # a UN/LOCODE, as places are elsewhere
        ({"place": "NL000396"}, "pattern", "place"),  # a customs office is no place
        ({"outcome": "caught"}, "outcome", "outcome"),
        ({"at": "2 November"}, "date", "at"),
        ({"outcome": "seized"}, "give seizure_report", None),
        ({"seizure_report": "0190e3f0"}, "a seen outcome names no seizure", None),
        ({"outcome": "no_action"}, "no_action outcome says why", None),
        ({"outcome": "no_action", "reason": "  "}, "at least 1 character", "reason"),
        ({"colour": "red"}, "Extra inputs", "colour"),
    ],
)
def test_feedback_is_refused_naming_the_field_or_the_rule(
    changes: dict[str, object], says: str, field: str | None
) -> None:
    with pytest.raises(ValidationError, match=says) as error:
        Feedback.model_validate({**_FEEDBACK, **changes})
    (problem,) = error.value.errors()
    assert problem["loc"] == ((field,) if field else ())


def test_feedback_as_each_outcome_needs_it() -> None:
    seized = Feedback.model_validate({**_FEEDBACK, "outcome": "seized", "seizure": _SEIZED_HERE})
    assert seized.seizure is not None and seized.seizure.quantity_kg == 120.5
    by_report = Feedback.model_validate(
        {**_FEEDBACK, "outcome": "seized", "seizure_report": "0190e3f0a5c27d4b1f6a9e2c3d4b5a6f"}
    )
    assert by_report.seizure is None
    stuck = Feedback.model_validate({**_FEEDBACK, "outcome": "no_action", "reason": "no berth"})
    assert stuck.reason == "no berth"
    assert [o.value for o in Outcome] == [
        "seen", "controlled_nothing_found", "seized", "false_match", "no_action", "expired",
    ]  # fmt: skip


def test_a_sighting_carries_feedback_a_reply_may_and_no_other_kind() -> None:
    with pytest.raises(ValidationError, match="a sighting message needs 'feedback' part"):
        Message.model_validate(_answer("sighting"))
    sighting = Message.model_validate(_answer("sighting", feedback=_FEEDBACK))
    assert sighting.feedback == Feedback(outcome=Outcome.SEEN, at=date(2026, 11, 2), place="NLRTM")
    assert Message.model_validate(_answer("reply")).feedback is None
    assert Message.model_validate(_answer("reply", feedback=_FEEDBACK)).feedback is not None
    with pytest.raises(ValidationError, match="a request message has no 'feedback' part"):
        Message.model_validate(
            _answer("request", feedback=_FEEDBACK,
                    request={"urgency": "normal", "legal_basis": "Dir. (EU) 2023/977"})
        )  # fmt: skip
    with pytest.raises(ValidationError, match="a intelligence_report message has no 'feedback'"):
        Message.model_validate(_answer("intelligence_report", feedback=_FEEDBACK))
    # the other parts' rules hold as before
    with pytest.raises(ValidationError, match="a sighting message has no 'seizure' part"):
        Message.model_validate(_answer("sighting", feedback=_FEEDBACK, seizure=_SEIZED_HERE))
    with pytest.raises(ValidationError, match="a seizure_report message needs 'seizure' part"):
        Message.model_validate(_answer("seizure_report"))
    with pytest.raises(ValidationError, match="a sighting answers a message: give in_reply_to"):
        Message.model_validate({**_answer("sighting", feedback=_FEEDBACK), "in_reply_to": None})
